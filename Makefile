# The two commands of the README, and what they are made of.
#   make demo   install what is missing, build, run the default scenario
#   make test   install what is missing (Debian packages, the Python venvs),
#               build, run every test (plain and sanitizer builds)
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_TIME  ?= 60
JOBS       ?= $(shell nproc)
CTEST_ARGS ?= --output-on-failure

.PHONY: fuzz fuzz-build fuzz-corpus demo test test-plain test-asan build build-asan deps venv bench clean \
        trecs-venv trecs-chaney catalog-venv \
        format format-check

demo: build
	./$(BUILD)/sim/recarena run scenarios/default.ini

test: format-check test-plain test-asan

test-plain: build venv trecs-venv catalog-venv
	ctest --test-dir $(BUILD) $(CTEST_ARGS) -j $(JOBS)

test-asan: build-asan venv trecs-venv catalog-venv
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --test-dir $(BUILD_ASAN) $(CTEST_ARGS) -j $(JOBS)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECARENA_WERROR=ON -DRECARENA_VIEWER=ON
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DRECARENA_WERROR=ON \
	    -DRECARENA_ASAN=ON -DRECARENA_UBSAN=ON -DRECARENA_VIEWER=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)

# libFuzzer targets (clang, ASan + UBSan): each runs FUZZ_TIME seconds.
fuzz: fuzz-build
	bash tests/fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_TIME)

fuzz-build: deps
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DRECARENA_WERROR=ON -DRECARENA_FUZZ=ON -DRECARENA_ASAN=ON -DRECARENA_UBSAN=ON \
	    -DRECARENA_VIEWER=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_decode fuzz_scenario fuzz_act make_corpus

# Rewrites the decoder's committed seed corpus with the current encoder.
fuzz-corpus: fuzz-build
	mkdir -p tests/fuzz/corpus/decode tests/fuzz/corpus/act
	./$(BUILD_FUZZ)/tests/fuzz/make_corpus tests/fuzz/corpus/decode tests/fuzz/corpus/act

deps:
	@bash scripts/install-deps.sh

# the Python venv with the pinned RL libraries the Python tests use
venv: deps
	@bash scripts/python-venv.sh $(BUILD)/venv

# all-MiniLM-L6-v2 through sentence-transformers, over Debian's torch, for
# scripts/build-catalog.py and the catalog_model test (docs/world.md)
catalog-venv: deps
	test -x $(BUILD)/catalog-venv/bin/python || /usr/bin/python3 -m venv --system-site-packages $(BUILD)/catalog-venv
	$(BUILD)/catalog-venv/bin/pip install -q --no-deps -r scripts/catalog-requirements.txt

# T-RECS beside recarena on Chaney et al.'s question (docs/experiments.md)
trecs-venv: deps
	test -x $(BUILD)/trecs-venv/bin/python || /usr/bin/python3 -m venv $(BUILD)/trecs-venv
	$(BUILD)/trecs-venv/bin/pip install --only-binary :all: --no-deps -r scripts/trecs-requirements.txt

TRECS_ARGS ?= --seeds 1-8
trecs-chaney: build trecs-venv
	$(BUILD)/trecs-venv/bin/python scripts/trecs_chaney.py --recarena $(BUILD)/sim/recarena $(TRECS_ARGS)

bench: build
	./$(BUILD)/sim/recarena bench world

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check: deps
	@bash scripts/check-format.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)

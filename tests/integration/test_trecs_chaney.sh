#!/usr/bin/env bash
# T-RECS's side of the Chaney et al. comparison, small: scripts/trecs_chaney.py
# --check over 10 seeds of 50 users, 300 items, 30 steps (T-RECS only; the
# recarena side is the chaney_homogenization test). Asserts, paired by seed
# against T-RECS's ideal recommender: social filtering and popularity make
# paired users' consumption more similar, random less, and none gains
# utility (docs/experiments.md). Skipped (77) unless the venv of
# scripts/trecs-requirements.txt ($RECARENA_TRECS_VENV, default
# SOURCE_DIR/build/trecs-venv; `make trecs-venv`) imports trecs.
# usage: test_trecs_chaney.sh SOURCE_DIR
set -u
src=$1
venv=${RECARENA_TRECS_VENV:-$src/build/trecs-venv}
py=$venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c 'import trecs' 2>/dev/null; then
    echo "skipped: no venv at $venv that imports trecs (make trecs-venv)"
    exit 77
fi
cd "$src" || exit 1
exec "$py" scripts/trecs_chaney.py --seeds 1-10 --users 50 --items 300 --ticks 30 --startup 5 \
    --no-recarena --check

#!/usr/bin/env bash
# The layer check passes on the tree and fails on a tree that breaks a rule.
set -u
src=$1
check="$src/tests/layout/check_layers.sh"
bash "$check" "$src" || { echo "FAIL: the source tree breaks the layering"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{core,proto,sim,agents,viz}
printf '#include "sim/world.h"\n' > "$tmp/agents/a.c"
bash "$check" "$tmp" > "$tmp/out" && { echo "FAIL: agents/ including sim/ passed"; exit 1; }
grep -q 'agents/a.c:1: #include "sim/world.h"' "$tmp/out" || { echo "FAIL: wrong message:"; cat "$tmp/out"; exit 1; }
printf '#include "world.h"\n' > "$tmp/agents/a.c"
bash "$check" "$tmp" > "$tmp/out" && { echo "FAIL: an include without folder passed"; exit 1; }
printf '#include "proto/codec.h"\n' > "$tmp/agents/a.c"
printf '#include "proto/codec.h"\n' > "$tmp/core/b.h"
bash "$check" "$tmp" > "$tmp/out" && { echo "FAIL: core/ including proto/ passed"; exit 1; }
rm "$tmp/core/b.h"
bash "$check" "$tmp" > "$tmp/out" || { echo "FAIL: a clean tree failed:"; cat "$tmp/out"; exit 1; }
echo "layers: ok"

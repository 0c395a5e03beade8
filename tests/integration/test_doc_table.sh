#!/usr/bin/env bash
# docs/scenarios.md's key tables are the key table the loader uses: the
# text between the KEY TABLES markers must be exactly what
# `recarena scenario --doc-table` prints (sim/scenario_keys.h).
# usage: test_doc_table.sh PATH/TO/recarena SOURCE_DIR
set -u
bin=$1
doc=$2/docs/scenarios.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" scenario --doc-table >"$tmp/table.md" || { echo "FAIL: --doc-table exited $?" >&2; exit 1; }
sed -n '/^<!-- BEGIN KEY TABLES/,/^<!-- END KEY TABLES/{/^<!--/d;p}' "$doc" >"$tmp/doc.md"
if [ ! -s "$tmp/doc.md" ]; then
    echo "FAIL: no KEY TABLES markers in $doc" >&2
    exit 1
fi
if ! diff -u "$tmp/doc.md" "$tmp/table.md"; then
    echo "FAIL: $doc's key tables differ from 'recarena scenario --doc-table' (above: - doc, + table);" >&2
    echo "      paste its output between the markers" >&2
    exit 1
fi
echo "doc_table: docs/scenarios.md matches the key table ($(grep -c '^| `' "$tmp/table.md") keys)"

#!/usr/bin/env bash
# Fails, naming the files, when a tracked C file does not match
# .clang-format (clang-format from Debian: scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format is not installed (make deps)"; exit 2; }
bad=()
while IFS= read -r f; do
    [ -f "$f" ] || continue
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files -co --exclude-standard '*.c' '*.h')
if [ ${#bad[@]} -ne 0 ]; then
    echo "check-format: not formatted per .clang-format (run 'make format'):"
    printf '  %s\n' "${bad[@]}"
    exit 1
fi
echo "check-format: every C file matches .clang-format"

#!/usr/bin/env bash
# Layers only look down: fails when a C file includes a header of a layer
# above or beside its own, or includes one of ours without its folder.
#   core/   nothing of ours but core/
#   proto/  core/, proto/
#   sim/    core/, proto/, sim/
#   agents/ core/, proto/, agents/   (never sim/)
#   viz/    core/, proto/, viz/      (never sim/)
# tests/ may include anything (they check every layer).
# Usage: check_layers.sh [SOURCE_DIR]
set -u
cd "${1:-$(dirname "$0")/../..}" || exit 2
allowed() {
    case $1 in
    core) echo "core" ;;
    proto) echo "core proto" ;;
    sim) echo "core proto sim" ;;
    agents) echo "core proto agents" ;;
    viz) echo "core proto viz" ;;
    esac
}
bad=0
checked=0
for layer in core proto sim agents viz; do
    ok=$(allowed $layer)
    while IFS= read -r file; do
        checked=$((checked + 1))
        while IFS=: read -r line target; do
            folder=${target%%/*}
            if [ "$folder" = "$target" ]; then
                echo "$file:$line: #include \"$target\" has no folder (write \"$layer/...\" or the layer it comes from)"
                bad=1
                continue
            fi
            case " $ok " in
            *" $folder "*) ;;
            *)
                echo "$file:$line: #include \"$target\": $layer/ may include only $ok"
                bad=1
                ;;
            esac
        done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
            sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1:\2/')
    done < <(find "$layer" -name '*.c' -o -name '*.h' | sort)
done
if [ $bad -ne 0 ]; then
    echo "layers: includes cross layers (see docs/architecture.md)"
    exit 1
fi
echo "layers: $checked files, every include looks down"

#!/usr/bin/env bash
# test_architecture.sh: the layering rule of docs/architecture.md, enforced. Subsystems
# in src/, lowest first: base kernels data nn report ood train cli. A file may include
# any header of its own folder, and of a lower folder only that folder's public header
# <folder>/<folder>.h; nothing in a higher folder. Also: no source file outside the
# folders, unique file names (one archive member each), every file opens with a comment
# saying what it is for, and no file over 600 lines or function over 80 lines.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
order=(base kernels data nn report ood train cli)
rank() { local i; for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }

for f in src/*.c src/*.h; do
    [ -e "$f" ] && fail "$f: source file outside the subsystem folders"
done
for d in src/*/; do
    d=${d%/}; d=${d#src/}
    check
    [ "$(rank "$d")" -ge 0 ] || fail "src/$d: folder not in the layer order (${order[*]})"
    [ -f "src/$d/$d.h" ] || fail "src/$d: no public header src/$d/$d.h"
done

for f in src/*/*.c src/*/*.h; do
    dir=$(basename "$(dirname "$f")")
    me=$(rank "$dir")
    while IFS= read -r line; do
        inc=${line#*\"}; inc=${inc%%\"*}
        check
        case $inc in
        */*)
            to=${inc%%/*}; hdr=${inc#*/}
            them=$(rank "$to")
            if [ "$them" -lt 0 ]; then fail "$f: includes $inc from an unknown folder"
            elif [ "$them" -ge "$me" ]; then fail "$f: includes $inc, which is not below $dir (upward include)"
            elif [ "$hdr" != "$to.h" ]; then fail "$f: includes $inc, internal to src/$to (use $to/$to.h)"
            fi;;
        *) [ -f "src/$dir/$inc" ] || fail "$f: includes \"$inc\", not a file of src/$dir";;
        esac
    done < <(grep -E '^#include "' "$f")
done

dups=$(for f in src/*/*.c; do basename "$f"; done | sort | uniq -d)
check
[ -z "$dups" ] || fail "source files with the same name in two folders: $dups"

for f in src/*/*.c src/*/*.h; do
    check
    head -c 2 "$f" | grep -q '/\*' || fail "$f: does not open with a comment saying what it is for"
    n=$(wc -l <"$f")
    [ "$n" -le 600 ] || fail "$f: $n lines (at most 600)"
done

# Functions: a definition starts at column 0 and its body ends at the next "}" in
# column 0 (the house style: clang-format, braces on the definition line).
long=$(awk 'FNR == 1 { start = 0 }
            /^[A-Za-z_].*\(/ && !start { start = FNR; name = $0; body = 0 }
            start && /\{/ { body = 1 }
            start && !body && /;$/ { start = 0 }
            start && (/^\}/ || (FNR == start && /\}$/)) {
                if (FNR - start + 1 > 80) printf "%s:%d: %d lines: %s\n", FILENAME, start, FNR - start + 1, name
                start = 0 }' src/*/*.c)
check
[ -z "$long" ] || fail "functions over 80 lines:
$long"

finish test_architecture

#!/usr/bin/env bash
# test_flags.sh: one flag vocabulary. Every command's --help gives each flag its value
# type and a default (or "(required)"), on/off flags as --[no-]name and both spellings
# accepted; the same flag has the same value type in every command; the README's flag
# table lists exactly the flags each command's --help prints; old spellings are refused
# naming the new one (lir and scripts/); scripts/*.sh --help prints no code.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
cmds=("eval" "train" "predict" "info" "bench" "compare" "data info" "data bench")

# "<command>\t<flag>\t<value>" for every flag line of every --help
for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    expect 0 "$c --help" "$LIR" $c --help
    grep -E '^  --' "$tmp/out" | grep -v -- '^  --help ' >"$tmp/lines"
    [ -s "$tmp/lines" ] || fail "$c --help lists no flags"
    while IFS= read -r line; do
        check
        case $line in
            *"(default none)"*) fail "$c: '(default none)': $line" ;;
            *"(default"*|*"(required)") ;;
            *) fail "$c: a flag without its default: $line" ;;
        esac
        flag=$(awk '{print $1}' <<<"$line")
        value=$(awk '{print ($2 ~ /^[<"a-z]/ && $1 !~ /^--\[no-\]/) ? $2 : ""}' <<<"$line")
        printf '%s\t%s\t%s\n' "$c" "$flag" "$value" >>"$tmp/flags"
    done <"$tmp/lines"
done

# value types: the numbers of lir train are typed, and a flag has one type everywhere
has_line() { check; grep -qxF "$1" "$tmp/flags" || fail "missing in --help: $(tr '\t' ' ' <<<"$1")"; }
has_line $'train\t--epochs\t<int>'
has_line $'train\t--lr\t<float>'
has_line $'train\t--init-weights\t<file>'
has_line $'train\t--in\t<set>'
has_line $'train\t--data\t<dir>'
has_line $'train\t--outdir\t<dir>'
has_line $'eval\t--data\t<dir>'
has_line $'eval\t--[no-]plots\t'
check
expect 0 "eval --help" "$LIR" eval --help
grep -E '^  --out ' "$tmp/out" | grep -q '(required)$' || fail "eval --out is not shown as required"
for f in --data --outdir --in --batch --seed --classes --threads; do
    check
    n=$(awk -F'\t' -v f="$f" '$2 == f && $3 != "" && $3 !~ /\|/ {print $3}' "$tmp/flags" | sort -u | wc -l)
    [ "$n" -le 1 ] || fail "$f has $n value types across commands"
done

# on/off flags: --no-X and --X both parse (checked before --help ends the run)
while IFS=$'\t' read -r c flag _; do
    [[ $flag == --\[no-\]* ]] || continue
    name=${flag#--\[no-\]}
    # shellcheck disable=SC2086
    expect 0 "$c --no-$name" "$LIR" $c --no-"$name" --help
    # shellcheck disable=SC2086
    expect 0 "$c --$name" "$LIR" $c --"$name" --help
done <"$tmp/flags"
expect 2 "--no- on a valued flag" "$LIR" eval --no-batch
has err "--no- only goes with on/off flags" "--no- on a valued flag"

# the README's table: a row per flag, naming exactly the commands whose --help has it
awk -F'|' '/^### Flags/ {on = 1} on && /^\| `--/ {
    gsub(/\\\|/, "/"); gsub(/[` ]/, "", $2); n = split($4, c, ","); for (i = 1; i <= n; i++) {
        gsub(/^ +| +$/, "", c[i]); print c[i] "\t" $2 } }' README.md | sort >"$tmp/readme"
cut -f1,2 "$tmp/flags" | sort >"$tmp/help"
check
if ! diff "$tmp/help" "$tmp/readme" >"$tmp/diff"; then
    fail "README flag table and --help differ (< help, > README): $(grep '^[<>]' "$tmp/diff" | tr '\n' ' ')"
fi
[ "$(wc -l <"$tmp/readme")" -gt 40 ] || fail "README flag table not found or short"

# old spellings: refused (exit 2) with the new one named
refused() { # <what> <text> <command...>
    local what=$1 text=$2; shift 2
    expect 2 "$what" "$@"
    has err "$text" "$what"
}
refused "train --weights" "--weights is now --init-weights" "$LIR" train cfg/resnet18.cfg --weights w
refused "train --dataset" "--dataset is now --in" "$LIR" train cfg/resnet18.cfg --dataset cifar10
refused "train --data-dir" "--data-dir is now --data" "$LIR" train cfg/resnet18.cfg --data-dir d
refused "train --out" "--out is now --outdir" "$LIR" train cfg/resnet18.cfg --out d
refused "predict --norm" "--norm is now --in" "$LIR" predict cfg/resnet18.cfg w x.png --norm cifar10
refused "data info --dir" "--dir is now --data" "$LIR" data info cifar10 --dir d
refused "data bench --dir" "--dir is now --data" "$LIR" data bench --dir d
refused "data info takes no loader flags" "unknown option '--batch'" "$LIR" data info cifar10 --batch 3
refused "get_data.sh --dir" "--dir is now --data" bash scripts/get_data.sh mnist --dir d
refused "sweep.sh --out" "--out is now --outdir" bash scripts/sweep.sh --out d
expect 0 "data sha256 --help" "$LIR" data sha256 --help
has out "usage: lir data sha256" "data sha256 --help"

# scripts: --help is the header comment, no code
for s in scripts/*.sh; do
    expect 0 "$s --help" bash "$s" --help
    check
    if grep -nE '^(set -|if \[|for [a-z_]+ in|while |case .* in$|done$|fi$|esac$|cd |\[ )|\$\(|;;$' "$tmp/out"; then
        fail "$s --help prints code (above)"
    fi
done
finish test_flags

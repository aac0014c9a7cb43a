#!/usr/bin/env bash
# test_committed.sh: the committed results (eval/: JSON, CSV, console, summary, SVG) and
# the weights' sidecars hold no absolute path of the machine that made them: data files
# are recorded under "<data dir>", everything else relative to the repository (or as
# ".../name"), with sha256 beside them.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
files=$(ls eval/*/*.json eval/*/*.csv eval/*/*.txt eval/*/*.svg eval/*.md weights/*.json 2>/dev/null)
[ -n "$files" ] || fail "no committed results found"
check
# a path is absolute where "/" and a letter follow a quote, space, bracket, "=" or backtick
# shellcheck disable=SC2086
if grep -nE '(["( =`]|^)/[A-Za-z]' $files; then
    fail "absolute paths in committed results (above)"
fi
check
# shellcheck disable=SC2086
grep -l '"path":' eval/*/results.json | while read -r f; do
    grep -q '"path":[[:space:]]*"<data dir>/' "$f" || echo "$f"
done | grep . && fail "results.json whose data files are not recorded under <data dir> (above)"
finish test_committed

# lib.sh: helpers the shell tests source: $LIR, a temporary folder $tmp removed on
# exit, failure counting, and running a command with its exit code and output checked.
#   fail <message>                          count a failure and print it
#   expect <code> <what> <command...>       run it (stdout/stderr in $tmp/out, $tmp/err),
#                                           fail unless it exits with <code>
#   refuse <what> <text> <command...>       expect 1 and <text> on stderr
#   has <out|err> <text> <what>             fail unless the last output holds <text>
#   finish <name>                           print the summary; exit 1 on any failure or
#                                           when no check ran (a test that checked nothing)
#   sweep_fixture                           the sweep backend tests' tiny data, network and
#                                           seed template in $tmp, the sweep.sh flags they
#                                           share in sweep_flags (run from $tmp)
set -u
LIR=${LIR:-./lir}
PY=/usr/bin/python3
fails=0
checks=0
tmp=$(mktemp -d /tmp/lir_test_XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { checks=$((checks + 1)); }
expect() {
    local want=$1 what=$2; shift 2
    check
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        fail "$what: exit $rc, want $want"
        sed 's/^/    /' "$tmp/err" | head -5
    fi
}
has() { check; grep -qF -- "$2" "$tmp/$1" || fail "$3: '$2' not in $1: $(head -c 300 "$tmp/$1")"; }
refuse() {
    local what=$1 want=$2; shift 2
    expect 1 "$what" "$@"
    has err "$want" "$what"
}
finish() {
    [ $checks -gt 0 ] || { echo "$1: no check ran"; exit 1; }
    [ $fails -eq 0 ] || { echo "$1: $fails failure(s)"; exit 1; }
    echo "$1: all checks passed"
}
sweep_fixture() {
    local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    "$PY" "$root/tests/fixtures/make_tiny_data.py" "$tmp/data"
    cp "$root/tests/fixtures/tiny-train.cfg" "$tmp/tiny.cfg"
    echo '{"epochs": 1, "val_size": 20, "batch": 16, "seed": @VALUE@}' > "$tmp/seed.template"
    sweep_flags=(bash "$root/scripts/sweep.sh" --template seed.template --values "1 2" --outdir sw
                 --cfg tiny.cfg --lir "$LIR" --data data --eval mnist
                 --eval-args "--holdout 20 --batch 16 --limit 16 --plots=0")
}

#!/usr/bin/env bash
# test_sweep_ssh.sh: scripts/sweep.sh --ssh HOSTS against a throw-away sshd that this
# test starts on localhost on a high port (its own host and user keys in the temporary
# folder): GNU parallel copies lir, the script, the cfg and each run folder to a work
# folder on the "host", runs the run there and copies the folder back; the sweep ends
# with the compare table here. Then: a run that stops early fails the sweep with its
# checkpoint copied back, and the next submission resumes it; a finished sweep sends
# nothing. Without a usable sshd (not root, or it does not start) the same sweep runs
# with the sshlogin ':' (GNU parallel on this machine, no copies), and says so.
. "$(dirname "$0")/lib.sh"
for p in parallel rsync ssh ssh-keygen; do
    command -v $p >/dev/null || { echo "SKIP: no $p (Debian: parallel rsync openssh-client; scripts/install_deps.sh installs them)"; exit 77; }
done
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
case $LIR in /*) ;; *) LIR=$PWD/$LIR;; esac
root=$PWD
export OMP_NUM_THREADS=1

# the throw-away sshd
sshd_pid=
trap '[ -z "$sshd_pid" ] || kill "$sshd_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
start_sshd() {
    [ -x /usr/sbin/sshd ] || { echo "no /usr/sbin/sshd"; return 1; }
    [ "$(id -u)" = 0 ] || { echo "not root (sshd needs /run/sshd)"; return 1; }
    mkdir -p /run/sshd "$tmp/ssh" || return 1
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/host" && ssh-keygen -q -t ed25519 -N '' -f "$tmp/ssh/user" || return 1
    cp "$tmp/ssh/user.pub" "$tmp/ssh/authorized_keys"
    port=$((20000 + RANDOM % 20000))
    cat > "$tmp/ssh/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/ssh/host
AuthorizedKeysFile $tmp/ssh/authorized_keys
PidFile $tmp/ssh/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
    /usr/sbin/sshd -f "$tmp/ssh/sshd_config" -E "$tmp/ssh/sshd.log" || { tail -3 "$tmp/ssh/sshd.log"; return 1; }
    login="ssh -p $port -i $tmp/ssh/user -o StrictHostKeyChecking=no -o UserKnownHostsFile=$tmp/ssh/known -o BatchMode=yes 127.0.0.1"
    for _ in $(seq 50); do
        sshd_pid=$(cat "$tmp/ssh/sshd.pid" 2>/dev/null || true)
        $login true 2>/dev/null && return 0
        sleep 0.2
    done
    echo "ssh to the sshd on port $port fails: $(tail -3 "$tmp/ssh/sshd.log")"
    return 1
}
if start_sshd > "$tmp/why" 2>&1; then
    echo "$login" > "$tmp/hosts"
    echo "sshd on 127.0.0.1:$port"
    remote=1
else
    echo "NOTE: no throw-away sshd ($(tail -n 1 "$tmp/why")): --ssh with the sshlogin ':' (this machine, no copies)"
    echo ":" > "$tmp/hosts"
    remote=0
fi

sweep_fixture
cd "$tmp"
sw=("${sweep_flags[@]}" --ssh hosts --ssh-workdir "$tmp/remote")

expect 0 "sweep over ssh" "${sw[@]}" -- --progress-seconds 0
has out "== 2 runs on the hosts of hosts (GNU parallel, work dir $tmp/remote)" "the runs go to the hosts"
has out "== 1: training" "run 1 trains"
has out "== 2: lir eval --in cifar10 --out mnist" "run 2 is evaluated"
has out "| 2 | 1 2 |" "the compare table averages the two seeds"
for v in 1 2; do
    check; [ -f "sw/v$v/final.weights.json" ] && [ -f "sw/v$v/eval/results.json" ] || fail "run $v not copied back: $(ls sw/v$v/)"
done
if [ $remote = 1 ]; then
    check; [ -z "$(find "$tmp/remote" -name final.weights 2>/dev/null)" ] || fail "the hosts' copies are not cleaned up"
    check; grep -q "Accepted publickey" "$tmp/ssh/sshd.log" || fail "nothing logged in over ssh"
fi
expect 0 "the finished sweep again" "${sw[@]}" -- --progress-seconds 0
check; grep -q "runs on the hosts\|: training$" "$tmp/out" && fail "a finished sweep sends runs: $(grep '^== ' "$tmp/out")"
has out "| 2 | 1 2 |" "the compare table again"

# a run stopped early: the sweep fails, the checkpoint comes back, the next one resumes
sw[5]="3"
expect 1 "a run stops early" "${sw[@]}" -- --progress-seconds 0 --stop-after-steps 3
has err "1 runs failed on the hosts" "the failure is reported"
check; [ -f sw/v3/checkpoint.bin ] && [ ! -f sw/v3/final.weights ] || fail "the checkpoint is not copied back: $(ls sw/v3/)"
expect 0 "the sweep again" "${sw[@]}" -- --progress-seconds 0
has out "== 3: resuming" "the stopped run resumes"
finish test_sweep_ssh

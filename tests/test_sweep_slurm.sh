#!/usr/bin/env bash
# test_sweep_slurm.sh: scripts/sweep.sh --slurm on a one-node Slurm cluster that this
# test starts on localhost: munged with its own key and socket, slurmctld and slurmd
# (Debian's slurm-wlm) from a minimal slurm.conf written here, on high ports, all in the
# temporary folder and stopped at the end (no systemd). A two-config tiny sweep is
# submitted as a job array plus the tables job (--dependency=afterok) and waited for
# (--slurm-wait); the compare table and the run folders are checked. Then: a run that
# stops early fails the sweep (the tables job never runs) and the next submission resumes
# it; sbatch's own message when it refuses a submission (an unknown partition).
# Skips without the packages, or when not root (slurmd runs the jobs as root here).
. "$(dirname "$0")/lib.sh"
for p in munged slurmctld slurmd sbatch sinfo; do
    command -v $p >/dev/null || [ -x /usr/sbin/$p ] ||
        { echo "SKIP: no $p (Debian: slurm-wlm munge; scripts/install_deps.sh installs them)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: not root (the test's slurmd runs as root)"; exit 77; }
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
case $LIR in /*) ;; *) LIR=$PWD/$LIR;; esac
root=$PWD
export OMP_NUM_THREADS=1
PATH=$PATH:/usr/sbin

# ---- the cluster ----
c=$tmp/slurm
mkdir -p "$c/state" "$c/spool"
stop_cluster() {
    local f
    for f in slurmd slurmctld munged; do
        [ -f "$c/$f.pid" ] && kill "$(cat "$c/$f.pid")" 2>/dev/null
    done
    sleep 0.5
    rm -rf "$tmp"
}
trap stop_cluster EXIT
dd if=/dev/urandom of="$c/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$c/munge.key"
munged --force --socket="$c/munge.sock" --key-file="$c/munge.key" --log-file="$c/munged.log" \
    --pid-file="$c/munged.pid" --seed-file="$c/munged.seed" ||
    { fail "munged does not start: $(tail -3 "$c/munged.log")"; finish test_sweep_slurm; }
port=$((20000 + RANDOM % 20000))
export SLURM_CONF=$c/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=lirtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$c/munge.sock
CredType=cred/munge
StateSaveLocation=$c/state
SlurmdSpoolDir=$c/spool
SlurmctldPidFile=$c/slurmctld.pid
SlurmdPidFile=$c/slurmd.pid
SlurmctldLogFile=$c/slurmctld.log
SlurmdLogFile=$c/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmUser=root
SlurmdUser=root
NodeName=lirnode NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=lir Nodes=lirnode Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld && slurmd -N lirnode ||
    { fail "slurmctld / slurmd do not start: $(tail -3 "$c/slurmctld.log" "$c/slurmd.log" 2>&1)"; finish test_sweep_slurm; }
for _ in $(seq 150); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.2; done
check; [ "$(sinfo -h -o %T)" = idle ] ||
    { fail "the node is not idle after 30 s: $(sinfo 2>&1; tail -3 "$c/slurmd.log")"; finish test_sweep_slurm; }
echo "slurm: one node, ports $port, $((port + 1))"

# ---- the sweep ----
sweep_fixture
cd "$tmp"
sw=("${sweep_flags[@]}" --slurm --slurm-wait)
expect 0 "sweep on slurm" timeout 600 "${sw[@]}" -- --progress-seconds 0
has out "== submitted job array" "a job array"
has out ": 2 runs (output: sw/slurm/task-<i>.out" "of the two runs"
has out "(after " "the tables job waits for it"
has out "| 2 | 1 2 |" "the compare table averages the two seeds"
check; grep -q "^#SBATCH --array=0-1$" sw/slurm/tasks.sbatch || fail "tasks.sbatch: $(cat sw/slurm/tasks.sbatch)"
check; grep -q "== 1: training" sw/slurm/task-0.out && grep -q "== 2: training" sw/slurm/task-1.out ||
    fail "each task trains its run: $(cat sw/slurm/task-*.out | grep '^==')"
for v in 1 2; do
    check; [ -f "sw/v$v/final.weights.json" ] && [ -f "sw/v$v/eval/results.json" ] || fail "run $v: $(ls sw/v$v/)"
done
expect 0 "the finished sweep again" timeout 600 "${sw[@]}" -- --progress-seconds 0
has out "== every run is done: only the tables job" "nothing to run"

# a run stopped early fails the sweep; the next submission resumes it
sw[5]="3"
expect 1 "a run stops early" timeout 600 "${sw[@]}" -- --progress-seconds 0 --stop-after-steps 3
has err "the sweep's jobs failed; runs not finished: 3" "the failure names the run"
check; [ ! -f sw/slurm/tables.out ] || fail "the tables job ran after a failed task"
check; [ -f sw/v3/checkpoint.bin ] || fail "no checkpoint kept"
expect 0 "submitted again" timeout 600 "${sw[@]}" -- --progress-seconds 0
check; grep -q "== 3: resuming" sw/slurm/task-0.out || fail "the run resumes: $(cat sw/slurm/task-0.out | grep '^==')"

# sbatch refuses: its message
expect 1 "an unknown partition" "${sw[@]}" --slurm-args "--partition=nosuch" -- --progress-seconds 0 --set lr=0.01
has err "sweep.sh: sbatch refused the job array: sbatch: error:" "sbatch's message"
has err "invalid partition specified: nosuch" "naming the partition"
finish test_sweep_slurm

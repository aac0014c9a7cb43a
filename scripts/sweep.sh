#!/usr/bin/env bash
# sweep.sh: runs `lir train` once per run of a sweep, each from a JSON run config,
# evaluates each trained network with `lir eval` on the OOD groups, and ends with tables:
# the training results (TSV, from the weight sidecars and logs) and `lir compare` across
# the runs' OOD metrics (runs that differ only in seed averaged). The runs go to this
# machine (one at a time, or --jobs N at once), to a Slurm cluster (--slurm) or to SSH
# hosts (--ssh).
#
#   scripts/sweep.sh [--template FILE] [--values "0 0.01 0.1 1"] [--configs DIR]
#                    [--baseline WEIGHTS] [--outdir DIR] [--cfg CFG] [--lir PATH]
#                    [--data DIR] [--eval SETS] [--eval-args "FLAGS"] [--score S[,S...]]
#                    [--select SETS] [--select-args "FLAGS"] [--dry-run]
#                    [--jobs N | --slurm [--slurm-args "FLAGS"] [--slurm-wait]
#                     | --ssh HOSTS [--ssh-workdir DIR]]
#                    [-- extra lir train flags...]
#
# The runs: one per value, each config the template with every @VALUE@ replaced by the
# value, named v<value> (defaults: template scripts/sweep-lambda.template, an R-EBO
# fine-tune with the lambda of every hook = @VALUE@; values "0 0.01 0.1 1"); or, with
# --configs DIR, one per DIR/<name>.json (in name order), named <name>. --baseline
# WEIGHTS adds a run "baseline" that is not trained: the weights (and their sidecar
# WEIGHTS.json) as they are, evaluated and listed first, e.g. the network a fine-tune
# starts from.
# Run folders: each run trains in OUTDIR/runs/<key>/, keyed by its config: <key> is
# `lir train --print-hash` of the config with the extra flags (the settings that change
# the result, as checkpoints check them) and the start of the cfg file's SHA-256.
# OUTDIR/<name> is a link to it, so the run is found under its name; runs with the same
# key are one run; a run whose config changed gets a new folder (the old one is kept).
# A real folder OUTDIR/<name> written by an earlier sweep.sh is used as it is.
# Other defaults: outdir runs/sweep, cfg cfg/resnet18.cfg, lir ./lir, data: lir's default
# ($LIR_DATA, else ./data), eval near,far,covariate (lir eval --out; "none": no
# evaluation and no compare table), eval-args "" (more lir eval flags, e.g. "--limit
# 2000"), score fc (lir compare --score; a comma list writes one table per score).
# --select SETS: model selection without test OOD data: each run is also evaluated with
# `lir eval --validation --out SETS` (held-out ID training images against validation
# sets, see docs/train-config.md) into RUN/select/, and the sweep ends with those runs
# ranked by the validation signal (OUTDIR/select/ranking.tsv).
# A run with a finished sidecar (final.weights.json) is not trained again, one with a
# checkpoint is resumed, and an eval whose results.json is newer than the weights and
# was made for the same sets is not run again, so an interrupted or re-submitted sweep
# continues where it stopped (and a changed --eval or --select evaluates again).
# --dry-run lists the runs, their folders and what would be done for each, and exits.
# Tables: OUTDIR/results.tsv (training) and OUTDIR/compare/ (compare.md, compare.csv,
# compare_mean.csv, compare.{png,svg,pdf}; with several scores OUTDIR/compare-<score>/).
# Backends (each run: its training, evaluation and validation evaluation; the tables last):
#   --jobs N     N runs at once on this machine (default 1: one after the other, their
#                output as it comes); with N > 1 each run's output goes to
#                OUTDIR/logs/<name>.log and is shown when the run ends, and OpenMP gets
#                nproc / N threads per run unless OMP_NUM_THREADS is set.
#   --slurm      writes OUTDIR/slurm/tasks.sbatch, a job array of one task per run still
#                to do, and tables.sbatch, the tables as a job that starts when every
#                task succeeded (--dependency=afterok); submits both with sbatch (extra
#                sbatch flags: --slurm-args, e.g. "--partition=gpu --time=2:00:00") and
#                exits; task output in OUTDIR/slurm/task-<i>.out, the tables' in
#                tables.out. The nodes run this script in this folder: they share its
#                file system. --slurm-wait waits for the tables job and prints them.
#   --ssh HOSTS  GNU parallel runs the runs on the hosts (HOSTS: a --sshloginfile, or a
#                comma list of sshlogins such as "gpu1,ssh -p 2222 gpu2", one run per
#                host at a time): it copies lir, this script and the cfg to
#                --ssh-workdir (default lir-sweep, under the remote home) once, each run
#                folder to <workdir>/<outdir's name>/runs/ before its run, and copies the
#                folder back after it. Each
#                host needs the data at the same path (--data, else $LIR_DATA or ./data
#                made absolute) and any file the configs name (init_weights); the
#                baseline is evaluated here.
set -eu
template=scripts/sweep-lambda.template
values="0 0.01 0.1 1"
configs=
baseline=
out=runs/sweep
cfg=cfg/resnet18.cfg
lir=./lir
data=
sets=near,far,covariate
eval_args=
scores=fc
select=
select_args=
dry=0
jobs=1
slurm=0
slurm_args=
slurm_wait=0
ssh=
ssh_wd=lir-sweep
task=
tables_only=0
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
pass=() # the arguments a run or the tables step on another machine is given again
while [ $# -gt 0 ]; do
    case $1 in
        --template) template=$2;;
        --values) values=$2;;
        --configs) configs=$2;;
        --baseline) baseline=$2;;
        --outdir) out=$2;;
        --out) echo "sweep.sh: --out is now --outdir (as in lir)" >&2; exit 2;;
        --cfg) cfg=$2;;
        --lir) lir=$2;;
        --data) data=$2;;
        --eval) sets=$2;;
        --eval-args) eval_args=$2;;
        --score) scores=$2;;
        --select) select=$2;;
        --select-args) select_args=$2;;
        --dry-run) dry=1; shift; continue;;
        --jobs) jobs=$2; shift 2; continue;;
        --slurm) slurm=1; shift; continue;;
        --slurm-args) slurm_args=$2; shift 2; continue;;
        --slurm-wait) slurm_wait=1; shift; continue;;
        --ssh) ssh=$2; shift 2; continue;;
        --ssh-workdir) ssh_wd=$2; shift 2; continue;;
        --task) task=$2; shift 2; continue;;          # the backends: one run only
        --tables) tables_only=1; shift; continue;;    # the backends: the tables only
        --) shift; break;;
        -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0;;
        *) echo "sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
    esac
    [ $# -ge 2 ] || { echo "sweep.sh: $1 needs a value" >&2; exit 2; }
    pass+=("$1" "$2")
    shift 2
done
extra=("$@")
case $jobs in ''|*[!0-9]*|0) echo "sweep.sh: --jobs wants a number >= 1, not '$jobs'" >&2; exit 2;; esac
[ $((slurm + (${#ssh} > 0) + (jobs > 1))) -le 1 ] ||
    { echo "sweep.sh: --jobs N, --slurm and --ssh are three backends: choose one" >&2; exit 2; }
train_data=()
eval_data=()
if [ -n "$data" ]; then train_data=(--data "$data"); eval_data=(--data "$data"); fi

# Value of a top-level number in a sidecar: its line is indented by one character, a tab
# where cJSON wrote it, a space in a hand-written one (a baseline's); nested keys have more.
field() { sed -n "s/^[[:space:]]\"$2\":[[:space:]]*\([^,]*\),\{0,1\}$/\1/p" "$1" | head -n 1; }

# What the log lines and the table call run $1: the value (template) or the name.
label() { if [ -n "$configs" ] || [ "$1" = baseline ]; then echo "$1"; else echo "${1#v}"; fi; }

# The run config of run $1 written to $2.
write_config() {
    if [ -n "$configs" ]; then cp "$configs/$1.json" "$2"
    else sed "s|@VALUE@|${1#v}|g" "$template" > "$2"; fi
}

# The run names of the plan, into names.
plan() {
    names=()
    if [ -n "$configs" ]; then
        [ -d "$configs" ] || { echo "sweep.sh: no folder $configs" >&2; exit 2; }
        for f in "$configs"/*.json; do
            [ -f "$f" ] && names+=("$(basename "$f" .json)")
        done
        [ ${#names[@]} -gt 0 ] || { echo "sweep.sh: no *.json in $configs" >&2; exit 2; }
    else
        [ -f "$template" ] || { echo "sweep.sh: no template $template" >&2; exit 2; }
        grep -q '@VALUE@' "$template" || { echo "sweep.sh: $template has no @VALUE@" >&2; exit 2; }
        for v in $values; do names+=("v$v"); done
    fi
    if [ -n "$baseline" ]; then
        [ -f "$baseline" ] || { echo "sweep.sh: no baseline weights $baseline" >&2; exit 2; }
        names=(baseline "${names[@]}")
    fi
}

# The folder key of run $1 (see the header): lir's config hash, the cfg's SHA-256.
key_of() {
    local f h
    f=$(mktemp)
    write_config "$1" "$f"
    h=$("$lir" train "$cfg" --config "$f" "${train_data[@]}" "${extra[@]}" --print-hash) ||
        { rm -f "$f"; echo "sweep.sh: run $1: lir train refuses its config (above)" >&2; exit 2; }
    rm -f "$f"
    echo "$h-$(sha256sum < "$cfg" | cut -c1-8)"
}

# Where run $1 (key $2) lives, as --dry-run shows it.
folder_of() {
    if [ "$1" = baseline ]; then echo "$out/baseline"
    elif [ -d "$out/$1" ] && [ ! -L "$out/$1" ]; then echo "$out/$1 (an earlier sweep.sh's)"
    else echo "$out/runs/$2"; fi
}

# Makes OUTDIR/$1 the link to the run folder of key $2 with the run's config; a real
# folder of an earlier sweep.sh stays the run's folder.
place() {
    local link=$out/$1 cur=
    if [ -d "$link" ] && [ ! -L "$link" ]; then write_config "$1" "$link/sweep.json"; return; fi
    [ -L "$link" ] && cur=$(readlink "$link")
    mkdir -p "$out/runs/$2"
    if [ "$cur" != "runs/$2" ]; then
        [ -z "$cur" ] || echo "== $(label "$1"): its config changed: a new run in $out/runs/$2 ($cur is kept)"
        ln -sfn "runs/$2" "$link"
    fi
    write_config "$1" "$out/runs/$2/sweep.json"
}

# What a run's training would do (for --dry-run and the log lines).
train_state() {
    if [ -f "$1/final.weights.json" ]; then echo done
    elif [ -f "$1/checkpoint.bin" ]; then echo resume
    else echo train; fi
}

# 0 when run folder $1 holds the evaluation $2 (eval, select) of the sets $3: its
# results.json newer than the weights and made for those sets (its recorded command
# names them).
evaluated() {
    [ "$1/$2/results.json" -nt "$1/final.weights" ] && grep -q -- "--out $3 " "$1/$2/results.json"
}

# 0 when run $1 still has training or an evaluation to do.
todo() {
    local d=$out/$1
    [ "$1" = baseline ] || [ -f "$d/final.weights.json" ] || return 0
    [ "$sets" = none ] || evaluated "$d" eval "$sets" || return 0
    [ -z "$select" ] || evaluated "$d" select "$select" || return 0
    return 1
}

# lir eval of run $1 into $1/$2 with --out $3 and extra flags $4, unless done before.
evaluate() {
    local name dir=$out/$1 sub=$2 what=$3 more=$4 w=$out/$1/final.weights
    name=$(label "$1")
    if evaluated "$dir" "$sub" "$what"; then
        if [ "$sub" = eval ]; then echo "== $name: evaluated before, skipped"
        else echo "== $name: validation evaluated before, skipped"; fi
        return
    fi
    local id
    id=$(field "$w.json" dataset | tr -d '"')
    echo "== $name: lir eval --in ${id:-cifar10} --out $what$([ "$sub" = eval ] || echo " --validation")" \
        "(console: $dir/$sub/console.txt)"
    # lir eval writes console.txt into its results directory itself (written whole or not at all)
    # shellcheck disable=SC2086 # more and eval_args are lists of flags
    "$lir" eval --in "${id:-cifar10}" --out "$what" --cfg "$cfg" --weights "$w" \
        --outdir "$dir/$sub" "${eval_data[@]}" $more >/dev/null
    sed -n '/^Summary, ID/,/^fc = /p; /^skipped/,/^forward/{/^forward/!p}; /^summary: /p' \
        "$dir/$sub/console.txt"
}

# The baseline run folder: links to the weights and a copy of the sidecar.
make_baseline() {
    local dir=$out/baseline w
    w=$(cd "$(dirname "$baseline")" && pwd)/$(basename "$baseline")
    mkdir -p "$dir"
    ln -sf "$w" "$dir/final.weights"
    if [ -f "$w.json" ]; then cp "$w.json" "$dir/final.weights.json"
    else echo '{}' > "$dir/final.weights.json"; fi
}

train_run() {
    local name dir=$out/$1
    name=$(label "$1")
    case $(train_state "$dir") in
        done) echo "== $name: done before, skipped";;
        resume) echo "== $name: resuming"; "$lir" train "$cfg" --resume "$dir" "${extra[@]}";;
        train) echo "== $name: training"
               "$lir" train "$cfg" --config "$dir/sweep.json" --outdir "$dir" "${train_data[@]}" "${extra[@]}";;
    esac
    [ -f "$dir/final.weights.json" ] || {
        echo "== $name: stopped before the end (checkpoint kept); run the sweep again to resume" >&2
        exit 1
    }
}

# One run: its training (or the baseline's folder) and evaluations.
run_task() {
    if [ "$1" = baseline ]; then make_baseline; else train_run "$1"; fi
    [ "$sets" = none ] || evaluate "$1" eval "$sets" "$eval_args"
    [ -z "$select" ] || evaluate "$1" select "$select" "--validation $select_args"
}

# The tables: OUTDIR/results.tsv, lir compare per score, and with --select the ranking.
tables() {
    local name runs=()
    for name in "${names[@]}"; do runs+=("$out/$name"); done
    table=$out/results.tsv
    {
        printf '%s\ttest_accuracy\tval_accuracy\tfinal_train_ce\treg_terms\ttraining_seconds\tdir\n' \
            "$([ -n "$configs" ] && echo run || echo value)"
        for name in "${names[@]}"; do
            local dir=$out/$name s last ce reg
            s=$dir/final.weights.json
            last=$(tail -n 1 "$dir/log.csv" 2>/dev/null || true)
            ce=$(echo "$last" | cut -s -d, -f5)
            reg=$(echo "$last" | cut -s -d, -f11- | tr ',' ' ')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(label "$name")" "$(field "$s" test_accuracy)" \
                "$(field "$s" val_accuracy)" "${ce:--}" "${reg:--}" "$(field "$s" training_seconds)" "$dir"
        done
    } > "$table"
    echo "== training results ($table)"
    column -t -s "$(printf '\t')" "$table" 2>/dev/null || cat "$table"
    if [ "$sets" != none ]; then
        local sc cdir
        for sc in ${scores//,/ }; do
            cdir=$out/compare
            [ "$scores" = "$sc" ] || cdir=$out/compare-$sc
            echo "== OOD metrics across the runs (lir compare --score $sc, $cdir/)"
            "$lir" compare "${runs[@]/%//eval}" --score "$sc" --outdir "$cdir"
        done
    fi
    [ -z "$select" ] || ranking "${runs[@]}"
}

# Model selection: per training config (runs that differ only in seed), the mean AUROC
# over the validation sets of the raw fc energy and of Ag-EBO (Mahalanobis), their mean
# (the signal), and the validation accuracy (the sidecar's, on the held-out ID images)
# against the baseline's (the first run); configs losing more than 1.5 points are not
# eligible. Ranked by the signal, eligible ones first.
ranking() {
    echo "== validation signal across the runs ($out/select/)"
    for s in fc agebo; do
        "$lir" compare "${@/%//select}" --score "$s" --outdir "$out/select/$s" --plots=0 >/dev/null
    done
    awk -F'\t' -v OFS='\t' -v tsv="$table" '
        FILENAME == tsv { if (FNR > 1) acc[$7] = $3; next }
        FNR == 1 { file++; for (c = 6; c <= NF; c++) if ($c !~ /^mean /) cols[file] = cols[file] " " c; next }
        {
            split(cols[file], cs, " "); v = 0; n = 0
            for (k in cs) if ($cs[k] != "") { v += $cs[k]; n++ }
            dir = $1; sub(/\/select\/?$/, "", dir); sub(/\/results\.json$/, "", dir); sub(/\/select$/, "", dir)
            key = $4 == "" || $4 == "?" ? dir : $4
            if (!(key in first)) { first[key] = dir; order[++nk] = key }
            sum[key, file] += n ? v / n : 0; cnt[key, file]++
            if (file == 1) { a = acc[dir]; if (a != "") { asum[key] += a; acnt[key]++ } }
            if (file == 1 && nrow++ == 0) base = key
        }
        END {
            ba = acnt[base] ? asum[base] / acnt[base] : ""
            print "rank", "signal", "fc_auroc", "agebo_auroc", "val_accuracy", "accuracy_drop", "eligible", "runs", "config", "first_run"
            for (i = 1; i <= nk; i++) {
                k = order[i]; f = sum[k, 1] / cnt[k, 1]; g = sum[k, 2] / cnt[k, 2]
                va = acnt[k] ? asum[k] / acnt[k] : ""
                drop = va != "" && ba != "" ? ba - va : ""
                el = drop == "" || drop <= 1.5 ? "yes" : "no"
                printf "%s\t%.4f\t%.4f\t%.4f\t%s\t%s\t%s\t%d\t%s\t%s\n", (el == "yes" ? 0 : 1), (f + g) / 2, f, g, va, drop == "" ? "" : sprintf("%.2f", drop), el, cnt[k, 1], k, first[k]
            }
        }' "$table" <(tr , '\t' < "$out/select/fc/compare.csv") <(tr , '\t' < "$out/select/agebo/compare.csv") |
        { IFS= read -r head; echo "$head"; sort -t "$(printf '\t')" -k1,1n -k2,2gr | awk -F'\t' -v OFS='\t' '{ $1 = NR; print }'; } \
        > "$out/select/ranking.tsv"
    column -t -s "$(printf '\t')" "$out/select/ranking.tsv" 2>/dev/null || cat "$out/select/ranking.tsv"
    echo "selected (validation signal, no test OOD data): $(awk -F'\t' 'NR == 2 { print $10 }' "$out/select/ranking.tsv")"
}

# --jobs N: the pending runs, N at once; each one's output shown when it ends.
run_jobs() {
    local name pid failed=0 running=0
    declare -A of
    mkdir -p "$out/logs"
    [ -n "${OMP_NUM_THREADS:-}" ] || export OMP_NUM_THREADS=$(( $(nproc) / jobs > 0 ? $(nproc) / jobs : 1 ))
    for name in "${pending[@]}" ""; do
        if [ -n "$name" ]; then
            ( run_task "$name" ) >"$out/logs/$name.log" 2>&1 &
            of[$!]=$name
            running=$((running + 1))
            [ $running -ge "$jobs" ] || continue
        fi
        while [ $running -gt 0 ]; do
            local rc=0
            wait -n -p pid || rc=$?
            running=$((running - 1))
            cat "$out/logs/${of[$pid]}.log"
            [ $rc = 0 ] || { failed=$((failed + 1)); echo "== $(label "${of[$pid]}"): failed (exit $rc)" >&2; }
            [ -z "$name" ] || break
        done
    done
    [ $failed = 0 ] || { echo "sweep.sh: $failed runs failed (logs in $out/logs/); run the sweep again to resume" >&2; exit 1; }
}

# The command that runs this script again on a Slurm node with the sweep's arguments
# and $1 (--task NAME or --tables).
node_command() {
    printf 'cd %q && exec bash %q' "$PWD" "$self"
    [ ${#pass[@]} = 0 ] || printf ' %q' "${pass[@]}"
    printf ' %s --' "$1"
    [ ${#extra[@]} = 0 ] || printf ' %q' "${extra[@]}"
}

# --slurm: the job array of the pending runs, then the tables job after it.
submit_slurm() {
    local sd=$out/slurm abs n=${#pending[@]} jid='' dep=()
    mkdir -p "$sd"
    rm -f "$sd"/task-*.out "$sd/tables.out"
    abs=$(cd "$sd" && pwd)
    printf '%s\n' "${pending[@]}" > "$sd/tasks.txt"
    {
        printf '#!/usr/bin/env bash\n#SBATCH --job-name=lir-sweep\n'
        printf '#SBATCH --output=%s/task-%%a.out\n#SBATCH --array=0-%d\nset -eu\n' "$abs" $((n - 1))
        printf 'name=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" %q)\n' "$abs/tasks.txt"
        node_command '--task "$name"'
        echo
    } > "$sd/tasks.sbatch"
    { printf '#!/usr/bin/env bash\n#SBATCH --job-name=lir-sweep-tables\n'
      printf '#SBATCH --output=%s/tables.out\nset -eu\n' "$abs"; node_command --tables; echo; } > "$sd/tables.sbatch"
    # shellcheck disable=SC2086 # slurm_args is a list of sbatch flags
    if [ "$n" -gt 0 ]; then
        jid=$(sbatch --parsable $slurm_args "$sd/tasks.sbatch" 2>"$sd/sbatch.err") ||
            { echo "sweep.sh: sbatch refused the job array: $(cat "$sd/sbatch.err")" >&2; exit 1; }
        jid=${jid%%;*}
        dep=(--dependency="afterok:$jid" --kill-on-invalid-dep=yes)
        echo "== submitted job array $jid: $n runs (output: $sd/task-<i>.out, runs: $sd/tasks.txt)"
    else
        echo "== every run is done: only the tables job"
    fi
    local wait=()
    [ $slurm_wait = 0 ] || wait=(--wait)
    local tid rc=0
    # shellcheck disable=SC2086
    tid=$(sbatch --parsable "${dep[@]}" "${wait[@]}" $slurm_args "$sd/tables.sbatch" 2>"$sd/sbatch.err") || rc=$?
    if [ -z "$tid" ]; then echo "sweep.sh: sbatch refused the tables job: $(cat "$sd/sbatch.err")" >&2; exit 1; fi
    tid=${tid%%;*}
    echo "== submitted tables job $tid${jid:+ (after $jid succeeds; output: $sd/tables.out)}"
    [ $slurm_wait = 1 ] || { echo "follow with: squeue -j ${jid:+$jid,}$tid"; return; }
    # a failed task cancels the tables job (which then writes nothing): name the runs
    local name left=()
    for name in "${pending[@]}"; do if todo "$name"; then left+=("$(label "$name")"); fi; done
    if [ $rc != 0 ] || [ ${#left[@]} -gt 0 ] || [ ! -f "$sd/tables.out" ]; then
        echo "sweep.sh: the sweep's jobs failed${left[*]:+; runs not finished: ${left[*]}} (see $sd/task-*.out); submit the sweep again to resume" >&2
        exit 1
    fi
    cat "$sd/tables.out"
}

# --ssh HOSTS: the pending runs on the hosts with GNU parallel (see the header).
run_ssh() {
    local sd=$out/ssh hf abs absl absc d=$data name cmd rc=0
    mkdir -p "$sd"
    if [ -f "$ssh" ]; then hf=$ssh; else tr , '\n' <<<"$ssh" > "$sd/hosts"; hf=$sd/hosts; fi
    abs=$(cd "$out" && pwd)
    local top base
    top=$(dirname "$abs") base=$(basename "$abs")
    absl=$(cd "$(dirname "$(command -v "$lir")")" && pwd)/./$(basename "$lir")
    absc=$(cd "$(dirname "$cfg")" && pwd)/./$(basename "$cfg")
    [ -n "$d" ] || d=${LIR_DATA:-./data}
    d=$(cd "$d" && pwd)
    : > "$sd/tasks.tsv"
    for name in "${pending[@]}"; do
        if [ "$name" = baseline ]; then run_task baseline; continue; fi
        printf '%s\t%s\n' "$name" "$(basename "$(readlink "$out/$name")")" >> "$sd/tasks.tsv"
    done
    [ -s "$sd/tasks.tsv" ] || return 0
    # on a host: this script in the work dir with the copies; on ':' (this machine) in place
    local remote=(--outdir "$(basename "$abs")" --cfg "$(basename "$cfg")" --lir "./$(basename "$lir")" --data "$d"
                  --eval "$sets" --eval-args "$eval_args" --select "$select" --select-args "$select_args")
    cmd=$(printf 'if [ "$PARALLEL_SSHLOGIN" = : ]; then %s; else bash sweep.sh' "$(node_command '--task {1}')")
    cmd+=$(printf ' %q' "${remote[@]}")' --task {1} --'
    [ ${#extra[@]} = 0 ] || cmd+=$(printf ' %q' "${extra[@]}")
    cmd+='; fi'
    echo "== $(wc -l < "$sd/tasks.tsv") runs on the hosts of $hf (GNU parallel, work dir $ssh_wd)"
    parallel --colsep '\t' --sshloginfile "$hf" -j 1 --wd "$ssh_wd" --joblog "$sd/joblog" \
        --basefile "$absl" --basefile "$(dirname "$self")/./$(basename "$self")" --basefile "$absc" \
        --tf "$top/./$base/runs/{2}" --tf "$top/./$base/{1}" --return "$top/./$base/runs/{2}" --cleanup \
        "$cmd" < "$sd/tasks.tsv" || rc=$?
    rmdir "$ssh_wd" 2>/dev/null || true # what parallel makes here for the sshlogin ':'
    # --cleanup removes the copies sent, not what the runs wrote: the run folders go too
    grep -vE '^[[:space:]]*(#|$|([0-9]+/)?:[[:space:]]*$)' "$hf" > "$sd/remote-hosts" || true
    [ ! -s "$sd/remote-hosts" ] || parallel --nonall --sshloginfile "$sd/remote-hosts" --wd "$ssh_wd" \
        rm -rf "$(printf %q "$base/runs")" || echo "sweep.sh: could not remove $ssh_wd/$base/runs on every host" >&2
    [ $rc = 0 ] || { echo "sweep.sh: $rc runs failed on the hosts (above; $sd/joblog); run the sweep again to resume" >&2; exit 1; }
}

if [ -n "$task" ]; then
    run_task "$task"
    exit 0
fi
plan
if [ $tables_only = 1 ]; then
    tables
    exit 0
fi
keys=()
for name in "${names[@]}"; do
    if [ "$name" = baseline ]; then keys+=(baseline); else keys+=("$(key_of "$name")"); fi
done
if [ $dry = 1 ]; then
    printf 'run\ttraining\teval\tconfig\tfolder\n'
    for i in "${!names[@]}"; do
        name=${names[$i]} dir=$out/${names[$i]}
        { [ -d "$dir" ] && [ ! -L "$dir" ]; } || [ "$name" = baseline ] || dir=$out/runs/${keys[$i]}
        t=$(train_state "$dir")
        [ "$name" = baseline ] && t="none (given weights)"
        e=none
        [ "$sets" = none ] || { e=todo; evaluated "$dir" eval "$sets" && e=done; }
        c=${configs:+$configs/$name.json}
        printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$t" "$e" "${c:-$template (@VALUE@ = ${name#v})}" \
            "$(folder_of "$name" "${keys[$i]}")"
    done
    echo "${#names[@]} runs (outdir: $out)"
    exit 0
fi

mkdir -p "$out"
for i in "${!names[@]}"; do
    [ "${names[$i]}" = baseline ] || place "${names[$i]}" "${keys[$i]}"
done
# the runs still to do, one name per folder
pending=()
seen=" "
for i in "${!names[@]}"; do
    case $seen in *" ${keys[$i]} "*) continue;; esac
    seen="$seen${keys[$i]} "
    if todo "${names[$i]}"; then pending+=("${names[$i]}"); fi
done
if [ $slurm = 1 ]; then
    submit_slurm
elif [ -n "$ssh" ]; then
    run_ssh
    tables
elif [ "$jobs" -gt 1 ]; then
    run_jobs
    tables
else
    for name in "${names[@]}"; do run_task "$name"; done
    tables
fi

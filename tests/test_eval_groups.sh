#!/usr/bin/env bash
# test_eval_groups.sh: OOD groups, skipped sets, oracle marking and `lir compare`.
# In a tiny data folder with CIFAR-10, MNIST and Fashion-MNIST only (written here) and a
# tiny network trained by `lir train`:
#  - `lir eval --out far,mnist`: every far set of the group table is evaluated or listed as
#    skipped with its reason (console and results.json), none dropped, mnist once; the
#    group means equal the means of the per-set values recomputed here; best points and
#    early exits carry "oracle": true; the sidecar's seed and config hash are recorded;
#  - a group with no loadable set, a missing or unknown set named alone and a corrupt
#    file inside a group's folder are errors (exit 1, message naming it);
#  - `lir compare` on results.json fixtures written here: per-run values, mean and sample
#    std over runs that differ only in seed (recomputed with Python's statistics),
#    several scores and metrics, Markdown, CSV and PNG; bad input refused;
#  - scripts/sweep.sh over two seeds: trains, evaluates, ends with the compare table
#    averaging both seeds; run again it trains and evaluates nothing.
. "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
case $LIR in /*) ;; *) LIR=$PWD/$LIR;; esac
root=$PWD

"$PY" "$root/tests/fixtures/make_tiny_data.py" "$tmp/data"
cp "$root/tests/fixtures/tiny-train.cfg" "$tmp/tiny.cfg"
echo '{"epochs": 1, "val_size": 20, "seed": @VALUE@}' > "$tmp/seed.template"
sed 's/@VALUE@/1/' "$tmp/seed.template" > "$tmp/run1.json"
expect 0 "train the tiny network" "$LIR" train "$tmp/tiny.cfg" --config "$tmp/run1.json" \
    --data "$tmp/data" --outdir "$tmp/r1" --progress-seconds 0
ev=("$LIR" eval --cfg "$tmp/tiny.cfg" --weights "$tmp/r1/final.weights" --data "$tmp/data"
    --holdout 20 --batch 16 --plots=0)

# ---- groups: evaluated or skipped with the reason, never dropped ----
expect 0 "eval --out far,mnist" "${ev[@]}" --out far,mnist --outdir "$tmp/e1"
cp "$tmp/out" "$tmp/e1.txt"
has out "svhn [far]: skipped: dataset svhn (split test) not found" "svhn skipped on the console"
check
"$PY" - "$tmp/e1/results.json" "$tmp/e1.txt" <<'PYEOF' || fail "results.json of --out far,mnist"
import json, re, sys
r = json.load(open(sys.argv[1]))
console = open(sys.argv[2]).read()
bad = []
def want(cond, msg):
    if not cond:
        bad.append(msg)
groups = r["groups"]
want([g["name"] for g in groups] == ["far"], "groups: %s" % [g["name"] for g in groups])
g = groups[0]
defined = g["defined_sets"].split(",")
sets, skipped = g["sets"], g["skipped"]
want(sorted(sets + skipped) == sorted(defined), "far: %s + %s != %s" % (sets, skipped, defined))
want(sets.count("mnist") == 1 and "fashionmnist" in sets, "far sets: %s" % sets)
want("svhn" in skipped, "svhn not skipped: %s" % skipped)
want([o["name"] for o in r["ood"]] == sets, "ood entries %s" % [o["name"] for o in r["ood"]])
want(all(o["group"] == "far" for o in r["ood"]), "ood groups")
top = {s["name"]: s for s in r["skipped"]}
want(sorted(top) == sorted(skipped), "top-level skipped %s" % sorted(top))
for name, s in top.items():
    want(s["group"] == "far" and len(s["reason"]) > 10, "skipped %s: %s" % (name, s))
    want("%s [far]: skipped: %s" % (name, s["reason"]) in console, "console lacks skip of " + name)
want("svhn_32x32" in top["svhn"]["reason"] or "test_32x32.mat" in top["svhn"]["reason"],
     "svhn reason: %s" % top["svhn"]["reason"])
want("mean far (%d sets, %d skipped)" % (len(sets), len(skipped)) in console, "console mean row")
# group means recomputed from the per-set values
final = [p["name"] for p in r["points"]].index(r["final_point"])
def value(o, key, metric):
    pts = o["points"]
    if key == "fc_energy": return pts[final][metric]
    if key == "fc_dirfree": return pts[final]["dirfree"][metric]
    if key.startswith("agebo_"): return o["agebo"][key[6:]][metric]
    if key == "best_point": return pts[o["best_point"]["index"]][metric]
    return pts[o["best_point_dirfree"]["index"]]["dirfree"][metric]
spread = set()
for key, m in g["mean"].items():
    for metric in ("auroc", "fpr95_ood", "fpr95_id"):
        vals = [value(o, key, metric) for o in r["ood"]]
        spread.add(round(vals[0] - vals[1], 9))
        mean = sum(vals) / len(vals)
        want(abs(m[metric] - mean) < 1e-12, "%s %s mean %r, recomputed %r" % (key, metric, m[metric], mean))
    want(m["oracle"] == key.startswith("best_point"), "%s oracle flag" % key)
    want(r["main_scores"][key]["oracle"] == key.startswith("best_point"), "main_scores " + key)
want(len(spread) > 1, "the two sets give the same values: a trivial mean check")
for o in r["ood"]:
    for k in ("best_point", "best_point_dirfree", "early_exit", "early_exit_dirfree"):
        want(o[k]["oracle"] is True and "oracle" in o[k]["note"], "%s %s not oracle" % (o["name"], k))
    want(o["final_layer"]["oracle"] is False, "final layer marked oracle")
want("oracle" in r["conventions"]["auroc_seed"], "auroc_seed not called oracle")
w = r["provenance"]["weights"]
want(w["train_seed"] == 1 and re.fullmatch("[0-9a-f]{16}", w["train_config_hash"]), "sidecar: %s" % w)
want(w["sidecar"].endswith("final.weights.json"), "sidecar path %s" % w["sidecar"])
for line in bad:
    print("FAIL:", line)
sys.exit(1 if bad else 0)
PYEOF
has out "early exit (oracle): " "console early exit marked oracle"
has out "(oracle)" "console best point marked oracle"

# ---- what stops the run ----
expect 1 "a group with nothing to evaluate" "${ev[@]}" --out near --outdir "$tmp/e2"
has err "no OOD set could be evaluated; first skipped: dataset cifar100 (split test) not found" \
    "near without cifar100"
refuse "a missing set named alone" "dataset svhn (split test) not found" \
    "${ev[@]}" --out mnist,svhn --outdir "$tmp/e3"
refuse "an unknown set named alone" 'unknown dataset "nosuchset"' \
    "${ev[@]}" --out nosuchset --outdir "$tmp/e3"
mkdir -p "$tmp/data/svhn"
printf 'not a MATLAB file' > "$tmp/data/svhn/test_32x32.mat"
expect 1 "a corrupt file in a group's folder" "${ev[@]}" --out far --outdir "$tmp/e3"
has err "test_32x32.mat" "the corrupt file is named"
rm -r "$tmp/data/svhn"
[ ! -e "$tmp/e3/results.json" ] || fail "a failed eval wrote results.json"

# ---- lir compare on fixtures ----
"$PY" - "$tmp/fx" <<'PYEOF'
import json, os, random, sys
rng = random.Random(11)
def metrics():
    return {"auroc": rng.random(), "fpr95_ood": rng.random(), "fpr95_id": rng.random()}
def point(name):
    p = metrics(); p["name"] = name; p["dirfree"] = metrics(); return p
def ood(name, group):
    pts = [point(n) for n in ("conv1", "bn1", "fc")]
    return {"name": name, "group": group, "points": pts,
            "agebo": {k: metrics() for k in ("zsum", "zabs", "mahalanobis")},
            "best_point": {"index": rng.randrange(3), "oracle": True},
            "best_point_dirfree": {"index": rng.randrange(3), "oracle": True}}
# runs a1..a3: one config, seeds 1 2 3 (a3 lacks svhn); b1: another config; c1: no sidecar
runs = [("a1", "aaaaaaaaaaaaaaaa", 1, True), ("a2", "aaaaaaaaaaaaaaaa", 2, True),
        ("a3", "aaaaaaaaaaaaaaaa", 3, False), ("b1", "bbbbbbbbbbbbbbbb", 1, True),
        ("c1", "", None, True)]
for name, h, seed, svhn in runs:
    oods = [ood("mnist", "far")] + ([ood("svhn", "far")] if svhn else []) + [ood("cifar10@blur1", None)]
    mean = {k: {m: rng.random() for m in ("auroc", "fpr95_ood", "fpr95_id")}
            for k in ("fc_energy", "fc_dirfree", "agebo_zsum", "agebo_zabs", "agebo_mahalanobis",
                      "best_point", "best_point_dirfree")}
    r = {"provenance": {"weights": {"path": "w/%s.weights" % name, "sha256": name * 8,
                                    "train_seed": seed, "train_config_hash": h},
                        "data": {"jpeg_all": 0}},
         "id": {"name": "cifar10"}, "final_point": "fc",
         "points": [{"name": n} for n in ("conv1", "bn1", "fc")],
         "ood": oods, "groups": [{"name": "far", "mean": mean}]}
    d = os.path.join(sys.argv[1], name)
    os.makedirs(d)
    json.dump(r, open(os.path.join(d, "results.json"), "w"))
PYEOF
for sm in "fc auroc" "dirfree fpr95_ood" "agebo auroc" "zabs fpr95_id" "best fpr95_id" "best-dirfree auroc"; do
    set -- $sm
    expect 0 "compare --score $1 --metric $2" "$LIR" compare "$tmp/fx/a1" "$tmp/fx/a2/results.json" \
        "$tmp/fx/b1" "$tmp/fx/a3" "$tmp/fx/c1" --score "$1" --metric "$2" --outdir "$tmp/cmp"
    check
    "$PY" - "$tmp/fx" "$tmp/cmp" "$1" "$2" "$tmp/out" <<'PYEOF' || fail "compare --score $1 --metric $2"
import csv, json, math, os, statistics, sys
fx, out, score, metric, console = sys.argv[1:6]
key = {"fc": "fc_energy", "dirfree": "fc_dirfree", "zsum": "agebo_zsum", "zabs": "agebo_zabs",
       "agebo": "agebo_mahalanobis", "best": "best_point", "best-dirfree": "best_point_dirfree"}[score]
order = ["a1", "a2", "b1", "a3", "c1"]
res = {n: json.load(open(os.path.join(fx, n, "results.json"))) for n in order}
def value(r, col):
    if col == "mean far":
        return r["groups"][0]["mean"][key][metric]
    o = [o for o in r["ood"] if o["name"] == col]
    if not o: return None
    o, pts = o[0], o[0]["points"]
    if key == "fc_energy": return pts[2][metric]
    if key == "fc_dirfree": return pts[2]["dirfree"][metric]
    if key.startswith("agebo_"): return o["agebo"][key[6:]][metric]
    if key == "best_point": return pts[o["best_point"]["index"]][metric]
    return pts[o["best_point_dirfree"]["index"]]["dirfree"][metric]
bad = []
rows = list(csv.reader(open(os.path.join(out, "compare.csv"))))
cols = ["mnist", "svhn", "cifar10@blur1", "mean far"]
if rows[0] != ["run", "weights", "id", "config_hash", "seed"] + cols: bad.append("header %s" % rows[0])
for row, n in zip(rows[1:], order):
    if not row[0].endswith(n + "/results.json"): bad.append("row order: %s" % row[0])
    for c, cell in zip(cols, row[5:]):
        v = value(res[n], c)
        if (v is None) != (cell == "") or (v is not None and abs(float(cell) - v) > 1e-15):
            bad.append("%s %s: %s vs %r" % (n, c, cell, v))
means = list(csv.reader(open(os.path.join(out, "compare_mean.csv"))))
groups = [("a", ["a1", "a2", "a3"], "1 2 3"), ("b", ["b1"], "1"), ("c", ["c1"], "?")]
if len(means) != 4: bad.append("%d mean rows, want 3" % (len(means) - 1))
for row, (g, names, seeds) in zip(means[1:], groups):
    if row[3] != str(len(names)) or row[4] != seeds: bad.append("agg %s: %s" % (g, row[:5]))
    for i, c in enumerate(cols):
        vals = [value(res[n], c) for n in names if value(res[n], c) is not None]
        m, s, k = row[5 + 3 * i: 8 + 3 * i]
        if abs(float(m) - statistics.mean(vals)) > 1e-12: bad.append("%s %s mean %s" % (g, c, m))
        if len(vals) >= 2 and abs(float(s) - statistics.stdev(vals)) > 1e-12: bad.append("%s %s std" % (g, c))
        if len(vals) < 2 and s != "": bad.append("%s %s std %s from one run" % (g, c, s))
        if int(k) != len(vals): bad.append("%s %s count %s" % (g, c, k))
md = open(os.path.join(out, "compare.md")).read()
a = [statistics.mean([value(res[n], "mnist") for n in ("a1", "a2", "a3")]),
     statistics.stdev([value(res[n], "mnist") for n in ("a1", "a2", "a3")])]
cell = "%.4f ± %.4f" % tuple(a)
if cell not in md or cell not in open(console).read(): bad.append("Markdown lacks %s" % cell)
if "(2 of 3)" not in md: bad.append("svhn count in the Markdown")
if open(os.path.join(out, "compare.png"), "rb").read(8) != b"\x89PNG\r\n\x1a\n": bad.append("compare.png")
for line in bad: print("FAIL:", line)
sys.exit(1 if bad else 0)
PYEOF
done
has out "best point dirfree (oracle)" "compare names the oracle score"
refuse "compare of a file that is not a results.json" "not a \`lir eval\` results.json" \
    "$LIR" compare "$tmp/r1/final.weights.json" --outdir "$tmp/cmp2"
refuse "compare of a folder without results" "no results.json there" \
    "$LIR" compare "$tmp/data" --outdir "$tmp/cmp2"
expect 2 "compare without runs" "$LIR" compare
expect 2 "compare with an unknown score" "$LIR" compare "$tmp/fx/a1" --score nosuch

# ---- sweep.sh: train, eval, compare; resumable ----
sw=(bash "$root/scripts/sweep.sh" --template "$tmp/seed.template" --values "1 2" --outdir "$tmp/sweep"
    --cfg "$tmp/tiny.cfg" --lir "$LIR" --data "$tmp/data" --eval far
    --eval-args "--holdout 20 --batch 16 --plots=0" -- --progress-seconds 0)
expect 0 "sweep over two seeds" "${sw[@]}"
has out "== 2: lir eval --in cifar10 --out far" "sweep evaluates each run"
has out "| weights (first run) | ID | config | runs | seeds | mnist | fashionmnist" "sweep ends with the compare table"
has out "| 2 | 1 2 |" "the two seeds averaged in one row"
[ -f "$tmp/sweep/compare/compare.png" ] && [ -f "$tmp/sweep/v2/eval/results.json" ] ||
    fail "sweep outputs missing: $(ls "$tmp/sweep" "$tmp/sweep/compare")"
expect 0 "sweep again" "${sw[@]}"
has out "== 1: done before, skipped" "second sweep trains nothing"
has out "== 2: evaluated before, skipped" "second sweep evaluates nothing"
check
grep -q "lir eval --in" "$tmp/out" && fail "second sweep ran lir eval"
finish test_eval_groups

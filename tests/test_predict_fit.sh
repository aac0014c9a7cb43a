#!/usr/bin/env bash
# test_predict_fit.sh: what `lir eval` leaves in its results directory and `lir predict
# --fit`. In a tiny data folder (tests/fixtures/make_tiny_data.py, with a photos-test set)
# and a tiny network trained here:
#  - eval writes results.json, results.csv, fit.json and console.txt (= stdout), which
#    ends with the three summary lines; results.csv has run, weights and group columns
#    and every number at %.9g; a dataset's note (photos-test's disjointness) is on the
#    console and in results.json;
#  - fit.json, read here as docs/method.md section 9 documents it: each threshold is the
#    95% quantile of its score over the held-out images, recomputed from the energies
#    eval saved; predict's Ag-EBO score of an image is the one recomputed from the
#    energies it prints, which equal eval's for the same image;
#  - predict --fit calls Gaussian-noise images OOD and most tiny-CIFAR test images not;
#    a fit of other weights, of another cfg or another --in is refused, and damaged
#    fit.json files are refused naming the member;
#  - the results directory is replaced whole (no figure of an earlier run left), a
#    directory holding other files is refused and left alone, a killed run leaves the
#    earlier results in place and its temporary folder is removed by the next run;
#  - a --holdout that reaches into the images the weights' sidecar says they were trained
#    on is refused, naming the largest that does not; --allow-fit-overlap records it;
#  - the default --outdir names the weights; --points scores any of `lir info`'s points
#    (unknown names refused); the CIFAR-10-C sets are condensed on the console (mean per
#    corruption and per severity, recomputed here) and complete in results.csv / json.
. "$(dirname "$0")/lib.sh"
[ -x "$PY" ] || { echo "SKIP: no $PY to write the test data"; exit 77; }
"$PY" -c "import PIL" 2>/dev/null || { echo "SKIP: no PIL for the photos-test fixture"; exit 77; }
case $LIR in /*) ;; *) LIR=$PWD/$LIR;; esac
root=$PWD

"$PY" "$root/tests/fixtures/make_tiny_data.py" "$tmp/data" --photos 3 --photos-test 3
cp "$root/tests/fixtures/tiny-train.cfg" "$tmp/tiny.cfg"
for s in 1 2; do
    echo "{\"epochs\": 1, \"val_size\": 60, \"seed\": $s}" > "$tmp/run$s.json"
    expect 0 "train tiny network $s" "$LIR" train "$tmp/tiny.cfg" --config "$tmp/run$s.json" \
        --data "$tmp/data" --outdir "$tmp/r$s" --progress-seconds 0
done
ev=("$LIR" eval --cfg "$tmp/tiny.cfg" --weights "$tmp/r1/final.weights" --data "$tmp/data"
    --holdout 60 --batch 16)

# ---- the results directory ----
expect 0 "eval --out mnist,photos-test" "${ev[@]}" --out mnist,photos-test --limit 40 \
    --outdir "$tmp/e1" --save-energies
cp "$tmp/out" "$tmp/console1.txt"
for f in results.json results.csv fit.json console.txt auroc_scores_cifar10_mnist.png \
         auroc_heatmap_cifar10.pdf energies_cifar10_test.csv energies_cifar10_holdout.csv; do
    check; [ -f "$tmp/e1/$f" ] || fail "eval did not write $f"
done
check; cmp -s "$tmp/e1/console.txt" "$tmp/console1.txt" || fail "console.txt differs from stdout"
has out "note: disjoint from photos (checked" "photos-test's note on the console"
check
tail -3 "$tmp/console1.txt" | awk 'NR == 1 && !/^summary: AUROC of the best point \(oracle\) vs fc energy: / ||
    NR == 2 && !/^summary: AUROC of Ag-EBO mahalanobis/ ||
    NR == 3 && !/^summary: ID cifar10 test accuracy [0-9.]+% \(40 images\); fit.json calls/ {bad = 1}
    END {exit bad}' || fail "the console does not end with the three summary lines: $(tail -3 "$tmp/console1.txt")"
check
awk 'length > 250 {print; bad = 1} END {exit bad}' "$tmp/console1.txt" || fail "console lines over 250 characters (above)"

"$PY" - "$tmp" <<'PYEOF' || fail "results.csv, results.json and fit.json"
import csv, json, math, sys
t = sys.argv[1]
e1 = t + "/e1"
bad = []
def want(cond, msg):
    if not cond: bad.append(msg)
rows = list(csv.reader(open(e1 + "/results.csv")))
want(rows[0] == ["run", "weights", "ood", "group", "kind", "name", "flop_frac", "auroc", "auroc_seed",
                 "fpr95_ood", "fpr95_id", "aupr_in", "aupr_out"], "CSV header %s" % rows[0])
for r in rows[1:]:
    want(r[0].endswith("/e1") and r[1].endswith("/final.weights"), "run / weights %s" % r[:2])
    for x in r[6:]:
        want(x == "%.9g" % float(x), "not at %%.9g: %s" % x)
want(len({r[2] for r in rows[1:]}) == 2, "two sets in the CSV")
res = json.load(open(e1 + "/results.json"))
fit = json.load(open(e1 + "/fit.json"))
want("disjoint from photos" in [o for o in res["ood"] if o["name"] == "photos-test"][0].get("note", ""),
     "photos-test note in results.json")
want("2 FLOPs per multiply-add" in res["conventions"]["flop_frac"], "FLOP convention in results.json")
want(fit["format"] == "lir-fit 1" and fit["points"] == [p["name"] for p in res["points"]], "fit points")
def energies(name):
    r = list(csv.reader(open("%s/energies_%s.csv" % (e1, name))))
    k = [r[0].index(p) for p in fit["points"]]
    return [[float(row[i]) for i in k] for row in r[1:]]
L, fin = len(fit["points"]), fit["points"].index(fit["final_point"])
def score(key, e):
    if key == "fc_energy": return e[fin]
    if key == "fc_dirfree":
        d = fit["dirfree"]; return abs(e[fin] - d["center"][fin]) / d["scale"][fin]
    m = fit["agebo"][key[6:]]
    z = [(e[l] - m["mu"][l]) / m["sigma"][l] for l in range(L)]
    if key == "agebo_zsum": return sum(z)
    if key == "agebo_zabs": return sum(abs(v) for v in z)
    c, y = m["chol"], []
    for a in range(L):
        y.append((z[a] - sum(c[a * L + b] * y[b] for b in range(a))) / c[a * L + a])
    return math.sqrt(sum(v * v for v in y))
hold, test = energies("cifar10_holdout"), energies("cifar10_test")
want(len(hold) == 60 and len(test) == 40, "energy rows %d %d" % (len(hold), len(test)))
for key, s in fit["scores"].items():
    h = sorted(score(key, e) for e in hold)
    t95 = h[math.ceil(0.95 * len(h)) - 1]
    want(abs(s["threshold"] - t95) <= 1e-5 * max(1, abs(t95)), "%s threshold %r, recomputed %r" % (key, s["threshold"], t95))
    acc = sum(score(key, e) <= s["threshold"] * (1 + 1e-7) for e in test) / len(test)
    want(abs(s["id_test_accept"] - acc) < 1e-9 + 1.5 / len(test), "%s test accept %r vs %r" % (key, s["id_test_accept"], acc))
    want(res["id_fit"][key]["threshold"] == s["threshold"], "results.json id_fit " + key)
want(len(set(round(s["threshold"], 6) for s in fit["scores"].values())) == 5, "trivial thresholds")
json.dump({"test": test[:12]}, open(t + "/eval_energies.json", "w"))
for line in bad: print("FAIL:", line)
sys.exit(1 if bad else 0)
PYEOF

# ---- predict --fit ----
mkdir -p "$tmp/img"
"$PY" - "$tmp/data" "$tmp/img" <<'PYEOF' || fail "python could not write the images"
import random, struct, sys, zlib
data, out = sys.argv[1:3]
def png(path, pix):  # 32x32 RGB, pix: HWC bytes
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\0" + pix[y * 96:(y + 1) * 96] for y in range(32))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
rec = open(data + "/cifar10/cifar-10-batches-bin/test_batch.bin", "rb").read()
for i in range(12):  # the first 12 ID test images, CHW records to HWC
    r = rec[i * 3073 + 1:(i + 1) * 3073]
    png("%s/id%02d.png" % (out, i), bytes(r[c * 1024 + p] for p in range(1024) for c in range(3)))
rng = random.Random(5)  # gaussian noise as lir's gaussian set: clip(0.5 + 0.25 z)
for i in range(12):
    png("%s/noise%02d.png" % (out, i),
        bytes(min(255, max(0, round(255 * (0.5 + 0.25 * rng.gauss(0, 1))))) for _ in range(3072)))
PYEOF
pr=("$LIR" predict "$tmp/tiny.cfg" "$tmp/r1/final.weights")
expect 0 "predict --fit" "${pr[@]}" --fit "$tmp/e1/fit.json" --energies "$tmp"/img/*.png
"$PY" - "$tmp" "$tmp/out" <<'PYEOF' || fail "predict --fit verdicts and scores"
import json, math, sys
t, out = sys.argv[1:3]
fit = json.load(open(t + "/e1/fit.json"))
ev = json.load(open(t + "/eval_energies.json"))["test"]
lines = open(out).read().splitlines()
bad = []
def want(cond, msg):
    if not cond: bad.append(msg)
want(lines[0].split("\t") == ["input", "class", "index", "prob", "energy", "verdict"], "header %s" % lines[0])
m, L = fit["agebo"]["mahalanobis"], len(fit["points"])
rows, i = [], 1
while i < len(lines):
    cells = lines[i].split("\t")
    e = [float(lines[i + 1 + k].split("E = ")[1].split()[0]) for k in range(L)]
    want([lines[i + 1 + k].split()[0] for k in range(L)] == fit["points"], "point lines")
    rows.append((cells[0].split("/")[-1], cells[5], e))
    i += 1 + L
want(len(rows) == 24, "%d images printed" % len(rows))
ood = {n: v.startswith("OOD: yes") for n, v, _ in rows}
want(all(ood["noise%02d.png" % k] for k in range(12)), "noise not called OOD: %s" % ood)
want(sum(not ood["id%02d.png" % k] for k in range(12)) >= 9, "ID images called OOD: %s" % ood)
for n, v, e in rows:
    z = [(e[l] - m["mu"][l]) / m["sigma"][l] for l in range(L)]
    y = []
    for a in range(L):
        y.append((z[a] - sum(m["chol"][a * L + b] * y[b] for b in range(a))) / m["chol"][a * L + a])
    s = math.sqrt(sum(q * q for q in y))
    got = float(v.split("score ")[1].split(",")[0])
    thr = float(v.split("threshold ")[1].rstrip(")"))
    want(abs(got - s) <= 1e-4 * max(1, s), "%s: score %r, recomputed %r" % (n, got, s))
    want(abs(thr - fit["scores"]["agebo_mahalanobis"]["threshold"]) <= 1e-5 * abs(thr), "threshold")
    want(v.startswith("OOD: yes") == (s > thr) or abs(s - thr) < 1e-4, "%s verdict" % n)
    if n.startswith("id"):
        k = int(n[2:4])
        want(all(abs(a - b) <= 1e-4 * max(1, abs(b)) for a, b in zip(e, ev[k])),
             "%s: energies %s, eval's %s" % (n, e, ev[k]))
for line in bad: print("FAIL:", line)
sys.exit(1 if bad else 0)
PYEOF
expect 0 "predict --fit --score dirfree" "${pr[@]}" --fit "$tmp/e1/fit.json" --score dirfree "$tmp/img/id00.png"
has out "(fc dirfree score " "the verdict names the score"
refuse "a fit of other weights" "was fitted for the weights" \
    "$LIR" predict "$tmp/tiny.cfg" "$tmp/r2/final.weights" --fit "$tmp/e1/fit.json" "$tmp/img/id00.png"
{ cat "$tmp/tiny.cfg"; echo "# edited"; } > "$tmp/edited.cfg"
refuse "a fit of another cfg" "was fitted for the cfg" \
    "$LIR" predict "$tmp/edited.cfg" "$tmp/r1/final.weights" --fit "$tmp/e1/fit.json" "$tmp/img/id00.png"
refuse "a fit of another ID set" "was fitted with ID set cifar10" \
    "${pr[@]}" --fit "$tmp/e1/fit.json" --in cifar100 "$tmp/img/id00.png"
"$PY" - "$tmp" <<'PYEOF'
import json, sys
t = sys.argv[1]
text = open(t + "/e1/fit.json").read()
f = json.loads(text)
def put(name, obj):
    open("%s/%s.json" % (t, name), "w").write(obj if isinstance(obj, str) else json.dumps(obj))
g = dict(f); del g["format"]; put("noformat", g)
g = json.loads(text); g["format"] = "lir-fit 2"; put("format2", g)
g = json.loads(text); g["agebo"]["mahalanobis"]["chol"].append(1.0); put("chol", g)
g = json.loads(text); g["agebo"]["zsum"]["sigma"][0] = 0; put("sigma", g)
g = json.loads(text); g["final_point"] = "nowhere"; put("final", g)
put("twice", text.replace('"format":', '"format": "lir-fit 1", "format":', 1))
PYEOF
for c in "noformat|\"format\": missing" "format2|this lir reads \"lir-fit 1\"" \
         "chol|\"agebo.mahalanobis.chol\": expected 25 numbers" "sigma|expected every sigma > 0" \
         "final|\"final_point\": expected one of" "twice|fit key 'format' given twice"; do
    refuse "damaged fit.json: ${c%%|*}" "${c#*|}" "${pr[@]}" --fit "$tmp/${c%%|*}.json" "$tmp/img/id00.png"
done

# ---- replaced whole, refused, killed ----
expect 0 "eval again into e1" "${ev[@]}" --out fashionmnist --no-plots --outdir "$tmp/e1"
check
ls "$tmp/e1" | grep -E 'auroc_|energies_|mnist' | grep -v fashion && fail "files of the earlier run left in e1 (above)"
ls "$tmp" | grep -E '^e1\.(tmp|old)-' && fail "temporary folders left beside e1 (above)"
mkdir "$tmp/mine"
echo "my notes" > "$tmp/mine/notes.txt"
refuse "a directory of other files" "mine holds notes.txt" "${ev[@]}" --out mnist --outdir "$tmp/mine"
check; [ "$(ls "$tmp/mine")" = notes.txt ] || fail "the refused directory changed: $(ls "$tmp/mine")"
cp "$tmp/e1/results.json" "$tmp/results1.json"
"${ev[@]}" --out gaussian,uniform,blobs --threads 1 --no-plots --outdir "$tmp/e1" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 3000); do   # up to 150 s (sanitizer builds on a loaded machine)
    [ -d "$tmp/e1.tmp-$pid" ] || ! kill -0 $pid 2>/dev/null && break
    sleep 0.05
done
check; [ -d "$tmp/e1.tmp-$pid" ] || fail "no temporary folder e1.tmp-$pid during the run"
kill -9 $pid; wait $pid 2>/dev/null
check; cmp -s "$tmp/e1/results.json" "$tmp/results1.json" || fail "a killed run changed e1"
expect 0 "eval after a killed run" "${ev[@]}" --out mnist --no-plots --outdir "$tmp/e1"
check; [ ! -e "$tmp/e1.tmp-$pid" ] || fail "the killed run's folder was not removed"

# ---- held-out images the weights were trained on (r1: the first 140 of 200) ----
refuse "a --holdout reaching into the training images" "include 20 that $tmp/r1/final.weights was trained on" \
    "${ev[@]}" --holdout 80 --out mnist --no-plots --outdir "$tmp/ov"
has err "use --holdout 60 or less" "the largest --holdout that fits"
check; [ ! -e "$tmp/ov" ] || fail "the refused run wrote $tmp/ov"
expect 0 "--allow-fit-overlap" "${ev[@]}" --holdout 80 --allow-fit-overlap --out mnist --no-plots \
    --outdir "$tmp/ov"
check; grep -q 'the weights were trained on 20 of them (--allow-fit-overlap)' \
    "$tmp/ov/results.json" || fail "results.json does not record the overlap"

# ---- default --outdir, --points ----
mkdir "$tmp/cwd" "$tmp/w"
cp "$tmp/r2/final.weights" "$tmp/w/model-b.weights"
for w in "$tmp/r1/final.weights" "$tmp/w/model-b.weights"; do
    (cd "$tmp/cwd" && "$LIR" eval --cfg "$tmp/tiny.cfg" --weights "$w" --data "$tmp/data" \
        --holdout 20 --batch 16 --out mnist --no-plots >/dev/null 2>&1) || fail "eval of $w"
done
check; [ "$(ls "$tmp/cwd/runs")" = "$(printf 'eval-cifar10-model-b\neval-cifar10-r1-final')" ] ||
    fail "default output folders: $(ls "$tmp/cwd/runs")"
expect 0 "info" "$LIR" info "$tmp/tiny.cfg"
awk '/^ *pt +name/ {on = 1; next} on && $2 == "points" {exit} on && NF >= 3 && $1 ~ /^[0-9]+$/ {print $2}' "$tmp/out" | paste -sd, - >"$tmp/all"
check; [ "$(tr ',' '\n' <"$tmp/all" | wc -l)" -gt 5 ] || fail "lir info lists $(cat "$tmp/all")"
for p in "conv1,bn2|conv1,bn2,fc" "all|$(cat "$tmp/all")" "default|conv1,bn1,conv2,bn2,fc"; do
    expect 0 "--points ${p%%|*}" "${ev[@]}" --out mnist --no-plots --points "${p%%|*}" --outdir "$tmp/p"
    check
    got=$("$PY" -c 'import json, sys; print(",".join(p["name"] for p in json.load(open(sys.argv[1]))["points"]))' "$tmp/p/results.json")
    [ "$got" = "${p#*|}" ] || fail "--points ${p%%|*}: scored $got, want ${p#*|}"
done
refuse "--points with an unknown name" "no point named 'nosuch'" \
    "${ev[@]}" --out mnist --points conv1,nosuch --outdir "$tmp/p2"
has err "lir info" "the refusal says where the names are"
refuse "--points with an empty name" "an empty name" \
    "${ev[@]}" --out mnist --points conv1,,bn2 --outdir "$tmp/p2"

# ---- CIFAR-10-C condensed on the console ----
expect 0 "eval --out covariate,mnist" "${ev[@]}" --out covariate,mnist --limit 10 --no-plots --outdir "$tmp/c"
has out "vs. 70 CIFAR-10-C sets: condensed in the summary" "condensed sets announced"
has out "c-fog (5 sets)" "a row per corruption"
has out "severity 5 (14 sets)" "a row per severity"
check; grep -q "vs. cifar10@c-fog-3 (OOD)" "$tmp/out" && fail "a CIFAR-10-C set printed in full"
has out "cifar10 (ID) vs. mnist (OOD)" "mnist still in full"
"$PY" - "$tmp/c" "$tmp/out" <<'PYEOF' || fail "condensed means"
import csv, json, sys
d, out = sys.argv[1:3]
r = json.load(open(d + "/results.json"))
fin = [p["name"] for p in r["points"]].index(r["final_point"])
c = [o for o in r["ood"] if "@c-" in o["name"]]
bad = []
if len(c) != 70 or any(o["group"] != "covariate" for o in c): bad.append("70 covariate sets in results.json")
rows = [x for x in csv.reader(open(d + "/results.csv")) if "@c-" in x[2]]
if len({x[2] for x in rows}) != 70: bad.append("70 sets in results.csv")
text = open(out).read().split("FPR95 (OOD positive")[0]
for label, sel in [("c-fog (5 sets)", lambda n: "@c-fog-" in n),
                   ("severity 2 (14 sets)", lambda n: n.endswith("-2"))]:
    v = [o["points"][fin]["auroc"] for o in c if sel(o["name"])]
    line = [l for l in text.splitlines() if l.strip().startswith(label)]
    want = "%.4f" % (sum(v) / len(v))
    if not line or line[0][38:].split()[0] != want:
        bad.append("%s: %s, fc mean recomputed %s" % (label, line, want))
for line in bad: print("FAIL:", line)
sys.exit(1 if bad else 0)
PYEOF
finish test_predict_fit

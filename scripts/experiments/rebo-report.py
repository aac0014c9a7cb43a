#!/usr/bin/env python3
"""rebo-report.py: the R-EBO results tables of a sweep (scripts/experiments/rebo-sweep.sh)
as Markdown: one row per run (configuration x seed) with ID test accuracy and, per score,
the mean AUROC over the evaluated far-OOD sets; the raw fc AUROC per far set; the raw
AUROC at the regularised intermediate points against the baseline's at the same points;
the validation ranking; and the issue's moonshot checks for the R-EBO configuration
(rebo*, band*) that the validation signal ranks first.

    scripts/experiments/rebo-report.py SWEEP_DIR [--baseline NAME] [--selected NAME]
    scripts/experiments/rebo-report.py --covariate RESULTS_JSON...

SWEEP_DIR holds one folder per run with eval/results.json (lir eval --out far ...) and
final.weights.json; select/ranking.tsv (scripts/sweep.sh --select) names the selected
configuration unless --selected is given; without it (a folder of runs gathered from
several sweeps) the ranking is computed from each run's select/results.json.
--covariate: for `lir eval` results with the covariate group (CIFAR-10-C sets named
cifar10@c-<corruption>-<severity>), the mean AUROC per corruption and per severity of
the raw fc energy, the best intermediate point (oracle, raw and seed-compatible
max(AUROC, 1-AUROC)), the direction-free score at the best point (oracle) and Ag-EBO
Mahalanobis (ID-fitted). Standard library only.
"""
import json
import math
import os
import re
import statistics
import sys

MAX_DROP = 1.5  # points of validation accuracy a selectable configuration may lose
SCORES = [("fc", "raw fc energy"), ("dirfree", "dirfree fc"), ("agebo", "Ag-EBO Mahalanobis"),
          ("best", "best point*")]


def fail(msg):
    sys.exit("rebo-report.py: " + msg)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read %s: %s" % (path, e))


def final_point(o, res):
    """The final (logit) point of OOD set o of results res."""
    return next(p for p in o["points"] if p["name"] == res["final_point"])


def run_scores(res, s):
    """Per far set (name -> AUROC) of score s; the best point is chosen per set (oracle)."""
    out = {}
    for o in res["ood"]:
        if o.get("group") != "far":
            continue
        fc = final_point(o, res)
        if s == "fc":
            out[o["name"]] = fc["auroc"]
        elif s == "dirfree":
            out[o["name"]] = fc["dirfree"]["auroc"]
        elif s == "agebo":
            out[o["name"]] = o["agebo"]["mahalanobis"]["auroc"]
        else:
            out[o["name"]] = max(p["auroc"] for p in o["points"])
    return out


def point_auroc(res):
    """(set, point) -> raw AUROC for the far sets."""
    return {(o["name"], p["name"]): p["auroc"] for o in res["ood"] if o.get("group") == "far"
            for p in o["points"]}


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else float("nan")


def fmt(x, d=4):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else "%.*f" % (d, x)


def sidecar(run_dir):
    p = os.path.join(run_dir, "final.weights.json")
    return load_json(p) if os.path.exists(p) else {}


def config_of(name):
    """Run name without its seed suffix: runs that differ only in seed share it."""
    return re.sub(r"-s[0-9]+$", "", name)


def hooked_points(side):
    hooks = side.get("hooks") or (side.get("config") or {}).get("hooks") or []
    return [h["point"] for h in hooks if h.get("point") != "fc"]


def collect(sweep):
    runs = []
    for name in sorted(os.listdir(sweep)):
        d = os.path.join(sweep, name)
        rj = os.path.join(d, "eval", "results.json")
        if not os.path.isfile(rj):
            continue
        res = load_json(rj)
        side = sidecar(d)
        acc = res["id"].get("accuracy")
        runs.append({"name": name, "res": res, "side": side, "acc": acc,
                     "scores": {s: run_scores(res, s) for s, _ in SCORES},
                     "points": point_auroc(res), "hooked": hooked_points(side)})
    if not runs:
        fail("no run with eval/results.json under " + sweep)
    return runs


def table_runs(runs, base):
    sets = sorted(base["scores"]["fc"])
    print("| run | ID acc | %s | Ag-EBO MNIST | Ag-EBO F-MNIST |" % " | ".join(
        "mean far " + label for _, label in SCORES))
    print("|---|---|%s---|---|" % ("---|" * len(SCORES)))
    for r in runs:
        cells = [fmt(mean(r["scores"][s].get(k) for k in sets)) for s, _ in SCORES]
        ag = r["scores"]["agebo"]
        print("| %s | %s | %s | %s | %s |" % (r["name"], fmt(100 * r["acc"], 2), " | ".join(cells),
                                           fmt(ag.get("mnist")), fmt(ag.get("fashionmnist"))))
    print("\nFar sets averaged: %s. `*` oracle: the point is chosen per set with the test labels." %
          ", ".join(sets))


def table_seeds(runs, base):
    sets = sorted(base["scores"]["fc"])
    groups = {}
    for r in runs:
        groups.setdefault(config_of(r["name"]), []).append(r)
    print("| configuration | seeds | ID acc | %s |" % " | ".join("mean far " + l for _, l in SCORES))
    print("|---|---|---|%s" % ("---|" * len(SCORES)))
    for cfg, rs in groups.items():
        def ms(vals, d=4):
            vals = list(vals)
            sd = statistics.stdev(vals) if len(vals) > 1 else None
            return fmt(mean(vals), d) + ("" if sd is None else " ± " + fmt(sd, d))
        cells = [ms(mean(r["scores"][s].get(k) for k in sets) for r in rs) for s, _ in SCORES]
        print("| %s | %d | %s | %s |" % (cfg, len(rs), ms((100 * r["acc"] for r in rs), 2),
                                      " | ".join(cells)))


def table_sets(runs, base):
    sets = sorted(base["scores"]["fc"])
    print("| run | %s |" % " | ".join(sets))
    print("|---|%s" % ("---|" * len(sets)))
    for r in runs:
        print("| %s | %s |" % (r["name"], " | ".join(fmt(r["scores"]["fc"].get(k)) for k in sets)))


def table_points(runs, base):
    sets = sorted(base["scores"]["fc"])
    print("| run | point | mean far raw AUROC | baseline at the point | change |")
    print("|---|---|---|---|---|")
    for r in runs:
        for p in r["hooked"]:
            v = mean(r["points"].get((k, p)) for k in sets)
            b = mean(base["points"].get((k, p)) for k in sets)
            print("| %s | %s | %s | %s | %+.4f |" % (r["name"], p, fmt(v), fmt(b), v - b))


def reverse_drop(run, base):
    """Largest fall of a point's raw AUROC below the baseline's on a far set where the run's
    AUROC is below 0.5 (OOD energy below ID), and where."""
    worst, where = 0.0, "-"
    for key, v in run["points"].items():
        b = base["points"].get(key)
        if b is not None and v < 0.5 and b - v > worst:
            worst, where = b - v, "%s at %s" % key
    return worst, where


def ranking_rows(sweep):
    """ranking.tsv's rows for a folder without one (runs gathered from several sweeps),
    one a run, as sweep.sh computes them from each run's select/results.json and
    sidecar: the mean over the validation sets of the raw fc AUROC and of the Ag-EBO
    Mahalanobis AUROC, their mean (the signal) and the validation accuracy."""
    rows = []
    for name in sorted(os.listdir(sweep)):
        p = os.path.join(sweep, name, "select", "results.json")
        if not os.path.isfile(p):
            continue
        res = load_json(p)
        sets = [o for o in res["ood"] if o.get("points")]
        fc = mean(final_point(o, res)["auroc"] for o in sets)
        ag = mean(o["agebo"]["mahalanobis"]["auroc"] for o in sets)
        va = sidecar(os.path.join(sweep, name)).get("val_accuracy")
        rows.append(["", repr((fc + ag) / 2), repr(fc), repr(ag), "" if va is None else repr(va),
                     "", "", "1", name, name])
    return rows


def ranking(sweep):
    """select/ranking.tsv (else ranking_rows) as (configuration, signal, fc, agebo, val
    accuracy, eligible), best first. Columns: rank signal fc_auroc agebo_auroc val_accuracy accuracy_drop
    eligible runs config first_run. sweep.sh groups runs by config hash, and lir versions
    that recorded an unused key (lr_steps under cosine) differently split one
    configuration's seeds; here rows are merged by configuration name (the first run's
    folder without its seed), averaged weighted by their runs. Eligible: validation
    accuracy at most MAX_DROP points below the baseline's, or unknown."""
    p = os.path.join(sweep, "select", "ranking.tsv")
    if os.path.exists(p):
        with open(p) as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
    else:
        rows = ranking_rows(sweep)
    merged = {}
    for r in rows:
        cfg, n = config_of(os.path.basename(r[9].rstrip("/"))), int(r[7])
        m = merged.setdefault(cfg, {"n": 0, "sums": [0.0, 0.0, 0.0], "va": [0.0, 0]})
        m["n"] += n
        for i in range(3):
            m["sums"][i] += n * float(r[1 + i])
        if r[4]:
            m["va"][0] += n * float(r[4])
            m["va"][1] += n
    def val_acc(m):
        return m["va"][0] / m["va"][1] if m["va"][1] else None
    base = next((val_acc(m) for c, m in merged.items() if c == "baseline"), None)
    out = []
    for cfg, m in merged.items():
        sig, fc, ag = (v / m["n"] for v in m["sums"])
        va = val_acc(m)
        el = "yes" if va is None or base is None or base - va <= MAX_DROP else "no"
        out.append((cfg, "%.4f" % sig, "%.4f" % fc, "%.4f" % ag,
                    "" if va is None else "%.2f" % va, el))
    return sorted(out, key=lambda r: (r[5] != "yes", -float(r[1])))


def is_rebo(cfg):
    return cfg.startswith(("rebo", "band"))


def select_sets(sweep):
    """The validation sets of the sweep's selection step, from a run's select/results.json."""
    for name in sorted(os.listdir(sweep)):
        p = os.path.join(sweep, name, "select", "results.json")
        if os.path.exists(p):
            return ", ".join(o["name"] for o in load_json(p)["ood"])
    return "the validation sets"


def table_ranking(rank, sets):
    print("| rank | configuration | signal | fc AUROC | Ag-EBO AUROC | val accuracy | eligible |")
    print("|---|---|---|---|---|---|---|")
    for i, (cfg, sig, fc, ag, va, el) in enumerate(rank, 1):
        print("| %d | %s | %s | %s | %s | %s | %s |" % (i, cfg, sig, fc, ag, va or "-", el))
    print("\nSignal: mean of the raw fc energy AUROC and the Ag-EBO Mahalanobis AUROC of "
          "%s against held-out ID training images (`lir eval --validation`), no "
          "test OOD data. Eligible: validation accuracy at most %g points below the "
          "baseline's; seeds split by config hash are merged by name." % (sets, MAX_DROP))


def selected_name(rank, given):
    """The given configuration, else the best-ranked eligible R-EBO one (rebo*, band*)."""
    if given:
        return given
    return next((r[0] for r in rank if is_rebo(r[0]) and r[5] == "yes"), None)


def moonshot(runs, base, sel):
    sets = sorted(base["scores"]["fc"])
    group = [r for r in runs if config_of(r["name"]) == sel]
    eft = [r for r in runs if config_of(r["name"]) == "energy-ft-photos"]
    cal = [r for r in runs if config_of(r["name"]) == "energy-ft-cal-photos"]
    if not group:
        print("No run of the selected configuration `%s` was evaluated." % sel)
        return
    def fcm(rs):
        return mean(mean(r["scores"]["fc"].get(k) for k in sets) for r in rs)
    b = fcm([base])
    s = fcm(group)
    e = fcm(eft) if eft else float("nan")
    c = fcm(cal) if cal else float("nan")
    ag_m = mean(r["scores"]["agebo"].get("mnist") for r in group)
    ag_f = mean(r["scores"]["agebo"].get("fashionmnist") for r in group)
    drop = 100 * (base["acc"] - mean(r["acc"] for r in group))
    rev = max((reverse_drop(r, base) for r in group), key=lambda t: t[0])
    checks = [
        ("raw fc AUROC, mean far, >= baseline + 0.05", "%s vs %s" % (fmt(s), fmt(b)), s >= b + 0.05),
        ("raw fc AUROC, mean far, above energy fine-tuning", "%s vs %s" % (fmt(s), fmt(e)),
         not math.isnan(e) and s > e),
        ("(not in the issue) above energy fine-tuning with calibrated margins",
         "%s vs %s" % (fmt(s), fmt(c)), not math.isnan(c) and s > c),
        ("Ag-EBO Mahalanobis >= 0.98 on MNIST and Fashion-MNIST", "%s, %s" % (fmt(ag_m), fmt(ag_f)),
         ag_m >= 0.98 and ag_f >= 0.98),
        ("test accuracy cost <= 1.5 points", "%.2f points" % drop, drop <= 1.5),
        ("no point's raw AUROC falls below the baseline's in the reverse direction by > 0.05",
         "%s (%s)" % (fmt(rev[0]), rev[1]), rev[0] <= 0.05),
    ]
    print("Selected R-EBO configuration (validation signal, no test OOD data): `%s`, %d seed(s).\n" %
          (sel, len(group)))
    print("| check | measured | reached |")
    print("|---|---|---|")
    for what, val, ok in checks:
        print("| %s | %s | %s |" % (what, val, "yes" if ok else "no"))


def covariate_rows(res):
    """(corruption, severity) -> scores of one results.json's CIFAR-10-C sets."""
    rows = {}
    for o in res["ood"]:
        if "@c-" not in o["name"]:
            continue
        corr, sev = o["name"].split("@c-", 1)[1].rsplit("-", 1)
        mid = [p for p in o["points"] if p["name"] != res["final_point"]]
        fc = final_point(o, res)
        rows[(corr, int(sev))] = {
            "fc": fc["auroc"], "fc_seed": fc["auroc_seed"],
            "mid": max(p["auroc"] for p in mid), "mid_seed": max(p["auroc_seed"] for p in mid),
            "mid_dirfree": max(p["dirfree"]["auroc"] for p in mid),
            "agebo": o["agebo"]["mahalanobis"]["auroc"]}
    return rows


def covariate(paths):
    keys = [("fc", "fc raw"), ("fc_seed", "fc seed-compat."), ("mid", "best intermediate raw*"),
            ("mid_seed", "best intermediate seed-compat.*"),
            ("mid_dirfree", "best intermediate dirfree*"), ("agebo", "Ag-EBO Mahalanobis")]
    for path in paths:
        res = load_json(path)
        rows = covariate_rows(res)
        if not rows:
            fail("%s has no CIFAR-10-C sets (lir eval --out covariate)" % path)
        print("### %s (ID accuracy %.2f%%)\n" % (path, 100 * res["id"]["accuracy"]))
        for by, name in ((0, "corruption"), (1, "severity")):
            print("| %s | sets | %s |" % (name, " | ".join(t for _, t in keys)))
            print("|---|---|%s" % ("---|" * len(keys)))
            for g in sorted({k[by] for k in rows}):
                sel = [v for k, v in rows.items() if k[by] == g]
                print("| %s | %d | %s |" % (g, len(sel), " | ".join(
                    fmt(mean(v[k] for v in sel)) for k, _ in keys)))
            print()
        allr = list(rows.values())
        better = sum(v["mid"] > v["fc"] for v in allr)
        print("All %d sets: best intermediate point (raw, oracle) above fc raw on %d; mean %s vs %s. "
              "`*` oracle: the point is chosen per set with the test labels.\n" %
              (len(allr), better, fmt(mean(v["mid"] for v in allr)), fmt(mean(v["fc"] for v in allr))))


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    if args[0] == "--covariate":
        if len(args) < 2:
            fail("--covariate needs results.json files")
        covariate(args[1:])
        return 0
    sweep, base_name, sel = args[0], "baseline", None
    rest = args[1:]
    while rest:
        if rest[0] == "--baseline" and len(rest) > 1:
            base_name = rest[1]
        elif rest[0] == "--selected" and len(rest) > 1:
            sel = rest[1]
        else:
            fail("unknown argument '%s' (see --help)" % rest[0])
        rest = rest[2:]
    runs = collect(sweep)
    base = next((r for r in runs if r["name"] == base_name), None)
    if base is None:
        fail("no baseline run '%s' with eval/results.json in %s" % (base_name, sweep))
    runs = [base] + [r for r in runs if r is not base]
    for title, fn in (("Runs", table_runs), ("Configurations (mean ± std over seeds)", table_seeds),
                      ("Raw fc energy AUROC per far set", table_sets),
                      ("The regularised intermediate points", table_points)):
        print("### %s\n" % title)
        fn(runs, base)
        print()
    rank = ranking(sweep)
    if rank:
        print("### Model selection\n")
        table_ranking(rank, select_sets(sweep))
        print()
    sel = selected_name(rank, sel)
    if sel:
        print("### Moonshot checks\n")
        moonshot(runs, base, sel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

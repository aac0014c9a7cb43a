"""bench_table.py: the table of bench/run.sh. Reads the rows that `lir bench` and
bench/torch_ref.py printed in each run folder and prints, per net and row, the images/s
of lir (fp32 and bf16) and of PyTorch (fp32 and bf16 autocast), lir's ratios against
both PyTorch modes and the CPU-time ratios, each the median over the runs.

A run folder holds one file per invocation: lir_<net> (lir bench --precision both) and
torch_<net>_<prec>_<layout>_<policy> (torch_ref.py; every memory layout and OpenMP wait
policy tried, the fastest kept per row). lir's figure in a run is its faster precision ("lir best"), what a user
picks; both precisions are printed. Ratios are taken within each run (the two tools
measured minutes apart under the same load) and then their median over the runs.

Usage: /usr/bin/python3 bench/bench_table.py RUN_DIR...
"""
import glob
import os
import statistics
import sys

# The bars: (net, mode, hooks) -> [(peer, minimum ratio)]
BARS = {
    ("cifar", "train", "none"): [("torch fp32", 2.5), ("torch bf16", 1.5)],
    ("cifar", "infer", "all"): [("torch fp32", 3.0)],
    ("paper", "infer", "all"): [("torch fp32", 3.0)],
}


def read_rows(path):
    """{(mode, hooks, prec): (images/s, cpu_ms)} from one tool's output, by column name
    (hooks "none" or "all"; prec "fp32" where the tool prints no prec column)."""
    rows, col = {}, None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            if w[0] == "mode":
                col = {name: i for i, name in enumerate(w)}
            elif w[0] in ("train", "infer") and col:
                hooks = "all" if int(w[col["hooks"]]) > 0 else "none"
                prec = w[col["prec"]] if "prec" in col else "fp32"
                rows[(w[0], hooks, prec)] = (float(w[col["images/s"]]), float(w[col["cpu_ms"]]))
    return rows


def read_run(run_dir, net):
    """{(mode, hooks): {"lir fp32": (ips, cpu), "lir bf16": ..., "torch fp32": ..., ...}}."""
    out = {}
    for (mode, hooks, prec), v in read_rows(os.path.join(run_dir, f"lir_{net}")).items():
        out.setdefault((mode, hooks), {})[f"lir {prec}"] = v
    for path in sorted(glob.glob(os.path.join(run_dir, f"torch_{net}_*"))):
        for (mode, hooks, prec), v in read_rows(path).items():
            cell = out.setdefault((mode, hooks), {})
            key = f"torch {prec}"
            if key not in cell or v[0] > cell[key][0]:
                cell[key] = v
    return out


def run_figures(cell):
    """One run's figures for one row, or None when a column is missing."""
    need = ("lir fp32", "lir bf16", "torch fp32", "torch bf16")
    if any(k not in cell for k in need):
        return None
    best = max(("lir fp32", "lir bf16"), key=lambda k: cell[k][0])
    f = {k: cell[k][0] for k in need}
    f["best"] = best
    for peer in ("torch fp32", "torch bf16"):
        f[f"ratio {peer}"] = cell[best][0] / cell[peer][0]
        f[f"cpu {peer}"] = cell[peer][1] / cell[best][1]
    return f


def main(run_dirs):
    if not run_dirs:
        sys.exit("usage: bench_table.py RUN_DIR...")
    print(f"# {len(run_dirs)} run(s); each figure is the median over the runs; "
          "ratios = lir best / PyTorch (images/s), cpu = PyTorch CPU time / lir's")
    print(f"{'net':<6} {'mode':<6} {'hooks':<5} {'lir fp32':>9} {'lir bf16':>9} "
          f"{'torch fp32':>10} {'torch bf16':>10} {'x fp32':>7} {'x bf16':>7} "
          f"{'cpu x fp32':>10} {'cpu x bf16':>10}  bars")
    failed = 0
    for net in ("paper", "cifar"):
        per_row = {}
        for d in run_dirs:
            for key, cell in read_run(d, net).items():
                f = run_figures(cell)
                if f:
                    per_row.setdefault(key, []).append(f)
        for (mode, hooks), figs in per_row.items():
            med = {k: statistics.median(f[k] for f in figs)
                   for k in figs[0] if k != "best"}
            bars = []
            for peer, need in BARS.get((net, mode, hooks), []):
                r = med[f"ratio {peer}"]
                bars.append(f"{'ok' if r >= need else 'BELOW'} {need}x {peer.split()[1]}")
                failed += r < need
            print(f"{net:<6} {mode:<6} {hooks:<5} {med['lir fp32']:>9.1f} {med['lir bf16']:>9.1f} "
                  f"{med['torch fp32']:>10.1f} {med['torch bf16']:>10.1f} "
                  f"{med['ratio torch fp32']:>7.2f} {med['ratio torch bf16']:>7.2f} "
                  f"{med['cpu torch fp32']:>10.2f} {med['cpu torch bf16']:>10.2f}  "
                  f"{', '.join(bars)}")
    print(f"# bars below: {failed}")


if __name__ == "__main__":
    main(sys.argv[1:])

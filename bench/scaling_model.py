"""scaling_model.py: the data-parallel scaling model of bench/README.md (not a test).

One step of `mpirun -np N lir train` with global batch B on N nodes of c cores each:
    T(N) = B * t / (N * c)                 compute: forward + backward of B / N images
         + 2 (N - 1) / N * 4 P / bw        the ring allreduce of the P float gradients
         + 2 (N - 1) * alpha               (each process sends and receives 2 (N-1)/N of
                                            them, in 2 (N - 1) messages of latency alpha)
lir's allreduce runs after backward (not overlapped), so the terms add. Speedup S(N) =
T(1) / T(N), efficiency S(N) / N. Printed per cfg, batch, cores and link: T(1), the
allreduce at N = 2 and its limit 8 P / bw, S at 2, 4, 8, 16, 64 nodes, the largest N with
efficiency >= 50 % ("stops scaling") and the N of the highest speedup.

Usage: python3 bench/scaling_model.py [--t-img NAME=MS ...]
Inputs (defaults: measured here, see bench/README.md): P from `lir info CFG`, t (CPU ms
per training image on one core) from `lir bench CFG --mode train --threads 1` (cpu_ms /
batch). The links are assumptions, not measurements.
"""
import sys

CFGS = {  # name: (parameters, CPU ms per training image on one core)
    "cfg/resnet18.cfg": (11181642, 3.77),
    "tests/fixtures/tiny-train.cfg": (5466, 0.59),
}
LINKS = {  # name: (bandwidth bytes/s, latency s)
    "10GbE": (1.25e9, 20e-6),
    "100Gb IB": (12.5e9, 2e-6),
}


def step(n, b, t, c, p, bw, alpha):
    comp = b * t / 1e3 / (n * c)
    ar = 0.0 if n == 1 else 2 * (n - 1) / n * 4 * p / bw + 2 * (n - 1) * alpha
    return comp, ar


def main():
    for a in sys.argv[1:]:
        if a.startswith("--t-img="):
            name, ms = a[len("--t-img="):].split("=")
            CFGS[name] = (CFGS[name][0], float(ms))
    print("| cfg | batch | cores/node | link | T(1) ms | allreduce N=2 / limit ms "
          "| S(2) | S(4) | S(8) | S(16) | S(64) | efficiency >= 50 % up to N | best N (S) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for cfg, (p, t) in CFGS.items():
        for b in (128, 1024):
            for c in (2, 32):
                for link, (bw, alpha) in LINKS.items():
                    t1 = sum(step(1, b, t, c, p, bw, alpha))
                    s = {n: t1 / sum(step(n, b, t, c, p, bw, alpha)) for n in range(1, 4097)}
                    half = max(n for n in s if s[n] / n >= 0.5)
                    best = max(s, key=s.get)
                    ar2 = step(2, b, t, c, p, bw, alpha)[1]
                    print(f"| `{cfg}` | {b} | {c} | {link} | {t1 * 1e3:.1f} | "
                          f"{ar2 * 1e3:.2f} / {8 * p / bw * 1e3:.2f} | "
                          + " | ".join(f"{s[n]:.1f}" for n in (2, 4, 8, 16, 64))
                          + f" | {half} | {best} ({s[best]:.0f}) |")


if __name__ == "__main__":
    main()

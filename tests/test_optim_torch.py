"""test_optim_torch.py: lir's SGD and learning-rate schedules against torch.optim.SGD
and torch's schedulers (CosineAnnealingLR, OneCycleLR, MultiStepLR, PolynomialLR). Runs the
scenarios through `test_optim --trace` (see tests/test_optim.c). Skips when torch
cannot be imported."""
import os
import random
import subprocess
import sys

try:
    import torch
except ImportError as e:
    print(f"SKIP: torch not importable under {sys.executable}: {e}")
    sys.exit(77)

TRACE = os.path.join(os.environ.get("LIR_BUILD", "build"), "tests", "test_optim")
failures = 0


def run_trace(text):
    r = subprocess.run([TRACE, "--trace"], input=text, capture_output=True, text=True,
                       check=True)
    return [float(x) for x in r.stdout.split()]


def close(got, want, what, atol, rtol):
    global failures
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want))
           if abs(g - w) > atol + rtol * abs(w)]
    if len(got) != len(want) or bad:
        failures += 1
        print(f"FAIL {what}: {len(got)} vs {len(want)} values, first mismatches {bad[:3]}")
    else:
        print(f"ok   {what} ({len(want)} values)")


def sgd_case(momentum, wd, nesterov, accumulate, sizes, decays, steps, seed):
    rnd = random.Random(seed)
    init = [[rnd.gauss(0, 1) for _ in range(n)] for n in sizes]
    lrs = [rnd.uniform(0.01, 0.2) for _ in range(steps)]
    grads = [[[rnd.gauss(0, 1) for _ in range(n)] for n in sizes] for _ in range(steps)]
    lines = [f"sgd {momentum} {wd} {int(nesterov)} {accumulate} {len(sizes)}"]
    lines += [f"{n} {d}" for n, d in zip(sizes, decays)]
    lines.append(" ".join(repr(x) for t in init for x in t))
    lines.append(str(steps))
    for s in range(steps):
        lines.append(repr(lrs[s]) + " " + " ".join(repr(x) for t in grads[s] for x in t))
    got = run_trace("\n".join(lines) + "\n")

    params = [torch.tensor(t, dtype=torch.float32, requires_grad=True) for t in init]
    groups = [{"params": [p], "weight_decay": wd if d else 0.0} for p, d in zip(params, decays)]
    opt = torch.optim.SGD(groups, lr=0.1, momentum=momentum, nesterov=nesterov)
    for s in range(steps):
        for g in opt.param_groups:
            g["lr"] = lrs[s]
        for p, g in zip(params, grads[s]):
            # the summed gradient of `accumulate` micro-batches, scaled back by 1/k
            p.grad = torch.tensor(g, dtype=torch.float32) / accumulate
        opt.step()
    want = [x for p in params for x in p.detach().tolist()]
    # lir receives the un-scaled sum; torch the mean: same update
    close(got, want, f"sgd mu={momentum} wd={wd} nesterov={nesterov} k={accumulate}",
          1e-5, 1e-4)


def lr_case(policy, base, total, warmup=0, min_lr=0.0, div=25.0, fdiv=1e4, pct=0.3,
            power=4.0, steps=()):
    text = f"lr {policy} {base} {total} {warmup} {min_lr} {div} {fdiv} {pct} {power} {len(steps)} "
    text += " ".join(f"{s} {c}" for s, c in steps) + "\n"
    got = run_trace(text)
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base, momentum=0.9)
    if policy == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=min_lr)
    elif policy == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=base, total_steps=total, pct_start=pct, div_factor=div,
            final_div_factor=fdiv, cycle_momentum=False)
    elif policy == "poly":
        sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=total, power=power)
    else:
        gamma = steps[0][1]
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, [s for s, _ in steps], gamma)
    want = []
    for _ in range(total):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    close(got, want, f"lr {policy} total={total}", 1e-9, 1e-5)


def main():
    if not os.access(TRACE, os.X_OK):
        print(f"FAIL: {TRACE} not built")
        return 1
    sgd_case(0.9, 5e-4, False, 1, [7, 3, 130], [1, 0, 1], 6, 1)
    sgd_case(0.9, 5e-4, True, 1, [7, 3, 130], [1, 0, 1], 6, 2)
    sgd_case(0.0, 1e-2, False, 1, [5, 9], [1, 1], 4, 3)
    sgd_case(0.8, 1e-3, True, 4, [11, 2], [1, 0], 5, 4)
    sgd_case(0.9, 0.0, False, 1, [70000], [1], 3, 5)
    lr_case("cosine", 0.1, 50)
    lr_case("cosine", 0.1, 37, min_lr=0.001)
    lr_case("onecycle", 0.2, 100)
    lr_case("onecycle", 0.05, 61, div=10.0, fdiv=100.0, pct=0.25)
    lr_case("steps", 0.1, 40, steps=((10, 0.1), (25, 0.1)))
    lr_case("poly", 0.1, 30, power=2.0)
    lr_case("poly", 0.1, 30, power=4.0)
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

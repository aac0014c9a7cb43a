"""test_losses_torch.py: PyTorch autograd is the oracle for lir's hook losses
(src/nn/energy.c, definitions in energy.h): the energy hinge of Liu et al. 2020 at
10 logits with their CIFAR-10 margins, the two-sided band at a 4,096-value
intermediate point with margins calibrated from the batch's ID energies by lir's rule,
and Outlier Exposure at the logits. For each, R and lambda * dR/da from
build/tests/test_hook --loss must match torch's value and gradient, and every case
must have active terms on both sides of the batch."""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"SKIP: torch/numpy not importable under /usr/bin/python3 ({e})")
    sys.exit(77)

BUILD = os.environ.get("LIR_BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "test_hook")
torch.set_default_dtype(torch.float64)


def relu2(x):
    return torch.relu(x) ** 2


def torch_loss(kind, a, out, lam, m):
    """R of one kind on activations a [B][S] (float64, requires grad); m: the four
    margins (m_in_lo, m_in, m_out_lo, m_out)."""
    e = -torch.logsumexp(a, dim=1)
    m_in_lo, m_in, m_out_lo, m_out = m
    if kind == "oe":
        # Hendrycks et al.: CE against the uniform distribution over the K logits
        r = -(torch.log_softmax(a[out], dim=1).mean(dim=1)).mean()
    elif kind == "energy":
        r = relu2(e[~out] - m_in).mean() + relu2(m_out - e[out]).mean()
    else:
        r = (relu2(e[~out] - m_in) + relu2(m_in_lo - e[~out])).mean() + \
            relu2(torch.minimum(e[out] - m_out_lo, m_out - e[out])).mean()
    return r, e


def band_margins(e_in, spread=1.0):
    """lir's calibration rule (energy.h hook_reg_calibrate) with the median as centre."""
    q = np.quantile(e_in, [0.1, 0.5, 0.9])
    s = max(q[2] - q[0], 1e-3 * (abs(q[1]) + 1))
    return (q[1] - s / 2, q[1] + s / 2, q[1] - s / 2 - spread * s, q[1] + s / 2 + spread * s)


def band_branches(e, out, m):
    """Which branches of the band loss the batch exercises (all must be)."""
    m_in_lo, m_in, m_out_lo, m_out = m
    ei, eo = e[~out], e[out]
    inside = (eo > m_out_lo) & (eo < m_out)
    nearer_lo = eo - m_out_lo < m_out - eo
    return {"ID above": (ei > m_in).any(), "ID below": (ei < m_in_lo).any(),
            "ID inside": ((ei > m_in_lo) & (ei < m_in)).any(),
            "outlier nearer lower edge": (inside & nearer_lo).any(),
            "outlier nearer upper edge": (inside & ~nearer_lo).any(),
            "outlier outside": (~inside).any()}


def run_case(tmp, kind, a, out, lam, m):
    ain, oin, res = (os.path.join(tmp, n) for n in ("a.bin", "o.bin", "r.bin"))
    a.astype("<f4").tofile(ain)
    out.astype(np.uint8).tofile(oin)
    b, s = a.shape
    cmd = [TOOL, "--loss", kind, repr(lam)] + [repr(float(v)) for v in m] + \
          [str(b), str(s), ain, oin, res]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {kind}: {TOOL} --loss: {r.stderr}")
        return 1
    got = np.fromfile(res, dtype="<f4")
    at = torch.tensor(a.astype(np.float32).astype(np.float64), requires_grad=True)
    ot = torch.tensor(out)
    rt, e = torch_loss(kind, at, ot, lam, m)
    (lam * rt).backward()
    want = at.grad.numpy().reshape(-1)
    bad = 0
    if not abs(got[0] - rt.item()) <= 1e-5 + 1e-4 * abs(rt.item()):
        print(f"FAIL {kind}: R lir {got[0]:.8g}, torch {rt.item():.8g}")
        bad += 1
    err = np.abs(got[1:] - want).max() / (np.abs(want).max() + 1e-12)
    if not err < 1e-4:
        print(f"FAIL {kind}: gradient max difference {err:.3g} of its largest value")
        bad += 1
    # both sides of the batch take part (the gradient of every side is non-zero)
    g = got[1:].reshape(b, s)
    for side, mask in (("ID", ~out), ("outliers", out)):
        if kind == "oe" and side == "ID":
            if np.abs(g[mask]).max() != 0:
                print("FAIL oe: ID samples have a gradient")
                bad += 1
            continue
        if not np.abs(g[mask]).max() > 0:
            print(f"FAIL {kind}: no active term among the {side}")
            bad += 1
    print(f"{kind}: R {got[0]:.6g} (torch {rt.item():.6g}), gradient difference {err:.2g}, "
          f"{bad} failures")
    return bad


def main():
    rng = np.random.default_rng(3)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="lir_test_losses_") as tmp:
        # Liu et al.'s fixed margins m_in -23, m_out -5 at 10 logits, with logits
        # scaled so that the batch has energies on both sides of each margin
        out = np.array([0] * 8 + [1] * 16, dtype=bool)
        logits = rng.normal(0, 1, (24, 10)) * 4
        logits[~out, 3] += rng.uniform(10, 30, 8)
        logits[out] += rng.uniform(-4, 12, (16, 1))
        bad += run_case(tmp, "energy", logits, out, 0.1, (0, -23.0, 0, -5.0))
        # band at an intermediate point (64 x 8 x 8), margins from the ID energies
        out = np.array([0, 1] * 8, dtype=bool)
        # per-sample shifts c move a sample's energy by -c (about -9.4 - c here): ID
        # energies spread past both band edges, outliers on every side of the outer ones
        shift = np.zeros(16)
        shift[~out] = [-3, -1, -0.5, 0, 0.3, 0.6, 1, 3.5]
        shift[out] = [4.1, -3.9, 6.6, -7.4, -0.4, 1.6, 10.6, -9.4]
        act = rng.normal(0, 1.5, (16, 4096)) + shift[:, None]
        e = -np.log(np.exp(act.astype(np.float32).astype(np.float64)).sum(1))
        m = band_margins(e[~out])
        for what, hit in band_branches(e, out, m).items():
            if not hit:
                print(f"FAIL band: the test batch has no {what}")
                bad += 1
        bad += run_case(tmp, "band", act, out, 0.01, m)
        # Outlier Exposure at 10 logits
        out = np.array([0, 0, 1, 1, 1, 0, 1, 1], dtype=bool)
        bad += run_case(tmp, "oe", rng.normal(0, 3, (8, 10)), out, 0.5, (0, 0, 0, 0))
    sys.exit(1 if bad else 0)


main()

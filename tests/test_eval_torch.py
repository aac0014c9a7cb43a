"""test_eval_torch.py: `lir eval` on cfg/resnet18.cfg against torchvision's ResNet-18
with forward hooks (the method's reference implementation, docs/method.md sections 1-2).
Random torchvision weights (BN statistics randomised) are written in Darknet layout by
bench/eval_torch_ref.py; tiny CIFAR-10 and MNIST files in the official formats go in a
temp dir. Checks: lir's 41 point names equal torchvision's module names in network order,
and every saved per-sample energy (ID CIFAR-10 and OOD MNIST, which exercises the
28->32 bilinear resize and the gray->RGB copy) equals -logsumexp of the hooked torch
activation; the raw AUROC, AUPR-in/out and FPR95 (OOD positive) in results.json equal scikit-learn's
on lir's saved energies, and the AUROC is close to scikit-learn's on the torch energies;
and network copies run side by side (--threads 3) give the same energies as one (--threads 1)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    import torchvision  # noqa: F401
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)
sys.path.insert(0, os.path.join(root, "bench"))
import eval_torch_ref as ref  # noqa: E402

lir = os.path.abspath(os.environ.get("LIR", os.path.join(root, "lir")))
rng = np.random.default_rng(5)
tmp = tempfile.mkdtemp(prefix="lir_eval_torch_")
fails = 0


def check(cond, msg):
    global fails
    if not cond:
        fails += 1
        print("FAIL", msg)


try:
    torch.set_num_threads(1)
    w = os.path.join(tmp, "r18.weights")
    ref.write_weights(w, seed=3)
    cdir = os.path.join(tmp, "data", "cifar10", "cifar-10-batches-bin")
    mdir = os.path.join(tmp, "data", "mnist")
    os.makedirs(cdir)
    os.makedirs(mdir)

    def cifar(path, n):
        rec = np.zeros((n, 3073), np.uint8)
        rec[:, 0] = np.arange(n) % 10
        rec[:, 1:] = rng.integers(0, 256, (n, 3072))
        rec.tofile(path)
        return rec

    for i in range(1, 6):
        cifar(os.path.join(cdir, f"data_batch_{i}.bin"), 3)
    test = cifar(os.path.join(cdir, "test_batch.bin"), 24)
    n_m = 20
    mimg = (rng.integers(0, 256, (n_m, 28, 28)) * (rng.random((n_m, 28, 28)) < 0.3)).astype(np.uint8)
    with open(os.path.join(mdir, "t10k-images-idx3-ubyte"), "wb") as f:
        f.write(np.array([0x803, n_m, 28, 28], ">u4").tobytes() + mimg.tobytes())
    with open(os.path.join(mdir, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(np.array([0x801, n_m], ">u4").tobytes() + (np.arange(n_m) % 10).astype(np.uint8).tobytes())

    def lir_eval(out, threads):
        r = subprocess.run([lir, "eval", "--cfg", os.path.join(root, "cfg", "resnet18.cfg"),
                            "--weights", w, "--data", os.path.join(tmp, "data"), "--out", "mnist",
                            "--holdout", "5", "--batch", "16", "--save-energies", "--plots=0",
                            "--threads", str(threads), "--outdir", out],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"lir eval --threads {threads} failed: {r.stderr}")

    # 3 network copies side by side (the 24 test images are 2 batches of 16: one copy idles)
    # and one copy: the same energies to the last digit
    out, out1 = os.path.join(tmp, "out"), os.path.join(tmp, "out1")
    lir_eval(out, 3)
    lir_eval(out1, 1)
    for f in ("energies_cifar10_test.csv", "energies_mnist_test.csv", "energies_cifar10_holdout.csv"):
        with open(os.path.join(out, f), "rb") as a, open(os.path.join(out1, f), "rb") as b:
            check(a.read() == b.read(), f"{f}: --threads 3 and --threads 1 differ")

    m = ref.model()
    ref.load_weights(m, w)
    names, energies = ref.hooked(m)
    mean = torch.tensor(ref.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(ref.STD).view(1, 3, 1, 1)
    xc = torch.from_numpy(test[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    xm = torch.from_numpy(mimg.astype(np.float32) / 255.0).view(-1, 1, 28, 28)
    xm = F.interpolate(xm, size=(32, 32), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    ec, _, _ = ref.score(m, energies, [(xc - mean) / std])
    em, _, _ = ref.score(m, energies, [(xm - mean) / std])

    lir_e = {}
    for key, want in (("cifar10", ec), ("mnist", em)):
        path = os.path.join(out, f"energies_{key}_test.csv")
        with open(path) as f:
            header = f.readline().strip().split(",")
        check(header[2:2 + len(names)] == names, f"{key}: point names {header[2:45]} != {names}")
        got = np.loadtxt(path, delimiter=",", skiprows=1)[:, 2:2 + len(names)]
        lir_e[key] = got
        check(got.shape == want.shape, f"{key}: shape {got.shape} != {want.shape}")
        if got.shape == want.shape:
            rel = np.abs(got - want) / np.maximum(1.0, np.abs(want))
            k = np.unravel_index(np.argmax(rel), rel.shape)
            check(rel.max() < 2e-4, f"{key}: energy differs by {rel.max():.3g} at sample {k[0]} "
                  f"point {names[k[1]]}: lir {got[k]} torch {want[k]}")
    check(len(names) == 41, f"{len(names)} points")

    with open(os.path.join(out, "results.json")) as f:
        res = json.load(f)
    pts = res["ood"][0]["points"]
    check([p["name"] for p in pts] == names, "JSON point order")
    y = np.r_[np.zeros(len(ec)), np.ones(len(em))]
    for k, p in enumerate(pts):
        # sklearn on lir's own saved energies must match exactly; on torch's closely
        a = roc_auc_score(y, np.r_[lir_e["cifar10"][:, k], lir_e["mnist"][:, k]])
        check(abs(p["auroc"] - a) < 1e-12, f"{p['name']}: AUROC {p['auroc']} != sklearn {a}")
        s_lir = np.r_[lir_e["cifar10"][:, k], lir_e["mnist"][:, k]]
        ap_out = average_precision_score(y, s_lir)
        ap_in = average_precision_score(1 - y, -s_lir)
        fpr, tpr, _ = roc_curve(y, s_lir, drop_intermediate=False)
        fpr95 = fpr[np.argmax(tpr >= 0.95)]
        for key, want in (("aupr_out", ap_out), ("aupr_in", ap_in), ("fpr95_ood", fpr95)):
            check(abs(p[key] - want) < 1e-9, f"{p['name']}: {key} {p[key]} != sklearn {want}")
        at = roc_auc_score(y, np.r_[ec[:, k], em[:, k]])
        check(abs(p["auroc"] - at) < 0.01, f"{p['name']}: AUROC {p['auroc']} vs torch {at}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"test_eval_torch: {fails} failed")
sys.exit(1 if fails else 0)

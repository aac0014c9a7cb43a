"""test_convert.py: scripts/torch_darknet.py, both directions. A seeded torchvision
ResNet-18 of each stem (randomised BN statistics, 100 classes for one of them) goes to
.weights and back with every tensor bit for bit; the shipped weights go to a state dict
and back to the same bytes; lir's logits (tests/test_net --forward, the final point)
on a few CIFAR-10 test images (random tensors without $LIR_DATA) equal torchvision's on
the converted state dict; a checkpoint that is not a ResNet-18 is refused with a
message naming what is missing."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torchvision  # noqa: F401
except ImportError as e:
    print(f"SKIP: torch/torchvision not importable under /usr/bin/python3 ({e})")
    sys.exit(77)

sys.path.insert(0, "scripts")
import torch_darknet  # noqa: E402

BUILD = os.environ.get("LIR_BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "test_net")
SHIPPED = "weights/resnet18-cifar10.weights"
bad = 0


def fail(msg):
    global bad
    print(f"FAIL {msg}")
    bad += 1


def convert(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = torch_darknet.main(list(argv))
    return rc, out.getvalue() + err.getvalue()


def random_model(cifar, classes, seed):
    torch.manual_seed(seed)
    m = torch_darknet.torch_model(cifar, classes)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.2)
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


def check_torch_round_trip(tmp, cifar, classes):
    m = random_model(cifar, classes, seed=classes)
    sd = m.state_dict()
    pt, w, back = (os.path.join(tmp, n) for n in ("m.pt", "m.weights", "back.pt"))
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, pt)
    rc, log = convert("to-darknet", pt, w)
    if rc:
        return fail(f"to-darknet: {log}")
    cfg = os.path.splitext(w)[0] + ".cfg"
    rc, log = convert("to-torch", cfg, w, back)
    if rc:
        return fail(f"to-torch: {log}")
    got = torch.load(back)
    n_exact = 0
    for k, t in sd.items():
        want = torch.zeros_like(t) if k.endswith("num_batches_tracked") else t
        if k not in got or got[k].dtype != want.dtype or not torch.equal(got[k], want):
            fail(f"round trip (cifar={cifar}, {classes} classes): {k} differs")
        else:
            n_exact += 1
    if set(got) != set(sd):
        fail(f"round trip: keys differ: {sorted(set(got) ^ set(sd))[:5]}")
    print(f"torch -> darknet -> torch, {'CIFAR' if cifar else 'ImageNet'} stem, {classes} "
          f"classes: {n_exact} of {len(sd)} tensors identical")
    return cfg, w, m


def check_darknet_round_trip(tmp):
    pt, w = os.path.join(tmp, "shipped.pt"), os.path.join(tmp, "shipped.weights")
    data = open(SHIPPED, "rb").read()
    seen = torch_darknet.HEADER.unpack_from(data)[3]
    rc, log = convert("to-torch", "cfg/resnet18.cfg", SHIPPED, pt)
    rc = rc or convert("to-darknet", pt, w, "--seen", str(seen))[0]
    if rc:
        return fail(f"shipped weights: {log}")
    if open(w, "rb").read() != data:
        fail(f"{SHIPPED} -> torch -> darknet: bytes differ")
    else:
        print(f"{SHIPPED} -> torch -> darknet: {len(data)} bytes identical")
    return pt


def images(n):
    """n CIFAR-10 test images normalised as lir does, or random tensors."""
    path = os.path.join(os.environ.get("LIR_DATA", "data"), "cifar10", "cifar-10-batches-bin",
                        "test_batch.bin")
    if not os.path.exists(path):
        print(f"(no {path}: random inputs)")
        return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    raw = np.fromfile(path, dtype=np.uint8, count=n * 3073).reshape(n, 3073)[:, 1:]
    x = raw.reshape(n, 3, 32, 32).astype(np.float32) / 255
    mean = np.array([0.4914, 0.4822, 0.4465], np.float32).reshape(1, 3, 1, 1)
    std = np.array([0.2470, 0.2435, 0.2616], np.float32).reshape(1, 3, 1, 1)
    return torch.from_numpy((x - mean) / std)


def check_logits(tmp, cfg, weights, model, what, n=4):
    x = images(n)
    xin, out = os.path.join(tmp, "x.bin"), os.path.join(tmp, "out.bin")
    x.numpy().astype("<f4").tofile(xin)
    r = subprocess.run([TOOL, "--forward", cfg, weights, xin, out, str(n)], capture_output=True,
                       text=True)
    if r.returncode:
        return fail(f"{TOOL} --forward: {r.stderr}")
    with torch.no_grad():
        want = model(x).numpy()
    got = np.fromfile(out, dtype="<f4")[-want.size:].reshape(want.shape)  # fc is the last point
    err = np.abs(got - want).max() / np.abs(want).max()
    if not err < 1e-4:
        fail(f"{what}: lir and torch logits differ by {err:.3g} of the largest")
    if (got.argmax(1) != want.argmax(1)).any():
        fail(f"{what}: predicted classes differ: lir {got.argmax(1)}, torch {want.argmax(1)}")
    print(f"{what}: logits of {n} images agree to {err:.2g} (relative), classes "
          f"{want.argmax(1).tolist()}")


def check_refusal(tmp):
    m = random_model(False, 10, seed=3)
    sd = m.state_dict()
    del sd["layer2.0.downsample.1.running_var"]
    pt = os.path.join(tmp, "broken.pt")
    torch.save(sd, pt)
    rc, log = convert("to-darknet", pt, os.path.join(tmp, "broken.weights"))
    if rc != 1 or "layer2.0.downsample.1.running_var" not in log:
        fail(f"a checkpoint missing a tensor: exit {rc}, message {log!r}")
    if os.path.exists(os.path.join(tmp, "broken.weights")):
        fail("a refused checkpoint still wrote its .weights")
    rc, log = convert("to-torch", "cfg/resnet18.cfg", pt, os.path.join(tmp, "x.pt"))
    if rc != 1 or "do not fit" not in log and "header" not in log:
        fail(f"a state dict given as .weights: exit {rc}, message {log!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="lir_test_convert_") as tmp:
        check_torch_round_trip(tmp, False, 100)
        res = check_torch_round_trip(tmp, True, 10)
        if res:
            check_logits(tmp, *res, "CIFAR stem, random weights via to-darknet")
        if os.path.exists(SHIPPED):
            pt = check_darknet_round_trip(tmp)
            if pt:
                model = torch_darknet.torch_model(False, 10)
                model.load_state_dict(torch.load(pt))
                check_logits(tmp, "cfg/resnet18.cfg", SHIPPED, model.eval(),
                             f"{SHIPPED} via to-torch")
        else:
            fail(f"{SHIPPED} missing")
        check_refusal(tmp)
    print(f"test_convert: {bad} failure(s)")
    sys.exit(1 if bad else 0)


main()

"""test_torch.py: torchvision's resnet18 is the oracle for cfg/resnet18.cfg and
cfg/resnet18-cifar.cfg. Random torchvision weights (BN affine parameters and running
statistics randomised, eval mode) are written in Darknet .weights order; lir's
inference values at all 41 default points must match the outputs of the torchvision
modules of the same name (conv, bn before ReLU / residual addition, fc)."""
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print(f"SKIP: torch/torchvision not importable under /usr/bin/python3 ({e})")
    sys.exit(77)

BUILD = os.environ.get("LIR_BUILD", "build")
TOOL = os.path.join(BUILD, "tests", "test_net")


def darknet_weights(model, path):
    """conv(+bn) pairs in the cfg's order, then fc."""
    with open(path, "wb") as f:
        f.write(struct.pack("<iiiQ", 0, 2, 0, 0))

        def conv_bn(conv, bn):
            for t in (bn.bias, bn.weight, bn.running_mean, bn.running_var, conv.weight):
                f.write(t.detach().numpy().astype("<f4").tobytes())

        conv_bn(model.conv1, model.bn1)
        for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
            for blk in stage:
                conv_bn(blk.conv1, blk.bn1)
                conv_bn(blk.conv2, blk.bn2)
                if blk.downsample is not None:
                    conv_bn(blk.downsample[0], blk.downsample[1])
        for t in (model.fc.bias, model.fc.weight):
            f.write(t.detach().numpy().astype("<f4").tobytes())


def check(cfg, cifar, tmp, batch=3):
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    if cifar:
        model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    names, outs = [], {}
    for name, m in model.named_modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear)):
            names.append(name)
            # clone: torchvision applies ReLU and the residual addition in place
            m.register_forward_hook(lambda mod, i, o, name=name: outs.__setitem__(name, o.clone()))
    x = torch.randn(batch, 3, 32, 32)
    with torch.no_grad():
        model(x)
    w, xin, out = (os.path.join(tmp, n) for n in ("w.weights", "x.bin", "out.bin"))
    darknet_weights(model, w)
    x.numpy().astype("<f4").tofile(xin)
    r = subprocess.run([TOOL, "--forward", cfg, w, xin, out, str(batch)], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: {TOOL} --forward: {r.stderr}")
        return 1
    got = np.fromfile(out, dtype="<f4")
    off, bad = 0, 0
    for name in names:
        want = outs[name].reshape(batch, -1).numpy()
        n = want.size
        g = got[off:off + n].reshape(batch, -1)
        off += n
        err = np.abs(g - want).max() / (np.abs(want).max() + 1e-6)
        if not err < 1e-4:
            print(f"FAIL {cfg}: point {name}: max relative difference {err:.3g}")
            bad += 1
    if off != got.size:
        print(f"FAIL {cfg}: lir wrote {got.size} values, torchvision's 41 points have {off}")
        bad += 1
    print(f"{cfg}: {len(names)} points compared, {bad} differ")
    return bad


def main():
    with tempfile.TemporaryDirectory(prefix="lir_test_torch_") as tmp:
        bad = check("cfg/resnet18.cfg", False, tmp) + check("cfg/resnet18-cifar.cfg", True, tmp)
    sys.exit(1 if bad else 0)


main()

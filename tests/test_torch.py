"""test_torch.py: torchvision's resnet18 is the oracle for cfg/resnet18.cfg and
cfg/resnet18-cifar.cfg. Random torchvision weights (BN affine parameters and running
statistics randomised, eval mode) are written in Darknet .weights order; lir's
inference values at all 41 default points must match the outputs of the torchvision
modules of the same name (conv, bn before ReLU / residual addition, fc). In training
mode, CE plus R-EBO hooks at six points (inliers and outliers, margins active and
inactive; the hinge at five, the two-sided band at layer3.1.bn1): lir's loss terms and
every parameter gradient must match autograd's."""
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


def conv_bn_pairs(model):
    pairs = [(model.conv1, model.bn1)]
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        for blk in stage:
            pairs += [(blk.conv1, blk.bn1), (blk.conv2, blk.bn2)]
            if blk.downsample is not None:
                pairs.append((blk.downsample[0], blk.downsample[1]))
    return pairs


def check_training(tmp, batch=6):
    """Training mode (batch statistics): CE on the labelled samples plus R-EBO at
    several points; every parameter gradient of lir against torch autograd."""
    torch.manual_seed(1)
    model = torchvision.models.resnet18(num_classes=10)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
            if isinstance(m, torch.nn.ReLU):
                m.inplace = False
    model.train()
    hooked = {"bn1": 0.05, "layer1.0.conv2": 0.1, "layer2.0.downsample.1": 0.2,
              "layer3.1.bn1": 0.3, "layer4.1.conv2": 0.1, "fc": 0.5}
    energies = {}

    def hook(mod, i, o, name):
        energies[name] = -torch.logsumexp(o.reshape(o.shape[0], -1), dim=1)
        return o.clone()  # the block adds the residual in place

    mods = dict(model.named_modules())
    for name in hooked:
        mods[name].register_forward_hook(lambda m, i, o, name=name: hook(m, i, o, name))
    x = torch.randn(batch, 3, 32, 32)
    labels = torch.tensor([3, -1, 0, 7, -1, 9], dtype=torch.int32)
    out = labels < 0
    with torch.no_grad():
        model(x)

    def mid(v):
        v = sorted(v.tolist())
        return 0.5 * (v[(len(v) - 1) // 2] + v[len(v) // 2])

    margins = {n: (mid(energies[n][~out]), mid(energies[n][out])) for n in hooked}
    # the band: the two middle ID energies bound it (one ID sample below, one above), the
    # outer interval reaches past every energy (both outliers inside it)
    band = "layer3.1.bn1"
    ein, eall = sorted(energies[band][~out].tolist()), energies[band].tolist()
    band_m = (min(eall) - 1.0, ein[1], ein[2], max(eall) + 1.0)  # m_out_lo, m_in_lo, m_in, m_out
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits[~out], labels[~out].long())
    regs = []
    for n, lam in hooked.items():
        m_in, m_out = margins[n]
        e = energies[n]
        if n == band:
            olo, ilo, ihi, ohi = band_m
            r = (torch.relu(e[~out] - ihi) ** 2 + torch.relu(ilo - e[~out]) ** 2).mean() + \
                (torch.relu(torch.minimum(e[out] - olo, ohi - e[out])) ** 2).mean()
        else:
            r = (torch.relu(e[~out] - m_in) ** 2).mean() + (torch.relu(m_out - e[out]) ** 2).mean()
        regs.append(r.item())
        loss = loss + lam * r
    loss.backward()
    ce = torch.nn.functional.cross_entropy(logits[~out], labels[~out].long()).item()

    w, xin, lab, res = (os.path.join(tmp, n) for n in ("g.weights", "gx.bin", "gl.bin", "g.bin"))
    darknet_weights(model, w)
    x.numpy().astype("<f4").tofile(xin)
    labels.numpy().astype("<i4").tofile(lab)
    cmd = [TOOL, "--grad", "cfg/resnet18.cfg", w, xin, lab, res, str(batch)]
    for n, lam in hooked.items():
        if n == band:
            cmd += ["band:" + n, repr(lam), f"{band_m[1]!r},{band_m[2]!r}", f"{band_m[0]!r},{band_m[3]!r}"]
        else:
            cmd += [n, repr(lam), repr(margins[n][0]), repr(margins[n][1])]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: {TOOL} --grad: {r.stderr}")
        return 1
    got = np.fromfile(res, dtype="<f4")
    bad = 0
    for what, g, t in [("CE", got[0], ce)] + [(f"R {n}", got[1 + k], regs[k]) for k, n in enumerate(hooked)]:
        if not abs(g - t) <= 1e-4 + 1e-3 * abs(t):
            print(f"FAIL training: {what}: lir {g:.7g}, torch {t:.7g}")
            bad += 1
    if min(regs) <= 0:
        print(f"FAIL training: a hook has no active margin ({regs})")
        bad += 1
    tensors = []
    for i, (conv, bn) in enumerate(conv_bn_pairs(model)):
        tensors += [(f"conv {i} BN beta", bn.bias.grad), (f"conv {i} BN gamma", bn.weight.grad),
                    (f"conv {i} weights", conv.weight.grad)]
    tensors += [("fc.bias", model.fc.bias.grad), ("fc.weight", model.fc.weight.grad)]
    off, worst = 1 + len(hooked), 0.0
    for k, (what, t) in enumerate(tensors):
        t = t.reshape(-1).numpy()
        g = got[off:off + t.size]
        off += t.size
        err = np.abs(g - t).max() / (np.abs(t).max() + 1e-12)
        worst = max(worst, err)
        if not err < 2e-3:
            print(f"FAIL training: gradient tensor {k} ({what}, {t.size} values): "
                  f"max difference {err:.3g} of its largest value")
            bad += 1
    if off != got.size:
        print(f"FAIL training: lir wrote {got.size} values, expected {off}")
        bad += 1
    print(f"training: {len(tensors)} gradient tensors compared, worst relative difference "
          f"{worst:.2g}, {bad} failures")
    return bad


def main():
    with tempfile.TemporaryDirectory(prefix="lir_test_torch_") as tmp:
        bad = check("cfg/resnet18.cfg", False, tmp) + check("cfg/resnet18-cifar.cfg", True, tmp)
        bad += check_training(tmp)
    sys.exit(1 if bad else 0)


main()

#!/usr/bin/python3
"""Converts ResNet-18 weights between a torchvision state dict and lir's Darknet
.weights, in both directions, bit for bit.

usage:
  scripts/torch_darknet.py to-darknet CKPT.pt OUT.weights [--cfg CFG] [--seen N]
      a torchvision resnet18 state dict (plain, or under "state_dict" / "model" /
      "net", "module." prefixes allowed) to OUT.weights, plus OUT.cfg: the matching
      shipped cfg (cfg/resnet18.cfg for the 7x7 ImageNet stem, cfg/resnet18-cifar.cfg for
      the 3x3 CIFAR stem, chosen from conv1's shape unless --cfg is given) with the
      classifier's outputs set to the checkpoint's classes. --seen: the header's image
      count (default 0).
  scripts/torch_darknet.py to-torch CFG IN.weights OUT.pt
      lir's .weights for CFG to a state dict that torchvision.models.resnet18 (with a
      3x3 stem and no max-pool for the CIFAR cfg) loads with load_state_dict.

The order of the tensors is read from the cfg: each [convolutional] layer's name= is
the torchvision module of its convolution and bn_name= the one of its batch norm;
[connected] name= is the linear layer. Darknet stores per convolution with batch norm:
BN bias, BN weight, running mean, running variance, then the convolution weights
(OIHW); a linear layer: bias, then weights (out x in); all float32 little-endian after
a 20-byte header (major 0, minor 2, revision 0, uint64 images seen). BN's
num_batches_tracked has no place in the format and comes back as 0.
"""
import argparse
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = struct.Struct("<iiiQ")


class ConvertError(Exception):
    pass


def cfg_tensors(cfg_path):
    """[(torch key, kind)] in the order of the .weights file."""
    sections, cur = [], None
    with open(cfg_path) as f:
        for no, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("["):
                cur = {"type": line.strip("[]"), "line": no}
                sections.append(cur)
            elif "=" in line and cur is not None:
                k, v = line.split("=", 1)
                cur[k.strip()] = v.strip()
    keys = []
    for s in sections:
        if s["type"] in ("convolutional", "conv"):
            if "name" not in s:
                raise ConvertError(f"{cfg_path}:{s['line']}: [convolutional] without name=")
            if s.get("batch_normalize", "0") == "1":
                bn = s.get("bn_name")
                if not bn:
                    raise ConvertError(f"{cfg_path}:{s['line']}: batch_normalize=1 without bn_name=")
                keys += [(f"{bn}.bias", "bn"), (f"{bn}.weight", "bn"),
                         (f"{bn}.running_mean", "bn"), (f"{bn}.running_var", "bn")]
            else:
                keys.append((f"{s['name']}.bias", "bias"))
            keys.append((f"{s['name']}.weight", "conv"))
        elif s["type"] in ("connected", "conn"):
            if "name" not in s or s.get("batch_normalize", "0") == "1":
                raise ConvertError(f"{cfg_path}:{s['line']}: [connected] needs name= and no batch norm")
            keys += [(f"{s['name']}.bias", "fc"), (f"{s['name']}.weight", "fc")]
    return keys


def torch_model(cifar, classes):
    import torch
    import torchvision
    m = torchvision.models.resnet18(num_classes=classes)
    if cifar:
        m.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        m.maxpool = torch.nn.Identity()
    return m


def load_state_dict(path):
    import torch
    sd = torch.load(path, map_location="cpu", weights_only=True)
    for k in ("state_dict", "model", "net"):
        if isinstance(sd, dict) and k in sd and isinstance(sd[k], dict):
            sd = sd[k]
    if not isinstance(sd, dict):
        raise ConvertError(f"{path}: not a state dict (a {type(sd).__name__})")
    return {re.sub(r"^module\.", "", k): v for k, v in sd.items()}


def to_darknet(ckpt, out, cfg=None, seen=0):
    sd = load_state_dict(ckpt)
    if "conv1.weight" not in sd or "fc.weight" not in sd:
        raise ConvertError(f"{ckpt}: no conv1.weight / fc.weight: not a torchvision ResNet-18")
    k = sd["conv1.weight"].shape[-1]
    if cfg is None:
        if k not in (3, 7):
            raise ConvertError(f"{ckpt}: conv1 is {k}x{k}; lir's cfgs have 7x7 or 3x3 (give --cfg)")
        cfg = os.path.join(ROOT, "cfg", "resnet18.cfg" if k == 7 else "resnet18-cifar.cfg")
    keys = cfg_tensors(cfg)
    classes = sd["fc.weight"].shape[0]
    want = {n for n, _ in keys}
    have = {n for n in sd if not n.endswith("num_batches_tracked")}
    if want != have:
        raise ConvertError(f"{ckpt}: tensors do not match {cfg}: missing {sorted(want - have)[:5]}, "
                           f"unexpected {sorted(have - want)[:5]}")
    ref = torch_model(k == 3, classes).state_dict()
    for n, _ in keys:
        if tuple(sd[n].shape) != tuple(ref[n].shape):
            raise ConvertError(f"{ckpt}: {n} has shape {tuple(sd[n].shape)}, "
                               f"torchvision's resnet18 {tuple(ref[n].shape)}")
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(HEADER.pack(0, 2, 0, seen))
        for n, _ in keys:
            f.write(sd[n].detach().cpu().numpy().astype("<f4").tobytes())
    os.replace(tmp, out)
    out_cfg = os.path.splitext(out)[0] + ".cfg"
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r"(\[connected\][^\[]*?output=)\d+", rf"\g<1>{classes}", text)
    with open(out_cfg + ".tmp", "w") as f:
        f.write(f"# converted from {os.path.basename(ckpt)} by scripts/torch_darknet.py "
                f"({classes} classes); otherwise {os.path.relpath(cfg, ROOT)}\n" + text)
    os.replace(out_cfg + ".tmp", out_cfg)
    print(f"wrote {out} ({len(keys)} tensors, {classes} classes) and {out_cfg}")
    return out_cfg


def cfg_is_cifar(cfg):
    """The first convolution is 3x3 (CIFAR stem) rather than 7x7."""
    with open(cfg) as f:
        text = f.read()
    m = re.search(r"\[convolutional\][^\[]*?size=(\d+)", text)
    if not m:
        raise ConvertError(f"{cfg}: no [convolutional] layer")
    return m.group(1) == "3"


def to_torch(cfg, weights, out):
    import numpy as np
    import torch
    keys = cfg_tensors(cfg)
    data = open(weights, "rb").read()
    if len(data) < HEADER.size:
        raise ConvertError(f"{weights}: {len(data)} bytes, shorter than the 20-byte header")
    major, minor, _, _ = HEADER.unpack_from(data)
    if (major, minor) != (0, 2):
        raise ConvertError(f"{weights}: header version {major}.{minor}, expected 0.2")
    vals = np.frombuffer(data, dtype="<f4", offset=HEADER.size)
    template = torch_model(cfg_is_cifar(cfg), 1).state_dict()
    fixed = sum(template[n].numel() for n, kind in keys if kind != "fc")
    rest = vals.size - fixed  # the linear layer: classes * (512 + 1)
    if rest <= 0 or rest % 513:
        raise ConvertError(f"{weights}: {len(data)} bytes do not fit {cfg} for any number of classes")
    model = torch_model(cfg_is_cifar(cfg), rest // 513)
    ref = model.state_dict()
    sd, off = {}, 0
    for n, _ in keys:
        t = ref[n]
        sd[n] = torch.from_numpy(vals[off:off + t.numel()].astype("float32").reshape(t.shape))
        off += t.numel()
    for n, t in ref.items():
        if n.endswith("num_batches_tracked"):
            sd[n] = torch.zeros_like(t)
    model.load_state_dict(sd, strict=True)
    torch.save(model.state_dict(), out + ".tmp")
    os.replace(out + ".tmp", out)
    print(f"wrote {out} ({len(keys)} tensors, {rest // 513} classes, "
          f"{'CIFAR' if cfg_is_cifar(cfg) else 'ImageNet'} stem)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("to-darknet", help="torchvision state dict -> .weights + .cfg")
    a.add_argument("ckpt")
    a.add_argument("out")
    a.add_argument("--cfg", help="cfg whose names give the order (default: from conv1's shape)")
    a.add_argument("--seen", type=int, default=0, help="images seen, for the header (default 0)")
    b = sub.add_parser("to-torch", help=".weights -> torchvision state dict")
    b.add_argument("cfg")
    b.add_argument("weights")
    b.add_argument("out")
    args = p.parse_args(argv)
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"torch_darknet.py: needs torch and torchvision ({e}); "
              "scripts/install_deps.sh installs them", file=sys.stderr)
        return 1
    try:
        if args.cmd == "to-darknet":
            to_darknet(args.ckpt, args.out, args.cfg, args.seen)
        else:
            to_torch(args.cfg, args.weights, args.out)
    except (ConvertError, OSError) as e:
        print(f"torch_darknet.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

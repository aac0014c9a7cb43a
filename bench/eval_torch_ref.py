#!/usr/bin/python3
"""PyTorch reference for `lir eval`: torchvision's ResNet-18 (ImageNet stem, docs/method.md)
with forward hooks computing the per-sample energy -logsumexp over each of the 41
points (every conv, every batch-norm, fc), over N CIFAR-10 test images, timed.

  eval_torch_ref.py write-weights OUT.weights [--seed S]
      random torchvision init (BN statistics randomised too) saved in Darknet .weights
      layout for cfg/resnet18.cfg, so lir and PyTorch can run the same network
  eval_torch_ref.py run --weights W --data DIR [--n N] [--batch B] [--threads T]
                        [--compare energies_cifar10_test.csv]
      loads W into torchvision's model, times forward + energies over the first N
      images of DIR/cifar10/cifar-10-batches-bin/test_batch.bin (inputs prepared
      before timing) and prints "torch forward+energies: N images in S s = R images/s"
      plus the process CPU time (all threads) and images per CPU second;
      --compare checks the energies against lir eval's --save-energies CSV.

Run with /usr/bin/python3 (Debian's torch)."""
import argparse
import os
import struct
import sys
import time

import numpy as np
import torch
import torchvision

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def model(classes=10):
    m = torchvision.models.resnet18(num_classes=classes)
    m.eval()
    return m


def layers_in_file_order(m):
    """(conv, bn) pairs in cfg order, then fc: torchvision's module order, which is
    also the cfg's (a block's downsample comes after its conv2)."""
    mods = [(n, x) for n, x in m.named_modules()
            if isinstance(x, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear))]
    out, i = [], 0
    while i < len(mods):
        name, x = mods[i]
        if isinstance(x, torch.nn.Conv2d):
            out.append(("conv", x, mods[i + 1][1]))
            i += 2
        else:
            out.append(("fc", x, None))
            i += 1
    return out


def write_weights(path, seed):
    torch.manual_seed(seed)
    m = model()
    with torch.no_grad():
        for kind, x, bn in layers_in_file_order(m):
            if bn is not None:  # non-trivial BN so every array matters
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.2, 0.2)
                bn.running_mean.uniform_(-0.1, 0.1)
                bn.running_var.uniform_(0.5, 2.0)
    with open(path, "wb") as f:
        f.write(struct.pack("<iiiQ", 0, 2, 0, 0))
        for kind, x, bn in layers_in_file_order(m):
            if kind == "conv":
                for t in (bn.bias, bn.weight, bn.running_mean, bn.running_var, x.weight):
                    f.write(t.detach().float().contiguous().numpy().tobytes())
            else:
                f.write(x.bias.detach().float().numpy().tobytes())
                f.write(x.weight.detach().float().contiguous().numpy().tobytes())


def load_weights(m, path):
    buf = open(path, "rb").read()
    major, minor, _ = struct.unpack("<iii", buf[:12])
    off = 12 + (8 if major * 10 + minor >= 2 else 4)
    arr = np.frombuffer(buf, dtype="<f4", offset=off)
    p = 0

    def take(t):
        nonlocal p
        n = t.numel()
        t.copy_(torch.from_numpy(arr[p:p + n].copy()).view_as(t))
        p += n

    with torch.no_grad():
        for kind, x, bn in layers_in_file_order(m):
            if kind == "conv":
                for t in (bn.bias, bn.weight, bn.running_mean, bn.running_var, x.weight):
                    take(t)
            else:
                take(x.bias)
                take(x.weight)
    if p != arr.size:
        sys.exit(f"{path}: {arr.size} floats, the model uses {p}")


def cifar_test(data, n):
    path = os.path.join(data, "cifar10", "cifar-10-batches-bin", "test_batch.bin")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)[:n]
    x = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def hooked(m):
    """Registers the 41 energy hooks; returns (names, energies) where energies[k] is
    the list of per-batch tensors of point k."""
    names, energies = [], []
    for name, x in m.named_modules():
        if isinstance(x, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear)):
            k = len(names)
            names.append(name)
            energies.append([])

            def hook(mod, inp, out, k=k):
                energies[k].append(-torch.logsumexp(out.flatten(1), dim=1))

            x.register_forward_hook(hook)
    return names, energies


def score(m, energies, batches):
    """Forward over batches with the hooks; returns ([n][41] energies, wall seconds,
    process CPU seconds of all threads)."""
    with torch.no_grad():
        for e in energies:
            e.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        for b in batches:
            m(b)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return torch.stack([torch.cat(v) for v in energies], dim=1).numpy(), dt, dc


def run(args):
    torch.set_num_threads(args.threads)
    m = model()
    load_weights(m, args.weights)
    names, energies = hooked(m)
    assert len(names) == 41, len(names)
    x = cifar_test(args.data, args.n)
    batches = list(torch.split(x, args.batch))
    score(m, energies, [batches[0][:2]])  # warm-up, not timed
    e, dt, dc = score(m, energies, batches)
    n = e.shape[0]
    print(f"torch forward+energies: {n} images in {dt:.2f} s = {n / dt:.1f} images/s "
          f"(41 points, batch {args.batch}, {args.threads} threads, torch {torch.__version__}); "
          f"CPU {dc:.2f} s = {n / dc:.1f} images per CPU second")
    if args.compare:
        with open(args.compare) as f:
            header = f.readline().strip().split(",")
        if header[2:43] != names:
            sys.exit(f"point names differ:\n lir   {header[2:43]}\n torch {names}")
        lir = np.loadtxt(args.compare, delimiter=",", skiprows=1)[:n, 2:43]
        if lir.shape[0] != n:
            sys.exit(f"{args.compare}: {lir.shape[0]} rows, want {n}")
        err = np.abs(lir - e) / np.maximum(1.0, np.abs(e))
        worst = np.unravel_index(np.argmax(err), err.shape)
        print(f"energies vs lir: max relative difference {err.max():.3g} "
              f"(sample {worst[0]}, point {names[worst[1]]})")
        if err.max() > 1e-3:
            sys.exit("energies differ from lir's")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write-weights")
    w.add_argument("out")
    w.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("--weights", required=True)
    r.add_argument("--data", default=os.environ.get("LIR_DATA", "data"))
    r.add_argument("--n", type=int, default=2000)
    r.add_argument("--batch", type=int, default=100)
    r.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    r.add_argument("--compare")
    args = ap.parse_args()
    if args.cmd == "write-weights":
        write_weights(args.out, args.seed)
    else:
        run(args)


if __name__ == "__main__":
    main()

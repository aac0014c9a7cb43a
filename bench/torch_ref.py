"""torch_ref.py: the PyTorch reference for `lir bench`. Times the same two networks
on the same synthetic workload and prints rows in lir bench's format.

Networks (both 32x32 input):
  paper  torchvision resnet18(num_classes=N): 7x7/2 stem, max-pool (cfg/resnet18.cfg)
  cifar  the same with a 3x3/1 stem conv and no max-pool (cfg/resnet18-cifar.cfg)
Rows:
  train, hooks 0    forward (train mode), CE, backward, SGD step (momentum 0.9,
                    weight decay 5e-4, lr 1e-3), batch 128
  train, hooks 41   the same plus an R-EBO term at every conv/bn/fc output (lambda 1e-3,
                    odd samples are outliers without CE, margins at each point's mean
                    energy of the first batch), as lir bench does
  infer, hooks 0    eval mode under torch.inference_mode(), batch 256
  infer, hooks 41   the same with forward hooks computing E = -logsumexp over each
                    sample's flattened output at every conv/bn/fc module
With --precision bf16 every forward pass (and the losses) runs under
torch.autocast("cpu", dtype=torch.bfloat16), what a PyTorch user who wants speed on a
CPU with AVX512_BF16 runs; the weights and the optimizer stay fp32. With
--layout channels_last the network and its input are in torch.channels_last (NHWC)
memory format, PyTorch's advice for CPU convolutions: oneDNN then runs without
reordering every activation (training the CIFAR net, 2026-12-03: fp32 85.3 against
49.2 images/s, bf16 174.5 against 165.7, with bench/run.sh's malloc settings).
bench/run.sh runs this script with glibc's malloc told to keep freed memory
(MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_); without them every step page-faults
its activations in again and the same training runs at 37 and 101 images/s.
Run with Debian's torch: /usr/bin/python3 bench/torch_ref.py --net paper
"""
import contextlib
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def make_net(kind, classes):
    m = torchvision.models.resnet18(num_classes=classes)
    if kind == "cifar":
        m.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        m.maxpool = nn.Identity()
    return m


def hook_modules(model):
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))]


class EnergyHooks:
    """Forward hooks storing each point's per-sample energy -logsumexp(a). For
    training (grad=True) the hook hands the network a copy of the output, because
    torchvision's blocks modify BN outputs in place (ReLU(inplace), out += identity)
    while autograd still needs them for the energy's gradient."""

    def __init__(self, model, grad=False):
        self.energies = []
        self.grad = grad
        self.handles = [m.register_forward_hook(self.hook) for m in hook_modules(model)]

    def hook(self, module, inputs, output):
        self.energies.append(-torch.logsumexp(output.flatten(1), dim=1))
        return output.clone() if self.grad else None

    def take(self):
        e, self.energies = self.energies, []
        return e


def autocast(args):
    """The context every forward pass runs in: bf16 autocast or nothing."""
    if args.precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def timed(step, iters, warmup):
    """Median and fastest wall time, median CPU time (all threads) per iteration."""
    times, cpu = [], []
    for i in range(iters + warmup):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), statistics.median(cpu)


def layout(args, t):
    """t (a model or an input) in the memory format of --layout."""
    if args.layout == "channels_last":
        return t.to(memory_format=torch.channels_last)
    return t


def bench_train(args, hooks):
    torch.manual_seed(args.seed)
    model = layout(args, make_net(args.net, args.classes).train())
    x = layout(args, torch.randn(args.batch, 3, 32, 32))
    labels = torch.randint(0, args.classes, (args.batch,))
    outlier = (torch.arange(args.batch) % 2 == 1) if hooks else torch.zeros(args.batch, dtype=torch.bool)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    eh = EnergyHooks(model, grad=True) if hooks else None
    margins = None
    if hooks:
        with torch.no_grad(), autocast(args):
            model(x)
        margins = [e.mean().item() for e in eh.take()]

    def step():
        opt.zero_grad()
        with autocast(args):
            logits = model(x)
            loss = F.cross_entropy(logits[~outlier], labels[~outlier])
            if hooks:
                for e, m in zip(eh.take(), margins):
                    r_in = F.relu(e[~outlier] - m).pow(2).mean()
                    r_out = F.relu(m - e[outlier]).pow(2).mean()
                    loss = loss + 1e-3 * (r_in + r_out)
        loss.backward()
        opt.step()

    return timed(step, args.iters, args.warmup) + (len(hook_modules(model)) if hooks else 0,)


def bench_infer(args, hooks):
    torch.manual_seed(args.seed)
    model = layout(args, make_net(args.net, args.classes).eval())
    x = layout(args, torch.randn(args.infer_batch, 3, 32, 32))
    eh = EnergyHooks(model) if hooks else None

    def step():
        with torch.inference_mode(), autocast(args):
            model(x)
            if eh:
                torch.stack(eh.take(), dim=1)  # [batch][points], as a scorer would keep

    return timed(step, args.iters, args.warmup) + (len(hook_modules(model)) if hooks else 0,)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--net", choices=["paper", "cifar"], default="paper")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--mode", choices=["train", "infer", "both"], default="both")
    ap.add_argument("--hooks", choices=["none", "all", "both"], default="both")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--layout", choices=["nchw", "channels_last"], default="nchw")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hook_set = [h for h, name in ((False, "none"), (True, "all")) if args.hooks in (name, "both")]
    print(f"# torch {torch.__version__} resnet18 ({args.net}): {torch.get_num_threads()} threads, "
          f"{args.iters} iterations after {args.warmup} warm-up, "
          f"mkldnn {torch.backends.mkldnn.is_available()}, precision {args.precision}, "
          f"layout {args.layout}")
    print(f"{'mode':<6} {'hooks':>6} {'batch':>6} {'median_ms':>10} {'min_ms':>10} {'images/s':>10} "
          f"{'cpu_ms':>10} {'prec':>5}")
    for hooks in hook_set:
        rows = []
        if args.mode in ("train", "both"):
            rows.append(("train", args.batch, bench_train(args, hooks)))
        if args.mode in ("infer", "both"):
            rows.append(("infer", args.infer_batch, bench_infer(args, hooks)))
        for mode, batch, (med, best, cpu, n) in rows:
            print(f"{mode:<6} {n:>6} {batch:>6} {1e3 * med:>10.2f} {1e3 * best:>10.2f} "
                  f"{batch / med:>10.1f} {1e3 * cpu:>10.2f} {args.precision:>5}", flush=True)


if __name__ == "__main__":
    main()

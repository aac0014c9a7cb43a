"""train_torch_ref.py: PyTorch's learning curve for lir's CIFAR recipe, to tell a slow
recipe from a trainer that learns less per epoch than PyTorch's.

Trains torchvision's ResNet-18 with the CIFAR stem (3x3/1 conv, no max-pool; the
network of cfg/resnet18-cifar.cfg) on the first 45,000 CIFAR-10 training images with
the recipe of cfg/train-cifar10-fast.json: batch 128, one-cycle learning rate (torch's
OneCycleLR shape, peak --lr at 30% of the steps, momentum not cycled, as lir does),
SGD Nesterov 0.9, weight decay 5e-4 on every parameter, label smoothing 0.1, a random
32x32 crop of the image zero-padded by 4, a horizontal flip and Cutout 8, forward
passes under torch.autocast("cpu", bfloat16). Per epoch it prints a CSV row like lir
train's log.csv: the learning rate of the epoch's first step, the train loss and
accuracy averaged over the epoch, the validation accuracy on the last 5,000 training
images, images/s of the epoch's steps (augmentation included, validation not) and its
seconds, so the two curves can be read side by side.
--stop-after N ends after N epochs of the --epochs schedule: the first epochs of a long
schedule cost minutes, not hours.

Run with Debian's torch:
  /usr/bin/python3 bench/train_torch_ref.py --data data/cifar10 --epochs 22 --stop-after 2
"""
import argparse
import contextlib
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_ref import make_net  # the same CIFAR-stem ResNet-18 the speed benchmark times


def load_cifar(root):
    d = os.path.join(root, "cifar-10-batches-bin")
    raw = np.concatenate([np.fromfile(os.path.join(d, "data_batch_%d.bin" % i), np.uint8)
                          .reshape(-1, 3073) for i in range(1, 6)])
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def augment(x, gen, cutout):
    """x: normalised images padded to (n, 3, 40, 40). The 32x32 crop (the pad holds
    the normalised value of a black pixel, as lir's loader pads), flip, Cutout."""
    n = x.shape[0]
    out = x.new_empty(n, 3, 32, 32)
    dy = torch.randint(0, 9, (n,), generator=gen)
    dx = torch.randint(0, 9, (n,), generator=gen)
    fl = torch.randint(0, 2, (n,), generator=gen)
    cy = torch.randint(0, 32, (n,), generator=gen)
    cx = torch.randint(0, 32, (n,), generator=gen)
    for i in range(n):
        img = x[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        if fl[i]:
            img = img.flip(2)
        out[i] = img
        if cutout:
            y0, x0 = max(int(cy[i]) - cutout // 2, 0), max(int(cx[i]) - cutout // 2, 0)
            out[i, :, y0:int(cy[i]) - cutout // 2 + cutout, x0:int(cx[i]) - cutout // 2 + cutout] = 0
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/cifar10")
    ap.add_argument("--epochs", type=int, default=22)
    ap.add_argument("--stop-after", type=int, default=0, help="epochs to run (0: all)")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--cutout", type=int, default=8)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    imgs, labels = load_cifar(a.data)
    n_train = len(imgs) - a.val_size
    x = torch.from_numpy(imgs).float() / 255
    mean = x[:n_train].mean(dim=(0, 2, 3), keepdim=True)
    std = x[:n_train].std(dim=(0, 2, 3), keepdim=True, unbiased=False)
    x = (x - mean) / std
    y = torch.from_numpy(labels)
    xtr, ytr, xva, yva = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    # padded copy: the pad is the normalised value of a black pixel, as lir's loader uses
    xpad = ((-mean / std).expand(n_train, 3, 40, 40)).clone()
    xpad[:, :, 4:36, 4:36] = xtr

    net = make_net("cifar", 10).to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    steps_per_epoch = (n_train + a.batch - 1) // a.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, epochs=a.epochs,
                                                steps_per_epoch=steps_per_epoch,
                                                cycle_momentum=False)
    cast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.precision == "bf16" \
        else contextlib.nullcontext
    print("epoch,step,lr,train_loss,train_acc,val_acc,images_per_s,seconds", flush=True)
    step = 0
    for epoch in range(1, (a.stop_after or a.epochs) + 1):
        net.train()
        perm = torch.randperm(n_train, generator=gen)
        t0, tot_loss, correct, seen = time.time(), 0.0, 0, 0
        lr = opt.param_groups[0]["lr"]
        for b in range(steps_per_epoch):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            xb = augment(xpad[idx], gen, a.cutout).contiguous(memory_format=torch.channels_last)
            yb = ytr[idx]
            with cast():
                out = net(xb)
                loss = F.cross_entropy(out.float(), yb, label_smoothing=a.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            tot_loss += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            seen += len(idx)
        dt = time.time() - t0
        net.eval()
        vc = 0
        with torch.inference_mode(), cast():
            for b in range(0, len(xva), 500):
                vc += (net(xva[b:b + 500].contiguous(memory_format=torch.channels_last))
                       .argmax(1) == yva[b:b + 500]).sum().item()
        print("%d,%d,%g,%.6f,%.4f,%.4f,%.1f,%.2f" % (
            epoch, step, lr, tot_loss / seen, 100.0 * correct / seen, 100.0 * vc / len(xva),
            seen / dt, dt), flush=True)


if __name__ == "__main__":
    main()

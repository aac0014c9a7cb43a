"""bf16_grads_torch.py: how far PyTorch's CPU autocast (bf16) moves the gradients of a
small residual network against fp32, per parameter tensor (relative L2), for the
architecture of tests/test_bf16_net.c (conv-BN-ReLU stem, a residual block, a strided
conv, global pool, fc) at batch 8 and 128: the reference for that test's tolerances
(not a test). Run: /usr/bin/python3 bench/bf16_grads_torch.py"""
import torch
import torch.nn as nn


def block(ci, co, stride=1, act=True):
    layers = [nn.Conv2d(ci, co, 3, stride, 1, bias=False), nn.BatchNorm2d(co)]
    if act:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = block(3, 16), block(16, 16)
        self.c, self.d = block(16, 16, act=False), block(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        y = self.a(x)
        z = self.d(torch.relu(self.c(self.b(y)) + y))
        return self.fc(z.mean((2, 3)))


def grads(net, x, labels, bf16):
    net.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = net(x)
    loss = nn.functional.cross_entropy(out.float(), labels)
    loss.backward()
    return loss.item(), [p.grad.clone() for p in net.parameters()]


torch.manual_seed(0)
for batch in (8, 128):
    net = Net()
    x, labels = torch.randn(batch, 3, 16, 16), torch.randint(0, 10, (batch,))
    l32, g32 = grads(net, x, labels, False)
    l16, g16 = grads(net, x, labels, True)
    rel = [((a - b).norm() / b.norm()).item() for a, b in zip(g16, g32)]
    print(f"batch {batch}: loss {abs(l16 - l32) / l32:.1e} relative; gradients (relative L2, "
          f"in parameter order): " + " ".join(f"{r:.2e}" for r in rel))

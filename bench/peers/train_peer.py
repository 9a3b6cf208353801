"""Python peer of the training benchmark: the seed U-Net (Kaggle DSB 2018 Keras starter:
16 base filters doubling over 4 down-samplings, ELU, dropout 0.1/0.1/0.2/0.2/0.3, transposed
convolutions, sigmoid output) in idiomatic PyTorch on Debian's python3-torch (the same
LibTorch underneath as nucseg), trained with Adam + BCE at 128x128, batch 16.
Prints JSON: images/s over timed steps after warm-up, and GFLOP/s from the FLOP count."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, p):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        return F.elu(self.c2(self.drop(F.elu(self.c1(x)))))


class UNet(nn.Module):
    def __init__(self, cin=1, base=16, drops=(0.1, 0.1, 0.2, 0.2, 0.3)):
        super().__init__()
        ch = [base * 2 ** i for i in range(5)]
        self.down = nn.ModuleList([Block(cin if i == 0 else ch[i - 1], ch[i], drops[i]) for i in range(5)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(ch[i], ch[i - 1], 2, stride=2) for i in range(4, 0, -1)])
        self.dec = nn.ModuleList([Block(2 * ch[i - 1], ch[i - 1], drops[i - 1]) for i in range(4, 0, -1)])
        self.head = nn.Conv2d(base, 1, 1)

    def forward(self, x):
        skips = []
        for i, b in enumerate(self.down):
            x = b(x)
            if i < 4:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


def conv_flops(model, size):
    """Forward multiply-adds x2 of convolutions and transposed convolutions for one image."""
    flops = 0

    def hook(m, inp, out):
        nonlocal flops
        if isinstance(m, nn.Conv2d):
            flops += 2 * out.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.ConvTranspose2d):
            flops += 2 * inp[0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1]

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        model(torch.zeros(1, 1, size, size))
    for h in hs:
        h.remove()
    return flops


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = UNet()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(a.batch, 1, a.size, a.size)
    y = (torch.rand(a.batch, 1, a.size, a.size) > 0.7).float()
    model.train()
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    ips = a.steps * a.batch / dt
    fwd = conv_flops(model, a.size)
    # A training step costs about 3x the forward pass (forward, input and weight gradients).
    print(json.dumps({"images_per_s": ips, "forward_gflop_per_image": fwd / 1e9,
                      "gflops": 3 * fwd * ips / 1e9, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()

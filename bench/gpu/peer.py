#!/usr/bin/env python3
"""Eager-PyTorch peers of nucseg's GPU rows, on the same device and precision.

  train: the seed U-Net (128x128, batch 16, BCE) and the shipped model's network (256x256
         crops, batch 8, 3-class cross-entropy), Adam, tensors already on the device;
  infer: the shipped model's weights on 512x512 tiles, batch 8, forward + softmax.
Prints one JSON line per row: images/s (train) or megapixels/s (infer)."""
import argparse
import contextlib
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "peers"))
import predict_peer  # noqa: E402  (the shipped model's network, read from the checkpoint)
import train_peer  # noqa: E402  (the seed U-Net)


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def autocast(device, precision):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.split(":")[0], dtype=dtype)


def timed_steps(step, device, warmup, steps):
    for _ in range(warmup):
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return time.perf_counter() - t0


def train_row(name, model, size, batch, classes, a):
    model = model.to(a.device).train()
    if a.precision != "fp32":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batch, 1, size, size, device=a.device)
    if classes == 1:
        y = (torch.rand(batch, 1, size, size, device=a.device) > 0.7).float()
    else:
        y = torch.randint(0, classes, (batch, size, size), device=a.device)

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast(a.device, a.precision):
            out = model(x.contiguous(memory_format=torch.channels_last) if a.precision != "fp32" else x)
        out = out.float()
        loss = F.binary_cross_entropy_with_logits(out, y) if classes == 1 else F.cross_entropy(out, y)
        loss.backward()
        opt.step()

    dt = timed_steps(step, a.device, a.warmup, a.steps)
    return {"row": f"train {name}", "device": a.device, "precision": a.precision,
            "images_per_s": a.steps * batch / dt}


def infer_row(net, a):
    net = net.to(a.device).eval()
    if a.precision != "fp32":
        net = net.to(memory_format=torch.channels_last)
    x = torch.rand(8, 1, 512, 512, device=a.device)
    if a.precision != "fp32":
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        with torch.inference_mode(), autocast(a.device, a.precision):
            torch.softmax(net(x).float(), 1)

    dt = timed_steps(step, a.device, a.warmup, a.steps)
    return {"row": "infer shipped model, 512x512 tiles, batch 8", "device": a.device, "precision": a.precision,
            "megapixels_per_s": a.steps * 8 * 512 * 512 / 1e6 / dt}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="nucseg checkpoint (the shipped model)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rows", default="train,infer")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    rows = a.rows.split(",")
    if "train" in rows:
        print(json.dumps(train_row("seed U-Net 128x128 batch 16", train_peer.UNet(), 128, 16, 1, a)), flush=True)
        shipped, _, _ = predict_peer.load(a.model)
        print(json.dumps(train_row("shipped network 256x256 batch 8", shipped, 256, 8, 3, a)), flush=True)
    if "infer" in rows:
        net, _, _ = predict_peer.load(a.model)
        print(json.dumps(infer_row(net, a)), flush=True)


if __name__ == "__main__":
    main()

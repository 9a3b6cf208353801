"""Python peer of the predict benchmark: what a lab script does today with PyTorch and
scikit-image, on the same inputs, network weights and settings as `nucseg predict`:
read (tifffile) -> percentile normalization -> 256-pixel tiles overlapping by 32, blended ->
the same U-Net (weights read from the nucseg checkpoint) -> threshold, hole filling, small
objects removed, seeded watershed (interior seeds for contour models, distance-transform
maxima for binary ones) -> regionprops on the raw image -> label TIFF + nuclei CSV.
Prints JSON: wall seconds, network seconds, post-processing seconds, megapixels."""
import argparse
import csv
import glob
import json
import math
import os
import time

import numpy as np
import tifffile
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage import measure, morphology, segmentation, feature


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        return F.elu(self.conv2(F.elu(self.conv1(x))))


class UNet(nn.Module):
    """Same module names as nucseg's UNetImpl, so the checkpoint's weights load by name."""

    def __init__(self, cin, base, depth, cout):
        super().__init__()
        f = [base * 2 ** i for i in range(depth + 1)]
        self.encoders = nn.ModuleList([Block(cin if i == 0 else f[i - 1], f[i]) for i in range(depth)])
        self.bottleneck = Block(f[depth - 1], f[depth])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(f[l + 1], f[l], 2, stride=2) for l in range(depth - 1, -1, -1)])
        self.decoders = nn.ModuleList([Block(2 * f[l], f[l]) for l in range(depth - 1, -1, -1)])
        self.head = nn.Conv2d(base, cout, 1)

    def forward(self, x):
        skips = []
        for enc in self.encoders:
            x = enc(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for up, dec in zip(self.ups, self.decoders):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


def load(path):
    m = torch.jit.load(path)
    meta = json.loads(m.meta)
    o = meta["model"]
    contour = o["mode"] == "contour"
    net = UNet(o.get("in_channels", 1), o["base_filters"], o["depth"], 3 if contour else 1)
    net.load_state_dict({n[len("model."):]: p.detach() for n, p in m.named_parameters()})
    return net.eval(), contour, meta


def starts(length, tile, overlap):
    if length <= tile:
        return [-((tile - length) // 2)]
    n = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (n - 1)) for i in range(n)] if n > 1 else [0]


def window(tile, overlap):
    w = np.ones(tile, np.float32)
    if overlap > 0:
        r = np.sin(0.5 * np.pi * (np.arange(overlap) + 0.5) / overlap) ** 2
        w[:overlap], w[-overlap:] = r, r[::-1]
    return np.maximum(w, 1e-3)


def probabilities(net, img, contour, tile, overlap, batch):
    h, w = img.shape
    pad = np.pad(img, ((tile, tile), (tile, tile)), mode="reflect")
    k = 3 if contour else 1
    acc = np.zeros((k, h, w), np.float32)
    wsum = np.zeros((h, w), np.float32)
    win = np.outer(window(tile, overlap), window(tile, overlap))
    boxes = [(y, x) for y in starts(h, tile, overlap) for x in starts(w, tile, overlap)]
    with torch.inference_mode():
        for i in range(0, len(boxes), batch):
            part = boxes[i:i + batch]
            x = torch.from_numpy(np.stack([pad[y + tile:y + 2 * tile, x + tile:x + 2 * tile] for y, x in part])[:, None])
            out = net(x)
            p = (torch.softmax(out, 1) if contour else torch.sigmoid(out)).numpy()
            for (y, x), pr in zip(part, p):
                y0, x0, y1, x1 = max(y, 0), max(x, 0), min(y + tile, h), min(x + tile, w)
                sl = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
                acc[:, y0:y1, x0:x1] += pr[:, sl[0], sl[1]] * win[sl]
                wsum[y0:y1, x0:x1] += win[sl]
    return acc / wsum


def labels_from(prob, contour, min_area=15, h=1.5):
    fg = (1 - prob[0] if contour else prob[0]) > 0.5
    fg = ndi.binary_fill_holes(fg)
    fg = morphology.remove_small_objects(fg, min_area)
    if contour:
        markers = measure.label(prob[1] > 0.5)
        relief = -prob[1]
    else:
        dist = ndi.distance_transform_edt(fg)
        markers = measure.label(morphology.h_maxima(dist, h))
        relief = -dist
    lab = segmentation.watershed(relief, markers, mask=fg)
    lab = morphology.remove_small_objects(lab, min_area)
    return segmentation.relabel_sequential(lab)[0]


PROPS = ("label", "centroid", "area", "perimeter", "equivalent_diameter", "major_axis_length",
         "minor_axis_length", "eccentricity", "solidity", "bbox", "mean_intensity", "min_intensity",
         "max_intensity")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True, help="folder of TIFFs (or one TIFF)")
    ap.add_argument("--glob", default="*.tif")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--overlap", type=int, default=32)
    ap.add_argument("--batch", type=int, default=4)
    a = ap.parse_args()
    t0 = time.perf_counter()
    torch.set_num_threads(a.threads)
    net, contour, meta = load(a.model)
    files = [a.input] if os.path.isfile(a.input) else sorted(glob.glob(os.path.join(a.input, a.glob)))
    os.makedirs(a.out, exist_ok=True)
    t_net = t_post = 0.0
    mp = 0.0
    with open(os.path.join(a.out, "nuclei.csv"), "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("ImageNumber",) + PROPS + ("integrated_intensity",))
        for n, f in enumerate(files, 1):
            raw = tifffile.imread(f).astype(np.float32)
            if raw.ndim == 3:
                raw = raw[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32) if raw.shape[-1] in (3, 4) else raw[0]
            lo, hi = np.percentile(raw, (1, 99.8))
            img = np.clip((raw - lo) / max(hi - lo, 1e-12), 0, 1).astype(np.float32)
            t1 = time.perf_counter()
            prob = probabilities(net, img, contour, a.tile, a.overlap, a.batch)
            t2 = time.perf_counter()
            lab = labels_from(prob, contour)
            props = measure.regionprops_table(lab, intensity_image=raw, properties=PROPS)
            for i in range(len(props["label"])):
                row = [n] + [props[k][i] for k in props]
                writer.writerow(row + [props["area"][i] * props["mean_intensity"][i]])
            t_post += time.perf_counter() - t2
            t_net += t2 - t1
            tifffile.imwrite(os.path.join(a.out, os.path.splitext(os.path.basename(f))[0] + ".tif"),
                             lab.astype(np.uint16), compression="zlib")
            mp += raw.shape[0] * raw.shape[1] / 1e6
    print(json.dumps({"seconds": time.perf_counter() - t0, "network_seconds": t_net, "post_seconds": t_post,
                      "megapixels": mp, "images": len(files), "threads": a.threads}))


if __name__ == "__main__":
    main()

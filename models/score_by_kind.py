#!/usr/bin/env python3
"""Splits a `nucseg evaluate` per-image CSV by the kind of DSB 2018 image: fluorescence
(grey, dark background), brightfield (grey, bright background) or stained tissue (colour).
Published figures are often for one kind only (StarDist's 0.864 AP@0.5 is on a fluorescence
subset), so the model card reports each kind next to the overall mean.
Usage: score_by_kind.py EVALUATION_CSV DSB_DIR"""
import csv
import os
import statistics
import sys

import numpy as np
from skimage import io


def kind(path):
    img = io.imread(path)
    if img.ndim == 3:
        rgb = img[..., :3].astype(np.int32)
        if np.abs(rgb - rgb[..., :1]).max() > 8:
            return "tissue (colour)"
        img = rgb[..., 0]
    return "fluorescence" if np.median(img) < 0.5 * np.iinfo(img.dtype).max else "brightfield"


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    groups = {}
    for r in rows:
        name = r["Image"]
        k = kind(os.path.join(sys.argv[2], name, "images", name + ".png"))
        groups.setdefault(k, []).append(r)
    groups["all"] = rows
    print("| images | n | pixel accuracy | IoU | AP@0.5 | DSB score |")
    print("| --- | --- | --- | --- | --- | --- |")
    for k in sorted(groups, key=lambda g: (g == "all", g)):
        g = groups[k]
        mean = lambda c: statistics.mean(float(r[c]) for r in g)
        print(f"| {k} | {len(g)} | {100 * mean('PixelAccuracy'):.1f} % | {mean('PixelIoU'):.3f} | "
              f"{mean('AP_0.50'):.3f} | {mean('DSBScore'):.3f} |")


if __name__ == "__main__":
    main()

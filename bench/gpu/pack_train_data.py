#!/usr/bin/env python3
"""Packs the training and validation samples of a nucseg dataset for the GPU training run
(bench/gpu/train.sh), small enough to travel with the working tree (64 MiB in all).

    python3 bench/gpu/pack_train_data.py DATASET.h5 OUT_DIR [--limit N] [--stretch-16-bit]

DATASET.h5 is any labelled native-size dataset from `nucseg convert` (for the default model:
the DSB 2018 stage-1 set with --seed 42, the shipped split). Its test split is never packed.
OUT_DIR receives
    images/<id>.png   the source image's intensities as 8-bit gray: a gray image as it is, an
                      RGB(A) one as its Rec. 601 luminance, rounded (nucseg's own rule, so that
                      convert on the node gives the same normalized image to rounding)
    labels/<id>.png   the dataset's instance labels (overlaps already resolved by convert), 16-bit
    split.txt         "<id> train|val" per line, for `nucseg convert --split-file`
    manifest.json     what was packed, from where, and the SHA-256 of every file
The node converts it back with the normalization the model is trained with (train.sh).
--limit N keeps the first N samples of each split (the dry run's small set); --stretch-16-bit packs
16-bit gray sources stretched from their own range to 8 bits (the dry run's synthetic plate, where
the DSB set is not at hand), which are refused otherwise.
"""
import argparse
import hashlib
import json
import os
import sys

import h5py
import numpy as np
from PIL import Image
from skimage import io


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def gray_uint8(path, stretch_16_bit=False):
    img = io.imread(path)
    if stretch_16_bit and img.dtype == np.uint16 and img.ndim == 2:
        low, high = float(img.min()), float(img.max())
        return np.rint((img - low) * (255.0 / max(high - low, 1.0))).astype(np.uint8)
    if img.dtype != np.uint8:
        sys.exit(f"pack: '{path}' is {img.dtype}, only 8-bit sources are packed (as 8-bit gray)")
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] in (3, 4):
        rgb = img[..., :3].astype(np.float32)
        lum = np.float32(0.299) * rgb[..., 0] + np.float32(0.587) * rgb[..., 1] + np.float32(0.114) * rgb[..., 2]
        return np.clip(np.rint(lum), 0, 255).astype(np.uint8)
    sys.exit(f"pack: '{path}' has shape {img.shape}: expected gray or RGB(A)")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0, help="first N samples of each split (0 = all)")
    ap.add_argument("--stretch-16-bit", action="store_true", help="pack 16-bit gray sources stretched to 8 bits")
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "labels"), exist_ok=True)
    with h5py.File(a.dataset, "r") as f:
        if text(f.attrs.get("layout", "")) != "native" or "masks" in f:
            sys.exit(f"pack: '{a.dataset}' must be a labelled native-size dataset (nucseg convert --native-size)")
        ids = [text(x) for x in f["meta/id"][()]]
        sources = [text(x) for x in f["meta/source_path"][()]]
        lines, files = [], {}
        for split in ("train", "val"):
            indices = list(f["split/" + split][()])
            if a.limit > 0:
                indices = indices[: a.limit]
            for i in indices:
                sid = ids[i]
                image = gray_uint8(sources[i], a.stretch_16_bit)
                mask = f[f"samples/{i:06d}/mask"][()]
                if mask.shape != image.shape:
                    sys.exit(f"pack: sample '{sid}': mask {mask.shape} vs image {image.shape}")
                if mask.max() > 65535:
                    sys.exit(f"pack: sample '{sid}' has {mask.max()} labels: more than 16 bits")
                Image.fromarray(image).save(os.path.join(a.out, "images", sid + ".png"), optimize=True)
                Image.fromarray(mask.astype(np.uint16)).save(os.path.join(a.out, "labels", sid + ".png"))
                lines.append(f"{sid} {split}")
                files[f"images/{sid}.png"] = files[f"labels/{sid}.png"] = None
        source_config = text(f.attrs.get("config", "{}"))
    with open(os.path.join(a.out, "split.txt"), "w") as s:
        s.write("\n".join(lines) + "\n")
    for rel in list(files):
        files[rel] = sha256(os.path.join(a.out, rel))
    counts = {s: sum(1 for line in lines if line.endswith(" " + s)) for s in ("train", "val")}
    manifest = {"dataset": os.path.abspath(a.dataset), "dataset_config": json.loads(source_config),
                "limit": a.limit, "samples": counts, "split_sha256": sha256(os.path.join(a.out, "split.txt")),
                "files": files}
    with open(os.path.join(a.out, "manifest.json"), "w") as m:
        json.dump(manifest, m, indent=1)
    size = sum(os.path.getsize(os.path.join(a.out, rel)) for rel in files)
    print(f"pack: {counts['train']} train + {counts['val']} val samples, {size / 1e6:.1f} MB -> {a.out}")


if __name__ == "__main__":
    main()

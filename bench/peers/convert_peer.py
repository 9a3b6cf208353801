"""Python peer of `nucseg convert` for the DSB layout: the way a lab script does it.
skimage/Pillow to read, numpy to merge masks and make luminance, skimage.transform.resize
(bilinear images, nearest labels), h5py with the same chunking and gzip level."""
import argparse
import os

import h5py
import numpy as np
from skimage import io
from skimage.transform import resize


def convert(root, out, size):
    ids = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d, "images")))
    n = len(ids)
    with h5py.File(out, "w") as f:
        images = f.create_dataset("images", (n, 1, size, size), np.float32, chunks=(1, 1, size, size),
                                  compression="gzip", compression_opts=4, shuffle=True)
        masks = f.create_dataset("masks", (n, size, size), np.uint32, chunks=(1, size, size),
                                 compression="gzip", compression_opts=4, shuffle=True)
        for k, i in enumerate(ids):
            img = io.imread(os.path.join(root, i, "images", i + ".png"))
            if img.ndim == 3:
                img = img[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            lab = np.zeros(img.shape[:2], np.uint32)
            for j, name in enumerate(sorted(os.listdir(os.path.join(root, i, "masks")))):
                m = io.imread(os.path.join(root, i, "masks", name)) > 0
                lab[m & (lab == 0)] = j + 1
            small = resize(img, (size, size), order=1, anti_aliasing=False, preserve_range=True)
            lo, hi = small.min(), small.max()
            images[k, 0] = (small - lo) / (hi - lo) if hi > lo else 0
            masks[k] = resize(lab, (size, size), order=0, anti_aliasing=False, preserve_range=True)
    return n


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=128)
    a = ap.parse_args()
    print(convert(a.images, a.out, a.size))

"""Scores predicted masks against a synthetic plate's truth on the two hard cases of issue 24:
dim nuclei beside bright ones (found / missed by brightness class) and large nuclei with
nucleoli (split: a true nucleus covered by two or more predicted objects, each holding at
least a tenth of it; holed: a predicted object with background pixels it encloses).

Usage: score_hard_cases.py IMAGES_DIR TRUTH_DIR MASKS_DIR
(`nucseg synth` layout: IMAGES_DIR/<stem>.tif, TRUTH_DIR/<stem>_labels.tif, MASKS_DIR/<stem>.tif)."""
import glob
import os
import sys

import numpy as np
import tifffile
from scipy import ndimage


def match(truth, pred):
    """True label -> (best predicted label, IoU)."""
    out = {}
    t_area = np.bincount(truth.ravel())
    p_area = np.bincount(pred.ravel())
    pairs = truth.astype(np.int64) * (int(pred.max()) + 1) + pred
    counts = np.bincount(pairs.ravel())
    for key in np.nonzero(counts)[0]:
        t, p = divmod(int(key), int(pred.max()) + 1)
        if t == 0 or p == 0:
            continue
        iou = counts[key] / (t_area[t] + p_area[p] - counts[key])
        if iou > out.get(t, (0, 0.0))[1]:
            out[t] = (p, iou)
    return out


def main():
    images, truth_dir, masks = sys.argv[1:4]
    tot = dict(true=0, found=0, dim=0, dim_found=0, bright=0, bright_found=0, split=0, holed=0, pred=0, false=0)
    for path in sorted(glob.glob(os.path.join(images, "*.tif"))):
        stem = os.path.basename(path)[:-4]
        img = tifffile.imread(path).astype(np.float64)
        truth = tifffile.imread(os.path.join(truth_dir, stem + "_labels.tif")).astype(np.int64)
        pred = tifffile.imread(os.path.join(masks, stem + ".tif")).astype(np.int64)
        bg = np.median(img[truth == 0])
        ids = [t for t in np.unique(truth) if t]
        level = {t: img[truth == t].mean() - bg for t in ids}
        top = max(level.values()) if level else 0
        m = match(truth, pred)
        matched_pred = set()
        for t in ids:
            found = t in m and m[t][1] > 0.5
            dim = level[t] < top / 10
            tot["true"] += 1
            tot["found"] += found
            tot["dim" if dim else "bright"] += 1
            tot["dim_found" if dim else "bright_found"] += found
            if found:
                matched_pred.add(m[t][0])
            area = (truth == t).sum()
            cover = np.bincount(pred[truth == t])
            tot["split"] += int(np.sum(cover[1:] >= 0.1 * area) >= 2)
        for p in [p for p in np.unique(pred) if p]:
            obj = pred == p
            tot["pred"] += 1
            tot["false"] += p not in matched_pred
            tot["holed"] += int((ndimage.binary_fill_holes(obj) & ~obj).any())
    print(" ".join(f"{k}={v}" for k, v in tot.items()))


if __name__ == "__main__":
    main()

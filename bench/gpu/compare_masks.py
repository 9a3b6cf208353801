#!/usr/bin/env python3
"""Compares label masks of two or more predict runs with the first: per run, how many images
have identical masks, how many pixels differ in foreground, and the nucleus counts."""
import glob
import json
import os
import sys

import numpy as np
import tifffile


def load(folder):
    return {os.path.basename(f): tifffile.imread(f) for f in sorted(glob.glob(os.path.join(folder, "*.tif")))}


ref = load(sys.argv[1])
out = {"row": "masks vs " + os.path.basename(os.path.dirname(sys.argv[1].rstrip("/"))), "runs": {}}
for other in sys.argv[2:]:
    cur = load(other)
    same = sum(1 for k in ref if k in cur and np.array_equal(ref[k], cur[k]))
    fg = sum(int(((ref[k] > 0) != (cur[k] > 0)).sum()) for k in ref if k in cur)
    pixels = sum(v.size for v in ref.values())
    out["runs"][os.path.basename(os.path.dirname(other.rstrip("/")))] = {
        "images": len(cur), "identical": same, "foreground_pixels_differing": fg,
        "foreground_difference": fg / max(pixels, 1),
        "nuclei": int(sum(len(np.unique(v)) - 1 for v in cur.values())),
        "nuclei_reference": int(sum(len(np.unique(v)) - 1 for v in ref.values()))}
print(json.dumps(out))

"""Shared helpers for integration tests: run the real nucseg binary, draw synthetic nuclei."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SKIP = 77
BIN = os.environ.get("NUCSEG_BIN", "nucseg")
DATA = os.environ.get("NUCSEG_DATA_DIR", "")
SOURCE = os.environ.get("NUCSEG_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args, expect=0, env=None):
    """Runs nucseg with args; checks the exit code; returns the CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=full_env)
    if expect is not None and p.returncode != expect:
        sys.stderr.write(p.stdout + p.stderr)
        raise AssertionError(f"nucseg {' '.join(map(str, args))}: exit {p.returncode}, expected {expect}")
    return p


def skip(reason):
    print(f"SKIPPED: {reason}")
    sys.exit(SKIP)


def shared(*parts):
    """Path under ../shared/data, or skip the test when it is absent."""
    path = os.path.join(DATA, *parts)
    if not DATA or not os.path.exists(path):
        skip(f"real data not found at {path}")
    return path


def disks_scene(h, w, disks, bg=100, fg=3000, noise=0.0, seed=0, dtype=np.uint16):
    """Image and instance labels of non-overlapping disks (cy, cx, r); label k = k+1."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w), bg, np.float64)
    lab = np.zeros((h, w), np.uint16)
    for k, (cy, cx, r) in enumerate(disks):
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        img[inside] = fg
        lab[inside & (lab == 0)] = k + 1
    if noise:
        img += np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(img, 0, np.iinfo(dtype).max if dtype != np.float32 else None).astype(dtype), lab


def random_disks(h, w, n, rmin, rmax, rng):
    out = []
    for _ in range(n * 200):
        if len(out) == n:
            break
        r = rng.uniform(rmin, rmax)
        cy, cx = rng.uniform(r + 1, h - r - 2), rng.uniform(r + 1, w - r - 2)
        if all(np.hypot(cy - a, cx - b) > r + c + 2 for a, b, c in out):
            out.append((cy, cx, r))
    return out


def synth_plate(root, wells, sites, height, width, nuclei, seed):
    """`nucseg synth` into root/syn: returns (plate1 images folder, its ground-truth folder).
    nuclei = (fewest, most) per image."""
    syn = os.path.join(root, "syn")
    run("synth", "--out", syn, "--wells", wells, "--sites", sites, "--size", height, width,
        "--nuclei", nuclei[0], nuclei[1], "--seed", seed)
    return os.path.join(syn, "plate1"), os.path.join(syn, "ground_truth", "plate1")


def tempdir():
    return tempfile.TemporaryDirectory(prefix="nucseg-it-")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def same_partition(a, b):
    """True when label images a and b hold the same instances, whatever their numbering."""
    if a.shape != b.shape or not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[a > 0]]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))

"""nucseg convert on real data from ../shared/data, checked against an independent reading."""
import os

import h5py
import numpy as np
import tifffile
from skimage import io as skio
from skimage.morphology import binary_erosion

from nucseg_testlib import check, run, shared, tempdir


def test_dsb_subset(root):
    src = shared("dsb2018_stage1_train")
    ids = sorted(os.listdir(src))[:24]
    sub = os.path.join(root, "dsb")
    os.makedirs(sub)
    for i in ids:
        os.symlink(os.path.join(src, i), os.path.join(sub, i))
    out = os.path.join(root, "dsb.h5")
    run("convert", "--images", sub, "--out", out, "--size", 128)
    with h5py.File(out, "r") as f:
        check(f.attrs["input_layout"] == "dsb", "DSB layout detected")
        check(f["images"].shape == (24, 1, 128, 128), f"{f['images'].shape}")
        for k, i in enumerate(ids):
            masks = sorted(os.listdir(os.path.join(src, i, "masks")))
            img = skio.imread(os.path.join(src, i, "images", i + ".png"))
            # Nearest-neighbour downsizing keeps every nucleus that holds a square of side
            # > 2 sampling steps (it must contain a sample point); smaller ones may vanish.
            step = int(np.ceil(max(img.shape[0], img.shape[1]) / 128)) * 2 + 1
            sure = sum(binary_erosion(skio.imread(os.path.join(src, i, "masks", m)) > 0,
                                      np.ones((step, step), bool)).any() for m in masks)
            n = f["meta/nuclei"][k]
            check(sure <= n <= len(masks), f"{i}: {n} labels for {len(masks)} masks ({sure} sure)")
            check(tuple(f["meta/original_shape"][k][1:]) == img.shape[:2], "original shape")
            check(f["meta/source_path"][k].decode().endswith(i + ".png"), "source path")


def test_dsb_native_merge_matches_numpy(root):
    src = shared("dsb2018_stage1_train")
    ids = sorted(os.listdir(src))[:5]
    sub = os.path.join(root, "dsb")
    os.makedirs(sub)
    for i in ids:
        os.symlink(os.path.join(src, i), os.path.join(sub, i))
    out = os.path.join(root, "native.h5")
    run("convert", "--images", sub, "--out", out, "--native-size")
    with h5py.File(out, "r") as f:
        for k, i in enumerate(ids):
            mdir = os.path.join(src, i, "masks")
            expected = None
            for j, name in enumerate(sorted(os.listdir(mdir))):
                m = skio.imread(os.path.join(mdir, name)) > 0
                if expected is None:
                    expected = np.zeros(m.shape, np.uint32)
                expected[m & (expected == 0)] = j + 1
            got = f[f"samples/{k:06d}/mask"][:]
            check(np.array_equal(got, expected), f"{i}: merged labels differ from numpy merge")
            rgb = skio.imread(os.path.join(src, i, "images", i + ".png"))[..., :3].astype(np.float64)
            lum = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
            lum = (lum - lum.min()) / (lum.max() - lum.min())
            check(np.allclose(f[f"samples/{k:06d}/image"][0], lum, atol=1e-5), f"{i}: luminance")


def test_tiff_samples_u16(root):
    img_path = shared("tiff_samples", "dsb_img2d_u16.tif")
    lab_path = shared("tiff_samples", "dsb_img2d_u16_labels.tif")
    d_img, d_mask = os.path.join(root, "images"), os.path.join(root, "masks")
    os.makedirs(d_img)
    os.makedirs(d_mask)
    os.symlink(img_path, os.path.join(d_img, "dsb_img2d_u16.tif"))
    os.symlink(lab_path, os.path.join(d_mask, "dsb_img2d_u16_labels.tif"))
    out = os.path.join(root, "u16.h5")
    run("convert", "-i", d_img, "-m", d_mask, "-o", out, "--native-size", "--normalize", "percentile")
    img = tifffile.imread(img_path).astype(np.float64)
    lab = tifffile.imread(lab_path)
    lo, hi = np.percentile(img, [1, 99.8])
    with h5py.File(out, "r") as f:
        got = f["samples/000000/image"][0]
        check(np.allclose(got, np.clip((img - lo) / (hi - lo), 0, 1), atol=1e-5), "percentile normalization")
        m = f["samples/000000/mask"][:]
        check(len(np.unique(m)) - 1 == 125, f"125 nuclei, found {len(np.unique(m)) - 1}")
        check(np.array_equal(m > 0, lab > 0), "foreground preserved")


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            with tempdir() as root:
                fn(root)
                print(f"ok {name}")

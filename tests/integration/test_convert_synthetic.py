"""nucseg convert on synthetic 16-bit TIFFs: layouts, HDF5 layout read with h5py, refusals."""
import json
import os

import h5py
import numpy as np
import tifffile

from nucseg_testlib import check, disks_scene, random_disks, run, same_partition, tempdir


def make_paired(root, n=6, h=96, w=80):
    img_dir, mask_dir = os.path.join(root, "images"), os.path.join(root, "masks")
    os.makedirs(img_dir)
    os.makedirs(mask_dir)
    rng = np.random.default_rng(1)
    truth = {}
    for i in range(n):
        disks = random_disks(h, w, 5, 5, 10, rng)
        img, lab = disks_scene(h, w, disks, bg=200 + 10 * i, fg=4000 + 500 * i, noise=20, seed=i)
        tifffile.imwrite(os.path.join(img_dir, f"site{i:02d}.tif"), img)
        tifffile.imwrite(os.path.join(mask_dir, f"site{i:02d}_labels.tif"), lab)
        truth[f"site{i:02d}"] = (img, lab)
    return img_dir, mask_dir, truth


def test_paired_native(root):
    img_dir, mask_dir, truth = make_paired(root)
    out = os.path.join(root, "native.h5")
    run("convert", "--images", img_dir, "--masks", mask_dir, "--out", out, "--native-size", "-j", 2)
    with h5py.File(out, "r") as f:
        check(f.attrs["format"] == "nucseg-dataset" and f.attrs["format_version"] == 1, "format attrs")
        check(f.attrs["layout"] == "native", "layout attr")
        ids = [s.decode() for s in f["meta/id"][:]]
        check(ids == sorted(truth), f"ids {ids}")
        for i, sid in enumerate(ids):
            img, lab = truth[sid]
            got = f[f"samples/{i:06d}/image"][:]
            check(got.shape == (1,) + img.shape, f"shape {got.shape}")
            expected = (img.astype(np.float64) - img.min()) / (img.max() - img.min())
            check(np.allclose(got[0], expected, atol=1e-6), "min-max normalization")
            check(same_partition(f[f"samples/{i:06d}/mask"][:], lab), "instances preserved exactly")
            check(tuple(f["meta/original_shape"][i]) == (1,) + img.shape, "original shape")
        cfg = json.loads(f.attrs["config"])
        check(cfg["native_size"] is True and cfg["layout"] == "paired", f"config {cfg}")
        check(f.attrs["nucseg_version"], "version recorded")


def test_paired_fixed_and_split(root):
    img_dir, mask_dir, truth = make_paired(root, n=20)
    a, b = os.path.join(root, "a.h5"), os.path.join(root, "b.h5")
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", a, "--size", 64, 48, "--split", 0.5, 0.25, 0.25,
        "--seed", 7, "--normalize", "percentile", "--percentiles", 1, 99)
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", b, "--size", 64, 48, "--split", 0.5, 0.25, 0.25,
        "--seed", 7, "--normalize", "percentile", "--percentiles", 1, 99, "-j", 1)
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        check(fa["images"].shape == (20, 1, 64, 48), f"images {fa['images'].shape}")
        check(fa["masks"].shape == (20, 64, 48), "masks")
        check(fa["images"].dtype == np.float32 and fa["masks"].dtype == np.uint32, "dtypes")
        check(fa["images"].compression == "gzip" and fa["images"].chunks == (1, 1, 64, 48), "chunked+gzip")
        imgs = fa["images"][:]
        check(imgs.min() >= 0 and imgs.max() <= 1, "range [0,1]")
        check(np.array_equal(imgs, fb["images"][:]), "thread count does not change the result")
        for k in ("train", "val", "test"):
            check(np.array_equal(fa["split"][k][:], fb["split"][k][:]), "split deterministic")
        check(len(fa["split/train"]) == 10 and len(fa["split/val"]) == 5, "split counts")
        # Nearest-neighbour labels: every stored label exists in the source mask.
        for i in range(20):
            src = truth[fa["meta/id"][i].decode()][1]
            stored = np.unique(fa["masks"][i])
            check(len(stored) - 1 == fa["meta/nuclei"][i], "nuclei count")
            check(len(stored) - 1 <= len(np.unique(src)) - 1, "no invented labels")
        pre = json.loads(fa.attrs["preprocessing"])
        check(pre == {"channel": -1, "channels": 1, "z_project": "none", "target_diameter": 0,
                      "normalize": {"method": "percentile", "percentiles": [1.0, 99.0], "polarity": "keep"}},
              f"preprocessing {pre}")
    c = os.path.join(root, "c.h5")
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", c, "--size", 64, 48, "--split", 0.5, 0.25, 0.25,
        "--seed", 8)
    with h5py.File(a, "r") as fa, h5py.File(c, "r") as fc:
        check(not np.array_equal(fa["meta/split"][:], fc["meta/split"][:]), "seed changes the split")


def test_images_only_and_channels(root):
    d = os.path.join(root, "imgs")
    os.makedirs(d)
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    rgb[10:20, 10:20] = 0
    tifffile.imwrite(os.path.join(d, "rgb.tif"), rgb, photometric="rgb")
    stack = np.stack([np.full((40, 40), v, np.uint16) for v in (5, 600, 7, 9)])
    stack[1, :20] = 60000
    tifffile.imwrite(os.path.join(d, "stack.tif"), stack, photometric="minisblack")
    out = os.path.join(root, "ch.h5")
    # Without --channel the 4-page stack is ambiguous: refused with the file named.
    p = run("convert", "-i", d, "-o", out, "--size", 32, expect=3)
    check("stack.tif" in p.stderr and "--channel" in p.stderr, p.stderr)
    run("convert", "-i", d, "-o", out, "--size", 32, "--channel", 1)
    with h5py.File(out, "r") as f:
        check("masks" not in f and f.attrs["has_masks"] == 0, "images-only set has no masks")
        ids = [s.decode() for s in f["meta/id"][:]]
        s = f["images"][ids.index("stack")][0]
        check(np.isclose(s[0, 0], 1) and np.isclose(s[-1, -1], 0), "page 1 taken")
    out3 = os.path.join(root, "rgb3.h5")
    os.remove(os.path.join(d, "stack.tif"))
    run("convert", "-i", d, "-o", out3, "--size", 40, "--channels", 3)
    with h5py.File(out3, "r") as f:
        check(f["images"].shape == (1, 3, 40, 40), f"rgb kept {f['images'].shape}")


def test_formats(root):
    """8-bit PNG/JPEG/BMP, 16/32-bit integer and float TIFF all convert; values as written."""
    from skimage import io as skio
    d = os.path.join(root, "fmt")
    os.makedirs(d)
    img8, _ = disks_scene(40, 48, [(20, 24, 8)], bg=20, fg=200, dtype=np.uint8)
    skio.imsave(os.path.join(d, "a_png.png"), img8, check_contrast=False)
    skio.imsave(os.path.join(d, "b_bmp.bmp"), img8, check_contrast=False)
    skio.imsave(os.path.join(d, "c_jpg.jpg"), img8, check_contrast=False, quality=95)
    tifffile.imwrite(os.path.join(d, "d_u16.tif"), img8.astype(np.uint16) * 300)
    tifffile.imwrite(os.path.join(d, "e_u32.tif"), img8.astype(np.uint32) * 100000)
    tifffile.imwrite(os.path.join(d, "f_f32.tiff"), img8.astype(np.float32) / 7)
    out = os.path.join(root, "fmt.h5")
    run("convert", "-i", d, "-o", out, "--native-size")
    ref = (img8 - 20.0) / 180.0
    with h5py.File(out, "r") as f:
        ids = [s.decode() for s in f["meta/id"][:]]
        check(ids == ["a_png", "b_bmp", "c_jpg", "d_u16", "e_u32", "f_f32"], f"{ids}")
        for i, sid in enumerate(ids):
            got = f[f"samples/{i:06d}/image"][0]
            tol = 0.1 if sid == "c_jpg" else 1e-6  # JPEG is lossy at edges
            check(np.abs(got - ref).max() <= tol, f"{sid}: max error {np.abs(got - ref).max()}")


def test_int32_labels(root):
    """32-bit label TIFFs (StarDist/Cellpose style) are read exactly, above 2**24 too."""
    img_dir, mask_dir = os.path.join(root, "i"), os.path.join(root, "m")
    os.makedirs(img_dir)
    os.makedirs(mask_dir)
    img, lab = disks_scene(40, 40, [(10, 10, 5), (28, 28, 6)])
    big = np.where(lab == 1, 70000, np.where(lab == 2, 2 ** 24 + 3, 0)).astype(np.uint32)
    tifffile.imwrite(os.path.join(img_dir, "a.tif"), img)
    tifffile.imwrite(os.path.join(mask_dir, "a.tif"), big)
    tifffile.imwrite(os.path.join(img_dir, "b.tif"), img)
    tifffile.imwrite(os.path.join(mask_dir, "b.tif"), lab.astype(np.int32))
    out = os.path.join(root, "i32.h5")
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", out, "--native-size")
    with h5py.File(out, "r") as f:
        check(same_partition(f["samples/000000/mask"][:], lab), "uint32 labels")
        check(same_partition(f["samples/000001/mask"][:], lab), "int32 labels")
    tifffile.imwrite(os.path.join(mask_dir, "b.tif"), -lab.astype(np.int32))
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", out, "--native-size", "--overwrite", expect=3)
    check("b.tif" in p.stderr and "non-negative" in p.stderr, p.stderr)


def test_ome_pixel_size(root):
    d = os.path.join(root, "ome")
    os.makedirs(d)
    img, _ = disks_scene(64, 64, [(32, 32, 10)])
    tifffile.imwrite(os.path.join(d, "a.ome.tif"), img, ome=True,
                     metadata={"axes": "YX", "PhysicalSizeX": 0.325, "PhysicalSizeY": 0.325})
    out = os.path.join(root, "ome.h5")
    run("convert", "-i", d, "-o", out, "--size", 32)
    with h5py.File(out, "r") as f:
        px = f["meta/pixel_size_um"][0]
        check(np.allclose(px, [0.65, 0.65]), f"pixel size after 2x downsizing {px}")
        check(f["meta/id"][0].decode() == "a", "'.ome' is part of the extension")


def test_lsm_pixel_size(root):
    """A Zeiss LSM file (TIFF with the 512-byte CZ_LSMINFO tag 34412; voxel sizes in metres)."""
    import struct
    d = os.path.join(root, "lsm")
    os.makedirs(d)
    img, _ = disks_scene(48, 64, [(24, 32, 9)])
    info = bytearray(512)
    struct.pack_into("<Ii8i3d", info, 0, 0x0400494C, 512, 64, 48, 1, 1, 1, 0, 0, 0, 0.3e-6, 0.3e-6, 1e-6)
    tifffile.imwrite(os.path.join(d, "scan.lsm"), img, extratags=[(34412, "B", 512, bytes(info), True)])
    out = os.path.join(root, "lsm.h5")
    run("convert", "-i", d, "-o", out, "--native-size")
    with h5py.File(out, "r") as f:
        check(np.allclose(f["meta/pixel_size_um"][0], [0.3, 0.3]), f"{f['meta/pixel_size_um'][0]}")
        expected = (img - img.min()) / (img.max() - img.min())
        check(np.allclose(f["samples/000000/image"][0], expected, atol=1e-6), "LSM pixels")


def test_refusals(root):
    img_dir, mask_dir, truth = make_paired(root, n=4)
    out = os.path.join(root, "x.h5")
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", out)
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", out, expect=2)
    check("--overwrite" in p.stderr, p.stderr)
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", out, "--overwrite")
    # A corrupt image stops the run (exit 3) and names the file; nothing is left behind.
    with open(os.path.join(img_dir, "site99.tif"), "wb") as fh:
        fh.write(b"II*\x00garbage" * 3)
    tifffile.imwrite(os.path.join(mask_dir, "site99.tif"), truth["site00"][1])
    bad_out = os.path.join(root, "bad.h5")
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", bad_out, expect=3)
    check("site99.tif" in p.stderr, p.stderr)
    check(not any(n.startswith("bad.h5") for n in os.listdir(root)), f"leftovers {os.listdir(root)}")
    # With --skip-bad the rest is converted, the skip is recorded, exit code 5.
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", bad_out, "--skip-bad", expect=5)
    with h5py.File(bad_out, "r") as f:
        skipped = json.loads(f.attrs["skipped"])
        check(len(skipped) == 1 and skipped[0]["path"].endswith("site99.tif"), f"skipped {skipped}")
        check(f.attrs["count"] == 4, "the good images are there")
    os.remove(os.path.join(img_dir, "site99.tif"))
    os.remove(os.path.join(mask_dir, "site99.tif"))
    # Mask of another size.
    tifffile.imwrite(os.path.join(mask_dir, "site01_labels.tif"), np.zeros((10, 10), np.uint16))
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", os.path.join(root, "y.h5"), expect=3)
    check("site01_labels.tif" in p.stderr and "10x10" in p.stderr, p.stderr)
    # Image without mask.
    os.remove(os.path.join(mask_dir, "site01_labels.tif"))
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", os.path.join(root, "y.h5"), expect=3)
    check("site01.tif" in p.stderr and "no mask" in p.stderr, p.stderr)
    # NaN pixels.
    nan_dir = os.path.join(root, "nan")
    os.makedirs(nan_dir)
    f32 = np.ones((16, 16), np.float32)
    f32[3, 4] = np.nan
    tifffile.imwrite(os.path.join(nan_dir, "n.tif"), f32)
    p = run("convert", "-i", nan_dir, "-o", os.path.join(root, "n.h5"), expect=3)
    check("n.tif" in p.stderr and "NaN" in p.stderr, p.stderr)
    # Empty folder and missing folder.
    empty = os.path.join(root, "empty")
    os.makedirs(empty)
    p = run("convert", "-i", empty, "-o", os.path.join(root, "e.h5"), expect=3)
    check("no images found" in p.stderr, p.stderr)
    p = run("convert", "-i", os.path.join(root, "nope"), "-o", os.path.join(root, "e.h5"), expect=3)
    check("not a directory" in p.stderr, p.stderr)
    # Bad config: unknown key and wrong type are refused with the key named.
    cfg = os.path.join(root, "c.json")
    with open(cfg, "w") as fh:
        json.dump({"images": img_dir, "out": out, "sizes": [64, 64]}, fh)
    p = run("convert", "--config", cfg, expect=2)
    check("unknown key 'sizes'" in p.stderr, p.stderr)
    with open(cfg, "w") as fh:
        json.dump({"images": img_dir, "out": out, "seed": "seven"}, fh)
    p = run("convert", "--config", cfg, expect=2)
    check("key 'seed': expected integer" in p.stderr, p.stderr)


def test_config_and_flag_override(root):
    img_dir, mask_dir, _ = make_paired(root, n=3)
    out = os.path.join(root, "cfg.h5")
    cfg = os.path.join(root, "c.json")
    with open(cfg, "w") as fh:
        json.dump({"images": img_dir, "masks": mask_dir, "out": out, "size": [16, 16], "seed": 3}, fh)
    run("convert", "--config", cfg, "--size", 24)
    with h5py.File(out, "r") as f:
        check(f["images"].shape[2:] == (24, 24), "flag overrides config")
        check(json.loads(f.attrs["config"])["seed"] == 3, "config value kept")


def test_polarity(root):
    """--polarity auto turns over bright-field-like images (dark nuclei, bright background) and
    leaves fluorescence-like ones; the stored images, /meta/inverted and the attribute say so."""
    d = os.path.join(root, "mixed")
    os.makedirs(d)
    rng = np.random.default_rng(5)
    disks = random_disks(64, 64, 6, 5, 9, rng)
    fluo, lab = disks_scene(64, 64, disks, bg=100, fg=3000, noise=10, seed=1)
    tifffile.imwrite(os.path.join(d, "fluo.tif"), fluo)
    tifffile.imwrite(os.path.join(d, "bright.tif"), (3100 - fluo.astype(np.int32)).astype(np.uint16))
    outs = {}
    for polarity in ("keep", "auto", "invert"):
        outs[polarity] = os.path.join(root, f"{polarity}.h5")
        p = run("convert", "-i", d, "-o", outs[polarity], "--size", 64, "--normalize", "percentile",
                "--polarity", polarity)
    check("inverted 2" in p.stdout, p.stdout)
    data = {}
    for polarity, out in outs.items():
        with h5py.File(out, "r") as f:
            ids = [s.decode() for s in f["meta/id"][:]]
            data[polarity] = {i: (f["images"][k][0], int(f["meta/inverted"][k])) for k, i in enumerate(ids)}
            check(json.loads(f.attrs["preprocessing"])["normalize"]["polarity"] == polarity, f.attrs["preprocessing"])
            check(json.loads(f.attrs["config"])["normalize"]["polarity"] == polarity, "config records it")
    keep, auto, inv = data["keep"], data["auto"], data["invert"]
    check(keep["fluo"][1] == 0 and keep["bright"][1] == 0, "keep inverts nothing")
    check(auto["fluo"][1] == 0 and auto["bright"][1] == 1, "auto inverts the bright background only")
    check(np.array_equal(auto["fluo"][0], keep["fluo"][0]), "fluorescence stored as with keep")
    check(np.allclose(auto["bright"][0], 1 - keep["bright"][0]), "bright-field stored as 1 - v")
    inside = lab > 0
    check(auto["bright"][0][inside].mean() > auto["bright"][0][~inside].mean() + 0.5, "nuclei now bright")
    check(np.allclose(inv["fluo"][0], 1 - keep["fluo"][0]) and inv["fluo"][1] == 1, "invert turns all over")
    p = run("convert", "-i", d, "-o", os.path.join(root, "bad.h5"), "--polarity", "sideways", expect=2)
    check("polarity" in p.stderr, p.stderr)


def equivalent_diameters(lab):
    areas = np.bincount(lab.ravel().astype(np.int64))[1:]
    return 2 * np.sqrt(areas[areas > 0] / np.pi)


def test_target_diameter(root):
    """--target-diameter resizes each image so that its nuclei have the median diameter asked."""
    img_dir, mask_dir, truth = make_paired(root, n=6)
    # Two more sites with small nuclei (radius 3-4) and one with large ones (radius 14-16).
    rng = np.random.default_rng(5)
    for name, (h, w, n, rmin, rmax) in {"small": (60, 70, 6, 3, 4), "large": (100, 110, 4, 14, 16)}.items():
        img, lab = disks_scene(h, w, random_disks(h, w, n, rmin, rmax, rng), bg=100, fg=3000)
        tifffile.imwrite(os.path.join(img_dir, f"{name}.tif"), img)
        tifffile.imwrite(os.path.join(mask_dir, f"{name}_labels.tif"), lab)
        truth[name] = (img, lab)
    plain, scaled = os.path.join(root, "plain.h5"), os.path.join(root, "d24.h5")
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", plain, "--native-size")
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", scaled, "--native-size", "--target-diameter", 24)
    with h5py.File(plain, "r") as fp, h5py.File(scaled, "r") as fs:
        ids = [s.decode() for s in fs["meta/id"][:]]
        check(ids == [s.decode() for s in fp["meta/id"][:]], "same samples")
        for k in ("train", "val", "test"):
            check(np.array_equal(fp["split"][k][:], fs["split"][k][:]), "same split as at native size")
        check(json.loads(fs.attrs["config"])["target_diameter"] == 24, "config records the target")
        check(np.allclose(fp["meta/scale"][:], 1), "native size: scale 1")
        factors = {}
        for i, sid in enumerate(ids):
            img, lab = truth[sid]
            expected = float(np.clip(24 / np.median(equivalent_diameters(lab)), 0.2, 5))
            scale = float(fs["meta/scale"][i])
            factors[sid] = scale
            check(abs(scale - expected) < 1e-6, f"{sid}: scale {scale}, expected {expected}")
            image, mask = fs[f"samples/{i:06d}/image"][:], fs[f"samples/{i:06d}/mask"][:]
            shape = (round(img.shape[0] * scale), round(img.shape[1] * scale))
            check(image.shape == (1,) + shape and mask.shape == shape, f"{sid}: {image.shape} {mask.shape}")
            check(len(np.unique(mask)) - 1 == len(np.unique(lab)) - 1 == fs["meta/nuclei"][i],
                  f"{sid}: every nucleus kept")
            got = np.median(equivalent_diameters(mask))
            check(abs(got - 24) < 1.5, f"{sid}: median diameter {got:.1f} px after resizing, target 24")
            check(0 <= image.min() and image.max() <= 1, "normalized")
        check(factors["small"] > 2.5 and factors["large"] < 0.9, f"factors {factors}")
    # A model trained on such data has predict bring every image to the same nucleus size.
    model_dir = os.path.join(root, "model")
    run("train", "--data", scaled, "--out", model_dir, "--epochs", 1, "--steps-per-epoch", 1, "--mode", "contour",
        "--depth", 2, "--base-filters", 4, "--crop", 32, 32, "-b", 2, "-j", 1)
    for extra, target in (((), 24), (("--target-diameter", 30), 30)):
        out = os.path.join(root, f"pred{target}")
        run("predict", "--model", os.path.join(model_dir, "best.pt"), "--input", img_dir, "--out", out,
            "--overlays", 0, "-j", 1, *extra)
        model = json.load(open(os.path.join(out, ".nucseg", "inputs.json")))["model"]
        check(model["target_diameter_px"] == target, f"predict target {model} (expected {target})")
    # Refusals: a fixed size (one factor per image cannot also give one size), no masks, a bad value.
    p = run("convert", "-i", img_dir, "-m", mask_dir, "-o", os.path.join(root, "x.h5"), "--size", 64,
            "--target-diameter", 24, expect=2)
    check("native" in p.stderr, p.stderr)
    p = run("convert", "-i", img_dir, "--layout", "images", "-o", os.path.join(root, "y.h5"), "--native-size",
            "--target-diameter", 24, expect=2)
    check("masks" in p.stderr and "x.h5" not in p.stderr, p.stderr)
    run("convert", "-i", img_dir, "-m", mask_dir, "-o", os.path.join(root, "z.h5"), "--native-size",
        "--target-diameter", -3, expect=2)


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            with tempdir() as root:
                fn(root)
                print(f"ok {name}")

"""Noisy images (a synthetic plate with white noise of 25 % of its range added: ~0.11 of the range
the network sees, its percentiles widened by the noise; far more than the model saw in training,
and a moderately noisy copy, 8 %): predict's --denoise auto measures each image's noise, smooths
the very noisy ones with a 1-px Gaussian before the network and leaves the others alone; the
measured noise and the sigma used are in each image's record and the log counts the smoothed
images; smoothing segments the very noisy plate better than none; --denoise off and a fixed
sigma do what they say; the setting decides resuming; bad values are refused."""
import glob
import json
import os

import numpy as np
import tifffile

from nucseg_testlib import check, run, synth_plate, tempdir


def ap50(root, masks, truth, name):
    ev = os.path.join(root, "eval-" + name)
    run("evaluate", "--pred", masks, "--truth", truth, "--out", ev)
    return json.load(open(os.path.join(ev, "evaluation.json")))["summary"]["ap_0.50"]


def records(out):
    """Per image (file name): (noise measured, sigma applied)."""
    got = {}
    for p in glob.glob(os.path.join(out, ".nucseg", "done", "**", "*.json"), recursive=True):
        r = json.load(open(p))["result"]
        got[r["info"]["file_name"]] = (r["noise"], r["denoise_sigma"])
    return got


def predict(src, out, *extra):
    return run("predict", "--input", src, "--out", out, "--overlays", 0, "-j", 2, "--no-auto-diameter", *extra)


def main():
    with tempdir() as root:
        plate, truth = synth_plate(root, 2, 3, 192, 224, (14, 18), 11)

        def add_noise(level):
            folder = os.path.join(root, f"noise-{level}")
            os.makedirs(folder)
            rng = np.random.default_rng(5)
            for path in sorted(glob.glob(os.path.join(plate, "*.tif"))):
                img = tifffile.imread(path).astype(np.float64)
                lo, hi = np.percentile(img, [1, 99.8])
                img = img + rng.normal(0, level * (hi - lo), img.shape)
                tifffile.imwrite(os.path.join(folder, os.path.basename(path)),
                                 np.clip(np.rint(img), 0, 65535).astype(np.uint16))
            return folder

        noisy, moderate = add_noise(0.25), add_noise(0.08)

        clean_out = os.path.join(root, "clean")
        p = predict(plate, clean_out)
        check("smoothed" not in p.stderr, p.stderr[-2000:])
        clean = records(clean_out)
        check(len(clean) == 6 and all(n < 0.03 and s == 0 for n, s in clean.values()), f"clean plate: {clean}")
        moderate_out = os.path.join(root, "moderate")
        predict(moderate, moderate_out)
        mod = records(moderate_out)
        check(len(mod) == 6 and all(0.03 < n < 0.07 and s == 0 for n, s in mod.values()), f"moderate noise: {mod}")

        auto_out = os.path.join(root, "auto")
        p = predict(noisy, auto_out)
        check("6 of 6 image(s) smoothed" in p.stderr, p.stderr[-2000:])
        auto = records(auto_out)
        check(len(auto) == 6 and all(0.09 < n < 0.2 and s == 1.0 for n, s in auto.values()), f"noisy plate, auto: {auto}")

        off_out = os.path.join(root, "off")
        predict(noisy, off_out, "--denoise", "off")
        off = records(off_out)
        check(all(s == 0 for _, s in off.values()) and
              all(abs(off[k][0] - auto[k][0]) < 1e-9 for k in off), f"--denoise off: {off} vs auto {auto}")

        a_clean = ap50(root, os.path.join(clean_out, "masks"), truth, "clean")
        a_auto = ap50(root, os.path.join(auto_out, "masks"), truth, "auto")
        a_off = ap50(root, os.path.join(off_out, "masks"), truth, "off")
        print(f"AP@0.5: clean plate {a_clean:.3f}; noisy plate, denoise auto {a_auto:.3f}, off {a_off:.3f}")
        check(a_auto > a_off, f"smoothing the noisy plate: AP@0.5 {a_auto} vs {a_off} without")

        # A dataset input (stored scaled) is smoothed and scaled again: as good as the files.
        h5 = os.path.join(root, "noisy.h5")
        run("convert", "-i", noisy, "-o", h5, "--native-size", "--normalize", "percentile")
        h5_out = os.path.join(root, "from-h5")
        predict(h5, h5_out)
        from_h5 = records(h5_out)
        check(len(from_h5) == 6 and all(0.09 < n < 0.2 and s == 1.0 for n, s in from_h5.values()), f"dataset: {from_h5}")
        a_h5 = ap50(root, os.path.join(h5_out, "masks"), truth, "h5")
        print(f"AP@0.5 from the dataset: {a_h5:.3f}")
        check(a_h5 > a_off and abs(a_h5 - a_auto) < 0.05, f"dataset input, denoise auto: {a_h5} (files: {a_auto}, off {a_off})")

        # A fixed sigma applies to every image, clean ones too; given in a config file as a number.
        fixed_out = os.path.join(root, "fixed")
        cfg = os.path.join(root, "predict.json")
        json.dump({"denoise": 2}, open(cfg, "w"))
        run("predict", "--config", cfg, "--input", plate, "--out", fixed_out, "--overlays", 0, "-j", 2,
            "--no-auto-diameter")
        fixed = records(fixed_out)
        check(len(fixed) == 6 and all(s == 2.0 for _, s in fixed.values()), f"denoise 2: {fixed}")

        # The setting is part of what decides resuming.
        p = predict(noisy, off_out, "--denoise", "off")
        check("6 already done" in p.stdout, p.stdout)
        p = predict(noisy, off_out)
        check("already done" not in p.stdout, p.stdout)

        for bad in ("loud", "0", "-1", "1.5px"):
            p = run("predict", "--input", plate, "--out", os.path.join(root, "bad"), "--denoise", bad, expect=2)
            check("denoise" in p.stderr, p.stderr)


if __name__ == "__main__":
    main()

"""Nuclei of another size than the model's training nuclei (a higher-magnification objective,
simulated by enlarging a synthetic plate 4x): --diameter and the default auto diameter pick the
scale that brings them to the target diameter (1.3x the model's training median unless
--target-diameter says otherwise) and segment them as well as the model does on the plate at
its own size; masks stay at full resolution; --no-auto-diameter segments at scale 1; conflicting
scale settings are refused with a message. (At scale 1 the default distance seeds also segment this plate well: their
h-maxima scale with the nuclei. With the interior seeds of the previous model, scale 1 lost
0.09 AP@0.5 here and --diameter won it back.)"""
import glob
import json
import os

import numpy as np
import tifffile

from nucseg_testlib import check, run, tempdir

FACTOR = 4


def ap50(root, masks, truth, name):
    ev = os.path.join(root, "eval-" + name)
    run("evaluate", "--pred", masks, "--truth", truth, "--out", ev)
    return json.load(open(os.path.join(ev, "evaluation.json")))["summary"]["ap_0.50"]


def scales_used(out):
    return [json.load(open(p))["result"]["scale"] for p in glob.glob(os.path.join(out, ".nucseg", "done", "**", "*.json"),
                                                                        recursive=True)]


def main():
    with tempdir() as root:
        syn = os.path.join(root, "syn")
        run("synth", "--out", syn, "--wells", 1, "--sites", 2, "--size", 160, 200, "--nuclei", 12, 12, "--seed", 3)
        big, truth = os.path.join(root, "big"), os.path.join(root, "truth")
        os.makedirs(big)
        os.makedirs(truth)
        for path in sorted(glob.glob(os.path.join(syn, "plate1", "*.tif"))):
            stem = os.path.basename(path)[:-4]
            img = tifffile.imread(path)
            lab = tifffile.imread(os.path.join(syn, "ground_truth", "plate1", stem + "_labels.tif"))
            up = lambda a: np.repeat(np.repeat(a, FACTOR, axis=0), FACTOR, axis=1)
            tifffile.imwrite(os.path.join(big, stem + ".tif"), up(img))
            tifffile.imwrite(os.path.join(truth, stem + "_labels.tif"), up(lab))
        diameters = []
        for path in glob.glob(os.path.join(truth, "*.tif")):
            lab = tifffile.imread(path)
            areas = np.bincount(lab.ravel())[1:]
            diameters += list(2 * np.sqrt(areas[areas > 0] / np.pi))
        true_d = float(np.median(diameters))

        native = os.path.join(root, "native")
        run("predict", "--input", os.path.join(syn, "plate1"), "--out", native, "--overlays", 0, "-j", 2,
            "--no-auto-diameter")
        a_native = ap50(root, os.path.join(native, "masks"), os.path.join(syn, "ground_truth", "plate1"), "native")
        check(scales_used(native) == [1.0, 1.0], f"--no-auto-diameter: scale 1, got {scales_used(native)}")

        plain = os.path.join(root, "plain")
        run("predict", "--input", big, "--out", plain, "--overlays", 0, "-j", 2, "--no-auto-diameter")
        summary = json.load(open(os.path.join(plain, "summary.json")))
        model_d = json.load(open(os.path.join(plain, ".nucseg", "inputs.json"))).get("model", {}).get("nucleus_diameter_px")
        a_plain = ap50(root, os.path.join(plain, "masks"), truth, "plain")
        check(model_d and model_d > 0, f"the shipped model records its training diameter: {model_d}")

        given = os.path.join(root, "given")
        run("predict", "--input", big, "--out", given, "--overlays", 0, "--diameter", round(true_d, 1), "-j", 2)
        a_given = ap50(root, os.path.join(given, "masks"), truth, "given")
        mask = tifffile.imread(glob.glob(os.path.join(given, "masks", "*.tif"))[0])
        check(mask.shape == (160 * FACTOR, 200 * FACTOR), f"mask at full resolution: {mask.shape}")
        want = 1.3 * model_d / round(true_d, 1)
        check(all(abs(s - want) < 1e-9 for s in scales_used(given)),
              f"--diameter scales to 1.3x the training diameter: {scales_used(given)} vs {want}")

        auto = os.path.join(root, "auto")  # the default: no scale flag at all
        p = run("predict", "--input", big, "--out", auto, "--overlays", 0, "-j", 2)
        a_auto = ap50(root, os.path.join(auto, "masks"), truth, "auto")
        used = scales_used(auto)
        print(f"true diameter {true_d:.1f} px, model {model_d}; AP@0.5 on the plate at its own size: {a_native:.3f}; "
              f"enlarged {FACTOR}x: scale 1 {a_plain:.3f}, --diameter {a_given:.3f}, auto diameter {a_auto:.3f} "
              f"(scales {used})")
        check(len(used) == 2 and all(0.15 <= s < 0.6 for s in used), f"auto scales {used}")
        check(a_given >= a_native - 0.05, f"--diameter recovers the native accuracy: {a_given} vs {a_native}")
        check(a_auto >= a_native - 0.05, f"the auto diameter recovers the native accuracy: {a_auto} vs {a_native}")
        check(summary["images"] == 2, summary)

        # A target as large as the enlarged nuclei: the measured scale is within 1.2x of 1, so
        # there is no second pass.
        same = os.path.join(root, "same")
        run("predict", "--input", big, "--out", same, "--overlays", 0, "-j", 2, "--auto-diameter",
            "--target-diameter", round(true_d, 1))
        check(scales_used(same) == [1.0, 1.0], f"target = the nuclei's size: scale 1, got {scales_used(same)}")
        # The plate at its own size with the default: rescaled towards the target, not worse.
        native_auto = os.path.join(root, "native-auto")
        run("predict", "--input", os.path.join(syn, "plate1"), "--out", native_auto, "--overlays", 0, "-j", 2)
        a_native_auto = ap50(root, os.path.join(native_auto, "masks"), os.path.join(syn, "ground_truth", "plate1"),
                             "native-auto")
        print(f"plate at its own size: scale 1 {a_native:.3f}, auto diameter {a_native_auto:.3f} "
              f"(scales {scales_used(native_auto)})")
        check(a_native_auto >= a_native - 0.05, f"auto diameter on the native plate: {a_native_auto} vs {a_native}")

        p = run("predict", "--input", big, "--out", os.path.join(root, "x"), "--scale", 0.5, "--diameter", 30, expect=2)
        check("at most one of scale, diameter and auto_diameter" in p.stderr, p.stderr)
        p = run("predict", "--input", big, "--out", os.path.join(root, "x"), "--scale", 0.5, "--auto-diameter", expect=2)
        check("at most one of scale, diameter and auto_diameter" in p.stderr, p.stderr)
        p = run("predict", "--input", big, "--out", os.path.join(root, "x"), "--scale", 0.5, "--target-diameter", 20,
                expect=2)
        check("target_diameter" in p.stderr and "only applies" in p.stderr, p.stderr)
        p = run("predict", "--input", big, "--out", os.path.join(root, "x"), "--auto-diameter", "--no-auto-diameter",
                expect=2)
        check("excludes" in p.stderr, p.stderr)
        p = run("predict", "--input", big, "--out", os.path.join(root, "y"), "--tta", 3, expect=2)
        check("tta" in p.stderr, p.stderr)
    print("ok")


if __name__ == "__main__":
    main()

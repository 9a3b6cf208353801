#!/usr/bin/env python3
"""contour+distance models end to end: a contour model starts a contour+distance one
(train --init), predict writes its 4-channel probability maps (3 class probabilities summing to
1, the distance output in [0, 1]) and seeds the split from the distance output on request
(--seeds predicted); predicted seeds are refused for a model without that output."""
import json
import os

import numpy as np
import tifffile

from nucseg_testlib import check, run, synth_plate, tempdir


def main():
    with tempdir() as root:
        plate, truth = synth_plate(root, 1, 2, 160, 192, (10, 16), 5)
        data = os.path.join(root, "d.h5")
        run("convert", "--images", plate, "--masks", truth, "--out", data, "--size", 64, "--threads", 1)
        small = ("--depth", 2, "--base-filters", 4, "-b", 2, "-j", 1, "--epochs", 1, "--steps-per-epoch", 2)
        contour, grown = os.path.join(root, "contour"), os.path.join(root, "grown")
        run("train", "--data", data, "--out", contour, "--mode", "contour", *small)
        p = run("train", "--data", data, "--out", grown, "--mode", "contour+distance",
                "--init", os.path.join(contour, "best.pt"), *small)
        check("fine-tuning" in p.stdout + p.stderr, p.stdout + p.stderr)
        model = os.path.join(grown, "best.pt")

        out = os.path.join(root, "pred")
        run("predict", "--model", model, "--input", plate, "--out", out, "--probabilities", "--overlays", 0, "-j", 1)
        distance_masks = {n: tifffile.imread(os.path.join(out, "masks", n)) for n in sorted(os.listdir(os.path.join(out, "masks")))}
        summary = json.load(open(os.path.join(out, "summary.json")))
        check(summary["model"]["mode"] == "contour+distance", f"{summary['model']}")
        check(summary["config"]["seeds"] == "distance", f"default seeds: {summary['config']['seeds']}")
        check(summary["images"] == 2 and summary["failed"] == 0, f"{summary}")
        for name in sorted(os.listdir(plate)):
            stem = os.path.splitext(name)[0]
            probs = tifffile.imread(os.path.join(out, "probabilities", stem + ".tif"))
            image = tifffile.imread(os.path.join(plate, name))
            check(probs.shape == (4,) + image.shape[-2:], f"{stem}: probability map {probs.shape}")
            check(np.allclose(probs[:3].sum(axis=0), 1.0, atol=1e-4), f"{stem}: class probabilities sum to 1")
            check(probs[3].min() >= 0.0 and probs[3].max() <= 1.0, f"{stem}: distance output in [0, 1]")
            mask = tifffile.imread(os.path.join(out, "masks", stem + ".tif"))
            check(mask.dtype == np.uint16 and mask.shape == image.shape[-2:], f"{stem}: mask {mask.dtype} {mask.shape}")

        # Seeds from the distance output: the same foreground, its own split; they need that output.
        other = os.path.join(root, "pred-predicted")
        run("predict", "--model", model, "--input", plate, "--out", other, "--seeds", "predicted", "--overlays", 0,
            "-j", 1)
        check(json.load(open(os.path.join(other, "summary.json")))["config"]["seeds"] == "predicted", "seeds as given")
        for name, a in distance_masks.items():
            b = tifffile.imread(os.path.join(other, "masks", name))
            check(np.array_equal(a > 0, b > 0) or abs(int((a > 0).sum()) - int((b > 0).sum())) < 0.02 * (a > 0).sum(),
                  f"{name}: predicted seeds change the split, not the foreground")
        p = run("predict", "--model", os.path.join(contour, "best.pt"), "--input", plate,
                "--out", os.path.join(root, "refused"), "--seeds", "predicted", expect=2)
        check("predicted" in p.stderr and "contour+distance" in p.stderr, p.stderr)
    print("contour+distance: trained from a contour model, 4-channel maps, predicted seeds on request")


if __name__ == "__main__":
    main()

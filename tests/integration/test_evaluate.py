#!/usr/bin/env python3
"""nucseg evaluate against an independent NumPy oracle on real DSB 2018 masks.

Predictions are the true masks of six images, perturbed in known ways (identical, eroded,
objects dropped, one object split in two, dilated, shifted with extra blobs). The oracle
computes the IoU matrix with np.bincount and counts matches as pairs with IoU > t (unique
for t >= 0.5, so no assignment is needed). Tolerance: 1e-6 for the CSV (printed with 6
decimals) and 1e-9 for the JSON."""
import csv
import json
import os
import subprocess
import sys
import tempfile

DATA = os.environ.get("NUCSEG_DATA_DIR", "")
BIN = os.environ.get("NUCSEG_BIN", "")
DSB = os.path.join(DATA, "dsb2018_stage1_train")
if not os.path.isdir(DSB) or not os.path.exists(BIN):
    print("skip: ../shared/data/dsb2018_stage1_train or the nucseg binary is missing")
    sys.exit(77)
try:
    import numpy as np
    import tifffile
    from scipy import ndimage
    from skimage.io import imread
except ImportError as e:
    print("skip:", e)
    sys.exit(77)

THRESHOLDS = [0.5 + 0.05 * k for k in range(10)]


def truth_labels(sample):
    mask_dir = os.path.join(DSB, sample, "masks")
    labels = None
    for k, name in enumerate(sorted(os.listdir(mask_dir))):
        m = imread(os.path.join(mask_dir, name))
        if m.ndim == 3:
            m = m.max(axis=2)
        if labels is None:
            labels = np.zeros(m.shape, np.uint32)
        labels[(m > 0) & (labels == 0)] = k + 1
    return labels


def perturb(labels, kind, rng):
    out = np.zeros_like(labels)
    ids = [int(i) for i in np.unique(labels) if i]
    if kind == "identical":
        perm = rng.permutation(len(ids)) + 1
        for i, new in zip(ids, perm):
            out[labels == i] = new
    elif kind == "eroded":
        for i in ids:
            out[ndimage.binary_erosion(labels == i)] = i
    elif kind == "dropped":
        for n, i in enumerate(ids):
            if n % 3 != 1:
                out[labels == i] = i
    elif kind == "split":
        out[:] = labels
        big = max(ids, key=lambda i: int((labels == i).sum()))
        ys, xs = np.nonzero(labels == big)
        cut = int(np.median(xs))
        out[(labels == big) & (np.arange(labels.shape[1])[None, :] >= cut)] = max(ids) + 1
    elif kind == "dilated":
        grown = ndimage.grey_dilation(labels, size=(5, 5))
        out[:] = np.where(labels > 0, labels, grown)
    elif kind == "shifted":
        out[:] = np.roll(labels, (2, -3), axis=(0, 1))
        out[:6, :6] = max(ids) + 1
        out[-5:, -9:] = max(ids) + 2
    return out


def oracle(truth, pred):
    t_ids, t = np.unique(truth, return_inverse=True)
    p_ids, p = np.unique(pred, return_inverse=True)
    nt, np_ = len(t_ids), len(p_ids)
    inter = np.bincount(t.ravel() * np_ + p.ravel(), minlength=nt * np_).reshape(nt, np_)
    t_area, p_area = inter.sum(1), inter.sum(0)
    # Drop background rows/columns (label 0 is first when present).
    if t_ids[0] == 0:
        inter, t_area = inter[1:], t_area[1:]
    if p_ids[0] == 0:
        inter, p_area = inter[:, 1:], p_area[1:]
    union = t_area[:, None] + p_area[None, :] - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    n_true, n_pred = inter.shape
    r = {"n_true": n_true, "n_pred": n_pred, "t": []}
    for th in THRESHOLDS:
        hits = iou > th
        assert (hits.sum(0) <= 1).all() and (hits.sum(1) <= 1).all()
        tp = int(hits.sum())
        fp, fn = n_pred - tp, n_true - tp
        empty = 1.0 if tp + fp + fn == 0 else 0.0
        div = lambda a, b: a / b if b else empty
        r["t"].append(dict(tp=tp, fp=fp, fn=fn, ap=div(tp, tp + fp + fn), precision=div(tp, tp + fp),
                           recall=div(tp, tp + fn), f1=div(2 * tp, 2 * tp + fp + fn)))
    r["dsb"] = float(np.mean([x["ap"] for x in r["t"]]))
    tf, pf = truth > 0, pred > 0
    r["px"] = dict(tp=int((tf & pf).sum()), fp=int((~tf & pf).sum()), fn=int((tf & ~pf).sum()),
                   tn=int((~tf & ~pf).sum()))
    return r


def px_metrics(c):
    n = c["tp"] + c["fp"] + c["fn"] + c["tn"]
    d = c["tp"] + c["fp"] + c["fn"]
    return ((c["tp"] + c["tn"]) / n, c["tp"] / d if d else 1.0, 2 * c["tp"] / (c["tp"] + d) if d else 1.0)


def close(a, b, tol, what):
    if abs(a - b) > tol:
        raise AssertionError(f"{what}: nucseg {a} vs oracle {b} (tolerance {tol})")


def main():
    rng = np.random.default_rng(0)
    samples = sorted(d for d in os.listdir(DSB) if os.path.isdir(os.path.join(DSB, d, "masks")))[:6]
    kinds = ["identical", "eroded", "dropped", "split", "dilated", "shifted"]
    with tempfile.TemporaryDirectory() as tmp:
        pred_dir = os.path.join(tmp, "pred")
        os.makedirs(pred_dir)
        expected = {}
        for sample, kind in zip(samples, kinds):
            truth = truth_labels(sample)
            pred = perturb(truth, kind, rng)
            tifffile.imwrite(os.path.join(pred_dir, sample + "_labels.tif"), pred.astype(np.uint16))
            expected[sample] = oracle(truth, pred)
        tifffile.imwrite(os.path.join(pred_dir, "not_in_truth.tif"), np.zeros((8, 8), np.uint16))
        out = os.path.join(tmp, "out")
        cmd = [BIN, "evaluate", "--pred", pred_dir, "--truth", DSB, "--out", out, "--panels", "2", "-j", "2"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
        print(res.stdout.strip())

        with open(os.path.join(out, "evaluation.csv"), newline="") as f:
            rows = {r["Image"]: r for r in csv.DictReader(f)}
        assert sorted(rows) == sorted(samples), sorted(rows)
        for sample, e in expected.items():
            r = rows[sample]
            assert int(r["TruthCount"]) == e["n_true"] and int(r["PredCount"]) == e["n_pred"], (sample, r)
            close(float(r["DSBScore"]), e["dsb"], 1e-6, f"{sample} DSBScore")
            for name, value in zip(["PixelAccuracy", "PixelIoU", "PixelDice"], px_metrics(e["px"])):
                close(float(r[name]), value, 1e-6, f"{sample} {name}")
            for th, x in zip(THRESHOLDS, e["t"]):
                s = f"{th:.2f}"
                for key in ["tp", "fp", "fn"]:
                    got = int(r[key.upper() + "_" + s])
                    assert got == x[key], (sample, s, key, got, x[key])
                for col, key in [("AP_", "ap"), ("Precision_", "precision"), ("Recall_", "recall"), ("F1_", "f1")]:
                    close(float(r[col + s]), x[key], 1e-6, f"{sample} {col}{s}")
        # The perturbations must exercise the metric: not everything perfect.
        assert expected[samples[0]]["dsb"] == 1.0
        assert expected[samples[2]]["t"][0]["fn"] > 0 and expected[samples[3]]["t"][0]["fp"] == 1

        with open(os.path.join(out, "evaluation.json")) as f:
            doc = json.load(f)
        assert doc["images"] == 6
        assert doc["unmatched"]["prediction_without_truth"] == 1
        n_truth = len([d for d in os.listdir(DSB) if os.path.isdir(os.path.join(DSB, d, "masks"))])
        assert doc["unmatched"]["truth_without_prediction"] == n_truth - 6
        dsb = float(np.mean([e["dsb"] for e in expected.values()]))
        close(doc["summary"]["dsb_score"], dsb, 1e-9, "overall DSB score")
        close(doc["summary"]["ap_0.50"], float(np.mean([e["t"][0]["ap"] for e in expected.values()])), 1e-9,
              "AP@0.5")
        close(doc["mean_over_images"]["pixel_iou"],
              float(np.mean([px_metrics(e["px"])[1] for e in expected.values()])), 1e-9, "mean pixel IoU")
        pooled = {k: sum(e["px"][k] for e in expected.values()) for k in ["tp", "fp", "fn", "tn"]}
        close(doc["pooled"]["pixel_dice"], px_metrics(pooled)[2], 1e-9, "pooled Dice")
        for j, th in enumerate(THRESHOLDS):
            tp = sum(e["t"][j]["tp"] for e in expected.values())
            fp = sum(e["t"][j]["fp"] for e in expected.values())
            fn = sum(e["t"][j]["fn"] for e in expected.values())
            close(doc["pooled"]["ap"][f"{th:.2f}"], tp / (tp + fp + fn), 1e-9, f"pooled AP {th:.2f}")

        # Panels: the two lowest DSB scores, input | truth | prediction side by side.
        worst = sorted(expected, key=lambda s: (expected[s]["dsb"], sorted(expected).index(s)))[:2]
        assert len(doc["panels"]) == 2, doc["panels"]
        for sample in worst:
            panel = imread(os.path.join(out, "panels", sample + ".png"))
            h, w = truth_labels(sample).shape
            assert panel.shape[:2] == (h, 3 * w + 8), (sample, panel.shape)

        # Bad inputs: one-line errors naming the file or folder, exit code 3.
        res = subprocess.run([BIN, "evaluate", "--pred", pred_dir, "--truth", os.path.join(tmp, "nope"),
                              "--out", out], capture_output=True, text=True)
        assert res.returncode == 3 and "nope" in res.stderr, res.stderr
        bad = os.path.join(tmp, "bad")
        os.makedirs(bad)
        tifffile.imwrite(os.path.join(bad, samples[0] + ".tif"), np.zeros((7, 9), np.uint16))
        res = subprocess.run([BIN, "evaluate", "--pred", bad, "--truth", DSB, "--out", out],
                             capture_output=True, text=True)
        assert res.returncode == 3 and samples[0] + ".tif" in res.stderr, res.stderr
        assert len([l for l in res.stderr.splitlines() if "error" in l]) == 1, res.stderr
    print("evaluate matches the NumPy oracle on", len(samples), "real images")


if __name__ == "__main__":
    main()

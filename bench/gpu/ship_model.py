#!/usr/bin/env python3
"""Ships a model brought back by bench/gpu/train.sh only when it is better than the shipped one.

    python3 bench/gpu/ship_model.py OUT/best.pt --result OUT/result.json

Both models segment the validation samples of a packed set (pack_train_data.py; default
bench/gpu/train-data: the 66 DSB validation images) with the same `nucseg predict` defaults and are
scored by `nucseg evaluate`. The candidate replaces the shipped model (models/nucseg-default.pt, or
--shipped) when its DSB score is higher and its AP@0.5 at least as high; otherwise it is refused
(exit code 3) and nothing changes. Either way it prints the model card's rows: GPU, time, command
and every figure of both models. A checkpoint brought back in parts (best.pt.part-00, ...) is
joined first; with --result, its SHA-256 must match the one recorded on the node.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REFUSED = 3
FIGURES = (("ap_0.50", "AP@0.5"), ("dsb_score", "DSB score"), ("pixel_iou", "pixel IoU"),
           ("pixel_accuracy", "pixel accuracy"))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def joined(candidate, work):
    """The candidate as one file: itself, or its parts (best.pt.part-00, -01, ...) joined."""
    if not candidate.endswith(".part-00"):
        return candidate
    parts = sorted(glob.glob(candidate[: -len("00")] + "[0-9][0-9]"))
    out = os.path.join(work, "candidate.pt")
    with open(out, "wb") as o:
        for p in parts:
            with open(p, "rb") as i:
                shutil.copyfileobj(i, o)
    return out


def score(nucseg, model, val_list, truth, work, name, threads):
    """nucseg predict + evaluate of `model` on the listed images: the evaluation summary."""
    pred, ev = os.path.join(work, "pred-" + name), os.path.join(work, "eval-" + name)
    for args in (["predict", "--model", model, "--input", val_list, "--out", pred, "--overlays", "0", "--no-resume",
                  "-j", str(threads)],
                 ["evaluate", "--pred", os.path.join(pred, "masks"), "--truth", truth, "--out", ev]):
        p = subprocess.run([nucseg, "--log-level", "warn", *args], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"ship: nucseg {args[0]} of '{model}' failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return json.load(open(os.path.join(ev, "evaluation.json")))["summary"]


def is_better(candidate, shipped):
    """The rule: a higher DSB score (mean AP over IoU 0.5-0.95) and an AP@0.5 at least as high."""
    return candidate["dsb_score"] > shipped["dsb_score"] and candidate["ap_0.50"] >= shipped["ap_0.50"]


def run_rows(result):
    """The node's run (result.json of train.sh) as rows of a Markdown table; none without it."""
    if not result:
        return []
    t, walls, metrics = result.get("training", {}), result.get("wall_seconds", {}), result.get("metrics", {})
    stopped = " (stopped by the time limit: not reproducible elsewhere)" if t.get("stopped_by_time_limit") else ""
    return ["| | |", "| --- | --- |",
            f"| GPU | {result.get('gpu', '?')} ({result.get('nucseg_version', '?')}) |",
            f"| Training | {t.get('epochs_run')} of {t.get('epochs_configured')} epochs{stopped}, best epoch "
            f"{t.get('best_epoch')} (validation loss {t.get('best_val_loss')}), {t.get('images_per_s_median')} "
            f"crops/s (median epoch), {walls.get('train')} s wall |",
            "| Wall times on the node (s) | " + ", ".join(f"{k} {v}" for k, v in walls.items()) + " |",
            f"| Command | `{result.get('commands', {}).get('train', '?')}` |",
            f"| Figures on the node ({metrics.get('validation_images')} validation images) | "
            + ", ".join(f"{label} {metrics.get(key, float('nan')):.3f}" for key, label in FIGURES) + " |", ""]


def card_rows(result, candidate, shipped, n_images, sha):
    """The model card's rows: the node's run, then both models' figures here."""
    rows = run_rows(result) + [
        f"Checkpoint SHA-256: `{sha}`", "",
        f"| model ({n_images} validation images, predict defaults) | " + " | ".join(l for _, l in FIGURES) + " |",
        "| --- |" + " --- |" * len(FIGURES)]
    for name, s in (("candidate", candidate), ("shipped", shipped)):
        rows.append(f"| {name} | " + " | ".join(f"{s[k]:.3f}" for k, _ in FIGURES) + " |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("candidate", help="best.pt (or best.pt.part-00) brought back by train.sh")
    ap.add_argument("--result", help="result.json brought back with it")
    ap.add_argument("--shipped", default=os.path.join(ROOT, "models", "nucseg-default.pt"))
    ap.add_argument("--data", default=os.path.join(ROOT, "bench", "gpu", "train-data"),
                    help="packed set whose validation samples are scored")
    ap.add_argument("--nucseg", default=os.path.join(ROOT, "build", "tools", "nucseg"))
    ap.add_argument("-j", "--threads", type=int, default=2)
    a = ap.parse_args()
    result = json.load(open(a.result)) if a.result else {}
    with tempfile.TemporaryDirectory() as work:
        candidate = joined(a.candidate, work)
        sha = sha256(candidate)
        recorded = result.get("checkpoint", {}).get("sha256")
        if recorded and recorded != sha:
            sys.exit(f"ship: '{a.candidate}' has SHA-256 {sha}, the node recorded {recorded}: incomplete copy?")
        val_ids = [line.split()[0] for line in open(os.path.join(a.data, "split.txt")) if line.split()[1:] == ["val"]]
        truth = os.path.join(work, "truth")
        os.makedirs(truth)
        val_list = os.path.join(work, "val.txt")
        with open(val_list, "w") as f:
            for i in val_ids:
                f.write(os.path.join(os.path.abspath(a.data), "images", i + ".png") + "\n")
                os.symlink(os.path.join(os.path.abspath(a.data), "labels", i + ".png"), os.path.join(truth, i + ".png"))
        new = score(a.nucseg, candidate, val_list, truth, work, "candidate", a.threads)
        old = score(a.nucseg, a.shipped, val_list, truth, work, "shipped", a.threads)
        print(card_rows(result, new, old, len(val_ids), sha))
        if not is_better(new, old):
            print(f"\nship: refused: the candidate is not better on the validation split (DSB score "
                  f"{new['dsb_score']:.3f} vs {old['dsb_score']:.3f}, AP@0.5 {new['ap_0.50']:.3f} vs "
                  f"{old['ap_0.50']:.3f}); '{a.shipped}' is unchanged")
            return REFUSED
        shutil.copyfile(candidate, a.shipped)
        print(f"\nship: '{a.shipped}' replaced (SHA-256 {sha}): DSB score {new['dsb_score']:.3f} vs "
              f"{old['dsb_score']:.3f}, AP@0.5 {new['ap_0.50']:.3f} vs {old['ap_0.50']:.3f}; put the rows above "
              f"into models/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

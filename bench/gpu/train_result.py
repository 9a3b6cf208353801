#!/usr/bin/env python3
"""Writes result.json of bench/gpu/train.sh to stdout: the validation figures of the trained model
(nucseg evaluate), its resolved config, the training run's course (epochs, best epoch, time limit,
throughput), the exact commands, the GPU, the wall times and the checkpoint's SHA-256."""
import argparse
import csv
import json
import os

ap = argparse.ArgumentParser()
for name in ("run", "eval", "times", "commands", "gpu", "dry-run", "sha256", "version", "data", "log"):
    ap.add_argument("--" + name, required=True)
a = ap.parse_args()

evaluation = json.load(open(a.eval))
summary = evaluation["summary"]
config = json.load(open(os.path.join(a.run, "config.json")))
with open(os.path.join(a.run, "metrics.csv")) as f:
    epochs = list(csv.DictReader(f))
times = {}
for line in open(a.times):
    name, seconds = line.split()
    times[name] = round(float(seconds), 1)
commands = {}
for line in open(a.commands):
    name, command = line.rstrip("\n").split(" ", 1)
    commands[name] = command.strip()
best = None
if epochs:
    monitor = config.get("early_stopping", {}).get("monitor", "val_loss")
    key = {"val_loss": "val_loss", "val_iou": "val_iou", "val_dice": "val_dice", "val_accuracy": "val_accuracy"}[monitor]
    pick = min if monitor == "val_loss" else max
    best = pick(epochs, key=lambda e: float(e[key]))
train_seconds = sum(float(e.get("seconds", 0)) for e in epochs)
images_per_s = [float(e["images_per_s"]) for e in epochs if e.get("images_per_s")]
ran = len(epochs)
result = {
    "gpu": a.gpu,
    "dry_run": a.dry_run == "1",
    "nucseg_version": a.version,
    "metrics": {"validation_images": evaluation.get("images"),
                "ap_0.50": summary["ap_0.50"], "dsb_score": summary["dsb_score"],
                "pixel_iou": summary["pixel_iou"], "pixel_accuracy": summary["pixel_accuracy"]},
    "training": {"epochs_run": ran, "epochs_configured": config.get("epochs"),
                 "stopped_by_time_limit": "time limit: stopping" in open(a.log).read(),
                 "max_minutes": config.get("max_minutes"),
                 "best_epoch": int(best["epoch"]) if best else None,
                 "best_val_loss": float(best["val_loss"]) if best else None,
                 "seconds_in_epochs": round(train_seconds, 1),
                 "images_per_s_median": sorted(images_per_s)[len(images_per_s) // 2] if images_per_s else None},
    "checkpoint": {"file": "best.pt", "sha256": a.sha256, "weights": config.get("best_weights")},
    "wall_seconds": times,
    "commands": commands,
    "config": config,
    "data": {k: v for k, v in json.load(open(a.data)).items() if k != "files"},
}
print(json.dumps(result, indent=1))

"""The GPU training run's dry run (bench/gpu/train.sh --dry-run) and the shipping rule after it.

The dry run packs 7 + 3 DSB images (a synthetic plate without ../shared/data), converts them with the
packed split, trains a few steps of the candidate default model on the CPU, scores the 3 validation
images and writes the outputs a GPU run brings back. Its checkpoint must then be refused by
bench/gpu/ship_model.py as worse than the shipped model, which stays unchanged."""
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from nucseg_testlib import BIN, DATA, SOURCE  # noqa: E402

GPU = os.path.join(SOURCE, "bench", "gpu")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dry_run(tmp):
    env = dict(os.environ, NUCSEG_GPU_BUILD=os.path.dirname(os.path.dirname(os.path.abspath(BIN))),
               TRAIN_DATA=os.path.join(tmp, "pack"), DSB=os.path.join(DATA or "/nonexistent", "dsb2018_stage1_train"))
    p = subprocess.run(["bash", os.path.join(GPU, "train.sh"), os.path.join(tmp, "out"), "--dry-run"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    return os.path.join(tmp, "out")


def check_outputs(out):
    files = sorted(os.listdir(out))
    assert files == ["best.pt", "evaluation.csv", "metrics.csv", "result.json", "train.log"], files
    assert all(os.path.getsize(os.path.join(out, f)) <= 16 << 20 for f in files)
    r = json.load(open(os.path.join(out, "result.json")))
    assert r["dry_run"] is True and r["gpu"] == "none"
    assert r["metrics"]["validation_images"] == 3, r["metrics"]
    for key in ("ap_0.50", "dsb_score", "pixel_iou", "pixel_accuracy"):
        assert 0.0 <= r["metrics"][key] <= 1.0, (key, r["metrics"])
    assert r["training"]["epochs_run"] == 2 and r["training"]["best_epoch"] in (1, 2), r["training"]
    assert r["checkpoint"]["sha256"] == sha256(os.path.join(out, "best.pt"))
    assert r["checkpoint"]["weights"] == "fp16" and r["config"]["model"]["base_filters"] == 32
    assert "--max-minutes 6" in r["commands"]["train"] and "--split-file" in r["commands"]["convert"], r["commands"]
    assert set(r["wall_seconds"]) >= {"convert", "train", "predict", "evaluate"}, r["wall_seconds"]


def check_parts_join(out, tmp):
    spec = importlib.util.spec_from_file_location("ship_model", os.path.join(GPU, "ship_model.py"))
    ship = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ship)
    data = open(os.path.join(out, "best.pt"), "rb").read()
    third = len(data) // 3 + 1
    for k in range(3):
        with open(os.path.join(tmp, f"best.pt.part-{k:02d}"), "wb") as f:
            f.write(data[k * third:(k + 1) * third])
    assert sha256(ship.joined(os.path.join(tmp, "best.pt.part-00"), tmp)) == sha256(os.path.join(out, "best.pt"))
    assert ship.is_better({"dsb_score": 0.61, "ap_0.50": 0.84}, {"dsb_score": 0.60, "ap_0.50": 0.84})
    assert not ship.is_better({"dsb_score": 0.61, "ap_0.50": 0.83}, {"dsb_score": 0.60, "ap_0.50": 0.84})
    assert not ship.is_better({"dsb_score": 0.60, "ap_0.50": 0.90}, {"dsb_score": 0.60, "ap_0.50": 0.84})


def check_refused(out, tmp):
    shipped = os.path.join(tmp, "shipped.pt")
    shutil.copyfile(os.path.join(SOURCE, "models", "nucseg-default.pt"), shipped)
    before = sha256(shipped)
    p = subprocess.run([sys.executable, os.path.join(GPU, "ship_model.py"), os.path.join(out, "best.pt"),
                        "--result", os.path.join(out, "result.json"), "--shipped", shipped,
                        "--data", os.path.join(tmp, "pack"), "--nucseg", BIN], capture_output=True, text=True)
    assert p.returncode == 3, p.stdout + p.stderr
    assert "ship: refused" in p.stdout and "| candidate |" in p.stdout and "| shipped |" in p.stdout, p.stdout
    assert sha256(shipped) == before, "a refused candidate must leave the shipped model as it was"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = dry_run(tmp)
        check_outputs(out)
        check_parts_join(out, tmp)
        check_refused(out, tmp)
    print("ok")


if __name__ == "__main__":
    main()

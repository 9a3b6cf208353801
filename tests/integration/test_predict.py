"""nucseg predict + merge on a synthetic plate with the shipped default model (or $NUCSEG_TEST_MODEL):
counts and measurements against the ground truth and the masks, MPI and --shard runs byte-identical
to one process, resume after a kill, a corrupt image listed as a failure with exit code 5."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import tifffile

from nucseg_testlib import BIN, check, run, skip, synth_plate, tempdir

TABLES = ("nuclei.csv", "images.csv", "wells.csv", "failures.csv")


def read_csv(path):
    import csv
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def tables_of(out):
    return {t: open(os.path.join(out, t), "rb").read() for t in TABLES}


def model_args():
    m = os.environ.get("NUCSEG_TEST_MODEL")
    return ["--model", m] if m else []


def check_outputs(plate, truth, out):
    images = read_csv(os.path.join(out, "images.csv"))
    nuclei = read_csv(os.path.join(out, "nuclei.csv"))
    wells = read_csv(os.path.join(out, "wells.csv"))
    check(all(r["Status"] == "ok" for r in images), "every image ok")
    check([int(r["ImageNumber"]) for r in images] == list(range(1, len(images) + 1)), "ImageNumber 1..N")
    found, expected, area_errors = 0, 0, []
    for r in images:
        stem = r["FileName"][:-4]
        img = tifffile.imread(os.path.join(plate, r["FileName"]))
        gt = tifffile.imread(os.path.join(truth, stem + "_labels.tif"))
        mask = tifffile.imread(os.path.join(out, "masks", "plate1", stem + ".tif"))
        check(mask.dtype == np.uint16 and mask.shape == img.shape, f"{stem}: 16-bit mask of the image size")
        rows = [n for n in nuclei if n["ImageNumber"] == r["ImageNumber"]]
        labels = np.unique(mask[mask > 0])
        check(int(r["Count_Nuclei"]) == len(rows) == len(labels), f"{stem}: counts agree")
        check(r["Metadata_Well"] == stem[:3] and r["Metadata_Site"] == stem[5], f"{stem}: metadata {r}")
        for n in rows:  # measurements against the mask and the raw image
            sel = mask == int(n["ObjectNumber"])
            check(int(n["AreaShape_Area"]) == int(sel.sum()), f"{stem}: area of {n['ObjectNumber']}")
            check(abs(float(n["Intensity_IntegratedIntensity"]) - float(img[sel].sum())) <= 1e-3 * img[sel].sum() + 1,
                  f"{stem}: integrated intensity of {n['ObjectNumber']} on the raw image")
            ys, xs = np.nonzero(sel)
            check(abs(float(n["Location_Center_X"]) - xs.mean()) < 0.01 and
                  abs(float(n["Location_Center_Y"]) - ys.mean()) < 0.01, f"{stem}: centroid")
        confidence = [float(n["Confidence"]) for n in rows]
        check(all(0.5 < c <= 1 for c in confidence), f"{stem}: every nucleus's confidence in (0.5, 1]: {confidence}")
        if confidence:
            check(abs(float(r["Mean_Nuclei_Confidence"]) - np.mean(confidence)) < 1e-3,
                  f"{stem}: the image's mean confidence is its nuclei's")
        found += len(labels)
        expected += len(np.unique(gt[gt > 0]))
        # Areas of the nuclei matched one to one (IoU > 0.5) against their true areas.
        for t in np.unique(gt[gt > 0]):
            tsel = gt == t
            cand, overlap = np.unique(mask[tsel], return_counts=True)
            if cand[np.argmax(overlap)] == 0:
                continue
            p = cand[np.argmax(overlap)]
            psel = mask == p
            iou = overlap.max() / np.logical_or(tsel, psel).sum()
            if iou > 0.5:
                area_errors.append(psel.sum() / tsel.sum() - 1)
    check(abs(found - expected) <= 0.2 * expected, f"nuclei found {found} vs truth {expected}")
    matched = len(area_errors) / expected
    median_err = float(np.median(np.abs(area_errors)))
    print(f"{matched:.0%} of true nuclei matched (IoU > 0.5); median |area error| {median_err:.1%}")
    check(matched > 0.75 and median_err < 0.15, f"matched {matched}, median area error {median_err}")
    by_well = {}
    for r in images:
        by_well.setdefault(r["Metadata_Well"], []).append(int(r["Count_Nuclei"]))
    check(sorted(w["Metadata_Well"] for w in wells) == sorted(by_well), "one row per well")
    for w in wells:
        check(int(w["Count_Nuclei"]) == sum(by_well[w["Metadata_Well"]]), f"well total {w}")
    return found, expected


def main():
    if shutil.which("mpiexec") is None:
        skip("mpiexec not installed")
    with tempdir() as root:
        plate, truth = synth_plate(root, 3, 2, 200, 240, (8, 20), 11)
        inputs = os.path.join(root, "in")
        os.makedirs(inputs)
        shutil.copytree(plate, os.path.join(inputs, "plate1"))

        # One process.
        single = os.path.join(root, "single")
        p = run("predict", "--input", inputs, "--out", single, "--overlays", 0.5, "-j", 2, *model_args())
        found, expected = check_outputs(os.path.join(inputs, "plate1"), truth, single)
        overlays = sorted(os.listdir(os.path.join(single, "overlays", "plate1")))
        check(len(overlays) == 3, f"half of 6 images get an overlay: {overlays}")
        summary = json.load(open(os.path.join(single, "summary.json")))
        model_path = summary["model"]["path"]
        check(summary["model"]["sha256"] == hashlib.sha256(open(model_path, "rb").read()).hexdigest(), "model hash")
        check(summary["images"] == 6 and summary["failed"] == 0 and summary["nuclei"] == found, f"{summary}")
        check("wall_seconds" in summary and summary["config"]["input"] == inputs, "provenance")
        print(f"single process: {found} nuclei found, {expected} true")

        # Evaluate the masks against the truth: most nuclei matched one to one.
        ev = os.path.join(root, "eval")
        run("evaluate", "--pred", os.path.join(single, "masks", "plate1"), "--truth", truth, "--out", ev)
        ap50 = json.load(open(os.path.join(ev, "evaluation.json")))["summary"]["ap_0.50"]
        print(f"AP@0.5 on the synthetic plate: {ap50:.3f}")
        check(ap50 > 0.75, f"AP@0.5 {ap50}")

        # A rerun finds everything complete and rewrites identical tables.
        p = run("predict", "--input", inputs, "--out", single, "--overlays", 0.5, "-j", 2, *model_args())
        check("6 already done" in p.stdout, p.stdout)
        reference = tables_of(single)
        # An image replaced under the same name is redone, not taken from the earlier run.
        changed = os.path.join(inputs, "plate1", "A02_s1_w1.tif")
        original = open(changed, "rb").read()
        tifffile.imwrite(changed, np.fliplr(tifffile.imread(changed)))
        p = run("predict", "--input", inputs, "--out", single, "--overlays", 0.5, "-j", 2, *model_args())
        check("segmented 1 image(s), 5 already done" in p.stdout, p.stdout)
        with open(changed, "wb") as f:
            f.write(original)
        p = run("predict", "--input", inputs, "--out", single, "--overlays", 0.5, "-j", 2, *model_args())
        check(tables_of(single) == reference, "restoring the image restores the tables")

        # --min-confidence: every nucleus kept has a mean P(nucleus) of at least the value, and
        # the nuclei dropped are those below it (the default 0.75 keeps the plate's nuclei).
        strict = os.path.join(root, "strict")
        run("predict", "--input", inputs, "--out", strict, "--overlays", 0, "--probabilities",
            "--min-confidence", 0.97, "-j", 2, *model_args())
        kept = dropped = 0
        for r in read_csv(os.path.join(single, "images.csv")):
            stem = r["FileName"][:-4]
            mask = tifffile.imread(os.path.join(strict, "masks", "plate1", stem + ".tif"))
            probs = tifffile.imread(os.path.join(strict, "probabilities", "plate1", stem + ".tif"))
            fg = 1.0 - probs[0]
            for label in np.unique(mask[mask > 0]):
                check(fg[mask == label].mean() >= 0.97 - 1e-6, f"{stem}: nucleus {label} below 0.97 kept")
            kept += len(np.unique(mask[mask > 0]))
            dropped += int(r["Count_Nuclei"]) - len(np.unique(mask[mask > 0]))
        print(f"--min-confidence 0.97: {kept} nuclei kept, {dropped} fewer than with the defaults")
        check(kept > 0 and dropped > 0, f"a strict minimum confidence drops some nuclei ({kept} kept, {dropped} dropped)")
        p = run("predict", "--input", inputs, "--out", strict, "--min-confidence", 1.5, *model_args(), expect=2)
        check("min_confidence" in p.stderr, p.stderr)
        # Unless given, the minimum confidence follows the model's output: 0.75 for contour
        # models, off for binary ones (measured on those: it dropped real nuclei).
        mode = summary["model"]["mode"]
        check(summary["config"]["min_confidence"] == (0.75 if mode == "contour" else 0.0), f"{mode}: {summary['config']}")
        tiny = os.path.join(root, "tiny")
        run("convert", "--images", plate, "--masks", truth, "--out", os.path.join(tiny, "d.h5"), "--size", 64,
            "--threads", 1)
        other = "binary" if mode == "contour" else "contour"
        run("train", "--data", os.path.join(tiny, "d.h5"), "--out", os.path.join(tiny, "run"), "--epochs", 1,
            "--steps-per-epoch", 1, "--mode", other, "--depth", 2, "--base-filters", 4, "-b", 2, "-j", 1)
        for extra, expected_min in (((), 0.75 if other == "contour" else 0.0), (("--min-confidence", 0.5), 0.5)):
            out = os.path.join(tiny, f"pred{len(extra)}")
            run("predict", "--model", os.path.join(tiny, "run", "best.pt"), "--input", inputs, "--out", out,
                "--overlays", 0, "-j", 1, *extra)
            got = json.load(open(os.path.join(out, "summary.json")))["config"]["min_confidence"]
            check(got == expected_min, f"{other} model {extra}: min_confidence {got}, expected {expected_min}")

        # Two MPI ranks: byte-identical tables.
        mpi_out = os.path.join(root, "mpi")
        cmd = ["mpiexec", "-n", "2", "--oversubscribe", BIN, "predict", "--input", inputs, "--out", mpi_out,
               "--overlays", 0.5, "-j", 1, *model_args()]
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
        r = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, env=env, timeout=600)
        check(r.returncode == 0, r.stdout + r.stderr)
        check(tables_of(mpi_out) == reference, "mpiexec -n 2 gives the same tables as one process")
        for stem in ("A01_s1_w1", "A03_s2_w1"):
            a = tifffile.imread(os.path.join(single, "masks", "plate1", stem + ".tif"))
            b = tifffile.imread(os.path.join(mpi_out, "masks", "plate1", stem + ".tif"))
            check(np.array_equal(a, b), f"{stem}: same mask under MPI")

        # Slurm-array style: two shards, then merge.
        sharded = os.path.join(root, "sharded")
        for i in range(2):
            p = run("predict", "--input", inputs, "--out", sharded, "--shard", f"{i}/2", "--overlays", 0.5, "-j", 2,
                    *model_args())
            check("nucseg merge" in p.stdout, p.stdout)
            if i == 0:
                check(not os.path.exists(os.path.join(sharded, "nuclei.csv")), "a shard writes no tables")
                p = run("merge", "--out", sharded, expect=3)
                check("not finished" in p.stderr, p.stderr)
        run("merge", "--out", sharded)
        check(tables_of(sharded) == reference, "shards + merge give the same tables as one process")

        # Killed mid-run, then rerun: the finished images are kept, the rest redone, same result.
        many = os.path.join(root, "many")
        for k in range(4):
            shutil.copytree(plate, os.path.join(many, f"plate{k + 1}"))
        killed = os.path.join(root, "killed")
        proc = subprocess.Popen([BIN, "predict", "--input", many, "--out", killed, "-j", "1", *model_args()],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done_dir = os.path.join(killed, ".nucseg", "done")

        def done_records():  # a record being written under its temporary name is not done yet
            return sum(1 for _, _, fs in os.walk(done_dir) for f in fs if ".tmp-" not in f)

        deadline = time.time() + 300
        while time.time() < deadline:
            n = done_records() if os.path.isdir(done_dir) else 0
            if n >= 3 or proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        finished = done_records()
        check(0 < finished < 24, f"killed mid-run after {finished} images")
        check(not os.path.exists(os.path.join(killed, "nuclei.csv")), "no tables from a killed run")
        p = run("predict", "--input", many, "--out", killed, "-j", 2, *model_args())
        check(f"{finished} already done" in p.stdout, p.stdout)
        leftovers = [f for _, _, fs in os.walk(killed) for f in fs if ".tmp-" in f]
        check(not leftovers, f"no temporary files remain: {leftovers}")
        rows = read_csv(os.path.join(killed, "images.csv"))
        check(len(rows) == 24 and all(r["Status"] == "ok" for r in rows), "all 24 images done after the rerun")

        # A tall image segmented in bands (as a 10k x 10k plate image would be) gives the same
        # nuclei as the whole image at once: same count within 2 %, same foreground within 0.5 %.
        tall = os.path.join(root, "tall")
        run("synth", "--out", tall, "--wells", 1, "--sites", 1, "--size", 900, 160, "--nuclei", 60, 60, "--seed", 5)
        whole, bands = os.path.join(root, "whole"), os.path.join(root, "bands")
        run("predict", "--input", os.path.join(tall, "plate1"), "--out", whole, "-j", 2, *model_args())
        run("predict", "--input", os.path.join(tall, "plate1"), "--out", bands, "--strip-rows", 160,
            "--strip-margin", 48, "-j", 2, *model_args())
        a = tifffile.imread(os.path.join(whole, "masks", "A01_s1_w1.tif"))
        b = tifffile.imread(os.path.join(bands, "masks", "A01_s1_w1.tif"))
        check(abs(int(a.max()) - int(b.max())) <= max(1, 0.02 * a.max()), f"counts whole {a.max()} vs bands {b.max()}")
        check(((a > 0) == (b > 0)).mean() > 0.995, "same foreground in bands")
        ids = np.unique(b[b > 0])
        check(np.array_equal(ids, np.arange(1, len(ids) + 1)), "band labels renumbered 1..N")

        # A corrupt image: listed with its reason, the rest segmented, exit code 5.
        with open(os.path.join(inputs, "plate1", "B02_s9_w1.tif"), "wb") as f:
            f.write(b"II*\x00 this is not a real TIFF")
        bad = os.path.join(root, "bad")
        p = run("predict", "--input", inputs, "--out", bad, "-j", 2, *model_args(), expect=5)
        fails = read_csv(os.path.join(bad, "failures.csv"))
        check(len(fails) == 1 and fails[0]["FileName"] == "B02_s9_w1.tif" and fails[0]["Error"], f"{fails}")
        rows = read_csv(os.path.join(bad, "images.csv"))
        check(sum(r["Status"] == "failed" for r in rows) == 1 and len(rows) == 7, "one failed row of 7")
        check(json.load(open(os.path.join(bad, "summary.json")))["failed"] == 1, "summary counts the failure")

        # Bad model and bad input: clear errors naming the file.
        p = run("predict", "--input", inputs, "--out", os.path.join(root, "x"), "--model", os.path.join(root, "nope.pt"),
                expect=3)
        check("nope.pt" in p.stderr, p.stderr)
        p = run("predict", "--input", os.path.join(root, "missing"), "--out", os.path.join(root, "y"), *model_args(),
                expect=3)
        check("missing" in p.stderr, p.stderr)
    print("ok")


if __name__ == "__main__":
    main()

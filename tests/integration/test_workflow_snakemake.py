"""The shipped Snakemake workflow (workflows/snakemake/) end to end with Debian's snakemake on
tiny synthetic plates:

- locally: per-plate nuclei/images/wells tables and all_wells.csv (Plate + wells.csv columns),
  consistent with each other; a second run does nothing; a modified image redoes only its plate
  (and inside it only that image); a new plate with a corrupt image fails with the image named in
  its log and no tables, the other plates untouched; after the fix the rerun finishes it;
- through Slurm with the shipped profile (workflows/snakemake/slurm) on a single-node Slurm
  started for the test: the same tables as the local run. This part is skipped, with a message,
  where Slurm cannot start.

Model: $NUCSEG_TEST_MODEL if set, else a tiny model trained here in a few seconds.
"""
import csv
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "workflows"))
from nucseg_testlib import BIN, SOURCE, check, run, skip, tempdir  # noqa: E402
from slurm_testlib import Cluster, say  # noqa: E402

SNAKEMAKE_DIR = os.path.join(os.path.abspath(SOURCE), "workflows", "snakemake")
SNAKEFILE = os.path.join(SNAKEMAKE_DIR, "Snakefile")
PROFILE = os.path.join(SNAKEMAKE_DIR, "slurm")
TABLES = ("nuclei.csv", "images.csv", "wells.csv", "failures.csv")


def snakemake_command():
    exe = shutil.which("snakemake") or ("/usr/bin/snakemake" if os.path.exists("/usr/bin/snakemake") else None)
    if not exe:
        skip("snakemake is not installed (apt-get install snakemake)")
    return [exe]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def snakemake(cmd, work, *args, env=None, expect=0):
    full = dict(os.environ, **(env or {}))
    p = subprocess.run([*cmd, "-s", SNAKEFILE, "--configfile", "test.yaml", *args], cwd=work,
                       capture_output=True, text=True, env=full)
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"snakemake {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                             f"{p.stdout}{p.stderr}")
    return p.stdout + p.stderr


def make_model(tmp):
    model = os.environ.get("NUCSEG_TEST_MODEL")
    if model:
        check(os.path.isfile(model), f"NUCSEG_TEST_MODEL={model} does not exist")
        return os.path.abspath(model)
    d = os.path.join(tmp, "model")
    run("synth", "--out", d, "--wells", 4, "--sites", 2, "--size", 96, 96, "--nuclei", 4, 8, "--seed", 7)
    run("convert", "--images", os.path.join(d, "plate1"), "--masks", os.path.join(d, "ground_truth", "plate1"),
        "--out", os.path.join(d, "train.h5"), "--size", 64, "--threads", 1)
    run("train", "--data", os.path.join(d, "train.h5"), "--out", os.path.join(d, "run"), "--epochs", 15,
        "--batch-size", 4, "--depth", 2, "--base-filters", 8, "--lr", 0.01, "--patience", 0,
        "--threads", 1, "--loader-threads", 1)
    return os.path.join(d, "run", "best.pt")


def add_plate(work, name, seed, wells=3):
    gen = os.path.join(work, "gen-" + name)
    run("synth", "--out", gen, "--plate", name, "--wells", wells, "--sites", 2, "--size", 96, 96,
        "--nuclei", 4, 8, "--seed", seed)
    shutil.move(os.path.join(gen, name), os.path.join(work, "plates", name))


def check_plate(out, plate, images, wells):
    d = os.path.join(out, plate)
    for t in TABLES + ("summary.json",):
        check(os.path.isfile(os.path.join(d, t)), f"{d}/{t} is missing")
    nuclei, imgs, wls = (read_csv(os.path.join(d, t)) for t in ("nuclei.csv", "images.csv", "wells.csv"))
    check(len(imgs) == images and len(wls) == wells, f"{plate}: {len(imgs)} images, {len(wls)} wells")
    check(sum(int(w["Count_Nuclei"]) for w in wls) == len(nuclei) > 0,
          f"{plate}: wells.csv and nuclei.csv disagree ({len(nuclei)} nuclei)")
    check(all(w["Metadata_Plate"] == plate for w in wls), f"{plate}: Metadata_Plate {wls}")
    return wls


def check_combined(out, plates):
    combined = read_csv(os.path.join(out, "all_wells.csv"))
    expected = []
    for p in plates:
        expected += [dict(Plate=p, **w) for w in read_csv(os.path.join(out, p, "wells.csv"))]
    check(combined == expected, f"all_wells.csv is not the plates' wells.csv in order:\n{combined}\n{expected}")
    return combined


def main():
    cmd = snakemake_command()
    if not os.path.exists(BIN):
        skip(f"nucseg binary {BIN} not found")
    with tempdir() as tmp:
        model = make_model(tmp)
        work = os.path.join(tmp, "work")
        os.makedirs(os.path.join(work, "plates"))
        add_plate(work, "P1", 11)
        add_plate(work, "P2", 12)
        with open(os.path.join(work, "test.yaml"), "w") as f:
            f.write(f"nucseg: {os.path.abspath(BIN)}\nplates: plates\nout: results\nmodel: {model}\n"
                    "threads: 1\nmem_mb: 500\nruntime_min: 10\n")
        local(cmd, work)
        slurm(cmd, tmp, work)


def local(cmd, work):
    out = os.path.join(work, "results")
    snakemake(cmd, work, "--cores", "1")
    for p in ("P1", "P2"):
        check_plate(out, p, 6, 3)
    check_combined(out, ["P1", "P2"])
    say("local run: P1, P2 tables and all_wells.csv")

    text = snakemake(cmd, work, "--cores", "1")
    check("Nothing to be done" in text, f"a second run did work:\n{text}")
    say("second run: nothing to be done")

    # A modified image: only its plate is redone, and in it only that image.
    stamp = {p: os.path.getmtime(os.path.join(out, p, "wells.csv")) for p in ("P1", "P2")}
    before = {r["FileName"]: r for r in read_csv(os.path.join(out, "P2", "images.csv"))}
    shutil.copy(os.path.join(work, "plates", "P1", "A03_s1_w1.tif"), os.path.join(work, "plates", "P2", "A01_s1_w1.tif"))
    text = snakemake(cmd, work, "--cores", "1")
    check(text.count("rule predict_plate:") == 1 and "wildcards: plate=P2" in text,
          f"a modified image in P2 did not rerun just P2:\n{text}")
    check(os.path.getmtime(os.path.join(out, "P1", "wells.csv")) == stamp["P1"], "P1 was redone")
    check(os.path.getmtime(os.path.join(out, "P2", "wells.csv")) > stamp["P2"], "P2 was not redone")
    plate_log = open(os.path.join(out, "logs", "P2.log")).read()
    check("5 image(s) already complete from an earlier run; 1 to do" in plate_log,
          f"P2 was not resumed with just the modified image:\n{plate_log}")
    after = {r["FileName"]: r for r in read_csv(os.path.join(out, "P2", "images.csv"))}
    p1 = {r["FileName"]: r for r in read_csv(os.path.join(out, "P1", "images.csv"))}
    check(after["A01_s1_w1.tif"]["Count_Nuclei"] == p1["A03_s1_w1.tif"]["Count_Nuclei"],
          "the modified image was not segmented again")
    check(all(after[k]["Count_Nuclei"] == before[k]["Count_Nuclei"] for k in after if k != "A01_s1_w1.tif"),
          "other images of P2 changed")
    check_combined(out, ["P1", "P2"])
    say("modified image in P2: only P2 redone (1 image), all_wells.csv updated")

    # A new plate with a corrupt image: that plate fails with a clear log and no tables.
    add_plate(work, "P3", 13, wells=2)
    corrupt = os.path.join(work, "plates", "P3", "A02_s2_w1.tif")
    good = read(corrupt)
    with open(corrupt, "wb") as f:
        f.write(good[:200])
    text = snakemake(cmd, work, "--cores", "1", "--keep-going", expect=1)
    check("nucseg predict on plate P3 failed with exit code 5" in text, f"no clear failure message:\n{text}")
    plate_log = open(os.path.join(out, "logs", "P3.log")).read()
    check("plates/P3/A02_s2_w1.tif" in plate_log, f"P3's log does not name the corrupt image:\n{plate_log}")
    left = [t for t in TABLES + ("summary.json",) if os.path.exists(os.path.join(out, "P3", t))]
    check(not left, f"the failed plate left tables: {left}")
    check(os.path.getmtime(os.path.join(out, "P1", "wells.csv")) == stamp["P1"], "P1 was redone")
    say("new plate P3 with a corrupt image: failed (exit 5 named in the log), no tables for P3")

    with open(corrupt, "wb") as f:
        f.write(good)
    snakemake(cmd, work, "--cores", "1")
    check("3 image(s) already complete from an earlier run; 1 to do" in open(os.path.join(out, "logs", "P3.log")).read(),
          "the rerun of P3 redid its finished images")
    check_plate(out, "P3", 4, 2)
    check_combined(out, ["P1", "P2", "P3"])
    say("fixed and rerun: P3 finished (1 image redone), all_wells.csv covers 3 plates")


def slurm(cmd, tmp, work):
    cluster = Cluster(os.path.join(tmp, "slurm"))
    reason = cluster.start()
    if reason:
        say(f"SKIPPED the Slurm part: a single-node Slurm cannot start here: {reason}")
        return
    try:
        text = snakemake(cmd, work, "--profile", PROFILE, "--config", "out=results-slurm", env=cluster.env)
        submitted = text.count("Submitted job")
        check(submitted == 3, f"expected 3 plate jobs submitted to Slurm, saw {submitted}:\n{text}")
        for p, images, wells in (("P1", 6, 3), ("P2", 6, 3), ("P3", 4, 2)):
            check_plate(os.path.join(work, "results-slurm"), p, images, wells)
            for t in TABLES[:3]:
                check(read(os.path.join(work, "results", p, t)) == read(os.path.join(work, "results-slurm", p, t)),
                      f"{p}/{t} from Slurm differs from the local run")
        check(read(os.path.join(work, "results", "all_wells.csv")) ==
              read(os.path.join(work, "results-slurm", "all_wells.csv")), "all_wells.csv differs")
        records = [line for line in cluster.jobcomp_log().splitlines() if "Name=smk-predict_plate" in line]
        check(len(records) == 3 and all("JobState=COMPLETED" in r and "ExitCode=0:0" in r for r in records),
              "Slurm records of the plate jobs:\n" + "\n".join(records))
        logs = os.listdir(os.path.join(work, "logs", "slurm"))
        check(len(logs) == 3, f"Slurm logs: {logs}")
        text = snakemake(cmd, work, "--profile", PROFILE, "--config", "out=results-slurm", env=cluster.env)
        check("Nothing to be done" in text, f"a second Slurm run did work:\n{text}")
        say("through Slurm (profile workflows/snakemake/slurm): 3 plate jobs COMPLETED, tables identical "
            "to the local run; second run: nothing to be done")
        say("jobcomp records:\n" + "\n".join(records))

        # A plate job that fails on the cluster is seen as failed (status.py), retried once
        # (restart-times: 1), and leaves no tables; the run ends with an error instead of hanging.
        add_plate(work, "P4", 14, wells=1)
        with open(os.path.join(work, "plates", "P4", "A01_s1_w1.tif"), "wb") as f:
            f.write(b"not an image")
        text = snakemake(cmd, work, "--profile", PROFILE, "--config", "out=results-slurm", env=cluster.env,
                         expect=1)
        failed = [line for line in cluster.jobcomp_log().splitlines()
                  if "Name=smk-predict_plate" in line and "JobState=FAILED" in line]
        check(len(failed) == 2, "expected the failed plate job twice (one retry) in the Slurm records:\n"
              + cluster.jobcomp_log() + text)
        check(not os.path.exists(os.path.join(work, "results-slurm", "P4", "wells.csv")), "P4 left tables")
        check("Error in rule predict_plate" in text and "plate=P4" in text, f"no clear error:\n{text}")
        say("a plate with only a corrupt image through Slurm: FAILED twice (one retry), no tables, "
            "snakemake exits 1:\n" + failed[-1])
    except BaseException:
        say("--- squeue\n" + cluster.squeue() + "\n--- jobcomp\n" + cluster.jobcomp_log() + cluster.daemon_logs())
        raise
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
    print("OK")

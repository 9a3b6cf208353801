"""The shipped Slurm job scripts (workflows/slurm/) on a real single-node Slurm started for the
test (tests/workflows/slurm_cluster.sh; skipped with a message where it cannot start):

- convert_array.sbatch: a good and a bad folder; the bad task fails (exit 3) with the file named
  in its log and no .h5; after the fix, resubmitting the same array finishes only the missing one;
- train.sbatch on 2 MPI ranks (srun --mpi=pmix): stopped by the time-limit signal (it requeues
  itself) and requeued by Slurm (preemption); each restart resumes from last.pt and the run ends
  with all epochs; its best.pt is the model of the predictions below;
- predict_mpi.sbatch with srun and with mpirun: the same tables; a plate with a corrupt image ends
  with exit 5, the tables and failures.csv; after the fix, resubmission redoes only that image;
- submit_predict_array.sh (array + afterany merge): a shard that never ran makes the merge fail
  (exit 3, unfinished images listed, no tables); resubmitting finishes; tables identical to MPI.
"""
import csv
import json
import os
import shutil
import sys

import h5py
import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "workflows"))
from nucseg_testlib import BIN, SOURCE, check, run, skip, tempdir  # noqa: E402
from slurm_testlib import Cluster, log_text, say  # noqa: E402

WORKFLOWS = os.path.join(os.path.abspath(SOURCE), "workflows", "slurm")
SMALL = ["--cpus-per-task=1", "--mem=1G", "--time=15"]   # fits the 2-core test node
TABLES = ("nuclei.csv", "images.csv", "wells.csv", "failures.csv")
EPOCHS = 40


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def state(rec):
    return rec.get("JobState"), rec.get("ExitCode")


def expect_state(recs, key, job_state, exit_code, log=None):
    rec = recs.get(key)
    check(rec is not None, f"no Slurm record for job {key}; records: {sorted(recs)}")
    got = state(rec)
    check(got == (job_state, exit_code),
          f"job {key}: {got}, expected {(job_state, exit_code)}\n" + (log_text(log) if log else ""))


def check_tables(out, images, wells):
    for t in TABLES + ("summary.json",):
        check(os.path.isfile(os.path.join(out, t)), f"{out}/{t} is missing")
    nuclei, imgs, wls = (read_csv(os.path.join(out, t)) for t in ("nuclei.csv", "images.csv", "wells.csv"))
    check(len(imgs) == images, f"{out}/images.csv: {len(imgs)} rows, expected {images}")
    check(len(wls) == wells, f"{out}/wells.csv: {len(wls)} rows, expected {wells}")
    per_well = sum(int(w["Count_Nuclei"]) for w in wls)
    check(per_well == len(nuclei), f"{out}: wells.csv counts {per_well} nuclei, nuclei.csv has {len(nuclei)}")
    masks = [f for f in os.listdir(os.path.join(out, "masks")) if f.endswith(".tif")]
    check(len(masks) == images, f"{out}/masks: {len(masks)} masks for {images} images")
    return wls


def main():
    if not shutil.which("sbatch") or not os.path.exists(BIN):
        skip("sbatch or the nucseg binary is missing (apt-get install slurmctld slurmd slurm-client munge)")
    with tempdir() as tmp:
        cluster = Cluster(os.path.join(tmp, "slurm"))
        reason = cluster.start()
        if reason:
            skip(f"a single-node Slurm cannot start here: {reason}")
        try:
            scenario(cluster, os.path.join(tmp, "work"))
        except BaseException:
            say("\n--- squeue at the failure\n" + cluster.squeue())
            say("--- jobcomp log\n" + cluster.jobcomp_log() + "\n" + cluster.daemon_logs())
            raise
        finally:
            cluster.stop()


def scenario(cluster, work):
    os.makedirs(os.path.join(work, "logs"))
    logs = os.path.join(work, "logs")
    env = {"NUCSEG": os.path.abspath(BIN), "OMP_NUM_THREADS": "1"}
    if os.geteuid() == 0:   # mpirun refuses root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

    # --- inputs: a synthetic plate with ground truth, and a copy with a corrupt image --------------
    run("synth", "--out", os.path.join(work, "data"), "--wells", 4, "--sites", 2, "--size", 96, 96,
        "--nuclei", 4, 8)
    plate = os.path.join(work, "data", "plate1")
    truth = os.path.join(work, "data", "ground_truth", "plate1")
    truth_count = sum(len(np.unique(tifffile.imread(os.path.join(truth, f)))) - 1 for f in os.listdir(truth))
    bad_imgs, bad_masks = os.path.join(work, "bad", "imgs"), os.path.join(work, "bad", "masks")
    shutil.copytree(plate, bad_imgs)
    shutil.copytree(truth, bad_masks)
    corrupt = os.path.join(bad_imgs, "A02_s1_w1.tif")
    with open(corrupt, "wb") as f:
        f.write(open(os.path.join(plate, "A02_s1_w1.tif"), "rb").read()[:300])
    with open(os.path.join(work, "folders.txt"), "w") as f:
        f.write("data/plate1\tdata/ground_truth/plate1\nbad/imgs\tbad/masks\n")

    # --- convert array: one good folder, one with a corrupt image -------------------------------------
    convert_env = dict(env, FOLDERS="folders.txt", OUT_DIR="datasets", CONVERT_ARGS="--size 64")
    submit_convert = ["--array=0-1", *SMALL, os.path.join(WORKFLOWS, "convert_array.sbatch")]
    conv = cluster.sbatch(*submit_convert, cwd=work, env=convert_env)
    recs = cluster.wait(conv)
    bad_log = os.path.join(logs, f"nucseg-convert-{conv}_1.out")
    expect_state(recs, f"{conv}_0", "COMPLETED", "0:0", os.path.join(logs, f"nucseg-convert-{conv}_0.out"))
    expect_state(recs, f"{conv}_1", "FAILED", "3:0", bad_log)
    text = log_text(bad_log)
    check("bad/imgs/A02_s1_w1.tif" in text and "FAILED (exit 3)" in text,
          f"the failed convert task's log does not name the bad file:\n{text}")
    check(sorted(os.listdir(os.path.join(work, "datasets"))) == ["plate1.h5"],
          f"partial outputs after the failed task: {os.listdir(os.path.join(work, 'datasets'))}")
    say(f"convert array {conv}: task 0 COMPLETED, task 1 FAILED 3:0 naming the corrupt file, no partial .h5")
    shutil.copy(os.path.join(plate, "A02_s1_w1.tif"), corrupt)   # the fix
    conv2 = cluster.sbatch(*submit_convert, cwd=work, env=convert_env)
    recs = cluster.wait(conv2)
    expect_state(recs, f"{conv2}_0", "COMPLETED", "0:0")
    expect_state(recs, f"{conv2}_1", "COMPLETED", "0:0", os.path.join(logs, f"nucseg-convert-{conv2}_1.out"))
    check("nothing to do" in log_text(os.path.join(logs, f"nucseg-convert-{conv2}_0.out")),
          "the resubmitted array redid a finished folder")
    for name in ("plate1", "imgs"):
        with h5py.File(os.path.join(work, "datasets", f"{name}.h5"), "r") as h5:
            check(h5["images"].shape == (8, 1, 64, 64), f"{name}.h5 images {h5['images'].shape}")
            check(h5["masks"].shape == (8, 64, 64), f"{name}.h5 masks {h5['masks'].shape}")
    say(f"convert array {conv2} (resubmitted): the missing set done, the finished one left alone")

    # --- train on 2 ranks; interrupted at the time limit and by a requeue; resumes each time ------
    train_env = dict(env, DATA="datasets/plate1.h5", RUN_DIR="runs/seed",
                     TRAIN_ARGS=f"--epochs {EPOCHS} --batch-size 4 --depth 2 --base-filters 8 --lr 0.01 "
                                "--patience 0 --loader-threads 1")
    train = cluster.sbatch("--nodes=1", "--ntasks-per-node=2", "--gpus-per-node=0", "--cpus-per-task=1",
                           "--mem=2G", "--time=15", os.path.join(WORKFLOWS, "train.sbatch"),
                           cwd=work, env=train_env)
    train_log = os.path.join(logs, f"nucseg-train-{train}.out")
    metrics = os.path.join(work, "runs", "seed", "metrics.csv")

    def epochs_done():
        return len(read_csv(metrics)) if os.path.exists(metrics) else 0

    def running_restart(n):
        r = cluster.job(train)
        if r.get("JobState") == "PENDING" and r.get("Reason") == "BeginTime":
            cluster.release_requeued(train)
        return r.get("JobState") == "RUNNING" and r.get("Restarts") == str(n)

    cluster.wait_until("2 epochs", lambda: epochs_done() >= 2 and cluster.job(train)["JobState"] == "RUNNING",
                       jobid=train)
    check(epochs_done() < EPOCHS - 10, "training ran too fast to interrupt it")
    cluster.cmd("scancel", "--signal=USR1", "--batch", train)   # what --signal=B:USR1@300 sends
    cluster.wait_until("the job requeueing itself", lambda: running_restart(1), jobid=train)
    first_stop = epochs_done()
    cluster.wait_until("2 more epochs", lambda: epochs_done() >= first_stop + 2, jobid=train)
    check(epochs_done() < EPOCHS - 5, "training ran too fast to interrupt it twice")
    cluster.cmd("scontrol", "requeue", train)                    # preemption / node failure
    cluster.wait_until("the requeued job to run again", lambda: running_restart(2), jobid=train)
    recs = cluster.wait(train, release_requeued=True)
    expect_state(recs, train, "COMPLETED", "0:0", train_log)
    check(recs[train].get("Restarts") == "2", f"train job restarts: {recs[train].get('Restarts')}")
    text = log_text(train_log)
    for needle in ("starting a new training", "time limit near", f"requeueing job {train}",
                   "resuming from 'runs/seed/last.pt' (Slurm restart count 1)",
                   "resuming from 'runs/seed/last.pt' (Slurm restart count 2)",
                   f"epoch {EPOCHS}/{EPOCHS}", "train on 'datasets/plate1.h5' -> 'runs/seed': OK"):
        check(needle in text, f"train log lacks '{needle}':\n{text}")
    check(text.count("] resuming from 'runs/seed/last.pt' after epoch") >= 2, f"nucseg did not resume:\n{text}")
    epochs = [int(r["epoch"]) for r in read_csv(metrics)]
    check(epochs == list(range(1, EPOCHS + 1)), f"metrics.csv epochs after two restarts: {epochs}")
    model = os.path.join(work, "runs", "seed", "best.pt")
    check(os.path.isfile(model), "no best.pt")
    say(f"train {train}: 2 ranks, stopped at the time-limit signal (epoch {first_stop}) and requeued, "
        f"requeued again, resumed both times; {EPOCHS} epochs, Restarts=2, COMPLETED 0:0")

    # --- predict as an MPI job, with srun (the default) and with mpirun ------------------------------
    predict_env = dict(env, MODEL="runs/seed/best.pt", INPUT="data/plate1")
    mpi_args = ["--ntasks=2", "--cpus-per-task=1", "--mem-per-cpu=1G", "--time=15",
                os.path.join(WORKFLOWS, "predict_mpi.sbatch")]
    p_srun = cluster.sbatch(*mpi_args, cwd=work, env=dict(predict_env, OUT="results/mpi"))
    p_mpirun = cluster.sbatch(*mpi_args, cwd=work, env=dict(predict_env, OUT="results/mpirun", LAUNCHER="mpirun"))
    recs = cluster.wait(p_srun, p_mpirun)
    expect_state(recs, p_srun, "COMPLETED", "0:0", os.path.join(logs, f"nucseg-predict-{p_srun}.out"))
    expect_state(recs, p_mpirun, "COMPLETED", "0:0", os.path.join(logs, f"nucseg-predict-{p_mpirun}.out"))
    mpi_out = os.path.join(work, "results", "mpi")
    wells = check_tables(mpi_out, 8, 4)
    found = sum(int(w["Count_Nuclei"]) for w in wells)
    check(0.5 * truth_count <= found <= 1.5 * truth_count,
          f"the trained model found {found} nuclei, the truth has {truth_count}")
    check(all(int(w["Count_Nuclei"]) > 0 for w in wells), f"a well without nuclei: {wells}")
    for t in TABLES[:3]:
        check(open(os.path.join(mpi_out, t), "rb").read() ==
              open(os.path.join(work, "results", "mpirun", t), "rb").read(), f"srun and mpirun {t} differ")
    say(f"predict_mpi {p_srun} (srun) and {p_mpirun} (mpirun): COMPLETED, same tables, "
        f"{found} nuclei (truth {truth_count})")

    # --- a plate with a corrupt image: exit 5 with tables + failures.csv; fixed and resubmitted -----
    shutil.copytree(plate, os.path.join(work, "badplate"))
    with open(os.path.join(work, "badplate", "A03_s2_w1.tif"), "wb") as f:
        f.write(b"II*\x00 this is not a TIFF")
    bad_env = dict(predict_env, INPUT="badplate", OUT="results/badplate")
    p_bad = cluster.sbatch(*mpi_args, cwd=work, env=bad_env)
    recs = cluster.wait(p_bad)
    bad_log = os.path.join(logs, f"nucseg-predict-{p_bad}.out")
    expect_state(recs, p_bad, "FAILED", "5:0", bad_log)
    text = log_text(bad_log)
    check("badplate/A03_s2_w1.tif" in text and "FINISHED WITH FAILED IMAGES (exit 5)" in text,
          f"the log of the plate with a corrupt image does not say so:\n{text}")
    failures = read_csv(os.path.join(work, "results", "badplate", "failures.csv"))
    check(len(failures) == 1 and failures[0]["FileName"] == "A03_s2_w1.tif", f"failures.csv: {failures}")
    shutil.copy(os.path.join(plate, "A03_s2_w1.tif"), os.path.join(work, "badplate", "A03_s2_w1.tif"))
    p_fixed = cluster.sbatch(*mpi_args, cwd=work, env=bad_env)
    recs = cluster.wait(p_fixed)
    fixed_log = os.path.join(logs, f"nucseg-predict-{p_fixed}.out")
    expect_state(recs, p_fixed, "COMPLETED", "0:0", fixed_log)
    summary = json.load(open(os.path.join(work, "results", "badplate", "summary.json")))
    check((summary.get("segmented_in_this_run"), summary.get("reused_from_earlier_runs")) == (1, 7),
          f"the resubmission did not redo just the fixed image: {summary}")
    check(read_csv(os.path.join(work, "results", "badplate", "failures.csv")) == [], "failures left after the fix")
    clean = [w["Count_Nuclei"] for w in read_csv(os.path.join(mpi_out, "wells.csv"))]
    fixed = [w["Count_Nuclei"] for w in read_csv(os.path.join(work, "results", "badplate", "wells.csv"))]
    check(fixed == clean, f"counts per well after the resubmission {fixed}, a clean run {clean}")
    say(f"predict_mpi {p_bad}: FAILED 5:0 with failures.csv naming the corrupt image; "
        f"resubmitted as {p_fixed}: COMPLETED, 1 image redone")

    # --- array + merge: a shard that never ran, then resubmission --------------------------------------
    submit = os.path.join(WORKFLOWS, "submit_predict_array.sh")
    array_env = dict(predict_env, OUT="results/array")
    out = cluster.cmd(submit, "3", *SMALL, "--hold", cwd=work, env=array_env).stdout.split()
    check(out[0] == "array" and out[2] == "merge", f"submit_predict_array.sh printed {out}")
    array, merge = out[1], out[3]
    cluster.cmd("scancel", f"{array}_1")   # this shard never runs (a lost node, a cancelled task)
    say("squeue while held (the merge waits on the array):\n" + cluster.squeue())
    cluster.cmd("scontrol", "release", array)
    cluster.cmd("scontrol", "release", merge)
    recs = cluster.wait(array, merge)
    merge_log = os.path.join(logs, f"nucseg-merge-{merge}.out")
    expect_state(recs, f"{array}_0", "COMPLETED", "0:0", os.path.join(logs, f"nucseg-predict-shard-{array}_0.out"))
    expect_state(recs, f"{array}_2", "COMPLETED", "0:0", os.path.join(logs, f"nucseg-predict-shard-{array}_2.out"))
    expect_state(recs, merge, "FAILED", "3:0", merge_log)
    text = log_text(merge_log)
    check("are not finished" in text and "no tables written" in text, f"the failed merge's log:\n{text}")
    array_out = os.path.join(work, "results", "array")
    left = [t for t in TABLES + ("summary.json",) if os.path.exists(os.path.join(array_out, t))]
    check(not left, f"the failed merge left tables: {left}")
    say(f"array {array} with shard 1 cancelled: merge {merge} FAILED 3:0 listing the unfinished images, no tables")
    out = cluster.cmd(submit, "3", *SMALL, cwd=work, env=array_env).stdout.split()
    array2, merge2 = out[1], out[3]
    recs = cluster.wait(array2, merge2)
    for k in range(3):
        expect_state(recs, f"{array2}_{k}", "COMPLETED", "0:0",
                     os.path.join(logs, f"nucseg-predict-shard-{array2}_{k}.out"))
    expect_state(recs, merge2, "COMPLETED", "0:0", os.path.join(logs, f"nucseg-merge-{merge2}.out"))
    redone = [log_text(os.path.join(logs, f"nucseg-predict-shard-{array2}_{k}.out")) for k in range(3)]
    check(sum("already complete from an earlier run; 0 to do" in t for t in redone) == 2,
          "the resubmitted shards 0 and 2 did not reuse their finished images")
    check_tables(array_out, 8, 4)
    for t in TABLES[:3]:
        check(open(os.path.join(mpi_out, t), "rb").read() == open(os.path.join(array_out, t), "rb").read(),
              f"array+merge {t} differs from the MPI run")
    say(f"array {array2} + merge {merge2} (resubmitted): COMPLETED, tables identical to the MPI job")

    say("\n--- scontrol show job " + train + "\n" + cluster.show_job(train))
    say("--- jobcomp records (JobCompType=jobcomp/filetxt; this cluster has no sacct)\n" + cluster.jobcomp_log())


if __name__ == "__main__":
    main()
    print("OK")

"""Every stage that writes survives being killed and a full disk.

SIGKILL in the middle of convert, train and predict (no handler runs): no final file is left
half-written, and a rerun in the same place succeeds (train resumes from last.pt) and removes
the temporary files the killed run was writing (those a kill between two polls would leave are
made as the killed process would have named them), so nothing stale is left. A full disk,
as a file-size limit (ulimit -f with SIGXFSZ ignored, so writes fail with EFBIG as on a full
file system): convert, train, predict and evaluate exit non-zero with an error naming the file,
leave no final file behind, and their temporary files are removed."""
import os
import resource
import signal
import subprocess
import time

from nucseg_testlib import BIN, check, run, tempdir

TRAIN = ["--batch-size", 4, "--base-filters", 4, "--depth", 2, "--threads", 1, "--loader-threads", 1,
         "--patience", 0]


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def kill_when(args, ready, timeout=300):
    """Starts nucseg, SIGKILLs it as soon as ready() holds; returns whether it was still running,
    and its process id."""
    p = subprocess.Popen([BIN, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while p.poll() is None and not ready() and time.time() - t0 < timeout:
        time.sleep(0.02)
    alive = p.poll() is None
    p.send_signal(signal.SIGKILL)
    p.wait()
    return alive, p.pid


def left_mid_write(paths, pid):
    """The temporary files a process killed while writing `paths` leaves ("x.h5.tmp-PID",
    "masks/A01.tmp-PID.tif" for writers that keep the extension)."""
    made = []
    for final, keep_extension in paths:
        stem, ext = os.path.splitext(final)
        temp = f"{stem}.tmp-{pid}{ext}" if keep_extension else f"{final}.tmp-{pid}"
        with open(temp, "wb") as f:
            f.write(b"half")
        made.append(temp)
    return made


def temps_under(root):
    return [f for f in files_under(root) if ".tmp-" in f]


def limited(max_bytes):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


def run_limited(args, max_bytes):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, preexec_fn=limited(max_bytes))


def convert_killed_then_rerun(root, images, masks):
    out = os.path.join(root, "killed.h5")
    args = ["convert", "--images", images, "--masks", masks, "--out", out, "--size", 32, "-j", 1]
    alive, _ = kill_when(args, lambda: any(n.startswith("killed.h5.tmp") for n in os.listdir(root)))
    check(alive, "convert finished before it could be killed; use more images")
    check(not os.path.exists(out), "a killed convert left a final dataset")
    killed = [n for n in os.listdir(root) if n.startswith("killed.h5.tmp")]
    check(killed, "the killed convert left no temporary file to clean up")
    run(*args)
    check(os.path.exists(out), "rerun wrote no dataset")
    left = [n for n in os.listdir(root) if n.startswith("killed.h5.tmp")]
    check(not left, f"the rerun left the killed run's temporary file: {left}")
    print(f"convert: killed mid-write, rerun ok and removed {killed}")
    return out


def train_killed_then_resumed(root, data):
    out = os.path.join(root, "run")
    last = os.path.join(out, "last.pt")
    args = ["train", "--data", data, "--out", out, "--epochs", 40, *TRAIN]
    alive, pid = kill_when(args, lambda: os.path.exists(last))
    check(alive, "train finished before it could be killed")
    left_mid_write([(last, False), (os.path.join(out, "metrics.csv"), False)], pid)
    run("train", "--data", data, "--out", out, "--epochs", 2, *TRAIN, "--resume", last)
    check(os.path.exists(os.path.join(out, "best.pt")), "resumed train wrote no best.pt")
    check(not temps_under(out), f"the resumed train left temporary files: {temps_under(out)}")
    print("train: killed after its first checkpoint, resumed from last.pt, no temporary file left")
    return os.path.join(out, "last.pt")


def predict_killed_then_rerun(root, images, model):
    out = os.path.join(root, "pred")
    args = ["predict", "--input", images, "--out", out, "--model", model, "-j", 1]
    done = os.path.join(out, ".nucseg", "done")
    alive, pid = kill_when(args, lambda: os.path.isdir(done) and len(os.listdir(done)) > 0)
    check(alive, "predict finished before it could be killed")
    check(not os.path.exists(os.path.join(out, "nuclei.csv")), "a killed predict left tables")
    first = sorted(f for f in os.listdir(images) if f.endswith(".tif"))[0][: -len(".tif")]
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    killed = temps_under(out) + left_mid_write(
        [(os.path.join(out, "masks", first + ".tif"), True),
         (os.path.join(out, ".nucseg", "done", first + ".done.json"), False),
         (os.path.join(out, "nuclei.csv"), False)], pid)
    run(*args)
    check(os.path.exists(os.path.join(out, "nuclei.csv")), "rerun wrote no nuclei.csv")
    check(not temps_under(out), f"the rerun left temporary files: {temps_under(out)}")
    masks = [f for f in os.listdir(os.path.join(out, "masks"))]
    count = len([f for f in os.listdir(images) if f.endswith(".tif")])
    check(len(masks) == count, f"{len(masks)} files in masks/, expected one per image ({count})")
    print(f"predict: killed mid-run, rerun ok; removed {len(killed)} temporary file(s) of the killed run")
    return out


def refuses_on_full_disk(name, args, folder, finals, max_bytes):
    before = set(files_under(folder)) if os.path.isdir(folder) else set()
    p = run_limited(args, max_bytes)
    err = p.stdout + p.stderr
    check(p.returncode > 0, f"{name} exited {p.returncode} (a signal is a crash) with a {max_bytes}-byte file limit: {err}")
    check("File too large" in err or "No space" in err or "cannot write" in err or "HDF5 error" in err,
          f"{name}: no clear write error: {err}")
    check(folder in err or os.path.basename(finals[0]) in err, f"{name}: the error names no file: {err}")
    for f in finals:
        check(not os.path.exists(f), f"{name}: a partial '{f}' is left after the write failed")
    new = set(files_under(folder)) - before if os.path.isdir(folder) else set()
    temps = [f for f in new if ".tmp-" in f]
    check(not temps, f"{name}: temporary files left behind: {temps}")
    print(f"{name}: full disk -> exit {p.returncode}: {err.strip().splitlines()[-1][:200]}")


def main():
    with tempdir() as root:
        run("synth", "--out", os.path.join(root, "p"), "--wells", 12, "--sites", 4, "--size", 256, 256,
            "--nuclei", 3, 6)
        images = os.path.join(root, "p", "plate1")
        masks = os.path.join(root, "p", "ground_truth", "plate1")
        data = convert_killed_then_rerun(root, images, masks)
        model = train_killed_then_resumed(root, data)
        pred = predict_killed_then_rerun(root, images, model)

        full = os.path.join(root, "full")
        os.makedirs(full)
        refuses_on_full_disk("convert", ["convert", "--images", images, "--masks", masks, "--out",
                                         os.path.join(full, "d.h5"), "--size", 32],
                             full, [os.path.join(full, "d.h5")], 64 * 1024)
        run_dir = os.path.join(full, "run")
        refuses_on_full_disk("train", ["train", "--data", data, "--out", run_dir, "--epochs", 1, *TRAIN],
                             full, [os.path.join(run_dir, "last.pt"), os.path.join(run_dir, "best.pt")], 16 * 1024)
        pred_dir = os.path.join(full, "pred")
        refuses_on_full_disk("predict", ["predict", "--input", images, "--out", pred_dir, "--model", model, "-j", 1],
                             full, [os.path.join(pred_dir, "nuclei.csv"), os.path.join(pred_dir, "summary.json")],
                             24 * 1024)
        eval_dir = os.path.join(full, "eval")
        refuses_on_full_disk("evaluate", ["evaluate", "--pred", os.path.join(pred, "masks"), "--truth", masks,
                                          "--out", eval_dir],
                             full, [os.path.join(eval_dir, "evaluation.json")], 1024)
    print("ok")


if __name__ == "__main__":
    main()

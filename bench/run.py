#!/usr/bin/env python3
"""nucseg benchmarks against Python peers: one command, one table of medians and ratios.

  python3 bench/run.py                 # full run (real data from ../shared/data)
  python3 bench/run.py --smoke         # tiny sizes: checks that the harness works (CI)

Each row runs nucseg and its peer on the same inputs, on the same machine, with the same
thread count, alternating runs, and reports the medians and the ratio peer/nucseg (> 1 means
nucseg is faster). Never used as a timed test."""
import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"


def timed(cmd, env=None):
    """Wall seconds, peak RSS (MiB) and output (stdout, then stderr) of a child process."""
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=e)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    err = p.stderr.strip().splitlines()
    rss_kb = int(err[-1])
    return dt, rss_kb / 1024.0, p.stdout + "\n".join(err[:-1])


def alternate(a, b, repeats):
    """Runs callables a and b alternately; returns their lists of results."""
    ra, rb = [], []
    for _ in range(repeats):
        ra.append(a())
        rb.append(b())
    return ra, rb


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def row_convert(args, tmp):
    src = os.path.join(args.data, "dsb2018_stage1_train")
    if not os.path.isdir(src):
        return None
    sub = os.path.join(tmp, "dsb")
    os.makedirs(sub, exist_ok=True)
    ids = sorted(os.listdir(src))[: args.convert_images]
    for i in ids:
        if not os.path.exists(os.path.join(sub, i)):
            os.symlink(os.path.join(src, i), os.path.join(sub, i))
    out_n, out_p = os.path.join(tmp, "n.h5"), os.path.join(tmp, "p.h5")
    env = {"OMP_NUM_THREADS": str(args.threads)}
    ours = lambda: timed([args.nucseg, "--log-level", "warn", "convert", "--images", sub, "--out", out_n,
                          "--size", "128", "--overwrite", "-j", str(args.threads)], env)
    peer = lambda: timed([peer_pythons(args)[0], os.path.join(HERE, "peers", "convert_peer.py"), "--images", sub, "--out", out_p,
                          "--size", "128"], env)
    rn, rp = alternate(ours, peer, args.repeats)
    n = len(ids)
    tn, tp = statistics.median(r[0] for r in rn), statistics.median(r[0] for r in rp)
    return {"row": f"convert {n} DSB images -> 128x128 HDF5", "unit": "images/s",
            "nucseg": n / tn, "peer": n / tp, "ratio": tp / tn, "threads": args.threads,
            "note": "peer: skimage/Pillow + skimage.transform.resize + h5py, 1 process"}


def dsb_set(args, tmp, native):
    """A DSB training set (128x128, or native sizes for the 256x256-crop recipe), converted once
    per run; a synthetic plate where the real data is absent."""
    out = os.path.join(tmp, "native.h5" if native else "train128.h5")
    if os.path.exists(out):
        return out
    src = os.path.join(args.data, "dsb2018_stage1_train")
    if os.path.isdir(src):
        sub = os.path.join(tmp, "dsb-train")
        if not os.path.isdir(sub):
            os.makedirs(sub)
            for i in sorted(os.listdir(src))[: max(args.train_steps * 16 * 10 // 8, 40)]:
                os.symlink(os.path.join(src, i), os.path.join(sub, i))
        cmd = ["convert", "--images", sub]
    else:  # no real data: a synthetic plate with its ground truth
        syn = os.path.join(tmp, "syn-train")
        if not os.path.isdir(syn):
            subprocess.run([args.nucseg, "--log-level", "warn", "synth", "--out", syn, "--wells", "4", "--sites", "4",
                            "--size", "256" if native else "128", "256" if native else "128"], check=True)
        cmd = ["convert", "--images", os.path.join(syn, "plate1"), "--masks", os.path.join(syn, "ground_truth", "plate1")]
    size = ["--native-size", "--normalize", "percentile"] if native else ["--size", "128"]
    subprocess.run([args.nucseg, "--log-level", "warn", *cmd, "--out", out, *size, "--overwrite"], check=True)
    return out


RECIPES = {  # name: (dataset, nucseg flags, peer flags, description)
    "seed": (False, ["--batch-size", "16"], ["--size", "128", "--batch", "16"],
             "train step, seed U-Net 128x128, batch 16"),
    "shipped": (True, ["--config", os.path.join(ROOT, "examples", "train-finetune-nodropout.json")],
                ["--size", "256", "--batch", "8"],
                "train step, shipped recipe (train-finetune-nodropout.json: 256x256 crops, zoom, flips, turns, "
                "intensity, noise), batch 8"),
}


def peer_pythons(args):
    """The Python peers' interpreters that exist: Debian's torch, then the newest (torch2 venv)."""
    found = [p for p in args.peer_python.split(",") if p and os.path.exists(os.path.expanduser(p))]
    return found[:1] if args.smoke else found


def row_train(args, tmp, recipe="seed"):
    """images/s of training steps: nucseg's own figure over its training loop, data loading
    and augmentation included; the peer times steps on in-memory tensors."""
    native, flags, peer_flags, title = RECIPES[recipe]
    data = dsb_set(args, tmp, native)
    env = {"OMP_NUM_THREADS": str(args.threads)}
    waits = []

    def ours():
        run_dir = os.path.join(tmp, "train-run")
        dt, rss, out = timed([args.nucseg, "train", "--data", data, "--out", run_dir, "--epochs", "1",
                              "--steps-per-epoch", str(args.train_steps), *flags, "-j",
                              str(args.threads), "--overwrite", "--patience", "0"], env)
        m = re.search(r"([0-9.]+) % waiting for data", out)
        waits.append(float(m.group(1)) if m else float("nan"))
        return float(re.search(r"\(([0-9.]+) images/s", out).group(1))

    pythons = peer_pythons(args)

    def peer():
        res = {}
        for py in pythons:
            _, _, out = timed([os.path.expanduser(py), os.path.join(HERE, "peers", "train_peer.py"), "--threads",
                               str(args.threads), "--steps", str(args.train_steps), *peer_flags], env)
            res[py] = json.loads(out.strip().splitlines()[0])
        return res

    rn, rp = alternate(ours, peer, args.repeats)
    n_ips = statistics.median(rn)
    p_ips = {py: statistics.median(r[py]["images_per_s"] for r in rp) for py in pythons}
    first = p_ips[pythons[0]]
    notes = [f"{statistics.median(waits):.0f} % of step time waiting for data"]
    for py in pythons:
        notes.append(f"peer torch {rp[0][py].get('torch', '?')}: {p_ips[py]:.2f} images/s ({n_ips / p_ips[py]:.2f}x)")
    if recipe == "seed":
        conv = conv_throughput(args)
        gf = 3 * rp[0][pythons[0]]["forward_gflop_per_image"] * n_ips
        if conv:
            notes.append(f"nucseg {gf:.1f} GFLOP/s = {100 * gf / conv:.0f}% of measured 3x3 conv {conv:.1f} GFLOP/s")
    return {"row": title, "unit": "images/s", "nucseg": n_ips, "peer": first, "ratio": n_ips / first,
            "threads": args.threads, "note": "; ".join(notes)}


def row_train_shipped(args, tmp):
    return row_train(args, tmp, "shipped")


def row_loader(args, tmp):
    """crops/s of the training loader alone (no network), shipped augmentation, 256x256 crops,
    on 1 and 2 loader threads, samples in memory (second pass)."""
    exe = os.path.join(os.path.dirname(args.nucseg), "..", "bench", "nucseg_bench_loader")
    if not os.path.exists(exe):
        return None
    data = dsb_set(args, tmp, True)
    config = os.path.join(ROOT, "examples", "train-finetune-nodropout.json")
    rates, cpu = {}, {}
    for threads in (1, 2):
        runs = []
        for _ in range(args.repeats):
            p = subprocess.run([exe, data, config, str(threads), "4" if args.smoke else "40", "2" if args.smoke else "8"],
                               capture_output=True,
                               text=True, check=True)
            runs += [json.loads(line) for line in p.stdout.strip().splitlines()[1:]]
        rates[threads] = statistics.median(r["crops_per_s"] for r in runs)
        cpu[threads] = statistics.median(r["crops_per_cpu_s"] for r in runs)
    return {"row": "loader alone, 256x256 crops, shipped augmentation (1 / 2 threads)", "unit": "crops/s",
            "nucseg": rates[1], "peer": float("nan"), "ratio": float("nan"), "threads": 1,
            "note": f"2 threads {rates[2]:.1f} crops/s ({rates[2] / rates[1]:.2f}x of 1); per CPU-second "
                    f"{cpu[1]:.0f} (1 thread) and {cpu[2]:.0f} (2 threads); target >= 400 per thread"}


def conv_throughput(args):
    exe = os.path.join(os.path.dirname(args.nucseg), "..", "bench", "nucseg_bench_conv")
    if not os.path.exists(exe):
        return 0.0
    p = subprocess.run([exe, str(args.threads), "128", "16", "3" if args.smoke else "10"], capture_output=True,
                       text=True, check=True)
    j = json.loads(p.stdout.strip().splitlines()[-1])
    return max(v for k, v in j.items() if k.startswith("gflops"))


def one_pass(args):
    """One pass at scale 1, as the peer does: nucseg's default auto diameter adds a second pass
    at another scale for images whose nuclei are not within 1.2x of its target diameter. Given
    --predict-args --auto-diameter, that is what is timed."""
    return [] if "--auto-diameter" in args.predict_args else ["--no-auto-diameter"]


def predict_inputs(args, tmp):
    """The real TIFFs of ../shared/data/tiff_samples, else a synthetic plate."""
    src = os.path.join(args.data, "tiff_samples")
    if os.path.isdir(src) and not args.smoke:
        real = os.path.join(tmp, "tiff_samples")  # the images, not the label file beside them
        os.makedirs(real, exist_ok=True)
        for f in sorted(os.listdir(src)):
            if f.endswith(".tif") and "_labels" not in f and not os.path.exists(os.path.join(real, f)):
                os.symlink(os.path.join(src, f), os.path.join(real, f))
        return real, "*.tif", "tiff_samples (3 x 1006x1000 uint8 + 512x512 uint16)"
    syn = os.path.join(tmp, "syn-predict")
    if not os.path.isdir(syn):
        subprocess.run([args.nucseg, "--log-level", "warn", "synth", "--out", syn, "--wells", "1", "--sites", "2",
                        "--size", "256", "256"], check=True)
    return os.path.join(syn, "plate1"), "*.tif", "synthetic 2 x 256x256"


def row_predict(args, tmp):
    """Read -> tiles -> network -> watershed -> measurements -> CSV, megapixels/s."""
    if not args.model:
        return None
    src, pattern, what = predict_inputs(args, tmp)
    env = {"OMP_NUM_THREADS": str(args.threads)}
    post_share = []

    def ours():
        out = os.path.join(tmp, "pred-n")
        shutil.rmtree(out, ignore_errors=True)
        dt, rss, log = timed([args.nucseg, "predict", "--model", args.model, "--input", src, "--glob", pattern,
                              "--out", out, "-j", str(args.threads), "--overlays", "0", *one_pass(args), *args.predict_args], env)
        m = re.search(r"([0-9.]+) MP in ([0-9.]+) s \(network ([0-9.]+) s, post-processing \+ measurement ([0-9.]+) s", log)
        post_share.append(float(m.group(4)) / dt)
        return dt, float(m.group(1))

    def peer():
        out = os.path.join(tmp, "pred-p")
        shutil.rmtree(out, ignore_errors=True)
        dt, rss, o = timed([peer_pythons(args)[0], os.path.join(HERE, "peers", "predict_peer.py"), "--model", args.model, "--input", src,
                            "--glob", pattern, "--out", out, "--threads", str(args.threads)], env)
        j = json.loads(o.splitlines()[0])  # stderr (newer scikit-image's warnings) follows stdout
        return dt, j["megapixels"], j["post_seconds"] / dt

    rn, rp = alternate(ours, peer, args.repeats)
    mp = rn[0][1]
    tn, tp = statistics.median(r[0] for r in rn), statistics.median(r[0] for r in rp)
    return {"row": f"predict end to end, {what}", "unit": "MP/s", "nucseg": mp / tn, "peer": mp / tp,
            "ratio": tp / tn, "threads": args.threads,
            "note": f"after the network: nucseg {100 * statistics.median(post_share):.0f}% of wall, peer "
                    f"{100 * statistics.median(r[2] for r in rp):.0f}%; peer: PyTorch + scikit-image watershed/regionprops"}


def row_memory(args, tmp):
    """Peak RSS of nucseg predict on one large synthetic image (10k x 10k by default)."""
    if not args.model or args.big_size <= 0:
        return None
    syn = os.path.join(tmp, "big")
    n = max(10, args.big_size * args.big_size // 2500)
    subprocess.run([args.nucseg, "--log-level", "warn", "synth", "--out", syn, "--wells", "1", "--sites", "1",
                    "--size", str(args.big_size), str(args.big_size), "--nuclei", str(n), str(n)], check=True)
    out = os.path.join(tmp, "big-out")
    dt, rss, _ = timed([args.nucseg, "predict", "--model", args.model, "--input", os.path.join(syn, "plate1"),
                        "--out", out, "-j", str(args.threads), "--overlays", "0", *one_pass(args), *args.predict_args])
    shutil.rmtree(syn, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    mp = args.big_size * args.big_size / 1e6
    return {"row": f"predict peak memory, one {args.big_size}x{args.big_size} image", "unit": "MiB peak RSS",
            "nucseg": rss, "peer": float("nan"), "ratio": float("nan"), "threads": args.threads,
            "note": f"target <= 3072 MiB; {mp / dt:.2f} MP/s, {dt:.0f} s"}


def row_bands(args, tmp):
    """Post-processing of one tall image's bands on the stage pool, the network next to free (as
    beside a GPU): MP/s end to end on 1 and on --threads post-processing threads."""
    exe = os.path.join(os.path.dirname(args.nucseg), "..", "bench", "nucseg_bench_bands")
    if not os.path.exists(exe):
        return None
    side = 600 if args.smoke else 3000
    syn = os.path.join(tmp, "tall")
    subprocess.run([args.nucseg, "--log-level", "warn", "synth", "--out", syn, "--wells", "1", "--sites", "1",
                    "--size", str(side), "--nuclei", str(side * side // 1500), str(side * side // 1500)],
                   check=True)
    image = os.path.join(syn, "plate1", "A01_s1_w1.tif")
    p = subprocess.run([exe, "--repeats", str(args.repeats), "--max-threads", str(max(2, args.threads)),
                        "--band-rows", str(side // 10), image], capture_output=True, text=True, check=True)
    j = json.loads(p.stdout.strip().splitlines()[-1])
    n = max(2, args.threads)
    one, many = j["post_threads_1"]["megapixels_per_second"], j[f"post_threads_{n}"]["megapixels_per_second"]
    return {"row": f"bands of one {side}x{side} image on the pool, network free (1 / {n} threads)", "unit": "MP/s",
            "nucseg": one, "peer": float("nan"), "ratio": float("nan"), "threads": n,
            "note": f"{n} post-processing threads {many:.2f} MP/s ({many / one:.2f}x of 1); {j['bands']} bands"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nucseg", default=os.path.join(ROOT, "build", "tools", "nucseg"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--threads", type=int, default=1, help="threads for nucseg and the peer")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--convert-images", type=int, default=664)
    ap.add_argument("--train-steps", type=int, default=10, help="timed training steps per run")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "nucseg-default.pt"),
                    help="checkpoint for the predict rows")
    ap.add_argument("--big-size", type=int, default=10000, help="side of the peak-memory image; 0 skips the row")
    ap.add_argument("--predict-args", nargs="*", default=[], help="extra nucseg predict flags")
    ap.add_argument("--rows", default="convert,loader,train,train_shipped,predict,bands,memory", help="rows to run")
    ap.add_argument("--peer-python", default=PY + ",~/.cache/nucseg/torch2/bin/python",
                    help="comma-separated Pythons with torch for the peers (missing ones skipped); convert and predict use the first")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat: checks the harness")
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args()
    if args.smoke:
        args.repeats, args.convert_images, args.train_steps, args.big_size = 1, 4, 2, 256
    if not os.path.exists(args.model):
        print(f"# no model at {args.model}: predict rows skipped")
        args.model = ""
    tmp = tempfile.mkdtemp(prefix="nucseg-bench-")
    rows = []
    try:
        wanted = set(args.rows.split(","))
        for fn in (f for f in (row_convert, row_loader, row_train, row_train_shipped, row_predict, row_bands,
                                  row_memory)
                  if f.__name__[4:] in wanted):
            r = fn(args, tmp)
            if r is None:
                print(f"# {fn.__name__}: skipped (inputs missing)")
            else:
                rows.append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"# machine: {machine()}")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"| benchmark | unit | nucseg | peer | ratio (nucseg/peer speed) | threads | notes |")
    print(f"| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        peer = "-" if r["peer"] != r["peer"] else f"{r['peer']:.2f}"
        ratio = "-" if r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}x"
        print(f"| {r['row']} | {r['unit']} | {r['nucseg']:.2f} | {peer} | {ratio} | "
              f"{r['threads']} | {r['note']} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine(), "rows": rows}, fh, indent=2)
    if not rows:
        print("SKIPPED: no benchmark inputs")
        sys.exit(77)


if __name__ == "__main__":
    main()

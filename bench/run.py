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
    """Wall seconds and peak RSS (MiB) of a command run as a child process."""
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=e)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    return dt, rss_kb / 1024.0, p.stdout


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
    peer = lambda: timed([PY, os.path.join(HERE, "peers", "convert_peer.py"), "--images", sub, "--out", out_p,
                          "--size", "128"], env)
    rn, rp = alternate(ours, peer, args.repeats)
    n = len(ids)
    tn, tp = statistics.median(r[0] for r in rn), statistics.median(r[0] for r in rp)
    return {"row": f"convert {n} DSB images -> 128x128 HDF5", "unit": "images/s",
            "nucseg": n / tn, "peer": n / tp, "ratio": tp / tn, "threads": args.threads,
            "note": "peer: skimage/Pillow + skimage.transform.resize + h5py, 1 process"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nucseg", default=os.path.join(ROOT, "build", "tools", "nucseg"))
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--threads", type=int, default=1, help="threads for nucseg and the peer")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--convert-images", type=int, default=664)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repeat: checks the harness")
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args()
    if args.smoke:
        args.repeats, args.convert_images = 1, 4
    tmp = tempfile.mkdtemp(prefix="nucseg-bench-")
    rows = []
    try:
        for fn in (row_convert,):
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
        print(f"| {r['row']} | {r['unit']} | {r['nucseg']:.2f} | {r['peer']:.2f} | {r['ratio']:.2f}x | "
              f"{r['threads']} | {r['note']} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine(), "rows": rows}, fh, indent=2)
    if not rows:
        print("SKIPPED: no benchmark inputs")
        sys.exit(77)


if __name__ == "__main__":
    main()

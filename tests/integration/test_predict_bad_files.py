"""nucseg predict on a plate folder holding one of each kind of bad file next to good images
(issue 26): a truncated PNG named .tif (libpng used to abort the process), a PNG header
declaring 60000 x 60000 pixels (used to take 3.7 GB before failing), a truncated TIFF, an empty
file, a text file named .png and a JPEG cut inside its pixel data (ITK's JPEG reader used to
crash the process on it) and, where predict's automatic pixel budget (half of what the
process may use, at 16 bytes per pixel value beside one band) is below 2^31, a PNG header
declaring just over it. The batch finishes with exit code 5, every good image is
segmented, every bad file is in failures.csv with its reason, and peak memory stays near that
of the good images alone."""
import csv
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import tifffile
from PIL import Image

from nucseg_testlib import BIN, check, run, synth_plate, tempdir

PEAK_LIMIT_MB = 1536


def model_args():
    m = os.environ.get("NUCSEG_TEST_MODEL")
    return ["--model", m] if m else []


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width, height):
    """A PNG of a few dozen bytes whose header declares width x height 8-bit gray pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00"))
            + png_chunk(b"IEND", b""))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def bad_files(plate, scratch):
    """Writes the bad files into `plate`; returns {file name: words its reason must hold}."""
    good_png = os.path.join(scratch, "good.png")
    run("synth", "--out", os.path.join(scratch, "png"), "--wells", 1, "--sites", 1, "--size", 64, 64,
        "--nuclei", 2, 2, "--seed", 3)
    src = os.path.join(scratch, "png", "plate1", "A01_s1_w1.tif")
    write_png16(tifffile.imread(src), good_png)
    whole = open(good_png, "rb").read()
    write(os.path.join(plate, "C01_s1_w1.tif"), whole[:23])
    write(os.path.join(plate, "C01_s2_w1.png"), png_declaring(60000, 60000))
    tif = open(src, "rb").read()
    write(os.path.join(plate, "C02_s1_w1.tif"), tif[: len(tif) // 3])
    write(os.path.join(plate, "C02_s2_w1.tif"), b"")
    write(os.path.join(plate, "C03_s1_w1.png"), b"these are notes, not an image\n")
    jpeg = io.BytesIO()
    Image.fromarray(np.random.default_rng(5).integers(0, 255, (64, 64), dtype=np.uint8)).save(jpeg, "JPEG")
    write(os.path.join(plate, "C03_s2_w1.jpg"), jpeg.getvalue()[: len(jpeg.getvalue()) * 3 // 5])
    return {
        "C01_s1_w1.tif": ["C01_s1_w1.tif", "truncated"],
        "C01_s2_w1.png": ["60000 x 60000 x 1", "--max-pixels"],
        "C02_s1_w1.tif": ["C02_s1_w1.tif"],
        "C02_s2_w1.tif": ["C02_s2_w1.tif"],
        "C03_s1_w1.png": ["not a PNG"],
        "C03_s2_w1.jpg": ["C03_s2_w1.jpg", "truncated"],
    }


def write_png16(img, path):
    """Writes a 16-bit gray PNG with zlib (no imaging library needed)."""
    h, w = img.shape
    rows = b"".join(b"\x00" + img[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)
    write(path, b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows))
          + png_chunk(b"IEND", b""))


def peak_of(args):
    """Runs nucseg in a fresh Python child; returns (exit code, peak RSS in MB, stderr)."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stderr.write(p.stderr)\n"
             "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    p = subprocess.run([sys.executable, "-c", probe, BIN, *map(str, args)], capture_output=True, text=True)
    code, kb = p.stdout.split()
    return int(code), int(kb) / 1024.0, p.stderr


def over_the_budget(mixed, log):
    """Adds a PNG declaring one row more than the pixel budget predict logged (when that
    budget is below the 2^31 every reader refuses anyway); returns {file name: reason words}."""
    m = re.search(r"images of up to (\d+) pixel values", log)
    check(m, f"predict logs its pixel budget:\n{log}")
    budget = int(m.group(1))
    width = 50000
    height = budget // width + 1
    if width * height >= 2 ** 31:
        print(f"pixel budget {budget}: the machine holds any image under 2^31, no file over it added")
        return {}
    write(os.path.join(mixed, "C04_s1_w1.png"), png_declaring(width, height))
    return {"C04_s1_w1.png": [f"{width} x {height} x 1", "GiB of memory", "--max-pixels"]}


def main():
    with tempdir() as root:
        plate, _ = synth_plate(root, 2, 2, 256, 256, (8, 14), 11)
        good = sorted(f for f in os.listdir(plate) if f.endswith(".tif"))
        mixed = os.path.join(root, "mixed")
        shutil.copytree(plate, mixed)
        reasons = bad_files(mixed, os.path.join(root, "scratch"))

        code, good_mb, err = peak_of(["predict", "--input", plate, "--out", os.path.join(root, "R0"), "-j", 2,
                                      *model_args()])
        check(code == 0, f"good images alone: exit {code}\n{err}")
        reasons.update(over_the_budget(mixed, err))
        out = os.path.join(root, "R")
        code, mixed_mb, err = peak_of(["predict", "--input", mixed, "--out", out, "-j", 2, *model_args()])
        check(code == 5, f"exit {code}, expected 5 (some images failed)\n{err}")
        check("libpng error" not in err, f"no library noise on stderr:\n{err}")

        for name in good:
            mask = os.path.join(out, "masks", name)
            check(os.path.exists(mask), f"{name}: mask written")
            check(tifffile.imread(mask).max() > 0, f"{name}: nuclei found")
        fails = {r["FileName"]: r["Error"] for r in read_csv(os.path.join(out, "failures.csv"))}
        check(sorted(fails) == sorted(reasons), f"failures.csv lists exactly the bad files: {sorted(fails)}")
        for name, words in reasons.items():
            for word in words:
                check(word in fails[name], f"{name}: reason names '{word}': {fails[name]}")
        images = read_csv(os.path.join(out, "images.csv"))
        check(sum(r["Status"] == "ok" for r in images) == len(good), "every good image ok in images.csv")

        check(mixed_mb < PEAK_LIMIT_MB, f"peak memory {mixed_mb:.0f} MB, limit {PEAK_LIMIT_MB} MB")
        check(mixed_mb < good_mb * 1.25 + 64, f"peak {mixed_mb:.0f} MB with the bad files, {good_mb:.0f} MB without")
        print(f"peak RSS: good images alone {good_mb:.0f} MB, with the bad files {mixed_mb:.0f} MB")
    print("ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the plate report of a large synthetic run and measures its size and build time.

Writes the files `nucseg predict` leaves in a results folder (summary.json, images.csv,
wells.csv, nuclei.csv, failures.csv, .nucseg/inputs.json and overlays for a tenth of the
images, as predict's default --overlays 0.1) for a plate of 384 wells x 9 sites, then runs
`nucseg report --out` on it.

    python3 bench/report_plate.py --nucseg build/tools/nucseg --out /tmp/report-bench
"""
import argparse
import csv
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np



def png_bytes(rgb):
    """An 8-bit RGB PNG of an (h, w, 3) uint8 array."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def overlay(rng, side, nuclei):
    """A noisy gray image with `nuclei` bright disks outlined in yellow."""
    img = rng.normal(30, 8, (side, side)).clip(0, 255).astype(np.uint8)
    rgb = np.repeat(img[:, :, None], 3, axis=2)
    for cy, cx, r in zip(rng.uniform(0, side, nuclei), rng.uniform(0, side, nuclei), rng.uniform(6, 14, nuclei)):
        y0, y1, x0, x1 = (max(0, int(v)) for v in (cy - r - 2, cy + r + 2, cx - r - 2, cx + r + 2))
        yy, xx = np.mgrid[y0:min(side, y1), x0:min(side, x1)]
        d = np.hypot(yy - cy, xx - cx)
        window = rgb[y0:min(side, y1), x0:min(side, x1)]
        window[d <= r] = 180
        window[np.abs(d - r) < 0.8] = (255, 255, 0)
    return rgb


def wells_of(rows, columns):
    return [f"{chr(ord('A') + r)}{c + 1:02d}" for r in range(rows) for c in range(columns)]


def write_run(out, source, plate="plate1", rows=16, columns=24, sites=9, overlay_side=512, seed=1):
    rng = np.random.default_rng(seed)
    schema = json.load(open(os.path.join(source, "schemas", "nuclei-csv.schema.json")))
    nuclei_columns = list(schema["properties"])
    os.makedirs(os.path.join(out, ".nucseg"), exist_ok=True)
    os.makedirs(os.path.join(out, "overlays"), exist_ok=True)
    wells = wells_of(rows, columns)
    images, inputs, failures, well_rows = [], [], [], []
    nuclei_total = 0
    with open(os.path.join(out, "nuclei.csv"), "w", newline="") as f:
        nuclei = csv.DictWriter(f, nuclei_columns, restval="", lineterminator="\n")
        nuclei.writeheader()
        for wi, well in enumerate(wells):
            # a gradient across the plate, two wells far off it, one failing site
            expected = 60 + 60 * (wi % columns) / columns
            if well in ("C05", "K17"):
                expected *= 4 if well == "C05" else 0.05
            count_sum, area_sum, ok_sites, failed = 0, 0.0, 0, 0
            for s in range(1, sites + 1):
                number = len(images) + 1
                name = f"{well}_s{s}_w1.tif"
                ident = f"{well}_s{s}_w1"
                inputs.append({"id": ident, "path": f"plate/{name}"})
                if well == "H08" and s == 3:
                    failures.append([number, name, f"plate/{name}", f"cannot read 'plate/{name}': truncated TIFF strip"])
                    images.append({"ImageNumber": number, "FileName": name, "PathName": "plate",
                                   "Metadata_Plate": plate, "Metadata_Well": well, "Metadata_Site": s,
                                   "Metadata_Channel": 1, "Status": "failed", "Error": failures[-1][3]})
                    failed += 1
                    continue
                n = int(rng.poisson(expected))
                areas = rng.gamma(9, 30, n).round().astype(int) + 20
                intens = rng.normal(1500, 200, n)
                ecc = rng.beta(2, 4, n)
                confidence = rng.uniform(0.75, 1.0, n)
                for k in range(n):
                    nuclei.writerow({
                        "ImageNumber": number, "ObjectNumber": k + 1, "FileName": name, "Metadata_Plate": plate,
                        "Metadata_Well": well, "Metadata_Site": s, "Metadata_Channel": 1,
                        "Location_Center_X": f"{rng.uniform(0, 1080):.3f}",
                        "Location_Center_Y": f"{rng.uniform(0, 1080):.3f}", "AreaShape_Area": areas[k],
                        "AreaShape_Perimeter": "60.000", "AreaShape_EquivalentDiameter": "20.000",
                        "AreaShape_MajorAxisLength": "24.000", "AreaShape_MinorAxisLength": "18.000",
                        "AreaShape_Eccentricity": f"{ecc[k]:.4f}", "AreaShape_Solidity": "0.9500",
                        "AreaShape_ITK_Roundness": "0.9000", "AreaShape_ITK_Elongation": "1.2000",
                        "AreaShape_BoundingBoxMinimum_X": 10, "AreaShape_BoundingBoxMinimum_Y": 10,
                        "AreaShape_BoundingBoxMaximum_X": 30, "AreaShape_BoundingBoxMaximum_Y": 30,
                        "Intensity_MeanIntensity": f"{intens[k]:.4f}",
                        "Intensity_IntegratedIntensity": f"{intens[k] * areas[k]:.4f}",
                        "Intensity_MinIntensity": "100.0000", "Intensity_MaxIntensity": "3000.0000",
                        "Intensity_StdIntensity": "150.0000", "Confidence": f"{confidence[k]:.4f}"})
                mean_area = float(areas.mean()) if n else 0.0
                images.append({"ImageNumber": number, "FileName": name, "PathName": "plate", "Metadata_Plate": plate,
                               "Metadata_Well": well, "Metadata_Site": s, "Metadata_Channel": 1, "Width": 1080,
                               "Height": 1080, "Count_Nuclei": n, "Mean_Nuclei_AreaShape_Area": f"{mean_area:.3f}",
                               "Median_Nuclei_AreaShape_Area": f"{mean_area:.3f}", "ForegroundFraction": "0.100000",
                               "Mean_Nuclei_Confidence": f"{confidence.mean():.4f}" if n else "",
                               "Status": "ok", "Error": ""})
                count_sum += n
                area_sum += areas.sum()
                ok_sites += 1
                nuclei_total += n
                if number % 10 == 1:
                    with open(os.path.join(out, "overlays", ident + ".png"), "wb") as o:
                        o.write(png_bytes(overlay(rng, overlay_side, min(n, 150))))
            well_rows.append([plate, well, ok_sites, failed, count_sum,
                              f"{count_sum / ok_sites:.3f}" if ok_sites else "",
                              f"{area_sum / count_sum:.3f}" if count_sum else ""])
    schema_cols = {t: list(json.load(open(os.path.join(source, "schemas", f"{t}-csv.schema.json")))["properties"])
                   for t in ("images", "wells")}
    with open(os.path.join(out, "images.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, schema_cols["images"], restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(images)
    for name, header, rows_ in (("wells.csv", schema_cols["wells"], well_rows),
                                ("failures.csv", ["ImageNumber", "FileName", "Input", "Error"], failures)):
        with open(os.path.join(out, name), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows_)
    json.dump({"format": "nucseg-predict-run", "inputs": inputs}, open(os.path.join(out, ".nucseg", "inputs.json"), "w"))
    json.dump({"nucseg_version": "bench", "model": {"path": "models/nucseg-default.pt", "sha256": "0" * 64},
               "config": {"pattern": "metaxpress"}, "settings": {}, "images": len(images),
               "succeeded": len(images) - len(failures), "failed": len(failures), "nuclei": nuclei_total,
               "wall_seconds": 3600.0, "stage_seconds": {"network": 2500.0, "postprocess_measure": 900.0},
               "merge_seconds": 4.0, "merged_at_unix": 1700000000, "ranks": 1},
              open(os.path.join(out, "summary.json"), "w"))
    return len(images), nuclei_total


def build_report(nucseg, out):
    t0 = time.perf_counter()
    p = subprocess.run([nucseg, "report", "--out", out], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"nucseg report failed with exit {p.returncode}")
    return seconds, os.path.getsize(os.path.join(out, "report.html"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nucseg", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--sites", type=int, default=9)
    ap.add_argument("--overlay-side", type=int, default=512)
    args = ap.parse_args()
    t0 = time.perf_counter()
    images, nuclei = write_run(args.out, args.source, sites=args.sites, overlay_side=args.overlay_side)
    made = time.perf_counter() - t0
    seconds, size = build_report(args.nucseg, args.out)
    nuclei_mb = os.path.getsize(os.path.join(args.out, "nuclei.csv")) / 1e6
    print(f"plate: 384 wells x {args.sites} sites = {images} images, {nuclei} nuclei (nuclei.csv {nuclei_mb:.0f} MB), "
          f"written in {made:.0f} s")
    print(f"report: {size / 1e6:.2f} MB built in {seconds:.2f} s")
    print(json.dumps({"images": images, "nuclei": nuclei, "report_bytes": size, "report_seconds": seconds}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent oracle for nucseg's per-nucleus measurements: scikit-image regionprops.

usage: regionprops_oracle.py LABELS.tif IMAGE.tif NUCLEI.csv
Prints one JSON object: for each compared column the largest absolute and relative
difference between nucseg's CSV and regionprops, and the number of objects compared.
Exit code 77 when scikit-image or tifffile is missing, 2 on a mismatch of object sets."""
import csv
import json
import sys

try:
    import numpy as np
    import tifffile
    from skimage.measure import regionprops
except ImportError as e:  # pragma: no cover
    print(json.dumps({"skip": str(e)}))
    sys.exit(77)

labels_path, image_path, csv_path = sys.argv[1:4]
labels = tifffile.imread(labels_path).astype(np.int64)
image = tifffile.imread(image_path).astype(np.float64)
if image.ndim == 3:
    image = image[..., 0] if image.shape[-1] in (3, 4) else image[0]

with open(csv_path, newline="") as f:
    rows = {int(r["ObjectNumber"]): r for r in csv.DictReader(f)}

props = {p.label: p for p in regionprops(labels, intensity_image=image)}
if set(props) != set(rows):
    print(json.dumps({"error": "object sets differ", "only_skimage": sorted(set(props) - set(rows))[:10],
                      "only_nucseg": sorted(set(rows) - set(props))[:10]}))
    sys.exit(2)

def oracle(p):
    region = p.intensity_image[p.image]
    return {
        "Location_Center_X": p.centroid[1],
        "Location_Center_Y": p.centroid[0],
        "AreaShape_Area": p.area,
        "AreaShape_Perimeter": p.perimeter_crofton,
        "AreaShape_EquivalentDiameter": p.equivalent_diameter,
        "AreaShape_MajorAxisLength": p.major_axis_length,
        "AreaShape_MinorAxisLength": p.minor_axis_length,
        "AreaShape_Eccentricity": p.eccentricity,
        "AreaShape_Solidity": p.solidity,
        "AreaShape_BoundingBoxMinimum_X": p.bbox[1],
        "AreaShape_BoundingBoxMinimum_Y": p.bbox[0],
        "AreaShape_BoundingBoxMaximum_X": p.bbox[3],
        "AreaShape_BoundingBoxMaximum_Y": p.bbox[2],
        "Intensity_MeanIntensity": p.mean_intensity,
        "Intensity_IntegratedIntensity": float(region.sum()),
        "Intensity_MinIntensity": p.min_intensity,
        "Intensity_MaxIntensity": p.max_intensity,
        "Intensity_StdIntensity": float(region.std()),
    }

report = {"objects": len(props), "columns": {}}
for label, p in props.items():
    for name, want in oracle(p).items():
        got = float(rows[label][name])
        diff = abs(got - float(want))
        rel = diff / max(abs(float(want)), 1e-12)
        c = report["columns"].setdefault(name, {"max_abs": 0.0, "max_rel": 0.0, "mean_rel": 0.0})
        c["max_abs"] = max(c["max_abs"], diff)
        c["max_rel"] = max(c["max_rel"], rel)
        c["mean_rel"] += rel / len(props)
print(json.dumps(report))

#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/: a few tiny,
valid files of each kind (a few KB per target). Run with Debian's python3 (numpy, PIL,
tifffile, h5py). Crashing inputs found by fuzzing are added by hand as crash-*."""
import io
import json
import os
import struct
import sys

import h5py
import numpy as np
import tifffile
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def pil_bytes(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def tiff_bytes(array, **kw):
    buf = io.BytesIO()
    tifffile.imwrite(buf, array, **kw)
    return buf.getvalue()


def pngs():
    rng = np.random.default_rng(0)
    g8 = rng.integers(0, 255, (5, 7), np.uint8)
    yield "gray8.png", pil_bytes(Image.fromarray(g8), "PNG")
    yield "gray16.png", pil_bytes(Image.fromarray(g8.astype(np.uint16) * 257), "PNG")
    rgb = rng.integers(0, 255, (4, 3, 3), np.uint8)
    yield "rgb.png", pil_bytes(Image.fromarray(rgb), "PNG")
    yield "rgba.png", pil_bytes(Image.fromarray(rng.integers(0, 255, (3, 4, 4), np.uint8)), "PNG")
    yield "la.png", pil_bytes(Image.fromarray(rng.integers(0, 255, (3, 3, 2), np.uint8), "LA"), "PNG")
    yield "palette-trns.png", pil_bytes(Image.fromarray(rgb).convert("P"), "PNG", transparency=0)
    yield "bits1.png", pil_bytes(Image.fromarray(g8 > 128), "PNG")
    yield "optimized.png", pil_bytes(Image.fromarray(g8), "PNG", optimize=True)


def tiffs():
    a = np.arange(12, dtype=np.uint16).reshape(3, 4)
    yield "plain.tif", tiff_bytes(a, resolution=(2.0, 2.0, "CENTIMETER"))
    yield "imagej.tif", tiff_bytes(np.zeros((2, 3, 4, 4), np.uint8), imagej=True,
                                   resolution=(4.0, 4.0), metadata={"axes": "ZCYX", "unit": "um"})
    yield "ome.tif", tiff_bytes(np.zeros((2, 4, 4), np.uint8), ome=True, photometric="minisblack",
                                metadata={"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.5})
    yield "big.tif", tiff_bytes(a, bigtiff=True)


def descriptions():
    yield ('<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
           '<Image ID="Image:0"><Pixels DimensionOrder="XYZCT" SizeC="2" SizeT="3" SizeZ="1" '
           'SizeX="4" SizeY="4" PhysicalSizeX="0.65" PhysicalSizeXUnit="nm" PhysicalSizeY="0.65" '
           'Type="uint8"/></Image></OME>')
    yield "ImageJ=1.53t\nimages=6\nchannels=2\nslices=3\nhyperstack=true\nunit=micron\n"
    yield "ImageJ=1.53t\nimages=4\nframes=4\nunit=\\u00B5m\nspacing=1.5\n"


def bmp_and_friends():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 255, (4, 5, 3), np.uint8)
    yield 1, "rgb.png", pil_bytes(Image.fromarray(rgb), "PNG")
    yield 2, "gray.jpg", pil_bytes(Image.fromarray(rgb[:, :, 0]), "JPEG", quality=50)
    yield 2, "rgb.jpg", pil_bytes(Image.fromarray(rgb), "JPEG", quality=50)
    yield 3, "rgb.bmp", pil_bytes(Image.fromarray(rgb), "BMP")
    yield 3, "gray.bmp", pil_bytes(Image.fromarray(rgb[:, :, 0]), "BMP")
    yield 5, "u8.mha", (b"ObjectType = Image\nNDims = 2\nDimSize = 4 3\nElementType = MET_UCHAR\n"
                        b"ElementDataFile = LOCAL\n" + bytes(range(12)))
    yield 0, "labels16.tif", tiff_bytes(np.array([[0, 1], [2, 2]], np.uint16))
    yield 0, "float.tif", tiff_bytes(np.array([[0.5, 1.5], [2, 3]], np.float32))
    yield 0, "stack.tif", tiff_bytes(np.zeros((3, 2, 2), np.uint8))


def dataset_file():
    buf = io.BytesIO()
    with h5py.File(buf, "w", libver="latest") as f:
        for k, v in {"format": "nucseg-dataset", "layout": "fixed"}.items():
            f.attrs[k] = v
        for k, v in {"format_version": 1, "channels": 1, "height": 2, "width": 2, "has_masks": 1,
                     "count": 2}.items():
            f.attrs[k] = np.int64(v)
        f.create_dataset("images", data=np.zeros((2, 1, 2, 2), np.float32))
        f.create_dataset("masks", data=np.array([[[0, 1], [1, 1]], [[0, 0], [2, 2]]], np.uint32))
        s = h5py.string_dtype()
        f.create_dataset("meta/id", data=np.array(["a", "b"], object), dtype=s)
        f.create_dataset("meta/source_path", data=np.array(["a.tif", "b.tif"], object), dtype=s)
        f.create_dataset("split/train", data=np.array([0], np.int64))
        f.create_dataset("split/val", data=np.array([1], np.int64))
    return buf.getvalue()


def main():
    for name, data in pngs():
        put("png_reader", name, data)
    for name, data in tiffs():
        put("tiff_metadata", name, b"\0" + data)
    for i, text in enumerate(descriptions()):
        put("tiff_metadata", f"description-{i}.txt", b"\1" + struct.pack("<dd", 2.0, 2.0) + b"\3" + text.encode())
    for ext, name, data in bmp_and_friends():
        put("image_reader", name, bytes([ext]) + data)
    for name, data in tiffs():
        put("image_reader", name, b"\0" + data)
    for name, data in pngs():
        put("image_reader", name, b"\1" + data)
    for name in ("convert.json", "train-contour.json"):
        with open(os.path.join(HERE, "..", "..", "examples", name), "rb") as f:
            put("config", name, f.read())
    put("config", "nested.json", json.dumps({"model": {"depth": 4}, "list": [1, 2.5, "x", None, True]}))
    put("dataset", "fixed.h5", b"\0" + dataset_file())
    rng = np.random.default_rng(2)
    for i in range(4):
        put("dataset", f"structured-{i}.bin", b"\1" + rng.integers(0, 256, 64, np.uint8).tobytes())
    put("csv", "fragment.csv", "ImageNumber,ObjectNumber,FileName,AreaShape_Area\n1,1,a.tif,10.5\n1,2,a.tif,\n")
    put("csv", "quoted.csv", 'a,"b,c","d""e"\r\n"x\ny",2,3\n')
    put("csv", "header-only.csv", "ImageNumber\n")
    put("plate", "auto.txt", "auto\nplate1/A01_s1_w1.tif")
    put("plate", "metaxpress.txt", "metaxpress\nPlateX_B12_s3_w2_0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0.tif")
    put("plate", "opera.txt", "opera\nImages/r02c11f03p01-ch1sk1fk1fl1.tiff")
    put("plate", "regex.txt", "(?P<plate>[^/]+)/(?P<row>[A-P])(?P<column>\\d+)-(?P<site>\\d+)\nroot/P7/C4-2.png")
    put("plate", "backref.txt", "(?<well>[a-p]\\d\\d)_(?P=well)\n2024-01-31/TimePoint_1/a01_a01.tif")


if __name__ == "__main__":
    sys.exit(main())

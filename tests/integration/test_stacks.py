"""Multi-page files as microscopes write them: an ImageJ hyperstack (Z, C), an OME-TIFF with
its z-planes fastest (XYZCT), a time series and a plain multi-page TIFF without a description.
`--channel` picks a channel of a described stack (not a page), `--z-project max|mean` projects
its z-planes, and the result is exactly that of predicting (or converting) the projection saved
as a plain image; what cannot be told apart is refused with the file and what to add."""
import csv
import os

import h5py
import numpy as np
import tifffile

from nucseg_testlib import check, run, synth_plate, tempdir


def image_rows(out):
    with open(os.path.join(out, "images.csv")) as f:
        return {r["FileName"]: r for r in csv.DictReader(f)}


def mask(out, stem):
    return tifffile.imread(os.path.join(out, "masks", stem + ".tif"))


def predict(src, out, *extra):
    # expect=None: a refused image is a failed row and a non-zero exit, checked by the caller
    return run("predict", "--input", src, "--out", out, "--overlays", 0, "-j", 2, "--no-auto-diameter",
               *extra, expect=None)


def main():
    with tempdir() as root:
        plate, _ = synth_plate(root, 1, 1, 192, 224, (14, 18), 3)
        site = tifffile.imread(sorted(os.path.join(plate, f) for f in os.listdir(plate))[0]).astype(np.uint16)
        other = np.random.default_rng(1).integers(0, 400, site.shape).astype(np.uint16)  # channel 0
        planes = [site // 3, site, site // 2]  # in focus in the middle plane: max = the site
        zcyx = np.stack([np.stack([other, p]) for p in planes])

        def folder(name, write):
            d = os.path.join(root, name)
            os.makedirs(d)
            write(d)
            return d

        ij = folder("ij", lambda d: tifffile.imwrite(os.path.join(d, "ij.tif"), zcyx, imagej=True,
                                                     metadata={"axes": "ZCYX"}))
        ome = folder("ome", lambda d: tifffile.imwrite(os.path.join(d, "ome.ome.tif"),
                                                       np.ascontiguousarray(zcyx.transpose(1, 0, 2, 3)),
                                                       ome=True, metadata={"axes": "CZYX"}))
        desc = tifffile.TiffFile(os.path.join(ome, "ome.ome.tif")).pages[0].description
        check('DimensionOrder="XYZCT"' in desc, desc[:600])  # z-planes fastest: not the ImageJ order
        mip = folder("mip", lambda d: tifffile.imwrite(os.path.join(d, "mip.tif"), np.max(np.stack(planes), 0)))
        mean = folder("mean", lambda d: tifffile.imwrite(
            os.path.join(d, "mean.tif"), np.mean(np.stack(planes).astype(np.float64), 0).astype(np.float32)))
        # minisblack: one page per plane (else tifffile writes one page of 3 colour samples)
        plain = folder("plain", lambda d: tifffile.imwrite(os.path.join(d, "plain.tif"), np.stack(planes),
                                                           photometric="minisblack"))
        timed = folder("timed", lambda d: tifffile.imwrite(os.path.join(d, "timed.tif"), np.stack(planes),
                                                           imagej=True, metadata={"axes": "TYX"}))

        out = lambda name: os.path.join(root, "out-" + name)
        p = predict(mip, out("mip"))
        check(p.returncode == 0, p.stderr[-2000:])
        reference = mask(out("mip"), "mip")
        check(reference.max() >= 10, f"the projection was segmented: {reference.max()} nuclei")

        for name, src, stem in (("ij", ij, "ij"), ("ome", ome, "ome")):
            p = predict(src, out(name), "--channel", 1, "--z-project", "max")
            check(p.returncode == 0, p.stderr[-2000:])
            check(np.array_equal(mask(out(name), stem), reference), f"{name}: not the masks of the projection")
            # Channel 0 is the other stain, not a page of the nuclear one.
            p = predict(src, out(name + "-c0"), "--channel", 0, "--z-project", "max")
            check(not np.array_equal(mask(out(name + "-c0"), stem) > 0, reference > 0), f"{name}: channel 0 = 1?")

        p = predict(ij, out("ij-mean"), "--channel", 1, "--z-project", "mean")
        check(p.returncode == 0, p.stderr[-2000:])
        p = predict(mean, out("mean"))
        check(np.array_equal(mask(out("ij-mean"), "ij"), mask(out("mean"), "mean")), "mean projection differs")

        # Plain pages (no description) are projected whole; a page and a projection at once is refused.
        p = predict(plain, out("plain"), "--z-project", "max")
        check(p.returncode == 0 and np.array_equal(mask(out("plain"), "plain"), reference), p.stderr[-2000:])

        refusals = [
            (ij, (), "choose one with --channel"),
            (ij, ("--channel", 1), "project its z-planes with --z-project max"),
            (ome, ("--channel", 2, "--z-project", "max"), "cannot take channel 2"),
            (timed, ("--z-project", "max"), "time series"),
            (plain, ("--channel", 1, "--z-project", "max"), "either --channel picks one page or --z-project"),
            (plain, (), "choose one with --channel, or project z-planes with --z-project max"),
        ]
        for k, (src, extra, words) in enumerate(refusals):
            p = predict(src, out(f"refused-{k}"), *extra)
            rows = list(image_rows(out(f"refused-{k}")).values())
            check(p.returncode != 0 and len(rows) == 1 and rows[0]["Status"] == "failed", p.stderr[-2000:])
            check(words in rows[0]["Error"] and os.path.basename(src) in rows[0]["Error"], rows[0]["Error"])
        p = run("predict", "--input", ij, "--out", out("bad"), "--z-project", "median", expect=None)
        check(p.returncode != 0 and "z-project" in (p.stdout + p.stderr), p.stdout + p.stderr)

        # convert: the same rule; the stored image is the projection's.
        def convert(src, name, *extra):
            h5 = os.path.join(root, name + ".h5")
            run("convert", "--images", src, "--out", h5, "--normalize", "percentile", *extra)
            with h5py.File(h5) as f:
                return f["images"][...]

        from_stack = convert(ome, "ome", "--channel", 1, "--z-project", "max")
        check(np.array_equal(from_stack, convert(mip, "mip")), "convert: the stack's projection differs")
        p = run("convert", "--images", ome, "--out", os.path.join(root, "x.h5"), "--channel", 1, expect=None)
        check(p.returncode != 0 and "--z-project" in (p.stdout + p.stderr), p.stdout + p.stderr)
        print(f"hyperstacks (ImageJ ZCYX, OME XYZCT) = their projection: {reference.max()} nuclei; "
              f"{len(refusals)} refusals named")


if __name__ == "__main__":
    main()

"""nucseg synth: deterministic synthetic plate whose label images match its images."""
import filecmp
import os

import numpy as np
import tifffile

from nucseg_testlib import check, run, tempdir


def main():
    with tempdir() as root:
        a, b = os.path.join(root, "a"), os.path.join(root, "b")
        run("synth", "--out", a, "--wells", 3, "--sites", 2, "--size", 96, 128, "--nuclei", 5, 15, "--seed", 4)
        run("synth", "--out", b, "--wells", 3, "--sites", 2, "--size", 96, 128, "--nuclei", 5, 15, "--seed", 4)
        names = sorted(os.listdir(os.path.join(a, "plate1")))
        check(names == [f"{w}_s{s}_w1.tif" for w in ("A01", "A02", "A03") for s in (1, 2)], f"{names}")
        counts = []
        for n in names:
            img = tifffile.imread(os.path.join(a, "plate1", n))
            lab = tifffile.imread(os.path.join(a, "ground_truth", "plate1", n[:-4] + "_labels.tif"))
            check(img.dtype == np.uint16 and img.shape == (96, 128), f"{img.dtype} {img.shape}")
            ids = np.unique(lab[lab > 0])
            check(np.array_equal(ids, np.arange(1, len(ids) + 1)), "labels are 1..N")
            counts.append(len(ids))
            fg, bg = img[lab > 0].mean(), img[lab == 0].mean()
            check(fg > 3 * bg, f"nuclei brighter than background: {fg} vs {bg}")
            check(filecmp.cmp(os.path.join(a, "plate1", n), os.path.join(b, "plate1", n), shallow=False),
                  "same seed, same bytes")
        check(counts[0] <= 6 and counts[-1] >= 10, f"density grows from first to last well: {counts}")
        p = run("synth", "--out", a, expect=2)
        check("--overwrite" in p.stderr, p.stderr)
    print("ok")


if __name__ == "__main__":
    main()

"""report.html from a real predict run on a synthetic plate: written by predict, rebuilt
identically by `nucseg report`, written by `nucseg merge` for a sharded run; its well cells
carry wells.csv's numbers, and headless Chromium renders it without console errors."""
import os
import shutil

from nucseg_testlib import check, run, synth_plate, tempdir
from report_checks import check_rendered, check_wells_match_table, chromium, parse_report, render


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    with tempdir() as tmp:
        images, _ = synth_plate(tmp, wells=6, sites=2, height=160, width=160, nuclei=(4, 30), seed=3)
        out = os.path.join(tmp, "res")
        run("predict", "--input", images, "--out", out, "--pattern", "metaxpress", "--overlays", "1")
        parsed = parse_report(out)
        rows = check_wells_match_table(out, parsed)
        check(len(rows) == 6, "six wells")
        check(len(parsed.thumbs) >= 6, f"gallery thumbnails: {len(parsed.thumbs)}")
        page = read(os.path.join(out, "report.html"))
        check(b"stage: network" in page and b"SHA-256" in page, "provenance with stage times and the model hash")

        os.remove(os.path.join(out, "report.html"))
        run("report", "--out", out)
        check(read(os.path.join(out, "report.html")) == page, "nucseg report rebuilds the same page")
        run("report", "--out", os.path.join(tmp, "nothing"), expect=3)

        sharded = os.path.join(tmp, "sharded")
        for shard in ("0/2", "1/2"):
            run("predict", "--input", images, "--out", sharded, "--pattern", "metaxpress", "--overlays", "1",
                "--shard", shard)
        check(not os.path.exists(os.path.join(sharded, "report.html")), "no report before the merge")
        run("merge", "--out", sharded)
        merged = parse_report(sharded)
        check_wells_match_table(sharded, merged)
        check([c["data-nuclei"] for c in merged.wells] == [c["data-nuclei"] for c in parsed.wells],
              "the merged run's wells equal the one-process run's")

        chromium()
        pixels, seconds, console = render(os.path.join(out, "report.html"))
        check_rendered(pixels, 1280, 2400, console)
        shot = os.environ.get("NUCSEG_REPORT_SCREENSHOT")
        if shot:
            import skimage.io
            skimage.io.imsave(shot, pixels, check_contrast=False)
        print(f"report of {len(rows)} wells: {len(page)} bytes, rendered in {seconds:.1f} s")


if __name__ == "__main__":
    main()

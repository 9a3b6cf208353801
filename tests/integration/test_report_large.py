"""The plate report stays small and fast for a big run: a synthetic 384-well x 9-site plate
(3,456 images, ~310,000 nuclei, 346 overlays of 512x512) gives a report under 20 MB, built in
under 20 s and rendered by headless Chromium in under 30 s on a 2-core CI machine."""
import os
import sys

from nucseg_testlib import BIN, SOURCE, check, tempdir
from report_checks import check_rendered, check_wells_match_table, chromium, parse_report, render

sys.path.insert(0, os.path.join(SOURCE, "bench"))
import report_plate  # noqa: E402


def main():
    chromium()
    with tempdir() as tmp:
        out = os.path.join(tmp, "res")
        images, nuclei = report_plate.write_run(out, SOURCE)
        check(images == 3456, f"3,456 images: {images}")
        seconds, size = report_plate.build_report(BIN, out)
        print(f"report: {size / 1e6:.2f} MB for {images} images / {nuclei} nuclei, built in {seconds:.2f} s")
        check(size < 20e6, f"report under 20 MB: {size / 1e6:.1f} MB")
        check(seconds < 20, f"report built in under 20 s: {seconds:.1f} s")
        parsed = parse_report(out)
        rows = check_wells_match_table(out, parsed)
        check(len(rows) == 384, "384 well cells")
        outliers = {c["data-well"] for c in parsed.wells if c["data-outlier"] == "1"}
        check({"C05", "K17"} <= outliers, f"the two wells far off the plate's gradient are outliers: {sorted(outliers)}")
        pixels, render_seconds, console = render(os.path.join(out, "report.html"))
        check_rendered(pixels, 1280, 2400, console)
        check(render_seconds < 30, f"rendered in under 30 s: {render_seconds:.1f} s")
        print(f"rendered in {render_seconds:.1f} s")


if __name__ == "__main__":
    main()

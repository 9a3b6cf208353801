"""Checks of report.html shared by the report tests: parse the page, compare its well cells
with wells.csv, and render it in headless Chromium."""
import csv
import html.parser
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import skimage.io

from nucseg_testlib import check, skip


class ReportParser(html.parser.HTMLParser):
    """Collects the well and image cells, thumbnails, links and anything loaded from outside."""

    def __init__(self):
        super().__init__()
        self.wells, self.images, self.thumbs, self.links, self.external, self.scripts = [], [], [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = a.get("class", "").split()
        if tag == "rect" and "well" in classes:
            self.wells.append(a)
        if tag == "rect" and "image" in classes:
            self.images.append(a)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.thumbs.append(a.get("src", ""))
        if tag == "a" and "thumb" in classes:
            self.links.append(a.get("href", ""))
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(a[key])
        if tag == "link":
            self.external.append(a.get("href", ""))


def parse_report(folder):
    path = os.path.join(folder, "report.html")
    check(os.path.isfile(path), f"{path} exists")
    p = ReportParser()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    check(not p.external, f"nothing loaded from outside the page: {p.external[:3]}")
    check(p.scripts == 0, "no script in the page")
    check(all(src.startswith("data:image/png;base64,") for src in p.thumbs), "thumbnails are embedded PNGs")
    for href in p.links:
        check(os.path.isfile(os.path.join(folder, href)), f"thumbnail link {href} points to an overlay")
    return p


def check_wells_match_table(folder, parsed):
    """Every wells.csv row has exactly one heatmap cell carrying its numbers, and no more."""
    with open(os.path.join(folder, "wells.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    cells = {(c["data-plate"], c["data-well"]): c for c in parsed.wells}
    check(len(cells) == len(parsed.wells) == len(rows), f"{len(parsed.wells)} well cells for {len(rows)} wells.csv rows")
    for r in rows:
        c = cells.get((r["Metadata_Plate"], r["Metadata_Well"]))
        check(c is not None, f"a cell for {r['Metadata_Plate']} {r['Metadata_Well']}")
        got = (c["data-sites"], c["data-failed"], c["data-nuclei"], c["data-mean"])
        want = (r["Count_Sites"], r["Count_FailedSites"], r["Count_Nuclei"], r["Mean_Count_Nuclei_PerSite"])
        check(got == want, f"well {r['Metadata_Well']}: cell {got} == wells.csv {want}")
    return rows


def chromium():
    """Debian's chromium (or chromium-browser), or skip."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    skip("chromium not installed (apt-get install chromium; .ci/install-deps.sh lists it)")


def render(report, width=1280, height=2400, timeout=120):
    """Screenshot of `report` in headless Chromium: (pixels HxWx3 or 4, seconds, console lines)."""
    with tempfile.TemporaryDirectory(prefix="nucseg-chromium-") as profile:
        shot = os.path.join(profile, "shot.png")
        t0 = time.perf_counter()
        p = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                            f"--window-size={width},{height}", f"--screenshot={shot}",
                            "file://" + os.path.abspath(report)],
                           capture_output=True, text=True, timeout=timeout)
        seconds = time.perf_counter() - t0
        check(p.returncode == 0 and os.path.isfile(shot), f"chromium rendered the page (exit {p.returncode}):\n{p.stderr[-2000:]}")
        pixels = skimage.io.imread(shot)
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    return pixels, seconds, console


def check_rendered(pixels, width, height, console):
    check(pixels.shape[0] == height and pixels.shape[1] == width, f"screenshot is {width}x{height}: {pixels.shape}")
    rgb = pixels[:, :, :3].reshape(-1, 3)
    not_white = float(np.mean(np.any(rgb < 245, axis=1)))
    colours = len(np.unique(rgb[:: max(1, len(rgb) // 200000)], axis=0))
    check(not_white > 0.03 and colours > 50, f"screenshot is not blank: {not_white:.1%} non-white, {colours} colours")
    check(not console, f"no console messages: {console[:5]}")

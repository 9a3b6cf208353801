#!/usr/bin/env python3
"""Prints the figures of one predict run (its summary.json) as JSON members for check.sh's
results: megapixels, end-to-end MP/s, and the network's and post-processing's busy seconds
as shares of the wall time (the stages overlap, so the shares may sum to more than 1)."""
import json
import sys

s = json.load(open(sys.argv[1]))
wall = s.get("wall_seconds") or 0.0
stages = s.get("stage_seconds", {})
mp = s.get("megapixels_segmented", 0.0)
share = lambda k: round(stages.get(k, 0.0) / wall, 3) if wall else None
figures = {"megapixels": round(mp, 3), "mp_per_s": round(mp / wall, 2) if wall else None,
           "network_share_of_wall": share("network"), "postprocess_share_of_wall": share("postprocess_measure"),
           "tiles_per_forward": round(s.get("network_tiles_per_forward", 0.0), 2),
           "stage_seconds": {k: round(v, 3) for k, v in stages.items()}}
print(json.dumps(figures)[1:-1])

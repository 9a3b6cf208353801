#!/usr/bin/env python3
"""Turns results.jsonl of bench/gpu/check.sh into a Markdown table with nucseg/peer ratios."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
head = rows[0] if rows else {}
print(f"GPU: {head.get('gpu', '?')} (dry run: {bool(head.get('dry_run'))}, {head.get('cores')} cores)\n")
peer = {(r["row"], r["precision"]): r for r in rows if r.get("row", "").startswith(("train seed U-Net", "train shipped", "infer"))}
print("| row | precision | nucseg | eager PyTorch | ratio |\n| --- | --- | --- | --- | --- |")
names = {"seed": "train seed U-Net 128x128 batch 16", "shipped-recipe": "train shipped network 256x256 batch 8",
         "shipped-recipe-augment-gpu": "train shipped network 256x256 batch 8"}
for r in rows:
    if r.get("row", "").startswith("train ") and "images_per_s" in r and r["row"][6:] in names:
        p = peer.get((names[r["row"][6:]], r["precision"]))
        ours = r["images_per_s"]
        theirs = p["images_per_s"] if p else None
        ratio = f"{ours / theirs:.2f}" if ours and theirs else "-"
        print(f"| {r['row']} (img/s) | {r['precision']} | {ours} | {theirs and round(theirs, 1)} | {ratio} |")
for r in rows:
    if r.get("row", "").startswith("train ") and r.get("data_wait_percent") is not None:
        print(f"| {r['row']} waiting for data (% of step time) | {r['precision']} | {r['data_wait_percent']} | - | - |")
    if r.get("row", "").startswith("loader") and r.get("result"):
        print(f"| {r['row']} (crops/s, from {r['result']['from']}) | - | {r['result']['crops_per_s']:.0f} | - | - |")
for r in rows:
    if r.get("row", "").startswith("infer"):
        print(f"| {r['row']} (MP/s, network alone) | {r['precision']} | - | {r['megapixels_per_s']:.1f} | - |")
print("\n| predict | MP/s end to end | network share of wall | post-processing share of wall | target |\n| --- | --- | --- | --- | --- |")
for r in rows:
    if r.get("row", "").startswith("predict"):
        gpu = "cuda" in r["row"]
        met = "" if not gpu or r.get("mp_per_s") is None else (" (met)" if r["mp_per_s"] >= 40 else " (not met)")
        print(f"| {r['row'][8:]} | {r.get('mp_per_s')} | {r.get('network_share_of_wall')} | "
              f"{r.get('postprocess_share_of_wall')} | {'>= 40 MP/s' + met if gpu else '-'} |")
print()
for r in rows:
    if r.get("row", "").startswith(("predict", "masks")) or any(k.endswith("_rc") or k == "build_seconds" for k in r):
        print("-", json.dumps(r))

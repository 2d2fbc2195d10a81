#!/usr/bin/python3
"""Nested grid search of fusion settings with `compe wbf fuse` and evaluate.py.

The images of images.csv are split in two halves (even and odd rows). For each
half, every setting of the grid is scored (mAP@[.5:.95]) on that half; the best
one is then scored on the other half, which it has not seen. A stand-in for
`compe wbf tune` until that command is merged.

Usage: grid_tune.py COMPE
"""
import csv
import itertools
import os
import subprocess
import sys
import tempfile

import evaluate

HERE = os.path.dirname(os.path.abspath(__file__))
DET = os.path.join(HERE, "detections")
MODELS = ["haar_default", "haar_alt", "haar_alt2", "haar_alt_tree", "haar_profile",
          "lbp_frontal", "lbp_frontal_improved", "lbp_profile"]
GRID = {
    "method": ["wbf", "nmw", "soft_nms", "nms"],
    "iou_thr": [0.3, 0.4, 0.5, 0.6, 0.7],
    "skip_thr": [0.0, 0.6, 0.7],
    "models": ["all", "frontal3"],
}
SUBSETS = {"all": MODELS, "frontal3": ["haar_alt2", "lbp_frontal", "haar_default"]}


def main():
    compe = sys.argv[1]
    with open(os.path.join(HERE, "images.csv")) as f:
        ids = [r["image_id"] for r in csv.DictReader(f)]
    halves = [ids[0::2], ids[1::2]]
    gt = evaluate.read(os.path.join(DET, "ground_truth_norm.csv"), False)
    tmp = tempfile.mkdtemp()
    results = []
    for method, iou, skip, models in itertools.product(*GRID.values()):
        if method in ("nms", "soft_nms") and skip > 0:
            continue
        out = os.path.join(tmp, "fused.csv")
        cmd = [compe, "wbf", "fuse", *[os.path.join(DET, m + ".csv") for m in SUBSETS[models]],
               "--method", method, "--iou-thr", str(iou), "-o", out]
        if skip > 0:
            cmd += ["--skip-thr", str(skip)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        pred = evaluate.read(out, True)
        results.append(((method, iou, skip, models),
                        [evaluate.evaluate(gt, pred, h) for h in halves]))
    for k in (0, 1):
        best = max(results, key=lambda r: r[1][k]["map"])
        held = best[1][1 - k]
        print(f"tuned on half {k} ({len(halves[k])} images): best {best[0]} "
              f"mAP {best[1][k]['map']:.4f}; on the other half: mAP@[.5:.95] "
              f"{held['map']:.4f}  mAP@0.5 {held['map50']:.4f}")
    # Single detectors on the same halves, for comparison.
    for m in MODELS:
        pred = evaluate.read(os.path.join(DET, m + ".csv"), True)
        r = [evaluate.evaluate(gt, pred, h) for h in halves]
        print(f"single {m:22s} half 0: {r[0]['map']:.4f}/{r[0]['map50']:.4f}  "
              f"half 1: {r[1]['map']:.4f}/{r[1]['map50']:.4f}")


if __name__ == "__main__":
    main()

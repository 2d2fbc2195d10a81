#!/usr/bin/python3
"""Independent single-class COCO-style mAP for detection CSVs, in numpy.

Follows the published COCO detection definition: for each IoU threshold
.50:.05:.95, detections of all images are sorted by score (descending, stable);
each one, in that order, is matched within its image to the not yet matched
ground-truth box of highest IoU, if that IoU >= the threshold (a true positive),
otherwise it is a false positive. Precision is made non-increasing from the right
and read at the 101 recall points 0, .01, ..., 1 (the first rank reaching each
recall; 0 when never reached). AP is the mean of those 101 values; mAP@[.5:.95]
is the mean over the 10 thresholds, mAP@0.5 the value at .5. Images without
ground truth take part (their detections are false positives). There is one
class and no crowd region; at most 100 detections per image (COCO maxDets).

Usage: evaluate.py GT.csv PRED.csv [PRED.csv ...] [--images images.csv] [--json]
Both CSVs use normalised x1,y1,x2,y2; GT has image_id,x1,y1,x2,y2,label.
"""
import argparse
import csv
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path, with_score):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            if not r["x1"]:  # an image without objects
                out.setdefault(r["image_id"], [])
                continue
            box = [float(r[k]) for k in ("x1", "y1", "x2", "y2")]
            if with_score:
                box.append(float(r["score"]))
            out.setdefault(r["image_id"], []).append(box)
    return {k: np.array(v, dtype=float).reshape(-1, 5 if with_score else 4) for k, v in out.items()}


def iou(d, g):
    """IoU matrix between boxes d (n x 4) and g (m x 4)."""
    ix1 = np.maximum(d[:, None, 0], g[None, :, 0])
    iy1 = np.maximum(d[:, None, 1], g[None, :, 1])
    ix2 = np.minimum(d[:, None, 2], g[None, :, 2])
    iy2 = np.minimum(d[:, None, 3], g[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    ad = (d[:, 2] - d[:, 0]) * (d[:, 3] - d[:, 1])
    ag = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    return inter / (ad[:, None] + ag[None, :] - inter)


def average_precision(gt, pred, image_ids, thr):
    n_gt = sum(len(gt.get(i, [])) for i in image_ids)
    scores, tps = [], []
    for i in image_ids:
        d = pred.get(i, np.zeros((0, 5)))
        d = d[np.argsort(-d[:, 4], kind="mergesort")][:100]
        g = gt.get(i, np.zeros((0, 4)))
        taken = np.zeros(len(g), bool)
        m = iou(d[:, :4], g) if len(g) and len(d) else np.zeros((len(d), len(g)))
        for k in range(len(d)):
            best, best_j = thr, -1
            for j in range(len(g)):
                if not taken[j] and m[k, j] >= best:
                    best, best_j = m[k, j], j
            if best_j >= 0:
                taken[best_j] = True
            scores.append(d[k, 4])
            tps.append(best_j >= 0)
    if n_gt == 0:
        return float("nan")
    order = np.argsort(-np.array(scores), kind="mergesort")
    tp = np.array(tps, bool)[order]
    ctp = np.cumsum(tp)
    cfp = np.cumsum(~tp)
    recall = ctp / n_gt
    precision = ctp / np.maximum(ctp + cfp, np.finfo(float).eps)
    for k in range(len(precision) - 1, 0, -1):
        precision[k - 1] = max(precision[k - 1], precision[k])
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    q = np.array([precision[j] if j < len(precision) else 0.0 for j in idx])
    return float(q.mean())


def evaluate(gt, pred, image_ids):
    aps = [average_precision(gt, pred, image_ids, t) for t in np.linspace(0.5, 0.95, 10)]
    return {"map": float(np.mean(aps)), "map50": aps[0], "map75": aps[5]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gt")
    ap.add_argument("preds", nargs="+")
    ap.add_argument("--images", default=os.path.join(HERE, "images.csv"),
                    help="the image list (images without ground truth count too)")
    ap.add_argument("--subset", help="file of image ids (one per line) to score on")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with open(args.images) as f:
        image_ids = [r["image_id"] for r in csv.DictReader(f)]
    if args.subset:
        with open(args.subset) as f:
            keep = {line.strip() for line in f if line.strip()}
        image_ids = [i for i in image_ids if i in keep]
    gt = read(args.gt, False)
    for p in args.preds:
        r = evaluate(gt, read(p, True), image_ids)
        if args.json:
            print(json.dumps({"file": p, **r}))
        else:
            print(f"{os.path.basename(p):40s} mAP@[.5:.95] {r['map']:.4f}  mAP@0.5 {r['map50']:.4f}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Draw one image's ground truth (green) and fused boxes with scores (red) into a small PNG.

Usage: draw.py IMAGE_ID FUSED.csv OUT.png [--root PREFIX] [--scale S]
"""
import argparse
import csv
import os

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image_id")
    ap.add_argument("fused")
    ap.add_argument("out")
    ap.add_argument("--root", default="")
    ap.add_argument("--scale", type=float, default=0.5)
    a = ap.parse_args()
    cv2.setNumThreads(1)
    with open(os.path.join(HERE, "images.csv")) as f:
        row = next(r for r in csv.DictReader(f) if r["image_id"] == a.image_id)
    path = row["path"] if os.path.exists(row["path"]) else a.root + row["path"]
    im = cv2.imread(path)
    im = cv2.resize(im, None, fx=a.scale, fy=a.scale, interpolation=cv2.INTER_AREA)
    h, w = im.shape[:2]
    with open(os.path.join(HERE, "ground_truth.csv")) as f:
        for r in csv.DictReader(f):
            if r["image_id"] == a.image_id:
                p = [int(int(r[k]) * a.scale) for k in ("x1", "y1", "x2", "y2")]
                cv2.rectangle(im, (p[0], p[1]), (p[2], p[3]), (0, 200, 0), 2)
    with open(a.fused) as f:
        for r in csv.DictReader(f):
            if r["image_id"] == a.image_id:
                x1, x2 = (int(float(r[k]) * w) for k in ("x1", "x2"))
                y1, y2 = (int(float(r[k]) * h) for k in ("y1", "y2"))
                cv2.rectangle(im, (x1, y1), (x2, y2), (0, 0, 255), 1)
                cv2.putText(im, f"{float(r['score']):.2f}", (x1 + 2, y2 - 4), 0, 0.4,
                            (0, 0, 255), 1)
    cv2.imwrite(a.out, im, [cv2.IMWRITE_PNG_COMPRESSION, 9])


if __name__ == "__main__":
    main()

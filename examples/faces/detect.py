#!/usr/bin/python3
"""Run OpenCV's bundled face cascades over the photos in images.csv.

Each cascade acts as one detection "model". Writes detections/<cascade>.csv
(image_id,x1,y1,x2,y2,score,label; coordinates normalised by the image size) and
detections/ground_truth_norm.csv (ground_truth.csv normalised the same way).

Fixed parameters: grey image, equalizeHist, scaleFactor 1.1, minNeighbors 3,
minSize 24x24, detectMultiScale3(outputRejectLevels=True). The level weight w of
each box (the sum of the last stage's weak classifiers, higher = more confident)
is first made comparable across cascades (the raw weights of haarcascade_frontalface_alt
are near 100, those of the others near 2) as the margin over the final stage
threshold t read from the cascade's XML: m = w - t (0 for a window that only just
passed), then mapped by the monotone logistic score = 1 / (1 + exp(-m / 4))
onto (0, 1): m = 0 gives 0.5.

Usage: /usr/bin/python3 detect.py [--root PREFIX]   (PREFIX is prepended to the
paths in images.csv that do not exist, e.g. an extracted opencv-doc .deb)
"""
import argparse
import csv
import math
import os
import re

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
CASCADES = {
    "haar_default": "haarcascades/haarcascade_frontalface_default.xml",
    "haar_alt": "haarcascades/haarcascade_frontalface_alt.xml",
    "haar_alt2": "haarcascades/haarcascade_frontalface_alt2.xml",
    "haar_alt_tree": "haarcascades/haarcascade_frontalface_alt_tree.xml",
    "haar_profile": "haarcascades/haarcascade_profileface.xml",
    "lbp_frontal": "lbpcascades/lbpcascade_frontalface.xml",
    "lbp_frontal_improved": "lbpcascades/lbpcascade_frontalface_improved.xml",
    "lbp_profile": "lbpcascades/lbpcascade_profileface.xml",
}
SCALE = 4.0


def last_stage_threshold(path):
    """The threshold of a cascade's final stage, read from its XML file."""
    with open(path) as f:
        text = f.read()
    return float(re.findall(r"<stageThreshold>([^<]+)</stageThreshold>", text)[-1])


DATA = "/usr/share/opencv4"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="", help="prefix for the paths in images.csv not found as they are")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    with open(os.path.join(HERE, "images.csv")) as f:
        images = list(csv.DictReader(f))
    size = {r["image_id"]: (int(r["width"]), int(r["height"])) for r in images}
    out_dir = os.path.join(HERE, "detections")
    os.makedirs(out_dir, exist_ok=True)

    with open(os.path.join(HERE, "ground_truth.csv")) as f, \
         open(os.path.join(out_dir, "ground_truth_norm.csv"), "w") as g:
        g.write("image_id,x1,y1,x2,y2,label\n")
        for r in csv.DictReader(f):
            if not r["x1"]:  # an image without faces: a row of empty box cells
                g.write(f"{r['image_id']},,,,,\n")
                continue
            w, h = size[r["image_id"]]
            g.write(f"{r['image_id']},{int(r['x1'])/w:.6f},{int(r['y1'])/h:.6f},"
                    f"{int(r['x2'])/w:.6f},{int(r['y2'])/h:.6f},{r['label']}\n")

    greys = {}
    for r in images:
        path = r["path"]
        if not os.path.exists(path):
            path = args.root + path
        im = cv2.imread(path)
        if im is None:
            raise SystemExit(f"cannot read {path} (image {r['image_id']})")
        if (im.shape[1], im.shape[0]) != size[r["image_id"]]:
            raise SystemExit(f"{path}: size {im.shape[1]}x{im.shape[0]} differs from images.csv")
        greys[r["image_id"]] = cv2.equalizeHist(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY))

    for name, rel in CASCADES.items():
        cc = cv2.CascadeClassifier(os.path.join(DATA, rel))
        t = last_stage_threshold(os.path.join(DATA, rel))
        if cc.empty():
            raise SystemExit(f"cannot load {rel}")
        n = 0
        with open(os.path.join(out_dir, name + ".csv"), "w") as f:
            f.write("image_id,x1,y1,x2,y2,score,label\n")
            for image_id, grey in greys.items():
                w, h = size[image_id]
                boxes, _, weights = cc.detectMultiScale3(
                    grey, scaleFactor=1.1, minNeighbors=3, minSize=(24, 24),
                    outputRejectLevels=True)
                for (x, y, bw, bh), lw in zip(boxes, weights):
                    m = float(lw) - t
                    s = 1.0 / (1.0 + math.exp(-m / SCALE))
                    f.write(f"{image_id},{x/w:.6f},{y/h:.6f},{min(x+bw, w)/w:.6f},"
                            f"{min(y+bh, h)/h:.6f},{s:.6f},0\n")
                    n += 1
        print(f"{name}: {n} boxes")


if __name__ == "__main__":
    main()

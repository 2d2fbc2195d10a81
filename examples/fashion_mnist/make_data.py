#!/usr/bin/env python3
"""Builds the Fashion-MNIST competition from Debian's dataset-fashion-mnist package.

A stratified random subset of the original training images becomes train.csv (with labels) and a
subset of the original test images becomes test.csv; solution.csv holds the hidden test labels in
Kaggle's layout (one-hot class columns, Usage = Public for 30 % of the rows, Private otherwise).

Layout (all in OUT):
  images.npy             uint8, (train + test) x 28 x 28; an image's id is its row in this file
  train.csv              id, label (class name), px0..px195: 2x2-pooled pixel sums (0..1020), for
                         models that take tabular features
  test.csv               id, px0..px195
  sample_submission.csv  id, one column per class (probabilities), 0.1 everywhere
  solution.csv           id, the class columns one-hot, Usage
  meta.json              name, source, task, metric, sizes

Usage: make_data.py OUT [--train 6000] [--test 2000] [--seed 0]
"""

import argparse
import gzip
import json
import os
import sys

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    dims = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def stratified_subset(labels, n, rng):
    """n rows with (nearly) equal counts per class, in random order."""
    picked = []
    per_class = np.full(len(CLASSES), n // len(CLASSES))
    per_class[: n % len(CLASSES)] += 1
    for c, m in enumerate(per_class):
        rows = np.flatnonzero(labels == c)
        picked.append(rng.choice(rows, size=m, replace=False))
    out = np.concatenate(picked)
    rng.shuffle(out)
    return out


def pooled(images):
    x = images.astype(np.int32).reshape(len(images), 14, 2, 14, 2)
    return x.sum(axis=(2, 4)).reshape(len(images), 196)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=6000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--public", type=float, default=0.3, help="share of test rows on the public board")
    a = ap.parse_args()
    if not os.path.isdir(SOURCE):
        sys.exit(f"{SOURCE} is missing: install the Debian package dataset-fashion-mnist")
    rng = np.random.default_rng(a.seed)
    tr_img = read_idx(os.path.join(SOURCE, "train-images-idx3-ubyte.gz"))
    tr_lab = read_idx(os.path.join(SOURCE, "train-labels-idx1-ubyte.gz"))
    te_img = read_idx(os.path.join(SOURCE, "t10k-images-idx3-ubyte.gz"))
    te_lab = read_idx(os.path.join(SOURCE, "t10k-labels-idx1-ubyte.gz"))
    tr = stratified_subset(tr_lab, a.train, rng)
    te = stratified_subset(te_lab, a.test, rng)
    images = np.concatenate([tr_img[tr], te_img[te]])
    labels = np.concatenate([tr_lab[tr], te_lab[te]])
    n_train = len(tr)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "images.npy"), images)
    feats = pooled(images)
    px = ",".join(f"px{i}" for i in range(feats.shape[1]))

    def write(name, header, rows):
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            f.write(header + "\n")
            f.writelines(r + "\n" for r in rows)

    write("train.csv", "id,label," + px,
          (f"{i},{CLASSES[labels[i]]}," + ",".join(map(str, feats[i])) for i in range(n_train)))
    write("test.csv", "id," + px,
          (f"{i}," + ",".join(map(str, feats[i])) for i in range(n_train, len(images))))
    write("sample_submission.csv", "id," + ",".join(CLASSES),
          (f"{i}," + ",".join(["0.1"] * len(CLASSES)) for i in range(n_train, len(images))))
    public = rng.random(len(te)) < a.public
    write("solution.csv", "id," + ",".join(CLASSES) + ",Usage",
          (f"{i}," + ",".join("1" if labels[i] == c else "0" for c in range(len(CLASSES))) + ","
           + ("Public" if public[i - n_train] else "Private") for i in range(n_train, len(images))))
    meta = {
        "name": "fashion_mnist",
        "source": "Debian package dataset-fashion-mnist (Zalando Research, Fashion-MNIST, MIT licence)",
        "task": "multiclass",
        "target": "label",
        "id": "id",
        "metric": "log_loss",
        "metric_description": "multiclass log loss of the submitted class probabilities",
        "greater_is_better": False,
        "rows_train": n_train,
        "rows_test": len(te),
        "classes": CLASSES,
        "images": "images.npy: uint8 28 x 28 per id (row = id)",
        "features": "px0..px195: sums of 2 x 2 pixel blocks (row-major 14 x 14)",
        "split": {"seed": a.seed, "stratified": True, "public_fraction": a.public,
                  "public_rows": int(public.sum()), "private_rows": int((~public).sum())},
    }
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{a.out}: {n_train} train and {len(te)} test images, {len(CLASSES)} classes")


if __name__ == "__main__":
    main()

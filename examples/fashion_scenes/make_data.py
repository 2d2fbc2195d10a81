#!/usr/bin/env python3
"""Builds four image competitions from Debian's dataset-fashion-mnist package.

Each is laid out as a Kaggle competition (train.csv, test.csv, sample_submission.csv, a hidden
solution.csv with a Usage column, meta.json). Training scenes are made only from the original
training images, test scenes only from the original test images, so no item is in both.

  classification  one 28 x 28 item per image, 10 classes; the target is the class name (label);
                metric: multiclass log loss (log_loss); docs/REVIEW.md plants label noise in it
  multilabel    56 x 56 mosaics of 2 x 2 slots; each slot holds an item with probability 0.7;
                the target is which of the 10 classes are present (one 0/1 column per class);
                metric: mean column-wise ROC AUC (multilabel_auc)
  detection     96 x 96 canvases with 0 to 4 items; boxes are the tight boxes of each item's
                pixels (value > 20) in pixels, x2/y2 exclusive; metric: COCO mAP at IoU 0.5
  segmentation  96 x 96 canvases with 0 to 4 items; one mask per item group (top, bottom_bag,
                shoes); a pixel belongs to a group's mask when the item drawn on it has value > 30;
                masks are run-length encoded (see RLE below); metric: mean Dice per image and class

Files (all in OUT):
  images.npy             uint8, (train + test) x H x W; an image's id is its row in this file
  images/<id>.png        the same images as greyscale PNG files, for the dashboard
  train.csv              classification: id, label (class name), px0..px48 (4 x 4 pixel sums)
                         multilabel: id, one 0/1 column per class, px0..px195 (4 x 4 pixel sums)
                         detection/segmentation: id, width, height
  train_boxes.csv        detection: image_id,x1,y1,x2,y2,label (label: the class index into
                         meta.json's classes; an image without items has one row with empty box
                         cells)
  train_masks.csv        segmentation: Image_Label,EncodedPixels (Image_Label = <id>_<group>)
  test.csv               as train.csv without targets
  sample_submission.csv  classification: id + class columns (0.1); multilabel: id + class columns (0.5); detection: image_id,
                         PredictionString (empty); segmentation: Image_Label,EncodedPixels (empty)
  solution.csv           the hidden test targets in the submission's layout, with Usage
                         (detection: the ground-truth CSV layout + Usage)
  meta.json              name, source, task, metric, sizes, the RLE convention

RLE: pixels are numbered from 1, top to bottom then left to right (column-major, as in Kaggle's
HuBMAP, Severstal and Understanding Clouds competitions); the code is space-separated pairs
"start length" with increasing starts; an empty string is an empty mask.

Usage: make_data.py KIND OUT [--train N] [--test N] [--seed 0] [--public 0.3]
"""

import argparse
import gzip
import json
import os
import struct
import sys
import zlib

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
GROUPS = {"top": [0, 2, 3, 4, 6], "bottom_bag": [1, 8], "shoes": [5, 7, 9]}
GROUP_OF = {c: g for g, cs in GROUPS.items() for c in cs}
DEFAULT_SIZES = {"classification": (3000, 1000), "multilabel": (3000, 1000), "detection": (1500, 500), "segmentation": (1500, 500)}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = int.from_bytes(data[0:4], "big") & 0xFF
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_png(path, image):
    """Greyscale 8-bit PNG (filter 0 on every row)."""
    h, w = image.shape
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(h))

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def rle_encode(mask):
    """Column-major, 1-based 'start length' pairs."""
    flat = np.asarray(mask, dtype=np.uint8).T.reshape(-1)
    padded = np.concatenate([[0], flat, [0]])
    edges = np.flatnonzero(padded[1:] != padded[:-1]) + 1
    starts, ends = edges[0::2], edges[1::2]
    return " ".join(f"{s} {e - s}" for s, e in zip(starts, ends))


def mosaic(items, labels, rng, n):
    """n 56 x 56 mosaics; each of 4 slots filled with probability 0.7 (at least one item)."""
    images = np.zeros((n, 56, 56), dtype=np.uint8)
    targets = np.zeros((n, len(CLASSES)), dtype=np.int8)
    for i in range(n):
        filled = rng.random(4) < 0.7
        if not filled.any():
            filled[rng.integers(4)] = True
        for slot in np.flatnonzero(filled):
            k = rng.integers(len(items))
            r, c = divmod(int(slot), 2)
            images[i, 28 * r:28 * r + 28, 28 * c:28 * c + 28] = items[k]
            targets[i, labels[k]] = 1
    return images, targets


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def scenes(items, labels, rng, n, size=96):
    """n canvases with 0 to 4 items whose boxes overlap by IoU < 0.2.

    Returns the images, per image a list of (x1, y1, x2, y2, class) boxes, and per image the
    item-index map (which placed item owns each pixel, -1 for none) with the owner's class."""
    images = np.zeros((n, size, size), dtype=np.uint8)
    boxes, owners = [], []
    for i in range(n):
        count = rng.choice(5, p=[0.05, 0.3, 0.3, 0.2, 0.15])
        placed = []
        owner = np.full((size, size), -1, dtype=np.int16)
        for _ in range(count):
            for _try in range(20):
                k = rng.integers(len(items))
                item = items[k]
                ys, xs = np.nonzero(item > 20)
                if len(xs) == 0:
                    continue
                ox, oy = rng.integers(0, size - 28, size=2)
                box = (int(ox + xs.min()), int(oy + ys.min()), int(ox + xs.max() + 1), int(oy + ys.max() + 1))
                if all(iou(box, p[:4]) < 0.2 for p in placed):
                    region = images[i, oy:oy + 28, ox:ox + 28]
                    on = item > region
                    region[on] = item[on]
                    owner_region = owner[oy:oy + 28, ox:ox + 28]
                    owner_region[(item > 30) & on] = labels[k]
                    placed.append(box + (int(labels[k]),))
                    break
        boxes.append(placed)
        owners.append(owner)
    return images, boxes, owners


def classification_items(tr_img, tr_lab, te_img, te_lab, rng, n_train, n_test):
    """One original item per image: random train images for train, random test images for test."""
    tr = rng.choice(len(tr_img), n_train, replace=False)
    te = rng.choice(len(te_img), n_test, replace=False)
    images = np.concatenate([tr_img[tr], te_img[te]])
    return images, np.concatenate([tr_lab[tr], te_lab[te]]).astype(int)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=sorted(DEFAULT_SIZES))
    ap.add_argument("out")
    ap.add_argument("--train", type=int)
    ap.add_argument("--test", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--public", type=float, default=0.3, help="share of test images on the public board")
    ap.add_argument("--no-png", action="store_true", help="skip images/<id>.png")
    a = ap.parse_args()
    if not os.path.isdir(SOURCE):
        sys.exit(f"{SOURCE} is missing: install the Debian package dataset-fashion-mnist")
    n_train, n_test = a.train or DEFAULT_SIZES[a.kind][0], a.test or DEFAULT_SIZES[a.kind][1]
    rng = np.random.default_rng(a.seed)
    tr_img = read_idx(os.path.join(SOURCE, "train-images-idx3-ubyte.gz"))
    tr_lab = read_idx(os.path.join(SOURCE, "train-labels-idx1-ubyte.gz"))
    te_img = read_idx(os.path.join(SOURCE, "t10k-images-idx3-ubyte.gz"))
    te_lab = read_idx(os.path.join(SOURCE, "t10k-labels-idx1-ubyte.gz"))
    os.makedirs(a.out, exist_ok=True)
    public = rng.random(n_test) < a.public
    usage = ["Public" if p else "Private" for p in public]
    ids = list(range(n_train + n_test))
    train_ids, test_ids = ids[:n_train], ids[n_train:]

    def write(name, header, rows):
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            f.write(header + "\n")
            f.writelines(r + "\n" for r in rows)

    meta = {
        "name": f"fashion_{a.kind}",
        "source": "Debian package dataset-fashion-mnist (Zalando Research, Fashion-MNIST, MIT licence)",
        "task": a.kind,
        "id": "id",
        "rows_train": n_train,
        "rows_test": n_test,
        "split": {"seed": a.seed, "public_fraction": a.public,
                  "public_rows": int(public.sum()), "private_rows": int((~public).sum())},
    }

    if a.kind == "classification":
        images, y = classification_items(tr_img, tr_lab, te_img, te_lab, rng, n_train, n_test)
        feats = images.astype(np.int32).reshape(len(images), 7, 4, 7, 4).sum(axis=(2, 4)).reshape(len(images), 49)
        px = ",".join(f"px{i}" for i in range(49))
        cls = ",".join(CLASSES)
        write("train.csv", f"id,label,{px}",
              (f"{i},{CLASSES[y[i]]}," + ",".join(map(str, feats[i])) for i in train_ids))
        write("test.csv", f"id,{px}", (f"{i}," + ",".join(map(str, feats[i])) for i in test_ids))
        write("sample_submission.csv", f"id,{cls}", (f"{i}," + ",".join(["0.1"] * len(CLASSES)) for i in test_ids))
        write("solution.csv", f"id,{cls},Usage",
              (f"{i}," + ",".join("1" if c == y[i] else "0" for c in range(len(CLASSES))) + f",{usage[j]}"
               for j, i in enumerate(test_ids)))
        meta.update({"task": "multiclass", "target": "label", "metric": "log_loss", "greater_is_better": False,
                     "classes": CLASSES, "image_size": [28, 28],
                     "features": "px0..px48: sums of 4 x 4 pixel blocks (row-major 7 x 7)"})
    elif a.kind == "multilabel":
        img_tr, y_tr = mosaic(tr_img, tr_lab, rng, n_train)
        img_te, y_te = mosaic(te_img, te_lab, rng, n_test)
        images = np.concatenate([img_tr, img_te])
        y = np.concatenate([y_tr, y_te])
        feats = images.astype(np.int32).reshape(len(images), 14, 4, 14, 4).sum(axis=(2, 4)).reshape(len(images), 196)
        px = ",".join(f"px{i}" for i in range(196))
        cls = ",".join(CLASSES)
        write("train.csv", f"id,{cls},{px}",
              (f"{i}," + ",".join(map(str, y[i])) + "," + ",".join(map(str, feats[i])) for i in train_ids))
        write("test.csv", f"id,{px}", (f"{i}," + ",".join(map(str, feats[i])) for i in test_ids))
        write("sample_submission.csv", f"id,{cls}", (f"{i}," + ",".join(["0.5"] * len(CLASSES)) for i in test_ids))
        write("solution.csv", f"id,{cls},Usage",
              (f"{i}," + ",".join(map(str, y[i])) + f",{usage[j]}" for j, i in enumerate(test_ids)))
        meta.update({"target": CLASSES, "metric": "multilabel_auc", "greater_is_better": True,
                     "classes": CLASSES, "image_size": [56, 56],
                     "features": "px0..px195: sums of 4 x 4 pixel blocks (row-major 14 x 14)"})
    else:
        img_tr, box_tr, own_tr = scenes(tr_img, tr_lab, rng, n_train)
        img_te, box_te, own_te = scenes(te_img, te_lab, rng, n_test)
        images = np.concatenate([img_tr, img_te])
        boxes, owners = box_tr + box_te, own_tr + own_te
        write("train.csv", "id,width,height", (f"{i},96,96" for i in train_ids))
        write("test.csv", "id,width,height", (f"{i},96,96" for i in test_ids))
        meta["image_size"] = [96, 96]
        if a.kind == "detection":
            def gt_rows(sel, extra=lambda i: ""):
                for i in sel:
                    if not boxes[i]:
                        yield f"{i},,,,,{extra(i)}"
                    for x1, y1, x2, y2, c in boxes[i]:
                        yield f"{i},{x1},{y1},{x2},{y2},{c}{extra(i)}"
            write("train_boxes.csv", "image_id,x1,y1,x2,y2,label", gt_rows(train_ids))
            write("sample_submission.csv", "image_id,PredictionString", (f"{i}," for i in test_ids))
            write("solution.csv", "image_id,x1,y1,x2,y2,label,Usage",
                  gt_rows(test_ids, lambda i: f",{usage[i - n_train]}"))
            meta.update({"metric": "coco_map50", "greater_is_better": True, "classes": CLASSES,
                         "boxes": "pixels, xyxy, x2 and y2 exclusive (tight box of pixels > 20)",
                         "objects_train": sum(len(boxes[i]) for i in train_ids),
                         "objects_test": sum(len(boxes[i]) for i in test_ids)})
        else:
            group_names = list(GROUPS)

            def mask_rows(sel, extra=lambda i: ""):
                for i in sel:
                    for g in group_names:
                        mask = np.isin(owners[i], GROUPS[g])
                        yield f"{i}_{g},{rle_encode(mask)}{extra(i)}"
            write("train_masks.csv", "Image_Label,EncodedPixels", mask_rows(train_ids))
            write("sample_submission.csv", "Image_Label,EncodedPixels",
                  (f"{i}_{g}," for i in test_ids for g in group_names))
            write("solution.csv", "Image_Label,EncodedPixels,Usage",
                  mask_rows(test_ids, lambda i: f",{usage[i - n_train]}"))
            meta.update({"metric": "dice", "greater_is_better": True, "classes": group_names,
                         "groups": {g: [CLASSES[c] for c in cs] for g, cs in GROUPS.items()},
                         "rle": {"order": "column-major: top to bottom, then left to right",
                                 "start": 1, "pairs": "start length"},
                         "masks": "a pixel is in a group's mask when the item drawn on it is of that group and has value > 30"})
    np.save(os.path.join(a.out, "images.npy"), images)
    if not a.no_png:
        os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
        for i in ids:
            write_png(os.path.join(a.out, "images", f"{i}.png"), images[i])
    meta["images"] = "images.npy: uint8 per id (row = id); images/<id>.png"
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{a.out}: {a.kind}, {n_train} train and {n_test} test images")


if __name__ == "__main__":
    main()

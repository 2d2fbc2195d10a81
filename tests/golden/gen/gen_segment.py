#!/usr/bin/env python3
"""Golden cases for run-length encoded masks and Dice / IoU (tests/golden/REFERENCES-segment.md).

An independent numpy implementation written from the competitions' descriptions: masks are
dense boolean arrays; the RLE numbers pixels from 1, top to bottom then left to right
(column-major: the image transposed, then flattened); Dice = 2|A∩B| / (|A| + |B|) and IoU =
|A∩B| / |A∪B| on dense arrays, 1 when both masks are empty, averaged over rows or pooled.

Run: /usr/bin/python3 tests/golden/gen/gen_segment.py > tests/golden/cases/segment/masks.json
"""
import json

import numpy as np


def rle(mask):
    flat = mask.T.flatten().astype(np.int8)
    padded = np.concatenate([[0], flat, [0]])
    changes = np.flatnonzero(np.diff(padded)) + 1  # 1-based starts and ends of runs
    starts, ends = changes[0::2], changes[1::2]
    return " ".join(f"{s} {e - s}" for s, e in zip(starts, ends))


def random_mask(rng, h, w, kind):
    if kind == "empty":
        return np.zeros((h, w), dtype=bool)
    if kind == "full":
        return np.ones((h, w), dtype=bool)
    if kind == "noise":
        return rng.random((h, w)) < rng.uniform(0.05, 0.6)
    m = np.zeros((h, w), dtype=bool)  # a few rectangles and discs
    for _ in range(rng.integers(1, 4)):
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        if rng.random() < 0.5:
            m[y0:y0 + rng.integers(1, h + 1), x0:x0 + rng.integers(1, w + 1)] = True
        else:
            r = rng.uniform(1, max(h, w) / 2)
            yy, xx = np.mgrid[0:h, 0:w]
            m |= (yy - y0) ** 2 + (xx - x0) ** 2 <= r * r
    return m


def perturb(rng, m):
    kind = rng.choice(["same", "shift", "noise", "empty", "other"])
    if kind == "same":
        return m.copy()
    if kind == "shift":
        return np.roll(m, (rng.integers(-2, 3), rng.integers(-2, 3)), axis=(0, 1))
    if kind == "noise":
        return m ^ (rng.random(m.shape) < 0.05)
    if kind == "empty":
        return np.zeros_like(m)
    return random_mask(rng, *m.shape, "shapes")


def dice(a, b):
    s = a.sum() + b.sum()
    return 1.0 if s == 0 else 2.0 * (a & b).sum() / s


def iou(a, b):
    u = (a | b).sum()
    return 1.0 if u == 0 else (a & b).sum() / u


def main():
    rng = np.random.default_rng(20261207)
    cases = []
    for c in range(12):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        rows = []
        for _ in range(int(rng.integers(1, 12))):
            truth = random_mask(rng, h, w, rng.choice(["empty", "full", "noise", "shapes", "shapes"]))
            pred = perturb(rng, truth)
            rows.append((truth, pred))
        ts = [t for t, _ in rows]
        ps = [p for _, p in rows]
        inter = sum(int((t & p).sum()) for t, p in rows)
        areas = sum(int(t.sum() + p.sum()) for t, p in rows)
        unions = sum(int((t | p).sum()) for t, p in rows)
        cases.append({
            "height": h, "width": w,
            "truth": [rle(t) for t in ts],
            "pred": [rle(p) for p in ps],
            "truth_pixels": ["".join("1" if v else "0" for v in t.flatten()) for t in ts],
            "dice_per_row": [dice(t, p) for t, p in rows],
            "iou_per_row": [iou(t, p) for t, p in rows],
            "dice_mean": float(np.mean([dice(t, p) for t, p in rows])),
            "iou_mean": float(np.mean([iou(t, p) for t, p in rows])),
            "dice_global": 1.0 if areas == 0 else 2.0 * inter / areas,
            "iou_global": 1.0 if unions == 0 else inter / unions,
        })
    json.dump({"generator": "tests/golden/gen/gen_segment.py", "numpy": np.__version__,
               "tolerance": 1e-12, "cases": cases}, __import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

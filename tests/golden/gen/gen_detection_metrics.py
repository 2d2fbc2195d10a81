#!/usr/bin/python3
"""Writes tests/golden/cases/detect/metrics.json: detection metrics worked out independently.

Run with Debian's /usr/bin/python3 (numpy only):
    /usr/bin/python3 tests/golden/gen/gen_detection_metrics.py

pycocotools is not available here, so the COCO evaluation below is written from the published
description of COCO's detection evaluation (cocodataset.org/#detection-eval and the documented
behaviour of COCOeval: 10 IoU thresholds .50:.05:.95, 101 recall points, maxDets 1/10/100, area
ranges small/medium/large, crowd regions ignored and matched with IoU = intersection / area of the
detection, precision made monotone and sampled at the recall points). The Kaggle metric follows
the Global Wheat Detection evaluation page (IoU thresholds 0.5:0.05:0.75, TP / (TP + FP + FN) per
image, greedy matching in descending confidence), and F-beta the TensorFlow Great Barrier Reef
page (F2 over IoU 0.3:0.05:0.8). Conventions the descriptions leave open and compe documents in
include/compe/detect.hpp are followed: stable sort by descending score, ties in IoU go to the
first ground truth, IoU >= threshold matches, an image with neither truth nor predictions scores 1
in the Kaggle metric. Output is deterministic (fixed seed).
"""

import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases", "detect")
TOLERANCE = 1e-9


def area(b):
    return (b[2] - b[0]) * (b[3] - b[1])


def iou(d, g, crowd=False):
    w = min(d[2], g[2]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[3], g[3]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    inter = w * h
    union = area(d) if crowd else area(d) + area(g) - inter
    return inter / union


# ------------------------------------------------------------------ COCO

IOU_THRS = np.linspace(0.5, 0.95, 10)
REC_THRS = np.linspace(0.0, 1.0, 101)
MAX_DETS = [1, 10, 100]
AREAS = [(0, 1e10), (0, 32 ** 2), (32 ** 2, 96 ** 2), (96 ** 2, 1e10)]


def match_image(gts, dts, rng_area, max_det):
    """gts: list of dict(box, crowd, area); dts: list of dict(box, score). Returns the per-threshold
    matched and ignored flags of the kept detections (by score), their scores, and the count of
    ground truth that is not ignored."""
    order = sorted(range(len(dts)), key=lambda k: -dts[k]["score"])  # stable
    dts = [dts[k] for k in order][:max_det]
    lo, hi = rng_area
    ign = [g["crowd"] or g["area"] < lo or g["area"] > hi for g in gts]
    gorder = [k for k in range(len(gts)) if not ign[k]] + [k for k in range(len(gts)) if ign[k]]
    gts = [gts[k] for k in gorder]
    ign = [ign[k] for k in gorder]
    T = len(IOU_THRS)
    matched = np.zeros((T, len(dts)), dtype=bool)
    ignored = np.zeros((T, len(dts)), dtype=bool)
    for t, thr in enumerate(IOU_THRS):
        taken = [False] * len(gts)
        for di, d in enumerate(dts):
            best = min(thr, 1 - 1e-10)
            m = -1
            for gi, g in enumerate(gts):
                if taken[gi] and not g["crowd"]:
                    continue
                # Once a real (not ignored) match is held, ignored ground truth is not considered.
                if m > -1 and not ign[m] and ign[gi]:
                    break
                v = iou(d["box"], g["box"], g["crowd"])
                if v < best:
                    continue
                best = v
                m = gi
            if m == -1:
                continue
            matched[t, di] = True
            ignored[t, di] = ign[m]
            taken[m] = True
        for di, d in enumerate(dts):
            a = area(d["box"])
            if not matched[t, di] and (a < lo or a > hi):
                ignored[t, di] = True
    return matched, ignored, [d["score"] for d in dts], sum(1 for x in ign if not x)


def coco(gt, pred):
    cats = sorted({b[4] for img in gt for b in img})
    I, K, A, M, T, R = len(gt), len(cats), len(AREAS), len(MAX_DETS), len(IOU_THRS), len(REC_THRS)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k, c in enumerate(cats):
        for a, rng_area in enumerate(AREAS):
            per_image = []
            for i in range(I):
                gts = [{"box": b[:4], "crowd": bool(b[5]), "area": area(b[:4]) if b[6] is None else b[6]}
                       for b in gt[i] if b[4] == c]
                dts = [{"box": b[:4], "score": b[4]} for b in pred[i] if b[5] == c]
                if not gts and not dts:
                    continue
                per_image.append(match_image(gts, dts, rng_area, MAX_DETS[-1]))
            npig = sum(e[3] for e in per_image)
            if npig == 0:
                continue
            for m, md in enumerate(MAX_DETS):
                rows = []  # (score, matched[T], ignored[T]) in image order
                for matched, ignored, scores, _ in per_image:
                    for di in range(min(md, len(scores))):
                        rows.append((scores[di], matched[:, di], ignored[:, di]))
                rows.sort(key=lambda r: -r[0])  # stable
                for t in range(T):
                    tp = fp = 0
                    rc, pr = [], []
                    for _, mt, ig in rows:
                        if not ig[t]:
                            if mt[t]:
                                tp += 1
                            else:
                                fp += 1
                        rc.append(tp / npig)
                        pr.append(tp / (tp + fp + np.spacing(1)))
                    recall[t, k, a, m] = rc[-1] if rows else 0
                    for j in range(len(pr) - 1, 0, -1):
                        pr[j - 1] = max(pr[j - 1], pr[j])
                    for r, thr in enumerate(REC_THRS):
                        j = next((j for j, v in enumerate(rc) if v >= thr), None)
                        precision[t, r, k, a, m] = pr[j] if j is not None else 0.0

    def mean(s):
        s = s[s > -1]
        return float(np.mean(s)) if s.size else -1.0

    t50, t75 = 0, 5
    last = M - 1
    stats = [
        mean(precision[:, :, :, 0, last]),
        mean(precision[t50, :, :, 0, last]),
        mean(precision[t75, :, :, 0, last]),
        mean(precision[:, :, :, 1, last]),
        mean(precision[:, :, :, 2, last]),
        mean(precision[:, :, :, 3, last]),
        mean(recall[:, :, 0, 0]),
        mean(recall[:, :, 0, 1]),
        mean(recall[:, :, 0, 2]),
        mean(recall[:, :, 1, 2]),
        mean(recall[:, :, 2, 2]),
        mean(recall[:, :, 3, 2]),
    ]
    class_ap = [mean(precision[:, :, k, 0, last]) for k in range(K)]
    class_ap50 = [mean(precision[t50, :, k, 0, last]) for k in range(K)]
    return stats, cats, class_ap, class_ap50


# ------------------------------------------------------------------ greedy matching


def greedy(gts, preds, thr):
    """gts: [box + label], preds sorted by score: [box + label]. Returns tp, fp, fn."""
    taken = [False] * len(gts)
    tp = fp = 0
    for p in preds:
        best, bi = -1.0, -1
        for gi, g in enumerate(gts):
            if taken[gi] or g[4] != p[5]:
                continue
            v = iou(p[:4], g[:4])
            if v >= thr and v > best:
                best, bi = v, gi
        if bi >= 0:
            taken[bi] = True
            tp += 1
        else:
            fp += 1
    return tp, fp, len(gts) - tp


def by_score(preds):
    return sorted(preds, key=lambda p: -p[4])  # stable


def kaggle(gt, pred, min_score=0.0):
    thrs = [(50 + 5 * i) / 100 for i in range(6)]  # the decimals 0.5 .. 0.75
    scores = []
    for g, p in zip(gt, pred):
        p = by_score([b for b in p if b[4] >= min_score])
        if not g and not p:
            scores.append(1.0)
            continue
        s = 0.0
        for t in thrs:
            tp, fp, fn = greedy(g, p, t)
            s += tp / (tp + fp + fn)
        scores.append(s / len(thrs))
    return float(np.mean(scores))


def fbeta(gt, pred, beta):
    thrs = [(30 + 5 * i) / 100 for i in range(11)]  # the decimals 0.3 .. 0.8
    out = []
    for t in thrs:
        TP = FP = FN = 0
        for g, p in zip(gt, pred):
            tp, fp, fn = greedy(g, by_score(p), t)
            TP, FP, FN = TP + tp, FP + fp, FN + fn
        b2 = beta * beta
        den = (1 + b2) * TP + b2 * FN + FP
        out.append((1 + b2) * TP / den if den > 0 else 0.0)
    return float(np.mean(out))


# ------------------------------------------------------------------ cases


def make_case(rng, images, labels, crowd_rate, fp_rate, ties, with_area):
    gt, pred = [], []
    for _ in range(images):
        W, H = rng.integers(200, 700), rng.integers(200, 700)
        g_img, p_img = [], []
        for _ in range(rng.integers(0, 7)):
            w = float(rng.uniform(8, 260))
            h = float(rng.uniform(8, 260))
            x = float(rng.uniform(0, W - w)) if W > w else 0.0
            y = float(rng.uniform(0, H - h)) if H > h else 0.0
            label = int(rng.integers(0, labels))
            crowd = int(rng.uniform() < crowd_rate)
            a = float(w * h * rng.uniform(0.5, 1.0)) if with_area else None
            g_img.append([x, y, x + w, y + h, label, crowd, a])
            # Detections of this object: jittered copies, sometimes with another label.
            for _ in range(rng.integers(0, 3)):
                jx, jy = rng.normal(0, 0.06 * w), rng.normal(0, 0.06 * h)
                sx, sy = rng.uniform(0.85, 1.15), rng.uniform(0.85, 1.15)
                bx, by = x + jx, y + jy
                score = float(rng.uniform())
                if ties:
                    score = round(score * 8) / 8
                lab = label if rng.uniform() < 0.9 else int(rng.integers(0, labels))
                p_img.append([bx, by, bx + w * sx, by + h * sy, score, lab])
        for _ in range(rng.poisson(fp_rate)):
            w, h = float(rng.uniform(5, 200)), float(rng.uniform(5, 200))
            x, y = float(rng.uniform(0, W)), float(rng.uniform(0, H))
            score = float(rng.uniform(0, 0.7))
            if ties:
                score = round(score * 8) / 8
            p_img.append([x, y, x + w, y + h, score, int(rng.integers(0, labels))])
        gt.append(g_img)
        pred.append(p_img)
    return gt, pred


def main():
    rng = np.random.default_rng(20261126)
    settings = [
        # images, labels, crowd rate, false positives per image, tied scores, COCO areas
        (1, 1, 0.0, 1.0, False, False),
        (3, 1, 0.0, 0.5, True, False),
        (8, 2, 0.0, 2.0, False, False),
        (8, 3, 0.2, 1.0, True, False),
        (12, 2, 0.1, 3.0, False, True),
        (20, 4, 0.1, 2.0, True, True),
        (30, 1, 0.0, 4.0, False, False),
        (30, 3, 0.15, 1.5, True, True),
        (50, 5, 0.05, 2.0, False, False),
        (60, 2, 0.0, 0.5, True, False),
    ]
    cases = []
    for n, (images, labels, crowd, fp, ties, with_area) in enumerate(settings):
        gt, pred = make_case(rng, images, labels, crowd, fp, ties, with_area)
        stats, cats, class_ap, class_ap50 = coco(gt, pred)
        cases.append({
            "name": f"case{n}",
            "gt": gt,
            "pred": pred,
            "coco_stats": stats,
            "categories": cats,
            "class_ap": class_ap,
            "class_ap50": class_ap50,
            "kaggle_map": kaggle(gt, pred),
            "kaggle_map_0.3": kaggle(gt, pred, 0.3),
            "fbeta_1": fbeta(gt, pred, 1.0),
            "fbeta_2": fbeta(gt, pred, 2.0),
        })
    os.makedirs(OUT, exist_ok=True)
    doc = {
        "reference": f"independent implementation from the published definitions, numpy {np.__version__}",
        "tolerance": TOLERANCE,
        "layout": "gt[image] = [x1, y1, x2, y2, label, iscrowd, area or null]; "
                  "pred[image] = [x1, y1, x2, y2, score, label]",
        "cases": cases,
    }
    with open(os.path.join(OUT, "metrics.json"), "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()

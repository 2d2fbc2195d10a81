"""Randomised golden cases for box fusion, from ensemble_boxes 1.0.9 (git 96880f3).

Covers what the hand-made cases do not: heavy score ties (scores rounded to quarters), inverted
and out-of-range boxes, weights, every conf_type, skip thresholds, empty models, all four methods.
Cases where the reference returns NaN corners (a cluster whose confidences sum to 0; compe
deliberately differs there, see REFERENCES-wbf.md) are left out.

ensemble_boxes is not a Debian package. Run with its checkout on PYTHONPATH (and a pass-through
numba.jit when numba is missing; see bench/peers/wbf.sh):

    PYTHONPATH=$ENSEMBLE_BOXES_DIR:$NUMBA_STUB /usr/bin/python3 tests/golden/gen/wbf_random.py \
        tests/golden/cases/wbf/random/cases.json
"""
import copy
import json
import sys
import warnings

import numpy as np

import ensemble_boxes as eb

warnings.simplefilter("ignore")


def main():
    # The reference prints its input warnings on stdout; the cases go to the file in argv[1].
    rng = np.random.default_rng(20261126)
    cases = []
    k = 0
    while len(cases) < 96:
        k += 1
        n_models = int(rng.integers(1, 5))
        n_base = int(rng.integers(0, 18))
        base = rng.random((max(n_base, 1), 4)) * 0.8
        base[:, 2:] = base[:, :2] + 0.05 + rng.random((max(n_base, 1), 2)) * 0.2
        boxes, scores, labels = [], [], []
        for _ in range(n_models):
            n = int(rng.integers(0, n_base + 1)) if n_base else 0
            b = base[rng.integers(0, max(n_base, 1), n)] + (rng.random((n, 4)) - 0.5) * 0.03
            if k % 3 == 0:
                b[rng.random(n) < 0.1, 2] = 1.2
                swap = rng.random(n) < 0.1
                b[swap, 0], b[swap, 2] = b[swap, 2].copy(), b[swap, 0].copy()
            s = rng.random(n)
            if k % 2 == 0:
                s = np.round(s * 4) / 4
            boxes.append(np.round(b, 6).tolist())
            scores.append(np.round(s, 6).tolist())
            labels.append(rng.integers(0, 3, n).tolist())
        weights = None if k % 4 == 0 else (rng.random(n_models) * 3 + 0.1).round(3).tolist()
        fn = ["weighted_boxes_fusion", "nms", "soft_nms", "non_maximum_weighted"][k % 4 if k % 8 < 4 else 0]
        params = {"weights": weights}
        if fn == "weighted_boxes_fusion":
            params.update(iou_thr=float(rng.choice([0.4, 0.55, 0.7])),
                          skip_box_thr=float(rng.choice([0.0, 0.25])),
                          conf_type=str(rng.choice(["avg", "max", "box_and_model_avg",
                                                    "absent_model_aware_avg"])))
        elif fn == "non_maximum_weighted":
            params.update(iou_thr=0.55, skip_box_thr=float(rng.choice([0.0, 0.25])))
        elif fn == "nms":
            params.update(iou_thr=0.5)
        else:
            params.update(iou_thr=0.5, sigma=0.5, thresh=0.001, method=int(rng.choice([1, 2])))
        if fn in ("nms", "soft_nms") and sum(len(x) for x in boxes) == 0:
            continue  # the reference cannot concatenate zero lists
        out_b, out_s, out_l = getattr(eb, fn)(copy.deepcopy(boxes), copy.deepcopy(scores),
                                             copy.deepcopy(labels), **params)
        out_b = np.asarray(out_b, dtype=float).reshape(-1, 4)
        out_s = np.asarray(out_s, dtype=float)
        if np.isnan(out_b).any() or np.isnan(out_s).any():
            continue
        cases.append({
            "function": fn, "params": params,
            "inputs": {"boxes": boxes, "scores": scores, "labels": labels},
            "expected": {"boxes": out_b.tolist(), "scores": out_s.tolist(),
                         "labels": np.asarray(out_l, dtype=float).tolist()},
        })
    json.dump({"reference": {"package": "ensemble_boxes", "version": "1.0.9 (git 96880f3)",
                             "numpy": np.__version__, "generator": "tests/golden/gen/wbf_random.py"},
               "tolerance": {"abs": 1e-6}, "cases": cases}, open(sys.argv[1], "w"))


if __name__ == "__main__":
    main()

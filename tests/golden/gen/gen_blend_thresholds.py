"""Golden cases for compe's decision rules (blend area) from scikit-learn.

Binary threshold: the best F1 over precision_recall_curve's thresholds (labels p >= threshold),
and the best accuracy / MCC over every distinct score as threshold (accuracy_score,
matthews_corrcoef). Scores are rounded so that ties occur.

  /usr/bin/python3 tests/golden/gen/gen_blend_thresholds.py tests/golden/cases/blend/thresholds.json
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, matthews_corrcoef, precision_recall_curve


def case(name, n, pos_rate, skill, decimals, seed):
    rng = np.random.default_rng(seed)
    y = (rng.uniform(size=n) < pos_rate).astype(int)
    p = np.clip(skill * y + (1 - skill) * rng.uniform(size=n) + 0.1 * rng.normal(size=n), 0, 1)
    p = np.round(p, decimals)
    precision, recall, thr = precision_recall_curve(y, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1[:-1]))  # the last point (recall 0) has no threshold
    ties = int(np.sum(np.isclose(f1[:-1], f1[best], rtol=1e-12, atol=0)))
    out = {"name": name, "y": y.tolist(), "p": p.tolist(),
           "f1": {"score": float(f1[best]), "threshold": float(thr[best]), "unique": ties == 1}}
    cuts = np.unique(p)
    for metric, fn in (("accuracy", accuracy_score), ("mcc", matthews_corrcoef)):
        scores = [fn(y, (p >= t).astype(int)) for t in cuts]
        out[metric] = {"score": float(max(scores))}
    return out


def main():
    cases = [case("balanced_ties", 400, 0.5, 0.3, 2, 1),
             case("rare_positives", 600, 0.1, 0.4, 3, 2),
             case("continuous", 500, 0.3, 0.25, 6, 3)]
    doc = {"reference": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
           "tolerance": 1e-12, "cases": cases}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()

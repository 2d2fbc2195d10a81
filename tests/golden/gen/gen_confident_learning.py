#!/usr/bin/env python3
"""Golden cases for confident learning (tests/golden/REFERENCES-review.md).

An independent numpy implementation written from the paper (Northcutt, Jiang and Chuang,
"Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021, section 3.1):

  t_j    = mean of p_j(x) over the rows x labelled j                        (eq. 2)
  C[i][j] = |{x labelled i : p_j(x) >= t_j and j = argmax_{l : p_l(x) >= t_l} p_l(x)}|  (eq. 1)
  issues = rows counted off the diagonal (C_confusion / "confident_learning" filter), ranked by
           self-confidence p_label(x) ascending (stable: lower row first on ties)

cleanlab is not available here; its defaults differ in two documented ways the cases avoid by
construction: it subtracts 1e-6 from thresholds, and its default filter is prune_by_noise_rate.

Run: /usr/bin/python3 tests/golden/gen/gen_confident_learning.py > tests/golden/cases/review/confident_learning.json
"""
import json
import sys

import numpy as np


def confident_learning(p, s):
    n, k = p.shape
    t = np.array([p[s == j, j].mean() if (s == j).any() else np.nan for j in range(k)])
    confident = p >= t  # NaN thresholds compare False: a class nobody has is never confident
    masked = np.where(confident, p, -np.inf)
    has = confident.any(axis=1)
    guess = masked.argmax(axis=1)
    joint = np.zeros((k, k), dtype=int)
    for r in np.flatnonzero(has):
        joint[s[r], guess[r]] += 1
    off = np.flatnonzero(has & (guess != s))
    order = off[np.argsort(p[off, s[off]], kind="stable")]
    return t, joint, order, guess


def make_case(rng, n, k, noise, sharp):
    truth = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), truth] += sharp
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    p = np.round(p, 12)  # what the JSON holds is exactly what both sides compute on
    s = truth.copy()
    flip = rng.random(n) < noise
    s[flip] = (s[flip] + rng.integers(1, k, flip.sum())) % k
    return p, s, np.flatnonzero(flip)


def main():
    rng = np.random.default_rng(20261207)
    cases = []
    for n, k, noise, sharp in [(20, 2, 0.1, 2.0), (60, 3, 0.1, 2.5), (200, 4, 0.05, 3.0), (500, 10, 0.05, 3.5),
                               (300, 5, 0.2, 1.5), (50, 3, 0.0, 4.0), (120, 6, 0.1, 0.5)]:
        p, s, flipped = make_case(rng, n, k, noise, sharp)
        t, joint, order, guess = confident_learning(p, s)
        cases.append({"rows": n, "classes": k, "probabilities": p.tolist(), "labels": s.tolist(),
                      "flipped": flipped.tolist(), "thresholds": t.tolist(), "confident_joint": joint.tolist(),
                      "issues": order.tolist(), "suggested": guess[order].tolist()})
    json.dump({"generator": "tests/golden/gen/gen_confident_learning.py", "numpy": np.__version__,
               "tolerance": 1e-12, "cases": cases}, sys.stdout)
    print()


if __name__ == "__main__":
    main()

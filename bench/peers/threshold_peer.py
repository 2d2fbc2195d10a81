"""numpy implementation of compe threshold's class-weight coordinate search (accuracy), for
bench/peers/threshold.sh.

The same search as src/blend/decision.cpp: weights start at 1; for each class j in turn, every row
moves to label j once w_j * p_j passes the best other class's w_c * p_c (its switch key); the
accuracy of every switch position is read from a cumulative sum over the rows sorted by key, the
middle of the positions reaching the best is taken and w_j set between its neighbouring keys;
a move is kept when the argmax labels really score better; the weights are divided by their
maximum after each pass, until a pass moves nothing. Fitted on every OOF row and, for nested CV,
on each fold's other folds.

    /usr/bin/python3 bench/peers/threshold_peer.py RUN_DIR TRAIN_CSV TARGET [MAX_PASSES]

Prints one JSON document: the weights fitted on every row, the nested score, the passes and the
wall / CPU seconds of the fits.
"""

import json
import sys
import time

import numpy as np
import pandas as pd

DENORM_MIN = np.nextafter(0.0, 1.0)


def better(a, b):
    return a > b + 1e-12 * max(1.0, abs(b))


def between(a, b):
    m = a + (b - a) / 2
    return m if a < m < b else b


def accuracy(labels, y):
    return float(np.count_nonzero(labels == y)) / len(y)


def sweep(P, y, w, j):
    """Best switch position of class j: (best score, weight there)."""
    n = len(y)
    S = P * w
    others = S.copy()
    others[:, j] = -np.inf
    a = np.argmax(others, axis=1)  # first maximum among the other classes
    m = S[np.arange(n), a]
    pj = P[:, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        key = np.where(pj > 0, m / pj, np.inf)
    rows = np.flatnonzero(np.isfinite(key))
    order = rows[np.argsort(key[rows], kind="stable")]
    ks = key[order]
    correct0 = np.count_nonzero(a == y)
    delta = (y[order] == j).astype(np.int64) - (a[order] == y[order]).astype(np.int64)
    cum = correct0 + np.cumsum(delta)
    if len(ks) == 0:
        return correct0 / n, None
    ends = np.append(np.flatnonzero(ks[1:] != ks[:-1]), len(ks) - 1)
    scores = np.concatenate(([correct0], cum[ends])) / n
    keys = ks[ends]
    best = scores.max()
    at = np.flatnonzero(scores >= best - 1e-12 * max(1.0, abs(best)))
    g = int(at[len(at) // 2])
    if g == 0:
        wj = keys[0] / 2 if keys[0] > 0 else DENORM_MIN
    elif g == len(keys):
        wj = keys[-1] * 2 if keys[-1] > 0 else 1.0
    else:
        wj = between(keys[g - 1], keys[g])
    return float(scores[g]), float(wj)


def fit(P, y, max_passes):
    k = P.shape[1]
    w = np.ones(k)
    current = accuracy(np.argmax(P * w, axis=1), y)
    passes = 0
    for passes in range(1, max_passes + 1):
        moved = False
        for j in range(k):
            sc, wj = sweep(P, y, w, j)
            if wj is None or not better(sc, current):
                continue
            trial = w.copy()
            trial[j] = wj
            ts = accuracy(np.argmax(P * trial, axis=1), y)
            if not better(ts, current):
                continue
            w, current, moved = trial, ts, True
        w = w / w.max()
        if not moved:
            break
    return w, passes


def main():
    run_dir, train_csv, target = sys.argv[1], sys.argv[2], sys.argv[3]
    max_passes = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    oof = pd.read_csv(f"{run_dir}/oof.csv")
    cols = [c for c in oof.columns if c not in ("id", "fold")]
    classes = [c[len(target) + 1:] for c in cols]
    train = pd.read_csv(train_csv, usecols=["id", target]).set_index("id")
    labels = train.loc[oof["id"], target].astype(str).to_numpy()
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in labels])
    P = oof[cols].to_numpy(dtype=np.float64)
    folds = oof["fold"].to_numpy()
    t0, c0 = time.perf_counter(), time.process_time()
    w, passes = fit(P, y, max_passes)
    nested = np.zeros(len(y), dtype=np.int64)
    fold_scores = []
    for f in sorted(set(folds.tolist())):
        va = folds == f
        wf, _ = fit(P[~va], y[~va], max_passes)
        nested[va] = np.argmax(P[va] * wf, axis=1)
        fold_scores.append(accuracy(nested[va], y[va]))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"class_weights": w.tolist(), "passes": passes,
                      "as_predicted": accuracy(np.argmax(P, axis=1), y),
                      "in_sample_score": accuracy(np.argmax(P * w, axis=1), y),
                      "nested_score": accuracy(nested, y), "fold_scores": fold_scores,
                      "seconds": wall, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes tests/golden/cases/splits/*.json: fold assignments from scikit-learn 1.2.1.

Run with Debian's interpreter (scikit-learn 1.2.1, numpy 1.24):
    /usr/bin/python3 tests/golden/gen/gen_splits.py

Each file holds cases. A case has the splitter spec (strategy, k, shuffle, seed, gap), the inputs
(y, groups, time) and either
  - "check": "exact":      "folds" (fold per row; -1 = never validated) and, for timeseries,
                           "train"/"valid" index lists per fold, to reproduce exactly;
  - "check": "properties": the reference's folds on the same data ("reference_folds", and for
                           StratifiedGroupKFold also "reference_unshuffled_folds"), against which
                           fold sizes and class balance are compared;
  - "check": "error":      the reference raised ValueError ("message" is its text);
  - "warns": true          the reference warned (a class with fewer than k members).
Multilabel cases ("check": "multilabel") carry a label matrix and a random baseline's folds
(KFold or GroupKFold with shuffling); the C++ test asserts better label balance than the baseline.
"""

import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.model_selection import (GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold,
                                     TimeSeriesSplit)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases", "splits")
assert sklearn.__version__ == "1.2.1", sklearn.__version__


def folds_from(cv, n, y=None, groups=None):
    folds = np.full(n, -1, dtype=int)
    for f, (_, test) in enumerate(cv.split(np.zeros((n, 1)), y, groups)):
        assert np.all(folds[test] == -1)
        folds[test] = f
    return folds.tolist()


def ints(a):
    return [int(v) for v in a]


def write(name, cases):
    doc = {
        "reference": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "generator": "tests/golden/gen/gen_splits.py",
        "cases": cases,
    }
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), "bytes,", len(cases), "cases")


def base(name, strategy, k, shuffle, n, **extra):
    case = {"name": name, "strategy": strategy, "k": k, "shuffle": shuffle, "seed": 0, "gap": 0,
            "rows": n}
    case.update(extra)
    return case


def kfold_cases():
    cases = []
    for n, k in [(10, 3), (103, 5), (7, 7), (2, 2)]:
        c = base(f"kfold_n{n}_k{k}", "kfold", k, False, n, check="exact")
        c["folds"] = folds_from(KFold(k), n)
        cases.append(c)
    n, k = 1003, 5
    c = base("kfold_shuffle_n1003_k5", "kfold", k, True, n, check="properties")
    c["reference_folds"] = folds_from(KFold(k, shuffle=True, random_state=0), n)
    cases.append(c)
    return cases


def stratified_class_data(rng, n, probs, labels):
    return rng.choice(labels, size=n, p=probs)


def stratified_cases():
    rng = np.random.default_rng(1)
    cases = []
    data = [
        ("binary_imbalanced", stratified_class_data(rng, 100, [0.85, 0.15], [0, 1]), 5),
        # labels appear first in the order 2, 0, 1 -> first-appearance encoding matters
        ("multiclass_order", np.concatenate([[2, 0, 1], stratified_class_data(
            rng, 254, [0.5, 0.3, 0.2], [0, 1, 2])]), 4),
        ("negative_labels", stratified_class_data(rng, 61, [0.4, 0.4, 0.2], [-3, 7, 1]), 3),
        ("many_classes", stratified_class_data(rng, 400, np.full(12, 1 / 12), list(range(12))), 7),
        ("sorted_target", np.sort(stratified_class_data(rng, 50, [0.6, 0.4], [0, 1])), 5),
    ]
    for name, y, k in data:
        c = base(f"skf_{name}", "stratified_kfold", k, False, len(y), check="exact", y=ints(y))
        c["folds"] = folds_from(StratifiedKFold(k), len(y), y)
        cases.append(c)
    # A class with fewer members than k: the reference warns and goes on.
    y = np.array([0] * 20 + [1] * 20 + [2] * 2)
    rng.shuffle(y)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        f = folds_from(StratifiedKFold(5), len(y), y)
        assert any("least populated" in str(x.message) for x in w)
    c = base("skf_rare_class_warns", "stratified_kfold", 5, False, len(y), check="exact",
             y=ints(y), warns=True)
    c["folds"] = f
    cases.append(c)
    # Every class with fewer members than k: the reference raises.
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    try:
        folds_from(StratifiedKFold(4), len(y), y)
        raise AssertionError("expected ValueError")
    except ValueError as e:
        c = base("skf_all_classes_too_small", "stratified_kfold", 4, False, len(y), check="error",
                 y=ints(y), message=str(e))
    cases.append(c)
    # Shuffle: the per-fold class counts are decided before shuffling, so they must match.
    y = stratified_class_data(rng, 997, [0.5, 0.3, 0.15, 0.05], [0, 1, 2, 3])
    c = base("skf_shuffle", "stratified_kfold", 5, True, len(y), check="properties", y=ints(y))
    c["reference_folds"] = folds_from(StratifiedKFold(5, shuffle=True, random_state=0), len(y), y)
    cases.append(c)
    return cases


def group_sizes_data(rng, n_groups, max_size, id_scale=1):
    sizes = rng.integers(1, max_size + 1, n_groups)
    ids = rng.permutation(n_groups) * id_scale - (n_groups * id_scale) // 3
    groups = np.repeat(ids, sizes)
    rng.shuffle(groups)
    return groups


def group_cases():
    rng = np.random.default_rng(2)
    cases = []
    for name, groups, k in [
        ("small", np.array([1, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 6, 6]), 3),
        ("ties_300_groups", group_sizes_data(rng, 300, 10, 7), 5),
        ("ties_many_small", group_sizes_data(rng, 500, 3), 4),
        ("k_equals_groups", np.array([5, 5, 9, 9, 9, 11]), 3),
    ]:
        n = len(groups)
        c = base(f"gkf_{name}", "group_kfold", k, False, n, check="exact", groups=ints(groups))
        c["folds"] = folds_from(GroupKFold(k), n, None, groups)
        cases.append(c)
    groups = group_sizes_data(rng, 400, 12)
    c = base("gkf_shuffle", "group_kfold", 5, True, len(groups), check="properties",
             groups=ints(groups))
    c["reference_folds"] = folds_from(GroupKFold(5), len(groups), None, groups)
    cases.append(c)
    return cases


def sgkf_data(rng, n_groups, n_classes, max_size, probs=None):
    """Groups with a dominant class each, so that stratifying by group is a real constraint."""
    sizes = rng.integers(1, max_size + 1, n_groups)
    if probs is None:
        probs = np.full(n_classes, 1 / n_classes)
    dominant = rng.choice(n_classes, size=n_groups, p=probs)
    ids = rng.permutation(n_groups) * 3 + 100
    groups, y = [], []
    for g, s, d in zip(ids, sizes, dominant):
        for _ in range(s):
            groups.append(g)
            y.append(d if rng.random() < 0.7 else rng.choice(n_classes, p=probs))
    order = rng.permutation(len(y))
    return np.array(groups)[order], np.array(y)[order]


def sgkf_cases():
    rng = np.random.default_rng(3)
    cases = []
    for name, (groups, y), k in [
        ("binary", sgkf_data(rng, 120, 2, 8, [0.8, 0.2]), 5),
        ("three_classes", sgkf_data(rng, 200, 3, 10, [0.5, 0.3, 0.2]), 4),
        ("nine_classes", sgkf_data(rng, 300, 9, 6), 5),
        ("many_singletons", sgkf_data(rng, 400, 3, 1, [0.6, 0.3, 0.1]), 6),
    ]:
        n = len(y)
        c = base(f"sgkf_{name}", "stratified_group_kfold", k, False, n, check="exact", y=ints(y),
                 groups=ints(groups))
        c["folds"] = folds_from(StratifiedGroupKFold(k), n, y, groups)
        cases.append(c)
    groups, y = sgkf_data(rng, 500, 4, 10, [0.5, 0.25, 0.15, 0.1])
    n = len(y)
    c = base("sgkf_shuffle", "stratified_group_kfold", 5, True, n, check="properties", y=ints(y),
             groups=ints(groups))
    c["reference_folds"] = folds_from(StratifiedGroupKFold(5, shuffle=True, random_state=0), n, y,
                                      groups)
    c["reference_unshuffled_folds"] = folds_from(StratifiedGroupKFold(5), n, y, groups)
    cases.append(c)
    y = np.array([0, 0, 0, 1, 1, 1])
    groups = np.array([1, 2, 3, 4, 5, 6])
    try:
        folds_from(StratifiedGroupKFold(4), len(y), y, groups)
        raise AssertionError("expected ValueError")
    except ValueError as e:
        cases.append(base("sgkf_all_classes_too_small", "stratified_group_kfold", 4, False, 6,
                          check="error", y=ints(y), groups=ints(groups), message=str(e)))
    return cases


def ts_case(name, n, k, gap, time=None):
    c = base(name, "timeseries", k, False, n, check="exact", gap=gap)
    order = np.arange(n) if time is None else np.argsort(time, kind="stable")
    if time is not None:
        c["time"] = [float(t) for t in time]
    folds = np.full(n, -1, dtype=int)
    train, valid = [], []
    for f, (tr, te) in enumerate(TimeSeriesSplit(k, gap=gap).split(np.zeros((n, 1)))):
        folds[order[te]] = f
        train.append(sorted(ints(order[tr])))
        valid.append(sorted(ints(order[te])))
    c["folds"] = folds.tolist()
    c["train"] = train
    c["valid"] = valid
    return c


def timeseries_cases():
    rng = np.random.default_rng(4)
    cases = [ts_case("ts_n20_k3", 20, 3, 0), ts_case("ts_n103_k5_gap2", 103, 5, 2),
             ts_case("ts_n50_k4_gap5", 50, 4, 5), ts_case("ts_n6_k5", 6, 5, 0),
             ts_case("ts_time_column", 60, 3, 1, rng.integers(0, 30, 60).astype(float) * 0.5)]
    try:
        list(TimeSeriesSplit(5, gap=3).split(np.zeros((12, 1))))
        raise AssertionError("expected ValueError")
    except ValueError as e:
        cases.append(base("ts_too_short_for_gap", "timeseries", 5, False, 12, check="error", gap=3,
                          message=str(e)))
    return cases


def multilabel_data(rng, n, n_labels):
    """Skewed label frequencies with co-occurrence through a few latent topics."""
    freq = np.geomspace(0.4, 0.01, n_labels)
    topic = rng.integers(0, 4, n)
    boost = np.zeros((4, n_labels))
    for t in range(4):
        boost[t, rng.choice(n_labels, 3, replace=False)] = 2.5
    p = np.clip(freq[None, :] * (1 + boost[topic]), 0, 0.95)
    return (rng.random((n, n_labels)) < p).astype(int)


def iterative_stratification_lowest_ties(labels, k):
    """Sechidis et al.'s iterative stratification in the iterative-stratification package's
    formulation (MultilabelStratifiedKFold with shuffle=False), every random tie-break replaced by
    the lowest index, which is what compe does with shuffle=false."""
    labels = np.asarray(labels, dtype=bool)
    n = labels.shape[0]
    r = np.full(k, 1.0 / k)
    test_folds = np.zeros(n, dtype=int)
    c_folds = r * n
    c_folds_labels = np.outer(r, labels.sum(axis=0))
    unprocessed = np.ones(n, dtype=bool)
    while np.any(unprocessed):
        num_labels = labels[unprocessed].sum(axis=0)
        if num_labels.sum() == 0:
            for i in np.where(unprocessed)[0]:
                f = np.where(c_folds == c_folds.max())[0][0]
                test_folds[i] = f
                c_folds[f] -= 1
            break
        label = np.where(num_labels == num_labels[np.nonzero(num_labels)].min())[0][0]
        for i in np.where(labels[:, label] & unprocessed)[0]:
            col = c_folds_labels[:, label]
            cand = np.where(col == col.max())[0]
            if len(cand) > 1:
                cand = cand[np.where(c_folds[cand] == c_folds[cand].max())[0]]
            f = cand[0]
            test_folds[i] = f
            unprocessed[i] = False
            c_folds_labels[f, labels[i]] -= 1
            c_folds[f] -= 1
    return test_folds


def multilabel_cases():
    rng = np.random.default_rng(5)
    cases = []
    y = multilabel_data(rng, 1500, 12)
    c = base("mskf_12_labels", "multilabel_stratified_kfold", 5, True, len(y), check="multilabel",
             y_cols=y.shape[1], y=ints(y.ravel()))
    c["baseline_folds"] = folds_from(KFold(5, shuffle=True, random_state=0), len(y))
    cases.append(c)
    c = dict(c, name="mskf_12_labels_noshuffle", shuffle=False)
    cases.append(c)
    # The algorithm itself, on data with empty rows and ties: exact folds from the port above.
    for i, (n, n_labels, k) in enumerate([(40, 3, 3), (300, 8, 5), (517, 20, 4)]):
        y = multilabel_data(rng, n, n_labels)
        y[rng.random(n) < 0.2] = 0
        c = base(f"mskf_port_{i}", "multilabel_stratified_kfold", k, False, n, check="exact",
                 y_cols=n_labels, y=ints(y.ravel()),
                 reference="iterative stratification port in gen_splits.py, lowest-index ties")
        c["folds"] = iterative_stratification_lowest_ties(y, k).tolist()
        c["warns"] = bool((y.sum(axis=0) < k).any())
        cases.append(c)
    # Groups of 1..8 rows whose rows share most labels (as images of one patient would).
    n_groups = 400
    sizes = rng.integers(1, 9, n_groups)
    base_labels = multilabel_data(rng, n_groups, 10)
    rows, groups = [], []
    for g in range(n_groups):
        for _ in range(sizes[g]):
            row = base_labels[g].copy()
            flip = rng.random(10) < 0.05
            row[flip] = 1 - row[flip]
            rows.append(row)
            groups.append(g * 5 + 1)
    order = rng.permutation(len(rows))
    y = np.array(rows)[order]
    groups = np.array(groups)[order]
    # Random group baseline: groups in random order dealt round robin to the folds.
    unique = np.unique(groups)
    group_fold = {g: i % 5 for i, g in enumerate(unique[rng.permutation(len(unique))])}
    rand_folds = [int(group_fold[g]) for g in groups]
    c = base("msgkf_10_labels", "multilabel_stratified_group_kfold", 5, True, len(y),
             check="multilabel", y_cols=y.shape[1], y=ints(y.ravel()), groups=ints(groups))
    c["baseline_folds"] = rand_folds
    cases.append(c)
    cases.append(dict(c, name="msgkf_10_labels_noshuffle", shuffle=False))
    return cases


def sweep_cases():
    """Many small random data sets: exact folds for every deterministic reference splitter."""
    rng = np.random.default_rng(6)
    cases = []
    for i in range(20):
        n = int(rng.integers(12, 300))
        k = int(rng.integers(2, 8))
        n_classes = int(rng.integers(2, 11))
        probs = rng.dirichlet(np.ones(n_classes))
        y = rng.choice(n_classes, size=n, p=probs) * 2 - 3
        n_groups = int(rng.integers(k, max(k + 1, n // 2)))
        groups = rng.integers(0, n_groups, n) * 10 - 40
        for strategy, cv, with_y, with_groups in [
                ("stratified_kfold", StratifiedKFold(k), True, False),
                ("group_kfold", GroupKFold(k), False, True),
                ("stratified_group_kfold", StratifiedGroupKFold(k), True, True)]:
            if with_groups and len(np.unique(groups)) < k:
                continue
            extra = {}
            if with_y:
                extra["y"] = ints(y)
            if with_groups:
                extra["groups"] = ints(groups)
            c = base(f"sweep{i}_{strategy}", strategy, k, False, n, **extra)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                try:
                    c["folds"] = folds_from(cv, n, y if with_y else None,
                                            groups if with_groups else None)
                    c["check"] = "exact"
                    c["warns"] = any("least populated" in str(x.message) for x in w)
                except ValueError as e:
                    c["check"] = "error"
                    c["message"] = str(e)
            cases.append(c)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    write("kfold.json", kfold_cases())
    write("stratified_kfold.json", stratified_cases())
    write("group_kfold.json", group_cases())
    write("stratified_group_kfold.json", sgkf_cases())
    write("timeseries.json", timeseries_cases())
    write("multilabel.json", multilabel_cases())
    write("sweep.json", sweep_cases())


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes tests/golden/cases/metrics/*.json: reference values of every compe metric.

Run with Debian's /usr/bin/python3 (scikit-learn 1.2.1, scipy 1.10, numpy):
    /usr/bin/python3 tests/golden/gen/gen_metrics.py
Inputs live once in inputs.json (datasets shared by the metrics of a task); each <metric>.json
lists cases naming a dataset, whether weights are used, the spec compe is given, and the expected
value, or the error the reference raised. A reference that returns NaN (undefined, with a warning)
is recorded as an expected error too: compe raises there. Output is deterministic (fixed seeds).
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.stats
import sklearn
import sklearn.metrics as skm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases", "metrics")
SIZES = [1, 2, 7, 100, 1000]
TOLERANCE = 1e-9
SK = f"scikit-learn {sklearn.__version__}"
SP = f"scipy {scipy.__version__}"
NP = f"numpy {np.__version__}"

rng = np.random.default_rng(20240611)
datasets = {}


def put(name, y_true, y_pred, weights=None, true_cols=1, pred_cols=1, true_lists=None,
        pred_lists=None):
    d = {"true_cols": true_cols, "pred_cols": pred_cols}
    if y_true is not None:
        d["y_true"] = [float(v) if not float(v).is_integer() else int(v) for v in np.ravel(y_true)]
        d["y_pred"] = [float(v) if not float(v).is_integer() else int(v) for v in np.ravel(y_pred)]
    if true_lists is not None:
        d["true_lists"] = true_lists
        d["pred_lists"] = pred_lists
    n = len(true_lists) if true_lists is not None else len(np.ravel(y_true)) // true_cols
    if weights is None:
        weights = np.round(rng.uniform(0.05, 2.0, n), 3)
    d["weights"] = [float(w) for w in weights]
    datasets[name] = d
    return name


def weights_of(name):
    return np.array(datasets[name]["weights"])


# ---------------------------------------------------------------- datasets
def binary_sets():
    names = []
    for n in SIZES:
        y = rng.integers(0, 2, n)
        if n >= 2:
            y[0], y[1] = 0, 1  # both classes present
        p = np.clip(np.round(0.3 * y + 0.7 * rng.uniform(0, 1, n), 4), 0, 1)
        names.append(put(f"binary_{n}", y, p))
    y = rng.integers(0, 2, 200)
    names.append(put("binary_ties", y, np.round(rng.uniform(0, 1, 200), 1)))
    names.append(put("binary_all_equal", y[:50], np.full(50, 0.25)))
    names.append(put("binary_one_class", np.zeros(30), np.round(rng.uniform(0, 1, 30), 4)))
    names.append(put("binary_all_positive", np.ones(30), np.round(rng.uniform(0, 1, 30), 4)))
    return names


def dyadic_probs(n, k, denom=1024):
    cuts = np.sort(rng.integers(0, denom + 1, (n, k - 1)), axis=1)
    edges = np.concatenate([np.zeros((n, 1)), cuts, np.full((n, 1), denom)], axis=1)
    return np.diff(edges, axis=1) / denom


def multiclass_sets(k=4):
    names = []
    for n in SIZES:
        y = rng.integers(0, k, n)
        if n >= k:
            y[:k] = np.arange(k)
        p = dyadic_probs(n, k)
        # make the true class a bit more likely so scores are informative
        boost = dyadic_probs(n, k, 64)
        p = np.round((p + np.eye(k)[y] * boost.max(axis=1, keepdims=True)) /
                     (1 + boost.max(axis=1, keepdims=True)) * 1024) / 1024
        p[:, -1] = 1 - p[:, :-1].sum(axis=1)
        p = np.abs(p)
        p /= p.sum(axis=1, keepdims=True)
        p = np.round(p * 1024) / 1024
        p[:, -1] = 1 - p[:, :-1].sum(axis=1)
        names.append(put(f"multiclass_{n}", y, p, pred_cols=k))
    y = rng.integers(0, k, 120)
    y[:k] = np.arange(k)
    names.append(put("multiclass_ties", y, dyadic_probs(120, k, 4), pred_cols=k))
    names.append(put("multiclass_all_equal", y[:40], np.full((40, k), 1.0 / k), pred_cols=k))
    names.append(put("multiclass_one_class", np.full(25, 2), dyadic_probs(25, k), pred_cols=k))
    return names


def label_sets():
    names = []
    for n in SIZES:
        y = rng.choice([1, 2, 4, 5], n)
        p = np.where(rng.uniform(0, 1, n) < 0.6, y, rng.choice([0, 1, 2, 4, 5], n))
        names.append(put(f"labels_{n}", y, p))
    names.append(put("labels_all_equal", rng.choice([0, 1, 2], 40), np.full(40, 1)))
    names.append(put("labels_single", np.full(20, 3), np.full(20, 3)))
    return names


def regression_sets():
    names = []
    for n in SIZES:
        y = np.round(rng.lognormal(1.0, 1.0, n), 3)
        p = np.round(y * rng.lognormal(0.0, 0.3, n) + rng.normal(0, 0.2, n), 3)
        p = np.abs(p)
        names.append(put(f"regression_{n}", y, p))
    y = np.round(rng.normal(0, 2, 60), 2)
    names.append(put("regression_negative", y, np.round(y + rng.normal(0, 1, 60), 2)))
    y = np.round(rng.uniform(0, 3, 60), 0)
    p = np.where(rng.uniform(0, 1, 60) < 0.3, y, np.round(rng.uniform(0, 3, 60), 0))
    names.append(put("regression_ties_zeros", y, p))
    names.append(put("regression_all_equal", np.round(rng.uniform(0, 5, 40), 2), np.full(40, 2.5)))
    names.append(put("regression_constant_truth", np.full(40, 1.5), np.round(rng.uniform(0, 5, 40), 2)))
    return names


def multilabel_sets(k=3):
    names = []
    for n in SIZES:
        y = rng.integers(0, 2, (n, k))
        if n >= 2:
            y[0, :], y[1, :] = 0, 1
        p = np.clip(np.round(0.35 * y + 0.65 * rng.uniform(0, 1, (n, k)), 4), 0, 1)
        names.append(put(f"multilabel_{n}", y, p, true_cols=k, pred_cols=k))
    y = rng.integers(0, 2, (80, k))
    y[0, :], y[1, :] = 0, 1
    names.append(put("multilabel_ties", y, np.round(rng.uniform(0, 1, (80, k)), 1), true_cols=k,
                     pred_cols=k))
    y2 = y.copy()
    y2[:, 1] = 0
    names.append(put("multilabel_one_class_column", y2, np.round(rng.uniform(0, 1, (80, k)), 4),
                     true_cols=k, pred_cols=k))
    return names


def list_sets():
    names = []
    for n in SIZES:
        t, p = [], []
        for _ in range(n):
            t.append(sorted(set(int(v) for v in rng.integers(0, 12, rng.integers(0, 4)))))
            p.append([int(v) for v in rng.integers(0, 12, rng.integers(0, 11))])
        if n >= 1:
            t[0] = t[0] or [3]
        names.append(put(f"lists_{n}", None, None, true_lists=t, pred_lists=p))
    return names


def ndcg_sets(d=6):
    names = []
    for n in SIZES:
        rel = rng.integers(0, 4, (n, d))
        sc = np.round(rel * 0.3 + rng.uniform(0, 1, (n, d)), 3)
        names.append(put(f"ndcg_{n}", rel, sc, true_cols=d, pred_cols=d))
    rel = rng.integers(0, 4, (50, d))
    rel[0, :] = 0
    names.append(put("ndcg_ties", rel, np.round(rng.uniform(0, 1, (50, d)), 1), true_cols=d,
                     pred_cols=d))
    names.append(put("ndcg_one_doc", rng.integers(0, 4, (10, 1)), rng.uniform(0, 1, (10, 1)),
                     true_cols=1, pred_cols=1))
    return names


BINARY = binary_sets()
MULTICLASS = multiclass_sets()
LABELS = label_sets()
REGRESSION = regression_sets()
MULTILABEL = multilabel_sets()
LISTS = list_sets()
NDCG = ndcg_sets()


def arrays(name):
    d = datasets[name]
    y = np.array(d["y_true"], dtype=float)
    p = np.array(d["y_pred"], dtype=float)
    if d["true_cols"] > 1:
        y = y.reshape(-1, d["true_cols"])
    if d["pred_cols"] > 1:
        p = p.reshape(-1, d["pred_cols"])
    return y, p


def hard_labels(name):
    """The class labels compe derives (see Inputs in include/compe/metric.hpp)."""
    y, p = arrays(name)
    y = y.astype(int)
    if p.ndim == 2:
        return y, p.argmax(axis=1)
    if np.all(p == np.floor(p)):
        return y, p.astype(int)
    return y, (p > 0.5).astype(int)


# ---------------------------------------------------------------- references
def apk(actual, predicted, k):
    """Kaggle's average precision at k (ml_metrics.apk), from its definition."""
    if k is not None and len(predicted) > k:
        predicted = predicted[:k]
    score, hits = 0.0, 0.0
    for i, p in enumerate(predicted):
        if p in actual and p not in predicted[:i]:
            hits += 1.0
            score += hits / (i + 1.0)
    if not actual:
        return 0.0
    return score / (len(actual) if k is None else min(len(actual), k))


def mapk(actual, predicted, k):
    return float(np.mean([apk(a, p, k) for a, p in zip(actual, predicted)]))


def smape(y, p, w):
    den = np.abs(y) + np.abs(p)
    v = np.where(den == 0, 0.0, 200.0 * np.abs(p - y) / np.where(den == 0, 1.0, den))
    return np.average(v, weights=w)


def binary_only(fn):
    def call(name, w):
        y, p = arrays(name)
        if p.ndim == 2:
            raise ValueError("binary metric on multiclass scores")
        return fn(y, p, w)
    return call


def roc_auc(name, w):
    y, p = arrays(name)
    if p.ndim == 2:
        return skm.roc_auc_score(y, p, multi_class="ovr", average="macro", sample_weight=w)
    return skm.roc_auc_score(y, p, sample_weight=w)


def log_loss(name, w):
    y, p = arrays(name)
    labels = list(range(p.shape[1])) if p.ndim == 2 else [0, 1]
    return skm.log_loss(y, p, eps=1e-15, labels=labels, sample_weight=w)


def label_metric(fn, **kw):
    def call(name, w):
        y, p = hard_labels(name)
        return fn(y, p, sample_weight=w, **kw)
    return call


def regression(fn, **kw):
    def call(name, w):
        y, p = arrays(name)
        return fn(y, p, sample_weight=w, **kw) if w is not None else fn(y, p, **kw)
    return call


def correlation(fn):
    def call(name, w):
        y, p = arrays(name)
        return fn(y, p)[0]
    return call


def multilabel_log_loss(name, w):
    y, p = arrays(name)
    return float(np.mean([skm.log_loss(y[:, j], p[:, j], eps=1e-15, labels=[0, 1],
                                       sample_weight=w)
                          for j in range(y.shape[1])]))


def multilabel_auc(name, w):
    y, p = arrays(name)
    return skm.roc_auc_score(y, p, average="macro", sample_weight=w)


def multilabel_f1(average, t):
    def call(name, w):
        y, p = arrays(name)
        return skm.f1_score(y.astype(int), (p >= t).astype(int), average=average,
                            sample_weight=w, zero_division=0)
    return call


def map_at(k):
    def call(name, w):
        d = datasets[name]
        return mapk(d["true_lists"], d["pred_lists"], k)
    return call


def ndcg_at(k):
    def call(name, w):
        y, p = arrays(name)
        return skm.ndcg_score(np.atleast_2d(y).reshape(len(y), -1),
                              np.atleast_2d(p).reshape(len(p), -1), k=k, sample_weight=w)
    return call


CLASSIFY = BINARY + MULTICLASS + LABELS

# metric name -> (reference, version, call, [(spec, fn)], datasets, weights supported)
METRICS = {
    "roc_auc": (SK, "sklearn.metrics.roc_auc_score(y, p, sample_weight=w); multiclass: "
                "multi_class='ovr', average='macro'", [("roc_auc", roc_auc)],
                BINARY + MULTICLASS, True),
    "average_precision": (SK, "sklearn.metrics.average_precision_score(y, p, sample_weight=w)",
                          [("average_precision", binary_only(
                              lambda y, p, w: skm.average_precision_score(y, p, sample_weight=w)))],
                          BINARY, True),
    "log_loss": (SK, "sklearn.metrics.log_loss(y, p, eps=1e-15, labels=[0, 1] or range(k), "
                 "sample_weight=w)",
                 [("log_loss", log_loss)], BINARY + MULTICLASS, True),
    "accuracy": (SK, "sklearn.metrics.accuracy_score(y, labels(p), sample_weight=w)",
                 [("accuracy", label_metric(skm.accuracy_score))], CLASSIFY, True),
    "balanced_accuracy": (SK, "sklearn.metrics.balanced_accuracy_score(y, labels(p), "
                          "sample_weight=w)",
                          [("balanced_accuracy", label_metric(skm.balanced_accuracy_score))],
                          CLASSIFY, True),
    "mcc": (SK, "sklearn.metrics.matthews_corrcoef(y, labels(p), sample_weight=w)",
            [("mcc", label_metric(skm.matthews_corrcoef))], CLASSIFY, True),
    "qwk": (SK, "sklearn.metrics.cohen_kappa_score(y, labels(p), weights='quadratic', "
            "sample_weight=w)", [("qwk", label_metric(skm.cohen_kappa_score, weights="quadratic"))],
            CLASSIFY, True),
    "rmse": (SK, "sklearn.metrics.mean_squared_error(y, p, squared=False, sample_weight=w)",
             [("rmse", regression(skm.mean_squared_error, squared=False))], REGRESSION, True),
    "mse": (SK, "sklearn.metrics.mean_squared_error(y, p, sample_weight=w)",
            [("mse", regression(skm.mean_squared_error))], REGRESSION, True),
    "mae": (SK, "sklearn.metrics.mean_absolute_error(y, p, sample_weight=w)",
            [("mae", regression(skm.mean_absolute_error))], REGRESSION, True),
    "rmsle": (SK, "sklearn.metrics.mean_squared_log_error(y, p, squared=False, sample_weight=w)",
              [("rmsle", regression(skm.mean_squared_log_error, squared=False))], REGRESSION,
              True),
    "mape": (SK, "sklearn.metrics.mean_absolute_percentage_error(y, p, sample_weight=w)",
             [("mape", regression(skm.mean_absolute_percentage_error))], REGRESSION, True),
    "smape": (NP, "definition: numpy.average(where(|y|+|p| == 0, 0, 200|p-y|/(|y|+|p|)), "
              "weights=w)", [("smape", lambda name, w: smape(*arrays(name), w))], REGRESSION,
              True),
    "pinball": (SK, "sklearn.metrics.mean_pinball_loss(y, p, alpha=q, sample_weight=w)",
                [(f"pinball@{q}" if q != 0.5 else "pinball",
                  regression(skm.mean_pinball_loss, alpha=q)) for q in (0.5, 0.1, 0.9, 0.25)],
                REGRESSION, True),
    "r2": (SK, "sklearn.metrics.r2_score(y, p, sample_weight=w)",
           [("r2", regression(skm.r2_score))], REGRESSION, True),
    "median_ae": (SK, "sklearn.metrics.median_absolute_error(y, p, sample_weight=w)",
                  [("median_ae", regression(skm.median_absolute_error))], REGRESSION, True),
    "pearson": (SP, "scipy.stats.pearsonr(y, p)[0]",
                [("pearson", correlation(scipy.stats.pearsonr))], REGRESSION, False),
    "spearman": (SP, "scipy.stats.spearmanr(y, p)[0]",
                 [("spearman", correlation(scipy.stats.spearmanr))], REGRESSION, False),
    "multilabel_log_loss": (SK, "mean over columns j of sklearn.metrics.log_loss(Y[:, j], "
                            "P[:, j], eps=1e-15, labels=[0, 1], sample_weight=w)",
                            [("multilabel_log_loss", multilabel_log_loss)], MULTILABEL, True),
    "multilabel_auc": (SK, "sklearn.metrics.roc_auc_score(Y, P, average='macro', "
                       "sample_weight=w)", [("multilabel_auc", multilabel_auc)], MULTILABEL, True),
    "map": ("definition (Kaggle's apk/mapk)", "mean over rows of apk(actual, predicted, k)",
            [(f"map@{k}" if k else "map", map_at(k)) for k in (None, 1, 3, 5, 10)], LISTS, False),
    "ndcg": (SK, "sklearn.metrics.ndcg_score(Y, S, k=k, sample_weight=w)",
             [(f"ndcg@{k}" if k else "ndcg", ndcg_at(k)) for k in (None, 1, 3, 5)], NDCG, True),
}
for avg in ("micro", "macro", "samples"):
    METRICS[f"f1_{avg}_multilabel"] = (
        SK, f"sklearn.metrics.f1_score(Y, P >= t, average='{avg}', zero_division=0, "
        "sample_weight=w)",
        [(f"f1_{avg}_multilabel@{t}" if t != 0.5 else f"f1_{avg}_multilabel",
          multilabel_f1(avg, t)) for t in (0.5, 0.3, 0.7)], MULTILABEL, True)
for base, fn in (("f1", skm.f1_score), ("precision", skm.precision_score),
                 ("recall", skm.recall_score)):
    METRICS[base] = (SK, f"sklearn.metrics.{fn.__name__}(y, labels(p), sample_weight=w)",
                     [(base, label_metric(fn))], CLASSIFY, True)
    for avg in ("macro", "micro", "weighted"):
        METRICS[f"{base}_{avg}"] = (SK, f"sklearn.metrics.{fn.__name__}(y, labels(p), "
                                    f"average='{avg}', sample_weight=w)",
                                    [(f"{base}_{avg}", label_metric(fn, average=avg))], CLASSIFY,
                                    True)


def evaluate(fn, name, weighted):
    w = weights_of(name) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            v = float(fn(name, w))
        except Exception as e:  # the reference raised: compe must raise too
            return {"error": f"{type(e).__name__}: {e}"}
    if math.isnan(v) or math.isinf(v):
        return {"error": f"reference returned {v} (undefined)"}
    return {"expected": v}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    with open(os.path.join(OUT, "inputs.json"), "w") as f:
        json.dump({"generator": "tests/golden/gen/gen_metrics.py", "datasets": datasets}, f,
                  separators=(",", ":"))
        f.write("\n")
    for metric, (ref, call, specs, sets, weights) in METRICS.items():
        cases = []
        for spec, fn in specs:
            for name in sets:
                for weighted in ([False, True] if weights else [False]):
                    case = {"spec": spec, "data": name, "weighted": weighted}
                    case.update(evaluate(fn, name, weighted))
                    cases.append(case)
        doc = {"metric": metric, "reference": ref, "python": sys.version.split()[0],
               "call": call, "tolerance": TOLERANCE, "cases": cases}
        with open(os.path.join(OUT, f"{metric}.json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    print(f"wrote {len(METRICS)} metric files and {len(datasets)} datasets to {OUT}")


if __name__ == "__main__":
    main()

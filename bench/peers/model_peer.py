#!/usr/bin/python3
"""Peer of bench_model: the same k folds with xgboost's and scikit-learn's Python packages.

usage: model_peer.py DIR ROWS FEATURES ROUNDS   (DIR holds x.f32 and y.f32 from bench_model)
XGBoost: one DMatrix per fold from the numpy rows (the last two columns categorical).
scikit-learn: median imputation + missing indicator + scaling, one-hot for the categorical
columns, LogisticRegression(C=1, lbfgs) per fold.
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

d, n, p, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(f"{d}/x.f32", dtype=np.float32).reshape(n, p)
y = np.fromfile(f"{d}/y.f32", dtype=np.float32)
test = x[: n // 5]
k = 5
folds = np.arange(n) % k
types = ["q"] * (p - 2) + ["c", "c"]
params = {"eta": 0.1, "max_depth": 6, "nthread": 2, "tree_method": "hist", "max_cat_to_onehot": 1,
          "objective": "binary:logistic", "eval_metric": "logloss", "verbosity": 0}
out = {"rows": n, "features": p}

t0 = time.perf_counter()
oof = np.zeros(n)
for f in range(k):
    tr, va = folds != f, folds == f
    dtr = xgb.DMatrix(x[tr], label=y[tr], missing=np.nan, feature_types=types, enable_categorical=True)
    dva = xgb.DMatrix(x[va], label=y[va], missing=np.nan, feature_types=types, enable_categorical=True)
    dte = xgb.DMatrix(test, missing=np.nan, feature_types=types, enable_categorical=True)
    b = xgb.train(params, dtr, num_boost_round=rounds, evals=[(dtr, "train"), (dva, "valid")], verbose_eval=False)
    oof[va] = b.predict(dva)
    b.predict(dte)
out["xgboost_s"] = round(time.perf_counter() - t0, 4)
out["xgboost_auc"] = round(roc_auc_score(y, oof), 6)

num = list(range(p - 2))
t0 = time.perf_counter()
for f in range(k):
    tr, va = folds != f, folds == f
    ct = ColumnTransformer([
        ("num", Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())]), num),
        ("ind", MissingIndicator(features="missing-only"), num),
        ("cat", OneHotEncoder(handle_unknown="ignore"), [p - 2, p - 1]),
    ], sparse_threshold=0)
    a = ct.fit_transform(x[tr].astype(np.float64))
    m = LogisticRegression(C=1.0, max_iter=1000).fit(a, y[tr])
    oof[va] = m.predict_proba(ct.transform(x[va].astype(np.float64)))[:, 1]
    m.predict_proba(ct.transform(test.astype(np.float64)))
out["linear_s"] = round(time.perf_counter() - t0, 4)
out["linear_auc"] = round(roc_auc_score(y, oof), 6)
print(json.dumps(out))

#!/usr/bin/python3
"""Golden cases for the model backends (tests/golden/test_model_golden.cpp).

Run with Debian's Python: /usr/bin/python3 tests/golden/gen/gen_model.py
References: scikit-learn 1.2.1 (Ridge, LogisticRegression, SimpleImputer, StandardScaler,
OneHotEncoder) for `linear`; the xgboost 1.7.4 Python package for `xgboost`.
Writes tests/golden/cases/model/model_cases.json.
"""

import json
import os
import warnings

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.simplefilter("ignore")  # newton-cg reports tol=1e-10 as not reached; it is within 1e-9
# compe's linear cases set ftol = 0 (its default stops like scikit-learn's lbfgs, ~1e-5 from the optimum)
OUT = os.path.join(os.path.dirname(__file__), "..", "cases", "model", "model_cases.json")
rng = np.random.default_rng(20261126)

N_TRAIN, N_TEST = 240, 60
LEVELS = ["lyon", "oslo", "rome", "kyiv"]


def grid(x):
    # Values exactly representable in float32, so compe's float features equal the reference's.
    return np.round(x * 256.0) / 256.0


def make_side(n, test):
    x0 = grid(rng.normal(size=n))
    x1 = grid(rng.normal(size=n) * 3 + 1)
    x2 = grid(rng.uniform(-2, 2, size=n))
    x2[rng.uniform(size=n) < 0.15] = np.nan
    levels = LEVELS + (["baku"] if test else [])  # an unseen level in test
    p = [0.35, 0.25, 0.2, 0.1, 0.1] if test else [0.4, 0.3, 0.2, 0.1]
    city = rng.choice(levels, size=n, p=p)
    return x0, x1, x2, city


tr = make_side(N_TRAIN, False)
te = make_side(N_TEST, True)
effect = {"lyon": -1.0, "oslo": 0.0, "rome": 0.8, "kyiv": 1.5}
score = tr[0] - 0.4 * tr[1] + np.nan_to_num(tr[2]) + np.array([effect[c] for c in tr[3]])
noise = rng.normal(size=N_TRAIN) * 0.5
y_reg = grid(score + noise)
y_bin = (score + noise > 0.3).astype(int)
y_multi = np.digitize(score + noise, [-0.7, 0.9])

folds = np.arange(N_TRAIN) % 4
train_rows = np.flatnonzero(folds != 2)
valid_rows = np.flatnonzero(folds == 2)


def frame(side):
    x0, x1, x2, city = side
    return np.column_stack([x0, x1, x2]), city


Xn_tr, city_tr = frame(tr)
Xn_te, city_te = frame(te)


def design(train_idx):
    """The linear backend's preprocessing, fitted on the fold's train rows."""
    num = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    ct = ColumnTransformer([
        ("num", num, [0, 1, 2]),
        ("ind", MissingIndicator(features="missing-only"), [0, 1, 2]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), [3]),
    ], sparse_threshold=0)
    obj_tr = np.column_stack([Xn_tr.astype(object), city_tr])
    obj_te = np.column_stack([Xn_te.astype(object), city_te])
    ct.fit(obj_tr[train_idx])
    return (ct.transform(obj_tr[train_idx]).astype(float), ct.transform(obj_tr[valid_rows]).astype(float),
            ct.transform(obj_te).astype(float))


cases = []
d_tr, d_va, d_te = design(train_rows)

ridge = Ridge(alpha=2.5).fit(d_tr, y_reg[train_rows])
cases.append({"name": "ridge", "model": "linear", "task": "regression", "params": {"alpha": 2.5},
              "tolerance": 1e-9, "valid": ridge.predict(d_va).tolist(), "test": ridge.predict(d_te).tolist()})

# lbfgs stops on a relative loss change (~1e-5 off here); the Newton solvers reach the optimum.
logit = LogisticRegression(C=0.5, tol=1e-12, max_iter=1000, solver="newton-cholesky").fit(d_tr, y_bin[train_rows])
cases.append({"name": "logistic_binary", "model": "linear", "task": "binary", "params": {"C": 0.5, "tol": 1e-10, "ftol": 0.0},
              "tolerance": 1e-6, "valid": logit.predict_proba(d_va)[:, 1].tolist(),
              "test": logit.predict_proba(d_te)[:, 1].tolist()})

multi = LogisticRegression(C=2.0, tol=1e-10, max_iter=1000, solver="newton-cg").fit(d_tr, y_multi[train_rows])
cases.append({"name": "logistic_multinomial", "model": "linear", "task": "multiclass",
              "params": {"C": 2.0, "tol": 1e-10, "ftol": 0.0}, "tolerance": 1e-6,
              "valid": multi.predict_proba(d_va).ravel().tolist(), "test": multi.predict_proba(d_te).ravel().tolist()})


def xgb_matrix(rows_x, rows_city, label=None):
    # City codes as compe assigns them: train levels in ascending byte order; unseen -> missing.
    levels = sorted(set(city_tr))
    code = np.array([levels.index(c) if c in levels else np.nan for c in rows_city], dtype=float)
    x = np.column_stack([rows_x, code]).astype(np.float32)
    return xgb.DMatrix(x, label=label, missing=np.nan, feature_types=["q", "q", "q", "c"],
                       enable_categorical=True)


def xgb_case(name, task, label, params, rounds):
    dtrain = xgb_matrix(Xn_tr[train_rows], city_tr[train_rows], label[train_rows])
    dvalid = xgb_matrix(Xn_tr[valid_rows], city_tr[valid_rows], label[valid_rows])
    dtest = xgb_matrix(Xn_te, city_te)
    full = {"tree_method": "hist", "nthread": 1, "seed": 0, "max_cat_to_onehot": 1, **params}
    booster = xgb.train(full, dtrain, num_boost_round=rounds, evals=[(dtrain, "train"), (dvalid, "valid")],
                        verbose_eval=False)
    compe_params = {k: v for k, v in params.items() if k not in ("objective", "num_class")}
    # base_score 0.5 is XGBoost 1.7's default; compe's own default is the training rows' prior.
    compe_params.update({"num_boost_round": rounds, "early_stopping_rounds": 0, "max_cat_to_onehot": 1,
                         "base_score": 0.5})
    cases.append({"name": name, "model": "xgboost", "task": task, "params": compe_params, "tolerance": 1e-6,
                  "valid": booster.predict(dvalid).ravel().astype(float).tolist(),
                  "test": booster.predict(dtest).ravel().astype(float).tolist()})


xgb_case("xgboost_binary", "binary", y_bin,
         {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "subsample": 0.8}, 25)
xgb_case("xgboost_multiclass", "multiclass", y_multi,
         {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "eta": 0.3}, 15)
xgb_case("xgboost_regression", "regression", y_reg,
         {"objective": "reg:squarederror", "max_depth": 4, "eta": 0.2, "colsample_bytree": 0.7}, 30)


def column(values):
    return [None if (isinstance(v, float) and np.isnan(v)) else v for v in values]


doc = {
    "generator": "tests/golden/gen/gen_model.py",
    "references": {"scikit-learn": sklearn.__version__, "xgboost": xgb.__version__},
    "train": {"x0": column(tr[0].tolist()), "x1": column(tr[1].tolist()), "x2": column(tr[2].tolist()),
              "city": tr[3].tolist(), "y_regression": y_reg.tolist(), "y_binary": y_bin.tolist(),
              "y_multiclass": y_multi.tolist()},
    "test": {"x0": column(te[0].tolist()), "x1": column(te[1].tolist()), "x2": column(te[2].tolist()),
             "city": te[3].tolist()},
    "train_rows": train_rows.tolist(),
    "valid_rows": valid_rows.tolist(),
    "cases": cases,
}
with open(OUT, "w") as f:
    json.dump(doc, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")

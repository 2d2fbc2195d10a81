#!/usr/bin/python3
"""The python3-xgboost + scikit-learn equivalent of `compe run` on a compe workspace.

Reads the workspace's train/test CSVs and folds.csv (so both sides use the same folds), trains
one XGBoost model per fold with the given parameters, and prints the OOF score and the wall time
as JSON. Categorical (text) columns use pandas' category dtype with enable_categorical=True, as
compe's native categorical support does.

usage: pipeline_peer.py WORKSPACE PARAMS_JSON [--log1p] [--eval-valid]

--eval-valid evaluates the validation fold every round (evals=[(dvalid, "valid")]), as a
competitor does to watch the validation curve; compe always records that curve.
"""
import json
import pathlib
import sys
import time
import tomllib

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn import metrics


def main():
    t0 = time.perf_counter()
    ws = pathlib.Path(sys.argv[1])
    params = json.loads(sys.argv[2])
    log1p = "--log1p" in sys.argv
    eval_valid = "--eval-valid" in sys.argv
    cfg = tomllib.loads((ws / "compe.toml").read_text())
    comp, data = cfg["competition"], cfg["data"]
    train = pd.read_csv(ws / data["train"])
    folds = pd.read_csv(ws / "folds.csv")
    target = comp["target"] if isinstance(comp["target"], str) else comp["target"][0]
    idc = comp["id"]
    assert (folds["id"].astype(str).values == train[idc].astype(str).values).all()
    y = train[target].to_numpy(dtype=float)
    X = train.drop(columns=[idc, target])
    for c in X.columns:
        if X[c].dtype == object:
            X[c] = X[c].astype("category")
    rounds = params.pop("num_boost_round", 100)
    task = comp["task"]
    if task == "binary":
        params.setdefault("objective", "binary:logistic")
    else:
        params.setdefault("objective", "reg:squarederror")
    params.setdefault("tree_method", "hist")
    if task == "binary":
        params.setdefault("eval_metric", "auc")
    full = xgb.DMatrix(X, label=np.log1p(y) if log1p else y, enable_categorical=True, missing=np.nan)
    oof = np.full(len(y), np.nan)
    fold = folds["fold"].to_numpy()
    for f in sorted(set(fold[fold >= 0])):
        tr = np.where(fold != f)[0]
        va = np.where(fold == f)[0]
        dvalid = full.slice(va)
        evals = [(dvalid, "valid")] if eval_valid else []
        booster = xgb.train(params, full.slice(tr), num_boost_round=rounds, evals=evals,
                            verbose_eval=False)
        p = booster.predict(dvalid)
        oof[va] = np.expm1(p) if log1p else p
    m = comp["metric"]
    if m == "roc_auc":
        score = metrics.roc_auc_score(y, oof)
    elif m == "rmsle":
        score = float(np.sqrt(metrics.mean_squared_log_error(y, np.maximum(oof, 0))))
    elif m == "rmse":
        score = float(np.sqrt(metrics.mean_squared_error(y, oof)))
    else:
        raise SystemExit(f"metric {m} not handled by the peer script")
    print(json.dumps({"cv": score, "wall_seconds": time.perf_counter() - t0, "xgboost": xgb.__version__}))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Golden cases for `compe score`: a perturbed submission per bundled competition, scored with
scikit-learn on the Public rows, the Private rows and both.

Run from the repository root with Debian's python3 (scikit-learn 1.2.1, numpy, pandas):
    /usr/bin/python3 tests/golden/gen/gen_score.py
Writes tests/golden/cases/score/<competition>_submission.csv and <competition>.json.
"""
import json
import pathlib

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import mean_squared_log_error, roc_auc_score

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = ROOT / "tests/golden/cases/score"


def rmsle(y, p):
    return float(np.sqrt(mean_squared_log_error(y, p)))


def auc(y, p):
    return float(roc_auc_score(y, p))


METRICS = {"roc_auc": auc, "rmsle": rmsle}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for comp in ["titanic", "ames", "breast_cancer"]:
        data = ROOT / "examples" / comp / "data"
        meta = json.loads((data / "meta.json").read_text())
        sol = pd.read_csv(data / "solution.csv")
        target = meta["target"]
        rng = np.random.default_rng(20261126)
        y = sol[target].to_numpy(dtype=float)
        if meta["task"] == "binary":
            pred = np.clip(0.3 * y + 0.7 * rng.random(len(y)), 0, 1)
            pred = np.round(pred, 6)
        else:
            pred = np.round(y * np.exp(rng.normal(0, 0.15, len(y))), 2)
        sub = pd.DataFrame({meta["id"]: sol[meta["id"]], target: pred})
        # Shuffle row order: scoring matches by id, not position.
        sub = sub.sample(frac=1.0, random_state=7)
        sub_path = OUT / f"{comp}_submission.csv"
        sub.to_csv(sub_path, index=False)
        sub = pd.read_csv(sub_path)  # score exactly what was written
        merged = sol.merge(sub, on=meta["id"], suffixes=("", "_pred"))
        fn = METRICS[meta["metric"]]
        out = {"competition": comp, "metric": meta["metric"],
               "reference": f"scikit-learn {sklearn.__version__}: "
                            + ("roc_auc_score" if meta["metric"] == "roc_auc"
                               else "sqrt(mean_squared_log_error)"),
               "tolerance": 1e-9}
        for usage in ["Public", "Private"]:
            part = merged[merged["Usage"] == usage]
            out[usage.lower()] = fn(part[target], part[target + "_pred"])
        part = merged[merged["Usage"] != "Ignored"]
        out["overall"] = fn(part[target], part[target + "_pred"])
        (OUT / f"{comp}.json").write_text(json.dumps(out, indent=2) + "\n")
        print(comp, out["public"], out["private"])


if __name__ == "__main__":
    main()

"""scikit-learn's multinomial LogisticRegression on a compe workspace's folds (see
linear_multinomial.sh), the validation and test rows predicted in each fold as compe does:
standardised features, C = 1, lbfgs with its default max_iter (100) and
with max_iter = 1000. Prints {setting: {seconds, cpu_seconds, accuracy}} as JSON
(cpu_seconds: the process CPU time of the fits and predictions, every thread)."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ws = Path(sys.argv[1])
train = pd.read_csv(ws / "../data/letters/train.csv")
folds = pd.read_csv(ws / "folds.csv")
assert (folds["id"].to_numpy() == train["id"].to_numpy()).all()
y = train.pop("letter").to_numpy()
x = train.drop(columns=["id"]).to_numpy(dtype=float)
x_test = pd.read_csv(ws / "../data/letters/test.csv").drop(columns=["id"]).to_numpy(dtype=float)
out = {}
for max_iter in (100, 1000):
    seconds, cpu, pred = 0.0, 0.0, np.empty(len(y), dtype=object)
    for f in sorted(folds["fold"].unique()):
        tr, va = folds["fold"].to_numpy() != f, folds["fold"].to_numpy() == f
        t0, c0 = time.perf_counter(), time.process_time()
        scaler = StandardScaler().fit(x[tr])
        model = LogisticRegression(C=1.0, max_iter=max_iter).fit(scaler.transform(x[tr]), y[tr])
        pred[va] = model.predict(scaler.transform(x[va]))
        model.predict_proba(scaler.transform(x_test))  # compe predicts the test rows in every fold too
        seconds += time.perf_counter() - t0
        cpu += time.process_time() - c0
    out[f"scikit-learn max_iter={max_iter}"] = {"seconds": seconds, "cpu_seconds": cpu,
                                              "accuracy": float((pred == y).mean())}
print(json.dumps(out))

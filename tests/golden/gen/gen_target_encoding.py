"""Golden cases for compe's fold-safe target encoding (tests/golden/REFERENCES-model.md).

scikit-learn 1.2 (Debian) has no TargetEncoder (added in 1.3), so the reference is this numpy
implementation of 1.3's documented formula for smooth="auto" (binary or continuous target):

    lambda_c = n_c * var(y) / (n_c * var(y) + var_c)     (variances with ddof 0)
    enc_c    = lambda_c * mean_c + (1 - lambda_c) * mean(y)

mean(y), var(y) over every row the encoder is fitted on (a row with a missing level included);
mean(y) where lambda_c is undefined (a level without rows, or var(y) = var_c = 0). Missing
levels stay missing. fold_values: test rows and train rows outside the fit rows get the encoding
fitted on all fit rows; the fit rows themselves (cross-fitting) that of the fit rows at other
positions mod 5 (position i in the fit rows belongs to inner fold i % 5).

    /usr/bin/python3 tests/golden/gen/gen_target_encoding.py tests/golden/cases/model/target_encoding.json
"""
import json
import sys

import numpy as np

INNER = 5


def encode(levels, y, names):
    y = np.asarray(y, dtype=float)
    mean = y.mean() if len(y) else 0.0
    var = y.var() if len(y) else 0.0
    out = {}
    for name in names:
        mask = np.array([lv == name for lv in levels], dtype=bool)
        n = mask.sum()
        if n == 0:
            out[name] = mean
            continue
        m = y[mask].mean()
        v = y[mask].var()
        denom = var * n + v
        out[name] = mean if not denom > 0 else (var * n / denom) * m + (1 - var * n / denom) * mean
    return out


def case(rng, name, n_train, n_test, n_levels, binary, missing):
    names = [f"L{i}" for i in range(n_levels)]
    lv = [None if rng.random() < missing else names[rng.integers(0, n_levels)] for _ in range(n_train)]
    effect = rng.normal(size=n_levels)
    base = np.array([0.0 if x is None else effect[names.index(x)] for x in lv])
    if binary:
        y = (rng.random(n_train) < 1 / (1 + np.exp(-base))).astype(float)
    else:
        y = 3.0 * base + rng.normal(size=n_train)
    te = [None if rng.random() < missing else names[rng.integers(0, n_levels)] for _ in range(n_test)]
    fit = sorted(rng.choice(n_train, size=int(n_train * 0.8), replace=False).tolist())
    train_levels = sorted({x for x in lv if x is not None})
    full = encode([lv[r] for r in fit], [y[r] for r in fit], train_levels)
    train_out = [None if x is None else full[x] for x in lv]
    for k in range(INNER):
        own = [r for i, r in enumerate(fit) if i % INNER == k]
        rest = [r for i, r in enumerate(fit) if i % INNER != k]
        enc = encode([lv[r] for r in rest], [y[r] for r in rest], train_levels)
        for r in own:
            if lv[r] is not None:
                train_out[r] = enc[lv[r]]
    test_out = [None if x is None or x not in full else full[x] for x in te]
    return {"name": name, "task": "binary" if binary else "regression", "train_level": lv, "y": y.tolist(),
            "test_level": te, "fit_rows": fit, "train_encoded": train_out, "test_encoded": test_out}


def main():
    rng = np.random.default_rng(20261208)
    cases = [case(rng, "binary, 40 levels", 300, 80, 40, True, 0.05),
             case(rng, "regression, 12 levels", 200, 50, 12, False, 0.0),
             case(rng, "binary, rare levels", 120, 40, 90, True, 0.1)]
    doc = {"reference": "numpy " + np.__version__ + ", scikit-learn 1.3 TargetEncoder formula (smooth='auto')",
           "inner_folds": INNER, "tolerance": 1e-6, "cases": cases}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()

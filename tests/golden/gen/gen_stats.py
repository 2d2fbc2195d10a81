"""Golden cases for compe::stats (pearson, spearman, average_ranks) from scipy.

Each case holds two vectors and scipy's answers; NaN (degenerate input) is written as null.

  /usr/bin/python3 tests/golden/gen/gen_stats.py tests/golden/cases/stats/correlation.json
"""
import json
import math
import sys
import warnings

import numpy as np
import scipy
from scipy import stats


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def case(name, a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(a) >= 2:
            p = stats.pearsonr(a, b)[0]
            s = stats.spearmanr(a, b)[0]
        else:  # scipy refuses fewer than 2 points; compe documents NaN
            p = s = float("nan")
    return {"name": name, "a": a.tolist(), "b": b.tolist(), "pearson": num(p), "spearman": num(s),
            "ranks_a": stats.rankdata(a, method="average").tolist()}


def main():
    rng = np.random.default_rng(15)
    x = rng.normal(size=200)
    cases = [
        case("random_200", x, 0.6 * x + rng.normal(size=200)),
        case("negative", x[:50], -2 * x[:50] + 0.1 * rng.normal(size=50)),
        case("ties", np.round(rng.uniform(size=120), 1), np.round(rng.uniform(size=120), 1)),
        case("ties_monotone", [1, 2, 2, 3, 3, 3, 4], [10, 20, 20, 20, 30, 40, 40]),
        case("two_points", [1.0, 2.0], [5.0, 3.0]),
        case("large_offset", 1e8 + rng.uniform(size=30), 1e8 + rng.uniform(size=30)),
        case("constant_a", [0.1, 0.1, 0.1, 0.1], [1, 2, 3, 4]),
        case("constant_b", [1, 2, 3, 4], [7, 7, 7, 7]),
        case("one_point", [1.0], [2.0]),
        case("empty", [], []),
    ]
    doc = {"reference": f"scipy {scipy.__version__}, numpy {np.__version__}",
           "calls": "scipy.stats.pearsonr(a, b)[0], scipy.stats.spearmanr(a, b)[0], "
                    "scipy.stats.rankdata(a, method='average')",
           "tolerance": 1e-12, "cases": cases}
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

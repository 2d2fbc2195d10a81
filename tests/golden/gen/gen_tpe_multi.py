#!/usr/bin/python3
"""Writes tests/golden/cases/tpe/multi.json: Optuna 3.1.0's multi-objective TPE internals.

Run with Debian's interpreter (python3-optuna 3.1.0, numpy 1.24):
    /usr/bin/python3 tests/golden/gen/gen_tpe_multi.py

For loss vectors (every objective minimised; 2 and 3 objectives, with repeated points and
repeated coordinates), the reference is:
  ranks:   optuna.samplers._tpe.sampler._calculate_nondomination_rank(losses)
  below, above: optuna.samplers._tpe.sampler._split_observation_pairs(
             [(-inf, loss) ...], n_below, None)   (below in Optuna's selection order)
  weights: optuna.samplers._tpe.sampler._calculate_weights_below_for_multi_objective(
             [(-inf, loss) ...], below, None)
"""

import json
import os

import numpy as np
import optuna
from optuna.samplers._tpe import sampler as tpe

assert optuna.__version__ == "3.1.0", optuna.__version__

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "cases", "tpe", "multi.json")
rng = np.random.default_rng(2024)
cases = []
for n, d, n_below, grid in [(2, 2, 1, False), (5, 2, 3, False), (12, 2, 2, False),
                            (12, 2, 5, True), (30, 2, 3, False), (30, 2, 8, True),
                            (60, 2, 6, False), (8, 3, 3, False), (20, 3, 2, False),
                            (25, 3, 5, True), (40, 3, 4, False), (50, 2, 25, False)]:
    if grid:
        losses = rng.integers(0, 5, size=(n, d)).astype(float)  # ties and repeated points
    else:
        losses = rng.normal(size=(n, d))
        if d == 2:
            # Points near a front, so the ranks are not all singletons.
            t = rng.uniform(0, 1, size=n)
            losses = np.stack([t, 1 - t], axis=1) + 0.3 * rng.uniform(0, 1, size=(n, d))
    pairs = [(-float("inf"), list(map(float, row))) for row in losses]
    ranks = tpe._calculate_nondomination_rank(losses)
    below, above = tpe._split_observation_pairs(pairs, n_below, None)
    weights = tpe._calculate_weights_below_for_multi_objective(pairs, below, None)
    cases.append({
        "losses": losses.tolist(),
        "n_below": n_below,
        "ranks": [int(r) for r in ranks],
        "below": [int(i) for i in below],
        "above": [int(i) for i in above],
        "weights": [float(w) for w in weights],
    })
with open(out, "w") as f:
    json.dump({"reference": "optuna 3.1.0", "cases": cases}, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.relpath(out)}")

"""Shake-up simulation of `compe shake` on predictions given in memory: how much the private
leaderboard may re-rank candidate submissions."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Union

import numpy as np

from . import _compe
from ._convert import as_f64, fail


def shake(y_true: Any, candidates: Union[Mapping[str, Any], Sequence[Any]], metric: str,
          mode: str = "oof", public_fraction: float = 0.3, test_rows: int = 0, simulations: int = 1000,
          seed: int = 42, threads: int = 0, bins: int = 20) -> Dict[str, Any]:
    """Scores every candidate on the same simulated public/private splits and returns the CLI's
    `compe shake --json` document (per candidate: public/private/gap statistics, ranks, the
    share of simulations where it is #1 on private; per ordered pair: P(A beats B) on each side).

    y_true: the truth (n,) or (n, k); candidates: {name: predictions} (or a list, named "0", "1",
    ...), each laid out as compe.metrics.score takes them, all with the same number of columns.
    mode "oof": each simulation draws test_rows rows (0 = n) with replacement, the first
    round(public_fraction * test_rows) public; mode "solution": each simulation shuffles the n
    rows and splits them. Results depend on the seed only. The GIL is released."""
    if not isinstance(candidates, Mapping):
        candidates = {str(i): c for i, c in enumerate(candidates)}
    if not candidates:
        fail("shake: no candidate")
    yt = as_f64("y_true", y_true)
    names = [str(k) for k in candidates.keys()]
    preds = [as_f64(f"candidate '{k}'", v) for k, v in zip(names, candidates.values())]
    for k, p in zip(names, preds):
        if p.shape[0] != yt.shape[0]:
            fail(f"shake: candidate '{k}' has {p.shape[0]} rows, y_true has {yt.shape[0]}")
    if simulations < 1 or test_rows < 0 or seed < 0 or threads < 0 or bins < 1:
        fail("shake: simulations and bins must be >= 1; test_rows, seed and threads >= 0")
    return _compe.shake_simulate(metric, yt, names, [np.ascontiguousarray(p) for p in preds], mode,
                                 float(public_fraction), int(test_rows), int(simulations), int(seed),
                                 int(threads), int(bins))

"""Blending recorded runs (their out-of-fold and test predictions) into a new run."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _compe

PathLike = Union[str, "os.PathLike[str]"]


def methods() -> List[Dict[str, Any]]:
    """Every registered blend method."""
    return _compe.blend_methods()


def blend(runs: Sequence[str], workspace: PathLike = ".", method: str = "weights", record: bool = True,
          name: str = "", store: Optional[str] = None, allow_different_folds: bool = False,
          **params: Any) -> Dict[str, Any]:
    """Blends runs (ids, unique id prefixes, or folders holding oof.csv and test.csv) with a
    registered method, as `compe blend` does. `params`: power, steps, bags, bag_fraction, restarts,
    max_passes, tolerance, l2, seed. Returns the scores (oof_score: in-sample; nested_score: each
    fold fitted on the others), member scores and weights, and with record=True the new run's id.
    The GIL is released while blending."""
    return _compe.blend_runs(os.fspath(workspace), [str(r) for r in runs], method, dict(params), record, name,
                             store or "", " ".join(sys.argv), allow_different_folds)

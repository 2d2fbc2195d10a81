"""Fold-safe pseudo-labelling: a pseudo set and its experiment from a run's per-fold test
predictions, as `compe pseudo` makes them (docs/PSEUDO.md)."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Union

from . import _compe

PathLike = Union[str, "os.PathLike[str]"]


def pseudo(source_run: str, output: PathLike, workspace: PathLike = ".", *, threshold: Optional[float] = None,
           class_threshold: Optional[Mapping[str, float]] = None, top_k: Optional[int] = None,
           top_share: Optional[float] = None, max_share: float = 1.0, soft: bool = False,
           max_spread: Optional[float] = None, strategy: str = "concat", weight: float = 1.0, rounds: int = 1,
           pretrain_rounds: int = 100, leaky_fold_average: bool = False,
           experiment: Optional[PathLike] = None, store: Optional[str] = None) -> Dict[str, Any]:
    """Writes the pseudo set (pseudo/<run id>.csv) and the experiment `output` with its [pseudo]
    table; each fold's rows come from that fold's own model. With rounds > 1 also runs them, each
    round labelled by the previous round's run, and returns each round's run id and CV. Errors
    are compe.Error subclasses with the same messages as the CLI. The GIL is released."""
    return _compe.pseudo(os.fspath(workspace), str(source_run), os.fspath(output), threshold,
                         dict(class_threshold or {}), top_k, top_share, max_share, soft, max_spread, strategy,
                         weight, rounds, pretrain_rounds, leaky_fold_average,
                         os.fspath(experiment) if experiment else "", store or "")

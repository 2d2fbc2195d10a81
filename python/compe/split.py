"""Cross-validation folds from compe's splitters (`compe.folds(...)`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from . import _compe
from ._convert import as_f64, codes, fail


@dataclass
class Folds:
    """A fold assignment: `assignment[i]` is row i's validation fold (-1: never validated)."""

    assignment: np.ndarray
    k: int
    strategy: str
    warnings: List[str] = field(default_factory=list)
    _train: List[np.ndarray] = field(default_factory=list, repr=False)

    def valid_index(self, fold: int) -> np.ndarray:
        self._check(fold)
        return np.flatnonzero(self.assignment == fold)

    def train_index(self, fold: int) -> np.ndarray:
        """Rows that train `fold` (for timeseries: the earlier blocks, less the gap)."""
        self._check(fold)
        return self._train[fold]

    def __len__(self) -> int:
        return self.k

    def __iter__(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """(train_index, valid_index) per fold, like scikit-learn's split()."""
        for f in range(self.k):
            yield self.train_index(f), self.valid_index(f)

    def _check(self, fold: int) -> None:
        if not 0 <= fold < self.k:
            fail(f"fold {fold} is outside 0..{self.k - 1}")


def splitters() -> List[Dict[str, Any]]:
    """Every registered splitter with its traits."""
    return _compe.splitters()


def _target(y: Any, y_is_class: Optional[bool]) -> Tuple[np.ndarray, bool]:
    a = np.asarray(y)
    if a.ndim not in (1, 2):
        fail(f"y: expected a 1-D target or a 2-D multilabel matrix, got shape {a.shape}")
    if a.dtype == object or a.dtype.kind in "USb":
        if a.ndim != 1:
            fail("y: a 2-D target must hold 0/1 numbers")
        if y_is_class is False:
            fail(f"y: y_is_class=False needs numbers, got dtype {a.dtype}")
        return codes(a).astype(np.float64), True
    out = as_f64("y", a)
    if y_is_class is None:
        y_is_class = a.dtype.kind in "iu" or bool(np.all(np.isfinite(out)) and np.all(out == np.round(out)))
    return out, y_is_class


def folds(strategy: str = "kfold", k: int = 5, *, y: Any = None, groups: Any = None, time: Any = None,
          rows: Optional[int] = None, shuffle: bool = True, seed: int = 42, gap: int = 0, bins: int = 10,
          y_is_class: Optional[bool] = None) -> Folds:
    """Assigns rows to k folds with a registered splitter (see `splitters()`).

    `y`: the target (class labels of any type, numbers, or an n x L 0/1 matrix for multilabel);
    a float target with non-integral values is continuous (binned for stratification) unless
    `y_is_class` says otherwise. `groups`: any labels (encoded as numpy's unique does). `time`:
    an ordering key. `rows` is needed only when none of them is given.
    """
    n = rows
    y_arr = g_arr = t_arr = None
    is_class = True
    if y is not None:
        y_arr, is_class = _target(y, y_is_class)
        n = y_arr.shape[0]
    if groups is not None:
        g_arr = codes(groups)
        n = g_arr.shape[0] if n is None else n
    if time is not None:
        t_arr = as_f64("time", time, (1,))
        n = t_arr.shape[0] if n is None else n
    if n is None:
        fail("folds: give rows=, or y=, groups= or time=")
    assignment, train, warnings = _compe.assign_folds(strategy, k, shuffle, seed, gap, bins, int(n), y_arr,
                                                      is_class, g_arr, t_arr)
    return Folds(assignment=assignment, k=k, strategy=strategy, warnings=list(warnings), _train=list(train))

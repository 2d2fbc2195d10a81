"""numpy conversions with clear messages (the extension expects C-contiguous float64/int64)."""

from __future__ import annotations

from typing import Any, NoReturn, Sequence

import numpy as np

from . import _compe


def fail(message: str) -> NoReturn:
    raise _compe.InvalidArgumentError(message)


def as_f64(name: str, x: Any, ndims: Sequence[int] = (1, 2)) -> np.ndarray:
    """`x` as a C-contiguous float64 array of one of `ndims` dimensions (copied only if needed)."""
    a = np.asarray(x)
    if a.dtype == object or a.dtype.kind in "USVMm":
        fail(f"{name}: expected numbers, got an array of dtype {a.dtype}")
    if a.dtype.kind == "c":
        fail(f"{name}: expected real numbers, got complex dtype {a.dtype}")
    if a.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        fail(f"{name}: expected a {want} array, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float64)


def as_i64(name: str, x: Any) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1:
        fail(f"{name}: expected a 1-D array, got shape {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            fail(f"{name}: expected integers, got non-integral values")
    elif a.dtype.kind not in "iub":
        fail(f"{name}: expected integers, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


def codes(x: Any) -> np.ndarray:
    """Integer codes of any 1-D array's values in sorted order of the distinct values (as numpy's
    unique, which is how scikit-learn encodes classes and groups)."""
    a = np.asarray(x)
    if a.ndim != 1:
        fail(f"expected a 1-D array, got shape {a.shape}")
    if a.dtype == object:
        a = a.astype(str)
    return np.unique(a, return_inverse=True)[1].astype(np.int64)

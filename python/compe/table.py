"""Tables: compe's columnar tables, to and from numpy (and pandas, when installed)."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Mapping, Optional

import numpy as np

from . import _compe
from ._convert import fail

Table = _compe.Table


def read_csv(path: "str | os.PathLike[str]", dtypes: Optional[Mapping[str, str]] = None,
             threads: int = 0) -> Table:
    """Reads a CSV file with compe's reader (types inferred per column; `dtypes` forces some:
    "float64", "int64" or "string"). The GIL is released while parsing."""
    return _compe.read_csv(os.fspath(path), dict(dtypes or {}), threads)


def from_dict(columns: Mapping[str, Any], source: str = "") -> Table:
    """A Table from 1-D arrays: floats -> float64, integers and bools -> int64, text and objects ->
    string (None and NaN are missing). Values are copied once into the table."""
    t = _compe.Table()
    t.source = source
    for name, values in columns.items():
        a = np.asarray(values)
        if a.ndim != 1:
            fail(f"column '{name}': expected a 1-D array, got shape {a.shape}")
        if a.dtype.kind == "f":
            t.add_f64(name, np.ascontiguousarray(a, dtype=np.float64))
        elif a.dtype.kind in "iub":
            t.add_i64(name, np.ascontiguousarray(a, dtype=np.int64))
        elif a.dtype.kind in "USO":
            t.add_strings(name, [None if v is None or (isinstance(v, float) and v != v) else str(v)
                                 for v in a.tolist()])
        else:
            fail(f"column '{name}': dtype {a.dtype} is not supported (numbers or text)")
    return t


def _getitem(self: Table, name: str) -> np.ndarray:
    return self.column(name)


def _iter(self: Table) -> Iterator[str]:
    return iter(self.column_names)


def to_dict(self: Table) -> Dict[str, np.ndarray]:
    """Every column as numpy (views where the column allows it; see Table.column)."""
    return {name: self.column(name) for name in self.column_names}


def to_pandas(self: Table) -> Any:
    import pandas as pd  # optional dependency

    return pd.DataFrame(to_dict(self))


def from_pandas(frame: Any) -> Table:
    return from_dict({str(c): frame[c].to_numpy() for c in frame.columns})


Table.__getitem__ = _getitem
Table.__len__ = lambda self: self.num_rows
Table.__contains__ = lambda self, name: self.has(name)
Table.__iter__ = _iter
Table.__repr__ = lambda self: (f"<compe.Table {self.num_rows} rows x {self.num_columns} columns: "
                               f"{', '.join(self.column_names[:8])}{', ...' if self.num_columns > 8 else ''}>")
Table.to_dict = to_dict
Table.to_pandas = to_pandas
Table.from_dict = staticmethod(from_dict)
Table.from_pandas = staticmethod(from_pandas)

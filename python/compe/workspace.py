"""Competitions: a workspace folder with compe.toml, its data, folds and runs."""

from __future__ import annotations

import os
from typing import Optional, Union


from . import _compe

Workspace = _compe.Workspace

PathLike = Union[str, "os.PathLike[str]"]


def open_workspace(path: Optional[PathLike] = None) -> Workspace:
    """The workspace at `path`, or (None) the current folder's or its nearest parent's."""
    if path is None:
        return _compe.Workspace.discover(None)
    return _compe.Workspace.open(os.fspath(path))



Workspace.__repr__ = lambda self: f"<compe.Workspace {self.name!r} at {self.root} ({self.task}, {self.metric})>"

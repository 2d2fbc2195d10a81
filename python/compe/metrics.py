"""Every registered metric: `compe.metrics.score("qwk", y, p)`, `compe.metrics.list()`."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import _compe
from ._convert import as_f64, fail


@dataclass(frozen=True)
class MetricInfo:
    name: str
    aliases: Tuple[str, ...]
    summary: str
    direction: str  # "maximize" or "minimize"
    tasks: Tuple[str, ...]
    needs_proba: bool
    supports_weights: bool
    arg: str  # what may follow '@': none, optional_int, required_int, required_real, optional_real
    arg_help: str

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "maximize"


def _info(d: dict) -> MetricInfo:
    return MetricInfo(d["name"], tuple(d["aliases"]), d["summary"], d["direction"], tuple(d["tasks"]),
                      d["needs_proba"], d["supports_weights"], d["arg"], d["arg_help"])


def list() -> builtins.list[MetricInfo]:  # noqa: A001 - the issue's name for it
    """Every registered metric, in the registry's order."""
    return [_info(d) for d in _compe.metrics()]


def names() -> builtins.list[str]:
    return [d["name"] for d in _compe.metrics()]


def info(spec: str) -> MetricInfo:
    """The registry row of a spec ("qwk", "map@5"); NotFoundError names the closest metric."""
    return _info(_compe.metric_info(spec))


def default_for(task: str) -> str:
    return _compe.default_metric(task)


def _lists(name: str, rows: Any) -> Tuple[np.ndarray, np.ndarray]:
    offsets = [0]
    labels: builtins.list[int] = []
    for i, r in enumerate(rows):
        try:
            labels.extend(int(v) for v in r)
        except (TypeError, ValueError):
            fail(f"{name}: row {i}: expected a list of integer labels, got {r!r}")
        offsets.append(len(labels))
    return np.asarray(offsets, dtype=np.int64), np.asarray(labels, dtype=np.int64)


def _rows(x: Any) -> Any:
    """Label lists; a flat sequence of labels is one label per row."""
    if all(np.isscalar(v) for v in x):
        return [[v] for v in x]
    return x


def score(spec: str, y_true: Any, y_pred: Any, weights: Optional[Sequence[float]] = None) -> float:
    """Scores predictions with a registered metric (layouts as in include/compe/metric.hpp):
    binary y_pred (n,) or (n, 2); multiclass (n, k) probabilities or (n,) labels; regression (n,);
    multilabel (n, k); ranking map@k: lists of labels per row; detection (coco_map, coco_map50,
    kaggle_map, det_fbeta): y_true ground truth and y_pred detections per image as
    compe.detect.evaluate takes them (weights not supported). Arrays of other dtypes or memory
    orders are converted; other shapes are rejected with InvalidArgumentError. The GIL is
    released while scoring."""
    metric = info(spec)
    if "segmentation" in metric.tasks:
        fail(f"{metric.name}: segmentation metrics score RLE masks per (image, class); "
             "score a submission with `compe score` (docs/SEGMENTATION.md)")
    if "detection" in metric.tasks:
        if weights is not None:
            fail(f"{metric.name}: detection metrics take no weights")
        from . import detect
        return float(detect.evaluate(y_true, y_pred, metric=spec)["value"])
    if "ranking" in metric.tasks and metric.name == "map":
        to, tl = _lists("y_true", _rows(y_true))
        po, pl = _lists("y_pred", y_pred)
        empty = np.zeros(0)
        return _compe.metric_score(spec, empty, empty, None, to, tl, po, pl)
    yt = as_f64("y_true", y_true)
    yp = as_f64("y_pred", y_pred)
    if yt.shape[0] != yp.shape[0]:
        fail(f"{metric.name}: y_true has {yt.shape[0]} rows, y_pred has {yp.shape[0]}")
    w = None if weights is None else as_f64("weights", weights, (1,))
    return _compe.metric_score(spec, yt, yp, w)

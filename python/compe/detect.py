"""Object-detection box fusion (WBF, NMS, soft-NMS, NMW), following ensemble_boxes' conventions:
per model, boxes (n x 4, normalised x1, y1, x2, y2), scores (n) and labels (n).

compe has no detection metric (COCO mAP) yet; only fusion is exposed."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import _compe
from ._convert import as_f64, as_i64, fail

Fused = Tuple[np.ndarray, np.ndarray, np.ndarray]


def methods() -> List[Dict[str, Any]]:
    return _compe.fusion_methods()


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    return _compe.iou(as_f64("a", a, (1,)), as_f64("b", b, (1,)))


def _model(i: int, j: int, boxes: Any, scores: Any, labels: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = as_f64(f"image {i} model {j} boxes", boxes, (1, 2))
    if b.size and (b.ndim != 2 or b.shape[1] != 4):
        fail(f"image {i} model {j}: boxes must be n x 4 (x1, y1, x2, y2), got shape {b.shape}")
    return b, as_f64(f"image {i} model {j} scores", scores, (1,)), as_i64(f"image {i} model {j} labels", labels)


def _params(weights: Optional[Sequence[float]], iou_thr: Optional[float], skip_box_thr: float,
            options: Dict[str, Any]) -> Dict[str, Any]:
    p: Dict[str, Any] = dict(options)
    if weights is not None:
        p["weights"] = [float(w) for w in weights]
    if iou_thr is not None:
        p["iou_thr"] = float(iou_thr)
    if skip_box_thr:
        p["skip_box_thr"] = float(skip_box_thr)
    return p


def fuse(boxes_list: Sequence[Any], scores_list: Sequence[Any], labels_list: Sequence[Any],
         method: str = "wbf", weights: Optional[Sequence[float]] = None, iou_thr: Optional[float] = None,
         skip_box_thr: float = 0.0, **options: Any) -> Fused:
    """Fuses one image's detections from several models; returns (boxes, scores, labels).
    options: conf_type, allows_overflow, corrected_conf, soft_kind, sigma, thresh,
    decayed_scores, bad_boxes ("clip" or "error")."""
    if not len(boxes_list) == len(scores_list) == len(labels_list):
        fail(f"fuse: {len(boxes_list)} box lists, {len(scores_list)} score lists, {len(labels_list)} label lists")
    image = [_model(0, j, b, s, l) for j, (b, s, l) in enumerate(zip(boxes_list, scores_list, labels_list))]
    results, _ = _compe.fuse_batch(method, [image], _params(weights, iou_thr, skip_box_thr, options), 1)
    b, s, l, _m = results[0]
    return b, s, l


def fuse_batch(images: Sequence[Sequence[Tuple[Any, Any, Any]]], method: str = "wbf",
               weights: Optional[Sequence[float]] = None, iou_thr: Optional[float] = None,
               skip_box_thr: float = 0.0, threads: int = 0, **options: Any) -> Tuple[List[Fused], Dict[str, int]]:
    """Fuses many images in parallel (GIL released): images[i] is a list of (boxes, scores, labels)
    per model. Returns the fused (boxes, scores, labels) per image and a report of what was
    clipped, swapped or dropped."""
    converted = [[_model(i, j, *m) for j, m in enumerate(img)] for i, img in enumerate(images)]
    results, report = _compe.fuse_batch(method, converted, _params(weights, iou_thr, skip_box_thr, options),
                                        threads)
    return [(b, s, l) for b, s, l, _m in results], report

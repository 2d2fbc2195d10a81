"""Object detection: box fusion (WBF, NMS, soft-NMS, NMW), following ensemble_boxes' conventions,
and the detection metrics (COCO mAP, COCO AP50, the Kaggle per-image metric, F-beta over IoU
thresholds) with the readers of detection files.

Fusion takes, per model, boxes (n x 4, normalised x1, y1, x2, y2), scores (n) and labels (n).
Evaluation takes, per image, predictions as (boxes, scores, labels) and ground truth as
(boxes, labels) or (boxes, labels, crowd), in any one unit per image (pixels or normalised)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

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


# ---------------------------------------------------------------- detection metrics and files

Image = Tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class GroundTruth:
    """Ground truth per image: images[i] = (boxes n x 4, labels n, crowd n) of image_ids[i].
    categories: the labels COCO mAP averages over (a COCO file's categories, else those present);
    sizes: (width, height) per image id, from COCO annotations files."""
    image_ids: List[str]
    images: List[Image]
    categories: List[int] = field(default_factory=list)
    category_names: Dict[int, str] = field(default_factory=dict)
    sizes: Dict[str, Tuple[float, float]] = field(default_factory=dict)
    areas: List[np.ndarray] = field(default_factory=list)  # per image: COCO areas, NaN = the box's


@dataclass
class Detections:
    """Detections per image: images[i] = (boxes n x 4, scores n, labels n) of image_ids[i]."""
    image_ids: List[str]
    images: List[Image]


def _split(ids: List[str], offsets: np.ndarray, packed: np.ndarray) -> List[np.ndarray]:
    return [packed[offsets[i]:offsets[i + 1]] for i in range(len(ids))]


def read_ground_truth(path: str, format: str = "xyxy") -> GroundTruth:  # noqa: A002 - the CLI's name
    """Reads ground truth: a CSV (image_id,x1,y1,x2,y2,label[,iscrowd]; format "xywh" for
    image_id,x,y,w,h,...; a row with empty box cells names an image without objects) or a COCO
    annotations JSON (pixel corners; sizes filled in)."""
    ids, offsets, packed, categories, names, sizes = _compe.read_ground_truth(str(path), format)
    rows = _split(ids, offsets, packed)
    return GroundTruth(list(ids), [(r[:, :4].copy(), r[:, 5].astype(np.int64), r[:, 6] != 0) for r in rows],
                       [int(c) for c in categories], {int(k): v for k, v in names.items()},
                       {k: (float(w), float(h)) for k, (w, h) in sizes.items()},
                       [r[:, 7].copy() for r in rows])


def read_detections(path: str, format: str = "xyxy", with_label: bool = False) -> Detections:  # noqa: A002
    """Reads detections: a CSV (image_id,x1,y1,x2,y2,score,label, or xywh), a PredictionString
    CSV (image_id,PredictionString with "score x y w h ..."; with_label: "label score x y w h") or
    a COCO results JSON. Images appear in first-seen order."""
    ids, offsets, packed = _compe.read_detections(str(path), format, with_label)
    rows = _split(ids, offsets, packed)
    return Detections(list(ids), [(r[:, :4].copy(), r[:, 4].copy(), r[:, 5].astype(np.int64)) for r in rows])


def _pack(what: str, images: Sequence[Any], truth: bool,
          areas: Optional[Sequence[np.ndarray]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Per-image tuples as offsets and the n x 8 array _compe takes (x1, y1, x2, y2, score,
    label, crowd, area)."""
    offsets = [0]
    parts = []
    for i, img in enumerate(images):
        if img is None:
            offsets.append(offsets[-1])
            continue
        img = tuple(img)
        if truth and len(img) not in (2, 3):
            fail(f"{what}: image {i}: expected (boxes, labels) or (boxes, labels, crowd), got {len(img)} items")
        if not truth and len(img) != 3:
            fail(f"{what}: image {i}: expected (boxes, scores, labels), got {len(img)} items")
        b = as_f64(f"{what} image {i} boxes", img[0], (1, 2))
        if b.size == 0:
            b = b.reshape(0, 4)
        if b.ndim != 2 or b.shape[1] != 4:
            fail(f"{what}: image {i}: boxes must be n x 4 (x1, y1, x2, y2), got shape {b.shape}")
        n = b.shape[0]
        if truth:
            labels = as_i64(f"{what} image {i} labels", img[1])
            scores = np.zeros(n)
            crowd = np.zeros(n) if len(img) == 2 else as_f64(f"{what} image {i} crowd", img[2], (1,))
        else:
            scores = as_f64(f"{what} image {i} scores", img[1], (1,))
            labels = as_i64(f"{what} image {i} labels", img[2])
            crowd = np.zeros(n)
        for name, v in (("labels", labels), ("scores", scores), ("crowd", crowd)):
            if v.shape[0] != n:
                fail(f"{what}: image {i}: {n} boxes but {v.shape[0]} {name}")
        area = np.full(n, np.nan) if areas is None else as_f64(f"{what} image {i} areas", areas[i], (1,))
        parts.append(np.column_stack([b, scores, labels.astype(np.float64), crowd, area]))
        offsets.append(offsets[-1] + n)
    packed = np.ascontiguousarray(np.concatenate(parts)) if parts else np.zeros((0, 8))
    return np.asarray(offsets, dtype=np.int64), packed


GtInput = Union[GroundTruth, Mapping[str, Any], Sequence[Any]]
PredInput = Union[Detections, Mapping[str, Any], Sequence[Any]]


def evaluate(gt: GtInput, pred: PredInput, metric: str = "coco_map",
             categories: Optional[Sequence[int]] = None) -> Dict[str, Any]:
    """Scores detections against ground truth with a detection metric: coco_map (also "map"),
    coco_map50 ("map50"), kaggle_map[@min_score], det_fbeta[@beta] ("fbeta@2"), as
    `compe wbf eval`. gt and pred are either lists with one entry per image (same length; an
    entry may be None for no boxes), or GroundTruth / dicts keyed by image id with pred a
    Detections / dict whose ids must all be in gt (images without predictions have none).
    Both sides must use the same units. Returns {"metric", "value", "direction", "images",
    "gt_boxes", "pred_boxes", "coco": the 12 COCO statistics (AP, AP50, ..., AR_large; -1 where
    nothing is evaluable), "per_class": [{"label", "ap", "ap50"}]}. The GIL is released."""
    areas = None
    if isinstance(gt, GroundTruth):
        ids, gt_images = gt.image_ids, gt.images
        areas = gt.areas if len(gt.areas) == len(ids) else None
        if categories is None and gt.categories:
            categories = gt.categories
    elif isinstance(gt, Mapping):
        ids, gt_images = [str(k) for k in gt.keys()], list(gt.values())
    else:
        ids, gt_images = None, list(gt)
    if isinstance(pred, Detections):
        pred = dict(zip(pred.image_ids, pred.images))
    if isinstance(pred, Mapping):
        if ids is None:
            fail("evaluate: predictions keyed by image id need ground truth keyed by image id "
                 "(a dict or GroundTruth)")
        index = {k: i for i, k in enumerate(ids)}
        pred_images: List[Any] = [None] * len(ids)
        for k, v in pred.items():
            if str(k) not in index:
                fail(f"evaluate: predictions: image_id '{k}' is not in the ground truth ({len(ids)} images); "
                     "predictions must be for known images")
            pred_images[index[str(k)]] = v
    else:
        pred_images = list(pred)
        if len(pred_images) != len(gt_images):
            fail(f"evaluate: {len(gt_images)} ground-truth images, {len(pred_images)} prediction images")
    go, gp = _pack("ground truth", gt_images, True, areas)
    po, pp = _pack("predictions", pred_images, False)
    cats = None if categories is None else as_i64("categories", list(categories))
    return _compe.detection_evaluate(metric, go, gp, po, pp, cats)

import json
import os
import subprocess

import numpy as np
import pytest

import compe

GT = [(np.array([[0, 0, 10, 10.0]]), np.array([0]))]
# IoU 58 / 100 = 0.58 with the ground truth: a match at 0.5 and 0.55, not from 0.6 on.
HIT = [0, 0, 5.8, 10.0]
FAR = [20, 20, 30, 30.0]


def test_hand_computed_single_box():
    pred = [(np.array([HIT]), np.array([0.9]), np.array([0]))]
    # COCO: AP 1 at the 2 passing thresholds of 10 -> 0.2; AP50 = 1.
    assert compe.metrics.score("coco_map", GT, pred) == pytest.approx(0.2, abs=1e-12)
    assert compe.metrics.score("coco_map50", GT, pred) == pytest.approx(1.0, abs=1e-12)
    # Kaggle: thresholds .5 .. .75 (6): 1 / (1 + 0 + 0) twice, 0 / (0 + 1 + 1) four times.
    assert compe.metrics.score("kaggle_map", GT, pred) == pytest.approx(2 / 6, abs=1e-12)
    # F1 over .3 .. .8 (11): 1 at the 6 thresholds up to .55, 0 above.
    assert compe.metrics.score("det_fbeta", GT, pred) == pytest.approx(6 / 11, abs=1e-12)


def test_hand_computed_with_a_false_positive():
    pred = [(np.array([HIT, FAR]), np.array([0.9, 0.5]), np.array([0, 0]))]
    r = compe.detect.evaluate(GT, pred, metric="map")
    # The miss ranks below the hit: precision stays 1 up to full recall, AP unchanged.
    assert r["metric"] == "coco_map" and r["value"] == pytest.approx(0.2, abs=1e-12)
    assert r["coco"]["AP50"] == pytest.approx(1.0) and r["coco"]["AP75"] == 0
    assert r["coco"]["AP_small"] == pytest.approx(0.2) and r["coco"]["AP_medium"] == -1
    assert r["images"] == 1 and r["gt_boxes"] == 1 and r["pred_boxes"] == 2
    assert r["per_class"] == [{"label": 0, "ap": pytest.approx(0.2), "ap50": pytest.approx(1.0)}]
    # Kaggle: 1 / (1 + 1 + 0) at 2 thresholds, 0 at 4 -> 1/6.
    assert compe.detect.evaluate(GT, pred, "kaggle_map")["value"] == pytest.approx(1 / 6, abs=1e-12)
    # The false positive falls below kaggle_map@0.6's score cut: back to 2/6.
    assert compe.detect.evaluate(GT, pred, "kaggle_map@0.6")["value"] == pytest.approx(2 / 6, abs=1e-12)
    # F1 = 2TP / (2TP + FN + FP) = 2/3 at 6 of 11; F2 = 5TP / (5TP + 4FN + FP) = 5/6.
    assert compe.detect.evaluate(GT, pred, "det_fbeta")["value"] == pytest.approx(6 * (2 / 3) / 11, abs=1e-12)
    assert compe.detect.evaluate(GT, pred, "fbeta@2")["value"] == pytest.approx(6 * (5 / 6) / 11, abs=1e-12)


def test_labels_crowd_and_ids():
    # Another label does not match; a crowd box is ignored by COCO (nothing left to evaluate).
    pred = [(np.array([HIT]), np.array([0.9]), np.array([1]))]
    assert compe.metrics.score("coco_map50", [(np.array([[0, 0, 10, 10.0]]), [0]), None],
                               [pred[0], None]) == 0.0
    # A detection inside a crowd region is neither a hit nor a false positive for COCO.
    crowd = [(np.array([[0, 0, 10, 10.0], [50, 50, 100, 100]]), np.array([0, 0]), np.array([0, 1]))]
    inside = [(np.array([HIT, [55, 55, 95, 95]]), np.array([0.9, 0.95]), np.array([0, 0]))]
    assert compe.metrics.score("coco_map", crowd, inside) == pytest.approx(0.2, abs=1e-12)
    only_crowd = [(np.array([[0, 0, 10, 10.0]]), np.array([0]), np.array([1]))]
    with pytest.raises(compe.InvalidArgumentError, match="no object that is not a crowd region"):
        compe.detect.evaluate(only_crowd, [(np.array([HIT]), [0.9], [0])])
    # Keyed by image id: images without predictions have none.
    gt = {"a": GT[0], "b": (np.zeros((0, 4)), np.zeros(0, dtype=int))}
    assert compe.detect.evaluate(gt, {"a": (np.array([HIT]), [0.9], [0])}, "kaggle_map")["value"] == \
        pytest.approx((2 / 6 + 1) / 2)
    with pytest.raises(compe.InvalidArgumentError, match="image_id 'c' is not in the ground truth"):
        compe.detect.evaluate(gt, {"c": (np.array([HIT]), [0.9], [0])})
    with pytest.raises(compe.InvalidArgumentError, match="1 ground-truth images, 2 prediction images"):
        compe.detect.evaluate(GT, [None, None])
    with pytest.raises(compe.InvalidArgumentError, match=r"boxes must be n x 4"):
        compe.detect.evaluate(GT, [(np.zeros((1, 3)), [0.9], [0])])
    with pytest.raises(compe.InvalidArgumentError, match="1 boxes but 2 scores"):
        compe.detect.evaluate(GT, [(np.array([HIT]), [0.9, 0.8], [0])])
    with pytest.raises(compe.InvalidArgumentError, match="not a detection metric|detection"):
        compe.detect.evaluate(GT, [None], metric="rmse")
    with pytest.raises(compe.InvalidArgumentError, match="no weights"):
        compe.metrics.score("coco_map", GT, [None], weights=[1.0])


def write_files(tmp_path, seed=5, images=12):
    rng = np.random.default_rng(seed)
    gt_rows, pred_rows = ["image_id,x1,y1,x2,y2,label"], ["image_id,x1,y1,x2,y2,score,label"]
    for i in range(images):
        n = int(rng.integers(0, 5))
        if n == 0:
            gt_rows.append(f"img{i},,,,,")
        for _ in range(n):
            x, y = rng.random(2) * 400
            w, h = 10 + rng.random(2) * 150
            label = int(rng.integers(0, 3))
            gt_rows.append(f"img{i},{x!r},{y!r},{x + w!r},{y + h!r},{label}")
            if rng.random() < 0.8:  # a noisy detection of it
                dx, dy, dw, dh = rng.normal(size=4) * 8
                pred_rows.append(f"img{i},{x + dx!r},{y + dy!r},{x + w + dw!r},{y + h + dh!r},"
                                 f"{rng.random()!r},{label if rng.random() < 0.9 else (label + 1) % 3}")
        for _ in range(int(rng.integers(0, 3))):  # false positives
            x, y = rng.random(2) * 400
            pred_rows.append(f"img{i},{x!r},{y!r},{x + 40!r},{y + 30!r},{rng.random()!r},{int(rng.integers(0, 3))}")
    (tmp_path / "gt.csv").write_text("\n".join(gt_rows) + "\n")
    (tmp_path / "pred.csv").write_text("\n".join(pred_rows) + "\n")
    return tmp_path / "gt.csv", tmp_path / "pred.csv"


def test_readers(tmp_path):
    gt_path, pred_path = write_files(tmp_path)
    gt = compe.detect.read_ground_truth(gt_path)
    pred = compe.detect.read_detections(pred_path)
    assert gt.image_ids == [f"img{i}" for i in range(12)]
    assert sum(len(b) for b, _, _ in gt.images) == sum(
        1 for line in gt_path.read_text().splitlines()[1:] if ",,,," not in line)
    assert sum(len(b) for b, _, _ in pred.images) == len(pred_path.read_text().splitlines()) - 1
    first = pred_path.read_text().splitlines()[1].split(",")
    i = pred.image_ids.index(first[0])
    assert pred.images[i][0][0].tolist() == [float(v) for v in first[1:5]]
    assert pred.images[i][1][0] == float(first[5]) and pred.images[i][2][0] == int(first[6])
    assert gt.categories == sorted({int(l) for _, ls, _ in gt.images for l in ls})
    with pytest.raises(compe.NotFoundError):
        compe.detect.read_detections(tmp_path / "missing.csv")


@pytest.mark.parametrize("metric", ["map", "map50", "kaggle_map", "kaggle_map@0.3", "fbeta@2"])
def test_matches_the_cli(tmp_path, metric):
    cli = os.environ.get("COMPE_BIN")
    if not cli:
        pytest.skip("COMPE_BIN not set (CTest sets it)")
    gt_path, pred_path = write_files(tmp_path)
    out = subprocess.run([cli, "wbf", "eval", str(pred_path), "--gt", str(gt_path), "--metric", metric, "--json"],
                         capture_output=True, text=True, check=True)
    want = json.loads(out.stdout)
    got = compe.detect.evaluate(compe.detect.read_ground_truth(gt_path), compe.detect.read_detections(pred_path),
                                metric=metric)
    assert got["metric"] == want["metric"]
    assert got["value"] == pytest.approx(want["value"], abs=1e-12)
    assert 0 < got["value"] < 1
    for k, v in want["coco"].items():
        assert got["coco"][k] == pytest.approx(v, abs=1e-12), k
    assert [c["ap"] for c in got["per_class"]] == pytest.approx([c["ap"] for c in want["per_class"]], abs=1e-12)
    assert (got["images"], got["gt_boxes"], got["pred_boxes"]) == (want["images"], want["gt_boxes"],
                                                                  want["pred_boxes"])
    # Plain lists of per-image tuples give the same value.
    gt = compe.detect.read_ground_truth(gt_path)
    pred = compe.detect.read_detections(pred_path)
    by_id = dict(zip(pred.image_ids, pred.images))
    assert compe.metrics.score(want["metric"], [(b, l, c) for b, l, c in gt.images],
                               [by_id.get(i) for i in gt.image_ids]) == pytest.approx(want["value"], abs=1e-12)


def test_shake():
    rng = np.random.default_rng(1)
    y = np.tile([0, 1], 150)
    good = y * 0.3 + rng.random(300) * 0.7
    close = y * 0.29 + rng.random(300) * 0.71
    noise = rng.random(300)
    r = compe.shake(y, {"good": good, "close": close, "noise": noise}, "roc_auc", simulations=300, seed=3)
    assert r["metric"] == "roc_auc" and r["mode"] == "oof" and r["simulations"] == 300
    assert (r["public_rows"], r["private_rows"]) == (90, 210)
    names = [c["name"] for c in r["candidates"]]
    assert names == ["good", "close", "noise"]
    c = {c["name"]: c for c in r["candidates"]}
    assert c["noise"]["p_private_best"] == 0 and c["noise"]["mean_private_rank"] == 3
    assert c["good"]["p_private_best"] + c["close"]["p_private_best"] == pytest.approx(1)
    assert c["good"]["public"]["p5"] <= c["good"]["public"]["p50"] <= c["good"]["public"]["p95"]
    assert sum(c["good"]["gap_histogram"]) == 300 and len(r["gap_edges"]) == 21
    assert len(r["pairs"]) == 6 and all(0 <= p["p_a_private"] <= 1 for p in r["pairs"])
    # The mean private score over resamples is close to the full-data score.
    assert c["good"]["private"]["mean"] == pytest.approx(compe.metrics.score("roc_auc", y, good), abs=0.01)
    # Deterministic by seed, and other seeds differ.
    again = compe.shake(y, {"good": good, "close": close, "noise": noise}, "roc_auc", simulations=300, seed=3,
                        threads=1)
    assert again["candidates"] == r["candidates"]
    other = compe.shake(y, [good, close], "roc_auc", simulations=300, seed=4, mode="solution")
    assert other["mode"] == "solution" and [x["name"] for x in other["candidates"]] == ["0", "1"]
    with pytest.raises(compe.InvalidArgumentError, match="public"):
        compe.shake(y, [good], "roc_auc", public_fraction=1.5)
    with pytest.raises(compe.InvalidArgumentError, match="299 rows, y_true has 300"):
        compe.shake(y, [good[:-1]], "roc_auc")
    with pytest.raises(compe.InvalidArgumentError, match="mode 'x'"):
        compe.shake(y, [good], "roc_auc", mode="x")


def test_coco_files_match_the_cli(tmp_path):
    """COCO annotations (with a crowd region, an annotated area and a category without objects)
    and COCO results JSON, read from Python and scored as `compe wbf eval` does."""
    rng = np.random.default_rng(9)
    images, anns, results = [], [], []
    for i in range(8):
        images.append({"id": i + 1, "width": 640, "height": 480, "file_name": f"{i}.jpg"})
        for k in range(int(rng.integers(1, 5))):
            x, y = rng.random(2) * 250
            w, h = 5 + rng.random(2) * 200
            cat = int(rng.integers(1, 3))
            ann = {"id": len(anns) + 1, "image_id": i + 1, "category_id": cat, "bbox": [x, y, w, h],
                   "iscrowd": int(k == 3)}
            if k == 2:
                ann["area"] = w * h * 0.5  # a segmentation's area, smaller than the box's
            anns.append(ann)
            dx, dy = np.minimum(np.abs(rng.normal(size=2) * 6), 10)  # stays inside the image
            results.append({"image_id": i + 1, "category_id": cat, "bbox": [x + dx, y + dy, w, h],
                            "score": float(rng.random())})
        results.append({"image_id": i + 1, "category_id": 1, "bbox": [400.0, 300.0, 50.0, 40.0],
                        "score": float(rng.random())})
    cats = [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}, {"id": 3, "name": "bike"}]
    gt_path, pred_path = tmp_path / "gt.json", tmp_path / "pred.json"
    gt_path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    pred_path.write_text(json.dumps(results))

    gt = compe.detect.read_ground_truth(gt_path)
    pred = compe.detect.read_detections(pred_path)
    assert gt.image_ids == [str(i + 1) for i in range(8)] and gt.categories == [1, 2, 3]
    assert gt.category_names == {1: "car", 2: "bus", 3: "bike"} and gt.sizes["3"] == (640.0, 480.0)
    assert sum(int(c.sum()) for _, _, c in gt.images) == sum(a["iscrowd"] for a in anns)
    assert sum(int(np.isfinite(a).sum()) for a in gt.areas) == sum("area" in a for a in anns)
    got = compe.detect.evaluate(gt, pred)
    assert [c["label"] for c in got["per_class"]] == [1, 2, 3] and got["per_class"][2]["ap"] == -1
    cli = os.environ.get("COMPE_BIN")
    if not cli:
        pytest.skip("COMPE_BIN not set (CTest sets it)")
    want = json.loads(subprocess.run([cli, "wbf", "eval", str(pred_path), "--gt", str(gt_path), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    assert got["value"] == pytest.approx(want["value"], abs=1e-12) and 0 < got["value"] < 1
    for k, v in want["coco"].items():
        assert got["coco"][k] == pytest.approx(v, abs=1e-12), k
    # The annotated areas count: without them some area-range statistics differ.
    plain = compe.detect.evaluate([img for img in gt.images], [dict(zip(pred.image_ids, pred.images))[i]
                                                              for i in gt.image_ids], categories=gt.categories)
    assert plain["coco"] != got["coco"]

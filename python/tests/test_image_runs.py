"""Detection and segmentation runs logged from Python (start_run(...).log_image_fold)."""

import csv
import os
import shutil

import pytest

import compe

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "images")


def workspace(tmp_path, kind):
    shutil.copytree(os.path.join(DATA, kind), tmp_path / "data")
    compe_toml = {
        "detection": 'classes = ["cat", "dog"]\nmetric = "coco_map50"',
        "segmentation": 'classes = ["top", "shoes"]\nmetric = "dice"',
    }[kind]
    gt = "boxes = \"data/train_boxes.csv\"" if kind == "detection" else "masks = \"data/train_masks.csv\""
    (tmp_path / "compe.toml").write_text(f"""[competition]
name = "tiny"
task = "{kind}"
id = "id"
{compe_toml}

[data]
train = "data/train.csv"
test = "data/test.csv"
sample_submission = "data/sample_submission.csv"
{gt}

[folds]
strategy = "kfold"
k = 2
""")
    return tmp_path


def truth_boxes(root, ids):
    cols = {c: [] for c in ("image_id", "x1", "y1", "x2", "y2", "score", "label")}
    for r in csv.DictReader(open(root / "data" / "train_boxes.csv")):
        if r["image_id"] in ids and r["x1"]:
            for c in ("image_id", "x1", "y1", "x2", "y2", "label"):
                cols[c].append(r[c] if c == "image_id" else float(r[c]))
            cols["score"].append(0.8)
    return cols


def test_a_detection_run_logged_from_python_scores_its_boxes(tmp_path):
    root = workspace(tmp_path, "detection")
    with compe.start_run(root, name="boxes") as run:
        assert run.task == "detection"
        ids = run._rec.validated_ids()
        for fold in range(run.num_folds):
            valid = {ids[i] for i in run.valid_index(fold)}
            score = run.log_image_fold(fold, truth_boxes(root, valid),
                                       test={"image_id": ["10", "11"], "x1": [1, 2], "y1": [1, 2], "x2": [5, 6],
                                             "y2": [5, 6], "score": [0.5, 0.5], "label": [0, 1]})
            assert score == 1.0
    assert run.cv_score == 1.0
    files = os.listdir(run.dir)
    for name in ("oof_boxes.csv", "test_boxes_folds.csv", "test_boxes.csv", "submission.csv"):
        assert name in files
    run_json = compe.Store(os.path.join(root, ".compe", "compe.db")).run(run.id)
    assert run_json["oof"].endswith("oof_boxes.csv")


def test_log_image_fold_refuses_an_image_of_another_fold_and_a_bad_score(tmp_path):
    root = workspace(tmp_path, "detection")
    with compe.start_run(root, name="bad") as run:
        ids = run._rec.validated_ids()
        other = ids[run.valid_index(1)[0]]
        box = {"image_id": [other], "x1": [1], "y1": [1], "x2": [4], "y2": [4], "score": [0.5], "label": [0]}
        with pytest.raises(compe.Error, match="not one of the validation images of fold 0"):
            run.log_image_fold(0, box)
        mine = ids[run.valid_index(0)[0]]
        with pytest.raises(compe.Error, match=r"score is '2', expected a number in \[0, 1\]"):
            run.log_image_fold(0, dict(box, image_id=[mine], score=[2.0]))
        with pytest.raises(compe.Error, match="lacks the column"):
            run.log_image_fold(0, {"image_id": [mine]})
        run.fail("done")


def test_a_segmentation_run_logged_from_python_scores_dice(tmp_path):
    root = workspace(tmp_path, "segmentation")
    with compe.start_run(root, name="masks") as run:
        ids = run._rec.validated_ids()
        for fold in range(run.num_folds):
            valid = {ids[i] for i in run.valid_index(fold)}
            oof = {"image_id": [], "label": [], "EncodedPixels": []}
            for r in csv.DictReader(open(root / "data" / "train_masks.csv")):
                image, cls = r["Image_Label"].rsplit("_", 1)
                if image in valid:
                    oof["image_id"].append(image)
                    oof["label"].append(cls)
                    oof["EncodedPixels"].append(r["EncodedPixels"])
            assert run.log_image_fold(fold, oof, test={"image_id": ["10"], "label": ["top"],
                                                       "EncodedPixels": ["1 4"]}) == 1.0
        with pytest.raises(compe.Error, match="past the image"):
            run.log_image_fold(0, {"image_id": [ids[run.valid_index(0)[0]]], "label": ["top"],
                                   "EncodedPixels": ["190 10"]})
    assert run.cv_score == 1.0
    assert "test_masks.csv" in os.listdir(run.dir)

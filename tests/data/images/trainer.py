#!/usr/bin/env python3
"""A command trainer for the tiny image competitions of tests/cli/cases/image_runs.case.

It learns nothing: for the fold's validation images it writes their ground truth (boxes with
score 0.9, or masks) as oof.csv, and for the test images one box (or mask) per image as
test.csv. COMPE_PARAMS_JSON's "mode" plants one defect the run must refuse: unknown_image,
other_fold, bad_score, outside, bad_label, bad_rle, no_test."""
import csv
import json
import os

env = os.environ
params = json.loads(env.get("COMPE_PARAMS_JSON") or "{}")
mode = params.get("mode", "truth")
# Detection: "score" is the score of the true boxes (default 0.9); "false_box_score", when given,
# adds a wrong box (0,0,2,2, label 0) with that score to every validation image, so that runs
# trained with different params differ and fusion has something to tune.
score, false_box_score = str(params.get("score", 0.9)), params.get("false_box_score")
task, classes = env["COMPE_TASK"], json.loads(env["COMPE_CLASSES"])
ids = lambda var: [r[env["COMPE_ID_COLUMN"]] for r in csv.DictReader(open(env[var]))]  # noqa: E731
valid, train, test = ids("COMPE_VALID_CSV"), ids("COMPE_TRAIN_CSV"), ids("COMPE_TEST_CSV")
assert os.path.isabs(env.get("COMPE_BOXES_CSV", env.get("COMPE_MASKS_CSV", "")))
assert env["COMPE_IMAGES_DIR"].endswith("images")
out = env["COMPE_OUTPUT_DIR"]

if task == "detection":
    header = ["image_id", "x1", "y1", "x2", "y2", "score", "label"]
    truth = [r for r in csv.DictReader(open(env["COMPE_BOXES_CSV"])) if r["x1"] != ""]
    oof = [[r["image_id"], r["x1"], r["y1"], r["x2"], r["y2"], score, r["label"]] for r in truth
           if r["image_id"] in valid]
    if false_box_score is not None:
        oof += [[i, "0", "0", "2", "2", str(false_box_score), "0"] for i in valid]
    tst = [[i, "1", "1", "6", "5", "0.5", "0"] for i in test]
    if mode == "bad_score":
        oof[0][5] = "1.5"
    if mode == "outside":
        oof[0][3] = "40"
    if mode == "bad_label":
        oof[0][6] = classes[0]
else:
    header = ["image_id", "label", "EncodedPixels"]
    oof = []
    for r in csv.DictReader(open(env["COMPE_MASKS_CSV"])):
        image, cls = r["Image_Label"].rsplit("_", 1)
        if image in valid:
            oof.append([image, cls, r["EncodedPixels"]])
    tst = [[i, classes[0], "1 6"] for i in test]
    if mode == "bad_rle":
        oof[0][2] = "30 2 10 2"
    if mode == "bad_label":
        oof[0][1] = "hat"
if mode == "unknown_image":
    oof[0][0] = "999"
if mode == "other_fold":
    oof[0][0] = train[0]
csv.writer(open(os.path.join(out, "oof.csv"), "w", newline=""), lineterminator="\n").writerows([header] + oof)
if mode != "no_test":
    csv.writer(open(os.path.join(out, "test.csv"), "w", newline=""), lineterminator="\n").writerows([header] + tst)

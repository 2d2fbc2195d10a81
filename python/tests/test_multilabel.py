"""Multilabel runs recorded from Python: k-column predictions, one per target column."""

import numpy as np
import pytest

import compe


def write_multilabel(root, n_train=120, n_test=40, labels=("cat", "dog", "bird"), seed=0):
    rng = np.random.default_rng(seed)
    (root / "data").mkdir(parents=True)
    x = rng.normal(size=(n_train + n_test, len(labels)))
    y = (x + 0.6 * rng.normal(size=x.shape) > 0).astype(int)
    ids = np.arange(n_train + n_test) + 500
    with open(root / "data" / "train.csv", "w") as f:
        f.write("id," + ",".join(f"x{j}" for j in range(len(labels))) + "," + ",".join(labels) + "\n")
        for i in range(n_train):
            f.write(f"{ids[i]}," + ",".join(repr(v) for v in x[i]) + "," + ",".join(str(v) for v in y[i]) + "\n")
    with open(root / "data" / "test.csv", "w") as f:
        f.write("id," + ",".join(f"x{j}" for j in range(len(labels))) + "\n")
        for i in range(n_train, n_train + n_test):
            f.write(f"{ids[i]}," + ",".join(repr(v) for v in x[i]) + "\n")
    with open(root / "data" / "sample_submission.csv", "w") as f:
        f.write("id," + ",".join(labels) + "\n")
        for i in range(n_train, n_train + n_test):
            f.write(f"{ids[i]}," + ",".join(["0.5"] * len(labels)) + "\n")
    targets = ", ".join(f'"{c}"' for c in labels)
    (root / "compe.toml").write_text(f"""[competition]
name = "multilabel"
task = "multilabel"
metric = "multilabel_auc"
id = "id"
target = [{targets}]

[data]
train = "data/train.csv"
test = "data/test.csv"
sample_submission = "data/sample_submission.csv"

[folds]
strategy = "multilabel_stratified_kfold"
k = 3
seed = 7
shuffle = true
""")
    return root, x[:n_train], y[:n_train], x[n_train:]


def test_start_run_takes_one_probability_column_per_label(tmp_path):
    root, x, y, x_test = write_multilabel(tmp_path / "ml")
    sigmoid = lambda v: 1 / (1 + np.exp(-2 * v))  # noqa: E731
    with compe.start_run(root, name="ml") as run:
        assert run.prediction_columns == ["cat", "dog", "bird"]
        for fold in range(run.num_folds):
            va = run.valid_index(fold)
            s = run.log_fold(fold, oof=sigmoid(x[va]), test=sigmoid(x_test))
            assert 0.7 < s <= 1.0
    r = compe.Store(root).run(run.id)
    assert r["status"] == "finished" and 0.7 < r["cv"] <= 1.0
    assert open(root / r["oof"]).readline().strip() == "id,fold,cat,dog,bird"
    assert open(root / r["submission"]).readline().strip() == "id,cat,dog,bird"


def test_log_fold_refuses_a_missing_label_column(tmp_path):
    root, x, y, x_test = write_multilabel(tmp_path / "ml")
    with compe.start_run(root, name="short") as run:
        with pytest.raises(compe.InvalidArgumentError, match="expected 3"):
            run.log_fold(0, oof=np.full((len(run.valid_index(0)), 2), 0.5))
        run.fail("test over")


def test_trainer_env_writes_the_target_columns(tmp_path, monkeypatch):
    for k, v in {"COMPE_FOLD": "0", "COMPE_NUM_FOLDS": "3", "COMPE_TRAIN_CSV": "t", "COMPE_VALID_CSV": "v",
                 "COMPE_TEST_CSV": "x", "COMPE_OUTPUT_DIR": str(tmp_path), "COMPE_TASK": "multilabel",
                 "COMPE_ID_COLUMN": "id", "COMPE_NUM_CLASS": "2", "COMPE_CLASSES": '["cat", "dog"]',
                 "COMPE_TARGET_COLUMNS": "cat,dog"}.items():
        monkeypatch.setenv(k, v)
    env = compe.trainer_env()
    env.write_predictions("oof.csv", [1, 2], np.array([[0.1, 0.9], [0.8, 0.2]]))
    assert open(tmp_path / "oof.csv").read().splitlines() == ["id,cat,dog", "1,0.1,0.9", "2,0.8,0.2"]
    with pytest.raises(compe.InvalidArgumentError, match="needs 2"):
        env.write_predictions("test.csv", [1], np.array([[0.5]]))

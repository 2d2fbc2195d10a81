"""Fixtures: small competitions written into temporary workspaces."""

import os

import numpy as np
import pytest


def write_competition(root, task="binary", metric="roc_auc", n_train=120, n_test=40, k=4, seed=0):
    """A synthetic competition: id, two numeric features, a text feature and a target."""
    rng = np.random.default_rng(seed)
    os.makedirs(root / "data", exist_ok=True)
    x = rng.normal(size=(n_train + n_test, 2))
    if task == "binary":
        y = (x[:, 0] + 0.5 * rng.normal(size=len(x)) > 0).astype(int)
        classes = ["0", "1"]
    else:
        y = np.digitize(x[:, 0] + 0.3 * rng.normal(size=len(x)), [-0.5, 0.5])
        classes = ["a", "b", "c"]
    ids = np.arange(len(x)) + 1000
    with open(root / "data" / "train.csv", "w") as f:
        f.write("id,x1,x2,colour,target\n")
        for i in range(n_train):
            label = y[i] if task == "binary" else classes[y[i]]
            f.write(f"{ids[i]},{x[i, 0]!r},{x[i, 1]!r},{'red' if i % 3 else 'blue'},{label}\n")
    with open(root / "data" / "test.csv", "w") as f:
        f.write("id,x1,x2,colour\n")
        for i in range(n_train, n_train + n_test):
            f.write(f"{ids[i]},{x[i, 0]!r},{x[i, 1]!r},red\n")
    with open(root / "data" / "sample_submission.csv", "w") as f:
        if task == "binary":
            f.write("id,target\n")
            for i in range(n_train, n_train + n_test):
                f.write(f"{ids[i]},0.5\n")
        else:
            f.write("id," + ",".join(classes) + "\n")
            for i in range(n_train, n_train + n_test):
                f.write(f"{ids[i]}," + ",".join(["0.333"] * 3) + "\n")
    strategy = "stratified_kfold"
    (root / "compe.toml").write_text(f"""[competition]
name = "synthetic"
task = "{task}"
metric = "{metric}"
id = "id"
target = "target"

[data]
train = "data/train.csv"
test = "data/test.csv"
sample_submission = "data/sample_submission.csv"

[folds]
strategy = "{strategy}"
k = {k}
seed = 7
shuffle = true
""")
    return root, x[:n_train], y[:n_train], x[n_train:]


@pytest.fixture
def binary_ws(tmp_path):
    return write_competition(tmp_path / "binary")


@pytest.fixture
def multiclass_ws(tmp_path):
    return write_competition(tmp_path / "multi", task="multiclass", metric="log_loss")

import numpy as np
import pytest

import compe


RNG = np.random.default_rng(3)
N = 60
Y_BIN = np.tile([0, 1, 1, 0, 1], N // 5)
P_BIN = np.clip(Y_BIN * 0.4 + RNG.random(N) * 0.6, 0.01, 0.99)
Y_MC = np.tile([0, 1, 2, 2, 1, 0], N // 6)
P_MC = RNG.random((N, 3)) + np.eye(3)[Y_MC]
P_MC /= P_MC.sum(axis=1, keepdims=True)
Y_REG = RNG.normal(size=N) + 3
P_REG = Y_REG + RNG.normal(size=N) * 0.3
Y_ML = (RNG.random((N, 3)) > 0.5).astype(float)
Y_ML[0] = [0, 0, 0]
Y_ML[1] = [1, 1, 1]
P_ML = np.clip(Y_ML * 0.5 + RNG.random((N, 3)) * 0.5, 0.01, 0.99)


# Detection: per image, ground truth (boxes, labels) and predictions (boxes, scores, labels).
GT_BOXES = [(np.array([[0, 0, 10, 10.0], [20, 20, 40, 30]]), np.array([0, 1])),
            (np.array([[5, 5, 15, 25.0]]), np.array([1]))]
PRED_BOXES = [(np.array([[1, 0, 10, 11.0], [21, 19, 40, 31], [50, 50, 60, 60]]), np.array([0.9, 0.8, 0.3]),
               np.array([0, 1, 1])),
              (np.array([[5, 6, 15, 24.0]]), np.array([0.7]), np.array([1]))]


def inputs_for(info):
    """Inputs for one registered metric, by the first task it accepts."""
    if "detection" in info.tasks:
        return GT_BOXES, PRED_BOXES
    if info.name == "map":
        return [[1], [2], [3]], [[1, 2], [3, 2], [1, 3]]
    if info.name == "ndcg":
        return np.abs(RNG.normal(size=(10, 4))), RNG.random((10, 4))
    if "binary" in info.tasks:
        return Y_BIN, P_BIN
    if "multiclass" in info.tasks:
        return Y_MC, P_MC
    if "regression" in info.tasks:
        return Y_REG, P_REG
    if "multilabel" in info.tasks:
        return Y_ML, P_ML
    raise AssertionError(f"no inputs for {info}")


def spec_of(info):
    return info.name + ("@0.9" if info.arg in ("required_real",) else "@3" if info.arg == "required_int" else "")


@pytest.mark.parametrize("info", compe.metrics.list(), ids=lambda i: i.name)
def test_every_registered_metric_scores_from_python(info):
    if "segmentation" in info.tasks:
        # Masks are scored through compe score (RLE per image and class), not from arrays.
        with pytest.raises(compe.InvalidArgumentError, match="segmentation metrics score RLE masks"):
            compe.metrics.score(spec_of(info), [], [])
        return
    y, p = inputs_for(info)
    s = compe.metrics.score(spec_of(info), y, p)
    assert np.isfinite(s)
    if "detection" in info.tasks:
        assert 0 < s <= 1
        # Lists instead of arrays give the same value.
        as_lists = [tuple(np.asarray(v).tolist() for v in img) for img in p]
        assert compe.metrics.score(spec_of(info), y, as_lists) == s
    elif info.name not in ("map", "ndcg"):
        # Other dtypes and memory orders are converted, never misread.
        p2 = np.asfortranarray(np.asarray(p, dtype=np.float32).astype(np.float64))
        assert compe.metrics.score(spec_of(info), list(np.asarray(y).tolist()), p2) == pytest.approx(s)


def test_list_and_info():
    names = compe.metrics.names()
    assert {"roc_auc", "qwk", "log_loss", "rmse", "map"} <= set(names)
    assert len(compe.metrics.list()) == len(names)
    assert compe.metrics.info("auc").name == "roc_auc"
    assert compe.metrics.info("rmse").direction == "minimize"


def test_scores_match_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    assert compe.metrics.score("roc_auc", Y_BIN, P_BIN) == pytest.approx(skm.roc_auc_score(Y_BIN, P_BIN), abs=1e-12)
    assert compe.metrics.score("log_loss", Y_MC, P_MC) == pytest.approx(skm.log_loss(Y_MC, P_MC), abs=1e-12)
    labels = P_MC.argmax(axis=1)
    assert compe.metrics.score("qwk", Y_MC, labels[:, None].astype(float)) == pytest.approx(
        skm.cohen_kappa_score(Y_MC, labels, weights="quadratic"), abs=1e-12)
    w = RNG.random(N)
    assert compe.metrics.score("rmse", Y_REG, P_REG, weights=w) == pytest.approx(
        skm.mean_squared_error(Y_REG, P_REG, sample_weight=w) ** 0.5, abs=1e-12)


def test_bad_inputs_are_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match=r"y_pred: expected a 1-D or 2-D array, got shape \(2, 2, 2\)"):
        compe.metrics.score("rmse", [1, 2], np.zeros((2, 2, 2)))
    with pytest.raises(compe.InvalidArgumentError, match="dtype <U1"):
        compe.metrics.score("rmse", [1, 2], np.array(["a", "b"]))
    with pytest.raises(compe.InvalidArgumentError, match="2 rows, y_pred has 3"):
        compe.metrics.score("rmse", [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError):
        compe.metrics.score("log_loss", [0, 1], [0.5, np.nan])


def test_folds_match_scikit_learn():
    ms = pytest.importorskip("sklearn.model_selection")
    GroupKFold, KFold, StratifiedKFold = ms.GroupKFold, ms.KFold, ms.StratifiedKFold
    y = np.array([0, 1, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1] * 5)
    f = compe.folds("kfold", 5, rows=len(y), shuffle=False)
    for fold, (_, valid) in enumerate(KFold(5).split(y)):
        assert np.array_equal(f.valid_index(fold), valid)
    f = compe.folds("stratified_kfold", 4, y=y, shuffle=False)
    for fold, (train, valid) in enumerate(StratifiedKFold(4).split(np.zeros(len(y)), y)):
        assert np.array_equal(f.valid_index(fold), valid)
        assert np.array_equal(f.train_index(fold), train)
    groups = np.array(["g%d" % (i % 13) for i in range(len(y))])
    f = compe.folds("group_kfold", 3, groups=groups, shuffle=False)
    for fold, (_, valid) in enumerate(GroupKFold(3).split(y, y, groups)):
        assert np.array_equal(f.valid_index(fold), valid)
    # string class labels stratify like their codes
    g = compe.folds("stratified_kfold", 4, y=np.array(["abc"[v] for v in y]), shuffle=False)
    assert np.array_equal(g.assignment, compe.folds("stratified_kfold", 4, y=y, shuffle=False).assignment)


@pytest.mark.parametrize("info", compe.splitters(), ids=lambda i: i["name"])
def test_every_registered_splitter(info):
    n = 48
    kwargs = {}
    if info["multilabel"]:
        kwargs["y"] = (np.arange(n * 2).reshape(n, 2) % 3 == 0).astype(float)
    elif info["needs_target"]:
        kwargs["y"] = np.arange(n) % 2
    if info["needs_groups"]:
        kwargs["groups"] = np.arange(n) // 4
    if info["needs_time"]:
        kwargs["time"] = np.arange(n, dtype=float)
    f = compe.folds(info["name"], 3, rows=n, **kwargs)
    assert f.assignment.shape == (n,) and f.assignment.dtype == np.int32
    for train, valid in f:
        assert len(valid) > 0 and len(train) > 0
        assert not set(train) & set(valid)
    again = compe.folds(info["name"], 3, rows=n, **kwargs)
    assert np.array_equal(f.assignment, again.assignment)


def test_folds_errors():
    with pytest.raises(compe.InvalidArgumentError, match="k"):
        compe.folds("kfold", 1, rows=10)
    with pytest.raises(LookupError, match="stratified_kfold"):
        compe.folds("stratifed_kfold", 3, y=[0, 1] * 5)
    with pytest.raises(ValueError, match="rows="):
        compe.folds("kfold", 3)

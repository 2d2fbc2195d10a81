import numpy as np
import pytest

import compe


def test_ask_tell_finds_the_minimum(tmp_path):
    space = {"x": compe.float_param(-5, 5), "n": compe.int_param(1, 4), "c": compe.categorical_param(["a", "b"])}
    study = compe.Study("quad", space, direction="minimize", storage=str(tmp_path / "s.db"), seed=1)
    for _ in range(30):
        trial = study.ask()
        x = trial.suggest_float("x", -5, 5)
        n = trial.suggest_int("n", 1, 4)
        c = trial.suggest_categorical("c", ["a", "b"])
        assert isinstance(n, int) and c in ("a", "b")
        study.tell(trial, (x - 1) ** 2 + n + (c == "b"))
    assert study.best_value < 3.0
    trials = study.trials()
    assert len(trials) == 30 and all(t["state"] == "complete" for t in trials)
    for t in trials:  # the stored params are the suggested ones
        p = t["params"]
        assert t["values"][0] == pytest.approx((p["x"] - 1) ** 2 + p["n"] + (p["c"] == "b"))
    assert study.best_value == min(t["values"][0] for t in trials)
    # The study lives in the store: a second handle continues it.
    again = compe.Study("quad", space, direction="minimize", storage=str(tmp_path / "s.db"), seed=2)
    assert len(again.trials()) == 30


def test_optimize_prunes_and_fails():
    study = compe.Study("opt", {"x": compe.float_param(0, 1)}, direction="maximize")

    def objective(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 1:
            raise compe.TrialPruned()
        if trial.number == 2:
            raise compe.InvalidArgumentError("bad trial")
        return x

    study.optimize(objective, n_trials=6)
    states = [t["state"] for t in study.trials()]
    assert states.count("pruned") == 1 and states.count("failed") == 1 and states.count("complete") == 4
    trial = study.ask()
    with pytest.raises(compe.InvalidArgumentError, match="y"):
        trial.suggest_float("y", 0, 1)
    with pytest.raises(compe.InvalidArgumentError):
        trial.suggest_float("x", 0, 2)  # declared otherwise
    with pytest.raises(LookupError):
        compe.Study("s", {"x": compe.float_param(0, 1)}, sampler="tpee")
    assert any(s["name"] == "tpe" for s in compe.tune.samplers())


def test_wbf_and_nms():
    a = np.array([[0.1, 0.1, 0.5, 0.5]])
    b = np.array([[0.12, 0.1, 0.52, 0.5]])
    boxes, scores, labels = compe.detect.fuse([a, b], [[0.9], [0.7]], [[1], [1]], method="wbf")
    assert boxes.shape == (1, 4) and labels.tolist() == [1]
    expected = (a[0] * 0.9 + b[0] * 0.7) / 1.6
    assert np.allclose(boxes[0], expected) and scores[0] == pytest.approx(0.8)
    boxes, scores, labels = compe.detect.fuse([a, b], [[0.9], [0.7]], [[1], [1]], method="nms", iou_thr=0.5)
    assert np.allclose(boxes, a) and scores.tolist() == [0.9]
    assert compe.detect.iou(a[0], a[0]) == pytest.approx(1.0)
    assert {m["name"] for m in compe.detect.methods()} >= {"wbf", "nms", "soft_nms", "nmw"}


def test_fuse_batch_report_and_errors():
    img = [(np.array([[0.1, 0.1, 1.2, 0.5]]), [0.9], [0]), (np.zeros((0, 4)), [], [])]
    results, report = compe.detect.fuse_batch([img, img], method="wbf")
    assert len(results) == 2 and report["clipped_coords"] == 2 and report["images"] == 2
    with pytest.raises(ValueError, match="n x 4"):
        compe.detect.fuse([np.zeros((2, 3))], [[0.1, 0.2]], [[0, 0]])
    with pytest.raises(compe.InvalidArgumentError, match="iou_thr|weights|conf"):
        compe.detect.fuse([np.array([[0, 0, 1, 1.0]])], [[0.5]], [[0]], method="nms", conf_type="max")

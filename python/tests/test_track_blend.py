import json
import os
import subprocess

import numpy as np
import pytest

import compe


def fit_predict(x_train, y_train, x, noise, rng):
    """A deliberately weak model: a noisy logistic curve on the first feature."""
    return 1 / (1 + np.exp(-(2 * x[:, 0] + noise * rng.normal(size=len(x)))))


def record(root, x, y, x_test, name, noise, seed):
    rng = np.random.default_rng(seed)
    with compe.start_run(root, name=name, config={"model": "logistic", "noise": noise}) as run:
        assert run.num_folds == 4 and run.prediction_columns == ["target"]
        for fold in range(run.num_folds):
            tr, va = run.train_index(fold), run.valid_index(fold)
            for epoch in range(3):
                run.log(step=epoch, fold=fold, train_loss=1.0 / (epoch + 1), valid_auc=0.5 + 0.1 * epoch)
            s = run.log_fold(fold, oof=fit_predict(x[tr], y[tr], x[va], noise, rng),
                             test=fit_predict(x[tr], y[tr], x_test, noise, rng))
            assert 0.5 < s <= 1.0
    return run


def test_start_run_records_a_run_the_cli_shows(binary_ws):
    root, x, y, x_test = binary_ws
    run = record(root, x, y, x_test, "py-logistic", 0.5, 1)
    assert run.cv_score is not None and 0.5 < run.cv_score <= 1
    for f in ("oof.csv", "test.csv", "submission.csv", "meta.json", "config.json"):
        assert os.path.exists(os.path.join(run.dir, f)), f
    oof = compe.read_csv(os.path.join(run.dir, "oof.csv"))
    assert oof.column_names == ["id", "fold", "target"] and oof.num_rows == len(y)
    meta = json.load(open(os.path.join(run.dir, "meta.json")))
    assert meta["cv"]["score"] == pytest.approx(run.cv_score)
    # The CV score is the metric over every out-of-fold row.
    ids, folds, _ = compe.open_workspace(root).folds()
    assert compe.metrics.score("roc_auc", y, oof["target"]) == pytest.approx(run.cv_score)

    store = compe.Store(root)
    r = store.run(run.id)
    assert r["status"] == "finished" and r["name"] == "py-logistic" and r["metric"] == "roc_auc"
    assert r["cv"] == pytest.approx(run.cv_score) and sorted(r["folds"]) == ["0", "1", "2", "3"]
    assert r["kind"] == "python" and r["run_id"] == run.id and r["partial"] is False
    assert r["oof"].endswith("oof.csv") and r["test_folds"].endswith("test_folds.csv")
    assert r["config"] == {"model": "logistic", "noise": 0.5}
    keys = {(p["key"], p["fold"]) for p in store.metrics(run.id)}
    assert ("train-loss", 0) in keys and ("valid-auc", 3) in keys
    kinds = {a["kind"] for a in store.artifacts(run.id)}
    assert {"oof", "test", "submission"} <= kinds

    cli = os.environ.get("COMPE_BIN")
    if cli:
        out = subprocess.run([cli, "runs", "--json"], cwd=root, capture_output=True, text=True, check=True)
        assert run.id in out.stdout


def test_log_fold_checks_shapes_and_ids(binary_ws):
    root, x, y, x_test = binary_ws
    with pytest.raises(ValueError, match="boom"):
        with compe.start_run(root, name="bad") as run:
            va = run.valid_index(0)
            with pytest.raises(compe.InvalidArgumentError, match="expected .* rows"):
                run.log_fold(0, oof=np.zeros(len(va) + 1))
            with pytest.raises(compe.InvalidArgumentError, match="finite"):
                run.log_fold(0, oof=np.full(len(va), np.nan))
            with pytest.raises(compe.InvalidArgumentError, match="outside"):
                run.log_fold(9, oof=np.zeros(3))
            with pytest.raises(compe.InvalidArgumentError, match="ids differ"):
                run.log_fold(0, oof=np.zeros(len(va)), ids=list(range(len(va))))
            # ids in any order are aligned
            ws_ids = compe.open_workspace(root).read_train()["id"]
            fold_ids = ws_ids[va]
            p = np.linspace(0.1, 0.9, len(va))
            s1 = run.log_fold(0, oof=p[::-1], ids=fold_ids[::-1])
            s2 = run.log_fold(0, oof=p)
            assert s1 == pytest.approx(s2)
            raise ValueError("boom")
    r = compe.Store(root).run(run.id)
    assert r["status"] == "failed" and "boom" in r["error"]


def test_multiclass_run_and_blend(multiclass_ws):
    root, x, y, x_test = multiclass_ws
    ids = []
    for noise, seed in ((0.8, 1), (0.8, 2)):
        rng = np.random.default_rng(seed)
        with compe.start_run(root, name=f"noise{seed}") as run:
            assert run.classes == ["a", "b", "c"] or sorted(run.classes) == ["a", "b", "c"]
            centre = {c: i - 1 for i, c in enumerate(["a", "b", "c"])}
            for fold in range(run.num_folds):
                def proba(xs):
                    z = -(xs[:, :1] + noise * rng.normal(size=(len(xs), 1)) - [[centre[c] for c in run.classes]]) ** 2
                    e = np.exp(z)
                    return e / e.sum(axis=1, keepdims=True)
                run.log_fold(fold, oof=proba(x[run.valid_index(fold)]), test=proba(x_test))
        ids.append(run.id)
    res = compe.blend(ids, workspace=root, method="mean", name="avg")
    assert res["run_id"] and len(res["member_scores"]) == 2
    assert res["nested_score"] <= max(res["member_scores"]) + 1e-12  # log loss: averaging helps
    r = compe.Store(root).run(res["run_id"])
    assert r["status"] == "finished" and r["name"] == "avg"
    assert any(m["name"] == "weights" for m in compe.blend_methods())
    with pytest.raises(LookupError):
        compe.blend([ids[0], "zzzzzzzz"], workspace=root)


def test_command_run_is_inert_outside_compe(monkeypatch):
    monkeypatch.delenv("COMPE_OUTPUT_DIR", raising=False)
    r = compe.command_run()
    assert not r.attached
    r.log(step=1, train_loss=0.5)  # no-op
    with pytest.raises(LookupError, match="COMPE_FOLD"):
        compe.trainer_env()

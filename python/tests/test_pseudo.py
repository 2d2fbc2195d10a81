import numpy as np
import pytest

import compe


def test_pseudo_makes_a_fold_safe_set_from_a_recorded_run(binary_ws):
    root, x, y, x_test = binary_ws
    rng = np.random.default_rng(3)
    with compe.start_run(root, name="logistic") as run:
        for fold in range(run.num_folds):
            # Each fold's model gives its own test predictions (a fold-specific shift).
            f = lambda xs: 1 / (1 + np.exp(-(2 * xs[:, 0] + 0.3 * fold + 0.2 * rng.normal(size=len(xs)))))
            run.log_fold(fold, oof=f(x[run.valid_index(fold)]), test=f(x_test))
    with pytest.raises(ValueError, match="--experiment"):
        compe.pseudo(run.id, root / "pseudo.toml", workspace=root, top_share=0.25)
    (root / "base.toml").write_text('[model]\nbackend = "xgboost"\n')
    out = compe.pseudo(run.id, root / "pseudo.toml", workspace=root, top_share=0.25, weight=0.5,
                       experiment=root / "base.toml")
    assert out["source_run"] == run.id and len(out["rows_per_fold"]) == 4
    assert out["pseudo"]["weight"] == 0.5 and out["pseudo"]["leaky"] is False
    rows = [line.split(",") for line in (root / out["set"]).read_text().splitlines()[1:]]
    assert rows and all(r[0] == r[1] for r in rows)  # every row labelled by its own fold's model
    assert "[pseudo]" in (root / "pseudo.toml").read_text()
    with pytest.raises(ValueError, match="selects no test row"):
        compe.pseudo(run.id, root / "p2.toml", workspace=root, threshold=1.0, experiment=root / "base.toml")
    leaky = compe.pseudo(run.id, root / "p3.toml", workspace=root, top_share=0.25, leaky_fold_average=True,
                         experiment=root / "base.toml")
    assert leaky["pseudo"]["leaky"] is True

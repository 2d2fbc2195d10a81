import threading
import time

import numpy as np
import pytest

import compe


def test_error_classes_derive_from_builtins():
    assert issubclass(compe.InvalidArgumentError, compe.Error)
    assert issubclass(compe.InvalidArgumentError, ValueError)
    assert issubclass(compe.NotFoundError, LookupError)
    assert issubclass(compe.IoError, OSError)
    assert issubclass(compe.StorageError, OSError)
    assert issubclass(compe.ParseError, ValueError)
    assert compe.NotFoundError.code == "not_found"


def test_unknown_metric_is_a_lookup_error_naming_the_closest():
    with pytest.raises(LookupError, match="roc_auc"):
        compe.metrics.score("roc_acu", [0, 1], [0.1, 0.9])
    with pytest.raises(compe.NotFoundError):
        compe.metrics.info("nope")


def test_missing_file_and_parse_error(tmp_path):
    with pytest.raises(compe.NotFoundError, match="nothing.csv"):
        compe.read_csv(tmp_path / "nothing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(compe.ParseError, match="bad.csv:3"):
        compe.read_csv(bad)


def test_an_absurd_thread_count_is_rejected_with_the_range(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id,x\n1,0.5\n")
    with pytest.raises(compe.InvalidArgumentError, match=r"threads is 100000: expected 0 \(all cores\) to 1024"):
        compe.read_csv(p, threads=100000)
    with pytest.raises(ValueError, match="threads is -1"):
        compe.read_csv(p, threads=-1)
    assert compe.read_csv(p, threads=1000).num_rows == 1


def test_read_csv_columns_are_zero_copy_views(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id,x,name,n\n1,0.5,a,3\n2,1.5,,\n3,2.5,b,4\n")
    t = compe.read_csv(p)
    assert t.column_names == ["id", "x", "name", "n"]
    assert len(t) == 3 and "x" in t
    x1, x2 = t["x"], t["x"]
    assert x1.dtype == np.float64 and np.shares_memory(x1, x2)
    assert not x1.flags.writeable
    assert t.dtype("id") == "int64" and t["id"].tolist() == [1, 2, 3]
    assert t["name"].tolist() == ["a", None, "b"]
    n = t["n"]
    assert n.dtype == np.float64 and np.isnan(n[1]) and n[2] == 4
    assert t.missing("n").tolist() == [False, True, False]
    codes, values = t.codes("name")
    assert codes.tolist() == [0, -1, 1] and values == ["a", "b"]
    del t  # the views keep the table alive
    assert x1.tolist() == [0.5, 1.5, 2.5]


def test_from_dict_round_trip(tmp_path):
    t = compe.from_dict({"i": np.arange(3), "f": np.array([0.5, np.nan, 2.0]), "s": ["x", None, "z"],
                         "b": np.array([True, False, True])})
    assert t.dtype("i") == "int64" and t.dtype("f") == "float64" and t.dtype("s") == "string"
    compe.write_csv(t, tmp_path / "o.csv")
    back = compe.read_csv(tmp_path / "o.csv")
    assert back["i"].tolist() == [0, 1, 2]
    assert np.isnan(back["f"][1]) and back["s"].tolist() == ["x", None, "z"]
    with pytest.raises(ValueError, match="1-D"):
        compe.from_dict({"m": np.zeros((2, 2))})


def test_workspace(binary_ws):
    root, _, y, _ = binary_ws
    ws = compe.open_workspace(root)
    assert ws.task == "binary" and ws.metric == "roc_auc" and ws.id_column == "id"
    train = ws.read_train()
    assert train.num_rows == len(y)
    ids, folds, h = ws.folds()
    assert len(ids) == len(y) and set(folds.tolist()) == {0, 1, 2, 3} and len(h) == 16
    with pytest.raises(compe.NotFoundError, match="compe workspace"):
        compe.open_workspace(root / "data")


def test_long_calls_release_the_gil():
    rng = np.random.default_rng(0)
    y = (rng.random(3_000_000) > 0.5).astype(float)
    p = rng.random(3_000_000)
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.05)
    try:
        for _ in range(5):
            before = counter[0]
            compe.metrics.score("roc_auc", y, p)
            during = counter[0] - before
            if during > 100:
                break
    finally:
        stop.set()
        th.join()
    assert during > 100


def test_stubs_cover_the_extension():
    import os
    import re

    from compe import _compe

    stub = open(os.path.join(os.path.dirname(compe.__file__), "_compe.pyi")).read()
    declared = set(re.findall(r"^(?:def|class) (\w+)", stub, re.M))
    public = {n for n in dir(_compe) if not n.startswith("_")}
    assert public == declared
    assert os.path.exists(os.path.join(os.path.dirname(compe.__file__), "py.typed"))

"""Runs recorded from Python: curves, out-of-fold and test predictions, a CV score.

    with compe.start_run("ws", name="cnn", config={"lr": 1e-3}) as run:
        for fold in range(run.num_folds):
            ...
            run.log(step=epoch, fold=fold, train_loss=0.4, valid_loss=0.5)
            run.log_fold(fold, oof=valid_probabilities, test=test_probabilities)

The run appears in `compe runs` and the dashboard like any other, with oof.csv, test.csv,
submission.csv and meta.json in runs/<id>/, and can be blended.

Inside a trainer that `compe run` starts through the command backend, `command_run()` logs curves
into the run that started it.
"""

from __future__ import annotations

import csv
import json
import os
import sys

from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _compe
from ._convert import as_f64, fail

PathLike = Union[str, "os.PathLike[str]"]


def metric_key(name: str) -> str:
    """The store's key for a logged value: `train_loss` -> "train-loss", `valid_auc` -> "valid-auc"
    (the names the fold loop uses for its curves); other names are kept."""
    for prefix in ("train_", "valid_", "test_"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return prefix[:-1] + "-" + name[len(prefix):]
    return name


def _points(step: int, fold: Optional[int], values: Mapping[str, Any]) -> Tuple[List[str], np.ndarray, np.ndarray, np.ndarray]:
    if not values:
        fail("log: give at least one value, e.g. log(step=1, train_loss=0.3)")
    keys = [metric_key(k) for k in values]
    try:
        vals = np.array([float(v) for v in values.values()], dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"log: values must be numbers, got {dict(values)!r}")
    n = len(keys)
    folds = np.full(n, -1 if fold is None else int(fold), dtype=np.int64)
    steps = np.full(n, int(step), dtype=np.int64)
    return keys, folds, steps, vals


class Run:
    """A run being recorded (see `start_run`)."""

    def __init__(self, workspace: PathLike = ".", name: str = "", config: Optional[Mapping[str, Any]] = None,
                 store: Optional[str] = None) -> None:
        cfg = dict(config or {})
        text = json.dumps(cfg, allow_nan=False, default=str)
        self._rec = _compe.RunRecorder(os.fspath(workspace), name, text, store or "", " ".join(sys.argv))
        self._ws = _compe.Workspace.open(os.fspath(workspace))
        ids, folds, _ = self._ws.folds(True)
        self._train_folds = folds
        self._ids = [str(i) for i in ids]
        self.cv_score: Optional[float] = None
        self.fold_scores: Dict[int, float] = {}
        self._finished = False

    @property
    def id(self) -> str:
        return self._rec.id

    @property
    def dir(self) -> str:
        return self._rec.dir

    @property
    def num_folds(self) -> int:
        return self._rec.num_folds

    @property
    def prediction_columns(self) -> List[str]:
        return self._rec.prediction_columns

    @property
    def classes(self) -> List[str]:
        """Class labels in the order of the prediction columns (classification)."""
        return self._rec.classes

    @property
    def workspace(self) -> "_compe.Workspace":
        return self._ws

    @property
    def folds(self) -> np.ndarray:
        """Each train row's fold (train order; -1 = never validated)."""
        return self._train_folds

    def valid_index(self, fold: int) -> np.ndarray:
        """Train-row indices validated in `fold`; log_fold's oof rows come in this order."""
        return np.flatnonzero(self._train_folds == fold)

    def train_index(self, fold: int) -> np.ndarray:
        """Train-row indices of the other validated folds."""
        return np.flatnonzero((self._train_folds != fold) & (self._train_folds >= 0))

    def log(self, step: int, fold: Optional[int] = None, **values: float) -> None:
        """Logs values at a step, e.g. log(step=3, fold=0, train_loss=0.41, valid_auc=0.88);
        fold None logs whole-run series."""
        self._rec.log(*_points(step, fold, values))

    def log_fold(self, fold: int, oof: Any, test: Any = None, ids: Optional[Sequence[Any]] = None) -> float:
        """Records a fold's out-of-fold predictions (rows in `valid_index(fold)` order, or in the
        order of `ids`), and optionally its test predictions (test order). Columns: one for binary
        (P(positive)) and regression, one per class for multiclass, one per target column for
        multilabel (prediction_columns order). Returns the fold's score."""
        pred = as_f64("oof", oof)
        if ids is not None:
            want = [self._ids[i] for i in self.valid_index(fold)]
            pos = {v: i for i, v in enumerate(str(x) for x in ids)}
            if len(pos) != len(ids) or set(pos) != set(want):
                missing = [w for w in want if w not in pos][:5]
                extra = [p for p in pos if p not in set(want)][:5]
                fail(f"log_fold({fold}): ids differ from the fold's validation ids "
                     f"(missing {missing}, extra {extra}, {len(ids)} given, {len(want)} expected)")
            pred = np.ascontiguousarray(pred[[pos[w] for w in want]])
        t = None if test is None else as_f64("test", test)
        score = self._rec.log_fold(int(fold), pred, t)
        self.fold_scores[int(fold)] = score
        return score

    @property
    def task(self) -> str:
        """The competition's task ("binary", ..., "detection", "segmentation")."""
        return self._rec.task

    def log_image_fold(self, fold: int, oof: Mapping[str, Any], test: Optional[Mapping[str, Any]] = None) -> float:
        """Records a detection or segmentation fold: `oof` holds the boxes or masks of the fold's
        validation images, `test` (optional) that fold model's for the test images, each a dict of
        equal-length columns (lists or arrays). Detection: image_id, x1, y1, x2, y2 (pixels, x2/y2
        exclusive), score (in [0, 1]), label (the class index); an image without boxes has no
        entry. Segmentation: image_id, label (the class name), EncodedPixels (column-major RLE,
        1-based starts; a missing image and class is an empty mask). Checked as a command
        trainer's files are (docs/COMMAND_TRAINER.md); an error names entry i as line i + 2.
        Returns the fold's score."""
        oof_text, oof_numbers = _image_columns(self.task, "oof", oof)
        if test is None:
            score = self._rec.log_image_fold(int(fold), oof_text, oof_numbers)
        else:
            test_text, test_numbers = _image_columns(self.task, "test", test)
            score = self._rec.log_image_fold(int(fold), oof_text, oof_numbers, test_text, test_numbers)
        self.fold_scores[int(fold)] = score
        return score

    def finish(self) -> float:
        """Writes the run's files and marks it finished; returns the CV score."""
        if self._finished:
            return self.cv_score  # type: ignore[return-value]
        self._finished = True
        self.cv_score = self._rec.finish()
        return self.cv_score

    def fail(self, error: str, status: str = "failed") -> None:
        if not self._finished:
            self._finished = True
            self._rec.fail(status, error)

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.fail("interrupted", status="interrupted")
        else:
            self.fail(f"{exc_type.__name__}: {exc}")

    def __repr__(self) -> str:
        return f"<compe.Run {self.id} in {self.dir}>"


_IMAGE_COLUMNS = {
    "detection": (("image_id",), ("x1", "y1", "x2", "y2", "score", "label")),
    "segmentation": (("image_id", "label", "EncodedPixels"), ()),
}


def _image_columns(task: str, what: str, data: Mapping[str, Any]) -> Tuple[Dict[str, List[str]], Dict[str, np.ndarray]]:
    if task not in _IMAGE_COLUMNS:
        fail(f"log_image_fold: this is a {task} competition; use log_fold")
    if not isinstance(data, Mapping):
        fail(f"log_image_fold: {what} must be a dict of columns, got {type(data).__name__}")
    text_cols, number_cols = _IMAGE_COLUMNS[task]
    missing = [c for c in text_cols + number_cols if c not in data]
    if missing:
        fail(f"log_image_fold: {what} lacks the column(s) {missing}; expected {list(text_cols + number_cols)}")
    text = {c: ["" if v is None else str(v) for v in data[c]] for c in text_cols}
    numbers = {c: [float(v) for v in np.asarray(data[c], dtype=np.float64).reshape(-1)] for c in number_cols}
    return text, numbers


def start_run(workspace: PathLike = ".", name: str = "", config: Optional[Mapping[str, Any]] = None,
              store: Optional[str] = None) -> Run:
    """Creates a run in the workspace's store (or `store`, a URL); use it as a context manager so
    that an exception marks it failed. folds.csv is made from compe.toml when missing."""
    return Run(workspace, name, config, store)


class Store:
    """Read access to a run store (the workspace's SQLite file, or a URL)."""

    def __init__(self, url_or_workspace: PathLike = ".") -> None:
        p = os.fspath(url_or_workspace)
        if os.path.isdir(p) and os.path.exists(os.path.join(p, "compe.toml")):
            p = _compe.default_store_path(p)
        self._store = _compe.Store(p)

    def runs(self, limit: int = 50, sort: str = "created", name_contains: str = "") -> List[Dict[str, Any]]:
        return self._store.list_runs(limit, sort, name_contains)

    def run(self, run_id: str) -> Dict[str, Any]:
        return self._store.get_run(run_id)

    def metrics(self, run_id: str, key: str = "") -> List[Dict[str, Any]]:
        return self._store.read_metrics(self._store.get_run(run_id)["run_id"], key)

    def artifacts(self, run_id: str) -> List[Dict[str, Any]]:
        return self._store.list_artifacts(self._store.get_run(run_id)["run_id"])


class CommandRun:
    """Curves of one fold, logged from a trainer that `compe run` started through the command
    backend into the run that started it. Outside such a run, `attached` is False and log() does
    nothing, so the same script also runs by hand."""

    def __init__(self) -> None:
        self.attached = False
        self.run_id = ""
        self.fold = int(os.environ.get("COMPE_FOLD", "-1"))
        self._store = None
        out = os.environ.get("COMPE_OUTPUT_DIR", "")
        if not out:
            return
        # <workspace>/runs/<run id>/command/fold<k>/output
        p = Path(out).resolve()
        run_dir = p.parent.parent.parent
        workspace = run_dir.parent.parent
        if p.parent.parent.name != "command" or not (workspace / "compe.toml").exists():
            return
        db = Path(_compe.default_store_path(str(workspace)))
        if not db.exists():
            return
        self._store = _compe.Store(str(db))
        self.run_id = run_dir.name
        self.attached = True

    def log(self, step: int, **values: float) -> None:
        if self._store is not None:
            self._store.log_metrics(self.run_id, *_points(step, self.fold, values))


def command_run() -> CommandRun:
    return CommandRun()


class TrainerEnv:
    """The COMPE_* variables of the command trainer protocol (docs/COMMAND_TRAINER.md)."""

    def __init__(self, environ: Optional[Mapping[str, str]] = None) -> None:
        env = os.environ if environ is None else environ
        try:
            self.fold = int(env["COMPE_FOLD"])
            self.num_folds = int(env["COMPE_NUM_FOLDS"])
            self.train_csv = env["COMPE_TRAIN_CSV"]
            self.valid_csv = env["COMPE_VALID_CSV"]
            self.test_csv = env["COMPE_TEST_CSV"]
            self.output_dir = env["COMPE_OUTPUT_DIR"]
            self.task = env["COMPE_TASK"]
            self.id_column = env["COMPE_ID_COLUMN"]
        except KeyError as e:
            raise _compe.NotFoundError(
                f"{e.args[0]} is not set: this script is meant to be started by `compe run` "
                "through the command backend (docs/COMMAND_TRAINER.md)") from None
        self.folds_csv = env.get("COMPE_FOLDS_CSV", "")
        self.params: Dict[str, Any] = json.loads(env.get("COMPE_PARAMS_JSON", "{}") or "{}")
        self.num_class = int(env.get("COMPE_NUM_CLASS", "1"))
        self.classes: List[str] = json.loads(env.get("COMPE_CLASSES", "[]") or "[]")
        self.target_columns = [c for c in env.get("COMPE_TARGET_COLUMNS", "").split(",") if c]
        self.seed = int(env.get("COMPE_SEED", "0"))
        self.threads = int(env.get("COMPE_THREADS", "0"))

    def write_predictions(self, name: str, ids: Iterable[Any], pred: Any) -> str:
        """Writes `name` (oof.csv or test.csv) into the output folder: the id column, then one
        column per prediction (binary: P(classes[1]); multiclass: classes in COMPE_CLASSES order;
        multilabel: one probability per target column, named as the target columns)."""
        p = as_f64(name, pred)
        if p.ndim == 1:
            p = p[:, None]
        ids = [str(i) for i in ids]
        if len(ids) != p.shape[0]:
            fail(f"{name}: {len(ids)} ids for {p.shape[0]} prediction rows")
        if self.task == "multiclass":
            cols = [f"p_{c}" for c in self.classes]
        elif self.task == "multilabel":  # one probability column per target column, by name
            cols = list(self.target_columns)
        else:
            cols = ["prediction"]
        if p.shape[1] != len(cols):
            fail(f"{name}: {p.shape[1]} prediction columns, the {self.task} task needs {len(cols)}")
        path = os.path.join(self.output_dir, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([self.id_column] + cols)
            for i, row in zip(ids, p.tolist()):
                w.writerow([i] + [repr(v) for v in row])
        return path


def trainer_env() -> TrainerEnv:
    return TrainerEnv()



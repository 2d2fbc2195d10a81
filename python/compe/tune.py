"""The tuner's ask/tell interface over compe's samplers, pruners and store.

    study = compe.Study("lr-search", space={"lr": compe.float_param(1e-4, 1e-1, log=True)},
                        direction="maximize")
    trial = study.ask()
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    study.tell(trial, score)

The search space is declared up front (define-and-run); suggest_* returns the value sampled for a
declared parameter and refuses one that was not declared, or declared otherwise.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from . import _compe

Trial = _compe.Trial


class TrialPruned(Exception):
    """Raise inside an objective to end the trial as pruned."""


def float_param(low: float, high: float, log: bool = False, step: Optional[float] = None) -> Dict[str, Any]:
    d: Dict[str, Any] = {"type": "float", "low": low, "high": high, "log": log}
    if step is not None:
        d["step"] = step
    return d


def int_param(low: int, high: int, log: bool = False, step: int = 1) -> Dict[str, Any]:
    return {"type": "int", "low": low, "high": high, "log": log, "step": step}


def categorical_param(choices: Sequence[Any]) -> Dict[str, Any]:
    return {"type": "categorical", "choices": list(choices)}


def _store_url(storage: Optional[str]) -> str:
    if storage is None:
        return ":memory:"
    p = os.fspath(storage)
    if os.path.isdir(p) and os.path.exists(os.path.join(p, "compe.toml")):
        return _compe.default_store_path(p)
    return p


class Study:
    """A study in a store: ":memory:" (default), a workspace folder (its store), a SQLite path or a
    PostgreSQL URL. Opening an existing study of that name continues it."""

    def __init__(self, name: str, space: Mapping[str, Mapping[str, Any]], direction: str = "minimize",
                 storage: Optional[str] = None, sampler: str = "tpe",
                 sampler_options: Optional[Mapping[str, Any]] = None, pruner: str = "none",
                 pruner_options: Optional[Mapping[str, Any]] = None, seed: int = 0,
                 load_if_exists: bool = True) -> None:
        self._study = _compe.Study(_store_url(storage), name, direction, dict(space), sampler,
                                   dict(sampler_options or {}), pruner, dict(pruner_options or {}), seed,
                                   load_if_exists)

    @property
    def name(self) -> str:
        return self._study.name

    @property
    def direction(self) -> str:
        return self._study.direction

    @property
    def space(self) -> Dict[str, Any]:
        return self._study.space

    def ask(self) -> Trial:
        return self._study.ask()

    def tell(self, trial: Trial, value: float) -> None:
        self._study.tell(trial, float(value))

    def tell_pruned(self, trial: Trial) -> None:
        self._study.tell_pruned(trial)

    def tell_failed(self, trial: Trial, error: str) -> None:
        self._study.tell_failed(trial, error)

    def trials(self) -> List[Dict[str, Any]]:
        """Every trial of the study as stored: number, state, params, values, intermediate, error."""
        return self._study.stored_trials()

    @property
    def best_trial(self) -> Optional[Dict[str, Any]]:
        best = self._study.best_trial()
        if best is None:
            return None
        stored = {t["number"]: t for t in self.trials()}
        out = dict(stored[best["number"]])
        out["value"] = best["value"]
        return out

    @property
    def best_value(self) -> Optional[float]:
        b = self.best_trial
        return None if b is None else b["value"]

    @property
    def best_params(self) -> Optional[Dict[str, Any]]:
        b = self.best_trial
        return None if b is None else b["params"]

    def importance(self) -> Dict[str, float]:
        return dict(self._study.importance())

    def optimize(self, objective: Callable[[Trial], float], n_trials: int = 10) -> None:
        """Asks, evaluates and tells `n_trials` trials (fewer when a grid is exhausted).
        TrialPruned ends a trial as pruned; a compe.Error marks it failed and the loop goes on;
        any other exception marks it failed and propagates."""
        for _ in range(n_trials):
            if self._study.exhausted():
                break
            trial = self.ask()
            try:
                value = objective(trial)
            except TrialPruned:
                self.tell_pruned(trial)
                continue
            except _compe.Error as e:
                self.tell_failed(trial, str(e))
                continue
            except BaseException as e:
                self.tell_failed(trial, f"{type(e).__name__}: {e}")
                raise
            self.tell(trial, value)


def samplers() -> List[Dict[str, Any]]:
    return _compe.samplers()


def pruners() -> List[Dict[str, Any]]:
    return _compe.pruners()

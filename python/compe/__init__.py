"""compe: the competition workbench's core from Python.

Folds, metrics, runs and tracking, the tuner's ask/tell, blending, box fusion, detection metrics
and the shake-up simulation run in compe's C++ core; this package converts arguments and adds conveniences. Errors are compe.Error
subclasses that also derive from the matching builtin (ValueError, LookupError, OSError).
"""

from . import _compe
from ._compe import (BackendError, Error, InternalError, InvalidArgumentError, IoError, NotFoundError,
                     ParseError, StorageError)
from . import blend as _blend_module
from . import pseudo as _pseudo_module
from . import detect, metrics
from .shakeup import shake
from .split import Folds, folds, splitters
from .table import Table, from_dict, from_pandas, read_csv
from .track import (CommandRun, Run, Store, TrainerEnv, command_run, metric_key, start_run,
                    trainer_env)
from .tune import (Study, Trial, TrialPruned, categorical_param, float_param, int_param)
from .workspace import Workspace, open_workspace

__version__ = _compe.__version__

blend = _blend_module.blend
blend_methods = _blend_module.methods
pseudo = _pseudo_module.pseudo


def write_csv(table: Table, path: str) -> None:
    """Writes a table as CSV atomically."""
    _compe.write_csv(table, str(path))


__all__ = [
    "BackendError", "CommandRun", "Error", "Folds", "InternalError", "InvalidArgumentError", "IoError",
    "NotFoundError", "ParseError", "Run", "StorageError", "Store", "Study", "Table", "TrainerEnv", "Trial",
    "TrialPruned", "Workspace", "blend", "blend_methods", "pseudo", "categorical_param", "command_run", "detect",
    "float_param", "folds", "from_dict", "from_pandas", "int_param", "metric_key", "metrics",
    "open_workspace", "read_csv", "shake", "splitters", "start_run", "trainer_env", "write_csv",
]

"""NumPy execution backend: kernels, weights, the runner with incremental re-execution.

Qt-free except :mod:`designer.backend.images`, which imports ``PySide6.QtGui`` lazily.
"""

from .runner import Cancelled, RunError, Runner
from .weights import WeightsError, init_weights, load_weights, save_weights

__all__ = ["Cancelled", "RunError", "Runner", "WeightsError", "init_weights", "load_weights", "save_weights"]

"""File › Export › PyTorch Code… / ONNX…, and ONNX models opened by File › Open (issues 11 and 12).

``install(window)`` is one of the window's plugins. Exports use the weights the run uses
(``RunController.weights``, or ``request_weights`` when the runner does not hold the current design) and
run on a worker thread (:mod:`.tasks`): a VGG-16 as ONNX takes about 16 s, and the window keeps working
with a busy readout in the status bar. A design with errors is refused before anything is asked, every
error listed; any failure (``ExportError``, ``WeightsError``, ``OSError``, ``OnnxImportError`` …) is one
message box, nothing is written or changed. An ``.onnx`` file given to File › Open (or dropped on the
window) is imported (:func:`designer.interop.onnx_import.import_onnx`), asking for the input size when the
model's is dynamic, and opens as an untitled design named after the model with its weights, run at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from ...core import Design
from ...interop.export_checks import design_errors
from ..document.files import error_text
from . import dialogs
from .tasks import BackgroundTask, BusyIndicator

if TYPE_CHECKING:
    from ..window.main_window import MainWindow

Weights = Mapping[str, np.ndarray]
PYTORCH_FILTER = "PyTorch code (*.py)"
ONNX_FILTER = "ONNX models (*.onnx)"
ONNX_SUFFIX = ".onnx"
MAX_LISTED_ERRORS = 12


def errors_message(design: Design, errors: list[str]) -> str:
    """``VGG-16 has 2 errors; fix them before exporting:`` and one line per error."""
    listed = [f"• {e}" for e in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        listed.append(f"… and {len(errors) - MAX_LISTED_ERRORS} more (see the Summary)")
    noun = "error" if len(errors) == 1 else "errors"
    return f"{design.name} has {len(errors)} {noun}; fix {'it' if len(errors) == 1 else 'them'} before " \
           "exporting. Nothing was written.\n\n" + "\n".join(listed)


def file_stem(design: Design, path: str | None) -> str:
    """The document's file stem, else the design name as a file name (``VGG-16`` → ``VGG-16``)."""
    if path:
        return Path(path).stem
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in design.name).strip("_") or "design"


class Interchange(QObject):
    """The export and ONNX-open commands of one window; ``tasks`` are the ones running."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.tasks: list[BackgroundTask] = []
        self.busy = BusyIndicator()
        window.statusBar().addWidget(self.busy)

    @property
    def running(self) -> bool:
        return bool(self.tasks)

    # --- export ------------------------------------------------------------------------------------------
    def export_pytorch(self, path: str | None = None, include_weights: bool | None = None) -> bool:
        """File › Export › PyTorch Code…: ``net.py`` (and ``net.safetensors`` with the weights). False
        when refused or cancelled; True when the export started (its outcome is shown when it ends)."""
        from ...interop.export_torch import export_pytorch

        design = self._exportable()
        if design is None:
            return False
        path = path or self._ask_path("Export PyTorch code", design, ".py", PYTORCH_FILTER)
        if not path:
            return False
        if include_weights is None:
            include_weights = dialogs.ask_include_weights(self.w, Path(path).with_suffix(".safetensors").name)
            if include_weights is None:
                return False
        label = f"Exporting PyTorch code to {Path(path).name}"
        if include_weights:
            self._with_weights(
                lambda weights: self._export(label, path, lambda: export_pytorch(design, path, weights)))
        else:
            self._export(label, path, lambda: export_pytorch(design, path, None))
        return True

    def export_onnx(self, path: str | None = None) -> bool:
        """File › Export › ONNX…: the design with the run's weights as an ONNX model (as
        ``export_pytorch``)."""
        from ...interop.export_onnx import export_onnx

        design = self._exportable()
        if design is None:
            return False
        path = path or self._ask_path("Export ONNX model", design, ONNX_SUFFIX, ONNX_FILTER)
        if not path:
            return False
        label = f"Exporting ONNX to {Path(path).name}"
        self._with_weights(
            lambda weights: self._export(label, path, lambda: export_onnx(design, path, weights)))
        return True

    def _exportable(self) -> Design | None:
        """The current design, or ``None`` after listing its errors in a message box."""
        design = self.w.document.design
        errors = design_errors(self.w.document.analysis)
        if errors:
            self.w.prompts.error("Cannot export", errors_message(design, errors))
            return None
        return design

    def _ask_path(self, title: str, design: Design, suffix: str, name_filter: str) -> str | None:
        document_path = self.w.document.path
        folder = Path(document_path).parent if document_path else Path.home()
        suggested = str(folder / f"{file_stem(design, document_path)}{suffix}")
        return dialogs.ask_save_path(self.w, title, suggested, name_filter, suffix)

    def _with_weights(self, use: Callable[[Weights], None]) -> None:
        """``use(weights)`` with the weights the run uses for the current design (now, or once the runner's
        worker has made them)."""
        weights = self.w.run.weights
        if weights is None:
            self.w.run.request_weights(use)
        else:
            use(weights)

    def _export(self, label: str, path: str, write: Callable[[], list[Path]]) -> None:
        def done(paths: list[Path]) -> None:
            self.w.statusBar().showMessage("Exported " + " and ".join(str(p) for p in paths), 10000)

        self._start(label, write, done, lambda exc: self._fail("Cannot export", path, exc))

    # --- open ---------------------------------------------------------------------------------------------
    def open_model(self, path: str, input_shape: tuple[int, int, int] | None = None) -> bool:
        """Import the ONNX model at ``path`` on the worker; on success it replaces the current design (the
        caller, ``FileController.open``, has already asked about unsaved changes)."""
        from ...interop.onnx_import import import_onnx

        self._start(f"Opening {Path(path).name}", lambda: import_onnx(path, input_shape),
                    lambda result: self._show_model(path, *result),
                    lambda exc: self._import_failed(path, exc))
        return True

    def _show_model(self, path: str, design: Design, weights: dict[str, np.ndarray]) -> None:
        """The imported design as an untitled document, its weights in the runner, run on the image."""
        self.w.run.cancel()
        self.w.document.reset(design, None)
        self.w.run.set_weights(weights, Path(path).name)
        self.w.statusBar().showMessage(f"Opened {path} as {design.name} with its weights", 10000)

    def _import_failed(self, path: str, exc: BaseException) -> None:
        from ...interop.onnx_import import DynamicInputError

        if isinstance(exc, DynamicInputError):
            shape = dialogs.ask_input_shape(self.w, Path(path).name, exc.channels)
            if shape is not None:
                self.open_model(path, shape)
            return
        self._fail("Cannot open model", path, exc)

    def ask_and_open(self) -> bool:
        """File › Import ONNX Model…: pick an ``.onnx`` file and open it (unsaved changes asked first)."""
        folder = str(Path(self.w.document.path).parent) if self.w.document.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.w, "Import ONNX model", folder,
                                              ONNX_FILTER + ";;All files (*)")
        return bool(path) and self.w.files.open(path)

    # --- tasks --------------------------------------------------------------------------------------------
    def _start(self, label: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None]) -> None:
        task: BackgroundTask

        def finish(handler: Callable[[Any], None], value: Any) -> None:
            self.tasks.remove(task)
            self.busy.show_task(self.tasks[-1].label if self.tasks else None)
            handler(value)

        task = BackgroundTask(label + "…", fn, lambda r: finish(on_done, r), lambda e: finish(on_error, e),
                              self)
        self.tasks.append(task)
        self.busy.show_task(task.label)
        task.start()

    def _fail(self, title: str, path: str, exc: BaseException) -> None:
        text = error_text(path, exc)
        self.w.prompts.error(title, text)
        self.w.statusBar().showMessage(text, 10000)


def install(w: MainWindow) -> None:
    """Register the export and import actions, ``.onnx`` for File › Open and drops, the busy readout."""
    w.interop = interchange = Interchange(w)
    w.files.openers[ONNX_SUFFIX] = interchange.open_model
    w.prompts.open_kinds.append(("ONNX models", f"*{ONNX_SUFFIX}"))
    export = w.registry.submenu("export_to", "E&xport", "file", "export")
    for name, text, slot, tip in (
        ("export_pytorch", "&PyTorch Code…", interchange.export_pytorch,
         "One readable nn.Module named after the design; optionally the current weights as .safetensors"),
        ("export_onnx", "&ONNX…", interchange.export_onnx, "An ONNX model (opset 17) with the current weights"),
    ):
        export.addAction(w.registry.add(name, text, slot, tip=tip))
    w.registry.add("import_onnx", "&Import ONNX Model…", interchange.ask_and_open, "file", "import",
                   tip="Open an ONNX model as a design with its weights (File › Open takes .onnx too)")

"""The designer window: palette | canvas | inspector, summary dock, status bar, files and settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QWidget

from ..core import Design
from .autosave import Autosaver, Recovered
from .canvas import DesignCanvas
from .document import DesignDocument
from .edit_ops import EditOps
from .file_ops import FileController
from .image_source import is_image_path
from .inspector import InspectorPanel
from .palette import LayerPalette
from .prompts import Prompts
from .run_panels import RunPanels
from .status import StatusSummary
from .summary_panel import SummaryPanel

APP_NAME = "CNN Designer"
LAYOUT_VERSION = 2  # bump when the default dock layout changes, so old saved layouts are dropped


class MainWindow(QMainWindow):
    def __init__(self, design: Design, path: str | None = None, settings: QSettings | None = None,
                 autosave: bool = True, restore: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings()
        self.document = DesignDocument(design, path, self)
        self.prompts = Prompts(self)
        self.files = FileController(self.document, self.prompts, self.settings)
        self.edit_ops = EditOps(self.document)
        self.canvas = DesignCanvas(self.document)
        self.setCentralWidget(self.canvas)
        self.palette = LayerPalette(self.document)
        self.inspector = InspectorPanel(self.document)
        self.summary = SummaryPanel(self.document)
        self.docks = [self._dock("Layers", "paletteDock", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea),
                      self._dock("Inspector", "inspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea),
                      self._dock("Summary", "summaryDock", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea)]
        self.run_panels = RunPanels(self)
        self.run_panels.add_docks()
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        from .actions import WindowActions
        self.actions_ = WindowActions(self)
        self.status = StatusSummary(self.document)
        self.statusBar().addPermanentWidget(self.status)
        self.autosaver = Autosaver(self.document) if autosave else None
        self.setAcceptDrops(True)
        self.document.path_changed.connect(self._on_title_change)
        self.document.modified_changed.connect(self._on_title_change)
        self.document.changed.connect(self._on_title_change)
        self._on_title_change()
        self.resize(1400, 900)
        self.run_panels.sizes()
        if restore:
            self.restore_settings()

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def action(self, name: str):
        return self.actions_.by_name[name]

    # --- title, settings, closing ----------------------------------------------------------------------
    def _on_title_change(self, *args) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.modified)

    def restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state, LAYOUT_VERSION)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_settings()
        self.run_panels.controller.shutdown()
        if self.autosaver is not None:
            self.autosaver.discard()
        event.accept()

    # --- dropping files ------------------------------------------------------------------------------------
    def _dropped_design(self, event) -> str | None:
        """A dropped ``.json`` design or image file (PNG, JPEG, BMP)."""
        for url in event.mimeData().urls():
            path = url.toLocalFile() if url.isLocalFile() else ""
            if Path(path).suffix.lower() == ".json" or is_image_path(path):
                return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_design(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_design(event)
        if path:
            event.acceptProposedAction()
            if is_image_path(path):
                self.run_panels.open_image(path)
            else:
                self.files.open(path)

    # --- commands that need the window --------------------------------------------------------------------
    def paste(self) -> None:
        try:
            self.edit_ops.paste()
        except ValueError as exc:
            self.statusBar().showMessage(f"Cannot paste: {exc}", 6000)

    def recover(self, recovered: Recovered) -> None:
        """Load an autosaved design as modified, unsaved changes to its original file."""
        self.document.reset(recovered.design, recovered.original_path)
        self.document.undo_stack.resetClean()
        self.document.modified_changed.emit(True)
        recovered.discard()

    @staticmethod
    def run_available() -> bool:
        return True

    def run_sample(self) -> None:
        """Run the design on the current input image (the sample unless the user opened one)."""
        self.run_panels.controller.run()

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", f"<b>{APP_NAME}</b><br>Design, analyse and run convolutional "
                                                     "networks. Every edit can be undone; shapes, parameters, "
                                                     "MACs, receptive fields and memory update as you type.")

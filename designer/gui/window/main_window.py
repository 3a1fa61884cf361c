"""The main window and the small API its panels plug into.

Build order (``MainWindow.__init__``): models first (document, files, input image, run controller,
unit probe), then every action (``actions.register_window_actions``), then the panels, each taking
its model in ``__init__``, then the plugins, then the workspaces. Panels never reach into each other;
they talk through the document and the run controller, and the window wires the rare request that
crosses panels (a gridding warning's "show coverage" link).

Adding a panel or an action from a new package (``designer/gui/memory/`` …)::

    def install(window: MainWindow) -> None:          # append to PLUGINS below
        panel = MemoryPanel(window.document)
        window.add_dock("memory", "Memory", panel, Area.RightDockWidgetArea, workspaces=("design",))
        window.registry.add("export_onnx", "Export ONNX…", slot, menu="file", section="export")

``window.dock(name)`` finds a dock, ``window.registry[name]`` an action, ``window.show_dock(name)``
raises one; menus are ``file edit view run image weights help`` with the sections listed in
``actions.MENUS``. A plugin's dock joins the workspaces it names; its default place is ``area``.
``window.workspaces.add(name, title, central_widget, arrange)`` adds a workspace (a toolbar tab and
Ctrl+<n>); a panel reports a refused edit with ``document.notice.emit(text)`` (shown in the status bar).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QScrollArea,
    QToolBar,
    QWidget,
)

from ...core import Design
from ..arithmetic import plugin as arithmetic_plugin
from ..canvas.view import DesignCanvas
from ..document.autosave import Autosaver, Recovered
from ..document.document import DesignDocument
from ..document.edits import EditOps
from ..document.files import FileController
from ..inspector.panel import InspectorPanel
from ..interop import plugin as interop_plugin
from ..memory import plugin as memory_plugin
from ..palette.palette import LayerPalette
from ..run import plugin as run_plugin
from ..run.controller import RunController
from ..run.image_source import IMAGE_SUFFIXES, InputImage, is_image_path
from ..run.rf_overlay import UnitProbe
from ..summary.panel import SummaryPanel
from ..summary.status import StatusSummary
from . import help as help_pages
from .actions import ActionRegistry, register_window_actions
from .icons import undo_icon
from .prompts import Prompts
from .screen import fit_to_screen
from .workspaces import Workspaces, arrange_anchors

APP_NAME = "CNN Designer"
Area = Qt.DockWidgetArea
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"
WEIGHTS_OPEN_FILTER = ("Weights (*.npz *.safetensors *.pt *.pth);;NumPy (*.npz);;"
                       "safetensors (*.safetensors);;PyTorch checkpoints (*.pt *.pth);;All files (*)")
WEIGHTS_SAVE_FILTER = "NumPy (*.npz);;safetensors (*.safetensors)"
PLUGINS: tuple[Callable[[MainWindow], None], ...] = (run_plugin.install, arithmetic_plugin.install,
                                                     interop_plugin.install, memory_plugin.install)
DOCK_FEATURES = (QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                 | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
PREFERRED_SIZE = (1600, 1000)
# px: a panel that cannot be narrower than this scrolls, so the window fits 1024 px (a side dock's minimum
# width adds to the window's; a bottom dock's, even in a tab, to the canvas column's: 1024 − 2 side docks)
DOCK_MAX_MIN = {Area.LeftDockWidgetArea: 380, Area.RightDockWidgetArea: 380, Area.BottomDockWidgetArea: 480,
                Area.TopDockWidgetArea: 480}


def fit_in_dock(widget: QWidget, area: Area) -> QWidget:
    """``widget`` itself, or inside a scroll area when it cannot shrink to ``DOCK_MAX_MIN[area]`` px."""
    if widget.minimumSizeHint().width() <= DOCK_MAX_MIN.get(area, 480):
        return widget
    scroll = QScrollArea()
    scroll.setObjectName(f"{widget.objectName() or 'panel'}Scroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(widget)
    return scroll


class MainWindow(QMainWindow):
    def __init__(self, design: Design, path: str | None = None, settings: QSettings | None = None,
                 autosave: bool = True, restore: bool = True, workspace: str = "design",
                 size: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or QSettings()
        self.docks: dict[str, QDockWidget] = {}
        self.dock_areas: dict[str, Area] = {}  # each dock's home area (where the default layouts put it)
        self._build_models(design, path)
        self.registry = ActionRegistry(self)
        register_window_actions(self)
        self.workspaces = Workspaces(self, self.settings, use_saved=restore)
        self.setCentralWidget(self.workspaces.stack)
        self._build_design_panels()
        for install in PLUGINS:
            install(self)
        self.registry.attach_local(self.canvas, self.summary.table)
        self._add_workspace_actions()
        self._build_toolbar()
        self.status = StatusSummary(self.document)
        self.statusBar().addPermanentWidget(self.status)
        self.autosaver = Autosaver(self.document) if autosave else None
        if self.autosaver is not None:
            self.autosaver.failed.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.setAcceptDrops(True)
        for signal in (self.document.path_changed, self.document.modified_changed, self.document.changed):
            signal.connect(self._on_title_change)
        self._on_title_change()
        if size is not None:  # an exact size (screenshots, tests): not fitted to the screen
            self.resize(*size)
        else:
            fit_to_screen(self, PREFERRED_SIZE)
        if restore:
            self.restore_settings()
        intended = self.size()
        self.workspaces.switch(self._start_workspace(workspace, restore))
        self.resize(intended)  # plugin docks side by side before they were tabbed may have widened the window

    # --- building -----------------------------------------------------------------------------------------
    def _build_models(self, design: Design, path: str | None) -> None:
        self.document = DesignDocument(design, path, self)
        self.prompts = Prompts(self)
        self.files = FileController(self.document, self.prompts, self.settings)
        self.files.failed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.document.notice.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.edit_ops = EditOps(self.document)
        self.image = InputImage(self, self.settings)
        self.run = RunController(self.document, self.image, self)
        self.probe = UnitProbe(self)
        self.run.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.files.opened.connect(self._on_file_opened)

    def _build_design_panels(self) -> None:
        self.canvas = DesignCanvas(self.document)
        self.palette = LayerPalette(self.document)
        self.inspector = InspectorPanel(self.document)
        self.summary = SummaryPanel(self.document, self.run)
        self.inspector.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.workspaces.add("design", "&Design", self.canvas, arrange_design)
        self.add_dock("palette", "Layers", self.palette, Area.LeftDockWidgetArea, ("design",))
        self.add_dock("inspector", "Inspector", self.inspector, Area.RightDockWidgetArea, ("design",))
        self.add_dock("summary", "Summary", self.summary, Area.BottomDockWidgetArea, ("design",))
        self.setCorner(Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)

    def _add_workspace_actions(self) -> None:
        for k, name in enumerate(self.workspaces.names(), start=1):
            title = self.workspaces.spaces[name].title
            self.registry.add(f"workspace_{name}", f"{title} Workspace", lambda n=name: self.workspaces.switch(n),
                             "view", "workspace", f"Ctrl+{k}")

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addWidget(self.workspaces.tabs)
        bar.addSeparator()
        a = self.registry
        a["undo"].setIcon(undo_icon(False))
        a["redo"].setIcon(undo_icon(True))
        for name in ("new", "open", "save", None, "undo", "redo", None, "fit", None, "open_image", "run_sample",
                     "cancel_run", "auto_run"):
            bar.addSeparator() if name is None else bar.addAction(a[name])
        for name in ("undo", "redo", "new", "open", "save"):  # the tooltip names them (and the edit)
            bar.widgetForAction(a[name]).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.addToolBar(bar)
        self.toolbar = bar

    # --- the panel API -----------------------------------------------------------------------------------
    def add_dock(self, name: str, title: str, widget: QWidget, area: Area,
                 workspaces: tuple[str, ...] = ("design",)) -> QDockWidget:
        """Register ``widget`` as dock ``name`` (its object name is ``<name>Dock``) in ``workspaces``; its
        show/hide toggle goes into View › panels."""
        if name in self.docks:
            raise ValueError(f"dock {name!r} is registered twice")
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}Dock")
        dock.setWidget(fit_in_dock(widget, area))
        dock.setFeatures(DOCK_FEATURES)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        self.dock_areas[name] = area
        self.workspaces.member(name, *workspaces)
        self.registry.insert(dock.toggleViewAction(), "view", "panels")
        return dock

    def dock(self, name: str) -> QDockWidget:
        return self.docks[name]

    def show_dock(self, name: str) -> None:
        """Show and raise dock ``name``, switching to a workspace that holds it if needed."""
        spaces = self.workspaces.spaces
        if name not in spaces[self.workspaces.current].docks:
            self.workspaces.switch(next(n for n, s in spaces.items() if name in s.docks))
        self.docks[name].show()
        self.docks[name].raise_()

    def action(self, name: str):
        return self.registry[name]

    # --- title, settings, closing ----------------------------------------------------------------------
    def _on_title_change(self, *args) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — {APP_NAME}")
        self.setWindowModified(self.document.modified)

    def _start_workspace(self, requested: str, restore: bool) -> str:
        saved = self.settings.value("window/workspace") if restore else None
        return saved if requested == "design" and saved in self.workspaces.spaces else requested

    def restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
            fit_to_screen(self, (self.width(), self.height()))

    def save_settings(self) -> None:
        self.workspaces.save()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/workspace", self.workspaces.current)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save("closing"):
            event.ignore()
            return
        self.save_settings()
        self.run.shutdown()
        if self.autosaver is not None:
            self.autosaver.close()
        event.accept()

    # --- dropping files ------------------------------------------------------------------------------------
    def _dropped_file(self, event) -> str | None:
        """A dropped ``.json`` design, a file a plugin opens (``.onnx``) or an image file (PNG, JPEG, BMP)."""
        for url in event.mimeData().urls():
            path = url.toLocalFile() if url.isLocalFile() else ""
            if Path(path).suffix.lower() in (".json", *self.files.openers) or is_image_path(path):
                return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_file(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_file(event)
        if path:
            event.acceptProposedAction()
            if is_image_path(path):
                self.open_image(path)
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
        if self.autosaver is not None:
            self.autosaver.adopt(recovered)
        else:
            recovered.discard()

    def _on_file_opened(self) -> None:
        """A design opened from a file (Ctrl+O, recent, examples, drop) runs at once, as one from the
        command line does."""
        if self.document.analysis.valid:
            self.run.run()

    def open_image(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.statusBar().showMessage(f"Opening {path}…", 4000)
            self.run.open_image(path)

    def reseed(self, seed: int | None = None) -> None:
        if seed is None:
            seed, ok = QInputDialog.getInt(self, "Re-seed weights", "Seed for the He-normal weights:",
                                           self.run.seed + 1, 0, 2**31 - 1)
            if not ok:
                return
        self.run.reseed(seed)

    def load_weights(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load weights", "", WEIGHTS_OPEN_FILTER)
        if path:
            self.run.load_weights(path)

    def save_weights(self, path: str | None = None) -> None:
        if path is None:
            path, chosen = QFileDialog.getSaveFileName(self, "Save weights", "weights.npz",
                                                       WEIGHTS_SAVE_FILTER)
            if path and not Path(path).suffix:  # save_weights picks the format by the suffix
                path += ".safetensors" if "safetensors" in chosen else ".npz"
        if path:
            self.run.save_weights(path)

    def show_help(self, page: str) -> None:
        help_pages.show(self, page)

    def about(self) -> None:
        help_pages.about(self, APP_NAME)


def arrange_design(w: MainWindow) -> None:
    """Palette | canvas | inspector over a summary strip as wide as the canvas; other docks of the
    workspace (coverage, plugins') become tabs beside the dock of their home area."""
    arrange_anchors(w, "design", {Area.LeftDockWidgetArea: "palette", Area.RightDockWidgetArea: "inspector",
                                  Area.BottomDockWidgetArea: "summary"})
    width, height = w.width(), w.height()
    side = max(200, min(280, int(width * 0.17)))
    w.resizeDocks([w.docks["palette"], w.docks["inspector"]], [side, max(280, min(420, int(width * 0.26)))],
                  Qt.Orientation.Horizontal)
    w.resizeDocks([w.docks["summary"]], [int(height * 0.28)], Qt.Orientation.Vertical)

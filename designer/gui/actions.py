"""Menus, toolbar and shortcuts of the main window."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar

from .file_ops import examples

if TYPE_CHECKING:
    from .main_window import MainWindow

Key = QKeySequence.StandardKey


class WindowActions:
    """Creates every action; ``self.by_name`` lets tests trigger them as a user would."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.by_name: dict[str, QAction] = {}
        self._file_menu()
        self._edit_menu()
        self._view_menu()
        self._run_menu()
        self._help_menu()
        self._toolbar()

    def add(self, name: str, text: str, slot: Callable, shortcut=None, icon=None, local: bool = False) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"action_{name}")
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.window.style().standardIcon(icon))
        action.triggered.connect(lambda checked=False: slot())
        if local:  # layer shortcuts (Delete, Ctrl+C…) belong to the canvas and table, not to text fields
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.window.canvas.addAction(action)
            self.window.summary.table.addAction(action)
        self.by_name[name] = action
        return action

    def _file_menu(self) -> None:
        w, files, sp = self.window, self.window.files, QStyle.StandardPixmap
        menu = w.menuBar().addMenu("&File")
        menu.addAction(self.add("new", "&New", files.new, Key.New, sp.SP_FileIcon))
        menu.addAction(self.add("open", "&Open…", files.open, Key.Open, sp.SP_DialogOpenButton))
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.examples_menu = menu.addMenu("&Examples")
        for name, path in examples():
            self.examples_menu.addAction(name, lambda p=path: files.open_example(p))
        menu.addSeparator()
        menu.addAction(self.add("save", "&Save", files.save, Key.Save, sp.SP_DialogSaveButton))
        menu.addAction(self.add("save_as", "Save &As…", files.save_as, Key.SaveAs))
        menu.addAction(self.add("export", "&Export Summary…", files.export_summary, "Ctrl+E"))
        menu.addSeparator()
        menu.addAction(self.add("quit", "&Quit", w.close, Key.Quit))

    def _fill_recent(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        files = self.window.files
        for path in files.recent_files():
            menu.addAction(path, lambda p=path: files.open(p))
        if menu.isEmpty():
            menu.addAction("(no recent files)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", files.clear_recent)

    def _edit_menu(self) -> None:
        w, ops = self.window, self.window.edit_ops
        menu = w.menuBar().addMenu("&Edit")
        stack = w.document.undo_stack
        undo = stack.createUndoAction(w, "&Undo")
        undo.setShortcut(QKeySequence(Key.Undo))
        undo.setIcon(w.style().standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        redo = stack.createRedoAction(w, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(Key.Redo)])
        redo.setIcon(w.style().standardIcon(QStyle.StandardPixmap.SP_ArrowForward))
        self.by_name.update(undo=undo, redo=redo)
        menu.addActions([undo, redo])
        menu.addSeparator()
        menu.addAction(self.add("cut", "Cu&t", ops.cut, Key.Cut, local=True))
        menu.addAction(self.add("copy", "&Copy", ops.copy, Key.Copy, local=True))
        menu.addAction(self.add("paste", "&Paste", w.paste, Key.Paste, local=True))
        menu.addAction(self.add("duplicate", "D&uplicate", ops.duplicate, "Ctrl+D", local=True))
        menu.addAction(self.add("delete", "&Delete", ops.delete, Key.Delete, local=True))
        menu.addSeparator()
        menu.addAction(self.add("select_input", "Select &Input", lambda: w.document.select(None), "Escape",
                                local=True))

    def _view_menu(self) -> None:
        w = self.window
        menu = w.menuBar().addMenu("&View")
        menu.addAction(self.add("zoom_in", "Zoom &In", lambda: w.canvas.zoom(1.25), Key.ZoomIn))
        menu.addAction(self.add("zoom_out", "Zoom &Out", lambda: w.canvas.zoom(0.8), Key.ZoomOut))
        menu.addAction(self.add("zoom_reset", "&Actual Size", w.canvas.resetTransform, "Ctrl+1"))
        menu.addAction(self.add("fit", "&Fit to View", w.canvas.fit, "Ctrl+0",
                                QStyle.StandardPixmap.SP_TitleBarMaxButton))
        menu.addSeparator()
        for dock in w.docks:
            menu.addAction(dock.toggleViewAction())

    def _run_menu(self) -> None:
        self.window.run_panels.add_menus(self)

    def _help_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Help")
        menu.addAction(self.add("about", "&About CNN Designer", self.window.about))

    def _toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("new", "open", "save", None, "undo", "redo", None, "fit"):
            if name is None:
                bar.addSeparator()
            else:
                bar.addAction(self.by_name[name])
        self.window.run_panels.add_toolbar(bar, self)
        for name in ("undo", "redo"):  # their text names the edit; the tooltip shows it
            bar.widgetForAction(self.by_name[name]).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.window.addToolBar(bar)

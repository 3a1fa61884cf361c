"""Every action of the window, registered in one place before the panels exist.

``ActionRegistry`` owns the menu bar: menus appear in ``MENUS`` order, each split into named sections
(separators between them), so a plugin adds ``Export ONNX…`` to File › export without knowing what
else is there. ``register_window_actions`` defines the built-in actions; their slots call the
document, the file controller, the run controller or a window method, never a panel's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QWidget

from ..document.files import examples

if TYPE_CHECKING:
    from .main_window import MainWindow

Key = QKeySequence.StandardKey
SP = QStyle.StandardPixmap

# menu key → (title, sections in order)
MENUS: dict[str, tuple[str, tuple[str, ...]]] = {
    "file": ("&File", ("open", "save", "export", "import", "quit")),
    "edit": ("&Edit", ("history", "clipboard", "selection")),
    "view": ("&View", ("workspace", "zoom", "panels", "layout")),
    "run": ("&Run", ("run",)),
    "image": ("&Image", ("image", "fit")),
    "weights": ("&Weights", ("weights", "notes")),
    "help": ("&Help", ("guide", "about")),
}


class ActionRegistry:
    """Named actions and the menus they live in. ``registry["save"]`` is the Save action."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        self.by_name: dict[str, QAction] = {}
        self.local: list[QAction] = []
        self.menus: dict[str, QMenu] = {}
        self.submenus: dict[str, QMenu] = {}
        self._ends: dict[tuple[str, str], QAction] = {}
        for key, (title, sections) in MENUS.items():
            self._make_menu(key, title, sections)

    def _make_menu(self, key: str, title: str, sections: tuple[str, ...]) -> None:
        menu = self.window.menuBar().addMenu(title)
        menu.setObjectName(f"menu_{key}")
        menu.setSeparatorsCollapsible(True)
        self.menus[key] = menu
        for section in sections:  # an invisible end marker per section; new actions go before it
            self._ends[key, section] = menu.addSeparator()

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def add(self, name: str, text: str, slot: Callable[[], object] | None, menu: str | None = None,
            section: str | None = None, shortcut=None, icon: SP | None = None, local: bool = False,
            tip: str | None = None, checkable: bool = False) -> QAction:
        """Create action ``name`` and put it at the end of ``menu``'s ``section`` (default: its first).

        ``local`` actions (Delete, Ctrl+C…) act only in the widgets passed to ``attach_local``."""
        if name in self.by_name:
            raise ValueError(f"action {name!r} is registered twice")
        action = QAction(text, self.window)
        action.setObjectName(f"action_{name}")
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        if icon is not None:
            action.setIcon(self.window.style().standardIcon(icon))
        if tip:
            action.setToolTip(tip)
        action.setCheckable(checkable)
        if slot is not None:
            action.triggered.connect(lambda checked=False: slot())
        if local:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.local.append(action)
        self.by_name[name] = action
        if menu is not None:
            self.insert(action, menu, section)
        return action

    def insert(self, action: QAction, menu: str, section: str | None = None) -> None:
        """Put an existing action (or a submenu's action) into ``menu``'s ``section``."""
        sections = MENUS[menu][1] if menu in MENUS else ()
        section = section or (sections[0] if sections else "")
        if (menu, section) not in self._ends:
            raise KeyError(f"no section {section!r} in menu {menu!r}")
        self.menus[menu].insertAction(self._ends[menu, section], action)

    def submenu(self, name: str, title: str, menu: str, section: str | None = None) -> QMenu:
        """A submenu ``name`` (``registry.submenus[name]``) in ``menu``'s ``section``."""
        sub = QMenu(title, self.window)
        sub.setObjectName(f"menu_{name}")
        self.submenus[name] = sub
        self.insert(sub.menuAction(), menu, section)
        return sub

    def attach_local(self, *widgets: QWidget) -> None:
        """Give the local (layer) actions to the widgets where they apply: the canvas and the table."""
        for widget in widgets:
            widget.addActions(self.local)


def register_window_actions(w: MainWindow) -> None:
    """The built-in actions of the window (plugins add theirs through ``w.registry.add``)."""
    _file_actions(w)
    _edit_actions(w)
    _view_actions(w)
    _run_actions(w)
    _help_actions(w)


def _file_actions(w: MainWindow) -> None:
    a, files = w.registry, w.files
    a.add("new", "&New", files.new, "file", "open", Key.New, SP.SP_FileIcon)
    a.add("open", "&Open…", files.open, "file", "open", Key.Open, SP.SP_DialogOpenButton)
    recent = a.submenu("recent", "Open &Recent", "file", "open")
    recent.aboutToShow.connect(lambda: _fill_recent(recent, files))
    examples_menu = a.submenu("examples", "&Examples", "file", "open")
    for name, path in examples():
        examples_menu.addAction(name, lambda p=path: files.open_example(p))
    a.add("save", "&Save", files.save, "file", "save", Key.Save, SP.SP_DialogSaveButton)
    a.add("save_as", "Save &As…", files.save_as, "file", "save", Key.SaveAs)
    a.add("export", "Export &Summary…", files.export_summary, "file", "export", "Ctrl+E")
    a.add("quit", "&Quit", w.close, "file", "quit", Key.Quit)


def _fill_recent(menu: QMenu, files) -> None:
    menu.clear()
    for path in files.recent_files():
        menu.addAction(path, lambda p=path: files.open(p))
    if menu.isEmpty():
        menu.addAction("(no recent files)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear list", files.clear_recent)


def redo_shortcuts() -> list[QKeySequence]:
    """Ctrl+Shift+Z plus the platform's Redo keys, without duplicates: on Linux the platform's Redo *is*
    Ctrl+Shift+Z, and the same sequence twice makes Qt refuse it as an ambiguous overload."""
    keys: list[QKeySequence] = []
    for key in [QKeySequence("Ctrl+Shift+Z"), *QKeySequence.keyBindings(Key.Redo)]:
        if not key.isEmpty() and all(key != k for k in keys):
            keys.append(key)
    return keys


def _edit_actions(w: MainWindow) -> None:
    a, ops, stack = w.registry, w.edit_ops, w.document.undo_stack
    undo = stack.createUndoAction(w, "&Undo")
    undo.setShortcuts(QKeySequence.keyBindings(Key.Undo))
    undo.setIcon(w.style().standardIcon(SP.SP_DialogResetButton))
    redo = stack.createRedoAction(w, "&Redo")
    redo.setShortcuts(redo_shortcuts())
    redo.setIcon(w.style().standardIcon(SP.SP_BrowserReload))
    for name, action in (("undo", undo), ("redo", redo)):
        action.setObjectName(f"action_{name}")
        a.by_name[name] = action
        a.insert(action, "edit", "history")
    a.add("cut", "Cu&t", ops.cut, "edit", "clipboard", Key.Cut, local=True)
    a.add("copy", "&Copy", ops.copy, "edit", "clipboard", Key.Copy, local=True)
    a.add("paste", "&Paste", w.paste, "edit", "clipboard", Key.Paste, local=True)
    a.add("duplicate", "D&uplicate", ops.duplicate, "edit", "clipboard", "Ctrl+D", local=True)
    a.add("delete", "&Delete", ops.delete, "edit", "clipboard", Key.Delete, local=True)
    a.add("select_input", "Select &Input", lambda: w.document.select(None), "edit", "selection", "Escape",
          local=True)


def _view_actions(w: MainWindow) -> None:
    a = w.registry
    a.add("zoom_in", "Zoom &In", lambda: w.canvas.zoom(1.25), "view", "zoom", Key.ZoomIn)
    a.add("zoom_out", "Zoom &Out", lambda: w.canvas.zoom(0.8), "view", "zoom", Key.ZoomOut)
    a.add("zoom_reset", "&Actual Size", lambda: w.canvas.resetTransform(), "view", "zoom", "Ctrl+Shift+0")
    a.add("fit", "&Fit to View", lambda: w.canvas.fit(), "view", "zoom", "Ctrl+0", SP.SP_TitleBarMaxButton,
          tip="Fit the whole network in the canvas (Ctrl+0)")
    a.add("reset_layout", "&Reset Layout", lambda: w.workspaces.reset_layout(), "view", "layout")


def _run_actions(w: MainWindow) -> None:
    a, c = w.registry, w.run
    a.add("run_sample", "&Run", c.run, "run", "run", "F5", SP.SP_MediaPlay,
          tip="Run the design on the input image (F5); only layers changed since the last run recompute")
    cancel = a.add("cancel_run", "&Cancel Run", c.cancel, "run", "run", "Ctrl+.", SP.SP_MediaStop)
    cancel.setIconText("Cancel")
    auto = a.add("auto_run", "&Auto-run After Each Edit", None, "run", "run", icon=SP.SP_BrowserReload,
                 tip="Rerun the changed layers after every edit", checkable=True)
    auto.setIconText("Auto-run")
    auto.toggled.connect(c.set_auto_run)
    c.state_changed.connect(lambda: cancel.setEnabled(c.busy))
    cancel.setEnabled(c.busy)
    a.add("open_image", "&Open Image…", lambda: w.open_image(), "image", "image", "Ctrl+I", SP.SP_DirOpenIcon)
    a.add("sample_image", "Use &Sample Image", w.image.use_sample, "image", "image")
    a.add("reseed", "&Re-seed…", lambda: w.reseed(), "weights", "weights")
    a.add("load_weights", "&Load Weights (.npz, .safetensors, .pt)…", lambda: w.load_weights(), "weights",
          "weights")
    a.add("save_weights", "&Save Weights (.npz, .safetensors)…", lambda: w.save_weights(), "weights",
          "weights")
    note = a.add("presets_note", "Kernel presets: select a Conv2d layer, see the Inspector", None, "weights",
                 "notes")
    note.setEnabled(False)


def _help_actions(w: MainWindow) -> None:
    a = w.registry
    a.add("getting_started", "&Getting Started", lambda: w.show_help("start"), "help", "guide", Key.HelpContents)
    a.add("shortcuts", "&Keyboard Shortcuts", lambda: w.show_help("shortcuts"), "help", "guide", "Ctrl+/")
    a.add("about", "&About CNN Designer", lambda: w.about(), "help", "about")

"""Workspaces: named dock layouts of one window (Design, Run), switched by toolbar tabs or Ctrl+1/2.

Each workspace has a central widget (the canvas, the feature maps), the docks that belong to it and a
default arrangement. Switching saves the layout the user left (``QMainWindow.saveState``) under
``workspaces/<name>`` in the settings and restores the other one; View › Reset Layout re-applies the
default. Docks that belong to other workspaces are hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QStackedWidget, QTabBar, QWidget

if TYPE_CHECKING:
    from .main_window import MainWindow

LAYOUT_VERSION = 3  # bump when a default layout changes, so layouts saved by older versions are dropped


@dataclass
class Workspace:
    name: str
    title: str
    central: QWidget
    arrange: Callable[[MainWindow], None]  # the default layout: place, size and show this workspace's docks
    docks: list[str] = field(default_factory=list)


class Workspaces(QObject):
    """Owns the central stack and the tab bar. Signal ``changed(name)`` after a switch."""

    changed = Signal(str)

    def __init__(self, window: MainWindow, settings: QSettings, use_saved: bool = True) -> None:
        super().__init__(window)
        self.window, self.settings = window, settings
        self.use_saved = use_saved  # False: start from the default layouts (screenshots), remember this session's
        self._states: dict[str, QByteArray] = {}
        self.stack = QStackedWidget()
        self.stack.setObjectName("centralStack")
        self.tabs = QTabBar()
        self.tabs.setObjectName("workspaceTabs")
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        self.tabs.currentChanged.connect(self._on_tab_change)
        self.spaces: dict[str, Workspace] = {}
        self.current: str | None = None

    def add(self, name: str, title: str, central: QWidget, arrange: Callable[[MainWindow], None]) -> Workspace:
        space = Workspace(name, title, central, arrange)
        self.spaces[name] = space
        self.stack.addWidget(central)
        self.tabs.blockSignals(True)
        self.tabs.addTab(title)
        self.tabs.setTabToolTip(self.tabs.count() - 1, f"{title.replace('&', '')} workspace "
                                                       f"(Ctrl+{self.tabs.count()})")
        self.tabs.blockSignals(False)
        return space

    def names(self) -> list[str]:
        return list(self.spaces)

    def member(self, dock: str, *workspaces: str) -> None:
        for name in workspaces:
            self.spaces[name].docks.append(dock)

    # --- switching -------------------------------------------------------------------------------------
    def switch(self, name: str) -> None:
        if name not in self.spaces:
            raise KeyError(f"no workspace {name!r}; choose one of {', '.join(self.spaces)}")
        if name == self.current:
            return
        if self.current is not None:
            self.save()
        self.current = name
        space = self.spaces[name]
        for dock_name, dock in self.window.docks.items():  # out of the layout, with their tab groups (hidden
            if dock_name not in space.docks:  # docks left in a group leave stale tab bars on screen)
                self.window.removeDockWidget(dock)
        self.stack.setCurrentWidget(space.central)
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(self.names().index(name))
        self.tabs.blockSignals(False)
        if not self._restore(name):
            self._arrange(space)
        self.changed.emit(name)

    def _on_tab_change(self, index: int) -> None:
        if 0 <= index < len(self.spaces):
            self.switch(self.names()[index])

    def _arrange(self, space: Workspace) -> None:
        for dock_name, dock in self.window.docks.items():
            if dock_name not in space.docks:
                self.window.removeDockWidget(dock)
        space.arrange(self.window)

    def _restore(self, name: str) -> bool:
        state = self._states.get(name) or (self.settings.value(f"workspaces/{name}") if self.use_saved else None)
        if not isinstance(state, QByteArray) or not self.window.restoreState(state, LAYOUT_VERSION):
            return False
        members = self.spaces[name].docks
        for dock_name, dock in self.window.docks.items():
            if dock_name not in members:
                self.window.removeDockWidget(dock)
            elif self.window.dockWidgetArea(dock) == Qt.DockWidgetArea.NoDockWidgetArea:  # new since the save
                self.window.addDockWidget(self.window.dock_areas[dock_name], dock)
        return True

    def save(self) -> None:
        if self.current is not None:
            self._states[self.current] = self.window.saveState(LAYOUT_VERSION)
            self.settings.setValue(f"workspaces/{self.current}", self._states[self.current])

    def reset_layout(self) -> None:
        """Forget every saved layout and arrange the current workspace as it first opened."""
        self._states.clear()
        for name in self.spaces:
            self.settings.remove(f"workspaces/{name}")
        if self.current is not None:
            self._arrange(self.spaces[self.current])


def tabify_extras(w: MainWindow, workspace: str, anchors: dict[Qt.DockWidgetArea, str]) -> None:
    """Put every other dock of ``workspace`` in a tab beside the anchor dock of its home area (the area it
    was registered with), shown or hidden as it is (a plugin may keep its panel for View › panels); the
    anchors stay in front."""
    for name in w.workspaces.spaces[workspace].docks:
        if name in anchors.values():
            continue
        dock, anchor = w.docks[name], anchors.get(w.dock_areas[name])
        if w.dockWidgetArea(dock) == Qt.DockWidgetArea.NoDockWidgetArea:  # taken out by another workspace
            visible = not dock.isHidden()
            w.addDockWidget(w.dock_areas[name], dock)
            dock.setVisible(visible)
        if anchor is not None and w.docks[anchor] not in w.tabifiedDockWidgets(dock):
            w.tabifyDockWidget(w.docks[anchor], dock)
    for anchor in anchors.values():
        w.docks[anchor].raise_()


def arrange_anchors(w: MainWindow, workspace: str, anchors: dict[Qt.DockWidgetArea, str]) -> None:
    """Place each anchor dock in its area, show the coverage dock, and tab every other dock of ``workspace``
    beside the anchor of its home area (the shared first step of each workspace's ``arrange``)."""
    for area, name in anchors.items():
        place(w, name, area)
    w.docks["coverage"].show()
    tabify_extras(w, workspace, anchors)


def place(w: MainWindow, name: str, area: Qt.DockWidgetArea) -> None:
    """Show dock ``name`` in ``area``, moving it only when it is elsewhere (re-adding a dock that is already
    there leaves a stale tab bar behind in Qt's layout)."""
    dock = w.docks[name]
    if dock.isFloating() or w.dockWidgetArea(dock) != area:
        dock.setFloating(False)
        w.addDockWidget(area, dock)
    dock.show()

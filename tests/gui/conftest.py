"""Fixtures for driving the window offscreen: isolated settings and data folders, scripted dialogs."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

import designer.gui  # noqa: F401  (applies the PySide6/Python 3.11 None workaround first)
from designer.core import Design
from designer.gui.window.prompts import Prompts

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


class ScriptedPrompts(Prompts):
    """Answers the window's questions from attributes and records what was asked."""

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.save_answer = "discard"
        self.open_answer: str | None = None
        self.save_as_answer: str | None = None
        self.export_answer: str | None = None
        self.recover_answer = True
        self.errors: list[tuple[str, str]] = []
        self.asked: list[str] = []

    def ask_save_changes(self, name: str, before: str = "closing") -> str:
        self.asked.append(f"save changes to {name} before {before}")
        return self.save_answer

    def open_path(self, directory: str) -> str | None:
        return self.open_answer

    def save_path(self, suggested: str) -> str | None:
        return self.save_as_answer

    def export_path(self, suggested: str) -> str | None:
        return self.export_answer

    def error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def ask_recover(self, description: str) -> bool:
        self.asked.append(f"recover {description}")
        return self.recover_answer


@pytest.fixture(scope="session", autouse=True)
def styled_app(qapp):
    """The application style is applied once per test session (it restyles every widget: ~1 s a time)."""
    from designer.gui.app_style import apply_style

    apply_style(qapp)
    return qapp


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp):
    """Settings and the autosave folder live in the test's temporary folder."""
    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName("CNN Designer Tests")
    QCoreApplication.setApplicationName("CNN Designer Tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    yield
    QSettings().clear()


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def example(name: str) -> Design:
    return Design.load(EXAMPLES / f"{name}.json")


@pytest.fixture
def make_window(qtbot, settings, tmp_path):
    """``make_window(design_name_or_design)`` → a shown 1400×900 MainWindow with scripted prompts."""
    from designer.gui.window.main_window import MainWindow

    def make(design: str | Design = "vgg16", path: str | None = None, size=(1400, 900), workspace="design"):
        design = example(design) if isinstance(design, str) else design
        window = MainWindow(design, path, settings=settings, autosave=False, size=size, workspace=workspace)
        window.prompts = window.files.prompts = ScriptedPrompts(window)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


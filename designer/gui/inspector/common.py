"""Pieces shared by the layer and input inspectors: headed sections, value rows, issue lists."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core import Issue
from ..style import LEVEL_COLORS, LEVEL_ICONS


class ValueSection(QGroupBox):
    """A titled form of read-only values that can be updated in place."""

    def __init__(self, title: str, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        form = QFormLayout(self)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.values: dict[str, QLabel] = {}
        for key, label in rows:
            value = QLabel()
            value.setObjectName(f"value_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(label, value)

    def set(self, key: str, text: str) -> None:
        text = breakable(text)
        if self.values[key].text() != text:
            self.values[key].setText(text)


def breakable(text: str) -> str:
    """Allow line breaks after the operators of a long formula (``256·56·56·(256/1)·3·3``), so a narrow
    inspector wraps it instead of growing wider than its dock."""
    for op in ("·", "/"):
        text = text.replace(op, op + "\u200b")
    return text


def issues_html(issues: list[Issue], empty: str = "No issues.") -> str:
    """Issues as coloured paragraphs (errors first)."""
    if not issues:
        return f"<span style='color:#3f9b3a'>✔ {empty}</span>"
    order = {"error": 0, "warning": 1, "hint": 2}
    parts = []
    for issue in sorted(issues, key=lambda i: order.get(i.level, 3)):
        color = LEVEL_COLORS[issue.level][0]
        parts.append(f"<p style='margin:0 0 6px 0'><span style='color:{color}; font-weight:bold'>"
                     f"{LEVEL_ICONS[issue.level]} {issue.level.capitalize()}</span> {html.escape(issue.message)}"
                     f"{_coverage_link(issue)}</p>")
    return "".join(parts)


def _coverage_link(issue: Issue) -> str:
    """Gridding warnings link to the dilation-coverage map of their layer."""
    if "gridding" not in issue.message:
        return ""
    return f" <a href='coverage:{html.escape(issue.layer)}'>Show the coverage map</a>"


def issues_label() -> QLabel:
    label = QLabel()
    label.setObjectName("issuesText")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def rf_text(values) -> str:
    if values is None:
        return "global (every output sees the whole input)"
    h, w = (f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    return f"{h}×{w}"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a layer name in a file, or ``None``: a lone surrogate (``\\ud800``, from a
    broken paste) cannot be written as UTF-8, so saving and autosaving would fail later."""
    bad = next((c for c in name if 0xD800 <= ord(c) <= 0xDFFF), None)
    if bad is not None:
        return f"the name contains a lone surrogate (U+{ord(bad):04X}), which cannot be saved as UTF-8"
    return None


class FixButtons(QWidget):
    """One button per quick fix ("Fix: insert Flatten before fc1"); each click is one undoable edit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quickFixes")
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.buttons: list[QPushButton] = []

    def show_fixes(self, fixes) -> None:
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        for fix in fixes:
            button = QPushButton(f"Fix: {fix.title}")
            button.setObjectName("quickFix")
            button.setStyleSheet("text-align: left; padding: 3px 8px")
            button.clicked.connect(lambda _=False, f=fix: f.apply())
            self.box.addWidget(button)
            self.buttons.append(button)
        self.setVisible(bool(fixes))

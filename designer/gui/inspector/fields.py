"""Editor widgets for one hyperparameter each, chosen by the parameter's kind (napari-style map).

A field shows a value set from the model with its signals blocked, and emits ``edited(value)``
only for valid user input (``None`` = back to the default). ``session`` changes every time the
user starts editing a field, so the document merges the keystrokes of one typing session into
one undo step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from ...core.params import ParamSpec
from . import param_text

_SESSIONS = itertools.count(1)


class ParamValidator(QValidator):
    """Acceptable when the text parses and passes the core's check; otherwise Intermediate (keep typing)."""

    def __init__(self, parse: Callable[[str], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.parse = parse

    def validate(self, text: str, pos: int):
        try:
            self.parse(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos


class ParamField(QWidget):
    edited = Signal(object)

    def __init__(self, spec: ParamSpec, layer_spec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.session = next(_SESSIONS)
        self.setObjectName(f"param_{spec.name}")
        self.setToolTip(param_text.tooltip(spec, layer_spec))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn:
            self.session = next(_SESSIONS)
        return False


class TextField(ParamField):
    """A line edit with a validator; valid text is applied as it is typed."""

    def __init__(self, spec: ParamSpec, layer_spec, parent: QWidget | None = None) -> None:
        super().__init__(spec, layer_spec, parent)
        self.edit = QLineEdit()
        self.edit.setValidator(ParamValidator(self.parse, self.edit))
        self.edit.setPlaceholderText(param_text.default_text(spec))
        self.edit.setToolTip(self.toolTip())
        self.edit.installEventFilter(self)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.layout().addWidget(self.edit)
        self.layout().addWidget(self.error)
        self.edit.textEdited.connect(self._on_text_change)

    def parse(self, text: str) -> Any:
        return param_text.parse(self.spec, text)

    def format(self, value: Any) -> str:
        return param_text.to_text(value)

    def set_value(self, value: Any) -> None:
        if self.edit.hasFocus() and self.error.isHidden():
            try:
                if self.parse(self.edit.text()) == value:
                    return  # the user's own spelling ("3x3") stays while typing
            except ValueError:
                pass
        self.edit.blockSignals(True)
        self.edit.setText(self.format(value))
        self.edit.blockSignals(False)
        self._show_error("")

    def _on_text_change(self, text: str) -> None:
        try:
            value = self.parse(text)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self._show_error("")
        self.edited.emit(value)

    def _show_error(self, message: str) -> None:
        if message == self.error.text():
            return
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.edit.setProperty("invalid", bool(message))
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)


class BoolField(ParamField):
    def __init__(self, spec: ParamSpec, layer_spec, parent: QWidget | None = None) -> None:
        super().__init__(spec, layer_spec, parent)
        self.box = QCheckBox()
        self.box.setToolTip(self.toolTip())
        self.layout().addWidget(self.box)
        self.box.toggled.connect(self._on_check_change)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(self.spec.default if value is None else value))
        self.box.blockSignals(False)

    def _on_check_change(self, checked: bool) -> None:
        self.session = next(_SESSIONS)
        self.edited.emit(None if checked == self.spec.default else checked)


class ChoiceField(ParamField):
    def __init__(self, spec: ParamSpec, layer_spec, parent: QWidget | None = None) -> None:
        super().__init__(spec, layer_spec, parent)
        self.combo = QComboBox()
        self.combo.addItems(list(spec.choices))
        self.combo.setToolTip(self.toolTip())
        self.layout().addWidget(self.combo)
        self.combo.activated.connect(self._on_choice_change)

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentText(self.spec.default if value is None else value)
        self.combo.blockSignals(False)

    def _on_choice_change(self, index: int) -> None:
        self.session = next(_SESSIONS)
        value = self.combo.itemText(index)
        self.edited.emit(None if value == self.spec.default else value)


FIELD_CLASSES: dict[str, type[ParamField]] = {"bool": BoolField, "choice": ChoiceField}


def make_field(spec: ParamSpec, layer_spec, parent: QWidget | None = None) -> ParamField:
    """The editor for ``spec``: one entry per special kind, text for the rest."""
    return FIELD_CLASSES.get(spec.kind, TextField)(spec, layer_spec, parent)

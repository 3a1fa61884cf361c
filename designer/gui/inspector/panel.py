"""The inspector dock: the selected layer's hyperparameters (editable, applied live) and the values
the core computes for it; with nothing selected, the input's settings and the totals."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core import Layer, get_spec
from ...core.formatting import human_bytes
from ...core.spec import fmt_shape
from ..document.document import DesignDocument
from ..document.quick_fixes import quick_fixes
from ..style import family_color
from .common import FixButtons, ValueSection, issues_html, issues_label, name_problem, rf_text
from .extras import LayerExtras
from .fields import ParamField, make_field
from .formulas import macs_with_numbers, params_with_numbers
from .input import InputInspector

COMPUTED_ROWS = [("shape", "Shape"), ("params", "Params"), ("buffers", "Buffers"), ("macs", "MACs"),
                 ("rf", "Receptive field"), ("jump", "Jump"), ("memory", "Output memory")]


class LayerInspector(QWidget):
    """Hyperparameters and computed values of ``document.selected``. Signal ``coverage_requested(layer)``:
    the user followed the "show coverage" link of a gridding warning."""

    coverage_requested = Signal(str)
    rename_refused = Signal(str)

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._key: tuple[str, str] | None = None
        self.fields: dict[str, ParamField] = {}
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.doc = QLabel()
        self.doc.setObjectName("inspectorDoc")
        self.doc.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("layerName")
        self.name_edit.editingFinished.connect(self._on_name_change)
        self.param_box = QGroupBox("Hyperparameters")
        self.param_form = QFormLayout(self.param_box)
        self.param_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.computed = ValueSection("Computed", COMPUTED_ROWS)
        self.issue_box = QGroupBox("Issues and advice")
        self.issues = issues_label()
        QVBoxLayout(self.issue_box).addWidget(self.issues)
        self.issues.linkActivated.connect(self._on_issue_link)
        self.extras = LayerExtras(document)
        name_row = QFormLayout()
        name_row.addRow("Name", self.name_edit)
        for widget in (self.title, self.doc):
            layout.addWidget(widget)
        layout.addLayout(name_row)
        self.fixes = FixButtons()
        self.issue_box.layout().addWidget(self.fixes)
        for widget in (self.issue_box, self.computed, self.param_box, self.extras):
            layout.addWidget(widget)
        layout.addStretch(1)
        document.changed.connect(self._on_document_change)
        document.selection_changed.connect(self._on_document_change)

    def _on_document_change(self) -> None:
        layer = self.document.selected_layer
        if layer is None:
            self._key = None
            return
        if (layer.name, layer.type) != self._key:
            self._build(layer)
        for name, field in self.fields.items():
            field.set_value(layer.params.get(name))
        self._show_computed(layer)

    def _build(self, layer: Layer) -> None:
        self._key = (layer.name, layer.type)
        spec = get_spec(layer.type)
        accent, _ = family_color(spec.family)
        self.title.setText(f"<span style='font-size:15pt; font-weight:bold'>{layer.type}</span>"
                           f"&nbsp;&nbsp;<span style='color:{accent.name()}'>● {spec.family}</span>")
        self.doc.setText(spec.doc)
        self.name_edit.setText(layer.name)
        while self.param_form.rowCount():
            self.param_form.removeRow(0)
        self.fields = {}
        for param in spec.params:
            if param.kind == "init":  # edited by the kernel preset picker below
                continue
            field = make_field(param, spec)
            field.edited.connect(lambda value, n=param.name, f=field: self._on_param_change(n, value, f.session))
            label = QLabel(param.name)
            label.setToolTip(field.toolTip())
            self.param_form.addRow(label, field)
            self.fields[param.name] = field
        self.param_box.setVisible(bool(spec.params))

    def _show_computed(self, layer: Layer) -> None:
        row = self.document.row(layer.name)
        if row is None:
            return
        c = self.computed
        error = self.document.first_error
        if row.output_shape is None and error is not None and not any(i.level == "error" for i in row.issues):
            where = "the input" if error == "input" else f"<b>{error}</b> above"
            for key, _ in COMPUTED_ROWS:
                c.set(key, "--")
            self.issues.setText(f"<span style='color:#6b7280'>Not computed: fix the error in {where}.</span>")
            self.fixes.show_fixes([])
            return
        c.set("shape", f"{fmt_shape(row.input_shape)} → {fmt_shape(row.output_shape)}")
        formula = params_with_numbers(layer, row)
        c.set("params", f"{row.params:,}" + (f"<br><span style='color:#6b7280'>{formula}</span>" if formula else ""))
        c.set("buffers", f"{row.buffers:,}")
        macs = macs_with_numbers(layer, row)
        c.set("macs", f"{row.macs:,}" + (f"<br><span style='color:#6b7280'>{macs}</span>" if macs else ""))
        known = row.output_shape is not None
        c.set("rf", rf_text(row.receptive_field) if known else "--")
        c.set("jump", (rf_text(row.jump) if row.jump is not None else "--") if known else "--")
        batch = self.document.batch_size
        c.set("memory", f"{human_bytes(row.output_bytes * batch)} (batch {batch}, {self.document.dtype})")
        self.issues.setText(issues_html(row.issues))
        self.fixes.show_fixes(quick_fixes(self.document, layer.name))

    def _on_param_change(self, name: str, value, session: int) -> None:
        if self.document.selected is not None:
            self.document.set_params(self.document.selected, session, **{name: value})

    def _on_issue_link(self, link: str) -> None:
        kind, _, layer = link.partition(":")
        if kind == "coverage":
            self.coverage_requested.emit(layer)

    def _on_name_change(self) -> None:
        self.rename_to(self.name_edit.text().strip())

    def rename_to(self, new: str) -> None:
        """Rename the selected layer (undoably); a name that could not be saved is refused with one line."""
        current = self.document.selected
        if current is None or new == current:
            return
        problem = name_problem(new)
        if problem is None:
            try:
                self.document.rename(current, new)
                return
            except ValueError as exc:
                problem = str(exc)
        self.name_edit.setText(current)
        self.rename_refused.emit(f"Cannot rename {current}: {problem}")


class InspectorPanel(QScrollArea):
    """Switches between the layer inspector and the input inspector with the selection, scrolled to the
    top (name and issues first) for each new selection. Signals ``coverage_requested(layer)`` (a gridding
    warning's link) and ``message(text)`` (for the status bar)."""

    coverage_requested = Signal(str)
    message = Signal(str)

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerInspector")
        self.setMinimumWidth(260)
        self.document = document
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        self.input_page = InputInspector(document)
        self.layer_page = LayerInspector(document)
        self.stack.addWidget(self.input_page)
        self.stack.addWidget(self.layer_page)
        self.setWidget(self.stack)
        self.layer_page.coverage_requested.connect(self.coverage_requested)
        self.layer_page.rename_refused.connect(self.message)
        document.selection_changed.connect(self._on_selection_change)
        self._on_selection_change()

    def _on_selection_change(self) -> None:
        self.stack.setCurrentWidget(self.layer_page if self.document.selected else self.input_page)
        self.verticalScrollBar().setValue(0)

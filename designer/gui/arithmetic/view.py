"""The arithmetic view: the sliding-window canvas with step / play / scrub controls, channel pickers,
the current position's arithmetic written out with real numbers, the shape formula with numbers, and for a
transposed convolution both computations with their check against the layer."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..style import font
from .canvas import ArithmeticCanvas
from .model import TOY_SIZES, ArithmeticModel

PLAY_INTERVAL_MS = 600
BOTH_WAYS_MACS = 50_000_000  # larger cases skip the both-ways check (it would block the window)


class ArithmeticView(QWidget):
    """Controls and text around an :class:`ArithmeticCanvas`. Signal ``input_requested(source, size)``:
    the user chose the real input (``"real"``) or a toy input of ``size×size`` (``"toy"``)."""

    input_requested = Signal(str, int)

    def __init__(self, model: ArithmeticModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("arithmeticView")
        self.canvas = ArithmeticCanvas(model)
        self.timer = QTimer(self, interval=PLAY_INTERVAL_MS)
        self.timer.timeout.connect(lambda: model.step(1))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._source_row())
        layout.addWidget(self.canvas, 3)
        layout.addLayout(self._step_row())
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setObjectName("arithmeticText")
        self.text.setFont(font(9, mono=True))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.text, 2)
        model.case_changed.connect(self._on_case_change)
        model.position_changed.connect(self._on_position_change)
        self._on_case_change()

    # --- construction -------------------------------------------------------------------------------
    def _source_row(self) -> QVBoxLayout:
        row = QHBoxLayout()
        self.source = QComboBox(objectName="arithmeticSource")
        self.source.addItems(["Real input", "Toy input"])
        self.toy_size = QSpinBox(objectName="toySize", minimum=min(TOY_SIZES), maximum=max(TOY_SIZES), value=5)
        self.toy_size.setSuffix(" px")
        self.toy_size.setToolTip("Side of the toy input (its channels are the layer's)")
        self.source.currentIndexChanged.connect(self._on_source_change)
        self.toy_size.valueChanged.connect(self._on_source_change)
        self.out_channel = QSpinBox(objectName="outChannel")
        self.out_channel.valueChanged.connect(self.model.set_out_channel)
        self.in_channel = QSpinBox(objectName="inChannel")
        self.in_channel.valueChanged.connect(self.model.set_in_channel)
        self.groups = QLabel(objectName="groupsText", wordWrap=True)
        # two short rows and a wrapping label: the panel stays narrow enough for a side dock (≤ 380 px)
        channels = QHBoxLayout()
        for layout, widgets in ((row, (QLabel("Input:"), self.source, self.toy_size)),
                                (channels, (QLabel("Output channel:"), self.out_channel, QLabel("Input channel:"),
                                            self.in_channel))):
            for widget in widgets:
                layout.addWidget(widget)
            layout.addStretch(1)
        column = QVBoxLayout()
        for layout in (row, channels):
            column.addLayout(layout)
        column.addWidget(self.groups)
        return column

    def _step_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.back = QPushButton("◀", objectName="stepBack", toolTip="Previous output cell")
        self.forward = QPushButton("▶", objectName="stepForward", toolTip="Next output cell")
        self.play = QPushButton("Play", objectName="playPause", checkable=True)
        self.back.clicked.connect(lambda: self.model.step(-1))
        self.forward.clicked.connect(lambda: self.model.step(1))
        self.play.toggled.connect(self._on_play_toggle)
        self.scrub = QSlider(Qt.Orientation.Horizontal, objectName="scrub")
        self.scrub.valueChanged.connect(self.model.set_index)
        self.where = QLabel(objectName="positionText")
        for widget in (self.back, self.play, self.forward):
            widget.setFixedWidth(48)
            row.addWidget(widget)
        row.addWidget(self.scrub, 1)
        row.addWidget(self.where)
        return row

    # --- model → widgets ----------------------------------------------------------------------------------
    def _on_source_change(self) -> None:
        toy = self.source.currentIndex() == 1
        self.toy_size.setEnabled(toy)
        self.input_requested.emit("toy" if toy else "real", self.toy_size.value())

    def _on_play_toggle(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def _on_case_change(self) -> None:
        case = self.model.case
        for widget in (self.out_channel, self.in_channel, self.scrub, self.back, self.forward, self.play):
            widget.setEnabled(case is not None)
        if case is None:
            self.play.setChecked(False)
            self.text.setPlainText(self.model.message)
            self.where.setText("")
            return
        self.source.blockSignals(True)
        self.source.setCurrentIndex(1 if case.source.startswith("toy") else 0)
        self.source.blockSignals(False)
        self.toy_size.setEnabled(case.source.startswith("toy"))
        for spin, top in ((self.out_channel, case.out_channels), (self.in_channel, case.x.shape[0])):
            spin.blockSignals(True)
            spin.setRange(0, top - 1)
            spin.blockSignals(False)
        self.in_channel.setEnabled(case.kind in ("conv", "transpose"))
        self.scrub.blockSignals(True)
        self.scrub.setRange(0, max(self.model.cell_count - 1, 0))
        self.scrub.blockSignals(False)
        self._on_position_change()

    def _on_position_change(self) -> None:
        m, case = self.model, self.model.case
        if case is None:
            return
        for widget, value in ((self.out_channel, m.out_channel), (self.in_channel, m.in_channel),
                              (self.scrub, m.index)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        h, w = case.geometry.out_hw
        self.where.setText(f"cell ({m.cell[0]}, {m.cell[1]}) · {m.index + 1}/{h * w}")
        self.groups.setText(self.groups_text())
        self.text.setPlainText("\n".join(self.lines()))

    def groups_text(self) -> str:
        """Which input channels the current filter sees (groups, depthwise)."""
        m, case = self.model, self.model.case
        if case.kind in ("max", "avg"):
            return "pools each channel on its own"
        seen, g = case.channels_seen(m.out_channel), case.layer.hp["groups"]
        if g == 1:
            return f"filter {m.out_channel} sees all {len(seen)} input channels"
        kind = "depthwise: " if len(seen) == 1 and g == case.x.shape[0] else ""
        channels = f"input channel {seen[0]}" if len(seen) == 1 else f"input channels {seen[0]}–{seen[-1]}"
        return (f"{kind}filter {m.out_channel} is in group {m.out_channel // (case.out_channels // g)} of {g}: "
                f"sees {channels} only")

    def lines(self) -> list[str]:
        """The text under the canvas: arithmetic, check, shape formula (and both ways for a transposed conv)."""
        m, case = self.model, self.model.case
        pos = m.position()
        o, (i, j) = m.out_channel, m.cell
        lines = [f"y[{o}, {i}, {j}]: {pos.text(channel=m.in_channel if case.kind != 'max' else None)}",
                 (f"layer output y[{o}, {i}, {j}] = {m.layer_value():.6g}  (|difference| "
                 f"{abs(pos.value - m.layer_value()):.2g})"), "", *case.formula]
        if case.kind == "transpose":
            both = case.both_ways.summary() if case.macs <= BOTH_WAYS_MACS else (
                f"the check on this input needs {case.macs:,} multiply-adds; choose a toy input to see it")
            lines += ["", "Transposed convolution, both ways:", "  " + both]
        return lines

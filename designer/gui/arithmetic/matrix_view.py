"""Convolution as a matrix: the heat map of ``C`` (``layer(x) − bias = C @ x.ravel()``) for the arithmetic
model's case, the row of the current output cell highlighted and linked (click a row to jump there), the
columns its window reads marked, and the sparsity stated (nonzeros / total)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...backend.conv_matrix import ConvMatrixError, layer_matrix, refusal
from ..style import font
from .model import ArithmeticModel
from .paint import CURRENT, WINDOW, diverging, outline, to_qimage, write_values

MAX_SHOWN_ENTRIES = 4_000_000  # a bigger C is not drawn (the toy input is suggested)
ZERO = (238, 240, 243, 255)  # structural zeros: light grey, so a tiny weight (near white) still shows


def matrix_rgba(matrix: np.ndarray) -> np.ndarray:
    """``[rows, cols, 4]`` uint8: weights on the blue–white–red scale, exact zeros light grey (the sparsity
    pattern of seed 002's figure stays visible even where a weight is close to 0)."""
    rgba = diverging(matrix)
    rgba[matrix == 0] = ZERO
    return rgba


class MatrixCanvas(QWidget):
    """Paints ``C``; a click on a row selects that output cell in the model."""

    def __init__(self, view: ConvMatrixView) -> None:
        super().__init__(view)
        self.view = view
        self.setMinimumSize(240, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(520, 260)

    def target(self) -> QRectF:
        """Where the matrix is drawn: square cells for a small matrix (≤ 64 rows and columns, seed 002's 4×16),
        otherwise stretched to fill the widget."""
        rows, cols = self.view.matrix.shape
        width, height = self.width() - 8, self.height() - 8
        if max(rows, cols) > 64:
            return QRectF(4, 4, width, height)
        scale = min(width / cols, height / rows)
        return QRectF(4, 4, cols * scale, rows * scale)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.view.matrix is None:
            return
        rect = self.target()
        if rect.contains(event.position()):
            row = int((event.position().y() - rect.top()) / rect.height() * self.view.matrix.shape[0])
            self.view.select_row(row)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if self.view.matrix is None:
            return
        rect, (rows, cols) = self.target(), self.view.matrix.shape
        painter.drawImage(rect, self.view.image)
        row_h, col_w = rect.height() / rows, rect.width() / cols
        if max(rows, cols) <= 64:  # square cells: the weights written in them when they fit (≥ 18 px)
            write_values(painter, (rect.left(), rect.top()), row_h, self.view.matrix, skip=self.view.matrix == 0)
        row = self.view.current_row()
        painter.setPen(WINDOW.darker(120))
        for col in self.view.window_columns():
            painter.drawRect(QRectF(rect.left() + col * col_w, rect.top() + row * row_h, max(col_w, 1.5),
                                    max(row_h, 2.0)))
        painter.setPen(QColor("#9ca3af"))
        painter.drawRect(rect)
        self._mark_row(painter, rect, row, row_h)
        painter.end()

    @staticmethod
    def _mark_row(painter: QPainter, rect: QRectF, row: int, row_h: float) -> None:
        """The current output's row: framed when rows are tall enough (a fill would change its colours),
        else a translucent band."""
        if row_h >= 8:
            band = QRectF(rect.left() - 2, rect.top() + row * row_h - 2, rect.width() + 4, row_h + 4)
            outline(painter, band, CURRENT, 2.5)
            return
        band_color = QColor(CURRENT)
        band_color.setAlpha(90)
        painter.fillRect(QRectF(rect.left(), rect.top() + row * row_h - 1, rect.width(), row_h + 2), band_color)


class ConvMatrixView(QWidget):
    """The matrix panel (takes the same :class:`ArithmeticModel` as the arithmetic view)."""

    def __init__(self, model: ArithmeticModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("convMatrixView")
        self.matrix: np.ndarray | None = None
        self.image = None
        self.info = QLabel(objectName="matrixInfo", wordWrap=True)
        self.info.setFont(font(9))
        self.canvas = MatrixCanvas(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(self.canvas, 1)
        model.case_changed.connect(self._on_case_change)
        model.position_changed.connect(self._on_position_change)
        self._on_case_change()

    def _on_case_change(self) -> None:
        self.matrix, self.image = None, None
        case = self.model.case
        if case is None:
            self.info.setText(self.model.message)
        elif refusal(case.layer) is not None:
            self.info.setText(refusal(case.layer))
        elif case.x.size * case.output.size > MAX_SHOWN_ENTRIES:
            self.info.setText(f"C would be {case.output.size:,} × {case.x.size:,} entries, too many to draw; "
                              "choose a toy input to see it")
        else:
            try:
                self.matrix, _ = layer_matrix(case.layer, case.x.shape, case.output.shape, case.weights)
            except ConvMatrixError as exc:
                self.info.setText(str(exc))
            else:
                self.image = to_qimage(matrix_rgba(self.matrix))
        self._on_position_change()

    def _on_position_change(self) -> None:
        if self.matrix is not None:
            self.info.setText(self.describe())
        self.canvas.update()

    def describe(self) -> str:
        rows, cols = self.matrix.shape
        nonzeros = int(np.count_nonzero(self.matrix))
        row = self.current_row()
        case = self.model.case
        what = "Cᵀ of the matching convolution" if case.kind == "transpose" else "C"
        return (f"{what}: {rows:,} outputs × {cols:,} inputs (C·H·W order), {nonzeros:,} nonzeros of "
                f"{rows * cols:,} ({100 * nonzeros / (rows * cols):.1f}%). Row {row} = output "
                f"({self.model.out_channel}, {self.model.cell[0]}, {self.model.cell[1]}): "
                f"{int(np.count_nonzero(self.matrix[row]))} nonzeros. layer(x) − bias = C @ x.ravel()")

    def current_row(self) -> int:
        h, w = self.model.case.geometry.out_hw
        return (self.model.out_channel * h + self.model.cell[0]) * w + self.model.cell[1]

    def window_columns(self) -> list[int]:
        """Columns (input elements) the current row reads: its nonzeros."""
        return np.flatnonzero(self.matrix[self.current_row()]).tolist() if self.matrix is not None else []

    def select_row(self, row: int) -> None:
        h, w = self.model.case.geometry.out_hw
        channel, rest = divmod(row, h * w)
        self.model.set_out_channel(channel)
        self.model.set_cell(*divmod(rest, w))

"""The summary table: one row per layer in execution order plus a totals row.

``SORT_ROLE`` holds raw numbers so sorting by params or MACs is numeric; the proxy keeps the
totals row at the bottom whichever way the table is sorted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from ...core import Analysis, LayerRow
from ...core.formatting import human_bytes, human_count
from ...core.spec import fmt_shape
from ..document.document import DesignDocument
from ..inspector.common import rf_text
from ..style import LEVEL_COLORS, LEVEL_ICONS, worst_level

COLUMNS = ["#", "Layer", "Type", "Output shape", "Params", "% params", "MACs", "RF", "Memory", "Time", "Issues"]
NUMERIC = {0, 4, 5, 6, 7, 8, 9}
TIME_COLUMN = COLUMNS.index("Time")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
TOTALS = "__totals__"

Index = QModelIndex | QPersistentModelIndex


class SummaryModel(QAbstractTableModel):
    """Rows of ``document.analysis``; refreshed in place when only the numbers changed."""

    def __init__(self, document: DesignDocument) -> None:
        super().__init__(document)
        self.document = document
        self.rows: list[LayerRow] = list(document.analysis.rows)
        self.timings: dict[str, float] = {}  # seconds per layer of the last run (set by the run panel)
        self.sort_keys: list[list] = self._sort_keys()
        document.changed.connect(self._on_document_change)

    @property
    def analysis(self) -> Analysis:
        return self.document.analysis

    def _on_document_change(self) -> None:
        rows = list(self.analysis.rows)
        if [r.name for r in rows] == [r.name for r in self.rows]:
            self.rows = rows
            self.sort_keys = self._sort_keys()
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows), len(COLUMNS) - 1))
        else:
            self.beginResetModel()
            self.rows = rows
            self.sort_keys = self._sort_keys()
            self.endResetModel()

    def set_timings(self, timings: dict[str, float]) -> None:
        self.timings = dict(timings)
        self.sort_keys = self._sort_keys()
        self.dataChanged.emit(self.index(0, TIME_COLUMN), self.index(len(self.rows), TIME_COLUMN))

    def _time_text(self, name: str) -> str:
        seconds = self.timings.get(name)
        return "" if seconds is None else f"{seconds * 1000:.1f} ms"

    def _sort_keys(self) -> list[list]:
        return [self._row_keys(r, row) for r, row in enumerate(self.rows)]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows) + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if r == len(self.rows):
            return self._totals_data(c, role)
        row = self.rows[r]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, row, c)
        if role == SORT_ROLE:
            return self.sort_keys[r][c]
        if role == NAME_ROLE:
            return row.name
        if role == Qt.ItemDataRole.TextAlignmentRole and c in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return self._issue_role(row, c, role)

    def _display(self, r: int, row: LayerRow, c: int) -> str:
        total = self.analysis.totals["params"]
        share = f"{100 * row.params / total:.1f}%" if total and row.params and row.type != "Branch" else ""
        issues = " ".join(f"{LEVEL_ICONS[i.level]} {i.level}" for i in row.issues)
        known = row.output_shape is not None
        values = [str(r + 1), "    " * row.depth + row.name, row.type, fmt_shape(row.output_shape),
                  f"{row.params:,}", share, human_count(row.macs) if row.macs else "0",
                  rf_text(row.receptive_field) if known else "--",
                  human_bytes(row.output_bytes * self.analysis.batch_size), self._time_text(row.name), issues]
        return values[c]

    def _row_keys(self, r: int, row: LayerRow) -> list[Any]:
        rf = row.receptive_field
        return [r, row.name, row.type, row.output_elements, row.params, row.params, row.macs,
                (rf[0] if rf else float("inf")) if row.output_shape else -1, row.output_bytes,
                self.timings.get(row.name, -1.0),
                -{"error": 3, "warning": 2, "hint": 1}.get(worst_level({i.level for i in row.issues}) or "", 0)]

    def _issue_role(self, row: LayerRow, c: int, role: int) -> Any:
        level = worst_level({i.level for i in row.issues})
        if role == Qt.ItemDataRole.ToolTipRole and row.issues:
            return "\n".join(f"{LEVEL_ICONS[i.level]} {i.message}" for i in row.issues)
        if role == Qt.ItemDataRole.BackgroundRole and level in ("error", "warning"):
            return QBrush(QColor(LEVEL_COLORS[level][1]))
        if role == Qt.ItemDataRole.ForegroundRole and c == len(COLUMNS) - 1 and level:
            return QBrush(QColor(LEVEL_COLORS[level][0]))
        return None

    def _totals_data(self, c: int, role: int) -> Any:
        a = self.analysis
        if role == Qt.ItemDataRole.DisplayRole:
            errors = sum(i.level == "error" for i in a.issues)
            values = ["", "Total", "", fmt_shape(a.rows[-1].output_shape) if a.rows else "", f"{a.totals['params']:,}",
                      "100%" if a.totals["params"] else "", human_count(a.totals["macs"]), "",
                      human_bytes(a.memory["activations_bytes"]),
                      f"{sum(self.timings.values()) * 1000:.0f} ms" if self.timings else "",
                      f"✖ {errors} errors" if errors else "✔ valid"]
            return values[c]
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == NAME_ROLE:
            return TOTALS
        if role == Qt.ItemDataRole.TextAlignmentRole and c in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor("#eef1f5"))
        return None

    def row_of(self, name: str) -> int:
        return next((k for k, r in enumerate(self.rows) if r.name == name), -1)


class SummaryProxy(QSortFilterProxyModel):
    """Numeric sorting through ``SORT_ROLE``; the totals row always stays last."""

    def __init__(self, source: SummaryModel) -> None:
        super().__init__(source)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: Index, right: Index) -> bool:
        model: SummaryModel = self.sourceModel()  # type: ignore[assignment]
        l_row, r_row, last = left.row(), right.row(), len(model.rows)
        if l_row == last or r_row == last:
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return (r_row == last) == ascending
        column = left.column()
        a, b = model.sort_keys[l_row][column], model.sort_keys[r_row][column]
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)

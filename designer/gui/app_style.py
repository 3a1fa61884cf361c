"""Application-wide look: Fusion with a light palette and a small style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

STYLE_SHEET = """
QMainWindow::separator { background: #dfe3e8; width: 1px; height: 1px; }
QDockWidget { font-weight: bold; }
QDockWidget::title { background: #eceff3; padding: 5px 8px; border-bottom: 1px solid #d5dae1; }
QGroupBox { font-weight: bold; border: 1px solid #dde2e8; border-radius: 6px; margin-top: 14px;
            padding: 8px 6px 6px 6px; background: #ffffff; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #374151; }
QGroupBox QLabel { font-weight: normal; }
QLabel#inspectorDoc { color: #6b7280; }
QLabel#fieldError { color: #d32f2f; font-size: 8pt; }
QLineEdit { padding: 3px 5px; border: 1px solid #c9cfd8; border-radius: 4px; background: #ffffff; }
QLineEdit:focus { border: 1px solid #1e88e5; }
QLineEdit[invalid="true"] { border: 1.5px solid #d32f2f; background: #fdf1f1; }
QTreeWidget, QTableView { border: 1px solid #dde2e8; background: #ffffff; }
QTreeWidget::item { padding: 2px 0; }
QTableView { gridline-color: #eceff3; selection-background-color: #cfe3fb; selection-color: #111827; }
QHeaderView::section { background: #f1f3f6; border: none; border-right: 1px solid #dde2e8;
                       border-bottom: 1px solid #dde2e8; padding: 3px 6px; font-weight: bold; }
QStatusBar { background: #eceff3; border-top: 1px solid #d5dae1; }
QToolBar { background: #f7f8fa; border-bottom: 1px solid #dde2e8; spacing: 4px; padding: 2px; }
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#f7f8fa", QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f7f9fb", QPalette.ColorRole.Text: "#1f2937",
        QPalette.ColorRole.WindowText: "#1f2937", QPalette.ColorRole.Button: "#f1f3f6",
        QPalette.ColorRole.ButtonText: "#1f2937", QPalette.ColorRole.Highlight: "#1e88e5",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2937", QPalette.ColorRole.PlaceholderText: "#9ca3af",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    app.setPalette(palette)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)

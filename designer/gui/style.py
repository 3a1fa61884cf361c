"""Colours and fonts shared by the canvas, palette and inspector."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

# family → (accent, card background)
FAMILY_COLORS: dict[str, tuple[str, str]] = {
    "Convolution": ("#2f6fd6", "#eaf1fd"),
    "Pooling": ("#0f8f82", "#e4f5f2"),
    "Activation": ("#3f9b3a", "#ebf6e9"),
    "Normalization": ("#7a4fd0", "#f1ebfb"),
    "Linear": ("#c2417e", "#fbeaf2"),
    "Structure": ("#5b6b80", "#eef1f5"),
}
LEVEL_COLORS: dict[str, tuple[str, str]] = {  # level → (border/accent, background)
    "error": ("#d32f2f", "#fde4e4"),
    "warning": ("#d98a00", "#fff3d6"),
    "hint": ("#2f6fd6", "#eaf1fd"),
}
LEVEL_ICONS = {"error": "✖", "warning": "⚠", "hint": "ℹ"}
INPUT_COLORS = ("#2d3a4d", "#3b4a60")
SELECTION = "#1e88e5"
CANVAS_BG = "#f5f6f8"
EDGE = "#8a94a3"
MUTED = "#6b7280"
TEXT = "#1f2937"


def family_color(family: str) -> tuple[QColor, QColor]:
    accent, background = FAMILY_COLORS.get(family, FAMILY_COLORS["Structure"])
    return QColor(accent), QColor(background)


def font(point_size: float, bold: bool = False, mono: bool = False) -> QFont:
    f = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


def worst_level(levels) -> str | None:
    for level in ("error", "warning", "hint"):
        if level in levels:
            return level
    return None

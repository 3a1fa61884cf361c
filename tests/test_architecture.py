"""Import directions: gui → backend → core; core never imports Qt, backend never imports Qt widgets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "designer"
QT = ("PySide6", "pyqtgraph", "shiboken6")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the file's package
                parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-node.level]
                module = ".".join(parts + ((module,) if module else ()))
            names.add(module)
    return names


def modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.name)
def test_core_imports_neither_qt_nor_backend_nor_gui(path):
    bad = {n for n in imports_of(path) if n.startswith(QT) or n.startswith(("designer.backend", "designer.gui"))}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", modules("backend"), ids=lambda p: p.name)
def test_backend_imports_no_widgets_and_no_gui(path):
    bad = {n for n in imports_of(path)
           if n.startswith(("designer.gui", "pyqtgraph", "PySide6.QtWidgets")) or n in ("torch",)}
    assert not bad, f"{path.name} imports {bad}"


def test_core_loads_without_qt_in_a_fresh_interpreter():
    import subprocess
    import sys
    code = ("import sys, designer.core, designer.core.formatting; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent, timeout=60)


@pytest.mark.parametrize("path", modules("backend") + modules("core"), ids=lambda p: p.name)
def test_backend_and_core_never_import_the_cli(path):
    bad = {n for n in imports_of(path) if n.startswith("designer.cli")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", modules("interop"), ids=lambda p: p.name)
def test_interop_imports_neither_qt_nor_gui_nor_cli_nor_torch(path):
    bad = {n for n in imports_of(path)
           if n.startswith(QT) or n.startswith(("designer.gui", "designer.cli", "torch", "onnxruntime"))}
    assert not bad, f"{path.name} imports {bad}"

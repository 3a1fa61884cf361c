"""Inspector section of Branch layers: the list of branches with "Add branch" and "Remove branch".

Both buttons go through the document, so each is one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from ...core import Layer
from ..document.document import DesignDocument


def branch_summary(index: int, branch: tuple[Layer, ...]) -> str:
    """``Branch 2: 3 layers (conv, bn, relu)`` or ``Branch 1: identity``."""
    if not branch:
        return f"Branch {index + 1}: identity"
    names = ", ".join(layer.name for layer in branch[:4]) + (", …" if len(branch) > 4 else "")
    return f"Branch {index + 1}: {len(branch)} layer{'s' if len(branch) > 1 else ''} ({names})"


class BranchEditor(QGroupBox):
    """The branches of the selected Branch; add an empty (identity) branch or remove the chosen one."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__("Branches", parent)
        self.setObjectName("branchEditor")
        self.document = document
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setObjectName("branchList")
        self.list.setMaximumHeight(120)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentRowChanged.connect(lambda _: self._update_buttons())
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add branch")
        self.add_button.setObjectName("addBranch")
        self.add_button.setToolTip("Append an empty branch: it passes the input through (identity)")
        self.add_button.clicked.connect(self._on_add)
        self.remove_button = QPushButton("Remove branch")
        self.remove_button.setObjectName("removeBranch")
        self.remove_button.setToolTip("Remove the branch chosen in the list, with its layers")
        self.remove_button.clicked.connect(self._on_remove)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._count = 0

    def show_layer(self, layer: Layer) -> None:
        row = self.list.currentRow()
        self.list.clear()
        for i, branch in enumerate(layer.branches):
            self.list.addItem(branch_summary(i, branch))
            self.list.item(i).setToolTip(" → ".join(inner.name for inner in branch) or "identity")
        self._count = len(layer.branches)
        self.list.setCurrentRow(min(max(row, 0), self._count - 1) if self._count else -1)
        self._update_buttons()

    def _update_buttons(self) -> None:
        can_remove = self._count > 1 and self.list.currentRow() >= 0
        self.remove_button.setEnabled(can_remove)
        self.remove_button.setToolTip("Remove the branch chosen in the list, with its layers" if can_remove
                                      else "A Branch needs at least one branch; delete the Branch instead")

    def _on_add(self) -> None:
        name = self.document.selected
        if name is not None:
            self.document.add_branch(name)
            self.list.setCurrentRow(self.list.count() - 1)

    def _on_remove(self) -> None:
        name, index = self.document.selected, self.list.currentRow()
        if name is None or index < 0:
            return
        try:
            self.document.remove_branch(name, index)
        except ValueError as exc:
            self.document.notice.emit(f"Cannot remove branch: {exc}")

"""Help › Getting Started and Help › Keyboard Shortcuts (the shortcuts table is built from the
registered actions, so it never goes stale), and About."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout

if TYPE_CHECKING:
    from .main_window import MainWindow

GETTING_STARTED = """
<h2>Getting started</h2>
<p>CNN Designer shows what every layer of a convolutional network does to the shape, the parameters,
the compute and the receptive field — and, when you run it, what it does to an image.</p>
<h3>Two workspaces</h3>
<p><b>Design</b> (Ctrl+1): the <b>canvas</b> in the middle is your network from the input down; the
<b>Layers</b> palette on the left inserts layer types and whole blocks (double-click or drag); the
<b>Inspector</b> on the right edits the selected layer and shows its computed values with the formula
filled in, its issues and one-click fixes; the <b>Summary</b> below lists every layer with totals and
memory for a batch size and dtype.</p>
<p><b>Run</b> (Ctrl+2): the <b>feature maps</b> of the selected layer fill the middle; the list on the
left picks the layer; the <b>input</b> panel on the right shows the image the network sees, the receptive
field of the unit under the mouse and, for a clicked unit, its effective receptive field; the
<b>profile</b> plots params, MACs, memory and receptive-field growth per layer.</p>
<h3>Three things to try first</h3>
<ol>
<li>Select a Conv2d on the canvas and change its <i>stride</i> to 2: every shape below updates, and the
Summary's MACs drop.</li>
<li>Press <b>F5</b>, switch to <b>Run</b>, and hover over a feature map: the box on the input is what that
unit can see. Click it to compare with where it actually looks (the effective RF).</li>
<li>Open <i>File › Examples</i> and pick a dilated network: the gridding warning links to the dilation
coverage map, where the holes are plain to see.</li>
</ol>
<p>Every edit can be undone (Ctrl+Z); unsaved work is autosaved every minute.</p>
"""


# dedicated keys most keyboards lack (Qt adds them to the platform's Undo/Redo/Copy… bindings)
DEDICATED_KEYS = frozenset({Qt.Key.Key_Undo, Qt.Key.Key_Redo, Qt.Key.Key_Copy, Qt.Key.Key_Cut, Qt.Key.Key_Paste,
                            Qt.Key.Key_Open, Qt.Key.Key_Save, Qt.Key.Key_New, Qt.Key.Key_Close, Qt.Key.Key_Help,
                            *(Qt.Key(Qt.Key.Key_F13.value + k) for k in range(23))})


def typed_keys(keys: list[QKeySequence]) -> list[QKeySequence]:
    """The shortcuts a user can type: without dedicated Undo/Copy/F13–F35 keys (all of them if that
    leaves none)."""
    typed = [k for k in keys if k.count() and k[0].key() not in DEDICATED_KEYS]
    return typed or keys


def action_label(action: QAction) -> str:
    """The menu text without its mnemonic, and without the edit an Undo/Redo names today ("Undo Delete
    conv1" → "Undo"): the page lists commands, not the current history."""
    text = action.text().replace("&", "")
    name = action.objectName().removeprefix("action_")
    return name.capitalize() if name in ("undo", "redo") else text


def shortcuts_html(window: MainWindow) -> str:
    """One row per registered action with a shortcut, grouped by menu."""
    rows = []
    for key, menu in window.registry.menus.items():
        entries = [(action_label(a), typed_keys(a.shortcuts())) for a in menu.actions() if a.shortcuts()]
        if not entries:
            continue
        rows.append(f"<tr><td colspan=2><b>{escape(menu.title().replace('&', ''))}</b></td></tr>")
        for text, keys in entries:
            shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            rows.append(f"<tr><td>{escape(text)}</td><td><code>{escape(shown)}</code></td></tr>")
    extra = [("Zoom the canvas", "Ctrl + mouse wheel"), ("Move a layer", "drag its card"),
             ("Enlarge a channel", "click a feature map")]
    rows.append("<tr><td colspan=2><b>Mouse</b></td></tr>")
    rows += [f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in extra]
    return "<h2>Keyboard shortcuts</h2><table cellpadding=3>" + "".join(rows) + "</table>"


def page_html(window: MainWindow, page: str) -> str:
    if page == "shortcuts":
        return shortcuts_html(window)
    return GETTING_STARTED


def show(window: MainWindow, page: str) -> QDialog:
    """A non-modal page (kept open beside the window while the user tries things)."""
    dialog = QDialog(window)
    dialog.setObjectName(f"help_{page}")
    dialog.setWindowTitle("Keyboard shortcuts" if page == "shortcuts" else "Getting started")
    browser = QTextBrowser()
    browser.setHtml(page_html(window, page))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.resize(560, 620)
    dialog.show()
    return dialog


def about(window: MainWindow, app_name: str) -> None:
    QMessageBox.about(window, f"About {app_name}", f"<b>{app_name}</b><br>Design, analyse and run convolutional "
                                                   "networks. Every edit can be undone; shapes, parameters, "
                                                   "MACs, receptive fields and memory update as you type.")

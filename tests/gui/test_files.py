"""Files: save, reopen and compare; broken files; unsaved-change prompts; recent files; export; drops."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from designer.core import Design

from .conftest import EXAMPLES, example


def test_save_reopen_and_compare(make_window, tmp_path):
    window = make_window("resnet18")
    doc = window.document
    doc.set_params("conv1", kernel_size=5, padding=2)
    target = tmp_path / "mine.json"
    window.prompts.save_as_answer = str(target)
    window.action("save").trigger()
    assert target.exists() and not doc.modified
    assert window.windowTitle() == "mine.json[*] — CNN Designer" and not window.isWindowModified()
    assert not list(tmp_path.glob(".mine.json.*.tmp"))  # the atomic write left no temporary file
    saved = doc.design
    window.action("new").trigger()
    assert doc.design.layers == ()
    assert window.files.open(str(target))
    assert doc.design == saved and doc.path == str(target)
    assert str(target.resolve()) in window.files.recent_files()


def test_broken_file_shows_the_core_message_and_keeps_the_design(make_window, tmp_path):
    window = make_window("lenet5")
    doc = window.document
    doc.set_params("c1", out_channels=8)
    before, undo_count = doc.design, doc.undo_stack.count()
    broken = tmp_path / "broken.json"
    data = example("lenet5").to_dict()
    data["layers"][0]["kernel_sise"] = 3
    broken.write_text(json.dumps(data))
    window.prompts.save_answer = "discard"
    window.prompts.open_answer = str(broken)
    window.action("open").trigger()
    assert len(window.prompts.errors) == 1
    _title, message = window.prompts.errors[0]
    assert "kernel_sise" in message and "did you mean 'kernel_size'" in message and "broken.json" in message
    assert doc.design == before and doc.undo_stack.count() == undo_count and doc.modified


def test_unsaved_changes_are_asked_about(make_window, tmp_path):
    window = make_window("lenet5")
    doc = window.document
    doc.set_params("c1", out_channels=8)
    window.prompts.save_answer = "cancel"
    assert not window.files.open(str(EXAMPLES / "hdc_segment.json"))  # small: opening runs it
    assert doc.design.name == "LeNet-5" and window.prompts.asked
    assert not window.close() and window.isVisible()
    window.prompts.save_answer = "discard"
    assert window.files.open(str(EXAMPLES / "hdc_segment.json"))
    assert doc.design.name == example("hdc_segment").name and not doc.modified


def test_examples_open_as_untitled_copies(make_window):
    window = make_window("lenet5")
    assert window.registry.submenus["examples"].actions()
    assert window.files.open_example(EXAMPLES / "inception3a.json")
    assert window.document.path is None and "unsaved" in window.windowTitle()


def test_file_open_on_a_bundled_example_opens_an_untitled_copy(make_window, tmp_path):
    window = make_window("lenet5")
    window.prompts.open_answer = str(EXAMPLES / "hdc_segment.json")  # small: opening runs it
    window.action("open").trigger()
    assert window.document.design.name == example("hdc_segment").name and window.document.path is None
    window.prompts.save_as_answer = str(tmp_path / "mine.json")
    window.document.set_params("conv_r1a", out_channels=8)
    window.action("save").trigger()  # Save asks where instead of overwriting the example
    assert window.document.path == str(tmp_path / "mine.json")
    assert example("hdc_segment").layers[0].params["out_channels"] == 64


def test_export_summary_in_every_core_format(make_window, tmp_path):
    window = make_window("lenet5")
    for suffix, marker in ((".txt", "Total params"), (".md", "| Layer |"), (".csv", "name,type"),
                           (".json", '"totals"')):
        out = tmp_path / f"summary{suffix}"
        window.prompts.export_answer = str(out)
        window.action("export").trigger()
        assert marker in out.read_text(encoding="utf-8"), suffix


def test_dropping_a_json_file_opens_it(make_window):
    window = make_window("lenet5")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(EXAMPLES / "hdc_segment.json"))])  # small: opening runs it
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.document.design == Design.load(EXAMPLES / "hdc_segment.json")


def test_recent_files_persist_in_settings(make_window, settings, tmp_path):
    window = make_window("lenet5")
    target = tmp_path / "a.json"
    window.prompts.save_as_answer = str(target)
    window.action("save_as").trigger()
    window.save_settings()
    window.close()
    again = make_window("lenet5")
    assert str(target.resolve()) in again.files.recent_files()
    assert settings.value("workspaces/design") is not None
    recent = again.registry.submenus["recent"]
    recent.aboutToShow.emit()
    assert any(str(target.resolve()) == a.text() for a in recent.actions())

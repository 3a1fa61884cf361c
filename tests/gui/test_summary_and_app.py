"""Summary table, status bar, block templates, autosave/recovery, settings and the screenshot mode."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from designer.core import Design, InputSpec
from designer.gui import app as gui_app
from designer.gui.document.autosave import Autosaver, autosave_folder, find_recoverable
from designer.gui.document.document import DesignDocument
from designer.gui.summary.model import NAME_ROLE, TOTALS
from designer.core.templates import BLOCKS

from .conftest import example


def test_summary_has_a_row_per_layer_and_totals(make_window):
    window = make_window("vgg16")
    model = window.summary.model
    rows = window.document.analysis.rows
    assert model.rowCount() == len(rows) + 1
    assert model.index(len(rows), 1).data() == "Total"
    assert model.index(len(rows), 4).data() == f"{window.document.analysis.totals['params']:,}"


def test_sorting_by_params_keeps_totals_last(make_window):
    window = make_window("vgg16")
    table, proxy = window.summary.table, window.summary.proxy
    table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    last = proxy.rowCount() - 1
    assert proxy.index(last, 0).data(NAME_ROLE) == TOTALS
    assert proxy.index(0, 1).data().strip() == "fc6"  # VGG-16's 102 M parameter layer
    table.sortByColumn(4, Qt.SortOrder.AscendingOrder)
    assert proxy.index(last, 0).data(NAME_ROLE) == TOTALS


def test_selecting_a_row_selects_the_card(make_window):
    window = make_window("vgg16")
    proxy, table = window.summary.proxy, window.summary.table
    table.selectRow(3)
    name = proxy.index(3, 0).data(NAME_ROLE)
    assert window.document.selected == name and window.canvas.cards[name].selected


def test_batch_size_and_dtype_update_memory_live(make_window):
    window = make_window("vgg16")
    before = window.document.analysis.memory["training_bytes"]
    window.summary.batch.setValue(8)
    window.summary.dtype.setCurrentText("float16")
    window.summary.optimizer.setCurrentText("adam")
    analysis = window.document.analysis
    assert (analysis.batch_size, analysis.dtype, analysis.optimizer) == (8, "float16", "adam")
    assert analysis.memory["training_bytes"] != before
    assert "batch 8, float16, adam" in window.status.labels["training"].text()
    assert not window.document.modified  # memory settings are not design edits


def test_status_bar_shows_totals(make_window):
    window = make_window("vgg16")
    texts = " ".join(label.text() for label in window.status.labels.values())
    assert "138.36 M" in texts and "15.47 G" in texts and "valid" in texts


@pytest.mark.parametrize("key", list(BLOCKS))
def test_block_templates_fit_where_they_are_inserted(key, qapp):
    doc = DesignDocument(example("vgg16"))
    slot = (4,) if key != "fc_head" else (len(doc.design.layers) - 7,)  # after conv1_2+relu / before the head
    doc.insert_item(f"block:{key}", slot)
    inserted = [r for r in doc.analysis.rows if r.name not in example("vgg16").names()]
    assert inserted and all(i.level != "error" for r in inserted for i in r.issues), key


def crash(saver: Autosaver) -> None:
    """What a killed process leaves: its files, and a lock the kernel released."""
    saver.timer.stop()
    saver.lock.release()


def test_autosave_and_recovery(qapp, tmp_path):
    folder = tmp_path / "autosave"
    doc = DesignDocument(example("lenet5"))
    saver = Autosaver(doc, folder=folder)
    assert not saver.save_now()  # nothing unsaved yet
    doc.set_params("c1", out_channels=8)
    assert saver.save_now() and saver.design_file.exists()
    assert find_recoverable(folder) is None  # a live session's autosave is not offered
    crash(saver)
    recovered = find_recoverable(folder)
    assert recovered is not None and recovered.design.get((0,)).params["out_channels"] == 8
    assert "LeNet-5" in recovered.describe()
    assert find_recoverable(folder) is None  # offered once: this process holds it now
    recovered.release()


def test_a_crashed_sessions_autosave_is_offered_and_never_overwritten(qapp, tmp_path):
    """Session ids, not process ids: a new session in the same process (as a new process reusing the
    dead one's pid would be) writes its own file and still finds the old one."""
    first = DesignDocument(example("lenet5"))
    old = Autosaver(first, folder=tmp_path)
    first.set_params("c1", out_channels=8)
    old.save_now()
    crash(old)
    second = DesignDocument(example("vgg16"))
    new = Autosaver(second, folder=tmp_path)
    second.set_params("conv1_1", out_channels=8)
    assert new.save_now() and new.design_file != old.design_file
    assert Design.load(old.design_file).name == example("lenet5").name
    recovered = find_recoverable(tmp_path)
    assert recovered is not None and recovered.files[0] == old.design_file
    recovered.discard()
    assert not old.design_file.exists() and new.design_file.exists()
    new.close()
    assert not new.design_file.exists()


def test_recover_marks_the_document_modified(make_window, tmp_path):
    window = make_window("vgg16")
    doc = DesignDocument(example("lenet5"))
    saver = Autosaver(doc, folder=tmp_path)
    doc.set_params("c1", out_channels=8)
    saver.save_now()
    crash(saver)
    window.recover(find_recoverable(tmp_path))
    assert window.document.design.name == "LeNet-5" and window.document.modified
    assert not list(tmp_path.glob("99999999*"))


def test_saving_clears_the_autosave(qapp, tmp_path):
    doc = DesignDocument(example("lenet5"))
    saver = Autosaver(doc, folder=tmp_path / "auto")
    doc.set_params("c1", out_channels=8)
    saver.save_now()
    doc.design.save(tmp_path / "x.json")
    doc.mark_saved(str(tmp_path / "x.json"))
    assert not saver.design_file.exists()


def test_autosave_folder_is_in_the_user_data_folder(qapp):
    assert autosave_folder().name == "autosave"


def test_screenshot_of_a_broken_design_exits_2(tmp_path, qapp, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert gui_app.run_app(str(bad), screenshot=str(tmp_path / "x.png")) == 2
    assert "format" in capsys.readouterr().err


def test_new_design_is_empty_and_valid(make_window):
    window = make_window("lenet5")
    window.action("new").trigger()
    assert window.document.design == Design("Untitled", InputSpec(3, 224, 224))
    assert window.document.analysis.valid

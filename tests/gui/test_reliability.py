"""The window's part of the reliability issue (9): the memory guard, work off the GUI thread with cancel,
results tied to the design they were computed for, and every save path showing its errors."""

from __future__ import annotations

import os
import stat
import threading
import time

import numpy as np
import pytest

from designer.backend.limits import RUN_MEMORY_LIMIT, run_memory_refusal
from designer.core import Design, InputSpec, Layer
from designer.gui.document.autosave import Autosaver
from designer.gui.document.document import DesignDocument
from designer.gui.inspector.common import name_problem
from designer.gui.run import controller as controller_module
from designer.gui.run.rf_overlay import Unit

from .test_run import run_and_wait, strided

HUGE = Design("huge", InputSpec(3, 16000, 16000), (Layer("Conv2d", "c", {"out_channels": 8, "kernel_size": 3}),))


def test_the_memory_guard_refuses_a_huge_run_and_keeps_the_design_editable(make_window, qtbot, monkeypatch):
    assert run_memory_refusal(strided()) is None
    assert "more than the 4.00 GiB" in run_memory_refusal(HUGE) and RUN_MEMORY_LIMIT == 4 * 2**30
    prepared = []
    monkeypatch.setattr(controller_module, "prepare_input", lambda *a: prepared.append(a))
    window = make_window(HUGE)
    window.action("run_sample").trigger()
    assert window.run.blocked and not window.run.busy and not prepared  # nothing prepared or allocated
    window.document.select(None)
    assert "Not run" in window.maps.empty.text() and "input size" in window.maps.empty.text()
    window.document.set_input(height=64, width=64)  # still editable; the smaller design runs
    assert not window.run.blocked
    monkeypatch.undo()
    run_and_wait(window, qtbot)
    assert window.run.result.outputs["c"].shape == (8, 62, 62)


def test_image_preparation_and_runs_happen_on_the_worker_thread(make_window, qtbot, monkeypatch):
    threads = []
    original = controller_module.prepare_input

    def spy(*args):
        threads.append(threading.current_thread().name)
        return original(*args)
    monkeypatch.setattr(controller_module, "prepare_input", spy)
    window = make_window(strided())
    run_and_wait(window, qtbot)
    assert threads == ["cnn-designer-run"]


def test_coverage_is_traced_off_the_gui_thread_and_can_be_cancelled(make_window, qtbot, monkeypatch):
    from .test_run_views import dilated

    window = make_window(dilated([2, 2, 2]))
    window.run.wait()
    threads, release = [], threading.Event()
    original = controller_module.coverage_map

    def slow(*args, **kwargs):
        threads.append(threading.current_thread().name)
        release.wait(5)
        return original(*args, **kwargs)
    monkeypatch.setattr(controller_module, "coverage_map", slow)
    view = window.coverage
    view.show_layer("conv2")
    assert "Tracing" in view.summary.text() and view.cancel.isVisibleTo(view)
    view.cancel.click()
    release.set()
    window.run.wait()
    assert threads == ["cnn-designer-trace"]
    assert "cancelled" in view.summary.text() and view.counts is None  # the late answer is dropped


def test_an_erf_for_a_replaced_design_is_dropped(make_window, qtbot):
    window = make_window(strided())
    run_and_wait(window, qtbot)
    window.probe.pin(Unit("conv2", 0, 2, 2))  # asks for the ERF of this run …
    window.document.set_params("conv1", out_channels=4)  # … and the design changes before it arrives
    window.run.wait()
    assert window.run.erf is None
    window.run.request_erf("conv2", (2, 2), 0, False)  # a stale run's ERF is not even computed
    assert not window.run.lane.pending and not window.run.busy
    run_and_wait(window, qtbot)
    window.run.wait()
    erf = window.run.erf
    assert erf is not None and erf.key.design is window.document.design


def test_every_save_path_shows_its_error(make_window, tmp_path):
    window = make_window("lenet5")
    window.document.set_params("c1", out_channels=8)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert not window.files.save_as() or True  # the scripted dialog answers None: nothing happens
    window.prompts.save_as_answer = str(folder)  # a folder cannot be written as a file
    assert not window.files.save_as()
    assert window.prompts.errors[-1][0] == "Cannot save design" and str(folder) in window.prompts.errors[-1][1]
    assert window.document.modified
    bad = window.document.design.layers[0]
    window.document.push("rename", window.document.design.replace_layer((0,), Layer(
        bad.type, "c\udc80", bad.params)), None)  # a lone surrogate that slipped in (e.g. from an old file)
    window.prompts.save_as_answer = str(tmp_path / "ok.json")
    assert not window.files.save_as()  # UnicodeEncodeError: shown, not raised
    assert window.prompts.errors[-1][0] == "Cannot save design"
    assert not window.files.export_summary(str(folder))
    assert window.prompts.errors[-1][0] == "Cannot export summary"


def test_autosave_reports_a_failed_write_instead_of_raising(qapp, tmp_path):
    doc = DesignDocument(strided())
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    saver = Autosaver(doc, folder=blocked)  # the folder is a file: every write fails
    failures = []
    saver.failed.connect(failures.append)
    doc.set_params("conv1", out_channels=4)
    assert not saver.save_now()
    assert failures and "Autosave failed" in failures[0]


def test_saving_keeps_the_file_mode(make_window, tmp_path):
    window = make_window("lenet5")
    path = tmp_path / "net.json"
    window.prompts.save_as_answer = str(path)
    assert window.files.save_as()
    os.chmod(path, 0o664)
    window.document.set_params("c1", out_channels=8)
    assert window.files.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


@pytest.mark.parametrize("name", ["c\ud800", "\udfffx"])
def test_the_inspector_refuses_lone_surrogate_names(make_window, name):
    assert name_problem(name) and name_problem("conv_1") is None
    window = make_window(strided())
    window.document.select("conv1")
    page = window.inspector.layer_page
    page.rename_to(name)  # e.g. pasted as UTF-16 with half a pair
    assert window.document.selected == "conv1" and page.name_edit.text() == "conv1"
    assert "surrogate" in window.statusBar().currentMessage()


def test_a_cancelled_run_leaves_the_window_responsive(make_window, qtbot):
    window = make_window("vgg16")
    start = time.perf_counter()
    window.run.run()
    assert time.perf_counter() - start < 0.5  # the GUI thread only queues the job
    window.action("cancel_run").trigger()
    window.run.wait()
    assert not window.run.busy
    assert np.isfinite(time.perf_counter() - start)


def test_the_first_run_shows_its_first_layers_before_the_rest(make_window, qtbot):
    """Fast first impression: the first layers' maps come first (only their weights are made), then the
    whole network, whose result lists every layer as computed."""
    window = make_window("lenet5")
    seen = []
    window.run.result_changed.connect(lambda: seen.append(window.run.result))
    window.run.run()
    window.run.wait()
    assert len(seen) == 2 and list(seen[0].outputs) == [lay.name for lay in window.document.design.layers[:2]]
    assert sorted(seen[1].computed) == sorted(r.name for r in window.document.analysis.rows)

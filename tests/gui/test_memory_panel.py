"""The memory panel on its own (it takes the document): timeline, peak tensors, budget and remedies."""

from __future__ import annotations

from designer.core import Design
from designer.core.formatting import human_bytes
from designer.gui.document.document import DesignDocument
from designer.gui.memory import MemoryPanel
from designer.gui.memory.timeline import holders, phase_spans, stacked

from .conftest import EXAMPLES


def _panel(qtbot, name="resnet18", batch=8) -> MemoryPanel:
    document = DesignDocument(Design.load(EXAMPLES / f"{name}.json"))
    document.set_options(batch_size=batch, optimizer="momentum")
    panel = MemoryPanel(document)
    qtbot.addWidget(panel)
    panel.refresh()
    return panel


def test_timeline_shows_the_peak_and_what_is_alive_there(qtbot):
    panel = _panel(qtbot)
    step = panel.timeline.step
    assert human_bytes(step.peak) in panel.timeline.caption.text()
    assert step.peak == panel.document.analysis.memory["training_bytes"]
    assert stacked(step)[-1].max() * 2**20 == step.peak
    assert [p for p, _, _ in phase_spans(step)] == ["forward", "backward", "optimizer"]
    groups = holders(step.peak_blocks)
    assert panel.timeline.tensors.topLevelItemCount() == len(groups)
    assert groups[0][1] >= groups[-1][1]


def test_inference_mode_redraws_without_saved_tensors(qtbot):
    panel = _panel(qtbot)
    panel.mode.setCurrentText("Inference (no_grad)")
    assert panel.timeline.step.peak == panel.document.analysis.memory["inference_peak_bytes"]
    assert "no_grad" in panel.timeline.caption.text()


def test_budget_gives_largest_batch_and_remedies_apply(qtbot):
    panel = _panel(qtbot, "hdc_segment", batch=64)
    fit = panel.fit
    fit.budget.setValue(0.25)
    assert "does not fit" in fit.answer.text() and "largest batch that fits is" in fit.answer.text()
    titles = [fit.list.topLevelItem(i).text(0) for i in range(fit.list.topLevelItemCount())]
    assert "16-bit floats" in titles
    fit.list.setCurrentItem(fit.list.topLevelItem(titles.index("16-bit floats")))
    fit.apply_selected()
    assert panel.document.dtype == "float16"
    stride = next(i for i, t in enumerate(titles) if t.startswith("Stride"))
    fit.list.setCurrentItem(fit.list.topLevelItem(stride))
    fit.apply_selected()
    assert panel.document.undo_stack.canUndo()


def test_window_has_the_memory_dock_and_it_follows_the_settings(make_window):
    window = make_window("resnet18")
    window.show_dock("memory")
    panel = window.memory_panel
    window.document.set_options(batch_size=4, optimizer="adam")
    assert panel.timeline.step.peak == window.document.analysis.memory["training_bytes"]
    assert "adam" in panel.settings.text()

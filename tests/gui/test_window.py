"""The window, second edition (issue 13): workspaces and their layouts, the panel API, fitting any
screen, and one test per numbered item a user tripped over."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QPushButton, QWidget

from designer.core import Design
from designer.gui.document.document import follow_out_channels
from designer.gui.run.feature_grid import page_size
from designer.gui.run.image_source import letterboxed
from designer.gui.window.actions import redo_shortcuts
from designer.gui.window.help import page_html
from designer.gui.window.prompts import export_filter_for
from designer.gui.window.screen import fitted_size

from .test_run import STRIDED, run_and_wait, strided


def test_workspaces_switch_by_tab_and_shortcut_and_remember_their_layout(make_window, qtbot, settings):
    window = make_window("lenet5")
    assert window.workspaces.names() == ["design", "run"]
    assert window.centralWidget().currentWidget() is window.canvas
    window.action("workspace_run").trigger()  # Ctrl+2
    assert window.workspaces.current == "run" and window.centralWidget().currentWidget() is window.maps
    assert window.action("workspace_run").shortcut() == QKeySequence("Ctrl+2")
    assert window.docks["input"].isVisible() and not window.docks["inspector"].isVisible()
    window.docks["profile"].close()  # the user closes a panel in Run …
    window.workspaces.tabs.setCurrentIndex(0)  # … goes to Design with the toolbar tab …
    assert window.workspaces.current == "design" and window.docks["inspector"].isVisible()
    window.workspaces.switch("run")  # … and back: Run remembers its layout
    assert not window.docks["profile"].isVisible()
    assert settings.value("workspaces/design") is not None
    window.action("reset_layout").trigger()  # View › Reset Layout
    assert window.docks["profile"].isVisible()


def test_switching_workspaces_leaves_no_stale_tab_bars(make_window, qtbot):
    """A dock shared by both workspaces (coverage) must not leave the other workspace's tabs on screen."""
    from PySide6.QtWidgets import QTabBar

    window = make_window("lenet5")
    for name in ("run", "design", "run", "design"):
        window.workspaces.switch(name)
        qtbot.wait(10)
        titles = {d.windowTitle() for d in window.docks.values() if d.isVisible()}
        for bar in window.findChildren(QTabBar):
            if bar.parent() is window and bar.isVisible() and window.rect().intersects(bar.geometry()):
                assert {bar.tabText(i) for i in range(bar.count())} <= titles, name


def test_the_panel_api_finds_docks_and_actions_by_name(make_window):
    window = make_window("lenet5")
    for name in ("palette", "inspector", "summary", "layers", "input", "profile", "coverage"):
        assert isinstance(window.dock(name), QDockWidget) and window.dock(name).objectName() == f"{name}Dock"
    extra = window.add_dock("extra", "Extra", QLabel("x"), Qt.DockWidgetArea.LeftDockWidgetArea, ("design",))
    assert extra in window.findChildren(QDockWidget)
    assert extra.toggleViewAction() in window.registry.menus["view"].actions()
    hits = []
    action = window.registry.add("export_x", "Export X…", lambda: hits.append(1), menu="file", section="export")
    file_actions = window.registry.menus["file"].actions()
    assert file_actions.index(window.action("export")) < file_actions.index(action) < file_actions.index(
        window.action("quit"))
    action.trigger()
    assert hits == [1]
    with pytest.raises(ValueError):
        window.registry.add("export_x", "again", None)


@pytest.mark.parametrize("size", [(1024, 700), (1600, 1000)])
def test_every_workspace_is_usable_at_small_and_large_sizes(make_window, qtbot, size):
    window = make_window("vgg16", size=size)
    assert (window.width(), window.height()) == size  # the minimum size fits 1024×700
    for name in ("design", "run"):
        window.workspaces.switch(name)
        qtbot.wait(20)
        central = window.centralWidget()
        assert central.width() >= 0.35 * size[0] and central.height() >= 0.35 * size[1], name
        for dock in window.docks.values():
            if dock.isVisible() and not dock.visibleRegion().isEmpty():
                assert dock.width() >= 150 and dock.height() >= 100, (name, dock.objectName())


def test_a_wide_plugin_panel_scrolls_instead_of_widening_the_window(make_window, qtbot, monkeypatch):
    from designer.gui.window import main_window

    def install(window) -> None:
        wide = QLabel("a plugin's wide panel")
        wide.setMinimumWidth(900)
        window.add_dock("wide", "Wide", wide, Qt.DockWidgetArea.BottomDockWidgetArea, ("design",))
    monkeypatch.setattr(main_window, "PLUGINS", (*main_window.PLUGINS, install))
    window = make_window("lenet5", size=(1024, 700))
    qtbot.wait(20)
    assert window.minimumSizeHint().width() <= 1024 and window.width() == 1024
    assert window.dock("wide").widget().objectName().endswith("Scroll")


def test_a_short_profile_plot_drops_its_axis_title_instead_of_clipping_it(make_window, qtbot):
    window = make_window("lenet5", size=(1024, 700), workspace="run")
    profile = window.profile
    axis = profile.plot.getAxis("left")
    profile.plot.setFixedHeight(60)  # "Parameters" needs ~90 px
    qtbot.wait(20)
    assert not axis.label.isVisible()
    profile.plot.setFixedHeight(240)
    qtbot.wait(20)
    assert axis.label.isVisible() and "Parameters" in axis.labelText


def test_the_window_opens_inside_the_screen_at_any_scale():
    # a 1600×1000 screen at scale 1.5 offers 1066×666 device-independent pixels
    assert fitted_size((1600, 1000), (1066, 666), (843, 430)) == (1002, 626)
    assert fitted_size((1600, 1000), (1920, 1080), (843, 430)) == (1600, 1000)
    assert fitted_size((1600, 1000), (700, 500), (843, 430)) == (700, 470)


def test_a_new_window_fits_the_available_screen(make_window):
    window = make_window("lenet5", size=None)  # no fixed size: fitted to the (800×800 offscreen) screen
    area = window.screen().availableGeometry()
    least = window.minimumSizeHint()
    assert least.width() <= 840 and least.height() <= 500  # both workspaces work well below 1024×700
    assert window.height() <= area.height() and window.width() <= max(area.width(), least.width())


def test_palette_blocks_come_first_and_need_no_scrolling(make_window):
    window = make_window("vgg16", size=(1600, 1000))
    tree = window.palette.tree
    assert tree.topLevelItem(0).text(0) == "Blocks"
    last_block = tree.topLevelItem(0).child(tree.topLevelItem(0).childCount() - 1)
    assert tree.visualItemRect(last_block).bottom() < tree.viewport().height()


def test_fit_to_view_fits_a_tall_network_with_compact_cards_and_a_minimap(make_window, qtbot):
    window = make_window("vgg16", size=(1600, 1000))
    canvas = window.canvas
    window.action("fit").trigger()
    qtbot.wait(20)
    scale = canvas.transform().m11()
    assert 0.2 <= scale < 0.55  # small: cards switch to type-and-shape (COMPACT_LOD)
    window.action("zoom_reset").trigger()
    assert canvas.minimap.isVisible()  # the network no longer fits: the overview shows where we are


def test_compact_cards_put_a_long_type_on_its_own_line_instead_of_cutting_it():
    from PySide6.QtGui import QFontMetricsF

    from designer.gui.canvas.items import compact_needs_two_lines
    from designer.gui.style import font
    metrics = QFontMetricsF(font(15, bold=True))
    assert not compact_needs_two_lines(metrics, "ReLU", "64×56×56", 212, 64)
    assert compact_needs_two_lines(metrics, "BatchNorm2d", "64×112×112", 212, 64)  # was "Batc…"
    assert not compact_needs_two_lines(metrics, "BatchNorm2d", "64×112×112", 212, 20)  # no room: one line


def test_branches_collapse_and_expand(make_window):
    window = make_window("inception3a")
    canvas = window.canvas
    branch = next(r.name for r in window.document.analysis.rows if r.type == "Branch")
    inner = next(r.name for r in window.document.analysis.rows if len(r.path) > 1)
    height = canvas.layout_.height
    canvas.set_collapsed(branch, True)
    assert inner not in canvas.cards and canvas.layout_.height < height
    assert "collapsed" in canvas.cards[branch].content.detail
    window.document.select(inner)  # selecting a hidden layer (from the table) expands its branch
    assert inner in canvas.cards


def test_feature_map_tiles_grow_with_the_space():
    assert page_size((600, 1200), (56, 56)) == 64
    assert page_size((200, 400), (56, 56)) < 16  # a small pane shows fewer, larger maps
    assert page_size((100, 100), (7, 7)) >= 1


# --- what users tripped over -------------------------------------------------------------------------
def test_1_redo_has_no_duplicate_shortcut(make_window):
    keys = redo_shortcuts()
    assert QKeySequence("Ctrl+Shift+Z") in keys and len(keys) == len({k.toString() for k in keys})
    window = make_window("lenet5")
    window.document.set_params("c1", out_channels=8)
    window.action("undo").trigger()
    assert window.action("redo").isEnabled()
    window.action("redo").trigger()
    assert window.document.design.get((0,)).params["out_channels"] == 8


def test_1_no_two_actions_share_a_shortcut(make_window):
    """Qt ignores a key bound twice ("Ambiguous shortcut overload"), so every sequence is bound once."""
    from PySide6.QtGui import QAction

    window = make_window("lenet5")
    seen: dict[str, str] = {}
    for action in set(window.findChildren(QAction)):
        for key in action.shortcuts():
            text = key.toString()
            assert seen.setdefault(text, action.objectName()) == action.objectName(), (text, seen[text], action)


def test_2_an_error_runs_every_layer_before_it(make_window, qtbot):
    design = strided().set_params((6,), in_features=7)  # fc: wrong in_features
    window = make_window(design)
    run_and_wait(window, qtbot)
    result = window.run.result
    assert {"conv1", "relu1", "conv2", "relu2", "pool", "flat"} <= set(result.outputs)
    assert window.run.not_run["fc"].startswith("not run: fix fc") and "prob" in window.run.not_run
    window.document.select("prob")
    assert "fix fc first" in window.maps.empty.text()


def test_2_an_empty_design_says_what_to_do(make_window):
    window = make_window("lenet5")
    window.action("new").trigger()
    window.action("run_sample").trigger()
    assert "add a layer" in window.statusBar().currentMessage() and not window.run.busy


def test_3_per_channel_presets_follow_out_channels(make_window):
    conv = Design.from_dict({"format": "cnn-designer/v1", "name": "p", "input": {"channels": 1, "height": 9,
                             "width": 9}, "layers": [{"type": "Conv2d", "name": "c", "out_channels": 3,
                                                      "kernel_size": 3, "init": {"preset": ["sobel_x", "sobel_y",
                                                                                            "laplacian"]}}]})
    assert follow_out_channels(conv.layers[0], {"out_channels": 2})["init"] == {"preset": ["sobel_x", "sobel_y"]}
    window = make_window(conv)
    window.document.set_params("c", out_channels=5)
    names = window.document.design.layers[0].params["init"]["preset"]
    assert names == ["sobel_x", "sobel_y", "laplacian", "sobel_x", "sobel_y"] and window.document.analysis.valid
    window.action("undo").trigger()
    assert len(window.document.design.layers[0].params["init"]["preset"]) == 3
    broken = Design.from_dict({**conv.to_dict(), "layers": [{**conv.to_dict()["layers"][0], "out_channels": 2}]})
    window.document.reset(broken, None)  # a file with 3 presets for 2 channels: an error with a fix
    window.document.select("c")
    assert not window.document.analysis.valid
    fix = next(b for b in window.inspector.layer_page.fixes.buttons if "kernel presets" in b.text())
    fix.click()
    assert window.document.analysis.valid


def test_4_stale_panels_are_cleared_and_open_runs(make_window, qtbot, tmp_path):
    window = make_window(strided())
    panel = window.input_panel
    assert panel.erf_base.image is None  # before any click: no grey copy of the input
    run_and_wait(window, qtbot)
    from designer.gui.run.rf_overlay import Unit

    with qtbot.waitSignal(window.run.erf_changed, timeout=30000):
        window.probe.pin(Unit("conv2", 0, 2, 2))
    window.run.wait()
    assert window.run.erf is not None
    window.document.set_params("conv1", out_channels=4)  # an edit makes the ERF stale: it goes
    assert window.run.erf is None and panel.erf_item.image is None
    window.run.run()  # while running, the pane says so instead of "Press F5"
    window.document.select(None)
    assert window.run.busy and "Running" in window.maps.empty_text()
    window.run.wait()
    path = tmp_path / "net.json"
    strided().save(path)
    window.prompts.save_answer = "discard"
    with qtbot.waitSignal(window.run.result_changed, timeout=60000):
        assert window.files.open(str(path))  # Ctrl+O runs at once, like a file from the command line
    window.run.wait()


def test_5_the_inspector_starts_at_the_top_and_shows_computed_values_first(make_window, qtbot):
    window = make_window("vgg16", size=(1600, 1000))
    window.document.select("conv3_2")
    bar = window.inspector.verticalScrollBar()
    bar.setValue(bar.maximum())
    window.document.select("conv4_1")
    assert bar.value() == 0
    page = window.inspector.layer_page
    qtbot.wait(20)
    bottom = page.computed.mapTo(page, page.computed.rect().bottomLeft()).y()
    assert bottom <= window.inspector.viewport().height()  # computed values visible without scrolling


def test_6_save_as_names_the_design_and_prompts_say_what_happens(make_window, tmp_path):
    window = make_window("lenet5")
    window.action("new").trigger()
    window.document.insert_item("layer:Conv2d")
    window.prompts.save_as_answer = str(tmp_path / "my-net.json")
    window.action("save_as").trigger()
    assert window.document.design.name == "my-net" and Design.load(tmp_path / "my-net.json").name == "my-net"
    assert window.canvas.cards["__input__"].content.name == "my-net"
    assert window.files.suggested_export_path().endswith("my-net-summary.md")
    assert export_filter_for("x/my-net-summary.md") == "Markdown (*.md)"
    window.document.insert_item("layer:ReLU")
    window.prompts.save_answer = "cancel"
    window.files.open(str(tmp_path / "my-net.json"))
    assert window.prompts.asked[-1].endswith("before opening another design")
    assert window.action("undo").icon().cacheKey() != window.style().standardIcon(
        window.style().StandardPixmap.SP_ArrowBack).cacheKey()


def test_6_numbers_have_thousands_separators_or_units():
    import numpy as np

    from designer.core.formatting import human_count
    from designer.gui.run.coverage import coverage_summary
    from designer.gui.run.profile import value_format

    assert "1,024 of 1,024" in coverage_summary(np.ones((32, 32), dtype=np.int64))
    assert value_format("params")(802816) == human_count(802816) and "e+" not in value_format("macs")(1e8)


def test_7_quick_fixes_are_one_click_and_undoable(make_window):
    design = strided().set_params((6,), in_features=7)  # fc gets 6·5·5 = 150
    window = make_window(design)
    window.document.select("fc")
    page = window.inspector.layer_page
    buttons = [b for b in page.fixes.findChildren(QPushButton) if b.text().startswith("Fix: set in_features")]
    assert buttons
    buttons[0].click()
    assert window.document.analysis.valid
    window.action("undo").trigger()
    assert not window.document.analysis.valid
    no_flatten = dict(STRIDED, layers=[lay for lay in STRIDED["layers"] if lay["type"] != "Flatten"])
    window.document.reset(Design.from_dict(no_flatten), None)
    menu = window.canvas.context_menu(window.canvas.cards["fc"])
    fix = next(a for a in menu.actions() if a.text().startswith("Fix: insert Flatten"))
    fix.trigger()  # from the card's context menu
    assert window.document.analysis.valid
    window.action("undo").trigger()
    assert not window.document.analysis.valid


def test_8_fit_modes_are_offered_remembered_and_named(make_window, settings):
    window = make_window(strided())
    assert window.image.mode == "crop"  # no stretching by default
    window.image.set_mode("letterbox")
    assert settings.value("image/fit") == "letterbox" and "letterboxed" in window.input_panel.preprocess.text()
    import numpy as np
    wide = np.zeros((3, 200, 300), np.float32)
    assert letterboxed(wide, 224, 224).shape == (3, 300, 300)


def test_9_help_has_shortcuts_and_getting_started(make_window):
    window = make_window("lenet5")
    shortcuts = page_html(window, "shortcuts")
    assert "Redo" in shortcuts and "Ctrl+Shift+Z" in shortcuts and "F5" in shortcuts
    assert "F14" not in shortcuts and ", Undo<" not in shortcuts and ", Redo<" not in shortcuts  # typable keys
    window.document.select(window.document.analysis.rows[0].name)
    window.edit_ops.delete()
    assert "Undo Delete" in window.action("undo").text() and "Undo Delete" not in page_html(window, "shortcuts")
    assert "Design" in page_html(window, "start") and "Run" in page_html(window, "start")
    window.action("shortcuts").trigger()
    dialog = window.findChild(QWidget, "help_shortcuts")
    assert dialog is not None and dialog.isVisible()
    dialog.close()

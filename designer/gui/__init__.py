"""The CNN Designer window (PySide6). Entry point: ``designer.gui.app.run_app``.

Packages by role (napari ``_qt`` / spyder plugins style): ``window`` (main window and its panel API,
action registry, workspaces, help), ``document`` (the edited design, undo commands, quick fixes, files,
autosave; no panels), ``canvas``, ``inspector``, ``palette``, ``summary``, ``run`` (controller and worker
lanes, feature maps, input with RF/ERF, profile, coverage); plugins such as ``arithmetic`` and ``memory``
plug in through ``window.main_window.PLUGINS``. Shared: ``style``, ``app_style``, ``deferred``, ``mime``,
``image_export``.

PySide6-Essentials is pinned below 6.12: 6.12.0 on Python 3.11 drops a reference to ``None`` on
every void Qt call (measured: 1,000 ``QPainter.drawLine`` calls lower ``sys.getrefcount(None)`` by
1,000) and the window aborts with "none_dealloc" after a few thousand paints; 6.11.2 does not.
"""

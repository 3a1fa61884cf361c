"""The CNN Designer window (PySide6). Entry point: ``designer.gui.app.run_app``.

PySide6-Essentials is pinned below 6.12: 6.12.0 on Python 3.11 drops a reference to ``None`` on
every void Qt call (measured: 1,000 ``QPainter.drawLine`` calls lower ``sys.getrefcount(None)`` by
1,000) and the window aborts with "none_dealloc" after a few thousand paints; 6.11.2 does not.
"""

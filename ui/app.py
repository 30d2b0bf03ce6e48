"""Start the desktop application (``gridtool`` / ``gridtool gui``).

:func:`run` opens the main window on a project, a GeoPackage or the sample district;
with ``screenshot`` it renders the window to a PNG and exits (for docs and checks).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from gridtool.errors import InputError

__all__ = ["create_app", "run", "parse_size"]


def parse_size(size: str) -> tuple[int, int]:
    """``"1600x1000"`` → ``(1600, 1000)``; InputError naming the value otherwise."""
    try:
        w, h = (int(v) for v in str(size).lower().replace("×", "x").split("x"))
    except ValueError:
        raise InputError(f"--size {size!r} is not WIDTHxHEIGHT; expected e.g. 1600x1000") from None
    if not (200 <= w <= 8000 and 150 <= h <= 8000):
        raise InputError(f"--size {size!r} is out of range; width 200–8000 and height 150–8000 pixels")
    return w, h


def create_app(*, lang: str | None = None):
    """The QApplication (created once): names, the CJK font and the translator of ``lang``.

    ``lang`` None uses the language chosen last time (QSettings), else Chinese.
    """
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from ui.fonts import apply_app_font
    from ui.i18n import install_translator

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    app.setApplicationName("gridtool")
    app.setOrganizationName("gridtool")
    apply_app_font(app)
    if lang is None:
        saved = QSettings().value("ui/language", None)
        lang = str(saved) if saved else None
    install_translator(app, lang)
    return app


def run(path: str | os.PathLike[str] | None = None, screenshot: str | None = None, size: str = "1600x1000",
        lang: str | None = None) -> int:
    """Open the main window on ``path`` (default: the sample district) and run the event loop.

    Parameters
    ----------
    path
        A project file (``*.gridtool.json``) or a GeoPackage.
    screenshot
        Render the window with the project loaded to this PNG and exit.
    size
        Window size for the screenshot, ``WIDTHxHEIGHT``.
    lang
        ``"zh_CN"`` (default) or ``"en"``.
    """
    if screenshot:
        w, h = parse_size(size)
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if path is None:
        from gridtool.paths import sample_gpkg_path

        path = sample_gpkg_path()
    if not Path(path).exists():
        raise InputError(f"project {str(path)!r} does not exist; pass a .gridtool.json project or a .gpkg file")
    if not screenshot and sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM") \
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        # Qt would abort the process here; say what to do instead
        raise InputError(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop session, "
            "under a virtual screen (xvfb-run -a gridtool), or render it to a picture with "
            "'gridtool gui --screenshot shot.png'"
        )
    app = create_app(lang=lang)
    from ui.main_window import MainWindow

    win = MainWindow()
    if screenshot:
        win.open_path(path, show_errors=False)
        return _screenshot(app, win, screenshot, w, h)
    win.open_path(path)
    win.show()
    return int(app.exec())


def _screenshot(app, win, out: str, w: int, h: int) -> int:
    win.resize(w, h)
    win.show()
    for _ in range(3):
        app.processEvents()
    if not (win.current_project and win.current_project.view):
        win.canvas.zoom_full()
    win.canvas.refresh()
    app.processEvents()
    img = win.grab()
    out_path = Path(out)
    if out_path.parent and not out_path.parent.exists():
        raise InputError(f"--screenshot folder {str(out_path.parent)!r} does not exist; create it first")
    if not img.save(str(out_path), "PNG"):
        raise InputError(f"--screenshot {out!r} could not be written; check the folder and permissions")
    print(out_path)
    win.close()
    return 0

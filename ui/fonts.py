"""The CJK font the application and the map labels use.

Under ``LANG=C.UTF-8`` fontconfig resolves Han characters to "Noto Sans CJK JP"
(Japanese glyph forms), and with no CJK font at all they render as boxes; so the
family is chosen explicitly, once, and used by widgets and map labels alike.
"""
from __future__ import annotations

import sys

from PyQt6.QtGui import QFont, QFontDatabase
from PyQt6.QtWidgets import QApplication

__all__ = ["PREFERRED_FAMILIES", "cjk_family", "apply_app_font", "apply_cjk_font", "label_font"]

PREFERRED_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                      "Microsoft YaHei", "PingFang SC", "SimHei")

_family: str | None = None


def cjk_family() -> str:
    """The first installed family of :data:`PREFERRED_FAMILIES` (needs a QGuiApplication).

    Returns the application's default family (and warns on stderr once) when none is installed.
    """
    global _family
    if _family is None:
        installed = set(QFontDatabase.families())
        for fam in PREFERRED_FAMILIES:
            if fam in installed:
                _family = fam
                break
        else:
            print(
                "gridtool: warning: no CJK font found (tried "
                f"{', '.join(PREFERRED_FAMILIES[:3])}); Chinese text will render as boxes. "
                "Install fonts-noto-cjk or fonts-wqy-microhei",
                file=sys.stderr,
            )
            _family = QFont().family()
    return _family


def apply_app_font(app: QApplication, *, point_size: float = 9.5) -> str:
    """Make the CJK family the application font; returns the family used."""
    fam = cjk_family()
    font = QFont(fam)
    font.setPointSizeF(point_size)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    return fam


def label_font(point_size: float, *, bold: bool = False) -> QFont:
    """A map-label font of the CJK family, sized in pixels (96 dpi) so images and screens agree."""
    font = QFont(cjk_family())
    font.setPixelSize(max(1, round(point_size * 96.0 / 72.0)))
    font.setBold(bold)
    return font


def apply_cjk_font(app: QApplication, *, point_size: float = 9.5) -> str | None:
    """Like :func:`apply_app_font`, but returns ``None`` when no CJK family is installed.

    The name the team brief uses; both functions set the same font.
    """
    fam = apply_app_font(app, point_size=point_size)
    return fam if fam in PREFERRED_FAMILIES else None

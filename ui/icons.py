"""Small toolbar icons painted with QPainter (no image files to ship or license)."""
from __future__ import annotations

import math

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF

__all__ = ["tool_icon", "ICON_NAMES"]

_INK = QColor("#37474f")
_ACCENT = QColor("#1f78b4")


def _arrow(p: QPainter, x0: float, y0: float, x1: float, y1: float) -> None:
    p.drawLine(QPointF(x0, y0), QPointF(x1, y1))
    a = math.atan2(y1 - y0, x1 - x0)
    for s in (-0.5, 0.5):
        p.drawLine(QPointF(x1, y1), QPointF(x1 - 5 * math.cos(a + s), y1 - 5 * math.sin(a + s)))


def _lens(p: QPainter, sign: str) -> None:
    p.drawEllipse(QPointF(10, 10), 6.5, 6.5)
    p.drawLine(QPointF(15, 15), QPointF(21, 21))
    p.drawLine(QPointF(7, 10), QPointF(13, 10))
    if sign == "+":
        p.drawLine(QPointF(10, 7), QPointF(10, 13))


def _draw(p: QPainter, name: str) -> None:
    pen = QPen(_INK, 1.8)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    if name == "pan":
        for x0, y0, x1, y1 in ((12, 12, 12, 2), (12, 12, 12, 22), (12, 12, 2, 12), (12, 12, 22, 12)):
            _arrow(p, x0, y0, x1, y1)
    elif name == "identify":
        p.setPen(QPen(_ACCENT, 1.8))
        p.drawEllipse(QPointF(12, 12), 9, 9)
        p.setPen(QPen(_ACCENT, 2.4))
        p.drawLine(QPointF(12, 10.5), QPointF(12, 17))
        p.drawPoint(QPointF(12, 7))
    elif name == "select_rect":
        p.setPen(QPen(_ACCENT, 1.5, Qt.PenStyle.DashLine))
        p.setBrush(QColor(31, 120, 180, 50))
        p.drawRect(QRectF(3, 5, 18, 14))
    elif name == "select_polygon":
        p.setPen(QPen(_ACCENT, 1.5, Qt.PenStyle.DashLine))
        p.setBrush(QColor(31, 120, 180, 50))
        p.drawPolygon(QPolygonF([QPointF(3, 8), QPointF(14, 3), QPointF(21, 12), QPointF(12, 21), QPointF(5, 17)]))
    elif name == "measure_distance":
        p.drawLine(QPointF(2, 17), QPointF(22, 7))
        for i in range(5):
            t = i / 4
            x, y = 2 + 20 * t, 17 - 10 * t
            p.drawLine(QPointF(x, y), QPointF(x + 1.5, y + 3))
    elif name == "measure_area":
        p.setBrush(QColor(227, 26, 28, 45))
        p.setPen(QPen(QColor("#e31a1c"), 1.6))
        p.drawPolygon(QPolygonF([QPointF(3, 19), QPointF(7, 5), QPointF(20, 4), QPointF(21, 18)]))
    elif name == "zoom_in":
        _lens(p, "+")
    elif name == "zoom_out":
        _lens(p, "-")
    elif name == "zoom_full":
        p.drawRect(QRectF(3, 3, 18, 18))
        for x0, y0, x1, y1 in ((12, 12, 5, 5), (12, 12, 19, 5), (12, 12, 5, 19), (12, 12, 19, 19)):
            _arrow(p, x0, y0, x1, y1)
    elif name == "zoom_selection":
        p.setBrush(QColor("#ffd400"))
        p.drawRect(QRectF(4, 4, 9, 9))
        p.setBrush(Qt.BrushStyle.NoBrush)
        _lens(p, "")
    elif name == "back":
        _arrow(p, 20, 12, 4, 12)
    elif name == "forward":
        _arrow(p, 4, 12, 20, 12)


ICON_NAMES = ("pan", "identify", "select_rect", "select_polygon", "measure_distance", "measure_area",
              "zoom_in", "zoom_out", "zoom_full", "zoom_selection", "back", "forward")


def tool_icon(name: str) -> QIcon:
    """A 24-px icon for toolbar action ``name`` (one of :data:`ICON_NAMES`)."""
    if name not in ICON_NAMES:
        raise ValueError(f"icon {name!r} is unknown; expected one of {', '.join(ICON_NAMES)}")
    icon = QIcon()
    for scale in (1, 2):
        pm = QPixmap(24 * scale, 24 * scale)
        pm.setDevicePixelRatio(scale)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        try:
            _draw(p, name)
        finally:
            p.end()
        icon.addPixmap(pm)
    return icon

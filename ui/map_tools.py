"""Map tools: what a left click or drag on the canvas does.

Each tool gets the canvas's mouse events (``press``, ``move``, ``release``,
``double_click``, ``right_click``, ``key``) and paints its rubber band in ``paint``.
Middle-drag pans and the wheel zooms whatever tool is active. Right-click finishes
polygon and measure tools, otherwise it copies the coordinates.

Tools: :class:`PanTool`, :class:`IdentifyTool`, :class:`SelectTool` (click, rectangle
or polygon; Shift adds, Ctrl toggles), :class:`MeasureTool` (distance or area in
EPSG:4549 metres), :class:`AddPointTool` (emits ``pointAdded(x, y)``; the findings
dialog hooks in here).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from PyQt6.QtCore import QCoreApplication, QObject, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QPolygonF

from layers.selection import SelectionMode
from ui.fonts import label_font

__all__ = [
    "MapTool",
    "PanTool",
    "IdentifyTool",
    "SelectTool",
    "MeasureTool",
    "AddPointTool",
    "polyline_length_m",
    "polygon_area_m2",
    "format_length",
    "format_area",
]


def _tr(text: str) -> str:
    return QCoreApplication.translate("MapTools", text)


def polyline_length_m(xy: np.ndarray) -> float:
    """Length of a polyline in map units (EPSG:4549 metres)."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) < 2:
        return 0.0
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


def polygon_area_m2(xy: np.ndarray) -> float:
    """Area of a (not self-intersecting) polygon ring by the shoelace formula, in m²."""
    xy = np.asarray(xy, dtype=float)
    if len(xy) < 3:
        return 0.0
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def format_length(m: float) -> str:
    return f"{m / 1000:,.3f} km" if m >= 1000 else f"{m:,.1f} m"


def format_area(m2: float) -> str:
    if m2 >= 1e6:
        return f"{m2 / 1e6:,.3f} km²"
    if m2 >= 1e4:
        return f"{m2 / 1e4:,.2f} ha ({m2:,.0f} m²)"
    return f"{m2:,.1f} m²"


def _mode_from(ev: Any) -> SelectionMode:
    mods = ev.modifiers()
    if mods & Qt.KeyboardModifier.ShiftModifier:
        return SelectionMode.ADD
    if mods & Qt.KeyboardModifier.ControlModifier:
        return SelectionMode.TOGGLE
    if mods & Qt.KeyboardModifier.AltModifier:
        return SelectionMode.REMOVE
    return SelectionMode.REPLACE


class MapTool(QObject):
    """Base class: does nothing; subclasses override the event methods they need."""

    name = "tool"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, canvas: Any) -> None:
        super().__init__(canvas)
        self.canvas = canvas

    def activate(self) -> None:
        pass

    def deactivate(self) -> None:
        pass

    def press(self, ev: Any) -> None:
        pass

    def move(self, ev: Any) -> None:
        pass

    def release(self, ev: Any) -> None:
        pass

    def double_click(self, ev: Any) -> None:
        pass

    def right_click(self, ev: Any) -> bool:
        """Return True when the tool used the right click (so coordinates are not copied)."""
        return False

    def key(self, ev: Any) -> bool:
        return False

    def paint(self, painter: QPainter) -> None:
        pass


class PanTool(MapTool):
    """Drag to move the map."""

    name = "pan"
    cursor = Qt.CursorShape.OpenHandCursor

    def press(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self.canvas.begin_pan(ev.position())
            self.canvas.setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, ev: Any) -> None:
        if self.canvas.panning:
            self.canvas.pan_to(ev.position())

    def release(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self.canvas.panning:
            self.canvas.end_pan(ev.position())
            self.canvas.setCursor(self.cursor)


class IdentifyTool(MapTool):
    """Click to list the features under the cursor; emits ``identified(list of (layer, rows), x, y)``."""

    name = "identify"
    cursor = Qt.CursorShape.WhatsThisCursor
    identified = pyqtSignal(object, float, float)

    def release(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        self.identify(ev.position())

    def identify(self, pos: QPointF) -> list:
        hits = self.canvas.features_at(pos)
        x, y = self.canvas.to_map(pos)
        self.identified.emit(hits, x, y)
        return hits


class SelectTool(MapTool):
    """Select by click or rectangle (``mode="rect"``) or by a polygon (``mode="polygon"``).

    In polygon mode each click adds a vertex; a double click or right click closes it,
    Esc cancels. Shift adds to the selection, Ctrl toggles, Alt removes.
    """

    cursor = Qt.CursorShape.CrossCursor
    selected = pyqtSignal(object)

    def __init__(self, canvas: Any, mode: str = "rect") -> None:
        super().__init__(canvas)
        if mode not in ("rect", "polygon"):
            raise ValueError(f"SelectTool mode {mode!r} is unknown; expected 'rect' or 'polygon'")
        self.mode = mode
        self.name = f"select_{mode}"
        self._start: QPointF | None = None
        self._end: QPointF | None = None
        self._vertices: list[tuple[float, float]] = []  # map coordinates
        self._hover: QPointF | None = None

    def deactivate(self) -> None:
        self._start = self._end = None
        self._vertices = []

    def press(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if self.mode == "rect":
            self._start = self._end = QPointF(ev.position())
        else:
            self._vertices.append(self.canvas.to_map(ev.position()))
            self.canvas.update()

    def move(self, ev: Any) -> None:
        if self.mode == "rect" and self._start is not None:
            self._end = QPointF(ev.position())
            self.canvas.update()
        elif self.mode == "polygon" and self._vertices:
            self._hover = QPointF(ev.position())
            self.canvas.update()

    def release(self, ev: Any) -> None:
        if self.mode != "rect" or self._start is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        start, end = self._start, QPointF(ev.position())
        self._start = self._end = None
        mode = _mode_from(ev)
        if abs(end.x() - start.x()) < 3 and abs(end.y() - start.y()) < 3:
            self.canvas.select_at(end, mode=mode)
        else:
            result = self.canvas.select_in_rect(start, end, mode=mode)
            self.selected.emit(result)
        self.canvas.update()

    def double_click(self, ev: Any) -> None:
        if self.mode == "polygon":
            self.finish(_mode_from(ev))

    def right_click(self, ev: Any) -> bool:
        if self.mode == "polygon" and self._vertices:
            self.finish(_mode_from(ev))
            return True
        return False

    def key(self, ev: Any) -> bool:
        if ev.key() == Qt.Key.Key_Escape and self._vertices:
            self._vertices = []
            self.canvas.update()
            return True
        if ev.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._vertices:
            self.finish(SelectionMode.REPLACE)
            return True
        return False

    def finish(self, mode: SelectionMode | str = SelectionMode.REPLACE) -> dict:
        """Close the polygon drawn so far and select with it."""
        verts = list(dict.fromkeys(self._vertices))
        self._vertices = []
        self._hover = None
        self.canvas.update()
        if len(verts) < 3:
            return {}
        poly = shapely.make_valid(shapely.Polygon(verts))
        result = self.canvas.select_by_geometry(poly, mode=mode)
        self.selected.emit(result)
        return result

    def paint(self, painter: QPainter) -> None:
        pen = QPen(QColor("#1f78b4"), 1.5, Qt.PenStyle.DashLine)
        fill = QColor(31, 120, 180, 40)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(pen)
        painter.setBrush(QBrush(fill))
        if self.mode == "rect" and self._start is not None and self._end is not None:
            painter.drawRect(QRectF(self._start, self._end).normalized())
        elif self.mode == "polygon" and self._vertices:
            pts = [self.canvas.to_screen(x, y) for x, y in self._vertices]
            if self._hover is not None:
                pts.append(self._hover)
            painter.drawPolygon(QPolygonF(pts))
        painter.restore()


class MeasureTool(MapTool):
    """Measure a distance (``mode="distance"``) or an area (``mode="area"``) in EPSG:4549 metres.

    Click to add vertices; the running total follows the mouse. Double click or right
    click ends the measurement (the result stays shown and ``measured(value, mode)``
    is emitted); the next click starts a new one.
    """

    cursor = Qt.CursorShape.CrossCursor
    measured = pyqtSignal(float, str)
    changed = pyqtSignal(float, str)

    def __init__(self, canvas: Any, mode: str = "distance") -> None:
        super().__init__(canvas)
        if mode not in ("distance", "area"):
            raise ValueError(f"MeasureTool mode {mode!r} is unknown; expected 'distance' or 'area'")
        self.mode = mode
        self.name = f"measure_{mode}"
        self.vertices: list[tuple[float, float]] = []
        self._hover: tuple[float, float] | None = None
        self._done = False

    def deactivate(self) -> None:
        self.vertices = []
        self._hover = None
        self._done = False

    @property
    def value(self) -> float:
        """Current length (m) or area (m²) of the vertices (with the mouse position while drawing)."""
        pts = list(self.vertices)
        if self._hover is not None and not self._done:
            pts.append(self._hover)
        xy = np.asarray(pts, dtype=float).reshape(-1, 2)
        return polyline_length_m(xy) if self.mode == "distance" else polygon_area_m2(xy)

    def text(self) -> str:
        v = self.value
        return format_length(v) if self.mode == "distance" else format_area(v)

    def press(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if self._done:
            self.vertices = []
            self._done = False
        self.add_point(*self.canvas.to_map(ev.position()))

    def add_point(self, x: float, y: float) -> None:
        """Add a vertex in map coordinates (used by clicks and by tests)."""
        self.vertices.append((float(x), float(y)))
        self.changed.emit(self.value, self.mode)
        self.canvas.update()

    def move(self, ev: Any) -> None:
        if self.vertices and not self._done:
            self._hover = self.canvas.to_map(ev.position())
            self.changed.emit(self.value, self.mode)
            self.canvas.update()

    def finish(self) -> float:
        """End the measurement; returns and emits the value."""
        self._hover = None
        self._done = True
        v = self.value
        self.measured.emit(v, self.mode)
        self.canvas.update()
        return v

    def double_click(self, ev: Any) -> None:
        if self.vertices:
            # the double click's first press added a duplicate vertex
            if len(self.vertices) >= 2 and self.vertices[-1] == self.vertices[-2]:
                self.vertices.pop()
            self.finish()

    def right_click(self, ev: Any) -> bool:
        if self.vertices and not self._done:
            self.finish()
            return True
        return False

    def key(self, ev: Any) -> bool:
        if ev.key() == Qt.Key.Key_Escape and self.vertices:
            self.deactivate()
            self.canvas.update()
            return True
        return False

    def paint(self, painter: QPainter) -> None:
        if not self.vertices:
            return
        pts = [self.canvas.to_screen(x, y) for x, y in self.vertices]
        if self._hover is not None and not self._done:
            pts.append(self.canvas.to_screen(*self._hover))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor("#e31a1c"), 2.0))
        if self.mode == "area":
            painter.setBrush(QColor(227, 26, 28, 45))
            painter.drawPolygon(QPolygonF(pts))
        else:
            painter.drawPolyline(QPolygonF(pts))
        painter.setBrush(QColor("#ffffff"))
        for p in pts:
            painter.drawEllipse(p, 3.0, 3.0)
        text = self.text()
        font = label_font(10, bold=True)
        fm = QFontMetricsF(font)
        anchor = pts[-1] + QPointF(10, -10)
        box = QRectF(anchor.x(), anchor.y() - fm.height(), fm.horizontalAdvance(text) + 10, fm.height() + 4)
        painter.setPen(QPen(QColor("#e31a1c"), 1.0))
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.drawRoundedRect(box, 3, 3)
        painter.setFont(font)
        painter.setPen(QColor("#222222"))
        painter.drawText(box.adjusted(5, 1, -5, -1), Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()


class AddPointTool(MapTool):
    """Click to emit ``pointAdded(x, y)`` in EPSG:4549 metres (e.g. to register a patrol finding)."""

    name = "add_point"
    cursor = Qt.CursorShape.CrossCursor
    pointAdded = pyqtSignal(float, float)

    def release(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            x, y = self.canvas.to_map(ev.position())
            self.pointAdded.emit(x, y)

"""The map canvas: our own QPainter widget drawing a :class:`layers.LayerList`.

Painting is layered like QGIS's map canvas:

* every visible layer is rendered by :func:`ui.render.render_layer` into its own
  image, kept until that layer's data or style change (so toggling or re-ordering a
  layer, or changing the selection, re-composes cached images instead of redrawing);
* the composed *frame* (basemap, layer images, selection, labels) is kept with the
  viewport it was made for. While the user drags or turns the wheel the old frame is
  shown shifted or scaled (a cached pan frame costs one ``drawImage``), and a full
  render follows when the interaction pauses;
* the scale bar, north arrow and the active tool's rubber bands are painted on top
  each time.

The canvas listens to the layer list's events; it never copies layer data.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QPainter, QGuiApplication
from PyQt6.QtWidgets import QSizePolicy, QWidget

from layers.events import Event
from layers.layer import Layer
from layers.layer_list import LayerList
from layers.selection import SelectionMode
from layers.viewport import Viewport
from ui import render

__all__ = ["MapCanvas", "DEFAULT_BOUNDS"]

DEFAULT_BOUNDS = (470000.0, 3505000.0, 505000.0, 3535000.0)
"""Roughly Zhonglou District, Changzhou, in EPSG:4549 (used until a layer is loaded)."""
_BACKGROUND = "#f7f6f2"
_MIN_MPP, _MAX_MPP = 0.02, 2000.0


class MapCanvas(QWidget):
    """A map view of a :class:`LayerList` with navigation, history and hit-testing.

    Signals
    -------
    viewportChanged(object)
        The :class:`Viewport` after every change.
    cursorMoved(float, float)
        Map coordinates (EPSG:4549 m) under the mouse.
    coordinatesCopied(str)
        Text put on the clipboard by a right-click.
    renderFinished()
        A full frame was rendered (tests wait on it).
    """

    viewportChanged = pyqtSignal(object)
    cursorMoved = pyqtSignal(float, float)
    coordinatesCopied = pyqtSignal(str)
    renderFinished = pyqtSignal()
    toolChanged = pyqtSignal(object)

    def __init__(self, layer_list: LayerList | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MapCanvas")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self._vp = Viewport(width=max(self.width(), 1), height=max(self.height(), 1)).fitted(DEFAULT_BOUNDS)
        self._history: list[Viewport] = []
        self._hpos = -1
        self._layer_images: dict[int, tuple[tuple, int, QImage]] = {}
        self._frame: QImage | None = None
        self._frame_vp: Viewport | None = None
        self._frame_valid = False
        self._pan_anchor: QPointF | None = None
        self._pan_vp: Viewport | None = None
        self._record_timer = QTimer(self, singleShot=True, interval=350)
        self._record_timer.timeout.connect(self._record_history)
        self._refresh_timer = QTimer(self, singleShot=True, interval=120)
        self._refresh_timer.timeout.connect(self._refresh_now)
        self._pending_bounds: tuple[float, float, float, float] | None = None
        self.highlight: tuple[Layer, np.ndarray] | None = None
        self.basemap: Any | None = None
        self.active_layer: Layer | None = None
        self.show_labels = True
        self.show_decorations = True
        self.tool: Any | None = None
        self.render_count = 0
        self.layer_list = LayerList()
        self.set_layer_list(layer_list if layer_list is not None else LayerList())
        self._record_history()

    # ------------------------------------------------------------------ model
    def set_layer_list(self, layer_list: LayerList) -> None:
        """Show ``layer_list`` (disconnecting from the previous list)."""
        old = getattr(self, "layer_list", None)
        if old is not None:
            old.events.disconnect(self._on_list_event)
        self.layer_list = layer_list
        layer_list.events.connect(self._on_list_event)
        self._layer_images.clear()
        self.active_layer = None
        self.invalidate()

    def _on_list_event(self, event: Event) -> None:
        if event.type == "layer_changed":
            inner: Event = event.event
            if inner.type in ("data", "style"):
                self._layer_images.pop(event.layer.serial, None)
            if inner.type in ("name", "title"):
                return
        elif event.type == "removed":
            self._layer_images.pop(event.layer.serial, None)
            if self.active_layer is event.layer:
                self.active_layer = None
        self.invalidate()

    def set_basemap(self, basemap: Any | None) -> None:
        """Draw ``basemap`` (an object with ``paint(painter, viewport)`` and a ``changed`` signal) under the layers."""
        old = self.basemap
        if old is not None and hasattr(old, "changed"):
            try:
                old.changed.disconnect(self.invalidate)
            except (TypeError, RuntimeError):
                pass
        self.basemap = basemap
        if basemap is not None and hasattr(basemap, "changed"):
            basemap.changed.connect(self.invalidate)
        self.invalidate()

    def invalidate(self, *args: Any) -> None:
        """Mark the composed frame stale and repaint (layer images stay cached)."""
        self._frame_valid = False
        self.update()

    # ------------------------------------------------------------------ viewport
    @property
    def viewport(self) -> Viewport:
        return self._vp

    @property
    def scale(self) -> float:
        return self._vp.scale

    def set_viewport(self, vp: Viewport, *, record: bool = True, interactive: bool = False) -> None:
        """Show ``vp`` (resized to the widget); ``record`` adds it to the back/forward history."""
        mpp = min(max(vp.mpp, _MIN_MPP), _MAX_MPP)
        self._vp = Viewport(float(vp.cx), float(vp.cy), mpp, max(self.width(), 1), max(self.height(), 1))
        if interactive:
            self._refresh_timer.start()
            if record:
                self._record_timer.start()  # a burst of wheel steps is one history entry
        else:
            self._frame_valid = False
            if record:
                self.flush_history()
        self.update()
        self.viewportChanged.emit(self._vp)

    def _record_history(self) -> None:
        vp = self._vp
        if 0 <= self._hpos < len(self._history) and _same_view(self._history[self._hpos], vp):
            return
        del self._history[self._hpos + 1:]
        self._history.append(vp)
        self._hpos = len(self._history) - 1

    def flush_history(self) -> None:
        """Record the current view now (pending wheel zooms are otherwise recorded after a pause)."""
        if self._record_timer.isActive():
            self._record_timer.stop()
        self._record_history()

    def can_go_back(self, *, flush: bool = True) -> bool:
        """True when :meth:`back` has somewhere to go (``flush=False`` leaves a pending wheel burst alone)."""
        if flush:
            self.flush_history()
        return self._hpos > 0 or self._record_timer.isActive()

    def can_go_forward(self) -> bool:
        return self._hpos < len(self._history) - 1

    def back(self) -> None:
        """Return to the previous view."""
        self.flush_history()
        if self._hpos > 0:
            self._hpos -= 1
            self.set_viewport(self._history[self._hpos], record=False)

    def forward(self) -> None:
        """Go to the next view after :meth:`back`."""
        if self._hpos < len(self._history) - 1:
            self._hpos += 1
            self.set_viewport(self._history[self._hpos], record=False)

    def zoom_to_bounds(self, bounds: tuple[float, float, float, float] | None, *, margin: float = 0.05,
                       min_mpp: float = 0.25) -> None:
        """Fit ``bounds`` (minx, miny, maxx, maxy) in the view."""
        if bounds is None:
            return
        # before the widget is shown its size is not final: fit again on show/resize
        self._pending_bounds = None if self.isVisible() else tuple(bounds)
        vp = self._vp.resized(max(self.width(), 1), max(self.height(), 1)).fitted(bounds, margin=margin)
        if vp.mpp < min_mpp:
            vp = Viewport(vp.cx, vp.cy, min_mpp, vp.width, vp.height)
        self.set_viewport(vp)

    def zoom_full(self) -> None:
        """Show every layer."""
        self.zoom_to_bounds(self.layer_list.bounds() or DEFAULT_BOUNDS)

    def zoom_to_layer(self, layer: Layer | None = None) -> None:
        """Show ``layer`` (the active layer by default)."""
        layer = layer or self.active_layer
        if layer is not None:
            self.zoom_to_bounds(layer.bounds)

    def zoom_to_selection(self) -> None:
        """Show every selected feature (a single point is shown at 1:5,000)."""
        b = self.layer_list.selection_bounds()
        if b is None:
            return
        if b[2] - b[0] < 1 and b[3] - b[1] < 1:
            self.set_viewport(Viewport(b[0], b[1], 5000 * 0.00028, self.width(), self.height()))
        else:
            self.zoom_to_bounds(b, margin=0.2)

    def zoom_by(self, factor: float, about: tuple[float, float] | None = None, *, interactive: bool = False) -> None:
        """Zoom in by ``factor`` (> 1 in) keeping the map point under pixel ``about`` fixed."""
        self.set_viewport(self._vp.zoomed(factor, about=about), interactive=interactive)

    def zoom_in(self) -> None:
        self.zoom_by(2.0)

    def zoom_out(self) -> None:
        self.zoom_by(0.5)

    def zoom_to_scale(self, scale: float) -> None:
        """Keep the centre and show scale 1:``scale``."""
        if scale > 0:
            self.set_viewport(self._vp.with_scale(float(scale)))

    def center_on(self, x: float, y: float, *, scale: float | None = None) -> None:
        mpp = self._vp.mpp if scale is None else scale * 0.00028
        self.set_viewport(Viewport(float(x), float(y), mpp, self.width(), self.height()))

    def pan_pixels(self, dx: float, dy: float) -> None:
        self.set_viewport(self._vp.panned(dx, dy))

    # ------------------------------------------------------------------ hit testing
    def to_map(self, pos: QPointF) -> tuple[float, float]:
        x, y = self._vp.to_map(pos.x(), pos.y())
        return float(x), float(y)

    def to_screen(self, x: float, y: float) -> QPointF:
        sx, sy = self._vp.to_screen(x, y)
        return QPointF(float(sx), float(sy))

    def target_layers(self) -> list[Layer]:
        """Layers that identify and select act on: the active layer, else every visible one (top first)."""
        if self.active_layer is not None and self.active_layer in self.layer_list:
            return [self.active_layer]
        return [lyr for lyr in reversed(list(self.layer_list)) if lyr.visible]

    def features_at(self, pos: QPointF, *, tolerance_px: float = 5.0, layers: list[Layer] | None = None
                    ) -> list[tuple[Layer, np.ndarray]]:
        """``(layer, rows)`` under screen point ``pos`` for visible layers, top layer first."""
        x, y = self.to_map(pos)
        tol = tolerance_px * self._vp.mpp
        out = []
        for lyr in (layers if layers is not None else [l for l in reversed(list(self.layer_list)) if l.visible]):
            rows = lyr.geometry.query_point(x, y, tol)
            if len(rows):
                out.append((lyr, rows))
        return out

    def select_at(self, pos: QPointF, *, mode: SelectionMode | str = SelectionMode.REPLACE) -> None:
        """Select the nearest feature under ``pos`` in the target layers (clears the others on replace)."""
        hits = self.features_at(pos, layers=self.target_layers())
        chosen = hits[0] if hits else None
        for lyr in self.target_layers():
            if chosen is not None and lyr is chosen[0]:
                lyr.select(chosen[1][:1], mode=mode)
            elif SelectionMode(mode) is SelectionMode.REPLACE:
                lyr.clear_selection()

    def select_by_geometry(self, geometry: Any, *, mode: SelectionMode | str = SelectionMode.REPLACE) -> dict[str, np.ndarray]:
        """Select features of the target layers that intersect ``geometry`` (map units); returns rows per layer id."""
        out = {}
        for lyr in self.target_layers():
            rows = lyr.geometry.query_geometry(geometry)
            lyr.select(rows, mode=mode)
            out[lyr.id] = rows
        return out

    def select_in_rect(self, p0: QPointF, p1: QPointF, *, mode: SelectionMode | str = SelectionMode.REPLACE
                       ) -> dict[str, np.ndarray]:
        """Select what intersects the screen rectangle ``p0``–``p1``."""
        x0, y0 = self.to_map(p0)
        x1, y1 = self.to_map(p1)
        return self.select_by_geometry(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), mode=mode)

    def set_highlight(self, layer: Layer | None, rows: Any = ()) -> None:
        """Outline ``rows`` of ``layer`` in red on top of the map (the identified feature); None clears."""
        self.highlight = None if layer is None else (layer, np.asarray(rows, dtype=np.int64))
        self.update()

    def clear_selection(self) -> None:
        for lyr in self.layer_list:
            lyr.clear_selection()

    # ------------------------------------------------------------------ tools
    def set_tool(self, tool: Any | None) -> None:
        """Make ``tool`` (a :class:`ui.map_tools.MapTool`) receive the mouse."""
        if self.tool is tool:
            return
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = tool
        if tool is not None:
            tool.activate()
            self.setCursor(tool.cursor)
        else:
            self.unsetCursor()
        self.toolChanged.emit(tool)
        self.update()

    # ------------------------------------------------------------------ interactive pan
    def begin_pan(self, pos: QPointF) -> None:
        self._pan_anchor = QPointF(pos)
        self._pan_vp = self._vp

    def pan_to(self, pos: QPointF) -> None:
        if self._pan_anchor is None or self._pan_vp is None:
            return
        d = pos - self._pan_anchor
        self.set_viewport(self._pan_vp.panned(d.x(), d.y()), record=False, interactive=True)

    def end_pan(self, pos: QPointF) -> None:
        if self._pan_anchor is None:
            return
        self.pan_to(pos)
        self._pan_anchor = None
        self._pan_vp = None
        self._refresh_timer.stop()
        self._frame_valid = False
        self._record_history()
        self.update()

    @property
    def panning(self) -> bool:
        return self._pan_anchor is not None

    # ------------------------------------------------------------------ rendering
    def _new_image(self, vp: Viewport) -> QImage:
        """An image of the view's size in device pixels (sharp on HiDPI screens); painters use logical pixels."""
        dpr = max(1.0, float(self.devicePixelRatioF()))
        img = QImage(int(round(vp.width * dpr)), int(round(vp.height * dpr)), QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        return img

    def _layer_image(self, lyr: Layer, vp: Viewport) -> QImage:
        key = (vp.cx, vp.cy, vp.mpp, vp.width, vp.height)
        hit = self._layer_images.get(lyr.serial)
        if hit is not None and hit[0] == key and hit[1] == lyr.revision:
            return hit[2]
        img = self._new_image(vp)
        img.fill(0)
        p = QPainter(img)
        try:
            render.render_layer(p, lyr, vp, opacity=1.0)
        finally:
            p.end()
        self._layer_images[lyr.serial] = (key, lyr.revision, img)
        return img

    def render_frame(self) -> QImage:
        """Compose and return the frame for the current viewport (basemap, layers, selection, labels)."""
        vp = self._vp
        img = self._new_image(vp)
        img.fill(QColor(_BACKGROUND))
        p = QPainter(img)
        try:
            if self.basemap is not None:
                p.save()
                try:
                    self.basemap.paint(p, vp)
                finally:
                    p.restore()
            shown = [lyr for lyr in self.layer_list if lyr.visible]
            live = {lyr.serial for lyr in self.layer_list}
            for serial in [s for s in self._layer_images if s not in live]:
                del self._layer_images[serial]
            for lyr in shown:
                layer_img = self._layer_image(lyr, vp)
                p.setOpacity(lyr.opacity)
                p.drawImage(0, 0, layer_img)
            p.setOpacity(1.0)
            for lyr in shown:
                rows = lyr.selected
                if len(rows):
                    render.render_selection(p, lyr, vp, rows)
            if self.show_labels:
                render.render_labels(p, shown, vp)
        finally:
            p.end()
        self._frame, self._frame_vp, self._frame_valid = img, vp, True
        self.render_count += 1
        self.renderFinished.emit()
        return img

    def _refresh_now(self) -> None:
        if self.panning:
            return
        self._frame_valid = False
        self.update()

    def refresh(self) -> None:
        """Re-render synchronously (tests and screenshots call this)."""
        self._refresh_timer.stop()
        self.render_frame()
        self.update()

    def grab_map(self) -> QImage:
        """The current frame with decorations, as an image (what the user sees minus tool overlays)."""
        if not (self._frame_valid and self._frame_vp is not None and _same_view(self._frame_vp, self._vp)):
            self.render_frame()
        img = self._frame.copy()
        p = QPainter(img)
        try:
            self._paint_decorations(p)
        finally:
            p.end()
        return img

    def _paint_decorations(self, p: QPainter) -> None:
        if self.show_decorations:
            render.draw_scale_bar(p, self._vp)
            render.draw_north_arrow(p, self._vp)

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        vp = self._vp
        p = QPainter(self)
        try:
            fresh = self._frame is not None and self._frame_valid and _same_view(self._frame_vp, vp)
            transient = self.panning or self._refresh_timer.isActive()
            if fresh:
                p.drawImage(0, 0, self._frame)
            elif transient and self._frame is not None and self._frame_vp is not None:
                p.fillRect(self.rect(), QColor(_BACKGROUND))
                old = self._frame_vp
                k = old.mpp / vp.mpp
                ox, oy = vp.to_screen(*old.to_map(0.0, 0.0))
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, k != 1.0)
                p.drawImage(QRectF(float(ox), float(oy), old.width * k, old.height * k), self._frame,
                            QRectF(0, 0, self._frame.width(), self._frame.height()))
            else:
                self.render_frame()
                p.drawImage(0, 0, self._frame)
            if self.highlight is not None and self.highlight[0] in self.layer_list and self.highlight[0].visible:
                render.render_selection(p, self.highlight[0], vp, self.highlight[1], colour=render.HIGHLIGHT_COLOUR)
            self._paint_decorations(p)
            if self.tool is not None:
                self.tool.paint(p)
        finally:
            p.end()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        self._vp = self._vp.resized(max(self.width(), 1), max(self.height(), 1))
        self._frame_valid = False
        if self._pending_bounds is not None:
            b = self._pending_bounds
            self.zoom_to_bounds(b)
            self._pending_bounds = b if not self.isVisible() else None
        self.viewportChanged.emit(self._vp)
        super().resizeEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        if self._pending_bounds is not None:
            b, self._pending_bounds = self._pending_bounds, None
            self.zoom_to_bounds(b)

    # ------------------------------------------------------------------ input
    def mousePressEvent(self, ev: Any) -> None:  # noqa: N802
        self.setFocus()
        if ev.button() == Qt.MouseButton.MiddleButton:
            self.begin_pan(ev.position())
            return
        if ev.button() == Qt.MouseButton.RightButton:
            if self.tool is not None and self.tool.right_click(ev):
                return
            self.copy_coordinates(ev.position())
            return
        if self.tool is not None:
            self.tool.press(ev)

    def mouseMoveEvent(self, ev: Any) -> None:  # noqa: N802
        x, y = self.to_map(ev.position())
        self.cursorMoved.emit(x, y)
        if self.panning:
            self.pan_to(ev.position())
            return
        if self.tool is not None:
            self.tool.move(ev)

    def mouseReleaseEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.MiddleButton and self.panning:
            self.end_pan(ev.position())
            return
        if self.tool is not None:
            self.tool.release(ev)

    def mouseDoubleClickEvent(self, ev: Any) -> None:  # noqa: N802
        if self.tool is not None:
            self.tool.double_click(ev)

    def wheelEvent(self, ev: Any) -> None:  # noqa: N802
        delta = ev.angleDelta().y()
        if delta == 0:
            return
        factor = 2.0 ** (delta / 240.0)  # one notch (120) zooms by √2
        pos = ev.position()
        self.zoom_by(factor, about=(pos.x(), pos.y()), interactive=True)
        ev.accept()

    def keyPressEvent(self, ev: Any) -> None:  # noqa: N802
        key = ev.key()
        step = 0.25
        if self.tool is not None and self.tool.key(ev):
            return
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_Left:
            self.pan_pixels(self.width() * step, 0)
        elif key == Qt.Key.Key_Right:
            self.pan_pixels(-self.width() * step, 0)
        elif key == Qt.Key.Key_Up:
            self.pan_pixels(0, self.height() * step)
        elif key == Qt.Key.Key_Down:
            self.pan_pixels(0, -self.height() * step)
        elif key == Qt.Key.Key_Home:
            self.zoom_full()
        elif key == Qt.Key.Key_Escape:
            self.clear_selection()
        else:
            super().keyPressEvent(ev)

    def copy_coordinates(self, pos: QPointF) -> str:
        """Put ``"x, y (EPSG:4549); lon, lat (CGCS2000)"`` of ``pos`` on the clipboard and return it."""
        from ui.status_bar import format_coordinates

        x, y = self.to_map(pos)
        text = format_coordinates(x, y)
        QGuiApplication.clipboard().setText(text)
        self.coordinatesCopied.emit(text)
        return text


def _same_view(a: Viewport | None, b: Viewport | None) -> bool:
    if a is None or b is None:
        return False
    return (a.cx, a.cy, a.mpp, a.width, a.height) == (b.cx, b.cy, b.mpp, b.width, b.height)

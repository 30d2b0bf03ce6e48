"""QPainter rendering of map layers: the one drawing code of the canvas, print export and benchmark.

Every layer is drawn from its flattened coordinate arrays
(:class:`layers.geometry_cache.GeometryCache`): a redraw transforms all vertices with
one NumPy affine transform, writes them into a ``sip.array`` of ``QPointF`` through a
``voidptr`` (no Python loop over points), and then draws features batched by symbol
class (:func:`gridtool.styles.classify`):

* polygons: one ``drawPolygon`` per ring (a slice of the shared array, no copy);
  polygons with holes go through a ``QPainterPath``;
* lines: one ``drawPolyline`` per part;
* points: one ``drawPixmapFragments`` call per symbol with a pre-rendered sprite.

Public functions: :func:`render_layer`, :func:`render_selection`, :func:`render_labels`,
:func:`render_map`, :func:`draw_scale_bar`, :func:`draw_north_arrow`, :func:`render_image`.
They accept any :class:`gridtool.projects.MapLayer` (``layers.Layer`` or a loaded
``LayerSpec``).
"""
from __future__ import annotations

import math
import weakref
from typing import Any, Iterable, Sequence

import numpy as np
import shapely
from PyQt6 import sip
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
)

from gridtool.styles import LabelSpec, Symbol, classify
from layers.geometry_cache import GeometryCache
from layers.viewport import Viewport
from ui.fonts import label_font

__all__ = [
    "SELECTION_COLOUR",
    "render_layer",
    "render_selection",
    "render_labels",
    "render_map",
    "render_image",
    "draw_scale_bar",
    "draw_north_arrow",
    "symbol_pixmap",
    "geometry_of",
    "nice_scale_length",
]

SELECTION_COLOUR = "#ffd400"
HIGHLIGHT_COLOUR = "#e31a1c"  # the identified feature
_AA_LIMIT = 20000  # antialias vector layers up to this many parts
_CELL = 64  # label collision grid, pixels

# caches for MapLayer objects without their own GeometryCache, keyed by id(gdf) with a weak reference
# to the frame (GeoDataFrames and LayerSpecs are unhashable, so no WeakKeyDictionary)
_caches: dict[int, tuple["weakref.ref[Any]", GeometryCache]] = {}
_anchor_caches: dict[int, tuple["weakref.ref[Any]", Any, np.ndarray]] = {}
_sprites: dict[tuple[Symbol, float, bool], QPixmap] = {}


# ---------------------------------------------------------------------------- helpers
def geometry_of(layer: Any) -> GeometryCache:
    """The :class:`GeometryCache` of ``layer`` (its own for ``layers.Layer``, built once otherwise)."""
    cache = getattr(layer, "geometry", None)
    if isinstance(cache, GeometryCache):
        return cache
    gdf = layer.gdf
    hit = _caches.get(id(gdf))
    if hit is not None and hit[0]() is gdf:
        return hit[1]
    _prune(_caches)
    cache = GeometryCache(gdf.geometry)
    _caches[id(gdf)] = (weakref.ref(gdf), cache)
    return cache


def _prune(d: dict[int, Any]) -> None:
    for k in [k for k, v in d.items() if v[0]() is None]:
        del d[k]


def _classes(layer: Any) -> tuple[np.ndarray, list[Symbol]]:
    fn = getattr(layer, "classes", None)
    if callable(fn):
        return fn()
    return classify(layer.style, layer.gdf)


def _qcolor(hex_colour: str, alpha: float = 1.0) -> QColor:
    c = QColor(hex_colour)
    c.setAlphaF(max(0.0, min(1.0, float(alpha) * c.alphaF())))
    return c


_DASH = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine, "dot": Qt.PenStyle.DotLine}


def _pen(sym: Symbol, *, width_scale: float = 1.0) -> QPen:
    if sym.stroke_width <= 0:
        return QPen(Qt.PenStyle.NoPen)
    pen = QPen(_qcolor(sym.stroke))
    pen.setWidthF(float(sym.stroke_width) * width_scale)
    pen.setStyle(_DASH.get(sym.dash, Qt.PenStyle.SolidLine))
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def _brush(sym: Symbol) -> QBrush:
    if sym.fill_opacity <= 0:
        return QBrush(Qt.BrushStyle.NoBrush)
    return QBrush(_qcolor(sym.fill, sym.fill_opacity))


def _screen_array(xy: np.ndarray, vp: Viewport) -> tuple[sip.array, np.ndarray]:
    """All coordinates as a ``sip.array[QPointF]`` in screen pixels (one NumPy transform)."""
    n = len(xy)
    arr = sip.array(QPointF, max(n, 1))
    view = np.frombuffer(sip.voidptr(arr, max(n, 1) * 16), dtype=np.float64).reshape(-1, 2)
    if n:
        inv = 1.0 / vp.mpp
        np.multiply(xy[:, 0] - vp.cx, inv, out=view[:n, 0])
        view[:n, 0] += vp.width / 2.0
        np.multiply(vp.cy - xy[:, 1], inv, out=view[:n, 1])
        view[:n, 1] += vp.height / 2.0
    return arr, view


def _visible_parts(bounds: np.ndarray, vp: Viewport, pad_m: float = 0.0) -> np.ndarray:
    minx, miny, maxx, maxy = vp.extent
    if len(bounds) == 0:
        return np.zeros(0, dtype=bool)
    with np.errstate(invalid="ignore"):
        return (
            (bounds[:, 2] >= minx - pad_m) & (bounds[:, 0] <= maxx + pad_m)
            & (bounds[:, 3] >= miny - pad_m) & (bounds[:, 1] <= maxy + pad_m)
        )


def symbol_pixmap(sym: Symbol, *, highlight: bool | str = False, scale: float = 1.0) -> QPixmap:
    """A pre-rendered, antialiased marker sprite for point symbol ``sym`` (cached).

    ``highlight`` True (or a colour) gives a selection ring of the marker's size instead.
    """
    key = (sym, float(scale), highlight)
    pm = _sprites.get(key)
    if pm is not None:
        return pm
    size = max(float(sym.size), 1.0) * scale
    sw = float(sym.stroke_width) * scale
    extra = 4.0 if highlight else 0.0
    side = int(math.ceil(size + sw + 2 + 2 * extra))
    img = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    c = side / 2.0
    if highlight:
        p.setPen(QPen(_qcolor(highlight if isinstance(highlight, str) else SELECTION_COLOUR), 3.0))
        p.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        r = size / 2.0 + extra - 1
        p.drawEllipse(QPointF(c, c), r, r)
    else:
        p.setPen(_pen(sym, width_scale=scale) if sw > 0 else QPen(Qt.PenStyle.NoPen))
        p.setBrush(_brush(sym))
        _marker_path(p, sym.marker, c, c, size)
    p.end()
    pm = QPixmap.fromImage(img)
    _sprites[key] = pm
    return pm


def _marker_path(p: QPainter, marker: str, x: float, y: float, size: float) -> None:
    r = size / 2.0
    if marker == "square":
        p.drawRect(QRectF(x - r, y - r, size, size))
    elif marker == "triangle":
        p.drawPolygon(QPolygonF([QPointF(x, y - r), QPointF(x + r, y + r * 0.8), QPointF(x - r, y + r * 0.8)]))
    elif marker == "diamond":
        p.drawPolygon(QPolygonF([QPointF(x, y - r), QPointF(x + r, y), QPointF(x, y + r), QPointF(x - r, y)]))
    elif marker == "star":
        pts = []
        for i in range(10):
            a = -math.pi / 2 + i * math.pi / 5
            rr = r if i % 2 == 0 else r * 0.45
            pts.append(QPointF(x + rr * math.cos(a), y + rr * math.sin(a)))
        p.drawPolygon(QPolygonF(pts))
    elif marker == "cross":
        w = r * 0.35
        path = QPainterPath()
        path.addRect(QRectF(x - r, y - w, size, 2 * w))
        path.addRect(QRectF(x - w, y - r, 2 * w, size))
        p.drawPath(path.simplified())
    else:
        p.drawEllipse(QPointF(x, y), r, r)


# ---------------------------------------------------------------------------- layers
def render_layer(
    painter: QPainter,
    layer: Any,
    viewport: Viewport,
    *,
    selection: Iterable[int] | np.ndarray | None = None,
    opacity: float | None = None,
    antialias: bool | None = None,
) -> None:
    """Draw ``layer`` (a ``MapLayer``) into ``painter`` for ``viewport``.

    Parameters
    ----------
    painter
        An active painter on a device of ``viewport.width`` × ``viewport.height`` pixels.
    layer
        Anything with ``gdf``, ``style`` and ``opacity`` (``layers.Layer``, ``LayerSpec``).
    viewport
        The view (EPSG:4549 metres → pixels).
    selection
        Row positions to highlight on top (None: no highlight).
    opacity
        Overrides ``layer.opacity`` (the canvas draws at 1 and applies opacity when compositing).
    antialias
        Force antialiasing on or off; by default on for layers up to 20,000 parts.
    """
    cache = geometry_of(layer)
    if len(cache) == 0:
        return
    codes, symbols = _classes(layer)
    painter.save()
    try:
        painter.setOpacity(float(layer.opacity if opacity is None else opacity))
        if len(cache.ring_offsets) > 1 or len(cache.line_offsets) > 1:
            drawn = cache.for_resolution(viewport.mpp)
            if len(drawn.ring_offsets) > 1:
                _draw_polygons(painter, drawn, codes, symbols, viewport, antialias)
            if len(drawn.line_offsets) > 1:
                _draw_lines(painter, drawn, codes, symbols, viewport, antialias)
        if len(cache.point_xy):
            _draw_points(painter, cache, codes, symbols, viewport)
    finally:
        painter.restore()
    if selection is not None:
        render_selection(painter, layer, viewport, selection)


def _draw_polygons(p: QPainter, c: GeometryCache, codes: np.ndarray, symbols: list[Symbol], vp: Viewport,
                   antialias: bool | None) -> None:
    vis = _visible_parts(c.ring_bounds, vp)
    if not vis.any():
        return
    rb = c.ring_bounds
    big = np.maximum(rb[:, 2] - rb[:, 0], rb[:, 3] - rb[:, 1]) >= 0.75 * vp.mpp  # sub-pixel rings are skipped
    draw = vis & big
    arr, _ = _screen_array(c.ring_xy, vp)
    offs = c.ring_offsets
    ring_code = codes[c.ring_feature]
    holes_feat = c.feature_has_holes[c.ring_feature]
    aa = (int(draw.sum()) <= _AA_LIMIT) if antialias is None else antialias
    p.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
    dp = p.drawPolygon
    for k, sym in enumerate(symbols):
        sel = draw & (ring_code == k)
        if not sel.any():
            continue
        p.setPen(_pen(sym))
        p.setBrush(_brush(sym))
        simple = np.flatnonzero(sel & ~holes_feat)
        starts, ends = offs[simple], offs[simple + 1]
        for a, b in zip(starts.tolist(), ends.tolist()):
            dp(arr[a:b])
        holed = np.flatnonzero(sel & holes_feat)
        if len(holed):
            feats = c.ring_feature[holed]
            for f in np.unique(feats).tolist():
                path = QPainterPath()
                path.setFillRule(Qt.FillRule.OddEvenFill)
                for r in holed[feats == f].tolist():
                    path.addPolygon(QPolygonF(arr[int(offs[r]):int(offs[r + 1])]))
                p.drawPath(path)


def _draw_lines(p: QPainter, c: GeometryCache, codes: np.ndarray, symbols: list[Symbol], vp: Viewport,
                antialias: bool | None) -> None:
    vis = _visible_parts(c.line_bounds, vp)
    if not vis.any():
        return
    arr, _ = _screen_array(c.line_xy, vp)
    offs = c.line_offsets
    part_code = codes[c.line_feature]
    aa = (int(vis.sum()) <= _AA_LIMIT) if antialias is None else antialias
    p.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
    p.setBrush(QBrush(Qt.BrushStyle.NoBrush))
    dl = p.drawPolyline
    # draw wider classes last so arterials sit on top of local streets
    order = sorted(range(len(symbols)), key=lambda k: symbols[k].stroke_width)
    for k in order:
        sym = symbols[k]
        sel = np.flatnonzero(vis & (part_code == k))
        if len(sel) == 0 or sym.stroke_width <= 0:
            continue
        p.setPen(_pen(sym))
        for a, b in zip(offs[sel].tolist(), offs[sel + 1].tolist()):
            dl(arr[a:b])


def _fragments(sx: np.ndarray, sy: np.ndarray, pm: QPixmap) -> sip.array:
    n = len(sx)
    frags = sip.array(QPainter.PixmapFragment, n)
    a = np.frombuffer(sip.voidptr(frags, n * 80), dtype=np.float64).reshape(-1, 10)
    w, h = pm.width() / pm.devicePixelRatio(), pm.height() / pm.devicePixelRatio()
    a[:, 0] = sx
    a[:, 1] = sy
    a[:, 2] = 0.0
    a[:, 3] = 0.0
    a[:, 4] = pm.width()
    a[:, 5] = pm.height()
    a[:, 6] = w / pm.width()
    a[:, 7] = h / pm.height()
    a[:, 8] = 0.0
    a[:, 9] = 1.0
    return frags


def _draw_points(p: QPainter, c: GeometryCache, codes: np.ndarray, symbols: list[Symbol], vp: Viewport) -> None:
    xy = c.point_xy
    sx = (xy[:, 0] - vp.cx) / vp.mpp + vp.width / 2.0
    sy = (vp.cy - xy[:, 1]) / vp.mpp + vp.height / 2.0
    pad = 40.0
    vis = (sx >= -pad) & (sx <= vp.width + pad) & (sy >= -pad) & (sy <= vp.height + pad)
    if not vis.any():
        return
    pcode = codes[c.point_feature]
    for k, sym in enumerate(symbols):
        sel = vis & (pcode == k)
        if not sel.any():
            continue
        pm = symbol_pixmap(sym)
        p.drawPixmapFragments(_fragments(sx[sel], sy[sel], pm), pm)


def render_selection(painter: QPainter, layer: Any, viewport: Viewport, rows: Iterable[int] | np.ndarray, *,
                     colour: str = SELECTION_COLOUR) -> None:
    """Highlight rows ``rows`` of ``layer`` (yellow outline / halo by default) on top of what is drawn."""
    rows = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype=np.int64)
    if len(rows) == 0:
        return
    c = geometry_of(layer)
    mask = np.zeros(len(c), dtype=bool)
    mask[rows[(rows >= 0) & (rows < len(c))]] = True
    painter.save()
    try:
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        hex_colour = colour
        colour = _qcolor(hex_colour)
        if len(c.ring_offsets) > 1:
            sel = np.flatnonzero(mask[c.ring_feature] & _visible_parts(c.ring_bounds, viewport))
            if len(sel):
                arr, _ = _screen_array(c.ring_xy, viewport)
                fill = QColor(colour)
                fill.setAlphaF(0.25)
                painter.setBrush(QBrush(fill))
                painter.setPen(QPen(colour, 2.5))
                offs = c.ring_offsets
                feats = c.ring_feature[sel]
                for f in np.unique(feats).tolist():
                    path = QPainterPath()
                    path.setFillRule(Qt.FillRule.OddEvenFill)
                    for r in sel[feats == f].tolist():
                        path.addPolygon(QPolygonF(arr[int(offs[r]):int(offs[r + 1])]))
                    painter.drawPath(path)
        if len(c.line_offsets) > 1:
            sel = np.flatnonzero(mask[c.line_feature] & _visible_parts(c.line_bounds, viewport))
            if len(sel):
                arr, _ = _screen_array(c.line_xy, viewport)
                painter.setBrush(QBrush(Qt.BrushStyle.NoBrush))
                painter.setPen(QPen(colour, 4.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                offs = c.line_offsets
                for r in sel.tolist():
                    painter.drawPolyline(arr[int(offs[r]):int(offs[r + 1])])
        if len(c.point_xy):
            sel = mask[c.point_feature]
            if sel.any():
                codes, symbols = _classes(layer)
                xy = c.point_xy[sel]
                sx, sy = viewport.to_screen(xy[:, 0], xy[:, 1])
                pcode = codes[c.point_feature[sel]]
                for k in np.unique(pcode).tolist():
                    m = pcode == k
                    pm = symbol_pixmap(symbols[k], highlight=hex_colour)
                    painter.drawPixmapFragments(_fragments(sx[m], sy[m], pm), pm)
    finally:
        painter.restore()


# ---------------------------------------------------------------------------- labels
def _label_anchors(layer: Any) -> np.ndarray:
    """One anchor per row: point on surface for polygons, midpoint for lines, the point itself."""
    gdf = layer.gdf
    key = (getattr(layer, "revision", 0), len(gdf))
    hit = _anchor_caches.get(id(gdf))
    if hit is not None and hit[0]() is gdf and hit[1] == key:
        return hit[2]
    _prune(_anchor_caches)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    xy = np.full((len(geoms), 2), np.nan)
    if len(geoms):
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if ok.any():
            g = geoms[ok]
            tid = shapely.get_type_id(g)
            pts = np.empty(len(g), dtype=object)
            poly = (tid == 3) | (tid == 6)
            line = (tid == 1) | (tid == 5) | (tid == 2)
            other = ~(poly | line)
            if poly.any():
                pts[poly] = shapely.point_on_surface(g[poly])
            if line.any():
                pts[line] = shapely.line_interpolate_point(g[line], 0.5, normalized=True)
            if other.any():
                pts[other] = shapely.centroid(g[other])
            xy[ok] = shapely.get_coordinates(pts) if len(pts) else xy[ok]
    _anchor_caches[id(gdf)] = (weakref.ref(gdf), key, xy)
    return xy


def render_labels(painter: QPainter, layers: Sequence[Any], viewport: Viewport, *, max_labels: int = 1500) -> int:
    """Draw labels of visible layers whose :class:`LabelSpec` allows the current scale.

    Labels that would overlap an already placed one are skipped; bigger label sizes
    (street names) are placed before smaller ones (community names). Returns the
    number of labels drawn.
    """
    jobs = []
    for order, lyr in enumerate(layers):
        spec: LabelSpec | None = getattr(lyr, "labels", None)
        if not getattr(lyr, "visible", True) or spec is None or viewport.scale > spec.max_scale:
            continue
        if spec.field not in lyr.gdf.columns:
            continue
        jobs.append((-spec.size_pt, -order, lyr, spec))
    jobs.sort(key=lambda j: (j[0], j[1]))
    placed: dict[tuple[int, int], list[QRectF]] = {}  # placed label boxes by 64-px cell
    drawn = 0
    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setOpacity(1.0)
        for _, _, lyr, spec in jobs:
            anchors = _label_anchors(lyr)
            sx, sy = viewport.to_screen(anchors[:, 0], anchors[:, 1])
            inside = np.isfinite(sx) & (sx >= 0) & (sx <= viewport.width) & (sy >= 0) & (sy <= viewport.height)
            rows = np.flatnonzero(inside)
            if len(rows) == 0:
                continue
            texts = lyr.gdf[spec.field].to_numpy()
            is_point = geometry_of(lyr).point_xy.shape[0] > 0 and len(geometry_of(lyr).ring_offsets) <= 1
            font = label_font(spec.size_pt, bold=spec.size_pt >= 10.5)
            fm = QFontMetricsF(font)
            halo = QPen(_qcolor(spec.halo), 3.0)
            halo.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            fill = QBrush(_qcolor(spec.colour))
            for r in rows.tolist():
                t = texts[r]
                if t is None or (isinstance(t, float) and math.isnan(t)):
                    continue
                text = str(t)
                if not text:
                    continue
                w = fm.horizontalAdvance(text)
                h = fm.height()
                if is_point:
                    x0, y0 = sx[r] + 6.0, sy[r] - h / 2.0
                else:
                    x0, y0 = sx[r] - w / 2.0, sy[r] - h / 2.0
                rect = QRectF(x0 - 2, y0 - 1, w + 4, h + 2)
                cells = [(cx, cy) for cx in range(int(rect.left()) // _CELL, int(rect.right()) // _CELL + 1)
                         for cy in range(int(rect.top()) // _CELL, int(rect.bottom()) // _CELL + 1)]
                if any(rect.intersects(q) for c in cells for q in placed.get(c, ())):
                    continue
                for c in cells:
                    placed.setdefault(c, []).append(rect)
                path = QPainterPath()
                path.addText(QPointF(x0, y0 + fm.ascent()), font, text)
                painter.strokePath(path, halo)
                painter.fillPath(path, fill)
                drawn += 1
                if drawn >= max_labels:
                    return drawn
    finally:
        painter.restore()
    return drawn


# ---------------------------------------------------------------------------- decorations
def nice_scale_length(max_m: float) -> float:
    """The largest 1, 2 or 5 × 10^k metres not above ``max_m``."""
    if max_m <= 0:
        return 0.0
    exp = math.floor(math.log10(max_m))
    for m in (5, 2, 1):
        v = m * 10**exp
        if v <= max_m:
            return float(v)
    return float(10**exp)


def _fmt_m(m: float) -> str:
    if m >= 1000:
        km = m / 1000.0
        return f"{km:g} km"
    return f"{m:g} m"


def draw_scale_bar(painter: QPainter, viewport: Viewport, *, x: float = 16.0, y: float | None = None,
                   max_width_px: float = 180.0) -> QRectF:
    """A two-tone scale bar (bottom left by default) labelled in m/km; returns its rectangle."""
    length_m = nice_scale_length(max_width_px * viewport.mpp)
    if length_m <= 0:
        return QRectF()
    w = length_m / viewport.mpp
    y = viewport.height - 34.0 if y is None else y
    font = label_font(8.5)
    fm = QFontMetricsF(font)
    scale_text = f"1:{viewport.scale:,.0f}"
    right = max(w + fm.horizontalAdvance(_fmt_m(length_m)) / 2, fm.horizontalAdvance(scale_text))
    box = QRectF(x - 8, y - fm.height() - 4, right + 16, 2 * fm.height() + 14)
    painter.save()
    try:
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        bg = QColor(255, 255, 255, 200)
        painter.fillRect(box, bg)
        painter.setPen(QPen(QColor("#222222"), 1.0))
        h = 6.0
        for i in range(4):
            seg = QRectF(x + i * w / 4.0, y, w / 4.0, h)
            painter.setBrush(QColor("#222222") if i % 2 == 0 else QColor("#ffffff"))
            painter.drawRect(seg)
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.drawText(QPointF(x - fm.horizontalAdvance("0") / 2, y - 3), "0")
        label = _fmt_m(length_m)
        painter.drawText(QPointF(x + w - fm.horizontalAdvance(label) / 2, y - 3), label)
        painter.drawText(QPointF(x, y + h + fm.ascent() + 2), scale_text)
    finally:
        painter.restore()
    return box


def draw_north_arrow(painter: QPainter, viewport: Viewport, *, x: float | None = None, y: float = 16.0,
                     size: float = 34.0) -> QRectF:
    """A north arrow (top right by default). In EPSG:4549 grid north is within 0.1° of true north here."""
    x = viewport.width - size - 18.0 if x is None else x
    cx = x + size / 2.0
    painter.save()
    try:
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = label_font(10, bold=True)
        fm = QFontMetricsF(font)
        top = y + fm.height()
        painter.setBrush(QColor(255, 255, 255, 200))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(cx, top + size / 2.0), size / 2.0 + 4, size / 2.0 + 4)
        left = QPolygonF([QPointF(cx, top), QPointF(cx - size * 0.3, top + size), QPointF(cx, top + size * 0.72)])
        right = QPolygonF([QPointF(cx, top), QPointF(cx + size * 0.3, top + size), QPointF(cx, top + size * 0.72)])
        painter.setPen(QPen(QColor("#222222"), 1.2))
        painter.setBrush(QColor("#222222"))
        painter.drawPolygon(left)
        painter.setBrush(QColor("#ffffff"))
        painter.drawPolygon(right)
        painter.setFont(font)
        painter.setPen(QColor("#222222"))
        painter.drawText(QPointF(cx - fm.horizontalAdvance("N") / 2.0, y + fm.ascent() - 2), "N")
    finally:
        painter.restore()
    return QRectF(x, y, size, size + fm.height())


# ---------------------------------------------------------------------------- whole maps
def render_map(
    painter: QPainter,
    layers: Sequence[Any],
    viewport: Viewport,
    *,
    basemap: Any | None = None,
    background: str | None = "#f7f6f2",
    labels: bool = True,
    selection: bool = True,
    scale_bar: bool = True,
    north_arrow: bool = True,
    antialias: bool | None = None,
) -> None:
    """Draw a whole map: background, basemap, visible layers bottom to top, selections, labels, decorations.

    Parameters
    ----------
    layers
        Bottom to top (a ``LayerList`` or a list of ``MapLayer`` objects).
    basemap
        An object with ``paint(painter, viewport)`` (``ui.basemap.BasemapLayer``) or None.
    selection
        Highlight each layer's ``selected`` rows (when it has that attribute).
    """
    if background:
        painter.fillRect(QRectF(0, 0, viewport.width, viewport.height), QColor(background))
    if basemap is not None:
        painter.save()
        try:
            basemap.paint(painter, viewport)
        finally:
            painter.restore()
    shown = [lyr for lyr in layers if getattr(lyr, "visible", True)]
    for lyr in shown:
        render_layer(painter, lyr, viewport, antialias=antialias)
    if selection:
        for lyr in shown:
            rows = getattr(lyr, "selected", None)
            if rows is not None and len(rows):
                render_selection(painter, lyr, viewport, rows)
    if labels:
        render_labels(painter, shown, viewport)
    if scale_bar:
        draw_scale_bar(painter, viewport)
    if north_arrow:
        draw_north_arrow(painter, viewport)


def render_image(layers: Sequence[Any], viewport: Viewport, **kwargs: Any) -> QImage:
    """:func:`render_map` into a new ``QImage`` (ARGB32 premultiplied) of the viewport's size."""
    img = QImage(int(viewport.width), int(viewport.height), QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor(kwargs.get("background") or "#ffffff"))
    p = QPainter(img)
    try:
        render_map(p, layers, viewport, **kwargs)
    finally:
        p.end()
    return img

"""Canvas rendering: our QPainter renderer vs a QGraphicsScene with one item per feature.

Scene: 100k points and 5k polygons (~50 vertices each) spread over 30 km × 19 km in
EPSG:4549, drawn into a 1600 × 1000 offscreen image showing everything.

* full redraw: ``ui.render.render_map`` on ``layers.Layer`` objects built from the
  GeoDataFrames (geometry caches warm, as in the running canvas) vs
  ``QGraphicsScene.render`` of 100k ``QGraphicsEllipseItem`` + 5k
  ``QGraphicsPolygonItem`` (items and BSP index built once, untimed; their build time
  is printed separately). Both antialiased like the canvas draws them.
* pan frame: ``ui.map_canvas.MapCanvas`` during a drag paints its cached frame shifted
  by the pan offset; timed as ``canvas.render(image)`` (the paintEvent) mid-drag.

Targets: full redraw ≤ 1/3 of the QGraphicsScene time; pan frame < 16 ms.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_canvas.py``
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from PyQt6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PyQt6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPolygonF  # noqa: E402
from PyQt6.QtWidgets import QApplication, QGraphicsScene  # noqa: E402

from bench._common import compare, quick, timed  # noqa: E402

W, H = 1600, 1000
N_POINTS = 100_000
N_POLYS = 5_000


def make_data(seed: int = 7) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    x0, y0 = 480_000.0, 3_508_000.0
    pts = gpd.GeoDataFrame(
        {"v": rng.integers(0, 100, N_POINTS)},
        geometry=gpd.points_from_xy(x0 + rng.uniform(0, 30_000, N_POINTS), y0 + rng.uniform(0, 19_000, N_POINTS)),
        crs=4549,
    )
    cx = x0 + rng.uniform(0, 30_000, N_POLYS)
    cy = y0 + rng.uniform(0, 19_000, N_POLYS)
    r = rng.uniform(40, 160, N_POLYS)
    ang = np.linspace(0, 2 * np.pi, 50)[None, :]
    wob = 1 + 0.15 * np.sin(5 * ang + rng.uniform(0, 6, (N_POLYS, 1)))
    xs = cx[:, None] + r[:, None] * wob * np.cos(ang)
    ys = cy[:, None] + r[:, None] * wob * np.sin(ang)
    xs[:, -1], ys[:, -1] = xs[:, 0], ys[:, 0]
    coords = np.stack([xs, ys], axis=2)
    polys = gpd.GeoDataFrame({"v": rng.integers(0, 10, N_POLYS)}, geometry=shapely.polygons(coords), crs=4549)
    return pts, polys


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from gridtool.styles import SingleSymbol, Symbol
    from layers.layer import Layer
    from layers.layer_list import LayerList
    from layers.viewport import Viewport
    from ui import render

    pts, polys = make_data()
    point_sym = Symbol(fill="#31a354", stroke="#00441b", size=5, stroke_width=0.5)
    poly_sym = Symbol(fill="#8c6bb1", stroke="#5b2a86", stroke_width=1.0, fill_opacity=0.35)
    lp = Layer(polys, name="polys", kind="other", style=SingleSymbol(poly_sym), labels=None)
    lq = Layer(pts, name="points", kind="other", style=SingleSymbol(point_sym), labels=None)
    layers = LayerList([lp, lq])
    vp = Viewport(width=W, height=H).fitted(layers.bounds(), margin=0.01)
    img = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)

    def ours() -> None:
        img.fill(0xFFFFFFFF)
        p = QPainter(img)
        render.render_map(p, layers, vp, labels=False, scale_bar=False, north_arrow=False, selection=False)
        p.end()

    t0 = time.perf_counter()
    ours()  # builds the geometry caches once, as the canvas does on first paint
    print(f"ours: first frame incl. geometry cache build {1e3 * (time.perf_counter() - t0):.0f} ms")

    # QGraphicsScene in map coordinates (y up handled by the render transform)
    t0 = time.perf_counter()
    scene = QGraphicsScene()
    pen_p = QPen(QColor(poly_sym.stroke), 0)  # cosmetic 1 px pen
    pen_p.setCosmetic(True)
    fill_p = QColor(poly_sym.fill)
    fill_p.setAlphaF(poly_sym.fill_opacity)
    brush_p = QBrush(fill_p)
    for g in polys.geometry.values:
        item = scene.addPolygon(QPolygonF([QPointF(x, y) for x, y in g.exterior.coords]), pen_p, brush_p)
    pen_q = QPen(QColor(point_sym.stroke), 0)
    pen_q.setCosmetic(True)
    brush_q = QBrush(QColor(point_sym.fill))
    d = point_sym.size * vp.mpp  # 5 px at this view
    xy = shapely.get_coordinates(pts.geometry.values)
    for x, y in xy.tolist():
        scene.addEllipse(x - d / 2, y - d / 2, d, d, pen_q, brush_q)
    build_s = time.perf_counter() - t0
    minx, miny, maxx, maxy = vp.extent
    source = QRectF(minx, miny, maxx - minx, maxy - miny)

    def peer() -> None:
        img.fill(0xFFFFFFFF)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # flip y: map north up
        p.translate(0, H)
        p.scale(1, -1)
        scene.render(p, QRectF(0, 0, W, H), source, Qt.AspectRatioMode.IgnoreAspectRatio)
        p.end()

    t0 = time.perf_counter()
    peer()
    print(f"QGraphicsScene: add {N_POINTS // 1000}k ellipse + {N_POLYS // 1000}k polygon items {build_s:.2f} s, "
          f"first render (BSP index) {1e3 * (time.perf_counter() - t0):.0f} ms")
    repeat = 5
    res = compare(f"full redraw {N_POINTS // 1000}k points + {N_POLYS // 1000}k polygons at {W}x{H}", ours, peer,
                  repeat=repeat, peer_name="QGraphicsScene")
    print(f"  target: ours <= 1/3 of QGraphicsScene -> {'met' if res['ratio'] >= 3 else 'MISSED'} "
          f"(ratio {res['ratio']:.2f})")

    # pan frame from the canvas cache
    from ui.map_canvas import MapCanvas

    canvas = MapCanvas(layers)
    canvas.resize(W, H)
    canvas.set_viewport(vp, record=False)
    canvas.render_frame()
    canvas.begin_pan(QPointF(800, 500))
    frame = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    offsets = [(800 + 7 * i, 500 + 3 * i) for i in range(1, 40)]
    k = iter(offsets * 10)

    def pan_frame() -> None:
        x, y = next(k)
        canvas.pan_to(QPointF(x, y))
        p = QPainter(frame)
        canvas.render(p)
        p.end()

    times = timed(pan_frame, 2 if quick() else 30)
    med = statistics.median(times)
    print(f"pan frame (cached frame shifted, MapCanvas paint): median {1e3 * med:.1f} ms "
          f"(min {1e3 * min(times):.1f}, max {1e3 * max(times):.1f}); target < 16 ms -> "
          f"{'met' if med < 0.016 else 'MISSED'}")
    canvas.end_pan(QPointF(*offsets[-1]))
    t0 = time.perf_counter()
    canvas.render_frame()
    print(f"after the drag: full re-render of the new view {1e3 * (time.perf_counter() - t0):.0f} ms")
    del scene
    app.processEvents()


if __name__ == "__main__":
    main()

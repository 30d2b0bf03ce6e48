"""The QPainter renderer on hand-drawn layers with known pixels."""
from __future__ import annotations

import geopandas as gpd
import pytest
from PyQt6.QtGui import QColor
from shapely.geometry import LineString, Point, Polygon, box

from gridtool.project import LayerSpec
from gridtool.styles import Categorized, Category, LabelSpec, SingleSymbol, Symbol
from layers.layer import Layer
from layers.viewport import Viewport
from ui import render

# 1 m per pixel, map (0, 0) at pixel (100, 100): pixel (px, py) shows map (px - 100, 100 - py)
VP = Viewport(0.0, 0.0, 1.0, 200, 200)


def px(img, x, y):
    """Colour at map point (x, y) for VP."""
    sx, sy = VP.to_screen(x, y)
    return img.pixelColor(int(sx), int(sy)).name()


def layer(geoms, style, **kw):
    gdf = gpd.GeoDataFrame({"name": [f"要素{i}" for i in range(len(geoms))], "k": list("ab" * 10)[: len(geoms)]},
                           geometry=geoms, crs=4549)
    return Layer(gdf, name="t", style=style, labels=kw.pop("labels", None), **kw)


def test_polygon_fill_outline_and_hole(qapp):
    sym = Symbol(fill="#ff0000", stroke="#0000ff", stroke_width=3.0, fill_opacity=1.0)
    poly = Polygon([(-50, -50), (50, -50), (50, 50), (-50, 50)], [[(-10, -10), (10, -10), (10, 10), (-10, 10)]])
    img = render.render_image([layer([poly], SingleSymbol(sym))], VP, labels=False, scale_bar=False,
                              north_arrow=False, background="#ffffff")
    assert px(img, -30, 30) == "#ff0000"
    assert px(img, 0, 0) == "#ffffff"  # the hole
    assert px(img, 80, 80) == "#ffffff"
    assert px(img, -50, 0) == "#0000ff"


def test_categorized_points_and_lines(qapp):
    base = Symbol(size=9, stroke_width=0.0)
    style = Categorized(field="k", categories=(Category("a", Symbol(fill="#00ff00", size=9, stroke_width=0)),
                                               Category("b", Symbol(fill="#ff00ff", size=9, stroke_width=0))),
                        default=base)
    pts = layer([Point(-40, 0), Point(40, 0)], style)
    line = layer([LineString([(-90, -60), (90, -60)])], SingleSymbol(Symbol(stroke="#000000", stroke_width=3)))
    img = render.render_image([line, pts], VP, labels=False, scale_bar=False, north_arrow=False,
                              background="#ffffff")
    assert px(img, -40, 0) == "#00ff00"
    assert px(img, 40, 0) == "#ff00ff"
    assert px(img, 0, -60) == "#000000"
    assert px(img, 0, 30) == "#ffffff"


def test_opacity_hidden_layers_and_selection(qapp):
    sym = Symbol(fill="#ff0000", stroke="#ff0000", stroke_width=0.0)
    lyr = layer([box(-50, -50, 50, 50)], SingleSymbol(sym))
    lyr.opacity = 0.0
    kw = dict(labels=False, scale_bar=False, north_arrow=False, background="#ffffff")
    assert px(render.render_image([lyr], VP, **kw), 0, 0) == "#ffffff"
    lyr.opacity = 0.5
    half = QColor(px(render.render_image([lyr], VP, **kw), 0, 0))
    assert half.red() == 255 and 120 <= half.green() <= 135
    lyr.opacity = 1.0
    lyr.visible = False
    assert px(render.render_image([lyr], VP, **kw), 0, 0) == "#ffffff"
    lyr.visible = True
    lyr.select([0])
    img = render.render_image([lyr], VP, **kw)
    edge = {px(img, -50, y) for y in range(-40, 40, 10)} | {px(img, -49, y) for y in range(-40, 40, 10)}
    assert render.SELECTION_COLOUR in edge


def test_any_maplayer_renders_not_only_layer_objects(qapp):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[box(-20, -20, 20, 20)], crs=4549)
    spec = LayerSpec(name="x", style=SingleSymbol(Symbol(fill="#123456", stroke="#123456")), gdf=gdf)
    img = render.render_image([spec], VP, labels=False, scale_bar=False, north_arrow=False)
    assert px(img, 0, 0) == "#123456"


def test_labels_follow_the_scale_and_avoid_overlaps(qapp):
    geoms = [box(-90, -10, -60, 10), box(-89, -9, -61, 9), box(40, -10, 80, 10)]
    lyr = layer(geoms, SingleSymbol(Symbol(fill_opacity=0.0)), labels=LabelSpec(field="name", max_scale=5000))
    from PyQt6.QtGui import QImage, QPainter

    img = QImage(200, 200, QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    try:
        assert render.render_labels(p, [lyr], VP) == 2  # the second box's label overlaps the first
        assert render.render_labels(p, [lyr], VP.with_scale(10000)) == 0  # beyond max_scale
    finally:
        p.end()


def test_simplified_drawing_keeps_the_shape_at_small_scales(qapp):
    circle = Point(0, 0).buffer(5000, quad_segs=256)  # 1025 vertices
    lyr = layer([circle], SingleSymbol(Symbol(fill="#ff0000", stroke="#ff0000", stroke_width=0)))
    vp = Viewport(0.0, 0.0, 60.0, 200, 200)
    simple = lyr.geometry.for_resolution(vp.mpp)
    assert len(simple.ring_xy) < 200 < len(lyr.geometry.ring_xy)
    img = render.render_image([lyr], vp, labels=False, scale_bar=False, north_arrow=False, background="#ffffff")
    assert img.pixelColor(100, 100).name() == "#ff0000"
    assert img.pixelColor(100, 100 + int(4900 / 60)).name() == "#ff0000"
    assert img.pixelColor(100, 100 + int(5200 / 60)).name() == "#ffffff"


@pytest.mark.parametrize("max_m, nice", [(1234.0, 1000.0), (250.0, 200.0), (5.5, 5.0), (99999.0, 50000.0)])
def test_scale_bar_lengths(max_m, nice):
    assert render.nice_scale_length(max_m) == nice


def test_decorations_draw_inside_the_view(qapp):
    from PyQt6.QtGui import QImage, QPainter

    img = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor("#ffffff"))
    vp = Viewport(0.0, 0.0, 10.0, 400, 300)
    p = QPainter(img)
    try:
        bar = render.draw_scale_bar(p, vp)
        arrow = render.draw_north_arrow(p, vp)
    finally:
        p.end()
    assert 0 <= bar.left() and bar.bottom() <= 300 and bar.width() > 100
    assert arrow.right() <= 400 and arrow.top() >= 0
    dark = sum(img.pixelColor(x, y).lightness() < 60 for x in range(400) for y in range(250, 300))
    assert dark > 50

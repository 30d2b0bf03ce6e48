"""Layer models without Qt: events, validation, selection, the layer list and the geometry cache."""
from __future__ import annotations

import subprocess
import sys
from unittest.mock import Mock

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gridtool.project import Project
from gridtool.styles import SingleSymbol, Symbol, default_style
from layers.events import EmitterGroup
from layers.geometry_cache import GeometryCache
from layers.layer import Layer
from layers.layer_list import LayerList
from layers.selection import SelectionMode, combine


def squares(n: int = 4) -> gpd.GeoDataFrame:
    """``n`` unit-100 m squares side by side: square i spans x = 100i … 100i+100."""
    return gpd.GeoDataFrame(
        {"name": [f"格{i}" for i in range(n)], "population": np.arange(n) * 10},
        geometry=[box(100 * i, 0, 100 * i + 100, 100) for i in range(n)], crs=4549,
    )


def test_import_of_layers_loads_no_qt():
    code = "import sys, gridtool, layers, layers.layer, layers.layer_list, layers.geometry_cache; " \
           "print(any(m.startswith('PyQt6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_setters_emit_once_per_change_and_never_for_no_ops():
    lyr = Layer(squares(), name="g", kind="grid_community_village")
    on_visible, on_any = Mock(), Mock()
    lyr.events.visible.connect(on_visible)
    lyr.events.connect(on_any)
    lyr.visible = False
    lyr.visible = False
    assert on_visible.call_count == 1
    assert on_visible.call_args.args[0].value is False
    assert on_visible.call_args.args[0].source is lyr
    lyr.opacity = 0.5
    assert on_any.call_count == 2
    assert [c.args[0].type for c in on_any.call_args_list] == ["visible", "opacity"]


def test_bad_values_are_refused_with_the_value_in_the_message():
    lyr = Layer(squares(), name="g")
    with pytest.raises(ValueError, match=r"opacity must be between 0.0 and 1.0; got 1.5"):
        lyr.opacity = 1.5
    with pytest.raises(ValueError, match="style must be"):
        lyr.style = "red"
    with pytest.raises(ValueError, match="layer data must be a GeoDataFrame; got list"):
        lyr.gdf = []
    with pytest.raises(ValueError, match="layer name must be a non-empty string"):
        Layer(squares(), name="")
    assert lyr.opacity == 1.0


def test_blocker_suppresses_echo():
    lyr = Layer(squares(), name="g")
    cb = Mock()
    lyr.events.opacity.connect(cb)
    with lyr.events.opacity.blocker():
        lyr.opacity = 0.3
    assert cb.call_count == 0 and lyr.opacity == 0.3


def test_group_and_defaults_follow_the_kind():
    assert Layer(squares(), name="g", kind="grid_street_town").group == "grids"
    assert Layer(squares(), name="f", kind="transfer_stations").group == "facilities"
    result = Layer(squares(), name="coverage")  # kind other, no source: an analysis result
    assert result.group == "analysis"
    lyr = Layer(squares(), name="g", kind="grid_street_town")
    assert lyr.title == "街道/镇网格"
    assert lyr.style == default_style("grid_street_town")
    assert lyr.labels is not None and lyr.labels.field == "name"


def test_selection_modes_and_events():
    lyr = Layer(squares(6), name="g")
    cb = Mock()
    lyr.events.selection.connect(cb)
    lyr.select([3, 1, 1])
    assert lyr.selected.tolist() == [1, 3]
    lyr.select([4], mode="add")
    assert lyr.selected.tolist() == [1, 3, 4]
    lyr.select([3, 5], mode=SelectionMode.TOGGLE)
    assert lyr.selected.tolist() == [1, 4, 5]
    lyr.select([1], mode="remove")
    assert lyr.selected.tolist() == [4, 5]
    lyr.select([4, 5], mode="add")  # no change → no event
    assert cb.call_count == 4
    assert cb.call_args.args[0].rows.tolist() == [4, 5]
    with pytest.raises(IndexError, match=r"selection rows \[6\] are outside the layer's 6 rows"):
        lyr.select([6])
    assert combine(np.array([1, 2]), np.array([2, 3]), "replace").tolist() == [2, 3]


def test_selected_bounds_and_layer_bounds():
    lyr = Layer(squares(4), name="g")
    assert lyr.bounds == (0.0, 0.0, 400.0, 100.0)
    assert lyr.selected_bounds() is None
    lyr.select([1, 2])
    assert lyr.selected_bounds() == (100.0, 0.0, 300.0, 100.0)


def test_new_data_clears_selection_and_cache():
    lyr = Layer(squares(4), name="g")
    lyr.select([0])
    cache = lyr.geometry
    data, sel = Mock(), Mock()
    lyr.events.data.connect(data)
    lyr.events.selection.connect(sel)
    lyr.gdf = squares(2)
    assert lyr.selected.tolist() == [] and lyr.geometry is not cache and len(lyr.geometry) == 2
    assert data.call_count == 1 and sel.call_count == 1


def test_geometry_cache_flattens_points_lines_rings_with_offsets():
    geoms = [
        Point(1, 2),
        LineString([(0, 0), (3, 4), (3, 10)]),
        Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (4, 4)]]),
        MultiPolygon([box(20, 0, 21, 1), box(30, 0, 31, 1)]),
        None,
        shapely.MultiPoint([(5, 5), (6, 6)]),
    ]
    c = GeometryCache(np.array(geoms, dtype=object))
    assert c.point_xy.tolist() == [[1.0, 2.0], [5.0, 5.0], [6.0, 6.0]]
    assert c.point_feature.tolist() == [0, 5, 5]
    assert c.line_offsets.tolist() == [0, 3] and c.line_feature.tolist() == [1]
    # polygon 2 has an exterior (5 coords) and a hole (4 coords); multipolygon 3 two exteriors
    assert c.ring_offsets.tolist() == [0, 5, 9, 14, 19]
    assert c.ring_feature.tolist() == [2, 2, 3, 3]
    assert c.ring_is_hole.tolist() == [False, True, False, False]
    assert c.feature_has_holes.tolist() == [False, False, True, False, False, False]
    assert np.isnan(c.bounds[4]).all()
    assert c.ring_bounds[2].tolist() == [20.0, 0.0, 21.0, 1.0]


@pytest.mark.parametrize("live", [False, True])
def test_hit_tests_with_strtree_and_rtree(live):
    c = GeometryCache(squares(4).geometry, live=live)
    assert c.query_box(150, 10, 250, 20).tolist() == [1, 2]
    assert c.query_point(250, 50).tolist() == [2]
    assert c.query_point(400 + 5, 50, tolerance=10).tolist() == [3]
    assert c.query_point(1000, 50, tolerance=10).tolist() == []
    tri = Polygon([(10, 10), (390, 10), (10, 90)])
    assert c.query_geometry(tri).tolist() == [0, 1, 2, 3]
    assert c.query_geometry(box(110, 10, 190, 90), predicate="within").tolist() == []
    assert c.query_geometry(box(110, 10, 190, 90), predicate="contains").tolist() == [1]


def test_live_layer_appends_into_rtree_without_rebuilding():
    pts = gpd.GeoDataFrame({"finding_id": ["F1"], "status": ["registered"]}, geometry=[Point(0, 0)], crs=4549)
    lyr = Layer(pts, name="findings", kind="findings")
    assert lyr.live
    index = lyr.geometry._rtree
    added = Mock()
    lyr.events.data.connect(added)
    rows = lyr.add_features(gpd.GeoDataFrame({"finding_id": ["F2"], "status": ["closed"]},
                                             geometry=[Point(50, 50)], crs=4549))
    assert rows.tolist() == [1]
    assert lyr.geometry._rtree is index
    assert lyr.geometry.query_point(50, 50, 1).tolist() == [1]
    assert added.call_args.args[0].added.tolist() == [1]
    assert lyr.gdf["finding_id"].tolist() == ["F1", "F2"]
    assert lyr.classes()[0].tolist() == [0, 4]  # status categories: registered, …, closed
    with pytest.raises(ValueError, match="CRS"):
        lyr.add_features(gpd.GeoDataFrame({"finding_id": ["F3"]}, geometry=[Point(1, 1)], crs=4326))


def test_layer_list_order_events_and_forwarding():
    a, b, c = (Layer(squares(), name=n) for n in "abc")
    ll = LayerList([a, b])
    events = []
    ll.events.connect(lambda e: events.append(e.type))
    ll.append(c)
    ll.move(2, 0)
    assert ll.names == ["c", "a", "b"]
    ll.reorder(["a", "b", "c"])
    assert ll.names == ["a", "b", "c"]
    b.visible = False
    assert [lyr.name for lyr in ll.visible()] == ["a", "c"]
    ll.remove("a")
    a.visible = False  # removed layers are no longer forwarded
    assert events == ["inserted", "moved", "reordered", "reordered", "layer_changed", "removed"]
    d = Layer(squares(), name="b")
    ll.append(d)
    assert d.id == "b_2" and ll["b_2"] is d
    with pytest.raises(ValueError, match="already in the list"):
        ll.append(d)
    with pytest.raises(KeyError, match="no layer with id or name 'zz'"):
        ll["zz"]


def test_layer_list_project_round_trip_keeps_order_styles_visibility():
    a = Layer(squares(), name="streets", kind="grid_street_town", source_path="/data/x.gpkg", source_layer="streets")
    b = Layer(squares(), name="result", style=SingleSymbol(Symbol(fill="#ff0000")), visible=False, opacity=0.4)
    ll = LayerList([a, b])
    proj = ll.to_project(title="钟楼", view={"center": [1, 2], "scale": 5000})
    assert isinstance(proj, Project) and proj.view["scale"] == 5000
    assert [s.name for s in proj.layers] == ["streets", "result"]
    back = LayerList.from_project(proj)
    assert back.names == ["streets", "result"]
    assert back["result"].style.symbol.fill == "#ff0000"
    assert back["result"].visible is False and back["result"].opacity == 0.4
    assert back["streets"].source_path == "/data/x.gpkg"


def test_emitter_group_rejects_unknown_events():
    g = EmitterGroup(object(), "a")
    with pytest.raises(AttributeError, match="no event 'b'; events are: a"):
        g.b

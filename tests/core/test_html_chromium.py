"""Exported maps opened for real in headless Chromium, offline.

These tests fail (they do not skip) when Chromium is missing: scripts/setup.sh --test
installs it, and CI runs them.
"""
from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from gridtool.export.html_map import HtmlMapOptions, export_html_map
from gridtool.project import LayerSpec, open_any
from gridtool.styles import default_labels, default_style
from tests.core.chromium_harness import chromium_path, open_page
from tests.core.test_html_export import HOSTILE

pytestmark = pytest.mark.chromium


@pytest.fixture(scope="module", autouse=True)
def _need_chromium():
    if chromium_path() is None:
        pytest.fail("chromium is not installed: run 'bash scripts/setup.sh --test' (Debian package chromium)")


def _layer(gdf, name, kind, **kw):
    spec = LayerSpec(name=name, kind=kind, style=default_style(kind), labels=default_labels(kind), **kw)
    spec.gdf = gdf
    return spec


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, sample_gpkg):
    proj = open_any(sample_gpkg)
    out = tmp_path_factory.mktemp("html") / "sample.html"
    export_html_map(proj.layers, out, HtmlMapOptions(subtitle="测试", author="钟楼区城管局", test_hooks=True))
    return proj, open_page(out)


def test_sample_map_opens_offline_with_every_feature(sample_run):
    proj, run = sample_run
    st = run.status
    assert st.get("data-ready") == "1", f"page did not finish: {run.console_errors}"
    counts = json.loads(st["data-counts"])
    expected = {f"L{i}": len(l.gdf) for i, l in enumerate(proj.layers)}
    assert counts == expected
    assert json.loads(st["data-errors"]) == [] and run.console_errors == []
    assert st["data-legend"] == "1"
    assert int(st["data-popups"]) == 2 * sum(expected.values())
    assert run.requests == [], f"the page requested {run.requests}"


def test_title_legend_and_controls_are_in_the_page(sample_run):
    _, run = sample_run
    dom = run.dom
    assert "钟楼区无废城市网格监管图" in dom and "钟楼区城管局" in dom
    assert 'id="gt-legend"' in dom and "垃圾转运站" in dom and "结案(销号)" in dom
    assert "leaflet-control-scale" in dom and "gt-north" in dom and "gt-search" in dom
    assert "gt-btn-fullscreen" in dom and "gt-btn-print" in dom
    assert "街道/镇网格" in dom  # layer control with Chinese names


def test_request_detector_sees_an_online_basemap(tmp_path):
    """Control for the offline check: an OSM basemap makes the page request tiles, and the harness sees it."""
    g = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(500000, 3520000)], crs=4549)
    out = export_html_map([_layer(g, "p", "transfer_stations")], tmp_path / "osm.html", HtmlMapOptions(basemap="osm"))
    run = open_page(out, budget_ms=3000)
    assert any("tile.openstreetmap.org" in u for u in run.requests)


def test_hostile_strings_do_not_execute(tmp_path):
    polys = [Polygon([(500000 + i * 800, 3520000), (500700 + i * 800, 3520000), (500700 + i * 800, 3520700), (500000 + i * 800, 3520700)])
             for i in range(len(HOSTILE))]
    grids = gpd.GeoDataFrame({"code": HOSTILE, "name": HOSTILE, HOSTILE[0]: HOSTILE, HOSTILE[2]: list(range(len(HOSTILE)))},
                             geometry=polys, crs=4549)
    pts = [Point(500100 + i * 800, 3520100) for i in range(len(HOSTILE))]
    findings = gpd.GeoDataFrame(
        {"finding_id": HOSTILE, "status": HOSTILE, "description": HOSTILE, "inspector": HOSTILE,
         "deadline": ["2020-01-01"] * len(HOSTILE)}, geometry=pts, crs=4549)
    from gridtool.styles import categorized

    cat = _layer(grids.copy(), HOSTILE[3], "other", title=HOSTILE[4])
    cat.style = categorized(grids, "name")  # legend labels are the hostile values
    layers = [_layer(grids, HOSTILE[1], "grid_community_village", title=HOSTILE[0]), cat,
              _layer(findings, HOSTILE[2], "findings", title=HOSTILE[2])]
    out = export_html_map(layers, tmp_path / "hostile.html",
                          HtmlMapOptions(title=HOSTILE[1], subtitle=HOSTILE[0], author=HOSTILE[2], source=HOSTILE[4], test_hooks=True))
    run = open_page(out)
    st = run.status
    assert st.get("data-ready") == "1", f"page broke: {run.console_errors} {st}"
    assert st["data-pwned"] == "0"
    assert json.loads(st["data-errors"]) == [] and run.console_errors == []
    assert json.loads(st["data-counts"]) == {"L0": len(HOSTILE), "L1": len(HOSTILE), "L2": len(HOSTILE)}
    assert '<img src="x"' not in run.dom and "<svg onload" not in run.dom
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in run.dom  # shown as text
    assert run.requests == []


def test_screenshot_of_sample_map(tmp_path, sample_gpkg):
    proj = open_any(sample_gpkg)
    out = export_html_map(proj.layers, tmp_path / "shot.html")
    png = tmp_path / "shot.png"
    open_page(out, screenshot=png)
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (1400, 900)
        colours = im.convert("RGB").getcolors(1_000_000)
    assert colours is not None and len(colours) > 200, "the screenshot is blank"

"""HTML map export: content, size, offline assets, escaping (static checks, no browser)."""
from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from gridtool.cli import main
from gridtool.errors import InputError
from gridtool.export.escape import html_attr, html_text, js_string, script_json, template_literal_text
from gridtool.export.html_map import HtmlMapOptions, build_html_map, findings_per_grid, overdue_flags
from gridtool.project import LayerSpec
from gridtool.styles import default_labels, default_style

HOSTILE = [
    "<img src=x onerror=window.__pwned=1>",
    "</script><script>window.__pwned=2</script>",
    "`${window.__pwned=3}`",
    "'\";window.__pwned=4;//",
    "<svg onload=window.__pwned=5>",
    "\u2028\u2029&amp;",
]


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="gt-data">(.*?)</script>', page, re.S)
    assert m, "the page has no data block"
    return json.loads(m.group(1))


def _layer(gdf, name, kind, **kw):
    spec = LayerSpec(name=name, kind=kind, style=kw.pop("style", default_style(kind)), labels=kw.pop("labels", default_labels(kind)), **kw)
    spec.gdf = gdf
    return spec


@pytest.fixture
def grids():
    polys = [Polygon([(500000 + i * 1000, 3520000), (501000 + i * 1000, 3520000), (501000 + i * 1000, 3521000), (500000 + i * 1000, 3521000)]) for i in range(3)]
    return gpd.GeoDataFrame({"code": ["A", "B", "C"], "name": ["甲社区", "乙社区", "丙村"], "population": [100, 200, 300]},
                            geometry=polys, crs=4549)


@pytest.fixture
def findings():
    pts = [Point(500500, 3520500), Point(500600, 3520600), Point(501500, 3520500), Point(600000, 3600000)]
    return gpd.GeoDataFrame(
        {"finding_id": ["ZL-2026-000001", "ZL-2026-000002", "ZL-2026-000003", "ZL-2026-000004"],
         "status": ["registered", "closed", "rectifying", "registered"],
         "deadline": ["2026-01-05", "2026-01-05", "2099-01-01", "2026-01-01"],
         "description": ["堆放建筑垃圾", "已清理", "暴露垃圾", "远处"]},
        geometry=pts, crs=4549)


def test_page_is_self_contained(sample_gpkg, tmp_path):
    from gridtool.project import open_any

    proj = open_any(sample_gpkg)
    page = build_html_map(proj.layers)
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S | re.I)  # scripts are checked in Chromium
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup), "page loads something from the network"
    assert "<script src" not in page and "<link" not in page
    assert "cdn.jsdelivr" not in page and "code.jquery.com" not in page
    assert "L.markerClusterGroup" in page or "MarkerClusterGroup" in page  # plugin inlined
    data = _data(page)
    counts = {l["name"]: len(l["sym"]) for l in data["layers"]}
    assert counts["grid_community_village"] == 109 and counts["grid_street_town"] == 8
    assert counts["collection_points"] == len(proj.layer("collection_points").gdf)
    assert any(l["cluster"] for l in data["layers"] if l["name"] == "collection_points")
    # streets carry their Chinese names for labels and search
    street = next(l for l in data["layers"] if l["name"] == "grid_street_town")
    assert "五星街道" in street["props"]["name"]
    assert any(hit[0] == "五星街道" for hit in data["search"])
    assert any(hit[0].startswith("ZL-2026-") for hit in data["search"])


def test_coordinates_rounded_and_polygons_simplified(grids):
    wiggly = Polygon([(500000 + x, 3520000 + (0.3 if x % 2 else 0)) for x in range(0, 1000, 5)] + [(501000, 3521000), (500000, 3521000)])
    g = gpd.GeoDataFrame({"name": ["w"]}, geometry=[wiggly], crs=4549)
    data = _data(build_html_map([_layer(g, "w", "grid_community_village")], HtmlMapOptions(simplify_m=3.0)))
    ring = data["layers"][0]["coords"][0][0][0]
    assert len(ring) // 2 < 10, "sub-metre wiggles were not simplified away"
    assert all(len(repr(v).split(".")[-1]) <= 5 for v in ring)


def test_unused_columns_dropped(grids):
    g = grids.assign(fid=1, version=3, updated_at="x")
    data = _data(build_html_map([_layer(g, "g", "grid_community_village")]))
    keys = {f["key"] for f in data["layers"][0]["fields"]}
    assert {"fid", "version", "updated_at"}.isdisjoint(keys) and {"code", "name", "population"} <= keys
    labels = {f["key"]: f["label"] for f in data["layers"][0]["fields"]}
    assert labels["population"] == "人口"


def test_overdue_flags_and_findings_per_grid(grids, findings):
    import datetime as dt

    flags, days = overdue_flags(findings, today=dt.date(2026, 1, 10))
    assert flags.tolist() == [True, False, False, True] and days.tolist() == [5, 0, 0, 9]
    per = findings_per_grid(grids, findings, today=dt.date(2026, 1, 10))
    assert per["findings_count"].tolist() == [2, 1, 0]
    assert per["open_count"].tolist() == [1, 1, 0]
    assert per["overdue_count"].tolist() == [1, 0, 0]


def test_choropleth_restyles_only_the_export(grids):
    layer = _layer(grids, "g", "grid_community_village")
    data = _data(build_html_map([layer], choropleth=("g", "population")))
    lj = data["layers"][0]
    assert len(lj["symbols"]) >= 3 and len(set(lj["sym"])) == 3
    assert layer.style == default_style("grid_community_village")  # the canvas style is untouched
    with pytest.raises(InputError, match="not among the exported layers"):
        build_html_map([layer], choropleth=("nope", "population"))


@pytest.mark.parametrize("s", HOSTILE)
def test_escape_helpers(s):
    assert "<" not in html_text(s) and ">" not in html_text(s)
    assert '"' not in html_attr(s) and "'" not in html_attr(s)
    lit = js_string(s)
    assert "</script" not in lit.lower() and "<" not in lit and "\u2028" not in lit
    assert json.loads(lit.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")) == s
    t = template_literal_text(s)
    assert "${" not in t.replace("\\${", "") and "`" not in t.replace("\\`", "")
    assert "</script" not in script_json({"k": s}).lower()


def test_hostile_text_never_becomes_markup(grids, findings):
    bad = HOSTILE[0]
    g = grids.assign(name=[bad, HOSTILE[1], HOSTILE[2]], **{bad: ["v"] * 3})
    f = findings.assign(description=HOSTILE[:4], status=[HOSTILE[0], "closed", "registered", HOSTILE[2]])
    layers = [_layer(g, HOSTILE[1], "grid_community_village", title=HOSTILE[0]),
              _layer(f.iloc[:3], "findings", "findings", title=HOSTILE[2])]
    page = build_html_map(layers, HtmlMapOptions(title=HOSTILE[1], subtitle=HOSTILE[0], author=HOSTILE[2], source=HOSTILE[3]))
    # the only <script> closing tags are ours
    assert page.lower().count("</script>") == page.lower().count("<script")
    assert "<img src=x" not in page and "<svg onload" not in page
    assert f"<title>{html_text(HOSTILE[1])}</title>" in page
    data = _data(page)  # still valid JSON with the text intact
    assert data["meta"]["title"] == HOSTILE[1]
    assert data["layers"][0]["props"]["name"][0] == bad


def test_tianditu_needs_a_clean_key(grids):
    layer = _layer(grids, "g", "grid_community_village")
    with pytest.raises(InputError, match="Tianditu key"):
        build_html_map([layer], HtmlMapOptions(basemap="tianditu"))
    with pytest.raises(InputError, match="Tianditu key"):
        build_html_map([layer], HtmlMapOptions(basemap="tianditu", key="abc'&x"))
    data = _data(build_html_map([layer], HtmlMapOptions(basemap="tianditu", key="0123456789abcdef")))
    assert "tk=0123456789abcdef" in data["basemap"]["url"]


def test_cli_export_html(sample_gpkg, tmp_path, capsys):
    out = tmp_path / "map.html"
    rc = main(["export-html", str(sample_gpkg), "--out", str(out), "--layers", "grid_street_town,findings",
               "--title", "测试图", "--choropleth", "grid_street_town:findings_count"])
    assert rc == 0 and out.exists()
    assert str(out) in capsys.readouterr().out
    data = _data(out.read_text(encoding="utf-8"))
    assert [l["name"] for l in data["layers"]] == ["grid_street_town", "findings"]
    assert "findings_count" in data["layers"][0]["props"]


@pytest.mark.parametrize("argv, phrase", [
    (["--layers", "nope"], "not in the project"),
    (["--choropleth", "grid_street_town"], "LAYER:FIELD"),
    (["--basemap", "tianditu"], "Tianditu key"),
    (["--store", "/nonexistent/store.gpkg"], "does not exist"),
])
def test_cli_export_html_bad_input(sample_gpkg, tmp_path, capsys, argv, phrase):
    out = tmp_path / "map.html"
    rc = main(["export-html", str(sample_gpkg), "--out", str(out), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and phrase in err[0]
    assert not out.exists()


def test_cli_export_html_missing_project(tmp_path, capsys):
    rc = main(["export-html", str(tmp_path / "none.gpkg"), "--out", str(tmp_path / "m.html")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_cli_export_html_with_store_and_thumbnails(sample_gpkg, tmp_path, capsys):
    """--store adds the store's findings (overdue flags included); --thumbnails embeds their photos."""
    import datetime as dt

    from PIL import Image

    from gridtool.findings import FindingsStore

    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (400, 300), (180, 90, 40)).save(photo, "JPEG")
    with FindingsStore.open(tmp_path / "s.gpkg") as store:
        fid = store.add(x=492815.2, y=3520676.8, category="construction", finding_type="illegal_dumping",
                        description=HOSTILE[0], found_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                        photos=[photo]).finding.finding_id
    out = tmp_path / "m.html"
    rc = main(["export-html", str(sample_gpkg), "--out", str(out), "--layers", "grid_street_town",
               "--store", str(tmp_path / "s.gpkg"), "--thumbnails"])
    assert rc == 0, capsys.readouterr().err
    data = _data(out.read_text(encoding="utf-8"))
    findings = next(l for l in data["layers"] if l["kind"] == "findings")
    assert findings["props"]["finding_id"] == [fid]
    assert findings["props"]["description"] == [HOSTILE[0]]
    assert findings["overdue"] == [1]  # a January deadline, still open
    thumbs = findings["photos"]["0"]
    assert len(thumbs) == 1 and thumbs[0].startswith("data:image/jpeg;base64,")
    import base64
    import io

    with Image.open(io.BytesIO(base64.b64decode(thumbs[0].split(",", 1)[1]))) as im:
        assert max(im.size) <= 160  # downscaled

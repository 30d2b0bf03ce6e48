"""Reading real-world files and writing GeoPackage layers atomically."""
from __future__ import annotations

import os
import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gridtool import io as gio
from gridtool.errors import CRSError, InputError, ReadError, SchemaError
from gridtool.paths import safe_join, sample_gpkg_path
from tests.core import corpus

XY_4549 = np.array([[495264.096, 3517458.847], [490525.134, 3514135.629], [493369.021, 3516351.063]])


def _xy(gdf):
    return shapely.get_coordinates(gdf.geometry.array)


# ------------------------------------------------------------------ layer specs and listing
def test_split_layer_spec(tmp_path):
    p = corpus.good_gpkg(tmp_path)
    assert gio.split_layer_spec(f"{p}:roads") == (str(p), "roads")
    assert gio.split_layer_spec(str(p)) == (str(p), None)
    assert gio.split_layer_spec("missing.gpkg:x") == ("missing.gpkg", "x")
    odd = tmp_path / "a:b.geojson"
    odd.write_text("{}")
    assert gio.split_layer_spec(str(odd)) == (str(odd), None)


def test_list_layers_gpkg(tmp_path):
    infos = gio.list_layers(corpus.good_gpkg(tmp_path))
    by_name = {i.name: i for i in infos}
    assert set(by_name) == {"transfer_stations", "grid_street_town"}
    assert by_name["transfer_stations"].kind == "transfer_stations"
    assert by_name["transfer_stations"].n_features == 3
    assert by_name["grid_street_town"].geometry_type == "Polygon"
    assert by_name["grid_street_town"].crs == "EPSG:4549"


def test_list_layers_tables_and_shapefile(tmp_path):
    (info,) = gio.list_layers(corpus.csv_lonlat(tmp_path))
    assert (info.name, info.n_features, info.geometry_type) == ("stations", 3, "Point")
    (sheet,) = gio.list_layers(corpus.xlsx_lonlat(tmp_path))
    assert (sheet.name, sheet.n_features) == ("转运站", 3)
    (shp,) = gio.list_layers(corpus.shp_without_shx(tmp_path))
    assert (shp.name, shp.n_features, shp.crs) == ("noshx", 3, "EPSG:4549")


def test_list_layers_sample(sample_gpkg):
    infos = {i.name: i for i in gio.list_layers(sample_gpkg)}
    assert {"grid_district", "grid_street_town", "roads", "transfer_stations", "findings"} <= set(infos)
    assert infos["grid_district"].n_features == 1
    assert all(i.kind == i.name for i in infos.values())
    assert all(i.crs == "EPSG:4549" for i in infos.values() if i.geometry_type != "None")


# ------------------------------------------------------------------ formats
def test_read_gpkg_layer_with_kind_renames_and_validates(tmp_path):
    res = gio.read_layer(f"{corpus.good_gpkg(tmp_path)}:transfer_stations", kind="transfer_stations")
    assert res.warnings == []
    assert res.renamed["名称"] == "name" and res.renamed["规模(t/d)"] == "capacity_tpd"
    assert res.gdf["name"].tolist() == corpus.NAMES
    assert res.gdf["capacity_tpd"].tolist() == [150.0, 80.0, 120.0]
    assert res.gdf.crs.to_epsg() == 4549
    np.testing.assert_allclose(_xy(res.gdf), XY_4549, atol=0.01)


def test_gpkg_layer_picked_by_kind_or_asked_for(tmp_path):
    p = corpus.good_gpkg(tmp_path)
    assert len(gio.read_layer(p, kind="grid_street_town").gdf) == 3
    with pytest.raises(ReadError, match="has 2 layers"):
        gio.read_layer(p)
    with pytest.raises(ReadError, match="no layer 'nope'; it has: "):
        gio.read_layer(p, "nope")


def test_read_csv_and_xlsx(tmp_path):
    for path in (corpus.csv_lonlat(tmp_path), corpus.xlsx_lonlat(tmp_path)):
        res = gio.read_layer(path, kind="transfer_stations")
        assert res.gdf["name"].tolist() == corpus.NAMES
        assert "经度" not in res.gdf.columns
        np.testing.assert_allclose(_xy(res.gdf), XY_4549, atol=0.01)
        assert any("EPSG:4326" in w for w in res.warnings)


def test_csv_gbk_encoded_is_decoded_with_warning(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("名称,经度,纬度\n钟楼转运站,119.95,31.78\n".encode("gbk"))
    res = gio.read_layer(p, kind="transfer_stations")
    assert res.gdf["name"].tolist() == ["钟楼转运站"]
    assert any("GBK" in w for w in res.warnings)


def test_csv_metres_with_explicit_columns_and_crs(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("站名;东;北\nA;495264.096;3517458.847\n", encoding="utf-8")
    res = gio.read_layer(p, kind="transfer_stations", x="东", y="北", crs="EPSG:4549")
    assert res.warnings == []
    np.testing.assert_allclose(_xy(res.gdf), XY_4549[:1], atol=1e-6)
    with pytest.raises(ReadError, match="coordinate column 'E' not found"):
        gio.read_layer(p, x="E", y="北")


def test_csv_text_in_coordinates_names_row_and_column(tmp_path):
    with pytest.raises(ReadError, match=r"row 2 \(line 3\) column '经度' holds '东经119度', not a number"):
        gio.read_layer(corpus.csv_text_in_coords(tmp_path))


def test_csv_blank_coordinates_skipped_with_warning(tmp_path):
    p = tmp_path / "blank.csv"
    p.write_text("name,lon,lat\na,119.95,31.78\nb,,\nc,119.90,31.75\n", encoding="utf-8")
    res = gio.read_layer(p)
    assert res.gdf["name"].tolist() == ["a", "c"]
    assert any("skipped 1 row" in w and "row 2" in w for w in res.warnings)


def test_csv_wkt_column(tmp_path):
    p = tmp_path / "wkt.csv"
    p.write_text('name,WKT\na,"POINT (495264.096 3517458.847)"\n', encoding="utf-8")
    res = gio.read_layer(p, crs="EPSG:4549")
    np.testing.assert_allclose(_xy(res.gdf), XY_4549[:1])


def test_csv_without_coordinates(tmp_path):
    p = tmp_path / "plain.csv"
    p.write_text("name,remark\na,b\n", encoding="utf-8")
    with pytest.raises(ReadError, match="no coordinate columns found among name, remark"):
        gio.read_layer(p)


def test_csv_codes_with_leading_zero_stay_text(tmp_path):
    p = tmp_path / "codes.csv"
    p.write_text("编码,名称,经度,纬度,人口\n001,a,119.95,31.78,12\n", encoding="utf-8")
    res = gio.read_layer(p)
    assert res.gdf["编码"].tolist() == ["001"]
    assert res.gdf["人口"].tolist() == [12]


def test_gcj02_csv(tmp_path):
    res = gio.read_layer(corpus.csv_gcj02(tmp_path), coords="gcj02", kind="transfer_stations")
    np.testing.assert_allclose(_xy(res.gdf), XY_4549, atol=0.05)
    plain = gio.read_layer(corpus.csv_gcj02(tmp_path))
    shift = np.hypot(*(_xy(plain.gdf) - XY_4549).T)
    assert np.all((shift > 300) & (shift < 800))


def test_gpx_tracks_and_waypoints(tmp_path):
    p = corpus.gpx_file(tmp_path)
    tracks = gio.read_layer(p, kind="patrol_tracks")
    assert len(tracks.gdf) == 1 and tracks.gdf.geom_type.iloc[0] == "MultiLineString"
    assert any("waypoints (3)" in w for w in tracks.warnings)
    np.testing.assert_allclose(_xy(tracks.gdf), XY_4549, atol=0.01)
    wpts = gio.read_layer(p, kind="findings")
    assert len(wpts.gdf) == 3 and set(wpts.gdf.geom_type) == {"Point"}
    assert len(gio.read_layer(f"{p}:waypoints").gdf) == 3


def test_kml(tmp_path):
    res = gio.read_layer(corpus.kml_file(tmp_path), kind="transfer_stations")
    assert res.gdf["name"].tolist() == corpus.NAMES
    np.testing.assert_allclose(_xy(res.gdf)[:, :2], XY_4549, atol=0.01)


def test_shapefile_gbk_without_cpg(tmp_path):
    p = corpus.shp_gbk_no_cpg(tmp_path)
    assert gio.detect_dbf_encoding(p)[0] == "GB18030"
    res = gio.read_layer(p, kind="transfer_stations")
    assert res.gdf["name"].tolist() == corpus.NAMES
    assert any("GBK" in w and ".cpg" in w for w in res.warnings)
    # the user's own encoding wins, without a warning
    res2 = gio.read_layer(p, encoding="gbk")
    assert res2.gdf["名称"].tolist() == corpus.NAMES and res2.warnings == []


def test_shapefile_utf8_without_cpg_is_read_as_utf8(tmp_path):
    p = tmp_path / "u.shp"
    pyogrio.write_dataframe(corpus.stations_4549(), p, encoding="utf-8")
    os.remove(p.with_suffix(".cpg"))
    assert gio.detect_dbf_encoding(p)[0] == "UTF-8"
    assert gio.read_layer(p).gdf["名称"].tolist() == corpus.NAMES


def test_shapefile_neither_utf8_nor_gbk_is_refused_not_mojibake(tmp_path):
    with pytest.raises(ReadError, match="neither UTF-8 nor GBK.*--encoding"):
        gio.read_layer(corpus.shp_latin1_no_cpg(tmp_path))
    res = gio.read_layer(corpus.shp_latin1_no_cpg(tmp_path / ".."), encoding="cp1252")
    assert res.gdf["nom"].tolist() == ["café", "crème", "Ê"]


def test_shapefile_without_shx_is_rebuilt_in_a_copy(tmp_path):
    p = corpus.shp_without_shx(tmp_path)
    res = gio.read_layer(p)
    assert len(res.gdf) == 3 and any(".shx was missing" in w for w in res.warnings)
    assert not p.with_suffix(".shx").exists()  # the user's folder is not touched


def test_self_intersecting_polygon_repaired_with_warning(tmp_path):
    res = gio.read_layer(corpus.gpkg_self_intersecting(tmp_path), kind="grid_street_town")
    assert len(res.gdf) == 3
    assert res.gdf.geometry.is_valid.all()
    assert res.gdf.geometry.iloc[2].area == pytest.approx(500_000)  # two triangles of the bow-tie
    assert any("repaired 1 invalid polygon" in w and "row 3" in w for w in res.warnings)


def test_repair_drops_zero_area_polygons_with_warning():
    g = gpd.GeoDataFrame(geometry=[shapely.Polygon([(0, 0), (1, 1), (2, 2)]), shapely.box(0, 0, 1, 1)], crs=4549)
    out, warns = gio.repair_polygons(g, "x")
    assert len(out) == 1 and any("dropped 1 polygon" in w for w in warns)


def test_empty_layer_is_returned_with_warning(tmp_path):
    res = gio.read_layer(corpus.gpkg_empty_layer(tmp_path), kind="transfer_stations")
    assert len(res.gdf) == 0 and "name" in res.gdf.columns
    assert any("empty" in w for w in res.warnings)


def test_zone_prefix_mixups_are_fixed(tmp_path):
    for build in (corpus.gpkg_4528_labelled_4549, corpus.gpkg_4549_labelled_4528):
        res = gio.read_layer(build(tmp_path), kind="transfer_stations")
        np.testing.assert_allclose(_xy(res.gdf), XY_4549, atol=0.01)
        assert len(res.warnings) == 1 and "prefix" in res.warnings[0]


def test_crs_option_overrides_a_wrong_file_crs_with_warning(tmp_path):
    p = tmp_path / "wrong.gpkg"
    pyogrio.write_dataframe(corpus.stations_4549().set_crs(3857, allow_override=True), p)
    res = gio.read_layer(p, crs="EPSG:4549")
    np.testing.assert_allclose(_xy(res.gdf), XY_4549, atol=0.01)
    assert any("EPSG:3857" in w and "--crs" in w for w in res.warnings)
    with pytest.raises(CRSError, match="not a CRS"):
        gio.read_layer(p, crs="EPSG:99999999")


@pytest.mark.parametrize(
    "build, phrase",
    [
        (corpus.truncated_gpkg, "malformed"),
        (corpus.not_sqlite_gpkg, "not a file format"),
        (corpus.malformed_geojson, "GeoJSON is malformed"),
        (corpus.shp_no_crs_metres, "--crs EPSG:4549"),
    ],
)
def test_broken_files_raise_readable_input_errors(tmp_path, build, phrase):
    with pytest.raises(InputError, match=phrase) as err:
        gio.read_layer(build(tmp_path))
    assert "\n" not in str(err.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ReadError, match="file not found"):
        gio.read_layer(tmp_path / "nope.gpkg")
    (tmp_path / "zero.geojson").write_bytes(b"")
    with pytest.raises(ReadError, match="0 bytes"):
        gio.read_layer(tmp_path / "zero.geojson")


def test_schema_errors_come_through(tmp_path):
    with pytest.raises(SchemaError) as err:
        gio.read_layer(corpus.geojson_grids_missing_code(tmp_path), kind="grid_street_town")
    assert len(err.value.problems) == 2


def test_read_sample_layers(sample_gpkg, sample_layer):
    roads = gio.read_layer(sample_gpkg, "roads", kind="roads")
    assert roads.warnings == [] and len(roads.gdf) == len(sample_layer("roads"))
    streets = gio.read_gdf(f"{sample_gpkg}:grid_street_town", kind="grid_street_town")
    assert streets["code"].notna().all() and streets.crs.to_epsg() == 4549


# ------------------------------------------------------------------ writing
def test_write_layer_keeps_other_layers_and_replaces_or_appends(tmp_path):
    p = corpus.good_gpkg(tmp_path)
    new = corpus.stations_4549().iloc[:1]
    gio.write_layer(new, p, "transfer_stations")
    assert gio.read_layer(p, "transfer_stations").gdf.shape[0] == 1
    assert gio.read_layer(p, "grid_street_town").gdf.shape[0] == 3
    gio.write_layer(new, p, "transfer_stations", mode="a")
    assert gio.read_layer(p, "transfer_stations").gdf.shape[0] == 2
    gio.write_layer(new, p, "fresh", mode="a")
    assert {i.name for i in gio.list_layers(p)} == {"transfer_stations", "grid_street_town", "fresh"}
    assert [f.name for f in tmp_path.iterdir() if ".tmp" in f.name] == []


def test_write_layer_failure_leaves_the_file_untouched(tmp_path, monkeypatch):
    p = corpus.good_gpkg(tmp_path)
    before = p.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(gio.pyogrio, "write_dataframe", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        gio.write_layer(corpus.stations_4549(), p, "transfer_stations")
    assert p.read_bytes() == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["good.gpkg"]


def test_write_layer_refuses_damaged_target_and_reserved_names(tmp_path):
    bad = corpus.truncated_gpkg(tmp_path)
    before = bad.read_bytes()
    with pytest.raises(ReadError):
        gio.write_layer(corpus.stations_4549(), bad, "x")
    assert bad.read_bytes() == before
    fake = corpus.not_sqlite_gpkg(tmp_path)
    with pytest.raises(ReadError, match="not an SQLite file"):
        gio.write_layer(corpus.stations_4549(), fake, "x")
    with pytest.raises(InputError, match="reserved"):
        gio.write_layer(corpus.stations_4549(), tmp_path / "n.gpkg", "gpkg_contents")
    with pytest.raises(CRSError):
        gio.write_layer(corpus.stations_4549().set_crs(None, allow_override=True), tmp_path / "n.gpkg", "x")


def test_write_layer_copies_wal_content(tmp_path):
    p = corpus.good_gpkg(tmp_path)
    con = sqlite3.connect(p)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE notes (t TEXT)")
    con.execute("INSERT INTO notes VALUES ('kept')")
    con.commit()
    gio.write_layer(corpus.stations_4549(), p, "more")
    con.close()
    assert sqlite3.connect(p).execute("SELECT t FROM notes").fetchall() == [("kept",)]


# ------------------------------------------------------------------ paths
def test_safe_join(tmp_path):
    (tmp_path / "photos").mkdir()
    assert safe_join(tmp_path, "photos/a.jpg") == (tmp_path / "photos" / "a.jpg").resolve()
    for bad in ("../x", "/etc/passwd", "a/../../x", "", "C:\\x", "..\\x"):
        with pytest.raises(InputError):
            safe_join(tmp_path, bad)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "link").symlink_to(outside)
    with pytest.raises(InputError, match="outside"):
        safe_join(tmp_path, "link/secret.txt")


def test_sample_gpkg_path(sample_gpkg):
    assert sample_gpkg_path() == sample_gpkg.resolve()


KILL_SCRIPT = """
import sys, numpy as np, geopandas as gpd, shapely
from gridtool.io import write_layer
n = 300_000
g = gpd.GeoDataFrame({"v": np.arange(n)}, geometry=shapely.points(np.full(n, 490000.0), np.arange(n) + 3.5e6), crs=4549)
print("writing", flush=True)
write_layer(g, sys.argv[1], "big")
"""


def test_killed_write_leaves_a_readable_file(tmp_path):
    import subprocess
    import sys
    import time

    p = corpus.good_gpkg(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(p)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.5)
    proc.kill()
    proc.wait(timeout=30)
    infos = {i.name: i.n_features for i in gio.list_layers(p)}
    assert infos["transfer_stations"] == 3 and infos["grid_street_town"] == 3
    assert infos.get("big", 300_000) == 300_000  # all or nothing
    assert sqlite3.connect(p).execute("PRAGMA integrity_check").fetchone() == ("ok",)

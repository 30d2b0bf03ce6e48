"""Patrol tracks: atomic store import, and per-grid coverage with known answers."""
from __future__ import annotations

import hashlib
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gridtool.errors import CRSError, InputError, ReadError, SchemaError
from gridtool.gpx import read_gpx
from gridtool.paths import sample_gpkg_path
from gridtool.patrol import (
    COVERAGE_COLUMNS,
    import_gpx,
    import_tracks,
    patrol_coverage,
    read_tracks,
    to_local_times,
    unpatrolled_grids,
)

NOW = "2026-03-10T00:00:00+08:00"


def gpx_text(points: list[tuple[float, float, str]], author: str = "王网格") -> str:
    pts = "".join(f'<trkpt lat="{la}" lon="{lo}"><time>{t}</time></trkpt>' for la, lo, t in points)
    return ('<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<metadata><author><name>{author}</name></author></metadata><trk><trkseg>{pts}</trkseg></trk></gpx>")


DAY1 = gpx_text([(31.78, 119.94, "2026-03-01T01:30:00Z"), (31.781, 119.941, "2026-03-01T01:35:00Z"),
                 (31.782, 119.943, "2026-03-01T01:40:00Z")])
DAY2 = gpx_text([(31.79, 119.95, "2026-03-02T01:30:00Z"), (31.791, 119.951, "2026-03-02T01:35:00Z")])


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- coverage
@pytest.fixture
def square():
    """Grid A = 1 km square with a 1 km road across it; grid B beside it; a parent over both."""
    grids = gpd.GeoDataFrame(
        {"code": ["A", "B", "P"], "name": ["甲社区", "乙社区", "街道"], "level": ["community_village"] * 2 + ["street_town"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000), shapely.box(0, 0, 2000, 1000)],
        crs=4549,
    )
    roads = gpd.GeoDataFrame({"road_id": ["r1"]}, geometry=[shapely.LineString([(0, 500), (2000, 500)])], crs=4549)
    tracks = gpd.GeoDataFrame(
        {"track_id": ["half", "old"],
         "started_at": ["2026-03-01T09:00:00+08:00", "2025-01-01T09:00:00+08:00"],
         "ended_at": ["2026-03-01T10:00:00+08:00", "2025-01-01T10:00:00+08:00"]},
        # along the road from outside the grid to 50 m short of its middle: exactly half its road within 50 m
        geometry=[shapely.LineString([(-200, 500), (450, 500)]), shapely.LineString([(1500, 100), (1500, 900)])],
        crs=4549,
    )
    return grids, roads, tracks


def test_coverage_known_answers(square):
    grids, roads, tracks = square
    cov = patrol_coverage(tracks, grids, roads, days=30, now=NOW).set_index("code")
    assert list(cov.columns) == ["name", "level"] + COVERAGE_COLUMNS + ["geometry"]
    a, b, p = cov.loc["A"], cov.loc["B"], cov.loc["P"]
    assert a["road_km"] == pytest.approx(1.0)
    assert a["road_km_covered"] == pytest.approx(0.5, abs=1e-4)
    assert a["road_share"] == pytest.approx(0.5, abs=1e-4)
    assert a["km_patrolled"] == pytest.approx(0.45)  # the part of the track inside A
    assert a["n_tracks"] == 1 and bool(a["patrolled"])
    assert a["last_patrolled"] == pd.Timestamp("2026-03-01T10:00:00+08:00")
    assert a["days_since_patrol"] == pytest.approx(8 + 14 / 24)
    # B: only a track from last year runs through it
    assert not bool(b["patrolled"]) and b["km_patrolled"] == 0 and b["road_share"] == 0
    assert b["last_patrolled"] == pd.Timestamp("2025-01-01T10:00:00+08:00")
    # the parent grid is measured on its own: 2 km of road, 0.5 km covered
    assert p["road_km"] == pytest.approx(2.0) and p["road_share"] == pytest.approx(0.25, abs=1e-4)


def test_window_and_now(square):
    grids, roads, tracks = square
    cov = patrol_coverage(tracks, grids, roads, days=500, now=NOW).set_index("code")
    assert bool(cov.loc["B", "patrolled"]) and cov.loc["B", "km_patrolled"] == pytest.approx(0.8)
    # B's road is covered 50 m either side of x=1500: 100 m of 1000 m
    assert cov.loc["B", "road_share"] == pytest.approx(0.1, abs=1e-3)
    # before the track happened, nothing was patrolled and nothing "last patrolled"
    early = patrol_coverage(tracks, grids, roads, days=30, now="2024-12-01T00:00:00+08:00")
    assert not early["patrolled"].any() and early["last_patrolled"].isna().all()
    assert early["days_since_patrol"].isna().all()


def test_inputs_are_not_mutated_and_roads_are_optional(square):
    grids, roads, tracks = square
    before = (grids.copy(), roads.copy(), tracks.copy())
    cov = patrol_coverage(tracks, grids, None, days=30, now=NOW)
    assert cov["road_km"].isna().all() and cov["road_share"].isna().all()
    pd.testing.assert_frame_equal(grids, before[0])
    pd.testing.assert_frame_equal(tracks, before[2])


def test_unpatrolled_grids_longest_neglected_first(square):
    grids, _, tracks = square
    extra = gpd.GeoDataFrame({"code": ["C"], "name": ["丙"]}, geometry=[shapely.box(5000, 0, 6000, 1000)], crs=4549)
    all_grids = gpd.GeoDataFrame(pd.concat([grids, extra], ignore_index=True), crs=4549)
    un = unpatrolled_grids(tracks, all_grids, days=30, now=NOW)
    assert un["code"].tolist() == ["C", "B"]  # never patrolled first, then the oldest patrol


def test_no_tracks_means_nothing_patrolled(square):
    grids, roads, tracks = square
    cov = patrol_coverage(tracks.iloc[0:0], grids, roads, days=30, now=NOW)
    assert not cov["patrolled"].any() and (cov["road_share"] == 0).all()


def test_coverage_checks_inputs(square):
    grids, roads, tracks = square
    with pytest.raises(CRSError, match="differs"):
        patrol_coverage(tracks.set_crs(4547, allow_override=True), grids, roads, now=NOW)
    with pytest.raises(CRSError, match="degrees"):
        patrol_coverage(tracks.set_crs(4326, allow_override=True), grids.set_crs(4326, allow_override=True), now=NOW)
    with pytest.raises(InputError, match="`days` is 0"):
        patrol_coverage(tracks, grids, roads, days=0, now=NOW)
    with pytest.raises(SchemaError, match="must hold polygons"):
        patrol_coverage(tracks, tracks, roads, now=NOW)
    bad = tracks.assign(ended_at=["soon", None])
    with pytest.raises(SchemaError, match="'ended_at' has 1 value"):
        patrol_coverage(bad, grids, roads, now=NOW)


def test_to_local_times_reads_text_and_datetimes():
    s = to_local_times(["2026-03-01T01:30:00Z", "2026-03-01 09:30", None, "", pd.Timestamp("2026-03-01T09:30")])
    assert s.iloc[0] == s.iloc[1] == s.iloc[4] == pd.Timestamp("2026-03-01T09:30+08:00")
    assert s.iloc[2] is pd.NaT and s.iloc[3] is pd.NaT
    assert str(s.dt.tz) == "UTC+08:00"


# ----------------------------------------------------------------------------- store
def test_import_creates_store_readable_by_pyogrio_and_reimport_adds_nothing(tmp_path):
    (tmp_path / "d1.gpx").write_text(DAY1, encoding="utf-8")
    (tmp_path / "d2.gpx").write_text(DAY2, encoding="utf-8")
    store = tmp_path / "patrol.gpkg"
    res = import_gpx(store, [tmp_path / "d1.gpx", tmp_path / "d2.gpx"])
    assert (res.n_added, res.n_skipped) == (2, 0)
    info = pyogrio.read_info(store, layer="patrol_tracks")
    assert info["crs"] == "EPSG:4549" and info["geometry_type"] == "LineString" and info["features"] == 2
    back = pyogrio.read_dataframe(store, layer="patrol_tracks")
    src = pd.concat([read_gpx(tmp_path / "d1.gpx"), read_gpx(tmp_path / "d2.gpx")], ignore_index=True)
    assert back["track_id"].tolist() == src["track_id"].tolist()
    assert back["inspector"].tolist() == ["王网格", "王网格"]
    assert back["started_at"].tolist() == ["2026-03-01T09:30:00+08:00", "2026-03-02T09:30:00+08:00"]
    assert np.allclose(back.length, src.length) and res.km_added == pytest.approx(src.length.sum() / 1000)
    again = import_gpx(store, [tmp_path / "d2.gpx", tmp_path / "d1.gpx"])
    assert (again.n_added, again.n_skipped) == (0, 2)
    assert len(read_tracks(store)) == 2


def test_bad_file_in_a_batch_changes_nothing(tmp_path):
    (tmp_path / "d1.gpx").write_text(DAY1, encoding="utf-8")
    (tmp_path / "bad.gpx").write_text(DAY2[:120], encoding="utf-8")
    store = tmp_path / "patrol.gpkg"
    with pytest.raises(ReadError, match="bad.gpx"):
        import_gpx(store, [tmp_path / "d1.gpx", tmp_path / "bad.gpx"])
    assert not store.exists()  # not even created
    import_gpx(store, [tmp_path / "d1.gpx"])
    digest = sha(store)
    (tmp_path / "d2.gpx").write_text(DAY2, encoding="utf-8")
    with pytest.raises(ReadError):
        import_gpx(store, [tmp_path / "d2.gpx", tmp_path / "bad.gpx"])
    assert sha(store) == digest


def test_failed_write_rolls_back(tmp_path, monkeypatch):
    (tmp_path / "d1.gpx").write_text(DAY1, encoding="utf-8")
    (tmp_path / "d2.gpx").write_text(DAY2, encoding="utf-8")
    store = tmp_path / "patrol.gpkg"
    import_gpx(store, [tmp_path / "d1.gpx"])
    digest = sha(store)
    tracks = read_gpx(tmp_path / "d2.gpx")
    tracks = pd.concat([tracks, tracks.assign(track_id="trk-empty", geometry=[shapely.LineString()])],
                       ignore_index=True)
    tracks = gpd.GeoDataFrame(tracks, geometry="geometry", crs=4549)
    with pytest.raises(InputError, match="trk-empty has no geometry"):
        import_tracks(store, tracks)  # the first row was inserted before the failure
    assert sha(store) == digest and len(read_tracks(store)) == 1


def test_append_to_gdal_store_with_spatial_index(tmp_path):
    """A store whose layers GDAL wrote (R-tree triggers, other layers) takes tracks too."""
    store = tmp_path / "store.gpkg"
    findings = gpd.GeoDataFrame({"finding_id": ["F1"]}, geometry=[shapely.Point(494000, 3517000)], crs=4549)
    pyogrio.write_dataframe(findings, store, layer="findings")
    (tmp_path / "d1.gpx").write_text(DAY1, encoding="utf-8")
    first = read_gpx(tmp_path / "d1.gpx")
    pyogrio.write_dataframe(first, store, layer="patrol_tracks")
    (tmp_path / "d2.gpx").write_text(DAY2, encoding="utf-8")
    res = import_gpx(store, [tmp_path / "d1.gpx", tmp_path / "d2.gpx"])
    assert (res.n_added, res.n_skipped) == (1, 1)
    assert pyogrio.read_info(store, layer="patrol_tracks")["features"] == 2
    assert len(pyogrio.read_dataframe(store, layer="findings")) == 1
    with sqlite3.connect(store) as con:
        boxes = con.execute("SELECT minx, maxx, miny, maxy FROM rtree_patrol_tracks_geom ORDER BY id").fetchall()
    assert len(boxes) == 2
    x0, y0, x1, y1 = read_tracks(store).geometry.iloc[1].bounds
    assert boxes[1][0] <= x0 and boxes[1][1] >= x1 and boxes[1][2] <= y0 and boxes[1][3] >= y1
    # a spatially filtered read uses the index
    hit = pyogrio.read_dataframe(store, layer="patrol_tracks", bbox=(x0, y0, x1, y1))
    assert res.track_ids[0] in hit["track_id"].tolist()


def test_store_must_be_a_geopackage(tmp_path):
    (tmp_path / "d1.gpx").write_text(DAY1, encoding="utf-8")
    not_gpkg = tmp_path / "notes.gpkg"
    not_gpkg.write_text("hello", encoding="utf-8")
    with pytest.raises(ReadError, match="not a GeoPackage"):
        import_gpx(not_gpkg, [tmp_path / "d1.gpx"])
    assert not_gpkg.read_text(encoding="utf-8") == "hello"
    with pytest.raises(InputError, match="ending in .gpkg"):
        import_gpx(tmp_path / "store.sqlite", [tmp_path / "d1.gpx"])
    with pytest.raises(ReadError, match="does not exist"):
        read_tracks(tmp_path / "none.gpkg")


# ----------------------------------------------------------------------------- sample district
def test_sample_district_coverage():
    path = sample_gpkg_path()
    tracks = pyogrio.read_dataframe(path, layer="patrol_tracks")
    grids = pyogrio.read_dataframe(path, layer="grid_community_village")
    roads = pyogrio.read_dataframe(path, layer="roads")
    cov = patrol_coverage(tracks, grids, roads, days=30, now="2026-03-31T18:00:00+08:00")
    assert len(cov) == len(grids)
    # each sample track is laid out through its own community
    for code in tracks["community_code"]:
        row = cov.set_index("code").loc[code]
        assert bool(row["patrolled"]) and 0 < row["road_share"] <= 1
    assert cov["road_km"].sum() == pytest.approx(roads.length.sum() / 1000, rel=0.02)
    assert cov["km_patrolled"].sum() == pytest.approx(tracks.length.sum() / 1000, rel=0.01)
    assert (cov["road_km_covered"] <= cov["road_km"] + 1e-9).all()
    none = patrol_coverage(tracks, grids, roads, days=5, now="2026-03-31T18:00:00+08:00")
    assert not none["patrolled"].any()

"""Repeat-dumping hotspots: clusters in space (DBSCAN on a radius graph) split in time."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gridtool.errors import CRSError, InputError, SchemaError
from gridtool.hotspots import HOTSPOT_COLUMNS, cluster_points, hotspots
from gridtool.paths import sample_gpkg_path

NOW = "2026-07-01T00:00:00+08:00"


def findings(rows: list[tuple], crs: int = 4549) -> gpd.GeoDataFrame:
    """rows: (finding_id, x, y, found_at[, finding_type[, status[, community_code]]])."""
    recs = []
    for r in rows:
        fid, x, y, t, *rest = r
        recs.append({"finding_id": fid, "found_at": t,
                     "finding_type": rest[0] if len(rest) > 0 else "illegal_dumping",
                     "status": rest[1] if len(rest) > 1 else "registered",
                     "community_code": rest[2] if len(rest) > 2 else "C1",
                     "street_code": "S1", "geometry": shapely.Point(x, y)})
    return gpd.GeoDataFrame(recs, geometry="geometry", crs=crs)


@pytest.fixture
def sites():
    return findings([
        # site A near (0, 0): three findings in three months
        ("A1", 0, 0, "2026-01-05T10:00:00+08:00"), ("A2", 60, 0, "2026-02-05T10:00:00+08:00"),
        ("A3", 0, 70, "2026-03-05T10:00:00+08:00", "legacy_waste", "closed", "C2"),
        # site B near (1000, 1000): two in Jan 2025, then a 17-month pause, then three in June 2026
        ("B1", 1000, 1000, "2025-01-01T10:00:00+08:00"), ("B2", 1030, 1000, "2025-01-02T10:00:00+08:00"),
        ("B3", 1060, 1000, "2026-06-01T10:00:00+08:00"), ("B4", 1090, 1000, "2026-06-02T10:00:00+08:00"),
        ("B5", 1000, 1040, "2026-06-20T10:00:00+08:00"),
        # far away, alone
        ("Z1", 5000, 5000, "2026-01-01T10:00:00+08:00"),
    ])


def test_known_hotspots_ranked(sites):
    hot = hotspots(sites, radius_m=100, min_count=3, time_window_days=365, now=NOW)
    assert list(hot.columns) == HOTSPOT_COLUMNS + ["geometry"]
    assert hot["finding_ids"].tolist() == ["B3,B4,B5", "A1,A2,A3"]  # B's recent 3 outrank A's older 3 on score
    assert hot["hotspot_id"].tolist() == ["HS001", "HS002"] and hot["rank"].tolist() == [1, 2]
    b, a = hot.iloc[0], hot.iloc[1]
    assert a["n_findings"] == 3 and a["n_months"] == 3 and b["n_months"] == 1
    assert a["first_found"] == pd.Timestamp("2026-01-05T10:00:00+08:00")
    assert a["last_found"] == pd.Timestamp("2026-03-05T10:00:00+08:00")
    ages = np.array([(pd.Timestamp(NOW) - pd.Timestamp(t)) / pd.Timedelta(days=1)
                     for t in ["2026-01-05T10:00+08:00", "2026-02-05T10:00+08:00", "2026-03-05T10:00+08:00"]])
    assert a["score"] == pytest.approx(np.sum(0.5 ** (ages / 180)))
    assert a["community_code"] == "C1" and a["street_code"] == "S1"  # most common member code


def test_time_split_and_no_split(sites):
    whole = hotspots(sites, radius_m=100, min_count=3, time_window_days=None, now=NOW)
    assert whole["finding_ids"].tolist() == ["B1,B2,B3,B4,B5", "A1,A2,A3"]  # more findings first
    # with a short window even site A (monthly findings) falls apart
    short = hotspots(sites, radius_m=100, min_count=3, time_window_days=20, now=NOW)
    assert short["finding_ids"].tolist() == ["B3,B4,B5"]
    two = hotspots(sites, radius_m=100, min_count=2, time_window_days=365, now=NOW)
    assert sorted(two["finding_ids"]) == ["A1,A2,A3", "B1,B2", "B3,B4,B5"]


def test_polygon_is_hull_buffered_by_margin(sites):
    hot = hotspots(sites, radius_m=100, min_count=3, now=NOW).set_index("finding_ids")
    poly = hot.loc["A1,A2,A3", "geometry"]
    hull = shapely.Polygon([(0, 0), (60, 0), (0, 70)])
    assert poly.area == pytest.approx(hull.buffer(50).area, rel=0.005)
    assert poly.hausdorff_distance(hull.buffer(50)) < 2.0
    assert poly.contains(shapely.MultiPoint([(0, 0), (60, 0), (0, 70)]))
    one_spot = findings([(f"S{i}", 10, 10, f"2026-0{i}-01") for i in range(1, 4)])
    circle = hotspots(one_spot, now=NOW).geometry.iloc[0]
    assert circle.area == pytest.approx(math.pi * 50**2, rel=0.02)


def test_types_and_statuses_filter(sites):
    marked = sites.copy()
    marked.loc[marked["finding_id"] == "A2", "status"] = "duplicate"
    assert hotspots(marked, now=NOW)["finding_ids"].tolist() == ["B3,B4,B5"]
    marked = sites.copy()
    marked.loc[marked["finding_id"] == "A2", "finding_type"] = "overflowing_point"
    assert hotspots(marked, now=NOW)["finding_ids"].tolist() == ["B3,B4,B5"]
    assert len(hotspots(marked, now=NOW, types=None)) == 2
    assert sites.equals(sites.copy())


def test_empty_and_too_few():
    empty = hotspots(findings([("X", 0, 0, "2026-01-01")]).iloc[0:0], now=NOW)
    assert list(empty.columns) == HOTSPOT_COLUMNS + ["geometry"] and len(empty) == 0
    two = findings([("X", 0, 0, "2026-01-01"), ("Y", 1, 1, "2026-01-02")])
    assert len(hotspots(two, now=NOW)) == 0


def test_dbscan_core_and_border_points():
    # a dense core of 3, a border point 90 m east of the last core point, noise 300 m away
    xy = np.array([[0, 0], [20, 0], [40, 0], [130, 0], [430, 0]], float)
    labels = cluster_points(xy, radius_m=100, min_count=3)
    assert labels.tolist() == [0, 0, 0, 0, -1]
    # a border point between two clusters joins the nearer core point's cluster
    xy = np.array([[0, 0], [10, 0], [20, 0], [300, 0], [310, 0], [320, 0], [230, 0]], float)
    labels = cluster_points(xy, radius_m=90, min_count=3)
    assert labels[6] == labels[3] != labels[0]
    assert cluster_points(np.zeros((0, 2)), radius_m=10, min_count=2).tolist() == []


def test_hotspot_input_checks(sites):
    with pytest.raises(InputError, match="`radius_m` is -1"):
        hotspots(sites, radius_m=-1)
    with pytest.raises(InputError, match="`min_count` is 1"):
        hotspots(sites, min_count=1)
    with pytest.raises(SchemaError, match="found_at"):
        hotspots(sites.drop(columns="found_at"))
    with pytest.raises(CRSError, match="degrees"):
        hotspots(sites.set_crs(4326, allow_override=True), now=NOW)
    with pytest.raises(SchemaError, match="must be points"):
        hotspots(sites.assign(geometry=sites.buffer(1)), now=NOW)


def test_sample_district_findings():
    f = pyogrio.read_dataframe(sample_gpkg_path(), layer="findings")
    assert len(hotspots(f, now="2026-03-31")) == 0  # the sample's findings are at separate places
    wide = hotspots(f, radius_m=5000, min_count=2, types=None, now="2026-03-31")
    ids = ",".join(wide["finding_ids"]).split(",")
    excluded = set(f.loc[f["status"].isin(["duplicate", "rejected"]), "finding_id"])
    assert excluded and not excluded & set(ids)
    assert wide["n_findings"].sum() == len(ids) and wide["rank"].tolist() == list(range(1, len(wide) + 1))

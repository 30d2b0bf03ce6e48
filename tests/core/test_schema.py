"""Alias renaming and validation against the kinds table."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gridtool.errors import SchemaError
from gridtool.kinds import KINDS
from gridtool.schema import canonical_for, rename_aliases, validate


def _pts(n=2, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.Point(490_000 + i, 3_514_000) for i in range(n)], crs=4549)


def _polys(n=2, **cols):
    return gpd.GeoDataFrame(cols, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)], crs=4549)


@pytest.mark.parametrize(
    "alias, kind, expected",
    [
        ("名称", "transfer_stations", "name"), ("NAME", "transfer_stations", "name"), ("Name", "roads", "name"),
        ("编码", "grid_street_town", "code"), ("代码", "grid_street_town", "code"),
        ("人口", "grid_community_village", "population"), ("户数", "grid_street_town", "households"),
        ("规模", "transfer_stations", "capacity_tpd"), ("能力（t/d）", "garden_waste_stations", "capacity_tpd"),
        ("capacity(t/d)", "transfer_stations", "capacity_tpd"), ("设计规模(t/d)", "transfer_stations", "capacity_tpd"),
        ("网格员", "grid_street_town", "inspector"), ("责任单位", "findings", "responsible_unit"),
        ("上级编码", "grid_community_village", "parent_code"), ("类型", "collection_points", "point_type"),
        ("类型", "construction_waste_sites", "site_type"), ("类型", "grid_community_village", "community_kind"),
        (" 发现时间 ", "findings", "found_at"),
    ],
)
def test_aliases(alias, kind, expected):
    assert canonical_for(alias, kind) == expected


def test_alias_not_in_kind_is_left_alone():
    assert canonical_for("规模", "grid_street_town") is None
    assert canonical_for("whatever", "roads") is None


def test_rename_aliases_keeps_existing_canonical_and_does_not_mutate():
    df = pd.DataFrame({"name": ["a"], "名称": ["b"], "编码": ["c"]})
    out, renamed = rename_aliases(df, "grid_street_town")
    assert renamed == {"编码": "code"}
    assert list(out.columns) == ["name", "名称", "code"]
    assert list(df.columns) == ["name", "名称", "编码"]


def test_csv_of_names_and_points_is_enough_for_a_facility_kind():
    out = validate(_pts(2, 名称=["甲", "乙"]), "transfer_stations")
    assert list(out.columns[:3]) == ["fac_id", "name", "street_code"]
    assert out["name"].tolist() == ["甲", "乙"]
    assert out["capacity_tpd"].isna().all() and out["capacity_tpd"].dtype == "float64"
    assert out.geometry.name == "geometry" and out.crs.to_epsg() == 4549


def test_casts():
    g = _polys(3, 编码=[320404.0, "320405", "x"], name=["a", "b", "c"], 人口=["1,200", 5, None], area_km2=["1.5", 2, ""])
    out = validate(g, "grid_street_town")
    assert out["code"].tolist() == ["320404", "320405", "x"]
    assert out["population"].dtype == "Int64" and out["population"].tolist()[:2] == [1200, 5]
    assert pd.isna(out["population"].iloc[2])
    assert out["area_km2"].tolist()[:2] == [1.5, 2.0]


def test_datetimes_are_iso_with_offset_and_dates_plain():
    g = _pts(2, found_at=["2026-03-01 09:30", "2026-03-02T10:00:00+00:00"], deadline=["2026-03-10", None])
    out = validate(g, "findings")
    assert out["found_at"].tolist() == ["2026-03-01T09:30:00+08:00", "2026-03-02T10:00:00+00:00"]
    assert out["deadline"].tolist() == ["2026-03-10", None]


def test_every_problem_reported_at_once():
    g = gpd.GeoDataFrame(
        {"name": ["a", None, "c"], "population": ["1", "lots", "2.5"], "found": [1, 2, 3]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.Point(0, 0), None],
        crs=4549,
    )
    with pytest.raises(SchemaError) as err:
        validate(g, "grid_street_town", name="grids.shp")
    problems = err.value.problems
    text = str(err.value)
    assert "grids.shp" in text and f"({len(problems)} problems)" in text
    assert any("'code'" in p and "missing" in p for p in problems)
    assert any("'name'" in p and "row 2" in p for p in problems)
    assert any("'population'" in p and "'lots'" in p for p in problems)
    assert any("'population'" in p and "decimals" in p for p in problems)
    assert any("no geometry" in p and "row 3" in p for p in problems)
    assert any("Polygon" in p and "Point" in p for p in problems)
    assert len(problems) == 6
    assert "\n" not in text


def test_multi_geometries_accepted_and_other_kind_takes_anything():
    g = gpd.GeoDataFrame({"code": ["1"], "name": ["a"]}, geometry=[shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])], crs=4549)
    assert len(validate(g, "grid_district")) == 1
    mixed = gpd.GeoDataFrame({"x": [1, 2]}, geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=4549)
    assert list(validate(mixed, "other").columns) == ["x", "geometry"]


def test_validate_every_kind_on_an_empty_frame_adds_all_columns():
    for name, kind in KINDS.items():
        empty = gpd.GeoDataFrame({c: [] for c in kind.required}, geometry=[], crs=4549)
        out = validate(empty, name)
        assert [c for c in out.columns if c != "geometry"] == kind.column_names


def test_unknown_kind():
    with pytest.raises(ValueError, match="expected one of"):
        validate(_pts(1), "bins")

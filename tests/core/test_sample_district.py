"""The sample district ``sample_geodata/zhonglou.gpkg``: layers, nesting, totals, network, rebuild."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridtool.kinds import KINDS, WORK_EPSG

ROOT = Path(__file__).resolve().parents[2]
GPKG = ROOT / "sample_geodata" / "zhonglou.gpkg"
SCRIPT = ROOT / "sample_geodata" / "build_zhonglou.py"
DISTRICT_CODE = "320404000000"
STREET_NAMES = {"五星街道", "永红街道", "北港街道", "西林街道", "南大街街道", "荷花池街道", "新闸街道", "邹区镇"}
MIN_COUNTS = {
    "grid_district": 1, "grid_street_town": 8, "grid_community_village": 109, "grid_industrial_park": 2,
    "roads": 3000, "transfer_stations": 4, "collection_points": 500, "recycling_points": 100,
    "hazardous_collection_points": 3, "construction_waste_sites": 2, "garden_waste_stations": 2,
    "candidate_sites": 60, "findings": 10, "patrol_tracks": 1,
}


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(GPKG, layer=name) for name in pyogrio.list_layers(GPKG)[:, 0]}


def test_layers_present_with_kind_columns_and_counts(layers):
    assert set(MIN_COUNTS) <= set(layers)
    for name, minimum in MIN_COUNTS.items():
        gdf = layers[name]
        assert len(gdf) >= minimum, name
        assert set(KINDS[name].column_names) <= set(gdf.columns), name
        assert gdf.crs.to_epsg() == WORK_EPSG, name
        assert gdf.geometry.notna().all() and gdf.geometry.is_valid.all(), name
        assert not gdf.geometry.is_empty.any(), name
    assert len(layers["grid_district"]) == 1
    assert len(layers["grid_street_town"]) == 8
    assert len(layers["grid_community_village"]) == 109
    assert (layers["grid_community_village"].geometry.geom_type == "Polygon").all()


def test_grid_codes_and_parents(layers):
    d = layers["grid_district"].iloc[0]
    assert (d["code"], d["name"], d["level"]) == (DISTRICT_CODE, "钟楼区", "district")
    st = layers["grid_street_town"]
    assert set(st["name"]) == STREET_NAMES
    assert (st["level"] == "street_town").all() and (st["parent_code"] == d["code"]).all()
    cm = layers["grid_community_village"]
    assert cm["code"].str.fullmatch(r"\d{12}").all() and cm["code"].is_unique
    assert set(cm["parent_code"]) == set(st["code"])
    assert set(cm["community_kind"]) == {"社区", "村"}
    assert (cm["community_kind"] == "村").sum() == 15
    parks = layers["grid_industrial_park"]
    assert {"钟楼经济开发区", "钟楼高新园(邹区镇)"} <= set(parks["name"])
    assert (parks["parent_code"] == DISTRICT_CODE).all()


def test_levels_nest_exactly(layers):
    st = layers["grid_street_town"].set_index("code").geometry
    cm = layers["grid_community_village"]
    for code, street in st.items():
        mine = cm[cm["parent_code"] == code].geometry
        for g in mine:
            assert g.difference(street).area < 1.0
        assert shapely.union_all(mine.to_numpy()).symmetric_difference(street).area < 1.0
    district = layers["grid_district"].geometry.iloc[0]
    assert shapely.union_all(st.to_numpy()).symmetric_difference(district).area < 1.0
    # the district is the real outline (134.7 km², AMap fence via Vonng/adcode)
    assert district.area / 1e6 == pytest.approx(134.67, abs=0.05)
    # communities do not overlap each other
    assert sum(cm.geometry.area) == pytest.approx(district.area, abs=5.0)


def test_population_and_households_sum_at_each_level(layers):
    cm, st, d = layers["grid_community_village"], layers["grid_street_town"], layers["grid_district"]
    assert cm["population"].sum() == 668_500
    assert st["population"].sum() == 668_500
    assert d["population"].iloc[0] == 668_500
    for row in st.itertuples():
        mine = cm[cm["parent_code"] == row.code]
        assert mine["population"].sum() == row.population
        assert mine["households"].sum() == row.households
    assert d["households"].iloc[0] == cm["households"].sum()
    zouqu = st.loc[st["name"] == "邹区镇", "population"].iloc[0]
    assert 34_000 <= zouqu <= 60_000
    ratio = cm["population"] / cm["households"]
    assert ratio.between(2.3, 3.0).all()


def _components(lines) -> int:
    a = np.round(shapely.get_coordinates(shapely.get_point(lines, 0)), 2)
    b = np.round(shapely.get_coordinates(shapely.get_point(lines, -1)), 2)
    keys: dict[tuple[float, float], int] = {}
    ia = [keys.setdefault(tuple(p), len(keys)) for p in a]
    ib = [keys.setdefault(tuple(p), len(keys)) for p in b]
    m = coo_matrix((np.ones(len(ia)), (ia, ib)), shape=(len(keys), len(keys)))
    return connected_components(m, directed=False)[0]


def test_roads_noded_and_connected(layers):
    roads = layers["roads"]
    assert set(roads["road_class"]) == {"arterial", "secondary", "local"}
    assert (roads.geometry.geom_type == "LineString").all()
    assert roads["road_id"].is_unique
    assert _components(roads.geometry.to_numpy()) == 1
    district = layers["grid_district"].geometry.iloc[0]
    assert roads.geometry.within(district.buffer(0.1)).all()


def test_collection_points_near_roads_and_gaps_left(layers):
    roads, cp = layers["roads"], layers["collection_points"]
    _, dist = shapely.STRtree(roads.geometry.to_numpy()).query_nearest(cp.geometry.to_numpy(), return_distance=True)
    assert dist.max() <= 20.0
    assert cp["fac_id"].is_unique and cp["community_code"].notna().all()
    cm = layers["grid_community_village"]
    without = set(cm["code"]) - set(cp["community_code"])
    assert without and all(code.startswith("320404116") for code in without)


def test_facilities_joined_to_grids(layers):
    streets = set(layers["grid_street_town"]["code"])
    for name in ["transfer_stations", "collection_points", "recycling_points", "hazardous_collection_points",
                 "construction_waste_sites", "garden_waste_stations", "candidate_sites", "findings"]:
        assert layers[name]["street_code"].isin(streets).all(), name
    ts = layers["transfer_stations"]
    assert set(ts["size_class"]) <= {"小型", "中型", "大型"} and (ts["size_class"] == "中型").sum() >= 1
    hz = layers["hazardous_collection_points"]
    assert hz["park_code"].isin(set(layers["grid_industrial_park"]["code"])).all()
    f = layers["findings"]
    assert f["finding_id"].str.fullmatch(r"ZL-2026-\d{6}").all()
    assert f["found_at"].str.endswith("+08:00").all()
    assert f["deadline"].str.fullmatch(r"2026-\d\d-\d\d").all()


@pytest.mark.slow
def test_rebuild_is_identical(tmp_path, layers):
    """Building again (about 4 s) gives the same features as the committed file."""
    spec = importlib.util.spec_from_file_location("build_zhonglou", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.build(tmp_path / "again.gpkg")
    assert list(pyogrio.list_layers(out)[:, 0]) == list(pyogrio.list_layers(GPKG)[:, 0])
    for name, committed in layers.items():
        assert_geodataframe_equal(gpd.read_file(out, layer=name), committed, check_less_precise=False)

"""gridtool.demand: demand points spread over community grids."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridtool.demand import demand_from_grids, waste_tpd
from gridtool.errors import CRSError, InputError, SchemaError


def communities():
    return gpd.GeoDataFrame(
        {"code": ["C1", "C2", "C3"], "name": ["东", "西", "小"], "parent_code": ["S1", "S1", "S2"],
         "population": [4000, 1000, 50], "households": [1600, 400, 20]},
        geometry=[shapely.box(0, 0, 400, 400), shapely.box(400, 0, 600, 200), shapely.box(700, 10, 720, 30)],
        crs=4549,
    )


def test_lattice_and_totals():
    dem = demand_from_grids(communities(), spacing_m=100)
    counts = dem.groupby("community_code").size().to_dict()
    assert counts == {"C1": 16, "C2": 4, "C3": 1}  # C3 is too small for a lattice point
    xy = shapely.get_coordinates(dem.geometry.values)
    assert set(np.round(xy[dem["community_code"] == "C1"][:, 0])) == {50.0, 150.0, 250.0, 350.0}
    tot = dem.groupby("community_code")[["population", "households", "waste_tpd"]].sum()
    assert tot.loc["C1", "population"] == pytest.approx(4000)
    assert tot.loc["C2", "households"] == pytest.approx(400)
    assert tot.loc["C1", "waste_tpd"] == pytest.approx(3.6)  # 4000 people x 0.9 kg
    assert dem.loc[dem["community_code"] == "C3", "street_code"].tolist() == ["S2"]
    assert dem.crs.to_epsg() == 4549
    # deterministic
    assert dem.geometry.equals(demand_from_grids(communities(), spacing_m=100).geometry)


def test_rate_and_residential_mask():
    homes = gpd.GeoSeries([shapely.box(0, 0, 200, 200)], crs=4549)
    dem = demand_from_grids(communities(), spacing_m=100, residential=homes, rate_kg_per_person_day=1.2)
    c1 = dem[dem["community_code"] == "C1"]
    assert len(c1) == 4 and c1["population"].sum() == pytest.approx(4000)
    assert c1["waste_tpd"].sum() == pytest.approx(4.8)
    # communities without residential land keep their whole area
    assert (dem["community_code"] == "C2").sum() == 4
    assert waste_tpd([1000]) == pytest.approx([0.9])


def test_bad_inputs():
    with pytest.raises(SchemaError, match="population"):
        demand_from_grids(communities().drop(columns="population"))
    with pytest.raises(InputError, match="spacing_m"):
        demand_from_grids(communities(), spacing_m=0)
    with pytest.raises(CRSError, match="geographic"):
        demand_from_grids(communities().set_crs(4326, allow_override=True))
    with pytest.raises(InputError, match="Polygon"):
        demand_from_grids(gpd.GeoDataFrame({"code": ["a"], "population": [1]}, geometry=[shapely.Point(0, 0)], crs=4549))

"""siting.site on GeoDataFrames (hand-built and the sample district) and scenarios."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from gridtool.errors import CRSError, InfeasibleError, InputError, SchemaError
from gridtool.scenarios import (compare_scenarios, evaluate_scenario, load_scenarios, make_scenario,
                                save_scenarios, scenario_layers)
from gridtool.siting import site

SAMPLE = Path(__file__).resolve().parents[2] / "sample_geodata" / "zhonglou.gpkg"
CRS = 4549
X0, Y0 = 500_000.0, 3_500_000.0


def _pts(coords, crs=CRS, **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0 + y) for x, y in coords], crs=crs)


@pytest.fixture()
def two_towns():
    # two clusters of demand 10 km apart; candidates in each cluster and one halfway
    demand = _pts([(0, 0), (100, 0), (0, 100), (10_000, 0), (10_100, 0), (10_000, 100)],
                  population=[10, 10, 10, 50, 50, 50], waste_tpd=[1.0, 1, 1, 2, 2, 2])
    cand = _pts([(50, 50), (10_050, 50), (5_000, 0)], cand_id=["A", "B", "C"], capacity_tpd=[5.0, 5.0, 20.0])
    existing = _pts([(5_050, 0)], fac_id=["T1"], capacity_tpd=[4.0])
    return demand, cand, existing


def test_site_models_on_hand_built_layers(two_towns):
    demand, cand, existing = two_towns
    o = site(demand, cand, model="lscp", radius_m=200)
    assert o.sites["cand_id"].tolist() == ["A", "B"]
    assert o.demand["covered"].all()
    assert len(o.service_areas) == 2 and o.service_areas.geometry.area.gt(0).all()
    o = site(demand, cand, model="mclp", radius_m=200, p=1)
    assert o.sites["cand_id"].tolist() == ["B"] and o.result.objective == 150
    o = site(demand, cand, model="p-median", p=2)
    assert o.sites["cand_id"].tolist() == ["A", "B"] and o.result.optimal
    assert o.sites["n_demand"].tolist() == [3, 3] and o.sites["load"].tolist() == [30, 150]
    o = site(demand, cand, model="p-center", p=1)
    assert o.sites["cand_id"].tolist() == ["C"]
    o = site(demand, cand, model="capacitated", p=2)
    assert o.sites["cand_id"].tolist() == ["A", "B"]
    # B holds 5 t/d, so one 2 t/d point of the second town goes to A (cheaper than opening C)
    assert o.sites["load_tpd"].tolist() == [5.0, 4.0] and o.result.optimal


def test_existing_sites_stay_open_unless_allowed_to_close(two_towns):
    demand, cand, existing = two_towns
    o = site(demand, cand, model="p-median", p=2, existing=existing)
    assert "existing" in o.sites["source"].tolist()
    assert sorted(o.sites["source"].tolist()) == ["candidate", "existing"]
    o = site(demand, cand, model="p-median", p=2, existing=existing, allow_close=True)
    assert o.sites["source"].tolist() == ["candidate", "candidate"]


def test_site_errors(two_towns):
    demand, cand, _ = two_towns
    with pytest.raises(InfeasibleError, match="demand points"):
        site(demand, cand, model="lscp", radius_m=10)
    with pytest.raises(InputError, match="needs radius_m"):
        site(demand, cand, model="mclp", p=1)
    with pytest.raises(SchemaError, match="no column 'people'"):
        site(demand, cand, model="p-median", p=1, weights_col="people")
    with pytest.raises(CRSError, match="no CRS"):
        site(demand.set_crs(None, allow_override=True), cand, model="p-center", p=1)
    with pytest.raises(InfeasibleError, match="larger than the number of candidates"):
        site(demand, cand, model="p-median", p=4)


def test_scenarios_compare_save_load(tmp_path, two_towns):
    demand, cand, existing = two_towns
    base = make_scenario("existing", existing)
    prop = make_scenario("proposed", existing, added=cand.iloc[[0, 1]], closed=[0])
    table = compare_scenarios(demand, [base, prop], radius_m=200)
    assert table.loc["covered_population", "existing"] == 0
    assert table.loc["covered_population", "proposed"] == 180
    assert table.loc["max_distance_m", "proposed"] == pytest.approx(np.hypot(50, 50) + 0, rel=0.5)
    metrics, sites, _ = evaluate_scenario(demand, existing)
    assert metrics["load_tpd"] == 9.0 and metrics["overloaded_sites"] == 1
    assert sites["load_ratio"].iloc[0] == pytest.approx(9 / 4)
    layers = scenario_layers(demand, prop, radius_m=200)
    assert set(layers) == {"proposed_sites", "proposed_links"} and len(layers["proposed_links"]) == 6
    f = tmp_path / "scen.json"
    save_scenarios(f, [base, prop])
    back = load_scenarios(f)
    assert [s.name for s in back] == ["existing", "proposed"] and len(back[1].sites) == 2
    with pytest.raises(InputError, match="closed sites \\[3\\]"):
        make_scenario("x", existing, closed=[3])


def test_sample_district_transfer_stations():
    demand = gpd.read_file(SAMPLE, layer="grid_community_village")
    cand = gpd.read_file(SAMPLE, layer="candidate_sites")
    existing = gpd.read_file(SAMPLE, layer="transfer_stations")
    roads = gpd.read_file(SAMPLE, layer="roads")
    o = site(demand, cand, model="p-median", p=len(existing) + 3, existing=existing)
    assert o.result.optimal and len(o.sites) == len(existing) + 3
    assert (o.sites["source"] == "existing").sum() == len(existing)
    assert o.demand["distance_m"].max() < 10_000
    net = site(demand, cand, model="p-median", p=len(existing) + 3, existing=existing, network=roads)
    assert net.result.optimal
    # road distances are never shorter than straight lines
    assert net.result.objective >= o.result.objective - 1e-6
    o = site(demand, cand, model="lscp", radius_m=2000)
    assert o.result.optimal and o.demand["covered"].all()
    table = compare_scenarios(demand, {"existing": existing, "proposed": o.sites}, radius_m=2000)
    assert table.loc["covered_share", "proposed"] == pytest.approx(1.0)
    assert table.loc["covered_share", "existing"] < 1.0


def test_lscp_out_of_reach_names_the_finite_radius_that_works():
    # candidates at 0 and 5000 m; points 2 and 3 lie 2300 m and 800 m from their nearest one
    demand = _pts([(0, 0), (100, 0), (2_300, 0), (4_200, 0)])
    cand = _pts([(0, 0), (5_000, 0)])
    with pytest.raises(InfeasibleError) as err:
        site(demand, cand, model="lscp", radius_m=500.0)
    msg = str(err.value)
    assert msg.startswith("radius 500 m: no candidate lies within reach of demand points 2, 3 (2 in all)")
    assert "inf" not in msg
    assert "demand point 2) is 2,300 m from its nearest candidate" in msg
    assert "a radius of at least 2,300 m reaches every demand point" in msg
    out = site(demand, cand, model="lscp", radius_m=2_300.0)  # the radius named works
    assert out.result.covered.all()


def test_lscp_array_core_out_of_reach_messages():
    from gridtool.siting import lscp

    d = np.array([[0.0, 900.0], [700.0, np.inf], [np.inf, np.inf]])
    with pytest.raises(InfeasibleError) as err:
        lscp(d, 100.0)
    msg = str(err.value)
    assert "(demand point 1) is 700 m" in msg and "reaches all the others" in msg
    assert "demand points 2 (1 in all) cannot reach any candidate at all" in msg
    import scipy.sparse as sp

    with pytest.raises(InfeasibleError, match="radius they need is unknown"):
        lscp(sp.csr_matrix(np.array([[50.0, 0.0], [0.0, 0.0]])), 100.0)


def test_scenario_dict_is_the_layout_of_the_scenarios_file(tmp_path):
    import json

    from gridtool.errors import ReadError
    from gridtool.scenarios import Scenario, scenario_from_dict, scenario_to_dict

    sites = _pts([(0, 0), (500, 0)], capacity_tpd=[5.0, np.nan], _row=[0, 1])
    scen = Scenario("方案 1", sites, "p-median: 2 sites")
    d = scenario_to_dict(scen, model="p-median", params={"p": 2, "time_limit_s": float("inf")}, gap=np.float64(0.0))
    assert d["name"] == "方案 1" and d["note"] == "p-median: 2 sites" and d["crs"] == "EPSG:4549"
    assert d["params"] == {"p": 2, "time_limit_s": None} and d["gap"] == 0.0 and d["model"] == "p-median"
    assert "_row" not in d["sites"]["features"][0]["properties"]
    json.dumps(d, allow_nan=False)  # JSON-safe
    back = scenario_from_dict(d)
    assert back.name == "方案 1" and back.sites.crs.to_epsg() == CRS and len(back.sites) == 2
    assert back.sites.geometry.x.tolist() == pytest.approx([X0, X0 + 500])
    # the scenarios file holds exactly these dicts
    f = tmp_path / "scen.json"
    save_scenarios(f, [scen])
    assert json.loads(f.read_text(encoding="utf-8"))["scenarios"] == [scenario_to_dict(scen)]
    empty = scenario_from_dict(scenario_to_dict(Scenario("none", sites.iloc[:0])))
    assert len(empty.sites) == 0 and empty.sites.crs.to_epsg() == CRS
    with pytest.raises(ReadError, match="'broken' is not a gridtool scenario"):
        scenario_from_dict({"name": "broken"})
    f.write_text('{"scenarios": [{"name": "x"}]}', encoding="utf-8")
    with pytest.raises(ReadError, match="is not a gridtool scenarios file"):
        load_scenarios(f)

"""``gridtool coverage``: a hand-built GeoPackage with known answers, and the sample district."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gridtool import cli

SAMPLE = Path(__file__).resolve().parents[2] / "sample_geodata" / "zhonglou.gpkg"


@pytest.fixture()
def project(tmp_path):
    """Street S1 with communities C1 (0–1000 m) and C2 (1000–2000 m), a road comb, facilities."""
    comms = gpd.GeoDataFrame(
        {"code": ["C1", "C2"], "name": ["东社区", "西社区"], "parent_code": ["S1", "S1"],
         "population": [3000, 2000], "households": [1200, 800]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)], crs=4549)
    streets = gpd.GeoDataFrame({"code": ["S1"], "name": ["北港街道"]}, geometry=[shapely.box(0, 0, 2000, 1000)], crs=4549)
    lines = [shapely.LineString([(0, 50), (2000, 50)])] + [shapely.LineString([(x, 50), (x, 1000)]) for x in range(50, 2000, 100)]
    roads = gpd.GeoDataFrame({"name": ["r"] * len(lines)}, geometry=lines, crs=4549)
    ts = gpd.GeoDataFrame({"name": ["T1", "T2"], "capacity_tpd": [4.0, 0.5]},
                          geometry=gpd.points_from_xy([500, 1500], [500, 500]), crs=4549)
    path = tmp_path / "p.gpkg"
    for name, g in [("grid_community_village", comms), ("grid_street_town", streets), ("roads", roads),
                    ("transfer_stations", ts)]:
        g.to_file(path, layer=name, engine="pyogrio")
    return path


def run(argv, monkeypatch):
    # only this command, so the test does not depend on other commands being importable
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["gridtool.commands.coverage"])
    return cli.main(argv)


def test_registered():
    assert "gridtool.commands.coverage" in cli.COMMAND_MODULES


def test_straight_line_summary_out_and_report(project, tmp_path, monkeypatch, capsys):
    out, rep = tmp_path / "o.gpkg", tmp_path / "o.xlsx"
    rc = run(["coverage", "--project", str(project), "--facilities", "transfer_stations", "--demand",
              "grid_community_village", "--radius-m", "1000", "--out", str(out), "--report", str(rep), "--quiet"],
             monkeypatch)
    text = capsys.readouterr().out
    assert rc == 0
    assert "北港街道" in text and "5,000" in text
    # every 100 m lattice point lies within 1000 m of a station except the far corners
    row = next(line for line in text.splitlines() if line.startswith("北港街道"))
    assert float(row.split()[-1]) > 90.0
    assert "overloaded station T2" in text
    layers = dict(pyogrio.list_layers(out))
    assert set(layers) == {"coverage_demand", "coverage_by_grid", "coverage_uncovered", "coverage_service_areas",
                           "coverage_station_loads"}
    dem = gpd.read_file(out, layer="coverage_demand")
    assert len(dem) == 200 and dem["population"].sum() == pytest.approx(5000)
    assert set(dem.loc[~dem["reachable"], "unreachable_reason"]) <= {"beyond cutoff"}
    assert rep.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_road_network_and_standard_radius(project, monkeypatch, capsys):
    rc = run(["coverage", "--project", str(project), "--facilities", "transfer_stations", "--demand",
              "grid_community_village", "--network", "roads", "--collection-mode", "hand_cart", "--quiet"], monkeypatch)
    cap = capsys.readouterr()
    assert rc == 0
    assert "standard radius 400 m" in cap.err
    assert "road network" in cap.out and "within 400 m" in cap.out


def test_path_layer_spec_and_bad_layer(project, monkeypatch, capsys):
    rc = run(["coverage", "--project", str(project), "--facilities", f"{project}:transfer_stations", "--demand",
              "grid_community_village", "--radius-m", "300", "--quiet"], monkeypatch)
    assert rc == 0
    rc = run(["coverage", "--project", str(project), "--facilities", "nope", "--demand", "grid_community_village"],
             monkeypatch)
    err = capsys.readouterr().err
    assert rc == 2 and "'nope'" in err and "transfer_stations" in err and len(err.strip().splitlines()) == 1
    rc = run(["coverage", "--project", str(project), "--facilities", "grid_street_town", "--demand",
              "grid_community_village", "--radius-m", "100"], monkeypatch)
    assert rc == 2 and "Point" in capsys.readouterr().err
    rc = run(["coverage", "--project", str(project), "--facilities", "transfer_stations", "--demand",
              "grid_community_village", "--radius-m", "100", "--out", str(project.parent / "x.shp")], monkeypatch)
    assert rc == 2 and ".gpkg" in capsys.readouterr().err


def test_sample_district_collection_points_by_road(monkeypatch, capsys, tmp_path):
    rc = run(["coverage", "--project", str(SAMPLE), "--facilities", "collection_points", "--demand",
              "grid_community_village", "--radius-m", "300", "--network", "roads", "--quiet",
              "--report", str(tmp_path / "r.xlsx")], monkeypatch)
    text = capsys.readouterr().out
    assert rc == 0
    lines = text.splitlines()
    streets = gpd.read_file(SAMPLE, layer="grid_street_town")
    for name in streets["name"]:
        assert any(line.startswith(str(name)) for line in lines)
    total = next(line for line in lines if line.startswith("total")).split()
    pop = float(total[1].replace(",", ""))
    comms = gpd.read_file(SAMPLE, layer="grid_community_village")
    assert pop == pytest.approx(float(comms["population"].sum()))
    assert 0.0 < float(total[3]) < 100.0


def test_sample_district_euclidean_matches_independent_ckdtree():
    from scipy.spatial import cKDTree

    from gridtool.coverage import coverage_analysis
    from gridtool.demand import demand_from_grids

    comms = gpd.read_file(SAMPLE, layer="grid_community_village")
    cps = gpd.read_file(SAMPLE, layer="collection_points")
    dem = demand_from_grids(comms, spacing_m=100)
    res = coverage_analysis(dem, cps, radius_m=70, grids_by_level={"community_village": comms})
    d, _ = cKDTree(shapely.get_coordinates(cps.geometry.values)).query(shapely.get_coordinates(dem.geometry.values))
    assert np.array_equal(res.demand["covered"].to_numpy(), d <= 70)
    assert res.summary["covered_population"] == pytest.approx(float(dem["population"][d <= 70].sum()))


def test_truncated_project_gives_the_importer_message(sample_gpkg, tmp_path, capsys):
    from gridtool.cli import main

    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(sample_gpkg.read_bytes()[:20000])
    rc = main(["coverage", "--project", str(broken), "--facilities", "a", "--demand", "b", "--radius-m", "70"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "truncated or damaged" in err[0] and "sqlite3_prepare" not in err[0]

"""gridtool.coverage, gridtool.targets and gridtool.coverage_report with known answers."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from gridtool.coverage import (
    coverage_analysis,
    coverage_by_grid,
    covered,
    nearest,
    nearest_xy,
    service_areas,
    station_loads,
    uncovered_areas,
)
from gridtool.errors import Cancelled, CRSError, InputError, ReadError, SchemaError
from gridtool.feedback import Feedback
from gridtool.targets import Targets, default_radius_m, indicator_table, recycling_radius_m


def points(xy, crs=4549, **cols):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=crs)


def test_station_exactly_on_the_radius_is_covered():
    fac = points([[0, 0]])
    dem = points([[500, 0], [300, 400], [np.nextafter(500.0, np.inf), 0], [0, 499.999]])
    res = nearest(dem, fac, max_distance_m=500)
    assert res["reachable"].tolist() == [True, True, False, True]
    assert res["distance_m"].iloc[:2].tolist() == [500.0, 500.0]
    assert np.isnan(res["distance_m"].iloc[2])
    assert res["unreachable_reason"].astype(object).tolist()[2] == "beyond cutoff"
    assert pd.isna(res["unreachable_reason"].iloc[0])
    assert covered(res, 499.9995).tolist() == [False, False, False, True]


def test_random_instance_matches_ckdtree_and_brute_force():
    rng = np.random.default_rng(11)
    d = rng.uniform(0, 5000, (5000, 2))
    f = rng.uniform(0, 5000, (40, 2))
    pos, dist = nearest_xy(d, f, max_distance_m=300.0)
    full = np.hypot(d[:, None, 0] - f[None, :, 0], d[:, None, 1] - f[None, :, 1])
    best = full.min(axis=1)
    inside = best <= 300.0
    assert np.array_equal(pos >= 0, inside)
    assert dist[inside] == pytest.approx(best[inside])
    kd_d, kd_i = cKDTree(f).query(d, k=1)
    assert np.array_equal(pos[inside], kd_i[inside])
    # no radius: everyone has a facility
    pos_all, dist_all = nearest_xy(d, f)
    assert (pos_all >= 0).all() and dist_all == pytest.approx(kd_d)


def test_facility_labels_follow_the_index():
    fac = points([[0, 0], [1000, 0]])
    fac.index = ["TS-1", "TS-2"]
    dem = points([[10, 0], [990, 0], [500, 5000]])
    dem.index = [7, 8, 9]
    res = nearest(dem, fac, max_distance_m=100)
    assert list(res.index) == [7, 8, 9]
    assert res["facility"].tolist()[:2] == ["TS-1", "TS-2"] and pd.isna(res["facility"].iloc[2])
    assert res["facility_pos"].tolist() == [0, 1, -1]


def test_road_mode_through_coverage_api():
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (1000, 0)]),
                                       shapely.LineString([(500, 0), (500, 400)]),
                                       shapely.LineString([(3000, 0), (3100, 0)])], crs=4549)
    fac = points([[0, 0]])
    dem = points([[500, 400], [450, 30], [3050, 0], [9000, 9000]])
    res = nearest(dem, fac, network=roads, max_distance_m=1000)
    assert res["distance_m"].iloc[:2].tolist() == pytest.approx([900.0, 480.0])
    assert res["unreachable_reason"].astype(object).tolist()[2:] == [
        "different network component", "no road within snap distance"]
    straight = nearest(dem, fac, max_distance_m=1000)
    assert straight["distance_m"].iloc[0] == pytest.approx(np.hypot(500, 400))


def grids_two():
    return gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["甲社区", "乙社区"], "parent_code": ["S", "S"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=4549)


def test_coverage_by_grid_counts():
    dem = points([[10, 10], [90, 90], [150, 50], [199, 1]], population=[100, 50, 30, 20], households=[40, 20, 10, 10])
    fac = points([[0, 0]])
    res = nearest(dem, fac, max_distance_m=160)  # covers (10,10), (90,90) at 127 m, (150,50) at 158 m
    streets = gpd.GeoDataFrame({"code": ["S"], "name": ["街道"]}, geometry=[shapely.box(0, 0, 200, 100)], crs=4549)
    bg = coverage_by_grid(dem, res, {"street_town": streets, "community_village": grids_two()})
    s = bg[bg["level"] == "street_town"].iloc[0]
    assert (s["population"], s["covered_population"], s["coverage_pct"]) == (200.0, 180.0, 90.0)
    a, b = bg[bg["level"] == "community_village"].itertuples()
    assert (a.population, a.covered_population, a.coverage_pct) == (150.0, 150.0, 100.0)
    assert (b.population, b.covered_population, b.households_coverage_pct) == (50.0, 30.0, 50.0)
    assert bg.crs.to_epsg() == 4549 and bg.geometry.iloc[1].equals(grids_two().geometry.iloc[0])


def test_uncovered_areas_follow_the_uncovered_points():
    xs, ys = np.meshgrid(np.arange(5, 200, 10.0), np.arange(5, 100, 10.0))
    dem = points(np.column_stack([xs.ravel(), ys.ravel()]), population=1.0, households=0.5,
                 community_code=np.where(xs.ravel() < 100, "A", "B"))
    fac = points([[0, 50]])
    res = nearest(dem, fac, max_distance_m=100)
    unc = uncovered_areas(dem, res, grids=grids_two())
    assert set(unc["community_code"]) == {"A", "B"}
    b = unc[unc["community_code"] == "B"].iloc[0]
    assert b["area_km2"] == pytest.approx(0.01)  # the whole of B (100 m x 100 m)
    assert b["population"] == 100.0
    a = unc[unc["community_code"] == "A"].iloc[0]
    assert a["population"] == float((~res["reachable"] & (dem["community_code"] == "A")).sum())
    assert 0 < a["area_km2"] < 0.01
    # everything covered: no polygons
    assert len(uncovered_areas(dem, nearest(dem, fac, max_distance_m=1e6), grids=grids_two())) == 0


def test_service_areas_euclidean_and_network():
    fac = points([[0, 0]], name=["站"])
    sa = service_areas(fac, 100.0)
    assert sa.loc[0, "method"] == "euclidean"
    assert sa.geometry.iloc[0].area == pytest.approx(np.pi * 100 ** 2, rel=1e-3)
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(-500, 0), (500, 0)])], crs=4549)
    net = service_areas(fac, 100.0, network=roads, width_m=10.0)
    assert net.loc[0, "method"] == "network" and net.loc[0, "name"] == "站"
    assert net.geometry.iloc[0].area == pytest.approx(200 * 20 + np.pi * 100, rel=0.02)


def test_station_loads_flag_overloaded():
    fac = points([[0, 0], [1000, 0]], name=["T1", "T2"], capacity_tpd=[1.0, 10.0])
    dem = points([[10, 0], [20, 0], [990, 0]], population=[1000, 500, 100], waste_tpd=[0.9, 0.45, 0.09])
    res = nearest(dem, fac)
    loads = station_loads(dem, fac, res)
    assert loads["assigned_tpd"].tolist() == pytest.approx([1.35, 0.09])
    assert loads["overloaded"].tolist() == [True, False]
    assert loads["load_pct"].tolist() == pytest.approx([135.0, 0.9])
    with pytest.raises(SchemaError, match="waste_tpd"):
        station_loads(dem.drop(columns="waste_tpd"), fac, res)


def test_coverage_analysis_result_and_indicators():
    dem = points([[10, 10], [90, 90], [150, 50], [199, 1]], population=[100, 50, 30, 20],
                 households=[40, 20, 10, 10], waste_tpd=[0.09, 0.045, 0.027, 0.018], community_code=["A", "A", "B", "B"])
    fac = points([[0, 0]], name=["T"], capacity_tpd=[0.1])
    out = coverage_analysis(dem, fac, radius_m=160, grids_by_level={"community_village": grids_two()})
    assert out.summary["covered_population"] == 180.0
    assert out.summary["coverage_pct"] == 90.0
    assert out.demand["covered"].tolist() == [True, True, True, False]
    assert out.loads["overloaded"].tolist() == [True]
    assert out.loads["assigned_tpd"].iloc[0] == pytest.approx(0.18)
    assert set(out.layers()) == {"coverage_demand", "coverage_by_grid", "coverage_uncovered", "coverage_service_areas"}
    ind = indicator_table(out.by_grid, facility_kind="transfer_stations", loads=out.loads)
    assert ind["met"].tolist() == [True, False, False]
    assert ind["target_pct"].iloc[0] == 100.0
    assert ind["indicator"].iloc[2] == "station_load_pct"


def test_report_writes_an_excel_workbook(tmp_path):
    from openpyxl import load_workbook

    from gridtool.coverage_report import write_coverage_report

    dem = points([[10, 10], [150, 50]], population=[100, 30], households=[40, 10], waste_tpd=[0.09, 0.027])
    fac = points([[0, 0]], name=["T"], capacity_tpd=[1.0])
    out = coverage_analysis(dem, fac, radius_m=50, grids_by_level={"community_village": grids_two()})
    path = write_coverage_report(out, tmp_path / "r.xlsx", facility_kind="transfer_stations")
    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总 Summary", "指标 Indicators", "网格覆盖 By grid", "转运站负荷 Loads"]
    rows = list(wb["网格覆盖 By grid"].values)
    assert rows[1][1] == "A" and rows[1][7] == 100.0 and rows[2][7] == 0.0
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    with pytest.raises(InputError, match="xlsx"):
        write_coverage_report(out, tmp_path / "r.csv")


def test_cancel_and_progress():
    rng = np.random.default_rng(0)
    dem = points(rng.uniform(0, 1000, (300_000, 2)))
    fac = points(rng.uniform(0, 1000, (10, 2)))
    seen = []
    nearest(dem, fac, max_distance_m=100, feedback=Feedback(lambda p, m: seen.append(p)))
    assert seen and seen[-1] == 100.0
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Cancelled):
        nearest(dem, fac, max_distance_m=100, feedback=fb)


def test_bad_inputs_are_explained():
    fac = points([[0, 0]])
    with pytest.raises(CRSError, match="differs"):
        nearest(points([[0, 0]], crs=4528), fac)
    with pytest.raises(CRSError, match="geographic"):
        nearest(points([[120, 31]], crs=4326), points([[120, 31]], crs=4326))
    with pytest.raises(InputError, match="Point"):
        nearest(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4549), fac)
    with pytest.raises(InputError, match="max_distance_m"):
        nearest(points([[0, 0]]), fac, max_distance_m=-5)
    with pytest.raises(InputError, match="network"):
        nearest(points([[0, 0]]), fac, network="roads")


def test_inputs_are_not_changed():
    dem = points([[10, 10], [150, 50]], population=[100, 30])
    fac = points([[0, 0]])
    before = dem.copy()
    coverage_analysis(dem, fac, radius_m=50)
    pd.testing.assert_frame_equal(pd.DataFrame(dem), pd.DataFrame(before))


def test_targets_defaults_edit_and_json(tmp_path):
    assert default_radius_m("collection_points") == 70.0
    assert default_radius_m("transfer_stations", collection_mode="hand_cart") == 400.0
    assert default_radius_m("transfer_stations") == 3000.0
    assert recycling_radius_m(5000) == pytest.approx(356.8, abs=0.1)
    assert default_radius_m("recycling_points", households_per_km2=5000) == pytest.approx(356.8, abs=0.1)
    with pytest.raises(InputError, match="--radius-m"):
        default_radius_m("findings")
    t = Targets().with_radius("collection_points", 80).with_target("collection_coverage_pct", 95)
    assert default_radius_m("collection_points", targets=t) == 80.0
    back = Targets.from_json(t.to_json(tmp_path / "t.json"))
    assert back == t
    with pytest.raises(ReadError):
        Targets.from_json(tmp_path / "missing.json")


def _brute_nearest(d, f, r):
    """Reference: nearest facility by full distance matrix; ties broken like cKDTree is not
    assumed, so callers compare distances exactly and positions only where the nearest is unique."""
    full = np.sqrt((d[:, None, 0] - f[None, :, 0]) ** 2 + (d[:, None, 1] - f[None, :, 1]) ** 2)
    best = full.min(axis=1)
    unique = (full == best[:, None]).sum(axis=1) == 1
    inside = best <= r if r is not None else np.ones(d.shape[0], dtype=bool)
    return np.argmin(full, axis=1), best, unique, inside


@pytest.mark.parametrize("case", ["uniform", "lattice_ties", "duplicates", "no_radius", "clustered", "one_facility"])
def test_cell_grid_path_is_exact(case, monkeypatch):
    import gridtool.coverage as cov

    monkeypatch.setattr(cov, "_GRID_MIN_POINTS", 0)  # grid on small inputs too
    rng = np.random.default_rng(5)
    r = 120.0
    if case == "uniform":
        d, f = rng.uniform(0, 3000, (20_000, 2)) + (480_000, 3_500_000), rng.uniform(0, 3000, (60, 2)) + (480_000, 3_500_000)
    elif case == "lattice_ties":  # points on cell borders and equidistant from two facilities
        d, f, r = rng.integers(0, 200, (20_000, 2)) * 10.0, rng.integers(0, 200, (80, 2)) * 10.0, 50.0
    elif case == "duplicates":
        f = rng.uniform(0, 2000, (30, 2))
        d, f = rng.uniform(0, 2000, (20_000, 2)), np.vstack([f, f[:10]])
    elif case == "no_radius":
        d, f, r = rng.uniform(0, 3000, (20_000, 2)), rng.uniform(0, 3000, (40, 2)), None
    elif case == "clustered":
        d = np.vstack([rng.normal(0, 5, (10_000, 2)), rng.normal(3000, 400, (10_000, 2))])
        f = rng.uniform(-100, 3000, (20, 2))
    else:
        d, f = rng.uniform(0, 1000, (20_000, 2)), np.array([[500.0, 500.0]])
    assert cov._cell_owners(d, f, cKDTree(f), r) is not None
    pos, dist = nearest_xy(d, f, max_distance_m=r)
    arg, best, unique, inside = _brute_nearest(d, f, r)
    assert np.array_equal(pos >= 0, inside)
    assert np.array_equal(dist[inside], best[inside])  # bit for bit: same formula as cKDTree
    assert np.isnan(dist[~inside]).all() and (pos[~inside] == -1).all()
    sel = inside & unique
    assert np.array_equal(pos[sel], arg[sel])
    tie = inside & ~unique
    if tie.any():  # a tied point gets one of the tied facilities
        dx, dy = (d[tie] - f[pos[tie]]).T
        assert np.array_equal(np.sqrt(dx * dx + dy * dy), best[tie])
    # the grid answers most points without a search, and agrees with the plain KD-tree path
    monkeypatch.setattr(cov, "_GRID_MIN_POINTS", 1 << 60)
    pos_kd, dist_kd = nearest_xy(d, f, max_distance_m=r)
    assert np.array_equal(dist, dist_kd, equal_nan=True)
    assert np.array_equal(pos[sel], pos_kd[sel])


def test_points_xy_rejects_missing_empty_nan_and_non_points():
    fac = points([[0, 0]])
    for geoms, pattern in (
        ([shapely.Point(1, 1), None], "without geometry"),
        ([shapely.Point(1, 1), shapely.Point()], "without geometry"),
        ([shapely.Point(np.nan, 1), shapely.Point(1, 1)], "NaN"),
        ([shapely.Point()] + [shapely.LineString([(0, 0), (1, 1)])], "without geometry"),
        ([shapely.MultiPoint([(0, 0), (1, 1)])], "Point"),
    ):
        with pytest.raises(InputError, match=pattern):
            nearest(gpd.GeoDataFrame(geometry=geoms, crs=4549), fac)

"""``gridtool patrol import|coverage|hotspots`` end to end, on hand-made files and the sample district."""
from __future__ import annotations

import hashlib

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from gridtool.cli import main
from gridtool.patrol import read_tracks

TO_WORK = Transformer.from_crs(4326, 4549, always_xy=True)
TO_WGS = Transformer.from_crs(4549, 4326, always_xy=True)


def gpx_from_xy(xy: list[tuple[float, float]], start: str, step_s: int = 60) -> str:
    t0 = pd.Timestamp(start)
    pts = []
    for k, (x, y) in enumerate(xy):
        lon, lat = TO_WGS.transform(x, y)
        t = (t0 + pd.Timedelta(seconds=k * step_s)).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        pts.append(f'<trkpt lat="{lat:.8f}" lon="{lon:.8f}"><time>{t}</time></trkpt>')
    return ('<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><name>巡查</name><trkseg>{''.join(pts)}</trkseg></trk></gpx>")


X0, Y0 = 494000.0, 3517000.0  # in Zhonglou


@pytest.fixture
def grids_file(tmp_path):
    """Two 1 km community grids side by side with a 2 km road through both."""
    path = tmp_path / "grids.gpkg"
    grids = gpd.GeoDataFrame(
        {"code": ["C1", "C2"], "name": ["甲社区", "乙社区"]},
        geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        crs=4549)
    pyogrio.write_dataframe(grids, path, layer="grid_community_village")
    roads = gpd.GeoDataFrame({"road_id": ["r"]}, geometry=[shapely.LineString([(X0, Y0 + 500), (X0 + 2000, Y0 + 500)])],
                             crs=4549)
    pyogrio.write_dataframe(roads, path, layer="roads")
    return path


@pytest.fixture
def day_gpx(tmp_path):
    path = tmp_path / "day.gpx"
    xy = [(X0 - 200 + 50 * k, Y0 + 500) for k in range(14)]  # to X0 + 450: half of C1's road within 50 m
    path.write_text(gpx_from_xy(xy, "2026-03-01T09:00:00+08:00"), encoding="utf-8")
    return path


def test_import_then_reimport(tmp_path, day_gpx, capsys):
    store = tmp_path / "patrol.gpkg"
    assert main(["patrol", "import", "--store", str(store), str(day_gpx), "--inspector", "王网格"]) == 0
    out = capsys.readouterr().out
    assert "imported 1 track(s), 0.65 km" in out
    assert main(["patrol", "import", "--store", str(store), str(day_gpx)]) == 0
    again = capsys.readouterr().out
    assert "imported 0 track(s)" in again and "skipped 1 already stored" in again
    tracks = read_tracks(store)
    assert len(tracks) == 1 and tracks["inspector"].tolist() == ["王网格"]


def test_malformed_gpx_exit_2_and_nothing_written(tmp_path, day_gpx, capsys):
    bad = tmp_path / "bad.gpx"
    bad.write_text('<?xml version="1.0"?><gpx><trk><trkseg><trkpt lat="31.7"', encoding="utf-8")
    store = tmp_path / "patrol.gpkg"
    assert main(["patrol", "import", "--store", str(store), str(day_gpx), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.gpx is not well-formed XML" in err
    assert not store.exists()
    assert main(["patrol", "import", "--store", str(store), str(day_gpx)]) == 0
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    assert main(["patrol", "import", "--store", str(store), str(bad)]) == 2
    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest


def test_coverage_table_and_outputs(tmp_path, grids_file, day_gpx, capsys):
    store = tmp_path / "patrol.gpkg"
    assert main(["patrol", "import", "--store", str(store), str(day_gpx)]) == 0
    capsys.readouterr()
    out_csv = tmp_path / "cov.csv"
    args = ["patrol", "coverage", "--store", str(store), "--days", "30", "--grids", str(grids_file),
            "--now", "2026-03-10T00:00:00+08:00"]
    assert main(args + ["--out", str(out_csv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    c1 = next(line for line in lines if line.startswith("甲社区"))
    c2 = next(line for line in lines if line.startswith("乙社区"))
    assert "2026-03-01" in c1 and "50.0%" in c1 and "0.45" in c1 and "未巡查" not in c1
    assert "never" in c2 and "未巡查" in c2
    assert any(line.startswith("1 of 2 grid(s) not patrolled in the last 30 days") for line in lines)
    table = pd.read_csv(out_csv, encoding="utf-8-sig")
    assert table.set_index("code").loc["C1", "road_share"] == pytest.approx(0.5, abs=1e-3)
    assert table.set_index("code").loc["C1", "last_patrolled"] == "2026-03-01T09:13:00+08:00"
    out_gpkg = tmp_path / "cov.gpkg"
    assert main(args + ["--days", "5", "--out", str(out_gpkg)]) == 0
    layer = pyogrio.read_dataframe(out_gpkg, layer="patrol_coverage")
    assert not layer["patrolled"].any() and layer.crs.to_epsg() == 4549


def test_coverage_errors(tmp_path, grids_file, capsys):
    assert main(["patrol", "coverage", "--store", str(tmp_path / "none.gpkg")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["patrol", "coverage", "--store", str(tmp_path / "x.gpkg"), "--days", "0"])
    assert exc.value.code == 2 and "must be positive" in capsys.readouterr().err
    store = tmp_path / "s.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(X0, Y0)], crs=4549), store, layer="x")
    assert main(["patrol", "coverage", "--store", str(store), "--grids", str(grids_file), "--level", "street_town"]) == 2
    assert "no grid layer grid_street_town" in capsys.readouterr().err
    assert main(["patrol", "coverage", "--store", str(store), "--grids", str(grids_file), "--roads",
                 f"{grids_file}:nolayer"]) == 2
    assert "no layer 'nolayer'" in capsys.readouterr().err


def test_sample_district_default_grids(tmp_path, capsys):
    """Tracks imported from GPX are measured against the bundled district by default."""
    from gridtool.paths import sample_gpkg_path

    sample = pyogrio.read_dataframe(sample_gpkg_path(), layer="patrol_tracks")
    files = []
    for k, row in sample.iterrows():
        coords = list(row.geometry.coords)
        path = tmp_path / f"t{k}.gpx"
        path.write_text(gpx_from_xy(coords, row["started_at"], step_s=5), encoding="utf-8")
        files.append(str(path))
    store = tmp_path / "patrol.gpkg"
    assert main(["patrol", "import", "--store", str(store), *files]) == 0
    capsys.readouterr()
    assert main(["patrol", "coverage", "--store", str(store), "--days", "30", "--level", "community_village",
                 "--now", "2026-03-31T18:00:00+08:00"]) == 0
    out = capsys.readouterr().out
    grids = pyogrio.read_dataframe(sample_gpkg_path(), layer="grid_community_village").set_index("code")
    for code in sample["community_code"]:
        line = next(line for line in out.splitlines() if line.startswith(grids.loc[code, "name"] + " "))
        assert "未巡查" not in line
    assert f"of {len(grids)} grid(s) not patrolled in the last 30 days" in out


def test_hotspots_on_a_findings_store(tmp_path, capsys):
    """The hotspot command reads the store the findings module writes, and tracks share that store."""
    from gridtool.findings import FindingsStore

    store = tmp_path / "store.gpkg"
    x0, y0 = 492747.8, 3519274.3  # inside 新新社区 of the sample district
    with FindingsStore.open(store) as fs:
        for k, (dx, month) in enumerate([(0, 1), (40, 2), (80, 3), (0, 3)]):
            fs.add(x=x0 + dx, y=y0, category="construction", finding_type="illegal_dumping",
                   description=f"渣土 {k}", found_at=f"2026-0{month}-1{k} 10:00")
        fs.add(x=483592.8, y=3520454.3, category="household", finding_type="illegal_dumping",
               description="far", found_at="2026-03-01 10:00")
    out = tmp_path / "hot.gpkg"
    assert main(["patrol", "hotspots", "--store", str(store), "--now", "2026-04-01", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 hotspot(s) among 5 finding(s)" in text
    hot = pyogrio.read_dataframe(out, layer="hotspots")
    assert hot["n_findings"].tolist() == [4] and hot["n_months"].tolist() == [3]
    assert hot.geometry.iloc[0].contains(shapely.Point(x0 + 40, y0))
    assert hot["community_code"].tolist() == ["320404001004"]
    # tracks go into the same store without disturbing the findings
    gpx = tmp_path / "d.gpx"
    gpx.write_text(gpx_from_xy([(x0, y0), (x0 + 100, y0)], "2026-03-01T09:00:00+08:00"), encoding="utf-8")
    assert main(["patrol", "import", "--store", str(store), str(gpx)]) == 0
    with FindingsStore.open(store) as fs:
        assert len(fs.query()) == 5
    assert len(read_tracks(store)) == 1
    assert main(["patrol", "hotspots", "--store", str(tmp_path / "none.gpkg")]) == 2

"""``gridtool findings ...`` command line: stdout/stderr contract, exit codes."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl

from gridtool.cli import main
from tests.core.findings_fixtures import CST, grids_gpkg, lonlat, make_photo  # noqa: F401


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_only_the_id_and_warns_duplicates_on_stderr(capsys, tmp_path, grids_gpkg):
    store = str(tmp_path / "s.gpkg")
    lon, lat = lonlat(500, 500)
    ph = make_photo(tmp_path / "p.jpg", lon=lon, lat=lat, taken=dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST))
    code, out, err = run(capsys, "findings", "add", "--store", store, "--grids", str(grids_gpkg), "--lon", str(lon),
                         "--lat", str(lat), "--category", "生活垃圾", "--type", "暴露垃圾", "--note", "路边",
                         "--inspector", "张三", "--photo", str(ph))
    assert code == 0 and out.strip().startswith("ZL-") and len(out.splitlines()) == 1
    first = out.strip()
    code, out, err = run(capsys, "findings", "add", "--store", store, "--lon", str(lon), "--lat", str(lat + 0.0001),
                         "--category", "household", "--type", "exposed_garbage")
    assert code == 0 and f"possible duplicate of {first}" in err


def test_add_bad_input_exits_2_with_one_line(capsys, tmp_path, grids_gpkg):
    store = tmp_path / "s.gpkg"
    lon, lat = lonlat(500, 500)
    code, out, err = run(capsys, "findings", "add", "--store", str(store), "--grids", str(grids_gpkg), "--lon", str(lon),
                         "--lat", str(lat), "--category", "plastic", "--type", "other")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--category 'plastic'" in err
    code, out, err = run(capsys, "findings", "add", "--store", str(store), "--grids", str(grids_gpkg), "--lon", "121.5",
                         "--lat", "31.2", "--category", "household", "--type", "other")
    assert code == 2 and "outside" in err and out == ""


def test_set_status_list_history_export(capsys, tmp_path, grids_gpkg):
    store = str(tmp_path / "s.gpkg")
    lon, lat = lonlat(3000, 3000)
    _c, fid, _e = run(capsys, "findings", "add", "--store", store, "--grids", str(grids_gpkg), "--lon", str(lon),
                      "--lat", str(lat), "--category", "household", "--type", "exposed_garbage",
                      "--found-at", "2026-03-02 09:30")
    fid = fid.strip()
    code, out, _ = run(capsys, "findings", "set-status", "--store", store, fid, "派遣", "--expect-version", "1")
    assert code == 0 and "dispatched version 2" in out
    code, out, err = run(capsys, "findings", "set-status", "--store", store, fid, "rejected", "--expect-version", "1")
    assert code == 2 and "conflict" in err
    code, out, err = run(capsys, "findings", "set-status", "--store", store, fid, "closed")
    assert code == 2 and "cannot become closed" in err
    code, out, _ = run(capsys, "findings", "list", "--store", store, "--overdue", "--today", "2026-03-06", "--format", "csv")
    assert code == 0 and fid in out and "OVERDUE" in out
    code, out, _ = run(capsys, "findings", "list", "--store", store, "--status", "closed")
    assert code == 0 and fid not in out
    code, out, _ = run(capsys, "findings", "list", "--store", store, "--grid", "S2C2", "--format", "geojson")
    assert json.loads(out)["features"][0]["properties"]["finding_id"] == fid
    code, out, _ = run(capsys, "findings", "history", "--store", store, fid)
    assert "registered -> dispatched" in out
    xlsx = tmp_path / "out.xlsx"
    code, out, _ = run(capsys, "findings", "export", "--store", store, "--out", str(xlsx), "--today", "2026-03-06")
    assert code == 0 and "全部问题" in openpyxl.load_workbook(xlsx).sheetnames


def test_import_and_missing_store(capsys, tmp_path, grids_gpkg):
    lon, lat = lonlat(500, 500)
    csv = tmp_path / "l.csv"
    csv.write_text(f"lon,lat,category,type\n{lon},{lat},household,other\n{lon},{lat},hazardous,其他\n", encoding="utf-8")
    store = str(tmp_path / "s.gpkg")
    code, out, err = run(capsys, "findings", "import", "--store", store, "--grids", str(grids_gpkg), str(csv))
    assert code == 0 and len(out.split()) == 2 and "imported 2 finding(s)" in err
    code, out, err = run(capsys, "findings", "list", "--store", str(tmp_path / "nope.gpkg"))
    assert code == 2 and "does not exist" in err

"""Problem-list export: Excel per department and grid, CSV for Excel, GeoJSON in WGS84."""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest

from gridtool.errors import InputError
from gridtool.export.problem_list import COLUMNS, export_csv, export_geojson, export_problem_list, export_xlsx
from tests.core.findings_fixtures import CST, grids_gpkg, lonlat, make_photo, store, store_factory  # noqa: F401

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CST)
TODAY = dt.date(2026, 3, 6)


@pytest.fixture
def filled(store, tmp_path):
    late = store.add(lon=lonlat(500, 500)[0], lat=lonlat(500, 500)[1], category="household",
                     finding_type="exposed_garbage", description="=1+2 路边", found_at=T0).finding.finding_id
    closed = store.add(lon=lonlat(3000, 1000)[0], lat=lonlat(3000, 1000)[1], category="construction",
                       finding_type="illegal_dumping", description="渣土", found_at=T0).finding.finding_id
    store.set_status(late, "dispatched", department="区城管局")
    for s in ("dispatched", "rectifying", "verified"):
        store.set_status(closed, s)
    ph = make_photo(tmp_path / "after.jpg", lon=lonlat(3000, 1010)[0], lat=lonlat(3000, 1010)[1],
                    taken=T0 + dt.timedelta(days=1))
    store.set_status(closed, "closed", evidence=ph)
    return store, late, closed


def test_xlsx_has_summary_department_and_street_sheets(filled, tmp_path):
    store, late, closed = filled
    out = export_xlsx(store, tmp_path / "p.xlsx", today=TODAY)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总", "全部问题", "部门-区住建局", "部门-区城管局", "街道-东街道", "街道-西街道"]
    ws = wb["全部问题"]
    header = [c.value for c in ws[1]]
    assert header == [zh for _, zh in COLUMNS]
    assert ws.freeze_panes == "B2"
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[late]["超期(工作日)"] == 3 and rows[late]["是否超期"] == "是"
    assert rows[late]["描述"] == "=1+2 路边"
    assert ws.cell(row=2, column=header.index("描述") + 1).data_type == "s"  # text, not a formula
    assert rows[late]["整改期限"] == dt.datetime(2026, 3, 3)
    assert rows[closed]["状态"] == "结案" and rows[closed]["整改照片"].endswith(".jpg")
    assert rows[late]["街道/镇"] == "西街道" and rows[late]["社区/村"] == "西南社区"
    summary = [r for r in wb["汇总"].iter_rows(values_only=True) if r and r[0] == "部门"]
    assert ("部门", "区城管局", "区城管局", 1, 1, 1, 3, 0) in summary


def test_csv_is_utf8_bom_and_formula_safe(filled, tmp_path):
    store, late, _closed = filled
    p = export_csv(store, tmp_path / "p.csv", today=TODAY)
    assert p.read_bytes()[:3] == b"\xef\xbb\xbf"
    df = pd.read_csv(p, encoding="utf-8-sig", dtype=str)
    assert list(df.columns) == [zh for _, zh in COLUMNS]
    row = df.set_index("问题编号").loc[late]
    assert row["描述"] == "'=1+2 路边" and row["超期(工作日)"] == "3"


def test_geojson_points_in_wgs84(filled, tmp_path):
    store, late, _closed = filled
    data = json.loads(export_geojson(store, tmp_path / "p.geojson", today=TODAY).read_text(encoding="utf-8"))
    feats = {f["properties"]["finding_id"]: f for f in data["features"]}
    lon, lat = lonlat(500, 500)
    x, y = feats[late]["geometry"]["coordinates"]
    assert abs(x - lon) < 1e-6 and abs(y - lat) < 1e-6
    assert feats[late]["properties"]["overdue"] is True and feats[late]["properties"]["deadline"] == "2026-03-03"


def test_filtered_export_and_bad_suffix(filled, tmp_path):
    store, late, _closed = filled
    p = export_problem_list(store, tmp_path / "o.xlsx", today=TODAY, overdue=True)
    wb = openpyxl.load_workbook(p)
    ids = [r[0] for r in wb["全部问题"].iter_rows(min_row=2, values_only=True)]
    assert ids == [late]
    with pytest.raises(InputError, match=r"suffix '.pdf'; expected .xlsx, .csv or .geojson"):
        export_problem_list(store, tmp_path / "o.pdf")

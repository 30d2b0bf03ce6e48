"""Findings store: location assignment, ids, workflow, evidence, deadlines, duplicates, GeoPackage."""
from __future__ import annotations

import datetime as dt
import sqlite3
import warnings

import pyogrio
import pytest

from gridtool import crs
from gridtool.calendar_cn import CalendarFallbackWarning, add_working_days, working_days_between
from gridtool.errors import ConflictError, InputError, ReadError, WorkflowError
from gridtool.findings import (
    DEFAULT_DEADLINE_DAYS, OVERDUE_COLOR, FindingsStore, NewFinding, parse_category, parse_finding_type, parse_status,
)
from gridtool.kinds import KINDS
from tests.core.findings_fixtures import (  # noqa: F401
    CST, X0, Y0, gpkg_store, gpkg_store_factory, grids_gpkg, lonlat, make_photo, store, store_factory,
)

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CST)  # a Monday


def add(store, dx=500.0, dy=500.0, **kw):
    lon, lat = lonlat(dx, dy)
    args = dict(lon=lon, lat=lat, category="household", finding_type="exposed_garbage", found_at=T0)
    args.update(kw)
    return store.add(**args)


# -- vocabulary ---------------------------------------------------------------------
@pytest.mark.parametrize("text,key", [("生活垃圾", "household"), ("Household", "household"), ("危废", "hazardous"),
                                      ("建筑垃圾", "construction"), ("industrial", "industrial")])
def test_category_parses_english_and_chinese(text, key):
    assert parse_category(text) == key


@pytest.mark.parametrize("text,key", [("非法倾倒", "illegal_dumping"), ("Illegal dumping", "illegal_dumping"),
                                      ("历史遗留", "legacy_waste"), ("暴露垃圾", "exposed_garbage"),
                                      ("overflowing collection point", "overflowing_point"), ("其他", "other")])
def test_type_parses_english_and_chinese(text, key):
    assert parse_finding_type(text) == key


@pytest.mark.parametrize("text,key", [("立案", "registered"), ("派遣", "dispatched"), ("处置", "rectifying"),
                                      ("核查", "verified"), ("结案", "closed"), ("销号", "closed"), ("Duplicate", "duplicate")])
def test_status_parses_english_and_chinese(text, key):
    assert parse_status(text) == key


def test_unknown_category_is_refused_and_nothing_stored(store):
    with pytest.raises(InputError, match=r"--category 'plastic' is unknown; expected one of: industrial"):
        add(store, category="plastic")
    assert store.findings() == []


# -- location and ids ---------------------------------------------------------------
def test_add_assigns_every_grid_level_and_unit(store):
    f = add(store, 500, 500).finding
    assert (f.street_code, f.community_code, f.park_code) == ("S1", "S1C1", None)
    assert f.responsible_unit == "西南社区居委会"
    assert f.status == "registered" and f.version == 1
    assert abs(f.x - (X0 + 500)) < 1e-6 and abs(f.y - (Y0 + 500)) < 1e-6


def test_point_in_park_gets_park_code_and_park_unit(store):
    f = add(store, 2300, 3500).finding  # east street, north-east village, inside the park
    assert (f.street_code, f.community_code, f.park_code) == ("S2", "S2C2", "P1")
    assert f.responsible_unit == "钟楼经济开发区管委会"


def test_ids_are_readable_and_sequential_per_year(store):
    a = add(store).finding.finding_id
    b = add(store, 900, 900).finding.finding_id
    c = add(store, found_at=dt.datetime(2025, 12, 30, 10, 0, tzinfo=CST)).finding.finding_id
    assert (a, b, c) == ("ZL-2026-000001", "ZL-2026-000002", "ZL-2025-000001")


def test_outside_district_is_refused_with_coords_hint(store):
    lon, lat = lonlat(5000, 500)  # 1 km east of the district
    with pytest.raises(InputError, match=r"lies outside 钟楼区.*--coords.*swapped"):
        store.add(lon=lon, lat=lat, category="household", finding_type="other")
    assert store.findings() == []


def test_swapped_lon_lat_gets_a_hint(store):
    lon, lat = lonlat(500, 500)
    with pytest.raises(InputError, match="look swapped"):
        store.add(lon=lat, lat=lon, category="household", finding_type="other")


def test_gcj02_coordinates_are_converted_to_wgs84(store):
    lon, lat = lonlat(1000, 1000)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    f = store.add(lon=float(glon), lat=float(glat), coords="gcj02", category="household", finding_type="other").finding
    assert abs(f.x - (X0 + 1000)) < 0.01 and abs(f.y - (Y0 + 1000)) < 0.01


def test_add_by_work_crs_xy(store):
    f = store.add(x=X0 + 3000, y=Y0 + 1000, category="hazardous", finding_type="hazardous_storage").finding
    assert (f.street_code, f.community_code) == ("S2", "S2C1")
    lon, lat = lonlat(3000, 1000)
    assert abs(f.lon - lon) < 1e-9 and abs(f.lat - lat) < 1e-9


# -- workflow -----------------------------------------------------------------------
def test_full_workflow_to_close_with_evidence(store, tmp_path):
    f = add(store).finding
    fid = f.finding_id
    store.set_status(fid, "派遣", expected_version=1)
    store.set_status(fid, "rectifying", note="clean-up crew sent", expected_version=2)
    store.set_status(fid, "核查", expected_version=3)
    lon, lat = lonlat(510, 505)  # ~11 m away
    ph = make_photo(tmp_path / "after.jpg", lon=lon, lat=lat, taken=T0 + dt.timedelta(hours=5))
    g = store.set_status(fid, "销号", evidence=ph, expected_version=4)
    assert g.status == "closed" and g.version == 5 and g.closed_at is not None
    assert g.department == "区城管局"  # household → 城管局 by default
    hist = store.history(fid)
    assert [(e.from_status, e.to_status) for e in hist] == [
        (None, "registered"), ("registered", "dispatched"), ("dispatched", "rectifying"),
        ("rectifying", "verified"), ("verified", "closed")]
    assert hist[2].note == "clean-up crew sent"
    assert hist[-1].evidence_photo and hist[-1].reason is None
    assert [p.kind for p in store.photos(fid)] == ["evidence"]
    assert store.photos(fid)[0].path.is_file()


def test_illegal_transition_is_refused_with_allowed_next(store):
    fid = add(store).finding.finding_id
    with pytest.raises(WorkflowError, match=r"registered \(立案\); it cannot become closed.*Allowed next: dispatched"):
        store.set_status(fid, "closed", reason="x")
    assert store.get(fid).status == "registered" and len(store.history(fid)) == 1


def test_final_statuses_accept_nothing(store):
    fid = add(store).finding.finding_id
    store.set_status(fid, "rejected", note="not waste")
    with pytest.raises(WorkflowError, match="none: it is final"):
        store.set_status(fid, "dispatched")


def _to_verified(store, fid):
    for s in ("dispatched", "rectifying", "verified"):
        store.set_status(fid, s)


def test_close_without_evidence_needs_reason_which_is_recorded(store):
    fid = add(store).finding.finding_id
    _to_verified(store, fid)
    with pytest.raises(WorkflowError, match="no rectification photo was given.*--reason"):
        store.set_status(fid, "closed")
    assert store.get(fid).status == "verified"
    f = store.set_status(fid, "closed", reason="site cleared, checked by phone with the community")
    assert f.status == "closed"
    assert store.history(fid)[-1].reason == "site cleared, checked by phone with the community"


def test_close_refuses_photo_too_far_or_too_early(store, tmp_path):
    fid = add(store).finding.finding_id
    _to_verified(store, fid)
    far_lon, far_lat = lonlat(600, 500)  # 100 m away
    far = make_photo(tmp_path / "far.jpg", lon=far_lon, lat=far_lat, taken=T0 + dt.timedelta(days=1))
    with pytest.raises(WorkflowError, match=r"taken 100 m from the finding \(at most 30 m\)"):
        store.set_status(fid, "closed", evidence=far)
    lon, lat = lonlat(500, 500)
    early = make_photo(tmp_path / "early.jpg", lon=lon, lat=lat, taken=T0 - dt.timedelta(hours=1), color=(1, 2, 3))
    with pytest.raises(WorkflowError, match="before the report"):
        store.set_status(fid, "closed", evidence=early)
    assert store.get(fid).status == "verified"
    assert store.photos(fid) == []  # refused changes store no photo rows


def test_close_accepts_photo_without_gps_but_with_later_time(store, tmp_path):
    fid = add(store).finding.finding_id
    _to_verified(store, fid)
    ph = make_photo(tmp_path / "nogps.jpg", taken=T0 + dt.timedelta(days=1))
    assert store.set_status(fid, "closed", evidence=ph).status == "closed"


def test_evidence_attached_earlier_counts_at_close(store, tmp_path):
    fid = add(store).finding.finding_id
    store.set_status(fid, "dispatched")
    lon, lat = lonlat(500, 520)
    ph = make_photo(tmp_path / "e.jpg", lon=lon, lat=lat, taken=T0 + dt.timedelta(days=1))
    store.set_status(fid, "rectifying", evidence=ph)
    store.set_status(fid, "verified")
    assert store.set_status(fid, "closed").status == "closed"


def test_stale_version_is_a_conflict_and_changes_nothing(store):
    fid = add(store).finding.finding_id
    store.set_status(fid, "dispatched", expected_version=1)
    with pytest.raises(ConflictError, match=r"now version 2.*your view had version 1"):
        store.set_status(fid, "rejected", expected_version=1)
    f = store.get(fid)
    assert f.status == "dispatched" and f.version == 2 and len(store.history(fid)) == 2


def test_dispatch_department_explicit_and_park_default(store):
    a = add(store).finding.finding_id
    assert store.set_status(a, "dispatched", department="区住建局").department == "区住建局"
    b = add(store, 2300, 3500, category="工业固体废物", finding_type="非法倾倒").finding.finding_id
    assert store.set_status(b, "dispatched").department == "钟楼经济开发区管委会"


def test_history_is_append_only_in_sqlite(gpkg_store):
    store = gpkg_store
    fid = add(store).finding.finding_id
    con = sqlite3.connect(store.backend.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE finding_events SET note = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM finding_events")
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        con.execute("DELETE FROM findings")
    con.close()
    assert len(store.history(fid)) == 1


def test_unknown_id_is_a_clear_error(store):
    with pytest.raises(InputError, match=r"finding 'ZL-2026-999999' is not in the store"):
        store.set_status("ZL-2026-999999", "dispatched")


# -- deadlines and overdue -------------------------------------------------------------
def test_deadline_counts_official_holidays_and_makeup_days():
    # 2026 National Day: Oct 1-7 off, Saturday Oct 10 is a make-up working day.
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    # New Year 2026: Jan 1-3 off, Sunday Jan 4 is a make-up working day.
    assert add_working_days(dt.date(2025, 12, 31), 1) == dt.date(2026, 1, 4)
    assert working_days_between(dt.date(2026, 10, 10), dt.date(2026, 10, 14)) == 3
    assert working_days_between(dt.date(2026, 10, 14), dt.date(2026, 10, 10)) == 0


def test_unknown_year_falls_back_to_weekdays_with_warning():
    with pytest.warns(CalendarFallbackWarning, match="no data for 2031"):
        # Friday 2031-01-03 + 1 working day → Monday 2031-01-06
        assert add_working_days(dt.date(2031, 1, 3), 1) == dt.date(2031, 1, 6)


def test_deadline_by_type_from_found_date(store):
    f = add(store, finding_type="illegal_dumping", found_at=dt.datetime(2026, 9, 30, 16, 0, tzinfo=CST)).finding
    assert f.deadline == dt.date(2026, 10, 10)
    g = add(store, 900, 900, finding_type="legacy_waste").finding
    assert g.deadline == add_working_days(T0.date(), DEFAULT_DEADLINE_DAYS["legacy_waste"])


def test_deadline_table_is_configurable_and_stored(store_factory):
    s = store_factory("d.gpkg")
    s.set_deadline_days({"非法倾倒": 2})
    s.close()
    s2 = store_factory("d.gpkg")
    assert s2.deadline_days["illegal_dumping"] == 2
    f = add(s2, finding_type="illegal_dumping").finding
    assert f.deadline == dt.date(2026, 3, 4)
    with pytest.raises(InputError, match="whole number of working days"):
        s2.set_deadline_days({"other": -1})


def test_overdue_in_query_colour_and_summary(store):
    late = add(store, 500, 500).finding.finding_id  # exposed garbage: due Tue 2026-03-03
    ok = add(store, 3000, 3000, finding_type="legacy_waste").finding.finding_id
    done = add(store, 900, 900).finding.finding_id
    for s in ("dispatched", "rectifying", "verified"):
        store.set_status(done, s)
    today = dt.date(2026, 3, 6)  # Friday: 3 working days after the deadline
    gdf = store.query(today=today)
    row = gdf.set_index("finding_id")
    assert bool(row.loc[late, "overdue"]) and row.loc[late, "overdue_days"] == 3
    assert row.loc[late, "color"] == OVERDUE_COLOR
    assert not row.loc[ok, "overdue"] and not row.loc[done, "overdue"]
    assert list(store.query(today=today, overdue=True)["finding_id"]) == [late]
    summ = store.overdue_summary(by="grid", today=today)
    s1c1 = summ[(summ.level == "community") & (summ.code == "S1C1")].iloc[0]
    assert (s1c1.total, s1c1.overdue, s1c1.max_overdue_days, s1c1["name"]) == (2, 1, 3, "西南社区")
    store.set_status(late, "dispatched", department="区城管局")
    dep = store.overdue_summary(by="department", today=today).set_index("code")
    assert dep.loc["区城管局", "overdue"] == 1 and dep.loc["(未派遣)", "overdue"] == 0


def test_query_filters_by_status_and_grid(store):
    a = add(store, 500, 500).finding.finding_id
    b = add(store, 3000, 3000).finding.finding_id
    store.set_status(b, "dispatched")
    assert list(store.query(status="派遣")["finding_id"]) == [b]
    assert list(store.query(grid_code="S1")["finding_id"]) == [a]
    assert list(store.query(grid_code="S2C2")["finding_id"]) == [b]
    gdf = store.query()
    assert gdf.crs.to_epsg() == 4549
    assert set(KINDS["findings"].column_names) <= set(gdf.columns)


# -- duplicates ---------------------------------------------------------------------------
def test_duplicate_suggested_within_50m_same_type_open(store):
    first = add(store, 500, 500).finding.finding_id
    assert [d.finding_id for d in add(store, 530, 530).duplicates] == [first]  # 42.4 m
    assert first in [d.finding_id for d in store.find_duplicates(X0 + 500, Y0 + 549, "暴露垃圾")]
    assert first not in [d.finding_id for d in store.find_duplicates(X0 + 500, Y0 + 551, "exposed_garbage")]
    assert add(store, 500, 510, finding_type="other").duplicates == ()


def test_closed_findings_are_not_duplicate_candidates(store):
    first = add(store, 500, 500).finding.finding_id
    store.set_status(first, "rejected")
    assert add(store, 510, 500).duplicates == ()


def test_link_duplicate_marks_and_records(store):
    a = add(store, 500, 500).finding.finding_id
    b = add(store, 520, 500).finding.finding_id
    f = store.link_duplicate(b, a, note="same pile")
    assert f.status == "duplicate" and f.duplicate_of == a
    assert store.history(b)[-1].to_status == "duplicate"
    with pytest.raises(WorkflowError, match="not another finding"):
        store.link_duplicate(a, a)


# -- GeoPackage ---------------------------------------------------------------------------
def test_store_is_a_geopackage_that_ogr_reads(gpkg_store):
    store = gpkg_store
    f = add(store, 500, 500, description="路边垃圾").finding
    path = store.backend.path
    layers = dict((str(n), g) for n, g in pyogrio.list_layers(path))
    assert layers["findings"] == "Point" and "finding_events" in layers and "finding_photos" in layers
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "non-conformant" or "bad application_id" warnings
        gdf = pyogrio.read_dataframe(path, layer="findings")
        ev = pyogrio.read_dataframe(path, layer="finding_events")
    assert gdf.crs.to_epsg() == 4549
    assert set(KINDS["findings"].column_names) <= set(gdf.columns)
    assert gdf["finding_id"].tolist() == [f.finding_id] and gdf["description"].iloc[0] == "路边垃圾"
    assert abs(gdf.geometry.x.iloc[0] - f.x) < 1e-6 and abs(gdf.geometry.y.iloc[0] - f.y) < 1e-6
    assert ev["to_status"].tolist() == ["registered"]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = 4549").fetchone()[0].startswith("PROJCS")
    con.close()


def test_store_remembers_its_grids(gpkg_store_factory, grids_gpkg, tmp_path):
    s = gpkg_store_factory("r.gpkg")
    assert s.meta["grids_path"] == str(grids_gpkg.resolve())
    s.close()
    s2 = FindingsStore.open(tmp_path / "r.gpkg")  # no grids given: the remembered ones
    try:
        assert add(s2, 2300, 3500).finding.park_code == "P1"
    finally:
        s2.close()


def test_default_grids_are_the_sample_district(tmp_path):
    s = FindingsStore.open(tmp_path / "zl.gpkg")
    try:
        f = s.add(lon=119.95, lat=31.78, category="household", finding_type="exposed_garbage").finding
        assert f.street_code and f.street_code.startswith("320404") and f.community_code.startswith(f.street_code[:9])
        with pytest.raises(InputError, match="outside 钟楼区"):
            s.add(lon=120.3, lat=31.5, category="household", finding_type="other")
    finally:
        s.close()


def test_foreign_file_is_not_taken_as_store(tmp_path, grids_gpkg):
    import geopandas as gpd
    from shapely.geometry import Point

    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a database at all" * 10)
    with pytest.raises(ReadError, match="not an SQLite file"):
        FindingsStore.open(junk, grids=grids_gpkg)
    foreign = tmp_path / "foreign.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=4549).to_file(foreign, layer="findings")
    with pytest.raises(InputError, match="already has a 'findings' table"):
        FindingsStore.open(foreign, grids=grids_gpkg)


# -- bulk ---------------------------------------------------------------------------------------
def test_add_many_is_all_or_nothing_and_reports_every_problem(store):
    lon, lat = lonlat(500, 500)
    far_lon, far_lat = lonlat(9000, 500)
    rows = [NewFinding("household", "other", lon=lon, lat=lat),
            NewFinding("plastic", "other", lon=lon, lat=lat),
            NewFinding("household", "other", lon=far_lon, lat=far_lat)]
    with pytest.raises(InputError, match=r"nothing was imported: 2 problem\(s\).*row 2: --category 'plastic'.*row 3: lon/lat"):
        store.add_many(rows)
    assert store.findings() == []
    ids = store.add_many(rows[:1] * 3)
    assert ids == ["ZL-" + ids[0][3:7] + f"-00000{i}" for i in (1, 2, 3)]

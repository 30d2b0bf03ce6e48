"""Photos: EXIF reading, safe copying, and bringing field data in (photo folders, CSV/XLSX/KML)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gridtool import crs
from gridtool.errors import InputError, ReadError
from gridtool.photos import copy_into_folder, ground_distance_m, read_photo
from tests.core.findings_fixtures import CST, X0, Y0, grids_gpkg, lonlat, make_photo, store, store_factory  # noqa: F401

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CST)


def test_read_photo_gives_exif_position_and_time(tmp_path):
    p = make_photo(tmp_path / "a.jpg", lon=119.9512345, lat=31.7812345, taken=T0)
    info = read_photo(p)
    assert abs(info.lon - 119.9512345) < 1e-6 and abs(info.lat - 31.7812345) < 1e-6
    assert info.taken_at == T0 and info.ext == ".jpg" and info.has_exif and len(info.sha256) == 64


def test_exif_time_without_offset_is_china_time(tmp_path):
    p = make_photo(tmp_path / "a.jpg", lon=119.95, lat=31.78, taken=T0.replace(tzinfo=None))
    assert read_photo(p).taken_at == T0


def test_photo_without_exif(tmp_path):
    info = read_photo(make_photo(tmp_path / "plain.jpg", exif=False))
    assert not info.has_exif and info.lon is None and info.taken_at is None


def test_corrupt_and_truncated_photos_are_read_errors(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(ReadError, match=r"photo '.*bad.jpg' is not a readable image"):
        read_photo(bad)
    good = make_photo(tmp_path / "good.jpg", lon=119.95, lat=31.78, taken=T0).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(ReadError, match="corrupt or truncated"):
        read_photo(cut)
    with pytest.raises(ReadError, match="does not exist"):
        read_photo(tmp_path / "missing.jpg")


def test_copy_uses_store_chosen_name_inside_folder(tmp_path):
    src_dir = tmp_path / "in"
    src_dir.mkdir()
    src = make_photo(src_dir / "..%2F..%2Fevil name.jpeg", lon=119.95, lat=31.78, taken=T0)
    info = read_photo(src)
    dest = tmp_path / "store_photos"
    name = copy_into_folder(info, dest)
    assert name == info.sha256[:24] + ".jpg"
    assert (dest / name).read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == [name]  # no temp files left, nothing outside
    assert copy_into_folder(info, dest) == name  # same content, same single file


def test_ground_distance():
    lon, lat = lonlat(0, 0)
    lon2, lat2 = lonlat(30, 40)
    assert abs(ground_distance_m(lon, lat, lon2, lat2) - 50.0) < 0.2


# -- photo folder import -------------------------------------------------------------------
def test_photo_folder_becomes_findings_and_evidence(store, tmp_path):
    f = store.add(lon=lonlat(500, 500)[0], lat=lonlat(500, 500)[1], category="household",
                  finding_type="exposed_garbage", found_at=T0).finding
    folder = tmp_path / "phone"
    folder.mkdir()
    make_photo(folder / "IMG_1.jpg", lon=lonlat(510, 500)[0], lat=lonlat(510, 500)[1],
               taken=T0 + dt.timedelta(days=1), color=(10, 10, 10))  # 10 m away, later: evidence
    make_photo(folder / "IMG_2.jpg", lon=lonlat(3000, 3000)[0], lat=lonlat(3000, 3000)[1],
               taken=T0 + dt.timedelta(hours=2), color=(20, 20, 20))  # elsewhere: a new finding
    res = store.import_path(folder, category="建筑垃圾", finding_type="非法倾倒", inspector="王")
    assert res.evidence == ((f.finding_id, "IMG_1.jpg"),)
    assert len(res.added) == 1
    new = store.get(res.added[0])
    assert (new.category, new.finding_type, new.community_code, new.inspector) == ("construction", "illegal_dumping", "S2C2", "王")
    assert new.found_at == T0 + dt.timedelta(hours=2)
    assert [p.kind for p in store.photos(f.finding_id)] == ["evidence"]
    assert [p.kind for p in store.photos(new.finding_id)] == ["report"]
    assert store.history(f.finding_id)[-1].note.startswith("evidence photo IMG_1.jpg")
    again = store.import_path(folder)
    assert again.added == () and again.evidence == () and sorted(again.skipped) == ["IMG_1.jpg", "IMG_2.jpg"]


def test_photo_folder_with_unusable_photo_imports_nothing(store, tmp_path):
    folder = tmp_path / "phone"
    folder.mkdir()
    make_photo(folder / "ok.jpg", lon=lonlat(500, 500)[0], lat=lonlat(500, 500)[1], taken=T0)
    make_photo(folder / "stripped.jpg", exif=False, color=(1, 1, 1))
    (folder / "broken.jpg").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"nothing was imported.*broken.jpg.*stripped.jpg' has no EXIF"):
        store.import_path(folder)
    assert store.findings() == []
    assert not store.photo_dir.exists() or list(store.photo_dir.iterdir()) == []


def test_photo_outside_district_imports_nothing(store, tmp_path):
    folder = tmp_path / "phone"
    folder.mkdir()
    make_photo(folder / "in.jpg", lon=lonlat(500, 500)[0], lat=lonlat(500, 500)[1], taken=T0)
    make_photo(folder / "out.jpg", lon=lonlat(9000, 500)[0], lat=lonlat(9000, 500)[1], taken=T0, color=(5, 5, 5))
    with pytest.raises(InputError, match=r"photo 'out.jpg': .*outside"):
        store.import_path(folder)
    assert store.findings() == []


# -- CSV / XLSX / KML -----------------------------------------------------------------------
def _rows():
    pts = [lonlat(500, 500), lonlat(3000, 1000), lonlat(2300, 3500)]
    return pd.DataFrame({
        "经度": [p[0] for p in pts], "纬度": [p[1] for p in pts],
        "类别": ["生活垃圾", "construction", "工业固体废物"], "问题类型": ["暴露垃圾", "非法倾倒", "危废贮存不规范"],
        "描述": ["a", "b", "=HYPERLINK(\"x\")"], "网格员": ["张", "李", "王"],
        "发现时间": ["2026-03-02 09:30", "2026/03/03 10:00", "2026-03-04T08:00:00+08:00"],
    })


def test_csv_import_with_chinese_headers(store, tmp_path):
    p = tmp_path / "list.csv"
    _rows().to_csv(p, index=False, encoding="utf-8-sig")
    res = store.import_path(p)
    got = [store.get(i) for i in res.added]
    assert [(f.category, f.finding_type, f.community_code) for f in got] == [
        ("household", "exposed_garbage", "S1C1"), ("construction", "illegal_dumping", "S2C1"),
        ("industrial", "hazardous_storage", "S2C2")]
    assert got[1].found_at == dt.datetime(2026, 3, 3, 10, 0, tzinfo=CST) and got[0].inspector == "张"


def test_gbk_csv_with_gcj02_coords(store, tmp_path):
    df = _rows()
    g = crs.wgs84_to_gcj02(df["经度"].to_numpy(), df["纬度"].to_numpy())
    df["经度"], df["纬度"] = g[0], g[1]
    p = tmp_path / "amap.csv"
    df.to_csv(p, index=False, encoding="gbk")
    ids = store.import_path(p, coords="gcj02").added
    f = store.get(ids[0])
    assert abs(f.x - (X0 + 500)) < 0.01 and abs(f.y - (Y0 + 500)) < 0.01


def test_xlsx_import_and_bad_row_imports_nothing(store, tmp_path):
    df = _rows()
    p = tmp_path / "list.xlsx"
    df.to_excel(p, index=False)
    assert len(store.import_path(p).added) == 3
    bad = df.copy()
    bad.loc[1, "类别"] = "塑料"
    bad.loc[2, "经度"] = 121.0
    pb = tmp_path / "bad.xlsx"
    bad.to_excel(pb, index=False)
    with pytest.raises(InputError, match=r"2 problem\(s\) in 3 rows: row 2: --category '塑料'.*row 3: lon/lat"):
        store.import_path(pb)
    assert len(store.findings()) == 3


def test_kml_import(store, tmp_path):
    lon, lat = lonlat(1200, 2500)
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>河边垃圾</name><description>约2方</description>
<Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>
</Document></kml>"""
    p = tmp_path / "pts.kml"
    p.write_text(kml, encoding="utf-8")
    with pytest.raises(InputError):
        store.import_path(p)  # no category in the KML and none given
    ids = store.import_path(p, category="household", finding_type="exposed_garbage").added
    f = store.get(ids[0])
    assert f.community_code == "S1C2" and "河边垃圾" in f.description


def test_unsupported_file_and_missing_columns(store, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("a")
    with pytest.raises(ReadError, match=r"suffix '.txt'; expected .csv, .xlsx or .kml"):
        store.import_path(p)
    c = tmp_path / "nocoords.csv"
    c.write_text("name,category\nx,household\n", encoding="utf-8")
    with pytest.raises(InputError, match="no lon/lat columns"):
        store.import_path(c)

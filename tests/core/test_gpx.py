"""GPX reading: tracks → LineStrings in EPSG:4549 with times, and one clear error per bad file."""
from __future__ import annotations

import pytest
import shapely
from pyproj import Transformer

from gridtool.errors import CRSError, ReadError
from gridtool.gpx import TRACK_COLUMNS, parse_gpx, read_gpx

TO_WORK = Transformer.from_crs(4326, 4549, always_xy=True)


def gpx11(body: str, meta: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"{meta}{body}</gpx>"
    ).encode("utf-8")


def pt(lat: float, lon: float, time: str | None) -> str:
    t = f"<time>{time}</time>" if time else ""
    return f'<trkpt lat="{lat}" lon="{lon}"><ele>5</ele>{t}</trkpt>'


TWO_SEGMENTS = gpx11(
    "<trk><name>早班巡查</name><desc>desc text</desc>"
    "<trkseg>" + pt(31.78, 119.94, "2026-03-01T01:30:00Z") + pt(31.781, 119.94, "2026-03-01T01:35:00Z")
    + pt(31.782, 119.94, "2026-03-01T01:40:00.500Z") + "</trkseg>"
    "<trkseg>" + pt(31.79, 119.95, "2026-03-01T02:00:00+08:00") + pt(31.79, 119.951, None)
    + pt(31.79, 119.952, "2026-03-01T02:10:00+08:00") + "</trkseg></trk>",
    meta="<metadata><author><name>王网格</name></author></metadata>",
)


def test_segments_become_lines_in_work_crs_with_local_times():
    g = parse_gpx(TWO_SEGMENTS)
    assert list(g.columns) == TRACK_COLUMNS + ["geometry"]
    assert g.crs.to_epsg() == 4549
    assert len(g) == 2
    first, second = g.iloc[0], g.iloc[1]
    assert first["started_at"] == "2026-03-01T09:30:00+08:00"
    assert first["ended_at"] == "2026-03-01T09:40:00+08:00"  # fractional seconds dropped in the text
    assert second["started_at"] == "2026-03-01T02:00:00+08:00"  # a point without time is skipped
    assert second["ended_at"] == "2026-03-01T02:10:00+08:00"
    assert first["inspector"] == "王网格" and first["name"] == "早班巡查"
    assert list(g["n_points"]) == [3, 3]
    x, y = TO_WORK.transform([119.94, 119.94, 119.94], [31.78, 31.781, 31.782])
    expected = shapely.LineString(list(zip(x, y)))
    assert g.geometry.iloc[0].equals_exact(expected, 1e-6)
    assert first["length_m"] == pytest.approx(expected.length)
    assert 220 < first["length_m"] < 225  # 0.002° of latitude ≈ 222 m


def test_inspector_option_overrides_and_desc_is_fallback():
    assert set(parse_gpx(TWO_SEGMENTS, inspector="李四")["inspector"]) == {"李四"}
    no_author = gpx11("<trk><desc>张三</desc><trkseg>" + pt(31.78, 119.94, "2026-03-01T01:30:00Z")
                      + pt(31.781, 119.94, "2026-03-01T01:31:00Z") + "</trkseg></trk>")
    assert parse_gpx(no_author)["inspector"].tolist() == ["张三"]


def test_gpx10_author_and_naive_times_are_utc():
    data = (
        '<?xml version="1.0"?><gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0">'
        "<author>赵六</author><trk><trkseg>" + pt(31.78, 119.94, "2026-03-01T01:30:00")
        + pt(31.781, 119.94, "2026-03-01T01:31:00") + "</trkseg></trk></gpx>"
    ).encode()
    g = parse_gpx(data)
    assert g["inspector"].tolist() == ["赵六"]
    assert g["started_at"].tolist() == ["2026-03-01T09:30:00+08:00"]


def test_track_id_depends_on_points_and_times_only():
    a = parse_gpx(TWO_SEGMENTS)
    renamed = parse_gpx(TWO_SEGMENTS.replace("早班巡查".encode(), b"other name"), inspector="x")
    assert a["track_id"].tolist() == renamed["track_id"].tolist()
    assert a["track_id"].nunique() == 2
    shifted = parse_gpx(TWO_SEGMENTS.replace(b"01:35:00Z", b"01:36:00Z"))
    assert shifted["track_id"].iloc[0] != a["track_id"].iloc[0]
    assert shifted["track_id"].iloc[1] == a["track_id"].iloc[1]


def test_single_point_segments_are_skipped_and_repeats_collapse():
    seg = "<trkseg>" + pt(31.78, 119.94, "2026-03-01T01:30:00Z") + pt(31.781, 119.94, "2026-03-01T01:31:00Z") + "</trkseg>"
    lone = "<trkseg>" + pt(31.70, 119.90, "2026-03-01T03:00:00Z") + "</trkseg>"
    g = parse_gpx(gpx11(f"<trk>{seg}{lone}</trk><trk>{seg}</trk>"))
    assert len(g) == 1


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "is empty"),
        (b"<gpx><trk><trkseg>", "not well-formed XML"),
        (b"this is not xml", "not well-formed XML"),
        (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"></kml>', "root element <kml>"),
        (gpx11('<wpt lat="31.78" lon="119.94"/>'), "has no <trk>"),
        (gpx11("<trk><trkseg>" + pt(31.78, 119.94, "2026-03-01T01:30:00Z") + "</trkseg></trk>"),
         "no track segment with at least 2 points"),
        (gpx11('<trk><trkseg><trkpt lon="119.94"/><trkpt lat="1" lon="119.9"/></trkseg></trk>'), "no lat attribute"),
        (gpx11('<trk><trkseg><trkpt lat="abc" lon="119.94"/></trkseg></trk>'), "decimal degrees"),
        (gpx11("<trk><trkseg>" + pt(31.78, 119.94, "yesterday") + "</trkseg></trk>"), "not an ISO 8601"),
        (gpx11("<trk><trkseg>" + pt(31.78, 119.94, None) + pt(31.79, 119.94, None) + "</trkseg></trk>"),
         "no <time>"),
        (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
         b"<gpx>&lol2;</gpx>", "DOCTYPE"),
        (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><gpx>&xxe;</gpx>',
         "DOCTYPE"),
    ],
)
def test_malformed_gpx_gives_one_read_error(data, match):
    with pytest.raises(ReadError, match=match):
        parse_gpx(data, source="bad.gpx")


def test_points_outside_the_zone_are_a_crs_error():
    swapped = gpx11("<trk><trkseg>" + pt(119.94, 31.78, "2026-03-01T01:30:00Z") + "</trkseg></trk>")
    with pytest.raises(ReadError, match="outside -90..90"):
        parse_gpx(swapped)
    beijing = gpx11("<trk><trkseg>" + pt(39.9, 116.4, "2026-03-01T01:30:00Z") + "</trkseg></trk>")
    with pytest.raises(CRSError, match="lat and lon swapped"):
        parse_gpx(beijing)


def test_read_gpx_names_the_file(tmp_path):
    path = tmp_path / "day1.gpx"
    path.write_bytes(TWO_SEGMENTS)
    assert len(read_gpx(path)) == 2
    with pytest.raises(ReadError, match="missing.gpx does not exist"):
        read_gpx(tmp_path / "missing.gpx")
    bad = tmp_path / "broken.gpx"
    bad.write_bytes(TWO_SEGMENTS[:200])
    with pytest.raises(ReadError, match="broken.gpx is not well-formed"):
        read_gpx(bad)

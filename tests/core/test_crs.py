"""CRS guards and GCJ-02/BD-09 conversion, on hand-built points with known answers."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from gridtool import crs as gcrs
from gridtool.errors import CRSError

GEOD = Geod(ellps="WGS84")


def _dist_m(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_forward_matches_published_reference():
    # reference values of the widely used coordtransform implementations (Tiananmen)
    lon, lat = gcrs.wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat == pytest.approx(39.91640428150164, abs=1e-12)
    blon, blat = gcrs.gcj02_to_bd09(116.404, 39.915)
    assert blon == pytest.approx(116.41036949371029, abs=1e-12)
    assert blat == pytest.approx(39.92133699351022, abs=1e-12)


def test_offsets_in_zhonglou_are_hundreds_of_metres():
    lon, lat = gcrs.wgs84_to_gcj02(119.95, 31.78)
    d = _dist_m(119.95, 31.78, float(lon), float(lat))
    assert 300 < d < 800
    blon, blat = gcrs.wgs84_to_bd09(119.95, 31.78)
    assert 800 < _dist_m(119.95, 31.78, float(blon), float(blat)) < 1500


def test_round_trips_are_under_half_a_metre_vectorised():
    rng = np.random.default_rng(1)
    lon = rng.uniform(73.5, 135.0, 20_000)
    lat = rng.uniform(18.0, 53.5, 20_000)
    for fwd, inv in [(gcrs.wgs84_to_gcj02, gcrs.gcj02_to_wgs84), (gcrs.wgs84_to_bd09, gcrs.bd09_to_wgs84),
                     (gcrs.gcj02_to_bd09, gcrs.bd09_to_gcj02)]:
        back_lon, back_lat = inv(*fwd(lon, lat))
        assert back_lon.shape == lon.shape
        err = _dist_m(lon, lat, back_lon, back_lat)
        assert np.max(np.abs(err)) < 0.5
        assert np.max(np.abs(err)) < 0.01  # in fact millimetres


def test_outside_china_is_left_alone():
    lon, lat = gcrs.wgs84_to_gcj02(np.array([2.35, 119.95]), np.array([48.85, 31.78]))
    assert lon[0] == 2.35 and lat[0] == 48.85
    assert lon[1] != 119.95


def _pts(xy, crs):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame({"v": range(len(xy))}, geometry=shapely.points(xy), crs=crs)


ZL = [(119.95, 31.78), (119.90, 31.75)]
ZL_4549 = [(495264.096, 3517458.847), (490525.134, 3514135.629)]


def test_lonlat_reprojected_to_4549():
    out, warns = gcrs.to_work_crs(_pts(ZL, 4326))
    assert warns == []
    assert out.crs.to_epsg() == 4549
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.01)


def test_missing_crs_lonlat_assumes_wgs84_with_warning():
    out, warns = gcrs.to_work_crs(_pts(ZL, None), name="a.csv")
    assert len(warns) == 1 and "EPSG:4326" in warns[0] and "a.csv" in warns[0]
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.01)


def test_missing_crs_metres_is_an_error_that_says_what_to_pass():
    with pytest.raises(CRSError) as err:
        gcrs.to_work_crs(_pts(ZL_4549, None), name="sample.shp")
    msg = str(err.value)
    assert "sample.shp" in msg and "no CRS" in msg and "--crs EPSG:4549" in msg and "490525..495264" in msg


def test_missing_crs_with_zone_prefix_suggests_4528():
    xy = [(x + 40_000_000, y) for x, y in ZL_4549]
    with pytest.raises(CRSError, match="--crs EPSG:4528"):
        gcrs.to_work_crs(_pts(xy, None))


def test_missing_crs_uses_assume():
    out, warns = gcrs.to_work_crs(_pts(ZL_4549, None), assume="EPSG:4549")
    assert warns == [] and out.crs.to_epsg() == 4549
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549)


def test_swapped_latlon_is_fixed():
    swapped = [(lat, lon) for lon, lat in ZL]
    for crs in (4326, None):
        out, warns = gcrs.to_work_crs(_pts(swapped, crs))
        assert any("swapped" in w for w in warns)
        np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.01)


def test_4528_data_labelled_4549_is_fixed():
    xy = [(x + 40_000_000, y) for x, y in ZL_4549]
    out, warns = gcrs.to_work_crs(_pts(xy, 4549))
    assert len(warns) == 1 and "EPSG:4528" in warns[0] and "prefix" in warns[0]
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.001)


def test_4549_data_labelled_4528_is_fixed():
    out, warns = gcrs.to_work_crs(_pts(ZL_4549, 4528))
    assert len(warns) == 1 and "EPSG:4549" in warns[0]
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.001)


def test_4528_data_correctly_labelled_is_shifted_silently():
    xy = [(x + 40_000_000, y) for x, y in ZL_4549]
    out, warns = gcrs.to_work_crs(_pts(xy, 4528))
    assert warns == []
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.001)


def test_metres_labelled_as_degrees_is_an_error():
    with pytest.raises(CRSError, match="not degrees"):
        gcrs.to_work_crs(_pts(ZL_4549, 4326), name="x.geojson")


def test_gcj02_coords_converted_back_to_true_position():
    glon, glat = gcrs.wgs84_to_gcj02(np.array(ZL)[:, 0], np.array(ZL)[:, 1])
    out, warns = gcrs.to_work_crs(_pts(np.column_stack([glon, glat]), 4326), coords="gcj02")
    assert any("GCJ02" in w for w in warns)
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL_4549, atol=0.05)


def test_convert_coords_bd09_keeps_input_and_returns_wgs84():
    blon, blat = gcrs.wgs84_to_bd09(np.array(ZL)[:, 0], np.array(ZL)[:, 1])
    src = _pts(np.column_stack([blon, blat]), 4326)
    before = src.geometry.copy()
    out = gcrs.convert_coords(src, "bd09")
    assert src.geometry.equals(before)
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array), ZL, atol=1e-8)


def test_convert_coords_refuses_projected_data():
    with pytest.raises(CRSError, match="metres"):
        gcrs.convert_coords(_pts(ZL_4549, 4549), "gcj02")


def test_check_metric():
    gcrs.check_metric(_pts(ZL_4549, 4549), "facilities")
    with pytest.raises(CRSError, match=r"`facilities` CRS EPSG:4326 is geographic.*to_crs\(4549\)"):
        gcrs.check_metric(_pts(ZL, 4326), "facilities")
    with pytest.raises(CRSError, match="no CRS"):
        gcrs.check_metric(_pts(ZL, None), "demand")


def test_line_and_polygon_vertices_are_all_converted():
    line = shapely.LineString([(119.95, 31.78), (119.90, 31.75)])
    poly = shapely.Polygon([(119.9, 31.75), (119.95, 31.75), (119.95, 31.78)])
    g = gpd.GeoDataFrame(geometry=[line, poly], crs=None)
    out, _ = gcrs.to_work_crs(g)
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.array[0]), ZL_4549, atol=0.01)
    assert out.geometry.array[1].is_valid and out.geometry.array[1].area > 1e6

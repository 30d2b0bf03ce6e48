"""Coordinate reference systems: bring every layer to the working CRS EPSG:4549, safely.

Chinese data arrives in many shapes (see the domain notes): CGCS2000 lon/lat (EPSG:4490),
GPS lon/lat (EPSG:4326), Gauss–Krüger metres with or without the zone prefix
(EPSG:4528 "zone 40" has x ≈ 40,5xx,xxx, EPSG:4549 "CM 120E" has x ≈ 5xx,xxx — the same
projection shifted by 40,000 km), coordinates copied from Amap/Tencent (GCJ-02) or
Baidu (BD-09) that are offset by hundreds of metres, and files whose lat/lon columns
were swapped. :func:`to_work_crs` detects and fixes each of these, returning warnings
for what it fixed and raising :class:`~gridtool.errors.CRSError` with the fix for what it
cannot decide.

The GCJ-02 / BD-09 functions are vectorised over NumPy arrays; the inverses
(``*_to_wgs84``, ``bd09_to_gcj02``) are solved iteratively so that a round trip is exact
to well under a millimetre.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from gridtool.errors import CRSError
from gridtool.kinds import WORK_EPSG

__all__ = [
    "WORK_CRS",
    "WORK_EPSG",
    "COORD_SYSTEMS",
    "to_work_crs",
    "check_metric",
    "crs_label",
    "convert_coords",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
    "bd09_to_gcj02",
    "gcj02_to_bd09",
    "bd09_to_wgs84",
    "wgs84_to_bd09",
    "looks_lonlat",
    "looks_swapped_lonlat",
    "in_china",
]

WORK_CRS = CRS.from_epsg(WORK_EPSG)
"""EPSG:4549, CGCS2000 / 3-degree Gauss-Kruger CM 120E, metres."""

COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
"""Values of ``coords``: GPS/WGS84, Amap/Tencent GCJ-02, Baidu BD-09."""

# China's extent (lon, lat), generous: used to tell lon/lat from swapped lat/lon.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
# The box inside which the GCJ-02 offset is applied (the usual "out of China" test).
_GCJ_LON = (72.004, 137.8347)
_GCJ_LAT = (0.8293, 55.8271)

# CGCS2000 3-degree Gauss-Kruger: EPSG:4513+i is zone 25+i with the zone number as
# x prefix; EPSG:4534+i is the same central meridian (75+3i E) without it.
_GK_PREFIXED = range(4513, 4534)
_GK_PLAIN = range(4534, 4555)

_DEFAULT_FIX = "e.g. --crs EPSG:4549 (CGCS2000 GK CM 120E metres) or --crs EPSG:4326 (GPS lon/lat)"


# ----------------------------------------------------------------------------------
# GCJ-02 and BD-09
# ----------------------------------------------------------------------------------
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _as_arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon_a = np.asarray(lon, dtype="float64")
    lat_a = np.asarray(lat, dtype="float64")
    return np.broadcast_arrays(lon_a, lat_a)  # type: ignore[return-value]


def _in_gcj_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon > _GCJ_LON[0]) & (lon < _GCJ_LON[1]) & (lat > _GCJ_LAT[0]) & (lat < _GCJ_LAT[1])


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (degrees) to add to WGS84 ``lon, lat``; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    inside = _in_gcj_box(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat → GCJ-02 (Amap/Tencent), vectorised; points outside China are unchanged."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(lon: Any, lat: Any, *, tol_deg: float = 1e-10, max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (Amap/Tencent) lon/lat → WGS84, vectorised, by fixed-point iteration.

    Iterates ``w ← w − (gcj(w) − g)`` until the forward transform of the result matches
    the input to ``tol_deg`` (1e-10° ≈ 0.01 mm); converges in a few steps.
    """
    g_lon, g_lat = _as_arrays(lon, lat)
    return _invert(wgs84_to_gcj02, g_lon, g_lat, g_lon.copy(), g_lat.copy(), tol_deg, max_iter)


def _invert(forward: Any, t_lon: np.ndarray, t_lat: np.ndarray, lon: np.ndarray, lat: np.ndarray,
            tol_deg: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(lon, lat) == (t_lon, t_lat)`` by fixed-point steps from a first guess.

    The offsets of GCJ-02 and BD-09 change slowly with position, so subtracting the
    forward error converges in a few steps to ``tol_deg`` (1e-10° ≈ 0.01 mm).
    """
    for _ in range(max_iter):
        f_lon, f_lat = forward(lon, lat)
        e_lon, e_lat = f_lon - t_lon, f_lat - t_lat
        lon = lon - e_lon
        lat = lat - e_lat
        err = np.nanmax(np.abs(np.concatenate([np.ravel(e_lon), np.ravel(e_lat)])), initial=0.0)
        if err < tol_deg:
            break
    return lon, lat


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 lon/lat → BD-09 (Baidu), vectorised."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: Any, lat: Any, *, tol_deg: float = 1e-10, max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) lon/lat → GCJ-02, vectorised: the closed-form inverse refined by iteration."""
    b_lon, b_lat = _as_arrays(lon, lat)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, b_lon, b_lat, z * np.cos(theta), z * np.sin(theta), tol_deg, max_iter)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat → BD-09 (Baidu), vectorised."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) lon/lat → WGS84, vectorised."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def _transform_geoms(geoms: np.ndarray, func) -> np.ndarray:
    """Apply ``func(xy: (N, 2) array) -> (N, 2) array`` to every vertex, keeping Z."""
    def apply(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, :2] = func(coords[:, :2])
        return out

    return shapely.transform(geoms, apply, include_z=None)


def convert_coords(gdf, coords: str):
    """Convert a lon/lat layer copied from a Chinese web map to WGS84.

    Parameters
    ----------
    gdf
        A GeoDataFrame in a geographic CRS (lon/lat), or without CRS (taken as lon/lat).
    coords
        What the coordinates really are: ``"wgs84"`` (nothing to do), ``"gcj02"``
        (Amap, Tencent, Google China) or ``"bd09"`` (Baidu).

    Returns
    -------
    GeoDataFrame
        A new frame in EPSG:4326; the input is not changed.
    """
    coords = (coords or "wgs84").lower().replace("-", "").replace("_", "")
    if coords not in COORD_SYSTEMS:
        raise CRSError(f"coords {coords!r} is unknown; expected one of: {', '.join(COORD_SYSTEMS)}")
    out = gdf.copy()
    if out.crs is not None and not out.crs.is_geographic:
        if coords != "wgs84":
            raise CRSError(
                f"--coords {coords} applies to lon/lat copied from a web map, but the data is in "
                f"{crs_label(out.crs)} (metres); drop --coords or give the lon/lat source"
            )
        return out
    if coords == "wgs84":
        return out if out.crs is not None else out.set_crs(4326)
    func = _TO_WGS84[coords]

    def xy(c: np.ndarray) -> np.ndarray:
        lon, lat = func(c[:, 0], c[:, 1])
        return np.column_stack([lon, lat])

    geoms = _transform_geoms(np.asarray(out.geometry.array, dtype=object), xy)
    out = out.set_geometry(geoms, crs=4326) if out.crs is None else out.set_geometry(geoms, crs=out.crs)
    return out.set_crs(4326, allow_override=True)


# ----------------------------------------------------------------------------------
# detection helpers
# ----------------------------------------------------------------------------------
def crs_label(crs: Any) -> str:
    """Short text for a CRS: ``"EPSG:4549"`` if it has a code, else its name; ``"none"`` if missing."""
    if crs is None:
        return "none"
    crs = CRS.from_user_input(crs)
    code = crs.to_epsg(min_confidence=70)
    if code is not None:
        return f"EPSG:{code}"
    auth = crs.to_authority(min_confidence=70)
    if auth is not None:
        return f"{auth[0]}:{auth[1]}"
    return crs.name or "unknown CRS"


def _bounds(gdf) -> tuple[float, float, float, float] | None:
    if len(gdf) == 0:
        return None
    b = gdf.total_bounds
    if not np.all(np.isfinite(b)):
        return None
    return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def _within(v0: float, v1: float, rng: tuple[float, float]) -> bool:
    return rng[0] <= v0 and v1 <= rng[1]


def looks_lonlat(bounds: tuple[float, float, float, float]) -> bool:
    """True if x is within ±180 and y within ±90 (could be lon/lat)."""
    x0, y0, x1, y1 = bounds
    return -180.0 <= x0 and x1 <= 180.0 and -90.0 <= y0 and y1 <= 90.0


def in_china(bounds: tuple[float, float, float, float]) -> bool:
    """True if lon/lat ``bounds`` fall inside China's extent (lon 73–136, lat 3–54)."""
    x0, y0, x1, y1 = bounds
    return _within(x0, x1, CHINA_LON) and _within(y0, y1, CHINA_LAT)


def looks_swapped_lonlat(bounds: tuple[float, float, float, float]) -> bool:
    """True if x looks like a Chinese latitude and y like a Chinese longitude (columns swapped)."""
    x0, y0, x1, y1 = bounds
    return _within(x0, x1, CHINA_LAT) and _within(y0, y1, CHINA_LON) and not in_china(bounds)


def _gk_zone_prefix(bounds: tuple[float, float, float, float]) -> int | None:
    """The zone number if x carries a 3-degree zone prefix (25–45: x ≈ zone·10⁶ + 5xx,xxx)."""
    x0, y0, x1, y1 = bounds
    zone = int(x0 // 1_000_000)
    if 25 <= zone <= 45 and int(x1 // 1_000_000) == zone and 0 <= y0 and y1 <= 10_000_000:
        return zone
    return None


def _gk_plain(bounds: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = bounds
    return 0 <= x0 and x1 <= 1_000_000 and 0 <= y0 and y1 <= 10_000_000


def _gk_swapped(bounds: tuple[float, float, float, float]) -> bool:
    """Easting/northing swapped for GK metres in China: x ≈ 2–6 million, y ≈ 0–1 million."""
    x0, y0, x1, y1 = bounds
    return 300_000 <= x0 and x1 <= 6_500_000 and 0 <= y0 and y1 <= 1_000_000 and not _gk_plain(bounds)


def _fmt_bounds(bounds: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = bounds

    def f(v: float) -> str:
        return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}"

    return f"x {f(x0)}..{f(x1)}, y {f(y0)}..{f(y1)}"


def _swap_xy(gdf):
    geoms = _transform_geoms(np.asarray(gdf.geometry.array, dtype=object), lambda c: c[:, ::-1])
    return gdf.set_geometry(geoms, crs=gdf.crs)


def _suggest_for_metres(bounds: tuple[float, float, float, float]) -> str:
    zone = _gk_zone_prefix(bounds)
    if zone is not None:
        code = 4513 + (zone - 25)
        return f"they look like Gauss-Krüger zone {zone} metres with the zone prefix: say --crs EPSG:{code}"
    if _gk_plain(bounds) and 2_000_000 <= bounds[1]:
        return f"they look like Gauss-Krüger metres without zone prefix: say --crs EPSG:{WORK_EPSG} (CGCS2000 GK CM 120E metres) if that is right"
    return f"say which CRS the data is in, {_DEFAULT_FIX}"


def _resolve_missing(gdf, name: str, bounds, warnings: list[str]):
    if bounds is None:
        return gdf.set_crs(WORK_CRS)
    if looks_lonlat(bounds) and not looks_swapped_lonlat(bounds):
        warnings.append(
            f"{name}: no CRS; the coordinates ({_fmt_bounds(bounds)}) look like lon/lat, so EPSG:4326 "
            "(WGS84) was assumed; pass --crs to say otherwise"
        )
        return gdf.set_crs(4326)
    if looks_swapped_lonlat(bounds):
        warnings.append(
            f"{name}: no CRS and x/y look like lat/lon swapped ({_fmt_bounds(bounds)}); swapped them "
            "and assumed EPSG:4326 (WGS84)"
        )
        return _swap_xy(gdf.set_crs(4326))
    raise CRSError(
        f"{name}: no CRS (.prj or CRS metadata missing) and the coordinates ({_fmt_bounds(bounds)}) do not "
        f"look like lon/lat; {_suggest_for_metres(bounds)}"
    )


def _fix_label(gdf, name: str, bounds, warnings: list[str]):
    """Fix swapped axes and GK zone-prefix mix-ups in data that has a CRS."""
    crs = gdf.crs
    label = crs_label(crs)
    code = crs.to_epsg(min_confidence=70)
    if crs.is_geographic:
        if looks_swapped_lonlat(bounds):
            warnings.append(
                f"{name}: x/y look like lat/lon swapped ({_fmt_bounds(bounds)} in {label}); swapped them back"
            )
            return _swap_xy(gdf)
        if not looks_lonlat(bounds):
            raise CRSError(
                f"{name}: labelled {label} (lon/lat degrees) but the coordinates ({_fmt_bounds(bounds)}) are "
                f"not degrees; the CRS label is wrong: {_suggest_for_metres(bounds)}"
            )
        return gdf
    if code in _GK_PLAIN:
        zone = _gk_zone_prefix(bounds)
        expected_zone = 25 + (code - 4534)
        if zone is not None and zone == expected_zone:
            right = 4513 + (code - 4534)
            warnings.append(
                f"{name}: labelled {label} but x ({bounds[0]:.0f}..{bounds[2]:.0f}) carries the zone prefix "
                f"{zone} (40,000 km-class shift); read it as EPSG:{right} instead"
            )
            return gdf.set_crs(right, allow_override=True)
        if _gk_swapped(bounds):
            warnings.append(f"{name}: easting/northing look swapped ({_fmt_bounds(bounds)} in {label}); swapped them back")
            return _swap_xy(gdf)
        if looks_lonlat(bounds):
            raise CRSError(
                f"{name}: labelled {label} (metres) but the coordinates ({_fmt_bounds(bounds)}) look like lon/lat "
                "degrees; the CRS label is wrong: say --crs EPSG:4326"
            )
    if code in _GK_PREFIXED:
        zone = 25 + (code - 4513)
        if _gk_plain(bounds):
            right = 4534 + (code - 4513)
            warnings.append(
                f"{name}: labelled {label} (zone {zone}, x with prefix {zone}) but x ({bounds[0]:.0f}..{bounds[2]:.0f}) "
                f"has no zone prefix; read it as EPSG:{right} instead"
            )
            return gdf.set_crs(right, allow_override=True)
        if looks_lonlat(bounds):
            raise CRSError(
                f"{name}: labelled {label} (metres) but the coordinates ({_fmt_bounds(bounds)}) look like lon/lat "
                "degrees; the CRS label is wrong: say --crs EPSG:4326"
            )
    return gdf


def to_work_crs(gdf, *, assume: Any = None, coords: str = "wgs84", name: str = "data", copy: bool = True):
    """Bring ``gdf`` to EPSG:4549, fixing what can be fixed and explaining the rest.

    Steps: a missing CRS is taken from ``assume``, or EPSG:4326 if the coordinates
    clearly are lon/lat (warning), else :class:`CRSError` saying which ``--crs`` to
    pass; swapped lat/lon and the GK zone-prefix mix-up (EPSG:4528 data labelled
    4549 and the reverse) are fixed with a warning; GCJ-02/BD-09 coordinates are
    converted to WGS84 when ``coords`` says so; finally the frame is reprojected.

    Parameters
    ----------
    gdf
        Any GeoDataFrame; not changed.
    assume
        CRS to use when ``gdf`` has none (anything pyproj accepts: ``"EPSG:4549"``, 4326).
    coords
        ``"wgs84"`` (default), ``"gcj02"`` or ``"bd09"``: what lon/lat coordinates really are.
    name
        How to call the data in messages (file and layer name).
    copy
        False: return ``gdf`` itself when it is already fine (for callers that own it).

    Returns
    -------
    tuple[GeoDataFrame, list[str]]
        The frame in EPSG:4549 and the warnings (one sentence each).
    """
    warnings: list[str] = []
    out = gdf.copy() if copy else gdf
    bounds = _bounds(out)
    if out.crs is None:
        if assume is not None:
            out = out.set_crs(_parse_crs(assume, "--crs"))
        else:
            out = _resolve_missing(out, name, bounds, warnings)
            bounds = _bounds(out)
    if bounds is not None:
        out = _fix_label(out, name, bounds, warnings)
    if coords and coords.lower() not in ("wgs84", ""):
        out = convert_coords(out, coords)
        warnings.append(f"{name}: converted {coords.upper()} web-map coordinates to WGS84")
    if out.crs is not None and _is_work_crs(out.crs):
        return out, warnings
    try:
        out = out.to_crs(WORK_CRS)
    except Exception as exc:  # pyproj errors: unusable CRS definitions
        raise CRSError(f"{name}: cannot reproject from {crs_label(out.crs)} to EPSG:{WORK_EPSG}: {exc}") from exc
    new_bounds = _bounds(out)
    if bounds is not None and new_bounds is None:
        raise CRSError(
            f"{name}: reprojecting from {crs_label(gdf.crs)} to EPSG:{WORK_EPSG} gave invalid coordinates "
            f"(input {_fmt_bounds(bounds)}); check the CRS, {_DEFAULT_FIX}"
        )
    if new_bounds is not None:
        lonlat = _lonlat_bounds(new_bounds)
        if lonlat is not None and not in_china(lonlat):
            warnings.append(
                f"{name}: the data lies at lon {lonlat[0]:.2f}..{lonlat[2]:.2f}, lat {lonlat[1]:.2f}..{lonlat[3]:.2f}, "
                "outside China; is the CRS right?"
            )
    return out, warnings


def _is_work_crs(crs: CRS) -> bool:
    try:
        if crs.to_epsg(min_confidence=100) == WORK_EPSG:
            return True
    except Exception:
        pass
    return crs.equals(WORK_CRS)


@functools.lru_cache(maxsize=1)
def _to_lonlat():
    from pyproj import Transformer

    return Transformer.from_crs(WORK_CRS, 4326, always_xy=True)


def _lonlat_bounds(bounds_4549: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    t = _to_lonlat()
    xs = np.array([bounds_4549[0], bounds_4549[2], bounds_4549[0], bounds_4549[2]])
    ys = np.array([bounds_4549[1], bounds_4549[1], bounds_4549[3], bounds_4549[3]])
    lon, lat = t.transform(xs, ys)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        return None
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _parse_crs(value: Any, what: str) -> CRS:
    try:
        return CRS.from_user_input(value)
    except Exception:
        raise CRSError(
            f"{what} {value!r} is not a CRS pyproj understands; expected e.g. EPSG:4549 or EPSG:4326"
        ) from None


def parse_crs(value: Any, what: str = "crs") -> CRS:
    """Parse a user-given CRS (``"EPSG:4549"``, ``4326``, WKT), raising :class:`CRSError` with a hint."""
    return _parse_crs(value, what)


def check_metric(gdf, name: str) -> None:
    """Raise :class:`CRSError` unless ``gdf`` is in a projected CRS measured in metres.

    Parameters
    ----------
    gdf
        The frame an analysis is about to measure distances in.
    name
        The argument's name, used in the message (``"facilities"``).
    """
    crs = getattr(gdf, "crs", None)
    if crs is None:
        raise CRSError(f"`{name}` has no CRS; distances need metres. Set it, e.g. set_crs({WORK_EPSG}), or import it with gridtool import")
    if crs.is_geographic:
        raise CRSError(
            f"`{name}` CRS {crs_label(crs)} is geographic; distances need metres. Reproject with to_crs({WORK_EPSG})."
        )
    units = {ax.unit_name.lower() for ax in crs.axis_info}
    if not units or not all(u in ("metre", "meter", "m") for u in units):
        raise CRSError(
            f"`{name}` CRS {crs_label(crs)} is in {', '.join(sorted(units)) or 'unknown units'}, not metres. "
            f"Reproject with to_crs({WORK_EPSG})."
        )

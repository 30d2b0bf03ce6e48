"""Patrol tracks: store them in a GeoPackage and measure how well each grid was patrolled.

Tracks live in the store GeoPackage as the layer ``patrol_tracks`` (the columns of
:data:`gridtool.kinds.KINDS` ``patrol_tracks`` plus ``name``, ``n_points`` and
``length_m``). :func:`import_gpx` reads every GPX file first and then appends all new
tracks in one SQLite transaction, so a bad file or a failed write leaves the store
as it was; a track already in the store (same ``track_id``, which is a hash of its
points and times) is skipped, so re-importing a file adds nothing.

:func:`patrol_coverage` answers, per grid: when was it last patrolled, how many km
of track lie inside it in the last ``days`` days, how many km of road it has and
what share of those roads lies within ``buffer_m`` (50 m) of such a track.
"""
from __future__ import annotations

import os
import sqlite3
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gridtool.errors import CRSError, InputError, ReadError, SchemaError
from gridtool.feedback import Feedback, ensure_feedback
from gridtool.gpx import TRACK_COLUMNS, read_gpx
from gridtool.kinds import WORK_EPSG

__all__ = [
    "TRACKS_LAYER",
    "ImportResult",
    "import_gpx",
    "import_tracks",
    "read_tracks",
    "patrol_coverage",
    "unpatrolled_grids",
    "to_local_times",
    "resolve_now",
    "COVERAGE_COLUMNS",
]

TRACKS_LAYER = "patrol_tracks"
CHINA_TZ = timezone(timedelta(hours=8))
COVERAGE_COLUMNS = [
    "last_patrolled", "days_since_patrol", "n_tracks", "km_patrolled",
    "road_km", "road_km_covered", "road_share", "patrolled",
]
"""Columns :func:`patrol_coverage` adds to the grid's own ``code``/``name``/``level``."""

_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
_SIMPLIFY_M = 2.0  # tracks are simplified by 2 m before buffering (GPS noise is ~5 m; area error ~0.2%)


# --------------------------------------------------------------------------- times
def to_local_times(values: Iterable, *, column: str = "time") -> pd.Series:
    """Turn ISO 8601 text or datetimes into tz-aware timestamps at +08:00.

    Text or datetimes without an offset are taken as China time (+08:00); ``None``,
    ``NaN`` and empty text become ``NaT``.

    Raises
    ------
    SchemaError
        If a value is neither empty nor a date-time; the message lists the first few.
    """
    s = pd.Series(values, copy=False) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_datetime64_any_dtype(s):
        ts = s if getattr(s.dt, "tz", None) is not None else s.dt.tz_localize(CHINA_TZ)
        return ts.dt.tz_convert(CHINA_TZ)
    out: list = []
    bad: list[str] = []
    for v in s.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or (isinstance(v, str) and not v.strip()):
            out.append(pd.NaT)
            continue
        if isinstance(v, pd.Timestamp):
            dt = v.to_pydatetime()
        elif isinstance(v, datetime):
            dt = v
        else:
            try:
                dt = datetime.fromisoformat(str(v).strip().replace("z", "Z"))
            except ValueError:
                bad.append(repr(v))
                out.append(pd.NaT)
                continue
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=CHINA_TZ)
        out.append(pd.Timestamp(dt).tz_convert(CHINA_TZ))
    if bad:
        raise SchemaError(
            f"column {column!r} has {len(bad)} value(s) that are not ISO 8601 date-times, e.g. "
            f"{', '.join(bad[:3])}; expected text like 2026-03-01T09:30:00+08:00",
            [f"{column}: {b}" for b in bad],
        )
    return pd.Series(pd.to_datetime(pd.Series(out, index=s.index, dtype=object), utc=True), index=s.index).dt.tz_convert(CHINA_TZ)


def resolve_now(now: datetime | str | pd.Timestamp | None) -> pd.Timestamp:
    """``now`` as a timestamp at +08:00; the current time when None."""
    if now is None:
        return pd.Timestamp.now(tz=CHINA_TZ)
    return to_local_times([now], column="now").iloc[0]


# --------------------------------------------------------------------------- GeoPackage writing
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400


def _gpkg_blob(geom: shapely.Geometry, srs_id: int) -> bytes:
    """Encode a geometry as a GeoPackage binary blob (little endian, xy envelope)."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i", srs_id) + struct.pack("<4d", minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, output_dimension=2)


def _blob_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage blob, or None when empty/unreadable."""
    if not blob or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b00010000:  # empty geometry
        return None
    env = (flags >> 1) & 0b111
    order = "<" if flags & 1 else ">"
    if env in (1, 2, 3, 4):
        return struct.unpack(order + "4d", blob[8:40])
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get(env, 0)
    geom = shapely.from_wkb(blob[8 + size:])
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return (minx, maxx, miny, maxy)


def _register_gpkg_functions(con: sqlite3.Connection) -> None:
    """SQL functions GDAL's R-tree triggers call (``ST_IsEmpty``, ``ST_MinX`` ...)."""

    def part(i: int):
        def f(blob):
            env = _blob_envelope(blob)
            return None if env is None else env[i]
        return f

    con.create_function("ST_IsEmpty", 1, lambda b: 1 if _blob_envelope(b) is None else 0, deterministic=True)
    for i, name in enumerate(["ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"]):
        con.create_function(name, 1, part(i), deterministic=True)


_CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
       organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
       identifier TEXT UNIQUE, description TEXT DEFAULT '',
       last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
       min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
       CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
       geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
       CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name),
       CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
       CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]


def _ensure_srs(con: sqlite3.Connection, epsg: int) -> None:
    rows = [
        ("Undefined Cartesian SRS", -1, "NONE", -1, "undefined", "undefined Cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
    ]
    for code in sorted({4326, epsg}):
        crs = CRS.from_epsg(code)
        rows.append((crs.name, code, "EPSG", code, crs.to_wkt("WKT1_GDAL"), None))
    con.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", rows)


_TRACK_SQL_TYPES = {
    "track_id": "TEXT", "name": "TEXT", "inspector": "TEXT", "started_at": "TEXT", "ended_at": "TEXT",
    "n_points": "INTEGER", "length_m": "REAL",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_columns(con: sqlite3.Connection, table: str) -> dict[str, str]:
    return {r[1]: (r[2] or "").upper() for r in con.execute(f"PRAGMA table_info({_quote(table)})")}


@dataclass(frozen=True)
class ImportResult:
    """What an import did: tracks added, tracks skipped as already stored, km added."""

    n_added: int
    n_skipped: int
    km_added: float
    track_ids: tuple[str, ...] = ()


def _check_store_path(store: str | os.PathLike) -> str:
    p = os.fspath(store)
    if not p.lower().endswith(".gpkg"):
        raise InputError(f"--store {p!r} must name a GeoPackage file ending in .gpkg, e.g. patrol.gpkg")
    if os.path.isdir(p):
        raise InputError(f"--store {p!r} is a folder; expected a GeoPackage file such as {os.path.join(p, 'patrol.gpkg')}")
    parent = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(parent):
        raise InputError(f"--store {p!r}: the folder {parent} does not exist; create it first")
    return p


def import_tracks(store: str | os.PathLike, tracks: gpd.GeoDataFrame, *, feedback: Feedback | None = None) -> ImportResult:
    """Append ``tracks`` to the ``patrol_tracks`` layer of ``store`` in one transaction.

    The GeoPackage is created when missing. Tracks whose ``track_id`` is already
    stored are skipped. Either every new track is written or, on any error, none is
    (and a store this call created is removed again).

    Parameters
    ----------
    store
        Path of the store GeoPackage (``.gpkg``).
    tracks
        Lines in EPSG:4549 with the columns of :data:`gridtool.gpx.TRACK_COLUMNS`,
        as :func:`gridtool.gpx.read_gpx` returns.
    feedback
        Progress and cancellation.

    Returns
    -------
    ImportResult
    """
    fb = ensure_feedback(feedback)
    lo = fb.progress  # continue from where a caller (import_gpx) left the bar
    path = _check_store_path(store)
    _check_frame(tracks, "tracks", lines=True)
    if tracks.crs is None or CRS.from_user_input(tracks.crs).to_epsg() != WORK_EPSG:
        raise CRSError(f"tracks are in {tracks.crs}, expected EPSG:{WORK_EPSG}; reproject with to_crs({WORK_EPSG})")
    missing = [c for c in ("track_id", "started_at", "ended_at") if c not in tracks.columns]
    if missing:
        raise SchemaError(f"tracks lack the column(s) {missing}; read them with gridtool.gpx.read_gpx", missing)
    existed = os.path.exists(path)
    if existed:
        _assert_gpkg(path)
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    ok = False
    try:
        _register_gpkg_functions(con)
        con.execute("BEGIN IMMEDIATE")
        if not existed:
            con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        for ddl in _CORE_DDL:
            con.execute(ddl)
        _ensure_srs(con, WORK_EPSG)
        layer_exists = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TRACKS_LAYER,)).fetchone() is not None
        if not layer_exists:
            cols = ", ".join(f"{_quote(c)} {t}" for c, t in _TRACK_SQL_TYPES.items())
            con.execute(f'CREATE TABLE {_quote(TRACKS_LAYER)} ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
                        f'"geom" LINESTRING, {cols})')
            con.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
                "VALUES (?, 'features', ?, ?, ?)", (TRACKS_LAYER, TRACKS_LAYER, "巡查轨迹 patrol tracks", WORK_EPSG))
            con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'LINESTRING', ?, 0, 0)",
                        (TRACKS_LAYER, WORK_EPSG))
        geom_row = con.execute(
            "SELECT column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns WHERE table_name=?",
            (TRACKS_LAYER,)).fetchone()
        if geom_row is None:
            raise ReadError(f"store {path}: table {TRACKS_LAYER!r} exists but is not a GeoPackage feature layer")
        geom_col, geom_type, srs_id = geom_row
        srs_epsg = con.execute("SELECT organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id=?",
                               (srs_id,)).fetchone()
        if srs_epsg is None or int(srs_epsg[0]) != WORK_EPSG:
            raise CRSError(f"store {path}: layer {TRACKS_LAYER!r} is in SRS {srs_id}, expected EPSG:{WORK_EPSG}; "
                           "use another store file")
        table_cols = _table_columns(con, TRACKS_LAYER)
        for c, t in _TRACK_SQL_TYPES.items():
            if c not in table_cols:
                con.execute(f"ALTER TABLE {_quote(TRACKS_LAYER)} ADD COLUMN {_quote(c)} {t}")
                table_cols[c] = t
        have = {r[0] for r in con.execute(f"SELECT track_id FROM {_quote(TRACKS_LAYER)} WHERE track_id IS NOT NULL")}
        ids = tracks["track_id"].astype(str).tolist()
        seen: set[str] = set()
        new_idx = []
        for i, tid in enumerate(ids):
            if tid not in have and tid not in seen:
                new_idx.append(i)
                seen.add(tid)
        cols = [c for c in _TRACK_SQL_TYPES if c in tracks.columns]
        multi = str(geom_type).upper().startswith("MULTI")
        insert = (f"INSERT INTO {_quote(TRACKS_LAYER)} ({_quote(geom_col)}, {', '.join(_quote(c) for c in cols)}) "
                  f"VALUES (?{', ?' * len(cols)})")
        geoms = tracks.geometry.to_numpy()
        km = 0.0
        for n, i in enumerate(new_idx):
            g = geoms[i]
            if g is None or g.is_empty:
                raise InputError(f"track {ids[i]} has no geometry; nothing was imported")
            if multi and g.geom_type == "LineString":
                g = shapely.multilinestrings([g])
            row = tracks.iloc[i]
            values = []
            for c in cols:
                v = row[c]
                if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
                    values.append(None)
                elif c in ("started_at", "ended_at"):
                    ts = to_local_times([v], column=c).iloc[0]
                    if table_cols.get(c) == "DATETIME":  # GeoPackage DATETIME is UTC with Z
                        values.append(ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.") + "000Z")
                    else:
                        values.append(ts.isoformat())
                elif c == "n_points":
                    values.append(int(v))
                elif c == "length_m":
                    values.append(float(v))
                else:
                    values.append(str(v))
            con.execute(insert, [_gpkg_blob(g, int(srs_id)), *values])
            km += float(g.length) / 1000.0
            if n % 200 == 0:
                fb.step(n, len(new_idx), "writing tracks", lo=lo)
        ext = con.execute(f"SELECT min(ST_MinX({_quote(geom_col)})), min(ST_MinY({_quote(geom_col)})), "
                          f"max(ST_MaxX({_quote(geom_col)})), max(ST_MaxY({_quote(geom_col)})) "
                          f"FROM {_quote(TRACKS_LAYER)}").fetchone()
        con.execute("UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, "
                    "last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?", (*ext, TRACKS_LAYER))
        fb.check()
        con.execute("COMMIT")
        ok = True
    except sqlite3.DatabaseError as exc:
        raise ReadError(f"store {path} could not be written ({exc}); nothing was imported. Is it a GeoPackage, "
                        "and not open for writing in another program?") from None
    finally:
        if not ok and con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
        if not ok and not existed and os.path.exists(path):
            os.remove(path)
    return ImportResult(len(new_idx), len(ids) - len(new_idx), km, tuple(ids[i] for i in new_idx))


def _assert_gpkg(path: str) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise ReadError(f"store {path} cannot be read: {exc}") from None
    if head and head != b"SQLite format 3\x00":
        raise ReadError(f"store {path} is not a GeoPackage (not an SQLite file); pass another --store file")
    if not head:
        return
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='gpkg_contents'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise ReadError(f"store {path} is not a readable GeoPackage ({exc}); pass another --store file") from None
    finally:
        con.close()
    if not ok:
        raise ReadError(f"store {path} is an SQLite file but not a GeoPackage (no gpkg_contents table); "
                        "pass another --store file")


def import_gpx(
    store: str | os.PathLike,
    paths: Sequence[str | os.PathLike],
    *,
    inspector: str | None = None,
    feedback: Feedback | None = None,
) -> ImportResult:
    """Read GPX files and append their tracks to ``store``: all of them or, on any error, none.

    Parameters
    ----------
    store
        The store GeoPackage (created when missing).
    paths
        GPX files. Every file is read and checked before anything is written.
    inspector
        Inspector name for every track (else taken from each file, see
        :func:`gridtool.gpx.read_gpx`).
    feedback
        Progress and cancellation.
    """
    fb = ensure_feedback(feedback)
    if not paths:
        raise InputError("no GPX file given; pass one or more FILE.gpx")
    frames = []
    for n, p in enumerate(paths):
        frames.append(read_gpx(p, inspector=inspector))
        fb.step(n + 1, len(paths), f"read {os.path.basename(os.fspath(p))}", hi=50)
    tracks = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WORK_EPSG)
    return import_tracks(store, tracks, feedback=fb)


def read_tracks(store: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read the ``patrol_tracks`` layer of ``store`` (an empty frame if the layer is missing).

    Raises
    ------
    ReadError
        If the store does not exist or is not a GeoPackage.
    """
    p = os.fspath(store)
    if not os.path.isfile(p):
        raise ReadError(f"store {p} does not exist; import tracks first with 'gridtool patrol import --store {p} FILE.gpx'")
    _assert_gpkg(p)
    layers = {str(name) for name, _ in pyogrio.list_layers(p)}
    if TRACKS_LAYER not in layers:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in TRACK_COLUMNS},
                                geometry=gpd.GeoSeries([], crs=WORK_EPSG), crs=WORK_EPSG)
    return pyogrio.read_dataframe(p, layer=TRACKS_LAYER)


# --------------------------------------------------------------------------- coverage
def _check_frame(frame: object, role: str, *, lines: bool = False, polygons: bool = False) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"`{role}` must be a GeoDataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        return
    types = set(frame.geometry.dropna().geom_type.unique())
    if lines and not types <= {"LineString", "MultiLineString"}:
        raise SchemaError(f"`{role}` must hold lines, found {sorted(types)}", [f"{role}: {sorted(types)}"])
    if polygons and not types <= {"Polygon", "MultiPolygon"}:
        raise SchemaError(f"`{role}` must hold polygons, found {sorted(types)}", [f"{role}: {sorted(types)}"])


def _check_crs(frames: dict[str, gpd.GeoDataFrame | None]) -> None:
    crss = {role: f.crs for role, f in frames.items() if f is not None}
    for role, crs in crss.items():
        if crs is None:
            raise CRSError(f"`{role}` has no CRS; set it with set_crs({WORK_EPSG}) if it is in EPSG:{WORK_EPSG} metres")
        if not CRS.from_user_input(crs).is_projected:
            raise CRSError(f"`{role}` is in {CRS.from_user_input(crs).to_string()} (degrees); distances need metres — "
                           f"reproject with to_crs({WORK_EPSG})")
    items = list(crss.items())
    for role, crs in items[1:]:
        if CRS.from_user_input(crs) != CRS.from_user_input(items[0][1]):
            raise CRSError(f"`{role}` CRS {CRS.from_user_input(crs).to_string()} differs from `{items[0][0]}` CRS "
                           f"{CRS.from_user_input(items[0][1]).to_string()}; reproject one with to_crs()")


def _track_times(tracks: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    if "ended_at" not in tracks.columns and "started_at" not in tracks.columns:
        raise SchemaError("`tracks` has neither 'ended_at' nor 'started_at'; patrol coverage needs track times",
                          ["tracks: missing ended_at/started_at"])
    start = to_local_times(tracks["started_at"], column="started_at") if "started_at" in tracks.columns else None
    end = to_local_times(tracks["ended_at"], column="ended_at") if "ended_at" in tracks.columns else None
    if end is None:
        end = start
    if start is None:
        start = end
    end = end.fillna(start)
    start = start.fillna(end)
    return start, end


def _pair_lengths(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    if len(ia) == 0:
        return np.zeros(0)
    return shapely.length(shapely.intersection(a[ia], b[ib]))


def patrol_coverage(
    tracks: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    *,
    days: float = 30,
    now: datetime | str | pd.Timestamp | None = None,
    buffer_m: float = 50.0,
    feedback: Feedback | None = None,
) -> gpd.GeoDataFrame:
    """Patrol coverage per grid over the last ``days`` days.

    Parameters
    ----------
    tracks
        Patrol tracks (lines) with ``started_at``/``ended_at`` (ISO 8601 text or
        datetimes; without an offset they are taken as +08:00).
    grids
        Grid polygons of one or several levels (e.g. street and community grids
        concatenated, with a ``level`` column); each row is measured on its own.
    roads
        Road lines; without them the road columns are NaN.
    days
        Length of the window ending at ``now``. A track is in the window when it ended
        at or after ``now - days`` and started no later than ``now``.
    now
        End of the window; default the current time.
    buffer_m
        A road counts as covered where it lies within this distance of a track in the
        window. Tracks are simplified by 2 m (Douglas–Peucker) before buffering;
        GPS noise is larger, and the covered road length changes by well under 1%.
    feedback
        Progress and cancellation.

    Returns
    -------
    GeoDataFrame
        The grids' ``code``, ``name``, ``level`` and ``parent_code`` columns (those
        present), then :data:`COVERAGE_COLUMNS` and the grid geometry:
        ``last_patrolled`` (end time of the latest track, up to ``now``, that runs
        inside the grid, at +08:00, NaT if never), ``days_since_patrol``,
        ``n_tracks`` and ``km_patrolled`` (tracks in the window and their length
        inside the grid; overlapping tracks count twice), ``road_km`` (road length
        inside the grid), ``road_km_covered`` (of it, within ``buffer_m`` of a track
        in the window), ``road_share`` (covered / road_km, NaN without roads) and
        ``patrolled`` (some track of the window runs inside the grid).

    Raises
    ------
    CRSError
        A frame has no CRS, a geographic CRS, or the CRSs differ.
    SchemaError
        Wrong geometry types or unreadable track times.
    InputError
        ``days`` or ``buffer_m`` not positive.
    """
    fb = ensure_feedback(feedback)
    _check_frame(tracks, "tracks", lines=True)
    _check_frame(grids, "grids", polygons=True)
    if roads is not None:
        _check_frame(roads, "roads", lines=True)
    _check_crs({"grids": grids, "tracks": tracks if len(tracks) else None, "roads": roads})
    if not (isinstance(days, (int, float)) and days > 0):
        raise InputError(f"`days` is {days!r}; expected a positive number of days, e.g. 30")
    if not (isinstance(buffer_m, (int, float)) and buffer_m > 0):
        raise InputError(f"`buffer_m` is {buffer_m!r}; expected a positive distance in metres, e.g. 50")
    now_ts = resolve_now(now)
    cutoff = now_ts - pd.Timedelta(days=float(days))

    n_grids = len(grids)
    grid_geoms = grids.geometry.to_numpy()
    if len(tracks):
        start, end = _track_times(tracks)
        started_ok = (start <= now_ts).fillna(False).to_numpy()
        end_np = end.to_numpy()
        in_window = started_ok & (end >= cutoff).fillna(False).to_numpy()
        track_geoms = tracks.geometry.to_numpy()
    else:
        started_ok = in_window = np.zeros(0, dtype=bool)
        end_np = np.array([], dtype="datetime64[ns]")
        track_geoms = np.array([], dtype=object)
    fb.set_progress(5, "tracks in grids")

    # tracks × grids: last patrolled (any time up to now) and km inside (in window)
    last_s = np.full(n_grids, -np.inf)  # seconds since 1970 of the latest track end
    km = np.zeros(n_grids)
    n_tr = np.zeros(n_grids, dtype=np.int64)
    if len(track_geoms):
        tree = shapely.STRtree(track_geoms)
        gi, ti = tree.query(grid_geoms, predicate="intersects")
        keep = started_ok[ti]
        gi, ti = gi[keep], ti[keep]
        lengths = _pair_lengths(track_geoms, grid_geoms, ti, gi)
        inside = lengths > 0
        gi, ti, lengths = gi[inside], ti[inside], lengths[inside]
        end_s = ((end - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
        now_s = (now_ts - _EPOCH) / pd.Timedelta(seconds=1)
        np.maximum.at(last_s, gi, np.minimum(end_s[ti], now_s))
        w = in_window[ti]
        km = np.bincount(gi[w], weights=lengths[w], minlength=n_grids) / 1000.0
        n_tr = np.bincount(gi[w], minlength=n_grids)
    fb.set_progress(35, "roads in grids")

    road_km = np.full(n_grids, np.nan)
    covered_km = np.full(n_grids, np.nan)
    if roads is not None:
        road_geoms = roads.geometry.dropna().to_numpy()
        road_km = np.zeros(n_grids)
        covered_km = np.zeros(n_grids)
        if len(road_geoms):
            rtree = shapely.STRtree(road_geoms)
            gi, ri = rtree.query(grid_geoms, predicate="intersects")
            pieces = shapely.intersection(road_geoms[ri], grid_geoms[gi])
            plen = shapely.length(pieces)
            road_km = np.bincount(gi, weights=plen, minlength=n_grids) / 1000.0
            fb.set_progress(60, "roads near tracks")
            win_geoms = track_geoms[in_window] if len(track_geoms) else track_geoms
            win_geoms = win_geoms[~shapely.is_empty(win_geoms) & ~shapely.is_missing(win_geoms)] if len(win_geoms) else win_geoms
            if len(win_geoms) and len(pieces):
                zone = shapely.union_all(shapely.buffer(shapely.simplify(win_geoms, _SIMPLIFY_M), buffer_m))
                parts = shapely.get_parts(zone)  # disjoint polygons: their lengths add up
                fb.check()
                # query with the (few, large) zone parts, so that each is prepared once: pieces
                # wholly inside a part count in full, only those crossing its edge are cut
                ptree = shapely.STRtree(pieces)
                zi, pi = ptree.query(parts, predicate="intersects")
                zin, pin = ptree.query(parts, predicate="contains_properly")
                inside = np.zeros(len(pieces), dtype=bool)
                inside[pin] = True
                cross = ~inside[pi]
                clen = np.concatenate([plen[pin], _pair_lengths(pieces, parts, pi[cross], zi[cross])])
                cidx = np.concatenate([pin, pi[cross]])
                covered_km = np.bincount(gi[cidx], weights=clen, minlength=n_grids) / 1000.0
    fb.set_progress(95, "table")

    keep_cols = [c for c in ("code", "name", "level", "parent_code") if c in grids.columns]
    out = pd.DataFrame({c: grids[c].to_numpy() for c in keep_cols}, index=grids.index)
    last_ts = pd.Series(pd.to_datetime(np.where(np.isfinite(last_s), last_s, np.nan), unit="s", utc=True),
                        index=grids.index).dt.tz_convert(CHINA_TZ)
    out["last_patrolled"] = last_ts
    out["days_since_patrol"] = ((now_ts - last_ts) / pd.Timedelta(days=1)).astype(float)
    out["n_tracks"] = n_tr.astype(np.int64)
    out["km_patrolled"] = km
    out["road_km"] = road_km
    out["road_km_covered"] = covered_km
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(road_km > 0, covered_km / np.where(road_km > 0, road_km, 1.0), np.nan)
    out["road_share"] = share
    out["patrolled"] = km > 0
    fb.set_progress(100, "done")
    return gpd.GeoDataFrame(out, geometry=grids.geometry.to_numpy(), crs=grids.crs)


def unpatrolled_grids(
    tracks: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    days: float = 30,
    now: datetime | str | pd.Timestamp | None = None,
) -> gpd.GeoDataFrame:
    """Grids that no track ran through in the last ``days`` days, longest-neglected first.

    Same columns as :func:`patrol_coverage` (without roads); grids never patrolled
    come first, then by ``last_patrolled`` ascending.
    """
    cov = patrol_coverage(tracks, grids, None, days=days, now=now)
    out = cov[~cov["patrolled"]].drop(columns=["road_km", "road_km_covered", "road_share"])
    neglect = np.nan_to_num(out["days_since_patrol"].to_numpy(dtype=float), nan=np.inf)
    return out.iloc[np.argsort(-neglect, kind="stable")]

"""Read GPX patrol tracks into line layers in the work CRS (EPSG:4549).

A GPX file from a phone tracking app holds one or more ``<trk>``, each with one or
more ``<trkseg>`` of ``<trkpt lat= lon=>`` points that carry a ``<time>``. Every
segment with at least two points becomes one row of a ``patrol_tracks`` layer (see
:data:`gridtool.kinds.KINDS`): a LineString in EPSG:4549 with the time of its first
and last point (``started_at``/``ended_at``, ISO 8601 text at +08:00), the number of
points, the length in metres and a ``track_id`` made from the points and their
times, so that importing the same file twice, or the same track from two files,
gives the same id.

The file is parsed with :mod:`xml.etree.ElementTree` (expat), which never loads
external entities; documents with a ``<!DOCTYPE`` (and so any entity declaration)
are refused outright, which also rules out "billion laughs" entity expansion. Every
problem is reported as one :class:`~gridtool.errors.ReadError` naming the file and
the place in it, and nothing is returned for a file that has any problem.
"""
from __future__ import annotations

import hashlib
import math
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gridtool.errors import CRSError, ReadError
from gridtool.kinds import WORK_EPSG

__all__ = ["read_gpx", "parse_gpx", "TRACK_COLUMNS", "MAX_GPX_BYTES"]

CHINA_TZ = timezone(timedelta(hours=8))
"""Times are written at +08:00 (China Standard Time), as everywhere in gridtool."""

TRACK_COLUMNS = ["track_id", "name", "inspector", "started_at", "ended_at", "n_points", "length_m"]
"""Attribute columns of the frame :func:`read_gpx` returns (before ``geometry``)."""

MAX_GPX_BYTES = 200 * 1024 * 1024
"""Larger files are refused (a day of 1 s tracking is about 5 MB)."""

# EPSG:4549 is defined for 118.5°E–121.5°E; Zhonglou lies near 119.9°E, 31.8°N.
_ZONE_LON = (118.5, 121.5)
_ZONE_LAT = (18.0, 54.0)

_TO_WORK = Transformer.from_crs(4326, WORK_EPSG, always_xy=True)


def _local(tag: str) -> str:
    """Tag name without its namespace (GPX 1.0 and 1.1 use different ones)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(elem: ET.Element, name: str) -> ET.Element | None:
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if _local(c.tag) == name]


def _text(elem: ET.Element | None) -> str | None:
    if elem is None or elem.text is None:
        return None
    t = " ".join(elem.text.split())
    return t or None


def _parse_time(text: str, where: str, source: str) -> datetime:
    """Parse a GPX ``<time>`` (xsd:dateTime); times without an offset are UTC, as GPX says."""
    t = text.strip()
    try:
        # fromisoformat accepts "Z" and fractional seconds from Python 3.11 on
        dt = datetime.fromisoformat(t.replace("z", "Z"))
    except ValueError:
        raise ReadError(
            f"GPX file {source}: {where} has the time {t!r}, which is not an ISO 8601 date-time; "
            "expected e.g. 2026-03-01T01:30:00Z — re-export the track from the tracking app"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


def _iso(dt: datetime) -> str:
    return dt.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def _author(root: ET.Element) -> str | None:
    meta = _child(root, "metadata")
    if meta is not None:  # GPX 1.1: <metadata><author><name>
        author = _child(meta, "author")
        if author is not None:
            name = _text(_child(author, "name"))
            if name:
                return name
    return _text(_child(root, "author"))  # GPX 1.0: <author> text


def parse_gpx(data: bytes, *, source: str = "<gpx>", inspector: str | None = None) -> gpd.GeoDataFrame:
    """Parse GPX text into patrol tracks; see :func:`read_gpx`.

    Parameters
    ----------
    data
        The bytes of a GPX 1.0 or 1.1 document.
    source
        The file name, used in error messages.
    inspector
        Name of the inspector for every track; overrides the file's author.
    """
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ReadError(
            f"GPX file {source} contains a <!DOCTYPE> or <!ENTITY> declaration, which gridtool refuses "
            "for safety (GPX never needs one); re-export the track from the tracking app"
        )
    if not head:
        raise ReadError(f"GPX file {source} is empty; expected a GPX document with <trk> tracks")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ReadError(
            f"GPX file {source} is not well-formed XML ({exc}); the file may be truncated or not a GPX "
            "file — re-export the track from the tracking app"
        ) from None
    if _local(root.tag) != "gpx":
        raise ReadError(
            f"GPX file {source} has the root element <{_local(root.tag)}>, expected <gpx>; "
            "is it a GPX file (KML and GeoJSON are imported with 'gridtool layers import')?"
        )
    file_author = inspector if inspector else _author(root)

    rows: list[dict] = []
    geoms: list[shapely.LineString] = []
    n_segments_seen = 0
    for ti, trk in enumerate(_children(root, "trk"), start=1):
        trk_name = _text(_child(trk, "name"))
        trk_desc = _text(_child(trk, "desc"))
        who = inspector if inspector else (file_author or trk_desc)
        label = f"track {ti}" + (f" ({trk_name!r})" if trk_name else "")
        for si, seg in enumerate(_children(trk, "trkseg"), start=1):
            n_segments_seen += 1
            pts = _children(seg, "trkpt")
            lon = np.empty(len(pts))
            lat = np.empty(len(pts))
            times: list[datetime | None] = []
            for pi, pt in enumerate(pts):
                where = f"{label}, segment {si}, point {pi + 1}"
                try:
                    lat[pi] = float(pt.attrib["lat"])
                    lon[pi] = float(pt.attrib["lon"])
                except KeyError as exc:
                    raise ReadError(
                        f"GPX file {source}: {where} has no {exc.args[0]} attribute; every <trkpt> needs "
                        "lat and lon in decimal degrees"
                    ) from None
                except ValueError:
                    raise ReadError(
                        f"GPX file {source}: {where} has lat={pt.attrib.get('lat')!r} lon={pt.attrib.get('lon')!r}, "
                        "expected decimal degrees such as lat=\"31.78\" lon=\"119.94\""
                    ) from None
                if not (math.isfinite(lat[pi]) and math.isfinite(lon[pi]) and -90 <= lat[pi] <= 90
                        and -180 <= lon[pi] <= 180):
                    raise ReadError(
                        f"GPX file {source}: {where} has lat={lat[pi]} lon={lon[pi]}, outside -90..90 / -180..180"
                    )
                if not (_ZONE_LON[0] <= lon[pi] <= _ZONE_LON[1] and _ZONE_LAT[0] <= lat[pi] <= _ZONE_LAT[1]):
                    raise CRSError(
                        f"GPX file {source}: {where} is at lon={lon[pi]} lat={lat[pi]}, outside the work CRS "
                        f"EPSG:{WORK_EPSG} zone (118.5–121.5°E); Zhonglou lies near 119.9°E 31.8°N — is the file "
                        "from another area, or are lat and lon swapped?"
                    )
                t = _text(_child(pt, "time"))
                times.append(_parse_time(t, where, source) if t else None)
            if len(pts) < 2:
                continue
            known = [t for t in times if t is not None]
            if not known:
                raise ReadError(
                    f"GPX file {source}: {label}, segment {si} has no <time> on its points; patrol tracks "
                    "need times — record the track with a tracking app (not a planned route) and export it as GPX"
                )
            x, y = _TO_WORK.transform(lon, lat)
            line = shapely.linestrings(np.column_stack([x, y]))
            digest = hashlib.sha1()
            for lo_, la_, t in zip(lon, lat, times):
                digest.update(f"{lo_:.7f},{la_:.7f},{t.timestamp() if t else ''};".encode())
            rows.append({
                "track_id": "trk-" + digest.hexdigest()[:16],
                "name": trk_name,
                "inspector": who,
                "started_at": _iso(min(known)),
                "ended_at": _iso(max(known)),
                "n_points": len(pts),
                "length_m": float(line.length),
            })
            geoms.append(line)
    if not rows:
        what = "no <trk>" if n_segments_seen == 0 else "no track segment with at least 2 points"
        raise ReadError(
            f"GPX file {source} has {what}; a patrol track is a <trk><trkseg> of <trkpt> points with times "
            "(waypoints and routes are not tracks)"
        )
    frame = pd.DataFrame(rows, columns=TRACK_COLUMNS).astype({"n_points": "int64", "length_m": "float64"})
    # a track repeated inside one file counts once
    keep = ~frame["track_id"].duplicated().to_numpy()
    return gpd.GeoDataFrame(frame[keep].reset_index(drop=True),
                            geometry=[g for g, k in zip(geoms, keep) if k], crs=WORK_EPSG)


def read_gpx(path: str | os.PathLike, *, inspector: str | None = None) -> gpd.GeoDataFrame:
    """Read the tracks of a GPX file as LineStrings in EPSG:4549.

    Parameters
    ----------
    path
        A GPX 1.0 or 1.1 file.
    inspector
        Inspector name written on every track. Without it, the file's author
        (``<metadata><author><name>``, GPX 1.0 ``<author>``) is used, else the track's
        ``<desc>``; the track's ``<name>`` goes to the ``name`` column.

    Returns
    -------
    GeoDataFrame
        One row per track segment with two or more points, columns
        :data:`TRACK_COLUMNS` and ``geometry`` (EPSG:4549). ``started_at`` and
        ``ended_at`` are the earliest and latest point times as ISO 8601 text at +08:00.

    Raises
    ------
    ReadError
        The file is missing, too large, not well-formed, not GPX, has a DOCTYPE, has
        points without valid coordinates, a segment without any time, or no track.
    CRSError
        A point lies outside the EPSG:4549 zone (118.5–121.5°E).
    """
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise ReadError(f"GPX file {p} does not exist or is not a file; check the path")
    size = os.path.getsize(p)
    if size > MAX_GPX_BYTES:
        raise ReadError(
            f"GPX file {p} is {size / 1e6:.0f} MB, more than the {MAX_GPX_BYTES / 1e6:.0f} MB gridtool reads; "
            "split it into days in the tracking app"
        )
    with open(p, "rb") as fh:
        data = fh.read()
    return parse_gpx(data, source=p, inspector=inspector)


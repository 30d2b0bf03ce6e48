"""Photos of findings: reading EXIF position and time, copying files into a store safely.

A phone photo carries its GPS position (WGS84) and the time it was taken in EXIF. Read
it with :func:`read_photo`; copy it into a store's photo folder with
:func:`copy_into_folder`, which chooses the file name itself (a content hash and an
extension taken from the image format, never from the outside name), writes a temporary
file, fsyncs it and renames it into place, so a name from outside never escapes the
folder and a half-written photo never carries the final name.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

from gridtool.atomic import atomic_write_bytes
from gridtool.errors import ReadError
from gridtool.paths import safe_join

__all__ = [
    "PhotoInfo",
    "read_photo",
    "copy_into_folder",
    "ground_distance_m",
    "CHINA_TZ",
    "PHOTO_SUFFIXES",
]

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
"""China Standard Time (UTC+8, no daylight saving): EXIF times without an offset are read in it."""

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")
"""File suffixes that a photo folder import looks at (case-insensitive)."""

_FORMAT_EXT = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp"}

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011


@dataclass(frozen=True)
class PhotoInfo:
    """What a photo file says about itself.

    Attributes
    ----------
    path
        The file read.
    sha256
        Hex digest of the file's bytes.
    ext
        Extension for the stored copy, from the image format (``.jpg``, ``.png`` ...).
    taken_at
        EXIF DateTimeOriginal (else DateTime), timezone-aware; None without EXIF time.
    lon, lat
        EXIF GPS position in WGS84 degrees; None without a GPS tag.
    has_exif
        True when the file has any EXIF data.
    """

    path: Path
    sha256: str
    ext: str
    taken_at: dt.datetime | None
    lon: float | None
    lat: float | None
    has_exif: bool

    @property
    def has_position(self) -> bool:
        return self.lon is not None and self.lat is not None


def _ratio(value: object) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # (num, den) in old Pillow
        num, den = value
        return float(num) / float(den)
    return float(value)  # type: ignore[arg-type]


def _dms(values: object, ref: object) -> float | None:
    try:
        d, m, s = (_ratio(v) for v in values)  # type: ignore[union-attr]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60.0 + s / 3600.0
    if not math.isfinite(deg):
        return None
    ref_s = ref.decode() if isinstance(ref, bytes) else str(ref or "")
    if ref_s.strip().upper() in ("S", "W"):
        deg = -deg
    return deg


def _parse_exif_time(text: object, offset: object) -> dt.datetime | None:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        return None
    text = text.strip().rstrip("\x00")
    try:
        naive = dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz = CHINA_TZ
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str) and len(offset.strip()) >= 6:
        off = offset.strip()
        try:
            sign = -1 if off[0] == "-" else 1
            hours, minutes = int(off[1:3]), int(off[4:6])
            tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
        except ValueError:
            tz = CHINA_TZ
    return naive.replace(tzinfo=tz)


def read_photo(path: str | os.PathLike[str]) -> PhotoInfo:
    """Read a photo's content hash, format, EXIF time and GPS position.

    Parameters
    ----------
    path
        An image file (JPEG from a phone, PNG, TIFF or WebP).

    Returns
    -------
    PhotoInfo

    Raises
    ------
    ReadError
        When the file is missing, is not an image, or is truncated/corrupt.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise ReadError(f"photo {str(p)!r} does not exist or is not a file; check the path")
    data = p.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        with Image.open(p) as im:
            fmt = (im.format or "").upper()
            exif = im.getexif()
            if fmt == "JPEG":
                im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
            im.load()  # decodes the image: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ReadError(
            f"photo {str(p)!r} is not a readable image ({exc}); it may be corrupt or truncated. "
            "Copy it from the phone again, or leave it out"
        ) from exc
    ext = _FORMAT_EXT.get(fmt)
    if ext is None:
        raise ReadError(
            f"photo {str(p)!r} is a {fmt or 'unknown'} image; expected JPEG, PNG, TIFF or WebP. "
            "Convert it to JPEG first"
        )
    has_exif = len(exif) > 0
    lon = lat = None
    taken = None
    if has_exif:
        gps = exif.get_ifd(_GPS_IFD)
        if gps and 2 in gps and 4 in gps:
            lat = _dms(gps.get(2), gps.get(1))
            lon = _dms(gps.get(4), gps.get(3))
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
                lon = lat = None
        sub = exif.get_ifd(_EXIF_IFD)
        taken = _parse_exif_time(sub.get(_DATETIME_ORIGINAL), sub.get(_OFFSET_TIME_ORIGINAL))
        if taken is None:
            taken = _parse_exif_time(exif.get(_DATETIME), None)
    return PhotoInfo(path=p, sha256=sha, ext=ext, taken_at=taken, lon=lon, lat=lat, has_exif=has_exif)


def copy_into_folder(info: PhotoInfo, folder: str | os.PathLike[str]) -> str:
    """Copy a photo into ``folder`` under a name chosen here; return that name.

    The name is the first 24 hex digits of the content hash plus the format's extension,
    so the same photo is stored once and an outside name (``../../x.jpg``) plays no part.
    The bytes are written to a temporary file in ``folder``, fsynced, then renamed into
    place (atomic on POSIX and Windows), and the folder is fsynced, so the file is durable
    before the caller commits the database row that names it.

    Parameters
    ----------
    info
        The photo as read by :func:`read_photo`.
    folder
        The store's photo folder (created when missing).

    Returns
    -------
    str
        The stored file name (no directories).
    """
    dest_dir = Path(folder)
    dest_dir.mkdir(parents=True, exist_ok=True)
    name = f"{info.sha256[:24]}{info.ext}"
    target = safe_join(dest_dir, name)
    if target.exists() and target.stat().st_size == info.path.stat().st_size:
        return name
    data = info.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise ReadError(f"photo {str(info.path)!r} changed while it was being imported; try again")
    atomic_write_bytes(target, data)
    return name


def ground_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (haversine, R = 6,371,008.8 m)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi = p2 - p1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))

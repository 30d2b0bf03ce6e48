"""The patrol-findings store: findings on the map, followed from report to close-out (销号).

A store is a GeoPackage that QGIS opens: the point layer ``findings`` (EPSG:4549, columns
of the ``findings`` kind in :mod:`gridtool.kinds` plus ``version``, ``updated_at``,
``duplicate_of``, ``x``/``y`` and ``lon``/``lat``), the append-only history table
``finding_events`` and the table ``finding_photos``; photo files live in the folder
``<store stem>_photos/`` beside it. Every change is one SQLite transaction committed
before the call returns, so there is no save step and a crash loses nothing that a call
had already returned.

::

    store = FindingsStore.open("findings.gpkg")          # created when missing
    res = store.add(lon=119.93, lat=31.78, category="household",
                    finding_type="暴露垃圾", description="路边垃圾堆", photos=["a.jpg"])
    res.finding.finding_id, res.duplicates               # 'ZL-2026-000001', nearby open ones
    store.set_status(fid, "dispatched", department="区城管局", expected_version=1)
    store.query(status=["dispatched"], grid_code="320404001", overdue=True)  # GeoDataFrame
    store.history(fid); store.photos(fid); store.overdue_summary(by="department")

Design
------
The store logic (ids, workflow, deadlines, validation, location assignment, photo
checks) lives in :class:`FindingsStore`; everything that touches SQL lives in a backend
(:class:`FindingsBackend` protocol). :class:`SQLiteBackend` writes the GeoPackage with
the :mod:`sqlite3` module; a PostgreSQL/PostGIS backend implements the same methods.
The SQL is parameterised and portable: ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``
for id counters, ``UPDATE ... WHERE version = ?`` for optimistic concurrency.

Durability: WAL journal, ``synchronous=FULL`` (a commit fsyncs the WAL, so a committed
finding survives a power cut as well as a killed process; ``NORMAL`` would survive only
the killed process), ``BEGIN IMMEDIATE`` for every write so concurrent writers queue on
``busy_timeout`` instead of failing mid-transaction, and ids allocated inside the same
transaction from a per-year counter so they stay unique across processes.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import math
import os
import sqlite3
import struct
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from gridtool.calendar_cn import add_working_days, working_days_between
from gridtool.errors import ConflictError, InputError, ReadError, SchemaError, WorkflowError
from gridtool.feedback import Feedback, ensure_feedback
from gridtool.kinds import KINDS, WORK_EPSG
from gridtool.photos import CHINA_TZ, PhotoInfo, copy_into_folder, ground_distance_m, read_photo
from gridtool.styles import OVERDUE_COLOUR, STATUS_COLOURS

__all__ = [
    "Term", "CATEGORIES", "FINDING_TYPES", "STATUSES", "TRANSITIONS", "OPEN_STATUSES", "PENDING_STATUSES",
    "DEFAULT_DEADLINE_DAYS", "EVIDENCE_RADIUS_M", "DUPLICATE_RADIUS_M", "STATUS_COLORS", "OVERDUE_COLOR",
    "parse_category", "parse_finding_type", "parse_status", "term_label", "suggest_department",
    "Finding", "NewFinding", "AddResult", "Event", "StoredPhoto", "Location", "ImportResult",
    "GridLocator", "FindingsStore", "FindingsBackend", "SQLiteBackend", "open_store",
    "GridsChangedWarning",
]

SCHEMA_VERSION = 1
EVIDENCE_RADIUS_M = 30.0
"""A close-out photo with a GPS position must lie within this distance of the finding."""
DUPLICATE_RADIUS_M = 50.0
"""An open finding of the same type within this distance is suggested as a duplicate."""


# ----------------------------------------------------------------------------------
# vocabulary: categories, finding types, statuses (English key, Chinese name, label)
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """One value of a closed vocabulary: stored ``key``, Chinese ``zh``, English ``en``."""

    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


CATEGORIES: tuple[Term, ...] = (
    Term("industrial", "工业固体废物", "Industrial solid waste", ("工业固废", "工业", "industry")),
    Term("agricultural", "农业固体废物", "Agricultural solid waste", ("农业固废", "农业", "agriculture")),
    Term("household", "生活垃圾", "Household waste", ("生活", "domestic", "municipal")),
    Term("construction", "建筑垃圾", "Construction waste", ("建筑", "渣土", "建筑渣土")),
    Term("hazardous", "危险废物", "Hazardous waste", ("危废", "医疗废物", "medical", "危险")),
)
FINDING_TYPES: tuple[Term, ...] = (
    Term("illegal_dumping", "非法倾倒", "Illegal dumping", ("倾倒", "dumping", "乱倒")),
    Term("legacy_waste", "历史遗留", "Legacy waste", ("历史遗留固体废物", "历史遗留废物", "legacy")),
    Term("exposed_garbage", "暴露垃圾", "Exposed garbage", ("exposed",)),
    Term("overflowing_point", "收集点满溢", "Overflowing collection point",
         ("满溢", "桶站满溢", "overflowing", "overflowing_collection_point")),
    Term("hazardous_storage", "危废贮存不规范", "Improper hazardous-waste storage",
         ("危废贮存", "危废不规范贮存", "improper_hazardous_waste_storage", "hazardous_waste_storage")),
    Term("other", "其他", "Other", ("其它",)),
)
STATUSES: tuple[Term, ...] = (
    Term("registered", "立案", "Registered", ("已立案", "登记", "new", "open")),
    Term("dispatched", "派遣", "Dispatched", ("已派遣", "派单", "分派")),
    Term("rectifying", "处置", "Rectifying", ("处置中", "整改", "整改中", "rectification")),
    Term("verified", "核查", "Verified", ("已核查", "核实")),
    Term("closed", "结案", "Closed", ("销号", "已结案", "已销号", "closed_out")),
    Term("rejected", "不予立案", "Rejected", ("驳回", "作废", "reject")),
    Term("duplicate", "重复", "Duplicate", ("重复上报", "dup")),
)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "registered": ("dispatched", "rejected", "duplicate"),
    "dispatched": ("rectifying", "dispatched", "rejected", "duplicate"),
    "rectifying": ("verified", "dispatched"),
    "verified": ("closed", "rectifying"),
    "closed": (),
    "rejected": (),
    "duplicate": (),
}
"""Allowed status changes: 立案 → 派遣 → 处置 → 核查 → 结案, re-dispatch to another
department, back from 核查 to 处置 when the check fails; 结案, 不予立案, 重复 are final."""

OPEN_STATUSES = ("registered", "dispatched", "rectifying", "verified")
"""Not yet closed, rejected or duplicate: candidates for duplicates and evidence."""
PENDING_STATUSES = ("registered", "dispatched", "rectifying")
"""Waiting for rectification: these run against the deadline and can be overdue."""

DEFAULT_DEADLINE_DAYS: dict[str, int] = {
    "exposed_garbage": 1,
    "overflowing_point": 1,
    "illegal_dumping": 3,
    "hazardous_storage": 5,
    "other": 5,
    "legacy_waste": 20,
}
"""Working days from the day a finding is found to its rectification deadline."""

STATUS_COLORS: dict[str, str] = STATUS_COLOURS
"""Map colour per status (the table in :mod:`gridtool.styles`, shared by every view)."""
OVERDUE_COLOR = OVERDUE_COLOUR
"""Map colour of an overdue finding, whatever its status."""

CATEGORY_DEPARTMENTS: dict[str, str] = {
    "industrial": "区工信局", "agricultural": "区农业农村局", "household": "区城管局",
    "construction": "区住建局", "hazardous": "钟楼生态环境局",
}

_VOCAB = {"category": CATEGORIES, "finding_type": FINDING_TYPES, "status": STATUSES}
_ARG = {"category": "--category", "finding_type": "--type", "status": "status"}


def _norm(text: str) -> str:
    return "_".join(str(text).strip().lower().replace("-", " ").replace("_", " ").split())


def _parse(what: str, value: object) -> str:
    text = "" if value is None else str(value)
    key = _norm(text)
    for term in _VOCAB[what]:
        names = (term.key, term.zh, term.en, *term.aliases)
        if key in {_norm(n) for n in names}:
            return term.key
    allowed = ", ".join(f"{t.key} ({t.zh})" for t in _VOCAB[what])
    raise InputError(f"{_ARG[what]} {text!r} is unknown; expected one of: {allowed}")


def parse_category(value: object) -> str:
    """English key of a waste category given in English or Chinese (``"生活垃圾"`` → ``"household"``)."""
    return _parse("category", value)


def parse_finding_type(value: object) -> str:
    """English key of a finding type given in English or Chinese (``"非法倾倒"`` → ``"illegal_dumping"``)."""
    return _parse("finding_type", value)


def parse_status(value: object) -> str:
    """English key of a status given in English or Chinese (``"销号"`` → ``"closed"``)."""
    return _parse("status", value)


def term_label(what: str, key: str | None, lang: str = "zh") -> str:
    """Display label of a stored key: ``term_label("status", "closed")`` → ``"结案"``."""
    for term in _VOCAB[what]:
        if term.key == key:
            return term.zh if lang.startswith("zh") else term.en
    return key or ""


def suggest_department(category: str, *, park_unit: str | None = None) -> str:
    """Department a finding is dispatched to by default.

    Industrial waste inside an industrial park goes to the park's responsible unit
    (一园一策); otherwise by category: industrial 区工信局, agricultural 区农业农村局,
    household 区城管局, construction 区住建局, hazardous 钟楼生态环境局.
    """
    if category == "industrial" and park_unit:
        return park_unit
    return CATEGORY_DEPARTMENTS.get(category, "区城管局")


# ----------------------------------------------------------------------------------
# times
# ----------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(CHINA_TZ)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=CHINA_TZ) if value.tzinfo is None else value


def _parse_time(value: object, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return _aware(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=CHINA_TZ)
    text = str(value).strip()
    try:
        import pandas as pd

        ts = pd.Timestamp(text.replace("/", "-"))
        if ts is pd.NaT:
            raise ValueError(text)
        return _aware(ts.to_pydatetime())
    except (ValueError, TypeError):
        raise InputError(
            f"{what} {text!r} is not a date/time; expected e.g. 2026-03-01 09:30 or 2026-03-01T09:30:00+08:00"
        ) from None


def _db_time(value: dt.datetime) -> str:
    """GeoPackage DATETIME text: UTC, ISO 8601, milliseconds, 'Z'."""
    utc = _aware(value).astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _from_db_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(CHINA_TZ)


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else _now().date()


# ----------------------------------------------------------------------------------
# records
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """A finding as stored (one row of the ``findings`` layer)."""

    finding_id: str
    category: str
    finding_type: str
    status: str
    description: str
    inspector: str | None
    found_at: dt.datetime
    department: str | None
    street_code: str | None
    community_code: str | None
    park_code: str | None
    responsible_unit: str | None
    deadline: dt.date | None
    closed_at: dt.datetime | None
    x: float
    y: float
    lon: float
    lat: float
    version: int
    updated_at: dt.datetime | None
    duplicate_of: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def overdue_days(self, today: dt.date | None = None) -> int:
        """Working days past the deadline: up to ``today`` while pending, up to closing once closed.

        0 when on time, for rejected/duplicate findings and for verified ones (rectified).
        """
        if self.deadline is None:
            return 0
        if self.status in PENDING_STATUSES:
            return working_days_between(self.deadline, _today(today))
        if self.status == "closed" and self.closed_at is not None:
            return working_days_between(self.deadline, self.closed_at.date())
        return 0

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """True while pending and at least one working day past the deadline."""
        return self.status in PENDING_STATUSES and self.overdue_days(today) > 0

    @classmethod
    def _from_row(cls, row: Mapping[str, Any]) -> "Finding":
        deadline = row.get("deadline")
        return cls(
            finding_id=row["finding_id"], category=row["category"], finding_type=row["finding_type"],
            status=row["status"], description=row.get("description") or "", inspector=row.get("inspector"),
            found_at=_from_db_time(row["found_at"]),  # type: ignore[arg-type]
            department=row.get("department"), street_code=row.get("street_code"),
            community_code=row.get("community_code"), park_code=row.get("park_code"),
            responsible_unit=row.get("responsible_unit"),
            deadline=dt.date.fromisoformat(deadline) if deadline else None,
            closed_at=_from_db_time(row.get("closed_at")), x=float(row["x"]), y=float(row["y"]),
            lon=float(row["lon"]), lat=float(row["lat"]), version=int(row["version"]),
            updated_at=_from_db_time(row.get("updated_at")), duplicate_of=row.get("duplicate_of"),
        )


@dataclass(frozen=True)
class NewFinding:
    """A finding to add: position, what was found, by whom and when.

    Give ``lon``/``lat`` (with ``coords`` saying whether they are GPS/WGS84, Amap
    GCJ-02 or Baidu BD-09) or ``x``/``y`` in EPSG:4549 metres (a point clicked on the map).
    """

    category: str
    finding_type: str
    lon: float | None = None
    lat: float | None = None
    description: str = ""
    inspector: str | None = None
    found_at: dt.datetime | str | None = None
    photos: tuple[str | os.PathLike[str], ...] = ()
    coords: str = "wgs84"
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True)
class AddResult:
    """What :meth:`FindingsStore.add` returns: the committed finding and duplicate candidates."""

    finding: Finding
    duplicates: tuple[Finding, ...] = ()

    @property
    def finding_id(self) -> str:
        return self.finding.finding_id


@dataclass(frozen=True)
class Event:
    """One entry of a finding's history (never edited or deleted)."""

    event_id: int
    finding_id: str
    at: dt.datetime
    actor: str | None
    from_status: str | None
    to_status: str
    note: str | None
    evidence_photo: str | None
    reason: str | None
    department: str | None


@dataclass(frozen=True)
class StoredPhoto:
    """A photo file kept by the store; ``path`` is inside the store's photo folder."""

    photo_id: int
    finding_id: str
    stored_name: str
    original_name: str | None
    sha256: str
    taken_at: dt.datetime | None
    lon: float | None
    lat: float | None
    kind: str  # report | evidence
    path: Path


@dataclass(frozen=True)
class Location:
    """The grids a point lies in and the unit responsible for it."""

    street_code: str | None
    street_name: str | None
    community_code: str | None
    community_name: str | None
    park_code: str | None
    park_name: str | None
    responsible_unit: str | None
    park_unit: str | None = None


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ids added, evidence attached, duplicate candidates, skipped files."""

    added: tuple[str, ...] = ()
    evidence: tuple[tuple[str, str], ...] = ()  # (finding_id, photo file)
    duplicates: tuple[tuple[str, str], ...] = ()  # (new id, existing open id)
    skipped: tuple[str, ...] = ()


class GridsChangedWarning(UserWarning):
    """The grids file a store was created with has changed since."""


# ----------------------------------------------------------------------------------
# coordinates and grids
# ----------------------------------------------------------------------------------
_TRANSFORMERS: dict[tuple[int, int], Any] = {}


def _transformer(src: int, dst: int) -> Any:
    key = (src, dst)
    if key not in _TRANSFORMERS:
        from pyproj import Transformer

        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


def _to_wgs84(lon: np.ndarray, lat: np.ndarray, coords: str) -> tuple[np.ndarray, np.ndarray]:
    from gridtool import crs

    c = (coords or "wgs84").lower().replace("-", "").replace("_", "")
    if c == "wgs84":
        return lon, lat
    if c == "gcj02":
        return crs.gcj02_to_wgs84(lon, lat)
    if c == "bd09":
        return crs.bd09_to_wgs84(lon, lat)
    raise InputError(f"--coords {coords!r} is unknown; expected wgs84 (GPS), gcj02 (Amap/Tencent) or bd09 (Baidu)")


def _default_grids_path() -> Path:
    from gridtool.paths import sample_gpkg_path

    return Path(sample_gpkg_path())


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class GridLocator:
    """Finds the street/town, community/village and industrial-park grid of points.

    Parameters
    ----------
    grids
        Grid layers by kind name (``grid_district``, ``grid_street_town``,
        ``grid_community_village``, ``grid_industrial_park``), in any CRS (reprojected to
        EPSG:4549), with columns ``code``, ``name`` and optionally ``responsible_unit``.
        ``grid_district`` may be missing (the union of the streets is used); so may the parks.
    """

    def __init__(self, grids: Mapping[str, Any]) -> None:
        import shapely

        missing = [k for k in ("grid_street_town", "grid_community_village") if k not in grids]
        if missing:
            raise SchemaError(
                f"the grids lack the layer(s) {', '.join(missing)}; a findings store needs street/town and "
                "community/village grids to place findings (see gridtool.kinds)", missing,
            )
        self._layers: dict[str, tuple[Any, np.ndarray, list[str | None], list[str | None], list[str | None]]] = {}
        for kind in ("grid_street_town", "grid_community_village", "grid_industrial_park"):
            gdf = grids.get(kind)
            if gdf is None or len(gdf) == 0:
                continue
            gdf = gdf.to_crs(WORK_EPSG) if gdf.crs is not None and gdf.crs.to_epsg() != WORK_EPSG else gdf
            for col in ("code", "name"):
                if col not in gdf.columns:
                    raise SchemaError(f"grid layer {kind} lacks the column {col!r}; expected code, name, responsible_unit", [col])
            geoms = np.asarray(gdf.geometry.values, dtype=object)
            unit = gdf["responsible_unit"] if "responsible_unit" in gdf.columns else [None] * len(gdf)
            self._layers[kind] = (
                shapely.STRtree(geoms), geoms,
                [_clean(v) for v in gdf["code"]], [_clean(v) for v in gdf["name"]], [_clean(v) for v in unit],
            )
        district = grids.get("grid_district")
        if district is not None and len(district):
            district = district.to_crs(WORK_EPSG) if district.crs is not None and district.crs.to_epsg() != WORK_EPSG else district
            self.district = shapely.union_all(np.asarray(district.geometry.values, dtype=object))
            self.district_name = _clean(district["name"].iloc[0]) if "name" in district.columns else None
        else:
            self.district = shapely.union_all(self._layers["grid_street_town"][1])
            self.district_name = None
        self.district_name = self.district_name or "钟楼区"
        shapely.prepare(self.district)
        self.names: dict[str, str] = {}
        for _tree, _g, codes, names, _u in self._layers.values():
            for c, n in zip(codes, names):
                if c is not None:
                    self.names[c] = n or c

    @classmethod
    def from_gpkg(cls, path: str | os.PathLike[str]) -> "GridLocator":
        """Read the grid layers from a GeoPackage (layer names = kind names)."""
        import pyogrio

        p = Path(path)
        if not p.is_file():
            raise ReadError(f"--grids {str(p)!r} does not exist; give the GeoPackage with the grid layers")
        try:
            names = {str(row[0]) for row in pyogrio.list_layers(p)}
        except Exception as exc:  # noqa: BLE001 - GDAL raises several types
            raise ReadError(f"--grids {str(p)!r} cannot be read as a GeoPackage ({exc})") from exc
        layers = {}
        for kind in ("grid_district", "grid_street_town", "grid_community_village", "grid_industrial_park"):
            if kind in names:
                layers[kind] = pyogrio.read_dataframe(p, layer=kind)
        return cls(layers)

    def locate(self, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> list[Location | None]:
        """Grids of each point (EPSG:4549 metres); None for a point outside the district."""
        import shapely

        pts = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        inside = shapely.contains_xy(self.district, np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        inside |= shapely.intersects(self.district, pts)
        found: dict[str, dict[int, int]] = {}
        for kind, (tree, _g, _c, _n, _u) in self._layers.items():
            pi, gi = tree.query(pts, predicate="intersects")
            first: dict[int, int] = {}
            for p_i, g_i in zip(pi.tolist(), gi.tolist()):
                if p_i not in first or g_i < first[p_i]:
                    first[p_i] = g_i
            found[kind] = first
        out: list[Location | None] = []
        for i in range(len(pts)):
            if not inside[i]:
                out.append(None)
                continue
            vals: dict[str, tuple[str | None, str | None, str | None]] = {}
            for kind, (_t, _g, codes, names, units) in self._layers.items():
                j = found[kind].get(i)
                vals[kind] = (codes[j], names[j], units[j]) if j is not None else (None, None, None)
            s = vals.get("grid_street_town", (None, None, None))
            c = vals.get("grid_community_village", (None, None, None))
            pk = vals.get("grid_industrial_park", (None, None, None))
            unit = pk[2] or c[2] or s[2]
            out.append(Location(s[0], s[1], c[0], c[1], pk[0], pk[1], unit, pk[2]))
        return out


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


_LOCATOR_CACHE: dict[tuple[str, float, int], GridLocator] = {}


def _load_locator(path: Path) -> GridLocator:
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime, st.st_size)
    loc = _LOCATOR_CACHE.get(key)
    if loc is None:
        loc = GridLocator.from_gpkg(path)
        _LOCATOR_CACHE[key] = loc
    return loc


# ----------------------------------------------------------------------------------
# backend seam
# ----------------------------------------------------------------------------------
FINDING_COLUMNS: tuple[str, ...] = tuple(KINDS["findings"].column_names) + (
    "version", "updated_at", "duplicate_of", "x", "y", "lon", "lat",
)
EVENT_COLUMNS = ("event_id", "finding_id", "at", "actor", "from_status", "to_status", "note",
                 "evidence_photo", "reason", "department")
PHOTO_COLUMNS = ("photo_id", "finding_id", "stored_name", "original_name", "sha256", "taken_at",
                 "lon", "lat", "kind", "added_at")


class FindingsBackend(Protocol):
    """What a storage backend provides to :class:`FindingsStore` (SQLite now, PostGIS later).

    Rows are plain dicts keyed by column name; times are ISO text in UTC ('...Z'), dates
    ``YYYY-MM-DD``. Methods marked *tx* are called only inside :meth:`transaction`;
    the others run on their own (a consistent snapshot each).
    """

    location: str
    photo_dir: Path

    def initialize(self, meta: Mapping[str, str]) -> None: ...
    def read_meta(self) -> dict[str, str]: ...
    def transaction(self) -> contextlib.AbstractContextManager[Any]: ...
    def allocate_ids(self, year: int, count: int) -> int: ...  # tx: last sequence number given out
    def insert_findings(self, rows: Sequence[Mapping[str, Any]]) -> None: ...  # tx
    def fetch_finding(self, finding_id: str) -> dict[str, Any] | None: ...
    def update_finding(self, finding_id: str, changes: Mapping[str, Any], expected_version: int) -> bool: ...  # tx
    def insert_events(self, rows: Sequence[Mapping[str, Any]]) -> None: ...  # tx
    def insert_photos(self, rows: Sequence[Mapping[str, Any]]) -> None: ...  # tx
    def set_meta(self, key: str, value: str) -> None: ...  # tx
    def select_findings(self, **filters: Any) -> list[dict[str, Any]]: ...
    def select_events(self, finding_ids: Sequence[str] | None = None) -> list[dict[str, Any]]: ...
    def select_photos(self, finding_ids: Sequence[str] | None = None, *, sha256: str | None = None) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def _gpkg_point(x: float, y: float, srs_id: int = WORK_EPSG) -> bytes:
    """GeoPackageBinary point: 'GP', version 0, flags (little-endian, no envelope), srs id, WKB."""
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + struct.pack("<BIdd", 1, 1, float(x), float(y))


_GPKG_APPLICATION_ID = 0x47504B47  # 'GPKG'
_GPKG_USER_VERSION = 10400  # GeoPackage 1.4

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE findings (
  fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT NOT NULL,
  finding_id TEXT NOT NULL UNIQUE, category TEXT NOT NULL, finding_type TEXT NOT NULL,
  status TEXT NOT NULL, description TEXT, inspector TEXT, found_at DATETIME NOT NULL,
  department TEXT, street_code TEXT, community_code TEXT, park_code TEXT, responsible_unit TEXT,
  deadline DATE, closed_at DATETIME, version INTEGER NOT NULL DEFAULT 1, updated_at DATETIME,
  duplicate_of TEXT, x REAL NOT NULL, y REAL NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL);
CREATE INDEX findings_status ON findings (status, finding_type);
CREATE INDEX findings_x ON findings (x);
CREATE INDEX findings_street ON findings (street_code);
CREATE INDEX findings_community ON findings (community_code);
CREATE INDEX findings_park ON findings (park_code);
CREATE TABLE finding_events (
  event_id INTEGER PRIMARY KEY AUTOINCREMENT, finding_id TEXT NOT NULL REFERENCES findings(finding_id),
  at DATETIME NOT NULL, actor TEXT, from_status TEXT, to_status TEXT NOT NULL, note TEXT,
  evidence_photo TEXT, reason TEXT, department TEXT);
CREATE INDEX finding_events_finding ON finding_events (finding_id);
CREATE TABLE finding_photos (
  photo_id INTEGER PRIMARY KEY AUTOINCREMENT, finding_id TEXT NOT NULL REFERENCES findings(finding_id),
  stored_name TEXT NOT NULL, original_name TEXT, sha256 TEXT NOT NULL, taken_at DATETIME,
  lon REAL, lat REAL, kind TEXT NOT NULL, added_at DATETIME NOT NULL);
CREATE INDEX finding_photos_finding ON finding_photos (finding_id);
CREATE INDEX finding_photos_sha ON finding_photos (sha256);
CREATE TABLE gridtool_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE gridtool_id_counters (year INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TRIGGER finding_events_no_update BEFORE UPDATE ON finding_events
  BEGIN SELECT RAISE(ABORT, 'finding_events is append-only: history is never edited'); END;
CREATE TRIGGER finding_events_no_delete BEFORE DELETE ON finding_events
  BEGIN SELECT RAISE(ABORT, 'finding_events is append-only: history is never deleted'); END;
CREATE TRIGGER finding_photos_no_update BEFORE UPDATE ON finding_photos
  BEGIN SELECT RAISE(ABORT, 'finding_photos is append-only'); END;
CREATE TRIGGER finding_photos_no_delete BEFORE DELETE ON finding_photos
  BEGIN SELECT RAISE(ABORT, 'finding_photos is append-only'); END;
CREATE TRIGGER findings_no_delete BEFORE DELETE ON findings
  BEGIN SELECT RAISE(ABORT, 'findings are never deleted: set the status to rejected or duplicate'); END;
"""


class SQLiteBackend:
    """The GeoPackage backend (``sqlite3``), safe for several processes and threads.

    Parameters
    ----------
    path
        The GeoPackage file (created by :meth:`initialize` when missing).
    busy_timeout_ms
        How long a writer waits for another process's transaction before giving up.
    durability
        ``"full"`` (default): every commit fsyncs the WAL, so a returned call survives a
        power cut too. ``"normal"``: no fsync per commit; a returned call survives a
        killed or crashed process (the WAL is in the OS cache), but a power cut may lose
        the last commits (the file stays consistent). Faster on slow disks.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_ms: int = 60000, durability: str = "full") -> None:
        if durability not in ("full", "normal"):
            raise InputError(f"durability {durability!r} is unknown; expected full or normal")
        self.path = Path(path)
        self.location = str(self.path)
        self.photo_dir = self.path.with_name(self.path.stem + "_photos")
        if self.path.exists() and not self.path.is_file():
            raise ReadError(f"--store {str(self.path)!r} is a folder; expected a GeoPackage file name (.gpkg)")
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise ReadError(
                        f"--store {str(self.path)!r} is not a GeoPackage (not an SQLite file); "
                        "give a new file name to create a store"
                    )
        self._lock = threading.RLock()
        self._in_tx = False
        is_new = not self.path.exists() or self.path.stat().st_size == 0
        self._con = sqlite3.connect(self.path, timeout=busy_timeout_ms / 1000, isolation_level=None,
                                    check_same_thread=False)
        self._con.row_factory = sqlite3.Row
        self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if is_new:
            # The GeoPackage header must be on disk before WAL mode: GDAL reads it from the file.
            self._con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            self._con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        self._con.execute("PRAGMA journal_mode = WAL")
        self._con.execute("PRAGMA synchronous = FULL" if durability == "full" else "PRAGMA synchronous = NORMAL")
        self._con.execute("PRAGMA foreign_keys = ON")

    # -- schema ---------------------------------------------------------------------
    def _has_table(self, name: str) -> bool:
        row = self._con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return row is not None

    def initialize(self, meta: Mapping[str, str]) -> None:
        """Create the GeoPackage tables once (race-free: inside a write transaction)."""
        with self.transaction():
            if self._has_table("gridtool_meta"):
                return
            if self._has_table("findings"):
                raise InputError(
                    f"--store {self.location!r} already has a 'findings' table that gridtool did not create; "
                    "give a new file name for the findings store"
                )
            from pyproj import CRS

            for stmt in _SQLITE_SCHEMA.split(";\n"):  # trigger bodies hold '; END'
                if stmt.strip():
                    self._con.execute(stmt)
            srs = [
                ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
                ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
                ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"), "longitude/latitude WGS84"),
                ("CGCS2000 / 3-degree Gauss-Kruger CM 120E", WORK_EPSG, "EPSG", WORK_EPSG,
                 CRS.from_epsg(WORK_EPSG).to_wkt("WKT1_GDAL"), "gridtool working CRS"),
            ]
            self._con.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs)
            contents = [
                ("findings", "features", "findings", "巡查问题 patrol findings", WORK_EPSG),
                ("finding_events", "attributes", "finding_events", "问题处置记录 history (append-only)", None),
                ("finding_photos", "attributes", "finding_photos", "问题照片 photos", None),
            ]
            self._con.executemany(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, ?, ?, ?, ?)",
                contents,
            )
            self._con.execute("INSERT INTO gpkg_geometry_columns VALUES ('findings', 'geom', 'POINT', ?, 0, 0)", (WORK_EPSG,))
            self._con.executemany("INSERT INTO gridtool_meta (key, value) VALUES (?, ?)", list(meta.items()))

    def read_meta(self) -> dict[str, str]:
        with self._lock:
            if not self._has_table("gridtool_meta"):
                raise InputError(
                    f"--store {self.location!r} is a GeoPackage but not a gridtool findings store; "
                    "give a new file name to create one"
                )
            return {r["key"]: r["value"] for r in self._con.execute("SELECT key, value FROM gridtool_meta")}

    # -- transactions ------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator["SQLiteBackend"]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``); rolled back on any error."""
        with self._lock:
            if self._in_tx:
                raise RuntimeError("nested findings transactions are not supported")
            self._con.execute("BEGIN IMMEDIATE")
            self._in_tx = True
            try:
                yield self
            except BaseException:
                self._in_tx = False
                self._con.execute("ROLLBACK")
                raise
            self._in_tx = False
            self._con.execute("COMMIT")

    def allocate_ids(self, year: int, count: int) -> int:
        row = self._con.execute(
            "INSERT INTO gridtool_id_counters (year, last_seq) VALUES (?, ?) "
            "ON CONFLICT (year) DO UPDATE SET last_seq = gridtool_id_counters.last_seq + excluded.last_seq "
            "RETURNING last_seq",
            (int(year), int(count)),
        ).fetchone()
        return int(row[0])

    _INSERT_COLS = ("geom",) + FINDING_COLUMNS

    def insert_findings(self, rows: Sequence[Mapping[str, Any]]) -> None:
        cols = self._INSERT_COLS
        sql = f"INSERT INTO findings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self._con.executemany(
            sql, ([_gpkg_point(r["x"], r["y"]) if c == "geom" else r.get(c) for c in cols] for r in rows)
        )

    def fetch_finding(self, finding_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._con.execute(
                f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings WHERE finding_id = ?", (finding_id,)
            ).fetchone()
            return dict(row) if row is not None else None

    def update_finding(self, finding_id: str, changes: Mapping[str, Any], expected_version: int) -> bool:
        allowed = set(FINDING_COLUMNS) - {"finding_id", "version", "x", "y", "lon", "lat"}
        bad = set(changes) - allowed
        if bad:
            raise ValueError(f"cannot update columns {sorted(bad)}")
        cols = list(changes)
        sets = ", ".join([f"{c} = ?" for c in cols] + ["version = version + 1"])
        cur = self._con.execute(
            f"UPDATE findings SET {sets} WHERE finding_id = ? AND version = ?",
            [changes[c] for c in cols] + [finding_id, int(expected_version)],
        )
        return cur.rowcount == 1

    def insert_events(self, rows: Sequence[Mapping[str, Any]]) -> None:
        cols = EVENT_COLUMNS[1:]
        self._con.executemany(
            f"INSERT INTO finding_events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            ([r.get(c) for c in cols] for r in rows),
        )

    def insert_photos(self, rows: Sequence[Mapping[str, Any]]) -> None:
        cols = PHOTO_COLUMNS[1:]
        self._con.executemany(
            f"INSERT INTO finding_photos ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            ([r.get(c) for c in cols] for r in rows),
        )

    def set_meta(self, key: str, value: str) -> None:
        self._con.execute(
            "INSERT INTO gridtool_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- reads ------------------------------------------------------------------------
    def select_findings(
        self,
        *,
        statuses: Sequence[str] | None = None,
        grid_code: str | None = None,
        finding_type: str | None = None,
        category: str | None = None,
        department: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        ids: Sequence[str] | None = None,
        deadline_before: str | None = None,
    ) -> list[dict[str, Any]]:
        where: list[str] = []
        params: list[Any] = []
        if statuses:
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += list(statuses)
        if grid_code:
            where.append("(street_code = ? OR community_code = ? OR park_code = ?)")
            params += [grid_code] * 3
        for col, val in (("finding_type", finding_type), ("category", category), ("department", department)):
            if val:
                where.append(f"{col} = ?")
                params.append(val)
        if bbox is not None:
            where.append("x BETWEEN ? AND ? AND y BETWEEN ? AND ?")
            params += [bbox[0], bbox[2], bbox[1], bbox[3]]
        if ids is not None:
            if not ids:
                return []
            where.append(f"finding_id IN ({', '.join('?' * len(ids))})")
            params += list(ids)
        if deadline_before:
            where.append("deadline < ?")
            params.append(deadline_before)
        sql = f"SELECT {', '.join(FINDING_COLUMNS)} FROM findings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY fid"
        with self._lock:
            return [dict(r) for r in self._con.execute(sql, params)]

    def select_events(self, finding_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM finding_events"
        params: list[Any] = []
        if finding_ids is not None:
            sql += f" WHERE finding_id IN ({', '.join('?' * len(finding_ids))})"
            params = list(finding_ids)
        with self._lock:
            return [dict(r) for r in self._con.execute(sql + " ORDER BY event_id", params)]

    def select_photos(self, finding_ids: Sequence[str] | None = None, *, sha256: str | None = None) -> list[dict[str, Any]]:
        sql = f"SELECT {', '.join(PHOTO_COLUMNS)} FROM finding_photos"
        where: list[str] = []
        params: list[Any] = []
        if finding_ids is not None:
            where.append(f"finding_id IN ({', '.join('?' * len(finding_ids))})")
            params += list(finding_ids)
        if sha256 is not None:
            where.append("sha256 = ?")
            params.append(sha256)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            return [dict(r) for r in self._con.execute(sql + " ORDER BY photo_id", params)]

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check`` result (``"ok"`` for a sound file)."""
        with self._lock:
            return str(self._con.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._con.close()


# ----------------------------------------------------------------------------------
# the store
# ----------------------------------------------------------------------------------
def open_store(location: str | os.PathLike[str], *, grids: str | os.PathLike[str] | None = None,
               actor: str | None = None) -> "FindingsStore":
    """Open (or create) the findings store at ``location``; see :meth:`FindingsStore.open`."""
    return FindingsStore.open(location, grids=grids, actor=actor)


@dataclass
class _Prepared:
    row: dict[str, Any]
    photos: list[tuple[PhotoInfo, str]] = field(default_factory=list)  # (info, kind)


class FindingsStore:
    """Patrol findings with their workflow, deadlines, photos and history.

    Open it with :meth:`open`; every method that changes something commits one
    transaction before it returns. Safe to use from several threads and processes.

    Parameters
    ----------
    backend
        Where rows are kept (:class:`SQLiteBackend`, or a PostGIS backend).
    grids
        The grids GeoPackage that places findings; default: the one remembered by the
        store, else the bundled Zhonglou district.
    actor
        Who makes the changes (recorded in events); default: the login name.
    """

    def __init__(self, backend: FindingsBackend, *, grids: str | os.PathLike[str] | None = None,
                 actor: str | None = None) -> None:
        self.backend = backend
        self.actor = actor or _login_name()
        meta_defaults: dict[str, str] = {}
        grids_path = Path(grids).resolve() if grids is not None else None
        if grids_path is None:
            try:
                existing = backend.read_meta()
            except InputError:
                existing = {}
            if "grids_path" not in existing:
                grids_path = _default_grids_path().resolve()
        if grids_path is not None and not grids_path.is_file():
            raise ReadError(f"--grids {str(grids_path)!r} does not exist; give the GeoPackage with the grid layers")
        if grids_path is not None:
            meta_defaults = {"grids_path": str(grids_path), "grids_sha256": _file_sha256(grids_path)}
        meta_defaults.update({
            "schema_version": str(SCHEMA_VERSION),
            "deadline_days": json.dumps(DEFAULT_DEADLINE_DAYS, sort_keys=True),
            "created_at": _db_time(_now()),
            "id_prefix": "ZL",
        })
        backend.initialize(meta_defaults)
        self.meta = backend.read_meta()
        if int(self.meta.get("schema_version", "0")) > SCHEMA_VERSION:
            raise InputError(
                f"--store {backend.location!r} was written by a newer gridtool (schema "
                f"{self.meta['schema_version']}); upgrade gridtool to open it"
            )
        self._grids_override = grids_path if grids is not None else None
        self._locator: GridLocator | None = None

    @classmethod
    def open(cls, location: str | os.PathLike[str], *, grids: str | os.PathLike[str] | None = None,
             actor: str | None = None, durability: str = "full") -> "FindingsStore":
        """Open the store at ``location``, creating it when missing.

        ``location`` is a ``.gpkg`` path, or ``postgresql://USER@HOST:PORT/DB[?schema=NAME]``
        for the shared PostGIS store (:mod:`gridtool.findings_pg`). ``durability`` applies to
        a GeoPackage (see :class:`SQLiteBackend`): ``"full"`` (default) or ``"normal"``.
        """
        if isinstance(location, str) and location.strip().lower().startswith(("postgresql://", "postgres://")):
            from gridtool.findings_pg import PostgresBackend

            return cls(PostgresBackend(location), grids=grids, actor=actor)
        return cls(SQLiteBackend(location, durability=durability), grids=grids, actor=actor)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "FindingsStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def photo_dir(self) -> Path:
        return self.backend.photo_dir

    def _keep_photo(self, info: PhotoInfo) -> str:
        """Store a photo's bytes before the row naming it: the backend's ``keep_photo``
        (PostgreSQL: in the database) or else a file in the photo folder (GeoPackage)."""
        keep = getattr(self.backend, "keep_photo", None)
        return keep(info) if keep is not None else copy_into_folder(info, self.photo_dir)

    # -- configuration ----------------------------------------------------------------
    @property
    def grids_path(self) -> Path:
        """The grids GeoPackage used to place findings."""
        if self._grids_override is not None:
            return self._grids_override
        return Path(self.meta["grids_path"])

    @property
    def locator(self) -> GridLocator:
        """The :class:`GridLocator` of :attr:`grids_path` (loaded on first use)."""
        if self._locator is None:
            path = self.grids_path
            if not path.is_file():
                raise ReadError(
                    f"the grids {str(path)!r} this store was created with are missing; "
                    "pass --grids FILE with the grid GeoPackage"
                )
            if self._grids_override is None and self.meta.get("grids_sha256"):
                if _file_sha256(path) != self.meta["grids_sha256"]:
                    warnings.warn(
                        f"the grids {str(path)!r} changed since this store was created; new findings are "
                        "placed on the current grids, stored ones keep their codes",
                        GridsChangedWarning, stacklevel=2,
                    )
            self._locator = _load_locator(path)
        return self._locator

    @property
    def deadline_days(self) -> dict[str, int]:
        """Working days allowed per finding type (stored in the GeoPackage)."""
        days = dict(DEFAULT_DEADLINE_DAYS)
        days.update({k: int(v) for k, v in json.loads(self.meta.get("deadline_days", "{}")).items()})
        return days

    def set_deadline_days(self, days: Mapping[str, int]) -> dict[str, int]:
        """Change the deadline table (type → working days); applies to findings added afterwards."""
        table = self.deadline_days
        for key, value in days.items():
            t = parse_finding_type(key)
            try:
                n = int(value)
            except (TypeError, ValueError):
                n = -1
            if n < 0 or n > 365:
                raise InputError(f"deadline for {t} is {value!r}; expected a whole number of working days 0-365")
            table[t] = n
        text = json.dumps(table, sort_keys=True)
        with self.backend.transaction() as tx:
            tx.set_meta("deadline_days", text)
        self.meta["deadline_days"] = text
        return table

    def deadline_for(self, finding_type: str, found_at: dt.datetime) -> dt.date:
        """Deadline of a finding: N working days after the day it was found."""
        return add_working_days(_aware(found_at).astimezone(CHINA_TZ).date(), self.deadline_days[finding_type])

    # -- reading ----------------------------------------------------------------------
    def get(self, finding_id: str) -> Finding:
        """The finding ``finding_id``; :class:`InputError` when the store has no such id."""
        row = self.backend.fetch_finding(str(finding_id).strip())
        if row is None:
            raise InputError(
                f"finding {finding_id!r} is not in the store {self.backend.location!r}; "
                "list the ids with 'gridtool findings list'"
            )
        return Finding._from_row(row)

    def findings(self, **filters: Any) -> list[Finding]:
        """Findings as records; filters as in :meth:`SQLiteBackend.select_findings`."""
        return [Finding._from_row(r) for r in self.backend.select_findings(**filters)]

    def history(self, finding_id: str) -> list[Event]:
        """Every event of a finding, oldest first."""
        self.get(finding_id)
        return [
            Event(r["event_id"], r["finding_id"], _from_db_time(r["at"]), r["actor"], r["from_status"],  # type: ignore[arg-type]
                  r["to_status"], r["note"], r["evidence_photo"], r["reason"], r["department"])
            for r in self.backend.select_events([finding_id])
        ]

    def photos(self, finding_id: str | None = None) -> list[StoredPhoto]:
        """Photos of one finding (or of all), with their paths inside the photo folder.

        On PostgreSQL the files of one finding's photos are fetched into the local cache;
        listing all photos does not fetch them (use ``backend.materialize_photo``).
        """
        from gridtool.paths import safe_join

        rows = self.backend.select_photos([finding_id] if finding_id is not None else None)
        # PostgreSQL keeps the bytes in the database: fetch one finding's photos into the
        # local cache (not every photo of the store when all are listed, e.g. for an export).
        fetch = getattr(self.backend, "materialize_photo", None)
        if fetch is not None and finding_id is not None:
            for r in rows:
                fetch(r["stored_name"], Path(safe_join(self.photo_dir, r["stored_name"])))
        return [
            StoredPhoto(r["photo_id"], r["finding_id"], r["stored_name"], r["original_name"], r["sha256"],
                        _from_db_time(r["taken_at"]), r["lon"], r["lat"], r["kind"],
                        Path(safe_join(self.photo_dir, r["stored_name"])))
            for r in rows
        ]

    def find_duplicates(self, x: float, y: float, finding_type: str, *, radius_m: float = DUPLICATE_RADIUS_M,
                        exclude: str | None = None) -> list[Finding]:
        """Open findings of ``finding_type`` within ``radius_m`` of (x, y) in EPSG:4549, nearest first."""
        t = parse_finding_type(finding_type)
        rows = self.backend.select_findings(
            statuses=OPEN_STATUSES, finding_type=t, bbox=(x - radius_m, y - radius_m, x + radius_m, y + radius_m)
        )
        near = [(math.hypot(r["x"] - x, r["y"] - y), r) for r in rows if r["finding_id"] != exclude]
        return [Finding._from_row(r) for d, r in sorted(near, key=lambda p: p[0]) if d <= radius_m]

    def query(self, *, status: str | Sequence[str] | None = None, grid_code: str | None = None,
              finding_type: str | None = None, category: str | None = None, department: str | None = None,
              bbox: tuple[float, float, float, float] | None = None, overdue: bool | None = None,
              today: dt.date | None = None) -> Any:
        """Findings as a GeoDataFrame (EPSG:4549) with overdue flags and a display colour.

        Parameters
        ----------
        status
            One status or several (English or Chinese names).
        grid_code
            A street/town, community/village or park grid code.
        finding_type, category, department
            Exact filters (names parsed as for :meth:`add`).
        bbox
            ``(minx, miny, maxx, maxy)`` in EPSG:4549.
        overdue
            True: only overdue findings; False: only those not overdue.
        today
            The day overdue days are counted to (default: today in China).

        Returns
        -------
        GeoDataFrame
            Columns of the ``findings`` kind, plus ``version``, ``updated_at``,
            ``duplicate_of``, ``lon``, ``lat``, ``overdue`` (bool), ``overdue_days``
            (working days) and ``color`` (hex; :data:`OVERDUE_COLOR` when overdue).
        """
        import geopandas as gpd
        import pandas as pd

        statuses = None
        if status is not None:
            statuses = [parse_status(s) for s in ([status] if isinstance(status, str) else status)]
        day = _today(today)
        rows = self.backend.select_findings(
            statuses=statuses, grid_code=grid_code,
            finding_type=parse_finding_type(finding_type) if finding_type else None,
            category=parse_category(category) if category else None, department=department, bbox=bbox,
            deadline_before=day.isoformat() if overdue else None,
        )
        recs = [Finding._from_row(r) for r in rows]
        od = [f.overdue_days(day) for f in recs]
        flag = [f.status in PENDING_STATUSES and d > 0 for f, d in zip(recs, od)]
        if overdue is not None:
            keep = [i for i, v in enumerate(flag) if v == overdue]
            recs, od, flag = [recs[i] for i in keep], [od[i] for i in keep], [flag[i] for i in keep]
        cols = list(KINDS["findings"].column_names) + ["version", "updated_at", "duplicate_of", "lon", "lat"]
        data = {c: [getattr(f, c) for f in recs] for c in cols}
        df = pd.DataFrame(data, columns=cols)
        for c in ("found_at", "closed_at", "updated_at"):
            df[c] = pd.to_datetime(df[c], utc=True).dt.tz_convert(CHINA_TZ) if len(df) else pd.Series([], dtype="datetime64[ns, UTC]")
        df["overdue"] = pd.Series(flag, dtype=bool)
        df["overdue_days"] = pd.Series(od, dtype="int64")
        df["color"] = [OVERDUE_COLOR if o else STATUS_COLORS.get(f.status, "#000000") for f, o in zip(recs, flag)]
        geom = gpd.points_from_xy([f.x for f in recs], [f.y for f in recs], crs=WORK_EPSG)
        return gpd.GeoDataFrame(df, geometry=geom, crs=WORK_EPSG)

    def overdue_summary(self, *, by: str = "grid", today: dt.date | None = None) -> Any:
        """Counts per grid or per department: open, pending, overdue, max overdue days, closed.

        Parameters
        ----------
        by
            ``"grid"`` (one row per street/town, community/village and park grid, with
            ``level``), ``"street"``, ``"community"``, ``"park"`` or ``"department"``
            (the dispatched department; undispatched findings under ``(未派遣)``).

        Returns
        -------
        DataFrame
            Columns ``level``, ``code``, ``name``, ``total``, ``open``, ``overdue``,
            ``max_overdue_days``, ``closed``, sorted by overdue (most first).
        """
        import pandas as pd

        if by not in ("grid", "street", "community", "park", "department"):
            raise InputError(f"`by` was {by!r}; expected grid, street, community, park or department")
        df = self.query(today=today)
        names: dict[str, str] = {}
        try:
            names = self.locator.names
        except (InputError, OSError):
            names = {}
        levels = {"street": "street_code", "community": "community_code", "park": "park_code"}
        if by == "department":
            parts = [("department", df["department"].fillna("(未派遣)"))]
        elif by == "grid":
            parts = [(lvl, df[col]) for lvl, col in levels.items()]
        else:
            parts = [(by, df[levels[by]])]
        out = []
        for level, keys in parts:
            sub = df.assign(_key=keys).dropna(subset=["_key"])
            for key, g in sub.groupby("_key", sort=True):
                out.append({
                    "level": level, "code": key, "name": names.get(str(key), str(key)),
                    "total": len(g), "open": int(g["status"].isin(OPEN_STATUSES).sum()),
                    "overdue": int(g["overdue"].sum()),
                    "max_overdue_days": int(g.loc[g["overdue"], "overdue_days"].max()) if g["overdue"].any() else 0,
                    "closed": int((g["status"] == "closed").sum()),
                })
        cols = ["level", "code", "name", "total", "open", "overdue", "max_overdue_days", "closed"]
        res = pd.DataFrame(out, columns=cols)
        return res.sort_values(["overdue", "max_overdue_days", "level", "code"], ascending=[False, False, True, True],
                               ignore_index=True)

    # -- adding -----------------------------------------------------------------------
    def _project(self, nf: NewFinding) -> tuple[float, float, float, float]:
        if nf.x is not None and nf.y is not None:
            lon, lat = _transformer(WORK_EPSG, 4326).transform(float(nf.x), float(nf.y))
            return float(nf.x), float(nf.y), float(lon), float(lat)
        if nf.lon is None or nf.lat is None:
            raise InputError("a finding needs a position: --lon and --lat (or x/y in EPSG:4549 metres)")
        try:
            lon0, lat0 = float(nf.lon), float(nf.lat)
        except (TypeError, ValueError):
            raise InputError(f"lon/lat ({nf.lon!r}, {nf.lat!r}) are not numbers; expected decimal degrees") from None
        if not (math.isfinite(lon0) and math.isfinite(lat0)) or not (-180 <= lon0 <= 180 and -90 <= lat0 <= 90):
            swapped = -90 <= lon0 <= 90 and -180 <= lat0 <= 180
            raise InputError(
                f"lon/lat ({nf.lon}, {nf.lat}) are not valid degrees; expected lon -180..180 and lat -90..90, "
                "e.g. --lon 119.93 --lat 31.78" + ("; the values look swapped: give the longitude (about 119.9) "
                                                   "to --lon and the latitude (about 31.8) to --lat" if swapped else "")
            )
        lon_a, lat_a = _to_wgs84(np.array([lon0]), np.array([lat0]), nf.coords)
        lon, lat = float(lon_a[0]), float(lat_a[0])
        x, y = _transformer(4326, WORK_EPSG).transform(lon, lat)
        return float(x), float(y), lon, lat

    def _outside_message(self, nf: NewFinding, lon: float, lat: float) -> str:
        loc = self.locator
        hint = ""
        if nf.x is None and nf.lon is not None:
            sx, sy = _transformer(4326, WORK_EPSG).transform(float(nf.lat), float(nf.lon))  # swapped?
            if loc.locate([sx], [sy])[0] is not None:
                hint = " The values look swapped: give --lon first (about 119.9) and --lat second (about 31.8)."
        if nf.x is not None:
            where = f"x/y ({nf.x:.1f}, {nf.y:.1f}) in EPSG:4549"
        else:
            where = f"lon/lat ({nf.lon}, {nf.lat})"
            if (nf.coords or "wgs84").lower() != "wgs84":
                where += f" [{nf.coords} -> WGS84 {lon:.6f}, {lat:.6f}]"
        return (
            f"{where} lies outside {loc.district_name}; a finding must be inside the district. "
            "Check --coords (GCJ-02 from Amap/Tencent or BD-09 from Baidu must be converted: --coords gcj02|bd09) "
            "and that lon/lat are not swapped." + hint
        )

    def _prepare(self, nf: NewFinding, *, check_photos: bool = True) -> tuple[_Prepared | None, list[str], Location | None]:
        """Validate one new finding; return (prepared row, problems)."""
        problems: list[str] = []
        try:
            category = parse_category(nf.category)
        except InputError as exc:
            problems.append(str(exc))
            category = ""
        try:
            ftype = parse_finding_type(nf.finding_type)
        except InputError as exc:
            problems.append(str(exc))
            ftype = ""
        found_at: dt.datetime | None = None
        try:
            found_at = _now() if nf.found_at is None or nf.found_at == "" else _parse_time(nf.found_at, "found_at")
        except InputError as exc:
            problems.append(str(exc))
        pos = None
        loc = None
        try:
            pos = self._project(nf)
        except InputError as exc:
            problems.append(str(exc))
        if pos is not None:
            loc = self.locator.locate([pos[0]], [pos[1]])[0]
            if loc is None:
                problems.append(self._outside_message(nf, pos[2], pos[3]))
        photos: list[tuple[PhotoInfo, str]] = []
        if check_photos:
            for p in nf.photos:
                try:
                    photos.append((read_photo(p), "report"))
                except InputError as exc:
                    problems.append(str(exc))
        if problems or pos is None or loc is None or found_at is None:
            return None, problems, loc
        now = _db_time(_now())
        row = {
            "finding_id": None, "category": category, "finding_type": ftype, "status": "registered",
            "description": (nf.description or "").strip(), "inspector": _clean(nf.inspector),
            "found_at": _db_time(found_at), "department": None,
            "street_code": loc.street_code, "community_code": loc.community_code, "park_code": loc.park_code,
            "responsible_unit": loc.responsible_unit,
            "deadline": self.deadline_for(ftype, found_at).isoformat(), "closed_at": None,
            "version": 1, "updated_at": now, "duplicate_of": None,
            "x": pos[0], "y": pos[1], "lon": pos[2], "lat": pos[3],
        }
        return _Prepared(row, photos), [], loc

    def _id_prefix(self) -> str:
        return self.meta.get("id_prefix", "ZL")

    def _write_new(self, tx: Any, preps: Sequence[_Prepared], stored: Mapping[str, str], actor: str,
                   note: str = "立案 registered") -> list[str]:
        """Insert prepared findings (ids allocated here), their events and photo rows."""
        by_year: dict[int, list[_Prepared]] = {}
        for p in preps:
            year = _from_db_time(p.row["found_at"]).year  # type: ignore[union-attr]
            by_year.setdefault(year, []).append(p)
        prefix = self._id_prefix()
        for year, group in sorted(by_year.items()):
            last = tx.allocate_ids(year, len(group))
            first = last - len(group) + 1
            for i, p in enumerate(group):
                p.row["finding_id"] = f"{prefix}-{year}-{first + i:06d}"
        tx.insert_findings([p.row for p in preps])
        events = []
        photo_rows = []
        for p in preps:
            fid = p.row["finding_id"]
            events.append({
                "finding_id": fid, "at": p.row["updated_at"], "actor": p.row["inspector"] or actor,
                "from_status": None, "to_status": "registered", "note": note,
                "evidence_photo": ";".join(stored[i.sha256] for i, _k in p.photos) or None,
                "reason": None, "department": None,
            })
            photo_rows += [_photo_row(fid, info, stored[info.sha256], kind) for info, kind in p.photos]
        tx.insert_events(events)
        if photo_rows:
            tx.insert_photos(photo_rows)
        return [p.row["finding_id"] for p in preps]

    def add(self, finding: NewFinding | None = None, /, **fields: Any) -> AddResult:
        """Add one finding, committed before this returns.

        Parameters
        ----------
        finding
            A :class:`NewFinding`, or give its fields as keywords: ``lon``, ``lat``
            (``coords="wgs84"|"gcj02"|"bd09"``) or ``x``, ``y`` (EPSG:4549),
            ``category``, ``finding_type``, ``description``, ``inspector``,
            ``found_at`` (default now), ``photos`` (paths of report photos).

        Returns
        -------
        AddResult
            The stored finding (id, grid codes, responsible unit, deadline) and the open
            findings of the same type within :data:`DUPLICATE_RADIUS_M` (candidates for
            :meth:`link_duplicate`).

        Raises
        ------
        InputError
            For an unknown category/type, a position outside the district, a photo that
            cannot be read; nothing is stored then.
        """
        nf = finding if finding is not None else NewFinding(**{**fields, "photos": tuple(fields.get("photos") or ())})
        prep, problems, _loc = self._prepare(nf)
        if prep is None:
            raise InputError(problems[0] if len(problems) == 1 else "; ".join(problems))
        dups = self.find_duplicates(prep.row["x"], prep.row["y"], prep.row["finding_type"])
        stored = {info.sha256: self._keep_photo(info) for info, _k in prep.photos}
        with self.backend.transaction() as tx:
            fid = self._write_new(tx, [prep], stored, self.actor)[0]
        return AddResult(self.get(fid), tuple(dups))

    def add_many(self, findings: Iterable[NewFinding], *, feedback: Feedback | None = None,
                 label: str = "row") -> list[str]:
        """Add many findings all or nothing, in one transaction; return their ids in order.

        Every problem of every row is reported at once (``SchemaError.problems``), and
        nothing is stored unless every row is valid.
        """
        fb = ensure_feedback(feedback)
        items = list(findings)
        preps, problems = self._prepare_many(items, fb, label=label)
        if problems:
            raise _many_problems(problems, len(items))
        fb.set_progress(80, "writing")
        infos = {info.sha256: info for p in preps for info, _k in p.photos}
        stored = {sha: self._keep_photo(info) for sha, info in infos.items()}
        fb.check()
        with self.backend.transaction() as tx:
            ids = self._write_new(tx, preps, stored, self.actor, note="立案 registered (import)")
        fb.set_progress(100, "done")
        return ids

    def _prepare_many(self, items: Sequence[NewFinding], fb: Feedback, *, label: str) -> tuple[list[_Prepared], list[str]]:
        """Vectorised validation of many new findings (projection and grid lookup in bulk)."""
        problems: list[str] = []
        n = len(items)
        xs = np.full(n, np.nan)
        ys = np.full(n, np.nan)
        lons = np.full(n, np.nan)
        lats = np.full(n, np.nan)
        parsed: list[tuple[str, str, dt.datetime] | None] = [None] * n
        by_coords: dict[str, list[int]] = {}
        for i, nf in enumerate(items):
            if i % 2000 == 0:
                fb.step(i, n, "checking", lo=0, hi=40)
            errs: list[str] = []
            try:
                c = parse_category(nf.category)
            except InputError as exc:
                errs.append(str(exc))
            try:
                t = parse_finding_type(nf.finding_type)
            except InputError as exc:
                errs.append(str(exc))
            try:
                when = _now() if nf.found_at is None or nf.found_at == "" else _parse_time(nf.found_at, "found_at")
            except InputError as exc:
                errs.append(str(exc))
            if nf.x is not None and nf.y is not None:
                xs[i], ys[i] = float(nf.x), float(nf.y)
            else:
                try:
                    lon0, lat0 = float(nf.lon), float(nf.lat)  # type: ignore[arg-type]
                    if not (-180 <= lon0 <= 180 and -90 <= lat0 <= 90):
                        raise ValueError
                    lons[i], lats[i] = lon0, lat0
                    by_coords.setdefault(nf.coords or "wgs84", []).append(i)
                except (TypeError, ValueError):
                    errs.append(f"lon/lat ({nf.lon!r}, {nf.lat!r}) are not valid decimal degrees")
            if errs:
                problems += [f"{label} {i + 1}: {e}" for e in errs]
            else:
                parsed[i] = (c, t, when)
        for coords, idx in by_coords.items():
            ia = np.asarray(idx)
            try:
                wl, wt = _to_wgs84(lons[ia], lats[ia], coords)
            except InputError as exc:
                problems.append(str(exc))
                continue
            lons[ia], lats[ia] = wl, wt
            xs[ia], ys[ia] = _transformer(4326, WORK_EPSG).transform(wl, wt)
        has_xy = np.isfinite(xs) & np.isnan(lons)
        if has_xy.any():
            lons[has_xy], lats[has_xy] = _transformer(WORK_EPSG, 4326).transform(xs[has_xy], ys[has_xy])
        fb.set_progress(50, "placing in grids")
        ok = np.isfinite(xs) & np.isfinite(ys)
        locs: list[Location | None] = [None] * n
        if ok.any():
            idx = np.flatnonzero(ok)
            for i, loc in zip(idx.tolist(), self.locator.locate(xs[idx], ys[idx])):
                locs[i] = loc
                if loc is None:
                    problems.append(f"{label} {i + 1}: " + self._outside_message(items[i], float(lons[i]), float(lats[i])))
        photo_cache: dict[str, PhotoInfo] = {}
        preps: list[_Prepared] = []
        now = _db_time(_now())
        for i, nf in enumerate(items):
            photos: list[tuple[PhotoInfo, str]] = []
            for p in nf.photos:
                try:
                    key = str(p)
                    photo_cache[key] = photo_cache.get(key) or read_photo(p)
                    photos.append((photo_cache[key], "report"))
                except InputError as exc:
                    problems.append(f"{label} {i + 1}: {exc}")
            if problems or parsed[i] is None or locs[i] is None:
                continue
            c, t, when = parsed[i]  # type: ignore[misc]
            loc = locs[i]
            assert loc is not None
            preps.append(_Prepared({
                "finding_id": None, "category": c, "finding_type": t, "status": "registered",
                "description": (nf.description or "").strip(), "inspector": _clean(nf.inspector),
                "found_at": _db_time(when), "department": None, "street_code": loc.street_code,
                "community_code": loc.community_code, "park_code": loc.park_code,
                "responsible_unit": loc.responsible_unit, "deadline": self.deadline_for(t, when).isoformat(),
                "closed_at": None, "version": 1, "updated_at": now, "duplicate_of": None,
                "x": float(xs[i]), "y": float(ys[i]), "lon": float(lons[i]), "lat": float(lats[i]),
            }, photos))
        return preps, problems

    # -- workflow ---------------------------------------------------------------------
    def _check_evidence(self, f: Finding, photos: Sequence[tuple[PhotoInfo | None, dict[str, Any]]]) -> tuple[bool, list[str]]:
        """Is there a photo taken after the report and (when geotagged) within 30 m?"""
        problems = []
        for info, row in photos:
            name = str(info.path) if info is not None else row.get("stored_name")
            taken = info.taken_at if info is not None else _from_db_time(row.get("taken_at"))
            lon = info.lon if info is not None else row.get("lon")
            lat = info.lat if info is not None else row.get("lat")
            if taken is None:
                problems.append(f"photo {name!r} has no EXIF time, so it cannot show the site after the report")
                continue
            if taken <= f.found_at:
                problems.append(
                    f"photo {name!r} was taken {taken.isoformat(timespec='minutes')}, before the report "
                    f"({f.found_at.isoformat(timespec='minutes')})"
                )
                continue
            if lon is not None and lat is not None:
                d = ground_distance_m(f.lon, f.lat, float(lon), float(lat))
                if d > EVIDENCE_RADIUS_M:
                    problems.append(f"photo {name!r} was taken {d:.0f} m from the finding (at most {EVIDENCE_RADIUS_M:.0f} m)")
                    continue
            return True, []
        if not photos:
            problems.append("no rectification photo was given")
        return False, problems

    def set_status(self, finding_id: str, status: str, *, note: str | None = None,
                   evidence: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
                   reason: str | None = None, department: str | None = None, duplicate_of: str | None = None,
                   expected_version: int | None = None, actor: str | None = None,
                   at: dt.datetime | None = None) -> Finding:
        """Move a finding to ``status``; one event records who, when, from, to, note and evidence.

        Parameters
        ----------
        finding_id
            The finding's id (``ZL-2026-000123``).
        status
            The new status, English or Chinese (``dispatched``/``派遣``, ``closed``/``销号``).
        note
            Free text for the history.
        evidence
            Photo file(s) of the rectification, copied into the store.
        reason
            Why a finding is closed without valid photo evidence (recorded); required then.
        department
            For ``dispatched``: the department it goes to (default :func:`suggest_department`).
        duplicate_of
            For ``duplicate``: the id of the finding this one repeats.
        expected_version
            The ``version`` the caller's view showed; a different current version raises
            :class:`ConflictError` instead of applying the change over a newer one.
        actor
            Who makes the change (default: the store's actor).
        at
            When (default now).

        Raises
        ------
        WorkflowError
            For a change the workflow does not allow, or a close-out without evidence or reason.
        ConflictError
            When ``expected_version`` is stale.
        """
        new = parse_status(status)
        paths = [evidence] if isinstance(evidence, (str, os.PathLike)) else list(evidence or [])
        infos = [read_photo(p) for p in paths]
        when = _aware(at) if at is not None else _now()
        who = actor or self.actor
        # Check once before copying files, then again inside the transaction.
        current = self.get(finding_id)
        self._check_change(current, new, infos, reason, duplicate_of, expected_version)
        stored = {i.sha256: self._keep_photo(i) for i in infos}
        with self.backend.transaction() as tx:
            row = tx.fetch_finding(current.finding_id)
            cur = Finding._from_row(row)
            changes = self._check_change(cur, new, infos, reason, duplicate_of, expected_version)
            changes["updated_at"] = _db_time(when)
            if new == "dispatched":
                changes["department"] = (department or "").strip() or suggest_department(
                    cur.category, park_unit=self._park_unit(cur))
            if new == "closed":
                changes["closed_at"] = _db_time(when)
            if not tx.update_finding(cur.finding_id, changes, cur.version):
                raise ConflictError(f"finding {cur.finding_id} changed while it was being updated; reload it and try again")
            tx.insert_photos([_photo_row(cur.finding_id, i, stored[i.sha256], "evidence") for i in infos])
            tx.insert_events([{
                "finding_id": cur.finding_id, "at": _db_time(when), "actor": who, "from_status": cur.status,
                "to_status": new, "note": (note or "").strip() or None,
                "evidence_photo": ";".join(stored[i.sha256] for i in infos) or None,
                "reason": (reason or "").strip() or None, "department": changes.get("department"),
            }])
        return self.get(cur.finding_id)

    def _park_unit(self, f: Finding) -> str | None:
        if not f.park_code:
            return None
        try:
            loc = self.locator.locate([f.x], [f.y])[0]
        except (InputError, OSError):
            return None
        return loc.park_unit if loc is not None else None

    def _check_change(self, cur: Finding, new: str, infos: Sequence[PhotoInfo], reason: str | None,
                      duplicate_of: str | None, expected_version: int | None) -> dict[str, Any]:
        if expected_version is not None and int(expected_version) != cur.version:
            raise ConflictError(
                f"finding {cur.finding_id} was changed by someone else (now version {cur.version}, status "
                f"{cur.status}; your view had version {expected_version}); reload it and try again"
            )
        allowed = TRANSITIONS.get(cur.status, ())
        if new not in allowed:
            nxt = ", ".join(f"{s} ({term_label('status', s)})" for s in allowed) or "none: it is final"
            raise WorkflowError(
                f"finding {cur.finding_id} is {cur.status} ({term_label('status', cur.status)}); it cannot become "
                f"{new} ({term_label('status', new)}). Allowed next: {nxt}"
            )
        changes: dict[str, Any] = {"status": new}
        if new == "duplicate":
            if not duplicate_of:
                raise WorkflowError(f"marking {cur.finding_id} as duplicate needs the id of the finding it repeats (duplicate_of)")
            other = self.backend.fetch_finding(str(duplicate_of).strip())
            if other is None or other["finding_id"] == cur.finding_id:
                raise WorkflowError(f"duplicate_of {duplicate_of!r} is not another finding in this store")
            changes["duplicate_of"] = other["finding_id"]
        if new == "closed":
            old = [(None, r) for r in self.backend.select_photos([cur.finding_id]) if r["kind"] == "evidence"]
            ok, problems = self._check_evidence(cur, [(i, {}) for i in infos] + old)
            if not ok and not (reason or "").strip():
                raise WorkflowError(
                    f"closing {cur.finding_id} needs a rectification photo taken after the report and within "
                    f"{EVIDENCE_RADIUS_M:.0f} m of it ({'; '.join(problems)}); give --evidence PHOTO, or --reason TEXT "
                    "to close without one (the reason is recorded)"
                )
        return changes

    def link_duplicate(self, finding_id: str, of_id: str, *, note: str | None = None,
                       expected_version: int | None = None, actor: str | None = None) -> Finding:
        """Mark ``finding_id`` as a duplicate of ``of_id`` (an event; the finding becomes final)."""
        return self.set_status(finding_id, "duplicate", duplicate_of=of_id, note=note,
                               expected_version=expected_version, actor=actor)

    def attach_photo(self, finding_id: str, photo: str | os.PathLike[str], *, kind: str = "evidence",
                     note: str | None = None, expected_version: int | None = None, actor: str | None = None) -> Finding:
        """Attach a report or evidence photo; recorded as an event with unchanged status."""
        if kind not in ("report", "evidence"):
            raise InputError(f"photo kind {kind!r} is unknown; expected report or evidence")
        info = read_photo(photo)
        cur = self.get(finding_id)
        if expected_version is not None and expected_version != cur.version:
            raise ConflictError(f"finding {cur.finding_id} was changed by someone else (now version {cur.version}); reload it")
        name = self._keep_photo(info)
        with self.backend.transaction() as tx:
            self._attach_in_tx(tx, cur.finding_id, info, name, kind, note, actor or self.actor, expected_version)
        return self.get(cur.finding_id)

    def _attach_in_tx(self, tx: Any, finding_id: str, info: PhotoInfo, name: str, kind: str, note: str | None,
                      actor: str, expected_version: int | None) -> None:
        cur = Finding._from_row(tx.fetch_finding(finding_id))
        if expected_version is not None and expected_version != cur.version:
            raise ConflictError(f"finding {finding_id} was changed by someone else (now version {cur.version}); reload it")
        when = _db_time(_now())
        if not tx.update_finding(finding_id, {"updated_at": when}, cur.version):
            raise ConflictError(f"finding {finding_id} changed while the photo was being attached; try again")
        tx.insert_photos([_photo_row(finding_id, info, name, kind)])
        tx.insert_events([{
            "finding_id": finding_id, "at": when, "actor": actor, "from_status": cur.status, "to_status": cur.status,
            "note": (note or f"{kind} photo attached").strip(), "evidence_photo": name, "reason": None,
            "department": None,
        }])

    # -- importing --------------------------------------------------------------------
    def import_path(self, path: str | os.PathLike[str], *, coords: str = "wgs84", category: str | None = None,
                    finding_type: str | None = None, inspector: str | None = None,
                    feedback: Feedback | None = None) -> ImportResult:
        """Import a folder of geotagged photos, or a CSV/XLSX/KML list of findings; all or nothing.

        Parameters
        ----------
        path
            A folder (photos: each becomes a finding, or evidence for an open finding it
            matches by place and time) or a ``.csv``, ``.xlsx`` or ``.kml`` file.
        coords
            What the list's lon/lat are: ``wgs84``, ``gcj02`` (Amap/Tencent), ``bd09`` (Baidu).
            Photo EXIF positions are always WGS84.
        category, finding_type
            Defaults for rows (and photos) that do not say; photos default to household/other.
        inspector
            Default inspector.
        """
        p = Path(path)
        if p.is_dir():
            return self.import_photos(p, category=category or "household", finding_type=finding_type or "other",
                                      inspector=inspector, feedback=feedback)
        items = read_findings_table(p, coords=coords, category=category, finding_type=finding_type,
                                    inspector=inspector)
        before = {f.finding_id for f in self.findings(statuses=OPEN_STATUSES)}
        ids = self.add_many(items, feedback=feedback)
        dups = []
        for fid in ids:
            f = self.get(fid)
            for d in self.find_duplicates(f.x, f.y, f.finding_type, exclude=fid):
                if d.finding_id in before:
                    dups.append((fid, d.finding_id))
        return ImportResult(added=tuple(ids), duplicates=tuple(dups))

    def import_photos(self, folder: str | os.PathLike[str], *, category: str = "household",
                      finding_type: str = "other", inspector: str | None = None,
                      feedback: Feedback | None = None) -> ImportResult:
        """Geotagged photos → evidence for a matching open finding, else new findings; all or nothing.

        A photo is evidence for an open finding when it lies within
        :data:`EVIDENCE_RADIUS_M` of it and was taken after it was found; otherwise it
        becomes a new finding at its EXIF position and time. Photos already in the store
        (same content) are skipped, so importing a folder twice adds nothing twice.
        """
        fb = ensure_feedback(feedback)
        folder = Path(folder)
        from gridtool.photos import PHOTO_SUFFIXES

        files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES)
        if not files:
            raise ReadError(f"folder {str(folder)!r} has no photos ({', '.join(PHOTO_SUFFIXES)})")
        problems: list[str] = []
        infos: list[PhotoInfo] = []
        for i, f in enumerate(files):
            fb.step(i, len(files), "reading photos", lo=0, hi=40)
            try:
                info = read_photo(f)
            except InputError as exc:
                problems.append(str(exc))
                continue
            if not info.has_exif:
                problems.append(f"photo {f.name!r} has no EXIF data (position and time); the phone or chat app removed it. "
                                "Send the original photo, or add this finding by hand with 'gridtool findings add'")
            elif not info.has_position:
                problems.append(f"photo {f.name!r} has no GPS position in its EXIF; turn on location for the camera, "
                                "or add this finding by hand with 'gridtool findings add --lon --lat'")
            infos.append(info)
        if problems:
            raise _many_problems(problems, len(files), what="photos")
        skipped = [i.path.name for i in infos if self.backend.select_photos(sha256=i.sha256)]
        infos = [i for i in infos if i.path.name not in skipped]
        open_f = self.findings(statuses=OPEN_STATUSES)
        evidence: list[tuple[Finding, PhotoInfo]] = []
        new_items: list[NewFinding] = []
        new_infos: list[PhotoInfo] = []
        for info in infos:
            best = None
            for f in open_f:
                d = ground_distance_m(f.lon, f.lat, info.lon, info.lat)  # type: ignore[arg-type]
                if d <= EVIDENCE_RADIUS_M and info.taken_at is not None and info.taken_at > f.found_at:
                    if best is None or d < best[0]:
                        best = (d, f)
            if best is not None:
                evidence.append((best[1], info))
            else:
                new_items.append(NewFinding(category=category, finding_type=finding_type, lon=info.lon, lat=info.lat,
                                            description=f"photo {info.path.name}", inspector=inspector,
                                            found_at=info.taken_at, coords="wgs84"))
                new_infos.append(info)
        preps, problems = self._prepare_many(new_items, fb, label="photo")
        if problems:
            problems = [_rename_photo_row(pr, new_infos) for pr in problems]
            raise _many_problems(problems, len(files), what="photos")
        for prep, info in zip(preps, new_infos):
            prep.photos.append((info, "report"))
        stored = {i.sha256: self._keep_photo(i) for i in infos}
        fb.set_progress(80, "writing")
        with self.backend.transaction() as tx:
            ids = self._write_new(tx, preps, stored, self.actor, note="立案 registered (photo import)") if preps else []
            for f, info in evidence:
                self._attach_in_tx(tx, f.finding_id, info, stored[info.sha256], "evidence",
                                   f"evidence photo {info.path.name} (import)", self.actor, None)
        fb.set_progress(100, "done")
        return ImportResult(added=tuple(ids), evidence=tuple((f.finding_id, i.path.name) for f, i in evidence),
                            skipped=tuple(skipped))

    # -- checks -----------------------------------------------------------------------
    def integrity_check(self) -> str:
        """The backend's consistency check (``"ok"`` when sound)."""
        check = getattr(self.backend, "integrity_check", None)
        return check() if check is not None else "ok"


# ----------------------------------------------------------------------------------
# finding lists: CSV, XLSX, KML
# ----------------------------------------------------------------------------------
_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "category": ("category", "waste_category", "类别", "废物类别", "固废类别"),
    "finding_type": ("finding_type", "type", "问题类型", "类型"),
    "description": ("description", "desc", "note", "描述", "问题描述", "备注", "说明"),
    "inspector": ("inspector", "网格员", "巡查员", "上报人", "reporter"),
    "found_at": ("found_at", "time", "datetime", "date", "timestamp", "发现时间", "时间", "上报时间"),
}


def _pick_columns(columns: Iterable[str]) -> dict[str, str]:
    lower = {_norm(c): c for c in columns}
    out = {}
    for role, names in _ALIASES.items():
        for n in names:
            if _norm(n) in lower:
                out[role] = lower[_norm(n)]
                break
    return out


def read_findings_table(path: str | os.PathLike[str], *, coords: str = "wgs84", category: str | None = None,
                        finding_type: str | None = None, inspector: str | None = None) -> list[NewFinding]:
    """Read a CSV, XLSX or KML list of findings into :class:`NewFinding` records (not validated yet).

    Columns are found by name in English or Chinese (``lon``/``经度``, ``lat``/``纬度``,
    ``category``/``类别``, ``type``/``问题类型``, ``description``/``描述``, ``inspector``/``网格员``,
    ``found_at``/``发现时间``); KML points give lon/lat, and ``Name``/``Description`` the text.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise ReadError(f"import file {str(p)!r} does not exist; give a CSV, XLSX or KML file or a folder of photos")
    suffix = p.suffix.lower()
    lonlat = None
    try:
        if suffix == ".csv":
            try:
                df = pd.read_csv(p, dtype=str, encoding="utf-8-sig", keep_default_na=False)
            except UnicodeDecodeError:
                df = pd.read_csv(p, dtype=str, encoding="gb18030", keep_default_na=False)
        elif suffix in (".xlsx", ".xlsm"):
            df = pd.read_excel(p, dtype=str, keep_default_na=False)
        elif suffix == ".kml":
            import pyogrio

            gdf = pyogrio.read_dataframe(p)
            gdf = gdf[~gdf.geometry.isna()]
            if len(gdf) and not (gdf.geom_type == "Point").all():
                bad = sorted(set(gdf.geom_type) - {"Point"})
                raise ReadError(f"KML {str(p)!r} has {', '.join(bad)} features; findings are points (placemarks)")
            lonlat = (gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object).where(lambda d: d.notna(), "")
        else:
            raise ReadError(f"import file {str(p)!r} has the suffix {suffix!r}; expected .csv, .xlsx or .kml, or a folder of photos")
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas/GDAL raise many types
        raise ReadError(f"import file {str(p)!r} cannot be read ({exc.__class__.__name__}: {exc})") from exc
    cols = _pick_columns(df.columns)
    if lonlat is None and ("lon" not in cols or "lat" not in cols):
        raise SchemaError(
            f"import file {str(p)!r} has no lon/lat columns (found: {', '.join(map(str, df.columns))}); "
            "expected columns lon and lat (or 经度 and 纬度) in decimal degrees", ["lon/lat"],
        )
    n = len(df)

    def col(role: str, default: str | None) -> list[Any]:
        if role in cols:
            return [(_clean(v) or default) for v in df[cols[role]].tolist()]
        return [default] * n

    cat, typ, desc, insp, when = (col("category", category), col("finding_type", finding_type),
                                  col("description", ""), col("inspector", inspector), col("found_at", None))
    if suffix == ".kml":
        names = col("name", None) if "name" in cols else [None] * n
        kml_name = next((c for c in df.columns if _norm(c) == "name"), None)
        if kml_name is not None:
            names = [_clean(v) for v in df[kml_name].tolist()]
        desc = [" ".join(x for x in (nm, d) if x) for nm, d in zip(names, desc)]
    lons = lonlat[0].tolist() if lonlat is not None else df[cols["lon"]].tolist()
    lats = lonlat[1].tolist() if lonlat is not None else df[cols["lat"]].tolist()
    return [
        NewFinding(category=cat[i] or "", finding_type=typ[i] or "", lon=lons[i], lat=lats[i],
                   description=desc[i] or "", inspector=insp[i], found_at=when[i], coords=coords)
        for i in range(n)
    ]


def _rename_photo_row(problem: str, infos: Sequence[PhotoInfo]) -> str:
    head, _, rest = problem.partition(": ")
    try:
        idx = int(head.split()[-1]) - 1
        return f"photo {infos[idx].path.name!r}: {rest}"
    except (ValueError, IndexError):
        return problem


def _many_problems(problems: list[str], total: int, what: str = "rows") -> SchemaError:
    shown = problems[:8]
    more = f" … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    return SchemaError(
        f"nothing was imported: {len(problems)} problem(s) in {total} {what}: " + " | ".join(shown) + more
        + ". Fix them and import again",
        problems,
    )


def _photo_row(finding_id: str, info: PhotoInfo, stored_name: str, kind: str) -> dict[str, Any]:
    return {
        "finding_id": finding_id, "stored_name": stored_name, "original_name": info.path.name[:255],
        "sha256": info.sha256, "taken_at": _db_time(info.taken_at) if info.taken_at else None,
        "lon": info.lon, "lat": info.lat, "kind": kind, "added_at": _db_time(_now()),
    }


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"

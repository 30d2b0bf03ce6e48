"""Online basemap tiles (Tianditu or any XYZ template) drawn under the vector layers.

The canvas works in EPSG:4549 metres; tiles come in EPSG:3857 (Web Mercator, Tianditu
``_w`` sets and XYZ templates) or in EPSG:4490 longitude/latitude (Tianditu ``_c``
sets). For each view :meth:`BasemapLayer.paint`

1. transforms the view boundary into the tile CRS and picks the zoom level whose tile
   resolution is closest (in log scale) to the view's;
2. lists the covering tiles;
3. transforms each tile's four corners tile-CRS → EPSG:4549 → screen with pyproj and
   draws the tile image through the least-squares **affine** transform of those four
   corners (``QTransform``; an affine transform keeps Qt's fast image path, unlike a
   projective ``quadToQuad`` one).

Accuracy of the per-tile affine approximation: the 3857/4490 → 4549 mapping is
smooth, so over one tile (≤ 2.4 km at zoom 14, the district view) the non-affine part
is tiny and shrinks 4× per zoom level (it is quadratic in the tile size). Measured
around Zhonglou (31.78°N 119.95°E) with tiles drawn about 1:1, the largest distance
between a tile pixel's true screen position and the affine one is 0.013 px (3857) /
0.015 px (4490) at zoom 14 (district view), 0.05 / 0.06 px at zoom 12, 0.21 / 0.24 px
at zoom 10 and 0.8 / 1.0 px at zoom 8 (a whole-province view, where a basemap pixel
is ~600 m). ``test_affine_warp_accuracy`` checks < 0.3 px for zoom 10–18. The tile CRS and EPSG:4549
share the CGCS2000/WGS84 ellipsoid and PROJ treats the datum shift as null.

Fetching is asynchronous: :class:`QNetworkAccessManager` performs the I/O in the
event loop without blocking the UI; finished tiles are decoded (≈1 ms each), written to
a disk cache ``<cache>/gridtool/tiles/<source>/<z>/<x>/<y>.png`` (the file holds
the server's bytes, PNG or JPEG) and :attr:`BasemapLayer.changed` asks the canvas to
repaint (coalesced, at most one signal per 50 ms). Tiles already cached are read
from disk without any network access. A failing or missing server only leaves the
basemap empty: failed tiles are not retried for :data:`RETRY_AFTER_S` seconds and
:attr:`BasemapLayer.failed` reports one message.

Keys: a Tianditu key (``tk``) belongs to the user. It is stored with QSettings
(:func:`save_key` / :func:`load_key`), used in request URLs only, never written into
cache paths, logs or the project file (:meth:`BasemapLayer.to_project_dict` holds no
key; ``gridtool.project`` strips keys as well).
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import numpy as np
from PyQt6.QtCore import QCoreApplication, QEventLoop, QObject, QRectF, QSettings, QStandardPaths, QTimer, QUrl, pyqtSignal
from PyQt6.QtGui import QImage, QPainter, QTransform
from PyQt6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from gridtool.kinds import WORK_EPSG
from layers.viewport import Viewport

__all__ = [
    "TileGrid",
    "TileLayerDef",
    "TileSource",
    "WEB_MERCATOR",
    "TIANDITU_LONLAT",
    "PROVIDERS",
    "provider_ids",
    "make_source",
    "BasemapLayer",
    "default_cache_dir",
    "load_key",
    "save_key",
    "SETTINGS_KEY",
    "RETRY_AFTER_S",
    "affine_from_quad",
]

RETRY_AFTER_S = 60.0
"""Seconds before a failed tile is requested again."""

SETTINGS_KEY = "basemap/tianditu_key"
SETTINGS_SOURCE = "basemap/last_source"
_USER_AGENT = b"Mozilla/5.0 (compatible; gridtool desktop GIS)"


# --------------------------------------------------------------------------- tile grids
@dataclass(frozen=True)
class TileGrid:
    """A quadtree tile matrix: ``2**z`` columns of ``span0 / 2**z`` CRS units each.

    ``origin`` is the top-left corner; rows count downwards. ``height`` is the grid's
    vertical extent (rows beyond it do not exist).
    """

    epsg: int
    origin_x: float
    origin_y: float
    span0: float
    height: float
    min_zoom: int
    max_zoom: int
    tile_px: int = 256

    def span(self, z: int) -> float:
        """Width of one tile at zoom ``z`` in CRS units."""
        return self.span0 / (2.0 ** z)

    def columns(self, z: int) -> int:
        return int(2 ** z)

    def rows(self, z: int) -> int:
        return max(1, int(math.ceil(self.height / self.span(z) - 1e-9)))

    def zoom_for(self, units_per_px: float) -> int:
        """The zoom whose tile resolution is closest (log scale) to ``units_per_px``."""
        if not units_per_px > 0 or not math.isfinite(units_per_px):
            return self.min_zoom
        z = round(math.log2(self.span0 / self.tile_px / units_per_px))
        return int(min(max(z, self.min_zoom), self.max_zoom))

    def tile_range(self, z: int, bbox: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """``(x0, x1, y0, y1)`` inclusive tile indices covering ``bbox`` (clamped to the grid)."""
        minx, miny, maxx, maxy = bbox
        s = self.span(z)
        x0 = int(math.floor((minx - self.origin_x) / s))
        x1 = int(math.floor((maxx - self.origin_x) / s))
        y0 = int(math.floor((self.origin_y - maxy) / s))
        y1 = int(math.floor((self.origin_y - miny) / s))
        cols, rows = self.columns(z), self.rows(z)
        return max(x0, 0), min(x1, cols - 1), max(y0, 0), min(y1, rows - 1)

    def tile_bounds(self, z: int, x: np.ndarray | int, y: np.ndarray | int) -> tuple[np.ndarray, ...]:
        """``(minx, miny, maxx, maxy)`` of tiles ``(x, y)`` at zoom ``z`` (vectorised)."""
        s = self.span(z)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        minx = self.origin_x + x * s
        maxy = self.origin_y - y * s
        return minx, maxy - s, minx + s, maxy


_MERC = 20037508.342789244
WEB_MERCATOR = TileGrid(3857, -_MERC, _MERC, 2 * _MERC, 2 * _MERC, 0, 19)
"""Google/OSM XYZ and Tianditu ``TILEMATRIXSET=w`` tiles."""
TIANDITU_LONLAT = TileGrid(4490, -180.0, 90.0, 360.0, 180.0, 1, 18)
"""Tianditu ``TILEMATRIXSET=c``: CGCS2000 lon/lat, level 1 = 2×1 tiles of 180°."""


# --------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class TileLayerDef:
    """One tiled layer of a source: its cache folder name and URL template."""

    cache_name: str
    url_template: str


@dataclass(frozen=True)
class TileSource:
    """A basemap: tiled layers drawn bottom to top on one grid."""

    provider: str
    title: str
    grid: TileGrid
    layers: tuple[TileLayerDef, ...]
    needs_key: bool = False
    attribution: str = ""
    key: str = field(default="", repr=False, compare=False)
    url: str | None = None

    @property
    def active(self) -> bool:
        """True when the source can fetch tiles (has layers and, if needed, a key)."""
        return bool(self.layers) and (not self.needs_key or bool(self.key))


_TDT = (
    "http://t{s}.tianditu.gov.cn/{layer}_{set}/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET={set}&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={{key}}"
)
_TDT_ATTR = "天地图 (tianditu.gov.cn)"

# provider id -> (title (English source; translated in the dialog), base layer, annotation layer, matrix set)
PROVIDERS: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "none": ("No basemap", None, None, None),
    "tianditu_vec_w": ("Tianditu vector (Web Mercator)", "vec", "cva", "w"),
    "tianditu_img_w": ("Tianditu imagery (Web Mercator)", "img", "cia", "w"),
    "tianditu_vec_c": ("Tianditu vector (CGCS2000 lon/lat)", "vec", "cva", "c"),
    "tianditu_img_c": ("Tianditu imagery (CGCS2000 lon/lat)", "img", "cia", "c"),
    "xyz": ("Custom XYZ tiles", None, None, None),
}


def provider_ids() -> list[str]:
    return list(PROVIDERS)


def _check_xyz_url(url: str | None) -> str:
    if not url or not str(url).strip():
        raise ValueError("an XYZ basemap needs a URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    url = str(url).strip()
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"XYZ URL {url!r} must start with http:// or https:// and name a server")
    missing = [p for p in ("{x}", "{y}", "{z}") if p not in url and not (p == "{y}" and "{-y}" in url)]
    if missing:
        raise ValueError(
            f"XYZ URL {url!r} lacks {', '.join(missing)}; expected a template like "
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        )
    return url


def make_source(provider: str, url: str | None = None, key: str | None = None, *, annotation: bool = True) -> TileSource:
    """Build the :class:`TileSource` of ``provider``.

    Parameters
    ----------
    provider
        One of :data:`PROVIDERS` (``"none"``, ``"tianditu_vec_w"``, ``"tianditu_img_w"``,
        ``"tianditu_vec_c"``, ``"tianditu_img_c"``, ``"xyz"``).
    url
        The template of ``"xyz"``: ``{z}``, ``{x}``, ``{y}`` (or ``{-y}`` for TMS rows),
        optional ``{s}`` with subdomains ``a``–``c`` or a range like ``t{0-7}``.
        For a Tianditu provider, ``url`` optionally names a mirror (an intranet
        proxy of Tianditu) replacing ``http://t{s}.tianditu.gov.cn``; the WMTS path
        and query stay the same.
    key
        The Tianditu key; without it a Tianditu source is inactive (draws nothing).
    annotation
        Draw Tianditu's annotation layer (cva/cia place names) over the base layer.

    Raises
    ------
    ValueError
        For an unknown provider or a malformed XYZ URL.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"basemap provider {provider!r} is unknown; expected one of {', '.join(PROVIDERS)}")
    title, base, anno, mset = PROVIDERS[provider]
    if provider == "none":
        return TileSource("none", title, WEB_MERCATOR, ())
    if provider == "xyz":
        url = _check_xyz_url(url)
        digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
        host = re.sub(r"[^A-Za-z0-9.-]", "_", urlsplit(url.replace("{", "").replace("}", "")).hostname or "xyz")
        return TileSource(
            "xyz", title, WEB_MERCATOR, (TileLayerDef(f"xyz_{host}_{digest}", url),),
            attribution=host, url=url,
        )
    grid = WEB_MERCATOR if mset == "w" else TIANDITU_LONLAT
    if mset == "w":
        grid = TileGrid(3857, -_MERC, _MERC, 2 * _MERC, 2 * _MERC, 1, 18)
    names = [base] + ([anno] if annotation else [])
    root = "http://t{s}.tianditu.gov.cn"
    cache_prefix = "tianditu"
    if url:
        mirror = str(url).strip().rstrip("/")
        parts = urlsplit(mirror)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Tianditu mirror URL {url!r} must look like http://host[:port][/path]")
        root = mirror
        cache_prefix = "tianditu_" + hashlib.sha1(mirror.encode("utf-8")).hexdigest()[:8]
    layers = tuple(
        TileLayerDef(f"{cache_prefix}_{n}_{mset}", _TDT.replace("http://t{s}.tianditu.gov.cn", root).format(
            layer=n, set=mset, s="{s}")) for n in names
    )
    return TileSource(
        provider, title, grid, layers, needs_key=True, attribution=_TDT_ATTR, key=(key or "").strip(),
        url=(str(url).strip() if url else None),
    )


_RANGE = re.compile(r"\{([0-9a-z])-([0-9a-z])\}")


def tile_url(template: str, z: int, x: int, y: int, *, key: str = "", rows: int | None = None) -> str:
    """Fill an URL template for tile ``(z, x, y)`` (subdomain chosen from ``x + y``)."""
    m = _RANGE.search(template)
    if m:
        lo, hi = ord(m.group(1)), ord(m.group(2))
        sub = chr(lo + (x + y) % (hi - lo + 1))
        template = template[: m.start()] + sub + template[m.end():]
    if "{s}" in template:
        template = template.replace("{s}", str((x + y) % 8) if "tianditu" in template else "abc"[(x + y) % 3])
    if "{-y}" in template:
        template = template.replace("{-y}", str((rows or 2 ** z) - 1 - y))
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y)).replace("{key}", key)


# --------------------------------------------------------------------------- settings
def load_key(settings: QSettings | None = None) -> str:
    """The Tianditu key stored in the user's settings ("" when none)."""
    s = settings if settings is not None else QSettings()
    return str(s.value(SETTINGS_KEY, "") or "")


def save_key(key: str, settings: QSettings | None = None) -> None:
    """Store (or with ``""`` remove) the user's Tianditu key in QSettings, never in a project."""
    s = settings if settings is not None else QSettings()
    if key:
        s.setValue(SETTINGS_KEY, key.strip())
    else:
        s.remove(SETTINGS_KEY)
    s.sync()


def default_cache_dir() -> Path:
    """``<generic cache>/gridtool/tiles`` (e.g. ``~/.cache/gridtool/tiles``)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
    if not base:
        base = tempfile.gettempdir()
    return Path(base) / "gridtool" / "tiles"


# --------------------------------------------------------------------------- geometry
@functools.lru_cache(maxsize=8)
def _transformer(src_epsg: int, dst_epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)


def affine_from_quad(src: np.ndarray, dst: np.ndarray) -> tuple[QTransform, float]:
    """Least-squares affine transform mapping points ``src`` (n×2) onto ``dst`` (n×2).

    Returns the QTransform and the largest residual (pixels) at the given points.
    """
    a = np.column_stack([src, np.ones(len(src))])
    coef, *_ = np.linalg.lstsq(a, dst, rcond=None)  # 3×2: [[m11, m12], [m21, m22], [dx, dy]]
    resid = float(np.max(np.hypot(*(a @ coef - dst).T))) if len(src) else 0.0
    t = QTransform(coef[0, 0], coef[0, 1], coef[1, 0], coef[1, 1], coef[2, 0], coef[2, 1])
    return t, resid


@dataclass
class _Plan:
    z: int
    xs: np.ndarray
    ys: np.ndarray
    quads: np.ndarray  # (n, 4, 2) screen corners TL, TR, BR, BL


# --------------------------------------------------------------------------- the layer
class BasemapLayer(QObject):
    """Tiles of a :class:`TileSource` drawn in an EPSG:4549 :class:`Viewport`.

    Signals
    -------
    changed
        New tiles arrived (or the source changed): repaint.
    failed(str)
        A tile request failed; one message per source until a tile succeeds again.

    Parameters
    ----------
    cache_dir
        Disk cache root; default :func:`default_cache_dir`.
    network
        A QNetworkAccessManager to use (default: a private one).
    max_memory_tiles
        Decoded tiles kept in memory (LRU).
    """

    changed = pyqtSignal()
    failed = pyqtSignal(str)

    MAX_TILES_PER_VIEW = 400
    MAX_PENDING = 96

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        network: QNetworkAccessManager | None = None,
        max_memory_tiles: int = 600,
    ) -> None:
        super().__init__(parent)
        self._cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._nam = network if network is not None else QNetworkAccessManager(self)
        self._source = make_source("none")
        self._memory: OrderedDict[tuple[str, int, int, int], QImage] = OrderedDict()
        self._max_memory = int(max_memory_tiles)
        self._pending: dict[tuple[str, int, int, int], QNetworkReply] = {}
        self._failed_at: dict[tuple[str, int, int, int], float] = {}
        self._reported = False
        self.opacity = 1.0
        self.visible = True
        self.last_error = ""
        self.network_requests = 0
        self.disk_hits = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.changed)
        self._to_tile = None
        self._from_tile = None

    # -- source --------------------------------------------------------------------
    @property
    def source(self) -> TileSource:
        return self._source

    @property
    def provider(self) -> str:
        return self._source.provider

    @property
    def cache_dir(self) -> Path:
        return self._cache_dir

    def is_active(self) -> bool:
        """True when painting may draw tiles (visible, a provider, a key if needed)."""
        return self.visible and self._source.active

    def set_source(self, provider: str, url: str | None = None, key: str | None = None, *, annotation: bool = True) -> None:
        """Choose the basemap (see :func:`make_source`); raises ValueError on bad input."""
        src = make_source(provider, url, key, annotation=annotation)
        self._cancel_pending()
        self._source = src
        self._failed_at.clear()
        self._reported = False
        self.last_error = ""
        self._to_tile = _transformer(WORK_EPSG, src.grid.epsg)
        self._from_tile = _transformer(src.grid.epsg, WORK_EPSG)
        self.changed.emit()

    def to_project_dict(self) -> dict[str, Any]:
        """What a project file stores: provider (and XYZ URL), never the key."""
        d: dict[str, Any] = {"provider": self._source.provider}
        if self._source.url:
            d["url"] = self._source.url
        if self._source.provider.startswith("tianditu"):
            d["annotation"] = len(self._source.layers) > 1
        return d

    def apply_project_dict(self, d: dict[str, Any] | None, *, settings: QSettings | None = None) -> None:
        """Restore a project's basemap; a Tianditu key comes from the user's QSettings."""
        d = d or {"provider": "none"}
        provider = str(d.get("provider", "none"))
        try:
            key = load_key(settings) if provider.startswith("tianditu") else None
            self.set_source(provider, d.get("url"), key, annotation=bool(d.get("annotation", True)))
        except ValueError as exc:
            self.last_error = str(exc)
            self.set_source("none")

    # -- planning --------------------------------------------------------------------
    def plan(self, viewport: Viewport) -> _Plan | None:
        """The zoom, tiles and their screen quads for ``viewport`` (None when inactive)."""
        if not self._source.active or self._to_tile is None or viewport.width <= 0 or viewport.height <= 0:
            return None
        grid = self._source.grid
        minx, miny, maxx, maxy = viewport.extent
        k = 9
        t = np.linspace(0.0, 1.0, k)
        bx = np.concatenate([minx + (maxx - minx) * t, np.full(k, maxx), maxx - (maxx - minx) * t, np.full(k, minx)])
        by = np.concatenate([np.full(k, miny), miny + (maxy - miny) * t, np.full(k, maxy), maxy - (maxy - miny) * t])
        tx, ty = self._to_tile.transform(bx, by)
        tx, ty = np.asarray(tx), np.asarray(ty)
        if not (np.all(np.isfinite(tx)) and np.all(np.isfinite(ty))):
            return None
        bbox = (float(tx.min()), float(ty.min()), float(tx.max()), float(ty.max()))
        res = math.sqrt(((bbox[2] - bbox[0]) / viewport.width) * ((bbox[3] - bbox[1]) / viewport.height))
        z = grid.zoom_for(res)
        x0, x1, y0, y1 = grid.tile_range(z, bbox)
        while (x1 - x0 + 1) * (y1 - y0 + 1) > self.MAX_TILES_PER_VIEW and z > grid.min_zoom:
            z -= 1
            x0, x1, y0, y1 = grid.tile_range(z, bbox)
        if x1 < x0 or y1 < y0:
            return None
        xs, ys = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        xs, ys = xs.ravel(), ys.ravel()
        quads = self._screen_quads(viewport, z, xs, ys)
        return _Plan(z, xs, ys, quads)

    def _screen_quads(self, viewport: Viewport, z: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        grid = self._source.grid
        x0, y0, x1, y1 = grid.tile_bounds(z, xs, ys)  # minx, miny, maxx, maxy
        cx = np.stack([x0, x1, x1, x0], axis=1)  # TL, TR, BR, BL
        cy = np.stack([y1, y1, y0, y0], axis=1)
        mx, my = self._from_tile.transform(cx.ravel(), cy.ravel())
        sx, sy = viewport.to_screen(np.asarray(mx), np.asarray(my))
        return np.stack([sx, sy], axis=1).reshape(-1, 4, 2)

    # -- painting --------------------------------------------------------------------
    def paint(self, painter: QPainter, viewport: Viewport) -> int:
        """Draw the tiles of ``viewport`` that are available now; request the others.

        Missing tiles are drawn from a coarser cached tile (up to 4 levels up) while
        they load. Returns the number of tiles drawn.
        """
        if not self.is_active():
            return 0
        plan = self.plan(viewport)
        if plan is None:
            return 0
        tp = self._source.grid.tile_px
        src_pts = np.array([[0, 0], [tp, 0], [tp, tp], [0, tp]], dtype=float)
        drawn = 0
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.setOpacity(painter.opacity() * float(self.opacity))
            base = painter.worldTransform()
            # request centre tiles first so the middle of the screen fills first
            cxy = plan.quads.mean(axis=1)
            order = np.argsort(np.hypot(cxy[:, 0] - viewport.width / 2, cxy[:, 1] - viewport.height / 2))
            for layer in self._source.layers:
                for i in order:
                    x, y = int(plan.xs[i]), int(plan.ys[i])
                    img = self._get(layer, plan.z, x, y)
                    src_rect = QRectF(0, 0, tp, tp)
                    if img is None:
                        img, src_rect = self._fallback(layer, plan.z, x, y)
                        if img is None:
                            continue
                    t, _ = affine_from_quad(src_pts, plan.quads[i])
                    painter.setWorldTransform(t * base)
                    painter.drawImage(QRectF(0, 0, tp, tp), img, src_rect)
                    drawn += 1
        finally:
            painter.restore()
        return drawn

    def _fallback(self, layer: TileLayerDef, z: int, x: int, y: int) -> tuple[QImage | None, QRectF]:
        tp = self._source.grid.tile_px
        for up in range(1, 5):
            pz = z - up
            if pz < self._source.grid.min_zoom:
                break
            img = self._memory.get((layer.cache_name, pz, x >> up, y >> up))
            if img is not None:
                n = 1 << up
                w = tp / n
                return img, QRectF((x % n) * w, (y % n) * w, w, w)
        return None, QRectF()

    # -- tiles -----------------------------------------------------------------------
    def cache_path(self, layer: TileLayerDef | str, z: int, x: int, y: int) -> Path:
        """``<cache>/<layer cache name>/<z>/<x>/<y>.png`` (names are ours, never from outside)."""
        name = layer if isinstance(layer, str) else layer.cache_name
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in (".", ".."):
            raise ValueError(f"tile cache name {name!r} is not a plain folder name")
        return self._cache_dir / name / str(int(z)) / str(int(x)) / f"{int(y)}.png"

    def _remember(self, key: tuple[str, int, int, int], img: QImage) -> None:
        self._memory[key] = img
        self._memory.move_to_end(key)
        while len(self._memory) > self._max_memory:
            self._memory.popitem(last=False)

    def _get(self, layer: TileLayerDef, z: int, x: int, y: int) -> QImage | None:
        key = (layer.cache_name, z, x, y)
        img = self._memory.get(key)
        if img is not None:
            self._memory.move_to_end(key)
            return img
        path = self.cache_path(layer, z, x, y)
        if path.is_file():
            img = QImage()
            if img.loadFromData(path.read_bytes()):
                img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
                self.disk_hits += 1
                self._remember(key, img)
                return img
        self._request(layer, z, x, y)
        return None

    def _request(self, layer: TileLayerDef, z: int, x: int, y: int) -> None:
        key = (layer.cache_name, z, x, y)
        if key in self._pending or len(self._pending) >= self.MAX_PENDING:
            return
        failed = self._failed_at.get(key)
        if failed is not None and time.monotonic() - failed < RETRY_AFTER_S:
            return
        rows = self._source.grid.rows(z)
        url = tile_url(layer.url_template, z, x, y, key=self._source.key, rows=rows)
        req = QNetworkRequest(QUrl(url))
        req.setRawHeader(b"User-Agent", _USER_AGENT)
        req.setTransferTimeout(15000)
        reply = self._nam.get(req)
        self.network_requests += 1
        self._pending[key] = reply
        source = self._source
        reply.finished.connect(lambda r=reply, k=key, l=layer, s=source: self._on_finished(r, k, l, s))

    def _on_finished(self, reply: QNetworkReply, key: tuple[str, int, int, int], layer: TileLayerDef, source: TileSource) -> None:
        if self._pending.get(key) is reply:
            del self._pending[key]
        try:
            if source is not self._source:  # the source changed meanwhile
                return
            status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
            if reply.error() != QNetworkReply.NetworkError.NoError:
                self._fail(key, f"{reply.error().name}: {reply.errorString()}")
                return
            data = bytes(reply.readAll().data())
            img = QImage()
            if status not in (None, 200) or not img.loadFromData(data):
                head = data[:60].decode("utf-8", "replace").replace("\n", " ")
                self._fail(key, f"HTTP {status}, not an image ({len(data)} bytes: {head!r})")
                return
            self._write_cache(self.cache_path(layer, key[1], key[2], key[3]), data)
            self._remember(key, img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied))
            self._failed_at.pop(key, None)
            self._reported = False
            if not self._timer.isActive():
                self._timer.start()
        finally:
            reply.deleteLater()

    def _fail(self, key: tuple[str, int, int, int], why: str) -> None:
        self._failed_at[key] = time.monotonic()
        server = urlsplit(self._source.layers[0].url_template.replace("{", "").replace("}", "")).hostname or "?"
        z, x, y = key[1:]
        msg = QCoreApplication.translate(
            "BasemapLayer", "Basemap tiles from %1 failed (tile %2): %3. The map works without them."
        ).replace("%1", server).replace("%2", f"{z}/{x}/{y}").replace("%3", why)
        if self._source.key:
            msg = msg.replace(self._source.key, "***")
        self.last_error = msg
        if not self._reported:
            self._reported = True
            self.failed.emit(msg)

    @staticmethod
    def _write_cache(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=str(path.parent))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs refetching

    def _cancel_pending(self) -> None:
        for reply in list(self._pending.values()):
            reply.abort()
        self._pending.clear()

    def pending_count(self) -> int:
        return len(self._pending)

    def wait_for_tiles(self, viewport: Viewport, timeout_ms: int = 10000) -> bool:
        """Request every tile of ``viewport`` and wait (event loop) until none is pending.

        For exports, which must draw the finished map once. Returns True when all tiles
        of the view are available, False on timeout or failures.
        """
        plan = self.plan(viewport)
        if plan is None:
            return True
        deadline = time.monotonic() + timeout_ms / 1000.0
        missing: Iterable = ()
        while True:
            missing = [
                (layer, int(x), int(y)) for layer in self._source.layers for x, y in zip(plan.xs, plan.ys)
                if self._get(layer, plan.z, int(x), int(y)) is None
            ]
            if not missing:
                return True
            if not self._pending or time.monotonic() > deadline:
                return False
            loop = QEventLoop()
            QTimer.singleShot(20, loop.quit)
            loop.exec()

    def clear_memory(self) -> None:
        """Drop decoded tiles (the disk cache stays)."""
        self._memory.clear()

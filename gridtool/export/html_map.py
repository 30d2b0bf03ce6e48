"""Self-contained, offline HTML maps for meetings (folium + inlined Leaflet).

:func:`build_html_map` turns map layers (anything satisfying
:class:`gridtool.project.MapLayer`: the project's layers or the ``layers`` package's
models) into one HTML file that opens without a network: Leaflet, markercluster and our
controls are inlined (:mod:`gridtool.export.html_assets`), the background is the
district outline and roads drawn as vector layers unless an online basemap is asked for.

What keeps the file small and the page fast:

* one compact JSON block per map (flat rounded coordinates, column arrays of the shown
  fields, a symbol table and one symbol index per feature) instead of one folium object
  per feature;
* polygons and lines simplified in metres (EPSG:4549) before reprojecting;
* coordinates rounded to ~0.1 m (points) or ~1 m (lines, polygons);
* unused columns dropped; large point layers clustered (Leaflet.markercluster) and
  everything drawn on one canvas renderer.

What keeps it safe: data reaches the page only as JSON escaped for ``<script>``
(:func:`gridtool.export.escape.script_json`) and the page script writes it into the DOM
with ``textContent``; server-side text (title, page ``<title>``) is HTML-escaped.
"""
from __future__ import annotations

import base64
import datetime as _dt
import io as _io
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridtool.atomic import atomic_write_text
from gridtool.errors import InputError
from gridtool.export import html_assets as assets
from gridtool.export.escape import html_text, json_safe, script_json
from gridtool.kinds import GRID_KINDS, KINDS, WORK_EPSG
from gridtool.styles import (
    OVERDUE_COLOUR,
    Categorized,
    Graduated,
    Style,
    classify,
    graduated,
    legend_entries,
)

__all__ = [
    "HtmlMapOptions",
    "build_html_map",
    "export_html_map",
    "overdue_flags",
    "findings_per_grid",
    "BASEMAPS",
]

OPEN_STATUSES = ("registered", "dispatched", "rectifying", "verified")
_HIDDEN_COLUMNS = {"fid", "version", "updated_at", "geom", "geometry"}
_TEXT = {
    "zh_CN": {
        "legend": "图例", "overdue": "逾期", "days": "天", "search": "搜索网格名称/编码、问题编号…",
        "fullscreen": "全屏", "print": "打印", "source": "数据来源：钟楼区网格数据（样例）；坐标系 CGCS2000",
    },
    "en": {
        "legend": "Legend", "overdue": "Overdue", "days": "days", "search": "Search grid name/code, finding id…",
        "fullscreen": "Full screen", "print": "Print", "source": "Data: Zhonglou grid data (sample); CRS CGCS2000",
    },
}
BASEMAPS: dict[str, dict[str, Any]] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "subdomains": "abc",
        "attribution": "© OpenStreetMap contributors",
    },
    "tianditu": {
        "url": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY",
        "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY",
        "subdomains": "01234567",
        "attribution": "天地图 © 国家地理信息公共服务平台",
    },
}


@dataclass
class HtmlMapOptions:
    """Choices for an exported map; see :func:`build_html_map`."""

    title: str = "钟楼区无废城市网格监管图"
    subtitle: str = ""
    author: str = ""
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())
    source: str | None = None
    basemap: str = "none"  # none | osm | tianditu
    key: str | None = None
    thumbnails: bool = False
    simplify_m: float = 3.0
    cluster_min: int = 100
    lang: str = "zh_CN"
    today: _dt.date | None = None
    test_hooks: bool = False


# --------------------------------------------------------------------------- helpers
def overdue_flags(findings: pd.DataFrame, *, today: _dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Which findings are overdue, and by how many calendar days.

    Uses an ``overdue`` column when the findings store provided one; otherwise a
    finding is overdue when its ``deadline`` has passed and its status is still open.
    """
    n = len(findings)
    if "overdue" in findings.columns:
        flags = findings["overdue"].fillna(False).astype(bool).to_numpy()
        if "overdue_days" in findings.columns:
            days = pd.to_numeric(findings["overdue_days"], errors="coerce").fillna(0).astype(int).to_numpy()
        else:
            days = np.zeros(n, dtype=int)
        return flags, days
    if "deadline" not in findings.columns:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=int)
    today = today or _dt.date.today()
    deadline = pd.to_datetime(findings["deadline"], errors="coerce")
    status = findings["status"].astype(str) if "status" in findings.columns else pd.Series(["registered"] * n)
    days = (pd.Timestamp(today) - deadline).dt.days.fillna(0).astype(int).to_numpy()
    flags = (days > 0) & status.isin(OPEN_STATUSES).to_numpy()
    return flags, np.where(flags, days, 0)


def findings_per_grid(grids: gpd.GeoDataFrame, findings: gpd.GeoDataFrame, *, today: _dt.date | None = None) -> gpd.GeoDataFrame:
    """A copy of ``grids`` with ``findings_count``, ``open_count`` and ``overdue_count`` columns."""
    out = grids.copy()
    if findings is None or len(findings) == 0:
        for c in ("findings_count", "open_count", "overdue_count"):
            out[c] = 0
        return out
    f = findings.to_crs(out.crs) if findings.crs != out.crs else findings
    flags, _ = overdue_flags(f, today=today)
    pts = f.geometry.to_numpy()
    tree = shapely.STRtree(out.geometry.to_numpy())
    pi, gi = tree.query(pts, predicate="within")
    status = f["status"].astype(str).to_numpy() if "status" in f.columns else np.array(["registered"] * len(f))
    is_open = np.isin(status, OPEN_STATUSES)
    ng = len(out)
    out["findings_count"] = np.bincount(gi, minlength=ng)
    out["open_count"] = np.bincount(gi, weights=is_open[pi].astype(float), minlength=ng).astype(int)
    out["overdue_count"] = np.bincount(gi, weights=flags[pi].astype(float), minlength=ng).astype(int)
    return out


def _field_list(layer: Any, gdf: gpd.GeoDataFrame, lang: str) -> list[dict[str, str]]:
    kind = KINDS.get(layer.kind)
    cols = [c for c in gdf.columns if c != gdf.geometry.name and c not in _HIDDEN_COLUMNS]
    titles: dict[str, str] = {}
    order: list[str] = []
    if kind is not None and kind.columns:
        for c in kind.columns:
            if c.name in cols:
                order.append(c.name)
                titles[c.name] = c.title_zh if lang == "zh_CN" and c.title_zh else c.name
    for c in cols:  # analysis columns and user extras after the kind's own
        if c not in order:
            order.append(c)
    return [{"key": str(c), "label": titles.get(c, str(c))} for c in order[:24]]


def _tooltip_field(gdf: gpd.GeoDataFrame) -> str | None:
    for c in ("name", "finding_id", "code", "fac_id", "cand_id", "track_id"):
        if c in gdf.columns:
            return c
    return None


def _round(a: np.ndarray, decimals: int) -> list[float]:
    return np.round(a, decimals).ravel().tolist()


def _encode_geometry(geoms: np.ndarray, geom: str, decimals: int) -> Any:
    if geom == "point":
        xy = shapely.get_coordinates(geoms)
        return _round(xy, decimals)
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append([])
            continue
        parts = shapely.get_parts(g)
        if geom == "line":
            out.append([_round(shapely.get_coordinates(p), decimals) for p in parts])
        else:
            polys = []
            for p in parts:
                rings = [p.exterior, *p.interiors]
                polys.append([_round(shapely.get_coordinates(r), decimals) for r in rings])
            out.append(polys)
    return out


def _geom_kind(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type.dropna().unique())
    if types <= {"Point"}:
        return "point"
    if types <= {"LineString", "MultiLineString"}:
        return "line"
    if types <= {"Polygon", "MultiPolygon"}:
        return "polygon"
    if types <= {"MultiPoint"}:
        return "point"
    raise InputError(
        f"layer geometry types {sorted(types)} are mixed; an HTML map layer must hold only points, lines or polygons"
    )


def _symbol_json(sym: Any) -> dict[str, Any]:
    return {
        "fill": sym.fill, "stroke": sym.stroke, "weight": float(sym.stroke_width), "size": float(sym.size),
        "fillOpacity": float(sym.fill_opacity), "dash": sym.dash, "marker": sym.marker,
    }


def _thumbnail(path: str | os.PathLike[str], max_px: int = 160) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            im.thumbnail((max_px, max_px))
            buf = _io.BytesIO()
            im.save(buf, "JPEG", quality=70)
    except (OSError, UnidentifiedImageError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _layer_json(
    layer: Any, idx: int, opts: HtmlMapOptions, photos: Mapping[str, Sequence[str]] | None, text: dict[str, str]
) -> tuple[dict[str, Any], list[list[Any]]]:
    gdf = layer.gdf
    if gdf is None:
        raise InputError(f"layer {layer.name!r} has no data loaded; load the project before exporting")
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if gdf.crs is None:
        raise InputError(f"layer {layer.name!r} has no CRS; import it with gridtool import so it is in EPSG:{WORK_EPSG}")
    geom = _geom_kind(gdf) if len(gdf) else "point"
    work = gdf.to_crs(WORK_EPSG) if gdf.crs.to_epsg() != WORK_EPSG else gdf
    geoms = work.geometry.to_numpy()
    if geom != "point" and opts.simplify_m > 0:
        geoms = shapely.simplify(geoms, opts.simplify_m, preserve_topology=True)
    label_pts = None
    if layer.labels is not None and geom == "polygon" and 0 < len(work) <= 300 and layer.labels.field in work.columns:
        label_pts = shapely.point_on_surface(geoms)
    geoms_ll = gpd.GeoSeries(geoms, crs=WORK_EPSG).to_crs(4326).to_numpy()
    if geom == "point":
        geoms_ll = shapely.get_geometry(geoms_ll, 0)  # MultiPoint -> its first point
    codes, symbols = classify(layer.style, work)
    fields = _field_list(layer, work, opts.lang)
    props = {f["key"]: [json_safe(v) for v in work[f["key"]].tolist()] for f in fields}
    out: dict[str, Any] = {
        "id": f"L{idx}",
        "name": str(layer.name),
        "title": str(layer.title or layer.name),
        "kind": str(layer.kind),
        "geom": geom,
        "visible": bool(layer.visible),
        "opacity": float(layer.opacity),
        "cluster": geom == "point" and len(work) > opts.cluster_min,
        "symbols": [_symbol_json(s) for s in symbols],
        "sym": codes.astype(int).tolist(),
        "coords": _encode_geometry(geoms_ll, geom, 6 if geom == "point" else 5),
        "fields": fields,
        "props": props,
        "tooltipField": _tooltip_field(work),
        "overdueColour": OVERDUE_COLOUR,
        "text": {"overdue": text["overdue"], "days": text["days"]},
    }
    legend = legend_entries(layer.style)
    out["legend"] = [[str(lbl or layer.title or layer.name), i] for i, (lbl, _s) in enumerate(legend)]
    out["legendHasLabels"] = any(bool(lbl) for lbl, _s in legend)
    if label_pts is not None:
        ll = gpd.GeoSeries(label_pts, crs=WORK_EPSG).to_crs(4326)
        out["labelMinZoom"] = _zoom_for_scale(layer.labels.max_scale, float(ll.y.mean()))
        out["labels"] = [
            [round(p.x, 5), round(p.y, 5), str(v)] for p, v in zip(ll, work[layer.labels.field].tolist()) if v is not None
        ]
    if layer.kind == "findings":
        flags, days = overdue_flags(work, today=opts.today)
        out["overdue"] = flags.astype(int).tolist()
        out["overdueDays"] = days.astype(int).tolist()
        if opts.thumbnails and photos and "finding_id" in work.columns:
            ph: dict[str, list[str]] = {}
            for i, fid in enumerate(work["finding_id"].tolist()):
                uris = [u for u in (_thumbnail(p) for p in photos.get(str(fid), [])[:3]) if u]
                if uris:
                    ph[str(i)] = uris
            out["photos"] = ph
    search: list[list[Any]] = []
    if len(work) <= 20000:
        keys = ["finding_id"] if layer.kind == "findings" else ["name", "code"] if layer.kind in GRID_KINDS else ["name"]
        for key in keys:
            if key in work.columns:
                for i, v in enumerate(work[key].tolist()):
                    if v is not None and str(v) != "" and not (isinstance(v, float) and np.isnan(v)):
                        search.append([str(v), idx, i])
    return out, search


def _zoom_for_scale(scale: float, lat: float) -> int:
    """The first Web-Mercator zoom whose scale denominator is at most ``scale`` at ``lat``."""
    mpp = scale * 0.00028
    return int(np.clip(np.ceil(np.log2(156543.03392 * np.cos(np.radians(lat)) / mpp)), 0, 19))


def _basemap(opts: HtmlMapOptions) -> dict[str, Any] | None:
    if opts.basemap in (None, "", "none"):
        return None
    if opts.basemap not in BASEMAPS:
        raise InputError(f"basemap {opts.basemap!r} is unknown; expected none, osm or tianditu")
    bm = dict(BASEMAPS[opts.basemap])
    if opts.basemap == "tianditu":
        if not opts.key or not re.fullmatch(r"[A-Za-z0-9]{8,64}", opts.key):
            raise InputError(
                "basemap tianditu needs your Tianditu key (--key K, letters and digits from console.tianditu.gov.cn); "
                f"got {opts.key!r}"
            )
        k = urllib.parse.quote(opts.key)
        bm["url"] = bm["url"].replace("KEY", k)
        bm["labels"] = bm["labels"].replace("KEY", k)
    return bm


def build_html_map(
    layers: Sequence[Any],
    options: HtmlMapOptions | None = None,
    *,
    photos: Mapping[str, Sequence[str]] | None = None,
    choropleth: tuple[str, str] | None = None,
) -> str:
    """Build the HTML text of a self-contained map.

    Parameters
    ----------
    layers
        Map layers in drawing order (bottom first), each satisfying
        :class:`gridtool.project.MapLayer`. Hidden layers are included but start
        switched off in the layer control.
    options
        Title, subtitle, author, date, basemap and size settings.
    photos
        For findings: ``{finding_id: [photo paths]}``; embedded as ≤160 px thumbnails when
        ``options.thumbnails`` is set.
    choropleth
        ``(layer name, numeric field)``: restyle that layer as a graduated choropleth.

    Returns
    -------
    str
        The HTML page. Nothing in it is fetched from the network unless
        ``options.basemap`` names an online basemap.
    """
    opts = options or HtmlMapOptions()
    text = _TEXT.get(opts.lang, _TEXT["zh_CN"])
    if not layers:
        raise InputError("no layers to export; choose at least one layer (--layers)")
    layers = list(layers)
    if choropleth is not None:
        lname, fname = choropleth
        matches = [l for l in layers if l.name == lname or getattr(l, "id", None) == lname]
        if not matches:
            raise InputError(
                f"choropleth layer {lname!r} is not among the exported layers: {', '.join(l.name for l in layers)}"
            )
        target = matches[0]
        style = graduated(target.gdf, fname, classes=5, ramp="RdYlGn" if "cover" in fname or "share" in fname else "YlOrRd")
        layers[layers.index(target)] = _Restyled(target, style)

    lay_json: list[dict[str, Any]] = []
    search: list[list[Any]] = []
    bounds = None
    for i, layer in enumerate(layers):
        lj, s = _layer_json(layer, i, opts, photos, text)
        lay_json.append(lj)
        search.extend(s)
        if layer.gdf is not None and len(layer.gdf):
            b = layer.gdf.to_crs(4326).total_bounds if layer.gdf.crs.to_epsg() != 4326 else layer.gdf.total_bounds
            if np.all(np.isfinite(b)):
                bounds = b if bounds is None else np.array(
                    [min(bounds[0], b[0]), min(bounds[1], b[1]), max(bounds[2], b[2]), max(bounds[3], b[3])]
                )
    if bounds is None:
        bounds = np.array([119.80, 31.70, 120.00, 31.90])
    centre = [float((bounds[1] + bounds[3]) / 2), float((bounds[0] + bounds[2]) / 2)]

    m = folium.Map(location=centre, zoom_start=12, tiles=None, prefer_canvas=True, control_scale=False, maxZoom=19)
    # Nothing from a CDN: the instance's asset lists are emptied and the files inlined.
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.header.add_child(folium.Element(f"<title>{html_text(opts.title)}</title>"), name="gt_title")
    root.header.add_child(folium.Element(assets.inline_style(assets.leaflet_css())), name="gt_leaflet_css")
    root.header.add_child(folium.Element(assets.inline_style(assets.markercluster_css())), name="gt_mc_css")
    root.header.add_child(folium.Element(assets.inline_style(assets.app_css())), name="gt_app_css")
    root.header.add_child(folium.Element(assets.inline_script(assets.leaflet_js())), name="gt_leaflet_js")
    root.header.add_child(folium.Element(assets.inline_script(assets.markercluster_js())), name="gt_mc_js")
    data = {
        "mapVar": m.get_name(),
        "meta": {
            "title": opts.title, "subtitle": opts.subtitle, "date": opts.date, "author": opts.author,
            "source": opts.source if opts.source is not None else text["source"],
        },
        "text": {k: text[k] for k in ("legend", "overdue", "days", "search", "fullscreen", "print")},
        "layers": lay_json,
        "search": search,
        "bounds": [[float(bounds[1]), float(bounds[0])], [float(bounds[3]), float(bounds[2])]],
        "basemap": _basemap(opts),
        "test": bool(opts.test_hooks),
    }
    root.html.add_child(
        folium.Element(f'<script type="application/json" id="gt-data">{script_json(data)}</script>'), name="gt_data"
    )
    root.html.add_child(folium.Element(assets.inline_script(assets.app_js())), name="gt_app_js")
    page = root.render()
    _check_offline(page)
    return page


class _Restyled:
    """A layer seen with another style (for the choropleth), without touching the original."""

    def __init__(self, layer: Any, style: Style) -> None:
        self._layer = layer
        self.style = style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._layer, name)


_EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def _check_offline(page: str) -> None:
    """Refuse a page that would load any script, style or image from the network."""
    hit = _EXTERNAL.search(page)
    if hit:
        raise RuntimeError(f"exported page references an external resource: {hit.group(0)[:120]!r}")


def export_html_map(
    layers: Sequence[Any],
    out_path: str | os.PathLike[str],
    options: HtmlMapOptions | None = None,
    **kwargs: Any,
) -> Path:
    """Build the map (see :func:`build_html_map`) and write it atomically to ``out_path``."""
    out = Path(out_path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"--out {str(out)!r} must end in .html")
    if not out.parent.exists():
        raise InputError(f"--out folder {str(out.parent)!r} does not exist; create it first")
    page = build_html_map(layers, options, **kwargs)
    return atomic_write_text(out, page)

"""Layer styles as plain data: single symbol, categorized and graduated.

One style object serves every view: the Qt canvas paints with it, the layer panel
shows its legend and the HTML exporter turns it into Leaflet styles. Styles are
dataclasses that round-trip through JSON (:func:`style_to_dict`,
:func:`style_from_dict`) so that projects stay readable.

The central operation is :func:`classify`: given a style and a GeoDataFrame it returns,
for every feature, the index of the symbol that draws it. Views then draw all features
of one symbol together, which is what keeps 100k features fast.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Sequence, Union

import numpy as np
import pandas as pd

from gridtool.errors import InputError

__all__ = [
    "Symbol",
    "Category",
    "SingleSymbol",
    "Categorized",
    "Graduated",
    "Style",
    "LabelSpec",
    "classify",
    "legend_entries",
    "categorized",
    "graduated",
    "default_style",
    "default_labels",
    "style_to_dict",
    "style_from_dict",
    "RAMPS",
    "PALETTE",
    "STATUS_COLOURS",
]

MARKERS = ("circle", "square", "triangle", "diamond", "star", "cross")

# Colour ramps for graduated styles (ColorBrewer, light to dark).
RAMPS: dict[str, list[str]] = {
    "YlOrRd": ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    "RdYlGn": ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"],
    "Blues": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    "Greens": ["#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"],
    "Purples": ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"],
}
# Qualitative palette for categories (ColorBrewer Set1 + Dark2).
PALETTE = [
    "#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf",
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#666666",
]
# Finding status colours, the one table for canvas, findings panel, problem lists and HTML
# maps. Red is kept for overdue findings, which the views draw on top of their status.
STATUS_COLOURS: dict[str, str] = {
    "registered": "#1f78b4",
    "dispatched": "#6a3d9a",
    "rectifying": "#ff7f00",
    "verified": "#33a02c",
    "closed": "#7f7f7f",
    "rejected": "#bdbdbd",
    "duplicate": "#bdbdbd",
}
OVERDUE_COLOUR = "#e31a1c"


def _check_colour(name: str, value: str) -> str:
    v = str(value)
    if not (v.startswith("#") and len(v) in (7, 9) and all(c in "0123456789abcdefABCDEF" for c in v[1:])):
        raise InputError(f"{name} {value!r} is not a colour; expected '#rrggbb' or '#rrggbbaa', e.g. '#377eb8'")
    return v.lower()


@dataclass(frozen=True)
class Symbol:
    """How one class of features is drawn.

    Colours are ``#rrggbb``. ``size`` is the marker diameter in pixels for points;
    ``stroke_width`` is in pixels for every geometry. ``fill_opacity`` applies to
    polygon fills and marker fills; the layer's own opacity multiplies everything.
    """

    fill: str = "#377eb8"
    stroke: str = "#1f3b57"
    stroke_width: float = 1.0
    size: float = 7.0
    marker: str = "circle"
    fill_opacity: float = 1.0
    dash: str = "solid"  # solid | dash | dot

    def __post_init__(self) -> None:
        object.__setattr__(self, "fill", _check_colour("Symbol.fill", self.fill))
        object.__setattr__(self, "stroke", _check_colour("Symbol.stroke", self.stroke))
        if self.marker not in MARKERS:
            raise InputError(f"Symbol.marker {self.marker!r} is unknown; expected one of {', '.join(MARKERS)}")
        if not 0.0 <= float(self.fill_opacity) <= 1.0:
            raise InputError(f"Symbol.fill_opacity {self.fill_opacity!r} must lie between 0 and 1")
        if float(self.size) < 0 or float(self.stroke_width) < 0:
            raise InputError(f"Symbol size {self.size!r} and stroke_width {self.stroke_width!r} must be >= 0")


@dataclass(frozen=True)
class Category:
    value: Any
    symbol: Symbol
    label: str = ""


@dataclass(frozen=True)
class SingleSymbol:
    symbol: Symbol = field(default_factory=Symbol)
    type: str = "single"


@dataclass(frozen=True)
class Categorized:
    """One symbol per distinct value of ``field``; other values use ``default``."""

    field: str
    categories: tuple[Category, ...]
    default: Symbol = field(default_factory=lambda: Symbol(fill="#cccccc", stroke="#888888"))
    default_label: str = "其他"
    type: str = "categorized"


@dataclass(frozen=True)
class Graduated:
    """Classes of a numeric ``field``: ``breaks`` has one more entry than ``symbols``.

    A value ``v`` falls in class ``i`` when ``breaks[i] <= v < breaks[i+1]`` (the last
    class includes its upper edge). Missing values use ``missing``.
    """

    field: str
    breaks: tuple[float, ...]
    symbols: tuple[Symbol, ...]
    labels: tuple[str, ...] = ()
    method: str = "quantile"
    ramp: str = "YlOrRd"
    missing: Symbol = field(default_factory=lambda: Symbol(fill="#ffffff", stroke="#999999"))
    type: str = "graduated"

    def __post_init__(self) -> None:
        if len(self.breaks) != len(self.symbols) + 1:
            raise InputError(
                f"Graduated style on {self.field!r}: {len(self.breaks)} breaks for {len(self.symbols)} symbols; "
                "expected one break more than symbols"
            )
        if any(b2 < b1 for b1, b2 in zip(self.breaks, self.breaks[1:])):
            raise InputError(f"Graduated style on {self.field!r}: breaks {list(self.breaks)} must not decrease")


Style = Union[SingleSymbol, Categorized, Graduated]


@dataclass(frozen=True)
class LabelSpec:
    """Labels drawn from ``field`` when the map scale denominator is at most ``max_scale``."""

    field: str = "name"
    max_scale: float = 60000.0
    size_pt: float = 9.0
    colour: str = "#222222"
    halo: str = "#ffffff"


# --------------------------------------------------------------------------- classify
def classify(style: Style, gdf: pd.DataFrame) -> tuple[np.ndarray, list[Symbol]]:
    """Return, per feature, the index of its symbol in the returned list of symbols.

    Parameters
    ----------
    style
        A :data:`Style`.
    gdf
        The features (any DataFrame with the style's field).

    Returns
    -------
    codes, symbols
        ``codes`` is an int array with one entry per row of ``gdf``; ``symbols[codes[i]]``
        draws row ``i``.
    """
    n = len(gdf)
    if isinstance(style, SingleSymbol):
        return np.zeros(n, dtype=np.int32), [style.symbol]
    if isinstance(style, Categorized):
        symbols = [c.symbol for c in style.categories] + [style.default]
        if style.field not in gdf.columns:
            return np.full(n, len(symbols) - 1, dtype=np.int32), symbols
        values = gdf[style.field]
        lookup = {_norm_key(c.value): i for i, c in enumerate(style.categories)}
        keys = values.map(_norm_key)
        codes = keys.map(lookup).fillna(len(symbols) - 1).to_numpy(dtype=np.int32)
        return codes, symbols
    if isinstance(style, Graduated):
        symbols = list(style.symbols) + [style.missing]
        if style.field not in gdf.columns:
            return np.full(n, len(symbols) - 1, dtype=np.int32), symbols
        v = pd.to_numeric(gdf[style.field], errors="coerce").to_numpy(dtype=float)
        edges = np.asarray(style.breaks, dtype=float)
        idx = np.searchsorted(edges, v, side="right") - 1
        idx = np.where(v == edges[-1], len(style.symbols) - 1, idx)  # top edge inclusive
        bad = np.isnan(v) | (idx < 0) | (idx >= len(style.symbols))
        codes = np.where(bad, len(symbols) - 1, idx).astype(np.int32)
        return codes, symbols
    raise InputError(f"style {style!r} is not a SingleSymbol, Categorized or Graduated style")


def _norm_key(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def legend_entries(style: Style) -> list[tuple[str, Symbol]]:
    """The legend of a style: ``(label, symbol)`` pairs in display order."""
    if isinstance(style, SingleSymbol):
        return [("", style.symbol)]
    if isinstance(style, Categorized):
        out = [(c.label or str(c.value), c.symbol) for c in style.categories]
        return out
    labels = style.labels or tuple(
        f"{_fmt(a)} – {_fmt(b)}" for a, b in zip(style.breaks, style.breaks[1:])
    )
    return list(zip(labels, style.symbols))


def _fmt(x: float) -> str:
    if abs(x) >= 1000 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}"


# --------------------------------------------------------------------------- builders
def categorized(
    gdf: pd.DataFrame,
    field: str,
    *,
    base: Symbol | None = None,
    colours: dict[Any, str] | None = None,
    labels: dict[Any, str] | None = None,
    max_categories: int = 30,
) -> Categorized:
    """A categorized style with one colour per distinct value of ``field``.

    Raises
    ------
    InputError
        When ``field`` is missing or has more than ``max_categories`` values.
    """
    if field not in gdf.columns:
        raise InputError(f"field {field!r} is not a column of the layer; columns are: {', '.join(map(str, gdf.columns))}")
    values = [v for v in pd.unique(gdf[field].dropna())]
    if len(values) > max_categories:
        raise InputError(
            f"field {field!r} has {len(values)} distinct values; a categorized style shows at most "
            f"{max_categories}. Use a graduated style for numbers or pick a field with fewer values"
        )
    try:
        values = sorted(values)
    except TypeError:
        values = sorted(values, key=str)
    base = base or Symbol()
    cats = []
    for i, v in enumerate(values):
        colour = (colours or {}).get(v, PALETTE[i % len(PALETTE)])
        cats.append(Category(_norm_key(v), replace(base, fill=colour), (labels or {}).get(v, str(v))))
    return Categorized(field=field, categories=tuple(cats))


def graduated(
    gdf: pd.DataFrame,
    field: str,
    *,
    classes: int = 5,
    method: str = "quantile",
    ramp: str = "YlOrRd",
    base: Symbol | None = None,
    breaks: Sequence[float] | None = None,
) -> Graduated:
    """A graduated style on a numeric ``field``.

    Parameters
    ----------
    classes
        Number of classes (2–9); ignored when ``breaks`` is given.
    method
        ``"quantile"`` (equal counts), ``"equal"`` (equal intervals) or ``"manual"``
        (with ``breaks``).
    ramp
        A key of :data:`RAMPS`.
    """
    if field not in gdf.columns:
        raise InputError(f"field {field!r} is not a column of the layer; columns are: {', '.join(map(str, gdf.columns))}")
    if ramp not in RAMPS:
        raise InputError(f"ramp {ramp!r} is unknown; expected one of {', '.join(RAMPS)}")
    v = pd.to_numeric(gdf[field], errors="coerce").to_numpy(dtype=float)
    v = v[~np.isnan(v)]
    if breaks is not None:
        edges = [float(b) for b in breaks]
        method = "manual"
    else:
        if not 2 <= classes <= 9:
            raise InputError(f"classes {classes!r} must be between 2 and 9")
        if v.size == 0:
            raise InputError(f"field {field!r} has no numeric values to classify; pick a numeric field")
        if method == "quantile":
            edges = list(np.unique(np.quantile(v, np.linspace(0, 1, classes + 1))))
        elif method == "equal":
            edges = list(np.linspace(v.min(), v.max(), classes + 1))
        else:
            raise InputError(f"method {method!r} is unknown; expected 'quantile', 'equal' or 'manual' with breaks")
        if len(edges) < 2:
            edges = [float(v.min()), float(v.max()) + (1.0 if v.min() == v.max() else 0.0)]
    edges = [float(e) for e in edges]
    colours = _ramp(RAMPS[ramp], len(edges) - 1)
    base = base or Symbol(stroke="#555555", stroke_width=0.6)
    symbols = tuple(replace(base, fill=c) for c in colours)
    return Graduated(field=field, breaks=tuple(edges), symbols=symbols, method=method, ramp=ramp)


def _ramp(colours: list[str], n: int) -> list[str]:
    """Interpolate ``n`` colours along a ramp."""
    if n <= 0:
        return []
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=float)
    pos = np.linspace(0, len(colours) - 1, n) if n > 1 else np.array([len(colours) - 1.0])
    out = []
    for p in pos:
        lo = int(np.floor(p))
        hi = min(lo + 1, len(colours) - 1)
        t = p - lo
        c = rgb[lo] * (1 - t) + rgb[hi] * t
        out.append("#" + "".join(f"{int(round(x)):02x}" for x in c))
    return out


# --------------------------------------------------------------------------- defaults
_KIND_SYMBOLS: dict[str, Symbol] = {
    "grid_district": Symbol(fill="#ffffff", stroke="#222222", stroke_width=2.6, fill_opacity=0.0),
    "grid_street_town": Symbol(fill="#f4f1e8", stroke="#7a4b94", stroke_width=1.8, fill_opacity=0.35),
    "grid_community_village": Symbol(fill="#ffffff", stroke="#9a8fb0", stroke_width=0.6, fill_opacity=0.0, dash="dash"),
    "grid_industrial_park": Symbol(fill="#8c6bb1", stroke="#5b2a86", stroke_width=1.6, fill_opacity=0.18, dash="dash"),
    "roads": Symbol(fill="#ffffff", stroke="#b0a89a", stroke_width=0.8),
    "transfer_stations": Symbol(fill="#d7301f", stroke="#67000d", size=13, marker="square"),
    "collection_points": Symbol(fill="#31a354", stroke="#00441b", size=5, stroke_width=0.5),
    "recycling_points": Symbol(fill="#2b8cbe", stroke="#023858", size=7, marker="diamond"),
    "hazardous_collection_points": Symbol(fill="#ffd92f", stroke="#7f2704", size=10, marker="triangle"),
    "construction_waste_sites": Symbol(fill="#a6761d", stroke="#4d3a0c", size=10, marker="square"),
    "garden_waste_stations": Symbol(fill="#66a61e", stroke="#2c4d0b", size=9, marker="star"),
    "candidate_sites": Symbol(fill="#ffffff", stroke="#e7298a", size=8, stroke_width=1.5, marker="circle", fill_opacity=0.0),
    "demand_points": Symbol(fill="#fdae6b", stroke="#fdae6b", size=3, stroke_width=0.0),
    "patrol_tracks": Symbol(fill="#ffffff", stroke="#1d91c0", stroke_width=2.0, dash="dot"),
    "findings": Symbol(fill="#aaaaaa", stroke="#3d1c00", size=9, marker="circle"),
    "other": Symbol(fill="#377eb8", stroke="#1f3b57", size=7, fill_opacity=0.5),
}

STATUS_LABELS_ZH = {
    "registered": "立案", "dispatched": "派遣", "rectifying": "处置", "verified": "核查",
    "closed": "结案(销号)", "rejected": "不予立案", "duplicate": "重复",
}


def default_style(kind: str) -> Style:
    """The style a layer of ``kind`` gets when it is first loaded."""
    if kind == "findings":
        base = _KIND_SYMBOLS["findings"]
        cats = tuple(
            Category(k, replace(base, fill=c), STATUS_LABELS_ZH.get(k, k)) for k, c in STATUS_COLOURS.items()
        )
        return Categorized(field="status", categories=cats, default=base)
    if kind == "roads":
        sym = _KIND_SYMBOLS["roads"]
        cats = (
            Category("arterial", replace(sym, stroke="#e08c3c", stroke_width=2.2), "主干路"),
            Category("secondary", replace(sym, stroke="#c9b27c", stroke_width=1.4), "次干路"),
            Category("local", replace(sym, stroke="#b8b0a2", stroke_width=0.7), "支路"),
        )
        return Categorized(field="road_class", categories=cats, default=sym, default_label="其他道路")
    return SingleSymbol(_KIND_SYMBOLS.get(kind, _KIND_SYMBOLS["other"]))


def default_labels(kind: str) -> LabelSpec | None:
    """Default labels by kind: grid names at suitable scales, none for points."""
    if kind == "grid_district":
        return None
    if kind == "grid_street_town":
        return LabelSpec(field="name", max_scale=250000.0, size_pt=11.0, colour="#4a2a66")
    if kind == "grid_community_village":
        return LabelSpec(field="name", max_scale=40000.0, size_pt=8.0, colour="#5a5270")
    if kind == "grid_industrial_park":
        return LabelSpec(field="name", max_scale=120000.0, size_pt=9.0, colour="#5b2a86")
    if kind == "transfer_stations":
        return LabelSpec(field="name", max_scale=60000.0, size_pt=8.0, colour="#67000d")
    return None


# --------------------------------------------------------------------------- (de)serialise
def style_to_dict(style: Style) -> dict[str, Any]:
    """A JSON-ready dict of ``style`` (see :func:`style_from_dict`)."""
    d = asdict(style)
    if isinstance(style, Categorized):
        d["categories"] = [
            {"value": _norm_key(c.value), "symbol": asdict(c.symbol), "label": c.label} for c in style.categories
        ]
    return d


def style_from_dict(d: dict[str, Any]) -> Style:
    """Rebuild a style from :func:`style_to_dict` output; raises InputError on bad data."""
    try:
        t = d.get("type", "single")
        if t == "single":
            return SingleSymbol(Symbol(**d.get("symbol", {})))
        if t == "categorized":
            cats = tuple(Category(c["value"], Symbol(**c["symbol"]), c.get("label", "")) for c in d["categories"])
            return Categorized(
                field=d["field"], categories=cats, default=Symbol(**d.get("default", {})),
                default_label=d.get("default_label", "其他"),
            )
        if t == "graduated":
            return Graduated(
                field=d["field"], breaks=tuple(float(b) for b in d["breaks"]),
                symbols=tuple(Symbol(**s) for s in d["symbols"]), labels=tuple(d.get("labels", ())),
                method=d.get("method", "quantile"), ramp=d.get("ramp", "YlOrRd"),
                missing=Symbol(**d.get("missing", {})),
            )
    except (KeyError, TypeError) as exc:
        raise InputError(f"style {d!r} is malformed ({exc}); expected the output of style_to_dict") from exc
    raise InputError(f"style type {d.get('type')!r} is unknown; expected 'single', 'categorized' or 'graduated'")


def labels_to_dict(spec: LabelSpec | None) -> dict[str, Any] | None:
    return None if spec is None else asdict(spec)


def labels_from_dict(d: dict[str, Any] | None) -> LabelSpec | None:
    if not d:
        return None
    try:
        return LabelSpec(**d)
    except TypeError as exc:
        raise InputError(f"labels {d!r} are malformed ({exc})") from exc

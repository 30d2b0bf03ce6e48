"""The map-layer model: a GeoDataFrame with name, kind, style, visibility, selection and events.

Plain Python, no Qt (napari ``layers/base/base.py``): every setter checks its value,
stores it and then emits an event, and views (the Qt canvas, the layer panel, the
attribute table, the HTML exporter) listen and never keep a second copy of the truth.
:class:`Layer` satisfies :class:`gridtool.project.MapLayer`.

Events (``layer.events.<type>``): ``name``, ``title``, ``visible``, ``opacity``,
``style``, ``labels``, ``data`` (the GeoDataFrame changed; ``added`` holds new rows
when features were appended), ``selection`` (``rows`` holds the new selection).
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable

import geopandas as gpd
import numpy as np

from gridtool.kinds import KINDS
from gridtool.project import LayerSpec
from gridtool.styles import LabelSpec, Style, classify, default_labels, default_style
from gridtool.styles import Categorized, Graduated, SingleSymbol, Symbol
from layers.events import EmitterGroup
from layers.geometry_cache import GeometryCache
from layers.selection import SelectionMode, as_rows, combine

__all__ = ["Layer", "LIVE_KINDS"]

LIVE_KINDS = {"findings"}
"""Kinds whose layers grow while the app runs; their spatial index accepts inserts (rtree)."""

_ids = itertools.count(1)
_DEFAULT = object()


class Layer:
    """One map layer.

    Parameters
    ----------
    gdf
        The features; kept as given (views never modify it).
    name
        A short identifier (e.g. the GeoPackage layer name).
    kind
        A key of :data:`gridtool.kinds.KINDS`; picks the group, default style and labels.
    title
        The display title; defaults to the kind's Chinese title or ``name``.
    style, labels
        Default to :func:`gridtool.styles.default_style` / ``default_labels`` of ``kind``.
    visible, opacity
        Drawing state; ``opacity`` lies in 0–1.
    group
        Layer-panel group; defaults to the kind's group (``"analysis"`` for results).
    source_path, source_layer
        Where the data came from (None for memory layers such as analysis results).
    live
        Index with an rtree that accepts inserts; defaults to True for ``findings``.
    """

    def __init__(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        name: str,
        kind: str = "other",
        title: str = "",
        style: Style | None = None,
        labels: LabelSpec | None | Any = _DEFAULT,
        visible: bool = True,
        opacity: float = 1.0,
        id: str | None = None,
        group: str | None = None,
        source_path: str | None = None,
        source_layer: str | None = None,
        live: bool | None = None,
    ) -> None:
        self.events = EmitterGroup(self, "name", "title", "visible", "opacity", "style", "labels", "data", "selection")
        if kind not in KINDS:
            kind = "other"
        self._kind = kind
        self._name = self._check_name(name)
        self.id = str(id) if id else f"{name}"
        k = KINDS[kind]
        self._title = str(title) if title else (k.title_zh if kind != "other" else self._name)
        self.group = group or (k.group if kind != "other" else "analysis" if source_path is None else "other")
        self.source_path = source_path
        self.source_layer = source_layer
        self.live = (kind in LIVE_KINDS) if live is None else bool(live)
        self._visible = bool(visible)
        self._opacity = self._check_opacity(opacity)
        self._style: Style = style if style is not None else default_style(kind)
        self._check_style(self._style)
        self._labels: LabelSpec | None = default_labels(kind) if labels is _DEFAULT else labels
        self._gdf = self._check_gdf(gdf)
        self._cache: GeometryCache | None = None
        self._classes: tuple[np.ndarray, list[Symbol]] | None = None
        self._selected = np.empty(0, dtype=np.int64)
        self.serial = next(_ids)
        """A number unique to this layer object in the process (for caches keyed by layer)."""
        self.revision = 0
        """Bumped whenever the drawn look changes (data, style); views key their caches on it."""

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_name(name: Any) -> str:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"layer name must be a non-empty string; got {name!r}")
        return name

    @staticmethod
    def _check_opacity(opacity: Any) -> float:
        try:
            v = float(opacity)
        except (TypeError, ValueError):
            raise ValueError(f"opacity must be a number between 0.0 and 1.0; got {opacity!r}") from None
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"opacity must be between 0.0 and 1.0; got {opacity!r}")
        return v

    @staticmethod
    def _check_style(style: Any) -> None:
        if not isinstance(style, (SingleSymbol, Categorized, Graduated)):
            raise ValueError(f"style must be a SingleSymbol, Categorized or Graduated style; got {style!r}")

    @staticmethod
    def _check_gdf(gdf: Any) -> gpd.GeoDataFrame:
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise ValueError(f"layer data must be a GeoDataFrame; got {type(gdf).__name__}")
        return gdf

    # ------------------------------------------------------------------ properties
    @property
    def kind(self) -> str:
        return self._kind

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        value = self._check_name(value)
        if value != self._name:
            self._name = value
            self.events.name(value=value)

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        value = str(value)
        if value != self._title:
            self._title = value
            self.events.title(value=value)

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        value = bool(value)
        if value != self._visible:
            self._visible = value
            self.events.visible(value=value)

    @property
    def opacity(self) -> float:
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        value = self._check_opacity(value)
        if value != self._opacity:
            self._opacity = value
            self.events.opacity(value=value)

    @property
    def style(self) -> Style:
        return self._style

    @style.setter
    def style(self, value: Style) -> None:
        self._check_style(value)
        if value != self._style:
            self._style = value
            self._classes = None
            self.revision += 1
            self.events.style(value=value)

    @property
    def labels(self) -> LabelSpec | None:
        return self._labels

    @labels.setter
    def labels(self, value: LabelSpec | None) -> None:
        if value is not None and not isinstance(value, LabelSpec):
            raise ValueError(f"labels must be a LabelSpec or None; got {value!r}")
        if value != self._labels:
            self._labels = value
            self.events.labels(value=value)

    @property
    def gdf(self) -> gpd.GeoDataFrame:
        return self._gdf

    @gdf.setter
    def gdf(self, value: gpd.GeoDataFrame) -> None:
        value = self._check_gdf(value)
        self._gdf = value
        self._cache = None
        self._classes = None
        self._selected = np.empty(0, dtype=np.int64)
        self.revision += 1
        self.events.data(added=None)
        self.events.selection(rows=self._selected)

    @property
    def data(self) -> gpd.GeoDataFrame:
        """Alias of :attr:`gdf` (napari naming)."""
        return self._gdf

    # ------------------------------------------------------------------ derived
    @property
    def geometry(self) -> GeometryCache:
        """Flattened coordinates and spatial index, built on first use and kept until the data change."""
        if self._cache is None:
            self._cache = GeometryCache(self._gdf.geometry, live=self.live)
        return self._cache

    def classes(self) -> tuple[np.ndarray, list[Symbol]]:
        """``classify(style, gdf)`` kept until the style or data change."""
        if self._classes is None:
            self._classes = classify(self._style, self._gdf)
        return self._classes

    @property
    def bounds(self) -> tuple[float, float, float, float] | None:
        """Extent of the layer in map units, None when it has no geometry."""
        return self.geometry.total_bounds

    @property
    def geometry_type(self) -> str:
        """``"point"``, ``"line"``, ``"polygon"``, ``"mixed"`` or ``"empty"``."""
        c = self.geometry
        has = [len(c.point_xy) > 0, len(c.line_offsets) > 1, len(c.ring_offsets) > 1]
        if sum(has) > 1:
            return "mixed"
        if not any(has):
            return "empty"
        return ("point", "line", "polygon")[has.index(True)]

    def __len__(self) -> int:
        return len(self._gdf)

    def __repr__(self) -> str:
        return f"Layer(name={self._name!r}, kind={self._kind!r}, rows={len(self._gdf)}, visible={self._visible})"

    # ------------------------------------------------------------------ selection
    @property
    def selected(self) -> np.ndarray:
        """Selected row positions (sorted int64 array; a copy)."""
        return self._selected.copy()

    @selected.setter
    def selected(self, rows: Iterable[int] | np.ndarray) -> None:
        self.select(rows, mode=SelectionMode.REPLACE)

    def select(self, rows: Iterable[int] | np.ndarray, *, mode: SelectionMode | str = SelectionMode.REPLACE) -> None:
        """Change the selection by row positions; emits ``selection`` when it changed."""
        new = combine(self._selected, as_rows(rows, len(self._gdf)), mode)
        if not np.array_equal(new, self._selected):
            self._selected = new
            self.events.selection(rows=new.copy())

    def clear_selection(self) -> None:
        self.select([], mode=SelectionMode.REPLACE)

    def selected_bounds(self) -> tuple[float, float, float, float] | None:
        """Extent of the selected features, None when nothing is selected."""
        if len(self._selected) == 0:
            return None
        b = self.geometry.bounds[self._selected]
        if np.isnan(b).all():
            return None
        return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3])))

    # ------------------------------------------------------------------ editing
    def add_features(self, rows: gpd.GeoDataFrame) -> np.ndarray:
        """Append ``rows`` (same CRS) and return their row positions; emits ``data`` with ``added``.

        Live layers insert into their rtree instead of rebuilding the index.
        """
        rows = self._check_gdf(rows)
        if self._gdf.crs is not None and rows.crs is not None and not self._gdf.crs.equals(rows.crs):
            raise ValueError(
                f"new features have CRS {rows.crs.to_string()} but layer {self._name!r} is in "
                f"{self._gdf.crs.to_string()}; reproject them with to_crs() first"
            )
        import pandas as pd

        start = len(self._gdf)
        merged = pd.concat([self._gdf, rows.set_crs(self._gdf.crs, allow_override=True) if self._gdf.crs else rows],
                           ignore_index=True)
        self._gdf = gpd.GeoDataFrame(merged, geometry=self._gdf.geometry.name, crs=self._gdf.crs)
        if self._cache is not None:
            self._cache.append(rows.geometry)
        self._classes = None
        self.revision += 1
        added = np.arange(start, len(self._gdf), dtype=np.int64)
        self.events.data(added=added)
        return added

    # ------------------------------------------------------------------ project
    def to_spec(self) -> LayerSpec:
        """A :class:`gridtool.project.LayerSpec` (with ``gdf``) for saving in a project."""
        return LayerSpec(
            name=self._name, kind=self._kind, title=self._title, source_path=self.source_path,
            source_layer=self.source_layer, visible=self._visible, opacity=self._opacity,
            style=self._style, labels=self._labels, id=self.id, gdf=self._gdf,
        )

    @classmethod
    def from_spec(cls, spec: LayerSpec) -> "Layer":
        """A layer from a loaded :class:`gridtool.project.LayerSpec` (its ``gdf`` must be read)."""
        if spec.gdf is None:
            raise ValueError(f"layer {spec.name!r} has no data; load the project with load=True")
        return cls(
            spec.gdf, name=spec.name, kind=spec.kind, title=spec.title, style=spec.style, labels=spec.labels,
            visible=spec.visible, opacity=spec.opacity, id=spec.id, source_path=spec.source_path,
            source_layer=spec.source_layer,
        )

"""Projects: which layers, in which order, styled how, seen from where.

A project file is readable JSON (``*.gridtool.json``)::

    {
      "format": "gridtool-project", "version": 1,
      "title": "钟楼区无废城市网格",
      "layers": [                      # bottom to top, as drawn
        {"id": "grid_street_town", "name": "grid_street_town", "title": "街道/镇网格",
         "kind": "grid_street_town",
         "source": {"path": "sample_geodata/zhonglou.gpkg", "layer": "grid_street_town"},
         "visible": true, "opacity": 1.0,
         "style": {...}, "labels": {...}}
      ],
      "view": {"center": [x, y], "scale": 60000},    # EPSG:4549 metres, scale denominator
      "basemap": {"provider": "none"},                 # never holds a key
      "findings_store": "findings.gpkg",
      "scenarios": [...]
    }

Paths are stored relative to the project file so a project folder can be copied.
Layers that exist only in memory (analysis results) are written into a data
GeoPackage beside the project (``<name>.data.gpkg``) when it is saved. Secrets such as a
Tianditu key are never written (see :func:`save_project`).

A GeoPackage can be opened as a project too (:func:`project_from_gpkg`): every layer,
ordered polygons under lines under points, styled by kind.

Loaded layers are :class:`LayerSpec` objects with their GeoDataFrame in ``gdf``; they
satisfy :class:`MapLayer`, the protocol that exporters draw from (the ``layers``
package's Qt-free layer models satisfy it too).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

import geopandas as gpd

from gridtool.atomic import atomic_write_text
from gridtool.errors import InputError, ReadError
from gridtool.kinds import KINDS, kind_of_layer_name
from gridtool.styles import (
    LabelSpec,
    Style,
    default_labels,
    default_style,
    labels_from_dict,
    labels_to_dict,
    style_from_dict,
    style_to_dict,
)

__all__ = [
    "MapLayer",
    "LayerSpec",
    "Project",
    "PROJECT_SUFFIX",
    "load_project",
    "save_project",
    "project_from_gpkg",
    "open_any",
    "layer_order_key",
]

PROJECT_SUFFIX = ".gridtool.json"
FORMAT = "gridtool-project"
VERSION = 1
_SECRET_KEYS = {"key", "tk", "token", "password", "secret", "api_key"}


@runtime_checkable
class MapLayer(Protocol):
    """What a view or exporter needs of a layer."""

    name: str
    title: str
    kind: str
    gdf: gpd.GeoDataFrame
    style: Style
    labels: LabelSpec | None
    visible: bool
    opacity: float


@dataclass
class LayerSpec:
    """One layer of a project; ``gdf`` is filled in by :func:`load_project`."""

    name: str
    kind: str = "other"
    title: str = ""
    source_path: str | None = None  # absolute once loaded
    source_layer: str | None = None
    visible: bool = True
    opacity: float = 1.0
    style: Style = field(default_factory=lambda: default_style("other"))
    labels: LabelSpec | None = None
    id: str = ""
    gdf: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = self.name
        if not self.title:
            k = KINDS.get(self.kind)
            self.title = k.title_zh if k is not None and self.kind != "other" else self.name


@dataclass
class Project:
    """A set of layers with a view; see the module docstring for the file format."""

    layers: list[LayerSpec] = field(default_factory=list)
    title: str = ""
    view: dict[str, Any] = field(default_factory=dict)
    basemap: dict[str, Any] = field(default_factory=lambda: {"provider": "none"})
    findings_store: str | None = None
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def layer(self, name: str) -> LayerSpec:
        """The layer called ``name`` (or with that id); InputError listing the names otherwise."""
        for spec in self.layers:
            if spec.name == name or spec.id == name:
                return spec
        raise InputError(
            f"layer {name!r} is not in the project; its layers are: {', '.join(s.name for s in self.layers) or '(none)'}"
        )


def layer_order_key(kind: str, geom_type: str | None = None) -> int:
    """Draw order: district fill under streets under communities, then lines, then points."""
    order = {
        "grid_district": 0, "grid_street_town": 1, "grid_community_village": 2, "grid_industrial_park": 3,
        "roads": 10, "patrol_tracks": 11, "demand_points": 19, "candidate_sites": 20,
        "collection_points": 21, "recycling_points": 22, "garden_waste_stations": 23,
        "construction_waste_sites": 24, "hazardous_collection_points": 25, "transfer_stations": 26,
        "findings": 30,
    }
    if kind in order:
        return order[kind]
    g = (geom_type or "").lower()
    return 5 if "polygon" in g else 15 if "line" in g else 28


def _read(path: str, layer: str | None, kind: str | None) -> gpd.GeoDataFrame:
    from gridtool import io as gio

    res = gio.read_layer(path, layer, kind=None if kind in (None, "other") else kind)
    return res.gdf


def project_from_gpkg(path: str | os.PathLike[str], *, load: bool = True) -> Project:
    """A project showing every layer of a GeoPackage, styled by kind."""
    from gridtool import io as gio

    p = Path(path)
    infos = gio.list_layers(str(p))
    specs = []
    for info in infos:
        kind = kind_of_layer_name(info.name)
        specs.append(
            LayerSpec(
                name=info.name, kind=kind, source_path=str(p.resolve()), source_layer=info.name,
                style=default_style(kind), labels=default_labels(kind),
            )
        )
    specs.sort(key=lambda s: layer_order_key(s.kind, next((i.geometry_type for i in infos if i.name == s.name), None)))
    proj = Project(layers=specs, title=p.stem, path=None)
    if load:
        for spec in proj.layers:
            spec.gdf = _read(spec.source_path, spec.source_layer, spec.kind)
    return proj


def load_project(path: str | os.PathLike[str], *, load: bool = True) -> Project:
    """Read a project file (JSON); with ``load`` the layers' data is read too.

    Raises
    ------
    ReadError
        When the file is not a gridtool project or a layer source is missing.
    """
    p = Path(path)
    if not p.exists():
        raise ReadError(f"project {str(p)!r} does not exist; check the path")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"project {str(p)!r} is not valid JSON ({exc}); is it a gridtool project file?") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ReadError(f"{str(p)!r} is not a gridtool project (no \"format\": \"{FORMAT}\")")
    if int(doc.get("version", 0)) > VERSION:
        raise ReadError(
            f"project {str(p)!r} has version {doc.get('version')}; this gridtool reads up to {VERSION}. Update gridtool"
        )
    base = p.resolve().parent
    specs = []
    for i, d in enumerate(doc.get("layers", [])):
        try:
            src = d.get("source") or {}
            src_path = src.get("path")
            if src_path is not None:
                src_path = str((base / src_path).resolve()) if not os.path.isabs(src_path) else src_path
            kind = d.get("kind", "other")
            spec = LayerSpec(
                name=d["name"], kind=kind, title=d.get("title", ""), source_path=src_path,
                source_layer=src.get("layer"), visible=bool(d.get("visible", True)),
                opacity=float(d.get("opacity", 1.0)),
                style=style_from_dict(d["style"]) if d.get("style") else default_style(kind),
                labels=labels_from_dict(d.get("labels")), id=d.get("id", d["name"]),
            )
        except KeyError as exc:
            raise ReadError(f"project {str(p)!r}: layer #{i + 1} lacks {exc}; expected name, kind, source") from exc
        specs.append(spec)
    store = doc.get("findings_store")
    if store and not os.path.isabs(store):
        store = str((base / store).resolve())
    proj = Project(
        layers=specs, title=doc.get("title", ""), view=dict(doc.get("view", {})),
        basemap=_without_secrets(dict(doc.get("basemap", {"provider": "none"}))), findings_store=store,
        scenarios=list(doc.get("scenarios", [])), settings=dict(doc.get("settings", {})), path=str(p.resolve()),
    )
    if load:
        for spec in proj.layers:
            if spec.source_path is None:
                raise ReadError(f"project {str(p)!r}: layer {spec.name!r} has no source; re-save the project")
            if not os.path.exists(spec.source_path):
                raise ReadError(
                    f"project {str(p)!r}: the data of layer {spec.name!r} ({spec.source_path}) is missing; "
                    "was the project moved without its data files?"
                )
            spec.gdf = _read(spec.source_path, spec.source_layer, spec.kind)
    return proj


def open_any(path: str | os.PathLike[str], *, load: bool = True) -> Project:
    """Open a project file or a GeoPackage (as a project of all its layers)."""
    s = str(path)
    if s.lower().endswith(".gpkg"):
        if not os.path.exists(s):
            raise ReadError(f"GeoPackage {s!r} does not exist; check the path")
        return project_from_gpkg(s, load=load)
    return load_project(s, load=load)


def _without_secrets(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k.lower() not in _SECRET_KEYS}


def _rel(path: str, base: Path) -> str:
    try:
        return os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        return path


def save_project(project: Project, path: str | os.PathLike[str]) -> Path:
    """Write ``project`` to ``path`` atomically (temp file, fsync, rename).

    Layers without a source (analysis results held in memory) are first written to
    ``<stem>.data.gpkg`` beside the project and then referenced from it. Keys and
    tokens in ``basemap`` are dropped: they belong to the user, not to a shared file.
    """
    p = Path(path)
    if not p.name.endswith(PROJECT_SUFFIX):
        p = p.with_name(p.name + PROJECT_SUFFIX) if not p.name.endswith(".json") else p
    base = p.resolve().parent
    memory = [s for s in project.layers if s.source_path is None]
    if memory:
        from gridtool import io as gio

        stem = p.name[: -len(PROJECT_SUFFIX)] if p.name.endswith(PROJECT_SUFFIX) else p.stem
        data_path = base / f"{stem}.data.gpkg"
        for spec in memory:
            if spec.gdf is None:
                raise InputError(f"layer {spec.name!r} has neither a source nor data; nothing to save")
            gio.write_layer(spec.gdf, str(data_path), spec.id)
            spec.source_path, spec.source_layer = str(data_path), spec.id
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "title": project.title,
        "layers": [
            {
                "id": s.id, "name": s.name, "title": s.title, "kind": s.kind,
                "source": {"path": _rel(s.source_path, base), "layer": s.source_layer} if s.source_path else None,
                "visible": bool(s.visible), "opacity": float(s.opacity),
                "style": style_to_dict(s.style), "labels": labels_to_dict(s.labels),
            }
            for s in project.layers
        ],
        "view": project.view,
        "basemap": _without_secrets(project.basemap),
        "findings_store": _rel(project.findings_store, base) if project.findings_store else None,
        "scenarios": project.scenarios,
        "settings": project.settings,
    }
    text = json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default)
    atomic_write_text(p, text)
    project.path = str(p.resolve())
    return p


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def layers_for_export(project: Project, names: Sequence[str] | None = None) -> list[LayerSpec]:
    """The project's loaded layers, optionally only ``names``, in drawing order."""
    if names:
        return [project.layer(n) for n in names]
    return list(project.layers)

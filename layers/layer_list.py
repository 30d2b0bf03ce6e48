"""An ordered list of layers (bottom to top, as drawn) with events; no Qt.

Events (``layers.events.<type>``): ``inserted`` (``index``, ``layer``), ``removed``
(``index``, ``layer``), ``moved`` (``src``, ``dst``, ``layer``), ``reordered`` and
``layer_changed`` (``layer``, ``event``: every event of every member, forwarded so a
view can listen to one object).
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from gridtool.project import LayerSpec, Project
from layers.events import EmitterGroup, Event
from layers.layer import Layer

__all__ = ["LayerList"]


class LayerList(Sequence[Layer]):
    """Layers in drawing order: index 0 is drawn first (bottom)."""

    def __init__(self, layers: Sequence[Layer] = ()) -> None:
        self.events = EmitterGroup(self, "inserted", "removed", "moved", "reordered", "layer_changed")
        self._layers: list[Layer] = []
        for lyr in layers:
            self.append(lyr)

    # ------------------------------------------------------------------ sequence
    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(list(self._layers))

    def __getitem__(self, key: Any) -> Any:  # int, slice, or id/name
        if isinstance(key, str):
            return self.get(key, strict=True)
        return self._layers[key]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return self.get(item) is not None
        return any(item is lyr for lyr in self._layers)

    def index(self, layer: Layer | str, *args: Any) -> int:  # type: ignore[override]
        """Position of ``layer`` (an object, id or name); ValueError naming the layers otherwise."""
        for i, lyr in enumerate(self._layers):
            if lyr is layer or (isinstance(layer, str) and layer in (lyr.id, lyr.name)):
                return i
        raise ValueError(f"layer {getattr(layer, 'name', layer)!r} is not in the list; layers are: {self.names}")

    def get(self, key: str, *, strict: bool = False) -> Layer | None:
        """The layer with id (or else name) ``key``; None, or KeyError with ``strict``."""
        for lyr in self._layers:
            if lyr.id == key:
                return lyr
        for lyr in self._layers:
            if lyr.name == key:
                return lyr
        if strict:
            raise KeyError(f"no layer with id or name {key!r}; layers are: {self.names}")
        return None

    @property
    def names(self) -> list[str]:
        return [lyr.name for lyr in self._layers]

    def of_kind(self, kind: str) -> list[Layer]:
        """Layers of ``kind``, bottom to top."""
        return [lyr for lyr in self._layers if lyr.kind == kind]

    # ------------------------------------------------------------------ editing
    def _unique_id(self, wanted: str) -> str:
        ids = {lyr.id for lyr in self._layers}
        if wanted not in ids:
            return wanted
        i = 2
        while f"{wanted}_{i}" in ids:
            i += 1
        return f"{wanted}_{i}"

    def insert(self, index: int, layer: Layer) -> None:
        """Insert ``layer`` at ``index``; its id is made unique in the list."""
        if not isinstance(layer, Layer):
            raise TypeError(f"only Layer objects can be added; got {type(layer).__name__}")
        if layer in self:
            raise ValueError(f"layer {layer.name!r} is already in the list")
        layer.id = self._unique_id(layer.id)
        n = len(self._layers)
        index = max(0, min(n, index if index >= 0 else n + 1 + index))
        self._layers.insert(index, layer)
        layer.events.connect(self._forward)
        self.events.inserted(index=index, layer=layer)

    def append(self, layer: Layer) -> None:
        """Add ``layer`` on top."""
        self.insert(len(self._layers), layer)

    def extend(self, layers: Sequence[Layer]) -> None:
        for lyr in layers:
            self.append(lyr)

    def remove(self, layer: Layer | str) -> None:
        self.pop(self.index(layer))

    def pop(self, index: int = -1) -> Layer:
        layer = self._layers.pop(index)
        layer.events.disconnect(self._forward)
        self.events.removed(index=index if index >= 0 else len(self._layers) + 1 + index, layer=layer)
        return layer

    def clear(self) -> None:
        while self._layers:
            self.pop()

    def move(self, src: int, dst: int) -> None:
        """Move the layer at ``src`` so that it ends up at ``dst``."""
        n = len(self._layers)
        if not (0 <= src < n and 0 <= dst < n):
            raise IndexError(f"move({src}, {dst}) is outside the list of {n} layers")
        if src == dst:
            return
        layer = self._layers.pop(src)
        self._layers.insert(dst, layer)
        self.events.moved(src=src, dst=dst, layer=layer)
        self.events.reordered()

    def reorder(self, order: Sequence[Layer | str]) -> None:
        """Put the layers in ``order`` (every layer exactly once)."""
        new = [self._layers[self.index(x)] for x in order]
        if len(new) != len(self._layers) or len({id(x) for x in new}) != len(new):
            raise ValueError(f"reorder needs each of the {len(self._layers)} layers exactly once; got {len(new)}")
        if all(a is b for a, b in zip(new, self._layers)):
            return
        self._layers = new
        self.events.reordered()

    def _forward(self, event: Event) -> None:
        self.events.layer_changed(layer=event.source, event=event)

    # ------------------------------------------------------------------ queries
    def visible(self) -> list[Layer]:
        return [lyr for lyr in self._layers if lyr.visible]

    def bounds(self, *, visible_only: bool = False) -> tuple[float, float, float, float] | None:
        """Union of the layers' extents (None when no layer has geometry)."""
        bs = [lyr.bounds for lyr in (self.visible() if visible_only else self._layers)]
        bs = [b for b in bs if b is not None]
        if not bs:
            return None
        return (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))

    def selected(self) -> dict[str, Any]:
        """``{layer id: selected rows}`` for layers with a selection."""
        return {lyr.id: lyr.selected for lyr in self._layers if len(lyr.selected)}

    def selection_bounds(self) -> tuple[float, float, float, float] | None:
        bs = [lyr.selected_bounds() for lyr in self._layers]
        bs = [b for b in bs if b is not None]
        if not bs:
            return None
        return (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))

    # ------------------------------------------------------------------ projects
    @classmethod
    def from_project(cls, project: Project) -> "LayerList":
        """Layers of a loaded project, in its drawing order."""
        return cls([Layer.from_spec(spec) for spec in project.layers])

    def to_project(self, *, title: str = "", view: dict[str, Any] | None = None, base: Project | None = None) -> Project:
        """A :class:`gridtool.project.Project` of these layers (keeping ``base``'s other settings)."""
        specs: list[LayerSpec] = [lyr.to_spec() for lyr in self._layers]
        if base is None:
            return Project(layers=specs, title=title, view=dict(view or {}))
        return Project(
            layers=specs, title=title or base.title, view=dict(view if view is not None else base.view),
            basemap=dict(base.basemap), findings_store=base.findings_store, scenarios=list(base.scenarios),
            settings=dict(base.settings), path=base.path,
        )

"""The locator box: type a grid name or code, or a finding id, and the map zooms there.

Entries come from the grid layers (``name`` and ``code`` of district, street/town,
community/village and industrial-park grids) and from findings (``finding_id``); the
completer matches anywhere in the text (``西林`` finds 西林街道 and its communities).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PyQt6.QtCore import QCoreApplication, QEvent, QStringListModel, Qt, pyqtSignal
from PyQt6.QtWidgets import QCompleter, QLineEdit, QWidget

from gridtool.kinds import GRID_KINDS
from layers.events import Event
from layers.layer import Layer

__all__ = ["LocatorWidget", "locator_entries", "find_entry"]

_FIELDS = {"findings": ("finding_id",), **{k: ("name", "code") for k in GRID_KINDS}}


def _tr(text: str) -> str:
    return QCoreApplication.translate("Locator", text)


def locator_entries(layers: Any) -> list[tuple[str, Layer, int]]:
    """``(text, layer, row)`` for every grid name/code and finding id of ``layers``."""
    out: list[tuple[str, Layer, int]] = []
    for lyr in layers:
        for field in _FIELDS.get(lyr.kind, ()):
            if field not in lyr.gdf.columns:
                continue
            vals = lyr.gdf[field].to_numpy()
            for row, v in enumerate(vals):
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    continue
                s = str(v).strip()
                if s:
                    out.append((s, lyr, row))
    return out


def find_entry(entries: list[tuple[str, Layer, int]], text: str) -> tuple[str, Layer, int] | None:
    """The entry equal to ``text`` (ignoring case and spaces), else the first containing it."""
    t = "".join(text.split()).lower()
    if not t:
        return None
    for e in entries:
        if "".join(e[0].split()).lower() == t:
            return e
    for e in entries:
        if t in "".join(e[0].split()).lower():
            return e
    return None


class LocatorWidget(QLineEdit):
    """A search box bound to a main window's layer list and canvas; ``located(layer, row)`` on success."""

    located = pyqtSignal(object, int)

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Locator")
        self.window_ = window
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(220)
        self.setMaximumWidth(340)
        self._model = QStringListModel(self)
        self._completer = QCompleter(self._model, self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self._completer.setMaxVisibleItems(15)
        self._completer.activated.connect(self.locate)
        self.setCompleter(self._completer)
        self.returnPressed.connect(lambda: self.locate(self.text()))
        self._entries: list[tuple[str, Layer, int]] = []
        self._dirty = True
        window.layer_list.events.connect(self._on_list_event)
        self.textEdited.connect(lambda _t: self._refresh())
        self.retranslate()

    def retranslate(self) -> None:
        self.setPlaceholderText(_tr("Find grid name/code or finding id…"))
        self.setToolTip(_tr("Type a grid name or code (e.g. 西林街道) or a finding id and press Enter"))

    def changeEvent(self, ev: QEvent) -> None:  # noqa: N802
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def _on_list_event(self, event: Event) -> None:
        if event.type != "layer_changed" or event.event.type == "data":
            self._dirty = True

    def _refresh(self) -> None:
        if not self._dirty:
            return
        self._entries = locator_entries(self.window_.layer_list)
        labels = []
        seen = set()
        for text, lyr, _ in self._entries:
            label = text
            if label not in seen:
                seen.add(label)
                labels.append(label)
        self._model.setStringList(labels)
        self._dirty = False

    def locate(self, text: str) -> bool:
        """Zoom to and select the feature named ``text``; returns False (status message) when none matches."""
        self._refresh()
        hit = find_entry(self._entries, text)
        win = self.window_
        if hit is None:
            win.statusBar().showMessage(_tr("Nothing found for “{0}”").format(text), 5000)
            return False
        _, layer, row = hit
        for lyr in win.layer_list:
            if lyr is not layer:
                lyr.clear_selection()
        layer.select([row])
        if not layer.visible:
            layer.visible = True
        b = layer.geometry.bounds[row]
        if (b[2] - b[0]) < 1 and (b[3] - b[1]) < 1:
            win.canvas.center_on(float(b[0]), float(b[1]), scale=min(win.canvas.scale, 5000.0))
        else:
            win.canvas.zoom_to_bounds(tuple(float(v) for v in b), margin=0.15)
        self.located.emit(layer, row)
        return True

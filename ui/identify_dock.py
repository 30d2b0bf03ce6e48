"""The identify dock: attributes of the features under a click, grouped by layer."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from PyQt6.QtCore import QCoreApplication, QEvent, Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QDockWidget, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from gridtool.kinds import KINDS
from ui.layer_panel import layer_display_title

__all__ = ["IdentifyDock", "feature_caption", "column_title"]

_ID_COLUMNS = ("name", "finding_id", "fac_id", "cand_id", "track_id", "road_id", "code")


def _tr(text: str) -> str:
    return QCoreApplication.translate("IdentifyDock", text)


def _lang() -> str:
    from ui.i18n import current_language

    return current_language()


def column_title(kind: str, column: str) -> str:
    """The column's Chinese title from :mod:`gridtool.kinds` (with the name) in Chinese, else the name."""
    k = KINDS.get(kind)
    if k is not None and _lang() != "en":
        for c in k.columns:
            if c.name == column and c.title_zh:
                return f"{c.title_zh} ({column})"
    return column


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:,.2f}" if not v.is_integer() else f"{v:,.0f}"
    try:
        import pandas as pd

        if v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def feature_caption(layer: Any, row: int) -> str:
    """A short name for row ``row``: its name, id or code, else ``#row``."""
    rec = layer.gdf.iloc[row]
    for col in _ID_COLUMNS:
        if col in layer.gdf.columns:
            t = _text(rec[col])
            if t:
                return t
    return f"#{row + 1}"


class IdentifyDock(QDockWidget):
    """Lists the features found by the identify tool; choosing one emits ``featureChosen(layer, row)``."""

    featureChosen = pyqtSignal(object, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IdentifyDock")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setAlternatingRowColors(True)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.setMinimumWidth(340)
        self.tree.header().setStretchLastSection(True)
        self.where = QLabel()
        self.where.setWordWrap(True)
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.where)
        lay.addWidget(self.tree, 1)
        self.setWidget(body)
        self._hits: list[tuple[Any, np.ndarray]] = []
        self._xy: tuple[float, float] | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(_tr("Identify results"))
        self.tree.setHeaderLabels([_tr("Feature / field"), _tr("Value")])
        if self._hits or self._xy is not None:
            self.show_results(self._hits, *(self._xy or (math.nan, math.nan)))
        else:
            self.where.setText(_tr("Click on the map with the identify tool."))

    def changeEvent(self, ev: QEvent) -> None:  # noqa: N802
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def clear(self) -> None:
        self._hits = []
        self._xy = None
        self.tree.clear()
        self.where.setText(_tr("Click on the map with the identify tool."))

    def show_results(self, hits: list[tuple[Any, np.ndarray]], x: float, y: float, *, max_per_layer: int = 20) -> None:
        """Show ``hits`` (``(layer, rows)`` pairs, top layer first) found at map point ``x, y``."""
        from ui.status_bar import format_coordinates

        self._hits, self._xy = list(hits), (x, y)
        self.tree.clear()
        n = sum(len(r) for _, r in hits)
        where = format_coordinates(x, y) if math.isfinite(x) else ""
        self.where.setText(_tr("{0} features at {1}").format(n, where) if n else _tr("Nothing here ({0})").format(where))
        bold = QFont(self.font())
        bold.setBold(True)
        first = True
        for layer, rows in hits:
            l_item = QTreeWidgetItem(self.tree, [layer_display_title(layer), str(len(rows))])
            l_item.setFont(0, bold)
            for row in list(rows)[:max_per_layer]:
                f_item = QTreeWidgetItem(l_item, [feature_caption(layer, int(row)), ""])
                f_item.setData(0, Qt.ItemDataRole.UserRole, (layer.id, int(row)))
                rec = layer.gdf.iloc[int(row)]
                for col in layer.gdf.columns:
                    if col == layer.gdf.geometry.name:
                        continue
                    QTreeWidgetItem(f_item, [column_title(layer.kind, col), _text(rec[col])])
                f_item.setExpanded(first)
                first = False
            l_item.setExpanded(True)
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(0, min(self.tree.columnWidth(0), 190))

    def texts(self) -> list[str]:
        """Every text shown in the tree (for tests and copy)."""
        out: list[str] = []

        def walk(item: QTreeWidgetItem) -> None:
            out.extend(item.text(c) for c in range(2))
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out

    def _clicked(self, item: QTreeWidgetItem, column: int) -> None:
        data = item.data(0, Qt.ItemDataRole.UserRole)
        if data is None:
            return
        layer_id, row = data
        for layer, _ in self._hits:
            if layer.id == layer_id:
                self.featureChosen.emit(layer, row)
                return

"""The layer panel: grouped layers with visibility boxes, drag to reorder, opacity and an inline legend.

Like QGIS's layers panel the legend sits under each layer (one swatch per class of a
categorized or graduated style). Groups follow :data:`gridtool.kinds.GROUPS`
(网格, 设施, 收集点, 巡查, 道路, 分析结果 …); within a group the top row is drawn on top.
The panel is a view of the :class:`layers.LayerList`: it writes through the layers'
setters and rebuilds itself from the list's events.
"""
from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QCoreApplication, QEvent, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QBrush, QFont, QIcon, QPainter, QPen, QPixmap, QPolygonF
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gridtool.kinds import GROUPS, KINDS
from gridtool.styles import Categorized, Graduated, Symbol, legend_entries
from layers.events import Event
from layers.layer import Layer
from layers.layer_list import LayerList
from ui import render

__all__ = ["LayerPanel", "symbol_icon", "layer_display_title", "group_title"]

ROLE_LAYER = Qt.ItemDataRole.UserRole + 1
ROLE_KIND = Qt.ItemDataRole.UserRole + 2  # "group" | "layer" | "legend"
_GROUP_ORDER = list(GROUPS)


def _tr(text: str) -> str:
    return QCoreApplication.translate("LayerPanel", text)


def _lang() -> str:
    try:
        from ui.i18n import current_language

        return current_language()
    except ImportError:  # pragma: no cover - i18n ships with the ui package
        return "zh_CN"


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text))


def group_title(group: str) -> str:
    """The group's title in the current language."""
    zh, en = GROUPS.get(group, (group, group))
    return en if _lang() == "en" else zh


def layer_display_title(layer: Any) -> str:
    """``layer.title``, or the English kind title when English is active and the title is the kind's default."""
    k = KINDS.get(getattr(layer, "kind", "other"))
    if _lang() == "en" and k is not None and layer.title == k.title_zh and layer.kind != "other":
        return k.title_en
    return layer.title


def symbol_icon(sym: Symbol, geometry: str, size: int = 16) -> QIcon:
    """A legend swatch of ``sym`` for a ``point``, ``line`` or ``polygon`` layer."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    try:
        if geometry == "point":
            sprite = render.symbol_pixmap(sym, scale=min(1.0, (size - 2) / max(sym.size + sym.stroke_width + 2, 1)))
            p.drawPixmap(int((size - sprite.width()) / 2), int((size - sprite.height()) / 2), sprite)
        elif geometry == "line":
            pen = render._pen(sym)
            if pen.widthF() > 4:
                pen.setWidthF(4)
            p.setPen(pen)
            p.drawPolyline(QPolygonF([QPointF(1, size - 4), QPointF(size / 2, 4), QPointF(size - 1, size - 6)]))
        else:
            p.setPen(render._pen(sym) if sym.stroke_width > 0 else QPen(Qt.PenStyle.NoPen))
            brush = render._brush(sym)
            if brush.style() == Qt.BrushStyle.NoBrush:
                brush = QBrush(Qt.BrushStyle.NoBrush)
            p.setBrush(brush)
            w = min(max(sym.stroke_width, 1.0), 3.0)
            p.drawRect(QRectF(w / 2 + 1, w / 2 + 1, size - w - 2, size - w - 2))
    finally:
        p.end()
    return QIcon(pm)


class _Tree(QTreeWidget):
    """The tree with a drop handler that turns a drag into a :meth:`LayerList.reorder`."""

    def __init__(self, panel: "LayerPanel") -> None:
        super().__init__(panel)
        self.panel = panel

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        src = self.currentItem()
        target = self.itemAt(event.position().toPoint())
        pos = self.dropIndicatorPosition()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if src is None or target is None:
            return
        above = pos in (QAbstractItemView.DropIndicatorPosition.AboveItem, QAbstractItemView.DropIndicatorPosition.OnItem)
        self.panel.move_layer_near(src.data(0, ROLE_LAYER), target, above=above)


class LayerPanel(QWidget):
    """Grouped layer tree with legend and an opacity slider for the current layer.

    Signals
    -------
    layerActivated(object)
        The current layer changed (None when a group or nothing is current).
    styleRequested(object), tableRequested(object), zoomRequested(object), removeRequested(object)
        Context-menu and double-click actions on a layer; the main window answers them.
    """

    layerActivated = pyqtSignal(object)
    styleRequested = pyqtSignal(object)
    tableRequested = pyqtSignal(object)
    zoomRequested = pyqtSignal(object)
    removeRequested = pyqtSignal(object)

    def __init__(self, layer_list: LayerList, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LayerPanel")
        self.layer_list = layer_list
        self.tree = _Tree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setDragEnabled(True)
        self.tree.setAcceptDrops(True)
        self.tree.setDropIndicatorShown(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.opacity_label = QLabel()
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setEnabled(False)
        self.opacity_slider.valueChanged.connect(self._opacity_changed)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self.opacity_label)
        row.addWidget(self.opacity_slider, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree, 1)
        lay.addLayout(row)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._building = False
        self._current: Layer | None = None
        self._collapsed_groups: set[str] = set()
        layer_list.events.connect(self._on_list_event)
        self.retranslate()
        self._sync_slider()

    # ------------------------------------------------------------------ i18n
    def retranslate(self) -> None:
        self.opacity_label.setText(_tr("Opacity"))
        self.tree.setToolTip(_tr("Tick to show a layer; drag to change the drawing order; double-click to edit the style"))
        self.rebuild()

    def changeEvent(self, ev: QEvent) -> None:  # noqa: N802
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    # ------------------------------------------------------------------ model → view
    def set_layer_list(self, layer_list: LayerList) -> None:
        self.layer_list.events.disconnect(self._on_list_event)
        self.layer_list = layer_list
        layer_list.events.connect(self._on_list_event)
        self._current = None
        self.rebuild()

    def _on_list_event(self, event: Event) -> None:
        if event.type == "layer_changed":
            inner = event.event
            item = self._items.get(event.layer.id)
            if inner.type == "visible" and item is not None:
                self._building = True
                try:
                    item.setCheckState(0, Qt.CheckState.Checked if inner.value else Qt.CheckState.Unchecked)
                    self._sync_group(item.parent())
                finally:
                    self._building = False
                return
            if inner.type == "opacity":
                if event.layer is self._current:
                    self._sync_slider()
                return
            if inner.type in ("selection", "labels"):
                return
        self.rebuild()

    def ordered_groups(self) -> list[tuple[str, list[Layer]]]:
        """Groups as shown, top first; each with its layers top first (the drawing order reversed)."""
        groups: dict[str, list[Layer]] = {}
        top_pos: dict[str, int] = {}
        for i, lyr in enumerate(self.layer_list):
            groups.setdefault(lyr.group, []).append(lyr)
            top_pos[lyr.group] = i
        keys = sorted(groups, key=lambda g: -top_pos[g])
        return [(g, list(reversed(groups[g]))) for g in keys]

    def rebuild(self) -> None:
        """Rebuild the tree from the layer list (keeps the current layer and collapsed groups)."""
        current_id = self._current.id if self._current is not None else None
        for g in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(g)
            key = it.data(0, ROLE_LAYER)
            if not it.isExpanded():
                self._collapsed_groups.add(key)
            else:
                self._collapsed_groups.discard(key)
        self._building = True
        try:
            self.tree.clear()
            self._items.clear()
            bold = QFont(self.font())
            bold.setBold(True)
            for group, members in self.ordered_groups():
                g_item = QTreeWidgetItem([group_title(group)])
                g_item.setData(0, ROLE_LAYER, group)
                g_item.setData(0, ROLE_KIND, "group")
                g_item.setFont(0, bold)
                g_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsDropEnabled
                                | Qt.ItemFlag.ItemIsUserCheckable)
                self.tree.addTopLevelItem(g_item)
                for lyr in members:
                    self._items[lyr.id] = self._layer_item(g_item, lyr)
                self._sync_group(g_item)
                g_item.setExpanded(group not in self._collapsed_groups)
        finally:
            self._building = False
        if current_id is not None and current_id in self._items:
            self.tree.setCurrentItem(self._items[current_id])

    def _layer_item(self, parent: QTreeWidgetItem, lyr: Layer) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [layer_display_title(lyr)])
        item.setData(0, ROLE_LAYER, lyr.id)
        item.setData(0, ROLE_KIND, "layer")
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsDragEnabled
        )
        item.setCheckState(0, Qt.CheckState.Checked if lyr.visible else Qt.CheckState.Unchecked)
        item.setToolTip(0, f"{lyr.title}\n{lyr.name} · {len(lyr)} · {lyr.source_path or _tr('memory layer')}")
        geom = lyr.geometry_type
        entries = legend_entries(lyr.style)
        if isinstance(lyr.style, (Categorized, Graduated)):
            item.setIcon(0, QIcon())
            values = [c.value for c in lyr.style.categories] if isinstance(lyr.style, Categorized) else []
            for i, (label, sym) in enumerate(entries):
                if values and _lang() == "en" and _has_cjk(label) and isinstance(values[i], str) \
                        and values[i].isascii():
                    label = values[i].replace("_", " ")  # e.g. 立案 → registered, 主干路 → arterial
                child = QTreeWidgetItem(item, [label])
                child.setIcon(0, symbol_icon(sym, geom))
                child.setData(0, ROLE_LAYER, lyr.id)
                child.setData(0, ROLE_KIND, "legend")
                child.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if isinstance(lyr.style, Categorized) and lyr.style.default_label:
                child = QTreeWidgetItem(item, [lyr.style.default_label if _lang() != "en" else _tr("other")])
                child.setIcon(0, symbol_icon(lyr.style.default, geom))
                child.setData(0, ROLE_LAYER, lyr.id)
                child.setData(0, ROLE_KIND, "legend")
                child.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setExpanded(True)
        else:
            item.setIcon(0, symbol_icon(entries[0][1], geom))
        return item

    # ------------------------------------------------------------------ view → model
    def layer_of(self, item: QTreeWidgetItem | None) -> Layer | None:
        if item is None or item.data(0, ROLE_KIND) not in ("layer", "legend"):
            return None
        return self.layer_list.get(item.data(0, ROLE_LAYER))

    def item_of(self, layer: Layer) -> QTreeWidgetItem | None:
        return self._items.get(layer.id)

    def _sync_group(self, g_item: QTreeWidgetItem | None) -> None:
        """Tick a group when all its layers are shown, half-tick when some are."""
        if g_item is None or g_item.data(0, ROLE_KIND) != "group":
            return
        members = [lyr for lyr in self.layer_list if lyr.group == g_item.data(0, ROLE_LAYER)]
        shown = sum(lyr.visible for lyr in members)
        state = (Qt.CheckState.Checked if shown == len(members) else
                 Qt.CheckState.Unchecked if shown == 0 else Qt.CheckState.PartiallyChecked)
        was = self._building
        self._building = True
        try:
            g_item.setCheckState(0, state)
        finally:
            self._building = was

    def set_group_visible(self, group: str, visible: bool) -> None:
        """Show or hide every layer of ``group``."""
        for lyr in self.layer_list:
            if lyr.group == group:
                lyr.visible = visible

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._building:
            return
        if item.data(0, ROLE_KIND) == "group":
            state = item.checkState(0)
            if state != Qt.CheckState.PartiallyChecked:
                self.set_group_visible(item.data(0, ROLE_LAYER), state == Qt.CheckState.Checked)
            return
        if item.data(0, ROLE_KIND) != "layer":
            return
        lyr = self.layer_list.get(item.data(0, ROLE_LAYER))
        if lyr is not None:
            lyr.visible = item.checkState(0) == Qt.CheckState.Checked

    def set_layer_visible(self, layer: Layer, visible: bool) -> None:
        """Tick or untick ``layer``'s box (as a user click does)."""
        item = self._items[layer.id]
        item.setCheckState(0, Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def _current_changed(self, item: QTreeWidgetItem | None, _prev: Any) -> None:
        if self._building:
            return
        lyr = self.layer_of(item)
        self._current = lyr
        self._sync_slider()
        self.layerActivated.emit(lyr)

    @property
    def current_layer(self) -> Layer | None:
        return self._current

    def set_current_layer(self, layer: Layer | None) -> None:
        if layer is None:
            self.tree.setCurrentItem(None)
            self._current = None
            self._sync_slider()
            self.layerActivated.emit(None)
        elif layer.id in self._items:
            self.tree.setCurrentItem(self._items[layer.id])

    def _sync_slider(self) -> None:
        lyr = self._current
        self.opacity_slider.blockSignals(True)
        try:
            self.opacity_slider.setEnabled(lyr is not None)
            self.opacity_slider.setValue(int(round((lyr.opacity if lyr else 1.0) * 100)))
        finally:
            self.opacity_slider.blockSignals(False)

    def _opacity_changed(self, value: int) -> None:
        if self._current is not None:
            self._current.opacity = value / 100.0

    def _double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        lyr = self.layer_of(item)
        if lyr is not None:
            self.styleRequested.emit(lyr)

    def move_layer_near(self, layer_id: str, target: QTreeWidgetItem, *, above: bool) -> bool:
        """Move layer ``layer_id`` just above (or below) the layer of ``target`` in the drawing order.

        Dropping on a group header puts the layer on top of that group. Layers stay in
        their own group; a drop into another group is refused (returns False).
        """
        layer = self.layer_list.get(layer_id) if isinstance(layer_id, str) else None
        if layer is None:
            return False
        kind = target.data(0, ROLE_KIND)
        if kind == "group":
            if target.data(0, ROLE_LAYER) != layer.group:
                return False
            members = [l for l in self.layer_list if l.group == layer.group]
            ref, above = members[-1], True
        else:
            ref = self.layer_of(target)
            if kind == "legend":
                above = False
        if ref is None or ref is layer or ref.group != layer.group:
            return False
        order = [l for l in self.layer_list if l is not layer]
        i = order.index(ref)
        order.insert(i + 1 if above else i, layer)
        self.layer_list.reorder(order)
        return True

    def move_layer(self, layer: Layer, steps: int) -> None:
        """Move ``layer`` up (``steps`` > 0, drawn later) or down within its group."""
        same = [l for l in self.layer_list if l.group == layer.group]
        i = same.index(layer)
        j = max(0, min(len(same) - 1, i + steps))
        if i == j:
            return
        target = same[j]
        order = [l for l in self.layer_list if l is not layer]
        k = order.index(target)
        order.insert(k + 1 if steps > 0 else k, layer)
        self.layer_list.reorder(order)

    def _context_menu(self, pos: Any) -> None:
        item = self.tree.itemAt(pos)
        lyr = self.layer_of(item)
        if lyr is None:
            return
        menu = QMenu(self)
        acts = [
            (_tr("Zoom to layer"), lambda: self.zoomRequested.emit(lyr)),
            (_tr("Open attribute table"), lambda: self.tableRequested.emit(lyr)),
            (_tr("Style…"), lambda: self.styleRequested.emit(lyr)),
            None,
            (_tr("Move up"), lambda: self.move_layer(lyr, 1)),
            (_tr("Move down"), lambda: self.move_layer(lyr, -1)),
            None,
            (_tr("Remove layer"), lambda: self.removeRequested.emit(lyr)),
        ]
        for a in acts:
            if a is None:
                menu.addSeparator()
            else:
                act = QAction(a[0], menu)
                act.triggered.connect(a[1])
                menu.addAction(act)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

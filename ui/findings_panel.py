"""Findings in the map window: the findings panel, the Findings menu and the store's map layer.

What a grid inspector does all day, in one place:

* **Findings → Open store… / New store…** picks the findings GeoPackage (or
  File → Connect to database… the shared PostgreSQL store); a project's
  ``findings_store`` opens by itself. The store's findings replace the sample
  ``findings`` layer on the map.
* **Add finding (map click)** (also the panel's *Add* button) activates the add-point
  tool; each click opens :class:`ui.finding_dialog.FindingDialog` at that point.
* The **findings panel** (a dock) lists the findings with filters for status, type,
  grid (street/town, community/village, park), department, overdue only and a text
  search; overdue working days are red. Double-click zooms the map to a finding and
  selects it; selecting on the map selects the row. Buttons: *Change status…*
  (:class:`ui.status_dialog.StatusDialog`), *History…*
  (:class:`ui.history_dialog.HistoryDialog`), *Export problem list…* (xlsx/csv/geojson
  of the filtered findings, written in a worker with progress and Cancel).
* **Overdue summary…** counts overdue findings per street, community, park or
  department.

The map layer (kind ``findings``) is rebuilt from :meth:`FindingsStore.query` after
every change: a derived column ``display_status`` is ``"overdue"`` for overdue findings
and the status otherwise, drawn by :func:`findings_style` (a categorized style with the
status colours of :data:`gridtool.findings.STATUS_COLORS` and overdue in
:data:`~gridtool.findings.OVERDUE_COLOR`), so the HTML export shows the same colours.

Wire it into a window with :func:`install_findings_ui` (the window needs
``findings_menu``, ``layer_list``, ``canvas``, ``tools["add_point"]`` and optionally
``findings_store``/``set_findings_store``/``findingsStoreChanged``).
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PyQt6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Qt
from PyQt6.QtGui import QAction, QBrush, QColor, QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gridtool.errors import GridtoolError, InputError
from gridtool.findings import (
    CATEGORY_DEPARTMENTS,
    FINDING_TYPES,
    OPEN_STATUSES,
    OVERDUE_COLOR,
    STATUS_COLORS,
    STATUSES,
    FindingsStore,
    term_label,
)
from gridtool.styles import Categorized, Category, default_style
from ui.finding_dialog import FindingDialog, label_lang
from ui.i18n import Retranslatable

__all__ = [
    "DISPLAY_FIELD", "OVERDUE_KEY", "findings_style", "findings_map_gdf", "grid_choices", "FindingsPanel",
    "FindingsUI", "OverdueSummaryDialog", "install_findings_ui", "is_findings_store",
]

DISPLAY_FIELD = "display_status"
"""Derived column the findings layer is coloured by: the status, or ``"overdue"``."""
OVERDUE_KEY = "overdue"
OPEN_KEY = "__open__"


def _tr(text: str) -> str:
    return QCoreApplication.translate("FindingsPanel", text)


def _s(value: Any) -> str:
    """Text of a cell value; empty for None/NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


# ----------------------------------------------------------------------------- map layer data
def findings_style() -> Categorized:
    """Categorized style on :data:`DISPLAY_FIELD`: overdue first (red), then the statuses."""
    base = default_style("findings")
    sym = base.default if isinstance(base, Categorized) else base.symbol  # type: ignore[union-attr]
    overdue = replace(sym, fill=OVERDUE_COLOR, stroke="#67000d", size=sym.size + 2)
    cats = [Category(OVERDUE_KEY, overdue, "逾期")]
    for t in STATUSES:
        cats.append(Category(t.key, replace(sym, fill=STATUS_COLORS.get(t.key, sym.fill)), t.zh))
    return Categorized(field=DISPLAY_FIELD, categories=tuple(cats), default=replace(sym, fill="#999999"))


def findings_map_gdf(store: FindingsStore, today: dt.date | None = None) -> Any:
    """Every finding of ``store`` as a GeoDataFrame for the map: :meth:`query` plus ``display_status``."""
    gdf = store.query(today=today)
    gdf[DISPLAY_FIELD] = np.where(gdf["overdue"].to_numpy(dtype=bool), OVERDUE_KEY, gdf["status"].astype(object))
    return gdf


_GRID_CACHE: dict[tuple[str, float], list[tuple[str, str, str]]] = {}


def grid_choices(store: FindingsStore) -> list[tuple[str, str, str]]:
    """``(level, code, name)`` of the store's grids: each street/town followed by its
    communities/villages, then the industrial parks (read once per grids file)."""
    try:
        path = Path(store.grids_path)
        key = (str(path), path.stat().st_mtime)
    except (GridtoolError, OSError, KeyError):
        return []
    if key in _GRID_CACHE:
        return _GRID_CACHE[key]
    import pyogrio

    def read(layer: str) -> Any:
        try:
            return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
        except Exception:  # noqa: BLE001 - a missing layer just gives no entries
            return None

    out: list[tuple[str, str, str]] = []
    streets, comms, parks = read("grid_street_town"), read("grid_community_village"), read("grid_industrial_park")
    comm_rows = [] if comms is None else [
        (str(r.get("code")), str(r.get("name") or r.get("code")), str(r.get("parent_code") or "")) for r in comms.to_dict("records")
    ]
    used: set[str] = set()
    if streets is not None:
        for r in sorted(streets.to_dict("records"), key=lambda r: str(r.get("code"))):
            code = str(r.get("code"))
            out.append(("street", code, str(r.get("name") or code)))
            for c_code, c_name, parent in sorted(comm_rows):
                if parent == code or (not parent and c_code[:9] == code[:9]):
                    out.append(("community", c_code, c_name))
                    used.add(c_code)
    out += [("community", c, n) for c, n, _p in sorted(comm_rows) if c not in used]
    if parks is not None:
        out += [("park", str(r.get("code")), str(r.get("name") or r.get("code")))
                for r in sorted(parks.to_dict("records"), key=lambda r: str(r.get("code")))]
    _GRID_CACHE[key] = out
    return out


def is_findings_store(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a GeoPackage holding a gridtool findings store (read-only check)."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gridtool_meta'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return row is not None


# ----------------------------------------------------------------------------- the panel
class FindingsPanel(Retranslatable, QDockWidget):
    """The findings dock: store label, filters, table, buttons.

    Parameters
    ----------
    ui
        The :class:`FindingsUI` it works for (store, map layer, dialogs).
    """

    COL_ID, COL_TYPE, COL_STATUS, COL_GRID, COL_DEPT, COL_DEADLINE, COL_OVERDUE = range(7)

    def __init__(self, ui: "FindingsUI", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ui = ui
        self.setObjectName("FindingsPanel")
        self._syncing = False
        self.shown_ids: list[str] = []
        body = QWidget()
        self.store_label = QLabel()
        self.store_label.setWordWrap(True)
        self.store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton()
        self.open_button.clicked.connect(lambda: self.ui.open_store_dialog())
        self.status_combo = QComboBox()
        self.type_combo = QComboBox()
        self.grid_combo = QComboBox()
        self.grid_combo.setMaxVisibleItems(25)
        self.dept_combo = QComboBox()
        self.overdue_check = QCheckBox()
        self.search_edit = QLineEdit()
        self.search_edit.setClearButtonEnabled(True)
        self.filter_labels = [QLabel() for _ in range(5)]
        filters = QGridLayout()
        for i, (lab, w) in enumerate(zip(self.filter_labels, (self.status_combo, self.type_combo, self.grid_combo,
                                                               self.dept_combo, self.search_edit))):
            filters.addWidget(lab, i // 2, (i % 2) * 2)
            filters.addWidget(w, i // 2, (i % 2) * 2 + 1)
        filters.addWidget(self.overdue_check, 2, 2, 1, 2)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)
        self.table = QTableWidget(0, 7)
        self.table.setObjectName("findings_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setSortIndicator(self.COL_OVERDUE, Qt.SortOrder.DescendingOrder)
        self.table.cellDoubleClicked.connect(lambda r, _c: self.ui.zoom_to(self.id_at(r)))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.count_label = QLabel()
        self.add_button = QPushButton()
        self.status_button = QPushButton()
        self.history_button = QPushButton()
        self.export_button = QPushButton()
        self.refresh_button = QPushButton()
        self.add_button.clicked.connect(lambda: self.ui.start_adding())
        self.status_button.clicked.connect(lambda: self.ui.change_status(self.current_id()))
        self.history_button.clicked.connect(lambda: self.ui.show_history(self.current_id()))
        self.export_button.clicked.connect(lambda: self.ui.export_dialog())
        self.refresh_button.clicked.connect(lambda: self.ui.refresh())
        top = QHBoxLayout()
        top.addWidget(self.store_label, 1)
        top.addWidget(self.open_button)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.status_button, self.history_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(filters)
        lay.addLayout(buttons)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.count_label)
        self.setWidget(body)
        self._fill_static_filters()
        for combo in (self.status_combo, self.type_combo, self.grid_combo, self.dept_combo):
            combo.currentIndexChanged.connect(lambda *_: self.apply_filters())
        self.overdue_check.toggled.connect(lambda *_: self.apply_filters())
        self.search_edit.textChanged.connect(lambda *_: self.apply_filters())
        self.retranslate()

    # ------------------------------------------------------------------ texts
    def retranslate(self) -> None:
        self.setWindowTitle(_tr("Findings"))
        for lab, text in zip(self.filter_labels, (_tr("Status"), _tr("Type"), _tr("Grid"), _tr("Department"),
                                                  _tr("Search"))):
            lab.setText(text)
        self.overdue_check.setText(_tr("Overdue only"))
        self.search_edit.setPlaceholderText(_tr("id, description, inspector"))
        self.open_button.setText(_tr("Open store…"))
        self.add_button.setText(_tr("Add"))
        self.add_button.setToolTip(_tr("Click the map where the finding is"))
        self.status_button.setText(_tr("Change status…"))
        self.history_button.setText(_tr("History…"))
        self.export_button.setText(_tr("Export problem list…"))
        self.refresh_button.setText(_tr("Refresh"))
        self.table.setHorizontalHeaderLabels([
            _tr("ID"), _tr("Type"), _tr("Status"), _tr("Grid"), _tr("Department"), _tr("Deadline"),
            _tr("Overdue days"),
        ])
        self._fill_static_filters()
        self.update_store_label()
        if self.ui.gdf is not None:
            self.apply_filters()

    def update_store_label(self) -> None:
        store = self.ui.store
        if store is None:
            self.store_label.setText(_tr("No findings store open: Findings → Open store… or New store…"))
            self.store_label.setToolTip("")
        else:
            loc = str(store.backend.location)
            short = Path(loc).name if "://" not in loc else loc
            self.store_label.setText(_tr("Store: {0}").format(short))
            self.store_label.setToolTip(loc)
        has = store is not None
        for w in (self.add_button, self.status_button, self.history_button, self.export_button, self.refresh_button):
            w.setEnabled(has)

    def _fill_static_filters(self) -> None:
        lang = label_lang()
        self._refill(self.status_combo, [(_tr("All statuses"), None), (_tr("Open (not closed)"), OPEN_KEY)]
                     + [(term_label("status", t.key, lang), t.key) for t in STATUSES])
        self._refill(self.type_combo, [(_tr("All types"), None)]
                     + [(term_label("finding_type", t.key, lang), t.key) for t in FINDING_TYPES])
        if self.grid_combo.count() == 0:
            self.grid_combo.addItem(_tr("All grids"), None)
        else:
            self.grid_combo.setItemText(0, _tr("All grids"))
        if self.dept_combo.count() == 0:
            self.dept_combo.addItem(_tr("All departments"), None)
        else:
            self.dept_combo.setItemText(0, _tr("All departments"))

    @staticmethod
    def _refill(combo: QComboBox, items: list[tuple[str, Any]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        idx = combo.findData(current)
        combo.setCurrentIndex(idx if idx >= 0 else 0)
        combo.blockSignals(False)

    def fill_store_filters(self) -> None:
        """Grid and department choices from the store (grids file, departments in use)."""
        store = self.ui.store
        grid_items: list[tuple[str, Any]] = [(_tr("All grids"), None)]
        if store is not None:
            for level, code, name in grid_choices(store):
                indent = "    " if level == "community" else ""
                tag = _tr("park: ") if level == "park" else ""
                grid_items.append((f"{indent}{tag}{name}", code))
        self._refill(self.grid_combo, grid_items)
        depts = list(CATEGORY_DEPARTMENTS.values())
        gdf = self.ui.gdf
        if gdf is not None and len(gdf):
            depts += [d for d in gdf["department"].dropna().unique().tolist() if d]
        self._refill(self.dept_combo, [(_tr("All departments"), None)] + [(d, d) for d in sorted(dict.fromkeys(depts))])

    # ------------------------------------------------------------------ filters
    def filters(self) -> dict[str, Any]:
        """The filters as :meth:`FindingsStore.query` keywords (for the export)."""
        out: dict[str, Any] = {}
        s = self.status_combo.currentData()
        if s == OPEN_KEY:
            out["status"] = list(OPEN_STATUSES)
        elif s:
            out["status"] = [s]
        for key, combo in (("finding_type", self.type_combo), ("grid_code", self.grid_combo),
                           ("department", self.dept_combo)):
            if combo.currentData():
                out[key] = combo.currentData()
        if self.overdue_check.isChecked():
            out["overdue"] = True
        return out

    def set_filters(self, *, status: str | None = None, finding_type: str | None = None, grid_code: str | None = None,
                    department: str | None = None, overdue: bool | None = None, search: str | None = None) -> None:
        """Set filter widgets by value (``status`` may be ``"__open__"``); for scripts and tests."""
        for combo, value in ((self.status_combo, status), (self.type_combo, finding_type),
                             (self.grid_combo, grid_code), (self.dept_combo, department)):
            if value is not None:
                idx = combo.findData(value)
                if idx < 0:
                    raise ValueError(f"filter value {value!r} is not offered; choices: "
                                     f"{[combo.itemData(i) for i in range(combo.count())]}")
                combo.setCurrentIndex(idx)
        if overdue is not None:
            self.overdue_check.setChecked(overdue)
        if search is not None:
            self.search_edit.setText(search)
        self.apply_filters()

    def _mask(self, gdf: Any) -> np.ndarray:
        f = self.filters()
        m = np.ones(len(gdf), dtype=bool)
        if "status" in f:
            m &= gdf["status"].isin(f["status"]).to_numpy()
        if "finding_type" in f:
            m &= (gdf["finding_type"] == f["finding_type"]).to_numpy()
        if "grid_code" in f:
            g = f["grid_code"]
            m &= ((gdf["street_code"] == g) | (gdf["community_code"] == g) | (gdf["park_code"] == g)).to_numpy()
        if "department" in f:
            m &= (gdf["department"] == f["department"]).to_numpy()
        if f.get("overdue"):
            m &= gdf["overdue"].to_numpy(dtype=bool)
        text = self.search_edit.text().strip().lower()
        if text:
            hay = (gdf["finding_id"].astype(str) + " " + gdf["description"].fillna("").astype(str) + " "
                   + gdf["inspector"].fillna("").astype(str)).str.lower()
            m &= hay.str.contains(text, regex=False).to_numpy()
        return m

    def apply_filters(self) -> None:
        """Show the findings passing the filters (from the last store read; no database query)."""
        gdf = self.ui.gdf
        selected = set(self.selected_ids())
        self.table.setSortingEnabled(False)
        self.table.clearContents()
        if gdf is None or len(gdf) == 0:
            self.table.setRowCount(0)
            self.shown_ids = []
            self._update_count(0, 0)
            return
        sub = gdf[self._mask(gdf)].sort_values(["overdue_days", "finding_id"], ascending=[False, True])
        lang = label_lang()
        names = self.ui.grid_names()
        self.table.setRowCount(len(sub))
        bold = QFont()
        bold.setBold(True)
        red = QBrush(QColor(OVERDUE_COLOR))
        ids = []
        for i, r in enumerate(sub.itertuples(index=False)):
            fid = str(r.finding_id)
            ids.append(fid)
            street = names.get(_s(r.street_code), _s(r.street_code))
            comm = names.get(_s(r.community_code), _s(r.community_code))
            park = names.get(_s(r.park_code), _s(r.park_code))
            grid = comm or street
            grid_tip = " / ".join(x for x in (street, comm, park) if x)
            deadline = r.deadline.isoformat() if r.deadline is not None and r.deadline == r.deadline else ""
            od = int(r.overdue_days) if bool(r.overdue) else 0
            cells = [fid, term_label("finding_type", r.finding_type, lang), term_label("status", r.status, lang), grid,
                     _s(r.department), deadline, None]
            for j, text in enumerate(cells):
                item = QTableWidgetItem()
                if j == self.COL_OVERDUE:
                    item.setData(Qt.ItemDataRole.DisplayRole, od)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if od > 0:
                        item.setForeground(red)
                        item.setFont(bold)
                else:
                    item.setText(str(text))
                if j == self.COL_ID:
                    item.setData(Qt.ItemDataRole.UserRole, fid)
                    item.setToolTip(_s(r.description))
                if j == self.COL_GRID:
                    item.setToolTip(grid_tip)
                if j == self.COL_STATUS:
                    colour = OVERDUE_COLOR if r.overdue else STATUS_COLORS.get(r.status, "#000000")
                    item.setData(Qt.ItemDataRole.DecorationRole, QColor(colour))
                if j == self.COL_DEADLINE and r.overdue:
                    item.setForeground(red)
                self.table.setItem(i, j, item)
        self.shown_ids = ids
        self.table.setSortingEnabled(True)  # keeps the user's sort column; by default most overdue first
        self.table.resizeColumnsToContents()
        self._update_count(len(sub), int(sub["overdue"].sum()))
        if selected:
            self.select_ids(selected)

    def _update_count(self, shown: int, overdue: int) -> None:
        total = 0 if self.ui.gdf is None else len(self.ui.gdf)
        self.count_label.setText(_tr("{0} of {1} findings shown, {2} overdue").format(shown, total, overdue))

    # ------------------------------------------------------------------ rows and selection
    def row_count(self) -> int:
        return self.table.rowCount()

    def id_at(self, row: int) -> str | None:
        item = self.table.item(row, self.COL_ID)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def row_of(self, finding_id: str) -> int:
        for r in range(self.table.rowCount()):
            if self.id_at(r) == finding_id:
                return r
        return -1

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [x for x in (self.id_at(r) for r in rows) if x]

    def current_id(self) -> str | None:
        ids = self.selected_ids()
        if ids:
            return ids[0]
        r = self.table.currentRow()
        return self.id_at(r) if r >= 0 else None

    def select_ids(self, ids: Any) -> None:
        """Select the rows of ``ids`` (without echoing the selection back to the map)."""
        ids = set(ids)
        self._syncing = True
        try:
            self.table.clearSelection()
            first = None
            mode = self.table.selectionMode()
            self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
            for r in range(self.table.rowCount()):
                if self.id_at(r) in ids:
                    self.table.selectRow(r)
                    first = r if first is None else first
            self.table.setSelectionMode(mode)
            if first is not None:
                self.table.scrollToItem(self.table.item(first, 0))
        finally:
            self._syncing = False

    def _selection_changed(self) -> None:
        if not self._syncing:
            self.ui.select_on_map(self.selected_ids())


# ----------------------------------------------------------------------------- overdue summary
class OverdueSummaryDialog(QDialog):
    """Overdue findings counted per street/town, community/village, park or department."""

    def __init__(self, store: FindingsStore, parent: QWidget | None = None, *, today: dt.date | None = None,
                 by: str = "street") -> None:
        super().__init__(parent)
        self.setObjectName("OverdueSummaryDialog")
        self.store, self.today = store, today
        self.setWindowTitle(_tr("Overdue summary"))
        self.by_combo = QComboBox()
        for text, key in ((_tr("Street/town"), "street"), (_tr("Community/village"), "community"),
                          (_tr("Industrial park"), "park"), (_tr("Department"), "department")):
            self.by_combo.addItem(text, key)
        self.by_combo.setCurrentIndex(max(0, self.by_combo.findData(by)))
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("overdue_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setHorizontalHeaderLabels([_tr("Name"), _tr("Total"), _tr("Open"), _tr("Overdue"),
                                              _tr("Max overdue days"), _tr("Closed")])
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        hh.setSortIndicator(3, Qt.SortOrder.DescendingOrder)  # most overdue first
        self.note = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_tr("Close"))
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(QLabel(_tr("By")))
        row.addWidget(self.by_combo)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.note)
        lay.addWidget(buttons)
        self.by_combo.currentIndexChanged.connect(lambda *_: self.reload())
        self.frame: Any = None
        self.reload()
        self.resize(640, 480)

    def reload(self) -> None:
        by = self.by_combo.currentData()
        try:
            df = self.store.overdue_summary(by=by, today=self.today)
        except GridtoolError as exc:
            self.note.setText(str(exc))
            return
        self.frame = df
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(df))
        red = QBrush(QColor(OVERDUE_COLOR))
        for i, r in enumerate(df.itertuples(index=False)):
            name = str(r.name) if r.name == r.code or by == "department" else f"{r.name} ({r.code})"
            vals: list[Any] = [name, int(r.total), int(r.open), int(r.overdue), int(r.max_overdue_days), int(r.closed)]
            for j, v in enumerate(vals):
                item = QTableWidgetItem()
                item.setData(Qt.ItemDataRole.DisplayRole, v)
                if j > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if j in (3, 4) and int(v) > 0:
                    item.setForeground(red)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        self.note.setText(_tr("{0} overdue in total; overdue days are working days past the deadline.").format(
            int(df["overdue"].sum()) if len(df) else 0))


# ----------------------------------------------------------------------------- the controller
def _export_task(store: FindingsStore, path: str, *, today: dt.date | None, filters: dict[str, Any],
                 feedback: Any) -> Path:
    from gridtool.export.problem_list import export_problem_list

    feedback.set_progress(5, _tr("Reading findings…"))
    feedback.check()
    out = export_problem_list(store, path, today=today, **filters)  # on the worker's Python thread (ui/worker.py)
    feedback.set_progress(100, _tr("Done"))
    return out


class FindingsUI(QObject):
    """Everything findings in a main window: actions, panel, the store's map layer.

    Attributes
    ----------
    today : datetime.date or None
        The day overdue days are counted to (None: today); scripts and tests set it.
    gdf : GeoDataFrame or None
        The store's findings as last read (what the layer and the panel show).
    layer : layers.layer.Layer or None
        The findings map layer.
    """

    LAYER_NAME = "findings"

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.today: dt.date | None = None
        self.gdf: Any = None
        self.layer: Any = None
        self._names: dict[str, str] | None = None
        self._layer_hook: Callable[..., Any] | None = None
        self.last_dialog: QDialog | None = None
        self.actions: dict[str, QAction] = {}
        self.panel = FindingsPanel(self, window)
        self.panel.hide()
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        identify = getattr(window, "identify_dock", None)
        if identify is not None:  # a tab beside Identify: the table gets the full height
            window.tabifyDockWidget(identify, self.panel)
        self._build_actions()
        window.installEventFilter(self)
        tool = getattr(window, "tools", {}).get("add_point")
        if tool is not None:
            tool.pointAdded.connect(self.add_at)
        sig = getattr(window, "findingsStoreChanged", None)
        if sig is not None:
            sig.connect(lambda _s: self.on_store_changed())
        sig = getattr(window, "projectLoaded", None)
        if sig is not None:
            sig.connect(self.on_project_loaded)

    # ------------------------------------------------------------------ actions
    def _build_actions(self) -> None:
        w = self.window

        def act(name: str, slot: Callable[[], Any]) -> QAction:
            a = QAction(w)
            a.setObjectName(f"action_findings_{name}")
            a.triggered.connect(lambda checked=False: slot())
            self.actions[name] = a
            return a

        menu = w.findings_menu
        menu.addAction(act("open_store", self.open_store_dialog))
        menu.addAction(act("new_store", self.new_store_dialog))
        menu.addSeparator()
        menu.addAction(act("add", self.start_adding))
        panel_act = self.panel.toggleViewAction()
        panel_act.setObjectName("action_findings_panel")
        self.actions["panel"] = panel_act
        menu.addAction(panel_act)
        menu.addAction(act("summary", self.show_overdue_summary))
        menu.addAction(act("export", self.export_dialog))
        panels = getattr(w, "panels_menu", None)
        if panels is not None:
            panels.addAction(panel_act)
        self.retranslate()

    def retranslate(self) -> None:
        texts = {
            "open_store": _tr("Open store…"), "new_store": _tr("New store…"),
            "add": _tr("Add finding (map click)"), "panel": _tr("Findings panel"),
            "summary": _tr("Overdue summary…"), "export": _tr("Export problem list…"),
        }
        for k, t in texts.items():
            self.actions[k].setText(t)
        self.actions["add"].setShortcut("Ctrl+Shift+A")

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802
        if obj is self.window and ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False

    # ------------------------------------------------------------------ store
    @property
    def store(self) -> FindingsStore | None:
        return getattr(self.window, "findings_store", None)

    def set_store(self, store: FindingsStore | None) -> None:
        """Make ``store`` the window's store (through ``window.set_findings_store`` when it has one)."""
        setter = getattr(self.window, "set_findings_store", None)
        if callable(setter):
            setter(store)  # emits findingsStoreChanged → on_store_changed
            if getattr(self.window, "findingsStoreChanged", None) is None:
                self.on_store_changed()
            return
        old = self.store
        self.window.findings_store = store
        if old is not None and old is not store:
            old.close()
        self.on_store_changed()

    def on_store_changed(self) -> None:
        self._names = None
        if self.store is not None and hasattr(self.window, "current_project"):
            from gridtool.project import Project

            if self.window.current_project is None:  # an untitled map: remember the store when it is saved
                self.window.current_project = Project()
            self.window.current_project.findings_store = str(self.store.backend.location)
        self.refresh()
        self.panel.fill_store_filters()
        self.panel.apply_filters()
        self.panel.update_store_label()
        if self.store is not None:
            first = not self.panel.isVisible()
            self.panel.show()
            self.panel.raise_()
            if first and hasattr(self.window, "resizeDocks"):
                self.window.resizeDocks([self.panel], [660], Qt.Orientation.Horizontal)

    def on_project_loaded(self, project: Any) -> None:
        loc = getattr(project, "findings_store", None)
        cur = self.store
        if loc and (cur is None or str(cur.backend.location) != str(loc)):
            is_url = "://" in str(loc)
            if not is_url and not is_findings_store(loc):
                self._message(_tr("The project's findings store {0} is missing or not a findings store.").format(loc))
            else:
                try:
                    self.set_store(FindingsStore.open(loc))
                    return
                except (GridtoolError, OSError) as exc:
                    self._message(str(exc))
        if self.store is not None:
            self.layer = None
            self.refresh()

    def _message(self, text: str, ms: int = 8000) -> None:
        status = getattr(self.window, "status", None) or self.window.statusBar()
        status.showMessage(text, ms)

    def _last_dir(self) -> str:
        return str(QSettings().value("findings/store_dir", str(Path.home())))

    def open_store_dialog(self) -> FindingsStore | None:
        path, _ = QFileDialog.getOpenFileName(self.window, _tr("Open findings store"), self._last_dir(),
                                              f"{_tr('Findings stores')} (*.gpkg)")
        return self.open_store_path(path) if path else None

    def new_store_dialog(self) -> FindingsStore | None:
        path, _ = QFileDialog.getSaveFileName(self.window, _tr("New findings store"),
                                              str(Path(self._last_dir()) / "findings.gpkg"),
                                              f"{_tr('Findings stores')} (*.gpkg)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return None
        if not path.lower().endswith(".gpkg"):
            path += ".gpkg"
        return self.open_store_path(path, create=True)

    def open_store_path(self, path: str | os.PathLike[str], *, create: bool = False) -> FindingsStore | None:
        """Open the store at ``path`` (create it when ``create`` and it does not exist); errors show a dialog.

        An existing GeoPackage that is not a findings store is never changed.
        """
        p = Path(path)
        title = _tr("Cannot open the findings store")
        if p.exists() and not is_findings_store(p):
            QMessageBox.warning(self.window, title, _tr(
                "{0} is not a gridtool findings store; it is left unchanged. Choose a store, or make a new one "
                "with Findings → New store… under a new file name.").format(str(p)))
            return None
        if not p.exists() and not create:
            QMessageBox.warning(self.window, title, _tr("{0} does not exist; make a new store with "
                                                        "Findings → New store….").format(str(p)))
            return None
        try:
            store = FindingsStore.open(p)
        except (GridtoolError, OSError) as exc:
            QMessageBox.warning(self.window, title, str(exc))
            return None
        QSettings().setValue("findings/store_dir", str(p.resolve().parent))
        self.set_store(store)
        self._message(_tr("Findings store: {0}").format(str(p)), 5000)
        return store

    def _need_store(self) -> FindingsStore | None:
        if self.store is None:
            box = QMessageBox(QMessageBox.Icon.Information, _tr("No findings store"),
                              _tr("Open a findings store, or make a new one, first."), QMessageBox.StandardButton.Cancel,
                              self.window)
            open_b = box.addButton(_tr("Open store…"), QMessageBox.ButtonRole.AcceptRole)
            new_b = box.addButton(_tr("New store…"), QMessageBox.ButtonRole.AcceptRole)
            box.exec()
            if box.clickedButton() is open_b:
                self.open_store_dialog()
            elif box.clickedButton() is new_b:
                self.new_store_dialog()
        return self.store

    # ------------------------------------------------------------------ layer
    def grid_names(self) -> dict[str, str]:
        if self._names is None:
            self._names = {}
            if self.store is not None:
                try:
                    self._names = dict(self.store.locator.names)
                except (GridtoolError, OSError):
                    self._names = {}
        return self._names

    def refresh(self) -> None:
        """Read the store again; update the map layer and the panel."""
        store = self.store
        if store is None:  # store closed: its findings leave the map too
            self.gdf = None
            if self.layer is not None and self.layer in self.window.layer_list:
                self.window.layer_list.remove(self.layer)
            self.layer = None
            self.panel.apply_filters()
            return
        try:
            self.gdf = findings_map_gdf(store, self.today)
        except (GridtoolError, OSError) as exc:
            QMessageBox.warning(self.window, _tr("Cannot read the findings store"), str(exc))
            return
        self._sync_layer()
        self.panel.apply_filters()

    def _sync_layer(self) -> None:
        from layers.layer import Layer

        ll = self.window.layer_list
        if self.layer is not None and self.layer in ll:
            self.layer.gdf = self.gdf
            return
        index = len(ll)
        for old in [lyr for lyr in ll if lyr.kind == "findings" and lyr.name == self.LAYER_NAME]:
            index = min(index, ll.index(old))
            if hasattr(self.window, "remove_layer"):
                self.window.remove_layer(old)
            else:
                ll.remove(old)
        self.layer = Layer(self.gdf, name=self.LAYER_NAME, kind="findings", title=_tr("Patrol findings (store)"),
                           style=findings_style())
        ll.insert(min(index, len(ll)), self.layer)
        self.layer.events.selection.connect(self._map_selection_changed)
        sig = getattr(self.window, "layerAdded", None)
        if sig is not None:
            sig.emit(self.layer)

    def _map_selection_changed(self, event: Any) -> None:
        if self.layer is None or self.gdf is None:
            return
        rows = np.asarray(event.rows, dtype=np.int64)
        ids = self.layer.gdf["finding_id"].to_numpy()[rows].tolist() if len(rows) else []
        self.panel.select_ids(ids)

    def row_of(self, finding_id: str) -> int:
        """Row position of ``finding_id`` in the map layer (-1 when absent)."""
        if self.layer is None:
            return -1
        hits = np.flatnonzero(self.layer.gdf["finding_id"].to_numpy() == finding_id)
        return int(hits[0]) if len(hits) else -1

    def select_on_map(self, ids: list[str]) -> None:
        if self.layer is None:
            return
        rows = [r for r in (self.row_of(i) for i in ids) if r >= 0]
        with self.layer.events.selection.blocker():
            self.layer.select(rows)
        self.window.canvas.invalidate()

    def zoom_to(self, finding_id: str | None, *, scale: float = 2000.0) -> None:
        """Centre the map on ``finding_id`` (zooming in to ``scale`` at least) and select it."""
        row = self.row_of(finding_id) if finding_id else -1
        if row < 0:
            return
        pt = self.layer.gdf.geometry.iloc[row]
        x, y = float(pt.x), float(pt.y)
        canvas = self.window.canvas
        canvas.center_on(x, y, scale=min(float(canvas.scale), scale))
        self.layer.select([row])
        self.layer.visible = True

    # ------------------------------------------------------------------ commands
    def start_adding(self) -> None:
        """Activate the add-point tool; each map click opens the new-finding dialog."""
        if self._need_store() is None:
            return
        set_tool = getattr(self.window, "set_tool", None)
        if callable(set_tool):
            set_tool("add_point")
        self._message(_tr("Click the map where the finding is; choose Pan to stop adding."), 10000)

    def add_at(self, x: float, y: float, *, exec_: bool = True) -> FindingDialog | None:
        """Open the new-finding dialog at (x, y); after saving, refresh and select the finding.

        With ``exec_=False`` the dialog is returned unshown (its ``finished`` signal still
        refreshes the map); scripts and tests fill and accept it.
        """
        store = self._need_store()
        if store is None:
            return None
        dlg = FindingDialog(store, x, y, self.window)
        dlg.finished.connect(lambda code, d=dlg: self._added(d) if code == QDialog.DialogCode.Accepted else None)
        self.last_dialog = dlg
        if exec_:
            dlg.exec()
        return dlg

    def _added(self, dlg: FindingDialog) -> None:
        self.refresh()
        if dlg.finding is not None:
            self.panel.fill_store_filters()
            self.panel.apply_filters()
            self.panel.select_ids([dlg.finding.finding_id])
            self.select_on_map([dlg.finding.finding_id])
            self.panel.show()
            self._message(_tr("Saved {0}").format(dlg.finding.finding_id), 6000)

    def change_status(self, finding_id: str | None, *, exec_: bool = True) -> Any:
        """Open :class:`StatusDialog` for ``finding_id``; refresh after a change (or a conflict)."""
        from ui.status_dialog import StatusDialog

        if self.store is None or not finding_id:
            return None
        try:
            dlg = StatusDialog(self.store, finding_id, self.window, today=self.today)
        except GridtoolError as exc:
            QMessageBox.warning(self.window, _tr("Change status"), str(exc))
            return None
        dlg.finished.connect(lambda _code, d=dlg: self._status_done(d))
        self.last_dialog = dlg
        if exec_:
            dlg.exec()
        return dlg

    def _status_done(self, dlg: Any) -> None:
        if dlg.result() == QDialog.DialogCode.Accepted or dlg.conflicts:
            fid = dlg.finding.finding_id
            self.refresh()
            self.panel.fill_store_filters()
            self.panel.apply_filters()
            self.panel.select_ids([fid])

    def show_history(self, finding_id: str | None, *, exec_: bool = True) -> Any:
        from ui.history_dialog import HistoryDialog

        if self.store is None or not finding_id:
            return None
        try:
            dlg = HistoryDialog(self.store, finding_id, self.window, today=self.today)
        except GridtoolError as exc:
            QMessageBox.warning(self.window, _tr("History"), str(exc))
            return None
        self.last_dialog = dlg
        if exec_:
            dlg.exec()
        return dlg

    def show_overdue_summary(self, *, exec_: bool = True) -> Any:
        if self._need_store() is None:
            return None
        dlg = OverdueSummaryDialog(self.store, self.window, today=self.today)  # type: ignore[arg-type]
        self.last_dialog = dlg
        if exec_:
            dlg.exec()
        return dlg

    def export_dialog(self) -> Any:
        if self._need_store() is None:
            return None
        name = f"问题清单_{(self.today or dt.date.today()).strftime('%Y%m%d')}.xlsx"
        path, _ = QFileDialog.getSaveFileName(
            self.window, _tr("Export problem list"), str(Path(self._last_dir()) / name),
            f"Excel (*.xlsx);;CSV (*.csv);;GeoJSON (*.geojson)")
        if not path:
            return None
        if Path(path).suffix.lower() not in (".xlsx", ".csv", ".geojson", ".json"):
            path += ".xlsx"
        return self.export_to(path)

    def export_to(self, path: str | os.PathLike[str], *, on_done: Callable[[Any], Any] | None = None) -> Any:
        """Write the problem list of the panel's filtered findings to ``path`` in a worker."""
        from ui.worker import run_task

        store = self.store
        if store is None:
            raise InputError("no findings store is open; open one with Findings → Open store…")

        def done(out: Any) -> None:
            self._message(_tr("Problem list written to {0}").format(str(out)), 8000)
            if on_done is not None:
                on_done(out)

        return run_task(self.window, _tr("Export problem list"), _export_task, store, str(path), today=self.today,
                        filters=self.panel.filters(), on_done=done)


def install_findings_ui(window: Any) -> FindingsUI:
    """Add the Findings menu actions, the findings panel and the store layer to ``window``."""
    ui = FindingsUI(window)
    window.findings_ui = ui
    return ui

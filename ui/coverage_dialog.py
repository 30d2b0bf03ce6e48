"""The coverage dialog: facility layer, demand, radius, straight line or road; runs in a worker.

Results arrive as layers (coverage % per grid with a graduated style, uncovered areas,
service areas) and as a per-grid table in the dialog. The engine is
:func:`gridtool.coverage.coverage_analysis`; this module only collects the inputs,
copies the data into the worker (:func:`ui.worker.run_task`) and shows the results.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
from PyQt6.QtCore import QCoreApplication
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gridtool.errors import InputError
from gridtool.feedback import Feedback

__all__ = ["CoverageDialog", "compute_coverage", "add_coverage_action"]

CONTEXT = "CoverageDialog"


def _tr(text: str) -> str:
    return QCoreApplication.translate("CoverageDialog", text)


def compute_coverage(demand: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *, radius_m: float,
                     roads: gpd.GeoDataFrame | None = None, grids_by_level: dict | None = None,
                     spacing_m: float = 100.0, feedback: Feedback | None = None):
    """Worker side: demand points from a grid layer if needed, then the coverage analysis."""
    from gridtool.coverage import coverage_analysis
    from gridtool.demand import demand_from_grids

    grids = dict(grids_by_level or {})
    types = set(demand.geom_type.unique())
    if types <= {"Polygon", "MultiPolygon"}:
        grids.setdefault("community_village", demand)
        demand = demand_from_grids(demand, spacing_m=spacing_m)
    return coverage_analysis(demand, facilities, radius_m=radius_m, network=roads, grids_by_level=grids,
                             feedback=feedback)


class CoverageDialog(QDialog):
    """Pick the inputs, run the analysis in a worker, show the results.

    Parameters
    ----------
    window
        The main window: needs ``layer_list`` (layers with ``name``, ``kind``, ``gdf``,
        ``geometry_type``) and ``add_result_layer(gdf, name, kind, style, ...)``.
    """

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.setObjectName("CoverageDialog")
        self.window_ = window
        self.task = None
        self.result = None
        self.setWindowTitle(_tr("Coverage analysis"))
        form = QFormLayout()
        self.facilities_box = QComboBox(self)
        self.demand_box = QComboBox(self)
        self.roads_box = QComboBox(self)
        self.radius_box = QDoubleSpinBox(self)
        self.radius_box.setRange(1.0, 100_000.0)
        self.radius_box.setDecimals(1)
        self.radius_box.setSuffix(" m")
        self.euclid_radio = QRadioButton(_tr("Straight line"), self)
        self.road_radio = QRadioButton(_tr("Along the roads"), self)
        self.euclid_radio.setChecked(True)
        form.addRow(_tr("Facilities"), self.facilities_box)
        form.addRow(_tr("Demand (points or grids)"), self.demand_box)
        form.addRow(_tr("Service radius"), self.radius_box)
        form.addRow(self.euclid_radio)
        form.addRow(self.road_radio, self.roads_box)
        self.status = QLabel("", self)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels([_tr("Grid"), _tr("Population"), _tr("Covered"), _tr("Share %")])
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.run_button = self.buttons.addButton(_tr("Run"), QDialogButtonBox.ButtonRole.ActionRole)
        self.run_button.clicked.connect(self.run)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(self.table)
        lay.addWidget(self.buttons)
        self._fill()
        self.facilities_box.currentIndexChanged.connect(self._default_radius)
        self.road_radio.toggled.connect(self.roads_box.setEnabled)
        self.roads_box.setEnabled(False)
        self._default_radius()

    # -- inputs -------------------------------------------------------------------
    def _layers(self, *types: str) -> list:
        return [lyr for lyr in self.window_.layer_list if lyr.geometry_type in types]

    def _fill(self) -> None:
        for box, types in ((self.facilities_box, ("point",)), (self.demand_box, ("point", "polygon")),
                           (self.roads_box, ("line",))):
            box.clear()
            for lyr in self._layers(*types):
                box.addItem(lyr.title or lyr.name, lyr)
        i = self.demand_box.findData(next((lyr for lyr in self._layers("polygon")
                                           if lyr.kind == "grid_community_village"), None))
        if i >= 0:
            self.demand_box.setCurrentIndex(i)

    def _default_radius(self) -> None:
        from gridtool.targets import default_radius_m

        lyr = self.facilities_box.currentData()
        try:
            self.radius_box.setValue(default_radius_m(lyr.kind) if lyr is not None else 500.0)
        except InputError:
            self.radius_box.setValue(500.0)

    def _grid(self, kind: str):
        return next((lyr.gdf for lyr in self.window_.layer_list if lyr.kind == kind), None)

    # -- run ----------------------------------------------------------------------
    def run(self) -> None:
        """Start the analysis in a worker (progress dialog with Cancel)."""
        from ui.worker import run_task

        fac = self.facilities_box.currentData()
        dem = self.demand_box.currentData()
        if fac is None or dem is None:
            self.status.setText(_tr("Load a facility layer and a demand or grid layer first."))
            return
        roads = self.roads_box.currentData() if self.road_radio.isChecked() else None
        if self.road_radio.isChecked() and roads is None:
            self.status.setText(_tr("Load a road layer for distances along the roads."))
            return
        grids = {}
        streets = self._grid("grid_street_town")
        if streets is not None:
            grids["street_town"] = streets.copy()
        if dem.geometry_type == "point":
            comm = self._grid("grid_community_village")
            if comm is not None:
                grids["community_village"] = comm.copy()
        self.status.setText(_tr("Running…"))
        self.run_button.setEnabled(False)
        self.task = run_task(
            self, _tr("Coverage analysis"), compute_coverage, dem.gdf.copy(), fac.gdf.copy(),
            radius_m=float(self.radius_box.value()), roads=None if roads is None else roads.gdf.copy(),
            grids_by_level=grids, on_done=self._done, on_cancel=self._cancelled, on_error=self._failed,
        )

    def _cancelled(self) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(_tr("Cancelled."))

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(str(exc))

    def _done(self, result) -> None:
        from gridtool.styles import graduated

        self.result = result
        self.run_button.setEnabled(True)
        s = result.summary
        self.status.setText(_tr("Covered population: {0} of {1} ({2} %)").format(
            f"{s['covered_population']:,.0f}", f"{s['population']:,.0f}", f"{s['coverage_pct']:.1f}"))
        w = self.window_
        bg = result.by_grid
        if len(bg):
            finest = bg[bg["level"] == bg["level"].iloc[-1]].reset_index(drop=True)
            w.add_result_layer(finest, "coverage_by_grid", "other",
                               graduated(finest.fillna({"coverage_pct": 0.0}), "coverage_pct", classes=5,
                                         method="equal", ramp="YlOrRd"),
                               title=_tr("Coverage % per grid"))
        if len(result.uncovered):
            w.add_result_layer(result.uncovered, "coverage_uncovered", "other", title=_tr("Uncovered areas"))
        w.add_result_layer(result.service_areas, "coverage_service_areas", "other", title=_tr("Service areas"))
        self.table.setRowCount(len(bg))
        for r, rec in enumerate(bg.itertuples(index=False)):
            pct = "" if rec.coverage_pct != rec.coverage_pct else f"{rec.coverage_pct:.1f}"
            for c, v in enumerate((str(rec.name), f"{rec.population:,.0f}", f"{rec.covered_population:,.0f}", pct)):
                self.table.setItem(r, c, QTableWidgetItem(v))


def add_coverage_action(window: Any) -> None:
    """Register "Coverage analysis…" in the window's Analysis menu."""
    from PyQt6.QtGui import QAction

    act = QAction(_tr("Coverage analysis…"), window)
    act.setObjectName("action_coverage")
    act.triggered.connect(lambda checked=False: CoverageDialog(window).exec())
    window.add_analysis_action(act)

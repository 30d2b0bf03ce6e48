"""Optimal siting and scenario comparison dialogs (Analysis → Optimal siting…, Compare scenarios…).

:class:`SitingDialog` collects a model (LSCP, MCLP, p-median, p-center, capacitated),
its parameters and the layers (demand points or a community grid layer, candidate sites,
optional existing facilities, optional roads), runs :func:`gridtool.siting.site` in the
worker thread (:func:`ui.worker.run_task`, progress and Cancel reach HiGHS through the
:class:`gridtool.feedback.Feedback`), then shows the chosen sites and their service areas
as map layers, the result (objective, proof, gap, seconds, sites) and the scenario table
"existing network vs proposal" (:func:`gridtool.scenarios.compare_scenarios`).

Every run is kept as a scenario in ``window.current_project.scenarios`` as the JSON
dicts :func:`gridtool.scenarios.save_scenarios` writes (``name``, ``note``, ``crs``,
``sites`` as GeoJSON) plus what the run used (``model``, ``params``, ``demand_layer`` …),
so scenarios are saved with the project and come back when it is reopened.
:class:`ScenarioDialog` lists them, compares the chosen ones side by side, shows them on
the map (:func:`gridtool.scenarios.scenario_layers`) and exports the table (xlsx/csv).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from PyQt6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gridtool.errors import InputError, ReadError
from gridtool.feedback import Feedback, ensure_feedback
from gridtool.scenarios import (Scenario, compare_scenarios, evaluate_scenario, make_scenario, scenario_from_dict,
                                scenario_layers, scenario_to_dict)

__all__ = [
    "SitingDialog",
    "ScenarioDialog",
    "SitingRun",
    "ComparisonRun",
    "compute_siting",
    "compute_comparison",
    "scenario_to_dict",
    "scenario_from_dict",
    "add_siting_actions",
]

CONTEXT = "SitingDialog"
MODEL_PARAMS: dict[str, frozenset[str]] = {
    "lscp": frozenset({"radius"}),
    "mclp": frozenset({"p", "radius", "weights"}),
    "p-median": frozenset({"p", "weights"}),
    "p-center": frozenset({"p"}),
    "capacitated": frozenset({"p", "capacity", "cost", "demand_col"}),
}
"""The parameter widgets each model uses (the others are disabled)."""
NEEDS_P = ("mclp", "p-median", "p-center")


def _tr(text: str) -> str:
    return QCoreApplication.translate("SitingDialog", text)


def _model_names() -> dict[str, str]:
    return {
        "lscp": _tr("Set covering (LSCP)"),
        "mclp": _tr("Maximal covering (MCLP)"),
        "p-median": _tr("p-median"),
        "p-center": _tr("p-center"),
        "capacitated": _tr("Capacitated"),
    }


def _objective_names() -> dict[str, str]:
    return {
        "lscp": _tr("sites needed"),
        "mclp": _tr("covered weight"),
        "p-median": _tr("total weighted distance (m)"),
        "p-center": _tr("largest distance (m)"),
        "capacitated": _tr("transport cost plus opening costs"),
    }


def _metric_labels() -> dict[str, str]:
    return {
        "sites": _tr("Sites"),
        "population": _tr("Population"),
        "covered_population": _tr("Covered population"),
        "covered_share": _tr("Covered share %"),
        "mean_distance_m": _tr("Mean distance (m)"),
        "max_distance_m": _tr("Maximum distance (m)"),
        "unreachable_points": _tr("Unreachable demand points"),
        "load_tpd": _tr("Load (t/d)"),
        "capacity_tpd": _tr("Capacity (t/d)"),
        "overloaded_sites": _tr("Overloaded sites"),
        "max_load_ratio": _tr("Highest load / capacity %"),
    }


# ---------------------------------------------------------------------------------------------
# scenarios as project JSON
# scenario_to_dict / scenario_from_dict live in gridtool.scenarios (the layout of its
# save_scenarios / load_scenarios); re-exported here for the dialogs and their callers


def _project(window: Any):
    """The window's project, created when the window has none yet."""
    from gridtool.project import Project

    if getattr(window, "current_project", None) is None:
        window.current_project = Project()
    return window.current_project


def _store_scenario(window: Any, entry: dict[str, Any]) -> None:
    """Put ``entry`` into the project's scenarios, replacing one of the same name."""
    scen = _project(window).scenarios
    for i, old in enumerate(scen):
        if old.get("name") == entry["name"]:
            scen[i] = entry
            return
    scen.append(entry)


def _unique_name(window: Any, wanted: str) -> str:
    names = {s.get("name") for s in _project(window).scenarios}
    if wanted not in names:
        return wanted
    i = 2
    while f"{wanted} ({i})" in names:
        i += 1
    return f"{wanted} ({i})"


# ---------------------------------------------------------------------------------------------
# worker side
@dataclass
class ComparisonRun:
    """Scenarios measured on one demand: ``table`` (metric × scenario) and per-scenario details."""

    table: pd.DataFrame
    demand: gpd.GeoDataFrame
    sites: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    layers: dict[str, dict[str, gpd.GeoDataFrame]] = field(default_factory=dict)


@dataclass
class SitingRun:
    """What :func:`compute_siting` hands back to the GUI thread."""

    outcome: Any  # gridtool.siting.SiteOutcome
    name: str
    model: str
    params: dict[str, Any]
    comparison: ComparisonRun
    existing_name: str | None
    existing: Scenario | None
    proposal: Scenario


def _work(gdf: gpd.GeoDataFrame, arg: str) -> gpd.GeoDataFrame:
    from gridtool.errors import CRSError
    from gridtool.kinds import WORK_EPSG

    if gdf.crs is None:
        raise CRSError(f"{arg} has no CRS; set it (e.g. EPSG:{WORK_EPSG}) before siting")
    return gdf if gdf.crs.to_epsg() == WORK_EPSG else gdf.to_crs(WORK_EPSG)


def _demand_points(demand: gpd.GeoDataFrame, spacing_m: float) -> gpd.GeoDataFrame:
    """Points as given, or demand points spread over community polygons (as the coverage dialog does)."""
    from gridtool.demand import demand_from_grids

    demand = _work(demand, "demand")
    if set(demand.geom_type.unique()) <= {"Polygon", "MultiPolygon"}:
        return demand_from_grids(demand, spacing_m=spacing_m)
    return demand


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    g = gdf.geometry
    if not (g.geom_type == "Point").all():
        g = g.representative_point()
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def _compare(demand: gpd.GeoDataFrame, scenarios: dict[str, gpd.GeoDataFrame], *, radius_m: float | None,
             weights_col: str | None, load_col: str | None, capacity_col: str | None, network: Any = None,
             with_layers: bool = False, feedback: Feedback | None = None) -> ComparisonRun:
    fb = ensure_feedback(feedback)
    kw = dict(radius_m=radius_m, weights_col=weights_col, load_col=load_col, capacity_col=capacity_col)
    sites = {name: _work(s, f"scenario {name!r}") for name, s in scenarios.items()}
    costs: dict[str, np.ndarray | None] = {name: None for name in sites}
    if network is None:
        table = compare_scenarios(demand, sites, **kw)
    else:
        from gridtool.network import distance_matrix

        cols = {}
        for name, s in sites.items():
            fb.check()
            costs[name] = distance_matrix(network, _xy(demand), _xy(s))
            cols[name] = evaluate_scenario(demand, s, cost=costs[name], **kw)[0]
        if not cols:
            raise InputError("no scenarios to compare; give at least one")
        table = pd.DataFrame(cols)
    run = ComparisonRun(table, demand)
    for name, s in sites.items():
        fb.check()
        run.sites[name] = evaluate_scenario(demand, s, cost=costs[name], **kw)[1]
        if with_layers:
            run.layers[name] = scenario_layers(demand, Scenario(name, s), cost=costs[name], **kw)
    return run


def _network(roads: gpd.GeoDataFrame | None, fb: Feedback):
    if roads is None:
        return None
    from gridtool.network import build_network

    return build_network(_work(roads, "roads"), feedback=fb)


def compute_comparison(demand: gpd.GeoDataFrame, scenarios: dict[str, gpd.GeoDataFrame], *,
                       radius_m: float | None = None, roads: gpd.GeoDataFrame | None = None,
                       spacing_m: float = 200.0, weights_col: str | None = "population",
                       load_col: str | None = "waste_tpd", capacity_col: str | None = "capacity_tpd",
                       with_layers: bool = True, feedback: Feedback | None = None) -> ComparisonRun:
    """Worker side of :class:`ScenarioDialog`: demand points, then the scenarios side by side.

    Euclidean distances use :func:`gridtool.scenarios.compare_scenarios`; with ``roads``
    every scenario is measured along the roads (its own distance matrix).
    """
    fb = ensure_feedback(feedback)
    fb.set_progress(2, "demand")
    pts = _demand_points(demand, spacing_m)
    net = _network(roads, fb)
    fb.set_progress(30, "scenarios")
    run = _compare(pts, scenarios, radius_m=radius_m, weights_col=weights_col, load_col=load_col,
                   capacity_col=capacity_col, network=net, with_layers=with_layers, feedback=fb)
    fb.set_progress(100, "done")
    return run


def compute_siting(demand: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, *, model: str,
                   existing: gpd.GeoDataFrame | None = None, allow_close: bool = False,
                   roads: gpd.GeoDataFrame | None = None, spacing_m: float = 200.0, p: int | None = None,
                   radius_m: float | None = None, weights_col: str | None = "population",
                   demand_col: str = "waste_tpd", capacity_col: str = "capacity_tpd",
                   opening_cost_col: str | None = None, time_limit: float | None = None,
                   name: str = "proposal", existing_name: str = "existing",
                   feedback: Feedback | None = None, cost_per_tpd_m: float = 1.0) -> SitingRun:
    """Worker side of :class:`SitingDialog`: demand points, :func:`gridtool.siting.site`, comparison.

    Parameters are those of :func:`gridtool.siting.site`; ``demand`` may be community
    polygons (demand points every ``spacing_m``); ``roads`` gives distances along the
    roads for the model and the comparison. ``name`` / ``existing_name`` name the
    proposal and the existing network in the comparison table.
    """
    from gridtool.siting import site

    fb = ensure_feedback(feedback)
    t_start = time.perf_counter()
    pts = _demand_points(demand, spacing_m)
    net = _network(roads, fb)
    # the time limit covers the run: demand points and the road network come off the solver's share
    left = None if time_limit is None else max(0.01, float(time_limit) - (time.perf_counter() - t_start))
    wc = weights_col if weights_col and weights_col in pts.columns else None
    outcome = site(pts, candidates, model=model, p=p, radius_m=radius_m, weights_col=wc, existing=existing,
                   allow_close=allow_close, network=net, demand_col=demand_col, capacity_col=capacity_col,
                   opening_cost_col=opening_cost_col, time_limit=left, feedback=fb, cost_per_tpd_m=cost_per_tpd_m)
    proposal = Scenario(name, outcome.sites, outcome.result.summary())
    scen: dict[str, gpd.GeoDataFrame] = {}
    ex_scen = None
    if existing is not None and len(existing):
        ex_scen = make_scenario(existing_name, _work(existing, "existing"))
        scen[existing_name] = ex_scen.sites
    scen[name] = outcome.sites
    cover_r = radius_m if model in ("lscp", "mclp") else None
    comparison = _compare(outcome.demand, scen, radius_m=cover_r, weights_col=wc, load_col=demand_col,
                          capacity_col=capacity_col, network=net, feedback=fb)
    params = {"p": p, "radius_m": radius_m, "time_limit_s": time_limit, "allow_close": allow_close,
              "weights_col": wc, "demand_col": demand_col, "capacity_col": capacity_col,
              "opening_cost_col": opening_cost_col, "spacing_m": spacing_m, "along_roads": roads is not None,
              "cost_per_tpd_m": cost_per_tpd_m if model == "capacitated" else None}
    return SitingRun(outcome, name, model, params, comparison, existing_name if ex_scen else None, ex_scen, proposal)


# ---------------------------------------------------------------------------------------------
# shared widgets
def _numeric_columns(gdf: gpd.GeoDataFrame) -> list[str]:
    return [str(c) for c in gdf.columns if c != gdf.geometry.name and pd.api.types.is_numeric_dtype(gdf[c])]


def _fmt_metric(key: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    v = float(v)
    if key in ("covered_share", "max_load_ratio"):
        return f"{100 * v:.1f}"
    if key in ("sites", "unreachable_points", "overloaded_sites"):
        return f"{v:,.0f}"
    if key in ("load_tpd", "capacity_tpd"):
        return f"{v:,.1f}"
    return f"{v:,.0f}"


def _labelled_table(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison table with translated metric names and percentages for shares."""
    labels = _metric_labels()
    out = _ordered(table).copy()
    for key in ("covered_share", "max_load_ratio"):
        if key in out.index:
            out.loc[key] = out.loc[key].astype(float) * 100.0
    out.index = [labels.get(str(k), str(k)) for k in out.index]
    out.index.name = _tr("Metric")
    return out


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of :func:`_metric_labels` (coverage first), unknown metrics last."""
    order = [k for k in _metric_labels() if k in table.index]
    return table.loc[order + [k for k in table.index if k not in order]]


def _fill_comparison(widget: QTableWidget, table: pd.DataFrame) -> None:
    labels = _metric_labels()
    table = _ordered(table)
    widget.clear()
    widget.setRowCount(len(table.index))
    widget.setColumnCount(len(table.columns))
    widget.setHorizontalHeaderLabels([str(c) for c in table.columns])
    widget.setVerticalHeaderLabels([labels.get(str(k), str(k)) for k in table.index])
    for r, key in enumerate(table.index):
        for c, col in enumerate(table.columns):
            item = QTableWidgetItem(_fmt_metric(str(key), table.loc[key, col]))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            widget.setItem(r, c, item)
    widget.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    widget.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


def _export_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the (translated) comparison table to ``.xlsx`` (openpyxl) or ``.csv`` (UTF-8 with BOM)."""
    p = Path(path)
    out = _labelled_table(table)
    if p.suffix.lower() == ".xlsx":
        out.to_excel(p, sheet_name="scenarios", engine="openpyxl")
    elif p.suffix.lower() == ".csv":
        out.to_csv(p, encoding="utf-8-sig")
    else:
        raise InputError(f"export file {p.name!r} must end in .xlsx or .csv")
    return p


def _combo_layers(box: QComboBox, layers: list, *, none_text: str | None = None, prefer: tuple[str, ...] = ()) -> None:
    box.clear()
    if none_text is not None:
        box.addItem(none_text, None)
    for lyr in layers:
        box.addItem(lyr.title or lyr.name, lyr)
    for kind in prefer:
        i = next((k for k in range(box.count()) if box.itemData(k) is not None and box.itemData(k).kind == kind), -1)
        if i >= 0:
            box.setCurrentIndex(i)
            return


def _site_symbols(sites: gpd.GeoDataFrame):
    """Star markers: new sites magenta, kept existing sites blue (legend shows only those present)."""
    from gridtool.styles import Category, Categorized, Symbol

    new = Symbol(fill="#e7298a", stroke="#4a0a2b", size=16, stroke_width=1.2, marker="star")
    kept = Symbol(fill="#1f78b4", stroke="#08306b", size=14, stroke_width=1.2, marker="star")
    present = set(sites["source"].astype(str)) if "source" in sites.columns else set()
    cats = [Category(v, sym, label) for v, sym, label in (("candidate", new, _tr("New site")),
                                                           ("added", new, _tr("New site")),
                                                           ("existing", kept, _tr("Existing site")))
            if v in present]
    return Categorized("source", tuple(cats), default=new, default_label="")


def _area_style(areas: gpd.GeoDataFrame):
    from gridtool.styles import SingleSymbol, Symbol, graduated

    base = Symbol(fill="#fdae61", stroke="#b35806", stroke_width=1.0, fill_opacity=0.3)
    if len(areas) > 1 and areas["load"].nunique() > 1:
        return graduated(areas, "load", classes=min(5, int(areas["load"].nunique())), method="quantile",
                         ramp="YlOrRd", base=base)
    return SingleSymbol(base)


def _assignment_layer(demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Demand points with the name of the site serving them (``site_name``; "" when unserved)."""
    pos = {int(j): r for r, j in enumerate(sites["site_index"].to_numpy())}
    names = sites["name"].astype(str).to_numpy() if "name" in sites.columns else \
        np.array([str(j) for j in sites["site_index"]])
    rows = [pos.get(int(j), -1) for j in demand["site"].to_numpy()]
    cols = [c for c in ("community_code", "community_name", "population", "waste_tpd", "distance_m", "covered")
            if c in demand.columns]
    out = demand[cols + [demand.geometry.name]].copy()
    out["site_name"] = [names[r] if r >= 0 else "" for r in rows]
    return out


def _assignment_style(assign: gpd.GeoDataFrame):
    from gridtool.styles import SingleSymbol, Symbol, categorized

    base = Symbol(size=5, stroke="#333333", stroke_width=0.3)
    if 1 < assign["site_name"].nunique() <= 30:
        return categorized(assign, "site_name", base=base)
    return SingleSymbol(base)


# ---------------------------------------------------------------------------------------------
class SitingDialog(QDialog):
    """Choose sites with a siting model; results as layers, tables and a project scenario.

    Parameters
    ----------
    window
        The main window: ``layer_list``, ``add_result_layer(gdf, name, kind, style, title=…)``
        and ``current_project`` (created if None).
    """

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.setObjectName("SitingDialog")
        self.window_ = window
        self.task = None
        self.result: SitingRun | None = None
        self.error: BaseException | None = None
        self.added_layers: list = []
        self._inputs: dict[str, Any] = {}
        self.setWindowTitle(_tr("Optimal siting"))

        # model and parameters
        self.model_box = QComboBox(self)
        for key, text in _model_names().items():
            self.model_box.addItem(text, key)
        self.p_box = QSpinBox(self)
        self.p_box.setRange(0, 10_000)
        self.p_box.setValue(5)
        self.p_box.setSpecialValueText(_tr("free"))
        self.radius_box = QDoubleSpinBox(self)
        self.radius_box.setRange(1.0, 100_000.0)
        self.radius_box.setDecimals(0)
        self.radius_box.setSingleStep(100.0)
        self.radius_box.setValue(1000.0)
        self.radius_box.setSuffix(" m")
        self.time_box = QDoubleSpinBox(self)
        self.time_box.setRange(0.0, 86_400.0)
        self.time_box.setDecimals(0)
        self.time_box.setValue(60.0)
        self.time_box.setSuffix(" s")
        self.time_box.setSpecialValueText(_tr("no limit"))
        self.weights_box = QComboBox(self)
        self.capacity_box = QComboBox(self)
        self.cost_box = QComboBox(self)
        # capacitated: haul cost that turns t/d·m into the opening costs' 万元
        self.haul_box = QDoubleSpinBox(self)
        self.haul_box.setRange(0.0, 100.0)
        self.haul_box.setDecimals(2)
        self.haul_box.setValue(0.0)
        self.haul_box.setSuffix(" " + _tr("yuan/t·km"))
        self.haul_box.setSpecialValueText(_tr("none (t/d·m = cost unit)"))
        self.haul_box.setToolTip(_tr("Capacitated objective = haul cost × Σ waste (t/d) × distance (m) over the "
                                     "horizon, in 万元, plus the opening costs (万元). With no haul cost the "
                                     "t/d·m sum is added to the opening costs as it is."))
        self.years_box = QDoubleSpinBox(self)
        self.years_box.setRange(1.0, 50.0)
        self.years_box.setDecimals(0)
        self.years_box.setValue(10.0)
        self.years_box.setSuffix(" " + _tr("years"))
        self.demand_col_box = QComboBox(self)
        model_form = QFormLayout()
        model_form.addRow(_tr("Model"), self.model_box)
        model_form.addRow(_tr("Number of sites p"), self.p_box)
        model_form.addRow(_tr("Coverage radius"), self.radius_box)
        model_form.addRow(_tr("Time limit"), self.time_box)
        model_form.addRow(_tr("Demand weight"), self.weights_box)
        model_form.addRow(_tr("Demand column (t/d)"), self.demand_col_box)
        model_form.addRow(_tr("Capacity column (t/d)"), self.capacity_box)
        model_form.addRow(_tr("Opening cost column"), self.cost_box)
        model_form.addRow(_tr("Haul cost"), self.haul_box)
        model_form.addRow(_tr("Cost horizon"), self.years_box)
        model_group = QGroupBox(_tr("Model and parameters"), self)
        model_group.setLayout(model_form)

        # data
        self.demand_box = QComboBox(self)
        self.spacing_box = QDoubleSpinBox(self)
        self.spacing_box.setRange(20.0, 5000.0)
        self.spacing_box.setDecimals(0)
        self.spacing_box.setValue(200.0)
        self.spacing_box.setSuffix(" m")
        self.candidates_box = QComboBox(self)
        self.type_box = QComboBox(self)
        self.type_box.setToolTip(_tr("Only candidates of this type (column site_type)"))
        self.existing_box = QComboBox(self)
        self.allow_close_check = QCheckBox(_tr("Allow closing existing facilities"), self)
        self.euclid_radio = QRadioButton(_tr("Straight line"), self)
        self.road_radio = QRadioButton(_tr("Along the roads"), self)
        self.euclid_radio.setChecked(True)
        self.roads_box = QComboBox(self)
        self.name_edit = QLineEdit(self)
        data_form = QFormLayout()
        data_form.addRow(_tr("Demand (points or grids)"), self.demand_box)
        data_form.addRow(_tr("Demand point spacing"), self.spacing_box)
        data_form.addRow(_tr("Candidate sites"), self.candidates_box)
        data_form.addRow(_tr("Candidate type"), self.type_box)
        data_form.addRow(_tr("Existing facilities"), self.existing_box)
        data_form.addRow(self.allow_close_check)
        data_form.addRow(self.euclid_radio)
        data_form.addRow(self.road_radio, self.roads_box)
        data_form.addRow(_tr("Scenario name"), self.name_edit)
        data_group = QGroupBox(_tr("Data"), self)
        data_group.setLayout(data_form)

        left = QWidget(self)
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(model_group)
        left_lay.addWidget(data_group)
        left_lay.addStretch(1)

        # results
        self.status = QLabel(_tr("Choose the inputs and press Run."), self)
        self.status.setWordWrap(True)
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sites_table = QTableWidget(0, 6, self)
        self.sites_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compare_table = QTableWidget(0, 0, self)
        self.compare_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.compare_table, _tr("Scenario comparison"))
        self.tabs.addTab(self.sites_table, _tr("Sites chosen"))
        self.compare_button = QPushButton(_tr("Compare scenarios…"), self)
        self.compare_button.clicked.connect(self.open_compare)
        right = QWidget(self)
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        results_title = QLabel("<b>" + _tr("Results") + "</b>", self)
        right_lay.addWidget(results_title)
        right_lay.addWidget(self.status)
        right_lay.addWidget(self.summary)
        right_lay.addWidget(self.tabs, 1)
        right_lay.addWidget(self.compare_button, 0, Qt.AlignmentFlag.AlignRight)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.run_button = self.buttons.addButton(_tr("Run"), QDialogButtonBox.ButtonRole.ActionRole)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(self.buttons)

        self._fill()
        self.model_box.currentIndexChanged.connect(self._update_enabled)
        self.demand_box.currentIndexChanged.connect(self._fill_demand_columns)
        self.candidates_box.currentIndexChanged.connect(self._fill_site_columns)
        self.existing_box.currentIndexChanged.connect(self._update_enabled)
        self.road_radio.toggled.connect(self._update_enabled)
        self._fill_demand_columns()
        self._fill_site_columns()
        self._update_enabled()
        self.name_edit.setText(self._default_name())
        self.resize(1080, 640)
        split.setSizes([430, 650])

    # -- inputs ------------------------------------------------------------------------------
    def _layers(self, *types: str) -> list:
        return [lyr for lyr in self.window_.layer_list if lyr.geometry_type in types]

    def _fill(self) -> None:
        _combo_layers(self.demand_box, self._layers("point", "polygon"),
                      prefer=("grid_community_village", "demand_points"))
        _combo_layers(self.candidates_box, self._layers("point"), prefer=("candidate_sites",))
        _combo_layers(self.existing_box, self._layers("point"), none_text=_tr("(none)"),
                      prefer=("transfer_stations",))
        _combo_layers(self.roads_box, self._layers("line"), prefer=("roads",))

    def _default_name(self) -> str:
        n = sum(1 for s in _project(self.window_).scenarios if s.get("role") != "existing") + 1
        return _unique_name(self.window_, _tr("Proposal {0}").format(n))

    def _fill_demand_columns(self) -> None:
        lyr = self.demand_box.currentData()
        polys = lyr is not None and lyr.geometry_type == "polygon"
        cols = ["population", "households", "waste_tpd"] if polys else (
            _numeric_columns(lyr.gdf) if lyr is not None else [])
        self.weights_box.clear()
        self.weights_box.addItem(_tr("(equal weights)"), None)
        for c in cols:
            self.weights_box.addItem(c, c)
        i = self.weights_box.findData("population")
        self.weights_box.setCurrentIndex(max(i, 0))
        self.demand_col_box.clear()
        for c in cols:
            self.demand_col_box.addItem(c, c)
        i = self.demand_col_box.findData("waste_tpd")
        self.demand_col_box.setCurrentIndex(max(i, 0))
        self.spacing_box.setEnabled(polys)

    def _fill_site_columns(self) -> None:
        lyr = self.candidates_box.currentData()
        cols = _numeric_columns(lyr.gdf) if lyr is not None else []
        self.type_box.clear()
        self.type_box.addItem(_tr("(all types)"), None)
        if lyr is not None and "site_type" in lyr.gdf.columns:
            for v in sorted({str(v) for v in lyr.gdf["site_type"].dropna()}):
                self.type_box.addItem(v, v)
        self.type_box.setEnabled(self.type_box.count() > 1)
        self.capacity_box.clear()
        self.cost_box.clear()
        self.cost_box.addItem(_tr("(none)"), None)
        for c in cols:
            self.capacity_box.addItem(c, c)
            self.cost_box.addItem(c, c)
        self.capacity_box.setCurrentIndex(max(self.capacity_box.findData("capacity_tpd"), 0))

    def _update_enabled(self) -> None:
        used = MODEL_PARAMS[self.model_box.currentData()]
        self.p_box.setEnabled("p" in used)
        self.radius_box.setEnabled("radius" in used)
        self.weights_box.setEnabled("weights" in used)
        self.capacity_box.setEnabled("capacity" in used)
        self.cost_box.setEnabled("cost" in used)
        self.haul_box.setEnabled("cost" in used)
        self.years_box.setEnabled("cost" in used)
        self.demand_col_box.setEnabled("demand_col" in used)
        self.allow_close_check.setEnabled(self.existing_box.currentData() is not None)
        self.roads_box.setEnabled(self.road_radio.isChecked())

    def set_model(self, model: str) -> None:
        """Select ``model`` (a key of :data:`MODEL_PARAMS`)."""
        i = self.model_box.findData(model)
        if i < 0:
            raise InputError(f"model {model!r} is not one of {', '.join(MODEL_PARAMS)}")
        self.model_box.setCurrentIndex(i)

    # -- run ---------------------------------------------------------------------------------
    def run(self) -> None:
        """Check the inputs and start the siting in the worker (progress dialog with Cancel)."""
        from ui.worker import run_task

        model = self.model_box.currentData()
        dem, cand = self.demand_box.currentData(), self.candidates_box.currentData()
        ex = self.existing_box.currentData()
        if dem is None or cand is None:
            self.status.setText(_tr("Load a demand (or community grid) layer and a candidate-site layer first."))
            return
        p = int(self.p_box.value()) or None
        if model in NEEDS_P and p is None:
            self.status.setText(_tr("This model needs the number of sites p (at least 1)."))
            return
        roads = self.roads_box.currentData() if self.road_radio.isChecked() else None
        if self.road_radio.isChecked() and roads is None:
            self.status.setText(_tr("Load a road layer for distances along the roads."))
            return
        cand_gdf = cand.gdf
        ctype = self.type_box.currentData()
        if ctype is not None:
            cand_gdf = cand_gdf[cand_gdf["site_type"].astype(str) == ctype]
            if len(cand_gdf) == 0:
                self.status.setText(_tr("No candidate of type {0}.").format(ctype))
                return
        name = self.name_edit.text().strip() or self._default_name()
        names = {s.get("name") for s in _project(self.window_).scenarios}
        if name in names:
            name = _unique_name(self.window_, name)
        used = MODEL_PARAMS[model]
        self.error = None
        self.status.setText(_tr("Running…"))
        self.run_button.setEnabled(False)
        time_limit = float(self.time_box.value()) or None
        self._inputs = {"demand_layer": dem.name, "candidates_layer": cand.name, "candidate_type": ctype,
                        "existing_layer": ex.name if ex is not None else None,
                        "roads_layer": roads.name if roads is not None else None}
        self.task = run_task(
            self, _tr("Optimal siting"), compute_siting, dem.gdf.copy(), cand_gdf.copy(), model=model,
            existing=None if ex is None else ex.gdf.copy(),
            allow_close=bool(ex is not None and self.allow_close_check.isChecked()),
            roads=None if roads is None else roads.gdf.copy(), spacing_m=float(self.spacing_box.value()),
            p=p if "p" in used else None,
            radius_m=float(self.radius_box.value()) if "radius" in used else None,
            weights_col=self.weights_box.currentData(),
            demand_col=self.demand_col_box.currentData() or "waste_tpd",
            capacity_col=self.capacity_box.currentData() or "capacity_tpd",
            opening_cost_col=self.cost_box.currentData() if "cost" in used else None,
            time_limit=time_limit, name=name, cost_per_tpd_m=self.cost_per_tpd_m(),
            existing_name=_tr("Existing {0}").format(ex.title or ex.name) if ex is not None else "",
            on_done=self._done, on_cancel=self._cancelled, on_error=self._failed,
        )

    def cost_per_tpd_m(self) -> float:
        """The capacitated model's cost of one t/d·m from the haul cost and horizon (1.0 without)."""
        from gridtool.siting import transport_rate

        haul = float(self.haul_box.value())
        return transport_rate(haul, float(self.years_box.value())) if haul > 0 else 1.0

    def _cancelled(self) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(_tr("Cancelled."))

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        self.run_button.setEnabled(True)
        text = str(exc) or exc.__class__.__name__
        self.status.setText(_tr("The siting failed: {0}").format(text))
        QMessageBox.warning(self, _tr("Optimal siting"), text)

    def _done(self, run: SitingRun) -> None:
        self.result = run
        self.run_button.setEnabled(True)
        self.status.setText(_tr("Done."))
        self._add_layers(run)
        self._show_result(run)
        self._keep_scenarios(run)
        self.name_edit.setText(self._default_name())

    def _add_layers(self, run: SitingRun) -> None:
        w = self.window_
        out = run.outcome
        assign = _assignment_layer(out.demand, out.sites)
        demand_layer = w.add_result_layer(assign, "siting_assignment", "other", _assignment_style(assign),
                                          title=_tr("Demand assignment {0}").format(run.name))
        if demand_layer is not None:
            demand_layer.visible = False  # switched on from the layer panel when wanted
        self.added_layers = [
            demand_layer,
            w.add_result_layer(out.service_areas, "siting_service_areas", "other", _area_style(out.service_areas),
                               title=_tr("Service areas {0}").format(run.name)),
            w.add_result_layer(out.sites, "siting_sites", "other", _site_symbols(out.sites),
                               title=_tr("Siting result {0}").format(run.name)),
        ]

    def _show_result(self, run: SitingRun) -> None:
        res = run.outcome.result
        if res.optimal:
            proof = _tr("proven optimal")
        elif math.isfinite(res.gap):
            proof = _tr("not proven, gap {0} %").format(f"{100 * res.gap:.3f}")
        else:
            proof = _tr("not proven, gap unknown")
        lines = [
            _tr("Model: {0}").format(_model_names().get(run.model, run.model)),
            _tr("Objective ({0}): {1}").format(_objective_names().get(run.model, ""),
                                                f"{res.objective:,.0f}" if abs(res.objective) >= 1000
                                                else f"{res.objective:,.6g}"),
            *self._objective_parts(run),
            _tr("Proof: {0}").format(proof),
            _tr("Time: {0} s").format(f"{res.seconds:.2f}"),
            _tr("Sites chosen: {0}").format(len(res.selected)),
        ]
        if run.existing is not None:
            src = run.outcome.sites["source"].astype(str)
            kept = int((src == "existing").sum())
            lines.append(_tr("New sites: {0}; existing kept: {1}; closed: {2}").format(
                int((src == "candidate").sum()), kept, len(run.existing.sites) - kept))
        self.summary.setText("\n".join(lines))
        self._fill_sites(run)
        _fill_comparison(self.compare_table, run.comparison.table)
        self.tabs.setCurrentWidget(self.compare_table)

    @staticmethod
    def _objective_parts(run: SitingRun) -> list[str]:
        """Capacitated: transport and opening costs apart, with the rate that joins them."""
        info = run.outcome.result.info
        if run.model != "capacitated" or "transport_tpd_m" not in info:
            return []
        rate = info["cost_per_tpd_m"]
        return [
            _tr("  transport: {0} t/d·m × {1} = {2}").format(f"{info['transport_tpd_m']:,.0f}", f"{rate:.6g}",
                                                         f"{info['transport_cost']:,.1f}"),
            _tr("  opening costs: {0}").format(f"{info['opening_cost']:,.1f}"),
        ]

    def _fill_sites(self, run: SitingRun) -> None:
        sites = run.outcome.sites
        ev = run.comparison.sites.get(run.name)
        if "load_tpd" in sites.columns:  # capacitated: the model's own assignment
            load = sites["load_tpd"].to_numpy(dtype=float)
        elif ev is not None:
            load = ev["load_tpd"].to_numpy(dtype=float)
        else:
            load = np.full(len(sites), np.nan)
        cap = (pd.to_numeric(sites[run.params["capacity_col"]], errors="coerce").to_numpy(dtype=float)
               if run.params.get("capacity_col") in sites.columns else np.full(len(sites), np.nan))
        headers = [_tr("Name"), _tr("Source"), _tr("Demand points"), _tr("Weight served"), _tr("Load (t/d)"),
                   _tr("Capacity (t/d)"), _tr("Load / capacity %")]
        self.sites_table.clear()
        self.sites_table.setColumnCount(len(headers))
        self.sites_table.setHorizontalHeaderLabels(headers)
        self.sites_table.setRowCount(len(sites))
        src_text = {"candidate": _tr("New site"), "existing": _tr("Existing site")}
        for r in range(len(sites)):
            rec = sites.iloc[r]
            label = next((str(rec[c]) for c in ("name", "cand_id", "fac_id") if c in sites.columns
                          and isinstance(rec[c], str) and rec[c]), str(int(rec["site_index"])))
            ratio = load[r] / cap[r] if cap[r] and cap[r] > 0 and math.isfinite(cap[r]) else math.nan
            vals = [label, src_text.get(str(rec["source"]), str(rec["source"])), f"{int(rec['n_demand']):,}",
                    f"{float(rec['load']):,.0f}", "—" if not math.isfinite(load[r]) else f"{load[r]:,.1f}",
                    "—" if not math.isfinite(cap[r]) else f"{cap[r]:,.1f}",
                    "—" if not math.isfinite(ratio) else f"{100 * ratio:.0f}"]
            for c, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.sites_table.setItem(r, c, item)
        self.sites_table.resizeColumnsToContents()

    def _keep_scenarios(self, run: SitingRun) -> None:
        res = run.outcome.result
        table = run.comparison.table
        inputs = dict(self._inputs)
        if run.existing is not None and run.existing_name:
            _store_scenario(self.window_, scenario_to_dict(
                run.existing, role="existing", layer=inputs.get("existing_layer"),
                demand_layer=inputs.get("demand_layer"), spacing_m=run.params["spacing_m"],
                metrics={str(k): v for k, v in table[run.existing_name].items()}))
        _store_scenario(self.window_, scenario_to_dict(
            run.proposal, role="proposal", model=run.model, params=run.params, **inputs,
            spacing_m=run.params["spacing_m"],
            result={"objective": res.objective, "optimal": bool(res.optimal), "gap": res.gap,
                    "seconds": res.seconds, "status": res.status, "sites": int(len(res.selected))},
            metrics={str(k): v for k, v in table[run.name].items()}))

    def open_compare(self) -> "ScenarioDialog":
        """Open the scenario comparison of the project (non-modal); returns the dialog."""
        dlg = ScenarioDialog(self.window_, self)
        dlg.show()
        return dlg


# ---------------------------------------------------------------------------------------------
class ScenarioDialog(QDialog):
    """The project's scenarios side by side: table, map layers, export.

    Parameters
    ----------
    window
        The main window (``layer_list``, ``add_result_layer``, ``current_project``).
    """

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.setObjectName("ScenarioDialog")
        self.window_ = window
        self.task = None
        self.result: ComparisonRun | None = None
        self.error: BaseException | None = None
        self._show_after = False
        self.setWindowTitle(_tr("Compare scenarios"))
        self.list = QListWidget(self)
        self.list.setMinimumWidth(220)
        self.demand_box = QComboBox(self)
        self.spacing_box = QDoubleSpinBox(self)
        self.spacing_box.setRange(20.0, 5000.0)
        self.spacing_box.setDecimals(0)
        self.spacing_box.setSuffix(" m")
        self.spacing_box.setValue(200.0)
        self.radius_box = QDoubleSpinBox(self)
        self.radius_box.setRange(0.0, 100_000.0)
        self.radius_box.setDecimals(0)
        self.radius_box.setSingleStep(100.0)
        self.radius_box.setSuffix(" m")
        self.radius_box.setSpecialValueText(_tr("no coverage"))
        self.radius_box.setValue(1000.0)
        self.euclid_radio = QRadioButton(_tr("Straight line"), self)
        self.road_radio = QRadioButton(_tr("Along the roads"), self)
        self.euclid_radio.setChecked(True)
        self.roads_box = QComboBox(self)
        self.roads_box.setEnabled(False)
        self.road_radio.toggled.connect(self.roads_box.setEnabled)
        form = QFormLayout()
        form.addRow(_tr("Demand (points or grids)"), self.demand_box)
        form.addRow(_tr("Demand point spacing"), self.spacing_box)
        form.addRow(_tr("Coverage radius"), self.radius_box)
        form.addRow(self.euclid_radio)
        form.addRow(self.road_radio, self.roads_box)
        left = QWidget(self)
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(QLabel(_tr("Scenarios of the project"), self))
        left_lay.addWidget(self.list, 1)
        self.remove_button = QPushButton(_tr("Remove"), self)
        self.remove_button.clicked.connect(self.remove_checked)
        left_lay.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)
        left_lay.addLayout(form)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 0, self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        right = QWidget(self)
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(self.status)
        right_lay.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.compare_button = self.buttons.addButton(_tr("Compare"), QDialogButtonBox.ButtonRole.ActionRole)
        self.map_button = self.buttons.addButton(_tr("Show on map"), QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button = self.buttons.addButton(_tr("Export table…"), QDialogButtonBox.ButtonRole.ActionRole)
        self.compare_button.clicked.connect(self.compare)
        self.map_button.clicked.connect(self.show_on_map)
        self.export_button.clicked.connect(self.export_dialog)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(split, 1)
        lay.addWidget(self.buttons)
        _combo_layers(self.demand_box, [lyr for lyr in window.layer_list if lyr.geometry_type in ("point", "polygon")],
                      prefer=("grid_community_village", "demand_points"))
        _combo_layers(self.roads_box, [lyr for lyr in window.layer_list if lyr.geometry_type == "line"],
                      prefer=("roads",))
        self.refresh()
        self.export_button.setEnabled(False)
        self.resize(980, 560)
        split.setSizes([330, 650])

    # -- scenarios -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the project's scenarios (all checked); defaults from the newest one."""
        self.list.clear()
        scen = _project(self.window_).scenarios
        names = _model_names()
        for d in scen:
            extra = names.get(d.get("model", ""), _tr("existing network") if d.get("role") == "existing" else "")
            n = len(d.get("sites", {}).get("features", []))
            item = QListWidgetItem(_tr("{0} — {1} sites").format(d.get("name", "?"), n)
                                   + (f" ({extra})" if extra else ""))
            item.setData(Qt.ItemDataRole.UserRole, d.get("name"))
            if d.get("note"):
                item.setToolTip(str(d["note"]))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        if scen:
            last = scen[-1]
            for d in reversed(scen):
                r = (d.get("params") or {}).get("radius_m")
                if r:
                    self.radius_box.setValue(float(r))
                    break
            if last.get("spacing_m"):
                self.spacing_box.setValue(float(last["spacing_m"]))
            i = next((k for k in range(self.demand_box.count())
                      if self.demand_box.itemData(k).name == last.get("demand_layer")), -1)
            if i >= 0:
                self.demand_box.setCurrentIndex(i)
            self.status.setText(_tr("Check the scenarios to compare and press Compare."))
        else:
            self.status.setText(_tr("The project has no scenarios yet; run Analysis → Optimal siting… first."))
        self.compare_button.setEnabled(bool(scen))
        self.map_button.setEnabled(bool(scen))

    def set_checked(self, names: list[str]) -> None:
        """Check exactly the scenarios called ``names``."""
        for i in range(self.list.count()):
            it = self.list.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.data(Qt.ItemDataRole.UserRole) in names
                             else Qt.CheckState.Unchecked)

    def checked_names(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def remove_checked(self) -> None:
        """Remove the checked scenarios from the project (after asking)."""
        names = self.checked_names()
        if not names:
            return
        ok = QMessageBox.question(self, _tr("Remove scenarios"),
                                  _tr("Remove {0} scenarios from the project?").format(len(names)))
        if ok != QMessageBox.StandardButton.Yes:
            return
        proj = _project(self.window_)
        proj.scenarios[:] = [d for d in proj.scenarios if d.get("name") not in names]
        self.refresh()

    # -- compare -------------------------------------------------------------------------------
    def compare(self, *, show_on_map: bool = False) -> None:
        """Measure the checked scenarios in the worker and fill the table."""
        from ui.worker import run_task

        names = self.checked_names()
        dem = self.demand_box.currentData()
        if not names:
            self.status.setText(_tr("Check at least one scenario."))
            return
        if dem is None:
            self.status.setText(_tr("Load a demand (or community grid) layer first."))
            return
        roads = self.roads_box.currentData() if self.road_radio.isChecked() else None
        if self.road_radio.isChecked() and roads is None:
            self.status.setText(_tr("Load a road layer for distances along the roads."))
            return
        by_name = {d.get("name"): d for d in _project(self.window_).scenarios}
        try:
            scen = {n: scenario_from_dict(by_name[n]).sites for n in names}
        except ReadError as exc:
            QMessageBox.warning(self, _tr("Compare scenarios"), str(exc))
            return
        empty = [n for n, s in scen.items() if len(s) == 0]
        if empty:
            self.status.setText(_tr("Scenario {0} has no sites.").format(empty[0]))
            return
        self._show_after = show_on_map
        self.error = None
        self.compare_button.setEnabled(False)
        self.map_button.setEnabled(False)
        self.status.setText(_tr("Running…"))
        r = float(self.radius_box.value()) or None
        self.task = run_task(self, _tr("Compare scenarios"), compute_comparison, dem.gdf.copy(), scen, radius_m=r,
                             roads=None if roads is None else roads.gdf.copy(),
                             spacing_m=float(self.spacing_box.value()), on_done=self._done,
                             on_cancel=self._cancelled, on_error=self._failed)

    def _enable(self) -> None:
        self.compare_button.setEnabled(True)
        self.map_button.setEnabled(True)

    def _cancelled(self) -> None:
        self._enable()
        self.status.setText(_tr("Cancelled."))

    def _failed(self, exc: BaseException) -> None:
        self._enable()
        self.error = exc
        self.status.setText(str(exc))
        QMessageBox.warning(self, _tr("Compare scenarios"), str(exc) or exc.__class__.__name__)

    def _done(self, run: ComparisonRun) -> None:
        self.result = run
        self._enable()
        self.export_button.setEnabled(True)
        _fill_comparison(self.table, run.table)
        self.status.setText(_tr("{0} scenarios compared on {1} demand points.").format(
            len(run.table.columns), len(run.demand)))
        if self._show_after:
            self._show_after = False
            self._add_layers(run)

    def show_on_map(self) -> None:
        """Add the checked scenarios' sites and demand links to the map (compares first if needed)."""
        if self.result is None or list(self.result.table.columns) != self.checked_names():
            self.compare(show_on_map=True)
            return
        self._add_layers(self.result)

    def _add_layers(self, run: ComparisonRun) -> None:
        from gridtool.styles import PALETTE, SingleSymbol, Symbol

        for i, (name, layers) in enumerate(run.layers.items()):
            colour = PALETTE[(i + 1) % len(PALETTE)]
            # links first so that the sites are drawn on top of them
            for key in sorted(layers, key=lambda k: not k.endswith("_links")):
                gdf = layers[key]
                if key.endswith("_links"):
                    style = SingleSymbol(Symbol(fill=colour, stroke=colour, stroke_width=0.5))
                    title = _tr("Scenario {0}: demand links").format(name)
                else:
                    style = SingleSymbol(Symbol(fill=colour, stroke="#1a1a1a", size=15, stroke_width=1.2,
                                                marker="star"))
                    title = _tr("Scenario {0}: sites").format(name)
                lyr = self.window_.add_result_layer(gdf, f"scenario_{key}", "other", style, title=title)
                if lyr is not None and key.endswith("_links"):
                    lyr.opacity = 0.5

    # -- export ----------------------------------------------------------------------------------
    def export_table(self, path: str | Path) -> Path:
        """Write the current comparison table to ``.xlsx`` or ``.csv``."""
        if self.result is None:
            raise InputError("nothing to export yet; press Compare first")
        return _export_table(self.result.table, path)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, _tr("Export table"), _tr("scenarios") + ".xlsx",
                                              "Excel (*.xlsx);;CSV (*.csv)")
        if not path:
            return
        if Path(path).suffix.lower() not in (".xlsx", ".csv"):
            path += ".xlsx"
        try:
            out = self.export_table(path)
        except (InputError, OSError, ValueError) as exc:
            QMessageBox.warning(self, _tr("Export table"), str(exc))
            return
        self.status.setText(_tr("Saved {0}").format(str(out)))


# ---------------------------------------------------------------------------------------------
class _Retitle(QObject):
    """Re-sets the actions' texts when the language changes (an event filter on the window)."""

    def __init__(self, window: Any, actions: dict[str, Any]) -> None:
        super().__init__(window)
        self.actions = actions
        window.installEventFilter(self)

    def retranslate(self) -> None:
        self.actions["siting"].setText(_tr("Optimal siting…"))
        self.actions["compare"].setText(_tr("Compare scenarios…"))

    def eventFilter(self, obj: Any, ev: QEvent) -> bool:  # noqa: N802 - Qt virtual
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False


def add_siting_actions(window: Any) -> None:
    """Register "Optimal siting…" and "Compare scenarios…" in the window's Analysis menu."""
    from PyQt6.QtGui import QAction

    act = QAction(window)
    act.setObjectName("action_siting")
    act.triggered.connect(lambda checked=False: SitingDialog(window).exec())
    window.add_analysis_action(act)
    cmp_act = QAction(window)
    cmp_act.setObjectName("action_compare_scenarios")
    cmp_act.triggered.connect(lambda checked=False: ScenarioDialog(window).exec())
    window.add_analysis_action(cmp_act)
    _Retitle(window, {"siting": act, "compare": cmp_act}).retranslate()

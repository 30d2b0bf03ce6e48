"""The coverage dialog: inputs from the window's layers, worker run, result layers, cancel."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from PyQt6.QtWidgets import QWidget

from layers.layer import Layer
from ui.coverage_dialog import CoverageDialog, compute_coverage


class FakeWindow(QWidget):
    def __init__(self, layers):
        super().__init__()
        self.layer_list = layers
        self.added = []

    def add_result_layer(self, gdf, name, kind="other", style=None, group="analysis", *, title="", labels=None):
        self.added.append((name, gdf, style))


def make_layers():
    comms = gpd.GeoDataFrame({"code": ["C1", "C2"], "name": ["东", "西"], "population": [400, 400], "households": [160, 160]},
                             geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200)], crs=4549)
    cps = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(100, 100)], crs=4549)
    roads = gpd.GeoDataFrame({"name": ["r"]}, geometry=[shapely.LineString([(0, 100), (400, 100)])], crs=4549)
    return [Layer(comms, name="grid_community_village", kind="grid_community_village"),
            Layer(cps, name="collection_points", kind="collection_points"),
            Layer(roads, name="roads", kind="roads")]


def test_dialog_runs_and_adds_result_layers(qtbot):
    win = FakeWindow(make_layers())
    qtbot.addWidget(win)
    dlg = CoverageDialog(win)
    qtbot.addWidget(dlg)
    assert dlg.facilities_box.currentText() and dlg.radius_box.value() == 70.0  # the collection-point standard
    assert dlg.demand_box.currentData().kind == "grid_community_village"
    dlg.radius_box.setValue(150.0)
    dlg.road_radio.setChecked(True)
    dlg.run()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=20_000)
    names = [n for n, _, _ in win.added]
    assert names == ["coverage_by_grid", "coverage_uncovered", "coverage_service_areas"]
    by_grid = win.added[0][1]
    # C1 lies around the point; road distance = access + along the road
    assert by_grid.loc[by_grid["code"] == "C1", "coverage_pct"].iloc[0] > by_grid.loc[by_grid["code"] == "C2", "coverage_pct"].iloc[0]
    assert dlg.table.rowCount() == 2 and dlg.table.item(0, 0).text() == "东"
    assert dlg.result.method == "network"


def test_cancel_reports_cancelled(qtbot, monkeypatch):
    import ui.coverage_dialog as cd

    def slow(*args, feedback=None, **kwargs):
        while True:
            feedback.check()

    monkeypatch.setattr(cd, "compute_coverage", slow)
    win = FakeWindow(make_layers())
    qtbot.addWidget(win)
    dlg = CoverageDialog(win)
    qtbot.addWidget(dlg)
    dlg.run()
    dlg.task.cancel()
    qtbot.waitUntil(lambda: dlg.run_button.isEnabled(), timeout=10_000)
    assert win.added == []


def test_compute_coverage_from_grids_matches_engine():
    layers = make_layers()
    res = compute_coverage(layers[0].gdf, layers[1].gdf, radius_m=100.0)
    assert res.summary["population"] == 800.0
    d = np.hypot(*(shapely.get_coordinates(res.demand.geometry.values) - [100, 100]).T)
    assert res.summary["covered_points"] == int((d <= 100).sum())


def test_registered_in_the_main_window(qtbot):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    names = [a.objectName() for a in win.analysis_menu.actions()]
    assert "action_coverage" in names

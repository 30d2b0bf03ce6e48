"""Attribute table: reads the GeoDataFrame in place, filters, sorts, and shares the map selection."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import geopandas as gpd
import numpy as np
import pytest
from PyQt6.QtCore import QItemSelection, QItemSelectionModel, Qt
from shapely.geometry import Point

from layers.layer import Layer
from ui.attribute_table import (
    AttributeTableDock,
    AttributeTableWidget,
    FeatureProxyModel,
    FeatureTableModel,
    FilterError,
    filter_mask,
)


def _grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["A", "B", "C", "D", "E"],
            "name": ["西林街道", "荷花池街道", "南大街街道", "五星街道", "北港街道"],
            "population": [5200, 3100, None, 8000, 5000],
        },
        geometry=[Point(0, 0), Point(100, 0), Point(200, 0), Point(300, 300), Point(400, 0)],
        crs=4549,
    )


def _layer() -> Layer:
    return Layer(_grids(), name="grid_street_town", kind="grid_street_town")


def test_filter_expressions_and_text():
    df = _grids()
    assert filter_mask(df, "") is None
    assert filter_mask(df, "population > 5000").tolist() == [True, False, False, True, False]
    assert filter_mask(df, "人口 >= 5000", kind="grid_street_town").tolist() == [True, False, False, True, True]
    assert filter_mask(df, "population < 4000 or code == E").tolist() == [False, True, False, False, True]
    assert filter_mask(df, "population > 4000 and name ~ 五星").tolist() == [False, False, False, True, False]
    assert filter_mask(df, '名称 包含 "荷花"', kind="grid_street_town").tolist() == [False, True, False, False, False]
    assert filter_mask(df, "南大街").tolist() == [False, False, True, False, False]  # plain text
    with pytest.raises(FilterError, match="'popul' is not a column.*population"):
        filter_mask(df, "popul > 5")
    with pytest.raises(FilterError, match="not a number"):
        filter_mask(df, "population > many")
    with pytest.raises(FilterError, match="ends with"):
        filter_mask(df, "population > 1 and")


def test_model_reads_gdf_without_copy_and_chinese_headers(qapp):
    layer = _layer()
    model = FeatureTableModel(layer)
    assert model.rowCount() == 5 and model.columnCount() == 3  # geometry is not a column
    arr = model.column_array(2)
    assert np.shares_memory(arr, layer.gdf["population"].to_numpy())
    assert model.data(model.index(0, 1)) == "西林街道"
    assert model.data(model.index(2, 2)) == ""  # missing value
    assert model.data(model.index(3, 2)) == "8000"
    # header: Chinese title from gridtool.kinds when the UI is Chinese, the column name otherwise
    from ui import i18n

    i18n.set_language("zh_CN")
    assert model.headerData(2, Qt.Orientation.Horizontal) == "人口"
    i18n.set_language("en")
    assert model.headerData(2, Qt.Orientation.Horizontal) == "population"
    i18n.set_language("zh_CN")


def test_proxy_sorts_and_filters_vectorised(qapp):
    model = FeatureTableModel(_layer())
    proxy = FeatureProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(2, Qt.SortOrder.DescendingOrder)
    shown = [proxy.data(proxy.index(r, 2)) for r in range(proxy.rowCount())]
    assert shown == ["8000", "5200", "5000", "3100", ""]  # missing last
    proxy.set_mask(np.array([True, True, False, True, False]))
    assert [proxy.data(proxy.index(r, 0)) for r in range(proxy.rowCount())] == ["D", "A", "B"]
    assert proxy.mapToSource(proxy.index(0, 0)).row() == 3
    assert not proxy.mapFromSource(model.index(2, 0)).isValid()  # filtered out
    assert proxy.proxy_rows_of(np.array([0, 2, 3])).tolist() == [1, 0]


def test_selection_is_linked_both_ways(qtbot):
    layer = _layer()
    w = AttributeTableWidget(layer)
    qtbot.addWidget(w)
    # map → table
    layer.select([1, 3])
    assert w.selected_source_rows().tolist() == [1, 3]
    # table → map (sorted by population descending: proxy row 0 is D = source 3)
    w.view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    assert w.selected_source_rows().tolist() == [1, 3]  # sorting keeps the selection
    w.view.selectionModel().select(
        QItemSelection(w.proxy.index(0, 0), w.proxy.index(1, 2)),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert layer.selected.tolist() == [0, 3]  # D (8000) and A (5200)
    # a filter hides rows but does not drop their selection
    w.filter_edit.setText("code == A")
    w.apply_filter()
    assert w.proxy.rowCount() == 1 and layer.selected.tolist() == [0, 3]
    # zoom to selection reports the extent of the selected features
    with qtbot.waitSignal(w.zoom_requested) as blocker:
        w.zoom_button.click()
    assert blocker.args[0] == (0.0, 0.0, 300.0, 300.0)
    w.clear_button.click()
    assert layer.selected.tolist() == [] and w.selected_source_rows().tolist() == []


def test_bad_filter_shows_message_and_keeps_all_rows(qtbot):
    w = AttributeTableWidget(_layer())
    qtbot.addWidget(w)
    w.show()
    w.filter_edit.setText("nosuch > 3")
    w.apply_filter()
    assert w.error_label.isVisible() and "nosuch" in w.error_label.text()
    assert w.proxy.rowCount() == 5


def test_dock_title_switches_language(qtbot):
    from ui import i18n

    i18n.set_language("zh_CN")
    dock = AttributeTableDock(_layer())
    qtbot.addWidget(dock)
    assert dock.windowTitle() == "属性表 — 街道/镇网格"
    assert dock.table.zoom_button.text() == "缩放至选中要素"
    i18n.set_language("en")
    qtbot.waitUntil(lambda: dock.table.zoom_button.text() == "Zoom to selection", timeout=2000)
    assert dock.windowTitle() == "Attribute table — 街道/镇网格"
    i18n.set_language("zh_CN")


def test_100k_rows_open_sort_filter_select_fast(qtbot):
    n = 100_000
    rng = np.random.default_rng(1)
    gdf = gpd.GeoDataFrame(
        {
            "finding_id": [f"F{i:06d}" for i in range(n)],
            "status": rng.choice(["registered", "closed", "dispatched"], n),
            "population": rng.integers(0, 10000, n),
        },
        geometry=gpd.points_from_xy(rng.uniform(0, 1e4, n), rng.uniform(0, 1e4, n)),
        crs=4549,
    )
    layer = Layer(gdf, name="findings", kind="findings")
    t0 = time.perf_counter()
    w = AttributeTableWidget(layer)
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    w.view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    w.filter_edit.setText("population > 5000 and status == closed")
    w.apply_filter()
    layer.select(np.arange(0, n, 7))
    busy = time.perf_counter() - t0
    expected = int(((gdf["population"] > 5000) & (gdf["status"] == "closed")).sum())
    assert w.proxy.rowCount() == expected
    vals = [int(w.proxy.data(w.proxy.index(r, 2))) for r in range(0, expected, 997)]
    assert vals == sorted(vals)
    print(f"100k rows: open {opened:.2f} s, sort+filter+select {busy:.2f} s")  # measured, not asserted

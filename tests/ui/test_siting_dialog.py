"""The siting dialog and the scenario comparison, driven like a user on the sample district."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from PyQt6.QtWidgets import QMessageBox

from gridtool.demand import demand_from_grids
from gridtool.project import load_project
from gridtool.scenarios import compare_scenarios, make_scenario
from gridtool.siting import site
from ui.siting_dialog import ScenarioDialog, SitingDialog, scenario_from_dict

STREETS = ("320404001000", "320404002000")  # 五星街道, 永红街道: 43 communities, 19 candidates, 2 stations


@pytest.fixture(autouse=True)
def shown(monkeypatch):
    """Message boxes are recorded instead of blocking the test."""
    msgs: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: msgs.append((title, text)))
    return msgs


@pytest.fixture
def subset(sample_layer):
    comm = sample_layer("grid_community_village")
    cand = sample_layer("candidate_sites")
    ts = sample_layer("transfer_stations")
    return {
        "grid_community_village": comm[comm["parent_code"].isin(STREETS)].reset_index(drop=True),
        "candidate_sites": cand[cand["street_code"].isin(STREETS)].reset_index(drop=True),
        "transfer_stations": ts[ts["street_code"].isin(STREETS)].reset_index(drop=True),
    }


def make_window(qtbot, layers: dict):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    for name, gdf in layers.items():
        win.add_result_layer(gdf, name, name, group="data")
    return win


def run_dialog(qtbot, dlg, timeout=20_000):
    dlg.run()
    qtbot.waitUntil(lambda: dlg.task is not None and dlg.task.done, timeout=timeout)
    qtbot.waitUntil(lambda: dlg.run_button.isEnabled(), timeout=2_000)


def test_lscp_run_matches_the_engine_and_survives_save_and_reopen(qtbot, app_env, subset, tmp_path, shown):
    win = make_window(qtbot, subset)
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    # defaults picked from the layer kinds
    assert dlg.demand_box.currentData().kind == "grid_community_village"
    assert dlg.candidates_box.currentData().kind == "candidate_sites"
    assert dlg.existing_box.currentData().kind == "transfer_stations"
    assert dlg.model_box.currentText() == "集合覆盖 LSCP"
    assert dlg.name_edit.text() == "方案 1"
    dlg.set_model("lscp")
    dlg.radius_box.setValue(1200.0)
    dlg.spacing_box.setValue(200.0)
    run_dialog(qtbot, dlg)
    assert dlg.error is None and shown == [], shown

    # the engine with the same inputs
    demand = demand_from_grids(subset["grid_community_village"], spacing_m=200.0)
    direct = site(demand, subset["candidate_sites"], model="lscp", radius_m=1200.0,
                  existing=subset["transfer_stations"])
    res = dlg.result.outcome.result
    assert res.optimal and sorted(res.selected.tolist()) == sorted(direct.result.selected.tolist())
    n_sites = len(direct.result.selected)

    # result layers: sites (stars) and service areas, titled in Chinese
    titles = {lyr.title: lyr for lyr in win.layer_list}
    sites_layer = titles["选址结果 方案 1"]
    areas_layer = titles["服务范围 方案 1"]
    assert len(sites_layer.gdf) == n_sites and len(areas_layer.gdf) == n_sites
    assert {c.symbol.marker for c in sites_layer.style.categories} == {"star"}
    assert set(sites_layer.gdf["source"]) == {"candidate", "existing"}
    assign = titles["需求分配 方案 1"]
    assert not assign.visible and len(assign.gdf) == len(direct.demand)
    assert set(assign.gdf["site_name"]) == set(sites_layer.gdf["name"])  # every site serves someone
    assert (sites_layer.gdf["source"] == "existing").sum() == 2  # existing stations stay open
    # results panel
    assert f"选中站点：{n_sites} 个" in dlg.summary.text() and "已证明最优" in dlg.summary.text()
    assert f"新建：{n_sites - 2} 个；保留现有：2 个；关闭：0 个" in dlg.summary.text()
    assert dlg.sites_table.rowCount() == n_sites
    table = dlg.compare_table
    heads = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert heads == ["现状 transfer_stations", "方案 1"]
    rows = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    expected = compare_scenarios(direct.demand, {"a": make_scenario("a", subset["transfer_stations"]).sites,
                                                 "b": direct.sites}, radius_m=1200.0)
    r_cov = rows.index("覆盖人口")
    assert table.item(r_cov, 0).text() == f"{expected.loc['covered_population', 'a']:,.0f}"
    assert table.item(r_cov, 1).text() == f"{expected.loc['covered_population', 'b']:,.0f}"
    assert table.item(rows.index("站点数"), 1).text() == str(n_sites)
    assert expected.loc["covered_share", "b"] == pytest.approx(1.0)  # LSCP covers everyone

    # two scenarios kept in the project, saved and reopened
    scen = win.current_project.scenarios
    assert [s["name"] for s in scen] == ["现状 transfer_stations", "方案 1"]
    assert scen[1]["model"] == "lscp" and scen[1]["params"]["radius_m"] == 1200.0
    assert scen[1]["result"]["sites"] == n_sites and scen[1]["result"]["optimal"] is True
    assert dlg.name_edit.text() == "方案 2"
    path = win.save_to(tmp_path / "siting.gridtool.json")
    assert path is not None
    reopened = load_project(path)
    assert [s["name"] for s in reopened.scenarios] == ["现状 transfer_stations", "方案 1"]
    again = scenario_from_dict(reopened.scenarios[1])
    assert len(again.sites) == n_sites and again.sites.crs.to_epsg() == 4549
    got = np.sort(np.column_stack([again.sites.geometry.x, again.sites.geometry.y]), axis=0)
    want = np.sort(np.column_stack([direct.sites.geometry.x, direct.sites.geometry.y]), axis=0)
    assert np.allclose(got, want)

    # the compare dialog on the reopened project: rows, show on map, export
    win.load_project(reopened)
    cmp = ScenarioDialog(win)
    qtbot.addWidget(cmp)
    assert cmp.list.count() == 2 and cmp.checked_names() == ["现状 transfer_stations", "方案 1"]
    assert cmp.radius_box.value() == 1200.0 and cmp.spacing_box.value() == 200.0
    assert cmp.demand_box.currentData().name == "grid_community_village"
    n_before = len(win.layer_list)
    cmp.show_on_map()  # compares first, then adds the layers
    qtbot.waitUntil(lambda: cmp.result is not None and cmp.compare_button.isEnabled(), timeout=20_000)
    t = cmp.table
    assert t.columnCount() == 2 and t.rowCount() == len(expected.index)
    cmp_rows = [t.verticalHeaderItem(r).text() for r in range(t.rowCount())]
    assert t.item(cmp_rows.index("平均距离(m)"), 0).text() == f"{expected.loc['mean_distance_m', 'a']:,.0f}"
    assert t.item(cmp_rows.index("覆盖率 %"), 1).text() == "100.0"
    new_titles = [lyr.title for lyr in list(win.layer_list)[n_before:]]
    assert new_titles[:2] == ["现状 transfer_stations：需求分配连线", "现状 transfer_stations：站点"]
    assert "方案 1：站点" in new_titles and len(new_titles) == 4
    csv = cmp.export_table(tmp_path / "scen.csv")
    back = pd.read_csv(csv, encoding="utf-8-sig", index_col=0)
    assert list(back.columns) == ["现状 transfer_stations", "方案 1"]
    assert back.loc["站点数", "方案 1"] == n_sites
    xlsx = cmp.export_table(tmp_path / "scen.xlsx")
    import openpyxl

    ws = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in ws[1]] == ["指标", "现状 transfer_stations", "方案 1"]
    # only the checked scenarios are compared
    cmp.set_checked(["方案 1"])
    cmp.compare()
    qtbot.waitUntil(lambda: cmp.compare_button.isEnabled() and cmp.table.columnCount() == 1, timeout=20_000)


def test_parameters_enabled_per_model(qtbot, app_env, subset):
    win = make_window(qtbot, subset)
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    states = {}
    for model in ("lscp", "mclp", "p-median", "p-center", "capacitated"):
        dlg.set_model(model)
        states[model] = tuple(w.isEnabled() for w in (dlg.p_box, dlg.radius_box, dlg.weights_box, dlg.capacity_box,
                                                       dlg.cost_box))
    assert states == {
        "lscp": (False, True, False, False, False),
        "mclp": (True, True, True, False, False),
        "p-median": (True, False, True, False, False),
        "p-center": (True, False, False, False, False),
        "capacitated": (True, False, False, True, True),
    }
    assert dlg.capacity_box.currentText() == "capacity_tpd" and dlg.cost_box.currentData() is None
    dlg.existing_box.setCurrentIndex(0)  # (无)
    assert not dlg.allow_close_check.isEnabled()
    dlg.set_model("mclp")
    dlg.p_box.setValue(0)
    dlg.run()
    assert dlg.task is None and "p" in dlg.status.text()


def test_mclp_along_roads_with_closing_allowed(qtbot, app_env, subset, sample_layer):
    roads = sample_layer("roads")
    win = make_window(qtbot, {**subset, "roads": roads})
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    dlg.set_model("mclp")
    dlg.p_box.setValue(2)
    dlg.radius_box.setValue(1000.0)
    dlg.spacing_box.setValue(300.0)
    dlg.allow_close_check.setChecked(True)
    dlg.road_radio.setChecked(True)
    assert dlg.roads_box.isEnabled() and dlg.roads_box.currentData().kind == "roads"
    run_dialog(qtbot, dlg)
    assert dlg.error is None, dlg.error
    demand = demand_from_grids(subset["grid_community_village"], spacing_m=300.0)
    direct = site(demand, subset["candidate_sites"], model="mclp", p=2, radius_m=1000.0,
                  existing=subset["transfer_stations"], allow_close=True, network=roads)
    res = dlg.result.outcome.result
    assert res.objective == pytest.approx(direct.result.objective)
    assert len(res.selected) == 2 and dlg.result.params["along_roads"] is True
    kept = int((dlg.result.outcome.sites["source"] == "existing").sum())
    assert f"保留现有：{kept} 个；关闭：{2 - kept} 个" in dlg.summary.text()
    sites_layer = next(lyr for lyr in win.layer_list if lyr.title == "选址结果 方案 1")
    assert len(sites_layer.gdf) == 2


def test_cancel_stops_a_long_p_median_mid_solve(qtbot, app_env, sample_layer):
    layers = {"grid_community_village": sample_layer("grid_community_village"),
              "candidate_sites": sample_layer("candidate_sites")}
    win = make_window(qtbot, layers)
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    dlg.set_model("p-median")
    dlg.p_box.setValue(20)
    dlg.spacing_box.setValue(200.0)  # 3,364 demand points × 98 candidates: not proven within 8 s
    dlg.time_box.setValue(8.0)
    n_layers = len(win.layer_list)
    dlg.run()
    # wait until HiGHS works on the Benders master, then cancel
    qtbot.waitUntil(lambda: "Benders" in dlg.task.feedback.message, timeout=15_000)
    qtbot.wait(300)
    t0 = time.perf_counter()
    dlg.task.cancel()
    qtbot.waitUntil(lambda: dlg.run_button.isEnabled(), timeout=6_000)
    assert time.perf_counter() - t0 < 4.0  # well before the 8 s limit would have ended the solve
    assert dlg.status.text() == "已取消。"
    assert dlg.result is None and dlg.error is None
    assert len(win.layer_list) == n_layers and win.current_project.scenarios == []


def test_infeasible_radius_shows_the_engine_message(qtbot, app_env, subset, shown):
    win = make_window(qtbot, subset)
    win.show()
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    dlg.set_model("lscp")
    dlg.radius_box.setValue(20.0)
    dlg.existing_box.setCurrentIndex(0)
    n_layers = len(win.layer_list)
    run_dialog(qtbot, dlg)
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "设施优化选址"
    assert text.startswith("radius 20 m: no candidate lies within reach of demand points")
    assert "raise the radius" in text and text in dlg.status.text()
    assert len(win.layer_list) == n_layers and win.current_project.scenarios == []
    # the app stays up: the same dialog runs again with a workable radius
    dlg.radius_box.setValue(1500.0)
    run_dialog(qtbot, dlg)
    assert dlg.result is not None and win.isVisible()
    assert [s["name"] for s in win.current_project.scenarios] == ["方案 1"]


def test_registered_in_the_analysis_menu(qtbot, app_env):
    from ui.i18n import set_language
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    acts = {a.objectName(): a for a in win.analysis_menu.actions()}
    assert acts["action_siting"].text() == "设施优化选址…"
    assert acts["action_compare_scenarios"].text() == "方案对比…"
    set_language("en")
    qtbot.waitUntil(lambda: acts["action_siting"].text() == "Optimal siting…", timeout=2_000)
    assert acts["action_compare_scenarios"].text() == "Compare scenarios…"
    dlg = ScenarioDialog(win)  # no project yet: says so, nothing to compare
    qtbot.addWidget(dlg)
    assert dlg.list.count() == 0 and not dlg.compare_button.isEnabled()
    assert "no scenarios" in dlg.status.text()


def test_capacitated_transfer_stations_respect_capacity(qtbot, app_env, subset, shown):
    win = make_window(qtbot, subset)
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    dlg.set_model("capacitated")
    assert [dlg.type_box.itemText(i) for i in range(dlg.type_box.count())] == ["(全部类型)", "回收网点", "收集点", "转运站"]
    dlg.type_box.setCurrentIndex(dlg.type_box.findData("转运站"))
    dlg.p_box.setValue(0)  # 不限: the opening costs decide how many
    dlg.cost_box.setCurrentIndex(dlg.cost_box.findData("opening_cost"))
    dlg.allow_close_check.setChecked(True)
    dlg.spacing_box.setValue(400.0)
    run_dialog(qtbot, dlg)
    assert dlg.error is None and shown == [], shown
    cand = subset["candidate_sites"]
    demand = demand_from_grids(subset["grid_community_village"], spacing_m=400.0)
    direct = site(demand, cand[cand["site_type"] == "转运站"], model="capacitated", existing=subset["transfer_stations"],
                  allow_close=True, opening_cost_col="opening_cost")
    res = dlg.result.outcome.result
    assert res.optimal and res.objective == pytest.approx(direct.result.objective)
    sites = dlg.result.outcome.sites
    assert (sites["load_tpd"] <= sites["capacity_tpd"] + 1e-9).all()
    assert sites["load_tpd"].sum() == pytest.approx(demand["waste_tpd"].sum())
    heads = [dlg.sites_table.horizontalHeaderItem(c).text() for c in range(dlg.sites_table.columnCount())]
    ratios = [float(dlg.sites_table.item(r, heads.index("负荷率 %")).text()) for r in range(dlg.sites_table.rowCount())]
    assert len(ratios) == len(sites) and max(ratios) <= 100.0
    assert win.current_project.scenarios[-1]["params"]["opening_cost_col"] == "opening_cost"
    assert win.current_project.scenarios[-1]["candidate_type"] == "转运站"


def test_dialog_scenario_dicts_are_the_engine_ones():
    import gridtool.scenarios as engine
    import ui.siting_dialog as dialog

    assert dialog.scenario_to_dict is engine.scenario_to_dict
    assert dialog.scenario_from_dict is engine.scenario_from_dict


def test_capacitated_haul_cost_prices_transport_and_shows_both_parts(qtbot, app_env, subset, shown):
    win = make_window(qtbot, subset)
    dlg = SitingDialog(win)
    qtbot.addWidget(dlg)
    dlg.set_model("capacitated")
    assert dlg.haul_box.isEnabled() and dlg.cost_per_tpd_m() == 1.0  # no haul cost: the old plain sum
    dlg.type_box.setCurrentIndex(dlg.type_box.findData("转运站"))
    dlg.p_box.setValue(0)
    dlg.cost_box.setCurrentIndex(dlg.cost_box.findData("opening_cost"))
    dlg.allow_close_check.setChecked(True)
    dlg.spacing_box.setValue(400.0)
    dlg.haul_box.setValue(2.0)
    dlg.years_box.setValue(10.0)
    assert dlg.cost_per_tpd_m() == pytest.approx(0.00073)
    run_dialog(qtbot, dlg)
    assert dlg.error is None and shown == [], shown
    res = dlg.result.outcome.result
    info = res.info
    assert info["cost_per_tpd_m"] == pytest.approx(0.00073)
    assert res.objective == pytest.approx(info["transport_cost"] + info["opening_cost"])
    assert dlg.result.params["cost_per_tpd_m"] == pytest.approx(0.00073)
    text = dlg.summary.text()
    assert "运输成本加建设成本" in text
    assert f"运输：{info['transport_tpd_m']:,.0f} t/d·m × 0.00073 = {info['transport_cost']:,.1f}" in text
    assert f"建设成本：{info['opening_cost']:,.1f}" in text
    dlg.set_model("p-median")
    assert not dlg.haul_box.isEnabled() and not dlg.years_box.isEnabled()

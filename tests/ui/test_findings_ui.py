"""Findings in the map window, driven like an inspector: add by map click, filter, change status, history, colours."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtWidgets import QMessageBox

from gridtool.findings import OVERDUE_COLOR, STATUS_COLORS, CHINA_TZ, FindingsStore

INSIDE = (492815.2, 3520676.8)  # 五星街道 / 新中社区 in the sample district
OUTSIDE = (460000.0, 3500000.0)  # far south-west of Zhonglou
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "s.gpkg"


@pytest.fixture
def window(qtbot, app_env, store_path):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.set_findings_store(FindingsStore.open(store_path, actor="网格员甲"))
    yield win
    win.set_findings_store(None)


@pytest.fixture
def warnings_shown(monkeypatch):
    shown: list[tuple[str, str]] = []

    def fake(parent, title, text, *a, **k):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", fake)
    return shown


def jpeg(path: Path, colour=(200, 80, 40)) -> Path:
    Image.new("RGB", (64, 48), colour).save(path, "JPEG")
    return path


def add(store, dx=0.0, dy=0.0, finding_type="exposed_garbage", category="household", found_at=MONDAY, **kw):
    return store.add(x=INSIDE[0] + dx, y=INSIDE[1] + dy, category=category, finding_type=finding_type,
                     description=kw.pop("description", "路边垃圾"), found_at=found_at, **kw).finding


def walk(store, fid, *statuses):
    for s in statuses:
        store.set_status(fid, s, note=f"to {s}")
    return store.get(fid)


# ----------------------------------------------------------------------------- adding
def test_add_finding_by_map_click_shows_in_panel_map_and_store(window, qtbot, tmp_path, monkeypatch):
    from tests.ui.test_map_window import click
    from ui.finding_dialog import FindingDialog

    ui = window.findings_ui
    store = window.findings_store
    assert ui.layer is not None and len(ui.layer) == 0 and ui.panel.row_count() == 0
    # Findings → Add finding activates the add-point tool; a click on the canvas opens the dialog there
    ui.actions["add"].trigger()
    assert window.canvas.tool is window.tools["add_point"]
    opened = []
    monkeypatch.setattr(FindingDialog, "exec", lambda self: opened.append((self.x, self.y)) or 0)
    window.canvas.center_on(*INSIDE, scale=5000)
    click(window.canvas, (window.canvas.width() / 2, window.canvas.height() / 2))
    assert len(opened) == 1 and abs(opened[0][0] - INSIDE[0]) < 3 and abs(opened[0][1] - INSIDE[1]) < 3
    assert store.findings() == []  # cancelled: nothing stored

    dlg = ui.add_at(*INSIDE, exec_=False)
    # the location is shown before saving, from the store's locator
    assert "五星街道" in dlg.street_label.text() and "新中社区" in dlg.community_label.text()
    assert dlg.unit_label.text() not in ("", "—")
    assert dlg.outside_label.text() == ""
    photo = jpeg(tmp_path / "现场.jpg")
    dlg.set_fields(category="construction", finding_type="illegal_dumping", description="路边倾倒建筑垃圾",
                   inspector="张三", found_at=MONDAY, photos=[photo])
    assert dlg.department_label.text() == "区住建局"
    assert dlg.photo_list.count() == 1 and not dlg.photo_list.item(0).icon().isNull()
    # a second photo dropped on the dialog (a text file dropped with it is ignored)
    from PyQt6.QtCore import QMimeData, QPoint, QUrl
    from PyQt6.QtGui import QDragEnterEvent, QDropEvent
    from PyQt6.QtWidgets import QApplication

    (tmp_path / "readme.txt").write_text("x")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(jpeg(tmp_path / "近景.jpg", (10, 10, 200)))),
                  QUrl.fromLocalFile(str(tmp_path / "readme.txt"))])
    dlg.show()
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(dlg, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(dlg, QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                           Qt.KeyboardModifier.NoModifier))
    assert [Path(p).name for p in dlg.photo_list.paths()] == ["现场.jpg", "近景.jpg"]
    dlg.ok_button.click()
    assert dlg.result() == dlg.DialogCode.Accepted and dlg.last_error == ""
    fid = dlg.finding.finding_id
    stored = store.get(fid)
    assert (stored.category, stored.finding_type, stored.inspector) == ("construction", "illegal_dumping", "张三")
    assert stored.found_at == MONDAY and stored.street_code == "320404001000"
    assert [p.kind for p in store.photos(fid)] == ["report", "report"]
    assert len(ui.layer) == 1 and ui.layer.gdf["finding_id"].tolist() == [fid]
    assert ui.panel.row_count() == 1 and ui.panel.id_at(0) == fid
    assert ui.panel.table.item(0, ui.panel.COL_STATUS).text() == "立案"
    assert ui.panel.table.item(0, ui.panel.COL_TYPE).text() == "非法倾倒"
    assert ui.panel.selected_ids() == [fid]
    assert list(ui.layer.selected) == [0]


def test_point_outside_district_shows_the_store_error_and_stores_nothing(window, warnings_shown):
    ui = window.findings_ui
    dlg = ui.add_at(*OUTSIDE, exec_=False)
    assert dlg.outside_label.text()  # warned before saving
    dlg.set_fields(category="household", finding_type="exposed_garbage", description="x")
    dlg.ok_button.click()
    assert len(warnings_shown) == 1
    title, text = warnings_shown[0]
    assert "outside" in text and "EPSG:4549" in text
    assert dlg.result() != dlg.DialogCode.Accepted and dlg.finding is None
    assert window.findings_store.findings() == [] and len(ui.layer) == 0
    assert window.isVisible()


def test_duplicate_within_50_m_can_be_linked(window, monkeypatch):
    store = window.findings_store
    first = add(store)
    window.findings_ui.refresh()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dlg = window.findings_ui.add_at(INSIDE[0] + 20, INSIDE[1], exec_=False)
    dlg.set_fields(category="household", finding_type="exposed_garbage", description="同一堆垃圾")
    dlg.ok_button.click()
    assert dlg.result_.duplicates[0].finding_id == first.finding_id
    new = store.get(dlg.finding.finding_id)
    assert new.status == "duplicate" and new.duplicate_of == first.finding_id
    assert window.findings_ui.panel.row_count() == 2


# ----------------------------------------------------------------------------- status changes
def test_dispatch_then_rectify_through_the_status_dialog(window):
    ui, store = window.findings_ui, window.findings_store
    f = add(store, category="construction", finding_type="illegal_dumping")
    ui.refresh()
    dlg = ui.change_status(f.finding_id, exec_=False)
    offered = [dlg.status_combo.itemData(i) for i in range(dlg.status_combo.count())]
    assert offered == ["dispatched", "rejected", "duplicate"]
    assert dlg.status_combo.itemText(0) == "派遣"
    assert dlg.department_combo.isVisibleTo(dlg) and dlg.department_combo.currentText() == "区住建局"
    dlg.department_combo.setCurrentText("邹区镇城管办")
    dlg.note_edit.setPlainText("转镇里处理")
    dlg.ok_button.click()
    assert dlg.result() == dlg.DialogCode.Accepted
    got = store.get(f.finding_id)
    assert (got.status, got.department, got.version) == ("dispatched", "邹区镇城管办", 2)
    assert ui.panel.table.item(ui.panel.row_of(f.finding_id), ui.panel.COL_STATUS).text() == "派遣"
    assert ui.panel.table.item(ui.panel.row_of(f.finding_id), ui.panel.COL_DEPT).text() == "邹区镇城管办"

    dlg = ui.change_status(f.finding_id, exec_=False)
    dlg.status_combo.setCurrentIndex(dlg.status_combo.findData("rectifying"))
    assert not dlg.department_combo.isVisibleTo(dlg)
    dlg.ok_button.click()
    assert store.get(f.finding_id).status == "rectifying"
    assert ui.layer.gdf.loc[ui.layer.gdf["finding_id"] == f.finding_id, "status"].item() == "rectifying"
    assert ui.panel.table.item(ui.panel.row_of(f.finding_id), ui.panel.COL_STATUS).text() == "处置"


def test_closing_without_evidence_needs_a_reason(window, tmp_path):
    ui, store = window.findings_ui, window.findings_store
    f = walk(store, add(store).finding_id, "dispatched", "rectifying", "verified")
    ui.refresh()
    dlg = ui.change_status(f.finding_id, exec_=False)
    dlg.status_combo.setCurrentIndex(dlg.status_combo.findData("closed"))
    assert dlg.reason_edit.isVisibleTo(dlg)
    assert dlg.reason_required() and not dlg.ok_button.isEnabled()
    # a photo without EXIF time is offered: OK enables, the store rejects it, its message shows, reason required
    png = tmp_path / "after.png"
    Image.new("RGB", (32, 32), (0, 160, 0)).save(png)
    dlg.photo_list.add_paths([png])
    assert dlg.ok_button.isEnabled()
    dlg.ok_button.click()
    assert dlg.result() != dlg.DialogCode.Accepted
    assert "no EXIF time" in dlg.error_label.text() and "--reason" in dlg.last_error
    assert not dlg.ok_button.isEnabled()
    assert store.get(f.finding_id).status == "verified"
    dlg.reason_edit.setText("现场已清理，手机故障无法拍照")
    assert dlg.ok_button.isEnabled()
    dlg.ok_button.click()
    assert dlg.result() == dlg.DialogCode.Accepted
    assert store.get(f.finding_id).status == "closed"
    last = store.history(f.finding_id)[-1]
    assert (last.to_status, last.reason) == ("closed", "现场已清理，手机故障无法拍照")
    assert last.evidence_photo  # the photo is kept as evidence even though it did not count


def test_stale_change_gives_a_conflict_and_overwrites_nothing(window, store_path, warnings_shown):
    ui, store = window.findings_ui, window.findings_store
    f = add(store)
    ui.refresh()
    dlg = ui.change_status(f.finding_id, exec_=False)
    assert dlg.expected_version == 1
    other = FindingsStore.open(store_path, actor="网格员乙")  # a second connection, like a colleague
    other.set_status(f.finding_id, "dispatched", department="区城管局", note="乙派遣")
    other.close()
    dlg.status_combo.setCurrentIndex(dlg.status_combo.findData("rejected"))
    dlg.note_edit.setPlainText("甲：不予立案")
    dlg.ok_button.click()
    assert dlg.conflicts == 1 and len(warnings_shown) == 1
    assert "changed by someone else" in warnings_shown[0][1] and warnings_shown[0][0] == "已被他人修改"
    got = store.get(f.finding_id)
    assert (got.status, got.department, got.version) == ("dispatched", "区城管局", 2)
    assert [e.to_status for e in store.history(f.finding_id)] == ["registered", "dispatched"]
    # the dialog now shows the new state and its next statuses
    assert dlg.expected_version == 2 and dlg.finding.status == "dispatched"
    assert dlg.status_combo.findData("rectifying") >= 0
    assert "派遣" in dlg.header.text()


# ----------------------------------------------------------------------------- panel, history, colours
@pytest.fixture
def three(window):
    """Three findings found Monday 2 March 2026; on Thursday 5 March the exposed garbage is 2 working days late."""
    store = window.findings_store
    late = add(store, finding_type="exposed_garbage", description="暴露垃圾")  # deadline Tue 3 March
    dump = add(store, dx=300, finding_type="illegal_dumping", category="construction", description="倾倒")  # Thu 5 March
    legacy = add(store, dx=-300, finding_type="legacy_waste", category="industrial", description="历史遗留")
    store.set_status(dump.finding_id, "dispatched")
    ui = window.findings_ui
    ui.today = dt.date(2026, 3, 5)
    ui.refresh()
    return ui, late, dump, legacy


def test_filters_reduce_the_rows(three):
    ui, late, dump, legacy = three
    p = ui.panel
    assert p.row_count() == 3
    p.set_filters(status="dispatched")
    assert [p.id_at(r) for r in range(p.row_count())] == [dump.finding_id]
    p.set_filters(status="__open__")
    assert p.row_count() == 3
    p.set_filters(overdue=True)
    assert [p.id_at(r) for r in range(p.row_count())] == [late.finding_id]
    cell = p.table.item(0, p.COL_OVERDUE)
    assert cell.text() == "2" and cell.foreground().color().name() == OVERDUE_COLOR
    assert "逾期 1" in p.count_label.text()
    p.set_filters(overdue=False, finding_type="legacy_waste")
    assert [p.id_at(r) for r in range(p.row_count())] == [legacy.finding_id]
    p.set_filters(finding_type=None)
    p.type_combo.setCurrentIndex(0)
    p.set_filters(department="区住建局")
    assert [p.id_at(r) for r in range(p.row_count())] == [dump.finding_id]
    p.dept_combo.setCurrentIndex(0)
    p.set_filters(grid_code="320404001000")  # 五星街道: all three
    assert p.row_count() == 3
    p.set_filters(search="倾倒")
    assert [p.id_at(r) for r in range(p.row_count())] == [dump.finding_id]
    assert p.filters() == {"status": ["registered", "dispatched", "rectifying", "verified"],
                           "grid_code": "320404001000"}


def test_history_lists_events_in_order(three):
    ui, late, _dump, _legacy = three
    store = ui.store
    walk(store, late.finding_id, "dispatched", "rectifying")
    dlg = ui.show_history(late.finding_id, exec_=False)
    assert dlg.table.rowCount() == 3
    assert [dlg.row_texts(r)[3] for r in range(3)] == ["立案", "派遣", "处置"]
    assert [dlg.row_texts(r)[2] for r in range(3)] == ["—", "立案", "派遣"]
    assert dlg.row_texts(1)[1] == "网格员甲" and dlg.row_texts(1)[4] == "区城管局"
    assert dlg.row_texts(2)[5] == "to rectifying"
    times = [dlg.events[i].at for i in range(3)]
    assert times == sorted(times)


def test_overdue_finding_is_red_on_the_map(three):
    ui, late, dump, legacy = three
    codes, symbols = ui.layer.classes()
    gdf = ui.layer.gdf
    colour = {fid: symbols[codes[i]].fill for i, fid in enumerate(gdf["finding_id"])}
    assert colour[late.finding_id] == OVERDUE_COLOR
    assert colour[dump.finding_id] == STATUS_COLORS["dispatched"]
    assert colour[legacy.finding_id] == STATUS_COLORS["registered"]
    # the legend says 逾期 first
    assert ui.layer.style.categories[0].label == "逾期"
    # rectified in time on Friday: no longer overdue, drawn by its status
    walk(ui.store, late.finding_id, "dispatched", "rectifying", "verified")
    ui.refresh()
    codes, symbols = ui.layer.classes()
    i = int(np.flatnonzero(ui.layer.gdf["finding_id"] == late.finding_id)[0])
    assert symbols[codes[i]].fill == STATUS_COLORS["verified"]


def test_double_click_zooms_and_selects_and_map_selection_selects_rows(three):
    ui, late, dump, _legacy = three
    p, canvas = ui.panel, ui.window.canvas
    canvas.zoom_full()
    r = p.row_of(dump.finding_id)
    p.table.cellDoubleClicked.emit(r, 0)
    vp = canvas.viewport
    assert abs(vp.cx - (INSIDE[0] + 300)) < 1 and abs(vp.cy - INSIDE[1]) < 1 and canvas.scale <= 2000.5
    assert list(ui.layer.selected) == [ui.row_of(dump.finding_id)]
    ui.layer.select([ui.row_of(late.finding_id)])  # e.g. the select tool on the map
    assert p.selected_ids() == [late.finding_id]


def test_export_and_overdue_summary(three, qtbot, tmp_path):
    import openpyxl

    ui, late, _dump, _legacy = three
    ui.panel.set_filters(overdue=True)
    out = tmp_path / "问题清单.xlsx"
    written = []
    ui.export_to(out, on_done=written.append)
    qtbot.waitUntil(lambda: bool(written), timeout=15000)
    wb = openpyxl.load_workbook(out, read_only=True)
    ids = set()
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        head = next((i for i, r in enumerate(rows) if r and r[0] == "问题编号"), None)
        if head is not None:
            ids |= {r[0] for r in rows[head + 1:] if r and r[0]}
    assert ids == {late.finding_id}  # only the filtered (overdue) finding
    dlg = ui.show_overdue_summary(exec_=False)
    assert dlg.frame["overdue"].sum() == 1 and dlg.table.rowCount() >= 1
    dlg.by_combo.setCurrentIndex(dlg.by_combo.findData("department"))
    assert "(未派遣)" in dlg.frame["name"].tolist()


def test_store_replaces_the_sample_findings_layer_and_screenshot(qtbot, app_env, sample_gpkg, store_path, tmp_path):
    from gridtool.project import open_any
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.load_project(open_any(sample_gpkg))
    assert len(win.layer_list.of_kind("findings")) == 1 and "display_status" not in win.layer_list["findings"].gdf
    store = FindingsStore.open(store_path)
    for i, t in enumerate(["exposed_garbage", "illegal_dumping", "legacy_waste", "overflowing_point"]):
        add(store, dx=400 * i, dy=-200 * i, finding_type=t, description=f"问题{i}")
    win.set_findings_store(store)
    ui = win.findings_ui
    ui.today = dt.date(2026, 3, 5)
    ui.refresh()
    findings = win.layer_list.of_kind("findings")
    assert len(findings) == 1 and findings[0] is ui.layer and len(ui.layer) == 4
    assert win.current_project.findings_store == str(store_path)
    assert ui.panel.isVisible() and ui.panel.row_count() == 4
    ui.zoom_to(ui.panel.id_at(0), scale=20000)
    win.canvas.refresh()
    shot = tmp_path / "findings_window.png"
    assert win.grab().save(str(shot))
    assert shot.stat().st_size > 10000
    win.set_findings_store(None)


def test_project_remembers_its_store_and_language_switch(qtbot, window, store_path, tmp_path):
    from ui.main_window import MainWindow

    ui = window.findings_ui
    f = add(window.findings_store)
    ui.refresh()
    out = window.save_to(tmp_path / "巡查.gridtool.json")
    assert out is not None
    win2 = MainWindow()
    qtbot.addWidget(win2)
    assert win2.open_path(out, show_errors=False)
    assert win2.findings_store is not None and Path(win2.findings_store.backend.location) == store_path
    ui2 = win2.findings_ui
    assert win2.layer_list.of_kind("findings") == [ui2.layer] and ui2.layer.gdf["finding_id"].tolist() == [f.finding_id]
    win2.set_findings_store(None)
    assert win2.layer_list.of_kind("findings") == [] and ui2.panel.row_count() == 0
    # English at runtime: panel, statuses and menu follow
    window.set_language("en")
    assert ui.panel.windowTitle() == "Findings" and ui.actions["add"].text() == "Add finding (map click)"
    assert ui.panel.table.item(0, ui.panel.COL_STATUS).text() == "Registered"
    window.set_language("zh_CN")
    assert ui.panel.windowTitle() == "巡查问题" and ui.panel.table.item(0, ui.panel.COL_STATUS).text() == "立案"

"""The main window driven like a user: sample district, panel, wheel, tools, table, language, projects."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PyQt6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt6.QtGui import QDropEvent, QGuiApplication, QMouseEvent, QWheelEvent
from PyQt6.QtWidgets import QApplication, QMessageBox
from shapely.geometry import box

from gridtool.project import open_any
from gridtool.styles import Categorized
from layers.viewport import Viewport


# ----------------------------------------------------------------------------- helpers
def send_mouse(widget, kind, pos, button=Qt.MouseButton.LeftButton, buttons=None, modifiers=Qt.KeyboardModifier.NoModifier):
    """Send a real QMouseEvent (qtbot.mouseMove cannot carry pressed buttons in Qt 6)."""
    types = {"press": QEvent.Type.MouseButtonPress, "move": QEvent.Type.MouseMove,
             "release": QEvent.Type.MouseButtonRelease, "double": QEvent.Type.MouseButtonDblClick}
    p = QPointF(*pos)
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == "release" else button
    ev = QMouseEvent(types[kind], p, widget.mapToGlobal(p), button if kind != "move" else Qt.MouseButton.NoButton,
                     buttons, modifiers)
    QApplication.sendEvent(widget, ev)


def click(widget, pos, button=Qt.MouseButton.LeftButton):
    send_mouse(widget, "press", pos, button)
    send_mouse(widget, "release", pos, button)


def squares_layer(n=5, name="squares"):
    """Squares 100 m wide with 100 m gaps: square i spans x = 200i … 200i+100, y = 0 … 100."""
    gdf = gpd.GeoDataFrame({"name": [f"方格{i}" for i in range(n)], "value": np.arange(n, dtype=float)},
                           geometry=[box(200 * i, 0, 200 * i + 100, 100) for i in range(n)], crs=4549)
    return gdf


@pytest.fixture(scope="module")
def sample_project(sample_gpkg):
    return open_any(sample_gpkg)


@pytest.fixture
def window(qtbot, app_env):
    from ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def sample_window(window, sample_project):
    window.load_project(sample_project)
    window.canvas.refresh()
    return window


@pytest.fixture
def squares_window(window):
    lyr = window.add_result_layer(squares_layer(), "squares")
    c = window.canvas
    # 1 m per pixel with the squares' middle row at the canvas centre: map ↔ pixel exact
    c.set_viewport(Viewport(450.0, 50.0, 1.0, c.width(), c.height()))
    c.refresh()
    return window, lyr


# ----------------------------------------------------------------------------- tests
def test_sample_district_opens_grouped_with_legend(sample_window):
    win = sample_window
    names = win.layer_list.names
    assert {"grid_community_village", "transfer_stations", "findings", "roads"} <= set(names)
    groups = [win.layer_panel.tree.topLevelItem(i).text(0) for i in range(win.layer_panel.tree.topLevelItemCount())]
    assert {"网格", "设施", "收集点", "巡查", "道路"} <= set(groups)
    findings_item = win.layer_panel.item_of(win.layer_list["findings"])
    legend = [findings_item.child(i).text(0) for i in range(findings_item.childCount())]
    assert "立案" in legend and "结案(销号)" in legend
    b = win.layer_list.bounds()
    x0, y0, x1, y1 = win.canvas.viewport.extent
    assert x0 <= b[0] and y0 <= b[1] and x1 >= b[2] and y1 >= b[3]
    assert win.canvas.render_count >= 1


def test_toggling_a_layer_in_the_panel_changes_the_map(sample_window):
    win = sample_window
    stations = win.layer_list["transfer_stations"]
    x, y = stations.geometry.point_xy[0]
    for other in win.layer_list:  # only the stations and the grid underneath
        if other.kind not in ("transfer_stations", "grid_district"):
            other.visible = False
    win.canvas.center_on(float(x), float(y), scale=10000)
    centre = (win.canvas.width() // 2, win.canvas.height() // 2)
    before = win.canvas.grab_map().pixelColor(*centre)
    assert before.name() == "#d7301f"  # the transfer-station square
    win.layer_panel.set_layer_visible(stations, False)
    assert stations.visible is False
    after = win.canvas.grab_map().pixelColor(*centre)
    assert after.name() != "#d7301f"
    win.layer_panel.set_layer_visible(stations, True)
    assert win.canvas.grab_map().pixelColor(*centre).name() == "#d7301f"


def test_wheel_zoom_keeps_the_point_under_the_cursor(sample_window):
    c = sample_window.canvas
    pos = QPointF(230.0, 170.0)
    before = c.to_map(pos)
    scale0 = c.scale
    for _ in range(3):
        ev = QWheelEvent(pos, c.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                         Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(c, ev)
    after = c.to_map(pos)
    assert c.scale == pytest.approx(scale0 / 2 ** 1.5)
    assert after == pytest.approx(before, abs=1e-6)
    c.flush_history()  # the three wheel steps are one history entry
    c.back()
    assert c.scale == pytest.approx(scale0)
    c.forward()
    assert c.scale == pytest.approx(scale0 / 2 ** 1.5)
    ev = QWheelEvent(pos, c.mapToGlobal(pos), QPoint(0, 0), QPoint(0, -360), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(c, ev)
    assert c.scale == pytest.approx(scale0)
    assert c.to_map(pos) == pytest.approx(before, abs=1e-6)


def test_rectangle_select_selects_exactly_the_touched_squares_and_the_table_follows(squares_window):
    win, lyr = squares_window
    c = win.canvas
    win.set_tool("select_rect")
    # map x 250 … 650 touches squares 1 (200–300), 2 (400–500) and 3 (600–700), not 0 or 4
    p0 = c.to_screen(250, 80)
    p1 = c.to_screen(650, 20)
    send_mouse(c, "press", (p0.x(), p0.y()))
    send_mouse(c, "move", (p1.x(), p1.y()), buttons=Qt.MouseButton.LeftButton)
    send_mouse(c, "release", (p1.x(), p1.y()))
    assert lyr.selected.tolist() == [1, 2, 3]
    dock = win.open_attribute_table(lyr)
    assert sorted(dock.table.selected_source_rows().tolist()) == [1, 2, 3]
    # shift-click adds square 4; the table follows again
    p4 = c.to_screen(850, 50)
    send_mouse(c, "press", (p4.x(), p4.y()), modifiers=Qt.KeyboardModifier.ShiftModifier)
    send_mouse(c, "release", (p4.x(), p4.y()), modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert lyr.selected.tolist() == [1, 2, 3, 4]
    assert sorted(dock.table.selected_source_rows().tolist()) == [1, 2, 3, 4]
    # a click in a gap clears
    pg = c.to_screen(150, 50)
    click(c, (pg.x(), pg.y()))
    assert lyr.selected.tolist() == []


def test_polygon_select(squares_window):
    win, lyr = squares_window
    c = win.canvas
    win.set_tool("select_polygon")
    for x, y in [(50, 10), (450, 10), (450, 90)]:  # triangle over squares 0, 1, 2
        p = c.to_screen(x, y)
        click(c, (p.x(), p.y()))
    p = c.to_screen(450, 90)
    send_mouse(c, "press", (p.x(), p.y()), button=Qt.MouseButton.RightButton)
    assert lyr.selected.tolist() == [0, 1, 2]


def test_measure_distance_gives_exact_metres(squares_window):
    win, _ = squares_window
    c = win.canvas
    win.set_tool("measure_distance")
    tool = win.tools["measure_distance"]
    got = []
    tool.measured.connect(lambda v, mode: got.append((v, mode)))
    for x, y in [(100, 0), (400, 400), (400, 0)]:  # 500 m + 400 m
        p = c.to_screen(x, y)
        click(c, (p.x(), p.y()))
    send_mouse(c, "press", (10, 10), button=Qt.MouseButton.RightButton)
    assert got == [(pytest.approx(900.0, abs=1e-6), "distance")]
    assert "900.0 m" in win.statusBar().currentMessage()
    win.set_tool("measure_area")
    area = win.tools["measure_area"]
    for x, y in [(0, 0), (300, 0), (300, 200), (0, 200)]:
        area.add_point(x, y)
    assert area.finish() == pytest.approx(60000.0)


def test_identify_a_community_shows_its_name(sample_window):
    win = sample_window
    comm = win.layer_list["grid_community_village"]
    row = 5
    name = comm.gdf["name"].iloc[row]
    pt = shapely.point_on_surface(comm.gdf.geometry.iloc[row])
    win.canvas.center_on(pt.x, pt.y, scale=20000)
    win.set_tool("identify")
    p = win.canvas.to_screen(pt.x, pt.y)
    click(win.canvas, (p.x(), p.y()))
    texts = win.identify_dock.texts()
    assert name in texts
    assert "社区/村网格" in texts
    assert any(t.startswith("名称") for t in texts)
    layer, rows = win.canvas.highlight  # the top feature under the click is outlined in red
    assert rows.size == 1


def test_language_switch_changes_menus_and_panel(sample_window):
    win = sample_window
    assert win.file_menu.title() == "文件(&F)"
    win.set_language("en")
    assert win.file_menu.title() == "&File"
    assert win.actions["tool_identify"].text() == "Identify"
    groups = [win.layer_panel.tree.topLevelItem(i).text(0) for i in range(win.layer_panel.tree.topLevelItemCount())]
    assert "Grids" in groups
    assert win.layer_panel.item_of(win.layer_list["transfer_stations"]).text(0) == "Transfer stations"
    findings = win.layer_panel.item_of(win.layer_list["findings"])
    assert findings.child(0).text(0) == "registered"
    win.set_language("zh_CN")
    assert win.file_menu.title() == "文件(&F)"
    assert win.layer_panel.item_of(win.layer_list["transfer_stations"]).text(0) == "垃圾转运站"
    assert win.layer_panel.item_of(win.layer_list["findings"]).child(0).text(0) == "立案"


def test_save_and_reopen_gives_the_same_view_layers_and_styles(sample_window, tmp_path, qtbot):
    from gridtool.styles import categorized
    from ui.main_window import MainWindow

    win = sample_window
    comm = win.layer_list["grid_community_village"]
    comm.style = categorized(comm.gdf, "parent_code")
    win.layer_list["roads"].visible = False
    win.layer_list["collection_points"].opacity = 0.5
    win.layer_panel.move_layer(win.layer_list["transfer_stations"], -1)
    win.add_result_layer(squares_layer(), "方格结果")
    win.canvas.center_on(480000.0, 3515000.0, scale=25000)
    out = win.save_to(tmp_path / "zl")
    assert out.name == "zl.gridtool.json"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["view"] == {"center": [480000.0, 3515000.0], "scale": 25000.0}
    assert (tmp_path / "zl.data.gpkg").exists()

    other = MainWindow()
    qtbot.addWidget(other)
    other.resize(1200, 800)
    other.show()
    assert other.open_path(out, show_errors=False)
    assert other.layer_list.names == win.layer_list.names
    for a, b in zip(win.layer_list, other.layer_list):
        assert (a.style, a.labels, a.visible, a.opacity, a.kind) == (b.style, b.labels, b.visible, b.opacity, b.kind)
    assert isinstance(other.layer_list["grid_community_village"].style, Categorized)
    assert other.canvas.viewport.cx == pytest.approx(480000.0)
    assert other.canvas.viewport.cy == pytest.approx(3515000.0)
    assert other.canvas.scale == pytest.approx(25000.0)
    assert len(other.layer_list["方格结果"]) == 5


def test_broken_import_shows_the_importers_message_and_the_app_stays_up(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append((title, text)))
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    n = len(window.layer_list)
    assert window.add_layer_from_file(bad) == []
    assert len(shown) == 1
    assert "broken.geojson" in shown[0][0] and "broken.geojson" in shown[0][1]
    assert len(window.layer_list) == n and window.isVisible()
    assert not window.open_path(tmp_path / "missing.gpkg")
    assert len(shown) == 2 and "missing.gpkg" in shown[1][1]


def test_drag_and_drop_adds_a_layer(window, tmp_path):
    from PyQt6.QtGui import QDragEnterEvent

    path = tmp_path / "收集点.geojson"
    gdf = squares_layer(3)
    gdf = gdf.set_geometry(gdf.geometry.translate(480000, 3515000))  # inside Zhonglou, EPSG:4549
    gdf.to_file(path, driver="GeoJSON")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert window.layer_list.names == ["收集点"]
    lyr = window.layer_list["收集点"]
    assert len(lyr) == 3 and lyr.source_path == str(path.resolve())
    assert lyr.bounds == pytest.approx((480000.0, 3515000.0, 480500.0, 3515100.0))
    # the first layer of an empty map is zoomed to
    x0, y0, x1, y1 = window.canvas.viewport.extent
    assert x0 <= 480000 and x1 >= 480500


def test_locator_finds_a_street_and_zooms_there(sample_window):
    win = sample_window
    streets = win.layer_list["grid_street_town"]
    name = streets.gdf["name"].iloc[2]
    assert win.locator.locate(name)
    assert streets.selected.tolist() == [2]
    minx, miny, maxx, maxy = streets.geometry.bounds[2]
    x0, y0, x1, y1 = win.canvas.viewport.extent
    assert x0 <= minx and y0 <= miny and x1 >= maxx and y1 >= maxy
    code = win.layer_list["grid_community_village"].gdf["code"].iloc[0]
    assert win.locator.locate(code)
    assert win.layer_list["grid_community_village"].selected.tolist() == [0]
    assert not win.locator.locate("没有这个网格")


def test_right_click_copies_coordinates(squares_window):
    win, _ = squares_window
    c = win.canvas
    win.set_tool("pan")
    p = c.to_screen(100.0, 50.0)
    send_mouse(c, "press", (p.x(), p.y()), button=Qt.MouseButton.RightButton)
    text = QGuiApplication.clipboard().text()
    assert "100.0, 50.0 (EPSG:4549)" in text and "(CGCS2000)" in text


def test_zoom_to_selection_back_and_forward(squares_window):
    win, lyr = squares_window
    c = win.canvas
    start = c.viewport
    lyr.select([4])
    win.actions["zoom_selection"].trigger()
    x0, y0, x1, y1 = c.viewport.extent
    assert x0 <= 800 and x1 >= 900 and c.viewport.mpp < start.mpp
    win.actions["back"].trigger()
    assert (c.viewport.cx, c.viewport.mpp) == (start.cx, start.mpp)
    win.actions["forward"].trigger()
    assert c.viewport.mpp < start.mpp


def test_pan_by_drag_moves_the_map_by_the_drag(squares_window):
    win, _ = squares_window
    c = win.canvas
    win.set_tool("pan")
    cx, cy = c.viewport.cx, c.viewport.cy
    send_mouse(c, "press", (100, 100))
    send_mouse(c, "move", (140, 70), buttons=Qt.MouseButton.LeftButton)
    send_mouse(c, "release", (150, 60))
    assert c.viewport.cx == pytest.approx(cx - 50.0)  # 1 m per pixel
    assert c.viewport.cy == pytest.approx(cy - 40.0)


def test_style_dialog_makes_a_graduated_style_with_a_legend(squares_window):
    from ui.style_dialog import StyleDialog

    win, lyr = squares_window
    dlg = StyleDialog(lyr, win)
    dlg.type_box.setCurrentIndex(2)
    dlg.field_box.setCurrentText("value")
    dlg.classes_spin.setValue(4)
    assert dlg.legend.count() == 4
    assert dlg.apply()
    assert lyr.style.type == "graduated" and lyr.style.field == "value" and len(lyr.style.symbols) == 4
    item = win.layer_panel.item_of(lyr)
    assert item.childCount() == 4  # legend rows under the layer
    dlg.type_box.setCurrentIndex(1)
    dlg.field_box.setCurrentText("name")
    assert dlg.apply() and lyr.style.type == "categorized" and len(lyr.style.categories) == 5


def test_extension_api_for_other_dialogs(window):
    from PyQt6.QtGui import QAction

    act = QAction("覆盖分析", window)
    window.add_analysis_action(act)
    assert act in window.analysis_menu.actions()
    assert window.findings_menu.objectName() == "findings_menu"
    lyr = window.add_result_layer(squares_layer(2), "result")
    assert lyr.group == "analysis" and window.layer_list[-1] is lyr
    proj = window.project_snapshot()
    assert [s.name for s in proj.layers] == ["result"] and "scale" in proj.view
    from ui.map_tools import AddPointTool

    got = []
    c = window.canvas
    tool = AddPointTool(c)  # the window's own add-point tool belongs to the findings panel
    tool.pointAdded.connect(lambda x, y: got.append((x, y)))
    c.set_tool(tool)
    c.set_viewport(Viewport(1000.0, 2000.0, 2.0, c.width(), c.height()))
    click(c, (c.width() / 2 + 10, c.height() / 2 - 5))
    assert got == [(pytest.approx(1020.0), pytest.approx(2010.0))]


def test_screenshot_command_writes_the_window_png(app_env, sample_gpkg, tmp_path):
    from PyQt6.QtGui import QImage

    from ui.app import run

    out = tmp_path / "shot.png"
    assert run(path=str(sample_gpkg), screenshot=str(out), size="1000x700") == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000, 700)
    colours = {img.pixelColor(x, y).name() for x in range(0, 1000, 25) for y in range(0, 700, 25)}
    assert len(colours) > 20


def test_layer_images_are_cached_and_drag_frames_reuse_the_last_render(sample_window, monkeypatch):
    from ui import render

    win = sample_window
    c = win.canvas
    c.refresh()
    calls = []
    real = render.render_layer
    monkeypatch.setattr(render, "render_layer", lambda p, lyr, vp, **kw: (calls.append(lyr.name), real(p, lyr, vp, **kw)))
    roads = win.layer_list["roads"]
    roads.visible = False
    c.refresh()
    roads.visible = True
    c.refresh()
    assert calls == []  # visibility re-composes cached layer images
    win.layer_list["grid_street_town"].opacity = 0.3
    c.refresh()
    assert calls == []
    from gridtool.styles import SingleSymbol, Symbol

    roads.style = SingleSymbol(Symbol(stroke="#ff0000"))
    c.refresh()
    assert calls == ["roads"]  # only the restyled layer is drawn again
    renders = c.render_count
    win.set_tool("pan")
    send_mouse(c, "press", (300, 300))
    for i in range(5):
        send_mouse(c, "move", (300 + 10 * i, 300), buttons=Qt.MouseButton.LeftButton)
        c.repaint()
    assert c.render_count == renders  # dragging shows the last frame shifted
    send_mouse(c, "release", (350, 300))
    c.repaint()
    assert c.render_count == renders + 1


def test_panel_drag_reorders_within_a_group_and_refuses_other_groups(sample_window):
    win = sample_window
    panel = win.layer_panel
    ll = win.layer_list
    stations, recycling = ll["transfer_stations"], ll["recycling_points"]
    assert ll.index(stations) > ll.index(recycling)
    # drop the recycling points above the transfer stations (as the tree's dropEvent does)
    assert panel.move_layer_near(recycling.id, panel.item_of(stations), above=True)
    assert ll.index(recycling) == ll.index(stations) + 1
    facilities = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                  if panel.tree.topLevelItem(i).text(0) == "设施"][0]
    assert facilities.child(0).text(0) == "再生资源回收网点"  # now on top of its group
    order = ll.names
    assert not panel.move_layer_near(recycling.id, panel.item_of(ll["grid_street_town"]), above=True)
    assert ll.names == order


def test_panel_opacity_slider_writes_the_layer(sample_window):
    win = sample_window
    lyr = win.layer_list["grid_street_town"]
    win.layer_panel.set_current_layer(lyr)
    assert win.canvas.active_layer is lyr
    win.layer_panel.opacity_slider.setValue(40)
    assert lyr.opacity == pytest.approx(0.4)
    lyr.opacity = 0.8
    assert win.layer_panel.opacity_slider.value() == 80


def test_keyboard_zoom_and_pan(squares_window, qtbot):
    win, _ = squares_window
    c = win.canvas
    mpp, cx = c.viewport.mpp, c.viewport.cx
    qtbot.keyClick(c, Qt.Key.Key_Plus)
    assert c.viewport.mpp == pytest.approx(mpp / 2)
    qtbot.keyClick(c, Qt.Key.Key_Minus)
    assert c.viewport.mpp == pytest.approx(mpp)
    qtbot.keyClick(c, Qt.Key.Key_Right)
    assert c.viewport.cx == pytest.approx(cx + c.width() * 0.25 * mpp)


def test_status_bar_shows_cgcs2000_lonlat_and_sets_the_scale(squares_window, qtbot):
    from ui.status_bar import lonlat, parse_scale

    win, _ = squares_window
    lon, lat = lonlat(500000.0, 3516000.0)  # on the central meridian 120°E
    assert lon == pytest.approx(120.0, abs=1e-9) and lat == pytest.approx(31.76, abs=0.01)
    win.canvas.cursorMoved.emit(500000.0, 3516000.0)
    assert win.status.lonlat_label.text().startswith("120.000000°E")
    assert "500,000.0 m" in win.status.xy_label.text()
    assert parse_scale("1：25,000") == 25000.0 and parse_scale("abc") is None
    box = win.status.scale_box
    box.setFocus()
    box.setEditText("1:25000")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert win.canvas.scale == pytest.approx(25000.0)
    assert win.status.crs_label.text() == "EPSG:4549"


def test_live_layer_gets_new_features_drawn_and_hit(squares_window):
    from shapely.geometry import Point

    win, _ = squares_window
    c = win.canvas
    pts = gpd.GeoDataFrame({"finding_id": ["F1"], "status": ["registered"]}, geometry=[Point(100, 150)], crs=4549)
    findings = win.add_result_layer(pts, "findings", kind="findings", group="patrol")
    assert findings.live
    c.refresh()
    findings.add_features(gpd.GeoDataFrame({"finding_id": ["F2"], "status": ["closed"]},
                                           geometry=[Point(300, 150)], crs=4549))
    p = c.to_screen(300, 150)
    from gridtool.styles import STATUS_COLOURS

    assert c.grab_map().pixelColor(int(p.x()), int(p.y())).name() == STATUS_COLOURS["closed"]
    hits = c.features_at(p)
    assert hits[0][0] is findings and hits[0][1].tolist() == [1]


def test_basemap_is_painted_under_the_layers(squares_window):
    from PyQt6.QtCore import QObject, pyqtSignal
    from PyQt6.QtGui import QColor

    class FlatBasemap(QObject):
        changed = pyqtSignal()
        colour = "#a0c8f0"

        def paint(self, painter, viewport):
            painter.fillRect(0, 0, viewport.width, viewport.height, QColor(self.colour))

    win, _ = squares_window
    c = win.canvas
    bm = FlatBasemap()
    c.set_basemap(bm)
    gap = c.to_screen(150, 50)  # between squares 0 and 1
    inside = c.to_screen(50, 50)
    img = c.grab_map()
    assert img.pixelColor(int(gap.x()), int(gap.y())).name() == "#a0c8f0"
    assert img.pixelColor(int(inside.x()), int(inside.y())).name() != "#a0c8f0"
    bm.colour = "#102030"
    bm.changed.emit()
    assert c.grab_map().pixelColor(int(gap.x()), int(gap.y())).name() == "#102030"


def test_group_checkbox_shows_and_hides_its_layers(sample_window):
    win = sample_window
    panel = win.layer_panel
    group = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
             if panel.tree.topLevelItem(i).text(0) == "设施"][0]
    facilities = [lyr for lyr in win.layer_list if lyr.group == "facilities"]
    assert group.checkState(0) == Qt.CheckState.Checked
    group.setCheckState(0, Qt.CheckState.Unchecked)  # as a click does
    assert not any(lyr.visible for lyr in facilities)
    facilities[0].visible = True
    assert group.checkState(0) == Qt.CheckState.PartiallyChecked
    group.setCheckState(0, Qt.CheckState.Checked)
    assert all(lyr.visible for lyr in facilities)

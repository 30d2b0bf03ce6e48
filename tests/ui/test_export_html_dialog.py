"""File → Export HTML map: the dialog exports the chosen layers in a worker."""
from __future__ import annotations

import json
import re

from PyQt6.QtCore import Qt

from ui.export_html_dialog import ExportHtmlDialog


def _open_window(qtbot, sample_gpkg):
    from ui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.open_path(str(sample_gpkg))
    return w


def test_dialog_exports_checked_layers(qtbot, sample_gpkg, tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("ui.export_html_dialog.QDesktopServices.openUrl", lambda url: opened.append(url))
    w = _open_window(qtbot, sample_gpkg)
    action = w.findChild(type(w.export_menu.actions()[0]), "action_export_html")
    assert action is not None, "File → Export has no HTML map action"
    dlg = ExportHtmlDialog(w)
    qtbot.addWidget(dlg)
    for i in range(dlg.layer_list.count()):
        item = dlg.layer_list.item(i)
        keep = item.data(Qt.ItemDataRole.UserRole).name in ("grid_street_town", "transfer_stations")
        item.setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
    dlg.title_edit.setText("季度例会 <b>图</b>")
    out = tmp_path / "m.html"
    dlg.out_edit.setText(str(out))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result_path is not None, timeout=30000)
    page = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="gt-data">(.*?)</script>', page, re.S).group(1))
    assert [l["name"] for l in data["layers"]] == ["grid_street_town", "transfer_stations"]
    assert data["meta"]["title"] == "季度例会 <b>图</b>" and "<title>季度例会 &lt;b&gt;图&lt;/b&gt;</title>" in page
    assert opened and opened[0].toLocalFile() == str(out)


def test_dialog_needs_a_layer(qtbot, sample_gpkg, monkeypatch):
    warned = []
    monkeypatch.setattr("ui.export_html_dialog.QMessageBox.warning", lambda *a: warned.append(a[2]))
    w = _open_window(qtbot, sample_gpkg)
    dlg = ExportHtmlDialog(w)
    qtbot.addWidget(dlg)
    for i in range(dlg.layer_list.count()):
        dlg.layer_list.item(i).setCheckState(Qt.CheckState.Unchecked)
    dlg.start()
    assert warned and dlg.result_path is None

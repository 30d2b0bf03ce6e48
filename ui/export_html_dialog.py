"""File → Export HTML map…: the offline meeting map, with a preview in the browser.

The dialog offers the same choices as ``gridtool export-html``: which layers, title,
subtitle, author, basemap (offline by default; OSM or Tianditu with the user's key,
which comes from the settings and is never written into the project), photo
thumbnails and an optional choropleth. The export runs in a worker
(:func:`ui.worker.run_task`) on copies of the layers, so the window stays responsive.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QCoreApplication, Qt, QUrl
from PyQt6.QtGui import QAction, QDesktopServices
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gridtool.export.html_map import HtmlMapOptions, export_html_map
from gridtool.project import LayerSpec

__all__ = ["ExportHtmlDialog", "add_export_html_action", "layers_snapshot"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("ExportHtmlDialog", text)


def layers_snapshot(layers: list[Any]) -> list[LayerSpec]:
    """Copies of the chosen layers for the worker thread (data, style, title, visibility)."""
    out = []
    for l in layers:
        spec = LayerSpec(name=l.name, kind=l.kind, title=l.title, visible=True, opacity=l.opacity,
                         style=l.style, labels=l.labels)
        spec.gdf = l.gdf.copy()
        out.append(spec)
    return out


class ExportHtmlDialog(QDialog):
    """Choose layers and page options, export in a worker, then offer a preview."""

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.setObjectName("ExportHtmlDialog")
        self.window_ = window
        self.result_path: Path | None = None
        self.setWindowTitle(_tr("Export HTML map"))
        self.layer_list = QListWidget()
        for layer in list(window.layer_list)[::-1]:  # top layer first, as in the layer panel
            item = QListWidgetItem(layer.title)
            item.setData(Qt.ItemDataRole.UserRole, layer)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
            self.layer_list.addItem(item)
        self.title_edit = QLineEdit(HtmlMapOptions().title)
        self.subtitle_edit = QLineEdit()
        self.author_edit = QLineEdit()
        self.basemap_combo = QComboBox()
        for key, text in (("none", _tr("None (offline: district outline and roads)")),
                          ("osm", _tr("OpenStreetMap (needs internet)")),
                          ("tianditu", _tr("Tianditu (needs internet and your key)"))):
            self.basemap_combo.addItem(text, key)
        self.thumbnails_check = QCheckBox(_tr("Embed photo thumbnails in finding popups"))
        self.choropleth_combo = QComboBox()
        self.choropleth_combo.addItem(_tr("(none)"), None)
        for layer in window.layer_list:
            if layer.kind.startswith("grid_") or layer.group == "analysis":
                for col in layer.gdf.columns:
                    if col != layer.gdf.geometry.name and str(layer.gdf[col].dtype) != "object" and \
                            layer.gdf[col].dtype.kind in "if":
                        self.choropleth_combo.addItem(f"{layer.title} · {col}", (layer.name, col))
        self.out_edit = QLineEdit(str(Path.home() / "zhonglou_map.html"))
        browse = QPushButton(_tr("Browse…"))
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit)
        out_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(_tr("Title"), self.title_edit)
        form.addRow(_tr("Subtitle"), self.subtitle_edit)
        form.addRow(_tr("Author"), self.author_edit)
        form.addRow(_tr("Basemap"), self.basemap_combo)
        form.addRow(_tr("Choropleth"), self.choropleth_combo)
        form.addRow("", self.thumbnails_check)
        form.addRow(_tr("Save as"), out_row)
        self.preview_check = QCheckBox(_tr("Open in the browser when done"))
        self.preview_check.setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_tr("Export"))
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.layer_list)
        box.addLayout(form)
        box.addWidget(self.preview_check)
        box.addWidget(buttons)
        self.resize(560, 640)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, _tr("Save HTML map"), self.out_edit.text(), "HTML (*.html)")
        if path:
            self.out_edit.setText(path if path.lower().endswith(".html") else path + ".html")

    def chosen_layers(self) -> list[Any]:
        items = [self.layer_list.item(i) for i in range(self.layer_list.count())]
        chosen = [it.data(Qt.ItemDataRole.UserRole) for it in items if it.checkState() == Qt.CheckState.Checked]
        return chosen[::-1]  # back to drawing order

    def options(self) -> HtmlMapOptions:
        key = None
        basemap = self.basemap_combo.currentData()
        if basemap == "tianditu":
            from ui.basemap import load_key

            key = load_key() or None
        return HtmlMapOptions(title=self.title_edit.text(), subtitle=self.subtitle_edit.text(),
                              author=self.author_edit.text(), basemap=basemap, key=key,
                              thumbnails=self.thumbnails_check.isChecked())

    def _photos(self) -> dict[str, list[str]]:
        store = getattr(self.window_, "findings_store", None)
        if store is None or not self.thumbnails_check.isChecked():
            return {}
        out: dict[str, list[str]] = {}
        for layer in self.chosen_layers():
            if layer.kind == "findings" and "finding_id" in layer.gdf.columns:
                for fid in layer.gdf["finding_id"].dropna().astype(str):
                    try:
                        paths = [str(p.path) for p in store.photos(fid)]
                    except Exception:  # noqa: BLE001 - a finding not in this store has no photos
                        paths = []
                    if paths:
                        out[fid] = paths
        return out

    def start(self) -> None:
        layers = self.chosen_layers()
        if not layers:
            QMessageBox.warning(self, _tr("Export HTML map"), _tr("Choose at least one layer."))
            return
        out = Path(self.out_edit.text()).expanduser()
        from ui.worker import run_task

        snapshot = layers_snapshot(layers)
        opts = self.options()
        photos = self._photos()
        choropleth = self.choropleth_combo.currentData()

        def work(feedback: Any) -> Path:
            feedback.set_progress(5, _tr("Building the map…"))
            path = export_html_map(snapshot, out, opts, photos=photos, choropleth=choropleth)
            feedback.set_progress(100)
            return path

        def done(path: Path) -> None:
            self.result_path = path
            size = os.path.getsize(path) / 1e6
            status = getattr(self.window_, "statusBar", None)
            if callable(status):
                status().showMessage(_tr("Exported {path} ({size:.1f} MB)").format(path=path, size=size), 8000)
            if self.preview_check.isChecked():
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
            self.accept()

        self.task = run_task(self, _tr("Export HTML map"), work, on_done=done)


def add_export_html_action(window: Any, menu: Any) -> QAction:
    """Add "Export HTML map…" to ``menu`` (the File → Export menu)."""
    act = QAction(_tr("Export HTML map…"), window)
    act.setObjectName("action_export_html")
    act.triggered.connect(lambda checked=False: ExportHtmlDialog(window).exec())
    menu.addAction(act)
    return act

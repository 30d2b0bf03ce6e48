"""PNG/PDF export of the map view with title, legend, scale bar, north arrow, date and sources."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import datetime as dt
import shutil
import subprocess

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from layers.layer import Layer
from layers.layer_list import LayerList
from layers.viewport import Viewport
from ui.print_export import ExportOptions, PrintExportDialog, export_view

LAYERS = ("grid_district", "grid_street_town", "roads", "transfer_stations", "collection_points", "findings")


@pytest.fixture()
def sample_layers(sample_layer, sample_gpkg):
    return LayerList([
        Layer(sample_layer(name), name=name, kind=name, source_path=str(sample_gpkg), source_layer=name)
        for name in LAYERS
    ])


def _view(layers: LayerList) -> Viewport:
    return Viewport(width=1000, height=700).fitted(layers.bounds())


def _rgb(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    a = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)[:, : img.width(), 2::-1]
    return a.copy()  # the converted image is freed when this function returns


def test_png_export_of_the_sample_district(qapp, tmp_path, sample_layers):
    out = export_view(
        tmp_path / "map.png", sample_layers, _view(sample_layers),
        ExportOptions(title="钟楼区无废城市网格 巡查图", page="A4", landscape=True, dpi=100, date=dt.date(2026, 11, 29)),
    )
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1169, 827)  # A4 landscape at 100 dpi
    rgb = _rgb(img)
    # the transfer stations' red (#d7301f) is drawn in the map frame
    red = (np.abs(rgb.astype(int) - [0xD7, 0x30, 0x1F]).sum(axis=2) < 40)
    assert red.sum() > 30
    ys, xs = np.nonzero(red)
    assert xs.max() < 0.8 * img.width()  # inside the map frame, left of the legend
    # the title band has dark text pixels near the top centre
    band = rgb[10:70, 300:870]
    assert (band.sum(axis=2) < 200).sum() > 200
    # the legend (right column) has symbols: the collection points' green #31a354
    legend = rgb[:, int(0.78 * img.width()):]
    assert (np.abs(legend.astype(int) - [0x31, 0xA3, 0x54]).sum(axis=2) < 40).sum() > 10


def test_pdf_export_is_a_valid_pdf(qapp, tmp_path, sample_layers):
    out = export_view(tmp_path / "map.pdf", sample_layers, _view(sample_layers),
                      ExportOptions(title="钟楼区", page="A3", dpi=150))
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:]
    assert len(data) > 20_000
    if shutil.which("pdftoppm"):  # optional: render it when poppler-utils is installed
        subprocess.run(["pdftoppm", "-r", "20", "-png", str(out), str(tmp_path / "page")], check=True, timeout=60)
        page = QImage(str(next(tmp_path.glob("page*.png"))))
        assert page.width() > page.height()  # landscape


def test_export_rejects_bad_input(qapp, tmp_path, sample_layers):
    with pytest.raises(ValueError, match="'tif'.*expected .png or .pdf"):
        export_view(tmp_path / "map.tif", sample_layers, _view(sample_layers))
    with pytest.raises(ValueError, match="dpi 5 is outside"):
        export_view(tmp_path / "map.png", sample_layers, _view(sample_layers), ExportOptions(dpi=5))


def test_dialog_exports_the_window_view(qtbot, tmp_path, sample_layers):
    class Canvas:
        viewport = _view(sample_layers)

    class Window:
        layer_list = sample_layers
        canvas = Canvas()
        basemap = None
        current_project = None

    dlg = PrintExportDialog(Window(), fmt="png")
    qtbot.addWidget(dlg)
    dlg.title_edit.setText("测试")
    dlg.page_combo.setCurrentIndex(dlg.page_combo.findData("view:landscape"))
    dlg.dpi_spin.setValue(96)
    dlg.path_edit.setText(str(tmp_path / "view"))
    out = dlg.export()
    assert out.suffix == ".png" and out.exists()
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000 + 300, 700 + 150)
    dlg.format_combo.setCurrentIndex(1)
    assert dlg.path_edit.text().endswith(".pdf")
    assert dlg.page_combo.findData("view:landscape") == -1  # PDF pages are A4/A3 only

"""The status bar: cursor position (CGCS2000 lon/lat and EPSG:4549 metres), scale, CRS."""
from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QCoreApplication, QEvent, Qt
from PyQt6.QtGui import QValidator
from PyQt6.QtWidgets import QComboBox, QLabel, QStatusBar, QWidget

from gridtool.kinds import WORK_EPSG

__all__ = ["MapStatusBar", "lonlat", "format_coordinates", "SCALES", "parse_scale"]

SCALES = (5000, 10000, 25000, 50000, 100000, 250000)
_transformer = None


def _tr(text: str) -> str:
    return QCoreApplication.translate("StatusBar", text)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:4549 metres → CGCS2000 (EPSG:4490) longitude, latitude (one Transformer, made once)."""
    global _transformer
    if _transformer is None:
        from pyproj import Transformer

        _transformer = Transformer.from_crs(WORK_EPSG, 4490, always_xy=True)
    lon, lat = _transformer.transform(x, y)
    return float(lon), float(lat)


def format_coordinates(x: float, y: float) -> str:
    """``"119.951234, 31.781234 (CGCS2000); 495123.4, 3517234.5 (EPSG:4549)"``: copy-pasteable text."""
    lon, lat = lonlat(x, y)
    return f"{lon:.6f}, {lat:.6f} (CGCS2000); {x:.1f}, {y:.1f} (EPSG:{WORK_EPSG})"


def parse_scale(text: str) -> float | None:
    """``"1:25,000"``, ``"25000"`` or ``"1：25 000"`` → 25000.0; None when not a positive number."""
    t = text.replace("：", ":").replace(",", "").replace(" ", "").replace("\u00a0", "")
    if ":" in t:
        t = t.split(":", 1)[1]
    try:
        v = float(t)
    except ValueError:
        return None
    return v if v > 0 else None


class _ScaleValidator(QValidator):
    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if parse_scale(text) is not None:
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class MapStatusBar(QStatusBar):
    """Coordinates under the cursor, an editable scale box (1:5,000 … 1:250,000) and the CRS."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas: Any | None = None
        self.lonlat_label = QLabel()
        self.xy_label = QLabel()
        self.scale_caption = QLabel()
        self.scale_box = QComboBox()
        self.scale_box.setEditable(True)
        self.scale_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.scale_box.setMinimumWidth(110)
        self.scale_box.lineEdit().setValidator(_ScaleValidator(self))
        for s in SCALES:
            self.scale_box.addItem(f"1:{s:,}", s)
        self.scale_box.activated.connect(self._scale_chosen)
        self.scale_box.lineEdit().returnPressed.connect(self._scale_typed)
        self.crs_label = QLabel(f"EPSG:{WORK_EPSG}")
        for w in (self.lonlat_label, self.xy_label):
            w.setMinimumWidth(200)
        self.addPermanentWidget(self.lonlat_label)
        self.addPermanentWidget(self.xy_label)
        self.addPermanentWidget(self.scale_caption)
        self.addPermanentWidget(self.scale_box)
        self.addPermanentWidget(self.crs_label)
        self.retranslate()

    def retranslate(self) -> None:
        self.scale_caption.setText(_tr("Scale"))
        self.crs_label.setToolTip(_tr("Working CRS: CGCS2000 / 3-degree Gauss-Kruger CM 120E"))
        self.lonlat_label.setToolTip(_tr("Longitude, latitude (CGCS2000)"))
        self.xy_label.setToolTip(_tr("X, Y in metres (EPSG:4549)"))

    def changeEvent(self, ev: QEvent) -> None:  # noqa: N802
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    def set_canvas(self, canvas: Any) -> None:
        self.canvas = canvas
        canvas.cursorMoved.connect(self.show_position)
        canvas.viewportChanged.connect(lambda vp: self.show_scale(vp.scale))
        canvas.coordinatesCopied.connect(lambda t: self.showMessage(_tr("Copied: {0}").format(t), 4000))
        self.show_scale(canvas.scale)

    def show_position(self, x: float, y: float) -> None:
        lon, lat = lonlat(x, y)
        self.lonlat_label.setText(f"{lon:.6f}°E, {lat:.6f}°N")
        self.xy_label.setText(f"X {x:,.1f} m  Y {y:,.1f} m")

    def show_scale(self, scale: float) -> None:
        if not self.scale_box.lineEdit().hasFocus():
            self.scale_box.setEditText(f"1:{scale:,.0f}")

    def _scale_chosen(self, index: int) -> None:
        s = self.scale_box.itemData(index)
        if self.canvas is not None and s:
            self.canvas.zoom_to_scale(float(s))

    def _scale_typed(self) -> None:
        s = parse_scale(self.scale_box.currentText())
        if self.canvas is not None and s:
            self.canvas.zoom_to_scale(s)
            self.canvas.setFocus()

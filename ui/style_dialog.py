"""The style dialog: single symbol, categorized or graduated styles and labels for one layer.

It builds :mod:`gridtool.styles` objects (``categorized()`` / ``graduated()``), shows
the legend they give and writes them through ``layer.style`` / ``layer.labels`` on
Apply or OK, so every view (canvas, legend, HTML export) follows.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from PyQt6.QtCore import QCoreApplication, QEvent, Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gridtool.errors import InputError
from gridtool.styles import (
    MARKERS,
    RAMPS,
    Categorized,
    Graduated,
    LabelSpec,
    SingleSymbol,
    Style,
    Symbol,
    categorized,
    graduated,
    legend_entries,
)
from ui.layer_panel import layer_display_title, symbol_icon

__all__ = ["StyleDialog"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("StyleDialog", text)


class _ColourButton(QPushButton):
    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clicked.connect(self._choose)
        self.set_colour(colour)

    def set_colour(self, colour: str) -> None:
        self.colour = QColor(colour).name()
        self.setText(self.colour)
        self.setStyleSheet(f"background-color: {self.colour}; color: {'#000' if QColor(colour).lightness() > 128 else '#fff'}")

    def _choose(self) -> None:
        c = QColorDialog.getColor(QColor(self.colour), self)
        if c.isValid():
            self.set_colour(c.name())


def _base_symbol(style: Style) -> Symbol:
    if isinstance(style, SingleSymbol):
        return style.symbol
    if isinstance(style, Categorized):
        return style.categories[0].symbol if style.categories else style.default
    return style.symbols[0] if style.symbols else Symbol()


class StyleDialog(QDialog):
    """Edit ``layer.style`` and ``layer.labels``."""

    TYPES = ("single", "categorized", "graduated")

    def __init__(self, layer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StyleDialog")
        self.layer = layer
        gdf = layer.gdf
        geom = gdf.geometry.name
        self.fields = [c for c in gdf.columns if c != geom]
        self.numeric_fields = [c for c in self.fields if pd.api.types.is_numeric_dtype(gdf[c])]
        self.geometry_type = layer.geometry_type
        base = _base_symbol(layer.style)

        self.type_box = QComboBox()
        self.field_box = QComboBox()
        self.fill_btn = _ColourButton(base.fill)
        self.stroke_btn = _ColourButton(base.stroke)
        self.width_spin = QDoubleSpinBox(minimum=0.0, maximum=20.0, singleStep=0.2, value=float(base.stroke_width))
        self.size_spin = QDoubleSpinBox(minimum=1.0, maximum=60.0, singleStep=1.0, value=float(base.size))
        self.opacity_spin = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, value=float(base.fill_opacity))
        self.marker_box = QComboBox()
        self.marker_box.addItems(list(MARKERS))
        self.marker_box.setCurrentText(base.marker)
        self.classes_spin = QSpinBox(minimum=2, maximum=9, value=5)
        self.method_box = QComboBox()
        self.ramp_box = QComboBox()
        self.ramp_box.addItems(list(RAMPS))
        self.labels_check = QCheckBox()
        self.label_field_box = QComboBox()
        self.label_field_box.addItems([str(f) for f in self.fields])
        self.label_scale_spin = QSpinBox(minimum=1000, maximum=1_000_000, singleStep=5000, value=60000)
        self.legend = QListWidget()
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)

        self.form = QFormLayout()
        self._rows: dict[str, QLabel] = {}
        for key, w in (("type", self.type_box), ("field", self.field_box), ("fill", self.fill_btn),
                       ("stroke", self.stroke_btn), ("width", self.width_spin), ("size", self.size_spin),
                       ("opacity", self.opacity_spin), ("marker", self.marker_box), ("classes", self.classes_spin),
                       ("method", self.method_box), ("ramp", self.ramp_box)):
            lbl = QLabel()
            self._rows[key] = lbl
            self.form.addRow(lbl, w)
        self.symbol_group = QGroupBox()
        self.symbol_group.setLayout(self.form)
        lform = QFormLayout()
        self._label_rows = {k: QLabel() for k in ("field", "scale")}
        lform.addRow(self.labels_check)
        lform.addRow(self._label_rows["field"], self.label_field_box)
        lform.addRow(self._label_rows["scale"], self.label_scale_spin)
        self.labels_group = QGroupBox()
        self.labels_group.setLayout(lform)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(self.apply)
        self.legend_title = QLabel()
        lay = QVBoxLayout(self)
        lay.addWidget(self.symbol_group)
        lay.addWidget(self.legend_title)
        lay.addWidget(self.legend, 1)
        lay.addWidget(self.labels_group)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)

        self.retranslate()
        style = layer.style
        self.type_box.setCurrentIndex(self.TYPES.index(style.type))
        self._fill_fields()
        if isinstance(style, (Categorized, Graduated)) and style.field in self.fields:
            self.field_box.setCurrentText(str(style.field))
        if isinstance(style, Graduated):
            self.classes_spin.setValue(max(2, min(9, len(style.symbols))))
            self.method_box.setCurrentIndex(0 if style.method == "quantile" else 1)
            self.ramp_box.setCurrentText(style.ramp if style.ramp in RAMPS else "YlOrRd")
        spec = layer.labels
        self.labels_check.setChecked(spec is not None)
        if spec is not None:
            self.label_field_box.setCurrentText(spec.field)
            self.label_scale_spin.setValue(int(spec.max_scale))
        elif "name" in self.fields:
            self.label_field_box.setCurrentText("name")
        for w in (self.type_box, self.field_box, self.method_box, self.ramp_box, self.marker_box):
            w.currentIndexChanged.connect(self._changed)
        for w in (self.width_spin, self.size_spin, self.opacity_spin, self.classes_spin):
            w.valueChanged.connect(self._changed)
        for b in (self.fill_btn, self.stroke_btn):
            b.clicked.connect(self._changed)
        self.type_box.currentIndexChanged.connect(self._fill_fields)
        self._changed()

    # ------------------------------------------------------------------ i18n
    def retranslate(self) -> None:
        self.setWindowTitle(_tr("Style of {0}").format(layer_display_title(self.layer)))
        idx = self.type_box.currentIndex()
        self.type_box.blockSignals(True)
        self.type_box.clear()
        self.type_box.addItems([_tr("Single symbol"), _tr("Categorized"), _tr("Graduated")])
        self.type_box.setCurrentIndex(max(idx, 0))
        self.type_box.blockSignals(False)
        m = self.method_box.currentIndex()
        self.method_box.blockSignals(True)
        self.method_box.clear()
        self.method_box.addItems([_tr("Quantiles (equal counts)"), _tr("Equal intervals")])
        self.method_box.setCurrentIndex(max(m, 0))
        self.method_box.blockSignals(False)
        for key, text in (("type", _tr("Style type")), ("field", _tr("Field")), ("fill", _tr("Fill colour")),
                          ("stroke", _tr("Outline colour")), ("width", _tr("Outline width (px)")),
                          ("size", _tr("Marker size (px)")), ("opacity", _tr("Fill opacity")),
                          ("marker", _tr("Marker")), ("classes", _tr("Classes")), ("method", _tr("Method")),
                          ("ramp", _tr("Colour ramp"))):
            self._rows[key].setText(text)
        self.symbol_group.setTitle(_tr("Symbology"))
        self.labels_group.setTitle(_tr("Labels"))
        self.labels_check.setText(_tr("Show labels"))
        self._label_rows["field"].setText(_tr("Label field"))
        self._label_rows["scale"].setText(_tr("Show below scale 1:"))
        self.legend_title.setText(_tr("Legend"))

    def changeEvent(self, ev: QEvent) -> None:  # noqa: N802
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    # ------------------------------------------------------------------ building
    @property
    def style_type(self) -> str:
        return self.TYPES[max(self.type_box.currentIndex(), 0)]

    def _fill_fields(self) -> None:
        current = self.field_box.currentText()
        fields = self.numeric_fields if self.style_type == "graduated" else self.fields
        self.field_box.blockSignals(True)
        self.field_box.clear()
        self.field_box.addItems([str(f) for f in fields])
        if current in fields:
            self.field_box.setCurrentText(current)
        self.field_box.blockSignals(False)

    def _base(self) -> Symbol:
        return Symbol(
            fill=self.fill_btn.colour, stroke=self.stroke_btn.colour, stroke_width=self.width_spin.value(),
            size=self.size_spin.value(), marker=self.marker_box.currentText(),
            fill_opacity=self.opacity_spin.value(),
        )

    def build_style(self) -> Style:
        """The style the controls describe (raises InputError with the reason when it cannot be built)."""
        base = self._base()
        t = self.style_type
        if t == "single":
            return SingleSymbol(base)
        field = self.field_box.currentText()
        if not field:
            raise InputError(_tr("Choose a field for a {0} style").format(self.type_box.currentText()))
        if t == "categorized":
            return categorized(self.layer.gdf, field, base=base)
        method = "quantile" if self.method_box.currentIndex() == 0 else "equal"
        return graduated(self.layer.gdf, field, classes=self.classes_spin.value(), method=method,
                         ramp=self.ramp_box.currentText(), base=replace(base))

    def build_labels(self) -> LabelSpec | None:
        if not self.labels_check.isChecked() or not self.label_field_box.currentText():
            return None
        old = self.layer.labels or LabelSpec()
        return replace(old, field=self.label_field_box.currentText(), max_scale=float(self.label_scale_spin.value()))

    def _changed(self, *args: Any) -> None:
        t = self.style_type
        for key in ("field",):
            self._rows[key].setVisible(t != "single")
            self.field_box.setVisible(t != "single")
        grad = t == "graduated"
        for key, w in (("classes", self.classes_spin), ("method", self.method_box), ("ramp", self.ramp_box)):
            self._rows[key].setVisible(grad)
            w.setVisible(grad)
        point = self.geometry_type in ("point", "mixed")
        for key, w in (("size", self.size_spin), ("marker", self.marker_box)):
            self._rows[key].setVisible(point)
            w.setVisible(point)
        self.legend.clear()
        try:
            style = self.build_style()
        except (InputError, ValueError) as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        geom = "point" if self.geometry_type == "mixed" else self.geometry_type
        for label, sym in legend_entries(style):
            QListWidgetItem(symbol_icon(sym, geom), label or layer_display_title(self.layer), self.legend)

    # ------------------------------------------------------------------ applying
    def apply(self) -> bool:
        """Write the style and labels to the layer; False (with the reason shown) when invalid."""
        try:
            style = self.build_style()
        except (InputError, ValueError) as exc:
            self.error.setText(str(exc))
            return False
        self.layer.style = style
        self.layer.labels = self.build_labels()
        return True

    def accept(self) -> None:
        if self.apply():
            super().accept()

"""Export the current map view as a PNG image or a PDF page, with the usual map furniture.

One layout routine (:func:`paint_layout`) draws onto any QPainter device, so the PNG
(``QImage``) and the PDF (``QPdfWriter``, vector output, no QPrinter needed) look the
same: a title, the map frame (drawn by :func:`ui.render.render_map`, the canvas's own
renderer, with the basemap when one is active), a legend of the visible layers
(:func:`gridtool.styles.legend_entries`), a scale bar giving the true paper scale, a
north arrow, the date, the coordinate-system note and a data-source line.

Map symbols are sized in screen pixels (1/96 inch); the layout scales the painter by
``dpi / 96`` so that a 7 px marker is as large on paper as on a 96-dpi screen, in PNG
and PDF alike. The map frame shows at least the extent of the view it is given.

Public API: :class:`ExportOptions`, :func:`export_view`, :func:`paint_layout`,
:class:`PrintExportDialog`, :func:`add_export_actions` (menu hook used by the main
window).
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from PyQt6.QtCore import QCoreApplication, QMarginsF, QPointF, QRectF, QSettings, QSizeF, Qt
from PyQt6.QtGui import QAction, QColor, QFont, QFontMetricsF, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from gridtool.styles import SingleSymbol, Symbol, legend_entries
from layers.viewport import Viewport
from ui import render
from ui.fonts import label_font

__all__ = ["ExportOptions", "PAGE_SIZES", "export_view", "paint_layout", "PrintExportDialog", "add_export_actions"]

CTX = "PrintExport"
SCREEN_DPI = 96.0
MM_PER_INCH = 25.4
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
"""Landscape page sizes in millimetres."""
CRS_NOTE = "Coordinate system: CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549)"


def _t(text: str) -> str:
    return QCoreApplication.translate(CTX, text)


@dataclass
class ExportOptions:
    """What to export and how.

    Attributes
    ----------
    title
        Printed above the map ("" for none).
    page
        ``"A4"`` or ``"A3"`` (PDF and PNG), or ``"view"`` (PNG only: the canvas size
        plus room for the furniture).
    landscape
        Page orientation.
    dpi
        Output resolution (PNG pixels per inch; PDF device resolution).
    date
        Printed date; default today.
    data_source
        Data-source line; default the layers' source files.
    """

    title: str = ""
    page: str = "A4"
    landscape: bool = True
    dpi: int = 150
    date: _dt.date | None = None
    data_source: str | None = None
    legend: bool = True
    north_arrow: bool = True
    background: str = "#ffffff"
    extra_notes: list[str] = field(default_factory=list)


def _page_px(opts: ExportOptions, view: Viewport) -> tuple[int, int]:
    if opts.page == "view":
        s = opts.dpi / SCREEN_DPI
        return int(round((view.width + 300) * s)), int(round((view.height + 150) * s))
    if opts.page not in PAGE_SIZES:
        raise ValueError(f"page {opts.page!r} is unknown; expected one of {', '.join(PAGE_SIZES)} or 'view'")
    w_mm, h_mm = PAGE_SIZES[opts.page]
    if not opts.landscape:
        w_mm, h_mm = h_mm, w_mm
    return int(round(w_mm / MM_PER_INCH * opts.dpi)), int(round(h_mm / MM_PER_INCH * opts.dpi))


def _geometry_kind(layer: Any) -> str:
    gt = getattr(layer, "geometry_type", None)
    if isinstance(gt, str) and gt in ("point", "line", "polygon"):
        return gt
    try:
        types = set(layer.gdf.geom_type.dropna().unique())
    except Exception:  # noqa: BLE001 - any odd layer: treat as polygon
        return "polygon"
    if types and all("Point" in t for t in types):
        return "point"
    if types and all("Line" in t for t in types):
        return "line"
    return "polygon"


def _data_source(layers: Sequence[Any], basemap: Any | None) -> str:
    names: list[str] = []
    for lyr in layers:
        p = getattr(lyr, "source_path", None)
        if p:
            n = os.path.basename(str(p))
            if n not in names:
                names.append(n)
    text = _t("Data source: %1").replace("%1", "; ".join(names) if names else _t("layers of this project"))
    src = getattr(basemap, "source", None)
    if basemap is not None and getattr(basemap, "is_active", lambda: False)() and src is not None:
        text += "  " + _t("Basemap: %1").replace("%1", getattr(src, "attribution", "") or src.provider)
    return text


# --------------------------------------------------------------------------- furniture
def _draw_legend_symbol(p: QPainter, sym: Symbol, kind: str, rect: QRectF) -> None:
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if kind == "point":
        pm = render.symbol_pixmap(sym)
        p.drawPixmap(QPointF(rect.center().x() - pm.width() / 2, rect.center().y() - pm.height() / 2), pm)
    elif kind == "line":
        p.setPen(render._pen(sym))
        p.drawLine(QPointF(rect.left() + 1, rect.center().y()), QPointF(rect.right() - 1, rect.center().y()))
    else:
        p.setPen(render._pen(sym))
        p.setBrush(render._brush(sym))
        p.drawRect(rect.adjusted(1, 2, -1, -2))
    p.restore()


def _legend_height(layers: Sequence[Any], fm: QFontMetricsF, fm_b: QFontMetricsF) -> float:
    h = fm_b.height() * 1.6
    for lyr in layers:
        entries = legend_entries(lyr.style)
        h += fm_b.height() * 1.35
        if not (isinstance(lyr.style, SingleSymbol) or len(entries) <= 1 and not entries[0][0]):
            h += len(entries) * fm.height() * 1.35
    return h


def _draw_legend(p: QPainter, layers: Sequence[Any], box: QRectF) -> None:
    """Layers top to bottom (reverse drawing order), each with its symbol classes."""
    font, font_b = label_font(8.5), label_font(9.0, bold=True)
    fm, fm_b = QFontMetricsF(font), QFontMetricsF(font_b)
    shown = [lyr for lyr in reversed(list(layers)) if getattr(lyr, "visible", True)]
    need = _legend_height(shown, fm, fm_b) + 12
    height = min(box.height(), need)
    frame = QRectF(box.left(), box.top(), box.width(), height)
    p.save()
    p.setClipRect(frame.adjusted(-2, -2, 2, 2))
    p.fillRect(frame, QColor(255, 255, 255, 235))
    p.setPen(QPen(QColor("#888888"), 0.8))
    p.drawRect(frame)
    x, y = frame.left() + 8, frame.top() + 6
    p.setFont(font_b)
    p.setPen(QColor("#222222"))
    p.drawText(QPointF(x, y + fm_b.ascent()), _t("Legend"))
    y += fm_b.height() * 1.6
    sw = 22.0
    for lyr in shown:
        if y + fm_b.height() > frame.bottom():
            p.setFont(font)
            p.drawText(QPointF(x, frame.bottom() - 4), "…")
            break
        kind = _geometry_kind(lyr)
        entries = legend_entries(lyr.style)
        single = isinstance(lyr.style, SingleSymbol) or (len(entries) == 1 and not entries[0][0])
        title = str(getattr(lyr, "title", "") or getattr(lyr, "name", ""))
        p.setFont(font_b)
        p.setPen(QColor("#222222"))
        if single:
            _draw_legend_symbol(p, entries[0][1], kind, QRectF(x, y, sw, fm_b.height()))
            p.setPen(QColor("#222222"))
            p.drawText(QPointF(x + sw + 6, y + fm_b.ascent()), fm_b.elidedText(title, Qt.TextElideMode.ElideRight, frame.width() - sw - 22))
            y += fm_b.height() * 1.35
            continue
        p.drawText(QPointF(x, y + fm_b.ascent()), fm_b.elidedText(title, Qt.TextElideMode.ElideRight, frame.width() - 16))
        y += fm_b.height() * 1.35
        p.setFont(font)
        for label, sym in entries:
            if y + fm.height() > frame.bottom():
                break
            _draw_legend_symbol(p, sym, kind, QRectF(x + 8, y, sw, fm.height()))
            p.setPen(QColor("#222222"))
            p.drawText(QPointF(x + sw + 14, y + fm.ascent()), fm.elidedText(str(label), Qt.TextElideMode.ElideRight, frame.width() - sw - 30))
            y += fm.height() * 1.35
    p.restore()


def _nice(m: float) -> float:
    return render.nice_scale_length(m)


def _draw_scale_bar(p: QPainter, x: float, y: float, mpp: float, max_w: float) -> QRectF:
    """Scale bar in layout pixels (1/96 in); ``mpp`` = ground metres per layout pixel."""
    length = _nice(max_w * mpp)
    if length <= 0:
        return QRectF()
    w = length / mpp
    font = label_font(8.0)
    fm = QFontMetricsF(font)
    scale = mpp / (MM_PER_INCH / SCREEN_DPI / 1000.0)  # ground metres per paper metre
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    box = QRectF(x - 6, y - fm.height() - 6, w + 12 + fm.horizontalAdvance(label) / 2, 2 * fm.height() + 20)
    p.save()
    p.fillRect(box, QColor(255, 255, 255, 220))
    p.setPen(QPen(QColor("#222222"), 0.8))
    for i in range(4):
        p.setBrush(QColor("#222222") if i % 2 == 0 else QColor("#ffffff"))
        p.drawRect(QRectF(x + i * w / 4, y, w / 4, 5))
    p.setFont(font)
    p.drawText(QPointF(x - fm.horizontalAdvance("0") / 2, y - 3), "0")
    p.drawText(QPointF(x + w - fm.horizontalAdvance(label) / 2, y - 3), label)
    p.drawText(QPointF(x, y + 5 + fm.ascent() + 2), _t("Scale 1:%1").replace("%1", f"{_round_scale(scale):,}"))
    p.restore()
    return box


def _round_scale(s: float) -> int:
    if s <= 0 or not math.isfinite(s):
        return 0
    k = 10 ** max(int(math.floor(math.log10(s))) - 2, 0)
    return int(round(s / k) * k)


# --------------------------------------------------------------------------- layout
def paint_layout(
    painter: QPainter,
    width_px: int,
    height_px: int,
    layers: Sequence[Any],
    view: Viewport,
    opts: ExportOptions,
    *,
    basemap: Any | None = None,
) -> Viewport:
    """Draw the whole export page on ``painter`` (a device of ``width_px`` × ``height_px``).

    Returns the viewport of the map frame (in layout pixels, 1/96 inch), for tests.
    """
    k = opts.dpi / SCREEN_DPI
    W, H = width_px / k, height_px / k  # layout pixels
    painter.save()
    painter.scale(k, k)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.fillRect(QRectF(0, 0, W, H), QColor(opts.background))
    margin = max(min(W, H) * 0.035, 12.0)
    title_font = label_font(16.0, bold=True)
    fm_title = QFontMetricsF(title_font)
    small = label_font(7.5)
    fm_small = QFontMetricsF(small)
    top = margin
    if opts.title:
        painter.setFont(title_font)
        painter.setPen(QColor("#1a1a1a"))
        text = fm_title.elidedText(opts.title, Qt.TextElideMode.ElideRight, W - 2 * margin)
        painter.drawText(QPointF((W - fm_title.horizontalAdvance(text)) / 2, top + fm_title.ascent()), text)
        top += fm_title.height() + margin * 0.5
    footer_h = fm_small.height() * 2 + 6
    legend_w = min(max(W * 0.2, 150.0), 240.0) if opts.legend else 0.0
    gap = margin * 0.5 if opts.legend else 0.0
    frame = QRectF(margin, top, W - 2 * margin - legend_w - gap, H - top - margin - footer_h)
    # map viewport: same centre, showing at least the given view's extent
    fw, fh = max(int(frame.width()), 1), max(int(frame.height()), 1)
    mpp = max(view.width * view.mpp / fw, view.height * view.mpp / fh)
    vp = Viewport(view.cx, view.cy, mpp, fw, fh)
    painter.save()
    painter.translate(frame.topLeft())
    painter.setClipRect(QRectF(0, 0, fw, fh))
    if basemap is not None and hasattr(basemap, "wait_for_tiles") and getattr(basemap, "is_active", lambda: False)():
        basemap.wait_for_tiles(vp, timeout_ms=15000)
    render.render_map(painter, list(layers), vp, basemap=basemap, background="#f7f6f2", labels=True,
                      selection=False, scale_bar=False, north_arrow=False)
    _draw_scale_bar(painter, 14.0, fh - 2.2 * fm_small.height() - 14, mpp, min(200.0, fw * 0.3))
    if opts.north_arrow:
        render.draw_north_arrow(painter, vp)
    painter.restore()
    painter.setPen(QPen(QColor("#444444"), 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(frame)
    if opts.legend:
        _draw_legend(painter, layers, QRectF(frame.right() + gap, frame.top(), legend_w, frame.height()))
    # footer: date and CRS on the first line, data sources on the second
    date = opts.date or _dt.date.today()
    painter.setFont(small)
    painter.setPen(QColor("#333333"))
    y1 = frame.bottom() + 4 + fm_small.ascent()
    left = _t("Date: %1").replace("%1", date.isoformat()) + "    " + _t(CRS_NOTE)
    painter.drawText(QPointF(margin, y1), fm_small.elidedText(left, Qt.TextElideMode.ElideRight, W - 2 * margin))
    src = opts.data_source if opts.data_source is not None else _data_source(layers, basemap)
    notes = "    ".join([src] + list(opts.extra_notes))
    painter.drawText(QPointF(margin, y1 + fm_small.height()),
                     fm_small.elidedText(notes, Qt.TextElideMode.ElideRight, W - 2 * margin))
    painter.restore()
    return vp


def export_view(
    path: str | os.PathLike[str],
    layers: Sequence[Any],
    view: Viewport,
    opts: ExportOptions | None = None,
    *,
    basemap: Any | None = None,
    fmt: str | None = None,
) -> Path:
    """Write the map of ``view`` with ``layers`` to a PNG or PDF file.

    Parameters
    ----------
    path
        Output file; its suffix (``.png`` / ``.pdf``) picks the format unless ``fmt`` is given.
    layers
        Bottom to top (a ``LayerList`` or ``MapLayer`` objects); hidden layers are skipped.
    view
        The canvas viewport to export (its extent is shown in full).
    opts
        Title, page, DPI …; defaults to :class:`ExportOptions`.
    basemap
        A :class:`ui.basemap.BasemapLayer`; its tiles are awaited (≤ 15 s) before drawing.

    Raises
    ------
    ValueError
        For an unknown format or page, or a DPI outside 36–1200.
    OSError
        When the file cannot be written (the message names it).
    """
    opts = opts or ExportOptions()
    p = Path(path)
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    if fmt not in ("png", "pdf"):
        raise ValueError(f"export format {fmt!r} (from {str(p)!r}) is unknown; expected .png or .pdf")
    if not 36 <= int(opts.dpi) <= 1200:
        raise ValueError(f"dpi {opts.dpi!r} is outside 36–1200; 150 suits screens, 300 print")
    if fmt == "pdf" and opts.page == "view":
        opts = replace(opts, page="A4")
    p.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "png":
        w, h = _page_px(opts, view)
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.setDotsPerMeterX(int(round(opts.dpi / 0.0254)))
        img.setDotsPerMeterY(int(round(opts.dpi / 0.0254)))
        img.fill(QColor(opts.background))
        painter = QPainter(img)
        try:
            paint_layout(painter, w, h, layers, view, opts, basemap=basemap)
        finally:
            painter.end()
        if not img.save(str(p), "PNG"):
            raise OSError(f"cannot write the PNG {str(p)!r}; check the folder exists and is writable")
        return p
    writer = QPdfWriter(str(p))
    writer.setResolution(int(opts.dpi))
    w_mm, h_mm = PAGE_SIZES[opts.page]
    page_size = QPageSize(QSizeF(min(w_mm, h_mm), max(w_mm, h_mm)), QPageSize.Unit.Millimeter, opts.page)
    writer.setPageLayout(QPageLayout(page_size, QPageLayout.Orientation.Landscape if opts.landscape
                                     else QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    writer.setTitle(opts.title or "gridtool map")
    writer.setCreator("gridtool")
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write the PDF {str(p)!r}; check the folder exists and is writable")
    try:
        w, h = writer.width(), writer.height()
        paint_layout(painter, w, h, layers, view, opts, basemap=basemap)
    finally:
        painter.end()
    return p


# --------------------------------------------------------------------------- dialog
class PrintExportDialog(QDialog):
    """Title, format (PNG/PDF), page (A4/A3, landscape/portrait, or the view size), DPI and file.

    ``window`` is the main window (``layer_list``, ``canvas.viewport``, ``basemap``,
    ``current_project``); :meth:`export` writes the file and returns its path.
    """

    def __init__(self, window: Any, parent: QWidget | None = None, *, fmt: str = "png") -> None:
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.window_ = window
        self.title_edit = QLineEdit(self)
        proj = getattr(window, "current_project", None)
        self.title_edit.setText(getattr(proj, "title", "") or "")
        self.format_combo = QComboBox(self)
        self.format_combo.addItem("PNG", "png")
        self.format_combo.addItem("PDF", "pdf")
        self.format_combo.setCurrentIndex(1 if fmt == "pdf" else 0)
        self.page_combo = QComboBox(self)
        self.dpi_spin = QSpinBox(self)
        self.dpi_spin.setRange(72, 600)
        self.dpi_spin.setSingleStep(50)
        self.dpi_spin.setValue(int(QSettings().value("export/dpi", 150)))
        self.path_edit = QLineEdit(self)
        self.browse = QPushButton(self)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse)
        self.form = QFormLayout(self)
        self.form.addRow("", self.title_edit)
        self.form.addRow("", self.format_combo)
        self.form.addRow("", self.page_combo)
        self.form.addRow("", self.dpi_spin)
        self.form.addRow("", row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.form.addRow(self.buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.browse.clicked.connect(self._browse)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.retranslate()
        self._format_changed()
        self.written: Path | None = None

    def retranslate(self) -> None:
        self.setWindowTitle(_t("Export map view"))
        labels = [_t("Title"), _t("Format"), _t("Page"), _t("Resolution (DPI)"), _t("File")]
        for i, text in enumerate(labels):
            item = self.form.itemAt(i, QFormLayout.ItemRole.LabelRole)
            if item is not None and item.widget() is not None:
                item.widget().setText(text)
        self.browse.setText(_t("Browse…"))
        self._fill_pages()

    def changeEvent(self, event: Any) -> None:  # noqa: N802
        from PyQt6.QtCore import QEvent

        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _fill_pages(self) -> None:
        current = self.page_combo.currentData()
        self.page_combo.blockSignals(True)
        self.page_combo.clear()
        for page in ("A4", "A3"):
            self.page_combo.addItem(_t("%1 landscape").replace("%1", page), f"{page}:landscape")
            self.page_combo.addItem(_t("%1 portrait").replace("%1", page), f"{page}:portrait")
        if self.format_combo.currentData() == "png":
            self.page_combo.addItem(_t("Size of the map view"), "view:landscape")
        idx = self.page_combo.findData(current) if current is not None else 0
        self.page_combo.setCurrentIndex(max(idx, 0))
        self.page_combo.blockSignals(False)

    def _format_changed(self, *args: Any) -> None:
        self._fill_pages()
        fmt = self.format_combo.currentData()
        text = self.path_edit.text()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix("." + fmt)))
        else:
            base = QSettings().value("export/dir", str(Path.home()))
            name = (self.title_edit.text() or "map").strip().replace("/", "_").replace("\\", "_") or "map"
            self.path_edit.setText(str(Path(str(base)) / f"{name}.{fmt}"))

    def _browse(self) -> None:
        fmt = self.format_combo.currentData()
        flt = "PNG (*.png)" if fmt == "png" else "PDF (*.pdf)"
        path, _ = QFileDialog.getSaveFileName(self, _t("Export map view"), self.path_edit.text(), flt)
        if path:
            self.path_edit.setText(path)

    def options(self) -> ExportOptions:
        page, orient = str(self.page_combo.currentData() or "A4:landscape").split(":")
        return ExportOptions(title=self.title_edit.text().strip(), page=page, landscape=orient == "landscape",
                             dpi=int(self.dpi_spin.value()))

    def export(self) -> Path:
        """Write the file chosen in the dialog; returns its path (raises on errors)."""
        w = self.window_
        path = Path(self.path_edit.text().strip())
        fmt = self.format_combo.currentData()
        if path.suffix.lower() != "." + fmt:
            path = path.with_suffix("." + fmt)
        out = export_view(path, list(w.layer_list), w.canvas.viewport, self.options(),
                          basemap=getattr(w, "basemap", None), fmt=fmt)
        s = QSettings()
        s.setValue("export/dir", str(out.parent))
        s.setValue("export/dpi", int(self.dpi_spin.value()))
        self.written = out
        return out

    def _accept(self) -> None:
        if not self.path_edit.text().strip():
            QMessageBox.warning(self, _t("Export map view"), _t("Choose a file to write."))
            return
        try:
            out = self.export()
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, _t("Export failed"), str(exc))
            return
        status = getattr(self.window_, "statusBar", None)
        if callable(status):
            status().showMessage(_t("Exported %1").replace("%1", str(out)), 8000)
        self.accept()


def add_export_actions(window: Any, menu: Any) -> list[QAction]:
    """Put "Export view as PNG…" and "… PDF…" into ``menu`` (the main window's File → Export)."""
    acts = []
    for fmt in ("png", "pdf"):
        act = QAction(menu)
        act.setObjectName(f"action_export_{fmt}")
        act.triggered.connect(lambda checked=False, f=fmt: PrintExportDialog(window, fmt=f).exec())
        menu.addAction(act)
        acts.append(act)

    def retranslate() -> None:
        acts[0].setText(_t("Export view as PNG…"))
        acts[1].setText(_t("Export view as PDF…"))

    retranslate()
    actions = getattr(window, "actions", None)
    if isinstance(actions, dict):
        actions["export_png"], actions["export_pdf"] = acts
    menu.aboutToShow.connect(retranslate)  # texts follow the current language
    return acts

"""View → Basemap…: choose Tianditu (vector/imagery, Web Mercator or CGCS2000 lon/lat), an XYZ URL, or none.

The Tianditu key is kept in the user's QSettings (:func:`ui.basemap.save_key`), never in
a project file. Without a key, or offline, the map works without a basemap.
"""
from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QCoreApplication, QEvent, QSettings
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from ui.basemap import PROVIDERS, BasemapLayer, load_key, make_source, save_key

__all__ = ["BasemapDialog", "provider_title"]

CTX = "BasemapDialog"


def _t(text: str) -> str:
    return QCoreApplication.translate(CTX, text)


def provider_title(provider: str) -> str:
    """The translated menu title of ``provider``."""
    titles = {
        "none": _t("No basemap"),
        "tianditu_vec_w": _t("Tianditu vector (Web Mercator)"),
        "tianditu_img_w": _t("Tianditu imagery (Web Mercator)"),
        "tianditu_vec_c": _t("Tianditu vector (CGCS2000 lon/lat)"),
        "tianditu_img_c": _t("Tianditu imagery (CGCS2000 lon/lat)"),
        "xyz": _t("Custom XYZ tiles"),
    }
    return titles.get(provider, provider)


class BasemapDialog(QDialog):
    """Edit the basemap of ``basemap`` (a :class:`ui.basemap.BasemapLayer`).

    On OK the key is saved in ``settings`` (default ``QSettings()``) and the source is
    applied; bad input (an XYZ URL without ``{x}``…) is reported and the dialog stays open.
    """

    def __init__(self, basemap: BasemapLayer, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.basemap = basemap
        self.settings = settings if settings is not None else QSettings()
        self.provider_combo = QComboBox(self)
        for pid in PROVIDERS:
            self.provider_combo.addItem(pid, pid)
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setText(load_key(self.settings))
        self.show_key = QCheckBox(self)
        self.annotation = QCheckBox(self)
        self.annotation.setChecked(len(basemap.source.layers) != 1 or not basemap.provider.startswith("tianditu"))
        self.url_edit = QLineEdit(self)
        self.url_edit.setText(basemap.source.url or "")
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.form = QFormLayout(self)
        self.form.addRow("", self.provider_combo)
        self.form.addRow("", self.key_edit)
        self.form.addRow("", self.show_key)
        self.form.addRow("", self.annotation)
        self.form.addRow("", self.url_edit)
        self.form.addRow(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.form.addRow(self.buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.show_key.toggled.connect(
            lambda on: self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password)
        )
        self.provider_combo.currentIndexChanged.connect(self._provider_changed)
        idx = self.provider_combo.findData(basemap.provider)
        self.provider_combo.setCurrentIndex(max(idx, 0))
        self.retranslate()
        self._provider_changed()

    def retranslate(self) -> None:
        self.setWindowTitle(_t("Basemap"))
        for i in range(self.provider_combo.count()):
            self.provider_combo.setItemText(i, provider_title(self.provider_combo.itemData(i)))
        labels = [_t("Provider"), _t("Tianditu key (tk)"), "", "", _t("URL")]
        for i, text in enumerate(labels):
            item = self.form.itemAt(i, QFormLayout.ItemRole.LabelRole)
            if item is not None and item.widget() is not None:
                item.widget().setText(text)
        self.show_key.setText(_t("Show key"))
        self.annotation.setText(_t("Show place-name annotation layer"))
        self.key_edit.setPlaceholderText(_t("Apply for a key at the Tianditu developer centre"))
        self._provider_changed()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _provider_changed(self, *args: Any) -> None:
        pid = self.provider_combo.currentData() or "none"
        tdt = str(pid).startswith("tianditu")
        self.key_edit.setEnabled(tdt)
        self.show_key.setEnabled(tdt)
        self.annotation.setEnabled(tdt)
        self.url_edit.setEnabled(pid != "none")
        if pid == "xyz":
            self.url_edit.setPlaceholderText("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
            self.note.setText(_t("Tiles must be Web Mercator (EPSG:3857) XYZ tiles. Check the provider's terms of use."))
        elif tdt:
            self.url_edit.setPlaceholderText(_t("optional: address of an intranet Tianditu mirror"))
            self.note.setText(_t(
                "The key is stored in your user settings, never in project files. Tianditu data is CGCS2000 "
                "and overlays without offset."
            ))
        else:
            self.url_edit.setPlaceholderText("")
            self.note.setText(_t("The map works without a basemap, also offline."))

    def values(self) -> tuple[str, str | None, str, bool]:
        """``(provider, url or None, key, annotation)`` as entered."""
        pid = str(self.provider_combo.currentData() or "none")
        url = self.url_edit.text().strip() or None
        return pid, (url if pid != "none" else None), self.key_edit.text().strip(), self.annotation.isChecked()

    def apply(self) -> None:
        """Validate, store the key in QSettings and set the basemap source (ValueError on bad input)."""
        pid, url, key, annotation = self.values()
        make_source(pid, url, key, annotation=annotation)  # validate before storing anything
        if pid.startswith("tianditu"):
            save_key(key, self.settings)
        self.basemap.set_source(pid, url, key if pid.startswith("tianditu") else None, annotation=annotation)

    def _accept(self) -> None:
        try:
            self.apply()
        except ValueError as exc:
            QMessageBox.warning(self, _t("Basemap"), str(exc))
            return
        self.accept()


def fill_basemap_menu(window: Any, menu: Any) -> None:
    """Fill View → Basemap: one checkable entry per provider plus "Basemap settings…".

    Choosing Tianditu uses the key stored in QSettings; without one (or for an XYZ
    source without a URL) the dialog opens. The menu refreshes its texts and check
    marks each time it opens (so it follows the UI language).
    """
    from PyQt6.QtGui import QAction, QActionGroup

    basemap: BasemapLayer = window.basemap

    def open_dialog(provider: str | None = None) -> None:
        dlg = BasemapDialog(basemap, window if isinstance(window, QWidget) else None)
        if provider is not None:
            dlg.provider_combo.setCurrentIndex(max(dlg.provider_combo.findData(provider), 0))
        dlg.exec()

    def choose(provider: str) -> None:
        if provider == "none":
            basemap.set_source("none")
        elif provider.startswith("tianditu") and load_key():
            src = basemap.source
            annotation = len(src.layers) != 1 if src.provider.startswith("tianditu") else True
            basemap.set_source(provider, None, load_key(), annotation=annotation)
        else:
            open_dialog(provider)
        canvas = getattr(window, "canvas", None)
        if canvas is not None and hasattr(canvas, "invalidate"):
            canvas.invalidate()

    def refill() -> None:
        menu.clear()
        group = QActionGroup(menu)
        for pid in PROVIDERS:
            act = QAction(provider_title(pid), menu)
            act.setCheckable(True)
            act.setChecked(pid == basemap.provider)
            act.triggered.connect(lambda checked=False, p=pid: choose(p))
            group.addAction(act)
            menu.addAction(act)
        menu.addSeparator()
        settings = QAction(_t("Basemap settings…"), menu)
        settings.triggered.connect(lambda checked=False: open_dialog())
        menu.addAction(settings)

    refill()
    menu.aboutToShow.connect(refill)

"""The new-finding dialog: a patrol finding at a point clicked on the map.

The inspector picks the waste category and finding type, writes what was found, who
found it and when, and adds photos (Add photos… or drop files on the dialog). Before
saving, the dialog shows where the point falls — street/town, community/village,
industrial park, responsible unit, suggested department and deadline — from the
store's own :class:`gridtool.findings.GridLocator`, so a wrong click is seen at once.
Saving calls :meth:`gridtool.findings.FindingsStore.add`; its error message (e.g. a
point outside the district) is shown as is and nothing is stored. When the store
reports an open finding of the same type within 50 m, the dialog asks whether the new
one is a duplicate and links it (:meth:`~gridtool.findings.FindingsStore.link_duplicate`).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Sequence

from PyQt6.QtCore import QCoreApplication, QDateTime, QSettings, QSize, Qt
from PyQt6.QtGui import QIcon, QImageReader, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gridtool.errors import GridtoolError
from gridtool.findings import (
    CATEGORIES,
    DUPLICATE_RADIUS_M,
    FINDING_TYPES,
    AddResult,
    Finding,
    FindingsStore,
    Location,
    suggest_department,
    term_label,
)
from gridtool.photos import CHINA_TZ, PHOTO_SUFFIXES

__all__ = ["FindingDialog", "photo_icon", "label_lang", "PHOTO_FILTER"]

PHOTO_FILTER = "({})".format(" ".join(f"*{s}" for s in PHOTO_SUFFIXES))
THUMB_PX = 96


def _tr(text: str) -> str:
    return QCoreApplication.translate("FindingDialog", text)


def label_lang() -> str:
    """``"zh"`` or ``"en"``: the language vocabulary labels (status, type …) are shown in."""
    from ui.i18n import current_language

    return "en" if current_language() == "en" else "zh"


def photo_icon(path: str | Path, size: int = THUMB_PX) -> QIcon:
    """A thumbnail icon of an image file, decoded at reduced size (fast for phone photos)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    sz = reader.size()
    if sz.isValid() and sz.width() > 0 and sz.height() > 0:
        reader.setScaledSize(sz.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    img = reader.read()
    if img.isNull():
        return QIcon()
    return QIcon(QPixmap.fromImage(img))


def is_photo(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PHOTO_SUFFIXES


class PhotoList(QListWidget):
    """Photo files as thumbnails; accepts dropped image files."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(True)
        self.setGridSize(QSize(THUMB_PX + 24, THUMB_PX + 34))
        self.setMinimumHeight(THUMB_PX + 44)
        self.setAcceptDrops(True)

    def paths(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def add_paths(self, paths: Sequence[str | Path]) -> int:
        """Add image files (others and repeats are skipped); returns how many were added."""
        have = set(self.paths())
        n = 0
        for p in paths:
            p = str(Path(p))
            if p in have or not is_photo(p) or not Path(p).is_file():
                continue
            item = QListWidgetItem(photo_icon(p), Path(p).name)
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(p)
            self.addItem(item)
            have.add(p)
            n += 1
        return n

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))

    def dragEnterEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()
        else:
            super().dragEnterEvent(ev)

    def dragMoveEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()
        else:
            super().dragMoveEvent(ev)

    def dropEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            self.add_paths([u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()])
            ev.acceptProposedAction()
        else:
            super().dropEvent(ev)


class FindingDialog(QDialog):
    """Register a new finding at ``(x, y)`` (EPSG:4549 metres) in ``store``.

    Parameters
    ----------
    store
        The findings store the finding is added to.
    x, y
        The clicked point in EPSG:4549.
    parent
        The owning window.
    settings
        Where the last inspector name and category are remembered (default ``QSettings()``).

    Attributes
    ----------
    result_ : AddResult or None
        What the store returned after saving.
    finding : Finding or None
        The saved finding (after linking as duplicate when the user chose so).
    last_error : str
        The last error message shown (empty when none).
    """

    def __init__(self, store: FindingsStore, x: float, y: float, parent: QWidget | None = None, *,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindingDialog")
        self.store, self.x, self.y = store, float(x), float(y)
        self.settings = settings if settings is not None else QSettings()
        self.result_: AddResult | None = None
        self.finding: Finding | None = None
        self.last_error = ""
        self.location: Location | None = None
        self.setAcceptDrops(True)
        self.setWindowTitle(_tr("New finding"))
        lang = label_lang()

        self.category_combo = QComboBox()
        for t in CATEGORIES:
            self.category_combo.addItem(term_label("category", t.key, lang), t.key)
        last_cat = str(self.settings.value("findings/last_category", "household"))
        self.category_combo.setCurrentIndex(max(0, self.category_combo.findData(last_cat)))
        self.type_combo = QComboBox()
        for t in FINDING_TYPES:
            self.type_combo.addItem(term_label("finding_type", t.key, lang), t.key)
        last_type = str(self.settings.value("findings/last_type", "exposed_garbage"))
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(last_type)))
        self.description_edit = QPlainTextEdit()
        self.description_edit.setPlaceholderText(_tr("What was found, e.g. a pile of construction waste by the road"))
        self.description_edit.setFixedHeight(70)
        self.inspector_edit = QLineEdit(str(self.settings.value("findings/inspector", "") or ""))
        self.inspector_edit.setPlaceholderText(_tr("Name of the grid inspector"))
        self.found_edit = QDateTimeEdit(QDateTime.currentDateTime())
        self.found_edit.setCalendarPopup(True)
        self.found_edit.setDisplayFormat("yyyy-MM-dd HH:mm")

        form = QFormLayout()
        form.addRow(_tr("Waste category"), self.category_combo)
        form.addRow(_tr("Finding type"), self.type_combo)
        form.addRow(_tr("Description"), self.description_edit)
        form.addRow(_tr("Inspector"), self.inspector_edit)
        form.addRow(_tr("Found at"), self.found_edit)

        # where: filled from the store's locator before saving
        self.where_box = QGroupBox(_tr("Location (assigned automatically)"))
        self.coord_label = QLabel()
        self.street_label = QLabel()
        self.community_label = QLabel()
        self.park_label = QLabel()
        self.unit_label = QLabel()
        self.department_label = QLabel()
        self.deadline_label = QLabel()
        self.outside_label = QLabel()
        self.outside_label.setWordWrap(True)
        self.outside_label.setStyleSheet("color: #c00000; font-weight: bold;")
        wf = QFormLayout(self.where_box)
        wf.addRow(_tr("Coordinates"), self.coord_label)
        wf.addRow(_tr("Street/town"), self.street_label)
        wf.addRow(_tr("Community/village"), self.community_label)
        wf.addRow(_tr("Industrial park"), self.park_label)
        wf.addRow(_tr("Responsible unit"), self.unit_label)
        wf.addRow(_tr("Department (suggested)"), self.department_label)
        wf.addRow(_tr("Deadline"), self.deadline_label)
        wf.addRow(self.outside_label)

        # photos
        self.photo_box = QGroupBox(_tr("Photos (drop files here)"))
        self.photo_list = PhotoList()
        self.add_photo_button = QPushButton(_tr("Add photos…"))
        self.add_photo_button.clicked.connect(self.choose_photos)
        self.remove_photo_button = QPushButton(_tr("Remove"))
        self.remove_photo_button.clicked.connect(self.photo_list.remove_selected)
        pb = QVBoxLayout(self.photo_box)
        pb.addWidget(self.photo_list)
        row = QHBoxLayout()
        row.addWidget(self.add_photo_button)
        row.addWidget(self.remove_photo_button)
        row.addStretch(1)
        pb.addLayout(row)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(_tr("Save finding"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_tr("Cancel"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.photo_box, 1)
        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addWidget(self.where_box, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(body)
        lay.addWidget(self.buttons)

        self.category_combo.currentIndexChanged.connect(self._update_where)
        self.type_combo.currentIndexChanged.connect(self._update_where)
        self.found_edit.dateTimeChanged.connect(self._update_where)
        self._locate()
        self._update_where()
        self.resize(820, 520)

    # ------------------------------------------------------------------ fields
    def set_fields(self, *, category: str | None = None, finding_type: str | None = None,
                   description: str | None = None, inspector: str | None = None,
                   found_at: dt.datetime | None = None, photos: Sequence[str | Path] = ()) -> None:
        """Fill the form (keys of the vocabularies); used by scripts and tests."""
        if category is not None:
            self.category_combo.setCurrentIndex(self.category_combo.findData(category))
        if finding_type is not None:
            self.type_combo.setCurrentIndex(self.type_combo.findData(finding_type))
        if description is not None:
            self.description_edit.setPlainText(description)
        if inspector is not None:
            self.inspector_edit.setText(inspector)
        if found_at is not None:
            aware = found_at if found_at.tzinfo is not None else found_at.replace(tzinfo=CHINA_TZ)
            self.found_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(aware.timestamp())))
        if photos:
            self.photo_list.add_paths(photos)

    def found_at(self) -> dt.datetime:
        """The found time from the form (shown in the computer's time zone), in China time."""
        secs = self.found_edit.dateTime().toSecsSinceEpoch()
        return dt.datetime.fromtimestamp(secs - secs % 60, CHINA_TZ)

    def choose_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, _tr("Add photos"), str(self.settings.value("findings/photo_dir", "")),
                                                f"{_tr('Photos')} {PHOTO_FILTER}")
        if paths:
            self.settings.setValue("findings/photo_dir", str(Path(paths[0]).parent))
            self.photo_list.add_paths(paths)

    def dragEnterEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.mimeData().hasUrls() and any(u.isLocalFile() and is_photo(u.toLocalFile()) for u in ev.mimeData().urls()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev: Any) -> None:  # noqa: N802
        self.photo_list.add_paths([u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()])
        ev.acceptProposedAction()

    # ------------------------------------------------------------------ location preview
    def _locate(self) -> None:
        try:
            self.location = self.store.locator.locate([self.x], [self.y])[0]
            lon, lat = self._lonlat()
            self.coord_label.setText(f"x {self.x:,.1f}  y {self.y:,.1f} (EPSG:4549)\n{lon:.6f}°E  {lat:.6f}°N")
        except (GridtoolError, OSError) as exc:  # grids missing: saving will say so too
            self.location = None
            self.coord_label.setText(f"x {self.x:,.1f}  y {self.y:,.1f} (EPSG:4549)")
            self.outside_label.setText(str(exc))
            return
        if self.location is None:
            self.outside_label.setText(_tr("This point lies outside the district; a finding must be inside it."))

    def _lonlat(self) -> tuple[float, float]:
        from pyproj import Transformer

        t = Transformer.from_crs(4549, 4326, always_xy=True)
        lon, lat = t.transform(self.x, self.y)
        return float(lon), float(lat)

    def _update_where(self, *_: Any) -> None:
        loc = self.location
        dash = "—"

        def named(code: str | None, name: str | None) -> str:
            return f"{name} ({code})" if code and name and name != code else (name or code or dash)

        if loc is None:
            for lab in (self.street_label, self.community_label, self.park_label, self.unit_label,
                        self.department_label, self.deadline_label):
                lab.setText(dash)
            return
        self.street_label.setText(named(loc.street_code, loc.street_name))
        self.community_label.setText(named(loc.community_code, loc.community_name))
        self.park_label.setText(named(loc.park_code, loc.park_name) if loc.park_code else _tr("(none)"))
        self.unit_label.setText(loc.responsible_unit or dash)
        cat = self.category_combo.currentData()
        self.department_label.setText(suggest_department(cat, park_unit=loc.park_unit))
        try:
            deadline = self.store.deadline_for(self.type_combo.currentData(), self.found_at())
            days = self.store.deadline_days.get(self.type_combo.currentData(), 0)
            self.deadline_label.setText(_tr("{0} ({1} working days)").format(deadline.isoformat(), days))
        except (GridtoolError, KeyError, ValueError):
            self.deadline_label.setText(dash)

    # ------------------------------------------------------------------ saving
    def _warn(self, title: str, message: str) -> None:
        self.last_error = message
        QMessageBox.warning(self, title, message)

    def save(self) -> Finding | None:
        """Add the finding to the store; on success ask about duplicates and close."""
        inspector = self.inspector_edit.text().strip() or None
        try:
            res = self.store.add(
                x=self.x, y=self.y, category=self.category_combo.currentData(),
                finding_type=self.type_combo.currentData(),
                description=self.description_edit.toPlainText().strip(), inspector=inspector,
                found_at=self.found_at(), photos=self.photo_list.paths(),
            )
        except GridtoolError as exc:
            self._warn(_tr("Cannot save the finding"), str(exc))
            return None
        except OSError as exc:
            self._warn(_tr("Cannot save the finding"), f"{exc.__class__.__name__}: {exc}")
            return None
        self.result_ = res
        self.finding = res.finding
        self.settings.setValue("findings/inspector", inspector or "")
        self.settings.setValue("findings/last_category", self.category_combo.currentData())
        self.settings.setValue("findings/last_type", self.type_combo.currentData())
        if res.duplicates:
            self._ask_duplicate(res)
        self.accept()
        return self.finding

    def _ask_duplicate(self, res: AddResult) -> None:
        lang = label_lang()
        near = res.duplicates[0]
        lines = []
        for d in res.duplicates[:5]:
            dist = ((d.x - res.finding.x) ** 2 + (d.y - res.finding.y) ** 2) ** 0.5
            lines.append(f"{d.finding_id}  {term_label('status', d.status, lang)}  {dist:.0f} m  {d.description[:40]}")
        text = _tr("Open findings of the same type lie within {0} m:\n\n{1}\n\n"
                   "Link the new finding {2} as a duplicate of {3}?").format(
            f"{DUPLICATE_RADIUS_M:.0f}", "\n".join(lines), res.finding.finding_id, near.finding_id)
        answer = QMessageBox.question(self, _tr("Possible duplicate"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.finding = self.store.link_duplicate(
                res.finding.finding_id, near.finding_id, expected_version=res.finding.version,
                note=_tr("reported again; duplicate of {0}").format(near.finding_id))
        except GridtoolError as exc:
            self._warn(_tr("Cannot link the duplicate"), str(exc))

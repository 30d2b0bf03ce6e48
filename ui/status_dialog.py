"""The status-change dialog: move a finding along 立案 → 派遣 → 处置 → 核查 → 结案.

Only the next statuses the workflow allows (:data:`gridtool.findings.TRANSITIONS`) are
offered, in Chinese. Dispatching asks for the department (suggested by category and
park); marking a duplicate asks for the other finding's id; every change can carry a
note and rectification photos (evidence). Closing (销号) needs a photo taken after the
report within 30 m of the finding, or a reason: with no photo at all the reason is
required before OK is enabled, and when the store rejects the photos its message is
shown and the reason becomes required.

The change is sent with the version the dialog showed (optimistic concurrency): when
someone else changed the finding meanwhile, the store raises
:class:`gridtool.errors.ConflictError`, the dialog says so, reloads the finding and
nothing is overwritten.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import QCoreApplication, QSettings, Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gridtool.errors import ConflictError, GridtoolError, WorkflowError
from gridtool.findings import (
    CATEGORY_DEPARTMENTS,
    EVIDENCE_RADIUS_M,
    STATUS_COLORS,
    TRANSITIONS,
    Finding,
    FindingsStore,
    suggest_department,
    term_label,
)
from ui.finding_dialog import PHOTO_FILTER, PhotoList, label_lang

__all__ = ["StatusDialog"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("StatusDialog", text)


class StatusDialog(QDialog):
    """Change the status of finding ``finding_id`` in ``store``.

    Parameters
    ----------
    store
        The findings store.
    finding_id
        The finding to change.
    parent
        The owning widget.
    today
        The day overdue days are counted to (default today).

    Attributes
    ----------
    finding : Finding
        The finding as last read (after a successful change: as changed).
    expected_version : int
        The version the change is made against.
    last_error : str
        The last error shown.
    conflicts : int
        How many conflicts were met (each reloaded the finding).
    """

    def __init__(self, store: FindingsStore, finding_id: str, parent: QWidget | None = None, *,
                 today: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusDialog")
        self.store = store
        self.today = today
        self.finding: Finding = store.get(finding_id)
        self.expected_version = self.finding.version
        self.last_error = ""
        self.conflicts = 0
        self._reason_needed_by_store = False
        self.setWindowTitle(_tr("Change status"))

        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.status_combo = QComboBox()
        self.department_combo = QComboBox()
        self.department_combo.setEditable(True)
        self.duplicate_edit = QLineEdit()
        self.duplicate_edit.setPlaceholderText("ZL-2026-000001")
        self.note_edit = QPlainTextEdit()
        self.note_edit.setFixedHeight(60)
        self.note_edit.setPlaceholderText(_tr("What was done, by whom; recorded in the history"))
        self.photo_list = PhotoList()
        self.add_photo_button = QPushButton(_tr("Add evidence photo…"))
        self.add_photo_button.clicked.connect(self.choose_photos)
        self.remove_photo_button = QPushButton(_tr("Remove"))
        self.remove_photo_button.clicked.connect(self.photo_list.remove_selected)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText(_tr("Why it is closed without a valid rectification photo"))
        self.reason_hint = QLabel()
        self.reason_hint.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c00000;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.form = QFormLayout()
        self.form.addRow(_tr("New status"), self.status_combo)
        self.form.addRow(_tr("Department"), self.department_combo)
        self.form.addRow(_tr("Duplicate of"), self.duplicate_edit)
        self.form.addRow(_tr("Note"), self.note_edit)
        photos = QVBoxLayout()
        photos.addWidget(self.photo_list)
        prow = QHBoxLayout()
        prow.addWidget(self.add_photo_button)
        prow.addWidget(self.remove_photo_button)
        prow.addStretch(1)
        photos.addLayout(prow)
        self.form.addRow(_tr("Evidence photos"), photos)
        self.form.addRow(_tr("Reason"), self.reason_edit)
        self.form.addRow("", self.reason_hint)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(_tr("Apply"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_tr("Cancel"))
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.header)
        lay.addLayout(self.form)
        lay.addWidget(self.error_label)
        lay.addWidget(self.buttons)

        self.status_combo.currentIndexChanged.connect(self._update_fields)
        self.reason_edit.textChanged.connect(self._update_ok)
        self.duplicate_edit.textChanged.connect(self._update_ok)
        self.photo_list.model().rowsInserted.connect(self._update_ok)
        self.photo_list.model().rowsRemoved.connect(self._update_ok)
        self._fill()
        self.resize(560, 560)

    # ------------------------------------------------------------------ state
    def _fill(self) -> None:
        """Show the finding as last read and offer its allowed next statuses."""
        f, lang = self.finding, label_lang()
        overdue = f.overdue_days(self.today)
        od = (f" — <b style='color:#e31a1c'>{_tr('overdue {0} working days').format(overdue)}</b>"
              if f.is_overdue(self.today) else "")
        colour = STATUS_COLORS.get(f.status, "#000000")
        self.header.setText(
            f"<b>{f.finding_id}</b> {_html(term_label('finding_type', f.finding_type, lang))} · "
            f"{_html(term_label('category', f.category, lang))}<br>"
            f"{_tr('Current status')}: <b style='color:{colour}'>{_html(term_label('status', f.status, lang))}</b>"
            f" · {_tr('Deadline')}: {f.deadline.isoformat() if f.deadline else '—'}{od}"
            + (f"<br>{_tr('Department')}: {_html(f.department)}" if f.department else "")
            + (f"<br>{_html(f.description)}" if f.description else "")
        )
        current = self.status_combo.currentData()
        self.status_combo.blockSignals(True)
        self.status_combo.clear()
        for s in TRANSITIONS.get(f.status, ()):
            text = term_label("status", s, lang)
            if s == f.status:
                text = _tr("{0} (re-dispatch to another department)").format(text)
            self.status_combo.addItem(text, s)
        idx = self.status_combo.findData(current)
        self.status_combo.setCurrentIndex(idx if idx >= 0 else 0)
        self.status_combo.blockSignals(False)
        depts = [f.department] if f.department else []
        suggested = suggest_department(f.category, park_unit=f.responsible_unit if f.park_code else None)
        depts += [suggested] + list(CATEGORY_DEPARTMENTS.values())
        if f.responsible_unit:
            depts.append(f.responsible_unit)
        self.department_combo.clear()
        for d in dict.fromkeys(d for d in depts if d):
            self.department_combo.addItem(d)
        self.department_combo.setCurrentText(suggested if f.status != "dispatched" else (f.department or suggested))
        if not TRANSITIONS.get(f.status):
            self.error_label.setText(_tr("This finding is final ({0}); its status cannot change.").format(
                term_label("status", f.status, lang)))
        self._update_fields()

    def new_status(self) -> str | None:
        return self.status_combo.currentData()

    def _has_stored_evidence(self) -> bool:
        try:
            return any(p.kind == "evidence" for p in self.store.photos(self.finding.finding_id))
        except (GridtoolError, OSError):
            return False

    def reason_required(self) -> bool:
        """True when closing without any evidence photo, or after the store rejected the photos."""
        if self.new_status() != "closed":
            return False
        if self._reason_needed_by_store:
            return True
        return not self.photo_list.paths() and not self._has_stored_evidence()

    def _update_fields(self, *_: Any) -> None:
        s = self.new_status()
        self._reason_needed_by_store = False
        for widget, show in ((self.department_combo, s == "dispatched"), (self.duplicate_edit, s == "duplicate"),
                             (self.reason_edit, s == "closed"), (self.reason_hint, s == "closed")):
            widget.setVisible(show)
            label = self.form.labelForField(widget)
            if label is not None:
                label.setVisible(show)
        self._update_ok()

    def _update_ok(self, *_: Any) -> None:
        s = self.new_status()
        ok = s is not None
        if s == "duplicate" and not self.duplicate_edit.text().strip():
            ok = False
        if s == "closed":
            need = self.reason_required()
            if need:
                self.reason_hint.setText(_tr("Required: no valid rectification photo (taken after the report, "
                                             "within {0} m). The reason is recorded in the history.").format(
                    f"{EVIDENCE_RADIUS_M:.0f}"))
                self.reason_hint.setStyleSheet("color: #c00000;")
                self.reason_edit.setStyleSheet("" if self.reason_edit.text().strip() else "border: 1px solid #c00000;")
                if not self.reason_edit.text().strip():
                    ok = False
            else:
                self.reason_hint.setText(_tr("Only needed when the photo is not accepted as evidence."))
                self.reason_hint.setStyleSheet("color: #666666;")
                self.reason_edit.setStyleSheet("")
        self.ok_button.setEnabled(ok)

    def choose_photos(self) -> None:
        settings = QSettings()
        paths, _ = QFileDialog.getOpenFileNames(self, _tr("Add evidence photo"), str(settings.value("findings/photo_dir", "")),
                                                f"{_tr('Photos')} {PHOTO_FILTER}")
        if paths:
            settings.setValue("findings/photo_dir", str(Path(paths[0]).parent))
            self.photo_list.add_paths(paths)

    def reload(self) -> None:
        """Read the finding again (after a conflict) and show its current state."""
        self.finding = self.store.get(self.finding.finding_id)
        self.expected_version = self.finding.version
        self._fill()

    # ------------------------------------------------------------------ apply
    def apply(self) -> Finding | None:
        """Send the change with :attr:`expected_version`; close on success."""
        s = self.new_status()
        if s is None:
            return None
        self.error_label.setText("")
        try:
            changed = self.store.set_status(
                self.finding.finding_id, s, note=self.note_edit.toPlainText().strip() or None,
                evidence=self.photo_list.paths() or None, reason=self.reason_edit.text().strip() or None,
                department=self.department_combo.currentText().strip() if s == "dispatched" else None,
                duplicate_of=self.duplicate_edit.text().strip() if s == "duplicate" else None,
                expected_version=self.expected_version,
            )
        except ConflictError as exc:
            self.conflicts += 1
            self.last_error = str(exc)
            QMessageBox.warning(
                self, _tr("Changed by someone else"),
                _tr("{0}\n\nNothing was changed. The finding has been reloaded: check its current state "
                    "and apply your change again if it still holds.").format(exc))
            self.reload()
            return None
        except WorkflowError as exc:
            self.last_error = str(exc)
            self.error_label.setText(str(exc))
            if s == "closed":
                self._reason_needed_by_store = True
                self._update_ok()
                self.reason_edit.setFocus()
            return None
        except (GridtoolError, OSError) as exc:
            self.last_error = str(exc)
            self.error_label.setText(str(exc))
            QMessageBox.warning(self, _tr("Cannot change the status"), str(exc))
            return None
        self.finding = changed
        self.accept()
        return changed


def _html(text: Any) -> str:
    import html

    return html.escape(str(text or ""))

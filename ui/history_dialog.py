"""The history of one finding: every event, oldest first, and its photos as thumbnails.

Events come from :meth:`gridtool.findings.FindingsStore.history` (append-only: who,
when, from which status to which, department, note, close-out reason, evidence photo
files); photos from :meth:`~gridtool.findings.FindingsStore.photos`. Double-clicking a
thumbnail opens the photo in the system viewer.
"""
from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QCoreApplication, QSize, Qt, QUrl
from PyQt6.QtGui import QBrush, QColor, QDesktopServices
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gridtool.findings import STATUS_COLORS, Event, FindingsStore, StoredPhoto, term_label
from ui.finding_dialog import THUMB_PX, label_lang, photo_icon

__all__ = ["HistoryDialog"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("HistoryDialog", text)


class HistoryDialog(QDialog):
    """Events and photos of finding ``finding_id``.

    Attributes
    ----------
    events : list of Event
        The events shown, oldest first (row ``i`` of :attr:`table` is ``events[i]``).
    photos : list of StoredPhoto
        The photos shown.
    """

    @staticmethod
    def column_titles() -> list[str]:
        return [_tr("When"), _tr("Who"), _tr("From"), _tr("To"), _tr("Department"), _tr("Note"), _tr("Reason"),
                _tr("Evidence")]

    def __init__(self, store: FindingsStore, finding_id: str, parent: QWidget | None = None, *,
                 today: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("HistoryDialog")
        self.store = store
        f = store.get(finding_id)
        self.finding = f
        self.events: list[Event] = store.history(f.finding_id)
        self.photos: list[StoredPhoto] = store.photos(f.finding_id)
        lang = label_lang()
        self.setWindowTitle(_tr("History of {0}").format(f.finding_id))
        head = QLabel()
        head.setTextFormat(Qt.TextFormat.RichText)
        head.setWordWrap(True)
        colour = STATUS_COLORS.get(f.status, "#000000")
        od = f.overdue_days(today)
        overdue = (f" · <b style='color:#e31a1c'>{_tr('overdue {0} working days').format(od)}</b>"
                   if f.is_overdue(today) else "")
        head.setText(
            f"<b>{f.finding_id}</b> {_esc(term_label('finding_type', f.finding_type, lang))} · "
            f"<b style='color:{colour}'>{_esc(term_label('status', f.status, lang))}</b> · "
            f"{_tr('Deadline')}: {f.deadline.isoformat() if f.deadline else '—'}{overdue}<br>{_esc(f.description)}"
        )
        titles = self.column_titles()
        self.table = QTableWidget(len(self.events), len(titles))
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels(titles)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        for i, ev in enumerate(self.events):
            vals = [
                ev.at.strftime("%Y-%m-%d %H:%M") if ev.at else "",
                ev.actor or "",
                term_label("status", ev.from_status, lang) if ev.from_status else "—",
                term_label("status", ev.to_status, lang),
                ev.department or "",
                ev.note or "",
                ev.reason or "",
                (ev.evidence_photo or "").replace(";", "\n"),
            ]
            for j, v in enumerate(vals):
                item = QTableWidgetItem(v)
                item.setToolTip(v)
                if j == 3:
                    item.setForeground(QBrush(QColor(STATUS_COLORS.get(ev.to_status, "#000000"))))
                if j == 6 and v:
                    item.setForeground(QBrush(QColor("#c00000")))
                self.table.setItem(i, j, item)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()

        self.photo_label = QLabel(_tr("Photos ({0})").format(len(self.photos)))
        self.photo_list = QListWidget()
        self.photo_list.setObjectName("history_photos")
        self.photo_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.photo_list.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.photo_list.setGridSize(QSize(THUMB_PX + 40, THUMB_PX + 40))
        self.photo_list.setMovement(QListWidget.Movement.Static)
        self.photo_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.photo_list.setFixedHeight(THUMB_PX + 56)
        kinds = {"report": _tr("report"), "evidence": _tr("evidence")}
        for p in self.photos:
            item = QListWidgetItem(photo_icon(p.path), f"{kinds.get(p.kind, p.kind)}\n{p.original_name or p.stored_name}")
            taken = p.taken_at.strftime("%Y-%m-%d %H:%M") if p.taken_at else _tr("no EXIF time")
            item.setToolTip(f"{p.original_name or ''}\n{taken}\n{p.path}")
            item.setData(Qt.ItemDataRole.UserRole, str(p.path))
            self.photo_list.addItem(item)
        self.photo_list.itemDoubleClicked.connect(
            lambda it: QDesktopServices.openUrl(QUrl.fromLocalFile(it.data(Qt.ItemDataRole.UserRole))))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(_tr("Close"))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.photo_label)
        lay.addWidget(self.photo_list)
        lay.addWidget(buttons)
        self.resize(900, 520)

    def row_texts(self, row: int) -> list[str]:
        """The texts of table row ``row`` (for scripts and tests)."""
        return [self.table.item(row, j).text() for j in range(self.table.columnCount())]


def _esc(text: Any) -> str:
    import html

    return html.escape(str(text or ""))

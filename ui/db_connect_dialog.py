"""File → Connect to database…: open the shared PostgreSQL/PostGIS findings store.

The dialog asks for host, port, database, user and schema (remembered in QSettings) and
optionally a password, which is used for this connection only and never saved: leave it
empty to use the PostgreSQL password file (``~/.pgpass`` / ``PGPASSFILE``) or
``PGPASSWORD``. On success the window's findings store is replaced
(:func:`set_findings_store`).
"""
from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QCoreApplication, QSettings
from PyQt6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMessageBox, QSpinBox, QVBoxLayout, QWidget,
)

from gridtool.errors import InputError
from gridtool.findings import FindingsStore
from gridtool.findings_pg import PostgresBackend, build_pg_url

__all__ = ["DbConnectDialog", "add_db_connect_action", "set_findings_store"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("DbConnectDialog", text)


_KEYS = ("host", "port", "database", "user", "schema")


def set_findings_store(window: Any, store: FindingsStore) -> None:
    """Make ``store`` the window's findings store (closing the previous one)."""
    setter = getattr(window, "set_findings_store", None)
    if callable(setter):
        setter(store)
        return
    old = getattr(window, "findings_store", None)
    window.findings_store = store
    if old is not None and old is not store:
        old.close()


class DbConnectDialog(QDialog):
    """Connection form for the shared findings database.

    Parameters
    ----------
    window
        The main window (gets the store through :func:`set_findings_store`).
    settings
        Where host/port/database/user/schema are remembered (default ``QSettings()``);
        the password is never written there.
    """

    def __init__(self, window: Any, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent if parent is not None else (window if isinstance(window, QWidget) else None))
        self.window_ = window
        self.settings = settings if settings is not None else QSettings()
        self.store: FindingsStore | None = None
        self.setWindowTitle(_tr("Connect to database"))
        s = self.settings
        self.host_edit = QLineEdit(str(s.value("findings_db/host", "localhost")))
        self.port_box = QSpinBox()
        self.port_box.setRange(1, 65535)
        self.port_box.setValue(int(s.value("findings_db/port", 5432)))
        self.database_edit = QLineEdit(str(s.value("findings_db/database", "gridtool")))
        self.user_edit = QLineEdit(str(s.value("findings_db/user", "")))
        self.schema_edit = QLineEdit(str(s.value("findings_db/schema", "gridtool")))
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(_tr("empty: use ~/.pgpass or PGPASSWORD"))
        form = QFormLayout()
        form.addRow(_tr("Host"), self.host_edit)
        form.addRow(_tr("Port"), self.port_box)
        form.addRow(_tr("Database"), self.database_edit)
        form.addRow(_tr("User"), self.user_edit)
        form.addRow(_tr("Schema"), self.schema_edit)
        form.addRow(_tr("Password"), self.password_edit)
        note = QLabel(_tr("The password is used for this connection only and is never saved."))
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_tr("Connect"))
        self.buttons.accepted.connect(self.connect_store)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.buttons)

    def url(self) -> str:
        """The store URL of the form (no password)."""
        return build_pg_url(self.host_edit.text(), self.port_box.value(), self.database_edit.text(),
                            self.user_edit.text(), self.schema_edit.text())

    def connect_store(self) -> FindingsStore | None:
        """Open the store; on success remember the fields (not the password) and close."""
        password = self.password_edit.text() or None
        try:
            url = self.url()
            store = FindingsStore(PostgresBackend(url, password=password))
        except InputError as exc:
            self.last_error = str(exc)
            QMessageBox.warning(self, _tr("Connect to database"), str(exc))
            return None
        finally:
            self.password_edit.clear()
        for key, value in zip(_KEYS, (self.host_edit.text().strip(), self.port_box.value(),
                                      self.database_edit.text().strip(), self.user_edit.text().strip(),
                                      self.schema_edit.text().strip())):
            self.settings.setValue(f"findings_db/{key}", value)
        self.settings.sync()
        self.store = store
        set_findings_store(self.window_, store)
        status = getattr(self.window_, "statusBar", None)
        if callable(status):
            status().showMessage(_tr("Findings store: {0}").format(store.backend.location), 5000)
        self.accept()
        return store


def add_db_connect_action(window: Any, menu: Any = None) -> Any:
    """Register "Connect to database…" in the window's File menu (before its last separator)."""
    from PyQt6.QtGui import QAction

    act = QAction(_tr("Connect to database…"), window)
    act.setObjectName("action_connect_database")
    act.triggered.connect(lambda checked=False: DbConnectDialog(window).exec())
    menu = menu if menu is not None else getattr(window, "file_menu", None)
    if menu is not None:
        menu.addAction(act)
    return act

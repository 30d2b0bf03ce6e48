"""File → Connect to database…: the dialog opens the shared store on the throwaway server."""
from __future__ import annotations

import uuid

import pytest
from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QMessageBox, QWidget

from gridtool.findings_pg import PostgresBackend, parse_pg_url
from tests.core.findings_fixtures import drop_pg_schemas, grids_gpkg, pg_url, write_grids  # noqa: F401
from ui.db_connect_dialog import DbConnectDialog, add_db_connect_action

pytestmark = pytest.mark.postgres


class FakeWindow(QWidget):
    findings_store = None


def test_dialog_connects_and_never_saves_the_password(qtbot, tmp_path, monkeypatch):
    import urllib.parse

    parts = urllib.parse.urlsplit(parse_pg_url(pg_url()).conninfo)
    schema = "t" + uuid.uuid4().hex[:12] + "_ui"
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = FakeWindow()
    qtbot.addWidget(win)
    act = add_db_connect_action(win)
    assert act.objectName() == "action_connect_database"
    dlg = DbConnectDialog(win, settings=settings)
    qtbot.addWidget(dlg)
    dlg.host_edit.setText(parts.hostname)
    dlg.port_box.setValue(parts.port)
    dlg.database_edit.setText(parts.path.lstrip("/"))
    dlg.user_edit.setText(parts.username)
    dlg.schema_edit.setText(schema)
    dlg.password_edit.setText("typed-secret")  # trust auth on the test server ignores it
    try:
        store = dlg.connect_store()
        assert store is not None and win.findings_store is store
        assert isinstance(store.backend, PostgresBackend) and store.backend.schema == schema
        assert store.findings() == []
        assert dlg.password_edit.text() == ""
        settings.sync()
        text = (tmp_path / "settings.ini").read_text()
        assert schema in text and "typed-secret" not in text
        assert DbConnectDialog(win, settings=settings).schema_edit.text() == schema  # remembered
        store.close()
    finally:
        drop_pg_schemas([schema])


def test_dialog_reports_a_bad_connection(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: shown.append(text))
    win = FakeWindow()
    qtbot.addWidget(win)
    dlg = DbConnectDialog(win, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dlg)
    dlg.host_edit.setText("127.0.0.1")
    dlg.port_box.setValue(1)
    dlg.password_edit.setText("typed-secret")
    assert dlg.connect_store() is None and win.findings_store is None
    assert len(shown) == 1 and "cannot connect" in shown[0] and "typed-secret" not in shown[0]
    dlg.schema_edit.setText("Bad Name")
    assert dlg.connect_store() is None and "schema" in shown[-1]

"""Fixtures shared by the UI tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_env(qapp, tmp_path):
    """The QApplication with the CJK font, zh_CN, and settings kept in ``tmp_path`` (restored after)."""
    from PyQt6.QtCore import QSettings, QStandardPaths

    from ui.fonts import apply_app_font
    from ui.i18n import set_language

    old_format = QSettings.defaultFormat()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # recent files, keys etc. go to tmp_path
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    apply_app_font(qapp)
    set_language("zh_CN")
    yield qapp
    set_language("zh_CN")
    QSettings.setDefaultFormat(old_format)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation))

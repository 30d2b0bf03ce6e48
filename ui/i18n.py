"""User-interface language: JSON catalogs behind Qt's own translation machinery.

Source strings in code are English and go through Qt (``self.tr("Open")`` or
``QCoreApplication.translate("MainWindow", "Open")``). Chinese (``zh_CN``) is the
default language; English is the untranslated source and can be chosen at runtime.

Catalogs are JSON files ``ui/i18n/<lang>/*.json`` holding
``{context: {source: translation}}``; every file of a language folder is merged, so
each module area keeps its own file (``main.json``, ``table.json``, ``print.json`` …).
A context ``"*"`` holds strings shared by every context (looked up last).

Switching language removes/installs the translator; Qt then sends a
``QEvent.LanguageChange`` to every widget, and widgets re-set their texts in
``changeEvent`` (see :class:`Retranslatable`).

Pitfall (measured with PyQt6 6.11): ``self.tr()`` uses the class name of the *most
derived* class as its context, so a subclass of a translated widget loses its
translations. Code that may be subclassed should call
``QCoreApplication.translate("ClassName", text)`` with an explicit context.

``tests/ui/test_i18n.py`` scans ``ui/**/*.py`` for ``tr("…")`` /
``translate("Ctx", "…")`` literals and fails listing every string missing from the
zh_CN catalog.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QTranslator

__all__ = [
    "CATALOG_DIR",
    "DEFAULT_LANGUAGE",
    "SOURCE_LANGUAGE",
    "JsonTranslator",
    "load_catalog",
    "install_translator",
    "set_language",
    "current_language",
    "available_languages",
    "language_name",
    "tr",
    "Retranslatable",
]

log = logging.getLogger(__name__)

CATALOG_DIR = Path(__file__).resolve().parent / "i18n"
DEFAULT_LANGUAGE = "zh_CN"
SOURCE_LANGUAGE = "en"
SHARED_CONTEXT = "*"

# Native names shown in the language menu (not translated on purpose).
_LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


def load_catalog(lang: str, *, folder: Path | None = None) -> dict[str, dict[str, str]]:
    """Merge every ``*.json`` catalog of ``lang`` into ``{context: {source: translation}}``.

    Parameters
    ----------
    lang
        A language folder name under ``folder``, e.g. ``"zh_CN"``.
    folder
        The catalog root; default :data:`CATALOG_DIR`.

    Raises
    ------
    ValueError
        When a catalog file is not valid JSON of the expected shape, or when two files
        translate the same (context, source) differently (the message names both files).
    """
    root = (folder or CATALOG_DIR) / lang
    merged: dict[str, dict[str, str]] = {}
    origin: dict[tuple[str, str], str] = {}
    if not root.is_dir():
        return merged
    for path in sorted(root.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"translation catalog {path} is not valid UTF-8 JSON ({exc}); fix the file") from exc
        if not isinstance(doc, dict):
            raise ValueError(f"translation catalog {path} must hold {{context: {{source: translation}}}}")
        for ctx, entries in doc.items():
            if ctx.startswith("_"):  # "_comment" and similar keys
                continue
            if not isinstance(entries, dict):
                raise ValueError(
                    f"translation catalog {path}: context {ctx!r} must map source strings to translations"
                )
            bucket = merged.setdefault(ctx, {})
            for src, dst in entries.items():
                if not isinstance(dst, str):
                    raise ValueError(f"translation catalog {path}: {ctx}/{src!r} must be a string, got {dst!r}")
                prev = bucket.get(src)
                if prev is not None and prev != dst:
                    raise ValueError(
                        f"translation catalogs {origin[(ctx, src)]} and {path.name} translate "
                        f"{ctx}/{src!r} differently ({prev!r} vs {dst!r}); keep one"
                    )
                bucket[src] = dst
                origin[(ctx, src)] = path.name
    return merged


class JsonTranslator(QTranslator):
    """A QTranslator reading merged JSON catalogs (see :func:`load_catalog`).

    ``translate`` returns ``None`` (a *null* QString) for unknown strings, which tells
    Qt to fall back to the next translator and finally to the (English) source text.
    Returning ``""`` instead would be taken as a translation to the empty string: Qt
    then blanks every untranslated text, and even ``QImage.loadFromData`` fails
    (measured with PyQt6 6.11). ``%n`` placeholders are filled in by Qt afterwards.
    """

    def __init__(self, lang: str, catalog: dict[str, dict[str, str]] | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self._catalog = catalog if catalog is not None else load_catalog(lang)
        self._shared = self._catalog.get(SHARED_CONTEXT, {})

    def translate(  # noqa: D102 - Qt virtual
        self, context: str | None, sourceText: str | None, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        if not sourceText:
            return None
        found = self._catalog.get(context or "", {}).get(sourceText)
        if found is None:
            found = self._shared.get(sourceText)
        return found or None

    def isEmpty(self) -> bool:  # noqa: N802 - Qt virtual
        return False

    def language(self) -> str:  # noqa: D102 - Qt virtual
        return self._lang

    @property
    def catalog(self) -> dict[str, dict[str, str]]:
        return self._catalog


# Module state: the installed translators must stay referenced, or Python frees them.
_state: dict[str, Any] = {"lang": SOURCE_LANGUAGE, "json": None, "qt": None}


def available_languages() -> list[str]:
    """Languages with a catalog folder, plus the English source; default first."""
    langs = sorted(p.name for p in CATALOG_DIR.iterdir() if p.is_dir() and any(p.glob("*.json"))) if CATALOG_DIR.is_dir() else []
    out = [DEFAULT_LANGUAGE] if DEFAULT_LANGUAGE in langs else []
    out += [lang for lang in langs if lang not in out]
    if SOURCE_LANGUAGE not in out:
        out.append(SOURCE_LANGUAGE)
    return out


def language_name(lang: str) -> str:
    """The native name of ``lang`` for menus (``"简体中文"``, ``"English"``)."""
    return _LANGUAGE_NAMES.get(lang, lang)


def current_language() -> str:
    """The active UI language (``"zh_CN"`` or ``"en"``)."""
    return str(_state["lang"])


def _qt_translator(lang: str) -> QTranslator | None:
    """Qt's own translations (dialog buttons, context menus) shipped with the PyQt6 wheel."""
    t = QTranslator()
    path = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if t.load(f"qtbase_{lang}", path):
        return t
    return None


def set_language(lang: str) -> str:
    """Switch the UI language at runtime.

    Removes the current translators and installs those of ``lang`` (nothing for the
    English source). Qt sends ``LanguageChange`` to every widget, which retranslate.

    Parameters
    ----------
    lang
        One of :func:`available_languages`; ``"en"`` removes translation.

    Returns
    -------
    str
        The language now active.

    Raises
    ------
    ValueError
        When ``lang`` has no catalog (the message lists the available ones).
    """
    langs = available_languages()
    if lang not in langs:
        raise ValueError(f"language {lang!r} has no catalog; expected one of {', '.join(langs)}")
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("set_language() needs a QApplication; create it first")
    for key in ("json", "qt"):
        old = _state[key]
        if old is not None:
            QCoreApplication.removeTranslator(old)
            _state[key] = None
    if lang != SOURCE_LANGUAGE:
        qt = _qt_translator(lang)
        if qt is not None:
            QCoreApplication.installTranslator(qt)
            _state["qt"] = qt
        js = JsonTranslator(lang)
        QCoreApplication.installTranslator(js)
        _state["json"] = js
        QLocale.setDefault(QLocale(lang))
    else:
        QLocale.setDefault(QLocale("en_US"))
    _state["lang"] = lang
    return lang


def install_translator(app: QCoreApplication, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Install the translator of ``lang`` (default Chinese) on ``app``; return the language.

    ``None`` means the default. Call once after creating the QApplication, before
    building widgets. An unknown ``lang`` falls back to the default with a warning
    rather than stopping the app.
    """
    if app is None:
        raise RuntimeError("install_translator() needs a QApplication")
    lang = lang or DEFAULT_LANGUAGE
    if lang not in available_languages():
        log.warning("UI language %r has no catalog; using %s. Available: %s", lang, DEFAULT_LANGUAGE,
                    ", ".join(available_languages()))
        lang = DEFAULT_LANGUAGE
    return set_language(lang)


def tr(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """Shorthand for ``QCoreApplication.translate(context, text)``.

    Note: the completeness test finds ``tr("Ctx", "text")`` calls of this helper too.
    """
    return QCoreApplication.translate(context, text, disambiguation, n)


class Retranslatable:
    """Mixin for QWidgets: calls ``self.retranslate()`` on every language change.

    Put it before the Qt base class: ``class MyDock(Retranslatable, QDockWidget)``;
    set every visible text in ``retranslate()`` and call it once from ``__init__``.
    """

    def retranslate(self) -> None:  # pragma: no cover - overridden
        pass

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt virtual
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)  # type: ignore[misc]

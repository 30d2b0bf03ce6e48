"""UI language: the JSON translator, runtime switching, and a catalog-completeness check.

The completeness check parses every ``ui/**/*.py`` file (``ast``, not regexes) and
collects the strings that go through Qt translation:

* ``QCoreApplication.translate("Ctx", "text")`` (any ``*.translate`` / ``translate``
  call whose context is a literal or a module/class constant);
* ``self.tr("text")`` / ``obj.tr("text")`` — context = the enclosing class name;
* ``tr("Ctx", "text")`` (the helper in ``ui.i18n``);
* wrapper functions such as ``def _tr(text): return QCoreApplication.translate("MainWindow", text)``
  (also lambdas and methods): every call ``_tr("text")`` / ``self._t("text")`` counts with
  the wrapper's context, also through a local alias (``t = _tr; t("text")``);
* ``QT_TRANSLATE_NOOP("Ctx", "text")`` and ``QT_TR_NOOP("text")``.

It fails listing every string without a zh_CN translation (as JSON ready to paste
into the module's catalog), and every f-string passed to a translation call (a
catalog can never match those; use ``%1`` or ``{0}`` placeholders).

Run ``python tests/ui/test_i18n.py`` to print the missing entries as JSON.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import ast
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "ui"


# --------------------------------------------------------------------------- the scanner
@dataclass(frozen=True)
class Found:
    path: str
    line: int
    context: str
    text: str


def _const_str(node: ast.AST, consts: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    if isinstance(node, ast.Attribute) and node.attr in consts:  # self.CONTEXT / Class.CONTEXT
        return consts[node.attr]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "a" "b" split over lines is one Constant
        a, b = _const_str(node.left, consts), _const_str(node.right, consts)
        if a is not None and b is not None:
            return a + b
    return None


def _func_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.found: list[Found] = []
        self.fstrings: list[tuple[str, int, str]] = []
        self.class_stack: list[str] = []
        self.consts: dict[str, str] = {}
        self.wrappers: dict[str, str] = {}
        self._collect_consts(tree)
        self._collect_wrappers(tree)

    # constants: NAME = "..." at module or class level
    def _collect_consts(self, tree: ast.Module) -> None:
        bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        for body in bodies:
            for st in body:
                if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
                    for t in st.targets:
                        if isinstance(t, ast.Name):
                            self.consts[t.id] = st.value.value
                elif isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) \
                        and isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
                    self.consts[st.target.id] = st.value.value

    def _wrapper_ctx(self, params: list[str], body_nodes: list[ast.AST]) -> str | None:
        for node in body_nodes:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and _func_name(sub) == "translate" and len(sub.args) >= 2:
                    ctx = _const_str(sub.args[0], self.consts)
                    if ctx is not None and isinstance(sub.args[1], ast.Name) and sub.args[1].id in params:
                        return ctx
        return None

    def _collect_wrappers(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in ("translate", "tr"):
                params = [a.arg for a in node.args.args]
                ctx = self._wrapper_ctx(params, node.body)
                if ctx is not None:
                    self.wrappers[node.name] = ctx
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                params = [a.arg for a in node.value.args.args]
                ctx = self._wrapper_ctx(params, [node.value.body])
                if ctx is not None:
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            self.wrappers[t.id] = ctx
        # aliases: ``t = _tr`` (e.g. a short local name inside retranslate())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Name, ast.Attribute)):
                src = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
                if src in self.wrappers:
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            self.wrappers[t.id] = self.wrappers[src]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802
        self.class_stack.append(node.name)
        self.generic_visit(node)
        self.class_stack.pop()

    def _add(self, node: ast.Call, ctx: str | None, arg: ast.AST) -> None:
        if isinstance(arg, ast.JoinedStr):
            self.fstrings.append((self.path, node.lineno, ast.unparse(arg)))
            return
        text = _const_str(arg, self.consts)
        if ctx is not None and text is not None:
            self.found.append(Found(self.path, node.lineno, ctx, text))

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        name = _func_name(node)
        args = node.args
        cls = self.class_stack[-1] if self.class_stack else None
        if name in ("translate", "QT_TRANSLATE_NOOP") and len(args) >= 2:
            self._add(node, _const_str(args[0], self.consts), args[1])
        elif name == "tr" and isinstance(node.func, ast.Name) and len(args) >= 2:
            self._add(node, _const_str(args[0], self.consts), args[1])
        elif name in ("tr", "QT_TR_NOOP") and len(args) >= 1:
            self._add(node, cls, args[0])
        elif name in self.wrappers and len(args) >= 1:
            self._add(node, self.wrappers[name], args[0])
        self.generic_visit(node)


def scan_ui(root: Path = UI) -> tuple[list[Found], list[tuple[str, int, str]]]:
    """All translatable literals under ``root`` and the f-strings passed to translation calls."""
    found: list[Found] = []
    fstrings: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        rel = str(path.relative_to(REPO))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        sc = _Scanner(rel, tree)
        sc.visit(tree)
        found += sc.found
        fstrings += sc.fstrings
    return found, fstrings


def missing_translations(lang: str = "zh_CN") -> tuple[list[Found], list[tuple[str, int, str]], int]:
    from ui.i18n import load_catalog

    cat = load_catalog(lang)
    shared = cat.get("*", {})
    found, fstrings = scan_ui()
    missing = [f for f in found if not (cat.get(f.context, {}).get(f.text) or shared.get(f.text))]
    return missing, fstrings, len(found)


def _report(missing: list[Found]) -> str:
    by_file: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    lines = []
    for f in missing:
        by_file[f.path][f.context][f.text] = ""
        lines.append(f"  {f.path}:{f.line}  [{f.context}] {f.text!r}")
    snippet = json.dumps({p: v for p, v in by_file.items()}, ensure_ascii=False, indent=2)
    return "\n".join(lines) + "\n\nAdd to ui/i18n/zh_CN/<area>.json (by file):\n" + snippet


# --------------------------------------------------------------------------- tests
def test_every_ui_string_has_a_chinese_translation():
    missing, fstrings, total = missing_translations("zh_CN")
    assert total > 20, f"the scanner found only {total} translatable strings under ui/; is it broken?"
    assert not fstrings, "f-strings passed to tr()/translate() can never be translated:\n" + "\n".join(
        f"  {p}:{n}  {s}" for p, n, s in fstrings
    )
    unique = {(f.context, f.text) for f in missing}
    assert not missing, f"{len(unique)} UI strings lack a zh_CN translation:\n{_report(missing)}"


def test_scanner_understands_the_ways_strings_are_written(tmp_path):
    src = '''
from PyQt6.QtCore import QCoreApplication
CTX = "Module"
def _tr(text):
    return QCoreApplication.translate("MainWindow", text)
_t2 = lambda s: QCoreApplication.translate(CTX, s)
class Dialog:
    CONTEXT = "PrintExport"
    def _t(self, text):
        return QCoreApplication.translate(self.CONTEXT, text)
    def build(self, name):
        self.tr("Title")
        _tr("Open")
        _t2("Close")
        self._t("Export")
        QCoreApplication.translate("Other", "Plain" " joined")
        _tr(f"Hello {name}")
        _tr(name)
        t = _tr
        t("Alias")
'''
    sc = _Scanner("x.py", ast.parse(src))
    sc.visit(ast.parse(src))
    got = {(f.context, f.text) for f in sc.found}
    assert got == {
        ("Dialog", "Title"), ("MainWindow", "Open"), ("Module", "Close"), ("PrintExport", "Export"),
        ("Other", "Plain joined"), ("MainWindow", "Alias"),
    }
    assert [s for _, _, s in sc.fstrings] == ["f'Hello {name}'"]


def test_json_translator_lookup_and_catalog_merge(tmp_path, qapp):
    from PyQt6.QtCore import QCoreApplication

    from ui.i18n import JsonTranslator, load_catalog

    d = tmp_path / "zh_CN"
    d.mkdir()
    (d / "a.json").write_text(json.dumps({"Ctx": {"Open": "打开"}, "*": {"OK": "确定"}}), encoding="utf-8")
    (d / "b.json").write_text(json.dumps({"Ctx": {"%n rows": "%n 行"}, "_comment": "ignored"}), encoding="utf-8")
    cat = load_catalog("zh_CN", folder=tmp_path)
    t = JsonTranslator("zh_CN", cat)
    assert t.translate("Ctx", "Open") == "打开"
    assert t.translate("Other", "OK") == "确定"  # shared context
    assert t.translate("Ctx", "Unknown") is None  # a null string: Qt falls back to the source
    QCoreApplication.installTranslator(t)
    try:
        assert QCoreApplication.translate("Ctx", "%n rows", None, 3) == "3 行"
        assert QCoreApplication.translate("Ctx", "Not in the catalog") == "Not in the catalog"
        # regression: an empty-string answer made Qt treat every string as translated to ""
        from PyQt6.QtCore import QBuffer, QIODevice
        from PyQt6.QtGui import QImage

        img = QImage(8, 8, QImage.Format.Format_RGB32)
        img.fill(0xFF336699)
        buf = QBuffer()
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        img.save(buf, "PNG")
        assert QImage().loadFromData(bytes(buf.data().data()))
    finally:
        QCoreApplication.removeTranslator(t)
    (d / "c.json").write_text(json.dumps({"Ctx": {"Open": "开启"}}), encoding="utf-8")
    with pytest.raises(ValueError, match="a.json and c.json translate Ctx/'Open' differently"):
        load_catalog("zh_CN", folder=tmp_path)


def test_widget_text_switches_between_chinese_and_english(qtbot):
    import geopandas as gpd
    from shapely.geometry import Point

    from layers.layer import Layer
    from ui import i18n
    from ui.attribute_table import AttributeTableWidget

    assert i18n.available_languages()[:1] == ["zh_CN"] and "en" in i18n.available_languages()
    i18n.set_language("zh_CN")
    layer = Layer(gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(0, 0)], crs=4549), name="t", kind="other")
    w = AttributeTableWidget(layer)
    qtbot.addWidget(w)
    assert i18n.current_language() == "zh_CN"
    assert w.zoom_button.text() == "缩放至选中要素"
    i18n.set_language("en")
    qtbot.waitUntil(lambda: w.zoom_button.text() == "Zoom to selection", timeout=2000)
    assert i18n.current_language() == "en"
    i18n.set_language("zh_CN")
    qtbot.waitUntil(lambda: w.zoom_button.text() == "缩放至选中要素", timeout=2000)
    with pytest.raises(ValueError, match="has no catalog; expected one of zh_CN, en"):
        i18n.set_language("fr")


def test_install_translator_defaults_to_chinese(qapp):
    from PyQt6.QtCore import QCoreApplication

    from ui import i18n

    assert i18n.install_translator(qapp) == "zh_CN"
    assert QCoreApplication.translate("AttributeTable", "Selected only") == "仅显示选中"
    assert i18n.install_translator(qapp, "xx") == "zh_CN"  # unknown: default, with a warning


if __name__ == "__main__":  # print what is missing, as JSON to paste
    sys.path.insert(0, str(REPO))
    from PyQt6.QtWidgets import QApplication

    _app = QApplication([])
    m, fs, n = missing_translations(sys.argv[1] if len(sys.argv) > 1 else "zh_CN")
    print(f"{n} translatable strings, {len({(f.context, f.text) for f in m})} missing, {len(fs)} f-strings")
    if m:
        print(_report(m))
    for p, line, s in fs:
        print(f"f-string: {p}:{line} {s}")

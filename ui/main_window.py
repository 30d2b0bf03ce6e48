"""The main window: map canvas, layer panel with legend, identify dock, menus, tools, status bar.

Extension API for the other dialogs (coverage, siting, findings, HTML export):

* :attr:`MainWindow.layer_list` (:class:`layers.LayerList`), :attr:`MainWindow.canvas`
  (:class:`ui.map_canvas.MapCanvas`), :attr:`MainWindow.current_project`
  (:meth:`MainWindow.project_snapshot` gives an up-to-date :class:`gridtool.project.Project`);
* :meth:`MainWindow.add_analysis_action` puts an action into the Analysis menu;
  :attr:`MainWindow.findings_menu` is the Findings menu;
* :meth:`MainWindow.add_result_layer` shows a GeoDataFrame as a memory layer
  (saved into ``<project>.data.gpkg`` with the project);
* :attr:`MainWindow.tools` holds the map tools by name; ``tools["add_point"]`` emits
  ``pointAdded(x, y)`` for registering findings (activate it with :meth:`set_tool`);
* long work runs through :func:`ui.worker.run_task`.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
from PyQt6.QtCore import QCoreApplication, QEvent, QSettings, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QWidget,
)

from gridtool.errors import GridtoolError, InputError
from gridtool.kinds import KINDS, kind_of_layer_name
from gridtool.project import PROJECT_SUFFIX, Project, open_any, save_project
from gridtool.styles import Style, default_style
from layers.layer import Layer
from layers.layer_list import LayerList
from ui.identify_dock import IdentifyDock
from ui.layer_panel import LayerPanel
from ui.map_canvas import MapCanvas
from ui.map_tools import AddPointTool, IdentifyTool, MeasureTool, PanTool, SelectTool
from ui.status_bar import MapStatusBar

__all__ = ["MainWindow", "IMPORT_FILTER"]

IMPORT_SUFFIXES = ("*.gpkg", "*.shp", "*.geojson", "*.json", "*.kml", "*.kmz", "*.gpx", "*.csv", "*.tsv", "*.txt",
                   "*.xlsx", "*.fgb", "*.zip")
IMPORT_FILTER = "({})".format(" ".join(IMPORT_SUFFIXES))
_MAX_RECENT = 8


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


class MainWindow(QMainWindow):
    """The gridtool map window.

    Signals
    -------
    projectLoaded(object)
        A project was opened (the :class:`gridtool.project.Project`).
    layerAdded(object)
        A layer was added (file, drop or analysis result).
    """

    projectLoaded = pyqtSignal(object)
    layerAdded = pyqtSignal(object)
    findingsStoreChanged = pyqtSignal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.layer_list = LayerList()
        self.current_project: Project | None = None
        self.findings_store: Any = None  # gridtool.findings.FindingsStore; see set_findings_store
        self.canvas = MapCanvas(self.layer_list, self)
        self.setCentralWidget(self.canvas)
        self.basemap = self._make_basemap()
        # docks
        self.layer_panel = LayerPanel(self.layer_list)
        self.layer_dock = QDockWidget(self)
        self.layer_dock.setObjectName("LayerDock")
        self.layer_dock.setWidget(self.layer_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.layer_dock)
        self.identify_dock = IdentifyDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.identify_dock)
        self.identify_dock.hide()  # shown by the first identify click
        self.table_docks: dict[str, QDockWidget] = {}
        self.status = MapStatusBar(self)
        self.setStatusBar(self.status)
        self.status.set_canvas(self.canvas)
        # tools
        self.tools: dict[str, Any] = {
            "pan": PanTool(self.canvas),
            "identify": IdentifyTool(self.canvas),
            "select_rect": SelectTool(self.canvas, "rect"),
            "select_polygon": SelectTool(self.canvas, "polygon"),
            "measure_distance": MeasureTool(self.canvas, "distance"),
            "measure_area": MeasureTool(self.canvas, "area"),
            "add_point": AddPointTool(self.canvas),
        }
        self.tools["identify"].identified.connect(self._show_identify)
        for name in ("measure_distance", "measure_area"):
            self.tools[name].changed.connect(self._show_measure)
            self.tools[name].measured.connect(self._show_measure)
        self.identify_dock.featureChosen.connect(self._feature_chosen)
        self.layer_panel.layerActivated.connect(self._layer_activated)
        self.layer_panel.styleRequested.connect(self.edit_style)
        self.layer_panel.zoomRequested.connect(self.canvas.zoom_to_layer)
        self.layer_panel.tableRequested.connect(self.open_attribute_table)
        self.layer_panel.removeRequested.connect(self.remove_layer)
        self.canvas.viewportChanged.connect(lambda _vp: self._update_nav_actions())
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        self._build_toolbars()
        self.set_tool("pan")
        self.retranslate()
        self.resize(1400, 900)

    # ------------------------------------------------------------------ building
    def _make_basemap(self) -> Any | None:
        try:
            from ui.basemap import BasemapLayer
        except ImportError:
            return None
        bm = BasemapLayer(self)
        self.canvas.set_basemap(bm)
        return bm

    def _act(self, name: str, slot: Callable[..., Any], *, shortcut: Any = None, checkable: bool = False) -> QAction:
        act = QAction(self)
        act.setObjectName(f"action_{name}")
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        act.triggered.connect(lambda checked=False, s=slot: s())
        self.actions[name] = act
        return act

    def _build_actions(self) -> None:
        SK = QKeySequence.StandardKey
        self._act("open", self.open_dialog, shortcut=SK.Open)
        self._act("add_layer", self.add_layer_dialog, shortcut="Ctrl+L")
        self._act("save", self.save, shortcut=SK.Save)
        self._act("save_as", self.save_as, shortcut=SK.SaveAs)
        self._act("quit", self.close, shortcut=SK.Quit)
        self._act("zoom_full", self.canvas.zoom_full, shortcut="Ctrl+Shift+F")
        self._act("zoom_layer", lambda: self.canvas.zoom_to_layer(self.layer_panel.current_layer))
        self._act("zoom_selection", self.canvas.zoom_to_selection, shortcut="Ctrl+J")
        self._act("zoom_in", self.canvas.zoom_in, shortcut=SK.ZoomIn)
        self._act("zoom_out", self.canvas.zoom_out, shortcut=SK.ZoomOut)
        self._act("back", self.canvas.back, shortcut="Alt+Left")
        self._act("forward", self.canvas.forward, shortcut="Alt+Right")
        self._act("clear_selection", self.canvas.clear_selection)
        self._act("attribute_table", self._open_current_table, shortcut="F6")
        self._act("about", self.about)
        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        for name in ("pan", "identify", "select_rect", "select_polygon", "measure_distance", "measure_area"):
            act = self._act(f"tool_{name}", lambda n=name: self.set_tool(n), checkable=True)
            self.tool_group.addAction(act)
        self.lang_group = QActionGroup(self)
        self.lang_group.setExclusive(True)
        for lang in ("zh_CN", "en"):
            act = self._act(f"lang_{lang}", lambda l=lang: self.set_language(l), checkable=True)
            act.setText("简体中文" if lang == "zh_CN" else "English")
            self.lang_group.addAction(act)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.file_menu = mb.addMenu("")
        self.file_menu.setObjectName("file_menu")
        a = self.actions
        self.file_menu.addActions([a["open"], a["add_layer"]])
        self.recent_menu = self.file_menu.addMenu("")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.file_menu.addSeparator()
        self.file_menu.addActions([a["save"], a["save_as"]])
        self.file_menu.addSeparator()
        self.export_menu = self.file_menu.addMenu("")
        self._add_export_actions()
        self.file_menu.addSeparator()
        from ui.db_connect_dialog import add_db_connect_action  # File → Connect to database…

        add_db_connect_action(self)
        self.file_menu.addSeparator()
        self.file_menu.addAction(a["quit"])

        self.view_menu = mb.addMenu("")
        self.view_menu.setObjectName("view_menu")
        self.view_menu.addActions([a["zoom_full"], a["zoom_layer"], a["zoom_selection"], a["zoom_in"], a["zoom_out"]])
        self.view_menu.addSeparator()
        self.view_menu.addActions([a["back"], a["forward"], a["clear_selection"], a["attribute_table"]])
        self.view_menu.addSeparator()
        self.basemap_menu = self.view_menu.addMenu("")
        self._fill_basemap_menu()
        self.language_menu = self.view_menu.addMenu("")
        self.language_menu.addActions([a["lang_zh_CN"], a["lang_en"]])
        self.panels_menu = self.view_menu.addMenu("")
        self.panels_menu.addAction(self.layer_dock.toggleViewAction())
        self.panels_menu.addAction(self.identify_dock.toggleViewAction())

        self.tools_menu = mb.addMenu("")
        for name in ("pan", "identify", "select_rect", "select_polygon", "measure_distance", "measure_area"):
            self.tools_menu.addAction(a[f"tool_{name}"])

        self.analysis_menu = mb.addMenu("")
        self.analysis_menu.setObjectName("analysis_menu")
        from ui.coverage_dialog import add_coverage_action  # Analysis → Coverage analysis…

        add_coverage_action(self)
        from ui.siting_dialog import add_siting_actions  # Analysis → Optimal siting…, Compare scenarios…

        add_siting_actions(self)
        self.findings_menu = mb.addMenu("")
        self.findings_menu.setObjectName("findings_menu")
        from ui.findings_panel import install_findings_ui  # Findings menu, findings panel, store map layer

        install_findings_ui(self)
        self.help_menu = mb.addMenu("")
        self.help_menu.addAction(a["about"])

    def _add_export_actions(self) -> None:
        """PNG/PDF export of the view, when ``ui.print_export`` is installed."""
        self.export_menu.clear()
        try:
            import ui.print_export as pe
        except ImportError:
            self.export_menu.setEnabled(False)
            return
        fn = getattr(pe, "add_export_actions", None)
        if callable(fn):
            fn(self, self.export_menu)
            from ui.export_html_dialog import add_export_html_action  # File → Export → HTML map…

            self.export_menu.addSeparator()
            add_export_html_action(self, self.export_menu)
            return
        dlg = getattr(pe, "export_dialog", None) or getattr(pe, "ExportDialog", None)
        if dlg is not None:
            act = self._act("export", lambda: dlg(self) if not isinstance(dlg, type) else dlg(self).exec())
            self.export_menu.addAction(act)

    def _fill_basemap_menu(self) -> None:
        self.basemap_menu.clear()
        if self.basemap is None:
            self.basemap_menu.setEnabled(False)
            return
        try:
            from ui.basemap_dialog import fill_basemap_menu  # translated titles, key dialog, "Basemap settings…"

            fill_basemap_menu(self, self.basemap_menu)
            return
        except ImportError:  # pragma: no cover
            pass
        try:
            from ui.basemap import provider_ids
        except ImportError:  # pragma: no cover
            return
        group = QActionGroup(self.basemap_menu)
        for pid in provider_ids():
            act = QAction(pid, self.basemap_menu)
            act.setCheckable(True)
            act.setChecked(pid == self.basemap.provider)
            act.triggered.connect(lambda checked=False, p=pid: self.set_basemap(p))
            group.addAction(act)
            self.basemap_menu.addAction(act)

    def set_basemap(self, provider: str, **kwargs: Any) -> None:
        """Draw basemap ``provider`` (``"none"`` for no basemap); errors show as a dialog."""
        if self.basemap is None:
            return
        try:
            self.basemap.set_source(provider, **kwargs)
        except (GridtoolError, ValueError) as exc:
            self.show_error(_tr("Basemap"), str(exc))
        self.canvas.invalidate()

    def _build_toolbars(self) -> None:
        a = self.actions
        self.map_toolbar = QToolBar(self)
        self.map_toolbar.setObjectName("MapToolbar")
        self.map_toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        from ui.icons import tool_icon

        for name in ("tool_pan", "tool_identify", "tool_select_rect", "tool_select_polygon", "tool_measure_distance",
                     "tool_measure_area", "zoom_in", "zoom_out", "zoom_full", "zoom_selection", "back", "forward"):
            a[name].setIcon(tool_icon(name.removeprefix("tool_")))
        self.addToolBar(self.map_toolbar)
        for name in ("tool_pan", "tool_identify", "tool_select_rect", "tool_select_polygon", "tool_measure_distance",
                     "tool_measure_area"):
            self.map_toolbar.addAction(a[name])
        self.map_toolbar.addSeparator()
        for name in ("zoom_in", "zoom_out", "zoom_full", "zoom_selection", "back", "forward"):
            self.map_toolbar.addAction(a[name])
        self.map_toolbar.addSeparator()
        from ui.locator import LocatorWidget

        self.locator = LocatorWidget(self)
        self.map_toolbar.addWidget(self.locator)

    # ------------------------------------------------------------------ i18n
    def retranslate(self) -> None:
        """Set every visible text (called on start and on each language change)."""
        t = _tr
        texts = {
            "open": t("&Open project or GeoPackage…"), "add_layer": t("&Add layer…"), "save": t("&Save project"),
            "save_as": t("Save project &as…"), "quit": t("&Quit"), "zoom_full": t("Zoom to &full extent"),
            "zoom_layer": t("Zoom to &layer"), "zoom_selection": t("Zoom to &selection"), "zoom_in": t("Zoom &in"),
            "zoom_out": t("Zoom &out"), "back": t("&Back"), "forward": t("&Forward"),
            "clear_selection": t("&Clear selection"), "attribute_table": t("Open &attribute table"), "about": t("&About gridtool"), "tool_pan": t("Pan"),
            "tool_identify": t("Identify"), "tool_select_rect": t("Select (click or rectangle)"),
            "tool_select_polygon": t("Select by polygon"), "tool_measure_distance": t("Measure distance"),
            "tool_measure_area": t("Measure area"),
        }
        for name, text in texts.items():
            plain = re.sub(r"\(&\w\)", "", text).replace("&", "").replace("…", "")
            self.actions[name].setText(text)
            self.actions[name].setIconText(plain)
            self.actions[name].setToolTip(plain)
        if "export" in self.actions:
            self.actions["export"].setText(t("Export map…"))
        self.file_menu.setTitle(t("&File"))
        self.recent_menu.setTitle(t("Open &recent"))
        self.export_menu.setTitle(t("&Export"))
        self.view_menu.setTitle(t("&View"))
        self.basemap_menu.setTitle(t("&Basemap"))
        self.language_menu.setTitle(t("&Language"))
        self.panels_menu.setTitle(t("&Panels"))
        self.tools_menu.setTitle(t("&Tools"))
        self.analysis_menu.setTitle(t("&Analysis"))
        self.findings_menu.setTitle(t("F&indings"))
        self.help_menu.setTitle(t("&Help"))
        self.layer_dock.setWindowTitle(t("Layers"))
        self.map_toolbar.setWindowTitle(t("Map tools"))
        self._update_title()
        lang = self.language
        for code in ("zh_CN", "en"):
            self.actions[f"lang_{code}"].setChecked(code == lang)

    def changeEvent(self, ev: QEvent) -> None:  # noqa: N802
        if ev.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(ev)

    @property
    def language(self) -> str:
        from ui.i18n import current_language

        return current_language()

    def set_language(self, lang: str) -> None:
        """Switch the interface language at runtime (``"zh_CN"`` or ``"en"``)."""
        from ui.i18n import set_language

        set_language(lang)
        QSettings().setValue("ui/language", lang)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange.value)
        self.retranslate()
        self.layer_panel.retranslate()
        self.identify_dock.retranslate()
        self.canvas.invalidate()

    def _update_title(self) -> None:
        proj = self.current_project
        name = proj.title if proj is not None and proj.title else _tr("untitled")
        path = f" — {proj.path}" if proj is not None and proj.path else ""
        self.setWindowTitle(f"{name}{path} — {_tr('gridtool map')}")

    # ------------------------------------------------------------------ tools
    def set_tool(self, name: str) -> None:
        """Activate map tool ``name`` (a key of :attr:`tools`)."""
        if name not in self.tools:
            raise ValueError(f"map tool {name!r} is unknown; tools are: {', '.join(self.tools)}")
        self.canvas.set_tool(self.tools[name])
        act = self.actions.get(f"tool_{name}")
        if act is not None:
            act.setChecked(True)
        elif self.tool_group.checkedAction() is not None:
            self.tool_group.checkedAction().setChecked(False)

    def _show_identify(self, hits: list, x: float, y: float) -> None:
        self.identify_dock.show_results(hits, x, y)
        if hits:
            self.canvas.set_highlight(hits[0][0], hits[0][1][:1])
        else:
            self.canvas.set_highlight(None)
        self.identify_dock.show()
        self.identify_dock.raise_()

    def _show_measure(self, value: float, mode: str) -> None:
        from ui.map_tools import format_area, format_length

        text = format_length(value) if mode == "distance" else format_area(value)
        self.status.showMessage((_tr("Distance: {0}") if mode == "distance" else _tr("Area: {0}")).format(text))

    def _open_current_table(self) -> None:
        lyr = self.layer_panel.current_layer
        if lyr is None:
            self.status.showMessage(_tr("Choose a layer in the layer panel first"), 5000)
            return
        self.open_attribute_table(lyr)

    def _feature_chosen(self, layer: Layer, row: int) -> None:
        self.canvas.set_highlight(layer, [row])

    def _layer_activated(self, layer: Layer | None) -> None:
        self.canvas.active_layer = layer

    def _update_nav_actions(self) -> None:
        self.actions["back"].setEnabled(self.canvas.can_go_back(flush=False))
        self.actions["forward"].setEnabled(self.canvas.can_go_forward())

    # ------------------------------------------------------------------ projects
    def show_error(self, title: str, message: str) -> None:
        """A warning dialog with ``message`` (the importer's or analysis's own text)."""
        QMessageBox.warning(self, title, message)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, _tr("Open project or GeoPackage"), self._last_dir(),
            f"{_tr('Projects and GeoPackages')} (*{PROJECT_SUFFIX} *.json *.gpkg)",
        )
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike[str], *, show_errors: bool = True) -> bool:
        """Open a project file or a GeoPackage as the current project; errors show in a dialog.

        Returns True on success. With ``show_errors=False`` errors are raised instead.
        """
        try:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                project = open_any(path)
            finally:
                QApplication.restoreOverrideCursor()
        except (GridtoolError, OSError, ValueError) as exc:
            if not show_errors:
                raise
            self.show_error(_tr("Cannot open project"), str(exc))
            return False
        self.load_project(project)
        self._add_recent(str(path))
        return True

    def load_project(self, project: Project) -> None:
        """Show ``project`` (its layers must be loaded): layers, order, styles, visibility, view, basemap."""
        self.layer_list.clear()
        for spec in project.layers:
            self.layer_list.append(Layer.from_spec(spec))
        self.current_project = project
        view = project.view or {}
        if "center" in view and "scale" in view:
            cx, cy = view["center"]
            self.canvas.center_on(float(cx), float(cy), scale=float(view["scale"]))
            self.canvas._pending_bounds = None
        else:
            self.canvas.zoom_full()
        if self.basemap is not None and project.basemap:
            try:
                self.basemap.apply_project_dict(project.basemap)
            except (GridtoolError, ValueError) as exc:
                self.status.showMessage(str(exc), 8000)
        self._update_title()
        self.projectLoaded.emit(project)

    def view_dict(self) -> dict[str, Any]:
        vp = self.canvas.viewport
        return {"center": [round(vp.cx, 3), round(vp.cy, 3)], "scale": round(vp.scale, 3)}

    def project_snapshot(self) -> Project:
        """The current state as a :class:`Project` (layers with data, order, styles, view, basemap)."""
        base = self.current_project
        proj = self.layer_list.to_project(title=base.title if base else "", view=self.view_dict(), base=base)
        if self.basemap is not None:
            try:
                proj.basemap = self.basemap.to_project_dict()
            except (AttributeError, TypeError):
                pass
        return proj

    def save(self) -> Path | None:
        """Save to the current project file, asking for a name the first time."""
        if self.current_project is None or not self.current_project.path:
            return self.save_as()
        return self.save_to(self.current_project.path)

    def save_as(self) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(
            self, _tr("Save project"), self._last_dir(), f"{_tr('gridtool projects')} (*{PROJECT_SUFFIX})"
        )
        if not path:
            return None
        return self.save_to(path)

    def save_to(self, path: str | os.PathLike[str]) -> Path | None:
        """Write the project to ``path`` (``*.gridtool.json``); returns the written path."""
        proj = self.project_snapshot()
        try:
            out = save_project(proj, path)
        except (GridtoolError, OSError, ValueError) as exc:
            self.show_error(_tr("Cannot save project"), str(exc))
            return None
        # memory layers now live in <project>.data.gpkg
        for spec in proj.layers:
            lyr = self.layer_list.get(spec.id)
            if lyr is not None and lyr.source_path is None and spec.source_path:
                lyr.source_path, lyr.source_layer = spec.source_path, spec.source_layer
        self.current_project = proj
        self._add_recent(str(out))
        self._update_title()
        self.status.showMessage(_tr("Saved {0}").format(str(out)), 5000)
        return out

    # ------------------------------------------------------------------ layers
    def add_layer_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, _tr("Add layer"), self._last_dir(), f"{_tr('Spatial data')} {IMPORT_FILTER};;{_tr('All files')} (*)"
        )
        for p in paths:
            self.add_layer_from_file(p)

    def add_layer_from_file(self, path: str | os.PathLike[str], layer: str | None = None) -> list[Layer]:
        """Import ``path`` (every layer of a multi-layer file unless ``layer`` is given) and add it.

        Import errors appear as a dialog with the importer's message; the app stays up.
        """
        from gridtool import io as gio

        path = str(path)
        added: list[Layer] = []
        try:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                if layer is None and path.lower().endswith(".gpkg"):
                    names = [info.name for info in gio.list_layers(path)]
                else:
                    names = [layer]
                for name in names:
                    guess = kind_of_layer_name(name or Path(path).stem)
                    res = gio.read_layer(path, name, kind=None if guess == "other" else guess)
                    lyr = Layer(
                        res.gdf, name=name or Path(path).stem, kind=guess, source_path=str(Path(path).resolve()),
                        source_layer=res.layer if res.layer is not None else name,
                    )
                    self.layer_list.append(lyr)
                    added.append(lyr)
                    self.layerAdded.emit(lyr)
                    if res.warnings:
                        self.status.showMessage("; ".join(res.warnings), 10000)
            finally:
                QApplication.restoreOverrideCursor()
        except (GridtoolError, OSError, ValueError, KeyError) as exc:
            self.show_error(_tr("Cannot import {0}").format(Path(path).name), str(exc))
        if added and len(self.layer_list) == len(added):
            self.canvas.zoom_full()
        return added

    def add_result_layer(self, gdf: gpd.GeoDataFrame, name: str, kind: str = "other", style: Style | None = None,
                         group: str = "analysis", *, title: str = "", labels: Any = None) -> Layer:
        """Show an analysis result as a memory layer on top (saved with the project).

        Parameters
        ----------
        gdf
            The result, in EPSG:4549.
        name
            Layer name (made unique for its id).
        kind
            A kind of :mod:`gridtool.kinds` (default style and columns) or ``"other"``.
        style
            The style; default by kind.
        group
            Layer-panel group, ``"analysis"`` by default.
        """
        if kind not in KINDS:
            raise InputError(f"kind {kind!r} is unknown; expected one of: {', '.join(KINDS)}")
        lyr = Layer(gdf, name=name, kind=kind, title=title or name, style=style or default_style(kind),
                    labels=labels, group=group)
        self.layer_list.append(lyr)
        self.layerAdded.emit(lyr)
        return lyr

    def set_findings_store(self, store: Any) -> None:
        """Make ``store`` (a :class:`gridtool.findings.FindingsStore` or None) the findings store; closes the old one."""
        old = self.findings_store
        self.findings_store = store
        self.findingsStoreChanged.emit(store)
        if old is not None and old is not store:
            old.close()

    def add_analysis_action(self, action: QAction) -> None:
        """Put ``action`` into the Analysis menu (coverage, siting …)."""
        action.setParent(self) if action.parent() is None else None
        self.analysis_menu.addAction(action)

    def remove_layer(self, layer: Layer) -> None:
        if layer in self.layer_list:
            self.layer_list.remove(layer)
        dock = self.table_docks.pop(layer.id, None)
        if dock is not None:
            dock.close()

    def edit_style(self, layer: Layer) -> None:
        from ui.style_dialog import StyleDialog

        dlg = StyleDialog(layer, self)
        dlg.exec()

    def open_attribute_table(self, layer: Layer) -> QDockWidget | None:
        """Show ``layer``'s attribute table (linked with the map selection) in a bottom dock."""
        dock = self.table_docks.get(layer.id)
        if dock is None:
            try:
                from ui.attribute_table import AttributeTableDock
            except ImportError:
                return None
            dock = AttributeTableDock(layer, self)
            dock.setObjectName(f"AttributeTable_{layer.id}")
            table = getattr(dock, "table", None) or dock.widget()
            if hasattr(table, "zoom_requested"):
                table.zoom_requested.connect(lambda b: self.canvas.zoom_to_bounds(tuple(b), margin=0.2))
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            self.table_docks[layer.id] = dock
            dock.destroyed.connect(lambda _obj=None, key=layer.id: self.table_docks.pop(key, None))
        dock.show()
        dock.raise_()
        return dock

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, ev: Any) -> None:  # noqa: N802
        if ev.mimeData().hasUrls() and any(u.isLocalFile() for u in ev.mimeData().urls()):
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dragMoveEvent(self, ev: Any) -> None:  # noqa: N802
        self.dragEnterEvent(ev)

    def dropEvent(self, ev: Any) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        ev.acceptProposedAction()
        self.open_dropped(paths)

    def open_dropped(self, paths: list[str]) -> list[Layer]:
        """Add dropped files as layers (a ``*.gridtool.json`` opens as the project)."""
        added: list[Layer] = []
        for p in paths:
            if p.endswith(PROJECT_SUFFIX):
                self.open_path(p)
            else:
                added += self.add_layer_from_file(p)
        return added

    # ------------------------------------------------------------------ misc
    def _last_dir(self) -> str:
        recent = self.recent_files()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def recent_files(self) -> list[str]:
        v = QSettings().value("recent/files", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path] + [f for f in self.recent_files() if f != path]
        QSettings().setValue("recent/files", files[:_MAX_RECENT])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for f in self.recent_files():
            act = QAction(f, self.recent_menu)
            act.triggered.connect(lambda checked=False, p=f: self.open_path(p))
            self.recent_menu.addAction(act)
        if not self.recent_menu.actions():
            act = QAction(_tr("(none)"), self.recent_menu)
            act.setEnabled(False)
            self.recent_menu.addAction(act)

    def about(self) -> None:
        from gridtool import __version__

        QMessageBox.about(
            self, _tr("About gridtool"),
            _tr("gridtool {0}: grid supervision maps for Zhonglou District's zero-waste city work.\n"
                "Coordinates: CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549).").format(__version__),
        )

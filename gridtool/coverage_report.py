"""Excel report of a coverage analysis (openpyxl, no Qt).

:func:`write_coverage_report` writes one workbook with the sheets

- ``汇总 Summary`` — method, radius, demand, covered population and share, unreachable
  points by reason, overloaded stations;
- ``指标 Indicators`` — per grid (and per station for loads) against the plan targets
  (:func:`gridtool.targets.indicator_table`), unmet rows highlighted;
- ``网格覆盖 By grid`` — covered population and households per grid at every level;
- ``转运站负荷 Loads`` — assigned tonnage against capacity (when computed).

The file is written to a temporary name beside the target and moved into place, so a
failed run never leaves half a workbook.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from gridtool.atomic import atomic_path
from gridtool.errors import InputError

__all__ = ["write_coverage_report"]


def _cell(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def _sheet(wb, title: str, frame: pd.DataFrame, headers: dict[str, str], pct_cols=(), bad_rows=None):
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    cols = [c for c in headers if c in frame.columns]
    ws.append([headers[c] for c in cols])
    for c in ws[1]:
        c.font = Font(bold=True)
    red = PatternFill("solid", fgColor="FFF2C7C7")
    for i, rec in enumerate(frame[cols].itertuples(index=False), start=2):
        ws.append([_cell(v) for v in rec])
        if bad_rows is not None and bad_rows[i - 2]:
            for c in ws[i]:
                c.fill = red
    for j, c in enumerate(cols, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(10, min(40, 2 + max([len(str(headers[c]))] + [
            len(str(_cell(v))) for v in frame[c].head(200)])))
        if c in pct_cols:
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = "0.0"
    ws.freeze_panes = "A2"
    return ws


def write_coverage_report(result, path: str | os.PathLike[str], *, facility_kind: str = "", targets=None,
                          facilities_title: str = "") -> Path:
    """Write the Excel report of ``result`` (a :class:`gridtool.coverage.CoverageResult`).

    Parameters
    ----------
    path
        Target ``.xlsx`` file; its folder must exist.
    facility_kind
        Kind of the facility layer (picks the plan target, see :mod:`gridtool.targets`).
    targets
        :class:`gridtool.targets.Targets` (defaults from FACTS.md).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from openpyxl import Workbook

    from gridtool.targets import indicator_table

    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise InputError(f"report file {str(p)!r} must end in .xlsx (an Excel workbook)")
    if not p.parent.exists():
        raise InputError(f"report folder {str(p.parent)!r} does not exist; create it or choose another path")
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总 Summary"
    s = result.summary
    rows = [
        ("设施图层 Facilities", facilities_title or facility_kind),
        ("方法 Method", "路网距离 road network" if result.method == "network" else "直线距离 straight line"),
        ("服务半径 Radius (m)", result.radius_m),
        ("需求点 Demand points", s.get("demand_points")),
        ("已覆盖需求点 Covered points", s.get("covered_points")),
        ("人口 Population", s.get("population")),
        ("覆盖人口 Covered population", s.get("covered_population")),
        ("覆盖率 Coverage (%)", s.get("coverage_pct")),
        ("超负荷转运站 Overloaded stations", s.get("overloaded_stations")),
    ]
    for reason, n in sorted(s.get("unreachable", {}).items()):
        rows.append((f"未覆盖: {reason}", n))
    for r in rows:
        ws.append([r[0], _cell(r[1])])
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 28

    ind = indicator_table(result.by_grid, facility_kind=facility_kind, targets=targets, loads=result.loads)
    _sheet(wb, "指标 Indicators", ind, {
        "level": "层级 level", "code": "编码 code", "name": "名称 name", "indicator": "指标 indicator",
        "title_zh": "指标名称", "value_pct": "现状(%) value", "target_pct": "目标(%) target",
        "comparison": "比较", "met": "达标 met", "uncovered_population": "未覆盖人口 uncovered population",
    }, pct_cols=("value_pct", "target_pct"), bad_rows=[m is False for m in ind["met"]])
    bg = pd.DataFrame(result.by_grid.drop(columns="geometry", errors="ignore"))
    _sheet(wb, "网格覆盖 By grid", bg, {
        "level": "层级 level", "code": "编码 code", "name": "名称 name", "parent_code": "上级编码 parent",
        "demand_points": "需求点 points", "population": "人口 population",
        "covered_population": "覆盖人口 covered", "coverage_pct": "人口覆盖率(%)",
        "households": "户数 households", "covered_households": "覆盖户数 covered",
        "households_coverage_pct": "户数覆盖率(%)",
    }, pct_cols=("coverage_pct", "households_coverage_pct"))
    if result.loads is not None:
        ld = result.loads.reset_index().rename(columns={result.loads.index.name or "index": "facility"})
        _sheet(wb, "转运站负荷 Loads", ld, {
            "facility": "设施 facility", "name": "名称 name", "demand_points": "需求点 points",
            "population": "服务人口 population", "assigned_tpd": "分配量(t/d)", "capacity_tpd": "设计规模(t/d)",
            "load_pct": "负荷率(%)", "overloaded": "超负荷 overloaded",
        }, pct_cols=("load_pct",), bad_rows=list(ld["overloaded"].astype(bool)))
    with atomic_path(p) as tmp:
        wb.save(tmp)
    return p

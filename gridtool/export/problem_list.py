"""Problem lists (问题清单) for meetings: Excel per department and per grid, CSV, GeoJSON.

Each row is one finding with its status, deadline, overdue working days and close-out
evidence (rectification photos and, when closed without one, the recorded reason).
Text that starts like a spreadsheet formula (``=``, ``+``, ``-``, ``@``) is written as
plain text, so a finding's description can never run as a formula in Excel.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

from gridtool.atomic import atomic_path, atomic_write_text
from gridtool.errors import InputError
from gridtool.findings import OVERDUE_COLOR, FindingsStore, term_label

__all__ = ["COLUMNS", "problem_table", "export_problem_list", "export_xlsx", "export_csv", "export_geojson"]

COLUMNS: list[tuple[str, str]] = [
    ("finding_id", "问题编号"), ("status", "状态"), ("category", "废物类别"), ("finding_type", "问题类型"),
    ("description", "描述"), ("street", "街道/镇"), ("community", "社区/村"), ("park", "园区"),
    ("responsible_unit", "责任单位"), ("department", "责任部门"), ("inspector", "网格员"),
    ("found_at", "发现时间"), ("deadline", "整改期限"), ("overdue", "是否超期"),
    ("overdue_days", "超期(工作日)"), ("closed_at", "销号时间"), ("evidence_photos", "整改照片"),
    ("close_reason", "无照片销号理由"), ("lon", "经度"), ("lat", "纬度"),
]
"""(key, Chinese header) of the problem-list columns, in order."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def problem_table(store: FindingsStore, *, today: dt.date | None = None, **filters: Any) -> Any:
    """The problem list as a DataFrame (keys of :data:`COLUMNS`), plus ``street_code``.

    Parameters
    ----------
    store
        The findings store.
    today
        Day overdue days are counted to (default today).
    **filters
        Passed to :meth:`FindingsStore.query` (``status``, ``grid_code``, ``overdue`` ...).
    """
    import pandas as pd

    gdf = store.query(today=today, **filters)
    try:
        names = store.locator.names
    except (InputError, OSError):
        names = {}
    ids = gdf["finding_id"].tolist()
    photos: dict[str, list[str]] = {}
    for p in store.photos():
        if p.kind == "evidence" and p.finding_id in set(ids):
            photos.setdefault(p.finding_id, []).append(p.stored_name)
    reasons: dict[str, str] = {}
    for ev in store.backend.select_events(ids) if ids else []:
        if ev["to_status"] == "closed" and ev.get("reason"):
            reasons[ev["finding_id"]] = ev["reason"]

    def name(code: Any) -> str:
        return "" if code is None or code != code else names.get(str(code), str(code))

    rows = []
    for r in gdf.itertuples(index=False):
        rows.append({
            "finding_id": r.finding_id,
            "status": term_label("status", r.status),
            "category": term_label("category", r.category),
            "finding_type": term_label("finding_type", r.finding_type),
            "description": r.description or "",
            "street": name(r.street_code), "community": name(r.community_code), "park": name(r.park_code),
            "responsible_unit": r.responsible_unit or "", "department": r.department or "",
            "inspector": r.inspector or "",
            "found_at": r.found_at.to_pydatetime() if pd.notna(r.found_at) else None,
            "deadline": r.deadline,
            "overdue": "是" if r.overdue else "",
            "overdue_days": int(r.overdue_days),
            "closed_at": r.closed_at.to_pydatetime() if pd.notna(r.closed_at) else None,
            "evidence_photos": "; ".join(photos.get(r.finding_id, [])),
            "close_reason": reasons.get(r.finding_id, ""),
            "lon": round(float(r.lon), 7), "lat": round(float(r.lat), 7),
            "street_code": r.street_code, "_overdue": bool(r.overdue), "_status": r.status,
        })
    cols = [k for k, _ in COLUMNS] + ["street_code", "_overdue", "_status"]
    return pd.DataFrame(rows, columns=cols)


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(store: FindingsStore, path: str | os.PathLike[str], *, today: dt.date | None = None,
               **filters: Any) -> Path:
    """Write the problem list as CSV (UTF-8 with BOM so Excel shows Chinese; Chinese headers)."""
    import pandas as pd

    table = problem_table(store, today=today, **filters)
    out = table[[k for k, _ in COLUMNS]].copy()
    for col in out.columns:
        out[col] = pd.Series([(_safe_text(v) if isinstance(v, str) else v) for v in out[col]], index=out.index,
                             dtype=object)
    for col in ("found_at", "closed_at"):
        out[col] = [v.strftime("%Y-%m-%d %H:%M") if v is not None and v == v else "" for v in out[col]]
    out.columns = [zh for _, zh in COLUMNS]
    p = Path(path)
    with atomic_path(p) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8-sig")
    return p


def export_geojson(store: FindingsStore, path: str | os.PathLike[str], *, today: dt.date | None = None,
                   **filters: Any) -> Path:
    """Write the findings as GeoJSON points in WGS84 (RFC 7946), English property keys."""
    table = problem_table(store, today=today, **filters)
    feats = []
    for r in table.to_dict("records"):
        props = {k: r[k] for k, _ in COLUMNS if k not in ("lon", "lat")}
        for k in ("found_at", "closed_at"):
            props[k] = props[k].isoformat(timespec="seconds") if props[k] is not None and props[k] == props[k] else None
        props["deadline"] = r["deadline"].isoformat() if r["deadline"] else None
        props["overdue"] = r["_overdue"]
        props["status_key"] = r["_status"]
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                      "properties": props})
    return atomic_write_text(Path(path), json.dumps({"type": "FeatureCollection", "features": feats},
                                                     ensure_ascii=False, indent=1))


def _sheet_title(text: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", "_", text).strip() or "sheet"
    base = base[:31]
    title, n = base, 2
    while title.lower() in used:
        suffix = f"~{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def export_xlsx(store: FindingsStore, path: str | os.PathLike[str], *, today: dt.date | None = None,
                **filters: Any) -> Path:
    """Write the problem list as an Excel workbook (openpyxl).

    Sheets: ``汇总`` (per department and per street/community/park: total, open,
    overdue, max overdue days, closed), ``全部问题`` (every finding), one sheet per
    department (``部门-…``) and one per street/town (``街道-…``). Headers are frozen,
    columns sized, dates are real Excel dates, overdue rows are marked red.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    table = problem_table(store, today=today, **filters)
    day = today or dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    wb = Workbook()
    used: set[str] = set()
    bold = Font(bold=True)
    red = PatternFill("solid", fgColor=OVERDUE_COLOR.lstrip("#"))
    white = Font(bold=True, color="FFFFFF")
    widths = {"description": 40, "responsible_unit": 22, "department": 16, "evidence_photos": 34,
              "close_reason": 30, "found_at": 17, "closed_at": 17, "deadline": 12, "finding_id": 16,
              "community": 14, "street": 12, "park": 14}

    def put(ws: Any, row: int, col: int, value: Any) -> Any:
        cell = ws.cell(row=row, column=col)
        if isinstance(value, dt.datetime):
            cell.value = value.replace(tzinfo=None)
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, dt.date):
            cell.value = value
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, str):
            cell.value = value
            cell.data_type = "s"  # never a formula, whatever the text starts with
        else:
            cell.value = value
        return cell

    def findings_sheet(title: str, sub: Any) -> None:
        ws = wb.create_sheet(_sheet_title(title, used))
        for j, (key, zh) in enumerate(COLUMNS, start=1):
            put(ws, 1, j, zh).font = bold
            ws.column_dimensions[get_column_letter(j)].width = widths.get(key, 10)
        for i, r in enumerate(sub.to_dict("records"), start=2):
            for j, (key, _zh) in enumerate(COLUMNS, start=1):
                v = r[key]
                cell = put(ws, i, j, None if v is None or (isinstance(v, float) and v != v) else v)
                if r["_overdue"] and key in ("overdue", "overdue_days", "deadline"):
                    cell.fill = red
                    cell.font = white
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(sub) + 1)}"

    ws = wb.active
    ws.title = _sheet_title("汇总", used)
    put(ws, 1, 1, f"问题清单 截至 {day.isoformat()}(超期按工作日计,含法定节假日调休)").font = Font(bold=True, size=13)
    row = 3
    heads = ["分组", "编码", "名称", "问题数", "未结", "超期", "最长超期(工作日)", "已销号"]
    level_zh = {"department": "部门", "street": "街道/镇", "community": "社区/村", "park": "园区"}
    for by in ("department", "grid"):
        summary = _summary_of(table, by) if filters else store.overdue_summary(by=by, today=today)
        for j, h in enumerate(heads, start=1):
            put(ws, row, j, h).font = bold
        row += 1
        for r in summary.to_dict("records"):
            vals = [level_zh.get(r["level"], r["level"]), r["code"], r["name"], r["total"], r["open"], r["overdue"],
                    r["max_overdue_days"], r["closed"]]
            for j, v in enumerate(vals, start=1):
                cell = put(ws, row, j, v)
                if r["overdue"] and j == 6:
                    cell.fill = red
                    cell.font = white
            row += 1
        row += 1
    for j, w in enumerate([10, 16, 24, 8, 8, 8, 16, 8], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "A4"

    findings_sheet("全部问题", table)
    for dept, sub in table.assign(_d=table["department"].replace("", "(未派遣)")).groupby("_d", sort=True):
        findings_sheet(f"部门-{dept}", sub)
    for street, sub in table.assign(_s=table["street"].replace("", "(无)")).groupby("_s", sort=True):
        findings_sheet(f"街道-{street}", sub)
    p = Path(path)
    with atomic_path(p) as tmp:
        wb.save(tmp)
    return p


def _summary_of(table: Any, by: str) -> Any:
    """Summary of an already filtered problem table (same columns as ``overdue_summary``)."""
    import pandas as pd

    parts = [("department", "department")] if by == "department" else [
        ("street", "street"), ("community", "community"), ("park", "park")]
    out = []
    for level, col in parts:
        keys = table[col].replace("", "(未派遣)" if level == "department" else None)
        sub = table.assign(_k=keys).dropna(subset=["_k"])
        for key, g in sub.groupby("_k", sort=True):
            od = g["_overdue"]
            out.append({"level": level, "code": key, "name": key, "total": len(g),
                        "open": int(g["_status"].isin(["registered", "dispatched", "rectifying", "verified"]).sum()),
                        "overdue": int(od.sum()),
                        "max_overdue_days": int(g.loc[od, "overdue_days"].max()) if od.any() else 0,
                        "closed": int((g["_status"] == "closed").sum())})
    return pd.DataFrame(out, columns=["level", "code", "name", "total", "open", "overdue", "max_overdue_days", "closed"])


def export_problem_list(store: FindingsStore, path: str | os.PathLike[str], *, today: dt.date | None = None,
                        **filters: Any) -> Path:
    """Write the problem list in the format named by the suffix: ``.xlsx``, ``.csv`` or ``.geojson``/``.json``."""
    suffix = Path(path).suffix.lower()
    writer = {".xlsx": export_xlsx, ".csv": export_csv, ".geojson": export_geojson, ".json": export_geojson}.get(suffix)
    if writer is None:
        raise InputError(f"--out {os.fspath(path)!r} has the suffix {suffix!r}; expected .xlsx, .csv or .geojson")
    return writer(store, path, today=today, **filters)

"""Validate a layer against its kind (:mod:`gridtool.kinds`) and map column aliases.

:func:`rename_aliases` renames the column names users' files carry (``名称``, ``NAME``,
``规模(t/d)``, ``网格员`` ...) to the canonical names of a kind; :func:`validate` then
casts every known column to its type, adds the optional columns a file lacks as nulls
and checks the geometry type, collecting every problem before raising one
:class:`~gridtool.errors.SchemaError` (after OSMnx ``_validate.py``).
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np
import pandas as pd

from gridtool.errors import SchemaError
from gridtool.kinds import KINDS, Kind, get_kind

__all__ = ["ALIASES", "COORD_ALIASES", "normalise_name", "rename_aliases", "validate", "canonical_for"]

# canonical column → names seen in real files (compared after normalise_name).
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("名称", "名字", "name", "名", "站名", "设施名称", "网格名称", "点位名称", "title"),
    "code": ("编码", "代码", "code", "网格编码", "编号", "id_code", "gridcode", "grid_code"),
    "parent_code": ("上级编码", "上级代码", "父级编码", "parent", "parent_code", "parentcode"),
    "level": ("层级", "级别", "网格层级", "level"),
    "population": ("人口", "常住人口", "人口数", "pop", "population"),
    "households": ("户数", "住户数", "households", "hh"),
    "capacity_tpd": ("规模", "能力", "设计规模", "处理能力", "capacity", "capacity_tpd", "capacity(t/d)", "规模(t/d)",
                     "能力(t/d)", "设计规模(t/d)", "处理能力(t/d)", "capacity_t_d", "tpd"),
    "inspector": ("网格员", "巡查员", "inspector"),
    "responsible_unit": ("责任单位", "主管单位", "responsible_unit", "unit"),
    "area_km2": ("面积", "面积(km²)", "面积(km2)", "面积km2", "area", "area_km2"),
    "address": ("地址", "详细地址", "address", "addr"),
    "status": ("状态", "status"),
    "fac_id": ("设施编号", "设施编码", "fac_id", "facility_id", "id"),
    "street_code": ("街道编码", "街道代码", "street_code"),
    "community_code": ("社区编码", "社区代码", "村编码", "community_code"),
    "park_code": ("园区编码", "park_code"),
    "point_type": ("类型", "点位类型", "type", "point_type"),
    "site_type": ("类型", "设施类型", "适用设施", "type", "site_type"),
    "community_kind": ("类型", "社区类型", "type", "community_kind"),
    "finding_type": ("问题类型", "类型", "type", "finding_type"),
    "category": ("废物类别", "类别", "category"),
    "description": ("描述", "问题描述", "说明", "description", "desc"),
    "found_at": ("发现时间", "上报时间", "时间", "found_at", "time"),
    "department": ("责任部门", "department"),
    "deadline": ("整改期限", "期限", "deadline"),
    "closed_at": ("销号时间", "closed_at"),
    "road_class": ("等级", "道路等级", "road_class", "class", "fclass"),
    "speed_kmh": ("车速", "限速", "车速(km/h)", "speed", "speed_kmh", "maxspeed"),
    "bins": ("桶数", "垃圾桶数", "bins"),
    "households_served": ("服务户数", "households_served"),
    "storage_t": ("贮存能力", "贮存能力(t)", "storage_t"),
    "land_area_m2": ("用地", "用地面积", "用地(m²)", "land_area_m2"),
    "opening_cost": ("建设成本", "建设成本(万元)", "投资", "opening_cost", "cost"),
    "waste_tpd": ("产生量", "产生量(t/d)", "waste_tpd"),
    "size_class": ("规模等级", "size_class"),
    "collection_mode": ("收运方式", "collection_mode"),
    "ur_class": ("城乡分类", "ur_class"),
    "track_id": ("轨迹编号", "track_id"),
    "started_at": ("开始时间", "started_at", "start_time"),
    "ended_at": ("结束时间", "ended_at", "end_time"),
    "finding_id": ("问题编号", "finding_id"),
    "cand_id": ("候选编号", "cand_id"),
    "road_id": ("道路编号", "road_id", "osm_id"),
}

COORD_ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("经度", "lon", "lng", "long", "longitude", "东经", "wgs84_lon", "gcj02_lon", "bd09_lon", "lon_wgs84"),
    "lat": ("纬度", "lat", "latitude", "北纬", "wgs84_lat", "gcj02_lat", "bd09_lat", "lat_wgs84"),
    "x": ("x", "x坐标", "横坐标", "东坐标", "easting", "point_x", "xcoord"),
    "y": ("y", "y坐标", "纵坐标", "北坐标", "northing", "point_y", "ycoord"),
}
"""Coordinate column names in tables (CSV/XLSX): lon/lat degrees and x/y (either)."""

_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "／": "/", "　": " ", "：": ":", "＿": "_"})


def normalise_name(name: object) -> str:
    """Lower-case, full-width brackets to ASCII, spaces dropped: ``' 规模（t/d）'`` → ``'规模(t/d)'``."""
    return re.sub(r"\s+", "", str(name).translate(_FULLWIDTH)).lower()


def _strip_unit(norm: str) -> str:
    return re.sub(r"\(.*?\)$", "", norm)


def canonical_for(column: str, kind: Kind | str) -> str | None:
    """The canonical column of ``kind`` that ``column`` is an alias of, else None."""
    k = get_kind(kind) if isinstance(kind, str) else kind
    names = k.column_names
    norm = normalise_name(column)
    if norm in names:
        return norm
    bare = _strip_unit(norm)
    for col in k.columns:  # the kind's own Chinese titles are aliases too
        if not col.title_zh:
            continue
        title = normalise_name(col.title_zh)
        if title in (norm, bare) or _strip_unit(title) == bare:
            return col.name
    for canonical, aliases in ALIASES.items():
        if canonical not in names:
            continue
        for a in aliases:
            na = normalise_name(a)
            if na == norm or na == bare:
                return canonical
    return None


def rename_aliases(df: pd.DataFrame, kind: Kind | str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename alias columns of ``df`` to the canonical names of ``kind``.

    A column is not renamed if its canonical name is already present (the canonical
    column wins) or if an earlier column already took that name.

    Returns
    -------
    tuple[DataFrame, dict[str, str]]
        A renamed copy and the mapping ``{old: new}`` that was applied.
    """
    k = get_kind(kind) if isinstance(kind, str) else kind
    geom = getattr(df, "_geometry_column_name", None)
    taken = set(map(str, df.columns))
    mapping: dict[str, str] = {}
    for col in df.columns:
        if col == geom or str(col) in k.column_names:
            continue
        target = canonical_for(str(col), k)
        if target is None or target in taken or target == str(col):
            continue
        mapping[col] = target
        taken.add(target)
    return (df.rename(columns=mapping) if mapping else df.copy()), mapping


# ----------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------
def _rows(index: Iterable, limit: int = 5) -> str:
    idx = [int(i) + 1 if isinstance(i, (int, np.integer)) else i for i in index]
    shown = ", ".join(str(i) for i in idx[:limit])
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


def _examples(values: pd.Series, limit: int = 3) -> str:
    return ", ".join(f"row {int(i) + 1 if isinstance(i, (int, np.integer)) else i}: {v!r}" for i, v in values.head(limit).items())


def _n_values(n: int) -> str:
    return f"{n} value{'s are' if n > 1 else ' is'}"


def _cast_str(s: pd.Series) -> pd.Series:
    def conv(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))  # codes read as numbers: 320404.0 → "320404"
        if isinstance(v, bytes):
            return v.decode("utf-8", errors="replace")
        text = str(v).strip()
        return text if text != "" else None

    return pd.Series([conv(v) for v in s.to_numpy(dtype=object)], index=s.index, dtype=object)


def _blank(s: pd.Series) -> pd.Series:
    obj = s.astype(object)
    return s.isna() | obj.map(lambda v: isinstance(v, str) and v.strip() == "")


def _cast_number(s: pd.Series, col: str, integer: bool, problems: list[str]) -> pd.Series:
    blank = _blank(s)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = pd.to_numeric(s, errors="coerce").astype("float64")
    else:
        text = s.astype(object).map(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)
        num = pd.to_numeric(text.where(~blank, None), errors="coerce").astype("float64")
    bad = num.isna() & ~blank
    if bad.any():
        problems.append(
            f"column '{col}' must hold {'whole numbers' if integer else 'numbers'}: "
            f"{_n_values(int(bad.sum()))} not ({_examples(s[bad])})"
        )
    if integer:
        frac = num.notna() & ~bad & (np.abs(num - np.round(num)) > 1e-9)
        if frac.any():
            problems.append(
                f"column '{col}' must hold whole numbers: {int(frac.sum())} value{'s have' if frac.sum() > 1 else ' has'} "
                f"decimals ({_examples(s[frac])})"
            )
            return num
        return num.round().astype("Int64")
    return num


def _cast_datetime(s: pd.Series, col: str, date_only: bool, problems: list[str]) -> pd.Series:
    blank = _blank(s)
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    bad_idx = []
    for i, v in s.items():
        if blank[i]:
            continue
        try:
            ts = pd.Timestamp(v)
            if ts is pd.NaT:
                raise ValueError
        except (ValueError, TypeError):
            bad_idx.append(i)
            continue
        if date_only:
            out[i] = ts.strftime("%Y-%m-%d")
        else:
            if ts.tzinfo is None:
                ts = ts.tz_localize("Asia/Shanghai")
            out[i] = ts.isoformat()
    if bad_idx:
        what = "dates (YYYY-MM-DD)" if date_only else "date-times (ISO 8601, e.g. 2026-03-01T09:30:00+08:00)"
        problems.append(
            f"column '{col}' must hold {what}: {_n_values(len(bad_idx))} not "
            f"({_examples(s[bad_idx])})"
        )
    return out


_EMPTY_DTYPE = {"str": object, "int": "Int64", "float": "float64", "datetime": object, "date": object}

_GEOM_FAMILY = {
    "Point": {"Point", "MultiPoint"},
    "LineString": {"LineString", "MultiLineString"},
    "Polygon": {"Polygon", "MultiPolygon"},
}


def validate(gdf, kind: Kind | str, *, name: str | None = None):
    """Check and normalise ``gdf`` as a layer of ``kind``; return a new frame.

    Columns are renamed from aliases, cast to their types (``str`` → text, ``int`` →
    nullable ``Int64``, ``float`` → ``float64``, ``datetime`` → ISO 8601 text with
    offset, naive times taken as Beijing time, ``date`` → ``YYYY-MM-DD``), missing
    optional columns are added as nulls, and the kind's columns come first.

    Parameters
    ----------
    gdf
        A GeoDataFrame (or a DataFrame for attribute-only checks); not changed.
    kind
        A kind name from :data:`gridtool.kinds.KINDS` or a :class:`~gridtool.kinds.Kind`.
    name
        How to call the layer in messages (file and layer).

    Raises
    ------
    SchemaError
        Listing every problem at once (``.problems`` holds them one by one):
        missing required columns, empty required values, uncastable values, wrong or
        missing geometries.
    """
    k = get_kind(kind) if isinstance(kind, str) else kind
    label = name or "layer"
    out, _ = rename_aliases(gdf, k)
    problems: list[str] = []
    geom_col = getattr(out, "_geometry_column_name", None)

    present = {c.name for c in k.columns if c.name in out.columns}
    for col in k.columns:
        if col.name in present:
            continue
        if col.required:
            problems.append(f"required column '{col.name}' ({col.title_zh or col.name}) is missing")
        out[col.name] = pd.Series([None] * len(out), index=out.index, dtype=_EMPTY_DTYPE[col.dtype])

    for col in k.columns:
        s = out[col.name]
        if col.dtype == "str":
            cast = _cast_str(s)
        elif col.dtype in ("int", "float"):
            cast = _cast_number(s, col.name, col.dtype == "int", problems)
        else:
            cast = _cast_datetime(s, col.name, col.dtype == "date", problems)
        out[col.name] = cast
        if col.required and col.name in present:
            empty = cast.isna()
            if empty.any():
                problems.append(f"required column '{col.name}' is empty in {_rows(out.index[empty.to_numpy()])}")

    if geom_col is not None and k.geometry != "Any":
        geoms = out.geometry
        missing = geoms.isna() | geoms.is_empty
        if missing.any():
            problems.append(f"{int(missing.sum())} feature{'s have' if missing.sum() > 1 else ' has'} no geometry ({_rows(out.index[missing.to_numpy()])})")
        types = geoms.geom_type
        wrong = ~missing & ~types.isin(_GEOM_FAMILY[k.geometry])
        if wrong.any():
            found = ", ".join(sorted(set(types[wrong].dropna())))
            problems.append(
                f"kind {k.name} needs {k.geometry} geometries but {int(wrong.sum())} feature"
                f"{'s are' if wrong.sum() > 1 else ' is'} {found} ({_rows(out.index[wrong.to_numpy()])})"
            )

    if problems:
        n = len(problems)
        raise SchemaError(
            f"{label} is not a valid {k.name} layer ({n} problem{'s' if n > 1 else ''}): "
            + "; ".join(f"{i}) {p}" for i, p in enumerate(problems, 1)),
            problems,
        )
    known = k.column_names
    extra = [c for c in out.columns if c not in known and c != geom_col]
    order = known + extra + ([geom_col] if geom_col else [])
    return out[order]


def kinds_help() -> str:
    """One line listing the kinds, for ``--help`` texts."""
    return ", ".join(KINDS)

"""The layer kinds gridtool knows: their columns, geometry, group and titles.

This table is the single source of truth for what a layer of each kind holds. The
sample district (``sample_geodata/zhonglou.gpkg``) names each layer after its kind,
:mod:`gridtool.schema` validates user files against it, the layer panel groups
layers by :attr:`Kind.group`, and default styles are chosen by kind.

Columns are ``(name, dtype, required)``. ``dtype`` is one of ``str``, ``int``,
``float``, ``datetime`` (ISO 8601 text with offset, e.g. ``2026-03-01T09:30:00+08:00``)
and ``date`` (``YYYY-MM-DD``). Optional columns are filled with nulls on import, so
that a CSV of names and coordinates is enough to make a facility layer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Column", "Kind", "KINDS", "GRID_KINDS", "FACILITY_KINDS", "GROUPS", "kind_of_layer_name", "get_kind"]

WORK_EPSG = 4549
"""CGCS2000 / 3-degree Gauss-Kruger CM 120E: every layer is kept in these metres."""


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # str | int | float | datetime | date
    required: bool = False
    title_zh: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    geometry: str  # Point | LineString | Polygon (Multi* accepted)
    group: str  # grids | facilities | collection | patrol | roads | analysis | other
    title_zh: str
    title_en: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, dtype: str = "str", required: bool = False, zh: str = "") -> Column:
    return Column(name, dtype, required, zh)


_GRID_COLUMNS = (
    _c("code", "str", True, "编码"),
    _c("name", "str", True, "名称"),
    _c("level", "str", False, "层级"),
    _c("parent_code", "str", False, "上级编码"),
    _c("responsible_unit", "str", False, "责任单位"),
    _c("inspector", "str", False, "网格员"),
    _c("population", "int", False, "人口"),
    _c("households", "int", False, "户数"),
    _c("area_km2", "float", False, "面积(km²)"),
)

_FAC = (
    _c("fac_id", "str", False, "设施编号"),
    _c("name", "str", False, "名称"),
    _c("street_code", "str", False, "街道编码"),
    _c("community_code", "str", False, "社区编码"),
    _c("status", "str", False, "状态"),  # existing | planned | closed
    _c("address", "str", False, "地址"),
)

# group keys, in layer-panel order, with titles
GROUPS: dict[str, tuple[str, str]] = {
    "patrol": ("巡查", "Patrol"),
    "analysis": ("分析结果", "Analysis results"),
    "collection": ("收集点", "Collection points"),
    "facilities": ("设施", "Facilities"),
    "roads": ("道路", "Roads"),
    "grids": ("网格", "Grids"),
    "other": ("其他", "Other"),
}

_KIND_LIST = [
    Kind("grid_district", "Polygon", "grids", "区级网格", "District grid", _GRID_COLUMNS),
    Kind("grid_street_town", "Polygon", "grids", "街道/镇网格", "Street/town grids", _GRID_COLUMNS),
    Kind("grid_community_village", "Polygon", "grids", "社区/村网格", "Community/village grids",
         _GRID_COLUMNS + (_c("community_kind", "str", False, "类型"), _c("ur_class", "str", False, "城乡分类"))),
    Kind("grid_industrial_park", "Polygon", "grids", "工业园区网格", "Industrial park grids", _GRID_COLUMNS),
    Kind("roads", "LineString", "roads", "道路", "Roads", (
        _c("road_id", "str", False, "道路编号"), _c("name", "str", False, "名称"),
        _c("road_class", "str", False, "等级"),  # arterial | secondary | local
        _c("speed_kmh", "float", False, "车速(km/h)"),
    )),
    Kind("transfer_stations", "Point", "facilities", "垃圾转运站", "Transfer stations", _FAC + (
        _c("capacity_tpd", "float", False, "设计规模(t/d)"), _c("size_class", "str", False, "规模等级"),
        _c("collection_mode", "str", False, "收运方式"),
    )),
    Kind("collection_points", "Point", "collection", "分类收集点(桶站)", "Collection points (bin stations)", _FAC + (
        _c("point_type", "str", False, "类型"), _c("bins", "int", False, "桶数"),
        _c("households_served", "int", False, "服务户数"),
    )),
    Kind("recycling_points", "Point", "facilities", "再生资源回收网点", "Recycling points", _FAC + (
        _c("point_type", "str", False, "类型"),
    )),
    Kind("hazardous_collection_points", "Point", "facilities", "小微危废收集点", "Small hazardous-waste collection points", _FAC + (
        _c("park_code", "str", False, "园区编码"), _c("storage_t", "float", False, "贮存能力(t)"),
    )),
    Kind("construction_waste_sites", "Point", "facilities", "建筑垃圾设施", "Construction-waste sites", _FAC + (
        _c("site_type", "str", False, "类型"), _c("capacity_tpd", "float", False, "能力(t/d)"),
    )),
    Kind("garden_waste_stations", "Point", "facilities", "园林绿化垃圾回收站", "Garden-waste stations", _FAC + (
        _c("capacity_tpd", "float", False, "能力(t/d)"),
    )),
    Kind("candidate_sites", "Point", "facilities", "候选站址", "Candidate sites", (
        _c("cand_id", "str", False, "候选编号"), _c("name", "str", False, "名称"),
        _c("site_type", "str", False, "适用设施"), _c("land_area_m2", "float", False, "用地(m²)"),
        _c("opening_cost", "float", False, "建设成本(万元)"), _c("capacity_tpd", "float", False, "规模(t/d)"),
        _c("street_code", "str", False, "街道编码"),
    )),
    Kind("demand_points", "Point", "analysis", "需求点", "Demand points", (
        _c("community_code", "str", False, "社区编码"), _c("population", "float", False, "人口"),
        _c("households", "float", False, "户数"), _c("waste_tpd", "float", False, "产生量(t/d)"),
    )),
    Kind("findings", "Point", "patrol", "巡查问题", "Patrol findings", (
        _c("finding_id", "str", False, "问题编号"),
        _c("category", "str", False, "废物类别"),  # industrial|agricultural|household|construction|hazardous
        _c("finding_type", "str", False, "问题类型"),  # illegal_dumping|legacy_waste|exposed_garbage|overflowing_point|hazardous_storage|other
        _c("status", "str", False, "状态"),  # registered|dispatched|rectifying|verified|closed|rejected|duplicate
        _c("description", "str", False, "描述"), _c("inspector", "str", False, "网格员"),
        _c("found_at", "datetime", False, "发现时间"), _c("department", "str", False, "责任部门"),
        _c("street_code", "str", False, "街道编码"), _c("community_code", "str", False, "社区编码"),
        _c("park_code", "str", False, "园区编码"), _c("responsible_unit", "str", False, "责任单位"),
        _c("deadline", "date", False, "整改期限"), _c("closed_at", "datetime", False, "销号时间"),
    )),
    Kind("patrol_tracks", "LineString", "patrol", "巡查轨迹", "Patrol tracks", (
        _c("track_id", "str", False, "轨迹编号"), _c("inspector", "str", False, "网格员"),
        _c("started_at", "datetime", False, "开始时间"), _c("ended_at", "datetime", False, "结束时间"),
    )),
    Kind("other", "Any", "other", "其他图层", "Other layer", ()),
]

KINDS: dict[str, Kind] = {k.name: k for k in _KIND_LIST}
GRID_KINDS = ["grid_district", "grid_street_town", "grid_community_village", "grid_industrial_park"]
FACILITY_KINDS = [
    "transfer_stations", "collection_points", "recycling_points", "hazardous_collection_points",
    "construction_waste_sites", "garden_waste_stations", "candidate_sites",
]


def get_kind(name: str) -> Kind:
    """Return the :class:`Kind` called ``name``; raise an ``InputError`` listing the known kinds."""
    from gridtool.errors import InputError

    try:
        return KINDS[name]
    except KeyError:
        raise InputError(
            f"kind {name!r} is unknown; expected one of: {', '.join(KINDS)}"
        ) from None


def kind_of_layer_name(layer_name: str) -> str:
    """Guess the kind of a layer from its name (``grid_street_town`` → itself), else ``"other"``."""
    base = layer_name.strip().lower()
    if base in KINDS:
        return base
    for name in KINDS:
        if base.endswith(name) or base.startswith(name):
            return name
    return "other"

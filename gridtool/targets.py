"""Service standards (radius per facility kind) and plan targets, with editable defaults.

The defaults come from ``refdata/FACTS.md`` §3–4: collection points serve a radius of
70 m; transfer-station collection radius depends on the collection mode (hand carts
0.4 km, at most 1.0 km; small motor vehicles 3.0 km, at most 5.0 km, CJJ 47-2006
2.2.7); recycling points are set by households (1 per 2,000 households in cities), so
their radius follows from the household density. Plan targets: classification
(sorting) facility coverage 100% (the built-up area already reached it in 2021).

:class:`Targets` holds both tables; change a value with :meth:`Targets.with_radius` /
:meth:`Targets.with_target`, save and load it as JSON.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from gridtool.errors import InputError, ReadError

__all__ = [
    "Standard",
    "PlanTarget",
    "Targets",
    "DEFAULT_STANDARDS",
    "DEFAULT_TARGETS",
    "recycling_radius_m",
    "default_radius_m",
    "indicator_table",
]


@dataclass(frozen=True)
class Standard:
    """A service-radius rule for one facility kind (and collection mode)."""

    key: str
    facility_kind: str
    radius_m: float
    max_radius_m: float | None
    title_zh: str
    title_en: str
    source: str
    status: str = "standard"  # standard | derived | assumed


@dataclass(frozen=True)
class PlanTarget:
    """A plan indicator and its target value (percent)."""

    indicator: str
    facility_kind: str
    target_pct: float
    comparison: str  # ">=" or "<="
    title_zh: str
    title_en: str
    source: str


DEFAULT_STANDARDS: tuple[Standard, ...] = (
    Standard("collection_points", "collection_points", 70.0, None, "收集点服务半径", "Collection-point service radius",
             "CJJ 27 / GB/T 50337-2018 collection point radius <= 70 m (FACTS.md §4)"),
    Standard("transfer_stations:hand_cart", "transfer_stations", 400.0, 1000.0, "转运站服务半径(人力车收集)",
             "Transfer-station radius, hand-cart collection",
             "CJJ 47-2006 2.2.7: hand carts <= 0.4 km, at most 1.0 km (FACTS.md §4)"),
    Standard("transfer_stations:small_vehicle", "transfer_stations", 3000.0, 5000.0, "转运站服务半径(小型机动车收集)",
             "Transfer-station radius, small motor-vehicle collection",
             "CJJ 47-2006 2.2.7: small motor vehicles <= 3.0 km, at most 5.0 km (FACTS.md §4)"),
    Standard("recycling_points", "recycling_points", 500.0, None, "再生资源回收网点服务半径",
             "Recycling-point service radius",
             "1 point per 2,000 households in cities (FACTS.md §4); the radius follows from household "
             "density with recycling_radius_m(); 500 m is the fallback without grids", status="derived"),
)

DEFAULT_TARGETS: tuple[PlanTarget, ...] = (
    PlanTarget("collection_coverage_pct", "collection_points", 100.0, ">=", "分类收集设施覆盖率",
               "Classification collection facility coverage",
               "plan target: classification facility coverage 100% (built-up area reached 100% in 2021, FACTS.md §3)"),
    PlanTarget("recycling_coverage_pct", "recycling_points", 100.0, ">=", "再生资源回收网点覆盖率",
               "Recycling-point coverage", "plan target: full coverage of the recyclables network (editable)"),
    PlanTarget("transfer_coverage_pct", "transfer_stations", 100.0, ">=", "转运站服务覆盖率",
               "Transfer-station service coverage", "plan target: collection and transport cover every community (editable)"),
    PlanTarget("station_load_pct", "transfer_stations", 100.0, "<=", "转运站负荷率",
               "Transfer-station load", "assigned tonnage must not exceed design capacity (CJJ/T 47-2016 classes)"),
)

_COLLECTION_MODES = {"hand_cart": "transfer_stations:hand_cart", "small_vehicle": "transfer_stations:small_vehicle"}


def recycling_radius_m(households_per_km2: float, *, households_per_point: float = 2000.0) -> float:
    """Radius of the disc holding ``households_per_point`` households at the given density.

    ``r = sqrt(households_per_point / (pi * density))``; e.g. 5,000 households/km² and one
    point per 2,000 households give about 357 m.
    """
    d = float(households_per_km2)
    if not math.isfinite(d) or d <= 0:
        raise InputError(f"`households_per_km2` must be > 0; got {households_per_km2!r}")
    if households_per_point <= 0:
        raise InputError(f"`households_per_point` must be > 0; got {households_per_point!r}")
    return math.sqrt(float(households_per_point) / (math.pi * d)) * 1000.0


@dataclass(frozen=True)
class Targets:
    """Editable standards and plan targets (defaults from FACTS.md)."""

    standards: tuple[Standard, ...] = DEFAULT_STANDARDS
    targets: tuple[PlanTarget, ...] = DEFAULT_TARGETS

    def standard(self, key: str) -> Standard:
        for s in self.standards:
            if s.key == key:
                return s
        raise InputError(f"no standard {key!r}; expected one of: {', '.join(s.key for s in self.standards)}")

    def target(self, indicator: str) -> PlanTarget:
        for t in self.targets:
            if t.indicator == indicator:
                return t
        raise InputError(f"no target {indicator!r}; expected one of: {', '.join(t.indicator for t in self.targets)}")

    def with_radius(self, key: str, radius_m: float) -> "Targets":
        """A copy with the radius of standard ``key`` set to ``radius_m``."""
        r = float(radius_m)
        if not math.isfinite(r) or r <= 0:
            raise InputError(f"radius for {key!r} must be a positive distance in metres; got {radius_m!r}")
        self.standard(key)
        return replace(self, standards=tuple(replace(s, radius_m=r) if s.key == key else s for s in self.standards))

    def with_target(self, indicator: str, target_pct: float) -> "Targets":
        """A copy with the target of ``indicator`` set to ``target_pct``."""
        v = float(target_pct)
        if not math.isfinite(v) or v < 0:
            raise InputError(f"target for {indicator!r} must be a percentage >= 0; got {target_pct!r}")
        self.target(indicator)
        return replace(self, targets=tuple(replace(t, target_pct=v) if t.indicator == indicator else t for t in self.targets))

    def coverage_target_for(self, facility_kind: str) -> PlanTarget | None:
        for t in self.targets:
            if t.facility_kind == facility_kind and t.indicator.endswith("coverage_pct"):
                return t
        return None

    def to_json(self, path: str | Path) -> Path:
        p = Path(path)
        data = {"standards": [asdict(s) for s in self.standards], "targets": [asdict(t) for t in self.targets]}
        p.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        return p

    @classmethod
    def from_json(cls, path: str | Path) -> "Targets":
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            return cls(tuple(Standard(**s) for s in data["standards"]), tuple(PlanTarget(**t) for t in data["targets"]))
        except FileNotFoundError:
            raise ReadError(f"targets file {str(p)!r} does not exist") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ReadError(f"targets file {str(p)!r} is not a gridtool targets JSON ({exc}); save one with Targets().to_json()") from None


def default_radius_m(
    facility_kind: str,
    *,
    collection_mode: str | None = None,
    households_per_km2: float | None = None,
    targets: Targets | None = None,
) -> float:
    """The standard service radius for ``facility_kind``.

    ``transfer_stations`` need ``collection_mode`` ("hand_cart" or "small_vehicle",
    default "small_vehicle"); ``recycling_points`` use ``households_per_km2`` if given.
    """
    t = targets or Targets()
    if facility_kind == "transfer_stations":
        mode = collection_mode or "small_vehicle"
        if mode not in _COLLECTION_MODES:
            raise InputError(f"`collection_mode` {mode!r} is unknown; expected one of: {', '.join(_COLLECTION_MODES)}")
        return t.standard(_COLLECTION_MODES[mode]).radius_m
    if facility_kind == "recycling_points" and households_per_km2:
        return recycling_radius_m(households_per_km2)
    for s in t.standards:
        if s.facility_kind == facility_kind:
            return s.radius_m
    known = sorted({s.facility_kind for s in t.standards})
    raise InputError(
        f"there is no standard service radius for facility kind {facility_kind!r} "
        f"(known: {', '.join(known)}); give the radius explicitly (--radius-m)"
    )


def indicator_table(
    by_grid: pd.DataFrame,
    *,
    facility_kind: str,
    targets: Targets | None = None,
    loads: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-grid coverage against the plan target of ``facility_kind``.

    Parameters
    ----------
    by_grid
        :func:`gridtool.coverage.coverage_by_grid` output.
    loads
        :func:`gridtool.coverage.station_loads` output; adds one row per station for the
        load indicator.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``code``, ``name``, ``indicator``, ``title_zh``, ``value_pct``,
        ``target_pct``, ``comparison``, ``met`` (None when the grid has no demand) and
        ``uncovered_population``.
    """
    t = targets or Targets()
    rows = []
    tgt = t.coverage_target_for(facility_kind)
    indicator = tgt.indicator if tgt else f"{facility_kind}_coverage_pct"
    target_pct = tgt.target_pct if tgt else float("nan")
    title = tgt.title_zh if tgt else "覆盖率"
    for rec in by_grid.itertuples(index=False):
        v = float(rec.coverage_pct) if pd.notna(rec.coverage_pct) else float("nan")
        rows.append({
            "level": rec.level, "code": rec.code, "name": rec.name, "indicator": indicator, "title_zh": title,
            "value_pct": v, "target_pct": target_pct, "comparison": ">=",
            "met": None if (math.isnan(v) or math.isnan(target_pct)) else bool(v >= target_pct - 1e-9),
            "uncovered_population": float(rec.population) - float(rec.covered_population),
        })
    if loads is not None and len(loads):
        lt = t.target("station_load_pct")
        for label, rec in loads.iterrows():
            v = float(rec["load_pct"]) if pd.notna(rec["load_pct"]) else float("nan")
            rows.append({
                "level": "station", "code": str(label), "name": str(rec.get("name", label)),
                "indicator": lt.indicator, "title_zh": lt.title_zh, "value_pct": v, "target_pct": lt.target_pct,
                "comparison": "<=", "met": None if math.isnan(v) else bool(v <= lt.target_pct + 1e-9),
                "uncovered_population": float("nan"),
            })
    return pd.DataFrame(rows, columns=["level", "code", "name", "indicator", "title_zh", "value_pct", "target_pct",
                                       "comparison", "met", "uncovered_population"])

"""Siting scenarios side by side: the existing network vs proposals (sites added, sites closed).

A scenario is a named set of open sites (a point GeoDataFrame). :func:`evaluate_scenario`
serves every demand point from its nearest open site (Euclidean or along the roads) and
measures covered population, mean and largest distance and each station's load
against its capacity; :func:`compare_scenarios` puts several scenarios in one table;
:func:`scenario_layers` gives the map layers (sites with loads, demand-to-site lines).
Scenarios are kept with a project in a JSON file (:func:`save_scenarios`,
:func:`load_scenarios`) as GeoJSON features, so they survive without a database; one
scenario's JSON layout is :func:`scenario_to_dict` / :func:`scenario_from_dict`, which
the project file's scenario list uses too.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from gridtool.errors import InputError, ReadError

__all__ = [
    "Scenario",
    "make_scenario",
    "evaluate_scenario",
    "compare_scenarios",
    "scenario_layers",
    "save_scenarios",
    "load_scenarios",
    "scenario_to_dict",
    "scenario_from_dict",
]


@dataclass
class Scenario:
    """A named set of open sites (points in EPSG:4549)."""

    name: str
    sites: Any  # GeoDataFrame
    note: str = ""


def make_scenario(name: str, existing, *, added=None, closed: Iterable[int] | None = None, note: str = "") -> Scenario:
    """Existing sites minus ``closed`` (row positions of ``existing``) plus ``added`` sites."""
    import geopandas as gpd
    import pandas as pd

    keep = np.ones(len(existing), dtype=bool)
    if closed is not None:
        closed = np.asarray(list(closed), dtype=int)
        bad = closed[(closed < 0) | (closed >= len(existing))]
        if bad.size:
            raise InputError(f"scenario {name!r}: closed sites {bad.tolist()} are not rows of the existing layer "
                             f"(0…{len(existing) - 1})")
        keep[closed] = False
    parts = [existing.iloc[np.flatnonzero(keep)].assign(source="existing")]
    if added is not None and len(added):
        parts.append(added.to_crs(existing.crs).assign(source="added") if added.crs != existing.crs
                     else added.assign(source="added"))
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry=existing.geometry.name, crs=existing.crs)
    return Scenario(name, sites, note)


def _xy(gdf) -> np.ndarray:
    g = gdf.geometry
    if not (g.geom_type == "Point").all():
        g = g.representative_point()
    return np.column_stack([g.x.to_numpy(), g.y.to_numpy()])


def _column(gdf, col: str | None, default: float) -> np.ndarray:
    import pandas as pd

    if col and col in gdf.columns:
        return pd.to_numeric(gdf[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return np.full(len(gdf), default)


def evaluate_scenario(demand, sites, *, radius_m: float | None = None, weights_col: str | None = "population",
                      load_col: str | None = "waste_tpd", capacity_col: str | None = "capacity_tpd",
                      cost: np.ndarray | None = None) -> tuple[dict, Any, Any]:
    """Measure one scenario.

    Parameters
    ----------
    demand, sites
        GeoDataFrames in the same metric CRS.
    radius_m
        Coverage radius for ``covered_*``; None skips coverage.
    weights_col, load_col, capacity_col
        Population on demand, t/d on demand, t/d capacity on sites (missing columns:
        weight 1, no load, no capacity).
    cost
        Optional ``(n_demand, n_sites)`` distances (e.g. along roads); Euclidean if None.

    Returns
    -------
    (metrics, sites with ``load``/``load_ratio``, demand with ``site``/``distance_m``)
    """
    if len(sites) == 0:
        raise InputError("a scenario has no open sites; keep or add at least one")
    if demand.crs is not None and sites.crs is not None and demand.crs != sites.crs:
        raise InputError(f"demand CRS {demand.crs.to_string()} differs from sites CRS {sites.crs.to_string()}; "
                         "reproject one of them")
    w = _column(demand, weights_col, 1.0)
    q = _column(demand, load_col, 0.0)
    if cost is None:
        from scipy.spatial import cKDTree

        dist, idx = cKDTree(_xy(sites)).query(_xy(demand))
    else:
        cost = np.asarray(cost, dtype=float)
        idx = np.argmin(cost, axis=1)
        dist = cost[np.arange(cost.shape[0]), idx]
    reach = np.isfinite(dist)
    load = np.bincount(idx[reach], weights=q[reach], minlength=len(sites))
    served = np.bincount(idx[reach], weights=w[reach], minlength=len(sites))
    cap = _column(sites, capacity_col, np.nan) if capacity_col and capacity_col in sites.columns else np.full(len(sites), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cap > 0, load / cap, np.nan)
    wt = w[reach].sum()
    metrics = {
        "sites": int(len(sites)),
        "population": float(w.sum()),
        "mean_distance_m": float((w[reach] * dist[reach]).sum() / wt) if wt > 0 else math.nan,
        "max_distance_m": float(dist[reach].max()) if reach.any() else math.nan,
        "unreachable_points": int((~reach).sum()),
        "load_tpd": float(load.sum()),
        "capacity_tpd": float(np.nansum(cap)),
        "overloaded_sites": int(np.nansum(ratio > 1.0)),
        "max_load_ratio": float(np.nanmax(ratio)) if np.isfinite(ratio).any() else math.nan,
    }
    if radius_m is not None:
        cov = reach & (dist <= float(radius_m))
        metrics["covered_population"] = float(w[cov].sum())
        metrics["covered_share"] = float(w[cov].sum() / w.sum()) if w.sum() > 0 else math.nan
    s = sites.copy()
    s["served_population"] = served
    s["load_tpd"] = load
    s["load_ratio"] = ratio
    d = demand.copy()
    d["site"] = np.where(reach, idx, -1)
    d["distance_m"] = dist
    return metrics, s, d


def compare_scenarios(demand, scenarios: Iterable[Scenario] | Mapping[str, Any], **kwargs):
    """A table (pandas DataFrame): one row per metric, one column per scenario."""
    import pandas as pd

    items = scenarios.items() if isinstance(scenarios, Mapping) else ((s.name, s.sites) for s in scenarios)
    cols = {}
    for name, sites in items:
        metrics, _, _ = evaluate_scenario(demand, sites, **kwargs)
        cols[name] = metrics
    if not cols:
        raise InputError("no scenarios to compare; give at least one")
    return pd.DataFrame(cols)


def scenario_layers(demand, scenario: Scenario, **kwargs) -> dict:
    """Map layers of one scenario: ``<name>_sites`` (loads) and ``<name>_links`` (demand → site lines)."""
    import geopandas as gpd
    import shapely

    _, s, d = evaluate_scenario(demand, scenario.sites, **kwargs)
    ok = d["site"].to_numpy() >= 0
    a = _xy(d)[ok]
    b = _xy(s)[d["site"].to_numpy()[ok]]
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    links = gpd.GeoDataFrame({"site": d["site"].to_numpy()[ok], "distance_m": d["distance_m"].to_numpy()[ok]},
                             geometry=lines, crs=demand.crs)
    safe = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in scenario.name)
    return {f"{safe}_sites": s, f"{safe}_links": links}


def _finite(v: Any) -> Any:
    """JSON-safe number: NaN/inf → None, NumPy scalars → Python."""
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return v


def scenario_to_dict(scenario: Scenario, **meta: Any) -> dict[str, Any]:
    """One scenario as a JSON-ready dict: ``name``, ``note``, ``crs``, ``sites`` (GeoJSON), plus ``meta``.

    ``meta`` (model, params, demand layer, metrics …) must be JSON-serialisable; NaN and
    infinite numbers in it (one level of dicts deep) become None. The internal ``_row``
    column of :func:`gridtool.siting.site` is left out.
    """
    sites = scenario.sites.drop(columns=[c for c in ("_row",) if c in scenario.sites.columns])
    d: dict[str, Any] = {"name": scenario.name, "note": scenario.note,
                         "crs": sites.crs.to_string() if sites.crs is not None else None,
                         "sites": json.loads(sites.to_json(na="null"))}
    for k, v in meta.items():
        d[k] = {kk: _finite(vv) for kk, vv in v.items()} if isinstance(v, dict) else _finite(v)
    return d


def scenario_from_dict(d: Mapping[str, Any]) -> Scenario:
    """The :class:`Scenario` of a dict written by :func:`scenario_to_dict` (extra keys ignored).

    Raises
    ------
    ReadError
        When the dict lacks the name or the GeoJSON sites.
    """
    import geopandas as gpd

    try:
        feats = d["sites"]["features"]
        crs = d.get("crs")
        sites = gpd.GeoDataFrame.from_features(feats, crs=crs) if feats else gpd.GeoDataFrame(geometry=[], crs=crs)
        return Scenario(str(d["name"]), sites, str(d.get("note", "")))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        name = d.get("name", "?") if isinstance(d, Mapping) else "?"
        raise ReadError(f"scenario {name!r} is not a gridtool scenario ({exc}); "
                        "remove it or re-run the siting") from None


def save_scenarios(path: str | Path, scenarios: Iterable[Scenario]) -> None:
    """Write scenarios to a JSON file (:func:`scenario_to_dict` each), replacing it atomically."""
    from gridtool.atomic import atomic_write_text

    data = [scenario_to_dict(s) for s in scenarios]
    atomic_write_text(Path(path), json.dumps({"scenarios": data}, ensure_ascii=False, indent=1))


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read scenarios written by :func:`save_scenarios`."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
        return [scenario_from_dict(item) for item in raw["scenarios"]]
    except (OSError, ValueError, KeyError, TypeError, ReadError) as exc:
        raise ReadError(f"{str(p)!r} is not a gridtool scenarios file ({exc})") from None

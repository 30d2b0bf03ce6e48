"""Repeat-dumping hotspots: findings that cluster in space and recur in time.

A hotspot (反复倾倒点) is a place where findings of the dumping kinds come back:
at least ``min_count`` findings within ``radius_m`` of one another, without a pause
longer than ``time_window_days`` between consecutive ones. It is found in two steps:

1. **Space** — DBSCAN on the radius graph (built with :class:`scipy.spatial.cKDTree`,
   no scikit-learn): a finding with at least ``min_count`` findings (itself included)
   within ``radius_m`` is a core finding; core findings within ``radius_m`` of each
   other form a cluster, and every other finding within ``radius_m`` of a core
   finding joins the cluster of its nearest core finding. Isolated findings are noise.
2. **Time** — each cluster's findings are sorted by ``found_at`` and the cluster is
   cut wherever two consecutive findings are more than ``time_window_days`` apart;
   pieces with fewer than ``min_count`` findings are dropped.

Hotspots are ranked by ``n_findings`` (more first), then ``score`` (a recency
weighted count: each finding counts ``0.5 ** (age_days / half_life_days)``), then
``n_months`` (distinct calendar months with a finding), then the latest finding.
Their geometry is a polygon: the convex hull of the member findings buffered by
``margin_m`` (50 m), so that a hotspot of findings at one spot is still an area
that a patrol plan can aim at.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from gridtool.errors import InputError, SchemaError
from gridtool.feedback import Feedback, ensure_feedback
from gridtool.patrol import _check_crs, resolve_now, to_local_times

__all__ = ["hotspots", "cluster_points", "DUMPING_TYPES", "HOTSPOT_COLUMNS", "EXCLUDED_STATUSES"]

DUMPING_TYPES: tuple[str, ...] = ("illegal_dumping", "legacy_waste", "exposed_garbage")
"""Finding types that make a dumping site (``overflowing_point`` is a bin problem, not dumping)."""

EXCLUDED_STATUSES: tuple[str, ...] = ("duplicate", "rejected")
"""Findings in these states are not evidence of dumping and are left out."""

HOTSPOT_COLUMNS = [
    "hotspot_id", "rank", "n_findings", "first_found", "last_found", "n_months", "score",
    "finding_ids", "street_code", "community_code",
]


def cluster_points(xy: np.ndarray, *, radius_m: float, min_count: int) -> np.ndarray:
    """DBSCAN labels of points on the ``radius_m`` graph (array core of :func:`hotspots`).

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates in metres.
    radius_m
        Neighbourhood radius (points at exactly this distance are neighbours).
    min_count
        Neighbours (the point included) a core point needs.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int labels ``0..k-1``; ``-1`` for noise.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    tree = cKDTree(xy)
    pairs = tree.query_pairs(radius_m, output_type="ndarray")
    a, b = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    count = 1 + np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    core = count >= min_count
    both = core[a] & core[b]
    core_idx = np.flatnonzero(core)
    if len(core_idx) == 0:
        return labels
    pos = np.full(n, -1, dtype=np.int64)
    pos[core_idx] = np.arange(len(core_idx))
    m = len(core_idx)
    graph = coo_matrix((np.ones(int(both.sum())), (pos[a[both]], pos[b[both]])), shape=(m, m))
    _, comp = connected_components(graph, directed=False)
    labels[core_idx] = comp
    # border points: join the nearest core neighbour
    border = ~core
    one = border[a] & core[b]
    two = border[b] & core[a]
    pb = np.concatenate([a[one], b[two]])
    pc = np.concatenate([b[one], a[two]])
    if len(pb):
        d = np.hypot(*(xy[pb] - xy[pc]).T)
        order = np.lexsort((pc, d))  # nearest first (ties: lower index)
        pb_s, pc_s = pb[order], pc[order]
        _, first = np.unique(pb_s, return_index=True)
        labels[pb_s[first]] = labels[pc_s[first]]
    return labels


def _mode(values: pd.Series) -> str | None:
    v = values.dropna().astype(str)
    v = v[v.str.strip() != ""]
    if v.empty:
        return None
    counts = v.value_counts()
    best = counts[counts == counts.iloc[0]].index
    return sorted(best)[0]


def hotspots(
    findings: gpd.GeoDataFrame,
    *,
    radius_m: float = 100.0,
    min_count: int = 3,
    time_window_days: float | None = 365,
    types: Sequence[str] | None = DUMPING_TYPES,
    now: datetime | str | pd.Timestamp | None = None,
    half_life_days: float = 180.0,
    margin_m: float = 50.0,
    feedback: Feedback | None = None,
) -> gpd.GeoDataFrame:
    """Find and rank repeat-dumping hotspots among ``findings``.

    Parameters
    ----------
    findings
        Points in a metre CRS (EPSG:4549) with ``found_at`` and, if present,
        ``finding_id``, ``finding_type``, ``status``, ``street_code``, ``community_code``.
    radius_m
        Findings this close to one another are neighbours.
    min_count
        Findings a hotspot needs (also the DBSCAN core threshold), at least 2.
    time_window_days
        Cut a cluster where consecutive findings are more than this many days apart;
        ``None`` keeps clusters whole.
    types
        ``finding_type`` values to use (default :data:`DUMPING_TYPES`); ``None`` uses all.
        Findings whose ``status`` is in :data:`EXCLUDED_STATUSES` are always left out.
    now
        Reference time of the recency ``score`` (default: now).
    half_life_days
        Age at which a finding counts half in ``score``.
    margin_m
        Buffer around the members' convex hull that makes the hotspot polygon.
    feedback
        Progress and cancellation.

    Returns
    -------
    GeoDataFrame
        One polygon per hotspot, best first, with :data:`HOTSPOT_COLUMNS`:
        ``hotspot_id`` (``HS001``… by rank), ``rank`` (1 = most urgent),
        ``n_findings``, ``first_found``/``last_found`` (+08:00), ``n_months``,
        ``score``, ``finding_ids`` (comma-separated, by time; row numbers when there
        is no ``finding_id``), ``street_code``/``community_code`` (the most common
        among members). Empty (same columns) when there is none.

    Raises
    ------
    InputError
        Bad parameters, non-point geometries, a geographic CRS, or ``found_at`` missing.
    """
    fb = ensure_feedback(feedback)
    if not isinstance(findings, gpd.GeoDataFrame):
        raise InputError(f"`findings` must be a GeoDataFrame, got {type(findings).__name__}")
    if not (isinstance(radius_m, (int, float)) and radius_m > 0):
        raise InputError(f"`radius_m` is {radius_m!r}; expected a positive distance in metres, e.g. 100")
    if not (isinstance(min_count, (int, np.integer)) and min_count >= 2):
        raise InputError(f"`min_count` is {min_count!r}; expected a whole number of findings ≥ 2, e.g. 3")
    if time_window_days is not None and not (isinstance(time_window_days, (int, float)) and time_window_days > 0):
        raise InputError(f"`time_window_days` is {time_window_days!r}; expected a positive number of days or None")
    if not (isinstance(half_life_days, (int, float)) and half_life_days > 0):
        raise InputError(f"`half_life_days` is {half_life_days!r}; expected a positive number of days")
    if "found_at" not in findings.columns:
        raise SchemaError("`findings` has no 'found_at' column; hotspots need the time of each finding",
                          ["findings: missing found_at"])
    now_ts = resolve_now(now)
    empty = _empty(findings.crs)
    if len(findings) == 0:
        return empty
    _check_crs({"findings": findings})
    types_found = set(findings.geometry.dropna().geom_type.unique())
    if not types_found <= {"Point"}:
        raise SchemaError(f"`findings` must be points, found {sorted(types_found)}", [f"findings: {sorted(types_found)}"])

    sel = findings.geometry.notna().to_numpy() & ~findings.geometry.is_empty.to_numpy()
    if types is not None and "finding_type" in findings.columns:
        sel &= findings["finding_type"].isin(list(types)).to_numpy()
    if "status" in findings.columns:
        sel &= ~findings["status"].isin(list(EXCLUDED_STATUSES)).to_numpy()
    found = to_local_times(findings["found_at"], column="found_at")
    sel &= found.notna().to_numpy()
    f = findings[sel]
    found = found[sel]
    if len(f) < min_count:
        return empty
    fb.set_progress(10, "clustering in space")
    xy = shapely.get_coordinates(f.geometry.to_numpy())
    labels = cluster_points(xy, radius_m=float(radius_m), min_count=int(min_count))
    fb.set_progress(60, "splitting in time")

    ids = (f["finding_id"].astype(object).where(f["finding_id"].notna(), None).tolist()
           if "finding_id" in f.columns else [None] * len(f))
    ids = [str(v) if v is not None else str(ix) for v, ix in zip(ids, f.index)]
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    t_s = ((found - epoch) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    now_s = (now_ts - epoch) / pd.Timedelta(seconds=1)
    gap_s = None if time_window_days is None else float(time_window_days) * 86400.0
    months = (found.dt.year * 12 + found.dt.month).to_numpy()

    groups: list[np.ndarray] = []
    for lab in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == lab)
        members = members[np.argsort(t_s[members], kind="stable")]
        if gap_s is None:
            pieces = [members]
        else:
            cuts = np.flatnonzero(np.diff(t_s[members]) > gap_s) + 1
            pieces = np.split(members, cuts)
        groups.extend(p for p in pieces if len(p) >= min_count)
    if not groups:
        return empty

    rows = []
    geoms = []
    pts = f.geometry.to_numpy()
    for g in groups:
        age_days = np.maximum(0.0, (now_s - t_s[g]) / 86400.0)
        rows.append({
            "n_findings": len(g),
            "first_found": found.iloc[g[0]],
            "last_found": found.iloc[g[-1]],
            "n_months": int(len(np.unique(months[g]))),
            "score": float(np.sum(0.5 ** (age_days / float(half_life_days)))),
            "finding_ids": ",".join(ids[i] for i in g),
            "street_code": _mode(f["street_code"].iloc[g]) if "street_code" in f.columns else None,
            "community_code": _mode(f["community_code"].iloc[g]) if "community_code" in f.columns else None,
        })
        geoms.append(shapely.buffer(shapely.convex_hull(shapely.multipoints(pts[g])), float(margin_m)))
    table = pd.DataFrame(rows)
    table["_last"] = table["last_found"]
    order = table.sort_values(["n_findings", "score", "n_months", "_last"], ascending=False, kind="stable").index
    table = table.loc[order].drop(columns="_last").reset_index(drop=True)
    geoms = [geoms[i] for i in order]
    table.insert(0, "rank", np.arange(1, len(table) + 1, dtype=np.int64))
    table.insert(0, "hotspot_id", [f"HS{r:03d}" for r in table["rank"]])
    fb.set_progress(100, "done")
    return gpd.GeoDataFrame(table[HOTSPOT_COLUMNS], geometry=geoms, crs=findings.crs)


def _empty(crs) -> gpd.GeoDataFrame:
    cols = {c: pd.Series(dtype=object) for c in HOTSPOT_COLUMNS}
    for c in ("rank", "n_findings", "n_months"):
        cols[c] = pd.Series(dtype="int64")
    cols["score"] = pd.Series(dtype=float)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)

"""Coverage of demand by facilities, by straight line or along the roads.

Plain functions on GeoDataFrames (after spopt's split, each wraps an array core):

- :func:`nearest` — the nearest facility of every demand point and its distance in metres;
  exact (a KD-tree for straight lines, :mod:`gridtool.network` for roads), with an
  inclusive radius: a facility exactly ``max_distance_m`` away counts.
- :func:`covered`, :func:`coverage_by_grid` — covered population and households per grid
  at every level, with their shares.
- :func:`uncovered_areas`, :func:`service_areas`, :func:`station_loads`.
- :func:`coverage_analysis` — all of the above in one call, returning a
  :class:`CoverageResult` of named frames.

Every function checks CRS and columns first, never changes its inputs and accepts a
:class:`~gridtool.feedback.Feedback` for progress and cancel.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from gridtool.errors import CRSError, InputError, SchemaError
from gridtool.feedback import Feedback, ensure_feedback
from gridtool import network as _net

__all__ = [
    "DEFAULT_MAX_SNAP_M",
    "REASON_CATEGORIES",
    "nearest_xy",
    "nearest",
    "covered",
    "coverage_by_grid",
    "uncovered_areas",
    "service_areas",
    "station_loads",
    "CoverageResult",
    "coverage_analysis",
]

DEFAULT_MAX_SNAP_M = 500.0
"""Points farther than this from every road are reported as "no road within snap distance"."""

REASON_CATEGORIES = [
    _net.REASONS[_net.NO_ROAD],
    _net.REASONS[_net.OTHER_COMPONENT],
    _net.REASONS[_net.BEYOND_CUTOFF],
]
"""Texts of ``unreachable_reason`` (a pandas Categorical; missing for reachable rows)."""

_CHUNK = 1 << 17


# ----------------------------------------------------------------------------------------
# checks
def _check_metric(frame, name: str):
    crs = getattr(frame, "crs", None)
    if crs is not None and crs.is_geographic:
        raise CRSError(
            f"`{name}` CRS {crs.to_string()} is geographic; distances need metres. "
            "Reproject with to_crs(4549)."
        )
    return crs


def _check_same_crs(a, a_name: str, b, b_name: str) -> None:
    ca, cb = _check_metric(a, a_name), _check_metric(b, b_name)
    if ca is not None and cb is not None and not ca.equals(cb):
        raise CRSError(
            f"`{a_name}` CRS {ca.to_string()} differs from `{b_name}` CRS {cb.to_string()}. "
            f"Reproject one of them, e.g. {b_name}.to_crs({a_name}.crs)."
        )


def _points_xy(frame, name: str) -> np.ndarray:
    """``(n, 2)`` coordinates of a point layer; raises InputError on rows that are not points.

    One pass over the geometries: every row must give exactly one coordinate (a Point, or
    a MultiPoint of one point), so missing, empty and non-point rows are found from the
    coordinate count, and only then diagnosed row by row.
    """
    import shapely

    geom = np.asarray(frame.geometry.values if hasattr(frame, "geometry") else frame, dtype=object)
    n = geom.size
    if n == 0:
        return np.zeros((0, 2))
    xy, owner = shapely.get_coordinates(geom, return_index=True)
    if owner.size == n and (n == 1 or not np.any(owner[1:] == owner[:-1])) and not np.isnan(xy).any():
        return xy  # one finite coordinate per row (owner is sorted, so no row has two)
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if missing.any():
        raise InputError(
            f"`{name}` has {int(missing.sum())} rows without geometry (first at position "
            f"{int(np.flatnonzero(missing)[0])}); drop them or give them a location"
        )
    types = shapely.get_type_id(geom)
    if np.any(types != 0):
        raise InputError(
            f"`{name}` must hold Point geometries; found {int((types != 0).sum())} other rows. "
            f"Use {name}.representative_point() for polygons, or demand_from_grids() for grids."
        )
    bad = np.flatnonzero(np.isnan(xy).any(axis=1))
    raise InputError(
        f"`{name}` has {bad.size} points with NaN coordinates (first at position {int(owner[bad[0]])}); "
        "drop them or give them a location"
    )


def _check_radius(value, name: str) -> float | None:
    if value is None:
        return None
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a distance in metres; got {value!r}") from None
    if not np.isfinite(r) or r < 0:
        raise InputError(f"`{name}` must be a finite distance >= 0 in metres; got {value!r}")
    return r


# ----------------------------------------------------------------------------------------
# nearest
def nearest_xy(
    demand_xy: np.ndarray,
    facility_xy: np.ndarray,
    *,
    max_distance_m: float | None = None,
    feedback: Feedback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line nearest facility of every demand point (array core of :func:`nearest`).

    Parameters
    ----------
    demand_xy, facility_xy
        ``(n, 2)`` and ``(k, 2)`` coordinates in metres.
    max_distance_m
        Inclusive radius: facilities at exactly this distance count. None = no limit.

    Returns
    -------
    facility, distance_m
        Position of the nearest facility (-1 if none within the radius) and its distance
        (NaN if none). Exact: a KD-tree query, no polygonised circles. Large inputs are
        first sorted by a grid of small cells (see :func:`_cell_owners`): a cell wholly
        beyond the radius of every facility, or wholly nearest to one facility, answers
        its points without a tree search; only the points of the remaining cells (near
        the boundaries between two facilities) are searched in the KD-tree.
    """
    fb = ensure_feedback(feedback)
    demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    facility_xy = np.ascontiguousarray(facility_xy, dtype=float).reshape(-1, 2)
    n = demand_xy.shape[0]
    pos = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if n == 0 or facility_xy.shape[0] == 0:
        return pos, dist
    r = None if max_distance_m is None else float(max_distance_m)
    tree = cKDTree(facility_xy)
    grid = _cell_owners(demand_xy, facility_xy, tree, r) if n >= _GRID_MIN_POINTS else None
    for start in range(0, n, _CHUNK):
        fb.check()
        stop = min(start + _CHUNK, n)
        xy = demand_xy[start:stop]
        if grid is None:
            search = None
        else:
            search = _answer_from_cells(grid, xy, facility_xy, r, pos[start:stop], dist[start:stop])
        _kd_nearest(tree, xy if search is None else xy[search], r, pos[start:stop], dist[start:stop], search)
        if n > _CHUNK:
            fb.step(stop, n, "nearest facility")
    return pos, dist


_GRID_MIN_POINTS = 1 << 16
"""Below this many demand points the KD-tree alone is as fast as the cell grid."""


def _kd_nearest(tree, xy, r, pos_out, dist_out, where=None) -> None:
    """KD-tree search; writes ``pos_out[where]`` / ``dist_out[where]`` (all rows if None)."""
    if xy.shape[0] == 0:
        return
    k = tree.n
    # search a hair beyond r and keep d <= r on the returned distance, so that "covered"
    # means exactly "reported distance <= r" (as on the cell path)
    bound = np.inf if r is None else r * (1.0 + 1e-9) + 1e-9
    d, i = tree.query(xy, k=1, distance_upper_bound=bound, workers=-1)
    miss = i == k
    if r is not None:
        miss |= d > r
    i[miss] = -1
    d[miss] = np.nan
    if where is None:
        pos_out[:] = i
        dist_out[:] = d
    else:
        pos_out[where] = i
        dist_out[where] = d


class _Cells(NamedTuple):
    x0: float
    y0: float
    inv_s: float
    nx: int
    ny: int
    owner: np.ndarray  # (nx * ny,) facility position, -1 = beyond the radius, -2 = search
    fx: np.ndarray  # facility x and y, contiguous
    fy: np.ndarray


_AMBIGUOUS = -2


def _cell_owners(demand_xy: np.ndarray, facility_xy: np.ndarray, tree, r: float | None) -> _Cells | None:
    """Classify a grid of square cells over the demand by their two nearest facilities.

    With ``c`` a cell centre, ``h`` half its diagonal, ``d1``, ``d2`` the distances from
    ``c`` to its nearest and second nearest facility ``f1``, ``f2``, every point ``p`` of
    the cell has ``|d(p, f) - d(f, c)| <= h`` for every facility ``f``, so

    - ``d1 > r + h``: no facility within ``r`` of any point of the cell (-1);
    - ``d2 > min(d1 + 2h, r + h)``: every other facility is farther from ``p`` than ``f1``
      or farther than ``r``; ``f1`` answers the whole cell (no ties are possible);
    - otherwise the cell's points are searched in the KD-tree (-2).

    ``h`` carries a margin far above float rounding, so the classification is exact.
    Returns None when a grid would not pay off (degenerate extent).
    """
    n = demand_xy.shape[0]
    x, y = demand_xy[:, 0], demand_xy[:, 1]
    lo = np.array([x.min(), y.min()])  # per column: min(axis=0) of an (n, 2) array is 30x slower
    hi = np.array([x.max(), y.max()])
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    wx, wy = float(hi[0] - lo[0]), float(hi[1] - lo[1])
    area = max(wx, 1.0) * max(wy, 1.0)
    k = facility_xy.shape[0]
    # about 100 cells per facility (cells of 1/10 of the facility spacing) keep the
    # searched band along the cell boundaries narrow, and at most one cell per 8 points
    # keeps the classification cheaper than the searches it saves
    s = float(np.sqrt(area / (100.0 * k)))
    if r is not None and r > 0:
        s = min(s, r / 2.0)
    s = max(s, float(np.sqrt(area * 8.0 / n)))
    if not np.isfinite(s) or s <= 0:
        return None
    inv_s = 1.0 / s
    nx = int(wx * inv_s) + 1
    ny = int(wy * inv_s) + 1
    if nx * ny > max(n // 4, 1):
        return None
    scale = float(max(np.abs(lo).max(), np.abs(hi).max(), np.abs(facility_xy).max()))
    margin = 1e-6 + 1e-12 * scale  # far above the rounding of coordinates and distances
    h = s * np.sqrt(0.5) * (1.0 + 1e-9) + margin
    centre = np.empty((nx * ny, 2))
    centre[:, 0] = np.repeat(lo[0] + (np.arange(nx) + 0.5) * s, ny)
    centre[:, 1] = np.tile(lo[1] + (np.arange(ny) + 0.5) * s, nx)
    reach = np.inf if r is None else r + h
    kk = min(3, k)
    dd, ii = tree.query(centre, k=kk, distance_upper_bound=reach, workers=-1)
    dd = dd.reshape(-1, kk)
    dd = np.concatenate([dd, np.full((dd.shape[0], 3 - kk), np.inf)], axis=1)  # fewer than 3 facilities
    ii = ii.reshape(-1, kk)
    d1, d2, d3 = dd[:, 0], dd[:, 1], dd[:, 2]
    near = np.minimum(d1 + 2.0 * h, reach)  # a facility farther than this from c never wins
    owner = np.full(nx * ny, _AMBIGUOUS, dtype=np.int64)
    alone = d2 > near
    # exactly one rival f2: the cell is still f1's if it lies wholly on f1's side of their
    # bisector, or wholly beyond r of f2 (its points then are f1's or uncovered either way)
    duel = np.flatnonzero(~alone & (d3 > near) & (d1 <= reach))
    if duel.size:
        f1 = facility_xy[ii[duel, 0]]
        f2 = facility_xy[ii[duel, 1]]
        b = f2 - f1
        a = centre[duel] - f1
        half = 0.5 * s + margin
        side = np.einsum("ij,ij->i", b, b) - 2.0 * (np.einsum("ij,ij->i", a, b) + half * np.abs(b).sum(axis=1))
        won = side > 0.0
        if r is not None:
            gap = np.maximum(np.abs(centre[duel] - f2) - half, 0.0)
            won |= np.hypot(gap[:, 0], gap[:, 1]) > r
        alone[duel[won]] = True
    owner[alone] = ii[alone, 0]
    owner[~(d1 <= reach)] = -1  # includes "none found within reach" (d1 = inf)
    return _Cells(float(lo[0]), float(lo[1]), inv_s, nx, ny, owner,
                  np.ascontiguousarray(facility_xy[:, 0]), np.ascontiguousarray(facility_xy[:, 1]))


def _answer_from_cells(grid: _Cells, xy, facility_xy, r, pos_out, dist_out) -> np.ndarray:
    """Answer the points whose cell has one owner; return the rows left to search."""
    x, y = xy[:, 0], xy[:, 1]
    ix = ((x - grid.x0) * grid.inv_s).astype(np.int64)
    iy = ((y - grid.y0) * grid.inv_s).astype(np.int64)
    np.minimum(ix, grid.nx - 1, out=ix)
    np.minimum(iy, grid.ny - 1, out=iy)
    ix *= grid.ny
    ix += iy
    f = grid.owner[ix]
    # whole-array passes (cheaper than compressing to the owned rows first)
    fc = np.maximum(f, 0)
    dx = x - grid.fx[fc]
    dy = y - grid.fy[fc]
    dx *= dx
    dy *= dy
    dx += dy
    d = np.sqrt(dx, out=dx)
    ok = f >= 0
    if r is not None:
        ok &= d <= r
    np.copyto(pos_out, np.where(ok, f, -1))
    np.copyto(dist_out, np.where(ok, d, np.nan))
    return np.flatnonzero(f == _AMBIGUOUS)


def _labels(index: pd.Index, pos: np.ndarray):
    """Index labels at ``pos``; -1 stays -1 for integer indexes, None otherwise."""
    if pd.api.types.is_integer_dtype(index.dtype):
        vals = np.asarray(index, dtype=np.int64)
        if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
            return pos
        return np.where(pos >= 0, vals[np.clip(pos, 0, None)], -1)
    out = np.asarray(index, dtype=object)[np.clip(pos, 0, None)].copy()
    out[pos < 0] = None
    return out


def nearest(
    demand,
    facilities,
    *,
    network=None,
    max_distance_m: float | None = None,
    max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
    feedback: Feedback | None = None,
) -> pd.DataFrame:
    """The nearest facility of every demand point and its distance.

    Parameters
    ----------
    demand, facilities
        Point GeoDataFrames in the same projected CRS (metres).
    network
        None for straight-line (Euclidean) distances; a :class:`~gridtool.network.RoadNetwork`
        or a road GeoDataFrame for distances along the roads (access distances included).
    max_distance_m
        Inclusive search radius; None = no limit.
    max_snap_m
        Road mode only: points farther than this from any road are unreachable.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``demand``: ``facility`` (label in ``facilities.index``; -1 or None if
        none), ``facility_pos`` (position, -1 if none), ``distance_m`` (NaN if none),
        ``reachable`` (bool) and ``unreachable_reason`` (Categorical of
        :data:`REASON_CATEGORIES`: "no road within snap distance", "different network
        component", "beyond cutoff"; missing where reachable).
    """
    _check_same_crs(demand, "demand", facilities, "facilities")
    r = _check_radius(max_distance_m, "max_distance_m")
    dxy = _points_xy(demand, "demand")
    fxy = _points_xy(facilities, "facilities")
    if network is None:
        pos, dist = nearest_xy(dxy, fxy, max_distance_m=r, feedback=feedback)
        reason = np.where(pos < 0, 2, -1).astype(np.int8)  # beyond cutoff
    else:
        net = _as_network(network, demand, feedback)
        res = _net.nearest_facility(net, dxy, fxy, cutoff_m=r, max_snap_m=max_snap_m, feedback=feedback)
        pos, dist = res.facility, res.distance_m
        reason = (res.reason.astype(np.int8) - 1)  # REACHABLE(0) -> -1 (missing)
    return pd.DataFrame(
        {
            "facility": _labels(facilities.index, pos),
            "facility_pos": pos,
            "distance_m": dist,
            "reachable": pos >= 0,
            "unreachable_reason": pd.Categorical.from_codes(reason, categories=REASON_CATEGORIES),
        },
        index=demand.index.copy(),
    )


def _as_network(network, like, feedback) -> _net.RoadNetwork:
    if isinstance(network, _net.RoadNetwork):
        return network
    if hasattr(network, "geometry"):
        _check_same_crs(like, "demand", network, "network")
        return _net.build_network(network, feedback=feedback)
    raise InputError(
        f"`network` must be a RoadNetwork or a road GeoDataFrame; got {type(network).__name__}"
    )


def covered(result: pd.DataFrame, radius_m: float) -> pd.Series:
    """True where the nearest facility is reachable within ``radius_m`` (inclusive)."""
    r = _check_radius(radius_m, "radius_m")
    return (result["reachable"] & (result["distance_m"] <= r)).rename("covered")


# ----------------------------------------------------------------------------------------
# per grid
def _weights(demand, cols) -> dict[str, np.ndarray]:
    out = {}
    for c in cols:
        if c in demand.columns:
            out[c] = pd.to_numeric(demand[c], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        else:
            out[c] = np.ones(len(demand)) if c == "population" and "households" not in demand.columns else np.zeros(len(demand))
    return out


def _grid_of_points(points_xy: np.ndarray, grids) -> np.ndarray:
    """Position of the grid holding each point (-1 outside all); first match on borders."""
    import shapely

    tree = shapely.STRtree(np.asarray(grids.geometry.values, dtype=object))
    pts = shapely.points(points_xy)
    pairs = tree.query(pts, predicate="intersects")
    out = np.full(points_xy.shape[0], -1, dtype=np.int64)
    if pairs.shape[1]:
        order = np.lexsort((pairs[1], pairs[0]))
        p, g = pairs[0][order], pairs[1][order]
        first = np.ones(p.size, dtype=bool)
        first[1:] = p[1:] != p[:-1]
        out[p[first]] = g[first]
    return out


def coverage_by_grid(
    demand,
    result: pd.DataFrame,
    grids_by_level: Mapping[str, object],
    *,
    radius_m: float | None = None,
    feedback: Feedback | None = None,
):
    """Covered population and households per grid, at every grid level.

    Parameters
    ----------
    demand
        Demand points with ``population`` and ``households`` columns (missing columns
        count as 0; a layer with neither counts 1 person per point).
    result
        :func:`nearest` output for ``demand``.
    grids_by_level
        ``{level: grid GeoDataFrame}`` with ``code`` and ``name`` columns; each demand point
        is counted in the grid that contains it (the first one on shared borders).
    radius_m
        Coverage radius; None = every reachable point is covered.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per grid of every level: ``level``, ``code``, ``name``, ``parent_code``,
        ``demand_points``, ``population``, ``covered_population``, ``coverage_pct``,
        ``households``, ``covered_households``, ``households_coverage_pct`` (NaN where
        the grid has no demand), grid geometry.
    """
    import geopandas as gpd

    fb = ensure_feedback(feedback)
    if not result.index.equals(demand.index):
        raise InputError("`result` must be the nearest() output for `demand` (same index)")
    cov = (covered(result, radius_m) if radius_m is not None else result["reachable"]).to_numpy(bool)
    xy = _points_xy(demand, "demand")
    w = _weights(demand, ("population", "households"))
    frames = []
    levels = list(grids_by_level.items())
    for k, (level, grids) in enumerate(levels):
        fb.step(k, len(levels), f"coverage per grid ({level})")
        _check_same_crs(demand, "demand", grids, f"grids_by_level[{level!r}]")
        missing = [c for c in ("code",) if c not in grids.columns]
        if missing:
            raise SchemaError(
                f"grid layer {level!r} lacks column(s) {missing}; expected the grid columns of gridtool.kinds",
                [f"missing column {m}" for m in missing],
            )
        g = _grid_of_points(xy, grids)
        inside = g >= 0
        n = len(grids)
        cnt = np.bincount(g[inside], minlength=n)
        out = pd.DataFrame({
            "level": str(level),
            "code": grids["code"].astype(str).to_numpy(),
            "name": (grids["name"].astype(str).to_numpy() if "name" in grids.columns else grids["code"].astype(str).to_numpy()),
            "parent_code": (grids["parent_code"].to_numpy() if "parent_code" in grids.columns else None),
            "demand_points": cnt,
        })
        for col, label in (("population", "coverage_pct"), ("households", "households_coverage_pct")):
            tot = np.bincount(g[inside], weights=w[col][inside], minlength=n)
            cv = np.bincount(g[inside], weights=(w[col] * cov)[inside], minlength=n)
            out[col] = tot
            out[f"covered_{col}"] = cv
            with np.errstate(invalid="ignore", divide="ignore"):
                out[label] = np.where(tot > 0, 100.0 * cv / np.where(tot > 0, tot, 1), np.nan)
        frames.append(gpd.GeoDataFrame(out, geometry=grids.geometry.to_numpy(), crs=grids.crs))
    fb.set_progress(100, "coverage per grid done")
    if not frames:
        return gpd.GeoDataFrame(
            {c: [] for c in ("level", "code", "name", "parent_code", "demand_points", "population",
                             "covered_population", "coverage_pct", "households", "covered_households",
                             "households_coverage_pct")},
            geometry=[], crs=getattr(demand, "crs", None),
        )
    cols = ["level", "code", "name", "parent_code", "demand_points", "population", "covered_population",
            "coverage_pct", "households", "covered_households", "households_coverage_pct", "geometry"]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True)[cols], geometry="geometry", crs=frames[0].crs)


# ----------------------------------------------------------------------------------------
# areas
def uncovered_areas(
    demand,
    result: pd.DataFrame,
    *,
    radius_m: float | None = None,
    grids=None,
    feedback: Feedback | None = None,
):
    """Polygons of the area whose demand is not covered.

    Each demand point stands for its Voronoi cell (the area nearer to it than to any
    other demand point), clipped to ``grids`` (or to the convex hull of the demand). The
    cells of uncovered points are merged (per ``community_code`` when present), so the
    polygons agree with the counts of :func:`coverage_by_grid` in both distance modes.

    Returns
    -------
    geopandas.GeoDataFrame
        ``community_code`` (if known), ``demand_points``, ``population``, ``households``,
        ``area_km2`` and one (multi)polygon per community (a single row without
        ``community_code``).
    """
    import geopandas as gpd
    import shapely

    fb = ensure_feedback(feedback)
    crs = getattr(demand, "crs", None)
    cov = (covered(result, radius_m) if radius_m is not None else result["reachable"]).to_numpy(bool)
    xy = _points_xy(demand, "demand")
    w = _weights(demand, ("population", "households"))
    cols = ["community_code", "demand_points", "population", "households", "area_km2"]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    if cov.all() or xy.shape[0] == 0:
        return empty
    fb.set_progress(5, "uncovered areas: cells")
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    inv = inv.ravel()
    if grids is not None:
        _check_same_crs(demand, "demand", grids, "grids")
        clip = shapely.union_all(np.asarray(grids.geometry.values, dtype=object))
    else:
        clip = shapely.convex_hull(shapely.multipoints(uniq))
    if uniq.shape[0] == 1:
        cells = np.array([clip], dtype=object)
    elif uniq.shape[0] == 2 or shapely.get_type_id(shapely.convex_hull(shapely.multipoints(uniq))) != 3:
        # collinear points: split the clip area by perpendicular bisectors is overkill; use buffers
        cells = shapely.buffer(shapely.points(uniq), float(np.min(np.hypot(*np.diff(uniq, axis=0).T))) / 2 or 1.0)
    else:
        vor = shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=clip, ordered=True)
        cells = shapely.get_parts(vor)
    fb.check()
    unc_u = np.zeros(uniq.shape[0], dtype=bool)
    np.logical_or.at(unc_u, inv, ~cov)
    sel = np.flatnonzero(~cov)
    codes = (demand["community_code"].astype(str).to_numpy() if "community_code" in demand.columns
             else np.full(len(demand), "", dtype=object))
    df = pd.DataFrame({
        "community_code": codes[sel],
        "cell": inv[sel],
        "population": w["population"][sel],
        "households": w["households"][sel],
    })
    agg = df.groupby("community_code", sort=True).agg(
        demand_points=("cell", "size"), population=("population", "sum"), households=("households", "sum"))
    geoms = []
    for code in agg.index:
        fb.check()
        cell_ids = np.unique(df.loc[df["community_code"] == code, "cell"].to_numpy())
        geoms.append(shapely.intersection(shapely.union_all(cells[cell_ids]), clip))
    out = gpd.GeoDataFrame(agg.reset_index(), geometry=geoms, crs=crs)
    out["area_km2"] = out.geometry.area / 1e6
    if "community_code" not in demand.columns:
        out["community_code"] = None
    fb.set_progress(100, "uncovered areas done")
    return out[cols + ["geometry"]]


def service_areas(
    facilities,
    radius_m: float,
    *,
    network=None,
    width_m: float = 30.0,
    max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
    feedback: Feedback | None = None,
):
    """Service area of each facility within ``radius_m``.

    Straight-line mode: a disc (buffer with 64 segments a quarter circle; for maps only,
    counts never use it). Road mode: the road parts reachable within ``radius_m``
    (access distance included), cut exactly at the reach and widened by ``width_m`` on
    each side (:func:`gridtool.network.service_area_polygons`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility`` (label), ``name`` (if the layer has one), ``radius_m``, ``method``
        ("euclidean" or "network"), ``area_km2`` and the polygon.
    """
    import geopandas as gpd
    import shapely

    r = _check_radius(radius_m, "radius_m")
    _check_metric(facilities, "facilities")
    fxy = _points_xy(facilities, "facilities")
    if network is None:
        geoms = shapely.buffer(shapely.points(fxy), r, quad_segs=64) if fxy.size else np.zeros(0, dtype=object)
        method = "euclidean"
    else:
        net = _as_network(network, facilities, feedback)
        geoms = _net.service_area_polygons(net, fxy, r, width_m=width_m, max_snap_m=max_snap_m, feedback=feedback)
        method = "network"
    out = gpd.GeoDataFrame(
        {"facility": np.asarray(facilities.index), "radius_m": r, "method": method},
        geometry=np.asarray(geoms, dtype=object), crs=facilities.crs,
    )
    if "name" in facilities.columns:
        out.insert(1, "name", facilities["name"].to_numpy())
    out["area_km2"] = out.geometry.area / 1e6
    return out


# ----------------------------------------------------------------------------------------
# transfer-station loads
def station_loads(
    demand,
    facilities,
    result: pd.DataFrame,
    *,
    capacity_col: str = "capacity_tpd",
    waste_col: str = "waste_tpd",
) -> pd.DataFrame:
    """Tonnage assigned to each facility (its nearest demand) against its capacity.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``facilities``: ``name`` (if present), ``demand_points``,
        ``population``, ``assigned_tpd``, ``capacity_tpd`` (NaN if unknown), ``load_pct``
        and ``overloaded`` (assigned > capacity).
    """
    if waste_col not in demand.columns:
        raise SchemaError(
            f"`demand` lacks the column {waste_col!r} (t/d per demand point); make demand with "
            "demand_from_grids() or add the column",
            [f"missing column {waste_col}"],
        )
    pos = result["facility_pos"].to_numpy()
    ok = pos >= 0
    k = len(facilities)
    waste = pd.to_numeric(demand[waste_col], errors="coerce").fillna(0.0).to_numpy(float)
    pop = _weights(demand, ("population",))["population"]
    out = pd.DataFrame(index=facilities.index.copy())
    if "name" in facilities.columns:
        out["name"] = facilities["name"].to_numpy()
    out["demand_points"] = np.bincount(pos[ok], minlength=k)
    out["population"] = np.bincount(pos[ok], weights=pop[ok], minlength=k)
    out["assigned_tpd"] = np.bincount(pos[ok], weights=waste[ok], minlength=k)
    cap = (pd.to_numeric(facilities[capacity_col], errors="coerce").to_numpy(float)
           if capacity_col in facilities.columns else np.full(k, np.nan))
    out["capacity_tpd"] = cap
    with np.errstate(invalid="ignore", divide="ignore"):
        out["load_pct"] = np.where(cap > 0, 100.0 * out["assigned_tpd"].to_numpy() / np.where(cap > 0, cap, 1), np.nan)
    out["overloaded"] = np.nan_to_num(out["assigned_tpd"].to_numpy() - cap, nan=-1.0) > 0
    return out


# ----------------------------------------------------------------------------------------
# everything at once
@dataclass
class CoverageResult:
    """Named results of :func:`coverage_analysis` (all frames in the demand CRS).

    Attributes
    ----------
    demand
        The demand points with the :func:`nearest` columns and ``covered``.
    by_grid
        :func:`coverage_by_grid` for every level given.
    uncovered
        :func:`uncovered_areas`.
    service_areas
        :func:`service_areas`.
    loads
        :func:`station_loads` when the facilities have a capacity column, else None
        (every reachable demand point goes to its nearest station, radius or not).
    """

    radius_m: float
    method: str
    demand: object
    by_grid: object
    uncovered: object
    service_areas: object
    loads: pd.DataFrame | None = None
    summary: dict = field(default_factory=dict)

    def layers(self) -> dict[str, object]:
        """The spatial results by layer name, ready to write to a GeoPackage."""
        out = {
            "coverage_demand": self.demand,
            "coverage_by_grid": self.by_grid,
            "coverage_uncovered": self.uncovered,
            "coverage_service_areas": self.service_areas,
        }
        return out


def coverage_analysis(
    demand,
    facilities,
    *,
    radius_m: float,
    network=None,
    grids_by_level: Mapping[str, object] | None = None,
    capacity_col: str = "capacity_tpd",
    max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
    service_width_m: float = 30.0,
    feedback: Feedback | None = None,
) -> CoverageResult:
    """Run the whole coverage analysis of ``facilities`` for ``demand`` within ``radius_m``.

    Parameters
    ----------
    demand
        Demand points (see :func:`gridtool.demand.demand_from_grids`).
    facilities
        Facility points; if they have ``capacity_col`` (transfer stations) the station
        loads are computed too.
    radius_m
        Service radius in metres (inclusive).
    network
        None for straight lines, else a RoadNetwork or road GeoDataFrame.
    grids_by_level
        ``{level: grids}`` for the per-grid table and to clip uncovered areas (the finest
        level, the last one given, is used for clipping).

    Returns
    -------
    CoverageResult
    """
    import geopandas as gpd

    fb = ensure_feedback(feedback)
    r = _check_radius(radius_m, "radius_m")
    if r is None:
        raise InputError("`radius_m` is required for a coverage analysis")
    grids_by_level = dict(grids_by_level or {})
    fb.set_progress(0, "coverage: preparing")
    net = None if network is None else _as_network(network, demand, None)

    res = nearest(demand, facilities, network=net, max_distance_m=r, max_snap_m=max_snap_m, feedback=_chain(fb, 0, 40))
    cov = covered(res, r)
    dem = demand.copy()
    for c in res.columns:
        dem[c] = res[c].to_numpy() if c != "unreachable_reason" else res[c].astype(object).to_numpy()
    dem["covered"] = cov.to_numpy()
    fb.check()
    by_grid = coverage_by_grid(demand, res, grids_by_level, radius_m=r, feedback=_chain(fb, 40, 55))
    clip = list(grids_by_level.values())[-1] if grids_by_level else None
    unc = uncovered_areas(demand, res, radius_m=r, grids=clip, feedback=_chain(fb, 55, 75))
    sa = service_areas(facilities, r, network=net, width_m=service_width_m, max_snap_m=max_snap_m,
                       feedback=_chain(fb, 75, 90))
    loads = None
    if capacity_col in facilities.columns and "waste_tpd" in demand.columns:
        res_all = nearest(demand, facilities, network=net, max_distance_m=None, max_snap_m=max_snap_m,
                          feedback=_chain(fb, 90, 98))
        loads = station_loads(demand, facilities, res_all, capacity_col=capacity_col)
    w = _weights(demand, ("population", "households"))
    covm = cov.to_numpy(bool)
    pop = float(w["population"].sum())
    summary = {
        "demand_points": int(len(demand)),
        "covered_points": int(covm.sum()),
        "population": pop,
        "covered_population": float(w["population"][covm].sum()),
        "coverage_pct": (100.0 * float(w["population"][covm].sum()) / pop) if pop > 0 else float("nan"),
        "unreachable": {str(k): int(v) for k, v in res["unreachable_reason"].value_counts().items() if v},
        "overloaded_stations": int(loads["overloaded"].sum()) if loads is not None else 0,
    }
    fb.set_progress(100, "coverage done")
    return CoverageResult(
        radius_m=r,
        method="euclidean" if net is None else "network",
        demand=gpd.GeoDataFrame(dem, geometry=demand.geometry.name, crs=demand.crs),
        by_grid=by_grid,
        uncovered=unc,
        service_areas=sa,
        loads=loads,
        summary=summary,
    )


def _chain(parent: Feedback, lo: float, hi: float) -> Feedback:
    """A child Feedback mapping 0–100 onto ``lo``–``hi`` of ``parent`` and sharing its cancel."""
    return _ChildFeedback(parent, lo, hi)


class _ChildFeedback(Feedback):
    def __init__(self, parent: Feedback, lo: float, hi: float) -> None:
        super().__init__()
        self._parent, self._lo, self._hi = parent, lo, hi

    def set_progress(self, percent: float, message: str | None = None) -> None:
        self._parent.set_progress(self._lo + (self._hi - self._lo) * min(100.0, max(0.0, float(percent))) / 100.0, message)

    def cancel(self) -> None:
        self._parent.cancel()

    @property
    def cancelled(self) -> bool:
        return self._parent.cancelled

    def check(self) -> None:
        self._parent.check()

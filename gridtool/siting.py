"""Optimal siting of transfer stations and recycling points, solved to proven optimality.

Array core (after spopt's ``from_cost_matrix`` split; geometry stays in :func:`site`):

* :func:`lscp` — location set covering: fewest sites so every demand point is within ``radius``;
* :func:`mclp` — maximal covering: ``p`` sites covering the most weight within ``radius``;
* :func:`p_median` — ``p`` sites minimising total weighted distance;
* :func:`p_center` — ``p`` sites minimising the largest distance;
* :func:`capacitated` — single-source capacitated siting (t/d), optional ``p`` and opening costs.

``cost`` is a dense ``(n_demand, n_candidates)`` array of distances (``inf`` = unreachable)
or a SciPy sparse matrix holding only the pairs within reach. Every model takes
``fixed=`` (candidates that must stay open) and ``time_limit=`` (seconds; the best
solution found is returned with its gap when the limit stops the search) and returns a
:class:`SitingResult`. Every MIP is solved by HiGHS (highspy) to a relative gap of 0.

What makes large instances fast (measured in ``bench/bench_siting.py``):

* covering models work on sparse coverage sets, merge identical demand rows (summing
  weights), fix essential sites, drop dominated demand rows (a row whose set contains
  another's) and dominated candidates (whose set lies inside another's), then solve
  the reduced MIP from a greedy start;
* p-median: heuristic + Lagrangian bound + Benders cuts of the radius formulation
  (:mod:`gridtool.siting_pmedian`);
* p-center: binary search over the sorted distinct distances between a lower bound
  (every point's nearest candidate) and a heuristic's radius, each step one reduced LSCP.

Bad input raises :class:`gridtool.errors.InputError` (or :class:`InfeasibleError`) naming
the demand points or the numbers at fault.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from gridtool.errors import InfeasibleError, InputError, SchemaError, CRSError
from gridtool.feedback import Feedback, ensure_feedback
from gridtool.siting_highs import MipOutcome, solve_mip
from gridtool.siting_pmedian import nearest_open, pmedian_exact, pmedian_heuristic

__all__ = [
    "SitingResult",
    "SiteOutcome",
    "MODELS",
    "lscp",
    "mclp",
    "p_median",
    "p_center",
    "capacitated",
    "site",
    "transport_rate",
]

MODELS = ("lscp", "mclp", "p-median", "p-center", "capacitated")


@dataclass
class SitingResult:
    """The answer of one siting model.

    Attributes
    ----------
    model
        ``lscp``, ``mclp``, ``p-median``, ``p-center`` or ``capacitated``.
    selected
        Sorted indices of the open candidates (fixed ones included).
    objective
        Sites (LSCP), covered weight (MCLP), total weighted distance (p-median),
        ``cost_per_tpd_m`` × t/d·m plus opening costs (capacitated; the parts are in
        ``info``), largest distance (p-center).
    assignment
        Candidate index serving each demand point (the nearest open one; for
        ``capacitated`` the single-source assignment; -1 where none is reachable).
    optimal
        True when the solver proved optimality (``gap == 0``).
    gap
        Relative gap between ``objective`` and ``lower_bound`` (``inf`` if unknown).
    seconds
        Wall time of the call.
    status
        Solver status text (``optimal``, ``Time limit reached`` …).
    lower_bound
        The proven bound (an upper bound for MCLP, which maximises).
    distance
        Distance of each demand point to its assigned site.
    covered
        Demand points within ``radius`` (covering models), else None.
    """

    model: str
    selected: np.ndarray
    objective: float
    assignment: np.ndarray
    optimal: bool
    gap: float
    seconds: float
    status: str = ""
    lower_bound: float | None = None
    distance: np.ndarray | None = None
    covered: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        gap = "0" if self.gap == 0 else (f"{self.gap:.3%}" if math.isfinite(self.gap) else "unknown")
        return (f"{self.model}: {len(self.selected)} sites, objective {self.objective:,.6g}, "
                f"{'proven optimal' if self.optimal else 'not proven'} (gap {gap}), {self.seconds:.2f} s")


# ----------------------------------------------------------------------------------------
# input checks
def _first(idx: np.ndarray, k: int = 10) -> str:
    idx = np.asarray(idx)
    shown = ", ".join(str(int(i)) for i in idx[:k])
    more = f" … ({idx.size} in all)" if idx.size > k else f" ({idx.size} in all)"
    return shown + more


def _as_cost(cost: Any, name: str = "cost") -> np.ndarray | sp.csr_matrix:
    """Validate a cost matrix; dense → float array, sparse → CSR (explicit entries = reachable)."""
    if sp.issparse(cost):
        c = sp.csr_matrix(cost, dtype=float)
        c.sum_duplicates()
        data = c.data
        if c.shape[0] == 0 or c.shape[1] == 0:
            raise InputError(f"{name} has shape {c.shape}; need at least one demand point and one candidate")
        bad = ~np.isfinite(data) | (data < 0)
        if bad.any():
            rows = np.unique(np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))[bad])
            raise InputError(f"{name} has NaN, infinite or negative distances for demand points {_first(rows)}; "
                             "give finite distances ≥ 0 (leave unreachable pairs out of a sparse matrix)")
        return c
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InputError(f"{name} must be a 2-D (n_demand, n_candidates) array, got shape {c.shape}")
    nan_rows = np.flatnonzero(np.isnan(c).any(axis=1))
    if nan_rows.size:
        raise InputError(f"{name} has NaN distances for demand points {_first(nan_rows)}; "
                         "fix the distances (use inf for unreachable pairs)")
    neg = np.flatnonzero((c < 0).any(axis=1))
    if neg.size:
        raise InputError(f"{name} has negative distances for demand points {_first(neg)}; distances must be ≥ 0")
    return c


def _dense(cost: np.ndarray | sp.csr_matrix) -> np.ndarray:
    if not sp.issparse(cost):
        return cost
    out = np.full(cost.shape, np.inf)
    rows = np.repeat(np.arange(cost.shape[0]), np.diff(cost.indptr))
    out[rows, cost.indices] = cost.data
    return out


def _weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != n:
        raise InputError(f"{name} has {w.shape[0]} values but cost has {n} demand points; give one weight a point")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise InputError(f"{name} are NaN, infinite or negative for demand points {_first(bad)}; give weights ≥ 0")
    return w


def _fixed(fixed: Any, m: int) -> np.ndarray:
    if fixed is None:
        return np.array([], dtype=np.intp)
    f = np.unique(np.asarray(fixed, dtype=np.int64).ravel())
    bad = f[(f < 0) | (f >= m)]
    if bad.size:
        raise InputError(f"fixed has candidate indices {_first(bad)} outside 0…{m - 1}")
    return f.astype(np.intp)


def _check_p(p: Any, m: int, n_fixed: int) -> int:
    if p is None:
        raise InputError("p (the number of sites) is required for this model")
    try:
        p_int = int(p)
    except (TypeError, ValueError):
        raise InputError(f"p={p!r} is not a whole number") from None
    if p_int != p or p_int < 1:
        raise InputError(f"p={p!r} must be a whole number ≥ 1")
    if p_int > m:
        raise InfeasibleError(f"p={p_int} is larger than the number of candidates ({m}); "
                              f"lower p or add candidate sites")
    if p_int < n_fixed:
        raise InfeasibleError(f"p={p_int} is smaller than the {n_fixed} fixed (existing) sites that must stay open; "
                              "raise p or allow existing sites to close")
    return p_int


def _check_radius(radius: Any) -> float:
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise InputError(f"radius={radius!r} is not a number of metres") from None
    if not math.isfinite(r) or r < 0:
        raise InputError(f"radius={radius!r} must be a finite distance ≥ 0")
    return r


def _coverage(cost: np.ndarray | sp.csr_matrix, radius: float) -> sp.csr_matrix:
    """Boolean CSR of (demand, candidate) pairs within ``radius``."""
    if sp.issparse(cost):
        keep = cost.data <= radius
        rows = np.repeat(np.arange(cost.shape[0]), np.diff(cost.indptr))[keep]
        a = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (rows, cost.indices[keep])), shape=cost.shape)
    else:
        a = sp.csr_matrix(cost <= radius, dtype=np.int8)
    a.sum_duplicates()
    a.data[:] = 1
    return a


def _assign_nearest(cost: np.ndarray | sp.csr_matrix, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = cost.shape[0]
    if selected.size == 0:
        return np.full(n, -1), np.full(n, np.inf)
    if sp.issparse(cost):
        sub = _dense(sp.csr_matrix(cost[:, selected]))
    else:
        sub = cost[:, selected]
    pos = np.argmin(sub, axis=1)
    dist = sub[np.arange(n), pos]
    assign = np.where(np.isfinite(dist), selected[pos], -1)
    return assign, dist


# ----------------------------------------------------------------------------------------
# covering reductions
def _merge_rows(a: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Merge identical rows of a 0/1 CSR, summing their weights."""
    if a.shape[0] == 0:
        return a, w
    a = sp.csr_matrix(a)
    a.sort_indices()
    keys = [a.indices[a.indptr[i]:a.indptr[i + 1]].tobytes() for i in range(a.shape[0])]
    _, first, inv = np.unique(np.array(keys, dtype=object), return_index=True, return_inverse=True)
    if first.size == a.shape[0]:
        return a, w
    w2 = np.bincount(inv, weights=w, minlength=first.size)
    return a[first], w2


def _dominated_columns(a: sp.csr_matrix, keep_at_least: int = 0) -> np.ndarray:
    """Boolean mask of columns whose row set lies inside another column's (ties: keep lowest index)."""
    m = a.shape[1]
    ac = sp.csc_matrix(a, dtype=np.int32)
    size = np.diff(ac.indptr)
    inter = (ac.T @ ac).tocoo()
    i, j, v = inter.row, inter.col, inter.data
    sub = (i != j) & (v == size[i]) & ((size[i] < size[j]) | ((size[i] == size[j]) & (i > j)))
    dom = np.zeros(m, dtype=bool)
    dom[i[sub]] = True
    dom[size == 0] = True
    if keep_at_least and (m - dom.sum()) < keep_at_least:
        return np.zeros(m, dtype=bool)
    return dom


def _dominated_rows(a: sp.csr_matrix) -> np.ndarray:
    """Rows whose candidate set contains another row's set (covering the other covers it)."""
    n = a.shape[0]
    a32 = sp.csr_matrix(a, dtype=np.int32)
    size = np.diff(a32.indptr)
    inter = (a32 @ a32.T).tocoo()
    i, k, v = inter.row, inter.col, inter.data
    sup = (i != k) & (v == size[k]) & ((size[i] > size[k]) | ((size[i] == size[k]) & (i > k)))
    dom = np.zeros(n, dtype=bool)
    dom[i[sup]] = True
    return dom


def _reduce_cover(a: sp.csr_matrix, fixed: np.ndarray,
                  feedback: Feedback | None = None) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, dict]:
    """Reduce an LSCP. Returns (reduced matrix, its column ids, sites forced open, stats)."""
    n0, m0 = a.shape
    forced = set(int(j) for j in fixed)
    cols = np.arange(m0)
    if forced:
        covered = np.asarray(a[:, sorted(forced)].sum(axis=1)).ravel() > 0
        a = a[~covered]
    a, _ = _merge_rows(a, np.ones(a.shape[0]))
    for _ in range(20):
        if feedback is not None:
            feedback.check()
        changed = False
        if a.shape[0] == 0:
            break
        # essential sites: a row with one candidate
        size = np.diff(a.indptr)
        single = np.flatnonzero(size == 1)
        if single.size:
            ess = np.unique(a.indices[a.indptr[single]])
            forced.update(int(cols[j]) for j in ess)
            covered = np.asarray(a[:, ess].sum(axis=1)).ravel() > 0
            keep_c = np.ones(a.shape[1], dtype=bool)
            keep_c[ess] = False
            a = sp.csr_matrix(a[~covered][:, keep_c])
            cols = cols[keep_c]
            changed = True
            if a.shape[0] == 0:
                break
        dr = _dominated_rows(a)
        if dr.any():
            a = sp.csr_matrix(a[~dr])
            changed = True
        dc = _dominated_columns(a)
        if dc.any():
            a = sp.csr_matrix(a[:, ~dc])
            cols = cols[~dc]
            changed = True
        a, _ = _merge_rows(a, np.ones(a.shape[0]))
        if not changed:
            break
    stats = {"rows": (n0, a.shape[0]), "cols": (m0, a.shape[1])}
    return a, cols, np.array(sorted(forced), dtype=np.intp), stats


def _lonely_error(radius: float, lonely: np.ndarray, nearest: np.ndarray | None,
                  unit: str = "m") -> InfeasibleError:
    """The LSCP infeasibility message: who is out of reach and the radius that reaches them.

    ``nearest`` holds each lonely point's distance to its nearest candidate (``inf``
    where none is reachable at all), or None when unknown (a sparse cost matrix that
    holds only the pairs within the radius).
    """
    head = f"radius {radius:g} m: no candidate lies within reach of demand points {_first(lonely)}"
    if nearest is None:
        return InfeasibleError(f"{head}; the cost matrix gives no distance beyond the radius for them, so the radius "
                               "they need is unknown; raise the radius, add candidate sites near them or pass all "
                               "distances")
    nearest = np.asarray(nearest, dtype=float)
    fin = np.isfinite(nearest)
    parts = [head]
    if fin.any():
        k = int(np.argmax(np.where(fin, nearest, -1.0)))
        worst = float(nearest[k])
        parts.append(f"the worst of them (demand point {int(lonely[k])}) is {worst:,.0f} {unit} from its nearest "
                     f"candidate, so a radius of at least {math.ceil(worst):,d} {unit} reaches "
                     + ("every demand point" if fin.all() else "all the others"))
    if not fin.all():
        parts.append(f"demand points {_first(lonely[~fin])} cannot reach any candidate at all (connect them or add "
                     "candidates)")
    return InfeasibleError("; ".join(parts) + "; raise the radius or add candidate sites near them")


def _greedy_cover(a: sp.csr_matrix) -> np.ndarray:
    """Greedy set cover on a 0/1 CSR; returns column indices."""
    ac = sp.csc_matrix(a)
    uncovered = np.ones(a.shape[0], dtype=bool)
    chosen: list[int] = []
    while uncovered.any():
        gain = ac.T @ uncovered.astype(np.int32)
        j = int(np.argmax(gain))
        if gain[j] == 0:
            break
        chosen.append(j)
        uncovered[ac.indices[ac.indptr[j]:ac.indptr[j + 1]]] = False
    return np.array(chosen, dtype=np.intp)


def _solve_cover(a: sp.csr_matrix, time_limit: float | None, feedback: Feedback | None):
    """Minimum set cover on a (reduced) 0/1 matrix; returns (columns, outcome)."""
    m = a.shape[1]
    if a.shape[0] == 0:
        return np.array([], dtype=np.intp), None
    start = np.zeros(m)
    start[_greedy_cover(a)] = 1.0
    out = solve_mip(np.ones(m), a, np.ones(a.shape[0]), np.full(a.shape[0], np.inf), np.zeros(m), np.ones(m),
                    np.ones(m, dtype=bool), time_limit=time_limit, start=start, feedback=feedback)
    if out.x is None:
        return np.flatnonzero(start > 0.5), out
    return np.flatnonzero(out.x > 0.5), out


# ----------------------------------------------------------------------------------------
# models
def lscp(cost: Any, radius: float, *, fixed: Sequence[int] | None = None, time_limit: float | None = None,
         feedback: Feedback | None = None) -> SitingResult:
    """Location set covering: the fewest sites so every demand point lies within ``radius``.

    Raises
    ------
    InfeasibleError
        Naming the demand points that no candidate reaches within ``radius``.
    """
    t0 = time.perf_counter()
    c = _as_cost(cost)
    r = _check_radius(radius)
    n, m = c.shape
    f = _fixed(fixed, m)
    a = _coverage(c, r)
    size = np.diff(a.indptr)
    lonely = np.flatnonzero(size == 0)
    if lonely.size:
        known = not sp.issparse(c)  # a sparse matrix may hold only the pairs within the radius
        raise _lonely_error(r, lonely, _dense(c)[lonely].min(axis=1) if known else None)
    ared, cols, forced, stats = _reduce_cover(a, f, feedback)
    left = None if time_limit is None else max(0.01, float(time_limit) - (time.perf_counter() - t0))
    chosen, out = _solve_cover(ared, left, feedback)
    sel = np.unique(np.concatenate([forced, cols[chosen]])).astype(np.intp)
    assign, dist = _assign_nearest(c, sel)
    optimal = out is None or out.optimal
    gap = 0.0 if out is None else out.gap
    bound = float(sel.size) if out is None else out.bound + forced.size
    return SitingResult("lscp", sel, float(sel.size), assign, bool(optimal), gap, time.perf_counter() - t0,
                        "optimal" if optimal else out.status, bound, dist, dist <= r,
                        {"reduction": stats, "radius": r})


def mclp(cost: Any, weights: Any, radius: float, p: int, *, fixed: Sequence[int] | None = None,
         time_limit: float | None = None, feedback: Feedback | None = None) -> SitingResult:
    """Maximal covering: ``p`` sites covering the most demand weight within ``radius``."""
    t0 = time.perf_counter()
    c = _as_cost(cost)
    r = _check_radius(radius)
    n, m = c.shape
    w = _weights(weights, n)
    f = _fixed(fixed, m)
    p = _check_p(p, m, f.size)
    a = _coverage(c, r)
    base = 0.0
    if f.size:
        cov_f = np.asarray(a[:, f].sum(axis=1)).ravel() > 0
        base = float(w[cov_f].sum())
        a, w_rest = a[~cov_f], w[~cov_f]
    else:
        w_rest = w
    p_free = p - f.size
    free_cols = np.setdiff1d(np.arange(m), f)
    a = sp.csr_matrix(a[:, free_cols])
    keep_r = (np.diff(a.indptr) > 0) & (w_rest > 0)
    a, w_rest = sp.csr_matrix(a[keep_r]), w_rest[keep_r]
    a, w_rest = _merge_rows(a, w_rest)
    n_rows0 = a.shape[0]
    dom = _dominated_columns(a, keep_at_least=p_free) if a.shape[0] else np.zeros(a.shape[1], bool)
    cols = free_cols[~dom]
    a = sp.csr_matrix(a[:, ~dom])
    chosen_free = np.array([], dtype=np.intp)
    lp_integral = False
    bound_extra = 0.0
    status = "optimal"
    optimal, gap = True, 0.0
    if p_free > 0 and a.shape[0] > 0:
        k, nr = a.shape[1], a.shape[0]
        # greedy start
        ac = sp.csc_matrix(a)
        unc = np.ones(nr, dtype=bool)
        g: list[int] = []
        for _ in range(min(p_free, k)):
            gain = ac.T @ (w_rest * unc)
            gain[g] = -1
            j = int(np.argmax(gain))
            g.append(j)
            unc[ac.indices[ac.indptr[j]:ac.indptr[j + 1]]] = False
        # columns y (k) then z (nr): max Σ w z; z_i − Σ_{j∈N_i} y_j ≤ 0; Σ y = p_free
        rows_a = sp.coo_matrix(a)
        A = sp.vstack([
            sp.hstack([-sp.csr_matrix(a, dtype=float), sp.identity(nr, format="csr")]),
            sp.hstack([sp.csr_matrix(np.ones((1, k))), sp.csr_matrix((1, nr))]),
        ])
        del rows_a
        rlo = np.concatenate([np.full(nr, -np.inf), [p_free]])
        rhi = np.concatenate([np.zeros(nr), [p_free]])
        x0 = np.zeros(k + nr)
        x0[g] = 1.0
        x0[k:] = (~unc).astype(float)
        n_cols_y = min(p_free, k)
        rlo[-1] = rhi[-1] = n_cols_y
        obj_c = np.concatenate([np.zeros(k), w_rest])
        # the LP relaxation first (interior point + crossover is fast here): when its
        # vertex has integral y it is optimal for the MIP too and no search is needed
        left_lp = None if time_limit is None else max(0.01, float(time_limit) - (time.perf_counter() - t0))
        lp = solve_mip(obj_c, A, rlo, rhi, np.zeros(k + nr), np.ones(k + nr), np.zeros(k + nr, bool),
                       maximize=True, time_limit=left_lp, feedback=feedback, lp_solver="ipm")
        out = None
        if lp.x is not None:
            y_lp = lp.x[:k]
            if ((y_lp < 1e-6) | (y_lp > 1 - 1e-6)).all():
                pick = np.flatnonzero(y_lp > 0.5)
                covered_lp = np.asarray(a[:, pick].sum(axis=1)).ravel() > 0
                value = float(w_rest[covered_lp].sum())
                if pick.size == n_cols_y and value >= lp.objective - 1e-9 * max(1.0, abs(lp.objective)):
                    x_lp = np.concatenate([np.isin(np.arange(k), pick).astype(float), covered_lp.astype(float)])
                    out = MipOutcome(x_lp, value, value, 0.0, True, "optimal (LP relaxation integral)", lp.seconds)
                    lp_integral = True
        if out is None:
            left = None if time_limit is None else max(0.01, float(time_limit) - (time.perf_counter() - t0))
            out = solve_mip(obj_c, A, rlo, rhi, np.zeros(k + nr), np.ones(k + nr),
                            np.concatenate([np.ones(k, bool), np.zeros(nr, bool)]), maximize=True,
                            time_limit=left, start=x0, feedback=feedback)
        if out.x is not None:
            chosen_free = cols[np.flatnonzero(out.x[:k] > 0.5)]
        else:
            chosen_free = cols[np.array(g, dtype=np.intp)]
        optimal, gap, status = out.optimal, out.gap, out.status
        bound_extra = out.bound
    # pad with unused candidates if reductions left fewer than p
    sel = np.unique(np.concatenate([f, chosen_free])).astype(np.intp)
    if sel.size < p:
        rest = np.setdiff1d(np.arange(m), sel)
        sel = np.sort(np.concatenate([sel, rest[: p - sel.size]]))
    assign, dist = _assign_nearest(c, sel)
    covered = dist <= r
    obj = float(w[covered].sum())
    bound = base + bound_extra if p_free > 0 and n_rows0 else obj
    return SitingResult("mclp", sel, obj, assign, bool(optimal), gap, time.perf_counter() - t0,
                        "optimal" if optimal else status, bound, dist, covered,
                        {"radius": r, "rows": (n, n_rows0), "cols": (m, cols.size + f.size),
                         "lp_integral": lp_integral})


def _reachable_check(d: np.ndarray, what: str) -> None:
    lonely = np.flatnonzero(~np.isfinite(d).any(axis=1))
    if lonely.size:
        raise InfeasibleError(f"{what}: demand points {_first(lonely)} cannot reach any candidate "
                              "(all distances are infinite); connect them or add candidates")


def p_median(cost: Any, weights: Any, p: int, *, fixed: Sequence[int] | None = None,
             time_limit: float | None = None, feedback: Feedback | None = None) -> SitingResult:
    """p-median: ``p`` sites minimising the total weighted distance, proven optimal."""
    t0 = time.perf_counter()
    d = _dense(_as_cost(cost))
    n, m = d.shape
    w = _weights(weights, n)
    f = _fixed(fixed, m)
    p = _check_p(p, m, f.size)
    _reachable_check(d, "p-median")
    res = pmedian_exact(d, w, p, f, time_limit=time_limit, feedback=feedback)
    sel = np.asarray(res["selected"], dtype=np.intp)
    assign, dist = _assign_nearest(d, sel)
    return SitingResult("p-median", sel, float(res["objective"]), assign, bool(res["optimal"]), float(res["gap"]),
                        time.perf_counter() - t0, res["status"], res["bound"], dist, None,
                        {"rounds": res["rounds"], "stats": res.get("stats", {})})


def p_center(cost: Any, p: int, *, fixed: Sequence[int] | None = None, time_limit: float | None = None,
             feedback: Feedback | None = None) -> SitingResult:
    """p-center: ``p`` sites minimising the largest distance of any demand point."""
    t0 = time.perf_counter()
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    d = _dense(_as_cost(cost))
    n, m = d.shape
    f = _fixed(fixed, m)
    p = _check_p(p, m, f.size)
    _reachable_check(d, "p-center")
    fb = ensure_feedback(feedback)
    # upper bound: a p-median heuristic (unweighted) then its largest distance
    start = pmedian_heuristic(d, np.ones(n), p, f, max_seconds=5.0, feedback=feedback,
                              deadline=None if time_limit is None else t0 + 0.3 * float(time_limit))
    best_sel = np.sort(start)
    _, dist0 = nearest_open(d, best_sel)
    hi_val = float(dist0.max())
    lo_val = float(d.min(axis=1).max())
    if f.size:
        lo_val = max(lo_val, 0.0)
    vals = np.unique(d[np.isfinite(d) & (d >= lo_val) & (d <= hi_val)])
    lo, hi = 0, int(np.searchsorted(vals, hi_val))  # vals[hi] feasible
    proven_lo = True
    steps = 0
    while lo < hi:
        mid = (lo + hi) // 2
        steps += 1
        fb.set_progress(min(95, 5 + 6 * steps), f"p-center: testing radius {vals[mid]:,.6g}")
        remaining = None if not math.isfinite(deadline) else deadline - time.perf_counter()
        if remaining is not None and remaining <= 0.05:
            proven_lo = False
            break
        a = _coverage(d, float(vals[mid]))
        if (np.diff(a.indptr) == 0).any():
            lo = mid + 1
            continue
        ared, cols, forced, _ = _reduce_cover(a, f, fb)
        if forced.size > p:
            lo = mid + 1
            continue
        remaining = None if remaining is None else max(0.01, deadline - time.perf_counter())
        chosen, out = _solve_cover(ared, remaining, feedback)
        count = forced.size + chosen.size
        if out is not None and not out.optimal:
            # unproven: feasible if the incumbent fits, otherwise we cannot decide
            if count <= p:
                hi = mid
                best_sel = np.unique(np.concatenate([forced, cols[chosen]])).astype(np.intp)
                continue
            if out.bound + forced.size > p + 1e-9:
                lo = mid + 1
                continue
            proven_lo = False
            break
        if count <= p:
            hi = mid
            best_sel = np.unique(np.concatenate([forced, cols[chosen]])).astype(np.intp)
        else:
            lo = mid + 1
    # fill to p sites: add the sites that lower total distance most
    if best_sel.size < p:
        best_sel = _fill_sites(d, best_sel, p)
    assign, dist = _assign_nearest(d, best_sel)
    obj = float(dist.max())
    bound = float(vals[lo]) if vals.size else obj
    bound = min(bound, obj)
    optimal = proven_lo and obj <= bound + 1e-9 * max(1.0, obj)
    gap = 0.0 if optimal else (obj - bound) / obj if obj > 0 else 0.0
    return SitingResult("p-center", best_sel, obj, assign, bool(optimal), gap, time.perf_counter() - t0,
                        "optimal" if optimal else "time limit", bound, dist, None, {"lscp_steps": steps})


def _fill_sites(d: np.ndarray, sel: np.ndarray, p: int) -> np.ndarray:
    sel = list(sel)
    d1 = d[:, sel].min(axis=1) if sel else np.full(d.shape[0], np.inf)
    while len(sel) < p:
        gain = np.maximum(np.where(np.isfinite(d1), d1, 1e300)[:, None] - d, 0).sum(axis=0)
        gain[sel] = -1
        j = int(np.argmax(gain))
        sel.append(j)
        d1 = np.minimum(d1, d[:, j])
    return np.sort(np.asarray(sel, dtype=np.intp))


def _capacitated_start(d: np.ndarray, q: np.ndarray, cap: np.ndarray, p: int | None, fixed: np.ndarray,
                       fc: np.ndarray, feedback: Feedback | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """A feasible single-source assignment to start HiGHS from, or None.

    Opens the fixed sites plus p-median-heuristic sites (weights = demand t/d), as many
    as ``p`` or, without ``p``, the fewest whose capacity covers 1.2 × the demand;
    then assigns demand points, largest regret first, to their nearest open site with
    room left. Without ``p`` it adds a site and retries when an assignment fails.
    Returns (open sites, assigned site of every demand point).
    """
    n, m = d.shape
    total = float(q.sum())
    if p is None:
        order = np.sort(cap)[::-1]
        k = int(np.searchsorted(np.cumsum(order), 1.2 * total)) + 1
        sizes = range(max(k, fixed.size, 1), m + 1)
    else:
        sizes = range(p, p + 1)
    dd = np.where(np.isfinite(d), d, np.inf)
    for k in sizes:
        if feedback is not None:
            feedback.check()
        sel = pmedian_heuristic(d, q, min(k, m), fixed, max_seconds=1.0, feedback=feedback)
        left = cap.copy()
        closed = np.ones(m, dtype=bool)
        closed[sel] = False
        sub = np.where(closed[None, :], np.inf, dd)
        srt = np.sort(sub, axis=1)
        regret = (srt[:, 1] if m > 1 else srt[:, 0]) - srt[:, 0]
        regret = np.where(np.isfinite(regret), regret, 1e300)
        assign = np.full(n, -1)
        for i in np.lexsort((-q, -regret)):
            row = np.where(left >= q[i] - 1e-9, sub[i], np.inf)
            j = int(np.argmin(row))
            if not np.isfinite(row[j]):
                break
            assign[i] = j
            left[j] -= q[i]
        if (assign >= 0).all():
            return np.sort(sel), assign
        if p is not None or k > m - 1 or (len(sizes) > 8 and k > sizes[0] + 8):
            return None
    return None


def transport_rate(yuan_per_t_km: float, years: float = 10.0) -> float:
    """``cost_per_tpd_m`` in 万元 for a haul cost in 元 per tonne-kilometre over ``years``.

    One t/d carried one metre every day for ``years`` costs
    ``yuan_per_t_km / 1000 × 365 × years`` 元, i.e. that divided by 10,000 in 万元, the
    unit of the ``opening_cost`` column (kinds.py: 建设成本(万元)). E.g. 2 元/t·km over
    10 years → 0.00073 万元 per t/d·m.
    """
    for name, v in (("yuan_per_t_km", yuan_per_t_km), ("years", years)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"{name}={v!r} must be a finite number > 0")
    return float(yuan_per_t_km) / 1000.0 * 365.0 * float(years) / 10_000.0


def capacitated(cost: Any, demand: Any, capacity: Any, p: int | None = None, opening_cost: Any = None, *,
                fixed: Sequence[int] | None = None, time_limit: float | None = None,
                feedback: Feedback | None = None, cost_per_tpd_m: float = 1.0) -> SitingResult:
    """Single-source capacitated siting: every demand point is served by one open site.

    Minimises ``cost_per_tpd_m × Σ demand·distance + Σ opening cost of the open sites``;
    ``p`` fixes the number of sites (optional). Pairs with infinite distance (or absent
    from a sparse ``cost``) are not allowed; the model is exact over all others.

    Units: demand in t/d and distance in m make the transport part t/d·m (tonnes a day
    times metres); ``opening_cost`` is in its own unit (万元 in the sample data).
    ``cost_per_tpd_m`` converts t/d·m into that unit — use :func:`transport_rate`
    (e.g. ``transport_rate(2.0, years=10)`` for 2 元/t·km over 10 years). The default
    1.0 keeps the plain sum, i.e. opening costs counted in t/d·m: with costs in 万元
    they then barely matter next to the transport term. The two parts are reported
    apart in ``info``: ``transport_tpd_m`` (Σ demand·distance), ``transport_cost``
    (× ``cost_per_tpd_m``), ``opening_cost`` (Σ over the open sites) and
    ``cost_per_tpd_m``; ``objective`` is ``transport_cost + opening_cost``.

    HiGHS starts from a greedy assignment (:func:`_capacitated_start`), so a run stopped
    by ``time_limit`` still returns a feasible siting (``optimal=False`` with its gap).
    ``time_limit`` counts from the start of this call, model building included.
    """
    t0 = time.perf_counter()
    c = _as_cost(cost)
    d = _dense(c)
    n, m = d.shape
    q = _weights(demand, n, "demand")
    cap = np.asarray(capacity, dtype=float).ravel()
    if cap.shape[0] != m:
        raise InputError(f"capacity has {cap.shape[0]} values but cost has {m} candidates; give one capacity (t/d) a site")
    badc = np.flatnonzero(~np.isfinite(cap) | (cap < 0))
    if badc.size:
        raise InputError(f"capacity is NaN, infinite or negative for candidates {_first(badc)}; give capacities in t/d ≥ 0")
    f = _fixed(fixed, m)
    if p is not None:
        p = _check_p(p, m, f.size)
    fc = np.zeros(m) if opening_cost is None else np.asarray(opening_cost, dtype=float).ravel()
    if fc.shape[0] != m or (~np.isfinite(fc)).any() or (fc < 0).any():
        raise InputError("opening_cost must give one finite cost ≥ 0 for every candidate")
    try:
        rate = float(cost_per_tpd_m)
    except (TypeError, ValueError):
        raise InputError(f"cost_per_tpd_m={cost_per_tpd_m!r} is not a number") from None
    if not math.isfinite(rate) or rate <= 0:
        raise InputError(f"cost_per_tpd_m={cost_per_tpd_m!r} must be a finite cost > 0 per t/d·m "
                         "(see gridtool.siting.transport_rate)")
    _reachable_check(d, "capacitated")
    total = float(q.sum())
    if cap.sum() < total - 1e-9:
        raise InfeasibleError(f"total capacity {cap.sum():,.6g} t/d is below total demand {total:,.6g} t/d; "
                              "add sites or raise capacities")
    if p is not None:
        top = np.sort(cap[np.setdiff1d(np.arange(m), f)])[::-1][: p - f.size].sum() + cap[f].sum()
        if top < total - 1e-9:
            raise InfeasibleError(f"the {p} sites can hold at most {top:,.6g} t/d but demand is {total:,.6g} t/d; "
                                  "raise p or the capacities")
    reach_cap = np.where(np.isfinite(d), cap[None, :], 0.0).max(axis=1)
    too_big = np.flatnonzero(q > reach_cap + 1e-9)
    if too_big.size:
        raise InfeasibleError(f"demand points {_first(too_big)} produce more (e.g. {q[too_big[0]]:,.6g} t/d) than any "
                              "single reachable site can take; split them or raise capacities")
    ii, jj = np.nonzero(np.isfinite(d))
    k = ii.size
    # columns: x (k pairs) then y (m)
    cobj = np.concatenate([rate * q[ii] * d[ii, jj], fc])
    r_assign = sp.csr_matrix((np.ones(k), (ii, np.arange(k))), shape=(n, k + m))
    r_cap = sp.csr_matrix((np.concatenate([q[ii], -cap]), (np.concatenate([jj, np.arange(m)]),
                                                          np.concatenate([np.arange(k), k + np.arange(m)]))),
                          shape=(m, k + m))
    r_link = sp.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                            (np.concatenate([np.arange(k), np.arange(k)]), np.concatenate([np.arange(k), k + jj]))),
                           shape=(k, k + m))
    blocks = [r_assign, r_cap, r_link]
    rlo = [np.ones(n), np.full(m, -np.inf), np.full(k, -np.inf)]
    rhi = [np.ones(n), np.zeros(m), np.zeros(k)]
    if p is not None:
        blocks.append(sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=int), k + np.arange(m))), shape=(1, k + m)))
        rlo.append([p])
        rhi.append([p])
    A = sp.vstack(blocks)
    clo = np.zeros(k + m)
    clo[k + f] = 1.0
    x0 = None
    greedy = _capacitated_start(d, q, cap, p, f, fc, feedback)
    if greedy is not None:
        g_sel, g_assign = greedy
        pair = {(int(i), int(j)): t for t, (i, j) in enumerate(zip(ii, jj))}
        x0 = np.zeros(k + m)
        x0[[pair[(i, int(g_assign[i]))] for i in range(n)]] = 1.0
        x0[k + g_sel] = 1.0
    left = None if time_limit is None else float(time_limit) - (time.perf_counter() - t0)
    # presolve cannot reduce this model (measured: "Not reduced") and has no interrupt
    # points; it took 2–24 s on the sample district, so it is switched off
    out = solve_mip(cobj, A, np.concatenate([np.asarray(x, float) for x in rlo]),
                    np.concatenate([np.asarray(x, float) for x in rhi]), clo, np.ones(k + m),
                    np.ones(k + m, dtype=bool), time_limit=left, start=x0, feedback=feedback, presolve=False)
    if out.x is None:
        if out.status.lower().startswith("infeasible"):
            raise InfeasibleError("no single-source assignment fits the capacities: demand cannot be split "
                                  f"among the sites (total demand {total:,.6g} t/d, total capacity {cap.sum():,.6g} t/d); "
                                  "raise capacities or p")
        raise InfeasibleError(f"the solver found no feasible siting within the time limit ({out.status}); "
                              "give more time")
    xs = out.x[:k] > 0.5
    assign = np.full(n, -1)
    assign[ii[xs]] = jj[xs]
    sel = np.flatnonzero(out.x[k:] > 0.5).astype(np.intp)
    dist = np.where(assign >= 0, d[np.arange(n), np.maximum(assign, 0)], np.inf)
    load = np.bincount(assign[assign >= 0], weights=q[assign >= 0], minlength=m)
    moved = float(q[assign >= 0] @ dist[assign >= 0])
    return SitingResult("capacitated", sel, float(out.objective), assign, out.optimal, out.gap,
                        time.perf_counter() - t0, "optimal" if out.optimal else out.status, out.bound, dist, None,
                        {"load_tpd": load[sel], "capacity_tpd": cap[sel], "transport_tpd_m": moved,
                         "transport_cost": rate * moved, "opening_cost": float(fc[sel].sum()),
                         "cost_per_tpd_m": rate})


# ----------------------------------------------------------------------------------------
# GeoDataFrame adapter
@dataclass
class SiteOutcome:
    """:func:`site` on GeoDataFrames: the array result plus map layers.

    Attributes
    ----------
    result
        The :class:`SitingResult` (indices refer to ``sites_all``).
    sites
        The open sites (points) with ``source`` (candidate | existing), ``load``,
        ``n_demand`` and, for capacitated, ``capacity_tpd``.
    demand
        The demand points with ``site`` (row of ``sites``), ``distance_m`` and ``covered``.
    service_areas
        One polygon a site: the hull of the demand it serves.
    sites_all
        All candidate rows (candidates then existing) the indices refer to.
    """

    result: SitingResult
    sites: Any
    demand: Any
    service_areas: Any
    sites_all: Any


def _points_of(gdf, arg: str):
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{arg} must be a GeoDataFrame, got {type(gdf).__name__}")
    if len(gdf) == 0:
        raise InputError(f"{arg} is empty; give at least one feature")
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        bad = np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
        raise InputError(f"{arg} has empty geometries at rows {_first(bad)}; drop or fix them")
    geom = gdf.geometry
    if not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _to_work(gdf, arg: str):
    from gridtool.kinds import WORK_EPSG

    if gdf.crs is None:
        raise CRSError(f"{arg} has no CRS; set it (e.g. EPSG:{WORK_EPSG}) before siting")
    if gdf.crs.is_geographic or gdf.crs.to_epsg() != WORK_EPSG:
        return gdf.to_crs(WORK_EPSG)
    return gdf


def site(demand, candidates, *, model: str, p: int | None = None, radius_m: float | None = None,
         weights_col: str | None = "population", existing=None, allow_close: bool = False, network=None,
         demand_col: str = "waste_tpd", capacity_col: str = "capacity_tpd", opening_cost_col: str | None = None,
         time_limit: float | None = None, feedback: Feedback | None = None,
         cost_per_tpd_m: float = 1.0) -> SiteOutcome:
    """Run a siting model on GeoDataFrames (metres, EPSG:4549) and return map layers.

    Parameters
    ----------
    demand
        Demand points or polygons (polygons use a representative point).
    candidates
        Candidate sites (points).
    model
        One of :data:`MODELS`.
    p, radius_m
        Number of sites; coverage radius in metres (LSCP, MCLP).
    weights_col
        Demand weight column (MCLP, p-median); None or a missing column means weight 1
        for LSCP/p-center, and is an error for the weighted models.
    existing
        Existing facilities: added as candidates that stay open unless ``allow_close``.
    network
        A road layer (GeoDataFrame of lines) or a built :class:`gridtool.network.RoadNetwork`
        for distances along roads; Euclidean when None.
    demand_col, capacity_col, opening_cost_col
        Columns of the capacitated model (t/d on demand, t/d and cost on sites).
    time_limit
        Seconds for the whole call (distances included); the solver gets what is left.
    cost_per_tpd_m
        Capacitated: cost of one t/d carried one metre, in the unit of the opening
        costs (see :func:`capacitated` and :func:`transport_rate`).
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    if model not in MODELS:
        raise InputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    t_start = time.perf_counter()
    fb = ensure_feedback(feedback)
    demand = _to_work(demand, "demand")
    candidates = _to_work(candidates, "candidates")
    parts = [candidates.assign(source="candidate", _row=np.arange(len(candidates)))]
    if existing is not None and len(existing):
        existing = _to_work(existing, "existing")
        parts.append(existing.assign(source="existing", _row=np.arange(len(existing))))
    sites_all = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry=candidates.geometry.name,
                                 crs=candidates.crs)
    fixed = np.flatnonzero(sites_all["source"].to_numpy() == "existing") if not allow_close else np.array([], int)
    xy_d = _points_of(demand, "demand")
    xy_s = _points_of(sites_all, "candidates")
    n, m = len(xy_d), len(xy_s)
    weighted = model in ("mclp", "p-median")
    if weights_col and weights_col in demand.columns:
        w = pd.to_numeric(demand[weights_col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise SchemaError(f"demand column {weights_col!r} is empty, not a number or negative at rows {_first(bad)}; "
                              "fill it or choose another weights column")
    elif weighted and weights_col:
        raise SchemaError(f"demand has no column {weights_col!r} for the weights; columns are "
                          f"{', '.join(map(str, demand.columns))}; pass weights_col=… or add it")
    else:
        w = np.ones(n)
    fb.set_progress(1, "distances")
    if network is not None:
        network = _road_network(network, fb)
        cost = _network_cost(network, xy_d, xy_s, radius_m if model in ("lscp", "mclp") else None, fb)
    elif model in ("lscp", "mclp"):
        if radius_m is None:
            raise InputError(f"model {model!r} needs radius_m (the coverage radius in metres)")
        from scipy.spatial import cKDTree

        tree = cKDTree(xy_s)
        cost = tree.sparse_distance_matrix(cKDTree(xy_d), float(radius_m), output_type="coo_matrix").T.tocsr()
        # keep zero distances (a site exactly on a demand point) as explicit entries
        zero_pairs = tree.query_ball_point(xy_d, 0.0)
        zi = [i for i, js in enumerate(zero_pairs) for _ in js]
        zj = [j for js in zero_pairs for j in js]
        if zi:
            extra = sp.csr_matrix((np.full(len(zi), 1e-9), (zi, zj)), shape=(n, m))
            cost = (cost + extra).tocsr()
    else:
        from scipy.spatial.distance import cdist

        cost = cdist(xy_d, xy_s)
    if model == "lscp":
        _check_lscp_reach(cost, float(radius_m), xy_d, xy_s, network, fb)
    fb.set_progress(5, f"solving {model}")
    # the time limit covers the whole call: distances and checks come off the solver's share
    tl = None if time_limit is None else max(0.01, float(time_limit) - (time.perf_counter() - t_start))
    if model == "lscp":
        res = lscp(cost, radius_m, fixed=fixed, time_limit=tl, feedback=fb)
    elif model == "mclp":
        res = mclp(cost, w, radius_m, p, fixed=fixed, time_limit=tl, feedback=fb)
    elif model == "p-median":
        res = p_median(cost, w, p, fixed=fixed, time_limit=tl, feedback=fb)
    elif model == "p-center":
        res = p_center(cost, p, fixed=fixed, time_limit=tl, feedback=fb)
    else:
        if demand_col not in demand.columns:
            raise SchemaError(f"demand has no column {demand_col!r} (t/d) for the capacitated model")
        if capacity_col not in sites_all.columns:
            raise SchemaError(f"candidates have no column {capacity_col!r} (t/d) for the capacitated model")
        q = pd.to_numeric(demand[demand_col], errors="coerce").to_numpy(dtype=float)
        capv = pd.to_numeric(sites_all[capacity_col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(capv))
        if bad.size:
            raise SchemaError(f"column {capacity_col!r} is empty or not a number for sites {_first(bad)}")
        oc = None
        if opening_cost_col:
            oc = pd.to_numeric(sites_all[opening_cost_col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        res = capacitated(cost, q, capv, p, oc, fixed=fixed, time_limit=tl, feedback=fb,
                          cost_per_tpd_m=cost_per_tpd_m)
    fb.set_progress(97, "map layers")
    sel = res.selected
    sites = sites_all.iloc[sel].copy()
    sites["site_index"] = sel
    load_w = np.bincount(res.assignment[res.assignment >= 0], weights=w[res.assignment >= 0], minlength=m)
    count = np.bincount(res.assignment[res.assignment >= 0], minlength=m)
    sites["load"] = load_w[sel]
    sites["n_demand"] = count[sel]
    if model == "capacitated":
        sites["load_tpd"] = res.info["load_tpd"]
    dem = demand.copy()
    dem["site"] = res.assignment
    dem["distance_m"] = res.distance
    if res.covered is not None:
        dem["covered"] = res.covered
    # service areas: hull of each site and the demand points it serves
    polys = []
    for j in sel:
        mask = res.assignment == j
        pts = shapely.points(np.vstack([xy_s[j:j + 1], xy_d[mask]]))
        polys.append(shapely.convex_hull(shapely.multipoints(pts)).buffer(25.0))
    areas = gpd.GeoDataFrame({"site_index": sel, "n_demand": count[sel], "load": load_w[sel]},
                             geometry=polys, crs=candidates.crs)
    fb.set_progress(100, res.summary())
    return SiteOutcome(res, sites.reset_index(drop=True), dem, areas, sites_all)


def _check_lscp_reach(cost, radius_m: float, xy_demand: np.ndarray, xy_sites: np.ndarray, network, fb) -> None:
    """Raise the LSCP infeasibility with each lonely point's true nearest-candidate distance.

    ``cost`` holds only the pairs within the radius, so the distances beyond it are
    measured here for the lonely points only (straight line, or along the roads).
    """
    c = sp.csr_matrix(cost) if sp.issparse(cost) else sp.csr_matrix(np.where(np.asarray(cost) <= radius_m, 1, 0))
    if sp.issparse(cost):
        within = np.zeros(c.shape[0], dtype=bool)
        rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
        within[rows[c.data <= radius_m]] = True
    else:
        within = np.diff(c.indptr) > 0
    lonely = np.flatnonzero(~within)
    if not lonely.size:
        return
    if network is None:
        from scipy.spatial import cKDTree

        nearest = cKDTree(xy_sites).query(xy_demand[lonely])[0]
    else:
        full = _dense(_as_cost(_network_cost(network, xy_demand[lonely], xy_sites, None, fb)))
        nearest = full.min(axis=1)
    raise _lonely_error(radius_m, lonely, nearest, "m" if network is None else "m along the roads")


def _road_network(network, fb):
    """A built :class:`gridtool.network.RoadNetwork` (built once from a road layer)."""
    try:
        from gridtool import network as gnet
    except ImportError as exc:  # pragma: no cover - network.py ships with the package
        raise InputError(f"road-network distances need gridtool.network ({exc})") from None
    if isinstance(network, gnet.RoadNetwork):
        return network
    return gnet.build_network(_to_work(network, "network"), feedback=fb)


def _network_cost(network, xy_demand: np.ndarray, xy_sites: np.ndarray, cutoff_m, fb):
    """Road distances (m) demand × sites; ``inf`` where unreachable or beyond ``cutoff_m``."""
    try:
        from gridtool import network as gnet
    except ImportError as exc:  # pragma: no cover - network.py ships with the package
        raise InputError(f"road-network distances need gridtool.network ({exc})") from None
    net = network
    if not isinstance(network, gnet.RoadNetwork):
        net = gnet.build_network(_to_work(network, "network"), feedback=fb)
    return gnet.distance_matrix(net, xy_demand, xy_sites, cutoff_m=cutoff_m, feedback=fb)

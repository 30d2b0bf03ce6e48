"""Exact p-median on dense distance arrays: heuristic, Benders LP, fixing, branch-and-cut.

The textbook p-median model has one variable for every (demand, candidate) pair; on
5,000 × 300 that is 1.5 million variables and HiGHS cannot close the gap in ten
minutes. This module follows the literature instead:

* **Upper bound.** Greedy addition, then best-improvement vertex substitution with the
  fast-interchange bookkeeping of Whitaker (1983) and Resende & Werneck (2007): with the
  nearest (``d1``) and second-nearest (``d2``) open distance of every client, the gain of
  swapping candidate ``j`` in for open site ``r`` is ``gain[j] - loss[r] + extra[r, j]``,
  all computed with whole-array NumPy operations.
* **Lower bound.** The LP of the radius ("sorted distances") formulation of Elloumi
  (2010) and García, Labbé & Marín (2011), solved by Benders decomposition as in
  Duran-Mateluna, Ales & Elloumi (2023, EJOR): a master over the site variables ``y``
  and one ``θ_i`` per client, cut by ``θ_i ≥ V − Σ_j max(0, V − d_ij) y_j`` at the level
  ``V`` where client ``i``'s subproblem is solved (found with one cumulative sum over the
  client's sorted candidates), with in-out stabilisation (Ben-Ameur & Neto 2007). The
  cuts only touch candidates closer than ``V``, so the master stays small, and HiGHS
  re-solves it warm (dual simplex) after every round of cuts. This LP bound is the
  bound of the strong formulation and on the benchmark instances is often exact.
* **Proof.** If the LP is not integral: an LP-rounding start improved by interchange,
  reduced-cost fixing of sites against the best cost, then the same master as a MIP
  with all cuts and the incumbent; every integer solution HiGHS reports is cut again
  until the master's bound meets the best true cost (the master is a relaxation, so
  its bound is always valid).
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from gridtool.feedback import Feedback
from gridtool.siting_highs import IncrementalModel

_DEBUG = bool(__import__('os').environ.get('GRIDTOOL_SITING_DEBUG'))

__all__ = ["pmedian_heuristic", "pmedian_exact", "nearest_open"]


def _finite_big(cost: np.ndarray) -> np.ndarray:
    finite = cost[np.isfinite(cost)]
    big = (float(finite.max()) if finite.size else 1.0) * 10.0 + 1.0
    return np.where(np.isfinite(cost), cost, big * 100.0)


def nearest_open(cost: np.ndarray, open_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (candidate index, distance) of the nearest open site of every demand point."""
    open_idx = np.asarray(open_idx, dtype=np.intp)
    sub = cost[:, open_idx]
    pos = np.argmin(sub, axis=1)
    return open_idx[pos], sub[np.arange(cost.shape[0]), pos]


def _weighted_cost(cost: np.ndarray, weights: np.ndarray, open_idx: np.ndarray) -> float:
    return float(weights @ cost[:, open_idx].min(axis=1))


def pmedian_heuristic(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    fixed: np.ndarray | None = None,
    *,
    max_seconds: float = 30.0,
    feedback: Feedback | None = None,
    initial: np.ndarray | None = None,
    deadline: float | None = None,
) -> np.ndarray:
    """Greedy then fast vertex substitution (best improvement); returns open candidates.

    ``fixed`` candidates are opened first and never swapped out. Unreachable pairs
    (``inf``) are replaced by a large finite penalty for the search. ``feedback`` is
    checked at every greedy addition and interchange step. The search stops after
    ``max_seconds`` or at ``deadline`` (a ``time.perf_counter()`` value), whichever
    comes first; a greedy phase cut short opens the remaining sites by their gain at
    that moment, so ``p`` sites are always returned.
    """
    d = _finite_big(np.asarray(cost, dtype=float))
    w = np.asarray(weights, dtype=float)
    n, m = d.shape
    t_end = time.perf_counter() + max_seconds
    if deadline is not None:
        t_end = min(t_end, deadline)
    is_open = np.zeros(m, dtype=bool)
    fixed = np.asarray([] if fixed is None else fixed, dtype=np.intp)
    is_open[fixed] = True
    if initial is not None:
        is_open[np.asarray(initial, dtype=np.intp)[: max(0, p - fixed.size)]] = True
    if is_open.any():
        d1 = d[:, is_open].min(axis=1)
    else:
        d1 = np.full(n, np.inf)
    # greedy addition
    while is_open.sum() < p:
        if feedback is not None:
            feedback.check()
        if np.isinf(d1).all():
            gains = -(w @ d)
        else:
            gains = w @ np.maximum(d1[:, None] - d, 0.0)
        gains[is_open] = -np.inf
        if time.perf_counter() >= t_end:
            # out of time: open the rest by their present gain, no more passes
            rest = int(p - is_open.sum())
            is_open[np.argsort(-gains, kind="stable")[:rest]] = True
            return np.flatnonzero(is_open)
        j = int(np.argmax(gains))
        is_open[j] = True
        d1 = np.minimum(d1, d[:, j])
    if p <= fixed.size or p >= m:
        return np.flatnonzero(is_open)
    movable = ~np.isin(np.arange(m), fixed)
    top = float(d.max()) * 2.0 + 1.0
    # fast interchange, best improvement
    while time.perf_counter() < t_end:
        if feedback is not None:
            feedback.check()
        open_idx = np.flatnonzero(is_open)
        sub = d[:, open_idx]
        if open_idx.size == 1:
            sub = np.hstack([sub, np.full((n, 1), top)])
        two = np.argpartition(sub, 1, axis=1)[:, :2]
        a = sub[np.arange(n), two[:, 0]]
        b = sub[np.arange(n), two[:, 1]]
        first = np.where(a <= b, two[:, 0], two[:, 1])
        d1 = np.minimum(a, b)
        d2 = np.maximum(a, b)
        gain = w @ np.maximum(d1[:, None] - d, 0.0)  # (m,)
        loss = np.bincount(first, weights=w * (d2 - d1), minlength=open_idx.size)  # (p,)
        extra_i = w[:, None] * np.maximum(d2[:, None] - np.maximum(d, d1[:, None]), 0.0)  # (n, m)
        onehot = sp.csr_matrix((np.ones(n), (first, np.arange(n))), shape=(open_idx.size, n))
        extra = np.asarray(onehot @ extra_i)  # (p, m)
        profit = gain[None, :] - loss[:, None] + extra
        profit[:, is_open] = -np.inf
        profit[~movable[open_idx], :] = -np.inf
        r, j = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if not profit[r, j] > 1e-9 * max(1.0, float(w @ d1)):
            break
        is_open[open_idx[r]] = False
        is_open[j] = True
    return np.flatnonzero(is_open)


class _Radius:
    """The radius formulation of one (aggregated) instance: sorted distances, cuts.

    For client ``i`` with sorted distances ``D_i1 ≤ D_i2 ≤ …`` and any level ``V`` the
    cut ``θ_i ≥ V − Σ_j max(0, V − d_ij) y_j`` is valid. At a point ``y`` the strongest
    one is at the first level where the ``y`` of the candidates at or below it add up
    to 1 (Duran-Mateluna, Ales & Elloumi 2023); its right-hand side is then the optimal
    value of client ``i``'s subproblem.
    """

    def __init__(self, d: np.ndarray) -> None:
        n, m = d.shape
        self.m = m
        self.order = np.argsort(d, axis=1, kind="stable").astype(np.int32)
        ds = np.take_along_axis(d, self.order, axis=1)
        fin = np.isfinite(ds)
        self.last = fin.sum(axis=1) - 1  # last reachable level of every client
        big = (float(ds[fin].max()) if fin.any() else 1.0) * 4.0 + 1.0
        self.ds = np.where(fin, ds, big)
        self.rows = np.arange(n)

    def _sums(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ys = np.clip(y, 0.0, 1.0)[self.order]
        return np.cumsum(ys, axis=1), np.cumsum(self.ds * ys, axis=1)

    def value(self, k: np.ndarray, v: np.ndarray, y: np.ndarray, sums=None) -> np.ndarray:
        """Right-hand side of every client's cut ``(k, V)`` evaluated at ``y``."""
        cum, cdy = self._sums(y) if sums is None else sums
        km = np.maximum(k - 1, 0)
        below_y = np.where(k > 0, cum[self.rows, km], 0.0)
        below_dy = np.where(k > 0, cdy[self.rows, km], 0.0)
        return v - (v * below_y - below_dy)

    def levels(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(level index, level V, subproblem value) of every client at ``y``."""
        sums = self._sums(y)
        cum = sums[0]
        k = np.minimum(np.argmax(cum >= 1.0 - 1e-6, axis=1), self.last)
        k = np.where(cum[:, -1] >= 1.0 - 1e-6, k, self.last)
        v = self.ds[self.rows, k]
        return k, v, self.value(k, v, y, sums)

    def cuts(self, clients: np.ndarray, k: np.ndarray, v: np.ndarray, theta_col: int) -> sp.csr_matrix:
        """Rows ``θ_i + Σ_j max(0, V_i − d_ij) y_j ≥ V_i`` (columns: y then θ)."""
        kk, vv = k[clients], v[clients]
        sub = self.ds[clients]
        mask = (np.arange(self.m)[None, :] < kk[:, None]) & (sub < vv[:, None])
        r, t = np.nonzero(mask)
        coef = vv[r] - sub[r, t]
        cols = self.order[clients][r, t]
        nc = clients.size
        rr = np.concatenate([r, np.arange(nc)])
        cc = np.concatenate([cols, theta_col + clients])
        val = np.concatenate([coef, np.ones(nc)])
        return sp.csr_matrix((val, (rr, cc)), shape=(nc, theta_col + self.ds.shape[0]))


def _aggregate(d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge clients with identical distance rows (summing weights); drop zero weights.

    A zero-weight client is kept (with weight 0) when some candidate cannot reach it:
    the open sites must still reach it.
    """
    keep = (w > 0) | ~np.isfinite(d).all(axis=1)
    if not keep.any():
        keep[:] = True
    dk, wk = d[keep], w[keep]
    view = np.ascontiguousarray(dk).view(np.dtype((np.void, dk.dtype.itemsize * dk.shape[1]))).ravel()
    _, first, inv = np.unique(view, return_index=True, return_inverse=True)
    if first.size == dk.shape[0]:
        return dk, wk
    return dk[first], np.bincount(inv.ravel(), weights=wk, minlength=first.size)


def _heuristic_weights(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weights for the heuristic: zero-weight clients that some candidate cannot reach
    count like the lightest client, so the search keeps them reachable."""
    need = (w == 0) & ~np.isfinite(d).all(axis=1)
    if not need.any():
        return w
    return np.where(need, float(w[w > 0].min()) if (w > 0).any() else 1.0, w)


def _total(w: np.ndarray, dist: np.ndarray) -> float:
    """Σ w·dist, or ``inf`` when some client is left without a reachable open site."""
    if not np.isfinite(dist).all():
        return math.inf
    return float(w @ dist)


def pmedian_exact(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    fixed: np.ndarray | None = None,
    *,
    time_limit: float | None = None,
    feedback: Feedback | None = None,
    start: np.ndarray | None = None,
    levels_per_client: int = 0,
    stab_alpha: float = 0.5,
) -> dict:
    """Prove the p-median optimum; returns a dict (selected, objective, bound, gap, optimal, status).

    ``cost`` is dense (n, m) with ``inf`` for pairs that cannot be served (every client
    must reach at least one candidate; the caller checks). ``levels_per_client`` is the
    number of extra radius levels per client seeded into the master before the first
    LP (0 seeds only the heuristic's distances).

    Steps (timings in ``bench/bench_siting.py``): heuristic upper bound; the LP of the
    radius formulation by Benders cuts (disaggregated, one per client, warm-started
    dual simplex); an LP-rounding second start; reduced-cost fixing of sites against
    the best cost; then the master as a MIP with every cut and the incumbent, cut
    again at each integer solution HiGHS reports until its bound meets the best cost.
    """
    t0 = time.perf_counter()
    deadline = math.inf if time_limit is None else t0 + float(time_limit)
    d_all = np.asarray(cost, dtype=float)
    w_all = np.asarray(weights, dtype=float)
    m = d_all.shape[1]
    fixed = np.asarray([] if fixed is None else fixed, dtype=np.intp)
    fixed_mask = np.zeros(m, dtype=bool)
    fixed_mask[fixed] = True

    def remaining() -> float | None:
        return None if not math.isfinite(deadline) else max(0.0, deadline - time.perf_counter())

    def progress(pct: int, text: str) -> None:
        if feedback is not None:
            feedback.set_progress(pct, text)
            feedback.check()

    # ---- upper bound
    progress(2, "p-median: heuristic start")
    if start is None:
        budget = 30.0 if time_limit is None else max(0.5, 0.2 * float(time_limit))
        start = pmedian_heuristic(d_all, _heuristic_weights(d_all, w_all), p, fixed, max_seconds=budget,
                                  feedback=feedback, deadline=None if time_limit is None else deadline)
    best = np.sort(np.asarray(start, dtype=np.intp))
    d, w = _aggregate(d_all, w_all)
    n = d.shape[0]
    w_heur = _heuristic_weights(d, w)
    _, dbest = nearest_open(d, best)
    upper = _total(w, dbest)
    stats: dict = {"clients": (d_all.shape[0], n), "t_heuristic": time.perf_counter() - t0}

    # ---- master: columns y (m) then θ (n); Σ y = p; reachability rows where needed
    rad = _Radius(d)
    dmin = rad.ds[:, 0]
    lo_y = fixed_mask.astype(float)
    master = IncrementalModel(np.concatenate([np.zeros(m), w]), np.concatenate([lo_y, dmin]),
                              np.concatenate([np.ones(m), np.full(n, np.inf)]), feedback=feedback)
    master.add_rows(sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n)])[None, :]), [float(p)], [float(p)])
    need_reach = ~np.isfinite(d).all(axis=1)
    if need_reach.any():
        reach = np.isfinite(d[need_reach])
        uniq = np.unique(np.packbits(reach, axis=1), axis=0)
        rows = np.unpackbits(uniq, axis=1)[:, :m].astype(bool)
        master.add_rows(sp.hstack([sp.csr_matrix(rows, dtype=float), sp.csr_matrix((rows.shape[0], n))]),
                        np.ones(rows.shape[0]), np.full(rows.shape[0], np.inf))
    all_clients = np.arange(n)
    y0 = np.zeros(m)
    y0[best] = 1.0
    k0, v0, _ = rad.levels(y0)
    seed = [(all_clients, k0, v0)]
    if levels_per_client > 0:
        # a few levels below each client's heuristic distance (the LP optimum sits there)
        for step in range(1, levels_per_client + 1, max(1, levels_per_client // 2)):
            kk = np.maximum(k0 - step, 0)
            seed.append((all_clients, kk, rad.ds[all_clients, kk]))
    for clients, kk, vv in seed:
        keep = kk > 0
        if keep.any():
            master.add_rows(rad.cuts(clients[keep], kk, vv, m), vv[keep], np.full(int(keep.sum()), np.inf))

    # ---- LP of the radius formulation by Benders cuts
    lower = -math.inf
    status = "not solved"
    lp_rounds = 0
    y_lp = None
    alpha = stab_alpha
    free_share = max(0, p - fixed.size) / max(1, m - fixed.size)
    core = 0.5 * y0 + 0.5 * np.where(fixed_mask, 1.0, free_share)
    while True:
        lp_rounds += 1
        progress(min(60, 5 + 3 * lp_rounds), f"p-median: LP bound, round {lp_rounds}")
        left = remaining()
        if left is not None and left <= 0.05:
            status = "time limit"
            break
        out = master.solve(time_limit=left)
        if _DEBUG:
            print(f"    LP round {lp_rounds}: {out.seconds:.2f}s obj {out.objective:.6g} rows {master.n_row}")
        if out.x is None:
            status = out.status
            break
        y_lp, theta = out.x[:m], out.x[m:]
        lower = max(lower, out.objective)
        if upper - lower <= _tol(upper):
            break
        # in-out stabilisation (Ben-Ameur & Neto 2007): separate between the LP point
        # and a core point; fall back to the LP point when that cuts nothing off
        bad = np.zeros(n, dtype=bool)
        for a in ((alpha, 1.0) if alpha < 1.0 else (1.0,)):
            k, v, _ = rad.levels(a * y_lp + (1.0 - a) * core)
            value = rad.value(k, v, y_lp)
            bad = theta < value - 1e-7 * np.maximum(1.0, value)
            if bad.any():
                break
            alpha = 1.0
        if not bad.any():
            break
        core = 0.5 * core + 0.5 * y_lp
        clients = np.flatnonzero(bad)
        master.add_rows(rad.cuts(clients, k, v, m), v[clients], np.full(clients.size, np.inf))
    stats.update(lp_rounds=lp_rounds, lp_bound=lower, t_lp=time.perf_counter() - t0, cuts=master.n_row)

    def consider(y_sites: np.ndarray) -> None:
        nonlocal best, upper, dbest
        _, dy = nearest_open(d, y_sites)
        c = _total(w, dy)
        if c < upper:
            best, upper, dbest = np.sort(y_sites), c, dy

    mip_rounds = 0
    if y_lp is not None and upper - lower > _tol(upper) and status != "time limit":
        frac = (y_lp > 1e-6) & (y_lp < 1 - 1e-6)
        if not frac.any():
            consider(np.flatnonzero(y_lp > 0.5))
        else:
            # LP rounding: the p largest y, improved by interchange
            progress(62, "p-median: LP rounding")
            order = np.argsort(-(y_lp + 2.0 * fixed_mask))[:p]
            alt = pmedian_heuristic(d, w_heur, p, fixed, max_seconds=10.0, feedback=feedback,
                                    initial=np.setdiff1d(order, fixed),
                                    deadline=None if time_limit is None else deadline)
            consider(alt)
        rc = master.reduced_costs()[:m]
        lp_bound = lower
        while upper - lower > _tol(upper):
            mip_rounds += 1
            progress(min(95, 65 + 5 * mip_rounds), f"p-median: branch and Benders cut, round {mip_rounds}")
            # reduced-cost fixing against the best cost (valid: the master LP is a relaxation)
            slack = upper - lp_bound - _tol(upper)
            close = (y_lp < 1e-9) & (rc > slack) & ~fixed_mask
            open_ = (y_lp > 1 - 1e-9) & (-rc > slack)
            ylo = np.where(open_ | fixed_mask, 1.0, 0.0)
            yhi = np.where(close, 0.0, 1.0)
            master.set_bounds(np.arange(m), ylo, yhi)
            if mip_rounds == 1:
                master.set_integer(np.arange(m))
            stats["fixed_closed"], stats["fixed_open"] = int(close.sum()), int(open_.sum())
            x0 = np.concatenate([np.isin(np.arange(m), best).astype(float), dbest])
            left = remaining()
            if left is not None and left <= 0.05:
                status = "time limit"
                break
            out = master.solve(time_limit=left, start=x0 if math.isfinite(upper) else None)
            status = out.status
            if math.isfinite(out.bound):
                lower = max(lower, min(out.bound, upper))
            if out.x is None:
                if out.status.lower().startswith("infeasible"):
                    lower = upper  # nothing beats the incumbent (fixings exclude all else)
                break
            sols = [out.x] + [s for s in master.found if s.size == m + n]
            new_rows = []
            for x in sols:
                if feedback is not None:
                    feedback.check()
                ys = np.flatnonzero(x[:m] > 0.5)
                consider(ys)
                yint = np.zeros(m)
                yint[ys] = 1.0
                k, v, value = rad.levels(yint)
                bad = x[m:] < value - 1e-7 * np.maximum(1.0, value)
                if bad.any():
                    new_rows.append((np.flatnonzero(bad), k, v))
            if upper - lower <= _tol(upper) or not out.optimal:
                break
            if not new_rows:
                break  # the master's optimum is exact: its bound is final
            for clients, k, v in new_rows:
                master.add_rows(rad.cuts(clients, k, v, m), v[clients], np.full(clients.size, np.inf))
    gap = math.inf
    if math.isfinite(upper) and math.isfinite(lower):
        diff = upper - lower
        gap = 0.0 if diff <= _tol(upper) else diff / max(abs(upper), 1e-12)
    optimal = gap == 0.0
    stats.update(mip_rounds=mip_rounds, cuts_final=master.n_row)
    if _DEBUG:
        print("  p-median:", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.items()})
    return {
        "selected": best,
        "objective": upper,
        "bound": min(lower, upper) if math.isfinite(lower) else None,
        "gap": gap,
        "optimal": optimal,
        "status": "optimal" if optimal else status,
        "rounds": lp_rounds + mip_rounds,
        "seconds": time.perf_counter() - t0,
        "stats": stats,
    }


def _tol(value: float) -> float:
    """Absolute tolerance at which a bound meets a cost (HiGHS's own MIP tolerances)."""
    return max(1e-6, 1e-9 * abs(value)) if math.isfinite(value) else 0.0

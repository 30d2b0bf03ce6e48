"""p-median engine (Benders LP of the radius formulation, fixing, branch-and-cut) and the MCLP LP shortcut."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from gridtool import siting
from gridtool.errors import Cancelled
from gridtool.feedback import Feedback
from gridtool.siting_highs import IncrementalModel
from gridtool.siting_orlib import read_pmed, read_pmed_optima
from gridtool.siting_pmedian import _aggregate, _Radius, pmedian_exact

DATA = Path(__file__).parent / "data" / "orlib"


def _brute(d, w, p, fixed=()):
    m = d.shape[1]
    best = np.inf
    for c in itertools.combinations(range(m), p):
        dist = d[:, list(c)].min(axis=1)
        if all(f in c for f in fixed) and np.isfinite(dist).all():
            best = min(best, float(w @ dist))
    return best


def test_radius_cut_is_the_subproblem_value():
    # client 0: candidates at 1, 3, 6; with y = (0.5, 0.5, 0) it is served half at 1, half at 3
    d = np.array([[3.0, 1.0, 6.0], [2.0, 2.0, 9.0]])
    rad = _Radius(d)
    k, v, value = rad.levels(np.array([0.5, 0.5, 0.0]))
    assert v.tolist() == [3.0, 2.0]
    assert value.tolist() == pytest.approx([2.0, 2.0])
    # an integral point: the value is the distance to the nearest open site
    _, _, value = rad.levels(np.array([0.0, 0.0, 1.0]))
    assert value.tolist() == [6.0, 9.0]
    # the cut row: θ_0 + (3 − 1)·y_1 ≥ 3 (candidate 1 is the one closer than V = 3)
    k, v, _ = rad.levels(np.array([0.5, 0.5, 0.0]))
    row = rad.cuts(np.array([0]), k, v, 3).toarray()
    assert row.tolist() == [[0.0, 2.0, 0.0, 1.0, 0.0]]


def test_aggregate_merges_identical_rows_and_drops_zero_weights():
    d = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = np.array([2.0, 3.0, 0.0, 1.0])
    da, wa = _aggregate(d, w)
    assert sorted(map(tuple, da.tolist())) == [(1.0, 2.0), (5.0, 6.0)]
    assert dict(zip(map(tuple, da.tolist()), wa.tolist())) == {(1.0, 2.0): 5.0, (5.0, 6.0): 1.0}


def test_pmedian_with_unreachable_pairs_duplicates_and_zero_weights_matches_brute_force():
    rng = np.random.default_rng(21)
    checked = 0
    for _ in range(30):
        n, m = int(rng.integers(5, 14)), int(rng.integers(3, 8))
        d = rng.integers(1, 40, size=(n, m)).astype(float)
        d[rng.random((n, m)) < 0.3] = np.inf
        d[np.arange(n), rng.integers(0, m, n)] = rng.integers(1, 40, n)  # every client reaches one site
        d[n // 2] = d[0]  # a duplicate client
        w = rng.integers(0, 4, size=n).astype(float)
        p = int(rng.integers(1, m + 1))
        best = _brute(d, w, p)
        if not np.isfinite(best):
            continue
        res = siting.p_median(d, w, p)
        assert res.optimal and res.gap == 0
        assert res.objective == pytest.approx(best)
        assert np.isfinite(res.distance).all()  # zero-weight points are reached too
        assert res.objective == pytest.approx(float(w @ res.distance))
        checked += 1
    assert checked >= 15


def test_fractional_lp_is_closed_by_fixing_and_cut_rounds():
    # OR-Library pmed2: the LP bound (4088.5) is below the optimum 4093, so the master runs as a MIP
    opt = read_pmed_optima(DATA / "pmedopt.txt")
    d, p = read_pmed(DATA / "pmed2.txt")
    res = siting.p_median(d, np.ones(d.shape[0]), p)
    stats = res.info["stats"]
    assert round(res.objective) == opt["pmed2"] and res.optimal
    assert stats["lp_bound"] < opt["pmed2"] - 1
    assert stats["mip_rounds"] >= 1 and stats["fixed_closed"] > 0
    assert res.lower_bound == pytest.approx(res.objective)


def test_integral_lp_needs_no_branching():
    rng = np.random.default_rng(4)
    d = cdist(rng.uniform(0, 10_000, (600, 2)), rng.uniform(0, 10_000, (50, 2)))
    w = rng.integers(1, 100, 600).astype(float)
    out = pmedian_exact(d, w, 5)
    assert out["optimal"]
    if out["stats"]["mip_rounds"] == 0:
        assert out["stats"]["lp_bound"] == pytest.approx(out["objective"], rel=1e-9)
    # a start worse than the optimum is improved, and the proof is unchanged
    bad_start = np.arange(5)
    out2 = pmedian_exact(d, w, 5, start=bad_start)
    assert out2["optimal"] and out2["objective"] == pytest.approx(out["objective"])
    assert out2["objective"] <= w @ d[:, bad_start].min(axis=1)


def test_fixed_sites_stay_open_in_the_proof():
    rng = np.random.default_rng(8)
    d = cdist(rng.uniform(0, 1000, (40, 2)), rng.uniform(0, 1000, (9, 2)))
    w = rng.integers(1, 10, 40).astype(float)
    res = siting.p_median(d, w, 3, fixed=[4, 7])
    assert {4, 7} <= set(res.selected.tolist()) and len(res.selected) == 3
    assert res.objective == pytest.approx(_brute(d, w, 3, (4, 7)))


def test_cancel_stops_the_proof():
    rng = np.random.default_rng(2)
    d = cdist(rng.uniform(0, 1000, (200, 2)), rng.uniform(0, 1000, (30, 2)))
    fb = Feedback()
    fb.cancel()
    with pytest.raises(Cancelled):
        siting.p_median(d, np.ones(200), 4, feedback=fb)


def test_incremental_model_lp_rows_then_mip():
    # max x + y ⇔ min −x − y, x, y ∈ [0, 3]; rows added between solves
    mdl = IncrementalModel(np.array([-1.0, -1.0]), np.zeros(2), np.full(2, 3.0))
    mdl.add_rows(sp.csr_matrix([[2.0, 2.0]]), [-np.inf], [5.0])
    out = mdl.solve()
    assert out.optimal and out.objective == pytest.approx(-2.5)
    mdl.add_rows(sp.csr_matrix([[1.0, 0.0]]), [-np.inf], [0.5])
    out = mdl.solve()
    assert out.objective == pytest.approx(-2.5) and out.x[0] <= 0.5 + 1e-9
    mdl.set_integer(np.array([0, 1]))
    out = mdl.solve(start=np.array([0.0, 2.0]))
    assert out.optimal and out.objective == pytest.approx(-2.0)
    assert out.x.tolist() == pytest.approx([0.0, 2.0])
    mdl.set_bounds(np.array([1]), np.array([0.0]), np.array([1.0]))
    assert mdl.solve().objective == pytest.approx(-1.0)


def test_mclp_integral_lp_shortcut_and_fractional_fallback():
    # four points, two sites: the LP relaxation reaches 3.5 with halves, the MIP proves 3
    cover = np.array([[0, 1, 0, 1], [1, 0, 0, 1], [0, 0, 1, 0], [1, 1, 0, 0]])
    d = np.where(cover == 1, 1.0, 9.0)
    res = siting.mclp(d, np.ones(4), 2.0, 2)
    assert res.objective == 3 and res.optimal and not res.info["lp_integral"]
    assert res.covered.sum() == 3 and len(res.selected) == 2
    # two clusters: the LP is integral and no search is run
    x_d = np.array([0, 1, 2, 10, 11, 12]) * 1000.0
    x_c = np.array([1, 11, 6]) * 1000.0
    d = np.abs(x_d[:, None] - x_c[None, :])
    res = siting.mclp(d, np.array([1, 1, 1, 5, 5, 5.0]), 1000, 1)
    assert res.selected.tolist() == [1] and res.objective == 15
    assert res.optimal and res.info["lp_integral"] and res.lower_bound == pytest.approx(15)


def _many_sites(n=3000, m=800, seed=11):
    rng = np.random.default_rng(seed)
    d = cdist(rng.uniform(0, 10_000, (n, 2)), rng.uniform(0, 10_000, (m, 2)))
    return d, rng.integers(1, 50, n).astype(float)


def test_pmedian_cancel_during_greedy_heuristic_is_prompt():
    # p=400 of 800: the greedy start alone takes seconds (400 passes over 3000 x 800)
    import threading
    import time

    d, w = _many_sites()
    fb = Feedback()
    threading.Timer(0.3, fb.cancel).start()
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        siting.p_median(d, w, 400, feedback=fb)
    assert time.perf_counter() - t0 < 1.3


def test_pmedian_time_limit_holds_in_the_heuristic():
    import time

    d, w = _many_sites()
    t0 = time.perf_counter()
    res = siting.p_median(d, w, 400, time_limit=0.3)
    assert time.perf_counter() - t0 < 1.3
    assert len(res.selected) == 400 and not res.optimal
    assert res.objective == pytest.approx(float(w @ d[:, res.selected].min(axis=1)))


def test_pmedian_heuristic_deadline_still_opens_p_sites():
    import time

    from gridtool.siting_pmedian import pmedian_heuristic

    d, w = _many_sites(n=200, m=50)
    sel = pmedian_heuristic(d, w, 20, np.array([3]), deadline=time.perf_counter())
    assert sel.size == 20 and 3 in sel and np.unique(sel).size == 20

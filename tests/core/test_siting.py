"""Siting array core: brute-force optima on tiny instances, hand-built answers, errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from gridtool import siting
from gridtool.errors import InfeasibleError, InputError


def _instances(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n, m = int(rng.integers(4, 12)), int(rng.integers(3, 7))
        d = rng.integers(0, 30, size=(n, m)).astype(float)
        w = rng.integers(0, 5, size=n).astype(float)
        yield d, w, float(rng.integers(5, 20)), int(rng.integers(1, m + 1))


def _combos(m, p, must=()):
    return [c for c in itertools.combinations(range(m), p) if all(f in c for f in must)]


def test_lscp_matches_brute_force():
    checked = 0
    for d, _, r, _ in _instances(1, 25):
        a = d <= r
        if not a.any(axis=1).all():
            continue
        m = d.shape[1]
        best = min(k for k in range(1, m + 1) if any(a[:, list(c)].any(axis=1).all() for c in _combos(m, k)))
        res = siting.lscp(d, r)
        assert res.objective == best == len(res.selected)
        assert res.optimal and res.gap == 0
        assert a[:, res.selected].any(axis=1).all()
        assert res.covered.all()
        checked += 1
    assert checked >= 10


def test_mclp_matches_brute_force_with_fixed():
    for d, w, r, p in _instances(2, 25):
        m = d.shape[1]
        a = d <= r
        fixed = [0]
        best = max(w[a[:, list(c)].any(axis=1)].sum() for c in _combos(m, p, fixed))
        res = siting.mclp(d, w, r, p, fixed=fixed)
        assert res.objective == pytest.approx(best)
        assert len(res.selected) == p and 0 in res.selected
        assert res.optimal


def test_p_median_matches_brute_force_with_fixed():
    for d, w, _, p in _instances(3, 25):
        m = d.shape[1]
        fixed = [m - 1]
        best = min(w @ d[:, list(c)].min(axis=1) for c in _combos(m, p, fixed))
        res = siting.p_median(d, w, p, fixed=fixed)
        assert res.objective == pytest.approx(best)
        assert res.optimal and res.gap == 0 and m - 1 in res.selected
        assert (res.assignment >= 0).all()
        assert res.objective == pytest.approx(float(w @ d[np.arange(len(d)), res.assignment]))


def test_p_center_matches_brute_force():
    for d, _, _, p in _instances(4, 25):
        m = d.shape[1]
        best = min(d[:, list(c)].min(axis=1).max() for c in _combos(m, p))
        res = siting.p_center(d, p)
        assert res.objective == pytest.approx(best)
        assert res.optimal and len(res.selected) == p


def test_capacitated_matches_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(12):
        n, m = int(rng.integers(3, 7)), int(rng.integers(2, 4))
        d = rng.integers(1, 20, size=(n, m)).astype(float)
        q = rng.integers(1, 4, size=n).astype(float)
        cap = rng.integers(4, 12, size=m).astype(float)
        if cap.sum() < q.sum() or (q > cap.max()).any():
            continue
        best = np.inf
        for assign in itertools.product(range(m), repeat=n):
            load = np.bincount(assign, weights=q, minlength=m)
            if (load <= cap).all():
                best = min(best, float((q * d[np.arange(n), assign]).sum()))
        res = siting.capacitated(d, q, cap)
        assert res.objective == pytest.approx(best)
        load = np.bincount(res.assignment, weights=q, minlength=m)
        assert (load <= cap + 1e-9).all()


def test_capacitated_with_p_and_opening_cost():
    # two demand groups far apart; one big site could take all but is costly to open
    d = np.array([[1.0, 10.0, 5.0], [1.0, 10.0, 5.0], [10.0, 1.0, 5.0], [10.0, 1.0, 5.0]])
    q = np.array([1.0, 1.0, 1.0, 1.0])
    cap = np.array([2.0, 2.0, 4.0])
    res = siting.capacitated(d, q, cap, p=1)
    assert res.selected.tolist() == [2] and res.objective == pytest.approx(20.0)
    res = siting.capacitated(d, q, cap, opening_cost=[1.0, 1.0, 100.0])
    assert res.selected.tolist() == [0, 1] and res.objective == pytest.approx(4.0 + 2.0)


def test_points_on_a_line_known_answers():
    # demand at 0, 1, 2, 10, 11, 12 km; candidates at 1 and 11 km and 6 km
    x_d = np.array([0, 1, 2, 10, 11, 12]) * 1000.0
    x_c = np.array([1, 11, 6]) * 1000.0
    d = np.abs(x_d[:, None] - x_c[None, :])
    assert siting.lscp(d, 1000).selected.tolist() == [0, 1]
    assert siting.lscp(d, 6000).selected.tolist() == [2]
    res = siting.p_median(d, np.ones(6), 2)
    assert res.selected.tolist() == [0, 1] and res.objective == pytest.approx(4000)
    assert res.assignment.tolist() == [0, 0, 0, 1, 1, 1]
    res = siting.p_center(d, 1)
    assert res.selected.tolist() == [2] and res.objective == pytest.approx(6000)
    res = siting.mclp(d, np.array([1, 1, 1, 5, 5, 5.0]), 1000, 1)
    assert res.selected.tolist() == [1] and res.objective == pytest.approx(15)


def test_sparse_cost_equals_dense():
    rng = np.random.default_rng(7)
    xy_d = rng.uniform(0, 5000, (400, 2))
    xy_c = rng.uniform(0, 5000, (40, 2))
    from scipy.spatial import cKDTree
    from scipy.spatial.distance import cdist

    dense = cdist(xy_d, xy_c)
    r = 1200.0
    sparse = cKDTree(xy_d).sparse_distance_matrix(cKDTree(xy_c), r, output_type="coo_matrix").tocsr()
    w = rng.integers(1, 50, 400).astype(float)
    a, b = siting.lscp(dense, r), siting.lscp(sparse, r)
    assert a.objective == b.objective and a.optimal and b.optimal
    a, b = siting.mclp(dense, w, r, 5), siting.mclp(sparse, w, r, 5)
    assert a.objective == pytest.approx(b.objective)


def test_medium_instance_reductions_and_proof():
    rng = np.random.default_rng(11)
    from scipy.spatial.distance import cdist

    d = cdist(rng.uniform(0, 10000, (800, 2)), rng.uniform(0, 10000, (60, 2)))
    w = rng.integers(1, 100, 800).astype(float)
    res = siting.lscp(d, 2500)
    assert res.optimal and res.info["reduction"]["rows"][1] < 800
    pm = siting.p_median(d, w, 6)
    assert pm.optimal and pm.lower_bound == pytest.approx(pm.objective, rel=1e-9)
    # the heuristic start is never better than the proven optimum
    from gridtool.siting_pmedian import pmedian_heuristic

    h = pmedian_heuristic(d, w, 6)
    assert w @ d[:, h].min(axis=1) >= pm.objective - 1e-6


def test_time_limit_returns_best_with_gap():
    rng = np.random.default_rng(3)
    from scipy.spatial.distance import cdist

    d = cdist(rng.uniform(0, 10000, (300, 2)), rng.uniform(0, 10000, (40, 2)))
    res = siting.p_median(d, np.ones(300), 5, time_limit=30)
    assert res.seconds < 30 and len(res.selected) == 5
    assert res.optimal == (res.gap == 0)


# ---------------------------------------------------------------------------- errors
def test_radius_no_candidate_can_meet_names_points():
    d = np.array([[1.0, 2.0], [50.0, 60.0], [3.0, 1.0], [70.0, 80.0]])
    with pytest.raises(InfeasibleError, match=r"demand points 1, 3 \(2 in all\)"):
        siting.lscp(d, 10)


def test_p_larger_than_candidates():
    with pytest.raises(InfeasibleError, match="p=5 is larger than the number of candidates \\(3\\)"):
        siting.p_median(np.ones((4, 3)), np.ones(4), 5)


def test_p_below_fixed():
    with pytest.raises(InfeasibleError, match="smaller than the 2 fixed"):
        siting.mclp(np.ones((4, 3)), np.ones(4), 1.0, 1, fixed=[0, 1])


def test_capacity_below_demand_says_numbers():
    with pytest.raises(InfeasibleError, match="total capacity 5 t/d is below total demand 6 t/d"):
        siting.capacitated(np.ones((3, 2)), [2, 2, 2], [2, 3])
    with pytest.raises(InfeasibleError, match="the 1 sites can hold at most 4 t/d"):
        siting.capacitated(np.ones((3, 2)), [2, 2, 2], [4, 3], p=1)
    with pytest.raises(InfeasibleError, match="demand points 0"):
        siting.capacitated(np.ones((3, 2)), [5, 1, 1], [4, 4])


def test_nan_cost_names_points():
    d = np.ones((5, 2))
    d[3, 1] = np.nan
    with pytest.raises(InputError, match=r"NaN distances for demand points 3"):
        siting.p_median(d, np.ones(5), 1)
    with pytest.raises(InputError, match="NaN"):
        siting.lscp(sp.csr_matrix(np.where(np.isnan(d), np.nan, d)), 2)


def test_bad_weights_and_fixed():
    with pytest.raises(InputError, match="weights are NaN"):
        siting.p_median(np.ones((3, 2)), [1, np.nan, 1], 1)
    with pytest.raises(InputError, match="fixed has candidate indices 7"):
        siting.p_median(np.ones((3, 2)), [1, 1, 1], 1, fixed=[7])
    with pytest.raises(InputError, match="unreachable|cannot reach"):
        siting.p_median(np.array([[1.0, 2.0], [np.inf, np.inf]]), [1, 1], 1)


def test_capacitated_cost_per_tpd_m_weighs_transport_against_opening_costs():
    # two towns 10 km apart, one candidate in each; each site can take all the waste
    d = np.array([[0.0, 10_000.0], [0.0, 10_000.0], [10_000.0, 0.0], [10_000.0, 0.0]])
    q = np.array([1.0, 1.0, 1.0, 1.0])
    cap = np.array([4.0, 4.0])
    fc = np.array([1_000.0, 1_000.0])  # 万元
    plain = siting.capacitated(d, q, cap, opening_cost=fc)  # t/d·m counted as cost: 20,000 > 1,000 → two sites
    assert plain.selected.tolist() == [0, 1] and plain.objective == pytest.approx(2_000.0)
    assert plain.info["transport_tpd_m"] == 0.0 and plain.info["opening_cost"] == 2_000.0
    assert plain.info["cost_per_tpd_m"] == 1.0
    rate = siting.transport_rate(2.0, years=10)  # 2 元/t·km over 10 years, in 万元 per t/d·m
    assert rate == pytest.approx(2.0 / 1000 * 365 * 10 / 10_000)
    priced = siting.capacitated(d, q, cap, opening_cost=fc, cost_per_tpd_m=rate)  # 14.6 万元 < 1,000 → one site
    assert len(priced.selected) == 1 and priced.optimal
    assert priced.info["transport_tpd_m"] == pytest.approx(20_000.0)
    assert priced.info["transport_cost"] == pytest.approx(20_000.0 * rate)
    assert priced.objective == pytest.approx(priced.info["transport_cost"] + priced.info["opening_cost"])
    with pytest.raises(InputError, match="cost_per_tpd_m=0"):
        siting.capacitated(d, q, cap, opening_cost=fc, cost_per_tpd_m=0)
    with pytest.raises(InputError, match="yuan_per_t_km"):
        siting.transport_rate(-1.0)


def test_mclp_lp_gets_the_time_left_after_preprocessing(monkeypatch):
    import time

    real_dom, real_solve = siting._dominated_columns, siting.solve_mip
    limits = []

    def slow_dom(*a, **k):
        time.sleep(0.3)
        return real_dom(*a, **k)

    def spy(*a, **k):
        limits.append(k.get("time_limit"))
        return real_solve(*a, **k)

    monkeypatch.setattr(siting, "_dominated_columns", slow_dom)
    monkeypatch.setattr(siting, "solve_mip", spy)
    rng = np.random.default_rng(5)
    d = rng.uniform(0, 100, size=(30, 8))
    siting.mclp(d, np.ones(30), 30.0, 2, time_limit=1.0)
    assert limits and limits[0] <= 0.75

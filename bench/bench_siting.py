"""Siting models: ours (HiGHS with reductions / Benders) vs PySAL spopt (PuLP + CBC) and a textbook model.

Run: ``.venv/bin/python bench/bench_siting.py`` (``--quick`` or ``BENCH_QUICK=1`` for one
repeat and shorter peer time limits; ``--orlib-only`` runs only part 3; ``--textbook-max-n N`` runs the textbook model on
the OR-Library instances with at most N vertices only, default 300, because at its
time limit it takes minutes per large instance).

Instance: 5,000 weighted demand points × 300 candidates drawn uniformly in a 20 km
square (seed 20240601, weights 1–100), Euclidean distances.

1. LSCP (radius 2,500 m) and MCLP (p = 15, radius 2,000 m): ours vs spopt + CBC in the
   same run; objectives must be equal, ratio printed.
2. p-median (p = 15): ours to proof (gap 0) vs the textbook x_ij model handed to HiGHS
   with a time limit, whose gap at the limit is printed.
3. OR-Library p-median: every ``pmedN.txt`` present in ``bench/data/orlib/`` solved by
   ours and by the textbook HiGHS model, each checked against the published optimum
   (``pmedopt.txt``); total time printed.
"""
from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import compare, quick  # noqa: E402

from gridtool import siting  # noqa: E402
from gridtool.siting_highs import solve_mip  # noqa: E402
from gridtool.siting_orlib import read_pmed, read_pmed_optima  # noqa: E402

ORLIB = Path(__file__).resolve().parent / "data" / "orlib"


def instance(n: int = 5000, m: int = 300, side_m: float = 20_000.0, seed: int = 20240601):
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, side_m, (n, 2))
    cand = rng.uniform(0, side_m, (m, 2))
    weights = rng.integers(1, 101, n).astype(float)
    return cdist(demand, cand), weights


def textbook_pmedian(cost: np.ndarray, weights: np.ndarray, p: int, time_limit: float):
    """min Σ w_i d_ij x_ij, Σ_j x_ij = 1, x_ij ≤ y_j, Σ y = p (x continuous, y binary)."""
    n, m = cost.shape
    k = n * m
    ii = np.repeat(np.arange(n), m)
    jj = np.tile(np.arange(m), n)
    c = np.concatenate([(weights[:, None] * cost).ravel(), np.zeros(m)])
    a_assign = sp.csr_matrix((np.ones(k), (ii, np.arange(k))), shape=(n, k + m))
    a_link = sp.csr_matrix((np.concatenate([np.ones(k), -np.ones(k)]),
                            (np.concatenate([np.arange(k)] * 2), np.concatenate([np.arange(k), k + jj]))),
                           shape=(k, k + m))
    a_p = sp.csr_matrix((np.ones(m), (np.zeros(m, dtype=int), k + np.arange(m))), shape=(1, k + m))
    a = sp.vstack([a_assign, a_link, a_p])
    rlo = np.concatenate([np.ones(n), np.full(k, -np.inf), [p]])
    rhi = np.concatenate([np.ones(n), np.zeros(k), [p]])
    integer = np.concatenate([np.zeros(k, bool), np.ones(m, bool)])
    return solve_mip(c, a, rlo, rhi, np.zeros(k + m), np.ones(k + m), integer, time_limit=time_limit)


def spopt_solver():
    import pulp

    return pulp.PULP_CBC_CMD(msg=False)


def instance_cases() -> None:
    q = quick()
    from spopt.locate import LSCP, MCLP

    cost, w = instance()
    n, m = cost.shape
    print(f"instance: {n} demand × {m} candidates, 20 km square, seed 20240601")
    out: dict = {}

    # 1. LSCP
    r_lscp = 2500.0
    def ours_lscp():
        out["lscp"] = siting.lscp(cost, r_lscp)

    def peer_lscp():
        mdl = LSCP.from_cost_matrix(cost, r_lscp).solve(spopt_solver())
        out["lscp_peer"] = int(round(mdl.problem.objective.value()))

    res = compare(f"LSCP r={r_lscp:g} m", ours_lscp, peer_lscp, repeat=3, peer_repeat=1, peer_name="spopt+CBC")
    print(f"  objectives: ours {out['lscp'].objective:g} sites (optimal={out['lscp'].optimal}, "
          f"reduced {out['lscp'].info['reduction']}), spopt {out['lscp_peer']} sites, "
          f"equal={out['lscp'].objective == out['lscp_peer']}, ratio {res['ratio']:.1f}×")

    # 2. MCLP
    r_mclp, p = 2000.0, 15
    def ours_mclp():
        out["mclp"] = siting.mclp(cost, w, r_mclp, p)

    def peer_mclp():
        mdl = MCLP.from_cost_matrix(cost, w, r_mclp, p_facilities=p).solve(spopt_solver())
        out["mclp_peer"] = float(mdl.problem.objective.value())

    res = compare(f"MCLP p={p} r={r_mclp:g} m", ours_mclp, peer_mclp, repeat=3, peer_repeat=1, peer_name="spopt+CBC")
    print(f"  objectives: ours {out['mclp'].objective:,.0f} (optimal={out['mclp'].optimal}), spopt "
          f"{out['mclp_peer']:,.0f}, equal={abs(out['mclp'].objective - out['mclp_peer']) < 1e-6}, "
          f"ratio {res['ratio']:.1f}×")

    # 3. p-median
    times = []
    for _ in range(1 if q else 3):
        t0 = time.perf_counter()
        pm = siting.p_median(cost, w, p)
        times.append(time.perf_counter() - t0)
    t_ours = float(np.median(times))
    st = pm.info.get("stats", {})
    print(f"p-median p={p}: ours median {t_ours:.1f} s (runs {', '.join(f'{t:.1f}' for t in times)} s), objective "
          f"{pm.objective:,.1f}, proven optimal={pm.optimal}, gap {pm.gap:.2e}, bound {pm.lower_bound:,.1f}; "
          f"LP bound {st.get('lp_bound', float('nan')):,.1f} after {st.get('lp_rounds')} cut rounds, "
          f"{st.get('mip_rounds')} MIP rounds")
    tl = 60.0 if q else 120.0
    t0 = time.perf_counter()
    tb = textbook_pmedian(cost, w, p, tl)
    t_tb = time.perf_counter() - t0
    gap = "unknown (no bound)" if not math.isfinite(tb.gap) else f"{tb.gap:.2%}"
    print(f"  textbook x_ij model on HiGHS: {t_tb:.1f} s ({tb.status}), objective "
          f"{tb.objective:,.1f}, gap at the limit {gap}; ratio (time to its limit)/ours ≥ {t_tb / t_ours:.1f}×")


def main() -> None:
    q = quick() or "--quick" in sys.argv
    if q:
        os.environ["BENCH_QUICK"] = "1"
    import warnings

    warnings.filterwarnings("ignore")
    if "--orlib-only" not in sys.argv:  # the 5,000 x 300 instance against spopt and the textbook model
        instance_cases()

    # 4. OR-Library
    optima = read_pmed_optima(ORLIB / "pmedopt.txt")
    names = sorted((f.stem for f in ORLIB.glob("pmed*.txt") if f.stem != "pmedopt"), key=lambda s: int(s[4:]))
    missing = [k for k in optima if k not in names]
    max_n = 300
    if "--textbook-max-n" in sys.argv:
        max_n = int(sys.argv[sys.argv.index("--textbook-max-n") + 1])
    total_ours = total_tb = tb_total_ours = 0.0
    all_ok = True
    for name in names:
        d, pp = read_pmed(ORLIB / f"{name}.txt")
        ones = np.ones(d.shape[0])
        t0 = time.perf_counter()
        r = siting.p_median(d, ones, pp)
        t1 = time.perf_counter() - t0
        total_ours += t1
        ok = r.optimal and round(r.objective) == optima[name]
        all_ok &= ok
        line = (f"  {name} (n={d.shape[0]}, p={pp}): ours {r.objective:g} in {t1:.2f} s proven={r.optimal}, "
                f"published {optima[name]}, match={ok}")
        if d.shape[0] <= max_n:
            t0 = time.perf_counter()
            tb = textbook_pmedian(d, ones, pp, 60.0 if q else 300.0)
            t2 = time.perf_counter() - t0
            total_tb += t2
            tb_total_ours += t1
            line += f"; textbook HiGHS {tb.objective:g} in {t2:.2f} s ({tb.status}), ratio {t2 / t1:.1f}×"
        print(line, flush=True)
    print(f"OR-Library: {len(names)} instances, ours total {total_ours:.2f} s, all at the published optimum and "
          f"proven: {all_ok}; on the instances with n ≤ {max_n}: ours {tb_total_ours:.2f} s, "
          f"textbook HiGHS {total_tb:.2f} s")
    if missing:
        print(f"  not in bench/data/orlib (not benchmarked): {', '.join(missing)}")


if __name__ == "__main__":
    main()

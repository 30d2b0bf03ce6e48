"""Cancel and time limit of the HiGHS bridge in phases where HiGHS offers no interrupt point.

Presolve and the MIP's root LP call no callback (measured on the sample district's
capacitated model: 20–30 s each). A slowed-down ``Highs.run`` stands in for them here:
it sleeps without any callback before solving.
"""
from __future__ import annotations

import threading
import time

import highspy
import numpy as np
import pytest

from gridtool import siting
from gridtool.errors import Cancelled
from gridtool.feedback import Feedback
from gridtool.siting_highs import IncrementalModel, solve_mip

STUCK_S = 6.0


@pytest.fixture
def stuck_highs(monkeypatch):
    """HiGHS that spends STUCK_S seconds in a phase without interrupt points."""
    real_run = highspy.Highs.run

    def slow_run(self):
        time.sleep(STUCK_S)
        return real_run(self)

    monkeypatch.setattr(highspy.Highs, "run", slow_run)


def _cover_model():
    # 3 demand rows, 3 sites; site 2 covers all: optimum 1
    a = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=float)
    return dict(c=np.ones(3), a=a, row_lower=np.ones(3), row_upper=np.full(3, np.inf), col_lower=np.zeros(3),
                col_upper=np.ones(3), integer=np.ones(3, dtype=bool))


def test_cancel_in_a_phase_without_interrupts_is_prompt(stuck_highs):
    fb = Feedback()
    threading.Timer(0.2, fb.cancel).start()
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        solve_mip(**_cover_model(), feedback=fb)
    assert time.perf_counter() - t0 < 2.0


def test_time_limit_in_a_phase_without_interrupts_returns_the_start(stuck_highs):
    start = np.array([1.0, 1.0, 0.0])
    t0 = time.perf_counter()
    out = solve_mip(**_cover_model(), time_limit=0.5, start=start)
    assert time.perf_counter() - t0 < 0.5 + 2.0 + 1.0
    assert not out.optimal and out.objective == 2.0 and np.array_equal(out.x, start)
    assert out.gap == np.inf and "time limit" in out.status.lower()


def test_incremental_model_cancel_is_prompt_and_model_is_retired(stuck_highs):
    fb = Feedback()
    model = IncrementalModel(np.ones(3), np.zeros(3), np.ones(3), feedback=fb)
    model.add_rows(np.array([[1.0, 0, 1], [0, 1, 1]]), np.ones(2), np.full(2, np.inf))
    threading.Timer(0.2, fb.cancel).start()
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        model.solve()
    assert time.perf_counter() - t0 < 2.0
    with pytest.raises(Cancelled):  # not run again while the abandoned solve may still be busy
        model.solve()


def test_capacitated_stuck_solver_returns_a_feasible_siting_within_the_limit(stuck_highs):
    rng = np.random.default_rng(3)
    d = rng.uniform(100, 3000, size=(40, 6))
    q = rng.uniform(1, 3, size=40)
    cap = np.full(6, q.sum() / 3)  # at least 3 of the 6 sites are needed
    t0 = time.perf_counter()
    res = siting.capacitated(d, q, cap, p=4, time_limit=0.5)
    assert time.perf_counter() - t0 < 0.5 + 2.0 + 1.0
    assert not res.optimal and len(res.selected) == 4 and (res.assignment >= 0).all()
    load = np.bincount(res.assignment, weights=q, minlength=6)
    assert (load <= cap + 1e-9).all()
    assert res.objective == pytest.approx(float(q @ d[np.arange(40), res.assignment]))


def test_capacitated_cancel_is_prompt(stuck_highs):
    rng = np.random.default_rng(4)
    d = rng.uniform(100, 3000, size=(30, 5))
    q = rng.uniform(1, 3, size=30)
    fb = Feedback()
    threading.Timer(0.3, fb.cancel).start()
    t0 = time.perf_counter()
    with pytest.raises(Cancelled):
        siting.capacitated(d, q, np.full(5, q.sum()), p=2, feedback=fb)
    assert time.perf_counter() - t0 < 2.3

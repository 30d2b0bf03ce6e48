"""A small bridge from sparse NumPy/SciPy models to the HiGHS MIP solver (highspy).

The siting models build their constraint matrices as SciPy sparse matrices and hand
them over here in one piece (``passModel``), which is much faster than adding rows one
by one. :func:`solve_mip` honours a time limit, accepts a starting solution (an upper
bound from a heuristic), lets a :class:`gridtool.feedback.Feedback` cancel the search
and reports the incumbent, the dual bound and the relative gap.

Cancel and time limit in every phase
    HiGHS calls its interrupt callbacks (``kCallbackMipInterrupt``,
    ``kCallbackSimplexInterrupt``, ``kCallbackIpmInterrupt``) only between some steps:
    measured on the sample district's capacitated model (1,494 × 43), no callback fires
    while presolve runs or while the MIP solves its root LP (the LP solver inside the MIP
    has no callbacks), 20–30 s each. HiGHS therefore runs in a worker thread
    (``Highs.run`` releases the GIL) while the calling thread polls the
    :class:`~gridtool.feedback.Feedback` every 50 ms. On Cancel the solver is asked to
    stop at its next interrupt point and :class:`Cancelled` is raised after at most
    :data:`CANCEL_WAIT_S` seconds, whether or not HiGHS has stopped yet; past the time
    limit plus :data:`TIME_GRACE_S` the call returns the start solution (if any) with an
    unknown gap. An abandoned solve keeps its worker thread busy until HiGHS reaches its
    next interrupt point or its own time limit, then ends by itself.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gridtool.errors import Cancelled
from gridtool.feedback import Feedback

_BANNER_LOCK = threading.Lock()
_BANNER_SHOWN = False


def new_highs():
    """A quiet ``highspy.Highs``; the banner HiGHS prints once per process goes to stderr.

    HiGHS writes "Running HiGHS ..." on the C stdout when the first instance is made,
    before any option can silence it; that would mix into command output that scripts
    read (``gridtool site ... > sites.txt``). The first construction therefore runs with
    file descriptor 1 pointed at stderr, and the C buffer is flushed before it is restored.
    """
    global _BANNER_SHOWN
    import ctypes
    import os
    import sys

    import highspy

    with _BANNER_LOCK:
        if _BANNER_SHOWN:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                os.dup2(2, 1)
                h = highspy.Highs()
                ctypes.CDLL(None).fflush(None)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h

__all__ = ["IncrementalModel", "MipOutcome", "solve_mip"]

INF = math.inf
CANCEL_WAIT_S = 1.0
"""Seconds a cancelled solve may take to stop before :class:`Cancelled` is raised anyway."""
TIME_GRACE_S = 2.0
"""Seconds past the time limit after which the caller stops waiting for HiGHS."""
_POLL_S = 0.05


class _Abandoned(Exception):
    """HiGHS did not stop within the time limit plus grace; the caller stopped waiting."""


def _subscribe_interrupts(h, should_stop) -> None:
    """Interrupt HiGHS at every interrupt point it offers (MIP, simplex, interior point)."""
    def _interrupt(event) -> None:  # runs inside HiGHS
        if should_stop():
            event.interrupt()

    for name in ("cbMipInterrupt", "cbSimplexInterrupt", "cbIpmInterrupt"):
        getattr(h, name).subscribe(_interrupt)


def _run_highs(h, feedback: Feedback | None, stop: threading.Event, wait_until: float) -> None:
    """Run ``h`` in a worker thread; raise Cancelled / _Abandoned without waiting for HiGHS.

    ``stop`` is what the interrupt callbacks look at (with the feedback's cancel flag);
    it is set when the caller gives up so the abandoned solve ends at its next chance.
    """
    done = threading.Event()
    error: list[BaseException] = []

    def work() -> None:
        try:
            h.run()
        except BaseException as exc:  # pragma: no cover - re-raised in the caller
            error.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name="highs-solve", daemon=True).start()
    while not done.wait(_POLL_S):
        if feedback is not None and feedback.cancelled:
            done.wait(CANCEL_WAIT_S)
            stop.set()
            raise Cancelled("cancelled by the user")
        if time.perf_counter() > wait_until:
            stop.set()
            raise _Abandoned()
    if error:
        raise error[0]


@dataclass
class MipOutcome:
    """What HiGHS returned for one model."""

    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    optimal: bool
    status: str
    seconds: float


def _relative_gap(objective: float, bound: float) -> float:
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return INF
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-10)


def solve_mip(
    c: np.ndarray,
    a: sp.spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    *,
    maximize: bool = False,
    offset: float = 0.0,
    time_limit: float | None = None,
    start: np.ndarray | None = None,
    feedback: Feedback | None = None,
    rel_gap: float = 0.0,
    threads: int | None = None,
    objective_cutoff: float | None = None,
    lp_solver: str | None = None,
    presolve: bool = True,
) -> MipOutcome:
    """Solve ``min/max c·x + offset`` s.t. ``row_lower ≤ A x ≤ row_upper``, bounds, integrality.

    Parameters
    ----------
    c, a, row_lower, row_upper, col_lower, col_upper
        The model; ``a`` is any SciPy sparse matrix (converted to CSC).
    integer
        Boolean mask of the integer columns.
    time_limit
        Seconds for this call, counted from its start (the model hand-over included);
        HiGHS gets what is left. When reached, the best solution found so far is returned
        with its gap; if HiGHS is stuck in a phase without interrupt points the call
        stops waiting :data:`TIME_GRACE_S` later and returns ``start`` (gap unknown).
    start
        A feasible column vector handed to HiGHS as the first incumbent.
    feedback
        Checked during the search; cancelling it raises :class:`Cancelled`.
    rel_gap
        Relative gap at which the search stops (0 means prove optimality).
    lp_solver
        HiGHS ``solver`` option for a pure LP (``"ipm"``: interior point then crossover
        to a vertex, ``"simplex"``; None leaves HiGHS's choice).
    presolve
        False switches HiGHS presolve off (for models it cannot reduce, where it only
        costs time without interrupt points).
    """
    import highspy

    t0 = time.perf_counter()
    a = sp.csc_matrix(a)
    a.sum_duplicates()
    n_col = a.shape[1]
    h = new_highs()
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if not presolve:
        h.setOptionValue("presolve", "off")
    if objective_cutoff is not None:
        h.setOptionValue("objective_bound", float(objective_cutoff))
    if lp_solver is not None:
        h.setOptionValue("solver", str(lp_solver))
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.asarray(col_lower, dtype=float)
    lp.col_upper_ = np.asarray(col_upper, dtype=float)
    lp.row_lower_ = np.asarray(row_lower, dtype=float)
    lp.row_upper_ = np.asarray(row_upper, dtype=float)
    lp.offset_ = float(offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = a.shape[0]
    integer = np.asarray(integer, dtype=bool)
    has_integer = bool(integer.any())
    if has_integer:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integer
        ]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h.passModel(lp)
    if start is not None and has_integer:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    stop = threading.Event()
    _subscribe_interrupts(h, lambda: stop.is_set() or (feedback is not None and feedback.cancelled))
    wait_until = INF
    if time_limit is not None:
        left = float(time_limit) - (time.perf_counter() - t0)
        h.setOptionValue("time_limit", max(0.01, left))
        wait_until = t0 + float(time_limit) + TIME_GRACE_S
    if feedback is not None:
        feedback.check()
    try:
        _run_highs(h, feedback, stop, wait_until)
    except _Abandoned:
        return _start_outcome(c, offset, start, maximize, t0)
    if feedback is not None and feedback.cancelled:
        raise Cancelled("cancelled by the user")
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    ok_status = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    x = None
    objective = INF if not maximize else -INF
    if has_integer:
        if info.primal_solution_status >= 1 or ok_status:
            x = np.asarray(h.getSolution().col_value, dtype=float)
            objective = float(info.objective_function_value)
        bound = float(info.mip_dual_bound)
        gap = 0.0 if ok_status else _relative_gap(objective, bound)
        if ok_status:
            bound = objective
    else:
        if ok_status:
            x = np.asarray(h.getSolution().col_value, dtype=float)
            objective = float(info.objective_function_value)
        bound = objective
        gap = 0.0 if ok_status else INF
    optimal = bool(ok_status and x is not None and gap <= max(rel_gap, 1e-9))
    return MipOutcome(x, objective, bound, gap, optimal, status, time.perf_counter() - t0)


def _start_outcome(c: np.ndarray, offset: float, start: np.ndarray | None, maximize: bool, t0: float) -> MipOutcome:
    """The outcome when HiGHS overran the time limit: the start solution, bound unknown."""
    status = "Time limit reached (solver did not stop in time)"
    if start is None:
        return MipOutcome(None, -INF if maximize else INF, -INF if not maximize else INF, INF, False, status,
                          time.perf_counter() - t0)
    x = np.asarray(start, dtype=float)
    obj = float(np.asarray(c, dtype=float) @ x + offset)
    return MipOutcome(x, obj, -INF if not maximize else INF, INF, False, status, time.perf_counter() - t0)


class IncrementalModel:
    """One HiGHS model grown row by row and re-solved warm (cutting-plane loops).

    Columns are added once; rows (cuts) are appended in CSR blocks between solves, and
    HiGHS re-optimises the LP from the previous basis. Columns can be switched to
    integer for a MIP solve, bounds fixed (reduced-cost fixing) and a start solution
    given. A :class:`gridtool.feedback.Feedback` cancels either solver.
    """

    def __init__(self, cost: np.ndarray, col_lower: np.ndarray, col_upper: np.ndarray, *,
                 feedback: Feedback | None = None) -> None:
        import highspy

        self._hs = highspy
        self.h = new_highs()
        self.feedback = feedback
        n = int(np.asarray(cost).size)
        self.n_col = n
        self.h.addVars(n, np.asarray(col_lower, dtype=float), np.asarray(col_upper, dtype=float))
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))
        self.found: list[np.ndarray] = []
        self._cost = np.asarray(cost, dtype=float)
        # set when a solve was abandoned (cancel, or stuck past its time limit): the
        # HiGHS object may still be running in its worker thread and is not used again
        self._stop = threading.Event()
        _subscribe_interrupts(self.h, lambda: self._stop.is_set() or (feedback is not None and feedback.cancelled))

        def _solution(event) -> None:  # every integer solution HiGHS finds
            self.found.append(np.array(event.data_out.mip_solution, dtype=float))

        self.h.cbMipSolution.subscribe(_solution)

    @property
    def n_row(self) -> int:
        return int(self.h.getNumRow())

    def add_rows(self, a: sp.spmatrix, lower: np.ndarray, upper: np.ndarray) -> None:
        """Append the rows of ``a`` (any sparse matrix with ``n_col`` columns)."""
        a = sp.csr_matrix(a)
        if a.shape[0] == 0 or self._stop.is_set():
            return
        a.sum_duplicates()
        self.h.addRows(a.shape[0], np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), a.nnz,
                       a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float))

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if cols.size and not self._stop.is_set():
            self.h.changeColsBounds(cols.size, cols, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))

    def set_integer(self, cols: np.ndarray, integer: bool = True) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if self._stop.is_set():
            return
        flag = np.full(cols.size, 1 if integer else 0, dtype=np.uint8)
        self.h.changeColsIntegrality(cols.size, cols, flag)

    def solve(self, *, time_limit: float | None = None, start: np.ndarray | None = None,
              rel_gap: float = 0.0) -> MipOutcome:
        """Solve the current model (LP or MIP, whichever its columns make it).

        ``time_limit`` works as in :func:`solve_mip`; after an abandoned solve the model
        returns the start solution (or nothing) without running HiGHS again.
        """
        hs = self._hs
        t0 = time.perf_counter()
        if self._stop.is_set():
            if self.feedback is not None:
                self.feedback.check()
            return _start_outcome(self._cost, 0.0, start, False, t0)
        self.h.setOptionValue("time_limit", INF if time_limit is None else max(0.01, float(time_limit)))
        self.h.setOptionValue("mip_rel_gap", float(rel_gap))
        self.h.setOptionValue("mip_abs_gap", 1e-9)
        is_mip = self.h.getLp().integrality_ and any(v == hs.HighsVarType.kInteger for v in self.h.getLp().integrality_)
        if start is not None and is_mip:
            sol = hs.HighsSolution()
            sol.col_value = list(np.asarray(start, dtype=float))
            sol.value_valid = True
            self.h.setSolution(sol)
        self.found = []
        if self.feedback is not None:
            self.feedback.check()
        wait_until = INF if time_limit is None else t0 + float(time_limit) + TIME_GRACE_S
        try:
            _run_highs(self.h, self.feedback, self._stop, wait_until)
        except _Abandoned:
            return _start_outcome(self._cost, 0.0, start, False, t0)
        if self.feedback is not None and self.feedback.cancelled:
            raise Cancelled("cancelled by the user")
        model_status = self.h.getModelStatus()
        status = self.h.modelStatusToString(model_status)
        info = self.h.getInfo()
        ok = model_status == hs.HighsModelStatus.kOptimal
        x = None
        objective = INF
        if is_mip:
            if info.primal_solution_status >= 1 or ok:
                x = np.asarray(self.h.getSolution().col_value, dtype=float)
                objective = float(info.objective_function_value)
            bound = objective if ok else float(info.mip_dual_bound)
            gap = 0.0 if ok else _relative_gap(objective, bound)
        else:
            if ok:
                x = np.asarray(self.h.getSolution().col_value, dtype=float)
                objective = float(info.objective_function_value)
            bound = objective
            gap = 0.0 if ok else INF
        return MipOutcome(x, objective, bound, gap, bool(ok and x is not None), status, time.perf_counter() - t0)

    def reduced_costs(self) -> np.ndarray:
        """Column duals (reduced costs) of the last LP solve (zeros after an abandoned solve)."""
        if self._stop.is_set():
            return np.zeros(self.n_col)
        return np.asarray(self.h.getSolution().col_dual, dtype=float)

"""A small bridge from sparse NumPy/SciPy models to the HiGHS MIP solver (highspy).

The siting models build their constraint matrices as SciPy sparse matrices and hand
them over here in one piece (``passModel``), which is much faster than adding rows one
by one. :func:`solve_mip` honours a time limit, accepts a starting solution (an upper
bound from a heuristic), lets a :class:`gridtool.feedback.Feedback` cancel the search
and reports the incumbent, the dual bound and the relative gap.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gridtool.errors import Cancelled
from gridtool.feedback import Feedback

__all__ = ["IncrementalModel", "MipOutcome", "solve_mip"]

INF = math.inf


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
) -> MipOutcome:
    """Solve ``min/max c·x + offset`` s.t. ``row_lower ≤ A x ≤ row_upper``, bounds, integrality.

    Parameters
    ----------
    c, a, row_lower, row_upper, col_lower, col_upper
        The model; ``a`` is any SciPy sparse matrix (converted to CSC).
    integer
        Boolean mask of the integer columns.
    time_limit
        Seconds; when reached the best solution found so far is returned with its gap.
    start
        A feasible column vector handed to HiGHS as the first incumbent.
    feedback
        Checked during the search; cancelling it raises :class:`Cancelled`.
    rel_gap
        Relative gap at which the search stops (0 means prove optimality).
    lp_solver
        HiGHS ``solver`` option for a pure LP (``"ipm"``: interior point then crossover
        to a vertex, ``"simplex"``; None leaves HiGHS's choice).
    """
    import highspy

    t0 = time.perf_counter()
    a = sp.csc_matrix(a)
    a.sum_duplicates()
    n_col = a.shape[1]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-9)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.01, float(time_limit)))
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
    if feedback is not None:
        def _interrupt(event) -> None:  # runs inside HiGHS
            if feedback.cancelled:
                event.interrupt()

        h.cbMipInterrupt.subscribe(_interrupt)
        h.cbSimplexInterrupt.subscribe(_interrupt)
    h.run()
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
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.feedback = feedback
        n = int(np.asarray(cost).size)
        self.n_col = n
        self.h.addVars(n, np.asarray(col_lower, dtype=float), np.asarray(col_upper, dtype=float))
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=float))
        self.found: list[np.ndarray] = []
        if feedback is not None:
            def _interrupt(event) -> None:  # runs inside HiGHS
                if feedback.cancelled:
                    event.interrupt()

            self.h.cbMipInterrupt.subscribe(_interrupt)
            self.h.cbSimplexInterrupt.subscribe(_interrupt)

        def _solution(event) -> None:  # every integer solution HiGHS finds
            self.found.append(np.array(event.data_out.mip_solution, dtype=float))

        self.h.cbMipSolution.subscribe(_solution)

    @property
    def n_row(self) -> int:
        return int(self.h.getNumRow())

    def add_rows(self, a: sp.spmatrix, lower: np.ndarray, upper: np.ndarray) -> None:
        """Append the rows of ``a`` (any sparse matrix with ``n_col`` columns)."""
        a = sp.csr_matrix(a)
        if a.shape[0] == 0:
            return
        a.sum_duplicates()
        self.h.addRows(a.shape[0], np.asarray(lower, dtype=float), np.asarray(upper, dtype=float), a.nnz,
                       a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data.astype(float))

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        if cols.size:
            self.h.changeColsBounds(cols.size, cols, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))

    def set_integer(self, cols: np.ndarray, integer: bool = True) -> None:
        cols = np.asarray(cols, dtype=np.int32)
        flag = np.full(cols.size, 1 if integer else 0, dtype=np.uint8)
        self.h.changeColsIntegrality(cols.size, cols, flag)

    def solve(self, *, time_limit: float | None = None, start: np.ndarray | None = None,
              rel_gap: float = 0.0) -> MipOutcome:
        """Solve the current model (LP or MIP, whichever its columns make it)."""
        hs = self._hs
        t0 = time.perf_counter()
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
        self.h.run()
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
        """Column duals (reduced costs) of the last LP solve."""
        return np.asarray(self.h.getSolution().col_dual, dtype=float)

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

__all__ = ["MipOutcome", "solve_mip"]

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

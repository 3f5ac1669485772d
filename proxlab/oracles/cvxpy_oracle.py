"""CVXPY reference for convex metric proximal maps.

The problem ``min_x R(x) + (1/(2 step)) sum_i d_i (x_i - z_i)^2`` is built once
per regularizer and shape, with the metric and the centre as
``cp.Parameter``s, then re-solved for every instance (DESIGN.md: a fresh
construction is ~98% of the cost of a 10-variable solve). To stay DPP the
quadratic is written as ``||s * x - s z||^2`` with ``s = sqrt(d / (2 step))``.

Clarabel at its default tolerances is only ~1e-5 relative accurate, so the
oracle solves with tight tolerances (``TOL``) and reports the solver status;
comparisons must budget for the oracle's own accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Clarabel tolerances used by every oracle solve.
TOL = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "max_iter": 500,
       # the default infeasibility tolerances let Clarabel declare ~1% of |z| ~ 1e6
       # cases "primal infeasible" at its first iterations (measured)
       "tol_infeas_abs": 1e-14, "tol_infeas_rel": 1e-14}


def _quiet_solve(problem):
    """Solve with Clarabel at TOL. CVXPY's "Solution may be inaccurate" warning is
    silenced: the status ``optimal_inaccurate`` is recorded and counted
    (``oracle_inaccurate``) instead, and acceptance never rests on it."""
    import warnings

    import cvxpy as cp

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        problem.solve(solver=cp.CLARABEL, **TOL)


@dataclass
class OracleResult:
    x: np.ndarray
    status: str
    ok: bool
    #: Clarabel stopped at its reduced tolerances ("optimal_inaccurate"): the
    #: point is usable (every acceptance test of proxlab.validate holds for any
    #: feasible point) but resolves errors only down to ~1e-6 relative.
    inaccurate: bool = False


class CvxpyProxOracle:
    """Exact (to solver accuracy) metric prox of a convex regularizer.

    Parameters
    ----------
    reg : Regularizer
        A convex regularizer with ``cvxpy_expr``.
    shape : tuple
        Shape of the inputs ``z`` it will be asked about.
    """

    def __init__(self, reg, shape):
        import cvxpy as cp

        if not reg.convex:
            raise TypeError(f"{reg.name} is nonconvex: use the global 1-D oracle instead")
        self.reg = reg
        self.shape = tuple(shape)
        self._x = cp.Variable(self.shape)
        self._s = cp.Parameter(self.shape, nonneg=True)
        self._sz = cp.Parameter(self.shape)
        fit = cp.sum_squares(cp.multiply(self._s, self._x) - self._sz)
        self._problem = cp.Problem(cp.Minimize(reg.cvxpy_expr(self._x) + fit))

    def solve(self, z, step, d=None):
        import cvxpy as cp

        z = np.asarray(z, dtype=np.float64).reshape(self.shape)
        d = np.ones(self.shape) if d is None else np.asarray(d, dtype=np.float64).reshape(self.shape)
        s = np.sqrt(d / (2.0 * step))
        self._s.value = s
        self._sz.value = s * z
        try:
            _quiet_solve(self._problem)
            first = self._result(self._problem.status, self._x.value)
        except cp.error.SolverError as exc:  # reported, never hidden
            first = OracleResult(np.full(self.shape, np.nan), f"solver error: {exc}", False)
        if first.ok and not first.inaccurate:
            return first
        second = self._solve_rescaled(z, s)
        usable = [r for r in (first, second) if r.ok]
        exact = [r for r in usable if not r.inaccurate]
        if exact:
            return exact[0]
        if not usable:
            return first
        # both stopped at reduced tolerances: keep the one with the lower objective
        d = np.ones(self.shape) if d is None else d
        return min(usable, key=lambda r: self.reg.objective(r.x, z, step, d))

    @staticmethod
    def _result(status, x, suffix=""):
        import cvxpy as cp

        usable = status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and x is not None
        x = np.array(x, dtype=np.float64) if x is not None else None
        if usable and not np.isfinite(x).all():
            usable = False
        return OracleResult(x if x is not None else np.full((), np.nan), status + suffix, usable,
                            status == cp.OPTIMAL_INACCURATE)

    def _solve_rescaled(self, z, s):
        """Fallback for badly scaled instances (|z| ~ 1e8, metrics spanning
        1e-6..1e6): a fresh problem in ``u = s x / sqrt(kappa)`` with the
        objective divided by ``kappa = 1 + F(0)`` (an upper bound of the
        optimum, as ``R(0) = 0``). The quadratic becomes ``||u - u_z||^2`` with
        ``|u_z| <= 1``, so the solver sees O(1) numbers."""
        import cvxpy as cp

        kappa = 1.0 + float(np.sum((s * z) ** 2))
        c = np.sqrt(kappa) / s
        u = cp.Variable(self.shape)
        fit = cp.sum_squares(u - s * z / np.sqrt(kappa))
        problem = cp.Problem(cp.Minimize(self.reg.cvxpy_expr(cp.multiply(c, u)) / kappa + fit))
        try:
            _quiet_solve(problem)
        except cp.error.SolverError as exc:
            return OracleResult(np.full(self.shape, np.nan), f"solver error: {exc}", False)
        x = None if u.value is None else c * np.asarray(u.value, dtype=np.float64)
        return self._result(problem.status, x, " (rescaled)")

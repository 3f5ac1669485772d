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
TOL = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "max_iter": 500}


@dataclass
class OracleResult:
    x: np.ndarray
    status: str
    ok: bool


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
            self._problem.solve(solver=cp.CLARABEL, **TOL)
            status = self._problem.status
        except cp.error.SolverError as exc:  # reported, never hidden
            return OracleResult(np.full(self.shape, np.nan), f"solver error: {exc}", False)
        x = self._x.value
        if status != cp.OPTIMAL or x is None:
            return self._solve_rescaled(z, s)
        return OracleResult(np.array(x, dtype=np.float64), status, True)

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
            problem.solve(solver=cp.CLARABEL, **TOL)
        except cp.error.SolverError as exc:
            return OracleResult(np.full(self.shape, np.nan), f"solver error: {exc}", False)
        ok = problem.status == cp.OPTIMAL and u.value is not None
        x = c * np.asarray(u.value, dtype=np.float64) if u.value is not None else np.full(self.shape, np.nan)
        return OracleResult(x, f"{problem.status} (rescaled)", ok)

r"""Problems and data for the simulations: seeded generators of online and
stochastic problems with Numba gradient oracles.

Every generator returns a :class:`proxlab.solvers.run.Problem` whose oracles are
module-level ``@njit(cache=True)`` functions, so :func:`proxlab.solvers.run.run`
drives the whole loop inside Numba. All randomness is drawn **before** the run,
from an explicit ``seed`` or ``rng`` (a :class:`numpy.random.Generator`); the
loss of step ``t`` is fixed by a precomputed *batch table* in ``problem.data``,
so the same seed gives the same arrays and the same run, bit for bit, and the
oracles never touch Numba's global random state.

The loss of step ``t``
======================
Every problem here is a finite sum over rows ``(a_i, b_i)`` of data with a
batch table ``batches`` of shape ``(K, B)`` (int64 row indices):

.. math::

    f_t(x) = \frac1B \sum_{i \in \mathcal B_t} \ell(a_i, b_i; x), \qquad
    \mathcal B_t = \texttt{batches}[(t - 1) \bmod K]

(``t = 1, 2, ...``; a run longer than ``K`` steps wraps around the table,
which :func:`cumulative_objective` follows). Three per-row losses:

* ``"least_squares"``: :math:`\ell = \tfrac12 (a_i^\top x - b_i)^2`;
* ``"logistic"``: :math:`\ell = \log(1 + e^{-b_i a_i^\top x})`, ``b_i`` in {-1, +1};
* ``"softmax"`` (multinomial logistic, ``K_c`` classes): ``x`` holds the weight
  matrix :math:`W \in \mathbb R^{q \times K_c}` row-major (``x[j*K_c + k] = W[j, k]``),
  :math:`\ell = \log\sum_k e^{(a_i^\top W)_k} - (a_i^\top W)_{b_i}`. Row ``j`` of ``W``
  is every outgoing weight of input feature ``j``: the *input-wise* group of
  group-lasso-adaptive-optimizers.txt (Sec 1.3, "each group is the set of
  outgoing weights from a unit") and of ramda.txt Sec 6.

``problem.data`` is ``(A, b, batches)`` (``b`` float64; int64 class labels for
softmax). Sampling schemes for the batch table (:func:`batch_table`):

* ``"stream"`` — an online sequence: step ``t`` sees rows ``(t-1)B .. tB-1`` once,
  in order (needs ``m >= K B``);
* ``"epoch"`` — concatenated random permutations of the rows (every row once per
  epoch; a batch may straddle two epochs when ``B`` does not divide ``m``);
* ``"iid"`` — rows drawn uniformly with replacement;
* ``"cyclic"`` — rows ``0, 1, ..., m-1, 0, 1, ...`` in order.

``problem.meta`` holds what the theory instruments need: ``"kind"``, ``"A"``,
``"b"``, ``"batches"``, ``"batch_size"``, ``"sampling"``, the ground truth
(``"truth"``, ``"support"``; ``None`` for real data), ``"groups"`` (a
:class:`~proxlab.groups.Groups` or ``None``), ``"n_classes"``, ``"seed"``,
``"convex"`` and problem-specific entries. :func:`cumulative_objective` and
:func:`average_objective` turn a problem into a :class:`FiniteSumObjective`
(numpy value, gradient, Lipschitz bound and CVXPY expression) for the offline
comparators of :mod:`proxlab.theory.comparators`.

Generators
==========
* :func:`least_squares`, :func:`logistic` and their wrappers
  :func:`online_least_squares`, :func:`stochastic_least_squares`,
  :func:`online_logistic`, :func:`stochastic_logistic` — Gaussian design,
  sparse / group-sparse / dense ground truth;
* :func:`alternating` and :func:`drifting` — adversarial-ish online sequences;
* :func:`lasso_gaussian` — proxgen.txt Sec 5, Study 1 (Lasso support recovery);
* :func:`digits_group_logistic`, :func:`mnist1d_group_logistic` — group-lasso
  logistic regression on data that ships with scikit-learn and on the
  MNIST-1D generator (nothing is downloaded; see the functions);
* :func:`finite_sum_problem` — any of the above from your own arrays.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from numba import njit

from .._validation import as_float_array, check_int, check_scalar
from ..groups import Groups
from ..solvers.run import Problem

__all__ = [
    "KINDS", "SAMPLINGS", "FiniteSumObjective", "batch_table", "finite_sum_problem",
    "least_squares", "logistic", "online_least_squares", "stochastic_least_squares", "online_logistic",
    "stochastic_logistic", "alternating", "drifting", "lasso_gaussian", "digits_group_logistic",
    "mnist1d_group_logistic", "cumulative_objective", "average_objective", "accuracy", "sparse_truth",
    "group_sparse_truth", "least_squares_grad", "least_squares_loss", "logistic_grad", "logistic_loss",
    "softmax_grad", "softmax_loss",
]

KINDS = ("least_squares", "logistic", "softmax")
SAMPLINGS = ("stream", "epoch", "iid", "cyclic")


# ====================================================================== oracles
@njit(cache=True)
def least_squares_grad(x, t, data, out):
    """Gradient of ``f_t(x) = (1/(2B)) sum_{i in B_t} (a_i . x - b_i)^2`` into ``out``."""
    A, b, batches = data
    n = x.shape[0]
    K = batches.shape[0]
    B = batches.shape[1]
    row = (t - 1) % K
    for j in range(n):
        out[j] = 0.0
    inv = 1.0 / B
    for k in range(B):
        i = batches[row, k]
        r = 0.0
        for j in range(n):
            r += A[i, j] * x[j]
        c = (r - b[i]) * inv
        for j in range(n):
            out[j] += c * A[i, j]


@njit(cache=True)
def least_squares_loss(x, t, data):
    """``f_t(x) = (1/(2B)) sum_{i in B_t} (a_i . x - b_i)^2``."""
    A, b, batches = data
    n = x.shape[0]
    K = batches.shape[0]
    B = batches.shape[1]
    row = (t - 1) % K
    s = 0.0
    for k in range(B):
        i = batches[row, k]
        r = 0.0
        for j in range(n):
            r += A[i, j] * x[j]
        r -= b[i]
        s += r * r
    return 0.5 * s / B


@njit(cache=True)
def _log1pexp_neg(u):
    """``log(1 + exp(-u))`` without overflow."""
    if u > 0.0:
        return math.log1p(math.exp(-u))
    return -u + math.log1p(math.exp(u))


@njit(cache=True)
def _sigmoid_neg(u):
    """``1 / (1 + exp(u))`` without overflow."""
    if u >= 0.0:
        e = math.exp(-u)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(u))


@njit(cache=True)
def logistic_grad(x, t, data, out):
    """Gradient of ``f_t(x) = (1/B) sum_{i in B_t} log(1 + exp(-b_i a_i . x))``:
    ``-(1/B) sum b_i sigma(-b_i a_i . x) a_i``."""
    A, b, batches = data
    n = x.shape[0]
    K = batches.shape[0]
    B = batches.shape[1]
    row = (t - 1) % K
    for j in range(n):
        out[j] = 0.0
    inv = 1.0 / B
    for k in range(B):
        i = batches[row, k]
        u = 0.0
        for j in range(n):
            u += A[i, j] * x[j]
        c = -b[i] * _sigmoid_neg(b[i] * u) * inv
        for j in range(n):
            out[j] += c * A[i, j]


@njit(cache=True)
def logistic_loss(x, t, data):
    """``f_t(x) = (1/B) sum_{i in B_t} log(1 + exp(-b_i a_i . x))``."""
    A, b, batches = data
    n = x.shape[0]
    K = batches.shape[0]
    B = batches.shape[1]
    row = (t - 1) % K
    s = 0.0
    for k in range(B):
        i = batches[row, k]
        u = 0.0
        for j in range(n):
            u += A[i, j] * x[j]
        s += _log1pexp_neg(b[i] * u)
    return s / B


@njit(cache=True)
def softmax_grad(x, t, data, out):
    """Gradient of the multinomial logistic loss of batch ``t`` (``x`` = ``W``
    row-major, ``q x K`` with ``q = A.shape[1]``):
    ``dW[j, k] = (1/B) sum_i a_ij (p_ik - [k = b_i])``, ``p_i = softmax(a_i W)``."""
    A, labels, batches = data
    q = A.shape[1]
    K = x.shape[0] // q
    Kb = batches.shape[0]
    B = batches.shape[1]
    row = (t - 1) % Kb
    for j in range(x.shape[0]):
        out[j] = 0.0
    z = np.empty(K)
    inv = 1.0 / B
    for kk in range(B):
        i = batches[row, kk]
        for k in range(K):
            z[k] = 0.0
        for j in range(q):
            a = A[i, j]
            if a != 0.0:
                for k in range(K):
                    z[k] += a * x[j * K + k]
        zmax = z[0]
        for k in range(1, K):
            zmax = max(zmax, z[k])
        s = 0.0
        for k in range(K):
            z[k] = math.exp(z[k] - zmax)
            s += z[k]
        for k in range(K):
            z[k] = z[k] / s
        z[labels[i]] -= 1.0
        for j in range(q):
            a = A[i, j] * inv
            if a != 0.0:
                for k in range(K):
                    out[j * K + k] += a * z[k]


@njit(cache=True)
def softmax_loss(x, t, data):
    """Multinomial logistic loss of batch ``t``: ``(1/B) sum_i logsumexp(a_i W) - (a_i W)_{b_i}``."""
    A, labels, batches = data
    q = A.shape[1]
    K = x.shape[0] // q
    Kb = batches.shape[0]
    B = batches.shape[1]
    row = (t - 1) % Kb
    z = np.empty(K)
    tot = 0.0
    for kk in range(B):
        i = batches[row, kk]
        for k in range(K):
            z[k] = 0.0
        for j in range(q):
            a = A[i, j]
            if a != 0.0:
                for k in range(K):
                    z[k] += a * x[j * K + k]
        zmax = z[0]
        for k in range(1, K):
            zmax = max(zmax, z[k])
        s = 0.0
        for k in range(K):
            s += math.exp(z[k] - zmax)
        tot += zmax + math.log(s) - z[labels[i]]
    return tot / B


_ORACLES = {
    "least_squares": (least_squares_grad, least_squares_loss),
    "logistic": (logistic_grad, logistic_loss),
    "softmax": (softmax_grad, softmax_loss),
}


# ============================================================ offline objective
class FiniteSumObjective:
    r"""A weighted finite sum :math:`f(x) = \sum_i w_i\, \ell(a_i, b_i; x)` in numpy.

    The offline side of a problem: :func:`cumulative_objective` gives
    :math:`\sum_{t \le T} f_t` (the comparator sums of regret, GA eq (7) and
    mrda.txt eq (48)) and :func:`average_objective` the sample average (the
    ``f`` of ``F = f + R`` in proxgen.txt eq (1), ramda.txt eq (1)). Rows of
    zero weight are dropped.

    Parameters
    ----------
    kind : {"least_squares", "logistic", "softmax"}
    A : array (m, q)
    b : array (m,)
        Targets, labels in {-1, +1} (logistic) or class indices (softmax).
    w : array (m,) >= 0
        Row weights.
    n_classes : int, required for softmax
        ``x`` then has ``q * n_classes`` entries.
    """

    def __init__(self, kind, A, b, w, n_classes=None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        A = as_float_array("A", A, ndim=2, dtype=np.float64)
        w = as_float_array("w", w, ndim=1, dtype=np.float64)
        if w.shape[0] != A.shape[0]:
            raise ValueError(f"w must have one weight per row of A ({A.shape[0]}), got {w.shape[0]}")
        if (w < 0).any():
            raise ValueError(f"w (row weights) must be >= 0, got {w[w < 0][0]!r}")
        keep = w > 0
        self.kind = kind
        self.A = np.ascontiguousarray(A[keep])
        if kind == "softmax":
            if n_classes is None:
                raise ValueError("n_classes is required for kind='softmax'")
            self.n_classes = check_int("n_classes", n_classes, low=2)
            b = np.asarray(b)
            if b.dtype.kind not in "iu":
                raise TypeError(f"b must hold integer class labels for softmax, got dtype {b.dtype}")
            self.b = b.astype(np.int64)[keep]
            if self.b.size and (self.b.min() < 0 or self.b.max() >= self.n_classes):
                raise ValueError(f"b (class labels) must lie in 0..{self.n_classes - 1}")
            self.n = self.A.shape[1] * self.n_classes
        else:
            b = as_float_array("b", b, ndim=1, dtype=np.float64)
            if b.shape[0] != w.shape[0]:
                raise ValueError(f"b must have one entry per row of A ({w.shape[0]}), got {b.shape[0]}")
            self.b = b[keep]
            if kind == "logistic" and self.b.size and not np.all(np.abs(self.b) == 1.0):
                raise ValueError("b (labels) must be -1 or +1 for kind='logistic'")
            self.n_classes = None
            self.n = self.A.shape[1]
        self.w = w[keep]
        self._L = None

    @property
    def total_weight(self):
        return float(self.w.sum())

    def _check_x(self, x):
        x = as_float_array("x", x, ndim=1, dtype=np.float64)
        if x.shape[0] != self.n:
            raise ValueError(f"x must have {self.n} entries, got {x.shape[0]}")
        return x

    def _scores(self, x):
        if self.kind == "softmax":
            return self.A @ x.reshape(-1, self.n_classes)
        return self.A @ x

    def value(self, x):
        """``f(x)`` (float)."""
        x = self._check_x(x)
        u = self._scores(x)
        if self.kind == "least_squares":
            r = u - self.b
            return float(0.5 * np.dot(self.w, r * r))
        if self.kind == "logistic":
            return float(np.dot(self.w, np.logaddexp(0.0, -self.b * u)))
        zmax = u.max(axis=1)
        lse = zmax + np.log(np.exp(u - zmax[:, None]).sum(axis=1))
        return float(np.dot(self.w, lse - u[np.arange(u.shape[0]), self.b]))

    def grad(self, x):
        """``grad f(x)`` (float64 array)."""
        x = self._check_x(x)
        u = self._scores(x)
        if self.kind == "least_squares":
            return self.A.T @ (self.w * (u - self.b))
        if self.kind == "logistic":
            # d/du log(1 + exp(-b u)) = -b sigma(-b u) = -b / (1 + exp(b u))
            s = -self.b * np.exp(-np.logaddexp(0.0, self.b * u))
            return self.A.T @ (self.w * s)
        zmax = u.max(axis=1, keepdims=True)
        p = np.exp(u - zmax)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(u.shape[0]), self.b] -= 1.0
        return (self.A.T @ (self.w[:, None] * p)).ravel()

    def lipschitz(self):
        r"""The Lipschitz constant of ``grad f`` (an upper bound of it).

        ``c * lambda_max(A' diag(w) A)`` with ``c = 1`` (least squares: the exact
        constant), ``1/4`` (logistic: ``sigma' <= 1/4``) or ``1/2`` (softmax:
        the Hessian of log-sum-exp is ``<= (1/2)(I - 11'/K)``, Böhning 1992).
        ``lambda_max`` is the squared largest singular value of ``sqrt(w) A``:
        exact (LAPACK) when ``m q min(m, q) <= 2e9``; otherwise a Lanczos
        estimate (``scipy.sparse.linalg.svds``, ``tol = 1e-10``) enlarged by
        ``1e-6`` relative. The comparators' FISTA backtracks, so it stays correct
        even if an estimate were low.
        """
        if self._L is None:
            M = np.sqrt(self.w)[:, None] * self.A
            m, q = M.shape
            if M.size == 0:
                smax = 0.0
            elif m * q * min(m, q) <= 2e9:
                smax = float(np.linalg.norm(M, 2))
            else:  # pragma: no cover - large instances only
                from scipy.sparse.linalg import svds

                smax = float(svds(M, k=1, tol=1e-10, return_singular_vectors=False)[0]) * (1.0 + 1e-6)
            c = {"least_squares": 1.0, "logistic": 0.25, "softmax": 0.5}[self.kind]
            self._L = c * smax * smax
        return self._L

    def cvxpy_expr(self, x):
        """CVXPY expression of ``f`` for a CVXPY variable ``x`` of shape ``(n,)``."""
        import cvxpy as cp

        if self.kind == "least_squares":
            return 0.5 * cp.sum_squares(cp.multiply(np.sqrt(self.w), self.A @ x - self.b))
        if self.kind == "logistic":
            return cp.sum(cp.multiply(self.w, cp.logistic(-cp.multiply(self.b, self.A @ x))))
        K = self.n_classes
        Wm = cp.reshape(x, (self.A.shape[1], K), order="C")
        Z = self.A @ Wm
        onehot = np.zeros((self.A.shape[0], K))
        onehot[np.arange(self.A.shape[0]), self.b] = 1.0
        return (cp.sum(cp.multiply(self.w, cp.log_sum_exp(Z, axis=1)))
                - cp.sum(cp.multiply(self.w[:, None] * onehot, Z)))

    def __repr__(self):
        return f"FiniteSumObjective(kind={self.kind!r}, rows={self.A.shape[0]}, n={self.n})"


def _counts(batches, T):
    """How often each row appears in steps ``1..T`` (with wrap-around), divided by ``B``."""
    K, B = batches.shape
    reps, rest = divmod(T, K)
    counts = np.zeros(int(batches.max()) + 1 if batches.size else 0)
    if reps:
        counts += reps * np.bincount(batches.ravel(), minlength=counts.size)
    if rest:
        counts += np.bincount(batches[:rest].ravel(), minlength=counts.size)
    return counts / B


def _objective_rows(problem):
    meta = problem.meta
    for key in ("kind", "A", "b", "batches"):
        if key not in meta:
            raise ValueError(f"problem: meta has no {key!r}; build it with proxlab.simulations.problems")
    return meta["kind"], meta["A"], meta["b"], meta["batches"]


def cumulative_objective(problem, T):
    r""":math:`\sum_{t=1}^T f_t` as a :class:`FiniteSumObjective`.

    The comparator objective of regret: ``argmin`` of it is the ``x^*`` of
    group-lasso-adaptive-optimizers.txt eq (7) (and, with ``T Psi`` added, of
    mrda.txt eq (48)). Row ``i`` gets the weight (number of steps ``t <= T`` whose
    batch holds ``i``) / ``B``, following the wrap-around of the batch table.
    """
    kind, A, b, batches = _objective_rows(problem)
    T = check_int("T", T, low=1)
    c = _counts(batches, T)
    w = np.zeros(A.shape[0])
    w[:c.size] = c
    return FiniteSumObjective(kind, A, b, w, problem.meta.get("n_classes"))


def average_objective(problem):
    r""":math:`f(x) = \frac1m \sum_{i=1}^m \ell(a_i, b_i; x)`, the sample average over all rows.

    With ``"epoch"`` or ``"iid"`` sampling ``E f_t = f``: the smooth part of
    ``F = f + R`` whose stationarity proxgen.txt Thm 1 and ramda.txt Thm 2 measure
    and whose minimum is the ``phi^*`` of mrda.txt Lemma 7.5 (for the Lasso,
    ``f = (1/(2n)) ||X theta - y||^2``).
    """
    kind, A, b, _ = _objective_rows(problem)
    m = A.shape[0]
    return FiniteSumObjective(kind, A, b, np.full(m, 1.0 / m), problem.meta.get("n_classes"))


def accuracy(problem, x, split="train"):
    """Classification accuracy of ``x`` on the rows of ``split`` ("train": the
    problem's rows; "test": ``meta["A_test"]``, ``meta["b_test"]``)."""
    kind = problem.meta.get("kind")
    if kind not in ("logistic", "softmax"):
        raise ValueError(f"problem: accuracy needs a classification problem, got kind {kind!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    A = problem.meta["A" if split == "train" else "A_test"]
    b = problem.meta["b" if split == "train" else "b_test"]
    if A is None:
        raise ValueError(f"split: the problem has no {split} rows")
    x = np.asarray(x, dtype=np.float64)
    if kind == "logistic":
        return float(np.mean(np.where(A @ x >= 0, 1.0, -1.0) == b))
    return float(np.mean(np.argmax(A @ x.reshape(A.shape[1], -1), axis=1) == b))


# ================================================================== helpers
def _resolve_rng(seed, rng):
    if rng is not None and seed is not None:
        raise ValueError("seed and rng: pass one of them, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    if seed is None:
        raise ValueError("seed: every generator is seeded; pass seed=<int> or rng=<numpy.random.Generator>")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def batch_table(m, batch_size, steps, sampling, rng=None):
    """The ``(steps, batch_size)`` int64 table of row indices (module docstring).

    Parameters
    ----------
    m : int >= 1
        Number of rows.
    batch_size : int >= 1
    steps : int >= 1
    sampling : {"stream", "epoch", "iid", "cyclic"}
    rng : numpy.random.Generator, required for "epoch" and "iid"
    """
    m = check_int("m", m, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    steps = check_int("steps", steps, low=1)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    total = steps * batch_size
    if sampling == "stream":
        if total > m:
            raise ValueError(f"sampling='stream' sees every row once: steps * batch_size = {total} "
                             f"exceeds the number of rows m = {m}")
        flat = np.arange(total, dtype=np.int64)
    elif sampling == "cyclic":
        flat = np.arange(total, dtype=np.int64) % m
    else:
        if rng is None:
            raise ValueError(f"rng: sampling={sampling!r} needs a random generator")
        if sampling == "iid":
            flat = rng.integers(0, m, size=total, dtype=np.int64)
        else:
            reps = -(-total // m)
            flat = np.concatenate([rng.permutation(m) for _ in range(reps)])[:total].astype(np.int64)
    return np.ascontiguousarray(flat.reshape(steps, batch_size))


def _design(m, n, rng, rho):
    """Gaussian rows ``N(0, Sigma)``, ``Sigma_jk = rho^|j - k|`` (AR(1) columns, exact)."""
    Z = rng.standard_normal((m, n))
    if rho == 0.0:
        return Z
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    c = math.sqrt(1.0 - rho * rho)
    for j in range(1, n):
        X[:, j] = rho * X[:, j - 1] + c * Z[:, j]
    return X


def sparse_truth(n, s, rng, low=0.5, high=1.5):
    """An ``s``-sparse vector: ``s`` random positions, random signs, magnitudes
    uniform in ``[low, high]``."""
    n = check_int("n", n, low=1)
    s = check_int("s", s, low=0)
    if s > n:
        raise ValueError(f"s (the number of non-zeros) must be <= n = {n}, got {s}")
    x = np.zeros(n)
    pos = rng.choice(n, size=s, replace=False)
    x[pos] = rng.choice(np.array([-1.0, 1.0]), size=s) * rng.uniform(low, high, size=s)
    return x


def group_sparse_truth(n, group_size, active_groups, rng):
    """A vector with ``active_groups`` non-zero contiguous groups of size
    ``group_size`` (entries ``N(0, 1)``); returns ``(x, Groups)``."""
    n = check_int("n", n, low=1)
    group_size = check_int("group_size", group_size, low=1)
    if n % group_size:
        raise ValueError(f"group_size {group_size} does not divide n = {n}")
    G = n // group_size
    active_groups = check_int("active_groups", active_groups, low=0)
    if active_groups > G:
        raise ValueError(f"active_groups must be <= the number of groups ({G}), got {active_groups}")
    x = np.zeros(n)
    for g in rng.choice(G, size=active_groups, replace=False):
        x[g * group_size:(g + 1) * group_size] = rng.standard_normal(group_size)
    return x, Groups(n, group_size)


def _truth(n, truth, s, group_size, active_groups, rng):
    """``(x_true, groups)`` for the ``truth`` choice of the generators."""
    if isinstance(truth, str):
        if truth == "sparse":
            s = max(1, n // 10) if s is None else s
            return sparse_truth(n, s, rng), (Groups(n, group_size) if group_size else None)
        if truth == "group":
            if group_size is None:
                raise ValueError("group_size is required with truth='group'")
            gs = check_int("group_size", group_size, low=1)
            if n % gs:
                raise ValueError(f"group_size {gs} does not divide n = {n}")
            ag = max(1, (n // gs) // 5) if active_groups is None else active_groups
            return group_sparse_truth(n, gs, ag, rng)
        if truth == "dense":
            return rng.standard_normal(n), (Groups(n, group_size) if group_size else None)
        raise ValueError(f"truth must be 'sparse', 'group', 'dense' or an array, got {truth!r}")
    x = as_float_array("truth", truth, ndim=1, dtype=np.float64)
    if x.shape[0] != n:
        raise ValueError(f"truth must have n = {n} entries, got {x.shape[0]}")
    return x.copy(), (Groups(n, group_size) if group_size else None)


def _start(x0, n, rng, init_scale, dtype):
    if isinstance(x0, str):
        if x0 == "zeros":
            x = np.zeros(n)
        elif x0 == "random":
            x = check_scalar("init_scale", init_scale, low=0.0) * rng.standard_normal(n)
        else:
            raise ValueError(f"x0 must be 'zeros', 'random' or an array, got {x0!r}")
    else:
        x = as_float_array("x0", x0, ndim=1, dtype=np.float64)
        if x.shape[0] != n:
            raise ValueError(f"x0 must have {n} entries, got {x.shape[0]}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return x.astype(dtype)


def finite_sum_problem(kind, A, b, *, batch_size=1, steps=None, sampling="stream", seed=None, rng=None,
                       x0="zeros", init_scale=1.0, n_classes=None, name="", meta=None, dtype=np.float64):
    """A :class:`Problem` from your own rows (the builder every generator uses).

    Parameters
    ----------
    kind : {"least_squares", "logistic", "softmax"}
    A : array (m, q)
    b : array (m,)
        Targets, labels in {-1, +1}, or class indices 0..n_classes-1.
    batch_size : int >= 1
    steps : int >= 1, default ``m // batch_size`` ("stream") or ``ceil(m / batch_size)``
        Rows of the batch table.
    sampling : {"stream", "epoch", "iid", "cyclic"}
    seed, rng : needed for random sampling or ``x0="random"``
    x0 : "zeros", "random" (``init_scale * N(0, I)``) or an array
    n_classes : int, softmax only (default ``max(b) + 1``)
    name : str
    meta : dict, extra entries for ``problem.meta``
    dtype : float32 or float64, dtype of ``x0`` (the data stay float64)

    Returns
    -------
    Problem
        ``data = (A, b, batches)``, oracles of ``kind`` (module docstring).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    A = np.ascontiguousarray(as_float_array("A", A, ndim=2, dtype=np.float64))
    m, q = A.shape
    if kind == "softmax":
        b = np.asarray(b)
        if b.ndim != 1 or b.dtype.kind not in "iu":
            raise TypeError(f"b must be a 1-D integer array of class labels for softmax, got {b.dtype} {b.shape}")
        b = np.ascontiguousarray(b.astype(np.int64))
        n_classes = int(b.max()) + 1 if n_classes is None else check_int("n_classes", n_classes, low=2)
        if b.min() < 0 or b.max() >= n_classes:
            raise ValueError(f"b (class labels) must lie in 0..{n_classes - 1}")
        n = q * n_classes
    else:
        b = np.ascontiguousarray(as_float_array("b", b, ndim=1, dtype=np.float64))
        if kind == "logistic" and not np.all(np.abs(b) == 1.0):
            raise ValueError("b (labels) must be -1 or +1 for kind='logistic'")
        n_classes = None
        n = q
    if b.shape[0] != m:
        raise ValueError(f"b must have one entry per row of A ({m}), got {b.shape[0]}")
    batch_size = check_int("batch_size", batch_size, low=1)
    if steps is None:
        steps = max(1, m // batch_size) if sampling == "stream" else max(1, -(-m // batch_size))
    needs_rng = sampling in ("epoch", "iid") or (isinstance(x0, str) and x0 == "random")
    gen = _resolve_rng(seed, rng) if (needs_rng or seed is not None or rng is not None) else None
    batches = batch_table(m, batch_size, steps, sampling, gen)
    x_start = _start(x0, n, gen, init_scale, dtype)
    grad, loss = _ORACLES[kind]
    info = {"kind": kind, "A": A, "b": b, "batches": batches, "batch_size": batch_size, "sampling": sampling,
            "steps": int(steps), "n_classes": n_classes, "truth": None, "support": None, "groups": None,
            "seed": seed, "convex": True, "A_test": None, "b_test": None}
    if meta:
        info.update(meta)
    return Problem(x0=x_start, grad=grad, data=(A, b, batches), loss=loss, name=name or kind, meta=info)


# =============================================================== generators
def _check_noise(noise):
    return check_scalar("noise", noise, low=0.0)


def least_squares(n=20, m=1000, *, truth="sparse", s=None, group_size=None, active_groups=None, noise=0.1,
                  rho=0.0, batch_size=1, steps=None, sampling="stream", x0="zeros", init_scale=1.0,
                  seed=None, rng=None, dtype=np.float64):
    r"""Least squares with a sparse, group-sparse or dense ground truth.

    Rows :math:`a_i \sim N(0, \Sigma)` (:math:`\Sigma_{jk} = \rho^{|j-k|}`),
    :math:`b_i = a_i^\top x^\natural + \text{noise}\cdot\varepsilon_i`, and
    :math:`f_t(x) = \frac1{2B}\sum_{i\in\mathcal B_t}(a_i^\top x - b_i)^2`.

    Parameters
    ----------
    n : int, dimension
    m : int, number of rows
    truth : "sparse" (``s`` non-zeros, default ``n // 10``, signs random,
        magnitudes U[0.5, 1.5]), "group" (``active_groups`` contiguous groups of
        ``group_size``, default a fifth of the groups, entries N(0, 1)), "dense"
        (N(0, I)) or an array
    noise : float >= 0, standard deviation of the additive Gaussian noise
    rho : float in [0, 1), design correlation
    batch_size, steps, sampling : the batch table (module docstring)
    x0, init_scale, dtype : starting point
    seed, rng : exactly one of them

    Returns
    -------
    Problem
        ``meta["truth"]``, ``meta["support"]`` (element mask), ``meta["groups"]``
        (a :class:`Groups` when ``group_size`` is given), ``meta["noise"]``.
    """
    gen = _resolve_rng(seed, rng)
    n = check_int("n", n, low=1)
    m = check_int("m", m, low=1)
    noise = _check_noise(noise)
    rho = check_scalar("rho", rho, low=0.0, high=1.0, high_open=True)
    xt, groups = _truth(n, truth, s, group_size, active_groups, gen)
    A = _design(m, n, gen, rho)
    b = A @ xt + noise * gen.standard_normal(m)
    return finite_sum_problem("least_squares", A, b, batch_size=batch_size, steps=steps, sampling=sampling,
                              rng=gen, x0=x0, init_scale=init_scale, dtype=dtype,
                              name=f"least_squares({truth if isinstance(truth, str) else 'given'})",
                              meta={"truth": xt, "support": xt != 0, "groups": groups, "noise": noise,
                                    "seed": seed, "rho": rho})


def logistic(n=20, m=1000, *, truth="sparse", s=None, group_size=None, active_groups=None, scale=1.0, rho=0.0,
             batch_size=1, steps=None, sampling="stream", x0="zeros", init_scale=1.0, seed=None, rng=None,
             dtype=np.float64):
    r"""Binary logistic regression with a sparse, group-sparse or dense ground truth.

    Rows :math:`a_i \sim N(0, \Sigma)`, labels :math:`b_i = +1` with probability
    :math:`\sigma(\text{scale}\cdot a_i^\top x^\natural)`, else :math:`-1`;
    :math:`f_t(x) = \frac1B\sum_{i\in\mathcal B_t}\log(1 + e^{-b_i a_i^\top x})`.
    Parameters as :func:`least_squares` (``scale`` sharpens the link; the truth
    of the model is ``scale * meta["truth"]``).
    """
    gen = _resolve_rng(seed, rng)
    n = check_int("n", n, low=1)
    m = check_int("m", m, low=1)
    scale = check_scalar("scale", scale, low=0.0)
    rho = check_scalar("rho", rho, low=0.0, high=1.0, high_open=True)
    xt, groups = _truth(n, truth, s, group_size, active_groups, gen)
    A = _design(m, n, gen, rho)
    p = 1.0 / (1.0 + np.exp(-scale * (A @ xt)))
    b = np.where(gen.random(m) < p, 1.0, -1.0)
    return finite_sum_problem("logistic", A, b, batch_size=batch_size, steps=steps, sampling=sampling, rng=gen,
                              x0=x0, init_scale=init_scale, dtype=dtype,
                              name=f"logistic({truth if isinstance(truth, str) else 'given'})",
                              meta={"truth": xt, "support": xt != 0, "groups": groups, "scale": scale,
                                    "seed": seed, "rho": rho})


def online_least_squares(n=20, T=1000, *, batch_size=1, **kwargs):
    """An online least-squares sequence: ``T`` steps, each row seen once, in order
    (:func:`least_squares` with ``m = T * batch_size``, ``sampling="stream"``)."""
    T = check_int("T", T, low=1)
    return least_squares(n, T * check_int("batch_size", batch_size, low=1), batch_size=batch_size, steps=T,
                         sampling="stream", **kwargs)


def stochastic_least_squares(n=20, m=500, steps=2000, *, batch_size=8, sampling="epoch", **kwargs):
    """Stochastic least squares: ``steps`` minibatches of a fixed sample of ``m``
    rows (:func:`least_squares` with ``sampling="epoch"`` by default)."""
    return least_squares(n, m, batch_size=batch_size, steps=steps, sampling=sampling, **kwargs)


def online_logistic(n=20, T=1000, *, batch_size=1, **kwargs):
    """An online logistic sequence (:func:`logistic`, ``sampling="stream"``)."""
    T = check_int("T", T, low=1)
    return logistic(n, T * check_int("batch_size", batch_size, low=1), batch_size=batch_size, steps=T,
                    sampling="stream", **kwargs)


def stochastic_logistic(n=20, m=500, steps=2000, *, batch_size=8, sampling="epoch", **kwargs):
    """Stochastic logistic regression on a fixed sample (:func:`logistic`, ``"epoch"``)."""
    return logistic(n, m, batch_size=batch_size, steps=steps, sampling=sampling, **kwargs)


def _two_truths(n, s, rng):
    """Two ``s``-sparse truths with disjoint supports."""
    s = max(1, n // 10) if s is None else check_int("s", s, low=1)
    if 2 * s > n:
        raise ValueError(f"s must be <= n / 2 = {n // 2} (two disjoint supports), got {s}")
    pos = rng.permutation(n)
    xa = np.zeros(n)
    xb = np.zeros(n)
    for x, p in ((xa, pos[:s]), (xb, pos[s:2 * s])):
        x[p] = rng.choice(np.array([-1.0, 1.0]), size=s) * rng.uniform(0.5, 1.5, size=s)
    return xa, xb


def _labels_or_targets(kind, A, path, noise, rng):
    u = np.einsum("ij,ij->i", A, path)
    if kind == "least_squares":
        return u + noise * rng.standard_normal(u.shape[0])
    if kind == "logistic":
        return np.where(u >= 0.0, 1.0, -1.0)
    raise ValueError(f"kind must be 'least_squares' or 'logistic', got {kind!r}")


def alternating(n=20, T=1000, *, kind="least_squares", period=1, s=None, noise=0.0, x0="zeros", init_scale=1.0,
                seed=None, rng=None, dtype=np.float64):
    r"""An adversarial-ish online sequence that switches between two targets.

    Two ``s``-sparse truths :math:`x_A, x_B` with disjoint supports; step ``t``
    sees a fresh Gaussian row :math:`a_t` and the target of
    :math:`x_A` when :math:`\lfloor (t-1)/\text{period}\rfloor` is even, of
    :math:`x_B` otherwise: :math:`b_t = a_t^\top x_{A|B} + \text{noise}\cdot\varepsilon_t`
    (least squares) or :math:`b_t = \operatorname{sign}(a_t^\top x_{A|B})` (logistic,
    noise-free labels). ``period = 1`` alternates at every step (the pattern
    that makes follow-the-leader oscillate); a long ``period`` switches regime in
    blocks. The best fixed comparator fits neither regime.

    ``meta["truth_path"]`` (T, n) holds the truth of every step;
    ``meta["truth_a"]``, ``meta["truth_b"]`` the two truths.
    """
    gen = _resolve_rng(seed, rng)
    n = check_int("n", n, low=2)
    T = check_int("T", T, low=1)
    period = check_int("period", period, low=1)
    noise = _check_noise(noise)
    xa, xb = _two_truths(n, s, gen)
    A = gen.standard_normal((T, n))
    which = (np.arange(T) // period) % 2
    path = np.where(which[:, None] == 0, xa, xb)
    b = _labels_or_targets(kind, A, path, noise, gen)
    return finite_sum_problem(kind, A, b, batch_size=1, steps=T, sampling="stream", rng=gen, x0=x0,
                              init_scale=init_scale, dtype=dtype, name=f"alternating({kind}, period={period})",
                              meta={"truth": None, "truth_a": xa, "truth_b": xb, "truth_path": path,
                                    "regime": which, "period": period, "noise": noise, "seed": seed})


def drifting(n=20, T=1000, *, kind="least_squares", drift="linear", s=None, step=0.05, noise=0.0, x0="zeros",
             init_scale=1.0, seed=None, rng=None, dtype=np.float64):
    r"""An online sequence whose truth drifts.

    ``drift="linear"``: :math:`x^\natural_t = (1 - \tau_t) x_A + \tau_t x_B`,
    :math:`\tau_t = (t-1)/(T-1)` (two ``s``-sparse truths with disjoint
    supports); ``drift="random_walk"``: :math:`x^\natural_t = x^\natural_{t-1} +
    \text{step}\cdot\xi_t` on the support of :math:`x_A` (:math:`\xi_t \sim N(0, I)`).
    Targets and labels as in :func:`alternating`.
    """
    gen = _resolve_rng(seed, rng)
    n = check_int("n", n, low=2)
    T = check_int("T", T, low=1)
    step = check_scalar("step", step, low=0.0)
    noise = _check_noise(noise)
    xa, xb = _two_truths(n, s, gen)
    if drift == "linear":
        tau = np.linspace(0.0, 1.0, T) if T > 1 else np.zeros(1)
        path = (1.0 - tau)[:, None] * xa + tau[:, None] * xb
    elif drift == "random_walk":
        supp = xa != 0
        inc = step * gen.standard_normal((T, n)) * supp
        inc[0] = 0.0
        path = xa + np.cumsum(inc, axis=0)
    else:
        raise ValueError(f"drift must be 'linear' or 'random_walk', got {drift!r}")
    A = gen.standard_normal((T, n))
    b = _labels_or_targets(kind, A, path, noise, gen)
    return finite_sum_problem(kind, A, b, batch_size=1, steps=T, sampling="stream", rng=gen, x0=x0,
                              init_scale=init_scale, dtype=dtype, name=f"drifting({kind}, {drift})",
                              meta={"truth": None, "truth_a": xa, "truth_b": xb, "truth_path": path,
                                    "drift": drift, "noise": noise, "seed": seed})


def lasso_gaussian(n_samples=100, p=200, s=5, sigma=0.1, *, lam=None, beta_min=1.0, rho=0.0, batch_size=10,
                   steps=None, epochs=20, sampling="epoch", x0="random", init_scale=1.0, seed=None, rng=None,
                   dtype=np.float64):
    r"""Lasso with a Gaussian design and an ``s``-sparse truth (proxgen.txt Sec 5, Study 1).

    .. math::

        y = X\theta^\natural + \sigma\varepsilon,\quad X_{ij} \sim N(0, 1)\ (\text{rows } N(0,\Sigma)),
        \quad \theta^\natural = \beta_{\min}\, \mathrm{sign} \text{ on a random support of size } s,

        F(\theta) = \frac1{2n}\|X\theta - y\|_2^2 + \lambda\|\theta\|_1
        = \mathbb E_t f_t(\theta) + \lambda \|\theta\|_1 ,

    with ``f_t`` the minibatch least squares of ``batch_size`` rows.

    **Sizes.** proxgen.txt Study 1 says only "we run Lasso simulations with two
    initialization schemes" (random and zero) and shows Fig 3; the setting is
    deferred to its Appendix, which is not part of the text in
    ``shared/papers/proxgen.txt``. The defaults here (``n = 100``, ``p = 200``,
    ``s = 5``, ``sigma = 0.1``, ``beta_min = 1``) are **proxlab's choice**, a
    high-dimensional (``p > n``) instance well inside the recovery region
    (``n / (s log p) = 3.8``). The default
    :math:`\lambda = 2\sigma\sqrt{2\log p / n}` is the usual theory choice: it
    exceeds :math:`2\|X^\top\varepsilon\sigma\|_\infty / n` with high
    probability for a column-normalized design.

    Parameters
    ----------
    n_samples, p, s : int
    sigma : float >= 0, noise level
    lam : float >= 0, default above
    beta_min : float > 0, magnitude of the non-zeros
    rho : design correlation (Toeplitz)
    batch_size, steps, epochs, sampling : the batch table (``steps`` defaults to
        ``epochs * ceil(n_samples / batch_size)``)
    x0 : "random" (``init_scale * N(0, I)``, Study 1 (i)), "zeros" (Study 1 (ii)) or an array

    Returns
    -------
    Problem
        ``meta``: ``"truth"``, ``"support"``, ``"lam"``, ``"regularizer"``
        (``("l1", {"lam": lam})``), ``"sigma"``, ``"objective"``.
    """
    gen = _resolve_rng(seed, rng)
    n_samples = check_int("n_samples", n_samples, low=1)
    p = check_int("p", p, low=1)
    s = check_int("s", s, low=0)
    if s > p:
        raise ValueError(f"s (the number of non-zeros) must be <= p = {p}, got {s}")
    sigma = check_scalar("sigma", sigma, low=0.0)
    beta_min = check_scalar("beta_min", beta_min, low=0.0, low_open=True)
    rho = check_scalar("rho", rho, low=0.0, high=1.0, high_open=True)
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    if lam is None:
        lam = 2.0 * sigma * math.sqrt(2.0 * math.log(max(p, 2)) / n_samples)
    lam = check_scalar("lam", lam, low=0.0)
    theta = np.zeros(p)
    pos = gen.choice(p, size=s, replace=False)
    theta[pos] = beta_min * gen.choice(np.array([-1.0, 1.0]), size=s)
    X = _design(n_samples, p, gen, rho)
    y = X @ theta + sigma * gen.standard_normal(n_samples)
    if steps is None:
        steps = epochs * -(-n_samples // batch_size)
    return finite_sum_problem("least_squares", X, y, batch_size=batch_size, steps=steps, sampling=sampling,
                              rng=gen, x0=x0, init_scale=init_scale, dtype=dtype,
                              name=f"lasso(n={n_samples}, p={p}, s={s})",
                              meta={"truth": theta, "support": theta != 0, "lam": lam,
                                    "regularizer": ("l1", {"lam": lam}), "sigma": sigma, "beta_min": beta_min,
                                    "rho": rho, "seed": seed,
                                    "objective": "F(theta) = ||X theta - y||^2 / (2 n) + lam ||theta||_1"})


# ========================================================== real data (local)
@functools.lru_cache(maxsize=1)
def _digits_arrays():
    """scikit-learn's digits: read from the CSV shipped inside the package
    (``sklearn/datasets/data/digits.csv.gz``); ``load_digits`` never downloads."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return np.asarray(d.data, dtype=np.float64), np.asarray(d.target, dtype=np.int64)


@functools.lru_cache(maxsize=1)
def _mnist1d_arrays():
    """MNIST-1D from the package's generator ``mnist1d.data.make_dataset`` with its
    default arguments (4000 train / 1000 test signals of length 40, its own seed 42).

    ``make_dataset`` builds the signals from templates with numpy/scipy; it
    never touches the network (unlike ``get_dataset``, which tries the URL in
    the default arguments first and is **not** called here). It reseeds
    numpy's and Python's *global* generators (``set_seed``), so both are
    saved and restored around the call.
    """
    import random

    import mnist1d.data as md

    np_state = np.random.get_state()
    py_state = random.getstate()
    try:
        ds = md.make_dataset(md.get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return (np.asarray(ds["x"], dtype=np.float64), np.asarray(ds["y"], dtype=np.int64),
            np.asarray(ds["x_test"], dtype=np.float64), np.asarray(ds["y_test"], dtype=np.int64))


def _input_groups(q_features, n_classes, bias):
    """Input-wise groups of a row-major ``W`` (feature ``j`` = entries ``j K .. j K + K - 1``);
    the bias row (last) is in no group (not regularized, ramda.txt Sec 6)."""
    n = (q_features + (1 if bias else 0)) * n_classes
    groups = [np.arange(j * n_classes, (j + 1) * n_classes) for j in range(q_features)]
    return Groups(n, groups)


def _classification_problem(Xtr, ytr, Xte, yte, *, name, source, bias, batch_size, epochs, steps, sampling,
                            x0, init_scale, gen, seed, dtype, extra):
    n_classes = int(max(ytr.max(), yte.max() if yte.size else 0)) + 1
    q = Xtr.shape[1]
    if bias:
        Xtr = np.hstack([Xtr, np.ones((Xtr.shape[0], 1))])
        Xte = np.hstack([Xte, np.ones((Xte.shape[0], 1))])
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    if steps is None:
        steps = epochs * -(-Xtr.shape[0] // batch_size)
    meta = {"groups": _input_groups(q, n_classes, bias), "n_features": q, "bias": bias,
            "A_test": np.ascontiguousarray(Xte), "b_test": yte, "seed": seed, "source": source}
    meta.update(extra)
    return finite_sum_problem("softmax", Xtr, ytr, batch_size=batch_size, steps=steps, sampling=sampling,
                              rng=gen, x0=x0, init_scale=init_scale, n_classes=n_classes, dtype=dtype, name=name,
                              meta=meta)


def digits_group_logistic(*, batch_size=32, epochs=10, steps=None, sampling="epoch", test_size=0.2,
                          standardize=True, bias=True, x0="zeros", init_scale=0.01, seed=None, rng=None,
                          dtype=np.float64):
    """Group-lasso multinomial logistic regression on scikit-learn's ``load_digits``.

    1797 images of 8x8 pixels (64 features, values 0..16), 10 classes, read from
    the file shipped with scikit-learn (no download). A seeded permutation holds
    out ``test_size`` of the rows; with ``standardize`` the features are divided
    by 16 and centered and scaled by the *training* mean and standard deviation
    (constant pixels are left at 0). ``x`` is the row-major weight matrix
    ``(64 + bias) x 10``; ``meta["groups"]`` puts the 10 weights of each pixel
    in one group (input-wise, weights ``sqrt(10)``), the bias row in none — the
    layout of ramda.txt Sec 6 and App. C (logistic regression, Table 7 row 1).

    Returns
    -------
    Problem
        ``kind = "softmax"``; ``meta["A_test"]``, ``meta["b_test"]`` for
        :func:`accuracy`.
    """
    gen = _resolve_rng(seed, rng)
    test_size = check_scalar("test_size", test_size, low=0.0, high=1.0, high_open=True)
    X, y = _digits_arrays()
    X = X.copy()
    perm = gen.permutation(X.shape[0])
    n_test = int(round(test_size * X.shape[0]))
    te, tr = perm[:n_test], perm[n_test:]
    if standardize:
        X = X / 16.0
        mu = X[tr].mean(axis=0)
        sd = X[tr].std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        X = (X - mu) / sd
    return _classification_problem(X[tr], y[tr], X[te], y[te], name="digits(group logistic)",
                                   source="sklearn.datasets.load_digits (shipped with scikit-learn)", bias=bias,
                                   batch_size=batch_size, epochs=epochs, steps=steps, sampling=sampling, x0=x0,
                                   init_scale=init_scale, gen=gen, seed=seed, dtype=dtype,
                                   extra={"test_size": test_size, "standardize": standardize})


def mnist1d_group_logistic(*, batch_size=64, epochs=10, steps=None, sampling="epoch", bias=True, x0="zeros",
                           init_scale=0.01, seed=None, rng=None, dtype=np.float64):
    """Group-lasso multinomial logistic regression on MNIST-1D, from the generator.

    The data are ``mnist1d.data.make_dataset()`` with the package's default
    arguments (5000 signals of length 40, 10 classes, the package's own split:
    4000 train / 1000 test, already centered and scaled; the generator's seed 42
    fixes them, so they are the same in every process). **Nothing is
    downloaded**: ``make_dataset`` builds the signals from templates (the URL in
    the default arguments is used only by ``get_dataset``, which proxlab never
    calls), and the global numpy/Python random states are restored after it
    reseeds them. ``seed``/``rng`` only drive the batch table and ``x0``. Layout
    as :func:`digits_group_logistic` (40 input-wise groups of 10, bias row
    ungrouped).
    """
    gen = _resolve_rng(seed, rng)
    Xtr, ytr, Xte, yte = _mnist1d_arrays()
    return _classification_problem(Xtr.copy(), ytr.copy(), Xte.copy(), yte.copy(), name="mnist1d(group logistic)",
                                   source="mnist1d.data.make_dataset() (the package's generator, default args)",
                                   bias=bias, batch_size=batch_size, epochs=epochs, steps=steps, sampling=sampling,
                                   x0=x0, init_scale=init_scale, gen=gen, seed=seed, dtype=dtype, extra={})

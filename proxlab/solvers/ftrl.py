r"""FTRL-Proximal with per-coordinate learning rates (McMahan et al., KDD 2013,
"Ad click prediction: a view from the trenches", Algorithm 1; GA eq (2), ref [11]).

Per coordinate ``i``, with ``n_0 = initial_accumulator``::

    n_t     = n_{t-1} + g_t^2
    sigma_t = (sqrt(n_t) - sqrt(n_{t-1})) / alpha         (t >= 2)
    z_t     = z_{t-1} + g_t - sigma_t x_t
    x_{t+1} = 0                                            if |z_t| <= lam1
            = -(z_t - sign(z_t) lam1) / ((beta + sqrt(n_t)) / alpha + lam2)   otherwise

i.e. ``x_{t+1} = argmin g_{1:t} . x + 1/2 sum_s sigma_s ||x - x_s||^2 + lam1 ||x||_1
+ (lam2 / 2) ||x||^2`` with ``sigma_{1:t} = (beta + sqrt(n_t)) / alpha`` (McMahan's
``lam2`` multiplies ``||x||^2 / 2``: GA's ``lambda_2 ||x||^2`` is ``lam2 = 2 lambda_2``).

**The first step.** McMahan's Algorithm 1 starts from ``z = 0`` (so ``x_1 = 0``)
and computes ``sigma_1 = (sqrt(n_1) - sqrt(n_0)) / alpha``, which equals the
sum ``sigma_{1:1} = (beta + sqrt(n_1)) / alpha`` only up to a term multiplying
``x_1 = 0``. For a non-zero starting point the two readings differ:

* ``sigma1="telescoped"`` (default): ``sigma_1 = (beta + sqrt(n_1)) / alpha``, so
  ``sigma_{1:t}`` is the update's denominator at every ``t`` and, with
  ``lam1 = lam2 = 0``, the iterates are ``torch.optim.Adagrad(lr=alpha,
  eps=beta, initial_accumulator_value=n_0)`` for any ``x_1``;
* ``sigma1="increment"``: Algorithm 1's line read literally with ``x_1 != 0``
  (TensorFlow's ``ApplyFtrl`` kernel): ``x_2 = x_1 - alpha g_1/(beta + sqrt(n_1))
  - (beta + sqrt(n_0)) x_1 / (beta + sqrt(n_1))``: part of ``x_1`` is forgotten
  (all of it where ``g_1 = 0``; TF issue #50118).

Both coincide when ``x_1 = 0``. With ``beta = 0`` and ``n_0 = eps`` this is Group
Adagrad (GA Algorithm 3) with ``lam21 = 0`` (claim GA-T2).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_nonneg, check_scalar
from ._base import Algorithm, Subproblem, check_lr, register

SIGMA1 = ("telescoped", "increment")
_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


@njit(cache=True, error_model="numpy")
def ftrl_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    """One FTRL-Proximal step; ``h = (alpha, lam1, lam2, n0, beta, increment)``,
    ``S = (z, n)``."""
    alpha, lam1, lam2, beta, increment = h[0], h[1], h[2], h[4], h[5]
    z = S[0]
    nacc = S[1]
    for i in range(x.shape[0]):
        gi = np.float64(g[i])
        n_old = np.float64(nacc[i])
        n_new = n_old + gi * gi
        root = math.sqrt(n_new)
        if t == 1 and increment == 0.0:
            sigma = (beta + root) / alpha
        else:
            sigma = (root - math.sqrt(n_old)) / alpha
        zi = z[i] + gi - sigma * x[i]
        z[i] = zi
        nacc[i] = n_new
        den = (beta + root) / alpha + lam2
        x[i] = (min(max(zi, -lam1), lam1) - zi) / den


@register
class FTRL(Algorithm):
    """FTRL-Proximal (McMahan et al. 2013, Algorithm 1), per-coordinate rates.

    Parameters
    ----------
    lr : float > 0, default 0.1
        ``alpha``.
    beta : float >= 0, default 1.0
        McMahan's ``beta`` (a constructor keyword, not in ``defaults``: proxlab
        reserves hyperparameter names ``beta*`` for averaging rates in [0, 1)).
    lam1, lam2 : float >= 0, default 0
        ``lambda_1 ||x||_1`` and ``(lambda_2 / 2) ||x||^2`` (McMahan's scaling).
    initial_accumulator : float >= 0, default 0
        ``n_0`` (McMahan: 0; TensorFlow: 0.1). ``beta + sqrt(n_0)`` must be > 0.
    sigma1 : {"telescoped", "increment"}, default "telescoped"
        The first-step ``sigma_1`` (module docstring); equal when ``x_1 = 0``.

    Notes
    -----
    State: ``z``, ``n``. The step is the exact minimizer of
    ``z_t . x + 1/2 x' D_t x + lam1 ||x||_1 + (lam2/2) ||x||^2`` with
    ``D_t = (beta + sqrt(n_t)) / alpha``: ``subproblem`` returns it as the
    elastic-net metric prox with ``d = alpha D_t``, centre ``-z_t / D_t``.
    """

    name = "ftrl"
    family = "FTRL"
    source = "McMahan et al. 2013, Alg. 1 (GA eq (2), ref [11])"
    parent = "torch.optim.Adagrad(lr, eps=beta, initial_accumulator_value=n0) (sigma1='telescoped')"
    defaults = {"lr": 0.1, "lam1": 0.0, "lam2": 0.0, "initial_accumulator": 0.0}
    fields = ("z", "n")
    _kernel = ftrl_kernel

    def __init__(self, regularizer=None, nan_policy="raise", beta=1.0, sigma1="telescoped", **hyper):
        if regularizer is not None:
            raise TypeError("ftrl takes its regularizer as lam1 and lam2 (l1 and (lam2/2)||x||^2), "
                            f"not regularizer={regularizer!r}")
        super().__init__(regularizer=None, nan_policy=nan_policy, **hyper)
        self.beta = check_scalar("beta", beta, low=0.0)
        if self.beta + math.sqrt(self.hyper["initial_accumulator"]) <= 0.0:
            raise ValueError("beta + sqrt(initial_accumulator) must be > 0 (the first denominator "
                             "(beta + sqrt(n_1)) / lr is 0 on a coordinate whose first gradient is 0)")
        if sigma1 not in SIGMA1:
            raise ValueError(f"sigma1 must be one of {SIGMA1}, got {sigma1!r}")
        self.sigma1 = sigma1
        lam1, lam2 = self.hyper["lam1"], self.hyper["lam2"]
        if lam1 or lam2:
            from .. import regularizers

            self.regularizer = regularizers.get("elastic_net", lam1=lam1, lam2=0.5 * lam2)

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        hyper["lam1"] = check_nonneg("lam1", hyper["lam1"])
        hyper["lam2"] = check_nonneg("lam2", hyper["lam2"])
        hyper["initial_accumulator"] = check_nonneg("initial_accumulator", hyper["initial_accumulator"])
        return hyper

    @property
    def h(self):
        hp = self.hyper
        return np.array([hp["lr"], hp["lam1"], hp["lam2"], hp["initial_accumulator"], self.beta,
                         1.0 if self.sigma1 == "increment" else 0.0], dtype=np.float64)

    def _spec(self):
        return 0, _EMPTY_F, _EMPTY_I, _EMPTY_I, _EMPTY_F

    def _init_state(self, state):
        state["n"][:] = self.hyper["initial_accumulator"]

    def _quantities(self, state, grad):
        hp = self.hyper
        t = state.t + 1
        g = grad.astype(np.float64)
        n_old = state["n"].astype(np.float64)
        n_new = n_old + g * g
        root = np.sqrt(n_new)
        if t == 1 and self.sigma1 == "telescoped":
            sigma = (self.beta + root) / hp["lr"]
        else:
            sigma = (root - np.sqrt(n_old)) / hp["lr"]
        z = state["z"].astype(np.float64) + g - sigma * state["x"].astype(np.float64)
        D = (self.beta + root) / hp["lr"]
        return z, n_new, D

    def subproblem(self, state, grad):
        """``argmin lam1 ||x||_1 + (lam2/2) ||x||^2 + (1/(2 lr)) sum_i d_i (x_i - c_i)^2``,
        ``d = lr D_t = beta + sqrt(n_t)``, ``c = -z_t / D_t``."""
        z, _, D = self._quantities(state, grad)
        lr = self.hyper["lr"]
        return Subproblem(self.regularizer, (-z / D).astype(state["x"].dtype), lr, lr * D)

    def _advance(self, state, grad, prox_point):
        z, n_new, _ = self._quantities(state, grad)
        state["z"][:] = z
        state["n"][:] = n_new
        state["x"][:] = prox_point

    def __repr__(self):
        hyp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items())
        return f"FTRL({hyp}, beta={self.beta:g}, sigma1={self.sigma1!r})"

    @classmethod
    def examples(cls, rng):
        return [
            cls(lr=0.1, lam1=0.1, lam2=0.05),
            cls(lr=0.5, beta=0.0, initial_accumulator=0.1, lam1=0.3),
            cls(lr=0.1, lam1=0.05, sigma1="increment"),
            cls(lr=0.1, beta=0.5, lam2=0.2),
            cls(lr=0.05),
        ]

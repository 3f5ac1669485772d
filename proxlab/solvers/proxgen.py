"""ProxGen with the Adam preconditioner (ProxAdam), proxgen.txt Algorithm 1.

At step ``t`` (``t = 1, 2, ...``) with gradient ``g_t`` at ``theta_t``::

    m_t = beta1 m_{t-1} + (1 - beta1) g_t                     (line 6, rho_t = beta1)
    v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    C_t = sqrt(v_t / (1 - beta2^t))                           (line 7, Adam's preconditioner)
    theta_{t+1} = argmin_theta <m_t / (1 - beta1^t), theta> + R(theta)
                  + (1 / (2 lr)) (theta - theta_t)^T (C_t + eps I) (theta - theta_t)     (line 8)
                = prox^{C_t + eps I}_{lr R}(theta_t - lr (C_t + eps I)^{-1} m_t / (1 - beta1^t))   (eq (2))

``R`` is any catalogue regularizer (its strength ``lam`` is part of ``R``);
the diagonal metric prox is ``R.prox_metric``. With ``R = 0`` (or every lambda
0) this is ``torch.optim.Adam`` exactly (eps outside the root, both bias
corrections). ``bias_correction=0`` gives Algorithm 1 as printed (no bias
correction).

Note: Sec 2 and Sec 4 print the preconditioner as
``C_t = sqrt(beta C_{t-1} + (1 - beta) g_t^2)``, which feeds the square root
back into itself; Adam's (and the public code's) ``C_t = sqrt(v_t)`` with
``v_t = beta v_{t-1} + (1 - beta) g_t^2`` is used here (docs/errata.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..regularizers._dispatch import QUANT, prox_metric_dispatch, prox_scalar
from ._base import Algorithm, Subproblem, check_beta, check_eps, check_lr, register


def _make_proxadam_kernel(KIND):
    """The ProxAdam kernel with the regularizer kind frozen (``KIND >= 0``, a
    separable kind: one vectorized pass) or read at run time (``KIND = -1``,
    :func:`proxadam_kernel`)."""

    @njit(cache=True, error_model="numpy")
    def kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
        """One ProxAdam step: moments, centre and, for a separable regularizer,
        the prox per coordinate in the same pass; grouped regularizers get the
        metric prox of :func:`prox_metric_dispatch` after the pass."""
        kk = kind if KIND < 0 else KIND
        lr, beta1, beta2, eps, bias_correction = h[0], h[1], h[2], h[3], h[4]
        bc1 = 1.0 - beta1 ** t if bias_correction != 0.0 else 1.0
        bc2 = 1.0 - beta2 ** t if bias_correction != 0.0 else 1.0
        m = S[0]
        v = S[1]
        d = work[0]
        fused = kk <= QUANT  # separable: moments, centre and prox per coordinate
        p0 = rp[0] if rp.shape[0] > 0 else 0.0
        p1 = rp[1] if rp.shape[0] > 1 else 0.0
        weighted = fused and gw.shape[0] > 0  # weighted l1
        # one division per coordinate: the step is compute-bound on div/sqrt throughput
        inv_bc1 = 1.0 / bc1
        inv_bc2 = 1.0 / bc2
        for i in range(x.shape[0]):
            gi = g[i]
            mi = beta1 * m[i] + (1.0 - beta1) * gi
            vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
            m[i] = mi
            v[i] = vi
            di = math.sqrt(vi * inv_bc2) + eps
            ti = lr / di  # the per-coordinate prox step t_i = lr / d_i
            c = x[i] - ti * (mi * inv_bc1)
            if fused:
                x[i] = prox_scalar(kk, p0, p1, gw[i] if weighted else 1.0, c, ti)
            else:
                d[i] = di
                x[i] = c
        if not fused:
            prox_metric_dispatch(kk, rp, idx, ptr, gw, x, lr, d, x, work[1])

    return kernel


proxadam_kernel = _make_proxadam_kernel(-1)


@register
class ProxGen(Algorithm):
    """ProxGen with Adam's preconditioner (ProxAdam).

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``R`` of line 8 (its ``lam`` included); ``None`` for no regularizer.
    lr : float, default 1e-3
        ``alpha_t`` (constant).
    beta1, beta2 : float in [0, 1), defaults 0.9, 0.999
        ``rho_t`` and Adam's second-moment rate (proxgen.txt Sec 4).
    eps : float >= 0, default 1e-8
        ``delta`` of Algorithm 1 (added outside the square root).
    bias_correction : {1, 0}, default 1
        1: Adam's bias corrections (the public code; reduces to torch Adam);
        0: Algorithm 1 as printed.
    """

    name = "proxgen"
    family = "ProxGen"
    source = "PG Alg. 1, eq (2)"
    parent = "torch.optim.Adam"
    defaults = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "bias_correction": 1}
    fields = ("m", "v")
    _kernel = proxadam_kernel
    _kernel_factory = staticmethod(_make_proxadam_kernel)

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        hyper["beta1"] = check_beta(hyper["beta1"], "beta1")
        hyper["beta2"] = check_beta(hyper["beta2"], "beta2")
        hyper["eps"] = check_eps(hyper["eps"])
        if hyper["bias_correction"] not in (0, 1, True, False):
            raise ValueError(f"bias_correction must be 0 or 1, got {hyper['bias_correction']!r}")
        hyper["bias_correction"] = int(hyper["bias_correction"])
        return hyper

    def _moments(self, state, grad):
        hp, t = self.hyper, state.t + 1
        g = grad.astype(np.float64)
        m = hp["beta1"] * state["m"] + (1 - hp["beta1"]) * g
        v = hp["beta2"] * state["v"] + (1 - hp["beta2"]) * g * g
        bc1 = 1 - hp["beta1"] ** t if hp["bias_correction"] else 1.0
        bc2 = 1 - hp["beta2"] ** t if hp["bias_correction"] else 1.0
        d = np.sqrt(v / bc2) + hp["eps"]
        return m, v, m / bc1, d

    def subproblem(self, state, grad):
        _, _, mhat, d = self._moments(state, grad)
        lr = self.hyper["lr"]
        center = state["x"] - lr * mhat / d
        return Subproblem(self.regularizer, center, lr, d)

    def _advance(self, state, grad, prox_point):
        m, v, _, _ = self._moments(state, grad)
        state["m"][:] = m
        state["v"][:] = v
        state["x"][:] = prox_point

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        return [
            cls(regularizer=regularizers.get("l1", lam=0.05), lr=0.1),
            cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=[np.arange(0, 5), np.arange(5, 6),
                                                                           np.arange(6, 12)]), lr=0.05),
            cls(regularizer=regularizers.get("l_half", lam=0.02), lr=0.1, bias_correction=0),
            cls(regularizer=regularizers.get("mcp", lam=0.1, gamma=2.0), lr=0.1, eps=1e-3),
            cls(regularizer=None, lr=0.01),
        ]

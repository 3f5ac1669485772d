"""ProxQuant (Bai et al. 2019) and the revised ProxQuant of proxgen.txt Table 2.

With Adam's moments (as in :mod:`proxlab.solvers.proxgen`)::

    m_t = beta1 m_{t-1} + (1 - beta1) g_t,   v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    C_t + delta I = sqrt(v_t / (1 - beta2^t)) + eps,   mhat_t = m_t / (1 - beta1^t)
    z_t = theta_t - alpha (C_t + delta I)^{-1} mhat_t          (the Adam step)

the two rows of Table 2 are::

    ProxQuant           theta_{t+1} = prox_{alpha lam R}(z_t)
                                    = argmin_x lam R(x) + (1 / (2 alpha)) ||x - z_t||^2
    revised ProxQuant   theta_{t+1} = prox^{C_t + delta I}_{alpha lam R}(z_t)
                                    = argmin_x lam R(x) + (1 / (2 alpha)) ||x - z_t||^2_{C_t + delta I}

The revised row is ProxGen (line 8 / eq (2)) with ``R = R_bin``, so
:class:`RevisedProxQuant` is :class:`~proxlab.solvers.proxgen.ProxGen` with the
binary-quantization regularizer as its default and no kernel of its own. The
original row solves the Euclidean prox, which is *not* the minimizer of the
preconditioned subproblem of line 8 unless ``C_t + delta I`` is a multiple of
the identity (measured in tests/test_proxgen_family.py).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..regularizers._dispatch import prox_metric_dispatch
from ._base import Subproblem, register
from .proxgen import ProxGen

#: sentinel: "no regularizer given" (``None`` means "no regularizer")
_DEFAULT = object()


def _default_regularizer():
    from .. import regularizers

    return regularizers.get("binary_quant", q=1.0)


@njit(cache=True, error_model="numpy")
def proxquant_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    """Adam step, then the Euclidean prox with step ``lr`` (Table 2, top)."""
    lr, beta1, beta2, eps, bias_correction = h[0], h[1], h[2], h[3], h[4]
    bc1 = 1.0 - beta1 ** t if bias_correction != 0.0 else 1.0
    bc2 = 1.0 - beta2 ** t if bias_correction != 0.0 else 1.0
    m = S[0]
    v = S[1]
    d = work[0]
    for i in range(x.shape[0]):
        gi = g[i]
        mi = beta1 * m[i] + (1.0 - beta1) * gi
        vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
        m[i] = mi
        v[i] = vi
        x[i] = x[i] - lr * (mi / bc1) / (math.sqrt(vi / bc2) + eps)
        d[i] = 1.0  # the prox ignores the preconditioner
    prox_metric_dispatch(kind, rp, idx, ptr, gw, x, lr, d, x, work[1])


@register
class ProxQuant(ProxGen):
    r"""The original ProxQuant: Adam step, then the *unpreconditioned* prox
    (proxgen.txt Table 2, top row).

    .. math::

        \theta_{t+1} = \operatorname{prox}_{\alpha\lambda R}\big(\theta_t
                       - \alpha (C_t + \delta I)^{-1} \hat m_t\big)
                     = \operatorname*{argmin}_x \lambda R(x)
                       + \frac{1}{2\alpha}\big\|x - \theta_t
                       + \alpha (C_t + \delta I)^{-1}\hat m_t\big\|_2^2

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params), default binary_quant (q = 1)
        ``lam R``; the default is ``R_bin(theta) = ||theta - sign(theta)||_1``
        with the catalogue's default strength (``lam = 1``). ``None``: Adam.
    lr, beta1, beta2, eps, bias_correction
        As :class:`~proxlab.solvers.proxgen.ProxGen` (defaults 1e-3, 0.9,
        0.999, 1e-8, 1). With ``lam = 0`` this is ``torch.optim.Adam``.

    Notes
    -----
    Its subproblem is the Euclidean prox of the Adam-updated point: its prox
    point solves that problem exactly, but is not the minimizer of ProxGen's
    preconditioned subproblem (line 8), which :class:`RevisedProxQuant`
    solves. Bai et al.'s public code also grows ``lam`` linearly with the
    epoch (a homotopy) and freezes the weights at a final epoch; Table 2
    prints the per-step rule only, which is what is implemented (change
    ``lam`` between runs for a homotopy).
    """

    name = "proxquant"
    family = "ProxQuant"
    source = "PG Table 2 (top); Bai et al. 2019"
    parent = "torch.optim.Adam"
    _kernel = proxquant_kernel

    def __init__(self, regularizer=_DEFAULT, nan_policy="raise", **hyper):
        super().__init__(regularizer=_default_regularizer() if regularizer is _DEFAULT else regularizer,
                         nan_policy=nan_policy, **hyper)

    def subproblem(self, state, grad):
        """``argmin_x R(x) + (1/(2 lr)) ||x - z_t||^2`` with the Adam point ``z_t``."""
        _, _, mhat, d = self._moments(state, grad)
        lr = self.hyper["lr"]
        return Subproblem(self.regularizer, state["x"] - lr * mhat / d, lr, None)

    @classmethod
    def examples(cls, rng):
        return _examples(cls)


@register
class RevisedProxQuant(ProxGen):
    r"""Revised ProxQuant (proxgen.txt Table 2, bottom row): ProxGen with the
    binary-quantization regularizer.

    .. math::

        \theta_{t+1} = \operatorname{prox}^{C_t + \delta I}_{\alpha\lambda R}
                       \big(\theta_t - \alpha (C_t + \delta I)^{-1} \hat m_t\big)

    the exact minimizer of ProxGen's line 8 with ``R = R_bin^q``
    (``R_bin^q(theta) = sum_j |theta_j - sign(theta_j)|^q``, Sec 2). Same
    kernel, subproblem and hyperparameters as
    :class:`~proxlab.solvers.proxgen.ProxGen`; only the default regularizer
    differs.

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params), default binary_quant (q = 1)
        Any catalogue regularizer is accepted (it is ProxGen).
    lr, beta1, beta2, eps, bias_correction
        As :class:`~proxlab.solvers.proxgen.ProxGen`.
    """

    name = "revised_proxquant"
    family = "ProxQuant"
    source = "PG Table 2 (bottom), eq (2)"

    def __init__(self, regularizer=_DEFAULT, nan_policy="raise", **hyper):
        super().__init__(regularizer=_default_regularizer() if regularizer is _DEFAULT else regularizer,
                         nan_policy=nan_policy, **hyper)

    @classmethod
    def examples(cls, rng):
        return _examples(cls)


def _examples(cls):
    from .. import regularizers

    n = 12
    groups = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
    return [
        cls(regularizer=regularizers.get("binary_quant", lam=0.05, q=1.0), lr=0.1),
        cls(regularizer=regularizers.get("binary_quant", lam=0.02, q=0.5), lr=0.05, eps=1e-3),
        cls(regularizer=regularizers.get("binary_quant", lam=0.02, q=2.0 / 3.0), lr=0.1, bias_correction=0),
        cls(regularizer=regularizers.get("l1", lam=0.05), lr=0.1),
        cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=groups), lr=0.05),
        cls(regularizer=None, lr=0.01),
    ]

"""Regularized dual averaging: RDA (mrda.txt Algorithm 1) and the modified RDA
of Jia et al. (mrda.txt Algorithm 2).

At step ``t`` (``t = 1, 2, ...``) with gradient ``g_t`` at ``w_t``::

    gbar_t  = ((t - 1) / t) gbar_{t-1} + g_t / t                        (16), (28)
    beta_t  = gamma t^power              (power = 1/2: beta_t = gamma sqrt(t), below (14))
    w_{t+1} = argmin_w <gbar_t, w> + Psi(w) + (beta_t / (2 t)) ||w - a||^2   (17), (29)
            = argmin_w Psi(w) + (1 / (2 s_t)) ||w - (a - s_t gbar_t)||^2,  s_t = t / beta_t
            = prox_{s_t Psi}(a - s_t gbar_t)                              (13)-(14)

The anchor ``a`` is the only difference between the two methods:

* RDA (Algorithm 1): ``a = w_0 = w_1`` (the starting point ``x0``), stored in
  the state (dual averaging keeps its anchor; the iterates never forget it).
  Algorithm 1 asks ``argmin h in Argmin Psi``, i.e. ``w_0 = 0`` for
  ``Psi = lam ||.||_1`` (Sec 3.4); the rule itself is well defined for any
  ``w_0``, so any ``x0`` is accepted and becomes the anchor.
* modified RDA (Algorithm 2): ``a = w_0 = 0`` while ``w_1`` (the starting
  point ``x0``) is random; ``w_1`` enters only through ``g_1``. The schedule is
  fixed to ``beta_t = gamma sqrt(t)``.

With ``Psi = lam ||.||_1`` the prox is soft-thresholding of the centre with
threshold ``s_t lam`` (eq (22)). Note (docs/errata/mrda_proxgen.md):
eq (12) prints the centre as ``w_0 + (t / beta_t) gbar_t``; the minimizer of
(11) has ``w_0 - (t / beta_t) gbar_t`` as in (13), which is what is used here.
Algorithm 2 lists ``h(w) = ||w||_2^2`` but its update (29) carries
``beta_t / (2t) ||w||^2``, i.e. ``h = ||w||^2 / 2``; (29) is implemented.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._validation import check_scalar
from ..regularizers._dispatch import QUANT, prox_metric_dispatch, prox_scalar
from ._base import Algorithm, Subproblem, register


def _make_dual_averaging_kernel(KIND):
    """The RDA / modified-RDA kernel with the regularizer kind frozen
    (``KIND >= 0``) or read at run time (``KIND = -1``, :func:`dual_averaging_kernel`)."""

    @njit(cache=True, error_model="numpy")
    def kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
        """One RDA / modified-RDA step (shared kernel).

        ``h = (gamma, power)``: ``beta_t = gamma t^power``. ``S[0]`` is ``gbar``;
        ``S[1]``, when present, is the anchor ``w_0`` (RDA), otherwise the anchor
        is 0 (modified RDA). A separable prox is applied in the same pass.
        """
        kk = kind if KIND < 0 else KIND
        gamma, power = h[0], h[1]
        s = t / (gamma * t ** power)  # t / beta_t
        a = (t - 1.0) / t
        b = 1.0 / t
        gbar = S[0]
        anchored = S.shape[0] > 1
        fused = kk <= QUANT
        p0 = rp[0] if rp.shape[0] > 0 else 0.0
        p1 = rp[1] if rp.shape[0] > 1 else 0.0
        weighted = fused and gw.shape[0] > 0  # weighted l1
        d = work[0]
        for i in range(x.shape[0]):
            gb = a * gbar[i] + b * g[i]
            gbar[i] = gb
            w0 = S[1, i] if anchored else 0.0
            c = w0 - s * gb
            if fused:
                x[i] = prox_scalar(kk, p0, p1, gw[i] if weighted else 1.0, c, s)
            else:
                x[i] = c
                d[i] = 1.0
        if not fused:
            prox_metric_dispatch(kk, rp, idx, ptr, gw, x, s, d, x, work[1])

    return kernel


dual_averaging_kernel = _make_dual_averaging_kernel(-1)


def _check_gamma(value):
    return check_scalar("gamma", value, low=0.0, low_open=True)


def _check_power(value):
    return check_scalar("power", value, low=0.0)


class _DualAveraging(Algorithm):
    family = "dual averaging"
    _kernel = dual_averaging_kernel
    _kernel_factory = staticmethod(_make_dual_averaging_kernel)
    #: constants appended to the hyperparameters in ``h`` (fixed by the paper)
    _fixed_h = ()

    @property
    def h(self):
        return np.array([float(self.hyper[k]) for k in self.defaults] + list(self._fixed_h), dtype=np.float64)

    def _step_size(self, t):
        """``s_t = t / beta_t`` with ``beta_t = gamma t^power``."""
        gamma, power = self.h[0], self.h[1]
        return t / (gamma * t ** power)

    def _anchor(self, state):
        raise TypeError(f"{type(self).__name__} must define its anchor (abstract base)")

    def _gbar(self, state, grad):
        t = state.t + 1
        return ((t - 1.0) / t) * state["gbar"].astype(np.float64) + (1.0 / t) * grad.astype(np.float64)

    def subproblem(self, state, grad):
        """``argmin_w Psi(w) + (1/(2 s_t)) ||w - (a - s_t gbar_t)||^2`` (eqs (13)-(14))."""
        t = state.t + 1
        s = self._step_size(t)
        center = self._anchor(state) - s * self._gbar(state, grad)
        return Subproblem(self.regularizer, center, s)

    def _advance(self, state, grad, prox_point):
        state["gbar"][:] = self._gbar(state, grad)
        state["x"][:] = prox_point


@register
class RDA(_DualAveraging):
    r"""Regularized dual averaging (Xiao 2010), mrda.txt Algorithm 1.

    .. math::

        \bar g_t = \tfrac{t-1}{t}\bar g_{t-1} + \tfrac1t g_t, \qquad
        w_{t+1} = \operatorname*{argmin}_w \langle \bar g_t, w\rangle + \Psi(w)
                  + \frac{\beta_t}{2t}\|w - w_0\|_2^2
                = \operatorname{prox}_{s_t\Psi}\big(w_0 - s_t \bar g_t\big),
        \quad s_t = t/\beta_t,\ \beta_t = \gamma t^{p}

    (eqs (13)-(17); with ``Psi = lam ||.||_1`` the closed form is eq (22)).

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``Psi`` (its ``lam`` included); ``None`` for simple dual averaging.
        The convergence theory (Appendix) assumes a convex ``Psi``; the step
        is a prox and is well defined for every catalogue regularizer.
    gamma : float > 0, default 1.0
        ``beta_t = gamma t^power`` (Tables 1, 4: ``gamma = 1``).
    power : float >= 0, default 0.5
        ``beta_t = gamma sqrt(t)`` (below eq (14)); eq (7) studies ``gamma t^alpha``.

    Notes
    -----
    State: ``gbar`` (the average gradient) and ``w0`` (the anchor, ``= x0``).
    With ``Psi = 0`` this is simple dual averaging ``w_{t+1} = w_0 -
    (1/beta_t) sum_{tau <= t} g_tau`` (eq (6)).
    """

    name = "rda"
    source = "MRDA Alg. 1, eqs (13)-(17); l1: eq (22)"
    parent = "simple dual averaging, MRDA eq (6) (anchor w0 = x0)"
    defaults = {"gamma": 1.0, "power": 0.5}
    fields = ("gbar", "w0")

    def _check_hyper(self, hyper):
        hyper["gamma"] = _check_gamma(hyper["gamma"])
        hyper["power"] = _check_power(hyper["power"])
        return hyper

    def _init_state(self, state):
        state["w0"][:] = state["x"]

    def _anchor(self, state):
        return state["w0"].astype(np.float64)

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        groups = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
        return [
            cls(regularizer=regularizers.get("l1", lam=0.05)),
            cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=groups), gamma=2.0),
            cls(regularizer=regularizers.get("mcp", lam=0.1, gamma=2.0), gamma=1.5),
            cls(regularizer=regularizers.get("l1", lam=0.02), gamma=0.5, power=0.75),
            cls(regularizer=None, gamma=3.0),
        ]


@register
class ModifiedRDA(_DualAveraging):
    r"""Modified RDA (Jia et al.), mrda.txt Algorithm 2.

    .. math::

        \bar g_t = \tfrac{t-1}{t}\bar g_{t-1} + \tfrac1t g_t, \qquad
        w_{t+1} = \operatorname*{argmin}_w \langle \bar g_t, w\rangle + \Psi(w)
                  + \frac{\beta_t}{2t}\|w\|_2^2
                = \operatorname{prox}_{s_t\Psi}\big(-s_t \bar g_t\big),
        \quad s_t = \frac{t}{\beta_t} = \frac{\sqrt t}{\gamma}

    (eqs (27)-(29)). The anchor is ``w_0 = 0``; ``w_1`` (the ``x0`` given to
    :meth:`init`, drawn at random in the paper) is only where ``g_1`` is
    evaluated: ``w_2 = prox_{Psi/gamma}(-g_1/gamma)`` whatever ``w_1`` is.
    This is RDA with the anchor 0 and a starting point off the anchor (the
    Appendix's only change to Xiao's analysis).

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``Psi`` (the paper: ``lam ||w||_1``); ``None`` for no regularizer.
    gamma : float > 0, default 1.0
        ``beta_t = gamma sqrt(t)`` (Table 4: ``gamma = 1``).

    Notes
    -----
    Algorithm 2's input line says ``h(w) = ||w||_2^2`` while (29) uses
    ``beta_t / (2t) ||w||_2^2`` (``h = ||w||^2 / 2``, as in Algorithm 1); the
    printed update (29) is implemented. State: ``gbar`` only.
    """

    name = "mrda"
    source = "MRDA Alg. 2, eqs (27)-(29)"
    parent = "simple dual averaging, MRDA eq (6) with w0 = 0"
    defaults = {"gamma": 1.0}
    fields = ("gbar",)
    _fixed_h = (0.5,)  # beta_t = gamma sqrt(t)

    def _check_hyper(self, hyper):
        hyper["gamma"] = _check_gamma(hyper["gamma"])
        return hyper

    def _anchor(self, state):
        return 0.0

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        groups = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
        return [
            cls(regularizer=regularizers.get("l1", lam=0.05)),
            cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=groups), gamma=2.0),
            cls(regularizer=regularizers.get("l_half", lam=0.05), gamma=1.0),
            cls(regularizer=None, gamma=0.5),
        ]

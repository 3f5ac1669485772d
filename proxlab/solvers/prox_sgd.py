"""Proximal SGD in three forms.

* ``prox_sgd``: proximal SGD / FOBOS (mrda.txt eqs (8)-(9), l1 closed form
  eq (20)) with ``alpha_t = 1 / (gamma t^power)``;
* ``sqrt_t_prox_sgd``: the "sqrt(t)-prox-SGD" of mrda.txt eqs (23)-(25), the
  prox-SGD subproblem with the regularizer scaled by ``t``;
* ``prox_sgd_yang``: Prox-SGD of Yang et al. (ICLR 2020) as written in
  proxgen.txt eqs (5)-(6): a preconditioned prox *without* the learning rate,
  then a partial move towards it.

The first two share :func:`fobos_kernel`::

    alpha_t = 1 / (gamma t^power)
    w_{t+1} = argmin_w <g_t, w> + (1 / (2 alpha_t)) ||w - w_t||^2 + t^q Psi(w)
            = prox_{t^q alpha_t Psi}(w_t - alpha_t g_t)

with ``q = 0`` (prox-SGD) or ``q = 1`` and ``power = 1/2`` (sqrt(t)-prox-SGD).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_scalar
from ..regularizers._dispatch import prox_metric_dispatch
from ._base import Algorithm, Subproblem, check_beta, check_lr, register


@njit(cache=True, error_model="numpy")
def fobos_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    """``x <- prox_{t^q alpha_t Psi}(x - alpha_t g)``, ``alpha_t = 1/(gamma t^power)``;
    ``h = (gamma, power, q)``. No per-coordinate state."""
    gamma, power, q = h[0], h[1], h[2]
    alpha = 1.0 / (gamma * t ** power)
    step = alpha * t ** q
    d = work[0]
    for i in range(x.shape[0]):
        x[i] = x[i] - alpha * g[i]
        d[i] = 1.0
    prox_metric_dispatch(kind, rp, idx, ptr, gw, x, step, d, x, work[1])


def _check_gamma(value):
    return check_scalar("gamma", value, low=0.0, low_open=True)


class _FOBOS(Algorithm):
    family = "proximal SGD"
    _kernel = fobos_kernel
    #: constants appended to the hyperparameters in ``h``: (power, q) or (q,)
    _fixed_h = ()

    @property
    def h(self):
        return np.array([float(self.hyper[k]) for k in self.defaults] + list(self._fixed_h), dtype=np.float64)

    def _alpha_step(self, t):
        gamma, power, q = self.h
        alpha = 1.0 / (gamma * t ** power)
        return alpha, alpha * t ** q

    def subproblem(self, state, grad):
        alpha, step = self._alpha_step(state.t + 1)
        center = state["x"].astype(np.float64) - alpha * grad.astype(np.float64)
        return Subproblem(self.regularizer, center, step)

    def _advance(self, state, grad, prox_point):
        state["x"][:] = prox_point


def _examples(cls, rng, nonconvex, **kw):
    from .. import regularizers

    n = 12
    groups = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
    return [
        cls(regularizer=regularizers.get("l1", lam=0.05), **kw),
        cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=groups), **kw),
        cls(regularizer=nonconvex, **kw),
        cls(regularizer=None, **kw),
    ]


@register
class ProxSGD(_FOBOS):
    r"""Proximal SGD (forward-backward splitting), mrda.txt eqs (8)-(9).

    .. math::

        w_{t+1} = \operatorname*{argmin}_w \langle g_t, w\rangle
                  + \frac{1}{2\alpha_t}\|w - w_t\|_2^2 + \Psi(w)
                = \operatorname{prox}_{\alpha_t\Psi}(w_t - \alpha_t g_t),
        \qquad \alpha_t = \frac{1}{\gamma t^{p}}

    With ``Psi = lam ||.||_1`` this is the closed form eq (20)
    (soft-thresholding with threshold ``alpha_t lam``).

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``Psi``; ``None`` for plain SGD.
    gamma : float > 0, default 1.0
        ``alpha_t = 1 / (gamma t^power)`` (Sec 3.2: ``1/(gamma sqrt t)``;
        Table 1 fixes ``gamma = 1``).
    power : float >= 0, default 0.5
        ``0`` gives the constant step ``1/gamma``: then, with ``Psi = 0``, the
        rule is ``torch.optim.SGD(lr=1/gamma)`` (no momentum).
    """

    name = "prox_sgd"
    source = "MRDA eqs (8)-(9); l1: eq (20)"
    parent = "SGD with alpha_t = 1/(gamma t^power) (power 0: torch.optim.SGD, lr = 1/gamma)"
    defaults = {"gamma": 1.0, "power": 0.5}
    _fixed_h = (0.0,)  # q = 0: the regularizer is not scaled

    def _check_hyper(self, hyper):
        hyper["gamma"] = _check_gamma(hyper["gamma"])
        hyper["power"] = check_scalar("power", hyper["power"], low=0.0)
        return hyper

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        out = _examples(cls, rng, regularizers.get("l_two_thirds", lam=0.05))
        out.append(cls(regularizer=regularizers.get("l0", lam=0.02), gamma=2.0, power=0.0))
        return out


@register
class SqrtTProxSGD(_FOBOS):
    r"""The sqrt(t)-prox-SGD of mrda.txt eqs (23)-(25).

    .. math::

        w_{t+1/2} = w_t - \alpha_t g_t, \qquad
        w_{t+1} = \operatorname{prox}_{t\alpha_t\Psi}(w_{t+1/2}),
        \qquad \alpha_t = \frac{1}{\gamma\sqrt t}

    i.e. the prox-SGD subproblem (25) with the regularizer scaled by ``t``:
    ``argmin_w <g_t, w> + (gamma sqrt(t)/2) ||w - w_t||^2 + t Psi(w)``.

    How the regularizer is scaled: ``t Psi`` with quadratic weight
    ``1/alpha_t`` has the same minimizer as ``Psi`` with step ``t alpha_t =
    sqrt(t)/gamma`` (divide the objective by ``t``), so the kernel calls the
    catalogue prox of ``Psi`` itself with step ``sqrt(t)/gamma``; this holds
    for every regularizer (not only positively homogeneous ones). For
    ``Psi = lam ||.||_1`` and ``gamma = 1`` the threshold is ``sqrt(t) lam``
    (eq (24)).

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``Psi``; ``None`` for SGD with step ``1/(gamma sqrt t)``.
    gamma : float > 0, default 1.0
        Table 4 uses ``gamma = 1``, where (23)-(25) hold as printed: (23)
        steps by ``1/sqrt(t)`` and (24) writes ``alpha_t``. For ``gamma != 1``
        this class follows (25) with ``sqrt(t)`` replaced by
        ``gamma sqrt(t) = 1/alpha_t`` (the prox-SGD subproblem with ``t Psi``);
        see docs/errata/mrda_proxgen.md.
    """

    name = "sqrt_t_prox_sgd"
    source = "MRDA eqs (23)-(25)"
    parent = "SGD with alpha_t = 1/(gamma sqrt t)"
    defaults = {"gamma": 1.0}
    _fixed_h = (0.5, 1.0)  # power 1/2, regularizer scaled by t^1

    def _check_hyper(self, hyper):
        hyper["gamma"] = _check_gamma(hyper["gamma"])
        return hyper

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        out = _examples(cls, rng, regularizers.get("scad", lam=0.01, a=3.7))
        out.append(cls(regularizer=regularizers.get("l1", lam=0.01), gamma=4.0))
        return out


# --------------------------------------------------------------------------- Yang et al.
@njit(cache=True, error_model="numpy")
def prox_sgd_yang_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    """Yang et al.'s Prox-SGD step; ``S = (v, r, xhat)``, ``h`` in the order of
    :attr:`ProxSGDYang.defaults`."""
    lr, power_lr, rho, power_rho, offset, beta, eps, bias_correction = (h[0], h[1], h[2], h[3], h[4], h[5],
                                                                       h[6], h[7])
    eps_t = lr / (t + offset) ** power_lr
    rho_t = rho / (t + offset) ** power_rho
    bc = 1.0 - beta ** t if bias_correction != 0.0 else 1.0
    v = S[0]
    r = S[1]
    xhat = S[2]
    d = work[0]
    for i in range(x.shape[0]):
        gi = g[i]
        vi = (1.0 - rho_t) * v[i] + rho_t * gi
        ri = beta * r[i] + (1.0 - beta) * gi * gi
        v[i] = vi
        r[i] = ri
        di = math.sqrt(ri / bc) + eps
        d[i] = di
        xhat[i] = x[i] - vi / di
    prox_metric_dispatch(kind, rp, idx, ptr, gw, xhat, 1.0, d, xhat, work[1])
    for i in range(x.shape[0]):  # the partial move (6): no exact zeros in x
        x[i] = x[i] + eps_t * (xhat[i] - x[i])


@register
class ProxSGDYang(Algorithm):
    r"""Prox-SGD of Yang et al. (ICLR 2020), proxgen.txt eqs (5)-(6).

    At step ``t`` (``t = 1, 2, ...``)::

        rho_t = rho / (t + offset)^power_rho,   eps_t = lr / (t + offset)^power_lr
        v_t   = (1 - rho_t) v_{t-1} + rho_t g_t                  (momentum; PG's m_t)
        r_t   = beta r_{t-1} + (1 - beta) g_t^2
        tau_t = sqrt(r_t / (1 - beta^t)) + eps                   (PG's C_t + delta I)

    .. math::

        \hat x_t = \operatorname*{argmin}_x \langle v_t, x\rangle + \Psi(x)
                   + \tfrac12 (x - x_t)^\top \operatorname{diag}(\tau_t)(x - x_t)
                 = \operatorname{prox}^{\tau_t}_{\Psi}\big(x_t - v_t/\tau_t\big)
                 \quad\text{(5): no learning rate}

        x_{t+1} = x_t + \epsilon_t(\hat x_t - x_t) \quad\text{(6)}

    The prox point is ``xhat`` (``prox_point_field``): it carries the exact
    zeros; ``x`` itself is a convex combination of the previous ``x`` and
    ``xhat`` and has no exact zeros unless it started at zero there and every
    ``xhat`` so far was zero there (proxgen.txt Sec 5, Study 1).

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``Psi`` (Yang et al. consider convex regularizers; proxgen.txt Sec 4).
    lr : float in (0, 1], default 0.06
        ``epsilon_0`` of ``eps_t`` (Yang et al.'s public code).
    power_lr : float >= 0, default 0.5
    rho : float in (0, 1], default 0.9
        ``rho_0`` of ``rho_t``, the weight of the new gradient in ``v``.
    power_rho : float >= 0, default 0.5
    offset : float >= 0, default 4
        ``t + offset`` in both schedules (``t`` counts from 1).
    beta : float in [0, 1), default 0.999
    eps : float > 0, default 1e-7
        ``delta`` (Yang et al.'s Table I as quoted by their code).
    bias_correction : {1, 0}, default 1
        ``1 - beta^t`` in ``tau_t``.

    Notes
    -----
    With ``Psi = 0`` the step is ``x_{t+1} = x_t - eps_t v_t / tau_t``.
    Conventions fixed here where sources differ: ``v`` weights the *new*
    gradient by ``rho_t`` (Yang et al. and their TF code; their PyTorch port
    swaps it); ``t`` starts at 1 in ``t + offset`` and in ``1 - beta^t``.
    """

    name = "prox_sgd_yang"
    family = "proximal SGD"
    source = "PG eqs (5)-(6); Yang et al. 2020 Alg. 1"
    parent = "x <- x - eps_t v_t / tau_t (momentum SGD with Adam's preconditioner, no m bias correction)"
    defaults = {"lr": 0.06, "power_lr": 0.5, "rho": 0.9, "power_rho": 0.5, "offset": 4.0, "beta": 0.999,
                "eps": 1e-7, "bias_correction": 1}
    fields = ("v", "r", "xhat")
    prox_point_field = "xhat"
    _kernel = prox_sgd_yang_kernel

    def _check_hyper(self, hyper):
        hyper["lr"] = check_scalar("lr", check_lr(hyper["lr"]), high=1.0)
        hyper["power_lr"] = check_scalar("power_lr", hyper["power_lr"], low=0.0)
        hyper["rho"] = check_scalar("rho", hyper["rho"], low=0.0, low_open=True, high=1.0)
        hyper["power_rho"] = check_scalar("power_rho", hyper["power_rho"], low=0.0)
        hyper["offset"] = check_scalar("offset", hyper["offset"], low=0.0)
        hyper["beta"] = check_beta(hyper["beta"], "beta")
        hyper["eps"] = check_scalar("eps", hyper["eps"], low=0.0, low_open=True)
        if hyper["bias_correction"] not in (0, 1, True, False):
            raise ValueError(f"bias_correction must be 0 or 1, got {hyper['bias_correction']!r}")
        hyper["bias_correction"] = int(hyper["bias_correction"])
        return hyper

    def _init_state(self, state):
        state["xhat"][:] = state["x"]  # no prox point before the first step: x0

    def _moments(self, state, grad):
        hp, t = self.hyper, state.t + 1
        g = grad.astype(np.float64)
        rho_t = hp["rho"] / (t + hp["offset"]) ** hp["power_rho"]
        v = (1.0 - rho_t) * state["v"] + rho_t * g
        r = hp["beta"] * state["r"] + (1.0 - hp["beta"]) * g * g
        bc = 1.0 - hp["beta"] ** t if hp["bias_correction"] else 1.0
        d = np.sqrt(r / bc) + hp["eps"]
        return v, r, d

    def subproblem(self, state, grad):
        """``argmin_x Psi(x) + (1/2) sum_i tau_i (x_i - (x_t - v_t/tau_t)_i)^2`` (step 1)."""
        v, _, d = self._moments(state, grad)
        return Subproblem(self.regularizer, state["x"] - v / d, 1.0, d)

    def _advance(self, state, grad, prox_point):
        hp, t = self.hyper, state.t + 1
        v, r, _ = self._moments(state, grad)
        eps_t = hp["lr"] / (t + hp["offset"]) ** hp["power_lr"]
        state["v"][:] = v
        state["r"][:] = r
        state["xhat"][:] = prox_point
        x = state["x"]
        x[:] = x + eps_t * (state["xhat"] - x)

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        groups = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
        return [
            cls(regularizer=regularizers.get("l1", lam=0.05)),
            cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=groups), lr=0.5),
            cls(regularizer=regularizers.get("elastic_net", lam1=0.05, lam2=0.1), power_rho=0.0, rho=0.1,
                power_lr=0.0, lr=0.1, eps=1e-3),
            cls(regularizer=None),
        ]

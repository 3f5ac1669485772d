r"""The Group family of Yue et al. (group-lasso-adaptive-optimizers.txt, "GA"
Algorithm 1, Table 1) as torch optimizers: Group SGD, Group Momentum, Group
Adagrad (Alg. 3), Group Adam (Alg. 2), Group AMSGrad and Group AdaHessian.

Each mirrors :func:`proxlab.solvers.group_family.group_family_kernel` for its
variant. At step ``t`` a member produces a first moment ``m_t`` and a positive
diagonal denominator ``D_t`` (``x_{t+1} = x_t - m_t / D_t`` is the parent
method); then

.. math::

    \Sigma_t = D_t - \text{shift},\qquad
    z_t = z_{t-1} + m_t - (\Sigma_t - \Sigma_{t-1})\, x_t \qquad\text{(lines 5-6)}

    s_t = -\operatorname{soft}(z_t, \lambda_1)\ \text{(eq (9))},\qquad
    \mathrm{den} = D_t + 2\lambda_2,\qquad
    x_{t+1,g} = \mathrm{den}_g^{-1}\max\Big(0, 1 - \frac{\lambda_{21} w_g}{\|\tilde s_{t,g}\|}\Big) s_{t,g}

with ``tilde s = s`` (``form="practical"``, line 10 as printed, the default)
or ``tilde s = s / sqrt(den / 2)`` (``form="exact"``, Theorem 1 corrected: the
exact minimizer of eq (6)); ``shift = eps / lr`` for ``q1="printed"``
(Adam-type members), else 0. The module docstring of
:mod:`proxlab.solvers.group_family` has the derivations, the member table and
the errata.

Regularization of a param group: its ``lam1``, ``lam21``, ``lam2`` (eq (5);
``lam21`` needs a layout ``groups``), or a ``regularizer``
(``sparse_group_lasso``, ``group_l2``, ``elastic_net``, ``l1``, ``l2_squared``)
whose strengths are used instead (not both). With every lambda 0 the members
are their parents: ``torch.optim.SGD``, ``SGD(momentum, dampening=0)``,
``Adagrad(initial_accumulator_value=eps, eps=0)``, ``Adam``,
``Adam(amsgrad=True)`` (``tests/test_torch_optim.py``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from ..groups import Groups
from ._base import ProxOptimizer, _check_float, check_beta, check_betas, check_lr, check_nonneg, resolve_for_param
from .layout import as_groups, padded

__all__ = ["GroupSGD", "GroupMomentum", "GroupAdagrad", "GroupAdam", "GroupAMSGrad", "GroupAdaHessian",
           "GroupRegularization"]

SGD, MOMENTUM, ADAGRAD, ADAM, AMSGRAD, ADAHESSIAN = range(6)
FORMS = ("practical", "exact")
Q1_CHOICES = ("consistent", "printed")


@dataclass
class GroupRegularization:
    """The eq (5) terms of one parameter: ``lams`` is ``(lam1, lam21, lam2)``
    when they come from a ``regularizer`` (``None``: from the group's keys),
    ``groups`` the layout (a :class:`~proxlab.groups.Groups` or ``None``)."""

    lams: tuple | None
    groups: Groups | None
    regularizer: object = None


def _lams_of(reg, where):
    name = reg.name
    if name == "sparse_group_lasso":
        return (reg.lam1, reg.lam21, reg.lam2), reg.groups
    if name == "group_l2":
        return (0.0, reg.lam, 0.0), reg.groups
    if name == "elastic_net":
        return (reg.lam1, 0.0, reg.lam2), None
    if name == "l1" and reg.w is None:
        return (reg.lam, 0.0, 0.0), None
    if name == "l2_squared":
        return (0.0, 0.0, reg.lam), None
    raise ValueError(f"the Group optimizers take the regularizer of GA eq (5): sparse_group_lasso, group_l2, "
                     f"elastic_net, l1 (unweighted) or l2_squared; got {reg!r}{where}")


class _GroupFamily(ProxOptimizer):
    variant = SGD
    _has_q1 = False

    def __init__(self, params, defaults, lam1, lam21, lam2, regularizer, groups, group_weights, form, nan_policy):
        defaults = dict(defaults, lam1=lam1, lam21=lam21, lam2=lam2, regularizer=regularizer, groups=groups,
                        group_weights=group_weights, form=form)
        super().__init__(params, defaults, nan_policy)

    # ---------------------------------------------------------- validation
    def _check_group(self, group, where):
        h = {"lr": check_lr(group, where)}
        for k in ("lam1", "lam21", "lam2"):
            h[k] = check_nonneg(group, k, where)
        if group["form"] not in FORMS:
            raise ValueError(f"form must be one of {FORMS}{where}, got {group['form']!r}")
        h["exact"] = group["form"] == "exact"
        h["printed"] = False
        if self._has_q1:
            if group["q1"] not in Q1_CHOICES:
                raise ValueError(f"q1 must be one of {Q1_CHOICES}{where}, got {group['q1']!r}")
            h["printed"] = group["q1"] == "printed"
        if group["regularizer"] is not None and any(h[k] for k in ("lam1", "lam21", "lam2")):
            raise ValueError(f"pass either regularizer= or lam1/lam21/lam2, not both{where}")
        return self._check_variant(group, where, h)

    def _check_variant(self, group, where, h):
        return h

    def _regularizer(self, p, group):
        spec = group["regularizer"]
        if spec is not None:
            reg = resolve_for_param(spec, p, group["groups"], group["group_weights"])
            lams, groups = _lams_of(reg, "")
            return GroupRegularization(lams, groups, reg)
        layout = group["groups"]
        groups = None if layout is None else as_groups(layout, tuple(p.shape), group["group_weights"])
        return GroupRegularization(None, groups)

    def _check_param(self, p, hyper, reg, name):
        super()._check_param(p, hyper, reg.regularizer, name)
        lam21 = reg.lams[1] if reg.lams is not None else hyper["lam21"]
        if lam21 > 0 and reg.groups is None:
            raise ValueError(f"lam21 > 0 needs a group layout: set the param group's 'groups' "
                             f"('columns', 'rows', ...) for {name()}")

    # ------------------------------------------------------------- update
    def _init_state(self, p, state, group):
        state["z"] = self._zeros(p)
        state["sigma"] = self._zeros(p)
        self._init_variant(p, state)

    def _init_variant(self, p, state):
        pass

    def _moment(self, p, grad, state, h, t):
        """``(m_t, D_t)``; ``D_t`` a tensor or a Python float."""
        raise TypeError(f"{type(self).__name__} must define _moment")

    def _update(self, p, grad, state, h, reg, group, t):
        lam1, lam21, lam2 = reg.lams if reg.lams is not None else (h["lam1"], h["lam21"], h["lam2"])
        m, D = self._moment(p, grad, state, h, t)
        shift = h["eps"] / h["lr"] if (h["printed"] and self.variant >= ADAM) else 0.0
        target = D - shift
        sigma, z = state["sigma"], state["z"]
        q = target - sigma
        if isinstance(target, torch.Tensor):
            sigma.copy_(target)
        else:
            sigma.fill_(target)
        z.add_(m).sub_(q * p)
        s = torch.clamp(z, -lam1, lam1) - z
        den = D + 2.0 * lam2
        x = s / den
        if lam21 > 0.0 and reg.groups is not None:
            pg = padded(reg.groups, p.device)
            flat_s = s.reshape(-1)
            if h["exact"]:  # ||A^{-1/2} s_g||, A = den / 2 (Theorem 1 corrected)
                flat_s = flat_s / (torch.sqrt(0.5 * den.reshape(-1)) if isinstance(den, torch.Tensor)
                                   else math.sqrt(0.5 * den))
            nrm = torch.sqrt(pg.sumsq(flat_s.contiguous()))
            thr = lam21 * pg.weights(p.dtype)
            f = torch.where(nrm <= thr, nrm.new_zeros(()), 1.0 - thr / nrm)
            # zero groups: f = 0 gives -0.0 on negative entries; + 0.0 makes them +0.0 as in the kernel
            x = pg.scale(x.contiguous().view(-1), f).add_(0.0).view(p.shape)
        p.copy_(x)


def _check_eps_positive(group, where):
    return _check_float("eps", group["eps"], where, low=0.0, low_open=True)


class GroupSGD(_GroupFamily):
    r"""Group SGD: GA Algorithm 1 with Table 1's SGD row, ``m_t = g_t``,
    ``D_t = t^power / lr`` (``alpha_t = lr / t^power``; Table 1: ``power = 1/2``).

    With every lambda 0 and ``power = 0`` it is ``torch.optim.SGD(lr)``
    (``power > 0``: SGD with ``LambdaLR`` ``t^-power``). Reference:
    :class:`proxlab.solvers.group_family.GroupSGD`.

    Parameters
    ----------
    lr : float > 0, default 0.1
    power : float >= 0, default 0.5
    lam1, lam21, lam2 : float >= 0, default 0
    regularizer : alternative to the lambdas (module docstring)
    groups, group_weights : the layout of the group term (``"columns"``, ...)
    form : {"practical", "exact"}
    nan_policy : {"raise", "none"}
    """

    variant = SGD

    def __init__(self, params, lr=0.1, power=0.5, lam1=0.0, lam21=0.0, lam2=0.0, regularizer=None, groups=None,
                 group_weights="sqrt", form="practical", nan_policy="raise"):
        super().__init__(params, dict(lr=lr, power=power), lam1, lam21, lam2, regularizer, groups, group_weights,
                         form, nan_policy)

    def _check_variant(self, group, where, h):
        h["power"] = _check_float("power", group["power"], where, low=0.0)
        return h

    def _moment(self, p, grad, state, h, t):
        return grad, float(t) ** h["power"] / h["lr"]


class GroupMomentum(_GroupFamily):
    r"""Group Momentum: Table 1's MOMENTUM row, ``m_t = momentum m_{t-1} + g_t``,
    ``D_t = 1 / lr``. With every lambda 0: ``torch.optim.SGD(lr, momentum,
    dampening=0)``. Reference: :class:`proxlab.solvers.group_family.GroupMomentum`.

    Parameters
    ----------
    lr : float > 0, default 0.01
    momentum : float in [0, 1), default 0.9
    lam1, lam21, lam2, regularizer, groups, group_weights, form, nan_policy : see :class:`GroupSGD`
    """

    variant = MOMENTUM

    def __init__(self, params, lr=0.01, momentum=0.9, lam1=0.0, lam21=0.0, lam2=0.0, regularizer=None,
                 groups=None, group_weights="sqrt", form="practical", nan_policy="raise"):
        super().__init__(params, dict(lr=lr, momentum=momentum), lam1, lam21, lam2, regularizer, groups,
                         group_weights, form, nan_policy)

    def _check_variant(self, group, where, h):
        h["momentum"] = check_beta(group["momentum"], "momentum", where)
        return h

    def _init_variant(self, p, state):
        state["momentum_buffer"] = self._zeros(p)

    def _moment(self, p, grad, state, h, t):
        m = state["momentum_buffer"]
        m.mul_(h["momentum"]).add_(grad)
        return m, 1.0 / h["lr"]


class GroupAdagrad(_GroupFamily):
    r"""Group Adagrad (GA Algorithm 3): ``m_t = g_t``, ``V_t = V_{t-1} + g_t^2``
    (``+ eps`` at ``t = 1``), ``D_t = sqrt(V_t) / lr``. With every lambda 0:
    ``torch.optim.Adagrad(lr, initial_accumulator_value=eps, eps=0)``; with
    ``lam21 = 0``: FTRL-Proximal. Reference:
    :class:`proxlab.solvers.group_family.GroupAdagrad`.

    Parameters
    ----------
    lr : float > 0, default 0.01
    eps : float > 0, default 0.1
        The initial accumulator (tfplus / TF FTRL default).
    lam1, lam21, lam2, regularizer, groups, group_weights, form, nan_policy : see :class:`GroupSGD`
    """

    variant = ADAGRAD

    def __init__(self, params, lr=0.01, eps=0.1, lam1=0.0, lam21=0.0, lam2=0.0, regularizer=None, groups=None,
                 group_weights="sqrt", form="practical", nan_policy="raise"):
        super().__init__(params, dict(lr=lr, eps=eps), lam1, lam21, lam2, regularizer, groups, group_weights, form,
                         nan_policy)

    def _check_variant(self, group, where, h):
        h["eps"] = _check_eps_positive(group, where)
        return h

    def _init_variant(self, p, state):
        state["sum"] = self._zeros(p)

    def _moment(self, p, grad, state, h, t):
        V = state["sum"]
        V.addcmul_(grad, grad)
        if t == 1:
            V.add_(h["eps"])
        return grad, torch.sqrt(V) / h["lr"]


class _AdamType(_GroupFamily):
    _has_q1 = True
    variant = ADAM

    def __init__(self, params, lr, betas, eps, lam1, lam21, lam2, regularizer, groups, group_weights, form, q1,
                 nan_policy):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, q1=q1), lam1, lam21, lam2, regularizer, groups,
                         group_weights, form, nan_policy)

    def _check_variant(self, group, where, h):
        h["beta1"], h["beta2"] = check_betas(group, where)
        h["eps"] = _check_eps_positive(group, where)
        return h

    def _init_variant(self, p, state):
        state["exp_avg"] = self._zeros(p)
        state["exp_avg_sq"] = self._zeros(p)
        if self.variant == AMSGRAD:
            state["max_exp_avg_sq"] = self._zeros(p)

    def _second(self, p, grad, state):
        return grad

    def _moment(self, p, grad, state, h, t):
        b1, b2 = h["beta1"], h["beta2"]
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        c = self._second(p, grad, state)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_(grad, alpha=1.0 - b1)
        v.mul_(b2).addcmul_(c, c, value=1.0 - b2)
        if self.variant == AMSGRAD:
            vmax = state["max_exp_avg_sq"]
            torch.maximum(vmax, v, out=vmax)
            v = vmax
        D = (torch.sqrt(v / bc2) + h["eps"]) / h["lr"]
        return m / bc1, D


class GroupAdam(_AdamType):
    r"""Group Adam (GA Algorithm 2): ``m_t = mhat_t / (1 - beta1^t)``,
    ``D_t = (sqrt(vhat_t / (1 - beta2^t)) + eps) / lr`` with Adam's moments,
    ``Q_1 = sqrt(V_1) + eps`` (``q1="consistent"``, the default) so that with
    every lambda 0 it is ``torch.optim.Adam(lr, betas, eps)``; ``q1="printed"``
    is Algorithm 2's line 8 as printed. Reference:
    :class:`proxlab.solvers.group_family.GroupAdam`.

    Parameters
    ----------
    lr : float > 0, default 1e-3
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float > 0, default 1e-8
    lam1, lam21, lam2 : float >= 0, default 0 (eq (5))
    regularizer, groups, group_weights, form, nan_policy : see :class:`GroupSGD`
    q1 : {"consistent", "printed"}
    """

    variant = ADAM

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, lam1=0.0, lam21=0.0, lam2=0.0,
                 regularizer=None, groups=None, group_weights="sqrt", form="practical", q1="consistent",
                 nan_policy="raise"):
        super().__init__(params, lr, betas, eps, lam1, lam21, lam2, regularizer, groups, group_weights, form, q1,
                         nan_policy)


class GroupAMSGrad(_AdamType):
    r"""Group AMSGrad: Group Adam with ``D_t = (sqrt(vmax_t / (1 - beta2^t)) +
    eps) / lr``, ``vmax_t = max(vmax_{t-1}, vhat_t)`` (torch's AMSGrad: with every
    lambda 0 it is ``torch.optim.Adam(..., amsgrad=True)``). Reference:
    :class:`proxlab.solvers.group_family.GroupAMSGrad`. Parameters as :class:`GroupAdam`.
    """

    variant = AMSGRAD

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, lam1=0.0, lam21=0.0, lam2=0.0,
                 regularizer=None, groups=None, group_weights="sqrt", form="practical", q1="consistent",
                 nan_policy="raise"):
        super().__init__(params, lr, betas, eps, lam1, lam21, lam2, regularizer, groups, group_weights, form, q1,
                         nan_policy)


class GroupAdaHessian(_AdamType):
    r"""Group AdaHessian: Group Adam with ``vhat`` fed by the squared Hessian
    diagonal ``c_t^2`` instead of ``g_t^2`` (GA Table 1, ADAHESSIAN row; Yao et
    al. 2020, Hessian power 1, no spatial averaging).

    The diagonal ``c_t`` at the current parameters comes from, per step:

    1. ``step(closure, curvature=...)``: a dict ``{param: tensor}`` or a
       sequence aligned with the parameters of all param groups (in order);
       an exact diagonal where one is available;
    2. otherwise Hutchinson's estimate through autograd (AdaHessian, Yao et al.
       2020 eq (7)): the gradients must carry their graph
       (``loss.backward(create_graph=True)`` in the closure), and
       ``c = mean_k u_k * (H u_k)`` over ``hessian_samples`` Rademacher vectors
       ``u_k`` drawn from the optimizer's own generator (seeded by ``seed``,
       saved in ``state_dict``). Unbiased; exact when ``H`` is diagonal.

    Reference: :class:`proxlab.solvers.group_family.GroupAdaHessian`
    (``curvature=`` of its ``step``). Defaults (AdaHessian's): ``lr = 0.15``,
    ``betas = (0.9, 0.999)``, ``eps = 1e-4``.
    """

    variant = ADAHESSIAN

    def __init__(self, params, lr=0.15, betas=(0.9, 0.999), eps=1e-4, lam1=0.0, lam21=0.0, lam2=0.0,
                 regularizer=None, groups=None, group_weights="sqrt", form="practical", q1="consistent",
                 hessian_samples=1, seed=0, nan_policy="raise"):
        if isinstance(hessian_samples, bool) or not isinstance(hessian_samples, numbers.Integral) \
                or hessian_samples < 1:
            raise ValueError(f"hessian_samples must be an int >= 1, got {hessian_samples!r}")
        self.hessian_samples = int(hessian_samples)
        self.seed = int(seed)
        self._generators = {}
        self._curvature = {}
        self._given = None
        super().__init__(params, lr, betas, eps, lam1, lam21, lam2, regularizer, groups, group_weights, form, q1,
                         nan_policy)

    @torch.no_grad()
    def step(self, closure=None, curvature=None):
        """One update (see the class docstring for ``curvature``)."""
        self._given = curvature
        try:
            return super().step(closure)
        finally:
            self._given = None
            self._curvature = {}

    def _generator(self, device):
        key = (device.type, device.index)
        gen = self._generators.get(key)
        if gen is None:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.seed)
            self._generators[key] = gen
        return gen

    def _prepare(self, work):
        params = [w[2] for w in work]
        saved = {key: g.get_state() for key, g in self._generators.items()}
        given = self._given
        if given is not None:
            if isinstance(given, dict):
                curv = [given.get(p) for p in params]
            else:
                given = list(given)
                allp = [p for g in self.param_groups for p in g["params"]]
                if len(given) != len(allp):
                    raise ValueError(f"curvature has {len(given)} entries, the optimizer {len(allp)} parameters")
                pos = {id(p): k for k, p in enumerate(allp)}
                curv = [given[pos[id(p)]] for p in params]
            for (group, i, p, _, _), c in zip(work, curv):
                if c is None:
                    raise ValueError(f"no curvature given for {self._param_name(group, i)}")
                if tuple(c.shape) != tuple(p.shape):
                    raise ValueError(f"the curvature of {self._param_name(group, i)} has shape {tuple(c.shape)}, "
                                     f"the parameter {tuple(p.shape)}")
            curv = [c.detach().to(dtype=p.dtype, device=p.device) for c, p in zip(curv, params)]
        else:
            grads = [p.grad for p in params]
            for (group, i, p, _, _), g in zip(work, grads):
                if not g.requires_grad:
                    raise ValueError(f"GroupAdaHessian needs the Hessian diagonal of {self._param_name(group, i)}: "
                                     "call loss.backward(create_graph=True) in the closure (Hutchinson) or pass "
                                     "step(curvature=...)")
            curv = [torch.zeros_like(p) for p in params]
            for k in range(self.hessian_samples):
                us = []
                for p in params:
                    u = torch.randint(0, 2, p.shape, generator=self._generator(p.device), device=p.device)
                    us.append(u.to(p.dtype).mul_(2.0).sub_(1.0))
                with torch.enable_grad():
                    hvs = torch.autograd.grad(grads, params, grad_outputs=us,
                                              retain_graph=k < self.hessian_samples - 1)
                for c, u, hv in zip(curv, us, hvs):
                    c.addcmul_(u, hv)
            if self.hessian_samples > 1:
                curv = [c / self.hessian_samples for c in curv]
        try:
            self._check_finite(work, [(w, c, "curvature") for w, c in zip(work, curv)])
        except ValueError:
            for key in list(self._generators):  # a rejected step leaves the generators as they were
                if key in saved:
                    self._generators[key].set_state(saved[key])
                else:
                    del self._generators[key]
            raise
        self._curvature = {id(p): c for p, c in zip(params, curv)}

    def _update(self, p, grad, state, h, reg, group, t):
        super()._update(p, grad.detach(), state, h, reg, group, t)

    def _second(self, p, grad, state):
        return self._curvature[id(p)]

    def state_dict(self):
        sd = super().state_dict()
        sd["hutchinson_generators"] = {f"{k[0]}:{k[1]}": g.get_state() for k, g in self._generators.items()}
        return sd

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        gens = state_dict.pop("hutchinson_generators", {})
        super().load_state_dict(state_dict)
        self._generators = {}
        for key, st in gens.items():
            kind, index = key.split(":")
            device = torch.device(kind if index == "None" else f"{kind}:{index}")
            self._generator(device).set_state(st)

"""The shared base of proxlab's torch optimizers.

:class:`ProxOptimizer` follows ``torch.optim`` (``torch/optim/adam.py``):

* ``param_groups`` carry the hyperparameters, the regularizer (key
  ``"regularizer"``: a catalogue object, a name or ``(name, params)``, or
  ``None``), the group layout (``"groups"``: ``"columns"``, ``"rows"``,
  ``"out_channels"``, ``"in_channels"``, ``"all"``, an int, a
  :class:`proxlab.groups.Groups` or ``None``) and ``"group_weights"``
  (``"sqrt"``, ``"ones"`` or an array); each may differ per group;
* per-parameter state is created lazily at a parameter's first step; the
  step count ``state["step"]`` is a Python int (so bias corrections are host
  floats and nothing is read back from the device);
* the group's ``"lr"`` is read at every step (LR schedulers work);
* ``step(closure=None)`` evaluates the closure with grad enabled and returns
  its loss;
* ``state_dict`` / ``load_state_dict`` are torch's: the state is tensors and
  ints, so a resumed run repeats the iterates bit for bit. With regularizers
  given as names / ``(name, params)`` and string or int layouts the saved
  dict loads with ``torch.load(weights_only=True)``; catalogue objects or
  :class:`~proxlab.groups.Groups` layouts in the param groups need
  ``weights_only=False``.

Validation and the regularizer of a parameter
---------------------------------------------
Every ``step`` first validates, *before any write*: the hyperparameters of
every group (``lr > 0``, betas in ``[0, 1)``, lambdas ``>= 0``, ...; a
ValueError names the parameter and the group), the regularizer of every
parameter with a gradient (built once per parameter and cached: grouped
regularizers get ``n = p.numel()`` and the group's layout), and, with
``nan_policy="raise"`` (the default), that every gradient is finite. A
rejected step leaves the parameters and the state exactly as they were.

The finiteness check is the one host-device transfer of a step (one boolean
for all parameters, read once); ``nan_policy="none"`` skips it, and then
``step`` never synchronises with the device (NaN propagates, as in
``torch.optim``).
"""

from __future__ import annotations

import math
import numbers

import torch

from .. import regularizers as _regs
from ..groups import Groups
from .layout import as_groups

__all__ = ["ProxOptimizer", "resolve_for_param", "GROUPED"]

#: catalogue regularizers whose constructor takes ``n`` and ``groups``
GROUPED = ("group_l2", "sparse_group_lasso", "sparse_group_lasso_weighted")
NAN_POLICIES = ("raise", "none")


def _check_float(name, value, where, *, low=None, high=None, low_open=False, high_open=False):
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.device.type == "cpu":
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number{where}, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite{where}, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}{where}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}{where}, got {value!r}")
    return value


def check_lr(group, where, key="lr"):
    return _check_float(key, group[key], where, low=0.0, low_open=True)


def check_beta(value, name, where):
    return _check_float(name, value, where, low=0.0, high=1.0, high_open=True)


def check_nonneg(group, key, where):
    return _check_float(key, group[key], where, low=0.0)


def check_betas(group, where):
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2){where}, got {betas!r}")
    return check_beta(betas[0], "betas[0] (beta1)", where), check_beta(betas[1], "betas[1] (beta2)", where)


def _spec_params(spec):
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return spec[0], dict(spec[1])
    raise TypeError(f"regularizer must be a catalogue Regularizer, a name, (name, params) or None, got {spec!r}")


def resolve_for_param(spec, param, layout=None, group_weights="sqrt"):
    """The catalogue regularizer that acts on ``param`` (flattened row-major).

    ``spec`` is a :class:`~proxlab.regularizers.Regularizer`, a name, ``(name,
    params)`` or ``None``. Grouped regularizers (``group_l2``,
    ``sparse_group_lasso``, ``sparse_group_lasso_weighted``) get ``n =
    param.numel()`` and the groups of ``layout`` (:func:`proxlab.torch.layout.as_groups`);
    a grouped *instance* whose dimension is ``param.numel()`` is used as it is
    when ``layout`` is ``None``, otherwise it is rebuilt with its strengths and
    the layout. The nuclear norm gets ``shape = (p.shape[0], numel / p.shape[0])``
    when not given.
    """
    if spec is None:
        return None
    n = param.numel()
    shape = tuple(param.shape)
    if isinstance(spec, _regs.Regularizer):
        reg = spec
        if reg.name in GROUPED and layout is not None:
            params = {k: v for k, v in reg.params.items() if k not in ("n", "groups", "weights")}
            return _regs.get(reg.name, **params, n=n, groups=as_groups(layout, shape, group_weights))
        if reg.dim is not None and reg.dim != n:
            raise ValueError(f"the regularizer {reg!r} acts on {reg.dim} entries but the parameter has {n} "
                             f"(shape {shape}); give a group layout or a regularizer of that size")
        return reg
    name, params = _spec_params(spec)
    if name in GROUPED:
        if "groups" in params and layout is None:
            groups = params.pop("groups")
            weights = params.pop("weights", group_weights)
            params.pop("n", None)
            return _regs.get(name, **params, n=n, groups=Groups.coerce(n, groups, weights))
        if layout is None:
            raise ValueError(f"regularizer {name!r} needs a group layout: set the param group's 'groups' to "
                             "'columns', 'rows', 'out_channels', 'in_channels', 'all', an int or a Groups")
        for k in ("n", "groups", "weights"):
            params.pop(k, None)
        return _regs.get(name, **params, n=n, groups=as_groups(layout, shape, group_weights))
    if name == "nuclear" and "shape" not in params:
        if len(shape) < 2:
            raise ValueError(f"the nuclear norm needs a parameter with >= 2 dimensions, got shape {shape}")
        params["shape"] = (shape[0], n // shape[0])
    return _regs.get(name, **params)


def _same(a, b):
    """Identity, or equality of plain specs (names, tuples of floats, shapes)."""
    if a is b:
        return True
    if isinstance(a, (str, tuple)) and type(a) is type(b):
        try:
            return bool(a == b)
        except (ValueError, TypeError):  # arrays inside: compare by identity only
            return False
    return False


class ProxOptimizer(torch.optim.Optimizer):
    """Base class: validation before any write, lazy state, cached regularizers.

    Subclasses define ``_check_group(group, where)`` (validate, return a dict of
    the checked hyperparameters), ``_init_state(p, state, group)`` and
    ``_update(p, grad, state, hyper, reg, group, t)`` (``t`` = 1 at a
    parameter's first step); optionally
    ``_regularizer(p, group)`` (default: the catalogue regularizer of the
    group's ``"regularizer"`` and layout) and ``_prepare(work)`` (run after
    validation, before the updates: Group AdaHessian's curvature).

    Parameters
    ----------
    params : iterable of tensors, (name, tensor) pairs or dicts
    defaults : dict
    nan_policy : {"raise", "none"}, default "raise"
        ``"raise"``: a non-finite gradient raises ValueError naming the
        parameter, nothing is written (one boolean is read from the device per
        step). ``"none"``: no check, no synchronisation.
    """

    #: name of the state entry that holds the prox point when it differs from the parameter
    prox_point_key = None

    def __init__(self, params, defaults, nan_policy="raise"):
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
        defaults = {"regularizer": None, "groups": None, "group_weights": "sqrt", **defaults}
        self.nan_policy = nan_policy
        self._resolved = {}
        super().__init__(params, defaults)

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        k = len(self.param_groups) - 1
        group = self.param_groups[k]
        try:
            hyper = self._check_group(group, self._where(k))
            for i, p in enumerate(group["params"]):  # build (and so validate) every regularizer now
                try:
                    reg = self._cached_regularizer(p, group)
                except (ValueError, TypeError) as err:
                    raise type(err)(f"{err} [{self._param_name(group, i)}]") from None
                self._check_param(p, hyper, reg, lambda: self._param_name(group, i))
        except Exception:
            self.param_groups.pop()
            raise

    @staticmethod
    def _where(k):
        return f" (param_groups[{k}])"

    def _param_name(self, group, i):
        names = group.get("param_names")
        if names is not None and i < len(names):
            return f"{names[i]!r}"
        k = next(j for j, g in enumerate(self.param_groups) if g is group)
        return f"param_groups[{k}]['params'][{i}]"

    def _check_group(self, group, where):
        raise TypeError(f"{type(self).__name__} must define _check_group")

    # ------------------------------------------------------ regularizers
    def _regularizer(self, p, group):
        return resolve_for_param(group["regularizer"], p, group["groups"], group["group_weights"])

    def regularizer_for(self, p):
        """The catalogue regularizer that acts on parameter ``p`` (built from
        its group's ``regularizer`` and layout; cached)."""
        for group in self.param_groups:
            for q in group["params"]:
                if q is p:
                    return self._cached_regularizer(p, group)
        raise ValueError("the tensor is not a parameter of this optimizer")

    def _cached_regularizer(self, p, group):
        key = id(p)
        deps = (group.get("regularizer"), group.get("groups"), group.get("group_weights"), tuple(p.shape))
        hit = self._resolved.get(key)
        if hit is not None and hit[0] is p and all(_same(a, b) for a, b in zip(hit[1], deps)):
            return hit[2]
        reg = self._regularizer(p, group)
        self._resolved[key] = (p, deps, reg)
        return reg

    def prox_point(self, p):
        """The point that carries the exact structure (zeros) of ``p``: the
        parameter itself, or the state's prox point for methods that average
        (``ProxSGDYang``: ``xhat``)."""
        if self.prox_point_key is not None:
            st = self.state.get(p)
            if st and self.prox_point_key in st:
                return st[self.prox_point_key]
        return p

    # -------------------------------------------------------------- step
    def _collect(self):
        """Validate everything; return the work list (no writes)."""
        work = []
        for k, group in enumerate(self.param_groups):
            hyper = self._check_group(group, self._where(k))
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients "
                                       f"({self._param_name(group, i)})")
                if p.grad.shape != p.shape:
                    raise ValueError(f"the gradient of {self._param_name(group, i)} has shape "
                                     f"{tuple(p.grad.shape)}, the parameter {tuple(p.shape)}")
                try:
                    reg = self._cached_regularizer(p, group)
                except (ValueError, TypeError) as err:
                    raise type(err)(f"{err} [{self._param_name(group, i)}]") from None
                self._check_param(p, hyper, reg, lambda: self._param_name(group, i))
                work.append((group, i, p, hyper, reg))
        return work

    def _check_finite(self, work, tensors=None):
        """All gradients (or ``tensors``: ``(work item, tensor, what)``) finite?
        One boolean read back per device (``nan_policy="raise"``); the error
        path then finds the first offending parameter."""
        if self.nan_policy != "raise" or not work:
            return
        items = tensors if tensors is not None else [(w, w[2].grad, "gradient") for w in work]
        # a non-finite entry makes the sum non-finite (the converse can fail by
        # overflow: then the exact check below finds nothing and the step goes on)
        by_device = {}
        for _, t, _ in items:
            by_device.setdefault(t.device, []).append(t.sum().reshape(1))
        if all(bool(torch.isfinite(torch.cat(sums)).all()) for sums in by_device.values()):
            return
        for (group, i, p, _, _), t, what in items:
            bad = ~torch.isfinite(t)
            if bool(bad.any()):
                j = int(bad.reshape(-1).nonzero()[0])
                raise ValueError(f"the {what} of {self._param_name(group, i)} (shape {tuple(p.shape)}) contains "
                                 f"a non-finite value ({float(t.reshape(-1)[j])!r} at flat index {j}); the "
                                 f"parameters and the optimizer state were not changed (nan_policy='raise')")
        # every entry is finite: the sum overflowed

    #: whether the metric of the prox is a non-uniform diagonal (Adam-type
    #: preconditioners): the nuclear norm has no torch prox then
    _nonuniform_metric = False

    def _check_param(self, p, hyper, reg, name):
        """Checks that need both the group's hyperparameters and the parameter's
        regularizer (run before any write); ``name()`` names the parameter."""
        if isinstance(reg, _regs.Regularizer):
            from .prox import supported

            if not supported(reg):
                raise ValueError(f"no torch prox for {reg!r} ({name()})")
            if reg.name == "nuclear" and self._nonuniform_metric:
                raise ValueError(f"{type(self).__name__} solves its prox under a non-uniform diagonal metric; the "
                                 f"nuclear norm has a torch prox only under a uniform one (SVT): use ProxSGD, RDA, "
                                 f"MRDA or ProxQuant for {name()}")

    def _prepare(self, work):
        pass

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every parameter with a gradient; returns the closure's loss.

        Everything is validated first (hyperparameters, regularizers,
        finiteness of the gradients): a ValueError leaves the parameters and
        the state unchanged.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        work = self._collect()
        self._check_finite(work)
        self._prepare(work)
        for group, i, p, hyper, reg in work:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                self._init_state(p, state, group)
            t = state["step"] + 1
            self._update(p, p.grad, state, hyper, reg, group, t)
            state["step"] = t
        return loss

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _zeros(p):
        return torch.zeros_like(p, memory_format=torch.preserve_format)

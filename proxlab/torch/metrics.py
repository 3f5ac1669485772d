r"""Structure metrics of a trained model, and the magnitude-pruning baseline.

Every metric reads *entries*: ``(name, tensor, layout)`` triples, where the
layout is one of :mod:`proxlab.torch.layout`'s (``"rows"``, ``"columns"``,
``"out_channels"``, ``"in_channels"``, ``"all"``, an int, a
:class:`~proxlab.groups.Groups`) or ``None`` (no group structure: the tensor
counts for the element-wise metrics only). :func:`entries` builds them from

* an ``nn.Module``: the parameters :func:`proxlab.torch.param_groups` would
  regularize, with its layouts (Linear input-wise, Conv per output channel,
  Embedding per row, ...; biases and normalization layers left out unless
  asked);
* a proxlab optimizer: its param groups' ``"groups"`` layouts (the structure
  the optimizer was told to produce);
* a tensor, or a list of tensors / ``(tensor, layout)`` / ``(name, tensor,
  layout)``.

A *tensor getter* ``tensor=`` maps each parameter to the tensor measured: the
default measures the parameter itself; ``tensor=optimizer.prox_point``
measures the point that carries the exact structure of averaging methods
(RAMDA, RMDA, MADGRAD: ``W_hat``; Yang's prox-SGD: ``xhat``), which
:func:`structure_report` does for you when that point differs.

Metrics
-------
``sparsity``
    Fraction of entries exactly zero (``|x| <= tol``): mrda.txt eq (30),
    ``sigma = #zero parameters / #parameters``.
``group_sparsity``
    Fraction of groups whose entries are all zero.
``weighted_group_sparsity``
    ramda.txt Sec 6: "the weighted group sparsity with the weights
    proportional to the number of parameters in each group", i.e.
    ``sum_{g zero} |g| / sum_g |g|`` over all groups of all entries (the
    number of parameters removed with whole groups).
``feature_rate``
    group-lasso-adaptive-optimizers.txt ("GA") Sec 4, Fig. 1: "number of
    non-zero features whose embedding vectors are not equal to 0 divided by
    the total number of features present in the training data"; a feature is
    an embedding row (layout ``"rows"``) or an input column of a Linear layer
    (``"columns"``).
``low_rank_level``
    ramda.txt App. E (Tables 8-9) reports a "low-rank level" of models trained
    with one nuclear-norm regularizer per layer without printing its formula.
    We use the fraction of vanished singular values over all layers,
    ``1 - sum_l rank(W_l) / sum_l min(m_l, n_l)`` (each layer reshaped to
    ``(out, -1)`` as the nuclear regularizer does), with the numerical rank of
    ``numpy.linalg.matrix_rank`` (singular values above
    ``max(m, n) eps(dtype) sigma_max``); ``weighting="params"`` gives instead
    the fraction of parameters saved by storing each layer as its rank-``r``
    factors, ``1 - sum_l min(r_l (m_l + n_l), m_l n_l) / sum_l m_l n_l``.

Magnitude pruning (GA Sec 4.2)
------------------------------
The baseline Group Adam is compared with: train Adam, keep the ``N`` embedding
rows of largest norm (``N`` = target feature rate times the number of
features present), fine-tune on further data (pruned rows may grow back:
"some new or deleted features will appear in the model after training with
new data"), and prune again so that the target is met.
:func:`prune_groups_` is one pruning step, :func:`magnitude_pruning` the
prune / fine-tune / prune procedure with a fine-tuning callable.
"""

from __future__ import annotations

import math
import numbers
from collections import namedtuple

import numpy as np
import torch

from ..groups import Groups
from .layout import LAYOUTS, as_groups, padded, param_groups

__all__ = ["Entry", "entries", "group_norms", "group_sizes", "sparsity", "group_sparsity",
           "weighted_group_sparsity", "feature_rate", "low_rank_level", "structure_metrics",
           "structure_report", "prune_groups_", "magnitude_pruning"]

#: one measured tensor: a name (or None), the parameter, its group layout (or None)
Entry = namedtuple("Entry", ["name", "param", "layout"])

_MARK = object()  # tags the regularized param groups that param_groups builds


# ------------------------------------------------------------------ entries
def _check_layout(layout, where):
    if layout is None or isinstance(layout, Groups):
        return layout
    if isinstance(layout, numbers.Integral) and not isinstance(layout, bool):
        return int(layout)
    if isinstance(layout, str) and layout in LAYOUTS:
        return layout
    raise ValueError(f"{where}: layout must be one of {LAYOUTS}, an int group size, a proxlab.groups.Groups or "
                     f"None, got {layout!r}")


def entries(source, layout=None, *, include_bias=False, include_norm=False, **layouts):
    """The ``(name, param, layout)`` entries that the metrics read.

    Parameters
    ----------
    source : nn.Module, torch.optim.Optimizer, Tensor or sequence
        A module (its regularized parameters, with the layouts of
        :func:`proxlab.torch.param_groups`), an optimizer (every parameter with
        its param group's ``"groups"`` layout; names from ``"param_names"``
        when present), a tensor, or a sequence of tensors, ``(tensor,
        layout)`` pairs, ``(name, tensor, layout)`` triples or :class:`Entry`.
    layout : layout, optional
        The layout of bare tensors in ``source`` (default ``None``).
    include_bias, include_norm : bool, default False
        For a module: also measure biases / normalization parameters (with
        layout ``None``: they count in ``sparsity`` only).
    **layouts
        For a module: ``linear=``, ``conv=``, ``embedding=``, ``lstm=``,
        ``other=`` as in :func:`proxlab.torch.param_groups`.

    Returns
    -------
    list of Entry

    Raises
    ------
    TypeError, ValueError
        On a source of another kind, or a layout that is not one of the above.
    """
    if isinstance(source, torch.nn.Module):
        groups = param_groups(source, regularizer=_MARK, regularize_bias=include_bias,
                              regularize_norm=include_norm, **layouts)
        out = []
        for g in groups:
            if g["regularizer"] is not _MARK:
                continue
            for name, p in g["params"]:
                out.append(Entry(name, p, g["groups"]))
        return out
    if isinstance(source, torch.optim.Optimizer):
        out = []
        for k, g in enumerate(source.param_groups):
            names = g.get("param_names")
            lay = _check_layout(g.get("groups"), f"optimizer.param_groups[{k}]['groups']")
            for i, p in enumerate(g["params"]):
                name = names[i] if names is not None and i < len(names) else f"param_groups[{k}][{i}]"
                out.append(Entry(name, p, lay))
        return out
    layout = _check_layout(layout, "layout")
    if isinstance(source, torch.Tensor):
        return [Entry(None, source, layout)]
    if isinstance(source, (str, bytes)) or not hasattr(source, "__iter__"):
        raise TypeError(f"source must be a Module, an Optimizer, a tensor or a sequence of them, got "
                        f"{type(source).__name__}")
    out = []
    for i, item in enumerate(source):
        if isinstance(item, Entry):
            out.append(Entry(item.name, item.param, _check_layout(item.layout, f"source[{i}].layout")))
        elif isinstance(item, torch.Tensor):
            out.append(Entry(None, item, layout))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], torch.Tensor):
            out.append(Entry(None, item[0], _check_layout(item[1], f"source[{i}] layout")))
        elif isinstance(item, tuple) and len(item) == 3 and isinstance(item[1], torch.Tensor):
            out.append(Entry(item[0], item[1], _check_layout(item[2], f"source[{i}] layout")))
        else:
            raise TypeError(f"source[{i}] must be a tensor, (tensor, layout), (name, tensor, layout) or an Entry, "
                            f"got {item!r}")
    return out


def _getter(tensor):
    if tensor is None:
        return lambda p: p
    if not callable(tensor):
        raise TypeError(f"tensor must be a callable parameter -> tensor (e.g. optimizer.prox_point), got {tensor!r}")
    return tensor


def _measured(source, tensor, layout=None):
    get = _getter(tensor)
    out = []
    for e in entries(source, layout):
        t = get(e.param)
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"the tensor getter returned {type(t).__name__} for {e.name or 'a parameter'}")
        if t.shape != e.param.shape:
            raise ValueError(f"the tensor getter returned shape {tuple(t.shape)} for {e.name or 'a parameter'} of "
                             f"shape {tuple(e.param.shape)}")
        out.append(Entry(e.name, t.detach(), e.layout))
    return out


def _check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return float(tol)


# ------------------------------------------------------------------ groups
def _blocks(t, layout):
    """``(G, M)`` block of ``t``'s groups, or None (fall back to padded groups)."""
    name = {"out_channels": "rows", "in_channels": "columns"}.get(layout, layout)
    if name == "all":
        return t.reshape(1, -1)
    if name == "rows":
        if t.dim() == 0:
            raise ValueError("layout 'rows' needs a tensor with at least one dimension, got a scalar")
        return t.reshape(t.shape[0], -1)
    if name == "columns":
        if t.dim() < 2:
            raise ValueError(f"layout 'columns' needs a tensor with at least 2 dimensions, got shape {tuple(t.shape)}")
        return t.transpose(0, 1).reshape(t.shape[1], -1)
    return None


def group_norms(t, layout, tol=0.0):
    """The l2 norm of every group of ``t`` under ``layout``, and whether it is zero.

    Parameters
    ----------
    t : Tensor
    layout : str, int or Groups
        See :mod:`proxlab.torch.layout`.
    tol : float >= 0, default 0
        A group is zero when every entry has ``|x| <= tol``.

    Returns
    -------
    norms : Tensor (G,)
        In float64.
    zero : Tensor of bool (G,)
    """
    tol = _check_tol(tol)
    layout = _check_layout(layout, "layout")
    if layout is None:
        raise ValueError("group_norms needs a layout, got None")
    t = t.detach()
    block = _blocks(t, layout)
    if block is not None:
        b = block.to(torch.float64)
        return torch.linalg.vector_norm(b, dim=1), (b.abs() <= tol).all(dim=1)
    groups = as_groups(layout, tuple(t.shape))
    pg = padded(groups, t.device)
    flat = t.reshape(-1).to(torch.float64).contiguous()
    norms = torch.sqrt(pg.sumsq(flat))
    big = pg.pad((flat.abs() > tol).to(torch.float64)).sum(dim=1)
    return norms, big == 0


def group_sizes(t, layout):
    """Number of entries of every group of ``t`` under ``layout`` (int64 tensor (G,))."""
    layout = _check_layout(layout, "layout")
    if layout is None:
        raise ValueError("group_sizes needs a layout, got None")
    block = _blocks(t, layout)
    if block is not None:
        return torch.full((block.shape[0],), block.shape[1], dtype=torch.int64)
    return torch.as_tensor(as_groups(layout, tuple(t.shape)).sizes, dtype=torch.int64)


# ----------------------------------------------------------------- metrics
def sparsity(source, *, tensor=None, tol=0.0, layout=None):
    """Fraction of entries that are zero (``|x| <= tol``), mrda.txt eq (30).

    Parameters
    ----------
    source : module, optimizer, tensor or sequence
        See :func:`entries`.
    tensor : callable, optional
        Parameter -> tensor to measure (e.g. ``optimizer.prox_point``).
    tol : float >= 0, default 0 (exact zeros)
    layout : layout of bare tensors (irrelevant here)

    Returns
    -------
    float
        ``nan`` when there is nothing to measure.
    """
    tol = _check_tol(tol)
    zeros = total = 0
    for e in _measured(source, tensor, layout):
        zeros += int((e.param.abs() <= tol).sum())
        total += e.param.numel()
    return zeros / total if total else float("nan")


def _group_counts(ents, tol):
    zero_g = n_g = zero_w = total_w = 0
    for e in ents:
        if e.layout is None:
            continue
        _, zero = group_norms(e.param, e.layout, tol)
        sizes = group_sizes(e.param, e.layout).to(zero.device)
        zero_g += int(zero.sum())
        n_g += zero.numel()
        zero_w += int(sizes[zero].sum())
        total_w += int(sizes.sum())
    return zero_g, n_g, zero_w, total_w


def group_sparsity(source, *, tensor=None, tol=0.0, layout=None):
    """Fraction of groups (of every entry with a layout) whose entries are all zero.

    Parameters
    ----------
    source, tensor, tol, layout : see :func:`sparsity`
        ``layout`` applies to bare tensors.

    Returns
    -------
    float
        ``nan`` when no entry has a layout.
    """
    z, n, _, _ = _group_counts(_measured(source, tensor, layout), _check_tol(tol))
    return z / n if n else float("nan")


def weighted_group_sparsity(source, *, tensor=None, tol=0.0, layout=None):
    """ramda.txt Sec 6: group sparsity with each group weighted by its number of
    parameters, ``sum_{g zero} |g| / sum_g |g|``.

    Parameters
    ----------
    source, tensor, tol, layout : see :func:`group_sparsity`

    Returns
    -------
    float
    """
    _, _, zw, tw = _group_counts(_measured(source, tensor, layout), _check_tol(tol))
    return zw / tw if tw else float("nan")


def _masks(present, ents, n_groups):
    if present is None:
        return [None] * len(ents)
    if isinstance(present, (torch.Tensor, np.ndarray)) and len(ents) == 1:
        present = [present]
    present = list(present)
    if len(present) != len(ents):
        raise ValueError(f"present must hold one mask per tensor ({len(ents)}), got {len(present)}")
    out = []
    for i, (m, G) in enumerate(zip(present, n_groups)):
        if m is None:
            out.append(None)
            continue
        m = torch.as_tensor(np.asarray(m) if not isinstance(m, torch.Tensor) else m)
        if m.dtype != torch.bool:
            if m.dim() == 1 and m.dtype in (torch.int64, torch.int32) and m.numel() != G:
                raise ValueError(f"present[{i}] must be a boolean mask over the {G} groups, got {m.numel()} "
                                 f"integers (pass counts of shape ({G},) or a bool mask)")
            m = m != 0
        if m.shape != (G,):
            raise ValueError(f"present[{i}] must have shape ({G},) (one entry per group), got {tuple(m.shape)}")
        out.append(m)
    return out


def feature_rate(source, layout="rows", *, present=None, tensor=None, tol=0.0):
    """GA Sec 4's feature rate: non-zero features / features present in the training data.

    Parameters
    ----------
    source : Tensor, sequence or module
        Embedding tables (layout ``"rows"``: a row is a feature) or first-layer
        weights (``"columns"``: an input feature); see :func:`entries`. For a
        module, every regularized entry with a layout counts.
    layout : layout of bare tensors, default ``"rows"``
    present : bool mask (G,) or count array, or one per tensor, optional
        The features seen in the training data (default: all). Counts are
        turned into ``count > 0``.
    tensor, tol : see :func:`sparsity`

    Returns
    -------
    float
        ``nan`` if no feature is present.
    """
    tol = _check_tol(tol)
    ents = [e for e in _measured(source, tensor, layout) if e.layout is not None]
    if not ents:
        raise ValueError("feature_rate needs tensors with a group layout")
    zeros = [group_norms(e.param, e.layout, tol)[1].cpu() for e in ents]
    masks = _masks(present, ents, [z.numel() for z in zeros])
    kept = total = 0
    for z, m in zip(zeros, masks):
        if m is not None:
            z = z[m.cpu()]
        kept += int((~z).sum())
        total += z.numel()
    return kept / total if total else float("nan")


LOW_RANK_WEIGHTINGS = ("rank", "params")


def low_rank_level(source, *, tensor=None, rtol=None, weighting="rank", layout=None):
    """Low-rank level (ramda.txt App. E; the formula is ours, see the module docstring).

    Parameters
    ----------
    source, tensor, layout : see :func:`sparsity`
        Entries with fewer than 2 dimensions are skipped; others are
        reshaped to ``(shape[0], -1)``.
    rtol : float, optional
        Singular values ``<= rtol * sigma_max`` count as zero (default
        ``max(m, n) * eps(dtype)``, as ``numpy.linalg.matrix_rank``).
    weighting : {"rank", "params"}, default "rank"
        ``"rank"``: ``1 - sum r / sum min(m, n)``; ``"params"``:
        ``1 - sum min(r (m + n), m n) / sum m n``.

    Returns
    -------
    float
        ``nan`` when no entry is a matrix.
    """
    if weighting not in LOW_RANK_WEIGHTINGS:
        raise ValueError(f"weighting must be one of {LOW_RANK_WEIGHTINGS}, got {weighting!r}")
    if rtol is not None and (isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not rtol >= 0):
        raise ValueError(f"rtol must be a number >= 0, got {rtol!r}")
    num = den = 0
    for e in _measured(source, tensor, layout):
        t = e.param
        if t.dim() < 2:
            continue
        mat = t.reshape(t.shape[0], -1)
        m, n = mat.shape
        s = torch.linalg.svdvals(mat.to(torch.float64) if t.dtype == torch.float64 else mat.float())
        tol = (max(m, n) * torch.finfo(t.dtype).eps) if rtol is None else float(rtol)
        smax = float(s.max()) if s.numel() else 0.0
        r = int((s > tol * smax).sum()) if smax > 0 else 0
        if weighting == "rank":
            num += r
            den += min(m, n)
        else:
            num += min(r * (m + n), m * n)
            den += m * n
    return 1.0 - num / den if den else float("nan")


def structure_metrics(source, *, tensor=None, tol=0.0, low_rank=False, layout=None):
    """Every structure metric of one set of tensors, as a dict.

    Parameters
    ----------
    source, tensor, tol, layout : see :func:`sparsity`
    low_rank : bool, default False
        Also compute ``low_rank_level`` (one SVD per matrix).

    Returns
    -------
    dict
        ``n_params``, ``sparsity``, ``n_groups``, ``group_sparsity``,
        ``weighted_group_sparsity`` (and ``low_rank_level``).
    """
    tol = _check_tol(tol)
    ents = _measured(source, tensor, layout)
    n = sum(e.param.numel() for e in ents)
    zeros = sum(int((e.param.abs() <= tol).sum()) for e in ents)
    zg, ng, zw, tw = _group_counts(ents, tol)
    out = {"n_params": n, "sparsity": zeros / n if n else float("nan"), "n_groups": ng,
           "group_sparsity": zg / ng if ng else float("nan"),
           "weighted_group_sparsity": zw / tw if tw else float("nan")}
    if low_rank:
        out["low_rank_level"] = low_rank_level(ents)
    return out


def _has_distinct_prox_point(optimizer, ents):
    get = getattr(optimizer, "prox_point", None)
    if get is None:
        return False
    return any(get(e.param) is not e.param for e in ents)


def structure_report(source, optimizer=None, *, tol=0.0, low_rank=False, prefix="", **entry_options):
    """:func:`structure_metrics` of the weights and, where ``optimizer`` keeps a
    prox point that differs from the parameter, of the prox point too.

    Parameters
    ----------
    source : module, optimizer or sequence
        What to measure (see :func:`entries`).
    optimizer : proxlab optimizer, optional
        Its ``prox_point(p)`` is measured as well when it is not ``p`` for some
        parameter (RAMDA, RMDA, MADGRAD, ProxSGDYang after their first step).
    tol, low_rank : see :func:`structure_metrics`
    prefix : str, default ""
        Put in front of every key.
    **entry_options
        Passed to :func:`entries` (``include_bias=``, ``linear=``, ...).

    Returns
    -------
    dict
        The weights' metrics under their names; the prox point's under
        ``prox_<name>`` (absent when there is no distinct prox point).
    """
    ents = entries(source, **entry_options)
    out = {prefix + k: v for k, v in structure_metrics(ents, tol=tol, low_rank=low_rank).items()}
    if optimizer is not None and _has_distinct_prox_point(optimizer, ents):
        prox = structure_metrics(ents, tensor=optimizer.prox_point, tol=tol, low_rank=low_rank)
        out.update({f"{prefix}prox_{k}": v for k, v in prox.items() if k not in ("n_params", "n_groups")})
    return out


# ----------------------------------------------------------------- pruning
def _check_rate(rate, name="feature_rate"):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not (0.0 <= rate <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {rate!r}")
    return float(rate)


@torch.no_grad()
def prune_groups_(source, feature_rate, layout="rows", *, present=None):
    """Keep the groups of largest l2 norm, zero the others, in place (one
    magnitude-pruning step of GA Sec 4.2).

    The groups of all tensors are ranked jointly (one embedding table split in
    several tensors behaves as one table). ``N = round(feature_rate * P)``
    groups are kept, ``P`` the number of present groups; groups not present
    are zeroed (they are not features of the trained model). Ties are broken
    by position (a stable sort), so the result is deterministic.

    Parameters
    ----------
    source : Tensor or sequence
        Embedding tables or weights (see :func:`entries`); modified in place.
    feature_rate : float in [0, 1]
    layout : layout of bare tensors, default ``"rows"``
    present : mask(s) as in :func:`feature_rate`, optional

    Returns
    -------
    list of Tensor (bool)
        Per tensor, which groups are kept.
    """
    rate = _check_rate(feature_rate)
    ents = [e for e in entries(source, layout) if e.layout is not None]
    if not ents:
        raise ValueError("prune_groups_ needs tensors with a group layout")
    norms = [group_norms(e.param, e.layout)[0].cpu() for e in ents]
    masks = _masks(present, ents, [n.numel() for n in norms])
    pres = [torch.ones(n.numel(), dtype=torch.bool) if m is None else m.cpu() for n, m in zip(norms, masks)]
    allnorm = torch.cat([torch.where(p, n, torch.full_like(n, -1.0)) for n, p in zip(norms, pres)])
    n_present = int(sum(int(p.sum()) for p in pres))
    keep_n = int(round(rate * n_present))
    order = torch.sort(allnorm, descending=True, stable=True).indices
    keep = torch.zeros(allnorm.numel(), dtype=torch.bool)
    keep[order[:keep_n]] = True
    keep &= torch.cat(pres)
    out = []
    start = 0
    for e, n in zip(ents, norms):
        k = keep[start:start + n.numel()]
        start += n.numel()
        scale = k.to(e.param.dtype).to(e.param.device)
        block = _blocks(e.param, e.layout)
        if block is not None and e.layout in ("rows", "out_channels", "all"):
            e.param.mul_(scale.reshape(-1, *([1] * (e.param.dim() - 1))) if e.layout != "all" else scale)
        elif block is not None:  # columns
            e.param.mul_(scale.reshape(1, -1, *([1] * (e.param.dim() - 2))))
        else:
            pg = padded(as_groups(e.layout, tuple(e.param.shape)), e.param.device)
            e.param.copy_(pg.scale(e.param.reshape(-1).contiguous(), scale).view(e.param.shape))
        out.append(k)
    return out


def magnitude_pruning(source, feature_rate, layout="rows", *, present=None, finetune=None):
    """GA Sec 4.2's magnitude-pruning baseline: prune, fine-tune, prune again.

    Parameters
    ----------
    source : Tensor or sequence
        The embedding tables (pruned in place).
    feature_rate : float in [0, 1]
        Target fraction of present features kept.
    layout : default ``"rows"``
    present : optional, see :func:`feature_rate`
    finetune : callable, optional
        ``finetune()`` trains the model further (GA: on the last 0-30 % of the
        stream); pruned rows may grow back, so the tables are pruned again
        afterwards. ``None``: prune once (GA's "0 %" schedule).

    Returns
    -------
    list of Tensor (bool)
        The kept groups of the final pruning.
    """
    masks = prune_groups_(source, feature_rate, layout, present=present)
    if finetune is not None:
        if not callable(finetune):
            raise TypeError(f"finetune must be a callable or None, got {finetune!r}")
        finetune()
        masks = prune_groups_(source, feature_rate, layout, present=present)
    return masks

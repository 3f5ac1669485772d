"""Group layouts of torch parameters and the padded device layout the kernels use.

A *layout* says how the entries of one parameter tensor are grouped for a
group regularizer (``lam sum_g w_g ||x_g||``). It is given per param group
(key ``"groups"``) as

* ``"rows"`` / ``"out_channels"``: group ``i`` is the slice ``p[i]`` (an
  Embedding row = one feature; a Conv output channel; a Linear output unit);
* ``"columns"`` / ``"in_channels"``: group ``j`` is the slice ``p[:, j]``
  (a Linear input feature, group-lasso-adaptive-optimizers.txt Sec 4 /
  ramda.txt Sec 6 "input-wise"; a Conv input channel; an LSTM input feature);
* ``"all"``: the whole tensor is one group;
* an ``int`` ``k``: contiguous groups of ``k`` entries of the flattened tensor;
* a :class:`proxlab.groups.Groups` over the flattened (row-major) tensor;
* ``None``: no layout (only for regularizers without a group term).

:func:`as_groups` turns a layout into a :class:`~proxlab.groups.Groups` (the
catalogue's CSR form, so a torch parameter and the Numba references share one
description); :class:`PaddedGroups` is its device form: the ``G`` groups as a
dense ``(G, M)`` block (``M`` the largest group), read by a view when the
layout is ``rows`` or a transpose when it is ``columns``, by a gather
otherwise, so a kernel treats every group at once without a Python loop.
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np
import torch

from ..groups import Groups

__all__ = ["LAYOUTS", "as_groups", "PaddedGroups", "padded", "param_groups"]

LAYOUTS = ("rows", "out_channels", "columns", "in_channels", "all")


def _layout_name(layout):
    return {"out_channels": "rows", "in_channels": "columns"}.get(layout, layout)


def as_groups(layout, shape, weights="sqrt"):
    """The :class:`~proxlab.groups.Groups` of ``layout`` for a tensor of ``shape``
    (indices into the row-major flattening), or ``None`` for ``layout=None``.

    Parameters
    ----------
    layout : str, int, Groups or None
        See the module docstring.
    shape : tuple of int
    weights : "sqrt", "ones" or array (G,)
        Per-group weights ``w_g`` (``sqrt(|g|)`` by default, GA eq (5)).
    """
    shape = tuple(int(s) for s in shape)
    n = int(np.prod(shape)) if shape else 1
    if layout is None:
        return None
    if isinstance(layout, Groups):
        if layout.n != n:
            raise ValueError(f"the Groups layout has dimension {layout.n} but the parameter has {n} entries "
                             f"(shape {shape})")
        return layout
    if isinstance(layout, numbers.Integral) and not isinstance(layout, bool):
        return Groups(n, int(layout), weights)
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(f"groups (the layout) must be one of {LAYOUTS}, an int group size, a proxlab.groups.Groups "
                         f"or None, got {layout!r}")
    name = _layout_name(layout)
    if name == "all":
        return Groups(n, n, weights)
    if len(shape) == 0:
        raise ValueError(f"layout {layout!r} needs a parameter with at least one dimension, got a scalar")
    if name == "rows":
        return Groups(n, n // shape[0], weights)
    if len(shape) < 2:
        raise ValueError(f"layout {layout!r} needs a parameter with at least 2 dimensions, got shape {shape}")
    a, c = shape[0], shape[1]
    k = n // (a * c)
    idx = np.arange(n, dtype=np.int64).reshape(a, c, k).transpose(1, 0, 2).ravel()  # sorted within each group
    groups = _csr_groups(n, idx, np.arange(0, n + 1, a * k, dtype=np.int64), weights)
    groups._torch_columns = (a, c, k)  # lets PaddedGroups read it by a permuted view (checked there)
    return groups


def _csr_groups(n, idx, ptr, weights):
    """A :class:`~proxlab.groups.Groups` from an already valid CSR layout (disjoint,
    sorted within groups), without ``Groups``' per-group Python validation loop
    (a Linear layer with 1e5 inputs has 1e5 column groups)."""
    if n <= 4096:  # small: the validating constructor (same result)
        return Groups(n, [idx[ptr[g]:ptr[g + 1]] for g in range(len(ptr) - 1)], weights)
    g = Groups.__new__(Groups)
    g.n = int(n)
    g.idx = idx
    g.ptr = ptr
    g.sizes = np.diff(ptr)
    g.n_groups = len(ptr) - 1
    g.weights = g._weights(weights)
    g.contiguous = bool(np.array_equal(idx, np.arange(n)))
    return g


class PaddedGroups:
    """A :class:`~proxlab.groups.Groups` on one device: the groups of a flat
    tensor as a dense ``(G, M)`` block.

    ``mode`` is ``"rows"`` (contiguous equal groups covering everything: a
    view), ``"columns"`` (the groups of :func:`as_groups` for ``"columns"`` on a
    tensor viewed as ``(A, C, K)``: a permute) or ``"gather"`` (any layout:
    an index gather, padding masked). Built once per (layout, device) and
    cached; every method is free of host-device synchronisation.
    """

    def __init__(self, groups, device):
        self.groups = groups
        self.device = torch.device(device)
        sizes = groups.sizes
        self.G = int(groups.n_groups)
        self.M = int(sizes.max())
        self.n = int(groups.n)
        self.covers_all = groups.idx.size == groups.n
        self.uniform = bool(np.all(sizes == self.M))
        self._weights = {}
        self._coord_group = None
        self.mode = "gather"
        if self.covers_all and self.uniform and groups.contiguous:
            self.mode = "rows"
        elif self.covers_all and self.uniform:
            # columns of an (A, C, K) view: group j = {a C K + j K + k}, |g| = M = A K;
            # (A, C, K) as recorded by as_groups, else the 2-D case K = 1
            A, C, K = getattr(groups, "_torch_columns", (self.M, self.G, 1))
            if A * C * K == self.n and C == self.G:
                cube = np.arange(self.n, dtype=np.int64).reshape(A, C, K).transpose(1, 0, 2).ravel()
                if np.array_equal(cube, groups.idx):
                    self.mode = "columns"
                    self.shape3 = (A, C, K)
        if self.mode == "gather":
            G, M = self.G, self.M
            row = np.repeat(np.arange(G, dtype=np.int64), sizes)
            col = np.arange(groups.idx.size, dtype=np.int64) - np.repeat(groups.ptr[:-1], sizes)
            pad_idx = np.zeros((G, M), dtype=np.int64)
            mask = np.zeros((G, M), dtype=bool)
            pad_idx[row, col] = groups.idx
            mask[row, col] = True
            pos = row * M + col
            self.pad_idx = torch.as_tensor(pad_idx, device=self.device)
            self.mask = torch.as_tensor(mask, device=self.device)
            self.pos = torch.as_tensor(pos, device=self.device)
            self.idx = torch.as_tensor(groups.idx, device=self.device)
        else:
            self.mask = None

    def sumsq(self, flat):
        """``sum_{i in g} flat_i^2`` for every group, shape (G,) (on views for
        the rows / columns layouts: no copy)."""
        if self.mode == "rows":
            v = flat.view(self.G, self.M)
            return (v * v).sum(dim=1)
        if self.mode == "columns":
            v = flat.view(self.shape3)
            return (v * v).sum(dim=(0, 2))
        P = self.pad(flat)
        return (P * P).sum(dim=1)

    def scale(self, flat, f):
        """A new flat tensor: ``flat_i f_g`` on the coordinates of group ``g``,
        ``flat_i`` on coordinates in no group."""
        if self.mode == "rows":
            return (flat.view(self.G, self.M) * f[:, None]).view(-1)
        if self.mode == "columns":
            return (flat.view(self.shape3) * f[None, :, None]).view(-1)
        if self._coord_group is None:
            cg = np.full(self.n, self.G, dtype=np.int64)
            cg[self.groups.idx] = np.repeat(np.arange(self.G, dtype=np.int64), self.groups.sizes)
            self._coord_group = torch.as_tensor(cg, device=self.device)
        f_ext = torch.cat([f, f.new_ones(1)])
        return flat * f_ext[self._coord_group]

    def weights(self, dtype):
        """``w_g`` as a (G,) tensor of ``dtype`` on the device (cached)."""
        w = self._weights.get(dtype)
        if w is None:
            w = torch.as_tensor(self.groups.weights, dtype=dtype, device=self.device)
            self._weights[dtype] = w
        return w

    def pad(self, flat, fill=0.0):
        """``(G, M)`` block of the flat tensor ``flat`` (padding = ``fill``).

        The result may be a view of ``flat`` (modes ``rows``): do not write to it.
        """
        if self.mode == "rows":
            return flat.view(self.G, self.M)
        if self.mode == "columns":
            A, C, K = self.shape3
            return flat.view(A, C, K).permute(1, 0, 2).reshape(C, A * K)
        vals = flat[self.pad_idx]
        return torch.where(self.mask, vals, torch.full((), fill, dtype=flat.dtype, device=flat.device))

    def unpad_into(self, out_flat, block):
        """Write the real entries of the ``(G, M)`` ``block`` into ``out_flat``
        (coordinates in no group are left as they are)."""
        if self.mode == "rows":
            out_flat.view(self.G, self.M).copy_(block)
        elif self.mode == "columns":
            A, C, K = self.shape3
            out_flat.view(A, C, K).copy_(block.reshape(C, A, K).permute(1, 0, 2))
        else:
            out_flat.index_copy_(0, self.idx, block.reshape(-1).index_select(0, self.pos))
        return out_flat


_PADDED = weakref.WeakKeyDictionary()


def padded(groups, device):
    """The cached :class:`PaddedGroups` of ``groups`` on ``device``."""
    device = torch.device(device)
    per = _PADDED.get(groups)
    if per is None:
        per = {}
        _PADDED[groups] = per
    key = (device.type, device.index)
    pg = per.get(key)
    if pg is None:
        pg = PaddedGroups(groups, device)
        per[key] = pg
    return pg


# ------------------------------------------------------------------ model helper
_NORM_TYPES = (torch.nn.modules.batchnorm._NormBase, torch.nn.LayerNorm, torch.nn.GroupNorm,
               torch.nn.LocalResponseNorm)


def param_groups(model, regularizer=None, *, linear="columns", conv="out_channels", embedding="rows",
                 lstm="columns", other="columns", regularize_bias=False, regularize_norm=False,
                 group_weights="sqrt", **options):
    """Param groups of ``model`` with group layouts, for any proxlab optimizer.

    Parameters
    ----------
    model : torch.nn.Module
    regularizer : Regularizer, name, (name, params) or None
        Put on every regularized group (the Group family and FTRL take
        their lambdas from ``options`` or from a ``sparse_group_lasso`` /
        ``group_l2`` regularizer).
    linear : layout for ``nn.Linear`` weights, default ``"columns"``
        Input-wise groups: column ``j`` of the ``(out, in)`` weight is input
        feature ``j`` (GA Sec 4; ramda.txt Sec 6).
    conv : ``"out_channels"`` (default) or ``"in_channels"``
        For ``nn.Conv1d/2d/3d`` (and transposed) weights: one group per output
        (or input) channel of the ``(out, in, *k)`` weight.
    embedding : layout for ``nn.Embedding``/``nn.EmbeddingBag``, default ``"rows"``
        One group per row, i.e. per categorical value (a feature).
    lstm : layout for the ``weight_ih_l*`` / ``weight_hh_l*`` matrices of
        ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``, default ``"columns"`` (input-wise).
    other : layout for the other parameters with >= 2 dimensions (e.g.
        ``nn.MultiheadAttention.in_proj_weight``), default ``"columns"``.
    regularize_bias : bool, default False
        Biases (and other 1-D parameters of modules not listed above) are
        unregularized unless asked (then they get ``layout=None``, i.e. only
        non-group terms apply).
    regularize_norm : bool, default False
        Parameters of normalization layers (BatchNorm, LayerNorm, GroupNorm)
        likewise.
    group_weights : "sqrt", "ones" or array
        ``w_g``; ``"sqrt"`` is ``sqrt(|g|)``.
    **options
        Extra per-group options for the regularized groups (``lam21=...``,
        ``lr=...``). Options whose name starts with ``lam`` are set to 0 on the
        unregularized groups.

    Returns
    -------
    list of dict
        One dict per (layout, regularized) combination present, each with
        ``params`` (``(name, parameter)`` pairs: torch.optim records the names
        as ``param_names`` and error messages use them), ``regularizer``,
        ``groups`` and ``group_weights``; empty combinations are left out.
    """
    seen = set()
    buckets = {}
    order = []

    def put(key, name, p):
        if id(p) in seen or not p.requires_grad:
            return
        seen.add(id(p))
        if key not in buckets:
            buckets[key] = ([], [])
            order.append(key)
        buckets[key][0].append(p)
        buckets[key][1].append(name)

    rnn_types = (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN)
    conv_types = (torch.nn.modules.conv._ConvNd,)
    if conv not in ("out_channels", "in_channels"):
        raise ValueError(f"conv must be 'out_channels' or 'in_channels', got {conv!r}")
    for mname, module in model.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            full = f"{mname}.{pname}" if mname else pname
            is_bias = pname.startswith("bias")
            if isinstance(module, _NORM_TYPES):
                put(("reg", None) if regularize_norm else ("free", None), full, p)
            elif is_bias:
                put(("reg", None) if regularize_bias else ("free", None), full, p)
            elif isinstance(module, torch.nn.Linear) and pname == "weight":
                put(("reg", linear), full, p)
            elif isinstance(module, conv_types) and pname == "weight":
                layout = conv
                if isinstance(module, (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d,
                                       torch.nn.ConvTranspose3d)):
                    # transposed convolutions store (in, out, *k): swap the roles
                    layout = "in_channels" if conv == "out_channels" else "out_channels"
                put(("reg", layout), full, p)
            elif isinstance(module, (torch.nn.Embedding, torch.nn.EmbeddingBag)) and pname == "weight":
                put(("reg", embedding), full, p)
            elif isinstance(module, rnn_types) and pname.startswith("weight_"):
                put(("reg", lstm), full, p)
            elif p.dim() >= 2:
                put(("reg", other), full, p)
            else:
                put(("reg", None) if regularize_bias else ("free", None), full, p)
    groups = []
    for key in order:
        params, names = buckets[key]
        kind, layout = key
        params = list(zip(names, params))  # named: torch.optim records them as "param_names"
        if kind == "reg":
            g = {"params": params, "regularizer": regularizer, "groups": layout,
                 "group_weights": group_weights, **options}
        else:
            g = {"params": params, "regularizer": None, "groups": None,
                 "group_weights": group_weights}
            g.update({k: 0.0 for k in options if k.startswith("lam")})
            g.update({k: v for k, v in options.items() if not k.startswith("lam")})
        groups.append(g)
    return groups

r"""Manifold-identification measures on recorded trajectories.

ramda.txt Thm 3: after a finite :math:`T_0` the prox points :math:`\hat W_t` stay
on the active manifold :math:`\mathcal M_{\bar W}` of the limit (for the group
lasso: the set of non-zero groups stops changing); App. D: RAMDA's structured
sparsity is stable over the last epochs while ProxSGD/ProxGen oscillate. These
functions measure that on a trajectory ``X`` of shape ``(K, n)`` (``K``
records, e.g. ``run(..., record=("x", "prox_point"))`` or a
:class:`~proxlab.theory.trace.Trace`):

* :func:`active_set` — the non-zero structure of every record, element-wise or
  group-wise (or any catalogue regularizer's ``support``);
* :func:`identification_index` / :func:`identification_time` — the first record
  from which the active set equals the reference (default: the last record's)
  at every later record (the empirical :math:`T_0`);
* :func:`first_hit_time` — the first record whose active set equals the
  reference (it may leave it again later);
* :func:`active_set_changes` — how many times the active set changed inside a
  window, and :func:`active_set_flips` — how many elements/groups switched;
* :func:`distance_to_final` — Hamming distance of every record's active set to
  the reference;
* :func:`sparsity_level` — fraction of zero elements/groups, optionally weighted
  by group size (ramda.txt Sec 6's "weighted group sparsity");
* :func:`summary` — all of the above for one trajectory.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_int, check_scalar

__all__ = ["active_set", "identification_index", "identification_time", "first_hit_time", "active_set_changes",
           "active_set_flips", "distance_to_final", "sparsity_level", "summary"]


def _records(X):
    X = as_float_array("X", X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2:
        raise ValueError(f"X must be a trajectory of shape (K, n), got shape {X.shape}")
    return X


def _sets(S):
    S = np.asarray(S)
    if S.dtype != bool:
        raise TypeError(f"S must be a boolean active-set array (from active_set), got dtype {S.dtype}")
    if S.ndim != 2 or S.shape[0] == 0:
        raise ValueError(f"S must have shape (K, p) with K >= 1, got {S.shape}")
    return S


def active_set(X, structure=None, tol=0.0):
    """The active set of every record.

    Parameters
    ----------
    X : array (K, n) or (n,)
    structure : None, Groups, or Regularizer
        None: elements (``|x_i| > tol``); a :class:`~proxlab.groups.Groups`:
        groups (``||x_g|| > tol``, coordinates in no group ignored); a catalogue
        regularizer: its ``support`` (groups for the group lasso, singular values
        for the nuclear norm), with ``tol`` 0.
    tol : float >= 0

    Returns
    -------
    bool array (K, p)
    """
    X = _records(X)
    tol = check_scalar("tol", tol, low=0.0)
    if structure is None:
        return np.abs(X) > tol
    from ..groups import Groups

    if isinstance(structure, Groups):
        if structure.n != X.shape[1]:
            raise ValueError(f"structure: Groups of dimension {structure.n} for records of length {X.shape[1]}")
        from ..regularizers.group import group_norms

        return np.array([group_norms(structure, x) > tol for x in X])
    if hasattr(structure, "support"):
        if tol != 0.0:
            raise ValueError("tol must be 0 with a regularizer structure (its support is exact)")
        return np.array([np.asarray(structure.support(x), dtype=bool).ravel() for x in X])
    raise TypeError(f"structure must be None, a Groups or a Regularizer, got {type(structure).__name__}")


def _reference(S, reference):
    if reference is None:
        return S[-1]
    ref = np.asarray(reference, dtype=bool).ravel()
    if ref.shape[0] != S.shape[1]:
        raise ValueError(f"reference must have {S.shape[1]} entries, got {ref.shape[0]}")
    return ref


def _steps(K, steps):
    if steps is None:
        return np.arange(K)
    steps = np.asarray(steps)
    if steps.shape != (K,):
        raise ValueError(f"steps must have one entry per record ({K}), got shape {steps.shape}")
    return steps


def identification_index(S, reference=None):
    """Smallest record index ``k`` with ``S[j] == reference`` for every ``j >= k``,
    or None when the last record differs from the reference. With the default
    reference (the last record) the answer always exists; ``K - 1`` means the
    structure settled only at the last record (no evidence of identification)."""
    S = _sets(S)
    ref = _reference(S, reference)
    eq = np.all(S == ref[None, :], axis=1)
    if not eq[-1]:
        return None
    bad = np.flatnonzero(~eq)
    return int(bad[-1] + 1) if bad.size else 0


def identification_time(S, steps=None, reference=None):
    """The step of :func:`identification_index` (``steps[k]``; record index when
    ``steps`` is None), or None."""
    S = _sets(S)
    k = identification_index(S, reference)
    return None if k is None else _steps(S.shape[0], steps)[k].item()


def first_hit_time(S, steps=None, reference=None):
    """The step of the first record whose active set equals the reference, or None."""
    S = _sets(S)
    ref = _reference(S, reference)
    eq = np.flatnonzero(np.all(S == ref[None, :], axis=1))
    return None if eq.size == 0 else _steps(S.shape[0], steps)[eq[0]].item()


def _window(K, window):
    """Record range ``[a, b)`` from None (all), an int (the last ``w`` records) or ``(a, b)``."""
    if window is None:
        return 0, K
    if isinstance(window, (tuple, list)):
        if len(window) != 2:
            raise ValueError(f"window must be an int or a pair (start, stop), got {window!r}")
        a, b = (check_int("window start", window[0], low=0), check_int("window stop", window[1], low=0))
        if not a < b <= K:
            raise ValueError(f"window (start, stop) must satisfy 0 <= start < stop <= {K}, got {window!r}")
        return a, b
    w = check_int("window", window, low=1)
    return max(0, K - w), K


def active_set_changes(S, window=None):
    """Number of records ``k`` in the window (``k >= 1``, compared with record
    ``k - 1``, which may lie just before the window) whose active set differs
    from the previous record's."""
    S = _sets(S)
    a, b = _window(S.shape[0], window)
    a = max(a, 1)
    if a >= b:
        return 0
    return int(np.count_nonzero(np.any(S[a:b] != S[a - 1:b - 1], axis=1)))


def active_set_flips(S, window=None):
    """Total number of elements/groups that switched between consecutive records
    in the window (sum of symmetric-difference sizes)."""
    S = _sets(S)
    a, b = _window(S.shape[0], window)
    a = max(a, 1)
    if a >= b:
        return 0
    return int(np.count_nonzero(S[a:b] != S[a - 1:b - 1]))


def distance_to_final(S, reference=None):
    """Hamming distance ``|S[k] xor reference|`` of every record (int array (K,))."""
    S = _sets(S)
    ref = _reference(S, reference)
    return np.count_nonzero(S != ref[None, :], axis=1)


def sparsity_level(S, sizes=None):
    """Fraction of zero elements/groups per record; with ``sizes`` (the group
    sizes, e.g. ``groups.sizes``) each group counts with its number of
    parameters (ramda.txt Sec 6: "weighted group sparsity with the weights
    proportional to the number of parameters in each group")."""
    S = _sets(S)
    if sizes is None:
        return 1.0 - S.mean(axis=1)
    w = as_float_array("sizes", sizes, ndim=1, dtype=np.float64)
    if w.shape[0] != S.shape[1]:
        raise ValueError(f"sizes must have one entry per group ({S.shape[1]}), got {w.shape[0]}")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("sizes must be >= 0 with a positive sum")
    return ((~S) * w[None, :]).sum(axis=1) / w.sum()


def summary(X, structure=None, steps=None, window=None, tol=0.0, weighted=True):
    """Identification measures of one trajectory as a dict.

    Keys: ``identification_time``, ``identified_before_last`` (the structure was
    stable for at least two records), ``first_hit_time``, ``changes`` and
    ``flips`` (in ``window``), ``final_distance_max`` (largest Hamming distance to
    the final active set over the window), ``final_size`` (number of active
    elements/groups at the end), ``sparsity`` (final, group-size weighted when
    ``structure`` is a Groups and ``weighted``).
    """
    S = active_set(X, structure, tol)
    K = S.shape[0]
    st = _steps(K, steps)
    k = identification_index(S)
    a, b = _window(K, window)
    sizes = None
    from ..groups import Groups

    if weighted and isinstance(structure, Groups):
        sizes = structure.sizes
    return {
        "identification_time": st[k].item(),
        "identified_before_last": bool(k < K - 1),
        "first_hit_time": first_hit_time(S, st),
        "changes": active_set_changes(S, window),
        "flips": active_set_flips(S, window),
        "final_distance_max": int(distance_to_final(S)[a:b].max()),
        "final_size": int(S[-1].sum()),
        "sparsity": float(sparsity_level(S[-1:], sizes)[0]),
    }

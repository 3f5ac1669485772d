"""Group layouts as CSR pointers.

A layout of ``n`` coordinates into ``G`` disjoint groups is stored as two
integer arrays: ``idx`` (the coordinates, group by group, sorted inside each
group) and ``ptr`` (length ``G + 1``; group ``g`` is ``idx[ptr[g]:ptr[g+1]]``).
A Numba kernel walks every group of a vector in one pass over ``ptr``.

Coordinates that belong to no group are allowed: the group term of a
regularizer does not touch them.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validation import as_float_array, check_int


class Groups:
    """A partition (or partial partition) of ``range(n)`` into disjoint groups.

    Parameters
    ----------
    n : int
        Number of coordinates.
    groups : int or sequence of index arrays
        An integer ``k`` means equal contiguous groups of size ``k`` (``n``
        must be a multiple of ``k``); a sequence gives each group's indices.
    weights : "sqrt", "ones" or array of shape (G,)
        Per-group weights ``w_g`` of the group norm ``sum_g w_g ||x_g||``.
        ``"sqrt"`` (the default) is ``sqrt(|g|)``, the weighting of
        group-lasso-adaptive-optimizers.txt eq (5) (``sqrt(d_{x^g})``) and of
        ramda.txt Sec 6.
    """

    def __init__(self, n, groups, weights="sqrt"):
        n = check_int("n", n, low=1)
        if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
            size = check_int("groups", groups, low=1)
            if n % size:
                raise ValueError(f"groups: group size {size} does not divide the dimension n = {n}")
            idx = np.arange(n, dtype=np.int64)
            ptr = np.arange(0, n + 1, size, dtype=np.int64)
        else:
            if isinstance(groups, (str, bytes)):
                raise TypeError(f"groups must be an int or a sequence of index arrays, got {groups!r}")
            try:
                parts = [np.asarray(g) for g in groups]
            except TypeError:
                raise TypeError(f"groups must be an int or a sequence of index arrays, got {groups!r}") from None
            if not parts:
                raise ValueError("groups: the list of groups is empty")
            sizes = []
            chunks = []
            for k, g in enumerate(parts):
                if g.ndim != 1 or g.size == 0:
                    raise ValueError(f"groups[{k}] must be a non-empty 1-D index array, got shape {g.shape}")
                if g.dtype.kind not in "iu":
                    raise TypeError(f"groups[{k}] must hold integers, got dtype {g.dtype}")
                if g.min() < 0 or g.max() >= n:
                    bad = g[(g < 0) | (g >= n)][0]
                    raise ValueError(f"groups[{k}] holds index {int(bad)} outside range(n) with n = {n}")
                g = np.sort(g.astype(np.int64))
                if np.any(g[1:] == g[:-1]):
                    raise ValueError(f"groups[{k}] repeats an index ({int(g[1:][g[1:] == g[:-1]][0])})")
                sizes.append(g.size)
                chunks.append(g)
            idx = np.concatenate(chunks)
            counts = np.bincount(idx, minlength=n)
            if counts.max() > 1:
                i = int(np.argmax(counts))
                owners = [k for k, g in enumerate(chunks) if i in g]
                raise ValueError(f"groups overlap: index {i} is in groups {owners}")
            ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
            np.cumsum(sizes, out=ptr[1:])
        self.n = n
        self.idx = idx
        self.ptr = ptr
        self.sizes = np.diff(ptr)
        self.n_groups = len(ptr) - 1
        self.weights = self._weights(weights)
        self.contiguous = bool(np.array_equal(idx, np.arange(n)))

    def _weights(self, weights):
        if isinstance(weights, str):
            if weights == "sqrt":
                return np.sqrt(self.sizes.astype(np.float64))
            if weights == "ones":
                return np.ones(self.n_groups)
            raise ValueError(f"weights must be 'sqrt', 'ones' or an array, got {weights!r}")
        w = as_float_array("weights", weights, ndim=1, dtype=np.float64)
        if w.shape != (self.n_groups,):
            raise ValueError(f"weights must have one entry per group ({self.n_groups}), got shape {w.shape}")
        if (w < 0).any():
            raise ValueError(f"weights must be >= 0, got {w[w < 0][0]!r}")
        return w

    @classmethod
    def coerce(cls, n, groups, weights="sqrt"):
        """Return ``groups`` if it is already a :class:`Groups` of dimension ``n``."""
        if isinstance(groups, Groups):
            if groups.n != n:
                raise ValueError(f"groups has dimension {groups.n}, expected n = {n}")
            return groups
        return cls(n, groups, weights)

    def covered(self):
        """Boolean mask of the coordinates that belong to a group."""
        mask = np.zeros(self.n, dtype=bool)
        mask[self.idx] = True
        return mask

    def norms(self, x):
        """Euclidean norm of every group of ``x`` (shape (G,))."""
        sq = np.add.reduceat(np.asarray(x, dtype=np.float64)[self.idx] ** 2, self.ptr[:-1])
        return np.sqrt(sq)

    def as_list(self):
        return [self.idx[self.ptr[g]:self.ptr[g + 1]] for g in range(self.n_groups)]

    def __repr__(self):
        s = self.sizes
        return f"Groups(n={self.n}, n_groups={self.n_groups}, sizes {s.min()}..{s.max()})"

r"""A synthetic Criteo-like click-through-rate data generator with a known truth.

The data are ``F`` categorical *fields* (field ``f`` takes ``V_f`` values);
every (field, value) pair is a one-hot *feature*, i.e. one row of the
embedding table (group-lasso-adaptive-optimizers.txt "GA" Sec 4.1: "the
one-hot-encoding based embedding technique"). A *world* fixes:

* the value frequencies: a Zipf law per field, ``P(value of rank k) ∝
  (k + 1)^(-s)``, the ranks assigned to value ids by a random permutation (so
  an id says nothing about its frequency) — the long tail of real ad logs;
* the relevant features: ``n_relevant_fields`` of the ``F`` fields carry
  signal, and in each of them a fraction ``relevant_fraction`` of the values
  (drawn among all values, frequent or rare) has an effect; every other
  feature (all values of the other fields, the remaining values of the
  relevant fields) has none;
* the click model:

  .. math::

      \operatorname{logit} P(y = 1 \mid x) = b + \sum_{f \in R} a_f[x_f]
          + \sum_{f < f' \in R} \langle u_f[x_f], u_{f'}[x_{f'}]\rangle

  with main effects ``a_f[v] ~ N(0, main_scale^2)`` and interaction factors
  ``u_f[v] ~ N(0, interaction_scale^2 / k)`` in ``R^k`` on relevant values
  (zero elsewhere), and the intercept ``b`` set so the mean click rate is
  ``ctr`` (bisection on a pilot sample).

Samples are drawn i.i.d. from the world; :func:`make_ctr_data` returns the
train / validation / test splits, the per-feature training counts (GA's
feature rate counts "the features present in the training data") and the
truth (which rows are relevant, the Bayes logits of the test set).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["CTRWorld", "make_world", "make_ctr_data"]


@dataclass
class CTRWorld:
    """The fixed part of a synthetic CTR problem.

    Attributes
    ----------
    cardinalities : ndarray (F,) int
    offsets : ndarray (F + 1,) int
        Field ``f``'s features are rows ``offsets[f]:offsets[f + 1]`` of the table.
    probs : list of ndarray
        Value probabilities of each field.
    relevant_fields : ndarray (F,) bool
    relevant : ndarray (n_features,) bool
        The truly relevant features (rows).
    main : ndarray (n_features,)
    factors : ndarray (n_features, k)
    bias : float
    """

    cardinalities: np.ndarray
    offsets: np.ndarray
    probs: list
    relevant_fields: np.ndarray
    relevant: np.ndarray
    main: np.ndarray
    factors: np.ndarray
    bias: float

    @property
    def n_features(self):
        return int(self.offsets[-1])

    @property
    def n_fields(self):
        return len(self.cardinalities)

    def sample(self, n, rng):
        """``n`` rows of global feature indices, shape (n, F), int64."""
        cols = []
        for f, p in enumerate(self.probs):
            cols.append(rng.choice(len(p), size=n, p=p) + self.offsets[f])
        return np.stack(cols, axis=1).astype(np.int64)

    def logits(self, X):
        """The true logit of every row of ``X`` (global indices)."""
        out = self.bias + self.main[X].sum(axis=1)
        rel = np.flatnonzero(self.relevant_fields)
        for i, f in enumerate(rel):
            for g in rel[i + 1:]:
                out = out + np.einsum("nk,nk->n", self.factors[X[:, f]], self.factors[X[:, g]])
        return out


def _check(name, value, kind, low=None, high=None):
    if kind is int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if kind is float and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return kind(value)


def make_world(cardinalities, *, zipf=1.1, n_relevant_fields=3, relevant_fraction=0.3, main_scale=1.0,
               interaction_scale=1.0, rank=4, ctr=0.25, seed=0):
    """Draw a :class:`CTRWorld`.

    Parameters
    ----------
    cardinalities : sequence of int >= 2
        ``V_f`` per field.
    zipf : float >= 0, default 1.1
        Exponent ``s`` of the value frequencies (0: uniform).
    n_relevant_fields : int, default 3
        How many fields carry signal (chosen at random).
    relevant_fraction : float in (0, 1], default 0.3
        Fraction of the values of a relevant field with an effect (at least one).
    main_scale, interaction_scale : float >= 0
        Scales of the main effects and of the pairwise interactions.
    rank : int >= 1, default 4
        ``k``, the dimension of the interaction factors.
    ctr : float in (0, 1), default 0.25
        Target mean click rate.
    seed : int

    Returns
    -------
    CTRWorld

    Raises
    ------
    ValueError
        Naming the bad argument.
    """
    card = np.asarray(cardinalities)
    if card.ndim != 1 or card.size < 1 or card.dtype.kind not in "iu" or np.any(card < 2):
        raise ValueError(f"cardinalities must be a non-empty list of integers >= 2, got {cardinalities!r}")
    F = card.size
    zipf = _check("zipf", zipf, float, 0.0)
    n_rel = _check("n_relevant_fields", n_relevant_fields, int, 1, F)
    frac = _check("relevant_fraction", relevant_fraction, float, 0.0, 1.0)
    if frac <= 0:
        raise ValueError(f"relevant_fraction must be > 0, got {relevant_fraction!r}")
    main_scale = _check("main_scale", main_scale, float, 0.0)
    interaction_scale = _check("interaction_scale", interaction_scale, float, 0.0)
    rank = _check("rank", rank, int, 1)
    ctr = _check("ctr", ctr, float, 1e-4, 1 - 1e-4)
    rng = np.random.default_rng(seed)
    offsets = np.zeros(F + 1, dtype=np.int64)
    np.cumsum(card, out=offsets[1:])
    probs = []
    for V in card:
        w = (np.arange(V) + 1.0) ** (-zipf)
        p = np.empty(V)
        p[rng.permutation(V)] = w / w.sum()
        probs.append(p)
    rel_fields = np.zeros(F, dtype=bool)
    rel_fields[rng.choice(F, size=n_rel, replace=False)] = True
    n = int(offsets[-1])
    relevant = np.zeros(n, dtype=bool)
    main = np.zeros(n)
    factors = np.zeros((n, rank))
    for f in np.flatnonzero(rel_fields):
        V = int(card[f])
        k = max(1, int(round(frac * V)))
        vals = rng.choice(V, size=k, replace=False) + offsets[f]
        relevant[vals] = True
        main[vals] = rng.normal(0.0, main_scale, size=k)
        factors[vals] = rng.normal(0.0, interaction_scale / np.sqrt(rank), size=(k, rank))
    world = CTRWorld(card.astype(np.int64), offsets, probs, rel_fields, relevant, main, factors, 0.0)
    pilot = world.logits(world.sample(20_000, rng))
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if np.mean(1.0 / (1.0 + np.exp(-(pilot + mid)))) < ctr:
            lo = mid
        else:
            hi = mid
    world.bias = 0.5 * (lo + hi)
    return world


def make_ctr_data(world, n_train, n_valid, n_test, seed=0):
    """Draw train / validation / test samples from ``world``.

    Parameters
    ----------
    world : CTRWorld
    n_train, n_valid, n_test : int >= 1
    seed : int
        Seed of the sample draw (independent of the world's).

    Returns
    -------
    dict
        ``X_train, y_train, X_valid, y_valid, X_test, y_test`` (int64 feature
        indices (n, F), float32 labels), ``counts`` (training occurrences of
        every feature), ``logit_test`` (the true logits, for the Bayes AUC).
    """
    for name, v in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test)):
        _check(name, v, int, 1)
    rng = np.random.default_rng([seed, 1])
    out = {}
    for split, n in (("train", n_train), ("valid", n_valid), ("test", n_test)):
        X = world.sample(n, rng)
        z = world.logits(X)
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        out[f"X_{split}"], out[f"y_{split}"] = X, y
        if split == "test":
            out["logit_test"] = z
    out["counts"] = np.bincount(out["X_train"].ravel(), minlength=world.n_features)
    return out

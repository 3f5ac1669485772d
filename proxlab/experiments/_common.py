"""Shared pieces of the experiments: configuration checks, a reproducible torch
session, the small data sets (scikit-learn's digits, MNIST-1D generated
locally) and the training / evaluation loops.

Nothing here downloads anything: ``load_digits`` ships with scikit-learn and
``mnist1d.data.make_dataset`` draws its samples from templates in the package.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import random

import numpy as np

__all__ = ["check_config", "choice", "integer", "real", "boolean", "real_list", "choice_list",
           "torch_session", "digits_data", "mnist1d_data", "minibatches", "train_epoch", "evaluate",
           "FAMILY_KEYS"]

#: entries every configuration may carry besides its experiment's own
FAMILY_KEYS = ("seed", "device", "size")


# ------------------------------------------------------------------ config checks
def choice(*options):
    """A checker: the value must be one of ``options``."""

    def check(key, value):
        if value not in options:
            raise ValueError(f"config[{key!r}] must be one of {list(options)}, got {value!r}")
        return value

    return check


def integer(low=None, high=None):
    """A checker: an int in ``[low, high]``."""

    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"config[{key!r}] must be an integer, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"config[{key!r}] must be in [{low}, {high}], got {value!r}")
        return int(value)

    return check


def real(low=None, high=None, *, low_open=False):
    """A checker: a finite real in ``[low, high]`` (``(low, high]`` with ``low_open``)."""

    def check(key, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"config[{key!r}] must be a finite number, got {value!r}")
        value = float(value)
        if low is not None and (value < low or (low_open and value == low)):
            raise ValueError(f"config[{key!r}] must be {'>' if low_open else '>='} {low}, got {value!r}")
        if high is not None and value > high:
            raise ValueError(f"config[{key!r}] must be <= {high}, got {value!r}")
        return value

    return check


def boolean(key, value):
    """A checker: True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"config[{key!r}] must be true or false, got {value!r}")
    return value


def real_list(low=None, high=None, *, low_open=False, min_len=1):
    """A checker: a list of reals, each checked by :func:`real`."""
    one = real(low, high, low_open=low_open)

    def check(key, value):
        if not isinstance(value, (list, tuple)) or len(value) < min_len:
            raise ValueError(f"config[{key!r}] must be a list of at least {min_len} numbers, got {value!r}")
        return [one(f"{key}[{i}]", v) for i, v in enumerate(value)]

    return check


def choice_list(*options, min_len=1):
    """A checker: a list whose items are among ``options`` (no repeats)."""

    def check(key, value):
        if not isinstance(value, (list, tuple)) or len(value) < min_len:
            raise ValueError(f"config[{key!r}] must be a list of at least {min_len} of {list(options)}, "
                             f"got {value!r}")
        bad = [v for v in value if v not in options]
        if bad:
            raise ValueError(f"config[{key!r}] holds {bad[0]!r}, not one of {list(options)}")
        if len(set(value)) != len(value):
            raise ValueError(f"config[{key!r}] repeats an entry: {value!r}")
        return list(value)

    return check


def _device(key, value):
    if not isinstance(value, str) or value.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"config[{key!r}] must be 'cpu', 'cuda' or 'cuda:<index>', got {value!r}")
    return value


def check_config(config, spec):
    """Validate ``config`` against ``spec`` and fill in defaults.

    Parameters
    ----------
    config : dict
    spec : dict
        ``key -> (default, checker)``; ``checker(key, value)`` returns the
        value or raises ValueError naming ``config[key]``. The family keys
        ``seed`` (default 0), ``device`` (``"cpu"``) and ``size`` (free text)
        are always accepted.

    Returns
    -------
    dict
        The checked configuration with every key of ``spec``.

    Raises
    ------
    ValueError
        Naming the first unknown or invalid entry.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    full = {"seed": (0, integer(0)), "device": ("cpu", _device), "size": ("custom", lambda k, v: str(v)), **spec}
    unknown = [k for k in config if k not in full]
    if unknown:
        raise ValueError(f"config[{unknown[0]!r}] is not an entry of this experiment; known: {sorted(full)}")
    out = {}
    for key, (default, check) in full.items():
        out[key] = check(key, config[key]) if key in config else default
    return out


# ------------------------------------------------------------------ torch session
@contextlib.contextmanager
def torch_session(cfg, threads=1):
    """One torch thread, the RNG seeded from ``cfg["seed"]`` and restored afterwards.

    Yields the ``torch.device`` of ``cfg["device"]``.

    Raises
    ------
    ValueError
        If ``cfg["device"]`` is a CUDA device and torch sees none.
    """
    import torch

    dev = torch.device(cfg["device"])
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"config['device'] is {cfg['device']!r} but torch sees no CUDA device")
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(cfg["seed"])
            yield dev
    finally:
        torch.set_num_threads(old)


# ------------------------------------------------------------------ data
def digits_data(device, test_fraction=0.25, split_seed=0, val_fraction=0.0):
    """scikit-learn's 8x8 digits (1797 images), pixels scaled to [0, 1].

    The train/test split is a fixed permutation (``split_seed``), the same for
    every run, so seeds vary the initialization and the batch order only.

    Parameters
    ----------
    device : torch.device
    test_fraction : float, default 0.25
    split_seed : int, default 0
    val_fraction : float, default 0
        Fraction of the *training* images held out as a validation set
        (``X_val``, ``y_val``), for choosing hyperparameters without the test set.

    Returns
    -------
    dict
        ``X`` (n, 64) float32, ``y`` (n,) int64, ``X_test``, ``y_test`` (and
        ``X_val``, ``y_val``) on ``device``.
    """
    import torch
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data.astype(np.float32) / 16.0
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(split_seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    n_val = int(round(val_fraction * len(tr)))
    va, tr = tr[:n_val], tr[n_val:]
    as_t = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
    out = {"X": as_t(X[tr]), "y": as_t(y[tr]), "X_test": as_t(X[te]), "y_test": as_t(y[te])}
    if n_val:
        out.update(X_val=as_t(X[va]), y_val=as_t(y[va]))
    return out


def mnist1d_data(device, num_samples=5000, data_seed=42):
    """MNIST-1D (Greydanus 2020) generated locally by ``mnist1d.data.make_dataset``
    (40 features, 10 classes, 80/20 split). The generator seeds the global
    ``random`` and ``numpy.random`` state; both are restored afterwards.
    """
    import torch
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = int(num_samples)
    args.seed = int(data_seed)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    as_t = lambda a, dt: torch.as_tensor(np.asarray(a, dtype=dt), device=device)  # noqa: E731
    return {"X": as_t(d["x"], np.float32), "y": as_t(d["y"], np.int64),
            "X_test": as_t(d["x_test"], np.float32), "y_test": as_t(d["y_test"], np.int64)}


# ------------------------------------------------------------------ loops
def minibatches(n, batch_size, generator, device):
    """The index tensors of one shuffled epoch (the last batch may be smaller)."""
    import torch

    perm = torch.randperm(n, generator=generator).to(device)
    return [perm[i:i + batch_size] for i in range(0, n, batch_size)]


def train_epoch(model, optimizer, X, y, *, batch_size, generator, penalty=None, wrap=None, after_backward=None):
    """One epoch of mini-batch training with cross-entropy.

    Parameters
    ----------
    model, optimizer : the module and any torch optimizer
    X, y : tensors
    batch_size : int
    generator : torch.Generator (the batch order)
    penalty : callable, optional
        ``penalty() -> tensor`` added to the loss (subgradient training of a
        regularized objective).
    wrap : context-manager factory, optional
        Entered around forward/backward (BinaryConnect's sign weights).
    after_backward : callable, optional
        Called after the backward pass, before the step (e.g. to add a
        regularizer's subgradient to the gradients).

    Returns
    -------
    float
        The mean data loss over the epoch's batches.
    """
    import torch.nn.functional as F

    model.train()
    total, count = None, 0
    for idx in minibatches(len(y), batch_size, generator, X.device):
        optimizer.zero_grad(set_to_none=True)
        ctx = wrap() if wrap is not None else contextlib.nullcontext()
        with ctx:
            loss = F.cross_entropy(model(X[idx]), y[idx])
            obj = loss + penalty() if penalty is not None else loss
            obj.backward()
        if after_backward is not None:
            after_backward()
        optimizer.step()
        part = loss.detach() * len(idx)
        total = part if total is None else total + part
        count += len(idx)
    return float(total) / count


def evaluate(model, X, y):
    """``(accuracy, mean cross-entropy)`` of ``model`` on ``(X, y)`` in eval mode."""
    import torch
    import torch.nn.functional as F

    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(X)
        acc = float((out.argmax(dim=1) == y).float().mean())
        loss = float(F.cross_entropy(out, y))
    model.train(was)
    return acc, loss

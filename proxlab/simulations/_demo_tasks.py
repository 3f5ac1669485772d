"""Small seeded tasks that exercise the sweep runner (tests and examples).

They live in the package, not in ``tests/``, because dask workers import a
task by its module name.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .sweep import rng_for, run_seed


def _log_call(config):
    """Append one line per call to ``config["call_log"]`` (counts calls across processes)."""
    path = config.get("call_log")
    if path:
        line = f"{config.get('index', '')} {os.getpid()}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one short O_APPEND write: lines from several processes do not interleave
        finally:
            os.close(fd)


def noisy_least_squares(config):
    """Online least squares with a seeded Gaussian design: one row per step.

    Configuration entries (all optional): ``n`` steps (default 32), ``d``
    dimension (8), ``noise`` (0.1), ``lr`` (0.05), ``method`` (a label), ``seed``;
    test hooks: ``sleep`` seconds before returning, ``fail`` (raise),
    ``fail_if_exists`` (raise while that path exists), ``call_log``, ``index``.

    Returns
    -------
    pandas.DataFrame
        Columns ``t, loss, dist, grad_norm, method, seed``.
    """
    import pandas as pd

    _log_call(config)
    if config.get("fail"):
        raise RuntimeError(f"demo failure of run {config.get('index')}")
    marker = config.get("fail_if_exists")
    if marker and os.path.exists(marker):
        raise RuntimeError(f"demo failure: {marker} exists")
    rng = rng_for(config)
    n, d = int(config.get("n", 32)), int(config.get("d", 8))
    noise, lr = float(config.get("noise", 0.1)), float(config.get("lr", 0.05))
    x_true = rng.standard_normal(d)
    A = rng.standard_normal((n, d))
    b = A @ x_true + noise * rng.standard_normal(n)
    x = np.zeros(d)
    loss, dist, gnorm = np.empty(n), np.empty(n), np.empty(n)
    for t in range(n):
        r = A[t] @ x - b[t]
        g = r * A[t]
        loss[t] = 0.5 * r * r
        gnorm[t] = np.linalg.norm(g)
        x -= lr / np.sqrt(t + 1.0) * g
        dist[t] = np.linalg.norm(x - x_true)
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))
    return pd.DataFrame({
        "t": np.arange(1, n + 1, dtype=np.int64),
        "loss": loss,
        "dist": dist,
        "grad_norm": gnorm,
        "method": str(config.get("method", "sgd")),
        "seed": np.full(n, run_seed(config), dtype=np.uint64),
    })


def not_a_frame(config):
    """A broken task: returns a dict instead of a DataFrame."""
    return {"value": 1.0}


def crash_or_square(config):
    """``os._exit`` the process when ``config["crash"]`` (dask only: it kills a worker), else one row."""
    import pandas as pd

    if config.get("crash"):
        os._exit(13)
    return pd.DataFrame({"x": [float(config.get("x", 0.0)) ** 2]})

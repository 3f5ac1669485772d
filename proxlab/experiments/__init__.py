"""The neural experiments in miniature behind ``proxlab experiment <name>``.

An experiment is a module of this package with the contract of the
simulation studies (:mod:`proxlab.simulations.studies`):

* ``NAME``, ``DESCRIPTION`` (one line), ``CLAIMS`` (what the paper shows
  and what the miniature measures);
* ``configs(quick: bool) -> list[dict]`` — one dict per run (JSON values, a
  ``"seed"``), CI-sized when ``quick``;
* ``task(config) -> pandas.DataFrame`` — one run, tidy rows, module-level so
  dask workers import it; it validates its configuration (a ValueError names
  the bad entry), uses one torch thread and draws every random number from
  its ``seed``: the same configuration gives the same table;
* ``summarize(table) -> pandas.DataFrame`` — the short table the command
  prints;
* ``figure(table) -> matplotlib.figure.Figure`` — from
  ``proxlab.figures.exp_<name>`` (a pure function of the table).

Every configuration carries a ``"device"`` entry (``"cpu"`` unless
``--device`` says otherwise), so results computed on another device are
cached apart. :func:`run_experiment` runs the configurations through the
sweep runner (:mod:`proxlab.simulations.sweep`: resumable, dask), writes
``<out>/exp_<name>[-quick].parquet`` and ``.png`` atomically and returns
``(table, summary, figure_path, sweep_result)``.

torch is imported by the experiment modules only, never by this registry.
"""

from __future__ import annotations

from importlib import import_module

#: experiment name -> module (imported on first use)
EXPERIMENTS = {
    "ctr": "proxlab.experiments.ctr",
    "structured": "proxlab.experiments.structured",
    "mrda": "proxlab.experiments.mrda",
    "quant": "proxlab.experiments.quant",
    "proxgen": "proxlab.experiments.proxgen",
}

DEVICES = ("cpu", "cuda")


def available():
    """Names of the experiments whose module exists."""
    out = []
    for name, mod in EXPERIMENTS.items():
        try:
            import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        out.append(name)
    return out


def get(name):
    """The experiment module ``name``.

    Raises
    ------
    ValueError
        For an unknown name, or an experiment whose module does not exist yet.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    try:
        return import_module(EXPERIMENTS[name])
    except ModuleNotFoundError as exc:
        if exc.name == EXPERIMENTS[name]:
            raise ValueError(f"experiment {name!r} is not implemented yet; available: "
                             f"{', '.join(available())}") from None
        raise


def configs_for(name, *, quick=False, device="cpu"):
    """The configurations of experiment ``name`` with ``device`` set in each.

    Parameters
    ----------
    name : str
    quick : bool, default False
    device : {"cpu", "cuda"} or a torch device string such as ``"cuda:1"``

    Returns
    -------
    list of dict
    """
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:<index>', got {device!r}")
    exp = get(name)
    return [dict(c, device=device) for c in exp.configs(bool(quick))]


def run_experiment(name, *, quick=False, out="results", device="cpu", results_dir=None, **sweep_kwargs):
    """Run experiment ``name``; returns ``(table, summary, figure_path, sweep_result)``.

    Parameters
    ----------
    name : str
        One of :data:`EXPERIMENTS`.
    quick : bool, default False
        The CI-sized configurations.
    out : str, default "results"
        Where ``exp_<name>[-quick].parquet`` and ``.png`` go.
    device : str, default "cpu"
        Written into every configuration (``"cuda"`` runs on the GPU).
    results_dir : str, optional
        The per-run files (default ``<out>/exp_<name>[-quick]-runs``).
    **sweep_kwargs
        Passed to :func:`proxlab.simulations.sweep.run_sweep` (``executor``,
        ``n_workers``, ``scheduler``, ``progress``, ``retry_failed``).

    Raises
    ------
    RuntimeError
        If a run failed (the report names it and its traceback file).
    """
    import os

    from ..simulations.studies import _atomic
    from ..simulations.sweep import run_sweep

    exp = get(name)
    configs = configs_for(name, quick=quick, device=device)
    os.makedirs(out, exist_ok=True)
    stem_name = f"exp_{name}{'-quick' if quick else ''}"
    results_dir = results_dir or os.path.join(out, f"{stem_name}-runs")
    os.makedirs(results_dir, exist_ok=True)
    res = run_sweep(exp.task, configs, results_dir, **sweep_kwargs)
    if not res.ok:
        raise RuntimeError(res.report())
    table = res.collect()
    summary = exp.summarize(table)
    stem = os.path.join(out, stem_name)
    _atomic(stem + ".parquet", lambda p: table.to_parquet(p, index=False))
    fig = exp.figure(table)
    _atomic(stem + ".png", lambda p: fig.savefig(p, dpi=130, bbox_inches="tight", format="png"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    return table, summary, stem + ".png", res

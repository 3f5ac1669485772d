"""The studies behind ``proxlab simulate <study>``.

A study is a module of this package with

* ``NAME``, ``DESCRIPTION`` (one line), ``CLAIMS`` (what it shows, with the
  paper and equation);
* ``configs(quick: bool) -> list[dict]`` — one dict per run (JSON values only,
  with a ``"seed"``), CI-sized when ``quick``;
* ``task(config) -> pandas.DataFrame`` — one run, tidy rows; module-level so
  dask workers can import it;
* ``summarize(table) -> pandas.DataFrame`` — the short table the command prints;
* ``figure(table) -> matplotlib.figure.Figure`` — delegates to
  :mod:`proxlab.figures` (pure functions of the table).

:func:`run_study` runs the configurations through the sweep runner
(:mod:`proxlab.simulations.sweep`: resumable, dask), collects the table, writes
``<out>/<study>.parquet`` and ``<out>/<study>.png`` atomically, and returns
``(table, summary, figure_path)``.
"""

from __future__ import annotations

from importlib import import_module

#: study name -> module (imported on first use)
STUDIES = {
    "regret": "proxlab.simulations.studies.regret",
    "support": "proxlab.simulations.studies.support",
    "manifold": "proxlab.simulations.studies.manifold",
    "subproblem": "proxlab.simulations.studies.subproblem",
    "stationarity": "proxlab.simulations.studies.stationarity",
}


def available():
    """Names of the studies whose module exists."""
    out = []
    for name, mod in STUDIES.items():
        try:
            import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
            continue
        out.append(name)
    return out


def get(name):
    """The study module ``name``."""
    if name not in STUDIES:
        raise ValueError(f"unknown study {name!r}; choose from {', '.join(STUDIES)}")
    try:
        return import_module(STUDIES[name])
    except ModuleNotFoundError as exc:
        if exc.name == STUDIES[name]:
            raise ValueError(f"study {name!r} is not implemented yet; available: {', '.join(available())}") from None
        raise


def run_study(name, *, quick=False, out="results", results_dir=None, **sweep_kwargs):
    """Run study ``name``; returns ``(table, summary, figure_path, sweep_result)``.

    ``results_dir`` holds the per-run files (default ``<out>/<name>-runs``);
    ``sweep_kwargs`` go to :func:`proxlab.simulations.sweep.run_sweep`.
    """
    import os

    from ..sweep import run_sweep

    study = get(name)
    configs = study.configs(bool(quick))
    os.makedirs(out, exist_ok=True)
    results_dir = results_dir or os.path.join(out, f"{name}{'-quick' if quick else ''}-runs")
    os.makedirs(results_dir, exist_ok=True)
    res = run_sweep(study.task, configs, results_dir, **sweep_kwargs)
    if not res.ok:
        raise RuntimeError(res.report())
    table = res.collect()
    summary = study.summarize(table)
    stem = os.path.join(out, f"{name}{'-quick' if quick else ''}")
    _atomic(stem + ".parquet", lambda p: table.to_parquet(p, index=False))
    fig = study.figure(table)
    _atomic(stem + ".png", lambda p: fig.savefig(p, dpi=130, bbox_inches="tight", format="png"))
    return table, summary, stem + ".png", res


def _atomic(path, write):
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)

"""Resumable, reproducible parameter sweeps on dask.distributed.

A *sweep* is a task function and a list of configurations. The task is a
module-level function ``task(config: dict) -> pandas.DataFrame`` that returns
tidy rows; every configuration is one *run*. Each run is keyed by a hash of
its configuration, the task's name and the code version, and its table is
written atomically as one parquet file per run, so that

* re-running a sweep skips the runs already finished,
* killing a sweep at any moment loses at most the runs in flight and never
  leaves a partial file where :func:`collect` looks,
* the same configuration gives the same rows, bit for bit, whichever executor
  ran it and in whatever order.

Results directory layout
------------------------
``<results_dir>/<key>.parquet``
    A finished run: the task's rows, with a JSON record under the schema
    metadata key ``proxlab.sweep`` holding the key, the configuration, the
    seed, the task, the code version, the run time and where it ran. The
    configuration therefore travels inside the one file that is written
    atomically; there is no sidecar that could disagree with it.
``<results_dir>/<key>.error.json``
    A failed run: the configuration and the worker's traceback. Failed runs are
    reported at the end of the sweep and skipped by later sweeps unless
    ``retry_failed=True`` (``--retry-failed``); a success removes the file.
``<results_dir>/.tmp-<host>-<pid>-<token>-<name>.partial``
    A file being written. It is renamed over its final name only after its
    bytes are fsynced (write, ``fsync``, ``os.replace``, fsync of the
    directory). Temporary files left by a killed process are never read, and
    the next sweep deletes those whose writer is no longer alive.

A run is *done* iff ``<key>.parquet`` exists and its parquet footer reads back
with a ``proxlab.sweep`` record naming the same key (a footer read checks the
magic bytes at both ends and the footer length, so a truncated file fails it);
:func:`collect` then reads the data in full.

Code version
------------
:func:`code_version` is ``proxlab.__version__`` plus a SHA-256 digest of every
``*.py`` file of the installed ``proxlab`` package (relative path and bytes,
``__pycache__`` excluded), e.g. ``"0.1.0+src.3f9a0c21d4e5b6a7"``. The version
string alone does not change between releases, so a run computed before an
edit of an update rule would otherwise be silently reused after it; hashing
the sources makes every edit of proxlab invalidate the cache, at the price of
recomputing after harmless edits too (a stale result that looks current is the
worse failure for a toolkit whose product is trust). Where the sources cannot
be read (a zipped install) the version string alone is used. Code outside
``proxlab`` (a task in a user's own script) is not covered: pass
``code_version=`` explicitly, or put a version in the configuration.

Seeds
-----
A run's randomness comes from its configuration only: :func:`rng_for`
returns ``numpy.random.default_rng(seed)`` with ``seed = config["seed"]`` when
present (a non-negative integer), otherwise a 64-bit integer taken from the
SHA-256 of the canonical configuration (:func:`run_seed`). The derived seed
excludes the code version and the task, so a configuration keeps its random
stream across code edits. Tasks must draw all randomness from it.
BLAS is limited to one thread around every run (when ``threadpoolctl`` is
installed), as dask workers already are, so a reduction's order does not
depend on the executor.

Executors
---------
``executor="serial"`` runs in this process. ``executor="dask"`` (default)
submits every pending run to dask.distributed: a ``LocalCluster`` of
``n_workers`` processes with one thread each, or an existing cluster at
``scheduler="tcp://host:port"``. Workers only compute; the *client* writes
every file. That keeps one writer per results directory, works with clusters
that share no filesystem with the client, and means that once the sweep
process is dead nothing more is written (an orphaned or remote worker cannot
publish a result after the sweep was killed). Result tables travel back to the
client through the scheduler; tidy tables are small, so this costs little.
Workers of an external cluster must be able to import ``proxlab`` and the
task's module.

Example
-------
>>> from proxlab.simulations.sweep import run_sweep            # doctest: +SKIP
>>> from proxlab.simulations._demo_tasks import noisy_least_squares
>>> configs = [{"lr": lr, "seed": s} for lr in (0.01, 0.1) for s in range(5)]
>>> res = run_sweep(noisy_least_squares, configs, "results/demo", executor="serial")
>>> table = res.collect()        # one row per (run, step), with run_key, lr, seed

Command line: a study's parser calls :func:`add_sweep_arguments` and passes
``**sweep_options(args)`` to :func:`run_sweep`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import importlib
import json
import math
import os
import re
import secrets
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = [
    "SweepResult",
    "RunFailure",
    "add_sweep_arguments",
    "canonical_json",
    "code_version",
    "collect",
    "list_runs",
    "rng_for",
    "run_key",
    "run_seed",
    "run_sweep",
    "sweep_options",
]

_META_KEY = b"proxlab.sweep"
_FORMAT = 1
_KEY_HEX = 20  # 80 bits of SHA-256 in file names
_FINAL_RE = re.compile(r"^([0-9a-f]{%d})\.parquet$" % _KEY_HEX)
_ERROR_RE = re.compile(r"^([0-9a-f]{%d})\.error\.json$" % _KEY_HEX)
_TEMP_RE = re.compile(r"^\.tmp-([0-9a-f]{8})-(\d+)-([0-9a-f]{8})-(.+)\.partial$")
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_FOREIGN_TEMP_AGE_S = 24 * 3600.0
_EXECUTORS = ("serial", "dask")


# --------------------------------------------------------------------------- hashing
def _normalize(value, where):
    """Return ``value`` as plain JSON types, or raise naming ``where``."""
    # numpy scalars first: np.float64 subclasses float and np.str_ subclasses str.
    if isinstance(value, np.generic):
        if isinstance(value, (np.bool_, np.integer, np.floating, np.str_)):
            value = value.item()
        else:
            raise TypeError(f"{where} must be JSON-serializable, got {value!r} of type {type(value).__name__}")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite (JSON has no NaN or Infinity), got {value!r}")
        return float(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufU":
            raise TypeError(f"{where} must be JSON-serializable, got an array of dtype {value.dtype}")
        return _normalize(value.tolist(), where)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} keys must be strings, got key {k!r} of type {type(k).__name__}")
            out[str(k)] = _normalize(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_normalize(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} must be JSON-serializable, got {value!r} of type {type(value).__name__}")


def _check_config(config, where="config"):
    if not isinstance(config, Mapping):
        raise TypeError(f"{where} must be a dict, got {config!r} of type {type(config).__name__}")
    norm = _normalize(config, where)
    if "seed" in norm:
        seed = norm["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"{where}['seed'] must be a non-negative integer, got {config['seed']!r}")
    return norm


def canonical_json(config):
    """Canonical JSON text of a configuration.

    Keys are sorted, separators are fixed, numpy scalars and arrays become
    Python numbers and lists, tuples become lists. Two configurations that a
    task cannot tell apart after this normalization have the same text; ``1``
    and ``1.0`` stay different (JSON keeps the distinction and a task may too).

    Parameters
    ----------
    config : dict
        String keys; values made of ``None``, ``bool``, ``int``, finite
        ``float``, ``str``, lists, tuples, dicts and numpy scalars or arrays of
        those kinds.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``config`` is not a dict, has a non-string key or holds a value that
        has no JSON form (a set, a path, an object).
    ValueError
        If it holds NaN or an infinity, or a ``seed`` entry that is not a
        non-negative integer.
    """
    return json.dumps(_check_config(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def _task_name(task, where="task"):
    """``module:qualname`` of a module-level callable, checked to resolve back to it."""
    if isinstance(task, str):
        if ":" not in task:
            raise ValueError(f"{where} as a string must be 'module:qualname', got {task!r}")
        return task
    if not callable(task):
        raise TypeError(f"{where} must be a module-level function, got {task!r} of type {type(task).__name__}")
    module = getattr(task, "__module__", None)
    qualname = getattr(task, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise TypeError(f"{where} must be a module-level function importable by name (not a lambda, "
                        f"a nested function or a callable instance), got {task!r}")
    obj = sys.modules.get(module)
    if obj is None:
        obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not task:
        raise TypeError(f"{where} must be importable as {module}:{qualname}, but that name does not "
                        f"resolve to {task!r}")
    return f"{module}:{qualname}"


def _source_digest(root):
    """SHA-256 (16 hex) of the ``*.py`` files under ``root``, or ``None`` if unreadable."""
    root = Path(root)
    if not root.is_dir():
        return None
    h = hashlib.sha256()
    files = sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.relative_to(root).parts)
    try:
        for p in files:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    except OSError:
        return None
    return h.hexdigest()[:16] if files else None


def code_version():
    """The code version that enters every run key.

    Returns
    -------
    str
        ``"<proxlab.__version__>+src.<digest>"``, where ``digest`` is the first
        16 hex digits of the SHA-256 of the package's ``*.py`` files (relative
        paths and bytes, in sorted order); just ``proxlab.__version__`` when
        the sources cannot be read. Computed afresh on each call, so an edit
        made in a running session is seen by the next sweep.
    """
    import proxlab

    digest = _source_digest(Path(proxlab.__file__).resolve().parent)
    return proxlab.__version__ if digest is None else f"{proxlab.__version__}+src.{digest}"


def _check_code_version(value):
    if value is None:
        return code_version()
    if not isinstance(value, str) or not value:
        raise TypeError(f"code_version must be a non-empty string or None, got {value!r}")
    return value


def run_key(config, *, code_version=None, task=None):
    """Stable key of one run.

    Parameters
    ----------
    config : dict
        The run's configuration (see :func:`canonical_json`).
    code_version : str, optional
        Defaults to :func:`code_version`.
    task : callable or str, optional
        The task function (or its ``"module:qualname"``). Part of the key, so
        two tasks sharing a results directory never collide.

    Returns
    -------
    str
        The first 20 hex digits (80 bits) of the SHA-256 of the canonical JSON
        of ``{"config": config, "code_version": ..., "task": ...}``. Stable
        across processes, platforms and the order of the configuration's keys.
    """
    payload = {
        "config": _check_config(config),
        "code_version": _check_code_version(code_version),
        "task": None if task is None else _task_name(task),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:_KEY_HEX]


def run_seed(config):
    """The seed of a run: ``config["seed"]``, or one derived from the configuration.

    Parameters
    ----------
    config : dict

    Returns
    -------
    int
        ``config["seed"]`` when present; otherwise the first 64 bits of
        ``SHA-256("proxlab.seed\\0" + canonical_json(config))``. The derived seed
        depends on the configuration only (not on the code version, the task,
        the executor or the order of the sweep).
    """
    norm = _check_config(config)
    if "seed" in norm:
        return norm["seed"]
    text = json.dumps(norm, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return int(hashlib.sha256(b"proxlab.seed\0" + text.encode()).hexdigest()[:16], 16)


def rng_for(config):
    """``numpy.random.default_rng(run_seed(config))``: the generator a task should use.

    Parameters
    ----------
    config : dict

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng(run_seed(config))


# --------------------------------------------------------------------------- files
def _fsync_dir(folder):
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _atomic_write(path, write):
    """Write ``path`` via a temp file in its directory, fsync, ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f".tmp-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}-{path.name}.partial")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def _clean_stale_temps(folder):
    """Delete temp files whose writer is dead (same host) or that are a day old (other hosts)."""
    removed = 0
    now = time.time()
    for entry in os.scandir(folder):
        m = _TEMP_RE.match(entry.name)
        if not m:
            continue
        host, pid = m.group(1), int(m.group(2))
        try:
            stale = (not _pid_alive(pid)) if host == _HOST else now - entry.stat().st_mtime > _FOREIGN_TEMP_AGE_S
            if stale:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            pass
    return removed


def _read_meta(path):
    """The ``proxlab.sweep`` record of a final file, or ``None`` if it does not read back."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
        record = json.loads(meta[_META_KEY])
    except Exception:  # any unreadable file is simply "not done"
        return None
    m = _FINAL_RE.match(Path(path).name)
    if not isinstance(record, dict) or m is None or record.get("key") != m.group(1):
        return None
    return record


def _check_results_dir(results_dir, *, create):
    if not isinstance(results_dir, (str, os.PathLike)):
        raise TypeError(f"results_dir must be a path, got {results_dir!r} of type {type(results_dir).__name__}")
    folder = Path(results_dir)
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ValueError(f"results_dir {str(folder)!r} is not a directory: {exc}") from None
        except OSError as exc:
            raise ValueError(f"results_dir {str(folder)!r} cannot be created: {exc}") from None
        # Probe by writing, not os.access: honest under ACLs, root and read-only mounts.
        probe = folder / f".tmp-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}-probe.partial"
        try:
            with open(probe, "xb"):
                pass
            os.unlink(probe)
        except OSError as exc:
            raise ValueError(f"results_dir {str(folder)!r} is not writable: {exc}") from None
    elif not folder.is_dir():
        raise ValueError(f"results_dir {str(folder)!r} is not an existing directory")
    return folder


# --------------------------------------------------------------------------- one run
def _where_am_i():
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            return get_worker().address
        except ValueError:
            pass
    return f"local:{socket.gethostname()}:{os.getpid()}"


def _blas_one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scipy's stack
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _is_default_index(index):
    import pandas as pd

    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _execute_run(task, config):
    """Run one configuration; never raises. Executed in process or on a dask worker.

    Returns ``("ok", pyarrow.Table, seconds, where)`` or
    ``("error", error_type, message, traceback_text, where)``.
    """
    where = _where_am_i()
    try:
        t0 = time.perf_counter()
        with _blas_one_thread():
            frame = task(json.loads(json.dumps(config)))  # a private copy, same under every executor
        elapsed = time.perf_counter() - t0
        import pandas as pd
        import pyarrow as pa

        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"the task must return a pandas.DataFrame, got {type(frame).__name__}")
        if not _is_default_index(frame.index):
            frame = frame.reset_index()
        bad = [c for c in frame.columns if not isinstance(c, str)]
        if bad:
            raise TypeError(f"the task's DataFrame must have string column names, got {bad!r}")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        return ("ok", table, elapsed, where)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc), traceback.format_exc(), where)


@dataclasses.dataclass(frozen=True)
class RunFailure:
    """A run whose task raised.

    Attributes
    ----------
    key : str
    config : dict
    error : str
        ``"ExceptionType: message"``.
    error_file : pathlib.Path
        The JSON file holding the full traceback.
    previous : bool
        True if the failure was recorded by an earlier sweep and not retried.
    """

    key: str
    config: dict
    error: str
    error_file: Path
    previous: bool = False


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What a sweep did.

    Attributes
    ----------
    results_dir : pathlib.Path
    code_version : str
    task : str
        ``"module:qualname"`` of the task.
    keys : tuple of str
        One key per input configuration, in input order (duplicates share one).
    computed : tuple of str
        Keys run and written by this sweep.
    skipped : tuple of str
        Keys found finished and not run again.
    failed : tuple of RunFailure
        Runs that failed in this sweep, and earlier failures not retried.
    """

    results_dir: Path
    code_version: str
    task: str
    keys: tuple
    computed: tuple
    skipped: tuple
    failed: tuple

    @property
    def ok(self):
        """True when every run of the sweep is finished."""
        return not self.failed

    def collect(self, **kwargs):
        """The rows of this sweep's finished runs (:func:`collect` restricted to its keys)."""
        failed = {f.key for f in self.failed}
        keys = [k for k in dict.fromkeys(self.keys) if k not in failed]
        return collect(self.results_dir, keys=keys, **kwargs)

    def report(self):
        """A short plain-text summary, with one line per failure."""
        n = len(dict.fromkeys(self.keys))
        lines = [f"sweep {self.task}: {n} runs, {len(self.computed)} computed, {len(self.skipped)} already done, "
                 f"{len(self.failed)} failed (results in {self.results_dir})"]
        for f in self.failed:
            tag = " (earlier sweep; --retry-failed to run again)" if f.previous else ""
            lines.append(f"  FAILED {f.key}{tag}: {f.error}  [traceback: {f.error_file}]")
        return "\n".join(lines)


def _commit_ok(folder, key, record, table, elapsed, where):
    import pyarrow.parquet as pq

    record = dict(record, elapsed_s=elapsed, executed_by=where,
                  finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(record, sort_keys=True).encode()
    table = table.replace_schema_metadata(meta)
    _atomic_write(folder / f"{key}.parquet", lambda fh: pq.write_table(table, fh))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(folder / f"{key}.error.json")


def _commit_error(folder, key, record, error_type, message, tb, where):
    record = dict(record, error_type=error_type, message=message, traceback=tb, executed_by=where,
                  finished_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    path = folder / f"{key}.error.json"
    text = json.dumps(record, sort_keys=True, indent=1).encode()
    _atomic_write(path, lambda fh: fh.write(text))
    return RunFailure(key, record["config"], f"{error_type}: {message}", path)


# --------------------------------------------------------------------------- sweep
def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def run_sweep(task, configs, results_dir, *, executor="dask", scheduler=None, n_workers=None,
              progress=True, retry_failed=False, code_version=None):
    """Run ``task`` on every configuration not finished yet; write one parquet file per run.

    Parameters
    ----------
    task : callable
        Module-level function ``task(config: dict) -> pandas.DataFrame`` (tidy
        rows, string column names). It receives a copy of the configuration
        after normalization (numpy scalars as Python numbers, tuples as
        lists), the same under every executor, and should take its randomness
        from :func:`rng_for` ``(config)``. Must be importable by dask workers.
    configs : sequence of dict
        The runs, non-empty. Identical configurations are run once.
    results_dir : str or os.PathLike
        Created if needed; must be writable.
    executor : {"dask", "serial"}, default "dask"
        ``"serial"`` runs in this process, in order; ``"dask"`` uses
        dask.distributed.
    scheduler : str, optional
        Address of a running dask scheduler (``"tcp://host:port"``). Default:
        start a ``LocalCluster`` of worker processes with one thread each.
    n_workers : int, optional
        Worker processes of the local cluster; default ``os.cpu_count()``,
        at most the number of runs to do.
    progress : bool, default True
        Show a tqdm bar (runs done / total, rate, ETA) on stderr.
    retry_failed : bool, default False
        Run again the runs whose earlier attempt failed (otherwise they are
        reported as failed and skipped).
    code_version : str, optional
        Override :func:`code_version` (for tasks outside proxlab, or to pin).

    Returns
    -------
    SweepResult
        Keys computed, skipped and failed; ``.collect()`` reads the rows. When
        runs failed, ``.report()`` is also printed to stderr.

    Raises
    ------
    TypeError, ValueError
        On bad arguments, naming the parameter (empty ``configs``, a value
        without a JSON form, an unwritable ``results_dir``, a ``scheduler``
        that cannot be reached in 60 s, ...).
    OSError
        If a result cannot be written (disk full): the sweep stops, since later
        writes would fail too; runs already written stay valid.

    Notes
    -----
    Every pending run is submitted at once; as each completes, the client
    writes its file atomically and advances the bar. A task that raises (or
    that kills its dask worker process more often than the scheduler's
    ``distributed.scheduler.allowed-failures``, giving ``KilledWorker``) is
    recorded in ``<key>.error.json`` with its traceback; the sweep goes on.
    (Dask counts a worker's death against every run it held, so a run queued
    next to a crashing one can be blamed too; ``--retry-failed`` reruns it.)
    Other dask errors (a lost scheduler, a task the workers cannot import)
    are failures of the cluster, not of a run: they stop the sweep and record
    nothing, and the next sweep resumes. On ``KeyboardInterrupt`` the runs in
    flight are cancelled and lost; finished ones stay.
    """
    task_name = _task_name(task)
    if isinstance(configs, (Mapping, str, bytes)) or not hasattr(configs, "__iter__"):
        raise TypeError(f"configs must be a sequence of dicts, got {type(configs).__name__}")
    configs = list(configs)
    if not configs:
        raise ValueError("configs must not be empty")
    norm = [_check_config(c, f"configs[{i}]") for i, c in enumerate(configs)]
    if executor not in _EXECUTORS:
        raise ValueError(f"executor must be one of {_EXECUTORS}, got {executor!r}")
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            raise TypeError(f"scheduler must be an address string such as 'tcp://127.0.0.1:8786', got {scheduler!r}")
        if executor != "dask":
            raise ValueError(f"scheduler={scheduler!r} needs executor='dask', got executor={executor!r}")
    if n_workers is not None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)):
            raise TypeError(f"n_workers must be a positive integer, got {n_workers!r}")
        if n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers!r}")
        if executor != "dask" or scheduler is not None:
            raise ValueError("n_workers sizes the local dask cluster; it cannot be used with "
                             f"executor={executor!r}, scheduler={scheduler!r}")
        n_workers = int(n_workers)
    progress = _check_bool("progress", progress)
    retry_failed = _check_bool("retry_failed", retry_failed)
    version = _check_code_version(code_version)
    folder = _check_results_dir(results_dir, create=True)

    keys = tuple(run_key(c, code_version=version, task=task_name) for c in norm)
    unique = dict(zip(keys, norm))  # first occurrence wins; identical configs share a key

    _clean_stale_temps(folder)
    skipped, failed, todo = [], [], []
    for key, cfg in unique.items():
        final = folder / f"{key}.parquet"
        if final.exists():
            if _read_meta(final) is not None:
                skipped.append(key)
                continue
            # Not written by us (we only ever rename complete files): keep it aside, recompute.
            aside = final.with_name(f"{final.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
            os.replace(final, aside)
            print(f"sweep: {final} did not read back; moved to {aside.name} and recomputing", file=sys.stderr)
        err = folder / f"{key}.error.json"
        if err.exists() and not retry_failed:
            try:
                rec = json.loads(err.read_text())
                msg = f"{rec.get('error_type')}: {rec.get('message')}"
            except (OSError, ValueError):
                msg = "unreadable error record"
            failed.append(RunFailure(key, cfg, msg, err, previous=True))
            continue
        todo.append(key)

    base = {key: {"format": _FORMAT, "key": key, "config": unique[key], "seed": run_seed(unique[key]),
                  "task": task_name, "code_version": version} for key in todo}
    computed = []

    def finish(key, outcome):
        if outcome[0] == "ok":
            _, table, elapsed, where = outcome
            _commit_ok(folder, key, base[key], table, elapsed, where)
            computed.append(key)
        else:
            _, etype, message, tb, where = outcome
            failed.append(_commit_error(folder, key, base[key], etype, message, tb, where))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(unique), initial=len(unique) - len(todo), desc=task_name.rsplit(":", 1)[-1],
                   unit="run", file=sys.stderr, dynamic_ncols=True)
        if failed:
            bar.set_postfix(failed=len(failed))

    def advance():
        if bar is not None:
            bar.update(1)
            if failed:
                bar.set_postfix(failed=len(failed))

    try:
        if todo and executor == "serial":
            for key in todo:
                finish(key, _execute_run(task, unique[key]))
                advance()
        elif todo:
            _run_dask(task, unique, todo, finish, advance, scheduler=scheduler, n_workers=n_workers)
    finally:
        if bar is not None:
            bar.close()

    result = SweepResult(folder, version, task_name, keys, tuple(computed), tuple(skipped), tuple(failed))
    if failed:
        print(result.report(), file=sys.stderr)
    return result


def _run_dask(task, unique, todo, finish, advance, *, scheduler, n_workers):
    import logging

    from distributed import Client, KilledWorker, LocalCluster, as_completed

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            n = n_workers or max(1, min(os.cpu_count() or 1, len(todo)))
            cluster = stack.enter_context(
                LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                             silence_logs=logging.ERROR))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="60s"))
            except (OSError, TimeoutError) as exc:
                raise ValueError(f"scheduler {scheduler!r} could not be reached: {exc}") from exc
        token = secrets.token_hex(4)
        futures = {}
        try:
            for key in todo:
                fut = client.submit(_execute_run, task, unique[key], key=f"proxlab-run-{key}-{token}",
                                    pure=False, retries=0)
                futures[fut] = key
            for fut in as_completed(list(futures)):
                key = futures.pop(fut)
                try:
                    outcome = fut.result()
                except KilledWorker as exc:
                    # The run took its worker process down (segfault, os._exit, out of memory) as many
                    # times as the scheduler allows: a failure of this run, recorded like an exception.
                    outcome = ("error", type(exc).__name__, str(exc), traceback.format_exc(), "dask")
                # Anything else (cancelled futures, a lost scheduler, a task the workers cannot import)
                # is a failure of the cluster, not of the run: it propagates and stops the sweep, and
                # nothing is recorded, so a later sweep runs those configurations normally.
                fut.release()
                finish(key, outcome)
                advance()
        finally:
            if futures:
                with contextlib.suppress(Exception):
                    client.cancel(list(futures))


# --------------------------------------------------------------------------- reading
def _finished_files(folder):
    return sorted((m.group(1), Path(e.path)) for e in os.scandir(folder) if (m := _FINAL_RE.match(e.name)))


def _config_cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def collect(results_dir, keys=None, *, config_columns=True):
    """Read finished runs into one DataFrame.

    Parameters
    ----------
    results_dir : str or os.PathLike
        An existing results directory.
    keys : sequence of str, optional
        Only these runs, in this order (every one must be finished). Default:
        every finished run in the directory, in key order (runs from other
        code versions included; use :attr:`SweepResult.keys` or
        :func:`list_runs` to select).
    config_columns : bool, default True
        Add each top-level configuration entry as a column, unless the task's
        rows already have a column of that name (lists and dicts as JSON text).

    Returns
    -------
    pandas.DataFrame
        The runs' rows, concatenated with a fresh index, with a ``run_key``
        column first. Temporary and error files are never read; a final file
        that does not read back is skipped with a warning on stderr (the sweep
        never writes one; it can only come from outside).

    Raises
    ------
    ValueError
        If ``results_dir`` is not a directory, or a requested key is not finished.
    """
    import pandas as pd
    import pyarrow.parquet as pq

    folder = _check_results_dir(results_dir, create=False)
    if keys is None:
        files = _finished_files(folder)
    else:
        if isinstance(keys, str) or not hasattr(keys, "__iter__"):
            raise TypeError(f"keys must be a sequence of run keys, got {keys!r}")
        keys = list(dict.fromkeys(keys))
        files = [(k, folder / f"{k}.parquet") for k in keys]
        missing = [k for k, p in files if not p.exists()]
        if missing:
            raise ValueError(f"keys: {len(missing)} runs are not finished in {str(folder)!r}, e.g. {missing[:3]}")
    frames = []
    for key, path in files:
        try:
            table = pq.read_table(path)
            record = json.loads((table.schema.metadata or {})[_META_KEY])
            if record.get("key") != key:
                raise ValueError(f"metadata names key {record.get('key')!r}")
        except Exception as exc:
            if keys is not None:
                raise ValueError(f"keys: run {key} does not read back from {str(path)!r}: {exc}") from None
            print(f"collect: skipping {path}: does not read back ({exc})", file=sys.stderr)
            continue
        frame = table.to_pandas()
        if config_columns:
            extra = {k: _config_cell(v) for k, v in record["config"].items() if k not in frame.columns}
            if extra:
                frame = frame.assign(**extra)
        frame.insert(0, "run_key", key)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({"run_key": pd.Series([], dtype=str)})
    return pd.concat(frames, ignore_index=True)


def list_runs(results_dir):
    """One row per run recorded in a results directory, finished or failed.

    Parameters
    ----------
    results_dir : str or os.PathLike

    Returns
    -------
    pandas.DataFrame
        Columns ``key, status ("done" / "failed"), task, code_version, seed,
        config`` (canonical JSON), ``elapsed_s, executed_by, finished_utc,
        error`` (``"Type: message"`` for failures), sorted by key.
    """
    import pandas as pd

    folder = _check_results_dir(results_dir, create=False)
    rows = []
    for key, path in _finished_files(folder):
        rec = _read_meta(path)
        if rec is not None:
            rows.append({**rec, "status": "done", "error": None})
    done = {r["key"] for r in rows}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        m = _ERROR_RE.match(entry.name)
        if not m or m.group(1) in done:
            continue
        try:
            rec = json.loads(Path(entry.path).read_text())
        except (OSError, ValueError):
            continue
        rows.append({**rec, "status": "failed", "elapsed_s": None,
                     "error": f"{rec.get('error_type')}: {rec.get('message')}"})
    cols = ["key", "status", "task", "code_version", "seed", "config", "elapsed_s", "executed_by",
            "finished_utc", "error"]
    out = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    out["config"] = [json.dumps(c, sort_keys=True, separators=(",", ":")) for c in out["config"]]
    return out.sort_values("key", ignore_index=True)


# --------------------------------------------------------------------------- command line
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_sweep_arguments(parser, *, default_results="results"):
    """Add the sweep options to an ``argparse`` parser (used by ``proxlab simulate``).

    Options: ``--results DIR``, ``--scheduler ADDRESS``, ``--workers N``,
    ``--serial``, ``--retry-failed``, ``--no-progress``. Turn the parsed
    namespace into :func:`run_sweep` keyword arguments with
    :func:`sweep_options`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    default_results : str, default "results"
        Default of ``--results``.

    Returns
    -------
    argparse._ArgumentGroup
        The group holding the options.
    """
    if not isinstance(parser, argparse.ArgumentParser):
        raise TypeError(f"parser must be an argparse.ArgumentParser, got {type(parser).__name__}")
    g = parser.add_argument_group("sweep execution")
    g.add_argument("--results", metavar="DIR", default=default_results,
                   help=f"results directory: one parquet file per finished run (default {default_results!r})")
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(default: start a local cluster)")
    g.add_argument("--workers", metavar="N", type=_positive_int, default=None,
                   help="worker processes of the local cluster (default: CPU count)")
    g.add_argument("--serial", action="store_true", help="run in this process, without dask")
    g.add_argument("--retry-failed", action="store_true", help="run again the runs that failed before")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    return g


def sweep_options(args):
    """Keyword arguments of :func:`run_sweep` from options added by :func:`add_sweep_arguments`.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    dict
        ``results_dir, executor, scheduler, n_workers, progress, retry_failed``.

    Raises
    ------
    ValueError
        If ``--serial`` is combined with ``--scheduler`` or ``--workers``, or
        ``--workers`` with ``--scheduler``.
    """
    if args.serial and (args.scheduler or args.workers):
        raise ValueError("--serial cannot be combined with --scheduler or --workers")
    if args.scheduler and args.workers:
        raise ValueError("--workers sizes the local cluster; an existing cluster (--scheduler) has its own workers")
    return {
        "results_dir": args.results,
        "executor": "serial" if args.serial else "dask",
        "scheduler": args.scheduler,
        "n_workers": args.workers,
        "progress": not args.no_progress,
        "retry_failed": bool(args.retry_failed),
    }

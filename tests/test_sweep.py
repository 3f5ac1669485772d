"""The sweep runner: keys, atomic results, resume after SIGKILL, dask executors.

The task is ``proxlab.simulations._demo_tasks.noisy_least_squares`` (a seeded
online least-squares loop); it lives in the package so dask workers can import
it. Sweeps that run twice pin ``code_version`` to one value computed once per
test, so an edit of proxlab made by someone else mid-test cannot change keys.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import proxlab
from proxlab.simulations import _demo_tasks
from proxlab.simulations import sweep as sw
from proxlab.simulations._demo_tasks import crash_or_square, noisy_least_squares, not_a_frame
from proxlab.simulations.sweep import (add_sweep_arguments, canonical_json, code_version, collect, list_runs,
                                       rng_for, run_key, run_seed, run_sweep, sweep_options)

REPO = Path(__file__).resolve().parent.parent
TASK = "proxlab.simulations._demo_tasks:noisy_least_squares"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _configs(n, tmp_path=None, **extra):
    cfgs = []
    for i in range(n):
        c = {"index": i, "lr": 0.02 * (1 + i % 3), "n": 24 + i, "method": f"m{i % 2}", **extra}
        if i % 2 == 0:
            c["seed"] = 1000 + i  # the others derive their seed from the configuration
        if tmp_path is not None:
            c["call_log"] = str(tmp_path / "calls.log")
        cfgs.append(c)
    return cfgs


def _calls(tmp_path):
    path = tmp_path / "calls.log"
    if not path.exists():
        return []
    return [int(line.split()[0]) for line in path.read_text().splitlines()]


def _finals(folder):
    return sorted(p.name for p in Path(folder).iterdir() if sw._FINAL_RE.match(p.name))


def _temps(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".partial"))


def _reference(configs):
    """Each configuration's rows computed directly in this process, in collect's layout."""
    frames = []
    for c in configs:
        norm = json.loads(canonical_json(c))
        with mock.patch.object(_demo_tasks, "_log_call", lambda config: None):  # not a sweep call
            f = noisy_least_squares(dict(norm))
        extra = {k: sw._config_cell(v) for k, v in norm.items() if k not in f.columns}
        f = f.assign(**extra)
        f.insert(0, "run_key", run_key(norm, code_version="ref", task=TASK))
        frames.append(f)
    return frames


def assert_bitwise_equal(a, b):
    """Same columns, dtypes and values; floats compared as raw 64-bit patterns."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in a.columns:
        if a[col].dtype.kind == "f":
            np.testing.assert_array_equal(a[col].to_numpy().view(np.uint64), b[col].to_numpy().view(np.uint64))


def _strip_key(frame):
    return frame.drop(columns="run_key").reset_index(drop=True)


# --------------------------------------------------------------------------- import cost
def test_import_is_lazy():
    code = ("import sys, proxlab, proxlab.simulations, proxlab.simulations.sweep; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'dask', 'distributed', 'numba', 'cvxpy', 'pandas', 'pyarrow', 'tqdm'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env())
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- keys and seeds
BASE = {"alpha": 0.5, "n": 10, "name": "rda", "flag": True, "none": None,
        "grid": [1, 2.5, "x"], "nested": {"a": 1, "b": [0.25, {"c": "d"}]}, "seed": 7}


def _leaf_paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaf_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaf_paths(v, prefix + (i,))
    else:
        yield prefix


def _perturbed(value):
    if value is None:
        return 0
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return np.nextafter(value, np.inf).item()  # one ulp
    return value + "_"


def test_key_is_stable_under_normalization():
    same = {"seed": np.int64(7), "nested": {"b": (np.float64(0.25), {"c": np.str_("d")}), "a": np.int32(1)},
            "grid": np.array([1, 2.5, 3])[:1].astype(np.int64).tolist() + [np.float32(2.5), "x"],
            "none": None, "flag": np.bool_(True), "name": "rda", "n": np.uint8(10), "alpha": np.float32(0.5)}
    assert canonical_json(same) == canonical_json(BASE)
    assert run_key(same, code_version="v") == run_key(BASE, code_version="v")
    # Pinned: the canonical form is the cache's file format; changing it orphans every stored result.
    assert canonical_json({"b": [1, 2.5], "a": {"y": None, "x": True}}) == '{"a":{"x":true,"y":null},"b":[1,2.5]}'
    assert run_key({"b": 1, "a": 0.1}, code_version="0.1.0", task="m:f") == "ec0718a54b62b8a2ca66"


def test_key_is_stable_across_processes():
    code = ("from proxlab.simulations.sweep import run_key; import json, sys; "
            "print(run_key(json.loads(sys.argv[1]), code_version='v', task='m:f'))")
    keys = set()
    for hashseed in ("1", "2"):
        env = dict(_env(), PYTHONHASHSEED=hashseed)
        out = subprocess.run([sys.executable, "-c", code, json.dumps(BASE)], capture_output=True, text=True,
                             check=True, env=env)
        keys.add(out.stdout.strip())
    assert keys == {run_key(BASE, code_version="v", task="m:f")}


def test_key_is_sensitive_to_every_entry_code_version_and_task():
    base = run_key(BASE, code_version="v1", task=TASK)
    seen = {base}
    paths = list(_leaf_paths(BASE))
    assert len(paths) == 12
    for path in paths:
        cfg = json.loads(json.dumps(BASE))
        node = cfg
        for p in path[:-1]:
            node = node[p]
        node[path[-1]] = _perturbed(node[path[-1]])
        seen.add(run_key(cfg, code_version="v1", task=TASK))
    for k in BASE:  # drop each entry
        seen.add(run_key({kk: v for kk, v in BASE.items() if kk != k}, code_version="v1", task=TASK))
    seen.add(run_key({**BASE, "extra": None}, code_version="v1", task=TASK))
    seen.add(run_key({**BASE, "n": 10.0}, code_version="v1", task=TASK))  # int and float differ
    seen.add(run_key({**BASE, "grid": [2.5, 1, "x"]}, code_version="v1", task=TASK))  # list order matters
    seen.add(run_key(BASE, code_version="v2", task=TASK))
    seen.add(run_key(BASE, code_version="v1", task=not_a_frame))
    assert len(seen) == 1 + 12 + len(BASE) + 5


def test_code_version_hashes_the_sources(tmp_path):
    cv = code_version()
    assert cv.startswith(proxlab.__version__ + "+src.") and len(cv.split("+src.")[1]) == 16
    assert code_version() == cv
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    d0 = sw._source_digest(pkg)
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.py").write_text("junk")
    (pkg / "notes.txt").write_text("not code")
    assert sw._source_digest(pkg) == d0
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    d1 = sw._source_digest(pkg)
    (pkg / "c.py").write_text("")
    d2 = sw._source_digest(pkg)
    (pkg / "c.py").rename(pkg / "d.py")
    d3 = sw._source_digest(pkg)
    assert len({d0, d1, d2, d3}) == 4
    assert sw._source_digest(tmp_path / "missing") is None


def test_seed_comes_from_the_config():
    assert run_seed({"seed": 5, "a": 1}) == 5
    assert run_seed({"seed": np.int64(5)}) == 5
    derived = run_seed({"a": 1})
    assert derived == run_seed({"a": np.int64(1)}) and 0 <= derived < 2**64
    assert derived != run_seed({"a": 2})
    assert derived == int("f89c4dabd920b8b7", 16)  # pinned: a run's random stream must not move
    np.testing.assert_array_equal(rng_for({"a": 1}).random(4), np.random.default_rng(derived).random(4))
    np.testing.assert_array_equal(rng_for({"seed": 5}).random(4), np.random.default_rng(5).random(4))
    for bad in (-1, 1.5, "3", True, None):
        with pytest.raises(ValueError, match=r"config\['seed'\]"):
            run_seed({"seed": bad})


# --------------------------------------------------------------------------- bad input
def test_bad_arguments_name_the_parameter(tmp_path):
    good = [{"a": 1}]
    with pytest.raises(ValueError, match="configs must not be empty"):
        run_sweep(noisy_least_squares, [], tmp_path, executor="serial")
    with pytest.raises(TypeError, match="configs must be a sequence"):
        run_sweep(noisy_least_squares, {"a": 1}, tmp_path, executor="serial")
    with pytest.raises(TypeError, match=r"configs\[1\] must be a dict"):
        run_sweep(noisy_least_squares, [{"a": 1}, 3], tmp_path, executor="serial")
    with pytest.raises(TypeError, match=r"configs\[1\]\['x'\] must be JSON-serializable.*set"):
        run_sweep(noisy_least_squares, [{"a": 1}, {"x": {1, 2}}], tmp_path, executor="serial")
    with pytest.raises(TypeError, match=r"configs\[0\]\['p'\] must be JSON-serializable.*PosixPath"):
        run_sweep(noisy_least_squares, [{"p": tmp_path}], tmp_path, executor="serial")
    with pytest.raises(TypeError, match=r"configs\[0\]\['d'\] keys must be strings"):
        run_sweep(noisy_least_squares, [{"d": {1: 2}}], tmp_path, executor="serial")
    with pytest.raises(ValueError, match=r"configs\[0\]\['g'\]\[1\] must be finite"):
        run_sweep(noisy_least_squares, [{"g": [0.0, float("nan")]}], tmp_path, executor="serial")
    with pytest.raises(TypeError, match="task must be a module-level function"):
        run_sweep(lambda c: c, good, tmp_path, executor="serial")

    def local(config):
        return config

    with pytest.raises(TypeError, match="task must be a module-level function"):
        run_sweep(local, good, tmp_path, executor="serial")
    with pytest.raises(ValueError, match="executor must be one of"):
        run_sweep(noisy_least_squares, good, tmp_path, executor="threads")
    with pytest.raises(ValueError, match="n_workers must be >= 1"):
        run_sweep(noisy_least_squares, good, tmp_path, n_workers=0)
    with pytest.raises(TypeError, match="n_workers must be a positive integer"):
        run_sweep(noisy_least_squares, good, tmp_path, n_workers=2.0)
    with pytest.raises(ValueError, match="scheduler=.*needs executor='dask'"):
        run_sweep(noisy_least_squares, good, tmp_path, executor="serial", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(TypeError, match="progress must be True or False"):
        run_sweep(noisy_least_squares, good, tmp_path, executor="serial", progress="no")
    with pytest.raises(TypeError, match="code_version must be"):
        run_sweep(noisy_least_squares, good, tmp_path, executor="serial", code_version="")
    with pytest.raises(TypeError, match="results_dir must be a path"):
        run_sweep(noisy_least_squares, good, 3, executor="serial")
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ValueError, match="results_dir .* is not a directory"):
        run_sweep(noisy_least_squares, good, a_file, executor="serial")
    with pytest.raises(ValueError, match="results_dir .* is not a directory"):
        run_sweep(noisy_least_squares, good, a_file / "sub", executor="serial")
    with pytest.raises(ValueError, match="results_dir .* is not an existing directory"):
        collect(tmp_path / "missing")
    assert list(tmp_path.iterdir()) == [a_file], "a rejected sweep must not write anything"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc, where nobody can create files")
def test_unwritable_results_dir_is_a_value_error():
    # /proc refuses new files even to root, so this is honest in a root container.
    with pytest.raises(ValueError, match="results_dir '/proc' is not writable"):
        run_sweep(noisy_least_squares, [{"a": 1}], "/proc", executor="serial")
    with pytest.raises(ValueError, match="results_dir '/proc/proxlab-sweep-test' cannot be created"):
        run_sweep(noisy_least_squares, [{"a": 1}], "/proc/proxlab-sweep-test", executor="serial")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_results_dir_is_a_value_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    try:
        with pytest.raises(ValueError, match="results_dir .* is not writable"):
            run_sweep(noisy_least_squares, [{"a": 1}], ro, executor="serial")
    finally:
        ro.chmod(0o700)


# --------------------------------------------------------------------------- serial sweeps
def test_serial_sweep_writes_one_file_per_run_and_rerun_skips(tmp_path):
    cv = code_version()
    results = tmp_path / "results"
    configs = _configs(5, tmp_path)
    configs.append(dict(configs[1]))  # a duplicate is one run
    res = run_sweep(noisy_least_squares, configs, results, executor="serial", progress=False, code_version=cv)
    keys = [run_key(c, code_version=cv, task=noisy_least_squares) for c in configs]
    assert res.keys == tuple(keys) and res.ok
    assert sorted(res.computed) == sorted(set(keys)) and res.skipped == ()
    assert _finals(results) == sorted(f"{k}.parquet" for k in set(keys))
    assert sorted(os.listdir(results)) == _finals(results), "no temp, error or other files"
    assert sorted(_calls(tmp_path)) == [0, 1, 2, 3, 4]
    for c, k in zip(configs, keys):
        record = json.loads(pq.read_schema(results / f"{k}.parquet").metadata[b"proxlab.sweep"])
        assert record["key"] == k and record["config"] == c and record["code_version"] == cv
        assert record["seed"] == run_seed(c) and record["task"] == TASK and record["elapsed_s"] >= 0
    first = res.collect()

    again = run_sweep(noisy_least_squares, configs, results, executor="serial", progress=False, code_version=cv)
    assert again.computed == () and sorted(again.skipped) == sorted(set(keys))
    assert sorted(_calls(tmp_path)) == [0, 1, 2, 3, 4], "a re-run must not call the task"
    assert_bitwise_equal(again.collect(), first)

    # A new code version is a new run of every configuration.
    other = run_sweep(noisy_least_squares, configs[:2], results, executor="serial", progress=False,
                      code_version=cv + "-edited")
    assert len(other.computed) == 2 and set(other.computed).isdisjoint(keys)
    assert sorted(_calls(tmp_path)) == [0, 0, 1, 1, 2, 3, 4]


def test_results_round_trip_exactly_and_collect_layout(tmp_path):
    configs = _configs(4)
    res = run_sweep(noisy_least_squares, configs, tmp_path, executor="serial", progress=False)
    got = res.collect()
    assert list(got.columns[:7]) == ["run_key", "t", "loss", "dist", "grad_norm", "method", "seed"]
    assert set(got.columns[7:]) == {"index", "lr", "n"}
    assert len(got) == sum(c["n"] for c in configs)
    by_key = dict(zip(res.keys, configs))
    ref = {run_key(c, code_version="ref", task=TASK): f for c, f in zip(configs, _reference(configs))}
    for key, part in got.groupby("run_key", sort=False):
        want = ref[run_key(by_key[key], code_version="ref", task=TASK)]
        assert_bitwise_equal(_strip_key(part)[list(want.columns[1:])], _strip_key(want))
    # Collecting the whole directory gives the same rows, in key order.
    assert_bitwise_equal(collect(tmp_path), got.sort_values("run_key", kind="stable", ignore_index=True))
    assert collect(tmp_path, keys=list(res.keys[::-1]))["run_key"].unique().tolist() == list(res.keys[::-1])
    with pytest.raises(ValueError, match="keys: 1 runs are not finished"):
        collect(tmp_path, keys=[res.keys[0], "0" * 20])
    runs = list_runs(tmp_path)
    assert runs["key"].tolist() == sorted(res.keys) and (runs["status"] == "done").all()


def test_failures_are_recorded_reported_and_retried(tmp_path, capsys):
    cv = code_version()
    marker = tmp_path / "broken"
    marker.write_text("")
    configs = _configs(4, tmp_path)
    configs[2]["fail_if_exists"] = str(marker)
    res = run_sweep(noisy_least_squares, configs, tmp_path / "r", executor="serial", progress=False, code_version=cv)
    bad = res.keys[2]
    assert not res.ok and [f.key for f in res.failed] == [bad] and len(res.computed) == 3
    assert res.failed[0].error == f"RuntimeError: demo failure: {marker} exists"
    record = json.loads((tmp_path / "r" / f"{bad}.error.json").read_text())
    assert record["config"] == configs[2] and "Traceback" in record["traceback"]
    assert "noisy_least_squares" in record["traceback"] and "RuntimeError" in record["traceback"]
    err = capsys.readouterr().err
    assert f"FAILED {bad}: RuntimeError" in err and "3 computed" in err and "1 failed" in err
    assert len(collect(tmp_path / "r")["run_key"].unique()) == 3, "a failure writes no result"
    assert list_runs(tmp_path / "r").set_index("key").loc[bad, "status"] == "failed"

    # Without --retry-failed the failure is reported again, not re-run.
    again = run_sweep(noisy_least_squares, configs, tmp_path / "r", executor="serial", progress=False,
                      code_version=cv)
    assert [f.key for f in again.failed] == [bad] and again.failed[0].previous and again.computed == ()
    assert "--retry-failed" in capsys.readouterr().err
    assert sorted(_calls(tmp_path)) == [0, 1, 2, 3]

    marker.unlink()
    fixed = run_sweep(noisy_least_squares, configs, tmp_path / "r", executor="serial", progress=False,
                      code_version=cv, retry_failed=True)
    assert fixed.ok and fixed.computed == (bad,) and len(fixed.skipped) == 3
    assert not (tmp_path / "r" / f"{bad}.error.json").exists()
    assert sorted(_calls(tmp_path)) == [0, 1, 2, 2, 3]
    assert len(fixed.collect()["run_key"].unique()) == 4


def test_task_returning_the_wrong_type_is_a_recorded_failure(tmp_path):
    res = run_sweep(not_a_frame, [{"a": 1}], tmp_path, executor="serial", progress=False)
    assert res.failed[0].error == "TypeError: the task must return a pandas.DataFrame, got dict"
    assert _finals(tmp_path) == []


def test_progress_bar(tmp_path, capsys):
    run_sweep(noisy_least_squares, _configs(3), tmp_path / "a", executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "run/s" in err and "<" in err  # done / total, rate, elapsed<remaining (ETA)
    run_sweep(noisy_least_squares, _configs(5), tmp_path / "a", executor="serial", progress=True)
    assert "5/5" in capsys.readouterr().err  # the bar starts at the 3 runs already done
    run_sweep(noisy_least_squares, _configs(4), tmp_path / "b", executor="serial", progress=False)
    assert capsys.readouterr().err == ""


def test_unreadable_final_file_is_recomputed_and_stale_temps_are_cleaned(tmp_path, capsys):
    cv = code_version()
    configs = _configs(3, tmp_path)
    res = run_sweep(noisy_least_squares, configs, tmp_path / "r", executor="serial", progress=False, code_version=cv)
    folder = tmp_path / "r"
    k0 = res.keys[0]
    data = (folder / f"{k0}.parquet").read_bytes()
    (folder / f"{k0}.parquet").write_bytes(data[: len(data) // 2])  # damaged from outside
    assert len(collect(folder)["run_key"].unique()) == 2
    assert f"skipping {folder / (k0 + '.parquet')}" in capsys.readouterr().err

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = folder / f".tmp-{sw._HOST}-{dead.pid}-0badc0de-{res.keys[1]}.parquet.partial"
    mine = folder / f".tmp-{sw._HOST}-{os.getpid()}-0badc0de-{res.keys[1]}.parquet.partial"
    foreign = folder / f".tmp-00000000-{dead.pid}-0badc0de-{res.keys[1]}.parquet.partial"
    for p in (stale, mine, foreign):
        p.write_bytes(b"partial")
    again = run_sweep(noisy_least_squares, configs, folder, executor="serial", progress=False, code_version=cv)
    assert again.computed == (k0,) and len(again.skipped) == 2
    assert not stale.exists(), "a temp file of a dead writer is removed"
    assert mine.exists() and foreign.exists(), "a live writer's (or another host's recent) temp file is kept"
    assert [p.name.startswith(f"{k0}.parquet.unreadable-") for p in folder.iterdir()].count(True) == 1
    assert_bitwise_equal(collect(folder), again.collect().sort_values("run_key", kind="stable", ignore_index=True))
    assert sorted(_calls(tmp_path)) == [0, 0, 1, 2]


# --------------------------------------------------------------------------- kill and resume
_KILL_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    from proxlab.simulations.sweep import run_sweep
    from proxlab.simulations._demo_tasks import noisy_least_squares

    def main():
        configs = json.load(open(sys.argv[1]))
        executor, kill_at_replace = sys.argv[3], int(sys.argv[4])
        if kill_at_replace:
            # Die at the worst moment: the n-th result is complete in its temp file, not yet renamed.
            real_replace, seen = os.replace, []
            def replace(src, dst):
                if str(dst).endswith(".parquet"):
                    seen.append(dst)
                    if len(seen) == kill_at_replace:
                        os.kill(os.getpid(), signal.SIGKILL)
                return real_replace(src, dst)
            os.replace = replace
        kw = {"n_workers": 2} if executor == "dask" else {}
        run_sweep(noisy_least_squares, configs, sys.argv[2], executor=executor, progress=False,
                  code_version="kill-test", **kw)
        print("sweep finished without being killed")

    if __name__ == "__main__":  # dask's spawned workers import this file as __mp_main__
        main()
""")


def _start_sweep(tmp_path, configs, results, executor="serial", kill_at_replace=0):
    cfg_file = tmp_path / "configs.json"
    cfg_file.write_text(json.dumps(configs))
    script = tmp_path / "sweep_script.py"
    script.write_text(_KILL_SCRIPT)
    log = open(tmp_path / "sweep.log", "wb")
    proc = subprocess.Popen([sys.executable, str(script), str(cfg_file), str(results), executor,
                             str(kill_at_replace)], stdout=log, stderr=subprocess.STDOUT, env=_env(), cwd=REPO,
                            start_new_session=True)
    log.close()
    return proc


def _check_resume(tmp_path, configs, results, finished_before, started_before, executor):
    """Restart the sweep and check nothing finished was recomputed and everything is there."""
    keys = [run_key(c, code_version="kill-test", task=TASK) for c in configs]
    done_idx = {keys.index(name[:-8]) for name in finished_before}
    res = run_sweep(noisy_least_squares, configs, results, executor=executor, progress=False,
                    code_version="kill-test", **({"n_workers": 2} if executor == "dask" else {}))
    assert res.ok
    assert {keys.index(k) for k in res.skipped} == done_idx
    assert {keys.index(k) for k in res.computed} == set(range(len(configs))) - done_idx
    assert _temps(results) == [], "temp files of the killed sweep are cleaned up"
    calls = _calls(tmp_path)
    counts = np.bincount(calls, minlength=len(configs))
    assert all(counts[i] == 1 for i in done_idx), "a finished run was recomputed"
    # Only runs that were in flight at the kill (started, not finished) ran twice.
    recomputed = {i for i in range(len(configs)) if counts[i] == 2}
    assert recomputed == set(started_before) - done_idx and counts.max() <= 2
    got = collect(results)
    want = pd.concat(_reference(configs), ignore_index=True)
    want["run_key"] = [keys[i] for i in want["index"]]
    want = want.sort_values("run_key", kind="stable", ignore_index=True)
    assert_bitwise_equal(got, want)
    return recomputed


def _assert_visible_runs_are_complete(configs, results):
    keys = [run_key(c, code_version="kill-test", task=TASK) for c in configs]
    got = collect(results)
    refs = _reference(configs)
    for key, part in got.groupby("run_key", sort=False):
        assert_bitwise_equal(_strip_key(part), _strip_key(refs[keys.index(key)]))
    return got


def test_kill_mid_write_then_resume(tmp_path):
    configs = _configs(6, tmp_path)
    results = tmp_path / "results"
    proc = _start_sweep(tmp_path, configs, results, kill_at_replace=3)
    assert proc.wait(timeout=60) == -signal.SIGKILL, (tmp_path / "sweep.log").read_text()
    finals = _finals(results)
    assert len(finals) == 2 and len(_temps(results)) == 1, "killed after 2 renames, with the 3rd written"
    tmp = results / _temps(results)[0]
    assert pq.read_table(tmp).num_rows == configs[2]["n"], "the temp file was complete but never published"
    got = _assert_visible_runs_are_complete(configs, results)
    assert got["run_key"].nunique() == 2
    assert sorted(_calls(tmp_path)) == [0, 1, 2]
    recomputed = _check_resume(tmp_path, configs, results, finals, [0, 1, 2], "serial")
    assert recomputed == {2}


@pytest.mark.parametrize("executor", ["serial", "dask"])
def test_sigkill_a_running_sweep_then_resume(tmp_path, executor):
    configs = _configs(8, tmp_path, sleep=0.15)
    results = tmp_path / "results"
    proc = _start_sweep(tmp_path, configs, results, executor=executor)
    try:
        deadline = time.monotonic() + 90
        while len(_finals(results) if results.exists() else []) < 3:
            assert proc.poll() is None, (tmp_path / "sweep.log").read_text()
            assert time.monotonic() < deadline, "the sweep did not finish 3 runs in 90 s"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and, for dask, its local cluster's processes
        proc.wait(timeout=30)
    started = sorted(set(_calls(tmp_path)))
    finals = _finals(results)
    assert 3 <= len(finals) < len(configs), "killed mid-sweep"
    _assert_visible_runs_are_complete(configs, results)
    if executor == "dask":
        time.sleep(0.5)  # killpg signals every process of the group; let the workers be gone before reading
        started = sorted(set(_calls(tmp_path)))
    recomputed = _check_resume(tmp_path, configs, results, finals, started, executor)
    if executor == "serial":
        assert len(recomputed) <= 1, "a serial sweep has at most one run in flight"


# --------------------------------------------------------------------------- dask
@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serial")
    configs = _configs(8, sleep=0.1)  # runs long enough that every dask worker gets some
    res = run_sweep(noisy_least_squares, configs, folder, executor="serial", progress=False, code_version="x")
    return configs, res.collect()


def test_local_dask_cluster_matches_serial_bit_for_bit(tmp_path, serial_reference):
    configs, want = serial_reference
    res = run_sweep(noisy_least_squares, configs[::-1], tmp_path, executor="dask", n_workers=2, progress=False,
                    code_version="x")
    assert res.ok and len(res.computed) == len(configs)
    got = collect(tmp_path, keys=list(res.keys[::-1]))
    assert_bitwise_equal(got, want)
    where = set(list_runs(tmp_path)["executed_by"])
    assert all(w.startswith("tcp://127.0.0.1:") for w in where), where


def test_a_run_that_kills_its_worker_is_a_recorded_failure(tmp_path):
    import dask

    configs = [{"x": 1.5}, {"x": 2.0, "crash": True}, {"x": 3.0}]
    # The local cluster's scheduler runs in this process. No retries, so the first death is final;
    # saturation 1.0, so a worker holds only the run it executes and no innocent run dies with it.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}):
        res = run_sweep(crash_or_square, configs, tmp_path, n_workers=1, progress=False)
    assert [f.key for f in res.failed] == [res.keys[1]] and res.failed[0].error.startswith("KilledWorker")
    assert len(res.computed) == 2 and res.collect()["x"].tolist() == [2.25, 9.0]
    again = run_sweep(crash_or_square, configs, tmp_path, executor="serial", progress=False)  # skips the crash
    assert again.computed == () and again.failed[0].previous


def _loopback_usable():
    try:
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            with socket.create_connection(srv.getsockname(), timeout=5):
                pass
        return None
    except OSError as exc:
        return f"cannot open TCP sockets on 127.0.0.1 in this sandbox: {exc}"


def _stop(proc, timeout=30):
    """SIGTERM (dask's graceful shutdown), then SIGKILL if it hangs; return True if it stopped cleanly."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        return False


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A dask scheduler and two workers, each its own process, on loopback."""
    reason = _loopback_usable()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("dask")
    sched_file = folder / "scheduler.json"
    procs, logs = [], []

    def spawn(name, args):
        log = open(folder / f"{name}.log", "wb")
        logs.append(folder / f"{name}.log")
        procs.append(subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT,
                                      env=_env(), cwd=folder))
        log.close()

    def tails():
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in logs)

    try:
        # Port 0 + scheduler file: the OS picks a free port, with no race between choosing and binding it.
        spawn("scheduler", ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                            "--no-dashboard", "--scheduler-file", str(sched_file)])
        deadline = time.monotonic() + 60
        while not (sched_file.exists() and sched_file.stat().st_size):
            assert procs[0].poll() is None, "the scheduler exited:\n" + tails()
            assert time.monotonic() < deadline, "the scheduler did not start in 60 s:\n" + tails()
            time.sleep(0.05)
        time.sleep(0.05)
        address = json.loads(sched_file.read_text())["address"]
        for i in range(2):
            spawn(f"worker{i}", ["distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1",
                                 "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}"])
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=90)
            workers = sorted(client.scheduler_info()["workers"])
        yield address, workers
    finally:
        stopped = [_stop(p) for p in procs[::-1]]  # workers first, then the scheduler
        assert all(stopped), "a dask process ignored SIGTERM and was killed:\n" + tails()
        assert all(p.poll() is not None for p in procs)


def test_external_dask_scheduler_and_two_workers(tmp_path, serial_reference, dask_cluster):
    address, workers = dask_cluster
    configs, want = serial_reference
    res = run_sweep(noisy_least_squares, configs, tmp_path, scheduler=address, progress=False, code_version="x")
    assert res.ok and len(res.computed) == len(configs)
    runs = list_runs(tmp_path)
    assert set(runs["executed_by"]) == set(workers), "every run ran on the two external workers, both used"
    assert_bitwise_equal(collect(tmp_path, keys=list(res.keys)), want)
    again = run_sweep(noisy_least_squares, configs, tmp_path, scheduler=address, progress=False, code_version="x")
    assert again.computed == () and len(again.skipped) == len(configs)


# --------------------------------------------------------------------------- command line
def test_cli_options():
    parser = argparse.ArgumentParser(prog="proxlab simulate")
    add_sweep_arguments(parser, default_results="out")
    opts = sweep_options(parser.parse_args([]))
    assert opts == {"results_dir": "out", "executor": "dask", "scheduler": None, "n_workers": None,
                    "progress": True, "retry_failed": False}
    opts = sweep_options(parser.parse_args(["--scheduler", "tcp://10.0.0.5:8786", "--results", "r",
                                            "--no-progress", "--retry-failed"]))
    assert opts == {"results_dir": "r", "executor": "dask", "scheduler": "tcp://10.0.0.5:8786", "n_workers": None,
                    "progress": False, "retry_failed": True}
    assert sweep_options(parser.parse_args(["--workers", "3"]))["n_workers"] == 3
    assert sweep_options(parser.parse_args(["--serial"]))["executor"] == "serial"
    with pytest.raises(SystemExit):
        parser.parse_args(["--workers", "0"])
    with pytest.raises(ValueError, match="--serial cannot be combined"):
        sweep_options(parser.parse_args(["--serial", "--workers", "2"]))
    with pytest.raises(ValueError, match="--workers sizes the local cluster"):
        sweep_options(parser.parse_args(["--scheduler", "tcp://h:1", "--workers", "2"]))
    with pytest.raises(TypeError, match="parser must be an argparse.ArgumentParser"):
        add_sweep_arguments(object())
    assert "--scheduler ADDRESS" in parser.format_help() and "--workers N" in parser.format_help()


def test_cli_options_drive_a_sweep(tmp_path):
    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser)
    args = parser.parse_args(["--serial", "--no-progress", "--results", str(tmp_path)])
    res = run_sweep(noisy_least_squares, _configs(2), **sweep_options(args))
    assert res.ok and len(_finals(tmp_path)) == 2

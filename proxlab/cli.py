"""The ``proxlab`` command.

::

    proxlab list [--json]
    proxlab validate {prox,updates} [--cases N] [--seed S] [--only NAME ...] [--json FILE]
    proxlab bench [NAME] [--quick ...]
    proxlab simulate STUDY [--quick] [--out DIR] [--results DIR] [--scheduler ADDR] [--workers N] [--serial]
    proxlab experiment NAME [--device cuda] [--quick] [--out DIR] [--results DIR] [--workers N] [--serial]
"""

from __future__ import annotations

import argparse
import json
import sys

from ._table import format_table


def _cmd_list(args):
    from . import regularizers, solvers

    rows = []
    for cls in regularizers.classes():
        row = {k: getattr(cls, k) for k in ("name", "family", "convex", "separable", "grouped", "method", "source")}
        rows.append(row)
    algos = []
    for cls in solvers.classes():
        algos.append({"name": cls.name, "family": cls.family, "parent": cls.parent, "source": cls.source,
                      "defaults": ", ".join(f"{k}={v:g}" for k, v in cls.defaults.items())})
    if args.json:
        print(json.dumps({"regularizers": rows, "algorithms": algos}, indent=2))
        return 0
    print(f"Regularizers ({len(rows)})")
    print(format_table(rows, ["name", "family", "convex", "separable", "grouped", "method", "source"]))
    print(f"\nAlgorithms ({len(algos)})")
    print(format_table(algos, ["name", "family", "parent", "source", "defaults"]))
    return 0


def _cmd_validate(args):
    from .validate import rows_to_json, summarize, validate_prox

    from .validate import validate_updates

    if args.what == "prox":
        rows = validate_prox(names=args.only, n_cases=args.cases, seed=args.seed, progress=not args.no_progress)
    else:
        rows = validate_updates(names=args.only, n_states=args.cases, seed=args.seed,
                                progress=not args.no_progress)
    summary = summarize(rows)
    if args.what == "updates":
        for s in summary:
            s["algorithm"] = s.pop("regularizer")
    cols = ["algorithm" if args.what == "updates" else "regularizer", "oracle", "instances", "cases", "max_abs_error", "max_objective_gap", "ties",
            "oracle_limited", "oracle_inaccurate", "oracle_failures", "failures", "status"]
    print(format_table(summary, cols))
    n_fail = sum(s["status"] == "FAIL" for s in summary)
    n_approx = sum(s["status"] == "APPROX" for s in summary)
    what = "algorithms" if args.what == "updates" else "regularizers"
    print(f"\n{len(summary) - n_fail - n_approx} of {len(summary) - n_approx} {what} PASS "
          f"({sum(s['cases'] for s in summary)} cases). max_objective_gap is relative: "
          f"(F(ours) - F(oracle)) / (1 + |F(oracle)|); negative means ours is lower. "
          f"oracle_limited counts cases where CVXPY's x is less accurate than 1e-6 and agreement "
          f"rests on the strong-convexity bound; oracle_inaccurate counts "
          f"Clarabel solves that stopped at its reduced tolerances (see docs/validation.md).")
    if n_approx:
        print(f"{n_approx} APPROX rows: GA's practical form (line 10, the default of the Group optimizers) "
              f"with per-coordinate denominators approximates the argmin of its subproblem by design; "
              f"its zero pattern must equal the argmin's (else FAIL), and max_abs_error / max_objective_gap "
              f"measure the approximation against the exact metric prox.")
    if n_fail:
        for r in rows:
            if r.status == "FAIL":
                print(f"FAIL {r.instance}: {r.failures} failures, {r.oracle_failures} oracle failures, "
                      f"kinds {r.failed_kinds}", file=sys.stderr)
    if args.json:
        text = rows_to_json(rows)
        if args.json == "-":
            print(text)
        else:
            _atomic_write(args.json, text)
    return 1 if n_fail else 0


def _benchmarks_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "benchmarks"


def _cmd_bench(args):
    import subprocess

    folder = _benchmarks_dir()
    available = sorted(p.stem[len("bench_"):].replace("_", "-") for p in folder.glob("bench_*.py"))
    if not available:
        print(f"proxlab bench: no benchmarks found under {folder}; run it from a clone of the repository",
              file=sys.stderr)
        return 2
    if args.name is None or args.name not in available:
        print(f"proxlab bench: choose one of: {', '.join(available)}", file=sys.stderr)
        return 0 if args.name is None else 2
    script = folder / f"bench_{args.name.replace('-', '_')}.py"
    return subprocess.call([sys.executable, str(script), *args.rest])


def _cmd_simulate(args):
    from .simulations import studies
    from .simulations.sweep import sweep_options

    opts = sweep_options(args)
    results_dir = opts.pop("results_dir")
    table, summary, fig_path, res = studies.run_study(args.study, quick=args.quick, out=args.out,
                                                      results_dir=results_dir, **opts)
    print(res.report())
    print(format_table(summary.to_dict("records"), list(summary.columns)))
    stem = fig_path[:-4]
    print(f"\ntable: {stem}.parquet ({len(table)} rows)   figure: {fig_path}")
    return 0


def _cmd_experiment(args):
    from . import experiments
    from .simulations.sweep import sweep_options

    opts = sweep_options(args)
    results_dir = opts.pop("results_dir")
    table, summary, fig_path, res = experiments.run_experiment(args.name, quick=args.quick, out=args.out,
                                                               device=args.device, results_dir=results_dir, **opts)
    print(res.report())
    print(format_table(summary.to_dict("records"), list(summary.columns)))
    stem = fig_path[:-4]
    print(f"\ntable: {stem}.parquet ({len(table)} rows)   figure: {fig_path}")
    return 0


def _atomic_write(path, text):
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def build_parser():
    parser = argparse.ArgumentParser(prog="proxlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="the catalogue of regularizers")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("validate", help="check operators against independent oracles")
    p.add_argument("what", choices=["prox", "updates"],
                   help="prox: every regularizer's metric prox; updates: every algorithm's step")
    p.add_argument("--cases", type=int, default=None,
                   help="cases per instance (default 200 for prox, 50 random states for updates)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="validate only these regularizers / algorithms")
    p.add_argument("--json", metavar="FILE", help="also write the full results as JSON ('-' for stdout)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("bench", help="run a benchmark from benchmarks/ (prints a markdown table)")
    p.add_argument("name", nargs="?", help="benchmark name (omit to list them)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="arguments passed to the benchmark (e.g. --quick)")
    p.set_defaults(func=_cmd_bench)
    p = sub.add_parser("simulate", help="run a study (regret, support, manifold, subproblem, stationarity)")
    from .simulations.studies import STUDIES
    from .simulations.sweep import add_sweep_arguments

    p.add_argument("study", choices=list(STUDIES), help="which study")
    p.add_argument("--quick", action="store_true", help="CI-sized runs (under 2 minutes on 2 cores)")
    p.add_argument("--out", default="results", help="where the table (parquet) and figure (png) go")
    add_sweep_arguments(p, default_results=None)
    p.set_defaults(func=_cmd_simulate)
    p = sub.add_parser("experiment", help="run a neural experiment in miniature (ctr, structured, mrda, ...)")
    from .experiments import EXPERIMENTS

    p.add_argument("name", choices=list(EXPERIMENTS), help="which experiment")
    p.add_argument("--device", default="cpu", help="torch device of every run: cpu (default), cuda or cuda:<index>")
    p.add_argument("--quick", action="store_true", help="CI-sized runs (under 3 minutes on 2 cores)")
    p.add_argument("--out", default="results", help="where the table (parquet) and figure (png) go")
    add_sweep_arguments(p, default_results=None)
    p.set_defaults(func=_cmd_experiment)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "what", None) is not None and args.cases is None:
        args.cases = 200 if args.what == "prox" else 50
    if getattr(args, "cases", 1) < 1:
        parser.error(f"--cases must be >= 1, got {args.cases}")
    try:
        return args.func(args)
    except (ValueError, TypeError) as exc:
        print(f"proxlab: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

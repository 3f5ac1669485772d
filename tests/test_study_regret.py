"""The ``regret`` study (proxlab/simulations/studies/regret.py): its table, a
hand-computed two-step case, the comparator certificates, the growth rates on a
noise-dominated stream and the summary's flags.

Runtime ~40 s on one core: the quick study (3 runs of 1024 steps, ~10 s), two
runs of 32768 steps for the slopes (~15 s), the rest is small.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from proxlab.simulations import problems as P
from proxlab.simulations import studies
from proxlab.simulations.studies import regret as RS
from proxlab.theory import comparators as C


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """``proxlab simulate regret --quick --serial`` through the study contract."""
    out = tmp_path_factory.mktemp("regret")
    table, summary, fig_path, res = studies.run_study("regret", quick=True, out=str(out), executor="serial",
                                                      progress=False)
    return table, summary, fig_path, res


def test_configs_are_valid_and_sized():
    q, full = RS.configs(True), RS.configs(False)
    assert len(q) == len(RS.PROBLEMS) and {c["problem"] for c in q} == set(RS.PROBLEMS)
    assert len(full) == len(RS.PROBLEMS) * RS.FULL_SEEDS
    for c in q + full:
        cfg = RS.check_config(c)
        assert cfg["methods"] == list(RS.METHODS)
    assert {c["T_max"] for c in q} == {1024} and {c["T_max"] for c in full} == {32768}
    assert RS.t_grid(64, 1024) == [64, 128, 256, 512, 1024]
    assert RS.t_grid(64, 1000) == [64, 128, 256, 512, 1000]


@pytest.mark.parametrize("bad, entry", [
    ({"problem": "sinusoid"}, "problem"),
    ({"spam": 1}, "spam"),
    ({"T_min": 64, "T_max": 100}, "T_max"),
    ({"group_size": 5}, "group_size"),
    ({"n": 2.5}, "n"),
    ({"lam1": -0.1}, "lam1"),
    ({"x0": "ones"}, "x0"),
    ({"methods": ["adam"]}, "methods"),
    ({"methods": []}, "methods"),
    ({"hyper": {"proxgen": {"lr": 0.1}}, "methods": ["ftrl"]}, "hyper"),
])
def test_bad_config_raises_naming_the_entry(bad, entry):
    with pytest.raises(ValueError, match=f"'{entry}'"):
        RS.check_config({"problem": "ls_group", "seed": 0, **bad})


def test_bad_hyperparameter_raises_naming_the_entry():
    with pytest.raises(ValueError, match=r"'hyper'\['ftrl'\].*lr"):
        RS.task({"problem": "ls_group", "seed": 0, "T_max": 128, "methods": ["ftrl"],
                 "hyper": {"ftrl": {"lr": -1.0}}})


def test_quick_table_shape_and_files(quick):
    table, summary, fig_path, res = quick
    assert res.ok and len(res.keys) == len(RS.PROBLEMS)
    assert set(RS.COLUMNS) <= set(table.columns) and {"seed", "quick"} <= set(table.columns)
    grid = RS.t_grid(64, 1024)
    # one row per (problem, method, T): every method at every grid point, nothing else
    counts = table.groupby(["problem", "method", "T"]).size()
    assert (counts == 1).all()
    assert len(counts) == len(RS.PROBLEMS) * len(RS.METHODS) * len(grid)
    assert sorted(table["T"].unique()) == grid
    # which regret and bound each method carries
    for method, (solver, _) in RS.METHODS.items():
        rows = table[table["method"] == method]
        kind = RS._KIND[solver]
        assert set(rows["regret_def"]) == {"GA eq (7)" if kind == "ga" else "MRDA eq (48)"}
        assert set(rows["bound"]) == {{"ga": "GA eq (14)", "rda": "MRDA eq (49)", "pg": "none"}[kind]}
        assert rows["bound_cor20"].notna().all() == (solver == "group_adagrad")
    # the cumulative loss grows with T; the printed GA bound exceeds the corrected one by the t = 1 term only
    for _, g in table.groupby(["problem", "method"]):
        assert np.all(np.diff(g.sort_values("T")["cum_loss"].to_numpy()) > 0)
    ga = table[table["bound"] == "GA eq (14)"]
    assert (ga["bound_printed"] != ga["bound_corrected"]).all()
    assert fig_path.endswith("regret-quick.png")
    import os

    assert os.path.getsize(fig_path) > 10_000 and os.path.exists(fig_path[:-4] + ".parquet")


def test_comparator_certificates(quick):
    table = quick[0]
    # least squares always has a minimizer: every comparator is certified, with a KKT residual below its
    # tolerance (1e-9 relative to the gradient at 0) and, per step, below 1e-8
    ls = table[table["problem"] != "logistic_group"]
    assert ls["cmp_ok"].astype(bool).all()
    assert (ls["cmp_kkt"] <= ls["cmp_tol"]).all() and (ls["cmp_kkt"] / ls["T"] <= 1e-8).all()
    # the regularized comparator of (48) (least squares + l1) also has a Fenchel duality gap:
    # it certifies the comparator's value to 1e-7 relative
    rda = ls[ls["regret_def"] == "MRDA eq (48)"]
    assert (rda["cmp_gap"].abs() <= 1e-7 * (1 + rda["cmp_value"].abs())).all()
    # logistic: an uncertified comparator only where the rows are separable (no minimizer: GA Thm 3's
    # hypothesis fails and the row says so)
    bad = table[~table["cmp_ok"].astype(bool)]
    assert set(bad["problem"]) <= {"logistic_group"}
    assert bad["cmp_status"].str.startswith("no minimizer").all()


def test_two_step_ftrl_by_hand():
    """f_t(x) = (x - b_t)^2 / 2, b = (1, -1), x_1 = 0, FTRL alpha = 1, beta = 1, no regularizer.
    g_1 = -1, sigma_1 = (1 + 1)/1 = 2, z_1 = -1, x_2 = 1/2; f_2(x_2) = 1.125.
    R_1 = 0.5 - min (x - 1)^2/2 = 0.5; R_2 = 0.5 + 1.125 - min [(x-1)^2 + (x+1)^2]/2 = 0.625.
    GA (14) at T = 2 (x* = 0): Sigma = (2, 1 + sqrt(3.25)), h_T = (Sigma_2 - Sigma_1) (0 - 1/2)^2 / 2,
    dual printed = (1 + 2.25 / 2) / 2, corrected = (1/2 + 2.25/2) / 2.
    At T = 1 (x* = 1): h_T = 2 * 1 / 2 = 1, dual printed 1/2, corrected 1/4."""
    p = P.finite_sum_problem("least_squares", np.array([[1.0], [1.0]]), np.array([1.0, -1.0]), batch_size=1,
                             steps=2, sampling="stream")
    cfg = RS.check_config({"problem": "ls_group", "seed": 0, "n": 4, "group_size": 1, "methods": ["ftrl"],
                           "lam1": 0.0, "lam2": 0.0, "hyper": {"ftrl": {"lr": 1.0}}})
    alg = RS.make_method("ftrl", cfg, None)
    cmps = {T: C.ga_comparator(p, T) for T in (1, 2)}
    rows = pd.DataFrame(RS.method_rows("ftrl", alg, p, [1, 2], cmps, {}, None, cfg)).set_index("T")
    s2 = 1.0 + math.sqrt(3.25)
    assert rows.loc[1, "regret"] == pytest.approx(0.5, abs=1e-12)
    assert rows.loc[2, "regret"] == pytest.approx(0.625, abs=1e-12)
    assert rows.loc[1, "bound_printed"] == pytest.approx(1.5, abs=1e-12)
    assert rows.loc[1, "bound_corrected"] == pytest.approx(1.25, abs=1e-12)
    h2 = 0.5 * (s2 - 2.0) * 0.25
    assert rows.loc[2, "bound_printed"] == pytest.approx(h2 + 0.5 * (1.0 + 2.25 / 2.0), abs=1e-12)
    assert rows.loc[2, "bound_corrected"] == pytest.approx(h2 + 0.5 * (0.5 + 2.25 / 2.0), abs=1e-12)
    assert rows["below_printed"].all() and rows["below_corrected"].all()
    assert rows.loc[2, "G"] == 1.5 and rows.loc[2, "hyp_Q"] == 1.0 and rows.loc[2, "hyp_sigma1"] == 1.0


def test_growth_rates_on_a_noise_dominated_stream():
    """Online least squares, noise 5, zero start, T up to 32768 (seed 1). GA Cor 1-2 and mrda.txt Thm 3.1
    give O(sqrt T) for Group Adagrad and MRDA: both are upper bounds, and on this strongly convex stream
    the measured tail slope (last three doublings) is 0.39 and 0.34 (0.31..0.42 over seeds 0-3). The band
    [0.2, 0.6] asks for growth at a sqrt-T-type rate, neither stalled (< 0.2) nor above the ceiling 1/2 by
    more than 0.1 (a finite window). Group Adam has a constant step and an EMA denominator: its regret
    heads to linear (tail slope 0.83 here, 0.59..0.94 over seeds 0-3); the test asks >= 0.65, well above
    the O(sqrt T) methods."""
    t = RS.task({"problem": "ls_group", "seed": 1, "T_max": 32768, "noise": 5.0, "x0": "zeros",
                 "methods": ["group_adagrad (exact)", "mrda", "group_adam"]})
    tail = RS.fit_slopes(t, span=RS.TAIL_SPAN).set_index("method")["slope"]
    assert 0.2 <= tail["group_adagrad (exact)"] <= 0.6
    assert 0.2 <= tail["mrda"] <= 0.6
    assert tail["group_adam"] >= 0.65
    # the O(sqrt T) methods stay below their bounds (corrected and printed) at every T
    ok = t[t["method"] != "group_adam"]
    assert ok["below_corrected"].astype(bool).all() and ok["below_printed"].astype(bool).all()


def _recount(rows, bound, below):
    use = rows[rows["cmp_ok"].astype(bool) & rows[bound].notna()]
    held = (use["regret"] <= use[bound]).sum()
    assert held == use[below].astype(bool).sum()  # the stored flag is the comparison
    return held, len(use)


def test_summary_flags_agree_with_the_table(quick):
    table, summary = quick[0], quick[1]
    assert len(summary) == len(RS.PROBLEMS) * len(RS.METHODS)
    for _, s in summary.iterrows():
        rows = table[(table["problem"] == s["problem"]) & (table["method"] == s["method"])]
        for form in ("printed", "corrected", "cor20"):
            flag = s[f"below_{form}"]
            if rows[f"bound_{form}"].isna().all():
                assert flag == "-"
                continue
            held, n = _recount(rows, f"bound_{form}", f"below_{form}")
            assert flag == f"{'yes' if held == n else 'no'} ({held}/{n})"
        slopes = RS.fit_slopes(rows)["slope"].dropna()
        assert s["slope"] == pytest.approx(float(slopes.median()), nan_ok=True)
    assert (summary[summary["bound"] == "none"]["method"] == "proxgen").all()
    # a violation in the table must turn the flag to "no"
    t2 = table.copy()
    i = t2[(t2["method"] == "ftrl") & (t2["problem"] == "ls_group")].index[-1]
    t2.loc[i, "regret"] = t2.loc[i, "bound_corrected"] * 2
    t2.loc[i, "below_corrected"] = False
    s2 = RS.summarize(t2).set_index(["problem", "method"]).loc[("ls_group", "ftrl")]
    assert s2["below_corrected"].startswith("no (")


def test_figure_is_a_pure_function_of_the_table(quick):
    import matplotlib

    matplotlib.use("Agg")
    fig = RS.figure(quick[0])
    assert len(fig.axes) == len(RS.PROBLEMS)
    for ax in fig.axes:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        labels = [h.get_label() for h in ax.get_legend().legend_handles]
        assert all("slope" in lab for lab in labels) and len(labels) == len(RS.METHODS)

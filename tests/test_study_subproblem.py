"""The ``subproblem`` study (ramda.txt Thm 1, Algorithm 2) on reduced configurations.

What can fail: PG's iteration count must grow as the tolerance shrinks; every
PG stop must really satisfy (7) when measured independently
(``reg.subdiff_dist``); the exact root must be exact to rounding (relative
residual <= 1e-12); the convex curve must fit the main text's O(log 1/eps)
better than a power law, with a tail slope far from the appendix's 1; the
summary must agree with fits recomputed from the table.
"""

from __future__ import annotations

import numpy as np
import pytest

from proxlab.simulations.studies import subproblem as study

EPS = [10.0 ** -k for k in range(1, 11)]


def _cfg(**kw):
    base = {"study": "subproblem", "size": "test", "instance": "synthetic", "regularizer": "group_l2", "seed": 0,
            "kappa": 100.0, "n": 300, "group_size": 10, "t": 0, "lam": 0.0, "eps_rel": EPS, "max_iter": 1_000_000,
            "repeats": 2}
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def convex():
    return study.task(_cfg())


@pytest.fixture(scope="module")
def nonconvex():
    return study.task(_cfg(regularizer="mcp", kappa=10.0, max_iter=100_000))


def test_configs_validate():
    quick, full = study.configs(True), study.configs(False)
    assert len(quick) == 5 and len(full) == 33
    for c in quick + full:
        study.check_config(c)
    assert {c["instance"] for c in full} == set(study.INSTANCES)


@pytest.mark.parametrize("key, value", [("instance", "cifar"), ("regularizer", "scad"), ("kappa", 0.5),
                                        ("n", 305), ("eps_rel", []), ("eps_rel", [1e-3, 1e-2]),
                                        ("eps_rel", [1e-2, 2.0]), ("max_iter", 0), ("repeats", 0), ("seed", -2)])
def test_bad_config_names_the_entry(key, value):
    with pytest.raises(ValueError, match=key if key != "n" else "group_size"):
        study.check_config(_cfg(**{key: value}))


def test_captured_instances_are_group_lasso_only():
    with pytest.raises(ValueError, match="regularizer"):
        study.check_config(_cfg(instance="ramda-digits", regularizer="mcp", t=10, lam=0.01))
    with pytest.raises(ValueError, match="'t'"):
        study.check_config(_cfg(instance="ramda-digits", t=0, lam=0.01))


def test_columns_and_rows(convex):
    curve = convex[convex["part"] == "curve"]
    solv = convex[convex["part"] == "solver"]
    assert len(curve) == len(EPS)
    assert list(solv["solver"]) == ["exact", "pg(7)", "pg-public", "newton"]
    for col in ("eps_rel", "iterations", "residual", "residual_exact", "converged", "kappa", "r0", "seconds"):
        assert col in convex.columns
    assert curve["kappa"].iloc[0] <= 100.0 and curve["kappa"].iloc[0] > 50.0


def test_pg_iterations_grow_and_every_stop_satisfies_condition_7(convex):
    c = convex[convex["part"] == "curve"].sort_values("eps_rel", ascending=False)
    it = c["iterations"].to_numpy()
    assert np.all(np.diff(it) >= 0) and it[-1] > 3 * it[0]
    assert np.asarray(c["converged"], dtype=bool).all()
    # independent check: the exact distance is at most PG's certified residual, which is at most eps
    # (rounding allowance: both sides carry ~1e-16 |d z| / step per coordinate)
    assert np.all(c["residual_exact"] <= c["residual"] * (1 + 1e-9) + 1e-13 * c["r0"])
    assert np.all(c["residual"] <= c["eps"])


def test_exact_root_is_exact_and_newton_is_close(convex):
    s = convex[convex["part"] == "solver"].set_index("solver")
    assert s.loc["exact", "rel_residual"] <= 1e-12
    assert s.loc["exact", "err_inf"] == 0.0
    assert s.loc["pg(7)", "rel_residual"] <= study.PG_EPS_REL
    assert s.loc["newton", "rel_residual"] <= 1e-6 and s.loc["newton", "err_inf"] <= 1e-6
    assert s.loc["pg(7)", "pattern_mismatch"] == 0  # screening is exact for the group lasso
    assert abs(s.loc["pg(7)", "obj_gap"]) <= 1e-8 * max(1.0, abs(s.loc["exact", "r0"]))


def test_convex_order_is_logarithmic(convex):
    fit = study.fit_orders(convex[convex["part"] == "curve"])
    assert fit["R2_log"] > 0.99 and fit["R2_log"] > fit["R2_pow"]
    assert fit["p_tail"] < 0.3  # an eps^-1 law (the appendix's statement) would keep it near 1
    # iterations per e-fold stay below the linear-rate bound 2 kappa of PG on a strongly convex Q
    assert 0 < fit["b"] < 2 * 100.0
    assert study.verdict(fit, True) == "log (main text)"


def test_nonconvex_pg_converges_faster_than_the_bound(nonconvex):
    c = nonconvex[nonconvex["part"] == "curve"].sort_values("eps_rel", ascending=False)
    assert not bool(c["convex"].iloc[0])
    assert np.asarray(c["converged"], dtype=bool).all()
    assert np.all(np.diff(c["iterations"].to_numpy()) >= 0)
    assert np.all(c["residual_exact"] <= c["residual"] * (1 + 1e-9) + 1e-13 * c["r0"])
    fit = study.fit_orders(c)
    assert fit["p_tail"] < 1.0
    assert study.verdict(fit, False) == "faster than eps^-2"
    s = nonconvex[nonconvex["part"] == "solver"].set_index("solver")
    assert "newton" not in s.index
    assert s.loc["exact", "rel_residual"] <= 1e-12
    assert s.loc["pg(7)", "obj_gap"] >= -1e-9  # the closed form is the global minimizer


def test_captured_ramda_subproblem():
    t = study.task(_cfg(instance="ramda-digits", t=20, lam=0.00465, eps_rel=EPS[:6], kappa=0.0, n=0,
                        group_size=0))
    c = t[t["part"] == "curve"]
    assert np.asarray(c["converged"], dtype=bool).all()
    assert np.isfinite(c["kappa"].iloc[0]) and c["kappa"].iloc[0] > 1
    s = t[t["part"] == "solver"].set_index("solver")
    assert s.loc["exact", "rel_residual"] <= 1e-12


def test_summary_agrees_with_the_table(convex, nonconvex):
    import pandas as pd

    table = pd.concat([convex, nonconvex], ignore_index=True)
    s = study.summarize(table)
    assert len(s) == 2
    for _, row in s.iterrows():
        part = table[(table["label"] == row["instance"]) & (table["regularizer"] == row["reg"])]
        fit = study.fit_orders(part[part["part"] == "curve"])
        assert row["b"] == pytest.approx(fit["b"])
        assert row["p_tail"] == pytest.approx(fit["p_tail"])
        assert row["supports"] == study.verdict(fit, bool(part["convex"].iloc[0]))
        ex = part[(part["part"] == "solver") & (part["solver"] == "exact")]
        assert row["res_exact"] == pytest.approx(float(ex["rel_residual"].iloc[0]))


def test_figure(convex, nonconvex):
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    fig = study.figure(pd.concat([convex, nonconvex], ignore_index=True))
    assert len(fig.axes) == 4
    assert any("proxlab simulate subproblem" in t.get_text() for t in fig.texts)

"""The ``stationarity`` study (proxgen.txt Cor 1, mrda.txt Thm 3.1) on reduced configurations.

Stated bands (reduced grids, so wider than the full study's 0.25):

* ProxGen, batch b = T/16, Adam-default setting: the fitted log-log slope of
  E_a dist^2 against T lies in [-1.35, -0.75] (Cor 1: -1);
* ProxGen "theory" setting: T * E_a dist^2 (the sum Theorem 1 bounds) varies
  by less than a factor 4 over a 32x range of T, while with a constant batch it
  grows by more than a factor 8 (a plateau of E_a dist^2);
* RDA / modified RDA: the slope of E phi(w_bar_t) - phi* over t >= 100 is at
  most -0.45 (Thm 3.1: O(t^-1/2), an upper bound) and the mean gap stays below
  the measured Delta_t / t of eq (58) at every t.
"""

from __future__ import annotations

import numpy as np
import pytest

from proxlab.simulations.studies import stationarity as study

GRID = [64, 128, 256, 512, 1024, 2048]


def _pg(**kw):
    c = {"study": "stationarity", "size": "test", "part": "proxgen", "setting": "theory", "regularizer": "l1",
         "batch": "linear", "seed": 0, "T_grid": GRID, "b_div": 16, "b_const": 8}
    c.update(kw)
    return c


def _md(**kw):
    c = {"study": "stationarity", "size": "test", "part": "mrda", "method": "rda", "seed": 0, "T": 3000,
         "points": 25}
    c.update(kw)
    return c


@pytest.fixture(scope="module")
def pg_runs():
    import pandas as pd

    frames = [study.task(_pg()), study.task(_pg(batch="constant")), study.task(_pg(setting="practical")),
              study.task(_pg(setting="practical", regularizer="mcp"))]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def md_runs():
    import pandas as pd

    return pd.concat([study.task(_md(method=m, seed=s)) for m in study.METHODS for s in range(3)],
                     ignore_index=True)


def test_configs_validate():
    quick, full = study.configs(True), study.configs(False)
    assert len(quick) == 16 + 6 and len(full) == 40 + 20
    for c in quick + full:
        study.check_config(c)


@pytest.mark.parametrize("cfg, key", [(_pg(setting="best"), "setting"), (_pg(regularizer="scad"), "regularizer"),
                                      (_pg(batch="growing"), "batch"), (_pg(T_grid=[64, 32, 128]), "T_grid"),
                                      (_pg(T_grid=[64, 128]), "T_grid"), (_pg(b_div=0), "b_div"),
                                      (_md(method="sgd"), "method"), (_md(T=5), "'T'"), (_md(points=2), "points"),
                                      ({"part": "lasso"}, "part"), (_md(seed=-1), "seed")])
def test_bad_config_names_the_entry(cfg, key):
    with pytest.raises(ValueError, match=key):
        study.check_config(cfg)


def test_unknown_and_missing_keys():
    with pytest.raises(ValueError, match="T_grid"):
        study.check_config({**_md(), "T_grid": GRID})
    c = _pg()
    del c["b_const"]
    with pytest.raises(ValueError, match="b_const"):
        study.check_config(c)


def test_proxgen_rows_and_hypotheses(pg_runs):
    th = pg_runs[(pg_runs["setting"] == "theory") & (pg_runs["batch"] == "linear")]
    assert list(th["T"]) == GRID
    assert list(th["b"]) == [-(-T // 16) for T in GRID]
    assert (pg_runs[pg_runs["batch"] == "constant"]["b"] == 8).all()
    for col in ("value", "final_dist2", "D", "G", "gamma_c4", "c3iii_held", "stepsize_held", "alpha",
                "delta_over_3L"):
        assert col in pg_runs.columns
    # the theory setting satisfies Theorem 1's step size and (C-3)(iii); the practical one violates both
    assert th["stepsize_held"].all() and th["c3iii_held"].all()
    assert np.allclose(th["alpha"], th["delta_over_3L"])
    pr = pg_runs[pg_runs["setting"] == "practical"]
    assert not pr["stepsize_held"].any() and not pr["c3iii_held"].any()
    assert (pg_runs["gamma_c4"] > 0).all()


def test_cor1_rate_with_linear_batch_and_plateau_with_constant_batch(pg_runs):
    cur = study.proxgen_curves(pg_runs)
    start = study.tail_start(GRID)

    def curve(setting, reg, batch):
        g = cur[(cur["setting"] == setting) & (cur["regularizer"] == reg) & (cur["batch"] == batch)]
        return g["T"].to_numpy(dtype=float), g["value"].to_numpy()

    for reg in ("l1", "mcp"):
        T, v = curve("practical", reg, "linear")
        assert np.all(np.diff(v) < 0)
        assert -1.35 <= study.fit_slope(T, v, start) <= -0.75
    T, v = curve("theory", "l1", "linear")
    assert np.all(np.diff(v) < 0)
    assert (T * v).max() / (T * v).min() < 4.0
    T, v = curve("theory", "l1", "constant")
    assert (T * v).max() / (T * v).min() > 8.0
    assert study.fit_slope(T, v, start) > -0.5


def test_vectorized_stationarity_matches_the_bounds_instrument():
    from proxlab import regularizers
    from proxlab.simulations.problems import average_objective
    from proxlab.theory.bounds import stationarity

    prob = study._problem(study.PROXGEN_DATA, 4, 10, 0, "zeros")
    f = average_objective(prob)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((7, 50)) * (rng.random((7, 50)) < 0.5)
    for reg in (regularizers.get("l1", lam=0.02), regularizers.get("mcp", lam=0.02, gamma=3.0)):
        G = study.average_grad_rows(f, X, chunk=3)
        assert np.allclose(G, np.array([f.grad(x) for x in X]), rtol=1e-12, atol=1e-14)
        d = study.stationarity_rows(X, G, reg)
        assert np.allclose(d, [stationarity(x, f.grad(x), reg) for x in X], rtol=1e-10, atol=1e-13)


def test_mrda_rate_bound_and_certificate(md_runs):
    assert (md_runs["ref_kkt"] <= 1e-9).all() and md_runs["ref_ok"].all()
    gap = md_runs["ref_gap"].iloc[0]
    assert 0.0 <= gap <= 1e-8  # a certified phi*: the duality gap closes
    assert (md_runs["value"] >= -1e-9).all()
    cur = study.mrda_curves(md_runs)
    for method in study.METHODS:
        g = cur[cur["method"] == method]
        assert g["t"].iloc[-1] == 3000 and g["n_seeds"].min() == 3
        assert study.fit_slope(g["t"], g["value"], 100) <= -0.45
        assert np.all(g["value"].to_numpy() <= g["bound"].to_numpy())
    # RDA starts at w_1 = w_0 = 0, the modified method at a random w_1
    first = md_runs[md_runs["t"] == 1].groupby("method")["Q"].max()
    assert first["rda"] == 0.0 and first["mrda"] > 0.0


def test_summary_agrees_with_the_table(pg_runs, md_runs):
    import pandas as pd

    table = pd.concat([pg_runs, md_runs], ignore_index=True)
    s = study.summarize(table)
    assert len(s) == 4 + 2
    cur = study.proxgen_curves(table)
    start = study.tail_start(table[table["part"] == "proxgen"]["T"])
    for _, row in s[s["claim"] == "PG Cor 1"].iterrows():
        _, setting, reg, bdesc = row["case"].split(" ")
        batch = "constant" if bdesc == "b=8" else "linear"
        g = cur[(cur["setting"] == setting) & (cur["regularizer"] == reg) & (cur["batch"] == batch)]
        slope = study.fit_slope(g["T"], g["value"], start)
        assert row["slope"] == pytest.approx(slope)
        if batch == "constant":
            assert row["verdict"].startswith("n/a")
        elif abs(slope + 1) <= study.SLOPE_BAND:
            assert row["verdict"] == "O(1/T)"
        assert row["hypotheses"].startswith(f"alpha<=delta/3L: {setting == 'theory'}")
    for _, row in s[s["claim"] == "MRDA Thm 3.1"].iterrows():
        assert row["verdict"] == "O(1/sqrt t) holds"


def test_figure(pg_runs, md_runs):
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    fig = study.figure(pd.concat([pg_runs, md_runs], ignore_index=True))
    assert len(fig.axes) == 4
    assert any("proxlab simulate stationarity" in t.get_text() for t in fig.texts)

"""The ``manifold`` study (ramda.txt Thm 3, App. D) on reduced configurations.

The synthetic problem at ``lam = 0.015`` is non-degenerate (the certified
optimum keeps exactly the truth's 4 groups, every zero group has
``rho_g <= 0.83``), so RAMDA's prox point must find the true group support and
stay on it; its averaged iterate must not be exactly sparse; ProxGen must keep
switching groups on this problem with its default-size step.
"""

from __future__ import annotations

import numpy as np
import pytest

from proxlab.simulations.studies import manifold as study

BASE = {"study": "manifold", "size": "test", "problem": "synthetic", "seed": 0, "lam": 0.015, "batch_size": 32,
        "epochs": 12, "records": 60, "window": 15}


def _cfg(name, **kw):
    return {**BASE, "method": name, "hyper": dict(study.HYPER[name]), **kw}


@pytest.fixture(scope="module")
def runs():
    return {m: study.task(_cfg(m)) for m in ("ramda", "proxgen")}


def test_configs_cover_problems_methods_and_validate():
    quick, full = study.configs(True), study.configs(False)
    assert len(quick) == len(study.PROBLEMS) * len(study.METHODS)
    assert len(full) == 3 * len(quick)
    for c in quick + full:
        assert study.check_config(c)["window"] <= c["records"]
    assert {c["size"] for c in quick} == {"quick"} and {c["size"] for c in full} == {"full"}


@pytest.mark.parametrize("key, value", [("problem", "cifar"), ("method", "adam"), ("lam", 0.0), ("lam", -1.0),
                                        ("epochs", 0), ("records", 1), ("window", 61), ("hyper", None),
                                        ("seed", -1)])
def test_bad_config_names_the_entry(key, value):
    with pytest.raises(ValueError, match=key):
        study.check_config(_cfg("ramda", **{key: value}))


def test_missing_and_unknown_keys():
    cfg = _cfg("ramda")
    del cfg["lam"]
    with pytest.raises(ValueError, match="lam"):
        study.check_config(cfg)
    with pytest.raises(ValueError, match="colour"):
        study.check_config({**_cfg("ramda"), "colour": "red"})


def test_bad_hyperparameter_raises_value_error():
    with pytest.raises(ValueError, match="hyper"):
        study.task(_cfg("ramda", hyper={"learning_rate": 0.1}))


def test_columns_and_rows(runs):
    t = runs["ramda"]
    T = study.build_problem("synthetic", 0, BASE["batch_size"], BASE["epochs"]).meta["steps"]
    K = T // max(1, T // BASE["records"]) + 1  # the start and one snapshot every T // records steps
    assert len(t) == 2 * K
    for col in ("problem", "method", "point", "record", "step", "epoch", "n_active", "switched", "changed",
                "dist_opt", "dist_final", "gap", "F_star", "ref_kkt", "opt_active", "nondeg_ratio_max",
                "spurious_window", "flipping_window"):
        assert col in t.columns, col
    assert set(t["point"]) == {"iterate", "prox_point"}
    pp = t[t["point"] == "prox_point"].sort_values("record")
    assert pp["step"].iloc[0] == 0 and pp["n_active"].iloc[0] == 0  # the start is the origin
    assert np.all(np.diff(pp["step"].to_numpy()) > 0)
    assert np.all(pp["dist_final"].iloc[-1] == 0)
    assert bool(t["ref_ok"].iloc[0]) and t["ref_kkt"].iloc[0] < 1e-8
    assert np.all(t["gap"] >= -1e-9)  # F* is a certified minimum


def test_optimum_is_the_truth_and_nondegenerate():
    ref = study.reference("synthetic", 0, BASE["lam"])
    prob = study.build_problem("synthetic", 0, 32, 1)
    G = prob.meta["groups"]
    truth = G.norms(prob.meta["truth"]) > 0
    assert np.array_equal(ref["active"], truth)
    assert np.nanmax(ref["ratio"]) < 0.9


def test_ramda_prox_point_identifies_the_true_support_and_stays(runs):
    t = runs["ramda"]
    pp = t[t["point"] == "prox_point"]
    m = study.run_measures(pp)
    assert m["stabilized"] and m["changes"] == 0
    assert m["dist_opt"] == 0
    assert m["T_opt"] < pp["step"].max() / 2  # identified in the first half of the run and never left
    prob = study.build_problem("synthetic", 0, 32, 1)
    truth = prob.meta["groups"].norms(prob.meta["truth"]) > 0
    assert m["n_active"] == truth.sum()
    # the averaged iterate W_t is not exactly sparse: more non-zero groups than the prox point
    it = t[t["point"] == "iterate"].sort_values("record")
    assert it["n_active"].iloc[-1] > m["n_active"]


def test_proxgen_keeps_switching(runs):
    pp = runs["proxgen"][runs["proxgen"]["point"] == "prox_point"]
    m = study.run_measures(pp)
    assert not m["stabilized"] and m["changes"] >= 3
    assert m["spurious"] >= 1  # a group that is clearly zero at x* is active late in the run


def test_summary_flags_agree_with_the_table(runs):
    import pandas as pd

    table = pd.concat(list(runs.values()), ignore_index=True)
    s = study.summarize(table).set_index("method")
    for method, t in runs.items():
        m = study.run_measures(t[t["point"] == "prox_point"])
        assert s.loc[method, "stable"] == ("1/1" if m["stabilized"] else "0/1")
        assert s.loc[method, "changes"] == m["changes"]
        # recompute the identification step from the raw rows
        pp = t[t["point"] == "prox_point"].sort_values("record")
        changed = pp["step"][pp["changed"]].to_numpy()
        if m["stabilized"]:
            assert s.loc[method, "T0"] == (int(changed[-1]) if changed.size else 0)
        else:
            assert s.loc[method, "T0"] == "-"
    assert s.loc["ramda", "on_opt"] == "1/1" and s.loc["proxgen", "on_opt"] == "0/1"


def test_same_config_same_rows():
    cfg = _cfg("rmda", epochs=3, records=20, window=5)
    a, b = study.task(cfg), study.task(cfg)
    assert a.equals(b)


def test_figure_is_drawn_from_the_table(runs):
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    fig = study.figure(pd.concat(list(runs.values()), ignore_index=True))
    assert len(fig.axes) == 3
    assert any("proxlab simulate manifold" in t.get_text() for t in fig.texts)

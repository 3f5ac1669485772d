"""The neural experiments in miniature (proxlab.experiments): reduced configurations through task()."""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from proxlab import experiments  # noqa: E402
from proxlab.experiments import _common as C  # noqa: E402
from proxlab.experiments import ctr, mrda, proxgen, quant, structured  # noqa: E402
from proxlab.experiments.ctr_data import make_ctr_data, make_world  # noqa: E402

MODULES = {"ctr": ctr, "mrda": mrda, "quant": quant, "proxgen": proxgen, "structured": structured}


# ------------------------------------------------------------------ registry and configurations
def test_registry_lists_every_experiment_and_rejects_unknown_names():
    assert set(experiments.available()) == set(MODULES)
    for name, mod in MODULES.items():
        assert experiments.get(name) is mod
        for attr in ("NAME", "DESCRIPTION", "CLAIMS", "configs", "task", "summarize", "figure"):
            assert hasattr(mod, attr), (name, attr)
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        experiments.get("nope")
    with pytest.raises(ValueError, match="device"):
        experiments.configs_for("mrda", device="tpu")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_shipped_configuration_is_valid(name):
    mod = MODULES[name]
    for quick in (True, False):
        cfgs = experiments.configs_for(name, quick=quick)
        assert cfgs and all(c["device"] == "cpu" and "seed" in c for c in cfgs)
        assert len({repr(sorted(c.items())) for c in cfgs}) == len(cfgs), "duplicate configurations"
        for c in cfgs:
            C.check_config(c, mod.SPEC)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_bad_configuration_raises_naming_the_entry(name):
    mod = MODULES[name]
    with pytest.raises(ValueError, match="config\\['no_such_entry'\\]"):
        mod.task({"no_such_entry": 1})
    with pytest.raises(ValueError, match="config\\['batch_size'\\]"):
        mod.task({"batch_size": 0})
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="config\\['device'\\]"):
            mod.task({"device": "cuda", **_TINY[name]})


def test_inconsistent_entries_are_named():
    with pytest.raises(ValueError, match="config\\['lam'\\]"):
        mrda.task({"method": "sgd", "lam": 1e-3})
    with pytest.raises(ValueError, match="config\\['lam'\\]"):
        quant.task({"method": "binaryconnect", "lam": 1e-3})
    with pytest.raises(ValueError, match="config\\['regularizer'\\]"):
        proxgen.task({"method": "prox_sgd", "regularizer": "l_half"})
    with pytest.raises(ValueError, match="config\\['lams'\\]\\[1\\]|config\\['lams\\[1\\]'\\]"):
        ctr.task({"lams": [1e-3, -1.0]})
    with pytest.raises(ValueError, match="config\\['n_relevant_fields'\\]"):
        ctr.task({"cardinalities": [10, 10], "n_relevant_fields": 3})


_TINY = {
    "mrda": {"epochs": 1},
    "quant": {"epochs": 1},
    "proxgen": {"epochs": 1},
    "structured": {"epochs": 1},
    "ctr": {"cardinalities": [20, 20], "n_relevant_fields": 1, "n_train": 2048, "n_valid": 512, "n_test": 512,
            "lams": [1e-2], "finetune_fracs": [0.0]},
}


# ------------------------------------------------------------------ mrda
def test_mrda_prox_methods_make_exact_zeros_and_sgd_does_not():
    cols = {"method", "lam", "gamma", "seed", "epoch", "train_loss", "objective", "test_acc", "test_loss", "sparsity",
            "n_params"}
    m = mrda.task({"method": "mrda", "lam": 1e-3, "epochs": 2})
    s = mrda.task({"method": "sgd", "lam": 0.0, "epochs": 2})
    p = mrda.task({"method": "prox_sgd", "lam": 1e-3, "epochs": 2})
    assert set(m.columns) == cols and list(m["epoch"]) == [1, 2]
    assert m["sparsity"].iloc[-1] > 0.3  # dual averaging: a weight is 0 while |gbar| <= lam
    assert (s["sparsity"] == 0).all()
    # at equal lam, MRDA's threshold (lam) is far larger than prox-SGD's (alpha_t lam): mrda.txt Sec 3.3
    assert m["sparsity"].iloc[-1] > p["sparsity"].iloc[-1]
    summary = mrda.summarize(pd.concat([m, s]).assign(run_key=lambda d: d["method"]))
    assert set(summary["method"]) == {"mrda", "sgd"}


# ------------------------------------------------------------------ proxgen
def test_proxgen_gives_exact_zeros_and_subgradient_training_does_not():
    rows = {}
    for method, reg in (("proxgen", "l1"), ("subgradient", "l1"), ("proxgen", "l_half"), ("subgradient", "l_half"),
                        ("proxgen", "l0"), ("prox_sgd", "l1")):
        rows[method, reg] = proxgen.task({"method": method, "regularizer": reg, "lam": proxgen.LAMS[reg],
                                          "epochs": 2}).iloc[-1]
    for reg in ("l1", "l_half"):
        assert rows["proxgen", reg]["sparsity"] > 0.1
        assert rows["subgradient", reg]["sparsity"] == 0.0
    assert rows["proxgen", "l0"]["sparsity"] > 0.1
    # the objective is the same function for both methods: lam R at the start is equal
    a = proxgen.task({"method": "proxgen", "regularizer": "l_half", "lam": 3e-4, "epochs": 1})
    b = proxgen.task({"method": "subgradient", "regularizer": "l_half", "lam": 3e-4, "epochs": 1})
    assert a["objective"].iloc[0] == b["objective"].iloc[0]
    # Prox-SGD (Yang): the averaged weights have no zeros, the prox point does
    y = rows["prox_sgd", "l1"]
    assert y["sparsity"] == 0.0 and y["prox_sparsity"] > 0.1


def test_proxgen_regularizer_value_matches_the_catalogue():
    from proxlab import regularizers

    w = [torch.tensor([[0.5, -0.0, 2.0]], dtype=torch.float64), torch.tensor([-0.25, 0.0], dtype=torch.float64)]
    x = np.concatenate([t.numpy().ravel() for t in w])
    for name in proxgen.REGULARIZERS:
        assert proxgen.reg_value(name, 0.3, w) == pytest.approx(regularizers.get(name, lam=0.3).value(x))


# ------------------------------------------------------------------ quant
def test_quant_prox_methods_put_weights_exactly_at_plus_minus_one():
    r = quant.task({"method": "revised_q1", "lam": 3e-3, "epochs": 4}).iloc[-1]
    p = quant.task({"method": "proxquant", "lam": 1.0, "epochs": 4}).iloc[-1]
    f = quant.task({"method": "full_precision", "lam": 0.0, "epochs": 4})
    assert r["at_pm1"] > 0.5 and p["at_pm1"] > 0.5
    assert (f["at_pm1"] == 0).all()
    assert r["test_acc_binary"] > 0.5  # far above chance (0.1) after binarization
    assert {"val_acc_binary", "test_acc_binary", "test_acc_real", "at_pm1", "mean_dist", "lam_epoch"} <= set(f.columns)


# ------------------------------------------------------------------ structured
def test_structured_ramda_prox_point_is_group_sparse_and_the_average_is_not():
    r = structured.task({"method": "ramda", "model": "logreg", "epochs": 2, "lam": 3e-3}).iloc[-1]
    g = structured.task({"method": "proxgen", "model": "logreg", "epochs": 2, "lam": 3e-3}).iloc[-1]
    b = structured.task({"method": "msgd", "model": "logreg", "epochs": 2, "lam": 0.0}).iloc[-1]
    assert r["prox_weighted_group_sparsity"] > 0.1 and r["weighted_group_sparsity"] == 0.0
    assert g["prox_weighted_group_sparsity"] == g["weighted_group_sparsity"] > 0.1
    assert b["prox_weighted_group_sparsity"] == 0.0 and b["feature_rate"] == 1.0
    assert r["feature_rate"] == pytest.approx(1.0 - r["prox_group_sparsity"])  # logistic regression: columns


# ------------------------------------------------------------------ ctr
def test_ctr_generator_is_reproducible_and_has_the_requested_click_rate():
    w1 = make_world([30, 20, 10], n_relevant_fields=2, relevant_fraction=0.5, ctr=0.2, seed=3)
    w2 = make_world([30, 20, 10], n_relevant_fields=2, relevant_fraction=0.5, ctr=0.2, seed=3)
    assert np.array_equal(w1.relevant, w2.relevant) and w1.bias == w2.bias
    assert w1.relevant_fields.sum() == 2 and w1.n_features == 60
    assert not w1.relevant[np.concatenate([np.arange(w1.offsets[f], w1.offsets[f + 1])
                                           for f in np.flatnonzero(~w1.relevant_fields)])].any()
    d = make_ctr_data(w1, 20_000, 10, 10, seed=3)
    assert abs(d["y_train"].mean() - 0.2) < 0.02
    assert d["X_train"].shape == (20_000, 3) and d["counts"].sum() == 60_000
    # Zipf: the most frequent value of the largest field is far above uniform
    c0 = d["counts"][:30]
    assert c0.max() / c0.sum() > 3 / 30
    with pytest.raises(ValueError, match="cardinalities"):
        make_world([1, 5])


_EASY = {"cardinalities": [60, 60, 60, 60], "n_relevant_fields": 2, "relevant_fraction": 0.3, "main_scale": 2.0,
         "interaction_scale": 0.5, "n_train": 40_000, "n_valid": 4096, "n_test": 8192, "seed": 0}


def test_ctr_pruning_panel_group_adam_is_sparser_and_pruning_matches_its_rate():
    t = ctr.task(dict(_EASY, panel="pruning", lams=[1e-2], finetune_fracs=[0.0, 0.2]))
    adam = t[t["method"] == "adam"].iloc[0]
    ga = t[t["method"] == "group_adam"].iloc[0]
    pruned = t[t["method"] == "adam_pruned"]
    assert adam["feature_rate"] == 1.0 and ga["feature_rate"] < 0.8
    n = int(ga["n_features_present"])
    assert np.allclose(pruned["feature_rate"], ga["feature_rate"], atol=1.0 / n)
    assert pruned["selected"].sum() == 1 and sorted(pruned["finetune_frac"]) == [0.0, 0.2]
    assert (t["auc"] > 0.6).all()  # every model learned something
    s = ctr.summarize(t.assign(run_key="k"))
    assert {"T2", "T3"} <= set(s["table"])


def test_ctr_recovers_the_relevant_features_above_chance_and_is_deterministic():
    cfg = dict(_EASY, panel="l1_vs_l21", lams=[1e-2])
    t1 = ctr.task(cfg)
    t2 = ctr.task(cfg)
    pd.testing.assert_frame_equal(t1, t2)
    r = t1[t1["method"] == "group_adam_l21"].iloc[0]
    assert r["recovery_auc"] > 0.75  # chance is 0.5
    assert r["recall_relevant"] > 2 * r["kept_irrelevant"]
    assert r["irrelevant_field_rate"] < r["recall_relevant"]


def test_ctr_adagrad_panel_rows():
    t = ctr.task(dict(_TINY["ctr"], panel="adagrad"))
    assert list(t["method"]) == ["adagrad", "group_adagrad"]
    assert t.iloc[0]["feature_rate"] == 1.0


# ------------------------------------------------------------------ determinism and the command
def test_same_seed_same_table_for_the_small_experiments():
    for mod, cfg in ((mrda, {"method": "prox_sgd", "lam": 1e-3, "epochs": 1, "seed": 4}),
                     (quant, {"method": "revised_q23", "lam": 1e-3, "epochs": 1, "seed": 4}),
                     (structured, {"method": "rmda", "dataset": "mnist1d", "epochs": 1, "seed": 4})):
        pd.testing.assert_frame_equal(mod.task(cfg), mod.task(cfg))
    a = mrda.task({"method": "prox_sgd", "lam": 1e-3, "epochs": 1, "seed": 5})
    b = mrda.task({"method": "prox_sgd", "lam": 1e-3, "epochs": 1, "seed": 4})
    assert a["train_loss"].iloc[0] != b["train_loss"].iloc[0]


def test_experiment_command_writes_table_and_figure(tmp_path, monkeypatch, capsys):
    from proxlab.cli import main

    monkeypatch.setattr(proxgen, "configs", lambda quick: [
        {"method": m, "regularizer": "l1", "lam": 3e-4, "epochs": 1, "seed": 0, "size": "quick"}
        for m in ("proxgen", "subgradient")])
    code = main(["experiment", "proxgen", "--quick", "--serial", "--no-progress", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert (tmp_path / "exp_proxgen-quick.png").stat().st_size > 10_000
    table = pd.read_parquet(tmp_path / "exp_proxgen-quick.parquet")
    assert set(table["method"]) == {"proxgen", "subgradient"} and set(table["device"]) == {"cpu"}
    assert "subgradient" in out and "sparsity" in out
    assert main(["experiment", "proxgen", "--quick", "--device", "tpu", "--serial", "--no-progress",
                 "--out", str(tmp_path)]) == 2

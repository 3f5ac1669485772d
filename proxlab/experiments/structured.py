r"""Structured sparsity with RAMDA, RMDA, ProxGen, ProxSGD, ProxSSI and an
unregularized baseline (ramda.txt Table 7 / App. C and App. D in miniature).

ramda.txt trains with the group lasso ``psi(W) = lam sum_g sqrt(|g|) ||W_g||``
(input-wise groups for fully-connected layers, channel-wise for
convolutions; biases and normalization layers free) and reports the
validation accuracy and the *weighted group sparsity* (zero groups weighted by
their number of parameters) of the final model. Table 7 (App. C): on
logistic regression / MNIST all methods reach 91.3 % and RMDA / RAMDA the
highest sparsity (57 % vs 39-40 %); on VGG19 / ResNet50 with CIFAR RAMDA is
not always best ("RAMDA might sometimes perform worse than existing methods on
smaller problems"). App. D: the sparsity of RAMDA (and RMDA) is stable over the
last epochs (manifold identification, Thm 3) while ProxSGD, ProxSSI and
ProxGen oscillate.

The miniature: scikit-learn's 8x8 digits (1347 / 450) and MNIST-1D (4000 /
1000, generated locally by ``mnist1d``), with logistic regression, an MLP
``d - 64 - 64 - 10`` and a two-layer CNN (Conv2d on digits, Conv1d on MNIST-1D,
then a Linear classifier), the group lasso on every weight (layouts of
:func:`proxlab.torch.param_groups`: Linear input-wise, Conv per output
channel), batch 64. Optimizers (:mod:`proxlab.torch`; one ``lam`` per
(dataset, model), the same for every method):

* ``ramda``: :class:`~proxlab.torch.RAMDA` (``lr = 0.01``, ``c = 0.1``, exact
  subproblem), no restarts;
* ``rmda``: :class:`~proxlab.torch.RMDA` (``lr = 0.1``, ``c = 0.01``);

  for both, App. A.1's final stage: over the last ``final_stage`` fraction of
  the epochs (default 0.25) ``c_i = min(c sqrt(i), 1)``, ``i`` counting the
  steps of that stage, so that ``W_t`` joins ``W_hat_t`` at the end;
* ``proxgen``: :class:`~proxlab.torch.ProxGen` (Adam, ``lr = 1e-3``, exact
  metric prox);
* ``prox_sgd``: :class:`~proxlab.torch.ProxSGD` with a constant ``lr = 0.1``
  (proximal SGD; the paper's ProxSGD has momentum, ours does not);
* ``proxssi``: :class:`~proxlab.torch.ProxSSI` (``lr = 1e-3``, Newton);
* ``msgd``: ``torch.optim.SGD(lr = 0.1, momentum = 0.9)``, no regularizer.

For the averaging methods (RAMDA, RMDA) the parameter ``W_t`` is not exactly
sparse; the prox point ``W_hat_t`` is, and it is the structured model one
deploys (:meth:`~proxlab.torch.RAMDA.load_prox_points`): every epoch row
holds the metrics of both (``prox_*`` columns; equal to the weights' for the
other methods).
"""

from __future__ import annotations

import math

from . import _common as C

NAME = "structured"
DESCRIPTION = "RAMDA, RMDA, ProxGen, ProxSGD, ProxSSI and MSGD with the group lasso (ramda.txt Table 7, App. D)"
CLAIMS = ("ramda.txt Table 7: on logistic regression RMDA / RAMDA reach the highest weighted group sparsity at equal "
          "accuracy; App. D: RAMDA's (and RMDA's) structured sparsity is stable over the last epochs while ProxSGD, "
          "ProxSSI and ProxGen oscillate.")

DATASETS = ("digits", "mnist1d")
MODELS = ("logreg", "mlp", "cnn")
METHODS = ("ramda", "rmda", "proxgen", "prox_sgd", "proxssi", "msgd")
#: default learning rates (the defaults of proxlab's optimizers / the public codes)
LR = {"ramda": 1e-2, "rmda": 0.1, "proxgen": 1e-3, "prox_sgd": 0.1, "proxssi": 1e-3, "msgd": 0.1}
#: lam per (dataset, model)
LAMS = {("digits", "logreg"): 3e-3, ("digits", "mlp"): 1e-3, ("digits", "cnn"): 1e-3,
        ("mnist1d", "logreg"): 3e-3, ("mnist1d", "mlp"): 1e-3, ("mnist1d", "cnn"): 1e-3}

SPEC = {
    "dataset": ("digits", C.choice(*DATASETS)),
    "model": ("logreg", C.choice(*MODELS)),
    "method": ("ramda", C.choice(*METHODS)),
    "lam": (1e-3, C.real(0.0)),
    "lr": (None, lambda k, v: None if v is None else C.real(0.0, low_open=True)(k, v)),
    "c": (None, lambda k, v: None if v is None else C.real(0.0, 1.0, low_open=True)(k, v)),
    "epochs": (40, C.integer(1, 10_000)),
    "batch_size": (64, C.integer(1)),
    "hidden": (64, C.integer(1)),
    "eval_every": (1, C.integer(1)),
    "final_stage": (0.25, C.real(0.0, 1.0)),
}


def configs(quick):
    """Quick: digits with logistic regression and the MLP, one seed, 15 epochs.
    Full: both data sets, all three models, two seeds."""
    if quick:
        combos, seeds, epochs, size, every = [("digits", "logreg"), ("digits", "mlp")], [0], 15, "quick", 1
    else:
        combos = [(d, m) for d in DATASETS for m in MODELS]
        seeds, epochs, size, every = [0, 1], 30, "full", 1
    out = []
    for seed in seeds:
        for dataset, model in combos:
            for method in METHODS:
                out.append({"dataset": dataset, "model": model, "method": method,
                            "lam": 0.0 if method == "msgd" else LAMS[(dataset, model)], "epochs": epochs,
                            "seed": seed, "size": size, "eval_every": every})
    return out


def build_model(dataset, model, hidden):
    """The miniature model for ``dataset`` (inputs of 64 or 40 features)."""
    import torch.nn as nn

    d = 64 if dataset == "digits" else 40
    if model == "logreg":
        return nn.Linear(d, 10)
    if model == "mlp":
        return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                             nn.Linear(hidden, 10))
    if dataset == "digits":
        return nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(128, 10))
    return nn.Sequential(nn.Unflatten(1, (1, 40)), nn.Conv1d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                         nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten(),
                         nn.Linear(320, 10))


def _optimizer(cfg, model):
    import torch

    import proxlab.torch as pt

    method = cfg["method"]
    lr = cfg["lr"] if cfg["lr"] is not None else LR[method]
    if method == "msgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    groups = pt.param_groups(model, ("group_l2", {"lam": cfg["lam"]}) if cfg["lam"] > 0 else None)
    if method == "ramda":
        return pt.RAMDA(groups, lr=lr, c=cfg["c"] if cfg["c"] is not None else 0.1)
    if method == "rmda":
        return pt.RMDA(groups, lr=lr, c=cfg["c"] if cfg["c"] is not None else 0.01)
    if method == "proxgen":
        return pt.ProxGen(groups, lr=lr)
    if method == "prox_sgd":
        return pt.ProxSGD(groups, lr=lr, power=0.0)
    return pt.ProxSSI(groups, lr=lr)


def task(config):
    """Train one (dataset, model, method, seed); one row per evaluated epoch.

    Columns: ``dataset, model, method, lam, seed, epoch, train_loss, test_acc,
    sparsity, group_sparsity, weighted_group_sparsity`` (of the weights),
    ``prox_test_acc, prox_sparsity, prox_group_sparsity,
    prox_weighted_group_sparsity`` (of the prox point; equal to the weights'
    for methods without one), ``feature_rate`` (input features with a
    non-zero column in the first layer, measured on the prox point).
    """
    import pandas as pd
    import torch

    from ..torch import metrics

    cfg = C.check_config(config, SPEC)
    if cfg["method"] == "msgd" and cfg["lam"] != 0:
        raise ValueError(f"config['lam'] must be 0 for method 'msgd' (the unregularized baseline), got {cfg['lam']!r}")
    if cfg["c"] is not None and cfg["method"] not in ("ramda", "rmda"):
        raise ValueError(f"config['c'] applies to ramda and rmda only, got it for {cfg['method']!r}")
    rows = []
    with C.torch_session(cfg) as dev:
        data = C.digits_data(dev) if cfg["dataset"] == "digits" else C.mnist1d_data(dev, num_samples=5000)
        model = build_model(cfg["dataset"], cfg["model"], cfg["hidden"]).to(dev)
        opt = _optimizer(cfg, model)
        ents = metrics.entries(model)
        first = next(m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d)))
        first_layout = "columns" if isinstance(first, torch.nn.Linear) else "in_channels"
        get_prox = getattr(opt, "prox_point", None)
        distinct = get_prox is not None
        gen = torch.Generator().manual_seed(cfg["seed"])
        start_final = cfg["epochs"] - int(round(cfg["final_stage"] * cfg["epochs"]))
        c0 = [g.get("c") for g in opt.param_groups]
        stage_steps = [0]

        def ramp():  # ramda.txt App. A.1: c_i = min(c sqrt(i), 1) in the final stage
            stage_steps[0] += 1
            for g, c in zip(opt.param_groups, c0):
                g["c"] = min(c * math.sqrt(stage_steps[0]), 1.0)

        for epoch in range(1, cfg["epochs"] + 1):
            hook = ramp if cfg["method"] in ("ramda", "rmda") and epoch > start_final else None
            loss = C.train_epoch(model, opt, data["X"], data["y"], batch_size=cfg["batch_size"], generator=gen,
                                 after_backward=hook)
            if epoch % cfg["eval_every"] and epoch != cfg["epochs"]:
                continue
            acc, _ = C.evaluate(model, data["X_test"], data["y_test"])
            w = metrics.structure_metrics(ents)
            row = {"dataset": cfg["dataset"], "model": cfg["model"], "method": cfg["method"], "lam": cfg["lam"],
                   "seed": cfg["seed"], "epoch": epoch, "train_loss": loss, "test_acc": acc,
                   "sparsity": w["sparsity"], "group_sparsity": w["group_sparsity"],
                   "weighted_group_sparsity": w["weighted_group_sparsity"]}
            if distinct and any(get_prox(e.param) is not e.param for e in ents):
                pm = metrics.structure_metrics(ents, tensor=get_prox)
                with torch.no_grad():
                    saved = [(p, p.detach().clone()) for p in model.parameters() if get_prox(p) is not p]
                    for p, _ in saved:
                        p.copy_(get_prox(p))
                    pacc, _ = C.evaluate(model, data["X_test"], data["y_test"])
                    feat = metrics.feature_rate(first.weight, first_layout)
                    for p, s in saved:
                        p.copy_(s)
            else:
                pm, pacc = w, acc
                feat = metrics.feature_rate(first.weight, first_layout)
            row.update(prox_test_acc=pacc, prox_sparsity=pm["sparsity"], prox_group_sparsity=pm["group_sparsity"],
                       prox_weighted_group_sparsity=pm["weighted_group_sparsity"], feature_rate=feat)
            rows.append(row)
    return pd.DataFrame(rows)


def summarize(table):
    """Table 7 in miniature: per (dataset, model, method), the final accuracy and
    weighted group sparsity of the structured model (the prox point where the
    method has one), their maximum over epochs, and the stability of the
    sparsity over the last half of the epochs (standard deviation and the
    number of epochs at which it changed), means over seeds."""
    import pandas as pd

    t = table.sort_values(["run_key", "epoch"])
    stab = []
    for key, g in t.groupby("run_key"):
        half = g[g["epoch"] > g["epoch"].max() / 2]["prox_weighted_group_sparsity"].to_numpy()
        stab.append({"run_key": key, "sparsity_last_half_std": float(half.std()) if len(half) else float("nan"),
                     "sparsity_changes_last_half": int((half[1:] != half[:-1]).sum()),
                     "max_sparsity": float(g["prox_weighted_group_sparsity"].max())})
    stab = pd.DataFrame(stab)
    last = t[t["epoch"] == t.groupby("run_key")["epoch"].transform("max")].merge(stab, on="run_key")
    g = last.groupby(["dataset", "model", "method"], as_index=False).agg(
        lam=("lam", "first"), acc=("prox_test_acc", "mean"), acc_std=("prox_test_acc", "std"),
        wgs=("prox_weighted_group_sparsity", "mean"), wgs_std=("prox_weighted_group_sparsity", "std"),
        max_wgs=("max_sparsity", "mean"), last_half_std=("sparsity_last_half_std", "mean"),
        changes=("sparsity_changes_last_half", "mean"), weights_wgs=("weighted_group_sparsity", "mean"),
        feature_rate=("feature_rate", "mean"), seeds=("seed", "nunique"))
    om = {m: i for i, m in enumerate(METHODS)}
    g = g.assign(_m=g["method"].map(om)).sort_values(["dataset", "model", "_m"]).drop(columns="_m")
    num = ["acc", "acc_std", "wgs", "wgs_std", "max_wgs", "last_half_std", "changes", "weights_wgs", "feature_rate"]
    g[num] = g[num].round(4)
    return g.reset_index(drop=True)


def figure(table):
    """See :func:`proxlab.figures.exp_structured.figure`."""
    from ..figures.exp_structured import figure as fig

    return fig(table)

r"""MRDA vs prox-SGD vs sqrt(t)-prox-SGD vs SGD with momentum on a small CNN with l1
(mrda.txt Tables 1 and 4 in miniature).

The paper trains ResNet18 on CIFAR-10 for 120 epochs with
``Psi = lam ||w||_1`` on every parameter and reports top-1 accuracy and the
sparsity ``sigma = #zero / #parameters`` (eq (30)): at ``gamma = 1`` (Table
1) RDA keeps accuracy up to ``lam = 1e-6`` with ``sigma = 0.94``, prox-SGD
reaches ``sigma <= 0.03`` wherever its accuracy is high, and sqrt(t)-prox-SGD
either zeros everything or has low accuracy ("it is not convergent"); in
Table 4 (best ``(lam, gamma)`` per method) RDA has the best top-1 (90.67 vs
89.80 prox-SGD, 89.27 SGD, 82.47 sqrt(t)-prox-SGD) and ``sigma = 0.94``.

The miniature: scikit-learn's 8x8 digits (1347 train / 450 test images, a
fixed split), a two-block CNN with BatchNorm (``conv(1->16) - BN - ReLU - pool
- conv(16->32) - BN - ReLU - pool - linear(128->10)``, 6.1k parameters; the
normalization makes the network trainable from MRDA's anchor ``w = 0``, as in
the paper's ResNet18), mean cross-entropy, batch 64, l1 on every parameter.
Optimizers (:mod:`proxlab.torch`, ``lr = 1/gamma``):

* ``mrda``: :class:`~proxlab.torch.MRDA` (mrda.txt Algorithm 2, anchor 0,
  ``beta_t = gamma sqrt t``);
* ``prox_sgd``: :class:`~proxlab.torch.ProxSGD` (eqs (8)-(9), ``alpha_t =
  1/(gamma sqrt t)``);
* ``sqrt_t_prox_sgd``: :class:`~proxlab.torch.SqrtTProxSGD` (eqs (23)-(25));
* ``sgd``: ``torch.optim.SGD(lr, momentum=0.9)`` without regularization
  (Table 4's "SGD").

One run is one (method, lam, gamma, seed); rows are epochs.
"""

from __future__ import annotations

from . import _common as C

NAME = "mrda"
DESCRIPTION = "MRDA vs prox-SGD vs sqrt(t)-prox-SGD vs momentum SGD, l1 on a small CNN (mrda.txt Tables 1, 4)"
CLAIMS = ("mrda.txt Table 1 (gamma = 1, lam from 1e-2 to 1e-8): RDA reaches much higher sparsity than prox-SGD "
          "at equal lam and keeps accuracy; sqrt(t)-prox-SGD zeros (almost) everything. Table 4: RDA has the best "
          "top-1 accuracy with sigma = 0.94, prox-SGD sigma = 0.03, SGD sigma = 0.")

METHODS = ("mrda", "prox_sgd", "sqrt_t_prox_sgd", "sgd")

SPEC = {
    "method": ("mrda", C.choice(*METHODS)),
    "lam": (1e-3, C.real(0.0)),
    "gamma": (1.0, C.real(0.0, low_open=True)),
    "sgd_lr": (0.05, C.real(0.0, low_open=True)),
    "momentum": (0.9, C.real(0.0, 0.999)),
    "epochs": (30, C.integer(1, 10_000)),
    "batch_size": (64, C.integer(1)),
    "eval_every": (1, C.integer(1)),
}


def configs(quick):
    """Table 1's lam sweep at gamma = 1 (full: a second gamma and two seeds)."""
    if quick:
        lams, gammas, seeds, epochs, size = [1e-2, 1e-3, 1e-4], [1.0], [0], 15, "quick"
    else:
        lams, gammas, seeds, epochs, size = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 1e-5, 1e-6], [1.0, 3.0], [0, 1], 40, "full"
    out = []
    for seed in seeds:
        for method in METHODS[:3]:
            for gamma in gammas:
                for lam in lams:
                    out.append({"method": method, "lam": lam, "gamma": gamma, "epochs": epochs, "seed": seed,
                                "size": size, "eval_every": 1 if quick else 2})
        out.append({"method": "sgd", "lam": 0.0, "gamma": 1.0, "epochs": epochs, "seed": seed, "size": size,
                    "eval_every": 1 if quick else 2})
    return out


def cnn():
    """The miniature CNN for 8x8 digits (6.1k parameters)."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 10))


def _optimizer(cfg, params):
    import torch

    import proxlab.torch as pt

    reg = ("l1", {"lam": cfg["lam"]}) if cfg["lam"] > 0 else None
    lr = 1.0 / cfg["gamma"]
    if cfg["method"] == "mrda":
        return pt.MRDA(params, lr=lr, regularizer=reg)
    if cfg["method"] == "prox_sgd":
        return pt.ProxSGD(params, lr=lr, power=0.5, regularizer=reg)
    if cfg["method"] == "sqrt_t_prox_sgd":
        return pt.SqrtTProxSGD(params, lr=lr, regularizer=reg)
    return torch.optim.SGD(params, lr=cfg["sgd_lr"], momentum=cfg["momentum"])


def task(config):
    """Train one (method, lam, gamma, seed); one row per evaluated epoch.

    Columns: ``method, lam, gamma, seed, epoch, train_loss, objective``
    (``train_loss + lam ||w||_1``), ``test_acc``, ``test_loss``,
    ``sparsity`` (eq (30) over all parameters), ``n_params``.
    """
    import pandas as pd
    import torch

    from ..torch import metrics

    cfg = C.check_config(config, SPEC)
    if cfg["method"] == "sgd" and cfg["lam"] != 0:
        raise ValueError(f"config['lam'] must be 0 for method 'sgd' (the unregularized baseline), got {cfg['lam']!r}")
    rows = []
    with C.torch_session(cfg) as dev:
        data = C.digits_data(dev)
        model = cnn().to(dev)
        params = list(model.parameters())
        opt = _optimizer(cfg, params)
        gen = torch.Generator().manual_seed(cfg["seed"])
        for epoch in range(1, cfg["epochs"] + 1):
            loss = C.train_epoch(model, opt, data["X"], data["y"], batch_size=cfg["batch_size"], generator=gen)
            if epoch % cfg["eval_every"] and epoch != cfg["epochs"]:
                continue
            acc, test_loss = C.evaluate(model, data["X_test"], data["y_test"])
            l1 = float(sum(p.detach().abs().sum() for p in params))
            rows.append({"method": cfg["method"], "lam": cfg["lam"], "gamma": cfg["gamma"], "seed": cfg["seed"],
                         "epoch": epoch, "train_loss": loss, "objective": loss + cfg["lam"] * l1,
                         "test_acc": acc, "test_loss": test_loss,
                         "sparsity": metrics.sparsity(params), "n_params": sum(p.numel() for p in params)})
    return pd.DataFrame(rows)


def _final(table):
    last = table["epoch"] == table.groupby("run_key")["epoch"].transform("max") if "run_key" in table else \
        table["epoch"] == table["epoch"].max()
    return table[last]


def summarize(table):
    """Table 1 (accuracy / sigma per lam at each gamma, mean over seeds) and
    Table 4 (each method's best lam, gamma by final test accuracy)."""
    import pandas as pd

    fin = _final(table)
    g = fin.groupby(["method", "gamma", "lam"], as_index=False).agg(
        top1=("test_acc", "mean"), top1_std=("test_acc", "std"), sigma=("sparsity", "mean"),
        seeds=("seed", "nunique"))
    best = g.sort_values(["method", "top1", "sigma"], ascending=[True, False, False]).groupby("method").head(1)
    best = best.assign(table="best (Table 4)")
    order = {m: i for i, m in enumerate(METHODS)}
    g = g.assign(table="lam sweep (Table 1)")
    out = pd.concat([best, g], ignore_index=True)
    out["_o"] = out["method"].map(order)
    out = out.sort_values(["table", "_o", "gamma", "lam"], ascending=[True, True, True, False]).drop(columns="_o")
    out[["top1", "top1_std", "sigma"]] = out[["top1", "top1_std", "sigma"]].round(3)
    return out[["table", "method", "gamma", "lam", "top1", "top1_std", "sigma", "seeds"]].reset_index(drop=True)


def figure(table):
    """See :func:`proxlab.figures.exp_mrda.figure`."""
    from ..figures.exp_mrda import figure as fig

    return fig(table)

r"""Binary quantization: ProxQuant vs the revised ProxQuant with ``q in {1, 2/3, 1/2}``
on a small MLP (proxgen.txt Table 3 in miniature).

proxgen.txt Table 3 binarizes the weights of ResNet-20 ... 56 on CIFAR-10 with
the W-shaped regularizer ``R^q_bin(theta) = lam sum_j |theta_j -
sign(theta_j)|^q`` and reports the test error of the binary network:
full precision 6.5-8.1 %, BinaryConnect 8.0-9.5 %, ProxQuant 7.7-9.4 %, the
revised ProxQuant (ProxGen's *preconditioned* prox, Table 2 bottom) 7.5-9.8 %;
the revised method beats ProxQuant for ResNet-32/44/56 and not for ResNet-20
("PROXGEN may work better for larger networks").

The miniature: scikit-learn's 8x8 digits (1078 train / 269 validation / 450
test images, fixed), an MLP ``64 - 128 - BN - ReLU - 128 - BN - ReLU - 10``
whose three Linear weight matrices are binarized (biases and BatchNorm stay
real, as Table 3 leaves biases real), Adam moments ``(0.9, 0.999)``, ``lr = 0.01`` (ProxQuant's), batch 64.
Methods:

* ``full_precision``: Adam, no regularizer (the real network is evaluated);
* ``binaryconnect``: Courbariaux et al. 2015 with Adam — the forward and
  backward passes use ``sign(w)``, the gradient updates the real ``w``, which
  is clipped to ``[-1, 1]``;
* ``proxquant``: :class:`proxlab.torch.ProxQuant` (Adam step, then the
  *Euclidean* prox of ``lr lam_t R^1_bin``; Table 2 top);
* ``revised_q1``, ``revised_q23``, ``revised_q12``:
  :class:`proxlab.torch.RevisedProxQuant` with ``q = 1, 2/3, 1/2`` (the
  prox under Adam's metric; Table 2 bottom).

The regularization strength follows ProxQuant's homotopy (Bai et al. 2019),
increased linearly, here per epoch: ``lam_e = lam e``. At the end the
quantized weights are hard-binarized (``sign``, ``sign(0) = +1``) and the
binary network is evaluated. ``lam`` is swept; the summary picks, per method,
the ``lam`` with the best *validation* accuracy of the binary network and
reports its test error over seeds.
"""

from __future__ import annotations

import contextlib

from . import _common as C

NAME = "quant"
DESCRIPTION = "ProxQuant vs revised ProxQuant (q = 1, 2/3, 1/2) binarizing a small MLP (proxgen.txt Table 3)"
CLAIMS = ("proxgen.txt Table 3: the revised ProxQuant (ProxGen's preconditioned prox) has a lower test error of "
          "the binarized network than ProxQuant and BinaryConnect for ResNet-32/44/56 (not for ResNet-20); the "
          "generalized q = 2/3, 1/2 are on par with q = 1.")

METHODS = ("full_precision", "binaryconnect", "proxquant", "revised_q1", "revised_q23", "revised_q12")
Q_OF = {"proxquant": 1.0, "revised_q1": 1.0, "revised_q23": 2.0 / 3.0, "revised_q12": 0.5}

SPEC = {
    "method": ("revised_q1", C.choice(*METHODS)),
    "lam": (1e-4, C.real(0.0)),
    "lr": (1e-2, C.real(0.0, low_open=True)),
    "epochs": (30, C.integer(1, 10_000)),
    "batch_size": (64, C.integer(1)),
    "hidden": (128, C.integer(1)),
    "eval_every": (1, C.integer(1)),
}


#: lam grids: the Euclidean prox of ProxQuant needs a far larger lam than the
#: preconditioned one (its threshold is lr lam, the revised one's lr lam / d_j)
LAMS = {"quick": {"proxquant": [0.03, 0.1], "revised": [1e-4, 3e-4]},
        "full": {"proxquant": [0.01, 0.03, 0.1, 0.3, 1.0], "revised": [3e-5, 1e-4, 3e-4, 1e-3, 3e-3]}}


def configs(quick):
    """A lam sweep per regularized method (grids in :data:`LAMS`); full: more
    lam, epochs and seeds."""
    size = "quick" if quick else "full"
    seeds, epochs = ([0], 15) if quick else ([0, 1, 2], 40)
    out = []
    for seed in seeds:
        for method in METHODS:
            if method in Q_OF:
                lams = LAMS[size]["proxquant" if method == "proxquant" else "revised"]
            else:
                lams = [0.0]
            for lam in lams:
                out.append({"method": method, "lam": lam, "epochs": epochs, "seed": seed, "size": size,
                            "eval_every": 1 if quick else 2})
    return out


def mlp(hidden):
    """The miniature MLP; its three Linear weights are the quantized tensors."""
    import torch.nn as nn

    return nn.Sequential(nn.Linear(64, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


def _quantized(model):
    import torch.nn as nn

    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def _sign(w):
    import torch

    return torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))


@contextlib.contextmanager
def _binarized(weights):
    """The forward/backward pass of BinaryConnect: ``sign(w)`` in place of ``w``
    (``w`` clipped to [-1, 1] first), the real values restored afterwards."""
    import torch

    with torch.no_grad():
        real = []
        for w in weights:
            w.clamp_(-1.0, 1.0)
            real.append(w.detach().clone())
            w.copy_(_sign(w))
    try:
        yield
    finally:
        with torch.no_grad():
            for w, r in zip(weights, real):
                w.copy_(r)


def _eval_binary(model, weights, X, y):
    import torch

    with torch.no_grad():
        real = [w.detach().clone() for w in weights]
        for w in weights:
            w.copy_(_sign(w))
        acc, loss = C.evaluate(model, X, y)
        for w, r in zip(weights, real):
            w.copy_(r)
    return acc, loss


def task(config):
    """Train one (method, lam, seed); one row per evaluated epoch.

    Columns: ``method, q, lam, seed, epoch, train_loss, lam_epoch`` (the
    homotopy's current strength), ``val_acc_binary, test_acc_binary,
    test_error_binary`` (the hard-binarized network), ``val_acc_real,
    test_acc_real`` (the network as trained), ``at_pm1`` (fraction of quantized weights exactly at
    +-1), ``mean_dist`` (mean distance of the quantized weights to {-1, 1}).
    """
    import pandas as pd
    import torch

    import proxlab.torch as pt

    cfg = C.check_config(config, SPEC)
    method = cfg["method"]
    if method in ("full_precision", "binaryconnect") and cfg["lam"] != 0:
        raise ValueError(f"config['lam'] must be 0 for method {method!r} (no regularizer), got {cfg['lam']!r}")
    if method in Q_OF and cfg["lam"] <= 0:
        raise ValueError(f"config['lam'] must be > 0 for method {method!r}, got {cfg['lam']!r}")
    q = Q_OF.get(method, float("nan"))
    rows = []
    with C.torch_session(cfg) as dev:
        data = C.digits_data(dev, val_fraction=0.2)
        model = mlp(cfg["hidden"]).to(dev)
        qw = _quantized(model)
        qids = {id(w) for w in qw}
        rest = [p for p in model.parameters() if id(p) not in qids]
        if method in ("full_precision", "binaryconnect"):
            opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        else:
            cls = pt.ProxQuant if method == "proxquant" else pt.RevisedProxQuant
            reg = ("binary_quant", {"lam": cfg["lam"], "q": q})
            opt = cls([{"params": qw, "regularizer": reg}, {"params": rest, "regularizer": None}], lr=cfg["lr"])
        wrap = (lambda: _binarized(qw)) if method == "binaryconnect" else None
        gen = torch.Generator().manual_seed(cfg["seed"])
        for epoch in range(1, cfg["epochs"] + 1):
            lam_e = cfg["lam"] * epoch
            if method in Q_OF:
                opt.param_groups[0]["regularizer"] = ("binary_quant", {"lam": lam_e, "q": q})
            loss = C.train_epoch(model, opt, data["X"], data["y"], batch_size=cfg["batch_size"], generator=gen,
                                 wrap=wrap)
            if method == "binaryconnect":
                with torch.no_grad():
                    for w in qw:
                        w.clamp_(-1.0, 1.0)
            if epoch % cfg["eval_every"] and epoch != cfg["epochs"]:
                continue
            val_b, _ = _eval_binary(model, qw, data["X_val"], data["y_val"])
            test_b, _ = _eval_binary(model, qw, data["X_test"], data["y_test"])
            test_r, _ = C.evaluate(model, data["X_test"], data["y_test"])
            val_r, _ = C.evaluate(model, data["X_val"], data["y_val"])
            flat = torch.cat([w.detach().reshape(-1) for w in qw])
            dist = (flat.abs() - 1.0).abs()
            rows.append({"method": method, "q": q, "lam": cfg["lam"], "seed": cfg["seed"], "epoch": epoch,
                         "train_loss": loss, "lam_epoch": lam_e if method in Q_OF else 0.0,
                         "val_acc_binary": val_b, "test_acc_binary": test_b, "test_error_binary": 1.0 - test_b,
                         "val_acc_real": val_r, "test_acc_real": test_r, "at_pm1": float((dist == 0).double().mean()),
                         "mean_dist": float(dist.double().mean())})
    return pd.DataFrame(rows)


def summarize(table):
    """Per method: the lam with the best mean validation accuracy of the binary
    network (final epoch), its test error (of the binary network; of the real
    one for full precision) mean and std over seeds, the fraction of weights at
    +-1 before the final ``sign`` and their mean distance to {-1, 1}."""
    import pandas as pd

    last = table["epoch"] == table.groupby("run_key")["epoch"].transform("max")
    fin = table[last].copy()
    real = fin["method"] == "full_precision"
    fin["test_error"] = fin["test_error_binary"].where(~real, 1.0 - fin["test_acc_real"])
    fin["val_acc"] = fin["val_acc_binary"].where(~real, fin["val_acc_real"])
    g = fin.groupby(["method", "lam"], as_index=False).agg(
        val_acc=("val_acc", "mean"), test_error=("test_error", "mean"), test_error_std=("test_error", "std"),
        at_pm1=("at_pm1", "mean"), mean_dist=("mean_dist", "mean"), seeds=("seed", "nunique"))
    best = g.sort_values(["method", "val_acc", "lam"], ascending=[True, False, True]).groupby("method").head(1)
    order = {m: i for i, m in enumerate(METHODS)}
    best = best.assign(_o=best["method"].map(order)).sort_values("_o").drop(columns="_o")
    best = best.assign(q=best["method"].map(Q_OF))
    cols = ["method", "q", "lam", "val_acc", "test_error", "test_error_std", "at_pm1", "mean_dist", "seeds"]
    out = best[cols].reset_index(drop=True)
    out[["val_acc", "test_error", "test_error_std", "at_pm1", "mean_dist"]] = \
        out[["val_acc", "test_error", "test_error_std", "at_pm1", "mean_dist"]].round(4)
    return pd.DataFrame(out)


def figure(table):
    """See :func:`proxlab.figures.exp_quant.figure`."""
    from ..figures.exp_quant import figure as fig

    return fig(table)

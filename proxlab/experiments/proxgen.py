r"""ProxGen with l1, l1/2, l2/3, l0 vs subgradient training of the same objective
(proxgen.txt Fig. 2 in miniature).

proxgen.txt Sec 4 trains ResNet-34 on CIFAR-10 with ``F(theta) = E f(theta;
xi) + lam sum_j |theta_j|^q`` for ``q in {1, 2/3, 1/2, 0}``, comparing ProxGen
(Adam with the exact preconditioned prox of ``lam |.|^q``, eq (2)) with
subgradient methods (Adam on ``f + lam R`` with a subgradient of ``R``) and,
for l1, with Prox-SGD (Yang et al.). Fig. 2: for l1 ProxGen and the
subgradient method converge alike (faster than Prox-SGD); for l2/3 and l1/2
the subgradient method is slower, "because the l_q-norm derivative,
``q / |theta|^(1-q)``, is very large for non-zero tiny theta"; ProxGen's
models are sparser or as sparse. l0 has no useful subgradient (the paper
compares with l0_hc instead).

The miniature: scikit-learn's 8x8 digits (1347 train / 450 test, fixed split),
an MLP ``64 - 128 - ReLU - 128 - ReLU - 10`` (no normalization layer, so the
sparsity of a weight is not undone by a rescaling), the regularizer on the
three Linear weight matrices (biases free), Adam moments (0.9, 0.999),
``lr = 1e-3``, batch 64. Methods:

* ``proxgen``: :class:`proxlab.torch.ProxGen` with ``l1``, ``l_two_thirds``,
  ``l_half`` or ``l0`` (``lam``);
* ``subgradient``: ``torch.optim.Adam`` on the data loss, with ``lam
  q |theta|^(q-1) sign(theta)`` (0 at ``theta = 0``) added to the gradient of
  each regularized weight — for ``l0`` that subgradient is 0 wherever it
  exists, so the method is plain Adam and its ``R`` counts every weight;
* ``prox_sgd`` (l1 only): :class:`proxlab.torch.ProxSGDYang` (proxgen.txt
  eqs (5)-(6), its defaults), whose parameter is an average of prox points;
  its prox point ``xhat`` carries the zeros and is measured too
  (``prox_sparsity``).

Rows are epochs: the objective ``F`` on the whole training set, test
accuracy, and the fraction of exactly-zero regularized weights.
"""

from __future__ import annotations

from . import _common as C

NAME = "proxgen"
DESCRIPTION = "ProxGen with l1, l2/3, l1/2, l0 vs subgradient training of the same objective (proxgen.txt Fig. 2)"
CLAIMS = ("proxgen.txt Fig. 2: ProxGen and subgradient methods converge alike for l1, the subgradient methods "
          "lag for l2/3 and l1/2 (large derivative of |theta|^q near 0); ProxGen gives exact zeros and similar or "
          "higher sparsity; subgradient methods give no exact zeros.")

REGULARIZERS = ("l1", "l_two_thirds", "l_half", "l0")
Q = {"l1": 1.0, "l_two_thirds": 2.0 / 3.0, "l_half": 0.5, "l0": 0.0}
METHODS = ("proxgen", "subgradient", "prox_sgd")

SPEC = {
    "method": ("proxgen", C.choice(*METHODS)),
    "regularizer": ("l1", C.choice(*REGULARIZERS)),
    "lam": (1e-4, C.real(0.0, low_open=True)),
    "lr": (1e-3, C.real(0.0, low_open=True)),
    "epochs": (30, C.integer(1, 10_000)),
    "batch_size": (64, C.integer(1)),
    "hidden": (128, C.integer(1)),
}

#: lam per regularizer (the value of R at the initial weights differs by orders
#: of magnitude between q = 1 and q = 0, so one lam would not fit all)
LAMS = {"l1": 3e-4, "l_two_thirds": 3e-4, "l_half": 3e-4, "l0": 1e-5}


def configs(quick):
    """Every (regularizer, method) at the lam of :data:`LAMS`; full: more epochs and seeds."""
    seeds, epochs, size = ([0], 12, "quick") if quick else ([0, 1, 2], 40, "full")
    out = []
    for seed in seeds:
        for reg in REGULARIZERS:
            for method in METHODS:
                if method == "prox_sgd" and reg != "l1":
                    continue
                out.append({"method": method, "regularizer": reg, "lam": LAMS[reg], "epochs": epochs, "seed": seed,
                            "size": size})
    return out


def mlp(hidden):
    """The miniature MLP (no normalization layer)."""
    import torch.nn as nn

    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


def reg_value(name, lam, weights):
    """``lam R(theta)`` summed over ``weights`` (``|theta|^0`` counts the non-zeros)."""
    total = 0.0
    for w in weights:
        a = w.detach().abs().double()
        total += float((a > 0).sum()) if name == "l0" else float(a.pow(Q[name]).sum())
    return lam * total


def add_subgradient(name, lam, weights):
    """Add ``lam q |w|^(q-1) sign(w)`` (0 where ``w = 0``) to each weight's gradient."""
    import torch

    q = Q[name]
    if q == 0.0:
        return  # the subgradient of ||.||_0 is 0 wherever it exists
    with torch.no_grad():
        for w in weights:
            if q == 1.0:
                g = torch.sign(w)
            else:
                a = w.abs()
                g = torch.where(a > 0, q * a.clamp_min(torch.finfo(w.dtype).tiny).pow(q - 1.0), torch.zeros_like(a))
                g = g * torch.sign(w)
            w.grad.add_(g, alpha=lam)


def task(config):
    """Train one (method, regularizer, lam, seed); one row per epoch (epoch 0 = start).

    Columns: ``method, regularizer, q, lam, seed, epoch, train_loss`` (data
    loss on the whole training set), ``reg`` (``lam R``), ``objective``
    (their sum), ``test_acc``, ``sparsity`` (exact zeros among the
    regularized weights), ``prox_sparsity`` (of the prox point, for
    ``prox_sgd``; equal to ``sparsity`` otherwise), ``prox_objective``
    (``F`` at the prox point for ``prox_sgd``; ``objective`` otherwise).
    """
    import pandas as pd
    import torch
    import torch.nn as nn

    import proxlab.torch as pt

    from ..torch import metrics

    cfg = C.check_config(config, SPEC)
    name, lam = cfg["regularizer"], cfg["lam"]
    if cfg["method"] == "prox_sgd" and name != "l1":
        raise ValueError(f"config['regularizer'] must be 'l1' for method 'prox_sgd' (Prox-SGD needs a convex "
                         f"regularizer), got {name!r}")
    rows = []
    with C.torch_session(cfg) as dev:
        data = C.digits_data(dev)
        model = mlp(cfg["hidden"]).to(dev)
        weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
        wid = {id(w) for w in weights}
        biases = [p for p in model.parameters() if id(p) not in wid]
        spec = (name, {"lam": lam})
        after = None
        if cfg["method"] == "proxgen":
            opt = pt.ProxGen([{"params": weights, "regularizer": spec}, {"params": biases}], lr=cfg["lr"])
        elif cfg["method"] == "prox_sgd":
            opt = pt.ProxSGDYang([{"params": weights, "regularizer": spec}, {"params": biases}])
        else:
            opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
            after = lambda: add_subgradient(name, lam, weights)  # noqa: E731
        get_prox = getattr(opt, "prox_point", None)
        gen = torch.Generator().manual_seed(cfg["seed"])

        def record(epoch):
            _, train_loss = C.evaluate(model, data["X"], data["y"])
            acc, _ = C.evaluate(model, data["X_test"], data["y_test"])
            r = reg_value(name, lam, weights)
            row = {"method": cfg["method"], "regularizer": name, "q": Q[name], "lam": lam, "seed": cfg["seed"],
                   "epoch": epoch, "train_loss": train_loss, "reg": r, "objective": train_loss + r, "test_acc": acc,
                   "sparsity": metrics.sparsity(weights)}
            row["prox_sparsity"], row["prox_objective"] = row["sparsity"], row["objective"]
            if get_prox is not None and any(get_prox(w) is not w for w in weights):
                row["prox_sparsity"] = metrics.sparsity(weights, tensor=get_prox)
                with torch.no_grad():
                    saved = [w.detach().clone() for w in weights]
                    for w in weights:
                        w.copy_(get_prox(w))
                    _, pl = C.evaluate(model, data["X"], data["y"])
                    row["prox_objective"] = pl + reg_value(name, lam, weights)
                    for w, s in zip(weights, saved):
                        w.copy_(s)
            rows.append(row)

        record(0)
        for epoch in range(1, cfg["epochs"] + 1):
            C.train_epoch(model, opt, data["X"], data["y"], batch_size=cfg["batch_size"], generator=gen,
                          after_backward=after)
            record(epoch)
    return pd.DataFrame(rows)


def summarize(table):
    """Final epoch per (regularizer, method), means over seeds: objective (and at
    the middle epoch, a measure of speed), test accuracy, sparsity of the
    weights, and of the prox point with its objective (Prox-SGD)."""
    t = table
    last = t[t["epoch"] == t.groupby("run_key")["epoch"].transform("max")]
    mid_epoch = t.groupby("run_key")["epoch"].transform("max") // 2
    mid = t[t["epoch"] == mid_epoch].groupby(["regularizer", "method"])["objective"].mean().rename("objective_mid")
    g = last.groupby(["regularizer", "method"], as_index=False).agg(
        lam=("lam", "first"), objective=("objective", "mean"), objective_std=("objective", "std"),
        test_acc=("test_acc", "mean"), sparsity=("sparsity", "mean"), prox_sparsity=("prox_sparsity", "mean"),
        prox_objective=("prox_objective", "mean"), seeds=("seed", "nunique"))
    g = g.merge(mid.reset_index(), on=["regularizer", "method"], how="left")
    order_r = {r: i for i, r in enumerate(REGULARIZERS)}
    order_m = {m: i for i, m in enumerate(METHODS)}
    g = g.assign(_r=g["regularizer"].map(order_r), _m=g["method"].map(order_m)).sort_values(["_r", "_m"])
    cols = ["regularizer", "method", "lam", "objective_mid", "objective", "objective_std", "test_acc", "sparsity",
            "prox_sparsity", "prox_objective", "seeds"]
    g = g[cols].reset_index(drop=True)
    num = ["objective_mid", "objective", "objective_std", "test_acc", "sparsity", "prox_sparsity", "prox_objective"]
    g[num] = g[num].round(4)
    return g


def figure(table):
    """See :func:`proxlab.figures.exp_proxgen.figure`."""
    from ..figures.exp_proxgen import figure as fig

    return fig(table)

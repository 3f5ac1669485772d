"""Figure of ``proxlab experiment proxgen``: proxgen.txt Fig. 2 in miniature."""

from __future__ import annotations

from ._experiments import footer

COLORS = {"proxgen": "C0", "subgradient": "C1", "prox_sgd": "C2"}
LABELS = {"proxgen": "ProxGen", "subgradient": "subgradient (Adam)", "prox_sgd": "Prox-SGD (Yang), weights"}
TITLES = {"l1": "l1", "l_two_thirds": "l2/3", "l_half": "l1/2", "l0": "l0"}


def figure(table):
    """2 x 4 panels from the results table of :func:`proxlab.experiments.proxgen.task`.

    Top: the objective ``f + lam R`` on the training set over epochs, one
    panel per regularizer (l1, l2/3, l1/2, l0); bottom: the fraction of exact
    zeros among the regularized weights (Prox-SGD: of its weights and, dotted,
    of its prox point). Means over seeds.

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    regs = [r for r in TITLES if r in set(table["regularizer"])]
    fig, axes = plt.subplots(2, max(1, len(regs)), figsize=(3.6 * max(1, len(regs)), 6.5), squeeze=False)
    for j, reg in enumerate(regs):
        sub = table[table["regularizer"] == reg]
        for method in ("proxgen", "subgradient", "prox_sgd"):
            m = sub[sub["method"] == method]
            if m.empty:
                continue
            c = m.groupby("epoch")[["objective", "sparsity", "prox_sparsity"]].mean()
            axes[0, j].plot(c.index, c["objective"], color=COLORS[method], label=LABELS[method])
            axes[1, j].plot(c.index, c["sparsity"], color=COLORS[method], label=LABELS[method])
            if method == "prox_sgd":
                axes[1, j].plot(c.index, c["prox_sparsity"], ":", color=COLORS[method],
                                label="Prox-SGD (Yang), prox point xhat")
        lam = sub["lam"].iloc[0]
        axes[0, j].set_title(f"{TITLES[reg]}, lam = {lam:g}: objective", fontsize=9)
        axes[0, j].set_yscale("log")
        axes[1, j].set_title(f"{TITLES[reg]}: exact zeros", fontsize=9)
        axes[1, j].set_ylim(-0.03, 1.03)
        axes[1, j].set_xlabel("epoch")
    axes[0, 0].set_ylabel("f(theta) + lam R(theta) (training set)")
    axes[1, 0].set_ylabel("fraction of regularized weights = 0")
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    fig.suptitle("ProxGen vs subgradient training of f + lam sum |theta|^q, MLP on 8x8 digits "
                 "(proxgen.txt Fig. 2 in miniature)", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return footer(fig, "proxgen", table, f"{int(table['epoch'].max())} epochs, Adam lr 1e-3, batch 64, "
                                         f"{table['seed'].nunique()} seed(s), means over seeds")

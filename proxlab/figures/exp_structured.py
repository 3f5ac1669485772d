"""Figure of ``proxlab experiment structured``: ramda.txt Table 7 and App. D in miniature."""

from __future__ import annotations

from ._experiments import footer

COLORS = {"ramda": "C0", "rmda": "C1", "proxgen": "C2", "prox_sgd": "C3", "proxssi": "C4", "msgd": "C7"}
LABELS = {"ramda": "RAMDA", "rmda": "RMDA", "proxgen": "ProxGen", "prox_sgd": "ProxSGD", "proxssi": "ProxSSI",
          "msgd": "MSGD (no regularizer)"}


def figure(table):
    """One row of panels per (data set, model) of the results table of
    :func:`proxlab.experiments.structured.task`: test accuracy and weighted
    group sparsity over epochs, of the structured model (the prox point for
    RAMDA / RMDA; the weights otherwise), means over seeds.

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

    combos = table[["dataset", "model"]].drop_duplicates().sort_values(["dataset", "model"]).values.tolist()
    fig, axes = plt.subplots(len(combos), 2, figsize=(11, 2.7 * len(combos) + 0.6), squeeze=False)
    for i, (ds, mo) in enumerate(combos):
        sub = table[(table["dataset"] == ds) & (table["model"] == mo)]
        for method in LABELS:
            m = sub[sub["method"] == method]
            if m.empty:
                continue
            c = m.groupby("epoch")[["prox_test_acc", "prox_weighted_group_sparsity"]].mean()
            axes[i, 0].plot(c.index, c["prox_test_acc"], color=COLORS[method], label=LABELS[method])
            axes[i, 1].plot(c.index, c["prox_weighted_group_sparsity"], color=COLORS[method], label=LABELS[method])
        lam = sub.loc[sub["method"] != "msgd", "lam"]
        tag = f"{ds} / {mo}" + (f", lam = {lam.iloc[0]:g}" if len(lam) else "")
        axes[i, 0].set_title(f"{tag}: test accuracy", fontsize=9)
        axes[i, 1].set_title(f"{tag}: weighted group sparsity", fontsize=9)
        axes[i, 0].set_ylabel("accuracy")
        axes[i, 1].set_ylabel("weighted group sparsity")
        axes[i, 1].set_ylim(-0.03, 1.0)
    axes[-1, 0].set_xlabel("epoch")
    axes[-1, 1].set_xlabel("epoch")
    axes[0, 1].legend(fontsize=7)
    fig.suptitle("Group lasso, structured model (RAMDA / RMDA: prox point): ramda.txt Table 7 / App. D in miniature",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return footer(fig, "structured", table, f"{int(table['epoch'].max())} epochs, batch 64, "
                                            f"{table['seed'].nunique()} seed(s), means over seeds")

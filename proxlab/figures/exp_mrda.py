"""Figure of ``proxlab experiment mrda``: mrda.txt Tables 1 and 4 in miniature."""

from __future__ import annotations

from ._experiments import footer

COLORS = {"mrda": "C0", "prox_sgd": "C1", "sqrt_t_prox_sgd": "C2", "sgd": "C3"}
LABELS = {"mrda": "MRDA", "prox_sgd": "prox-SGD", "sqrt_t_prox_sgd": "sqrt(t)-prox-SGD", "sgd": "SGD + momentum"}


def figure(table):
    """Three panels from the results table of :func:`proxlab.experiments.mrda.task`.

    (a) final test accuracy vs lam and (b) final sparsity sigma vs lam, per
    method at gamma = 1 (Table 1; the SGD baseline as a horizontal line);
    (c) final accuracy against sparsity for every (lam, gamma) (the trade-off
    behind Table 4; points below accuracy 0.5 are cut off).

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

    last = table["epoch"] == table.groupby("run_key")["epoch"].transform("max")
    fin = table[last]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    gamma0 = 1.0 if (fin["gamma"] == 1.0).any() else sorted(fin["gamma"].unique())[0]
    for method in ("mrda", "prox_sgd", "sqrt_t_prox_sgd"):
        sub = fin[(fin["method"] == method) & (fin["gamma"] == gamma0)]
        if sub.empty:
            continue
        g = sub.groupby("lam").agg(acc=("test_acc", "mean"), sig=("sparsity", "mean")).sort_index()
        axes[0].plot(g.index, g["acc"], "o-", color=COLORS[method], label=LABELS[method])
        axes[1].plot(g.index, g["sig"], "o-", color=COLORS[method], label=LABELS[method])
    sgd = fin[fin["method"] == "sgd"]
    if not sgd.empty:
        axes[0].axhline(sgd["test_acc"].mean(), color=COLORS["sgd"], ls="--", label=LABELS["sgd"])
        axes[1].axhline(sgd["sparsity"].mean(), color=COLORS["sgd"], ls="--", label=LABELS["sgd"])
    for ax, lab in zip(axes[:2], ("top-1 test accuracy", "sparsity sigma (eq 30)")):
        ax.set_xscale("log")
        ax.set_xlabel("lambda")
        ax.set_ylabel(lab)
        ax.set_title(f"{lab.split(' (')[0]} vs lambda, gamma = {gamma0:g}", fontsize=9)
    axes[0].legend(fontsize=7)
    g = fin.groupby(["method", "gamma", "lam"], as_index=False).agg(acc=("test_acc", "mean"),
                                                                     sig=("sparsity", "mean"))
    for (method, gamma), sub in g.groupby(["method", "gamma"]):
        sub = sub.sort_values("sig")
        axes[2].plot(sub["sig"], sub["acc"], "o-" if gamma == gamma0 else "s--", ms=4, color=COLORS[method],
                     label=f"{LABELS[method]}, gamma = {gamma:g}")
    axes[2].set_xlabel("sparsity sigma")
    axes[2].set_ylabel("top-1 test accuracy")
    axes[2].set_ylim(0.5, 1.0)
    axes[2].set_title("accuracy vs sparsity, every (lambda, gamma) (Table 4's trade-off)", fontsize=9)
    axes[2].legend(fontsize=6)
    fig.suptitle("MRDA vs prox-SGD vs sqrt(t)-prox-SGD vs SGD: l1 on a small CNN, 8x8 digits", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    seeds = table["seed"].nunique()
    epochs = int(table["epoch"].max())
    return footer(fig, "mrda", table, f"{epochs} epochs, batch 64, {seeds} seed(s), mean over seeds")

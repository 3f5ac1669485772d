"""Figure of ``proxlab experiment quant``: proxgen.txt Table 3 in miniature."""

from __future__ import annotations

from ._experiments import footer

COLORS = {"full_precision": "C7", "binaryconnect": "C4", "proxquant": "C1", "revised_q1": "C0",
          "revised_q23": "C2", "revised_q12": "C3"}
LABELS = {"full_precision": "full precision (real net)", "binaryconnect": "BinaryConnect", "proxquant": "ProxQuant",
          "revised_q1": "revised ProxQuant l1", "revised_q23": "revised ProxQuant l2/3",
          "revised_q12": "revised ProxQuant l1/2"}


def figure(table):
    """Three panels from the results table of :func:`proxlab.experiments.quant.task`.

    (a) test error of the binarized network vs lam per method (means over
    seeds; BinaryConnect and full precision as lines); (b) test error of the
    binary network over epochs and (c) fraction of weights exactly at +-1
    over epochs, each method at its lam of best validation accuracy (full
    precision left out of (b)-(c), BinaryConnect out of (c)).

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

    from ..experiments.quant import summarize

    last = table["epoch"] == table.groupby("run_key")["epoch"].transform("max")
    fin = table[last]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for method in ("proxquant", "revised_q1", "revised_q23", "revised_q12"):
        g = fin[fin["method"] == method].groupby("lam")["test_error_binary"].mean()
        if len(g):
            axes[0].plot(g.index, g.values, "o-", color=COLORS[method], label=LABELS[method])
    bc = fin[fin["method"] == "binaryconnect"]["test_error_binary"].mean()
    fp = 1.0 - fin[fin["method"] == "full_precision"]["test_acc_real"].mean()
    axes[0].axhline(bc, color=COLORS["binaryconnect"], ls="--", label=LABELS["binaryconnect"])
    axes[0].axhline(fp, color=COLORS["full_precision"], ls=":", label=LABELS["full_precision"])
    axes[0].set_xscale("log")
    axes[0].set_xlabel("lambda (homotopy lam_e = lam * epoch)")
    axes[0].set_ylabel("test error of the binarized network")
    axes[0].set_title("(a) test error vs lambda", fontsize=9)
    axes[0].legend(fontsize=7)
    best = summarize(table)
    for _, b in best.iterrows():
        if b["method"] == "full_precision":
            continue
        runs = table[(table["method"] == b["method"]) & (table["lam"] == b["lam"])]
        curve = runs.groupby("epoch")[["test_error_binary", "at_pm1"]].mean()
        lab = f"{LABELS[b['method']]} (lam={b['lam']:g})"
        axes[1].plot(curve.index, curve["test_error_binary"], color=COLORS[b["method"]], label=lab)
        if b["method"] != "binaryconnect":
            axes[2].plot(curve.index, curve["at_pm1"], color=COLORS[b["method"]], label=lab)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("test error of sign(w)")
    axes[1].set_title("(b) binarized test error over epochs (best lam by validation)", fontsize=9)
    axes[1].legend(fontsize=6)
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("fraction of quantized weights at exactly +-1")
    axes[2].set_title("(c) weights at +-1 over epochs", fontsize=9)
    axes[2].legend(fontsize=6)
    fig.suptitle("Binary quantization of a small MLP on 8x8 digits: ProxQuant vs revised ProxQuant", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.94))
    return footer(fig, "quant", table, f"{int(table['epoch'].max())} epochs, Adam lr 0.01, batch 64, "
                                       f"{table['seed'].nunique()} seed(s)")

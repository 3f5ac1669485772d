"""Figure of ``proxlab experiment ctr``: GA Table 2 / Fig. 1, Table 3, Fig. 3, Table 4 in miniature."""

from __future__ import annotations

from ._experiments import footer

COLORS = {"group_adam": "C0", "adam_pruned": "C1", "adam": "C3", "group_adagrad": "C2", "adagrad": "C4",
          "group_adam_l1": "C5", "group_adam_l21": "C0"}
LABELS = {"group_adam": "Group Adam", "adam_pruned": "Adam + magnitude pruning", "adam": "Adam",
          "group_adagrad": "Group Adagrad", "adagrad": "Adagrad", "group_adam_l1": "l1 (lam1 = v)",
          "group_adam_l21": "l21 (lam21 = v)"}
STYLES = {"mlp": "-", "dcn": "--"}


def _curve(ax, df, method, x, y, model, marker="o"):
    sub = df[df["method"] == method]
    if sub.empty:
        return
    keys = [k for k in ("lam1", "lam21", "dim") if k in sub]
    g = sub.groupby(keys, as_index=False)[[x, y]].mean().sort_values(x)
    ax.plot(g[x], g[y], STYLES.get(model, "-"), marker=marker, color=COLORS[method], ms=4,
            label=f"{LABELS[method]} ({model})")


def figure(table):
    """Up to six panels from the results table of :func:`proxlab.experiments.ctr.task`.

    (a) test AUC vs feature rate: Group Adam vs Adam + magnitude pruning at
    the same rate (best fine-tuning fraction by validation AUC), Adam at rate
    1 (GA Table 2 / Fig. 1); (b) the same for Adagrad / Group Adagrad (Table
    3); (c) recovery AUC of the truly relevant features vs feature rate;
    (d) feature rate vs lambda for l1 and l21 (Fig. 3); (e) feature rate vs
    embedding dimension (Table 4); (f) the feature rate in the fields that
    carry no signal. Means over seeds; MLP solid, DCN dashed.

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

    t = table[table["selected"]]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    ax = axes.ravel()
    pr = t[t["panel"] == "pruning"]
    ag = t[t["panel"] == "adagrad"]
    for model in sorted(t["model"].unique()):
        p = pr[pr["model"] == model]
        a = ag[ag["model"] == model]
        for m in ("group_adam", "adam_pruned", "adam"):
            _curve(ax[0], p, m, "feature_rate", "auc", model)
            _curve(ax[2], p, m, "feature_rate", "recovery_auc", model)
            _curve(ax[5], p, m, "feature_rate", "irrelevant_field_rate", model)
        for m in ("group_adagrad", "adagrad"):
            _curve(ax[1], a, m, "feature_rate", "auc", model)
            _curve(ax[2], a, m, "feature_rate", "recovery_auc", model, marker="s")
            _curve(ax[5], a, m, "feature_rate", "irrelevant_field_rate", model, marker="s")
    bayes = table["bayes_auc"].mean()
    for a_ in ax[:2]:
        a_.axhline(bayes, color="0.6", lw=0.8, ls=":", label=f"true model (AUC {bayes:.3f})")
    ax[0].set_title("(a) Group Adam vs Adam + pruning at equal feature rate", fontsize=9)
    ax[1].set_title("(b) Group Adagrad vs Adagrad", fontsize=9)
    ax[2].set_title("(c) recovery of the truly relevant features", fontsize=9)
    ax[2].axhline(0.5, color="0.6", lw=0.8, ls=":", label="chance")
    ax[5].set_title("(f) features kept in the fields without signal", fontsize=9)
    for a_, lab in ((ax[0], "test AUC"), (ax[1], "test AUC"), (ax[2], "AUC of row norms: relevant vs not"),
                    (ax[5], "feature rate in no-signal fields")):
        a_.set_xscale("log")
        a_.set_xlabel("feature rate (non-zero rows / rows present)")
        a_.set_ylabel(lab)
        if a_.lines:
            a_.legend(fontsize=6)
    l1 = t[t["panel"] == "l1_vs_l21"]
    if not l1.empty:
        for model in sorted(l1["model"].unique()):
            sub = l1[l1["model"] == model].assign(v=lambda d: d[["lam1", "lam21"]].max(axis=1))
            for m in ("group_adam_l1", "group_adam_l21"):
                g = sub[sub["method"] == m].groupby("v")["feature_rate"].mean()
                ax[3].plot(g.index, g.values, STYLES.get(model, "-"), marker="o", ms=4, color=COLORS[m],
                           label=f"{LABELS[m]} ({model})")
        ax[3].set_xscale("log")
        ax[3].set_xlabel("regularization value v")
        ax[3].set_ylabel("feature rate")
        ax[3].legend(fontsize=6)
    else:
        ax[3].text(0.5, 0.5, "no l1_vs_l21 panel in this table", ha="center", va="center", fontsize=8)
    ax[3].set_title("(d) l1 vs l21 at equal lambda (GA Fig. 3)", fontsize=9)
    dm = t[t["panel"] == "dim"]
    if not dm.empty:
        for model in sorted(dm["model"].unique()):
            sub = dm[(dm["model"] == model) & (dm["method"] == "group_adam")]
            g = sub.groupby("dim")[["feature_rate", "auc"]].mean()
            ax[4].plot(g.index, g["feature_rate"], STYLES.get(model, "-"), marker="o", color=COLORS["group_adam"],
                       label=f"Group Adam, lam21 = {sub['lam21'].iloc[0]:g} ({model})")
        ax[4].set_xscale("log", base=2)
        ax[4].set_xlabel("embedding dimension")
        ax[4].set_ylabel("feature rate")
        ax[4].legend(fontsize=6)
    else:
        ax[4].text(0.5, 0.5, "no dim panel in this table (full run only)", ha="center", va="center", fontsize=8)
    ax[4].set_title("(e) feature rate vs embedding dimension (GA Table 4)", fontsize=9)
    fig.suptitle("Group Adam / Group Adagrad on a synthetic Criteo-like CTR problem (GA Sec 4 in miniature)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.03, 1, 0.96))
    n = int(table["n_features_present"].max())
    seeds = table["seed"].nunique()
    return footer(fig, "ctr", table, f"{n} features present, one pass, batch 512, {seeds} seed(s), means over seeds")

"""Figure of the ``manifold`` study (ramda.txt Thm 3, App. D): a pure function
of the study's table (:mod:`proxlab.simulations.studies.manifold`)."""

from __future__ import annotations

import numpy as np

COLORS = {"ramda": "#d62728", "rmda": "#ff7f0e", "proxgen": "#1f77b4", "prox_sgd_yang": "#2ca02c",
          "proxssi": "#9467bd"}
#: line widths: ProxGen wide under a thin ProxSSI, which coincides with it after the first steps
WIDTHS = {"proxgen": 2.4, "proxssi": 0.9}
LABELS = {"ramda": "RAMDA", "rmda": "RMDA", "proxgen": "ProxGen", "prox_sgd_yang": "ProxSGD (Yang)",
          "proxssi": "ProxSSI"}


def command_footer(table, study):
    """The ``proxlab simulate`` command that made ``table`` (from its ``size`` column)."""
    quick = "size" in table.columns and (table["size"] == "quick").any()
    return f"proxlab simulate {study}{' --quick' if quick else ''}"


def manifold_figure(table):
    """Active-set traces per problem (rows) of the first seed.

    Columns: (a) number of non-zero groups of the prox point (solid) and of the
    iterate (dashed, drawn where it differs: RAMDA, RMDA, ProxSGD), with the
    optimum's count as a grey line; (b) Hamming distance of the prox point's
    active set to the optimum's; (c) cumulative number of snapshots at which the
    prox point's active set changed (flat = identified). The footer gives the
    command and the configuration.

    Parameters
    ----------
    table : pandas.DataFrame
        The ``manifold`` study's table.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    problems = [p for p in ("synthetic", "digits", "mnist1d") if p in set(table["problem"])]
    problems += sorted(set(table["problem"]) - set(problems))
    fig, axes = plt.subplots(len(problems), 3, figsize=(14, 3.2 * len(problems) + 0.8), squeeze=False)
    seed = int(table["seed"].min())
    for i, prob in enumerate(problems):
        sub = table[(table["problem"] == prob) & (table["seed"] == seed)]
        ax_a, ax_d, ax_c = axes[i]
        for method in [m for m in COLORS if m in set(sub["method"])]:
            c = COLORS[method]
            lw = WIDTHS.get(method, 1.4)
            pp = sub[(sub["method"] == method) & (sub["point"] == "prox_point")].sort_values("record")
            it = sub[(sub["method"] == method) & (sub["point"] == "iterate")].sort_values("record")
            ax_a.plot(pp["epoch"], pp["n_active"], color=c, lw=lw, label=LABELS.get(method, method))
            if len(it) and not np.array_equal(it["n_active"].to_numpy(), pp["n_active"].to_numpy()):
                ax_a.plot(it["epoch"], it["n_active"], color=c, lw=1.0, ls="--", alpha=0.7)
            ax_d.plot(pp["epoch"], pp["dist_opt"], color=c, lw=lw, label=LABELS.get(method, method))
            ax_c.plot(pp["epoch"], np.cumsum(pp["changed"].to_numpy()), color=c, lw=lw,
                      label=LABELS.get(method, method))
        opt = int(sub["opt_active"].iloc[0])
        ngr = int(sub["n_groups"].iloc[0])
        ax_a.axhline(opt, color="0.5", lw=0.8, ls=":")
        ax_a.set_ylabel(f"{prob}\nnon-zero groups (of {ngr})")
        ax_d.set_ylabel("|S(prox point) xor S(x*)|")
        ax_d.set_yscale("symlog", linthresh=1)
        ax_d.set_yticks([0, 1, 2, 5, 10, 20, 50])
        ax_d.set_yticklabels(["0", "1", "2", "5", "10", "20", "50"])
        ax_c.set_ylabel("snapshots with a change (cumul.)")
        rmax = sub["nondeg_ratio_max"].iloc[0]
        anorm = sub["active_norm_min"].iloc[0]
        ax_d.set_title(f"lam={sub['lam'].iloc[0]:g}; x*: {opt} groups, max rho_g={rmax:.3f}, "
                       f"min ||x*_g||/sqrt|g|={anorm:.2g}", fontsize=8)
        for ax in (ax_a, ax_d, ax_c):
            ax.grid(alpha=0.3)
            if i == len(problems) - 1:
                ax.set_xlabel("epoch")
    axes[0, 0].set_title("(a) active groups: prox point (solid), iterate (dashed)", fontsize=9)
    axes[0, 2].set_title("(c) cumulative active-set changes of the prox point", fontsize=9)
    axes[0, 2].legend(fontsize=8, loc="upper left")
    cfg = []
    for prob in problems:
        s = table[table["problem"] == prob].iloc[0]
        cfg.append(f"{prob}: lam={s['lam']:g}, batch={int(s['batch_size']) if 'batch_size' in s else '?'}, "
                   f"epochs={int(s['epochs']) if 'epochs' in s else '?'}")
    seeds = sorted(set(int(v) for v in table["seed"]))
    fig.suptitle("Manifold identification on group-lasso logistic regression (ramda.txt Thm 3, App. D); "
                 f"seed {seed} shown of {seeds}", fontsize=11)
    fig.text(0.01, 0.005, f"{command_footer(table, 'manifold')}   |   " + "; ".join(cfg)
             + "   |   dotted grey: the certified optimum's count", fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig

r"""Figure of the ``support`` study: Lasso support recovery over iterations
(proxgen.txt Sec 5, Study 1) and the phase transition of exact support
recovery against :math:`n / (s\log p)`.

A pure function of the study's table (:mod:`proxlab.simulations.studies.support`).
Left columns, one per trace setting (start x lambda scale): F1 of the support
of the iterate against the true support (mean over seeds), the estimation error
:math:`\|\theta_t - \theta^\natural\|_2` (median) and the number of non-zeros
(median), against the step; the exact Lasso solution is the dashed black line.
Right column: the probability of exact support recovery against
:math:`n/(s\log p)` for each method and the exact Lasso, from a zero start
(top) and a random start (middle), and the final F1 (bottom).
"""

from __future__ import annotations

import numpy as np

STYLE = {
    "prox_sgd (x)": {"color": "tab:red", "ls": "-"},
    "prox_sgd (x_hat)": {"color": "tab:orange", "ls": "--"},
    "proxgen": {"color": "tab:blue", "ls": "-"},
    "rda": {"color": "tab:green", "ls": "-"},
    "mrda": {"color": "tab:purple", "ls": ":"},
    "lasso (exact)": {"color": "black", "ls": "--"},
}


def _style(method):
    return STYLE.get(method, {"color": "tab:gray", "ls": "-"})


def support_figure(table):
    """Figure of a ``support`` table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`proxlab.simulations.studies.support.task` (columns
        ``part, init, lam_scale, seed, method, step, f1, err_truth, nnz,
        exact_support, ratio``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..simulations.studies.support import phase_table

    tr = table[table["part"] == "trace"]
    lam_scale = tr["lam_scale"] if "lam_scale" in tr else 1.0
    tr = tr.assign(lam_scale=lam_scale)
    settings = list(dict.fromkeys(zip(tr["init"], tr["lam_scale"].astype(float))))
    has_phase = (table["part"] == "phase").any()
    ncols = max(1, len(settings)) + (1 if has_phase else 0)
    fig, axes = plt.subplots(3, ncols, figsize=(4.3 * ncols, 9.6), squeeze=False)
    methods = [m for m in STYLE if m in set(table["method"])]
    for j, (init, ls) in enumerate(settings):
        sub = tr[(tr["init"] == init) & (tr["lam_scale"].astype(float) == ls)]
        for method in methods:
            g = sub[sub["method"] == method]
            if g.empty:
                continue
            st = _style(method)
            if method == "lasso (exact)":
                for i, col in enumerate(("f1", "err_truth", "nnz")):
                    v = g[col].mean() if col == "f1" else g[col].median()
                    axes[i, j].axhline(v, color=st["color"], ls=st["ls"], lw=1.2, label=method)
                continue
            agg = g.groupby("step").agg(f1=("f1", "mean"), err=("err_truth", "median"), nnz=("nnz", "median"))
            steps = agg.index.to_numpy(dtype=float)
            axes[0, j].plot(steps, agg["f1"], label=method, lw=1.5, **st)
            axes[1, j].plot(steps, agg["err"], label=method, lw=1.5, **st)
            axes[2, j].plot(steps, agg["nnz"], label=method, lw=1.5, **st)
        n_seeds = sub["seed"].nunique() if "seed" in sub else 1
        lam = sub["lam"].iloc[0] if len(sub) else float("nan")
        axes[0, j].set_title(f"{init} start, $\\lambda$ = {ls:g} x theory ({lam:.3g})\n"
                             f"n={int(sub['n'].iloc[0])}, p={int(sub['p'].iloc[0])}, s={int(sub['s'].iloc[0])}, "
                             f"{n_seeds} seeds", fontsize=9)
        axes[0, j].set_ylabel("F1 of the support")
        axes[0, j].set_ylim(-0.03, 1.03)
        axes[1, j].set_ylabel(r"$\|\theta_t - \theta^\natural\|_2$")
        axes[1, j].set_yscale("log")
        axes[2, j].set_ylabel("non-zeros")
        axes[2, j].set_yscale("symlog", linthresh=1.0)
        axes[2, j].set_ylim(bottom=0.0)
        axes[2, j].set_xlabel("step")
        for i in range(3):
            axes[i, j].grid(True, alpha=0.3)
        if j == 0:
            axes[0, j].legend(fontsize=7, loc="lower right")
    if has_phase:
        ph = phase_table(table)
        j = ncols - 1
        for i, init in enumerate(("zeros", "random")):
            ax = axes[i, j]
            sub = ph[ph["init"] == init]
            for method in methods:
                g = sub[sub["method"] == method].sort_values("ratio")
                if g.empty:
                    continue
                ax.plot(g["ratio"], g["p_exact"], marker="o", ms=3, lw=1.5, label=method, **_style(method))
            ax.axvline(2.0, color="0.5", lw=0.8, ls=":")
            runs = int(sub["runs"].max()) if len(sub) else 0
            if sub.empty:
                ax.text(0.5, 0.5, f"no {init}-start phase runs in this table", ha="center", va="center",
                        transform=ax.transAxes, fontsize=8)
            ax.set_title(f"P(exact support), {init} start ({runs} seeds per point)", fontsize=9)
            ax.set_ylabel("P(supp = true support)")
            ax.set_ylim(-0.03, 1.03)
            ax.grid(True, alpha=0.3)
            if i == 0:
                ax.legend(fontsize=7, loc="upper left")
        ax = axes[2, j]
        phz = table[(table["part"] == "phase") & (table["init"] == "zeros")]
        for method in methods:
            g = phz[phz["method"] == method].groupby("ratio")["f1"].mean()
            if len(g):
                ax.plot(g.index, g.to_numpy(), marker="o", ms=3, lw=1.5, label=method, **_style(method))
        ax.axvline(2.0, color="0.5", lw=0.8, ls=":")
        ax.set_title("final F1, zero start", fontsize=9)
        ax.set_ylabel("F1")
        ax.set_xlabel(r"$n / (s \log p)$")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(True, alpha=0.3)
    fig.suptitle("Lasso support recovery (proxgen.txt Sec 5, Study 1) and the exact-recovery phase transition "
                 "(dotted: n = 2 s log p)", fontsize=10)
    fig.text(0.5, 0.0, _footer(table), ha="center", va="top", fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    return fig


def _footer(table):
    quick = bool(table["quick"].astype(bool).any()) if "quick" in table else False
    cmd = "proxlab simulate support" + (" --quick" if quick else "")
    parts = [f"command: {cmd}"]
    for key in ("sigma", "beta_min", "batch_size", "epochs"):
        if key in table:
            vals = sorted({str(v) for v in table[key].dropna().unique()})
            if vals:
                parts.append(f"{key}={'/'.join(vals)}")
    if "hyper" in table:
        hp = table[["method", "hyper"]].drop_duplicates()
        hp = hp[hp["hyper"].astype(str) != ""]
        parts.append("step sizes: " + "; ".join(f"{m} {h}" for m, h in zip(hp["method"], hp["hyper"])))
    return "   ".join(parts)

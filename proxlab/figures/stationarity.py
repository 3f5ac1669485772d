"""Figure of the ``stationarity`` study (proxgen.txt Cor 1, mrda.txt Thm 3.1):
a pure function of the study's table (:mod:`proxlab.simulations.studies.stationarity`)."""

from __future__ import annotations

import numpy as np

from .manifold import command_footer

STYLE = {("l1", "linear"): ("#1f77b4", "-"), ("mcp", "linear"): ("#d62728", "-"),
         ("l1", "constant"): ("#1f77b4", ":"), ("mcp", "constant"): ("#d62728", ":")}


def _ref_line(ax, x, y_end, slope, label):
    """A line of the given slope ending at ``(x[-1], y_end)`` (parallel to a curve's tail)."""
    x = np.asarray([x[0], x[-1]], dtype=np.float64)
    ax.plot(x, y_end * (x / x[-1]) ** slope, color="0.55", lw=1.0, ls="--", label=label)


def stationarity_figure(table):
    """Four log-log panels.

    (a), (b): the seed mean of E_a dist(0, dF(theta_a))^2 against T for ProxGen
    in the "theory" and the "practical" setting, l1 (blue) and MCP (red), batch
    b = T / b_div (solid, Corollary 1) and constant b (dotted, outside it), with
    a slope -1 reference. (c): ``T`` times the same (the sum of dist^2 that
    Theorem 1 bounds): flat when the rate is 1/T. (d): the seed mean of
    phi(w_bar_t) - phi* for RDA and
    the modified RDA against t, with the measured bound Delta_t / t of eq (58)
    (corrected form, dashed) and a slope -1/2 reference. Legends carry the
    fitted tail slopes.

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

    from ..simulations.studies.stationarity import fit_slope, mrda_curves, proxgen_curves, tail_start

    fig, axs = plt.subplots(2, 2, figsize=(14, 10.5))
    axes = [axs[0, 0], axs[0, 1], axs[1, 1]]
    ax_te = axs[1, 0]
    pg = table[table["part"] == "proxgen"]
    if len(pg):
        cur = proxgen_curves(table)
        start = tail_start(pg["T"])
        for ax, setting in zip(axes[:2], ("theory", "practical")):
            sub = cur[cur["setting"] == setting]
            for (reg, batch), g in sub.groupby(["regularizer", "batch"], sort=False):
                col, ls = STYLE.get((reg, batch), ("k", "-"))
                slope = fit_slope(g["T"], g["value"], start)
                bl = "b=T/16" if batch == "linear" else f"b={int(g['b'].iloc[0])}"
                if batch == "linear" and "b_div" in pg.columns:
                    bl = f"b=T/{int(pg['b_div'].iloc[0])}"
                ax.plot(g["T"], g["value"], color=col, ls=ls, marker="o", ms=3,
                        label=f"{reg}, {bl}: slope {slope:.2f}")
            if len(sub):
                lin = sub[sub["batch"] == "linear"]
                ref = lin if len(lin) else sub
                Ts = np.sort(ref["T"].unique())
                _ref_line(ax, Ts, 0.5 * float(ref[ref["T"] == Ts[-1]]["value"].min()), -1.0, "slope -1 (Cor 1)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("T (steps)")
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=8)
        for setting, ls in (("theory", "-"), ("practical", "--")):
            for reg in ("l1", "mcp"):
                g = cur[(cur["setting"] == setting) & (cur["regularizer"] == reg) & (cur["batch"] == "linear")]
                if len(g):
                    ax_te.plot(g["T"], g["T"] * g["value"], color=STYLE[(reg, "linear")][0], ls=ls, marker="o",
                               ms=3, label=f"{setting}, {reg}, b = Theta(T)")
                g = cur[(cur["setting"] == setting) & (cur["regularizer"] == reg) & (cur["batch"] == "constant")]
                if len(g):
                    ax_te.plot(g["T"], g["T"] * g["value"], color=STYLE[(reg, "linear")][0], ls=ls, lw=0.8,
                               alpha=0.45, label=f"{setting}, {reg}, b const")
        ax_te.set_xscale("log")
        ax_te.set_yscale("log")
        ax_te.set_xlabel("T (steps)")
        ax_te.set_ylabel("T * E_a dist^2  (= sum_t dist_t^2)")
        ax_te.set_title("(c) T * E_a dist^2: bounded (flat) iff O(1/T); grows like T for a plateau", fontsize=9)
        ax_te.grid(alpha=0.3, which="both")
        ax_te.legend(fontsize=7)
        raw = pg[pg["setting"] == "theory"]
        held = bool(raw["stepsize_held"].all() and raw["c3iii_held"].all()) if len(raw) else False
        axes[0].set_title("(a) ProxGen, 'theory' setting: beta1=0, delta=1, alpha=delta/(3L)\n"
                          f"(Thm 1 step-size and (C-3)(iii) held: {held})", fontsize=9)
        axes[1].set_title("(b) ProxGen, 'practical' setting: Adam defaults, alpha=1e-2, delta=1e-8\n"
                          "(alpha > delta/(3L) and constant rho_t = 0.9: hypotheses violated)", fontsize=9)
        axes[0].set_ylabel("E_a dist(0, dF(theta_a))^2   (mean over seeds)")
    md = table[table["part"] == "mrda"]
    ax = axes[2]
    if len(md):
        cur = mrda_curves(table)
        for method, col in (("rda", "#2ca02c"), ("mrda", "#9467bd")):
            g = cur[cur["method"] == method]
            if not len(g):
                continue
            slope = fit_slope(g["t"], g["value"], 100)
            ax.plot(g["t"], g["value"], color=col, lw=1.6, label=f"{method}: phi(w_bar_t) - phi*, slope {slope:.2f}")
            ax.plot(g["t"], g["bound"], color=col, lw=1.0, ls="--", label=f"{method}: Delta_t / t (58), measured")
        ts = np.sort(cur["t"].unique())
        _ref_line(ax, ts, 0.5 * float(cur[cur["t"] == ts[-1]]["value"].min()), -0.5, "slope -1/2 (Thm 3.1)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("t (steps, one i.i.d. row each)")
        ax.set_ylabel("E phi(w_bar_t) - phi*   (mean over seeds)")
        ax.set_title("(d) RDA / modified RDA, l1, beta_t = sqrt(t)\n(phi* certified: CVXPY + FISTA polish)",
                     fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    seeds_pg = pg["seed"].nunique() if len(pg) else 0
    seeds_md = md["seed"].nunique() if len(md) else 0
    fig.suptitle("Rates: proxgen.txt Cor 1 (E dist^2 = O(1/T) with b = Theta(T)) and mrda.txt Thm 3.1 "
                 "(E phi(w_bar_t) - phi* = O(1/sqrt t))", fontsize=11)
    fig.text(0.01, 0.005, f"{command_footer(table, 'stationarity')}   |   logistic regression, i.i.d. rows; "
             f"ProxGen: n=50, m=4000, lam=0.02, {seeds_pg} seeds per point; RDA/MRDA: n=20, m=2000, "
             f"lam=0.01, {seeds_md} seeds", fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    return fig

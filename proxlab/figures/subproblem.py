"""Figure of the ``subproblem`` study (ramda.txt Thm 1, Algorithm 2): a pure
function of the study's table (:mod:`proxlab.simulations.studies.subproblem`)."""

from __future__ import annotations

import numpy as np

from .manifold import command_footer

MARKERS = {"exact": "o", "pg(7)": "s", "pg-public": "^", "newton": "D"}


def _curve_groups(curves):
    keys = list(dict.fromkeys(zip(curves["label"], curves["regularizer"])))
    return [(lab, reg, curves[(curves["label"] == lab) & (curves["regularizer"] == reg)]) for lab, reg in keys]


def subproblem_figure(table):
    """Four panels.

    (a) PG iterations to reach condition (7) against ``1/eps_rel`` on a log x axis
    and a linear y axis, convex instances: a straight line is the O(log 1/eps)
    order of the main text; (b) the same for the nonconvex instances. (c) All
    curves on log-log axes with reference slopes 1 (the appendix's
    convex O(1/eps)) and 2 (the nonconvex O(eps^-2) bound): a curve that
    flattens (local slope -> 0) is faster than any power. Seed-averaged
    iterations; convex solid, nonconvex dashed. (d) Median time against the
    relative residual dist(0, dQ(x)) / r0 of each solver (exact root, PG to (7)
    at eps_rel = 1e-6, PG with the public code's stop, Newton).

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

    from ..simulations.studies.subproblem import fit_orders

    curves = table[table["part"] == "curve"]
    solv = table[table["part"] == "solver"]
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    ax_a, ax_n, ax_b, ax_c = axes.ravel()
    groups = _curve_groups(curves)
    cmap = plt.get_cmap("tab20")
    colors = {}
    for k, (lab, reg, cs) in enumerate(groups):
        col = cmap(k % 20)
        colors[(lab, reg)] = col
        mean = cs.groupby("eps_rel")["iterations"].mean().sort_index(ascending=False)
        capped = cs.assign(converged=np.asarray(cs["converged"], dtype=bool)).groupby("eps_rel")["converged"].all()
        capped = capped.reindex(mean.index)
        inv = 1.0 / mean.index.to_numpy()
        ls = "-" if bool(cs["convex"].iloc[0]) else "--"
        fits = [fit_orders(g) for _, g in cs.groupby("seed")]
        b = np.mean([f["b"] for f in fits])
        pt = np.mean([f["p_tail"] for f in fits])
        kap = cs.groupby("seed")["kappa"].first().mean()
        name = f"{lab} {reg} (kappa={kap:.3g}; b={b:.3g}/ln, tail slope={pt:.2f})"
        ax_lin = ax_a if ls == "-" else ax_n
        for ax in (ax_lin, ax_b):
            ax.plot(inv, mean.to_numpy(), ls=ls, marker=".", color=col, lw=1.2, label=name if ax is ax_lin else None)
            bad = ~np.asarray(capped.to_numpy(), dtype=bool)
            if bad.any():
                ax.plot(inv[bad], mean.to_numpy()[bad], "x", color="k", ms=8)
    for ax in (ax_a, ax_n):
        ax.set_xscale("log")
        ax.set_xlabel("1 / eps_rel")
        ax.set_ylabel("PG iterations to condition (7)")
        ax.legend(fontsize=7, loc="upper left")
    ax_a.set_title("(a) convex (group lasso): a straight line = main text's O(log 1/eps)", fontsize=10)
    ax_n.set_title("(b) nonconvex (MCP, l_1/2; elementwise): straight = O(log 1/eps), bound O(eps^-2)",
                   fontsize=10)
    ax_b.set_xscale("log")
    ax_b.set_yscale("log")
    ax_b.set_xlabel("1 / eps_rel")
    ax_b.set_title("(c) all, log-log; grey: slopes 1 (appendix O(1/eps)) and 2 (O(eps^-2))", fontsize=10)
    if len(curves):
        x0 = 1.0 / curves["eps_rel"].max()
        y0 = max(1.0, float(curves["iterations"].median()))
        xs = np.array([x0, 1.0 / curves["eps_rel"].min()])
        for p in (1.0, 2.0):
            ys = y0 * (xs / x0) ** p
            keep = ys <= 10 * curves["iterations"].max()
            ax_b.plot(xs[keep] if keep.all() else [x0, x0 * (10 * curves["iterations"].max() / y0) ** (1 / p)],
                      ys[keep] if keep.all() else [y0, 10 * curves["iterations"].max()],
                      color="0.6", lw=1, ls=":")
            ax_b.annotate(f"slope {p:g}", (x0 * 3, y0 * 3 ** p), fontsize=8, color="0.4")
    for (lab, reg), col in colors.items():
        ss = solv[(solv["label"] == lab) & (solv["regularizer"] == reg)]
        for name, mk in MARKERS.items():
            s = ss[ss["solver"] == name]
            if len(s):
                res = np.maximum(s["rel_residual"].to_numpy(), 1e-18)
                ax_c.scatter(res, s["seconds"].to_numpy() * 1e6, marker=mk, color=col, s=28, alpha=0.85)
    for name, mk in MARKERS.items():
        ax_c.scatter([], [], marker=mk, color="0.3", label=name)
    ax_c.set_xscale("log")
    ax_c.set_yscale("log")
    ax_c.set_xlabel("dist(0, dQ(x)) / r0   (floored at 1e-18)")
    ax_c.set_ylabel("median time per solve (us)")
    ax_c.set_title("(d) exact root vs PG vs Newton (colour = instance)", fontsize=10)
    ax_c.legend(fontsize=8)
    for ax in axes.ravel():
        ax.grid(alpha=0.3, which="both")
    eps = sorted(set(curves["eps_rel"]))
    fig.suptitle("ramda.txt Thm 1: PG (Alg. 2) iterations to reach (7); exact vs PG vs Newton", fontsize=11)
    fig.text(0.01, 0.005, f"{command_footer(table, 'subproblem')}   |   eps_rel in [{eps[0]:.0e}, {eps[-1]:.0e}], "
             "relative to r0 = dist(0, dQ(x0)); seeds averaged; x: PG hit max_iter", fontsize=7, ha="left",
             va="bottom")
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    return fig

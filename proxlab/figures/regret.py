r"""Figure of the ``regret`` study: :math:`\mathcal R_T` against ``T`` on log-log
axes, one panel per problem, with each method's bound curves.

A pure function of the study's table (:mod:`proxlab.simulations.studies.regret`):
it never runs an optimizer. Solid lines: the median over seeds of the measured
regret (GA eq (7) for the Group family and FTRL, mrda.txt eq (48) for RDA,
MRDA and ProxGen); markers where a grid point's comparator is not certified
(e.g. separable logistic data at small ``T``) are left out, and so are
non-positive regrets (log axes). Dashed: the corrected bound (GA eq (14) with
the ``t = 1`` term on :math:`h_1`; mrda.txt eq (49) plus
:math:`\langle g_1, w_1 - w_0\rangle`); dotted: the bound as printed; dash-dot:
GA eq (20) (Group Adagrad only); all medians over seeds, in the method's
colour. The legend gives the fitted slope of :math:`\log\mathcal R_T` against
:math:`\log T` (median over seeds, :func:`~proxlab.simulations.studies.regret.fit_slopes`).
A grey reference line of slope 1/2 is drawn in every panel.
"""

from __future__ import annotations

import numpy as np

_ORDER = ["group_adagrad", "group_adagrad (exact)", "group_adam", "group_adam (exact)", "ftrl", "rda", "mrda",
          "proxgen"]


def _colors(methods):
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    known = {m: cmap(i) for i, m in enumerate(_ORDER)}
    out = {}
    extra = len(_ORDER)
    for m in methods:
        if m not in known:
            known[m] = cmap(extra % 10)
            extra += 1
        out[m] = known[m]
    return out


def _median_curve(g, column):
    """Median over seeds of ``column`` per ``T`` (certified comparators, finite values)."""
    use = g[g["cmp_ok"].astype(bool)]
    if column not in use or use[column].isna().all():
        return None, None
    m = use.groupby("T")[column].median()
    return m.index.to_numpy(dtype=float), m.to_numpy(dtype=float)


def regret_figure(table):
    """Figure of a ``regret`` table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`proxlab.simulations.studies.regret.task` (columns
        ``problem, seed, method, T, regret, cmp_ok, bound_printed,
        bound_corrected, bound_cor20``; ``quick`` and the configuration
        columns are used for the footer when present).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from ..simulations.studies.regret import fit_slopes

    problems = list(dict.fromkeys(table["problem"]))
    methods = [m for m in _ORDER if m in set(table["method"])] + sorted(set(table["method"]) - set(_ORDER))
    colors = _colors(methods)
    slopes = fit_slopes(table).groupby(["problem", "method"])["slope"].median()
    from matplotlib.ticker import LogLocator, NullFormatter

    fig, axes = plt.subplots(1, len(problems), figsize=(6.0 * len(problems), 5.6), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        sub = table[table["problem"] == problem]
        Tall = np.sort(sub["T"].unique()).astype(float)
        for method in methods:
            g = sub[sub["method"] == method]
            if g.empty:
                continue
            c = colors[method]
            T, R = _median_curve(g, "regret")
            if T is None:
                continue
            pos = R > 0
            slope = slopes.get((problem, method), np.nan)
            label = f"{method} (slope {slope:.2f})" if np.isfinite(slope) else f"{method} (slope n/a)"
            ax.plot(T[pos], R[pos], "-o", color=c, lw=1.6, ms=3, label=label)
            for col, style in (("bound_corrected", "--"), ("bound_printed", ":"), ("bound_cor20", "-.")):
                Tb, Bv = _median_curve(g, col)
                if Tb is None:
                    continue
                ok = np.isfinite(Bv) & (Bv > 0)
                ax.plot(Tb[ok], Bv[ok], style, color=c, lw=1.0, alpha=0.85)
        if Tall.size:
            ref_T = np.array([Tall[0], Tall[-1]])
            pos = sub["regret"][(sub["regret"] > 0) & sub["cmp_ok"].astype(bool)]
            if len(pos):
                anchor = float(np.median(pos[sub["T"] == Tall[-1]])) if (sub["T"] == Tall[-1]).any() else 1.0
                if not np.isfinite(anchor) or anchor <= 0:
                    anchor = float(pos.median())
                ax.plot(ref_T, anchor * np.sqrt(ref_T / ref_T[-1]), color="0.6", lw=3, alpha=0.35, zorder=0)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=2))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("T")
        ax.set_ylabel(r"regret $\mathcal{R}_T$")
        ax.set_title(problem)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=6.5, loc="upper left")
    style = [Line2D([], [], color="k", ls="-", label="measured regret (median over seeds)"),
             Line2D([], [], color="k", ls="--", label="bound, corrected (GA (14) / MRDA (49))"),
             Line2D([], [], color="k", ls=":", label="bound, as printed"),
             Line2D([], [], color="k", ls="-.", label="GA eq (20) (Group Adagrad)"),
             Line2D([], [], color="0.6", lw=3, alpha=0.35, label="slope 1/2 reference")]
    fig.legend(handles=style, loc="lower center", ncol=5, fontsize=7.5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Regret against T: GA eq (7) for the Group family and FTRL, mrda.txt eq (48) for RDA/MRDA/ProxGen "
                 "(ProxGen: no bound)", fontsize=10)
    fig.text(0.5, -0.04, _footer(table), ha="center", va="top", fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig


def _footer(table):
    quick = bool(table["quick"].astype(bool).any()) if "quick" in table else False
    cmd = "proxlab simulate regret" + (" --quick" if quick else "")
    seeds = table["seed"].nunique() if "seed" in table else 1
    T = np.sort(table["T"].unique())
    parts = [f"command: {cmd}", f"seeds per problem: {seeds}", f"T grid: {T[0]}..{T[-1]} (doublings)"]
    for key in ("n", "group_size", "active_groups", "lam1", "lam21", "lam2", "lam", "noise", "x0"):
        if key in table:
            vals = sorted({str(v) for v in table[key].dropna().unique()})
            if vals:
                parts.append(f"{key}={'/'.join(vals)}")
    return "   ".join(parts)

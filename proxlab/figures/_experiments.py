"""Shared helpers of the experiment figures (``proxlab.figures.exp_<name>``)."""

from __future__ import annotations


def command(name, table):
    """The command that made ``table`` (from its ``size`` and ``device`` columns)."""
    sizes = set(table["size"]) if "size" in table else set()
    devices = set(table["device"]) if "device" in table else set()
    cmd = f"proxlab experiment {name}"
    if sizes == {"quick"}:
        cmd += " --quick"
    if devices and devices != {"cpu"}:
        cmd += f" --device {'/'.join(sorted(devices))}"
    return cmd


def footer(fig, name, table, config=""):
    """Write the command (and a configuration line) at the bottom of ``fig``."""
    text = f"made by: {command(name, table)}"
    if config:
        text += f"   |   {config}"
    fig.text(0.01, 0.005, text, fontsize=7, color="0.35", ha="left", va="bottom")
    return fig


"""Imports every regularizer family once, in catalogue order (registration
happens in each module's class decorators)."""

from . import l1, l2, group, lq, mcp, scad, quant, nuclear, group_weighted  # noqa: F401

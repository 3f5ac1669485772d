"""Figures: pure functions from a results table to a matplotlib Figure.

One module per study (``proxlab.figures.regret`` etc.). They never run an
optimizer: data flows problem -> algorithm -> trajectory -> table -> figure.
Each figure carries, in its footer, the command that made its table.
"""

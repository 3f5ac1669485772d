"""Imports every algorithm module once (registration happens in each module)."""

from . import proxgen, madgrad, ramda, rmda, proxssi, rda, prox_sgd, proxquant, group_family, ftrl  # noqa: F401

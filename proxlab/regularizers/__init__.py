"""The regularizer catalogue.

>>> from proxlab import regularizers
>>> regularizers.names()[:3]
['l1', 'elastic_net', 'l2_squared']
>>> R = regularizers.get("group_l2", lam=0.1, n=8, groups=4)
"""

from ._base import Regularizer, SeparableRegularizer, classes, get, names, register

__all__ = ["Regularizer", "SeparableRegularizer", "classes", "get", "names", "register"]

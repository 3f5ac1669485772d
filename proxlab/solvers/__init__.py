"""Update rules of the four papers (one module per algorithm) and the subproblem
solvers they share.

>>> from proxlab import solvers
>>> alg = solvers.get("proxgen", regularizer=("l1", {"lam": 0.01}), lr=0.1)
>>> state = alg.init([1.0, -2.0, 0.5])
>>> x = alg.step(state, [0.3, -0.1, 0.0])
"""

from ._base import Algorithm, State, Subproblem, classes, get, names, register

__all__ = ["Algorithm", "State", "Subproblem", "classes", "get", "names", "register"]

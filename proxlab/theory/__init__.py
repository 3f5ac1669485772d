"""Theory instruments: offline comparators, bound calculators, assumption
monitors, manifold-identification measures and run traces.

One module per topic, imported explicitly (``from proxlab.theory import
bounds``); this package imports nothing on its own, so ``import proxlab``
stays free of Numba and CVXPY.

* :mod:`~proxlab.theory.comparators` — ``x^*`` of the regrets and ``F^*``, by
  CVXPY (small) or restarted FISTA (large), each with its certificate;
* :mod:`~proxlab.theory.bounds` — GA eqs (14), (16), (20)-(21); mrda.txt
  ``Delta_t`` (49) and Lemma 7.5; ``dist(0, dF)`` of proxgen.txt Thm 1 and
  ramda.txt Thm 2 (and ramda.txt App. B.1 eq (40));
* :mod:`~proxlab.theory.monitors` — per-run reports of whether and how often
  each hypothesis held;
* :mod:`~proxlab.theory.manifold` — active sets, identification times, changes;
* :mod:`~proxlab.theory.trace` — a Python-level run that records what the
  bounds and monitors need (gradients, moments, preconditioners, subproblems).
"""

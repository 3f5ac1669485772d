"""Problems, studies and the sweep runner.

Submodules are imported explicitly (``from proxlab.simulations.sweep import
run_sweep``); this package imports nothing on its own, so ``import proxlab``
stays free of dask, numba and cvxpy.
"""

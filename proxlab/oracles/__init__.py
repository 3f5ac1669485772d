"""Independent references: CVXPY for convex subproblems, a global 1-D search
for nonconvex separable ones."""

"""Every registered regularizer instance, for parametrized tests."""

import numpy as np

from proxlab import regularizers


def example_instances():
    out = []
    for k, cls in enumerate(regularizers.classes()):
        for j, reg in enumerate(cls.examples(np.random.default_rng([2024, k]))):
            out.append((f"{cls.name}-{j}", reg))
    return out


def first_instances():
    out = []
    for k, cls in enumerate(regularizers.classes()):
        ex = cls.examples(np.random.default_rng([2024, k]))
        # the first example with non-zero strength exercises the operator
        reg = next((r for r in ex if any(v for key, v in r.params.items() if key.startswith("lam"))), ex[0])
        out.append((cls.name, reg))
    return out


def input_shape(reg, rng):
    shape = getattr(reg, "shape", None)
    if shape is not None:
        return tuple(shape)
    if reg.dim is not None:
        return (reg.dim,)
    return (int(rng.integers(1, 12)),)

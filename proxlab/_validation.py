"""Argument checks shared by every public entry point.

Every check raises ``ValueError`` (bad value) or ``TypeError`` (bad type) with a
message that names the parameter and the offending value, so a user reading
the traceback knows what to change without opening the source.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def check_scalar(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite Python float inside ``[low, high]``.

    ``low_open`` / ``high_open`` make the corresponding bound strict.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        rel = ">" if low_open else ">="
        raise ValueError(f"{name} must be {rel} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        rel = "<" if high_open else "<="
        raise ValueError(f"{name} must be {rel} {high}, got {value!r}")
    return value


def check_nonneg(name, value):
    """A finite scalar >= 0 (regularization strengths)."""
    return check_scalar(name, value, low=0.0)


def check_positive(name, value):
    """A finite scalar > 0 (step sizes, metric scales)."""
    return check_scalar(name, value, low=0.0, low_open=True)


def check_int(name, value, *, low=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return value


def as_float_array(name, x, *, ndim=None, dtype=None, allow_nonfinite=False):
    """Return ``x`` as a C-contiguous float32/float64 array.

    Integer and other real inputs become float64; float32 stays float32 unless
    ``dtype`` says otherwise. NaN or Inf raise unless ``allow_nonfinite``.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of real numbers, got {x!r}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in FLOAT_DTYPES else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not allow_nonfinite and arr.size and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))
        raise ValueError(
            f"{name} contains non-finite values ({bad.size} entries, first at flat index {bad[0]}: "
            f"{arr.ravel()[bad[0]]!r})"
        )
    return arr


def check_metric(d, shape, dtype):
    """Validate a positive diagonal metric ``d`` of the given shape.

    ``None`` means the identity and is returned as ``None``; a scalar is
    broadcast. Entries must be finite and strictly positive.
    """
    if d is None:
        return None
    if np.isscalar(d) or (isinstance(d, np.ndarray) and d.ndim == 0):
        value = check_positive("d", d)
        return np.full(shape, value, dtype=dtype)
    arr = as_float_array("d", d, dtype=dtype)
    if arr.shape != tuple(shape):
        raise ValueError(f"d must have the shape of z {tuple(shape)}, got {arr.shape}")
    if arr.size and not (arr > 0).all():
        i = int(np.flatnonzero(~(arr.ravel() > 0))[0])
        raise ValueError(f"d (the diagonal metric) must be > 0 everywhere, got d[{i}] = {arr.ravel()[i]!r}")
    return arr

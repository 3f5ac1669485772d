import os
import zlib

import numpy as np
import pytest

# One thread: the machines are 2-core and shared; results must not depend on it.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id: reproducible, different per test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))

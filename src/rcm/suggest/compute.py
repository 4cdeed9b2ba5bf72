"""How the suggesters compute: on one thread.

The models are small (a few hundred statements, a few thousand features); a BLAS or OpenMP pool of
several threads only adds start-up and spin-waiting, and on a shared, loaded machine it made
training ten to forty times slower (profiled: 0.14 s of work took 2–7 s of wall time). Every fit
and prediction runs under ``one_thread()``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]


def one_thread() -> AbstractContextManager[Any]:
    """Native thread pools (BLAS, OpenMP) limited to one thread while the block runs. The
    libraries are loaded first: a limit only reaches the pools already loaded."""
    import sklearn.linear_model  # noqa: F401  (loads scipy's BLAS and scikit-learn's OpenMP)

    limits: AbstractContextManager[Any] = threadpool_limits(limits=1)
    return limits

"""How many threads the kernels use, and the ways users set it.

The kernels run on fastloss's own pool of helper threads (no OpenMP runtime):
the calling thread always works, helpers join when the scheduler runs them,
and nobody spins for more than a few microseconds, so a call is never much
slower than on one thread, however busy the machine. The count comes from
`set_num_threads`, else from ``OMP_NUM_THREADS``, else from the CPUs the
process may run on; `num_threads` sets it for a block; threadpoolctl's
`threadpool_limits` and `threadpool_info` see fastloss as one more pool.
"""

from __future__ import annotations

import contextlib
import importlib.util
import operator
from collections.abc import Iterator
from typing import Any

from . import _core

MAX_THREADS: int = int(_core.max_threads)


def _count(n: Any, where: str) -> int:
    if isinstance(n, bool):
        raise TypeError(f"{where}: n must be an int, got bool")
    try:
        value = operator.index(n)  # int, numpy integers
    except TypeError:
        raise TypeError(f"{where}: n must be an int, got {type(n).__name__}") from None
    if not 1 <= value <= MAX_THREADS:
        raise ValueError(f"{where}: n must be in [1, {MAX_THREADS}], got {value}")
    return value


def set_num_threads(n: int) -> None:
    """Threads the kernels use from now on, 1 <= n <= 1024 (the calling
    thread included). Results are bitwise the same for every thread count. If
    the system refuses to start a thread, calls use the threads that did start."""
    _core.set_num_threads(_count(n, "set_num_threads"))


def get_num_threads() -> int:
    """Threads the kernels use: set_num_threads's value, else OMP_NUM_THREADS,
    else the CPUs this process may run on (its affinity mask)."""
    return int(_core.get_num_threads())


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """``with fl.num_threads(1): ...`` runs the block's calls on n threads and
    restores the previous count afterwards (also when the block raises)."""
    value = _count(n, "num_threads")
    before = get_num_threads()
    _core.set_num_threads(value)
    try:
        yield
    finally:
        _core.set_num_threads(before)


def _register_with_threadpoolctl() -> None:
    """Make threadpoolctl see fastloss's pool (when threadpoolctl is installed):
    `threadpool_info()` lists it with user_api "fastloss" and
    `threadpool_limits(n)` limits it like NumPy's BLAS and OpenMP."""
    if importlib.util.find_spec("threadpoolctl") is None:
        return
    import threadpoolctl

    if not hasattr(threadpoolctl, "register"):  # threadpoolctl < 3.5
        return

    class FastlossController(threadpoolctl.LibController):  # type: ignore[misc]
        user_api = "fastloss"
        internal_api = "fastloss"
        filename_prefixes = ("_core",)
        check_symbols = ("fastloss_threadpool_get_num_threads",
                         "fastloss_threadpool_set_num_threads")

        def get_num_threads(self) -> int:
            return int(self.dynlib.fastloss_threadpool_get_num_threads())

        def set_num_threads(self, num_threads: int) -> Any:
            return self.dynlib.fastloss_threadpool_set_num_threads(
                max(1, min(int(num_threads), MAX_THREADS)))

        def get_version(self) -> str:
            return str(_core.build_info()["version"])

    threadpoolctl.register(FastlossController)


_register_with_threadpoolctl()

"""The timing helpers every table of the harness shares: medians of single
calls after a warm-up, and two calls timed alternately so that both see the
same machine. Nothing here asserts a timing."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

Call = Callable[[], Any]


def median_call(fn: Call, calls: int, clock: Callable[[], float] = time.perf_counter,
                warm: bool = True) -> float:
    """Median seconds of `calls` single calls of fn (by `clock`: wall time, or
    time.thread_time for the calling thread's CPU time), after one warm-up
    call unless `warm` is False (a call too long to repeat for nothing)."""
    if warm:
        fn()
    times = []
    for _ in range(calls):
        start = clock()
        fn()
        times.append(clock() - start)
    return float(statistics.median(times))


def paired_medians(ours: Call, theirs: Call, calls: int) -> tuple[float, float]:
    """Median seconds of each of two calls, alternating, after a warm-up of each."""
    ours()
    theirs()
    t_ours: list[float] = []
    t_theirs: list[float] = []
    for _ in range(calls):
        for fn, times in ((ours, t_ours), (theirs, t_theirs)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return float(statistics.median(t_ours)), float(statistics.median(t_theirs))

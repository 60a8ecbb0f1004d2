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


#: Source for a child process that measures its own peak memory: defines
#: ``base`` (the resident set now, KiB) and ``peak_of()`` (the peak since). The
#: imports' transient peak can exceed what the measured call adds, so the peak
#: is reset to the current RSS first where Linux allows (clear_refs), and
#: ru_maxrss is the fallback elsewhere. The child needs ``import resource``.
PEAK_RSS_PRELUDE = r"""
def status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base, peak_of = status_kib("VmRSS"), lambda: status_kib("VmHWM")
except OSError:
    base, peak_of = None, None
if base is None or peak_of is None:
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_of = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def peer_table(table: list[tuple[str, float, float, str, float, float]], cores: int,
               case: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The rows of a fastloss-against-peer table, (name, 1-thread s, `cores`-thread s,
    peer, peer s, relative difference) each, as markdown (header included) and raw
    rows named "<case> <name>"."""
    lines = [f"| loss | fastloss 1 thread | fastloss {cores} threads | peer | peer time "
             "| peer / fastloss | rel. diff |", "|---|---:|---:|---|---:|---:|---:|"]
    raw: list[dict[str, Any]] = []
    for name, one, many, peer_name, theirs, diff in table:
        ratio = theirs / many if theirs == theirs else float("nan")
        lines.append(f"| {name} | {one * 1e3:.2f} ms | {many * 1e3:.2f} ms | {peer_name} | "
                     f"{theirs * 1e3:.2f} ms | {ratio:.1f}× | {diff:.1e} |")
        raw.append({"case": f"{case} {name}", "fastloss_1": one, "fastloss": many,
                    "peer": peer_name, "peer_s": theirs})
    return lines, raw

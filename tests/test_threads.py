"""The thread policy as users meet it: the count and the ways to set it
(set_num_threads, num_threads, OMP_NUM_THREADS, threadpoolctl), fork()ed
children, threads the system refuses to start, and callers on many threads.
Every probe that could hang or end a process runs in a child process with a
timeout."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastloss as fl
from fastloss import _core

BIG = 1 << 20  # well above the size at which calls use helpers


def _run(code: str, timeout: float = 120, env: dict[str, str] | None = None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env=full_env)


# -- the count -------------------------------------------------------------------------


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-1, ValueError), (fl._threads.MAX_THREADS + 1, ValueError),
    (2**70, ValueError), (1.5, TypeError), ("2", TypeError), (True, TypeError), (None, TypeError),
])
def test_set_num_threads_validates(bad, error):
    before = fl.get_num_threads()
    with pytest.raises(error, match="set_num_threads"):
        fl.set_num_threads(bad)
    with pytest.raises(error, match="num_threads"):
        with fl.num_threads(bad):
            pass  # pragma: no cover
    assert fl.get_num_threads() == before


def test_set_num_threads_takes_numpy_integers():
    before = fl.get_num_threads()
    try:
        fl.set_num_threads(np.int64(3))
        assert fl.get_num_threads() == 3
    finally:
        fl.set_num_threads(before)


def test_num_threads_context_restores_also_on_error():
    before = fl.get_num_threads()
    with fl.num_threads(1):
        assert fl.get_num_threads() == 1
        with fl.num_threads(5):
            assert fl.get_num_threads() == 5
        assert fl.get_num_threads() == 1
    assert fl.get_num_threads() == before
    with pytest.raises(RuntimeError, match="inside"):
        with fl.num_threads(2):
            raise RuntimeError("inside")
    assert fl.get_num_threads() == before


@pytest.mark.parametrize("env, want", [({"OMP_NUM_THREADS": "3"}, 3),
                                       ({"OMP_NUM_THREADS": "2,1"}, 2)])
def test_omp_num_threads_is_the_default(env, want):
    r = _run("import fastloss as fl; print(fl.get_num_threads())", env=env)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == want


def test_default_is_the_cpus_the_process_may_use():
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    r = subprocess.run([sys.executable, "-c", "import fastloss as fl, os; "
                        "print(fl.get_num_threads(), len(os.sched_getaffinity(0)))"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    got, cpus = map(int, r.stdout.split())
    assert got == cpus


def test_build_info_reports_the_pool():
    info = fl.build_info()
    assert info["thread_pool"] is True and info["threads"] == fl.get_num_threads()


# -- threadpoolctl ---------------------------------------------------------------------


def test_threadpoolctl_lists_and_limits_fastloss():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = fl.get_num_threads()
    mine = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastloss"]
    assert len(mine) == 1, threadpoolctl.threadpool_info()
    assert mine[0]["num_threads"] == before and mine[0]["version"] == fl.__version__
    with threadpoolctl.threadpool_limits(1):
        assert fl.get_num_threads() == 1
    assert fl.get_num_threads() == before
    with threadpoolctl.threadpool_limits(limits=2, user_api="fastloss"):
        assert fl.get_num_threads() == 2
    assert fl.get_num_threads() == before


# -- fork ------------------------------------------------------------------------------

_FORK_SETUP = """
    import os, sys, numpy as np, fastloss as fl
    fl.set_num_threads(2)
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=(1 << 20,)), rng.normal(size=(1 << 20,))
    labels = rng.integers(0, 100, size=4096); logits = rng.normal(size=(4096, 100))
    def run():
        a = fl.MeanSquaredError().forward_backward(t, p)
        b = fl.SparseCategoricalCrossentropy(from_logits=True).forward_backward(labels, logits)
        return a[0], a[1].sum(), b[0], b[1].sum()
    parent = run()  # the pool's helpers exist in the parent now
"""


def test_a_forked_child_makes_threaded_calls():
    r = _run(_FORK_SETUP + """
    pid = os.fork()
    if pid == 0:
        ok = run() == parent and run() == parent
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
    """, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


def test_multiprocessing_fork_pool_after_threaded_calls():
    r = _run(_FORK_SETUP + """
    import multiprocessing as mp
    def child(_):
        return run()
    with mp.get_context("fork").Pool(2) as pool:
        got = pool.map(child, range(4))
    print(all(g == parent for g in got))
    """, timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


# -- threads the system refuses --------------------------------------------------------


def test_threads_that_cannot_start_mean_fewer_threads():
    """With the address space capped just above what the process uses, thread
    stacks cannot be mapped: asking for 64 threads gives the ones that started
    (maybe none), the right answer, and no exit."""
    r = _run("""
    import resource, numpy as np, fastloss as fl
    from fastloss import _core
    rng = np.random.default_rng(1)
    t, p = rng.normal(size=1 << 20), rng.normal(size=1 << 20)
    fl.set_num_threads(1)
    want = fl.MeanSquaredError().forward_backward(t, p)
    out = np.empty_like(p)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (used + (40 << 20), resource.RLIM_INFINITY))
    fl.set_num_threads(64)
    got = fl.MeanSquaredError().forward_backward(t, p, out=out)
    ok = got[0] == want[0] and np.array_equal(got[1], want[1])
    print(ok, _core.pool_size())
    """, timeout=60)
    assert r.returncode == 0, r.stderr + r.stdout
    ok, started = r.stdout.split()
    assert ok == "True"
    assert int(started) < 63


# -- many callers ----------------------------------------------------------------------


def test_calls_from_a_thread_pool_match_and_do_not_oversubscribe():
    rng = np.random.default_rng(2)
    t, p = rng.normal(size=BIG), rng.normal(size=BIG)
    loss = fl.Huber()
    with fl.num_threads(2):
        want = loss.forward_backward(t, p)
        helpers = _core.pool_size()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            got = list(ex.map(lambda _: loss.forward_backward(t, p), range(32)))
        # one pool for the process: a caller that finds it busy runs on its own
        # thread instead of bringing helpers of its own
        assert _core.pool_size() == helpers >= 1
    for value, grad in got:
        assert value == want[0]
        np.testing.assert_array_equal(grad, want[1])


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_every_thread_count_gives_the_same_bits(threads):
    rng = np.random.default_rng(3)
    t, p = rng.uniform(size=(300, 4000)), rng.normal(size=(300, 4000))
    labels = rng.integers(0, 4000, size=300)
    with fl.num_threads(1):
        want = (fl.BinaryCrossentropy(from_logits=True).forward_backward(t, p),
                fl.SparseCategoricalCrossentropy(from_logits=True).forward_backward(labels, p))
    with fl.num_threads(threads):
        got = (fl.BinaryCrossentropy(from_logits=True).forward_backward(t, p),
               fl.SparseCategoricalCrossentropy(from_logits=True).forward_backward(labels, p))
    for (v0, g0), (v1, g1) in zip(want, got):
        assert v0 == v1
        np.testing.assert_array_equal(g0, g1)

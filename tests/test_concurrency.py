"""Threads: many Python threads calling losses at once get the
results of serial calls bit for bit (the GIL is released in the kernels, so
the calls really overlap), and calls from inside a user's own thread pool, with
the kernels themselves threaded, neither deadlock nor change a bit."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastloss as fl

BIG = 70_000  # above the 32768-element single-thread cutoff: the kernels use threads


def _tasks():
    rng = np.random.default_rng(7)
    out = []
    for n in (13, BIG):
        d = 7
        t = rng.integers(0, 2, size=(n // d, d)).astype(np.float64)
        p = rng.uniform(0.05, 0.95, size=(n // d, d))
        logits = rng.normal(0, 3, size=(n // d, d))
        labels = rng.integers(0, d, size=n // d)
        sw = rng.uniform(0.5, 2, size=n // d)
        for dtype in (np.float32, np.float64):
            tt, pp, zz = t.astype(dtype), p.astype(dtype), logits.astype(dtype)
            out += [
                (fl.MeanSquaredError(), (tt, pp), {}),
                (fl.Huber(delta=0.3, reduction="sum"), (tt, pp), {"sample_weight": sw}),
                (fl.BinaryCrossentropy(from_logits=True), (tt, zz), {}),
                (fl.BinaryFocalCrossentropy(), (tt, pp), {}),
                (fl.LogCosh(reduction="none"), (tt, zz), {}),
                (fl.CategoricalCrossentropy(from_logits=True), (tt, zz), {"sample_weight": sw}),
                (fl.SparseCategoricalCrossentropy(from_logits=True), (labels, zz), {}),
                (fl.KLDivergence(), (tt, pp), {}),
                (fl.CosineSimilarity(reduction="none"), (tt, zz), {}),
            ]
    return out


TASKS = _tasks()


def _run(task):
    loss, args, kw = task
    v, g = loss.forward_backward(*args, **kw)
    gh = loss.gradient_hessian(*args, **kw) if loss.has_hessian else (None, None)
    return np.asarray(v), g, gh[0], gh[1]


def _same(a, b):
    for x, y in zip(a, b):
        if x is None:
            assert y is None
        else:
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


@pytest.fixture
def threads():
    before = fl.get_num_threads()
    yield
    fl.set_num_threads(before)


@pytest.mark.parametrize("kernel_threads", [1, 2])
def test_many_python_threads_match_serial_calls_bitwise(threads, kernel_threads):
    fl.set_num_threads(kernel_threads)
    serial = [_run(task) for task in TASKS]
    order = list(range(len(TASKS))) * 6
    np.random.default_rng(1).shuffle(order)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: (i, _run(TASKS[i])), order, timeout=120))
    for i, got in results:
        _same(got, serial[i])


def test_one_loss_object_shared_by_threads(threads):
    """Loss objects hold no per-call state: one object used by every thread."""
    loss = fl.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    rng = np.random.default_rng(3)
    inputs = [(rng.dirichlet(np.ones(5), size=n), rng.normal(size=(n, 5)))
              for n in (1, 9, 100, 20_000)]
    serial = [loss.forward_backward(t, z) for t, z in inputs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [(i, pool.submit(loss.forward_backward, *inputs[i]))
                   for i in list(range(len(inputs))) * 10]
        for i, f in futures:
            v, g = f.result(timeout=120)
            assert v == serial[i][0]
            np.testing.assert_array_equal(g, serial[i][1])


def test_in_place_calls_from_threads_touch_only_their_own_arrays(threads):
    rng = np.random.default_rng(5)
    t = rng.integers(0, 2, size=(5000, 8)).astype(np.float64)
    zs = [rng.normal(size=(5000, 8)) for _ in range(16)]
    want = [fl.BinaryCrossentropy(from_logits=True).backward(t, z) for z in zs]
    loss = fl.BinaryCrossentropy(from_logits=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda z: loss.backward(t, z, out=z), zs, timeout=120))
    for z, w in zip(zs, want):
        np.testing.assert_array_equal(z, w)


def test_the_gil_is_released_during_kernels(threads):
    """While one thread is inside a long kernel, another Python thread keeps
    running: the longest pause it sees is a small part of the kernel's time."""
    fl.set_num_threads(1)
    loss = fl.LogCosh()
    t = np.zeros(1)
    n = 1_000_000
    while True:  # a kernel of at least 50 ms
        p = np.random.default_rng(0).normal(size=n)
        start = time.perf_counter()
        loss.backward(t, p)
        alone = time.perf_counter() - start
        if alone > 0.05 or n >= 32_000_000:
            break
        n *= 2
    stamps: list[float] = []
    span: list[float] = []
    done = threading.Event()

    def worker():
        span.append(time.perf_counter())
        for _ in range(3):
            loss.backward(t, p)
        span.append(time.perf_counter())
        done.set()

    th = threading.Thread(target=worker)
    th.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
    th.join()
    inside = np.array([s for s in stamps if span[0] <= s <= span[1]])
    assert inside.size > 100
    longest_pause = float(np.max(np.diff(inside), initial=0.0))
    # holding the GIL would stall this thread for a whole kernel (`alone`)
    assert longest_pause < 0.5 * alone, (longest_pause, alone)


def test_nested_in_a_user_thread_pool_with_threaded_kernels(threads):
    """An outer pool of 4 threads, each calling threaded kernels (2 threads):
    no deadlock (bounded by a timeout), and the results of serial calls."""
    fl.set_num_threads(2)
    serial = [_run(task) for task in TASKS]

    def job(i):
        fl.set_num_threads(2)  # from inside the pool's thread, as users do
        return i, _run(TASKS[i])

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(job, i) for i in list(range(len(TASKS))) * 2]
        for f in futures:
            i, got = f.result(timeout=120)
            _same(got, serial[i])


def test_set_num_threads_while_other_threads_compute(threads):
    """Changing the thread count while kernels run elsewhere changes no result."""
    serial = [_run(task) for task in TASKS]
    stop = threading.Event()

    def toggler():
        k = 0
        while not stop.is_set():
            fl.set_num_threads(1 + k % 3)
            k += 1
            time.sleep(0.0005)

    th = threading.Thread(target=toggler)
    th.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for i, got in pool.map(lambda i: (i, _run(TASKS[i])),
                                   list(range(len(TASKS))) * 2, timeout=120):
                _same(got, serial[i])
    finally:
        stop.set()
        th.join()

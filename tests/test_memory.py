"""Memory: no leak over 10^5 calls, no gradient-sized temporary
when out= is given, and element counts beyond 2**31 indexed with 64-bit
integers (checked on an overlapping strided view that needs little memory)."""

from __future__ import annotations

import os
import time
import tracemalloc

import numpy as np
import pytest

import fastloss as fl

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_rss_flat_over_1e5_small_calls():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, size=(4, 3)).astype(np.float64)
    p = rng.uniform(0.1, 0.9, size=(4, 3))
    p32 = p.astype(np.float32)
    labels = np.array([0, 2, 1, 1])
    sw = np.ones(4)
    out = np.empty_like(p)
    mse, bce = fl.MeanSquaredError(), fl.BinaryCrossentropy(reduction="none")
    scce = fl.SparseCategoricalCrossentropy(class_weight=[1.0, 2.0, 0.5])
    cce = fl.CategoricalCrossentropy()
    calls = [
        lambda: mse(t, p),
        lambda: mse.forward_backward(t, p32, sample_weight=sw),
        lambda: bce.backward(t, p, grad_output=sw, out=out),
        lambda: bce.gradient_hessian(t, p),
        lambda: scce.forward_backward(labels, p),
        lambda: cce.backward(t, p),
    ]
    errors = [lambda: mse(t, p[:, :2]), lambda: scce([0, 5, 1, 1], p),
              lambda: mse.backward(t, p, out=out.T)]

    def burst(n):
        for i in range(n):
            calls[i % len(calls)]()
            if i % 100 == 0:
                try:
                    errors[(i // 100) % len(errors)]()
                except ValueError:
                    pass

    burst(20_000)  # warm up: allocator pools, caches, lazily created objects
    before = rss_bytes()
    start = time.perf_counter()
    burst(100_000)
    elapsed = time.perf_counter() - start
    grown = rss_bytes() - before
    # a leak of even 64 bytes per call would add 6.4 MB
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 10^5 calls"
    assert elapsed < 60


@pytest.mark.parametrize("make,kind", [
    (lambda: fl.MeanSquaredError(), "dense"),
    (lambda: fl.BinaryCrossentropy(from_logits=True), "dense"),
    (lambda: fl.CategoricalCrossentropy(from_logits=True), "dense"),
    (lambda: fl.SparseCategoricalCrossentropy(from_logits=True), "labels"),
])
def test_no_gradient_sized_allocation_with_out(make, kind):
    """With out= (here in place over y_pred), a call allocates nothing the size
    of y_pred: NumPy reports its allocations to tracemalloc."""
    loss = make()
    n, c = 100_000, 10  # 8 MB of float64
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n, c))
    t = rng.integers(0, c, size=n) if kind == "labels" else \
        rng.integers(0, 2, size=(n, c)).astype(np.float64)
    loss.forward_backward(t, z.copy(), out=None)  # warm up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        loss.forward_backward(t, z, out=z)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < z.nbytes / 8, f"peak {peak} bytes for a {z.nbytes}-byte y_pred"


def test_more_than_2_31_elements_are_indexed_with_64_bits():
    """A (rows, D) sliding-window view over one small array: rows * D > 2**31
    elements (flat indices beyond int32), but only rows + D numbers in memory.
    Forward with a reduction, so no output of that size is needed."""
    D = 1024
    rows = 2**31 // D + 12_345
    assert rows * D > 2**31
    base = (np.arange(rows + D, dtype=np.float64) % 1000.0) / 1000.0
    x = np.lib.stride_tricks.as_strided(base, shape=(rows, D), strides=(8, 8),
                                        writeable=False)
    zero = np.broadcast_to(np.float64(0.0), x.shape)
    before = rss_bytes() if os.path.exists("/proc/self/statm") else 0
    got = fl.MeanSquaredError()(zero, x)
    # per-row sums of squares from a cumulative sum: rows windows of width D
    csum = np.concatenate([[0.0], np.cumsum(base * base)])
    per_row = (csum[D:D + rows] - csum[:rows]) / D
    want = np.mean(per_row)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    if os.path.exists("/proc/self/statm"):
        # no copy was made (a copy would be 16 GiB); what the call added, not the
        # process's total (the frameworks other tests imported hold their own)
        assert rss_bytes() - before < 2**28

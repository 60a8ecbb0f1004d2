"""Helpers shared by the test modules: the reductions and dtypes every loss is
tested at, reproducible per-test random streams, and the reference tolerance."""

from __future__ import annotations

import zlib

import numpy as np

REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None]
DTYPES = [np.float32, np.float64]


def rng_for(*key) -> np.random.Generator:
    """A generator seeded from the key's text (hash() is salted per process)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def tolerance(dtype, expected, atol32=2e-6) -> dict:
    """Kernel-vs-float64-reference tolerance: float32 arithmetic with float64
    accumulation (elementwise losses: atol32=2e-6; class-axis losses, whose rows
    sum C float32 terms first: 3e-6), float64 to ~1e-9."""
    finite = np.nan_to_num(np.asarray(expected, dtype=np.float64), posinf=0, neginf=0)
    scale = max(1.0, float(np.max(np.abs(finite), initial=0.0)))
    if dtype == np.float32:
        return {"rtol": 3e-5, "atol": atol32 * scale}
    return {"rtol": 1e-9, "atol": 1e-12 * scale}

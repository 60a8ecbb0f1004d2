"""Helpers shared by the test modules: the reductions and dtypes every loss is
tested at, reproducible per-test random streams, and the reference tolerance."""

from __future__ import annotations

import subprocess
import sys
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


def check_lazy_adapter(adapter: str, library: str, extra: str) -> None:
    """In a fresh interpreter: ``import fastloss`` and touching ``fl.<adapter>``
    import nothing of `library`; with `library` unimportable, using the adapter
    raises ImportError naming it and the extra to install."""
    code = (f"import sys; import fastloss as fl; fl.{adapter}; "
            f"assert {library!r} not in sys.modules\n"
            f"sys.modules[{library!r}] = None\n"
            f"try:\n    fl.{adapter}.wrap(fl.Huber())\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"fastloss.{adapter} needs {library}" in out.stdout
    assert f"pip install 'fastloss[{extra}]'" in out.stdout


def keras_reduce(per_sample, sample_weight, reduction):
    """Per-sample (or per-image) float64 losses -> what a Keras 3 loss returns."""
    v = np.asarray(per_sample, dtype=np.float64)
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if sw is not None:
        v = v * sw
    if reduction in (None, "none"):
        return v
    if v.size == 0:
        return 0.0  # divide_no_nan
    total = np.sum(v)
    if reduction == "sum" or v.ndim == 0:  # Keras leaves a scalar unreduced
        return total
    divisor = np.sum(sw) if (reduction == "mean_with_sample_weight" and sw is not None) \
        else v.size
    return 0.0 if divisor == 0 else total / divisor

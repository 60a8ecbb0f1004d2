"""The float32 exp / log / log1p / tanh of cpp/include/fastloss/detail/vmath.hpp
against float64 libm (NumPy) over dense sweeps: the ULP bounds documented in
that header, and IEEE special values. `_core._vmath` evaluates them in the
instruction-set clone the losses run in (with FMA on x86-64-v3 and later);
cpp/tests/test_vmath.cpp holds the variant without FMA to the same bounds."""

from __future__ import annotations

import numpy as np
import pytest

from fastloss import _core


def ulp_error(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of the float32 spacing at want (float64 arithmetic)."""
    w32 = want.astype(np.float32)
    spacing = np.spacing(np.abs(w32)).astype(np.float64)
    spacing = np.maximum(spacing, np.float64(np.finfo(np.float32).smallest_subnormal))
    return np.abs(got.astype(np.float64) - want) / spacing


def every_float(lo: float, hi: float, step: int) -> np.ndarray:
    """Every `step`-th float32 in [lo, hi] by bit pattern (both signs handled)."""
    parts = []
    for a, b in [(lo, min(hi, -0.0)), (max(lo, 0.0), hi)]:
        if a > b or (a == b == 0.0 and parts):
            continue
        ia = np.float32(abs(a) if a >= 0 else abs(b)).view(np.int32)
        ib = np.float32(abs(b) if a >= 0 else abs(a)).view(np.int32)
        bits = np.arange(min(ia, ib), max(ia, ib) + 1, step, dtype=np.int32)
        x = bits.view(np.float32)
        parts.append(x if a >= 0 else -x)
    return np.concatenate(parts)


SWEEPS = [
    ("exp", np.exp, -103.9, 88.7, 1.0),
    ("log", np.log, 1e-45, 3.4e38, 1.0),
    ("log1p", np.log1p, -0.99999994, 3.4e38, 3.0),
    ("tanh", np.tanh, -3.4e38, 3.4e38, 2.0),
    ("exp_nonpositive", np.exp, -103.9, 0.0, 1.0),
    ("log_positive", np.log, 1.1754944e-38, 3.4e38, 1.0),
    ("log1p_unit", np.log1p, 0.0, 1.0, 2.0),
    ("tanh_parts", np.tanh, -3.4e38, 3.4e38, 2.0),
]


@pytest.mark.parametrize("name,ref,lo,hi,bound", SWEEPS, ids=[s[0] for s in SWEEPS])
def test_ulp_error_over_a_dense_sweep(name, ref, lo, hi, bound):
    x = every_float(lo, hi, 97)  # ~10^7 points per function
    got = _core._vmath(name, x)
    with np.errstate(over="ignore"):
        want = ref(x.astype(np.float64))
    err = ulp_error(got, want)
    finite = np.isfinite(want) & (np.abs(want) < np.finfo(np.float32).max)
    assert x.size > 5_000_000
    worst = int(np.argmax(np.where(finite, err, 0.0)))
    assert err[worst] <= bound, f"{name}: {err[worst]:.2f} ulp at x = {x[worst]!r}"


def test_special_values():
    inf, nan = np.float32(np.inf), np.float32(np.nan)
    f = _core._vmath
    assert f("exp", [inf])[0] == inf and f("exp", [-inf])[0] == 0 and np.isnan(f("exp", [nan])[0])
    assert f("exp", [89.0])[0] == inf and f("exp", [-104.0])[0] == 0
    assert f("exp", [-103.0])[0] > 0  # subnormal results are produced, not flushed
    assert f("log", [0.0])[0] == -inf and np.isnan(f("log", [-1.0])[0])
    assert f("log", [inf])[0] == inf and np.isnan(f("log", [nan])[0])
    assert f("log1p", [-1.0])[0] == -inf and f("log1p", [inf])[0] == inf
    assert f("log1p", [1e-30])[0] == np.float32(1e-30)
    assert f("tanh", [inf])[0] == 1 and f("tanh", [-inf])[0] == -1 and np.isnan(f("tanh", [nan])[0])
    assert f("tanh", [-0.0])[0] == 0 and np.signbit(f("tanh", [-0.0])[0])
    assert f("exp_nonpositive", [-inf])[0] == 0 and f("exp_nonpositive", [-104.0])[0] == 0
    assert np.isnan(f("exp_nonpositive", [nan])[0]) and f("exp_nonpositive", [-0.0])[0] == 1
    assert f("exp_nonpositive", [-103.0])[0] > 0
    assert np.isnan(f("log_positive", [nan])[0]) and f("log_positive", [1.0])[0] == 0
    assert np.isnan(f("log1p_unit", [nan])[0]) and f("log1p_unit", [0.0])[0] == 0
    assert f("log1p_unit", [1e-30])[0] == np.float32(1e-30)  # below an ulp of 1: log1p(e) == e
    assert f("log1p_unit", [1.0])[0] == np.float32(np.log(2.0))
    assert f("tanh_parts", [inf])[0] == 1 and f("tanh_parts", [-inf])[0] == -1
    assert np.isnan(f("tanh_parts", [nan])[0])
    assert f("tanh_parts", [-0.0])[0] == 0 and np.signbit(f("tanh_parts", [-0.0])[0])

"""The float32 and float64 exp / log / log1p / tanh of
cpp/include/fastloss/detail/vmath.hpp against higher-precision libm (NumPy's
float64 and longdouble) over dense sweeps: the ULP bounds documented in that
header, and IEEE special values. `_core._vmath` evaluates them in the
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


def every_float(lo: float, hi: float, step: int, dtype: type = np.float32) -> np.ndarray:
    """Every `step`-th float32 (or `dtype`) in [lo, hi] by bit pattern (both signs handled)."""
    itype = np.int32 if dtype == np.float32 else np.int64
    parts = []
    for a, b in [(lo, min(hi, -0.0)), (max(lo, 0.0), hi)]:
        if a > b or (a == b == 0.0 and parts):
            continue
        ia = dtype(abs(a) if a >= 0 else abs(b)).view(itype)
        ib = dtype(abs(b) if a >= 0 else abs(a)).view(itype)
        bits = np.arange(min(ia, ib), max(ia, ib) + 1, step, dtype=itype)
        x = bits.view(dtype)
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


# ---------------------------------------------------------------------------
# float64: the same functions against long double libm (NumPy's longdouble,
# 64 significant bits on x86-64), on sweeps that take every n-th double by bit
# pattern (the same number of points in every binade) plus uniform points
# where the losses' arguments mostly fall.

LONG_DOUBLE_BITS = np.finfo(np.longdouble).nmant
needs_long_double = pytest.mark.skipif(
    LONG_DOUBLE_BITS < 60, reason="needs a long double with more precision than double"
)


def ulp_error64(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of the float64 spacing at want (long double arithmetic)."""
    spacing = np.spacing(np.abs(want.astype(np.float64)))
    spacing = np.maximum(spacing, np.finfo(np.float64).smallest_subnormal)
    return np.abs(got.astype(np.longdouble) - want) / spacing.astype(np.longdouble)


def doubles(lo: float, hi: float, points: int) -> np.ndarray:
    """About `points` doubles of [lo, hi] evenly spaced by bit pattern (the same
    number in every binade), and as many drawn uniformly from [lo, hi] clipped to
    [-40, 40]."""
    nearest_zero = 0.0 if lo <= 0.0 <= hi else min(abs(lo), abs(hi))
    span = int(np.float64(max(abs(lo), abs(hi))).view(np.int64)) - int(
        np.float64(nearest_zero).view(np.int64))
    x = every_float(lo, hi, max(1, span // (points // 2)), np.float64)
    rng = np.random.default_rng(5)
    return np.concatenate([x, rng.uniform(max(lo, -40.0), min(hi, 40.0), points)])


SWEEPS64 = [
    ("exp", np.exp, -745.13, 709.78, 1.0),
    ("log", np.log, 5e-324, 1.7e308, 1.0),
    ("log1p", np.log1p, -0.9999999999999999, 1.7e308, 1.0),
    ("tanh", np.tanh, -1.7e308, 1.7e308, 2.0),
    ("exp_nonpositive", np.exp, -745.13, 0.0, 1.0),
    ("log_positive", np.log, 2.2250738585072014e-308, 1.7e308, 1.0),
    ("log1p_unit", np.log1p, 0.0, 1.0, 1.0),
    ("tanh_parts", np.tanh, -1.7e308, 1.7e308, 2.0),
]


@needs_long_double
@pytest.mark.parametrize("name,ref,lo,hi,bound", SWEEPS64, ids=[s[0] for s in SWEEPS64])
def test_float64_ulp_error_over_a_dense_sweep(name, ref, lo, hi, bound):
    x = doubles(lo, hi, 2_000_000)
    got = _core._vmath(name, x)
    assert got.dtype == np.float64
    with np.errstate(over="ignore"):
        want = ref(x.astype(np.longdouble))
    err = ulp_error64(got, want)
    finite = np.isfinite(want) & (np.abs(want) <= np.finfo(np.float64).max)
    assert x.size >= 3_000_000
    worst = int(np.argmax(np.where(finite, err, 0.0)))
    assert err[worst] <= bound, f"{name}: {float(err[worst]):.2f} ulp at x = {x[worst]!r}"
    # and the non-finite results are the reference's
    assert np.array_equal(got[~finite], want[~finite].astype(np.float64), equal_nan=True)


def test_float64_special_values():
    inf, nan = np.inf, np.nan

    def f(name: str, x: float) -> np.float64:
        out = _core._vmath(name, np.array([x], dtype=np.float64))
        assert out.dtype == np.float64
        return out[0]

    assert f("exp", inf) == inf and f("exp", -inf) == 0 and np.isnan(f("exp", nan))
    assert f("exp", 710.0) == inf and f("exp", -746.0) == 0 and f("exp", 0.0) == 1
    assert f("exp", -745.0) > 0  # subnormal results are produced, not flushed
    ulp = np.finfo(np.float64).eps
    # the two-factor 2^n near overflow, and subnormal inputs of log
    assert abs(f("exp", 709.78) / np.exp(709.78) - 1) <= ulp
    assert f("log", 0.0) == -inf and np.isnan(f("log", -1.0)) and f("log", 1.0) == 0
    assert f("log", inf) == inf and np.isnan(f("log", nan))
    assert abs(f("log", 5e-324) / np.log(5e-324) - 1) <= ulp
    assert f("log1p", -1.0) == -inf and np.isnan(f("log1p", -2.0)) and f("log1p", inf) == inf
    assert f("log1p", 1e-300) == 1e-300 and np.signbit(f("log1p", -0.0))
    assert f("tanh", inf) == 1 and f("tanh", -inf) == -1 and np.isnan(f("tanh", nan))
    assert f("tanh", -0.0) == 0 and np.signbit(f("tanh", -0.0)) and f("tanh", 1e-310) == 1e-310
    assert f("exp_nonpositive", -inf) == 0 and f("exp_nonpositive", -0.0) == 1
    assert np.isnan(f("exp_nonpositive", nan)) and f("exp_nonpositive", -745.0) > 0
    assert np.isnan(f("log_positive", nan)) and f("log_positive", 1.0) == 0
    assert np.isnan(f("log1p_unit", nan)) and f("log1p_unit", 0.0) == 0
    assert f("log1p_unit", 1e-300) == 1e-300
    assert abs(f("log1p_unit", 1.0) / np.log(2.0) - 1) <= ulp
    assert f("tanh_parts", inf) == 1 and f("tanh_parts", -inf) == -1
    assert f("tanh_parts", -0.0) == 0 and np.signbit(f("tanh_parts", -0.0))


def test_float64_results_do_not_depend_on_the_array_length():
    """The vectorised body and the scalar tail give the same bits."""
    x = np.random.default_rng(0).uniform(-30, 30, 1003)
    for name in ("exp", "tanh", "log1p"):
        arg = np.abs(x) if name == "log1p" else x
        whole = _core._vmath(name, arg)
        one_by_one = np.array([_core._vmath(name, arg[k : k + 1])[0] for k in range(arg.size)])
        assert np.array_equal(whole, one_by_one), name

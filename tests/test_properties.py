"""Property tests (Hypothesis): random shapes, memory layouts (steps,
negative steps, transposes, with NaN in the gaps so that a wrong stride cannot
go unseen), dtypes, reductions, weights and values including extremes, against
the float64 references of tests/reference.py and tests/reference_classaxis.py.

Tolerances are those of tests/test_elementwise.py and tests/test_classaxis.py.
The float64 references are evaluated on the inputs rounded to the test dtype;
for float32 probabilities the reference sees them clipped at float32's
1 - 1e-7 (= 1 - 2**-23), which is what Keras's clip gives in float32."""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reference_classaxis as ref_ca
import test_classaxis as ca
from cases import CASES
from support import DTYPES, REDUCTIONS, tolerance

# FASTLOSS_HYPOTHESIS_EXAMPLES=5000 runs a longer, randomised search (CI: 80, fixed).
_EXAMPLES = int(os.environ.get("FASTLOSS_HYPOTHESIS_EXAMPLES", "80"))
SETTINGS = settings(max_examples=_EXAMPLES, deadline=None, derandomize=_EXAMPLES <= 80,
                    suppress_health_check=[HealthCheck.too_slow])


# --- layouts ---------------------------------------------------------------------------


@st.composite
def layouts(draw, ndim):
    """(perm, reversed axes, steps) of a memory layout for an ndim array."""
    perm = draw(st.permutations(list(range(ndim))))
    rev = draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    steps = draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim))
    return tuple(perm), tuple(rev), tuple(steps)


def with_layout(a: np.ndarray, layout) -> np.ndarray:
    """A view equal to `a` whose memory is laid out as `layout` says: axes
    permuted, some reversed (negative strides), every axis stepped; the gaps
    hold NaN (or an invalid label)."""
    perm, rev, steps = layout
    flips = tuple(slice(None, None, -1) if r else slice(None) for r in rev)
    x = a.transpose(perm)[flips]
    gap = np.nan if a.dtype.kind == "f" else -12345  # a read from a gap cannot go unseen
    big = np.full([max(s, 1) * k for s, k in zip(x.shape, steps)], gap, a.dtype)
    view = big[tuple(slice(0, s * k, k) for s, k in zip(x.shape, steps))]
    view[...] = x
    out = view[flips].transpose(np.argsort(perm))
    assert out.shape == a.shape and np.array_equal(out, a, equal_nan=True)
    return out


# --- carriers: the same values in objects other than a plain array ----------------------------

CARRIERS = ["array", "pickled", "metadata", "memoryview"]


def carried(a, how: str):
    """`a` as a program may hand it over: through pickle (a process pool,
    joblib, Dask: the dtype equals the builtin one but is another object),
    with dtype metadata (a view: the layout is kept), or inside a memoryview
    (the buffer protocol: the layout is kept)."""
    import pickle

    if a is None or how == "array" or not isinstance(a, np.ndarray) or a.ndim == 0:
        return a
    if how == "pickled":
        b = pickle.loads(pickle.dumps(a))
        assert b.dtype == a.dtype
        return b
    if how == "metadata":
        return a.view(np.dtype(a.dtype.type, metadata={"unit": "m"}))
    return memoryview(a)


# --- elementwise ---------------------------------------------------------------------------

REAL = {"mse", "mae", "huber", "huber-0.3", "log_cosh", "half_squared", "smooth_l1",
        "smooth_l1-0.4", "smooth_l1-0", "pinball-0.1", "pinball-0.9", "asymmetric-1-99",
        "hinge-01", "hinge-pm1", "squared_hinge-01", "squared_hinge-pm1"}
PROBS = {"bce", "bce-ls", "focal", "focal-balanced-ls", "focal-gamma0"}


def extreme(case, data, t, p):
    """Values far from the domain's bulk: y_pred scaled by 10**k, or some
    probabilities set to 0, 1 or next to them."""
    if case.id in REAL:
        k = data.draw(st.integers(-30, 12), label="log10 scale")
        return t, p * 10.0 ** k
    if "logits" in case.id or case.id.startswith("exponential"):
        k = data.draw(st.integers(-30, 3 if "logits" in case.id else 1), label="log10 scale")
        return t, p * 10.0 ** k
    if case.id in PROBS and p.size:
        p = p.copy()
        mask = np.random.default_rng(p.size).uniform(size=p.shape) < 0.3
        p[mask] = data.draw(st.sampled_from([0.0, 1.0, 1e-12, 1 - 1e-12, 1e-300]),
                            label="edge probability")
        return t, p
    return t, p


@SETTINGS
@given(data=st.data())
def test_elementwise_against_reference(data):
    case = data.draw(st.sampled_from(CASES), label="case")
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    shape = tuple(data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=3), label="shape"))
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    t, p = case.domain(np.random.default_rng(seed), shape)
    if data.draw(st.booleans(), label="extreme"):
        t, p = extreme(case, data, t, p)
    with np.errstate(over="ignore", under="ignore"):
        t, p = t.astype(dtype), p.astype(dtype)
    sw = None
    if data.draw(st.booleans(), label="weighted"):
        sw = np.random.default_rng(seed + 1).uniform(0.2, 2.0, size=shape[:-1]).astype(dtype)
    loss = case.make(reduction)
    tv = with_layout(t, data.draw(layouts(t.ndim), label="t layout"))
    pv = with_layout(p, data.draw(layouts(p.ndim), label="p layout"))
    tv = carried(tv, data.draw(st.sampled_from(CARRIERS), label="t carrier"))
    pv = carried(pv, data.draw(st.sampled_from(CARRIERS), label="p carrier"))
    sw = carried(sw, data.draw(st.sampled_from(CARRIERS), label="weights carrier"))

    value, grad = loss.forward_backward(tv, pv, sw)
    rp = p
    if dtype == np.float32 and case.id in PROBS:
        rp = np.clip(p, np.float32(1e-7), np.float32(1 - 1e-7))
    with np.errstate(all="ignore"):
        want = case.reduce(case.ref(t, rp), sw, reduction)
    assert np.asarray(value).dtype == dtype and np.shape(value) == np.shape(want)
    np.testing.assert_allclose(value, want, **tolerance(dtype, want))

    # the layout never changes a bit of the value (reduced or per sample) or of
    # the gradient: every layout sums in the same order
    v0, g0 = loss.forward_backward(t, p, sw)
    np.testing.assert_array_equal(value, v0)
    np.testing.assert_array_equal(grad, g0)
    if sw is None and len(shape) > 1:
        # weights of one are exact: the bits of no weights at all
        ones = carried(with_layout(np.ones(shape[:-1], dtype), data.draw(
            layouts(len(shape) - 1), label="ones layout")), "array")
        v1, g1 = loss.forward_backward(tv, pv, ones)
        np.testing.assert_array_equal(v1, v0)
        np.testing.assert_array_equal(g1, g0)
    assert grad.dtype == dtype and grad.shape == p.shape
    np.testing.assert_array_equal(loss.backward(tv, pv, sw), g0)
    np.testing.assert_array_equal(loss(tv, pv, sw), value)
    if loss.has_hessian:
        gh = loss.gradient_hessian(tv, pv, sw)
        gh0 = loss.gradient_hessian(t, p, sw)
        np.testing.assert_array_equal(gh[0], gh0[0])
        np.testing.assert_array_equal(gh[1], gh0[1])
        if reduction == "sum" and p.size:
            # the reduced gradient is the per-element one over the mean's length
            np.testing.assert_allclose(g0 * np.float64(shape[-1]), gh0[0],
                                       **tolerance(dtype, gh0[0]))


# --- class axis -------------------------------------------------------------------------------


def _scale_class_axis(case, data, p):
    if "logits" in case.id or case.id in ("cosine", "categorical_hinge", "zero_one",
                                          "sparse_zero_one"):
        k = data.draw(st.integers(-30, 3 if "logits" in case.id else 15), label="log10 scale")
        return p * 10.0 ** k
    return p


@SETTINGS
@given(data=st.data())
def test_class_axis_against_reference(data):
    case = data.draw(st.sampled_from(ca.CASES), label="case")
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    ndim = data.draw(st.integers(2, 3), label="ndim")
    shape = list(data.draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim),
                           label="shape"))
    axis = data.draw(st.integers(-ndim, ndim - 1), label="axis")
    shape[axis] = data.draw(st.integers(2, 6), label="classes")
    shape = tuple(shape)
    C = shape[axis]
    reduction = data.draw(st.sampled_from(REDUCTIONS), label="reduction")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    t, p = case.domain(np.random.default_rng(seed), shape, axis)
    if data.draw(st.booleans(), label="extreme"):
        p = _scale_class_axis(case, data, p)
    if t is not None and case.kind == "dense":
        t = t.astype(dtype)
    with np.errstate(over="ignore", under="ignore"):
        p = p.astype(dtype)
    sample_shape = tuple(s for i, s in enumerate(shape) if i != axis % ndim)
    sw = None
    if data.draw(st.booleans(), label="weighted"):
        sw = np.random.default_rng(seed + 1).uniform(0.2, 2.0, size=sample_shape).astype(dtype)
    loss = case.make(C, reduction, axis=axis)
    pv = with_layout(p, data.draw(layouts(p.ndim), label="p layout"))
    tv = t
    if t is not None and np.ndim(t):
        tv = with_layout(np.asarray(t), data.draw(layouts(np.ndim(t)), label="t layout"))
    tv = carried(tv, data.draw(st.sampled_from(CARRIERS), label="t carrier"))
    pv = carried(pv, data.draw(st.sampled_from(CARRIERS), label="p carrier"))
    sw = carried(sw, data.draw(st.sampled_from(CARRIERS), label="weights carrier"))

    value, grad = ca.forward_backward(case, loss, tv, pv, sw)
    valid, lw = case.mask(t, C)
    with np.errstate(all="ignore"):
        want = ref_ca.reduce(case.ref(t, p, axis), sw, reduction, valid, lw)
    assert np.asarray(value).dtype == dtype and np.shape(value) == np.shape(want)
    np.testing.assert_allclose(value, want, **tolerance(dtype, want, atol32=3e-6))

    v0, g0 = ca.forward_backward(case, loss, t, p, sw)
    np.testing.assert_array_equal(value, v0)
    np.testing.assert_array_equal(grad, g0)
    assert grad.dtype == dtype and grad.shape == p.shape
    np.testing.assert_array_equal(ca.backward(case, loss, tv, pv, sw), g0)
    if loss.has_hessian:
        gh = ca.gradient_hessian(case, loss, tv, pv, sw)
        gh0 = ca.gradient_hessian(case, loss, t, p, sw)
        np.testing.assert_array_equal(gh[0], gh0[0])
        np.testing.assert_array_equal(gh[1], gh0[1])


# --- the Python layer's shape rules ------------------------------------------------------------


@SETTINGS
@given(data=st.data())
def test_broadcast_y_true_equals_materialised(data):
    """y_true that broadcasts to y_pred gives the result of the broadcast copy."""
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="shape"))
    tshape = tuple(s if data.draw(st.booleans()) else 1 for s in shape)
    tshape = tshape[data.draw(st.integers(0, len(tshape) - 1), label="drop"):]
    # Keras's rank alignment squeezes a trailing 1 when the ranks differ by one
    assume(not (len(tshape) == len(shape) - 1 and shape[-1] == 1))
    case = data.draw(st.sampled_from(CASES), label="case")
    t, p = case.domain(np.random.default_rng(len(shape)), shape)
    t = t[tuple(slice(0, s) for s in (1,) * (len(shape) - len(tshape)) + tshape)]
    t = t.reshape(tshape)
    full = np.ascontiguousarray(np.broadcast_to(t, shape))
    loss = case.make("none")
    v, g = loss.forward_backward(t, p)
    v0, g0 = loss.forward_backward(full, p)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)

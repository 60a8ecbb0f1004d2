"""Every elementwise loss, tested four ways over the case table: against the
float64 reference, against central differences, fused == separate, and through
the machinery (lengths, strides, threads, dtypes, out=)."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

import reference as ref
from cases import CASE_IDS, CASES, HESSIAN_CASES, Case
from support import DTYPES, REDUCTIONS, rng_for, tolerance


def draw(case: Case, shape, dtype, *key):
    t, p = case.domain(rng_for(case.id, shape, *key), shape)
    return t.astype(dtype), p.astype(dtype)


# --- 1. against the float64 reference ------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_matches_reference(case, dtype, reduction, weighted):
    t, p = draw(case, (6, 5), dtype)
    sw = rng_for(case.id, "w").uniform(0.2, 2.0, size=6).astype(dtype) if weighted else None
    got = case.make(reduction)(t, p, sample_weight=sw)
    want = case.reduce(case.ref(t, p), sw, reduction)
    assert np.asarray(got).dtype == dtype
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, **tolerance(dtype, want))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hand_computed_values(case):
    # Two elements whose per-element losses follow from the formula by hand.
    t = np.array([[0.0, 1.0]])
    p = np.array([[0.25, 0.5]])
    loss = case.make("none")
    want = case.per_sample(case.ref(t, p))
    np.testing.assert_allclose(loss(t, p), want, rtol=1e-12)


HAND = [  # (loss, y_true, y_pred, expected per-sample value) worked out on paper
    (fl.MeanSquaredError(), [1.0, 2.0], [3.0, 2.0], 2.0),
    (fl.MeanAbsoluteError(), [1.0, -2.0], [3.0, 2.0], 3.0),
    (fl.MeanAbsolutePercentageError(), [2.0, -4.0], [3.0, -2.0], 50.0),
    (fl.Huber(delta=1.0), [0.0, 0.0], [0.5, 3.0], (0.125 + 2.5) / 2),
    (fl.HalfSquaredError(), [0.0], [3.0], 4.5),
    (fl.SmoothL1(beta=2.0), [0.0, 0.0], [1.0, 5.0], (0.25 + 4.0) / 2),
    (fl.Pinball(quantile=0.9), [1.0, 1.0], [0.0, 2.0], (0.9 + 0.1) / 2),
    (fl.AsymmetricLinear(1.0, 99.0), [1.0, 1.0], [2.0, 0.0], (1.0 + 99.0) / 2),
    (fl.Hinge(), [1.0, 0.0], [0.5, 0.5], (0.5 + 1.5) / 2),
    (fl.SquaredHinge(), [1.0, -1.0], [0.5, 0.5], (0.25 + 2.25) / 2),
    (fl.ExponentialLoss(), [1.0, -1.0], [0.0, 0.0], 1.0),
    (fl.Poisson(), [0.0, 0.0], [2.0, 4.0], 3.0),
    (fl.ZeroOneLoss(), [1.0, 0.0, 1.0, 0.0], [0.9, 0.1, 0.2, 0.7], 0.5),
    (fl.BinaryCrossentropy(), [1.0, 0.0], [0.5, 0.5], np.log(2.0)),
    (fl.BinaryCrossentropy(from_logits=True), [1.0, 0.0], [0.0, 0.0], np.log(2.0)),
    (fl.BinaryFocalCrossentropy(gamma=2.0), [1.0], [0.5], 0.25 * np.log(2.0)),
    (fl.MeanSquaredLogarithmicError(), [0.0], [np.e - 1.0], (1.0 - np.log1p(1e-7)) ** 2),
    (fl.LogCosh(), [0.0], [0.0], 0.0),
]


@pytest.mark.parametrize("loss,t,p,want", HAND, ids=[type(h[0]).__name__ for h in HAND])
def test_values_worked_by_hand(loss, t, p, want):
    np.testing.assert_allclose(loss(t, p), want, rtol=1e-12, atol=1e-15)


# --- 2. central differences (float64) -------------------------------------

H = 1e-4


def central(f, x, h=H):
    """4th-order central difference of an elementwise-separable f at x."""
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


def smooth_sample(case: Case, n=400):
    t, p = draw(case, (n,), np.float64, "cd")
    mask = case.kink_distance(t, p) > 5 * H
    assert mask.mean() > 0.5, "the domain should be mostly smooth"
    return t[mask], p[mask]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradient_central_differences(case):
    t, p = smooth_sample(case)
    per_element = case.make("none")
    col_t = t[:, None]
    g = per_element.backward(col_t, p[:, None]).ravel()
    numeric = central(lambda x: np.reshape(per_element(col_t, x[:, None]), -1), p)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7 * max(1, np.abs(numeric).max()))


@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.id for c in HESSIAN_CASES])
def test_hessian_central_differences(case):
    t, p = smooth_sample(case)
    loss = case.make()
    g, h = loss.gradient_hessian(t, p)
    numeric_g = central(lambda x: np.reshape(case.make("none")(t[:, None], x[:, None]), -1), p)
    numeric_h = central(lambda x: loss.gradient_hessian(t, x)[0], p)
    np.testing.assert_allclose(g, numeric_g, rtol=1e-6, atol=1e-7 * max(1, np.abs(g).max()))
    np.testing.assert_allclose(h, numeric_h, rtol=1e-6, atol=1e-7 * max(1, np.abs(h).max()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reduced_gradient_directional_derivative(case, reduction):
    """<backward, v> equals the derivative of the reduced loss along v, for
    every reduction, with sample weights and an upstream grad_output."""
    shape = (5, 4)
    t, p = draw(case, shape, np.float64, "dd")
    rng = rng_for(case.id, "v")
    v = rng.uniform(-1, 1, size=shape) * (case.kink_distance(t, p) > 5 * H)
    sw = rng.uniform(0.2, 2.0, size=5)
    loss = case.make(reduction)
    upstream = (rng.uniform(0.5, 1.5, size=case.sample_shape(shape))
                if reduction in ("none", None) else 1.7)
    g = loss.backward(t, p, sample_weight=sw, grad_output=upstream)

    def weighted(s):
        return np.sum(upstream * loss(t, p + s * v, sample_weight=sw))

    numeric = (-weighted(2 * H) + 8 * weighted(H) - 8 * weighted(-H) + weighted(-2 * H)) / (12 * H)
    np.testing.assert_allclose(np.sum(g * v), numeric, rtol=1e-6, atol=1e-9)


# --- 3. fused == separate ----------------------------------------------------


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fused_equals_separate(case, dtype, reduction):
    t, p = draw(case, (33, 7), dtype)
    sw = np.linspace(0.5, 1.5, 33).astype(dtype)
    loss = case.make(reduction)
    value, grad = loss.forward_backward(t, p, sw, grad_output=0.5)
    np.testing.assert_array_equal(value, loss(t, p, sw))
    np.testing.assert_array_equal(grad, loss.backward(t, p, sw, grad_output=0.5))
    assert grad.dtype == dtype and grad.shape == p.shape


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hessian_or_clear_refusal(case):
    loss = case.make()
    t, p = draw(case, (4, 3), np.float64)
    if loss.has_hessian:
        g, h = loss.gradient_hessian(t, p)
        # the per-element gradient is the unreduced one: no 1/D, no 1/N
        mean_over = 1 if case.cls._per_element else 3
        np.testing.assert_allclose(g, case.make("sum").backward(t, p) * mean_over, rtol=1e-12)
        assert h.shape == p.shape
    else:
        with pytest.raises(NotImplementedError, match=type(loss).__name__ + " has no"):
            loss.gradient_hessian(t, p)


# --- 4. machinery ---------------------------------------------------------------

# around the 8-lane body, the 8192-element tile and the rows-per-tile split
LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 8191, 8192, 8193, 3 * 8192 + 5]


@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("case", [c for c in CASES if c.id in ("mse", "bce-logits", "huber")],
                         ids=lambda c: c.id)
def test_lengths_long_rows_and_many_rows(case, n):
    for shape in [(n,), (2, n), (n, 1), (n, 3)]:
        t, p = draw(case, shape, np.float64, n)
        loss = case.make("none")
        want = ref.keras_reduce(case.ref(t, p), -1, None, "none")
        np.testing.assert_allclose(loss(t, p), want, rtol=1e-9, atol=1e-12)
        reduced = case.make()(t, p)
        want_r = ref.keras_reduce(case.ref(t, p), -1, None, "sum_over_batch_size")
        np.testing.assert_allclose(reduced, want_r, rtol=1e-9, atol=1e-12)
        g = loss.backward(t, p, grad_output=np.ones(np.shape(want)))
        assert g.shape == p.shape


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_strided_and_broadcast_inputs_match_contiguous(case):
    t, p = draw(case, (40, 30), np.float64, "strided")
    views = [
        (t[::2, ::3], p[::2, ::3]),
        (t[::-1, 5:], p[::-1, 5:]),
        (np.asfortranarray(t), np.asfortranarray(p)),
        (t[3], p),  # y_true broadcast along the batch
    ]
    loss = case.make("none")
    for tv, pv in views:
        tc = np.ascontiguousarray(np.broadcast_to(tv, pv.shape))
        pc = np.ascontiguousarray(pv)
        upstream = np.ones(case.sample_shape(pv.shape))
        v1, g1 = loss.forward_backward(tv, pv, grad_output=upstream)
        v2, g2 = loss.forward_backward(tc, pc, grad_output=upstream)
        np.testing.assert_array_equal(v1, v2)
        np.testing.assert_array_equal(g1, g2)


AXIS_CASES = [c for c in CASES if "axis" in c.make().get_config()]  # Keras's BCE and focal


@pytest.mark.parametrize("case", AXIS_CASES, ids=[c.id for c in AXIS_CASES])
def test_middle_and_leading_axis(case):
    t, p = draw(case, (3, 4, 5), np.float64)
    sw = np.arange(1.0, 1.0 + 3 * 5).reshape(3, 5)
    for axis in (0, 1, -1):
        loss = case.cls(**case.params, axis=axis, reduction="none")
        want = ref.keras_reduce(case.ref(t, p), axis, None, "none")
        np.testing.assert_allclose(loss(t, p), want, rtol=1e-12)
        if axis == 1:
            reduced = case.cls(**case.params, axis=axis)(t, p, sample_weight=sw)
            want = ref.keras_reduce(case.ref(t, p), axis, sw, "sum_over_batch_size")
            np.testing.assert_allclose(reduced, want, rtol=1e-12)


@pytest.mark.parametrize("shape", [(300_001,), (700, 500), (30, 20_000), (3, 20_000, 4)])
@pytest.mark.parametrize("case", [c for c in CASES if c.id in ("mse", "bce-logits", "focal")],
                         ids=lambda c: c.id)
def test_thread_count_does_not_change_a_bit(case, shape):
    t, p = draw(case, shape, np.float32, "threads")
    sw = np.linspace(0.1, 2, int(np.prod(shape[:-1]))).reshape(shape[:-1]).astype(np.float32)
    before = fl.get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            fl.set_num_threads(n)
            loss = case.make()
            results.append(loss.forward_backward(t, p, sw if sw.ndim else None))
            results[-1] += (case.make("none")(t, p),)
    finally:
        fl.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_float32_sums_are_accurate():
    # 10^7 float32 elements: the float64 accumulators keep the mean to ~1e-7.
    rng = np.random.default_rng(7)
    p = rng.normal(size=10_000_000).astype(np.float32)
    t = np.zeros_like(p)
    got = fl.MeanSquaredError()(t, p)
    want = np.mean(p.astype(np.float64) ** 2)
    assert abs(float(got) - want) / want < 2e-7


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_dtypes_preserved_and_converted(case):
    t, p = draw(case, (4, 3), np.float32)
    loss = case.make()
    value, grad = loss.forward_backward(t, p)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    value16, grad16 = loss.forward_backward(t, p.astype(np.float16))
    assert value16.dtype == np.float32 and grad16.dtype == np.float32
    # lists and integer arrays are computed in float64
    value_list = loss(t.astype(np.float64).tolist(), p.astype(np.float64).tolist())
    assert value_list.dtype == np.float64
    assert loss(np.array([[1, 0]]), np.array([[1, 1]])).dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_out_and_in_place(case):
    t, p = draw(case, (9, 4), np.float64)
    loss = case.make()
    expected_value, expected_grad = loss.forward_backward(t, p)
    out = np.full_like(p, np.nan)
    value, grad = loss.forward_backward(t, p, out=out)
    assert grad is out
    np.testing.assert_array_equal(out, expected_grad)
    # a strided out= is written in place
    big = np.zeros((9, 8))
    loss.backward(t, p, out=big[:, ::2])
    np.testing.assert_array_equal(big[:, ::2], expected_grad)
    assert np.all(big[:, 1::2] == 0)
    # in place over y_pred: the logits become the gradient
    inplace = p.copy()
    value2, grad2 = loss.forward_backward(t, inplace, out=inplace)
    assert grad2 is inplace
    np.testing.assert_array_equal(inplace, expected_grad)
    np.testing.assert_array_equal(value2, expected_value)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_inputs_never_modified_and_read_only_inputs_work(case):
    t, p = draw(case, (5, 6), np.float32)
    sw = np.linspace(1, 2, 5).astype(np.float32)
    copies = [x.copy() for x in (t, p, sw)]
    for x in (t, p, sw):
        x.flags.writeable = False
    loss = case.make()
    loss(t, p, sw)
    loss.backward(t, p, sw)
    loss.forward_backward(t, p, sw)
    if loss.has_hessian:
        loss.gradient_hessian(t, p, sw)
    for x, c in zip((t, p, sw), copies):
        np.testing.assert_array_equal(x, c)


def test_keras_rank_alignment_and_broadcast():
    loss = fl.MeanSquaredError(reduction="none")
    t = np.array([1.0, 2.0, 3.0])
    p = np.array([[1.5], [2.0], [2.0]])
    # y_true (B,) against y_pred (B, 1): y_true is expanded, per-sample shape (B,)
    np.testing.assert_allclose(loss(t, p), [0.25, 0.0, 1.0])
    np.testing.assert_allclose(loss(t[:, None], p[:, 0]), [0.25, 0.0, 1.0])
    g = loss.backward(t[:, None], p[:, 0], grad_output=np.ones(3))
    assert g.shape == (3,)
    # y_true broadcast over the batch
    np.testing.assert_allclose(loss([0.0, 1.0], [[0.0, 0.0], [1.0, 1.0]]), [0.5, 0.5])


def test_empty_batches():
    loss = fl.MeanSquaredError()
    for shape in [(0, 5), (0, 2, 3), (0, 0)]:
        e = np.zeros(shape, np.float32)
        value, grad = loss.forward_backward(e, e)
        assert value == 0.0 and value.dtype == np.float32
        assert grad.shape == shape
    assert fl.MeanSquaredError(reduction="none")(np.zeros((0, 5)), np.zeros((0, 5))).shape == (0,)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (3, 0), (2, 3, 0)])
def test_samples_without_elements_are_nan_as_in_keras(shape, reduction):
    """Samples that exist but have nothing along the mean axis: their mean is
    NaN, and so is every reduction of it (Keras 3 gives NaN; only an empty
    batch, no samples at all, reduces to 0)."""
    e = np.zeros(shape)
    unreduced = reduction in (None, "none")
    for loss in (fl.MeanSquaredError(reduction=reduction), fl.Huber(reduction=reduction)):
        value = loss(e, e)
        assert np.shape(value) == (shape[:-1] if unreduced else ())
        assert np.all(np.isnan(value))
        assert np.all(np.isnan(loss(e, e, sample_weight=2.0)))
        go = np.ones(shape[:-1]) if unreduced else 1.0
        assert loss.backward(e, e, grad_output=go).shape == shape


def test_scalar_samples_follow_keras():
    # 1-D inputs are one sample: Keras returns its weighted value unreduced.
    t, p = np.zeros(4), np.arange(4.0)
    for reduction in REDUCTIONS:
        got = fl.MeanSquaredError(reduction=reduction)(t, p, sample_weight=2.0)
        assert np.shape(got) == ()
        np.testing.assert_allclose(got, 2.0 * np.mean(p**2))
    # per-element weights on 1-D inputs broadcast the value (Keras multiplies after the mean)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(fl.MeanSquaredError()(t, p, sample_weight=w),
                               np.mean(p**2) * w.mean())
    np.testing.assert_allclose(fl.MeanSquaredError(reduction="none")(t, p, sample_weight=w),
                               np.mean(p**2) * w)


def test_gradient_hessian_takes_per_element_weights():
    t = np.array([0.0, 1.0, 0.0])
    p = np.array([0.3, 0.4, -2.0])
    w = np.array([1.0, 2.0, 3.0])
    g, h = fl.BinaryCrossentropy(from_logits=True).gradient_hessian(t, p, sample_weight=w)
    s = 1 / (1 + np.exp(-p))
    np.testing.assert_allclose(g, w * (s - t))
    np.testing.assert_allclose(h, w * s * (1 - s))


def test_hinge_converts_only_all_binary_labels():
    p = np.array([[0.3, -0.2]])
    np.testing.assert_allclose(fl.hinge([[1.0, 0.0]], p), np.mean([0.7, 0.8]))
    np.testing.assert_allclose(fl.hinge([[1.0, -1.0]], p), np.mean([0.7, 0.8]))
    # a 0.5 label anywhere in the call switches the conversion off (Keras)
    np.testing.assert_allclose(fl.hinge([[1.0, 0.5]], p), np.mean([0.7, 1.1]))


@pytest.mark.parametrize("loss", [fl.BinaryCrossentropy(from_logits=True),
                                  fl.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                                  fl.BinaryFocalCrossentropy(from_logits=True),
                                  fl.BinaryFocalCrossentropy(from_logits=True, gamma=0.5,
                                                             apply_class_balancing=True)],
                         ids=["bce", "bce-ls", "focal", "focal-g0.5"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_logits_paths_are_stable_at_1e4(loss, dtype):
    z = np.array([[-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4]] * 2, dtype=dtype)
    t = np.array([[0.0] * 7, [1.0] * 7], dtype=dtype)
    value, grad = loss.forward_backward(t, z)
    g, h = loss.gradient_hessian(t, z)
    for x in (value, grad, g, h):
        assert np.all(np.isfinite(x))
    if type(loss) is fl.BinaryCrossentropy and not loss.label_smoothing:
        # a confidently wrong logit costs |z| and has gradient ±1
        per_element = fl.BinaryCrossentropy(from_logits=True, reduction="none")
        np.testing.assert_allclose(per_element(t[:, :1], z[:, :1]), [0.0, 1e4])
        np.testing.assert_allclose(g[:, 0], [0.0, -1.0])
        np.testing.assert_allclose(g[:, -1], [1.0, 0.0])


def test_nan_and_inf_propagate():
    loss = fl.MeanSquaredError(reduction="none")
    got = loss([[0.0, 0.0], [0.0, 0.0]], [[np.nan, 1.0], [np.inf, 1.0]])
    assert np.isnan(got[0]) and np.isinf(got[1])
    assert np.isnan(fl.ZeroOneLoss()([[1.0]], [[np.nan]]))


def test_tutorials_cost_profit_loss_pushes_predictions_up():
    # the yogurt-sales tutorial: with COST=1, PROFIT=99 the best constant prediction is
    # the 99% quantile
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 1, size=(2000, 1))
    loss = fl.AsymmetricLinear(overestimate_cost=1, underestimate_cost=99)
    grid = np.linspace(0, 1, 201)
    best = grid[np.argmin([loss(y, np.full_like(y, c)) for c in grid])]
    assert abs(best - np.quantile(y, 0.99)) < 0.01


# --- the small-call fast path ----------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(64,), (8, 16), (2, 3, 5)], ids=str)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_fast_path_is_the_general_path_bit_for_bit(case, dtype, shape, reduction):
    """Same-shape contiguous float arrays without weights take a shortcut past
    the shape logic; it must give exactly what the general path gives (reached
    here by passing y_true as a list, which is converted to the same array)."""
    rng = rng_for(case.id, dtype, shape, reduction)
    t, p = (a.astype(dtype) for a in case.domain(rng, shape))
    loss = case.make(reduction)
    code = {"sum_over_batch_size": 2, "sum": 1, "mean_with_sample_weight": 3}[reduction]
    assert loss._kernel.fast(t, p, code, 1.0, True, True, 1.0) is not None  # taken
    value, grad = loss.forward_backward(t, p, grad_output=0.5)
    value_g, grad_g = loss.forward_backward(t.tolist(), p, grad_output=0.5)
    assert type(value) is type(value_g) and value.dtype == dtype
    np.testing.assert_array_equal(value, value_g)
    np.testing.assert_array_equal(grad, grad_g)
    assert grad.dtype == dtype and grad.shape == p.shape
    np.testing.assert_array_equal(loss(t, p), loss(t.tolist(), p))
    np.testing.assert_array_equal(loss.backward(t, p), loss.backward(t.tolist(), p))
    buf = np.full_like(p, np.nan)
    v_out, g_out = loss.forward_backward(t, p, out=buf, grad_output=0.5)
    assert g_out is buf and v_out == value
    np.testing.assert_array_equal(buf, grad)
    inplace = p.copy()
    _, g_in = loss.forward_backward(t, inplace, out=inplace, grad_output=0.5)
    assert g_in is inplace
    np.testing.assert_array_equal(inplace, grad)


def test_fast_path_declines_what_it_does_not_handle():
    k = fl.MeanSquaredError()._kernel
    a = np.ones((4, 3), np.float32)
    assert k.fast(a, a.T.copy().T, 2, 4.0, True, True, 1.0) is None  # not C-contiguous
    assert k.fast(a, a.astype(np.float64), 2, 4.0, True, True, 1.0) is None  # dtypes differ
    assert k.fast(a[:, :1], a[:, 0].copy(), 2, 4.0, True, True, 1.0) is None  # shapes differ
    assert k.fast(a[:0], a[:0], 2, 1.0, True, True, 1.0) is None  # empty
    assert k.fast(a.astype(">f4"), a.astype(">f4"), 2, 4.0, True, True, 1.0) is None
    assert k.fast([1.0], a, 2, 4.0, True, True, 1.0) is None  # not an array
    assert k.fast(a, a, 0, 1.0, True, True, 1.0) is None  # reduction "none"
    b = np.ones((4, 3), np.float32)
    assert k.fast(a, b, 2, 4.0, True, True, 1.0, a) is None  # out aliases y_true
    assert k.fast(a, b, 2, 4.0, True, True, 1.0, b[::-1]) is None  # out overlaps y_pred
    ro = np.zeros((4, 3), np.float32)
    ro.flags.writeable = False
    assert k.fast(a, b, 2, 4.0, True, True, 1.0, ro) is None  # read-only out
    assert k.fast(a, b, 2, 4.0, True, True, 1.0, np.zeros((4, 3))) is None  # out dtype
    assert k.fast(a, b, 2, 4.0, True, True, 1.0, np.zeros((3, 4), np.float32)) is None
    with pytest.raises(ValueError, match="out must not overlap y_true"):
        fl.MeanSquaredError().forward_backward(a, b, out=a)  # the general path explains


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_zero_d_inputs_take_the_general_path(reduction):
    """Found by the fuzzer: the fast path's shape arithmetic assumed a last axis."""
    loss = fl.MeanSquaredError(reduction=reduction)
    t, p = np.array(1.0, np.float32), np.array(3.0, np.float32)
    value, grad = loss.forward_backward(t, p)
    assert value == np.float32(4.0) and grad.shape == () and grad == np.float32(4.0)
    assert loss(t, p) == np.float32(4.0)

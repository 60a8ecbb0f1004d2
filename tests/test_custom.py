"""Custom losses: weighted sums built by
arithmetic (``0.7 * a + 0.3 * b``), whose four methods must be the weighted
sums of the terms', and user-defined elementwise losses from NumPy callables,
which must behave exactly as the built-in losses they reimplement."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

import reference as ref
from support import DTYPES, REDUCTIONS, rng_for, tolerance


def close(dtype, expected):
    """Two computations of the same float value that differ only in where a
    weight is applied (inside the kernel or after it): a few ulps, relative to
    the size of what is compared."""
    scale = float(np.max(np.abs(np.asarray(expected, dtype=np.float64)), initial=0.0))
    if dtype == np.float32:
        return {"rtol": 2e-6, "atol": 1e-6 * scale}
    return {"rtol": 1e-13, "atol": 1e-14 * scale}


def assert_close_all(got, want, dtype):
    got, want = list(got), list(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == dtype
        np.testing.assert_allclose(g, w, **close(dtype, w))


# --- 1. sums of (y_true, y_pred) losses -----------------------------------------------


PAIRS = {
    "mse+mae": (fl.MeanSquaredError, {}, ref.mean_squared_error,
                fl.MeanAbsoluteError, {}, ref.mean_absolute_error),
    "mse+huber": (fl.MeanSquaredError, {}, ref.mean_squared_error,
                  fl.Huber, {"delta": 0.5}, lambda t, p: ref.huber(t, p, delta=0.5)),
}


def _pair(pair_id, reduction):
    cls_a, kw_a, _, cls_b, kw_b, _ = PAIRS[pair_id]
    return cls_a(**kw_a, reduction=reduction), cls_b(**kw_b, reduction=reduction)


def _data(dtype, key=()):
    rng = rng_for("pair", *key)
    t, p = rng.normal(size=(6, 5)), rng.normal(scale=1.5, size=(6, 5))
    return t.astype(dtype), p.astype(dtype), rng.uniform(0.2, 2.0, size=6).astype(dtype)


def _upstream(reduction):
    return np.linspace(0.5, 1.5, 6) if reduction in (None, "none") else 1.3


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pair_id", sorted(PAIRS))
def test_weighted_sum_of_elementwise_losses(pair_id, dtype, reduction):
    a, b = _pair(pair_id, reduction)
    total = 0.7 * a + 0.3 * b
    assert isinstance(total, fl.CompositeLoss)
    t, p, sw = _data(dtype, pair_id)
    go = _upstream(reduction)

    value = total(t, p, sample_weight=sw)
    want = 0.7 * _f64(a(t, p, sw)) + 0.3 * _f64(b(t, p, sw))
    assert np.asarray(value).dtype == dtype and np.shape(value) == np.shape(want)
    np.testing.assert_allclose(value, want, **close(dtype, want))
    # ... and against the independent float64 reference
    _, _, ref_a, _, _, ref_b = PAIRS[pair_id]
    reference = (0.7 * ref.keras_reduce(ref_a(t, p), -1, sw, reduction)
                 + 0.3 * ref.keras_reduce(ref_b(t, p), -1, sw, reduction))
    np.testing.assert_allclose(value, reference, **tolerance(dtype, reference))

    grad = total.backward(t, p, sw, grad_output=go)  # a Keras-shaped sum: an array
    assert isinstance(grad, np.ndarray) and grad.shape == p.shape
    want_g = (0.7 * _f64(a.backward(t, p, sw, grad_output=go))
              + 0.3 * _f64(b.backward(t, p, sw, grad_output=go)))
    assert_close_all([grad], [want_g], dtype)

    fused_value, fused_grad = total.forward_backward(t, p, sample_weight=sw, grad_output=go)
    np.testing.assert_array_equal(fused_value, value)
    np.testing.assert_array_equal(fused_grad, grad)


def _f64(x):
    return np.asarray(x, dtype=np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_sum_gradient_hessian(dtype):
    a, b = fl.MeanSquaredError(), fl.Huber(delta=0.5)
    total = 0.7 * a + 0.3 * b
    assert total.has_hessian
    t, p, sw = _data(dtype, "gh")
    g, h = total.gradient_hessian(t, p, sample_weight=sw)
    (ga, ha), (gb, hb) = a.gradient_hessian(t, p, sw), b.gradient_hessian(t, p, sw)
    assert_close_all([g, h], [0.7 * _f64(ga) + 0.3 * _f64(gb), 0.7 * _f64(ha) + 0.3 * _f64(hb)],
                     dtype)
    # the MSE Hessian is 2 and Huber's 1 inside delta, 0 outside: times the weights
    inside = np.abs(_f64(p) - _f64(t)) <= 0.5
    want_h = (1.4 + 0.3 * inside) * _f64(sw)[:, None]
    np.testing.assert_allclose(h, want_h, **close(dtype, want_h))

    mixed = 0.7 * a + 0.3 * fl.MeanAbsoluteError()
    assert not mixed.has_hessian
    with pytest.raises(NotImplementedError, match="MeanAbsoluteError"):
        mixed.gradient_hessian(t, p)


def test_weighted_sum_out_and_inputs_untouched():
    t, p, sw = _data(np.float64, "out")
    total = 0.7 * fl.MeanSquaredError() + 0.3 * fl.MeanAbsoluteError()
    want = total.backward(t, p, sw)
    t0, p0 = t.copy(), p.copy()
    out = np.empty_like(p)
    assert total.backward(t, p, sw, out=out) is out
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(p, p0)
    value, g = total.forward_backward(t, p, sw, out=p)  # in place, for huge inputs
    assert g is p
    np.testing.assert_array_equal(p, want)
    assert value == total(t, p0, sw)
    with pytest.raises(ValueError, match="must not overlap"):
        total.backward(t, p0, out=t)


# --- 2. sums of the model losses -------------------------------------------------------


def _style_inputs(dtype, key="style"):
    rng = rng_for(key)
    content = rng.normal(size=(2, 6, 5, 4)).astype(dtype)
    style = rng.normal(size=(6, 5, 4)).astype(dtype)
    generated = rng.normal(size=(2, 6, 5, 4)).astype(dtype)
    return content, style, generated, np.array([0.5, 1.5], dtype)


def _weighted(pairs):
    """sum w * arrays, in float64."""
    return sum(w * _f64(x) for w, x in pairs)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_content_plus_style(dtype, reduction):
    alpha, beta = 0.7, 30.0
    content_loss, style_loss = fl.ContentLoss(reduction=reduction), \
        fl.StyleLoss(reduction=reduction)
    total = alpha * content_loss + beta * style_loss
    c, s, g, sw = _style_inputs(dtype)
    go = np.array([1.0, -0.5]) if reduction == "none" else 0.8

    # per-term targets, in term order, then the trained input
    value, (grad,) = total.forward_backward(c, s, g, sample_weight=sw, grad_output=go)
    want = _weighted([(alpha, content_loss(c, g, sw)), (beta, style_loss(s, g, sw))])
    np.testing.assert_allclose(value, want, **close(dtype, want))
    want_g = _weighted([(alpha, content_loss.backward(c, g, sw, grad_output=go)[0]),
                        (beta, style_loss.backward(s, g, sw, grad_output=go)[0])])
    assert_close_all([grad], [want_g], dtype)
    np.testing.assert_array_equal(total(c, s, g, sample_weight=sw), value)
    backward = total.backward(c, s, g, sample_weight=sw, grad_output=go)
    assert isinstance(backward, tuple) and len(backward) == 1
    np.testing.assert_array_equal(backward[0], grad)

    # one target shared by both terms
    shared = total(s, g, sample_weight=sw)
    want_shared = _weighted([(alpha, content_loss(s, g, sw)), (beta, style_loss(s, g, sw))])
    np.testing.assert_allclose(shared, want_shared, **close(dtype, want_shared))

    (gh_g,), (gh_h,) = total.gradient_hessian(c, s, g, sample_weight=sw)
    (cg,), (ch,) = content_loss.gradient_hessian(c, g, sw)
    (sg,), (sh,) = style_loss.gradient_hessian(s, g, sw)
    assert_close_all([gh_g, gh_h], [_weighted([(alpha, cg), (beta, sg)]),
                                    _weighted([(alpha, ch), (beta, sh)])], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_style_plus_total_variation(dtype):
    """Per-term targets: the style features (StyleLoss's target), then the
    images trained by both (TotalVariation has no target)."""
    _, s, g, sw = _style_inputs(dtype, "style-tv")
    style_loss, tv = fl.StyleLoss(), fl.TotalVariation()
    total = 10.0 * style_loss + 0.01 * tv
    value, (grad,) = total.forward_backward(s, g, sample_weight=sw)
    want = _weighted([(10.0, style_loss(s, g, sw)), (0.01, tv(g, sw))])
    np.testing.assert_allclose(value, want, **close(dtype, want))
    want_g = _weighted([(10.0, style_loss.backward(s, g, sw)[0]), (0.01, tv.backward(g, sw)[0])])
    assert_close_all([grad], [want_g], dtype)
    assert not total.has_hessian
    with pytest.raises(NotImplementedError, match="TotalVariation"):
        total.gradient_hessian(s, g)
    with pytest.raises(TypeError, match=r"takes 2 inputs .*got 3"):
        total(s, s, g)


def test_sum_of_gan_discriminator_losses_returns_both_gradients():
    rng = rng_for("gan-sum")
    real, fake = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    logits, probs = fl.GANDiscriminatorLoss(), fl.GANDiscriminatorLoss(from_logits=False)
    total = logits + 2.0 * probs
    p_real, p_fake = 1 / (1 + np.exp(-real)), 1 / (1 + np.exp(-fake))
    # both terms see the same inputs: here the logits path of the first and
    # the probability path of the second agree on sigmoid(x) inputs only, so
    # compare against the terms called on the same arrays
    value, grads = total.forward_backward(p_real, p_fake)
    assert len(grads) == 2
    np.testing.assert_allclose(value, logits(p_real, p_fake) + 2 * probs(p_real, p_fake),
                               rtol=1e-13)
    for g, a, b in zip(grads, logits.backward(p_real, p_fake), probs.backward(p_real, p_fake)):
        np.testing.assert_allclose(g, a + 2 * b, rtol=1e-13)
    out = (np.empty_like(p_real), np.empty_like(p_fake))
    got = total.backward(p_real, p_fake, out=out)
    assert got[0] is out[0] and got[1] is out[1]
    np.testing.assert_array_equal(out[0], grads[0])


def test_style_layers_in_a_sum():
    rng = rng_for("layers-sum")
    style = [rng.normal(size=(4, 4, 3)), rng.normal(size=(2, 2, 5))]
    gen = [rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 2, 2, 5))]
    a, b = fl.StyleLoss(), fl.StyleLoss(layer_weights=[2.0, 0.5])
    total = a - 0.5 * b
    (grads,) = total.backward(style, gen)
    assert isinstance(grads, list) and len(grads) == 2
    for g, ga, gb in zip(grads, a.backward(style, gen)[0], b.backward(style, gen)[0]):
        np.testing.assert_allclose(g, ga - 0.5 * gb, rtol=1e-12, atol=1e-15)


# --- 3. arithmetic ----------------------------------------------------------------------


def _terms(loss):
    return [(w, type(t).__name__) for w, t in loss.terms]


def test_arithmetic_builds_flat_weighted_sums():
    mse, mae, huber = fl.MeanSquaredError(), fl.MeanAbsoluteError(), fl.Huber()
    assert _terms(sum([mse, mae, huber])) == [(1.0, "MeanSquaredError"),
                                              (1.0, "MeanAbsoluteError"), (1.0, "Huber")]
    assert _terms(mse - mae) == [(1.0, "MeanSquaredError"), (-1.0, "MeanAbsoluteError")]
    assert _terms(-mse) == [(-1.0, "MeanSquaredError")]
    assert _terms(mse / 4) == [(0.25, "MeanSquaredError")]
    assert _terms(mse * np.float32(0.5)) == [(0.5, "MeanSquaredError")]
    assert _terms(np.int64(3) * mse) == [(3.0, "MeanSquaredError")]
    nested = 0.5 * (mse + 2 * mae) + (huber - mse) / 2
    assert _terms(nested) == [(0.5, "MeanSquaredError"), (1.0, "MeanAbsoluteError"),
                              (0.5, "Huber"), (-0.5, "MeanSquaredError")]
    assert all(not isinstance(t, fl.CompositeLoss) for _, t in nested.terms)
    assert repr(0.7 * mse + 0.3 * mae) == "0.7 * MeanSquaredError() + 0.3 * MeanAbsoluteError()"
    # the values follow the arithmetic
    t, p, _ = _data(np.float64, "arith")
    np.testing.assert_allclose(nested(t, p), mae(t, p) + 0.5 * huber(t, p), rtol=1e-13,
                               atol=1e-15)
    np.testing.assert_allclose((mse - mae).backward(t, p), mse.backward(t, p) - mae.backward(t, p),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose((-mse)(t, p), -mse(t, p), rtol=1e-15)


def test_arithmetic_errors():
    mse = fl.MeanSquaredError()
    with pytest.raises(TypeError, match=r"GANDiscriminatorLoss \(2\), MeanSquaredError \(1\)"):
        fl.GANDiscriminatorLoss() + mse
    with pytest.raises(TypeError, match="same number of inputs"):
        fl.GANGeneratorLoss() - fl.GANDiscriminatorLoss()
    for weight in ["0.5", None, True, 1j, [0.5], np.array([0.5, 1.0])]:
        with pytest.raises(TypeError, match="real number"):
            mse * weight
    with pytest.raises(TypeError, match="real number"):
        "2" * mse
    for weight in [np.inf, -np.inf, np.nan]:
        with pytest.raises(ValueError, match="finite"):
            weight * mse
    with pytest.raises(ZeroDivisionError):
        mse / 0
    with pytest.raises(TypeError):
        mse + 1
    with pytest.raises(TypeError):
        mse - "x"


def test_wrong_input_counts_name_the_counts():
    x = np.zeros((2, 3, 3, 2))
    total = 0.7 * fl.ContentLoss() + 0.3 * fl.StyleLoss()
    for n in (1, 4):
        with pytest.raises(TypeError, match=rf"takes 2 \(shared targets\) or 3 inputs.*got {n}"):
            total(*[x] * n)
    with pytest.raises(TypeError, match=r"takes 1 input \(each term's targets.*got 3"):
        (fl.TotalVariation() + fl.TotalVariation())(x, x, x)
    plain = fl.MeanSquaredError() + fl.MeanAbsoluteError()
    with pytest.raises(TypeError, match="got 1"):
        plain(x)


# --- 4. user-defined elementwise losses ---------------------------------------------


def mse_like(**kwargs):
    return fl.ElementwiseLoss(value=lambda t, p: (t - p) ** 2,
                              gradient=lambda t, p: 2 * (p - t),
                              hessian=lambda t, p: 2.0, **kwargs)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_user_defined_mse_equals_mean_squared_error(dtype, reduction, axis):
    rng = rng_for("user-mse", axis)
    t = rng.normal(size=(4, 5, 3)).astype(dtype)
    p = rng.normal(size=(4, 5, 3)).astype(dtype)
    sample_shape = tuple(n for i, n in enumerate(p.shape) if i != axis % 3)
    sw = rng.uniform(0.2, 2.0, size=sample_shape).astype(dtype)
    go = (np.linspace(0.5, 1.5, np.prod(sample_shape)).reshape(sample_shape)
          if reduction in (None, "none") else 0.6)
    ours = mse_like(reduction=reduction, axis=axis)
    builtin = fl.MeanSquaredError(reduction=reduction)
    if axis % 3 != 2:  # MeanSquaredError averages over the last axis: move it there
        t_b, p_b = np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1)
        grad_back = lambda g: np.moveaxis(g, -1, axis)  # noqa: E731
    else:
        t_b, p_b, grad_back = t, p, (lambda g: g)
    value, grad = ours.forward_backward(t, p, sw, grad_output=go)
    b_value, b_grad = builtin.forward_backward(t_b, p_b, sw, grad_output=go)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(value, b_value, **close(dtype, b_value))
    np.testing.assert_allclose(grad, grad_back(b_grad), **close(dtype, grad_back(b_grad)))
    np.testing.assert_array_equal(ours(t, p, sw), value)
    np.testing.assert_array_equal(ours.backward(t, p, sw, grad_output=go), grad)
    g, h = ours.gradient_hessian(t, p, sw)
    b_g, b_h = fl.MeanSquaredError().gradient_hessian(t_b, p_b, sw)
    np.testing.assert_allclose(g, grad_back(b_g), **close(dtype, grad_back(b_g)))
    np.testing.assert_allclose(h, grad_back(b_h), **close(dtype, grad_back(b_h)))


def test_user_defined_loss_keras_shapes_and_out():
    ours, builtin = mse_like(), fl.MeanSquaredError()
    rng = rng_for("user-shapes")
    p = rng.normal(size=(6, 1))
    t = rng.normal(size=6)  # Keras aligns (6,) with (6, 1)
    np.testing.assert_allclose(ours(t, p), builtin(t, p), rtol=1e-13)
    out = np.empty_like(p)
    assert ours.backward(t, p, out=out) is out
    np.testing.assert_allclose(out, builtin.backward(t, p), rtol=1e-13)
    np.testing.assert_allclose(ours(0.5, p), builtin(0.5, p), rtol=1e-13)  # broadcast y_true
    assert ours(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_callables_receive_read_only_arrays_of_y_preds_shape_and_dtype():
    seen = []

    def value(t, p):
        seen.append((t.shape, p.shape, t.dtype, p.dtype, t.flags.writeable, p.flags.writeable))
        with pytest.raises(ValueError, match="read-only"):
            p[...] = 0
        return np.abs(p - t)

    loss = fl.ElementwiseLoss(value=value, gradient=lambda t, p: np.sign(p - t))
    p = np.ones((3, 4), np.float32)
    loss(np.zeros(4, np.float64), p)  # y_true broadcast to y_pred and cast to its dtype
    assert seen == [((3, 4), (3, 4), np.float32, np.float32, False, False)]
    np.testing.assert_array_equal(p, 1.0)


def test_each_method_calls_the_callables_it_needs_once():
    calls = []
    loss = fl.ElementwiseLoss(value=lambda t, p: calls.append("value") or p * 0,
                              gradient=lambda t, p: calls.append("gradient") or p * 0,
                              hessian=lambda t, p: calls.append("hessian") or p * 0)
    t = p = np.zeros((2, 2))
    for method, want in [("forward", ["value"]), ("backward", ["gradient"]),
                         ("forward_backward", ["value", "gradient"]),
                         ("gradient_hessian", ["gradient", "hessian"])]:
        calls.clear()
        getattr(loss, method)(t, p)
        assert sorted(calls) == sorted(want), method


def test_gradient_hessian_needs_a_hessian():
    loss = fl.ElementwiseLoss(value=lambda t, p: (t - p) ** 2, gradient=lambda t, p: 2 * (p - t))
    assert not loss.has_hessian and mse_like().has_hessian
    with pytest.raises(NotImplementedError, match="without a hessian callable"):
        loss.gradient_hessian(np.zeros(3), np.ones(3))


def test_yogurt_cost_profit_loss():
    """The seed's cost/profit loss as a user-defined loss equals the built-in."""
    cost, profit = 1.0, 99.0

    def yogurt(reduction):
        return fl.ElementwiseLoss(
            value=lambda t, p: np.where(p > t, cost * (p - t), profit * (t - p)),
            gradient=lambda t, p: np.where(p > t, cost, -profit), name="yogurt",
            reduction=reduction)

    rng = rng_for("yogurt")
    sales = rng.integers(0, 20, size=(30, 1)).astype(float)
    orders = rng.integers(0, 20, size=(30, 1)).astype(float)
    orders[::4] = sales[::4]  # ties: the gradient there is -underestimate_cost
    for reduction in ("sum", "none"):
        ours = yogurt(reduction)
        builtin = fl.AsymmetricLinear(overestimate_cost=cost, underestimate_cost=profit,
                                      reduction=reduction)
        np.testing.assert_allclose(ours(sales, orders), builtin(sales, orders), rtol=1e-14)
        np.testing.assert_array_equal(ours.backward(sales, orders),
                                      builtin.backward(sales, orders))
        value, grad = ours.forward_backward(sales, orders)
        np.testing.assert_array_equal(grad, builtin.backward(sales, orders))
        assert not ours.has_hessian and ours.name == "yogurt"


BAD_RETURNS = [
    (lambda t, p: p[:2], ValueError, r"returned shape \(2, 2\); expected y_pred's shape "
                                     r"\(3, 2\)"),
    (lambda t, p: np.full(p.shape, "x"), TypeError, "must return real numbers, got dtype <U1"),
    (lambda t, p: p + 0j, TypeError, "must return real numbers, got dtype complex"),
    (lambda t, p: None, TypeError, "must return real numbers, got dtype object"),
    (lambda t, p: {"a": 1}, TypeError, "must return real numbers, got dtype object"),
    (lambda t, p: [[1.0], [1.0, 2.0]], TypeError, "returned something that is not an array"),
]


@pytest.mark.parametrize("bad,exc,match", BAD_RETURNS,
                         ids=["shape", "strings", "complex", "none", "dict", "ragged"])
def test_bad_returns_raise_naming_the_callable(bad, exc, match):
    good = lambda t, p: p - t  # noqa: E731
    t, p = np.zeros((3, 2)), np.ones((3, 2))
    with pytest.raises(exc, match=rf"my_loss: value\(y_true, y_pred\) .*{match}"):
        fl.ElementwiseLoss(value=bad, gradient=good, name="my_loss")(t, p)
    with pytest.raises(exc, match=rf"my_loss: gradient\(y_true, y_pred\) .*{match}"):
        fl.ElementwiseLoss(value=good, gradient=bad, name="my_loss").backward(t, p)
    with pytest.raises(exc, match=rf"elementwise_loss: hessian\(y_true, y_pred\) .*{match}"):
        fl.ElementwiseLoss(value=good, gradient=good, hessian=bad).gradient_hessian(t, p)


def test_returns_are_converted_to_the_dtype():
    loss = fl.ElementwiseLoss(value=lambda t, p: np.ones(p.shape, np.int64),
                              gradient=lambda t, p: (p > t), hessian=lambda t, p: 0)
    t, p = np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)
    value, grad = loss.forward_backward(t, p)
    assert value.dtype == np.float32 and value == 1.0
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(grad, np.full((2, 3), 1 / 6, np.float32))
    _, h = loss.gradient_hessian(t, p)
    np.testing.assert_array_equal(h, np.zeros((2, 3), np.float32))


def test_non_callables_are_rejected():
    f = lambda t, p: p  # noqa: E731
    with pytest.raises(TypeError, match="value must be callable"):
        fl.ElementwiseLoss(value=1.0, gradient=f)
    with pytest.raises(TypeError, match="gradient must be callable"):
        fl.ElementwiseLoss(value=f, gradient="2 * (p - t)")
    with pytest.raises(TypeError, match="hessian must be callable or None"):
        fl.ElementwiseLoss(value=f, gradient=f, hessian=2.0)
    with pytest.raises(ValueError, match="invalid reduction"):
        fl.ElementwiseLoss(value=f, gradient=f, reduction="avg")
    with pytest.raises(TypeError, match="axis must be an integer"):
        fl.ElementwiseLoss(value=f, gradient=f, axis=1.5)


def test_user_defined_losses_combine():
    mine = mse_like()
    total = 0.5 * mine + 0.5 * fl.MeanAbsoluteError()
    t, p, sw = _data(np.float64, "user-sum")
    np.testing.assert_allclose(total(t, p, sw),
                               0.5 * fl.MeanSquaredError()(t, p, sw)
                               + 0.5 * fl.MeanAbsoluteError()(t, p, sw), rtol=1e-13)

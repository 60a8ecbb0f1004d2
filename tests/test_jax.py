"""fastloss.jax: fastloss losses as JAX functions, against optax's losses, under
jax.grad, jax.jit and jax.vmap."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

from support import check_lazy_adapter, rng_for, tolerance

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")
flj = pytest.importorskip("fastloss.jax")
L = optax.losses

DTYPES = ["float32", "float64"]


@pytest.fixture(params=DTYPES)
def dtype(request):
    """float32, or float64 with jax_enable_x64 on for the test."""
    with jax.enable_x64(request.param == "float64"):
        yield np.dtype(request.param)


def _close(got, want, dtype):
    assert got.dtype == want.dtype == dtype, (got.dtype, want.dtype, dtype)
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                               **tolerance(dtype, want))


def _onehot(labels, classes):
    return np.eye(classes)[labels]


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _regression(rng):
    return rng.normal(size=(24, 5)), 2 * rng.normal(size=(24, 5))


def _binary(rng):
    return rng.integers(0, 2, (24, 5)).astype(float), 3 * rng.normal(size=(24, 5))


def _labels(rng):
    return rng.integers(0, 6, 24), 2 * rng.normal(size=(24, 6))


# case -> (fastloss loss, optax's loss (y_true, y_pred, sample_weight), inputs)
CASES = {
    "mse": (fl.MeanSquaredError(), lambda t, p, w: L.squared_error(p, t).mean(), _regression),
    "half-squared": (fl.HalfSquaredError(), lambda t, p, w: L.l2_loss(p, t).mean(),
                     _regression),
    "huber": (fl.Huber(delta=0.7), lambda t, p, w: L.huber_loss(p, t, delta=0.7).mean(),
              _regression),
    "log-cosh": (fl.LogCosh(), lambda t, p, w: L.log_cosh(p, t).mean(), _regression),
    "bce-logits": (fl.BinaryCrossentropy(from_logits=True),
                   lambda t, p, w: L.sigmoid_binary_cross_entropy(p, t).mean(), _binary),
    "bce-logits-weighted-sum": (
        fl.BinaryCrossentropy(from_logits=True, reduction="sum"),
        lambda t, p, w: (L.sigmoid_binary_cross_entropy(p, t).mean(-1) * w).sum(), _binary),
    "cross-entropy": (
        fl.SparseCategoricalCrossentropy(from_logits=True),
        lambda t, p, w: L.softmax_cross_entropy_with_integer_labels(p, t).mean(), _labels),
    "cross-entropy-smoothing": (
        fl.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        lambda t, p, w: L.softmax_cross_entropy(p, L.smooth_labels(t, 0.1)).mean(),
        lambda r: (_onehot(r.integers(0, 6, 24), 6), 2 * r.normal(size=(24, 6)))),
    "kl-divergence": (
        fl.KLDivergence(), lambda t, p, w: L.kl_divergence(jnp.log(p), t).mean(),
        lambda r: (_softmax(r.normal(size=(24, 6))), _softmax(r.normal(size=(24, 6))))),
}


def _inputs(case, dtype):
    rng = rng_for("jax", case)
    y, p = CASES[case][2](rng)
    w = rng.uniform(0.1, 2.0, y.shape[0])
    y = jnp.asarray(y if y.dtype.kind in "iu" else y.astype(dtype))
    return y, jnp.asarray(p.astype(dtype)), jnp.asarray(w.astype(dtype))


@pytest.mark.parametrize("case", list(CASES))
def test_jit_grad_matches_optax(case, dtype):
    loss, theirs, _ = CASES[case]
    y, p, w = _inputs(case, dtype)
    weighted = "weighted" in case
    f = flj.wrap(loss)

    def ours(p):
        return f(y, p, w if weighted else None)

    value, grad = jax.jit(jax.value_and_grad(ours))(p)
    want, want_grad = jax.value_and_grad(lambda p: theirs(y, p, w))(p)
    _close(value, want, dtype)
    _close(grad, want_grad, dtype)
    _close(ours(p), want, dtype)  # eager, no differentiation: the value alone


def test_vmap_maps_whole_calls(dtype):
    """Each element of the mapped axis is one call, with its own reduction."""
    rng = rng_for("vmap")
    labels = jnp.asarray(rng.integers(0, 6, (4, 24)))
    logits = jnp.asarray((2 * rng.normal(size=(4, 24, 6))).astype(dtype))
    f = flj.wrap(fl.SparseCategoricalCrossentropy(from_logits=True))

    def ref(y, z):
        return L.softmax_cross_entropy_with_integer_labels(z, y).mean()

    _close(jax.vmap(f)(labels, logits), jax.vmap(ref)(labels, logits), dtype)
    got = jax.jit(jax.vmap(jax.grad(f, argnums=1)))(labels, logits)
    _close(got, jax.vmap(jax.grad(ref, argnums=1))(labels, logits), dtype)
    # one set of labels for every batch of logits (in_axes None)
    got = jax.vmap(jax.grad(lambda z: f(labels[0], z)))(logits)
    _close(got, jax.vmap(jax.grad(lambda z: ref(labels[0], z)))(logits), dtype)


def test_reduction_none_vjp_and_jacobian(dtype):
    rng = rng_for("none")
    y, p = (jnp.asarray(a.astype(dtype)) for a in _binary(rng))
    f = flj.wrap(fl.BinaryCrossentropy(from_logits=True, reduction="none"))

    def ref(p):
        return L.sigmoid_binary_cross_entropy(p, y).mean(-1)

    cotangent = jnp.asarray(rng.normal(size=y.shape[0]).astype(dtype))
    value, vjp = jax.vjp(lambda p: f(y, p), p)
    want, want_vjp = jax.vjp(ref, p)
    _close(value, want, dtype)
    _close(vjp(cotangent)[0], want_vjp(cotangent)[0], dtype)
    # jacrev maps the backward callback over the cotangents (vmap of a VJP)
    _close(jax.jit(jax.jacrev(lambda p: f(y, p)))(p), jax.jacrev(ref)(p), dtype)


def test_model_loss_gives_both_gradients(dtype):
    rng = rng_for("gan")
    real, fake = (jnp.asarray(rng.normal(size=(16, 1)).astype(dtype)) for _ in range(2))
    f = flj.wrap(fl.GANDiscriminatorLoss())

    def ref(r, g):
        return (L.sigmoid_binary_cross_entropy(r, jnp.ones_like(r)).mean()
                + L.sigmoid_binary_cross_entropy(g, jnp.zeros_like(g)).mean())

    got = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))(real, fake)
    want = jax.value_and_grad(ref, argnums=(0, 1))(real, fake)
    _close(got[0], want[0], dtype)
    for g, w in zip(got[1], want[1]):
        _close(g, w, dtype)


def test_every_kind_of_loss_gives_fastlosss_own_result():
    rng = rng_for("kinds")
    a, b = rng.normal(size=(2, 6, 4))
    labels = rng.integers(0, 4, 6)
    images = rng.normal(size=(2, 5, 5, 3))
    cases = [
        (fl.Entropy(from_logits=True), (b,)),
        (fl.GANGeneratorLoss(saturating=True), (b,)),
        (fl.ContentLoss(), (images[0], images[1])),
        (fl.TotalVariation(reduction="sum"), (images,)),
        (0.7 * fl.MeanSquaredError() + 0.3 * fl.MeanAbsoluteError(), (a, b)),
        (2.0 * fl.SparseCategoricalCrossentropy(from_logits=True) - fl.Entropy(from_logits=True),
         (labels, b)),
    ]
    with jax.enable_x64(True):
        for loss, inputs in cases:
            want_value, want = loss.forward_backward(*inputs)
            want = want if isinstance(want, np.ndarray) else want[0]
            *targets, trained = (jnp.asarray(x) for x in inputs)
            f = flj.wrap(loss)
            value, grad = jax.value_and_grad(
                lambda x, f=f, targets=targets: f(*targets, x))(trained)
            np.testing.assert_allclose(value, want_value, rtol=1e-13, err_msg=repr(loss))
            np.testing.assert_allclose(grad, want, rtol=1e-13, atol=1e-15, err_msg=repr(loss))


def test_half_types_compute_at_float32():
    rng = rng_for("half")
    y, p = _binary(rng)
    f = flj.wrap(fl.BinaryCrossentropy(from_logits=True))
    for half in (jnp.float16, jnp.bfloat16):
        z = jnp.asarray(p, half)
        value, grad = jax.value_and_grad(lambda z: f(jnp.asarray(y, jnp.float32), z))(z)
        assert value.dtype == jnp.float32 and grad.dtype == half
        want, want_grad = fl.BinaryCrossentropy(from_logits=True).forward_backward(
            y.astype(np.float32), np.asarray(z.astype(jnp.float32)))
        np.testing.assert_allclose(value, want, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(grad, np.float32), want_grad, rtol=1e-2,
                                   atol=1e-4)


def test_errors():
    f = flj.wrap(fl.MeanSquaredError())
    y, p, w = jnp.zeros((4, 3)), jnp.ones((4, 3)), jnp.ones(4)
    with pytest.raises(ValueError, match=r"y_true is being differentiated.*stop_gradient"):
        jax.grad(lambda y: f(y, p))(y)
    with pytest.raises(ValueError, match=r"sample_weight is being differentiated"):
        jax.grad(lambda w: f(y, p, w))(w)
    # a target computed from what is differentiated, stopped: fine
    assert jax.grad(lambda p: f(jax.lax.stop_gradient(p) * 0, p))(p).shape == (4, 3)
    with pytest.raises(TypeError, match=r"takes 2 inputs \(y_true, y_pred\)"):
        f(y, p, w, w)
    with pytest.raises(TypeError, match=r"expects a fastloss loss object"):
        flj.wrap(L.l2_loss)
    # an unreduced loss finds the value's shape when traced: a bad shape raises there
    with pytest.raises(ValueError, match=r"y_true shape \(4, 2\) and y_pred shape \(4, 3\)"):
        jax.jit(flj.wrap(fl.MeanSquaredError(reduction="none")))(jnp.zeros((4, 2)), p)


def test_fastloss_imports_jax_only_when_asked():
    check_lazy_adapter("jax", "jax", "jax")

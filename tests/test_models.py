"""The model losses: the GAN
discriminator and generator losses, the Gram matrix, and Gatys's content and
style losses with total variation. Each is tested through its four methods at
float32 and float64 against a float64 NumPy reference written here from the
formulas (Keras's BinaryCrossentropy, Gatys et al. 2015, tf.image.total_variation),
against central differences, and through the machinery: threads, views,
out=, grad_output, read-only and empty inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import fastloss as fl

from support import DTYPES, REDUCTIONS, keras_reduce, rng_for

EPS = 1e-7  # keras.backend.epsilon(): Keras clips probabilities to [EPS, 1 - EPS]
H = 1e-4  # central-difference step


# --- 1. the float64 reference ------------------------------------------------


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def bce(t, p, from_logits):
    """Keras's per-element binary cross-entropy against a constant target t."""
    p = _f64(p)
    if from_logits:
        return t * softplus(-p) + (1.0 - t) * softplus(p)
    pc = np.clip(p, EPS, 1.0 - EPS)
    return -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))


def bce_grad(t, p, from_logits):
    """d bce / dp per element (0 where Keras's clip is active)."""
    p = _f64(p)
    if from_logits:
        return sigmoid(p) - t
    inside = (p > EPS) & (p < 1.0 - EPS)
    return np.where(inside, -t / p + (1.0 - t) / (1.0 - p), 0.0)


def bce_hess(t, p, from_logits):
    p = _f64(p)
    if from_logits:
        s = sigmoid(p)
        return s * (1.0 - s)
    return t / p**2 + (1.0 - t) / (1.0 - p) ** 2


def reduction_coefficients(shape, sample_weight, reduction, grad_output):
    """d(reduced loss)/d(per-sample loss_s), times grad_output: float64 of `shape`."""
    w = np.ones(shape) if sample_weight is None else np.broadcast_to(_f64(sample_weight), shape)
    go = _f64(grad_output)
    if reduction in (None, "none"):
        return w * go
    n = math.prod(shape)
    if reduction == "sum" or len(shape) == 0:
        divisor = 1.0
    elif reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(np.sum(w))
    else:
        divisor = float(n)
    return w * go / divisor if divisor else np.zeros(shape)


def positions(f):
    """(batch..., M, C) of channels-last features (M, C), (H, W, C) or (B, H, W, C)."""
    f = _f64(f)
    lead = f.shape[:1] if f.ndim == 4 else ()
    m = math.prod(f.shape[1:-1] if f.ndim == 4 else f.shape[:-1])
    return f.reshape(*lead, m, f.shape[-1])


def gram_ref(f):
    p = positions(f)
    return np.einsum("...mi,...mj->...ij", p, p)


def content_per_image(target, gen):
    d = _f64(gen) - _f64(target)
    return 0.5 * (np.sum(d * d, axis=tuple(range(1, d.ndim))) if d.ndim == 4 else np.sum(d * d))


def content_grad(target, gen):
    return _f64(gen) - _f64(target)


def _style_layers(style, gen, layer_weights):
    if not isinstance(gen, list):
        style, gen = [style], [gen]
    w = [1.0 / len(gen)] * len(gen) if layer_weights is None else list(layer_weights)
    return style, gen, w


def _style_scale(g):
    p = positions(g)
    c, m = p.shape[-1], p.shape[-2]
    return 1.0 / (c * c * m * m)


def style_per_image(style, gen, layer_weights=None):
    """sum_l w_l sum (G - A)**2 / (4 C**2 M**2), per image."""
    style, gen, w = _style_layers(style, gen, layer_weights)
    total = 0.0
    for s, g, wl in zip(style, gen, w):
        d = gram_ref(g) - gram_ref(s)
        total = total + wl * np.sum(d * d, axis=(-2, -1)) * _style_scale(g) / 4.0
    return total


def style_grad(style, gen, layer_weights=None):
    """d(per-image style loss)/dF = w_l F (D + D^T) / (2 C**2 M**2), per layer."""
    style, gen, w = _style_layers(style, gen, layer_weights)
    grads = []
    for s, g, wl in zip(style, gen, w):
        d = gram_ref(g) - gram_ref(s)
        sym = d + np.swapaxes(d, -1, -2)
        dfl = np.einsum("...mi,...ij->...mj", positions(g), sym) * (wl * _style_scale(g) / 2.0)
        grads.append(dfl.reshape(np.shape(g)))
    return grads


def tv_per_image(x):
    """tf.image.total_variation: sum |vertical| + sum |horizontal| differences."""
    x = _f64(x)
    dv, dh = np.diff(x, axis=-3), np.diff(x, axis=-2)
    axes = (-3, -2, -1)
    return np.sum(np.abs(dv), axis=axes) + np.sum(np.abs(dh), axis=axes)


def tv_grad(x):
    x = _f64(x)
    g = np.zeros_like(x)
    sv, sh = np.sign(np.diff(x, axis=-3)), np.sign(np.diff(x, axis=-2))
    g[..., 1:, :, :] += sv
    g[..., :-1, :, :] -= sv
    g[..., :, 1:, :] += sh
    g[..., :, :-1, :] -= sh
    return g


def scaled_tolerance(dtype, expected):
    """Kernel-vs-reference tolerance relative to the size of what is compared
    (support.tolerance floors that size at 1, which would hide float32 errors
    in the style loss, whose values and gradients are ~1e-3): float32
    arithmetic with float64 accumulation, float64 to ~1e-10."""
    scale = float(np.max(np.abs(_f64(expected)), initial=0.0))
    if dtype == np.float32:
        return {"rtol": 3e-5, "atol": 2e-6 * scale}
    return {"rtol": 1e-10, "atol": 1e-13 * scale}


# --- 2. the case table -------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One configured model loss.

    per_sample(*inputs) -> float64 per-sample (per-image) losses;
    grads(*inputs) -> d(sum of the unreduced per-element (GAN) or per-image
    losses)/d(each trained input): what gradient_hessian's gradient is;
    mean_len(*inputs) -> the length of the per-sample mean (GAN: the last axis,
    else 1): backward is grads / mean_len times the reduction's coefficients;
    hess(*inputs) -> the Hessian diagonals (None: no gradient_hessian)."""

    id: str
    make: Callable
    draw: Callable  # rng -> tuple of float64 inputs
    n_targets: int
    per_sample: Callable
    grads: Callable
    hess: Callable | None = None
    per_element_mean: bool = False  # GAN: Keras's mean over the last axis
    smooth: Callable | None = None  # inputs -> min distance to a kink (TV), for CD


def _logits(rng, shape=(7, 3)):
    return rng.normal(scale=2.0, size=shape)


def _probs(rng, shape=(7, 3)):
    return rng.uniform(0.03, 0.97, size=shape)


def _gan_d(from_logits):
    draw = _logits if from_logits else _probs
    return Case(
        f"gan_d-{'logits' if from_logits else 'probs'}",
        lambda r: fl.GANDiscriminatorLoss(from_logits=from_logits, reduction=r),
        lambda rng: (draw(rng), draw(rng)),
        0,
        lambda real, fake: (np.mean(bce(1.0, real, from_logits), axis=-1)
                            + np.mean(bce(0.0, fake, from_logits), axis=-1)),
        lambda real, fake: (bce_grad(1.0, real, from_logits), bce_grad(0.0, fake, from_logits)),
        lambda real, fake: (bce_hess(1.0, real, from_logits), bce_hess(0.0, fake, from_logits)),
        per_element_mean=True,
    )


def _gan_g(from_logits, saturating):
    draw = _logits if from_logits else _probs
    sign, t = (-1.0, 0.0) if saturating else (1.0, 1.0)
    return Case(
        f"gan_g-{'logits' if from_logits else 'probs'}{'-saturating' if saturating else ''}",
        lambda r: fl.GANGeneratorLoss(from_logits=from_logits, saturating=saturating,
                                      reduction=r),
        lambda rng: (draw(rng),),
        0,
        lambda fake: sign * np.mean(bce(t, fake, from_logits), axis=-1),
        lambda fake: (sign * bce_grad(t, fake, from_logits),),
        lambda fake: (sign * bce_hess(t, fake, from_logits),),
        per_element_mean=True,
    )


def _images(shape):
    return lambda rng: (rng.normal(size=shape), rng.normal(size=shape))


def _tv_kink_distance(x):
    return min(np.abs(np.diff(x, axis=-3)).min(), np.abs(np.diff(x, axis=-2)).min())


CASES = [
    _gan_d(True), _gan_d(False),
    _gan_g(True, False), _gan_g(True, True), _gan_g(False, False), _gan_g(False, True),
    Case("content", lambda r: fl.ContentLoss(reduction=r), _images((3, 5, 4, 2)), 1,
         content_per_image, lambda p, f: (content_grad(p, f),),
         lambda p, f: (np.ones_like(f),)),
    Case("content-one-image", lambda r: fl.ContentLoss(reduction=r), _images((5, 4, 3)), 1,
         content_per_image, lambda p, f: (content_grad(p, f),),
         lambda p, f: (np.ones_like(f),)),
    # the style image's features (H, W, C) serve every image of the generated batch
    Case("style", lambda r: fl.StyleLoss(reduction=r),
         lambda rng: (rng.normal(size=(6, 5, 4)), rng.normal(size=(3, 6, 5, 4))), 1,
         style_per_image, lambda s, f: tuple(style_grad(s, f))),
    Case("style-per-image-targets", lambda r: fl.StyleLoss(reduction=r),
         lambda rng: (rng.normal(size=(3, 4, 5, 3)), rng.normal(size=(3, 4, 5, 3))), 1,
         style_per_image, lambda s, f: tuple(style_grad(s, f))),
    Case("style-positions", lambda r: fl.StyleLoss(reduction=r),
         lambda rng: (rng.normal(size=(9, 4)), rng.normal(size=(12, 4))), 1,
         style_per_image, lambda s, f: tuple(style_grad(s, f))),
    Case("tv", lambda r: fl.TotalVariation(reduction=r),
         lambda rng: (rng.normal(size=(3, 5, 4, 2)),), 0, tv_per_image,
         lambda x: (tv_grad(x),), smooth=_tv_kink_distance),
    Case("tv-one-image", lambda r: fl.TotalVariation(reduction=r),
         lambda rng: (rng.normal(size=(4, 6, 3)),), 0, tv_per_image,
         lambda x: (tv_grad(x),), smooth=_tv_kink_distance),
]
CASE_IDS = [c.id for c in CASES]
HESSIAN_CASES = [c for c in CASES if not c.id.startswith("tv")]  # TV has none


def draw(case, dtype=np.float64, *key):
    return tuple(a.astype(dtype) for a in case.draw(rng_for(case.id, *key)))


def batch_shape(case, inputs):
    return np.shape(case.per_sample(*inputs))


def sample_weights(case, inputs, dtype):
    shape = batch_shape(case, inputs)
    sw = rng_for(case.id, "sw").uniform(0.2, 2.0, size=shape)
    return sw.astype(dtype) if shape else dtype(sw)


def ref_backward(case, inputs, sample_weight, reduction, grad_output):
    shape = batch_shape(case, inputs)
    coef = reduction_coefficients(shape, sample_weight, reduction, grad_output)
    out = []
    for g, x in zip(case.grads(*inputs), inputs[case.n_targets:]):
        k = coef.reshape(shape + (1,) * (np.ndim(x) - len(shape)))
        out.append(g * k / (np.shape(x)[-1] if case.per_element_mean else 1.0))
    return tuple(out)


def upstream(case, inputs, reduction):
    """A grad_output for `reduction`: per sample when unreduced, else a scalar."""
    shape = batch_shape(case, inputs)
    if reduction in (None, "none") and shape:
        return np.linspace(0.5, 1.5, math.prod(shape)).reshape(shape)
    return 1.7


# --- 3. against the reference, both dtypes ---------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_matches_reference(case, dtype, reduction, weighted):
    inputs = draw(case, dtype)
    sw = sample_weights(case, inputs, dtype) if weighted else None
    loss = case.make(reduction)
    got = loss(*inputs, sample_weight=sw)
    want = keras_reduce(case.per_sample(*inputs), sw, reduction)
    assert np.asarray(got).dtype == dtype
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, **scaled_tolerance(dtype, want))
    # sample_weight may also be the last positional argument
    np.testing.assert_array_equal(loss.forward(*inputs, sw), got)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_backward_matches_reference(case, dtype, reduction):
    inputs = draw(case, dtype)
    sw = sample_weights(case, inputs, dtype)
    go = upstream(case, inputs, reduction)
    grads = case.make(reduction).backward(*inputs, sample_weight=sw, grad_output=go)
    want = ref_backward(case, inputs, sw, reduction, go)
    assert isinstance(grads, tuple) and len(grads) == len(want)
    for g, w, x in zip(grads, want, inputs[case.n_targets:]):
        assert g.dtype == dtype and g.shape == x.shape
        np.testing.assert_allclose(g, w, **scaled_tolerance(dtype, w))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_backward_is_forward_and_backward(case, dtype):
    inputs = draw(case, dtype)
    sw = sample_weights(case, inputs, dtype)
    for reduction in ("sum_over_batch_size", "none"):
        loss = case.make(reduction)
        go = upstream(case, inputs, reduction)
        value, grads = loss.forward_backward(*inputs, sample_weight=sw, grad_output=go)
        np.testing.assert_array_equal(value, loss.forward(*inputs, sample_weight=sw))
        for g, g2 in zip(grads, loss.backward(*inputs, sample_weight=sw, grad_output=go),
                         strict=True):
            np.testing.assert_array_equal(g, g2)


# --- 4. central differences of the float64 forward --------------------------------


def numeric_gradient(f, x, h=H):
    """4th-order central differences of the scalar f at every element of x."""
    x = x.copy()
    g = np.empty_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        x0 = flat[i]
        vals = []
        for step in (2 * h, h, -h, -2 * h):
            flat[i] = x0 + step
            vals.append(float(f(x)))
        flat[i] = x0
        gflat[i] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
    return g


def _check_smooth(case, inputs):
    if case.smooth is not None:
        assert case.smooth(*inputs[case.n_targets:]) > 10 * H, "a kink is within the step"


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_backward_central_differences(case, reduction):
    inputs = draw(case, np.float64, "cd")
    _check_smooth(case, inputs)
    sw = sample_weights(case, inputs, np.float64)
    go = upstream(case, inputs, reduction)
    loss = case.make(reduction)
    grads = loss.backward(*inputs, sample_weight=sw, grad_output=go)
    k = case.n_targets
    for j, g in enumerate(grads):
        def scalar(x, j=j):
            args = list(inputs)
            args[k + j] = x
            return np.sum(go * loss(*args, sample_weight=sw))

        numeric = numeric_gradient(scalar, inputs[k + j])
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8 * np.abs(numeric).max())


@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.id for c in HESSIAN_CASES])
def test_gradient_hessian_central_differences(case):
    """gradient_hessian: the gradient of the unreduced losses (times the sample
    weights) and the Hessian diagonal, both against central differences."""
    inputs = draw(case, np.float64, "gh")
    sw = sample_weights(case, inputs, np.float64)
    loss = case.make("sum_over_batch_size")
    k = case.n_targets
    grads, hessians = loss.gradient_hessian(*inputs, sample_weight=sw)
    assert len(grads) == len(hessians) == len(inputs) - k
    none = case.make("none")
    for j, (g, h) in enumerate(zip(grads, hessians)):
        x = inputs[k + j]
        assert g.shape == h.shape == x.shape and g.dtype == h.dtype == np.float64

        def with_input(v, j=j):
            args = list(inputs)
            args[k + j] = v
            return args

        # the gradient of the unreduced (per-element for GAN) weighted loss
        mean_len = x.shape[-1] if case.per_element_mean else 1
        numeric_g = numeric_gradient(
            lambda v, m=mean_len: m * np.sum(none(*with_input(v), sample_weight=sw)), x)
        np.testing.assert_allclose(g, numeric_g, rtol=1e-6, atol=1e-8 * np.abs(g).max())
        # the Hessian diagonal: d gradient_i / d x_i
        numeric_h = np.empty_like(x)
        for i in np.ndindex(x.shape):
            def gi(v, i=i, j=j):
                return loss.gradient_hessian(*with_input(v), sample_weight=sw)[0][j][i]

            e = np.zeros_like(x)
            e[i] = 1.0
            vals = [gi(x + s * e) for s in (2 * H, H, -H, -2 * H)]
            numeric_h[i] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * H)
        np.testing.assert_allclose(h, numeric_h, rtol=1e-6, atol=1e-8 * np.abs(h).max())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.id for c in HESSIAN_CASES])
def test_gradient_hessian_matches_reference(case, dtype):
    inputs = draw(case, dtype)
    sw = sample_weights(case, inputs, dtype)
    grads, hessians = case.make("sum").gradient_hessian(*inputs, sample_weight=sw)
    shape = batch_shape(case, inputs)
    want_g = case.grads(*inputs)
    for j, (g, h, x) in enumerate(zip(grads, hessians, inputs[case.n_targets:])):
        w = _f64(sw).reshape(shape + (1,) * (x.ndim - len(shape)))
        assert g.dtype == h.dtype == dtype
        np.testing.assert_allclose(g, want_g[j] * w, **scaled_tolerance(dtype, want_g[j] * w))
        if case.hess is not None:
            want_h = case.hess(*inputs)[j] * w
            np.testing.assert_allclose(h, want_h, **scaled_tolerance(dtype, want_h))


def style_hessian_ref(style, gen):
    """The docstring's exact diagonal, (|F_m|**2 + F_mk**2 + (G - A)_kk) / (C**2 M**2)."""
    f = positions(gen)
    d = gram_ref(gen) - gram_ref(style)
    diag = np.diagonal(d, axis1=-2, axis2=-1)[..., None, :]
    h = (np.sum(f * f, axis=-1, keepdims=True) + f * f + diag) * _style_scale(gen)
    return h.reshape(np.shape(gen))


@pytest.mark.parametrize("dtype", DTYPES)
def test_style_hessian_is_the_documented_formula(dtype):
    s, f = (a.astype(dtype) for a in (rng_for("sh").normal(size=(5, 4, 3)),
                                      rng_for("sh", 2).normal(size=(2, 5, 4, 3))))
    (_,), (h,) = fl.StyleLoss(reduction="none").gradient_hessian(s, f)
    want = style_hessian_ref(s, f)
    np.testing.assert_allclose(h, want, **scaled_tolerance(dtype, want))


def test_no_hessian_for_total_variation():
    tv = fl.TotalVariation()
    assert not tv.has_hessian
    assert all(getattr(fl, n)().has_hessian for n in
               ("GANDiscriminatorLoss", "GANGeneratorLoss", "ContentLoss", "StyleLoss"))
    with pytest.raises(NotImplementedError, match="TotalVariation.*piecewise linear"):
        tv.gradient_hessian(np.zeros((2, 3, 3, 1)))


# --- 5. values worked by hand, and the edges of the domain -----------------------------


def test_values_worked_by_hand():
    np.testing.assert_array_equal(fl.gram_matrix([[1.0, 2.0], [3.0, 4.0]]),
                                  [[10.0, 14.0], [14.0, 20.0]])
    image = np.array([[1.0, 2.0], [4.0, 8.0]])[:, :, None]  # (2, 2, 1)
    assert fl.TotalVariation()(image) == (3 + 6) + (1 + 4)
    assert fl.ContentLoss()(np.zeros((1, 2, 1)), np.array([[[1.0], [2.0]]])) == 2.5
    # one channel at two positions: G = 2, A = 0, E = 2**2 / (4 * 1 * 2**2)
    assert fl.StyleLoss()(np.zeros((2, 1)), np.ones((2, 1))) == 0.25
    np.testing.assert_allclose(fl.GANDiscriminatorLoss()(np.zeros((1, 1)), np.zeros((1, 1))),
                               2 * np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(fl.GANGeneratorLoss(from_logits=False)([[0.25]]),
                               -np.log(0.25), rtol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gan_extreme_logits_stay_finite(dtype):
    z = np.array([[-200.0, -30.0, 0.0, 30.0, 200.0]], dtype)
    loss = fl.GANDiscriminatorLoss(reduction="none")
    value, (g_real, g_fake) = loss.forward_backward(z, z)
    want = keras_reduce(np.mean(bce(1.0, z, True) + bce(0.0, z, True), axis=-1), None, "none")
    np.testing.assert_allclose(value, want, rtol=1e-6)
    np.testing.assert_allclose(g_real, (sigmoid(_f64(z)) - 1) / 5, atol=1e-7, rtol=1e-6)
    np.testing.assert_allclose(g_fake, sigmoid(_f64(z)) / 5, atol=1e-7, rtol=1e-6)
    (gs,), (hs,) = fl.GANGeneratorLoss(saturating=True).gradient_hessian(z)
    assert np.all(np.isfinite(gs)) and np.all(np.isfinite(hs))


def test_gan_probabilities_are_clipped_as_keras_clips_them():
    p = np.array([[0.0, 1.0, 0.5]])
    loss = fl.GANDiscriminatorLoss(from_logits=False, reduction="none")
    want = (np.mean(-np.log(np.clip(p, EPS, 1 - EPS)), axis=-1)
            + np.mean(-np.log(1 - np.clip(p, EPS, 1 - EPS)), axis=-1))
    value, (g_real, g_fake) = loss.forward_backward(p, p)
    np.testing.assert_allclose(value, want, rtol=1e-12)
    # the derivative of the clipped forward: zero where the clip is active
    np.testing.assert_allclose(g_real, [[0.0, 0.0, -2.0 / 3]], rtol=1e-12)
    np.testing.assert_allclose(g_fake, [[0.0, 0.0, 2.0 / 3]], rtol=1e-12)


def test_generator_saturating_is_minus_bce_against_zero():
    """The saturating loss's gradient vanishes where the discriminator wins
    (fake logits very negative); the non-saturating one's does not."""
    fake = np.array([[-8.0], [-6.0]])
    (g_sat,) = fl.GANGeneratorLoss(saturating=True).backward(fake)
    (g_non,) = fl.GANGeneratorLoss().backward(fake)
    assert np.all(np.abs(g_sat) < 2e-3) and np.all(np.abs(g_non) > 0.4)
    assert np.all(g_sat < 0) and np.all(g_non < 0)  # both push D(G(z)) up


def test_total_variation_of_one_row_or_column_images():
    x = rng_for("tv-thin").normal(size=(2, 1, 7, 3))
    np.testing.assert_allclose(fl.TotalVariation(reduction="none")(x), tv_per_image(x),
                               rtol=1e-12)
    (g,) = fl.TotalVariation(reduction="sum").backward(x)
    np.testing.assert_array_equal(g, tv_grad(x))
    y = np.swapaxes(x, 1, 2)  # (2, 7, 1, 3)
    np.testing.assert_allclose(fl.TotalVariation(reduction="none")(y), tv_per_image(y),
                               rtol=1e-12)


def test_total_variation_gradient_is_zero_between_equal_neighbours():
    x = np.ones((3, 3, 1))
    x[1, 1, 0] = 2.0
    (g,) = fl.TotalVariation().backward(x)
    want = np.zeros((3, 3, 1))
    want[1, 1, 0] = 4.0
    for i, j in ((0, 1), (2, 1), (1, 0), (1, 2)):
        want[i, j, 0] = -1.0
    np.testing.assert_array_equal(g, want)


# --- 6. the Gram matrix and its backward --------------------------------------------


GRAM_SHAPES = [(37, 5), (6, 7, 19), (3, 9, 11, 33), (2, 300, 2, 20)]


@pytest.mark.parametrize("shape", GRAM_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gram_matrix_matches_reference_and_is_exactly_symmetric(dtype, shape):
    f = rng_for("gram", shape).normal(size=shape).astype(dtype)
    g = fl.gram_matrix(f)
    want = gram_ref(f)
    c = shape[-1]
    assert g.dtype == dtype and g.shape == ((shape[0], c, c) if len(shape) == 4 else (c, c))
    np.testing.assert_array_equal(g, np.swapaxes(g, -1, -2))
    # float32: positions summed in float32 over tiles of 256, then in float64;
    # relative to the largest entry (the diagonal, a sum of squares)
    np.testing.assert_allclose(g, want, **scaled_tolerance(dtype, want))


@pytest.mark.parametrize("shape", [(13, 3), (4, 5, 6), (2, 3, 4, 17)], ids=str)
def test_gram_matrix_backward_central_differences(shape):
    rng = rng_for("gram-bw", shape)
    f = rng.normal(size=shape)
    r = rng.normal(size=gram_ref(f).shape)  # not symmetric
    d = fl.gram_matrix_backward(f, r)
    assert fl.gram_matrix.backward is fl.gram_matrix_backward
    assert d.shape == f.shape
    numeric = numeric_gradient(lambda x: np.sum(r * fl.gram_matrix(x)), f)
    np.testing.assert_allclose(d, numeric, rtol=1e-7, atol=1e-9 * np.abs(numeric).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_gram_matrix_backward_matches_reference(dtype):
    rng = rng_for("gram-bw-ref")
    f = rng.normal(size=(3, 6, 5, 17)).astype(dtype)
    r = rng.normal(size=(17, 17)).astype(dtype)  # one (C, C) for every image
    want = np.einsum("bhwi,ij->bhwj", _f64(f), _f64(r) + _f64(r).T)
    got = fl.gram_matrix_backward(f, r)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, **scaled_tolerance(dtype, want))
    np.testing.assert_array_equal(got, fl.gram_matrix_backward(f, np.broadcast_to(r, (3, 17, 17))))
    with pytest.raises(ValueError, match=r"grad_output of shape \(4, 4\).*\(3, 17, 17\)"):
        fl.gram_matrix_backward(f, np.zeros((4, 4), dtype))


def test_gram_matrix_rejects_other_ranks():
    for shape in [(5,), (1, 2, 3, 4, 5)]:
        with pytest.raises(ValueError, match="channels-last"):
            fl.gram_matrix(np.zeros(shape))


# --- 7. StyleLoss over a list of layers ----------------------------------------------


def _layers(dtype=np.float64, key="layers"):
    rng = rng_for(key)
    style = [rng.normal(size=(6, 5, 3)), rng.normal(size=(3, 2, 7))]
    gen = [rng.normal(size=(2, 6, 5, 3)), rng.normal(size=(2, 3, 2, 7))]
    return [s.astype(dtype) for s in style], [g.astype(dtype) for g in gen]


@pytest.mark.parametrize("layer_weights", [None, [0.3, 1.5]], ids=["equal", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_style_layers_match_reference(dtype, layer_weights):
    style, gen = _layers(dtype)
    sw = np.array([0.5, 2.0], dtype)
    loss = fl.StyleLoss(layer_weights=layer_weights, reduction="sum")
    want = keras_reduce(style_per_image(style, gen, layer_weights), sw, "sum")
    value, (grads,) = loss.forward_backward(style, gen, sample_weight=sw, grad_output=0.5)
    np.testing.assert_allclose(value, want, **scaled_tolerance(dtype, want))
    assert isinstance(grads, list) and len(grads) == 2
    for g, w, x in zip(grads, style_grad(style, gen, layer_weights), gen):
        w = w * 0.5 * _f64(sw)[:, None, None, None]
        assert g.dtype == dtype and g.shape == x.shape
        np.testing.assert_allclose(g, w, **scaled_tolerance(dtype, w))
    if layer_weights is None:  # the default is 1 / (number of layers) each
        np.testing.assert_allclose(
            value, fl.StyleLoss(layer_weights=[0.5, 0.5], reduction="sum")(style, gen, sw),
            rtol=1e-6)


def test_style_layers_central_differences_and_hessian():
    style, gen = _layers(key="layers-cd")
    weights = [0.7, 2.0]
    loss = fl.StyleLoss(layer_weights=weights)
    (grads,) = loss.backward(style, gen)
    (g_gh,), (h_gh,) = loss.gradient_hessian(style, gen)
    for layer, g in enumerate(grads):
        def scalar(x, layer=layer):
            layers = list(gen)
            layers[layer] = x
            return loss(style, layers)

        numeric = numeric_gradient(scalar, gen[layer])
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8 * np.abs(numeric).max())
        # unreduced: the sum over the batch of 2 images, not the mean
        np.testing.assert_allclose(g_gh[layer], 2 * g, rtol=1e-12)
        want_h = weights[layer] * style_hessian_ref(style[layer], gen[layer])
        np.testing.assert_allclose(h_gh[layer], want_h, rtol=1e-10)


def test_style_input_errors():
    style, gen = _layers()
    loss = fl.StyleLoss()
    with pytest.raises(ValueError, match="lists of the same length"):
        loss(style, gen[0])
    with pytest.raises(ValueError, match="lists of the same length"):
        loss(style[:1], gen)
    with pytest.raises(ValueError, match="3 channels, generated features 7"):
        loss([style[0], style[0]], gen)
    with pytest.raises(ValueError, match="layer_weights has 3 entries for 2 layers"):
        fl.StyleLoss(layer_weights=[1, 2, 3])(style, gen)
    with pytest.raises(ValueError, match="finite"):
        fl.StyleLoss(layer_weights=[1.0, np.inf])
    with pytest.raises(TypeError, match="out= is not supported for a list of layers"):
        loss.backward(style, gen, out=([np.empty_like(g) for g in gen],))


# --- 8. the machinery ---------------------------------------------------------------


def assert_all_equal(got, want):
    """Two sequences of arrays, bitwise equal pairwise."""
    got, want = list(got), list(want)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def _all_methods(loss, inputs, **kw):
    """Every public method's results, flattened to a list of arrays."""
    results = [loss(*inputs, **kw)]
    results += list(loss.backward(*inputs, grad_output=0.75, **kw))
    value, grads = loss.forward_backward(*inputs, **kw)
    results += [value, *grads]
    if loss.has_hessian:
        g, h = loss.gradient_hessian(*inputs, **kw)
        results += [*g, *h]
    return [np.asarray(r) for r in results]


def _big_inputs(dtype):
    rng = rng_for("big")
    feats = rng.normal(size=(2, 64, 64, 32)).astype(dtype)
    target = rng.normal(size=(2, 64, 64, 32)).astype(dtype)
    logits = rng.normal(size=(4096, 64)).astype(dtype)
    return [
        (fl.StyleLoss(), (target, feats)),
        (fl.ContentLoss(), (target, feats)),
        (fl.TotalVariation(), (feats,)),
        (fl.GANDiscriminatorLoss(), (logits, logits[::-1])),
        (fl.GANGeneratorLoss(saturating=True), (logits,)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_identical_for_every_thread_count(dtype):
    before = fl.get_num_threads()
    cases = _big_inputs(dtype)
    feats = cases[0][1][1]
    r = rng_for("big-r").normal(size=(2, 32, 32)).astype(dtype)
    results = {}
    try:
        for n in (1, 2):
            fl.set_num_threads(n)
            results[n] = [_all_methods(loss, inputs) for loss, inputs in cases]
            results[n].append([fl.gram_matrix(feats), fl.gram_matrix_backward(feats, r)])
    finally:
        fl.set_num_threads(before)
    assert fl.get_num_threads() == before
    assert len(results[1]) == len(results[2])
    for one, two in zip(results[1], results[2]):
        assert_all_equal(one, two)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_inputs_are_never_modified_and_may_be_read_only(case):
    inputs = draw(case, np.float32)
    sw = sample_weights(case, inputs, np.float32)
    copies = [a.copy() for a in inputs]
    loss = case.make("sum_over_batch_size")
    expected = _all_methods(loss, copies, sample_weight=sw)
    for a in inputs:
        a.flags.writeable = False
    got = _all_methods(loss, inputs, sample_weight=sw)
    for a, b in zip(inputs, copies):
        np.testing.assert_array_equal(a, b)
    assert_all_equal(got, expected)


def _strided(a, kind):
    """The same values as `a`, held by a non-contiguous view."""
    if kind == "transposed":
        t = np.ascontiguousarray(np.swapaxes(a, -1, -2))
        return np.swapaxes(t, -1, -2)
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    view = big[tuple(slice(1, None, 2) for _ in a.shape)]
    view[...] = a
    return view


@pytest.mark.parametrize("kind", ["transposed", "sliced"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_non_contiguous_inputs_match_contiguous_copies(case, kind):
    inputs = draw(case, np.float32)
    views = tuple(_strided(a, kind) for a in inputs)
    assert not any(v.flags.c_contiguous for v in views)
    loss = case.make("none")
    assert_all_equal(_all_methods(loss, views), _all_methods(loss, inputs))


def test_non_contiguous_gram_and_style_layers():
    style, gen = _layers(np.float32)
    views = [_strided(g, "sliced") for g in gen]
    np.testing.assert_array_equal(fl.gram_matrix(views[0]), fl.gram_matrix(gen[0]))
    r = np.ones((3, 3), np.float32)
    np.testing.assert_array_equal(fl.gram_matrix_backward(views[0], r),
                                  fl.gram_matrix_backward(gen[0], r))
    value, (grads,) = fl.StyleLoss().forward_backward(style, views)
    value2, (grads2,) = fl.StyleLoss().forward_backward(style, gen)
    assert value == value2
    assert_all_equal(grads, grads2)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_grad_output_scales_the_gradient(case):
    inputs = draw(case, np.float64)
    loss = case.make("sum_over_batch_size")
    base = loss.backward(*inputs)
    for go in (2.5, np.float32(-0.5), 0.0):
        scaled = loss.backward(*inputs, grad_output=go)
        assert len(scaled) == len(base)
        for g, b in zip(scaled, base):
            np.testing.assert_allclose(g, float(go) * b, rtol=1e-14, atol=1e-300)
    with pytest.raises(ValueError, match="grad_output must be a scalar"):
        loss.backward(*inputs, grad_output=np.ones(3))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_out_receives_the_gradients(case):
    inputs = draw(case, np.float64)
    loss = case.make("sum")
    want = loss.backward(*inputs)
    trained = inputs[case.n_targets:]
    outs = tuple(np.full_like(x, np.nan) for x in trained)
    got = loss.backward(*inputs, out=outs)
    assert len(got) == len(outs) and all(g is o for g, o in zip(got, outs))
    for o, w in zip(outs, want):
        np.testing.assert_array_equal(o, w)
    if len(outs) == 1:  # a single array is accepted for a single gradient
        out = np.empty_like(trained[0])
        value, (g,) = loss.forward_backward(*inputs, out=out)
        assert g is out
        np.testing.assert_array_equal(out, want[0])
        assert value == loss(*inputs)
    # in place: the gradient overwrites the input it is the gradient of
    inplace = tuple(x.copy() for x in trained)
    loss.backward(*inputs[:case.n_targets], *inplace, out=inplace)
    for o, w in zip(inplace, want):
        np.testing.assert_array_equal(o, w)


def test_bad_out_arguments():
    p, f = (rng_for("out").normal(size=(2, 3, 3, 2)) for _ in range(2))
    loss = fl.ContentLoss()
    with pytest.raises(ValueError, match="shape"):
        loss.backward(p, f, out=np.empty((2, 3, 3, 3)))
    with pytest.raises(TypeError, match="dtype"):
        loss.backward(p, f, out=np.empty(f.shape, np.float32))
    read_only = np.empty_like(f)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        loss.backward(p, f, out=read_only)
    with pytest.raises(ValueError, match="must not overlap content_features"):
        loss.backward(p, f, out=p)
    with pytest.raises(ValueError, match="out must hold 2 arrays, got 1"):
        fl.GANDiscriminatorLoss().backward(p, f, out=np.empty_like(f))
    with pytest.raises(ValueError, match="out must hold 1 arrays, got 2"):
        loss.backward(p, f, out=(np.empty_like(f), np.empty_like(f)))


@pytest.mark.parametrize("shape", [(0, 4, 4, 3), (2, 0, 4, 3), (2, 4, 4, 0)], ids=str)
def test_empty_inputs(shape):
    x = np.zeros(shape, np.float32)
    for loss, inputs in [(fl.ContentLoss(), (x, x)), (fl.StyleLoss(), (x, x)),
                         (fl.TotalVariation(), (x,))]:
        value, (g,) = loss.forward_backward(*inputs)
        assert value == 0.0 and value.dtype == np.float32
        assert g.shape == shape and g.dtype == np.float32
        per_image = type(loss)(reduction="none")(*inputs)
        np.testing.assert_array_equal(per_image, np.zeros(shape[0]))
    c = shape[-1]
    np.testing.assert_array_equal(fl.gram_matrix(x), np.zeros((shape[0], c, c)))
    assert fl.gram_matrix_backward(x, np.zeros((c, c), np.float32)).shape == shape


def test_empty_gan_batches():
    z = np.zeros((0, 1))
    value, grads = fl.GANDiscriminatorLoss().forward_backward(z, z)
    assert value == 0.0 and [g.shape for g in grads] == [(0, 1), (0, 1)]
    assert fl.GANGeneratorLoss(reduction="none")(z).shape == (0,)


def test_wrong_number_of_inputs():
    x = np.zeros((2, 3, 3, 1))
    with pytest.raises(TypeError, match=r"takes 2 inputs \(content_features, generated"
                                        r"_features\).*got 1 positional"):
        fl.ContentLoss()(x)
    with pytest.raises(TypeError, match=r"takes 1 input \(images\).*got 3"):
        fl.TotalVariation()(x, x, x)
    with pytest.raises(TypeError, match=r"takes 2 inputs \(real_output, fake_output\)"):
        fl.GANDiscriminatorLoss().backward(x)


def test_per_image_weights_broadcast_up_as_keras_does():
    """One image with a weight vector: Keras multiplies the (scalar) per-image
    loss by the weights, so reduction "none" returns one value per weight."""
    x = rng_for("tv-up").normal(size=(4, 5, 2))
    w = np.array([2.0, 3.0])
    loss = fl.TotalVariation(reduction="none")
    np.testing.assert_allclose(loss(x, sample_weight=w), tv_per_image(x) * w, rtol=1e-12)
    (g,) = loss.backward(x, sample_weight=w, grad_output=np.array([1.0, -0.5]))
    np.testing.assert_allclose(g, tv_grad(x) * (2.0 - 1.5), rtol=1e-12)
    np.testing.assert_allclose(fl.TotalVariation()(x, sample_weight=w),
                               np.mean(tv_per_image(x) * w), rtol=1e-12)


def test_repr_and_config():
    assert repr(fl.GANGeneratorLoss(saturating=True)) == "GANGeneratorLoss(saturating=True)"
    assert repr(fl.GANGeneratorLoss(from_logits=False, reduction="sum")) == (
        "GANGeneratorLoss(from_logits=False, reduction='sum')")
    assert fl.StyleLoss(layer_weights=[1, 2]).get_config()["layer_weights"] == [1.0, 2.0]
    assert fl.TotalVariation(name="tv").name == "tv"
    with pytest.raises(ValueError, match="invalid reduction"):
        fl.ContentLoss(reduction="average")


# --- 9. peers --------------------------------------------------------------------------


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_gan_losses_match_keras(reduction):
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the peer tests drive Keras through its torch backend")
    rng = rng_for("keras-gan")
    real, fake = (rng.normal(scale=3.0, size=(16, 1)).astype(np.float32) for _ in range(2))
    bce_k = keras.losses.BinaryCrossentropy(from_logits=True, reduction=reduction)
    r_t, f_t = torch.tensor(real, requires_grad=True), torch.tensor(fake, requires_grad=True)
    d_k = bce_k(torch.ones_like(r_t), r_t) + bce_k(torch.zeros_like(f_t), f_t)
    d_k.sum().backward()
    value, (g_real, g_fake) = fl.GANDiscriminatorLoss(reduction=reduction).forward_backward(
        real, fake)
    np.testing.assert_allclose(value, d_k.detach().numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(g_real, r_t.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g_fake, f_t.grad.numpy(), rtol=1e-5, atol=1e-8)
    g_k = bce_k(torch.ones_like(f_t), f_t)
    np.testing.assert_allclose(fl.GANGeneratorLoss(reduction=reduction)(fake),
                               g_k.detach().numpy(), rtol=2e-6, atol=1e-7)


@pytest.mark.peer
def test_gram_and_total_variation_match_torch():
    torch = pytest.importorskip("torch")
    x = rng_for("torch-tv").normal(size=(2, 9, 7, 5)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    tv = ((xt[:, 1:] - xt[:, :-1]).abs().sum(dim=(1, 2, 3))
          + (xt[:, :, 1:] - xt[:, :, :-1]).abs().sum(dim=(1, 2, 3)))
    tv.sum().backward()
    value, (g,) = fl.TotalVariation(reduction="none").forward_backward(x)
    np.testing.assert_allclose(value, tv.detach().numpy(), rtol=2e-6)
    np.testing.assert_array_equal(g, xt.grad.numpy())
    flat = torch.tensor(x, dtype=torch.float64).reshape(2, -1, 5)
    np.testing.assert_allclose(fl.gram_matrix(x), (flat.transpose(1, 2) @ flat).numpy(),
                               rtol=1e-5, atol=1e-5)

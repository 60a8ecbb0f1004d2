"""fastloss against the libraries users come from, on the same float32 inputs:
Keras 3 (torch backend) values and autograd gradients, PyTorch's functional
losses, scikit-learn's loss module. Skipped when a peer is not installed."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest

import fastloss as fl

from cases import CASES

os.environ.setdefault("KERAS_BACKEND", "torch")

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.peer

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


def _keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these peer tests drive Keras through its torch backend")
    return keras


# fastloss case id -> the Keras class and constructor arguments
KERAS_TWINS = {
    "mse": ("MeanSquaredError", {}),
    "mae": ("MeanAbsoluteError", {}),
    "mape": ("MeanAbsolutePercentageError", {}),
    "msle": ("MeanSquaredLogarithmicError", {}),
    "huber": ("Huber", {}),
    "huber-0.3": ("Huber", {"delta": 0.3}),
    "log_cosh": ("LogCosh", {}),
    "poisson": ("Poisson", {}),
    "bce": ("BinaryCrossentropy", {}),
    "bce-ls": ("BinaryCrossentropy", {"label_smoothing": 0.1}),
    "bce-logits": ("BinaryCrossentropy", {"from_logits": True}),
    "bce-logits-ls": ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}),
    "focal": ("BinaryFocalCrossentropy", {}),
    "focal-balanced-ls": ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3,
                                                      "gamma": 3.5, "label_smoothing": 0.1}),
    "focal-gamma0": ("BinaryFocalCrossentropy", {"gamma": 0.0}),
    "focal-logits": ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 1.5}),
    "hinge-01": ("Hinge", {}),
    "hinge-pm1": ("Hinge", {}),
    "squared_hinge-01": ("SquaredHinge", {}),
    "squared_hinge-pm1": ("SquaredHinge", {}),
}
KERAS_CASES = [c for c in CASES if c.id in KERAS_TWINS]


def _inputs(case, shape=(16, 6)):
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    t, p = case.domain(rng, shape)
    sw = rng.uniform(0.2, 2.0, size=shape[0]).astype(np.float32)
    return t.astype(np.float32), p.astype(np.float32), sw


def _keras_forward_backward(keras, name, kwargs, reduction, t, p, weights, upstream, dtype):
    theirs = getattr(keras.losses, name)(**kwargs, reduction=reduction, dtype=dtype)
    p_torch = torch.tensor(p.astype(dtype), requires_grad=True)
    value = theirs(torch.tensor(t.astype(dtype)), p_torch,
                   sample_weight=None if weights is None else torch.tensor(weights.astype(dtype)))
    (value * torch.tensor(upstream.astype(dtype))).sum().backward()
    return value.detach().numpy(), p_torch.grad.numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", KERAS_CASES, ids=[c.id for c in KERAS_CASES])
def test_values_and_gradients_match_keras(case, reduction):
    """Values match Keras's float32 to float32 rounding; gradients match the
    autograd gradient of Keras's float64 evaluation (Keras's own float32
    gradient loses digits to cancellation in 1 - p_t for the focal loss)."""
    keras = _keras()
    name, kwargs = KERAS_TWINS[case.id]
    ours = case.make(reduction)
    t, p, sw = _inputs(case)
    upstream = (np.linspace(0.5, 1.5, t.shape[0]) if reduction == "none"
                else np.array(1.0)).astype(np.float32)
    for weights in (None, sw):
        value, grad = ours.forward_backward(t, p, weights, grad_output=upstream)
        e32, _ = _keras_forward_backward(keras, name, kwargs, reduction, t, p, weights, upstream,
                                         "float32")
        _e64, g64 = _keras_forward_backward(keras, name, kwargs, reduction, t, p, weights,
                                           upstream, "float64")
        scale = max(1.0, float(np.abs(e32).max()))
        np.testing.assert_allclose(value, e32, rtol=2e-6, atol=2e-6 * scale)
        np.testing.assert_allclose(grad, g64, rtol=2e-5, atol=1e-6 * float(np.abs(g64).max()))
        v64, grad64 = ours.forward_backward(t.astype(np.float64), p.astype(np.float64),
                                            weights, grad_output=upstream)
        # Keras's dtype="float64" still mixes in float32 (epsilon constants, the
        # divisor, the returned value), so float64 agreement is to float32 level;
        # float64 accuracy itself is tested against the NumPy reference.
        np.testing.assert_allclose(v64, _e64, rtol=3e-5, atol=1e-12)
        np.testing.assert_allclose(grad64, g64, rtol=3e-5, atol=1e-6 * float(np.abs(g64).max()))


KERAS_FUNCTIONS = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                   "mape": "mean_absolute_percentage_error",
                   "msle": "mean_squared_logarithmic_error", "huber": "huber",
                   "log_cosh": "log_cosh", "poisson": "poisson", "bce": "binary_crossentropy",
                   "focal": "binary_focal_crossentropy", "hinge-pm1": "hinge",
                   "squared_hinge-pm1": "squared_hinge"}


@pytest.mark.parametrize("case_id,fn_name", sorted(KERAS_FUNCTIONS.items()))
def test_keras_function_names_match(case_id, fn_name):
    keras = _keras()
    case = next(c for c in CASES if c.id == case_id)
    t, p, _ = _inputs(case)
    np.testing.assert_allclose(getattr(fl, fn_name)(t, p),
                               getattr(keras.losses, fn_name)(torch.tensor(t),
                                                              torch.tensor(p)).numpy(),
                               rtol=2e-6, atol=1e-6)
    assert type(fl.get(fn_name)) is case.cls


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
@pytest.mark.parametrize("sw_shape", [(), (1,), (5, 1), (5, 3), (1, 3)])
def test_keras_sample_weight_broadcasting(sw_shape, reduction):
    keras = _keras()
    rng = np.random.default_rng(1)
    t = rng.normal(size=(5, 3, 4)).astype(np.float32)
    p = rng.normal(size=(5, 3, 4)).astype(np.float32)
    sw = rng.uniform(0.5, 2, size=sw_shape).astype(np.float32)
    theirs = keras.losses.MeanSquaredError(reduction=reduction)
    expected = theirs(torch.tensor(t), torch.tensor(p), sample_weight=torch.tensor(sw)).numpy()
    got = fl.MeanSquaredError(reduction=reduction)(t, p, sample_weight=sw)
    np.testing.assert_allclose(got, expected, rtol=2e-6)


def test_weights_that_do_not_broadcast_raise_like_keras():
    keras = _keras()
    t = p = np.zeros((5, 3, 4), np.float32)
    sw = np.ones(5, np.float32)  # (5,) against per-sample losses (5, 3)
    with pytest.raises(RuntimeError):
        keras.losses.MeanSquaredError()(torch.tensor(t), torch.tensor(p),
                                        sample_weight=torch.tensor(sw))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(5,\)"):
        fl.MeanSquaredError()(t, p, sample_weight=sw)


def test_keras_one_dimensional_inputs_with_element_weights():
    keras = _keras()
    t = np.linspace(0, 1, 7).astype(np.float32)
    p = np.linspace(1, 0, 7).astype(np.float32)
    w = np.linspace(0.5, 2, 7).astype(np.float32)
    for reduction in REDUCTIONS:
        expected = keras.losses.MeanSquaredError(reduction=reduction)(
            torch.tensor(t), torch.tensor(p), sample_weight=torch.tensor(w)).numpy()
        got = fl.MeanSquaredError(reduction=reduction)(t, p, sample_weight=w)
        np.testing.assert_allclose(got, expected, rtol=2e-6)


# --- PyTorch functional losses (mean over all elements == our default on equal rows)

F = torch.nn.functional
TORCH_TWINS = [
    ("mse", lambda p, t: F.mse_loss(p, t)),
    ("mae", lambda p, t: F.l1_loss(p, t)),
    ("smooth_l1", lambda p, t: F.smooth_l1_loss(p, t, beta=1.0)),
    ("smooth_l1-0.4", lambda p, t: F.smooth_l1_loss(p, t, beta=0.4)),
    ("huber-0.3", lambda p, t: F.huber_loss(p, t, delta=0.3)),
    ("bce", lambda p, t: F.binary_cross_entropy(p, t)),
    ("bce-logits", lambda p, t: F.binary_cross_entropy_with_logits(p, t)),
    ("poisson", lambda p, t: F.poisson_nll_loss(p, t, log_input=False, eps=1e-7)),
    ("half_squared", lambda p, t: 0.5 * F.mse_loss(p, t)),
]


@pytest.mark.parametrize("case_id,fn", TORCH_TWINS, ids=[c for c, _ in TORCH_TWINS])
def test_matches_pytorch(case_id, fn):
    case = next(c for c in CASES if c.id == case_id)
    t, p, _ = _inputs(case, (64, 10))
    p_torch = torch.tensor(p, requires_grad=True)
    expected = fn(p_torch, torch.tensor(t))
    expected.backward()
    value, grad = case.make().forward_backward(t, p)
    np.testing.assert_allclose(value, expected.item(), rtol=3e-6)
    np.testing.assert_allclose(grad, p_torch.grad.numpy(), rtol=3e-5, atol=1e-9)


# --- scikit-learn's loss module: per-element gradient and Hessian -----------


def _sklearn_loss(name, **kwargs):
    mod = pytest.importorskip("sklearn._loss.loss")
    return getattr(mod, name)(**kwargs)


SKLEARN_TWINS = [
    ("half_squared", "HalfSquaredError", {}),
    ("bce-logits", "HalfBinomialLoss", {}),
    ("exponential-01", "ExponentialLoss", {}),
    ("pinball-0.1", "PinballLoss", {"quantile": 0.1}),
    ("mae", "AbsoluteError", {}),
]


@pytest.mark.parametrize("case_id,name,kwargs", SKLEARN_TWINS, ids=[s[0] for s in SKLEARN_TWINS])
def test_matches_sklearn_loss_module(case_id, name, kwargs):
    theirs = _sklearn_loss(name, **kwargs)
    case = next(c for c in CASES if c.id == case_id)
    rng = np.random.default_rng(3)
    t, p = case.domain(rng, (200,))
    if name == "HalfBinomialLoss":
        t = rng.integers(0, 2, size=200).astype(float)
    w = rng.uniform(0.5, 2, size=200)
    loss_elem = theirs.loss(y_true=t, raw_prediction=p, sample_weight=w)
    ours = case.make("none")
    np.testing.assert_allclose(ours(t[:, None], p[:, None], sample_weight=w), loss_elem,
                               rtol=1e-12)
    if ours.has_hessian:
        g, h = theirs.gradient_hessian(y_true=t, raw_prediction=p, sample_weight=w)
        our_g, our_h = ours.gradient_hessian(t, p, sample_weight=w)
        np.testing.assert_allclose(our_g, g, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(our_h, h, rtol=1e-12, atol=1e-15)
    else:
        g = theirs.gradient(y_true=t, raw_prediction=p, sample_weight=w)
        our_g = ours.backward(t[:, None], p[:, None], sample_weight=w,
                              grad_output=np.ones(200)).ravel()
        np.testing.assert_allclose(our_g, g, rtol=1e-12, atol=1e-15)

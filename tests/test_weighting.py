"""Keras's weighting and reduction rules have one owner (fastloss._passes): the
kernels reduce per-sample losses with the divisor and weights it chooses, and
the losses computed outside a kernel (the model losses' per-image values) are
reduced by the same rules. Both consumers must agree on every reduction and
every shape of sample_weight Keras accepts, and with Keras's own arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl
from fastloss import _arrays, _passes

REDUCTIONS = ["sum", "sum_over_batch_size", "mean_with_sample_weight", "none"]

#: (per-sample shape, sample_weight shape): aligned, a trailing 1 added or
#: squeezed, broadcast from a smaller shape, broadcasting the values up.
SHAPES = [((6,), None), ((6,), (6,)), ((6,), (6, 1)), ((2, 3), (2, 1)), ((2, 3), (3,)),
          ((2, 3), (2, 3, 1)), ((6, 1), (6,)), ((2, 1), (2, 4)), ((), None), ((), ())]


def _keras(values: np.ndarray, sw, reduction: str):
    """Keras 3's reduce_weighted_values, written from its documented rules."""
    if sw is not None:
        sw = np.asarray(sw, np.float64)
        if values.ndim == sw.ndim + 1 and values.shape[-1] == 1:
            if sw.ndim == 1:
                sw = sw[:, None]
            else:
                values = values[..., 0]
        elif sw.ndim == values.ndim + 1 and sw.shape[-1] == 1:
            if values.ndim == 1:
                values = values[:, None]
            else:
                sw = sw[..., 0]
        values = values * sw
    if reduction == "none" or values.ndim == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sw is not None:
        return total / sw.sum()
    return total / values.size


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,sw_shape", SHAPES, ids=str)
def test_kernel_and_python_reductions_agree_with_keras(shape, sw_shape, reduction):
    rng = np.random.default_rng(len(shape) + 7 * (0 if sw_shape is None else len(sw_shape)))
    t = rng.normal(size=(*shape, 1))
    p = rng.normal(size=(*shape, 1))
    sw = None if sw_shape is None else rng.uniform(0.5, 2.0, size=sw_shape)
    per_sample = ((t - p) ** 2)[..., 0]
    expected = _keras(per_sample, sw, reduction)
    kernel = fl.MeanSquaredError(reduction=reduction)(t, p, sample_weight=sw)
    w = _passes.keras_weighting(sw, per_sample.shape, np.dtype(np.float64),
                                _arrays.REDUCTIONS[reduction])
    python = w.reduce(per_sample.reshape(-1), np.dtype(np.float64))
    np.testing.assert_allclose(kernel, expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(python, expected, rtol=1e-13, atol=0)
    assert np.shape(kernel) == np.shape(python) == np.shape(expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,sw_shape", SHAPES, ids=str)
def test_gradient_coefficients_agree_with_the_kernel(shape, sw_shape, reduction):
    """d(loss)/d(per-sample loss) from the Python rules, times each sample's
    d(per-sample loss)/d(y_pred), is the kernel's gradient."""
    rng = np.random.default_rng(3 + len(shape))
    t = rng.normal(size=(*shape, 1))
    p = rng.normal(size=(*shape, 1))
    sw = None if sw_shape is None else rng.uniform(0.5, 2.0, size=sw_shape)
    loss = fl.MeanSquaredError(reduction=reduction)
    w = _passes.keras_weighting(sw, shape, np.dtype(np.float64), _arrays.REDUCTIONS[reduction])
    go = np.ones(w.values_shape) * 0.75 if reduction == "none" else 0.75
    grad = loss.backward(t, p, sample_weight=sw, grad_output=go)
    n = int(np.prod(shape, dtype=np.int64))
    coef = w.coefficients(go, n, np.dtype(np.float64)).reshape((*shape, 1))
    np.testing.assert_allclose(grad, coef * 2 * (p - t), rtol=1e-13, atol=1e-15)


def test_ignored_rows_and_class_weights_fold_into_the_divisor():
    """Sparse cross-entropy with ignore_class and class weights: the divisor
    the one owner chooses is Keras's count of kept rows ("sum_over_batch_size")
    and PyTorch's weighted mean ("mean_with_sample_weight")."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(8, 4))
    labels = np.array([0, 1, 2, 3, 1, 1, 0, 2])
    cw = [1.0, 2.0, 0.5, 3.0]
    per_row = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(labels, logits)
    kept = labels != 1
    sobs = fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)(labels, logits)
    np.testing.assert_allclose(sobs, per_row[kept].sum() / kept.sum(), rtol=1e-13)
    mwsw = fl.SparseCategoricalCrossentropy(from_logits=True, class_weight=cw,
                                            reduction="mean_with_sample_weight")(labels, logits)
    lw = np.asarray(cw)[labels]
    np.testing.assert_allclose(mwsw, (per_row * lw).sum() / lw.sum(), rtol=1e-13)

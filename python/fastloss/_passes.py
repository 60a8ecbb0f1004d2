"""The output side of a kernel call, shared by every loss family: which
per-sample weights and upstream gradient the kernel multiplies by, where the
gradient goes (a fresh array, the user's ``out=``, or a temporary copied into
it), and what the call returns (Keras's reduced value or per-sample losses)."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import numpy as np

from . import _arrays
from ._arrays import REDUCTION_NONE, Weighting


class Outputs(NamedTuple):
    weights: Optional[np.ndarray]  # per-sample weights the kernel applies
    go_array: Optional[np.ndarray]  # per-sample upstream gradient (reduction "none")
    go_scalar: float
    per_sample: Optional[np.ndarray]  # filled by the kernel for reduction "none"
    grad: Optional[np.ndarray]  # what backward returns
    grad3: Optional[np.ndarray]  # the (outer, axis, inner) view the kernel writes


def grad_target(pred_shape: tuple[int, ...], shape3: tuple[int, int, int], dtype: np.dtype,
                out: Optional[np.ndarray],
                inputs: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The gradient array and its (outer, axis, inner) view. A view without a
    base is a temporary that `finish` copies into `out`."""
    if out is None:
        grad = np.empty(pred_shape, dtype)
        return grad, grad.reshape(shape3)
    _arrays.check_out(out, pred_shape, dtype, inputs)
    if not _arrays.kernel_readable(out):
        return out, np.empty(shape3, dtype)
    view = out.view()
    try:
        view.shape = shape3
        return out, view
    except AttributeError:  # a layout that (outer, axis, inner) strides cannot express
        return out, np.empty(shape3, dtype)


def prepare_outputs(w: Weighting, n_samples: int, dtype: np.dtype, pred_shape: tuple[int, ...],
                    shape3: tuple[int, int, int], *, want_value: bool, want_grad: bool,
                    grad_output: Any, out: Optional[np.ndarray],
                    inputs: dict[str, Any]) -> Outputs:
    unreduced = w.reduction == REDUCTION_NONE
    per_sample = np.empty(n_samples, dtype) if (want_value and unreduced) else None
    # Weights that broadcast the values up (Keras multiplies after the
    # per-sample loss) are applied afterwards for "none" and reach the
    # gradient through grad_output.
    weights = None if (unreduced and w.broadcast_up) else w.weights
    go_array: Optional[np.ndarray] = None
    go_scalar = 1.0
    grad = grad3 = None
    if want_grad:
        if unreduced:
            go_array = _arrays.grad_output_per_sample(grad_output, w, dtype)
        if go_array is None:
            go_scalar = _arrays.scalar_grad_output(grad_output)
        grad, grad3 = grad_target(pred_shape, shape3, dtype, out, inputs)
    return Outputs(weights, go_array, go_scalar, per_sample, grad, grad3)


def finish(o: Outputs, w: Weighting, value: float, dtype: np.dtype, *, want_value: bool,
           empty: bool) -> tuple[Any, Any]:
    """(value or None, gradient or None) as the public methods return them."""
    if o.grad is not None and o.grad3 is not None and o.grad3.base is None:
        o.grad[...] = o.grad3.reshape(o.grad.shape)  # out= written through a temporary
    if not want_value:
        return None, o.grad
    if w.reduction == REDUCTION_NONE:
        assert o.per_sample is not None
        values = o.per_sample.reshape(w.aligned_shape)
        if w.broadcast_up:
            values = values * w.sample_weight
        return (values if values.ndim else values[()]), o.grad
    if empty:
        value = 0.0  # an empty batch: Keras's divide_no_nan gives 0
    return dtype.type(value), o.grad


def hessian_weights(sample_weight: Any, sample_shape: tuple[int, ...],
                    pred_shape: tuple[int, ...],
                    dtype: np.dtype) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """gradient_hessian's weights: (per-sample weights for the kernel, None) when
    they follow Keras's per-sample rules, else (None, weights broadcast to
    y_pred's shape) to multiply afterwards (XGBoost's per-element convention for
    1-D inputs)."""
    if sample_weight is None:
        return None, None
    try:
        w = _arrays.keras_weighting(sample_weight, sample_shape, dtype, REDUCTION_NONE)
        if not w.broadcast_up:
            return w.weights, None
    except ValueError:
        pass
    sw = _arrays.as_float(sample_weight, "sample_weight", dtype)
    try:
        return None, np.broadcast_to(sw, pred_shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {sw.shape} broadcasts neither to the per-sample "
            f"shape {sample_shape} nor to y_pred's shape {pred_shape}"
        ) from None

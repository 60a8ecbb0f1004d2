"""Keras 3's weighting and reduction rules, and the one pass every kernel family
runs through. This module is their only owner in the Python layer: the
elementwise and class-axis losses, the small-call fast path and the model
losses all take their divisor, their per-sample weights and their upstream
gradient coefficients from here.

The rules, as Keras 3 applies them to per-sample losses ``values``:

* ``sample_weight`` is rank-aligned with ``values`` (one trailing size-1 axis is
  squeezed or added, ``squeeze_or_expand_to_same_rank``) and broadcast against
  them; weights that broadcast the values *up* to a larger shape are summed back
  onto the samples for the kernel, and multiply the values afterwards for
  ``reduction="none"``;
* ``"sum"`` divides by 1, ``"sum_over_batch_size"`` by the number of weighted
  values, ``"mean_with_sample_weight"`` by the sum of the weights (the number of
  values without weights); rows a class-axis loss ignores (``ignore_class``)
  count in neither, and class weights join the weight sum (PyTorch's weighted
  mean);
* a scalar per-sample loss (a 1-D ``y_pred``) is returned as the weighted value
  itself, unreduced; a zero divisor gives 0 (``divide_no_nan``).

The C++ core applies a divisor it is given (``explicit_divisor``); its own
default rule (``detail::run_and_reduce``) serves C++ callers of ``api.hpp``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from . import _arrays
from ._arrays import REDUCTION_MWSW, REDUCTION_NONE, REDUCTION_SOBS, REDUCTION_SUM, REDUCTIONS


def reduction_rule(reduction: int, values_shape: tuple[int, ...],
                   weight_sum: Optional[float] = None) -> tuple[int, float]:
    """(the reduction applied, its divisor) for weighted values of
    `values_shape`; `weight_sum` is the sum of the sample weights, None without."""
    if reduction == REDUCTION_NONE or values_shape == ():
        # Keras returns scalar values unreduced: the weighted value itself.
        return (REDUCTION_NONE if reduction == REDUCTION_NONE else REDUCTION_SUM), 1.0
    if reduction == REDUCTION_SUM:
        return reduction, 1.0
    if reduction == REDUCTION_MWSW and weight_sum is not None:
        return reduction, weight_sum
    return reduction, float(math.prod(values_shape))


def _sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sums x over the axes along which `shape` was broadcast to x.shape."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    return np.sum(x, axis=axes, keepdims=True).reshape(shape) if axes else x


class Weighting(NamedTuple):
    """Keras 3's sample-weight rules applied to per-sample losses of shape
    `sample_shape`: which per-sample weights the kernel multiplies by, what the
    weighted sum is divided by, and the shape reduction "none" returns."""

    weights: Optional[np.ndarray]  # per-sample (contiguous, flat) or None
    divisor: float
    reduction: int  # the reduction actually applied (Keras leaves scalars unreduced)
    values_shape: tuple[int, ...]  # shape of Keras's weighted values
    sample_weight: Optional[np.ndarray]  # aligned weights when they broadcast the values up
    broadcast_up: bool
    aligned_shape: tuple[int, ...]  # per-sample shape after Keras's rank alignment

    def per_sample_weights(self, n: int) -> np.ndarray:
        """The kernel's per-sample weights as float64, ones without weights."""
        return np.ones(n) if self.weights is None else self.weights.astype(np.float64)

    def reduce(self, per_sample: np.ndarray, dtype: np.dtype) -> Any:
        """What a loss returns for float64 per-sample losses (flat) computed
        outside a kernel: Keras's weighted values for "none", else the reduced
        value."""
        n = per_sample.shape[0]
        if self.reduction == REDUCTION_NONE:
            if self.broadcast_up:  # the values broadcast up to the weights' shape
                values = per_sample.astype(dtype).reshape(self.aligned_shape) * self.sample_weight
            else:
                values = ((per_sample * self.per_sample_weights(n)).astype(dtype)
                          .reshape(self.aligned_shape))
            return values if values.ndim else values[()]
        total = float(np.sum(per_sample * self.per_sample_weights(n)))
        if n == 0 or self.divisor == 0.0:
            return dtype.type(0.0)  # divide_no_nan
        return dtype.type(total / self.divisor)

    def coefficients(self, grad_output: Any, n: int, dtype: np.dtype) -> np.ndarray:
        """d(what `reduce` returns)/d(per-sample loss) times grad_output:
        float64, (n,)."""
        if self.reduction == REDUCTION_NONE:
            go = grad_output_per_sample(grad_output, self, dtype)
            coef = (np.full(n, _arrays.scalar_grad_output(grad_output)) if go is None
                    else go.astype(np.float64))
            return coef if self.broadcast_up else coef * self.per_sample_weights(n)
        go_scalar = _arrays.scalar_grad_output(grad_output)
        if self.divisor == 0.0:
            return np.zeros(n)
        return self.per_sample_weights(n) * (go_scalar / self.divisor)


def align_weights(sw: Any, sample_shape: tuple[int, ...],
                  ) -> tuple[Any, tuple[int, ...], tuple[int, ...]]:
    """Keras's squeeze_or_expand_to_same_rank(values, sample_weight), on shapes:
    (the weights, the values' shape, both broadcast) with ranks aligned. `sw`
    is any array with NumPy's indexing (a NumPy or a dask array)."""
    given, vshape = tuple(sw.shape), sample_shape
    if len(vshape) == sw.ndim + 1 and vshape[-1] == 1:
        if sw.ndim == 1:
            sw = sw[:, None]
        else:
            vshape = vshape[:-1]
    elif sw.ndim == len(vshape) + 1 and sw.shape[-1] == 1:
        if len(vshape) == 1:
            vshape = (*vshape, 1)
        else:
            sw = sw[..., 0]
    try:
        bshape = tuple(np.broadcast_shapes(vshape, sw.shape))
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {given} does not broadcast against the "
            f"per-sample losses of shape {sample_shape}") from None
    return sw, vshape, bshape


def keras_weighting(sample_weight: Any, sample_shape: tuple[int, ...], dtype: np.dtype,
                    reduction: int, *, valid: Optional[np.ndarray] = None,
                    label_weight: Optional[np.ndarray] = None,
                    class_weighted_mean: bool = False) -> Weighting:
    """Keras's weighting of per-sample losses of `sample_shape`. `valid` (bool
    per sample) marks the rows that count (a class-axis loss's ignore_class);
    `label_weight` (float64 per sample) is the class weight of each row's
    label. Both are flat over the samples. With `class_weighted_mean`,
    "sum_over_batch_size" divides by the class weights of the rows that count
    instead of their number (PyTorch's nll_loss mean)."""
    vshape = sample_shape
    sw: Optional[np.ndarray] = None
    weights: Optional[np.ndarray] = None
    bshape = vshape
    up = False
    if sample_weight is not None:
        sw = _arrays.as_float(sample_weight, "sample_weight", dtype)
        sw, vshape, bshape = align_weights(sw, sample_shape)
        up = bshape != vshape
        full = np.broadcast_to(sw, bshape)
        weights = np.ascontiguousarray(_sum_to(full, vshape) if up else full).reshape(-1)
    applied, divisor = reduction_rule(
        reduction, bshape, float(np.sum(sw, dtype=np.float64)) if sw is not None else None)
    if valid is not None or label_weight is not None:
        divisor = _masked_divisor(applied, divisor, math.prod(sample_shape), weights, valid,
                                  label_weight, class_weighted_mean)
    return Weighting(weights, divisor, applied, bshape, sw if up else None, up, vshape)


def _masked_divisor(applied: int, divisor: float, n: int, weights: Optional[np.ndarray],
                    valid: Optional[np.ndarray], label_weight: Optional[np.ndarray],
                    class_weighted_mean: bool = False) -> float:
    """Keras folds ignored rows in as a mask: "sum_over_batch_size" divides by
    the number of rows that count, "mean_with_sample_weight" by the sum of their
    weights; class weights join the latter (PyTorch's weighted mean), and the
    former too for a loss with `class_weighted_mean` (PyTorch's nll_loss)."""
    if applied == REDUCTION_SOBS and class_weighted_mean and label_weight is not None:
        total = label_weight.size
        counted = label_weight if valid is None else np.where(valid, label_weight, 0.0)
        return divisor * float(np.sum(counted, dtype=np.float64)) / total if total else 0.0
    if applied == REDUCTION_SOBS and valid is not None:
        total = valid.size
        return divisor * int(np.count_nonzero(valid)) / total if total else 0.0
    if applied == REDUCTION_MWSW:
        per = np.ones(n) if weights is None else weights.astype(np.float64)
        if label_weight is not None:
            per = per * label_weight
        if valid is not None:
            per = np.where(valid, per, 0.0)
        return float(np.sum(per, dtype=np.float64))
    return divisor


def grad_output_per_sample(grad_output: Any, w: Weighting, dtype: np.dtype) -> Optional[np.ndarray]:
    """An array grad_output (reduction "none") as the per-sample coefficient the
    kernel multiplies by, None for a scalar. When the weights broadcast the
    values up, the weights are folded in here as well."""
    go = _arrays.as_float(grad_output, "grad_output", dtype)
    if go.ndim == 0 and not w.broadcast_up:
        return None
    try:
        full = np.broadcast_to(go, w.values_shape)
    except ValueError:
        raise ValueError(
            f"grad_output of shape {go.shape} does not broadcast to the per-sample loss "
            f"shape {w.values_shape}"
        ) from None
    if w.broadcast_up:
        assert w.sample_weight is not None
        full = _sum_to(full * w.sample_weight, w.aligned_shape)
    return np.ascontiguousarray(full).reshape(-1)


# ---------------------------------------------------------------------------
# The one pass of the kernel families


class KernelCall(NamedTuple):
    """What a loss family hands the pass: the shapes of one call and the arrays
    its kernel's ``run`` reads before the per-sample arrays (``(y_true3,
    y_pred3)`` for an elementwise kernel, ``(y_true3, labels, y_pred3)`` for a
    class-axis one), made on demand so that nothing is computed for a call
    whose outputs are refused."""

    arrays: Callable[[], tuple[Any, ...]]
    dtype: np.dtype
    pred_shape: tuple[int, ...]  # the gradient's shape: y_pred's as given
    sample_shape: tuple[int, ...]  # the per-sample losses'
    shape3: tuple[int, int, int]  # (outer, axis, inner)
    empty: bool  # nothing to reduce: the reduced value is 0
    names: tuple[str, ...]  # of the arrays, for errors; the last may be written in place
    valid: Optional[np.ndarray] = None  # see keras_weighting
    label_weight: Optional[np.ndarray] = None
    class_weighted_mean: bool = False


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
            go_array = grad_output_per_sample(grad_output, w, dtype)
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


def run(kernel: Any, call: KernelCall, sample_weight: Any, reduction: Optional[str], *,
        want_value: bool, want_grad: bool, grad_output: Any, out: Optional[np.ndarray],
        inputs: dict[str, Any]) -> tuple[Any, Any]:
    """forward / backward / forward_backward of a kernel family: Keras's
    weighting, the outputs, one kernel call, the returned values. `inputs` are
    the user's arrays, which out= must not overlap."""
    w = keras_weighting(sample_weight, call.sample_shape, call.dtype, REDUCTIONS[reduction],
                        valid=call.valid, label_weight=call.label_weight,
                        class_weighted_mean=call.class_weighted_mean)
    o = prepare_outputs(w, call.shape3[0] * call.shape3[2], call.dtype, call.pred_shape,
                        call.shape3, want_value=want_value, want_grad=want_grad,
                        grad_output=grad_output, out=out, inputs=inputs)
    arrays = call.arrays()
    if o.grad3 is not None and o.grad3.base is not None and out is not None:
        # The kernel writes into out= while it reads these: whatever they
        # were made from (views of the inputs, a callable's results), only the
        # last may be the very memory it writes, element for element.
        reads = dict(zip(call.names, arrays))
        reads.update(sample_weight=o.weights, grad_output=o.go_array)
        _arrays.check_overlap(o.grad3, reads, in_place=call.names[-1])
    value = kernel.run(*arrays, o.weights, o.go_array, o.go_scalar, w.reduction,
                       w.divisor, want_value, o.per_sample, o.grad3, None, False)
    return finish(o, w, value, call.dtype, want_value=want_value, empty=call.empty)


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
        w = keras_weighting(sample_weight, sample_shape, dtype, REDUCTION_NONE)
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


#: What gradient_hessian takes its two outputs from: (shape, dtype, which) ->
#: an array, or None for fresh ones. The boosting adapters set it to buffers
#: they reuse from round to round (_boosting.Buffers).
OutputArrays = Callable[[tuple[int, ...], np.dtype, int], np.ndarray]
_OUTPUTS: contextvars.ContextVar[Optional[OutputArrays]] = contextvars.ContextVar(
    "fastloss_outputs", default=None)


@contextlib.contextmanager
def outputs_from(outputs: OutputArrays) -> Iterator[None]:
    """gradient_hessian's outputs come from `outputs` inside the block."""
    token = _OUTPUTS.set(outputs)
    try:
        yield
    finally:
        _OUTPUTS.reset(token)


def _output(shape: tuple[int, ...], dtype: np.dtype, which: int) -> np.ndarray:
    outputs = _OUTPUTS.get()
    return np.empty(shape, dtype) if outputs is None else outputs(shape, dtype, which)


def gradient_hessian(kernel: Any, call: KernelCall,
                     sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
    """The per-element gradient and Hessian of a kernel family, unreduced,
    times the sample weights."""
    weights, per_element = hessian_weights(sample_weight, call.sample_shape, call.pred_shape,
                                           call.dtype)
    grad = _output(call.pred_shape, call.dtype, 0)
    hess = _output(call.pred_shape, call.dtype, 1)
    kernel.run(*call.arrays(), weights, None, 1.0, REDUCTION_NONE, 1.0, False, None,
               grad.reshape(call.shape3), hess.reshape(call.shape3), True)
    if per_element is not None:
        grad *= per_element
        hess *= per_element
    return grad, hess

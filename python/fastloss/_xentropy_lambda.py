"""LightGBM's ``cross_entropy_lambda`` objective as a loss, whose sample weights
enter the link instead of scaling the loss."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _arrays, _core
from ._base import Loss


class CrossentropyLambda(Loss):
    """LightGBM's ``cross_entropy_lambda`` (``xentlambda``): the cross-entropy of
    labels in [0, 1] and the probability ``p = 1 - exp(-w softplus(z))`` of raw
    scores z, with the sample weight w in the link::

        loss    = -t log(1 - exp(-w h)) + (1 - t) w h,    h = log(1 + exp(z))
        dloss/dz = w s (1 - t / p),                        s = sigmoid(z)
        d2loss/dz2 = w s (1 - s) (1 - t / p) + t exp(-w h) (w s / p)**2

    Without weights (w = 1) p = sigmoid(z) and this is
    ``BinaryCrossentropy(from_logits=True)``. Every element is a sample:
    ``reduction="none"`` returns y_pred's shape, ``"sum_over_batch_size"`` (and
    ``"mean"``, ``"mean_with_sample_weight"``) the mean over the elements, as
    LightGBM's ``cross_entropy_lambda`` metric (a sum over rows divided by
    their number), ``"sum"`` their sum.

    ``sample_weight`` is LightGBM's weight, the lambda of the link (> 0, per
    element, or of lower rank for the leading axes): it does **not** multiply
    the loss, unlike every other loss's Keras-style sample weight, and
    ``gradient_hessian`` returns the derivatives of the loss so weighted (not
    multiplied by the weight again), which are LightGBM's built-in
    objective's; ``fl.lightgbm.objective(CrossentropyLambda())`` therefore
    trains as ``objective="cross_entropy_lambda"`` with and without weights.
    Labels outside [0, 1] and weights that are not > 0 are refused with the
    first offending index, as LightGBM refuses them. Computed in float64 per
    element (the gradient is returned in y_pred's dtype).

    Parameters
    ----------
    reduction, name
        The reduction of the per-element losses (default: their mean)."""

    _default_name = "crossentropy_lambda"
    has_hessian = True
    #: the boosting adapters pass the dataset's weights into the loss (its link)
    #: instead of averaging the per-row losses with them
    _weights_in_link = True
    _dask_refusal = ("its sample weights enter the link rather than scale the loss, and the "
                     "blockwise path applies sample weights as factors")

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)

    @staticmethod
    def _inputs(y_true: Any, y_pred: Any, sample_weight: Any
                ) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray], tuple[int, ...]]:
        z = _arrays.as_float(y_pred, "y_pred")
        t = _arrays.as_float(y_true, "y_true", z.dtype)
        if t.shape != z.shape:
            raise ValueError(f"CrossentropyLambda: y_true has shape {t.shape} but y_pred has "
                             f"shape {z.shape}")
        outside = np.flatnonzero((t < 0) | (t > 1))
        if outside.size:
            i = int(outside[0])
            raise ValueError(f"CrossentropyLambda: labels must be in [0, 1], got "
                             f"{float(t.reshape(-1)[i])!r} at flat index {i}")
        w = None
        if sample_weight is not None:
            w = _arrays.as_float(sample_weight, "sample_weight", z.dtype)
            if 0 < w.ndim < z.ndim:  # lower rank: weighs the leading axes
                w = w.reshape(w.shape + (1,) * (z.ndim - w.ndim))
            try:
                w = np.broadcast_to(w, z.shape)
            except ValueError:
                raise ValueError(f"CrossentropyLambda: sample_weight of shape "
                                 f"{np.shape(sample_weight)} does not broadcast to y_pred's "
                                 f"shape {z.shape}") from None
            bad = np.flatnonzero(~(w > 0))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"CrossentropyLambda: sample weights (the lambda of the link) "
                                 f"must be > 0, got {float(w.reshape(-1)[i])!r} at flat index {i}")
            w = np.ascontiguousarray(w).reshape(-1)
        return (np.ascontiguousarray(t).reshape(-1), np.ascontiguousarray(z).reshape(-1), w,
                z.shape)

    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        t, z, w, shape = self._inputs(y_true, y_pred, sample_weight)
        if out is not None:
            _arrays.check_out(out, shape, z.dtype, {"y_true": y_true, "y_pred": y_pred,
                                                    "sample_weight": sample_weight})
        n = z.size
        reduction = _arrays.REDUCTIONS[self.reduction]
        coef, scale = None, 0.0
        if want_grad:
            if reduction == _arrays.REDUCTION_NONE:
                go = _arrays.as_float(grad_output, "grad_output", np.dtype(np.float64))
                if go.ndim == 0:
                    scale = float(go)
                else:
                    try:
                        coef = np.ascontiguousarray(np.broadcast_to(go, shape)).reshape(-1)
                    except ValueError:
                        raise ValueError(f"grad_output of shape {go.shape} does not broadcast "
                                         f"to the per-sample shape {shape}") from None
            else:
                scale = _arrays.scalar_grad_output(grad_output)
                if reduction != _arrays.REDUCTION_SUM:
                    scale = scale / n if n else 0.0
        per_sample = np.empty(n) if want_value else None
        grad = np.empty(n, z.dtype) if want_grad else None
        _core.crossentropy_lambda(t, z, w, per_sample, grad, None, coef, scale)
        value: Any = None
        if per_sample is not None:
            if reduction == _arrays.REDUCTION_NONE:
                value = per_sample.astype(z.dtype).reshape(shape)
            else:
                total = float(np.sum(per_sample))
                if reduction != _arrays.REDUCTION_SUM:
                    total = total / n if n else 0.0
                value = z.dtype.type(total)
        return _arrays.value_and_grad(value, grad, shape, out)

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        t, z, w, shape = self._inputs(y_true, y_pred, sample_weight)
        grad, hess = np.empty(z.size, z.dtype), np.empty(z.size, z.dtype)
        _core.crossentropy_lambda(t, z, w, None, grad, hess, None, 1.0)
        return grad.reshape(shape), hess.reshape(shape)


XENTROPY_LAMBDA_LOSSES: tuple[type[Loss], ...] = (CrossentropyLambda,)

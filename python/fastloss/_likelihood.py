"""Two likelihood losses of the boosting world whose inputs are not one
elementwise (y_true, y_pred) pair:

* :class:`GaussianNLL`, PyTorch's ``gaussian_nll_loss``: three inputs (target,
  mean, variance) and a gradient for each trained one (mean and variance);
* :class:`CoxPH`, the Cox proportional-hazards partial likelihood with
  Breslow's ties: each sample's loss depends on the scores of every sample
  still at risk at its time, so the batch is one coupled whole.

Both kernels are in ``losses/likelihood.hpp``; this module checks the inputs
and applies Keras's sample weights and reductions (the rules of ``_passes``).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _passes
from ._arrays import REDUCTION_NONE
from ._base import Loss
from ._models import _MULTI_METHODS, Grads, MultiInputLoss, _PerImage


def _check_eps(eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)):
        raise TypeError(f"eps must be a real number, got {eps!r}")
    value = float(eps)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
    return value


class GaussianNLL(MultiInputLoss):
    __doc__ = """The Gaussian negative log-likelihood, as PyTorch's ``gaussian_nll_loss``::

        loss = 0.5 * (log(v) + (mean - y)**2 / v)  [+ 0.5 * log(2 pi) if full],
               v = max(var, eps)
        dloss/dmean = (mean - y) / v
        dloss/dvar  = 0.5 * (1 / v - (mean - y)**2 / v**2)
        d2loss/dmean2 = 1 / v,   d2loss/dvar2 = (mean - y)**2 / v**3 - 0.5 / v**2

    Called ``loss(y_true, mean, var)``; ``backward`` returns ``(grad_mean,
    grad_var)``. ``var`` has ``mean``'s shape (one variance per element), or
    ``mean``'s shape with the last dimension 1 or removed (one variance per
    sample, shared by its elements: PyTorch's homoscedastic case; its gradient
    then sums over the sample's elements). A negative variance is an error, as
    in PyTorch; a variance below ``eps`` is clamped to ``eps`` and the
    derivatives are taken at the clamped value (PyTorch clamps outside
    autograd, so its gradient is the same).

    Each sample's loss is the mean over the last axis (Keras's per-sample
    mean), then Keras's sample weights and reduction: "sum_over_batch_size"
    equals PyTorch's ``reduction="mean"``; PyTorch's ``"sum"`` is fastloss's
    "sum" times the last axis's length.

    Parameters
    ----------
    full : bool
        Add the constant 0.5 * log(2 pi) (PyTorch's ``full``).
    eps : float
        The smallest variance (PyTorch's ``eps``, default 1e-6).
    reduction, name
        Keras's reductions of the per-sample losses, and the name.

    Notes
    -----
    """ + _MULTI_METHODS + """
    The boosting peer is CatBoost's ``RMSEWithUncertainty``, which models the
    log-variance instead of the variance."""

    _inputs = ("y_true", "mean", "var")
    _n_targets = 1
    _n_trained = 2
    _default_name = "gaussian_nll"
    has_hessian = True
    _dask_refusal = "its three inputs are not yet taken blockwise"

    def __init__(self, full: bool = False, eps: float = 1e-6,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if not isinstance(full, (bool, np.bool_)):
            raise TypeError(f"full must be a bool, got {full!r}")
        self.full = bool(full)
        self.eps = _check_eps(eps)

    def _prepare(self, args: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       tuple[int, ...]]:
        """(y (rows, D), mean (rows, D), var (rows, D) or (rows,), mean's shape)."""
        mean = _arrays.as_float(args[1], "mean")
        y = _arrays.as_float(args[0], "y_true", mean.dtype)
        var = _arrays.as_float(args[2], "var", mean.dtype)
        if mean.ndim == 0:
            raise ValueError("mean must have at least one dimension (the last is averaged "
                             "over, as Keras averages each sample's elements)")
        if y.shape != mean.shape:
            raise ValueError(f"y_true has shape {y.shape} but mean has shape {mean.shape}; "
                             "they must be the same")
        per_row_shapes = (mean.shape[:-1], (*mean.shape[:-1], 1))
        if var.shape != mean.shape and var.shape not in per_row_shapes:
            raise ValueError(
                f"var has shape {var.shape}; it must have mean's shape {mean.shape} (one "
                f"variance per element), or {per_row_shapes[1]} or {per_row_shapes[0]} (one "
                "per sample)")
        if np.any(var < 0):
            raise ValueError("var has negative entries; a variance must be >= 0")
        rows = math.prod(mean.shape[:-1])
        d = mean.shape[-1]
        var2 = (np.ascontiguousarray(var).reshape(rows, d) if var.shape == mean.shape
                else np.ascontiguousarray(var).reshape(rows))
        return (np.ascontiguousarray(y).reshape(rows, d),
                np.ascontiguousarray(mean).reshape(rows, d), var2, mean.shape)

    def _kernel(self, y: np.ndarray, mean: np.ndarray, var: np.ndarray, *, per_row: Any,
                grads: tuple[Any, Any], hess: tuple[Any, Any], scale: Any,
                mean_over_row: bool) -> None:
        _core.gaussian_nll(y, mean, var, self.full, self.eps, per_row, grads[0], grads[1],
                           hess[0], hess[1], scale, mean_over_row)

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        y, mean, var, shape = self._prepare(args)
        red = _PerImage(sample_weight, shape[:-1], mean.dtype, self.reduction)
        per_row = np.empty(mean.shape[0]) if want_value else None
        g_mean = np.empty_like(mean) if want_grad else None
        g_var = np.empty_like(var) if want_grad else None
        scale = None
        if want_grad:
            scale = np.broadcast_to(red.coefficients(grad_output).astype(mean.dtype),
                                    (mean.shape[0],)).copy()
        self._kernel(y, mean, var, per_row=per_row, grads=(g_mean, g_var), hess=(None, None),
                     scale=scale, mean_over_row=True)
        value = red.value(per_row) if per_row is not None else None
        if g_mean is None or g_var is None:
            return value, (None, None)
        return value, (g_mean.reshape(shape), g_var.reshape(np.shape(args[2])))

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        y, mean, var, shape = self._prepare(args)
        scale = None
        if sample_weight is not None:
            sw = _arrays.as_float(sample_weight, "sample_weight", mean.dtype)
            try:
                scale = np.ascontiguousarray(
                    np.broadcast_to(sw, shape[:-1])).reshape(-1).astype(mean.dtype)
            except ValueError:
                raise ValueError(f"sample_weight of shape {sw.shape} does not broadcast to the "
                                 f"per-sample shape {shape[:-1]}") from None
        g_mean, h_mean = np.empty_like(mean), np.empty_like(mean)
        g_var, h_var = np.empty_like(var), np.empty_like(var)
        self._kernel(y, mean, var, per_row=None, grads=(g_mean, g_var), hess=(h_mean, h_var),
                     scale=scale, mean_over_row=False)
        vshape = np.shape(args[2])
        return ((g_mean.reshape(shape), g_var.reshape(vshape)),
                (h_mean.reshape(shape), h_var.reshape(vshape)))


class CoxPH(Loss):
    """The negative Cox partial log-likelihood over the batch, with Breslow's
    handling of tied times (XGBoost's ``survival:cox``)::

        loss_i = delta_i * (log sum_{j: |t_j| >= |t_i|} exp(z_j) - z_i)
        dloss/dz_j = exp(z_j) * sum_{i: delta_i, |t_i| <= |t_j|} w_i / R_i - w_j * delta_j
        d2loss/dz_j2 = sum_{i: delta_i, |t_i| <= |t_j|} w_i * (exp(z_j) / R_i
                                                             - exp(2 z_j) / R_i**2)

    with R_i the risk-set sum of ``exp(z)`` at time |t_i| and w the
    coefficient of each sample's loss (its sample weight, times the
    reduction's factor). ``y_true`` holds XGBoost's signed survival times: a
    positive time is an event (delta = 1), a negative (or zero) one a sample
    censored at |t|, which has no loss of its own but sits in the risk sets.
    ``y_pred`` is the raw score z (log hazard ratio). Inputs are ``(n,)`` or
    ``(n, 1)``: every element is a sample, and the whole array is one batch
    (the risk sets couple its samples). Cost: one sort by time (O(n log n)),
    then running sums in float64.

    The gradient of the unreduced sum with no sample weights is XGBoost's when
    no two times tie. With tied times XGBoost lets each tied event see only
    the events ordered before it; fastloss gives every tied sample the whole
    tie group (Breslow), so the gradient does not depend on the input order.
    Sample weights multiply each sample's loss (Keras's rule); XGBoost instead
    multiplies each sample's gradient by its weight, which is not the
    derivative of a weighted likelihood.

    Parameters
    ----------
    reduction, name
        Keras's reductions of the per-sample losses (default: the mean over
        the batch; "sum" is the usual negative partial log-likelihood)."""

    _default_name = "cox_ph"
    has_hessian = True
    _dask_refusal = ("its risk sets couple every sample of the batch (one sort over all of "
                     "them), so its value is not a sum over blocks")

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)

    @staticmethod
    def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        z = _arrays.as_float(y_pred, "y_pred")
        t = _arrays.as_float(y_true, "y_true", z.dtype)
        for what, a in (("y_pred", z), ("y_true", t)):
            if not (a.ndim == 1 or (a.ndim == 2 and a.shape[1] == 1)):
                raise ValueError(f"CoxPH takes one score and one signed time per sample: {what} "
                                 f"must be (n,) or (n, 1), got shape {a.shape}")
        if t.shape[0] != z.shape[0]:
            raise ValueError(f"y_true has {t.shape[0]} samples but y_pred has {z.shape[0]}")
        return (np.ascontiguousarray(t).reshape(-1), np.ascontiguousarray(z).reshape(-1),
                z.shape)

    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        t, z, shape = self._pair(y_true, y_pred)
        if out is not None:
            _arrays.check_out(out, shape, z.dtype,
                              {"y_true": y_true, "y_pred": y_pred,
                               "sample_weight": sample_weight})
        n = z.shape[0]
        w = _passes.keras_weighting(sample_weight, (n,), z.dtype,
                                    _arrays.REDUCTIONS[self.reduction])
        per_sample = np.empty(n) if want_value else None
        grad = np.empty(n, z.dtype) if want_grad else None
        coef = w.coefficients(grad_output, n, z.dtype) if want_grad else None
        _core.cox_ph(t, z, per_sample, grad, None, coef)
        value = w.reduce(per_sample, z.dtype) if per_sample is not None else None
        if grad is None:
            return value, None
        if out is not None:
            _arrays.deliver((out,), (grad.reshape(shape),))
            return value, out
        return value, grad.reshape(shape)

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        t, z, shape = self._pair(y_true, y_pred)
        n = z.shape[0]
        coef = None
        if sample_weight is not None:
            w = _passes.keras_weighting(sample_weight, (n,), z.dtype, REDUCTION_NONE)
            if w.broadcast_up:
                raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} must hold "
                                 f"one weight per sample ({n})")
            coef = w.per_sample_weights(n)
        grad, hess = np.empty(n, z.dtype), np.empty(n, z.dtype)
        _core.cox_ph(t, z, None, grad, hess, coef)
        return grad.reshape(shape), hess.reshape(shape)


LIKELIHOOD_LOSSES: tuple[type[Any], ...] = (GaussianNLL, CoxPH)

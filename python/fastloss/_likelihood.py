"""The likelihood losses of the boosting world whose inputs are not one
elementwise (y_true, y_pred) pair:

* the declared multi-input ones (classes made by ``_declared`` from
  ``losses/likelihood.hpp``): :class:`GaussianNLL`, PyTorch's
  ``gaussian_nll_loss`` (target, mean, variance); :class:`SurvivalAft`,
  XGBoost's ``survival:aft`` (a time's lower and upper bounds, the raw score);
  :class:`RMSEWithUncertainty`, CatBoost's (target, mean, log deviation);
* :class:`CoxPH`, the Cox proportional-hazards partial likelihood with
  Breslow's ties: each sample's loss depends on the scores of every sample
  still at risk at its time, so the batch is one coupled whole. Its kernel is
  in ``losses/likelihood.hpp``; this module checks the inputs and applies
  Keras's sample weights and reductions (the rules of ``_passes``).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _declared, _passes
from ._arrays import REDUCTION_NONE
from ._base import Loss


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


LIKELIHOOD_LOSSES: tuple[type[Any], ...] = (*_declared.MULTI_CLASSES.values(), CoxPH)

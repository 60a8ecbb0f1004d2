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
  Keras's sample weights and reductions (the rules of ``_passes``);
* :class:`MultiQuantile`, CatBoost's ``MultiQuantile``: one pinball loss per
  prediction column, each at its own quantile (a vector parameter, which the
  declared losses' one number per parameter cannot carry). Its kernel is
  ``losses/multi_quantile.hpp``.
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
        return _arrays.value_and_grad(value, grad, shape, out)

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


class MultiQuantile(Loss):
    """Several quantiles of one target at once (CatBoost's ``MultiQuantile``,
    scikit-learn's ``mean_pinball_loss`` per output column): column k of
    ``y_pred`` predicts the quantile ``quantiles[k]`` of ``y_true``, and each
    sample's loss is the mean over its K columns of their pinball losses::

        loss_i = 1/K sum_k  q_k (t_i - p_ik)        if t_i >= p_ik
                            (1 - q_k) (p_ik - t_i)  otherwise
        dloss_i/dp_ik = -q_k / K if t_i >= p_ik else (1 - q_k) / K

    ``y_pred`` is ``(..., K)`` with K = ``len(quantiles)``; ``y_true`` holds
    one target per sample, ``(...)`` or ``(..., 1)`` (CatBoost's single label
    column), or one per column, ``(..., K)``. Sample weights and reductions
    are Keras's over the per-sample losses, so
    ``reduction="mean_with_sample_weight"`` (or the default without weights)
    is CatBoost's ``MultiQuantile:alpha=q_1,...,q_K;delta=0`` metric.
    CatBoost's default ``delta=1e-6`` counts an error below 1e-6 as 0, a
    difference of at most 1e-6 per element. At t == p the gradient is -q_k /
    K, scikit-learn's convention (as :class:`Pinball`). With one quantile it
    is ``Pinball(quantile)``.

    The loss is piecewise linear, so there is no Hessian: CatBoost fits its
    own ``MultiQuantile`` leaves as exact quantiles of the residuals, which no
    Newton step reproduces.

    Parameters
    ----------
    quantiles
        The quantile of each prediction column, each in (0, 1) (default
        ``(0.1, 0.5, 0.9)``).
    reduction, name
        Keras's reductions of the per-sample losses."""

    _default_name = "multi_quantile"
    has_hessian = False
    _no_hessian_reason = (
        "the loss is piecewise linear in y_pred, so its second derivative is zero wherever "
        "it exists and undefined at the kinks; a Newton step has no curvature to use")
    _dask_refusal = "its kernel does not take arrays blockwise yet; call it on NumPy arrays"

    def __init__(self, quantiles: Any = (0.1, 0.5, 0.9),
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        if isinstance(quantiles, (str, bytes)) or np.ndim(quantiles) != 1:
            raise TypeError("MultiQuantile: quantiles must be a sequence of numbers, one per "
                            f"prediction column, got {quantiles!r}")
        try:
            q = np.asarray(quantiles, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("MultiQuantile: quantiles must be a sequence of numbers, got "
                            f"{quantiles!r}") from None
        if q.size == 0:
            raise ValueError("MultiQuantile: quantiles must hold at least one quantile")
        bad = ~((q > 0) & (q < 1))
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"MultiQuantile: quantiles must be in (0, 1), got {float(q[k])!r} at "
                             f"index {k}")
        super().__init__(reduction=reduction, name=name)
        self.quantiles = tuple(float(v) for v in q)
        self._q = np.ascontiguousarray(q)

    def _inputs(self, y_true: Any, y_pred: Any
                ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        p = _arrays.as_float(y_pred, "y_pred")
        t = _arrays.as_float(y_true, "y_true", p.dtype)
        k = len(self.quantiles)
        if p.ndim < 1 or p.shape[-1] != k:
            raise ValueError(f"MultiQuantile with {k} quantiles takes y_pred of shape "
                             f"(..., {k}), one column per quantile; got y_pred of shape "
                             f"{p.shape}")
        batch = p.shape[:-1]
        t_rows: np.ndarray
        if t.shape == p.shape:
            t_rows = np.ascontiguousarray(t).reshape(-1, k)
        elif t.shape == batch or t.shape == (*batch, 1):
            t_rows = np.ascontiguousarray(t).reshape(-1)
        else:
            raise ValueError(f"y_true of shape {t.shape} does not match y_pred of shape "
                             f"{p.shape}: it must hold one target per sample, {batch} or "
                             f"{(*batch, 1)}, or one per column, {p.shape}")
        return t_rows, np.ascontiguousarray(p).reshape(-1, k), batch

    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        t, p, batch = self._inputs(y_true, y_pred)
        shape = (*batch, len(self.quantiles))
        if out is not None:
            _arrays.check_out(out, shape, p.dtype,
                              {"y_true": y_true, "y_pred": y_pred,
                               "sample_weight": sample_weight})
        n = p.shape[0]
        w = _passes.keras_weighting(sample_weight, batch, p.dtype,
                                    _arrays.REDUCTIONS[self.reduction])
        values = np.empty(n) if want_value else None
        grad = np.empty(p.shape, p.dtype) if want_grad else None
        coef = w.coefficients(grad_output, n, p.dtype) if want_grad else None
        if w.broadcast_up and coef is not None:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} must hold one "
                             f"weight per sample {batch}")
        _core.multi_quantile(t, p, self._q, values, grad, coef)
        value = w.reduce(values, p.dtype) if values is not None else None
        return _arrays.value_and_grad(value, grad, shape, out)


LIKELIHOOD_LOSSES: tuple[type[Any], ...] = (*_declared.MULTI_CLASSES.values(), CoxPH,
                                            MultiQuantile)

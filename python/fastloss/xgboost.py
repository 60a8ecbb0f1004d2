"""XGBoost objectives and metrics from fastloss losses.

>>> import fastloss as fl, xgboost as xgb
>>> loss = fl.BinaryCrossentropy(from_logits=True)
>>> booster = xgb.train(params, dtrain, obj=fl.xgboost.objective(loss),     # doctest: +SKIP
...                     custom_metric=fl.xgboost.metric(loss))
>>> model = xgb.XGBClassifier(objective=fl.xgboost.sklearn_objective(loss))  # doctest: +SKIP

The objective returns each row's gradient and Hessian with respect to its raw
score, times the row's weight (XGBoost leaves weighting to custom objectives):
arrays of the prediction's shape, `(n,)` or `(n, k)` for k scores per row
(multiclass with `SparseCategoricalCrossentropy(from_logits=True)`, where the
Hessian is the exact diagonal `p(1 - p)`, not XGBoost's bound `2p(1 - p)`).
A ranking loss (`LambdaRankNDCG`, `PairwiseLogistic`, `SoftmaxListwise`)
reads the query groups from the DMatrix (`DMatrix(group=...)` or `qid=`) and
its weights per query, as XGBoost's own ranking objectives do; XGBoost's
`XGBRanker` refuses custom objectives, so use `xgboost.train`.
A declared multi-input loss with one trained input takes its targets from the
DMatrix too: `SurvivalAft` reads the bounds of each row's survival time
(`DMatrix.set_float_info("label_lower_bound", ...)` and `"label_upper_bound"`,
as XGBoost's own `survival:aft` does), a loss with one target reads the labels.
Every object here pickles, so `xgboost.dask.train(client, params, dtrain,
obj=...)` runs it on the workers. XGBoost is imported only when it is used.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _boosting
from ._base import Loss
from ._multi_input import DeclaredMultiInputLoss

__all__ = ["metric", "objective", "sklearn_objective"]


def _groups(loss: Loss, dtrain: Any) -> Optional[np.ndarray]:
    """The DMatrix's query sizes, for a ranking loss (None for the others)."""
    if not isinstance(loss, _boosting.RankingLoss):
        return None
    ptr = np.asarray(dtrain.get_uint_info("group_ptr"), dtype=np.int64)
    return np.diff(ptr) if ptr.size else None


class _Objective(_boosting.Adapter):
    """`obj(predt, dtrain) -> (grad, hess)` for `xgboost.train`."""

    library, made_by = "xgboost", "objective"

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        return _boosting.derivatives(self.loss, dtrain.get_label(), predt, dtrain.get_weight(),
                                     self.buffers, group=_groups(self.loss, dtrain))


class _SklearnObjective(_boosting.Adapter):
    """`objective(y_true, y_pred, *, sample_weight=None) -> (grad, hess)` for
    XGBoost's scikit-learn estimators."""

    library, made_by = "xgboost", "sklearn_objective"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, *,
                 sample_weight: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
        return _boosting.derivatives(self.loss, y_true, y_pred, sample_weight, self.buffers)


class _Metric(_boosting.Adapter):
    """`custom_metric(predt, dtrain) -> (name, value)`: the loss per row over the
    raw scores, averaged with the sample weights as XGBoost's metrics are."""

    library, made_by = "xgboost", "metric"
    objective = False

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[str, float]:
        return self.name, _boosting.weighted_mean(self.loss, dtrain.get_label(), predt,
                                                  dtrain.get_weight(),
                                                  group=_groups(self.loss, dtrain))


def _targets(loss: DeclaredMultiInputLoss, dtrain: Any) -> tuple[np.ndarray, ...]:
    """A multi-input loss's targets from the DMatrix: the bounds of the survival
    times for a loss of two targets, else the labels."""
    if loss._n_targets == 2:
        bounds = tuple(np.asarray(dtrain.get_float_info(f"label_{which}_bound"), np.float64)
                       for which in ("lower", "upper"))
        if any(b.size == 0 for b in bounds):
            raise ValueError(
                f"fastloss.xgboost: {type(loss).__name__} needs the bounds of each row's time: "
                "DMatrix.set_float_info('label_lower_bound', ...) and "
                "set_float_info('label_upper_bound', ...)")
        return bounds
    return (np.asarray(dtrain.get_label(), np.float64),)


def _rows(loss: DeclaredMultiInputLoss, a: np.ndarray) -> np.ndarray:
    """One sample per row: (n,) for a loss of elementwise samples, (n, 1) for one
    that averages each sample over its last axis."""
    return a.reshape(-1) if loss._per_element else a.reshape(-1, 1)


class _MultiInputObjective(_boosting.Adapter):
    """`obj(predt, dtrain) -> (grad, hess)` for a multi-input loss of one trained
    input (the raw score), its targets read from the DMatrix."""

    library, made_by = "xgboost", "objective"

    def __init__(self, loss: DeclaredMultiInputLoss, name: Optional[str] = None) -> None:
        _boosting.require(self.library, self.library)
        if loss._n_trained != 1:
            raise ValueError(
                f"fastloss.xgboost: {type(loss).__name__} trains {loss._n_trained} inputs "
                f"({', '.join(loss._inputs[loss._n_targets:])}), but an XGBoost objective "
                "trains one raw score per row")
        if not loss.has_hessian:
            raise ValueError(f"fastloss.xgboost: {type(loss).__name__} cannot be a boosting "
                             "objective, it has no Hessian")
        self.loss: Any = loss
        self.name = name or loss.name

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[np.ndarray, np.ndarray]:
        z = np.asarray(predt)
        w = dtrain.get_weight()
        w = None if w is None or np.size(w) == 0 else np.asarray(w, z.dtype)
        targets = [_rows(self.loss, t.astype(z.dtype)) for t in _targets(self.loss, dtrain)]
        (g,), (h,) = self.loss.gradient_hessian(*targets, _rows(self.loss, z), sample_weight=w)
        return g.reshape(z.shape), h.reshape(z.shape)


class _MultiInputMetric(_MultiInputObjective):
    """`custom_metric(predt, dtrain) -> (name, value)` for a multi-input loss:
    the weighted mean of the per-row losses."""

    made_by = "metric"

    def __call__(self, predt: np.ndarray, dtrain: Any) -> tuple[str, float]:  # type: ignore[override]
        z = np.asarray(predt, np.float64)
        per_row = type(self.loss).from_config({**self.loss.get_config(), "reduction": "none"})
        rows = np.asarray(per_row(*[_rows(self.loss, t) for t in _targets(self.loss, dtrain)],
                                  _rows(self.loss, z)), np.float64).reshape(-1)
        w = dtrain.get_weight()
        w = None if w is None or np.size(w) == 0 else np.asarray(w, np.float64)
        return self.name, float(np.average(rows, weights=w))


def objective(loss: Any) -> Any:
    """The loss as an `obj=` of `xgboost.train` (raw scores in, weighted
    gradient and Hessian out). Raises ValueError for a loss without a Hessian."""
    if isinstance(loss, DeclaredMultiInputLoss):
        return _MultiInputObjective(loss)
    return _Objective(loss)


def sklearn_objective(loss: Loss) -> _SklearnObjective:
    """The loss as the `objective=` of `XGBRegressor` / `XGBClassifier`."""
    return _SklearnObjective(loss)


def metric(loss: Any, name: Optional[str] = None) -> Any:
    """The loss as a `custom_metric=` of `xgboost.train`: the weighted mean of
    the per-row losses on raw scores."""
    if isinstance(loss, DeclaredMultiInputLoss):
        return _MultiInputMetric(loss, name)
    return _Metric(loss, name)

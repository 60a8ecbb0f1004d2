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
Every object here pickles, so `xgboost.dask.train(client, params, dtrain,
obj=...)` runs it on the workers. XGBoost is imported only when it is used.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _boosting
from ._base import Loss

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


def objective(loss: Loss) -> _Objective:
    """The loss as an `obj=` of `xgboost.train` (raw scores in, weighted
    gradient and Hessian out). Raises ValueError for a loss without a Hessian."""
    return _Objective(loss)


def sklearn_objective(loss: Loss) -> _SklearnObjective:
    """The loss as the `objective=` of `XGBRegressor` / `XGBClassifier`."""
    return _SklearnObjective(loss)


def metric(loss: Loss, name: Optional[str] = None) -> _Metric:
    """The loss as a `custom_metric=` of `xgboost.train`: the weighted mean of
    the per-row losses on raw scores."""
    return _Metric(loss, name)

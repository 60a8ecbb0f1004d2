"""LightGBM objectives and metrics from fastloss losses.

>>> import fastloss as fl, lightgbm as lgb
>>> loss = fl.Huber(delta=1.0)
>>> booster = lgb.train({"objective": fl.lightgbm.objective(loss)}, train_set,  # doctest: +SKIP
...                     feval=fl.lightgbm.metric(loss))
>>> model = lgb.LGBMRegressor(objective=fl.lightgbm.sklearn_objective(loss))      # doctest: +SKIP

The objective returns each row's gradient and Hessian with respect to its raw
score, times the row's weight (LightGBM 4 leaves weighting to custom
objectives): arrays of the prediction's shape, `(n,)`, or `(n, k)` for a
multiclass model with `SparseCategoricalCrossentropy(from_logits=True)`. A ranking
loss (`LambdaRankNDCG`, ...) reads the query sizes from the Dataset's `group`
(or, with `LGBMRanker(objective=fl.lightgbm.sklearn_objective(loss))`, from
the `group` LightGBM passes), and its row weights must be constant within
each query (the loss weighs whole queries). Every object here pickles, so
`lightgbm.DaskLGBMRegressor(objective=...)` runs it on the workers. LightGBM
is imported only when it is used.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _boosting
from ._base import Loss

__all__ = ["metric", "objective", "sklearn_objective"]


class _Objective(_boosting.Adapter):
    """`fobj(preds, train_data) -> (grad, hess)` for `lightgbm.train`."""

    library, made_by = "lightgbm", "objective"

    def __call__(self, preds: np.ndarray, train_data: Any) -> tuple[np.ndarray, np.ndarray]:
        return _boosting.derivatives(self.loss, train_data.get_label(), preds,
                                     train_data.get_weight(), self.buffers,
                                     group=train_data.get_group())


class _SklearnObjective(_boosting.Adapter):
    """`objective(y_true, y_pred, weight, group) -> (grad, hess)` for LightGBM's
    scikit-learn estimators (four parameters: LightGBM then passes the weights
    and the query sizes, None outside `LGBMRanker`)."""

    library, made_by = "lightgbm", "sklearn_objective"

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray, weight: Optional[np.ndarray],
                 group: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
        return _boosting.derivatives(self.loss, y_true, y_pred, weight, self.buffers,
                                     group=group)


class _Metric(_boosting.Adapter):
    """`feval(preds, eval_data) -> (name, value, is_higher_better)`: the weighted
    mean of the per-row losses on raw scores (lower is better)."""

    library, made_by = "lightgbm", "metric"
    objective = False

    def __call__(self, preds: np.ndarray, eval_data: Any) -> tuple[str, float, bool]:
        value = _boosting.weighted_mean(self.loss, eval_data.get_label(), preds,
                                        eval_data.get_weight(), group=eval_data.get_group())
        return self.name, value, False


def objective(loss: Loss) -> _Objective:
    """The loss as LightGBM's `params["objective"]` for `lightgbm.train`.
    Raises ValueError for a loss without a Hessian."""
    return _Objective(loss)


def sklearn_objective(loss: Loss) -> _SklearnObjective:
    """The loss as the `objective=` of `LGBMRegressor` / `LGBMClassifier`."""
    return _SklearnObjective(loss)


def metric(loss: Loss, name: Optional[str] = None) -> _Metric:
    """The loss as a `feval=` of `lightgbm.train`."""
    return _Metric(loss, name)

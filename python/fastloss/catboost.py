"""CatBoost objectives from fastloss losses.

>>> import fastloss as fl, catboost as cb
>>> model = cb.CatBoostRegressor(loss_function=fl.catboost.objective(fl.Huber()))  # doctest: +SKIP

CatBoost maximises: a custom objective returns the derivatives of the *negated*
loss, `(-dL/dz, -d2L/dz2)` per object, times its weight. `calc_ders_range`
serves one score per object (regression, binary classification); for a
multiclass model with `SparseCategoricalCrossentropy(from_logits=True)`
CatBoost calls `calc_ders_multi` once per object with its k scores, and the
second derivative is the diagonal of the Hessian (fastloss computes no
off-diagonal terms) as a k x k matrix. A multi-output regression (one
target per output: ``MultiRMSE``, ``MultiRMSEWithMissingValues``) needs
``objective(loss, multi_target=True)``, which CatBoost recognises as a
``MultiTargetCustomObjective`` and serves through ``calc_ders_multi`` with the
object's K targets. The objective pickles. CatBoost is imported only when it
is used.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _boosting
from ._base import Loss

__all__ = ["objective"]


class Objective(_boosting.Adapter):
    """A CatBoost user-defined objective (`calc_ders_range`, `calc_ders_multi`)."""

    library, made_by = "catboost", "objective"

    def calc_ders_range(self, approxes: Any, targets: Any,
                        weights: Optional[Any]) -> list[tuple[float, float]]:
        z = np.asarray(approxes, dtype=np.float64)
        y = np.asarray(targets, dtype=np.float64)
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        g, h = _boosting.derivatives(self.loss, y, z, w)
        return list(zip((-g).tolist(), (-h).tolist()))

    def calc_ders_multi(self, approx: Any, target: Any,
                        weight: Optional[float]) -> tuple[list[float], list[list[float]]]:
        z = np.asarray(approx, dtype=np.float64).reshape(1, -1)
        w = None if weight is None else np.asarray([weight], dtype=np.float64)
        g, h = _boosting.derivatives(self.loss, np.asarray([target], np.float64), z, w)
        return (-g[0]).tolist(), np.diag(-h[0]).tolist()


def objective(loss: Loss, multi_target: bool = False) -> Objective:
    """The loss as CatBoost's `loss_function=` (CatBoost's sign convention).
    `multi_target=True`: a multi-output regression objective (a
    ``catboost.MultiTargetCustomObjective``), for targets of K columns and K
    raw predictions per object. Raises ValueError for a loss without a
    Hessian.

    CatBoost refuses NaN labels with a user-defined objective ("Unexpected Nan
    value"), so ``MultiRMSEWithMissingValues`` trains through it on complete
    targets only; CatBoost's own ``loss_function="MultiRMSEWithMissingValues"``
    takes the NaN ones."""
    if not isinstance(multi_target, bool):
        raise TypeError(f"fastloss.catboost.objective: multi_target must be a bool, got "
                        f"{type(multi_target).__name__}")
    if not multi_target:
        return Objective(loss)
    import catboost

    made = type("MultiTargetObjective", (_MultiTarget, catboost.MultiTargetCustomObjective), {})
    return made(loss)


class _MultiTarget(Objective):
    """The multi-target objective's own methods (its class also derives from
    CatBoost's MultiTargetCustomObjective, made when CatBoost is imported)."""

    def __repr__(self) -> str:
        return f"fastloss.catboost.objective({self.loss!r}, multi_target=True)"

    def __reduce__(self) -> tuple[Any, ...]:
        return objective, (self.loss, True)

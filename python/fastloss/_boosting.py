"""What the boosting adapters share: a loss's gradient and Hessian with respect
to raw scores, in the shapes boosting libraries hand over and take back.

A boosting library gives the objective its raw scores (margins): one per row,
or k per row for k outputs (multiclass), and wants the derivatives of each
row's loss with respect to each score, weighted by the row's sample weight.
fastloss's `gradient_hessian` is exactly that (per element, unreduced, times
the weight), so an objective is a reshape around one kernel call:

* one score per row: labels and scores become `(n, 1)` (each row one sample
  with one element, so the weights are per row) and the results are viewed
  back as `(n,)`;
* k scores per row for a loss of class labels (`SparseCategoricalCrossentropy`):
  labels are the library's float class ids, checked to be integers, and the
  scores `(n, k)` are the logits of the row;
* k scores per row for an elementwise loss (multi-output regression): labels
  `(n, k)`, each element its own term, weights per row;
* a ranking loss (`LambdaRankNDCG`, ...): one score per row, the rows cut
  into queries by the library's group sizes, one weight per query (XGBoost's
  ranking weights; LightGBM's per-row weights must then be constant within
  each query).

Nothing of a boosting library is imported here; the adapters
(`fastloss.xgboost`, `fastloss.lightgbm`, `fastloss.catboost`) read their
library's datasets and return what it expects.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, Optional

import numpy as np

from . import _passes
from ._base import Loss
from ._classaxis import ClassAxisLoss
from ._ranking import RankingLoss, group_sizes


def require(module: str, adapter: str) -> None:
    """Imports the boosting library (on first use of an adapter, never with
    fastloss); ImportError naming the extra when it is absent."""
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"fastloss.{adapter} needs {module}, which cannot be imported ({e}): "
            f"pip install 'fastloss[boosting]' (or pip install {module})") from e


def check_objective_loss(loss: Any, adapter: str) -> Loss:
    """The loss an objective can use: a fastloss loss with a Hessian."""
    if not isinstance(loss, Loss):
        raise TypeError(f"fastloss.{adapter}: expected a fastloss loss object, got "
                        f"{type(loss).__name__}")
    if not getattr(loss, "has_hessian", False):
        why = ""
        try:
            loss.gradient_hessian(np.zeros((1, 1)), np.zeros((1, 1)))
        except NotImplementedError as e:
            why = f": {e}"
        except Exception:  # noqa: BLE001 - only the reason is wanted here
            pass
        raise ValueError(
            f"fastloss.{adapter}: {type(loss).__name__} cannot be a boosting objective, "
            f"it has no Hessian{why} (Newton boosting divides by the Hessian)")
    if isinstance(loss, ClassAxisLoss) and loss._input != "labels":
        raise ValueError(
            f"fastloss.{adapter}: {type(loss).__name__} takes one-hot or soft targets, but "
            "boosting libraries pass one class id per row; use "
            "SparseCategoricalCrossentropy(from_logits=True) for multiclass")
    if isinstance(loss, RankingLoss) and adapter == "catboost":
        raise ValueError(
            f"fastloss.catboost: {type(loss).__name__} is a ranking loss over query groups, "
            "but CatBoost's user-defined objectives see one object at a time (no groups); "
            "use it with fastloss.xgboost or fastloss.lightgbm, or CatBoost's own "
            "ranking losses (YetiRank, PairLogit)")
    return loss


def _class_ids(labels: np.ndarray) -> np.ndarray:
    ids = labels.astype(np.int64)
    if labels.dtype.kind == "f" and not np.array_equal(ids, labels):
        bad = labels[ids != labels][:3]
        raise ValueError(f"multiclass labels must be class ids (integers), got {bad.tolist()}")
    return ids


class Buffers:
    """The gradient and Hessian arrays of an objective, reused from one
    boosting round to the next: a fresh 8 MB array costs as much as the kernel
    that fills it (the operating system zeroes its pages on first touch).

    An array is reused only when nothing but this object refers to it, that
    is once the library has copied what it needed and dropped the arrays it
    was given; an array a caller keeps is never overwritten (it gets a new
    one). CPython's reference counts say so; elsewhere every call allocates."""

    #: sys.getrefcount of an array only this object holds, seen in __call__:
    #: the dict's reference, the local name and the call's argument
    _ONLY_OURS = 3

    def __init__(self) -> None:
        self._arrays: dict[tuple[int, tuple[int, ...], str], np.ndarray] = {}

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype, which: int) -> np.ndarray:
        key = (which, tuple(shape), np.dtype(dtype).str)
        a = self._arrays.get(key)
        if a is None or sys.getrefcount(a) > self._ONLY_OURS:
            a = np.empty(shape, dtype)
            if sys.implementation.name == "cpython":
                self._arrays[key] = a
        return a


def query_weights(weight: Optional[np.ndarray], sizes: np.ndarray) -> Optional[np.ndarray]:
    """A ranking loss's weights, one per query, from a library's weights:
    one per query already (XGBoost), or one per row constant within each
    query (LightGBM)."""
    if weight is None or np.size(weight) == 0:
        return None
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    n_queries, n = sizes.shape[0], int(sizes.sum())
    if w.shape[0] == n_queries:
        return w
    if w.shape[0] != n:
        raise ValueError(f"ranking weights must hold one value per query ({n_queries}) or per "
                         f"row ({n}), got {w.shape[0]}")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    first = w[starts]
    if not np.array_equal(np.repeat(first, sizes), w):
        q = int(np.argmax(np.repeat(first, sizes) != w))
        raise ValueError(f"ranking losses weigh whole queries: the row weights of a query must "
                         f"be equal, but row {q}'s differs from its query's first")
    return first


def _ranking_sizes(loss: Loss, group: Any, n: int) -> np.ndarray:
    if group is None or np.size(group) == 0:
        raise ValueError(f"{type(loss).__name__} is a ranking loss: it needs the query groups "
                         "of the rows (XGBoost: DMatrix(group=...) or qid=; LightGBM: "
                         "Dataset(group=...))")
    return group_sizes(np.asarray(group), n)


def derivatives(loss: Loss, labels: Any, scores: Any, weight: Optional[np.ndarray],
                buffers: Optional[Buffers] = None,
                group: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of each row's loss with respect to its raw scores,
    times the row's weight, in the shape of `scores` (in `buffers`' arrays
    when given). `group`: the query sizes, for a ranking loss."""
    if buffers is not None:
        with _passes.outputs_from(buffers):
            return derivatives(loss, labels, scores, weight, group=group)
    if isinstance(loss, RankingLoss):
        s = np.asarray(scores)
        sizes = _ranking_sizes(loss, group, s.shape[0] if s.ndim else 1)
        g, h = loss.gradient_hessian(np.asarray(labels).reshape(-1), s.reshape(-1),
                                     sample_weight=query_weights(weight, sizes), group=sizes)
        return g.reshape(s.shape), h.reshape(s.shape)
    s = np.asarray(scores)
    y = np.asarray(labels)
    n = s.shape[0] if s.ndim else 1
    w = None if weight is None or np.size(weight) == 0 else np.asarray(weight)
    if w is not None and w.shape != (n,):
        raise ValueError(f"sample weights must have one value per row ({n}), got shape {w.shape}")
    if isinstance(loss, ClassAxisLoss):
        if s.ndim != 2:
            raise ValueError(f"{type(loss).__name__} needs k scores per row (an (n, k) array), "
                             f"got shape {s.shape}")
        g, h = loss.gradient_hessian(_class_ids(y.reshape(-1)), s, sample_weight=w)
        return g, h
    if s.ndim == 2 and s.shape[1] > 1:  # multi-output regression
        g, h = loss.gradient_hessian(y.reshape(s.shape), s, sample_weight=w)
        return g, h
    g, h = loss.gradient_hessian(y.reshape(-1, 1), s.reshape(-1, 1), sample_weight=w)
    return g.reshape(s.shape), h.reshape(s.shape)


def weighted_mean(loss: Loss, labels: Any, scores: Any, weight: Optional[np.ndarray],
                  group: Any = None) -> float:
    """The loss per row averaged with the sample weights (the boosting
    libraries' metric convention), over raw scores; for a ranking loss the
    loss per query averaged with the query weights."""
    s = np.asarray(scores)
    y = np.asarray(labels)
    if isinstance(loss, RankingLoss):
        sizes = _ranking_sizes(loss, group, s.shape[0] if s.ndim else 1)
        per_query_loss = type(loss).from_config({**loss.get_config(), "reduction": "none"})
        per_query = np.asarray(per_query_loss(y.reshape(-1), s.reshape(-1), group=sizes),
                               np.float64)
        return float(np.average(per_query, weights=query_weights(weight, sizes)))
    twin = type(loss).from_config({**loss.get_config(), "reduction": "none"})
    if getattr(loss, "_weights_in_link", False):
        # the weights are part of each row's loss (LightGBM's cross_entropy_lambda),
        # and the metric is the plain mean of the rows, as LightGBM's
        rows = np.asarray(twin(y.reshape(-1), s.reshape(-1),
                               sample_weight=None if weight is None or np.size(weight) == 0
                               else weight), dtype=np.float64)
        return float(np.mean(rows))
    if isinstance(loss, ClassAxisLoss):
        rows = np.asarray(twin(_class_ids(y.reshape(-1)), s), dtype=np.float64)
    elif s.ndim == 2 and s.shape[1] > 1:
        rows = np.asarray(twin(y.reshape(s.shape), s), dtype=np.float64)
    else:
        rows = np.asarray(twin(y.reshape(-1, 1), s.reshape(-1, 1)), dtype=np.float64)
    w = None if weight is None or np.size(weight) == 0 else np.asarray(weight, np.float64)
    return float(np.average(rows, weights=w))


class Adapter:
    """What every adapter object shares: the library it needs (imported when
    the object is made), the loss (checked for objectives), its repr, and
    pickling (a plain object holding a loss)."""

    library = ""  # the boosting library (and the name of its fastloss module)
    made_by = ""  # the fastloss function that makes it
    objective = True  # a metric takes any loss; an objective needs a Hessian

    def __init__(self, loss: Any, name: Optional[str] = None) -> None:
        require(self.library, self.library)
        if self.objective:
            self.loss = check_objective_loss(loss, self.library)
        elif isinstance(loss, Loss):
            self.loss = loss
        else:
            raise TypeError(f"fastloss.{self.library}.{self.made_by}: expected a fastloss loss "
                            f"object, got {type(loss).__name__}")
        self.name = name or self.loss.name

    def __repr__(self) -> str:
        return f"fastloss.{self.library}.{self.made_by}({self.loss!r})"

    @property
    def buffers(self) -> Buffers:
        """The objective's reusable outputs (made on first use, never pickled)."""
        b = self.__dict__.get("_buffers")
        if b is None:
            b = self.__dict__["_buffers"] = Buffers()
        return b

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_buffers"}

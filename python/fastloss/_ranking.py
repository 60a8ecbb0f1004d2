"""Learning-to-rank losses over query groups, the objectives of XGBoost's
``rank:pairwise`` / ``rank:ndcg`` and LightGBM's ``lambdarank``:

* :class:`PairwiseLogistic`, RankNet's pairwise logistic loss;
* :class:`SoftmaxListwise`, the ListNet softmax cross-entropy of each query
  (TF-Ranking's softmax loss, optax's ``ranking_softmax_loss``);
* :class:`LambdaRankNDCG`, LambdaMART's NDCG-weighted pairwise loss;
* :class:`YetiRank` and :class:`YetiRankPairwise`, CatBoost's pairwise loss
  over noisy rankings;
* :class:`StochasticFilter`, CatBoost's expected FilterDCG of a random filter;
* :class:`StochasticRank`, CatBoost's expected (N)DCG of noisy rankings;
* :class:`QueryRMSE`, :class:`QueryCrossentropy` and :class:`GroupQuantile`,
  CatBoost's regression-like losses after a shift of each query.

Each is called ``loss(relevance, scores, sample_weight=None, group=sizes)``:
``relevance`` holds each item's graded relevance (>= 0), ``scores`` the
model's score of each item, and ``group`` the sizes of the queries (the items
of a query are consecutive, as in XGBoost's and LightGBM's ``group``). Without
``group`` a 1-D batch is one query and a 2-D ``(queries, items)`` batch has
one query per row (optax's and TF-Ranking's layout). Each query has one
loss; Keras's sample weights (one per query, XGBoost's convention for ranking)
and reductions apply to the per-query losses, so "sum_over_batch_size" is the
mean over queries. The kernels are in ``losses/ranking.hpp``.
"""

from __future__ import annotations

import hashlib
from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _dask, _passes
from ._arrays import REDUCTION_NONE
from ._base import Loss

_KIND_PAIRWISE, _KIND_SOFTMAX, _KIND_LAMBDA, _KIND_MAP, _KIND_QUERY_RMSE = 0, 1, 2, 3, 4
_KIND_QUERY_CROSSENTROPY, _KIND_GROUP_QUANTILE = 5, 6


class Queries:
    """One call's items cut into queries: flat contiguous relevance and
    scores, the query offsets (int64, queries + 1) and the scores' shape."""

    def __init__(self, y_true: Any, y_pred: Any, group: Any, labels: str = "graded") -> None:
        s = _arrays.as_float(y_pred, "scores")
        rel = _arrays.as_float(y_true, "relevance", s.dtype)
        if rel.shape != s.shape:
            raise ValueError(f"relevance has shape {rel.shape} but scores has shape {s.shape}; "
                             "they must be the same (one relevance per scored item)")
        self.shape = s.shape
        self.dtype = s.dtype
        if group is None:
            if s.ndim == 1:
                sizes = np.array([s.shape[0]] if s.shape[0] else [], np.int64)
            elif s.ndim == 2:
                sizes = np.full(s.shape[0], s.shape[1], np.int64)
                if s.shape[1] == 0 and s.shape[0]:
                    raise ValueError(f"scores of shape {s.shape} make queries of no item; "
                                     "every query needs at least one item")
            else:
                raise ValueError(f"without group=, scores must be 1-D (one query) or 2-D (one "
                                 f"query per row), got shape {s.shape}")
        else:
            if not (s.ndim == 1 or (s.ndim == 2 and s.shape[1] == 1)):
                raise ValueError(f"with group=, scores must be (n,) or (n, 1): one score per "
                                 f"item, the queries' items consecutive; got shape {s.shape}")
            sizes = group_sizes(group, s.shape[0])
        flat_rel = np.ascontiguousarray(rel).reshape(-1)
        if labels == "graded":
            bad = flat_rel < 0
            if np.any(bad):
                i = int(np.argmax(bad))
                raise ValueError(f"relevance must be >= 0 (graded relevance), got {flat_rel[i]} "
                                 f"at index {i}")
        elif labels == "probability":
            bad = ~((flat_rel >= 0) & (flat_rel <= 1)) & ~np.isnan(flat_rel)
            if np.any(bad):
                i = int(np.argmax(bad))
                raise ValueError(f"targets must be probabilities in [0, 1], got {flat_rel[i]} "
                                 f"at index {i}")
        elif labels == "binary":
            bad = (flat_rel != 0) & (flat_rel != 1) & ~np.isnan(flat_rel)
            if np.any(bad):
                i = int(np.argmax(bad))
                raise ValueError(f"relevance must be 0 or 1 (binary relevance, as average "
                                 f"precision needs), got {flat_rel[i]} at index {i}")
        self.rel = flat_rel
        self.scores = np.ascontiguousarray(s).reshape(-1)
        self.offsets = np.zeros(sizes.shape[0] + 1, np.int64)
        np.cumsum(sizes, out=self.offsets[1:])
        self.n_queries = int(sizes.shape[0])


def group_sizes(group: Any, n: int) -> np.ndarray:
    """XGBoost/LightGBM group sizes as int64, checked: 1-D positive integers
    summing to the number of items."""
    if isinstance(group, (str, bytes)):
        raise TypeError(f"group must be the sizes of the queries (integers), got {group!r}")
    try:
        g = np.asarray(group)
    except Exception as e:  # noqa: BLE001 - ragged or otherwise not an array
        raise TypeError(f"group must be a 1-D array of query sizes: {e}") from None
    if g.dtype.kind == "b" or g.dtype.kind not in "iuf":
        raise TypeError(f"group must hold the sizes of the queries as integers, got dtype "
                        f"{g.dtype}")
    if g.ndim != 1:
        raise ValueError(f"group must be 1-D (one size per query), got shape {g.shape}")
    if g.dtype.kind == "f":
        whole = np.isfinite(g) & (g == np.round(g))
        if not np.all(whole):
            i = int(np.argmin(whole))
            raise ValueError(f"group sizes must be integers, got {g[i]} at index {i}")
    sizes = g.astype(np.int64)
    nonpositive = sizes <= 0
    if np.any(nonpositive):
        i = int(np.argmax(nonpositive))
        what = "an empty query" if sizes[i] == 0 else "a negative size"
        raise ValueError(f"group sizes must be >= 1, got {sizes[i]} at index {i} ({what})")
    total = int(sizes.sum())
    if total != n:
        raise ValueError(f"group sizes sum to {total} but there are {n} items; they must sum "
                         "to the number of scores")
    return sizes


class RankingLoss(Loss):
    """What the ranking losses share: inputs cut into queries by ``group``,
    one loss per query, Keras's weights (one per query) and reductions."""

    has_hessian = True
    _kind = -1
    #: What the relevance holds: "graded" (>= 0), "binary" (0 or 1) or "real"
    #: (any target, for the regression-like QueryRMSE).
    _labels = "graded"
    _dask_refusal = ("its queries couple their items (pairs or a softmax over each query), "
                     "so its value is not a sum over blocks")

    def _option(self) -> int:
        return 0

    def _targets(self, q: Queries) -> np.ndarray:
        """What the kernel receives as the relevance (XENDCG draws its targets)."""
        return q.rel

    def _normalize(self) -> bool:
        """Whether the kernel applies XGBoost's normalisations of the lambdas."""
        return False

    def _param(self) -> float:
        """The kernel's real parameter (QueryCrossentropy's alpha)."""
        return 0.0

    def _queries(self, y_true: Any, y_pred: Any, group: Any) -> Queries:
        return Queries(y_true, y_pred, group, self._labels)

    # -- the public methods, with group= -----------------------------------
    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                 group: Any = None) -> Any:
        """Same as :meth:`forward`."""
        return self.forward(y_true, y_pred, sample_weight, group=group)

    def forward(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                group: Any = None) -> Any:
        """The per-query losses, times ``sample_weight`` (one per query), reduced."""
        value, _ = self._evaluate(y_true, y_pred, sample_weight, group, want_value=True,
                                  want_grad=False)
        return value

    def backward(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 grad_output: Any = 1.0, out: Optional[np.ndarray] = None, *,
                 group: Any = None) -> np.ndarray:
        """d(forward)/d(scores) times ``grad_output`` (a scalar, or one value per
        query with reduction "none"), shaped like ``scores``."""
        _, grad = self._evaluate(y_true, y_pred, sample_weight, group, want_value=False,
                                 want_grad=True, grad_output=grad_output, out=out)
        return grad

    def forward_backward(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                         grad_output: Any = 1.0, out: Optional[np.ndarray] = None, *,
                         group: Any = None) -> tuple[Any, np.ndarray]:
        """(forward, backward) from one pass over each query."""
        return self._evaluate(y_true, y_pred, sample_weight, group, want_value=True,
                              want_grad=True, grad_output=grad_output, out=out)

    def gradient_hessian(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                         group: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian diagonal of the sum of the per-query losses
        (unreduced), each query's times its sample weight: what a boosting
        objective returns."""
        self._refuse_dask(y_true, y_pred, sample_weight)
        q = self._queries(y_true, y_pred, group)
        coef = None
        if sample_weight is not None:
            coef = self._weighting(sample_weight, q, REDUCTION_NONE).per_sample_weights(
                q.n_queries)
        grad, hess = np.empty_like(q.scores), np.empty_like(q.scores)
        self._kernel(q, None, grad, hess, coef)
        return grad.reshape(q.shape), hess.reshape(q.shape)

    def _kernel(self, q: Queries, per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
                hess: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None:
        """Runs the loss's kernel over the queries into the given outputs."""
        _core.rank_loss(self._kind, self._targets(q), q.scores, q.offsets, self._option(),
                        per_query, grad, hess, coef, self._normalize(), self._param())

    # -- the base class's hooks (group=None: the layout alone says the queries)
    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        return self._evaluate(y_true, y_pred, sample_weight, None, want_value=want_value,
                              want_grad=want_grad, grad_output=grad_output, out=out)

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        return self.gradient_hessian(y_true, y_pred, sample_weight)

    # -- the pass -------------------------------------------------------------
    def _refuse_dask(self, *values: Any) -> None:
        if _dask.holds_dask(*values):
            raise NotImplementedError(
                f"{type(self).__name__} does not take dask arrays: {self._dask_refusal}; "
                ".compute() its inputs (or pass NumPy arrays)")

    def _weighting(self, sample_weight: Any, q: Queries, reduction: int) -> _passes.Weighting:
        refusal = (f"sample_weight of shape {np.shape(sample_weight)} must hold one weight per "
                   f"query ({q.n_queries} queries)")
        try:
            w = _passes.keras_weighting(sample_weight, (q.n_queries,), q.dtype, reduction)
        except ValueError as e:
            raise ValueError(f"{refusal}: {e}") from None
        if w.broadcast_up or (w.weights is not None and w.weights.shape != (q.n_queries,)):
            raise ValueError(refusal)
        return w

    def _evaluate(self, y_true: Any, y_pred: Any, sample_weight: Any, group: Any, *,
                  want_value: bool, want_grad: bool, grad_output: Any = 1.0,
                  out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        self._refuse_dask(y_true, y_pred, sample_weight, grad_output)
        q = self._queries(y_true, y_pred, group)
        if out is not None:
            _arrays.check_out(out, q.shape, q.dtype,
                              {"y_true": y_true, "y_pred": y_pred,
                               "sample_weight": sample_weight})
        w = self._weighting(sample_weight, q, _arrays.REDUCTIONS[self.reduction])
        per_query = np.empty(q.n_queries) if want_value else None
        grad = np.empty_like(q.scores) if want_grad else None
        coef = w.coefficients(grad_output, q.n_queries, q.dtype) if want_grad else None
        self._kernel(q, per_query, grad, None, coef)
        value = w.reduce(per_query, q.dtype) if per_query is not None else None
        return _arrays.value_and_grad(value, grad, q.shape, out)


_COMMON = """
    Notes
    -----
    Called ``loss(relevance, scores, sample_weight=None, group=None)``; the
    other methods (``backward``, ``forward_backward``, ``gradient_hessian``)
    take ``group=`` as a keyword too. ``group`` holds the sizes of the
    queries, whose items are consecutive in ``relevance`` and ``scores`` (both
    ``(n,)`` or ``(n, 1)``): integers >= 1 summing to n, XGBoost's and
    LightGBM's ``group``. Without it a 1-D batch is one query and a 2-D
    ``(queries, items)`` batch has one query per row. Relevance is graded
    (any real >= 0; boosting libraries use integers).

    Each query has one loss. ``sample_weight`` holds one weight per query
    (XGBoost's weights for ranking); Keras's reductions then apply to the
    per-query losses: "sum_over_batch_size" (the default) is the mean over
    queries, "sum" their sum, "none" the per-query losses. ``backward``
    returns d(forward)/d(scores) in ``scores``' shape and dtype;
    ``gradient_hessian`` the gradient and Hessian diagonal of the sum of the
    per-query losses (each times its weight), as boosting objectives use them.
    float32 and float64 are computed natively, each query's sums in float64.
    Queries run in parallel; the results are the same bits for every thread
    count. A NaN relevance or score makes its query's loss and derivatives
    NaN."""


#: The sentence of _COMMON on the relevance, replaced where it differs.
_GRADED = "Relevance is graded\n    (any real >= 0; boosting libraries use integers)."


class PairwiseLogistic(RankingLoss):
    __doc__ = """RankNet's pairwise logistic loss of each query, the objective of
    XGBoost's ``rank:pairwise`` (without its pair sampling and normalisation)::

        loss_q = sum_{i, j in q: rel_i > rel_j} log(1 + exp(-(s_i - s_j)))
        dloss/ds_i = -sum_{j: rel_j < rel_i} sigmoid(s_j - s_i)
                     + sum_{j: rel_j > rel_i} sigmoid(s_i - s_j)
        d2loss/ds_i2 = sum over i's pairs of sigmoid(d) * (1 - sigmoid(d)),
                       d = s_i - s_j

    Every pair of items with different relevance counts once; a query with no
    such pair has loss 0. XGBoost's ``rank:pairwise`` (top-k pairs covering
    the query, normalisations off) takes these gradients with twice this
    Hessian. The per-query loss is the sum over its pairs (the
    RankNet objective whose derivatives boosting uses); TF-Ranking's
    ``PairwiseLogisticLoss`` divides the sum over all pairs of the batch by
    their number instead. CatBoost's ``PairLogit`` and ``PairLogitPairwise``
    (the same loss, another tree search) are the mean of these pair losses
    over the pairs; CatBoost's ``PairLogit`` leaves are the Newton steps of
    these derivatives up to one shift of the whole tree. Cost: O(size^2) per
    query.

    Parameters
    ----------
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "pairwise_logistic"
    _kind = _KIND_PAIRWISE

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)


class SoftmaxListwise(RankingLoss):
    __doc__ = """The softmax cross-entropy of each query (ListNet's top-one
    loss, TF-Ranking's ``SoftmaxLoss``, optax's ``ranking_softmax_loss``)::

        loss_q = -sum_{i in q} t_i * log softmax(s)_i,
                 t = rel / sum(rel) (normalize_labels=True) or t = rel
        dloss/ds_i = T * p_i - t_i,        p = softmax(s), T = sum_i t_i
        d2loss/ds_i2 = T * p_i * (1 - p_i)

    With ``normalize_labels=True`` (default, ListNet and TF-Ranking) the
    relevances become a distribution over the query's items and a query whose
    relevances are all 0 has loss 0; with False the relevances are used as
    they are, as optax's ``ranking_softmax_loss`` does (its default
    ``reduce_fn=jnp.mean`` is reduction "sum_over_batch_size" over rows).
    Cost: O(size) per query.

    Parameters
    ----------
    normalize_labels : bool
        Divide each query's relevances by their sum (default True).
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "softmax_listwise"
    _kind = _KIND_SOFTMAX

    def __init__(self, normalize_labels: bool = True,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if not isinstance(normalize_labels, (bool, np.bool_)):
            raise TypeError(f"normalize_labels must be a bool, got {normalize_labels!r}")
        self.normalize_labels = bool(normalize_labels)

    def _option(self) -> int:
        return int(self.normalize_labels)


class LambdaRankNDCG(RankingLoss):
    __doc__ = """LambdaRank with NDCG weights (LambdaMART), the objective of
    XGBoost's ``rank:ndcg`` and LightGBM's ``lambdarank``. Sort each query by
    decreasing score (ties keep the input order): item i lands at place r_i
    (0-based); with gain G_i = 2**rel_i - 1 and discount D(r) = 1/log2(2 + r),
    each pair of items with rel_i > rel_j, one of them among the first k
    places, weighs

        w_ij = |G_i - G_j| * |D(r_i) - D(r_j)| / IDCG@k

    (|delta NDCG_ij|, the change of the query's NDCG@k when i and j swap
    places; IDCG@k is the DCG of the k most relevant items). The loss is the
    smooth surrogate whose derivatives are LambdaMART's lambdas::

        loss_q = sum_{pairs} w_ij * log(1 + exp(-(s_i - s_j)))
        dloss/ds_i = sum over i's pairs of -/+ w_ij * sigmoid(-(s_hi - s_lo))
        d2loss/ds_i2 = sum over i's pairs of w_ij * p * (1 - p),
                       p = sigmoid(s_hi - s_lo)

    The weights w_ij are held fixed: they depend on the ranking, which is
    piecewise constant in the scores, so the gradient and Hessian are exactly
    those of the surrogate at the current ranking (a boosting round sees the
    new ranking in its next call). A query with no relevant item (IDCG = 0)
    has loss 0.

    With ``lambdarank_norm=False`` LightGBM's ``lambdarank`` takes exactly
    these lambdas and Hessians (``ndcg_at`` is its
    ``lambdarank_truncation_level``); XGBoost's ``rank:ndcg`` with
    ``lambdarank_pair_method="topk"``, ``lambdarank_num_pair_per_sample=k``
    and its normalisations off takes these lambdas with twice this Hessian
    (its leaves are half as large). By default both libraries rescale each
    query's lambdas (LightGBM by log2(1 + S)/S with S their absolute sum,
    XGBoost likewise and by the score differences); fastloss returns the
    plain derivatives of the surrogate, or with ``xgboost_normalization=True``
    XGBoost's rescaled ones (``rank:ndcg`` with its defaults and
    ``ndcg_at=32``: its top 32 pairs and NDCG@32). CatBoost's
    ``LambdaMart:metric=NDCG;type=Exp;norm=false`` takes exactly these
    lambdas and Hessians (its default gain ``type=Base`` is rel itself, the
    same for binary relevance). The discount of a place beyond k is
    not truncated (as in both libraries). Cost: a sort and O(k * size) pairs
    per query.

    Parameters
    ----------
    ndcg_at : int or None
        The truncation k of NDCG@k (LightGBM's
        ``lambdarank_truncation_level``, XGBoost's
        ``lambdarank_num_pair_per_sample`` with ``topk``); None (default) ranks
        every item of the query.
    xgboost_normalization : bool
        Apply XGBoost's default normalisations (``lambdarank_normalization``
        and ``lambdarank_score_normalization``, both on by default there):
        each weight w_ij divided by |s_i - s_j| + 0.01 (unless the query's
        scores are all equal), then the query's loss and derivatives times
        log2(1 + S) / S, S = 2 * sum over its pairs of w_ij * sigmoid(-(s_hi -
        s_lo)); the factors are held fixed like the weights. Default False:
        the plain surrogate.
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "lambdarank_ndcg"
    _kind = _KIND_LAMBDA

    def __init__(self, ndcg_at: Optional[int] = None, xgboost_normalization: bool = False,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.ndcg_at = _places(ndcg_at, "ndcg_at")
        self.xgboost_normalization = _flag(xgboost_normalization, "xgboost_normalization")

    def _option(self) -> int:
        return 0 if self.ndcg_at is None else self.ndcg_at

    def _normalize(self) -> bool:
        return self.xgboost_normalization


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _places(value: Any, name: str) -> Optional[int]:
    """A truncation: None, or an integer >= 1."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer or None, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1 (or None for every place), got {value}")
    return int(value)


class LambdaRankMAP(RankingLoss):
    __doc__ = """LambdaRank with average-precision weights, the objective of
    XGBoost's ``rank:map``. Relevance is binary (0 or 1). Sort each query by
    decreasing score (ties keep the input order); its average precision is
    AP = (1/R) * sum over the relevant places r (0-based) of
    (relevant items in places 0..r) / (r + 1), R its number of relevant
    items. Each pair of items with rel_i = 1, rel_j = 0, one of them among
    the first ``top_k`` places, weighs

        w_ij = |delta AP_ij|

    the change of the query's AP when i and j swap places (all of the list
    counts; ``top_k`` only chooses the pairs). The loss is the smooth
    surrogate whose derivatives are the LambdaRank lambdas::

        loss_q = sum_{pairs} w_ij * log(1 + exp(-(s_i - s_j)))
        dloss/ds_i = sum over i's pairs of -/+ w_ij * sigmoid(-(s_hi - s_lo))
        d2loss/ds_i2 = sum over i's pairs of w_ij * p * (1 - p),
                       p = sigmoid(s_hi - s_lo)

    with the weights held fixed at the current ranking, as in
    :class:`LambdaRankNDCG`. A query with no relevant item has loss 0.

    XGBoost's ``rank:map`` (``lambdarank_pair_method="topk"``, its default,
    with ``lambdarank_num_pair_per_sample`` = ``top_k``, default 32 as here)
    takes these lambdas with twice this Hessian once its normalisations are
    off (``lambdarank_normalization=False``,
    ``lambdarank_score_normalization=False``); by default it also divides
    each weight by |s_i - s_j| + 0.01 and rescales each query's lambdas by
    log2(1 + S)/S (S twice their absolute sum): ``xgboost_normalization=True``
    does the same, so that XGBoost's default ``rank:map`` takes these lambdas
    with twice this Hessian. XGBoost refuses relevance other than 0 and
    1 for MAP, and so does this class. Cost: a sort and O(top_k * size) pairs
    per query.

    Parameters
    ----------
    top_k : int or None
        Only pairs with an item among the first ``top_k`` places count
        (XGBoost's ``lambdarank_num_pair_per_sample`` with ``topk``); None
        takes every pair. Default 32, XGBoost's.
    xgboost_normalization : bool
        Apply XGBoost's default normalisations (``lambdarank_normalization``
        and ``lambdarank_score_normalization``, both on by default there):
        each weight w_ij divided by |s_i - s_j| + 0.01 (unless the query's
        scores are all equal), then the query's loss and derivatives times
        log2(1 + S) / S, S = 2 * sum over its pairs of w_ij * sigmoid(-(s_hi -
        s_lo)); the factors are held fixed like the weights. Default False:
        the plain surrogate.
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON.replace(_GRADED, "Relevance is 0 or 1.")

    _default_name = "lambdarank_map"
    _kind = _KIND_MAP
    _labels = "binary"

    def __init__(self, top_k: Optional[int] = 32, xgboost_normalization: bool = False,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.top_k = _places(top_k, "top_k")
        self.xgboost_normalization = _flag(xgboost_normalization, "xgboost_normalization")

    def _option(self) -> int:
        return 0 if self.top_k is None else self.top_k

    def _normalize(self) -> bool:
        return self.xgboost_normalization


def _call_key(q: Queries) -> int:
    """A 64-bit BLAKE2b hash of one call's scores (as float64), relevance
    and query offsets."""
    h = hashlib.blake2b(digest_size=8)
    for part in (q.scores.astype(np.float64), q.rel.astype(np.float64), q.offsets):
        h.update(np.ascontiguousarray(part).tobytes())
    return int.from_bytes(h.digest(), "little")


def _gammas(seed: int, q: Queries) -> np.ndarray:
    """XENDCG's gammas of one call: uniform in [0, 1), one per item, from the
    seed and a hash of the call's inputs."""
    return np.random.default_rng([seed, _call_key(q)]).random(q.rel.shape[0])


def _seed(seed: Any) -> int:
    """A checked seed: an integer >= 0, or None for one from the operating system."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer >= 0 or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)


class XENDCG(RankingLoss):
    __doc__ = """The cross-entropy NDCG surrogate (XE-NDCG, Bruch, Zoghi, Bendersky and
    Najork, "An Alternative Cross Entropy Loss for Learning-to-Rank", 2019),
    the objective of LightGBM's ``rank_xendcg``. Each call draws one gamma_i
    uniform in [0, 1) per item and takes the softmax cross-entropy of each
    query against the targets phi_i = 2**rel_i - gamma_i::

        t_i = phi_i / sum_{j in q} phi_j,    p = softmax(s) over the query
        loss_q = -sum_{i in q} t_i * log p_i
        dloss/ds_i = p_i - t_i,    d2loss/ds_i2 = p_i * (1 - p_i)

    (the exact derivatives; a one-item query has loss 0).

    The gammas are random but a function of the call's inputs: they are
    drawn, in the items' order, from ``numpy.random.default_rng([seed,
    h])`` with h a 64-bit BLAKE2b hash of the scores (as float64), the
    relevance and the query sizes. So one call's value and gradient share
    their gammas, the same inputs give the same loss (the loss is a pure
    function, its copies agree, and the results do not depend on the thread
    count), and each boosting iteration, whose scores are new, draws fresh
    gammas, as LightGBM does every iteration. ``gamma=`` fixes every
    gamma_i to one value instead (``gamma=0.5`` is their mean).

    LightGBM draws its gammas from its own generator (so a training cannot
    match it bit for bit) and adds to the gradient p - t the second- and
    third-order terms of its approximation (p_i * sum_j (p_j - t_j)/(1 - p_j)
    and the next); fastloss returns the exact derivatives of the loss. It
    does not cast the relevance to an integer as LightGBM does before
    2**rel. Cost: O(size) per query.

    Parameters
    ----------
    seed : int or None
        The seed of the gammas (an integer >= 0, default 0); None draws one
        from the operating system at construction (the config then holds it).
    gamma : float or None
        A fixed gamma in [0, 1) for every item (None, the default, draws
        them).
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "xendcg"
    _kind = _KIND_SOFTMAX

    def __init__(self, seed: Optional[int] = 0, gamma: Optional[float] = None,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        seed = _seed(seed)
        if gamma is not None:
            if isinstance(gamma, (bool, np.bool_)) or not isinstance(gamma, (int, float,
                                                                              np.floating)):
                raise TypeError(f"gamma must be a float in [0, 1) or None, got {gamma!r}")
            if not 0.0 <= gamma < 1.0:
                raise ValueError(f"gamma must be in [0, 1) (targets 2**rel - gamma stay "
                                 f"positive), got {gamma}")
            gamma = float(gamma)
        self.seed = int(seed)
        self.gamma = gamma

    def _option(self) -> int:
        return 1  # the targets divided by their sum

    def _targets(self, q: Queries) -> np.ndarray:
        rel = q.rel.astype(np.float64)
        if self.gamma is None:
            gamma: Any = _gammas(self.seed, q)
        else:
            gamma = self.gamma
        return np.ascontiguousarray(np.exp2(rel) - gamma, dtype=q.dtype)


class QueryRMSE(RankingLoss):
    __doc__ = """CatBoost's ``QueryRMSE``: the squared error after each query's mean
    offset. With residuals r_i = s_i - t_i (score minus target) and m_q
    their mean over the query::

        loss_q = 1/2 * sum_{i in q} (r_i - m_q)**2
        dloss/ds_i = r_i - m_q           (the derivative through m_q is 0)
        Hessian 1 per item, CatBoost's

    The exact second derivative is 1 - 1/size (m_q moves with s_i);
    ``gradient_hessian`` returns CatBoost's 1, a bound whose Newton steps
    are those of CatBoost's leaves. CatBoost's metric ``QueryRMSE`` is
    sqrt(2 * sum_q loss_q / n) (reduction "sum", n items). The targets are any
    real numbers (not relevances). Cost: O(size) per query.

    Parameters
    ----------
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON.replace(_GRADED, "The targets are any reals.")

    _default_name = "query_rmse"
    _kind = _KIND_QUERY_RMSE
    _labels = "real"

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)


def _unit_alpha(alpha: Any, meaning: str = "") -> float:
    """CatBoost's alpha of QueryCrossEntropy and GroupQuantile: a real in [0, 1]."""
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.floating)):
        raise TypeError(f"alpha must be a float in [0, 1], got {alpha!r}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1]{meaning}, got {alpha}")
    return float(alpha)


class QueryCrossentropy(RankingLoss):
    __doc__ = """CatBoost's ``QueryCrossEntropy``: the log loss mixed with the log loss
    after a shift of each query's scores. With l(t, z) = log(1 + exp(z)) -
    t * z (binary cross-entropy of target t in [0, 1] at logit z) and beta_q
    the shift that makes the query's mean probability its mean target,
    sum_{i in q} sigmoid(s_i + beta_q) = sum_{i in q} t_i::

        loss_q = (1 - alpha) * sum_i l(t_i, s_i) + alpha * sum_i l(t_i, s_i + beta_q)
        dloss/ds_i = (1 - alpha) * (sigmoid(s_i) - t_i) + alpha * (p_i - t_i),
                     p = sigmoid(s + beta_q)
        d2loss/ds_i2 = (1 - alpha) * sigmoid'(s_i) + alpha * d_i * (1 - d_i / sum_j d_j),
                       d = p * (1 - p)

    beta_q moves with the scores, but its derivative drops out of the
    gradient (it minimises the shifted term); the Hessian is the exact
    diagonal. A query whose targets are all 0 or all 1 has beta_q = -/+
    infinity and its shifted term is 0. beta_q is found per query by Newton
    steps inside a bracket, in float64. CatBoost's metric ``QueryCrossEntropy``
    is the sum of the per-query losses over the number of items (reduction
    "sum" divided by n); CatBoost trains this objective on GPU only (its
    Hessian there is not compared). Cost: O(size) per Newton step per query.

    Parameters
    ----------
    alpha : float
        The weight of the shifted term, in [0, 1] (CatBoost's default 0.95).
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON.replace(_GRADED, "The targets are probabilities in [0, 1].")

    _default_name = "query_crossentropy"
    _kind = _KIND_QUERY_CROSSENTROPY
    _labels = "probability"

    def __init__(self, alpha: float = 0.95, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.alpha = _unit_alpha(alpha)

    def _param(self) -> float:
        return self.alpha


class GroupQuantile(RankingLoss):
    __doc__ = """CatBoost's ``GroupQuantile``: the pinball loss of the residuals after
    each query's mean residual. With residuals r_i = t_i - s_i (target minus
    score), m_q their mean over the query and u_i = r_i - m_q::

        loss_q = sum_{i in q} pin(u_i),  pin(u) = alpha * u if u >= 0 else (alpha - 1) * u
        dloss/ds_i = mean_{j in q} psi(u_j) - psi(u_i),
                     psi(u) = alpha if u >= 0 else alpha - 1

    The gradient is the exact subgradient through the centring (m_q moves
    with every score of the query); at u_i = 0 it takes the slope of the
    u >= 0 side, as :class:`Pinball`. The centred residuals of a query sum to
    0, so pin(u) = |u| / 2 + (alpha - 1/2) * u sums to 1/2 * sum_i |u_i|: the
    value and the gradient are the same for every alpha (CatBoost's metric
    is too). CatBoost's metric ``GroupQuantile`` is sum_q loss_q / n
    (reduction "sum" over n items). CatBoost's training derivative is psi(u_i)
    alone, which omits the centring's term and so depends on alpha, with
    exact quantile leaves that no gradient and Hessian reproduce. There is
    no Hessian (the loss is piecewise linear; CatBoost's second derivative
    is 0): ``gradient_hessian`` raises NotImplementedError, and a boosting
    library takes ``backward(..., reduction="sum")`` with a constant
    Hessian. The targets are any reals. Cost: O(size) per query.

    Parameters
    ----------
    alpha : float
        The quantile of the pinball loss, in [0, 1] (CatBoost's ``alpha``,
        default 0.5); it changes neither the value nor the gradient.
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON.replace(_GRADED, "The targets are any reals.")

    _default_name = "group_quantile"
    _kind = _KIND_GROUP_QUANTILE
    _labels = "real"
    has_hessian = False
    _no_hessian_reason = ("it is piecewise linear in the scores (its second derivative is 0 "
                          "almost everywhere; CatBoost's GroupQuantile uses exact quantile "
                          "leaves); use backward with reduction 'sum' and a constant Hessian")

    def __init__(self, alpha: float = 0.5, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.alpha = _unit_alpha(alpha, " (the quantile)")

    def _param(self) -> float:
        return self.alpha

    def gradient_hessian(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                         group: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Not available: raises NotImplementedError (there is no Hessian)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient_hessian: {self._no_hessian_reason}")


def _yeti_uniforms(seed: int, q: Queries, permutations: int) -> np.ndarray:
    """YetiRank's noise of one call: ``permutations`` rows of one uniform in
    [0, 1) per item, from ``numpy.random.default_rng([seed, h])``, h the
    call's hash (so a call's value and derivatives share them and new scores
    draw new ones)."""
    rng = np.random.default_rng([seed, _call_key(q), 1])
    return rng.random((permutations, q.rel.shape[0]))


class YetiRank(RankingLoss):
    __doc__ = """CatBoost's ``YetiRank`` (Gulin, Kuralenok and Pavlov, "Winning The
    Transfer Learning Track of Yahoo!'s Learning To Rank Challenge with
    YetiRank", 2011): the pairwise logistic loss of the neighbours in noisy
    rankings of each query. Each call draws ``permutations`` rankings of
    every query: ranking p sorts the items by decreasing
    s_i + log(u_pi / (1.000001 - u_pi)), u_pi uniform in [0, 1) (CatBoost's
    noise exp(s_i) * u / (1.000001 - u), a logistic shift of each score;
    ties keep the input order). The two items at places k - 1 and k
    (k >= 1) of ranking p, if their relevances differ, make a pair (hi the
    more relevant) of weight::

        w = 0.15 * decay**(k - 1) * |rel_hi - rel_lo| / permutations

    and with these weights held fixed (they depend on the noise and on the
    ranking, piecewise constant in the scores)::

        loss_q = sum over the pairs of w * log(1 + exp(-(s_hi - s_lo)))
        dloss/ds_hi = -w * sigmoid(-(s_hi - s_lo)),  dloss/ds_lo = +w * sigmoid(...)
        d2loss/ds2 = w * p * (1 - p) for both items, p = sigmoid(s_hi - s_lo)

    summed over the pairs (a pair drawn in several rankings adds its weights).
    These are the pairs, weights and pairwise-logistic derivatives CatBoost's
    ``YetiRank`` (its default ``mode=Classic``, ``noise=Gumbel``) builds every
    iteration. A one-item query, or one whose relevances are all equal,
    has loss 0.

    The noise is random but a function of the call's inputs, as in
    :class:`XENDCG`: it is drawn from ``numpy.random.default_rng([seed, h,
    1])`` with h a 64-bit BLAKE2b hash of the scores (as float64), the
    relevance and the query sizes, ``permutations`` rows of one uniform per
    item. One call's value and derivatives share their rankings, the same
    inputs give the same result (for every thread count), and each boosting
    iteration, whose scores are new, draws new rankings, as CatBoost does.
    CatBoost's own generator cannot be reproduced, so a training matches
    CatBoost's in distribution, not bit for bit. CatBoost accumulates the
    weights in float32; fastloss in float64. CatBoost's ``YetiRank`` has no
    metric value of its own (it is an objective only). Cost:
    ``permutations`` sorts per query.

    Parameters
    ----------
    permutations : int
        The number of noisy rankings per query and call (CatBoost's
        ``permutations``, default 10).
    decay : float
        The factor of each next place's weight, in [0, 1] (CatBoost's
        ``decay``, default 0.85).
    seed : int or None
        The seed of the noise (an integer >= 0, default 0); None draws one
        from the operating system at construction (the config then holds it).
    noise : str or None
        "gumbel" (default): the noise above, CatBoost's ``noise=Gumbel``
        (its name; the shift of the score is logistic). None: no noise,
        every ranking is by the scores (CatBoost's ``noise=No``): the loss
        is deterministic and ``permutations`` rankings weigh as one.
        CatBoost's ``noise=Gauss`` is not offered.
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "yetirank"

    def __init__(self, permutations: int = 10, decay: float = 0.85, seed: Optional[int] = 0,
                 noise: Optional[str] = "gumbel",
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if isinstance(permutations, (bool, np.bool_)) or not isinstance(permutations,
                                                                         (int, np.integer)):
            raise TypeError(f"permutations must be an integer >= 1, got {permutations!r}")
        if permutations < 1:
            raise ValueError(f"permutations must be >= 1 (noisy rankings per query), got "
                             f"{permutations}")
        if isinstance(decay, (bool, np.bool_)) or not isinstance(decay, (int, float,
                                                                          np.floating)):
            raise TypeError(f"decay must be a float in [0, 1], got {decay!r}")
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"decay must be in [0, 1] (the factor of each next place's "
                             f"weight), got {decay}")
        self.permutations = int(permutations)
        self.decay = float(decay)
        if noise is not None and noise != "gumbel":
            raise ValueError(f"noise must be 'gumbel' (CatBoost's default) or None (no noise, "
                             f"CatBoost's noise=No), got {noise!r}")
        self.seed = _seed(seed)
        self.noise = noise

    def _kernel(self, q: Queries, per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
                hess: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None:
        u = (None if self.noise is None
             else _yeti_uniforms(self.seed, q, self.permutations).reshape(-1))
        _core.yetirank_loss(q.rel, q.scores, q.offsets, u, self.permutations, self.decay,
                            per_query, grad, hess, coef)


class YetiRankPairwise(YetiRank):
    __doc__ = """CatBoost's ``YetiRankPairwise``: the loss, pairs, weights and
    derivatives of :class:`YetiRank`. CatBoost trains it with another tree
    search and pairwise leaf values (a Newton system over the pairs instead
    of one Newton step per leaf from the per-item derivatives); a boosting
    library given this objective takes its per-item gradient and Hessian as
    for :class:`YetiRank`, so it is YetiRank's objective under CatBoost's
    name.

    Parameters
    ----------
    permutations, decay, seed, noise
        As for :class:`YetiRank` (CatBoost's defaults 10, 0.85 and "gumbel";
        seed 0).
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "yetirank_pairwise"


def _filter_uniforms(seed: int, q: Queries, estimations: int) -> np.ndarray:
    """StochasticFilter's noise of one call: ``estimations`` rows of one
    uniform in [0, 1) per item, from ``numpy.random.default_rng([seed, h,
    2])``, h the call's hash."""
    rng = np.random.default_rng([seed, _call_key(q), 2])
    return rng.random((estimations, q.rel.shape[0]))


class StochasticFilter(RankingLoss):
    __doc__ = """CatBoost's ``StochasticFilter``: minus the expected FilterDCG of a
    random filter of each query. Item i passes the filter with probability
    p_i = sigmoid(sigma * s_i), independently of the others; the FilterDCG of
    the items that pass is::

        FilterDCG = sum over the passed items, in input order, of
                    rel_i / (the item's 1-based place among the passed)

    (CatBoost's ``FilteredDCG`` metric, whose filter is s_i >= 0, is this for
    the deterministic filter). The loss of a query is -E[FilterDCG], estimated
    from ``estimations`` draws of the filter (draw k passes item i when
    p_i >= u_ki, u_ki uniform in [0, 1))::

        loss_q = -(1 / K) sum_k L_k,    L_k the FilterDCG of draw k
        dloss/ds_i = -(sigma / K) sum_k (L_k - b) (pass_ki - p_i)

    with K = ``estimations`` and b the FilterDCG of the deterministic filter
    s >= 0. The gradient is the score-function (REINFORCE) estimate of the
    gradient of -E[FilterDCG], unbiased (b, which does not depend on the
    draw, only lowers its variance); the value is the estimate of
    -E[FilterDCG] from the same draws (its own derivative is 0 almost
    everywhere, so the gradient is not the derivative of the value but of
    its expectation). These are CatBoost's draws, baseline and
    estimator; CatBoost's derivative omits the factor sigma (the same for
    its default sigma 1: its ``Der1`` is minus this gradient over sigma).
    There is no Hessian (CatBoost defines none: it trains this objective
    with gradient leaves); ``gradient_hessian`` raises NotImplementedError,
    and a boosting library takes ``backward(..., reduction="sum")`` with a
    constant Hessian. A query whose items all fail the filter in a draw
    scores 0 there.

    The noise is random but a function of the call's inputs, as in
    :class:`YetiRank`: it is drawn from ``numpy.random.default_rng([seed, h,
    2])`` with h a 64-bit BLAKE2b hash of the scores (as float64), the
    relevance and the query sizes, ``estimations`` rows of one uniform per
    item. One call's value and gradient share their draws, the same inputs
    give the same result (for every thread count), and each boosting
    iteration, whose scores are new, draws new filters. CatBoost's own
    generator cannot be reproduced, so a training matches CatBoost's in
    distribution, not bit for bit. CatBoost ignores sample weights for this
    objective; fastloss weighs each query's loss by its weight. Cost:
    ``estimations`` passes over each query.

    Parameters
    ----------
    sigma : float
        The scale of the scores in the pass probability sigmoid(sigma * s),
        > 0 (CatBoost's ``sigma``, default 1).
    estimations : int
        The number of draws of the filter per query and call (CatBoost's
        ``num_estimations``, default 1).
    seed : int or None
        The seed of the noise (an integer >= 0, default 0); None draws one
        from the operating system at construction (the config then holds it).
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "stochastic_filter"
    has_hessian = False
    _no_hessian_reason = ("its gradient is a score-function estimate of the gradient of the "
                          "expected FilterDCG, which has no Hessian estimate (CatBoost's "
                          "StochasticFilter defines none and trains with gradient leaves); use "
                          "backward with reduction 'sum' and a constant Hessian")

    def __init__(self, sigma: float = 1.0, estimations: int = 1, seed: Optional[int] = 0,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, (int, float,
                                                                          np.floating)):
            raise TypeError(f"sigma must be a float > 0, got {sigma!r}")
        if not sigma > 0.0 or not np.isfinite(sigma):
            raise ValueError(f"sigma must be a finite float > 0 (the scale of the scores in the "
                             f"pass probability), got {sigma}")
        if isinstance(estimations, (bool, np.bool_)) or not isinstance(estimations,
                                                                       (int, np.integer)):
            raise TypeError(f"estimations must be an integer >= 1, got {estimations!r}")
        if estimations < 1:
            raise ValueError(f"estimations must be >= 1 (draws of the filter per query), got "
                             f"{estimations}")
        self.sigma = float(sigma)
        self.estimations = int(estimations)
        self.seed = _seed(seed)

    def gradient_hessian(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                         group: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Not available: raises NotImplementedError (there is no Hessian)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient_hessian: {self._no_hessian_reason}")

    def _kernel(self, q: Queries, per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
                hess: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None:
        u = _filter_uniforms(self.seed, q, self.estimations).reshape(-1)
        _core.stochastic_filter_loss(q.rel, q.scores, q.offsets, u, self.estimations,
                                     self.sigma, per_query, grad, coef)



def _rank_normals(seed: int, q: Queries, estimations: int) -> np.ndarray:
    """StochasticRank's noise of one call: ``estimations`` rows of one
    standard normal per item, from ``numpy.random.default_rng([seed, h,
    3])``, h the call's hash."""
    rng = np.random.default_rng([seed, _call_key(q), 3])
    return rng.standard_normal((estimations, q.rel.shape[0]))


def _finite(value: Any, name: str, low: float, strict: bool) -> float:
    """A real parameter > low (strict) or >= low, finite."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a float, got {value!r}")
    ok = np.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        raise ValueError(f"{name} must be a finite float {'>' if strict else '>='} {low:g}, "
                         f"got {value}")
    return float(value)


def _choice(value: Any, name: str, allowed: tuple[str, ...], refused: str = "") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got "
                         f"{value!r}{refused}")
    return value


class StochasticRank(RankingLoss):
    __doc__ = """CatBoost's ``StochasticRank`` with ``metric=NDCG`` or ``DCG``: minus
    the expected (N)DCG of the ranking by noisy scores, with CatBoost's
    gradient estimate. The scores of a query, shifted by -sigma * mu * rel and
    centred, a_i = s_i - sigma * mu * rel_i - mean, are ranked by a_i +
    sigma * z_ki in draw k (z standard normal, ties by input position); M_k
    is that ranking's DCG, sum over the places p < top of gain(rel) /
    discount(p), divided for NDCG by the query's ideal DCG (when it is > 0)::

        gain(rel) = rel (type="Base") or 2**rel - 1 (type="Exp")
        discount(p) = log2(2 + p) (denominator="LogPosition") or 1 + p ("Position")
        loss_q = -(1 / K) sum_k M_k

    with K = ``estimations``. The gradient is minus CatBoost's estimate of
    the derivative of E[M]: in draw k, for the item i at place p, the sum
    over the places p' <= min(size - 1, top), p' != p, of the change of M_k
    when i moves to p' times the difference of the normal densities, at the
    two noisy scores that bound place p', of i's noisy score given the sum
    of the query's noise (mean a_i + (Z_k - sigma * z_ki) / (size - 1), Z_k =
    sum_j z_kj; scale sigma * sqrt(size / (size - 1))). Then, as CatBoost,
    its mean over the query is removed and, for queries of more than 2
    items, ``lambda_`` times its component along the centred scores c = s -
    mean(s), over (|c| + nu)**2, is taken away. The gradient is therefore
    not the derivative of the value (piecewise constant in the scores) but
    CatBoost's estimate of that of its expectation; a query of one item has
    gradient 0. With ``sigma=1`` (and ``lambda_=0``) its expectation is
    minus the derivative of E[M]; for other sigma the conditional mean adds
    the unscaled noise sum Z_k to scaled scores, as CatBoost's does, and the
    estimate is biased (a few percent at sigma 2). There is no Hessian
    (CatBoost defines none and trains with gradient leaves):
    ``gradient_hessian`` raises NotImplementedError, and a boosting library
    takes ``backward(..., reduction="sum")`` with a
    constant Hessian. CatBoost's derivative (``Der1``) is minus this
    gradient; its PFound, FilteredDCG, ERR and MRR metrics are not offered.

    The noise is random but a function of the call's inputs, as in
    :class:`YetiRank`: it is drawn from ``numpy.random.default_rng([seed, h,
    3])`` with h a 64-bit BLAKE2b hash of the scores (as float64), the
    relevance and the query sizes, ``estimations`` rows of one standard
    normal per item. One call's value and gradient share their draws, the
    same inputs give the same result (for every thread count), and each
    boosting iteration, whose scores are new, draws new noise. CatBoost's
    own generator cannot be reproduced, so a training matches CatBoost's in
    distribution, not bit for bit. CatBoost ignores sample weights for this
    objective; fastloss weighs each query's loss by its weight. Cost:
    ``estimations`` sorts and O(size * min(size, top)) per query.

    Parameters
    ----------
    metric : {"NDCG", "DCG"}
        The metric whose expectation is maximised (CatBoost's ``metric``).
    top : int or None
        The number of places counted (CatBoost's ``top``; None for all).
    type : {"Base", "Exp"}
        The gain: rel, or 2**rel - 1 (CatBoost's ``type``, default Base).
    denominator : {"LogPosition", "Position"}
        The discount of place p: log2(2 + p) or 1 + p (CatBoost's default
        LogPosition).
    sigma : float
        The scale of the noise, > 0 (CatBoost's ``sigma``, default 1).
    estimations : int
        Draws of the noise per query and call (CatBoost's
        ``num_estimations``, default 1).
    mu : float
        The shift of the scores by -sigma * mu * rel that breaks ties, >= 0
        (CatBoost's ``mu``, default 0).
    nu : float
        Added to the centred scores' norm in the projection, > 0 (CatBoost's
        ``nu``, default 0.01).
    lambda_ : float
        The coefficient of the projection, >= 0 (CatBoost's ``lambda``,
        default 1; 0 leaves the gradient unprojected).
    seed : int or None
        The seed of the noise (an integer >= 0, default 0); None draws one
        from the operating system at construction (the config then holds it).
    reduction, name
        Keras's reductions of the per-query losses, and the name.
    """ + _COMMON

    _default_name = "stochastic_rank"
    has_hessian = False
    _no_hessian_reason = ("its gradient is a Monte-Carlo estimate of the gradient of the "
                          "expected (N)DCG, which has no Hessian estimate (CatBoost's "
                          "StochasticRank defines none and trains with gradient leaves); use "
                          "backward with reduction 'sum' and a constant Hessian")

    def __init__(self, metric: str = "NDCG", top: Optional[int] = None, type: str = "Base",
                 denominator: str = "LogPosition", sigma: float = 1.0, estimations: int = 1,
                 mu: float = 0.0, nu: float = 0.01, lambda_: float = 1.0,
                 seed: Optional[int] = 0, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.metric = _choice(metric, "metric", ("NDCG", "DCG"),
                              " (CatBoost's PFound, FilteredDCG, ERR and MRR are not offered)")
        self.top = _places(top, "top")
        self.type = _choice(type, "type", ("Base", "Exp"))
        self.denominator = _choice(denominator, "denominator", ("LogPosition", "Position"))
        self.sigma = _finite(sigma, "sigma", 0.0, strict=True)
        if isinstance(estimations, (bool, np.bool_)) or not isinstance(estimations,
                                                                       (int, np.integer)):
            raise TypeError(f"estimations must be an integer >= 1, got {estimations!r}")
        if estimations < 1:
            raise ValueError(f"estimations must be >= 1 (draws of the noise per query), got "
                             f"{estimations}")
        self.estimations = int(estimations)
        self.mu = _finite(mu, "mu", 0.0, strict=False)
        self.nu = _finite(nu, "nu", 0.0, strict=True)
        self.lambda_ = _finite(lambda_, "lambda_", 0.0, strict=False)
        self.seed = _seed(seed)

    def gradient_hessian(self, y_true: Any, y_pred: Any, sample_weight: Any = None, *,
                         group: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Not available: raises NotImplementedError (there is no Hessian)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient_hessian: {self._no_hessian_reason}")

    def _kernel(self, q: Queries, per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
                hess: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None:
        z = _rank_normals(self.seed, q, self.estimations).reshape(-1)
        _core.stochastic_rank_loss(q.rel, q.scores, q.offsets, z, self.estimations,
                                   self.metric == "NDCG", self.top or 0, self.type == "Exp",
                                   self.denominator == "LogPosition", self.sigma, self.mu,
                                   self.nu, self.lambda_, per_query, grad, coef)

RANKING_LOSSES: tuple[type[Any], ...] = (PairwiseLogistic, SoftmaxListwise, LambdaRankNDCG,
                                         LambdaRankMAP, XENDCG, QueryRMSE, QueryCrossentropy,
                                         YetiRank, YetiRankPairwise, StochasticFilter,
                                         GroupQuantile, StochasticRank)

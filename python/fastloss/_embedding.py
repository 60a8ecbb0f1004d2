"""Pair, triplet and metric-learning losses: their inputs are not one
(y_true, y_pred) pair, and ``backward`` returns one gradient per trained input.

* :class:`MarginRanking` and :class:`CosineEmbedding`, PyTorch's
  ``margin_ranking_loss`` and ``cosine_embedding_loss``: a ±1 target and two
  trained inputs;
* :class:`TripletMargin`, PyTorch's ``triplet_margin_loss``: anchor, positive
  and negative embeddings, all three trained; :class:`TripletMarginWithDistance`,
  PyTorch's ``triplet_margin_with_distance_loss`` under a named distance;
* :class:`NTXent` (optax's ``ntxent``) and :class:`Circle` (Keras 3's
  ``Circle``): integer group labels and one batch of embeddings, each row's
  loss depending on its similarity to every other row.

The kernels are in ``losses/embedding.hpp``; the batch losses compute the
B x B similarities in tiles and never hold the whole matrix. This module
checks the inputs and applies Keras's sample weights and reductions (the rules
of ``_passes``).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _passes
from ._arrays import REDUCTION_MWSW, REDUCTION_NONE, REDUCTION_SOBS
from ._models import _MULTI_METHODS, Grads, MultiInputLoss, _PerImage


def _finite(value: Any, what: str) -> float:
    v = _arrays.real_param(value, what)
    if not math.isfinite(v):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return v


def _signs(y: Any, shape: tuple[int, ...], dtype: np.dtype, what: str) -> np.ndarray:
    """The ±1 targets broadcast to `shape`, C-contiguous and flat."""
    t = _arrays.as_float(y, what, dtype)
    try:
        t = np.broadcast_to(t, shape)
    except ValueError:
        raise ValueError(f"{what} has shape {t.shape}, which does not broadcast to the "
                         f"per-sample shape {shape}") from None
    if not np.all((t == 1) | (t == -1)):
        raise ValueError(f"{what} must hold only 1 and -1 (PyTorch's convention), got "
                         f"other values such as {t[(t != 1) & (t != -1)].flat[0]!r}")
    return np.ascontiguousarray(t).reshape(-1)


def _same_shapes(arrays: dict[str, np.ndarray], min_ndim: int) -> tuple[int, ...]:
    shapes = {name: a.shape for name, a in arrays.items()}
    first = next(iter(shapes.values()))
    if any(s != first for s in shapes.values()):
        raise ValueError("the embeddings must have the same shape, got " +
                         ", ".join(f"{n} {s}" for n, s in shapes.items()))
    if len(first) < min_ndim:
        raise ValueError(f"{', '.join(shapes)} must have at least {min_ndim} dimension"
                         f"{'s' if min_ndim > 1 else ''} (the last is the embedding), got "
                         f"shape {first}")
    return first


def _rows(a: np.ndarray) -> np.ndarray:
    """(rows, D) C-contiguous view or copy of (..., D); explicit sizes, so that
    empty batches reshape too."""
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _row_scale(sample_weight: Any, batch: tuple[int, ...], dtype: np.dtype) -> Optional[np.ndarray]:
    """Per-row sample weights (float64, flat) for the unreduced Hessian pass."""
    if sample_weight is None:
        return None
    w = _passes.keras_weighting(sample_weight, batch, dtype, REDUCTION_NONE)
    if w.broadcast_up:
        raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} must hold at most "
                         f"one weight per sample {batch}")
    return w.per_sample_weights(math.prod(batch))


class _Pairwise(MultiInputLoss):
    """The margin losses' shared pass: PyTorch's per-sample losses, then
    Keras's sample weights and reductions."""

    _n_targets = 1
    _n_trained = 2
    _per_element = False  # the per-sample shape: the inputs' (True) or without the last axis

    def _prepare(self, args: tuple[Any, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       tuple[int, ...]]:
        x1 = _arrays.as_float(args[1], self._inputs[1])
        x2 = _arrays.as_float(args[2], self._inputs[2], x1.dtype)
        shape = _same_shapes({self._inputs[1]: x1, self._inputs[2]: x2},
                             0 if self._per_element else 1)
        batch = shape if self._per_element else shape[:-1]
        y = _signs(args[0], batch, x1.dtype, self._inputs[0])
        if self._per_element:
            flat = (np.ascontiguousarray(x1).reshape(-1), np.ascontiguousarray(x2).reshape(-1))
            return y, flat[0], flat[1], shape
        return y, _rows(x1), _rows(x2), shape

    def _batch(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape if self._per_element else shape[:-1]

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        y, x1, x2, shape = self._prepare(args)
        red = _PerImage(sample_weight, self._batch(shape), x1.dtype, self.reduction)
        per_sample = np.empty(y.shape[0]) if want_value else None
        grads = (np.empty_like(x1), np.empty_like(x2)) if want_grad else None
        coef = red.coefficients(grad_output) if want_grad else None
        if coef is not None and coef.shape[0] != y.shape[0]:
            coef = np.broadcast_to(coef, y.shape).copy()
        self._kernel(y, x1, x2, per_sample, grads, None, coef)
        value = red.value(per_sample) if per_sample is not None else None
        if grads is None:
            return value, (None, None)
        return value, tuple(g.reshape(shape) for g in grads)

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        y, x1, x2, shape = self._prepare(args)
        coef = _row_scale(sample_weight, self._batch(shape), x1.dtype)
        grads = (np.empty_like(x1), np.empty_like(x2))
        hess = (np.empty_like(x1), np.empty_like(x2))
        self._kernel(y, x1, x2, None, grads, hess, coef)
        return (tuple(g.reshape(shape) for g in grads),
                tuple(h.reshape(shape) for h in hess))

    def _kernel(self, y: np.ndarray, x1: np.ndarray, x2: np.ndarray,
                per_sample: Optional[np.ndarray], grads: Optional[tuple[np.ndarray, np.ndarray]],
                hess: Optional[tuple[np.ndarray, np.ndarray]],
                coef: Optional[np.ndarray]) -> None:
        raise NotImplementedError  # pragma: no cover - abstract


class MarginRanking(_Pairwise):
    __doc__ = """PyTorch's ``margin_ranking_loss``, elementwise::

        loss = max(0, -y * (x1 - x2) + margin),   y = 1 or -1
        dloss/dx1 = -y,  dloss/dx2 = y   where -y * (x1 - x2) + margin >= 0, else 0

    Called ``loss(y, x1, x2)`` with x1 and x2 of one shape and y (±1)
    broadcasting to it; ``backward`` returns ``(grad_x1, grad_x2)``. Every
    element is a sample: "sum_over_batch_size" is PyTorch's ``"mean"``,
    "none" PyTorch's ``"none"`` (x1's shape). At the hinge (argument exactly
    0) the gradient is taken as on the sloped side, as PyTorch's clamp does.

    Parameters
    ----------
    margin : float, default 0.0
    reduction, name
        Keras's reductions of the per-element losses, and the name.

    Notes
    -----
    """ + _MULTI_METHODS

    _inputs = ("y", "x1", "x2")
    _default_name = "margin_ranking"
    _per_element = True
    _no_hessian_reason = ("margin ranking is piecewise linear in x1 and x2: its second "
                          "derivative is zero wherever it exists and undefined at the hinge.")
    _dask_refusal = "its three inputs are not yet taken blockwise"

    def __init__(self, margin: float = 0.0, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.margin = _finite(margin, "margin")

    def _kernel(self, y: np.ndarray, x1: np.ndarray, x2: np.ndarray,
                per_sample: Optional[np.ndarray], grads: Optional[tuple[np.ndarray, np.ndarray]],
                hess: Optional[tuple[np.ndarray, np.ndarray]],
                coef: Optional[np.ndarray]) -> None:
        g1, g2 = grads if grads is not None else (None, None)
        _core.margin_ranking(y, x1, x2, self.margin, per_sample, g1, g2, coef)


class CosineEmbedding(_Pairwise):
    __doc__ = """PyTorch's ``cosine_embedding_loss``, one loss per row::

        cos = <x1, x2> / sqrt((|x1|**2 + 1e-12) * (|x2|**2 + 1e-12))
        loss = 1 - cos                 for y = 1
               max(0, cos - margin)    for y = -1

    Called ``loss(y, x1, x2)``: x1 and x2 are (N, D) (or (D,), or any
    (..., D)), y holds one ±1 per row (shape (N,)). ``backward`` returns
    ``(grad_x1, grad_x2)``; ``gradient_hessian`` the exact Hessian diagonal of
    each row's loss with respect to each input. "sum_over_batch_size" is
    PyTorch's ``"mean"`` over the rows, "none" its ``"none"``. PyTorch gives a
    loss of 0 to a target other than ±1; fastloss refuses one.

    Parameters
    ----------
    margin : float, default 0.0
        The cosine below which a dissimilar pair costs nothing (PyTorch
        suggests 0 to 0.5).
    reduction, name
        Keras's reductions of the per-row losses, and the name.

    Notes
    -----
    """ + _MULTI_METHODS

    _inputs = ("y", "x1", "x2")
    _default_name = "cosine_embedding"
    has_hessian = True
    _dask_refusal = "its three inputs are not yet taken blockwise"

    def __init__(self, margin: float = 0.0, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.margin = _finite(margin, "margin")

    def _kernel(self, y: np.ndarray, x1: np.ndarray, x2: np.ndarray,
                per_sample: Optional[np.ndarray], grads: Optional[tuple[np.ndarray, np.ndarray]],
                hess: Optional[tuple[np.ndarray, np.ndarray]],
                coef: Optional[np.ndarray]) -> None:
        _core.cosine_embedding(y, x1, x2, self.margin, per_sample, grads or (), hess or (), coef)


class TripletMargin(MultiInputLoss):
    __doc__ = """PyTorch's ``triplet_margin_loss`` (Balntas et al. 2016), one loss per row::

        d(x, z) = | x - z + eps |_p          (PyTorch's pairwise_distance)
        d_neg = d(anchor, negative),  or min(d_neg, d(positive, negative)) with swap
        loss = max(0, margin + d(anchor, positive) - d_neg)

    Called ``loss(anchor, positive, negative)``, three arrays of one shape (N,
    D) (or (D,), or any (..., D)); ``backward`` returns ``(grad_anchor,
    grad_positive, grad_negative)``. The gradient at the hinge (argument
    exactly 0) is taken on the sloped side, as PyTorch's clamp does;
    "sum_over_batch_size" is PyTorch's ``"mean"``, "none" its ``"none"``.

    Parameters
    ----------
    margin : float, default 1.0
    p : float, default 2
        The norm's degree, >= 1.
    swap : bool, default False
        The distance swap of Balntas et al.: the negative's distance is the
        smaller of its distances to the anchor and to the positive.
    eps : float, default 1e-6
        Added to each difference before the norm (PyTorch's pairwise_distance).
    reduction, name
        Keras's reductions of the per-row losses, and the name.

    Notes
    -----
    """ + _MULTI_METHODS

    _inputs = ("anchor", "positive", "negative")
    _n_targets = 0
    _n_trained = 3
    _default_name = "triplet_margin"
    has_hessian = True
    _dask_refusal = "its three inputs are not yet taken blockwise"

    def __init__(self, margin: float = 1.0, p: float = 2.0, swap: bool = False, eps: float = 1e-6,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.margin = _finite(margin, "margin")
        self.p = _finite(p, "p")
        if self.p < 1:
            raise ValueError(f"p must be >= 1 (a norm's degree), got {p!r}")
        if not isinstance(swap, (bool, np.bool_)):
            raise TypeError(f"swap must be a bool, got {swap!r}")
        self.swap = bool(swap)
        self.eps = _finite(eps, "eps")

    def _prepare(self, args: tuple[Any, ...]) -> tuple[list[np.ndarray], tuple[int, ...]]:
        a = _arrays.as_float(args[0], "anchor")
        arrays = {"anchor": a, **{n: _arrays.as_float(x, n, a.dtype)
                                  for n, x in zip(self._inputs[1:], args[1:])}}
        shape = _same_shapes(arrays, 1)
        return [_rows(x) for x in arrays.values()], shape

    def _kernel(self, rows: list[np.ndarray], per_row: Optional[np.ndarray],
                grads: tuple[np.ndarray, ...], hess: tuple[np.ndarray, ...],
                coef: Optional[np.ndarray]) -> None:
        _core.triplet_margin(rows[0], rows[1], rows[2], self.margin, self.p, self.swap, self.eps,
                             per_row, grads, hess, coef)

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        rows, shape = self._prepare(args)
        n = rows[0].shape[0]
        red = _PerImage(sample_weight, shape[:-1], rows[0].dtype, self.reduction)
        per_row = np.empty(n) if want_value else None
        grads = tuple(np.empty_like(r) for r in rows) if want_grad else ()
        coef = red.coefficients(grad_output) if want_grad else None
        if coef is not None and coef.shape[0] != n:
            coef = np.broadcast_to(coef, (n,)).copy()
        self._kernel(rows, per_row, grads, (), coef)
        value = red.value(per_row) if per_row is not None else None
        if not want_grad:
            return value, (None, None, None)
        return value, tuple(g.reshape(shape) for g in grads)

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        rows, shape = self._prepare(args)
        coef = _row_scale(sample_weight, shape[:-1], rows[0].dtype)
        grads = tuple(np.empty_like(r) for r in rows)
        hess = tuple(np.empty_like(r) for r in rows)
        self._kernel(rows, None, grads, hess, coef)
        return (tuple(g.reshape(shape) for g in grads),
                tuple(h.reshape(shape) for h in hess))


#: TripletMarginWithDistance's distances: name -> (kernel code, p, eps).
_DISTANCES: dict[str, tuple[int, float, float]] = {
    "euclidean": (0, 2.0, 1e-6),          # PyTorch's pairwise_distance, its default
    "manhattan": (0, 1.0, 1e-6),          # pairwise_distance(x, z, p=1)
    "squared_euclidean": (1, 2.0, 1e-6),  # pairwise_distance(x, z) ** 2
    "cosine": (2, 2.0, 1e-8),             # 1 - cosine_similarity(x, z)
}


class TripletMarginWithDistance(TripletMargin):
    __doc__ = """PyTorch's ``TripletMarginWithDistanceLoss`` under a named distance, one
    loss per row::

        d_neg = d(anchor, negative),  or min(d_neg, d(positive, negative)) with swap
        loss = max(0, margin + d(anchor, positive) - d_neg)

    with ``distance`` one of

    * ``"euclidean"`` (the default, PyTorch's default ``pairwise_distance``):
      ``d(x, z) = |x - z + 1e-6|_2``;
    * ``"manhattan"``: ``|x - z + 1e-6|_1``, ``pairwise_distance(x, z, p=1)``;
    * ``"squared_euclidean"``: ``|x - z + 1e-6|_2 ** 2``, the square of the
      default distance;
    * ``"cosine"``: ``1 - cosine_similarity(x, z)``, PyTorch's cosine similarity
      with each norm floored at 1e-8 (the alternative PyTorch's documentation
      shows).

    PyTorch takes any Python callable as ``distance_function``; the compiled
    kernels differentiate their own distances only, so a callable is refused
    with a TypeError that names the distances to pass instead (``None`` is
    PyTorch's default, ``"euclidean"``). Called ``loss(anchor, positive,
    negative)``, three arrays of one shape (N, D) (or (D,), or any (..., D));
    ``backward`` returns ``(grad_anchor, grad_positive, grad_negative)``. The
    gradient at the hinge (argument exactly 0) is taken on the sloped side, as
    PyTorch's clamp_min does; "sum_over_batch_size" is PyTorch's ``"mean"``,
    "none" its ``"none"``. :class:`TripletMargin` is the same loss under
    ``|x - z + eps|_p`` for any p and eps.

    Parameters
    ----------
    distance : str, default "euclidean"
        ``"euclidean"``, ``"manhattan"``, ``"squared_euclidean"`` or ``"cosine"``.
    margin : float, default 1.0
        Must be > 0, as PyTorch requires.
    swap : bool, default False
        The distance swap of Balntas et al.: the negative's distance is the
        smaller of its distances to the anchor and to the positive.
    reduction, name
        Keras's reductions of the per-row losses, and the name.

    Notes
    -----
    """ + _MULTI_METHODS

    _default_name = "triplet_margin_with_distance"

    def __init__(self, distance: Optional[str] = "euclidean", margin: float = 1.0,
                 swap: bool = False, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        names = ", ".join(repr(n) for n in _DISTANCES)
        if distance is None:
            distance = "euclidean"  # PyTorch's distance_function=None
        if callable(distance):
            raise TypeError(
                f"TripletMarginWithDistance: distance must be the name of a distance, got the "
                f"callable {distance!r}; the compiled kernels cannot differentiate a Python "
                f"function. Pass one of {names} ('euclidean' is PyTorch's default "
                f"pairwise_distance, 'cosine' is 1 - cosine_similarity), or compute a custom "
                f"distance in PyTorch itself.")
        if not isinstance(distance, str):
            raise TypeError(f"TripletMarginWithDistance: distance must be one of {names}, "
                            f"got {distance!r}")
        if distance not in _DISTANCES:
            raise ValueError(f"TripletMarginWithDistance: unknown distance {distance!r}; "
                             f"pass one of {names}")
        margin = _finite(margin, "margin")
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistance: margin must be > 0 (as PyTorch "
                             f"requires), got {margin!r}")
        code, p, eps = _DISTANCES[distance]
        super().__init__(margin=margin, p=p, swap=swap, eps=eps, reduction=reduction,
                         name=name)
        self.distance = distance
        self._distance_code = code

    def _kernel(self, rows: list[np.ndarray], per_row: Optional[np.ndarray],
                grads: tuple[np.ndarray, ...], hess: tuple[np.ndarray, ...],
                coef: Optional[np.ndarray]) -> None:
        _core.triplet_margin(rows[0], rows[1], rows[2], self.margin, self.p, self.swap, self.eps,
                             per_row, grads, hess, coef, self._distance_code)


def _labels(labels: Any, n: int) -> np.ndarray:
    """Integer group labels, one per row, as a flat int64 array."""
    lab = np.asarray(labels)
    if lab.ndim == 2 and lab.shape[1] == 1:
        lab = lab[:, 0]
    if lab.ndim != 1 or lab.shape[0] != n:
        raise ValueError(f"labels must hold one integer per row of embeddings ({n}), got "
                         f"shape {lab.shape}")
    if lab.dtype.kind in "iub":
        return np.ascontiguousarray(lab, dtype=np.int64)
    if lab.dtype.kind == "f" and np.all(np.isfinite(lab)) and np.all(lab == np.round(lab)):
        return np.ascontiguousarray(lab, dtype=np.int64)
    raise TypeError(f"labels must be integers (group ids), got dtype {lab.dtype}"
                    + (" with non-integral values" if lab.dtype.kind == "f" else ""))


def _embeddings(x: Any) -> np.ndarray:
    e = _arrays.as_float(x, "embeddings")
    if e.ndim != 2:
        raise ValueError(f"embeddings must be (batch, features), got shape {e.shape}")
    return np.ascontiguousarray(e)


def _group_sizes(labels: np.ndarray) -> np.ndarray:
    """How many rows share each row's label (itself included)."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return counts[inverse.reshape(-1)]


_BATCH_HESSIAN = ("each row's loss is a softmax over its similarities to every row of the "
                  "batch, so the Hessian couples all pairs of rows; its diagonal is not "
                  "provided.")
_BATCH_DASK = ("each row's loss depends on every row of the batch, so its value is not a "
               "sum over blocks")


class NTXent(MultiInputLoss):
    __doc__ = """optax's ``ntxent``, the normalized temperature-scaled cross-entropy of
    SimCLR (Chen et al. 2020), over one batch of embeddings with integer group
    labels::

        u_i = x_i / max(|x_i|, sqrt(eps)),  s_ij = <u_i, u_j> / temperature
        loss_i = sum over positives j of
                 log(exp(s_ij) + sum over negatives k of exp(s_ik)) - s_ij

    Rows j != i with row i's label are its positives, rows of another label
    its negatives; eps is the machine epsilon of the embeddings' dtype, as in
    optax. Called ``loss(labels, embeddings)`` with embeddings (B, D) and
    labels (B,); ``backward`` returns ``(grad_embeddings,)``.

    Reductions: "sum_over_batch_size" divides the sum by the number of
    positive pairs (optax's average over all positive pairs), "sum" is the
    sum, "none" gives each anchor's sum ``loss_i`` (B,), and
    "mean_with_sample_weight" divides by the weighted count of positive
    pairs. A sample weight weights its anchor's loss. A batch without a
    positive pair has the value 0 (optax's 0/0 is NaN).

    The B x B similarity matrix is computed in tiles of 64 x 64, never whole:
    memory is O(B D).

    Parameters
    ----------
    temperature : float, default 0.07
        > 0.
    reduction, name
        The reductions above, and the name.

    Notes
    -----
    """ + _MULTI_METHODS

    _inputs = ("labels", "embeddings")
    _n_targets = 1
    _n_trained = 1
    _default_name = "ntxent"
    _no_hessian_reason = _BATCH_HESSIAN
    _dask_refusal = _BATCH_DASK

    def __init__(self, temperature: float = 0.07,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.temperature = _finite(temperature, "temperature")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        x = _embeddings(args[1])
        labels = _labels(args[0], x.shape[0])
        n = x.shape[0]
        red = _PerImage(sample_weight, (n,), x.dtype, self.reduction)
        # the average runs over positive pairs, not rows
        pairs = (_group_sizes(labels) - 1).astype(np.float64)
        if red.w.reduction == REDUCTION_SOBS:
            red.w = red.w._replace(divisor=float(np.sum(pairs)))
        elif red.w.reduction == REDUCTION_MWSW:
            red.w = red.w._replace(divisor=float(np.sum(red.w.per_sample_weights(n) * pairs)))
        per_row = np.empty(n) if want_value else None
        grad = np.empty_like(x) if want_grad else None
        coef = red.coefficients(grad_output) if want_grad else None
        if coef is not None and coef.shape[0] != n:
            coef = np.broadcast_to(coef, (n,)).copy()
        _core.ntxent(labels, x, self.temperature, per_row, grad, coef)
        value = red.value(per_row) if per_row is not None else None
        return value, (grad,)


class Circle(MultiInputLoss):
    __doc__ = """Keras 3's ``Circle`` loss (Sun et al. 2020, "Circle Loss") over one batch
    of embeddings with integer labels::

        d_ij = max(1 - <x_i, x_j>, 0)
        P_i = logsumexp over positives j of -gamma * max(m + d_ij, 0) * (m - d_ij)
        N_i = logsumexp over negatives j of gamma * max(1 + m - d_ij, 0) * (1 - m - d_ij)
        loss_i = softplus(P_i + N_i)

    with m the margin, positives the rows of row i's label (row i itself
    excluded when ``remove_diagonal``) and negatives the rows of another
    label. Like Keras, the embeddings are used as given: normalise them (L2)
    first. The gradient flows through the weights max(., 0) as in Keras.
    Called ``loss(labels, embeddings)``, embeddings (B, D), labels (B,);
    ``backward`` returns ``(grad_embeddings,)``.

    A row without a positive or a negative has no loss and is masked out of
    the mean as Keras masks it: "sum_over_batch_size" divides by the number
    of rows that have both, "mean_with_sample_weight" by their weights. (Keras
    masks the rows whose loss is 0; a loss that underflows to 0 in float32
    would also be masked there, not here.)

    Parameters
    ----------
    gamma : float, default 80.0
        The scale of the similarities.
    margin : float, default 0.4
        The relaxation margin m.
    remove_diagonal : bool, default True
        Whether a row is not its own positive.
    reduction, name
        Keras's reductions of the per-row losses, and the name.

    Notes
    -----
    """ + _MULTI_METHODS

    _inputs = ("labels", "embeddings")
    _n_targets = 1
    _n_trained = 1
    _default_name = "circle"
    _no_hessian_reason = _BATCH_HESSIAN
    _dask_refusal = _BATCH_DASK

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.gamma = _finite(gamma, "gamma")
        self.margin = _finite(margin, "margin")
        if not isinstance(remove_diagonal, (bool, np.bool_)):
            raise TypeError(f"remove_diagonal must be a bool, got {remove_diagonal!r}")
        self.remove_diagonal = bool(remove_diagonal)

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        x = _embeddings(args[1])
        labels = _labels(args[0], x.shape[0])
        n = x.shape[0]
        sizes = _group_sizes(labels)
        valid = ((sizes - (1 if self.remove_diagonal else 0)) > 0) & (sizes < n)
        w = _passes.keras_weighting(sample_weight, (n,), x.dtype,
                                    _arrays.REDUCTIONS[self.reduction], valid=valid)
        per_row = np.empty(n) if want_value else None
        grad = np.empty_like(x) if want_grad else None
        coef = w.coefficients(grad_output, n, x.dtype) if want_grad else None
        if coef is not None and coef.shape[0] != n:
            coef = np.broadcast_to(coef, (n,)).copy()
        _core.circle(labels, x, self.gamma, self.margin, self.remove_diagonal, per_row, grad,
                     coef)
        value = w.reduce(per_row, x.dtype) if per_row is not None else None
        return value, (grad,)


EMBEDDING_LOSSES: tuple[type[MultiInputLoss], ...] = (
    MarginRanking, CosineEmbedding, TripletMargin, TripletMarginWithDistance, NTXent, Circle)

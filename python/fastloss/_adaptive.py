"""Grave et al.'s adaptive softmax as a loss over its weight arrays:
:class:`AdaptiveLogSoftmax`, PyTorch's ``nn.AdaptiveLogSoftmaxWithLoss``
without the module state, so that NumPy users can train one by hand.

The head and every tail cluster are cross-entropies on a linear layer, so
each is one call of :class:`LinearCrossentropy`'s kernel (the C++ chunk loop
with SciPy's BLAS, float64 row statistics, no (N, V) logits, the same bits for
every thread count); the cluster projections and their backward are two
NumPy matrix products on the cluster's gathered rows. This module checks the
layout, routes the rows and applies the sample weights and reductions (the
rules of ``_passes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from . import _passes
from ._arrays import REDUCTIONS
from ._linear_ce import LinearCrossentropy, _float_matrix
from ._models import Grads, MultiInputLoss
from ._sequence import _integers

#: Rows per block when log_prob / predict make the full distribution: bounds
#: the float64 temporaries to one block's cluster logits.
_ROW_BLOCK = 512


def _checked_cutoffs(cutoffs: Any, n_classes: Any) -> tuple[list[int], int]:
    if isinstance(n_classes, (bool, np.bool_)) or not isinstance(n_classes, (int, np.integer)):
        raise TypeError(f"n_classes must be an integer, got {n_classes!r}")
    n_classes = int(n_classes)
    if isinstance(cutoffs, (str, bytes)) or not isinstance(cutoffs, Sequence) \
            and not isinstance(cutoffs, np.ndarray):
        raise TypeError(f"cutoffs must be a sequence of integers, got {cutoffs!r}")
    values = list(np.asarray(cutoffs).reshape(-1)) if isinstance(cutoffs, np.ndarray) \
        else list(cutoffs)
    if not values:
        raise ValueError("cutoffs must hold at least one value (the shortlist's size)")
    out = []
    for c in values:
        if isinstance(c, (bool, np.bool_)) or not isinstance(
                c, (int, np.integer, float, np.floating)) or float(c) != int(c):
            raise TypeError(f"cutoffs must be integers, got {c!r} in {values}")
        out.append(int(c))
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"cutoffs must be strictly increasing, got {out}")
    if out[0] < 1 or out[-1] > n_classes - 1:
        raise ValueError(f"cutoffs must lie in [1, n_classes - 1] = [1, {n_classes - 1}], "
                         f"got {out}: every cluster needs at least one class")
    return out, n_classes


class AdaptiveLogSoftmax(MultiInputLoss):
    """Grave et al.'s adaptive softmax ("Efficient softmax approximation for
    GPUs", 2017), the loss of PyTorch's ``nn.AdaptiveLogSoftmaxWithLoss`` with
    its weights passed as arrays. The classes are split by ``cutoffs``
    ``c_0 < c_1 < ... < c_{K-1}`` (and ``c_K = n_classes``): the shortlist
    ``[0, c_0)`` and K tail clusters ``[c_{k-1}, c_k)``. The head is a linear
    layer over the shortlist plus one entry per cluster; cluster k is a
    projection ``H -> h_k`` then a linear layer over its classes::

        head  = log_softmax(hidden @ head_weight.T + head_bias)     (N, c_0 + K)
        log p(y) = head[y]                                   for y < c_0
        log p(y) = head[c_0 + k] + log_softmax((hidden @ proj_k.T) @ out_k.T)[y - c_{k-1}]
                                                             for y in cluster k
        loss_i = -log p(y_i)

    Called ``loss(labels, hidden, head_weight, head_bias, tail)`` or, without
    a head bias, ``loss(labels, hidden, head_weight, tail)``: ``labels`` (N,)
    integers in [0, n_classes) (whole-number floats accepted); ``hidden``
    (N, H); ``head_weight`` (c_0 + K, H); ``head_bias`` (c_0 + K,); ``tail``
    a sequence of K pairs ``(proj_k, out_k)``, ``proj_k`` (h_k, H) and
    ``out_k`` (c_k - c_{k-1}, h_k). Every weight is stored as
    ``torch.nn.Linear`` stores it, so PyTorch's ``head.weight``,
    ``head.bias``, ``tail[k][0].weight`` and ``tail[k][1].weight`` go in as
    they are. The weights must have ``hidden``'s dtype (float32 or float64);
    the inputs are never modified. ``backward`` returns one gradient per
    trained input: ``(d_hidden, d_head_weight, d_head_bias, d_tail)``
    (without ``d_head_bias`` when there is no bias), ``d_tail`` a list of K
    pairs ``(d_proj_k, d_out_k)``. A cluster no row of the batch falls in
    gets zero gradients (PyTorch leaves its ``.grad`` at None).

    Reductions: "sum_over_batch_size" (the default) is PyTorch's ``loss``,
    the mean negative log-likelihood; "sum" its sum; "none" the per-row
    ``-log p(y_i)``, i.e. minus PyTorch's ``output``. ``sample_weight`` (N,)
    multiplies each row's loss (Keras's rule: "sum_over_batch_size" still
    divides by N, "mean_with_sample_weight" by the sum of the weights).
    :meth:`log_prob` and :meth:`predict` are PyTorch's methods of the same
    names.

    How it is computed: the head is one cross-entropy on a linear layer whose
    classes are the shortlist and the cluster entries (a row of cluster k has
    the target ``c_0 + k``); each cluster gathers its rows, projects them
    (a NumPy matrix product) and makes a second cross-entropy on a linear
    layer over its classes. Both cross-entropies run the kernel of
    :class:`LinearCrossentropy` (float64 row statistics, no logits array
    kept, tiled single-threaded BLAS calls), whose gradient with respect to
    the projected rows goes back through the projection by two more NumPy
    products. The result is bitwise the same for every ``fl.num_threads``.

    Parameters
    ----------
    n_classes : int
        The number of classes V.
    cutoffs : sequence of int
        Strictly increasing, each in [1, n_classes - 1] (PyTorch's
        ``cutoffs``, without n_classes).
    div_value : float or None
        PyTorch's ``div_value`` (default 4.0): cluster k's projection must
        have ``h_k = int(H // div_value ** (k + 1))`` rows, the sizes PyTorch
        makes. None accepts projections of any width.
    reduction, name
        As above; the name defaults to "adaptive_log_softmax".

    Notes
    -----
    Methods: ``loss(labels, hidden, head_weight, [head_bias,] tail,
    sample_weight=None)`` (= ``forward``), ``backward``, ``forward_backward``
    (the value costs nothing more than the gradients), ``log_prob(hidden,
    head_weight, [head_bias,] tail)`` (N, n_classes) and ``predict(...)``
    (N,) int64. ``gradient_hessian`` raises: every logit is a product of the
    hidden rows and the weights. Only batched inputs ((N, H) hidden) are
    taken, where PyTorch also takes one unbatched (H,) row."""

    _inputs = ("labels", "hidden", "head_weight", "head_bias", "tail")
    _n_targets = 1
    _n_trained = 4
    _default_name = "adaptive_log_softmax"
    has_hessian = False
    _no_hessian_reason = ("each logit is a product of hidden and the weights, so the Hessian "
                          "in them is not diagonal; only gradients are computed.")
    _dask_refusal = "its matrix products couple every row with the whole weight matrices"

    def __init__(self, n_classes: int, cutoffs: Sequence[int], div_value: Optional[float] = 4.0,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.cutoffs, self.n_classes = _checked_cutoffs(cutoffs, n_classes)
        if div_value is not None:
            if isinstance(div_value, (bool, np.bool_)) or not isinstance(
                    div_value, (int, float, np.integer, np.floating)):
                raise TypeError(f"div_value must be a real number or None, got {div_value!r}")
            if not np.isfinite(div_value) or div_value <= 0:
                raise ValueError(f"div_value must be finite and > 0, got {div_value!r}")
            div_value = float(div_value)
        self.div_value = div_value
        self._ce = LinearCrossentropy(ignore_class=None, reduction="none")

    @property
    def shortlist_size(self) -> int:
        return self.cutoffs[0]

    @property
    def n_clusters(self) -> int:
        return len(self.cutoffs)

    # -- inputs -------------------------------------------------------------
    def _split(self, inputs: tuple[Any, ...], sample_weight: Any) -> tuple[tuple[Any, ...], Any]:
        if len(inputs) not in (4, 5):
            raise TypeError("AdaptiveLogSoftmax takes (labels, hidden, head_weight, tail) or "
                            "(labels, hidden, head_weight, head_bias, tail), and sample_weight "
                            f"by keyword; got {len(inputs)} positional arguments")
        if len(inputs) == 4:
            inputs = (*inputs[:3], None, inputs[3])
        return tuple(inputs), sample_weight

    def _deliver(self, grads: Grads, out: Any, args: tuple[Any, ...]) -> Grads:
        if out is not None:
            raise TypeError("AdaptiveLogSoftmax does not take out=: its gradients are "
                            "written by matrix products into arrays of its own")
        return grads

    def _weights(self, hidden_in: Any, head_weight_in: Any, head_bias_in: Any,
                 tail_in: Any) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray],
                                        list[tuple[np.ndarray, np.ndarray]]]:
        hidden = _float_matrix(hidden_in, "hidden", None, 2)
        dtype = hidden.dtype
        h = hidden.shape[1]
        s, k = self.shortlist_size, self.n_clusters
        head_weight = _float_matrix(head_weight_in, "head_weight", dtype, 2)
        if head_weight.shape != (s + k, h):
            raise ValueError(f"head_weight has shape {head_weight.shape}; it must be "
                             f"(shortlist + clusters, H) = ({s} + {k}, {h}) = ({s + k}, {h})")
        head_bias = None
        if head_bias_in is not None:
            head_bias = _float_matrix(head_bias_in, "head_bias", dtype, 1)
            if head_bias.shape != (s + k,):
                raise ValueError(f"head_bias has shape {head_bias.shape}; it must be "
                                 f"({s + k},), one per row of head_weight")
        if isinstance(tail_in, np.ndarray) or not isinstance(tail_in, Sequence):
            raise TypeError("tail must be a sequence of (projection, output weight) pairs, "
                            f"one per cluster; got {type(tail_in).__name__}")
        if len(tail_in) != k:
            raise ValueError(f"tail has {len(tail_in)} pairs but cutoffs {self.cutoffs} make "
                             f"{k} cluster{'s' if k > 1 else ''}")
        bounds = [*self.cutoffs, self.n_classes]
        tail = []
        for i, pair in enumerate(tail_in):
            if isinstance(pair, np.ndarray) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise TypeError(f"tail[{i}] must be a pair (projection, output weight)")
            proj = _float_matrix(pair[0], f"tail[{i}] projection", dtype, 2)
            out = _float_matrix(pair[1], f"tail[{i}] output weight", dtype, 2)
            width = proj.shape[0]
            if proj.shape[1] != h:
                raise ValueError(f"tail[{i}] projection has shape {proj.shape}; it must be "
                                 f"(h_{i}, H) with H = {h}")
            if self.div_value is not None and width != int(h // self.div_value ** (i + 1)):
                raise ValueError(
                    f"tail[{i}] projection has {width} rows; div_value = {self.div_value} "
                    f"makes cluster {i}'s projection H // div_value**{i + 1} = "
                    f"{int(h // self.div_value ** (i + 1))} wide (div_value=None takes any "
                    "width)")
            size = bounds[i + 1] - bounds[i]
            if out.shape != (size, width):
                raise ValueError(f"tail[{i}] output weight has shape {out.shape}; it must be "
                                 f"(classes of cluster {i}, h_{i}) = ({size}, {width})")
            tail.append((proj, out))
        return hidden, head_weight, head_bias, tail

    def _labels(self, labels_in: Any, n: int, hidden_shape: tuple[int, ...]) -> np.ndarray:
        labels = _integers(labels_in, "labels")
        if labels.shape != (n,):
            raise ValueError(f"labels must be (N,) = ({n},), one per row of hidden "
                             f"{hidden_shape}, got shape {labels.shape}")
        bad = (labels < 0) | (labels >= self.n_classes)
        if np.any(bad):
            first = int(np.argmax(bad))
            raise ValueError(f"labels[{first}] = {labels[first]} is out of range: labels must "
                             f"be in [0, n_classes - 1] = [0, {self.n_classes - 1}]")
        return labels

    # -- the pass -----------------------------------------------------------
    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        labels_in, hidden_in, head_weight_in, head_bias_in, tail_in = args
        hidden, head_weight, head_bias, tail = self._weights(hidden_in, head_weight_in,
                                                             head_bias_in, tail_in)
        n = hidden.shape[0]
        dtype = hidden.dtype
        labels = self._labels(labels_in, n, hidden.shape)
        w = _passes.keras_weighting(sample_weight, (n,), dtype, REDUCTIONS[self.reduction])
        if w.broadcast_up:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} must hold one "
                             f"weight per row ({n},)")
        coef = (np.ascontiguousarray(w.coefficients(grad_output, n, dtype), dtype=np.float64)
                if want_grad else None)
        s = self.shortlist_size
        # cluster of each row: -1 for the shortlist, k for [c_k, c_{k+1})
        cluster = np.searchsorted(np.asarray(self.cutoffs), labels, side="right") - 1
        head_target = np.where(cluster < 0, labels, s + cluster)
        per_row = np.zeros(n)
        head_args = (head_target, hidden, head_weight) + (() if head_bias is None
                                                         else (head_bias,))
        if want_grad:
            head_loss, head_grads = self._ce.forward_backward(*head_args, grad_output=coef)
            d_hidden = head_grads[0]
        else:
            head_loss, head_grads = self._ce.forward(*head_args), ()
        per_row += head_loss
        d_tail = []
        bounds = [*self.cutoffs, self.n_classes]
        for k, (proj, out) in enumerate(tail):
            rows = np.flatnonzero(cluster == k)
            if rows.size == 0:
                if want_grad:
                    d_tail.append((np.zeros_like(proj), np.zeros_like(out)))
                continue
            sub = hidden[rows]
            projected = np.ascontiguousarray(sub @ proj.T)
            relative = labels[rows] - bounds[k]
            if coef is not None:
                tail_loss, (d_projected, d_out) = self._ce.forward_backward(
                    relative, projected, out, grad_output=coef[rows])
                d_tail.append((d_projected.T @ sub, d_out))
                d_hidden[rows] += d_projected @ proj
            else:
                tail_loss = self._ce.forward(relative, projected, out)
            per_row[rows] += tail_loss
        value = w.reduce(per_row, dtype) if want_value else None
        if not want_grad:
            return value, (None,) * self._n_trained
        grads: Grads = (d_hidden, head_grads[1]) + \
            (() if head_bias is None else (head_grads[2],)) + (d_tail,)
        return value, grads

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        raise NotImplementedError  # pragma: no cover - has_hessian is False

    # -- the full distribution ----------------------------------------------
    def _model(self, inputs: tuple[Any, ...], what: str) -> tuple[
            np.ndarray, np.ndarray, Optional[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
        if len(inputs) not in (3, 4):
            raise TypeError(f"AdaptiveLogSoftmax.{what} takes (hidden, head_weight, tail) or "
                            f"(hidden, head_weight, head_bias, tail); got {len(inputs)} "
                            "positional arguments")
        hidden, head_weight, head_bias, tail = (
            (*inputs[:2], None, inputs[2]) if len(inputs) == 3 else inputs)
        return self._weights(hidden, head_weight, head_bias, tail)

    def _log_prob_rows(self, hidden: np.ndarray, head_weight: np.ndarray,
                       head_bias: Optional[np.ndarray],
                       tail: list[tuple[np.ndarray, np.ndarray]],
                       out: np.ndarray) -> None:
        """The log-probabilities of every class for the rows of hidden, into
        out (rows, n_classes): the log-softmaxes in float64, in row blocks."""
        s = self.shortlist_size
        bounds = [*self.cutoffs, self.n_classes]
        for start in range(0, hidden.shape[0], _ROW_BLOCK):
            block = hidden[start:start + _ROW_BLOCK]
            z = (block @ head_weight.T).astype(np.float64)
            if head_bias is not None:
                z += head_bias
            z -= z.max(axis=1, keepdims=True)
            z -= np.log(np.exp(z).sum(axis=1, keepdims=True))
            out[start:start + block.shape[0], :s] = z[:, :s]
            for k, (proj, weight) in enumerate(tail):
                c = ((block @ proj.T) @ weight.T).astype(np.float64)
                c -= c.max(axis=1, keepdims=True)
                c -= np.log(np.exp(c).sum(axis=1, keepdims=True))
                c += z[:, s + k:s + k + 1]
                out[start:start + block.shape[0], bounds[k]:bounds[k + 1]] = c

    def log_prob(self, *inputs: Any) -> np.ndarray:
        """The log-probability of every class, (N, n_classes), in hidden's
        dtype: PyTorch's ``AdaptiveLogSoftmaxWithLoss.log_prob``. Called
        ``log_prob(hidden, head_weight, [head_bias,] tail)``."""
        hidden, head_weight, head_bias, tail = self._model(inputs, "log_prob")
        out = np.empty((hidden.shape[0], self.n_classes), hidden.dtype)
        self._log_prob_rows(hidden, head_weight, head_bias, tail, out)
        return out

    def predict(self, *inputs: Any) -> np.ndarray:
        """The most probable class of each row, (N,) int64: PyTorch's
        ``AdaptiveLogSoftmaxWithLoss.predict``, ``argmax(log_prob(...), 1)``.
        A row whose head favours a shortlist class has that class as its
        answer (its probability is at least each cluster's total); only the
        other rows are given the full distribution."""
        hidden, head_weight, head_bias, tail = self._model(inputs, "predict")
        z = hidden @ head_weight.T
        if head_bias is not None:
            z = z + head_bias
        best = np.argmax(z, axis=1) if hidden.shape[0] else np.zeros(0, np.int64)
        rows = np.flatnonzero(best >= self.shortlist_size)
        if rows.size:
            full = np.empty((rows.size, self.n_classes), hidden.dtype)
            self._log_prob_rows(hidden[rows], head_weight, head_bias, tail, full)
            best[rows] = np.argmax(full, axis=1)
        return best.astype(np.int64)


ADAPTIVE_LOSSES: tuple[type[Any], ...] = (AdaptiveLogSoftmax,)

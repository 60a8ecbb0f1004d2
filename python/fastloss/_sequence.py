"""Sequence losses: :class:`CTC`, connectionist temporal classification
(Graves et al., 2006), with PyTorch's ``ctc_loss`` calling convention and
reductions.

The kernel (``losses/sequence.hpp``) runs the alpha-beta recursion in log
space and float64 and checks the lengths and labels; this module checks
shapes and dtypes and applies the sample weights and reductions (the rules of
``_passes``).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _passes
from ._arrays import REDUCTION_NONE, REDUCTION_SUM, REDUCTIONS
from ._models import _MULTI_METHODS, Grads, MultiInputLoss


def _integers(x: Any, what: str) -> np.ndarray:
    """x as a C-contiguous int64 array. Integer dtypes are taken as they are;
    floats only when every entry is a whole number (a TypeError for other
    dtypes, a ValueError naming the first entry that is not whole)."""
    try:
        a = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{what} must be an array of integers: {exc}") from None
    if a.dtype.kind in "iu":
        if a.dtype.kind == "u" and a.size and int(a.max()) >= 2**63:
            raise ValueError(f"{what} holds {int(a.max())}, beyond int64's range")
        return np.ascontiguousarray(a, dtype=np.int64)
    if a.dtype.kind == "f":
        whole = np.isfinite(a) & (a == np.round(a)) & (np.abs(a) < 2.0**62)
        if not np.all(whole):
            first = tuple(int(i) for i in np.argwhere(~whole)[0])
            where = f"[{', '.join(map(str, first))}]" if first else ""
            raise ValueError(f"{what}{where} = {a[first]!r} is not an integer")
        return np.ascontiguousarray(a, dtype=np.int64)
    raise TypeError(f"{what} must contain integers, got dtype {a.dtype}")


def _check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a bool, got {value!r}")
    return bool(value)


class CTC(MultiInputLoss):
    __doc__ = """The connectionist temporal classification loss (Graves et al., 2006),
    with the semantics of PyTorch's ``torch.nn.functional.ctc_loss``::

        loss_n = -log sum_{alignments a of labels[n, :label_lengths[n]]
                            to the first input_lengths[n] frames}
                     prod_t exp(log_probs[t, n, a_t])

    where an alignment is a path of one class per frame that becomes the
    label once repeated classes are merged and blanks dropped (so two equal
    consecutive labels need a blank between them). The gradient is the true
    derivative with respect to ``log_probs``::

        dloss_n/dlog_probs[t, n, c] = -gamma_t(c),

    gamma_t(c) the posterior probability that frame t emits class c (zero for
    frames t >= input_lengths[n]). PyTorch's ``ctc_loss`` backward returns
    ``exp(log_probs) - gamma`` instead, which is the gradient with respect to
    the logits of a log-softmax that it assumes produced ``log_probs``
    (PyTorch issue 52241); fastloss returns that one with
    ``from_logits=True``, where ``log_probs`` holds unnormalised logits, a
    log-softmax over the classes is fused in and the gradient is
    ``softmax(logits) - gamma``.

    Called ``loss(labels, log_probs, input_lengths, label_lengths)``:

    * ``labels`` (N, S): integer labels, padded; row n's first
      ``label_lengths[n]`` entries are its label, each in [0, C) and not the
      blank (the padding is never read); whole-number floats are accepted;
    * ``log_probs`` (T, N, C): log-probabilities (``log_softmax`` output),
      or logits with ``from_logits=True``; float32 or float64 (other real
      dtypes are converted; a non-contiguous array is copied);
    * ``input_lengths``, ``label_lengths`` (N,) integers (a scalar is
      broadcast), ``0 <= input_lengths <= T`` and ``0 <= label_lengths <= S``.

    ``backward`` returns ``(grad_log_probs,)``, of the shape and dtype of
    ``log_probs``. The recursion and every sum run in float64 in log space.
    The targets-first order of every multi-input loss, ``(labels,
    input_lengths, label_lengths, log_probs)``, is accepted too (``log_probs``
    is the one 3-D input, so the two orders cannot be confused): sums of
    losses (``0.5 * fl.CTC() + ...``) and the autodiff adapters
    (``fastloss.torch``, ``fastloss.jax``) are called that way.

    Reductions follow PyTorch: "sum_over_batch_size" (also "mean") is
    PyTorch's ``"mean"``: each sample's loss divided by ``max(label_length,
    1)``, then the mean over the batch; "sum" and "none" are PyTorch's (the
    losses not divided by the label lengths). ``sample_weight`` (N,)
    multiplies each sample's loss as in Keras ("sum_over_batch_size" still
    divides by N, "mean_with_sample_weight" by the sum of the weights, both
    on the length-normalised losses). ``optax.ctc_loss`` (logits (N, T, C)
    and paddings) gives the same per-sample values as "none" with
    ``from_logits=True``.

    A label that cannot be aligned to its frames (it needs one frame per
    label plus one per pair of equal consecutive labels) has probability 0:
    its loss is +inf and, as in PyTorch, its gradient NaN over its frames;
    with ``zero_infinity=True`` both are 0 (PyTorch's ``zero_infinity``). An
    empty label is the all-blank path (loss 0 with no frames). NaN inputs
    give NaN.

    Keras's ``keras.losses.CTC`` is the same loss with another calling
    convention: ``y_pred`` (N, T, C) logits with every input length T, blank
    0, the label lengths counted as the non-zero entries of ``y_true``, and
    no division by the label length. Its per-sample losses are
    ``CTC(from_logits=True, reduction="none")(y_true, y_pred.transpose(1, 0,
    2), T, (y_true != 0).sum(1))`` (the gradient transposed back), and its
    default reduction, their mean, is this call with ``reduction="sum"``
    divided by N (fastloss's "sum_over_batch_size" divides each loss by its
    label length first, as PyTorch's "mean" does).

    Parameters
    ----------
    blank : int
        The blank class (PyTorch's default 0).
    zero_infinity : bool
        Give impossible alignments loss 0 and gradient 0 (PyTorch's).
    from_logits : bool
        ``log_probs`` holds logits: a log-softmax over the last axis is
        fused in and the gradient is with respect to the logits.
    reduction, name
        As above; the name defaults to "ctc".

    Notes
    -----
    """ + _MULTI_METHODS + """
    ``gradient_hessian`` raises: the loss couples every frame's scores through
    the sum over alignments, so its Hessian is not diagonal."""

    # The public order is PyTorch's (labels, log_probs, input_lengths,
    # label_lengths); inside, and in sums of losses, the targets come first and
    # the trained input last, as for every other multi-input loss.
    _public = ("labels", "log_probs", "input_lengths", "label_lengths")
    _inputs = ("labels", "input_lengths", "label_lengths", "log_probs")
    _n_targets = 3
    _n_trained = 1
    _default_name = "ctc"
    has_hessian = False
    _no_hessian_reason = ("the CTC loss couples all the frames' scores of a sample through "
                          "its sum over alignments, so its Hessian has no diagonal form that "
                          "boosting libraries could use; only gradients are computed.")
    _dask_refusal = "its sum over alignments couples every frame of a sample"

    def __init__(self, blank: int = 0, zero_infinity: bool = False, from_logits: bool = False,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if isinstance(blank, (bool, np.bool_)) or not isinstance(blank, (int, np.integer)):
            raise TypeError(f"blank must be an integer, got {blank!r}")
        if blank < 0:
            raise ValueError(f"blank must be >= 0 (a class index), got {blank}")
        self.blank = int(blank)
        self.zero_infinity = _check_bool(zero_infinity, "zero_infinity")
        self.from_logits = _check_bool(from_logits, "from_logits")

    def _split(self, inputs: tuple[Any, ...], sample_weight: Any) -> tuple[tuple[Any, ...], Any]:
        if len(inputs) == 5 and sample_weight is None:
            sample_weight = inputs[4]
            inputs = tuple(inputs[:4])
        if len(inputs) != 4:
            raise TypeError(f"CTC takes 4 inputs ({', '.join(self._public)}) and an optional "
                            f"sample_weight, got {len(inputs)} positional arguments")
        labels, second, third, fourth = inputs
        # log_probs is the one 3-D input: the targets-first order of sums of
        # losses and of the autodiff adapters is told apart from PyTorch's
        if np.ndim(fourth) == 3 and np.ndim(second) != 3:
            return (labels, second, third, fourth), sample_weight
        return (labels, third, fourth, second), sample_weight

    def _prepare(self, args: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
        """(log_probs (T, N, C) contiguous, labels (N, S), input_lengths (N,),
        label_lengths (N,)), the last three int64."""
        what = "log_probs (logits)" if self.from_logits else "log_probs"
        x = _arrays.as_float(args[3], "log_probs")
        if x.ndim != 3:
            raise ValueError(f"{what} must be (T, N, C) (frames, batch, classes), got shape "
                             f"{x.shape}")
        t_max, n, c = x.shape
        labels = _integers(args[0], "labels")
        if labels.ndim != 2 or labels.shape[0] != n:
            raise ValueError(f"labels must be (N, S) = ({n}, max label length) for {what} of "
                             f"shape {x.shape}, got shape {labels.shape}")
        if self.blank >= c:
            raise ValueError(f"blank = {self.blank} is not a class of {what}, which has C = {c}")
        lengths = []
        for k, name in ((1, "input_lengths"), (2, "label_lengths")):
            a = _integers(args[k], name)
            if a.ndim > 1 or (a.ndim == 1 and a.shape[0] != n):
                raise ValueError(f"{name} must be (N,) = ({n},) (one per sample), got shape "
                                 f"{a.shape}")
            lengths.append(np.ascontiguousarray(np.broadcast_to(a, (n,))))
        return np.ascontiguousarray(x), labels, lengths[0], lengths[1]

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        x, labels, input_lengths, label_lengths = self._prepare(args)
        n = x.shape[1]
        reduction = REDUCTIONS[self.reduction]
        w = _passes.keras_weighting(sample_weight, (n,), x.dtype, reduction)
        if w.broadcast_up:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} must hold one "
                             f"weight per sample ({n},)")
        # PyTorch's mean divides each loss by its label length first
        by_length = (1.0 / np.maximum(label_lengths, 1).astype(np.float64)
                     if w.reduction not in (REDUCTION_NONE, REDUCTION_SUM) else None)
        per_sample = np.empty(n) if want_value else None
        grad = np.empty_like(x) if want_grad else None
        coef = None
        if want_grad:
            coef = w.coefficients(grad_output, n, x.dtype)
            if by_length is not None:
                coef = coef * by_length
            coef = np.ascontiguousarray(coef, dtype=np.float64)
        _core.ctc(x, labels, input_lengths, label_lengths, self.blank, self.from_logits,
                  self.zero_infinity, per_sample, grad, coef)
        value = None
        if per_sample is not None:
            value = w.reduce(per_sample if by_length is None else per_sample * by_length,
                             x.dtype)
        return value, (grad,)

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        raise NotImplementedError  # pragma: no cover - has_hessian is False


SEQUENCE_LOSSES: tuple[type[Any], ...] = (CTC,)

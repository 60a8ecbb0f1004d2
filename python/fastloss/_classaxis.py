"""Class-axis losses: the per-sample loss reduces over a class (feature) axis,
`axis` (the last by default), so the elements of one row depend on each other:
softmax cross-entropy, KL divergence, cosine similarity, entropy, ...

Each class picks a compiled kernel from ``_core`` (one C++ struct each, in
``losses/classaxis.hpp``); the row math lives there and nowhere else. Any axis
works, a middle one included: rows are read in place with the axis's stride,
never transposed (the copy rules of ``_arrays`` apply to the inputs).
"""

from __future__ import annotations

import math
import os
import sys
import types
import warnings
from typing import Any, ClassVar, NamedTuple, Optional, Union

import numpy as np

from . import _arrays, _core, _passes
from ._base import Loss, document


class _Rows(NamedTuple):
    """Inputs of one call as the kernels read them."""

    y_true3: Optional[np.ndarray]  # dense targets (outer, classes, inner), or None
    labels: Optional[np.ndarray]  # int64 [samples] class ids, -1 = ignored, or None
    y_pred3: np.ndarray
    dtype: np.dtype
    pred_shape: tuple[int, ...]  # the gradient's shape: y_pred's as given
    sample_shape: tuple[int, ...]  # per-sample losses
    shape3: tuple[int, int, int]
    valid: Optional[np.ndarray]  # bool [samples]: rows not ignored (ignore_class only)
    label_weight: Optional[np.ndarray]  # float64 [samples]: class weight of each row's label


def _check_axis(axis: Any) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    return int(axis)


def _split(shape: tuple[int, ...], axis: int) -> tuple[int, tuple[int, int, int], tuple[int, ...]]:
    nd = len(shape)
    if not -nd <= axis < nd:
        raise ValueError(f"axis {axis} is out of range for y_pred of rank {nd}")
    ax = axis % nd
    shape3 = (math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1 :]))
    return ax, shape3, tuple(shape[:ax] + shape[ax + 1 :])


def _index(flat: int, shape: tuple[int, ...]) -> Union[int, tuple[int, ...]]:
    """A flat position as the index a user would type into an array of `shape`."""
    if len(shape) <= 1:
        return flat
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def class_labels(y_true: Any, classes: int, ignore_class: Optional[int],
                 what: str = "y_true") -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Integer class ids from any integer dtype or integral floats, each checked
    against [0, classes) except those equal to `ignore_class`. Returns the ids
    as int64 (ignored ones as -1) and the mask of rows that count (None
    without ignore_class). Errors name the first bad label and its index.

    The ids are a private copy, taken before they are checked: the kernels
    index y_pred, the gradient and the class weights with them while the GIL is
    released, and another thread may be rewriting the caller's buffer
    meanwhile (a data loader refilling a batch). What was checked is what is
    used; the kernel checks each label where it uses it as well
    (detail/rows.hpp), for its C++ callers."""
    try:
        lab = np.array(y_true, copy=True)
    except Exception as exc:
        raise TypeError(f"{what} must be an array of integer class ids: {exc}") from None
    kind = lab.dtype.kind
    if kind == "b":
        lab = lab.astype(np.int64)
    elif kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(lab) | (lab != np.trunc(lab))
        if bad.any():
            at = int(np.argmax(bad))
            raise ValueError(f"{what}: label {lab.reshape(-1)[at].item()!r} at index "
                             f"{_index(at, lab.shape)} is not an integer class id")
    elif kind not in "iu":
        raise TypeError(f"{what} must contain integer class ids, got dtype {lab.dtype}")
    valid = None if ignore_class is None else lab != ignore_class
    # min/max first: no mask the size of the labels unless one is out of range
    in_range = lab.size == 0 or (lab.min() >= 0 and lab.max() < classes)
    bad = None if in_range else (lab < 0) | (lab >= classes)
    if bad is not None and valid is not None:
        bad &= valid
    if bad is not None and bad.any():
        at = int(np.argmax(bad))
        raise ValueError(f"{what}: label {lab.reshape(-1)[at].item()!r} at index "
                         f"{_index(at, lab.shape)} is outside [0, {classes}) "
                         f"(y_pred has {classes} classes)")
    ids = lab.astype(np.int64, copy=False)
    if valid is not None:
        ids = np.where(valid, ids, np.int64(-1))
    return ids, valid


def _caller_stacklevel() -> int:
    """The stacklevel of the first frame outside this package (the user's call)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame: Optional[types.FrameType] = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _single_class_warning(name: str, shape: tuple[int, ...]) -> None:
    # Keras warns (SyntaxWarning) when there is a single class; so do we.
    warnings.warn(
        f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with "
        f"num_classes > 1. Received: y_pred.shape={shape}. Consider using "
        "'binary_crossentropy' if you only have 2 classes.",
        SyntaxWarning,
        stacklevel=_caller_stacklevel(),
    )


class ClassAxisLoss(Loss):
    """A loss whose per-sample value reduces over a class (feature) axis."""

    _kernel_name: ClassVar[str] = ""
    #: What the kernel reads besides y_pred: "dense" targets, "labels" or "none".
    _input: ClassVar[str] = "dense"
    #: Keras warns for a single class (categorical cross-entropies).
    _warn_single_class: ClassVar[bool] = False

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, axis: int = -1) -> None:
        super().__init__(reduction=reduction, name=name)
        self.axis = _check_axis(axis)
        self._kernel = self._make_kernel()
        self.has_hessian = bool(self._kernel.has_hessian)

    def _make_kernel(self) -> Any:
        return getattr(_core, self._kernel_name)()  # kernels without parameters

    # -- inputs ---------------------------------------------------------------
    def _prepare(self, y_true: Any, y_pred: Any) -> _Rows:
        if self._input == "dense":
            pr = _arrays.prepare_pair(y_true, y_pred, self.axis)
            if not pr.pred_shape:
                raise ValueError("y_pred must have at least one dimension (the class axis)")
            rows = _Rows(pr.y_true3, None, pr.y_pred3, pr.dtype, pr.pred_shape, pr.sample_shape,
                         pr.shape3, None, None)
        else:
            yp = _arrays.as_float(y_pred, "y_pred")
            if yp.ndim == 0:
                raise ValueError("y_pred must have at least one dimension (the class axis)")
            ax, shape3, sample_shape = _split(yp.shape, self.axis)
            labels = valid = None
            if self._input == "labels":
                labels, valid = self._labels(y_true, yp.shape, ax, shape3[1], sample_shape)
            rows = _Rows(None, labels, _arrays.view3(yp, shape3), yp.dtype, yp.shape,
                         sample_shape, shape3, valid, None)
            rows = self._with_label_weights(rows)
        if self._warn_single_class and rows.shape3[1] == 1:
            _single_class_warning(self._default_name, rows.pred_shape)
        return rows

    def _labels(self, y_true: Any, pred_shape: tuple[int, ...], ax: int, classes: int,
                sample_shape: tuple[int, ...]) -> tuple[np.ndarray, Optional[np.ndarray]]:
        ids, valid = class_labels(y_true, classes, getattr(self, "ignore_class", None))
        # Keras: a label array of y_pred's rank keeps a size-1 class axis; one
        # more trailing 1 is squeezed as squeeze_or_expand_to_same_rank does.
        if ids.ndim == len(pred_shape) and ids.shape[ax] == 1:
            ids = np.squeeze(ids, axis=ax)
            valid = None if valid is None else np.squeeze(valid, axis=ax)
        elif ids.ndim == len(pred_shape) + 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
            valid = None if valid is None else valid[..., 0]
        try:
            ids = np.broadcast_to(ids, sample_shape)
        except ValueError:
            raise ValueError(
                f"y_true shape {tuple(np.shape(y_true))} and y_pred shape {tuple(pred_shape)} are "
                f"incompatible: class ids must have (or broadcast to) y_pred's shape without the "
                f"class axis, {sample_shape}"
            ) from None
        flat = np.ascontiguousarray(ids).reshape(-1)
        if valid is not None:
            valid = np.ascontiguousarray(np.broadcast_to(valid, sample_shape)).reshape(-1)
        return flat, valid

    def _with_label_weights(self, rows: _Rows) -> _Rows:
        return rows

    # -- the passes -------------------------------------------------------------
    def _call(self, rows: _Rows) -> _passes.KernelCall:
        """The call as the one pass of _passes runs it; ignored rows and class
        weights reach Keras's weighting as a mask and per-row weights."""
        return _passes.KernelCall(lambda: (rows.y_true3, rows.labels, rows.y_pred3), rows.dtype,
                                  rows.pred_shape, rows.sample_shape, rows.shape3,
                                  empty=rows.shape3[0] * rows.shape3[2] == 0,
                                  names=("y_true", "labels", "y_pred"), valid=rows.valid,
                                  label_weight=rows.label_weight)

    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        return _passes.run(self._kernel, self._call(self._prepare(y_true, y_pred)),
                           sample_weight, self.reduction, want_value=want_value,
                           want_grad=want_grad, grad_output=grad_output, out=out,
                           inputs={"y_true": y_true, "y_pred": y_pred,
                                   "sample_weight": sample_weight})

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        return _passes.gradient_hessian(self._kernel, self._call(self._prepare(y_true, y_pred)),
                                        sample_weight)


def _per_class(value: Any, what: str) -> tuple[float, ...]:
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        a = np.asarray(None)  # ragged: refused below
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{what} must be a real number or a sequence of them, got {value!r}")
    a = a.astype(np.float64)
    if a.ndim > 1:
        raise ValueError(f"{what} must be a scalar or a 1-D sequence, got shape {a.shape}")
    return tuple(float(x) for x in a.reshape(-1))


# ---------------------------------------------------------------------------
# Docstrings are assembled from one entry per loss, so that the shared parts
# (reductions, methods, dtypes, axes) are written once.

_METHODS = """\
Methods: ``loss(y_true, y_pred, sample_weight)`` (= ``forward``), ``backward``,
``forward_backward`` (one fused pass, ``out=`` may be ``y_pred``: the gradient
overwrites the logits) and ``gradient_hessian`` (the gradient and Hessian
diagonal of each per-sample loss, unreduced, times ``sample_weight``).
float32 inputs are computed in float32, float64 in float64; sums over the class
axis and the reduction accumulate in float64. ``axis`` may be any axis, a middle
one included, without a transposed copy of the array (blocks of a few thousand
elements are gathered per thread; wider rows are read with their stride)."""

_AXIS = "axis : int, default -1\n    The class (feature) axis the loss reduces over."
_LOGITS = "from_logits : bool, default False\n    Whether y_pred holds logits."
_SMOOTHING = ("label_smoothing : float, default 0.0\n    In [0, 1]; targets become "
              "t (1 - ls) + ls / C (Keras's categorical smoothing, C the size of the class "
              "axis).")
_MASKED = ("Logits of any size are safe (the softmax is shifted by the row maximum), and "
           "masked classes (logit -inf) whose target is 0 add nothing to the loss and get a "
           "zero gradient.")


def _document(cls: type, summary: str, formula: str, gradient: str, hessian: str,
              params: str = "", notes: str = "", inputs: str = "") -> None:
    header = inputs or ("Per sample (a row along ``axis``; ``t`` = y_true, ``p`` = y_pred, "
                        "``C`` classes)::")
    document(cls, summary, header, formula, gradient, hessian, hessian_note="  (diagonal)",
             params=params, notes=notes, methods=_METHODS)


class CategoricalCrossentropy(ClassAxisLoss):
    _kernel_name = "CategoricalCrossentropy"
    _default_name = "categorical_crossentropy"
    _warn_single_class = True

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _arrays.real_param(label_smoothing, "label_smoothing")
        super().__init__(reduction=reduction, name=name, axis=axis)

    def _make_kernel(self) -> Any:
        return _core.CategoricalCrossentropy(self.from_logits, self.label_smoothing)


_document(CategoricalCrossentropy,
          "Categorical cross-entropy (Keras ``CategoricalCrossentropy``).",
          "-sum_c t_c log(q_c),  q = clip(p / sum(p), 1e-7, 1 - 1e-7); "
          "from logits z: sum_c t_c (logsumexp(z) - z_c)",
          "(-t_k / q_k [q_k not clipped] + sum of t over unclipped classes) / sum(p); "
          "from logits: sum(t) softmax(z)_k - t_k",
          "(t_k / q_k**2 [not clipped] - sum of t over unclipped classes) / sum(p)**2; "
          "from logits: sum(t) s_k (1 - s_k), s = softmax(z) (scikit-learn's "
          "HalfMultinomialLoss convention)",
          params=f"{_LOGITS}\n{_SMOOTHING}\n{_AXIS}",
          notes="The probability path renormalises and clips exactly as Keras does, so the "
                "gradient is zero through clipped entries. " + _MASKED + " A single class "
                "(C = 1) warns, as Keras does. ``fl.get('softmax_cross_entropy_with_logits')`` "
                "is this loss with from_logits=True. Keras smooths with C = the size of the "
                "*last* axis even when ``axis`` is another one; fastloss uses the class axis.")


class SparseCategoricalCrossentropy(ClassAxisLoss):
    _kernel_name = "SparseCategoricalCrossentropy"
    _default_name = "sparse_categorical_crossentropy"
    _input = "labels"

    def __init__(self, from_logits: bool = False, ignore_class: Optional[int] = None,
                 reduction: Optional[str] = "sum_over_batch_size", axis: int = -1,
                 name: Optional[str] = None, *, class_weight: Any = None,
                 label_smoothing: float = 0.0) -> None:
        self.from_logits = bool(from_logits)
        if ignore_class is not None and (isinstance(ignore_class, bool) or
                                         not isinstance(ignore_class, (int, np.integer))):
            raise TypeError(f"ignore_class must be an integer or None, got {ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.class_weight = None if class_weight is None else _per_class(class_weight,
                                                                         "class_weight")
        if class_weight is not None and np.ndim(class_weight) == 0:
            raise TypeError(f"class_weight must be a sequence of one weight per class (or "
                            f"None), got the scalar {class_weight!r}")
        self.label_smoothing = _arrays.real_param(label_smoothing, "label_smoothing")
        super().__init__(reduction=reduction, name=name, axis=axis)

    def _make_kernel(self) -> Any:
        return _core.SparseCategoricalCrossentropy(self.from_logits, self.label_smoothing,
                                                   list(self.class_weight or ()))

    def _with_label_weights(self, rows: _Rows) -> _Rows:
        if self.class_weight is None:
            return rows
        classes = rows.shape3[1]
        if len(self.class_weight) != classes:
            raise ValueError(f"class_weight has {len(self.class_weight)} entries but y_pred has "
                             f"{classes} classes along axis {self.axis}")
        assert rows.labels is not None
        cw = np.asarray(self.class_weight, dtype=np.float64)
        label_weight = np.zeros(rows.labels.shape)
        counted = rows.labels >= 0  # ignored rows (-1) weigh 0, even with no classes at all
        label_weight[counted] = cw[rows.labels[counted]]
        return rows._replace(label_weight=label_weight)


_document(SparseCategoricalCrossentropy,
          "Sparse categorical cross-entropy (Keras ``SparseCategoricalCrossentropy``): "
          "integer class ids instead of one-hot targets.",
          "(1 - e) w_y (-log q_y) + (e / C) sum_c w_c (-log q_c),  y the class id, e the label "
          "smoothing, w the class weights (1 without); q as in CategoricalCrossentropy",
          "that of CategoricalCrossentropy with targets a_c = (1 - e) w_y [c == y] + (e / C) w_c "
          "(from logits: sum(a) softmax(z)_k - a_k)",
          "likewise (from logits: sum(a) s_k (1 - s_k))",
          params=f"{_LOGITS}\nignore_class : int, optional\n    Rows whose label equals it give "
                 "zero loss and zero gradient and are left out of the mean (Keras's rule: "
                 "\"sum_over_batch_size\" divides by the rows that count, "
                 "\"mean_with_sample_weight\" by their weights).\n"
                 f"{_AXIS}\nclass_weight : sequence of float, optional\n    One non-negative "
                 "weight per class, as PyTorch's ``cross_entropy(weight=...)``: each row's loss "
                 "is weighted as above and \"mean_with_sample_weight\" divides by the sum of "
                 "sample_weight * w_y, so that it equals PyTorch's weighted mean.\n"
                 "label_smoothing : float, default 0.0\n    In [0, 1]; PyTorch's formula for "
                 "class-index targets (the same as Keras's smoothing of one-hot targets).",
          notes="Labels may be of any integer dtype, or floats holding integers; each is checked "
                "against [0, C) and the error names the first bad label and its index. A label "
                "array of y_pred's rank with a size-1 class axis is squeezed, as in Keras; "
                "class ids broadcast to y_pred's shape without the class axis. "
                + _MASKED)


class CategoricalFocalCrossentropy(ClassAxisLoss):
    _kernel_name = "CategoricalFocalCrossentropy"
    _default_name = "categorical_focal_crossentropy"
    _warn_single_class = True
    _no_hessian_reason = ("the focal factor couples every class of a row through the "
                          "renormalisation, and its Hessian diagonal is not implemented; use "
                          "CategoricalCrossentropy's (gamma = 0) as a Newton surrogate.")

    def __init__(self, alpha: Any = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        per_class = _per_class(alpha, "alpha")
        if not per_class:
            raise ValueError("alpha must not be empty")
        self.alpha: Union[float, tuple[float, ...]] = (
            per_class[0] if np.ndim(alpha) == 0 else per_class)
        self.gamma = _arrays.real_param(gamma, "gamma")
        self.from_logits = bool(from_logits)
        self.label_smoothing = _arrays.real_param(label_smoothing, "label_smoothing")
        super().__init__(reduction=reduction, name=name, axis=axis)

    def _make_kernel(self) -> Any:
        alpha = [self.alpha] if isinstance(self.alpha, float) else list(self.alpha)
        return _core.CategoricalFocalCrossentropy(alpha, self.gamma, self.from_logits,
                                                  self.label_smoothing)

    def _prepare(self, y_true: Any, y_pred: Any) -> _Rows:
        rows = super()._prepare(y_true, y_pred)
        if not isinstance(self.alpha, float) and len(self.alpha) != rows.shape3[1]:
            raise ValueError(f"alpha has {len(self.alpha)} entries but y_pred has "
                             f"{rows.shape3[1]} classes along axis {self.axis}")
        return rows


_document(CategoricalFocalCrossentropy,
          "Categorical focal cross-entropy (Keras ``CategoricalFocalCrossentropy``, Lin et al.).",
          "sum_c alpha_c (1 - q_c)**gamma (-t_c log q_c),  q = clip(p / sum(p), 1e-7, 1 - 1e-7), "
          "p = y_pred or softmax(y_pred)",
          "(r_k - R) / sum(p), r_c the derivative of the c-th summand in q_c (0 where clipped), "
          "R = sum_c r_c q_c; from logits: q_k (r_k - R)", "",
          params="alpha : float or sequence of float, default 0.25\n    Weight of every class, "
                 "or one weight per class.\ngamma : float, default 2.0\n    Focusing exponent, "
                 f">= 0 (0 is the alpha-weighted cross-entropy).\n{_LOGITS}\n{_SMOOTHING}\n{_AXIS}",
          notes="Keras applies softmax and then renormalises and clips; fastloss does the same "
                "(the renormalisation of a softmax is exact, so it is not repeated). A per-class "
                "alpha runs along ``axis``. A single class warns, as Keras does.")


class KLDivergence(ClassAxisLoss):
    _kernel_name = "KLDivergence"
    _default_name = "kl_divergence"

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, axis: int = -1) -> None:
        super().__init__(reduction=reduction, name=name, axis=axis)


_document(KLDivergence, "Kullback-Leibler divergence (Keras ``KLDivergence``).",
          "sum_c tc log(tc / pc),  tc = clip(t, 1e-7, 1), pc = clip(p, 1e-7, 1)",
          "-tc / pc where 1e-7 <= p <= 1, else 0", "tc / pc**2 where 1e-7 <= p <= 1, else 0",
          params=_AXIS,
          notes="Both inputs are clipped as Keras clips them, so a zero target contributes "
                "1e-7 log(1e-7 / pc) rather than 0. Keras sums over the last axis; ``axis`` "
                "picks another.")


class CategoricalHinge(ClassAxisLoss):
    _kernel_name = "CategoricalHinge"
    _default_name = "categorical_hinge"
    _no_hessian_reason = ("the loss is piecewise linear in y_pred: its second derivative is "
                          "zero wherever it exists.")

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, axis: int = -1) -> None:
        super().__init__(reduction=reduction, name=name, axis=axis)


_document(CategoricalHinge, "Categorical hinge loss (Keras ``CategoricalHinge``).",
          "max(neg - pos + 1, 0),  pos = sum_c t_c p_c, neg = max_c (1 - t_c) p_c",
          "-t_k + (1 - t_k) [k == j] where the loss is > 0 (j the first index of the "
          "maximum in neg), else 0", "", params=_AXIS,
          notes="Where the maximum in neg is tied, the gradient goes to its first index; at "
                "a loss of exactly 0 the gradient is 0 (both are subgradients).")


class CosineSimilarity(ClassAxisLoss):
    _kernel_name = "CosineSimilarity"
    _default_name = "cosine_similarity"

    def __init__(self, axis: int = -1, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name, axis=axis)


_document(CosineSimilarity,
          "Negative cosine similarity (Keras ``CosineSimilarity``): -1 for vectors pointing "
          "the same way, 0 for orthogonal ones, +1 for opposite ones.",
          "-sum_c (t_c / nt) (p_c / np),  nt = max(|t|, 1e-7), np = max(|p|, 1e-7)",
          "-u_k / |p| + (u.p) p_k / |p|**3,  u = t / nt; -u_k * 1e7 where |p| <= 1e-7",
          "2 u_k p_k / |p|**3 + (u.p) / |p|**3 - 3 (u.p) p_k**2 / |p|**5; 0 where |p| <= 1e-7",
          params=_AXIS,
          notes="The norms are floored at 1e-7 as Keras's normalize does, so a zero vector "
                "gives a loss of 0, not NaN. At a zero y_pred the gradient is the derivative "
                "of that floored form, -u * 1e7 (finite; autograd of Keras gives NaN there).")


class Entropy(ClassAxisLoss):
    _kernel_name = "Entropy"
    _default_name = "entropy"
    _input = "none"
    #: The inputs of the four methods (the per-sample function follows them).
    _inputs: ClassVar[tuple[str, ...]] = ("y_pred",)

    def __init__(self, from_logits: bool = False, axis: int = -1,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.from_logits = bool(from_logits)
        super().__init__(reduction=reduction, name=name, axis=axis)

    def _make_kernel(self) -> Any:
        return _core.Entropy(self.from_logits)

    # One input: the four methods take y_pred alone, and backward returns one
    # gradient per trained input (API.md §1), here (grad,).
    def __call__(self, y_pred: Any, sample_weight: Any = None) -> Any:  # type: ignore[override]
        """Same as :meth:`forward`."""
        return self.forward(y_pred, sample_weight)

    def forward(self, y_pred: Any, sample_weight: Any = None) -> Any:  # type: ignore[override]
        """The entropy of each row, times ``sample_weight``, reduced."""
        value, _ = self._run(None, y_pred, sample_weight, want_value=True, want_grad=False)
        return value

    def backward(self, y_pred: Any, sample_weight: Any = None,  # type: ignore[override]
                 grad_output: Any = 1.0,
                 out: Optional[np.ndarray] = None) -> tuple[np.ndarray]:
        """``(d(forward)/d(y_pred) * grad_output,)``; ``out`` may be ``y_pred``."""
        _, grad = self._run(None, y_pred, sample_weight, want_value=False, want_grad=True,
                            grad_output=grad_output, out=out)
        return (grad,)

    def forward_backward(self, y_pred: Any,  # type: ignore[override]
                         sample_weight: Any = None, grad_output: Any = 1.0,
                         out: Optional[np.ndarray] = None) -> tuple[Any, tuple[np.ndarray]]:
        """``(forward, (grad,))`` from one fused pass."""
        value, grad = self._run(None, y_pred, sample_weight, want_value=True, want_grad=True,
                                grad_output=grad_output, out=out)
        return value, (grad,)

    def gradient_hessian(self, y_pred: Any,  # type: ignore[override]
                         sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian diagonal of each row's entropy, times ``sample_weight``."""
        return self._gradient_hessian(None, y_pred, sample_weight)


_document(Entropy, "Shannon entropy of each row of probabilities (or of softmax(logits)).",
          "-sum_c p_c log p_c  (0 log 0 = 0)", "-(log p_k + 1); from logits z: "
          "-s_k (log s_k + H), s = softmax(z), H the entropy",
          "-1 / p_k; from logits: -s_k ((1 - 2 s_k)(log s_k + H) + 1 - s_k)",
          params=f"{_LOGITS}\n{_AXIS}",
          inputs="Per sample (a row along ``axis`` of ``p`` = y_pred, the only input)::",
          notes="Called with y_pred alone: ``Entropy()(probs)``; ``backward`` returns "
                "``(grad,)``, one gradient per input (API.md). Probabilities are used as given "
                "(no renormalisation, no clipping): at p = 0 the gradient is +inf and negative "
                "entries give NaN, as NumPy's log does. Minimise it to sharpen predictions, "
                "or subtract it (entropy bonus) to keep them spread.")


class CategoricalZeroOneLoss(ClassAxisLoss):
    _kernel_name = "CategoricalZeroOne"
    _default_name = "categorical_zero_one"
    _no_hessian_reason = ("the 0-1 loss is piecewise constant: its derivatives are zero "
                          "wherever they exist and carry no information.")

    def __init__(self, axis: int = -1, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name, axis=axis)


_document(CategoricalZeroOneLoss,
          "0-1 loss over the class axis: the error rate, 1 - Keras's categorical_accuracy.",
          "0 if argmax(p) == argmax(t) else 1", "0 (the loss is piecewise constant)", "",
          params=_AXIS,
          notes="Ties go to the first index, as NumPy's argmax; a row of y_pred or of y_true "
                "holding a NaN gives NaN. The gradient is identically zero: a metric, not "
                "something to descend on.")


class SparseCategoricalZeroOneLoss(ClassAxisLoss):
    _kernel_name = "SparseCategoricalZeroOne"
    _default_name = "sparse_categorical_zero_one"
    _input = "labels"
    _no_hessian_reason = CategoricalZeroOneLoss._no_hessian_reason

    def __init__(self, ignore_class: Optional[int] = None, axis: int = -1,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        if ignore_class is not None and (isinstance(ignore_class, bool) or
                                         not isinstance(ignore_class, (int, np.integer))):
            raise TypeError(f"ignore_class must be an integer or None, got {ignore_class!r}")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        super().__init__(reduction=reduction, name=name, axis=axis)


_document(SparseCategoricalZeroOneLoss,
          "0-1 loss against integer class ids: the error rate, 1 - Keras's "
          "sparse_categorical_accuracy.",
          "0 if argmax(p) == y else 1", "0 (the loss is piecewise constant)", "",
          params="ignore_class : int, optional\n    Rows with this label count neither as "
                 f"errors nor in the mean (as in SparseCategoricalCrossentropy).\n{_AXIS}",
          notes="Labels are checked as in SparseCategoricalCrossentropy. Ties go to the first "
                "index; a row of y_pred holding a NaN gives NaN. The gradient is identically "
                "zero.")


CLASSAXIS_LOSSES: tuple[type[ClassAxisLoss], ...] = (
    CategoricalCrossentropy, SparseCategoricalCrossentropy, CategoricalFocalCrossentropy,
    KLDivergence, CategoricalHinge, CosineSimilarity, Entropy, CategoricalZeroOneLoss,
    SparseCategoricalZeroOneLoss,
)

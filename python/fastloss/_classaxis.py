"""Class-axis losses: the per-sample loss reduces over a class (feature) axis,
`axis` (the last by default), so the elements of one row depend on each other:
softmax cross-entropy, KL divergence, cosine similarity, entropy, ...

Each class picks a compiled kernel from ``_core`` (one C++ struct each, in
``losses/classaxis.hpp``); the row math lives there and nowhere else. The
classes themselves are made from the structs' declarations by ``_declared``;
this module holds their base, the behaviours their declared parameter kinds
and input give them, and the docstring parts they share. Any axis
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


def _check_axis(axis: Any, axes: bool = False) -> Any:
    """An int axis; with `axes` (the segmentation losses) also a tuple of
    consecutive axes or None (all of them), as Keras's ``axis`` there."""
    if axes and (axis is None or isinstance(axis, (tuple, list))):
        if axis is None:
            return None
        value = tuple(axis)
        if not value or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                            for a in value):
            raise TypeError(f"axis must be an integer, a non-empty tuple of integers or None, "
                            f"got {axis!r}")
        return tuple(int(a) for a in value)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"axis must be an integer{', a tuple of integers or None' if axes else ''}"
                        f", got {axis!r}")
    return int(axis)


def _split(shape: tuple[int, ...], axis: Any) -> tuple[int, tuple[int, int, int], tuple[int, ...]]:
    first, _ = _arrays.reduced_axes(axis, len(shape))
    shape3, sample_shape = _arrays.split_axes(shape, axis)
    return first, shape3, sample_shape


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


def label_sets(y_true: Any, y_pred: Any, axis: int) -> np.ndarray:
    """Rows of target class ids as PyTorch's multilabel_margin_loss takes them
    (y_pred's shape; each row's targets are its entries up to the first -1),
    checked and returned as floats of y_pred's dtype for the kernel: every entry
    before a row's first negative one must be an integer in [0, C); entries
    after it are not read. Errors name the first bad entry and its index."""
    try:
        lab = np.array(y_true, copy=True)  # a private copy: what is checked is used
    except Exception as exc:
        raise TypeError(f"y_true must be an array of integer class ids: {exc}") from None
    if lab.dtype.kind == "b" or lab.dtype.kind not in "iuf":
        raise TypeError(f"y_true must contain integer class ids (the targets up to the "
                        f"first -1), got dtype {lab.dtype}")
    yp = _arrays.as_float(y_pred, "y_pred")  # a TypeError naming y_pred if not numeric
    pred_shape = yp.shape
    given = lab
    try:  # a row of targets may be shared (broadcast) by several samples
        lab = np.broadcast_to(lab, pred_shape)
    except ValueError:
        raise ValueError(f"y_true shape {lab.shape} and y_pred shape {pred_shape} are "
                         f"incompatible: the rows of target class ids have (or broadcast "
                         f"to) y_pred's shape") from None
    if lab.ndim == 0:
        raise ValueError("y_pred must have at least one dimension (the class axis)")
    ax = _check_axis(axis)
    if not -lab.ndim <= ax < lab.ndim:
        raise ValueError(f"axis {ax} is out of range for y_pred of rank {lab.ndim}")
    rows = np.moveaxis(lab, ax, -1)
    classes = rows.shape[-1]
    with np.errstate(invalid="ignore"):
        stop = np.cumsum(rows < 0, axis=-1) > 0  # at or after the first negative entry
        bad = ~stop & ((rows >= classes) | (rows != np.trunc(rows)) | (rows != rows))
    if bad.any():
        at_moved = np.unravel_index(int(np.argmax(bad)), rows.shape)
        at = list(at_moved[:-1])
        at.insert(ax % lab.ndim, at_moved[-1])
        value = lab[tuple(at)].item()
        where = tuple(int(i) for i in at) if lab.ndim > 1 else int(at[0])
        raise ValueError(f"y_true: class id {value!r} at index {where} is not an integer "
                         f"in [0, {classes}) (y_pred has {classes} classes; a row's targets "
                         f"end at its first -1)")
    dtype = yp.dtype
    return np.broadcast_to(given.astype(dtype, copy=False), pred_shape)


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
    #: The declared "per_class" parameter of a loss of labels (class_weight):
    #: each row weighs its label's value, in the loss and the mean.
    _label_weight_param: ClassVar[Optional[str]] = None
    #: The declared "ignored_label" parameter (ignore_class): rows with that
    #: label count for nothing.
    _ignored_label_param: ClassVar[Optional[str]] = None
    #: The declared "float_or_per_class" parameters (focal alpha): one value per
    #: class must match the classes along axis.
    _per_class_params: ClassVar[tuple[str, ...]] = ()
    #: Whether ``axis`` may also be consecutive axes or None (all axes), as
    #: Keras's segmentation losses take it (the declared axis "axes").
    _axes: ClassVar[bool] = False
    #: What dense targets hold: "" (real or soft targets) or "label_sets" (rows
    #: of class ids, the targets up to the first -1: PyTorch's
    #: multilabel_margin_loss).
    _targets: ClassVar[str] = ""
    #: "sum_over_batch_size" divides by the class weights of the rows that
    #: count (PyTorch's nll_loss mean) instead of their number.
    _class_weighted_mean: ClassVar[bool] = False

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, axis: Any = -1) -> None:
        super().__init__(reduction=reduction, name=name)
        self.axis = _check_axis(axis, self._axes)
        self._kernel = self._make_kernel()
        # per instance: MultiMargin has a Hessian with p=2 only
        self.has_hessian = bool(self._kernel.hessian_defined)

    def _make_kernel(self) -> Any:
        return getattr(_core, self._kernel_name)()  # kernels without parameters

    # -- inputs ---------------------------------------------------------------
    def _prepare(self, y_true: Any, y_pred: Any) -> _Rows:
        if self._input == "dense":
            if self._targets == "label_sets":
                y_true = label_sets(y_true, y_pred, self.axis)
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
        for param in self._per_class_params:
            value = getattr(self, param)
            if not isinstance(value, float) and len(value) != rows.shape3[1]:
                raise ValueError(f"{param} has {len(value)} entries but y_pred has "
                                 f"{rows.shape3[1]} classes along axis {self.axis}")
        return rows

    def _labels(self, y_true: Any, pred_shape: tuple[int, ...], ax: int, classes: int,
                sample_shape: tuple[int, ...]) -> tuple[np.ndarray, Optional[np.ndarray]]:
        ignored = None if self._ignored_label_param is None else getattr(
            self, self._ignored_label_param)
        ids, valid = class_labels(y_true, classes, ignored)
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
        weights = None if self._label_weight_param is None else getattr(
            self, self._label_weight_param)
        if weights is None:
            return rows
        classes = rows.shape3[1]
        if len(weights) != classes:
            raise ValueError(f"{self._label_weight_param} has {len(weights)} entries but "
                             f"y_pred has {classes} classes along axis {self.axis}")
        assert rows.labels is not None
        cw = np.asarray(weights, dtype=np.float64)
        label_weight = np.zeros(rows.labels.shape)
        counted = rows.labels >= 0  # ignored rows (-1) weigh 0, even with no classes at all
        label_weight[counted] = cw[rows.labels[counted]]
        return rows._replace(label_weight=label_weight)

    # -- the passes -------------------------------------------------------------
    def _call(self, rows: _Rows) -> _passes.KernelCall:
        """The call as the one pass of _passes runs it; ignored rows and class
        weights reach Keras's weighting as a mask and per-row weights."""
        return _passes.KernelCall(lambda: (rows.y_true3, rows.labels, rows.y_pred3), rows.dtype,
                                  rows.pred_shape, rows.sample_shape, rows.shape3,
                                  empty=rows.shape3[0] * rows.shape3[2] == 0,
                                  names=("y_true", "labels", "y_pred"), valid=rows.valid,
                                  label_weight=rows.label_weight,
                                  class_weighted_mean=self._class_weighted_mean)

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


# -- the declared parameter kinds (losses/info.hpp ParamKind) -----------------------
# The classes' constructors (made by _declared) keep each parameter through one of
# these, by its declared type.

def per_class_param(value: Any, what: str) -> Optional[tuple[float, ...]]:
    """A "per_class" parameter (class_weight): None, or one value per class."""
    if value is None:
        return None
    per_class = _per_class(value, what)
    if np.ndim(value) == 0:
        raise TypeError(f"{what} must be a sequence of one weight per class (or "
                        f"None), got the scalar {value!r}")
    return per_class


def float_or_per_class_param(value: Any, what: str) -> Union[float, tuple[float, ...]]:
    """A "float_or_per_class" parameter (focal alpha): one value for every class
    (kept as a float), or one per class (a tuple)."""
    per_class = _per_class(value, what)
    if not per_class:
        raise ValueError(f"{what} must not be empty")
    return per_class[0] if np.ndim(value) == 0 else per_class


def ignored_label_param(value: Any, what: str) -> Optional[int]:
    """An "ignored_label" parameter (ignore_class): None or an int label."""
    if value is not None and (isinstance(value, bool) or
                              not isinstance(value, (int, np.integer))):
        raise TypeError(f"{what} must be an integer or None, got {value!r}")
    return None if value is None else int(value)


def ignored_value_param(value: Any, what: str) -> Optional[float]:
    """An "ignored_value" parameter: None, or the finite number that marks the
    elements of y_true to leave out (a segmentation loss's masked pixels)."""
    if value is None:
        return None
    number = _arrays.real_param(value, what)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite (or None), got {value!r}")
    return number


class OneInputLoss(ClassAxisLoss):
    """A class-axis loss of y_pred alone (the declared input "none": Entropy)."""

    _input = "none"
    #: The inputs of the four methods (the per-sample function follows them).
    _inputs: ClassVar[tuple[str, ...]] = ("y_pred",)

    # One input: the four methods take y_pred alone, and backward returns one
    # gradient per trained input, as the multi-input losses do, here (grad,).
    def __call__(self, y_pred: Any, sample_weight: Any = None) -> Any:  # type: ignore[override]
        """Same as :meth:`forward`."""
        return self.forward(y_pred, sample_weight)

    def forward(self, y_pred: Any, sample_weight: Any = None) -> Any:  # type: ignore[override]
        """The entropy of each row, times ``sample_weight``, reduced."""
        value, _ = self._pass(None, y_pred, sample_weight, want_value=True, want_grad=False)
        return value

    def backward(self, y_pred: Any, sample_weight: Any = None,  # type: ignore[override]
                 grad_output: Any = 1.0,
                 out: Optional[np.ndarray] = None) -> tuple[np.ndarray]:
        """``(d(forward)/d(y_pred) * grad_output,)``; ``out`` may be ``y_pred``."""
        _, grad = self._pass(None, y_pred, sample_weight, want_value=False, want_grad=True,
                             grad_output=grad_output, out=out)
        return (grad,)

    def forward_backward(self, y_pred: Any,  # type: ignore[override]
                         sample_weight: Any = None, grad_output: Any = 1.0,
                         out: Optional[np.ndarray] = None) -> tuple[Any, tuple[np.ndarray]]:
        """``(forward, (grad,))`` from one fused pass."""
        value, grad = self._pass(None, y_pred, sample_weight, want_value=True, want_grad=True,
                                 grad_output=grad_output, out=out)
        return value, (grad,)

    def gradient_hessian(self, y_pred: Any,  # type: ignore[override]
                         sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian diagonal of each row's entropy, times ``sample_weight``."""
        return self._hessians(None, y_pred, sample_weight)


# ---------------------------------------------------------------------------
# Docstrings are assembled by _declared from each loss's declaration and these
# parts every class-axis loss shares (reductions, methods, dtypes, axes).

METHODS = """\
Methods: ``loss(y_true, y_pred, sample_weight)`` (= ``forward``), ``backward``,
``forward_backward`` (one fused pass, ``out=`` may be ``y_pred``: the gradient
overwrites the logits) and ``gradient_hessian`` (the gradient and Hessian
diagonal of each per-sample loss, unreduced, times ``sample_weight``).
float32 inputs are computed in float32, float64 in float64; sums over the class
axis and the reduction accumulate in float64. ``axis`` may be any axis, a middle
one included, without a transposed copy of the array (blocks of a few thousand
elements are gathered per thread; wider rows are read with their stride)."""

AXIS_DOC = "axis : int, default -1\n    The class (feature) axis the loss reduces over."
AXES_DOC = ("axis : int, tuple of int or None, default None\n    The axis, or consecutive axes, "
            "the loss reduces over; None reduces over every axis, so that the whole array "
            "gives one value (Keras's default).")

#: The docstring's header line by the declared input kind.
HEADERS = {
    "dense": "Per sample (a row along ``axis``; ``t`` = y_true, ``p`` = y_pred, ``C`` classes)::",
    "labels": "Per sample (a row along ``axis``; ``t`` = y_true, ``p`` = y_pred, ``C`` classes)::",
    "none": "Per sample (a row along ``axis`` of ``p`` = y_pred, the only input)::",
}


def document_rows(cls: type, summary: str, formula: str, gradient: str, hessian: str,
                  params: str, notes: str, input_kind: str) -> None:
    document(cls, summary, HEADERS[input_kind], formula, gradient, hessian,
             hessian_note="  (diagonal)", params=params, notes=notes, methods=METHODS)


class MulticlassGeneralizedDice(Loss):
    """optax's ``multiclass_generalized_dice_loss`` (Sudre et al. 2017, the
    generalised Dice overlap): a Dice loss per sample and class, weighted by the
    inverse squared class volume of the whole batch::

        p = softmax(y_pred) over the last (class) axis   (sigmoid for one class)
        I, P, T = sum over the spatial axes of p * t, p, t      (per sample b, class c)
        dice_bc = 1 - (I + smooth) / ((P + T) / 2 + smooth)
        f_c = sum of t over the batch and the spatial axes
        w_c = 1 / (f_c**2 + 1e-7), normalised so that sum_c w_c = C
        loss_b = mean over the classes c of w_c * dice_bc

    Inputs are ``(B, ..., C)``: a batch, any spatial axes, the classes last
    (``(B, C)`` has no spatial axis: each sample's sums are its own values),
    copied when they are not C-contiguous. The
    mean over the batch ("sum_over_batch_size", the default) is optax's value;
    ``reduction="none"`` gives ``loss_b`` and ``sample_weight`` weighs samples as
    Keras does. The weights depend on the targets only, so the gradient is that
    of the weighted Dice terms through the softmax; as in optax they couple the
    samples of a call (one call is one batch).

    Parameters
    ----------
    smooth : float, default 1.0
        Added to the numerator and the denominator of every Dice ratio (optax's
        smooth), >= 0.
    apply_softmax : bool, default True
        Whether y_pred holds logits (softmax over the classes, a sigmoid for a
        single class) rather than probabilities. With False, as optax, each
        pixel's probabilities must sum to 1 (a ValueError names the range found).
    ignore_background : bool, default False
        Leave class 0 out of the mean (it still counts in the weights'
        normalisation, as in optax).
    reduction, name
        Keras's reductions of the per-sample losses, and the name.

    Notes
    -----
    Float32 and float64 inputs; the sums, the softmax and the gradient are
    computed in float64 (optax computes the weights in the input precision).
    There is no Hessian: the Dice ratios couple every pixel of a class, so the
    diagonal of the Hessian is not the curvature a Newton step could use and is
    not provided."""

    _default_name = "multiclass_generalized_dice_loss"
    has_hessian = False
    _no_hessian_reason = ("the Dice ratios couple every pixel of a sample's class through their "
                          "sums (and the softmax couples the classes), so no per-element "
                          "Hessian diagonal is provided.")
    _dask_refusal = ("its class weights come from the targets of the whole batch, so its value "
                     "is not a sum over blocks")

    def __init__(self, smooth: float = 1.0, apply_softmax: bool = True,
                 ignore_background: bool = False,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        self.smooth = _arrays.real_param(smooth, "smooth")
        if not (math.isfinite(self.smooth) and self.smooth >= 0):
            raise ValueError(f"MulticlassGeneralizedDice: smooth must be finite and >= 0, got "
                             f"{smooth!r}")
        for what, v in (("apply_softmax", apply_softmax), ("ignore_background", ignore_background)):
            if not isinstance(v, (bool, np.bool_)):
                raise TypeError(f"MulticlassGeneralizedDice: {what} must be a bool, got {v!r}")
        self.apply_softmax = bool(apply_softmax)
        self.ignore_background = bool(ignore_background)

    def _pair(self, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, int, int, int]:
        z = _arrays.as_float(y_pred, "y_pred")
        t = _arrays.as_float(y_true, "y_true", z.dtype)
        if t.shape != z.shape:
            raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {z.shape}; "
                             f"MulticlassGeneralizedDice takes one-hot targets of y_pred's shape")
        if z.ndim < 2 or z.shape[-1] == 0:
            raise ValueError(f"MulticlassGeneralizedDice takes (batch, ..., classes) arrays with "
                             f"at least one class, got shape {z.shape}")
        B, C = z.shape[0], z.shape[-1]
        S = math.prod(z.shape[1:-1])
        if not self.apply_softmax and z.size:
            sums = np.sum(z, axis=-1, dtype=np.float64)
            if not np.allclose(sums, 1.0, rtol=1e-5):
                raise ValueError(
                    "with apply_softmax=False, y_pred must hold probabilities that sum to 1 "
                    f"over the class axis (optax's check); their sums range over "
                    f"[{np.min(sums):.6f}, {np.max(sums):.6f}]")
        return np.ascontiguousarray(t), np.ascontiguousarray(z), B, S, C

    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        t, z, B, S, C = self._pair(y_true, y_pred)
        if out is not None:
            _arrays.check_out(out, z.shape, z.dtype,
                              {"y_true": y_true, "y_pred": y_pred,
                               "sample_weight": sample_weight})
        n = B
        w = _passes.keras_weighting(sample_weight, (n,), z.dtype,
                                    _arrays.REDUCTIONS[self.reduction])
        per_sample = np.empty(n) if want_value else None
        grad = np.empty(z.shape, z.dtype) if want_grad else None
        coef = w.coefficients(grad_output, n, z.dtype) if want_grad else None
        if coef is not None and coef.shape[0] != n:
            coef = np.broadcast_to(coef, (n,)).copy()
        _core.multiclass_generalized_dice(t, z, B, S, C, self.smooth, self.apply_softmax,
                                          self.ignore_background, per_sample, grad, coef)
        value = w.reduce(per_sample, z.dtype) if per_sample is not None else None
        return _arrays.value_and_grad(value, grad, z.shape, out)


SEGMENTATION_LOSSES: tuple[type[Loss], ...] = (MulticlassGeneralizedDice,)

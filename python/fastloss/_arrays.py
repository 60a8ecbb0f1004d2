"""Turning user arguments into the (outer, axis, inner) views the kernels read.

Everything here is about shapes, dtypes and memory; no loss is computed here.

Copies, stated once (the docs link here):

* ``y_pred`` of dtype float32/float64 is never copied unless its layout cannot be
  expressed as a strided (outer, axis, inner) view (rare: some transposed N-D views)
  or is misaligned / has strides that are not whole items (fields of packed
  structured arrays, byte buffers at odd offsets);
  other real dtypes are converted (float16 -> float32, integers and bools -> float64).
* ``y_true`` is converted to ``y_pred``'s dtype when it differs (as Keras casts it);
  it is broadcast to ``y_pred``'s shape without a copy.
* ``sample_weight`` and an array ``grad_output`` are made contiguous at the per-sample
  shape (a copy only when they are broadcast or strided; they are ``axis``-times
  smaller than ``y_pred``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional

import numpy as np

FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))

REDUCTIONS = {
    None: 0,
    "none": 0,
    "sum": 1,
    "sum_over_batch_size": 2,
    "mean": 2,
    "mean_with_sample_weight": 3,
}
REDUCTION_NONE, REDUCTION_SUM, REDUCTION_SOBS, REDUCTION_MWSW = 0, 1, 2, 3


def check_reduction(reduction: Any) -> Optional[str]:
    """Validates a Keras 3 reduction name and returns it (None stays None)."""
    if reduction is not None and not isinstance(reduction, str):
        raise TypeError(f"reduction must be a string or None, got {type(reduction).__name__}")
    if reduction not in REDUCTIONS:
        allowed = ", ".join(repr(k) for k in REDUCTIONS)
        raise ValueError(f"invalid reduction {reduction!r}; expected one of {allowed}")
    return reduction


def real_param(value: Any, what: str) -> float:
    """A scalar constructor parameter as a float; a TypeError naming it otherwise
    (strings are refused rather than parsed)."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{what} = {value} is beyond float64's range") from None
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a real number, got {value!r}") from None


def _python_int(x: Any, what: str) -> Any:
    """A Python int beyond int64 (NumPy would make it an object array) as a
    float; past float64's range, a ValueError naming the argument."""
    if type(x) is int and not -(2**63) <= x < 2**63:
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"{what} = {x} is beyond float64's range") from None
    return x


def _numeric(x: Any, what: str) -> np.ndarray:
    x = _python_int(x, what)
    try:
        a = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{what} must be an array of real numbers: {exc}") from None
    kind = a.dtype.kind
    if kind not in "fiub":
        raise TypeError(
            f"{what} must contain real numbers, got dtype {a.dtype}"
            + (" (complex numbers have no loss ordering)" if kind == "c" else "")
        )
    return a


def compute_dtype(a: np.ndarray) -> np.dtype:
    """The dtype a kernel runs at for an input of dtype a.dtype."""
    if a.dtype in FLOAT_TYPES:
        return a.dtype
    if a.dtype.kind == "f" and a.dtype.itemsize in (4, 8):  # non-native byte order
        return np.dtype(np.float32 if a.dtype.itemsize == 4 else np.float64)
    if a.dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)  # integers, bools, long double


def as_float(x: Any, what: str, dtype: Optional[np.dtype] = None) -> np.ndarray:
    """x as a float32/float64 ndarray (no copy when it already is one)."""
    a = _numeric(x, what)
    target = dtype if dtype is not None else compute_dtype(a)
    if a.dtype != target:
        a = a.astype(target)
    return a


def keras_same_rank(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's squeeze_or_expand_to_same_rank: ranks differing by one with a
    trailing 1 are aligned (a rank-1 partner is expanded, otherwise the extra
    trailing 1 is squeezed). Returns views."""
    rt, rp = y_true.ndim, y_pred.ndim
    if rt == rp + 1 and y_true.shape[-1] == 1:
        if rp == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif rp == rt + 1 and y_pred.shape[-1] == 1:
        if rt == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def kernel_readable(a: np.ndarray) -> bool:
    """Whether the kernels can address `a` in place: aligned, and every stride
    a whole number of items (not so for e.g. a field of a packed structured
    array, whose items sit 9 bytes apart)."""
    return bool(a.flags.aligned) and all(st % a.itemsize == 0 for st in a.strides)


def view3(a: np.ndarray, shape3: tuple[int, int, int]) -> np.ndarray:
    """A (outer, axis, inner) view of a, or a contiguous copy when the layout
    cannot be merged into three strided axes (or is not kernel_readable)."""
    if not kernel_readable(a):
        return np.ascontiguousarray(a).reshape(shape3)
    v = a.view()
    try:
        v.shape = shape3
        return v
    except AttributeError:
        return np.ascontiguousarray(a).reshape(shape3)


class Prepared(NamedTuple):
    y_true3: np.ndarray
    y_pred3: np.ndarray
    dtype: np.dtype
    pred_shape: tuple[int, ...]  # the gradient's shape: y_pred's as given
    work_shape: tuple[int, ...]  # y_pred after Keras's rank alignment
    sample_shape: tuple[int, ...]  # per-sample losses
    shape3: tuple[int, int, int]


def check_pair_shapes(true_shape: tuple[int, ...], pred_shape: tuple[int, ...],
                      given_true: tuple[int, ...], given_pred: tuple[int, ...]) -> None:
    """y_true (rank-aligned to y_pred, `true_shape`) must match or broadcast to
    y_pred; the message names the shapes as the user gave them."""
    if true_shape == pred_shape:
        return
    try:
        full = np.broadcast_shapes(true_shape, pred_shape)
    except ValueError:
        full = None
    if full != pred_shape:
        raise ValueError(
            f"y_true shape {tuple(given_true)} and y_pred shape {tuple(given_pred)} are "
            "incompatible: y_true must match or broadcast to y_pred")


def reduced_axes(axis: Any, nd: int) -> tuple[int, int]:
    """The block of consecutive axes [first, stop) a loss reduces over.

    `axis` is an int (one axis), a tuple of consecutive axes (Keras's
    segmentation losses' ``axis=(1, 2, 3)``), None (every axis: one value for
    the whole array) or the empty tuple (no axis: each element is its own
    sample, PyTorch's elementwise ``reduction="none"``; the block is empty,
    after the last axis)."""
    if axis is None:
        return 0, nd
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        axis = (axis,)
    if not isinstance(axis, tuple) or any(
            isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in axis):
        raise TypeError(f"axis must be an integer, a tuple of integers or None, got {axis!r}")
    if not axis:
        return nd, nd
    for a in axis:
        if not -nd <= a < nd:
            raise ValueError(f"axis {a} is out of range for y_pred of rank {nd}")
    picked = sorted(int(a) % nd for a in axis)
    if len(set(picked)) != len(picked):
        raise ValueError(f"axis {axis} repeats an axis")
    if picked != list(range(picked[0], picked[-1] + 1)):
        raise ValueError(f"axis {axis}: the axes reduced over must be consecutive (move them "
                         "next to each other with np.moveaxis first)")
    return picked[0], picked[-1] + 1


def split_axes(shape: tuple[int, ...], axis: Any) -> tuple[tuple[int, int, int], tuple[int, ...]]:
    """(outer, reduced, inner) for the block of axes `axis` names (see
    reduced_axes), and the per-sample shape: the axes left."""
    first, stop = reduced_axes(axis, len(shape))
    shape3 = (math.prod(shape[:first]), math.prod(shape[first:stop]), math.prod(shape[stop:]))
    return shape3, tuple(shape[:first] + shape[stop:])


def prepare_pair(y_true: Any, y_pred: Any, axis: Any = -1) -> Prepared:
    """Checks and aligns (y_true, y_pred) and splits y_pred's shape at `axis`
    (an axis, consecutive axes, None for all, () for none: see reduced_axes)."""
    yp0 = as_float(y_pred, "y_pred")
    dtype = yp0.dtype
    yt = as_float(y_true, "y_true", dtype)
    pred_shape = yp0.shape
    yt, yp = keras_same_rank(yt, yp0)
    check_pair_shapes(yt.shape, yp.shape, np.shape(y_true), pred_shape)
    if yt.shape != yp.shape:
        yt = np.broadcast_to(yt, yp.shape)
    work_shape = yp.shape
    if yp.ndim == 0:
        yp, yt = yp.reshape(1), yt.reshape(1)
    shape3, sample_shape = split_axes(yp.shape, axis)
    if not len(work_shape):
        sample_shape = ()
    return Prepared(view3(yt, shape3), view3(yp, shape3), dtype, pred_shape, work_shape,
                    sample_shape, shape3)


def per_sample_array(x: Any, what: str, sample_shape: tuple[int, ...],
                     dtype: np.dtype) -> np.ndarray:
    """A sample_weight-like argument as a contiguous 1-D array over the samples.

    Keras's rule first (a trailing 1 is squeezed, a rank-1 array against
    per-sample losses of rank 2 is expanded), then NumPy broadcasting to the
    per-sample shape."""
    a = as_float(x, what, dtype)
    if a.ndim == len(sample_shape) + 1 and a.shape[-1] == 1:
        a = a[..., 0]
    elif len(sample_shape) == a.ndim + 1 and sample_shape[-1] == 1 and a.ndim == 1:
        a = a[:, None]
    try:
        b = np.broadcast_to(a, sample_shape)
    except ValueError:
        raise ValueError(
            f"{what} of shape {np.shape(x)} does not broadcast to the per-sample loss "
            f"shape {sample_shape}"
        ) from None
    return np.ascontiguousarray(b).reshape(-1)


def scalar_grad_output(grad_output: Any) -> float:
    a = _numeric(grad_output, "grad_output")
    if a.size != 1:
        raise ValueError(
            "grad_output must be a scalar for a reduced loss "
            f"(got shape {a.shape}); use reduction='none' for per-sample upstream gradients"
        )
    return float(a.reshape(()))


def buffer_of(x: Any) -> Optional[np.ndarray]:
    """An ndarray over the memory an argument carries, without a copy, or None
    when it carries none of its own: NumPy arrays, memoryviews and other buffer
    objects, CPU torch tensors, anything with __array_interface__. Python
    scalars and sequences are converted by the losses into new arrays, which
    nothing can overlap."""
    if isinstance(x, np.ndarray):
        return x
    if x is None or isinstance(x, (bool, int, float, complex, str, bytes, list, tuple)):
        return None
    try:
        if hasattr(x, "__array_interface__"):
            return np.asarray(x)
        try:
            memoryview(x)
        except TypeError:
            pass
        else:
            return np.asarray(x)
        if hasattr(x, "__dlpack__"):
            return np.from_dlpack(x)
    except Exception:  # noqa: BLE001 - what NumPy cannot view is converted by copy, or refused
        return None
    return None


def self_overlapping(a: np.ndarray) -> bool:
    """Whether two elements of `a` may share memory (a zero or too small stride,
    as np.broadcast_to or as_strided make). Sufficient test: the axes sorted by
    stride each step past everything the smaller ones span."""
    dims = sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n > 1)
    span = a.itemsize
    for stride, n in dims:
        if stride < span:
            return True
        span += stride * (n - 1)
    return False


def _same_layout(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def check_overlap(out: np.ndarray, reads: dict[str, Any], what: str = "out",
                  in_place: str = "y_pred") -> None:
    """Refuses an output sharing memory with what a kernel reads, whatever
    object carried the buffer; the input named `in_place` may be the output
    itself, element for element (in place), unless it overlaps itself."""
    for name, x in reads.items():
        arr = buffer_of(x)
        if arr is None or not np.may_share_memory(out, arr):
            continue
        if name == in_place and _same_layout(arr, out) and not self_overlapping(out):
            continue
        raise ValueError(
            f"{what} overlaps {name}; it may only be {name} itself (in-place)"
            if name == in_place else f"{what} must not overlap {name}"
        )


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype, inputs: dict[str, Any],
              what: str = "out") -> np.ndarray:
    """Validates a user `out=` array: ndarray, right shape and dtype, writable,
    no element written twice, not overlapping the inputs (in-place into y_pred
    itself is allowed)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{what} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"{what} has shape {out.shape}, expected {tuple(shape)} (y_pred's)")
    if out.dtype != dtype:
        raise TypeError(f"{what} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{what} is read-only")
    check_overlap(out, inputs, what)
    if self_overlapping(out):
        raise ValueError(f"{what} overlaps itself (a view whose elements share memory, such as "
                         f"np.broadcast_to or as_strided make): each gradient element needs "
                         f"its own place")
    return out


def value_and_grad(value: Any, grad: Optional[np.ndarray], shape: tuple[int, ...],
                   out: Optional[np.ndarray]) -> tuple[Any, Any]:
    """The end of a one-input loss's run: (value, gradient), the gradient in
    the input's shape and copied into `out` (already checked by check_out)
    when the user gave one, in which case `out` itself is returned."""
    if grad is None:
        return value, None
    g = grad.reshape(shape)
    if out is None:
        return value, g
    deliver((out,), (g,))
    return value, out


def deliver(outs: tuple[np.ndarray, ...], grads: Any) -> None:
    """Copies gradients into the user's out= arrays, each already checked by
    check_out, once all of them are: a call that fails writes nothing. Two
    outputs may not share memory (the second copy would overwrite the first)."""
    for i in range(len(outs)):
        for j in range(i):
            if np.may_share_memory(outs[i], outs[j]):
                raise ValueError(f"out arrays {j} and {i} overlap; each gradient needs its "
                                 "own array")
    for o, g in zip(outs, grads):
        o[...] = g

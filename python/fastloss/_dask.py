"""Dask arrays in, lazy Dask arrays out: the four methods of every loss on
``dask.array`` inputs.

This module only translates: each block of ``y_pred`` (with the blocks of the
other inputs that line up with it) goes through the very pass a NumPy call
takes (``_passes``: Keras's weighting, the outputs, one kernel call), and the
one thing a block cannot know, the *global* divisor of a reduction, is worked
out here from the shapes (one stage) or, when it depends on the data (the sum
of the sample weights, the rows ``ignore_class`` leaves out), from a cheap first
stage over the weights and labels only; the kernels' stage then receives it as
a lazy scalar. Each block runs its kernel with reduction ``"sum"`` and the
upstream gradient ``grad_output / divisor``, returns a float64 partial sum,
and the partial sums meet in a tree (``da.reduction``).

Dask is imported here, and only when a dask array is seen: ``import fastloss``
never imports it. ``holds_dask`` is the cheap test the public methods make.

Where a block of an elementwise loss holds part of the mean axis (a 1-D
``y_pred`` is one sample whose mean runs over every chunk), its per-sample
mean is over its part only: the block's value and its gradient coefficient
are scaled by the part's share of the axis, ``a_k / A``.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import sys
import warnings
from typing import Any, NamedTuple, Optional

import numpy as np

from . import _arrays, _passes, _threads
from ._arrays import REDUCTION_MWSW, REDUCTION_NONE, REDUCTION_SOBS, REDUCTION_SUM, REDUCTIONS

#: The dask config key (``dask.config.set({"fastloss.allow_rechunk": False})``)
#: that turns the rechunking of a split class axis into an error.
ALLOW_RECHUNK = "fastloss.allow_rechunk"

_LETTERS = "abcdefghijklmnopqrstuvwxyz"

#: No dask array can exist before this module is imported: ``ARRAY_MODULE in
#: MODULES`` is the first, nearly free, test of the public methods.
ARRAY_MODULE = "dask.array"
MODULES = sys.modules


def holds_dask(*values: Any) -> bool:
    """Whether any value is a dask array (or a list/tuple holding one), without
    importing dask."""
    module = sys.modules.get(ARRAY_MODULE)
    if module is None:
        return False
    array = module.Array
    return any(isinstance(v, array) or (isinstance(v, (list, tuple))
                                        and any(isinstance(x, array) for x in v))
               for v in values)


def _da() -> Any:
    import dask.array

    return dask.array


def _no_out(out: Any) -> None:
    if out is not None:
        raise TypeError("out= is not supported with dask inputs: the gradient is a lazy dask "
                        "array; drop out= and store the result (da.store, .to_zarr) or "
                        ".compute() it")


# ---------------------------------------------------------------------------
# Inputs: dask arrays of the compute dtype, lined up with y_pred's blocks


def _as_dask(x: Any, what: str, dtype: Optional[np.dtype] = None) -> Any:
    """x as a dask array of a float dtype (y_pred's when given). A NumPy input
    becomes one graph key that the blocks slice (embedded once)."""
    da = _da()
    if not isinstance(x, da.Array):
        return da.from_array(_arrays.as_float(x, what, dtype), chunks=-1)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{what} must contain real numbers, got dtype {x.dtype}")
    _known_chunks(x, what)
    target = dtype if dtype is not None else _arrays.compute_dtype(np.empty(0, x.dtype))
    return x if x.dtype == target else x.astype(target)


def _known_chunks(x: Any, what: str) -> None:
    if any(math.isnan(c) for cs in x.chunks for c in cs):
        raise ValueError(f"{what} has unknown chunk sizes (from boolean indexing or a "
                         f"dataframe); call {what}.compute_chunk_sizes() first")


def _like(x: Any, shape: tuple[int, ...], chunks: tuple[tuple[int, ...], ...]) -> Any:
    """x broadcast to `shape` with exactly these chunks (x is never y_pred)."""
    da = _da()
    if tuple(x.shape) != shape:
        x = da.broadcast_to(x, shape)
    return x if x.chunks == chunks else x.rechunk(chunks)


def _drop(chunks: tuple[Any, ...], ax: int) -> tuple[Any, ...]:
    return tuple(c for i, c in enumerate(chunks) if i != ax)


class _Inputs(NamedTuple):
    """One call's inputs, aligned: y_true and y_pred at the work shape (after
    Keras's rank alignment) with y_pred's chunks."""

    y_true: Any  # dense targets (work shape), class ids (sample shape) or None
    y_pred: Any  # work shape
    dtype: np.dtype
    pred: Any  # y_pred as given (after the dtype conversion): the gradient's shape, chunks
    ax: int  # the mean / class axis of the work shape
    sample_shape: tuple[int, ...]
    sample_chunks: tuple[tuple[int, ...], ...]


def _class_axis(loss: Any) -> bool:
    return hasattr(loss, "_input")  # ClassAxisLoss's declared input kind


def _axis(axis: Any, nd: int) -> int:
    if not isinstance(axis, int):
        # () (each element its own sample) or several axes (Keras's Dice, None: all)
        what = "each element as its own sample" if axis == () else f"axis={axis!r}"
        raise NotImplementedError(
            f"dask arrays are taken by losses reduced over one integer axis, not with "
            f"{what}; .compute() the inputs (or pass NumPy arrays)")
    if not -nd <= axis < nd:
        raise ValueError(f"axis {axis} is out of range for y_pred of rank {nd}")
    return axis % nd


def _pair(y_true: Any, y_pred: Any, yp: Any) -> tuple[Any, Any]:
    """_arrays.prepare_pair's alignment, on dask arrays (by their shapes)."""
    yt = _as_dask(y_true, "y_true", yp.dtype)
    yt, yw = _arrays.keras_same_rank(yt, yp)
    _arrays.check_pair_shapes(yt.shape, yw.shape, np.shape(y_true), yp.shape)
    return yt, yw


def _rechunk_class_axis(loss: Any, yw: Any, ax: int) -> Any:
    parts = len(yw.chunks[ax])
    if parts <= 1:
        return yw
    import dask

    fix = f"y_pred.rechunk({{{ax}: -1}})"
    if not dask.config.get(ALLOW_RECHUNK, True):
        raise ValueError(
            f"{type(loss).__name__} needs each row's classes in one chunk, but axis {ax} of "
            f"y_pred is split into {parts} chunks {yw.chunks[ax]}; rechunk it first "
            f"({fix}), or let fastloss do it (dask.config {ALLOW_RECHUNK!r}: True)")
    warnings.warn(
        f"{type(loss).__name__} needs each row's classes in one chunk: y_pred's axis {ax} "
        f"({parts} chunks {yw.chunks[ax]}) is rechunked into one; {fix} beforehand avoids "
        f"this, and dask.config {ALLOW_RECHUNK!r}: False makes it an error",
        _da().core.PerformanceWarning, stacklevel=_caller_stacklevel())
    return yw.rechunk({ax: -1})


def _caller_stacklevel() -> int:
    """The stacklevel of the user's call: the first frame outside this package
    (as _classaxis finds it for its warning)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _inputs(loss: Any, y_true: Any, y_pred: Any) -> _Inputs:
    yp = _as_dask(y_pred, "y_pred")
    dtype = yp.dtype
    if not _class_axis(loss):
        yt, yw = _pair(y_true, y_pred, yp)
        if yw.ndim == 0:
            yt, yw = yt.reshape(1), yw.reshape(1)
        ax = _axis(loss.axis, yw.ndim)
        sample_shape = tuple(yw.shape[:ax] + yw.shape[ax + 1:]) if yp.ndim else ()
        yt = _like(yt, yw.shape, yw.chunks)
        return _Inputs(yt, yw, dtype, yp, ax, sample_shape, _drop(yw.chunks, ax))
    if yp.ndim == 0:
        raise ValueError("y_pred must have at least one dimension (the class axis)")
    if loss._input == "dense":
        yt, yw = _pair(y_true, y_pred, yp)
    else:
        yt, yw = None, yp
    ax = _axis(loss.axis, yw.ndim)
    yw = _rechunk_class_axis(loss, yw, ax)
    sample_shape = tuple(yw.shape[:ax] + yw.shape[ax + 1:])
    sample_chunks = _drop(yw.chunks, ax)
    if loss._input == "dense":
        yt = _like(yt, yw.shape, yw.chunks)
    elif loss._input == "labels":
        yt = _labels(y_true, yw.shape, ax, sample_shape, sample_chunks)
    _check_rows(loss, yw.shape, ax, dtype)
    return _Inputs(yt, yw, dtype, yp, ax, sample_shape, sample_chunks)


def _labels(y_true: Any, pred_shape: tuple[int, ...], ax: int, sample_shape: tuple[int, ...],
            sample_chunks: tuple[tuple[int, ...], ...]) -> Any:
    """Class ids at the sample shape, chunked like y_pred's samples (the rank
    rules of ClassAxisLoss._labels; the ids are checked block by block)."""
    da = _da()
    ids = y_true if isinstance(y_true, da.Array) else da.from_array(np.asarray(y_true),
                                                                       chunks=-1)
    _known_chunks(ids, "y_true")
    if ids.ndim == len(pred_shape) and ids.shape[ax] == 1:
        ids = da.squeeze(ids, axis=ax)
    elif ids.ndim == len(pred_shape) + 1 and ids.shape[-1] == 1:
        ids = ids[..., 0]
    if not _broadcasts_to(ids.shape, sample_shape):
        raise ValueError(
            f"y_true shape {tuple(np.shape(y_true))} and y_pred shape {tuple(pred_shape)} are "
            f"incompatible: class ids must have (or broadcast to) y_pred's shape without the "
            f"class axis, {sample_shape}")
    return _like(ids, sample_shape, sample_chunks)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return tuple(np.broadcast_shapes(shape, target)) == tuple(target)
    except ValueError:
        return False


def _check_rows(loss: Any, shape: tuple[int, ...], ax: int, dtype: np.dtype) -> None:
    """The checks (and the single-class warning) a NumPy call makes before it
    reads any data, made now on an empty stand-in of the same classes, so that
    they are raised where the call is made, not at compute time."""
    stand_in = [shape[ax] if i == ax else 0 for i in range(len(shape))]  # no samples
    yp = np.zeros(stand_in, dtype)
    yt: Any = None
    if loss._input == "dense":
        yt = yp
    elif loss._input == "labels":
        yt = np.zeros(stand_in[:ax] + stand_in[ax + 1:], np.int64)
    loss._prepare(yt, yp)


# ---------------------------------------------------------------------------
# Keras's weighting, globally


class _Weights(NamedTuple):
    per_sample: Any  # dask, sample shape and chunks: what each block's kernel multiplies by
    aligned: Any  # the weights after the rank alignment (their sum: the weighted mean's)
    values_shape: tuple[int, ...]  # Keras's weighted values (bshape)
    aligned_shape: tuple[int, ...]  # the per-sample shape after the alignment
    broadcast_up: bool


def _weights(sample_weight: Any, x: _Inputs) -> Optional[_Weights]:
    """keras_weighting's rank alignment and broadcast, on shapes; the per-sample
    weights (summed over the axes they broadcast the values up along) stay lazy."""
    if sample_weight is None:
        return None
    sw = _as_dask(sample_weight, "sample_weight", x.dtype)
    sw, vshape, bshape = _passes.align_weights(sw, x.sample_shape)
    up = bshape != vshape
    full = _da().broadcast_to(sw, bshape)
    if up:  # _passes._sum_to
        lead = len(bshape) - len(vshape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(vshape)
                                          if s == 1 and bshape[lead + i] != 1)
        full = full.sum(axis=axes, keepdims=True)
    per_sample = _like(full.reshape(x.sample_shape), x.sample_shape, x.sample_chunks)
    return _Weights(per_sample, sw, bshape, vshape, up)


def _set(loss: Any, param_attr: str) -> bool:
    """Whether a class-axis loss's declared parameter (ignore_class, class_weight) is set."""
    param = getattr(loss, param_attr, None)
    return param is not None and getattr(loss, param) is not None


def _divisor(loss: Any, x: _Inputs, w: Optional[_Weights], code: int) -> tuple[int, Any]:
    """(the reduction applied, the global divisor): a float when the shapes fix
    it, else a lazy 0-d float64 dask array."""
    values_shape = w.values_shape if w is not None else x.sample_shape
    applied, divisor = _passes.reduction_rule(code, values_shape)
    if applied in (REDUCTION_NONE, REDUCTION_SUM):
        return applied, 1.0
    ignores = _set(loss, "_ignored_label_param")
    weighted_mean = getattr(loss, "_class_weighted_mean", False) and _set(
        loss, "_label_weight_param")
    if (applied == REDUCTION_SOBS and (ignores or weighted_mean)) or (
            applied == REDUCTION_MWSW and (ignores or _set(loss, "_label_weight_param"))):
        # the rows that count, or their (class) weights: _passes._masked_divisor
        n = math.prod(x.sample_shape)
        ratio = divisor / n if applied == REDUCTION_SOBS and n else 1.0
        return applied, _masked_divisor(loss, x, w, applied) * ratio
    if applied == REDUCTION_MWSW and w is not None:
        return applied, w.aligned.sum(dtype=np.float64)
    return applied, divisor


def _masked_divisor(loss: Any, x: _Inputs, w: Optional[_Weights], code: int) -> Any:
    """Sum over the blocks of each block's divisor (the rows that count, or their
    weights times their class weights), from the labels and weights alone."""
    da = _da()
    nd = len(x.sample_shape)
    idx = _LETTERS[:nd]
    fn = functools.partial(_divisor_block, loss, x.y_pred.shape[x.ax], x.ax, x.dtype, code)
    parts = da.blockwise(fn, idx, x.y_true, idx, *_arg(w.per_sample if w else None, idx),
                         dtype=np.float64, adjust_chunks={c: 1 for c in idx},
                         meta=np.empty((0,) * nd))
    return _tree_sum(parts)


def _divisor_block(loss: Any, classes: int, ax: int, dtype: np.dtype, code: int,
                   labels: np.ndarray, weights: Optional[np.ndarray]) -> np.ndarray:
    shape = list(labels.shape)
    shape.insert(ax, classes)
    stand_in = np.broadcast_to(np.zeros((), dtype), shape)  # y_pred is not read
    try:
        call = loss._call(loss._prepare(labels, stand_in))
    except ValueError as exc:
        raise ValueError(f"{exc} (within a block of y_true)") from None
    w = _passes.keras_weighting(weights, call.sample_shape, dtype, code, valid=call.valid,
                                label_weight=call.label_weight,
                                class_weighted_mean=call.class_weighted_mean)
    return np.full((1,) * labels.ndim, w.divisor)


def _arg(x: Any, idx: Optional[str]) -> tuple[Any, Optional[str]]:
    """A blockwise argument pair: a dask array with its index, or a constant."""
    return (None, None) if x is None else (x, idx if x.ndim else "")


def _tree_sum(parts: Any) -> Any:
    """The float64 sum of per-block partial sums, combined in a tree."""
    return _da().reduction(parts, _sum_keep, _sum_keep, combine=_sum_keep, dtype=np.float64,
                           axis=tuple(range(parts.ndim)), concatenate=True)


def _sum_keep(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=np.float64)


# ---------------------------------------------------------------------------
# The blocks


class _Spec(NamedTuple):
    """What every block of one call does (small, picklable: the loss pickles
    through its config)."""

    loss: Any
    code: int  # the reduction each block applies: "sum" or "none"
    want_value: bool
    want_grad: bool
    go: float  # the scalar upstream gradient, when it is a number
    divisor: float  # the global divisor, when the shapes fix it
    axis_length: int  # an elementwise loss's mean axis split into blocks: its length, else 0
    ax: int


def use_worker_threads() -> None:
    """On a dask.distributed worker, the kernels use the worker's threads (its
    ``nthreads``): a call made while another holds the pool runs on its own
    thread, so the worker's cores are never oversubscribed."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return
    try:
        worker = distributed.get_worker()
    except ValueError:  # not on a worker: a local scheduler's thread
        return
    n = max(1, min(int(worker.state.nthreads), _threads.MAX_THREADS))
    if _threads.get_num_threads() != n:
        _threads.set_num_threads(n)


def _kernel_call(loss: Any, yt: Any, yp: np.ndarray, want_value: bool,
                 want_grad: bool) -> _passes.KernelCall:
    """The KernelCall a NumPy call of the loss would run (its family's)."""
    if _class_axis(loss):
        if loss._warn_single_class and yp.shape[loss.axis] == 1:
            with warnings.catch_warnings():  # warned when the call was made
                warnings.simplefilter("ignore", SyntaxWarning)
                rows = loss._prepare(yt, yp)
        else:
            rows = loss._prepare(yt, yp)
        return loss._call(rows)
    pr = _arrays.prepare_pair(yt, yp, loss.axis)  # as CompiledElementwiseLoss._run
    return _passes.KernelCall(lambda: loss._kernel_inputs(pr, want_value, want_grad),
                              pr.dtype, pr.pred_shape, pr.sample_shape, pr.shape3,
                              empty=pr.shape3[0] * pr.shape3[2] == 0,
                              names=loss._kernel_input_names)


def _block(spec: _Spec, yt: Any, yp: np.ndarray, weights: Optional[np.ndarray],
           go: Optional[np.ndarray], divisor: Optional[np.ndarray]) -> Any:
    """One block through the pass of _passes: (partial, gradient) as asked."""
    use_worker_threads()
    try:
        call = _kernel_call(spec.loss, yt, yp, spec.want_value, spec.want_grad)
    except ValueError as exc:
        raise ValueError(f"{exc} (within a block of the dask arrays)") from None
    # the block's share of a split mean axis: its per-sample mean is over its part
    scale = yp.shape[spec.ax] / spec.axis_length if spec.axis_length else 1.0
    grad_output: Any = spec.go if go is None else go
    if spec.code == REDUCTION_SUM:
        d = spec.divisor if divisor is None else float(divisor)
        grad_output = float(grad_output) * (scale / d if d else 0.0)
    elif scale != 1.0:
        grad_output = np.asarray(grad_output, np.float64) * scale
    w = _passes.keras_weighting(weights, call.sample_shape, call.dtype, spec.code,
                                valid=call.valid, label_weight=call.label_weight,
                                class_weighted_mean=call.class_weighted_mean)
    n = call.shape3[0] * call.shape3[2]
    o = _passes.prepare_outputs(w, n, call.dtype, call.pred_shape, call.shape3,
                                want_value=spec.want_value, want_grad=spec.want_grad,
                                grad_output=grad_output, out=None, inputs={})
    value = spec.loss._kernel.run(*call.arrays(), o.weights, o.go_array, o.go_scalar,
                                  w.reduction, w.divisor, spec.want_value, o.per_sample,
                                  o.grad3, None, False)
    part: Any = None
    if spec.want_value:
        if spec.code == REDUCTION_SUM:
            part = np.full((1,) * yp.ndim, 0.0 if call.empty else float(value) * scale)
        else:
            values, _ = _passes.finish(o, w, value, call.dtype, want_value=True, empty=False)
            values = np.asarray(values)
            if spec.axis_length:
                values = values.astype(np.float64) * scale
            part = np.expand_dims(values.reshape(call.sample_shape), spec.ax)
    if spec.want_value and spec.want_grad:
        return part, o.grad
    return part if spec.want_value else o.grad


def _hessian_block(loss: Any, yt: Any, yp: np.ndarray,
                   weights: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    use_worker_threads()
    try:
        return loss._gradient_hessian(yt, yp, weights)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ValueError(f"{exc} (within a block of the dask arrays)") from None


def _split(fused: Any, chunks: list[Any], dtypes: list[np.dtype]) -> list[Any]:
    """The outputs of a blockwise call whose blocks return a tuple: one task per
    block computes both, each output picks its part."""
    da = _da()
    return [da.map_blocks(operator.getitem, fused, i, chunks=c, dtype=t,
                          meta=np.empty((0,) * len(c), t))
            for i, (c, t) in enumerate(zip(chunks, dtypes))]


# ---------------------------------------------------------------------------
# The entry points of the public methods


def run(loss: Any, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
        want_grad: bool, grad_output: Any = 1.0, out: Any = None) -> tuple[Any, Any]:
    """Loss._run on dask inputs: (lazy value or None, lazy gradient or None)."""
    _check_blockwise(loss)
    _no_out(out)
    da = _da()
    x = _inputs(loss, y_true, y_pred)
    w = _weights(sample_weight, x)
    applied, divisor = _divisor(loss, x, w, REDUCTIONS[loss.reduction])
    unreduced = applied == REDUCTION_NONE
    nd = x.y_pred.ndim
    idx = _LETTERS[:nd]
    sidx = idx[:x.ax] + idx[x.ax + 1:]
    partial_axis = not _class_axis(loss) and len(x.y_pred.chunks[x.ax]) > 1
    up = w is not None and w.broadcast_up
    go_scalar, go_array = 1.0, None
    if want_grad:
        go_scalar, go_array = _grad_output(grad_output, x, w, unreduced)
    weights = None if (w is None or (unreduced and up)) else w.per_sample
    # the blocks need a divisor that depends on the data only for the gradient
    # (the value divides the total): the weights' and labels' stage comes first
    lazy_divisor = divisor if isinstance(divisor, da.Array) and want_grad else None
    spec = _Spec(loss, REDUCTION_NONE if unreduced else REDUCTION_SUM, want_value, want_grad,
                 go_scalar, 1.0 if isinstance(divisor, da.Array) else float(divisor),
                 x.y_pred.shape[x.ax] if partial_axis else 0, x.ax)
    yt_idx = idx if x.y_true is not None and x.y_true.ndim == nd else sidx
    args = [*_arg(x.y_true, yt_idx), x.y_pred, idx, *_arg(weights, sidx),
            *_arg(go_array, sidx), *_arg(lazy_divisor, "")]
    fn = functools.partial(_block, spec)
    value_chunks = tuple((1,) * len(c) if (i == x.ax or not unreduced) else c
                         for i, c in enumerate(x.y_pred.chunks))
    value_dtype = np.dtype(np.float64) if (not unreduced or partial_axis) else x.dtype
    if want_value and want_grad:
        fused = da.blockwise(fn, idx, *args, dtype=x.dtype, meta=np.empty((0,) * nd, x.dtype))
        parts, grad = _split(fused, [value_chunks, x.y_pred.chunks], [value_dtype, x.dtype])
    elif want_value:
        parts = da.blockwise(fn, idx, *args, dtype=value_dtype,
                             meta=np.empty((0,) * nd, value_dtype),
                             adjust_chunks=dict(zip(idx, value_chunks)))
    else:
        grad = da.blockwise(fn, idx, *args, dtype=x.dtype, meta=np.empty((0,) * nd, x.dtype))
    value = None
    if want_value:
        value = (_unreduced_value(parts, x, w, partial_axis) if unreduced
                 else _reduced_value(parts, divisor, x))
    return value, (_gradient(grad, x) if want_grad else None)


def _grad_output(grad_output: Any, x: _Inputs, w: Optional[_Weights],
                 unreduced: bool) -> tuple[float, Any]:
    """(scalar upstream gradient, per-sample dask array or None), the rules of
    _passes.grad_output_per_sample and scalar_grad_output."""
    da = _da()
    lazy = isinstance(grad_output, da.Array)
    if not unreduced:
        if not lazy:
            return _arrays.scalar_grad_output(grad_output), None
        if grad_output.size != 1:
            _arrays.scalar_grad_output(np.broadcast_to(0.0, grad_output.shape))  # its error
        return 1.0, _as_dask(grad_output, "grad_output", x.dtype).reshape(())
    up = w is not None and w.broadcast_up
    if not lazy:
        g = _arrays.as_float(grad_output, "grad_output", x.dtype)
        if g.ndim == 0 and not up:
            return float(g), None
    go = _as_dask(grad_output, "grad_output", x.dtype)
    values_shape = w.values_shape if w is not None else x.sample_shape
    if not _broadcasts_to(go.shape, values_shape):
        raise ValueError(f"grad_output of shape {tuple(go.shape)} does not broadcast to the "
                         f"per-sample loss shape {values_shape}")
    full = da.broadcast_to(go, values_shape)
    if up:
        assert w is not None
        full = full * w.aligned
        lead = len(values_shape) - len(w.aligned_shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(w.aligned_shape)
                                          if s == 1 and values_shape[lead + i] != 1)
        full = full.sum(axis=axes, keepdims=True)
    return 1.0, _like(full.reshape(x.sample_shape), x.sample_shape, x.sample_chunks)


def _reduced_value(parts: Any, divisor: Any, x: _Inputs) -> Any:
    da = _da()
    total = _tree_sum(parts)
    empty = math.prod(x.sample_shape) == 0 or x.y_pred.size == 0
    if isinstance(divisor, da.Array):
        return da.blockwise(_divide, "", total, "", divisor, "", empty=empty,
                            out_dtype=x.dtype, dtype=x.dtype, meta=np.empty((), x.dtype))
    return da.blockwise(_divide, "", total, "", float(divisor), None, empty=empty,
                        out_dtype=x.dtype, dtype=x.dtype, meta=np.empty((), x.dtype))


def _divide(total: Any, divisor: Any, *, empty: bool, out_dtype: np.dtype) -> Any:
    d = float(divisor)
    return out_dtype.type(0.0 if empty or d == 0.0 else float(total) / d)  # divide_no_nan


def _unreduced_value(parts: Any, x: _Inputs, w: Optional[_Weights], partial_axis: bool) -> Any:
    values = parts.sum(axis=x.ax, dtype=np.float64).astype(x.dtype) if partial_axis \
        else _da().squeeze(parts, axis=x.ax)
    if w is not None:
        values = values.reshape(w.aligned_shape)
        if w.broadcast_up:  # Keras multiplies the values up to the weights' shape
            values = values * w.aligned
    return values


def _gradient(grad: Any, x: _Inputs) -> Any:
    """The gradient at y_pred's shape and chunks, as given."""
    if grad.shape != x.pred.shape:
        grad = grad.reshape(x.pred.shape)
    return grad if grad.chunks == x.pred.chunks else grad.rechunk(x.pred.chunks)


def gradient_hessian(loss: Any, y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Any, Any]:
    """Loss._gradient_hessian on dask inputs: lazy (gradient, Hessian diagonal)."""
    _check_blockwise(loss)
    da = _da()
    x = _inputs(loss, y_true, y_pred)
    nd = x.y_pred.ndim
    idx = _LETTERS[:nd]
    sidx = idx[:x.ax] + idx[x.ax + 1:]
    weights = per_element = None
    if sample_weight is not None:
        try:  # _passes.hessian_weights: the per-sample rule, else per element
            w = _weights(sample_weight, x)
        except ValueError:
            w = None
        if w is not None and not w.broadcast_up:
            weights = w.per_sample
        else:
            sw = _as_dask(sample_weight, "sample_weight", x.dtype)
            if not _broadcasts_to(sw.shape, x.pred.shape):
                raise ValueError(
                    f"sample_weight of shape {tuple(sw.shape)} broadcasts neither to the "
                    f"per-sample shape {x.sample_shape} nor to y_pred's shape "
                    f"{tuple(x.pred.shape)}")
            per_element = _like(sw, x.pred.shape, x.pred.chunks)
    yt_idx = idx if x.y_true is not None and x.y_true.ndim == nd else sidx
    fused = da.blockwise(functools.partial(_hessian_block, loss), idx,
                         *_arg(x.y_true, yt_idx), x.y_pred, idx, *_arg(weights, sidx),
                         dtype=x.dtype, meta=np.empty((0,) * nd, x.dtype))
    g, h = (_gradient(a, x) for a in _split(fused, [x.y_pred.chunks] * 2, [x.dtype] * 2))
    if per_element is not None:
        g, h = g * per_element, h * per_element
    return g, h


# ---------------------------------------------------------------------------
# Losses of several inputs: sums of (y_true, y_pred) terms


class Term(NamedTuple):
    """One (y_true, y_pred) loss in a multi-input loss's sum: its value counts
    `scale` times, its gradient is that of the trained input `trained` (reshaped
    back to `like`'s shape and chunks when given), its Hessian `hessian_scale`
    times."""

    loss: Any
    y_true: Any
    y_pred: Any
    trained: int
    scale: float
    hessian_scale: float
    like: Any = None


def _refuse(loss: Any, why: str) -> NotImplementedError:
    return NotImplementedError(
        f"{type(loss).__name__} does not take dask arrays: {why}; .compute() its inputs "
        f"(or pass NumPy arrays)")


def _check_blockwise(loss: Any) -> None:
    """A (y_true, y_pred) loss whose value is not a sum over blocks says why
    (``_dask_refusal``)."""
    why = getattr(loss, "_dask_refusal", "")
    if why:
        raise _refuse(loss, why)


def _terms(loss: Any, args: tuple[Any, ...]) -> list[Term]:
    terms = getattr(loss, "_dask_terms", None)
    if terms is None:
        raise _refuse(loss, getattr(loss, "_dask_refusal", "")
                      or "its per-image value is not a sum over blocks")
    return list(terms(args))


def _back(term: Term, g: Any) -> Any:
    if term.like is None:
        return g
    like = term.like
    g = g.reshape(like.shape)
    chunks = getattr(like, "chunks", None)
    return g if chunks is None or g.chunks == chunks else g.rechunk(chunks)


def evaluate(loss: Any, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any, out: Any = None) -> tuple[Any, Any]:
    """MultiInputLoss._evaluate on dask inputs: each term's lazy pass, summed."""
    _no_out(out)
    value: Any = None
    grads: list[Any] = [None] * loss._n_trained
    for term in _terms(loss, args):
        go = grad_output * term.scale if want_grad else 1.0
        v, g = run(term.loss, term.y_true, term.y_pred, sample_weight, want_value=want_value,
                   want_grad=want_grad, grad_output=go)
        if want_value:
            part = v * v.dtype.type(term.scale)
            value = part if value is None else value + part
        if want_grad:
            g = _back(term, g)
            k = term.trained
            grads[k] = g if grads[k] is None else grads[k] + g
    return value, tuple(grads)


def evaluate_hessian(loss: Any, args: tuple[Any, ...],
                     sample_weight: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    grads: list[Any] = [None] * loss._n_trained
    hessians: list[Any] = [None] * loss._n_trained
    for term in _terms(loss, args):
        g, h = gradient_hessian(term.loss, term.y_true, term.y_pred, sample_weight)
        k, s = term.trained, term.hessian_scale
        g, h = _back(term, g), _back(term, h)
        if s != 1.0:
            g, h = g * g.dtype.type(s), h * h.dtype.type(s)
        grads[k] = g if grads[k] is None else grads[k] + g
        hessians[k] = h if hessians[k] is None else hessians[k] + h
    return tuple(grads), tuple(hessians)

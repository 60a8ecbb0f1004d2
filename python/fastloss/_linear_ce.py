"""Cross-entropy on a linear head, computed without the (N, V) logits:
:class:`LinearCrossentropy`, for language-model heads whose vocabulary makes
the logits the largest array of a training step.

The chunk loop, the float64 row statistics and the softmax gradient are in
the C++ core (``losses/linear_ce.hpp``); the matrix products go to the BLAS
that SciPy ships, whose ``sgemm`` / ``dgemm`` the core calls through the raw
pointers of ``scipy.linalg.cython_blas`` (without the GIL). This module checks
the inputs and applies the sample weights and reductions (the rules of
``_passes``).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _passes
from ._arrays import REDUCTION_SOBS, REDUCTIONS
from ._classaxis import per_class_param
from ._models import Grads, MultiInputLoss
from ._sequence import _integers


def _gemm_capsule(dtype: np.dtype) -> Any:
    """SciPy's Fortran ``sgemm`` / ``dgemm`` as a PyCapsule."""
    try:
        from scipy.linalg import cython_blas
    except ImportError as e:  # pragma: no cover - scipy is a dependency
        raise ImportError("LinearCrossentropy makes its matrix products with the BLAS that "
                          f"SciPy ships, and scipy cannot be imported ({e}): pip install scipy"
                          ) from e
    return cython_blas.__pyx_capi__["sgemm" if dtype == np.float32 else "dgemm"]


def _float_matrix(x: Any, what: str, dtype: Optional[np.dtype], ndim: int,
                  shape: Optional[str] = None) -> np.ndarray:
    """x as a C-contiguous float array of `ndim` dimensions, of dtype (when
    given: a float array of another dtype is a TypeError, not a silent copy);
    `shape` names the expected shape in the error ("(V, H)")."""
    if dtype is not None and isinstance(x, np.ndarray) and x.dtype.kind == "f" \
            and x.dtype != dtype:
        raise TypeError(f"{what} has dtype {x.dtype} but hidden has dtype {dtype}; "
                        "they must be the same (cast one of them)")
    a = _arrays.as_float(x, what, dtype)
    if a.ndim != ndim:
        expected = f"be {shape}" if shape else f"have {ndim} dimension{'s' if ndim > 1 else ''}"
        raise ValueError(f"{what} must {expected}, got shape {a.shape}")
    return np.ascontiguousarray(a)


class LinearCrossentropy(MultiInputLoss):
    """Softmax cross-entropy on the logits of a linear layer, without making
    the (N, V) logits::

        z = hidden @ weight.T + bias                       (N, V), never stored
        loss_i = (1 - eps) w_{y_i} (lse(z_i) - z_{i, y_i})
                 + eps / V * sum_c w_c (lse(z_i) - z_{i, c})

    with ``eps`` the label smoothing and ``w`` the class weights (ones by
    default): PyTorch's ``F.cross_entropy(hidden @ weight.T + bias, labels,
    weight=class_weight, ignore_index=ignore_class, label_smoothing=eps)``,
    and ``torch.nn.functional.linear_cross_entropy`` /
    ``torch.nn.LinearCrossEntropyLoss``. ``weight`` is (V, H), as
    ``torch.nn.Linear`` stores it.

    Called ``loss(labels, hidden, weight, bias=None)``: ``labels`` (N,)
    integers (whole-number floats accepted), each in [0, V) or equal to
    ``ignore_class``; ``hidden`` (N, H); ``weight`` (V, H); ``bias`` (V,) or
    None. ``weight`` and ``bias`` must have ``hidden``'s dtype (float32 or
    float64; other real dtypes are converted to float64; a non-contiguous
    array is copied). ``backward`` returns one gradient per trained input:
    ``(d_hidden, d_weight, d_bias)``, or ``(d_hidden, d_weight)`` when there
    is no bias; the inputs are never modified.

    Reductions: "sum_over_batch_size" (also "mean", the default) is PyTorch's
    ``"mean"``: ``sum_i w_{y_i} loss_i / sum_i w_{y_i}`` over the rows that
    are not ignored (the number of those rows without class weights); when
    every row of a non-empty batch is ignored it is NaN, PyTorch's 0 / 0,
    with zero gradients (an empty batch gives 0). "sum" and "none" are
    PyTorch's (an ignored row's loss is 0). ``sample_weight`` (N,) multiplies
    each row's loss (Keras's rule; "sum_over_batch_size" keeps the divisor
    above, "mean_with_sample_weight" divides by ``sum_i s_i w_{y_i}``).

    How it is computed: the rows are taken in blocks of 256, and each block's
    vocabulary in chunks of ``chunk_size`` entries, themselves spans of 512.
    A first sweep makes each span's logits by a matrix product (BLAS
    ``sgemm``/``dgemm``) and, while they are in cache, its per-row float64
    statistics: the span's maximum and sum of exp, the label's logit and,
    with smoothing, the weighted sum of logits; the spans are then folded in
    order (the online log-sum-exp). A second sweep turns each span's logits
    into the softmax gradient ``G``, adds it to ``d_bias`` and makes the
    rank-256 update ``d_weight_span += G.T @ hidden_block``, then
    ``d_hidden_block += G @ weight_chunk``. When one chunk covers the
    vocabulary (the default whenever a block's logits fit in 128 MiB), the
    second sweep reuses the first sweep's logits: three matrix products, as
    the unchunked computation makes; otherwise it recomputes them (four).
    The extra memory is one block's chunk of logits (256 x chunk_size) and
    per-row statistics, never N x V. float32 inputs have float32 logits and
    products and float64 statistics; float64 inputs compute in float64.

    Determinism: every matrix product covers a fixed span of 512 vocabulary
    entries at a fixed position and the statistics fold the spans in order,
    so the result is bitwise the same for every ``chunk_size``. OpenBLAS sums
    a product in another order for each of its own thread counts, so the
    products do not use its threads: each span is one task on fastloss's
    threads -- its products single-threaded BLAS calls (OpenBLAS's
    ``openblas_set_num_threads_local``, which leaves every other thread's
    setting alone) in column tiles fixed by the shape, then its element-wise
    work -- and ``d_hidden`` is made in tiles of 128 columns. The split
    depends on the shape alone, so the result is bitwise the same for every
    ``fl.num_threads`` and every BLAS thread setting (``threadpoolctl``,
    ``OPENBLAS_NUM_THREADS``). A SciPy built on another BLAS (without that
    function) gets one call per product, threaded by that BLAS, and the same
    bits for every ``fl.num_threads`` only.

    Why SciPy's BLAS: the products are nearly all the work (2 N H V flops
    each), and a tuned BLAS runs them several times faster than any loop this
    package could carry; SciPy's ``cython_blas`` hands out the raw Fortran
    pointers of the OpenBLAS it ships, which the C++ core calls without the
    GIL and without a Python call per chunk. C++ users give
    ``fastloss::linear_cross_entropy`` their own BLAS (or any GEMM) the same
    way.

    Parameters
    ----------
    ignore_class : int or None
        Rows with this label have no loss and no gradient (PyTorch's
        ``ignore_index``, default -100); None ignores nothing.
    label_smoothing : float
        In [0, 1]: the target is ``(1 - eps)`` on the label plus ``eps / V``
        on every class (PyTorch's).
    class_weight : sequence of V floats or None
        PyTorch's ``weight``: each class's weight in the loss and in the
        mean's divisor.
    chunk_size : int or None
        Vocabulary entries per chunk, rounded up to a multiple of 512 (a
        value of V or more keeps the whole vocabulary, and the logits, in one
        chunk). None: the whole vocabulary when a block's logits over it fit
        in 128 MiB, else as many 512-wide spans as fit.
    reduction, name
        As above; the name defaults to "linear_crossentropy".

    Notes
    -----
    Methods: ``loss(labels, hidden, weight, bias=None, sample_weight=None)``
    (= ``forward``), ``backward`` (``(d_hidden, d_weight[, d_bias])``) and
    ``forward_backward`` (one call of the kernel: the value costs nothing
    more than the gradients). ``gradient_hessian`` raises: the loss couples
    every input through the matrix product."""

    _inputs = ("labels", "hidden", "weight", "bias")
    _n_targets = 1
    _n_trained = 3
    _default_name = "linear_crossentropy"
    has_hessian = False
    _no_hessian_reason = ("each logit is a product of hidden and weight, so the Hessian in "
                          "them is not diagonal; only gradients are computed.")
    _dask_refusal = "its matrix products couple every row with the whole weight matrix"

    def __init__(self, ignore_class: Optional[int] = -100, label_smoothing: float = 0.0,
                 class_weight: Any = None, chunk_size: Optional[int] = None,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        super().__init__(reduction=reduction, name=name)
        if ignore_class is not None and (isinstance(ignore_class, (bool, np.bool_))
                                         or not isinstance(ignore_class, (int, np.integer))):
            raise TypeError(f"ignore_class must be an integer or None, got {ignore_class!r}")
        if ignore_class is not None and not -2**63 < int(ignore_class) < 2**63:
            raise ValueError(f"ignore_class = {ignore_class} is beyond int64's range")
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(
                label_smoothing, (int, float, np.integer, np.floating)):
            raise TypeError(f"label_smoothing must be a real number, got {label_smoothing!r}")
        if not 0.0 <= float(label_smoothing) <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.class_weight = per_class_param(class_weight, "class_weight")
        if chunk_size is not None and (isinstance(chunk_size, (bool, np.bool_))
                                       or not isinstance(chunk_size, (int, np.integer))):
            raise TypeError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = None if chunk_size is None else int(chunk_size)

    # -- inputs -------------------------------------------------------------
    def _split(self, inputs: tuple[Any, ...], sample_weight: Any) -> tuple[tuple[Any, ...], Any]:
        if len(inputs) not in (3, 4):
            raise TypeError("LinearCrossentropy takes (labels, hidden, weight) or (labels, "
                            "hidden, weight, bias), and sample_weight by keyword; got "
                            f"{len(inputs)} positional arguments")
        return (*inputs, None) if len(inputs) == 3 else tuple(inputs), sample_weight

    def _deliver(self, grads: Grads, out: Any, args: tuple[Any, ...]) -> Grads:
        if out is not None:
            raise TypeError("LinearCrossentropy does not take out=: its gradients are "
                            "written by matrix products into arrays of its own")
        return grads

    def _prepare(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """(labels int64 (N,), hidden (N, H), weight (V, H), bias (V,) or None,
        class_weight float64 (V,) or None), checked and contiguous."""
        labels_in, hidden_in, weight_in, bias_in = args
        hidden = _float_matrix(hidden_in, "hidden", None, 2, "(N, H)")
        weight = _float_matrix(weight_in, "weight", hidden.dtype, 2, "(V, H)")
        n, h = hidden.shape
        v = weight.shape[0]
        if weight.shape[1] != h:
            raise ValueError(f"weight has shape {weight.shape} but hidden has shape "
                             f"{hidden.shape}: weight must be (V, H) = (V, {h}), as "
                             "torch.nn.Linear(H, V) stores it")
        if v == 0:
            raise ValueError("weight has no rows: there must be at least one class (V >= 1)")
        bias = None
        if bias_in is not None:
            bias = _float_matrix(bias_in, "bias", hidden.dtype, 1, "(V,)")
            if bias.shape[0] != v:
                raise ValueError(f"bias has shape {bias.shape} but weight has {v} rows: bias "
                                 f"must be (V,) = ({v},)")
        labels = _integers(labels_in, "labels")
        if labels.shape != (n,):
            raise ValueError(f"labels must be (N,) = ({n},), one per row of hidden "
                             f"{hidden.shape}, got shape {labels.shape}")
        class_weight = None
        if self.class_weight is not None:
            if len(self.class_weight) != v:
                raise ValueError(f"class_weight has {len(self.class_weight)} entries but "
                                 f"weight has V = {v} classes")
            class_weight = np.asarray(self.class_weight, dtype=np.float64)
        return labels, hidden, weight, bias, class_weight

    def _ignored(self) -> int:
        # None ignores nothing: a value no label can hold (labels are >= 0 or an error)
        return -2**63 if self.ignore_class is None else self.ignore_class

    # -- the pass -----------------------------------------------------------
    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        labels, hidden, weight, bias, class_weight = self._prepare(args)
        n = hidden.shape[0]
        dtype = hidden.dtype
        ignored = self._ignored()
        valid = labels != ignored
        label_weight = None
        if class_weight is not None:
            # the ignored rows' labels may be out of range: read the counted ones only
            label_weight = np.zeros(n)
            label_weight[valid] = class_weight[np.clip(labels[valid], 0, len(class_weight) - 1)]
        w = _passes.keras_weighting(sample_weight, (n,), dtype, REDUCTIONS[self.reduction],
                                    valid=valid, label_weight=label_weight,
                                    class_weighted_mean=True)
        if w.broadcast_up:
            raise ValueError(f"sample_weight of shape {np.shape(sample_weight)} must hold one "
                             f"weight per row ({n},)")
        per_row = np.empty(n) if want_value else None
        coef = None
        d_hidden = d_weight = d_bias = None
        if want_grad:
            coef = np.ascontiguousarray(w.coefficients(grad_output, n, dtype), dtype=np.float64)
            d_hidden, d_weight = np.empty_like(hidden), np.empty_like(weight)
            d_bias = np.empty_like(bias) if bias is not None else None
        _core.linear_ce(labels, hidden, weight, bias, class_weight, ignored,
                        self.label_smoothing, self.chunk_size or 0, _gemm_capsule(dtype),
                        per_row, coef, d_hidden, d_weight, d_bias)
        grads: Grads = (d_hidden, d_weight) if bias is None else (d_hidden, d_weight, d_bias)
        value = None
        if per_row is not None:
            value = w.reduce(per_row, dtype)
            if w.reduction == REDUCTION_SOBS and n > 0 and w.divisor == 0.0:
                value = dtype.type(math.nan)  # PyTorch's mean over no counted row: 0 / 0
        return value, grads

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        raise NotImplementedError  # pragma: no cover - has_hessian is False

    def plan(self, n: int, v: int, dtype: Any = np.float32) -> tuple[int, int]:
        """(rows per block, vocabulary entries per chunk) for N = n rows and V =
        v classes: the logits buffer holds their product."""
        rows, chunk = _core.linear_ce_plan(int(n), int(v), np.dtype(dtype).itemsize,
                                           self.chunk_size or 0)
        return int(rows), int(chunk)


LINEAR_CE_LOSSES: tuple[type[Any], ...] = (LinearCrossentropy,)

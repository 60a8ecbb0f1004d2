"""Elementwise losses: f(y_true, y_pred) per element, averaged over `axis` (the
last by default) into per-sample losses, weighted and reduced as in Keras 3.

Each class picks a compiled kernel from ``_core`` (one C++ struct each); the
math lives there and nowhere else. The classes themselves are made from the
structs' declarations by ``_declared``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _passes
from ._arrays import REDUCTION_NONE
from ._base import Loss, document


class CompiledElementwiseLoss(Loss):
    """A loss whose value at one element depends only on that element,
    computed by one compiled kernel (a C++ struct)."""

    #: Name of the _core kernel class; a class attribute, or set per instance
    #: before ``__init__`` when a parameter picks the kernel (from_logits).
    _kernel_name: str = ""

    #: Each element is its own sample (no per-sample mean): the losses that
    #: follow PyTorch's elementwise ``reduction="none"`` (SoftMargin, ...).
    _per_element: bool = False

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, axis: int = -1) -> None:
        super().__init__(reduction=reduction, name=name)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"axis must be an integer, got {axis!r}")
        #: () for a per-element loss: no axis is reduced (see _arrays.reduced_axes)
        self.axis: Any = () if self._per_element else int(axis)
        self._kernel = self._make_kernel()
        self.has_hessian = bool(self._kernel.has_hessian)

    def _make_kernel(self) -> Any:
        return getattr(_core, self._kernel_name)(list(self._kernel_params()))

    def _kernel_params(self) -> tuple[float, ...]:
        return ()

    #: What the two arrays the kernel reads are, for errors about out=.
    _kernel_input_names: tuple[str, str] = ("y_true", "y_pred")

    #: Whether the small-call fast path applies (the kernel reads y_true and
    #: y_pred as given; not so for user-defined losses).
    _fast = True

    # -- the passes -----------------------------------------------------------
    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        if (sample_weight is None and self._fast and self.axis == -1
                and type(y_pred) is np.ndarray
                and (type(grad_output) is float
                     or (type(grad_output) is int and -(2**63) <= grad_output < 2**63))):
            # Fast path for the common call: same-shape C-contiguous float
            # arrays, no weights, a reduced value, out= None or a plain array,
            # reduced by Keras's rule over the prod(shape[:-1]) samples. The
            # kernel returns None when the arrays do not qualify (it checks
            # them), and the general path runs.
            code = _arrays.REDUCTIONS[self.reduction]
            if code != REDUCTION_NONE and y_pred.size and y_pred.ndim:
                code, divisor = _passes.reduction_rule(code, y_pred.shape[:-1])
                r = self._kernel.fast(y_true, y_pred, code, divisor, want_value, want_grad,
                                      float(grad_output), out)
                if r is not None:
                    if want_value and want_grad:
                        return y_pred.dtype.type(r[0]), r[1]
                    return (y_pred.dtype.type(r), None) if want_value else (None, r)
        pr = _arrays.prepare_pair(y_true, y_pred, self.axis)
        sample_weight = self._leading(sample_weight, "sample_weight", pr)
        if _arrays.REDUCTIONS[self.reduction] == REDUCTION_NONE:
            grad_output = self._leading(grad_output, "grad_output", pr)
        call = _passes.KernelCall(lambda: self._kernel_inputs(pr, want_value, want_grad),
                                  pr.dtype, pr.pred_shape, pr.sample_shape, pr.shape3,
                                  empty=pr.shape3[0] * pr.shape3[2] == 0,
                                  names=self._kernel_input_names)
        return _passes.run(self._kernel, call, sample_weight, self.reduction,
                           want_value=want_value, want_grad=want_grad, grad_output=grad_output,
                           out=out, inputs={"y_true": y_true, "y_pred": y_pred,
                                            "sample_weight": sample_weight})

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        pr = _arrays.prepare_pair(y_true, y_pred, self.axis)
        sample_weight = self._leading(sample_weight, "sample_weight", pr)
        call = _passes.KernelCall(lambda: self._kernel_hessian_inputs(pr), pr.dtype,
                                  pr.pred_shape, pr.sample_shape, pr.shape3,
                                  empty=pr.y_pred3.size == 0, names=self._kernel_input_names)
        return _passes.gradient_hessian(self._kernel, call, sample_weight)

    def _leading(self, x: Any, what: str, pr: _arrays.Prepared) -> Any:
        """A per-element loss's samples are its elements: a per-sample array
        (sample_weight, or grad_output with reduction "none") of lower rank than
        the inputs weighs their leading axes (a (N,) weight, the rows of (N, D)
        inputs), where Keras's rule would try to broadcast it against the last
        axis."""
        if not self._per_element or x is None or np.ndim(x) == 0:
            return x
        a = _arrays.as_float(x, what, pr.dtype)
        extra = len(pr.sample_shape) - a.ndim
        if extra <= 0:
            return x
        aligned = a.reshape(a.shape + (1,) * extra)
        try:
            np.broadcast_shapes(aligned.shape, pr.sample_shape)
        except ValueError:
            raise ValueError(
                f"{what} of shape {a.shape} does not broadcast against the per-sample losses "
                f"of shape {pr.sample_shape} (each element is a sample; an array of lower rank "
                f"weighs the leading axes)") from None
        return aligned

    def _kernel_inputs(self, pr: _arrays.Prepared, want_value: bool,
                       want_grad: bool) -> tuple[np.ndarray, np.ndarray]:
        """The two (outer, axis, inner) arrays the kernel's run reads."""
        return pr.y_true3, pr.y_pred3

    def _kernel_hessian_inputs(self, pr: _arrays.Prepared) -> tuple[np.ndarray, np.ndarray]:
        return pr.y_true3, pr.y_pred3


# ---------------------------------------------------------------------------
# The loss classes are made by _declared from their C++ structs' declarations
# (kInfo); their docstrings are assembled from one entry per loss, so that the
# shared parts (reductions, methods, dtypes) are written once.

def _document(cls: type, summary: str, formula: str, gradient: str, hessian: str,
              params: str = "", notes: str = "", per_element: bool = False) -> None:
    """The numpydoc docstring of an elementwise loss class, from its parts."""
    per_sample = ("Each element is its own sample, as in PyTorch: ``reduction=\"none\"`` "
                  "returns y_pred's shape, ``\"sum_over_batch_size\"`` is the mean over every "
                  "element (PyTorch's ``\"mean\"``)." if per_element else
                  "The per-sample loss is the mean over the last axis (Keras's convention).")
    document(cls, summary, "Per element (``t`` = y_true, ``p`` = y_pred)::", formula, gradient,
             hessian, per_sample=per_sample, params=params, notes=notes)

"""Elementwise losses: f(y_true, y_pred) per element, averaged over `axis` (the
last by default) into per-sample losses, weighted and reduced as in Keras 3.

Each class picks a compiled kernel from ``_core`` (one C++ struct each); the
math lives there and nowhere else.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _passes
from ._arrays import REDUCTION_NONE
from ._base import Loss, document

_PIECEWISE_LINEAR = (
    "the loss is piecewise linear in y_pred, so its second derivative is zero wherever it "
    "exists and undefined at the kinks; a Newton step has no curvature to use. Gradient "
    "boosting libraries substitute a constant Hessian (scikit-learn and LightGBM use 1)."
)


class CompiledElementwiseLoss(Loss):
    """A loss whose value at one element depends only on that element,
    computed by one compiled kernel (a C++ struct)."""

    #: Name of the _core kernel class; a class attribute, or set per instance
    #: before ``__init__`` when a parameter picks the kernel (from_logits).
    _kernel_name: str = ""

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None, axis: int = -1) -> None:
        super().__init__(reduction=reduction, name=name)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"axis must be an integer, got {axis!r}")
        self.axis = int(axis)
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
        call = _passes.KernelCall(lambda: self._kernel_hessian_inputs(pr), pr.dtype,
                                  pr.pred_shape, pr.sample_shape, pr.shape3,
                                  empty=pr.y_pred3.size == 0, names=self._kernel_input_names)
        return _passes.gradient_hessian(self._kernel, call, sample_weight)

    def _kernel_inputs(self, pr: _arrays.Prepared, want_value: bool,
                       want_grad: bool) -> tuple[np.ndarray, np.ndarray]:
        """The two (outer, axis, inner) arrays the kernel's run reads."""
        return pr.y_true3, pr.y_pred3

    def _kernel_hessian_inputs(self, pr: _arrays.Prepared) -> tuple[np.ndarray, np.ndarray]:
        return pr.y_true3, pr.y_pred3


# ---------------------------------------------------------------------------
# The losses below are written out here; those whose C++ struct carries a
# declaration (kInfo) are made by _declared from it instead.
# Docstrings are assembled from one entry per loss, so that the shared parts
# (reductions, methods, dtypes) are written once.

def _document(cls: type, summary: str, formula: str, gradient: str, hessian: str,
              params: str = "", notes: str = "") -> None:
    """The numpydoc docstring of an elementwise loss class, from its parts."""
    document(cls, summary, "Per element (``t`` = y_true, ``p`` = y_pred)::", formula, gradient,
             hessian, per_sample="The per-sample loss is the mean over the last axis "
             "(Keras's convention).", params=params, notes=notes)


class MeanAbsoluteError(CompiledElementwiseLoss):
    _kernel_name = "MeanAbsoluteError"
    _default_name = "mean_absolute_error"
    _no_hessian_reason = _PIECEWISE_LINEAR


_document(MeanAbsoluteError, "Mean absolute error (Keras ``MeanAbsoluteError``).",
          "|t - p|", "sign(p - t)  (0 at p == t)", "")


class MeanAbsolutePercentageError(CompiledElementwiseLoss):
    _kernel_name = "MeanAbsolutePercentageError"
    _default_name = "mean_absolute_percentage_error"
    _no_hessian_reason = _PIECEWISE_LINEAR


_document(MeanAbsolutePercentageError,
          "Mean absolute percentage error (Keras ``MeanAbsolutePercentageError``).",
          "100 |t - p| / max(|t|, 1e-7)", "100 sign(p - t) / max(|t|, 1e-7)", "",
          notes="The 1e-7 floor on |t| is Keras's epsilon.")


class MeanSquaredLogarithmicError(CompiledElementwiseLoss):
    _kernel_name = "MeanSquaredLogarithmicError"
    _default_name = "mean_squared_logarithmic_error"


_document(MeanSquaredLogarithmicError,
          "Mean squared logarithmic error (Keras ``MeanSquaredLogarithmicError``).",
          "(log(max(p, 1e-7) + 1) - log(max(t, 1e-7) + 1))**2",
          "2 r / (p + 1), r the log difference; 0 where p < 1e-7 (clipped)",
          "2 (1 - r) / (p + 1)**2; 0 where clipped",
          notes="Inputs below 1e-7 are clipped as Keras clips them, so the gradient is zero "
                "there.")


class LogCosh(CompiledElementwiseLoss):
    _kernel_name = "LogCosh"
    _default_name = "log_cosh"


_document(LogCosh, "Logarithm of the hyperbolic cosine of the error (Keras ``LogCosh``).",
          "log(cosh(e)) = e + softplus(-2 e) - log 2,  e = p - t", "tanh(e)",
          "1 - tanh(e)**2",
          notes="Evaluated through softplus, as Keras does, so that it stays finite where "
                "cosh overflows.")


class Poisson(CompiledElementwiseLoss):
    _kernel_name = "Poisson"
    _default_name = "poisson"


_document(Poisson, "Poisson negative log-likelihood without the constant (Keras ``Poisson``).",
          "p - t log(p + 1e-7)", "1 - t / (p + 1e-7)", "t / (p + 1e-7)**2",
          notes="Domain: p > -1e-7; negative predictions give NaN, as NumPy's log does.")


class HalfSquaredError(CompiledElementwiseLoss):
    _kernel_name = "HalfSquaredError"
    _default_name = "half_squared_error"


_document(HalfSquaredError,
          "Half squared error, the textbook squared loss (scikit-learn's HalfSquaredError).",
          "(p - t)**2 / 2", "p - t", "1")


class SmoothL1(CompiledElementwiseLoss):
    _kernel_name = "SmoothL1"
    _default_name = "smooth_l1"

    def __init__(self, beta: float = 1.0, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.beta = _arrays.real_param(beta, "beta")
        super().__init__(reduction=reduction, name=name)

    def _kernel_params(self) -> tuple[float, ...]:
        return (self.beta,)


_document(SmoothL1, "PyTorch's smooth L1 loss.",
          "e**2 / (2 beta) if |e| < beta else |e| - beta / 2,  e = p - t",
          "e / beta if |e| < beta else sign(e)", "1 / beta if |e| < beta else 0",
          params="beta : float, default 1.0\n    Width of the quadratic zone; >= 0 "
                 "(0 is the absolute error, as in PyTorch).",
          notes="Huber(delta) equals delta * SmoothL1(beta=delta).")


class AsymmetricLinear(CompiledElementwiseLoss):
    _kernel_name = "AsymmetricLinear"
    _default_name = "asymmetric_linear"
    _no_hessian_reason = _PIECEWISE_LINEAR

    def __init__(self, overestimate_cost: float = 1.0, underestimate_cost: float = 1.0,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.overestimate_cost = _arrays.real_param(overestimate_cost, "overestimate_cost")
        self.underestimate_cost = _arrays.real_param(underestimate_cost, "underestimate_cost")
        super().__init__(reduction=reduction, name=name)

    def _kernel_params(self) -> tuple[float, ...]:
        return (self.overestimate_cost, self.underestimate_cost)


_document(AsymmetricLinear,
          "Asymmetric linear cost: the seeds' yogurt-sales cost/profit loss.",
          "over (p - t) if p > t else under (t - p)", "over if p > t else -under", "",
          params="overestimate_cost : float, default 1.0\n    Cost per unit predicted above "
                 "the target (COST in the seeds), >= 0.\nunderestimate_cost : float, default "
                 "1.0\n    Cost per unit below it (PROFIT in the seeds), >= 0.",
          notes="With costs c_over and c_under the minimiser is the c_under / (c_over + "
                "c_under) quantile: Pinball(q) is AsymmetricLinear(1 - q, q).")


class BinaryCrossentropy(CompiledElementwiseLoss):
    _default_name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.from_logits = bool(from_logits)
        self.label_smoothing = _arrays.real_param(label_smoothing, "label_smoothing")
        self._kernel_name = "BinaryCrossentropyLogits" if self.from_logits else "BinaryCrossentropy"
        super().__init__(reduction=reduction, name=name, axis=axis)

    def _kernel_params(self) -> tuple[float, ...]:
        return (self.label_smoothing,)


_document(BinaryCrossentropy, "Binary cross-entropy (Keras ``BinaryCrossentropy``).",
          "-(t log pc + (1 - t) log(1 - pc)),  pc = clip(p, 1e-7, 1 - 1e-7); "
          "from logits z: (1 - t) z + softplus(-z)",
          "-t / pc + (1 - t) / (1 - pc), 0 where clipped; from logits: sigmoid(z) - t",
          "t / pc**2 + (1 - t) / (1 - pc)**2, 0 where clipped; from logits: s (1 - s)",
          params="from_logits : bool, default False\n    Whether y_pred holds logits.\n"
                 "label_smoothing : float, default 0.0\n    In [0, 1]; targets become "
                 "t (1 - ls) + ls / 2.\naxis : int, default -1\n    Axis of the per-sample mean.",
          notes="The probability path clips exactly as Keras does and then takes plain logs "
                "(Keras's torch, JAX and NumPy backends; the TensorFlow backend also adds 1e-7 "
                "inside the logs). The logits path is finite for logits of any size.")


class BinaryFocalCrossentropy(CompiledElementwiseLoss):
    _default_name = "binary_focal_crossentropy"

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha = _arrays.real_param(alpha, "alpha")
        self.gamma = _arrays.real_param(gamma, "gamma")
        self.from_logits = bool(from_logits)
        self.label_smoothing = _arrays.real_param(label_smoothing, "label_smoothing")
        self._kernel_name = ("BinaryFocalCrossentropyLogits" if self.from_logits
                             else "BinaryFocalCrossentropy")
        super().__init__(reduction=reduction, name=name, axis=axis)

    def _kernel_params(self) -> tuple[float, ...]:
        return (float(self.apply_class_balancing), self.alpha, self.gamma, self.label_smoothing)


_document(BinaryFocalCrossentropy,
          "Binary focal cross-entropy (Keras ``BinaryFocalCrossentropy``, Lin et al. 2017).",
          "w (1 - p_t)**gamma bce(p),  p_t = t p + (1 - t)(1 - p), w = alpha-balance or 1",
          "product rule on both factors (bce' is 0 where p is clipped)",
          "second derivative of the same product",
          params="apply_class_balancing : bool, default False\n    Weight class 1 by alpha and "
                 "class 0 by 1 - alpha.\nalpha : float, default 0.25\n    In [0, 1].\n"
                 "gamma : float, default 2.0\n    Focusing exponent, >= 0.\n"
                 "from_logits : bool, default False\n    y_pred holds logits: Keras applies "
                 "sigmoid first, and so does this loss (then the chain rule by s (1 - s)).\n"
                 "label_smoothing : float, default 0.0\n    In [0, 1].\n"
                 "axis : int, default -1\n    Axis of the per-sample mean.")


class Hinge(CompiledElementwiseLoss):
    _kernel_name = "Hinge"
    _default_name = "hinge"
    _no_hessian_reason = _PIECEWISE_LINEAR


_LABEL_RULE = ("Labels are -1/+1; when every label of a call is exactly 0 or 1 they are mapped "
               "to -1/+1 first (Keras's rule).")

_document(Hinge, "Hinge loss (Keras ``Hinge``).", "max(1 - t p, 0)",
          "-t where 1 - t p > 0, else 0", "", notes=_LABEL_RULE)


class SquaredHinge(CompiledElementwiseLoss):
    _kernel_name = "SquaredHinge"
    _default_name = "squared_hinge"


_document(SquaredHinge, "Squared hinge loss (Keras ``SquaredHinge``).", "max(1 - t p, 0)**2",
          "-2 t max(1 - t p, 0)", "2 t**2 where 1 - t p > 0, else 0", notes=_LABEL_RULE)


class ExponentialLoss(CompiledElementwiseLoss):
    _kernel_name = "ExponentialLoss"
    _default_name = "exponential"


_document(ExponentialLoss, "Exponential loss of AdaBoost.", "exp(-t p)", "-t exp(-t p)",
          "t**2 exp(-t p)", notes=_LABEL_RULE + " Large negative margins overflow to inf, "
          "as NumPy's exp does.")


class ZeroOneLoss(CompiledElementwiseLoss):
    _kernel_name = "ZeroOneLoss"
    _default_name = "zero_one"
    _no_hessian_reason = ("the 0-1 loss is piecewise constant: its derivatives are zero "
                          "wherever they exist and carry no information.")

    def __init__(self, threshold: float = 0.5, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.threshold = _arrays.real_param(threshold, "threshold")
        super().__init__(reduction=reduction, name=name)

    def _kernel_params(self) -> tuple[float, ...]:
        return (self.threshold,)


_document(ZeroOneLoss,
          "0-1 loss: the error rate of thresholded predictions (1 - Keras's binary_accuracy).",
          "0 if (p > threshold) == t else 1", "0 (the loss is piecewise constant)", "",
          params="threshold : float, default 0.5\n    Predictions above it count as class 1.",
          notes="The gradient is identically zero: this is a metric, not something to "
                "descend on. Labels must be 0/1 to ever count as correct; NaN propagates.")


#: The classes written out in this module (the declared ones: _declared.CLASSES).
ELEMENTWISE_LOSSES: tuple[type[CompiledElementwiseLoss], ...] = (
    MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, LogCosh, Poisson, HalfSquaredError, SmoothL1,
    AsymmetricLinear, BinaryCrossentropy, BinaryFocalCrossentropy, Hinge, SquaredHinge,
    ExponentialLoss, ZeroOneLoss,
)

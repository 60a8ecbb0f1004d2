"""The Loss base class: the four methods every loss has (API.md §1)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _arrays

_SHARED_PARAMS = """\
reduction : {"sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None}
    Keras 3's reductions of the weighted per-sample losses. Default "sum_over_batch_size".
name : str, optional
    Name of the loss object (Keras's)."""


_METHODS = """\
Methods: ``loss(y_true, y_pred, sample_weight)`` (= ``forward``), ``backward``,
``forward_backward`` (one fused pass, ``out=`` may be ``y_pred``) and
``gradient_hessian`` (per element, unreduced).
float32 inputs are computed in float32, float64 in float64; the per-sample mean
over the axis and the reduction accumulate in float64."""


def document(cls: type, summary: str, header: str, formula: str, gradient: str,
             hessian: str, *, hessian_note: str = "", per_sample: str = "", params: str = "",
             notes: str = "", methods: str = _METHODS) -> None:
    """Assembles a loss class's numpydoc docstring from its own parts and the
    text every loss shares (parameters, methods), so that is written once."""
    parts = [summary, "", header, "", f"    loss = {formula}", f"    dloss/dp = {gradient}"]
    parts.append(f"    d2loss/dp2 = {hessian}{hessian_note}" if hessian else "")
    if per_sample:
        parts += ["", per_sample]
    parts += ["", "Parameters", "----------"]
    if params:
        parts.append(params)
    parts += [_SHARED_PARAMS, "", "Notes", "-----", methods]
    if notes:
        parts += ["", notes]
    cls.__doc__ = "\n".join(parts)


class Combinable:
    """What every loss object shares: the reduction and name, Keras-style
    introspection, and arithmetic (``0.7 * a + 0.3 * b`` builds a
    :class:`fastloss.CompositeLoss` whose four methods are the weighted sums of
    the terms', each term evaluated in its own fused pass)."""

    _default_name: str = "loss"

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.reduction = _arrays.check_reduction(reduction)
        self.name = name if name is not None else self._default_name

    # -- Keras-style introspection ------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"

    # NumPy must not broadcast `array * loss` into an object array of sums:
    # returning NotImplemented from here makes it a TypeError.
    __array_ufunc__ = None

    def _as_terms(self) -> list[tuple[float, Any]]:
        return [(1.0, self)]

    def __mul__(self, weight: Any) -> Any:
        from ._custom import CompositeLoss, check_weight

        w = check_weight(weight)
        return CompositeLoss([(w * c, t) for c, t in self._as_terms()])

    __rmul__ = __mul__

    def __truediv__(self, divisor: Any) -> Any:
        from ._custom import check_weight

        d = check_weight(divisor)
        if d == 0.0:
            raise ZeroDivisionError("dividing a loss by zero")
        return self * (1.0 / d)

    def __neg__(self) -> Any:
        return self * -1.0

    def __add__(self, other: Any) -> Any:
        from ._custom import CompositeLoss

        if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 0:
            return CompositeLoss(self._as_terms())  # sum([...]) starts from 0
        if not isinstance(other, Combinable):
            return NotImplemented
        return CompositeLoss(self._as_terms() + other._as_terms())

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if not isinstance(other, Combinable):
            return NotImplemented
        return self + (-other)


class Loss(Combinable):
    """Base class of every fastloss loss.

    Subclasses implement ``_run``; this class fixes the public methods:
    ``__call__``/``forward``, ``backward``, ``forward_backward`` and
    ``gradient_hessian``.
    """

    #: True when ``gradient_hessian`` is available.
    has_hessian: bool = False
    #: Why there is no Hessian (the NotImplementedError's message).
    _no_hessian_reason: str = ""
    #: Inputs the loss compares against / inputs it differentiates (composites
    #: use these to hand each term its arguments).
    _n_targets: int = 1
    _n_trained: int = 1

    # -- the public methods -------------------------------------------------
    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """Same as :meth:`forward`."""
        return self.forward(y_true, y_pred, sample_weight)

    def forward(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The loss: per-sample losses, times ``sample_weight``, reduced.

        Returns a NumPy scalar of the compute dtype, or the per-sample array
        when ``reduction`` is "none"."""
        value, _ = self._run(y_true, y_pred, sample_weight, want_value=True, want_grad=False)
        return value

    def backward(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 grad_output: Any = 1.0, out: Optional[np.ndarray] = None) -> np.ndarray:
        """d(forward)/d(y_pred) times ``grad_output``, shaped like ``y_pred``.

        ``grad_output`` is a scalar, or with reduction "none" an array of the
        per-sample shape. ``out`` receives the gradient (it may be ``y_pred``)."""
        _, grad = self._run(y_true, y_pred, sample_weight, want_value=False, want_grad=True,
                            grad_output=grad_output, out=out)
        return grad

    def forward_backward(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                         grad_output: Any = 1.0,
                         out: Optional[np.ndarray] = None) -> tuple[Any, np.ndarray]:
        """(forward, backward) from one fused pass over the inputs."""
        return self._run(y_true, y_pred, sample_weight, want_value=True, want_grad=True,
                         grad_output=grad_output, out=out)

    def gradient_hessian(self, y_true: Any, y_pred: Any,
                         sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian diagonal of the unreduced per-element loss.

        No mean over the axis and no reduction: the convention of XGBoost /
        LightGBM custom objectives and scikit-learn's loss module. Both are
        multiplied by ``sample_weight`` (per sample, or per element)."""
        if not self.has_hessian:
            raise NotImplementedError(
                f"{type(self).__name__} has no gradient_hessian: {self._no_hessian_reason}"
            )
        return self._gradient_hessian(y_true, y_pred, sample_weight)

    # -- for subclasses -----------------------------------------------------
    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError  # pragma: no cover - abstract

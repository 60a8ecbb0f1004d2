"""The losses whose inputs are not one (y_true, y_pred) pair.

:class:`MultiInputLoss` is their base: targets first, what is being trained
last, and ``backward`` returns one gradient per trained input.
:class:`DeclaredMultiInputLoss` is the base of the multi-input losses declared
in the C++ core (``losses/multi_input.hpp``: several same-shaped inputs per
element, one generic kernel): ``fastloss._declared`` makes their classes from
the declarations, and this class checks their inputs, flattens them for the
kernel and applies Keras's sample weights and reductions.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from . import _arrays, _core, _dask, _passes
from ._base import Combinable

Grads = tuple[Any, ...]

# Appended to a class docstring after its 4-space indented text, so its
# continuation lines carry that indentation too (else help() and the
# documentation read the sections that follow as misplaced).
_MULTI_METHODS = """\
Methods: ``loss(*inputs, sample_weight=None)`` (= ``forward``), ``backward`` (a tuple:
    one gradient per trained input), ``forward_backward`` and ``gradient_hessian``.
    ``sample_weight`` may also be passed as the last positional argument."""


class MultiInputLoss(Combinable):
    """Base of the losses whose inputs are not one (y_true, y_pred) pair.

    Subclasses name their inputs (``_inputs``, targets first) and implement
    ``_evaluate``; this class fixes the public methods and their checks."""

    _inputs: tuple[str, ...] = ()
    _n_targets = 0
    _n_trained = 1
    _default_name = "loss"
    has_hessian = False
    _no_hessian_reason = ""

    # -- the public methods -------------------------------------------------
    def __call__(self, *inputs: Any, sample_weight: Any = None) -> Any:
        """Same as :meth:`forward`."""
        return self.forward(*inputs, sample_weight=sample_weight)

    def forward(self, *inputs: Any, sample_weight: Any = None) -> Any:
        """The loss: per-sample losses, times ``sample_weight``, reduced."""
        args, sw = self._split(inputs, sample_weight)
        value, _ = self._pass(args, sw, want_value=True, want_grad=False, grad_output=1.0)
        return value

    def backward(self, *inputs: Any, sample_weight: Any = None, grad_output: Any = 1.0,
                 out: Any = None) -> Grads:
        """One gradient per trained input (a tuple), times ``grad_output``."""
        args, sw = self._split(inputs, sample_weight)
        _, grads = self._pass(args, sw, want_value=False, want_grad=True,
                              grad_output=grad_output, out=out)
        return self._deliver(grads, out, args)

    def forward_backward(self, *inputs: Any, sample_weight: Any = None, grad_output: Any = 1.0,
                         out: Any = None) -> tuple[Any, Grads]:
        """(forward, backward) from one pass per kernel."""
        args, sw = self._split(inputs, sample_weight)
        value, grads = self._pass(args, sw, want_value=True, want_grad=True,
                                  grad_output=grad_output, out=out)
        return value, self._deliver(grads, out, args)

    def gradient_hessian(self, *inputs: Any, sample_weight: Any = None) -> tuple[Grads, Grads]:
        """Gradients and Hessian diagonals of the unreduced per-sample losses
        (times ``sample_weight``), one of each per trained input."""
        if not self.has_hessian:
            raise NotImplementedError(
                f"{type(self).__name__} has no gradient_hessian: {self._no_hessian_reason}")
        args, sw = self._split(inputs, sample_weight)
        if _dask.holds_dask(*args, sw):
            return _dask.evaluate_hessian(self, args, sw)
        return self._gradient_hessian(args, sw)

    # -- dask arrays ----------------------------------------------------------
    def _pass(self, args: tuple[Any, ...], sample_weight: Any, *, out: Any = None,
              **options: Any) -> tuple[Any, Grads]:
        """_evaluate, or its lazy Dask form (fastloss._dask) when an input is a
        dask array: each (y_true, y_pred) term of ``_dask_terms`` on the blocks."""
        if _dask.holds_dask(*args, sample_weight, options["grad_output"]):
            return _dask.evaluate(self, args, sample_weight, out=out, **options)
        return self._evaluate(args, sample_weight, **options)

    # -- shared checks --------------------------------------------------------
    def _split(self, inputs: tuple[Any, ...], sample_weight: Any) -> tuple[tuple[Any, ...], Any]:
        n = len(self._inputs)
        if len(inputs) == n + 1 and sample_weight is None:
            return tuple(inputs[:n]), inputs[n]
        if len(inputs) != n:
            raise TypeError(
                f"{type(self).__name__} takes {n} input{'s' if n > 1 else ''} "
                f"({', '.join(self._inputs)}) and an optional sample_weight, "
                f"got {len(inputs)} positional arguments")
        return tuple(inputs), sample_weight

    def _deliver(self, grads: Grads, out: Any, args: tuple[Any, ...]) -> Grads:
        """Copies the gradients into the user's ``out=`` (an array when there
        is one gradient, else a tuple of arrays) and returns them."""
        if out is None:
            return grads
        outs = (out,) if isinstance(out, np.ndarray) else tuple(out)
        if len(outs) != len(grads):
            raise ValueError(f"out must hold {len(grads)} arrays, got {len(outs)}")
        named = dict(zip(self._inputs, args))
        for o, g, name in zip(outs, grads, self._inputs[self._n_targets:]):
            if isinstance(g, list):
                raise TypeError("out= is not supported for a list of layers")
            # out may be the very input it is the gradient of (in place), no other
            others = {("y_pred" if k == name else k): v for k, v in named.items()}
            _arrays.check_out(o, g.shape, g.dtype, others, what=f"out for {name}")
        _arrays.deliver(outs, grads)
        return outs

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        raise NotImplementedError  # pragma: no cover - abstract


# ---------------------------------------------------------------------------
# Per-image reductions (content, style, total variation): one loss per image,
# then Keras's sample-weight and reduction rules over the batch.

class _PerImage:
    """Keras's weighting of per-image losses (the rules of _passes): the reduced
    value and, for the gradient, the coefficient each image's gradient is
    multiplied by."""

    def __init__(self, sample_weight: Any, batch_shape: tuple[int, ...], dtype: np.dtype,
                 reduction: Optional[str]) -> None:
        self.w = _passes.keras_weighting(sample_weight, batch_shape, dtype,
                                         _arrays.REDUCTIONS[reduction])
        self.n = math.prod(batch_shape)
        self.dtype = dtype

    def value(self, per_image: np.ndarray) -> Any:
        """per_image: float64, flat (n,)."""
        return self.w.reduce(per_image, self.dtype)

    def coefficients(self, grad_output: Any) -> np.ndarray:
        """d(reduced value)/d(per-image loss), times grad_output: float64, (n,)."""
        return self.w.coefficients(grad_output, self.n, self.dtype)


# ---------------------------------------------------------------------------
# The declared multi-input losses

#: A declared input range (its text, as losses/info.hpp writes it) -> the
#: entries it refuses and how the error names them. NaN is never refused here
#: (it propagates, as in every loss).
_INPUT_RANGES = {
    "be >= 0": (lambda a: a < 0, "negative entries"),
    "be > 0": (lambda a: a <= 0, "entries <= 0"),
    "be finite": (lambda a: np.isinf(a), "infinite entries"),
}


class DeclaredMultiInputLoss(MultiInputLoss):
    """A multi-input loss declared in the C++ core: ``_info`` is its
    declaration, ``_kernel_name`` its struct in ``_core``. Subclasses are made
    by ``fastloss._declared`` (their constructor keeps the declared
    parameters as attributes and returns them by ``_kernel_params``)."""

    _kernel_name = ""
    _info: dict[str, Any] = {}
    #: The C++ struct, made by the constructor (which checks the parameters).
    _kernel: Any = None
    _dask_refusal = "its inputs are not yet taken blockwise"

    def _kernel_params(self) -> list[float]:
        return []

    def _make_kernel(self) -> Any:
        """The C++ struct (its constructor checks the parameters' ranges)."""
        return getattr(_core, self._kernel_name)(self._kernel_params())

    @property
    def _per_element(self) -> bool:
        return bool(self._info["axis"] == "elementwise")

    # -- inputs -----------------------------------------------------------------
    def _prepare(self, args: tuple[Any, ...]) -> tuple[list[np.ndarray], tuple[int, ...]]:
        """The inputs flat for the kernel, (rows, D) or (rows,) for one value per
        sample, and the shape of the elements."""
        names = self._inputs
        first = self._n_targets
        ref = _arrays.as_float(args[first], names[first])
        arrays = [ref if k == first else _arrays.as_float(a, names[k], ref.dtype)
                  for k, a in enumerate(args)]
        if not self._per_element and ref.ndim == 0:
            raise ValueError(f"{names[first]} must have at least one dimension (the last is "
                             "averaged over, as Keras averages each sample's elements)")
        per_row_shapes: tuple[tuple[int, ...], ...] = (
            (ref.shape[:-1], (*ref.shape[:-1], 1)) if ref.ndim else ())
        flags = []
        for spec, a in zip(self._info["inputs"], arrays):
            name = spec["name"]
            if a.shape == ref.shape:
                flags.append(False)
            elif spec["per_sample"] and a.shape in per_row_shapes:
                flags.append(True)
            elif spec["per_sample"]:
                raise ValueError(
                    f"{name} has shape {a.shape}; it must have {names[first]}'s shape "
                    f"{ref.shape} (one value per element), or {per_row_shapes[1]} or "
                    f"{per_row_shapes[0]} (one per sample)")
            else:
                raise ValueError(f"{name} has shape {a.shape} but {names[first]} has shape "
                                 f"{ref.shape}; they must be the same")
            if spec["range"]:
                refused, words = _INPUT_RANGES[spec["range"]]
                if np.any(refused(a)):
                    raise ValueError(f"{name} has {words}; {spec['what']} must "
                                     f"{spec['range']}")
        if self._info["ordered"] is not None:
            lo, hi = self._info["ordered"]
            if np.any(arrays[lo] > arrays[hi]):
                raise ValueError(f"{names[lo]} has entries above {names[hi]}'s; each "
                                 f"{names[lo]} must be <= its {names[hi]}")
        rows = ref.size if self._per_element else math.prod(ref.shape[:-1])
        d = 1 if self._per_element else ref.shape[-1]
        flat = [np.ascontiguousarray(a).reshape(rows) if per_row
                else np.ascontiguousarray(a).reshape(rows, d)
                for a, per_row in zip(arrays, flags)]
        return flat, ref.shape

    def _sample_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape if self._per_element else shape[:-1]

    def _leading(self, x: Any, what: str, sample_shape: tuple[int, ...],
                 dtype: np.dtype) -> Any:
        """Where every element is a sample, a per-sample array (sample_weight, or
        grad_output with reduction "none") of lower rank than the inputs weighs
        their leading axes (a (N,) weight, the rows of (N, D) inputs), as for
        PyTorch's elementwise losses, where Keras's rule would broadcast it
        against the last axis."""
        if not self._per_element or x is None or np.ndim(x) == 0:
            return x
        a = _arrays.as_float(x, what, dtype)
        extra = len(sample_shape) - a.ndim
        if extra <= 0:
            return x
        aligned = a.reshape(a.shape + (1,) * extra)
        try:
            np.broadcast_shapes(aligned.shape, sample_shape)
        except ValueError:
            raise ValueError(
                f"{what} of shape {a.shape} does not broadcast against the per-sample losses "
                f"of shape {sample_shape} (each element is a sample; an array of lower rank "
                f"weighs the leading axes)") from None
        return aligned

    def _run_kernel(self, flat: list[np.ndarray], *, values: Any, grads: list[Any],
                    hess: list[Any], scale: Any, mean_over_row: bool) -> None:
        self._kernel.run(flat, values, grads, hess, scale, mean_over_row)

    # -- passes -----------------------------------------------------------------
    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        flat, shape = self._prepare(args)
        ref = flat[self._n_targets]
        rows = ref.shape[0]
        samples = self._sample_shape(shape)
        sample_weight = self._leading(sample_weight, "sample_weight", samples, ref.dtype)
        if _arrays.REDUCTIONS[self.reduction] == _arrays.REDUCTION_NONE:
            grad_output = self._leading(grad_output, "grad_output", samples, ref.dtype)
        red = _PerImage(sample_weight, samples, ref.dtype, self.reduction)
        values = np.empty(rows) if want_value else None
        trained = flat[self._n_targets:]
        grads = [np.empty_like(a) for a in trained] if want_grad else [None] * len(trained)
        scale = None
        if want_grad:
            scale = np.broadcast_to(red.coefficients(grad_output).astype(ref.dtype),
                                    (rows,)).copy()
        self._run_kernel(flat, values=values, grads=grads, hess=[None] * len(trained),
                         scale=scale, mean_over_row=True)
        value = red.value(values) if values is not None else None
        if not want_grad:
            return value, tuple(None for _ in trained)
        return value, tuple(np.asarray(g).reshape(np.shape(a))
                            for g, a in zip(grads, args[self._n_targets:]))

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        flat, shape = self._prepare(args)
        ref = flat[self._n_targets]
        sample_shape = self._sample_shape(shape)
        sample_weight = self._leading(sample_weight, "sample_weight", sample_shape, ref.dtype)
        scale = None
        if sample_weight is not None:
            sw = _arrays.as_float(sample_weight, "sample_weight", ref.dtype)
            try:
                scale = np.ascontiguousarray(
                    np.broadcast_to(sw, sample_shape)).reshape(-1).astype(ref.dtype)
            except ValueError:
                raise ValueError(f"sample_weight of shape {sw.shape} does not broadcast to the "
                                 f"per-sample shape {sample_shape}") from None
        trained = flat[self._n_targets:]
        grads = [np.empty_like(a) for a in trained]
        hess = [np.empty_like(a) for a in trained]
        self._run_kernel(flat, values=None, grads=list(grads), hess=list(hess), scale=scale,
                         mean_over_row=False)
        shapes = [np.shape(a) for a in args[self._n_targets:]]
        return (tuple(g.reshape(s) for g, s in zip(grads, shapes)),
                tuple(h.reshape(s) for h, s in zip(hess, shapes)))

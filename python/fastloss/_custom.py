"""Custom losses: weighted sums of losses (``0.7 * a + 0.3 * b``) and
user-defined elementwise losses from NumPy callables."""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional

import numpy as np

from . import _arrays, _dask
from ._base import Combinable, Loss, check_weight, deserialize, register_composite, serialize
from ._elementwise import CompiledElementwiseLoss
from ._models import Grads, MultiInputLoss


def _add(acc: Any, g: Any) -> Any:
    """acc + g for gradients: arrays, or lists of arrays (style layers)."""
    if acc is None:
        return g
    if isinstance(acc, list):
        return [_add(a, b) for a, b in zip(acc, g)]
    acc += g
    return acc


def _scale(g: Any, w: float) -> Any:
    if isinstance(g, list):
        return [_scale(x, w) for x in g]
    return g * g.dtype.type(w)


class CompositeLoss(MultiInputLoss):
    """A weighted sum of losses, built by arithmetic::

        total = 0.7 * fl.MeanSquaredError() + 0.3 * fl.MeanAbsoluteError()
        total = alpha * fl.ContentLoss() + beta * fl.StyleLoss()   # the tutorials' style transfer

    ``forward``, ``backward``, ``forward_backward`` and ``gradient_hessian``
    are the weighted sums of the terms', each term evaluated in its own fused
    pass (a term's weight reaches its kernel through grad_output, so there is
    no extra pass to scale gradients). Sums of sums are flattened.

    Inputs: every term differentiates the same inputs (the last ones), which
    is checked when the sum is built. The targets are either shared -- when
    every term takes the same number, ``total(y_true, y_pred)`` -- or given
    per term in term order, ``total(content_features, style_features,
    generated)`` for ``alpha * ContentLoss() + beta * StyleLoss()``.
    ``sample_weight`` goes to every term. Built from Keras-style
    ``(y_true, y_pred)`` losses only, a composite behaves as one of them:
    it takes ``(y_true, y_pred, sample_weight=None)`` (one shared y_true; the
    third positional argument is sample_weight, as in Keras) and ``backward``
    returns an array; otherwise ``backward`` returns a tuple, one gradient per
    trained input."""

    _default_name = "composite_loss"

    def __init__(self, terms: list[tuple[float, Any]], name: Optional[str] = None) -> None:
        flat: list[tuple[float, Any]] = []
        for w, t in terms:
            if not isinstance(t, Combinable):
                raise TypeError(f"a composite loss adds losses, got {type(t).__name__}")
            flat += [(check_weight(w) * c, term) for c, term in t._as_terms()]
        if not flat:
            raise ValueError("a composite loss needs at least one term")
        trained = {t._n_trained for _, t in flat}
        if len(trained) != 1:
            names = ", ".join(f"{type(t).__name__} ({t._n_trained})" for _, t in flat)
            raise TypeError("the terms of a sum must differentiate the same number of inputs; "
                            f"got {names}")
        unreduced = {t.reduction in (None, "none") for _, t in flat}
        if len(unreduced) != 1:
            names = ", ".join(f"{type(t).__name__} (reduction={t.reduction!r})" for _, t in flat)
            raise ValueError("the terms of a sum must be all reduced or all unreduced "
                             "(reduction='none'): a per-sample array and a reduced value do "
                             f"not add up to a loss with a gradient; got {names}")
        self.terms = flat
        self._n_trained = trained.pop()
        self._n_targets = sum(t._n_targets for _, t in flat)
        self._plain = all(isinstance(t, Loss) for _, t in flat)
        self.has_hessian = all(t.has_hessian for _, t in flat)
        missing = [type(t).__name__ for _, t in flat if not t.has_hessian]
        self._no_hessian_reason = f"its term(s) {', '.join(missing)} have none."
        self.reduction = None
        self.name = name if name is not None else self._default_name

    def _as_terms(self) -> list[tuple[float, Any]]:
        return list(self.terms)

    # -- inputs ---------------------------------------------------------------
    def _split(self, inputs: tuple[Any, ...], sample_weight: Any) -> tuple[tuple[Any, ...], Any]:
        if self._plain and len(inputs) == 3 and sample_weight is None:
            return tuple(inputs[:2]), inputs[2]
        return tuple(inputs), sample_weight

    def _per_term(self, inputs: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        n = self._n_trained
        ks = [t._n_targets for _, t in self.terms]
        if self._plain and len(inputs) != 2:
            raise TypeError(f"this sum of (y_true, y_pred) losses takes y_true, y_pred and an "
                            f"optional sample_weight; got {len(inputs)} inputs")
        trained = tuple(inputs[len(inputs) - n:]) if len(inputs) >= n else ()
        if len(set(ks)) == 1 and len(inputs) == ks[0] + n:
            return [(tuple(inputs[:ks[0]]), trained)] * len(ks)
        if len(inputs) == sum(ks) + n:
            out, k0 = [], 0
            for k in ks:
                out.append((tuple(inputs[k0:k0 + k]), trained))
                k0 += k
            return out
        # (when no term has targets, or there is one term, the two counts are one)
        shared = (f"{ks[0] + n} (shared targets) or "
                  if len(set(ks)) == 1 and sum(ks) != ks[0] else "")
        total = sum(ks) + n
        raise TypeError(
            f"this sum of {len(ks)} losses takes {shared}{total} input{'s' if total > 1 else ''} "
            f"(each term's targets in order, then the {n} trained input{'s' if n > 1 else ''}); "
            f"got {len(inputs)}")

    # -- the passes -------------------------------------------------------------
    @staticmethod
    def _term(term: Any, targets: tuple[Any, ...], trained: tuple[Any, ...], sample_weight: Any,
              want_value: bool, want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        if isinstance(term, Loss):
            v, g = term._run(targets[0], trained[0], sample_weight, want_value=want_value,
                             want_grad=want_grad, grad_output=grad_output)
            return v, (g,)
        return term._evaluate((*targets, *trained), sample_weight, want_value=want_value,
                              want_grad=want_grad, grad_output=grad_output)

    def _evaluate(self, args: tuple[Any, ...], sample_weight: Any, *, want_value: bool,
                  want_grad: bool, grad_output: Any) -> tuple[Any, Grads]:
        go = _arrays.as_float(grad_output, "grad_output")
        value: Any = None
        grads: list[Any] = [None] * self._n_trained
        for (w, term), (targets, trained) in zip(self.terms, self._per_term(args)):
            v, gs = self._term(term, targets, trained, sample_weight, want_value, want_grad,
                               go * w)
            if want_value:
                part = v * np.asarray(v).dtype.type(w)
                value = part if value is None else value + part
            if want_grad:
                grads = [_add(a, g) for a, g in zip(grads, gs)]
        return value, tuple(grads)

    def _dask_terms(self, args: tuple[Any, ...]) -> list[_dask.Term]:
        """The (y_true, y_pred) terms of the sum, each term's weight in its scales."""
        out = []
        for (w, term), (targets, trained) in zip(self.terms, self._per_term(args)):
            if isinstance(term, Loss):
                out.append(_dask.Term(term, targets[0], trained[0], 0, w, w))
            else:
                out += [t._replace(scale=t.scale * w, hessian_scale=t.hessian_scale * w)
                        for t in _dask._terms(term, (*targets, *trained))]
        return out

    def _gradient_hessian(self, args: tuple[Any, ...],
                          sample_weight: Any) -> tuple[Grads, Grads]:
        grads: list[Any] = [None] * self._n_trained
        hessians: list[Any] = [None] * self._n_trained
        for (w, term), (targets, trained) in zip(self.terms, self._per_term(args)):
            if isinstance(term, Loss):  # (y_true, y_pred) losses, Entropy (y_true unread) too
                g1, h1 = term._gradient_hessian(targets[0], trained[0], sample_weight)
                gs, hs = (g1,), (h1,)
            else:
                gs, hs = term._gradient_hessian((*targets, *trained), sample_weight)
            grads = [_add(a, _scale(g, w)) for a, g in zip(grads, gs)]
            hessians = [_add(a, _scale(h, w)) for a, h in zip(hessians, hs)]
        return tuple(grads), tuple(hessians)

    def _deliver(self, grads: Grads, out: Any, args: tuple[Any, ...]) -> Grads:
        if out is None:
            return grads
        outs = (out,) if isinstance(out, np.ndarray) else tuple(out)
        if len(outs) != len(grads):
            raise ValueError(f"out must hold {len(grads)} arrays, got {len(outs)}")
        n_in = len(args)
        for k, (o, g) in enumerate(zip(outs, grads)):
            if isinstance(g, list):
                raise TypeError("out= is not supported for a list of layers")
            own = n_in - len(grads) + k
            others = {("y_pred" if j == own else f"input {j}"): a for j, a in enumerate(args)}
            _arrays.check_out(o, g.shape, g.dtype, others)
        _arrays.deliver(outs, grads)
        return outs

    # -- the public methods, Keras-shaped for sums of (y_true, y_pred) losses --------
    def backward(self, *inputs: Any, sample_weight: Any = None, grad_output: Any = 1.0,
                 out: Any = None) -> Any:
        grads = super().backward(*inputs, sample_weight=sample_weight, grad_output=grad_output,
                                 out=out)
        return grads[0] if self._plain else grads

    def forward_backward(self, *inputs: Any, sample_weight: Any = None, grad_output: Any = 1.0,
                         out: Any = None) -> tuple[Any, Any]:
        value, grads = super().forward_backward(*inputs, sample_weight=sample_weight,
                                                grad_output=grad_output, out=out)
        return value, (grads[0] if self._plain else grads)

    def gradient_hessian(self, *inputs: Any, sample_weight: Any = None) -> Any:
        g, h = super().gradient_hessian(*inputs, sample_weight=sample_weight)
        return (g[0], h[0]) if self._plain else (g, h)

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., "terms": [[weight, serialize(term)], ...]}``: each term
        serialized with its class, so that ``from_config`` can rebuild it."""
        return {"name": self.name, "terms": [[w, serialize(t)] for w, t in self.terms]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CompositeLoss:
        if not isinstance(config, dict):
            raise TypeError(f"CompositeLoss.from_config expects a dict, got "
                            f"{type(config).__name__}")
        unknown = [k for k in config if k not in ("name", "terms")]
        if unknown:
            raise TypeError(f"CompositeLoss.from_config: unknown parameter(s) "
                            f"{', '.join(map(repr, unknown))}; it takes name, terms")
        terms = config.get("terms")
        if not isinstance(terms, (list, tuple)) or not all(
                isinstance(t, (list, tuple)) and len(t) == 2 for t in terms):
            raise TypeError("CompositeLoss.from_config: 'terms' must be a list of "
                            f"[weight, loss] pairs, got {terms!r}")
        return cls([(w, t if isinstance(t, Combinable) else deserialize(t)) for w, t in terms],
                   name=config.get("name"))

    def __repr__(self) -> str:
        """``0.7 * MeanSquaredError() + 0.3 * MeanAbsoluteError()``, which
        evaluates to the same sum (a non-default name makes it the constructor
        call)."""
        if self.name != self._default_name:
            terms = ", ".join(f"({w!r}, {t!r})" for w, t in self.terms)
            return f"CompositeLoss([{terms}], name={self.name!r})"
        return " + ".join(f"{w!r} * {t!r}" for w, t in self.terms)


register_composite(CompositeLoss)


class ElementwiseLoss(CompiledElementwiseLoss):
    """A user-defined elementwise loss from NumPy callables.

    ``value(y_true, y_pred)`` and ``gradient(y_true, y_pred)`` (and optionally
    ``hessian(y_true, y_pred)``) return the per-element loss and its first (and
    second) derivative in y_pred. Everything else is the built-in losses'
    machinery: Keras's rank alignment and broadcasting of y_true, the
    per-sample mean over ``axis``, sample weights, every reduction,
    ``grad_output``, ``out=`` and -- when ``hessian`` is given --
    ``gradient_hessian``. Example, the yogurt-sales tutorial's cost/profit loss::

        profit = fl.ElementwiseLoss(
            value=lambda t, p: np.where(p > t, 1.0 * (p - t), 99.0 * (t - p)),
            gradient=lambda t, p: np.where(p > t, 1.0, -99.0))

    The callables receive read-only copies of the inputs at y_pred's (aligned)
    shape and dtype (float32 or float64): nothing they do reaches the caller's
    arrays. What they return is checked: it must be real
    numbers that broadcast to that shape (a constant Hessian may be a scalar),
    and it is converted to the dtype. They are called once per method call
    (``forward_backward`` calls both ``value`` and ``gradient``).

    Parameters
    ----------
    value, gradient : callable
    hessian : callable, optional
    name : str, optional
    reduction : Keras 3's reductions, default "sum_over_batch_size"
    axis : int, default -1
        The axis of the per-sample mean."""

    _kernel_name = "Precomputed"
    _default_name = "elementwise_loss"
    _fast = False  # the kernel reads the callables' results, not the inputs
    _kernel_input_names = ("the result of value(y_true, y_pred)",
                           "the result of gradient(y_true, y_pred)")
    _no_hessian_reason = "it was built without a hessian callable."
    _config_attrs: ClassVar[dict[str, str]] = {
        "value": "value_fn", "gradient": "gradient_fn", "hessian": "hessian_fn"}

    def __init__(self, value: Callable[[np.ndarray, np.ndarray], Any],
                 gradient: Callable[[np.ndarray, np.ndarray], Any],
                 hessian: Optional[Callable[[np.ndarray, np.ndarray], Any]] = None,
                 name: Optional[str] = None, reduction: Optional[str] = "sum_over_batch_size",
                 axis: int = -1) -> None:
        for what, fn in (("value", value), ("gradient", gradient)):
            if not callable(fn):
                raise TypeError(f"ElementwiseLoss: {what} must be callable, got {fn!r}")
        if hessian is not None and not callable(hessian):
            raise TypeError(f"ElementwiseLoss: hessian must be callable or None, got {hessian!r}")
        self.value_fn, self.gradient_fn, self.hessian_fn = value, gradient, hessian
        super().__init__(reduction=reduction, name=name, axis=axis)
        self.has_hessian = hessian is not None

    @staticmethod
    def _arguments(pr: _arrays.Prepared) -> tuple[np.ndarray, np.ndarray]:
        """What the callables receive: read-only copies of y_true and y_pred at
        y_pred's aligned shape. Copies, not views: NumPy lets any holder of a
        view set it writeable again, and a callable must not be able to change
        the caller's arrays (nor return a view of them that out= overwrites)."""
        yt = np.array(pr.y_true3.reshape(pr.work_shape))
        yp = np.array(pr.y_pred3.reshape(pr.work_shape))
        yt.flags.writeable = False
        yp.flags.writeable = False
        return yt, yp

    def _call(self, fn: Callable[..., Any], what: str, pr: _arrays.Prepared,
              args: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        result = fn(*args)
        try:
            r = np.asarray(result)
        except Exception as exc:
            raise TypeError(f"{self.name}: {what}(y_true, y_pred) returned something that is "
                            f"not an array: {exc}") from None
        if r.dtype.kind not in "fiub":
            raise TypeError(f"{self.name}: {what}(y_true, y_pred) must return real numbers, "
                            f"got dtype {r.dtype}")
        try:
            r = np.broadcast_to(r, pr.work_shape)
        except ValueError:
            raise ValueError(f"{self.name}: {what}(y_true, y_pred) returned shape {r.shape}; "
                             f"expected y_pred's shape {pr.work_shape}") from None
        return _arrays.view3(r.astype(pr.dtype, copy=False), pr.shape3)

    def _unused(self, pr: _arrays.Prepared) -> np.ndarray:
        return np.broadcast_to(np.zeros((), pr.dtype), pr.shape3)

    def _kernel_inputs(self, pr: _arrays.Prepared, want_value: bool,
                       want_grad: bool) -> tuple[np.ndarray, np.ndarray]:
        args = self._arguments(pr)
        v = self._call(self.value_fn, "value", pr, args) if want_value else self._unused(pr)
        g = self._call(self.gradient_fn, "gradient", pr, args) if want_grad else self._unused(pr)
        return v, g

    def _kernel_hessian_inputs(self, pr: _arrays.Prepared) -> tuple[np.ndarray, np.ndarray]:
        assert self.hessian_fn is not None
        args = self._arguments(pr)
        return (self._call(self.gradient_fn, "gradient", pr, args),
                self._call(self.hessian_fn, "hessian", pr, args))

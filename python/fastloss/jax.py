"""fastloss losses as JAX functions, differentiable and valid under ``jit`` and ``vmap``.

>>> import jax, fastloss as fl, fastloss.jax as flj
>>> f = flj.wrap(fl.BinaryCrossentropy(from_logits=True))  # f(y_true, y_pred, sample_weight=None)
>>> g = jax.jit(jax.grad(lambda z: f(y, z)))(z0)            # doctest: +SKIP

``wrap(loss)`` is a ``jax.custom_vjp`` function over ``jax.pure_callback``:
the kernels run on the host, on NumPy views of the CPU buffers JAX hands the
callback.

* What the VJP saves: for a reduced loss, the forward of a differentiated call
  runs the fused kernel (value and gradient in one pass) and keeps the
  gradient as its residual; the backward multiplies it by the scalar
  cotangent. With ``reduction="none"`` the cotangent is an array of the
  per-sample shape, so the forward computes the value only, keeps the inputs,
  and the backward is a second callback, the loss's ``backward(grad_output=
  cotangent)``. An undifferentiated call computes the value only.
* dtypes: float32 computes in float32; float64 (with ``jax_enable_x64`` on)
  in float64; float16 / bfloat16 at float32, their gradient cast back. The
  value's dtype is the compute dtype.
* ``vmap``: the callbacks declare ``vmap_method="sequential"``: each element of
  the mapped axis is one call of the loss (its own reduction), so any loss is
  mapped correctly; the calls run one after another.
* Gradients flow to the trained inputs only: differentiating with respect to a
  target or the sample weight raises ValueError when the function is traced.
  Higher-order derivatives are not available (the kernels give first
  derivatives).

JAX is imported on the first ``wrap``, never with fastloss.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._autodiff import LossCall, require, value_dtype

__all__ = ["wrap"]


def _host(x: Any) -> Any:
    """A NumPy view of an array the callback receives (None stays None)."""
    return None if x is None else np.asarray(x)


def _make(call: LossCall) -> Callable[..., Any]:
    jax = require("jax", "jax", "jax")
    import jax.numpy as jnp
    from jax.custom_derivatives import SymbolicZero

    vmap_method = "sequential"

    def compute_dtype(dtypes: tuple[Any, ...]) -> Any:
        # float16 / bfloat16 compute at float32 (NumPy has no bfloat16); without
        # x64 JAX has no float64, and its int arrays give float32 here too
        native = tuple(np.dtype(np.float32) if jnp.issubdtype(d, jnp.floating)
                       and np.dtype(d).itemsize < 4 else np.dtype(d) for d in dtypes)
        return jax.dtypes.canonicalize_dtype(value_dtype(native))

    def as_compute(x: Any) -> Any:
        x = jnp.asarray(x)
        return x.astype(compute_dtype((x.dtype,)))

    def value_struct(targets: tuple[Any, ...], trained: tuple[Any, ...],
                     sample_weight: Any) -> Any:
        def spec(x: Any) -> Any:
            return None if x is None else (tuple(x.shape), np.dtype(x.dtype))
        shape = call.value_shape(tuple(map(spec, targets)), tuple(map(spec, trained)),
                                 spec(sample_weight))
        dtype = compute_dtype(tuple(x.dtype for x in trained))
        return jax.ShapeDtypeStruct(shape, dtype)

    def host_forward(targets: Any, trained: Any, sample_weight: Any) -> Any:
        value = call.forward(tuple(map(_host, targets)), tuple(map(_host, trained)),
                             _host(sample_weight))
        return np.asarray(value, dtype=compute_dtype(tuple(x.dtype for x in trained)))

    def host_forward_backward(targets: Any, trained: Any, sample_weight: Any) -> Any:
        value, grads = call.forward_backward(tuple(map(_host, targets)),
                                             tuple(map(_host, trained)), _host(sample_weight))
        dtype = compute_dtype(tuple(x.dtype for x in trained))
        return np.asarray(value, dtype=dtype), tuple(np.asarray(g, t.dtype)
                                                     for g, t in zip(grads, trained))

    def host_backward(targets: Any, trained: Any, sample_weight: Any, cotangent: Any) -> Any:
        grads = call.backward(tuple(map(_host, targets)), tuple(map(_host, trained)),
                              _host(sample_weight), _host(cotangent))
        return tuple(np.asarray(g, t.dtype) for g, t in zip(grads, trained))

    def grad_structs(trained: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(jax.ShapeDtypeStruct(t.shape, t.dtype) for t in trained)

    @jax.custom_vjp
    def apply(targets: tuple[Any, ...], trained: tuple[Any, ...], sample_weight: Any) -> Any:
        return jax.pure_callback(host_forward, value_struct(targets, trained, sample_weight),
                                 targets, trained, sample_weight, vmap_method=vmap_method)

    def forward(targets: Any, trained: Any, sample_weight: Any) -> tuple[Any, Any]:
        leaves = [("sample_weight", sample_weight)] if sample_weight is not None else []
        n = len(targets) + len(trained)
        leaves += [(call.input_name(k, n), t) for k, t in enumerate(targets)]
        for name, x in leaves:
            if x.perturbed:
                raise ValueError(
                    f"fastloss.jax: {name} is being differentiated, but gradients flow to the "
                    f"trained input{'s' if call.n_trained > 1 else ''} only; differentiate "
                    f"with respect to those (or wrap {name} in jax.lax.stop_gradient)")
        targets = tuple(t.value for t in targets)
        trained = tuple(t.value for t in trained)
        sample_weight = None if sample_weight is None else sample_weight.value
        value = value_struct(targets, trained, sample_weight)
        if call.unreduced:  # the cotangent is an array: backward recomputes
            out = jax.pure_callback(host_forward, value, targets, trained, sample_weight,
                                    vmap_method=vmap_method)
            return out, (targets, trained, sample_weight)
        out, grads = jax.pure_callback(host_forward_backward, (value, grad_structs(trained)),
                                       targets, trained, sample_weight, vmap_method=vmap_method)
        return out, (targets, trained, sample_weight, grads)

    def backward(residual: Any, cotangent: Any) -> tuple[Any, ...]:
        targets, trained, sample_weight = residual[:3]
        no_targets = tuple(None for _ in targets)
        if isinstance(cotangent, SymbolicZero):
            return no_targets, tuple(jnp.zeros_like(t) for t in trained), None
        if call.unreduced:
            grads = jax.pure_callback(host_backward, grad_structs(trained), targets, trained,
                                      sample_weight, cotangent, vmap_method=vmap_method)
        else:
            grads = tuple(g * cotangent.astype(g.dtype) for g in residual[3])
        return no_targets, tuple(grads), None

    apply.defvjp(forward, backward, symbolic_zeros=True)

    def loss_function(*inputs: Any, sample_weight: Any = None) -> Any:
        targets, trained, sample_weight = call.split(inputs, sample_weight)
        targets = tuple(jnp.asarray(t) for t in targets)
        trained = tuple(as_compute(t) for t in trained)
        if sample_weight is not None:
            sample_weight = jnp.asarray(sample_weight)
        return apply(targets, trained, sample_weight)

    return loss_function


def wrap(loss: Any) -> Callable[..., Any]:
    """The fastloss loss as a JAX function ``f(*inputs, sample_weight=None)``
    -- ``f(y_true, y_pred, sample_weight=None)`` for a ``(y_true, y_pred)``
    loss, where a third positional argument is the sample weight as in Keras --
    differentiable with ``jax.grad`` (with respect to the trained inputs) and
    valid under ``jax.jit`` and ``jax.vmap``."""
    call = LossCall(loss, "jax")
    f = _make(call)
    f.__doc__ = f"{loss!r} as a JAX function (fastloss.jax.wrap)."
    setattr(f, "loss", loss)  # noqa: B010 - an attribute of a function
    return f

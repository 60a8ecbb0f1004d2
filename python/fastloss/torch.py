"""fastloss losses as PyTorch modules, inside autograd and ``torch.compile``.

>>> import fastloss as fl, fastloss.torch as flt
>>> criterion = flt.wrap(fl.SparseCategoricalCrossentropy(from_logits=True))
>>> loss = criterion(labels, logits)                    # doctest: +SKIP
>>> loss.backward()                                     # doctest: +SKIP

``wrap(loss)`` is a ``torch.nn.Module`` whose ``forward`` takes the loss's
inputs (``(y_true, y_pred, sample_weight=None)`` for most losses; a model loss
takes its own, ``(real_output, fake_output)`` for ``GANDiscriminatorLoss``) and
returns a tensor with autograd. The kernels are ``torch.library`` custom
operators (``fastloss::forward``, ``fastloss::forward_backward``,
``fastloss::backward``) with fake and autograd registrations, so
``torch.compile(fullgraph=True)`` traces through them without a graph break and
``torch.library.opcheck`` accepts them. An operator's schema takes tensors and
numbers only, so the loss object reaches it as an int: ``wrap`` registers it
under a handle of this process, one per loss configuration.

* What backward costs: when a reduced loss is called with grad enabled, forward
  runs the fused kernel (value and gradient in one pass) and saves the gradient
  alone; backward multiplies it by the scalar ``grad_output``. No input is
  saved. With ``reduction="none"``, ``grad_output`` is an array of the
  per-sample shape, so forward computes the value only and saves the inputs;
  backward recomputes with the loss's own ``backward(grad_output=...)``. Under
  ``torch.no_grad`` (or when no trained input requires grad) only the value is
  computed.
* Memory: CPU tensors of float32 / float64 reach the kernels as NumPy views of
  their storage (no copy; strided views too) and the gradient comes back as a
  tensor over the kernel's own buffer. float32 stays float32 end to end.
  float16 / bfloat16 inputs are computed at float32 (a copy); their gradient is
  returned in their own dtype. The value's dtype is the compute dtype.
* Errors: a tensor on another device than the CPU, or a target / sample weight
  that requires grad (gradients flow to the trained inputs only),
  raise ValueError before anything runs; higher-order gradients (backward of
  backward) raise RuntimeError: the kernels give first derivatives.

PyTorch is imported on the first ``wrap``, never with fastloss.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ._adaptive import AdaptiveLogSoftmax
from ._autodiff import LossCall, require, value_dtype
from ._base import serialize
from ._linear_ce import LinearCrossentropy

if TYPE_CHECKING:
    import torch

__all__ = ["wrap"]

#: handle -> the loss (as the adapters call it): what the operators' int
#: argument names. A loss is registered once per configuration (losses are
#: values: equal configs compute the same), so wrapping the same loss again,
#: in a loop or after unpickling, reuses its handle (and torch.compile's graph
#: for it). Entries stay for the process: an autograd graph may outlive the
#: module that recorded it.
_CALLS: dict[int, LossCall] = {}
_HANDLE_OF: dict[str, int] = {}
_LOCK = threading.Lock()
_OPS: Optional[Any] = None


def _register(loss: Any) -> tuple[int, LossCall]:
    key = repr(serialize(loss))
    with _LOCK:
        handle = _HANDLE_OF.get(key)
        if handle is None:
            handle = _HANDLE_OF[key] = len(_HANDLE_OF) + 1
            _CALLS[handle] = LossCall(loss, "torch")
    return handle, _CALLS[handle]


def _call(handle: int) -> LossCall:
    call = _CALLS.get(handle)
    if call is None:
        raise RuntimeError(f"fastloss.torch: no loss is registered under handle {handle} "
                           "(a handle of another process?)")
    return call


def _half(dtype: Any) -> bool:
    import torch

    return dtype in (torch.float16, torch.bfloat16)


def _np_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of a torch dtype (no tensor made: this runs under fake
    tensors too); half types as the float32 they are computed at."""
    if _half(dtype):
        return np.dtype(np.float32)
    return np.dtype(str(dtype).replace("torch.", ""))


def _reduced(handle: int) -> LossCall:
    """The loss of forward_backward, whose backward scales the saved gradient
    by a scalar: a reduced loss (the module calls forward for the others)."""
    call = _call(handle)
    if call.unreduced:
        raise ValueError(f"fastloss::forward_backward needs a reduced loss, got {call.loss!r}; "
                         "with reduction='none' use fastloss::forward, whose backward "
                         "recomputes with the per-sample grad_output")
    return call


def _numpy(t: Any) -> Optional[np.ndarray]:
    """A NumPy view of a CPU tensor's storage (a float32 copy for half types,
    which NumPy does not have or the kernels do not compute in)."""
    if t is None:
        return None
    t = t.detach()
    if _half(t.dtype):
        t = t.float()
    return t.resolve_conj().resolve_neg().numpy()


def _spec(t: Any) -> Optional[tuple[tuple[int, ...], Any]]:
    """(shape, NumPy dtype) of a (fake) tensor, for the shape of an unreduced value."""
    if t is None:
        return None
    return tuple(int(s) for s in t.shape), _np_dtype(t.dtype)


def _value_dtype(trained: list[Any]) -> Any:
    import torch

    dtype = value_dtype(tuple(_np_dtype(t.dtype) for t in trained))
    return torch.float32 if dtype == np.float32 else torch.float64


def _value_tensor(value: Any, trained: list[Any]) -> Any:
    import torch

    a = np.asarray(value)
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = a.copy()  # a per-sample value the kernel wrote strided (a middle axis)
    return torch.from_numpy(a).to(_value_dtype(trained))


def _grad_tensors(grads: tuple[np.ndarray, ...], trained: list[Any]) -> list[Any]:
    import torch

    # contiguous, as the fake implementations promise (a copy only when the
    # kernel's gradient of a strided input is strided)
    return [torch.from_numpy(g).to(t.dtype).contiguous() for g, t in zip(grads, trained)]


def _fake_value(handle: int, targets: list[Any], trained: list[Any],
                sample_weight: Any) -> Any:
    call = _call(handle)
    shape = call.value_shape(tuple(map(_spec, targets)), tuple(map(_spec, trained)),
                             _spec(sample_weight))
    return trained[0].new_empty(shape, dtype=_value_dtype(trained))


def _eager(t: Any) -> bool:
    """Whether t is a concrete tensor of an eager call, whose value Python may
    read: not traced (torch.compile, make_fx, opcheck), fake or wrapped."""
    import torch
    from torch.utils._python_dispatch import _get_current_dispatch_mode

    return (type(t) is torch.Tensor and not torch.compiler.is_compiling()
            and _get_current_dispatch_mode() is None
            and not torch._C._functorch.is_functorch_wrapped_tensor(t))


def _define_ops() -> Any:
    """The custom operators, defined once per process on first use."""
    import torch

    lib = "fastloss"
    inputs = "int loss, Tensor[] targets, Tensor[] trained, Tensor? sample_weight"

    @torch.library.custom_op(f"{lib}::forward", mutates_args=(),
                             schema=f"({inputs}) -> Tensor")
    def forward(loss: int, targets: list[Any], trained: list[Any],
                sample_weight: Any) -> Any:
        value = _call(loss).forward(tuple(map(_numpy, targets)), tuple(map(_numpy, trained)),
                                    _numpy(sample_weight))
        return _value_tensor(value, trained)

    @torch.library.custom_op(f"{lib}::forward_backward", mutates_args=(),
                             schema=f"({inputs}) -> (Tensor, Tensor[])")
    def forward_backward(loss: int, targets: list[Any], trained: list[Any],
                         sample_weight: Any) -> tuple[Any, list[Any]]:
        value, grads = _reduced(loss).forward_backward(
            tuple(map(_numpy, targets)), tuple(map(_numpy, trained)), _numpy(sample_weight))
        return _value_tensor(value, trained), _grad_tensors(grads, trained)

    @torch.library.custom_op(f"{lib}::backward", mutates_args=(),
                             schema=f"({inputs}, Tensor grad_output) -> Tensor[]")
    def backward(loss: int, targets: list[Any], trained: list[Any], sample_weight: Any,
                 grad_output: Any) -> list[Any]:
        grads = _call(loss).backward(tuple(map(_numpy, targets)), tuple(map(_numpy, trained)),
                                     _numpy(sample_weight), _numpy(grad_output))
        return _grad_tensors(grads, trained)

    @torch.library.custom_op(f"{lib}::scale", mutates_args=(),
                             schema="(Tensor[] grads, Tensor grad_output) -> Tensor[]")
    def scale(grads: list[Any], grad_output: Any) -> list[Any]:
        # NumPy's buffers, not torch.empty's: NumPy asks for huge pages, and a
        # fresh 64 MB torch tensor costs as much in page faults as the kernel
        go = float(grad_output)
        return [torch.from_numpy(np.multiply(g.numpy(), g.numpy().dtype.type(go)))
                for g in grads]

    def empty_grads(trained: list[Any]) -> list[Any]:
        return [torch.empty(t.shape, dtype=t.dtype) for t in trained]

    forward.register_fake(_fake_value)

    @forward_backward.register_fake
    def _(loss: int, targets: list[Any], trained: list[Any],
          sample_weight: Any) -> tuple[Any, list[Any]]:
        _reduced(loss)
        return _fake_value(loss, targets, trained, sample_weight), empty_grads(trained)

    @backward.register_fake
    def _(loss: int, targets: list[Any], trained: list[Any], sample_weight: Any,
          grad_output: Any) -> list[Any]:
        return empty_grads(trained)

    @scale.register_fake
    def _(grads: list[Any], grad_output: Any) -> list[Any]:
        return [torch.empty_like(g) for g in grads]

    def no_targets_grad(targets: list[Any]) -> list[None]:
        return [None] * len(targets)

    # forward_backward: the gradient for grad_output 1 is saved, backward scales it
    def save_gradient(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        ctx.n_targets = len(inputs[1])
        # the gradients are outputs only to be saved: no cotangent for them
        # (materialised, it would be a tensor of zeros the size of y_pred). They
        # stay differentiable so that a second backward reaches scale's refusal.
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(*output[1])

    def scale_gradient(ctx: Any, grad_value: Any, _grad_of_grads: Any) -> tuple[Any, ...]:
        saved = list(ctx.saved_tensors)
        if grad_value is None:
            grads: list[Any] = [None] * len(saved)
        elif _eager(grad_value) and not torch.is_grad_enabled() and float(grad_value) == 1.0:
            # loss.backward() in eager mode: the saved gradient is the answer,
            # handed over without a pass (not under create_graph, where the
            # scale op stands in the graph to refuse a second backward)
            grads = [g.detach() for g in saved]
        else:
            grads = scale(saved, grad_value)
        return None, [None] * ctx.n_targets, grads, None

    forward_backward.register_autograd(scale_gradient, setup_context=save_gradient)

    # forward (reduction "none"): the inputs are saved, backward recomputes
    def save_inputs(ctx: Any, inputs: tuple[Any, ...], output: Any) -> None:
        loss, targets, trained, sample_weight = inputs
        ctx.loss, ctx.n_targets, ctx.n_trained = loss, len(targets), len(trained)
        ctx.save_for_backward(*targets, *trained, sample_weight)

    def recompute(ctx: Any, grad_value: Any) -> tuple[Any, ...]:
        saved = ctx.saved_tensors
        k, n = ctx.n_targets, ctx.n_trained
        grads = backward(ctx.loss, list(saved[:k]), list(saved[k:k + n]), saved[k + n],
                         grad_value)
        return None, no_targets_grad(saved[:k]), grads, None

    forward.register_autograd(recompute, setup_context=save_inputs)

    def no_second_order(ctx: Any, *_: Any) -> Any:
        raise RuntimeError("fastloss.torch: the kernels give first derivatives only; "
                           "backward of backward (higher-order gradients, create_graph=True "
                           "followed by another backward) is not available")

    scale.register_autograd(no_second_order)
    backward.register_autograd(no_second_order)
    return forward, forward_backward, backward, scale


def ops() -> Any:
    """The operators ``(forward, forward_backward, backward, scale)``
    (``torch.ops.fastloss.*``), defined on first use."""
    global _OPS
    with _LOCK:
        if _OPS is None:
            _OPS = _define_ops()
    return _OPS


def _module_class() -> type:
    import torch

    class FastLoss(torch.nn.Module):
        """A fastloss loss as a PyTorch module (see :func:`fastloss.torch.wrap`)."""

        def __init__(self, loss: Any) -> None:
            super().__init__()
            self.loss = loss
            self.handle, self._call = _register(loss)
            ops()  # torch.ops.fastloss.*, which forward calls (torch.compile traces them)

        def forward(self, *inputs: Any, sample_weight: Any = None) -> Any:
            given_targets, given_trained, sample_weight = self._call.split(inputs, sample_weight)
            k = len(given_targets)
            n = k + len(given_trained)
            targets = [self._tensor(t, j, n, trained=False) for j, t in enumerate(given_targets)]
            trained = [self._tensor(t, k + j, n, trained=True)
                       for j, t in enumerate(given_trained)]
            if sample_weight is not None:
                sample_weight = self._tensor(sample_weight, -1, n, trained=False)
            if (not self._call.unreduced and torch.is_grad_enabled()
                    and any(t.requires_grad for t in trained)):
                value, _ = torch.ops.fastloss.forward_backward(self.handle, targets, trained,
                                                               sample_weight)
                return value
            return torch.ops.fastloss.forward(self.handle, targets, trained, sample_weight)

        def _tensor(self, x: Any, index: int, n: int, *, trained: bool,
                    name: Optional[str] = None) -> Any:
            if name is None:
                name = "sample_weight" if index < 0 else self._call.input_name(index, n)
            if not isinstance(x, torch.Tensor):
                x = torch.as_tensor(x)
            if x.device.type != "cpu":
                raise ValueError(
                    f"fastloss.torch: {name} is on {x.device}; fastloss's kernels run on the "
                    f"CPU: move the tensors there (.cpu()) or use a loss of your device")
            if not trained and x.requires_grad and torch.is_grad_enabled():
                raise ValueError(
                    f"fastloss.torch: {name} requires grad, but gradients flow to the trained "
                    f"input{'s' if self._call.n_trained > 1 else ''} only; pass "
                    f"{name}.detach()")
            return x

        def extra_repr(self) -> str:
            return repr(self.loss)

        # The handle belongs to this process: a pickled or deep-copied module
        # registers its (rebuilt) loss again.
        def __getstate__(self) -> dict[str, Any]:
            state = dict(self.__dict__)
            del state["handle"], state["_call"]
            return state

        def __setstate__(self, state: dict[str, Any]) -> None:
            self.__dict__.update(state)
            self.handle, self._call = _register(self.loss)

    FastLoss.__module__, FastLoss.__qualname__ = __name__, "FastLoss"
    return FastLoss


def _linear_ce_module_class(base: type) -> type:
    import torch

    class LinearCrossentropyModule(base):  # type: ignore[misc, valid-type]
        """``fl.LinearCrossentropy`` as a PyTorch module: ``forward(labels,
        hidden, weight, bias=None, sample_weight=None)``, with gradients for
        hidden, weight and bias (when given). The bias is optional, so the
        inputs are not split by their count as other losses' are; everything
        else (the operators, saved gradients, errors) is the other losses'."""

        def forward(self, labels: Any, hidden: Any, weight: Any, bias: Any = None,
                    sample_weight: Any = None) -> Any:
            given = (hidden, weight) if bias is None else (hidden, weight, bias)
            names = ("hidden", "weight", "bias")
            n = 1 + len(given)
            targets = [self._tensor(labels, 0, n, trained=False)]
            trained = [self._tensor(t, 1 + j, n, trained=True, name=names[j])
                       for j, t in enumerate(given)]
            if sample_weight is not None:
                sample_weight = self._tensor(sample_weight, -1, n, trained=False)
            if (not self._call.unreduced and torch.is_grad_enabled()
                    and any(t.requires_grad for t in trained)):
                value, _ = torch.ops.fastloss.forward_backward(self.handle, targets, trained,
                                                               sample_weight)
                return value
            return torch.ops.fastloss.forward(self.handle, targets, trained, sample_weight)

    LinearCrossentropyModule.__module__ = __name__
    LinearCrossentropyModule.__qualname__ = "LinearCrossentropyModule"
    return LinearCrossentropyModule


_MODULE_CLASS: Optional[type] = None
_LINEAR_CE_CLASS: Optional[type] = None


def __getattr__(name: str) -> Any:
    # The module classes subclass torch.nn.Module, so they are made when first
    # asked for (by wrap, or by pickle finding fastloss.torch.FastLoss).
    global _MODULE_CLASS, _LINEAR_CE_CLASS
    if name == "FastLoss":
        if _MODULE_CLASS is None:
            require("torch", "torch", "torch")
            with _LOCK:
                if _MODULE_CLASS is None:
                    _MODULE_CLASS = _module_class()
        return _MODULE_CLASS
    if name == "LinearCrossentropyModule":
        base = __getattr__("FastLoss")
        with _LOCK:
            if _LINEAR_CE_CLASS is None:
                _LINEAR_CE_CLASS = _linear_ce_module_class(base)
        return _LINEAR_CE_CLASS
    if name == "AdaptiveLogSoftmaxWithLoss":
        global _ADAPTIVE_CLASS
        require("torch", "torch", "torch")
        with _LOCK:
            if _ADAPTIVE_CLASS is None:
                _ADAPTIVE_CLASS = _adaptive_module_class()
        return _ADAPTIVE_CLASS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def wrap(loss: Any) -> torch.nn.Module:
    """The fastloss loss as a ``torch.nn.Module`` (``fastloss.torch.FastLoss``):
    ``forward(*inputs, sample_weight=None)`` -- ``(y_true, y_pred,
    sample_weight=None)`` for a ``(y_true, y_pred)`` loss, where a third
    positional argument is the sample weight as in Keras -- returns a tensor
    with autograd (gradients for the trained inputs: ``y_pred``, or each of a
    model loss's). CPU tensors only. ``fl.LinearCrossentropy`` gives a
    ``LinearCrossentropyModule``: ``forward(labels, hidden, weight, bias=None,
    sample_weight=None)``, gradients for hidden, weight and bias."""
    LossCall(loss, "torch")  # a TypeError for what is not a loss, before torch is imported
    kind = ("LinearCrossentropyModule" if isinstance(loss, LinearCrossentropy)
            else "FastLoss")
    module: torch.nn.Module = __getattr__(kind)(loss)
    return module


# ---------------------------------------------------------------------------
# The adaptive softmax as a drop-in for torch.nn.AdaptiveLogSoftmaxWithLoss

def _adaptive_module_class() -> type:
    import torch
    from torch.nn.modules.adaptive import _ASMoutput

    class _AdaptiveFunction(torch.autograd.Function):
        """Per-row negative log-likelihoods; their gradients from fastloss's
        AdaptiveLogSoftmax. With grad enabled (and a trained input that
        requires it), forward computes the gradients
        of the sum along with the values and saves them: a backward whose
        grad is the same for every row (a mean's or a sum's) scales them;
        any other recomputes with that grad as the rows' weights."""

        @staticmethod
        def forward(ctx: Any, loss: Any, grad_enabled: bool, labels: Any, hidden: Any,
                    head_weight: Any, head_bias: Any, *tail_weights: Any) -> Any:
            arrays = [t.detach().numpy() for t in (hidden, head_weight)]
            bias = None if head_bias is None else head_bias.detach().numpy()
            flat = [t.detach().numpy() for t in tail_weights]
            tail = list(zip(flat[0::2], flat[1::2]))
            args = (labels.numpy(), *arrays, *(() if bias is None else (bias,)), tail)
            ctx.loss, ctx.args, ctx.has_bias = loss, args, bias is not None
            if grad_enabled and any(ctx.needs_input_grad):
                value, grads = loss.forward_backward(*args)
                ctx.saved = grads
            else:
                value, ctx.saved = loss.forward(*args), None
            return torch.from_numpy(np.asarray(value))

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            g = grad.detach().numpy()
            if ctx.saved is not None and g.size and bool(np.all(g == g.flat[0])):
                c = g.dtype.type(g.flat[0])
                grads = ctx.saved
                grads = (*(a * c for a in grads[:-1]), [(p * c, o * c) for p, o in grads[-1]])
            else:
                grads = ctx.loss.backward(*ctx.args, grad_output=g)
            d_tail = [torch.from_numpy(np.ascontiguousarray(a))
                      for pair in grads[-1] for a in pair]
            d_bias = torch.from_numpy(grads[2]) if ctx.has_bias else None
            return (None, None, None, torch.from_numpy(grads[0]), torch.from_numpy(grads[1]),
                    d_bias, *d_tail)

    class AdaptiveLogSoftmaxWithLoss(torch.nn.Module):
        """PyTorch's ``torch.nn.AdaptiveLogSoftmaxWithLoss`` (Grave et al.'s
        adaptive softmax) computed by ``fl.AdaptiveLogSoftmax``: the same
        constructor, parameters (``head``, ``tail[k][0]``, ``tail[k][1]``;
        a state dict loads either way), ``forward(input, target)`` returning
        ``(output, loss)``, ``log_prob`` and ``predict``. CPU tensors of
        float32 or float64 only; higher-order gradients are not taken."""

        def __init__(self, in_features: int, n_classes: int, cutoffs: Any,
                     div_value: float = 4.0, head_bias: bool = False, device: Any = None,
                     dtype: Any = None) -> None:
            super().__init__()
            self._loss = AdaptiveLogSoftmax(n_classes, list(cutoffs), div_value=div_value,
                                            reduction="none")
            self.in_features, self.n_classes = int(in_features), self._loss.n_classes
            self.cutoffs = [*self._loss.cutoffs, self.n_classes]
            self.div_value, self.head_bias = float(div_value), bool(head_bias)
            self.shortlist_size = self._loss.shortlist_size
            self.n_clusters = self._loss.n_clusters
            self.head_size = self.shortlist_size + self.n_clusters
            kw = {"device": device, "dtype": dtype}
            self.head = torch.nn.Linear(self.in_features, self.head_size, bias=self.head_bias,
                                        **kw)
            self.tail = torch.nn.ModuleList()
            for i in range(self.n_clusters):
                hsz = int(self.in_features // (self.div_value ** (i + 1)))
                osz = self.cutoffs[i + 1] - self.cutoffs[i]
                self.tail.append(torch.nn.Sequential(
                    torch.nn.Linear(self.in_features, hsz, bias=False, **kw),
                    torch.nn.Linear(hsz, osz, bias=False, **kw)))

        def _tail(self) -> list[Any]:
            clusters: Any = self.tail  # Sequentials of (projection, output) Linears
            return [w for c in clusters for w in (c[0].weight, c[1].weight)]

        def _numpy_model(self, x: Any) -> tuple[Any, ...]:
            head = (self.head.weight.detach().numpy(),) + (
                () if self.head.bias is None else (self.head.bias.detach().numpy(),))
            flat = [w.detach().numpy() for w in self._tail()]
            return (x.detach().numpy(), *head, list(zip(flat[0::2], flat[1::2])))

        def forward(self, input: Any, target: Any) -> Any:
            batched = target.dim() > 0
            if target.dim() > 1:
                raise ValueError("0D or 1D target tensor expected, multi-target not supported")
            x = input if batched else input.unsqueeze(0)
            y = target if batched else target.unsqueeze(0)
            for name, t in (("input", x), ("target", y)):
                if t.device.type != "cpu":
                    raise ValueError(f"fastloss.torch: {name} is on {t.device}; fastloss's "
                                     "kernels run on the CPU")
            nll = _AdaptiveFunction.apply(self._loss, torch.is_grad_enabled(), y.detach().cpu(),
                                          x, self.head.weight, self.head.bias, *self._tail())
            output = -nll
            loss = nll.mean()
            return _ASMoutput(output if batched else output.squeeze(0), loss)

        @torch.no_grad()  # type: ignore[misc]
        def log_prob(self, input: Any) -> Any:
            return torch.from_numpy(self._loss.log_prob(*self._numpy_model(input)))

        @torch.no_grad()  # type: ignore[misc]
        def predict(self, input: Any) -> Any:
            return torch.from_numpy(self._loss.predict(*self._numpy_model(input)))

    AdaptiveLogSoftmaxWithLoss.__module__ = __name__
    AdaptiveLogSoftmaxWithLoss.__qualname__ = "AdaptiveLogSoftmaxWithLoss"
    return AdaptiveLogSoftmaxWithLoss


_ADAPTIVE_CLASS: Optional[type] = None

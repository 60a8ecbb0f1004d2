"""What the autodiff adapters share (``fastloss.torch``, ``fastloss.jax``): a
loss object's inputs split into targets, trained inputs and sample weights, and
its four methods reduced to three calls with one shape of result, so that each
adapter only moves arrays between its framework and NumPy.

Every kind of loss is called the same way here: a ``(y_true, y_pred)`` loss, a
loss of ``y_pred`` alone (``Entropy``), a model loss with several inputs
(``GANDiscriminatorLoss(real, fake)``) and a weighted sum of any of them. The
last ``_n_trained`` inputs are the trained ones, the rest are targets;
``backward`` always comes back as a tuple, one gradient per trained input.
Nothing of a framework is imported here.
"""

from __future__ import annotations

import importlib
from typing import Any, Optional

import numpy as np

from ._base import Combinable, Loss
from ._classaxis import OneInputLoss
from ._custom import CompositeLoss
from ._models import MultiInputLoss

Arrays = tuple[Any, ...]


def require(module: str, adapter: str, extra: str) -> Any:
    """Imports the framework on first use of an adapter (never with fastloss);
    ImportError naming the extra when it is absent."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"fastloss.{adapter} needs {module}, which cannot be imported ({e}): "
            f"pip install 'fastloss[{extra}]'") from e


def _unreduced(loss: Combinable) -> bool:
    if isinstance(loss, CompositeLoss):  # its terms are all reduced or all unreduced
        return _unreduced(loss.terms[0][1])
    return loss.reduction in (None, "none")


class LossCall:
    """A loss object as an autodiff adapter calls it."""

    def __init__(self, loss: Any, adapter: str) -> None:
        if not isinstance(loss, Combinable):
            raise TypeError(f"fastloss.{adapter}.wrap expects a fastloss loss object, got "
                            f"{type(loss).__name__}")
        self.loss = loss
        self.adapter = adapter
        #: reduction "none": the value has the per-sample shape, and its
        #: cotangent is an array of that shape
        self.unreduced = _unreduced(loss)
        self.n_trained = int(getattr(loss, "_n_trained", 1))
        if isinstance(loss, OneInputLoss):
            self.names: Optional[tuple[str, ...]] = ("y_pred",)
        elif isinstance(loss, Loss):
            self.names = ("y_true", "y_pred")
        elif isinstance(loss, CompositeLoss):
            # shared or per-term targets: the count is checked by the composite
            self.names = ("y_true", "y_pred") if loss._plain else None
        else:
            assert isinstance(loss, MultiInputLoss)
            self.names = tuple(loss._inputs)
        # Keras's convention: a third positional argument of a (y_true, y_pred)
        # loss is sample_weight; a model loss takes it after its inputs
        self._positional_weight = self.names is not None

    def split(self, inputs: tuple[Any, ...], sample_weight: Any) -> tuple[Arrays, Arrays, Any]:
        """(targets, trained inputs, sample_weight) of one call."""
        n = len(self.names) if self.names is not None else None
        if (n is not None and self._positional_weight and len(inputs) == n + 1
                and sample_weight is None):
            inputs, sample_weight = inputs[:n], inputs[n]
        if n is not None and len(inputs) != n:
            raise TypeError(
                f"fastloss.{self.adapter}: {type(self.loss).__name__} takes {n} input"
                f"{'s' if n > 1 else ''} ({', '.join(self.names or ())}) and an optional "
                f"sample_weight, got {len(inputs)} positional arguments")
        if len(inputs) < self.n_trained:
            raise TypeError(f"fastloss.{self.adapter}: {type(self.loss).__name__} trains "
                            f"{self.n_trained} inputs, got {len(inputs)} inputs")
        k = len(inputs) - self.n_trained
        return tuple(inputs[:k]), tuple(inputs[k:]), sample_weight

    def input_name(self, index: int, n_inputs: int) -> str:
        """The name of input `index` of `n_inputs` in error messages."""
        if self.names is not None and n_inputs == len(self.names):
            return self.names[index]
        return f"input {index}"

    # -- the calls, each one kernel pass per term ------------------------------
    def forward(self, targets: Arrays, trained: Arrays, sample_weight: Any) -> Any:
        loss = self.loss
        if isinstance(loss, OneInputLoss):
            return loss.forward(trained[0], sample_weight)
        if isinstance(loss, Loss):
            return loss.forward(targets[0], trained[0], sample_weight)
        assert isinstance(loss, MultiInputLoss)
        return loss.forward(*targets, *trained, sample_weight=sample_weight)

    def forward_backward(self, targets: Arrays, trained: Arrays,
                         sample_weight: Any) -> tuple[Any, Arrays]:
        """The value and the gradients for grad_output 1, from one fused pass."""
        loss = self.loss
        if isinstance(loss, OneInputLoss):
            return loss.forward_backward(trained[0], sample_weight)
        if isinstance(loss, Loss):
            value, grad = loss.forward_backward(targets[0], trained[0], sample_weight)
            return value, (grad,)
        assert isinstance(loss, MultiInputLoss)
        value, grads = loss.forward_backward(*targets, *trained, sample_weight=sample_weight)
        return value, self._tuple(grads)

    def backward(self, targets: Arrays, trained: Arrays, sample_weight: Any,
                 grad_output: Any) -> Arrays:
        loss = self.loss
        if isinstance(loss, OneInputLoss):
            return loss.backward(trained[0], sample_weight, grad_output=grad_output)
        if isinstance(loss, Loss):
            return (loss.backward(targets[0], trained[0], sample_weight,
                                  grad_output=grad_output),)
        assert isinstance(loss, MultiInputLoss)
        grads = loss.backward(*targets, *trained, sample_weight=sample_weight,
                              grad_output=grad_output)
        return self._tuple(grads)

    def _tuple(self, grads: Any) -> Arrays:
        out = (grads,) if isinstance(grads, np.ndarray) else tuple(grads)
        for g in out:
            if not isinstance(g, np.ndarray):  # StyleLoss's list of layers
                raise TypeError(f"fastloss.{self.adapter}: each trained input must be one "
                                f"array (a list of layers is not supported)")
        return out

    def value_shape(self, targets: Arrays, trained: Arrays,
                    sample_weight: Any) -> tuple[int, ...]:
        """The shape of the value for inputs of these shapes: () when reduced;
        unreduced, the per-sample shape the loss gives, found by evaluating it
        on zero-strided arrays of those shapes (no memory of their size)."""
        if not self.unreduced:
            return ()
        value = self.forward(*_probes(targets, trained, sample_weight))
        return tuple(np.shape(value))


def _probe(spec: Optional[tuple[tuple[int, ...], Any]]) -> Any:
    if spec is None:
        return None
    shape, dtype = spec
    return np.broadcast_to(np.zeros((), dtype), shape)


def _probes(targets: Arrays, trained: Arrays, sample_weight: Any) -> tuple[Arrays, Arrays, Any]:
    """(shape, NumPy dtype) specs -> arrays of zeros of those shapes; zero
    labels are valid class ids, so a shape mismatch is the only error."""
    return (tuple(_probe(s) for s in targets), tuple(_probe(s) for s in trained),
            _probe(sample_weight))


def value_dtype(trained_dtypes: Arrays) -> np.dtype:
    """The dtype of the value: each trained input computes at its own dtype
    (float32, float64; float16 at float32, others at float64) and several
    trained inputs' values add up in NumPy's promotion."""
    out: Optional[np.dtype] = None
    for d in trained_dtypes:
        d = np.dtype(d)
        c = d if d in (np.float32, np.float64) else (
            np.dtype(np.float32) if d == np.float16 else np.dtype(np.float64))
        out = c if out is None else np.promote_types(out, c)
    return out if out is not None else np.dtype(np.float64)

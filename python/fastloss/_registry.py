"""Names: Keras class names, Keras function names and aliases -> loss classes.

``get(name)`` returns a loss object; the per-sample functions
(``mean_squared_error(y_true, y_pred)``, ...) are generated here from the
classes' constructors, so each signature is written once.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional

from ._base import Combinable, Loss, deserialize
from ._classaxis import (
    CLASSAXIS_LOSSES,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CategoricalZeroOneLoss,
    CosineSimilarity,
    Entropy,
    KLDivergence,
    SparseCategoricalCrossentropy,
    SparseCategoricalZeroOneLoss,
)
from ._elementwise import (
    ELEMENTWISE_LOSSES,
    AsymmetricLinear,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    ExponentialLoss,
    HalfSquaredError,
    Hinge,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Pinball,
    Poisson,
    SmoothL1,
    SquaredHinge,
    ZeroOneLoss,
)

#: Function name (Keras's where Keras has the loss) -> class.
from ._models import MODEL_LOSSES, MultiInputLoss

FUNCTION_NAMES: dict[str, type[Loss]] = {
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "huber": Huber,
    "log_cosh": LogCosh,
    "poisson": Poisson,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "binary_crossentropy": BinaryCrossentropy,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "half_squared_error": HalfSquaredError,
    "smooth_l1": SmoothL1,
    "pinball": Pinball,
    "asymmetric_linear": AsymmetricLinear,
    "exponential": ExponentialLoss,
    "zero_one": ZeroOneLoss,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
    "kl_divergence": KLDivergence,
    "categorical_hinge": CategoricalHinge,
    "cosine_similarity": CosineSimilarity,
    "entropy": Entropy,
    "categorical_zero_one": CategoricalZeroOneLoss,
    "sparse_categorical_zero_one": SparseCategoricalZeroOneLoss,
}

#: Short names users type (Keras's legacy aliases and common names).
ALIASES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "logcosh": LogCosh, "huber_loss": Huber,
    "log_loss": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "smooth_l1_loss": SmoothL1, "quantile": Pinball, "pinball_loss": Pinball,
    "exponential_loss": ExponentialLoss, "zero_one_loss": ZeroOneLoss,
    "squared_error": HalfSquaredError,
    "kld": KLDivergence, "KLD": KLDivergence,
    "kullback_leibler_divergence": KLDivergence,
}

#: Names that mean a class with non-default parameters: name -> (class, parameters).
PRESETS: dict[str, tuple[type[Loss], dict[str, Any]]] = {
    "softmax_cross_entropy_with_logits": (CategoricalCrossentropy, {"from_logits": True}),
}

CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls for cls in (*ELEMENTWISE_LOSSES, *CLASSAXIS_LOSSES)
}

# The model losses (not (y_true, y_pred) pairs): class names and snake_case names.
MODEL_NAMES: dict[str, type[MultiInputLoss]] = {
    **{cls.__name__: cls for cls in MODEL_LOSSES},
    **{cls._default_name: cls for cls in MODEL_LOSSES},
}

_ALL_NAMES: dict[str, type[Combinable]] = {**CLASSES, **FUNCTION_NAMES, **ALIASES, **MODEL_NAMES}
_FUNCTIONS: dict[Callable[..., Any], Callable[[], Loss]] = {}


def _per_sample_function(name: str, cls: type[Loss],
                         preset: Optional[dict[str, Any]] = None) -> Callable[..., Any]:
    preset = preset or {}
    init = inspect.signature(cls.__init__)
    kwargs = [p.replace(default=preset[n]) if n in preset else p
              for n, p in init.parameters.items() if n not in ("self", "reduction", "name")]
    inputs: tuple[str, ...] = getattr(cls, "_inputs", ("y_true", "y_pred"))
    arrays = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in inputs]
    signature = inspect.Signature(arrays + kwargs)

    def per_sample(*args: Any, **kw: Any) -> Any:
        bound = signature.bind(*args, **kw)
        bound.apply_defaults()
        options = dict(bound.arguments)
        values = [options.pop(n) for n in inputs]
        return cls(**options, reduction="none")(*values)

    per_sample.__name__ = per_sample.__qualname__ = name
    per_sample.__signature__ = signature  # type: ignore[attr-defined]
    per_sample.__doc__ = (
        f"Per-sample {cls.__name__} losses (Keras's ``{name}``): the loss of each sample "
        f"(reduced over the axis as Keras does), unreduced.\n\nSee "
        f":class:`fastloss.{cls.__name__}`."
    )
    _FUNCTIONS[per_sample] = functools.partial(cls, **preset) if preset else cls
    return per_sample


FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _per_sample_function(name, cls) for name, cls in FUNCTION_NAMES.items()
}
FUNCTIONS.update({name: _per_sample_function(name, cls, preset)
                  for name, (cls, preset) in PRESETS.items()})


def get(identifier: Any) -> Any:
    """A loss object, as ``keras.losses.get`` gives one, from

    * a Keras class name, function name or alias (``"mse"``, ``"Huber"``, ...):
      an instance with default parameters;
    * a serialized loss, the dict of :func:`serialize` (or a Keras-style
      ``{"class_name": ..., "config": ...}``);
    * a loss class: an instance with default parameters;
    * one of fastloss's per-sample functions (``fl.mean_squared_error``): its
      loss class (reduction "sum_over_batch_size");
    * a loss object or any other callable: returned as it is (a user's own
      loss function passes through, as in Keras)."""
    if isinstance(identifier, Combinable):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Combinable):
        return identifier()
    if isinstance(identifier, str) and identifier in PRESETS:
        preset_cls, preset = PRESETS[identifier]
        return preset_cls(**preset)
    if isinstance(identifier, str):
        cls = _ALL_NAMES.get(identifier)
        if cls is None:
            known = ", ".join(names())
            raise ValueError(f"unknown loss {identifier!r}; known names: {known}")
        return cls()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as a loss")


def names() -> list[str]:
    """Every name `get` accepts."""
    return sorted({*_ALL_NAMES, *PRESETS})

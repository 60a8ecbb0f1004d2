"""Names: Keras class names, Keras function names and aliases -> loss classes.

``get(name)`` returns a loss object; the per-sample functions
(``mean_squared_error(y_true, y_pred)``, ...) are generated here from the
classes' constructors, so each signature is written once.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from ._base import Loss
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
}

CLASSES: dict[str, type[Loss]] = {cls.__name__: cls for cls in ELEMENTWISE_LOSSES}

_ALL_NAMES: dict[str, type[Loss]] = {**CLASSES, **FUNCTION_NAMES, **ALIASES}
_FUNCTIONS: dict[Callable[..., Any], type[Loss]] = {}


def _per_sample_function(name: str, cls: type[Loss]) -> Callable[..., Any]:
    init = inspect.signature(cls.__init__)
    kwargs = [p for n, p in init.parameters.items() if n not in ("self", "reduction", "name")]
    arrays = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
              for n in ("y_true", "y_pred")]
    signature = inspect.Signature(arrays + kwargs)

    def per_sample(*args: Any, **kw: Any) -> Any:
        bound = signature.bind(*args, **kw)
        options = dict(bound.arguments)
        y_true, y_pred = options.pop("y_true"), options.pop("y_pred")
        return cls(**options, reduction="none")(y_true, y_pred)

    per_sample.__name__ = per_sample.__qualname__ = name
    per_sample.__signature__ = signature  # type: ignore[attr-defined]
    per_sample.__doc__ = (
        f"Per-sample {cls.__name__} losses (Keras's ``{name}``): the elementwise loss "
        f"averaged over the last axis, unreduced.\n\nSee :class:`fastloss.{cls.__name__}`."
    )
    _FUNCTIONS[per_sample] = cls
    return per_sample


FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _per_sample_function(name, cls) for name, cls in FUNCTION_NAMES.items()
}


def get(identifier: Any) -> Loss:
    """A loss object from a Keras class name, function name or alias (like
    ``keras.losses.get``), a loss object (returned as is), a loss class, or one
    of fastloss's per-sample functions. Returns an instance with default
    parameters."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = _ALL_NAMES.get(identifier)
        if cls is None:
            known = ", ".join(sorted(_ALL_NAMES))
            raise ValueError(f"unknown loss {identifier!r}; known names: {known}")
        return cls()
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    raise TypeError(f"cannot interpret {identifier!r} as a loss")


def names() -> list[str]:
    """Every name `get` accepts."""
    return sorted(_ALL_NAMES)

"""Keras's per-sample loss functions: ``mean_squared_error(y_true, y_pred)``, ...

Each is a plain ``def`` so that type checkers and editors see its signature:
the arrays, then the loss class's constructor parameters (without
``reduction`` and ``name``) with the same defaults. ``@per_sample(cls)``
records which class a function evaluates and writes its docstring; the
registry's function names are read from these records, and a test checks
every signature against its class's constructor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Optional, TypeVar, Union

from numpy.typing import ArrayLike

from ._base import Loss
from ._classaxis import (
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
    AsymmetricLinear,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    ExponentialLoss,
    HalfSquaredError,
    Hinge,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    SmoothL1,
    SquaredHinge,
    ZeroOneLoss,
)

_F = TypeVar("_F", bound=Callable[..., Any])

#: Each per-sample function -> (its loss class, the parameters it presets).
PER_SAMPLE: dict[Callable[..., Any], tuple[type[Loss], dict[str, Any]]] = {}


def per_sample(cls: type[Loss], **preset: Any) -> Callable[[_F], _F]:
    """Records fn as the per-sample function of cls (with preset parameters)."""
    def record(fn: _F) -> _F:
        PER_SAMPLE[fn] = (cls, preset)
        fn.__doc__ = (
            f"Per-sample {cls.__name__} losses (Keras's ``{fn.__name__}``): the loss of each "
            f"sample (reduced over the axis as Keras does), unreduced.\n\nSee "
            f":class:`fastloss.{cls.__name__}`.")
        return fn
    return record


def run_per_sample(cls: type[Loss], *inputs: Any, **options: Any) -> Any:
    return cls(**options, reduction="none")(*inputs)


# -- elementwise --------------------------------------------------------------------

@per_sample(MeanAbsoluteError)
def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(MeanAbsoluteError, y_true, y_pred, axis=axis)


@per_sample(MeanAbsolutePercentageError)
def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike,
                                   axis: int = -1) -> Any:
    return run_per_sample(MeanAbsolutePercentageError, y_true, y_pred, axis=axis)


@per_sample(MeanSquaredLogarithmicError)
def mean_squared_logarithmic_error(y_true: ArrayLike, y_pred: ArrayLike,
                                   axis: int = -1) -> Any:
    return run_per_sample(MeanSquaredLogarithmicError, y_true, y_pred, axis=axis)


@per_sample(LogCosh)
def log_cosh(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(LogCosh, y_true, y_pred, axis=axis)


@per_sample(Poisson)
def poisson(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(Poisson, y_true, y_pred, axis=axis)


@per_sample(Hinge)
def hinge(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(Hinge, y_true, y_pred, axis=axis)


@per_sample(SquaredHinge)
def squared_hinge(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(SquaredHinge, y_true, y_pred, axis=axis)


@per_sample(BinaryCrossentropy)
def binary_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Any:
    return run_per_sample(BinaryCrossentropy, y_true, y_pred, from_logits=from_logits,
                label_smoothing=label_smoothing, axis=axis)


@per_sample(BinaryFocalCrossentropy)
def binary_focal_crossentropy(y_true: ArrayLike, y_pred: ArrayLike,
                              apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> Any:
    return run_per_sample(BinaryFocalCrossentropy, y_true, y_pred,
                apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@per_sample(HalfSquaredError)
def half_squared_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(HalfSquaredError, y_true, y_pred, axis=axis)


@per_sample(SmoothL1)
def smooth_l1(y_true: ArrayLike, y_pred: ArrayLike, beta: float = 1.0) -> Any:
    return run_per_sample(SmoothL1, y_true, y_pred, beta=beta)


@per_sample(AsymmetricLinear)
def asymmetric_linear(y_true: ArrayLike, y_pred: ArrayLike, overestimate_cost: float = 1.0,
                      underestimate_cost: float = 1.0) -> Any:
    return run_per_sample(AsymmetricLinear, y_true, y_pred, overestimate_cost=overestimate_cost,
                underestimate_cost=underestimate_cost)


@per_sample(ExponentialLoss)
def exponential(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(ExponentialLoss, y_true, y_pred, axis=axis)


@per_sample(ZeroOneLoss)
def zero_one(y_true: ArrayLike, y_pred: ArrayLike, threshold: float = 0.5) -> Any:
    return run_per_sample(ZeroOneLoss, y_true, y_pred, threshold=threshold)


# -- class axis ---------------------------------------------------------------------

@per_sample(CategoricalCrossentropy)
def categorical_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Any:
    return run_per_sample(CategoricalCrossentropy, y_true, y_pred, from_logits=from_logits,
                label_smoothing=label_smoothing, axis=axis)


@per_sample(CategoricalCrossentropy, from_logits=True)
def softmax_cross_entropy_with_logits(y_true: ArrayLike, y_pred: ArrayLike,
                                      from_logits: bool = True, label_smoothing: float = 0.0,
                                      axis: int = -1) -> Any:
    return run_per_sample(CategoricalCrossentropy, y_true, y_pred, from_logits=from_logits,
                label_smoothing=label_smoothing, axis=axis)


@per_sample(SparseCategoricalCrossentropy)
def sparse_categorical_crossentropy(y_true: ArrayLike, y_pred: ArrayLike,
                                    from_logits: bool = False,
                                    ignore_class: Optional[int] = None, axis: int = -1, *,
                                    class_weight: Optional[Sequence[float]] = None,
                                    label_smoothing: float = 0.0) -> Any:
    return run_per_sample(SparseCategoricalCrossentropy, y_true, y_pred, from_logits=from_logits,
                ignore_class=ignore_class, axis=axis, class_weight=class_weight,
                label_smoothing=label_smoothing)


@per_sample(CategoricalFocalCrossentropy)
def categorical_focal_crossentropy(y_true: ArrayLike, y_pred: ArrayLike,
                                   alpha: Union[float, Sequence[float]] = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> Any:
    return run_per_sample(CategoricalFocalCrossentropy, y_true, y_pred, alpha=alpha, gamma=gamma,
                from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


@per_sample(KLDivergence)
def kl_divergence(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(KLDivergence, y_true, y_pred, axis=axis)


@per_sample(CategoricalHinge)
def categorical_hinge(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(CategoricalHinge, y_true, y_pred, axis=axis)


@per_sample(CosineSimilarity)
def cosine_similarity(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(CosineSimilarity, y_true, y_pred, axis=axis)


@per_sample(Entropy)
def entropy(y_pred: ArrayLike, from_logits: bool = False, axis: int = -1) -> Any:
    return run_per_sample(Entropy, y_pred, from_logits=from_logits, axis=axis)


@per_sample(CategoricalZeroOneLoss)
def categorical_zero_one(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any:
    return run_per_sample(CategoricalZeroOneLoss, y_true, y_pred, axis=axis)


@per_sample(SparseCategoricalZeroOneLoss)
def sparse_categorical_zero_one(y_true: ArrayLike, y_pred: ArrayLike,
                                ignore_class: Optional[int] = None, axis: int = -1) -> Any:
    return run_per_sample(SparseCategoricalZeroOneLoss, y_true, y_pred, ignore_class=ignore_class,
                axis=axis)


# Keras's short names for the same functions.
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
logcosh = log_cosh
kld = kullback_leibler_divergence = kl_divergence

#: The short names above (the registry's ALIASES map them to classes as well);
#: the declared losses' function aliases are added by _declared.
FUNCTION_ALIASES: dict[str, Callable[..., Any]] = {
    "mae": mae, "mape": mape, "msle": msle, "logcosh": logcosh, "kld": kld,
    "kullback_leibler_divergence": kullback_leibler_divergence}

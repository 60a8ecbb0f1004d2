"""Keras's per-sample loss functions: ``mean_squared_error(y_true, y_pred)``, ...

Each is a plain ``def`` so that type checkers and editors see its signature:
the arrays, then the loss class's constructor parameters (without
``reduction`` and ``name``) with the same defaults. ``@per_sample(cls)``
(``_base``) records which class a function evaluates and writes its docstring; the
registry's function names are read from these records, and a test checks
every signature against its class's constructor. The elementwise losses'
functions are made, with the same kind of signature, from the C++
declarations by ``_declared``; the class-axis ones are written out here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

from numpy.typing import ArrayLike

from . import _declared
from ._base import PER_SAMPLE as PER_SAMPLE  # the records, read here by the registry
from ._base import per_sample, run_per_sample
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
kld = kullback_leibler_divergence = kl_divergence

#: The short names above (the registry's ALIASES map them to classes as well),
#: and those of the elementwise losses' functions, which _declared makes from
#: the declarations.
FUNCTION_ALIASES: dict[str, Callable[..., Any]] = {
    "kld": kld, "kullback_leibler_divergence": kullback_leibler_divergence,
    **_declared.FUNCTION_ALIASES}

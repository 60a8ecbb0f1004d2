"""fastloss: forward values, gradients and Hessians of loss functions over
NumPy arrays, computed by fused SIMD + OpenMP C++ kernels.

>>> import numpy as np, fastloss as fl
>>> loss = fl.MeanSquaredError()
>>> value, grad = loss.forward_backward(np.zeros(4), np.ones(4))
"""

from __future__ import annotations

from typing import Any

from . import _core
from ._base import Loss, deserialize, serialize
from ._classaxis import (
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CategoricalZeroOneLoss,
    ClassAxisLoss,
    CosineSimilarity,
    Entropy,
    KLDivergence,
    SparseCategoricalCrossentropy,
    SparseCategoricalZeroOneLoss,
)
from ._custom import CompositeLoss, ElementwiseLoss
from ._elementwise import (
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
from ._models import (
    ContentLoss,
    GANDiscriminatorLoss,
    GANGeneratorLoss,
    MultiInputLoss,
    StyleLoss,
    TotalVariation,
    gram_matrix,
    gram_matrix_backward,
)
from ._registry import FUNCTIONS as _FUNCTIONS
from ._registry import get, names

__version__ = "0.1.0"

# Keras's per-sample functions: fl.mean_squared_error(y_true, y_pred), ...
globals().update(_FUNCTIONS)
mse = _FUNCTIONS["mean_squared_error"]
mae = _FUNCTIONS["mean_absolute_error"]
mape = _FUNCTIONS["mean_absolute_percentage_error"]
msle = _FUNCTIONS["mean_squared_logarithmic_error"]
logcosh = _FUNCTIONS["log_cosh"]
kld = kullback_leibler_divergence = _FUNCTIONS["kl_divergence"]


def set_num_threads(n: int) -> None:
    """Threads the kernels use from now on (n >= 1). Results are bitwise the
    same for every thread count."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads the kernels use (OpenMP's default, OMP_NUM_THREADS, unless set)."""
    return int(_core.get_num_threads())


def build_info() -> dict[str, Any]:
    """Version, compiler, SIMD level compiled for, OpenMP and thread count."""
    return dict(_core.build_info())


__all__ = [
    "AsymmetricLinear", "BinaryCrossentropy", "BinaryFocalCrossentropy", "ElementwiseLoss",
    "ExponentialLoss", "HalfSquaredError", "Hinge", "Huber", "LogCosh", "Loss",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Pinball", "Poisson", "SmoothL1", "SquaredHinge",
    "ZeroOneLoss", "build_info", "deserialize", "get", "get_num_threads", "names", "serialize",
    "set_num_threads",
    "mse", "mae", "mape", "msle", "logcosh", *sorted(_FUNCTIONS),
    "CategoricalCrossentropy", "CategoricalFocalCrossentropy", "CategoricalHinge",
    "CategoricalZeroOneLoss", "ClassAxisLoss", "CosineSimilarity", "Entropy", "KLDivergence",
    "SparseCategoricalCrossentropy", "SparseCategoricalZeroOneLoss", "kld",
    "kullback_leibler_divergence",
    "CompositeLoss", "ContentLoss", "GANDiscriminatorLoss", "GANGeneratorLoss", "MultiInputLoss",
    "StyleLoss", "TotalVariation", "gram_matrix", "gram_matrix_backward",
]

"""fastloss: forward values, gradients and Hessians of loss functions over
NumPy arrays, computed by fused SIMD + OpenMP C++ kernels.

>>> import numpy as np, fastloss as fl
>>> loss = fl.MeanSquaredError()
>>> value, grad = loss.forward_backward(np.zeros(4), np.ones(4))
"""

from __future__ import annotations

from typing import Any

from . import _core, _declared
from ._base import Loss, deserialize, serialize
from ._classaxis import ClassAxisLoss
from ._custom import CompositeLoss, ElementwiseLoss
from ._declared import *  # noqa: F403 - the declared losses and their functions (_declared.pyi)
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
from ._registry import get, names

__version__ = "0.1.0"


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


#: The public names; a test checks it against the registry (every loss class,
#: every per-sample function and alias).
__all__ = [
    # losses
    "ClassAxisLoss", "CompositeLoss", "ContentLoss", "ElementwiseLoss", "GANDiscriminatorLoss",
    "GANGeneratorLoss", "Loss", "MultiInputLoss", "StyleLoss", "TotalVariation",
    # functions
    "build_info", "deserialize", "get", "get_num_threads", "gram_matrix",
    "gram_matrix_backward", "names", "serialize", "set_num_threads",
    # the declared losses (elementwise and class-axis), their per-sample functions and
    # their short names (losses/info.hpp)
    *_declared.__all__,
]

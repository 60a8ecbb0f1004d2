"""fastloss: forward values, gradients and Hessians of loss functions over
NumPy arrays, computed by fused SIMD C++ kernels on a thread pool of their own.

>>> import numpy as np, fastloss as fl
>>> loss = fl.MeanSquaredError()
>>> value, grad = loss.forward_backward(np.zeros(4), np.ones(4))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _core, _declared
from ._adaptive import AdaptiveLogSoftmax
from ._base import Loss, deserialize, serialize
from ._classaxis import ClassAxisLoss, MulticlassGeneralizedDice
from ._custom import CompositeLoss, ElementwiseLoss
from ._declared import *  # noqa: F403 - the declared losses and their functions (_declared.pyi)
from ._embedding import (
    Circle,
    CosineEmbedding,
    MarginRanking,
    NTXent,
    TripletMargin,
    TripletMarginWithDistance,
)
from ._likelihood import CoxPH, MultiQuantile
from ._linear_ce import LinearCrossentropy
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
from ._ranking import (
    XENDCG,
    GroupQuantile,
    LambdaRankMAP,
    LambdaRankNDCG,
    PairwiseLogistic,
    QueryCrossentropy,
    QueryRMSE,
    SoftmaxListwise,
    StochasticFilter,
    StochasticRank,
    YetiRank,
    YetiRankPairwise,
)
from ._registry import get, names
from ._sequence import CTC
from ._threads import get_num_threads, num_threads, set_num_threads
from ._xentropy_lambda import CrossentropyLambda

#: Keras 3's class name of the generalized cross-entropy
CategoricalGeneralizedCrossEntropy = GeneralizedCrossentropy  # noqa: F405
#: optax's former name of the generalized KL divergence (convex_kl_divergence)
ConvexKLDivergence = GeneralizedKLDivergence  # noqa: F405

__version__ = "0.1.0"


#: Adapters to other libraries, imported on first use (`fl.xgboost.objective`):
#: importing fastloss imports none of those libraries.
_ADAPTERS = ("catboost", "jax", "lightgbm", "torch", "xgboost")
if TYPE_CHECKING:  # type checkers see the adapters as attributes, and no __getattr__
    from . import catboost, jax, lightgbm, torch, xgboost  # noqa: F401
else:
    def __getattr__(name: str) -> Any:
        if name in _ADAPTERS:
            import importlib

            return importlib.import_module(f"{__name__}.{name}")
        raise AttributeError(f"module 'fastloss' has no attribute {name!r}")


def build_info() -> dict[str, Any]:
    """Version, compiler, the SIMD level the kernels run with, the thread pool and
    thread count."""
    return dict(_core.build_info())


#: The public names; a test checks it against the registry (every loss class,
#: every per-sample function and alias).
__all__ = [
    # losses
    "CategoricalGeneralizedCrossEntropy", "ClassAxisLoss", "CompositeLoss", "CTC",
    "ContentLoss", "CoxPH", "ElementwiseLoss",
    "GANDiscriminatorLoss",
    "GANGeneratorLoss", "Loss", "MultiInputLoss", "StyleLoss", "TotalVariation",
    "LambdaRankMAP", "LambdaRankNDCG", "PairwiseLogistic", "QueryCrossentropy", "QueryRMSE",
    "SoftmaxListwise",
    "StochasticFilter", "XENDCG", "YetiRank", "YetiRankPairwise", "GroupQuantile",
    "StochasticRank",
    "Circle", "CosineEmbedding", "MarginRanking", "NTXent", "TripletMargin",
    "TripletMarginWithDistance", "ConvexKLDivergence", "MulticlassGeneralizedDice",
    "CrossentropyLambda",
    "LinearCrossentropy",
    "AdaptiveLogSoftmax",
    "MultiQuantile",
    # functions
    "build_info", "deserialize", "get", "get_num_threads", "gram_matrix",
    "gram_matrix_backward", "names", "num_threads", "serialize", "set_num_threads",
    # the declared losses (elementwise and class-axis), their per-sample functions and
    # their short names (losses/info.hpp)
    *_declared.__all__,
]

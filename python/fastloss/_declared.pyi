# Generated from the loss declarations of the C++ core by
# fastloss._declared.write_stub(): do not edit (docs/adding-a-loss.md).
from typing import Any, Callable, Optional

from numpy.typing import ArrayLike

from ._elementwise import CompiledElementwiseLoss

DECLARED: dict[str, dict[str, Any]]
CLASSES: dict[str, type[CompiledElementwiseLoss]]
FUNCTIONS: dict[str, Callable[..., Any]]
ALIASES: dict[str, type[CompiledElementwiseLoss]]

def stub_text() -> str: ...
def write_stub(path: Optional[str] = None) -> None: ...

class MeanSquaredError(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Huber(CompiledElementwiseLoss):
    delta: float
    def __init__(
        self,
        delta: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class PseudoHuber(CompiledElementwiseLoss):
    delta: float
    def __init__(
        self,
        delta: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Pinball(CompiledElementwiseLoss):
    quantile: float
    def __init__(
        self,
        quantile: float = 0.5,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
mse = mean_squared_error
def huber(y_true: ArrayLike, y_pred: ArrayLike, delta: float = 1.0) -> Any: ...
def pseudo_huber(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    delta: float = 1.0,
    axis: int = -1,
) -> Any: ...
def pinball(y_true: ArrayLike, y_pred: ArrayLike, quantile: float = 0.5) -> Any: ...

__all__ = [
    'Huber',
    'MeanSquaredError',
    'Pinball',
    'PseudoHuber',
    'huber',
    'mean_squared_error',
    'mse',
    'pinball',
    'pseudo_huber',
]

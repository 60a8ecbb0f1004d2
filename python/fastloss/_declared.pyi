# Generated from the loss declarations of the C++ core by
# fastloss._declared.write_stub(): do not edit (docs/adding-a-loss.md).
from typing import Any, Callable, Optional

from numpy.typing import ArrayLike

from ._elementwise import CompiledElementwiseLoss

DECLARED: dict[str, dict[str, Any]]
LOGITS: dict[str, dict[str, Any]]
CLASSES: dict[str, type[CompiledElementwiseLoss]]
FUNCTIONS: dict[str, Callable[..., Any]]
FUNCTION_ALIASES: dict[str, Callable[..., Any]]
ALIASES: dict[str, type[CompiledElementwiseLoss]]

def parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...
def stub_text() -> str: ...
def write_stub(path: Optional[str] = None) -> None: ...

class MeanSquaredError(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MeanAbsoluteError(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MeanAbsolutePercentageError(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MeanSquaredLogarithmicError(CompiledElementwiseLoss):
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

class LogCosh(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Poisson(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class HalfSquaredError(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class SmoothL1(CompiledElementwiseLoss):
    beta: float
    def __init__(
        self,
        beta: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class Pinball(CompiledElementwiseLoss):
    quantile: float
    def __init__(
        self,
        quantile: float = 0.5,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class AsymmetricLinear(CompiledElementwiseLoss):
    overestimate_cost: float
    underestimate_cost: float
    def __init__(
        self,
        overestimate_cost: float = 1.0,
        underestimate_cost: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class BinaryCrossentropy(CompiledElementwiseLoss):
    from_logits: bool
    label_smoothing: float
    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class BinaryFocalCrossentropy(CompiledElementwiseLoss):
    apply_class_balancing: bool
    alpha: float
    gamma: float
    from_logits: bool
    label_smoothing: float
    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class Hinge(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class SquaredHinge(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class ExponentialLoss(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class ZeroOneLoss(CompiledElementwiseLoss):
    threshold: float
    def __init__(
        self,
        threshold: float = 0.5,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
mse = mean_squared_error
def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
mae = mean_absolute_error
def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
mape = mean_absolute_percentage_error
def mean_squared_logarithmic_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
msle = mean_squared_logarithmic_error
def huber(y_true: ArrayLike, y_pred: ArrayLike, delta: float = 1.0) -> Any: ...
def pseudo_huber(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    delta: float = 1.0,
    axis: int = -1,
) -> Any: ...
def log_cosh(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
logcosh = log_cosh
def poisson(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def half_squared_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def smooth_l1(y_true: ArrayLike, y_pred: ArrayLike, beta: float = 1.0) -> Any: ...
def pinball(y_true: ArrayLike, y_pred: ArrayLike, quantile: float = 0.5) -> Any: ...
def asymmetric_linear(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    overestimate_cost: float = 1.0,
    underestimate_cost: float = 1.0,
) -> Any: ...
def binary_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any: ...
def binary_focal_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any: ...
def hinge(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def squared_hinge(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def exponential(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def zero_one(y_true: ArrayLike, y_pred: ArrayLike, threshold: float = 0.5) -> Any: ...

__all__ = [
    'AsymmetricLinear',
    'BinaryCrossentropy',
    'BinaryFocalCrossentropy',
    'ExponentialLoss',
    'HalfSquaredError',
    'Hinge',
    'Huber',
    'LogCosh',
    'MeanAbsoluteError',
    'MeanAbsolutePercentageError',
    'MeanSquaredError',
    'MeanSquaredLogarithmicError',
    'Pinball',
    'Poisson',
    'PseudoHuber',
    'SmoothL1',
    'SquaredHinge',
    'ZeroOneLoss',
    'asymmetric_linear',
    'binary_crossentropy',
    'binary_focal_crossentropy',
    'exponential',
    'half_squared_error',
    'hinge',
    'huber',
    'log_cosh',
    'logcosh',
    'mae',
    'mape',
    'mean_absolute_error',
    'mean_absolute_percentage_error',
    'mean_squared_error',
    'mean_squared_logarithmic_error',
    'mse',
    'msle',
    'pinball',
    'poisson',
    'pseudo_huber',
    'smooth_l1',
    'squared_hinge',
    'zero_one',
]

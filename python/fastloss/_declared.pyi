# Generated from the loss declarations of the C++ core by
# fastloss._declared.write_stub(): do not edit (docs/adding-a-loss.md).
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

from numpy.typing import ArrayLike

from ._classaxis import ClassAxisLoss, OneInputLoss
from ._elementwise import CompiledElementwiseLoss
from ._multi_input import DeclaredMultiInputLoss

DECLARED: dict[str, dict[str, Any]]
DECLARED_ROWS: dict[str, dict[str, Any]]
DECLARED_MULTI: dict[str, dict[str, Any]]
LOGITS: dict[str, dict[str, Any]]
CLASSES: dict[str, type[CompiledElementwiseLoss]]
ROW_CLASSES: dict[str, type[ClassAxisLoss]]
FUNCTIONS: dict[str, Callable[..., Any]]
FUNCTION_ALIASES: dict[str, Callable[..., Any]]
ALIASES: dict[str, type[CompiledElementwiseLoss]]
ROW_ALIASES: dict[str, type[ClassAxisLoss]]
MULTI_CLASSES: dict[str, type[DeclaredMultiInputLoss]]
MULTI_ALIASES: dict[str, type[DeclaredMultiInputLoss]]

def flag_name(info: dict[str, Any]) -> Optional[str]: ...
def parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...
def row_parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...
def multi_parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...
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
    log_input: bool
    def __init__(
        self,
        log_input: bool = False,
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
    log_input: bool
    def __init__(
        self,
        quantile: float = 0.5,
        log_input: bool = False,
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

class Gamma(CompiledElementwiseLoss):
    log_input: bool
    def __init__(
        self,
        log_input: bool = False,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Tweedie(CompiledElementwiseLoss):
    power: float
    log_input: bool
    def __init__(
        self,
        power: float = 1.5,
        log_input: bool = False,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Fair(CompiledElementwiseLoss):
    c: float
    def __init__(
        self,
        c: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Expectile(CompiledElementwiseLoss):
    expectile: float
    def __init__(
        self,
        expectile: float = 0.5,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
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

class SoftMargin(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class HingeEmbedding(CompiledElementwiseLoss):
    margin: float
    def __init__(
        self,
        margin: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class Perceptron(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class Sparsemax(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class ModifiedHuber(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class EpsilonInsensitive(CompiledElementwiseLoss):
    epsilon: float
    def __init__(
        self,
        epsilon: float = 0.1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class SquaredEpsilonInsensitive(CompiledElementwiseLoss):
    epsilon: float
    def __init__(
        self,
        epsilon: float = 0.1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class Lq(CompiledElementwiseLoss):
    q: float
    def __init__(
        self,
        q: float = 2.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MultiRMSEWithMissingValues(CompiledElementwiseLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class CategoricalCrossentropy(ClassAxisLoss):
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

class SparseCategoricalCrossentropy(ClassAxisLoss):
    from_logits: bool
    ignore_class: Optional[int]
    class_weight: Optional[tuple[float, ...]]
    label_smoothing: float
    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: Optional[int] = None,
        reduction: Optional[str] = "sum_over_batch_size",
        axis: int = -1,
        name: Optional[str] = None,
        *,
        class_weight: Any = None,
        label_smoothing: float = 0.0,
    ) -> None: ...

class CategoricalFocalCrossentropy(ClassAxisLoss):
    alpha: Union[float, tuple[float, ...]]
    gamma: float
    from_logits: bool
    label_smoothing: float
    def __init__(
        self,
        alpha: Any = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class KLDivergence(ClassAxisLoss):
    log_input: bool
    log_target: bool
    def __init__(
        self,
        log_input: bool = False,
        log_target: bool = False,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class CategoricalHinge(ClassAxisLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class CosineSimilarity(ClassAxisLoss):
    def __init__(
        self,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class Entropy(OneInputLoss):
    from_logits: bool
    def __init__(
        self,
        from_logits: bool = False,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class CategoricalZeroOneLoss(ClassAxisLoss):
    def __init__(
        self,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class SparseCategoricalZeroOneLoss(ClassAxisLoss):
    ignore_class: Optional[int]
    def __init__(
        self,
        ignore_class: Optional[int] = None,
        axis: int = -1,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class Dice(ClassAxisLoss):
    ignore_class: Optional[float]
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: Union[int, tuple[int, ...], None] = None,
        *,
        ignore_class: Optional[float] = None,
    ) -> None: ...

class Tversky(ClassAxisLoss):
    alpha: float
    beta: float
    ignore_class: Optional[float]
    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: Union[int, tuple[int, ...], None] = None,
        *,
        ignore_class: Optional[float] = None,
    ) -> None: ...

class Jaccard(ClassAxisLoss):
    ignore_class: Optional[float]
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: Union[int, tuple[int, ...], None] = None,
        *,
        ignore_class: Optional[float] = None,
    ) -> None: ...

class NLL(ClassAxisLoss):
    ignore_class: Optional[int]
    class_weight: Optional[tuple[float, ...]]
    def __init__(
        self,
        ignore_class: Optional[int] = None,
        class_weight: Any = None,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MultiMargin(ClassAxisLoss):
    p: float
    margin: float
    class_weight: Optional[tuple[float, ...]]
    def __init__(
        self,
        p: float = 1.0,
        margin: float = 1.0,
        class_weight: Any = None,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MultiLabelMargin(ClassAxisLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MultiLabelSoftMargin(ClassAxisLoss):
    class_weight: Optional[tuple[float, ...]]
    def __init__(
        self,
        class_weight: Any = None,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MultiClassPerceptron(ClassAxisLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class PolyLoss(ClassAxisLoss):
    epsilon: float
    def __init__(
        self,
        epsilon: float = 2.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MulticlassSparsemax(ClassAxisLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class GeneralizedCrossentropy(ClassAxisLoss):
    q: float
    def __init__(
        self,
        q: float = 0.5,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class OneVsAllCrossentropy(ClassAxisLoss):
    def __init__(
        self,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class MulticlassHinge(ClassAxisLoss):
    margin: float
    def __init__(
        self,
        margin: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class GeneralizedKLDivergence(ClassAxisLoss):
    log_input: bool
    def __init__(
        self,
        log_input: bool = True,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class CosineDistance(ClassAxisLoss):
    epsilon: float
    def __init__(
        self,
        epsilon: float = 0.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
        axis: int = -1,
    ) -> None: ...

class GaussianNLL(DeclaredMultiInputLoss):
    full: bool
    eps: float
    def __init__(
        self,
        full: bool = False,
        eps: float = 1e-06,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class SurvivalAft(DeclaredMultiInputLoss):
    distribution: str
    sigma: float
    def __init__(
        self,
        distribution: str = 'normal',
        sigma: float = 1.0,
        reduction: Optional[str] = "sum_over_batch_size",
        name: Optional[str] = None,
    ) -> None: ...

class RMSEWithUncertainty(DeclaredMultiInputLoss):
    def __init__(
        self,
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
def poisson(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    log_input: bool = False,
    axis: int = -1,
) -> Any: ...
def half_squared_error(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def smooth_l1(y_true: ArrayLike, y_pred: ArrayLike, beta: float = 1.0) -> Any: ...
def pinball(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    quantile: float = 0.5,
    log_input: bool = False,
) -> Any: ...
def asymmetric_linear(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    overestimate_cost: float = 1.0,
    underestimate_cost: float = 1.0,
) -> Any: ...
def gamma(y_true: ArrayLike, y_pred: ArrayLike, log_input: bool = False, axis: int = -1) -> Any: ...
def tweedie(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    power: float = 1.5,
    log_input: bool = False,
    axis: int = -1,
) -> Any: ...
def fair(y_true: ArrayLike, y_pred: ArrayLike, c: float = 1.0, axis: int = -1) -> Any: ...
def expectile(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    expectile: float = 0.5,
    axis: int = -1,
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
def soft_margin(y_true: ArrayLike, y_pred: ArrayLike) -> Any: ...
def hinge_embedding(y_true: ArrayLike, y_pred: ArrayLike, margin: float = 1.0) -> Any: ...
def perceptron(y_true: ArrayLike, y_pred: ArrayLike) -> Any: ...
def sparsemax(y_true: ArrayLike, y_pred: ArrayLike) -> Any: ...
def modified_huber(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def epsilon_insensitive(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    epsilon: float = 0.1,
    axis: int = -1,
) -> Any: ...
def squared_epsilon_insensitive(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    epsilon: float = 0.1,
    axis: int = -1,
) -> Any: ...
def lq(y_true: ArrayLike, y_pred: ArrayLike, q: float = 2.0, axis: int = -1) -> Any: ...
def multi_rmse_with_missing_values(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def categorical_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any: ...
def softmax_cross_entropy_with_logits(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = True,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any: ...
def sparse_categorical_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    from_logits: bool = False,
    ignore_class: Optional[int] = None,
    axis: int = -1,
    *,
    class_weight: Optional[Sequence[float]] = None,
    label_smoothing: float = 0.0,
) -> Any: ...
def categorical_focal_crossentropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: Union[float, Sequence[float]] = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any: ...
def kl_divergence(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    log_input: bool = False,
    log_target: bool = False,
    axis: int = -1,
) -> Any: ...
kld = kl_divergence
kullback_leibler_divergence = kl_divergence
def categorical_hinge(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def cosine_similarity(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def entropy(y_pred: ArrayLike, from_logits: bool = False, axis: int = -1) -> Any: ...
def categorical_zero_one(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def sparse_categorical_zero_one(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ignore_class: Optional[int] = None,
    axis: int = -1,
) -> Any: ...
def dice(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    axis: Union[int, tuple[int, ...], None] = None,
    *,
    ignore_class: Optional[float] = None,
) -> Any: ...
def tversky(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: Union[int, tuple[int, ...], None] = None,
    *,
    ignore_class: Optional[float] = None,
) -> Any: ...
def jaccard(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    axis: Union[int, tuple[int, ...], None] = None,
    *,
    ignore_class: Optional[float] = None,
) -> Any: ...
def nll_loss(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    ignore_class: Optional[int] = None,
    class_weight: Optional[Sequence[float]] = None,
    axis: int = -1,
) -> Any: ...
def multi_margin_loss(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    p: float = 1.0,
    margin: float = 1.0,
    class_weight: Optional[Sequence[float]] = None,
    axis: int = -1,
) -> Any: ...
def multilabel_margin_loss(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def multilabel_soft_margin_loss(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    class_weight: Optional[Sequence[float]] = None,
    axis: int = -1,
) -> Any: ...
def multiclass_perceptron_loss(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def poly_loss_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    epsilon: float = 2.0,
    axis: int = -1,
) -> Any: ...
def multiclass_sparsemax_loss(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def categorical_generalized_cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    q: float = 0.5,
    axis: int = -1,
) -> Any: ...
def one_vs_all_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, axis: int = -1) -> Any: ...
def multiclass_hinge_loss(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    margin: float = 1.0,
    axis: int = -1,
) -> Any: ...
def generalized_kl_divergence(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    log_input: bool = True,
    axis: int = -1,
) -> Any: ...
convex_kl_divergence = generalized_kl_divergence
def cosine_distance(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    epsilon: float = 0.0,
    axis: int = -1,
) -> Any: ...

__all__ = [
    'AsymmetricLinear',
    'BinaryCrossentropy',
    'BinaryFocalCrossentropy',
    'CategoricalCrossentropy',
    'CategoricalFocalCrossentropy',
    'CategoricalHinge',
    'CategoricalZeroOneLoss',
    'CosineDistance',
    'CosineSimilarity',
    'Dice',
    'Entropy',
    'EpsilonInsensitive',
    'Expectile',
    'ExponentialLoss',
    'Fair',
    'Gamma',
    'GaussianNLL',
    'GeneralizedCrossentropy',
    'GeneralizedKLDivergence',
    'HalfSquaredError',
    'Hinge',
    'HingeEmbedding',
    'Huber',
    'Jaccard',
    'KLDivergence',
    'LogCosh',
    'Lq',
    'MeanAbsoluteError',
    'MeanAbsolutePercentageError',
    'MeanSquaredError',
    'MeanSquaredLogarithmicError',
    'ModifiedHuber',
    'MultiClassPerceptron',
    'MultiLabelMargin',
    'MultiLabelSoftMargin',
    'MultiMargin',
    'MultiRMSEWithMissingValues',
    'MulticlassHinge',
    'MulticlassSparsemax',
    'NLL',
    'OneVsAllCrossentropy',
    'Perceptron',
    'Pinball',
    'Poisson',
    'PolyLoss',
    'PseudoHuber',
    'RMSEWithUncertainty',
    'SmoothL1',
    'SoftMargin',
    'SparseCategoricalCrossentropy',
    'SparseCategoricalZeroOneLoss',
    'Sparsemax',
    'SquaredEpsilonInsensitive',
    'SquaredHinge',
    'SurvivalAft',
    'Tversky',
    'Tweedie',
    'ZeroOneLoss',
    'asymmetric_linear',
    'binary_crossentropy',
    'binary_focal_crossentropy',
    'categorical_crossentropy',
    'categorical_focal_crossentropy',
    'categorical_generalized_cross_entropy',
    'categorical_hinge',
    'categorical_zero_one',
    'convex_kl_divergence',
    'cosine_distance',
    'cosine_similarity',
    'dice',
    'entropy',
    'epsilon_insensitive',
    'expectile',
    'exponential',
    'fair',
    'gamma',
    'generalized_kl_divergence',
    'half_squared_error',
    'hinge',
    'hinge_embedding',
    'huber',
    'jaccard',
    'kl_divergence',
    'kld',
    'kullback_leibler_divergence',
    'log_cosh',
    'logcosh',
    'lq',
    'mae',
    'mape',
    'mean_absolute_error',
    'mean_absolute_percentage_error',
    'mean_squared_error',
    'mean_squared_logarithmic_error',
    'modified_huber',
    'mse',
    'msle',
    'multi_margin_loss',
    'multi_rmse_with_missing_values',
    'multiclass_hinge_loss',
    'multiclass_perceptron_loss',
    'multiclass_sparsemax_loss',
    'multilabel_margin_loss',
    'multilabel_soft_margin_loss',
    'nll_loss',
    'one_vs_all_crossentropy',
    'perceptron',
    'pinball',
    'poisson',
    'poly_loss_cross_entropy',
    'pseudo_huber',
    'smooth_l1',
    'soft_margin',
    'softmax_cross_entropy_with_logits',
    'sparse_categorical_crossentropy',
    'sparse_categorical_zero_one',
    'sparsemax',
    'squared_epsilon_insensitive',
    'squared_hinge',
    'tversky',
    'tweedie',
    'zero_one',
]

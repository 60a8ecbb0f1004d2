from typing import Any, Optional

import numpy as np

ELEMENTWISE_KERNELS: tuple[str, ...]

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def build_info() -> dict[str, Any]: ...

class _ElementwiseKernel:
    name: str
    has_hessian: bool
    def __init__(self, params: list[float]) -> None: ...
    def run(self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Optional[np.ndarray],
            grad_output: Optional[np.ndarray], grad_output_scalar: float, reduction: int,
            divisor: float, want_value: bool, per_sample: Optional[np.ndarray],
            grad: Optional[np.ndarray], hess: Optional[np.ndarray],
            per_element: bool) -> float: ...

# Class-axis kernels (register_classaxis.cpp)
CLASSAXIS_KERNELS: tuple[str, ...]

class _ClassAxisKernel:
    name: str
    has_hessian: bool
    input: str
    def run(self, y_true: Optional[np.ndarray], labels: Optional[np.ndarray],
            y_pred: np.ndarray, sample_weight: Optional[np.ndarray],
            grad_output: Optional[np.ndarray], grad_output_scalar: float, reduction: int,
            divisor: float, want_value: bool, per_sample: Optional[np.ndarray],
            grad: Optional[np.ndarray], hess: Optional[np.ndarray],
            per_element: bool) -> float: ...

class CategoricalCrossentropy(_ClassAxisKernel):
    def __init__(self, from_logits: bool, label_smoothing: float) -> None: ...

class SparseCategoricalCrossentropy(_ClassAxisKernel):
    def __init__(self, from_logits: bool, label_smoothing: float,
                 class_weight: list[float]) -> None: ...

class CategoricalFocalCrossentropy(_ClassAxisKernel):
    def __init__(self, alpha: list[float], gamma: float, from_logits: bool,
                 label_smoothing: float) -> None: ...

class KLDivergence(_ClassAxisKernel): ...
class CategoricalHinge(_ClassAxisKernel): ...
class CosineSimilarity(_ClassAxisKernel): ...

class Entropy(_ClassAxisKernel):
    def __init__(self, from_logits: bool) -> None: ...

class CategoricalZeroOne(_ClassAxisKernel): ...
class SparseCategoricalZeroOne(_ClassAxisKernel): ...

def __getattr__(name: str) -> type[_ElementwiseKernel]: ...

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

def __getattr__(name: str) -> type[_ElementwiseKernel]: ...

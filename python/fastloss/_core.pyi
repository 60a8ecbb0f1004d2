from typing import Any, Optional

import numpy as np

ELEMENTWISE_KERNELS: tuple[str, ...]

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
max_threads: int
def pool_size() -> int: ...
def build_info() -> dict[str, Any]: ...
def gram(features: np.ndarray, out: np.ndarray) -> None: ...
def gram_backward(features: np.ndarray, sym_grad: np.ndarray, out: np.ndarray) -> None: ...
def total_variation(images: np.ndarray, per_image: Optional[np.ndarray],
                    grad: Optional[np.ndarray], grad_scale: Optional[np.ndarray]) -> None: ...
def cox_ph(y_true: np.ndarray, y_pred: np.ndarray, per_sample: Optional[np.ndarray],
           grad: Optional[np.ndarray], hess: Optional[np.ndarray],
           coef: Optional[np.ndarray]) -> None: ...

class _ElementwiseKernel:
    name: str
    has_hessian: bool
    def __init__(self, params: list[float]) -> None: ...
    def run(self, y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Optional[np.ndarray],
            grad_output: Optional[np.ndarray], grad_output_scalar: float, reduction: int,
            divisor: float, want_value: bool, per_sample: Optional[np.ndarray],
            grad: Optional[np.ndarray], hess: Optional[np.ndarray],
            per_element: bool) -> float: ...
    def fast(self, y_true: Any, y_pred: Any, reduction: int, divisor: float, want_value: bool,
             want_grad: bool, grad_output: float, out: Any = None) -> Any: ...

# Class-axis kernels (register_classaxis.cpp)
CLASSAXIS_KERNELS: tuple[str, ...]

class _ClassAxisKernel:
    """``_core.<Struct>(**params)``: the struct's declared parameters by name
    (register_classaxis.cpp); ``info`` is its declaration."""
    info: dict[str, Any]
    name: str
    has_hessian: bool
    hessian_defined: bool  # this instance's: MultiMargin has a Hessian with p=2 only
    input: str
    def __init__(self, **params: Any) -> None: ...
    def run(self, y_true: Optional[np.ndarray], labels: Optional[np.ndarray],
            y_pred: np.ndarray, sample_weight: Optional[np.ndarray],
            grad_output: Optional[np.ndarray], grad_output_scalar: float, reduction: int,
            divisor: float, want_value: bool, per_sample: Optional[np.ndarray],
            grad: Optional[np.ndarray], hess: Optional[np.ndarray],
            per_element: bool) -> float: ...

# Every struct of the registry is a kernel class: _core.<Struct>, an
# _ElementwiseKernel or, for the names in CLASSAXIS_KERNELS, a _ClassAxisKernel.
def __getattr__(name: str) -> type[_ElementwiseKernel]: ...

# Ranking kernels over query groups (register_ranking.cpp)
def rank_loss(kind: int, relevance: np.ndarray, scores: np.ndarray, offsets: np.ndarray,
              option: int, per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
              hess: Optional[np.ndarray], coef: Optional[np.ndarray],
              normalize: bool = False, param: float = 0.0) -> None: ...

# Sequence kernels (register_sequence.cpp)
def ctc(log_probs: np.ndarray, labels: np.ndarray, input_lengths: np.ndarray,
        label_lengths: np.ndarray, blank: int, from_logits: bool, zero_infinity: bool,
        per_sample: Optional[np.ndarray], grad: Optional[np.ndarray],
        coef: Optional[np.ndarray]) -> None: ...

# Pair, triplet and metric-learning kernels (register_embedding.cpp)
def margin_ranking(y: np.ndarray, x1: np.ndarray, x2: np.ndarray, margin: float,
                   per_element: Optional[np.ndarray], g1: Optional[np.ndarray],
                   g2: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None: ...
def cosine_embedding(y: np.ndarray, x1: np.ndarray, x2: np.ndarray, margin: float,
                     per_row: Optional[np.ndarray], grads: tuple[np.ndarray, ...],
                     hess: tuple[np.ndarray, ...], coef: Optional[np.ndarray]) -> None: ...
def triplet_margin(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray,
                   margin: float, p: float, swap: bool, eps: float,
                   per_row: Optional[np.ndarray], grads: tuple[np.ndarray, ...],
                   hess: tuple[np.ndarray, ...], coef: Optional[np.ndarray],
                   distance: int = 0) -> None: ...
def ntxent(labels: np.ndarray, embeddings: np.ndarray, temperature: float,
           per_row: Optional[np.ndarray], grad: Optional[np.ndarray],
           coef: Optional[np.ndarray]) -> None: ...
def circle(labels: np.ndarray, embeddings: np.ndarray, gamma: float, margin: float,
           remove_diagonal: bool, per_row: Optional[np.ndarray], grad: Optional[np.ndarray],
           coef: Optional[np.ndarray]) -> None: ...

# optax's multiclass generalized Dice loss (register_classaxis.cpp, segmentation.hpp)
def multiclass_generalized_dice(y_true: np.ndarray, y_pred: np.ndarray, batch: int, pixels: int,
                                classes: int, smooth: float, apply_softmax: bool,
                                ignore_background: bool, per_sample: Optional[np.ndarray],
                                grad: Optional[np.ndarray],
                                coef: Optional[np.ndarray]) -> None: ...
# LightGBM's cross_entropy_lambda (register_xentropy_lambda.cpp): flat contiguous arrays
def crossentropy_lambda(y_true: np.ndarray, y_pred: np.ndarray, weight: Optional[np.ndarray],
                        per_sample: Optional[np.ndarray], grad: Optional[np.ndarray],
                        hess: Optional[np.ndarray], coef: Optional[np.ndarray],
                        scale: float) -> None: ...
# Declared multi-input kernels (register_multi_input.cpp): one class per struct of
# FASTLOSS_MULTI_INPUT_LOSSES, named as the struct (GaussianNLL, SurvivalAft, ...)
MULTI_INPUT_KERNELS: tuple[str, ...]

class _MultiInputKernel:
    info: dict[str, Any]
    def __init__(self, params: list[float]) -> None: ...
    def run(self, inputs: list[np.ndarray], values: Optional[np.ndarray],
            grads: list[Optional[np.ndarray]], hess: list[Optional[np.ndarray]],
            row_scale: Optional[np.ndarray], mean_over_row: bool) -> None: ...
# Cross-entropy on a linear head (register_linear_ce.cpp); gemm: a PyCapsule of a
# Fortran ?gemm (scipy.linalg.cython_blas)
def linear_ce(labels: np.ndarray, hidden: np.ndarray, weight: np.ndarray,
              bias: Optional[np.ndarray], class_weight: Optional[np.ndarray],
              ignore_class: int, label_smoothing: float, chunk_size: int, gemm: object,
              per_row: Optional[np.ndarray], coef: Optional[np.ndarray],
              d_hidden: Optional[np.ndarray], d_weight: Optional[np.ndarray],
              d_bias: Optional[np.ndarray]) -> None: ...
def linear_ce_plan(n: int, v: int, itemsize: int, chunk_size: int) -> tuple[int, int]: ...
def linear_ce_blas_threads_local(gemm: object) -> bool: ...
# YetiRank from its uniforms, permutations rows of n, None for no noise
# (register_ranking.cpp)
def yetirank_loss(relevance: np.ndarray, scores: np.ndarray, offsets: np.ndarray,
                  uniforms: Optional[np.ndarray], permutations: int, decay: float,
                  per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
                  hess: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None: ...

# -- the multi-quantile pinball kernel (losses/multi_quantile.hpp) ---------------------------
def multi_quantile(y_true: np.ndarray, y_pred: np.ndarray, quantiles: np.ndarray,
                   values: Optional[np.ndarray], grad: Optional[np.ndarray],
                   row_scale: Optional[np.ndarray]) -> None: ...
# StochasticFilter from its uniforms, estimations rows of n (register_ranking.cpp)
def stochastic_filter_loss(relevance: np.ndarray, scores: np.ndarray, offsets: np.ndarray,
                           uniforms: np.ndarray, estimations: int, sigma: float,
                           per_query: Optional[np.ndarray], grad: Optional[np.ndarray],
                           coef: Optional[np.ndarray]) -> None: ...
# StochasticRank from its standard normals, estimations rows of n (register_ranking.cpp)
def stochastic_rank_loss(relevance: np.ndarray, scores: np.ndarray, offsets: np.ndarray,
                         normals: np.ndarray, estimations: int, ndcg: bool, top: int,
                         exp_gain: bool, log_discount: bool, sigma: float, mu: float,
                         nu: float, lambda_: float, per_query: Optional[np.ndarray],
                         grad: Optional[np.ndarray], coef: Optional[np.ndarray]) -> None: ...

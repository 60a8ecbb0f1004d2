"""What a NumPy user writes by hand for forward + backward of each loss: the
baseline `python -m fastloss` and the benchmarks compare against. Mean over
all elements (equal rows), gradient of that mean."""

from __future__ import annotations

from typing import Callable

import numpy as np

Baseline = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
_EPS = 1e-7


def _mean(v: np.ndarray, g: np.ndarray) -> tuple[float, np.ndarray]:
    return float(np.mean(v)), g / v.size


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _bce_probs(t: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray]:
    pc = np.clip(p, _EPS, 1 - _EPS)
    v = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    return _mean(v, (pc - t) / (pc * (1 - pc)))


def _focal(t: np.ndarray, p: np.ndarray, gamma: float = 2.0) -> tuple[float, np.ndarray]:
    pc = np.clip(p, _EPS, 1 - _EPS)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    u = 1 - (t * p + (1 - t) * (1 - p))
    f = u**gamma
    g = gamma * u ** (gamma - 1) * (1 - 2 * t) * bce + f * (pc - t) / (pc * (1 - pc))
    return _mean(f * bce, g)


BASELINES: dict[str, Baseline] = {
    "MeanSquaredError": lambda t, p: _mean((t - p) ** 2, 2 * (p - t)),
    "MeanAbsoluteError": lambda t, p: _mean(np.abs(t - p), np.sign(p - t)),
    "MeanAbsolutePercentageError": lambda t, p: _mean(
        100 * np.abs(t - p) / np.maximum(np.abs(t), _EPS),
        100 * np.sign(p - t) / np.maximum(np.abs(t), _EPS)),
    "MeanSquaredLogarithmicError": lambda t, p: (lambda r: _mean(r**2, 2 * r / (p + 1)))(
        np.log1p(np.maximum(p, _EPS)) - np.log1p(np.maximum(t, _EPS))),
    "Huber": lambda t, p: (lambda e: _mean(
        np.where(np.abs(e) <= 1, 0.5 * e * e, np.abs(e) - 0.5), np.clip(e, -1, 1)))(p - t),
    "LogCosh": lambda t, p: (lambda e: _mean(np.logaddexp(e, -e) - np.log(2), np.tanh(e)))(p - t),
    "Poisson": lambda t, p: _mean(p - t * np.log(p + _EPS), 1 - t / (p + _EPS)),
    "HalfSquaredError": lambda t, p: _mean(0.5 * (p - t) ** 2, p - t),
    "SmoothL1": lambda t, p: (lambda e: _mean(
        np.where(np.abs(e) < 1, 0.5 * e * e, np.abs(e) - 0.5), np.clip(e, -1, 1)))(p - t),
    "Pinball": lambda t, p: _mean(np.where(t >= p, 0.5 * (t - p), 0.5 * (p - t)),
                                  np.where(t >= p, -0.5, 0.5)),
    "AsymmetricLinear": lambda t, p: _mean(np.where(p > t, p - t, 99 * (t - p)),
                                           np.where(p > t, 1.0, -99.0)),
    "BinaryCrossentropy": _bce_probs,
    "BinaryCrossentropy(logits)": lambda t, z: _mean(np.logaddexp(0, z) - t * z,
                                                     _sigmoid(z) - t),
    "BinaryFocalCrossentropy": _focal,
    "Hinge": lambda t, p: (lambda y: _mean(np.maximum(1 - y * p, 0),
                                           np.where(1 - y * p > 0, -y, 0)))(2 * t - 1),
    "SquaredHinge": lambda t, p: (lambda y, m: _mean(m * m, -2 * y * m))(
        2 * t - 1, np.maximum(1 - (2 * t - 1) * p, 0)),
    "ExponentialLoss": lambda t, p: (lambda y, e: _mean(e, -y * e))(
        2 * t - 1, np.exp(-(2 * t - 1) * p)),
    "ZeroOneLoss": lambda t, p: _mean(((p > 0.5) != t).astype(p.dtype), np.zeros_like(p)),
}


# --- class-axis losses over rows of logits / probabilities (mean over rows) --


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _cce_logits(t: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    zmax = z.max(-1, keepdims=True)
    lse = np.log(np.exp(z - zmax).sum(-1, keepdims=True)) + zmax
    grad = (_softmax(z) * t.sum(-1, keepdims=True) - t) / z.shape[0]
    return float(np.mean(-(t * (z - lse)).sum(-1))), grad


def _sparse_ce_logits(labels: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    n = z.shape[0]
    p = _softmax(z)
    rows = np.arange(n)
    value = float(np.mean(-np.log(p[rows, labels])))
    grad = p
    grad[rows, labels] -= 1.0
    return value, grad / n


def _kld(t: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray]:
    tc, pc = np.clip(t, 1e-7, 1), np.clip(p, 1e-7, 1)
    n = p.shape[0]
    return float(np.mean((tc * np.log(tc / pc)).sum(-1))), -tc / pc / n


def _cosine(t: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray]:
    tn = t / np.linalg.norm(t, axis=-1, keepdims=True)
    pnorm = np.linalg.norm(p, axis=-1, keepdims=True)
    pn = p / pnorm
    cos = (tn * pn).sum(-1, keepdims=True)
    n = p.shape[0]
    return float(np.mean(-cos)), -(tn - cos * pn) / pnorm / n


def _categorical_hinge(t: np.ndarray, p: np.ndarray) -> tuple[float, np.ndarray]:
    pos = (t * p).sum(-1)
    masked = (1 - t) * p
    neg_idx = masked.argmax(-1)
    rows = np.arange(p.shape[0])
    neg = masked[rows, neg_idx]
    m = np.maximum(neg - pos + 1, 0)
    live = (m > 0)[:, None] / p.shape[0]
    g = -t * live
    g[rows, neg_idx] += (1 - t[rows, neg_idx]) * live[:, 0]
    return float(np.mean(m)), g


CLASS_AXIS_BASELINES: dict[str, Baseline] = {
    "CategoricalCrossentropy(logits)": _cce_logits,
    "SparseCategoricalCrossentropy(logits)": _sparse_ce_logits,
    "KLDivergence": _kld,
    "CosineSimilarity": _cosine,
    "CategoricalHinge": _categorical_hinge,
}

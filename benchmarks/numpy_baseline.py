"""What a NumPy user writes by hand for forward + backward of each loss: the NumPy
column of the benchmark harness (harness.py, next to this file). Mean over all
elements (equal rows), gradient of that mean. Not part of the installed package."""

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


# --- sparse softmax cross-entropy over rows of logits --------------------------


def sparse_ce_logits(labels: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """What a NumPy user writes: stable log-softmax, mean loss, gradient of the mean."""
    n = z.shape[0]
    rows = np.arange(n)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, labels]))
    g = e / s
    g[rows, labels] -= 1
    g /= n
    return loss, g

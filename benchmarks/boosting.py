"""The gradient-boosting table of the harness.

Two questions a user writing a custom objective asks: how long does one
objective call take against the NumPy objective written by hand today, and
what does a whole training cost with the fastloss objective against the
library's built-in objective (whose gradients are computed in C++ inside the
library, with no Python call per round)?
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from timing import median_call

import fastloss as fl

# -- the NumPy objectives a user writes today (float64, as NumPy computes) ---------------


def _numpy_logistic(y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = 1.0 / (1.0 + np.exp(-z))
    return p - y, p * (1.0 - p)


def _numpy_tweedie(y: np.ndarray, z: np.ndarray, rho: float = 1.5,
                   ) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.exp((1 - rho) * z), np.exp((2 - rho) * z)
    return -y * a + b, -y * (1 - rho) * a + (2 - rho) * b


def _numpy_softmax(y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = p.copy()
    g[np.arange(len(y)), y.astype(np.int64)] -= 1.0
    return g, p * (1.0 - p)


def _objective_calls(rows: int) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    rng = np.random.default_rng(11)
    z = rng.normal(size=rows)
    ybin = (rng.uniform(size=rows) < 0.3).astype(np.float64)
    ypos = np.where(rng.uniform(size=rows) < 0.6, 0.0, rng.gamma(2.0, 2.0, size=rows))
    zk = rng.normal(size=(rows // 10, 10))
    yk = rng.integers(0, 10, size=rows // 10).astype(np.float64)
    out: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = []
    bce = fl.xgboost.sklearn_objective(fl.BinaryCrossentropy(from_logits=True))
    out.append((f"BCE-logits, {rows:,} rows", lambda: bce(ybin, z),
                lambda: _numpy_logistic(ybin, z)))
    tweedie_cls = getattr(fl, "Tweedie", None)
    if tweedie_cls is not None:
        tw = fl.xgboost.sklearn_objective(tweedie_cls(power=1.5, log_input=True))
        out.append((f"Tweedie(1.5), {rows:,} rows", lambda: tw(ypos, z),
                    lambda: _numpy_tweedie(ypos, z)))
    sm = fl.xgboost.sklearn_objective(fl.SparseCategoricalCrossentropy(from_logits=True))
    out.append((f"softmax, {rows // 10:,} x 10", lambda: sm(yk, zk),
                lambda: _numpy_softmax(yk, zk)))
    return out


def _training(rows: int, rounds: int) -> list[tuple[str, float, float]]:
    """(library, built-in seconds, fastloss-objective seconds) of one training."""
    import lightgbm as lgb
    import xgboost as xgb

    rng = np.random.default_rng(12)
    X = rng.normal(size=(rows, 10)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] + rng.normal(size=rows) > 0).astype(np.float64)
    loss = fl.BinaryCrossentropy(from_logits=True)
    results = []
    d = xgb.DMatrix(X, label=y, base_margin=np.zeros(rows), nthread=-1)
    params = {"tree_method": "hist", "max_depth": 6, "eta": 0.1}

    def xgb_builtin() -> None:
        xgb.train({**params, "objective": "binary:logistic"}, d, rounds)

    def xgb_ours() -> None:
        xgb.train(params, d, rounds, obj=fl.xgboost.objective(loss))
    results.append(("XGBoost", median_call(xgb_builtin, 1), median_call(xgb_ours, 1)))
    ds = lgb.Dataset(X, label=y, free_raw_data=False).construct()
    lparams = {"num_leaves": 63, "learning_rate": 0.1, "verbose": -1,
               "boost_from_average": False}

    def lgb_builtin() -> None:
        lgb.train({**lparams, "objective": "binary"}, ds, rounds)

    def lgb_ours() -> None:
        lgb.train({**lparams, "objective": fl.lightgbm.objective(loss)}, ds, rounds)
    results.append(("LightGBM", median_call(lgb_builtin, 1), median_call(lgb_ours, 1)))
    return results


def boosting_table(rows: int = 10**6, rounds: int = 100, calls: int = 15,
                   ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians; empty when XGBoost or LightGBM is absent."""
    try:
        import lightgbm  # noqa: F401
        import xgboost  # noqa: F401
    except ImportError:
        return (["XGBoost or LightGBM is not installed: no boosting table "
                 "(pip install \".[boosting]\")."], [])
    raw: list[dict[str, Any]] = []
    lines = [f"One objective call (gradient and Hessian, float64, one thread's worth of "
             f"NumPy), median of {calls}; target: ≥ 5× faster than the NumPy objective.", "",
             "| objective | fastloss | NumPy | NumPy / fastloss |", "|---|---:|---:|---:|"]
    for name, ours, numpy in _objective_calls(rows):
        t_ours, t_np = median_call(ours, calls), median_call(numpy, calls)
        raw.append({"case": f"objective {name}", "fastloss": t_ours, "numpy": t_np})
        lines.append(f"| {name} | {t_ours * 1e3:.2f} ms | {t_np * 1e3:.2f} ms | "
                     f"{t_np / t_ours:.1f}× |")
        print(f"  objective {name:28s} fastloss {t_ours * 1e3:7.2f} ms  NumPy "
              f"{t_np * 1e3:7.2f} ms")
    lines += ["", f"A whole training: {rounds} rounds on {rows:,} rows × 10 features, "
              "binary logistic, one timed training after a warm-up one; target: the fastloss "
              "objective within 1.15× of the built-in objective's time.", "",
              "| library | built-in objective | fastloss objective | ratio |",
              "|---|---:|---:|---:|"]
    for lib, t_builtin, t_ours in _training(rows, rounds):
        raw.append({"case": f"training {lib}", "builtin": t_builtin, "fastloss": t_ours})
        lines.append(f"| {lib} | {t_builtin:.2f} s | {t_ours:.2f} s | {t_ours / t_builtin:.2f}× |")
        print(f"  training {lib:10s} built-in {t_builtin:6.2f} s  fastloss {t_ours:6.2f} s")
    return lines, raw

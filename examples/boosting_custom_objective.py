"""Custom boosting objectives in one line: a Tweedie claims model and a focal-loss classifier.
===========================================================================================

Two models an insurance or fraud team trains with gradient boosting, each with a fastloss
loss as the objective, in XGBoost and in LightGBM:

* **Claims (Tweedie).** Most policies claim nothing; the others claim a Gamma-distributed
  amount. `fl.Tweedie(power=1.5, log_input=True)` is the compound Poisson-Gamma deviance on
  the raw score z = log(mean), the objective XGBoost ships as ``reg:tweedie`` and LightGBM as
  ``tweedie``. The fastloss objective's training curve lies on the built-in's.
* **Rare positives (focal loss).** 3% positives. `fl.BinaryFocalCrossentropy(from_logits=True,
  gamma=2)` down-weights the easy negatives; neither library ships it, and hand-derived focal
  Hessians are a classic source of bugs. fastloss gives the exact gradient and Hessian.

Each model's validation loss is recorded every round (``fl.xgboost.metric`` /
``fl.lightgbm.metric``) and the curves are plotted.

Run::

    python examples/boosting_custom_objective.py            # 20,000 rows, 200 rounds
    python examples/boosting_custom_objective.py --small    # 4,000 rows, 40 rounds (CI)
    python examples/boosting_custom_objective.py --out figs # PNG into figs/ (needs matplotlib)

Needs ``pip install "fastloss[boosting]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np
from _common import parse_args, plot_or_skip

import fastloss as fl


def claims_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Policies: 8 features; the claim count is Poisson, each claim Gamma-distributed."""
    X = rng.normal(size=(n, 8))
    rate = np.exp(-1.5 + 0.6 * X[:, 0] - 0.4 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3])
    counts = rng.poisson(rate)
    amount = np.array([rng.gamma(2.0, 1.5, size=k).sum() for k in counts])
    return X, amount


def rare_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """3% positives, separable only through an interaction."""
    X = rng.normal(size=(n, 8))
    score = 1.5 * X[:, 0] * X[:, 1] + X[:, 2] - 4.2 + 0.5 * rng.normal(size=n)
    return X, (score > 0).astype(np.float64)


def split(X: np.ndarray, y: np.ndarray) -> tuple[Any, ...]:
    k = len(y) * 3 // 4
    return X[:k], y[:k], X[k:], y[k:]


def xgb_curve(loss: Any, X: np.ndarray, y: np.ndarray, rounds: int, start: float,
              builtin: Optional[dict[str, Any]] = None) -> list[float]:
    """Validation loss after each round of an XGBoost model trained from the margin
    `start` (fastloss objective, or the built-in objective given as params), measured
    on the raw margins by the same fastloss loss."""
    import xgboost as xgb

    Xt, yt, Xv, yv = split(X, y)
    dt = xgb.DMatrix(Xt, label=yt, base_margin=np.full(len(yt), start))
    dv = xgb.DMatrix(Xv, label=yv, base_margin=np.full(len(yv), start))
    params = {"tree_method": "hist", "max_depth": 3, "eta": 0.05, "min_child_weight": 5,
              "seed": 0, "nthread": 2}
    obj = None if builtin else fl.xgboost.objective(loss)
    booster = xgb.train({**params, **(builtin or {})}, dt, rounds, obj=obj)
    metric = fl.xgboost.metric(loss)
    return [metric(booster.predict(dv, output_margin=True, iteration_range=(0, r)), dv)[1]
            for r in range(1, rounds + 1)]


def lgb_curve(loss: Any, X: np.ndarray, y: np.ndarray, rounds: int, start: float,
              ) -> list[float]:
    import lightgbm as lgb

    Xt, yt, Xv, yv = split(X, y)
    train = lgb.Dataset(Xt, label=yt, init_score=np.full(len(yt), start))
    valid = lgb.Dataset(Xv, label=yv, init_score=np.full(len(yv), start), reference=train)
    history: dict[str, Any] = {}
    lgb.train({"objective": fl.lightgbm.objective(loss), "num_leaves": 7, "learning_rate": 0.05,
               "min_sum_hessian_in_leaf": 5.0,
               "verbose": -1, "seed": 0, "num_threads": 2, "metric": "None"},
              train, rounds, valid_sets=[valid], valid_names=["valid"],
              feval=fl.lightgbm.metric(loss, name="loss"),
              callbacks=[lgb.record_evaluation(history)])
    return [float(v) for v in history["valid"]["loss"]]


def recall_at_top(y: np.ndarray, margin: np.ndarray, share: float = 0.03) -> float:
    """Share of the positives among the `share` highest-scored rows."""
    top = np.argsort(-margin)[: max(1, int(share * len(y)))]
    return float(y[top].sum() / max(1.0, y.sum()))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(__doc__, argv)
    n, rounds = (4000, 40) if args.small else (20000, 200)
    rng = np.random.default_rng(0)

    tweedie = fl.Tweedie(power=1.5, log_input=True)
    Xc, yc = claims_data(n, rng)
    print(f"claims: {n} policies, {np.mean(yc == 0):.0%} without a claim")
    start = float(np.log(yc.mean()))  # every model starts from the mean claim
    curves = {"XGBoost, fastloss Tweedie": xgb_curve(tweedie, Xc, yc, rounds, start),
              "XGBoost, built-in reg:tweedie": xgb_curve(
                  tweedie, Xc, yc, rounds, start,
                  builtin={"objective": "reg:tweedie", "tweedie_variance_power": 1.5}),
              "LightGBM, fastloss Tweedie": lgb_curve(tweedie, Xc, yc, rounds, start)}
    for name, c in curves.items():
        print(f"  {name:32s} valid Tweedie loss: round 1 {c[0]:.4f} -> round {rounds} "
              f"{c[-1]:.4f}")
    gap = max(abs(a - b) for a, b in zip(curves["XGBoost, fastloss Tweedie"],
                                         curves["XGBoost, built-in reg:tweedie"]))
    print(f"  fastloss vs built-in XGBoost Tweedie, largest gap over the curve: {gap:.2e}")

    import xgboost as xgb

    focal = fl.BinaryFocalCrossentropy(from_logits=True, gamma=2.0)
    logistic = fl.BinaryCrossentropy(from_logits=True)
    Xr, yr = rare_data(n, rng)
    print(f"rare positives: {n} rows, {yr.mean():.1%} positive")
    focal_curves = {"XGBoost, fastloss focal": xgb_curve(focal, Xr, yr, rounds, 0.0),
                    "LightGBM, fastloss focal": lgb_curve(focal, Xr, yr, rounds, 0.0)}
    Xt, yt, Xv, yv = split(Xr, yr)
    recalls = {}
    for name, loss in (("focal", focal), ("logistic", logistic)):
        dt = xgb.DMatrix(Xt, label=yt, base_margin=np.zeros(len(yt)))
        booster = xgb.train({"tree_method": "hist", "max_depth": 4, "eta": 0.1, "seed": 0,
                             "nthread": 2}, dt, rounds, obj=fl.xgboost.objective(loss))
        margin = booster.predict(xgb.DMatrix(Xv, base_margin=np.zeros(len(yv))),
                                 output_margin=True)
        recalls[name] = recall_at_top(yv, margin)
    for name, c in focal_curves.items():
        print(f"  {name:32s} valid focal loss: round 1 {c[0]:.4f} -> round {rounds} "
              f"{c[-1]:.4f}")
    print(f"  positives found in the top 3% of scores: focal {recalls['focal']:.0%}, "
          f"logistic {recalls['logistic']:.0%}")

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for name, c in curves.items():
            axes[0].plot(range(1, len(c) + 1), c, label=name,
                         linestyle="--" if "built-in" in name else "-")
        axes[0].set(title="Claims: validation Tweedie loss (power 1.5)", xlabel="round",
                    ylabel="loss")
        for name, c in focal_curves.items():
            axes[1].plot(range(1, len(c) + 1), c, label=name)
        axes[1].set(title="Rare positives: validation focal loss (gamma 2)", xlabel="round")
        for ax in axes:
            ax.legend()
        fig.tight_layout()
        return fig

    plot_or_skip(draw, args.out, "boosting_custom_objective.png")
    return 0


if __name__ == "__main__":
    main()

"""Yogurt sales: a cost/profit loss makes a model lean to the cheaper mistake.
===========================================================================

The tutorials' example (“Day 71 損失函數” and
“TensorFlow2.0入门学习笔记(7)——损失函数”): daily yogurt sales are
x1 + x2 plus noise in [-0.05, 0.05), 32 days, and a linear model ``sales = x @ w``
(2 weights, no bias) is fitted by gradient descent. Predicting too much wastes the
COST of a unit, predicting too little loses its PROFIT, so the loss is

    COST * (p - t)  where p > t,   PROFIT * (t - p)  otherwise,

which is ``fl.AsymmetricLinear(overestimate_cost=COST, underestimate_cost=PROFIT)``.

* cost 1 / profit 99: under-predicting is 99x dearer, so the weights end above 1
  (the model over-predicts);
* cost 99 / profit 1: the weights end below 1 (it under-predicts);
* mean squared error: the weights end at about 1 (it fits the mean).

The data, the starting weights, the learning rate 0.002 and the summed loss
(``tf.reduce_sum``, here ``reduction="sum"``) follow the tutorial. One change: the
learning rate decays linearly to 0, because with a constant step the piecewise-linear
loss makes the weights hop around the minimum by about 0.1 for ever. All gradients
come from fastloss (``forward_backward``); the rest is NumPy.

Run::

    python examples/yogurt_sales.py            # 10000 steps, the tutorial's count
    python examples/yogurt_sales.py --small    # 2000 steps (CI)
    python examples/yogurt_sales.py --out figs # PNG into figs/ (needs matplotlib)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from _common import fmt_vector, parse_args, plot_or_skip

import fastloss as fl

SEED = 23455  # the tutorial's
LEARNING_RATE = 0.002  # the tutorial's
#: Weights within this of 1 count as "about 1".
TOLERANCE = 0.02
#: A day counts as over- or under-predicted when the error exceeds this; the fitted
#: asymmetric models pass exactly through a couple of days (a vertex of the piecewise
#: linear loss), and float rounding should not decide which side those fall on.
EXACT = 1e-3


@dataclass
class Fit:
    label: str
    loss: fl.Loss
    w: np.ndarray  # (2, 1), final weights
    path: np.ndarray  # (steps + 1, 2), the weights after each step


def make_data() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's 32 days: x uniform in [0, 1)^2, sales = x1 + x2 + U[-0.05, 0.05)."""
    rdm = np.random.RandomState(SEED)
    x = rdm.rand(32, 2)
    noise = rdm.rand(32) / 10.0 - 0.05  # drawn after x, one per day, as in the tutorial
    return x, (x.sum(axis=1) + noise)[:, None]


def initial_weights() -> np.ndarray:
    """Standard-normal start (the tutorial used tf.random.normal with stddev 1, seed 1)."""
    return np.random.RandomState(1).standard_normal((2, 1))


def train(loss: fl.Loss, x: np.ndarray, y: np.ndarray, steps: int) -> np.ndarray:
    """Gradient descent on ``loss(y, x @ w)``; returns the weights after each step."""
    w = initial_weights()
    path = np.empty((steps + 1, 2))
    path[0] = w[:, 0]
    for step in range(steps):
        _, grad_pred = loss.forward_backward(y, x @ w)  # d loss / d prediction, (32, 1)
        lr = LEARNING_RATE * (1.0 - step / steps)
        w -= lr * (x.T @ grad_pred)  # chain rule through prediction = x @ w
        path[step + 1] = w[:, 0]
    return path


def side_of_one(w: np.ndarray) -> str:
    """Which side of 1 the weights are on, from the numbers."""
    if np.all(np.abs(w - 1.0) <= TOLERANCE):
        return "about 1: fits the mean"
    if np.all(w > 1.0):
        return "above 1: over-predicts"
    if np.all(w < 1.0):
        return "below 1: under-predicts"
    return "on both sides of 1: no clear lean"


def over_under(fit: Fit, x: np.ndarray, y: np.ndarray) -> tuple[int, int]:
    """Days predicted above, and below, the actual sales."""
    error = (x @ fit.w - y)[:, 0]
    return int(np.sum(error > EXACT)), int(np.sum(error < -EXACT))


def draw(fits: list[Fit], x: np.ndarray, y: np.ndarray) -> Any:
    def figure(plt: Any) -> Any:
        fig, (ax_path, ax_err) = plt.subplots(1, 2, figsize=(11, 4.5))
        order = np.argsort(y[:, 0])
        for fit in fits:
            (line,) = ax_path.plot(fit.path[:, 0], fit.path[:, 1], lw=0.8, label=fit.label)
            ax_path.plot(*fit.w[:, 0], "o", color=line.get_color())
            ax_err.plot((x @ fit.w - y)[order, 0], ".-", color=line.get_color(),
                        label=fit.label)
        ax_path.plot(1, 1, "k+", ms=14, label="w = (1, 1)")
        ax_path.set(xlabel="w1", ylabel="w2", title="weights during gradient descent")
        ax_path.legend(fontsize=8)
        ax_err.axhline(0.0, color="k", lw=0.8)
        ax_err.set(xlabel="day (sorted by sales)", ylabel="predicted - actual sales",
                   title="where each model errs")
        ax_err.legend(fontsize=8)
        fig.tight_layout()
        return fig

    return figure


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    steps = 2000 if args.small else 10000
    x, y = make_data()

    scenarios = [
        ("cost 1 / profit 99",
         fl.AsymmetricLinear(overestimate_cost=1.0, underestimate_cost=99.0, reduction="sum")),
        ("cost 99 / profit 1",
         fl.AsymmetricLinear(overestimate_cost=99.0, underestimate_cost=1.0, reduction="sum")),
        ("MSE", fl.MeanSquaredError(reduction="sum")),
    ]
    print(f"yogurt sales: {len(y)} days, sales = x1 + x2 + noise in [-0.05, 0.05); "
          f"model sales = x @ w, w0 = {fmt_vector(initial_weights()[:, 0])}")
    print(f"{steps} gradient steps on the summed loss, learning rate {LEARNING_RATE} "
          "decaying linearly to 0\n")

    fits = []
    for label, loss in scenarios:
        path = train(loss, x, y, steps)
        fits.append(Fit(label, loss, path[-1][:, None], path))
    w_mse = fits[-1].w

    print(f"{'':20s} {'w':>13s}  {'days over / under':>17s}  {'its loss':>9s}  "
          f"{'same loss of the MSE w':>22s}")
    for fit in fits:
        over, under = over_under(fit, x, y)
        print(f"{fit.label:20s} {fmt_vector(fit.w[:, 0], 3):>13s}  {over:>11d} / {under:<3d}  "
              f"{float(fit.loss(y, x @ fit.w)):9.3f}  {float(fit.loss(y, x @ w_mse)):22.3f}")
    print()

    plot_or_skip(draw(fits, x, y), args.out, "yogurt_sales.png")
    for fit in fits:
        over, under = over_under(fit, x, y)
        print(f"{fit.label + ':':20s} w = {fmt_vector(fit.w[:, 0])}  ({side_of_one(fit.w)}; "
              f"days over / under: {over} / {under} of {len(y)})")


if __name__ == "__main__":
    main()

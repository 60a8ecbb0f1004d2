"""Loss landscape: MSE and cross-entropy of a linear model over a grid of (w, b).
=================================================================================

The figures of the tutorial “梯度下降法(9) -- 損失函數”: the loss of a one-feature
linear model ``w x + b`` drawn over a grid of its two parameters, as contour lines
and as a 3-D surface, for a regression (mean squared error) and for a classifier
(binary cross-entropy of the logit ``w x + b``), side by side.

Each landscape is ONE fastloss call. The predictions of every grid point on every
sample form a ``(grid points, samples)`` array; the samples are the last axis, so
``reduction="none"`` gives one loss per grid point, the mean over its samples, as
Keras's per-sample losses are::

    P = W.reshape(-1, 1) * x + B.reshape(-1, 1)                 # (G, N)
    landscape = fl.MeanSquaredError(reduction="none")(Y, P)     # (G,)

The squared error is a bowl, an elliptic paraboloid whose bottom is the
least-squares line; the cross-entropy is convex too but not quadratic: a tilted,
flattening valley whose bottom lies near the line ``3 x - 1`` that drew the labels,
and which rises only linearly far from it.

Run::

    python examples/loss_landscape.py            # 201 x 201 grid, 200 samples
    python examples/loss_landscape.py --small    # 61 x 61 grid (CI)
    python examples/loss_landscape.py --out figs # PNG into figs/ (needs matplotlib)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np
from _common import parse_args, plot_or_skip

import fastloss as fl

SEED = 7
TRUE_W, TRUE_B = 2.0, 1.0  # the regression data's line
W_RANGE, B_RANGE = (-2.0, 6.0), (-3.0, 5.0)
LABEL_W, LABEL_B = 3.0, -1.0  # the classifier's labels: sigmoid(3 x - 1) draws


def landscape(loss: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray,
              b: np.ndarray) -> np.ndarray:
    """The loss at every (w, b) of the grid, from one call: predictions of shape
    (grid points, samples), per-sample losses reduced over the samples."""
    predictions = w.reshape(-1, 1) * x + b.reshape(-1, 1)
    targets = np.broadcast_to(y, predictions.shape)
    return np.asarray(loss(targets, predictions)).reshape(w.shape)


def one_by_one(loss: Any, x: np.ndarray, y: np.ndarray, w: np.ndarray,
               b: np.ndarray) -> np.ndarray:
    """The same landscape from one call per grid point, to check the batched one."""
    return np.array([float(loss(y, wi * x + bi)) for wi, bi in zip(w.ravel(), b.ravel())]
                    ).reshape(w.shape)


def draw(grids: Any, panels: list[tuple[str, np.ndarray, tuple[float, float]]]) -> Any:
    w, b = grids

    def figure(plt: Any) -> Any:
        fig = plt.figure(figsize=(13, 9.5))
        for k, (title, z, best) in enumerate(panels):
            ax = fig.add_subplot(2, 2, 1 + k)
            levels = np.quantile(z, np.linspace(0.0, 0.95, 16))
            contour = ax.contour(w, b, z, levels=np.unique(levels), cmap="viridis")
            ax.clabel(contour, fontsize=7, fmt="%.2g")
            ax.plot(*best, "r*", ms=12, label="grid minimum")
            ax.set(xlabel="w", ylabel="b", title=f"{title}: contours")
            ax.legend(fontsize=8, loc="upper right")
            ax3 = fig.add_subplot(2, 2, 3 + k, projection="3d")
            ax3.plot_surface(w, b, z, cmap="viridis", linewidth=0, antialiased=True,
                             rstride=max(1, len(w) // 60), cstride=max(1, len(w) // 60))
            ax3.set(xlabel="w", ylabel="b", zlabel="loss", title=f"{title}: surface")
            ax3.view_init(elev=32, azim=-60)
        fig.suptitle("loss landscapes of w x + b, each from one batched fastloss call")
        fig.tight_layout()
        return fig

    return figure


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    n_grid, n_samples = (61, 200) if args.small else (201, 200)
    rng = np.random.default_rng(SEED)
    x = rng.uniform(-1.0, 1.0, n_samples)
    y_reg = TRUE_W * x + TRUE_B + rng.normal(0.0, 0.5, n_samples)
    y_cls = (rng.random(n_samples) < 1 / (1 + np.exp(-(LABEL_W * x + LABEL_B)))).astype(float)
    w, b = np.meshgrid(np.linspace(*W_RANGE, n_grid), np.linspace(*B_RANGE, n_grid))

    mse = fl.MeanSquaredError(reduction="none")
    bce = fl.BinaryCrossentropy(from_logits=True, reduction="none")
    panels = []
    gaps = []
    print(f"{n_grid} x {n_grid} grid of (w, b), {n_samples} samples: predictions "
          f"{(n_grid * n_grid, n_samples)} per call")
    for title, loss, y in (("mean squared error", mse, y_reg),
                           ("binary cross-entropy (logits)", bce, y_cls)):
        z = landscape(loss, x, y, w, b)
        gaps.append(float(np.max(np.abs(z - one_by_one(loss, x, y, w, b)) / np.abs(z))))
        i = np.unravel_index(np.argmin(z), z.shape)
        best = (float(w[i]), float(b[i]))
        panels.append((title, z, best))
        print(f"{title}: grid minimum {z[i]:.4f} at w = {best[0]:.3f}, b = {best[1]:.3f}")
    slope, intercept = np.polyfit(x, y_reg, 1)
    print(f"least squares: w = {slope:.3f}, b = {intercept:.3f}; grid step "
          f"{(W_RANGE[1] - W_RANGE[0]) / (n_grid - 1):.3f} in w, "
          f"{(B_RANGE[1] - B_RANGE[0]) / (n_grid - 1):.3f} in b")
    print(f"largest relative difference between the batched call and one call per grid "
          f"point: {max(gaps):.1e}")
    plot_or_skip(draw((w, b), panels), args.out, "loss_landscape.png")


if __name__ == "__main__":
    main()

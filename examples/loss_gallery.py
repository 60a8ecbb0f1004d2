"""Loss gallery: every elementwise loss of fastloss and its gradient, in one figure.
=================================================================================

Like the tutorials' figures (the Huber / MAE / MSE comparison of
“用 Keras 解释深度学习中损失函数的类型”, the loss curves of
“智能之门：神经网络和深度学习入门”), each panel shows one loss (solid), its
derivative with respect to the prediction (dashed) and, where the loss has one, its
second derivative (dotted, from ``gradient_hessian``), all computed by fastloss. A
jump (the gradient at a kink, a piecewise-constant Hessian) is drawn as a gap, not
as a vertical line:

* regression losses over the error e = p - t, with the target t = 2 fixed
  (MAPE, MSLE and Poisson need a positive target);
* binary probabilistic losses over the predicted probability p, or the logit z,
  for y_true = 1 and for y_true = 0;
* margin losses (Hinge, SquaredHinge, ExponentialLoss) over the margin m = t * p,
  for t = +1 (so that d loss / dp = d loss / dm);
* the 0-1 loss over p (a metric: its gradient is zero everywhere).

Each point is its own sample: the arrays have shape (n, 1), the losses use
``reduction="none"`` and ``forward_backward(..., grad_output=ones(n))`` returns the
per-point values and gradients in one pass. The printed table gives the value and
gradient at two points of each panel (for y_true = 1, or t = 2), and the largest gap
between fastloss's gradient and a central difference of fastloss's values there, so
the script is useful without matplotlib too.

Run::

    python examples/loss_gallery.py            # 601 points per curve
    python examples/loss_gallery.py --small    # 121 points (CI)
    python examples/loss_gallery.py --out figs # PNG into figs/ (needs matplotlib)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
from _common import parse_args, plot_or_skip

import fastloss as fl

REGRESSION_TARGET = 2.0
#: Step of the central difference that checks the printed gradients.
FD_STEP = 1e-6


@dataclass(frozen=True)
class XAxis:
    """What a panel's x axis is, and how it maps to (y_true, y_pred)."""

    key: str  # the table's column text (no spaces)
    label: str  # the plot's axis label
    lo: float
    hi: float
    table_points: tuple[float, float]
    to_pred: Callable[[np.ndarray, float], np.ndarray]  # (x, y_true) -> y_pred
    ylim: Optional[tuple[float, float]] = None  # where the curves leave any useful scale


ERROR = XAxis("e=p-t", f"error e = p - t  (t = {REGRESSION_TARGET:g})", -1.8, 1.8, (-1.5, 0.25),
              lambda e, t: t + e)
PROBABILITY = XAxis("p", "predicted probability p", 0.01, 0.99, (0.2, 0.8),
                    lambda p, t: p, ylim=(-5.0, 5.0))
LOGIT = XAxis("z", "logit z", -6.0, 6.0, (-1.0, 2.0), lambda z, t: z)
MARGIN = XAxis("m=t*p", "margin m = t * p  (t = +1)", -2.0, 3.0, (-0.5, 0.5),
               lambda m, t: t * m)
THRESHOLDED = XAxis("p", "prediction p (threshold 0.5)", 0.0, 1.0, (0.2, 0.8),
                    lambda p, t: p, ylim=(-0.2, 1.2))


@dataclass(frozen=True)
class Entry:
    label: str  # no spaces: the table is split on whitespace by tests/test_examples.py
    loss: fl.Loss
    axis: XAxis
    y_trues: tuple[float, ...]


def entries() -> list[Entry]:
    none = "none"  # one value per point: no mean over the points
    regression = [
        ("MeanSquaredError", fl.MeanSquaredError(reduction=none)),
        ("MeanAbsoluteError", fl.MeanAbsoluteError(reduction=none)),
        ("MeanAbsolutePercentageError", fl.MeanAbsolutePercentageError(reduction=none)),
        ("MeanSquaredLogarithmicError", fl.MeanSquaredLogarithmicError(reduction=none)),
        ("Huber(delta=1)", fl.Huber(delta=1.0, reduction=none)),
        ("LogCosh", fl.LogCosh(reduction=none)),
        ("Poisson", fl.Poisson(reduction=none)),
        ("HalfSquaredError", fl.HalfSquaredError(reduction=none)),
        ("SmoothL1(beta=0.5)", fl.SmoothL1(beta=0.5, reduction=none)),
        ("Pinball(quantile=0.8)", fl.Pinball(quantile=0.8, reduction=none)),
        # the yogurt-sales tutorial's numbers: a unit costs 1 to make and earns 9 when sold
        ("AsymmetricLinear(over=1,under=9)",
         fl.AsymmetricLinear(overestimate_cost=1.0, underestimate_cost=9.0, reduction=none)),
    ]
    out = [Entry(label, loss, ERROR, (REGRESSION_TARGET,)) for label, loss in regression]
    out += [
        Entry("BinaryCrossentropy", fl.BinaryCrossentropy(reduction=none), PROBABILITY,
              (1.0, 0.0)),
        Entry("BinaryCrossentropy(from_logits=True)",
              fl.BinaryCrossentropy(from_logits=True, reduction=none), LOGIT, (1.0, 0.0)),
        Entry("BinaryFocalCrossentropy(gamma=2)",
              fl.BinaryFocalCrossentropy(gamma=2.0, reduction=none), PROBABILITY, (1.0, 0.0)),
        Entry("Hinge", fl.Hinge(reduction=none), MARGIN, (1.0,)),
        Entry("SquaredHinge", fl.SquaredHinge(reduction=none), MARGIN, (1.0,)),
        Entry("ExponentialLoss", fl.ExponentialLoss(reduction=none), MARGIN, (1.0,)),
        Entry("ZeroOneLoss(threshold=0.5)", fl.ZeroOneLoss(threshold=0.5, reduction=none),
              THRESHOLDED, (1.0, 0.0)),
    ]
    return out


def curve(entry: Entry, y_true: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-point loss values and d loss / d y_pred along ``x``."""
    y_pred = entry.axis.to_pred(np.asarray(x, dtype=np.float64), y_true)[:, None]
    value, grad = entry.loss.forward_backward(np.full_like(y_pred, y_true), y_pred,
                                              grad_output=np.ones(len(y_pred)))
    return np.asarray(value), grad[:, 0]


def hessian(entry: Entry, y_true: float, x: np.ndarray) -> Optional[np.ndarray]:
    """The Hessian diagonal along ``x`` (None for a loss without one)."""
    if not entry.loss.has_hessian:
        return None
    y_pred = entry.axis.to_pred(np.asarray(x, dtype=np.float64), y_true)[:, None]
    _, hess = entry.loss.gradient_hessian(np.full_like(y_pred, y_true), y_pred)
    return hess[:, 0]


def broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y with a NaN at each jump, so that a step of a piecewise curve (a
    gradient at a kink, a piecewise-constant Hessian) is drawn as a step and not as
    a vertical line: a jump is a change between neighbours far larger than the
    typical (median) change beside it; a jump through a value at the kink itself
    (sign(0) = 0) is two such changes."""
    dy = np.abs(np.diff(y))
    jumps = []
    for i, d in enumerate(dy):
        around = np.concatenate([dy[max(0, i - 3):i], dy[i + 1:i + 4]])
        typical = float(np.nanmedian(around)) if around.size else 0.0
        if np.isfinite(d) and d > 1e-9 and d > 20 * typical + 1e-12:
            jumps.append(i + 1)
    return np.insert(x, jumps, np.nan), np.insert(y, jumps, np.nan)


def central_difference(entry: Entry, y_true: float, x: np.ndarray) -> np.ndarray:
    """d loss / d y_pred from fastloss's values alone, to check its gradient."""
    y_pred = entry.axis.to_pred(np.asarray(x, dtype=np.float64), y_true)[:, None]
    y = np.full_like(y_pred, y_true)
    up = np.asarray(entry.loss(y, y_pred + FD_STEP))
    down = np.asarray(entry.loss(y, y_pred - FD_STEP))
    return (up - down) / (2 * FD_STEP)


def print_table(gallery: list[Entry]) -> float:
    """Prints the table; returns the largest gradient / finite-difference gap."""
    print(f"value and d loss / d y_pred at two points of each curve "
          f"(y_true = 1; t = {REGRESSION_TARGET:g} for regression, t = +1 for margins)")
    print(f"{'loss':37s} {'x':>5s}  {'at x':>6s} {'value':>9s} {'gradient':>9s}  "
          f"{'at x':>6s} {'value':>9s} {'gradient':>9s}  {'|grad-fd|':>9s}")
    largest_gap = 0.0
    for entry in gallery:
        y_true = entry.y_trues[0]
        x = np.array(entry.axis.table_points)
        value, grad = curve(entry, y_true, x)
        fd_gap = float(np.max(np.abs(grad - central_difference(entry, y_true, x))))
        cells = "  ".join(f"{xi:6.2f} {v:9.4f} {g:9.4f}" for xi, v, g in zip(x, value, grad))
        print(f"{entry.label:37s} {entry.axis.key:>5s}  {cells}  {fd_gap:9.1e}")
        largest_gap = max(largest_gap, fd_gap)
    return largest_gap


def draw(gallery: list[Entry], n_points: int) -> Any:
    def figure(plt: Any) -> Any:
        ncols = 4
        nrows = -(-(len(gallery) + 1) // ncols)  # one spare panel holds the key
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows))
        axes = axes.ravel()
        colors = {1.0: "tab:blue", 2.0: "tab:blue", 0.0: "tab:orange"}
        for ax, entry in zip(axes, gallery):
            x = np.linspace(entry.axis.lo, entry.axis.hi, n_points)
            for y_true in entry.y_trues:
                value, grad = curve(entry, y_true, x)
                ax.plot(*broken(x, value), color=colors[y_true], lw=1.6)
                ax.plot(*broken(x, grad), color=colors[y_true], lw=1.2, ls="--")
                hess = hessian(entry, y_true, x)
                if hess is not None:
                    ax.plot(*broken(x, hess), color=colors[y_true], lw=1.0, ls=":")
            ax.axhline(0.0, color="0.6", lw=0.6)
            ax.set_title(entry.label, fontsize=9)
            ax.set_xlabel(entry.axis.label, fontsize=8)
            ax.tick_params(labelsize=7)
            if entry.axis.ylim is not None:
                ax.set_ylim(*entry.axis.ylim)
        key, *unused = axes[len(gallery):]
        for style, text in (("-", "loss"), ("--", "d loss / d y_pred"),
                            (":", "Hessian (where defined)")):
            key.plot([], [], color="k", ls=style, label=text)
        key.plot([], [], color="tab:blue", label="y_true = 1  (regression: t = 2)")
        key.plot([], [], color="tab:orange", label="y_true = 0")
        key.legend(loc="center", fontsize=10, frameon=False)
        for ax in (key, *unused):
            ax.axis("off")
        fig.suptitle("fastloss: elementwise losses (solid), their gradients (dashed) and "
                     "Hessians (dotted)")
        fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.98))
        return fig

    return figure


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    n_points = 121 if args.small else 601
    gallery = entries()
    largest_gap = print_table(gallery)
    print()
    path = plot_or_skip(draw(gallery, n_points), args.out, "loss_gallery.png")
    if path is not None:
        print(f"{len(gallery)} panels, {n_points} points per curve")
    print(f"{len(gallery)} losses; largest |gradient - central difference of the values| at the "
          f"tabulated points: {largest_gap:.1e}")


if __name__ == "__main__":
    main()

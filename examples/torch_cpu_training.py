"""PyTorch on the CPU: the same model trained with fastloss.torch and with F.cross_entropy.
========================================================================================

A small classifier for scikit-learn's bundled 8x8 digits (64 -> 64, ReLU -> 10) is
trained twice from the same initial weights, with the same batches and Adam: once with
PyTorch's own ``F.cross_entropy`` and once with fastloss's
``SparseCategoricalCrossentropy(from_logits=True)`` wrapped as a ``torch.nn.Module``
(``fastloss.torch.wrap``). The loss is a custom op inside autograd: ``loss.backward()``
reaches the model's weights through fastloss's fused value-and-gradient kernel. Both
runs give the same training curve (float32 rounding apart) and the same test accuracy;
the script prints both, the largest difference between the curves and the time per
step, and plots the curves side by side.

Run::

    python examples/torch_cpu_training.py            # 30 epochs
    python examples/torch_cpu_training.py --small    # 10 epochs (CI)
    python examples/torch_cpu_training.py --out figs # PNG into figs/ (needs matplotlib)

Needs PyTorch (``pip install "fastloss[torch]"``) and scikit-learn (for the data).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np
from _common import parse_args, plot_or_skip

import fastloss as fl

SEED = 0
BATCH = 64
LEARNING_RATE = 1e-3


def load_split() -> tuple[np.ndarray, ...]:
    """Digits scaled to [0, 1] (float32); a fixed random quarter is the test set."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SEED).permutation(len(y))
    test, train = order[: len(y) // 4], order[len(y) // 4:]
    return x[train], y[train], x[test], y[test]


def train(torch: Any, criterion: Callable[[Any, Any], Any], data: tuple[np.ndarray, ...],
          epochs: int) -> tuple[list[float], float, float]:
    """(mean training loss per epoch, test accuracy, seconds per step)."""
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in data)
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    order = np.random.default_rng(SEED + 1)
    curve, steps, spent = [], 0, 0.0
    for _ in range(epochs):
        perm = torch.from_numpy(order.permutation(len(y_train)))
        total = 0.0
        for start in range(0, len(perm), BATCH):
            idx = perm[start:start + BATCH]
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = criterion(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            spent += time.perf_counter() - t0
            steps += 1
            total += float(loss.detach()) * len(idx)
        curve.append(total / len(y_train))
    with torch.no_grad():
        accuracy = float((model(x_test).argmax(1) == y_test).float().mean())
    return curve, accuracy, spent / steps


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    import torch
    import torch.nn.functional as F

    import fastloss.torch as flt

    epochs = 10 if args.small else 30
    data = load_split()
    ours = flt.wrap(fl.SparseCategoricalCrossentropy(from_logits=True))
    runs = {
        "F.cross_entropy": train(torch, lambda logits, y: F.cross_entropy(logits, y), data,
                                 epochs),
        # fastloss losses take (y_true, y_pred), Keras's order
        "fastloss.torch": train(torch, lambda logits, y: ours(y, logits), data, epochs),
    }
    for name, (curve, accuracy, step) in runs.items():
        print(f"{name:16s} final training loss {curve[-1]:.4f}  test accuracy "
              f"{accuracy * 100:.1f}%  {step * 1e6:.0f} us per step")
    gap = max(abs(a - b) for a, b in zip(runs["F.cross_entropy"][0], runs["fastloss.torch"][0]))
    print(f"largest difference between the two training curves: {gap:.2e}")

    def draw(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
        for ax, (name, (curve, accuracy, _)) in zip(axes, runs.items()):
            ax.plot(range(1, len(curve) + 1), curve)
            ax.set_title(f"{name} (test accuracy {accuracy * 100:.1f}%)")
            ax.set_xlabel("epoch")
        axes[0].set_ylabel("training cross-entropy")
        fig.tight_layout()
        return fig

    plot_or_skip(draw, args.out, "torch_cpu_training.png")


if __name__ == "__main__":
    main()

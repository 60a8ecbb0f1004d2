"""Digits: cross-entropy classifies, mean squared error on the class number does not.
==================================================================================

The experiment of the tutorial “梯度下降法(9) -- 損失函數”: a handwritten-digit
classifier trained with
SparseCategoricalCrossentropy on 10 outputs, then the same network with ONE output
trained with MeanSquaredError to regress the digit's value (its rounded output is the
predicted class). The tutorial got 16% test accuracy that way on MNIST: a regression
treats classes as ordered numbers: an image the network finds halfway between a "1"
and a "7" comes out near 4, and once rounded, off by one is as wrong as off by five.

Here the data are scikit-learn's bundled 8x8 digits (``sklearn.datasets.load_digits``,
no download), the network is a NumPy MLP 64 -> 64 (ReLU) -> 10 or 1, trained with
Adam (learning rate 0.001, batch 32, Keras's defaults; the tutorial's Dropout is left
out). The forward and backward passes through the layers are written out in NumPy;
the gradient of the loss with respect to the network's output comes from fastloss
(``forward_backward``). A PNG shows both training-loss curves and test accuracies.

Run::

    python examples/digits_mse_vs_ce.py            # 60 epochs, a few seconds
    python examples/digits_mse_vs_ce.py --small    # 10 epochs (CI)
    python examples/digits_mse_vs_ce.py --out figs # PNG into figs/ (needs matplotlib)

Needs scikit-learn (for the data only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from _common import Adam, parse_args, plot_or_skip

import fastloss as fl

SEED = 0
HIDDEN = 64
BATCH = 32
LEARNING_RATE = 1e-3
#: A gap (in accuracy points) at least this large counts as the tutorial's effect.
CLEAR_GAP = 0.20


def load_split(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Digits scaled to [0, 1]; a fixed random quarter is the test set."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data / 16.0
    y = digits.target.astype(np.int64)
    order = rng.permutation(len(y))
    test, train = order[: len(y) // 4], order[len(y) // 4:]
    return x[train], y[train], x[test], y[test]


class MLP:
    """inputs -> Dense(hidden, ReLU) -> Dense(outputs), He/Glorot-style init."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator) -> None:
        self.w1 = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.w2 = rng.normal(0.0, np.sqrt(1.0 / n_hidden), (n_hidden, n_out))
        self.b2 = np.zeros(n_out)

    @property
    def params(self) -> list[np.ndarray]:
        return [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        pre = x @ self.w1 + self.b1
        hidden = np.maximum(pre, 0.0)
        return hidden @ self.w2 + self.b2, (x, pre)

    def backward(self, grad_out: np.ndarray,
                 cache: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
        """Gradients of the params from d loss / d output (what fastloss returns)."""
        x, pre = cache
        hidden = np.maximum(pre, 0.0)
        grad_pre = (grad_out @ self.w2.T) * (pre > 0.0)
        return [x.T @ grad_pre, grad_pre.sum(axis=0), hidden.T @ grad_out, grad_out.sum(axis=0)]


@dataclass
class Setup:
    label: str
    loss: fl.Loss
    n_out: int
    train_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    def target(self, labels: np.ndarray) -> np.ndarray:
        # cross-entropy takes the integer labels; the regression, the digit as a number
        return labels if self.n_out > 1 else labels[:, None].astype(np.float64)

    def predict(self, output: np.ndarray) -> np.ndarray:
        if self.n_out > 1:
            return output.argmax(axis=1)
        return np.clip(np.rint(output[:, 0]), 0, 9).astype(np.int64)


def train(setup: Setup, data: tuple[np.ndarray, ...], epochs: int) -> None:
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(SEED)  # same init and batch order for both losses
    net = MLP(x_train.shape[1], HIDDEN, setup.n_out, rng)
    adam = Adam(net.params, LEARNING_RATE)
    for _ in range(epochs):
        order = rng.permutation(len(y_train))
        total = 0.0
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            output, cache = net.forward(x_train[batch])
            value, grad_out = setup.loss.forward_backward(setup.target(y_train[batch]), output)
            adam.step(net.backward(grad_out, cache))
            total += float(value) * len(batch)
        setup.train_loss.append(total / len(y_train))
        output, _ = net.forward(x_test)
        setup.test_accuracy.append(float(np.mean(setup.predict(output) == y_test)))


def draw(setups: list[Setup]) -> Any:
    def figure(plt: Any) -> Any:
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.2))
        for s in setups:
            epochs = np.arange(1, len(s.train_loss) + 1)
            ax_loss.semilogy(epochs, s.train_loss, label=s.label)
            ax_acc.plot(epochs, s.test_accuracy, label=s.label)
        ax_loss.set(xlabel="epoch", ylabel="training loss (log scale)",
                    title="training loss (each in its own units)")
        ax_acc.axhline(0.1, color="k", lw=0.8, ls=":", label="chance (10%)")
        ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1),
                   title="test accuracy")
        for ax in (ax_loss, ax_acc):
            ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    return figure


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    epochs = 10 if args.small else 60
    data = load_split(np.random.default_rng(SEED))
    print(f"scikit-learn digits: {len(data[1])} training / {len(data[3])} test images of 8x8; "
          f"MLP 64-{HIDDEN}-out, Adam lr {LEARNING_RATE}, batch {BATCH}, {epochs} epochs")

    ce = Setup("cross-entropy, 10 logits",
               fl.SparseCategoricalCrossentropy(from_logits=True), n_out=10)
    mse = Setup("MSE, 1 output rounded to a class", fl.MeanSquaredError(), n_out=1)
    for setup in (ce, mse):
        train(setup, data, epochs)

    print(f"\n{'epoch':>5s}  {'CE loss':>8s}  {'CE acc':>6s}  {'MSE loss':>8s}  {'MSE acc':>7s}")
    every = max(1, epochs // 6)
    for e in range(epochs):
        if (e + 1) % every == 0 or e == epochs - 1:
            print(f"{e + 1:5d}  {ce.train_loss[e]:8.4f}  {ce.test_accuracy[e]:6.1%}  "
                  f"{mse.train_loss[e]:8.4f}  {mse.test_accuracy[e]:7.1%}")
    print()

    plot_or_skip(draw([ce, mse]), args.out, "digits_mse_vs_ce.png")
    acc_ce, acc_mse = ce.test_accuracy[-1], mse.test_accuracy[-1]
    print(f"{ce.label + ':':34s} test accuracy {acc_ce:.1%}")
    print(f"{mse.label + ':':34s} test accuracy {acc_mse:.1%}")
    gap = acc_ce - acc_mse
    if gap >= CLEAR_GAP:
        verdict = "as in the tutorial: a class is a category, not a number to regress"
    elif gap > 0:
        verdict = "a smaller gap than the tutorial's"
    else:
        verdict = "unlike the tutorial, MSE did not do worse here"
    print(f"cross-entropy - MSE: {gap * 100:+.1f} accuracy points ({verdict})")


if __name__ == "__main__":
    main()

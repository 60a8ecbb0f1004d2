"""A tiny GAN in NumPy learns a 1-D Gaussian from samples.
=======================================================

The GAN of the tutorial “梯度下降法(9) -- 損失函數”: a generator G turns noise
into samples, a discriminator D scores
samples as real or fake, and the two are trained against each other with

    D's loss = BCE(1, D(x)) + BCE(0, D(G(z)))      fl.GANDiscriminatorLoss()
    G's loss = BCE(1, D(G(z))) = -log D(G(z))       fl.GANGeneratorLoss()  (non-saturating)

(DCGAN's ``discriminator_loss`` / ``generator_loss``, on logits). Here the "images"
are single numbers: the real data are draws from N(4, 1.25^2), G is an MLP
noise (8) -> 32 (ReLU) -> 1 and D an MLP 1 -> 32 (leaky ReLU) -> 1 logit, both
trained with Adam (learning rate 1e-3, beta1 0.5, the DCGAN setting; decaying
linearly over the last half so the final samples settle). The forward and backward
passes through both networks are NumPy; the gradients of the losses with respect to
D's outputs come from fastloss (``forward_backward``). G starts out producing values
near 0, so it has to travel to the target.

The original (saturating) generator loss log(1 - D(G(z))) has a gradient of D(G(z))
per logit, which vanishes when D confidently rejects the fakes, as it does early on;
the non-saturating one's is 1 - D(G(z)). The script measures both at G's starting
point against a D trained alone to reject G's samples: the saturating gradient is
several to dozens of times smaller, depending on how sure D is. (The script does not
claim slower training from it: Adam divides each step by the gradient's running
size, and in this tiny problem runs with the saturating loss reached the target no
later.)

Run::

    python examples/gan_1d.py            # 6000 steps, a few seconds
    python examples/gan_1d.py --small    # 2000 steps (CI)
    python examples/gan_1d.py --out figs # PNG into figs/ (needs matplotlib)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from _common import Adam, parse_args, plot_or_skip

import fastloss as fl

SEED = 0
TARGET_MEAN = 4.0
TARGET_STD = 1.25
NOISE = 8
HIDDEN = 32
BATCH = 128
LEARNING_RATE = 1e-3
BETA1 = 0.5
#: Generated samples drawn to measure what G learned.
EVAL_SAMPLES = 20000
#: The learned mean counts as right within this of the target, the spread within
#: this factor of it.
MEAN_TOLERANCE = 0.5
STD_FACTOR = 1.5
#: Steps (and learning rate) that train D alone against the untrained G before the
#: gradient comparison, so that D confidently rejects G's samples.
D_WARMUP = 300
D_WARMUP_LR = 5e-3


class MLP:
    """inputs -> Dense(hidden, ReLU or leaky ReLU) -> Dense(1), He-style init.

    ``backward`` returns the parameters' gradients and the gradient with respect
    to the inputs (G's step needs d D(x) / dx)."""

    def __init__(self, n_in: int, n_hidden: int, rng: np.random.Generator,
                 leak: float = 0.0) -> None:
        self.w1 = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.w2 = rng.normal(0.0, np.sqrt(1.0 / n_hidden), (n_hidden, 1))
        self.b2 = np.zeros(1)
        self.leak = leak

    @property
    def params(self) -> list[np.ndarray]:
        return [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        pre = x @ self.w1 + self.b1
        hidden = np.where(pre > 0.0, pre, self.leak * pre)
        return hidden @ self.w2 + self.b2, (x, pre)

    def backward(self, grad_out: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
                 ) -> tuple[list[np.ndarray], np.ndarray]:
        x, pre = cache
        hidden = np.where(pre > 0.0, pre, self.leak * pre)
        grad_pre = (grad_out @ self.w2.T) * np.where(pre > 0.0, 1.0, self.leak)
        grads = [x.T @ grad_pre, grad_pre.sum(axis=0), hidden.T @ grad_out,
                 grad_out.sum(axis=0)]
        return grads, grad_pre @ self.w1.T


@dataclass
class History:
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    mean: list[float] = field(default_factory=list)  # of each step's fake batch
    std: list[float] = field(default_factory=list)


def real_batch(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(TARGET_MEAN, TARGET_STD, (n, 1))


def noise(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.standard_normal((n, NOISE))


def d_step(gen: MLP, disc: MLP, d_opt: Adam, d_loss: fl.GANDiscriminatorLoss,
           rng: np.random.Generator, lr: float) -> float:
    """One discriminator step: real samples toward 1, G's samples toward 0."""
    fake, _ = gen.forward(noise(rng, BATCH))
    real_logit, real_cache = disc.forward(real_batch(rng, BATCH))
    fake_logit, fake_cache = disc.forward(fake)
    value, (grad_real, grad_fake) = d_loss.forward_backward(real_logit, fake_logit)
    g_real, _ = disc.backward(grad_real, real_cache)
    g_fake, _ = disc.backward(grad_fake, fake_cache)
    d_opt.step([a + b for a, b in zip(g_real, g_fake)], lr)
    return float(value)


def g_gradients(gen: MLP, disc: MLP, g_loss: fl.GANGeneratorLoss, z: np.ndarray
                ) -> tuple[float, list[np.ndarray], np.ndarray]:
    """G's loss, its gradients, and its samples: through D (not updated) into G."""
    fake, gen_cache = gen.forward(z)
    fake_logit, fake_cache = disc.forward(fake)
    value, (grad_logit,) = g_loss.forward_backward(fake_logit)
    _, grad_sample = disc.backward(grad_logit, fake_cache)
    grads, _ = gen.backward(grad_sample, gen_cache)
    return float(value), grads, fake


def train(steps: int, seed: int = SEED) -> tuple[MLP, History]:
    rng = np.random.default_rng(seed)
    gen, disc = MLP(NOISE, HIDDEN, rng), MLP(1, HIDDEN, rng, leak=0.2)
    g_opt = Adam(gen.params, LEARNING_RATE, beta1=BETA1)
    d_opt = Adam(disc.params, LEARNING_RATE, beta1=BETA1)
    d_loss, g_loss = fl.GANDiscriminatorLoss(from_logits=True), fl.GANGeneratorLoss()
    history = History()
    for step in range(steps):
        # constant, then linear decay to 0 over the second half
        lr = LEARNING_RATE * min(1.0, 2.0 * (1.0 - step / steps))
        history.d_loss.append(d_step(gen, disc, d_opt, d_loss, rng, lr))
        value, grads, fake = g_gradients(gen, disc, g_loss, noise(rng, BATCH))
        g_opt.step(grads, lr)
        history.g_loss.append(value)
        history.mean.append(float(fake.mean()))
        history.std.append(float(fake.std()))
    return gen, history


def saturation(seed: int = SEED) -> tuple[float, float, float]:
    """At G's starting point, with D trained to reject G's samples: the mean
    D(G(z)) and the size of G's gradient under each generator loss."""
    rng = np.random.default_rng(seed)
    gen, disc = MLP(NOISE, HIDDEN, rng), MLP(1, HIDDEN, rng, leak=0.2)
    d_opt = Adam(disc.params, D_WARMUP_LR, beta1=BETA1)
    d_loss = fl.GANDiscriminatorLoss(from_logits=True)
    for _ in range(D_WARMUP):
        d_step(gen, disc, d_opt, d_loss, rng, D_WARMUP_LR)
    z = noise(rng, 4096)
    norms = []
    for saturating in (False, True):
        _, grads, _ = g_gradients(gen, disc, fl.GANGeneratorLoss(saturating=saturating), z)
        norms.append(float(np.sqrt(sum(np.sum(g * g) for g in grads))))
    fake_logit, _ = disc.forward(gen.forward(z)[0])
    d_fake = float(np.mean(1.0 / (1.0 + np.exp(-fake_logit))))
    return d_fake, norms[0], norms[1]


def draw(samples: np.ndarray, history: History) -> Any:
    def figure(plt: Any) -> Any:
        fig, (ax_hist, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.2))
        ax_hist.hist(samples, bins=80, density=True, alpha=0.6, label="generated")
        x = np.linspace(TARGET_MEAN - 4 * TARGET_STD, TARGET_MEAN + 4 * TARGET_STD, 400)
        pdf = np.exp(-0.5 * ((x - TARGET_MEAN) / TARGET_STD) ** 2) / (
            TARGET_STD * np.sqrt(2 * np.pi))
        ax_hist.plot(x, pdf, "k", lw=1.5,
                     label=f"target N({TARGET_MEAN:g}, {TARGET_STD:g}$^2$)")
        ax_hist.set(xlabel="x", ylabel="density", title="generated samples vs target")
        ax_hist.legend(fontsize=8)
        steps = np.arange(1, len(history.d_loss) + 1)
        ax_loss.plot(steps, history.d_loss, lw=0.6, label="D loss")
        ax_loss.plot(steps, history.g_loss, lw=0.6, label="G loss (non-saturating)")
        ax_loss.axhline(2 * np.log(2), color="k", ls=":", lw=0.8, label="D at equilibrium: 2 ln 2")
        ax_loss.axhline(np.log(2), color="k", ls="--", lw=0.8, label="G at equilibrium: ln 2")
        ax_loss.set(xlabel="step", ylabel="loss", title="losses during training")
        ax_loss.legend(fontsize=8)
        fig.tight_layout()
        return fig

    return figure


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    steps = 2000 if args.small else 6000
    print(f"target N({TARGET_MEAN:g}, {TARGET_STD:g}^2); G: noise {NOISE} -> {HIDDEN} -> 1, "
          f"D: 1 -> {HIDDEN} -> 1 logit; Adam lr {LEARNING_RATE:g} beta1 {BETA1}, "
          f"batch {BATCH}, {steps} steps")

    gen, history = train(steps)
    print(f"\n{'step':>5s}  {'D loss':>7s}  {'G loss':>7s}  {'fake mean':>9s}  {'fake std':>8s}")
    every = max(1, steps // 5)
    for s in range(steps):
        if s == 0 or (s + 1) % every == 0 or s == steps - 1:
            print(f"{s + 1:5d}  {history.d_loss[s]:7.4f}  {history.g_loss[s]:7.4f}  "
                  f"{history.mean[s]:9.3f}  {history.std[s]:8.3f}")
    print(f"(at equilibrium D outputs 1/2 everywhere: D loss 2 ln 2 = {2 * np.log(2):.4f}, "
          f"G loss ln 2 = {np.log(2):.4f})\n")

    d_fake, grad_ns, grad_sat = saturation()
    print(f"at G's start, after {D_WARMUP} steps of D alone: mean D(G(z)) = {d_fake:.3f}; "
          f"|dLoss/dG params|: non-saturating {grad_ns:.3g}, saturating {grad_sat:.3g} "
          f"({grad_ns / grad_sat:.1f}x smaller with log(1 - D))\n")

    samples = gen.forward(noise(np.random.default_rng(SEED + 1), EVAL_SAMPLES))[0][:, 0]
    plot_or_skip(draw(samples, history), args.out, "gan_1d.png")
    mean, std = float(samples.mean()), float(samples.std())
    close = (abs(mean - TARGET_MEAN) <= MEAN_TOLERANCE
             and 1.0 / STD_FACTOR <= std / TARGET_STD <= STD_FACTOR)
    print(f"target:    mean {TARGET_MEAN:.3f}  std {TARGET_STD:.3f}")
    print(f"generated: mean {mean:.3f}  std {std:.3f}  ({EVAL_SAMPLES} samples)")
    verdict = ("G learned the target" if close
               else f"not within {MEAN_TOLERANCE} of the mean and a factor {STD_FACTOR} "
                    "of the spread")
    print(f"mean off by {mean - TARGET_MEAN:+.3f}, std ratio {std / TARGET_STD:.2f} ({verdict})")


if __name__ == "__main__":
    main()

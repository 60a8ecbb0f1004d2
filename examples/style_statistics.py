"""Style statistics: optimise an image's pixels until its Gram matrices match a texture's.
=======================================================================================

The style transfer of the tutorial “梯度下降法(9) -- 損失函數” (Gatys et al.,
"A Neural Algorithm of Artistic Style"):

    total = alpha * content loss + beta * style loss

where the content loss compares the generated image's features F with the content
image's P (1/2 sum (F - P)^2) and the style loss compares their Gram matrices
G = F^T F with the texture's A (sum (G - A)^2 / (4 C^2 M^2)). Here the "network" is
one fixed random layer, a 3x3 convolution with 32 random filters and a ReLU, written
in NumPy with its own backward pass to the pixels; its Gram matrix records which
colours and edge directions occur together, which is what a texture is made of. The
loss is the composite ``alpha * fl.ContentLoss() + beta * fl.StyleLoss()``, called as
``total.forward_backward(content_features, texture_features, generated_features)``,
plus ``tv_weight * fl.TotalVariation()`` on the pixels, which penalises the
pixel-to-pixel jumps the Gram statistics do not ask for (with weight 0.1 the result's
total variation ends about a quarter lower than without the term). The images are
made in code (no downloads): the content is a bright disc on a soft gradient, the
texture diagonal coloured stripes over a checkerboard with noise.

Starting from the content image, Adam (learning rate 0.03, pixels clipped to [0, 1]
after each step) moves the pixels: the style loss falls by about two orders of
magnitude while the content loss, zero at the start, rises only as far as the
texture requires (the disc stays where it was; the plot shows it). The printed table
is the losses every few steps; the closing lines the total's fall and the factor by
which the style loss fell.

Run::

    python examples/style_statistics.py            # 400 steps, a few seconds
    python examples/style_statistics.py --small    # 150 steps (CI)
    python examples/style_statistics.py --out figs # PNG into figs/ (needs matplotlib)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from _common import Adam, parse_args, plot_or_skip

import fastloss as fl

SEED = 0
SIZE = 64  # pixels per side
CHANNELS = 3
FILTERS = 32
KERNEL = 3
ALPHA = 1.0  # content weight
BETA = 1e8  # style weight (Gram differences are tiny numbers)
TV_WEIGHT = 0.1
LEARNING_RATE = 0.03
#: The style loss has fallen "by a large factor" when it ends this many times smaller.
LARGE_FACTOR = 50.0


# --------------------------------------------------------------------------------------
# the images

def content_image() -> np.ndarray:
    """A bright disc on a soft diagonal gradient, (SIZE, SIZE, 3) in [0, 1]."""
    y, x = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1.0)
    background = np.stack([0.2 + 0.5 * x, 0.3 + 0.3 * y, 0.6 - 0.3 * x], axis=-1)
    disc = ((x - 0.55) ** 2 + (y - 0.45) ** 2 < 0.28 ** 2)[..., None]
    return np.where(disc, np.array([0.95, 0.85, 0.3]), background)


def texture_image(rng: np.random.Generator) -> np.ndarray:
    """Diagonal red/blue stripes over a faint checkerboard, plus noise."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    stripes = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * (x + y) / 10.0))
    checks = ((x // 8 + y // 8) % 2)
    img = np.stack([0.15 + 0.7 * stripes, 0.2 + 0.2 * checks, 0.85 - 0.7 * stripes], axis=-1)
    return np.clip(img + rng.normal(0.0, 0.05, img.shape), 0.0, 1.0)


# --------------------------------------------------------------------------------------
# the fixed random feature layer: valid 3x3 convolution + ReLU, and its backward

class RandomFeatures:
    """F = ReLU(conv3x3(x - 0.5) + b) with fixed random filters; channels-last."""

    def __init__(self, rng: np.random.Generator) -> None:
        fan_in = KERNEL * KERNEL * CHANNELS
        self.w = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, FILTERS))
        self.b = rng.normal(0.0, 0.05, FILTERS)

    @staticmethod
    def _patches(x: np.ndarray) -> np.ndarray:
        """(H, W, C) -> (H-2, W-2, 9*C): each output position's 3x3 neighbourhood."""
        h, w = x.shape[0] - KERNEL + 1, x.shape[1] - KERNEL + 1
        shifted = [x[i:i + h, j:j + w] for i in range(KERNEL) for j in range(KERNEL)]
        return np.concatenate(shifted, axis=-1)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features (H-2, W-2, FILTERS) and the pre-activations (for backward)."""
        pre = self._patches(x - 0.5) @ self.w + self.b
        return np.maximum(pre, 0.0), pre

    def backward(self, grad_features: np.ndarray, pre: np.ndarray) -> np.ndarray:
        """d loss / d pixels from d loss / d features."""
        grad_patches = ((pre > 0.0) * grad_features) @ self.w.T
        h, w = grad_patches.shape[:2]
        grad = np.zeros((h + KERNEL - 1, w + KERNEL - 1, CHANNELS))
        for k in range(KERNEL * KERNEL):
            i, j = divmod(k, KERNEL)
            grad[i:i + h, j:j + w] += grad_patches[..., k * CHANNELS:(k + 1) * CHANNELS]
        return grad


# --------------------------------------------------------------------------------------
# the optimisation

@dataclass
class Log:
    trace: list[float] = field(default_factory=list)  # the total after every step
    # every few steps: the step, the total and each term (unweighted)
    step: list[int] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    content: list[float] = field(default_factory=list)
    style: list[float] = field(default_factory=list)
    tv: list[float] = field(default_factory=list)


def optimise(content: np.ndarray, texture: np.ndarray, features: RandomFeatures,
             steps: int, log_every: int) -> tuple[np.ndarray, Log]:
    content_loss, style_loss, tv_loss = fl.ContentLoss(), fl.StyleLoss(), fl.TotalVariation()
    total = ALPHA * content_loss + BETA * style_loss  # a fl.CompositeLoss
    content_feats, _ = features.forward(content)
    texture_feats, _ = features.forward(texture)

    image = content.copy()
    adam = Adam([image], LEARNING_RATE)
    log = Log()
    for step in range(steps + 1):
        feats, pre = features.forward(image)
        # one call: value and d/dF of alpha * content + beta * style
        value, (grad_feats,) = total.forward_backward(content_feats, texture_feats, feats)
        tv_value, (grad_tv,) = tv_loss.forward_backward(image, grad_output=TV_WEIGHT)
        log.trace.append(float(value) + TV_WEIGHT * float(tv_value))
        if step % log_every == 0 or step == steps:  # the terms separately, for the table
            log.step.append(step)
            log.total.append(log.trace[-1])
            log.content.append(float(content_loss(content_feats, feats)))
            log.style.append(float(style_loss(texture_feats, feats)))
            log.tv.append(float(tv_value))
        if step == steps:
            break
        adam.step([features.backward(grad_feats, pre) + grad_tv])
        np.clip(image, 0.0, 1.0, out=image)
    return image, log


def draw(content: np.ndarray, texture: np.ndarray, result: np.ndarray, log: Log) -> Any:
    def figure(plt: Any) -> Any:
        fig, axes = plt.subplots(1, 4, figsize=(15, 3.8))
        for ax, img, title in zip(axes, (content, texture, result),
                                  ("content", "texture (style)", "result")):
            ax.imshow(img, interpolation="nearest")
            ax.set(title=title, xticks=[], yticks=[])
        ax = axes[3]
        ax.plot(log.trace, label="total")
        ax.plot(log.step, np.multiply(log.style, BETA), "o-", label=f"{BETA:g} x style")
        ax.plot(log.step, np.multiply(log.content, ALPHA), "o-", label=f"{ALPHA:g} x content")
        ax.plot(log.step, np.multiply(log.tv, TV_WEIGHT), "o-", label=f"{TV_WEIGHT:g} x TV")
        # symmetric log: logarithmic above the smallest positive value drawn, linear
        # below it, so the content loss's 0 at step 0 (the start is the content image)
        # is on the plot
        drawn = np.concatenate([log.trace, np.multiply(log.style, BETA),
                                np.multiply(log.content, ALPHA), np.multiply(log.tv, TV_WEIGHT)])
        ax.set_yscale("symlog", linthresh=float(drawn[drawn > 0].min()))
        ax.set(xlabel="Adam step", title="weighted losses (symmetric log scale)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    return figure


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    steps = 150 if args.small else 400
    rng = np.random.default_rng(SEED)
    features = RandomFeatures(rng)
    content, texture = content_image(), texture_image(rng)
    print(f"{SIZE}x{SIZE}x{CHANNELS} images; features: {KERNEL}x{KERNEL} conv, {FILTERS} "
          f"random filters, ReLU; total = {ALPHA:g} * content + {BETA:g} * style + "
          f"{TV_WEIGHT:g} * TV; Adam lr {LEARNING_RATE:g}, {steps} steps from the content image")

    result, log = optimise(content, texture, features, steps, log_every=max(1, steps // 5))
    print(f"\n{'step':>5s}  {'total':>10s}  {'content':>10s}  {'style':>10s}  {'TV':>10s}")
    for k in range(len(log.step)):
        print(f"{log.step[k]:5d}  {log.total[k]:10.4g}  {log.content[k]:10.4g}  "
              f"{log.style[k]:10.4g}  {log.tv[k]:10.4g}")
    print()

    plot_or_skip(draw(content, texture, result, log), args.out, "style_statistics.png")
    factor = log.style[0] / log.style[-1]
    verdict = (f"at least {LARGE_FACTOR:g}x: the image took on the texture's statistics"
               if factor >= LARGE_FACTOR else f"less than the {LARGE_FACTOR:g}x expected")
    print(f"total loss: {log.total[0]:.4g} -> {log.total[-1]:.4g}")
    print(f"style loss: {log.style[0]:.4g} -> {log.style[-1]:.4g}, {factor:.0f}x smaller "
          f"({verdict})")


if __name__ == "__main__":
    main()

"""Helpers shared by the example scripts: the command line every example takes
(``--small``, ``--out DIR``), optional plotting and the Adam optimiser they train with.

matplotlib is optional (``pip install "fastloss[examples]"``). Without it an example
still computes and prints everything, and says that its plot was skipped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

#: The line an example prints instead of a plot when matplotlib is missing
#: (tests/test_examples.py looks for it).
PLOT_SKIPPED = "plot skipped: matplotlib could not be imported (pip install 'fastloss[examples]')"


def parse_args(doc: Optional[str], argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """``--small`` and ``--out DIR``; the description is the first line of ``doc``."""
    summary = (doc or "").strip().splitlines()[0] if doc else None
    parser = argparse.ArgumentParser(description=summary)
    parser.add_argument("--small", action="store_true",
                        help="fewer steps / points, about a second (what CI runs); the printed "
                             "conclusion is computed the same way")
    parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                        help="folder for the PNG (created if needed; default: current directory)")
    return parser.parse_args(argv)


def plot_or_skip(draw: Callable[[Any], Any], out: Path, filename: str) -> Optional[Path]:
    """Draws with ``draw(pyplot)`` (which returns the figure) and saves it as
    ``out / filename``; prints where it went, or :data:`PLOT_SKIPPED` when
    matplotlib cannot be imported. Returns the path, or None when skipped."""
    try:
        import matplotlib
    except ImportError:
        print(PLOT_SKIPPED)
        return None
    matplotlib.use("Agg")  # no display needed, no window opened
    import matplotlib.pyplot as plt

    fig = draw(plt)
    out.mkdir(parents=True, exist_ok=True)
    path = out / filename
    fig.savefig(path, dpi=100)
    if "sphinx_gallery" in sys.modules:
        # the documentation's gallery shows the figure itself; the folder it was
        # saved in is a temporary one of the docs build, meaningless to a reader
        print(f"plot saved: {filename}")
    else:
        plt.close(fig)
        print(f"plot saved: {path}")
    return path


def fmt_vector(v: Any, digits: int = 2) -> str:
    """``[1.13 1.03]``: a short vector as NumPy prints it, with fixed decimals."""
    return "[" + " ".join(f"{float(x):.{digits}f}" for x in v) + "]"


class Adam:
    """Adam (Kingma & Ba) over a list of arrays, updated in place."""

    def __init__(self, params: list[np.ndarray], lr: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-7) -> None:
        self.params, self.lr, self.beta1, self.beta2, self.eps = params, lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray], lr: Optional[float] = None) -> None:
        self.t += 1
        lr = self.lr if lr is None else lr
        scale = lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m += (1 - self.beta1) * (g - m)
            v += (1 - self.beta2) * (g * g - v)
            p -= scale * m / (np.sqrt(v) + self.eps)

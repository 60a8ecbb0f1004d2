"""The segmentation table of the harness: Keras's Dice loss, value and gradient,
on a batch of masks, fastloss against Keras 3 on its torch backend (the loss
and its backward through torch autograd, as a Keras training step computes it).

    python benchmarks/segmentation.py [--shape 64 256 256 4] [--runs 7]

Both sides take float32 NHWC masks and predictions; fastloss's call is
``Dice(axis=...).forward_backward``, Keras's ``Dice(axis=...)(t, p)`` then
``backward()``. The two calls alternate, and the figures are medians. Not a
test: it prints a table and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np
from timing import paired_medians

import fastloss as fl


def segmentation_table(shape: tuple[int, ...] = (64, 256, 256, 4), runs: int = 7,
                       ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds); a line instead when Keras or
    PyTorch is absent."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
        import torch
    except ImportError:
        return ["Keras or PyTorch is not installed: no segmentation table.", ""], []
    if keras.backend.backend() != "torch":
        return ["Keras does not run on its torch backend here: no segmentation table.", ""], []
    rng = np.random.default_rng(31)
    t = (rng.random(shape, dtype=np.float32) < 0.3).astype(np.float32)
    p = rng.random(shape, dtype=np.float32)
    tt = torch.from_numpy(t)
    rows: list[dict[str, Any]] = []
    lines = [f"Keras's Dice loss on {'x'.join(map(str, shape))} float32 masks, value and "
             f"gradient, {fl.get_num_threads()} fastloss threads, {torch.get_num_threads()} "
             f"PyTorch threads; median of {runs} alternating calls.", "",
             "| axis | fastloss | Keras (torch backend) + autograd | Keras / fastloss | "
             "max rel. diff of the gradient |", "|---|---:|---:|---:|---:|"]
    grad = np.empty_like(p)
    for axis in (None, (1, 2, 3)):
        ours = fl.Dice(axis=axis)
        theirs = keras.losses.Dice(axis=axis)
        pt = torch.from_numpy(p.copy()).requires_grad_(True)

        def run_ours(ours: Any = ours) -> None:
            ours.forward_backward(t, p, out=grad)

        def run_theirs(theirs: Any = theirs, pt: Any = pt) -> None:
            pt.grad = None
            theirs(tt, pt).backward()

        a, b = paired_medians(run_ours, run_theirs, runs)
        run_ours()
        run_theirs()
        assert pt.grad is not None
        ref = pt.grad.numpy()
        diff = float(np.max(np.abs(grad - ref)) / np.max(np.abs(ref)))
        rows.append({"case": f"Dice axis={axis}", "fastloss": a, "keras": b})
        lines.append(f"| {axis} | {a * 1e3:.1f} ms | {b * 1e3:.1f} ms | {b / a:.1f}× | "
                     f"{diff:.1e} |")
    lines.append("")
    return lines, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=int, nargs="+", default=[64, 256, 256, 4],
                        help="the masks' NHWC shape (default: 64 256 256 4)")
    parser.add_argument("--runs", type=int, default=7, help="alternating calls (default: 7)")
    args = parser.parse_args()
    lines, _ = segmentation_table(tuple(args.shape), args.runs)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""The multi-class margin, log-probability and probabilistic losses: one fused
forward_backward of fastloss against the same value and gradient from PyTorch
(autograd on CPU) or optax (jax.jit of value_and_grad on CPU).

    python benchmarks/multiclass.py [--rows 100000] [--classes 10] [--runs 7]

float32 scores of (rows, classes), the reduced loss and its gradient, median of
``--runs`` calls after a warm-up, fastloss at 1 thread and at every core, the
peer at its default threads. Not a test: it prints a table and asserts nothing
(the values are compared with the peer's, the relative difference is shown).
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np
from timing import median_call, peer_table

import fastloss as fl


def _label_sets(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    out = np.full((rows, classes), -1, np.int64)
    k = rng.integers(1, min(4, classes) + 1, size=rows)
    for r in range(rows):
        out[r, :k[r]] = rng.choice(classes, size=k[r], replace=False)
    return out


def _torch_case(name: str, t: Any, x: np.ndarray) -> Optional[Callable[[], float]]:
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    fns: dict[str, Callable[..., Any]] = {
        "NLL": F.nll_loss, "MultiMargin p=1": F.multi_margin_loss,
        "MultiMargin p=2": lambda a, b: F.multi_margin_loss(a, b, p=2),
        "MultiLabelMargin": F.multilabel_margin_loss,
        "MultiLabelSoftMargin": F.multilabel_soft_margin_loss}
    if name not in fns:
        return None
    tt = torch.tensor(t)

    def call() -> float:
        xt = torch.tensor(x, requires_grad=True)
        v = fns[name](xt, tt)
        v.backward()
        return float(v)
    return call


def _optax_case(name: str, t: Any, x: np.ndarray) -> Optional[Callable[[], float]]:
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        return None
    losses = optax.losses
    fns = {"MultiClassPerceptron": losses.multiclass_perceptron_loss,
           "PolyLoss": losses.poly_loss_cross_entropy,
           "MulticlassSparsemax": losses.multiclass_sparsemax_loss}
    if name not in fns:
        return None
    fn = fns[name]
    args = (jnp.asarray(x), jnp.asarray(t))
    step = jax.jit(jax.value_and_grad(lambda s, lab: jnp.mean(fn(s, lab))))

    def call() -> float:
        v, g = step(*args)
        g.block_until_ready()
        return float(v)
    return call


def multiclass_table(rows: int = 100_000, classes: int = 10, runs: int = 7,
                     ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, classes)).astype(np.float32)
    y = rng.integers(0, classes, size=rows)
    bits = (rng.uniform(size=(rows, classes)) < 0.3).astype(np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    sets = _label_sets(rng, rows, classes)
    probs = rng.dirichlet(np.ones(classes), size=rows).astype(np.float32)
    log_probs = np.log(probs)
    cases: list[tuple[str, fl.Loss, Any, np.ndarray]] = [
        ("NLL", fl.NLL(), y, log_probs),
        ("MultiMargin p=1", fl.MultiMargin(), y, x),
        ("MultiMargin p=2", fl.MultiMargin(p=2), y, x),
        ("MultiLabelMargin", fl.MultiLabelMargin(), sets, x),
        ("MultiLabelSoftMargin", fl.MultiLabelSoftMargin(), bits, x),
        ("MultiClassPerceptron", fl.MultiClassPerceptron(), y, x),
        ("PolyLoss", fl.PolyLoss(), onehot, x),
        ("MulticlassSparsemax", fl.MulticlassSparsemax(), y, x),
        ("GeneralizedCrossentropy", fl.GeneralizedCrossentropy(), y, probs),
        ("OneVsAllCrossentropy", fl.OneVsAllCrossentropy(), y, x),
    ]
    cores = os.cpu_count() or 1
    old = fl.get_num_threads()
    table = []
    try:
        for name, loss, t, p in cases:
            call = functools.partial(loss.forward_backward, t, p)
            fl.set_num_threads(1)
            one = median_call(call, runs)
            fl.set_num_threads(cores)
            many = median_call(call, runs)
            value = float(loss(t, p))
            peer, peer_name = _torch_case(name, t, p), "PyTorch"
            if peer is None:
                peer, peer_name = _optax_case(name, t, p), "optax"
            theirs = diff = float("nan")
            if peer is not None:
                theirs = median_call(peer, runs)
                diff = abs(value - peer()) / max(abs(value), 1e-30)
            else:
                peer_name = "-"
            table.append((name, one, many, peer_name, theirs, diff))
            print(f"  {name:24s} 1 thread {one * 1e3:8.2f} ms  {cores} threads "
                  f"{many * 1e3:8.2f} ms  {peer_name} {theirs * 1e3:8.2f} ms")
    finally:
        fl.set_num_threads(old)
    lines = [f"forward_backward of a ({rows:,}, {classes}) float32 batch (reduced value and "
             f"gradient), median of {runs}; the peer computes the same value and gradient "
             "(PyTorch autograd, optax under jax.jit).", ""]
    body, raw = peer_table(table, cores, "multiclass")
    return lines + body, raw


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    lines, _ = multiclass_table(args.rows, args.classes, args.runs)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

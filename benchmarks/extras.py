"""optax's multiclass hinge, generalized KL divergence, cosine distance and
multiclass generalized Dice, and PyTorch's triplet margin loss under a named
distance: one fused forward_backward of fastloss against the same value and
gradient from the peer (optax: jax.jit of value_and_grad on CPU; PyTorch:
autograd on CPU).

    python benchmarks/extras.py [--rows 100000] [--classes 10] [--runs 7]

float32 inputs, the reduced loss and its gradient(s), median of ``--runs`` calls
after a warm-up, fastloss at 1 thread and at every core, the peer at its default
threads. Not a test: it prints a table and asserts nothing (the values are
compared with the peer's, the relative difference is shown).
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


def _optax_step(fn: Callable[..., Any], trained: np.ndarray,
                other: np.ndarray) -> Optional[Callable[[], float]]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    args = (jnp.asarray(trained), jnp.asarray(other))
    step = jax.jit(jax.value_and_grad(lambda s, o: jnp.mean(fn(s, o))))

    def call() -> float:
        v, g = step(*args)
        g.block_until_ready()
        return float(v)
    return call


def _optax_case(name: str, t: Any, p: np.ndarray) -> Optional[Callable[[], float]]:
    try:
        import optax
    except ImportError:
        return None
    losses = optax.losses
    if name == "MulticlassHinge":
        return _optax_step(losses.multiclass_hinge_loss, p, t)
    if name == "GeneralizedKLDivergence":
        return _optax_step(losses.generalized_kl_divergence, p, t)
    if name == "CosineDistance":
        return _optax_step(lambda s, o: losses.cosine_distance(s, o), p, t)
    if name == "MulticlassGeneralizedDice":
        # optax's value is already the mean: jnp.mean of a scalar leaves it
        return _optax_step(losses.multiclass_generalized_dice_loss, p, t)
    return None


def _torch_triplet(distance: str, a: np.ndarray, p: np.ndarray,
                   n: np.ndarray) -> Optional[Callable[[], float]]:
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    fn = {"euclidean": None, "cosine": lambda x, z: 1.0 - F.cosine_similarity(x, z)}[distance]

    def call() -> float:
        ts = [torch.tensor(v, requires_grad=True) for v in (a, p, n)]
        v = F.triplet_margin_with_distance_loss(*ts, distance_function=fn)
        v.backward()
        return float(v.detach())
    return call


def extras_table(rows: int = 100_000, classes: int = 10, runs: int = 7,
                 ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, classes)).astype(np.float32)
    y = rng.integers(0, classes, size=rows)
    soft = rng.dirichlet(np.ones(classes), size=rows).astype(np.float32)
    target = rng.normal(size=(rows, classes)).astype(np.float32)
    side = 128  # a (8, 128, 128, 4) batch of segmentation logits
    masks = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(8, side, side))]
    seg = rng.normal(size=(8, side, side, 4)).astype(np.float32)
    a, pos, neg = rng.normal(size=(3, rows, 32)).astype(np.float32)
    cases: list[tuple[str, Any, tuple[Any, ...], Optional[Callable[[], float]]]] = [
        ("MulticlassHinge", fl.MulticlassHinge(), (y, x), _optax_case("MulticlassHinge", y, x)),
        ("GeneralizedKLDivergence", fl.GeneralizedKLDivergence(), (soft, x),
         _optax_case("GeneralizedKLDivergence", soft, x)),
        ("CosineDistance", fl.CosineDistance(), (target, x),
         _optax_case("CosineDistance", target, x)),
        ("MulticlassGeneralizedDice", fl.MulticlassGeneralizedDice(), (masks, seg),
         _optax_case("MulticlassGeneralizedDice", masks, seg)),
        ("TripletMarginWithDistance euclidean", fl.TripletMarginWithDistance(), (a, pos, neg),
         _torch_triplet("euclidean", a, pos, neg)),
        ("TripletMarginWithDistance cosine", fl.TripletMarginWithDistance("cosine"),
         (a, pos, neg), _torch_triplet("cosine", a, pos, neg)),
    ]
    cores = os.cpu_count() or 1
    old = fl.get_num_threads()
    table = []
    try:
        for name, loss, inputs, peer in cases:
            call = functools.partial(loss.forward_backward, *inputs)
            fl.set_num_threads(1)
            one = median_call(call, runs)
            fl.set_num_threads(cores)
            many = median_call(call, runs)
            value = float(loss(*inputs))
            theirs = diff = float("nan")
            peer_name = "-"
            if peer is not None:
                peer_name = "PyTorch" if name.startswith("Triplet") else "optax"
                theirs = median_call(peer, runs)
                diff = abs(value - peer()) / max(abs(value), 1e-30)
            table.append((name, one, many, peer_name, theirs, diff))
            print(f"  {name:36s} 1 thread {one * 1e3:8.2f} ms  {cores} threads "
                  f"{many * 1e3:8.2f} ms  {peer_name} {theirs * 1e3:8.2f} ms")
    finally:
        fl.set_num_threads(old)
    lines = [f"forward_backward on float32 inputs (reduced value and gradients), median of "
             f"{runs}: ({rows:,}, {classes}) scores for the class-axis losses, "
             f"(8, {side}, {side}, 4) logits for the generalized Dice, three ({rows:,}, 32) "
             "embeddings for the triplets; the peer computes the same value and gradient "
             "(optax under jax.jit, PyTorch autograd).", ""]
    body, raw = peer_table(table, cores, "extras")
    return lines + body, raw


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    lines, _ = extras_table(args.rows, args.classes, args.runs)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

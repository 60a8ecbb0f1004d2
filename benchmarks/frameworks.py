"""The PyTorch and JAX table of the harness: fastloss's kernels inside a
framework's autodiff (fastloss.torch, fastloss.jax) against the framework's own
losses, on the CPU.

Three questions a PyTorch or JAX user asks:

* the loss alone, value and gradient inside autograd (forward, then
  ``backward()``): softmax cross-entropy over 32k classes for a batch of 512,
  and BCE-with-logits over 10^7 elements; target: fastloss.torch ≥ 2× faster
  than ``F.cross_entropy`` / ``F.binary_cross_entropy_with_logits``;
* a whole training step of a small model (embedding → linear → softmax
  cross-entropy over 32k classes, batch 512, SGD): target no slower;
* JAX: the same losses' ``value_and_grad`` under ``jit`` against optax's,
  where the host callback's overhead is the honest cost: reported, no target.

Each pair is timed in one run, the two calls alternating, so that both see the
same machine; the times are medians and the ratio is the ratio of the medians.
Run alone: ``python benchmarks/frameworks.py`` (prints the table); the harness
calls :func:`frameworks_table`. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

import numpy as np
from timing import paired_medians

import fastloss as fl

Call = Callable[[], Any]

CLASSES = 32768
BATCH = 512
BCE_ELEMENTS = 10**7
EMBEDDING = (8192, 128)  # vocabulary, width


# -- PyTorch ---------------------------------------------------------------------------


def _torch_loss_calls(torch: Any) -> list[tuple[str, Call, Call]]:
    import fastloss.torch as flt

    F = torch.nn.functional
    rng = np.random.default_rng(21)
    out: list[tuple[str, Call, Call]] = []

    logits = torch.tensor(rng.normal(size=(BATCH, CLASSES)), dtype=torch.float32)
    logits.requires_grad_(True)
    labels = torch.tensor(rng.integers(0, CLASSES, BATCH))
    ce = flt.wrap(fl.SparseCategoricalCrossentropy(from_logits=True))

    def step(loss: Callable[[], Any], x: Any) -> Call:
        def run() -> None:
            x.grad = None
            loss().backward()
        return run

    out.append((f"softmax CE, {BATCH} x {CLASSES:,}", step(lambda: ce(labels, logits), logits),
                step(lambda: F.cross_entropy(logits, labels), logits)))

    z = torch.tensor(rng.normal(size=BCE_ELEMENTS), dtype=torch.float32).requires_grad_(True)
    y = torch.tensor(rng.uniform(size=BCE_ELEMENTS) < 0.3, dtype=torch.float32)
    bce = flt.wrap(fl.BinaryCrossentropy(from_logits=True))
    out.append((f"BCE-logits, {BCE_ELEMENTS:,}", step(lambda: bce(y, z), z),
                step(lambda: F.binary_cross_entropy_with_logits(z, y), z)))
    return out


def _torch_training_calls(torch: Any) -> tuple[str, Call, Call]:
    """One SGD step of embedding -> linear -> softmax CE, with either loss; both
    models start from the same parameters."""
    import fastloss.torch as flt

    F = torch.nn.functional
    rng = np.random.default_rng(22)
    tokens = torch.tensor(rng.integers(0, EMBEDDING[0], BATCH))
    labels = torch.tensor(rng.integers(0, CLASSES, BATCH))
    ce = flt.wrap(fl.SparseCategoricalCrossentropy(from_logits=True))

    def make(loss: Callable[[Any, Any], Any]) -> Call:
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Embedding(*EMBEDDING),
                                    torch.nn.Linear(EMBEDDING[1], CLASSES))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def run() -> None:
            opt.zero_grad()
            loss(labels, model(tokens)).backward()
            opt.step()
        return run

    return (f"training step, embedding {EMBEDDING[1]} -> linear -> CE over {CLASSES:,}, "
            f"batch {BATCH}", make(ce), make(lambda y, z: F.cross_entropy(z, y)))


# -- JAX ---------------------------------------------------------------------------------


def _jax_calls(jax: Any) -> list[tuple[str, Call, Call]]:
    import jax.numpy as jnp
    import optax

    import fastloss.jax as flj

    rng = np.random.default_rng(23)
    logits = jnp.asarray(rng.normal(size=(BATCH, CLASSES)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, CLASSES, BATCH))
    ce = flj.wrap(fl.SparseCategoricalCrossentropy(from_logits=True))
    z = jnp.asarray(rng.normal(size=BCE_ELEMENTS), jnp.float32)
    y = jnp.asarray(rng.uniform(size=BCE_ELEMENTS) < 0.3, jnp.float32)
    bce = flj.wrap(fl.BinaryCrossentropy(from_logits=True))

    def jitted(fn: Callable[[Any], Any], x: Any) -> Call:
        f = jax.jit(jax.value_and_grad(fn))
        return lambda: jax.block_until_ready(f(x))

    return [
        (f"softmax CE, {BATCH} x {CLASSES:,}", jitted(lambda z: ce(labels, z), logits),
         jitted(lambda z: optax.losses.softmax_cross_entropy_with_integer_labels(
             z, labels).mean(), logits)),
        (f"BCE-logits, {BCE_ELEMENTS:,}", jitted(lambda z: bce(y, z), z),
         jitted(lambda z: optax.losses.sigmoid_binary_cross_entropy(z, y).mean(), z)),
    ]


# -- the table ---------------------------------------------------------------------------


def _rows(pairs: list[tuple[str, Call, Call]], calls: int, peer: str, group: str,
          raw: list[dict[str, Any]]) -> list[str]:
    lines = []
    for name, ours, theirs in pairs:
        t_ours, t_theirs = paired_medians(ours, theirs, calls)
        raw.append({"case": f"{group} {name}", "fastloss": t_ours, peer: t_theirs})
        lines.append(f"| {name} | {t_ours * 1e3:.1f} ms | {t_theirs * 1e3:.1f} ms | "
                     f"{t_theirs / t_ours:.2f}× |")
        print(f"  {group} {name:60s} fastloss {t_ours * 1e3:8.1f} ms  {peer} "
              f"{t_theirs * 1e3:8.1f} ms  {t_theirs / t_ours:5.2f}x")
    return lines


def frameworks_table(calls: int = 15, training_calls: int = 7,
                     ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds); a line instead of a table for
    a framework that is not installed."""
    lines: list[str] = []
    raw: list[dict[str, Any]] = []
    try:
        import torch
    except ImportError:
        lines += ["PyTorch is not installed: no PyTorch table (pip install \".[torch]\").", ""]
    else:
        lines += [f"fastloss.torch against PyTorch's losses (float32, {torch.get_num_threads()} "
                  f"PyTorch threads, {fl.get_num_threads()} fastloss threads), forward + "
                  f"backward() inside autograd, median of {calls} alternating calls; target: "
                  "≥ 2× faster.", "",
                  "| loss | fastloss.torch | PyTorch | PyTorch / fastloss |",
                  "|---|---:|---:|---:|"]
        lines += _rows(_torch_loss_calls(torch), calls, "torch", "torch", raw)
        lines += ["", f"A whole training step (zero_grad, forward, backward, SGD step), median "
                  f"of {training_calls}; target: no slower (ratio ≥ 1).", "",
                  "| step | with fastloss.torch | with F.cross_entropy | ratio |",
                  "|---|---:|---:|---:|"]
        lines += _rows([_torch_training_calls(torch)], training_calls, "torch", "torch", raw)
        lines.append("")
    try:
        import jax
        import optax  # noqa: F401
    except ImportError:
        lines += ["JAX or optax is not installed: no JAX table (pip install \".[jax]\")."]
    else:
        lines += [f"fastloss.jax against optax's losses, `jit(value_and_grad(...))` (float32), "
                  f"median of {calls} alternating calls; the host callback's cost is "
                  "included: reported, no target.", "",
                  "| loss | fastloss.jax | optax | optax / fastloss |", "|---|---:|---:|---:|"]
        lines += _rows(_jax_calls(jax), calls, "optax", "jax", raw)
    return lines, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15, help="timed calls of each loss")
    parser.add_argument("--training-calls", type=int, default=7,
                        help="timed training steps of each model")
    args = parser.parse_args()
    lines, _ = frameworks_table(args.calls, args.training_calls)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Cross-entropy over a dataset larger than memory: Dask arrays on a local cluster.
================================================================================

The logits of a 10-class classifier on 200 million samples (8 GB of float32, generated
block by block, never held at once) are evaluated on a local Dask cluster: the mean
sparse cross-entropy, and a histogram of the per-sample losses, in one lazy graph that
each worker computes block by block with fastloss's kernels. The workers' progress is
shown while it runs (and the dashboard link is printed). ``--small`` evaluates 200 000
samples, few enough to repeat the evaluation in memory and check that both agree.

    python examples/dask_huge_eval.py [--small] [--out DIR]
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

# the folder of this script (the documentation's gallery runs it there, without __file__)
sys.path.insert(0, str(Path(__file__).resolve().parent if "__file__" in globals()
                       else Path.cwd()))
from _common import parse_args, plot_or_skip  # noqa: E402

import fastloss as fl  # noqa: E402

CLASSES = 10
BINS = 40
LOSS_RANGE = (0.0, 8.0)


def _logits_block(block: np.ndarray, block_info: Any = None) -> np.ndarray:
    """A block of logits: a classifier that is right with margin 1.5 about half the
    time, each block from its own seed (any worker regenerates the same block)."""
    k = block_info[None]["chunk-location"][0]
    rng = np.random.default_rng([2024, k])
    logits = rng.normal(size=block.shape).astype(np.float32)
    truth = _labels_of(k, block.shape[0])
    confident = rng.random(block.shape[0]) < 0.5
    logits[np.arange(block.shape[0]), truth] += np.where(confident, 1.5, 0.0).astype(np.float32)
    return logits


def _labels_of(k: int, n: int) -> np.ndarray:
    return np.random.default_rng([7, k]).integers(0, CLASSES, size=n)


def _labels_block(block: np.ndarray, block_info: Any = None) -> np.ndarray:
    return _labels_of(block_info[None]["chunk-location"][0], block.shape[0])


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(__doc__, argv)
    import dask.array as da
    from distributed import Client, LocalCluster, progress

    samples = 200_000 if args.small else 200_000_000
    rows = 20_000 if args.small else 2_000_000  # 80 MB blocks of logits in full mode
    logits = da.zeros((samples, CLASSES), dtype=np.float32, chunks=(rows, CLASSES))
    logits = logits.map_blocks(_logits_block, dtype=np.float32)
    labels = da.zeros(samples, dtype=np.int64, chunks=rows).map_blocks(_labels_block,
                                                                       dtype=np.int64)
    mean_ce = fl.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    per_sample = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(
        labels, logits)
    counts, edges = da.histogram(per_sample, bins=BINS, range=LOSS_RANGE)
    size_gb = samples * CLASSES * 4 / 1e9
    print(f"{samples} samples x {CLASSES} classes, float32: {size_gb:.3g} GB of logits in "
          f"{logits.numblocks[0]} blocks")

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        print(f"dashboard: {client.dashboard_link}")
        start = time.perf_counter()
        futures = client.compute([mean_ce, counts, per_sample.max()])
        progress(futures)  # a text progress bar outside notebooks
        value, hist, worst = client.gather(futures)
        seconds = time.perf_counter() - start
    print()
    total = int(np.sum(hist))
    print(f"mean cross-entropy: {float(value):.6f}  ({seconds:.2f} s on 2 workers)")
    print(f"histogram: {total} of {samples} samples in [{LOSS_RANGE[0]}, {LOSS_RANGE[1]}), "
          f"largest loss {float(worst):.3f}")
    print(f"log({CLASSES}) = {np.log(CLASSES):.6f}: the loss of a classifier that knows nothing")
    if args.small:  # few enough to check in memory
        in_memory = fl.SparseCategoricalCrossentropy(from_logits=True)(
            labels.compute(scheduler="sync"), logits.compute(scheduler="sync"))
        print(f"in memory: {float(in_memory):.6f} (relative difference "
              f"{abs(float(value) - float(in_memory)) / float(in_memory):.1e})")

    def draw(plt: Any) -> Any:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.stairs(hist, edges, fill=True, alpha=0.7)
        ax.axvline(float(value), color="k", ls="--", label=f"mean {float(value):.3f}")
        ax.axvline(np.log(CLASSES), color="r", ls=":", label=f"log {CLASSES}")
        ax.set_xlabel("per-sample cross-entropy")
        ax.set_ylabel("samples")
        ax.set_title(f"{samples:,} samples, evaluated with Dask + fastloss")
        ax.legend()
        fig.tight_layout()
        return fig

    plot_or_skip(draw, args.out, "dask_huge_eval.png")


if __name__ == "__main__":
    main()

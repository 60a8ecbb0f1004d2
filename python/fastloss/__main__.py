"""`python -m fastloss`: every loss's fused forward+backward throughput on 10^6
elements, and its speed-up over the NumPy baseline on the same inputs."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable

import numpy as np

import fastloss as fl
from fastloss._numpy_baseline import BASELINES, CLASS_AXIS_BASELINES


def _best_time(fn: Callable[[], Any], repeats: int) -> float:
    """Median of `repeats` timings (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _inputs(name: str, n: int, dtype: Any, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    binary = ("Crossentropy", "Hinge", "Exponential", "ZeroOne")
    if any(k in name for k in binary):
        t = rng.integers(0, 2, size=n).astype(dtype)
        p = (rng.normal(0, 2, size=n) if "logits" in name or "Hinge" in name
             or "Exponential" in name else rng.uniform(0.01, 0.99, size=n)).astype(dtype)
    elif name in ("Poisson", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError"):
        t = rng.uniform(0.5, 3, size=n).astype(dtype)
        p = rng.uniform(0.5, 3, size=n).astype(dtype)
    else:
        t = rng.normal(size=n).astype(dtype)
        p = rng.normal(size=n).astype(dtype)
    return t.reshape(-1, 1000), p.reshape(-1, 1000)


def _loss_for(name: str) -> fl.Loss:
    if name == "BinaryCrossentropy(logits)":
        return fl.BinaryCrossentropy(from_logits=True)
    if name == "AsymmetricLinear":
        return fl.AsymmetricLinear(1.0, 99.0)
    return getattr(fl, name)()


def _class_axis_case(name: str, n: int, dtype: Any,
                     rng: np.random.Generator) -> tuple[fl.Loss, np.ndarray, np.ndarray]:
    """(loss, target, prediction) over rows of 1000 classes."""
    rows, classes = n // 1000, 1000
    if name.startswith("SparseCategorical"):
        labels = rng.integers(0, classes, size=rows)
        return (fl.SparseCategoricalCrossentropy(from_logits=True), labels,
                rng.normal(0, 2, size=(rows, classes)).astype(dtype))
    one_hot = np.eye(classes, dtype=dtype)[rng.integers(0, classes, size=rows)]
    if name.startswith("CategoricalCrossentropy"):
        return (fl.CategoricalCrossentropy(from_logits=True), one_hot,
                rng.normal(0, 2, size=(rows, classes)).astype(dtype))
    if name == "KLDivergence":
        p = rng.dirichlet(np.ones(classes), size=rows).astype(dtype)
        t = rng.dirichlet(np.ones(classes), size=rows).astype(dtype)
        return fl.KLDivergence(), t, p
    if name == "CategoricalHinge":
        return fl.CategoricalHinge(), one_hot, rng.normal(size=(rows, classes)).astype(dtype)
    return (fl.CosineSimilarity(), rng.normal(size=(rows, classes)).astype(dtype),
            rng.normal(size=(rows, classes)).astype(dtype))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "bench":  # the benchmark harness of issue #5
        from fastloss._bench import main as bench_main

        return bench_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m fastloss", description=__doc__)
    parser.add_argument("-n", type=int, default=1_000_000, help="elements per input")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    if args.n < 1000 or args.n % 1000:
        parser.error("-n must be a positive multiple of 1000")
    info = fl.build_info()
    print(f"fastloss {info['version']}  ({info['compiler']}, SIMD {info['simd']}, "
          f"OpenMP {'on' if info['openmp'] else 'off'}, {info['threads']} threads)")
    print(f"fused forward+backward on {args.n:,} {args.dtype} elements "
          f"(rows of 1000), median of {args.repeats}\n")
    header = f"{'loss':30s} {'fastloss':>10s} {'Melem/s':>9s} {'NumPy':>10s} {'speed-up':>9s}"
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for name, baseline in BASELINES.items():
        t, p = _inputs(name, args.n, np.dtype(args.dtype), rng)
        loss = _loss_for(name)
        out = np.empty_like(p)
        ours = _best_time(lambda: loss.forward_backward(t, p, out=out), args.repeats)  # noqa: B023
        theirs = _best_time(lambda: baseline(t, p), max(3, args.repeats // 2))  # noqa: B023
        print(f"{name:30s} {ours * 1e3:8.2f}ms {args.n / ours / 1e6:9.0f} "
              f"{theirs * 1e3:8.2f}ms {theirs / ours:8.1f}x")
    print(f"\nclass-axis losses: rows of 1000 classes ({args.n // 1000} rows)")
    for name, baseline in CLASS_AXIS_BASELINES.items():
        loss, t, p = _class_axis_case(name, args.n, np.dtype(args.dtype), rng)
        out = np.empty_like(p)
        ours = _best_time(lambda: loss.forward_backward(t, p, out=out), args.repeats)  # noqa: B023
        theirs = _best_time(lambda: baseline(t, p.copy()), max(3, args.repeats // 2))  # noqa: B023
        label = name.replace("SparseCategoricalCrossentropy", "SparseCCE")
        print(f"{label:30s} {ours * 1e3:8.2f}ms {args.n / ours / 1e6:9.0f} "
              f"{theirs * 1e3:8.2f}ms {theirs / ours:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

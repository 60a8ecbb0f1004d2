"""`python -m fastloss`: the fused forward+backward throughput of every loss on 10^6
elements (rows of 1000), and for a few of them the speed-up over the same loss written
in NumPy, on the same inputs.

The benchmark harness (the bandwidth floor, PyTorch, scikit-learn, RESULTS.md) is not part
of the installed package: run `python benchmarks/bench.py` from a checkout of the source
(`python -m fastloss bench` says so)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Callable

import numpy as np

import fastloss as fl
from fastloss import _declared

#: Every declared elementwise loss, in registry order (a new loss shows up here
#: by itself), and "<Class>(logits)" for those with a from_logits kernel
#: ("<Class>(log_input)" for a flag of that declared name); the declared domain
#: says which inputs each one gets.
_DOMAINS: dict[str, str] = {}
for _info in _declared.DECLARED.values():
    _DOMAINS[_info["cls"]] = _info["domain"]
    if _info["from_logits"]:
        _flag = _declared.flag_name(_info)
        _DOMAINS[f"{_info['cls']}({'logits' if _flag == 'from_logits' else _flag})"] = "logits"
_LOSSES = tuple(_DOMAINS)
_CLASS_AXIS_LOSSES = (
    "CategoricalCrossentropy(logits)", "SparseCategoricalCrossentropy(logits)", "KLDivergence",
    "CosineSimilarity", "CategoricalHinge",
)

NumPyLoss = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def _numpy_sparse_ce(labels: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    rows = np.arange(z.shape[0])
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    g = e / s
    g[rows, labels] -= 1
    return float(np.mean(np.log(s[:, 0]) + m[:, 0] - z[rows, labels])), g / z.shape[0]


# What a NumPy user writes for forward + backward (mean loss, gradient of the mean), for
# a few losses: the demo's comparison. The benchmark harness has the full set.
_NUMPY: dict[str, NumPyLoss] = {
    "MeanSquaredError": lambda t, p: (float(np.mean((p - t) ** 2)), 2 * (p - t) / p.size),
    "Huber": lambda t, p: (lambda e: (
        float(np.mean(np.where(np.abs(e) <= 1, 0.5 * e * e, np.abs(e) - 0.5))),
        np.clip(e, -1, 1) / p.size))(p - t),
    "LogCosh": lambda t, p: (lambda e: (float(np.mean(np.logaddexp(e, -e) - np.log(2))),
                                        np.tanh(e) / p.size))(p - t),
    "BinaryCrossentropy(logits)": lambda t, z: (
        float(np.mean(np.logaddexp(0, z) - t * z)), (0.5 + 0.5 * np.tanh(0.5 * z) - t) / z.size),
    "SparseCategoricalCrossentropy(logits)": _numpy_sparse_ce,
}


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
    domain = _DOMAINS[name]
    if domain in ("probability", "logits", "signed", "binary"):
        t = rng.integers(0, 2, size=n).astype(dtype)  # 0/1 (Keras maps them to -1/+1 for hinge)
        p = (rng.normal(0, 2, size=n) if domain in ("logits", "signed")
             else rng.uniform(0.01, 0.99, size=n)).astype(dtype)
    elif domain == "positive" or name == "MeanAbsolutePercentageError":
        t = rng.uniform(0.5, 3, size=n).astype(dtype)
        p = rng.uniform(0.5, 3, size=n).astype(dtype)
    else:
        t = rng.normal(size=n).astype(dtype)
        p = rng.normal(size=n).astype(dtype)
    return t.reshape(-1, 1000), p.reshape(-1, 1000)


def _loss_for(name: str) -> fl.Loss:
    if name.endswith(")"):  # "<Class>(logits)": from_logits=True; "<Class>(log_input)"
        cls, _, flag = name[:-1].partition("(")
        return getattr(fl, cls)(**{"from_logits" if flag == "logits" else flag: True})
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


def _row(label: str, n: int, ours: float, baseline: NumPyLoss | None,
         t: np.ndarray, p: np.ndarray, repeats: int) -> str:
    line = f"{label:32s} {ours * 1e3:8.2f}ms {n / ours / 1e6:9.0f}"
    if baseline is None:
        return line + f" {'-':>10s} {'-':>9s}"
    theirs = _best_time(lambda: baseline(t, p), max(3, repeats // 2))
    return line + f" {theirs * 1e3:8.2f}ms {theirs / ours:8.1f}x"


_BENCH_HELP = """\
The benchmark harness (the bandwidth floor, NumPy, PyTorch and scikit-learn, the speed
targets, benchmarks/RESULTS.md) is not part of the installed package. From a checkout
of the fastloss source, run:

    python benchmarks/bench.py --quick     # about a minute
    python benchmarks/bench.py --help      # sizes, dtypes, threads, peers, output folder

It measures whichever fastloss `import fastloss` finds (this one: {where})."""


def _bench(argv: list[str]) -> int:
    """`python -m fastloss bench`: says where the harness is (it is not installed)."""
    asked = bool(argv) and argv[0] in ("-h", "--help")
    print(_BENCH_HELP.format(where=fl.__file__), file=sys.stdout if asked else sys.stderr)
    return 0 if asked else 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fastloss",
        usage="python -m fastloss [-h] [-n N] [--dtype {float32,float64}] [--repeats R]\n"
              "       python -m fastloss bench",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n  bench                 how to run the benchmark harness from a "
               "checkout\n                        (it is not part of the installed package)")
    parser.add_argument("-n", type=int, default=1_000_000, metavar="N",
                        help="elements per input, a positive multiple of 1000 "
                             "(default: %(default)s)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="the inputs' dtype; fastloss computes in it natively "
                             "(default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=7, metavar="R",
                        help="timed calls per loss after one warm-up call, median reported; "
                             "NumPy gets max(3, R // 2) (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "bench":
        return _bench(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.n < 1000 or args.n % 1000:
        parser.error("-n must be a positive multiple of 1000")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    info = fl.build_info()
    threads = int(info["threads"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"fastloss {info['version']}  ({info['compiler']}, SIMD {info['simd']}, "
          f"{threads} thread{'' if threads == 1 else 's'}, machine load {load:.2f} "
          f"on {os.cpu_count()} CPUs)")
    print(f"fused forward+backward on {args.n:,} {args.dtype} elements "
          f"(rows of 1000), median of {args.repeats}")
    print("NumPy: the same loss written by hand in NumPy, for a few of them\n")
    header = f"{'loss':32s} {'fastloss':>10s} {'Melem/s':>9s} {'NumPy':>10s} {'speed-up':>9s}"
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    dtype = np.dtype(args.dtype)
    for name in _LOSSES:
        t, p = _inputs(name, args.n, dtype, rng)
        loss = _loss_for(name)
        out = np.empty_like(p)
        ours = _best_time(lambda: loss.forward_backward(t, p, out=out), args.repeats)  # noqa: B023
        print(_row(name, args.n, ours, _NUMPY.get(name), t, p, args.repeats))
    print(f"\nclass-axis losses: rows of 1000 classes ({args.n // 1000} rows)")
    for name in _CLASS_AXIS_LOSSES:
        loss, t, p = _class_axis_case(name, args.n, dtype, rng)
        out = np.empty_like(p)
        ours = _best_time(lambda: loss.forward_backward(t, p, out=out), args.repeats)  # noqa: B023
        label = name.replace("SparseCategoricalCrossentropy", "SparseCCE")
        print(_row(label, args.n, ours, _NUMPY.get(name), t, p, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())

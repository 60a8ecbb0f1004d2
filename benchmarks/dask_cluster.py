"""fastloss on Dask arrays on a local cluster, against the same losses written in Dask's
own array expressions and against fastloss on the same data in memory (issue 19).

    python benchmarks/dask_cluster.py [--n 400000000] [--chunk 16777216] [--workers 2]

The inputs are generated and persisted on the workers first, so each timing is the
loss alone: the median of ``--runs`` computations of the reduced value (MSE, and BCE
on logits) on float32 arrays of ``--n`` elements. Needs ``fastloss[dask]``. Not a
test: it prints a table and asserts nothing. (Not named dask.py: the script's folder
comes first on sys.path and would shadow the dask package.)
"""

from __future__ import annotations

import argparse
import functools
import logging
import statistics
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np

import fastloss as fl


def _compute(fn: Callable[..., Any], *inputs: Any) -> Any:
    return fn(*inputs).compute()


def _median_seconds(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--n", type=float, default=4e8, help="elements per array")
    parser.add_argument("--chunk", type=int, default=2**24, help="elements per block")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the in-memory comparison (it gathers both arrays)")
    args = parser.parse_args(argv)
    import dask.array as da
    from distributed import Client, LocalCluster

    n = int(args.n)
    rows = []
    with LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        rng = da.random.default_rng(0)
        y_pred = rng.standard_normal(n, dtype=np.float32, chunks=args.chunk)
        y_true = (rng.random(n, dtype=np.float32, chunks=args.chunk) < 0.3).astype(np.float32)
        y_pred, y_true = client.persist([y_pred, y_true])
        client.wait_for_workers(args.workers)
        cases = [
            ("MSE", fl.MeanSquaredError(), lambda t, p: ((p - t) ** 2).mean()),
            ("BCE-logits", fl.BinaryCrossentropy(from_logits=True),
             lambda t, z: (da.maximum(z, 0) - z * t + da.log1p(da.exp(-abs(z)))).mean()),
        ]
        in_memory = None if args.no_memory else (y_true.compute(), y_pred.compute())
        for name, loss, expression in cases:
            # y_true, y_pred 1-D: one sample, whose mean runs over every block
            _compute(loss, y_true, y_pred)  # the workers import fastloss once
            ours = _median_seconds(functools.partial(_compute, loss, y_true, y_pred), args.runs)
            theirs = _median_seconds(functools.partial(_compute, expression, y_true, y_pred),
                                     args.runs)
            memory = (_median_seconds(functools.partial(loss, *in_memory), args.runs)
                      if in_memory is not None else float("nan"))
            value = float(loss(y_true, y_pred).compute())
            check = float(expression(y_true, y_pred).compute())
            rows.append((name, ours, theirs, memory, abs(value - check) / abs(check)))
    print(f"{n:,} float32 elements, {args.workers} workers x {args.threads} thread(s), "
          f"blocks of {args.chunk:,}; median of {args.runs}\n")
    print("| loss | fastloss on Dask | Dask expressions | speed-up | fastloss in memory "
          "| Dask / in memory | rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for name, ours, theirs, memory, diff in rows:
        print(f"| {name} | {ours:.3f} s | {theirs:.3f} s | {theirs / ours:.1f}x | "
              f"{memory:.3f} s | {ours / memory:.2f}x | {diff:.1e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""fastloss on Dask arrays on a local cluster, against the same losses written in Dask's
own array expressions and against fastloss on the same data in memory.

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
from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np
from timing import median_call

import fastloss as fl


def _compute(fn: Callable[..., Any], *inputs: Any) -> Any:
    return fn(*inputs).compute()


def dask_table(n: int = 4 * 10**8, chunk: int = 2**24, workers: int = 2, threads: int = 1,
               runs: int = 3, in_memory: bool = True,
               ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds); a line instead when Dask is absent."""
    try:
        import dask.array as da
        from distributed import Client, LocalCluster
    except ImportError:
        return ["Dask is not installed: no Dask table (pip install \".[dask]\").", ""], []
    rows = []
    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        rng = da.random.default_rng(0)
        y_pred = rng.standard_normal(n, dtype=np.float32, chunks=chunk)
        y_true = (rng.random(n, dtype=np.float32, chunks=chunk) < 0.3).astype(np.float32)
        y_pred, y_true = client.persist([y_pred, y_true])
        client.wait_for_workers(workers)
        cases = [
            ("MSE", fl.MeanSquaredError(), lambda t, p: ((p - t) ** 2).mean()),
            ("BCE-logits", fl.BinaryCrossentropy(from_logits=True),
             lambda t, z: (da.maximum(z, 0) - z * t + da.log1p(da.exp(-abs(z)))).mean()),
        ]
        local = (y_true.compute(), y_pred.compute()) if in_memory else None
        for name, loss, expression in cases:
            # y_true, y_pred 1-D: one sample, whose mean runs over every block
            _compute(loss, y_true, y_pred)  # the workers import fastloss once
            # no warm-up calls: each one computes the whole array
            ours = median_call(functools.partial(_compute, loss, y_true, y_pred), runs,
                               warm=False)
            theirs = median_call(functools.partial(_compute, expression, y_true, y_pred),
                                 runs, warm=False)
            memory = (median_call(functools.partial(loss, *local), runs, warm=False)
                      if local is not None else float("nan"))
            value = float(loss(y_true, y_pred).compute())
            check = float(expression(y_true, y_pred).compute())
            rows.append((name, ours, theirs, memory, abs(value - check) / abs(check)))
    lines = [f"{n:,} float32 elements persisted on a local cluster of {workers} process "
             f"workers x {threads} thread(s), blocks of {chunk:,}; median of {runs}; targets: "
             "≥ 3× (MSE) and ≥ 8× (BCE-logits) faster than the same loss in Dask's own "
             "expressions, within 1.5× of fastloss on the same data in memory.", "",
             "| loss | fastloss on Dask | Dask expressions | speed-up | fastloss in memory "
             "| Dask / in memory | rel. diff |", "|---|---:|---:|---:|---:|---:|---:|"]
    raw: list[dict[str, Any]] = []
    for name, ours, theirs, memory, diff in rows:
        lines.append(f"| {name} | {ours:.3f} s | {theirs:.3f} s | {theirs / ours:.1f}× | "
                     f"{memory:.3f} s | {ours / memory:.2f}× | {diff:.1e} |")
        raw.append({"case": f"dask {name}", "fastloss": ours, "dask": theirs,
                    "in_memory": memory})
        print(f"  dask {name:12s} fastloss {ours:7.3f} s  expressions {theirs:7.3f} s  "
              f"in memory {memory:7.3f} s")
    return lines, raw


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
    lines, _ = dask_table(int(args.n), args.chunk, args.workers, args.threads, args.runs,
                          not args.no_memory)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

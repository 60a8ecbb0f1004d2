"""Cross-entropy on a linear head, forward + backward (the three gradients),
float32: fastloss's LinearCrossentropy (chunked, no (N, V) logits) against
PyTorch on the CPU -- the expression people write (``hidden @ weight.T + bias``,
``F.cross_entropy``, ``backward``) and, where this PyTorch has it,
``torch.nn.functional.linear_cross_entropy`` with its chunked options
(``nn.LinearCrossEntropyLoss``'s path).

Each implementation runs in a child process per case. Extra memory is the peak
resident set during the first call minus the resident set once the inputs
exist, minus the outputs (the value and the three gradients, which every
implementation returns): what the computation itself adds. On Linux the peak
is reset to the current size before the call (/proc/self/clear_refs), since
the imports' transient peak can be higher than the call's; elsewhere it is
ru_maxrss. Run alone: ``python benchmarks/linear_ce.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from timing import PEAK_RSS_PRELUDE

_CHILD = r"""
import json, os, resource, sys, time
import numpy as np
impl = sys.argv[1]
N, H, V, threads, runs = (int(a) for a in sys.argv[2:7])
rng = np.random.default_rng(0)
hidden = rng.standard_normal((N, H), dtype=np.float32)
weight = (rng.standard_normal((V, H), dtype=np.float32) / np.float32(H ** 0.5))
bias = rng.standard_normal(V, dtype=np.float32)
labels = rng.integers(0, V, N)
labels[::17] = -100
if impl == "fastloss":
    import fastloss as fl
    from threadpoolctl import threadpool_limits
    import scipy.linalg.cython_blas  # the BLAS the products run on, loaded before the limit
    fl.set_num_threads(threads)
    limit = threadpool_limits(threads)
    loss = fl.LinearCrossentropy()
    def call():
        value, grads = loss.forward_backward(labels, hidden, weight, bias)
        return float(value), grads
else:
    import torch
    torch.set_num_threads(threads)
    F = torch.nn.functional
    lab = torch.from_numpy(labels)
    if impl == "torch_chunked":
        options = torch.nn.LinearCrossEntropyOptions()
    def call():
        h = torch.from_numpy(hidden).requires_grad_(True)
        w = torch.from_numpy(weight).requires_grad_(True)
        b = torch.from_numpy(bias).requires_grad_(True)
        if impl == "torch_chunked":
            value = F.linear_cross_entropy(h, w, lab, linear_bias=b, ignore_index=-100,
                                           options=options)
        else:
            value = F.cross_entropy(h @ w.T + b, lab, ignore_index=-100)
        value.backward()
        return float(value), (h.grad, w.grad, b.grad)
""" + PEAK_RSS_PRELUDE + r"""
t0 = time.perf_counter()
value, grads = call()
first = time.perf_counter() - t0
peak = peak_of()
outputs_kib = (N * H + V * H + V) * 4 / 1024.0
del grads
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    call()
    times.append(time.perf_counter() - t0)
print(json.dumps({"extra_mib": (peak - base - outputs_kib) / 1024.0, "value": value,
                  "times": times or [first]}))
"""

CASES = ((2048, 512, 32000), (4096, 1024, 128000))


def _child(impl: str, n: int, h: int, v: int, threads: int, runs: int) -> dict[str, Any]:
    env = dict(os.environ)
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(os.path.dirname(here), "python")
    env["PYTHONPATH"] = source + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _CHILD, impl, str(n), str(h), str(v),
                          str(threads), str(runs)], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _alternating(impls: list[str], n: int, h: int, v: int, threads: int, runs: int,
                 rounds: int) -> dict[str, dict[str, Any]]:
    """Each implementation's child `rounds` times, the implementations taking
    turns (a load that comes and goes on a shared machine falls on each of
    them alike): every call's time and the median extra memory, or the first
    error."""
    times: dict[str, list[float]] = {impl: [] for impl in impls}
    extra: dict[str, list[float]] = {impl: [] for impl in impls}
    results: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for impl in impls:
            if "error" in results.get(impl, {}):
                continue
            got = _child(impl, n, h, v, threads, runs)
            if "error" in got:
                results[impl] = got
                continue
            times[impl] += got["times"]
            extra[impl].append(got["extra_mib"])
            results[impl] = {"times": times[impl], "value": got["value"],
                             "extra_mib": statistics.median(extra[impl])}
    return results


def linear_ce_table(cases: tuple[tuple[int, int, int], ...] = CASES, threads: int = 2,
                    runs: int = 3, rounds: int = 1) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw rows (median seconds, extra MiB)."""
    try:
        import torch
        impls = ["torch"]
        if hasattr(torch.nn.functional, "linear_cross_entropy") and hasattr(
                torch.nn, "LinearCrossEntropyOptions"):
            impls.append("torch_chunked")
    except ImportError:
        impls = []
    lines = [f"Cross-entropy on a linear head (hidden (N, H) @ weight (V, H)ᵀ + bias), forward "
             f"+ the three gradients, float32, {threads} threads (fastloss's, which run the "
             f"BLAS calls; PyTorch's), labels with one row in 17 ignored; median of {runs} "
             f"calls after one (runs = 0: the first call's time) in each of {rounds} child "
             "processes per implementation, the implementations taking turns; extra memory "
             "(median over the children) = peak RSS of a "
             "child "
             "process during the first call minus its RSS with the inputs allocated, minus "
             "the outputs (value and gradients). "
             "Targets: time ≤ 1.0× PyTorch's matmul + cross_entropy + backward, extra memory "
             "≤ 1/10 of its. The figures come from a machine shared with other jobs: read "
             "the ratios, not the absolute times.", "",
             "| N, H, V | fastloss | PyTorch expression | time ratio | F.linear_cross_entropy "
             "(chunked) | fastloss extra MiB | PyTorch extra MiB | chunked extra MiB "
             "| rel. diff |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = []
    for n, h, v in cases:
        every = _alternating(["fastloss"] + impls, n, h, v, threads, runs, rounds)
        ours = every["fastloss"]
        if "error" in ours:
            raise RuntimeError(f"LinearCrossentropy failed on N={n} H={h} V={v}: "
                               f"{ours['error']}")
        row: dict[str, Any] = {"case": f"LinearCrossentropy N={n} H={h} V={v}",
                               "threads": threads,
                               "fastloss": statistics.median(ours["times"]),
                               "fastloss_extra_mib": ours["extra_mib"]}
        cells = {}
        for impl in impls:
            theirs = every[impl]
            if "error" in theirs:
                cells[impl] = (f"fails: {theirs['error'][:60]}", "")
                continue
            row[impl] = statistics.median(theirs["times"])
            row[f"{impl}_extra_mib"] = theirs["extra_mib"]
            if impl == "torch":
                row["rel_diff"] = abs(ours["value"] - theirs["value"]) / abs(theirs["value"])
            cells[impl] = (f"{row[impl]:.2f} s", f"{theirs['extra_mib']:.0f}")
        ratio = (f"{row['fastloss'] / row['torch']:.2f}×" if "torch" in row else "")
        torch_cells = cells.get("torch", ("(absent)", ""))
        chunked = cells.get("torch_chunked", ("(absent)", ""))
        diff = f"{row['rel_diff']:.1e}" if "rel_diff" in row else ""
        lines.append(f"| {n}, {h}, {v} | {row['fastloss']:.2f} s | {torch_cells[0]} | {ratio} "
                     f"| {chunked[0]} | {row['fastloss_extra_mib']:.0f} | {torch_cells[1]} "
                     f"| {chunked[1]} | {diff} |")
        rows.append(row)
    return lines + [""], rows


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1,
                        help="child processes per implementation, taking turns")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="the first case only")
    args = parser.parse_args()
    table, _ = linear_ce_table(CASES[:1] if args.small else CASES, args.threads, args.runs,
                               args.rounds)
    print("\n".join(table))

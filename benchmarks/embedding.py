"""NT-Xent forward + backward at a contrastive-learning batch (B = 4096, D = 256,
float32): fastloss's tiled kernel against the PyTorch expression people write
(normalise, one B x B matmul, masked log-sum-exp, backward), time and peak
extra memory, on 1 and 2 threads.

Peak memory is measured in a child process per case: the peak resident set
after one call minus the resident set once the inputs (and, for PyTorch, the
masks) exist, so each figure is what the call itself adds. On Linux the peak
is reset to the current size before the call (/proc/self/clear_refs), since
the imports' transient peak can be higher than the call's; elsewhere it is
ru_maxrss. Run alone: ``python benchmarks/embedding.py``.
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
B, D, threads, runs = (int(a) for a in sys.argv[2:6])
rng = np.random.default_rng(0)
x = rng.standard_normal((B, D), dtype=np.float32)
labels = np.arange(B) // 2
temperature = 0.07
if impl == "fastloss":
    import fastloss as fl
    fl.set_num_threads(threads)
    loss = fl.NTXent(temperature)
    def call():
        value, (grad,) = loss.forward_backward(labels, x)
        return float(value)
else:
    import torch
    torch.set_num_threads(threads)
    lab = torch.from_numpy(labels)
    same = lab[:, None] == lab[None, :]
    pos = same & ~torch.eye(B, dtype=torch.bool)
    neg = ~same
    npos = pos.sum()
    eps = float(np.finfo(np.float32).eps)
    def call():
        xt = torch.from_numpy(x).requires_grad_(True)
        u = xt / torch.sqrt(torch.clamp((xt * xt).sum(1, keepdim=True), min=eps))
        s = u @ u.T / temperature
        neg_lse = torch.logsumexp(s.masked_fill(~neg, float("-inf")), dim=1, keepdim=True)
        terms = torch.logaddexp(neg_lse, s) - s
        value = terms.masked_fill(~pos, 0.0).sum() / npos
        value.backward()
        return float(value)
""" + PEAK_RSS_PRELUDE + r"""
value = call()
peak = peak_of()
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    call()
    times.append(time.perf_counter() - t0)
print(json.dumps({"extra_mib": (peak - base) / 1024.0, "value": value, "times": times}))
"""


def _child(impl: str, batch: int, dim: int, threads: int, runs: int) -> dict[str, Any]:
    env = dict(os.environ)
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(os.path.dirname(here), "python")
    env["PYTHONPATH"] = source + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _CHILD, impl, str(batch), str(dim),
                          str(threads), str(runs)], env=env, capture_output=True, text=True,
                         check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def embedding_table(batch: int = 4096, dim: int = 256, threads: tuple[int, ...] = (1, 2),
                    runs: int = 3) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw rows (median seconds, extra MiB)."""
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    matrix_mib = batch * batch * 4 / 2**20
    lines = [f"NT-Xent (optax's definition, temperature 0.07), forward + backward, B = {batch}, "
             f"D = {dim}, float32, labels of two views per image; median of {runs} calls after "
             "one warm-up; extra memory = peak RSS of a child process during the first call "
             f"minus its RSS with the inputs allocated. Targets: ≥ 2× faster than the PyTorch "
             f"expression, extra memory below the {matrix_mib:.0f} MiB of one B × B float32 "
             "matrix.", "",
             "| threads | fastloss | PyTorch expression | speed-up | fastloss extra MiB "
             "| PyTorch extra MiB | rel. diff |", "|---:|---:|---:|---:|---:|---:|---:|"]
    rows = []
    for n in threads:
        ours = _child("fastloss", batch, dim, n, runs)
        row: dict[str, Any] = {"case": f"NTXent B={batch} D={dim}", "threads": n,
                               "fastloss": statistics.median(ours["times"]),
                               "fastloss_extra_mib": ours["extra_mib"]}
        if have_torch:
            theirs = _child("torch", batch, dim, n, runs)
            row.update(torch=statistics.median(theirs["times"]),
                       torch_extra_mib=theirs["extra_mib"],
                       rel_diff=abs(ours["value"] - theirs["value"]) / abs(theirs["value"]))
            lines.append(f"| {n} | {row['fastloss'] * 1e3:.0f} ms | {row['torch'] * 1e3:.0f} ms "
                         f"| {row['torch'] / row['fastloss']:.2f}× "
                         f"| {row['fastloss_extra_mib']:.1f} | {row['torch_extra_mib']:.1f} "
                         f"| {row['rel_diff']:.1e} |")
        else:
            lines.append(f"| {n} | {row['fastloss'] * 1e3:.0f} ms | (PyTorch absent) | | "
                         f"{row['fastloss_extra_mib']:.1f} | | |")
        rows.append(row)
    return lines + [""], rows


if __name__ == "__main__":
    table, _ = embedding_table()
    print("\n".join(table))

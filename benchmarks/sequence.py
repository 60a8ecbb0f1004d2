"""CTC forward + backward against PyTorch's CPU ctc_loss: `python benchmarks/sequence.py`.

T=200 frames, N=32 sequences, C=64 classes, labels of 30, float32 log-probabilities;
fastloss's forward_backward against PyTorch's ctc_loss forward and backward on a leaf
tensor (reduction "mean" in both), on 1 and 2 threads, median of several runs.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable, Optional

import numpy as np
from timing import median_call

import fastloss as fl


def _case(T: int, N: int, C: int, S: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, C))
    log_probs = (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(np.float32)
    labels = rng.integers(1, C, size=(N, S))
    return labels, log_probs, np.full(N, T), np.full(N, S)


def ctc_table(runs: int = 7, T: int = 200, N: int = 32, C: int = 64, S: int = 30,
              threads: tuple[int, ...] = (1, 2), peers: bool = True,
              ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds); PyTorch's column only with `peers`
    and PyTorch installed."""
    labels, log_probs, input_lengths, label_lengths = _case(T, N, C, S)
    loss = fl.CTC()
    torch: Any = None
    if peers:
        try:
            import torch
            import torch.nn.functional as F
        except ImportError:
            torch = None
    rows: list[dict[str, Any]] = []
    peer: Optional[Callable[[], None]] = None
    theirs = float("nan")
    if torch is not None:
        lp = torch.from_numpy(log_probs)
        tg, il, ll = (torch.from_numpy(a) for a in (labels, input_lengths, label_lengths))

        def peer() -> None:
            leaf = lp.detach().requires_grad_()
            F.ctc_loss(leaf, tg, il, ll, reduction="mean").backward()

        theirs = float(F.ctc_loss(lp, tg, il, ll, reduction="mean"))
    ours_value = float(loss(labels, log_probs, input_lengths, label_lengths))

    def ours_call() -> None:
        loss.forward_backward(labels, log_probs, input_lengths, label_lengths)

    old_torch = torch.get_num_threads() if torch is not None else None
    try:
        for n_threads in threads:
            with fl.num_threads(n_threads):
                ours = median_call(ours_call, runs)
                # on one thread the calling thread's CPU time as well: a figure
                # that other processes on a busy machine do not inflate
                ours_cpu = (median_call(ours_call, runs, time.thread_time)
                            if n_threads == 1 else float("nan"))
            row: dict[str, Any] = {"case": f"CTC fwd+bwd T={T} N={N} C={C} S={S}",
                                   "threads": n_threads, "fastloss": ours,
                                   "fastloss_cpu": ours_cpu}
            if peer is not None:
                torch.set_num_threads(n_threads)
                row["torch"] = median_call(peer, runs)
                row["torch_cpu"] = (median_call(peer, runs, time.thread_time)
                                    if n_threads == 1 else float("nan"))
                row["rel_diff"] = abs(theirs - ours_value) / theirs
            rows.append(row)
    finally:
        if torch is not None and old_torch is not None:
            torch.set_num_threads(old_torch)
    lines = [f"CTC forward + backward, float32 log-probabilities (T={T}, N={N}, C={C}, labels "
             f"of {S}), reduction PyTorch's \"mean\"; median of {runs}; target: ≥ 3× faster "
             "than PyTorch's CPU `ctc_loss` forward + backward.", "",
             "| threads | clock | fastloss | PyTorch | speed-up | rel. diff of the loss |",
             "|---:|---|---:|---:|---:|---:|"]
    for row in rows:
        clocks = [("wall", "")] + ([("CPU", "_cpu")] if row["threads"] == 1 else [])
        for clock, key in clocks:
            ours_s = row["fastloss" + key]
            if "torch" in row:
                theirs_s = row["torch" + key]
                lines.append(f"| {row['threads']} | {clock} | {ours_s * 1e3:.2f} ms | "
                             f"{theirs_s * 1e3:.2f} ms | {theirs_s / ours_s:.1f}× | "
                             f"{row['rel_diff']:.1e} |")
            else:
                lines.append(f"| {row['threads']} | {clock} | {ours_s * 1e3:.2f} ms | "
                             "(not measured) | | |")
    return lines + [""], rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    lines, _ = ctc_table(args.runs)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

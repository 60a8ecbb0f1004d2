"""The adaptive softmax, forward + backward (every gradient), float32:
fastloss's AdaptiveLogSoftmax against PyTorch's nn.AdaptiveLogSoftmaxWithLoss
(its forward, ``loss.backward()``) on the CPU, with the same weights, the two
timed alternately in one process on the same number of threads. Run alone:
``python benchmarks/adaptive_softmax.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from timing import median_call, paired_medians

#: (N, H, V, cutoffs): a language-model batch over a 32000-word vocabulary.
CASES = ((4096, 512, 32000, (2000, 10000)),)


def _case(n: int, h: int, v: int, cutoffs: tuple[int, ...], kind: str, threads: int,
          runs: int) -> dict[str, Any]:
    """One case's median seconds of each, the relative difference of the values."""
    import torch

    import fastloss as fl

    torch.manual_seed(0)
    model = torch.nn.AdaptiveLogSoftmaxWithLoss(h, v, list(cutoffs), div_value=4.0)
    rng = np.random.default_rng(0)
    hidden = rng.standard_normal((n, h), dtype=np.float32)
    # Zipf-like labels, as words are (most rows in the shortlist), or uniform
    labels = (np.minimum(rng.zipf(1.2, n) - 1, v - 1) if kind == "zipf"
              else rng.integers(0, v, n)).astype(np.int64)
    head = model.head.weight.detach().numpy()
    clusters: Any = model.tail  # a ModuleList of (projection, output) Sequentials
    tail = [(c[0].weight.detach().numpy(), c[1].weight.detach().numpy()) for c in clusters]
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=4.0)
    x, y = torch.from_numpy(hidden), torch.from_numpy(labels)
    result: dict[str, float] = {}

    def ours() -> None:
        value, _ = loss.forward_backward(labels, hidden, head, tail)
        result["ours"] = float(value)

    def theirs() -> None:
        model.zero_grad(set_to_none=True)
        out = model(x.clone().requires_grad_(True), y)
        out.loss.backward()
        result["theirs"] = float(out.loss.detach())

    t_ours, t_theirs = paired_medians(ours, theirs, runs)
    import fastloss.torch as flt

    drop_in = flt.AdaptiveLogSoftmaxWithLoss(h, v, list(cutoffs), div_value=4.0)
    drop_in.load_state_dict(model.state_dict())

    def module() -> None:
        drop_in.zero_grad(set_to_none=True)
        drop_in(x.clone().requires_grad_(True), y).loss.backward()

    t_module = median_call(module, runs)
    return {"case": f"AdaptiveLogSoftmax N={n} H={h} V={v} {kind}", "threads": threads,
            "fastloss": t_ours, "torch": t_theirs, "fastloss_torch_module": t_module,
            "rel_diff": abs(result["ours"] - result["theirs"]) / abs(result["theirs"]),
            "shortlist_share": float(np.mean(labels < cutoffs[0]))}


def adaptive_softmax_table(cases: tuple[tuple[int, int, int, tuple[int, ...]], ...] = CASES,
                           threads: int = 2, runs: int = 5
                           ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw rows (median seconds) of fastloss against PyTorch."""
    try:
        import torch
    except ImportError:
        return ["The adaptive softmax: PyTorch is absent, nothing to compare with.", ""], []
    from threadpoolctl import threadpool_limits

    import fastloss as fl

    lines = [f"The adaptive softmax (Grave et al.): forward + every gradient (hidden, head, "
             f"each cluster's projection and output weight), float32, div_value 4, no head "
             f"bias, {threads} threads (fastloss's and its BLAS's; PyTorch's), median of "
             f"{runs} alternating calls after a warm-up. The figures come from a machine "
             "shared with other jobs: read the ratios, not the absolute times.", "",
             "The drop-in module is fastloss.torch.AdaptiveLogSoftmaxWithLoss (PyTorch's "
             "constructor and state dict), forward + loss.backward().", "",
             "| N, H, V, cutoffs | labels | fastloss | PyTorch | PyTorch / fastloss "
             "| drop-in module | rel. diff |", "|---|---|---:|---:|---:|---:|---:|"]
    rows = []
    torch.set_num_threads(threads)
    fl.set_num_threads(threads)
    with threadpool_limits(threads):
        for n, h, v, cutoffs in cases:
            for kind in ("zipf", "uniform"):
                row = _case(n, h, v, cutoffs, kind, threads, runs)
                lines.append(f"| {n}, {h}, {v}, {list(cutoffs)} | {kind} "
                             f"({row['shortlist_share']:.0%} shortlist) "
                             f"| {row['fastloss'] * 1e3:.0f} ms | {row['torch'] * 1e3:.0f} ms "
                             f"| {row['torch'] / row['fastloss']:.2f}× "
                             f"| {row['fastloss_torch_module'] * 1e3:.0f} ms "
                             f"| {row['rel_diff']:.1e} |")
                rows.append(row)
    return lines + [""], rows


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    table, raw = adaptive_softmax_table(CASES, args.threads, args.runs)
    print("\n".join(table))
    for row in raw:
        print(row)

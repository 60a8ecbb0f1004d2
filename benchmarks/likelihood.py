"""The declared multi-input likelihood losses: `python benchmarks/likelihood.py`.

GaussianNLL's forward + backward on (4096, 256) float32 inputs against PyTorch's
gaussian_nll_loss forward and backward (mean and variance leaves, reduction "mean");
RMSEWithUncertainty's forward + backward on 10^6 float64 objects against the same
value and gradients in NumPy; SurvivalAft's gradient and Hessian (the boosting
objective's call) on 10^6 float64 interval-censored times, per distribution. On 1
and 2 threads, median of several runs. Not a test: it prints a table.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Optional

import numpy as np
from timing import median_call

import fastloss as fl


def _torch_gaussian(y: np.ndarray, mean: np.ndarray,
                    var: np.ndarray) -> Optional[Callable[[], None]]:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    ty, tm, tv = (torch.from_numpy(a) for a in (y, mean, var))

    def call() -> None:
        m = tm.detach().requires_grad_()
        v = tv.detach().requires_grad_()
        F.gaussian_nll_loss(m, ty, v, reduction="mean").backward()

    return call


def _numpy_uncertainty(y: np.ndarray, m: np.ndarray, s: np.ndarray) -> Callable[[], None]:
    def call() -> None:
        r = m - y
        w = np.exp(-2 * s)
        rw = r * w
        float(np.mean(0.5 * np.log(2 * np.pi) + s + 0.5 * r * rw))
        _ = rw / y.size, (1 - r * rw) / y.size

    return call


def likelihood_table(runs: int = 7, threads: tuple[int, ...] = (1, 2),
                     ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds)."""
    rng = np.random.default_rng(0)
    y, mean = (rng.normal(size=(4096, 256)).astype(np.float32) for _ in range(2))
    var = rng.uniform(0.2, 2.0, size=(4096, 256)).astype(np.float32)
    n = 10**6
    t = np.exp(rng.normal(0, 0.3, n))
    kind = rng.integers(0, 4, n)
    lower = np.where(kind == 2, 0.0, t)
    upper = np.select([kind == 0, kind == 1, kind == 2], [t, np.inf, t], 2 * t)
    z = rng.normal(0, 0.5, n)
    ys, ms, ss = (rng.normal(size=n) for _ in range(3))
    cases: list[tuple[str, Callable[[], Any], Optional[Callable[[], None]], str]] = [
        ("GaussianNLL forward_backward, 4096x256 float32",
         lambda: fl.GaussianNLL().forward_backward(y, mean, var),
         _torch_gaussian(y, mean, var), "PyTorch gaussian_nll_loss"),
        ("RMSEWithUncertainty forward_backward, 10^6 float64",
         lambda: fl.RMSEWithUncertainty().forward_backward(ys, ms, ss),
         _numpy_uncertainty(ys, ms, ss), "NumPy"),
    ]
    def survival(dist: str) -> Callable[[], Any]:
        loss = fl.SurvivalAft(distribution=dist)
        return lambda: loss.gradient_hessian(lower, upper, z)

    for dist in ("normal", "logistic", "extreme"):
        cases.append((f"SurvivalAft({dist!r}) gradient_hessian, 10^6 float64", survival(dist),
                      None, ""))
    lines = ["| loss, call | threads | fastloss (ms) | peer | peer (ms) |",
             "|---|---|---|---|---|"]
    rows: list[dict[str, Any]] = []
    for label, ours, peer, peer_name in cases:
        theirs = median_call(peer, runs) if peer is not None else float("nan")
        for k in threads:
            with fl.num_threads(k):
                t_ours = median_call(ours, runs)
            rows.append({"case": label, "threads": k, "fastloss_s": t_ours, "peer_s": theirs})
            peer_cell = f"{1e3 * theirs:.2f}" if peer is not None else "—"
            lines.append(f"| {label} | {k} | {1e3 * t_ours:.2f} | {peer_name or '—'} | "
                         f"{peer_cell} |")
    return lines + [""], rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("\n".join(likelihood_table(runs=args.runs)[0]))

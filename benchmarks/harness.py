"""The benchmark harness, run from a checkout: `python benchmarks/bench.py`.

It is not part of the installed package: it measures the installed (or PYTHONPATH)
fastloss through its public API only. Fused forward+backward of the main loss families,
against (same process, same inputs): the bandwidth floor (see `_floor_call`), the NumPy
baseline (numpy_baseline.py, next to this file), PyTorch CPU (forward + autograd
backward) and scikit-learn's loss module (`loss_gradient`), each skipped with a note when
absent. Writes RESULTS.md (medians, ratios, the issue's targets), results.json and, when
matplotlib is installed, throughput.png, next to this file unless --out-dir says otherwise.

Timings are medians of `--runs` runs (time.perf_counter) after warm-up; calls shorter than
about 2 ms are repeated inside a run and the per-call time is reported. Nothing here
asserts a timing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
from adaptive_softmax import adaptive_softmax_table
from boosting import boosting_table
from busy import busy_table
from dask_cluster import dask_table
from embedding import embedding_table
from extras import extras_table
from frameworks import frameworks_table
from likelihood import likelihood_table
from linear_ce import linear_ce_table
from numpy_baseline import BASELINES, sparse_ce_logits
from ranking import ranking_table
from segmentation import segmentation_table
from sequence import ctc_table

import fastloss as fl

HERE = Path(__file__).resolve().parent
_EPS = 1e-7
_TINY = 64
_THREAD_THRESHOLD = 32768  # fastloss runs inputs under this many elements on one thread
_CALL_TARGET_S = 2e-3  # a run of a short call repeats it until it lasts about this long
# "arithmetic alone": the same call on a slice of about this many elements (whole rows),
# which stays in the caches between calls (4 MB per float32 array, in the L3) and is long
# enough that the per-call overhead is a few percent; timed and scaled to the full size
_RESIDENT_ELEMENTS = 1 << 20


# --------------------------------------------------------------------------- peers


def _try_torch() -> Any:
    try:
        import torch
    except Exception:  # any import failure means absent
        return None
    return torch


def _try_sklearn_loss() -> Any:
    try:
        from sklearn._loss import loss as sk_loss
    except Exception:
        return None
    return sk_loss


# --------------------------------------------------------------------------- families


@dataclass
class Family:
    name: str  # label used in the tables
    make: Callable[[], Any]  # the fastloss loss object
    kind: str  # input generator: real | logits | positive | prob
    numpy: Optional[Callable[[np.ndarray, np.ndarray], Any]]
    torch_fn: Optional[Callable[..., Any]]  # (F, torch, x, t) -> scalar loss
    sklearn: Optional[tuple[str, dict[str, Any], Optional[Callable[[np.ndarray], np.ndarray]]]]
    sklearn_note: str = ""


def _torch_logcosh(F: Any, torch: Any, x: Any, t: Any) -> Any:
    e = x - t
    return (e + F.softplus(-2.0 * e) - math.log(2.0)).mean()


def _torch_focal(F: Any, torch: Any, x: Any, t: Any, gamma: float = 2.0) -> Any:
    pc = torch.clamp(x, _EPS, 1 - _EPS)
    bce = -(t * torch.log(pc) + (1 - t) * torch.log(1 - pc))
    p_t = t * x + (1 - t) * (1 - x)
    return ((1 - p_t) ** gamma * bce).mean()


FAMILIES: list[Family] = [
    Family("MSE", fl.MeanSquaredError, "real", BASELINES["MeanSquaredError"],
           lambda F, torch, x, t: F.mse_loss(x, t),
           ("HalfSquaredError", {}, None)),
    Family("BCE-with-logits", lambda: fl.BinaryCrossentropy(from_logits=True), "logits",
           BASELINES["BinaryCrossentropy(logits)"],
           lambda F, torch, x, t: F.binary_cross_entropy_with_logits(x, t),
           ("HalfBinomialLoss", {}, None)),
    Family("LogCosh", fl.LogCosh, "real", BASELINES["LogCosh"], _torch_logcosh, None,
           "scikit-learn has no log-cosh loss"),
    Family("Poisson", fl.Poisson, "positive", BASELINES["Poisson"],
           lambda F, torch, x, t: F.poisson_nll_loss(x, t, log_input=False),
           ("HalfPoissonLoss", {}, np.log)),
    Family("BinaryFocal", fl.BinaryFocalCrossentropy, "prob", BASELINES["BinaryFocalCrossentropy"],
           _torch_focal, None, "scikit-learn has no focal loss"),
    Family("Huber", fl.Huber, "real", BASELINES["Huber"],
           lambda F, torch, x, t: F.huber_loss(x, t, delta=1.0),
           ("HuberLoss", {"delta": 1.0}, None)),
]


def _elementwise_inputs(kind: str, n: int, dtype: np.dtype,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "logits":
        t = rng.integers(0, 2, size=n).astype(dtype)
        p = rng.normal(0, 2, size=n).astype(dtype)
    elif kind == "prob":
        t = rng.integers(0, 2, size=n).astype(dtype)
        p = rng.uniform(0.01, 0.99, size=n).astype(dtype)
    elif kind == "positive":
        t = rng.uniform(0.5, 3, size=n).astype(dtype)
        p = rng.uniform(0.5, 3, size=n).astype(dtype)
    else:
        t = rng.normal(size=n).astype(dtype)
        p = rng.normal(size=n).astype(dtype)
    cols = min(n, 1000) if n % min(n, 1000) == 0 else n
    return t.reshape(-1, cols), p.reshape(-1, cols)


# --------------------------------------------------------------------------- floor

# The bandwidth floor: a call that moves the same memory as a loss's fused pass (reads
# two arrays, writes one) through the same public entry, tiles, threads and instruction-set
# dispatch as the losses, with essentially no arithmetic. HalfSquaredError's gradient is
# y_pred - y_true; on (n, 1) arrays each row is one sample whose mean runs over one element,
# and with reduction "sum" nothing divides it, so the call writes out = b - a, one
# subtraction per element (checked by _check_floor before every run, and by
# tests/test_bench.py). On 1-D arrays Keras would take the whole array as one sample and the
# gradient would be (b - a) / n.
_FLOOR_LOSS = fl.HalfSquaredError(reduction="sum")


def _floor_call(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> Callable[[], Any]:
    """The floor on a, b and out (C-contiguous, same size and dtype): out = b - a."""
    for x in (a, b, out):
        if not x.flags.c_contiguous or x.size != out.size or x.dtype != out.dtype:
            raise ValueError("the floor takes C-contiguous arrays of one size and dtype")
    # reshaping a C-contiguous array is a view: the call writes into `out` itself
    a1, b1, out1 = a.reshape(-1, 1), b.reshape(-1, 1), out.reshape(-1, 1)
    return lambda: _FLOOR_LOSS.backward(a1, b1, out=out1)


def _copy_floor_call(z: np.ndarray, out: np.ndarray, threads: int) -> Callable[[], Any]:
    """The softmax rows' one-read floor: out = z by np.copyto, one read of the logits and
    one write of the gradient and nothing else (fastloss has no cheaper public call: its
    floor above reads z twice, and a broadcast y_true takes its strided path). With
    `threads` > 1 the rows are cut into that many contiguous blocks, each copied by its
    own thread (NumPy releases the GIL for the copy), as fastloss splits its tiles."""
    if not (z.flags.c_contiguous and out.flags.c_contiguous and z.shape == out.shape
            and z.dtype == out.dtype):
        raise ValueError("the copy floor takes two C-contiguous arrays of one shape and dtype")
    if threads <= 1:
        return lambda: np.copyto(out, z)
    from concurrent.futures import ThreadPoolExecutor

    cuts = np.linspace(0, z.shape[0], threads + 1).astype(int)
    blocks = [(z[a:b], out[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    # a pool that lives as long as the call (started once, not per call)
    pool = ThreadPoolExecutor(max_workers=threads - 1)

    def call() -> None:
        # the calling thread copies the first block while the pool copies the others
        pending = [pool.submit(np.copyto, o, i) for i, o in blocks[1:]]
        np.copyto(blocks[0][1], blocks[0][0])
        for f in pending:
            f.result()

    return call


def _check_floor() -> None:
    """Raises unless the floor call writes exactly b - a (both dtypes, bit for bit)."""
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        a, b = rng.normal(size=(2, 40, 1000)).astype(dtype)
        out = np.full_like(a, np.nan)
        _floor_call(a, b, out)()
        if not np.array_equal(out, b - a):
            raise RuntimeError("HalfSquaredError(reduction='sum').backward on (n, 1) arrays no "
                               f"longer writes y_pred - y_true ({np.dtype(dtype).name}): the "
                               "floor of this harness needs another call")


# --------------------------------------------------------------------------- timing


def _calls_per_run(fn: Callable[[], Any]) -> int:
    """Warms fn up and returns how many calls make one timed run of about _CALL_TARGET_S."""
    start = time.perf_counter()
    fn()  # warm-up (lazy initialisation, page faults of fresh outputs)
    once = time.perf_counter() - start
    if once < 10 * _CALL_TARGET_S:  # short: a second, warm call calibrates the repeat count
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
    if once >= _CALL_TARGET_S:
        return 1
    return min(20000, max(1, int(_CALL_TARGET_S / max(once, 1e-8))))


def _median_times(fns: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    """Median per-call seconds of each of fns over `runs` rounds, in which each takes one
    timed run in turn (the order reversed every other round). The cores are shared: load
    from other processes then falls on every fn alike, and the ratios between them (the
    floor targets) do not move with it. Interleave only calls that touch the same arrays,
    so that none leaves the cache colder or warmer for the next than for itself."""
    number = {name: _calls_per_run(fn) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns)
    for r in range(runs):
        for name in (order if r % 2 == 0 else order[::-1]):
            fn, k = fns[name], number[name]
            start = time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - start) / k)
    return {name: float(np.median(v)) for name, v in samples.items()}


def _median_time(fn: Callable[[], Any], runs: int) -> float:
    """Median per-call seconds over `runs` runs, after warm-up calls."""
    return _median_times({"fn": fn}, runs)["fn"]


def _paired_thread_times(fn: Callable[[], Any], runs: int, threads: int) -> tuple[float, float]:
    """Median per-call seconds of fn at 1 thread and at `threads`, the runs of
    the two settings alternating, so that a change in the machine's load
    between them (the cores are shared) cannot pass for a threading effect."""
    old = fl.get_num_threads()
    try:
        fl.set_num_threads(1)
        number = _calls_per_run(fn)
        samples: dict[int, list[float]] = {1: [], threads: []}
        for _ in range(runs):
            for thr in (1, threads):
                fl.set_num_threads(thr)
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[thr].append((time.perf_counter() - start) / number)
    finally:
        fl.set_num_threads(old)
    return float(np.median(samples[1])), float(np.median(samples[threads]))


def _set_threads(n: int, torch: Any) -> None:
    fl.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


# --------------------------------------------------------------------------- runner


IMPLS = ("floor", "floor1", "fastloss", "numpy", "torch", "sklearn")


@dataclass
class Results:
    times: dict[tuple[str, int, str, int, str], float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cases: list[tuple[str, int, str]] = field(default_factory=list)  # (case, n, shape label)
    # fastloss at 1 and N threads from interleaved runs: (case, n, dtype) -> (t1, tN)
    paired: dict[tuple[str, int, str], tuple[float, float]] = field(default_factory=dict)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
            print(f"  note: {text}")

    def get(self, case: str, n: int, dtype: str, threads: int, impl: str) -> Optional[float]:
        return self.times.get((case, n, dtype, threads, impl))


def _torch_leaf(torch: Any, p: np.ndarray) -> Any:
    x = torch.from_numpy(p.copy())
    x.requires_grad_(True)
    return x


def _torch_call(torch: Any, fn: Callable[[], Any], x: Any) -> Callable[[], Any]:
    def call() -> Any:
        x.grad = None
        loss = fn()
        loss.backward()
        return float(loss.detach()), x.grad
    return call


def _sklearn_call(sk: Any, spec: tuple[str, dict[str, Any], Any], t: np.ndarray, p: np.ndarray,
                  threads: int, res: Results, label: str) -> Optional[Callable[[], Any]]:
    cls_name, kwargs, transform = spec
    cls = getattr(sk, cls_name, None)
    if cls is None:
        res.note(f"scikit-learn {cls_name} absent: {label} has no scikit-learn column")
        return None
    y = np.ascontiguousarray(t.ravel())
    raw = np.ascontiguousarray(transform(p.ravel()) if transform is not None else p.ravel())
    loss_out = np.empty_like(raw)
    grad_out = np.empty_like(raw)
    obj = cls(**kwargs)
    try:
        obj.loss_gradient(y, raw, loss_out=loss_out, gradient_out=grad_out, n_threads=threads)
    except Exception as exc:
        res.note(f"scikit-learn {cls_name}.loss_gradient failed on {raw.dtype}: {exc}")
        return None

    def call() -> Any:
        obj.loss_gradient(y, raw, loss_out=loss_out, gradient_out=grad_out, n_threads=threads)
        return float(loss_out.mean()), grad_out
    return call


def _elementwise_case(fam: Family, n: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The inputs of a family at n elements (the same for every run of the harness)."""
    return _elementwise_inputs(fam.kind, n, dtype, np.random.default_rng(n + 7))


def _fastloss_elementwise_call(fam: Family, n: int, dtype: np.dtype) -> Callable[[], Any]:
    t, p = _elementwise_case(fam, n, dtype)
    out = np.empty_like(p)
    loss = fam.make()
    return lambda: loss.forward_backward(t, p, out=out)


def _run_elementwise(fam: Family, n: int, dtype: np.dtype, threads: int, runs: int,
                     torch: Any, sk: Any, res: Results, peers: bool) -> None:
    t, p = _elementwise_case(fam, n, dtype)
    dt = dtype.name
    out = np.empty_like(p)
    key = (fam.name, n, dt, threads)
    loss = fam.make()
    # the floor and fastloss read t and p and write out: their runs alternate
    both = _median_times({"floor": _floor_call(t, p, out),
                          "fastloss": lambda: loss.forward_backward(t, p, out=out)}, runs)
    res.times[(*key, "floor")] = both["floor"]
    res.times[(*key, "fastloss")] = both["fastloss"]
    _run_resident(res, key, t, p, lambda ts, ps, o: loss.forward_backward(ts, ps, out=o), runs)
    if fam.numpy is not None:
        numpy_fn = fam.numpy
        res.times[(*key, "numpy")] = _median_time(lambda: numpy_fn(t, p), runs)
    if not peers:
        return
    if torch is not None and fam.torch_fn is not None:
        import torch.nn.functional as F

        x = _torch_leaf(torch, p)
        tt = torch.from_numpy(t)
        torch_fn = fam.torch_fn
        res.times[(*key, "torch")] = _median_time(
            _torch_call(torch, lambda: torch_fn(F, torch, x, tt), x), runs)
    if sk is not None:
        if fam.sklearn is None:
            res.note(fam.sklearn_note)
        else:
            call = _sklearn_call(sk, fam.sklearn, t, p, threads, res, fam.name)
            if call is not None:
                res.times[(*key, "sklearn")] = _median_time(call, runs)


def _run_resident(res: Results, key: tuple[str, int, str, int], t: np.ndarray, p: np.ndarray,
                  call: Callable[[np.ndarray, np.ndarray, np.ndarray], Any], runs: int) -> None:
    """Times `call` on the first rows of t and p (about _RESIDENT_ELEMENTS elements, small
    enough to stay in cache between calls) and records it scaled to p's size as the
    "arith" time: about what the call would take if its memory traffic cost nothing.
    Skipped for inputs less than three times the slice."""
    per_row = int(np.prod(p.shape[1:], dtype=np.int64))
    rows = max(1, _RESIDENT_ELEMENTS // per_row)
    if p.shape[0] < 3 * rows:
        return
    ts, ps = t[:rows], p[:rows]
    out = np.empty_like(ps)
    res.times[(*key, "arith")] = _median_time(lambda: call(ts, ps, out), runs) * (p.size / ps.size)


def _sparse_ce_case(rows: int, classes: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels of a sparse CE shape (the same for every run of the harness)."""
    rng = np.random.default_rng(rows * 31 + classes)
    z = rng.normal(0, 2, size=(rows, classes)).astype(dtype)
    labels = rng.integers(0, classes, size=rows).astype(np.int64)
    return z, labels


def _fastloss_sparse_ce_call(rows: int, classes: int, dtype: np.dtype) -> Callable[[], Any]:
    z, labels = _sparse_ce_case(rows, classes, dtype)
    out = np.empty_like(z)
    loss = fl.SparseCategoricalCrossentropy(from_logits=True)
    return lambda: loss.forward_backward(labels, z, out=out)


def _run_sparse_ce(rows: int, classes: int, dtype: np.dtype, threads: int, runs: int,
                   torch: Any, sk: Any, res: Results, peers: bool) -> None:
    z, labels = _sparse_ce_case(rows, classes, dtype)
    out = np.empty_like(z)
    case = f"SparseCE {rows}x{classes}"
    key = (case, rows * classes, dtype.name, threads)
    loss = fl.SparseCategoricalCrossentropy(from_logits=True)
    # the floors and fastloss read z and write out: their runs alternate
    both = _median_times({"floor": _floor_call(z, z, out),
                          "floor1": _copy_floor_call(z, out, threads),
                          "fastloss": lambda: loss.forward_backward(labels, z, out=out)}, runs)
    for impl in ("floor", "floor1", "fastloss"):
        res.times[(*key, impl)] = both[impl]
    _run_resident(res, key, labels, z, lambda ls, zs, o: loss.forward_backward(ls, zs, out=o),
                  runs)
    res.times[(*key, "numpy")] = _median_time(lambda: sparse_ce_logits(labels, z), runs)
    if not peers:
        return
    if torch is not None:
        import torch.nn.functional as F

        x = _torch_leaf(torch, z)
        lt = torch.from_numpy(labels)
        res.times[(*key, "torch")] = _median_time(
            _torch_call(torch, lambda: F.cross_entropy(x, lt), x), runs)
    if sk is not None:
        cls = getattr(sk, "HalfMultinomialLoss", None)
        if cls is None:
            res.note("scikit-learn HalfMultinomialLoss absent")
            return
        obj = cls(n_classes=classes)
        y = labels.astype(dtype)
        loss_out = np.empty(rows, dtype=dtype)
        try:
            obj.loss_gradient(y, z, loss_out=loss_out, gradient_out=out, n_threads=threads)
        except Exception as exc:
            res.note(f"scikit-learn HalfMultinomialLoss.loss_gradient failed: {exc}")
            return
        res.times[(*key, "sklearn")] = _median_time(
            lambda: obj.loss_gradient(y, z, loss_out=loss_out, gradient_out=out,
                                      n_threads=threads), runs)


# --------------------------------------------------------------------------- report


def _fmt_time(s: Optional[float]) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _fmt_ratio(r: Optional[float]) -> str:
    return "—" if r is None else f"{r:.2f}×"


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _fmt_n(n: int) -> str:
    e = math.log10(n) if n > 0 else 0
    return f"10^{round(e)}" if abs(e - round(e)) < 1e-9 else f"{n:,}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions(torch: Any, sk: Any) -> list[str]:
    lines = [f"Python {platform.python_version()}", f"NumPy {np.__version__}",
             f"fastloss {fl.build_info().get('version', '?')}"]
    lines.append(f"PyTorch {torch.__version__}" if torch is not None else "PyTorch: not installed")
    if sk is not None:
        import sklearn

        lines.append(f"scikit-learn {sklearn.__version__}")
    else:
        lines.append("scikit-learn: not installed")
    try:
        import matplotlib

        lines.append(f"matplotlib {matplotlib.__version__}")
    except Exception:
        lines.append("matplotlib: not installed (no PNG)")
    return lines


@dataclass
class Target:
    case: str
    target: str
    measured: str
    met: Optional[bool]
    arith: Optional[float] = None  # floor targets: the arithmetic alone, as a multiple of the floor
    limit: Optional[float] = None  # floor targets: the bound, as a multiple of the floor


def _check(value: Optional[float], ok: Callable[[float], bool]) -> Optional[bool]:
    return None if value is None else ok(value)


def _one_read_limit(case: str) -> float:
    """The softmax rows' target against the one-read floor: ≤ 1.5× for rows of 32,000
    classes or more (the issue's 512x32000, where the row's sweeps are long enough to hide
    its per-row work), ≤ 2× otherwise (4096x1000)."""
    classes = int(case.rsplit("x", 1)[1])
    return 1.5 if classes >= 32000 else 2.0


def _softmax_floor_table(res: Results, dtypes: list[str], threads: tuple[int, ...]) -> list[str]:
    """The sparse CE cases against both floors, every dtype and thread count."""
    rows = []
    for dt in dtypes:
        for th in threads:
            for case, n, _shape in res.cases:
                if not case.startswith("SparseCE"):
                    continue
                tm = {impl: res.get(case, n, dt, th, impl)
                      for impl in ("floor1", "floor", "fastloss")}
                if tm["fastloss"] is None:
                    continue
                rows.append(f"| {case} | {dt} | {th} | {_fmt_time(tm['floor1'])} | "
                            f"{_fmt_time(tm['floor'])} | {_fmt_time(tm['fastloss'])} | "
                            f"{_fmt_ratio(_ratio(tm['fastloss'], tm['floor1']))} | "
                            f"{_fmt_ratio(_ratio(tm['fastloss'], tm['floor']))} |")
    if not rows:
        return []
    return ["## Softmax rows against the one-read floor", "",
            "**floor1** = one read of the logits and one write of the gradient and nothing "
            "else: `np.copyto(out, z)`, cut into one contiguous block of rows per thread at "
            "more than one thread (a persistent thread pool; NumPy releases the GIL for the "
            "copy). Its runs alternate with the floor's and fastloss's on the same arrays.",
            "", "| case | dtype | threads | floor1 | floor | fastloss | fl/floor1 | fl/floor |",
            "|---|---|---|---|---|---|---|---|", *rows, ""]


def _at_most(limit: float) -> Callable[[float], bool]:
    """The check of an "at most `limit`" target."""
    return lambda r: r <= limit


def _targets(res: Results, big: int, threads: tuple[int, ...], th: int) -> list[Target]:
    """The speed targets table, evaluated on float32 at `th` threads."""
    dt = "float32"
    out: list[Target] = []

    def g(case: str, n: int, impl: str, thr: int = th) -> Optional[float]:
        return res.get(case, n, dt, thr, impl)

    def add(case: str, target: str, value: Optional[float], ok: Callable[[float], bool],
            fmt: Callable[[float], str] = _fmt_ratio, arith: Optional[float] = None,
            limit: Optional[float] = None) -> None:
        out.append(Target(case, target, "not measured" if value is None else fmt(value),
                          _check(value, ok), arith, limit))

    def floor_ratio(case: str, n: int) -> dict[str, Any]:
        floor = g(case, n, "floor")
        return {"value": _ratio(g(case, n, "fastloss"), floor),
                "arith": _ratio(g(case, n, "arith"), floor)}

    n = 10**7 if any(c[1] == 10**7 for c in res.cases) else big
    for fam in ("MSE", "Huber"):
        label = f"{fam} (MSE-like), {_fmt_n(n)}"
        fr = floor_ratio(fam, n)
        add(label, "≤ 1.3× the floor", fr["value"], lambda r: r <= 1.3, arith=fr["arith"],
            limit=1.3)
        add(label, "≥ 5× faster than PyTorch", _ratio(g(fam, n, "torch"), g(fam, n, "fastloss")),
            lambda r: r >= 5)
        add(label, "≥ 4× faster than NumPy", _ratio(g(fam, n, "numpy"), g(fam, n, "fastloss")),
            lambda r: r >= 4)
    for fam in ("BCE-with-logits", "LogCosh", "Poisson", "BinaryFocal"):
        label = f"{fam}, {_fmt_n(n)}"
        fr = floor_ratio(fam, n)
        add(label, "≤ 2× the floor", fr["value"], lambda r: r <= 2, arith=fr["arith"], limit=2)
    add(f"BCE-with-logits, {_fmt_n(n)}", "≥ 10× faster than PyTorch",
        _ratio(g("BCE-with-logits", n, "torch"), g("BCE-with-logits", n, "fastloss")),
        lambda r: r >= 10)
    add(f"BCE-with-logits vs scikit-learn HalfBinomialLoss.loss_gradient, {_fmt_n(n)}",
        "≥ 5× faster",
        _ratio(g("BCE-with-logits", n, "sklearn"), g("BCE-with-logits", n, "fastloss")),
        lambda r: r >= 5)
    ce_cases = sorted({(c, cn) for c, cn, _ in res.cases if c.startswith("SparseCE")})
    for case, cn in ce_cases:
        fr = floor_ratio(case, cn)
        add(case, "≤ 2.5× the floor", fr["value"], lambda r: r <= 2.5, arith=fr["arith"],
            limit=2.5)
        one = g(case, cn, "floor1")
        lim = _one_read_limit(case)
        add(case, f"≤ {lim:g}× the one-read floor", _ratio(g(case, cn, "fastloss"), one),
            _at_most(lim), arith=_ratio(g(case, cn, "arith"), one), limit=lim)
        add(case, "≥ 3× faster than PyTorch", _ratio(g(case, cn, "torch"), g(case, cn, "fastloss")),
            lambda r: r >= 3)
    for fam in ("MSE", "BCE-with-logits"):
        label = f"one call on {_TINY} elements ({fam})"
        add(label, "≤ 2 µs", g(f"{fam} (tiny)", _TINY, "fastloss"), lambda s: s <= 2e-6,
            _fmt_time)
        add(label, "≥ 8× faster than PyTorch",
            _ratio(g(f"{fam} (tiny)", _TINY, "torch"), g(f"{fam} (tiny)", _TINY, "fastloss")),
            lambda r: r >= 8)
    if 1 in threads and th > 1 and th == max(threads):
        def t1_tn(case: str, cn: int) -> tuple[Optional[float], Optional[float]]:
            # the interleaved measurement when there is one, else the main runs
            if (case, cn, dt) in res.paired:
                return res.paired[(case, cn, dt)]
            return g(case, cn, "fastloss", 1), g(case, cn, "fastloss", th)

        for case, cn in [*ce_cases, ("BinaryFocal", n)]:
            t1, tn = t1_tn(case, cn)
            add(f"{th} threads vs 1: {case}" + ("" if case.startswith("Sparse") else
                                                 f", {_fmt_n(cn)}"),
                "≥ 1.7×", _ratio(t1, tn), lambda r: r >= 1.7)
        worst: Optional[tuple[float, str]] = None
        for case, cn, _ in res.cases:
            if cn >= _THREAD_THRESHOLD:
                continue
            t1, tn = t1_tn(case, cn)
            r = _ratio(tn, t1)
            if r is not None and (worst is None or r > worst[0]):
                worst = (r, f"{case} at {_fmt_n(cn)}")
        out.append(Target(
            f"tiny inputs (every case under {_THREAD_THRESHOLD:,} elements measured)",
            f"never slower with {th} threads than 1 (met if worst t{th}/t1 ≤ 1.10: timing noise)",
            "not measured" if worst is None else
            f"worst t{th}/t1 = {worst[0]:.2f} ({worst[1]})",
            None if worst is None else worst[0] <= 1.10))
    return out


def _not_met_reasons(targets: list[Target], single: dict[tuple[str, str], Target]) -> list[str]:
    """One line per target not met, with what this run measured about why."""
    lines = []
    for t in targets:
        if t.met is not False:
            continue
        if t.limit is not None and t.arith is not None and t.arith > t.limit:
            why = (f"compute-bound on this machine: the arithmetic alone is "
                   f"{_fmt_ratio(t.arith)} the floor, above the target of {t.limit:g}×, so no "
                   "saving in memory traffic can meet it")
        elif t.limit is not None and t.arith is not None:
            why = (f"the arithmetic alone ({_fmt_ratio(t.arith)}) is within the target: the "
                   "rest is memory traffic that the arithmetic does not hide in this run")
        elif "threads vs 1" in t.case:
            why = ("fastloss's own times at 1 and N threads, from alternating runs; this "
                   "run measured no cause, but on a shared machine another process can "
                   "hold the second core (see the load averages above)")
        else:
            one = single.get((t.case, t.target))
            why = ("a ratio to a peer's time, which moves between runs"
                   + (f" (1 thread: {one.measured})" if one is not None else ""))
        lines.append(f"- {t.case}, {t.target}: {t.measured}; {why}.")
    if not lines:
        return []
    return ["Targets not met, and what this run measured about why:", ""] + lines + [""]


def _peer_summary(res: Results, dtypes: list[str], threads: tuple[int, ...]) -> list[str]:
    """The slowest speed-up over each peer across every case, size, dtype and thread count."""
    names = {"numpy": "NumPy", "torch": "PyTorch", "sklearn": "scikit-learn"}
    lines = []
    for impl, name in names.items():
        worst: Optional[tuple[float, str]] = None
        cells = slower = 0
        for case, n, _ in res.cases:
            for dt in dtypes:
                for th in threads:
                    r = _ratio(res.get(case, n, dt, th, impl), res.get(case, n, dt, th, "fastloss"))
                    if r is None:
                        continue
                    cells += 1
                    slower += int(r < 1)
                    if worst is None or r < worst[0]:
                        plural = "s" if th > 1 else ""
                        worst = (r, f"{case} at {_fmt_n(n)}, {dt}, {th} thread{plural}")
        if worst is not None:
            lines.append(f"- {name}: fastloss is faster in {cells - slower} of {cells} cases; "
                         f"the smallest speed-up is {_fmt_ratio(worst[0])} ({worst[1]}).")
    if not lines:
        return []
    return ["Against the peers, over every table below:", ""] + lines + [""]


def _write_report(path: Path, res: Results, args: argparse.Namespace, torch: Any, sk: Any,
                  loads: tuple[tuple[float, ...], tuple[float, ...]], elapsed: float,
                  png: Optional[Path]) -> None:
    info = fl.build_info()
    threads = tuple(args.threads)
    lines = ["# fastloss benchmark results", "",
             "Produced by `python benchmarks/bench.py"
             + (" --quick" if args.quick else "") + "` from a checkout. "
             "Fused forward+backward per call; medians of "
             f"{args.runs} runs (time.perf_counter, after warm-up; short calls are repeated "
             "inside a run and divided). Ratios come from this one run.", "",
             f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
             f"- CPU: {_cpu_model()} ({os.cpu_count()} logical CPUs)",
             f"- fastloss build_info(): `{info}`",
             f"- ISA chosen: {info.get('simd', '?')}; threads measured: "
             + ", ".join(str(t) for t in threads),
             "- Versions: " + "; ".join(_versions(torch, sk)),
             f"- Load average (1, 5, 15 min) at start: {', '.join(f'{x:.2f}' for x in loads[0])}"
             f"; at end: {', '.join(f'{x:.2f}' for x in loads[1])} — other processes may "
             "share the cores, so read the medians with that in mind.",
             f"- Harness wall time: {elapsed:.0f} s", ""]
    cpus = os.cpu_count() or 1
    if max(loads[0][0], loads[1][0]) > cpus - 0.5 and max(threads) > 1:
        lines += [f"**Warning: the load average was at or above the {cpus} CPUs during this "
                  "run.** A helper thread that waits for a core makes its call wait too, "
                  "until the thread pool notices and keeps calls on the calling thread for a "
                  "while; the 1-thread tables are the more reliable ones. Re-run on an idle "
                  "machine for the thread comparisons.", ""]
    lines += ["Columns: **floor** = the bandwidth floor, "
              "`fl.HalfSquaredError(reduction=\"sum\").backward(a, b, out=out)` on the inputs "
              "viewed as (n, 1) arrays: it writes out = b - a, one subtraction per element "
              "(checked before the run), so it reads two inputs and writes one output through "
              "the losses' own entry, tiles, threads and instruction-set dispatch with "
              "essentially no arithmetic; for softmax CE it reads the logits twice and writes "
              "the gradient (the second read of each element hits the cache). **floor1** "
              "(softmax CE only, its own table below) is one read and one write. "
              "**NumPy** = `benchmarks/numpy_baseline.py` (hand-written forward+backward), "
              "**PyTorch** = CPU forward + autograd backward, "
              "**sklearn** = `sklearn._loss.loss.<Loss>.loss_gradient` with preallocated outputs "
              "(unreduced per-sample losses; HalfSquaredError is ½ MSE, HalfPoissonLoss takes "
              "log-predictions, HuberLoss with delta=1). "
              "Ratios: fl/floor (lower is better, 1 = at the floor), and the others' time "
              "divided by fastloss's (speed-up, higher is better). The floor's and "
              "fastloss's timed runs of a case alternate (they read and write the same "
              "arrays), so that load from other processes falls on both alike and fl/floor "
              "does not move with it; the peers are timed after them.", ""]
    if res.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in res.notes] + [""]

    lines += ["## Targets", "",
              "The speed targets (\"float32, 2 threads, ratios from one run\"); "
              f"measured here on float32, {max(threads)} thread(s)"
              + (", sizes of this run" if args.quick else "") + ".", "",
              f"| case | target | measured ({max(threads)} thr.) | status | for reference: "
              "1 thread | arithmetic alone |", "|---|---|---|---|---|---|"]
    single = {(t.case, t.target): t for t in _targets(res, max(args.sizes), threads, 1)}
    for t in _targets(res, max(args.sizes), threads, max(threads)):
        status = "not measured" if t.met is None else ("met" if t.met else "**not met**")
        one = single.get((t.case, t.target))
        ref = "—" if one is None or one.met is None or max(threads) == 1 else (
            f"{one.measured} ({'met' if one.met else 'not met'})")
        lines.append(f"| {t.case} | {t.target} | {t.measured} | {status} | {ref} | "
                     f"{_fmt_ratio(t.arith) if t.arith is not None else '—'} |")
    lines += ["", "The status column judges the issue's setting (float32, "
              f"{max(threads)} threads); \"for reference\" is the same figure at 1 thread, "
              "which a loaded machine disturbs less. \"Arithmetic alone\" (floor targets) is "
              "the same call on a slice of the input's first rows (about "
              f"{_RESIDENT_ELEMENTS:,} elements, which stays in the caches between calls), "
              "timed, scaled to the full size and divided by the floor: about the ratio the "
              "call would reach if its memory traffic cost nothing. Where it is above "
              "the target, the target is out of reach on this machine through the memory "
              "traffic; only fewer instructions per element would meet it (what has been tried "
              "to that end: cpp/README.md, \"Speed, instruction sets and rounding\")."
              + (" The thread rows (\"N threads vs 1\", tiny inputs) come from a separate "
                 "float32 measurement whose 1-thread and N-thread runs alternate, so that "
                 "the shared machine's load drifting between the two settings is not "
                 "read as a threading effect." if res.paired else ""), ""]
    lines += _not_met_reasons(_targets(res, max(args.sizes), threads, max(threads)), single)
    lines += _peer_summary(res, list(args.dtypes), threads)

    dtypes = list(args.dtypes)
    lines += _softmax_floor_table(res, dtypes, threads)
    for dt in dtypes:
        for th in threads:
            lines += [f"## {dt}, {th} thread{'s' if th > 1 else ''}", "",
                      "| case | elements | floor | fastloss | NumPy | PyTorch | sklearn | "
                      "fl/floor | vs NumPy | vs PyTorch | vs sklearn | fastloss elem/s |",
                      "|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for case, n, shape in res.cases:
                tm = {impl: res.get(case, n, dt, th, impl) for impl in IMPLS}
                if tm["fastloss"] is None:
                    continue
                ours = tm["fastloss"]
                lines.append(
                    f"| {case} | {shape} | {_fmt_time(tm['floor'])} | {_fmt_time(ours)} | "
                    f"{_fmt_time(tm['numpy'])} | {_fmt_time(tm['torch'])} | "
                    f"{_fmt_time(tm['sklearn'])} | {_fmt_ratio(_ratio(ours, tm['floor']))} | "
                    f"{_fmt_ratio(_ratio(tm['numpy'], ours))} | "
                    f"{_fmt_ratio(_ratio(tm['torch'], ours))} | "
                    f"{_fmt_ratio(_ratio(tm['sklearn'], ours))} | {n / ours:.3g} |")
            lines.append("")
    if png is not None:
        lines += ["## Throughput", "", f"![throughput vs size]({png.name})", "",
                  "Raw medians: `results.json` next to this file.", ""]
    # the build's own measurements (CPU time, a change against the previous build),
    # kept by hand beside the harness and carried into every report
    build = Path(__file__).with_name("BUILD.md")
    if build.is_file():
        lines += [build.read_text(encoding="utf-8").rstrip(), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _plot(path: Path, res: Results, sizes: list[int], threads: int, dtype: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception:
        print("  note: matplotlib is not installed; skipping the PNG "
              "(pip install matplotlib)")
        return False
    fams = [f.name for f in FAMILIES]
    cols = 3
    rows = math.ceil(len(fams) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.8 * rows), squeeze=False)
    styles = {"floor": ("k", ":"), "fastloss": ("C0", "-"), "numpy": ("C1", "--"),
              "torch": ("C3", "--"), "sklearn": ("C2", "--")}
    lines = [(impl, 1, color, ls) for impl, (color, ls) in styles.items()]
    if threads > 1:
        lines.append(("fastloss", threads, "C0", "-."))
    for ax, fam in zip(axes.ravel(), fams):
        for impl, thr, color, ls in lines:
            xs, ys = [], []
            for n in sizes:
                t = res.get(fam, n, dtype, thr, impl)
                if t is not None:
                    xs.append(n)
                    ys.append(n / t)
            if xs:
                ax.plot(xs, ys, color=color, linestyle=ls, marker="o", markersize=3,
                        label=f"{impl} ({thr} thr.)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(fam)
        ax.set_xlabel("elements")
        ax.set_ylabel("elements / s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(fams):]:
        ax.axis("off")
    fig.suptitle(f"fused forward+backward throughput, {dtype}: every library at 1 thread"
                 + (f", fastloss also at {threads}" if threads > 1 else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


# --------------------------------------------------------------------------- main


def _parse_shape(text: str) -> tuple[int, int]:
    r, c = text.lower().split("x")
    return int(r), int(c)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="10^5 and 10^7 elements, float32, 7 runs (about a minute)")
    parser.add_argument("--huge", action="store_true",
                        help="also 10^8 elements (float32 needs about 1.2 GB; slow)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="elementwise sizes (default 10^2 ... 10^7)")
    parser.add_argument("--dtypes", nargs="+", choices=["float32", "float64"], default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per median (>= 1)")
    parser.add_argument("--ce-shapes", nargs="*", default=["4096x1000", "512x32000"],
                        help="sparse softmax CE shapes ROWSxCLASSES")
    parser.add_argument("--no-peers", action="store_true",
                        help="skip PyTorch and scikit-learn (floor, fastloss and NumPy only)")
    parser.add_argument("--no-png", action="store_true")
    parser.add_argument("--no-boosting", action="store_true",
                        help="skip the gradient-boosting tables (XGBoost/LightGBM trainings, "
                             "~2 minutes; the ranking objectives, ~10 s)")
    parser.add_argument("--no-frameworks", action="store_true",
                        help="skip the PyTorch / JAX table (fastloss.torch, fastloss.jax)")
    parser.add_argument("--no-segmentation", action="store_true",
                        help="skip the segmentation table (Keras's Dice on 64x256x256x4 masks)")
    parser.add_argument("--no-dask", action="store_true",
                        help="skip the Dask table (4e8 elements on a local cluster, ~2 minutes)")
    parser.add_argument("--no-likelihood", action="store_true",
                        help="skip the multi-input likelihoods against PyTorch and NumPy")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the optax and PyTorch extras against their peers")
    parser.add_argument("--no-embedding", action="store_true",
                        help="skip the NT-Xent table (B = 4096 against PyTorch, ~1 minute)")
    parser.add_argument("--no-linear-ce", action="store_true",
                        help="skip the cross-entropy on a linear head (LinearCrossentropy) "
                             "against PyTorch (minutes: V up to 128000)")
    parser.add_argument("--no-adaptive-softmax", action="store_true",
                        help="skip the adaptive softmax (AdaptiveLogSoftmax) against PyTorch's "
                             "AdaptiveLogSoftmaxWithLoss (~1 minute)")
    parser.add_argument("--dask-elements", type=float, default=4e8,
                        help="elements of the Dask table's arrays")
    parser.add_argument("--no-busy", action="store_true",
                        help="skip the busy-machine table (two spinning processes, ~1 minute)")
    parser.add_argument("--no-sequence", action="store_true",
                        help="skip the CTC table (against PyTorch's ctc_loss, a few seconds)")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where RESULTS.md, results.json and throughput.png go "
                             "(default: benchmarks/, the folder of this harness)")
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = [10**5, 10**7] if args.quick else [10**e for e in range(2, 8)]
    if args.huge and 10**8 not in args.sizes:
        args.sizes.append(10**8)
    if args.dtypes is None:
        args.dtypes = ["float32"] if args.quick else ["float32", "float64"]
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    if args.out_dir is None:
        args.out_dir = HERE
    args.out_dir.mkdir(parents=True, exist_ok=True)
    _check_floor()

    t_start = time.perf_counter()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    res = Results()
    torch = sk = None
    if not args.no_peers:
        torch = _try_torch()
        sk = _try_sklearn_loss()
        if torch is None:
            res.note("PyTorch is not installed: no PyTorch column")
        if sk is None:
            res.note("scikit-learn is not installed: no scikit-learn column")
    else:
        res.note("run with --no-peers: PyTorch and scikit-learn not measured")
    old_fl = fl.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    info = fl.build_info()
    print(f"fastloss {info['version']} SIMD {info['simd']}, thread pool {info['thread_pool']}; "
          f"CPU {_cpu_model()}; load {load0[0]:.2f}")

    for fam in FAMILIES:
        for n in args.sizes:
            res.cases.append((fam.name, n, _fmt_n(n)))
    ce_shapes = [_parse_shape(s) for s in args.ce_shapes]
    for r, c in ce_shapes:
        res.cases.append((f"SparseCE {r}x{c}", r * c, f"{r}×{c}"))
    tiny = [f for f in FAMILIES if f.name in ("MSE", "BCE-with-logits")]
    for fam in tiny:
        res.cases.append((f"{fam.name} (tiny)", _TINY, str(_TINY)))

    try:
        for dt_name in args.dtypes:
            dtype = np.dtype(dt_name)
            for th in args.threads:
                _set_threads(th, torch)
                print(f"{dt_name}, {th} thread(s)")
                for fam in FAMILIES:
                    for n in args.sizes:
                        _run_elementwise(fam, n, dtype, th, args.runs, torch, sk, res,
                                         not args.no_peers)
                        ours = res.get(fam.name, n, dt_name, th, "fastloss")
                        print(f"  {fam.name:16s} {_fmt_n(n):>6s} fastloss {_fmt_time(ours)}")
                for fam in tiny:
                    sub = Results()
                    _run_elementwise(fam, _TINY, dtype, th, args.runs, torch, sk, sub,
                                     not args.no_peers)
                    for (name, n, d, thr, impl), v in sub.times.items():
                        res.times[(f"{name} (tiny)", n, d, thr, impl)] = v
                for r, c in ce_shapes:
                    _run_sparse_ce(r, c, dtype, th, args.runs, torch, sk, res, not args.no_peers)
                    ours = res.get(f"SparseCE {r}x{c}", r * c, dt_name, th, "fastloss")
                    print(f"  SparseCE {r}x{c} fastloss {_fmt_time(ours)}")
            top = max(args.threads)
            if dt_name == "float32" and 1 in args.threads and top > 1:
                # the thread-scaling targets, from runs that alternate 1 and N threads
                print(f"{dt_name}, 1 vs {top} threads, interleaved runs")
                big = max(args.sizes)
                calls: list[tuple[str, int, Callable[[], Any]]] = []
                for fam in FAMILIES:
                    for n in args.sizes:
                        if n < _THREAD_THRESHOLD or (fam.name == "BinaryFocal" and n == big):
                            calls.append((fam.name, n, _fastloss_elementwise_call(fam, n, dtype)))
                for fam in tiny:
                    calls.append((f"{fam.name} (tiny)", _TINY,
                                  _fastloss_elementwise_call(fam, _TINY, dtype)))
                for r, c in ce_shapes:
                    calls.append((f"SparseCE {r}x{c}", r * c,
                                  _fastloss_sparse_ce_call(r, c, dtype)))
                for case, n, fn in calls:
                    res.paired[(case, n, dt_name)] = _paired_thread_times(fn, args.runs, top)
                    t1, tn = res.paired[(case, n, dt_name)]
                    print(f"  {case:24s} {_fmt_n(n):>6s} t{top}/t1 {tn / t1:.2f}")
    finally:
        fl.set_num_threads(old_fl)
        if torch is not None and old_torch is not None:
            torch.set_num_threads(old_torch)

    boosting_lines: list[str] = []
    boosting_rows: list[dict[str, Any]] = []
    ranking_lines: list[str] = []
    ranking_rows: list[dict[str, Any]] = []
    if not args.no_boosting:
        print("gradient boosting: objective calls and whole trainings")
        boosting_lines, boosting_rows = boosting_table()
        print("ranking objectives over query groups")
        ranking_lines, ranking_rows = ranking_table()
    busy_lines: list[str] = []
    busy_rows: list[dict[str, Any]] = []
    if not args.no_busy:
        print("busy machine: every core kept busy by spinning processes")
        busy_lines, busy_rows = busy_table(torch)

    fw_lines: list[str] = []
    fw_rows: list[dict[str, Any]] = []
    if not args.no_frameworks:
        print("PyTorch and JAX: fastloss.torch / fastloss.jax inside autograd and jit")
        fw_lines, fw_rows = frameworks_table(calls=max(args.runs, 7))
    seg_lines: list[str] = []
    seg_rows: list[dict[str, Any]] = []
    if not args.no_segmentation:
        print("segmentation: Keras's Dice loss on a batch of masks")
        seg_lines, seg_rows = segmentation_table(runs=max(args.runs, 5))
    embedding_lines: list[str] = []
    if not args.no_embedding:
        print("NT-Xent: the tiled kernel against the PyTorch expression")
        embedding_lines, _ = embedding_table()
    likelihood_lines: list[str] = []
    if not args.no_likelihood:
        print("likelihoods of several inputs: GaussianNLL, RMSEWithUncertainty, SurvivalAft")
        likelihood_lines, _ = likelihood_table()
    extras_lines: list[str] = []
    if not args.no_extras:
        print("optax and PyTorch extras against their peers")
        extras_lines, _ = extras_table()
    linear_ce_lines: list[str] = []
    if not args.no_linear_ce:
        print("LinearCrossentropy: a linear head's cross-entropy against PyTorch")
        linear_ce_lines, _ = linear_ce_table()
    adaptive_lines: list[str] = []
    if not args.no_adaptive_softmax and not args.no_peers:  # a table against PyTorch alone
        print("AdaptiveLogSoftmax: the adaptive softmax against PyTorch's module")
        adaptive_lines, _ = adaptive_softmax_table()
    dask_lines: list[str] = []
    dask_rows: list[dict[str, Any]] = []
    if not args.no_dask:
        print("Dask: a loss over a persisted array on a local cluster")
        dask_lines, dask_rows = dask_table(int(args.dask_elements))

    seq_lines: list[str] = []
    seq_rows: list[dict[str, Any]] = []
    if not args.no_sequence:
        print("sequences: CTC forward and backward against PyTorch")
        seq_lines, seq_rows = ctc_table(runs=max(args.runs, 5), peers=not args.no_peers)

    png: Optional[Path] = None
    if not args.no_png:
        candidate = args.out_dir / "throughput.png"
        plot_threads = max(args.threads)
        if _plot(candidate, res, args.sizes, plot_threads, args.dtypes[0]):
            png = candidate
    load1 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    elapsed = time.perf_counter() - t_start
    report = args.out_dir / "RESULTS.md"
    raw: list[dict[str, Any]] = [
        {"case": k[0], "elements": k[1], "dtype": k[2], "threads": k[3], "impl": k[4],
         "median_s": v} for k, v in sorted(res.times.items())]
    for row in boosting_rows + ranking_rows:
        for impl in ("fastloss", "numpy", "builtin"):
            if impl in row:
                raw.append({"case": row["case"], "elements": None, "dtype": "float64",
                            "threads": fl.get_num_threads(), "impl": impl,
                            "median_s": row[impl]})
    for row in busy_rows:
        for key, median in row.items():
            if " " in key:  # "<impl> <threads>"
                busy_impl, busy_threads = key.split()
                raw.append({"case": f"busy {row['case']}", "elements": row["elements"],
                            "dtype": "float32", "threads": int(busy_threads),
                            "impl": busy_impl, "median_s": median})
    for row in fw_rows + seg_rows + dask_rows:
        for impl in ("fastloss", "torch", "optax", "keras", "dask", "in_memory"):
            if impl in row:
                raw.append({"case": row["case"], "elements": None, "dtype": "float32",
                            "threads": fl.get_num_threads(), "impl": impl,
                            "median_s": row[impl]})
    for row in seq_rows:
        for impl in ("fastloss", "torch"):
            if impl in row:
                raw.append({"case": row["case"], "elements": None, "dtype": "float32",
                            "threads": row["threads"], "impl": impl, "median_s": row[impl]})
    (args.out_dir / "results.json").write_text(json.dumps(raw, indent=1) + "\n",
                                               encoding="utf-8")
    _write_report(report, res, args, torch, sk, (load0, load1), elapsed, png)
    sections = (("Gradient boosting", boosting_lines), ("Ranking objectives", ranking_lines),
                ("Busy machine", busy_lines), ("PyTorch and JAX", fw_lines),
                ("Segmentation", seg_lines), ("Sequences", seq_lines), ("NT-Xent", embedding_lines),
                ("optax and PyTorch extras", extras_lines), ("Likelihoods", likelihood_lines),
                ("Cross-entropy on a linear head", linear_ce_lines),
                ("Adaptive softmax", adaptive_lines), ("Dask", dask_lines))
    with report.open("a", encoding="utf-8") as f:
        for title, lines in sections:
            if lines:
                f.write(f"\n## {title}\n\n" + "\n".join(lines) + "\n")
    print(f"wrote {report}" + (f" and {png}" if png is not None else "")
          + f" in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each instruction-set clone of the kernels, measured: `python benchmarks/clones.py`.

fastloss runs one of three kernel tables, chosen at import by the CPU or by FASTLOSS_ISA
(avx512, avx2, baseline). `clone_table` runs the same measurements once per clone this
CPU runs, each in a fresh interpreter with FASTLOSS_ISA set, and with the peers held to
the same instruction set where they can be: PyTorch through ATEN_CPU_CAPABILITY (avx512,
avx2, default) and NumPy through NPY_DISABLE_CPU_FEATURES (its dispatch targets beyond
AVX2; NumPy's own baseline, x86-64-v2, is the floor of its baseline row). float32, fused
forward+backward (`forward_backward`) as in the main tables of harness.py:

* ns per element on one thread (fl.set_num_threads(1)): cache-resident (about 3*10^4
  elements, or two rows of the widest sparse CE shape) and at the full size (10^7, and the
  whole sparse CE shapes);
* PyTorch / fastloss and NumPy / fastloss time ratios at the full size with fastloss and
  PyTorch both at 1 and at 2 threads (NumPy is single-threaded);
* one call on 64 elements, in µs.

Medians of `runs` runs (the machine is shared). bench.py calls `append_to_report` after
its own tables: a section of RESULTS.md and the records in results.json. Nothing here
asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fastloss as fl  # noqa: E402

ISAS = ("avx512", "avx2", "baseline")
TORCH_CAPABILITY = {"avx512": "avx512", "avx2": "avx2", "baseline": "default"}
LABELS = {"avx512": "AVX-512", "avx2": "AVX2+FMA", "baseline": "SSE2"}
_TINY = 64
_RESIDENT = 1 << 15
_SECTION = "## Instruction-set clones (FASTLOSS_ISA)"


def supported_isas() -> list[str]:
    """The FASTLOSS_ISA values this CPU runs, widest first ([] without kernel tables)."""
    return list(fl.build_info().get("isa_supported") or [])


def _numpy_disabled(isa: str) -> str:
    """NPY_DISABLE_CPU_FEATURES that keeps NumPy's kernels within `isa` (as far as its
    dispatch allows: its baseline is compiled in)."""
    import importlib

    try:
        mu = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # NumPy 1.x
        mu = importlib.import_module("numpy.core._multiarray_umath")
    targets = [str(t) for t in getattr(mu, "__cpu_dispatch__", [])]
    if isa == "avx512":
        return ""
    if isa == "avx2":
        return " ".join(t for t in targets if t.startswith(("AVX512", "X86_V4")))
    return " ".join(targets)


# --------------------------------------------------------------------------- worker


def _bind(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """fn with its arguments bound now (not a closure over loop variables)."""
    def call() -> Any:
        return fn(*args, **kwargs)
    return call


def _forward_backward(loss: Any, t: np.ndarray, p: np.ndarray,
                      out: np.ndarray) -> Callable[[], Any]:
    """loss.forward_backward(t, p, out=out) as harness.py times it: a plain closure over
    the call. (`_bind` forwards *args and **kwargs, a tuple and a dict per call: about
    0.15-0.2 µs, a tenth of a 64-element call.)"""
    return lambda: loss.forward_backward(t, p, out=out)


def _median(fn: Callable[[], Any], runs: int) -> float:
    from harness import _median_time

    return _median_time(fn, runs)


def _measure(big: int, ce_shapes: list[tuple[int, int]], runs: int, threads: list[int],
             peers: bool) -> dict[str, Any]:
    """The measurements of one clone (this process's FASTLOSS_ISA): a dict of
    name -> seconds per call (and the element counts)."""
    from harness import (
        FAMILIES,
        _elementwise_case,
        _elementwise_inputs,
        _sparse_ce_case,
        _torch_call,
        _torch_leaf,
    )

    torch: Any = None
    if peers:
        try:
            import torch as torch_mod

            torch = torch_mod
        except Exception:
            torch = None
    fams = {f.name: f for f in FAMILIES if f.name in ("MSE", "BCE-with-logits")}
    times: dict[str, float] = {}
    counts: dict[str, int] = {}
    rng = np.random.default_rng(12345)
    dtype = np.dtype(np.float32)

    cases: list[tuple[str, np.ndarray, np.ndarray, Any, Optional[Callable[..., Any]]]] = []
    # the 64-element calls first, on harness.py's inputs for that size: the call itself,
    # not the aftermath of a 10^7-element pass through the caches (measured after the
    # full-size cases, on a loaded machine, the same call read 1.6-3 µs)
    for name, fam in fams.items():
        t, p = _elementwise_case(fam, _TINY, dtype)
        cases.append((f"{name} tiny", t, p, fam, None))
    for name, fam in fams.items():
        for n, label in ((min(_RESIDENT, big), "resident"), (big, "full")):
            t, p = _elementwise_inputs(fam.kind, n, dtype, rng)
            cases.append((f"{name} {label}", t, p, fam, None))
    for r, c in ce_shapes:
        z, labels = _sparse_ce_case(r, c, dtype)
        rows = max(1, min(r, _RESIDENT // c if c < _RESIDENT else 2))
        cases.append((f"SparseCE {r}x{c} resident", labels[:rows], z[:rows], None, None))
        cases.append((f"SparseCE {r}x{c} full", labels, z, None, None))

    sce = fl.SparseCategoricalCrossentropy(from_logits=True)
    for th in threads:
        fl.set_num_threads(th)
        if torch is not None:
            torch.set_num_threads(th)
        for key, t, p, fam, _ in cases:
            if th != 1 and not key.endswith("full"):
                continue
            out = np.empty_like(p)
            loss = fam.make() if fam is not None else sce
            times[f"fastloss {key} t{th}"] = _median(_forward_backward(loss, t, p, out), runs)
            counts[key] = int(p.size)
            if not key.endswith("full"):
                continue
            if fam is not None and fam.name == "MSE" and fam.numpy is not None and th == 1:
                times[f"numpy {key}"] = _median(_bind(fam.numpy, t, p), runs)
            if torch is not None:
                import torch.nn.functional as F

                x = _torch_leaf(torch, p)
                if fam is not None and fam.torch_fn is not None:
                    call = _torch_call(
                        torch, _bind(fam.torch_fn, F, torch, x, torch.from_numpy(t)), x)
                else:
                    call = _torch_call(torch, _bind(F.cross_entropy, x, torch.from_numpy(t)), x)
                times[f"torch {key} t{th}"] = _median(call, runs)
    info = fl.build_info()
    return {"isa": info.get("isa"), "simd": info["simd"], "times": times, "counts": counts,
            "torch_capability": (torch.backends.cpu.get_cpu_capability()
                                 if torch is not None else None),
            "numpy_disabled": os.environ.get("NPY_DISABLE_CPU_FEATURES", "")}


# --------------------------------------------------------------------------- driver


def clone_table(big: int = 10**7, ce_shapes: Optional[list[tuple[int, int]]] = None,
                runs: int = 5, threads: Optional[list[int]] = None, peers: bool = True,
                isas: Optional[list[str]] = None, repeats: int = 3) -> dict[str, Any]:
    """Runs the measurements of each clone in a subprocess with FASTLOSS_ISA (and the
    peers' instruction-set variables) set, `repeats` times with the clones taking turns
    (so that a change in the shared machine's load falls on every clone alike), and
    returns {"clones": [...]} with one entry per clone: its FASTLOSS_ISA value,
    build_info()["simd"], the peers' settings and, per measurement, the median over the
    repeats of each subprocess's median seconds per call."""
    if ce_shapes is None:
        ce_shapes = [(4096, 1000), (512, 32000)]
    if threads is None:
        threads = [1, 2]
    if isas is None:
        isas = supported_isas()
    spec = json.dumps({"big": big, "ce_shapes": ce_shapes, "runs": runs, "threads": threads,
                       "peers": peers})
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    found: dict[str, list[dict[str, Any]]] = {isa: [] for isa in isas}
    for rep in range(max(1, repeats)):
        for isa in isas:
            print(f"clone {isa}: measuring in a subprocess ({rep + 1} of {repeats})",
                  flush=True)
            found[isa].append(_run_clone(isa, spec))
    clones = []
    for isa in isas:
        first = found[isa][0]
        times = {key: float(np.median([f["times"][key] for f in found[isa]
                                       if key in f["times"]]))
                 for key in first["times"]}
        clones.append({**first, "times": times, "repeats": len(found[isa])})
    load1 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"big": big, "ce_shapes": ce_shapes, "runs": runs, "threads": threads,
            "repeats": repeats, "load": [load0[0], load1[0]], "cpu_count": os.cpu_count(),
            "clones": clones}


def _run_clone(isa: str, spec: str) -> dict[str, Any]:
    """One subprocess's measurements of clone `isa`."""
    env = dict(os.environ)
    env["FASTLOSS_ISA"] = isa
    env["ATEN_CPU_CAPABILITY"] = TORCH_CAPABILITY[isa]
    disabled = _numpy_disabled(isa)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = disabled
    else:
        env.pop("NPY_DISABLE_CPU_FEATURES", None)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", spec],
                          env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the {isa} clone's measurements failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _fmt_n(n: int) -> str:
    e = round(np.log10(n)) if n > 0 else 0
    return f"10^{e}" if 10**e == n else str(n)


def _ns(c: dict[str, Any], key: str) -> Optional[float]:
    s = c["times"].get(f"fastloss {key} t1")
    return None if s is None else s / c["counts"][key] * 1e9


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None or b <= 0 else a / b


def _f(v: Optional[float], fmt: str = "{:.2f}") -> str:
    return "—" if v is None else fmt.format(v)


def markdown(table: dict[str, Any]) -> str:
    """The RESULTS.md section of a clone_table result."""
    big, shapes, clones = table["big"], table["ce_shapes"], table["clones"]
    threads = table["threads"]
    ce = [f"SparseCE {r}x{c}" for r, c in shapes]
    cols = [("MSE", "MSE"), ("BCE-with-logits", "BCE-logits")] + [(k, k[9:]) for k in ce]
    lines = [_SECTION, "",
             "The same calls in each kernel table this CPU runs, one fresh interpreter per "
             "clone with `FASTLOSS_ISA` set (benchmarks/clones.py): float32 "
             f"`forward_backward`; each number the median over {table.get('repeats', 1)} "
             f"interpreters per clone (taking turns) of medians of {table['runs']} runs. "
             f"Load average {_f(table.get('load', [None])[0])} before and "
             f"{_f(table.get('load', [None, None])[-1])} after, on {table.get('cpu_count')} "
             "CPUs (the machine is shared: with other work running, the 2-thread runs lose "
             "a core to it part of the time).",
             "",
             f"ns per element, one thread; resident = about {_RESIDENT} elements (SparseCE: "
             f"whole rows), full = {_fmt_n(big)} elements or the whole SparseCE shape:", ""]
    head = "| clone | " + " | ".join(f"{lab} resident | {lab} full" for _, lab in cols)
    head += f" | MSE ({_TINY}) µs | BCE-logits ({_TINY}) µs |"
    lines += [head, "|" + "---|" * (2 * len(cols) + 3)]
    for c in clones:
        row = [f"{c['isa']} ({c['simd']})"]
        for key, _ in cols:
            row += [_f(_ns(c, f"{key} resident")), _f(_ns(c, f"{key} full"))]
        for fam in ("MSE", "BCE-with-logits"):
            s = c["times"].get(f"fastloss {fam} tiny t1")
            row.append(_f(None if s is None else s * 1e6))
        lines.append("| " + " | ".join(row) + " |")
    widest: dict[str, Any] = clones[0] if clones else {}
    for c in clones[1:]:
        row = [f"{c['isa']} / {widest['isa']}"]
        for key, _ in cols:
            for part in ("resident", "full"):
                row.append(_f(_ratio(_ns(c, f"{key} {part}"), _ns(widest, f"{key} {part}")),
                              "{:.2f}x"))
        for fam in ("MSE", "BCE-with-logits"):
            row.append(_f(_ratio(c["times"].get(f"fastloss {fam} tiny t1"),
                                 widest["times"].get(f"fastloss {fam} tiny t1")), "{:.2f}x"))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"Speed-ups at {_fmt_n(big)} elements / the whole SparseCE shape (peer time "
              "/ fastloss time; PyTorch at fastloss's thread count, on the clone's instruction "
              "set through ATEN_CPU_CAPABILITY; NumPy single-threaded, its AVX-512 kernels "
              "disabled by NPY_DISABLE_CPU_FEATURES below the avx512 row):", ""]
    head = "| clone (PyTorch capability) | " + " | ".join(
        f"{lab} vs PyTorch, {th} thr." for _, lab in cols for th in threads)
    head += " | " + " | ".join(f"MSE vs NumPy, fastloss {th} thr." for th in threads) + " |"
    lines += [head, "|" + "---|" * (1 + len(cols) * len(threads) + len(threads))]
    for c in clones:
        row = [f"{c['isa']} ({c.get('torch_capability') or 'no PyTorch'})"]
        for key, _ in cols:
            for th in threads:
                row.append(_f(_ratio(c["times"].get(f"torch {key} full t{th}"),
                                     c["times"].get(f"fastloss {key} full t{th}")), "{:.1f}x"))
        for th in threads:
            row.append(_f(_ratio(c["times"].get("numpy MSE full"),
                                 c["times"].get(f"fastloss MSE full t{th}")), "{:.1f}x"))
        lines.append("| " + " | ".join(row) + " |")
    avx2 = next((c for c in clones if c["isa"] == "avx2"), None)
    if avx2 is not None:
        t = avx2["times"]

        def best(key: str, peer: str = "torch") -> Optional[float]:
            rs = [_ratio(t.get(f"{peer} {key} full t{th}" if peer == "torch"
                               else f"{peer} {key} full"), t.get(f"fastloss {key} full t{th}"))
                  for th in threads]
            vals = [r for r in rs if r is not None]
            return max(vals) if vals else None

        goals = [("BCE-logits vs PyTorch", best("BCE-with-logits"), 10.0)]
        goals += [(f"{k[9:]} vs PyTorch", best(k), 3.0) for k in ce]
        goals.append(("MSE vs NumPy", best("MSE", "numpy"), 4.0))
        lines += ["", "Targets of the AVX2 clone (both on AVX2, the better of the thread "
                  "counts): " + "; ".join(
                      f"{name} {_f(v, '{:.1f}x')} (≥ {goal:g}x: "
                      f"{'met' if v is not None and v >= goal else 'not met'})"
                      for name, v, goal in goals) + "."]
        if widest and widest is not avx2:
            per = [_ratio(_ns(avx2, f"{k} {part}"), _ns(widest, f"{k} {part}"))
                   for k, _ in cols for part in ("resident", "full")]
            per_vals = [v for v in per if v is not None]
            tiny = [t.get(f"fastloss {fam} tiny t1") for fam in ("MSE", "BCE-with-logits")]
            tiny_vals = [v for v in tiny if v is not None]
            if per_vals and tiny_vals:
                lines.append(f"AVX2 per element within {max(per_vals):.2f}x of "
                             f"{widest['isa']} (goal ≤ 2.2x); {_TINY}-element calls "
                             f"≤ {max(tiny_vals) * 1e6:.2f} µs (goal ≤ 2 µs).")
    lines.append("")
    return "\n".join(lines)


def records(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The measurements as results.json records (harness.py's fields, impl tagged with
    the clone, e.g. "fastloss[avx2]", and "section": "clones")."""
    out = []
    for c in table["clones"]:
        for key, s in sorted(c["times"].items()):
            parts = key.split(" ")
            impl, thr = parts[0], 1
            if parts[-1].startswith("t") and parts[-1][1:].isdigit():
                thr = int(parts[-1][1:])
                parts = parts[:-1]
            case = " ".join(parts[1:])
            out.append({"section": "clones", "case": case, "elements": c["counts"].get(case),
                        "dtype": "float32", "threads": thr, "impl": f"{impl}[{c['isa']}]",
                        "median_s": s, "simd": c["simd"],
                        "torch_capability": c.get("torch_capability"),
                        "numpy_disabled": c.get("numpy_disabled")})
    return out


def append_to_report(argv: list[str]) -> None:
    """bench.py's hook: the clone table for bench.py's own arguments (its largest size,
    sparse CE shapes, runs, threads and --no-peers), appended to RESULTS.md and
    results.json in --out-dir."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ce-shapes", nargs="*", default=["4096x1000", "512x32000"])
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args, _ = parser.parse_known_args(argv)
    big = max(args.sizes) if args.sizes else 10**7
    shapes = [(int(r), int(c)) for r, c in (s.lower().split("x") for s in args.ce_shapes)]
    if not supported_isas():
        return
    t0 = time.perf_counter()
    # three interpreters per clone, one for a quick or smoke run
    repeats = 1 if args.quick or args.runs < 3 else 3
    table = clone_table(big, shapes, args.runs, sorted(set(args.threads)), not args.no_peers,
                        repeats=repeats)
    with (args.out_dir / "RESULTS.md").open("a", encoding="utf-8") as f:
        f.write("\n" + markdown(table))
    path = args.out_dir / "results.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    if isinstance(raw, dict):
        raw["clones"] = table
    else:
        raw.extend(records(table))
    path.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    print(f"clone table appended in {time.perf_counter() - t0:.0f} s")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--big", type=int, default=10**7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ce-shapes", nargs="*", default=["4096x1000", "512x32000"])
    parser.add_argument("--isa", nargs="+", choices=ISAS, default=None,
                        help="clones to measure (default: every one this CPU runs)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="interpreters per clone, the clones taking turns (default 3)")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw table")
    args = parser.parse_args(argv)
    if args.worker is not None:
        spec = json.loads(args.worker)
        result = _measure(spec["big"], [tuple(s) for s in spec["ce_shapes"]], spec["runs"],
                          spec["threads"], spec["peers"])
        print(json.dumps(result))
        return 0
    shapes = [(int(r), int(c)) for r, c in (s.lower().split("x") for s in args.ce_shapes)]
    table = clone_table(args.big, shapes, args.runs, args.threads, not args.no_peers, args.isa,
                        args.repeats)
    print(markdown(table))
    if args.json is not None:
        args.json.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

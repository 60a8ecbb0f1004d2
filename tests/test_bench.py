"""Smoke test of the benchmark harness, which lives in benchmarks/ and not in
the installed package: it runs and writes its tables, its bandwidth floor writes exactly
b - a, and the package holds no harness, baselines or test hooks.

No timing is asserted anywhere; PyTorch and scikit-learn are not needed (--no-peers).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fastloss as fl

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _harness():
    """benchmarks/harness.py, imported as the launcher benchmarks/bench.py does."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module("harness")


def test_tiny_run_writes_tables(tmp_path: Path) -> None:
    bench = _harness()
    rc = bench.main(["--sizes", "1000", "--runs", "3", "--dtypes", "float32", "float64",
                     "--ce-shapes", "16x50", "--no-peers", "--no-png", "--no-busy",
                     "--no-frameworks", "--no-segmentation", "--no-embedding", "--no-linear-ce",
                     "--no-extras", "--no-likelihood",
                     "--no-dask",
                     "--no-boosting", "--out-dir",
                     str(tmp_path)])
    assert rc == 0
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "## Targets" in text
    for heading in ("## float32, 1 thread", "## float32, 2 threads", "## float64, 1 thread"):
        assert heading in text
    for case in ("| MSE | 10^3 |", "| BCE-with-logits | 10^3 |", "| LogCosh |", "| Poisson |",
                 "| BinaryFocal |", "| Huber |", "| SparseCE 16x50 |", "| MSE (tiny) | 64 |"):
        assert case in text
    assert "fl/floor" in text and "CPU:" in text and "Load average" in text
    assert "## Softmax rows against the one-read floor" in text and "fl/floor1" in text
    assert "| SparseCE 16x50 | ≤ 2× the one-read floor |" in text
    assert not (tmp_path / "throughput.png").exists()
    raw = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert {"floor", "fastloss", "numpy"} <= {r["impl"] for r in raw}
    assert all(r["median_s"] > 0 for r in raw)


def test_arithmetic_alone_is_measured_for_floor_targets(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs well above the cache-resident slice get an "arith" time (the call on their
    first rows, scaled to the full size) and the floor targets report it against the
    floor; smaller inputs are not measured that way."""
    bench = _harness()
    monkeypatch.setattr(bench, "_RESIDENT_ELEMENTS", 65536)  # small inputs, a quick test
    rc = bench.main(["--sizes", "1000", "300000", "--runs", "1", "--dtypes", "float32",
                     "--threads", "2", "--ce-shapes", "300x1000", "16x50", "--no-peers",
                     "--no-png", "--no-busy", "--no-boosting", "--no-frameworks",
                     "--no-segmentation", "--no-embedding", "--no-linear-ce",
                     "--no-extras", "--no-likelihood", "--no-dask",
                     "--out-dir", str(tmp_path)])
    assert rc == 0
    raw = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    arith = {(r["case"], r["elements"]) for r in raw if r["impl"] == "arith"}
    assert ("MSE", 300000) in arith and ("SparseCE 300x1000", 300000) in arith
    assert ("MSE", 1000) not in arith and ("SparseCE 16x50", 800) not in arith
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "| arithmetic alone |" in text
    row = next(line for line in text.splitlines()
               if line.startswith("| SparseCE 300x1000 | ≤ 2.5× the floor"))
    assert row.rstrip(" |").endswith("×"), row  # a ratio, not "—"


def test_interleaved_runs_alternate_and_time_each_call() -> None:
    """The floor and fastloss are timed in alternating runs (the order reversed every other
    round), each run repeating its own call, and each gets the median of its own runs."""
    bench = _harness()
    log: list[str] = []
    times = bench._median_times({"a": lambda: log.append("a"), "b": lambda: log.append("b")},
                                runs=4)
    assert set(times) == {"a", "b"} and all(v > 0 for v in times.values())
    # calibration first (a's calls, then b's), then the timed runs: each a block of one name
    first_b = log.index("b")
    start = first_b + log[first_b:].index("a")
    assert set(log[:first_b]) == {"a"} and set(log[first_b:start]) == {"b"}
    blocks = []
    for name in log[start:]:
        if not blocks or blocks[-1][0] != name:
            blocks.append([name, 0])
        blocks[-1][1] += 1
    # rounds a b | b a | a b | b a: the middle blocks of a round pair merge into one
    assert [b[0] for b in blocks] == ["a", "b", "a", "b", "a"]
    sizes = [b[1] for b in blocks]
    per_run = {"a": sizes[0], "b": sizes[1] // 2}
    assert sizes == [per_run["a"], 2 * per_run["b"], 2 * per_run["a"], 2 * per_run["b"],
                     per_run["a"]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 1000), (1, 64), (300, 1000), (33, 77)])
def test_the_floor_writes_exactly_b_minus_a(dtype: Any, shape: tuple[int, int]) -> None:
    """The floor is a public call that reads two arrays and writes one subtraction per
    element: HalfSquaredError(reduction="sum").backward on (n, 1) views, whose gradient is
    y_pred - y_true times exactly 1 (each row one sample of one element, nothing divides)."""
    bench = _harness()
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    a = rng.normal(size=shape).astype(dtype)
    b = rng.normal(size=shape).astype(dtype)
    out = np.full_like(a, np.nan)
    ret = bench._floor_call(a, b, out)()
    assert out.dtype == a.dtype and out.shape == shape
    assert np.array_equal(out, b - a)
    assert np.shares_memory(ret, out)  # the gradient went into `out`, not into a copy
    # the same call on the softmax CE case reads the logits twice: out = z - z = 0
    bench._floor_call(a, a, out)()
    assert not out.any()
    bench._check_floor()  # what the harness checks before every run
    wide = np.zeros((4, 6), dtype=dtype)
    with pytest.raises(ValueError, match="C-contiguous"):  # a strided view would be copied
        bench._floor_call(wide[:, ::2], wide[:, ::2], np.zeros((4, 3), dtype=dtype))


def test_the_harness_runs_from_the_launcher(tmp_path: Path) -> None:
    """`python benchmarks/bench.py ...` from any folder imports its siblings and writes
    its files where --out-dir says (measuring the fastloss this test imports)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(fl.__file__).resolve().parent.parent), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench.py"), "--sizes", "1000", "--runs", "1",
         "--dtypes", "float32", "--threads", "1", "--ce-shapes", "4x10", "--no-peers",
         "--no-png", "--no-busy", "--no-boosting", "--no-frameworks", "--no-segmentation",
         "--no-embedding", "--no-linear-ce",
                     "--no-extras", "--no-likelihood", "--no-dask",
         "--out-dir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "RESULTS.md").is_file() and (tmp_path / "results.json").is_file()
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "`python benchmarks/bench.py` from a checkout" in text
    assert "HalfSquaredError(reduction=\"sum\").backward" in text
    assert "_bandwidth_floor" not in text and "_numpy_baseline" not in text


def _demo(argv: list[str]) -> tuple[int, str, str]:
    fl_main = importlib.import_module("fastloss.__main__")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            rc = fl_main.main(argv)
        except SystemExit as exc:  # argparse's --help and errors
            rc = int(exc.code or 0)
    return rc, stdout.getvalue(), stderr.getvalue()


def test_python_m_fastloss_bench_says_how_to_run_the_harness() -> None:
    """The installed package has no harness: `python -m fastloss bench` says how to run it
    from a checkout and exits 2 (nothing was run), 0 when asked for help."""
    rc, out, err = _demo(["bench", "--quick"])
    assert rc == 2 and out == ""
    assert "python benchmarks/bench.py" in err and "not part of the installed package" in err
    rc, out, err = _demo(["bench", "--help"])
    assert rc == 0 and "python benchmarks/bench.py" in out and err == ""


def test_python_m_fastloss_help_describes_every_option_and_bench() -> None:
    rc, out, _ = _demo(["--help"])
    assert rc == 0
    for text in ("-n N", "--dtype", "--repeats", "python -m fastloss bench", "median",
                 "multiple of 1000"):
        assert text in out, text
    assert "bench" in out.split("commands:")[1]
    assert "1 threads" not in out


def test_python_m_fastloss_demo_prints_every_loss_and_a_numpy_speed_up() -> None:
    old = fl.get_num_threads()
    fl.set_num_threads(1)
    try:
        rc, out, _ = _demo(["-n", "2000", "--repeats", "1", "--dtype", "float64"])
    finally:
        fl.set_num_threads(old)
    assert rc == 0, out
    assert "1 thread," in out and "1 threads" not in out
    # the header states the instruction set, the thread count and the load
    assert f"SIMD {fl.build_info()['simd']}" in out and "machine load " in out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].isupper()}
    for name in ("MeanSquaredError", "Huber", "ZeroOneLoss", "BinaryCrossentropy(logits)",
                 "SparseCCE(logits)", "CategoricalHinge"):
        assert name in rows, name
    assert rows["MeanSquaredError"].rstrip().endswith("x")  # a NumPy speed-up
    assert rows["SparseCCE(logits)"].rstrip().endswith("x")
    assert rows["ZeroOneLoss"].rstrip().endswith("-")  # no NumPy version in the demo


def test_the_installed_package_holds_no_harness() -> None:
    """The wheel is the library: no benchmark harness, NumPy baselines, floor kernel or
    math test hook inside the package (they live in benchmarks/ and cpp/tests/)."""
    modules = {m.name for m in pkgutil.iter_modules(fl.__path__)}
    assert "_core" in modules
    assert not modules & {"_bench", "_numpy_baseline"}, modules
    for name in ("_bench", "_numpy_baseline"):
        assert importlib.util.find_spec(f"fastloss.{name}") is None, name
    core = importlib.import_module("fastloss._core")
    for hook in ("_bandwidth_floor", "_vmath"):
        assert not hasattr(core, hook), hook
    stub = Path(fl.__file__).parent / "_core.pyi"
    if stub.is_file():
        text = stub.read_text(encoding="utf-8")
        assert "_bandwidth_floor" not in text and "_vmath" not in text


def test_targets_not_met_say_why_and_the_peers_are_summarised() -> None:
    """Each target not met gets the measured reason: compute-bound when the arithmetic alone
    is above the bound, memory traffic when it is within, a peer's moving time otherwise;
    the peer summary counts the cells where fastloss is faster and names the slowest."""
    bench = _harness()
    targets = [
        bench.Target("LogCosh, 10^7", "≤ 2× the floor", "2.60×", False, 2.23, 2.0),
        bench.Target("Focal, 10^7", "≤ 2× the floor", "2.10×", False, 1.80, 2.0),
        bench.Target("MSE, 10^7", "≤ 1.3× the floor", "1.00×", True, 0.30, 1.3),
        bench.Target("SparseCE 4096x1000", "≥ 3× faster than PyTorch", "2.70×", False),
        bench.Target("2 threads vs 1: SparseCE 4096x1000", "≥ 1.7×", "1.09×", False),
    ]
    single = {("SparseCE 4096x1000", "≥ 3× faster than PyTorch"):
              bench.Target("SparseCE 4096x1000", "≥ 3× faster than PyTorch", "4.77×", True)}
    lines = bench._not_met_reasons(targets, single)
    text = "\n".join(lines)
    assert len([line for line in lines if line.startswith("- ")]) == 4
    assert "LogCosh, 10^7, ≤ 2× the floor: 2.60×; compute-bound" in text
    assert "Focal, 10^7, ≤ 2× the floor: 2.10×; the arithmetic alone (1.80×) is within" in text
    assert "MSE" not in text
    assert "moves between runs (1 thread: 4.77×)" in text
    assert "1.09×; fastloss's own times at 1 and N threads" in text
    assert bench._not_met_reasons(targets[2:3], {}) == []

    res = bench.Results()
    res.cases = [("MSE", 100, ""), ("BCE", 100, "")]
    for (case, impl), t in {("MSE", "fastloss"): 1.0, ("MSE", "numpy"): 4.0,
                            ("BCE", "fastloss"): 2.0, ("BCE", "numpy"): 1.0,
                            ("MSE", "torch"): 3.0}.items():
        res.times[(case, 100, "float32", 1, impl)] = t
    summary = "\n".join(bench._peer_summary(res, ["float32"], (1,)))
    assert "NumPy: fastloss is faster in 1 of 2 cases" in summary
    assert "smallest speed-up is 0.50× (BCE at 10^2, float32, 1 thread)" in summary
    assert "PyTorch: fastloss is faster in 1 of 1 cases" in summary
    assert "scikit-learn" not in summary


def test_busy_table_runs_under_load_and_stops_its_spinners() -> None:
    """The busy-machine table: every case at 1 and 2 threads and NumPy beside it,
    the spinning processes gone afterwards, the thread count restored."""
    _harness()  # puts benchmarks/ on sys.path
    import busy

    before = fl.get_num_threads()
    lines, rows = busy.busy_table(None, calls=1, sizes=(10**4,), ce_rows=(10,))
    assert fl.get_num_threads() == before
    assert [r["case"] for r in rows] == ["MSE", "BCE-with-logits", "SparseCE 10x1000"]
    for r in rows:
        assert r["fastloss 1"] > 0 and r["fastloss 2"] > 0 and r["numpy 1"] > 0
    assert sum(line.startswith("| ") for line in lines) == 1 + len(rows)  # header, rows
    spinning = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"while time.time() < end" in cmdline.read_bytes():
                spinning.append(cmdline.parent.name)
        except OSError:  # the process ended meanwhile
            pass
    assert spinning == []


def test_boosting_table_measures_objectives_and_trainings() -> None:
    pytest.importorskip("xgboost")
    pytest.importorskip("lightgbm")
    _harness()
    import boosting

    lines, rows = boosting.boosting_table(rows=2000, rounds=2, calls=1)
    cases = [r["case"] for r in rows]
    assert any(c.startswith("objective BCE-logits") for c in cases)
    assert any(c.startswith("objective softmax") for c in cases)
    assert "training XGBoost" in cases and "training LightGBM" in cases
    for r in rows:
        assert all(v > 0 for k, v in r.items() if k != "case")
    assert sum(line.startswith("| ") for line in lines) == 2 + len(rows)  # two headers


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 5), (7, 1000), (300, 33)])
def test_the_one_read_floor_copies_the_logits(threads: int, shape: tuple[int, int]) -> None:
    """The softmax rows' one-read floor writes out = z, every row (each thread's block of
    rows included, also when there are fewer rows than threads), and leaves z as it was;
    its target is 1.5x for rows of 32,000 classes or more, 2x below."""
    bench = _harness()
    z = np.random.default_rng(shape[0]).normal(size=shape).astype(np.float32)
    z0 = z.copy()
    out = np.full_like(z, np.nan)
    bench._copy_floor_call(z, out, threads)()
    assert np.array_equal(out, z) and np.array_equal(z, z0)
    with pytest.raises(ValueError, match="C-contiguous"):
        bench._copy_floor_call(z[:, ::-1], out, threads)
    assert bench._one_read_limit("SparseCE 512x32000") == 1.5
    assert bench._one_read_limit("SparseCE 4096x1000") == 2.0

"""FASTLOSS_ISA: the run-time choice of the kernel table (instruction-set clone).

Each value runs in a fresh interpreter (the variable is read once, at import):
the clone it names reports itself in build_info(), the clones' results agree
to float tolerance (baseline has no FMA, so the last bits may differ), and a
value the CPU cannot run, or one naming no instruction set, fails the import
with a message naming the variable, the value and what the CPU supports.
A value is skipped only when the CPU lacks its instruction set.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastloss as fl

VALUES = ["avx512", "avx2", "baseline"]
SIMD_NAMES = {"avx512": "AVX-512", "avx2": "AVX2+FMA", "baseline": "SSE2"}
# /proc/cpuinfo flags each level needs (the headline ones of x86-64-v4 / -v3)
CPU_FLAGS = {
    "avx512": {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"},
    "avx2": {"avx2", "fma", "bmi1", "bmi2", "movbe", "f16c"},
    "baseline": set(),
}

INFO = fl.build_info()
pytestmark = pytest.mark.skipif(
    INFO.get("isa") is None, reason="this build has no kernel tables (FASTLOSS_ISA cannot choose)"
)


def _cpu_flags() -> set[str] | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return None


def _cpu_has(value: str) -> bool:
    """Whether the CPU runs `value`'s clone: from /proc/cpuinfo where there is
    one (independent of the module's own detection), else the module's list."""
    flags = _cpu_flags()
    if flags is None or platform.machine() not in ("x86_64", "AMD64"):
        return value in INFO["isa_supported"]
    return CPU_FLAGS[value] <= flags


def _run(code: str, isa: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("FASTLOSS_ISA", None)
    if isa is not None:
        env["FASTLOSS_ISA"] = isa
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )


_INFO_CODE = "import json, fastloss as fl; print(json.dumps(fl.build_info()))"


def _info(isa: str | None) -> dict:
    proc = _run(_INFO_CODE, isa)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _require(value: str) -> None:
    if not _cpu_has(value):
        pytest.skip(f"this CPU has no {value} ({SIMD_NAMES[value]})")


def test_module_detection_matches_the_cpu():
    """The module's list of runnable clones is what /proc/cpuinfo says."""
    for value in VALUES:
        assert (value in INFO["isa_supported"]) == _cpu_has(value), (value, INFO)
    assert INFO["isa_supported"][-1] == "baseline"


@pytest.mark.parametrize("value", VALUES)
def test_value_picks_its_clone(value):
    _require(value)
    info = _info(value)
    assert info["isa"] == value
    assert SIMD_NAMES[value] in info["simd"], info["simd"]


@pytest.mark.parametrize("isa", [None, ""])
def test_unset_or_empty_takes_the_widest(isa):
    info = _info(isa)
    assert info["isa"] == info["isa_supported"][0]
    widest = next(v for v in VALUES if _cpu_has(v))
    assert info["isa"] == widest


@pytest.mark.parametrize("bad", ["avx1024", "AVX-512", "sse2", " avx2", "native"])
def test_unknown_value_fails_at_import(bad):
    proc = _run("import fastloss", bad)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    assert f"FASTLOSS_ISA={bad}" in proc.stderr
    assert "unknown value" in proc.stderr
    assert "this CPU supports " + ", ".join(INFO["isa_supported"]) in proc.stderr


@pytest.mark.parametrize("value", VALUES)
def test_value_the_cpu_lacks_fails_at_import(value):
    if _cpu_has(value):
        pytest.skip(f"this CPU runs {value}: nothing to refuse")
    proc = _run("import fastloss", value)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    assert f"FASTLOSS_ISA={value}" in proc.stderr
    assert "cannot run" in proc.stderr
    assert "supports " + ", ".join(INFO["isa_supported"]) in proc.stderr


# Each clone writes the forward and backward of a few losses to an .npz; the
# clones must agree. Inputs reach the ranges where each path takes its special
# branches (saturated logits, tiny probabilities), and the lengths have tails.
_RESULTS_CODE = r"""
import sys
import numpy as np
import fastloss as fl

rng = np.random.default_rng(20261202)
out = {"isa": np.array(fl.build_info()["isa"])}
for dtype in (np.float32, np.float64):
    tag = np.dtype(dtype).name
    n = 4099
    t = rng.normal(size=(3, n)).astype(dtype)
    p = (rng.normal(size=(3, n)) * 4).astype(dtype)
    z = np.concatenate([rng.normal(size=n - 8) * 6, [-120, -40, -1e-8, 0, 1e-8, 17, 40, 800]])
    z = z.astype(dtype).reshape(1, n)
    labels = (rng.random(size=(1, n)) < 0.5).astype(dtype)
    cases = {
        "mse": (fl.MeanSquaredError(), t, p),
        "logcosh": (fl.LogCosh(), t, p * 10),
        "bce_logits": (fl.BinaryCrossentropy(from_logits=True), labels, z),
        "bce_logits_smooth": (fl.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                              labels, z),
    }
    for name, (loss, yt, yp) in cases.items():
        value, grad = loss.forward_backward(yt, yp)
        out[f"{name}_{tag}_value"] = np.asarray(value, dtype=np.float64)
        out[f"{name}_{tag}_forward"] = np.asarray(loss(yt, yp), dtype=np.float64)
        out[f"{name}_{tag}_grad"] = np.asarray(grad)
        out[f"{name}_{tag}_backward"] = np.asarray(loss.backward(yt, yp))
    for rows, classes in ((257, 10), (33, 1000)):
        logits = (rng.normal(size=(rows, classes)) * 5).astype(dtype)
        logits[0, :] = 0
        logits[1, 0] = 90
        ids = rng.integers(0, classes, size=rows)
        sce = fl.SparseCategoricalCrossentropy(from_logits=True)
        value, grad = sce.forward_backward(ids, logits)
        key = f"sce_{rows}x{classes}_{tag}"
        out[key + "_value"] = np.asarray(value, dtype=np.float64)
        out[key + "_grad"] = np.asarray(grad)
        out[key + "_backward"] = np.asarray(sce.backward(ids, logits))
        out[key + "_none"] = np.asarray(
            fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(ids, logits))
np.savez(sys.argv[1], **out)
"""


@pytest.fixture(scope="module")
def clone_results(tmp_path_factory):
    base = tmp_path_factory.mktemp("isa")
    results = {}
    for value in VALUES:
        if not _cpu_has(value):
            continue
        path = base / f"{value}.npz"
        proc = _run(_RESULTS_CODE, value, str(path))
        assert proc.returncode == 0, proc.stderr
        with np.load(path) as data:
            results[value] = {k: data[k] for k in data.files}
        assert str(results[value].pop("isa")) == value
    return results


@pytest.mark.parametrize("value", ["avx2", "baseline"])
def test_clones_agree(clone_results, value):
    """Every clone against the widest one: equal to float tolerance."""
    _require(value)
    widest = next(v for v in VALUES if _cpu_has(v))
    if value == widest:
        pytest.skip(f"{value} is the widest clone here: it is the reference")
    ref, got = clone_results[widest], clone_results[value]
    assert set(ref) == set(got)
    assert len(ref) == 2 * (4 * 4 + 2 * 4)
    for key in sorted(ref):
        want, have = ref[key], got[key]
        assert have.shape == want.shape, key
        assert have.dtype == want.dtype, key
        assert np.all(np.isfinite(want)), key
        if "float32" in key:
            # a few float32 ulp per element (FMA or not); the reductions sum
            # in double
            tol = {"rtol": 1e-6, "atol": 1e-7 * max(1.0, float(np.max(np.abs(want))))}
        else:
            tol = {"rtol": 1e-14, "atol": 1e-15 * max(1.0, float(np.max(np.abs(want))))}
        np.testing.assert_allclose(have, want, err_msg=f"{key} ({value} vs {widest})", **tol)


def test_clones_differ_only_in_the_last_bits(clone_results):
    """The comparison above is not vacuous: the clones ran, and where the
    arithmetic allows (the FMA-free baseline) they need not agree bit for bit,
    but the AVX2 and AVX-512 clones, both with FMA and the same operations,
    agree exactly on the elementwise results."""
    if not (_cpu_has("avx512") and _cpu_has("avx2")):
        pytest.skip("needs both the AVX-512 and the AVX2 clones")
    a, b = clone_results["avx512"], clone_results["avx2"]
    for key in a:
        if key.startswith(("mse", "logcosh", "bce")) and key.endswith(("_grad", "_backward")):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)

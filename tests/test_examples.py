"""The example scripts run in their small mode and show what they say they show.

Each example runs as a subprocess (``python examples/X.py --small --out tmp``), as a
user would run it; the tests parse its printed numbers and check the property the
example is about (not just that it ran). An example whose file does not exist yet is
skipped with that reason.

To add an example: write one ``test_<name>`` function that calls :func:`run_example`
and checks its property from the output, add its file name to ``KNOWN_EXAMPLES`` (so
the without-matplotlib test covers it even before it exists) and, if it needs an
optional package, to ``REQUIRES``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
#: Generous: each example takes a few seconds in small mode on a laptop.
TIMEOUT_S = 180

#: Examples every test run knows about; files found in examples/ are added to these.
KNOWN_EXAMPLES = ("yogurt_sales.py", "digits_mse_vs_ce.py", "loss_gallery.py", "gan_1d.py",
                  "style_statistics.py", "boosting_custom_objective.py", "dask_huge_eval.py",
                  "torch_cpu_training.py", "loss_landscape.py")
#: Optional packages an example cannot run without (import names).
REQUIRES = {"digits_mse_vs_ce.py": ("sklearn",),
            "boosting_custom_objective.py": ("xgboost", "lightgbm"),
            "dask_huge_eval.py": ("dask", "distributed"),
            "torch_cpu_training.py": ("torch", "sklearn")}

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SKIPPED_PLOT = re.compile(r"^.*\bplot\b.*\bskipped\b.*$", re.IGNORECASE | re.MULTILINE)


def _all_examples() -> list[str]:
    found = {p.name for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_")}
    return sorted(found | set(KNOWN_EXAMPLES))


def _missing_requirement(name: str) -> Optional[str]:
    for module in REQUIRES.get(name, ()):
        if importlib.util.find_spec(module) is None:
            return module
    return None


def run_example(name: str, out_dir: Path, env: Optional[dict[str, str]] = None) -> str:
    """Runs ``examples/<name> --small --out out_dir`` (in out_dir, so nothing is
    written elsewhere) and returns its stdout; fails with both streams on a
    non-zero exit. Skips when the file or a package it needs is missing."""
    script = EXAMPLES_DIR / name
    if not script.is_file():
        pytest.skip(f"examples/{name} does not exist yet")
    missing = _missing_requirement(name)
    if missing is not None:
        pytest.skip(f"examples/{name} needs {missing}, which is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    proc = subprocess.run([sys.executable, str(script), "--small", "--out", str(out_dir)],
                          cwd=out_dir, env=full_env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    assert proc.returncode == 0, (f"examples/{name} exited with {proc.returncode}\n"
                                  f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    return proc.stdout


def check_plot(stdout: str, png: Path) -> None:
    """The PNG was written when matplotlib is importable; else the skip line was printed."""
    if HAS_MATPLOTLIB:
        assert png.is_file(), f"{png.name} was not written; output:\n{stdout}"
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png.name} is not a PNG"
    else:
        assert SKIPPED_PLOT.search(stdout), f"no 'plot skipped' line in:\n{stdout}"


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split()]


# --------------------------------------------------------------------------------------
# yogurt_sales.py: the cost/profit loss moves the weights to the cheaper side of 1

def test_yogurt_sales(tmp_path: Path) -> None:
    stdout = run_example("yogurt_sales.py", tmp_path)
    check_plot(stdout, tmp_path / "yogurt_sales.png")

    pattern = re.compile(r"^(cost 1 / profit 99|cost 99 / profit 1|MSE):\s+w = \[([^\]]+)\]"
                         r"\s+\(([^;]+);\s*days over / under: (\d+) / (\d+) of (\d+)\)$",
                         re.MULTILINE)
    rows = {m.group(1): m for m in pattern.finditer(stdout)}
    assert set(rows) == {"cost 1 / profit 99", "cost 99 / profit 1", "MSE"}, stdout

    def weights(label: str) -> list[float]:
        w = _floats(rows[label].group(2))
        assert len(w) == 2, rows[label].group(0)
        return w

    # under-predicting loses 99: the model over-predicts (weights above 1) ...
    assert all(w > 1.0 for w in weights("cost 1 / profit 99")), stdout
    # ... over-predicting costs 99: it under-predicts (weights below 1) ...
    assert all(w < 1.0 for w in weights("cost 99 / profit 1")), stdout
    # ... and the symmetric MSE fits the mean
    assert all(abs(w - 1.0) < 0.05 for w in weights("MSE")), stdout

    # the conclusion printed agrees with the numbers
    assert rows["cost 1 / profit 99"].group(3).startswith("above 1")
    assert rows["cost 99 / profit 1"].group(3).startswith("below 1")
    assert rows["MSE"].group(3).startswith("about 1")

    # and so do the days: almost never short with profit 99, almost never over with cost 99
    over, under, days = (int(rows["cost 1 / profit 99"].group(i)) for i in (4, 5, 6))
    assert days == 32 and under <= 2 and over >= 28
    over, under, days = (int(rows["cost 99 / profit 1"].group(i)) for i in (4, 5, 6))
    assert days == 32 and over <= 2 and under >= 28


# --------------------------------------------------------------------------------------
# digits_mse_vs_ce.py: cross-entropy classifies well, MSE on the class number does not

def test_digits_mse_vs_ce(tmp_path: Path) -> None:
    stdout = run_example("digits_mse_vs_ce.py", tmp_path)
    check_plot(stdout, tmp_path / "digits_mse_vs_ce.png")

    accuracy = {m.group(1): float(m.group(2)) / 100.0 for m in re.finditer(
        r"^(cross-entropy|MSE)\b.*test accuracy\s+([\d.]+)%$", stdout, re.MULTILINE)}
    assert set(accuracy) == {"cross-entropy", "MSE"}, stdout
    assert accuracy["cross-entropy"] > 0.85, stdout
    assert accuracy["cross-entropy"] - accuracy["MSE"] > 0.30, stdout

    gap = re.search(r"^cross-entropy - MSE: ([+-][\d.]+) accuracy points \((.*)\)$", stdout,
                    re.MULTILINE)
    assert gap is not None, stdout
    expected = (accuracy["cross-entropy"] - accuracy["MSE"]) * 100.0
    assert abs(float(gap.group(1)) - expected) < 0.15  # both printed to one decimal
    assert gap.group(2).startswith("as in the tutorial")


# --------------------------------------------------------------------------------------
# loss_gallery.py: every elementwise loss listed, values and gradients as the formulas say

GALLERY_LOSSES = (
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "LogCosh", "Poisson", "HalfSquaredError",
    "SmoothL1", "Pinball", "AsymmetricLinear", "BinaryCrossentropy",
    "BinaryFocalCrossentropy", "Hinge", "SquaredHinge", "ExponentialLoss", "ZeroOneLoss",
)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


#: Expected (value, gradient) at a point x of the table row, from the textbook
#: formulas: t = 2 for the regression rows, y_true = 1 for the others.
GALLERY_FORMULAS = {
    "MeanSquaredError": lambda e: (e * e, 2 * e),
    "MeanAbsoluteError": lambda e: (abs(e), math.copysign(1.0, e)),
    "HalfSquaredError": lambda e: (e * e / 2, e),
    "AsymmetricLinear(over=1,under=9)": lambda e: (e, 1.0) if e > 0 else (-9 * e, -9.0),
    "BinaryCrossentropy": lambda p: (-math.log(p), -1.0 / p),
    "BinaryCrossentropy(from_logits=True)": lambda z: (_softplus(-z),
                                                       1 / (1 + math.exp(-z)) - 1),
    "Hinge": lambda m: (max(0.0, 1 - m), -1.0 if m < 1 else 0.0),
    "ExponentialLoss": lambda m: (math.exp(-m), -math.exp(-m)),
    "ZeroOneLoss(threshold=0.5)": lambda p: (0.0 if p > 0.5 else 1.0, 0.0),
}


def test_loss_gallery(tmp_path: Path) -> None:
    stdout = run_example("loss_gallery.py", tmp_path)
    check_plot(stdout, tmp_path / "loss_gallery.png")

    # table rows: label, x-axis, then (x, value, gradient) twice, then |grad - fd|
    rows: dict[str, list[float]] = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 9 and parts[0][0].isupper() and parts[0] != "loss":
            rows[parts[0]] = _floats(" ".join(parts[2:]))
    listed = {label.split("(")[0] for label in rows}
    assert set(GALLERY_LOSSES) <= listed, f"missing: {set(GALLERY_LOSSES) - listed}\n{stdout}"
    assert "BinaryCrossentropy(from_logits=True)" in rows
    summary = re.search(r"^(\d+) losses; largest .*: (\S+)$", stdout, re.MULTILINE)
    assert summary is not None, stdout
    assert int(summary.group(1)) == len(rows) and float(summary.group(2)) < 1e-5

    for label, numbers in rows.items():
        # fastloss's gradient is the derivative of fastloss's value (central difference)
        assert numbers[6] < 1e-5, f"{label}: gradient vs finite difference {numbers[6]}"
    for label, formula in GALLERY_FORMULAS.items():
        numbers = rows[label]
        for x, value, grad in (numbers[0:3], numbers[3:6]):
            want_value, want_grad = formula(x)
            # printed with 4 decimals
            assert value == pytest.approx(want_value, abs=2e-4), (label, x)
            assert grad == pytest.approx(want_grad, abs=2e-4), (label, x)


# --------------------------------------------------------------------------------------
# gan_1d.py: a NumPy GAN trained with fastloss's GAN losses learns N(4, 1.25^2)

def test_gan_1d(tmp_path: Path) -> None:
    stdout = run_example("gan_1d.py", tmp_path)
    check_plot(stdout, tmp_path / "gan_1d.png")

    target = re.search(r"^target:\s+mean ([\d.]+)\s+std ([\d.]+)$", stdout, re.MULTILINE)
    learned = re.search(r"^generated: mean ([+-]?[\d.]+)\s+std ([\d.]+)\s+\((\d+) samples\)$",
                        stdout, re.MULTILINE)
    assert target is not None and learned is not None, stdout
    target_mean, target_std = float(target.group(1)), float(target.group(2))
    mean, std = float(learned.group(1)), float(learned.group(2))
    assert (target_mean, target_std) == (4.0, 1.25), stdout
    # G starts near 0 and has to travel: the learned mean is the target's ...
    assert abs(mean - target_mean) < 0.5, stdout
    # ... and the spread neither collapsed nor blew up
    assert std > 0.0 and 1 / 1.5 < std / target_std < 1.5, stdout

    # the closing line agrees with the numbers
    summary = re.search(r"^mean off by ([+-][\d.]+), std ratio ([\d.]+) \((.*)\)$", stdout,
                        re.MULTILINE)
    assert summary is not None, stdout
    assert float(summary.group(1)) == pytest.approx(mean - target_mean, abs=2e-3)
    assert float(summary.group(2)) == pytest.approx(std / target_std, abs=0.01)
    assert summary.group(3) == "G learned the target"

    # training ends at the equilibrium: D outputs 1/2, D loss 2 ln 2, G loss ln 2
    rows = [_floats(line) for line in stdout.splitlines()
            if re.fullmatch(r"\s*\d+(\s+[+-]?[\d.]+){4}\s*", line)]
    assert len(rows) >= 3, stdout
    _, d_loss, g_loss, _, _ = rows[-1]
    assert d_loss == pytest.approx(2 * math.log(2), abs=0.05), stdout
    assert g_loss == pytest.approx(math.log(2), abs=0.05), stdout

    # against a D that rejects G's samples, the saturating loss's gradient is the smaller
    sat = re.search(r"mean D\(G\(z\)\) = ([\d.]+);.*non-saturating ([\d.e+-]+), saturating "
                    r"([\d.e+-]+) \(([\d.]+)x smaller", stdout)
    assert sat is not None, stdout
    d_fake, grad_ns, grad_sat, ratio = (float(sat.group(i)) for i in (1, 2, 3, 4))
    assert d_fake < 0.5, stdout
    assert grad_ns > 2.0 * grad_sat > 0.0, stdout
    assert ratio == pytest.approx(grad_ns / grad_sat, rel=0.02)  # printed to 3 digits


# --------------------------------------------------------------------------------------
# style_statistics.py: content + style + TV by Adam on pixels; the style loss collapses

def test_style_statistics(tmp_path: Path) -> None:
    stdout = run_example("style_statistics.py", tmp_path)
    check_plot(stdout, tmp_path / "style_statistics.png")

    # table rows: step, total, content, style, TV
    rows = [_floats(line) for line in stdout.splitlines()
            if re.fullmatch(r"\s*\d+(\s+[\d.e+-]+){4}\s*", line)]
    assert len(rows) >= 3, stdout
    steps = [r[0] for r in rows]
    total, content, style, tv = ([r[k] for r in rows] for k in (1, 2, 3, 4))
    assert steps[0] == 0 and steps == sorted(steps), stdout
    # the optimised loss goes down at every printed step, by a large factor overall
    assert all(b < a for a, b in zip(total, total[1:])), stdout
    assert total[-1] < total[0] / 5, stdout
    # the style term falls by a large factor; the content term starts at 0 (the start
    # is the content image) and stays finite; TV stays positive
    assert style[-1] < style[0] / 50, stdout
    assert content[0] == 0.0 and all(math.isfinite(c) for c in content), stdout
    assert all(t > 0.0 for t in tv), stdout

    # the closing lines agree with the table
    closing_total = re.search(r"^total loss: ([\d.e+-]+) -> ([\d.e+-]+)$", stdout, re.MULTILINE)
    closing_style = re.search(r"^style loss: ([\d.e+-]+) -> ([\d.e+-]+), (\d+)x smaller "
                              r"\((.*)\)$", stdout, re.MULTILINE)
    assert closing_total is not None and closing_style is not None, stdout
    assert _floats(f"{closing_total.group(1)} {closing_total.group(2)}") == [total[0], total[-1]]
    first, last, factor = (float(closing_style.group(i)) for i in (1, 2, 3))
    assert (first, last) == (style[0], style[-1])
    assert factor == pytest.approx(first / last, abs=1.0)
    assert closing_style.group(4).startswith("at least 50x")


# --------------------------------------------------------------------------------------
# every example: without matplotlib it still runs to the end and says the plot was skipped

@pytest.mark.parametrize("name", _all_examples())
def test_runs_without_matplotlib(name: str, tmp_path: Path) -> None:
    blocker = tmp_path / "no_matplotlib"
    (blocker / "matplotlib").mkdir(parents=True)
    (blocker / "matplotlib" / "__init__.py").write_text(
        'raise ImportError("matplotlib is hidden by tests/test_examples.py")\n',
        encoding="utf-8")
    python_path = os.pathsep.join(p for p in (str(blocker), os.environ.get("PYTHONPATH")) if p)
    out_dir = tmp_path / "out"
    stdout = run_example(name, out_dir, env={"PYTHONPATH": python_path})
    assert SKIPPED_PLOT.search(stdout), f"no 'plot skipped' line in:\n{stdout}"
    assert not list(out_dir.glob("*.png"))


# --------------------------------------------------------------------------------------
# boosting_custom_objective.py: fastloss objectives train as the built-ins do


def test_boosting_custom_objective(tmp_path: Path) -> None:
    stdout = run_example("boosting_custom_objective.py", tmp_path)
    check_plot(stdout, tmp_path / "boosting_custom_objective.png")
    curves = re.findall(r"^\s+(\S+, .+?)\s+valid (?:Tweedie|focal) loss: round 1 (\S+) -> "
                        r"round \d+ (\S+)$", stdout, re.MULTILINE)
    assert len(curves) == 5, stdout
    for name, first, last in curves:
        assert float(last) < float(first), name  # every model learns
    gap = re.search(r"largest gap over the curve: (\S+)$", stdout, re.MULTILINE)
    assert gap is not None and float(gap.group(1)) < 1e-4, stdout
    found = re.search(r"top 3% of scores: focal (\d+)%, logistic (\d+)%", stdout)
    assert found is not None and int(found.group(1)) > 0, stdout


# --------------------------------------------------------------------------------------
# dask_huge_eval.py: the cluster's lazy cross-entropy is the in-memory one


def test_dask_huge_eval(tmp_path: Path) -> None:
    stdout = run_example("dask_huge_eval.py", tmp_path)
    check_plot(stdout, tmp_path / "dask_huge_eval.png")
    mean = re.search(r"^mean cross-entropy: (\S+)", stdout, re.MULTILINE)
    memory = re.search(r"^in memory: (\S+) \(relative difference (\S+)\)$", stdout,
                       re.MULTILINE)
    hist = re.search(r"^histogram: (\d+) of (\d+) samples", stdout, re.MULTILINE)
    assert mean and memory and hist, stdout
    # float32 logits: the blocks' float64 partial sums agree to float32 rounding
    assert float(mean.group(1)) == pytest.approx(float(memory.group(1)), rel=2e-7)
    assert float(memory.group(2)) <= 2e-7
    # the classifier beats chance, and the histogram holds (nearly) every sample
    assert float(mean.group(1)) < math.log(10)
    counted, samples = int(hist.group(1)), int(hist.group(2))
    assert 0.99 * samples <= counted <= samples


# --------------------------------------------------------------------------------------
# torch_cpu_training.py: fastloss.torch trains the model F.cross_entropy trains

def test_torch_cpu_training(tmp_path: Path) -> None:
    stdout = run_example("torch_cpu_training.py", tmp_path)
    check_plot(stdout, tmp_path / "torch_cpu_training.png")
    runs = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in re.finditer(
        r"^(F\.cross_entropy|fastloss\.torch)\s+final training loss ([\d.]+)\s+test accuracy "
        r"([\d.]+)%", stdout, re.MULTILINE)}
    assert set(runs) == {"F.cross_entropy", "fastloss.torch"}, stdout
    (loss_native, acc_native), (loss_ours, acc_ours) = runs["F.cross_entropy"], runs[
        "fastloss.torch"]
    assert acc_native > 85.0 and abs(acc_ours - acc_native) <= 0.5, stdout
    assert abs(loss_ours - loss_native) <= 1e-3 * loss_native, stdout
    gap = re.search(r"^largest difference between the two training curves: (\S+)$", stdout,
                    re.MULTILINE)
    assert gap is not None and float(gap.group(1)) < 1e-4, stdout


# --------------------------------------------------------------------------------------
# loss_landscape.py: one batched call per landscape, the MSE bowl's bottom at least squares

def test_loss_landscape(tmp_path: Path) -> None:
    stdout = run_example("loss_landscape.py", tmp_path)
    check_plot(stdout, tmp_path / "loss_landscape.png")
    grid = re.search(r"^(\d+) x \1 grid of \(w, b\), (\d+) samples: predictions \((\d+), "
                     r"(\d+)\) per call$", stdout, re.MULTILINE)
    assert grid is not None, stdout
    n, samples = int(grid.group(1)), int(grid.group(2))
    assert (int(grid.group(3)), int(grid.group(4))) == (n * n, samples)  # one call per grid
    minima = {m.group(1): (float(m.group(3)), float(m.group(4))) for m in re.finditer(
        r"^(mean squared error|binary cross-entropy \(logits\)): grid minimum (\S+) at "
        r"w = (\S+), b = (\S+)$", stdout, re.MULTILINE)}
    assert len(minima) == 2, stdout
    fit = re.search(r"^least squares: w = (\S+), b = (\S+); grid step (\S+) in w, (\S+) in b$",
                    stdout, re.MULTILINE)
    assert fit is not None, stdout
    # the squared error's grid minimum is the grid point nearest the least-squares line
    w, b = minima["mean squared error"]
    assert abs(w - float(fit.group(1))) <= float(fit.group(3)) / 2 + 1e-3, stdout
    assert abs(b - float(fit.group(2))) <= float(fit.group(4)) / 2 + 1e-3, stdout
    # the labels were drawn from sigmoid(3 x - 1): the cross-entropy's minimum is near it
    w, b = minima["binary cross-entropy (logits)"]
    assert abs(w - 3.0) < 1.0 and abs(b + 1.0) < 0.7, stdout
    gap = re.search(r"one call per grid point: (\S+)$", stdout, re.MULTILINE)
    assert gap is not None and float(gap.group(1)) <= 1e-12, stdout

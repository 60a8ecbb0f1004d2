"""The documentation site: its API pages are generated from the registry
(docs/_ext/fastloss_api.py), so every public loss must get a page and a figure,
the figures must draw what fastloss computes, and the declarations' plain-text
math must become well-formed LaTeX. With a built site (``make -C docs html``;
``FASTLOSS_DOCS_BUILT`` names its folder, as CI sets it after the build) the
built pages are checked too.

The generator needs matplotlib for the figures; the built-site checks need the
build. Each test skips with its reason when what it needs is absent."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fastloss as fl
from fastloss import _declared, _registry

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import fastloss_api as api  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def public_losses() -> set[str]:
    """Every loss class users reach by name (fl.get), from the registry itself."""
    classes = {*_registry.CLASSES.values(), *_registry.MODEL_NAMES.values()}
    return {c.__name__ for c in classes if getattr(fl, c.__name__, None) is c}


def test_generator_lists_every_loss_of_the_registry() -> None:
    listed = {e.name for e in api.losses()}
    assert public_losses() <= listed, f"no page for {sorted(public_losses() - listed)}"
    # and nothing that is not a loss class of the package
    for name in listed:
        assert isinstance(getattr(fl, name), type), name
        assert name not in api.BASES


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("api")
    return out, api.generate(out)


def test_every_loss_has_a_page_and_a_figure(generated: tuple[Path, list[Any]]) -> None:
    out, entries = generated
    for name in sorted(public_losses()):
        page = out / "losses" / f"{name}.rst"
        assert page.is_file(), f"no page for {name}"
        text = page.read_text(encoding="utf-8")
        assert text.splitlines()[2] == name  # the title
        assert f".. image:: /api/figures/{name}.png" in text, f"no figure on {name}'s page"
        png = out / "figures" / f"{name}.png"
        assert png.is_file() and png.read_bytes()[:8] == PNG, f"no figure drawn for {name}"
        assert f".. autoclass:: fastloss.{name}" in text
        has_h = bool(getattr(fl, name).has_hessian)
        assert f":Hessian: {'yes' if has_h else 'no'}" in text, name
    # each family page lists its losses, and the index lists every family
    index = (out / "index.rst").read_text(encoding="utf-8")
    for e in entries:
        family = (out / f"{e.family}.rst").read_text(encoding="utf-8")
        assert f"losses/{e.name}" in family, (e.name, e.family)
        assert f"   {e.family}\n" in index


def test_declared_pages_carry_the_declaration(generated: tuple[Path, list[Any]]) -> None:
    out, _ = generated
    for info in [*_declared.DECLARED.values(), *_declared.DECLARED_ROWS.values()]:
        text = (out / "losses" / f"{info['cls']}.rst").read_text(encoding="utf-8")
        for key in ("formula", "gradient", "hessian"):
            if info[key]:
                for eq in api.to_latex(info[key]):
                    assert "   " + eq in text, (info["cls"], key)
        for p in info["params"]:
            assert f"``{p['name']}``" in text, (info["cls"], p["name"])


def test_peers_come_from_the_feature_table() -> None:
    header, rows = api.feature_table()
    assert header[:3] == ["fastloss", "Keras 3", "PyTorch"]
    mse = api.peers_of("MeanSquaredError")
    assert mse and mse[0]["Keras 3"] == "`MeanSquaredError`" and mse[0]["PyTorch"] == "`MSELoss`"
    assert api.peers_of("NoSuchLoss") == []


def _balanced(latex: str) -> bool:
    depth = 0
    for ch in latex.replace(r"\{", "").replace(r"\}", ""):
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            return False
    return depth == 0


def test_latex_of_the_declarations() -> None:
    assert api.to_latex("(t - p)**2") == ["(t - p)^{2}"]
    assert api.to_latex("p**(1 - rho)") == [r"p^{1 - \rho}"]  # the group is the braces
    assert api.to_latex("max(|t|, 1e-7)") == [r"\max(|t|, 10^{-7})"]
    assert api.to_latex("a; b") == ["a", "b"]
    assert api.to_latex("sum_c t_c log(q_c)") == [r"\sum_{c} t_{c} \log(q_{c})"]
    assert api.to_latex("x != y") == [r"x \ne y"]
    # the words of prose become one upright text run
    assert api.to_latex("0 where clipped") == [r"0 \text{ where clipped }"]
    infos = [*_declared.DECLARED.values(), *_declared.DECLARED_ROWS.values(),
             *_declared.LOGITS.values()]
    for info in infos:
        for key in ("formula", "gradient", "hessian"):
            for eq in api.to_latex(info[key]):
                assert _balanced(eq), (info["cls"], key, eq)
                assert "**" not in eq and "1e-" not in eq, (info["cls"], key, eq)


@pytest.mark.parametrize("name", sorted(
    i["cls"] for i in _declared.DECLARED.values() if i["kink"] == "none"))
def test_figure_curves_are_fastloss_derivatives(name: str) -> None:
    """The drawn gradient is the derivative of the drawn value (central
    differences), and the drawn Hessian that of the gradient: smooth losses."""
    entry = next(e for e in api.losses() if e.name == name)
    probe = api.probe_for(entry)
    assert probe is not None
    probe.grid = probe.grid[::8]
    value, grad, hess = api.curves(probe)
    h = 1e-5
    for k, x in enumerate(probe.grid):
        v, g, hh = api.curves(dataclasses.replace(probe, grid=np.array([x + h, x - h])))
        np.testing.assert_allclose(grad[k], (v[0] - v[1]) / (2 * h), rtol=1e-4, atol=1e-6)
        if hess is not None and hh is not None:
            np.testing.assert_allclose(hess[k], (g[0] - g[1]) / (2 * h), rtol=1e-4, atol=1e-5)


def test_jumps_are_broken_not_drawn() -> None:
    x = np.linspace(-1, 1, 101)
    step = np.where(x < 0, -1.0, 1.0)
    bx, by = api.broken(x, step)
    assert np.isnan(by).sum() == 1 and np.isnan(bx[np.isnan(by)]).all()
    smooth = x ** 2
    assert not np.isnan(api.broken(x, smooth)[1]).any()
    steep = np.tanh(20 * x)  # steep but continuous: drawn whole
    assert not np.isnan(api.broken(x, steep)[1]).any()
    # sign(0) = 0: the jump passes through the kink's own value; no drawn segment
    # may join the two sides
    _, by = api.broken(x, np.sign(x))
    segments = np.split(by, np.flatnonzero(np.isnan(by)))
    assert all(np.ptp(seg[np.isfinite(seg)]) < 1e-12 for seg in segments if np.isfinite(seg).any())


# -- the built site -------------------------------------------------------------------

def _built() -> Path:
    where = os.environ.get("FASTLOSS_DOCS_BUILT")
    site = Path(where) if where else DOCS / "_build" / "html"
    if not (site / "index.html").is_file():
        pytest.skip("the site is not built (make -C docs html)")
    return site


def test_built_site_has_every_loss_page_and_figure() -> None:
    site = _built()
    for name in sorted(public_losses()):
        page = site / "api" / "losses" / f"{name}.html"
        assert page.is_file(), f"no built page for {name}"
        html = page.read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]+src="([^"]+)"', html)
        figures = [src for src in images if src.endswith(f"{name}.png")]
        assert figures, f"{name}'s page shows no figure"
        assert (page.parent / figures[0]).resolve().is_file(), figures[0]
        if name in _declared.CLASSES or name in _declared.ROW_CLASSES:
            # the declaration's formula, gradient and Hessian, rendered by MathJax
            assert html.count('class="math') >= 2, f"{name}: no math on the page"


def test_built_gallery_has_every_example() -> None:
    site = _built()
    for script in sorted((ROOT / "examples").glob("[a-z]*.py")):
        page = site / "auto_examples" / f"{script.stem}.html"
        assert page.is_file(), f"no gallery page for {script.name}"
        html = page.read_text(encoding="utf-8")
        if importlib.util.find_spec("matplotlib") is not None:
            assert re.search(r'<img[^>]+sphx_glr_' + re.escape(script.stem), html), (
                f"{script.name}: the gallery page shows no figure")


def test_built_feature_table_is_readmes() -> None:
    site = _built()
    html = (site / "feature-table.html").read_text(encoding="utf-8")
    _, rows = api.feature_table()
    assert html.count("<tr") >= len(rows)


def test_has_hessian_on_the_class_is_the_default_instances() -> None:
    """The pages (and users) read ``has_hessian`` on the class: it must say what an
    instance with the default parameters says, for every loss of the registry."""
    for name in sorted(public_losses()):
        cls = getattr(fl, name)
        try:
            instance = cls()
        except TypeError:  # a loss with required parameters: nothing to compare
            continue
        assert bool(cls.has_hessian) == bool(instance.has_hessian), name
    assert fl.BinaryCrossentropy.has_hessian and fl.MeanSquaredError.has_hessian
    assert not fl.MeanAbsoluteError.has_hessian  # piecewise linear: no second derivative


def test_every_loss_class_has_its_own_docstring() -> None:
    """The reference part of each page is the class's docstring: a class body that
    builds its text by concatenation must assign ``__doc__``, or the class has none."""
    for name in sorted(public_losses()):
        doc = getattr(fl, name).__dict__.get("__doc__")
        assert doc and len(doc.split()) > 5, f"{name} has no docstring of its own"

"""The package reads top-down: each module imports only modules of lower
layers (base -> loss families -> model losses -> composites -> API), never one
above it, not even inside a function (the base class once imported its own
composite subclass in a method). Read from the modules' source with ``ast``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import fastloss as fl

#: The library's modules, bottom up: a module may import only modules listed
#: before it. A new module goes where it belongs in this order.
LAYERS = [
    "_core",          # the compiled kernels
    "_threads",       # the thread count and the ways users set it
    "_arrays",        # shapes, dtypes, memory
    "_passes",        # Keras's weighting and reduction rules; the one pass of the families
    "_dask",          # dask arrays through the pass, global divisors (dask imported lazily)
    "_base",          # Loss / Combinable, serialization
    "_elementwise",   # loss families
    "_classaxis",
    "_multi_input",   # the multi-input losses' bases (the declared ones' generic pass)
    "_declared",      # the losses of both families, declared in the C++ core
    "_models",        # model losses (built on the families)
    "_likelihood",    # Gaussian NLL and Cox (multi-input / coupled samples)
    "_xentropy_lambda",  # LightGBM's cross_entropy_lambda (weights in the link)
    "_ranking",       # ranking losses over query groups
    "_sequence",      # CTC (four inputs, a recursion over each sample's frames)
    "_embedding",     # pair, triplet and metric-learning losses (multi-input)
    "_linear_ce",     # cross-entropy on a linear head (BLAS products, no logits)
    "_adaptive",      # the adaptive softmax (linear-head cross-entropies per cluster)
    "_custom",        # composites and user-defined losses
    "_functions",     # Keras's per-sample functions
    "_registry",      # names -> losses
    "_boosting",      # a loss's derivatives in boosting libraries' shapes
    "xgboost",        # adapters, imported on first use (fl.xgboost)
    "lightgbm",
    "catboost",
    "_autodiff",      # a loss's inputs and calls as the autodiff adapters see them
    "torch",          # autodiff adapters, imported on first use (fl.torch, fl.jax)
    "jax",
    "__init__",       # the public API
]

PACKAGE = Path(fl.__file__).resolve().parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py"))
#: Modules that are not the library (the demo and the benchmark harness) may
#: import anything; the library must not import them.
APPLICATIONS = [m for m in MODULES if m not in LAYERS]


def _imports(module: str) -> list[tuple[int, str]]:
    """(line, module of the package) for every import in the file, wherever it
    sits (module level, in a function, under a condition)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(), filename=f"{module}.py")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.split(".")[0] == "fastloss":
                parts = node.module.split(".")
                if len(parts) > 1:
                    found.append((node.lineno, parts[1]))
                else:  # from fastloss import x: x is a module or a name of __init__
                    found += [(node.lineno, a.name if a.name in MODULES else "__init__")
                              for a in node.names]
            elif node.level == 1:
                if node.module:
                    found.append((node.lineno, node.module.split(".")[0]))
                else:  # from . import _arrays, _core
                    found += [(node.lineno, a.name) for a in node.names]
            elif node.level > 1:
                found.append((node.lineno, "<outside the package>"))
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "fastloss":
                    found.append((node.lineno, parts[1] if len(parts) > 1 else "__init__"))
    return sorted(found)


def test_every_library_module_is_placed():
    # _core is compiled (no .py); every other library module is a file here
    assert set(LAYERS) - {"_core"} <= set(MODULES)


@pytest.mark.parametrize("module", [m for m in LAYERS if m != "_core"])
def test_library_module_imports_only_lower_layers(module):
    rank = LAYERS.index(module)
    for line, target in _imports(module):
        assert target in LAYERS, (
            f"{module}.py:{line} imports {target}, which is not a library module "
            f"(add it to LAYERS where it belongs, or keep the import out of the library)")
        assert LAYERS.index(target) < rank, (
            f"{module}.py:{line} imports {target}, a module of the same or a higher layer "
            f"(order: {' -> '.join(LAYERS)})")


@pytest.mark.parametrize("module", APPLICATIONS)
def test_applications_use_the_library_from_above(module):
    for line, target in _imports(module):
        assert target != module, f"{module}.py:{line} imports itself"


@pytest.mark.parametrize("module", [m for m in LAYERS if m != "__init__"] + APPLICATIONS)
def test_each_module_imports(module):
    assert importlib.import_module(f"fastloss.{module}") is not None


def test_the_checker_sees_function_local_imports(tmp_path, monkeypatch):
    """What the circle looked like: an import inside a method."""
    (tmp_path / "_probe.py").write_text(
        "def f():\n    from ._custom import CompositeLoss\n    import fastloss._registry\n")
    monkeypatch.setitem(globals(), "PACKAGE", tmp_path)
    assert _imports("_probe") == [(2, "_custom"), (3, "_registry")]

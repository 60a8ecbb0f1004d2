"""Honest types: the Keras function names are real definitions that agree
with the registry, ``__all__`` names everything the registry knows, and
``mypy --strict`` accepts a user's script that uses them (py.typed)."""

from __future__ import annotations

import inspect
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import fastloss as fl
from fastloss import _functions, _registry

FUNCTION_NAMES = sorted({*_registry.FUNCTIONS, *_functions.FUNCTION_ALIASES})


def test_every_loss_class_has_its_per_sample_function():
    classes = set(_registry.CLASSES.values())
    with_function = set(_registry.FUNCTION_NAMES.values())
    assert classes == with_function, classes ^ with_function
    assert len(_registry.FUNCTION_NAMES) == len(classes)  # one per class


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_functions_are_typed_definitions(name):
    fn = getattr(fl, name)
    assert name in fl.__all__
    # written out in _functions, or made from a C++ declaration in _declared (typed
    # there at run time and in _declared.pyi)
    assert inspect.isfunction(fn) and fn.__module__ in ("fastloss._functions",
                                                        "fastloss._declared")
    assert fn in _functions.PER_SAMPLE
    hints = inspect.get_annotations(fn)
    assert set(hints) == {*inspect.signature(fn).parameters, "return"}  # every parameter typed


@pytest.mark.parametrize("fn", list(_functions.PER_SAMPLE), ids=lambda f: f.__name__)
def test_function_signature_is_its_class_constructor(fn):
    """The arrays, then the constructor's parameters without reduction and
    name: same names, order, kinds and defaults (a preset changes a default)."""
    cls, preset = _functions.PER_SAMPLE[fn]
    inputs = getattr(cls, "_inputs", ("y_true", "y_pred"))
    params = list(inspect.signature(fn).parameters.values())
    assert [p.name for p in params[:len(inputs)]] == list(inputs)
    assert all(p.default is inspect.Parameter.empty for p in params[:len(inputs)])
    ctor = [p for p in inspect.signature(cls.__init__).parameters.values()
            if p.name not in ("self", "reduction", "name")]
    want = [(p.name, p.kind, preset.get(p.name, p.default)) for p in ctor]
    assert [(p.name, p.kind, p.default) for p in params[len(inputs):]] == want
    assert cls.__name__ in fn.__doc__


def test_all_names_what_the_registry_knows():
    exported = set(fl.__all__)
    assert len(exported) == len(fl.__all__)  # no name twice
    assert all(hasattr(fl, name) for name in fl.__all__)
    for cls in {*_registry.CLASSES.values(), *_registry.MODEL_NAMES.values()}:
        assert cls.__name__ in exported and getattr(fl, cls.__name__) is cls
    assert set(_registry.FUNCTIONS) <= exported


def _user_script() -> str:
    # Every per-sample function and alias is named, so that a registry name
    # without its typed definition fails the check.
    every = "\n".join(f"functions.append(fl.{name})" for name in FUNCTION_NAMES)
    return textwrap.dedent('''\
        from __future__ import annotations

        import pickle
        from typing import Any, Callable

        import numpy as np

        import fastloss as fl

        t = np.zeros((4, 3))
        p = np.ones((4, 3))
        per_sample = fl.mean_squared_error(t, p)
        short = fl.mse(t, p)
        bce = fl.binary_crossentropy(t, p, from_logits=True)
        value, grad = fl.Huber(delta=0.5).forward_backward(t, p)
        g: np.ndarray = grad
        loss = fl.get("mse")
        config: dict[str, Any] = fl.serialize(fl.Huber(delta=0.5))
        again = fl.deserialize(config)
        twin = pickle.loads(pickle.dumps(fl.Huber(delta=0.5)))
        huber: fl.Huber = fl.Huber.from_config({"delta": 0.5})
        total = 0.7 * fl.MeanSquaredError() + 0.3 * fl.MeanAbsoluteError()
        names: list[str] = fl.names()
        functions: list[Callable[..., Any]] = []
        ''') + every + "\n"


def _mypy_env() -> dict[str, str]:
    """mypy finds an installed fastloss by itself (and refuses site-packages
    in MYPYPATH); a source checkout on PYTHONPATH it finds through MYPYPATH."""
    root = Path(fl.__file__).resolve().parent.parent
    paths = sysconfig.get_paths()
    installed = {Path(p).resolve() for p in (*site.getsitepackages(), site.getusersitepackages(),
                                              paths["purelib"], paths["platlib"])}
    return dict(os.environ) if root in installed else {**os.environ, "MYPYPATH": str(root)}


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy_cache")


def test_mypy_strict_accepts_a_users_script(tmp_path, mypy_cache):
    if shutil.which("mypy") is None:
        try:
            import mypy  # noqa: F401
        except ImportError:
            pytest.skip("mypy is not installed")
    script = tmp_path / "user_script.py"
    script.write_text(_user_script())
    # follow-imports=silent: fastloss is checked for its types but its own
    # errors are not the user's (as for an installed package).
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(mypy_cache), "--no-error-summary", str(script)],
        capture_output=True, text=True, env=_mypy_env(), cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_rejects_a_wrong_call(tmp_path, mypy_cache):
    """The check is not vacuous: a misspelt function or a wrong keyword fails."""
    pytest.importorskip("mypy")
    script = tmp_path / "wrong.py"
    script.write_text("import fastloss as fl\n"
                      "fl.mean_squared_eror([1.0], [1.0])\n"
                      "fl.huber([1.0], [1.0], delt=2.0)\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--cache-dir", str(mypy_cache), str(script)],
        capture_output=True, text=True, env=_mypy_env(), cwd=tmp_path, timeout=600)
    assert result.returncode == 1
    assert "mean_squared_eror" in result.stdout and "delt" in result.stdout

"""Keras's per-sample loss functions: ``mean_squared_error(y_true, y_pred)``, ...

Each is a plain function with a real signature, so that introspection sees
it (and a stub, ``_declared.pyi``, shows it to type checkers): the arrays, then
the loss class's constructor parameters (without ``reduction`` and ``name``)
with the same defaults. ``@per_sample(cls)`` (``_base``) records which class a
function evaluates and writes its docstring; the registry's function names are
read from these records, and a test checks every signature against its class's
constructor. All of them, elementwise and class-axis, are made from the C++
declarations by ``_declared``.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _declared
from ._base import PER_SAMPLE as PER_SAMPLE  # the records, read here by the registry

#: The functions' other names (Keras's short names: fl.mse, fl.kld), which
#: _declared makes from the declarations; the registry's ALIASES map them to
#: classes as well.
FUNCTION_ALIASES: dict[str, Callable[..., Any]] = dict(_declared.FUNCTION_ALIASES)

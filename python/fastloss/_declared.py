"""The losses declared in the C++ core: classes, names and functions made from
their declarations.

Every elementwise loss struct that carries a declaration (``kInfo``,
cpp/include/fastloss/losses/info.hpp) becomes, here and nowhere else:

* a class, subclass of :class:`CompiledElementwiseLoss`, whose constructor
  takes the declared parameters with their defaults (checked by the C++
  constructor against the declared range; boolean ones are kept as bools),
  ``from_logits`` where declared (it picks the struct declared by
  ``logits_kernel_of``, which has no class of its own), ``reduction``,
  ``name`` and, where declared, ``axis`` (last, or before ``reduction`` as in
  Keras's cross-entropies); its docstring is assembled from the declaration;
* Keras's per-sample function (``huber(y_true, y_pred, delta=1.0)``) and its
  function aliases;
* the names and aliases ``fl.get`` takes (read by ``_registry``);
* the entries of ``_declared.pyi``, the type stub, which ``write_stub()``
  regenerates and a test holds equal to what it would write.

The Python and C++ test suites draw their cases from the same declarations.
docs/adding-a-loss.md is the recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from numpy.typing import ArrayLike

from . import _arrays, _core
from ._base import per_sample, run_per_sample
from ._elementwise import CompiledElementwiseLoss, _document

_DECLARATIONS: dict[str, dict[str, Any]] = {
    kernel: dict(getattr(_core, kernel).info)
    for kernel in _core.ELEMENTWISE_KERNELS if hasattr(getattr(_core, kernel), "info")
}

#: Kernel (struct) name -> its declaration, in registry order: one per class.
DECLARED: dict[str, dict[str, Any]] = {
    kernel: info for kernel, info in _DECLARATIONS.items() if info["logits_of"] is None}

#: Class name -> the declaration of the struct it evaluates with from_logits=True
#: (``logits_kernel_of``: the class's own declaration with the logits domain and
#: the struct's hand values), its struct name under "kernel".
LOGITS: dict[str, dict[str, Any]] = {
    info["logits_of"]: {**info, "kernel": kernel}
    for kernel, info in _DECLARATIONS.items() if info["logits_of"] is not None}

_REDUCTION = '"sum_over_batch_size"'


def parameters(info: dict[str, Any]) -> list[dict[str, Any]]:
    """The class's own parameters in its constructor's order: the declared ones,
    with ``from_logits`` (not a parameter of the struct) where it stands."""
    params = [dict(p) for p in info["params"]]
    if info["from_logits"] is not None:
        params.insert(info["from_logits"]["position"],
                      {"name": "from_logits", "default": 0.0, "type": "bool", "range": "",
                       "doc": info["from_logits"]["doc"], "example": 1.0})
    for p in params:
        p["default"] = bool(p["default"]) if p["type"] == "bool" else float(p["default"])
    return params


def _arguments(info: dict[str, Any], typed: bool, with_options: bool) -> list[str]:
    """The constructor's parameters as source text (without reduction and name
    for the per-sample function)."""
    def arg(name: str, annotation: str, default: str) -> str:
        return f"{name}: {annotation} = {default}" if typed else f"{name}={default}"
    args = [arg(p["name"], p["type"], repr(p["default"])) for p in parameters(info)]
    if info["axis"] == "before_reduction":
        args.append(arg("axis", "int", "-1"))
    if with_options:
        args += [arg("reduction", "Optional[str]", _REDUCTION),
                 arg("name", "Optional[str]", "None")]
    if info["axis"] == "last":
        args.append(arg("axis", "int", "-1"))
    return args


def _params_doc(info: dict[str, Any]) -> str:
    lines = []
    for p in parameters(info):
        if p["type"] == "bool":
            lines += [f"{p['name']} : bool, default {p['default']!r}", f"    {p['doc']}"]
        else:
            lines += [f"{p['name']} : float, default {p['default']!r}",
                      f"    {p['doc']} Must {p['range']}."]
    if info["has_axis"]:
        lines += ["axis : int, default -1", "    Axis of the per-sample mean."]
    return "\n".join(lines)


def _make_class(kernel: str, info: dict[str, Any]) -> type[CompiledElementwiseLoss]:
    names = [p["name"] for p in info["params"]]
    base_args = "reduction=reduction, name=name" + (", axis=axis" if info["has_axis"] else "")
    body = []
    for p in parameters(info):
        n = p["name"]
        body.append(f"    self.{n} = bool({n})" if p["type"] == "bool"
                    else f"    self.{n} = _arrays.real_param({n}, {n!r})")
    if info["from_logits"] is not None:
        # the struct is picked per instance, before the kernel is made
        body.append(f"    self._kernel_name = {LOGITS[info['cls']]['kernel']!r} "
                    f"if self.from_logits else {kernel!r}")
    # typed as a written-out constructor is (the annotations kept as strings)
    source = "\n".join(
        ["from __future__ import annotations",
         f"def __init__(self, {', '.join(_arguments(info, True, True))}) -> None:"] + body
        + [f"    CompiledElementwiseLoss.__init__(self, {base_args})"])
    scope: dict[str, Any] = {"_arrays": _arrays, "CompiledElementwiseLoss": CompiledElementwiseLoss}
    exec(source, scope)  # a real signature: introspection, get_config and stubs read it
    init = scope["__init__"]
    init.__qualname__ = f"{info['cls']}.__init__"

    def _kernel_params(self: CompiledElementwiseLoss) -> tuple[float, ...]:
        return tuple(float(getattr(self, n)) for n in names)

    cls = type(info["cls"], (CompiledElementwiseLoss,), {
        "__init__": init, "_kernel_params": _kernel_params, "_kernel_name": kernel,
        "_default_name": info["default_name"], "_no_hessian_reason": info["no_hessian"],
        "__module__": __name__, "__qualname__": info["cls"],
    })
    _document(cls, info["summary"], info["formula"], info["gradient"], info["hessian"],
              params=_params_doc(info), notes=info["notes"])
    return cls


def _make_function(cls: type, info: dict[str, Any]) -> Callable[..., Any]:
    keys = [p["name"] for p in parameters(info)] + (["axis"] if info["has_axis"] else [])
    params = ", ".join(["y_true: ArrayLike", "y_pred: ArrayLike", *_arguments(info, True, False)])
    source = (f"def {info['function']}({params}) -> Any:\n"
              f"    return run_per_sample(cls, y_true, y_pred, "
              f"{', '.join(f'{k}={k}' for k in keys)})\n")
    scope: dict[str, Any] = {"run_per_sample": run_per_sample, "cls": cls, "Any": Any,
                             "ArrayLike": ArrayLike}
    exec(source, scope)
    fn: Callable[..., Any] = per_sample(cls)(scope[info["function"]])
    fn.__module__ = __name__
    return fn


CLASSES: dict[str, type[CompiledElementwiseLoss]] = {}
FUNCTIONS: dict[str, Callable[..., Any]] = {}
#: The functions' other names (fl.mse): a part of FUNCTIONS.
FUNCTION_ALIASES: dict[str, Callable[..., Any]] = {}
#: Other names fl.get takes for each declared class.
ALIASES: dict[str, type[CompiledElementwiseLoss]] = {}

for _kernel, _info in DECLARED.items():
    _cls = _make_class(_kernel, _info)
    CLASSES[_info["cls"]] = _cls
    FUNCTIONS[_info["function"]] = _make_function(_cls, _info)
    for _alias in _info["aliases"]:
        ALIASES[_alias] = _cls
    for _alias in _info["function_aliases"]:
        FUNCTIONS[_alias] = FUNCTION_ALIASES[_alias] = FUNCTIONS[_info["function"]]

globals().update(CLASSES)
globals().update(FUNCTIONS)
__all__ = sorted([*CLASSES, *FUNCTIONS])


def _signature(head: str, args: list[str], tail: str, indent: str = "") -> list[str]:
    """A def line of the stub, wrapped one argument a line past 100 columns."""
    one = f"{indent}{head}({', '.join(args)}){tail}"
    if len(one) <= 100:
        return [one]
    return [f"{indent}{head}("] + [f"{indent}    {a}," for a in args] + [f"{indent}){tail}"]


def stub_text() -> str:
    """The type stub of this module, from the declarations."""
    lines = ["# Generated from the loss declarations of the C++ core by",
             "# fastloss._declared.write_stub(): do not edit (docs/adding-a-loss.md).",
             "from typing import Any, Callable, Optional", "",
             "from numpy.typing import ArrayLike", "",
             "from ._elementwise import CompiledElementwiseLoss", "",
             "DECLARED: dict[str, dict[str, Any]]",
             "LOGITS: dict[str, dict[str, Any]]",
             "CLASSES: dict[str, type[CompiledElementwiseLoss]]",
             "FUNCTIONS: dict[str, Callable[..., Any]]",
             "FUNCTION_ALIASES: dict[str, Callable[..., Any]]",
             "ALIASES: dict[str, type[CompiledElementwiseLoss]]", "",
             "def parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...",
             "def stub_text() -> str: ...",
             "def write_stub(path: Optional[str] = None) -> None: ...", ""]
    for info in DECLARED.values():
        lines.append(f"class {info['cls']}(CompiledElementwiseLoss):")
        lines += [f"    {p['name']}: {p['type']}" for p in parameters(info)]
        lines += _signature("def __init__", ["self", *_arguments(info, True, True)],
                            " -> None: ...", "    ")
        lines.append("")
    for info in DECLARED.values():
        args = ["y_true: ArrayLike", "y_pred: ArrayLike", *_arguments(info, True, False)]
        lines += _signature(f"def {info['function']}", args, " -> Any: ...")
        lines += [f"{alias} = {info['function']}" for alias in info["function_aliases"]]
    lines += ["", "__all__ = ["] + [f"    {n!r}," for n in sorted([*CLASSES, *FUNCTIONS])]
    lines += ["]", ""]
    return "\n".join(lines)


def write_stub(path: Optional[str] = None) -> None:
    """Writes stub_text() to _declared.pyi beside this module, or to path: from a
    checkout, ``python -c "from fastloss import _declared;
    _declared.write_stub('python/fastloss/_declared.pyi')"``."""
    target = Path(path) if path else Path(__file__).with_suffix(".pyi")
    target.write_text(stub_text())


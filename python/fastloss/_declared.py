"""The losses declared in the C++ core: classes, names and functions made from
their declarations.

Every elementwise loss struct that carries a declaration (``kInfo``,
cpp/include/fastloss/losses/info.hpp) becomes, here and nowhere else:

* a class, subclass of :class:`CompiledElementwiseLoss`, whose constructor
  takes the declared parameters with their defaults (checked by the C++
  constructor against the declared range; boolean ones are kept as bools),
  ``from_logits`` where declared (or the flag of another declared name,
  ``log_input`` for the log-link losses; it picks the struct declared by
  ``logits_kernel_of``, which has no class of its own), ``reduction``,
  ``name`` and, where declared, ``axis`` (last, or before ``reduction`` as in
  Keras's cross-entropies); its docstring is assembled from the declaration;
* Keras's per-sample function (``huber(y_true, y_pred, delta=1.0)``) and its
  function aliases;
* the names and aliases ``fl.get`` takes (read by ``_registry``);
* the entries of ``_declared.pyi``, the type stub, which ``write_stub()``
  regenerates and a test holds equal to what it would write.

Every class-axis loss struct (``FASTLOSS_CLASSAXIS_LOSSES``) carries one too, and
becomes likewise a class, subclass of :class:`ClassAxisLoss` (of
:class:`OneInputLoss` for a loss of y_pred alone), whose constructor takes the
declared parameters by their kinds (flags, floats, per-class sequences, an
ignored label; keyword-only ones after ``name``) with ``axis`` where declared;
its per-sample function, that function with ``from_logits=True`` where declared
(``softmax_cross_entropy_with_logits``), names, aliases and stub entries.

Every multi-input loss struct (``FASTLOSS_MULTI_INPUT_LOSSES``: several
same-shaped inputs per element, targets first, trained inputs last) becomes a
class, subclass of :class:`DeclaredMultiInputLoss`, whose constructor takes
the declared parameters (numbers, flags, and strings among declared choices),
``reduction`` and ``name``; its docstring, names, aliases and stub entries.

The Python and C++ test suites draw their cases from the same declarations.
docs/adding-a-loss.md is the recipe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays, _classaxis, _core
from ._base import Loss, per_sample, run_per_sample
from ._classaxis import ClassAxisLoss, OneInputLoss
from ._elementwise import CompiledElementwiseLoss, _document
from ._multi_input import _MULTI_METHODS, DeclaredMultiInputLoss

_DECLARATIONS: dict[str, dict[str, Any]] = {
    kernel: dict(getattr(_core, kernel).info)
    for kernel in _core.ELEMENTWISE_KERNELS if hasattr(getattr(_core, kernel), "info")
}

#: Kernel (struct) name -> its declaration, in registry order: one per class.
DECLARED: dict[str, dict[str, Any]] = {
    kernel: info for kernel, info in _DECLARATIONS.items() if info["logits_of"] is None}

#: Class name -> the declaration of the struct it evaluates with from_logits=True
#: (or log_input=True: its flag, ``flag_name``) (``logits_kernel_of``: the class's
#: own declaration with the logits domain and the struct's hand values), its
#: struct name under "kernel".
LOGITS: dict[str, dict[str, Any]] = {
    info["logits_of"]: {**info, "kernel": kernel}
    for kernel, info in _DECLARATIONS.items() if info["logits_of"] is not None}

#: Kernel (struct) name -> the declaration of a class-axis loss, in registry order.
DECLARED_ROWS: dict[str, dict[str, Any]] = {
    kernel: {**getattr(_core, kernel).info, "input": getattr(_core, kernel).input}
    for kernel in _core.CLASSAXIS_KERNELS}

#: Kernel (struct) name -> the declaration of a multi-input loss, in registry order.
DECLARED_MULTI: dict[str, dict[str, Any]] = {
    kernel: dict(getattr(_core, kernel).info) for kernel in _core.MULTI_INPUT_KERNELS}

_REDUCTION = '"sum_over_batch_size"'
#: The classes' home: their public name, so that a pickle or a repr names
#: fastloss.<Class>, not the module that happens to make it.
_PUBLIC = "fastloss"


def flag_name(info: dict[str, Any]) -> Optional[str]:
    """The name of the class's flag that picks its second struct (``from_logits``,
    ``log_input``), None for a class without one."""
    return None if info["from_logits"] is None else str(info["from_logits"]["name"])


def parameters(info: dict[str, Any]) -> list[dict[str, Any]]:
    """The class's own parameters in its constructor's order: the declared ones,
    with ``from_logits`` (``log_input``: the declared flag, not a parameter of the
    struct) where it stands."""
    params = [dict(p) for p in info["params"]]
    if info["from_logits"] is not None:
        params.insert(info["from_logits"]["position"],
                      {"name": flag_name(info), "default": 0.0, "type": "bool", "range": "",
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


def _flag(value: Any, what: str, cls: str) -> bool:
    """A declared flag as a bool. A string is refused: Poisson's first positional
    parameter is log_input, where Keras's Poisson takes reduction, so
    ``Poisson("sum")`` would otherwise turn the flag on without a word."""
    if isinstance(value, str):
        raise TypeError(f"{cls}: {what} must be a bool, got {value!r} (pass reduction and "
                        f"name by keyword)")
    return bool(value)


def _make_class(kernel: str, info: dict[str, Any]) -> type[CompiledElementwiseLoss]:
    names = [p["name"] for p in info["params"]]
    base_args = "reduction=reduction, name=name" + (", axis=axis" if info["has_axis"] else "")
    body = []
    for p in parameters(info):
        n = p["name"]
        body.append(f"    self.{n} = _flag({n}, {n!r}, {info['cls']!r})" if p["type"] == "bool"
                    else f"    self.{n} = _arrays.real_param({n}, {n!r})")
    if info["from_logits"] is not None:
        # the struct is picked per instance, before the kernel is made
        body.append(f"    self._kernel_name = {LOGITS[info['cls']]['kernel']!r} "
                    f"if self.{flag_name(info)} else {kernel!r}")
    # typed as a written-out constructor is (the annotations kept as strings)
    source = "\n".join(
        ["from __future__ import annotations",
         f"def __init__(self, {', '.join(_arguments(info, True, True))}) -> None:"] + body
        + [f"    CompiledElementwiseLoss.__init__(self, {base_args})"])
    scope: dict[str, Any] = {"_arrays": _arrays, "_flag": _flag,
                             "CompiledElementwiseLoss": CompiledElementwiseLoss}
    exec(source, scope)  # a real signature: introspection, get_config and stubs read it
    init = scope["__init__"]
    init.__qualname__ = f"{info['cls']}.__init__"

    def _kernel_params(self: CompiledElementwiseLoss) -> tuple[float, ...]:
        return tuple(float(getattr(self, n)) for n in names)

    cls = type(info["cls"], (CompiledElementwiseLoss,), {
        "__init__": init, "_kernel_params": _kernel_params, "_kernel_name": kernel,
        "_default_name": info["default_name"], "_no_hessian_reason": info["no_hessian"],
        # the class answers as its instances do (each instance sets it again from its kernel)
        "has_hessian": bool(info["has_hessian"]),
        "_per_element": info["axis"] == "elementwise",
        "__module__": _PUBLIC, "__qualname__": info["cls"],
    })
    _document(cls, info["summary"], info["formula"], info["gradient"], info["hessian"],
              params=_params_doc(info), notes=info["notes"],
              per_element=info["axis"] == "elementwise")
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

# -- the class-axis losses ------------------------------------------------------------

#: Annotations of the class-axis parameters by declared type: in the class's
#: constructor, in the per-sample function, and of the attribute it keeps.
_ROW_TYPES = {
    "bool": ("bool", "bool", "bool"),
    "float": ("float", "float", "float"),
    "per_class": ("Any", "Optional[Sequence[float]]", "Optional[tuple[float, ...]]"),
    "float_or_per_class": ("Any", "Union[float, Sequence[float]]",
                           "Union[float, tuple[float, ...]]"),
    "ignored_label": ("Optional[int]", "Optional[int]", "Optional[int]"),
    "ignored_value": ("Optional[float]", "Optional[float]", "Optional[float]"),
}
#: How the constructor keeps a parameter of each type (the checks of _classaxis).
_ROW_KEEP = {
    "bool": "bool({n})", "float": "_arrays.real_param({n}, {n!r})",
    "per_class": "_classaxis.per_class_param({n}, {n!r})",
    "float_or_per_class": "_classaxis.float_or_per_class_param({n}, {n!r})",
    "ignored_label": "_classaxis.ignored_label_param({n}, {n!r})",
    "ignored_value": "_classaxis.ignored_value_param({n}, {n!r})",
}
#: The docstring's type and default words.
_ROW_DOC_TYPES = {"bool": "bool", "float": "float", "per_class": "sequence of float",
                  "float_or_per_class": "float or sequence of float", "ignored_label": "int",
                  "ignored_value": "float"}


def row_parameters(info: dict[str, Any]) -> list[dict[str, Any]]:
    """A class-axis class's own parameters in its constructor's order, each with
    its Python default (None for per_class and ignored_label)."""
    params = [dict(p) for p in info["params"]]
    for p in params:
        p["default"] = (bool(p["default"]) if p["type"] == "bool"
                        else None if p["type"] in ("per_class", "ignored_label", "ignored_value")
                        else float(p["default"]))
    return params


def _row_arguments(info: dict[str, Any], where: int, with_options: bool,
                   defaults: Optional[dict[str, Any]] = None) -> list[str]:
    """The class's (where 0) or function's (where 1) parameters as source text,
    in the declared order: the positional ones, axis, reduction and name as the
    declaration places them, then the keyword-only ones after ``*``."""
    defaults = defaults or {}

    def arg(name: str, annotation: str, default: Any) -> str:
        return f"{name}: {annotation} = {default!r}"
    own = [arg(p["name"], _ROW_TYPES[p["type"]][where], defaults.get(p["name"], p["default"]))
           for p in row_parameters(info) if not p["keyword_only"]]
    keyword = [arg(p["name"], _ROW_TYPES[p["type"]][where], p["default"])
               for p in row_parameters(info) if p["keyword_only"]]
    axis, options = arg("axis", "int", -1), []
    if info["axis"] == "axes":  # Keras's segmentation losses: None reduces over every axis
        axis = "axis: Union[int, tuple[int, ...], None] = None"
    if with_options:
        options = [f"reduction: Optional[str] = {_REDUCTION}", "name: Optional[str] = None"]
    place = info["axis"]
    if place == "before_reduction":
        args = own + [axis] + options
    elif place == "before_name":
        args = own + options[:1] + [axis] + options[1:]
    else:
        args = own + options + [axis]
    return args + (["*", *keyword] if keyword else [])


def _row_params_doc(info: dict[str, Any]) -> str:
    lines = []
    names = [a.split(":")[0] for a in _row_arguments(info, 0, False) if a != "*"]
    by_name = {p["name"]: p for p in row_parameters(info)}
    for n in names:
        if n == "axis":
            lines.append(_classaxis.AXES_DOC if info["axis"] == "axes" else _classaxis.AXIS_DOC)
            continue
        p = by_name[n]
        default = "optional" if p["default"] is None else f"default {p['default']!r}"
        lines += [f"{n} : {_ROW_DOC_TYPES[p['type']]}, {default}", f"    {p['doc']}"]
    return "\n".join(lines)


def _row_base(info: dict[str, Any]) -> type[ClassAxisLoss]:
    return OneInputLoss if info["input"] == "none" else ClassAxisLoss


def _make_row_class(kernel: str, info: dict[str, Any]) -> type[ClassAxisLoss]:
    params = row_parameters(info)
    kernel_params = [p["name"] for p in params if p["type"] != "ignored_label"]
    body = [f"    self.{p['name']} = " + _ROW_KEEP[p["type"]].format(n=p["name"]) for p in params]
    source = "\n".join(
        ["from __future__ import annotations",
         f"def __init__(self, {', '.join(_row_arguments(info, 0, True))}) -> None:"] + body
        + ["    ClassAxisLoss.__init__(self, reduction=reduction, name=name, axis=axis)"])
    scope: dict[str, Any] = {"_arrays": _arrays, "_classaxis": _classaxis,
                             "ClassAxisLoss": ClassAxisLoss}
    exec(source, scope)  # a real signature: introspection, get_config and stubs read it
    init = scope["__init__"]
    init.__qualname__ = f"{info['cls']}.__init__"

    def _make_kernel(self: ClassAxisLoss) -> Any:
        def kernel_arg(value: Any) -> Any:  # a per-class value goes as a list
            if isinstance(value, tuple):
                return list(value)
            return [] if value is None else value
        args = {n: getattr(self, n) for n in kernel_params}
        for p in params:
            if p["type"] == "float_or_per_class" and isinstance(args[p["name"]], float):
                args[p["name"]] = [args[p["name"]]]
            if p["type"] == "ignored_value" and args[p["name"]] is None:
                args[p["name"]] = math.nan  # the struct's "nothing ignored"
        return getattr(_core, kernel)(**{n: kernel_arg(v) for n, v in args.items()})

    namespace: dict[str, Any] = {
        "__init__": init, "_make_kernel": _make_kernel, "_kernel_name": kernel,
        "_default_name": info["default_name"], "_input": info["input"],
        # the class answers for its default parameters (MultiMargin: p=1 has none);
        # each instance sets it again from its kernel
        "has_hessian": bool(info["has_hessian"]),
        "_warn_single_class": info["warn_single_class"], "_axes": info["axis"] == "axes",
        "_targets": info["targets"], "_class_weighted_mean": info["class_weighted_mean"],
        "_per_class_params": tuple(p["name"] for p in params
                                   if p["type"] == "float_or_per_class"),
        "__module__": _PUBLIC, "__qualname__": info["cls"],
    }
    for kind, attribute in (("per_class", "_label_weight_param"),
                            ("ignored_label", "_ignored_label_param")):
        named = [p["name"] for p in params if p["type"] == kind]
        if named:  # one of each at most: the rows have one label
            namespace[attribute] = named[0]
    if info["no_hessian"]:
        namespace["_no_hessian_reason"] = info["no_hessian"]
    cls = type(info["cls"], (_row_base(info),), namespace)
    _classaxis.document_rows(cls, info["summary"], info["formula"], info["gradient"],
                             info["hessian"], _row_params_doc(info), info["notes"],
                             info["input"])
    return cls


def _row_function_arguments(info: dict[str, Any],
                            preset: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The per-sample function's inputs and parameters as source text."""
    inputs = ["y_pred: ArrayLike"] if info["input"] == "none" else [
        "y_true: ArrayLike", "y_pred: ArrayLike"]
    return inputs, _row_arguments(info, 1, False, preset)


def _row_function_source(info: dict[str, Any], name: str, preset: dict[str, Any]) -> str:
    inputs, args = _row_function_arguments(info, preset)
    keys = [a.split(":")[0] for a in args if a != "*"]
    return (f"def {name}({', '.join([*inputs, *args])}) -> Any:\n"
            f"    return run_per_sample(cls, {', '.join(i.split(':')[0] for i in inputs)}, "
            f"{', '.join(f'{k}={k}' for k in keys)})\n")


def _make_row_function(cls: type[Loss], info: dict[str, Any], name: str,
                       preset: dict[str, Any]) -> Callable[..., Any]:
    scope: dict[str, Any] = {"run_per_sample": run_per_sample, "cls": cls, "Any": Any,
                             "ArrayLike": ArrayLike, "Optional": Optional, "Union": Union,
                             "Sequence": Sequence}
    exec("from __future__ import annotations\n" + _row_function_source(info, name, preset),
         scope)
    fn: Callable[..., Any] = per_sample(cls, **preset)(scope[name])
    fn.__module__ = __name__
    return fn



# -- the multi-input losses -------------------------------------------------------------

def multi_parameters(info: dict[str, Any]) -> list[dict[str, Any]]:
    """A multi-input class's parameters in its constructor's order, each with its
    Python default (a bool for a flag, the word for a parameter of choices)."""
    params = [dict(p) for p in info["params"]]
    for p in params:
        p["default"] = (bool(p["default"]) if p["type"] == "bool"
                        else p["choices"][int(p["default"])] if p["type"] == "str"
                        else float(p["default"]))
    return params


def _multi_arguments(info: dict[str, Any]) -> list[str]:
    args = [f"{p['name']}: {p['type']} = {p['default']!r}" for p in multi_parameters(info)]
    return args + [f"reduction: Optional[str] = {_REDUCTION}", "name: Optional[str] = None"]


def _strict_flag(value: Any, what: str, cls: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{cls}: {what} must be a bool, got {value!r}")
    return bool(value)


def _choice(value: Any, what: str, cls: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{cls}: {what} must be a string, got {value!r}")
    if value not in choices:
        raise ValueError(f"{cls}: {what} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")
    return value


def _multi_doc(info: dict[str, Any]) -> str:
    inputs = info["inputs"]
    trained = [i["name"] for i in inputs if i["trained"]]
    call = ", ".join(i["name"] for i in inputs)
    grads = ", ".join(f"grad_{n}" for n in trained)
    lines = [info["summary"], "", "::", "", f"    loss:      {info['formula']}",
             f"    gradient:  {info['gradient']}"]
    if info["hessian"]:
        lines.append(f"    Hessian:   {info['hessian']}")
    lines += ["", f"Called ``loss({call})``; ``backward`` returns "
              + (f"``({grads})``." if len(trained) > 1 else f"``{grads}`` in a 1-tuple.")]
    if info["axis"] == "elementwise":
        lines += ["Every element is a sample (PyTorch's elementwise convention): "
                  "``reduction=\"none\"`` returns the inputs' shape."]
    else:
        lines += ["Each sample's loss is the mean over the last axis (Keras's per-sample "
                  "mean), then Keras's sample weights and reduction."]
    lines += ["", "Inputs: " + "; ".join(f"``{i['name']}``: {i['doc']}" for i in inputs),
              "", "Parameters", "----------"]
    for p in multi_parameters(info):
        kind = {"bool": "bool", "str": "str", "float": "float"}[p["type"]]
        rule = "" if p["type"] in ("bool", "str") else f" Must {p['range']}."
        lines += [f"{p['name']} : {kind}, default {p['default']!r}", f"    {p['doc']}{rule}"]
    lines += ["reduction, name", "    Keras's reductions of the per-sample losses, and the name.",
              "", "Notes", "-----", info["notes"], "", _MULTI_METHODS]
    return "\n".join(lines)


def _make_multi_class(kernel: str, info: dict[str, Any]) -> type[DeclaredMultiInputLoss]:
    params = multi_parameters(info)
    cls_name = info["cls"]
    body = []
    for p in params:
        n = p["name"]
        body.append(f"    self.{n} = _strict_flag({n}, {n!r}, {cls_name!r})" if p["type"] == "bool"
                    else f"    self.{n} = _choice({n}, {n!r}, {cls_name!r}, {p['choices']!r})"
                    if p["type"] == "str" else f"    self.{n} = _arrays.real_param({n}, {n!r})")
    source = "\n".join(
        ["from __future__ import annotations",
         f"def __init__(self, {', '.join(_multi_arguments(info))}) -> None:",
         "    DeclaredMultiInputLoss.__init__(self, reduction=reduction, name=name)"] + body
        + ["    self._kernel = self._make_kernel()"])
    scope: dict[str, Any] = {"_arrays": _arrays, "_strict_flag": _strict_flag,
                             "_choice": _choice, "DeclaredMultiInputLoss": DeclaredMultiInputLoss}
    exec(source, scope)  # a real signature: introspection, get_config and stubs read it
    init = scope["__init__"]
    init.__qualname__ = f"{cls_name}.__init__"

    def _kernel_params(self: DeclaredMultiInputLoss) -> list[float]:
        return [float(p["choices"].index(getattr(self, p["name"]))) if p["type"] == "str"
                else float(getattr(self, p["name"])) for p in params]

    n_inputs = len(info["inputs"])
    cls = type(cls_name, (DeclaredMultiInputLoss,), {
        "__init__": init, "_kernel_params": _kernel_params, "_kernel_name": kernel,
        "_info": info, "_inputs": tuple(i["name"] for i in info["inputs"]),
        "_n_targets": n_inputs - info["n_trained"], "_n_trained": info["n_trained"],
        "_default_name": info["default_name"], "has_hessian": info["has_hessian"],
        "_no_hessian_reason": info["no_hessian"], "__doc__": _multi_doc(info),
        "__module__": _PUBLIC, "__qualname__": cls_name,
    })
    return cls


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

#: The class-axis classes by name.
ROW_CLASSES: dict[str, type[ClassAxisLoss]] = {}
#: Other names fl.get takes for each class-axis class.
ROW_ALIASES: dict[str, type[ClassAxisLoss]] = {}

for _kernel, _info in DECLARED_ROWS.items():
    _row_cls = _make_row_class(_kernel, _info)
    ROW_CLASSES[_info["cls"]] = _row_cls
    FUNCTIONS[_info["function"]] = _make_row_function(_row_cls, _info, _info["function"], {})
    if _info["logits_function"]:
        # the function with from_logits=True (fl.get reads its preset from per_sample)
        FUNCTIONS[_info["logits_function"]] = _make_row_function(
            _row_cls, _info, _info["logits_function"], {"from_logits": True})
    for _alias in _info["aliases"]:
        ROW_ALIASES[_alias] = _row_cls
    for _alias in _info["function_aliases"]:
        FUNCTIONS[_alias] = FUNCTION_ALIASES[_alias] = FUNCTIONS[_info["function"]]

#: The multi-input classes by name, and the other names fl.get takes for them.
MULTI_CLASSES: dict[str, type[DeclaredMultiInputLoss]] = {}
MULTI_ALIASES: dict[str, type[DeclaredMultiInputLoss]] = {}

for _kernel, _info in DECLARED_MULTI.items():
    _multi_cls = _make_multi_class(_kernel, _info)
    MULTI_CLASSES[_info["cls"]] = _multi_cls
    for _alias in _info["aliases"]:
        MULTI_ALIASES[_alias] = _multi_cls

globals().update(CLASSES)
globals().update(ROW_CLASSES)
globals().update(MULTI_CLASSES)
globals().update(FUNCTIONS)
__all__ = sorted([*CLASSES, *ROW_CLASSES, *MULTI_CLASSES, *FUNCTIONS])


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
             "from collections.abc import Sequence",
             "from typing import Any, Callable, Optional, Union", "",
             "from numpy.typing import ArrayLike", "",
             "from ._classaxis import ClassAxisLoss, OneInputLoss",
             "from ._elementwise import CompiledElementwiseLoss",
             "from ._multi_input import DeclaredMultiInputLoss", "",
             "DECLARED: dict[str, dict[str, Any]]",
             "DECLARED_ROWS: dict[str, dict[str, Any]]",
             "DECLARED_MULTI: dict[str, dict[str, Any]]",
             "LOGITS: dict[str, dict[str, Any]]",
             "CLASSES: dict[str, type[CompiledElementwiseLoss]]",
             "ROW_CLASSES: dict[str, type[ClassAxisLoss]]",
             "FUNCTIONS: dict[str, Callable[..., Any]]",
             "FUNCTION_ALIASES: dict[str, Callable[..., Any]]",
             "ALIASES: dict[str, type[CompiledElementwiseLoss]]",
             "ROW_ALIASES: dict[str, type[ClassAxisLoss]]",
             "MULTI_CLASSES: dict[str, type[DeclaredMultiInputLoss]]",
             "MULTI_ALIASES: dict[str, type[DeclaredMultiInputLoss]]", "",
             "def flag_name(info: dict[str, Any]) -> Optional[str]: ...",
             "def parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...",
             "def row_parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...",
             "def multi_parameters(info: dict[str, Any]) -> list[dict[str, Any]]: ...",
             "def stub_text() -> str: ...",
             "def write_stub(path: Optional[str] = None) -> None: ...", ""]
    for info in DECLARED.values():
        lines.append(f"class {info['cls']}(CompiledElementwiseLoss):")
        lines += [f"    {p['name']}: {p['type']}" for p in parameters(info)]
        lines += _signature("def __init__", ["self", *_arguments(info, True, True)],
                            " -> None: ...", "    ")
        lines.append("")
    for info in DECLARED_ROWS.values():
        lines.append(f"class {info['cls']}({_row_base(info).__name__}):")
        lines += [f"    {p['name']}: {_ROW_TYPES[p['type']][2]}" for p in row_parameters(info)]
        lines += _signature("def __init__", ["self", *_row_arguments(info, 0, True)],
                            " -> None: ...", "    ")
        lines.append("")
    for info in DECLARED_MULTI.values():
        lines.append(f"class {info['cls']}(DeclaredMultiInputLoss):")
        lines += [f"    {p['name']}: {p['type']}" for p in multi_parameters(info)]
        lines += _signature("def __init__", ["self", *_multi_arguments(info)], " -> None: ...",
                            "    ")
        lines.append("")
    for info in DECLARED.values():
        args = ["y_true: ArrayLike", "y_pred: ArrayLike", *_arguments(info, True, False)]
        lines += _signature(f"def {info['function']}", args, " -> Any: ...")
        lines += [f"{alias} = {info['function']}" for alias in info["function_aliases"]]
    for info in DECLARED_ROWS.values():
        presets = [(info["function"], {})] + (
            [(info["logits_function"], {"from_logits": True})] if info["logits_function"] else [])
        for name, preset in presets:
            inputs, args = _row_function_arguments(info, preset)
            lines += _signature(f"def {name}", [*inputs, *args], " -> Any: ...")
        lines += [f"{alias} = {info['function']}" for alias in info["function_aliases"]]
    lines += ["", "__all__ = ["] + [f"    {n!r}," for n in __all__]
    lines += ["]", ""]
    return "\n".join(lines)


def write_stub(path: Optional[str] = None) -> None:
    """Writes stub_text() to _declared.pyi beside this module, or to path: from a
    checkout, ``python -c "from fastloss import _declared;
    _declared.write_stub('python/fastloss/_declared.pyi')"``."""
    target = Path(path) if path else Path(__file__).with_suffix(".pyi")
    target.write_text(stub_text())


"""The Loss base class: the four methods every loss has (forward, backward,
forward_backward, gradient_hessian)."""

from __future__ import annotations

import copy
import importlib
import inspect
import math
from typing import Any, Callable, ClassVar, Optional, TypeVar

import numpy as np

from . import _arrays, _dask

_SHARED_PARAMS = """\
reduction : {"sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None}
    Keras 3's reductions of the weighted per-sample losses. Default "sum_over_batch_size".
name : str, optional
    Name of the loss object (Keras's)."""


_METHODS = """\
Methods: ``loss(y_true, y_pred, sample_weight)`` (= ``forward``), ``backward``,
``forward_backward`` (one fused pass, ``out=`` may be ``y_pred``) and
``gradient_hessian`` (per element, unreduced).
float32 inputs are computed in float32, float64 in float64; the per-sample mean
over the axis and the reduction accumulate in float64."""


def document(cls: type, summary: str, header: str, formula: str, gradient: str,
             hessian: str, *, hessian_note: str = "", per_sample: str = "", params: str = "",
             notes: str = "", methods: str = _METHODS) -> None:
    """Assembles a loss class's numpydoc docstring from its own parts and the
    text every loss shares (parameters, methods), so that is written once."""
    parts = [summary, "", header, "", f"    loss = {formula}", f"    dloss/dp = {gradient}"]
    parts.append(f"    d2loss/dp2 = {hessian}{hessian_note}" if hessian else "")
    if per_sample:
        parts += ["", per_sample]
    parts += ["", "Parameters", "----------"]
    if params:
        parts.append(params)
    parts += [_SHARED_PARAMS, "", "Notes", "-----", methods]
    if notes:
        parts += ["", notes]
    cls.__doc__ = "\n".join(parts)


def check_weight(weight: Any) -> float:
    """A term's weight in a sum of losses: a finite real number."""
    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, (int, float, np.number)):
        raise TypeError(f"a loss can be multiplied by a real number only, got {weight!r}")
    w = float(weight)
    if not math.isfinite(w):
        raise ValueError(f"a loss weight must be finite, got {w}")
    return w


#: Builds a weighted sum of losses from (weight, loss) terms. The composite
#: class sits above this module (it is a multi-input loss), so it registers
#: itself here when it is defined instead of being imported by the base.
_composite_factory: Optional[Callable[[list[tuple[float, Any]]], Any]] = None


def register_composite(factory: Callable[[list[tuple[float, Any]]], Any]) -> None:
    """Called once by ``_custom``: what ``a + b`` and ``w * a`` build."""
    global _composite_factory
    _composite_factory = factory


def _compose(terms: list[tuple[float, Any]]) -> Any:
    if _composite_factory is None:  # pragma: no cover - fastloss/__init__ imports _custom
        raise RuntimeError("fastloss._custom was not imported: no composite loss class")
    return _composite_factory(terms)


#: Every loss class, by module and name, for deserialize (filled by
#: Combinable.__init_subclass__, so user subclasses are found as well).
_CLASSES: dict[tuple[str, str], type[Combinable]] = {}

#: Each class's constructor parameters (Combinable._signature), computed once.
_SIGNATURES: dict[type, list[inspect.Parameter]] = {}

_PUBLIC_MODULE = "fastloss"


def _public_module(cls: type) -> str:
    """"fastloss" for the package's own classes (exported from the top-level
    package), else the module the class was defined in."""
    module = cls.__module__
    return _PUBLIC_MODULE if module.split(".", 1)[0] == _PUBLIC_MODULE else module


_C = TypeVar("_C", bound="Combinable")


class Combinable:
    """What every loss object shares: the reduction and name, Keras-style
    introspection and serialization, value semantics (pickle and deepcopy
    rebuild the object from its config) and arithmetic (``0.7 * a + 0.3 * b``
    builds a :class:`fastloss.CompositeLoss` whose four methods are the
    weighted sums of the terms', each term evaluated in its own fused pass).

    ``get_config()`` holds every constructor parameter: a subclass stores each
    one under its own name (or names the attribute in ``_config_attrs``)."""

    _default_name: str = "loss"
    #: Constructor parameter -> the attribute holding it, where they differ.
    _config_attrs: ClassVar[dict[str, str]] = {}

    def __init__(self, reduction: Optional[str] = "sum_over_batch_size",
                 name: Optional[str] = None) -> None:
        self.reduction = _arrays.check_reduction(reduction)
        self.name = name if name is not None else self._default_name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[(_public_module(cls), cls.__qualname__)] = cls

    # -- Keras-style introspection ------------------------------------------
    @classmethod
    def _signature(cls) -> list[inspect.Parameter]:
        """The constructor's named parameters in its order; where it takes
        ``**kwargs`` (a subclass passing them on), its base's follow."""
        cached = _SIGNATURES.get(cls)
        if cached is not None:
            return cached
        own = list(inspect.signature(cls.__init__).parameters.values())[1:]
        params = [p for p in own if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if any(p.kind == p.VAR_KEYWORD for p in own):
            base = next((b for b in cls.__mro__[1:] if "__init__" in vars(b)), None)
            if isinstance(base, type) and issubclass(base, Combinable):
                names = {p.name for p in params}
                params += [p for p in base._signature() if p.name not in names]
        _SIGNATURES[cls] = params
        return params

    @classmethod
    def _parameters(cls) -> list[inspect.Parameter]:
        """The constructor's parameters in config order: "name" and
        "reduction" first (as Keras's configs), then the constructor's order."""
        params = cls._signature()
        first = [p for n in ("name", "reduction") for p in params if p.name == n]
        return first + [p for p in params if p.name not in ("name", "reduction")]

    def get_config(self) -> dict[str, Any]:
        """Every constructor parameter as it was given (after validation):
        ``type(loss)(**loss.get_config())`` is the same loss."""
        return {p.name: getattr(self, self._config_attrs.get(p.name, p.name))
                for p in self._parameters()}

    @classmethod
    def from_config(cls: type[_C], config: dict[str, Any]) -> _C:
        """The loss ``get_config()`` describes (Keras's ``from_config``).
        Unknown keys raise a TypeError that names them."""
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config expects a dict, "
                            f"got {type(config).__name__}")
        known = {p.name for p in cls._parameters()}
        unknown = [k for k in config if k not in known]
        if unknown:
            raise TypeError(f"{cls.__name__}.from_config: unknown parameter(s) "
                            f"{', '.join(map(repr, unknown))}; {cls.__name__} takes "
                            f"{', '.join(sorted(known))}")
        return cls(**config)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle and deepcopy go through the config: the compiled kernel object
        # is not picklable, and rebuilding it from the parameters is what
        # from_config does anyway.
        return (_rebuild, (type(self), self.get_config()))

    def __sklearn_clone__(self) -> Any:
        # sklearn.base.clone: a loss is not an estimator (no get_params), but
        # an estimator's loss parameter is cloned as a fresh equal loss.
        return _rebuild(type(self), copy.deepcopy(self.get_config()))

    def __repr__(self) -> str:
        """The constructor call with every non-default parameter (and no other)."""
        config = self.get_config()
        args = []
        for p in self._signature():
            if p.name == "name":
                continue
            value = config[p.name]
            if p.default is inspect.Parameter.empty or not _same(value, p.default):
                args.append(f"{p.name}={value!r}")
        if self.name != self._default_name:
            args.append(f"name={self.name!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    # NumPy must not broadcast `array * loss` into an object array of sums:
    # returning NotImplemented from here makes it a TypeError.
    __array_ufunc__ = None

    def _as_terms(self) -> list[tuple[float, Any]]:
        return [(1.0, self)]

    def __mul__(self, weight: Any) -> Any:
        w = check_weight(weight)
        return _compose([(w * c, t) for c, t in self._as_terms()])

    __rmul__ = __mul__

    def __truediv__(self, divisor: Any) -> Any:
        d = check_weight(divisor)
        if d == 0.0:
            raise ZeroDivisionError("dividing a loss by zero")
        return self * (1.0 / d)

    def __neg__(self) -> Any:
        return self * -1.0

    def __add__(self, other: Any) -> Any:
        if isinstance(other, (int, float)) and not isinstance(other, bool) and other == 0:
            return _compose(self._as_terms())  # sum([...]) starts from 0
        if not isinstance(other, Combinable):
            return NotImplemented
        return _compose(self._as_terms() + other._as_terms())

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if not isinstance(other, Combinable):
            return NotImplemented
        return self + (-other)


def _same(value: Any, default: Any) -> bool:
    """Whether a config value is its parameter's default (for repr)."""
    if type(value) is bool or type(default) is bool:
        return type(value) is type(default) and value == default
    try:
        return bool(value == default)
    except Exception:  # e.g. arrays: never the default
        return False


def _rebuild(cls: type[Combinable], config: dict[str, Any]) -> Any:
    return cls.from_config(config)


# ---------------------------------------------------------------------------
# Keras's serialization format: {"module", "class_name", "config", "registered_name"}

_SERIALIZED_KEYS = ("module", "class_name", "config", "registered_name")
#: Modules whose class names are read as fastloss's (a Keras loss serialized by
#: keras.losses.serialize names fastloss's class of the same name).
_FASTLOSS_MODULES = (None, _PUBLIC_MODULE, "keras", "keras.losses")


def serialize(loss: Any) -> dict[str, Any]:
    """A loss as Keras serializes one (``keras.losses.serialize``)::

        {"module": "fastloss", "class_name": "Huber",
         "config": {"name": "huber_loss", "reduction": "sum_over_batch_size", "delta": 0.5},
         "registered_name": None}

    The config is JSON-compatible except for the callables of an
    :class:`fastloss.ElementwiseLoss`; a composite's terms are serialized too.
    ``registered_name`` is None for fastloss's classes and
    ``"module>ClassName"`` for a user's subclass."""
    if not isinstance(loss, Combinable):
        raise TypeError(f"serialize expects a fastloss loss object, got {type(loss).__name__}")
    cls = type(loss)
    module = _public_module(cls)
    return {"module": module, "class_name": cls.__qualname__, "config": loss.get_config(),
            "registered_name": None if module == _PUBLIC_MODULE
            else f"{module}>{cls.__qualname__}"}


def _find_class(module: Optional[str], class_name: str) -> type[Combinable]:
    key_module = _PUBLIC_MODULE if module in _FASTLOSS_MODULES else module
    assert key_module is not None
    cls = _CLASSES.get((key_module, class_name))
    if cls is None and key_module != _PUBLIC_MODULE:
        try:
            importlib.import_module(key_module)  # defining the class registers it
        except ImportError as exc:
            raise ValueError(f"cannot deserialize {class_name!r}: its module {key_module!r} "
                             f"cannot be imported ({exc})") from None
        cls = _CLASSES.get((key_module, class_name))
    if cls is None:
        known = ", ".join(sorted(n for m, n in _CLASSES if m == _PUBLIC_MODULE
                                 and not n.startswith("_")))
        where = "fastloss" if key_module == _PUBLIC_MODULE else f"module {key_module!r}"
        raise ValueError(f"unknown loss class {class_name!r} in {where}; fastloss's classes: "
                         f"{known}")
    return cls


def deserialize(config: Any) -> Any:
    """The loss a :func:`serialize` dict describes (``keras.losses.deserialize``).

    ``module`` and ``registered_name`` are optional; a module of "keras.losses"
    names fastloss's class of the same name. A malformed dict raises a
    ValueError or TypeError that names the problem."""
    if not isinstance(config, dict):
        raise TypeError(f"deserialize expects a dict, got {type(config).__name__}")
    extra = [k for k in config if k not in _SERIALIZED_KEYS]
    if extra:
        raise ValueError(f"a serialized loss has the keys {', '.join(_SERIALIZED_KEYS)}; got "
                         f"unknown key(s) {', '.join(map(repr, extra))}")
    if "class_name" not in config:
        raise ValueError("a serialized loss needs a 'class_name' (and a 'config')")
    class_name, module = config["class_name"], config.get("module")
    if not isinstance(class_name, str):
        raise TypeError(f"'class_name' must be a string, got {type(class_name).__name__}")
    if module is not None and not isinstance(module, str):
        raise TypeError(f"'module' must be a string or None, got {type(module).__name__}")
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise TypeError(f"'config' of {class_name} must be a dict, got {type(inner).__name__}")
    return _find_class(module, class_name).from_config(inner)


class Loss(Combinable):
    """Base class of every fastloss loss.

    Subclasses implement ``_run``; this class fixes the public methods:
    ``__call__``/``forward``, ``backward``, ``forward_backward`` and
    ``gradient_hessian``.
    """

    #: True when ``gradient_hessian`` is available.
    has_hessian: bool = False
    #: Why there is no Hessian (the NotImplementedError's message).
    _no_hessian_reason: str = ""
    #: Inputs the loss compares against / inputs it differentiates (composites
    #: use these to hand each term its arguments).
    _n_targets: int = 1
    _n_trained: int = 1

    # -- the public methods -------------------------------------------------
    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """Same as :meth:`forward`."""
        return self.forward(y_true, y_pred, sample_weight)

    def forward(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        """The loss: per-sample losses, times ``sample_weight``, reduced.

        Returns a NumPy scalar of the compute dtype, or the per-sample array
        when ``reduction`` is "none"."""
        value, _ = self._pass(y_true, y_pred, sample_weight, want_value=True, want_grad=False)
        return value

    def backward(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 grad_output: Any = 1.0, out: Optional[np.ndarray] = None) -> np.ndarray:
        """d(forward)/d(y_pred) times ``grad_output``, shaped like ``y_pred``.

        ``grad_output`` is a scalar, or with reduction "none" an array of the
        per-sample shape. ``out`` receives the gradient (it may be ``y_pred``)."""
        _, grad = self._pass(y_true, y_pred, sample_weight, want_value=False, want_grad=True,
                             grad_output=grad_output, out=out)
        return grad

    def forward_backward(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                         grad_output: Any = 1.0,
                         out: Optional[np.ndarray] = None) -> tuple[Any, np.ndarray]:
        """(forward, backward) from one fused pass over the inputs."""
        return self._pass(y_true, y_pred, sample_weight, want_value=True, want_grad=True,
                          grad_output=grad_output, out=out)

    def gradient_hessian(self, y_true: Any, y_pred: Any,
                         sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian diagonal of the unreduced per-element loss.

        No mean over the axis and no reduction: the convention of XGBoost /
        LightGBM custom objectives and scikit-learn's loss module. Both are
        multiplied by ``sample_weight`` (per sample, or per element)."""
        if not self.has_hessian:
            raise NotImplementedError(
                f"{type(self).__name__} has no gradient_hessian: {self._no_hessian_reason}"
            )
        return self._hessians(y_true, y_pred, sample_weight)

    # -- dask arrays ----------------------------------------------------------
    # The public methods run through these two: a dask array among the inputs
    # makes the call lazy (fastloss._dask); dask is not
    # imported for the test.
    def _pass(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
              want_grad: bool, grad_output: Any = 1.0, out: Any = None) -> tuple[Any, Any]:
        if _dask.ARRAY_MODULE in _dask.MODULES and _dask.holds_dask(  # (a dict look-up first:
                y_true, y_pred, sample_weight, grad_output):           # small calls stay fast)
            return _dask.run(self, y_true, y_pred, sample_weight, want_value=want_value,
                             want_grad=want_grad, grad_output=grad_output, out=out)
        return self._run(y_true, y_pred, sample_weight, want_value=want_value,
                         want_grad=want_grad, grad_output=grad_output, out=out)

    def _hessians(self, y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Any, Any]:
        if _dask.holds_dask(y_true, y_pred, sample_weight):
            return _dask.gradient_hessian(self, y_true, y_pred, sample_weight)
        return self._gradient_hessian(y_true, y_pred, sample_weight)

    # -- for subclasses -----------------------------------------------------
    def _run(self, y_true: Any, y_pred: Any, sample_weight: Any, *, want_value: bool,
             want_grad: bool, grad_output: Any = 1.0,
             out: Optional[np.ndarray] = None) -> tuple[Any, Any]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _gradient_hessian(self, y_true: Any, y_pred: Any,
                          sample_weight: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError  # pragma: no cover - abstract


# -- Keras's per-sample functions (_functions, _declared) -----------------------

_F = TypeVar("_F", bound=Callable[..., Any])

#: Each per-sample function -> (its loss class, the parameters it presets).
PER_SAMPLE: dict[Callable[..., Any], tuple[type[Loss], dict[str, Any]]] = {}


def per_sample(cls: type[Loss], **preset: Any) -> Callable[[_F], _F]:
    """Records fn as the per-sample function of cls (with preset parameters)."""
    def record(fn: _F) -> _F:
        PER_SAMPLE[fn] = (cls, preset)
        fn.__doc__ = (
            f"Per-sample {cls.__name__} losses (Keras's ``{fn.__name__}``): the loss of each "
            f"sample (reduced over the axis as Keras does), unreduced.\n\nSee "
            f":class:`fastloss.{cls.__name__}`.")
        return fn
    return record


def run_per_sample(cls: type[Loss], *inputs: Any, **options: Any) -> Any:
    return cls(**options, reduction="none")(*inputs)

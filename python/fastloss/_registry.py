"""Names: Keras class names, Keras function names and aliases -> loss classes.

``get(name)`` returns a loss object (also from a serialized dict). The
per-sample functions (``mean_squared_error(y_true, y_pred)``, ...) are defined
in ``_functions``; the function names come from there.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _declared
from ._base import Combinable, Loss, deserialize
from ._classaxis import SEGMENTATION_LOSSES
from ._embedding import EMBEDDING_LOSSES
from ._functions import PER_SAMPLE
from ._likelihood import LIKELIHOOD_LOSSES
from ._linear_ce import LINEAR_CE_LOSSES
from ._models import MODEL_LOSSES
from ._ranking import RANKING_LOSSES
from ._sequence import SEQUENCE_LOSSES
from ._xentropy_lambda import XENTROPY_LAMBDA_LOSSES

#: Function name (Keras's where Keras has the loss) -> class: read from the
#: per-sample functions' definitions (``_functions``), one per loss class.
FUNCTION_NAMES: dict[str, type[Loss]] = {
    fn.__name__: cls for fn, (cls, preset) in PER_SAMPLE.items() if not preset}

#: Short names users type (Keras's legacy aliases and common names).
ALIASES: dict[str, type[Loss]] = {
    **_declared.ALIASES,  # the declared losses' aliases (losses/info.hpp)
    **_declared.ROW_ALIASES,
}

#: Names that mean a class with non-default parameters: name -> (class, parameters).
PRESETS: dict[str, tuple[type[Loss], dict[str, Any]]] = {
    fn.__name__: (cls, preset) for fn, (cls, preset) in PER_SAMPLE.items() if preset}

CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (*_declared.CLASSES.values(), *_declared.ROW_CLASSES.values())
}

# The model losses (not (y_true, y_pred) pairs), the likelihood losses
# (Gaussian NLL, Cox), the ranking losses (over query groups), the sequence
# losses (CTC), the pair / metric-learning losses and the segmentation losses
# with kernels of their own: class names and snake_case names.
_MULTI_INPUT: tuple[type[Combinable], ...] = (*MODEL_LOSSES, *LIKELIHOOD_LOSSES,
                                              *RANKING_LOSSES, *SEQUENCE_LOSSES,
                                              *EMBEDDING_LOSSES, *SEGMENTATION_LOSSES,
                                              *XENTROPY_LAMBDA_LOSSES, *LINEAR_CE_LOSSES)
MODEL_NAMES: dict[str, type[Combinable]] = {
    **{cls.__name__: cls for cls in _MULTI_INPUT},
    **{cls._default_name: cls for cls in _MULTI_INPUT},
    **_declared.MULTI_ALIASES,  # the declared multi-input losses' aliases
}

_ALL_NAMES: dict[str, type[Combinable]] = {**CLASSES, **FUNCTION_NAMES, **ALIASES, **MODEL_NAMES}

#: The per-sample functions by name (fl.mean_squared_error, ...).
FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in PER_SAMPLE}


def get(identifier: Any) -> Any:
    """A loss object, as ``keras.losses.get`` gives one, from

    * a Keras class name, function name or alias (``"mse"``, ``"Huber"``, ...):
      an instance with default parameters;
    * a serialized loss, the dict of :func:`serialize` (or a Keras-style
      ``{"class_name": ..., "config": ...}``);
    * a loss class: an instance with default parameters;
    * one of fastloss's per-sample functions (``fl.mean_squared_error``): its
      loss class (reduction "sum_over_batch_size");
    * a loss object or any other callable: returned as it is (a user's own
      loss function passes through, as in Keras)."""
    if isinstance(identifier, Combinable):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Combinable):
        return identifier()
    if isinstance(identifier, str) and identifier in PRESETS:
        preset_cls, preset = PRESETS[identifier]
        return preset_cls(**preset)
    if isinstance(identifier, str):
        cls = _ALL_NAMES.get(identifier)
        if cls is None:
            known = ", ".join(names())
            raise ValueError(f"unknown loss {identifier!r}; known names: {known}")
        return cls()
    if callable(identifier) and identifier in PER_SAMPLE:
        fn_cls, preset = PER_SAMPLE[identifier]
        return fn_cls(**preset)
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise TypeError(f"cannot interpret {identifier!r} as a loss")


def names() -> list[str]:
    """Every name `get` accepts."""
    return sorted({*_ALL_NAMES, *PRESETS})

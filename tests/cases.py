"""One row per elementwise loss configuration: how to build it, its float64
reference, the input domain to draw from, and where it is not smooth. Every
test of tests/test_elementwise.py iterates this table, so a new loss is tested
by everything at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

import fastloss as fl
from fastloss import _declared

import reference as ref

Domain = Callable[[np.random.Generator, tuple], tuple[np.ndarray, np.ndarray]]


@dataclass
class Case:
    id: str
    cls: type
    params: dict[str, Any]
    reference: Callable[..., np.ndarray]
    domain: Domain
    #: distance of each element from the nearest point where the loss (or its
    #: derivatives) is not smooth; central differences are only taken where it
    #: is larger than their reach.
    kink_distance: Optional[Callable[[np.ndarray, np.ndarray], np.ndarray]] = None
    ref_params: dict[str, Any] = field(default_factory=dict)

    def make(self, reduction: Any = "sum_over_batch_size") -> fl.Loss:
        return self.cls(**self.params, reduction=reduction)

    def ref(self, t: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.reference(t, p, **self.ref_params)

    def reduce(self, per_element: np.ndarray, sample_weight: Any = None,
               reduction: Any = "sum_over_batch_size") -> Any:
        """The loss's value from its per-element values: Keras's reduction of
        the per-sample means, or that of the elements themselves."""
        if self.cls._per_element:
            return ref.per_element_reduce(per_element, sample_weight, reduction)
        return ref.keras_reduce(per_element, -1, sample_weight, reduction)

    def sample_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-sample losses' shape for inputs of `shape`."""
        return tuple(shape) if self.cls._per_element else tuple(shape[:-1])

    def per_sample(self, per_element: np.ndarray) -> np.ndarray:
        """The per-sample losses the loss gives from its per-element ones: their
        mean over the last axis (Keras), or themselves for a loss whose
        samples are its elements (PyTorch's elementwise losses)."""
        if self.cls._per_element:
            return np.asarray(per_element)
        return np.mean(per_element, axis=-1)

    def __str__(self) -> str:
        return self.id


# --- domains ---------------------------------------------------------------


def real_pair(scale: float = 1.5) -> Domain:
    def draw(rng, shape):
        return rng.normal(size=shape), scale * rng.normal(size=shape)
    return draw


def positive_pair(lo: float, hi: float) -> Domain:
    def draw(rng, shape):
        return rng.uniform(0.0, hi, size=shape), rng.uniform(lo, hi, size=shape)
    return draw


def soft_labels_probs(rng, shape):
    return rng.uniform(0, 1, size=shape), rng.uniform(0.02, 0.98, size=shape)


def hard_labels_probs(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.uniform(0.02, 0.98, size=shape)


def soft_labels_logits(rng, shape):
    return rng.uniform(0, 1, size=shape), rng.normal(0, 3, size=shape)


def hard_labels_logits(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.normal(0, 3, size=shape)


def counts_log_means(rng, shape):
    """Counts and log-means z (the raw scores of a log-link loss)."""
    return rng.poisson(2.0, size=shape).astype(float), rng.normal(0.5, 1.0, size=shape)


def signed_labels(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape), rng.normal(0, 1.5, size=shape)


def percent_pair(rng, shape):
    t = rng.uniform(0.5, 3, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return t, rng.normal(0, 2, size=shape)


# --- kinks -------------------------------------------------------------------


def at_zero(t, p):
    return np.abs(p - t)


def at_abs(c):
    return lambda t, p: np.abs(np.abs(p - t) - c)


def margin(t, p):
    y = 2 * t - 1 if np.all((t == 0) | (t == 1)) else t
    return np.abs(1 - y * p)


def threshold(c):
    return lambda t, p: np.abs(p - c)


def zero_prediction(t, p):
    return np.abs(p)


def unit_prediction(t, p):
    return np.abs(np.abs(p) - 1)


def log_target(t, p):
    """Distance of z = y_pred from log t, where exp(z) == t (none for t <= 0)."""
    with np.errstate(divide="ignore"):
        return np.where(t > 0, np.abs(p - np.log(np.where(t > 0, t, 1.0))), np.inf)


def far(t, p):
    return np.full(np.shape(p), np.inf)


R = ref
CASES: list[Case] = [
    Case("mse", fl.MeanSquaredError, {}, R.mean_squared_error, real_pair(), far),
    Case("mae", fl.MeanAbsoluteError, {}, R.mean_absolute_error, real_pair(), at_zero),
    Case("mape", fl.MeanAbsolutePercentageError, {}, R.mean_absolute_percentage_error,
         percent_pair, at_zero),
    Case("msle", fl.MeanSquaredLogarithmicError, {}, R.mean_squared_logarithmic_error,
         positive_pair(0.05, 3.0), far),
    Case("huber", fl.Huber, {}, R.huber, real_pair(), at_abs(1.0)),
    Case("huber-0.3", fl.Huber, {"delta": 0.3}, R.huber, real_pair(), at_abs(0.3),
         {"delta": 0.3}),
    Case("log_cosh", fl.LogCosh, {}, R.log_cosh, real_pair(3.0), far),
    Case("poisson", fl.Poisson, {}, R.poisson, positive_pair(0.2, 5.0), far),
    Case("poisson-log_input", fl.Poisson, {"log_input": True}, R.poisson, counts_log_means,
         far, {"log_input": True}),
    Case("half_squared", fl.HalfSquaredError, {}, R.half_squared_error, real_pair(), far),
    Case("smooth_l1", fl.SmoothL1, {}, R.smooth_l1, real_pair(), at_abs(1.0)),
    Case("smooth_l1-0.4", fl.SmoothL1, {"beta": 0.4}, R.smooth_l1, real_pair(), at_abs(0.4),
         {"beta": 0.4}),
    Case("smooth_l1-0", fl.SmoothL1, {"beta": 0.0}, R.smooth_l1, real_pair(), at_zero,
         {"beta": 0.0}),
    Case("pinball-0.1", fl.Pinball, {"quantile": 0.1}, R.pinball, real_pair(), at_zero,
         {"quantile": 0.1}),
    Case("pinball-0.9", fl.Pinball, {"quantile": 0.9}, R.pinball, real_pair(), at_zero,
         {"quantile": 0.9}),
    Case("pinball-log_input-0.3", fl.Pinball, {"quantile": 0.3, "log_input": True}, R.pinball,
         positive_pair(-2.0, 1.5), log_target, {"quantile": 0.3, "log_input": True}),
    Case("asymmetric-1-99", fl.AsymmetricLinear,
         {"overestimate_cost": 1.0, "underestimate_cost": 99.0}, R.asymmetric_linear,
         real_pair(), at_zero, {"overestimate_cost": 1.0, "underestimate_cost": 99.0}),
    Case("bce", fl.BinaryCrossentropy, {}, R.binary_crossentropy, soft_labels_probs, far),
    Case("bce-ls", fl.BinaryCrossentropy, {"label_smoothing": 0.1}, R.binary_crossentropy,
         hard_labels_probs, far, {"label_smoothing": 0.1}),
    Case("bce-logits", fl.BinaryCrossentropy, {"from_logits": True}, R.binary_crossentropy,
         soft_labels_logits, far, {"from_logits": True}),
    Case("bce-logits-ls", fl.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.2},
         R.binary_crossentropy, hard_labels_logits, far,
         {"from_logits": True, "label_smoothing": 0.2}),
    Case("focal", fl.BinaryFocalCrossentropy, {}, R.binary_focal_crossentropy,
         hard_labels_probs, far),
    Case("focal-balanced-ls", fl.BinaryFocalCrossentropy,
         {"apply_class_balancing": True, "alpha": 0.3, "gamma": 3.5, "label_smoothing": 0.1},
         R.binary_focal_crossentropy, soft_labels_probs, far,
         {"apply_class_balancing": True, "alpha": 0.3, "gamma": 3.5, "label_smoothing": 0.1}),
    Case("focal-gamma0", fl.BinaryFocalCrossentropy, {"gamma": 0.0},
         R.binary_focal_crossentropy, soft_labels_probs, far, {"gamma": 0.0}),
    Case("focal-logits", fl.BinaryFocalCrossentropy, {"from_logits": True, "gamma": 1.5},
         R.binary_focal_crossentropy, hard_labels_logits, far,
         {"from_logits": True, "gamma": 1.5}),
    Case("hinge-01", fl.Hinge, {}, R.hinge, hard_labels_logits, margin),
    Case("hinge-pm1", fl.Hinge, {}, R.hinge, signed_labels, margin),
    Case("squared_hinge-01", fl.SquaredHinge, {}, R.squared_hinge, hard_labels_logits, margin),
    Case("squared_hinge-pm1", fl.SquaredHinge, {}, R.squared_hinge, signed_labels, margin),
    Case("exponential-01", fl.ExponentialLoss, {}, R.exponential, hard_labels_logits, far),
    Case("exponential-pm1", fl.ExponentialLoss, {}, R.exponential, signed_labels, far),
    Case("zero_one", fl.ZeroOneLoss, {}, R.zero_one, hard_labels_probs, threshold(0.5)),
    Case("zero_one-0.3", fl.ZeroOneLoss, {"threshold": 0.3}, R.zero_one, hard_labels_probs,
         threshold(0.3), {"threshold": 0.3}),
]

# --- the declared losses (losses/info.hpp): rows made from their declarations --------

DOMAINS: dict[str, Domain] = {
    "real": real_pair(), "positive": positive_pair(0.2, 5.0), "probability": soft_labels_probs,
    "logits": soft_labels_logits, "signed": signed_labels, "binary": hard_labels_probs,
    "binary_logits": hard_labels_logits,
}


def _kink(info: dict[str, Any], params: dict[str, Any]):
    first = (params.get(info["params"][0]["name"], info["params"][0]["default"])
             if info["params"] else None)
    return {"none": lambda: far, "at_zero": lambda: at_zero, "margin": lambda: margin,
            "at_first_parameter": lambda: at_abs(first),
            "threshold": lambda: threshold(first),
            "zero_prediction": lambda: zero_prediction,
            "unit_prediction": lambda: unit_prediction}[info["kink"]]()


def example_parameters(info: dict[str, Any]) -> dict[str, Any]:
    """The declared example value of every struct parameter (bools as bools)."""
    return {p["name"]: bool(p["example"]) if p["type"] == "bool" else p["example"]
            for p in info["params"]}


def declared_cases(skip_covered: bool = True) -> list[Case]:
    """A row with the defaults and one with the example parameters for every declared
    loss that has no row above (every declared loss with skip_covered=False), and
    the same two with from_logits=True (log_input=True: the declared flag), drawn
    from the logits domain, for a class with a logits kernel; its reference is the
    function of tests/reference.py named as the loss's Keras function (a missing one
    fails test_registry)."""
    covered = {c.cls for c in CASES} if skip_covered else set()
    rows = []
    for info in _declared.DECLARED.values():
        cls = _declared.CLASSES[info["cls"]]
        reference = getattr(ref, info["function"], None)
        if cls in covered or reference is None:
            continue
        examples = example_parameters(info)
        variants = [("", {}, info)]
        if info["cls"] in _declared.LOGITS:
            flag = _declared.flag_name(info)
            suffix = "-logits" if flag == "from_logits" else f"-{flag}"
            variants.append((suffix, {flag: True}, _declared.LOGITS[info["cls"]]))
        for logits_suffix, logits, declaration in variants:
            sets = [("", {}), ("-example", examples)] if examples else [("", {})]
            for suffix, params in sets:
                params = {**logits, **params}
                rows.append(Case(info["function"] + logits_suffix + suffix, cls, params,
                                 reference, DOMAINS[declaration["domain"]],
                                 _kink(declaration, params), params))
    return rows


CASES += declared_cases()
CASE_IDS = [c.id for c in CASES]
HESSIAN_CASES = [c for c in CASES if c.make().has_hessian]

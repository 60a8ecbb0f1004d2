"""Loss objects are values: every loss the registry knows pickles, deep-copies,
round-trips through get_config / from_config, fl.get(config) and
fl.serialize / fl.deserialize (also through JSON), and its repr evaluates back
to it; each copy gives bitwise the same outputs as the original on generated
inputs. The losses are read from the registry, so a new loss is covered by
being registered."""

from __future__ import annotations

import copy
import inspect
import json
import pickle
import re

import numpy as np
import pytest

import fastloss as fl
from fastloss import _registry
from fastloss._multi_input import DeclaredMultiInputLoss

from cases import CASES
from reference import draw_multi_input
from support import rng_for

# --- the losses under test: the registry's, with default and other parameters -----------


def _registry_losses():
    """Every class fl.get knows (each name once per distinct object), the
    elementwise cases' parameters, and non-default parameters of the others."""
    seen: dict[str, object] = {}
    for name in fl.names():
        loss = fl.get(name)
        seen.setdefault(repr(fl.serialize(loss)), loss)
    for case in CASES:
        loss = case.cls(**case.params)
        seen.setdefault(repr(fl.serialize(loss)), loss)
    return list(seen.values())


def _elementwise_value(t, p):  # module level, so that ElementwiseLoss pickles
    return (p - t) ** 2 * 0.5


def _elementwise_gradient(t, p):
    return p - t


def _elementwise_hessian(t, p):
    return np.ones_like(p)


def _non_default_losses():
    return [
        fl.MeanSquaredError(axis=0, reduction="sum", name="mse0"),
        fl.LogCosh(axis=0), fl.Poisson(reduction=None), fl.Hinge(axis=0),
        fl.Huber(delta=0.5, reduction="mean_with_sample_weight", name="h"),
        fl.SmoothL1(beta=0.25), fl.Pinball(quantile=0.8), fl.ZeroOneLoss(threshold=0.3),
        fl.AsymmetricLinear(overestimate_cost=2.0, underestimate_cost=5.0),
        fl.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, axis=0),
        fl.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5,
                                   from_logits=True, label_smoothing=0.05, axis=0),
        fl.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, axis=0),
        fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1,
                                         class_weight=[1.0, 2.0, 0.5], label_smoothing=0.1),
        fl.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], gamma=1.0, from_logits=True),
        fl.CategoricalFocalCrossentropy(alpha=0.5, label_smoothing=0.2, axis=0),
        fl.KLDivergence(axis=0), fl.CosineSimilarity(axis=0, reduction="none"),
        fl.Entropy(from_logits=True, axis=0), fl.CategoricalZeroOneLoss(axis=0),
        fl.SparseCategoricalZeroOneLoss(ignore_class=2),
        fl.GANDiscriminatorLoss(from_logits=False, reduction="sum"),
        fl.GANGeneratorLoss(from_logits=False, saturating=True),
        fl.ContentLoss(reduction="none"), fl.StyleLoss(layer_weights=[0.25, 0.75]),
        fl.TotalVariation(reduction="sum", name="tv"),
        fl.CTC(blank=3, zero_infinity=True, from_logits=True, reduction="sum"),
        fl.LinearCrossentropy(ignore_class=None, label_smoothing=0.1,
                              class_weight=[1.0, 2.0, 0.5, 1.0, 1.0], chunk_size=1024,
                              reduction="sum"),
        fl.ElementwiseLoss(_elementwise_value, _elementwise_gradient, _elementwise_hessian,
                           axis=0, name="half"),
        fl.ElementwiseLoss(_elementwise_value, _elementwise_gradient),
    ]


def _composites():
    return [
        0.7 * fl.MeanSquaredError() + 0.3 * fl.Huber(delta=0.5),
        fl.BinaryCrossentropy(from_logits=True) - 0.5 * fl.BinaryFocalCrossentropy(gamma=1.0),
        fl.CompositeLoss([(2.0, fl.CategoricalCrossentropy()), (0.1, fl.CosineSimilarity())],
                         name="ce_and_cosine"),
        1.5 * fl.ContentLoss() + 1e-2 * fl.StyleLoss(layer_weights=[2.0]),
        fl.GANGeneratorLoss() / 4,
    ]


LOSSES = _registry_losses() + _non_default_losses() + _composites()
IDS = [f"{i}-{type(x).__name__}" for i, x in enumerate(LOSSES)]
EVERY_LOSS = pytest.mark.parametrize("loss", LOSSES, ids=IDS)


def test_every_registered_class_is_covered():
    classes = {*_registry.CLASSES.values(), *(c for c in _registry.MODEL_NAMES.values())}
    covered = {type(x) for x in LOSSES}
    assert classes <= covered, classes - covered
    assert {fl.CompositeLoss, fl.ElementwiseLoss} <= covered


# --- inputs and outputs -------------------------------------------------------------------


def _inputs(loss, key):
    """Positional inputs that suit the loss (shape (4, 3) where it has a choice)."""
    rng = rng_for("values", key)
    if isinstance(loss, fl.CompositeLoss):
        term = loss.terms[0][1]
        if isinstance(term, fl.Loss):
            return _inputs(term, key)
        if isinstance(term, fl.ContentLoss):  # each term's targets, then the trained input
            return (rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(4, 4, 3)),
                    rng.normal(size=(2, 4, 4, 3)))
        return _inputs(term, key)
    if isinstance(loss, fl.StyleLoss):
        return [rng.normal(size=(4, 4, 3))] * 2, [rng.normal(size=(2, 4, 4, 3))] * 2
    if isinstance(loss, fl.ContentLoss):
        return rng.normal(size=(2, 4, 4, 3)), rng.normal(size=(2, 4, 4, 3))
    if isinstance(loss, fl.TotalVariation):
        return (rng.normal(size=(2, 5, 4, 3)),)
    if isinstance(loss, fl.GANDiscriminatorLoss):
        return rng.uniform(0.1, 0.9, size=(4, 3)), rng.uniform(0.1, 0.9, size=(4, 3))
    if isinstance(loss, fl.GANGeneratorLoss):
        return (rng.uniform(0.1, 0.9, size=(4, 3)),)
    if isinstance(loss, DeclaredMultiInputLoss):  # drawn as its declaration says
        return tuple(draw_multi_input(loss._info, (4, 3), rng))
    if isinstance(loss, fl.CTC):  # labels (N, S) in [1, 3), log_probs (T, N, C), two lengths
        x = rng.normal(size=(6, 2, 4))
        return (rng.integers(1, 3, size=(2, 3)), x - np.log(np.exp(x).sum(-1, keepdims=True)),
                np.array([6, 5]), np.array([3, 2]))
    if isinstance(loss, (fl.MarginRanking, fl.CosineEmbedding)):  # y = +-1, two inputs
        y_shape = (4, 3) if isinstance(loss, fl.MarginRanking) else (4,)
        return (rng.choice([-1.0, 1.0], size=y_shape), rng.normal(size=(4, 3)),
                rng.normal(size=(4, 3)))
    if isinstance(loss, fl.TripletMargin):  # anchor, positive, negative
        return tuple(rng.normal(size=(4, 3)) for _ in range(3))
    if isinstance(loss, (fl.NTXent, fl.Circle)):  # group labels, one embeddings array
        return np.array([0, 0, 1, 1]), rng.normal(size=(4, 3))
    if isinstance(loss, fl.LinearCrossentropy):  # labels, hidden (N, H), weight (V, H), bias
        return (np.array([0, 2, 1, 4]), rng.normal(size=(4, 3)), rng.normal(size=(5, 3)),
                rng.normal(size=5))
    if isinstance(loss, fl.CoxPH):  # signed survival times, one score per sample
        return rng.uniform(-2.0, 2.0, size=8), rng.normal(size=8)
    p = rng.uniform(0.1, 0.9, size=(4, 3))
    kind = getattr(loss, "_input", "dense")
    if kind == "none":
        return (p,)
    if kind == "labels":
        return rng.integers(0, 3, size=4), p
    return rng.integers(0, 2, size=(4, 3)).astype(float), p


def _outputs(loss, inputs):
    out = {"forward": loss(*inputs), "forward_backward": loss.forward_backward(*inputs)}
    if loss.has_hessian:
        out["gradient_hessian"] = loss.gradient_hessian(*inputs)
    return out


def _assert_bitwise(a, b, where=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_bitwise(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_bitwise(x, y, f"{where}[{i}]")
    else:
        assert np.asarray(a).dtype == np.asarray(b).dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)


def _check_twin(loss, twin):
    assert type(twin) is type(loss)
    assert twin is not loss
    assert twin.get_config() == loss.get_config()
    assert repr(twin) == repr(loss)
    for dtype in (np.float64, np.float32):
        inputs = _cast(_inputs(loss, repr(loss)), dtype)
        _assert_bitwise(_outputs(loss, inputs), _outputs(twin, inputs), repr(loss))


def _cast(x, dtype):
    if isinstance(x, tuple):
        return tuple(_cast(a, dtype) for a in x)
    if isinstance(x, list):
        return [_cast(a, dtype) for a in x]
    a = np.asarray(x)
    return a.astype(dtype) if a.dtype.kind == "f" else a


def _json_safe(loss):
    return "ElementwiseLoss" not in json.dumps(fl.serialize(loss), default=lambda o: "?")


# --- the round trips ------------------------------------------------------------------------


@EVERY_LOSS
def test_pickle(loss):
    for protocol in (2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        _check_twin(loss, pickle.loads(pickle.dumps(loss, protocol=protocol)))


@EVERY_LOSS
def test_deepcopy_and_copy(loss):
    _check_twin(loss, copy.deepcopy(loss))
    _check_twin(loss, copy.copy(loss))


@EVERY_LOSS
def test_get_config_from_config(loss):
    config = loss.get_config()
    _check_twin(loss, type(loss).from_config(config))
    assert loss.get_config() == config  # from_config does not consume the dict


@EVERY_LOSS
def test_config_holds_every_constructor_parameter(loss):
    params = [n for n in inspect.signature(type(loss).__init__).parameters if n != "self"]
    assert sorted(loss.get_config()) == sorted(params)


@EVERY_LOSS
def test_serialize_deserialize_and_get(loss):
    s = fl.serialize(loss)
    assert set(s) == {"module", "class_name", "config", "registered_name"}
    assert s["module"] == "fastloss" and s["registered_name"] is None
    assert s["class_name"] == type(loss).__name__
    assert getattr(fl, s["class_name"]) is type(loss)
    _check_twin(loss, fl.deserialize(s))
    _check_twin(loss, fl.get(s))
    _check_twin(loss, fl.get({"class_name": s["class_name"], "config": s["config"]}))
    if _json_safe(loss):
        _check_twin(loss, fl.deserialize(json.loads(json.dumps(s))))


@EVERY_LOSS
def test_repr_evaluates_back(loss):
    if "ElementwiseLoss" in repr(loss):
        pytest.skip("the callables' reprs are not Python expressions")
    _check_twin(loss, eval(repr(loss), dict(vars(fl))))


@EVERY_LOSS
def test_repr_shows_the_non_default_parameters_only(loss):
    if isinstance(loss, fl.CompositeLoss):
        for _, term in loss.terms:
            assert repr(term) in repr(loss)
        return
    text = repr(loss)
    config = loss.get_config()
    for p in inspect.signature(type(loss).__init__).parameters.values():
        if p.name == "self":
            continue
        default = loss._default_name if p.name == "name" else p.default
        shown = re.search(rf"\b{p.name}=", text) is not None
        value = config[p.name]
        is_default = (p.default is not inspect.Parameter.empty and type(value) is type(default)
                      and value == default) or (p.default is None and value is None)
        if p.name == "alpha" and not isinstance(value, float):
            is_default = False
        assert shown != is_default, (p.name, value, text)


def test_repr_of_defaults_and_of_parameters():
    assert repr(fl.MeanSquaredError()) == "MeanSquaredError()"
    assert repr(fl.Huber(delta=0.5)) == "Huber(delta=0.5)"
    assert repr(fl.Huber(delta=1.0, name="h")) == "Huber(name='h')"
    assert repr(fl.MeanSquaredError(axis=0, reduction="sum")) == (
        "MeanSquaredError(reduction='sum', axis=0)")
    assert repr(fl.BinaryCrossentropy(from_logits=True)) == "BinaryCrossentropy(from_logits=True)"
    assert repr(0.5 * fl.MeanSquaredError() - fl.MeanAbsoluteError()) == (
        "0.5 * MeanSquaredError() + -1.0 * MeanAbsoluteError()")


def test_axis_survives_the_round_trip():
    """The bug of the issue: axis was dropped from the config, so the copy
    reduced over the last axis instead."""
    t, p = np.zeros((4, 3)), np.ones((4, 3))
    for cls in (fl.MeanSquaredError, fl.MeanAbsoluteError, fl.MeanAbsolutePercentageError,
                fl.MeanSquaredLogarithmicError, fl.LogCosh, fl.Poisson, fl.HalfSquaredError,
                fl.Hinge, fl.SquaredHinge, fl.ExponentialLoss):
        loss = cls(axis=0, reduction="none")
        assert loss.get_config()["axis"] == 0
        for twin in (cls.from_config(loss.get_config()), pickle.loads(pickle.dumps(loss)),
                     fl.get(fl.serialize(loss))):
            assert twin(t, p).shape == (3,)


def test_sklearn_clone():
    base = pytest.importorskip("sklearn.base")
    for loss in (fl.Huber(delta=0.5), 0.5 * fl.MeanSquaredError() + fl.LogCosh(axis=0)):
        _check_twin(loss, base.clone(loss))
        _check_twin(loss, base.clone(loss, safe=False))


def test_keras_serialized_losses_load():
    keras = pytest.importorskip("keras")
    for k in (keras.losses.MeanSquaredError(reduction="sum"), keras.losses.LogCosh(),
              keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2, axis=-1),
              keras.losses.CategoricalCrossentropy(label_smoothing=0.1)):
        s = keras.losses.serialize(k)
        loss = fl.get(s)
        assert type(loss).__name__ == type(k).__name__
        want = {key: v for key, v in k.get_config().items() if key != "dtype"}
        assert {key: loss.get_config()[key] for key in want} == want


# --- errors -----------------------------------------------------------------------------------


def test_from_config_refuses_unknown_keys():
    with pytest.raises(TypeError, match=r"Huber.from_config: unknown parameter\(s\) 'axis'"):
        fl.Huber.from_config({"delta": 0.5, "axis": 0})
    with pytest.raises(TypeError, match="expects a dict"):
        fl.Huber.from_config([("delta", 0.5)])
    with pytest.raises(ValueError, match="delta"):
        fl.Huber.from_config({"delta": -1.0})
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) 'weights'"):
        fl.CompositeLoss.from_config({"weights": []})
    with pytest.raises(TypeError, match="pairs"):
        fl.CompositeLoss.from_config({"terms": [1.0]})


@pytest.mark.parametrize("bad,exc,match", [
    ({"config": {}}, ValueError, "needs a 'class_name'"),
    ({"class_name": "Nope", "config": {}}, ValueError, "unknown loss class 'Nope'"),
    ({"class_name": "Huber", "config": [1]}, TypeError, "'config' of Huber must be a dict"),
    ({"class_name": "Huber", "config": {"delta": 0.5}, "extra": 1}, ValueError,
     "unknown key\\(s\\) 'extra'"),
    ({"class_name": 3, "config": {}}, TypeError, "'class_name' must be a string"),
    ({"class_name": "Huber", "config": {"dtype": "float32"}}, TypeError, "'dtype'"),
    ({"module": "no_such_module_xyz", "class_name": "Huber"}, ValueError,
     "module 'no_such_module_xyz' cannot be imported"),
    ({"module": "json", "class_name": "Huber"}, ValueError, "unknown loss class 'Huber' in"),
])
def test_get_refuses_malformed_dicts(bad, exc, match):
    with pytest.raises(exc, match=match):
        fl.get(bad)
    with pytest.raises(exc, match=match):
        fl.deserialize(bad)


def test_serialize_refuses_what_is_not_a_loss():
    with pytest.raises(TypeError, match="fastloss loss object"):
        fl.serialize("mse")
    with pytest.raises(TypeError, match="expects a dict"):
        fl.deserialize("mse")


def test_get_passes_callables_through():
    def my_loss(y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2)

    assert fl.get(my_loss) is my_loss
    loss = fl.Huber(delta=2.0)
    assert fl.get(loss) is loss
    assert type(fl.get(fl.mean_squared_error)) is fl.MeanSquaredError
    assert fl.get(fl.softmax_cross_entropy_with_logits).from_logits
    with pytest.raises(TypeError, match="cannot interpret"):
        fl.get(int)


# --- user subclasses ---------------------------------------------------------------------------


class ScaledHuber(fl.Huber):
    """A user's subclass with a parameter of its own (module level: it pickles)."""

    def __init__(self, delta: float = 1.0, scale: float = 2.0, **kw):
        super().__init__(delta=delta, **kw)
        self.scale = scale


def test_user_subclass_round_trips():
    loss = ScaledHuber(delta=0.5, scale=3.0, reduction="sum")
    s = fl.serialize(loss)
    assert s["module"] == __name__ and s["registered_name"] == f"{__name__}>ScaledHuber"
    assert s["config"] == {"name": "huber_loss", "reduction": "sum", "delta": 0.5, "scale": 3.0}
    for twin in (fl.deserialize(s), pickle.loads(pickle.dumps(loss)), copy.deepcopy(loss)):
        _check_twin(loss, twin)
        assert twin.scale == 3.0
    assert repr(loss) == "ScaledHuber(delta=0.5, scale=3.0, reduction='sum')"


def test_lambdas_deepcopy_but_do_not_pickle():
    loss = fl.ElementwiseLoss(lambda t, p: (p - t) ** 2, lambda t, p: 2 * (p - t))
    twin = copy.deepcopy(loss)
    assert twin.value_fn is loss.value_fn  # functions are shared, as deepcopy shares them
    _check_twin(loss, twin)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(loss)

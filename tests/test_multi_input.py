"""Every declared multi-input loss (FASTLOSS_MULTI_INPUT_LOSSES, read from the
registry through fastloss._declared.DECLARED_MULTI): hand values, its float64
reference in tests/reference.py, central differences for the gradient of each
trained input and for its Hessian, fused == separate passes, thread counts bit
for bit, float32, reductions, sample weights, parameter checks and bad input.
A new declared loss is tested here with no edit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastloss as fl
from fastloss import _declared

import reference
from reference import draw_multi_input as draw
from reference import per_element_reduce
from support import keras_reduce, rng_for

DECLARED = list(_declared.DECLARED_MULTI.values())
IDS = [info["cls"] for info in DECLARED]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


def cls_of(info):
    return _declared.MULTI_CLASSES[info["cls"]]


def param_sets(info):
    """The default parameters and the declared examples."""
    example = {}
    for p in _declared.multi_parameters(info):
        if p["type"] == "bool":
            example[p["name"]] = bool(p["example"])
        elif p["type"] == "str":
            example[p["name"]] = p["choices"][int(p["example"])]
        else:
            example[p["name"]] = float(p["example"])
    return [{}, example] if example else [{}]


CASES = [(info, params) for info in DECLARED for params in param_sets(info)]
CASE_IDS = [f"{info['cls']}-{'default' if not params else 'example'}" for info, params in CASES]


def per_element_reference(info, inputs, params):
    fn = getattr(reference, info["default_name"])
    return fn(*inputs, **params)


def per_sample_reference(info, inputs, params):
    e = per_element_reference(info, inputs, params)
    return e if info["axis"] == "elementwise" else e.mean(-1)


def reduce_reference(info, per_sample, weight, reduction):
    if info["axis"] == "elementwise":
        return per_element_reduce(per_sample, weight, reduction)
    return keras_reduce(per_sample, weight, reduction)


def sample_shape(info, shape):
    return shape if info["axis"] == "elementwise" else shape[:-1]


SHAPE = (6, 5)


# -- the declaration ------------------------------------------------------------------

@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_hand_values_are_the_class_and_the_reference(info):
    assert info["hand"], f"{info['cls']} declares no hand values"
    loss = cls_of(info)(reduction="none")
    for inputs, value in info["hand"]:
        arrays = [np.array([[x]]) for x in inputs[:len(info["inputs"])]]
        got = np.asarray(loss(*arrays)).reshape(-1)[0]
        assert got == pytest.approx(value, rel=1e-13, abs=1e-15)
        ref = per_element_reference(info, arrays, {}).reshape(-1)[0]
        assert ref == pytest.approx(value, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_the_class_is_made_from_the_declaration(info):
    cls = cls_of(info)
    assert cls is getattr(fl, info["cls"]) and info["cls"] in fl.__all__
    loss = cls()
    assert loss._inputs == tuple(i["name"] for i in info["inputs"])
    assert loss.name == info["default_name"]
    assert loss.has_hessian == info["has_hessian"]
    for name in (info["cls"], info["default_name"], *info["aliases"]):
        assert type(fl.get(name)) is cls
    assert info["summary"] in cls.__doc__ and info["formula"] in cls.__doc__
    for params in param_sets(info):
        obj = cls(**params, reduction="sum", name="x")
        again = pickle.loads(pickle.dumps(obj))
        assert again.get_config() == obj.get_config()
        for k, v in params.items():
            assert getattr(again, k) == v and obj.get_config()[k] == v
    # one generated stub entry per class
    assert f"class {info['cls']}(DeclaredMultiInputLoss):" in _declared.stub_text()


# -- values and derivatives --------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("info,params", CASES, ids=CASE_IDS)
def test_value_matches_the_reference(info, params, reduction):
    rng = rng_for("value", info["cls"], repr(params), reduction)
    inputs = draw(info, SHAPE, rng)
    weight = rng.uniform(0.5, 2.0, size=sample_shape(info, SHAPE))
    loss = cls_of(info)(**params, reduction=reduction)
    expected = reduce_reference(info, per_sample_reference(info, inputs, params), weight,
                                reduction)
    np.testing.assert_allclose(loss(*inputs, sample_weight=weight), expected, rtol=1e-12,
                               atol=1e-14)
    unweighted = reduce_reference(info, per_sample_reference(info, inputs, params), None,
                                  reduction)
    np.testing.assert_allclose(loss(*inputs), unweighted, rtol=1e-12, atol=1e-14)
    # the last positional argument may be the weight
    np.testing.assert_array_equal(loss(*inputs, weight), loss(*inputs, sample_weight=weight))


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_a_weight_of_lower_rank_weighs_the_leading_axes(info):
    """(N,) weights of (N, N) inputs: a sample's weight, per row, for a loss of
    per-sample means (Keras's rule: its samples are the rows already) and, for
    a loss whose elements are its samples, the rows too (PyTorch's layout)."""
    rng = rng_for("leading", info["cls"])
    inputs = draw(info, (5, 5), rng)
    loss = cls_of(info)(reduction="none")
    w = rng.uniform(0.5, 2.0, 5)
    expand = w[:, None] if info["axis"] == "elementwise" else w
    np.testing.assert_allclose(loss(*inputs, sample_weight=w), loss(*inputs) * expand,
                               rtol=1e-14)
    go = rng.normal(size=5)
    if info["axis"] == "elementwise":  # grad_output under "none" likewise
        for g, ref in zip(loss.backward(*inputs, grad_output=go),
                          loss.backward(*inputs, grad_output=go[:, None] * np.ones((5, 5)))):
            np.testing.assert_allclose(g, ref, rtol=1e-14)
    if info["has_hessian"]:
        (g, h) = loss.gradient_hessian(*inputs, sample_weight=w)
        (g1, h1) = loss.gradient_hessian(*inputs)
        for a, b in zip([*g, *h], [*g1, *h1]):
            np.testing.assert_allclose(a, b * w[:, None], rtol=1e-14)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
@pytest.mark.parametrize("info,params", CASES, ids=CASE_IDS)
def test_gradients_are_central_differences(info, params, reduction):
    rng = rng_for("grad", info["cls"], repr(params), reduction)
    inputs = draw(info, SHAPE, rng)
    weight = rng.uniform(0.5, 2.0, size=sample_shape(info, SHAPE))
    loss = cls_of(info)(**params, reduction=reduction)
    go = rng.normal(size=sample_shape(info, SHAPE)) if reduction == "none" else 1.0
    grads = loss.backward(*inputs, sample_weight=weight, grad_output=go)
    assert len(grads) == info["n_trained"]

    def total(args):
        return float(np.sum(np.asarray(loss(*args, sample_weight=weight)) * go))

    h = 1e-6
    first = len(info["inputs"]) - info["n_trained"]
    for j, g in enumerate(grads):
        k = first + j
        assert g.shape == inputs[k].shape and g.dtype == np.float64
        for e in rng.choice(inputs[k].size, 8, replace=False):
            plus = [a.copy() for a in inputs]
            minus = [a.copy() for a in inputs]
            plus[k].reshape(-1)[e] += h
            minus[k].reshape(-1)[e] -= h
            d = (total(plus) - total(minus)) / (2 * h)
            assert g.reshape(-1)[e] == pytest.approx(d, rel=1e-6, abs=1e-9), (j, e)


@pytest.mark.parametrize("info,params", CASES, ids=CASE_IDS)
def test_hessian_is_the_derivative_of_the_gradient(info, params):
    if not info["has_hessian"]:
        with pytest.raises(NotImplementedError, match=info["cls"]):
            cls_of(info)(**params).gradient_hessian(*draw(info, SHAPE, rng_for("h")))
        return
    rng = rng_for("hess", info["cls"], repr(params))
    inputs = draw(info, SHAPE, rng)
    weight = rng.uniform(0.5, 2.0, size=sample_shape(info, SHAPE))
    loss = cls_of(info)(**params, reduction="sum")
    grads, hess = loss.gradient_hessian(*inputs, sample_weight=weight)
    # the gradient is of the unreduced weighted sum of the elements' losses:
    # "sum" of the per-sample means times the elements of a sample
    d = 1 if info["axis"] == "elementwise" else SHAPE[-1]
    for g, b in zip(grads, loss.backward(*inputs, sample_weight=weight)):
        np.testing.assert_allclose(g, b * d, rtol=1e-12, atol=1e-15)
    h = 1e-6
    first = len(info["inputs"]) - info["n_trained"]
    for j in range(info["n_trained"]):
        k = first + j
        plus = [a.copy() for a in inputs]
        minus = [a.copy() for a in inputs]
        plus[k] += h
        minus[k] -= h
        gp = loss.gradient_hessian(*plus, sample_weight=weight)[0][j]
        gm = loss.gradient_hessian(*minus, sample_weight=weight)[0][j]
        np.testing.assert_allclose(hess[j], (gp - gm) / (2 * h), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("info,params", CASES, ids=CASE_IDS)
def test_fused_equals_separate_and_threads_are_bitwise(info, params):
    rng = rng_for("fused", info["cls"], repr(params))
    inputs = draw(info, (300, 200), rng)  # enough elements for several tasks
    loss = cls_of(info)(**params)
    results = []
    for threads in (1, 2):
        with fl.num_threads(threads):
            value, grads = loss.forward_backward(*inputs)
            assert value == loss.forward(*inputs)
            for a, b in zip(grads, loss.backward(*inputs)):
                np.testing.assert_array_equal(a, b)
            hess = loss.gradient_hessian(*inputs) if info["has_hessian"] else ((), ())
            results.append((value, grads, hess))
    (v1, g1, h1), (v2, g2, h2) = results
    assert v1 == v2
    for a, b in zip([*g1, *h1[0], *h1[1]], [*g2, *h2[0], *h2[1]]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("info,params", CASES, ids=CASE_IDS)
def test_float32_is_float32_and_close_to_float64(info, params):
    rng = rng_for("f32", info["cls"], repr(params))
    inputs = draw(info, SHAPE, rng)
    loss = cls_of(info)(**params, reduction="none")
    v64, g64 = loss.forward_backward(*inputs)
    v32, g32 = loss.forward_backward(*[a.astype(np.float32) for a in inputs])
    assert v32.dtype == np.float32 and all(g.dtype == np.float32 for g in g32)
    np.testing.assert_allclose(v32, v64, rtol=3e-5, atol=3e-6 * max(1, np.abs(v64).max()))
    for a, b in zip(g32, g64):
        np.testing.assert_allclose(a, b, rtol=3e-5, atol=3e-6 * max(1, np.abs(b).max()))
    if info["has_hessian"]:
        (_, h32) = loss.gradient_hessian(*[a.astype(np.float32) for a in inputs])
        (_, h64) = loss.gradient_hessian(*inputs)
        for a, b in zip(h32, h64):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=3e-5, atol=3e-6 * max(1, np.abs(b).max()))


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_out_strided_inputs_and_nan(info):
    rng = rng_for("out", info["cls"])
    inputs = draw(info, SHAPE, rng)
    loss = cls_of(info)()
    want = loss.backward(*inputs)
    first = len(info["inputs"]) - info["n_trained"]
    outs = tuple(np.empty_like(a) for a in inputs[first:])
    got = loss.backward(*inputs, out=outs)
    assert all(g is o for g, o in zip(got, outs))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    # strided (Fortran-ordered, every other column) inputs give the same bits
    wide = [np.asfortranarray(np.repeat(a, 2, axis=1)) for a in inputs]
    strided = [a[:, ::2] for a in wide]
    assert not strided[first].flags.c_contiguous
    np.testing.assert_array_equal(loss(*strided), loss(*inputs))
    for g, w in zip(loss.backward(*strided), want):
        np.testing.assert_array_equal(g, w)
    # a NaN in the trained input reaches its own sample and no other
    bad = [a.copy() for a in inputs]
    bad[first][2, 1] = np.nan
    per = np.asarray(cls_of(info)(reduction="none")(*bad))
    nan_at = (2, 1) if info["axis"] == "elementwise" else (2,)
    assert np.isnan(per[nan_at]) and np.isfinite(np.delete(per.reshape(-1),
                                                           np.ravel_multi_index(
                                                               nan_at, per.shape))).all()


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_empty_inputs_and_shapes(info):
    loss = cls_of(info)(reduction="none")
    rng = rng_for("empty", info["cls"])
    inputs = draw(info, (0, 3), rng)
    value, grads = loss.forward_backward(*inputs)
    assert np.shape(value) == sample_shape(info, (0, 3))
    assert all(g.shape == (0, 3) for g in grads)
    assert cls_of(info)()(*inputs) == 0
    # a 3-d batch: per-sample losses over the leading axes
    inputs = draw(info, (2, 3, 4), rng)
    assert np.shape(loss(*inputs)) == sample_shape(info, (2, 3, 4))


# -- checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_bad_input_is_refused_with_clear_errors(info):
    rng = rng_for("bad", info["cls"])
    inputs = draw(info, SHAPE, rng)
    loss = cls_of(info)()
    names = [i["name"] for i in info["inputs"]]
    before = [a.copy() for a in inputs]
    loss.forward_backward(*inputs)
    for a, b in zip(inputs, before):  # inputs are never modified
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match=f"{len(names)} inputs"):
        loss(*inputs[:-1])
    with pytest.raises(TypeError, match=f"{len(names)} inputs"):
        loss(*inputs, inputs[0], inputs[0])
    first = len(names) - info["n_trained"]
    for k, name in enumerate(names):
        if k == first:
            continue
        bad = list(inputs)
        bad[k] = inputs[k][:, :3]
        with pytest.raises(ValueError, match=f"{name} has shape"):
            loss(*bad)
        bad[k] = inputs[k].astype(str)
        with pytest.raises((TypeError, ValueError), match=name):
            loss(*bad)
    for k, spec in enumerate(info["inputs"]):
        if not spec["range"]:
            continue
        bad = [a.copy() for a in inputs]
        bad[k].reshape(-1)[3] = -1.0
        with pytest.raises(ValueError, match=f"{spec['name']} has"):
            loss(*bad)
    if info["ordered"] is not None:
        lo, hi = info["ordered"]
        bad = [a.copy() for a in inputs]
        bad[lo].reshape(-1)[0] = 2.0
        bad[hi].reshape(-1)[0] = 1.0
        with pytest.raises(ValueError, match=f"{names[lo]} has entries above {names[hi]}"):
            loss(*bad)
    with pytest.raises(ValueError, match="sample_weight"):
        loss(*inputs, sample_weight=np.ones(7))
    with pytest.raises(ValueError, match="reduction"):
        cls_of(info)(reduction="mean_of_squares")


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_parameters_are_checked(info):
    cls = cls_of(info)
    for p in _declared.multi_parameters(info):
        n = p["name"]
        if p["type"] == "bool":
            with pytest.raises(TypeError, match=n):
                cls(**{n: "yes"})
        elif p["type"] == "str":
            with pytest.raises(ValueError, match=f"{n} must be one of"):
                cls(**{n: "no such choice"})
            with pytest.raises(TypeError, match=n):
                cls(**{n: 1.0})
        else:
            with pytest.raises(TypeError, match=n):
                cls(**{n: "1.0"})
            with pytest.raises(ValueError, match=f"{info['cls']}: {n} must"):
                cls(**{n: -1.0})
            with pytest.raises(ValueError, match=n):
                cls(**{n: float("nan")})

"""Bad input gets a clear exception naming the problem; the public helpers
(get, names, per-sample functions, threads, build_info) behave as documented."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import fastloss as fl


def test_mismatched_shapes_name_both():
    with pytest.raises(ValueError, match=r"y_true shape \(3, 4\) and y_pred shape \(3, 5\)"):
        fl.MeanSquaredError()(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="incompatible"):
        # y_pred must not be broadcast up to y_true: its gradient would change shape
        fl.MeanSquaredError()(np.zeros((3, 4)), np.zeros(4))


@pytest.mark.parametrize("bad", [["a", "b"], np.array(["1", "2"]), [1 + 2j, 3j],
                                 np.array([None, None], dtype=object)],
                         ids=["str-list", "str-array", "complex", "object"])
def test_non_numeric_inputs_raise_type_error(bad):
    for args in [(bad, [1.0, 2.0]), ([1.0, 2.0], bad)]:
        with pytest.raises(TypeError, match="real numbers"):
            fl.MeanSquaredError()(*args)


@pytest.mark.parametrize("make,match", [
    (lambda: fl.Huber(delta=0.0), "delta must be > 0"),
    (lambda: fl.Huber(delta=-1.0), "delta must be > 0"),
    (lambda: fl.SmoothL1(beta=-0.1), "beta must be finite and >= 0"),
    (lambda: fl.Pinball(quantile=0.0), r"quantile must be in \(0, 1\)"),
    (lambda: fl.Pinball(quantile=1.5), r"quantile must be in \(0, 1\)"),
    (lambda: fl.BinaryCrossentropy(label_smoothing=1.5), r"label_smoothing must be in \[0, 1\]"),
    (lambda: fl.BinaryFocalCrossentropy(gamma=-1.0), "gamma must be finite and >= 0"),
    (lambda: fl.BinaryFocalCrossentropy(alpha=2.0), r"alpha must be in \[0, 1\]"),
    (lambda: fl.AsymmetricLinear(overestimate_cost=-1), "overestimate_cost must be finite"),
    (lambda: fl.MeanSquaredError(reduction="avg"), "invalid reduction 'avg'"),
])
def test_invalid_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_reduction_must_be_a_string():
    with pytest.raises(TypeError, match="reduction must be a string"):
        fl.MeanSquaredError(reduction=3)


def test_axis_errors():
    with pytest.raises(ValueError, match="axis 2 is out of range for y_pred of rank 2"):
        fl.BinaryCrossentropy(axis=2)(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(TypeError, match="axis must be an integer"):
        fl.BinaryCrossentropy(axis=1.5)


def test_grad_output_shapes():
    t = p = np.zeros((4, 3))
    with pytest.raises(ValueError, match="grad_output must be a scalar for a reduced loss"):
        fl.MeanSquaredError().backward(t, p, grad_output=np.ones(4))
    with pytest.raises(ValueError, match=r"grad_output of shape \(5,\) does not broadcast"):
        fl.MeanSquaredError(reduction="none").backward(t, p, grad_output=np.ones(5))


def test_sample_weight_errors():
    t = p = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(5,\)"):
        fl.MeanSquaredError()(t, p, sample_weight=np.ones(5))
    with pytest.raises(TypeError, match="sample_weight must contain real numbers"):
        fl.MeanSquaredError()(t, p, sample_weight=["x"] * 4)
    with pytest.raises(ValueError, match="broadcasts neither"):
        fl.MeanSquaredError().gradient_hessian(t, p, sample_weight=np.ones(7))


def test_out_errors():
    t = np.zeros((4, 3))
    p = np.ones((4, 3))
    loss = fl.MeanSquaredError()
    with pytest.raises(ValueError, match=r"out has shape \(3, 4\), expected \(4, 3\)"):
        loss.backward(t, p, out=np.empty((3, 4)))
    with pytest.raises(TypeError, match="out has dtype float32, expected float64"):
        loss.backward(t, p, out=np.empty((4, 3), np.float32))
    ro = np.empty((4, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        loss.backward(t, p, out=ro)
    with pytest.raises(ValueError, match="out must not overlap y_true"):
        loss.backward(t, p, out=t)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        loss.backward(t, p, out=[[0.0] * 3] * 4)
    big = np.ones((5, 3))
    with pytest.raises(ValueError, match="out overlaps y_pred"):
        loss.backward(t, big[:4], out=big[1:])
    np.testing.assert_array_equal(p, 1.0)  # nothing was written before the check


def test_no_hessian_message_says_why():
    with pytest.raises(NotImplementedError, match="piecewise linear"):
        fl.MeanAbsoluteError().gradient_hessian([1.0], [2.0])
    assert not fl.Hinge().has_hessian and fl.SquaredHinge().has_hessian


def test_get_every_name_and_alias():
    for name in fl.names():
        assert isinstance(fl.get(name), (fl.Loss, fl.MultiInputLoss))
    assert type(fl.get("mse")) is fl.MeanSquaredError
    assert type(fl.get("binary_crossentropy")) is fl.BinaryCrossentropy
    assert type(fl.get("logcosh")) is fl.LogCosh
    assert type(fl.get(fl.mean_absolute_error)) is fl.MeanAbsoluteError
    loss = fl.Huber(delta=2.0)
    assert fl.get(loss) is loss
    assert type(fl.get(fl.Poisson)) is fl.Poisson
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        fl.get("nope")
    with pytest.raises(TypeError, match="cannot interpret"):
        fl.get(3)


def test_per_sample_functions_have_keras_signatures():
    assert list(inspect.signature(fl.huber).parameters) == ["y_true", "y_pred", "delta"]
    assert list(inspect.signature(fl.binary_crossentropy).parameters) == [
        "y_true", "y_pred", "from_logits", "label_smoothing", "axis"]
    np.testing.assert_allclose(fl.huber([[0.0, 0.0]], [[1.0, 3.0]], 2.0), [(0.5 + 4.0) / 2])
    assert fl.mse is fl.mean_squared_error
    assert fl.mean_squared_error(np.zeros((5, 2)), np.ones((5, 2))).shape == (5,)


def test_threads_api_and_build_info():
    before = fl.get_num_threads()
    try:
        fl.set_num_threads(1)
        assert fl.get_num_threads() == 1
        with pytest.raises(ValueError, match=r"n must be in \[1, 1024\], got 0"):
            fl.set_num_threads(0)
        with pytest.raises(TypeError):
            fl.set_num_threads(2.5)
    finally:
        fl.set_num_threads(before)
    info = fl.build_info()
    assert {"version", "simd", "thread_pool", "threads", "compiler"} <= set(info)
    assert info["version"] == fl.__version__


def test_config_and_repr():
    loss = fl.BinaryFocalCrossentropy(gamma=3.0, from_logits=True, reduction="sum")
    cfg = loss.get_config()
    assert cfg["gamma"] == 3.0 and cfg["from_logits"] is True and cfg["reduction"] == "sum"
    assert "gamma=3.0" in repr(loss)
    assert fl.MeanSquaredError().name == "mean_squared_error"


def test_docstrings_state_formula_and_gradient():
    for cls in [fl.MeanSquaredError, fl.Huber, fl.BinaryCrossentropy, fl.ZeroOneLoss]:
        doc = cls.__doc__
        assert "loss =" in doc and "dloss/dp =" in doc and "reduction" in doc

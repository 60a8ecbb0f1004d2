"""Bad input, generated over the registry: every loss class and all
four methods get mismatched shapes, non-numeric data, bad labels, bad
parameters, badly shaped sample_weight / grad_output, bad out= arrays, 0-d and
empty inputs and non-finite values. Each raises a clear ValueError/TypeError
naming the argument, or returns the right value; inputs are never modified."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fastloss as fl
from fastloss import _registry
from fastloss._classaxis import ClassAxisLoss

from support import rng_for

METHODS = ["forward", "backward", "forward_backward", "gradient_hessian"]
NAMES = sorted(_registry.CLASSES)


def kind_of(loss: fl.Loss) -> str:
    """What the loss reads besides y_pred: "dense" targets, "labels" or "none"."""
    return getattr(loss, "_input", "dense")


def valid_inputs(loss: fl.Loss, shape=(4, 3), dtype=np.float64, key=()):
    rng = rng_for(type(loss).__name__, shape, *key)
    p = rng.uniform(0.1, 0.9, size=shape).astype(dtype)
    kind = kind_of(loss)
    if kind == "labels":
        t = rng.integers(0, shape[-1], size=shape[:-1])
    elif kind == "none":
        t = None
    else:
        t = rng.integers(0, 2, size=shape).astype(dtype)
    return t, p


def call(loss: fl.Loss, method: str, t, p, sw=None, **kw):
    """One of the four methods, whatever the inputs of the loss (Entropy reads
    y_pred alone). Returns (value or None, gradient or None)."""
    if method == "gradient_hessian" and not loss.has_hessian:
        pytest.skip(f"{type(loss).__name__} has no Hessian")
    args = (p,) if kind_of(loss) == "none" else (t, p)
    fn = getattr(loss, method)
    res = fn(*args, sw, **kw)
    if method == "forward":
        return res, None
    if method == "backward":
        return None, res[0] if isinstance(res, tuple) else res
    if method == "forward_backward":
        v, g = res
        return v, g[0] if isinstance(g, tuple) else g
    return None, res[0]  # gradient_hessian: (grad, hess)


def quiet_make(name: str, **kw) -> fl.Loss:
    cls = _registry.CLASSES[name]
    if getattr(cls, "_axes", False) and "axis" not in kw:
        # the checks here reduce one axis per sample; the segmentation losses'
        # default axis=None (one value for the whole array) has tests of its own
        kw["axis"] = -1
    return cls(**kw)


def per_element(loss: fl.Loss) -> bool:
    """Whether each element is a sample (PyTorch's elementwise losses)."""
    return bool(getattr(loss, "_per_element", False))


def sample_shape(loss: fl.Loss, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape) if per_element(loss) else tuple(shape[:-1])


CLASS_METHOD = pytest.mark.parametrize("method", METHODS)
EVERY_CLASS = pytest.mark.parametrize("name", NAMES)
DENSE = [n for n in NAMES if kind_of(quiet_make(n)) == "dense"]
SPARSE = [n for n in NAMES if kind_of(quiet_make(n)) == "labels"]


# --- shapes ------------------------------------------------------------------------


@CLASS_METHOD
@EVERY_CLASS
def test_mismatched_shapes_name_both(name, method):
    loss = quiet_make(name)
    if kind_of(loss) == "none":
        pytest.skip("one input: nothing to mismatch")
    _, p = valid_inputs(loss, (3, 5))
    t = np.zeros((4, 2), np.int64) if kind_of(loss) == "labels" else np.zeros((3, 4))
    shown = re.escape(str(t.shape))
    with pytest.raises(ValueError, match=rf"y_true shape {shown} and y_pred shape \(3, 5\)"):
        call(loss, method, t, p)


# --- dtypes ------------------------------------------------------------------------

BAD_DATA = {
    "str-list": lambda shape: np.full(shape, "a").tolist(),
    "str-array": lambda shape: np.full(shape, "1.0"),
    "object": lambda shape: np.full(shape, None, dtype=object),
    "None": lambda shape: None,
    "complex": lambda shape: np.ones(shape, np.complex128),
    "ragged": lambda shape: [[1.0, 2.0], [3.0]],
}


@pytest.mark.parametrize("bad", list(BAD_DATA))
@CLASS_METHOD
@EVERY_CLASS
def test_non_numeric_y_pred_raises_type_error(name, method, bad):
    loss = quiet_make(name)
    t, _ = valid_inputs(loss)
    with pytest.raises(TypeError, match="y_pred"):
        call(loss, method, t, BAD_DATA[bad]((4, 3)))


@pytest.mark.parametrize("bad", list(BAD_DATA))
@CLASS_METHOD
@EVERY_CLASS
def test_non_numeric_y_true_raises_type_error(name, method, bad):
    loss = quiet_make(name)
    if kind_of(loss) == "none":
        pytest.skip("no y_true")
    _, p = valid_inputs(loss)
    shape = (4,) if kind_of(loss) == "labels" else (4, 3)
    with pytest.raises(TypeError, match="y_true"):
        call(loss, method, BAD_DATA[bad](shape), p)


@pytest.mark.parametrize("bad", ["str-array", "object", "complex"])
@CLASS_METHOD
@EVERY_CLASS
def test_non_numeric_sample_weight_raises_type_error(name, method, bad):
    loss = quiet_make(name)
    t, p = valid_inputs(loss)
    with pytest.raises(TypeError, match="sample_weight"):
        call(loss, method, t, p, sw=BAD_DATA[bad]((4,)))


@pytest.mark.parametrize("method", ["backward", "forward_backward"])
@EVERY_CLASS
def test_non_numeric_grad_output_raises_type_error(name, method):
    for reduction in ["sum", "none"]:
        loss = quiet_make(name, reduction=reduction)
        t, p = valid_inputs(loss)
        for bad in ["x", None, 1j, np.ones(4, complex)]:
            with pytest.raises(TypeError, match="grad_output"):
                call(loss, method, t, p, grad_output=bad)


@CLASS_METHOD
@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.int64, np.uint8, np.bool_])
@EVERY_CLASS
def test_other_real_dtypes_are_converted(name, method, dtype):
    loss = quiet_make(name)
    t, p = valid_inputs(loss)
    p = (p > 0.5) if dtype == np.bool_ else (p * 10).astype(dtype)
    want = np.float32 if dtype == np.float16 else np.float64
    v, g = call(loss, method, t, p)
    if v is not None:
        assert np.asarray(v).dtype == want
    if g is not None:
        assert g.dtype == want and g.shape == p.shape


# --- labels of the sparse losses -----------------------------------------------------

BAD_LABELS = [
    ([0, 1, 3, 2], 3, 2),
    ([0, -2, 1, 5], -2, 1),
    ([1, 1, 1, np.iinfo(np.int64).max], np.iinfo(np.int64).max, 3),
    ([np.iinfo(np.int64).min, 0, 0, 0], np.iinfo(np.int64).min, 0),
]


@pytest.mark.parametrize("labels,label,index", BAD_LABELS,
                         ids=["too-big", "negative", "int64-max", "int64-min"])
@CLASS_METHOD
@pytest.mark.parametrize("name", SPARSE)
def test_labels_out_of_range_name_label_and_index(name, method, labels, label, index):
    loss = quiet_make(name)
    _, p = valid_inputs(loss)
    with pytest.raises(ValueError, match=rf"y_true: label {label} at index {index} is outside "
                                         r"\[0, 3\)"):
        call(loss, method, np.array(labels, np.int64), p)


@CLASS_METHOD
@pytest.mark.parametrize("name", SPARSE)
def test_labels_2d_index_and_other_dtypes(name, method):
    loss = quiet_make(name)
    _, p = valid_inputs(loss, (2, 3, 4))
    labels = np.zeros((2, 3), np.int64)
    labels[1, 2] = 4
    with pytest.raises(ValueError, match=r"label 4 at index \(1, 2\) is outside \[0, 4\)"):
        call(loss, method, labels, p)
    with pytest.raises(ValueError, match=r"label 1.5 at index \(0, 1\) is not an integer"):
        call(loss, method, np.array([[0, 1.5, 0], [0, 0, 0]]), p)
    with pytest.raises(ValueError, match=r"label nan at index 3 is not an integer"):
        call(loss, method, np.array([0.0, 1, 2, np.nan]), p[0, :, :].reshape(4, 3)[:, :3])
    big = np.array([0, 0, np.iinfo(np.uint64).max], np.uint64)
    with pytest.raises(ValueError, match=r"label 18446744073709551615 at index 2"):
        call(loss, method, big, p[0])
    for dtype in [np.int8, np.uint16, np.int32, np.float32]:
        call(loss, method, np.array([0, 1, 3], dtype), p[0])  # valid ids in any dtype


@pytest.mark.parametrize("name", [n for n in SPARSE if "ignore_class" in
                                  _registry.CLASSES[n].__init__.__code__.co_varnames])
def test_ignore_class_labels_are_not_range_checked(name):
    loss = quiet_make(name, ignore_class=-100)
    _, p = valid_inputs(loss)
    v = loss(np.array([0, -100, 2, -100]), p)
    assert np.isfinite(v)
    with pytest.raises(ValueError, match=r"label -1 at index 1"):
        loss(np.array([0, -1, 2, -100]), p)
    with pytest.raises(TypeError, match="ignore_class must be an integer"):
        quiet_make(name, ignore_class=1.5)


# --- parameters ----------------------------------------------------------------------

BAD_PARAMS = [
    ("Huber", {"delta": 0.0}, ValueError, "delta must be > 0"),
    ("Huber", {"delta": -2.0}, ValueError, "delta must be > 0"),
    ("Huber", {"delta": np.nan}, ValueError, "delta must be > 0"),
    ("SmoothL1", {"beta": -1.0}, ValueError, "beta must be finite and >= 0"),
    ("SmoothL1", {"beta": float("inf")}, ValueError, "beta must be finite"),
    ("AsymmetricLinear", {"underestimate_cost": float("inf")}, ValueError,
     "underestimate_cost must be finite"),
    ("ZeroOneLoss", {"threshold": float("nan")}, ValueError, "threshold must not be NaN"),
    ("Pinball", {"quantile": 0.0}, ValueError, r"quantile must be in \(0, 1\)"),
    ("Pinball", {"quantile": 1.0}, ValueError, r"quantile must be in \(0, 1\)"),
    ("Pinball", {"quantile": -0.5}, ValueError, r"quantile must be in \(0, 1\)"),
    ("Pinball", {"quantile": np.nan}, ValueError, r"quantile must be in \(0, 1\)"),
    ("AsymmetricLinear", {"overestimate_cost": -1.0}, ValueError, "overestimate_cost must be"),
    ("AsymmetricLinear", {"underestimate_cost": -1.0}, ValueError,
     "underestimate_cost must be"),
    ("BinaryFocalCrossentropy", {"gamma": -0.5}, ValueError, "gamma must be finite and >= 0"),
    ("BinaryFocalCrossentropy", {"alpha": 1.5}, ValueError, r"alpha must be in \[0, 1\]"),
    ("CategoricalFocalCrossentropy", {"gamma": -0.5}, ValueError, "gamma must be finite and >= 0"),
    ("CategoricalFocalCrossentropy", {"alpha": []}, ValueError, "alpha must not be empty"),
    ("CategoricalFocalCrossentropy", {"alpha": [[1.0]]}, ValueError, "alpha must be a scalar"),
    ("SparseCategoricalCrossentropy", {"class_weight": [1.0, -1.0]}, ValueError,
     "class weights must be finite and >= 0"),
    ("SparseCategoricalCrossentropy", {"class_weight": [[1.0]]}, ValueError,
     "class_weight must be a scalar or a 1-D"),
]
for _n in NAMES:
    if "label_smoothing" in _registry.CLASSES[_n].__init__.__code__.co_varnames:
        for _ls in [-0.1, 1.5, np.nan]:
            BAD_PARAMS.append((_n, {"label_smoothing": _ls}, ValueError,
                               r"label_smoothing must be in \[0, 1\]"))
    BAD_PARAMS.append((_n, {"reduction": "avg"}, ValueError, "invalid reduction 'avg'"))
    BAD_PARAMS.append((_n, {"reduction": 2}, TypeError, "reduction must be a string"))
    BAD_PARAMS.append((_n, {"axis": 1.5}, TypeError, "axis must be an integer")
                      if "axis" in _registry.CLASSES[_n].__init__.__code__.co_varnames
                      else (_n, {"reduction": "Sum"}, ValueError, "invalid reduction 'Sum'"))


@pytest.mark.parametrize("name,params,exc,match", BAD_PARAMS,
                         ids=[f"{n}-{p}" for n, p, _, _ in BAD_PARAMS])
def test_invalid_parameters(name, params, exc, match):
    with pytest.raises(exc, match=match):
        quiet_make(name, **params)


def test_unknown_loss_name():
    with pytest.raises(ValueError, match="unknown loss 'nope'; known names: .*mse"):
        fl.get("nope")
    with pytest.raises(ValueError, match="unknown loss ''"):
        fl.get("")
    for bad in [None, 3, 2.5, ["mse"]]:
        with pytest.raises(TypeError, match="cannot interpret"):
            fl.get(bad)


def test_class_parameter_arrays_of_the_wrong_length():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match="class_weight has 2 entries but y_pred has 3 classes"):
        fl.SparseCategoricalCrossentropy(class_weight=[1.0, 2.0])([0, 1], p)
    with pytest.raises(ValueError, match="alpha has 4 entries but y_pred has 3 classes"):
        fl.CategoricalFocalCrossentropy(alpha=[0.1] * 4)(np.eye(3)[:2], p)


@CLASS_METHOD
@EVERY_CLASS
def test_axis_out_of_range(name, method):
    if "axis" not in _registry.CLASSES[name].__init__.__code__.co_varnames:
        pytest.skip("no axis parameter")
    loss = quiet_make(name, axis=2)
    t, p = valid_inputs(loss)
    with pytest.raises(ValueError, match="axis 2 is out of range for y_pred of rank 2"):
        call(loss, method, t, p)


# --- sample_weight, grad_output ---------------------------------------------------------


@CLASS_METHOD
@EVERY_CLASS
def test_sample_weight_of_the_wrong_shape(name, method):
    loss = quiet_make(name)
    t, p = valid_inputs(loss)
    # (per-element losses: (2, 4, 3) would broadcast up against their (4, 3) samples)
    for sw in [np.ones(5), np.ones((4, 2)), np.ones((2, 4, 2) if per_element(loss) else (2, 4, 3))]:
        with pytest.raises(ValueError, match=re.escape(f"sample_weight of shape {sw.shape}")):
            call(loss, method, t, p, sw=sw)


@pytest.mark.parametrize("method", ["backward", "forward_backward"])
@EVERY_CLASS
def test_grad_output_of_the_wrong_shape(name, method):
    t, p = valid_inputs(quiet_make(name))
    loss = quiet_make(name)
    with pytest.raises(ValueError, match=r"grad_output must be a scalar for a reduced loss"):
        call(loss, method, t, p, grad_output=np.ones(4))
    loss = quiet_make(name, reduction="none")
    for go in [np.ones(5), np.ones((4, 2) if per_element(loss) else (4, 3))]:
        with pytest.raises(ValueError,
                           match=re.escape(f"grad_output of shape {go.shape} does not broadcast")):
            call(loss, method, t, p, grad_output=go)
    _, g = call(loss, method, t, p, grad_output=np.arange(4.0))
    _, g1 = call(loss, method, t, p)
    np.testing.assert_allclose(g, g1 * np.arange(4.0)[:, None], rtol=1e-12)


# --- out= ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["backward", "forward_backward"])
@EVERY_CLASS
def test_bad_out_arrays(name, method):
    loss = quiet_make(name)
    t, p = valid_inputs(loss)
    p0 = p.copy()
    with pytest.raises(ValueError, match=r"out has shape \(3, 4\), expected \(4, 3\)"):
        call(loss, method, t, p, out=np.empty((3, 4)))
    with pytest.raises(ValueError, match=r"out has shape \(12,\), expected \(4, 3\)"):
        call(loss, method, t, p, out=np.empty(12))
    with pytest.raises(TypeError, match="out has dtype float32, expected float64"):
        call(loss, method, t, p, out=np.empty((4, 3), np.float32))
    with pytest.raises(TypeError, match="out has dtype int64, expected float64"):
        call(loss, method, t, p, out=np.empty((4, 3), np.int64))
    with pytest.raises(TypeError, match="out must be a numpy.ndarray"):
        call(loss, method, t, p, out=p.tolist())
    ro = np.empty((4, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        call(loss, method, t, p, out=ro)
    big = np.concatenate([p, p])
    with pytest.raises(ValueError, match="out overlaps y_pred"):
        call(loss, method, t, big[:4], out=big[1:5])
    if kind_of(loss) == "dense":
        tt = t.copy()
        with pytest.raises(ValueError, match="out must not overlap y_true"):
            call(loss, method, tt, p, out=tt)
        np.testing.assert_array_equal(tt, t)
    sw = np.ones(4)
    with pytest.raises(ValueError, match="out must not overlap sample_weight"):
        call(loss, method, t, p, sw=sw, out=np.lib.stride_tricks.as_strided(
            sw, shape=(4, 3), strides=(8, 0)))
    np.testing.assert_array_equal(p, p0)  # nothing was written before the checks


@pytest.mark.parametrize("method", ["backward", "forward_backward"])
@EVERY_CLASS
def test_out_in_place_and_strided(name, method):
    loss = quiet_make(name)
    t, p = valid_inputs(loss)
    _, want = call(loss, method, t, p.copy())
    q = p.copy()
    _, g = call(loss, method, t, q, out=q)
    assert g is q
    np.testing.assert_array_equal(q, want)
    buf = np.zeros((8, 6))
    _, g = call(loss, method, t, p, out=buf[::2, ::2])
    np.testing.assert_array_equal(buf[::2, ::2], want)
    assert not buf[1::2].any() and not buf[:, 1::2].any()


# --- 0-d and empty ---------------------------------------------------------------------------


@CLASS_METHOD
@EVERY_CLASS
def test_zero_dimensional_inputs(name, method):
    loss = quiet_make(name, reduction="none")
    if isinstance(loss, ClassAxisLoss):
        # every class-axis loss needs a class axis on y_pred, dense or not
        t = {"labels": 0, "dense": np.float64(1.0)}.get(kind_of(loss))
        with pytest.raises(ValueError, match="y_pred must have at least one dimension"):
            call(loss, method, t, np.float64(0.5))
        return
    v, g = call(loss, method, np.float64(1.0), np.float64(0.5))
    v1, g1 = call(loss, method, np.array([1.0]), np.array([0.5]))
    if v is not None:
        assert np.ndim(v) == 0
        np.testing.assert_allclose(v, v1, rtol=1e-12)
    if g is not None:
        assert g.shape == ()
        np.testing.assert_allclose(g, g1[0], rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight",
                                       "none"])
@CLASS_METHOD
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@EVERY_CLASS
def test_empty_batches(name, method, dtype, reduction):
    loss = quiet_make(name, reduction=reduction)
    t, p = valid_inputs(loss, (0, 3), dtype)
    for sw in [None, np.ones(0, dtype)]:
        v, g = call(loss, method, t, p, sw=sw)
        if v is not None:
            if reduction == "none":
                assert np.shape(v) == sample_shape(loss, (0, 3))
            else:
                assert np.ndim(v) == 0 and v == 0 and np.asarray(v).dtype == dtype
        if g is not None:
            assert g.shape == (0, 3) and g.dtype == dtype


# --- non-finite values and denormals -----------------------------------------------------------

import cases as elementwise_cases  # noqa: E402  (the elementwise case table)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 5e-324, -5e-324, 1e-310,
                                   np.float64(np.finfo(np.float32).tiny) / 4],
                         ids=["nan", "inf", "-inf", "denorm", "-denorm", "denorm2", "f32-denorm"])
@pytest.mark.parametrize("where", ["y_true", "y_pred"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", elementwise_cases.CASES, ids=elementwise_cases.CASE_IDS)
def test_non_finite_and_denormal_values_as_numpy(case, dtype, where, value):
    """One special value among ordinary ones: per-sample losses equal the float64
    NumPy reference computed on the same (dtype-rounded) inputs, NaN where it has
    NaN and the same infinities."""
    rng = rng_for(case.id, "special")
    t, p = case.domain(rng, (3, 4))
    t, p = t.astype(dtype), p.astype(dtype)
    target = t if where == "y_true" else p
    with np.errstate(over="ignore", under="ignore"):
        target[1, 2] = value
    loss = case.make("none")
    got = loss(t, p)
    if case.params.get("from_logits") and where == "y_pred" and np.isinf(value):
        # Infinite logits: the formulas (Keras's and the reference's alike) meet
        # inf - inf or 0 * inf; only the rows without the infinity are compared.
        np.testing.assert_allclose(got[[0, 2]], case.per_sample(case.ref(t[[0, 2]], p[[0, 2]])),
                                   rtol=3e-5 if dtype == np.float32 else 1e-9)
        return
    rt, rp = t, p
    if dtype == np.float32 and not case.params.get("from_logits") and (
            case.cls is fl.BinaryCrossentropy or case.params.get("gamma") == 0.0):
        # float32 clips at float32(1 - 1e-7) = 1 - 2**-23 (as Keras does in float32)
        rp = np.clip(p, np.float32(1e-7), np.float32(1 - 1e-7))
    with np.errstate(all="ignore"):
        per_element = case.ref(rt, rp)
        if dtype == np.float32:
            # an element beyond float32's range is +-inf in float32 arithmetic (NumPy's
            # too), before the float64 mean: Gamma's t / p at a float32 denormal p
            big = np.abs(per_element) > np.finfo(np.float32).max
            per_element = np.where(big, np.copysign(np.inf, per_element), per_element)
        want = case.per_sample(per_element)
    if case.cls is fl.ZeroOneLoss and np.isnan(value):
        want[1] = np.nan  # documented: NaN propagates through the 0-1 loss
    tol = {"rtol": 3e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-12}
    np.testing.assert_allclose(got, want, equal_nan=True, **tol)
    untouched = [0, 2]
    assert np.all(np.isfinite(got[untouched])) == np.all(np.isfinite(want[untouched]))


@EVERY_CLASS
def test_nan_in_y_pred_never_crashes_and_stays_in_its_row(name):
    loss = quiet_make(name, reduction="none")
    t, p = valid_inputs(loss)
    p[1, 1] = np.nan
    v, g = call(loss, "forward_backward", t, p)
    _, g_clean = call(loss, "forward_backward", t, np.where(np.isnan(p), 0.5, p))
    v_clean, _ = call(loss, "forward_backward", t, np.where(np.isnan(p), 0.5, p))
    for r in [0, 2, 3]:  # the other rows are the clean rows
        np.testing.assert_array_equal(v[r], v_clean[r])
        np.testing.assert_array_equal(g[r], g_clean[r])


# --- inputs are never modified -------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
@CLASS_METHOD
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@EVERY_CLASS
def test_inputs_are_never_modified(name, method, dtype, reduction):
    loss = quiet_make(name, reduction=reduction)
    t, p = valid_inputs(loss, (5, 4), np.float64)
    p = (p * 10).astype(dtype) if dtype == np.int64 else p.astype(dtype)
    if t is not None and kind_of(loss) == "dense":
        t = t.astype(dtype)
    sw = np.linspace(0.5, 2.0, 5)
    go = np.linspace(1.0, 2.0, 5) if reduction == "none" else 3.0
    copies = [None if a is None else np.copy(a) for a in (t, p, sw)]
    kw = {"grad_output": go} if method in ("backward", "forward_backward") else {}
    call(loss, method, t, p, sw=sw, **kw)
    for before, after in zip(copies, (t, p, sw)):
        if before is not None:
            np.testing.assert_array_equal(after, before)
            assert after.dtype == before.dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_cosh_of_minus_infinity_is_infinity(dtype):
    got = fl.LogCosh(reduction="none")(np.array([[0.0]], dtype), np.array([[-np.inf]], dtype))
    with np.errstate(over="ignore"):
        want = np.log(np.cosh(np.array([-np.inf], dtype)))
    np.testing.assert_array_equal(got, want)  # [inf]


def _float_params():
    import inspect
    out = []
    for n in NAMES:
        for pname, par in inspect.signature(_registry.CLASSES[n].__init__).parameters.items():
            if isinstance(par.default, float) or (n == "SparseCategoricalCrossentropy"
                                                  and pname == "class_weight"):
                out.append((n, pname))
    return out


@pytest.mark.parametrize("bad", ["a", "0.5", None, 1j, [object()]],
                         ids=["str", "numeric-str", "None", "complex", "object-list"])
@pytest.mark.parametrize("name,param", _float_params())
def test_non_numeric_parameters_raise_type_error_naming_them(name, param, bad):
    if bad is None and param in ("class_weight", "alpha"):
        if param == "class_weight":
            pytest.skip("class_weight=None means no class weights")
    with pytest.raises(TypeError, match=rf"{param} must be a real number"):
        quiet_make(name, **{param: bad})


def _packed_field(a: np.ndarray) -> np.ndarray:
    """`a` as the float field of a packed structured array: items 9 or 5 bytes
    apart, misaligned (strides that are not whole items)."""
    rec = np.zeros(a.shape, dtype=[("x", a.dtype), ("pad", "i1")])
    rec["x"] = a
    return rec["x"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@EVERY_CLASS
def test_misaligned_and_odd_stride_arrays(name, dtype):
    """Fields of packed structured arrays, odd byte offsets and non-native byte
    order are read (through a copy) and written (through a temporary)."""
    loss = quiet_make(name, reduction="none")
    t, p = valid_inputs(loss, (4, 3), dtype)
    v0, g0 = call(loss, "forward_backward", t, p)
    pf = _packed_field(p)
    assert pf.strides[-1] % pf.itemsize and np.array_equal(pf, p)
    tf = _packed_field(t) if kind_of(loss) == "dense" else t
    v, g = call(loss, "forward_backward", tf, pf)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)
    buf = np.frombuffer(b"\0" + p.tobytes(), dtype=dtype, offset=1).reshape(p.shape)
    assert not buf.flags.aligned
    v, g = call(loss, "forward_backward", t, buf)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)
    swapped = p.astype(p.dtype.newbyteorder())
    v, g = call(loss, "forward_backward", t, swapped)
    np.testing.assert_array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)
    out_rec = np.zeros(p.shape, dtype=[("x", dtype), ("pad", "i1")])
    out_rec["pad"] = 7
    _, g = call(loss, "forward_backward", t, p, out=out_rec["x"])
    np.testing.assert_array_equal(out_rec["x"], g0)
    assert (out_rec["pad"] == 7).all()  # written field by field, padding untouched


def test_class_weight_with_every_row_ignored_and_no_classes():
    """Found by fuzz/fuzz_api.py: the class weight of an ignored row was looked
    up at index 0, an IndexError when y_pred has no classes."""
    loss = fl.SparseCategoricalCrossentropy(class_weight=[], ignore_class=-1,
                                            reduction="mean_with_sample_weight")
    v, g = loss.forward_backward(np.array([-1]), np.zeros((1, 0)))
    assert v == 0 and g.shape == (1, 0)
    loss = fl.SparseCategoricalCrossentropy(class_weight=[1.0, 2.0], ignore_class=-1,
                                            reduction="mean_with_sample_weight")
    v = loss(np.array([-1, 1]), np.ones((2, 2)))
    np.testing.assert_allclose(v, np.log(2.0) * 2.0 / 2.0)


@pytest.mark.parametrize("fname", sorted(_registry.FUNCTIONS))
def test_per_sample_functions_check_their_inputs(fname):
    """The Keras-named functions (fl.mean_squared_error, ...) go through the
    same checks, and check their own signature."""
    import inspect

    func = _registry.FUNCTIONS[fname]
    loss = _registry.get(func)
    t, p = valid_inputs(loss)
    arrays = [n for n in inspect.signature(func).parameters if n in ("y_true", "y_pred")]
    good = (p,) if arrays == ["y_pred"] else (t, p)
    values = func(*good)
    # Keras's segmentation functions reduce over every axis by default
    assert np.shape(values) == (() if getattr(type(loss), "_axes", False)
                                else sample_shape(loss, (4, 3)))
    with pytest.raises(TypeError, match="y_pred"):
        func(*good[:-1], np.full((4, 3), "x"))
    if len(arrays) == 2:
        bad_t = np.zeros(5, np.int64) if kind_of(loss) == "labels" else np.zeros((4, 5))
        with pytest.raises(ValueError, match="y_true shape"):
            func(bad_t, p)
    with pytest.raises(TypeError):
        func(*good, not_a_parameter=1)
    with pytest.raises(TypeError):
        func()


import test_classaxis as classaxis_cases  # noqa: E402  (the class-axis case table)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 5e-324, 1e-310],
                         ids=["nan", "inf", "-inf", "denorm", "denorm2"])
@pytest.mark.parametrize("where", ["y_true", "y_pred"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", classaxis_cases.CASES, ids=classaxis_cases.CASE_IDS)
def test_class_axis_non_finite_and_denormal_values_as_numpy(case, dtype, where, value):
    if where == "y_true" and (case.kind != "dense" or case.cls._targets == "label_sets"):
        pytest.skip("class ids are checked, not computed with")
    t, p = classaxis_cases.draw(case, (3, 4), dtype, -1, "special")
    target = t if where == "y_true" else p
    with np.errstate(over="ignore", under="ignore"):
        target[1, 2] = value
    got = classaxis_cases.forward(case, case.make(4, "none"), t, p)
    with np.errstate(all="ignore"):
        want = case.ref(t, p)
    if "zero_one" in case.id and np.isnan(value) and not (case.kind == "labels" and t[1] == -1):
        want[1] = np.nan  # documented: a row of y_pred holding a NaN gives NaN (ignored rows 0)
    tol = {"rtol": 3e-5, "atol": 3e-6} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-12}
    np.testing.assert_allclose(got[[0, 2]], want[[0, 2]], **tol)
    np.testing.assert_allclose(got[1], want[1], equal_nan=True, **tol)


def test_categorical_zero_one_nan_target_is_nan():
    t = np.array([[0.0, 1.0, np.nan]])
    p = np.array([[0.1, 0.7, 0.2]])
    assert np.isnan(fl.ZeroOneLoss(reduction="none")(t, p))  # the elementwise rule
    assert np.isnan(fl.CategoricalZeroOneLoss(reduction="none")(t, p)[0])

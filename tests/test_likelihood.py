"""GaussianNLL (PyTorch's gaussian_nll_loss, three inputs) and CoxPH (Breslow's
partial likelihood over a batch): against float64 references written from
the formulas, central differences, PyTorch, and XGBoost's survival:cox
gradient."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import fastloss as fl

from support import keras_reduce

RNG = np.random.default_rng(20261202)
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


# -- references ---------------------------------------------------------------

def gaussian_elements(y, mean, var, full, eps):
    v = np.maximum(np.asarray(var, np.float64), eps)
    if v.shape != np.shape(mean):
        v = v.reshape(*np.shape(mean)[:-1], 1)
    r = np.asarray(mean, np.float64) - np.asarray(y, np.float64)
    out = 0.5 * (np.log(v) + r * r / v)
    return out + (0.5 * math.log(2 * math.pi) if full else 0.0)


def cox_reference(t, z, coef=None):
    """Per-sample losses, gradient and Hessian diagonal of sum c_i loss_i, by
    the definitions (O(n^2), float64)."""
    t = np.asarray(t, np.float64)
    z = np.asarray(z, np.float64)
    n = t.size
    c = np.ones(n) if coef is None else np.asarray(coef, np.float64)
    at = np.abs(t)
    ez = np.exp(z)
    risk = np.array([ez[at >= at[i]].sum() for i in range(n)])
    event = t > 0
    loss = np.where(event, np.log(risk) - z, 0.0)
    grad = np.empty(n)
    hess = np.empty(n)
    for j in range(n):
        ks = event & (at <= at[j])
        grad[j] = ez[j] * np.sum(c[ks] / risk[ks]) - (c[j] if event[j] else 0.0)
        hess[j] = np.sum(c[ks] * (ez[j] / risk[ks] - ez[j] ** 2 / risk[ks] ** 2))
    return loss, grad, hess


def survival_data(n, ties=False, dtype=np.float64):
    times = RNG.integers(1, max(2, n // 3), n).astype(np.float64) if ties else RNG.exponential(
        5.0, n)
    censored = RNG.random(n) < 0.3
    return (np.where(censored, -times, times).astype(dtype),
            RNG.normal(0, 1, n).astype(dtype))


# -- GaussianNLL -----------------------------------------------------------------

def gaussian_inputs(shape, var_shape, dtype):
    y = RNG.normal(size=shape).astype(dtype)
    mean = RNG.normal(size=shape).astype(dtype)
    var = RNG.uniform(0.2, 2.0, size=var_shape).astype(dtype)
    return y, mean, var


VAR_SHAPES = [((6, 5), (6, 5)), ((6, 5), (6, 1)), ((6, 5), (6,)), ((2, 3, 4), (2, 3, 4)),
              ((2, 3, 4), (2, 3)), ((7,), (7,)), ((7,), ())]


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("shape,var_shape", VAR_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_nll_value_and_gradients_match_the_formula(shape, var_shape, reduction, full):
    y, mean, var = gaussian_inputs(shape, var_shape, np.float64)
    weight = RNG.uniform(0.5, 2.0, size=shape[:-1]) if len(shape) > 1 else None
    loss = fl.GaussianNLL(full=full, reduction=reduction)
    value, (g_mean, g_var) = loss.forward_backward(y, mean, var, sample_weight=weight)
    expected = keras_reduce(gaussian_elements(y, mean, var, full, 1e-6).mean(-1), weight,
                            reduction)
    np.testing.assert_allclose(value, expected, rtol=1e-13)
    assert g_mean.shape == mean.shape and g_var.shape == np.shape(var)

    # central differences of the reduced value (grad_output picks the
    # per-sample terms under "none")
    go = RNG.normal(size=np.shape(expected)) if reduction == "none" else 1.0
    _, (g_mean, g_var) = loss.forward_backward(y, mean, var, sample_weight=weight,
                                               grad_output=go)

    def total(m, v):
        return float(np.sum(np.asarray(loss(y, m, v, sample_weight=weight)) * go))

    h = 1e-6
    for k in range(min(mean.size, 5)):
        e = np.zeros(mean.size)
        e[k] = h
        d = (total(mean + e.reshape(mean.shape), var) -
             total(mean - e.reshape(mean.shape), var)) / (2 * h)
        assert g_mean.reshape(-1)[k] == pytest.approx(d, rel=1e-6, abs=1e-9)
    for k in range(min(np.size(var), 5)):
        e = np.zeros(np.size(var))
        e[k] = h
        step = e.reshape(np.shape(var))
        d = (total(mean, var + step) - total(mean, var - step)) / (2 * h)
        assert np.reshape(g_var, -1)[k] == pytest.approx(d, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("shape,var_shape", VAR_SHAPES[:3])
def test_gaussian_nll_hessian_is_the_derivative_of_the_gradient(shape, var_shape):
    y, mean, var = gaussian_inputs(shape, var_shape, np.float64)
    weight = RNG.uniform(0.5, 2.0, size=shape[:-1])
    loss = fl.GaussianNLL()
    (g_mean, g_var), (h_mean, h_var) = loss.gradient_hessian(y, mean, var, sample_weight=weight)
    elements = gaussian_elements(y, mean, var, False, 1e-6)
    assert g_mean.shape == mean.shape and h_var.shape == var.shape
    h = 1e-6
    (gp, _), _ = loss.gradient_hessian(y, mean + h, var, sample_weight=weight)
    (gm, _), _ = loss.gradient_hessian(y, mean - h, var, sample_weight=weight)
    np.testing.assert_allclose(h_mean, (gp - gm) / (2 * h), rtol=1e-6)
    (_, gvp), _ = loss.gradient_hessian(y, mean, var + h, sample_weight=weight)
    (_, gvm), _ = loss.gradient_hessian(y, mean, var - h, sample_weight=weight)
    np.testing.assert_allclose(h_var, (gvp - gvm) / (2 * h), rtol=1e-5, atol=1e-9)
    # the gradient is of the unreduced, weighted elementwise sum
    w = weight[:, None]
    d = (np.sum(w * gaussian_elements(y, mean + h, var, False, 1e-6)) -
         np.sum(w * gaussian_elements(y, mean - h, var, False, 1e-6))) / (2 * h)
    assert g_mean.sum() == pytest.approx(d, rel=1e-6)
    assert np.all(np.isfinite(elements))


@pytest.mark.peer
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(64, 10), (64, 1), (64,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gaussian_nll_matches_pytorch(dtype, full, var_shape, reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    y, mean, var = gaussian_inputs((64, 10), var_shape, dtype)
    var.reshape(-1)[:3] = 1e-9  # below eps: clamped, the gradient taken at eps
    tm = torch.tensor(mean, requires_grad=True)
    tv = torch.tensor(var, requires_grad=True)
    out = F.gaussian_nll_loss(tm, torch.tensor(y), tv, full=full, eps=1e-6, reduction=reduction)
    ours = {"mean": "sum_over_batch_size", "sum": "sum", "none": "none"}[reduction]
    loss = fl.GaussianNLL(full=full, eps=1e-6, reduction=ours)
    scale = 10.0 if reduction == "sum" else 1.0  # fastloss sums per-sample means
    if reduction == "none":
        # fastloss's per-sample loss is the mean of the row's elements: its
        # grad_output per row is PyTorch's per-element grad_output / D
        go = RNG.normal(size=64).astype(dtype)
        out.backward(torch.tensor(np.repeat(go[:, None] / 10, 10, axis=1)))
        value, (g_mean, g_var) = loss.forward_backward(y, mean, var, grad_output=go)
        value, scale = value * 10, 1.0
        out = out.sum(-1)
    else:
        out.backward()
        value, (g_mean, g_var) = loss.forward_backward(y, mean, var)
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(value * scale, out.detach().numpy(), rtol=rtol)
    assert value.dtype == dtype and g_mean.dtype == dtype and g_var.dtype == dtype
    np.testing.assert_allclose(g_mean * scale, tm.grad.numpy(), rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(g_var * scale, tv.grad.numpy(), rtol=rtol,
                               atol=1e-7 * np.abs(tv.grad.numpy()).max())


def test_gaussian_nll_refuses_bad_input_with_clear_errors():
    y, mean, var = gaussian_inputs((4, 3), (4, 3), np.float64)
    loss = fl.GaussianNLL()
    with pytest.raises(ValueError, match="negative entries"):
        loss(y, mean, -var)
    both = var.copy()
    both[0, 0], both[1, 1] = np.nan, -1.0  # a NaN does not hide a negative variance
    with pytest.raises(ValueError, match="negative entries"):
        loss(y, mean, both)
    with pytest.raises(ValueError, match="var has shape"):
        loss(y, mean, var[:, :2])
    with pytest.raises(ValueError, match="y_true has shape"):
        loss(y[:3], mean, var)
    with pytest.raises(ValueError, match="eps"):
        fl.GaussianNLL(eps=-1.0)
    with pytest.raises(TypeError, match="full"):
        fl.GaussianNLL(full="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="3 inputs"):
        loss(y, mean)
    before = [a.copy() for a in (y, mean, var)]
    loss.forward_backward(y, mean, var)
    for a, b in zip((y, mean, var), before):
        np.testing.assert_array_equal(a, b)


def test_gaussian_nll_nan_propagates_and_float32_is_float32():
    y, mean, var = gaussian_inputs((5, 4), (5, 4), np.float32)
    var[2, 1] = np.nan
    loss = fl.GaussianNLL(reduction="none")
    values, (g_mean, g_var) = loss.forward_backward(y, mean, var)
    assert values.dtype == np.float32 and g_var.dtype == np.float32
    assert np.isnan(values[2]) and np.isfinite(np.delete(values, 2)).all()
    for g in (g_mean, g_var):  # only the element whose variance is NaN
        assert np.isnan(g[2, 1]) and np.isfinite(np.delete(g.reshape(-1), 9)).all()


# -- CoxPH ------------------------------------------------------------------------

@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cox_matches_the_definition(ties, reduction, weighted):
    t, z = survival_data(40, ties=ties)
    weight = RNG.uniform(0.5, 2.0, 40) if weighted else None
    loss = fl.CoxPH(reduction=reduction)
    go = RNG.normal(size=40) if reduction == "none" else 1.0
    value, grad = loss.forward_backward(t, z, sample_weight=weight, grad_output=go)
    per, _, _ = cox_reference(t, z)
    np.testing.assert_allclose(value, keras_reduce(per, weight, reduction), rtol=1e-12,
                               atol=1e-14)
    w = np.ones(40) if weight is None else weight
    coef = {"none": w * go, "sum": w, "mean_with_sample_weight": w / w.sum(),
            "sum_over_batch_size": w / 40}[reduction]
    _, expected_grad, _ = cox_reference(t, z, coef)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-11, atol=1e-14)
    g, hess = loss.gradient_hessian(t, z, sample_weight=weight)
    _, eg, eh = cox_reference(t, z, w)
    np.testing.assert_allclose(g, eg, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(hess, eh, rtol=1e-11, atol=1e-14)


def test_cox_derivatives_are_central_differences():
    t, z = survival_data(30, ties=True)
    loss = fl.CoxPH(reduction="sum")
    grad, hess = loss.gradient_hessian(t, z)
    h = 1e-6
    for j in range(30):
        e = np.zeros(30)
        e[j] = h
        assert grad[j] == pytest.approx((loss(t, z + e) - loss(t, z - e)) / (2 * h),
                                        rel=1e-6, abs=1e-8)
        gp, _ = loss.gradient_hessian(t, z + e)
        gm, _ = loss.gradient_hessian(t, z - e)
        assert hess[j] == pytest.approx((gp[j] - gm[j]) / (2 * h), rel=1e-5, abs=1e-8)


def test_cox_is_independent_of_sample_order_and_stable_for_large_scores():
    t, z = survival_data(500, ties=True)
    loss = fl.CoxPH(reduction="none")
    perm = RNG.permutation(500)
    v, g = loss.forward_backward(t, z)
    vp, gp = loss.forward_backward(t[perm], z[perm])
    np.testing.assert_allclose(vp, v[perm], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gp, g[perm], rtol=1e-12, atol=1e-15)
    # scores of 800: exp overflows float64, the kernel's shifted sums do not
    v_big, g_big = loss.forward_backward(t, z + 800.0)
    np.testing.assert_allclose(v_big, v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(g_big, g, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cox_shapes_dtypes_out_and_errors(dtype):
    t, z = survival_data(20, dtype=dtype)
    loss = fl.CoxPH()
    g = loss.backward(t[:, None], z[:, None])
    assert g.shape == (20, 1) and g.dtype == dtype
    assert loss(t, z).dtype == dtype
    assert fl.CoxPH(reduction="none")(t[:, None], z[:, None]).shape == (20,)
    out = np.empty(20, dtype)
    assert loss.backward(t, z, out=out) is out
    np.testing.assert_array_equal(out, loss.backward(t, z))
    zc = z.copy()
    loss.backward(t, zc, out=zc)  # in place
    np.testing.assert_array_equal(zc, out)
    with pytest.raises(ValueError, match=r"\(n,\) or \(n, 1\)"):
        loss(t.reshape(4, 5), z.reshape(4, 5))
    with pytest.raises(ValueError, match="samples"):
        loss(t[:5], z)
    t_nan = t.copy()
    t_nan[3] = np.nan
    assert np.isnan(loss(t_nan, z)) and np.isnan(loss.backward(t_nan, z)).all()
    assert loss(t[:0], z[:0]) == 0


def test_both_pickle_and_have_names():
    for loss in (fl.GaussianNLL(full=True, eps=1e-3, reduction="sum"), fl.CoxPH(name="cox")):
        again = pickle.loads(pickle.dumps(loss))
        assert again.get_config() == loss.get_config()
        assert type(fl.get(type(loss).__name__)) is type(loss)
    assert isinstance(fl.get("cox_ph"), fl.CoxPH)
    assert isinstance(fl.get("gaussian_nll"), fl.GaussianNLL)

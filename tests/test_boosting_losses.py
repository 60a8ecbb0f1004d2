"""The gradient-boosting objectives against their peers: scikit-learn's
loss module (HalfPoissonLoss, HalfGammaLoss, HalfTweedieLoss on raw scores, and the
deviances of sklearn.metrics), PyTorch's poisson_nll_loss (log_input True and
False), and float64 formulas written out here for Fair and Expectile (LightGBM's
fair objective, CatBoost's Expectile). The generated cases of tests/cases.py run
every other test family on these losses; these tests hold them to the libraries
boosting users come from."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest

import fastloss as fl

from support import rng_for

DTYPES = [np.float32, np.float64]


def _tol(dtype, expected):
    """float32 kernels against float64 peers: the suite's float32 tolerance
    (support.tolerance); float64: to 1e-12, atol scaled by the largest value."""
    scale = max(1.0, float(np.max(np.abs(expected))))
    if dtype == np.float32:
        return {"rtol": 3e-5, "atol": 2e-6 * scale}
    return {"rtol": 1e-12, "atol": 1e-13 * scale}


# -- the log-link losses against scikit-learn ------------------------------------------


def _sklearn_peer(name):
    loss = pytest.importorskip("sklearn._loss.loss")
    if name == "poisson":
        return fl.Poisson, {}, loss.HalfPoissonLoss()
    if name == "gamma":
        return fl.Gamma, {}, loss.HalfGammaLoss()
    power = float(name.split("-")[1])
    return fl.Tweedie, {"power": power}, loss.HalfTweedieLoss(power=power)


SKLEARN = ["poisson", "gamma", "tweedie-1.5", "tweedie-1.2", "tweedie-1.8"]


def _targets_and_scores(name, n=400):
    rng = rng_for("sklearn", name)
    if name == "gamma":  # HalfGammaLoss needs y > 0
        y = rng.gamma(2.0, 1.5, size=n)
    else:  # counts with zeros, and some non-integer targets (compound Poisson-Gamma)
        y = np.concatenate([rng.poisson(2.0, size=n // 2).astype(float),
                            rng.gamma(1.5, 2.0, size=n - n // 2) * rng.integers(0, 2, n - n // 2)])
    return y, rng.normal(0.3, 1.2, size=n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SKLEARN)
def test_log_input_matches_sklearn_on_raw_scores(name, dtype):
    """log_input=True is scikit-learn's Half*Loss on raw_prediction: the same value
    (its constant terms live in constant_to_optimal_zero, not in loss()), gradient and
    Hessian, with scale 1 on all three, weighted as scikit-learn weighs them."""
    cls, params, peer = _sklearn_peer(name)
    y, z = _targets_and_scores(name)
    y, z = y.astype(dtype), z.astype(dtype)
    y64, z64 = y.astype(np.float64), z.astype(np.float64)
    w = rng_for("w", name).uniform(0.2, 2.0, size=y.shape)
    loss = cls(**params, log_input=True, reduction="none")
    value = loss(y[:, None], z[:, None])
    want = peer.loss(y64, z64)
    np.testing.assert_allclose(value, want, **_tol(dtype, want))
    g, h = loss.gradient_hessian(y, z)
    want_g, want_h = peer.gradient_hessian(y64, z64)
    assert g.dtype == h.dtype == dtype
    np.testing.assert_allclose(g, want_g, **_tol(dtype, want_g))
    np.testing.assert_allclose(h, want_h, **_tol(dtype, want_h))
    w = w.astype(dtype)
    gw, hw = loss.gradient_hessian(y, z, sample_weight=w)
    want_gw, want_hw = peer.gradient_hessian(y64, z64, sample_weight=w.astype(np.float64))
    np.testing.assert_allclose(gw, want_gw, **_tol(dtype, want_gw))
    np.testing.assert_allclose(hw, want_hw, **_tol(dtype, want_hw))
    # the reduced value: scikit-learn's weighted mean is mean_with_sample_weight
    w64 = w.astype(np.float64)
    reduced = cls(**params, log_input=True, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(reduced(y64[:, None], z64[:, None], sample_weight=w64),
                               peer(y64, z64, sample_weight=w64), rtol=1e-12)


@pytest.mark.parametrize("name", SKLEARN)
def test_mean_input_is_the_raw_score_loss_through_the_chain_rule(name):
    """log_input=False takes the mean mu: its value is scikit-learn's at raw_prediction
    log q, q = mu (q = mu + 1e-7 for Poisson, Keras's epsilon: its value is then
    scikit-learn's less 1e-7), and its derivatives in mu are scikit-learn's in the raw
    score by the chain rule, g_raw = g_mu q and h_raw = h_mu q**2 + g_mu q."""
    cls, params, peer = _sklearn_peer(name)
    y, z = _targets_and_scores(name)
    mu = np.exp(z)
    eps = 1e-7 if cls is fl.Poisson else 0.0
    q = mu + eps
    raw = np.log(q)
    loss = cls(**params, reduction="none")
    np.testing.assert_allclose(loss(y[:, None], mu[:, None]), peer.loss(y, raw) - eps,
                               rtol=1e-12, atol=1e-12)
    g, h = loss.gradient_hessian(y, mu)
    want_g, want_h = peer.gradient_hessian(y, raw)
    np.testing.assert_allclose(g * q, want_g, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(h * q * q + g * q, want_h, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("name", SKLEARN)
def test_value_plus_sklearns_constant_is_half_the_deviance(name):
    """The documented constant: value + constant_to_optimal_zero is half the unit
    deviance, which sklearn.metrics computes on its own (mean_*_deviance = twice
    its mean)."""
    metrics = pytest.importorskip("sklearn.metrics")
    cls, params, peer = _sklearn_peer(name)
    y, z = _targets_and_scores(name)
    mu = np.exp(z)
    per_element = cls(**params, log_input=True, reduction="none")(y[:, None], z[:, None])
    half = per_element + peer.constant_to_optimal_zero(y)
    if name == "poisson":
        deviance = metrics.mean_poisson_deviance(y, mu)
    elif name == "gamma":
        deviance = metrics.mean_gamma_deviance(y, mu)
    else:
        deviance = metrics.mean_tweedie_deviance(y, mu, power=params["power"])
    np.testing.assert_allclose(2 * half.mean(), deviance, rtol=1e-12)
    # Gamma's constant in closed form: half the deviance is the value - log y - 1
    if name == "gamma":
        np.testing.assert_allclose(half, per_element - np.log(y) - 1, rtol=1e-12, atol=1e-13)


# -- Poisson against PyTorch ------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_matches_torch_poisson_nll_loss(log_input, dtype, reduction):
    """PyTorch's poisson_nll_loss(full=False): log_input=True is exp(z) - t z;
    log_input=False with eps=1e-7 is Keras's Poisson. Values and autograd gradients,
    elementwise ("none") and reduced (PyTorch's mean and sum)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional  # noqa: N806 - PyTorch's name
    rng = rng_for("torch-poisson", log_input, dtype, reduction)
    t = rng.poisson(2.0, size=(32, 5)).astype(dtype)
    p = (rng.normal(0.3, 1.0, size=t.shape) if log_input
         else rng.uniform(0.1, 5.0, size=t.shape)).astype(dtype)
    pt = torch.tensor(p, requires_grad=True)
    tt = torch.tensor(t)
    torch_reduction = {"sum_over_batch_size": "mean", "sum": "sum", "none": "none"}[reduction]
    want = F.poisson_nll_loss(pt, tt, log_input=log_input, full=False, eps=1e-7,
                              reduction=torch_reduction)
    want.sum().backward()
    ours = fl.Poisson(log_input=log_input, reduction=reduction)
    # fastloss's per-sample loss is the mean over the last axis (Keras's): with rows
    # of one element, "none" and "sum" are PyTorch's elementwise and summed losses,
    # and "sum_over_batch_size" of the (32, 5) arrays is PyTorch's mean
    tv, pv = (t, p) if reduction == "sum_over_batch_size" else (t.reshape(-1, 1),
                                                                  p.reshape(-1, 1))
    value, grad = ours.forward_backward(tv, pv, grad_output=(
        np.ones(tv.shape[0], dtype) if reduction == "none" else 1.0))
    # PyTorch computes in the input precision too: float32 on both sides
    expected = want.detach().numpy().ravel()
    np.testing.assert_allclose(np.ravel(value), expected, **_tol(dtype, expected))
    assert grad.dtype == dtype
    expected_grad = pt.grad.numpy()
    np.testing.assert_allclose(grad.reshape(p.shape), expected_grad,
                               **_tol(dtype, expected_grad))


# -- Fair and Expectile against their formulas ------------------------------------------


def fair_formula(t, p, c):
    """LightGBM's fair: value c |x| - c^2 log(1 + |x| / c), gradient c x / (|x| + c),
    Hessian c^2 / (|x| + c)^2, x = p - t (float64)."""
    x = np.asarray(p, np.float64) - np.asarray(t, np.float64)
    a = np.abs(x)
    return c * a - c * c * np.log1p(a / c), c * x / (a + c), c * c / (a + c) ** 2


def expectile_formula(t, p, tau):
    """CatBoost's Expectile: w (t - p)^2, w = |tau - 1[t < p]|; gradient 2 w (p - t),
    Hessian 2 w (float64)."""
    t, p = np.asarray(t, np.float64), np.asarray(p, np.float64)
    w = np.abs(tau - (t < p).astype(np.float64))
    return w * (t - p) ** 2, 2 * w * (p - t), 2 * w


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", [1.0, 0.3, 4.0])
def test_fair_matches_lightgbms_formulas(c, dtype):
    rng = rng_for("fair", c, dtype)
    t = rng.normal(size=500).astype(dtype)
    p = (t + rng.normal(0, 3, size=500) * rng.choice([1.0, 1e-3], size=500)).astype(dtype)
    value, grad, hess = fair_formula(t, p, c)
    loss = fl.Fair(c=c, reduction="none")
    g, h = loss.gradient_hessian(t, p)
    np.testing.assert_allclose(g, grad, **_tol(dtype, grad))
    np.testing.assert_allclose(h, hess, **_tol(dtype, hess))
    big = np.abs(p.astype(np.float64) - t) > c / 4  # where the formula itself does not cancel
    assert big.sum() > 100
    np.testing.assert_allclose(loss(t[:, None], p[:, None])[big], value[big],
                               **_tol(dtype, value[big]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fair_keeps_its_digits_near_zero_and_takes_limits_at_infinity(dtype):
    """Where |x| << c the value is x^2 / 2 - |x|^3 / (3 c) + ... (the formula's two
    terms cancel there); at |x| = inf the value is inf and the gradient c sign(x)."""
    c = 2.0
    x = np.array([1e-7, -3e-5, 1e-3, -0.01, 0.1])
    got = fl.Fair(c=c, reduction="none")(np.zeros((5, 1), dtype), x.astype(dtype)[:, None])
    u = np.abs(x.astype(dtype).astype(np.float64)) / c
    want = c * c * sum((-u) ** k / k for k in range(2, 30))  # u - log(1 + u), term by term
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14)
    t = np.zeros((2, 1), dtype)
    p = np.array([[np.inf], [-np.inf]], dtype)
    value, grad = fl.Fair(c=c, reduction="none").forward_backward(t, p, grad_output=np.ones(2))
    np.testing.assert_array_equal(value, [np.inf, np.inf])
    np.testing.assert_array_equal(grad.ravel(), [c, -c])
    g, h = fl.Fair(c=c).gradient_hessian(t.ravel(), p.ravel())
    np.testing.assert_array_equal(g, [c, -c])
    np.testing.assert_array_equal(h, [0.0, 0.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tau", [0.5, 0.1, 0.9])
def test_expectile_matches_catboosts_formulas(tau, dtype):
    rng = rng_for("expectile", tau, dtype)
    t = rng.normal(size=500).astype(dtype)
    p = rng.normal(size=500).astype(dtype)
    p[:20] = t[:20]  # at p == t the weight is tau's
    value, grad, hess = expectile_formula(t, p, tau)
    loss = fl.Expectile(expectile=tau, reduction="none")
    np.testing.assert_allclose(loss(t[:, None], p[:, None]), value, **_tol(dtype, value))
    g, h = loss.gradient_hessian(t, p)
    np.testing.assert_allclose(g, grad, **_tol(dtype, grad))
    np.testing.assert_array_equal(h, hess.astype(dtype))  # piecewise constant: exact
    np.testing.assert_array_equal(h[:20], np.full(20, 2 * tau, dtype))


def test_expectile_one_half_is_the_half_squared_error_and_its_minimiser_is_the_expectile():
    rng = rng_for("expectile-min")
    t = rng.normal(size=(50, 4))
    p = rng.normal(size=(50, 4))
    np.testing.assert_allclose(fl.Expectile()(t, p), fl.HalfSquaredError()(t, p), rtol=1e-15)
    # the tau-expectile m of a sample solves sum w_i (m - y_i) = 0: there the summed
    # gradient of the loss at the constant prediction m vanishes
    y = rng.exponential(size=1000)
    tau = 0.8
    lo, hi = y.min(), y.max()
    loss = fl.Expectile(expectile=tau, reduction="sum")
    for _ in range(200):  # bisection on the increasing summed gradient
        m = 0.5 * (lo + hi)
        if loss.backward(y[:, None], np.full((1000, 1), m)).sum() > 0:
            hi = m
        else:
            lo = m
    w = np.where(y < m, 1 - tau, tau)
    np.testing.assert_allclose(m, np.sum(w * y) / np.sum(w), rtol=1e-12)


# -- the flag, the parameters and their places -----------------------------------------


def test_signatures_put_log_input_where_api_md_says():
    def names(cls):
        return list(inspect.signature(cls.__init__).parameters)[1:]
    assert names(fl.Poisson) == ["log_input", "reduction", "name", "axis"]
    assert names(fl.Gamma) == ["log_input", "reduction", "name", "axis"]
    assert names(fl.Tweedie) == ["power", "log_input", "reduction", "name", "axis"]
    assert names(fl.Fair) == ["c", "reduction", "name", "axis"]
    assert names(fl.Expectile) == ["expectile", "reduction", "name", "axis"]
    assert fl.Tweedie().power == 1.5 and fl.Fair().c == 1.0 and fl.Expectile().expectile == 0.5
    for cls in (fl.Poisson, fl.Gamma, fl.Tweedie):
        assert cls().log_input is False
        assert "log_input : bool, default False" in cls.__doc__


@pytest.mark.parametrize("make", [lambda: fl.Poisson(log_input=True),
                                  lambda: fl.Gamma(log_input=True),
                                  lambda: fl.Tweedie(1.2, True, reduction="sum")])
def test_log_input_survives_config_pickle_and_repr(make):
    loss = make()
    assert loss.log_input is True and loss.get_config()["log_input"] is True
    assert "log_input=True" in repr(loss)
    t = np.array([[1.0, 0.0], [3.0, 2.0]])
    z = np.array([[0.2, -1.0], [1.1, 0.4]])
    for twin in (type(loss).from_config(loss.get_config()), pickle.loads(pickle.dumps(loss)),
                 fl.get(fl.serialize(loss))):
        assert twin.log_input is True
        np.testing.assert_array_equal(twin(t, z), loss(t, z))
    mean = type(loss)(**{**loss.get_config(), "log_input": False})
    assert mean.log_input is False and mean._kernel_name != loss._kernel_name
    # the two paths agree up to the mean path's epsilon (Poisson: Keras's 1e-7)
    np.testing.assert_allclose(mean(t, np.exp(z)), loss(t, z), rtol=1e-6, atol=1e-6)


def test_a_string_for_the_flag_is_refused():
    """Keras's Poisson takes reduction first; here log_input comes first (its place in
    the constructor), so a Keras-style positional reduction must not silently turn the flag on."""
    with pytest.raises(TypeError, match="Poisson: log_input must be a bool, got 'sum'"):
        fl.Poisson("sum")
    with pytest.raises(TypeError, match="Tweedie: log_input must be a bool"):
        fl.Tweedie(1.5, "none")
    assert fl.Poisson(reduction="sum").log_input is False
    assert fl.Poisson(np.True_).log_input is True


def test_tweedie_refuses_powers_outside_one_two():
    for bad in (1.0, 2.0, 0.0, 3.0, np.nan):
        for log_input in (False, True):
            with pytest.raises(ValueError, match=r"Tweedie: power must be in \(1, 2\)"):
                fl.Tweedie(power=bad, log_input=log_input)


def test_the_limits_of_tweedies_power_are_poisson_and_gamma():
    """Up to terms free of the mean, Tweedie tends to Poisson (power -> 1) and Gamma
    (power -> 2): their gradients in z agree in the limit."""
    rng = rng_for("tweedie-limits")
    t = rng.poisson(2.0, size=200).astype(float) + 0.5
    z = rng.normal(size=200)
    g1, h1 = fl.Tweedie(power=1 + 1e-9, log_input=True).gradient_hessian(t, z)
    gp, hp = fl.Poisson(log_input=True).gradient_hessian(t, z)
    np.testing.assert_allclose(g1, gp, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(h1, hp, rtol=1e-7, atol=1e-7)
    g2, h2 = fl.Tweedie(power=2 - 1e-9, log_input=True).gradient_hessian(t, z)
    gg, hg = fl.Gamma(log_input=True).gradient_hessian(t, z)
    np.testing.assert_allclose(g2, gg, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(h2, hg, rtol=1e-7, atol=1e-7)

"""Elementwise losses against the peers that define them: scikit-learn's SGD
losses (``sklearn.linear_model._sgd_fast``'s loss objects, value and gradient
element by element), CatBoost's ``Lq``, ``Focal`` and ``MultiQuantile`` metrics
(``catboost.utils.eval_metric`` on fixed raw predictions), and the scikit-learn
metrics that have a fastloss loss behind them, each with the exact relation
between the two (a deviance is twice the half loss minus its value at
y_pred = y_true)."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return {"rtol": 2e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}


def _per_element(loss_cls, params, t, p):
    """Values and gradients of each element: (n, 1) inputs, one sample per row."""
    loss = loss_cls(**params, reduction="none")
    value, grad = loss.forward_backward(t[:, None], p[:, None])
    return np.asarray(value), np.asarray(grad)[:, 0]


# --- scikit-learn's SGD losses ------------------------------------------------------------


def _sgd():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import _sgd_fast
    return _sgd_fast


def _sklearn_elementwise(peer, t, p):
    """scikit-learn's loss object evaluated element by element (py_loss(p, y),
    py_dloss(p, y): prediction first), in float64."""
    t64, p64 = np.asarray(t, np.float64), np.asarray(p, np.float64)
    value = np.array([peer.py_loss(float(a), float(b)) for a, b in zip(p64, t64)])
    grad = np.array([peer.py_dloss(float(a), float(b)) for a, b in zip(p64, t64)])
    return value, grad


def _margins_with_edges(rng, n=300):
    """Labels +-1 and scores whose margins t p include the edges -1, 1 exactly."""
    y = rng.choice([-1.0, 1.0], size=n)
    p = rng.normal(0, 2, size=n)
    p[:6] = y[:6] * np.array([1.0, -1.0, 0.0, 1.0, -1.0, -3.0])
    return y, p


@pytest.mark.parametrize("labels", ["signed", "binary"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_modified_huber_is_sklearns(dtype, labels):
    """SGDClassifier(loss="modified_huber") on labels +-1; fastloss also takes
    0/1 labels (Keras's hinge rule) and then equals scikit-learn on 2 t - 1."""
    sgd = _sgd()
    rng = np.random.default_rng(1)
    y, p = _margins_with_edges(rng)
    t = (y + 1) / 2 if labels == "binary" else y
    t, p = t.astype(dtype), p.astype(dtype)
    want_v, want_g = _sklearn_elementwise(sgd.ModifiedHuber(), y, p)
    got_v, got_g = _per_element(fl.ModifiedHuber, {}, t, p)
    assert got_v.dtype == dtype
    np.testing.assert_allclose(got_v, want_v, **_tol(dtype))
    np.testing.assert_allclose(got_g, want_g, **_tol(dtype))
    assert np.any(want_v == 0) and np.any(y * p < -1)  # every zone is reached


@pytest.mark.parametrize("epsilon", [0.1, 0.5, 0.0])
@pytest.mark.parametrize("name", ["EpsilonInsensitive", "SquaredEpsilonInsensitive"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_epsilon_insensitive_losses_are_sklearns(name, epsilon, dtype):
    sgd = _sgd()
    rng = np.random.default_rng(2)
    t = rng.normal(size=300)
    p = t + rng.normal(0, 0.6, size=300)
    p[:4] = t[:4] + np.array([epsilon, -epsilon, 0.0, 2 * epsilon])  # the band's edges
    t, p = t.astype(dtype), p.astype(dtype)
    want_v, want_g = _sklearn_elementwise(getattr(sgd, name)(epsilon), t, p)
    got_v, got_g = _per_element(getattr(fl, name), {"epsilon": epsilon}, t, p)
    np.testing.assert_allclose(got_v, want_v, **_tol(dtype))
    np.testing.assert_allclose(got_g, want_g, **_tol(dtype))
    assert np.any(want_v == 0) and np.any(want_v > 0)


def test_squared_epsilon_insensitive_with_no_band_is_the_squared_error():
    rng = np.random.default_rng(3)
    t, p = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    loss = fl.SquaredEpsilonInsensitive(epsilon=0.0)
    np.testing.assert_allclose(loss(t, p), fl.MeanSquaredError()(t, p), rtol=1e-14)
    g, h = loss.gradient_hessian(t, p)
    g2, h2 = fl.MeanSquaredError().gradient_hessian(t, p)
    np.testing.assert_allclose(g, g2, rtol=1e-14)
    np.testing.assert_array_equal(h, h2)


def test_sgd_losses_in_an_sgd_step_give_sklearns_update():
    """One plain gradient step with fastloss's gradient equals scikit-learn's
    ``SGDRegressor(loss="epsilon_insensitive")`` first update on one sample."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import SGDRegressor

    x = np.array([[1.5, -2.0, 0.5]])
    y = np.array([3.0])
    eta = 0.01
    model = SGDRegressor(loss="epsilon_insensitive", epsilon=0.1, penalty=None,
                         learning_rate="constant", eta0=eta, max_iter=1, tol=None,
                         shuffle=False, fit_intercept=True, average=False)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ConvergenceWarning of max_iter=1
        model.fit(x, y)
    g = fl.EpsilonInsensitive(epsilon=0.1, reduction="sum").backward(y[:, None],
                                                                   np.zeros((1, 1)))
    np.testing.assert_allclose(model.coef_, -eta * g[0, 0] * x[0], rtol=1e-12)
    np.testing.assert_allclose(model.intercept_, [-eta * g[0, 0]], rtol=1e-12)


def test_sgd_loss_parameters_are_checked():
    with pytest.raises(ValueError, match="epsilon must be finite and >= 0"):
        fl.EpsilonInsensitive(epsilon=-0.1)
    with pytest.raises(ValueError, match="epsilon must be finite and >= 0"):
        fl.SquaredEpsilonInsensitive(epsilon=np.inf)
    with pytest.raises(NotImplementedError, match="piecewise linear"):
        fl.EpsilonInsensitive().gradient_hessian(np.zeros((2, 1)), np.ones((2, 1)))


# --- CatBoost's Lq, Focal and MultiQuantile --------------------------------------------------


def _eval_metric(*args, **kwargs):
    catboost_utils = pytest.importorskip("catboost.utils")
    return catboost_utils.eval_metric(*args, **kwargs)[0]


@pytest.mark.parametrize("q", [1.0, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_lq_is_catboosts_metric(q, weighted):
    rng = np.random.default_rng(4)
    # CatBoost keeps labels and weights in float32: give it float32 values
    t = rng.normal(size=400).astype(np.float32).astype(np.float64)
    p = rng.normal(size=400)
    w = rng.uniform(0.3, 3, size=400).astype(np.float32).astype(np.float64) if weighted else None
    want = _eval_metric(t, p, f"Lq:q={q}", weight=w)
    got = fl.Lq(q=q, reduction="mean_with_sample_weight")(t[:, None], p[:, None],
                                                          sample_weight=w)
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_lq_ends_are_the_absolute_and_squared_errors():
    rng = np.random.default_rng(5)
    t, p = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    np.testing.assert_allclose(fl.Lq(q=1.0)(t, p), fl.MeanAbsoluteError()(t, p), rtol=1e-14)
    np.testing.assert_allclose(fl.Lq(q=2.0)(t, p), fl.MeanSquaredError()(t, p), rtol=1e-14)
    g, h = fl.Lq(q=2.0).gradient_hessian(t, p)
    g2, h2 = fl.MeanSquaredError().gradient_hessian(t, p)
    np.testing.assert_allclose(g, g2, rtol=1e-14)
    np.testing.assert_allclose(h, h2, rtol=1e-14)
    # q = 1: Hessian 0 everywhere; 1 < q < 2: +inf at a zero error (its limit)
    assert np.all(fl.Lq(q=1.0).gradient_hessian(t, p)[1] == 0)
    _, h15 = fl.Lq(q=1.5).gradient_hessian(np.ones((1, 2)), np.array([[1.0, 2.0]]))
    np.testing.assert_array_equal(h15, [[np.inf, 0.75]])


@pytest.mark.parametrize("q", [1.5, 1.2, 2.5])
def test_lq_derivatives_are_central_differences_away_from_zero(q):
    """The every-loss suites take q = 2 and 3; powers below 2, whose Hessian is
    singular at a zero error, are checked here where |p - t| > 0.05."""
    rng = np.random.default_rng(17)
    t = rng.normal(size=400)
    p = t + rng.choice([-1.0, 1.0], size=400) * rng.uniform(0.05, 2.0, size=400)
    loss = fl.Lq(q=q, reduction="none")
    g, h = loss.gradient_hessian(t[:, None], p[:, None])
    H = 1e-5

    def central(f):
        return (-f(p + 2 * H) + 8 * f(p + H) - 8 * f(p - H) + f(p - 2 * H)) / (12 * H)

    np.testing.assert_allclose(g[:, 0], central(lambda x: loss(t[:, None], x[:, None])),
                               rtol=1e-7)
    np.testing.assert_allclose(h[:, 0], central(
        lambda x: loss.gradient_hessian(t[:, None], x[:, None])[0][:, 0]), rtol=1e-6)
    np.testing.assert_allclose(g[:, 0], q * np.sign(p - t) * np.abs(p - t) ** (q - 1),
                               rtol=1e-13)


def test_lq_refuses_powers_below_one():
    for bad in (0.5, 0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="q must be finite and >= 1"):
            fl.Lq(q=bad)


# (CatBoost takes focal_gamma > 0 only)
@pytest.mark.parametrize("alpha, gamma", [(0.25, 2.0), (0.5, 1.0), (0.8, 3.0), (0.4, 0.5)])
def test_catboosts_focal_is_keras_class_balanced_focal_on_logits(alpha, gamma):
    """CatBoost's ``Focal:focal_alpha=a;focal_gamma=g`` on raw scores is
    -a_t (1 - p_t)^g log p_t with a_t = a for label 1 and 1 - a for label 0:
    ``BinaryFocalCrossentropy(apply_class_balancing=True, alpha=a, gamma=g,
    from_logits=True)``."""
    rng = np.random.default_rng(6)
    y = (rng.uniform(size=500) < 0.4).astype(np.float64)
    z = rng.normal(0, 2, size=500)
    want = _eval_metric(y, z, f"Focal:focal_alpha={alpha};focal_gamma={gamma}")
    loss = fl.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=alpha, gamma=gamma,
                                      from_logits=True)
    np.testing.assert_allclose(loss(y[:, None], z[:, None]), want, rtol=1e-7)
    # without class balancing (Keras's default) the two differ unless alpha = 1/2
    plain = fl.BinaryFocalCrossentropy(alpha=alpha, gamma=gamma, from_logits=True)
    assert abs(plain(y[:, None], z[:, None]) - want) > 1e-3 * want


@pytest.mark.parametrize("weighted", [False, True])
def test_catboosts_multiquantile_is_the_mean_of_one_pinball_per_column(weighted):
    """CatBoost's ``MultiQuantile:alpha=a1,...,aQ`` on an (N, Q) prediction is the
    mean over the N Q elements of the pinball loss of column k at quantile a_k:
    the per-sample mean of ``Pinball(a_k)`` over the columns, then averaged
    (and ``Quantile:alpha=a`` is ``Pinball(a)``)."""
    rng = np.random.default_rng(7)
    quantiles = [0.1, 0.5, 0.9]
    t = rng.normal(size=300).astype(np.float32).astype(np.float64)
    p = rng.normal(size=(300, 3))
    w = rng.uniform(0.3, 3, size=300).astype(np.float32).astype(np.float64) if weighted else None
    # CatBoost's quantile metrics take a tolerance delta (1e-6 by default) off each
    # error; delta=0 is the pinball loss itself
    want = _eval_metric(t, p, "MultiQuantile:alpha=" + ",".join(map(str, quantiles))
                        + ";delta=0", weight=w)
    columns = [fl.Pinball(quantile=q, reduction="none")(t[:, None], p[:, k:k + 1])
               for k, q in enumerate(quantiles)]
    got = np.average(np.mean(columns, axis=0), weights=w)
    np.testing.assert_allclose(got, want, rtol=1e-7)
    one = _eval_metric(t, p[:, 0], "Quantile:alpha=0.1;delta=0", weight=w)
    np.testing.assert_allclose(np.average(columns[0][:, 0] if columns[0].ndim > 1
                                          else columns[0], weights=w), one, rtol=1e-7)


# --- scikit-learn's metrics ---------------------------------------------------------------


def _metrics():
    pytest.importorskip("sklearn")
    from sklearn import metrics
    return metrics


def _counts_and_means(rng, n=500):
    t = rng.poisson(2.0, size=n).astype(np.float64)
    mu = np.exp(rng.normal(0.5, 0.8, size=n))
    return t, mu


def _weighted_mean(loss, t, p, w):
    return loss.__class__.from_config({**loss.get_config(),
                                       "reduction": "mean_with_sample_weight"})(
        t[:, None], p[:, None], sample_weight=w)


@pytest.mark.parametrize("weighted", [False, True])
def test_mean_poisson_deviance_is_twice_the_half_loss_minus_its_value_at_the_target(weighted):
    metrics = _metrics()
    rng = np.random.default_rng(8)
    t, mu = _counts_and_means(rng)
    w = rng.uniform(0.3, 3, size=t.size) if weighted else None
    loss = fl.Poisson(log_input=True)
    # the loss at y_pred = y_true (z = log t) is t - t log t, 0 at t = 0
    at_target = t - np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)
    want = metrics.mean_poisson_deviance(t, mu, sample_weight=w)
    got = 2 * (_weighted_mean(loss, t, np.log(mu), w) - np.average(at_target, weights=w))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_mean_gamma_deviance_is_twice_the_half_loss_minus_its_value_at_the_target(weighted):
    metrics = _metrics()
    rng = np.random.default_rng(9)
    t = rng.gamma(2.0, 1.5, size=500)
    mu = t * np.exp(rng.normal(0, 0.5, size=500))
    w = rng.uniform(0.3, 3, size=500) if weighted else None
    at_target = 1 + np.log(t)  # t exp(-log t) + log t
    want = metrics.mean_gamma_deviance(t, mu, sample_weight=w)
    got = 2 * (_weighted_mean(fl.Gamma(log_input=True), t, np.log(mu), w)
               - np.average(at_target, weights=w))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("power", [1.2, 1.5, 1.8])
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_tweedie_deviance_is_twice_the_half_loss_minus_its_value_at_the_target(
        power, weighted):
    metrics = _metrics()
    rng = np.random.default_rng(10)
    t = np.where(rng.uniform(size=500) < 0.3, 0.0, rng.gamma(2.0, 1.5, size=500))
    mu = np.exp(rng.normal(0.5, 0.6, size=500))
    w = rng.uniform(0.3, 3, size=500) if weighted else None
    # the loss at z = log t: t^(2 - rho) (1 / (2 - rho) - 1 / (1 - rho)), 0 at t = 0
    at_target = t ** (2 - power) * (1 / (2 - power) - 1 / (1 - power))
    want = metrics.mean_tweedie_deviance(t, mu, sample_weight=w, power=power)
    got = 2 * (_weighted_mean(fl.Tweedie(power=power, log_input=True), t, np.log(mu), w)
               - np.average(at_target, weights=w))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_tweedie_deviance_at_powers_zero_one_two_is_squared_poisson_gamma():
    """mean_tweedie_deviance's powers 0, 1, 2 are the squared error and the
    Poisson and Gamma deviances: 2 HalfSquaredError, the two relations above."""
    metrics = _metrics()
    rng = np.random.default_rng(11)
    t = rng.gamma(2.0, 1.5, size=200)
    mu = np.exp(rng.normal(0.5, 0.6, size=200))
    np.testing.assert_allclose(metrics.mean_tweedie_deviance(t, mu, power=0),
                               2 * fl.HalfSquaredError()(t[:, None], mu[:, None]), rtol=1e-12)
    np.testing.assert_allclose(metrics.mean_tweedie_deviance(t, mu, power=1),
                               metrics.mean_poisson_deviance(t, mu), rtol=1e-12)
    np.testing.assert_allclose(metrics.mean_tweedie_deviance(t, mu, power=2),
                               metrics.mean_gamma_deviance(t, mu), rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_pinball_loss_is_pinball(alpha, weighted):
    metrics = _metrics()
    rng = np.random.default_rng(12)
    t, p = rng.normal(size=300), rng.normal(size=300)
    w = rng.uniform(0.3, 3, size=300) if weighted else None
    want = metrics.mean_pinball_loss(t, p, alpha=alpha, sample_weight=w)
    got = _weighted_mean(fl.Pinball(quantile=alpha), t, p, w)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_brier_score_loss_is_the_squared_error_of_the_probability(weighted):
    metrics = _metrics()
    rng = np.random.default_rng(13)
    t = (rng.uniform(size=300) < 0.4).astype(np.float64)
    p = rng.uniform(size=300)
    w = rng.uniform(0.3, 3, size=300) if weighted else None
    want = metrics.brier_score_loss(t, p, sample_weight=w)
    got = _weighted_mean(fl.MeanSquaredError(), t, p, w)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_is_the_cross_entropy(weighted):
    """Binary ``log_loss`` is ``BinaryCrossentropy`` and the multi-class one
    ``CategoricalCrossentropy`` wherever neither clips (probabilities within
    [1e-7, 1 - 1e-7]: Keras clips there, scikit-learn at float64's epsilon)."""
    metrics = _metrics()
    rng = np.random.default_rng(14)
    t = (rng.uniform(size=300) < 0.4).astype(np.float64)
    p = rng.uniform(0.01, 0.99, size=300)
    w = rng.uniform(0.3, 3, size=300) if weighted else None
    want = metrics.log_loss(t, p, sample_weight=w)
    got = _weighted_mean(fl.BinaryCrossentropy(), t, p, w)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    labels = rng.integers(0, 4, size=300)
    probs = rng.dirichlet(np.ones(4), size=300)
    want = metrics.log_loss(labels, probs, sample_weight=w, labels=[0, 1, 2, 3])
    got = fl.CategoricalCrossentropy(reduction="mean_with_sample_weight")(
        np.eye(4)[labels], probs, sample_weight=w)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("weighted", [False, True])
def test_loglinquantile_is_pinball_on_log_input(alpha, weighted):
    """CatBoost's ``LogLinQuantile:alpha=a`` on raw scores z is the pinball loss
    of exp(z): ``Pinball(quantile=a, log_input=True)``."""
    rng = np.random.default_rng(15)
    t = np.abs(rng.normal(1.0, 1.0, size=400)).astype(np.float32).astype(np.float64)
    z = rng.normal(0, 0.7, size=400)
    w = rng.uniform(0.3, 3, size=400).astype(np.float32).astype(np.float64) if weighted else None
    want = _eval_metric(t, z, f"LogLinQuantile:alpha={alpha}", weight=w)
    loss = fl.Pinball(quantile=alpha, log_input=True, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(loss(t[:, None], z[:, None], sample_weight=w), want, rtol=1e-7)
    # and it is the pinball loss of the mean exp(z) (float64, exactly)
    np.testing.assert_allclose(
        loss(t[:, None], z[:, None], sample_weight=w),
        fl.Pinball(quantile=alpha, reduction="mean_with_sample_weight")(
            t[:, None], np.exp(z)[:, None], sample_weight=w), rtol=1e-14)


def test_pinball_log_input_gradient_is_the_chain_rule():
    rng = np.random.default_rng(16)
    t = rng.uniform(0, 3, size=(60, 2))
    z = rng.normal(0, 1, size=(60, 2))
    g_log = fl.Pinball(quantile=0.3, log_input=True).backward(t, z)
    g = fl.Pinball(quantile=0.3).backward(t, np.exp(z))
    np.testing.assert_allclose(g_log, g * np.exp(z), rtol=1e-14)
    with pytest.raises(NotImplementedError, match="piecewise linear"):
        fl.Pinball(quantile=0.3, log_input=True).gradient_hessian(t, z)


# --- LightGBM's cross_entropy_lambda -----------------------------------------------------


def _xentlambda_data(rng, n=400, dtype=np.float64):
    t = rng.uniform(0, 1, size=n)
    t[:n // 8] = rng.integers(0, 2, size=n // 8)  # hard labels too
    z = rng.normal(0, 2, size=n)
    w = rng.uniform(0.2, 4, size=n)
    return t.astype(dtype), z.astype(dtype), w.astype(dtype)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_crossentropy_lambda_values_and_reductions(dtype, weighted):
    import reference as ref
    rng = np.random.default_rng(20)
    t, z, w = _xentlambda_data(rng, dtype=dtype)
    w = w if weighted else None
    want = ref.crossentropy_lambda(t, z, w)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 0}
    none = fl.CrossentropyLambda(reduction="none")(t, z, sample_weight=w)
    assert none.shape == z.shape and none.dtype == dtype
    np.testing.assert_allclose(none, want, **tol)
    for reduction, value in [("sum", want.sum()), ("sum_over_batch_size", want.mean()),
                             ("mean_with_sample_weight", want.mean())]:
        got = fl.CrossentropyLambda(reduction=reduction)(t, z, sample_weight=w)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, value, **tol)


def test_crossentropy_lambda_without_weights_is_the_logistic_loss():
    rng = np.random.default_rng(21)
    t, z, _ = _xentlambda_data(rng)
    bce = fl.BinaryCrossentropy(from_logits=True, reduction="none")
    ours = fl.CrossentropyLambda(reduction="none")
    np.testing.assert_allclose(ours(t, z), bce(t[:, None], z[:, None]), rtol=1e-12)
    np.testing.assert_allclose(ours.backward(t, z), bce.backward(t[:, None], z[:, None])[:, 0],
                               rtol=1e-12, atol=1e-15)
    g, h = ours.gradient_hessian(t, z)
    g2, h2 = bce.gradient_hessian(t[:, None], z[:, None])
    np.testing.assert_allclose(g, g2[:, 0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, h2[:, 0], rtol=1e-10, atol=1e-15)


def test_crossentropy_lambda_derivatives_are_central_differences_and_lightgbms():
    rng = np.random.default_rng(22)
    t, z, w = _xentlambda_data(rng)
    loss = fl.CrossentropyLambda(reduction="none")
    g, h = loss.gradient_hessian(t, z, sample_weight=w)
    H = 1e-4

    def central(f):
        return (-f(z + 2 * H) + 8 * f(z + H) - 8 * f(z - H) + f(z - 2 * H)) / (12 * H)

    np.testing.assert_allclose(g, central(lambda x: loss(t, x, sample_weight=w)), rtol=1e-7,
                               atol=1e-9)
    np.testing.assert_allclose(h, central(lambda x: loss.gradient_hessian(t, x, w)[0]),
                               rtol=1e-6, atol=1e-9)
    # LightGBM's own expressions (xentropy_objective.hpp), in float64
    epf = np.exp(z)
    zz = 1 - np.exp(-w * np.log1p(epf))
    np.testing.assert_allclose(g, (1 - t / zz) * w / (1 + 1 / epf), rtol=1e-12, atol=1e-14)
    c = 1 / (1 - zz)
    a = w * epf / (1 + epf) ** 2
    b = c / (c - 1) ** 2 * (1 + w * epf - c)
    np.testing.assert_allclose(h, a * (1 + t * b), rtol=1e-9)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_crossentropy_lambda_backward_is_the_reduced_derivative(reduction):
    rng = np.random.default_rng(23)
    t, z, w = _xentlambda_data(rng, n=40)
    t, z, w = t.reshape(8, 5), z.reshape(8, 5), w[:8]  # a weight per row
    loss = fl.CrossentropyLambda(reduction=reduction)
    upstream = rng.uniform(0.5, 1.5, size=z.shape) if reduction == "none" else 1.7
    value, g = loss.forward_backward(t, z, sample_weight=w, grad_output=upstream)
    v = rng.uniform(-1, 1, size=z.shape)
    H = 1e-5

    def f(s):
        return np.sum(upstream * loss(t, z + s * v, sample_weight=w))

    numeric = (-f(2 * H) + 8 * f(H) - 8 * f(-H) + f(-2 * H)) / (12 * H)
    np.testing.assert_allclose(np.sum(g * v), numeric, rtol=1e-7)
    np.testing.assert_allclose(value, loss(t, z, sample_weight=w), rtol=0)
    np.testing.assert_array_equal(g, loss.backward(t, z, sample_weight=w, grad_output=upstream))


def test_crossentropy_lambda_is_bitwise_the_same_on_every_thread_count():
    rng = np.random.default_rng(24)
    t, z, w = _xentlambda_data(rng, n=100_003)
    loss = fl.CrossentropyLambda()
    results = []
    for n in (1, 2, 3):
        with fl.num_threads(n):
            results.append((loss(t, z, w), *loss.gradient_hessian(t, z, w),
                            loss.backward(t, z, w)))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_crossentropy_lambda_takes_the_limits_at_extreme_scores():
    t = np.array([1.0, 0.0, 0.3, 1.0, 0.0, 0.5, 1.0])
    z = np.array([np.inf, -np.inf, 800.0, -800.0, 800.0, -40.0, np.nan])
    w = np.full(7, 2.0)
    loss = fl.CrossentropyLambda(reduction="none")
    with np.errstate(all="raise"):
        v = loss(t, z, w)
        g, h = loss.gradient_hessian(t, z, w)
    np.testing.assert_array_equal(v[:2], [0.0, 0.0])
    assert v[2] == pytest.approx(0.7 * 2 * 800) and v[3] == np.inf and v[4] == 2 * 800
    np.testing.assert_allclose(g[:6], [0.0, 0.0, 2 * 0.7, -1.0, 2.0, -0.5], atol=1e-15)
    assert np.all(np.isfinite(h[:6])) and np.all(h[:6] >= 0)
    assert np.isnan(v[6]) and np.isnan(g[6]) and np.isnan(h[6])


def test_crossentropy_lambda_refuses_bad_input_and_keeps_its_inputs():
    loss = fl.CrossentropyLambda()
    t, z, w = np.array([0.0, 0.5, 1.0]), np.array([0.1, -0.2, 0.3]), np.array([1.0, 2.0, 3.0])
    copies = t.copy(), z.copy(), w.copy()
    loss.forward_backward(t, z, sample_weight=w)
    loss.gradient_hessian(t, z, sample_weight=w)
    for a, b in zip((t, z, w), copies):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 1\], got 1.5 at flat index 1"):
        loss(np.array([0.0, 1.5, 1.0]), z)
    with pytest.raises(ValueError, match=r"must be > 0, got 0.0 at flat index 2"):
        loss(t, z, sample_weight=np.array([1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match=r"must be > 0, got nan"):
        loss(t, z, sample_weight=np.array([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"y_true has shape \(2,\) but y_pred has shape \(3,\)"):
        loss(t[:2], z)
    with pytest.raises(ValueError, match="does not broadcast"):
        loss(t, z, sample_weight=np.ones(2))
    with pytest.raises(TypeError):
        loss(t, np.array(["a", "b", "c"]))
    with pytest.raises(ValueError):
        loss.backward(t, z, out=np.empty(2))


def test_crossentropy_lambda_names_config_and_pickle():
    import pickle
    loss = fl.CrossentropyLambda(reduction="sum", name="xl")
    assert isinstance(fl.get("CrossentropyLambda"), fl.CrossentropyLambda)
    assert isinstance(fl.get("crossentropy_lambda"), fl.CrossentropyLambda)
    again = pickle.loads(pickle.dumps(loss))
    assert again.get_config() == loss.get_config() == {"name": "xl", "reduction": "sum"}
    t, z = np.array([0.2, 0.9]), np.array([0.5, -1.0])
    assert again(t, z, np.array([1.0, 3.0])) == loss(t, z, np.array([1.0, 3.0]))

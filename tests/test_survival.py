"""SurvivalAft against XGBoost's survival:aft (its aft-nloglik metric, and a real
training with fastloss's gradient and Hessian as the custom objective reaching
the built-in objective's raw predictions), its clipping rules, and
RMSEWithUncertainty against CatBoost's metric of a trained model. The
every-loss families of the declared multi-input losses are in
tests/test_multi_input.py."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

import reference
from support import rng_for

DISTRIBUTIONS = [("normal", 1.0), ("logistic", 1.2), ("extreme", 0.8)]


def survival_data(n, rng):
    """Features and interval-censored times: observed, right-censored (upper
    inf), left-censored (lower 0) and interval-censored rows."""
    X = rng.normal(size=(n, 4))
    t = np.exp(0.6 * X[:, 0] - 0.4 * X[:, 1] + 0.3 * rng.normal(size=n))
    kind = rng.integers(0, 4, n)
    lower = np.where(kind == 2, 0.0, t)
    upper = np.select([kind == 0, kind == 1, kind == 2], [t, np.inf, t],
                      t * rng.uniform(1.3, 2.5, n))
    return X, lower, upper


def _dmatrix(xgb, X, lower, upper, weight=None):
    d = xgb.DMatrix(X, weight=weight)
    d.set_float_info("label_lower_bound", lower)
    d.set_float_info("label_upper_bound", upper)
    d.set_base_margin(np.zeros(X.shape[0]))  # both objectives start from the same scores
    return d


@pytest.mark.peer
@pytest.mark.parametrize("distribution,sigma", DISTRIBUTIONS)
def test_value_is_xgboosts_aft_nloglik(distribution, sigma):
    xgb = pytest.importorskip("xgboost")
    rng = rng_for("nloglik", distribution)
    X, lower, upper = survival_data(400, rng)
    weight = rng.uniform(0.5, 2.0, 400)
    d = _dmatrix(xgb, X, lower, upper, weight)
    params = {"objective": "survival:aft", "eval_metric": "aft-nloglik", "max_depth": 3,
              "aft_loss_distribution": distribution, "aft_loss_distribution_scale": sigma,
              "nthread": 1}
    history: dict = {}
    booster = xgb.train(params, d, num_boost_round=4, evals=[(d, "train")],
                        evals_result=history, verbose_eval=False)
    margin = booster.predict(d, output_margin=True).astype(np.float64)
    # XGBoost's labels are float32
    lo, hi = lower.astype(np.float32).astype(np.float64), upper.astype(np.float32).astype(
        np.float64)
    loss = fl.SurvivalAft(distribution=distribution, sigma=sigma,
                          reduction="mean_with_sample_weight")
    ours = loss(lo, hi, margin, sample_weight=weight)
    assert ours == pytest.approx(history["train"]["aft-nloglik"][-1], rel=1e-5)
    np.testing.assert_allclose(
        fl.SurvivalAft(distribution=distribution, sigma=sigma, reduction="none")(lo, hi, margin),
        reference.survival_aft(lo, hi, margin, distribution, sigma), rtol=1e-12, atol=1e-14)
    # the adapter's metric reads the bounds from the DMatrix
    # (XGBoost keeps the weights in float32)
    name, value = fl.xgboost.metric(loss)(margin, d)
    w32 = weight.astype(np.float32).astype(np.float64)
    assert name == "survival_aft"
    assert value == pytest.approx(loss(lo, hi, margin, sample_weight=w32), rel=1e-12)


@pytest.mark.peer
@pytest.mark.parametrize("distribution,sigma", DISTRIBUTIONS)
def test_custom_objective_trains_as_xgboosts_survival_aft(distribution, sigma):
    xgb = pytest.importorskip("xgboost")
    rng = rng_for("train", distribution)
    X, lower, upper = survival_data(500, rng)
    weight = rng.uniform(0.5, 2.0, 500)
    d = _dmatrix(xgb, X, lower, upper, weight)
    common = {"max_depth": 3, "eta": 0.3, "tree_method": "exact", "nthread": 1}
    builtin = xgb.train({**common, "objective": "survival:aft",
                         "aft_loss_distribution": distribution,
                         "aft_loss_distribution_scale": sigma}, d, num_boost_round=20)
    obj = fl.xgboost.objective(fl.SurvivalAft(distribution=distribution, sigma=sigma))
    ours = xgb.train(common, d, num_boost_round=20, obj=obj)
    want = builtin.predict(d, output_margin=True)
    got = ours.predict(d, output_margin=True)
    assert np.std(want) > 0.1  # the model learned something
    # the same trees: equal up to float32 rounding of the scores
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.peer
def test_objective_needs_the_bounds():
    xgb = pytest.importorskip("xgboost")
    rng = rng_for("no bounds")
    X = rng.normal(size=(20, 2))
    d = xgb.DMatrix(X, label=rng.uniform(1, 2, 20))
    obj = fl.xgboost.objective(fl.SurvivalAft())
    with pytest.raises(ValueError, match="label_lower_bound"):
        obj(np.zeros(20), d)
    with pytest.raises(ValueError, match="trains 2 inputs"):
        fl.xgboost.objective(fl.RMSEWithUncertainty())


def test_gradient_and_hessian_follow_xgboosts_clipping():
    """Far from the data the gradient is clipped to [-15, 15], the Hessian to
    [1e-16, 15], and where the density underflows XGBoost's limits apply."""
    loss = fl.SurvivalAft(reduction="sum")
    lower = np.array([1.0, 1.0, 1.0, 0.0, 1.0])
    upper = np.array([1.0, 1.0, np.inf, 1.0, 2.0])
    pred = np.array([-30.0, 40.0, 60.0, -60.0, 1e3])
    (g,), (h,) = loss.gradient_hessian(lower, upper, pred)
    # observed, z = 30: dloss/dpred = -z / sigma, clipped; its Hessian 1 / sigma^2
    assert g[0] == -15.0 and h[0] == 1.0
    assert g[1] == 15.0 and h[1] == 1.0
    # right-censored with the score far above the time: the loss flattens
    assert g[2] == 0.0 and h[2] == 1e-16
    # left-censored with the score far below: flat too
    assert g[3] == 0.0 and h[3] == 1e-16
    # interval-censored, the score far above: the density underflows (the limit)
    assert g[4] == 15.0 and h[4] == 1.0
    (gb,) = loss.backward(lower, upper, pred)
    np.testing.assert_array_equal(gb, g)
    # the value's floor: the likelihood is at least 1e-12
    assert loss(lower[:1], upper[:1], pred[:1]) == pytest.approx(-np.log(1e-12))


@pytest.mark.peer
@pytest.mark.parametrize("weighted", [False, True])
def test_rmse_with_uncertainty_is_catboosts_metric(weighted):
    cb = pytest.importorskip("catboost")
    rng = rng_for("catboost uncertainty", weighted)
    X = rng.normal(size=(300, 3))
    y = X[:, 0] + rng.normal(size=300) * (0.5 + np.abs(X[:, 1]))
    w = rng.uniform(0.5, 2.0, 300) if weighted else None
    model = cb.CatBoostRegressor(loss_function="RMSEWithUncertainty", iterations=30,
                                 verbose=0, thread_count=1, allow_writing_files=False)
    model.fit(X, y, sample_weight=w)
    raw = model.predict(X, prediction_type="RawFormulaVal")
    assert raw.shape == (300, 2)
    expected = model.get_best_score()["learn"]["RMSEWithUncertainty"]
    loss = fl.RMSEWithUncertainty(reduction="mean_with_sample_weight")
    got = loss(y, raw[:, 0], raw[:, 1], sample_weight=w)
    assert got == pytest.approx(expected, rel=1e-7)
    # CatBoost's predicted variance is exp(2 log_std)
    variance = model.predict(X[:5], prediction_type="RMSEWithUncertainty")[:, 1]
    np.testing.assert_allclose(variance, np.exp(2 * raw[:5, 1]), rtol=1e-10)
    # the same loss is GaussianNLL(full=True) with var = exp(2 log_std)
    gauss = fl.GaussianNLL(full=True, eps=0.0)
    assert gauss(y[:, None], raw[:, :1], np.exp(2 * raw[:, 1:])) == pytest.approx(
        fl.RMSEWithUncertainty()(y, raw[:, 0], raw[:, 1]), rel=1e-12)


def test_catboosts_survival_aft_metric_is_an_interval_distance_not_the_likelihood():
    """What CatBoost reports as ``SurvivalAft`` (docs/semantics.md): the mean distance
    of exp(z) from the label's interval (-1 meaning +inf in either column), 0 inside,
    whatever ``dist`` and ``scale`` are; fastloss's SurvivalAft is the likelihood, a
    different number on the same predictions."""
    catboost_utils = pytest.importorskip("catboost.utils")
    rng = rng_for("catboost_survival_aft_metric")
    n = 300
    t = np.exp(rng.normal(size=n)).astype(np.float32).astype(np.float64)
    lower = t.copy()
    upper = np.where(rng.uniform(size=n) < 0.5, t, 2 * t).astype(np.float32).astype(np.float64)
    upper[::5] = -1.0  # right-censored
    z = rng.normal(size=n)
    e = np.exp(z)
    lo, hi = lower, np.where(upper == -1, np.inf, upper)
    outside = (e <= lo) | (e >= hi)
    with np.errstate(invalid="ignore"):
        distance = np.where(outside, np.minimum(np.abs(e - lo), np.abs(e - hi)), 0.0)
    labels = np.stack([lower, upper], axis=1)
    for params in ("", ":dist=Logistic;scale=2"):
        got = catboost_utils.eval_metric(labels, z, "SurvivalAft" + params)[0]
        np.testing.assert_allclose(got, distance.mean(), rtol=1e-6)  # CatBoost's fast_exp
    likelihood = fl.SurvivalAft()(lower, np.where(upper == -1, np.inf, upper), z)
    assert abs(likelihood - distance.mean()) > 0.1 * distance.mean()


@pytest.mark.parametrize("distribution,sigma", [("normal", 1.0), ("logistic", 1.5),
                                                ("extreme", 0.8)])
def test_catboosts_survival_aft_objective_is_this_likelihood(distribution, sigma):
    """CatBoost trains ``SurvivalAft:dist=...;scale=...`` with the AFT likelihood's
    derivatives: one Newton tree from raw score 0 (no regularisation) has the leaves
    -sum(g) / sum(h) of fastloss's gradient and Hessian over each leaf's rows, up to
    CatBoost's float32 fast exponential (~1e-4 here) and one small shift of the whole
    tree (as its pairwise leaves, test_ranking.py)."""
    cb = pytest.importorskip("catboost")
    rng = rng_for("catboost_survival_aft_objective", distribution)
    n = 400
    X = rng.normal(size=(n, 3))
    t = np.exp(0.5 * X[:, 0] + 0.3 * rng.normal(size=n)).astype(np.float32).astype(np.float64)
    lower, upper = t.copy(), t.copy()
    upper[::4] = -1.0  # right-censored: CatBoost's -1 is +inf
    lower[1::7] = 0.0  # left-censored
    model = cb.CatBoostRegressor(
        loss_function=f"SurvivalAft:dist={distribution.capitalize()};scale={sigma}",
        iterations=1, depth=2, learning_rate=1.0, boost_from_average=False,
        leaf_estimation_iterations=1, leaf_estimation_method="Newton", l2_leaf_reg=0,
        random_seed=0, thread_count=1, verbose=0, allow_writing_files=False)
    model.fit(X, np.stack([lower, upper], axis=1))
    raw = model.predict(X, prediction_type="RawFormulaVal")
    leaf = model.calc_leaf_indexes(X)[:, 0]
    loss = fl.SurvivalAft(distribution=distribution, sigma=sigma)
    (g,), (h,) = loss.gradient_hessian(lower, np.where(upper == -1, np.inf, upper),
                                       np.zeros(n))  # one trained input: the score
    ours = np.empty(n)
    for k in np.unique(leaf):
        rows = leaf == k
        ours[rows] = -g[rows].sum() / h[rows].sum()
    assert len(np.unique(leaf)) >= 3 and np.ptp(ours) > 0.3  # a tree that splits
    shift = np.median(raw - ours)
    assert abs(shift) < 1e-4
    np.testing.assert_allclose(raw - shift, ours, atol=1.5e-4)

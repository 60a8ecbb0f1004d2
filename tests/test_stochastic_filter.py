"""CatBoost's StochasticFilter: against a float64 NumPy reference of the
filters drawn from the same noise, the expectation of its value and gradient
against the exact expected FilterDCG (a NumPy recursion over the number of
items passed, and its central differences) and an independent NumPy
Monte-Carlo estimate, CatBoost's FilteredDCG metric, and a training in
XGBoost against CatBoost's own StochasticFilter."""

import numpy as np
import pytest
from test_ranking import offsets, ranking_data

import fastloss as fl
from fastloss._ranking import Queries, _filter_uniforms

SIZES = np.array([1, 2, 5, 9, 4, 12])


def batch(sizes=SIZES, levels=4, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.sum(sizes))
    return (rng.integers(0, levels, size=n).astype(np.float64), rng.normal(size=n))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def filter_dcg(rel, passed):
    """FilterDCG of one query: the passed items, in input order, each
    rel / its 1-based place among the passed."""
    places = np.cumsum(passed)
    return float(np.sum(np.where(passed, rel / np.maximum(places, 1), 0.0)))


def reference(rel, s, sizes, u, sigma):
    """Per-query -(1/K) sum_k L_k and the gradient
    -(sigma/K) sum_k (L_k - b)(pass_ki - p_i), b the FilterDCG of s >= 0."""
    K = u.shape[0]
    per_query, g = [], np.zeros_like(s)
    for a, b in zip(offsets(sizes)[:-1], offsets(sizes)[1:]):
        r, x = rel[a:b], s[a:b]
        p = sigmoid(sigma * x)
        base = filter_dcg(r, x >= 0)
        value = 0.0
        for k in range(K):
            passed = p >= u[k, a:b]
            dcg = filter_dcg(r, passed)
            value -= dcg / K
            g[a:b] -= sigma * (dcg - base) * (passed - p) / K
        per_query.append(value)
    return np.array(per_query), g


def expected_filter_dcg(rel, p):
    """The exact E[FilterDCG] when item i passes with probability p_i,
    independently: item j counts rel_j / (1 + C) with C the number passed
    before it, whose distribution the recursion carries."""
    dist = np.array([1.0])  # P(C = c) over the items so far
    total = 0.0
    for j in range(rel.size):
        total += rel[j] * p[j] * np.sum(dist / (1.0 + np.arange(dist.size)))
        dist = np.concatenate((dist * (1.0 - p[j]), [0.0])) + np.concatenate(([0.0],
                                                                              dist * p[j]))
    return total


def test_matches_numpy_reference_from_the_same_noise():
    rel, s = batch()
    loss = fl.StochasticFilter(sigma=1.5, estimations=7, seed=5, reduction="none")
    u = _filter_uniforms(5, Queries(rel, s, SIZES), 7)
    assert u.shape == (7, s.size) and np.all((u >= 0) & (u < 1))
    ref_v, ref_g = reference(rel, s, SIZES, u, 1.5)
    v, g = loss.forward_backward(rel, s, group=SIZES)
    np.testing.assert_allclose(v, ref_v, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, ref_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss.backward(rel, s, group=SIZES), ref_g, rtol=1e-12,
                               atol=1e-15)
    assert np.all(v <= 0) and np.count_nonzero(v) >= 4 and np.count_nonzero(g) >= 10
    # reductions and one weight per query (Keras's)
    sw = np.arange(1.0, SIZES.size + 1)
    np.testing.assert_allclose(
        fl.StochasticFilter(sigma=1.5, estimations=7, seed=5)(rel, s, group=SIZES),
        ref_v.mean(), rtol=1e-12)
    summed = fl.StochasticFilter(sigma=1.5, estimations=7, seed=5, reduction="sum")
    np.testing.assert_allclose(summed(rel, s, sw, group=SIZES), np.sum(sw * ref_v), rtol=1e-12)
    np.testing.assert_allclose(summed.backward(rel, s, sw, group=SIZES),
                               np.repeat(sw, SIZES) * ref_g, rtol=1e-12, atol=1e-15)


def test_a_sure_filter_is_catboost_filtered_dcg():
    # a large sigma makes every pass probability 0 or 1 (the scores are away
    # from 0): each draw is the filter s >= 0, the loss minus CatBoost's
    # FilteredDCG of each query, and the gradient 0 (every draw on the baseline)
    eval_metric = pytest.importorskip("catboost.utils").eval_metric
    rel, s = batch(seed=2)
    s = np.where(np.abs(s) < 0.05, 0.3, s)
    v, g = fl.StochasticFilter(sigma=1e4, estimations=3, reduction="none").forward_backward(
        rel, s, group=SIZES)
    assert np.all(g == 0.0)
    for q, (a, b) in enumerate(zip(offsets(SIZES)[:-1], offsets(SIZES)[1:])):
        theirs = eval_metric(rel[a:b], s[a:b], "FilteredDCG", group_id=[0] * (b - a))[0]
        assert v[q] == pytest.approx(-theirs, rel=1e-12, abs=1e-15)
        assert filter_dcg(rel[a:b], s[a:b] >= 0) == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    assert np.count_nonzero(v) >= 4


def test_expectation_is_the_exact_expected_filter_dcg():
    # one call with many draws estimates -E[FilterDCG] and its gradient; the
    # exact expectation (the recursion) and its central differences agree
    # within the estimate's error, and so does an independent NumPy
    # Monte-Carlo estimate from its own generator
    rel = np.array([2.0, 0.0, 1.0, 3.0, 0.0, 1.0])
    s = np.array([0.3, 0.1, -0.2, -0.5, 0.6, 1.1])
    sigma, K = 1.3, 200_000
    exact = -expected_filter_dcg(rel, sigmoid(sigma * s))
    step = 1e-6
    exact_g = np.array([(-expected_filter_dcg(rel, sigmoid(sigma * (s + step * e)))
                         + expected_filter_dcg(rel, sigmoid(sigma * (s - step * e))))
                        / (2 * step) for e in np.eye(s.size)])
    v, g = fl.StochasticFilter(sigma=sigma, estimations=K, seed=11).forward_backward(rel, s)
    rng = np.random.default_rng(99)
    p = sigmoid(sigma * s)
    passed = rng.random((K, s.size)) < p
    dcg = np.sum(np.where(passed, rel / np.maximum(np.cumsum(passed, axis=1), 1), 0.0), axis=1)
    base = filter_dcg(rel, s >= 0)
    per_g = -sigma * (dcg - base)[:, None] * (passed - p)
    se_v, se_g = dcg.std() / np.sqrt(K), per_g.std(0) / np.sqrt(K)
    assert abs(v - exact) < 4.5 * se_v and abs(-dcg.mean() - exact) < 4.5 * se_v
    assert np.all(np.abs(g - exact_g) < 4.5 * se_g), (g, exact_g, se_g)
    assert np.all(np.abs(per_g.mean(0) - exact_g) < 4.5 * se_g)
    # the estimate is precise enough to say something: each exact derivative
    # is far from 0 against its error
    assert np.all(np.abs(exact_g) > 10 * se_g)


def test_a_call_is_a_pure_function_and_new_scores_draw_new_filters():
    rel, s = batch(seed=6)
    loss = fl.StochasticFilter(estimations=3, seed=3)
    g1, g2 = (loss.backward(rel, s, group=SIZES) for _ in range(2))
    np.testing.assert_array_equal(g1, g2)
    u1 = _filter_uniforms(3, Queries(rel, s, SIZES), 3)
    u2 = _filter_uniforms(3, Queries(rel, s + 1e-3, SIZES), 3)
    u3 = _filter_uniforms(4, Queries(rel, s, SIZES), 3)
    assert not np.array_equal(u1, u2) and not np.array_equal(u1, u3)
    s32 = s.astype(np.float32)
    v32 = fl.StochasticFilter(seed=3, reduction="none")(rel.astype(np.float32), s32, group=SIZES)
    v64 = fl.StochasticFilter(seed=3, reduction="none")(rel, s32.astype(np.float64), group=SIZES)
    np.testing.assert_allclose(v32, v64, rtol=1e-6)
    assert loss.backward(rel.astype(np.float32), s32, group=SIZES).dtype == np.float32


def test_threads_give_the_same_bits():
    sizes = np.random.default_rng(8).integers(1, 30, size=3000)
    rel, s = batch(sizes=sizes, seed=8)
    loss = fl.StochasticFilter(estimations=4, seed=1, reduction="none")
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(rel, s, group=sizes)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(rel, s, group=sizes)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(g1, g2)


def test_inputs_are_not_modified_and_nan_makes_its_query_nan():
    rel, s = batch(seed=9)
    rel0, s0 = rel.copy(), s.copy()
    fl.StochasticFilter().forward_backward(rel, s, group=SIZES)
    np.testing.assert_array_equal(rel, rel0)
    np.testing.assert_array_equal(s, s0)
    s[3] = np.nan  # in the third query (items 3..7)
    v, g = fl.StochasticFilter(reduction="none").forward_backward(rel, s, group=SIZES)
    assert np.isnan(v[2]) and not np.any(np.isnan(np.delete(v, 2)))
    assert np.all(np.isnan(g[3:8])) and not np.any(np.isnan(np.delete(g, np.arange(3, 8))))


def test_bad_arguments_raise_clear_errors():
    rel, s = batch()
    for kw, err, match in (({"sigma": 0.0}, ValueError, "sigma must be a finite float > 0"),
                           ({"sigma": np.inf}, ValueError, "sigma must be a finite float > 0"),
                           ({"sigma": "1"}, TypeError, "sigma must be a float"),
                           ({"estimations": 0}, ValueError, "estimations must be >= 1"),
                           ({"estimations": 1.5}, TypeError, "estimations must be an integer"),
                           ({"seed": -1}, ValueError, "seed must be >= 0")):
        with pytest.raises(err, match=match):
            fl.StochasticFilter(**kw)
    with pytest.raises(ValueError, match="relevance must be >= 0"):
        fl.StochasticFilter()(rel - 1.0, s, group=SIZES)
    with pytest.raises(ValueError, match="group sizes sum to"):
        fl.StochasticFilter()(rel, s, group=[3, 3])
    with pytest.raises(ValueError, match="one weight per query"):
        fl.StochasticFilter()(rel, s, np.ones(s.size), group=SIZES)
    with pytest.raises(NotImplementedError, match="StochasticFilter has no gradient_hessian"):
        fl.StochasticFilter().gradient_hessian(rel, s, group=SIZES)
    with pytest.raises(ValueError, match="no Hessian"):
        fl.xgboost.objective(fl.StochasticFilter())


def test_config_round_trip():
    loss = fl.StochasticFilter(sigma=2.0, estimations=4, seed=9, reduction="sum")
    again = fl.StochasticFilter.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert repr(fl.StochasticFilter(sigma=0.5)) == "StochasticFilter(sigma=0.5)"
    assert type(fl.get("stochastic_filter")) is fl.StochasticFilter
    assert not fl.StochasticFilter.has_hessian
    fresh = fl.StochasticFilter(seed=None)
    assert fresh.get_config()["seed"] == fresh.seed >= 0


def mean_filtered_dcg(rel, scores, sizes):
    off = offsets(sizes)
    return float(np.mean([filter_dcg(rel[a:b], scores[a:b] >= 0)
                          for a, b in zip(off[:-1], off[1:])]))


def test_objective_trains_like_catboost_stochastic_filter():
    # XGBoost with fastloss's gradient and a constant Hessian (CatBoost's
    # gradient leaves) against CatBoost's own StochasticFilter: the held-out
    # FilteredDCG of both
    xgb = pytest.importorskip("xgboost")
    cb = pytest.importorskip("catboost")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    loss = fl.StochasticFilter(estimations=10, seed=0, reduction="sum")

    def objective(margin, dtrain):
        g = loss.backward(dtrain.get_label(), margin.astype(np.float64), group=sizes)
        return g, np.ones_like(g)

    ours = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0, "base_score": 0.0},
                     xgb.DMatrix(X, label=rel, group=sizes), num_boost_round=60, obj=objective)
    theirs = cb.CatBoost({"loss_function": "StochasticFilter:num_estimations=10",
                          "iterations": 60, "learning_rate": 0.3, "depth": 3,
                          "thread_count": 1, "random_seed": 0, "verbose": False,
                          "allow_writing_files": False})
    theirs.fit(cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes)))
    start = mean_filtered_dcg(relt, np.zeros_like(relt), sizest)
    dcg_ours = mean_filtered_dcg(relt, ours.predict(xgb.DMatrix(Xt), output_margin=True), sizest)
    dcg_theirs = mean_filtered_dcg(relt, theirs.predict(Xt, prediction_type="RawFormulaVal"),
                                   sizest)
    print(f"FilteredDCG on held-out queries: everything passed {start:.4f}, fastloss "
          f"StochasticFilter in XGBoost {dcg_ours:.4f}, CatBoost StochasticFilter "
          f"{dcg_theirs:.4f}")
    assert dcg_ours > start + 0.3
    assert abs(dcg_ours - dcg_theirs) < 0.05 * dcg_theirs, (dcg_ours, dcg_theirs)


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_catboost_gradient_leaves_are_minus_the_expected_gradient_over_sigma(sigma):
    # one CatBoost tree with gradient leaves (no regularisation) takes the
    # mean of its derivative over each leaf: with many draws that is minus
    # fastloss's gradient over sigma, averaged over the leaf, within the
    # Monte-Carlo error of both estimates
    cb = pytest.importorskip("catboost")
    rng = np.random.default_rng(3)
    sizes = np.array([7, 12, 5, 9, 10])
    X = rng.normal(size=(sizes.sum(), 3))
    rel = rng.integers(0, 4, size=sizes.sum()).astype(np.float64)
    init = rng.normal(size=sizes.sum())
    K = 20_000
    pool = cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes), baseline=init)
    model = cb.CatBoost({"loss_function": f"StochasticFilter:sigma={sigma};num_estimations={K}",
                         "iterations": 1, "learning_rate": 1.0, "depth": 2, "l2_leaf_reg": 0,
                         "leaf_estimation_method": "Gradient", "leaf_estimation_iterations": 1,
                         "boosting_type": "Plain", "bootstrap_type": "No", "random_strength": 0,
                         "boost_from_average": False, "thread_count": 1, "verbose": False,
                         "allow_writing_files": False})
    model.fit(pool)
    leaf = model.calc_leaf_indexes(pool).reshape(-1)
    value = model.predict(pool, prediction_type="RawFormulaVal") - init
    g = fl.StochasticFilter(sigma=sigma, estimations=K, seed=4, reduction="sum").backward(
        rel, init, group=sizes)
    # the spread of one draw's leaf mean, from the NumPy reference of 2000 draws
    u = np.random.default_rng(5).random((2000, rel.size))
    per_draw = np.stack([reference(rel, init, sizes, u[k:k + 1], sigma)[1]
                         for k in range(2000)])
    leaves = np.unique(leaf)
    assert leaves.size >= 3
    for v in leaves:
        rows = leaf == v
        assert np.ptp(value[rows]) < 1e-6  # one leaf value (CatBoost's float32 rounding)
        ours = -g[rows].mean() / sigma
        se = (per_draw[:, rows].mean(1) / sigma).std() / np.sqrt(K)
        assert abs(value[rows][0] - ours) < 4.5 * np.sqrt(2) * se, (v, value[rows][0], ours, se)
        assert abs(ours) > 4.5 * np.sqrt(2) * se  # the leaf is not 0 within the error

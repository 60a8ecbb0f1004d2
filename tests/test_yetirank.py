"""CatBoost's YetiRank and YetiRankPairwise: against a float64 NumPy reference
of the pairs and weights drawn from the same noise, central differences of
the loss with those weights held, the expectation of the gradient over the
noise against an independent NumPy Monte-Carlo estimate, and CatBoost
(its one-tree leaves without noise, and a training with its own YetiRank)."""

import numpy as np
import pytest
from test_ranking import (
    _catboost_one_tree,
    _newton_steps,
    _tree_data,
    mean_ndcg,
    offsets,
    ranking_data,
)

import fastloss as fl
from fastloss import _core
from fastloss._ranking import Queries, _yeti_uniforms

RNG = np.random.default_rng(20261202)
SIZES = np.array([1, 2, 5, 9, 4, 12])


def batch(sizes=SIZES, levels=4, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.sum(sizes))
    return (rng.integers(0, levels, size=n).astype(np.float64), rng.normal(size=n))


def yeti_weights(rel, keys, sizes, decay):
    """Each query's pair weights W[hi, lo] (float64) from its rankings: keys
    holds one row of noisy scores per ranking; the neighbours at places k - 1
    and k with different relevances weigh 0.15 decay^(k-1) |gap| / rankings."""
    out = []
    rankings = keys.shape[0]
    for a, b in zip(offsets(sizes)[:-1], offsets(sizes)[1:]):
        n = b - a
        w = np.zeros((n, n))
        r = rel[a:b]
        for p in range(rankings):
            order = np.argsort(-keys[p, a:b], kind="stable")
            for k in range(1, n):
                i, j = order[k - 1], order[k]
                if r[i] == r[j]:
                    continue
                hi, lo = (i, j) if r[i] > r[j] else (j, i)
                w[hi, lo] += 0.15 * decay ** (k - 1) * abs(r[i] - r[j]) / rankings
        out.append(w)
    return out


def pair_loss(weights, s, sizes):
    """Per-query sum of W[hi, lo] log(1 + exp(-(s_hi - s_lo))), its gradient
    and Hessian diagonal, the weights held."""
    per_query, g, h = [], np.zeros_like(s), np.zeros_like(s)
    for w, a, b in zip(weights, offsets(sizes)[:-1], offsets(sizes)[1:]):
        x = s[a:b]
        d = x[:, None] - x[None, :]  # s_hi - s_lo
        per_query.append(np.sum(w * np.logaddexp(0.0, -d)))
        p = w / (1.0 + np.exp(d))  # w sigmoid(-d)
        g[a:b] = -p.sum(1) + p.sum(0)
        q = w * (1.0 / (1.0 + np.exp(d))) * (1.0 / (1.0 + np.exp(-d)))
        h[a:b] = q.sum(1) + q.sum(0)
    return np.array(per_query), g, h


def keys_of(s, u):
    return s[None, :] + np.log(u / (1.000001 - u))


def test_matches_numpy_reference_from_the_same_noise():
    rel, s = batch()
    loss = fl.YetiRank(permutations=7, decay=0.8, seed=5, reduction="none")
    u = _yeti_uniforms(5, Queries(rel, s, SIZES), 7)
    assert u.shape == (7, s.size) and np.all((u >= 0) & (u < 1))
    ref_v, ref_g, ref_h = pair_loss(yeti_weights(rel, keys_of(s, u), SIZES, 0.8), s, SIZES)
    v, g = loss.forward_backward(rel, s, group=SIZES)
    gh, hh = loss.gradient_hessian(rel, s, group=SIZES)
    np.testing.assert_allclose(v, ref_v, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, ref_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gh, ref_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hh, ref_h, rtol=1e-12, atol=1e-15)
    # a query of one item, or of one relevance, has no pair
    varied = np.array([np.ptp(rel[a:b]) > 0 for a, b in zip(offsets(SIZES)[:-1],
                                                             offsets(SIZES)[1:])])
    assert np.all(v[~varied] == 0.0) and np.all(v[varied] > 0) and varied.sum() >= 4
    # reductions and one weight per query (Keras's)
    sw = np.arange(1.0, SIZES.size + 1)
    np.testing.assert_allclose(fl.YetiRank(permutations=7, decay=0.8, seed=5)(rel, s, group=SIZES),
                               ref_v.mean(), rtol=1e-12)
    np.testing.assert_allclose(
        fl.YetiRank(permutations=7, decay=0.8, seed=5, reduction="sum")(rel, s, sw, group=SIZES),
        np.sum(sw * ref_v), rtol=1e-12)
    gw, hw = loss.gradient_hessian(rel, s, sw, group=SIZES)
    np.testing.assert_allclose(gw, np.repeat(sw, SIZES) * ref_g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hw, np.repeat(sw, SIZES) * ref_h, rtol=1e-12, atol=1e-15)


def test_two_items_are_neighbours_whatever_the_noise():
    # a two-item query's pair is drawn in every ranking, at places 0 and 1
    rel, s = np.array([0.0, 3.0]), np.array([0.4, -0.3])
    expect = 0.15 * 3.0 * np.logaddexp(0.0, 0.7)
    for seed in range(5):
        np.testing.assert_allclose(fl.YetiRank(seed=seed)(rel, s), expect, rtol=1e-13)
    np.testing.assert_allclose(fl.YetiRank(noise=None)(rel, s), expect, rtol=1e-13)


def test_gradient_and_hessian_are_central_differences_of_the_held_loss():
    # the weights of one call held fixed: the loss is smooth in the scores
    rel, s = batch(seed=1)
    loss = fl.YetiRank(seed=2, reduction="sum")
    u = _yeti_uniforms(2, Queries(rel, s, SIZES), 10)
    weights = yeti_weights(rel, keys_of(s, u), SIZES, 0.85)
    g, h = loss.gradient_hessian(rel, s, group=SIZES)
    step = 1e-5
    for i in range(s.size):
        e = np.zeros_like(s)
        e[i] = step
        fp, fm = (pair_loss(weights, s + t * e, SIZES)[0].sum() for t in (1, -1))
        np.testing.assert_allclose(g[i], (fp - fm) / (2 * step), rtol=1e-6, atol=1e-9)
        # the second difference with a larger step (its rounding error is eps / step^2)
        fp, f0, fm = (pair_loss(weights, s + t * 100 * e, SIZES)[0].sum() for t in (1, 0, -1))
        np.testing.assert_allclose(h[i], (fp - 2 * f0 + fm) / (100 * step) ** 2, rtol=1e-5,
                                   atol=1e-8)
    # and the call's own value is this held loss
    np.testing.assert_allclose(loss(rel, s, group=SIZES),
                               pair_loss(weights, s, SIZES)[0].sum(), rtol=1e-12)


def test_expected_gradient_is_numpy_monte_carlo_of_logistic_noise():
    # the average of fastloss's gradient over seeds estimates E[gradient] over
    # the rankings; an independent NumPy estimate with logistic noise (CatBoost's
    # exp(s) u / (1 - u)) from its own generator agrees within the error
    rel = np.array([2.0, 0.0, 1.0, 3.0, 0.0])
    s = np.array([0.3, 0.1, -0.2, -0.5, 0.6])
    seeds, perms = 300, 10
    ours = np.array([fl.YetiRank(seed=k, permutations=perms).gradient_hessian(rel, s)[0]
                     for k in range(seeds)])
    rankings = 100_000
    rng = np.random.default_rng(99)
    keys = s[None, :] + rng.logistic(size=(rankings, s.size))
    order = np.argsort(-keys, axis=1, kind="stable")
    per = np.zeros((rankings, s.size))  # each ranking's gradient
    rows = np.arange(rankings)
    for k in range(1, s.size):
        i, j = order[:, k - 1], order[:, k]
        hi = np.where(rel[i] >= rel[j], i, j)
        lo = np.where(rel[i] >= rel[j], j, i)
        w = 0.15 * 0.85 ** (k - 1) * np.abs(rel[i] - rel[j])
        p = w / (1.0 + np.exp(s[hi] - s[lo]))
        per[rows, hi] -= p
        per[rows, lo] += p
    mc = per.mean(0)
    se_ours = per.std(0) / np.sqrt(seeds * perms)
    se_mc = per.std(0) / np.sqrt(rankings)
    z = np.abs(ours.mean(0) - mc) / np.sqrt(se_ours ** 2 + se_mc ** 2)
    assert np.all(z < 4.5), z
    # the noise matters: the mean differs from the noiseless gradient
    g0 = fl.YetiRank(noise=None).gradient_hessian(rel, s)[0]
    assert np.max(np.abs(mc - g0)) > 10 * np.max(se_mc)


def test_permuting_a_query_with_its_noise_permutes_the_result():
    rel, s = batch(sizes=[9], seed=4)
    u = RNG.random((3, 9))
    off = np.array([0, 9])
    out = {}
    for name, idx in (("id", np.arange(9)), ("perm", RNG.permutation(9))):
        v, g, h = np.empty(1), np.empty(9), np.empty(9)
        _core.yetirank_loss(np.ascontiguousarray(rel[idx]), np.ascontiguousarray(s[idx]), off,
                            np.ascontiguousarray(u[:, idx]).reshape(-1), 3, 0.85, v, g, h, None)
        inv = np.argsort(idx)
        out[name] = (v, g[inv], h[inv])
    np.testing.assert_allclose(out["perm"][0], out["id"][0], rtol=1e-14)
    np.testing.assert_allclose(out["perm"][1], out["id"][1], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(out["perm"][2], out["id"][2], rtol=1e-14, atol=1e-16)


def test_a_call_is_a_pure_function_and_new_scores_draw_new_rankings():
    rel, s = batch(seed=6)
    loss = fl.YetiRank(seed=3)
    g1, h1 = loss.gradient_hessian(rel, s, group=SIZES)
    g2, h2 = loss.gradient_hessian(rel, s, group=SIZES)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(h1, h2)
    u1 = _yeti_uniforms(3, Queries(rel, s, SIZES), 10)
    u2 = _yeti_uniforms(3, Queries(rel, s + 1e-3, SIZES), 10)
    u3 = _yeti_uniforms(4, Queries(rel, s, SIZES), 10)
    assert not np.array_equal(u1, u2) and not np.array_equal(u1, u3)
    # float32 scores draw what their float64 values draw
    s32 = s.astype(np.float32)
    v32 = fl.YetiRank(seed=3, reduction="none")(rel.astype(np.float32), s32, group=SIZES)
    v64 = fl.YetiRank(seed=3, reduction="none")(rel, s32.astype(np.float64), group=SIZES)
    np.testing.assert_allclose(v32, v64, rtol=1e-6)
    assert fl.YetiRank(seed=3).backward(rel.astype(np.float32), s32,
                                        group=SIZES).dtype == np.float32


def test_threads_give_the_same_bits():
    sizes = np.random.default_rng(8).integers(1, 30, size=3000)
    rel, s = batch(sizes=sizes, seed=8)
    loss = fl.YetiRank(seed=1, reduction="none")
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(rel, s, group=sizes)
        _, h1 = loss.gradient_hessian(rel, s, group=sizes)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(rel, s, group=sizes)
        _, h2 = loss.gradient_hessian(rel, s, group=sizes)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(h1, h2)


def test_inputs_are_not_modified_and_nan_makes_its_query_nan():
    rel, s = batch(seed=9)
    rel0, s0 = rel.copy(), s.copy()
    fl.YetiRank().forward_backward(rel, s, group=SIZES)
    np.testing.assert_array_equal(rel, rel0)
    np.testing.assert_array_equal(s, s0)
    s[3] = np.nan  # in the third query (items 3..7)
    v = fl.YetiRank(reduction="none")(rel, s, group=SIZES)
    assert np.isnan(v[2]) and not np.any(np.isnan(np.delete(v, 2)))


def test_bad_arguments_raise_clear_errors():
    rel, s = batch()
    for bad, err, match in ((0, ValueError, "permutations must be >= 1"),
                            (2.5, TypeError, "permutations must be an integer"),
                            (True, TypeError, "permutations must be an integer")):
        with pytest.raises(err, match=match):
            fl.YetiRank(permutations=bad)
    for bad, err, match in ((-0.1, ValueError, r"decay must be in \[0, 1\]"),
                            (1.5, ValueError, r"decay must be in \[0, 1\]"),
                            ("fast", TypeError, "decay must be a float")):
        with pytest.raises(err, match=match):
            fl.YetiRank(decay=bad)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        fl.YetiRank(seed=-1)
    with pytest.raises(ValueError, match="noise must be 'gumbel'"):
        fl.YetiRankPairwise(noise="gauss")
    with pytest.raises(ValueError, match="relevance must be >= 0"):
        fl.YetiRank()(rel - 1.0, s, group=SIZES)
    with pytest.raises(ValueError, match="group sizes sum to"):
        fl.YetiRank()(rel, s, group=[3, 3])
    with pytest.raises(ValueError, match="one weight per query"):
        fl.YetiRank()(rel, s, np.ones(s.size), group=SIZES)


def test_config_round_trip_and_pairwise_is_the_same_objective():
    loss = fl.YetiRankPairwise(permutations=4, decay=0.5, seed=9, noise=None, reduction="sum")
    again = fl.YetiRankPairwise.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert repr(fl.YetiRank(decay=0.5)) == "YetiRank(decay=0.5)"
    assert type(fl.get("yetirank")) is fl.YetiRank
    assert type(fl.get("YetiRankPairwise")) is fl.YetiRankPairwise
    rel, s = batch(seed=10)
    np.testing.assert_array_equal(
        fl.YetiRank(seed=2).gradient_hessian(rel, s, group=SIZES)[0],
        fl.YetiRankPairwise(seed=2).gradient_hessian(rel, s, group=SIZES)[0])
    fresh = fl.YetiRank(seed=None)
    assert fresh.get_config()["seed"] == fresh.seed >= 0


@pytest.mark.parametrize("decay", [0.85, 0.5])
def test_noiseless_leaves_are_catboost_yetirank_leaves_up_to_one_shift(decay):
    # CatBoost's YetiRank with noise=No ranks by the current scores: its pairs
    # and weights are fastloss's YetiRank(noise=None); its Newton leaves are
    # fastloss's Newton steps up to one shift of the whole tree (a shift that
    # changes no pair's difference), as for PairLogit
    cb = pytest.importorskip("catboost")
    X, rel, sizes, init = _tree_data()
    leaf, value = _catboost_one_tree(
        cb, f"YetiRank:noise=No;permutations=1;decay={decay}", X, rel, sizes, init)
    g, h = fl.YetiRank(noise=None, decay=decay).gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 3
    shifts = np.array([value[leaf == v].mean() - step for v, step in steps.items()])
    spread = np.array([np.ptp(value[leaf == v]) for v in steps])
    np.testing.assert_allclose(spread, 0.0, atol=1e-6)
    np.testing.assert_allclose(shifts, shifts[0], rtol=0, atol=1e-5)
    assert np.ptp(list(steps.values())) > 0.5


def test_objective_trains_like_catboost_yetirank():
    # CatBoost's custom objectives do not see the groups: fastloss's YetiRank
    # trains in LightGBM and reaches CatBoost's own YetiRank on held-out queries
    lgb = pytest.importorskip("lightgbm")
    cb = pytest.importorskip("catboost")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    ours = lgb.train({"objective": fl.lightgbm.objective(fl.YetiRank(seed=0)), "num_leaves": 8,
                      "learning_rate": 0.3, "num_threads": 1, "verbose": -1,
                      "min_data_in_leaf": 10, "seed": 0},
                     lgb.Dataset(X, rel, group=sizes), num_boost_round=60)
    theirs = cb.CatBoost({"loss_function": "YetiRank", "iterations": 60, "learning_rate": 0.3,
                          "depth": 3, "thread_count": 1, "random_seed": 0, "verbose": False,
                          "allow_writing_files": False})
    theirs.fit(cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes)))
    start = mean_ndcg(relt, 1e-9 * RNG.normal(size=relt.size), sizest)
    ndcg_ours = mean_ndcg(relt, ours.predict(Xt, raw_score=True), sizest)
    ndcg_theirs = mean_ndcg(relt, theirs.predict(Xt, prediction_type="RawFormulaVal"), sizest)
    print(f"NDCG@10 on held-out queries: start {start:.4f}, fastloss YetiRank in LightGBM "
          f"{ndcg_ours:.4f}, CatBoost YetiRank {ndcg_theirs:.4f}")
    assert ndcg_ours > start + 0.15
    assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)


def test_xgboost_objective_trains_and_catboost_adapter_refuses():
    # through fastloss.xgboost the objective also reaches CatBoost's YetiRank
    # NDCG; fastloss.catboost refuses it (CatBoost's objectives see no groups)
    xgb = pytest.importorskip("xgboost")
    cb = pytest.importorskip("catboost")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    dtrain = xgb.DMatrix(X, label=rel, group=sizes)
    ours = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}, dtrain,
                     num_boost_round=60, obj=fl.xgboost.objective(fl.YetiRankPairwise(seed=1)))
    theirs = cb.CatBoost({"loss_function": "YetiRankPairwise", "iterations": 60,
                          "learning_rate": 0.3, "depth": 3, "thread_count": 1, "random_seed": 0,
                          "verbose": False, "allow_writing_files": False})
    theirs.fit(cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes)))
    ndcg_ours = mean_ndcg(relt, ours.predict(xgb.DMatrix(Xt), output_margin=True), sizest)
    ndcg_theirs = mean_ndcg(relt, theirs.predict(Xt, prediction_type="RawFormulaVal"), sizest)
    print(f"NDCG@10 on held-out queries: fastloss YetiRankPairwise in XGBoost {ndcg_ours:.4f}, "
          f"CatBoost YetiRankPairwise {ndcg_theirs:.4f}")
    assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)
    with pytest.raises(ValueError, match="YetiRank is a ranking loss over query groups"):
        fl.catboost.objective(fl.YetiRank())

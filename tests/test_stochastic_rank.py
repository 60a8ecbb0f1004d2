"""CatBoost's StochasticRank (metric NDCG and DCG): against a float64 NumPy
reference from the same noise (each move's metric change recomputed by
moving the item, the densities at the scores bounding its new place),
the expectation of many draws against the derivative of the exact expected
NDCG of 3 items, CatBoost's one-tree gradient leaves with many draws, a
training in XGBoost against CatBoost's own StochasticRank, threads bitwise,
and bad input."""

import itertools

import numpy as np
import pytest
from test_ranking import offsets, ranking_data

import fastloss as fl
from fastloss._ranking import Queries, _rank_normals

SIZES = np.array([1, 2, 5, 9, 4, 12, 3])


def batch(sizes=SIZES, levels=4, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.sum(sizes))
    return (rng.integers(0, levels, size=n).astype(np.float64), rng.normal(size=n))


def metric(rel, order, ndcg, top, exp_gain, log_discount):
    """(N)DCG of the items of one query listed in `order` (best first)."""
    n = len(order)
    top = n if top is None else min(top, n)
    gain = 2.0 ** rel - 1.0 if exp_gain else rel
    places = np.arange(top)
    disc = np.log2(2.0 + places) if log_discount else 1.0 + places
    dcg = float(np.sum(gain[np.asarray(order)[:top]] / disc))
    if ndcg:
        ideal = float(np.sum(np.sort(gain)[::-1][:top] / disc))
        if ideal > np.finfo(float).eps:
            dcg /= ideal
    return dcg


def phi(x, m, sd):
    return np.exp(-0.5 * ((x - m) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


def reference(rel, s, sizes, z, sigma=1.0, ndcg=True, top=None, exp_gain=False,
              log_discount=True, mu=0.0, nu=0.01, lam=1.0):
    """Per-query -(1/K) sum_k M_k, and minus CatBoost's gradient estimate."""
    K = z.shape[0]
    per_query, g = [], np.zeros_like(s)
    for a0, b0 in zip(offsets(sizes)[:-1], offsets(sizes)[1:]):
        r, sq = rel[a0:b0], s[a0:b0]
        n = r.size
        t = n if top is None else min(top, n)
        a = sq - sigma * mu * r
        a = a - a.mean()
        der = np.zeros(n)
        value = 0.0
        for k in range(K):
            zk = z[k, a0:b0]
            x = a + sigma * zk
            order = list(np.argsort(-x, kind="stable"))
            m0 = metric(r, order, ndcg, top, exp_gain, log_discount)
            value -= m0 / K
            if n < 2:
                continue
            sd = sigma * np.sqrt(n / (n - 1))
            last = min(n - 1, t)
            for p, i in enumerate(order):
                others = order[:p] + order[p + 1:]
                mean = a[i] + (zk.sum() - sigma * zk[i]) / (n - 1)
                total = 0.0
                for q in range(last + 1):
                    if q == p or min(p, q) >= t:
                        continue
                    moved = others[:q] + [i] + others[q:]
                    diff = metric(r, moved, ndcg, top, exp_gain, log_discount) - m0
                    # i at place q: its score between others[q] (below) and others[q - 1];
                    # the last place gathers every place below (no lower bound)
                    upper = phi(x[others[q - 1]], mean, sd) if q > 0 else 0.0
                    lower = phi(x[others[q]], mean, sd) if q < last else 0.0
                    total += diff * (lower - upper)
                der[i] += total / K
        if n >= 2:
            der -= der.mean()
        if n > 2:
            c = sq - sq.mean()
            der -= lam * np.dot(der, c) / (np.sqrt(np.dot(c, c)) + nu) ** 2 * c
        per_query.append(value)
        g[a0:b0] = -der
    return np.array(per_query), g


@pytest.mark.parametrize("kw", [
    {},
    {"metric": "DCG"},
    {"metric": "NDCG", "top": 3, "sigma": 0.5},
    {"metric": "DCG", "top": 2, "type": "Exp", "denominator": "Position"},
    {"metric": "NDCG", "mu": 0.3, "nu": 0.5, "lambda_": 0.0, "sigma": 2.0},
])
def test_matches_numpy_reference_from_the_same_noise(kw):
    rel, s = batch()
    loss = fl.StochasticRank(estimations=3, seed=5, reduction="none", **kw)
    z = _rank_normals(5, Queries(rel, s, SIZES), 3)
    assert z.shape == (3, s.size)
    ref_v, ref_g = reference(rel, s, SIZES, z, sigma=kw.get("sigma", 1.0),
                             ndcg=kw.get("metric", "NDCG") == "NDCG", top=kw.get("top"),
                             exp_gain=kw.get("type") == "Exp",
                             log_discount=kw.get("denominator", "LogPosition") == "LogPosition",
                             mu=kw.get("mu", 0.0), nu=kw.get("nu", 0.01),
                             lam=kw.get("lambda_", 1.0))
    v, g = loss.forward_backward(rel, s, group=SIZES)
    np.testing.assert_allclose(v, ref_v, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, ref_g, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(loss.backward(rel, s, group=SIZES), ref_g, rtol=1e-10,
                               atol=1e-13)
    assert np.all(v <= 0) and np.count_nonzero(g) >= 20
    assert g[0] == 0.0  # a query of one item
    # reductions and one weight per query (Keras's)
    sw = np.arange(1.0, SIZES.size + 1)
    q = SIZES.size
    for reduction, want, scale in (("sum", np.sum(sw * ref_v), sw),
                                   ("sum_over_batch_size", np.sum(sw * ref_v) / q, sw / q)):
        red = fl.StochasticRank(estimations=3, seed=5, reduction=reduction, **kw)
        value, grad = red.forward_backward(rel, s, sw, group=SIZES)
        np.testing.assert_allclose(value, want, rtol=1e-12)
        np.testing.assert_allclose(grad, np.repeat(scale, SIZES) * ref_g, rtol=1e-10,
                                   atol=1e-13)
    # float32 in, float32 out (float64 sums)
    g32 = loss.backward(rel.astype(np.float32), s.astype(np.float32), group=SIZES)
    assert g32.dtype == np.float32


def test_threads_give_the_same_bits_and_calls_are_pure():
    sizes = np.random.default_rng(8).integers(1, 30, size=2000)
    rel, s = batch(sizes=sizes, seed=8)
    loss = fl.StochasticRank(estimations=2, top=5, seed=1, reduction="none")
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(rel, s, group=sizes)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(rel, s, group=sizes)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(g1, g2)
    # the same inputs draw the same noise; other scores draw other noise
    np.testing.assert_array_equal(loss.backward(rel, s, group=sizes), g1)
    assert not np.array_equal(loss.backward(rel, s + 1e-3, group=sizes), g1)


def test_inputs_are_not_modified_and_nan_makes_its_query_nan():
    rel, s = batch(seed=9)
    rel0, s0 = rel.copy(), s.copy()
    fl.StochasticRank().forward_backward(rel, s, group=SIZES)
    np.testing.assert_array_equal(rel, rel0)
    np.testing.assert_array_equal(s, s0)
    s[4] = np.nan  # in the third query (items 3..7)
    v, g = fl.StochasticRank(reduction="none").forward_backward(rel, s, group=SIZES)
    assert np.isnan(v[2]) and not np.any(np.isnan(np.delete(v, 2)))
    assert np.all(np.isnan(g[3:8])) and not np.any(np.isnan(np.delete(g, np.arange(3, 8))))


def test_bad_arguments_raise_clear_errors():
    rel, s = batch()
    for kw, err, match in (({"metric": "PFound"}, ValueError, "PFound, FilteredDCG, ERR and MRR"),
                           ({"metric": 1}, TypeError, "metric must be one of"),
                           ({"type": "exp"}, ValueError, "type must be one of"),
                           ({"denominator": "Log"}, ValueError, "denominator must be one of"),
                           ({"top": 0}, ValueError, "top must be >= 1"),
                           ({"sigma": 0.0}, ValueError, "sigma must be a finite float > 0"),
                           ({"sigma": "1"}, TypeError, "sigma must be a float"),
                           ({"mu": -1.0}, ValueError, "mu must be a finite float >= 0"),
                           ({"nu": 0.0}, ValueError, "nu must be a finite float > 0"),
                           ({"lambda_": np.nan}, ValueError, "lambda_ must be a finite"),
                           ({"estimations": 0}, ValueError, "estimations must be >= 1"),
                           ({"estimations": 1.5}, TypeError, "estimations must be an integer"),
                           ({"seed": -1}, ValueError, "seed must be >= 0")):
        with pytest.raises(err, match=match):
            fl.StochasticRank(**kw)
    with pytest.raises(ValueError, match="relevance must be >= 0"):
        fl.StochasticRank()(rel - 1.0, s, group=SIZES)
    with pytest.raises(ValueError, match="group sizes sum to"):
        fl.StochasticRank()(rel, s, group=[3, 3])
    with pytest.raises(ValueError, match="one weight per query"):
        fl.StochasticRank()(rel, s, np.ones(s.size), group=SIZES)
    with pytest.raises(NotImplementedError, match="StochasticRank has no gradient_hessian"):
        fl.StochasticRank().gradient_hessian(rel, s, group=SIZES)
    with pytest.raises(ValueError, match="no Hessian"):
        fl.xgboost.objective(fl.StochasticRank())


def test_config_round_trip():
    loss = fl.StochasticRank(metric="DCG", top=4, type="Exp", sigma=2.0, estimations=4, seed=9,
                             lambda_=0.5, reduction="sum")
    again = fl.StochasticRank.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert repr(fl.StochasticRank(metric="DCG")) == "StochasticRank(metric='DCG')"
    assert type(fl.get("stochastic_rank")) is fl.StochasticRank
    assert not fl.StochasticRank.has_hessian
    fresh = fl.StochasticRank(seed=None)
    assert fresh.get_config()["seed"] == fresh.seed >= 0


@pytest.mark.parametrize("params", ["metric=NDCG", "metric=DCG;sigma=2;top=3"])
def test_catboost_gradient_leaves_are_minus_the_expected_gradient(params):
    # one CatBoost tree with gradient leaves (no regularisation) takes the
    # mean of its derivative over each leaf: with many draws that is minus
    # fastloss's gradient averaged over the leaf, within the Monte-Carlo
    # error of both estimates
    cb = pytest.importorskip("catboost")
    kw = dict(p.split("=") for p in params.split(";"))
    ours_kw = {"metric": kw["metric"], "sigma": float(kw.get("sigma", 1.0)),
               "top": int(kw["top"]) if "top" in kw else None}
    rng = np.random.default_rng(3)
    sizes = np.array([7, 12, 5, 9, 10])
    X = rng.normal(size=(sizes.sum(), 3))
    rel = rng.integers(0, 4, size=sizes.sum()).astype(np.float64)
    init = rng.normal(size=sizes.sum())
    K = 20_000
    pool = cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes), baseline=init)
    model = cb.CatBoost({"loss_function": f"StochasticRank:{params};num_estimations={K}",
                         "iterations": 1, "learning_rate": 1.0, "depth": 2, "l2_leaf_reg": 0,
                         "leaf_estimation_method": "Gradient", "leaf_estimation_iterations": 1,
                         "boosting_type": "Plain", "bootstrap_type": "No", "random_strength": 0,
                         "boost_from_average": False, "thread_count": 1, "verbose": False,
                         "allow_writing_files": False})
    model.fit(pool)
    leaf = model.calc_leaf_indexes(pool).reshape(-1)
    value = model.predict(pool, prediction_type="RawFormulaVal") - init
    g = fl.StochasticRank(estimations=K, seed=4, reduction="sum", **ours_kw).backward(
        rel, init, group=sizes)
    # the spread of one draw's leaf mean, from 400 single draws
    per_draw = np.stack([fl.StochasticRank(seed=k, reduction="sum", **ours_kw).backward(
        rel, init, group=sizes) for k in range(100, 500)])
    leaves = np.unique(leaf)
    assert leaves.size >= 3
    for v in leaves:
        rows = leaf == v
        assert np.ptp(value[rows]) < 1e-6  # one leaf value
        ours = -g[rows].mean()
        se = per_draw[:, rows].mean(1).std() / np.sqrt(K)
        assert abs(value[rows][0] - ours) < 4.5 * np.sqrt(2) * se, (v, value[rows][0], ours, se)
        assert abs(ours) > 4.5 * np.sqrt(2) * se  # the leaf is not 0 within the error


def mean_ndcg(rel, scores, sizes):
    off = offsets(sizes)
    return float(np.mean([metric(rel[a:b], list(np.argsort(-scores[a:b], kind="stable")), True,
                                 None, False, True) for a, b in zip(off[:-1], off[1:])]))


def test_objective_trains_like_catboost_stochastic_rank():
    # XGBoost with fastloss's gradient and a constant Hessian (CatBoost's
    # gradient leaves) against CatBoost's own StochasticRank: the held-out
    # NDCG of both
    xgb = pytest.importorskip("xgboost")
    cb = pytest.importorskip("catboost")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    loss = fl.StochasticRank(estimations=5, seed=0, reduction="sum")

    def objective(margin, dtrain):
        g = loss.backward(dtrain.get_label(), margin.astype(np.float64), group=sizes)
        return g, np.ones_like(g)

    ours = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0, "base_score": 0.0},
                     xgb.DMatrix(X, label=rel, group=sizes), num_boost_round=60, obj=objective)
    theirs = cb.CatBoost({"loss_function": "StochasticRank:metric=NDCG;num_estimations=5",
                          "iterations": 60, "learning_rate": 0.3, "depth": 3,
                          "thread_count": 1, "random_seed": 0, "verbose": False,
                          "allow_writing_files": False})
    theirs.fit(cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes)))
    start = mean_ndcg(relt, 1e-9 * np.random.default_rng(2).normal(size=relt.size), sizest)
    ndcg_ours = mean_ndcg(relt, ours.predict(xgb.DMatrix(Xt), output_margin=True), sizest)
    ndcg_theirs = mean_ndcg(relt, theirs.predict(Xt, prediction_type="RawFormulaVal"), sizest)
    print(f"NDCG on held-out queries: random {start:.4f}, fastloss StochasticRank in XGBoost "
          f"{ndcg_ours:.4f}, CatBoost StochasticRank {ndcg_theirs:.4f}")
    assert ndcg_ours > start + 0.1
    assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)


def expected_ndcg(rel, a, sigma):
    """The exact E[NDCG] of 3 items ranked by a + sigma z: the probability of
    the order (i, j, k) is the integral over x of the density of x_j at x
    times P(x_i > x) P(x_k < x), by the trapezoidal rule on a fine grid."""
    special = pytest.importorskip("scipy.special")
    x = a.mean() + sigma * np.linspace(-12.0, 12.0, 20001)

    def pdf(m):
        return np.exp(-0.5 * ((x - m) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))

    total = 0.0
    for i, j, k in itertools.permutations(range(3)):
        f = pdf(a[j]) * special.ndtr((a[i] - x) / sigma) * special.ndtr((x - a[k]) / sigma)
        total += np.trapezoid(f, x) * metric(rel, [i, j, k], True, None, False, True)
    return total


def test_expectation_is_the_gradient_of_the_expected_ndcg_at_sigma_1():
    # with sigma = 1 (CatBoost's default) and no projection, the mean of many
    # draws is minus the derivative of the exact E[NDCG] (central differences);
    # for sigma != 1 CatBoost's conditional mean adds the unscaled noise sum to
    # scaled scores, and its estimate (reproduced here, matched to CatBoost's
    # leaves above) is biased: at sigma = 2 it is a few percent short
    rel, s = np.array([2.0, 0.0, 1.0]), np.array([0.3, 0.1, -0.4])
    K = 400_000
    for sigma, biased in ((1.0, False), (2.0, True)):
        h = 1e-4
        exact = np.empty(3)
        for i in range(3):
            sp, sm = s.copy(), s.copy()
            sp[i] += h
            sm[i] -= h
            exact[i] = -(expected_ndcg(rel, sp, sigma) - expected_ndcg(rel, sm, sigma)) / (2 * h)
        loss = fl.StochasticRank(sigma=sigma, lambda_=0.0, reduction="sum")
        ours = fl.StochasticRank(sigma=sigma, estimations=K, lambda_=0.0, seed=1,
                                 reduction="sum").backward(rel, s)
        singles = np.stack([type(loss)(**{**loss.get_config(), "seed": k}).backward(rel, s)
                            for k in range(2000)])
        se = singles.std(0) / np.sqrt(K)
        assert np.all(se < 1e-3 * np.abs(exact).max())
        err = np.abs(ours - exact)
        if not biased:
            assert np.all(err < 4.5 * se), (ours, exact, se)
        else:
            assert err[0] > 20 * se[0] and err[0] < 0.1 * abs(exact[0]), (ours, exact, se)

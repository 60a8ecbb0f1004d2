"""CatBoost's GroupQuantile: against a float64 NumPy reference written from the
formula (the pinball loss of the residuals after each query's mean residual),
values by hand, central differences of the reference away from the kinks,
CatBoost's GroupQuantile metric, Keras's weights and reductions over the
per-query losses, threads bitwise, float32, bad input, and a training in
XGBoost against CatBoost's own GroupQuantile."""

import pickle

import numpy as np
import pytest
from test_ranking import offsets

import fastloss as fl

SIZES = np.array([1, 2, 5, 9, 4, 12, 3])


def batch(sizes=SIZES, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.sum(sizes))
    # float32-exact targets, so CatBoost (which keeps its labels in float32) sees them
    t = (rng.normal(size=n) * 2).astype(np.float32).astype(np.float64)
    return t, rng.normal(size=n)


def reference(t, s, sizes, alpha):
    """Per-query sum of pin(u), u = (t - s) - mean_q(t - s), and the exact
    gradient mean_q(psi(u)) - psi(u_i), psi the slope (alpha at u >= 0)."""
    per_query, g = [], np.zeros_like(s)
    for a, b in zip(offsets(sizes)[:-1], offsets(sizes)[1:]):
        r = t[a:b] - s[a:b]
        u = r - r.mean()
        psi = np.where(u >= 0, alpha, alpha - 1.0)
        per_query.append(float(np.sum(psi * u)))
        g[a:b] = psi.mean() - psi
    return np.array(per_query), g


@pytest.mark.parametrize("alpha", [0.5, 0.1, 0.8])
def test_matches_numpy_reference_with_weights_and_reductions(alpha):
    t, s = batch()
    ref_v, ref_g = reference(t, s, SIZES, alpha)
    loss = fl.GroupQuantile(alpha=alpha, reduction="none")
    v, g = loss.forward_backward(t, s, group=SIZES)
    np.testing.assert_allclose(v, ref_v, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g, ref_g, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(loss.backward(t, s, group=SIZES), ref_g, rtol=1e-13, atol=1e-15)
    assert np.count_nonzero(v) == SIZES.size - 1  # the query of one item has loss 0
    # one weight per query (Keras's), the reductions over the per-query losses
    sw = np.arange(1.0, SIZES.size + 1)
    q = SIZES.size
    for reduction, want, scale in (("sum", np.sum(sw * ref_v), sw),
                                   ("sum_over_batch_size", np.sum(sw * ref_v) / q, sw / q),
                                   ("mean_with_sample_weight", np.sum(sw * ref_v) / sw.sum(),
                                    sw / sw.sum())):
        red = fl.GroupQuantile(alpha=alpha, reduction=reduction)
        value, grad = red.forward_backward(t, s, sw, group=SIZES)
        np.testing.assert_allclose(value, want, rtol=1e-13)
        np.testing.assert_allclose(grad, np.repeat(scale, SIZES) * ref_g, rtol=1e-13,
                                   atol=1e-15)
    # grad_output per query with reduction "none"
    go = np.linspace(-1.0, 2.0, q)
    np.testing.assert_allclose(loss.backward(t, s, grad_output=go, group=SIZES),
                               np.repeat(go, SIZES) * ref_g, rtol=1e-13, atol=1e-15)
    # float32: float64 sums, float32 results
    v32, g32 = loss.forward_backward(t.astype(np.float32), s.astype(np.float32), group=SIZES)
    assert g32.dtype == np.float32
    ref32 = reference(t.astype(np.float32).astype(np.float64),
                      s.astype(np.float32).astype(np.float64), SIZES, alpha)
    np.testing.assert_allclose(v32, ref32[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g32, ref32[1], rtol=1e-6, atol=1e-7)


def test_values_by_hand_the_same_for_every_alpha():
    # t = (1, 2, 6), s = 0: residuals' mean 3, u = (-2, -1, 3); psi = (a-1, a-1, a)
    t, s = np.array([1.0, 2.0, 6.0]), np.zeros(3)
    for alpha in (0.0, 0.25, 0.5, 0.9, 1.0):
        loss = fl.GroupQuantile(alpha=alpha, reduction="sum")
        value, grad = loss.forward_backward(t, s)
        assert value == pytest.approx(3.0, rel=1e-15)  # = 1/2 (2 + 1 + 3)
        np.testing.assert_allclose(grad, [1 / 3, 1 / 3, -2 / 3], rtol=1e-15)
    # 2-D: one query per row; a row and its shift by a constant give the same
    rows_t = np.array([[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]])
    rows_s = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]])
    v = fl.GroupQuantile(reduction="none")(rows_t, rows_s)
    np.testing.assert_allclose(v, [3.0, 0.5 * (1 + 1 + 2)], rtol=1e-15)
    # one item: its residual is its query's mean, loss and gradient 0
    v1, g1 = fl.GroupQuantile(reduction="none").forward_backward([4.0], [-3.0])
    assert v1[0] == 0.0 and g1[0] == 0.0
    # at u = 0 the slope is the u >= 0 side's (Pinball's): t = (0, 1, 2), s = 0
    _, g0 = fl.GroupQuantile(alpha=0.3, reduction="sum").forward_backward([0.0, 1.0, 2.0],
                                                                           np.zeros(3))
    psi = np.array([0.3 - 1, 0.3, 0.3])
    np.testing.assert_allclose(g0, psi.mean() - psi, rtol=1e-15)


def test_gradient_is_the_central_difference_away_from_the_kinks():
    t, s = batch(seed=3)
    for alpha in (0.5, 0.2):
        loss = fl.GroupQuantile(alpha=alpha, reduction="sum")
        g = loss.backward(t, s, group=SIZES)
        # the step crosses no kink: every centred residual is far from 0
        _, ref_g = reference(t, s, SIZES, alpha)
        u = np.concatenate([(t[a:b] - s[a:b]) - (t[a:b] - s[a:b]).mean()
                            for a, b in zip(offsets(SIZES)[:-1], offsets(SIZES)[1:])])
        assert np.all(np.abs(u[SIZES[0]:]) > 1e-4)
        step = 1e-6
        fd = np.empty_like(s)
        for i in range(s.size):
            sp, sm = s.copy(), s.copy()
            sp[i] += step
            sm[i] -= step
            fd[i] = (reference(t, sp, SIZES, alpha)[0].sum()
                     - reference(t, sm, SIZES, alpha)[0].sum()) / (2 * step)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-8)
        np.testing.assert_allclose(g, ref_g, rtol=1e-13, atol=1e-15)
        # the gradient of a query sums to 0: a shift of a whole query changes nothing
        np.testing.assert_allclose(np.add.reduceat(g, offsets(SIZES)[:-1]), 0.0, atol=1e-14)
        shifted = s + np.repeat(np.random.default_rng(4).normal(size=SIZES.size), SIZES)
        np.testing.assert_allclose(fl.GroupQuantile(reduction="none")(t, shifted, group=SIZES),
                                   fl.GroupQuantile(reduction="none")(t, s, group=SIZES),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.9])
def test_is_catboost_group_quantile_metric(alpha):
    pytest.importorskip("catboost")
    from catboost.utils import eval_metric
    t, s = batch(seed=5)
    gid = np.repeat(np.arange(SIZES.size), SIZES)
    (peer,) = eval_metric(t, s, f"GroupQuantile:alpha={alpha};delta=0", group_id=gid)
    total = fl.GroupQuantile(alpha=alpha, reduction="sum")(t, s, group=SIZES)
    np.testing.assert_allclose(total / t.size, peer, rtol=1e-7)
    # CatBoost's per-object weights, constant per query, are the queries' weights
    w = np.random.default_rng(6).uniform(0.5, 2.0, size=SIZES.size)
    w = w.astype(np.float32).astype(np.float64)
    (peer_w,) = eval_metric(t, s, f"GroupQuantile:alpha={alpha};delta=0", group_id=gid,
                            weight=np.repeat(w, SIZES))
    weighted = fl.GroupQuantile(alpha=alpha, reduction="sum")(t, s, w, group=SIZES)
    np.testing.assert_allclose(weighted / np.sum(np.repeat(w, SIZES)), peer_w, rtol=1e-7)


def test_threads_give_the_same_bits():
    sizes = np.random.default_rng(8).integers(1, 30, size=3000)
    t, s = batch(sizes=sizes, seed=8)
    loss = fl.GroupQuantile(alpha=0.3, reduction="none")
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(t, s, group=sizes)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(t, s, group=sizes)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(g1, g2)


def test_inputs_are_not_modified_and_nan_makes_its_query_nan():
    t, s = batch(seed=9)
    t0, s0 = t.copy(), s.copy()
    fl.GroupQuantile().forward_backward(t, s, group=SIZES)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(s, s0)
    t[4] = np.nan  # in the third query (items 3..7)
    v, g = fl.GroupQuantile(reduction="none").forward_backward(t, s, group=SIZES)
    assert np.isnan(v[2]) and not np.any(np.isnan(np.delete(v, 2)))
    assert np.all(np.isnan(g[3:8])) and not np.any(np.isnan(np.delete(g, np.arange(3, 8))))


def test_bad_input_raises_clear_errors():
    t, s = batch()
    for kw, err, match in (({"alpha": 1.5}, ValueError, r"alpha must be in \[0, 1\]"),
                           ({"alpha": -0.1}, ValueError, r"alpha must be in \[0, 1\]"),
                           ({"alpha": "0.5"}, TypeError, "alpha must be a float"),
                           ({"alpha": True}, TypeError, "alpha must be a float"),
                           ({"reduction": "bogus"}, ValueError, "reduction")):
        with pytest.raises(err, match=match):
            fl.GroupQuantile(**kw)
    loss = fl.GroupQuantile()
    with pytest.raises(ValueError, match="group sizes sum to"):
        loss(t, s, group=[3, 3])
    with pytest.raises(ValueError, match=r"got 0 at index 1 \(an empty query\)"):
        loss.backward(t, s, group=[3, 0, t.size - 3])
    with pytest.raises(ValueError, match="one weight per query"):
        loss(t, s, np.ones(s.size), group=SIZES)
    with pytest.raises(ValueError, match="same"):
        loss(t[:-1], s, group=SIZES)
    with pytest.raises(TypeError, match="group must"):
        loss(t, s, group="sizes")
    with pytest.raises(NotImplementedError, match="GroupQuantile has no gradient_hessian"):
        loss.gradient_hessian(t, s, group=SIZES)
    with pytest.raises(ValueError, match="no Hessian"):
        fl.xgboost.objective(fl.GroupQuantile())
    # targets are any reals
    assert np.isfinite(loss(t - 100.0, s, group=SIZES))


def test_config_registry_and_docs():
    loss = fl.GroupQuantile(alpha=0.25, reduction="sum")
    again = fl.GroupQuantile.from_config(loss.get_config())
    assert again.get_config() == loss.get_config() and again.alpha == 0.25
    twin = pickle.loads(pickle.dumps(loss))
    assert twin.get_config() == loss.get_config()
    assert repr(fl.GroupQuantile(alpha=0.3)) == "GroupQuantile(alpha=0.3)"
    assert type(fl.get("group_quantile")) is fl.GroupQuantile
    assert type(fl.get("GroupQuantile")) is fl.GroupQuantile
    assert not fl.GroupQuantile.has_hessian
    assert "The targets are any reals." in fl.GroupQuantile.__doc__


def test_objective_trains_like_catboost_group_quantile():
    # XGBoost with fastloss's gradient and a constant Hessian against CatBoost's
    # own GroupQuantile (exact quantile leaves): the held-out GroupQuantile
    # metric of both
    xgb = pytest.importorskip("xgboost")
    cb = pytest.importorskip("catboost")
    from catboost.utils import eval_metric

    def data(seed):
        rng = np.random.default_rng(seed)
        sizes = rng.integers(3, 15, size=150)
        X = rng.normal(size=(sizes.sum(), 4))
        level = np.repeat(rng.normal(size=sizes.size) * 5, sizes)  # a query's own level
        y = level + X[:, 0] + np.sin(2 * X[:, 1]) + 0.3 * rng.standard_t(3, size=sizes.sum())
        return X, y.astype(np.float32).astype(np.float64), sizes

    X, y, sizes = data(0)
    Xt, yt, sizest = data(1)
    gidt = np.repeat(np.arange(sizest.size), sizest)
    loss = fl.GroupQuantile(reduction="sum")

    def objective(margin, dtrain):
        g = loss.backward(dtrain.get_label(), margin.astype(np.float64), group=sizes)
        return g, np.ones_like(g)

    ours = xgb.train({"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0, "base_score": 0.0},
                     xgb.DMatrix(X, label=y), num_boost_round=80, obj=objective)
    theirs = cb.CatBoost({"loss_function": "GroupQuantile:alpha=0.5", "iterations": 80,
                          "learning_rate": 0.3, "depth": 3, "thread_count": 1,
                          "random_seed": 0, "verbose": False, "allow_writing_files": False})
    theirs.fit(cb.Pool(X, y, group_id=np.repeat(np.arange(sizes.size), sizes)))
    metric = "GroupQuantile:alpha=0.5;delta=0"
    (start,) = eval_metric(yt, np.zeros(yt.size), metric, group_id=gidt)
    (ours_m,) = eval_metric(yt, ours.predict(xgb.DMatrix(Xt), output_margin=True).astype(
        np.float64), metric, group_id=gidt)
    (theirs_m,) = eval_metric(yt, theirs.predict(Xt, prediction_type="RawFormulaVal"), metric,
                              group_id=gidt)
    # the noise-free signal (a query's level drops out of the centred residuals)
    (oracle,) = eval_metric(yt, Xt[:, 0] + np.sin(2 * Xt[:, 1]), metric, group_id=gidt)
    print(f"GroupQuantile on held-out queries: start {start:.4f}, fastloss GroupQuantile in "
          f"XGBoost {ours_m:.4f}, CatBoost GroupQuantile {theirs_m:.4f}, the signal "
          f"{oracle:.4f}")
    # both learn; the exact centred gradient gets closer to the signal than CatBoost's
    # derivative, which omits the centring's term (CatBoost plateaus above it)
    assert theirs_m < 0.7 * start and ours_m < 0.7 * start
    assert ours_m <= theirs_m, (ours_m, theirs_m)
    assert ours_m < 1.25 * oracle, (ours_m, oracle)

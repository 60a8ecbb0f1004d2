"""CatBoost's multi-output regression objectives: MultiQuantile (one pinball loss
per prediction column, each at its quantile) against a float64 NumPy reference,
central differences and CatBoost's ``MultiQuantile`` metric; and
MultiRMSEWithMissingValues (NaN targets are missing) against CatBoost's metric
and a real CatBoost multi-output training with fastloss's objective reaching
CatBoost's own trees. The every-loss suites test MultiRMSEWithMissingValues on
complete targets (it is a declared elementwise loss)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastloss as fl

import reference
from support import rng_for

QUANTILES = [0.1, 0.5, 0.9]


def _eval_metric(*args, **kwargs):
    catboost_utils = pytest.importorskip("catboost.utils")
    return catboost_utils.eval_metric(*args, **kwargs)[0]


def multi_quantile_reference(t, p, quantiles):
    """Each row's mean over its columns of the pinball loss of column k at q_k,
    written from the formula in float64."""
    t = np.asarray(t, np.float64)
    p = np.asarray(p, np.float64)
    q = np.asarray(quantiles, np.float64)
    if t.shape != p.shape:
        t = t.reshape(*p.shape[:-1], 1)
    r = t - p
    per_element = np.where(r >= 0, q * r, (q - 1) * r)
    return per_element.mean(axis=-1)


def _draw(rng, n, k=3, dtype=np.float64):
    t = rng.normal(size=n)
    p = rng.normal(size=(n, k))
    return t.astype(dtype), p.astype(dtype)


# -- MultiQuantile ---------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("labels", ["flat", "column"])
def test_multi_quantile_is_catboosts_metric(weighted, labels):
    rng = rng_for("multi_quantile_catboost", weighted, labels)
    # CatBoost keeps labels and weights in float32: give it float32 values
    t = rng.normal(size=300).astype(np.float32).astype(np.float64)
    p = rng.normal(size=(300, 3))
    w = rng.uniform(0.3, 3, size=300).astype(np.float32).astype(np.float64) if weighted else None
    # delta=0: CatBoost's quantile metrics otherwise count errors below 1e-6 as 0
    want = _eval_metric(t, p, "MultiQuantile:alpha=0.1,0.5,0.9;delta=0", weight=w)
    y = t if labels == "flat" else t[:, None]
    loss = fl.MultiQuantile(QUANTILES, reduction="mean_with_sample_weight")
    np.testing.assert_allclose(loss(y, p, sample_weight=w), want, rtol=1e-7)
    if not weighted:
        np.testing.assert_allclose(fl.MultiQuantile(QUANTILES)(y, p), want, rtol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_multi_quantile_values_and_gradient_are_the_formulas(dtype, reduction):
    rng = rng_for("multi_quantile_values", np.dtype(dtype).name, reduction)
    quantiles = [0.05, 0.25, 0.5, 0.8]
    t, p = _draw(rng, 257, 4, dtype)
    w = rng.uniform(0.2, 2.0, size=257)
    loss = fl.MultiQuantile(quantiles, reduction=reduction)
    value, grad = loss.forward_backward(t, p, sample_weight=w)
    assert grad.dtype == dtype and grad.shape == p.shape
    per_sample = multi_quantile_reference(t, p, quantiles) * w
    want = {"none": per_sample, "sum": per_sample.sum(),
            "sum_over_batch_size": per_sample.sum() / 257}[reduction]
    tol = {"rtol": 2e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12,
                                                                      "atol": 1e-14}
    np.testing.assert_allclose(value, want, **tol)
    q = np.asarray(quantiles)
    under = t.astype(np.float64)[:, None] >= p.astype(np.float64)
    factor = {"none": 1.0, "sum": 1.0, "sum_over_batch_size": 1.0 / 257}[reduction]
    want_g = np.where(under, -q, 1 - q) / 4 * (w * factor)[:, None]
    np.testing.assert_allclose(grad, want_g, **tol)


def test_multi_quantile_gradient_is_central_differences():
    rng = rng_for("multi_quantile_fd")
    t = rng.normal(size=60)
    p = t[:, None] + rng.choice([-1.0, 1.0], size=(60, 3)) * rng.uniform(0.05, 1.5, (60, 3))
    w = rng.uniform(0.5, 2.0, size=60)
    loss = fl.MultiQuantile(QUANTILES)
    g = loss.backward(t, p, sample_weight=w)
    h = 1e-6
    fd = np.empty_like(p)
    for idx in np.ndindex(p.shape):
        up, down = p.copy(), p.copy()
        up[idx] += h
        down[idx] -= h
        fd[idx] = (loss(t, up, sample_weight=w) - loss(t, down, sample_weight=w)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-10)


def test_multi_quantile_target_layouts_agree_and_one_quantile_is_pinball():
    rng = rng_for("multi_quantile_layouts")
    t, p = _draw(rng, 50)
    loss = fl.MultiQuantile(QUANTILES, reduction="none")
    flat = loss.forward_backward(t, p)
    for y in (t[:, None], np.repeat(t[:, None], 3, axis=1)):
        other = loss.forward_backward(y, p)
        np.testing.assert_array_equal(other[0], flat[0])
        np.testing.assert_array_equal(other[1], flat[1])
    # leading batch axes: (2, 25, 3) predictions, (2, 25) targets
    v = loss(t.reshape(2, 25), p.reshape(2, 25, 3))
    np.testing.assert_array_equal(v, flat[0].reshape(2, 25))
    for q in (0.2, 0.7):
        one = fl.MultiQuantile([q], reduction="none").forward_backward(t, p[:, :1])
        pin = fl.Pinball(quantile=q, reduction="none").forward_backward(t[:, None], p[:, :1])
        np.testing.assert_allclose(one[0], pin[0], rtol=1e-15)
        np.testing.assert_allclose(one[1], pin[1], rtol=1e-15)


def test_multi_quantile_threads_are_bitwise_and_inputs_untouched():
    rng = rng_for("multi_quantile_threads")
    t, p = _draw(rng, 40_000, 5, np.float32)
    w = rng.uniform(0.1, 3.0, size=40_000)
    copies = (t.copy(), p.copy(), w.copy())
    loss = fl.MultiQuantile([0.1, 0.3, 0.5, 0.7, 0.9])
    with fl.num_threads(1):
        one = loss.forward_backward(t, p, sample_weight=w)
    with fl.num_threads(2):
        two = loss.forward_backward(t, p, sample_weight=w)
    assert one[0].tobytes() == two[0].tobytes()
    assert one[1].tobytes() == two[1].tobytes()
    for a, b in zip((t, p, w), copies):
        np.testing.assert_array_equal(a, b)


def test_multi_quantile_out_config_pickle_and_registry():
    rng = rng_for("multi_quantile_api")
    t, p = _draw(rng, 20)
    loss = fl.MultiQuantile(QUANTILES, reduction="sum")
    out = np.empty_like(p)
    value, got = loss.forward_backward(t, p, out=out)
    assert got is out
    np.testing.assert_array_equal(out, loss.backward(t, p))
    twin = fl.MultiQuantile.from_config(loss.get_config())
    assert twin.quantiles == (0.1, 0.5, 0.9) and twin.reduction == "sum"
    assert pickle.loads(pickle.dumps(loss))(t, p) == value
    assert isinstance(fl.get("multi_quantile"), fl.MultiQuantile)
    # an empty batch is 0 for a reduced loss, an empty gradient
    v, g = fl.MultiQuantile(QUANTILES).forward_backward(np.zeros(0), np.zeros((0, 3)))
    assert v == 0 and g.shape == (0, 3)


@pytest.mark.parametrize("quantiles, error, match", [
    ([0.1, 1.0], ValueError, r"quantiles must be in \(0, 1\), got 1.0 at index 1"),
    ([0.0], ValueError, r"quantiles must be in \(0, 1\), got 0.0 at index 0"),
    ([np.nan, 0.5], ValueError, r"quantiles must be in \(0, 1\), got nan at index 0"),
    ([], ValueError, "at least one quantile"),
    (0.5, TypeError, "quantiles must be a sequence"),
    ("0.5", TypeError, "quantiles must be a sequence"),
    ([[0.1, 0.2]], TypeError, "quantiles must be a sequence"),
])
def test_multi_quantile_refuses_bad_quantiles(quantiles, error, match):
    with pytest.raises(error, match=match):
        fl.MultiQuantile(quantiles)


def test_multi_quantile_refuses_bad_shapes_and_has_no_hessian():
    loss = fl.MultiQuantile(QUANTILES)
    with pytest.raises(ValueError, match=r"with 3 quantiles takes y_pred of shape \(\.\.\., 3\)"):
        loss(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"y_true of shape \(5,\) does not match y_pred"):
        loss(np.zeros(5), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 2\) does not match"):
        loss(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(TypeError):
        loss(np.array(["a", "b"]), np.zeros((2, 3)))
    with pytest.raises(NotImplementedError, match="piecewise linear"):
        loss.gradient_hessian(np.zeros(2), np.zeros((2, 3)))
    pytest.importorskip("catboost")
    with pytest.raises(ValueError, match="MultiQuantile cannot be a boosting objective"):
        fl.catboost.objective(loss, multi_target=True)


# -- MultiRMSEWithMissingValues ---------------------------------------------------------------


def _with_missing(rng, n, k, share=0.3):
    t = rng.normal(size=(n, k))
    p = rng.normal(size=(n, k))
    t[rng.uniform(size=(n, k)) < share] = np.nan
    t[3, :] = np.nan  # a sample with every target missing
    return t, p


@pytest.mark.parametrize("weighted", [False, True])
def test_missing_values_rmse_gives_catboosts_metric(weighted):
    """CatBoost's metric is sqrt(sum_k (sum over the present targets of column k of
    w (t - p)^2) / (their weight)): column k's sum is fastloss's "sum" on that
    column (half squared errors), its divisor the weight of its present targets."""
    rng = rng_for("multi_rmse_missing_metric", weighted)
    t, p = _with_missing(rng, 200, 3)
    t = t.astype(np.float32).astype(np.float64)
    w = rng.uniform(0.3, 3, size=200).astype(np.float32).astype(np.float64) if weighted else None
    want = _eval_metric(t, p, "MultiRMSEWithMissingValues", weight=w)
    loss = fl.MultiRMSEWithMissingValues(reduction="sum")
    ww = np.ones(200) if w is None else w
    total = 0.0
    for k in range(3):
        column = loss(t[:, k:k + 1], p[:, k:k + 1], sample_weight=w)
        total += 2 * column / ww[~np.isnan(t[:, k])].sum()
    np.testing.assert_allclose(np.sqrt(total), want, rtol=1e-7)


def test_missing_targets_add_nothing_and_get_no_derivatives():
    rng = rng_for("multi_rmse_missing_values")
    t, p = _with_missing(rng, 64, 4)
    p[5, :] = np.nan  # NaN predictions: NaN where the target is present, skipped where not
    t[5, 0] = np.nan
    loss = fl.MultiRMSEWithMissingValues(reduction="none")
    value, grad = loss.forward_backward(t, p)
    present = ~np.isnan(t)
    want = np.where(present, 0.5 * (p - np.where(present, t, 0)) ** 2, 0).mean(axis=1)
    rows = np.arange(64) != 5
    np.testing.assert_allclose(value[rows], want[rows], rtol=1e-13)
    np.testing.assert_allclose(value, reference.multi_rmse_with_missing_values(t, p).mean(1),
                               rtol=1e-13)
    assert np.isnan(value[5]) and value[3] == 0
    assert np.all(grad[~present] == 0)
    np.testing.assert_allclose(grad[present & rows[:, None]],
                               ((p - t) / 4)[present & rows[:, None]], rtol=1e-13)
    g, h = loss.gradient_hessian(t, p)
    assert np.all(g[~present] == 0) and np.all(h[~present] == 0)
    assert np.all(h[present] == 1)
    # complete targets: HalfSquaredError exactly
    full = np.nan_to_num(t)
    np.testing.assert_array_equal(
        fl.MultiRMSEWithMissingValues()(full, np.nan_to_num(p)),
        fl.HalfSquaredError()(full, np.nan_to_num(p)))


def _cb_data(rng, n=300):
    X = rng.normal(size=(n, 4))
    Y = np.stack([X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n),
                  np.sin(X[:, 2]) + 0.2 * rng.normal(size=n),
                  X[:, 3] * X[:, 0]], axis=1)
    return X, Y.astype(np.float32).astype(np.float64)


CB_PARAMS = dict(iterations=8, depth=3, learning_rate=0.3, random_seed=0, thread_count=1,
                 boost_from_average=False, leaf_estimation_iterations=1,
                 leaf_estimation_method="Newton", verbose=0, allow_writing_files=False)


# CatBoost tries to compile a Python objective with numba and warns that it cannot
CATBOOST_JIT = pytest.mark.filterwarnings("ignore:Can't optimze method")


@CATBOOST_JIT
@pytest.mark.parametrize("weighted", [False, True])
def test_catboost_trains_with_the_objective_as_with_its_own(weighted):
    """fastloss's gradient and Hessian as a multi-target objective grow CatBoost's
    own MultiRMSEWithMissingValues (and MultiRMSE) trees on complete targets."""
    cb = pytest.importorskip("catboost")
    rng = rng_for("multi_rmse_missing_catboost", weighted)
    X, Y = _cb_data(rng)
    w = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    obj = fl.catboost.objective(fl.MultiRMSEWithMissingValues(), multi_target=True)
    ours = cb.CatBoostRegressor(loss_function=obj, eval_metric="MultiRMSE", **CB_PARAMS)
    ours.fit(X, Y, sample_weight=w)
    for builtin in ("MultiRMSEWithMissingValues", "MultiRMSE"):
        theirs = cb.CatBoostRegressor(loss_function=builtin, **CB_PARAMS)
        theirs.fit(X, Y, sample_weight=w)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-6)
    assert repr(obj) == ("fastloss.catboost.objective(MultiRMSEWithMissingValues(), "
                         "multi_target=True)")
    again = pickle.loads(pickle.dumps(obj))
    assert isinstance(again, cb.MultiTargetCustomObjective)
    assert again.calc_ders_multi([0.5, 1.0, 0.0], [1.0, 1.0, 2.0], 2.0) == \
        obj.calc_ders_multi([0.5, 1.0, 0.0], [1.0, 1.0, 2.0], 2.0)


def test_catboost_objective_derivatives_skip_missing_targets():
    pytest.importorskip("catboost")
    obj = fl.catboost.objective(fl.MultiRMSEWithMissingValues(), multi_target=True)
    g, h = obj.calc_ders_multi([0.5, 1.0, 0.0], [1.5, np.nan, -2.0], 2.0)
    # CatBoost's signs: weight * (t - p) and -weight on the diagonal
    np.testing.assert_allclose(g, [2.0, 0.0, -4.0])
    np.testing.assert_allclose(h, np.diag([-2.0, 0.0, -2.0]))
    with pytest.raises(TypeError, match="multi_target must be a bool"):
        fl.catboost.objective(fl.MultiRMSEWithMissingValues(), multi_target="yes")


@CATBOOST_JIT
def test_catboost_refuses_nan_labels_with_a_user_objective():
    """Why the training test above uses complete targets: CatBoost itself refuses
    NaN labels with any user-defined objective; its own loss takes them."""
    cb = pytest.importorskip("catboost")
    rng = rng_for("multi_rmse_missing_catboost_nan")
    X, Y = _cb_data(rng, 60)
    Y[::7, 1] = np.nan
    obj = fl.catboost.objective(fl.MultiRMSEWithMissingValues(), multi_target=True)
    with pytest.raises(cb.CatBoostError, match="Unexpected Nan value"):
        cb.CatBoostRegressor(loss_function=obj, eval_metric="MultiRMSEWithMissingValues",
                             **CB_PARAMS).fit(X, Y)
    cb.CatBoostRegressor(loss_function="MultiRMSEWithMissingValues", **CB_PARAMS).fit(X, Y)


# -- GroupQuantile (what CatBoost reports; fastloss's GroupQuantile is tested in its own file)


def test_catboosts_group_quantile_metric_is_the_pinball_of_group_centred_residuals():
    """CatBoost's ``GroupQuantile`` metric centres each group's residuals r = t - s by
    their mean, then takes the pinball loss; the centred residuals of a group sum to
    0, so it is 1/2 mean |r - mean_q(r)| whatever alpha is (docs/semantics.md)."""
    rng = rng_for("catboost_group_quantile")
    n = 120
    t = rng.normal(size=n).astype(np.float32).astype(np.float64)
    s = rng.normal(size=n)
    group = np.sort(rng.integers(0, 9, size=n))
    r = t - s
    centred = r - np.array([r[group == g].mean() for g in group])
    want = 0.5 * np.abs(centred).mean()
    for alpha in (0.2, 0.5, 0.9):
        got = _eval_metric(t, s, f"GroupQuantile:alpha={alpha};delta=0", group_id=group)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        pin = fl.Pinball(quantile=alpha)(t[:, None], (t - centred)[:, None])
        np.testing.assert_allclose(pin, want, rtol=1e-12)
        sizes = np.unique(group, return_counts=True)[1]
        ours = fl.GroupQuantile(alpha=alpha, reduction="sum")(t, s, group=sizes)
        np.testing.assert_allclose(ours / n, want, rtol=1e-12)


@pytest.mark.parametrize("method", ["Newton", "Gradient"])
def test_catboosts_log_cosh_objective_has_these_derivatives(method):
    """CatBoost's LogCosh metric takes a fast single-precision log (about 1e-4
    relative, docs/semantics.md), but its training derivatives are LogCosh's: one tree
    from raw score 0 without regularisation has the leaves -sum(g) / sum(h) (Newton)
    and -mean(g) (Gradient) of fastloss's gradient and Hessian over each leaf's rows."""
    cb = pytest.importorskip("catboost")
    rng = rng_for("catboost_log_cosh_objective", method)
    n = 400
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n)).astype(np.float32).astype(np.float64)
    model = cb.CatBoostRegressor(loss_function="LogCosh", iterations=1, depth=2,
                                 learning_rate=1.0, boost_from_average=False,
                                 leaf_estimation_iterations=1, leaf_estimation_method=method,
                                 l2_leaf_reg=0, random_seed=0, thread_count=1, verbose=0,
                                 allow_writing_files=False)
    model.fit(X, y)
    raw = model.predict(X, prediction_type="RawFormulaVal")
    leaf = model.calc_leaf_indexes(X)[:, 0]
    g, h = fl.LogCosh(reduction="sum").gradient_hessian(y[:, None], np.zeros((n, 1)))
    ours = np.empty(n)
    for k in np.unique(leaf):
        rows = leaf == k
        step = g[rows, 0].sum() / (h[rows, 0].sum() if method == "Newton" else rows.sum())
        ours[rows] = -step
    assert len(np.unique(leaf)) >= 3 and np.ptp(ours) > 0.3  # a tree that splits
    np.testing.assert_allclose(raw, ours, rtol=1e-12, atol=1e-12)

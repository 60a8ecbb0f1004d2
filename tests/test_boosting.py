"""fastloss losses as boosting objectives, in real trainings: XGBoost, LightGBM and
CatBoost started from the same margin reach the same raw predictions with the
fastloss objective as with their built-in objective; where a built-in uses
another Hessian (XGBoost's and LightGBM's softmax), a float64 NumPy objective
written from the formula is the reference. Sample weights, the scikit-learn
estimators, metrics, pickling and a Dask cluster of process workers too."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import fastloss as fl

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

ROUNDS = 20


def _data(kind: str, n: int = 1500, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    f = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    if kind == "binary":
        y = (f + rng.normal(size=n) > 0).astype(np.float64)
    elif kind == "count":
        y = rng.poisson(np.exp(0.5 * f)).astype(np.float64)
    elif kind == "positive":
        y = rng.gamma(2.0, np.exp(0.4 * f) / 2.0)
    elif kind == "tweedie":
        y = np.where(rng.uniform(size=n) < 0.4, 0.0, rng.gamma(2.0, np.exp(0.4 * f)))
    elif kind == "survival":  # XGBoost's signed times: negative = right-censored
        times = rng.exponential(np.exp(-0.5 * f))
        y = np.where(rng.uniform(size=n) < 0.3, -times, times)
    elif kind == "multiclass":
        y = np.digitize(f + 0.5 * rng.normal(size=n), [-1.0, 0.0, 1.0]).astype(np.float64)
    else:
        y = 2 * f + rng.normal(size=n)
    w = rng.uniform(0.3, 3.0, size=n)
    return X, y, w


def _softmax_objective(labels, scores, weight):
    """Softmax cross-entropy, float64 NumPy: gradient p - onehot, the exact
    diagonal Hessian p(1 - p), times the row weights."""
    z = scores.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(z.shape[1])[labels.astype(int)]
    w = np.ones(len(z)) if weight is None or np.size(weight) == 0 else weight
    return (p - onehot) * w[:, None], p * (1 - p) * w[:, None]


# -- XGBoost ---------------------------------------------------------------------------

XGB_PARAMS = {"tree_method": "hist", "max_depth": 3, "eta": 0.3, "seed": 0, "nthread": 1}

# XGBoost's count:poisson adds max_delta_step (default 0.7) to the Hessian's
# exponent as a safeguard; 0 makes it the exact Hessian exp(z)
XGB_BUILTINS = [
    ("reg:squarederror", {}, "regression", fl.HalfSquaredError()),
    ("binary:logistic", {}, "binary", fl.BinaryCrossentropy(from_logits=True)),
    # the same objective under XGBoost's other names (they differ in what predict returns)
    ("reg:logistic", {}, "binary", fl.BinaryCrossentropy(from_logits=True)),
    ("binary:logitraw", {}, "binary", fl.BinaryCrossentropy(from_logits=True)),
    ("reg:pseudohubererror", {"huber_slope": 1.0}, "regression", fl.PseudoHuber(delta=1.0)),
    ("reg:pseudohubererror", {"huber_slope": 2.5}, "regression", fl.PseudoHuber(delta=2.5)),
    ("count:poisson", {"max_delta_step": 0.0}, "count", fl.Poisson(log_input=True)),
    ("reg:gamma", {}, "positive", fl.Gamma(log_input=True)),
    ("reg:tweedie", {"tweedie_variance_power": 1.5}, "tweedie", fl.Tweedie(1.5, log_input=True)),
    ("reg:tweedie", {"tweedie_variance_power": 1.2}, "tweedie", fl.Tweedie(1.2, log_input=True)),
]


def _xgb_margins(params, dtrain, obj=None):
    booster = xgb.train({**XGB_PARAMS, **params}, dtrain, ROUNDS, obj=obj)
    return booster.predict(dtrain, output_margin=True)


@pytest.mark.parametrize("builtin, extra, kind, loss", XGB_BUILTINS,
                         ids=[f"{b[0]}-{b[3]!r}" for b in XGB_BUILTINS])
@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_objective_reproduces_the_builtin(builtin, extra, kind, loss, weighted):
    X, y, w = _data(kind)
    # base_margin fixes the starting margin of both trainings (XGBoost would
    # otherwise estimate an intercept for its built-in objective only)
    d = xgb.DMatrix(X, label=y, base_margin=np.zeros(len(y)), weight=w if weighted else None)
    want = _xgb_margins({"objective": builtin, **extra}, d)
    got = _xgb_margins({}, d, obj=fl.xgboost.objective(loss))
    assert np.abs(want).max() > 0.5  # the models learned something
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _cox_objective(times, scores, weight):
    """Breslow's Cox derivatives from the definition, float64 NumPy: the
    weights multiply each sample's loss (fastloss's rule)."""
    order = np.argsort(np.abs(times), kind="stable")
    t, z = np.abs(times)[order], scores.astype(np.float64)[order]
    c = (np.ones(len(t)) if weight is None or np.size(weight) == 0 else weight[order])
    event = times[order] > 0
    ez = np.exp(z)
    risk = np.cumsum(ez[::-1])[::-1]  # no ties: the risk set of k is k..n
    a = np.cumsum(np.where(event, c / risk, 0.0))
    b = np.cumsum(np.where(event, c / risk**2, 0.0))
    grad, hess = np.empty(len(t)), np.empty(len(t))
    grad[order] = ez * a - np.where(event, c, 0.0)
    hess[order] = ez * a - ez**2 * b
    return grad, hess


@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_cox_objective(weighted):
    """Unweighted, fastloss's Cox objective reproduces survival:cox (the times
    are continuous, so no two tie). Weighted, XGBoost multiplies each gradient
    by its weight while fastloss weights each sample's loss: the reference is
    then a float64 NumPy objective of the weighted likelihood."""
    X, y, w = _data("survival")
    d = xgb.DMatrix(X, label=y, base_margin=np.zeros(len(y)), weight=w if weighted else None)
    got = _xgb_margins({}, d, obj=fl.xgboost.objective(fl.CoxPH()))
    if weighted:
        def numpy_obj(predt, dtrain):
            return _cox_objective(dtrain.get_label(), predt, dtrain.get_weight())
        want = _xgb_margins({}, d, obj=numpy_obj)
    else:
        want = _xgb_margins({"objective": "survival:cox"}, d)
    assert np.abs(want).max() > 0.5
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_xgboost_multiclass_matches_a_float64_softmax_objective():
    """XGBoost's multi:softprob uses the Hessian bound 2p(1-p); fastloss gives the
    exact diagonal p(1-p), so the reference is that objective in NumPy."""
    X, y, w = _data("multiclass")
    d = xgb.DMatrix(X, label=y, weight=w, base_margin=np.zeros((len(y), 4)))
    params = {"num_class": 4, "disable_default_eval_metric": 1}

    def numpy_obj(predt, dtrain):
        return _softmax_objective(dtrain.get_label(), predt, dtrain.get_weight())

    want = _xgb_margins(params, d, obj=numpy_obj)
    got = _xgb_margins(params, d, obj=fl.xgboost.objective(
        fl.SparseCategoricalCrossentropy(from_logits=True)))
    assert got.shape == (len(y), 4)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_xgboost_sklearn_objective_and_metric():
    X, y, w = _data("binary")
    loss = fl.BinaryCrossentropy(from_logits=True)
    kw = {"n_estimators": ROUNDS, "max_depth": 3, "learning_rate": 0.3, "tree_method": "hist",
          "random_state": 0, "n_jobs": 1, "base_score": 0.5}
    builtin = xgb.XGBClassifier(objective="binary:logistic", **kw).fit(X, y, sample_weight=w)
    ours = xgb.XGBRegressor(objective=fl.xgboost.sklearn_objective(loss),
                            **{**kw, "base_score": 0.0}).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X, output_margin=True),
                               builtin.predict(X, output_margin=True), rtol=1e-5, atol=1e-5)
    # the metric is XGBoost's weighted logloss over the margins
    d = xgb.DMatrix(X, label=y, weight=w)
    margins = builtin.predict(X, output_margin=True)
    name, value = fl.xgboost.metric(loss)(margins, d)
    p = 1 / (1 + np.exp(-margins.astype(np.float64)))
    want = np.average(-(y * np.log(p) + (1 - y) * np.log(1 - p)), weights=w)
    assert name == loss.name
    np.testing.assert_allclose(value, want, rtol=1e-5)


@pytest.mark.parametrize("make", [fl.xgboost.sklearn_objective, fl.lightgbm.sklearn_objective])
def test_objective_buffers_are_reused_only_when_nobody_holds_them(make):
    """The objective reuses its output arrays from round to round (a fresh array
    costs as much as the kernel), but never one the caller still holds."""
    obj = make(fl.BinaryCrossentropy(from_logits=True))
    rng = np.random.default_rng(3)
    y = (rng.uniform(size=1000) < 0.5).astype(np.float64)
    z1, z2 = rng.normal(size=1000), rng.normal(size=1000)
    args = (y, z1) if make is fl.xgboost.sklearn_objective else (y, z1, None)
    g1, h1 = obj(*args)
    kept = g1.copy(), h1.copy()
    g2, h2 = obj(*((y, z2) + args[2:]))  # g1, h1 still held: new arrays
    assert not np.shares_memory(g1, g2) and not np.shares_memory(h1, h2)
    np.testing.assert_array_equal(g1, kept[0])
    np.testing.assert_array_equal(h1, kept[1])
    address = g2.__array_interface__["data"][0]
    del g1, h1, g2, h2
    g3, _ = obj(*((y, z2) + args[2:]))  # nothing held: the buffer again, refilled
    assert g3.__array_interface__["data"][0] == address
    want, _ = fl.BinaryCrossentropy(from_logits=True).gradient_hessian(y, z2)
    np.testing.assert_array_equal(g3, want)
    assert "_buffers" not in pickle.loads(pickle.dumps(obj)).__dict__


def test_objectives_pickle_and_keep_working():
    X, y, w = _data("regression")
    d = xgb.DMatrix(X, label=y, base_margin=np.zeros(len(y)))
    obj = fl.xgboost.objective(fl.PseudoHuber(delta=1.5))
    twin = pickle.loads(pickle.dumps(obj))
    np.testing.assert_array_equal(_xgb_margins({}, d, obj=twin), _xgb_margins({}, d, obj=obj))
    for made in (fl.xgboost.sklearn_objective(fl.HalfSquaredError()),
                 fl.xgboost.metric(fl.HalfSquaredError()),
                 fl.lightgbm.objective(fl.HalfSquaredError()),
                 fl.lightgbm.sklearn_objective(fl.HalfSquaredError()),
                 fl.lightgbm.metric(fl.HalfSquaredError())):
        assert repr(pickle.loads(pickle.dumps(made))) == repr(made)


@pytest.mark.parametrize("adapter", ["xgboost", "lightgbm", "catboost"])
@pytest.mark.parametrize("loss", [fl.MeanAbsoluteError(), fl.Hinge(), fl.Pinball()])
def test_a_loss_without_a_hessian_is_refused_with_the_reason(adapter, loss):
    pytest.importorskip(adapter)
    with pytest.raises(ValueError, match=f"{type(loss).__name__} cannot be a boosting "
                                         "objective, it has no Hessian"):
        getattr(fl, adapter).objective(loss)


@pytest.mark.parametrize("adapter", ["xgboost", "lightgbm"])
def test_dense_class_axis_losses_point_to_the_sparse_one(adapter):
    with pytest.raises(ValueError, match="SparseCategoricalCrossentropy"):
        getattr(fl, adapter).objective(fl.CategoricalCrossentropy(from_logits=True))


def test_multiclass_labels_must_be_class_ids():
    obj = fl.xgboost.sklearn_objective(fl.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="class ids"):
        obj(np.array([0.0, 1.5]), np.zeros((2, 3)))


# -- LightGBM --------------------------------------------------------------------------

LGB_PARAMS = {"num_leaves": 8, "learning_rate": 0.3, "min_data_in_leaf": 5, "verbose": -1,
              "seed": 0, "num_threads": 1, "deterministic": True, "boost_from_average": False,
              "force_row_wise": True}

# LightGBM's poisson adds poisson_max_delta_step (default 0.7, must be > 0) to
# the Hessian's exponent; 1e-12 makes it exp(z) to twelve digits
LGB_BUILTINS = [
    ("regression", {}, "regression", fl.HalfSquaredError()),
    ("binary", {}, "binary", fl.BinaryCrossentropy(from_logits=True)),
    ("poisson", {"poisson_max_delta_step": 1e-12}, "count", fl.Poisson(log_input=True)),
    ("gamma", {}, "positive", fl.Gamma(log_input=True)),
    ("tweedie", {"tweedie_variance_power": 1.5}, "tweedie", fl.Tweedie(1.5, log_input=True)),
    ("fair", {"fair_c": 1.0}, "regression", fl.Fair(c=1.0)),
    ("fair", {"fair_c": 0.5}, "regression", fl.Fair(c=0.5)),
]


def _lgb_margins(params, X, y, w=None, init=None):
    ds = lgb.Dataset(X, label=y, weight=w, init_score=init, free_raw_data=False)
    booster = lgb.train({**LGB_PARAMS, **params}, ds, ROUNDS)
    return booster.predict(X, raw_score=True)


@pytest.mark.parametrize("builtin, extra, kind, loss", LGB_BUILTINS,
                         ids=[f"{b[0]}-{b[3]!r}" for b in LGB_BUILTINS])
@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_objective_reproduces_the_builtin(builtin, extra, kind, loss, weighted):
    X, y, w = _data(kind)
    w = w if weighted else None
    want = _lgb_margins({"objective": builtin, **extra}, X, y, w)
    got = _lgb_margins({"objective": fl.lightgbm.objective(loss)}, X, y, w)
    assert np.abs(want).max() > 0.5
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_lightgbm_multiclass_matches_a_float64_softmax_objective():
    """LightGBM's multiclass scales its Hessian by k / (k - 1); the reference is
    the exact softmax objective in NumPy."""
    X, y, w = _data("multiclass")

    def numpy_obj(preds, data):
        return _softmax_objective(data.get_label(), preds, data.get_weight())

    params = {"num_class": 4}
    want = _lgb_margins({**params, "objective": numpy_obj}, X, y, w)
    got = _lgb_margins({**params, "objective": fl.lightgbm.objective(
        fl.SparseCategoricalCrossentropy(from_logits=True))}, X, y, w)
    assert got.shape == (len(y), 4)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_lightgbm_sklearn_objective_and_metric():
    X, y, w = _data("regression")
    kw = {"n_estimators": ROUNDS, "num_leaves": 8, "learning_rate": 0.3, "min_child_samples": 5,
          "random_state": 0, "n_jobs": 1, "verbose": -1, "deterministic": True,
          "boost_from_average": False, "force_row_wise": True}
    builtin = lgb.LGBMRegressor(objective="regression", **kw).fit(X, y, sample_weight=w)
    loss = fl.HalfSquaredError()
    ours = lgb.LGBMRegressor(objective=fl.lightgbm.sklearn_objective(loss), **kw)
    ours.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X, raw_score=True),
                               builtin.predict(X, raw_score=True), rtol=1e-5, atol=1e-5)
    ds = lgb.Dataset(X, label=y, weight=w).construct()
    pred = builtin.predict(X, raw_score=True)
    name, value, higher = fl.lightgbm.metric(loss)(pred, ds)
    assert (name, higher) == (loss.name, False)
    labels, weights = ds.get_label(), ds.get_weight()  # LightGBM keeps them in float32
    np.testing.assert_allclose(value, np.average(0.5 * (pred - labels) ** 2, weights=weights),
                               rtol=1e-12)


# -- CatBoost --------------------------------------------------------------------------


# CatBoost tries to compile Python objectives with numba and warns that it cannot
# compile a method that uses self; the method then runs as Python (one vectorised
# kernel call per batch of objects)
@pytest.mark.filterwarnings("ignore:Can't optimze method")
@pytest.mark.parametrize("builtin, kind, loss", [
    ("RMSE", "regression", fl.HalfSquaredError()),
    ("Logloss", "binary", fl.BinaryCrossentropy(from_logits=True)),
])
def test_catboost_objective_reproduces_the_builtin(builtin, kind, loss):
    cb = pytest.importorskip("catboost")
    X, y, w = _data(kind, n=600)
    kw = {"iterations": ROUNDS, "depth": 3, "learning_rate": 0.3, "random_seed": 0,
          "thread_count": 1, "verbose": False, "boost_from_average": False,
          "leaf_estimation_method": "Newton", "leaf_estimation_iterations": 1,
          "bootstrap_type": "No", "random_strength": 0, "allow_writing_files": False}
    Model = cb.CatBoostClassifier if kind == "binary" else cb.CatBoostRegressor
    want = Model(loss_function=builtin, **kw).fit(X, y, sample_weight=w)
    got = Model(loss_function=fl.catboost.objective(loss), eval_metric=builtin, **kw)
    got.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(got.predict(X, prediction_type="RawFormulaVal"),
                               want.predict(X, prediction_type="RawFormulaVal"),
                               rtol=1e-5, atol=1e-5)


# -- Dask ------------------------------------------------------------------------------


def test_xgboost_dask_on_process_workers_gives_the_single_process_result():
    distributed = pytest.importorskip("distributed")
    da = pytest.importorskip("dask.array")
    xgb_dask = pytest.importorskip("xgboost.dask")
    X, y, w = _data("binary", n=1200)
    loss = fl.BinaryCrossentropy(from_logits=True)
    params = {**XGB_PARAMS, "nthread": 1}
    d = xgb.DMatrix(X, label=y, weight=w, base_margin=np.zeros(len(y)))
    want = xgb.train(params, d, ROUNDS, obj=fl.xgboost.objective(loss)).predict(
        d, output_margin=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        dX, dy, dw = (da.from_array(a, chunks=600) for a in (X, y, w))
        dtrain = xgb_dask.DaskDMatrix(client, dX, dy, weight=dw,
                                      base_margin=da.zeros(len(y), chunks=600))
        out = xgb_dask.train(client, params, dtrain, ROUNDS, obj=fl.xgboost.objective(loss))
        got = xgb_dask.predict(client, out["booster"], dtrain, output_margin=True).compute()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_lightgbm_dask_runs_the_objective_on_a_process_worker():
    """DaskLGBMRegressor pickles the objective to a worker process, which calls
    it on its blocks, and trains the single-process model. One worker: with
    two, LightGBM's data-parallel learner bins each worker's rows separately
    and which worker gets which rank (and rows) changes from run to run, so
    neither the built-in nor a custom objective gives the same model twice
    there (seen with LightGBM 4.7)."""
    distributed = pytest.importorskip("distributed")
    da = pytest.importorskip("dask.array")
    X, y, w = _data("count", n=1200)
    params = {k: v for k, v in LGB_PARAMS.items() if k not in ("verbose", "num_threads")}
    params.update(n_estimators=ROUNDS, verbose=-1)
    objective = fl.lightgbm.sklearn_objective(fl.Poisson(log_input=True))
    want = lgb.LGBMRegressor(objective=objective, **params).fit(X, y, sample_weight=w).predict(
        X, raw_score=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        dX, dy, dw = (da.from_array(a, chunks=(400,) + a.shape[1:]) for a in (X, y, w))
        model = lgb.DaskLGBMRegressor(objective=objective, client=client, **params)
        with warnings.catch_warnings():
            # lightgbm.dask sets each worker's threads itself and says it
            # ignores the estimator's own n_jobs (which defaults to None)
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored", UserWarning)
            model.fit(dX, dy, sample_weight=dw)
        got = model.predict(dX, raw_score=True).compute()
    assert np.abs(want).max() > 0.5
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm", "catboost"])
def test_a_missing_library_names_the_extra_and_fastloss_never_imports_it(library):
    import subprocess
    import sys

    code = (f"import sys; sys.modules[{library!r}] = None\n"
            "import fastloss as fl\n"
            f"try:\n    fl.{library}.objective(fl.HalfSquaredError())\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"fastloss.{library} needs {library}" in out.stdout
    assert "pip install 'fastloss[boosting]'" in out.stdout
    plain = subprocess.run([sys.executable, "-c", "import sys, fastloss as fl; "
                            "fl.xgboost, fl.lightgbm, fl.catboost; "
                            "print(sorted({'xgboost', 'lightgbm', 'catboost', 'dask', 'torch', "
                            "'jax'} & set(sys.modules)))"],
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "[]"

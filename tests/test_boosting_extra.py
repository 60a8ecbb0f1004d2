"""Boosting trainings with the objectives of this family's losses reaching the
built-in objectives' raw predictions: CatBoost's ``Lq`` (Newton leaves for
q >= 2, gradient leaves below, as CatBoost itself) and ``Focal`` (whose Hessian is
the exact one: Newton leaves agree too), and LightGBM's ``cross_entropy_lambda``,
with and without weights."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

ROUNDS = 20


def _data(kind: str, n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    f = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    if kind == "binary":
        y = (f + rng.normal(size=n) > 0).astype(np.float64)
    elif kind == "fraction":
        y = 1 / (1 + np.exp(-(f + 0.5 * rng.normal(size=n))))
    else:
        y = 2 * f + rng.normal(size=n)
    w = rng.uniform(0.3, 3.0, size=n)
    return X, y, w


CB_KW = {"iterations": ROUNDS, "depth": 3, "learning_rate": 0.3, "random_seed": 0,
         "thread_count": 1, "verbose": False, "boost_from_average": False,
         "leaf_estimation_iterations": 1, "bootstrap_type": "No", "random_strength": 0,
         "allow_writing_files": False}


# CatBoost tries to compile Python objectives with numba and warns that it cannot
# compile a method that uses self; the method then runs as Python
@pytest.mark.filterwarnings("ignore:Can't optimze method")
@pytest.mark.parametrize("builtin, method, kind, loss", [
    ("Lq:q=3", "Newton", "regression", fl.Lq(q=3.0)),
    ("Lq:q=2.5", "Newton", "regression", fl.Lq(q=2.5)),
    ("Lq:q=1.5", "Gradient", "regression", fl.Lq(q=1.5)),
    ("Focal:focal_alpha=0.3;focal_gamma=2", "Gradient", "binary",
     fl.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=2.0,
                                from_logits=True)),
    ("Focal:focal_alpha=0.7;focal_gamma=1.5", "Newton", "binary",
     fl.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.7, gamma=1.5,
                                from_logits=True)),
], ids=["lq3-newton", "lq2.5-newton", "lq1.5-gradient", "focal-gradient", "focal-newton"])
@pytest.mark.parametrize("weighted", [False, True])
def test_catboost_objective_reproduces_the_builtin(builtin, method, kind, loss, weighted):
    cb = pytest.importorskip("catboost")
    X, y, w = _data(kind)
    w = w if weighted else None
    kw = {**CB_KW, "leaf_estimation_method": method}
    Model = cb.CatBoostClassifier if kind == "binary" else cb.CatBoostRegressor
    want = Model(loss_function=builtin, **kw).fit(X, y, sample_weight=w)
    got = Model(loss_function=fl.catboost.objective(loss), eval_metric=builtin, **kw)
    got.fit(X, y, sample_weight=w)
    raw_want = want.predict(X, prediction_type="RawFormulaVal")
    assert np.abs(raw_want).max() > 0.3
    np.testing.assert_allclose(got.predict(X, prediction_type="RawFormulaVal"), raw_want,
                               rtol=1e-5, atol=1e-5)


LGB_PARAMS = {"num_leaves": 8, "learning_rate": 0.3, "min_data_in_leaf": 5, "verbose": -1,
              "seed": 0, "num_threads": 1, "deterministic": True, "boost_from_average": False,
              "force_row_wise": True}


@pytest.mark.parametrize("kind", ["binary", "fraction"])
def test_lightgbm_cross_entropy_lambda_without_weights_is_the_logistic_loss(kind):
    """Without weights LightGBM's ``cross_entropy_lambda`` is the cross-entropy of
    sigmoid(score) for labels in [0, 1]: ``BinaryCrossentropy(from_logits=True)``
    reaches its raw predictions."""
    lgb = pytest.importorskip("lightgbm")
    X, y, _ = _data(kind, n=1500)
    ds = lgb.Dataset(X, label=y, free_raw_data=False)
    want = lgb.train({**LGB_PARAMS, "objective": "cross_entropy_lambda"}, ds, ROUNDS)
    loss = fl.BinaryCrossentropy(from_logits=True)
    got = lgb.train({**LGB_PARAMS, "objective": fl.lightgbm.objective(loss)},
                    lgb.Dataset(X, label=y, free_raw_data=False), ROUNDS)
    raw_want = want.predict(X, raw_score=True)
    assert np.abs(raw_want).max() > 0.5
    np.testing.assert_allclose(got.predict(X, raw_score=True), raw_want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["binary", "fraction"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_crossentropy_lambda_reproduces_the_builtin(kind, weighted):
    """``CrossentropyLambda`` takes the Dataset's weights into its link (the
    adapter hands them to the loss, which does not multiply by them), so it
    reaches ``cross_entropy_lambda``'s raw predictions with weights too; its
    metric is LightGBM's ``cross_entropy_lambda`` metric."""
    lgb = pytest.importorskip("lightgbm")
    X, y, w = _data(kind, n=1500)
    w = w if weighted else None
    evals: dict = {}
    ds = lgb.Dataset(X, label=y, weight=w, free_raw_data=False)
    want = lgb.train({**LGB_PARAMS, "objective": "cross_entropy_lambda",
                      "metric": "cross_entropy_lambda"}, ds, ROUNDS,
                     valid_sets=[ds], valid_names=["train"],
                     callbacks=[lgb.record_evaluation(evals)])
    loss = fl.CrossentropyLambda()
    got = lgb.train({**LGB_PARAMS, "objective": fl.lightgbm.objective(loss)},
                    lgb.Dataset(X, label=y, weight=w, free_raw_data=False), ROUNDS)
    raw_want = want.predict(X, raw_score=True)
    assert np.abs(raw_want).max() > 0.5
    np.testing.assert_allclose(got.predict(X, raw_score=True), raw_want, rtol=1e-5, atol=1e-5)
    constructed = lgb.Dataset(X, label=y, weight=w).construct()
    name, value, higher = fl.lightgbm.metric(loss)(raw_want, constructed)
    assert (name, higher) == ("crossentropy_lambda", False)
    np.testing.assert_allclose(value, evals["train"]["cross_entropy_lambda"][-1], rtol=1e-6)
    if weighted:  # the weights change the model: they are not a no-op
        unweighted = lgb.train({**LGB_PARAMS, "objective": "cross_entropy_lambda"},
                               lgb.Dataset(X, label=y, free_raw_data=False), ROUNDS)
        assert np.abs(unweighted.predict(X, raw_score=True) - raw_want).max() > 1e-2

"""The peers' other names of fastloss's losses, each checked against the peer's
own function: optax's ``safe_softmax_cross_entropy`` (with -inf logits), and
scikit-learn's ``AbsoluteError``. (XGBoost's ``reg:logistic`` and
``binary:logitraw`` are trained in ``test_boosting.py``.)"""

from __future__ import annotations

import numpy as np
import pytest

import fastloss as fl

pytestmark = pytest.mark.peer


def test_optax_safe_softmax_cross_entropy_is_categorical_crossentropy_from_logits():
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 5))
    t = rng.dirichlet(np.ones(5), size=6)
    z[0, 1] = -np.inf  # a class the model rules out, with no target mass on it
    t[0] = [0.5, 0.0, 0.25, 0.25, 0.0]
    want = np.asarray(optax.losses.safe_softmax_cross_entropy(jnp.asarray(z), jnp.asarray(t)))
    got = fl.CategoricalCrossentropy(from_logits=True, reduction="none")(t, z)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-5)  # optax computes in float32


def test_sklearn_absolute_error_is_mean_absolute_error():
    loss_mod = pytest.importorskip("sklearn._loss.loss")
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=(2, 40))
    want = loss_mod.AbsoluteError().loss(y_true=y, raw_prediction=p)
    got = fl.MeanAbsoluteError(reduction="none")(y[:, None], p[:, None])
    np.testing.assert_allclose(got, want, rtol=1e-15)

"""optax's multiclass hinge, generalized KL divergence and cosine distance, and
PyTorch's triplet margin loss under a named distance, against their peers:
optax (values and jax.grad), scikit-learn's multi-class hinge_loss and PyTorch's
triplet_margin_with_distance_loss with the matching distance callable (values
and the three autograd gradients). Then what the declared test families of
tests/test_classaxis.py do not reach: parameters other than the defaults,
their Hessians by central differences away from the kinks, thread counts, the
relations between the losses, and the errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastloss as fl

import reference_classaxis as ref
from support import keras_reduce, rng_for

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]
TORCH_REDUCTION = {"sum_over_batch_size": "mean", "sum": "sum", "none": "none"}


def _optax():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    return jax, optax


def _jax_value_grad(fn, x, *args):
    """optax's per-sample values at float64 inputs (jax's default float32 turned
    up where x64 is off) and jax.grad of their sum."""
    jax, _ = _optax()
    jnp = jax.numpy
    xj = jnp.asarray(x)
    values = np.asarray(fn(xj, *args))
    grad = np.asarray(jax.grad(lambda s: jnp.sum(fn(s, *args)))(xj))
    return values, grad


def _central(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _hessian_diagonal(grad, x, h=1e-5):
    """d(grad_k)/d(x_k) by central differences of the gradient."""
    diag = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = h
        diag[i] = (grad(x + e)[i] - grad(x - e)[i]) / (2 * h)
    return diag


# --- MulticlassHinge -----------------------------------------------------------------


def _hinge_gap(y, x, margin):
    """Distance of each row to the hinge's kinks: the gap between the two largest
    shifted scores x_c + margin [c != y] (a tie there moves the gradient)."""
    s = np.sort(x + margin * (np.arange(x.shape[-1]) != y[:, None]), axis=-1)
    return s[:, -1] - s[:, -2]


@pytest.mark.peer
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multiclass_hinge_matches_optax(dtype):
    jax, optax = _optax()
    rng = rng_for("hinge-optax", dtype)
    x = rng.normal(size=(64, 6)).astype(dtype)
    x[:8] *= 5.0  # rows whose label leads by more than the margin: loss 0
    y = rng.integers(0, 6, size=64)
    y[:8] = np.argmax(x[:8], axis=1)
    want, want_g = _jax_value_grad(optax.losses.multiclass_hinge_loss, x, y)
    got = fl.MulticlassHinge(reduction="none")(y, x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert np.any(got == 0) and np.all(got >= 0)
    v, g = fl.MulticlassHinge(reduction="sum").forward_backward(y, x)
    assert v == pytest.approx(float(want.sum()), rel=1e-6)
    # no ties among the draws: jax's gradient is the same +1 / -1 pattern
    assert np.all(_hinge_gap(y, x.astype(np.float64), 1.0) > 1e-4)
    np.testing.assert_array_equal(g, want_g)


@pytest.mark.peer
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
def test_multiclass_hinge_mean_is_sklearn_hinge_loss(weighted):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = rng_for("hinge-sklearn", weighted)
    x = rng.normal(size=(50, 4))
    y = rng.integers(0, 4, size=50)
    w = rng.uniform(0.2, 2.0, size=50) if weighted else None
    want = metrics.hinge_loss(y, x, labels=np.arange(4), sample_weight=w)
    # scikit-learn's metric is the (weighted) average: Σ w l / Σ w
    got = fl.MulticlassHinge(reduction="mean_with_sample_weight")(y, x, w)
    assert got == pytest.approx(want, rel=1e-12)
    if not weighted:
        assert fl.MulticlassHinge()(y, x) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("margin", [1.0, 0.5, 2.5])
def test_multiclass_hinge_gradient_by_central_differences_off_the_kinks(margin):
    rng = rng_for("hinge-cd", margin)
    x = rng.normal(size=(40, 5))
    y = rng.integers(0, 5, size=40)
    keep = _hinge_gap(y, x, margin) > 1e-4  # the step is 1e-6: far from every kink
    x, y = x[keep], y[keep]
    assert len(y) > 30
    loss = fl.MulticlassHinge(margin, reduction="sum")
    g = loss.backward(y, x)
    np.testing.assert_allclose(
        g, _central(lambda z: ref.multiclass_hinge_loss(y, z, margin=margin).sum(), x),
        rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fl.MulticlassHinge(margin, reduction="none")(y, x),
                               ref.multiclass_hinge_loss(y, x, margin=margin), rtol=1e-13)


def test_multiclass_hinge_at_its_kinks_takes_the_first_index():
    # row 0: the label leads by exactly the margin, a tie between y and class 1:
    # loss 0, and the subgradient of the first index (class 0 = y) is zero;
    # row 1: two other classes tie: the gradient goes to the first of them
    x = np.array([[2.0, 1.0, -3.0], [0.0, 1.5, 1.5]])
    y = np.array([0, 0])
    v, g = fl.MulticlassHinge(reduction="none").forward_backward(y, x,
                                                               grad_output=np.ones(2))
    np.testing.assert_array_equal(v, [0.0, 2.5])
    np.testing.assert_array_equal(g, [[0, 0, 0], [-1, 1, 0]])


def test_multiclass_hinge_margin_zero_is_the_perceptron():
    rng = rng_for("hinge-perceptron")
    x = rng.normal(size=(30, 4))
    y = rng.integers(0, 4, size=30)
    a = fl.MulticlassHinge(0.0, reduction="none").forward_backward(y, x, grad_output=np.ones(30))
    b = fl.MultiClassPerceptron(reduction="none").forward_backward(y, x,
                                                                  grad_output=np.ones(30))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_multiclass_hinge_has_no_hessian_and_propagates_nan():
    with pytest.raises(NotImplementedError, match="piecewise linear"):
        fl.MulticlassHinge().gradient_hessian(np.array([0]), np.zeros((1, 3)))
    assert not fl.MulticlassHinge().has_hessian
    v, g = fl.MulticlassHinge(reduction="none").forward_backward(
        np.array([1, 0]), np.array([[0.0, np.nan, 1.0], [3.0, 0.0, 0.0]]),
        grad_output=np.ones(2))
    assert np.isnan(v[0]) and np.all(np.isnan(g[0]))
    assert v[1] == 0.0 and np.all(g[1] == 0)


# --- GeneralizedKLDivergence ------------------------------------------------------------


def _soft_targets(rng, shape, zeros=True):
    t = rng.uniform(0.0, 2.0, size=shape)  # unnormalised, as the loss allows
    if zeros:
        t[rng.uniform(size=shape) < 0.25] = 0.0
    return t


@pytest.mark.peer
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generalized_kl_matches_optax(dtype):
    jax, optax = _optax()
    rng = rng_for("gkl-optax", dtype)
    z = (2.0 * rng.normal(size=(32, 6))).astype(dtype)
    t = _soft_targets(rng, (32, 6)).astype(dtype)
    tj = jax.numpy.asarray(t)
    want, want_g = _jax_value_grad(optax.losses.generalized_kl_divergence, z, tj)
    got = fl.GeneralizedKLDivergence(reduction="none")(t, z)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, want, **tol)
    _, g = fl.GeneralizedKLDivergence(reduction="sum").forward_backward(t, z)
    np.testing.assert_allclose(g, want_g, **tol)
    # optax's former name is the same function, and fastloss's too
    with pytest.warns(DeprecationWarning):
        old = optax.losses.convex_kl_divergence(jax.numpy.asarray(z), tj)
    np.testing.assert_allclose(fl.convex_kl_divergence(t, z), np.asarray(old), **tol)
    assert fl.ConvexKLDivergence is fl.GeneralizedKLDivergence
    assert type(fl.get("convex_kl_divergence")) is fl.GeneralizedKLDivergence
    assert type(fl.get("generalized_kl_divergence")) is fl.GeneralizedKLDivergence


def test_generalized_kl_of_predictions_is_the_log_input_loss_at_their_log():
    rng = rng_for("gkl-probs")
    q = rng.uniform(0.05, 3.0, size=(12, 5))
    t = _soft_targets(rng, (12, 5))
    plain = fl.GeneralizedKLDivergence(log_input=False, reduction="none")
    logs = fl.GeneralizedKLDivergence(reduction="none")
    np.testing.assert_allclose(plain(t, q), logs(t, np.log(q)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(plain(t, q), ref.generalized_kl_divergence(t, q, log_input=False),
                               rtol=1e-12, atol=1e-14)
    # the chain rule: d/dq = d/dz / q
    gq = plain.backward(t, q, grad_output=np.ones(12))
    gz = logs.backward(t, np.log(q), grad_output=np.ones(12))
    np.testing.assert_allclose(gq, gz / q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("log_input", [True, False])
def test_generalized_kl_gradient_and_hessian_by_central_differences(log_input):
    rng = rng_for("gkl-cd", log_input)
    y = rng.normal(size=(6, 4)) if log_input else rng.uniform(0.2, 3.0, size=(6, 4))
    t = _soft_targets(rng, (6, 4))
    loss = fl.GeneralizedKLDivergence(log_input=log_input, reduction="sum")
    g = loss.backward(t, y)
    np.testing.assert_allclose(
        g, _central(lambda s: ref.generalized_kl_divergence(t, s, log_input=log_input).sum(), y),
        rtol=1e-6, atol=1e-7)
    gh, h = loss.gradient_hessian(t, y)
    np.testing.assert_allclose(gh, g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, _hessian_diagonal(lambda s: loss.backward(t, s), y),
                               rtol=1e-5, atol=1e-6)


def test_generalized_kl_is_kl_for_normalised_distributions():
    rng = rng_for("gkl-kl")
    t = rng.dirichlet(np.ones(5), size=10)
    z = np.log(rng.dirichlet(np.ones(5), size=10))
    np.testing.assert_allclose(fl.GeneralizedKLDivergence(reduction="none")(t, z),
                               fl.KLDivergence(log_input=True, reduction="none")(t, z),
                               rtol=1e-10, atol=1e-13)


def test_generalized_kl_zero_targets_and_bad_ones():
    # a zero target adds exp(z) (q with log_input=False, even at q = 0); a negative one NaN
    v = fl.GeneralizedKLDivergence(reduction="none")(np.array([[0.0, 1.0]]),
                                                     np.array([[0.5, 0.0]]))
    np.testing.assert_allclose(v, [np.exp(0.5)], rtol=1e-15)
    v, g = fl.GeneralizedKLDivergence(log_input=False, reduction="none").forward_backward(
        np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), grad_output=np.ones(1))
    np.testing.assert_array_equal(v, [0.0])
    np.testing.assert_array_equal(g, [[1.0, 0.0]])
    assert np.isnan(fl.GeneralizedKLDivergence()(np.array([[-0.5, 1.0]]), np.zeros((1, 2))))


# --- CosineDistance ---------------------------------------------------------------------


@pytest.mark.peer
@pytest.mark.parametrize("epsilon", [0.0, 1e-3, 0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cosine_distance_matches_optax(epsilon, dtype):
    jax, optax = _optax()
    rng = rng_for("cosd-optax", epsilon, dtype)
    p = rng.normal(size=(40, 5)).astype(dtype)
    t = rng.normal(size=(40, 5)).astype(dtype)
    p[:6] *= 0.1  # |p|^2 below epsilon = 0.5: the floor is active there
    t[6:9] *= 0.1
    tj = jax.numpy.asarray(t)

    def fn(s, targ):  # optax's order: predictions first
        return optax.losses.cosine_distance(s, targ, epsilon=epsilon)

    want, want_g = _jax_value_grad(fn, p, tj)
    got = fl.CosineDistance(epsilon, reduction="none")(t, p)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, want, **tol)
    _, g = fl.CosineDistance(epsilon, reduction="sum").forward_backward(t, p)
    np.testing.assert_allclose(g, want_g, **tol)


@pytest.mark.parametrize("epsilon", [0.0, 0.5])
def test_cosine_distance_gradient_and_hessian_by_central_differences(epsilon):
    rng = rng_for("cosd-cd", epsilon)
    p, t = rng.normal(size=(2, 6, 4))
    p[:2] *= 0.2  # under the floor of epsilon = 0.5 (and far from it)
    loss = fl.CosineDistance(epsilon, reduction="sum")
    g = loss.backward(t, p)
    np.testing.assert_allclose(
        g, _central(lambda s: ref.cosine_distance(t, s, epsilon=epsilon).sum(), p),
        rtol=1e-6, atol=1e-7)
    gh, h = loss.gradient_hessian(t, p)
    np.testing.assert_allclose(gh, g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, _hessian_diagonal(lambda s: loss.backward(t, s), p),
                               rtol=1e-5, atol=1e-6)


def test_cosine_distance_is_one_plus_keras_cosine_similarity():
    rng = rng_for("cosd-keras")
    p, t = rng.normal(size=(2, 20, 3))
    a = fl.CosineDistance(reduction="none").forward_backward(t, p, grad_output=np.ones(20))
    b = fl.CosineSimilarity(reduction="none").forward_backward(t, p, grad_output=np.ones(20))
    np.testing.assert_allclose(a[0], 1.0 + b[0], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14, atol=1e-15)


def test_cosine_distance_zero_vectors_follow_optax():
    t = np.array([[1.0, 0.0], [0.0, 0.0]])
    p = np.array([[0.0, 0.0], [1.0, 2.0]])
    # epsilon 0 (optax's default): 0 / 0, NaN; a floor gives cos 0, a distance of 1
    assert np.all(np.isnan(fl.CosineDistance(reduction="none")(t, p)))
    np.testing.assert_array_equal(fl.CosineDistance(1e-12, reduction="none")(t, p), [1.0, 1.0])


# --- non-default parameters: threads, config ----------------------------------------------


NON_DEFAULT = {
    "hinge-0.5": (lambda: fl.MulticlassHinge(0.5), "labels"),
    "gkl-probs": (lambda: fl.GeneralizedKLDivergence(log_input=False), "positive"),
    "cosd-eps": (lambda: fl.CosineDistance(0.3), "normal"),
}


def _inputs(kind, rng, shape):
    x = rng.normal(size=shape)
    if kind == "labels":
        return rng.integers(0, shape[-1], size=shape[:-1]), x
    if kind == "positive":
        return _soft_targets(rng, shape), rng.uniform(0.1, 3.0, size=shape)
    return rng.normal(size=shape), 0.5 * x


@pytest.mark.parametrize("name", NON_DEFAULT)
def test_non_default_threads_bitwise_and_config(name):
    make, kind = NON_DEFAULT[name]
    t, x = _inputs(kind, rng_for(name, "threads"), (3000, 7))
    loss = make()
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(t, x.astype(np.float32))
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(t, x.astype(np.float32))
    assert v1.tobytes() == v2.tobytes() and g1.tobytes() == g2.tobytes()
    again = pickle.loads(pickle.dumps(loss))
    assert again.get_config() == loss.get_config()
    assert again(t, x) == loss(t, x)


# --- TripletMarginWithDistance ------------------------------------------------------------


def _torch_distance(torch, name):
    F = torch.nn.functional
    return {
        "euclidean": None,  # PyTorch's default, pairwise_distance
        "manhattan": lambda a, b: F.pairwise_distance(a, b, p=1),
        "squared_euclidean": lambda a, b: F.pairwise_distance(a, b) ** 2,
        "cosine": lambda a, b: 1.0 - F.cosine_similarity(a, b),
    }[name]


DISTANCES = ["euclidean", "manhattan", "squared_euclidean", "cosine"]


def _triplets(rng, n, D, dtype):
    a, p, ng = rng.normal(size=(3, n, D))
    p = a + 0.6 * p  # positives near their anchors, so that both hinge sides occur
    return a.astype(dtype), p.astype(dtype), ng.astype(dtype)


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", DISTANCES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_triplet_with_distance_matches_torch(distance, swap, reduction, dtype):
    torch = pytest.importorskip("torch")
    rng = rng_for("tmd-torch", distance, swap, reduction, dtype)
    margin = 4.0 if distance == "squared_euclidean" else 1.0 if distance != "cosine" else 0.5
    a, p, n = _triplets(rng, 24, 5, dtype)
    ts = [torch.tensor(v, requires_grad=True) for v in (a, p, n)]
    want = torch.nn.functional.triplet_margin_with_distance_loss(
        *ts, distance_function=_torch_distance(torch, distance), margin=margin, swap=swap,
        reduction=TORCH_REDUCTION[reduction])
    upstream = np.linspace(0.5, 1.5, 24) if reduction == "none" else np.array(1.0)
    (want * torch.tensor(upstream.astype(dtype))).sum().backward()
    loss = fl.TripletMarginWithDistance(distance, margin, swap, reduction=reduction)
    value, grads = loss.forward_backward(a, p, n, grad_output=upstream.astype(dtype))
    per_row = fl.TripletMarginWithDistance(distance, margin, swap, reduction="none")(a, p, n)
    assert 0 < np.count_nonzero(per_row) < 24  # both sides of the hinge
    tol = dict(rtol=3e-5, atol=3e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(value, want.detach().numpy(), **tol)
    assert len(grads) == 3
    for ours, t in zip(grads, ts):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, t.grad.numpy(), **tol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_with_distance_sample_weights_follow_keras(reduction):
    rng = rng_for("tmd-weights", reduction)
    a, p, n = _triplets(rng, 15, 4, np.float64)
    w = rng.uniform(0.2, 2.0, size=15)
    per_row = fl.TripletMarginWithDistance("cosine", 0.5, reduction="none")(a, p, n)
    got = fl.TripletMarginWithDistance("cosine", 0.5, reduction=reduction)(a, p, n, w)
    np.testing.assert_allclose(got, keras_reduce(per_row, w, reduction), rtol=1e-13)


def test_triplet_with_distance_default_is_triplet_margin():
    rng = rng_for("tmd-default")
    a, p, n = _triplets(rng, 20, 6, np.float64)
    for swap in (False, True):
        ours = fl.TripletMarginWithDistance(swap=swap).forward_backward(a, p, n)
        theirs = fl.TripletMargin(swap=swap).forward_backward(a, p, n)
        assert ours[0] == theirs[0]
        for x, y in zip(ours[1], theirs[1]):
            np.testing.assert_array_equal(x, y)
    manhattan = fl.TripletMarginWithDistance("manhattan", reduction="none")(a, p, n)
    np.testing.assert_array_equal(manhattan, fl.TripletMargin(p=1, reduction="none")(a, p, n))


def _triplet_ref(a, p, n, distance, margin, swap):
    def d(x, z):
        if distance == "cosine":
            nx = np.maximum(np.linalg.norm(x, axis=-1), 1e-8)
            nz = np.maximum(np.linalg.norm(z, axis=-1), 1e-8)
            return 1.0 - np.sum(x * z, -1) / (nx * nz)
        v = x - z + 1e-6
        if distance == "manhattan":
            return np.abs(v).sum(-1)
        sq = np.sum(v * v, -1)
        return sq if distance == "squared_euclidean" else np.sqrt(sq)

    d_neg = d(a, n)
    if swap:
        d_neg = np.minimum(d_neg, d(p, n))
    return np.maximum(0.0, margin + d(a, p) - d_neg)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "cosine"])
def test_triplet_with_distance_hessians_by_central_differences(distance, swap):
    """The three gradients and Hessian diagonals, on rows where the hinge is
    sloped and the swap's choice is clear (manhattan is piecewise linear: its
    Hessian is 0, as TripletMargin's with p = 1)."""
    rng = rng_for("tmd-cd", distance, swap)
    a, p, n = _triplets(rng, 6, 4, np.float64)
    margin = 10.0  # every hinge sloped
    loss = fl.TripletMarginWithDistance(distance, margin, swap, reduction="sum")
    grads = loss.backward(a, p, n)
    _, hess = loss.gradient_hessian(a, p, n)
    inputs = [a, p, n]
    for k in range(3):
        def f(x, k=k):
            args = list(inputs)
            args[k] = x
            return _triplet_ref(*args, distance, margin, swap).sum()

        def g(x, k=k):
            args = list(inputs)
            args[k] = x
            return loss.backward(*args)[k]

        np.testing.assert_allclose(grads[k], _central(f, inputs[k]), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(hess[k], _hessian_diagonal(g, inputs[k]), rtol=1e-5,
                                   atol=1e-6)


def test_triplet_with_distance_threads_bitwise():
    rng = rng_for("tmd-threads")
    a, p, n = _triplets(rng, 5000, 16, np.float32)
    for distance in DISTANCES:
        loss = fl.TripletMarginWithDistance(distance, swap=True)
        with fl.num_threads(1):
            v1, g1 = loss.forward_backward(a, p, n)
        with fl.num_threads(2):
            v2, g2 = loss.forward_backward(a, p, n)
        assert v1.tobytes() == v2.tobytes()
        for x, y in zip(g1, g2):
            assert x.tobytes() == y.tobytes()


def test_triplet_with_distance_config_names_and_inputs_untouched():
    loss = fl.TripletMarginWithDistance("cosine", 0.3, True, reduction="sum")
    assert loss.get_config() == {"name": "triplet_margin_with_distance", "reduction": "sum",
                                 "distance": "cosine", "margin": 0.3, "swap": True}
    assert pickle.loads(pickle.dumps(loss)).get_config() == loss.get_config()
    assert repr(loss) == ("TripletMarginWithDistance(distance='cosine', margin=0.3, swap=True, "
                          "reduction='sum')")
    assert type(fl.get("TripletMarginWithDistance")) is fl.TripletMarginWithDistance
    assert type(fl.get("triplet_margin_with_distance")) is fl.TripletMarginWithDistance
    assert fl.TripletMarginWithDistance(None).distance == "euclidean"  # PyTorch's None
    rng = rng_for("tmd-untouched")
    a, p, n = _triplets(rng, 5, 3, np.float64)
    keep = [x.copy() for x in (a, p, n)]
    loss.forward_backward(a, p, n)
    for x, k in zip((a, p, n), keep):
        np.testing.assert_array_equal(x, k)


def test_triplet_with_distance_errors():
    with pytest.raises(TypeError, match="cannot differentiate a Python function.*'euclidean'"):
        fl.TripletMarginWithDistance(lambda a, b: np.abs(a - b).sum(-1))
    with pytest.raises(ValueError, match="unknown distance 'chebyshev'"):
        fl.TripletMarginWithDistance("chebyshev")
    with pytest.raises(TypeError, match="distance must be one of"):
        fl.TripletMarginWithDistance(2)
    with pytest.raises(ValueError, match="margin must be > 0"):
        fl.TripletMarginWithDistance(margin=0.0)
    with pytest.raises(ValueError, match="same shape"):
        x = np.zeros((4, 3))
        fl.TripletMarginWithDistance()(x, x, x[:, :2])
    with pytest.raises(TypeError, match="swap must be a bool"):
        fl.TripletMarginWithDistance(swap="yes")


# --- MulticlassGeneralizedDice ---------------------------------------------------------------


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def generalized_dice_ref(t, z, smooth=1.0, apply_softmax=True, ignore_background=False):
    """Per-sample losses of optax's multiclass generalized Dice loss, float64,
    from Sudre et al.'s formula as optax weighs it."""
    t, z = np.asarray(t, np.float64), np.asarray(z, np.float64)
    C = z.shape[-1]
    p = z if not apply_softmax else (1 / (1 + np.exp(-z)) if C == 1 else _softmax(z))
    axes = tuple(range(1, z.ndim - 1))
    inter, ps, ts = (np.sum(a, axis=axes) for a in (p * t, p, t))  # (B, C)
    f = t.reshape(-1, C).sum(0)
    w = 1.0 / (f**2 + 1e-7)
    w = w / w.sum() * C
    dice = w * (1.0 - (inter + smooth) / (0.5 * (ps + ts) + smooth))
    if ignore_background and C > 1:
        dice = dice[:, 1:]
    return dice.mean(-1)


def _segmentation(rng, shape, dtype=np.float64):
    C = shape[-1]
    labels = rng.integers(0, C, size=shape[:-1])
    labels[..., :2] = 0  # an unbalanced background class
    return np.eye(C)[labels].astype(dtype), (2.0 * rng.normal(size=shape)).astype(dtype)


@pytest.mark.peer
@pytest.mark.parametrize("ignore_background", [False, True])
@pytest.mark.parametrize("smooth", [1.0, 0.1])
@pytest.mark.parametrize("shape", [(3, 8, 7, 4), (5, 3), (2, 6, 1)], ids=["BHWC", "BC", "B-1"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generalized_dice_matches_optax(shape, smooth, ignore_background, dtype):
    jax, optax = _optax()
    rng = rng_for("gdice-optax", shape, smooth, ignore_background, dtype)
    t, z = _segmentation(rng, shape, dtype)
    tj = jax.numpy.asarray(t)

    def fn(s, targ):
        return optax.losses.multiclass_generalized_dice_loss(
            s, targ, smooth=smooth, ignore_background=ignore_background)

    want, want_g = _jax_value_grad(fn, z, tj)
    loss = fl.MulticlassGeneralizedDice(smooth, ignore_background=ignore_background)
    value, g = loss.forward_backward(t, z)
    assert g.dtype == dtype and g.shape == z.shape
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(value, float(want), **tol)
    np.testing.assert_allclose(g, want_g, rtol=tol["rtol"], atol=tol["atol"] * 10)
    np.testing.assert_allclose(
        fl.MulticlassGeneralizedDice(smooth, ignore_background=ignore_background,
                                     reduction="none")(t, z),
        generalized_dice_ref(t, z, smooth, ignore_background=ignore_background),
        rtol=1e-12 if dtype == np.float64 else 2e-6, atol=1e-14 if dtype == np.float64 else 1e-7)


@pytest.mark.peer
def test_generalized_dice_on_probabilities_matches_optax():
    jax, optax = _optax()
    rng = rng_for("gdice-probs")
    t, z = _segmentation(rng, (2, 5, 5, 3))
    p = _softmax(z)
    want, want_g = _jax_value_grad(
        lambda s, targ: optax.losses.multiclass_generalized_dice_loss(s, targ,
                                                                     apply_softmax=False),
        p, jax.numpy.asarray(t))
    value, g = fl.MulticlassGeneralizedDice(apply_softmax=False).forward_backward(t, p)
    np.testing.assert_allclose(value, float(want), rtol=2e-6)
    np.testing.assert_allclose(g, want_g, rtol=2e-5, atol=1e-7)
    with pytest.raises(ValueError, match="sum to 1 over the class axis"):
        fl.MulticlassGeneralizedDice(apply_softmax=False)(t, p * 2)


@pytest.mark.parametrize("apply_softmax", [True, False])
def test_generalized_dice_gradient_by_central_differences(apply_softmax):
    rng = rng_for("gdice-cd", apply_softmax)
    t, z = _segmentation(rng, (2, 3, 4))
    if not apply_softmax:  # probabilities (the derivative is the unconstrained one)
        z = rng.dirichlet(np.ones(4), size=(2, 3))
    w = np.array([0.5, 2.0])
    loss = fl.MulticlassGeneralizedDice(0.5, apply_softmax=apply_softmax, reduction="sum")
    g = loss.backward(t, z, w)

    def f(s):
        return np.sum(w * generalized_dice_ref(t, s, 0.5, apply_softmax=apply_softmax))

    np.testing.assert_allclose(g, _central(f, z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_generalized_dice_reductions_and_sample_weights(reduction):
    rng = rng_for("gdice-red", reduction)
    t, z = _segmentation(rng, (4, 5, 3))
    w = rng.uniform(0.2, 2.0, size=4)
    per = generalized_dice_ref(t, z)
    got = fl.MulticlassGeneralizedDice(reduction=reduction)(t, z, w)
    np.testing.assert_allclose(got, keras_reduce(per, w, reduction), rtol=1e-12)
    go = np.linspace(0.5, 1.5, 4) if reduction == "none" else 2.0
    v, g = fl.MulticlassGeneralizedDice(reduction=reduction).forward_backward(
        t, z, w, grad_output=go)
    g2 = fl.MulticlassGeneralizedDice(reduction=reduction).backward(t, z, w, grad_output=go)
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_allclose(v, got, rtol=1e-15)


def test_generalized_dice_threads_bitwise_in_place_and_untouched():
    rng = rng_for("gdice-threads")
    t, z = _segmentation(rng, (3, 64, 64, 5), np.float32)
    keep = z.copy()
    loss = fl.MulticlassGeneralizedDice()
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(t, z)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(t, z)
    assert v1.tobytes() == v2.tobytes() and g1.tobytes() == g2.tobytes()
    np.testing.assert_array_equal(z, keep)
    v3, g3 = loss.forward_backward(t, z, out=z)  # the gradient over the logits
    assert g3 is z and v3 == v1
    np.testing.assert_array_equal(z, g1)


def test_generalized_dice_errors_and_config():
    t, z = _segmentation(rng_for("gdice-err"), (2, 3, 3))
    with pytest.raises(ValueError, match="y_true has shape"):
        fl.MulticlassGeneralizedDice()(t[:, :2], z)
    with pytest.raises(ValueError, match=r"\(batch, \.\.\., classes\)"):
        fl.MulticlassGeneralizedDice()(t[0, 0], z[0, 0])
    with pytest.raises(ValueError, match="smooth must be finite and >= 0"):
        fl.MulticlassGeneralizedDice(smooth=-1.0)
    with pytest.raises(TypeError, match="apply_softmax must be a bool"):
        fl.MulticlassGeneralizedDice(apply_softmax="yes")
    with pytest.raises(NotImplementedError, match="couple every pixel"):
        fl.MulticlassGeneralizedDice().gradient_hessian(t, z)
    loss = fl.MulticlassGeneralizedDice(0.5, False, True, reduction="sum")
    assert pickle.loads(pickle.dumps(loss)).get_config() == loss.get_config()
    assert type(fl.get("multiclass_generalized_dice_loss")) is fl.MulticlassGeneralizedDice
    assert type(fl.get("MulticlassGeneralizedDice")) is fl.MulticlassGeneralizedDice


def test_batch_coupled_losses_refuse_dask_inputs_with_the_reason():
    da = pytest.importorskip("dask.array")
    t, z = _segmentation(rng_for("gdice-dask"), (4, 3, 3))
    with pytest.raises(NotImplementedError, match="class weights come from the targets of the "
                                                  "whole batch"):
        fl.MulticlassGeneralizedDice()(da.from_array(t, chunks=2), da.from_array(z, chunks=2))
    a = da.from_array(z[:, 0], chunks=2)
    with pytest.raises(NotImplementedError, match="three inputs are not yet taken blockwise"):
        fl.TripletMarginWithDistance("cosine")(a, a, a)

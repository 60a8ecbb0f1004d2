"""The margin, segmentation and KL losses that follow PyTorch, optax and Keras
conventions, against those libraries: values for each reduction and gradients
by their autograd, on the same inputs; and the conventions themselves (each
element its own sample for PyTorch's elementwise losses, Keras's axis=None and
axis tuples for Dice and Tversky). The shared families (float64 references,
central differences, layouts, threads, bad input) run on these losses through
tests/cases.py and tests/test_classaxis.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastloss as fl

import reference_classaxis as refc

os.environ.setdefault("KERAS_BACKEND", "torch")

pytestmark = pytest.mark.peer

DTYPES = [np.float32, np.float64]
TORCH_REDUCTIONS = {"sum_over_batch_size": "mean", "sum": "sum", "none": "none"}


def _tol(dtype):
    return {"rtol": 2e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-11, "atol": 1e-13}


def _torch_value_grad(fn, x, *others):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    value = fn(xt, *(torch.tensor(o) for o in others))
    value.sum().backward()
    return value.detach().numpy(), xt.grad.numpy()


def _keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these peer tests drive Keras through its torch backend")
    return keras


# --- PyTorch's elementwise margin losses -------------------------------------------------


def _signed(dtype, shape=(7, 5), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.choice([-1.0, 1.0], size=shape).astype(dtype),
            rng.normal(0, 1.5, size=shape).astype(dtype))


@pytest.mark.parametrize("reduction", list(TORCH_REDUCTIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_margin_is_pytorchs(dtype, reduction):
    F = pytest.importorskip("torch.nn.functional")
    y, x = _signed(dtype)
    want, want_g = _torch_value_grad(
        lambda a, b: F.soft_margin_loss(a, b, reduction=TORCH_REDUCTIONS[reduction]), x, y)
    value, grad = fl.SoftMargin(reduction=reduction).forward_backward(
        y, x, grad_output=np.ones(x.shape, dtype) if reduction == "none" else 1.0)
    assert np.shape(value) == np.shape(want)
    np.testing.assert_allclose(value, want, **_tol(dtype))
    np.testing.assert_allclose(grad, want_g, **_tol(dtype))


@pytest.mark.parametrize("margin", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("reduction", list(TORCH_REDUCTIONS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_embedding_is_pytorchs(dtype, reduction, margin):
    F = pytest.importorskip("torch.nn.functional")
    y, x = _signed(dtype, seed=1)
    x = np.abs(x)  # distances
    x[0, 0] = margin + 0.25  # a dissimilar pair beyond the margin: zero loss
    y[0, 0] = -1
    want, want_g = _torch_value_grad(
        lambda a, b: F.hinge_embedding_loss(a, b, margin=margin,
                                            reduction=TORCH_REDUCTIONS[reduction]), x, y)
    loss = fl.HingeEmbedding(margin=margin, reduction=reduction)
    value, grad = loss.forward_backward(
        y, x, grad_output=np.ones(x.shape, dtype) if reduction == "none" else 1.0)
    np.testing.assert_allclose(value, want, **_tol(dtype))
    np.testing.assert_allclose(grad, want_g, **_tol(dtype))


def test_hinge_embedding_label_that_is_neither_adds_both_terms_as_pytorch():
    F = pytest.importorskip("torch.nn.functional")
    torch = pytest.importorskip("torch")
    y, x = np.array([0.0, 2.0]), np.array([0.3, 0.4])
    want = F.hinge_embedding_loss(torch.tensor(x), torch.tensor(y), reduction="none").numpy()
    np.testing.assert_allclose(fl.HingeEmbedding(reduction="none")(y, x), want, rtol=1e-15)
    np.testing.assert_allclose(want, [0.3 + 0.7, 0.4 + 0.6])


# --- optax --------------------------------------------------------------------------------


def _optax():
    pytest.importorskip("jax")
    return pytest.importorskip("optax")


@pytest.mark.parametrize("dtype", DTYPES)
def test_perceptron_is_optaxs(dtype):
    optax = _optax()
    import jax
    import jax.numpy as jnp

    y, x = _signed(dtype, seed=2)
    x[0, :2] = 0.0  # on the kink: fastloss's subgradient is 0 (jax splits it, +-t/2)
    with jax.enable_x64(dtype == np.float64):
        want = np.asarray(optax.losses.perceptron_loss(jnp.asarray(x), jnp.asarray(y)))
        want_g = np.asarray(jax.grad(
            lambda a: optax.losses.perceptron_loss(a, jnp.asarray(y)).sum())(jnp.asarray(x)))
    value, grad = fl.Perceptron(reduction="none").forward_backward(y, x, grad_output=np.ones(
        x.shape, dtype))
    np.testing.assert_allclose(value, want, **_tol(dtype))
    off = x != 0
    np.testing.assert_allclose(grad[off], want_g[off], **_tol(dtype))
    assert np.all(grad[~off] == 0)
    np.testing.assert_allclose(fl.Perceptron()(y, x), want.mean(), **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparsemax_is_optaxs(dtype):
    optax = _optax()
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=(6, 9)).astype(dtype)
    z = rng.normal(0, 1.5, size=(6, 9)).astype(dtype)
    with jax.enable_x64(dtype == np.float64):
        def f(a):
            return optax.losses.sparsemax_loss(a, jnp.asarray(labels))
        want = np.asarray(f(jnp.asarray(z)))
        want_g = np.asarray(jax.grad(lambda a: f(a).sum())(jnp.asarray(z)))
        want_h = np.asarray(jax.vmap(jax.vmap(jax.grad(jax.grad(
            lambda a, t: optax.losses.sparsemax_loss(a, t)))))(jnp.asarray(z),
                                                              jnp.asarray(labels)))
    value, grad = fl.Sparsemax(reduction="none").forward_backward(labels, z, grad_output=np.ones(
        z.shape, dtype))
    np.testing.assert_allclose(value, want, **_tol(dtype))
    np.testing.assert_allclose(grad, want_g, **_tol(dtype))
    _, hess = fl.Sparsemax().gradient_hessian(labels, z)
    np.testing.assert_allclose(hess, want_h, **_tol(dtype))


# --- the per-element convention -----------------------------------------------------------


@pytest.mark.parametrize("cls", [fl.SoftMargin, fl.HingeEmbedding, fl.Perceptron, fl.Sparsemax])
def test_each_element_is_a_sample(cls):
    y, x = _signed(np.float64, (4, 3), seed=4)
    y = (y > 0).astype(float) if cls is fl.Sparsemax else y
    per = cls(reduction="none")(y, x)
    assert per.shape == x.shape  # PyTorch's reduction="none"
    np.testing.assert_allclose(cls()(y, x), per.mean(), rtol=1e-14)  # PyTorch's "mean"
    np.testing.assert_allclose(cls(reduction="sum")(y, x), per.sum(), rtol=1e-14)
    w = np.array([0.5, 1.0, 2.0, 0.0])  # one weight per row of (N, D) inputs
    np.testing.assert_allclose(cls(reduction="none")(y, x, sample_weight=w), per * w[:, None],
                               rtol=1e-14)
    g = cls(reduction="none").backward(y, x, grad_output=w)
    np.testing.assert_allclose(g, cls(reduction="sum").backward(y, x, sample_weight=w),
                               rtol=1e-14)
    assert "axis" not in cls().get_config()
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not broadcast"):
        cls()(y, x, sample_weight=np.ones(3))


# --- Keras's Dice and Tversky, the soft Jaccard ------------------------------------------


def _masks(dtype, shape=(3, 6, 5, 2), seed=5):
    rng = np.random.default_rng(seed)
    t = (rng.random(shape) < 0.4).astype(dtype)
    p = rng.uniform(0.0, 1.0, size=shape).astype(dtype)
    return t, p


KERAS_OVERLAPS = [("Dice", {}), ("Tversky", {}), ("Tversky", {"alpha": 0.7, "beta": 0.2})]


@pytest.mark.parametrize("axis", [None, (1, 2, 3), -1, (2, 3)], ids=str)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("name,params", KERAS_OVERLAPS, ids=lambda x: str(x))
def test_overlap_losses_are_keras(name, params, reduction, axis):
    keras = _keras()
    torch = pytest.importorskip("torch")
    t, p = _masks(np.float32)
    peer = getattr(keras.losses, name)(**params, axis=axis, reduction=reduction)
    pt = torch.tensor(p, requires_grad=True)
    want = peer(torch.tensor(t), pt)
    want.sum().backward()
    loss = getattr(fl, name)(**params, axis=axis, reduction=reduction)
    value, grad = loss.forward_backward(
        t, p, grad_output=np.ones(np.shape(want.detach().numpy()), np.float32)
        if reduction == "none" else 1.0)
    assert np.shape(value) == tuple(want.shape)
    np.testing.assert_allclose(value, want.detach().numpy(), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=2e-4, atol=1e-7)


def test_overlap_axis_none_is_one_value_for_the_whole_array():
    t, p = _masks(np.float64)
    flat = (t.reshape(1, -1), p.reshape(1, -1))
    for cls, ref in [(fl.Dice, refc.dice), (fl.Tversky, refc.tversky),
                     (fl.Jaccard, refc.jaccard)]:
        value, grad = cls(reduction="none").forward_backward(t, p, grad_output=np.ones(()))
        assert np.shape(value) == ()
        np.testing.assert_allclose(value, ref(*flat)[0], rtol=1e-13)
        per_image = cls(axis=(1, 2, 3), reduction="none")(t, p)
        np.testing.assert_allclose(per_image, ref(t.reshape(3, -1), p.reshape(3, -1)),
                                   rtol=1e-13)
        # the gradient of the whole-array value along a direction, by central differences
        v = np.random.default_rng(6).uniform(-1, 1, size=p.shape)
        h = 1e-5
        numeric = (cls()(t, p + h * v) - cls()(t, p - h * v)) / (2 * h)
        np.testing.assert_allclose(np.sum(grad * v), numeric, rtol=1e-6)


def test_jaccard_by_hand():
    # I = 2 * 0.5 = 1, U = 2 + 1.5 - 1 = 2.5: 1 - 1 / 2.5
    got = fl.Jaccard()([[1.0, 1.0, 0.0]], [[0.5, 0.5, 0.5]])
    np.testing.assert_allclose(got, 1 - 1 / (2.5 + 1e-7), rtol=1e-14)


def test_overlap_axes_that_are_not_consecutive_or_not_ints_are_refused():
    t, p = _masks(np.float64)
    with pytest.raises(ValueError, match=r"axes reduced over must be consecutive"):
        fl.Dice(axis=(1, 3))(t, p)
    with pytest.raises(ValueError, match=r"axis \(1, 1\) repeats an axis"):
        fl.Dice(axis=(1, 1))(t, p)
    with pytest.raises(ValueError, match="axis 4 is out of range"):
        fl.Dice(axis=(1, 4))(t, p)
    with pytest.raises(TypeError, match="axis must be an integer, a non-empty tuple"):
        fl.Dice(axis=())
    with pytest.raises(TypeError, match="axis must be an integer, a non-empty tuple"):
        fl.Dice(axis=(1.5,))
    with pytest.raises(TypeError, match="axis must be an integer, got"):
        fl.CategoricalCrossentropy(axis=(0, 1))  # other class-axis losses take one axis


def test_dask_refuses_what_it_cannot_take_blockwise():
    da = pytest.importorskip("dask.array")
    t, p = _masks(np.float64)
    with pytest.raises(NotImplementedError, match="not with axis=None"):
        fl.Dice()(da.from_array(t), da.from_array(p))
    y, x = _signed(np.float64)
    with pytest.raises(NotImplementedError, match="each element as its own sample"):
        fl.SoftMargin()(da.from_array(y), da.from_array(x))


# --- KL divergence in PyTorch's conventions ----------------------------------------------


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_divergence_of_log_inputs_is_pytorchs(dtype, reduction, log_target):
    F = pytest.importorskip("torch.nn.functional")
    rng = np.random.default_rng(7)
    log_q = np.log(rng.dirichlet(np.ones(6), size=8)).astype(dtype)
    target = rng.dirichlet(np.ones(6), size=8).astype(dtype)
    target[0, 1] = 0  # 0 log 0 = 0
    if log_target:
        with np.errstate(divide="ignore"):
            target = np.log(target).astype(dtype)
        target[0, 1] = -50.0  # exp(-50): finite logs only (PyTorch's -inf gives NaN)
    torch_reduction = {"sum_over_batch_size": "batchmean", "sum": "sum", "none": "none"}[reduction]

    def peer(x, y):
        out = F.kl_div(x, y, reduction=torch_reduction, log_target=log_target)
        return out.sum(-1) if reduction == "none" else out  # per sample: the sum over classes
    want, want_g = _torch_value_grad(peer, log_q, target)
    loss = fl.KLDivergence(log_input=True, log_target=log_target, reduction=reduction)
    value, grad = loss.forward_backward(
        target, log_q, grad_output=np.ones(8, dtype) if reduction == "none" else 1.0)
    np.testing.assert_allclose(value, want, **_tol(dtype))
    np.testing.assert_allclose(grad, want_g, **_tol(dtype))
    g, h = loss.gradient_hessian(target, log_q)
    assert np.all(h == 0)  # linear in the log-input


def test_kl_divergence_log_target_with_probabilities_is_keras_of_exp_target():
    rng = np.random.default_rng(8)
    q = rng.dirichlet(np.ones(4), size=5)
    target = rng.dirichlet(np.ones(4), size=5)
    a = fl.KLDivergence(log_target=True, reduction="none")(np.log(target), q)
    b = fl.KLDivergence(reduction="none")(target, q)
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("name,params", [("Dice", {}), ("Tversky", {"alpha": 0.7, "beta": 0.2}),
                                         ("Jaccard", {})], ids=lambda x: str(x))
def test_overlap_ignore_class_leaves_the_marked_elements_out(name, params):
    t, p = _masks(np.float64)
    marked = np.random.default_rng(9).random(t.shape) < 0.2
    t_marked = np.where(marked, 255.0, t)
    cls = getattr(fl, name)
    masked = cls(**params, ignore_class=255, axis=(1, 2, 3), reduction="none")
    value, grad = masked.forward_backward(t_marked, p, grad_output=np.ones(3))
    # the same as the loss of the elements left, which zeros in both inputs give
    plain = cls(**params, axis=(1, 2, 3), reduction="none")
    want, want_g = plain.forward_backward(np.where(marked, 0.0, t), np.where(marked, 0.0, p),
                                          grad_output=np.ones(3))
    np.testing.assert_allclose(value, want, rtol=1e-13)
    np.testing.assert_allclose(grad, np.where(marked, 0.0, want_g), rtol=1e-13, atol=1e-16)
    assert np.all(grad[marked] == 0)
    _, hess = masked.gradient_hessian(t_marked, p)
    assert np.all(hess[marked] == 0)
    assert masked.get_config()["ignore_class"] == 255.0
    assert cls().ignore_class is None
    with pytest.raises(ValueError, match="ignore_class must be finite"):
        cls(ignore_class=np.nan)
    with pytest.raises(TypeError, match="ignore_class"):
        cls(ignore_class="255")

"""The pair, triplet and metric-learning losses (MarginRanking, CosineEmbedding,
TripletMargin, NTXent, Circle): against float64 references written from the
formulas, central differences, PyTorch (values and autograd gradients), optax's
ntxent (values and jax.grad) and Keras's Circle (values, and gradients through
torch autograd with KERAS_BACKEND=torch)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastloss as fl

from support import rng_for

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]
TORCH_REDUCTION = {"sum_over_batch_size": "mean", "sum": "sum", "none": "none"}


# -- references (float64, from the formulas) ----------------------------------

def margin_ranking_ref(y, x1, x2, margin):
    return np.maximum(0.0, -np.asarray(y, np.float64) * (np.float64(x1) - np.float64(x2)) + margin)


def cosine_ref(y, x1, x2, margin):
    a, b = np.asarray(x1, np.float64), np.asarray(x2, np.float64)
    cos = np.sum(a * b, -1) / np.sqrt((np.sum(a * a, -1) + 1e-12) * (np.sum(b * b, -1) + 1e-12))
    return np.where(np.asarray(y) > 0, 1.0 - cos, np.maximum(0.0, cos - margin))


def triplet_ref(a, p, n, margin, deg, swap, eps):
    a, p, n = (np.asarray(v, np.float64) for v in (a, p, n))

    def dist(x, z):
        return np.sum(np.abs(x - z + eps) ** deg, -1) ** (1.0 / deg)

    d_neg = dist(a, n)
    if swap:
        d_neg = np.minimum(d_neg, dist(p, n))
    return np.maximum(0.0, margin + dist(a, p) - d_neg)


def ntxent_ref(labels, x, temperature, eps):
    """(per-anchor sums over positives, number of positive pairs), optax's definition."""
    x = np.asarray(x, np.float64)
    u = x / np.sqrt(np.maximum(np.sum(x * x, -1, keepdims=True), eps))
    s = u @ u.T / temperature
    same = labels[:, None] == labels[None, :]
    pos = same & ~np.eye(len(labels), dtype=bool)
    neg = np.where(~same, np.exp(s), 0.0).sum(1, keepdims=True)
    terms = np.where(pos, np.log(neg + np.exp(s)) - s, 0.0)
    return terms.sum(1), int(pos.sum())


def circle_ref(labels, x, gamma, margin, remove_diagonal):
    """(per-row losses, rows with a positive and a negative), Keras's definition."""
    x = np.asarray(x, np.float64)
    d = np.maximum(1.0 - x @ x.T, 0.0)
    same = labels[:, None] == labels[None, :]
    pos = same & ~np.eye(len(labels), dtype=bool) if remove_diagonal else same
    neg = ~same
    a = np.where(pos, -gamma * np.maximum(margin + d, 0) * (margin - d), -np.inf)
    b = np.where(neg, gamma * np.maximum(1 + margin - d, 0) * (1 - margin - d), -np.inf)

    def lse(v):
        m = np.max(v, 1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        with np.errstate(divide="ignore"):
            return (m + np.log(np.sum(np.exp(v - m), 1, keepdims=True)))[:, 0]

    z = lse(a) + lse(b)
    valid = pos.any(1) & neg.any(1)
    loss = np.where(valid, np.logaddexp(0.0, np.where(valid, z, 0.0)), 0.0)
    return loss, valid


def keras_reduce(per_sample, weight, reduction, divisor=None, weighted_divisor=None):
    w = np.ones_like(per_sample) if weight is None else np.asarray(weight, np.float64)
    values = per_sample * w
    if reduction == "none":
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight":
        return values.sum() / (w.sum() if weighted_divisor is None else weighted_divisor)
    return values.sum() / (per_sample.size if divisor is None else divisor)


# -- inputs ---------------------------------------------------------------------

def signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def unit_rows(rng, b, d, dtype=np.float64):
    x = rng.normal(size=(b, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(dtype)


def group_labels(rng, b, groups):
    return rng.integers(0, groups, size=b)


def central_difference(f, x, step=1e-6):
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        keep = x[k]
        x[k] = keep + step
        up = f()
        x[k] = keep - step
        down = f()
        x[k] = keep
        g[k] = (up - down) / (2 * step)
    return g


# -- values against the references, every reduction and weights ------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_margin_ranking_value(reduction, dtype):
    rng = rng_for("mr", reduction, dtype)
    x1, x2 = rng.normal(size=(2, 7, 3)).astype(dtype)
    y, w = signs(rng, (7, 3)), rng.random((7, 3))
    got = fl.MarginRanking(margin=0.3, reduction=reduction)(y, x1, x2, sample_weight=w)
    want = keras_reduce(margin_ranking_ref(y, x1, x2, 0.3), w, reduction)
    assert np.asarray(got).dtype == dtype
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cosine_embedding_value(reduction, dtype):
    rng = rng_for("ce", reduction, dtype)
    x1, x2 = rng.normal(size=(2, 9, 5)).astype(dtype)
    y, w = signs(rng, 9), rng.random(9)
    got = fl.CosineEmbedding(margin=0.2, reduction=reduction)(y, x1, x2, sample_weight=w)
    want = keras_reduce(cosine_ref(y, x1, x2, 0.2), w, reduction)
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-12, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_triplet_value(reduction, dtype):
    rng = rng_for("tm", reduction, dtype)
    a, p, n = rng.normal(size=(3, 8, 4)).astype(dtype)
    w = rng.random(8)
    got = fl.TripletMargin(margin=1.5, reduction=reduction)(a, p, n, sample_weight=w)
    want = keras_reduce(triplet_ref(a, p, n, 1.5, 2.0, False, 1e-6), w, reduction)
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-12, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [6, 67, 130])  # around and across the 64-row tile
def test_ntxent_value(reduction, dtype, batch):
    rng = rng_for("nt", reduction, dtype, batch)
    x = rng.normal(size=(batch, 12)).astype(dtype)
    labels = group_labels(rng, batch, batch // 2)
    w = rng.random(batch)
    got = fl.NTXent(temperature=0.2, reduction=reduction)(labels, x, sample_weight=w)
    per, pairs = ntxent_ref(labels, x, 0.2, np.finfo(dtype).eps)
    npos = np.array([np.sum(labels == lab) - 1 for lab in labels], np.float64)
    want = keras_reduce(per, w, reduction, divisor=pairs, weighted_divisor=np.sum(w * npos))
    np.testing.assert_allclose(got, want, rtol=2e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("remove_diagonal", [True, False])
def test_circle_value(reduction, dtype, remove_diagonal):
    rng = rng_for("ci", reduction, dtype, remove_diagonal)
    x = unit_rows(rng, 70, 8, dtype) * dtype(0.9)
    labels = group_labels(rng, 70, 12)
    labels[:3] = [100, 101, 102]  # rows without a positive (when the diagonal is removed)
    w = rng.random(70)
    got = fl.Circle(gamma=16.0, margin=0.25, remove_diagonal=remove_diagonal,
                    reduction=reduction)(labels, x, sample_weight=w)
    per, valid = circle_ref(labels, x, 16.0, 0.25, remove_diagonal)
    want = keras_reduce(per, w, reduction, divisor=valid.sum(), weighted_divisor=w[valid].sum())
    np.testing.assert_allclose(got, want, rtol=3e-5 if dtype == np.float32 else 1e-10, atol=1e-7)


def test_ntxent_without_positive_pairs_is_zero():
    x = rng_for("nt0").normal(size=(5, 3))
    assert fl.NTXent()(np.arange(5), x) == 0.0
    (g,) = fl.NTXent().backward(np.arange(5), x)
    assert np.all(g == 0)


# -- gradients: central differences and fused == separate -------------------------

CASES = {
    "margin_ranking": (lambda: fl.MarginRanking(margin=0.1, reduction="sum"),
                       lambda rng: (signs(rng, (6, 2)), *rng.normal(size=(2, 6, 2))), (6, 2)),
    "cosine_embedding": (lambda: fl.CosineEmbedding(margin=-0.3, reduction="sum"),
                         lambda rng: (signs(rng, 6), *rng.normal(size=(2, 6, 4))), (6,)),
    "triplet_p2": (lambda: fl.TripletMargin(margin=2.0, reduction="sum"),
                   lambda rng: tuple(rng.normal(size=(3, 5, 4))), (5,)),
    "triplet_p3_swap": (lambda: fl.TripletMargin(margin=2.0, p=3, swap=True, reduction="sum"),
                        lambda rng: tuple(rng.normal(size=(3, 5, 4))), (5,)),
    "triplet_p1": (lambda: fl.TripletMargin(margin=2.0, p=1, reduction="sum"),
                   lambda rng: tuple(rng.normal(size=(3, 5, 4))), (5,)),
    "ntxent": (lambda: fl.NTXent(temperature=0.5, reduction="sum"),
               lambda rng: (np.arange(9) % 4, rng.normal(size=(9, 3))), (9,)),
    "circle": (lambda: fl.Circle(gamma=4.0, reduction="sum"),
               lambda rng: (np.arange(9) % 3, 0.6 * rng.normal(size=(9, 3))), (9,)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_central_differences(case):
    make, inputs, batch = CASES[case]
    rng = rng_for("grad", case)
    loss = make()
    args = [np.array(a, np.float64) for a in inputs(rng)]
    w = rng.random(batch) + 0.5
    trained = list(range(loss._n_targets, len(args)))
    grads = loss.backward(*args, sample_weight=w)
    assert len(grads) == len(trained)
    for g, k in zip(grads, trained):
        want = central_difference(lambda: float(loss(*args, sample_weight=w)), args[k])
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-7, err_msg=f"input {k}")
    value, fused = loss.forward_backward(*args, sample_weight=w, grad_output=2.5)
    assert value == loss(*args, sample_weight=w)
    for g, f in zip(grads, fused):
        np.testing.assert_allclose(f, 2.5 * g, rtol=1e-14)


def test_grad_output_per_sample_with_reduction_none():
    rng = rng_for("go")
    a, p, n = rng.normal(size=(3, 6, 4))
    go = rng.random(6)
    loss = fl.TripletMargin(reduction="none")
    grads = loss.backward(a, p, n, grad_output=go)
    for g, k in zip(grads, range(3)):
        args = [a.copy(), p.copy(), n.copy()]
        want = central_difference(lambda args=args: float(np.sum(go * loss(*args))), args[k])
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-7)


HESSIAN_CASES = {
    "cosine": (lambda **kw: fl.CosineEmbedding(margin=-0.5, **kw),
               lambda rng: (signs(rng, 5), *rng.normal(size=(2, 5, 3)))),
    "triplet_p2": (lambda **kw: fl.TripletMargin(margin=3.0, **kw),
                   lambda rng: tuple(rng.normal(size=(3, 5, 3)))),
    "triplet_p3_swap": (lambda **kw: fl.TripletMargin(margin=3.0, p=3, swap=True, **kw),
                        lambda rng: tuple(rng.normal(size=(3, 5, 3)))),
    "triplet_p1": (lambda **kw: fl.TripletMargin(margin=3.0, p=1, **kw),
                   lambda rng: tuple(rng.normal(size=(3, 5, 3)))),
}


@pytest.mark.parametrize("case", sorted(HESSIAN_CASES))
def test_hessian_central_differences(case):
    make, inputs = HESSIAN_CASES[case]
    rng = rng_for("hess", case)
    args = [np.array(a, np.float64) for a in inputs(rng)]
    w = rng.random(5)
    loss, unreduced = make(), make(reduction="sum")
    assert loss.has_hessian
    grads, hessians = loss.gradient_hessian(*args, sample_weight=w)
    for g, want in zip(grads, unreduced.backward(*args, sample_weight=w)):
        np.testing.assert_allclose(g, want, rtol=1e-14)
    first = loss._n_targets
    for which, h in enumerate(hessians):
        k = first + which

        def grad_k(k=k, which=which):
            return unreduced.backward(*args, sample_weight=w)[which]

        want = np.zeros_like(h)
        for idx in np.ndindex(h.shape):
            keep = args[k][idx]
            args[k][idx] = keep + 1e-5
            up = grad_k()[idx]
            args[k][idx] = keep - 1e-5
            down = grad_k()[idx]
            args[k][idx] = keep
            want[idx] = (up - down) / 2e-5
        np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-7, err_msg=f"input {k}")


# -- peers ----------------------------------------------------------------------------

def _torch_grads(torch, fn, arrays, trained):
    ts = [torch.tensor(a, requires_grad=(k in trained)) for k, a in enumerate(arrays)]
    out = fn(*ts)
    out.sum().backward()
    return out.detach().numpy(), [ts[k].grad.numpy() for k in trained]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_margin_ranking_vs_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = rng_for("mr-torch", reduction)
    y, x1, x2 = signs(rng, 40), *rng.normal(size=(2, 40))
    x2[:3] = x1[:3]  # at the hinge with margin 0: PyTorch's clamp passes the gradient
    want, (g1, g2) = _torch_grads(
        torch, lambda t, a, b: torch.nn.functional.margin_ranking_loss(
            a, b, t, margin=0.0, reduction=TORCH_REDUCTION[reduction]), (y, x1, x2), (1, 2))
    loss = fl.MarginRanking(reduction=reduction)
    value, (f1, f2) = loss.forward_backward(y, x1, x2, grad_output=np.ones_like(want))
    np.testing.assert_allclose(value, want, rtol=1e-12)
    np.testing.assert_allclose(f1, g1, rtol=1e-12)
    np.testing.assert_allclose(f2, g2, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("margin", [0.0, 0.4])
def test_cosine_embedding_vs_torch(reduction, margin):
    torch = pytest.importorskip("torch")
    rng = rng_for("ce-torch", reduction, margin)
    y, x1, x2 = signs(rng, 12), *rng.normal(size=(2, 12, 6))
    want, (g1, g2) = _torch_grads(
        torch, lambda t, a, b: torch.nn.functional.cosine_embedding_loss(
            a, b, t, margin=margin, reduction=TORCH_REDUCTION[reduction]), (y, x1, x2), (1, 2))
    loss = fl.CosineEmbedding(margin=margin, reduction=reduction)
    value, (f1, f2) = loss.forward_backward(y, x1, x2, grad_output=np.ones_like(want))
    np.testing.assert_allclose(value, want, rtol=1e-12)
    np.testing.assert_allclose(f1, g1, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(f2, g2, rtol=1e-10, atol=1e-14)
    # one unbatched pair, as PyTorch also takes it
    one = fl.CosineEmbedding(margin=margin)(y[0], x1[0], x2[0])
    want1 = torch.nn.functional.cosine_embedding_loss(
        torch.tensor(x1[0]), torch.tensor(x2[0]), torch.tensor(y[0]), margin=margin)
    np.testing.assert_allclose(one, want1.item(), rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_triplet_vs_torch(reduction, p, swap, dtype):
    torch = pytest.importorskip("torch")
    rng = rng_for("tm-torch", reduction, p, swap, dtype)
    a, ps, n = rng.normal(size=(3, 16, 5)).astype(dtype)
    want, grads = _torch_grads(
        torch, lambda x, y, z: torch.nn.functional.triplet_margin_loss(
            x, y, z, margin=1.0, p=p, swap=swap, eps=1e-6,
            reduction=TORCH_REDUCTION[reduction]), (a, ps, n), (0, 1, 2))
    loss = fl.TripletMargin(p=p, swap=swap, reduction=reduction)
    value, fused = loss.forward_backward(a, ps, n, grad_output=np.ones_like(want))
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(value, want, **tol)
    for f, g in zip(fused, grads):
        assert f.dtype == dtype
        np.testing.assert_allclose(f, g, **tol)


@pytest.mark.parametrize("batch", [8, 67, 200])
def test_ntxent_vs_optax(batch):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    rng = rng_for("nt-optax", batch)
    x = rng.normal(size=(batch, 16)).astype(np.float32)
    labels = np.arange(batch) // 2  # SimCLR's two views per image
    labels[-5:] = rng.integers(0, 3, 5)
    jl = jax.numpy.asarray(labels)
    want, jgrad = jax.value_and_grad(lambda e: optax.ntxent(e, jl, 0.07))(jax.numpy.asarray(x))
    value, (grad,) = fl.NTXent().forward_backward(labels, x)
    np.testing.assert_allclose(value, float(want), rtol=2e-5)
    np.testing.assert_allclose(grad, np.asarray(jgrad), rtol=2e-4, atol=2e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("remove_diagonal", [True, False])
def test_circle_vs_keras(reduction, remove_diagonal, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras was imported with another backend")
    rng = rng_for("ci-keras", reduction, remove_diagonal)
    x = unit_rows(rng, 40, 6, np.float32) * np.float32(0.95)
    labels = group_labels(rng, 40, 6)
    labels[0] = 99  # a row without a positive: masked out of the mean
    w = rng.random(40).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    peer = keras.losses.Circle(gamma=80.0, margin=0.4, remove_diagonal=remove_diagonal,
                               reduction=reduction)
    want = peer(torch.tensor(labels), xt, sample_weight=torch.tensor(w))
    want.sum().backward()
    loss = fl.Circle(remove_diagonal=remove_diagonal, reduction=reduction)
    go = np.ones(40, np.float32) if reduction == "none" else 1.0
    value, (grad,) = loss.forward_backward(labels, x, sample_weight=w, grad_output=go)
    np.testing.assert_allclose(value, want.detach().numpy(), rtol=5e-5, atol=1e-5)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=5e-4, atol=5e-5)


# -- machinery: threads, dtypes, inputs untouched ---------------------------------------

@pytest.mark.parametrize("name", ["ntxent", "circle", "cosine", "triplet", "margin"])
def test_threads_bitwise(name):
    rng = rng_for("threads", name)
    if name in ("ntxent", "circle"):
        x = unit_rows(rng, 300, 24, np.float32)
        args = (np.arange(300) // 3, x)
        loss = fl.NTXent() if name == "ntxent" else fl.Circle()
    elif name == "margin":
        args = (signs(rng, 70000), *rng.normal(size=(2, 70000)).astype(np.float32))
        loss = fl.MarginRanking()
    else:
        a = rng.normal(size=(3, 5000, 16)).astype(np.float32)
        args = (signs(rng, 5000), a[0], a[1]) if name == "cosine" else tuple(a)
        loss = fl.CosineEmbedding() if name == "cosine" else fl.TripletMargin()
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(*args)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(*args)
    assert v1.tobytes() == v2.tobytes()
    for a, b in zip(g1, g2):
        assert a.tobytes() == b.tobytes()


def test_float32_close_to_float64_and_inputs_untouched():
    rng = rng_for("dtypes")
    x = rng.normal(size=(100, 32))
    labels = np.arange(100) // 2
    keep = x.copy()
    v64, (g64,) = fl.NTXent().forward_backward(labels, x)
    v32, (g32,) = fl.NTXent().forward_backward(labels, x.astype(np.float32))
    assert g32.dtype == np.float32 and g64.dtype == np.float64
    np.testing.assert_allclose(v32, v64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)
    np.testing.assert_array_equal(x, keep)


def test_ntxent_many_positives_per_row():
    # two labels over 300 rows: 149 positives per row, more than are kept
    # from the first sweep, so the second pass recomputes them
    rng = rng_for("many")
    x = rng.normal(size=(300, 8))
    labels = np.arange(300) % 2
    per, pairs = ntxent_ref(labels, x, 0.07, np.finfo(np.float64).eps)
    np.testing.assert_allclose(fl.NTXent(reduction="none")(labels, x), per, rtol=1e-10)
    np.testing.assert_allclose(fl.NTXent()(labels, x), per.sum() / pairs, rtol=1e-10)


@pytest.mark.parametrize("loss", [
    fl.MarginRanking(margin=0.2, reduction="sum"), fl.CosineEmbedding(margin=0.1),
    fl.TripletMargin(margin=0.5, p=3, swap=True, eps=1e-5),
    fl.NTXent(temperature=0.3, reduction="none"),
    fl.Circle(gamma=32.0, margin=0.25, remove_diagonal=False)])
def test_config_and_pickle_round_trip(loss):
    again = type(loss)(**loss.get_config())
    assert again.get_config() == loss.get_config()
    assert pickle.loads(pickle.dumps(loss)).get_config() == loss.get_config()


def test_names():
    assert type(fl.get("NTXent")) is fl.NTXent and type(fl.get("ntxent")) is fl.NTXent
    assert type(fl.get("circle")) is fl.Circle
    assert type(fl.get("triplet_margin")) is fl.TripletMargin
    assert type(fl.get("cosine_embedding")) is fl.CosineEmbedding
    assert type(fl.get("margin_ranking")) is fl.MarginRanking


# -- errors -------------------------------------------------------------------------

def test_errors():
    rng = rng_for("errors")
    x = rng.normal(size=(6, 4))
    with pytest.raises(ValueError, match="same shape"):
        fl.TripletMargin()(x, x, x[:, :3])
    with pytest.raises(ValueError, match="same shape"):
        fl.CosineEmbedding()(np.ones(6), x, x[:5])
    with pytest.raises(ValueError, match="same shape"):
        fl.MarginRanking()(np.ones(6), x[:, 0], x[:5, 0])
    with pytest.raises(ValueError, match="only 1 and -1"):
        fl.CosineEmbedding()(np.array([1, 0, 1, 1, -1, 1]), x, x)
    with pytest.raises(ValueError, match="only 1 and -1"):
        fl.MarginRanking()(np.full(6, 2.0), x[:, 0], x[:, 1])
    with pytest.raises(ValueError, match="does not broadcast"):
        fl.CosineEmbedding()(np.ones(5), x, x)
    with pytest.raises(ValueError, match="p must be >= 1"):
        fl.TripletMargin(p=0.5)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        fl.NTXent(temperature=0.0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        fl.NTXent(temperature=-1)
    with pytest.raises(ValueError, match="one integer per row"):
        fl.NTXent()(np.arange(5), x)
    with pytest.raises(ValueError, match="one integer per row"):
        fl.Circle()(np.arange(7), x)
    with pytest.raises(TypeError, match="labels must be integers"):
        fl.Circle()(np.linspace(0, 1, 6), x)
    with pytest.raises(ValueError, match=r"\(batch, features\)"):
        fl.NTXent()(np.arange(6), x[None])
    with pytest.raises(TypeError, match="takes 2 inputs"):
        fl.NTXent()(x)
    with pytest.raises(TypeError, match="swap must be a bool"):
        fl.TripletMargin(swap="yes")
    with pytest.raises(ValueError, match="margin must be finite"):
        fl.MarginRanking(margin=float("nan"))


@pytest.mark.parametrize("loss, args, why", [
    (fl.MarginRanking(), (np.ones(3), np.zeros(3), np.ones(3)), "piecewise linear"),
    (fl.NTXent(), (np.arange(2), np.ones((2, 2))), "couples all pairs"),
    (fl.Circle(), (np.arange(2), np.ones((2, 2))), "couples all pairs"),
])
def test_no_hessian_says_why(loss, args, why):
    assert not loss.has_hessian
    with pytest.raises(NotImplementedError, match=why):
        loss.gradient_hessian(*args)

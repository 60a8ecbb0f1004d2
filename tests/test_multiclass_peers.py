"""The multi-class margins, log-probability and probabilistic losses against
the libraries whose semantics they follow: PyTorch (nll_loss, multi_margin_loss,
multilabel_margin_loss, multilabel_soft_margin_loss: values and autograd
gradients), optax (multiclass_perceptron_loss, poly_loss_cross_entropy,
multiclass_sparsemax_loss: values and jax.grad), Keras 3
(CategoricalGeneralizedCrossEntropy, torch backend) and LightGBM (a tiny
training with multiclassova against the same training driven by
OneVsAllCrossentropy). Then what the declared test families do not reach:
parameters other than the defaults (class weights, p=2, epsilon), their
Hessians by central differences, thread counts, the reduction rules and the
errors.

The common families (float64 reference, central differences, fused ==
separate, threads, layouts, dtypes, bad input) run on every one of these
losses from its declaration in tests/test_classaxis.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastloss as fl

import reference_classaxis as ref
from support import rng_for

os.environ.setdefault("KERAS_BACKEND", "torch")


def _torch():
    return pytest.importorskip("torch")


def _upstream(rng, reduction, shape):
    return rng.uniform(0.5, 1.5, size=shape) if reduction == "none" else np.array(1.0)


def _torch_value_grad(fn, x, upstream, *args, **kw):
    torch = _torch()
    xt = torch.tensor(x, requires_grad=True)
    v = fn(xt, *args, **kw)
    (v * torch.tensor(upstream)).sum().backward()
    return v.detach().numpy(), xt.grad.numpy()


def _label_sets(rng, n, C, duplicates=False):
    """PyTorch's multilabel targets: distinct class ids, -1, then filler."""
    out = rng.integers(-1, C, size=(n, C))
    for r in range(n):
        k = int(rng.integers(1, C + 1))
        out[r, :k] = rng.permutation(C)[:k]
        if duplicates and k >= 2:
            out[r, 1] = out[r, 0]  # a class listed twice counts twice
        if k < C:
            out[r, k] = -1
    return out


def _central(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# --- PyTorch -------------------------------------------------------------------


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weight"])
@pytest.mark.parametrize("ignore", [None, 2], ids=["all", "ignore"])
@pytest.mark.parametrize("layout", ["NC", "NCd"])
def test_nll_matches_torch(reduction, weighted, ignore, layout):
    torch = _torch()
    F = torch.nn.functional
    rng = rng_for("nll", reduction, weighted, ignore, layout)
    shape = (16, 5) if layout == "NC" else (4, 5, 6)
    x = rng.normal(size=shape) - 1.0  # log-probabilities need not be normalised
    y = rng.integers(0, 5, size=(shape[0],) + shape[2:])
    cw = rng.uniform(0.3, 2.0, size=5) if weighted else None
    kw: dict = {"reduction": reduction}
    if cw is not None:
        kw["weight"] = torch.tensor(cw)
    if ignore is not None:
        kw["ignore_index"] = ignore
    upstream = _upstream(rng, reduction, y.shape)
    want, want_g = _torch_value_grad(F.nll_loss, x, upstream, torch.tensor(y), **kw)
    ours = fl.NLL(ignore_class=ignore, class_weight=cw, axis=1,
                  reduction={"mean": "sum_over_batch_size"}.get(reduction, reduction))
    v, g = ours.forward_backward(y, x, grad_output=upstream)
    np.testing.assert_allclose(v, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g, want_g, rtol=1e-13, atol=1e-15)
    # float32 in, float32 out, against torch's float32
    kw32 = {**kw, **({"weight": torch.tensor(cw.astype(np.float32))} if weighted else {})}
    want32 = F.nll_loss(torch.tensor(x.astype(np.float32)), torch.tensor(y), **kw32).numpy()
    v32 = ours(y, x.astype(np.float32))
    assert np.asarray(v32).dtype == np.float32
    np.testing.assert_allclose(v32, want32, rtol=2e-6, atol=2e-7)


def test_nll_weighted_mean_and_the_keras_rule():
    """With class_weight, "sum_over_batch_size" divides by the class weights of
    the rows that count (PyTorch); Keras's class_weight rule (its
    SparseCategoricalCrossentropy here) divides by their number."""
    y = np.array([0, 1, 1, 2])
    x = np.log(np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.3, 0.3, 0.4]]))
    cw = [1.0, 2.0, 4.0]
    per = -np.array(cw)[y] * x[np.arange(4), y]
    assert fl.NLL(class_weight=cw)(y, x) == pytest.approx(per.sum() / 9.0, rel=1e-14)
    assert fl.NLL(class_weight=cw, reduction="sum")(y, x) == pytest.approx(per.sum(), rel=1e-14)
    np.testing.assert_allclose(fl.NLL(class_weight=cw, reduction="none")(y, x), per, rtol=1e-14)
    keras_rule = fl.SparseCategoricalCrossentropy(class_weight=cw)(y, np.exp(x))
    assert keras_rule == pytest.approx(per.sum() / 4.0, rel=1e-6)
    # ignored rows leave the divisor; sample weights multiply without joining it
    assert fl.NLL(ignore_class=1, class_weight=cw)(y, x) == pytest.approx(
        (per[0] + per[3]) / 5.0, rel=1e-14)
    sw = np.array([1.0, 0.5, 2.0, 1.0])
    assert fl.NLL(class_weight=cw)(y, x, sw) == pytest.approx((sw * per).sum() / 9.0, rel=1e-14)
    assert fl.NLL(class_weight=cw, reduction="mean_with_sample_weight")(y, x, sw) == \
        pytest.approx((sw * per).sum() / np.sum(sw * np.array(cw)[y]), rel=1e-14)
    # every row ignored: 0, as PyTorch's 0/0 is not (NaN) and Keras's divide_no_nan is
    assert fl.NLL(ignore_class=1)(np.array([1, 1]), x[:2]) == 0.0


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 1.0, False),
                                               (1, 0.5, True), (2, 2.0, True)])
def test_multi_margin_matches_torch(p, margin, weighted, reduction):
    torch = _torch()
    rng = rng_for("multi_margin", p, margin, weighted, reduction)
    x = rng.normal(size=(24, 6))
    y = rng.integers(0, 6, size=24)
    cw = rng.uniform(0.3, 2.0, size=6) if weighted else None
    kw: dict = {"p": p, "margin": margin, "reduction": reduction}
    if cw is not None:
        kw["weight"] = torch.tensor(cw)
    upstream = _upstream(rng, reduction, (24,))
    want, want_g = _torch_value_grad(torch.nn.functional.multi_margin_loss, x, upstream,
                                     torch.tensor(y), **kw)
    ours = fl.MultiMargin(p, margin, cw,
                          reduction={"mean": "sum_over_batch_size"}.get(reduction, reduction))
    v, g = ours.forward_backward(y, x, grad_output=upstream)
    np.testing.assert_allclose(v, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g, want_g, rtol=1e-12, atol=1e-15)
    v32 = ours(y, x.astype(np.float32))
    assert np.asarray(v32).dtype == np.float32
    np.testing.assert_allclose(v32, want, rtol=3e-6, atol=3e-7)


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("duplicates", [False, True], ids=["distinct", "duplicates"])
def test_multilabel_margin_matches_torch(reduction, duplicates):
    torch = _torch()
    rng = rng_for("multilabel_margin", reduction, duplicates)
    x = rng.normal(size=(20, 5))
    t = _label_sets(rng, 20, 5, duplicates)
    upstream = _upstream(rng, reduction, (20,))
    want, want_g = _torch_value_grad(torch.nn.functional.multilabel_margin_loss, x, upstream,
                                     torch.tensor(t), reduction=reduction)
    ours = fl.MultiLabelMargin(reduction={"mean": "sum_over_batch_size"}.get(reduction,
                                                                              reduction))
    v, g = ours.forward_backward(t, x, grad_output=upstream)
    np.testing.assert_allclose(v, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g, want_g, rtol=1e-12, atol=1e-15)
    # the ids may come as floats holding integers; the reference agrees
    np.testing.assert_allclose(fl.MultiLabelMargin(reduction="none")(t.astype(np.float32), x),
                               ref.multilabel_margin_loss(t, x), rtol=1e-12)


def test_multilabel_margin_documented_example():
    # PyTorch's documentation: targets 3 and 0 of four classes, loss 0.85
    got = fl.MultiLabelMargin()(np.array([[3, 0, -1, 1]]), np.array([[0.1, 0.2, 0.4, 0.8]]))
    assert got == pytest.approx(0.85, rel=1e-14)


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weight"])
def test_multilabel_soft_margin_matches_torch(reduction, weighted):
    torch = _torch()
    rng = rng_for("multilabel_soft_margin", reduction, weighted)
    x = 3.0 * rng.normal(size=(20, 7))
    t = (rng.uniform(size=(20, 7)) < 0.4).astype(np.float64)
    cw = rng.uniform(0.3, 2.0, size=7) if weighted else None
    kw: dict = {"reduction": reduction}
    if cw is not None:
        kw["weight"] = torch.tensor(cw)
    upstream = _upstream(rng, reduction, (20,))
    want, want_g = _torch_value_grad(torch.nn.functional.multilabel_soft_margin_loss, x,
                                     upstream, torch.tensor(t), **kw)
    ours = fl.MultiLabelSoftMargin(
        cw, reduction={"mean": "sum_over_batch_size"}.get(reduction, reduction))
    v, g = ours.forward_backward(t, x, grad_output=upstream)
    np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g, want_g, rtol=1e-12, atol=1e-15)


# --- optax -------------------------------------------------------------------------


def _optax():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    return jax, optax


def _jax_value_grad(fn, x, *args):
    jax, _ = _optax()
    jnp = jax.numpy
    xj = jnp.asarray(x.astype(np.float32))
    values = np.asarray(fn(xj, *args))
    grad = np.asarray(jax.grad(lambda s: jnp.sum(fn(s, *args)))(xj))
    return values, grad


@pytest.mark.peer
def test_multiclass_perceptron_matches_optax():
    jax, optax = _optax()
    rng = rng_for("perceptron")
    x = rng.normal(size=(32, 6))
    y = rng.integers(0, 6, size=32)
    want, want_g = _jax_value_grad(optax.losses.multiclass_perceptron_loss, x, y)
    v, g = fl.MultiClassPerceptron(reduction="sum").forward_backward(y, x.astype(np.float32))
    np.testing.assert_allclose(fl.MultiClassPerceptron(reduction="none")(y, x), want,
                               rtol=1e-6, atol=1e-6)
    assert v == pytest.approx(want.sum(), rel=1e-6)
    np.testing.assert_array_equal(g, want_g)  # +1 at the maximum, -1 at the label


@pytest.mark.peer
@pytest.mark.parametrize("epsilon", [2.0, -1.0, 0.5])
@pytest.mark.parametrize("soft", [False, True], ids=["onehot", "soft"])
def test_poly_loss_matches_optax(epsilon, soft):
    jax, optax = _optax()
    rng = rng_for("poly", epsilon, soft)
    z = 3.0 * rng.normal(size=(32, 5))
    t = rng.dirichlet(np.ones(5), size=32) if soft else np.eye(5)[rng.integers(0, 5, size=32)]
    fn = lambda s, lab: optax.losses.poly_loss_cross_entropy(s, lab, epsilon=epsilon)  # noqa: E731
    want, want_g = _jax_value_grad(fn, z, jax.numpy.asarray(t.astype(np.float32)))
    ours = fl.PolyLoss(epsilon, reduction="sum")
    np.testing.assert_allclose(fl.PolyLoss(epsilon, reduction="none")(t, z), want, rtol=2e-5,
                               atol=2e-5)
    _, g = ours.forward_backward(t.astype(np.float32), z.astype(np.float32))
    np.testing.assert_allclose(g, want_g, rtol=1e-4, atol=2e-6)


@pytest.mark.peer
def test_multiclass_sparsemax_matches_optax():
    jax, optax = _optax()
    rng = rng_for("sparsemax")
    x = rng.normal(size=(48, 6))
    x[:8] *= 4.0  # sparse rows: most classes outside the support
    y = rng.integers(0, 6, size=48)
    want, want_g = _jax_value_grad(optax.losses.multiclass_sparsemax_loss, x, y)
    np.testing.assert_allclose(fl.MulticlassSparsemax(reduction="none")(y, x), want,
                               rtol=1e-5, atol=2e-6)
    _, g = fl.MulticlassSparsemax(reduction="sum").forward_backward(y, x)
    np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=2e-6)
    # the gradient is sparsemax(x) - onehot: a row of the simplex minus a vertex
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(g + np.eye(6)[y], ref.sparsemax(x), atol=1e-12)


# --- Keras -------------------------------------------------------------------------


def _keras():
    _torch()
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these peer tests drive Keras through its torch backend")
    return keras


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight",
                                       "none"])
@pytest.mark.parametrize("q", [0.5, 0.2, 0.9])
def test_generalized_crossentropy_matches_keras(q, reduction):
    keras = _keras()
    torch = _torch()
    rng = rng_for("gce", q, reduction)
    p = rng.dirichlet(np.ones(5), size=16)
    y = rng.integers(0, 5, size=16)
    sw = rng.uniform(0.2, 2.0, size=16)
    upstream = _upstream(rng, reduction, (16,))
    theirs = keras.losses.CategoricalGeneralizedCrossEntropy(q=q, reduction=reduction,
                                                             dtype="float64")
    pt = torch.tensor(p, requires_grad=True)
    want = theirs(torch.tensor(y), pt, sample_weight=torch.tensor(sw))
    (want * torch.tensor(upstream)).sum().backward()
    ours = fl.GeneralizedCrossentropy(q, reduction=reduction)
    v, g = ours.forward_backward(y, p, sw, grad_output=upstream)
    # Keras (torch backend) rounds through float32 inside ops.power and returns its
    # reduced values as float32 even with dtype="float64": agreement to float32
    # rounding, and to float64 rounding with the reference written from the formula
    np.testing.assert_allclose(v, want.detach().numpy(), rtol=2e-7, atol=1e-12)
    np.testing.assert_allclose(g, pt.grad.numpy(), rtol=2e-7, atol=1e-12)
    per = ref.categorical_generalized_cross_entropy(y, p, q=q)
    expected = {"none": sw * per, "sum": np.sum(sw * per),
                "sum_over_batch_size": np.sum(sw * per) / 16,
                "mean_with_sample_weight": np.sum(sw * per) / np.sum(sw)}[reduction]
    np.testing.assert_allclose(v, expected, rtol=1e-13, atol=1e-15)
    # Keras's name: the class under it, and its function's name
    assert type(fl.get("CategoricalGeneralizedCrossEntropy")) is fl.GeneralizedCrossentropy
    assert fl.CategoricalGeneralizedCrossEntropy is fl.GeneralizedCrossentropy
    assert ours.name == theirs.name
    np.testing.assert_allclose(
        fl.categorical_generalized_cross_entropy(y, p, q=q),
        keras.losses.categorical_generalized_cross_entropy(
            torch.tensor(y), torch.tensor(p), q=q).numpy(), rtol=2e-7)


# --- LightGBM ----------------------------------------------------------------------


@pytest.mark.peer
def test_one_vs_all_objective_trains_as_lightgbm_multiclassova():
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    n = 1200
    X = rng.normal(size=(n, 6))
    f = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    y = np.digitize(f + 0.5 * rng.normal(size=n), [-1.0, 0.0, 1.0]).astype(np.float64)
    w = rng.uniform(0.3, 3.0, size=n)
    params = {"num_class": 4, "num_leaves": 8, "learning_rate": 0.3, "min_data_in_leaf": 5,
              "verbose": -1, "seed": 0, "num_threads": 1, "deterministic": True,
              "boost_from_average": False, "force_row_wise": True}

    def margins(objective, weight):
        ds = lgb.Dataset(X, label=y, weight=weight, free_raw_data=False)
        booster = lgb.train({**params, "objective": objective}, ds, 15)
        return booster.predict(X, raw_score=True)

    for weight in (None, w):
        want = margins("multiclassova", weight)
        got = margins(fl.lightgbm.objective(fl.OneVsAllCrossentropy()), weight)
        assert got.shape == (n, 4) and np.abs(want).max() > 0.5
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# --- parameters other than the defaults ----------------------------------------------

NON_DEFAULT = [
    ("nll-cw-ignore", lambda: fl.NLL(ignore_class=0, class_weight=[0.5, 1.0, 2.0, 1.5]),
     "labels", lambda y, x: ref.nll_loss(y, x, ignore_class=0,
                                          class_weight=[0.5, 1.0, 2.0, 1.5])),
    ("multi_margin-p2-cw", lambda: fl.MultiMargin(2, 0.7, [0.5, 1.0, 2.0, 1.5]), "labels",
     lambda y, x: ref.multi_margin_loss(y, x, p=2, margin=0.7,
                                        class_weight=[0.5, 1.0, 2.0, 1.5])),
    ("multilabel_soft_margin-cw", lambda: fl.MultiLabelSoftMargin([0.5, 1.0, 2.0, 1.5]),
     "binary", lambda t, x: ref.multilabel_soft_margin_loss(t, x,
                                                            class_weight=[0.5, 1.0, 2.0, 1.5])),
    ("poly-eps-1", lambda: fl.PolyLoss(-1.0), "soft",
     lambda t, x: ref.poly_loss_cross_entropy(t, x, epsilon=-1.0)),
    ("gce-q0.8", lambda: fl.GeneralizedCrossentropy(0.8), "labels-probs",
     lambda y, p: ref.categorical_generalized_cross_entropy(y, p, q=0.8)),
]
NON_DEFAULT_IDS = [c[0] for c in NON_DEFAULT]


def _inputs(kind, rng, shape=(9, 4)):
    x = rng.normal(size=shape)
    if kind == "labels":
        return rng.integers(0, shape[-1], size=shape[:-1]), x
    if kind == "labels-probs":
        return rng.integers(0, shape[-1], size=shape[:-1]), rng.uniform(0.05, 1.0, size=shape)
    if kind == "binary":
        return (rng.uniform(size=shape) < 0.5).astype(np.float64), 3 * x
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]), 3 * x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make,kind,reference", NON_DEFAULT, ids=NON_DEFAULT_IDS)
def test_non_default_parameters_against_the_reference(name, make, kind, reference, dtype):
    rng = rng_for(name, "ref")
    t, x = _inputs(kind, rng)
    want = reference(t, x)
    got = make().__class__(**make().get_config())(t, x.astype(dtype))  # config round trip
    tol = {"rtol": 3e-5, "atol": 3e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(got, want.mean(), **tol)
    np.testing.assert_allclose(type(make())(**{**make().get_config(), "reduction": "none"})(
        t, x.astype(dtype)), want, **tol)


@pytest.mark.parametrize("name,make,kind,reference", NON_DEFAULT, ids=NON_DEFAULT_IDS)
def test_non_default_gradients_and_hessians_by_central_differences(name, make, kind,
                                                                   reference):
    rng = rng_for(name, "cd")
    t, x = _inputs(kind, rng)
    loss = type(make())(**{**make().get_config(), "reduction": "sum"})
    g = loss.backward(t, x)
    np.testing.assert_allclose(g, _central(lambda z: reference(t, z).sum(), x), rtol=1e-6,
                               atol=1e-7)
    if loss.has_hessian:
        gh, h = loss.gradient_hessian(t, x)
        np.testing.assert_allclose(gh, g, rtol=1e-12, atol=1e-15)
        # the Hessian's diagonal: d(gradient_k)/d(x_k)
        diag = np.zeros_like(x)
        for i in np.ndindex(*x.shape):
            e = np.zeros_like(x)
            e[i] = 1e-5
            diag[i] = (loss.backward(t, x + e)[i] - loss.backward(t, x - e)[i]) / 2e-5
        np.testing.assert_allclose(h, diag, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,make,kind,reference", NON_DEFAULT, ids=NON_DEFAULT_IDS)
def test_non_default_threads_bitwise(name, make, kind, reference):
    rng = rng_for(name, "threads")
    t, x = _inputs(kind, rng, (3000, 4))
    loss = make()
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(t, x)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(t, x)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)


def test_multi_margin_hessian_only_for_p2():
    y, x = np.array([0, 2]), np.array([[0.2, 0.5, -0.1], [1.0, 0.3, 0.2]])
    assert fl.MultiMargin(p=2).has_hessian and not fl.MultiMargin(p=1).has_hessian
    with pytest.raises(NotImplementedError, match="with p=1 the loss is piecewise linear"):
        fl.MultiMargin(p=1).gradient_hessian(y, x)
    # p = 2 by hand: row 0 (y = 0): h = (1.3, 0.7), hess at i != y: 2/3, at y: 2 * 2/3
    _, h = fl.MultiMargin(p=2).gradient_hessian(y, x)
    np.testing.assert_allclose(h[0], [4 / 3, 2 / 3, 2 / 3], rtol=1e-14)


def test_sparsemax_hessian_is_the_jacobian_diagonal_of_sparsemax():
    x = np.array([[0.5, 0.0, 0.0, -3.0], [2.0, 0.0, 0.0, 0.0]])
    y = np.array([1, 0])
    g, h = fl.MulticlassSparsemax().gradient_hessian(y, x)
    # row 0: support {0, 1, 2}: 1 - 1/3 there, 0 outside; row 1: support {0}: 0
    np.testing.assert_allclose(h, [[2 / 3, 2 / 3, 2 / 3, 0.0], [0.0, 0.0, 0.0, 0.0]],
                               rtol=1e-14)
    np.testing.assert_allclose(g, [[2 / 3, 1 / 6 - 1, 1 / 6, 0.0], [0.0, 0.0, 0.0, 0.0]],
                               atol=1e-15)


# --- errors ---------------------------------------------------------------------------


def test_parameter_errors():
    with pytest.raises(ValueError, match="MultiMargin: p must be 1 or 2, got 3"):
        fl.MultiMargin(p=3)
    with pytest.raises(ValueError, match="MultiMargin: p must be > 0"):
        fl.MultiMargin(p=0)
    with pytest.raises(ValueError, match="GeneralizedCrossentropy: q must be in \\(0, 1\\)"):
        fl.GeneralizedCrossentropy(q=1.0)
    with pytest.raises(ValueError, match="NLL: class weights must be finite and >= 0"):
        fl.NLL(class_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="class_weight has 2 entries but y_pred has 3 classes"):
        fl.NLL(class_weight=[1.0, 2.0])(np.array([0]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="class_weight has 2 entries but y_pred has 3 classes"):
        fl.MultiLabelSoftMargin([1.0, 2.0])(np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(TypeError, match="class_weight must be a sequence"):
        fl.MultiMargin(class_weight=2.0)


@pytest.mark.parametrize("cls", [fl.NLL, fl.MultiMargin, fl.MultiClassPerceptron,
                                 fl.MulticlassSparsemax, fl.GeneralizedCrossentropy,
                                 fl.OneVsAllCrossentropy])
def test_labels_outside_the_classes_name_the_first(cls):
    with pytest.raises(ValueError, match=r"label 3 at index 1 is outside \[0, 3\)"):
        cls()(np.array([0, 3, 5]), np.full((3, 3), 0.3))


@pytest.mark.parametrize("t,pattern", [
    ([[0, 3, -1]], r"class id 3 at index \(0, 1\) is not an integer in \[0, 3\)"),
    ([[0.5, -1, 0]], r"class id 0.5 at index \(0, 0\)"),
    ([[1, 0, 2], [2, np.nan, -1]], r"class id nan at index \(1, 1\)"),
])
def test_multilabel_margin_bad_targets_are_named(t, pattern):
    with pytest.raises(ValueError, match=pattern):
        fl.MultiLabelMargin()(np.array(t), np.zeros((len(t), 3)))


def test_multilabel_margin_reads_targets_up_to_the_first_minus_one():
    x = np.array([[0.1, 0.2, 0.4]])
    # what follows the first -1 is not read, even when it is out of range
    a = fl.MultiLabelMargin()(np.array([[1, -1, 7]]), x)
    b = fl.MultiLabelMargin()(np.array([[1, -1, 0]]), x)
    assert a == b == pytest.approx(0.7, rel=1e-14)
    with pytest.raises(ValueError, match="incompatible"):
        fl.MultiLabelMargin()(np.array([[1, -1]]), x)
    with pytest.raises(TypeError, match="integer class ids"):
        fl.MultiLabelMargin()(np.array([["a", "b", "c"]]), x)


def test_inputs_are_not_modified():
    rng = rng_for("untouched")
    x = rng.normal(size=(6, 4))
    t = _label_sets(rng, 6, 4)
    y = rng.integers(0, 4, size=6)
    for loss, target in [(fl.MultiLabelMargin(), t), (fl.NLL(class_weight=[1, 2, 3, 4]), y),
                         (fl.MulticlassSparsemax(), y), (fl.MultiMargin(2), y)]:
        x0, t0 = x.copy(), target.copy()
        loss.forward_backward(target, x)
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(target, t0)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight",
                                       "none"])
def test_dask_inputs_follow_the_same_rules(reduction):
    """NLL's class-weighted mean and MultiLabelMargin's label sets on dask arrays
    (blocks of rows): the NumPy results."""
    da = pytest.importorskip("dask.array")
    rng = rng_for("dask", reduction)
    x = rng.normal(size=(23, 5))
    y = rng.integers(0, 5, size=23)
    sets = _label_sets(rng, 23, 5)
    sw = rng.uniform(0.5, 2.0, size=23)
    for loss, t in [(fl.NLL(ignore_class=3, class_weight=[1, 2, 0.5, 3, 1],
                            reduction=reduction), y),
                    (fl.MultiLabelMargin(reduction=reduction), sets)]:
        dt = da.from_array(t, chunks=(6,) + t.shape[1:])
        dx = da.from_array(x, chunks=(6, 5))
        for w in (None, sw):
            v, g = loss.forward_backward(t, x, w)
            dv, dg = loss.forward_backward(dt, dx, w)
            np.testing.assert_allclose(np.asarray(dv.compute()), v, rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(dg.compute(), g, rtol=1e-13, atol=1e-15)

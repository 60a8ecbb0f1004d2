"""AdaptiveLogSoftmax: Grave et al.'s adaptive softmax over its weight arrays.

The value, the per-row log-likelihoods and every gradient (hidden, head
weight and bias, each cluster's projection and output weight) against the
float64 NumPy reference written from the formula (tests/reference.py) and
against PyTorch's nn.AdaptiveLogSoftmaxWithLoss with the same weights through
autograd (float32 and float64); log_prob and predict against PyTorch's;
central differences; the edge cases of the routing (an empty cluster, only
shortlist rows, one cluster, one row, no rows, no head bias); bitwise equality
across thread counts; untouched inputs; and the errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import fastloss as fl

import reference as ref

REDUCTIONS = ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"]


def widths(h, k, div):
    return [int(h // div ** (i + 1)) for i in range(k)]


def problem(n, h, n_classes, cutoffs, div=4.0, dtype=np.float64, seed=0, bias=True,
            labels=None):
    rng = np.random.default_rng(seed)
    s, k = cutoffs[0], len(cutoffs)
    bounds = [*cutoffs, n_classes]
    hidden = rng.standard_normal((n, h)).astype(dtype)
    head_w = (rng.standard_normal((s + k, h)) / math.sqrt(h)).astype(dtype)
    head_b = rng.standard_normal(s + k).astype(dtype) if bias else None
    tail = []
    for i, w in enumerate(widths(h, k, div)):
        proj = (rng.standard_normal((w, h)) / math.sqrt(h)).astype(dtype)
        out = (rng.standard_normal((bounds[i + 1] - bounds[i], w)) / math.sqrt(max(w, 1)))
        tail.append((proj, out.astype(dtype)))
    if labels is None:
        labels = rng.integers(0, n_classes, n)
    return np.asarray(labels, np.int64), hidden, head_w, head_b, tail


def call_args(labels, hidden, head_w, head_b, tail):
    return (labels, hidden, head_w, tail) if head_b is None else \
        (labels, hidden, head_w, head_b, tail)


def coefficients(reduction, n, sw):
    s = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    if reduction == "sum_over_batch_size":
        return s / n if n else s
    if reduction == "mean_with_sample_weight":
        return s / s.sum()
    return s


def expected(labels, hidden, head_w, head_b, tail, cutoffs, n_classes, reduction,
             sw=None):
    n = hidden.shape[0]
    coef = coefficients(reduction, n, sw)
    _, nll, grads = ref.adaptive_log_softmax(labels, hidden, head_w, head_b, tail, cutoffs,
                                             n_classes, coef)
    s = np.ones(n) if sw is None else np.asarray(sw, np.float64)
    if reduction == "none":
        value = nll * s
    elif reduction == "sum":
        value = np.sum(nll * s)
    elif reduction == "sum_over_batch_size":
        value = np.sum(nll * s) / n if n else 0.0
    else:
        value = np.sum(nll * s) / np.sum(s)
    return value, grads


def close(got, want, rtol, atol, what):
    """atol is relative to the array's largest entry: a gradient summed over
    many rows carries the rounding of its largest terms into its small ones."""
    scale = max(1.0, float(np.abs(want).max())) if np.size(want) else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=what)


def assert_grads(got, want, rtol, atol, with_bias):
    d_hidden, d_head_w, *rest = got
    close(d_hidden, want[0], rtol, atol, "d_hidden")
    close(d_head_w, want[1], rtol, atol, "d_head_w")
    if with_bias:
        close(rest[0], want[2], rtol, atol, "d_head_b")
    d_tail = rest[-1]
    assert isinstance(d_tail, list) and len(d_tail) == len(want[3])
    for k, ((dp, do), (wp, wo)) in enumerate(zip(d_tail, want[3])):
        close(dp, wp, rtol, atol, f"d_proj[{k}]")
        close(do, wo, rtol, atol, f"d_out[{k}]")


SHAPES = [  # (n, h, n_classes, cutoffs, div_value)
    (57, 16, 40, [6, 15, 31], 2.0),
    (33, 12, 10, [3], 4.0),
    (1, 8, 9, [2, 5], 2.0),
    (300, 20, 700, [100, 650], 4.0),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}-V{s[2]}-{s[3]}")
def test_against_float64_reference(shape, dtype, with_bias, reduction):
    n, h, v, cutoffs, div = shape
    args = problem(n, h, v, cutoffs, div, dtype, seed=n + h, bias=with_bias)
    sw = np.random.default_rng(5).uniform(0.2, 2.0, n)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=div, reduction=reduction)
    value, grads = loss.forward_backward(*call_args(*args), sample_weight=sw)
    want_value, want_grads = expected(*args, cutoffs, v, reduction, sw)
    rtol, atol = (1e-12, 1e-13) if dtype == np.float64 else (2e-5, 2e-6)
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, want_value, rtol=rtol, atol=atol)
    np.testing.assert_allclose(loss.forward(*call_args(*args), sample_weight=sw), value,
                               rtol=0, atol=0)
    assert len(grads) == (4 if with_bias else 3)
    for g, a in zip(grads[:-1], (args[1], args[2], args[3])):
        assert g.shape == a.shape and g.dtype == dtype
    assert_grads(grads, want_grads, rtol, atol, with_bias)
    bw = loss.backward(*call_args(*args), sample_weight=sw)
    for a, b in zip(bw[:-1], grads[:-1]):
        assert a.tobytes() == b.tobytes()
    for (pa, oa), (pb, ob) in zip(bw[-1], grads[-1]):
        assert pa.tobytes() == pb.tobytes() and oa.tobytes() == ob.tobytes()


def test_log_prob_and_predict_against_reference():
    v, cutoffs = 40, [6, 15, 31]
    labels, hidden, hw, hb, tail = problem(700, 16, v, cutoffs, 2.0, seed=3)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=2.0)
    full, nll, _ = ref.adaptive_log_softmax(labels, hidden, hw, hb, tail, cutoffs, v)
    lp = loss.log_prob(hidden, hw, hb, tail)
    np.testing.assert_allclose(lp, full, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(np.exp(lp).sum(1), 1.0, rtol=1e-12)
    assert lp.shape == (700, v) and lp.dtype == np.float64
    np.testing.assert_array_equal(loss.predict(hidden, hw, hb, tail), full.argmax(1))
    np.testing.assert_allclose(fl.AdaptiveLogSoftmax(v, cutoffs, 2.0, reduction="none")(
        labels, hidden, hw, hb, tail), nll, rtol=1e-12, atol=1e-13)
    # larger head scores route some rows to the shortlist and others to clusters
    hw_big = hw * 8
    pred = loss.predict(hidden, hw_big, hb, tail)
    full_big, _, _ = ref.adaptive_log_softmax(labels, hidden, hw_big, hb, tail, cutoffs, v)
    np.testing.assert_array_equal(pred, full_big.argmax(1))
    assert (pred < cutoffs[0]).any() and (pred >= cutoffs[0]).any()
    assert pred.dtype == np.int64
    # without the bias
    np.testing.assert_array_equal(loss.predict(hidden, hw, tail),
                                  ref.adaptive_log_softmax(labels, hidden, hw, None, tail,
                                                           cutoffs, v)[0].argmax(1))


# ---------------------------------------------------------------------------
# PyTorch


def _torch_model(torch, h, v, cutoffs, div, head_bias, dtype, seed):
    torch.manual_seed(seed)
    m = torch.nn.AdaptiveLogSoftmaxWithLoss(h, v, cutoffs, div_value=div, head_bias=head_bias)
    return m.to(dtype)


def _weights(m):
    def a(t):
        return t.detach().numpy()
    bias = a(m.head.bias) if m.head.bias is not None else None
    return a(m.head.weight), bias, [(a(p.weight), a(o.weight)) for p, o in m.tail]


@pytest.mark.parametrize("head_bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(64, 64, 100, [10, 40, 70], 4.0), (20, 9, 12, [4], 2.0),
                                   (1, 16, 30, [5, 12], 4.0)])
def test_against_pytorch(shape, dtype, head_bias):
    torch = pytest.importorskip("torch")
    n, h, v, cutoffs, div = shape
    tdtype = getattr(torch, dtype)
    m = _torch_model(torch, h, v, cutoffs, div, head_bias, tdtype, seed=n)
    gen = torch.Generator().manual_seed(n + 1)
    x = torch.randn(n, h, generator=gen, dtype=tdtype, requires_grad=True)
    y = torch.randint(0, v, (n,), generator=gen)
    result = m(x, y)
    result.loss.backward()
    hw, hb, tail = _weights(m)
    xs = x.detach().numpy()
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=div)
    args = call_args(y.numpy(), xs, hw, hb, tail)
    value, grads = loss.forward_backward(*args)
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (1e-5, 1e-6)
    np.testing.assert_allclose(value, result.loss.item(), rtol=rtol, atol=atol)
    per_row = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=div, reduction="none")(*args)
    np.testing.assert_allclose(-per_row, result.output.detach().numpy(), rtol=rtol, atol=atol)
    want = [x.grad, m.head.weight.grad] + ([m.head.bias.grad] if head_bias else [])
    for g, t in zip(grads[:-1], want):
        np.testing.assert_allclose(g, t.numpy(), rtol=rtol, atol=atol)
    for k, ((dp, do), (p, o)) in enumerate(zip(grads[-1], m.tail)):
        if p.weight.grad is None:  # no row of this batch in cluster k
            assert not dp.any() and not do.any()
            continue
        np.testing.assert_allclose(dp, p.weight.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"proj {k}")
        np.testing.assert_allclose(do, o.weight.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"out {k}")
    model = (xs, hw, hb, tail) if head_bias else (xs, hw, tail)
    with torch.no_grad():
        np.testing.assert_allclose(loss.log_prob(*model), m.log_prob(x).numpy(), rtol=rtol,
                                   atol=10 * atol)
        np.testing.assert_array_equal(loss.predict(*model), m.predict(x).numpy())


def test_pytorch_predict_with_rows_in_both_levels():
    torch = pytest.importorskip("torch")
    m = _torch_model(torch, 24, 60, [8, 30], 2.0, True, torch.float64, seed=9)
    with torch.no_grad():
        m.head.weight.mul_(6.0)  # sharp head: some rows pick a shortlist class, others a cluster
    x = torch.randn(400, 24, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    hw, hb, tail = _weights(m)
    with torch.no_grad():
        want = m.predict(x).numpy()
    got = fl.AdaptiveLogSoftmax(60, [8, 30], div_value=2.0).predict(x.numpy(), hw, hb, tail)
    np.testing.assert_array_equal(got, want)
    assert (want < 8).any() and (want >= 8).any()


# ---------------------------------------------------------------------------
# Central differences


def test_central_differences():
    v, cutoffs = 14, [4, 9]
    args = problem(11, 6, v, cutoffs, 2.0, seed=21)
    sw = np.random.default_rng(1).uniform(0.5, 1.5, 11)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=2.0, reduction="sum")
    grads = loss.backward(*call_args(*args), sample_weight=sw)
    labels, hidden, hw, hb, tail = args
    arrays = [hidden, hw, hb, tail[0][0], tail[0][1], tail[1][0], tail[1][1]]
    analytic = [grads[0], grads[1], grads[2], grads[3][0][0], grads[3][0][1],
                grads[3][1][0], grads[3][1][1]]
    eps = 1e-6
    for a, g in zip(arrays, analytic):
        assert g.shape == a.shape
        for idx in np.ndindex(a.shape):
            keep = a[idx]
            a[idx] = keep + eps
            up = loss(*call_args(*args), sample_weight=sw)
            a[idx] = keep - eps
            down = loss(*call_args(*args), sample_weight=sw)
            a[idx] = keep
            np.testing.assert_allclose(g[idx], (up - down) / (2 * eps), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------
# Edge cases


def test_an_empty_cluster_and_only_shortlist_rows():
    v, cutoffs = 30, [5, 12, 20]
    labels = np.array([0, 3, 14, 4, 25, 1, 13])  # nothing in cluster 0 ([5, 12))
    args = problem(7, 16, v, cutoffs, 2.0, seed=4, labels=labels)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=2.0)
    value, grads = loss.forward_backward(*call_args(*args))
    want_value, want_grads = expected(*args, cutoffs, v, "sum_over_batch_size")
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    assert_grads(grads, want_grads, 1e-12, 1e-14, True)
    assert not grads[-1][0][0].any() and not grads[-1][0][1].any()
    assert grads[-1][1][0].any()
    # every row in the shortlist: the tail has zero gradients, the head is a softmax CE
    short = np.array([0, 4, 2, 2, 1])
    args = problem(5, 16, v, cutoffs, 2.0, seed=6, labels=short)
    value, grads = loss.forward_backward(*call_args(*args))
    want_value, want_grads = expected(*args, cutoffs, v, "sum_over_batch_size")
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    assert_grads(grads, want_grads, 1e-12, 1e-14, True)
    assert all(not dp.any() and not do.any() for dp, do in grads[-1])
    head_only = fl.LinearCrossentropy()(short, args[1], args[2], args[3])
    np.testing.assert_allclose(value, head_only, rtol=1e-13)


def test_no_rows():
    v, cutoffs = 10, [3, 6]
    labels, hidden, hw, hb, tail = problem(0, 8, v, cutoffs, 2.0)
    value, grads = fl.AdaptiveLogSoftmax(v, cutoffs, 2.0).forward_backward(
        labels, hidden, hw, hb, tail)
    assert value == 0.0
    assert grads[0].shape == (0, 8) and not grads[1].any() and not grads[2].any()
    assert fl.AdaptiveLogSoftmax(v, cutoffs, 2.0).log_prob(hidden, hw, hb, tail).shape == (0, v)
    assert fl.AdaptiveLogSoftmax(v, cutoffs, 2.0).predict(hidden, hw, hb, tail).shape == (0,)


def test_zero_width_projection():
    """PyTorch makes a projection of H // div**(k+1) = 0 rows for a deep
    cluster of a narrow model: its classes are equally likely."""
    v, cutoffs = 12, [3, 6]
    args = problem(9, 3, v, cutoffs, 2.0, seed=8, labels=[0, 7, 8, 11, 4, 5, 1, 9, 3])
    assert args[4][1][0].shape == (0, 3)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=2.0)
    value, grads = loss.forward_backward(*call_args(*args))
    want_value, want_grads = expected(*args, cutoffs, v, "sum_over_batch_size")
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    assert_grads(grads, want_grads, 1e-12, 1e-14, True)
    lp = loss.log_prob(*args[1:])
    np.testing.assert_allclose(lp[:, 7] - lp[:, 6], 0.0, atol=1e-14)


def test_div_value_none_takes_any_width():
    v, cutoffs = 20, [5, 10]
    labels, hidden, hw, hb, tail = problem(15, 8, v, cutoffs, 2.0, seed=2)
    rng = np.random.default_rng(0)
    tail = [(rng.standard_normal((7, 8)), rng.standard_normal((5, 7))),
            (rng.standard_normal((1, 8)), rng.standard_normal((10, 1)))]
    with pytest.raises(ValueError, match="div_value"):
        fl.AdaptiveLogSoftmax(v, cutoffs)(labels, hidden, hw, hb, tail)
    value, grads = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=None).forward_backward(
        labels, hidden, hw, hb, tail)
    want_value, want_grads = expected(labels, hidden, hw, hb, tail, cutoffs, v,
                                      "sum_over_batch_size")
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    assert_grads(grads, want_grads, 1e-12, 1e-14, True)


def test_grad_output_and_inputs_untouched():
    v, cutoffs = 25, [4, 11]
    args = problem(30, 12, v, cutoffs, 2.0, seed=3)
    copies = [a.copy() for a in args[:4]] + [[(p.copy(), o.copy()) for p, o in args[4]]]
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, 2.0)
    g1 = loss.backward(*args)
    g3 = loss.backward(*args, grad_output=3.0)
    np.testing.assert_allclose(g3[0], 3 * g1[0], rtol=1e-13)
    np.testing.assert_allclose(g3[-1][1][1], 3 * g1[-1][1][1], rtol=1e-13)
    go = np.random.default_rng(0).uniform(-1, 1, 30)
    none = fl.AdaptiveLogSoftmax(v, cutoffs, 2.0, reduction="none")
    gn = none.backward(*args, grad_output=go)
    want = expected(*args, cutoffs, v, "sum", go)[1]
    assert_grads(gn, want, 1e-12, 1e-14, True)
    for a, c in zip(args[:4], copies[:4]):
        np.testing.assert_array_equal(a, c)
    for (p, o), (pc, oc) in zip(args[4], copies[4]):
        np.testing.assert_array_equal(p, pc)
        np.testing.assert_array_equal(o, oc)


def _bits(result):
    value, grads = result
    out = [np.asarray(value).tobytes()] + [g.tobytes() for g in grads[:-1]]
    return out + [a.tobytes() for pair in grads[-1] for a in pair]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_bitwise(dtype):
    v, cutoffs = 3000, [200, 1000]
    args = problem(700, 32, v, cutoffs, 4.0, dtype, seed=12)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs)
    results = []
    for t in (1, 2):
        with fl.num_threads(t):
            results.append(_bits(loss.forward_backward(*args)))
    assert results[0] == results[1]


def test_config_and_serialization():
    loss = fl.AdaptiveLogSoftmax(100, (10, 50), div_value=2.0, reduction="sum", name="asm")
    assert loss.get_config()["cutoffs"] == [10, 50]
    back = fl.deserialize(fl.serialize(loss))
    assert type(back) is fl.AdaptiveLogSoftmax and back.get_config() == loss.get_config()
    assert loss.n_clusters == 2 and loss.shortlist_size == 10
    again = pickle.loads(pickle.dumps(loss))
    assert again.get_config() == loss.get_config()
    args = problem(9, 8, 100, [10, 50], 2.0, seed=1)
    assert again(*args) == loss(*args)


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("kwargs, err, match", [
    ({"n_classes": 10, "cutoffs": []}, ValueError, "at least one"),
    ({"n_classes": 10, "cutoffs": [5, 3]}, ValueError, "strictly increasing"),
    ({"n_classes": 10, "cutoffs": [3, 3]}, ValueError, "strictly increasing"),
    ({"n_classes": 10, "cutoffs": [0, 3]}, ValueError, r"\[1, n_classes - 1\]"),
    ({"n_classes": 10, "cutoffs": [3, 10]}, ValueError, r"\[1, n_classes - 1\]"),
    ({"n_classes": 10, "cutoffs": [3.5]}, TypeError, "integers"),
    ({"n_classes": 10, "cutoffs": 3}, TypeError, "sequence"),
    ({"n_classes": 10.0, "cutoffs": [3]}, TypeError, "n_classes"),
    ({"n_classes": 10, "cutoffs": [3], "div_value": 0.0}, ValueError, "div_value"),
    ({"n_classes": 10, "cutoffs": [3], "div_value": "4"}, TypeError, "div_value"),
])
def test_constructor_errors(kwargs, err, match):
    with pytest.raises(err, match=match):
        fl.AdaptiveLogSoftmax(**kwargs)


def test_input_errors():
    v, cutoffs = 20, [5, 10]
    labels, hidden, hw, hb, tail = problem(6, 8, v, cutoffs, 2.0, seed=1)
    loss = fl.AdaptiveLogSoftmax(v, cutoffs, div_value=2.0)
    with pytest.raises(ValueError, match=r"labels\[2\] = 20 is out of range"):
        loss(np.array([0, 1, 20, 3, 4, 5]), hidden, hw, hb, tail)
    with pytest.raises(ValueError, match="out of range"):
        loss(np.array([0, -1, 2, 3, 4, 5]), hidden, hw, hb, tail)
    with pytest.raises(ValueError, match="not an integer"):
        loss(labels + 0.5, hidden, hw, hb, tail)
    with pytest.raises(ValueError, match=r"labels must be \(N,\)"):
        loss(labels[:5], hidden, hw, hb, tail)
    with pytest.raises(ValueError, match="hidden must have 2 dimensions"):
        loss(labels, hidden[0], hw, hb, tail)
    with pytest.raises(ValueError, match="head_weight has shape"):
        loss(labels, hidden, hw[:-1], hb, tail)
    with pytest.raises(ValueError, match="head_bias has shape"):
        loss(labels, hidden, hw, hb[:-1], tail)
    with pytest.raises(ValueError, match="tail has 1 pairs"):
        loss(labels, hidden, hw, hb, tail[:1])
    with pytest.raises(ValueError, match=r"tail\[1\] output weight has shape"):
        loss(labels, hidden, hw, hb, [tail[0], (tail[1][0], tail[1][1][:-1])])
    with pytest.raises(ValueError, match=r"tail\[0\] projection has shape"):
        loss(labels, hidden, hw, hb, [(tail[0][0][:, :-1], tail[0][1]), tail[1]])
    with pytest.raises(ValueError, match=r"tail\[0\] projection has 3 rows"):
        loss(labels, hidden, hw, hb, [(tail[0][0][:3], tail[0][1][:, :3]), tail[1]])
    with pytest.raises(TypeError, match=r"tail\[0\] must be a pair"):
        loss(labels, hidden, hw, hb, [tail[0][0], tail[1]])
    with pytest.raises(TypeError, match="tail must be a sequence"):
        loss(labels, hidden, hw, hb, tail[0][0])
    with pytest.raises(TypeError, match="dtype float32 but hidden has dtype float64"):
        loss(labels, hidden, hw.astype(np.float32), hb, tail)
    with pytest.raises(TypeError, match="positional arguments"):
        loss(labels, hidden, hw)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        loss(labels, hidden, hw, hb, tail, sample_weight=np.ones((6, 2)))
    with pytest.raises(TypeError, match="out="):
        loss.backward(labels, hidden, hw, hb, tail, out=np.empty_like(hidden))
    with pytest.raises(NotImplementedError, match="not diagonal"):
        loss.gradient_hessian(labels, hidden, hw, hb, tail)
    with pytest.raises(TypeError, match="log_prob takes"):
        loss.log_prob(hidden, hw)
    with pytest.raises(ValueError, match="head_weight has shape"):
        loss.predict(hidden, hw.T, tail)
    for bad in (np.nan, np.inf):
        h2 = hidden.copy()
        h2[0, 0] = bad  # a non-finite input propagates, as in every loss
        assert not np.isfinite(loss(labels, h2, hw, hb, tail))


# ---------------------------------------------------------------------------
# fastloss.torch.AdaptiveLogSoftmaxWithLoss, the drop-in module


@pytest.mark.parametrize("head_bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_drop_in_module(dtype, head_bias):
    torch = pytest.importorskip("torch")
    import fastloss.torch as flt

    tdtype = getattr(torch, dtype)
    peer = _torch_model(torch, 32, 50, [6, 20], 2.0, head_bias, tdtype, seed=4)
    ours = flt.AdaptiveLogSoftmaxWithLoss(32, 50, [6, 20], div_value=2.0, head_bias=head_bias,
                                          dtype=tdtype)
    ours.load_state_dict(peer.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in peer.named_parameters()]
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(45, 32, generator=gen, dtype=tdtype)
    y = torch.randint(0, 50, (45,), generator=gen)
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (1e-5, 1e-6)
    row_weights = torch.rand(45, generator=gen, dtype=tdtype)
    for upstream in ("loss", "weighted output"):  # a mean's uniform grad, then any grad
        results = []
        for m in (peer, ours):
            m.zero_grad()
            xr = x.clone().requires_grad_(True)
            out = m(xr, y)
            target = out.loss if upstream == "loss" else -(out.output * row_weights).sum()
            target.backward()
            results.append((out, xr.grad, [p.grad for p in m.parameters()]))
        (p_out, p_dx, p_grads), (o_out, o_dx, o_grads) = results
        np.testing.assert_allclose(o_out.output.detach(), p_out.output.detach(), rtol=rtol,
                                   atol=atol)
        np.testing.assert_allclose(o_out.loss.item(), p_out.loss.item(), rtol=rtol, atol=atol)
        np.testing.assert_allclose(o_dx, p_dx, rtol=rtol, atol=atol)
        for a, b in zip(o_grads, p_grads):
            want = np.zeros(a.shape) if b is None else b.numpy()  # an empty cluster: None
            np.testing.assert_allclose(a, want, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours.log_prob(x), peer.log_prob(x).detach(), rtol=rtol,
                               atol=10 * atol)
    np.testing.assert_array_equal(ours.predict(x), peer.predict(x))
    # one unbatched row
    one = ours(x[0], y[0])
    assert one.output.shape == () and one.output.item() == pytest.approx(
        peer(x[0], y[0]).output.item(), rel=rtol, abs=atol)
    with torch.no_grad():
        assert ours(x, y).loss.item() == pytest.approx(p_out.loss.item(), rel=rtol, abs=atol)
    with pytest.raises(ValueError, match="cutoffs must be strictly increasing"):
        flt.AdaptiveLogSoftmaxWithLoss(32, 50, [20, 6])
    with pytest.raises(ValueError, match="out of range"):
        ours(x, torch.full((45,), 50))

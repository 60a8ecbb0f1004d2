"""LinearCrossentropy: cross-entropy on a linear head without the (N, V) logits.

Values and the three gradients against the float64 NumPy reference on the full
logits (tests/reference.py) and against PyTorch (F.cross_entropy on
hidden @ weight.T + bias, through autograd; F.linear_cross_entropy and
nn.LinearCrossEntropyLoss), central differences, bitwise equality across chunk
sizes, fastloss thread counts and BLAS thread counts, untouched inputs, and the
errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastloss as fl

import reference as ref

RNG = np.random.default_rng(20261202)


def problem(n, h, v, dtype=np.float64, seed=0, ignore_every=0, scale=1.0):
    rng = np.random.default_rng(seed)
    hidden = (rng.standard_normal((n, h)) * scale).astype(dtype)
    weight = (rng.standard_normal((v, h)) / math.sqrt(max(h, 1))).astype(dtype)
    bias = rng.standard_normal(v).astype(dtype)
    labels = rng.integers(0, v, n)
    if ignore_every:
        labels[::ignore_every] = -100
    return labels, hidden, weight, bias


def expected(labels, hidden, weight, bias, reduction="sum_over_batch_size", sample_weight=None,
             ignore_class=-100, label_smoothing=0.0, class_weight=None):
    """The reduced value and the three gradients from the full float64 logits."""
    per_row, wy, dz = ref.linear_cross_entropy(labels, hidden, weight, bias, ignore_class,
                                               label_smoothing, class_weight)
    n = per_row.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if reduction in (None, "none"):
        value, coef = per_row * sw, sw
    elif reduction == "sum":
        value, coef = np.sum(per_row * sw), sw
    else:
        divisor = np.sum(wy) if reduction in ("sum_over_batch_size", "mean") else np.sum(sw * wy)
        # no counted row: PyTorch's 0 / 0 (NaN); an empty batch: 0
        value = (np.sum(per_row * sw) / divisor if divisor else math.nan) if n else 0.0
        coef = sw / divisor if divisor else np.zeros(n)
    g = dz * coef[:, None]
    h64, w64 = np.asarray(hidden, np.float64), np.asarray(weight, np.float64)
    return value, (g @ w64, g.T @ h64, g.sum(0) if bias is not None else None)


def assert_close(got, want, rtol, atol, what=""):
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol, atol=atol,
                               err_msg=what)


OPTIONS = [
    {},
    {"label_smoothing": 0.1},
    {"class_weight": "random"},
    {"class_weight": "random", "label_smoothing": 0.25},
    {"ignore_class": 3},
]


def _options(opts, v, seed=1):
    o = dict(opts)
    if o.get("class_weight") == "random":
        o["class_weight"] = list(np.random.default_rng(seed).uniform(0.2, 2.0, v))
    return o


@pytest.mark.parametrize("opts", OPTIONS)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("shape", [(37, 5, 7), (1, 3, 1), (130, 9, 1100)])
def test_against_float64_reference(opts, with_bias, shape):
    n, h, v = shape
    labels, hidden, weight, bias = problem(n, h, v, ignore_every=4, seed=v)
    b = bias if with_bias else None
    o = _options(opts, v)
    labels[labels == -100] = o.get("ignore_class", -100)
    loss = fl.LinearCrossentropy(**o)
    value, grads = loss.forward_backward(labels, hidden, weight, b)
    want_value, want = expected(labels, hidden, weight, b, **o)
    assert_close(value, want_value, 1e-12, 1e-14, "value")
    assert len(grads) == (3 if with_bias else 2)  # one gradient per trained input
    for g, w, name in zip(grads, want, ("d_hidden", "d_weight", "d_bias")):
        assert g.dtype == np.float64 and g.shape == w.shape
        assert_close(g, w, 1e-11, 1e-14, name)
    # forward and backward alone agree with the fused call (NaN when every row is ignored)
    assert np.asarray(loss(labels, hidden, weight, b)).tobytes() == np.asarray(value).tobytes()
    for g, g2 in zip(loss.backward(labels, hidden, weight, b), grads, strict=True):
        assert np.array_equal(g, g2)


@pytest.mark.parametrize("reduction", ["sum", "none", "mean_with_sample_weight",
                                       "sum_over_batch_size"])
def test_reductions_and_sample_weight(reduction):
    labels, hidden, weight, bias = problem(50, 6, 40, ignore_every=5, seed=3)
    sw = RNG.uniform(0.0, 2.0, 50)
    cw = list(RNG.uniform(0.5, 1.5, 40))
    loss = fl.LinearCrossentropy(reduction=reduction, class_weight=cw, label_smoothing=0.05)
    go = RNG.uniform(0.5, 1.5, 50) if reduction == "none" else 0.7
    value, grads = loss.forward_backward(labels, hidden, weight, bias, sample_weight=sw,
                                         grad_output=go)
    want_value, want = expected(labels, hidden, weight, bias, reduction, sw,
                                label_smoothing=0.05, class_weight=cw)
    assert_close(value, want_value, 1e-12, 1e-14)
    if reduction == "none":
        _, want = expected(labels, hidden, weight, bias, "none", sw * go,
                           label_smoothing=0.05, class_weight=cw)
    else:
        want = tuple(w * 0.7 for w in want)
    for g, w in zip(grads, want):
        assert_close(g, w, 1e-11, 1e-14)


def test_central_differences():
    labels, hidden, weight, bias = problem(6, 4, 9, ignore_every=4, seed=8)
    loss = fl.LinearCrossentropy(label_smoothing=0.2, class_weight=list(np.linspace(0.5, 2, 9)))
    _, grads = loss.forward_backward(labels, hidden, weight, bias)
    args = [hidden, weight, bias]
    for k, g in enumerate(grads):
        x = args[k]
        num = np.zeros_like(x)
        step = 1e-3
        for idx in np.ndindex(x.shape):
            vals = []
            for d in (-2, -1, 1, 2):
                xs = x.copy()
                xs[idx] += d * step
                a = list(args)
                a[k] = xs
                vals.append(loss(labels, *a))
            num[idx] = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * step)
        assert_close(g, num, 1e-7, 1e-9, f"gradient {k}")


def _torch_reference(labels, hidden, weight, bias, ignore_class=-100, label_smoothing=0.0,
                     class_weight=None, reduction="mean"):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    h = torch.tensor(hidden, requires_grad=True)
    w = torch.tensor(weight, requires_grad=True)
    b = torch.tensor(bias, requires_grad=True) if bias is not None else None
    z = h @ w.T + (b if b is not None else 0)
    cw = torch.tensor(class_weight, dtype=h.dtype) if class_weight is not None else None
    out = F.cross_entropy(z, torch.tensor(labels), weight=cw, ignore_index=ignore_class,
                          label_smoothing=label_smoothing, reduction=reduction)
    out.sum().backward()
    return (out.detach().numpy(), h.grad.numpy(), w.grad.numpy(),
            b.grad.numpy() if b is not None else None)


@pytest.mark.parametrize("opts", OPTIONS)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_against_pytorch_float32(opts, with_bias, reduction):
    labels, hidden, weight, bias = problem(67, 16, 300, np.float32, seed=11, ignore_every=6)
    b = bias if with_bias else None
    o = _options(opts, 300)
    labels[labels == -100] = o.get("ignore_class", -100)
    t_value, *t_grads = _torch_reference(labels, hidden, weight, b, reduction=reduction, **o)
    loss = fl.LinearCrossentropy(reduction=reduction, **o)
    value, grads = loss.forward_backward(labels, hidden, weight, b,
                                         grad_output=np.ones(67, np.float32)
                                         if reduction == "none" else 1.0)
    assert np.asarray(value).dtype == np.float32
    assert_close(value, t_value, 2e-5, 1e-6, "value")
    assert len(grads) == (3 if with_bias else 2)
    for g, t in zip(grads, t_grads):
        assert g.dtype == np.float32
        assert_close(g, t, 2e-4, 2e-6)


@pytest.mark.parametrize("v", [1, 7, 32000, 131072])
def test_vocabulary_sizes_float32(v):
    """Large vocabularies (small N and H so the test is fast): against the
    float64 reference and PyTorch."""
    n, h = (5, 8) if v > 1000 else (23, 5)
    labels, hidden, weight, bias = problem(n, h, v, np.float32, seed=v, scale=3.0)
    labels[1] = -100
    loss = fl.LinearCrossentropy(label_smoothing=0.1)
    value, grads = loss.forward_backward(labels, hidden, weight, bias)
    want_value, want = expected(labels, hidden, weight, bias, label_smoothing=0.1)
    assert_close(value, want_value, 1e-5, 1e-6)
    # a float32 gradient entry sums V products: its error is relative to the
    # gradient's scale (normwise), as PyTorch's float32 matmul's is
    for g, w in zip(grads, want):
        assert_close(g, w, 1e-4, 1e-5 * np.abs(w).max())
    # PyTorch's float32 product sums all V terms of d_hidden at once: measured
    # 4e-5 of the gradient's scale from the float64 reference at V = 131072,
    # where fastloss's span-wise sums stay within 1e-6
    t_value, *t_grads = _torch_reference(labels, hidden, weight, bias, label_smoothing=0.1)
    assert_close(value, t_value, 1e-5, 1e-6)
    for g, t, w in zip(grads, t_grads, want):
        assert_close(g, t, 1e-4, 1e-4 * np.abs(w).max())


def test_against_pytorch_linear_cross_entropy():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    if not hasattr(F, "linear_cross_entropy"):
        pytest.skip("this PyTorch has no linear_cross_entropy")
    labels, hidden, weight, bias = problem(300, 32, 2000, np.float32, seed=5, ignore_every=7)
    cw = np.random.default_rng(2).uniform(0.5, 1.5, 2000)
    h = torch.tensor(hidden, requires_grad=True)
    w = torch.tensor(weight, requires_grad=True)
    b = torch.tensor(bias, requires_grad=True)
    options = torch.nn.LinearCrossEntropyOptions()
    # (its chunked path takes no label smoothing)
    out = F.linear_cross_entropy(h, w, torch.tensor(labels), linear_bias=b,
                                 weight=torch.tensor(cw, dtype=torch.float32),
                                 ignore_index=-100, options=options)
    out.backward()
    value, grads = fl.LinearCrossentropy(class_weight=list(cw)) \
        .forward_backward(labels, hidden, weight, bias)
    assert_close(value, out.item(), 2e-5, 1e-6)
    for g, t in zip(grads, (h.grad, w.grad, b.grad)):
        assert_close(g, t.numpy(), 2e-4, 2e-6)
    # the module, with its own linear layer
    module = torch.nn.LinearCrossEntropyLoss(32, 2000, bias=True, ignore_index=-100)
    with torch.no_grad():
        module.linear.weight.copy_(torch.tensor(weight))
        module.linear.bias.copy_(torch.tensor(bias))
    m_out = module(torch.tensor(hidden), torch.tensor(labels))
    assert_close(fl.LinearCrossentropy()(labels, hidden, weight, bias), m_out.item(), 2e-5, 1e-6)


def _bits(result):
    value, grads = result
    return [np.asarray(value).tobytes()] + [g.tobytes() for g in grads]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunk_sizes_give_the_same_bits(dtype):
    labels, hidden, weight, bias = problem(300, 12, 2600, dtype, seed=9, ignore_every=5)
    cw = list(np.random.default_rng(4).uniform(0.5, 1.5, 2600))
    base = _bits(fl.LinearCrossentropy(class_weight=cw, label_smoothing=0.1)
                 .forward_backward(labels, hidden, weight, bias))
    # 512 and 1300 divide 2600's span grid or the vocabulary; 700, 1000, 1536 do not
    for chunk in (1, 512, 700, 1000, 1300, 1536, 2600, 10**6):
        loss = fl.LinearCrossentropy(class_weight=cw, label_smoothing=0.1, chunk_size=chunk)
        assert _bits(loss.forward_backward(labels, hidden, weight, bias)) == base, chunk
    assert fl.LinearCrossentropy(chunk_size=700).plan(300, 2600) == (256, 1024)
    assert fl.LinearCrossentropy().plan(300, 2600) == (256, 2600)


def test_threads_bitwise():
    labels, hidden, weight, bias = problem(600, 24, 3000, np.float32, seed=12, ignore_every=9)
    loss = fl.LinearCrossentropy(label_smoothing=0.1, chunk_size=1024)
    results = []
    for t in (1, 2):
        with fl.num_threads(t):
            results.append(_bits(loss.forward_backward(labels, hidden, weight, bias)))
    assert results[0] == results[1]


def test_blas_threads_bitwise():
    """SciPy's OpenBLAS sums in another order for each of its thread counts;
    the products run single-threaded on fastloss's threads (OpenBLAS's
    per-thread count), so its thread setting does not change a bit."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from scipy.linalg import cython_blas

    assert fl._core.linear_ce_blas_threads_local(cython_blas.__pyx_capi__["sgemm"])
    labels, hidden, weight, bias = problem(600, 64, 3000, np.float32, seed=13)
    loss = fl.LinearCrossentropy()
    results = []
    for t in (1, 2, 3):
        with threadpoolctl.threadpool_limits(t), fl.num_threads(4 - t):
            results.append(_bits(loss.forward_backward(labels, hidden, weight, bias)))
    assert results[0] == results[1] == results[2]


def test_inputs_not_modified():
    labels, hidden, weight, bias = problem(40, 6, 50, np.float32, seed=14, ignore_every=3)
    copies = [a.copy() for a in (labels, hidden, weight, bias)]
    for a in (labels, hidden, weight, bias):
        a.setflags(write=False)
    fl.LinearCrossentropy(label_smoothing=0.1).forward_backward(labels, hidden, weight, bias)
    for a, c in zip((labels, hidden, weight, bias), copies):
        assert np.array_equal(a, c)


def test_non_contiguous_and_converted_inputs():
    labels, hidden, weight, bias = problem(30, 6, 20, seed=15)
    loss = fl.LinearCrossentropy()
    base = loss.forward_backward(labels, hidden, weight, bias)
    wide = np.zeros((30, 12))
    wide[:, ::2] = hidden
    value, grads = loss.forward_backward(labels.astype(np.float64), wide[:, ::2],
                                         np.asfortranarray(weight), list(bias))
    assert value == base[0]
    for g, b in zip(grads, base[1]):
        assert np.array_equal(g, b)


def test_all_ignored_and_empty():
    torch = pytest.importorskip("torch")
    labels, hidden, weight, bias = problem(5, 3, 4, np.float32, seed=16)
    labels[:] = -100
    value, grads = fl.LinearCrossentropy().forward_backward(labels, hidden, weight, bias)
    t = torch.nn.functional.cross_entropy(torch.tensor(hidden @ weight.T + bias),
                                          torch.tensor(labels))
    assert math.isnan(value) and math.isnan(t.item())  # PyTorch's 0 / 0
    assert all(not np.any(g) for g in grads)
    assert fl.LinearCrossentropy(reduction="sum")(labels, hidden, weight, bias) == 0.0
    # an empty batch reduces to 0 (and its d_weight is zero)
    value, (dh, dw, db) = fl.LinearCrossentropy().forward_backward(
        np.zeros(0, np.int64), np.zeros((0, 3), np.float32), weight, bias)
    assert value == 0.0 and dh.shape == (0, 3) and not np.any(dw) and not np.any(db)


def test_ignore_class_none_and_in_range():
    labels, hidden, weight, bias = problem(20, 4, 6, seed=17)
    with pytest.raises(ValueError, match="labels"):
        fl.LinearCrossentropy(ignore_class=None)(np.full(20, -100), hidden, weight, bias)
    labels[:5] = 2
    v = fl.LinearCrossentropy(ignore_class=2)(labels, hidden, weight, bias)
    want, _ = expected(labels, hidden, weight, bias, ignore_class=2)
    assert_close(v, want, 1e-12, 0)


def test_bad_inputs():
    labels, hidden, weight, bias = problem(10, 4, 6, np.float32, seed=18)
    loss = fl.LinearCrossentropy()
    bad = labels.copy()
    bad[7] = 6
    with pytest.raises(ValueError, match=r"labels\[7\] = 6 is outside \[0, 6\)"):
        loss(bad, hidden, weight, bias)
    bad[7] = -3
    with pytest.raises(ValueError, match=r"labels\[7\] = -3"):
        loss(bad, hidden, weight, bias)
    with pytest.raises(ValueError, match="not an integer"):
        loss(labels + 0.5, hidden, weight, bias)
    with pytest.raises(ValueError, match=r"weight has shape \(6, 5\)"):
        loss(labels, hidden, np.zeros((6, 5), np.float32), bias)
    with pytest.raises(ValueError, match="bias has shape"):
        loss(labels, hidden, weight, bias[:5])
    with pytest.raises(ValueError, match=r"labels must be \(N,\)"):
        loss(labels[:9], hidden, weight, bias)
    with pytest.raises(ValueError, match=r"hidden must be \(N, H\)"):
        loss(labels, hidden[0], weight, bias)
    with pytest.raises(TypeError, match="weight has dtype float64 but hidden has dtype float32"):
        loss(labels, hidden, weight.astype(np.float64), bias)
    with pytest.raises(TypeError, match="must contain integers|numeric"):
        loss(np.array(["a"] * 10), hidden, weight, bias)
    with pytest.raises(ValueError, match="class_weight has 3 entries"):
        fl.LinearCrossentropy(class_weight=[1.0, 2.0, 3.0])(labels, hidden, weight, bias)
    with pytest.raises(ValueError, match="at least one class"):
        loss(labels, hidden, np.zeros((0, 4), np.float32), None)
    with pytest.raises(TypeError, match="positional"):
        loss(labels, hidden)
    with pytest.raises(TypeError, match="out="):
        loss.backward(labels, hidden, weight, bias, out=np.empty_like(hidden))
    with pytest.raises(ValueError, match="label_smoothing"):
        fl.LinearCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="chunk_size"):
        fl.LinearCrossentropy(chunk_size=0)
    with pytest.raises(TypeError, match="ignore_class"):
        fl.LinearCrossentropy(ignore_class=1.5)
    with pytest.raises(NotImplementedError, match="not diagonal"):
        loss.gradient_hessian(labels, hidden, weight, bias)
    with pytest.raises(ValueError, match="sample_weight"):
        loss(labels, hidden, weight, bias, sample_weight=np.ones((10, 3)))


def test_config_roundtrip():
    loss = fl.LinearCrossentropy(ignore_class=0, label_smoothing=0.2, class_weight=[1.0, 2.0],
                                 chunk_size=4096, reduction="sum")
    again = type(loss)(**loss.get_config())
    assert again.get_config() == loss.get_config()
    assert fl.get("LinearCrossentropy").get_config() == fl.LinearCrossentropy().get_config()


def test_torch_module():
    torch = pytest.importorskip("torch")
    import fastloss.torch as flt

    labels, hidden, weight, bias = problem(40, 8, 30, np.float32, seed=19, ignore_every=4)
    for reduction in ("mean", "none"):
        crit = flt.wrap(fl.LinearCrossentropy(label_smoothing=0.1, reduction=reduction))
        h = torch.tensor(hidden, requires_grad=True)
        w = torch.tensor(weight, requires_grad=True)
        b = torch.tensor(bias, requires_grad=True)
        out = crit(torch.tensor(labels), h, w, b)
        (out * 2.0).sum().backward()
        t_value, *t_grads = _torch_reference(labels, hidden, weight, bias, label_smoothing=0.1,
                                             reduction=reduction)
        assert_close(out.detach().numpy(), t_value, 2e-5, 1e-6)
        for g, t in zip((h.grad, w.grad, b.grad), t_grads):
            assert_close(g.numpy(), 2.0 * t, 2e-4, 2e-6)
    crit = flt.wrap(fl.LinearCrossentropy())
    h = torch.tensor(hidden, requires_grad=True)
    w = torch.tensor(weight, requires_grad=True)
    crit(torch.tensor(labels), h, w).backward()  # no bias
    t_value, t_h, t_w, _ = _torch_reference(labels, hidden, weight, None)
    assert_close(h.grad.numpy(), t_h, 2e-4, 2e-6)
    assert_close(w.grad.numpy(), t_w, 2e-4, 2e-6)

"""fastloss.torch: fastloss losses as PyTorch modules, against PyTorch's own
losses, inside autograd, gradcheck, opcheck and torch.compile."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import fastloss as fl

from support import check_lazy_adapter, rng_for, tolerance

torch = pytest.importorskip("torch")
F = torch.nn.functional
flt = pytest.importorskip("fastloss.torch")

DTYPES = [torch.float32, torch.float64]
NP = {torch.float32: np.float32, torch.float64: np.float64}
# inductor's first import warns about torch.jit.script_method (torch 2.13)
COMPILE_WARNINGS = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")


def _tol(dtype, expected):
    return tolerance(NP[dtype], expected.detach().double().numpy())


def _close(got, want, dtype):
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got.detach().double().numpy(), want.detach().double().numpy(),
                               **_tol(dtype, want))


def _probs(rng, shape, dtype):
    return torch.softmax(torch.tensor(rng.normal(size=shape)), -1).to(dtype)


# case -> (fastloss loss, PyTorch's loss (y_true, y_pred, sample_weight), inputs)
def _regression(rng, dtype):
    return (torch.tensor(rng.normal(size=(32, 5)), dtype=dtype),
            torch.tensor(rng.normal(size=(32, 5)) * 2, dtype=dtype))


def _binary(rng, dtype):
    return (torch.tensor(rng.integers(0, 2, (32, 5)), dtype=dtype),
            torch.tensor(rng.normal(size=(32, 5)) * 3, dtype=dtype))


def _labels(rng, dtype, ignored=False):
    y = torch.tensor(rng.integers(0, 7, 40))
    if ignored:
        y[::5] = -100
    return y, torch.tensor(rng.normal(size=(40, 7)) * 2, dtype=dtype)


CLASS_WEIGHT = [0.5, 1.0, 2.0, 0.25, 1.5, 3.0, 1.0]

CASES = {
    "mse": (lambda: fl.MeanSquaredError(), lambda t, p, w: F.mse_loss(p, t), _regression),
    "mse-sum": (lambda: fl.MeanSquaredError(reduction="sum"),
                lambda t, p, w: F.mse_loss(p, t, reduction="sum") / t.shape[-1], _regression),
    "huber": (lambda: fl.Huber(delta=0.7), lambda t, p, w: F.huber_loss(p, t, delta=0.7),
              _regression),
    "bce-logits": (lambda: fl.BinaryCrossentropy(from_logits=True),
                   lambda t, p, w: F.binary_cross_entropy_with_logits(p, t), _binary),
    "bce-logits-weighted": (
        lambda: fl.BinaryCrossentropy(from_logits=True),
        lambda t, p, w: F.binary_cross_entropy_with_logits(p, t, weight=w[:, None]), _binary),
    "cross-entropy": (lambda: fl.SparseCategoricalCrossentropy(from_logits=True),
                      lambda t, p, w: F.cross_entropy(p, t), lambda r, d: _labels(r, d)),
    # rows whose label is ignored leave the mean: "sum_over_batch_size" divides
    # by the rows that count, as PyTorch's mean does
    "cross-entropy-ignore-smoothing": (
        lambda: fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100,
                                                 label_smoothing=0.1),
        lambda t, p, w: F.cross_entropy(p, t, ignore_index=-100, label_smoothing=0.1),
        lambda r, d: _labels(r, d, ignored=True)),
    # PyTorch's weighted mean divides by the sum of the labels' class weights:
    # fastloss's "mean_with_sample_weight"
    "cross-entropy-class-weight": (
        lambda: fl.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-100, label_smoothing=0.2, class_weight=CLASS_WEIGHT,
            reduction="mean_with_sample_weight"),
        lambda t, p, w: F.cross_entropy(p, t, ignore_index=-100, label_smoothing=0.2,
                                        weight=torch.tensor(CLASS_WEIGHT, dtype=p.dtype)),
        lambda r, d: _labels(r, d, ignored=True)),
    # Keras's KL divergence of probabilities, summed per row: PyTorch's batchmean
    "kl-div": (lambda: fl.KLDivergence(),
               lambda t, p, w: F.kl_div(p.log(), t, reduction="batchmean"),
               lambda r, d: (_probs(r, (24, 6), d), _probs(r, (24, 6), d))),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_value_and_gradient_match_pytorch(case, dtype):
    make, theirs, inputs = CASES[case]
    rng = rng_for("torch", case, str(dtype))
    y, p = inputs(rng, dtype)
    w = torch.tensor(rng.uniform(0.1, 2.0, y.shape[0]), dtype=dtype)
    weighted = case.endswith("-weighted")
    ours_p = p.clone().requires_grad_()
    value = flt.wrap(make())(y, ours_p, w if weighted else None)
    value.backward()
    their_p = p.clone().requires_grad_()
    want = theirs(y, their_p, w)
    want.backward()
    assert value.dtype == dtype and value.shape == ()
    _close(value, want, dtype)
    assert ours_p.grad.dtype == dtype
    _close(ours_p.grad, their_p.grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_reduction_none_takes_a_tensor_grad_output(dtype):
    rng = rng_for("none", str(dtype))
    t, p = _regression(rng, dtype)
    p.requires_grad_()
    upstream = torch.tensor(rng.normal(size=t.shape[0]), dtype=dtype)
    value = flt.wrap(fl.MeanSquaredError(reduction="none"))(t, p)
    assert value.shape == (t.shape[0],) and value.dtype == dtype
    (grad,) = torch.autograd.grad(value, p, upstream)
    q = p.detach().clone().requires_grad_()
    want = F.mse_loss(q, t, reduction="none").mean(-1)
    (want_grad,) = torch.autograd.grad(want, q, upstream)
    _close(value, want, dtype)
    _close(grad, want_grad, dtype)


def test_every_kind_of_loss_gives_fastlosss_own_result():
    """(y_true, y_pred) losses, one-input losses, model losses with two trained
    inputs, composites: the module's value and gradients are the loss's own."""
    rng = rng_for("kinds")
    a, b = rng.normal(size=(2, 6, 4))
    labels = rng.integers(0, 4, 6)
    images = rng.normal(size=(2, 5, 5, 3))
    cases = [
        (fl.MeanSquaredError(), (a, b)),
        (fl.Entropy(from_logits=True), (b,)),
        (fl.GANDiscriminatorLoss(), (a, b)),
        (fl.GANGeneratorLoss(saturating=True), (b,)),
        (fl.ContentLoss(), (images[0], images[1])),
        (fl.TotalVariation(reduction="sum"), (images,)),
        (0.7 * fl.MeanSquaredError() + 0.3 * fl.MeanAbsoluteError(), (a, b)),
        (2.0 * fl.SparseCategoricalCrossentropy(from_logits=True) - fl.Entropy(from_logits=True),
         (labels, b)),
    ]
    for loss, inputs in cases:
        n = loss._n_trained
        want_value, want = loss.forward_backward(*inputs)
        want = (want,) if isinstance(want, np.ndarray) else want
        tensors = [torch.tensor(x) for x in inputs]
        for x in tensors[len(tensors) - n:]:
            x.requires_grad_()
        value = flt.wrap(loss)(*tensors)
        grads = torch.autograd.grad(value, tensors[len(tensors) - n:])
        assert len(grads) == n == len(want), loss
        np.testing.assert_allclose(value.item(), want_value, rtol=1e-13, err_msg=repr(loss))
        for g, w in zip(grads, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-13, atol=1e-15, err_msg=repr(loss))


def test_gan_discriminator_loss_gives_both_gradients_as_pytorch():
    rng = rng_for("gan")
    real = torch.tensor(rng.normal(size=(16, 1)), requires_grad=True)
    fake = torch.tensor(rng.normal(size=(16, 1)), requires_grad=True)
    value = flt.wrap(fl.GANDiscriminatorLoss())(real, fake)
    got = torch.autograd.grad(value, (real, fake))
    want_value = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                  + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    want = torch.autograd.grad(want_value, (real, fake))
    _close(value, want_value, torch.float64)
    for g, w in zip(got, want):
        _close(g, w, torch.float64)


def _small(inputs, weighted):
    """The first 8 samples of a case's inputs (float64), with sample weights."""
    def make(rng):
        y, p = inputs(rng, torch.float64)
        w = torch.tensor(rng.uniform(0.5, 2.0, 8)) if weighted else None
        return y[:8], p[:8], w
    return make


GRADCHECK = {
    "huber-weighted": (fl.Huber(delta=0.5), _small(_regression, True)),
    "bce-logits-sum": (fl.BinaryCrossentropy(from_logits=True, reduction="sum"),
                       _small(_binary, False)),
    "cross-entropy-class-weight": (CASES["cross-entropy-class-weight"][0](),
                                   _small(lambda r, d: _labels(r, d, ignored=True), False)),
    "none-weighted": (fl.LogCosh(reduction="none"), _small(_regression, True)),
    # the class axis first: the per-sample value and its cotangent run along axis 1
    "categorical-none-axis0": (
        fl.CategoricalCrossentropy(from_logits=True, axis=0, reduction="none"),
        lambda r: (_probs(r, (5, 6), torch.float64).t(),
                   torch.tensor(r.normal(size=(6, 5))), None)),
}


@pytest.mark.parametrize("case", list(GRADCHECK))
def test_gradcheck(case):
    loss, inputs = GRADCHECK[case]
    y, p, w = inputs(rng_for("gradcheck", case))
    crit = flt.wrap(loss)
    assert torch.autograd.gradcheck(lambda q: crit(y, q, w), (p.clone().requires_grad_(),))


def test_gradcheck_two_trained_inputs():
    rng = rng_for("gradcheck-gan")
    real, fake = (torch.tensor(rng.normal(size=(5, 3)), requires_grad=True) for _ in range(2))
    crit = flt.wrap(fl.GANDiscriminatorLoss(reduction="none"))
    assert torch.autograd.gradcheck(crit, (real, fake))


def _op_samples():
    rng = rng_for("opcheck")
    ce = flt.wrap(fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100))
    mse_none = flt.wrap(fl.MeanSquaredError(reduction="none"))
    gan = flt.wrap(fl.GANDiscriminatorLoss())
    samples = []
    for dtype in DTYPES:
        y, z = _labels(rng, dtype, ignored=True)
        t, p = _regression(rng, dtype)
        w = torch.tensor(rng.uniform(0.1, 2.0, t.shape[0]), dtype=dtype)
        samples += [(ce, [y], [z.requires_grad_()], None),
                    (mse_none, [t], [p.requires_grad_()], w),
                    (gan, [], [t.clone().requires_grad_(), p.detach().clone()], w)]
    return samples, (ce, mse_none, gan)


@pytest.mark.parametrize("op", ["forward", "forward_backward", "backward"])
def test_opcheck(op):
    samples, _keep_alive = _op_samples()
    for crit, targets, trained, w in samples:
        if op == "forward_backward" and crit.loss.reduction == "none":
            with pytest.raises(ValueError, match="needs a reduced loss"):
                torch.ops.fastloss.forward_backward(crit.handle, targets, trained, w)
            continue
        if op == "backward":  # called in backward, where nothing requires grad
            trained = [t.detach() for t in trained]
            value = torch.ops.fastloss.forward(crit.handle, targets, trained, w)
            w = (w, torch.full_like(value, 0.5))
        else:
            w = (w,)
        torch.library.opcheck(getattr(torch.ops.fastloss, op), (crit.handle, targets, trained, *w))


def test_float32_stays_float32_and_half_types_compute_at_float32():
    rng = rng_for("dtypes")
    crit = flt.wrap(fl.BinaryCrossentropy(from_logits=True))
    t, p = _binary(rng, torch.float64)
    for dtype, value_dtype in [(torch.float32, torch.float32), (torch.float64, torch.float64),
                               (torch.float16, torch.float32), (torch.bfloat16, torch.float32)]:
        q = p.detach().to(dtype).requires_grad_()
        value = crit(t, q)
        value.backward()
        assert value.dtype == value_dtype and q.grad.dtype == dtype
        want = fl.BinaryCrossentropy(from_logits=True).forward_backward(
            t.numpy(), q.detach().float().numpy() if dtype in (torch.float16, torch.bfloat16)
            else q.detach().numpy())
        np.testing.assert_allclose(value.item(), want[0], rtol=1e-6)
        np.testing.assert_allclose(q.grad.float().numpy(), want[1].astype(np.float32),
                                   rtol=1e-2 if dtype in (torch.float16, torch.bfloat16)
                                   else 1e-6, atol=1e-6)


class _Spy:
    """Records what the loss's methods receive and how often they run (the loss
    must be the first wrapped with its configuration: it is the one registered)."""

    def __init__(self, loss):
        self.calls = []
        for method in ("forward", "forward_backward", "backward"):
            real = getattr(loss, method)

            def spy(*args, _method=method, _real=real, **kwargs):
                self.calls.append((_method, args))
                return _real(*args, **kwargs)
            setattr(loss, method, spy)

    def names(self):
        return [m for m, _ in self.calls]


def test_inputs_reach_the_kernel_without_a_copy():
    rng = rng_for("zero-copy")
    loss = fl.MeanSquaredError(name="zero-copy")  # a configuration of its own
    spy = _Spy(loss)
    t, p = _regression(rng, torch.float32)
    leaf = p.clone().requires_grad_()
    # a transposed view reaches the kernel as a strided NumPy view, not a copy
    for target, pred in ((t, leaf), (t.t(), p.t())):
        flt.wrap(loss)(target, pred)
        _, (y_np, p_np, _w) = spy.calls[-1]
        assert np.shares_memory(p_np, pred.detach().numpy())
        assert np.shares_memory(y_np, target.numpy())
    assert spy.names() == ["forward_backward", "forward"]


def test_forward_runs_one_fused_pass_and_backward_runs_no_kernel():
    rng = rng_for("passes")
    t, p = _regression(rng, torch.float64)
    loss = fl.Huber(name="passes")  # a configuration of its own, so its own handle
    spy = _Spy(loss)
    crit = flt.wrap(loss)
    q = p.clone().requires_grad_()
    (crit(t, q) * 3.0).backward()
    assert spy.names() == ["forward_backward"]
    np.testing.assert_allclose(q.grad.numpy(), 3.0 * fl.Huber().backward(t.numpy(), p.numpy()),
                               rtol=1e-15)
    with torch.no_grad():  # inference computes no gradient
        crit(t, q)
    crit(t, p)  # nothing requires grad
    assert spy.names() == ["forward_backward", "forward", "forward"]
    # reduction "none": the value, then backward recomputes with the cotangent
    loss_none = fl.Huber(reduction="none", name="passes")
    spy_none = _Spy(loss_none)
    value = flt.wrap(loss_none)(t, q)
    value.sum().backward()
    assert spy_none.names() == ["forward", "backward"]


def test_errors():
    crit = flt.wrap(fl.MeanSquaredError())
    t, p = torch.zeros(4, 3), torch.zeros(4, 3, requires_grad=True)
    with pytest.raises(ValueError, match=r"y_pred is on meta.*CPU"):
        crit(t, torch.zeros(4, 3, device="meta"))
    with pytest.raises(ValueError, match=r"y_true is on meta"):
        crit(torch.zeros(4, 3, device="meta"), p)
    with pytest.raises(ValueError, match=r"y_true requires grad.*y_true.detach\(\)"):
        crit(t.clone().requires_grad_(), p)
    with pytest.raises(ValueError, match=r"sample_weight requires grad"):
        crit(t, p, torch.ones(4, requires_grad=True))
    with torch.no_grad():  # nothing is differentiated: a target may require grad
        crit(t.clone().requires_grad_(), p)
    with pytest.raises(TypeError, match=r"takes 2 inputs \(y_true, y_pred\)"):
        crit(t, p, None, None)
    with pytest.raises(TypeError, match=r"expects a fastloss loss object, got function"):
        flt.wrap(F.mse_loss)
    with pytest.raises(ValueError, match=r"y_true shape \(4, 2\) and y_pred shape \(4, 3\)"):
        crit(torch.zeros(4, 2), p)
    with pytest.raises(ValueError, match=r"label 9 at index 1 is outside \[0, 3\)"):
        flt.wrap(fl.SparseCategoricalCrossentropy())(torch.tensor([0, 9, 1, 2]), p)
    (g,) = torch.autograd.grad(crit(t, p + 1), p, create_graph=True)
    with pytest.raises(RuntimeError, match=r"first derivatives only"):
        g.sum().backward()


def test_pickle_and_deepcopy_register_the_loss_again():
    crit = flt.wrap(fl.Huber(delta=0.3))
    t, p = torch.zeros(3), torch.linspace(-1, 1, 3)
    assert "handle" not in crit.__getstate__()  # a handle is this process's
    for other in (pickle.loads(pickle.dumps(crit)), copy.deepcopy(crit)):
        assert other.loss is not crit.loss and repr(other.loss) == "Huber(delta=0.3)"
        assert other.handle == crit.handle  # one handle per configuration
        assert torch.equal(other(t, p), crit(t, p))
    assert flt.wrap(fl.Huber(delta=0.4)).handle != crit.handle
    assert "Huber(delta=0.3)" in repr(crit)


def test_the_graph_outlives_the_module():
    p = torch.linspace(-1, 1, 6, requires_grad=True)
    value = flt.wrap(fl.LogCosh(reduction="none", name="a loss used once"))(torch.zeros(6, 1),
                                                                          p[:, None])
    value.sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), np.tanh(p.detach().numpy()), rtol=1e-6)


def _model(dtype):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(),
                               torch.nn.Linear(32, 5)).to(dtype)


def _train(model, step, x, y, w, steps=50):
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    for _ in range(steps):
        opt.zero_grad()
        step(x, y, w).backward()
        opt.step()
    return [q.detach().clone() for q in model.parameters()]


@COMPILE_WARNINGS
def test_training_under_torch_compile_matches_eager():
    """50 SGD steps of a small classifier: eager and torch.compile(fullgraph=True)
    (inductor, forward and backward graphs) end at the same parameters, and both
    match the same training with PyTorch's cross-entropy."""
    rng = rng_for("train")
    x = torch.tensor(rng.normal(size=(64, 10)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 5, 64))
    y[::9] = -100
    w = torch.tensor(rng.uniform(0.5, 1.5, 64), dtype=torch.float32)
    crit = flt.wrap(fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100,
                                                     label_smoothing=0.05))
    eager_model = _model(torch.float32)
    eager = _train(eager_model, lambda x, y, w: crit(y, eager_model(x), w), x, y, w)
    compiled_model = _model(torch.float32)
    torch._dynamo.reset()
    step = torch.compile(lambda x, y, w: crit(y, compiled_model(x), w), fullgraph=True)
    compiled = _train(compiled_model, step, x, y, w)
    native_model = _model(torch.float32)
    native = _train(native_model, lambda x, y, w: (F.cross_entropy(
        native_model(x), y, ignore_index=-100, label_smoothing=0.05, reduction="none")
        * w).sum() / (y != -100).sum(), x, y, w)
    for a, b, c in zip(eager, compiled, native):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


def test_aot_autograd_traces_reduction_none_and_two_trained_inputs():
    """The fake and autograd registrations as AOTAutograd traces them (the
    aot_eager backend, which runs the traced graphs without inductor)."""
    rng = rng_for("aot")
    t, p = _regression(rng, torch.float64)
    w = torch.tensor(rng.uniform(0.5, 1.5, t.shape[0]))
    upstream = torch.tensor(rng.normal(size=t.shape[0]))
    none = flt.wrap(fl.LogCosh(reduction="none"))
    gan = flt.wrap(fl.GANDiscriminatorLoss())
    torch._dynamo.reset()

    def both(t, p, q, w):
        return (none(t, p, w) * upstream).sum() + gan(p, q, sample_weight=w)

    compiled = torch.compile(both, backend="aot_eager", fullgraph=True)
    results = []
    for fn in (both, compiled):
        p1, q1 = p.clone().requires_grad_(), t.clone().requires_grad_()
        value = fn(t, p1, q1, w)
        results.append((value, *torch.autograd.grad(value, (p1, q1))))
    for a, b in zip(*results):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-14)


def test_fastloss_imports_torch_only_when_asked():
    check_lazy_adapter("torch", "torch", "torch")

"""Inputs as real programs pass them, and the hazards that come with them:
another thread rewriting a buffer during a call, arrays that went through
pickle or carry dtype metadata, buffers carried by objects other than NumPy
arrays, self-overlapping views, callables that try to write back, numbers
beyond float64, and calls that fail half-way. Each class of defect is tested
over several losses and variants, never only one example."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastloss as fl

# -- 1. a thread rewriting the labels during calls -------------------------------------


@pytest.mark.parametrize("loss", [
    "fl.SparseCategoricalCrossentropy(from_logits=True)",
    "fl.SparseCategoricalCrossentropy(from_logits=True, class_weight=[1.0] * 64)",
    "fl.SparseCategoricalCrossentropy(ignore_class=3)",
    "fl.SparseCategoricalZeroOneLoss()",
])
def test_labels_rewritten_by_another_thread_never_crash(loss):
    """The labels are checked, then read by the kernel with the GIL released;
    a data-loader thread writes huge and negative labels into the same buffer
    meanwhile. The kernel checks each label where it uses it: the process
    survives every call (a crash would end the child with a signal)."""
    code = textwrap.dedent(f"""
        import threading
        import time
        import numpy as np
        import fastloss as fl
        fl.set_num_threads(2)
        loss = {loss}
        rng = np.random.default_rng(0)
        n, c = 2000, 64 if "class_weight" in {loss!r} else 5000
        logits = rng.uniform(0.1, 1.0, size=(n, c))
        labels = rng.integers(0, c, size=n)
        good = labels.copy()
        stop = threading.Event()
        def writer():
            bad = np.array([2**40, -(2**40), 2**62, c, -2], dtype=np.int64)
            k = 0
            while not stop.is_set():
                labels[:] = bad[k % bad.size]  # every label bad, for a moment
                time.sleep(0.0001)  # the GIL released: the kernel runs meanwhile
                labels[:] = good
                time.sleep(0.002)
                k += 1
        t = threading.Thread(target=writer)
        t.start()
        done = 0
        try:
            for _ in range(150):
                try:
                    loss.forward_backward(labels, logits)
                    done += 1
                except ValueError:
                    pass  # a bad label seen by a check: refused, as documented
        finally:
            stop.set()
            t.join()
        print("calls", done)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "calls" in r.stdout


# -- 2. dtypes equal to the builtin ones but other objects -------------------------------


def _foreign(a: np.ndarray, how: str) -> np.ndarray:
    if how == "pickled":
        b = pickle.loads(pickle.dumps(a))
    else:  # dtype metadata
        b = a.astype(np.dtype(a.dtype.type, metadata={"unit": "m"}))
    assert b.dtype == a.dtype
    return b


FOREIGN = ["pickled", "metadata"]


@pytest.mark.parametrize("how", FOREIGN)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda: fl.MeanSquaredError(), lambda: fl.Huber(delta=0.5),
    lambda: fl.BinaryCrossentropy(from_logits=True),
    lambda: fl.CategoricalCrossentropy(from_logits=True), lambda: fl.KLDivergence(),
], ids=["mse", "huber", "bce-logits", "cce", "kld"])
def test_dtypes_equal_by_value_are_accepted_everywhere(make, dtype, how):
    loss = make()
    rng = np.random.default_rng(1)
    t = rng.uniform(0.1, 1.0, size=(6, 5)).astype(dtype)
    p = rng.uniform(0.1, 1.0, size=(6, 5)).astype(dtype)
    sw = rng.uniform(0.5, 2.0, size=6).astype(dtype)
    go = rng.uniform(0.5, 2.0, size=6).astype(dtype)
    ft, fp, fsw, fgo = (_foreign(a, how) for a in (t, p, sw, go))
    np.testing.assert_array_equal(loss(ft, fp), loss(t, p))  # the small-call path
    np.testing.assert_array_equal(loss(ft, fp, sample_weight=fsw), loss(t, p, sample_weight=sw))
    out = _foreign(np.empty_like(p), how)
    loss.backward(ft, fp, sample_weight=fsw, out=out)
    np.testing.assert_array_equal(out, loss.backward(t, p, sample_weight=sw))
    none = type(loss)(**{**loss.get_config(), "reduction": "none"})
    np.testing.assert_array_equal(none.backward(ft, fp, grad_output=fgo),
                                  none.backward(t, p, grad_output=go))
    if loss.has_hessian:
        for a, b in zip(loss.gradient_hessian(ft, fp, sample_weight=fsw),
                        loss.gradient_hessian(t, p, sample_weight=sw)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("how", FOREIGN)
def test_foreign_int64_labels_and_model_inputs(how):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(8, 4))
    labels = rng.integers(0, 4, size=8)
    loss = fl.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_array_equal(loss(_foreign(labels, how), _foreign(logits, how)),
                                  loss(labels, logits))
    f = rng.normal(size=(5, 6, 3))
    np.testing.assert_array_equal(fl.gram_matrix(_foreign(f, how)), fl.gram_matrix(f))
    img = rng.normal(size=(2, 5, 6, 3))
    np.testing.assert_array_equal(fl.TotalVariation()(_foreign(img, how)),
                                  fl.TotalVariation()(img))


# -- 3. out= overlapping a buffer carried by another object ------------------------------


@pytest.mark.parametrize("make", [lambda: fl.MeanSquaredError(),
                                  lambda: fl.CategoricalCrossentropy(from_logits=True),
                                  lambda: fl.LogCosh()], ids=["mse", "cce", "logcosh"])
@pytest.mark.parametrize("carrier", ["memoryview", "array_interface", "torch"])
def test_out_overlapping_a_foreign_buffer_is_refused(make, carrier):
    loss = make()
    rng = np.random.default_rng(3)
    buf = rng.uniform(0.1, 1.0, size=(2, 4, 3))
    t_arr, p = buf[0], rng.uniform(0.1, 1.0, size=(4, 3))

    class Interface:
        def __init__(self, a: np.ndarray) -> None:
            self.__array_interface__ = a.__array_interface__
            self.keep = a

    if carrier == "memoryview":
        t = memoryview(t_arr)
    elif carrier == "array_interface":
        t = Interface(t_arr)
    else:
        torch = pytest.importorskip("torch")
        t = torch.from_numpy(t_arr)
    before = buf.copy()
    with pytest.raises(ValueError, match="out must not overlap y_true"):
        loss.backward(t, p, out=buf[0])
    with pytest.raises(ValueError, match="out must not overlap y_true"):
        loss.forward_backward(t, p, out=buf[0])
    np.testing.assert_array_equal(buf, before)  # nothing written
    # y_pred carried by a memoryview, out= overlapping it but shifted
    big = rng.uniform(0.1, 1.0, size=(5, 3))
    with pytest.raises(ValueError, match="out overlaps y_pred"):
        loss.backward(big[1:5].copy(), memoryview(big[:4]), out=big[1:5])


@pytest.mark.parametrize("make", [lambda: fl.MeanSquaredError(),
                                  lambda: fl.CategoricalCrossentropy(from_logits=True)],
                         ids=["mse", "cce"])
def test_self_overlapping_out_or_in_place_view_is_refused(make):
    loss = make()
    t = np.random.default_rng(4).uniform(0.1, 1.0, size=(4, 3))
    base = np.random.default_rng(5).uniform(0.1, 1.0, size=6)
    for strides in [(8, 8), (0, 8), (8, 0)]:
        view = np.lib.stride_tricks.as_strided(base, shape=(4, 3), strides=strides)
        with pytest.raises(ValueError, match="out overlaps itself"):
            loss.backward(t, np.ones((4, 3)), out=view)
        # in place on a view whose elements share memory
        with pytest.raises(ValueError, match="out overlaps y_pred"):
            loss.backward(t, view, out=view)
    # an ordinary in-place call still works
    p = np.random.default_rng(6).uniform(0.1, 1.0, size=(4, 3))
    want = loss.backward(t, p)
    loss.backward(t, p, out=p)
    np.testing.assert_array_equal(p, want)


# -- 6. composites that mix reduced and unreduced terms -----------------------------------


@pytest.mark.parametrize("a,b", [
    (lambda: fl.MeanSquaredError(reduction="none"), lambda: fl.MeanAbsoluteError()),
    (lambda: fl.Huber(), lambda: fl.LogCosh(reduction=None)),
    (lambda: fl.CategoricalCrossentropy(reduction="none"), lambda: fl.KLDivergence()),
])
def test_composites_of_reduced_and_unreduced_terms_are_refused(a, b):
    with pytest.raises(ValueError, match="all reduced or all unreduced"):
        _ = a() + b()
    with pytest.raises(ValueError, match="all reduced or all unreduced"):
        _ = 0.5 * a() + 2.0 * (b() + b())


def test_a_composite_of_unreduced_terms_is_per_sample():
    t, p = np.zeros((4, 3)), np.arange(12.0).reshape(4, 3)
    c = fl.MeanSquaredError(reduction="none") + fl.MeanAbsoluteError(reduction="none")
    want = np.mean(p**2, axis=-1) + np.mean(np.abs(p), axis=-1)
    np.testing.assert_allclose(c(t, p), want)


# -- 8. a failing multi-output call writes nothing ---------------------------------------


def test_failed_multi_output_calls_write_nothing():
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    gan = fl.GANDiscriminatorLoss(from_logits=True)
    ok = np.full((4, 1), 7.0)
    for bad in [np.empty((4, 1), np.float32), np.empty((3, 1)), ok]:
        with pytest.raises((TypeError, ValueError)):
            gan.backward(real, fake, out=(ok, bad))
        assert np.all(ok == 7.0)
    comp = 0.5 * fl.ContentLoss() + 0.5 * fl.ContentLoss()
    c, g = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    out = np.full(g.shape, 7.0)
    with pytest.raises(TypeError):
        comp.backward(c, g, out=(np.empty(g.shape, np.float32),))
    with pytest.raises(ValueError):
        comp.backward(c, g, out=(out, out))
    assert np.all(out == 7.0)


# -- 10. user callables cannot reach the caller's arrays ----------------------------------


def test_callables_cannot_modify_the_inputs():
    def value(t, p):
        try:
            p.flags.writeable = True
            p[...] = 1e6  # would change the caller's y_pred if p were a view of it
        except ValueError:
            pass
        return (p - t) ** 2

    loss = fl.ElementwiseLoss(value=value, gradient=lambda t, p: 2 * (p - t))
    t, p = np.zeros((4, 3)), np.arange(12.0).reshape(4, 3)
    p0 = p.copy()
    loss.forward_backward(t, p)
    np.testing.assert_array_equal(p, p0)


def test_a_callable_returning_a_view_of_its_input_with_out_in_place():
    """The gradient callable returns a shifted view of what it received; with
    out=y_pred the kernel must still read the callable's values, not the
    memory it is overwriting."""
    loss = fl.ElementwiseLoss(value=lambda t, p: p * 0,
                              gradient=lambda t, p: np.roll(p, 1, axis=-1)[..., ::1])
    shifted = fl.ElementwiseLoss(value=lambda t, p: p * 0,
                                 gradient=lambda t, p: np.concatenate([p[..., 1:], p[..., :1]],
                                                                      axis=-1))
    t = np.zeros((5, 8))
    for lo in (loss, shifted):
        p = np.arange(40.0).reshape(5, 8)
        want = lo.backward(t, p.copy())
        lo.backward(t, p, out=p)
        np.testing.assert_array_equal(p, want)


# -- 11. numbers beyond float64, scalar class weights ------------------------------------


@pytest.mark.parametrize("make", [lambda v: fl.Huber(delta=v), lambda v: fl.SmoothL1(beta=v),
                                  lambda v: fl.Pinball(quantile=v),
                                  lambda v: fl.BinaryFocalCrossentropy(gamma=v)],
                         ids=["huber", "smoothl1", "pinball", "focal"])
def test_parameters_beyond_float64_raise_value_error(make):
    with pytest.raises(ValueError, match="beyond float64's range"):
        make(10**400)


@pytest.mark.parametrize("shape,sw", [((4, 3), None), ((4, 3), np.ones(4)), ((6,), None)])
def test_grad_output_beyond_int64_on_every_path(shape, sw):
    t, p = np.zeros(shape), np.ones(shape)
    loss = fl.MeanSquaredError()
    with pytest.raises(ValueError, match="grad_output = .* is beyond float64's range"):
        loss.backward(t, p, sample_weight=sw, grad_output=10**400)
    big = loss.backward(t, p, sample_weight=sw, grad_output=2**70)
    np.testing.assert_array_equal(big, loss.backward(t, p, sample_weight=sw,
                                                     grad_output=float(2**70)))


@pytest.mark.parametrize("value", [2.0, 0, np.float64(1.5)])
def test_a_scalar_class_weight_is_refused_when_built(value):
    with pytest.raises(TypeError, match="class_weight must be a sequence of one weight"):
        fl.SparseCategoricalCrossentropy(class_weight=value)


# -- 7. infinite parameters: refused, or the loss's meaningful limit ---------------------


@pytest.mark.parametrize("make,match", [
    (lambda: fl.BinaryFocalCrossentropy(gamma=np.inf), "gamma must be finite and >= 0"),
    (lambda: fl.BinaryFocalCrossentropy(gamma=np.inf, from_logits=True),
     "gamma must be finite and >= 0"),
    (lambda: fl.CategoricalFocalCrossentropy(gamma=np.inf), "gamma must be finite and >= 0"),
    (lambda: fl.PseudoHuber(delta=np.inf), "delta must be finite and > 0"),
    (lambda: fl.SmoothL1(beta=np.inf), "beta must be finite"),
    (lambda: fl.AsymmetricLinear(overestimate_cost=np.inf), "must be finite"),
    (lambda: fl.BinaryCrossentropy(label_smoothing=np.inf), "label_smoothing must be in"),
])
def test_infinite_parameters_without_a_meaning_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_infinite_parameters_that_are_accepted_give_the_limit():
    rng = np.random.default_rng(8)
    t, p = rng.normal(size=(5, 4)) * 10, rng.normal(size=(5, 4)) * 10
    huber, half = fl.Huber(delta=np.inf), fl.HalfSquaredError()
    v1, g1 = huber.forward_backward(t, p)
    v2, g2 = half.forward_backward(t, p)
    np.testing.assert_allclose(v1, v2, rtol=1e-15)
    np.testing.assert_array_equal(g1, g2)
    for a, b in zip(huber.gradient_hessian(t, p), half.gradient_hessian(t, p)):
        np.testing.assert_array_equal(a, b)
    labels = rng.integers(0, 2, size=(5, 4)).astype(np.float64)
    probs = rng.uniform(size=(5, 4))
    np.testing.assert_allclose(fl.ZeroOneLoss(threshold=np.inf)(labels, probs),
                               np.mean(labels != 0))
    np.testing.assert_allclose(fl.ZeroOneLoss(threshold=-np.inf)(labels, probs),
                               np.mean(labels != 1))


def test_a_sum_with_a_one_input_loss_has_every_method():
    """Entropy takes y_pred alone; in a sum with (y_true, y_pred) losses it
    ignores the shared y_true in every method, gradient_hessian included."""
    rng = np.random.default_rng(9)
    t = rng.dirichlet(np.ones(4), size=5)
    p = rng.dirichlet(np.ones(4), size=5)
    for c in (fl.CategoricalCrossentropy() + 0.1 * fl.Entropy(),
              fl.KLDivergence() - 0.5 * fl.Entropy()):
        w = [w for w, _ in c.terms]
        a, e = c.terms[0][1], c.terms[1][1]
        np.testing.assert_allclose(c(t, p), w[0] * a(t, p) + w[1] * e(p), rtol=1e-14)
        np.testing.assert_allclose(c.backward(t, p),
                                   w[0] * a.backward(t, p) + w[1] * e.backward(p)[0],
                                   rtol=1e-14)
        g, h = c.gradient_hessian(t, p)
        ga, ha = a.gradient_hessian(t, p)
        ge, he = e.gradient_hessian(p)
        np.testing.assert_allclose(g, w[0] * ga + w[1] * ge, rtol=1e-14)
        np.testing.assert_allclose(h, w[0] * ha + w[1] * he, rtol=1e-14)


def test_pickles_name_the_public_classes():
    """A pickled loss names fastloss.<Class>, not the internal module that made
    the class, so pickles outlive moves inside the package."""
    for loss in (fl.CategoricalCrossentropy(from_logits=True), fl.Huber(delta=0.5),
                 fl.BinaryCrossentropy(label_smoothing=0.1), fl.Entropy()):
        data = pickle.dumps(loss)
        assert b"_declared" not in data and b"fastloss" in data
        assert repr(pickle.loads(data)) == repr(loss)
        assert type(loss).__module__ == "fastloss"


# -- 5. the bits of a reduced value do not depend on the layout ------------------------


def _layouts_of(a: np.ndarray) -> dict[str, np.ndarray]:
    """The same values as C order, Fortran order, reversed axes, a stepped
    view and a copy through pickle."""
    rev = tuple(slice(None, None, -1) for _ in range(a.ndim))
    reversed_view = np.ascontiguousarray(a[rev])[rev]
    stepped = np.full(a.shape[:-1] + (2 * a.shape[-1],), np.nan, a.dtype)
    stepped[..., ::2] = a
    return {"C": np.ascontiguousarray(a), "F": np.asfortranarray(a), "reversed": reversed_view,
            "stepped": stepped[..., ::2], "pickled": pickle.loads(pickle.dumps(a))}


@pytest.mark.parametrize("shape", [(7,), (40000,), (3, 5), (1000, 3), (200, 7), (64, 129),
                                   (40, 300), (5, 9000), (3, 4, 11), (2, 17000)])
@pytest.mark.parametrize("make", [fl.MeanSquaredError, fl.LogCosh,
                                  lambda **k: fl.BinaryCrossentropy(from_logits=True, **k)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reduced_values_have_the_same_bits_in_every_layout(shape, make, dtype):
    """C order, Fortran order, negative strides, stepped views, pickled
    copies, weights of one or none: one reduction order, so the reduced
    values, the per-sample values and the gradients are bitwise equal; and
    the same holds for weights that are not one, across layouts."""
    rng = np.random.default_rng(sum(shape))
    t = (rng.uniform(size=shape) < 0.5).astype(dtype)
    p = rng.normal(size=shape).astype(dtype)
    w = rng.uniform(0.2, 2.0, size=shape[:-1]).astype(dtype)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none"):
        loss = make(reduction=reduction)
        base = loss.forward_backward(t, p)
        weighted = loss.forward_backward(t, p, w)
        for name_t, tv in _layouts_of(t).items():
            for name_p, pv in _layouts_of(p).items():
                where = f"{reduction}, y_true {name_t}, y_pred {name_p}"
                for weights, want in ((None, base), (np.ones(shape[:-1], dtype), base),
                                      (w, weighted)):
                    if weights is not None and weights.ndim == 0:
                        continue
                    value, grad = loss.forward_backward(tv, pv, weights)
                    np.testing.assert_array_equal(value, want[0], err_msg=where)
                    np.testing.assert_array_equal(grad, want[1], err_msg=where)
                    np.testing.assert_array_equal(loss(tv, pv, weights), want[0], err_msg=where)

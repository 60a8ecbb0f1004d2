"""CTC (connectionist temporal classification): against a float64 brute-force
sum over every alignment (written from the definition), central differences,
PyTorch's ctc_loss (values of every reduction, and gradients: PyTorch's
backward is the logits' gradient, so it is compared with from_logits=True and
converted for log-probabilities), optax.ctc_loss and Keras's CTC; impossible
alignments, repeated and empty labels, zero_infinity, float32, threads and
bad input."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

import fastloss as fl

RNG = np.random.default_rng(20261202)


# -- references ---------------------------------------------------------------

def log_softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def collapse(path, blank):
    out = []
    prev = None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return out


def brute_force(labels, log_probs, input_lengths, label_lengths, blank=0):
    """Per-sample -log P and the occupancy gamma (T, N, C): every path of
    input_lengths[n] frames whose collapse is the label, summed (float64)."""
    lp = np.asarray(log_probs, np.float64)
    T, N, C = lp.shape
    loss = np.empty(N)
    occ = np.zeros((T, N, C))
    for n in range(N):
        tn, target = int(input_lengths[n]), list(labels[n][: int(label_lengths[n])])
        total = 0.0
        for path in itertools.product(range(C), repeat=tn):
            if collapse(path, blank) != target:
                continue
            p = np.exp(sum(lp[t, n, c] for t, c in enumerate(path)))
            total += p
            for t, c in enumerate(path):
                occ[t, n, c] += p
        loss[n] = -np.log(total) if total > 0 else np.inf
        if total > 0:
            occ[:, n] /= total
    return loss, occ


def pytorch_mean(per_sample, label_lengths):
    return np.mean(per_sample / np.maximum(np.asarray(label_lengths), 1))


def random_case(T, N, C, S, *, rng=RNG, min_label=0):
    x = rng.normal(size=(T, N, C)) * 1.5
    labels = rng.integers(1, C, size=(N, S))
    label_lengths = rng.integers(min_label, S + 1, size=N)
    # enough frames for every label (one per label plus one per repeat)
    need = np.array([ll + sum(labels[n, k] == labels[n, k - 1] for k in range(1, ll))
                     for n, ll in enumerate(label_lengths)])
    input_lengths = np.array([rng.integers(max(need[n], 1), T + 1) for n in range(N)])
    return labels, x, input_lengths, label_lengths


# -- the definition -----------------------------------------------------------

def small_cases():
    labels = np.array([[1, 2, 1], [1, 1, 0], [0, 0, 0], [2, 0, 0], [2, 2, 2], [1, 2, 9]])
    label_lengths = np.array([3, 2, 0, 1, 3, 2])
    input_lengths = np.array([5, 5, 3, 4, 5, 2])
    x = RNG.normal(size=(5, 6, 3))
    return labels, x, input_lengths, label_lengths


def test_against_brute_force_log_probs():
    labels, x, il, ll = small_cases()
    lp = log_softmax(x)
    ref_loss, ref_occ = brute_force(labels, lp, il, ll)
    loss = fl.CTC(reduction="none")
    np.testing.assert_allclose(loss(labels, lp, il, ll), ref_loss, rtol=1e-12)
    (g,) = fl.CTC(reduction="sum").backward(labels, lp, il, ll)
    np.testing.assert_allclose(g, -ref_occ, rtol=1e-10, atol=1e-14)
    frames = np.arange(5)[:, None] >= il[None, :]
    assert np.all(g[frames] == 0.0)


def test_against_brute_force_logits():
    labels, x, il, ll = small_cases()
    lp = log_softmax(x)
    ref_loss, ref_occ = brute_force(labels, lp, il, ll)
    loss = fl.CTC(from_logits=True, reduction="none")
    np.testing.assert_allclose(loss(labels, x + 3.0, il, ll), ref_loss, rtol=1e-12)
    (g,) = fl.CTC(from_logits=True, reduction="sum").backward(labels, x, il, ll)
    live = (np.arange(5)[:, None] < il[None, :])[..., None]
    want = np.where(live, np.exp(lp) - ref_occ, 0.0)
    np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-14)


def test_blank_other_than_zero():
    labels, x, il, ll = small_cases()
    # classes 0..2 with blank 2: relabel 2 -> 0 so the labels avoid the blank
    labels2 = np.where(labels == 2, 0, labels)
    lp = log_softmax(x)
    ref_loss, ref_occ = brute_force(labels2, lp, il, ll, blank=2)
    loss = fl.CTC(blank=2, reduction="none")
    value, (g,) = loss.forward_backward(labels2, lp, il, ll)
    np.testing.assert_allclose(value, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(g, -ref_occ, rtol=1e-10, atol=1e-14)


def test_hand_values():
    lp = np.log(np.array([[[0.5, 0.3, 0.2]], [[0.1, 0.6, 0.3]]]))  # T=2, N=1, C=3
    one = np.array([[1]])
    loss = fl.CTC(reduction="none")
    # label (1): paths 11, 01, 10
    np.testing.assert_allclose(loss(one, lp, [2], [1]),
                               [-np.log(0.3 * 0.6 + 0.5 * 0.6 + 0.3 * 0.1)], rtol=1e-14)
    # label (1, 1) needs three frames; (1, 2) has one path
    assert loss(np.array([[1, 1]]), lp, [2], [2])[0] == np.inf
    np.testing.assert_allclose(loss(np.array([[1, 2]]), lp, [2], [2]), [-np.log(0.09)],
                               rtol=1e-14)
    # empty label: the all-blank path; no frames and an empty label: 0
    np.testing.assert_allclose(loss(one, lp, [2], [0]), [-np.log(0.05)], rtol=1e-14)
    assert loss(one, lp, [0], [0])[0] == 0.0


# -- central differences ------------------------------------------------------

def central_difference(f, x, h=1e-5):
    g = np.empty_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return g


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_gradient_is_the_derivative(from_logits, reduction):
    labels, x, il, ll = random_case(7, 3, 4, 3, rng=np.random.default_rng(4), min_label=1)
    w = np.array([0.5, 2.0, 1.25])
    inputs = x if from_logits else log_softmax(x)
    loss = fl.CTC(from_logits=from_logits, reduction=reduction)
    value, (g,) = loss.forward_backward(labels, inputs, il, ll, sample_weight=w,
                                        grad_output=1.5)
    assert value == loss(labels, inputs, il, ll, sample_weight=w)
    num = central_difference(lambda z: 1.5 * loss(labels, z, il, ll, sample_weight=w), inputs)
    # log_probs as free inputs: the true derivative, not PyTorch's logits gradient
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


def test_grad_output_per_sample_with_reduction_none():
    labels, x, il, ll = random_case(6, 3, 4, 2, rng=np.random.default_rng(8))
    lp = log_softmax(x)
    go = np.array([1.0, -2.0, 0.5])
    (g,) = fl.CTC(reduction="none").backward(labels, lp, il, ll, grad_output=go)
    _, occ = brute_force(labels, lp, il, ll)
    np.testing.assert_allclose(g, -occ * go[None, :, None], rtol=1e-10, atol=1e-14)


# -- PyTorch ------------------------------------------------------------------

def torch_ctc(labels, x, il, ll, reduction, *, blank=0, zero_infinity=False, from_logits=False):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    lp = torch.log_softmax(xt, -1) if from_logits else xt
    value = torch.nn.functional.ctc_loss(
        lp, torch.tensor(labels), torch.tensor(il), torch.tensor(ll), blank=blank,
        reduction=reduction, zero_infinity=zero_infinity)
    value.sum().backward()
    return value.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean", "sum", "none"])
def test_values_and_logit_gradients_match_pytorch(reduction, zero_infinity):
    labels, x, il, ll = random_case(30, 6, 7, 8, min_label=0)
    labels[0, :3] = [3, 3, 3]  # repeated labels
    ll[1] = 0  # an empty label
    torch_reduction = {"sum_over_batch_size": "mean"}.get(reduction, reduction)
    want, want_g = torch_ctc(labels, x, il, ll, torch_reduction, zero_infinity=zero_infinity,
                             from_logits=True)
    loss = fl.CTC(from_logits=True, zero_infinity=zero_infinity, reduction=reduction)
    value, (g,) = loss.forward_backward(labels, x, il, ll)
    np.testing.assert_allclose(value, want, rtol=1e-10)
    np.testing.assert_allclose(g, want_g, rtol=1e-8, atol=1e-12)


def test_log_prob_gradient_is_pytorchs_minus_the_softmax():
    labels, x, il, ll = random_case(25, 5, 6, 7)
    lp = log_softmax(x)
    want, torch_g = torch_ctc(labels, lp, il, ll, "sum")
    value, (g,) = fl.CTC(reduction="sum").forward_backward(labels, lp, il, ll)
    np.testing.assert_allclose(value, want, rtol=1e-10)
    live = (np.arange(25)[:, None] < il[None, :])[..., None]
    np.testing.assert_allclose(g, torch_g - np.where(live, np.exp(lp), 0.0), rtol=1e-8,
                               atol=1e-12)


def test_impossible_alignments_as_pytorch():
    torch = pytest.importorskip("torch")
    labels = np.array([[1, 1, 2], [1, 2, 0]])
    il, ll = np.array([3, 4]), np.array([3, 2])  # sample 0 needs 4 frames
    lp = log_softmax(RNG.normal(size=(4, 2, 3)))
    value, (g,) = fl.CTC(reduction="none").forward_backward(labels, lp, il, ll)
    want, torch_g = torch_ctc(labels, lp, il, ll, "none")
    assert value[0] == np.inf and want[0] == np.inf
    np.testing.assert_allclose(value[1], want[1], rtol=1e-12)
    assert np.all(np.isnan(g[:3, 0])) and np.all(np.isnan(torch_g[:3, 0]))
    assert np.all(g[3, 0] == 0.0) and np.all(np.isfinite(g[:, 1]))
    zloss = fl.CTC(zero_infinity=True, reduction="none")
    zvalue, (zg,) = zloss.forward_backward(labels, lp, il, ll)
    zwant, ztorch_g = torch_ctc(labels, lp, il, ll, "none", zero_infinity=True)
    np.testing.assert_array_equal(zvalue, zwant)
    assert np.all(zg[:, 0] == 0.0) and np.all(ztorch_g[:, 0] == 0.0)
    np.testing.assert_allclose(zg[:, 1], g[:, 1])
    del torch


def test_blank_and_long_inputs_match_pytorch():
    labels, x, il, ll = random_case(120, 4, 12, 40)
    labels = np.where(labels == 5, 1, labels)  # blank 5 never a label
    want, want_g = torch_ctc(labels, x, il, ll, "sum", blank=5, from_logits=True)
    value, (g,) = fl.CTC(blank=5, from_logits=True, reduction="sum").forward_backward(
        labels, x, il, ll)
    np.testing.assert_allclose(value, want, rtol=1e-10)
    np.testing.assert_allclose(g, want_g, rtol=1e-7, atol=1e-11)


# -- optax and Keras ----------------------------------------------------------

def test_matches_optax():
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    import jax

    labels, x, il, ll = random_case(20, 4, 6, 5, min_label=1)
    T, N, _ = x.shape
    logit_paddings = (np.arange(T)[None, :] >= il[:, None]).astype(np.float32)
    label_paddings = (np.arange(labels.shape[1])[None, :] >= ll[:, None]).astype(np.float32)
    xs = x.astype(np.float32)
    want = optax.ctc_loss(jnp.asarray(xs.transpose(1, 0, 2)), jnp.asarray(logit_paddings),
                          jnp.asarray(labels), jnp.asarray(label_paddings))
    got = fl.CTC(from_logits=True, reduction="none")(labels, xs, il, ll)
    np.testing.assert_allclose(got, np.asarray(want), rtol=2e-5)

    def total(z):
        return optax.ctc_loss(z, jnp.asarray(logit_paddings), jnp.asarray(labels),
                              jnp.asarray(label_paddings)).sum()

    want_g = np.asarray(jax.grad(total)(jnp.asarray(xs.transpose(1, 0, 2)))).transpose(1, 0, 2)
    (g,) = fl.CTC(from_logits=True, reduction="sum").backward(labels, xs, il, ll)
    np.testing.assert_allclose(g, want_g, rtol=1e-3, atol=1e-5)
    # optax's ctc_loss_with_forward_probs: the same per-sample loss, with the
    # forward variables beside it
    with_probs = optax.ctc_loss_with_forward_probs(
        jnp.asarray(xs.transpose(1, 0, 2)), jnp.asarray(logit_paddings), jnp.asarray(labels),
        jnp.asarray(label_paddings))
    np.testing.assert_allclose(got, np.asarray(with_probs[0]), rtol=2e-5)


def test_keras_ctc_is_the_documented_recipe():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras's torch backend is the peer here")
    rng = np.random.default_rng(3)
    N, T, C, S = 4, 15, 5, 4
    y_true = rng.integers(1, C, size=(N, S))
    y_true[1, 2:] = 0  # Keras pads with 0 (its blank)
    y_pred = rng.normal(size=(N, T, C)).astype(np.float32)
    args = (y_true, y_pred.transpose(1, 0, 2), np.full(N, T), (y_true != 0).sum(1))
    want = keras.losses.CTC()(y_true, y_pred)
    ours = fl.CTC(from_logits=True, reduction="sum")(*args) / N
    np.testing.assert_allclose(ours, float(want), rtol=1e-5)
    want_none = keras.losses.CTC(reduction=None)(y_true, y_pred)
    ours_none = fl.CTC(from_logits=True, reduction="none")(*args)
    np.testing.assert_allclose(ours_none, np.asarray(want_none), rtol=1e-5)


# -- precision, threads, layouts ------------------------------------------------

def test_float32_in_float32_out():
    labels, x, il, ll = random_case(40, 5, 8, 10)
    loss = fl.CTC(from_logits=True, reduction="none")
    v64, (g64,) = loss.forward_backward(labels, x, il, ll)
    v32, (g32,) = loss.forward_backward(labels, x.astype(np.float32), il, ll)
    assert g32.dtype == np.float32 and g32.shape == x.shape
    assert isinstance(fl.CTC(from_logits=True)(labels, x.astype(np.float32), il, ll), np.float32)
    np.testing.assert_allclose(v32, v64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_threads_bitwise(from_logits):
    labels, x, il, ll = random_case(80, 24, 10, 20, rng=np.random.default_rng(11))
    inputs = x.astype(np.float32) if from_logits else log_softmax(x)
    loss = fl.CTC(from_logits=from_logits, reduction="none")
    with fl.num_threads(1):
        v1, (g1,) = loss.forward_backward(labels, inputs, il, ll)
    with fl.num_threads(2):
        v2, (g2,) = loss.forward_backward(labels, inputs, il, ll)
    assert v1.tobytes() == v2.tobytes() and g1.tobytes() == g2.tobytes()


def test_layouts_lengths_and_labels_as_given():
    labels, x, il, ll = random_case(12, 4, 5, 6)
    ref = fl.CTC(from_logits=True, reduction="none").forward_backward(labels, x, il, ll)
    wide = np.zeros((12, 4, 10))
    wide[:, :, ::2] = x
    strided = wide[:, :, ::2]
    got = fl.CTC(from_logits=True, reduction="none").forward_backward(
        labels.astype(np.int32).tolist(), strided, tuple(il.astype(np.uint8)),
        ll.astype(float))
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1][0], ref[1][0])


def test_inputs_unchanged_out_and_sample_weight_positional():
    labels, x, il, ll = random_case(10, 3, 4, 3)
    copies = [a.copy() for a in (labels, x, il, ll)]
    for a in (labels, x, il, ll):
        a.setflags(write=False)
    loss = fl.CTC(from_logits=True)
    w = np.array([1.0, 0.0, 2.0])
    value, (g,) = loss.forward_backward(labels, x, il, ll, w)
    for a, b in zip((labels, x, il, ll), copies):
        np.testing.assert_array_equal(a, b)
    per = fl.CTC(from_logits=True, reduction="none")(labels, x, il, ll)
    np.testing.assert_allclose(value, np.sum(w * per / np.maximum(ll, 1)) / 3, rtol=1e-12)
    out = np.empty_like(x)
    got = loss.backward(labels, x, il, ll, sample_weight=w, out=out)
    assert got[0] is out
    np.testing.assert_array_equal(out, g)


def test_empty_batch_and_no_frames():
    loss = fl.CTC()
    value, (g,) = loss.forward_backward(np.zeros((0, 3), int), np.zeros((5, 0, 4)),
                                        np.zeros(0, int), np.zeros(0, int))
    assert value == 0.0 and g.shape == (5, 0, 4)
    value, (g,) = fl.CTC(reduction="none").forward_backward(
        np.zeros((2, 0), int), np.zeros((0, 2, 3)), [0, 0], [0, 0])
    np.testing.assert_array_equal(value, [0.0, 0.0])
    assert g.shape == (0, 2, 3)


def test_nan_propagates():
    labels, x, il, ll = random_case(6, 2, 4, 2, min_label=1)
    x[2, 0, 1] = np.nan
    il[:] = 6
    value, (g,) = fl.CTC(from_logits=True, reduction="none").forward_backward(labels, x, il, ll)
    assert np.isnan(value[0]) and np.isfinite(value[1])
    assert np.isnan(g[0, 0]).all() and np.isfinite(g[:, 1]).all()


# -- the loss object ----------------------------------------------------------

def test_object_protocol():
    loss = fl.get("ctc")
    assert isinstance(loss, fl.CTC) and fl.get("CTC").get_config() == loss.get_config()
    twin = pickle.loads(pickle.dumps(fl.CTC(blank=2, zero_infinity=True, from_logits=True)))
    assert (twin.blank, twin.zero_infinity, twin.from_logits) == (2, True, True)
    assert not loss.has_hessian
    labels, x, il, ll = random_case(5, 2, 3, 2)
    with pytest.raises(NotImplementedError, match="CTC has no gradient_hessian: .*alignments"):
        loss.gradient_hessian(labels, log_softmax(x), il, ll)
    # in a sum, the targets first and the trained input last
    doubled = 2.0 * fl.CTC(from_logits=True) + fl.CTC(from_logits=True, reduction="sum")
    single = fl.CTC(from_logits=True).forward_backward(labels, x, il, ll)
    summed = fl.CTC(from_logits=True, reduction="sum").forward_backward(labels, x, il, ll)
    value, (g,) = doubled.forward_backward(labels, il, ll, x)
    np.testing.assert_allclose(value, 2.0 * single[0] + summed[0], rtol=1e-14)
    np.testing.assert_allclose(g, 2.0 * single[1][0] + summed[1][0], rtol=1e-14)


def test_dask_is_refused():
    da = pytest.importorskip("dask.array")
    labels, x, il, ll = random_case(5, 2, 3, 2)
    with pytest.raises(NotImplementedError, match="CTC does not take dask arrays"):
        fl.CTC(from_logits=True)(labels, da.from_array(x), il, ll)


# -- bad input ----------------------------------------------------------------

def _good():
    return random_case(6, 2, 4, 3, rng=np.random.default_rng(1), min_label=1)


@pytest.mark.parametrize("change, exc, match", [
    (lambda a: {"il": np.array([7, 6])}, ValueError, r"input_lengths\[0\] = 7 .*T = 6"),
    (lambda a: {"il": np.array([-1, 6])}, ValueError, r"input_lengths\[0\] = -1"),
    (lambda a: {"ll": np.array([1, 4])}, ValueError, r"label_lengths\[1\] = 4 .*S = 3"),
    (lambda a: {"ll": np.array([-2, 1])}, ValueError, r"label_lengths\[0\] = -2"),
    (lambda a: {"labels": np.array([[1, 4, 1], [1, 1, 1]]), "ll": np.array([3, 3])},
     ValueError, r"labels\[0, 1\] = 4 is outside \[0, C = 4\)"),
    (lambda a: {"labels": np.array([[1, 2, 1], [1, -1, 1]]), "ll": np.array([3, 3])},
     ValueError, r"labels\[1, 1\] = -1"),
    (lambda a: {"labels": np.array([[1, 0, 1], [1, 1, 1]]), "ll": np.array([3, 1])},
     ValueError, r"labels\[0, 1\] = 0 is the blank"),
    (lambda a: {"labels": np.array([[1.5, 2, 1], [1, 1, 1]])}, ValueError,
     r"labels\[0, 0\] = .*1.5.* is not an integer"),
    (lambda a: {"labels": np.array([["a", "b", "c"]] * 2)}, TypeError, "labels must contain"),
    (lambda a: {"labels": np.ones((3, 3), int)}, ValueError, r"labels must be \(N, S\)"),
    (lambda a: {"labels": np.ones(3, int)}, ValueError, r"labels must be \(N, S\)"),
    (lambda a: {"x": np.zeros((6, 2))}, ValueError, r"must be \(T, N, C\)"),
    (lambda a: {"x": np.zeros((6, 2, 4), complex)}, TypeError, "log_probs must contain real"),
    (lambda a: {"il": np.array([6, 6, 6])}, ValueError, r"input_lengths must be \(N,\)"),
    (lambda a: {"ll": np.array([[1, 1]])}, ValueError, r"label_lengths must be \(N,\)"),
    (lambda a: {"il": np.array([6.0, 5.5])}, ValueError, r"input_lengths\[1\] = .*not an int"),
])
def test_bad_input(change, exc, match):
    labels, x, il, ll = _good()
    args = {"labels": labels, "x": x, "il": il, "ll": ll, **change(None)}
    with pytest.raises(exc, match=match):
        fl.CTC(from_logits=True).forward_backward(args["labels"], args["x"], args["il"],
                                                  args["ll"])


def test_bad_parameters_and_calls():
    labels, x, il, ll = _good()
    with pytest.raises(ValueError, match="blank = 4 is not a class"):
        fl.CTC(blank=4)(labels, x, il, ll)
    with pytest.raises(ValueError, match="blank must be >= 0"):
        fl.CTC(blank=-1)
    with pytest.raises(TypeError, match="blank must be an integer"):
        fl.CTC(blank=1.0)
    with pytest.raises(TypeError, match="zero_infinity must be a bool"):
        fl.CTC(zero_infinity=1)
    with pytest.raises(TypeError, match="from_logits must be a bool"):
        fl.CTC(from_logits="yes")
    with pytest.raises(TypeError, match=r"CTC takes 4 inputs \(labels, log_probs"):
        fl.CTC()(labels, x, il)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        fl.CTC()(labels, x, il, ll, sample_weight=np.ones((2, 3)))
    with pytest.raises(ValueError, match="grad_output must be a scalar"):
        fl.CTC().backward(labels, x, il, ll, grad_output=np.ones(2))


# -- the targets-first order: sums of losses and the autodiff adapters ---------

def test_targets_first_order_is_the_same_call():
    labels, x, il, ll = random_case(9, 3, 4, 3)
    loss = fl.CTC(from_logits=True, reduction="none")
    a = loss.forward_backward(labels, x, il, ll)
    b = loss.forward_backward(labels, il, ll, x)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1][0], b[1][0])


def test_torch_adapter_matches_autograd_through_log_softmax():
    torch = pytest.importorskip("torch")
    import fastloss.torch as fl_torch

    labels, x, il, ll = random_case(14, 3, 5, 4, rng=np.random.default_rng(21))
    xt = torch.tensor(x, requires_grad=True)
    value = fl_torch.wrap(fl.CTC(from_logits=True))(torch.tensor(labels), torch.tensor(il),
                                                      torch.tensor(ll), xt)
    value.backward()
    ref_x = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.ctc_loss(torch.log_softmax(ref_x, -1), torch.tensor(labels),
                                       torch.tensor(il), torch.tensor(ll))
    ref.backward()
    np.testing.assert_allclose(value.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), ref_x.grad.numpy(), rtol=1e-9, atol=1e-14)


def test_jax_adapter_gradient():
    jax = pytest.importorskip("jax")
    import fastloss.jax as fl_jax

    labels, x, il, ll = random_case(10, 2, 4, 3, rng=np.random.default_rng(22))
    xs = x.astype(np.float32)
    f = fl_jax.wrap(fl.CTC(from_logits=True, reduction="sum"))
    g = jax.grad(lambda z: f(labels, il, ll, z))(jax.numpy.asarray(xs))
    (want,) = fl.CTC(from_logits=True, reduction="sum").backward(labels, xs, il, ll)
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6, atol=1e-7)

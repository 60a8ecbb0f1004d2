"""Class-axis losses (softmax cross-entropies, focal, KL, hinge, cosine,
entropy, 0-1), tested from one case table: against the float64 NumPy
reference, against central differences, fused == separate, through the
machinery (axes, strides, threads, in-place, dtypes) and at the numerical
edges (masked and huge logits, many classes, bad labels); then against Keras 3
(torch backend) and torch.nn.functional.cross_entropy when installed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import fastloss as fl

import reference_classaxis as ref
from support import DTYPES, REDUCTIONS, rng_for
from support import tolerance as _tolerance

os.environ.setdefault("KERAS_BACKEND", "torch")

def tolerance(dtype, expected) -> dict:
    return _tolerance(dtype, expected, atol32=3e-6)


# --- the case table -----------------------------------------------------------

Domain = Callable[[np.random.Generator, tuple, int], tuple[Any, np.ndarray]]


def _onehot(rng, shape, axis):
    C = shape[axis]
    labels = rng.integers(0, C, size=tuple(np.delete(shape, axis % len(shape))))
    return np.moveaxis(np.eye(C)[labels], -1, axis)


def _soft(rng, shape, axis):
    u = rng.uniform(0.05, 1.0, size=shape)
    return u / u.sum(axis=axis, keepdims=True)


def _labels(rng, shape, axis):
    return rng.integers(0, shape[axis], size=tuple(np.delete(shape, axis % len(shape))))


def _label_sets(rng, shape, axis):
    """Rows of target class ids (PyTorch's multilabel layout): a random number of
    distinct classes in random order, then -1 and random filler that is not read."""
    moved = np.moveaxis(np.empty(shape), axis, -1)
    C = moved.shape[-1]
    out = np.empty(moved.shape, np.int64)
    for idx in np.ndindex(*moved.shape[:-1]):
        k = int(rng.integers(1, C + 1))
        row = rng.integers(-1, C, size=C)
        row[:k] = rng.permutation(C)[:k]
        if k < C:
            row[k] = -1
        out[idx] = row
    return np.moveaxis(out, -1, axis)


def dom(target: str, pred: str) -> Domain:
    def draw(rng, shape, axis):
        t = {"onehot": _onehot, "soft": _soft, "labels": _labels, "label_sets": _label_sets,
             "normal": lambda r, s, a: r.normal(size=s), "none": lambda r, s, a: None,
             "soft0": lambda r, s, a: _soft(r, s, a) * (r.uniform(size=s) > 0.3)}[target](
                 rng, shape, axis)
        p = {"probs": lambda: rng.uniform(0.05, 1.0, size=shape),
             "probs01": lambda: rng.uniform(0.05, 0.95, size=shape),
             "logits": lambda: 3.0 * rng.normal(size=shape),
             "normal": lambda: rng.normal(size=shape)}[pred]()
        return t, p
    return draw


def _ignore_some(rng, shape, axis):
    labels = _labels(rng, shape, axis)
    labels[rng.uniform(size=labels.shape) < 0.3] = -1
    return labels, 3.0 * rng.normal(size=shape)


def _class_weight(C):
    return list(np.linspace(0.5, 2.0, C))


@dataclass
class Case:
    id: str
    cls: type
    params: Callable[[int], dict[str, Any]]  # constructor parameters for C classes
    reference: Callable[..., np.ndarray]  # (t, p, axis=..., **params) -> per-sample
    domain: Domain
    kind: str = "dense"  # "dense" y_true, "labels", or "none" (y_pred alone)
    ref_exclude: tuple[str, ...] = ()
    smooth: bool = True  # differentiable almost everywhere with a useful gradient
    extra: dict[str, Any] = field(default_factory=dict)

    def make(self, C: int, reduction: Any = "sum_over_batch_size", axis: int = -1) -> fl.Loss:
        return self.cls(**self.params(C), axis=axis, reduction=reduction)

    def ref(self, t, p, axis=-1) -> np.ndarray:
        C = np.shape(p)[axis]
        kw = {k: v for k, v in self.params(C).items() if k not in self.ref_exclude}
        if self.kind == "none":
            return self.reference(p, axis=axis, **kw)
        return self.reference(t, p, axis=axis, **kw)

    def mask(self, t, C):
        """(valid rows, class weight of each row's label) for the reduction."""
        params = self.params(C)
        valid = None
        if params.get("ignore_class") is not None:
            valid = np.asarray(t) != params["ignore_class"]
        lw = None
        if params.get("class_weight") is not None:
            cw = np.asarray(params["class_weight"])
            lw = cw[np.where(valid if valid is not None else True, t, 0)]
        return valid, lw

    def __str__(self) -> str:
        return self.id


def P(**kw):
    return lambda C: dict(kw)


CCE, SCCE = fl.CategoricalCrossentropy, fl.SparseCategoricalCrossentropy
FOCAL = fl.CategoricalFocalCrossentropy
CASES = [
    Case("cce", CCE, P(), ref.categorical_crossentropy, dom("soft", "probs")),
    Case("cce-ls", CCE, P(label_smoothing=0.1), ref.categorical_crossentropy,
         dom("onehot", "probs")),
    Case("cce-logits", CCE, P(from_logits=True), ref.categorical_crossentropy,
         dom("soft", "logits")),
    Case("cce-logits-ls", CCE, P(from_logits=True, label_smoothing=0.2),
         ref.categorical_crossentropy, dom("onehot", "logits")),
    Case("scce", SCCE, P(), ref.sparse_categorical_crossentropy, dom("labels", "probs"),
         kind="labels"),
    Case("scce-logits", SCCE, P(from_logits=True), ref.sparse_categorical_crossentropy,
         dom("labels", "logits"), kind="labels"),
    Case("scce-ls-cw", SCCE, lambda C: {"label_smoothing": 0.1, "class_weight": _class_weight(C)},
         ref.sparse_categorical_crossentropy, dom("labels", "probs"), kind="labels"),
    Case("scce-logits-ls-cw", SCCE,
         lambda C: {"from_logits": True, "label_smoothing": 0.15, "class_weight": _class_weight(C)},
         ref.sparse_categorical_crossentropy, dom("labels", "logits"), kind="labels"),
    Case("scce-logits-ignore", SCCE, P(from_logits=True, ignore_class=-1),
         ref.sparse_categorical_crossentropy, _ignore_some, kind="labels"),
    Case("focal", FOCAL, P(), ref.categorical_focal_crossentropy, dom("soft", "probs")),
    Case("focal-logits", FOCAL, P(from_logits=True, gamma=1.5),
         ref.categorical_focal_crossentropy, dom("onehot", "logits")),
    Case("focal-alpha-ls", FOCAL,
         lambda C: {"alpha": list(np.linspace(0.2, 0.8, C)), "gamma": 3.0, "label_smoothing": 0.1},
         ref.categorical_focal_crossentropy, dom("onehot", "probs")),
    Case("kld", fl.KLDivergence, P(), ref.kl_divergence, dom("soft0", "probs01")),
    # PyTorch's kl_div: y_pred log-probabilities (any reals), y_true probabilities or logs
    Case("kld-log_input", fl.KLDivergence, P(log_input=True), ref.kl_divergence,
         dom("soft0", "logits")),
    Case("kld-log_input-log_target", fl.KLDivergence, P(log_input=True, log_target=True),
         ref.kl_divergence, dom("normal", "logits")),
    Case("kld-log_target", fl.KLDivergence, P(log_target=True), ref.kl_divergence,
         dom("normal", "probs01")),
    Case("categorical_hinge", fl.CategoricalHinge, P(), ref.categorical_hinge,
         dom("onehot", "normal")),
    Case("cosine", fl.CosineSimilarity, P(), ref.cosine_similarity, dom("normal", "normal")),
    Case("entropy", fl.Entropy, P(), ref.entropy, dom("none", "probs"), kind="none"),
    Case("entropy-logits", fl.Entropy, P(from_logits=True), ref.entropy, dom("none", "logits"),
         kind="none"),
    Case("zero_one", fl.CategoricalZeroOneLoss, P(), ref.categorical_zero_one,
         dom("onehot", "normal"), smooth=False),
    Case("sparse_zero_one", fl.SparseCategoricalZeroOneLoss, P(ignore_class=-1),
         ref.sparse_categorical_zero_one, _ignore_some, kind="labels", smooth=False),
]


def declared_cases(skip_covered: bool = True) -> list[Case]:
    """Cases made from the class-axis declarations (losses/info.hpp): the default
    parameters, and from_logits=True where the class has it, on the declared domain,
    for every registered loss without a case above (or for all of them)."""
    from fastloss import _declared

    covered = {c.cls for c in CASES}
    made = []
    for info in _declared.DECLARED_ROWS.values():
        cls = getattr(fl, info["cls"])
        if skip_covered and cls in covered:
            continue
        target = {"labels": "labels", "none": "none"}.get(
            info["input"], "normal" if info["domain"] == "real" else "soft")
        if info["targets"] == "label_sets":
            target = "label_sets"
        pred = {"real": "normal", "logits": "logits"}.get(info["domain"], "probs")
        reference = getattr(ref, info["function"])
        made.append(Case(f"{info['function']}-declared", cls, P(), reference,
                         dom(target, pred), kind=info["input"]))
        if any(p["name"] == "from_logits" for p in info["params"]):
            made.append(Case(f"{info['function']}-logits-declared", cls, P(from_logits=True),
                             reference, dom(target, "logits"), kind=info["input"]))
    return made


CASES += declared_cases()
CASE_IDS = [c.id for c in CASES]
SMOOTH = [c for c in CASES if c.smooth]
HESSIAN = [c for c in CASES if c.make(3).has_hessian]


def by_id(name: str) -> Case:
    return next(c for c in CASES if c.id == name)


def draw(case: Case, shape, dtype, axis=-1, *key):
    t, p = case.domain(rng_for(case.id, shape, axis, *key), shape, axis)
    if t is not None and case.kind == "dense":
        t = t.astype(dtype)
    return t, p.astype(dtype)


# The four methods, whatever the inputs of the loss.
def forward(case, loss, t, p, sw=None):
    return loss(p, sw) if case.kind == "none" else loss(t, p, sw)


def backward(case, loss, t, p, sw=None, **kw):
    if case.kind == "none":
        (g,) = loss.backward(p, sw, **kw)
        return g
    return loss.backward(t, p, sw, **kw)


def forward_backward(case, loss, t, p, sw=None, **kw):
    if case.kind == "none":
        v, (g,) = loss.forward_backward(p, sw, **kw)
        return v, g
    return loss.forward_backward(t, p, sw, **kw)


def gradient_hessian(case, loss, t, p, sw=None):
    return loss.gradient_hessian(p, sw) if case.kind == "none" else loss.gradient_hessian(t, p, sw)


# --- 1. against the float64 reference ---------------------------------------------


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_matches_reference(case, dtype, reduction, weighted):
    t, p = draw(case, (7, 5), dtype)
    sw = rng_for(case.id, "w").uniform(0.2, 2.0, size=7).astype(dtype) if weighted else None
    got = forward(case, case.make(5, reduction), t, p, sw)
    valid, lw = case.mask(t, 5)
    want = ref.reduce(case.ref(t, p), sw, reduction, valid, lw)
    assert np.asarray(got).dtype == dtype
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, **tolerance(dtype, want))


HAND = [  # (loss, y_true, y_pred, expected per-sample values) from Keras's docs or by hand
    (fl.CategoricalCrossentropy(), [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     [-np.log(0.95), -np.log(0.1)]),
    (fl.SparseCategoricalCrossentropy(), [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
     [-np.log(0.95), -np.log(0.1)]),
    (fl.CategoricalCrossentropy(from_logits=True), [[1, 0]], [[0.0, 0.0]], [np.log(2.0)]),
    (fl.CategoricalFocalCrossentropy(), [[0, 1, 0], [0, 0, 1]],
     [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], [3.2058331e-05, 4.6627346e-01]),
    (fl.KLDivergence(), [[0.5, 0.5]], [[0.25, 0.75]],
     [0.5 * np.log(2.0) + 0.5 * np.log(0.5 / 0.75)]),
    (fl.CategoricalHinge(), [[0, 1, 0]], [[0.6, 0.3, 0.1]], [1.3]),
    (fl.CosineSimilarity(), [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
     [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]], [0.0, -1.0, 1.0]),
    (fl.CategoricalZeroOneLoss(), [[0, 1, 0], [1, 0, 0]], [[0.2, 0.7, 0.1], [0.2, 0.7, 0.1]],
     [0.0, 1.0]),
]


@pytest.mark.parametrize("loss,t,p,want", HAND, ids=[type(h[0]).__name__ for h in HAND])
def test_values_worked_by_hand(loss, t, p, want):
    loss.reduction = "none"
    np.testing.assert_allclose(loss(t, p), want, rtol=2e-6, atol=1e-12)  # Keras docs: float32


def test_keras_documented_reductions():
    t = np.array([[0, 1, 0], [0, 0, 1]])
    p = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], np.float32)
    assert np.isclose(fl.CategoricalCrossentropy()(t, p), 1.177, atol=1e-3)
    assert np.isclose(fl.CategoricalCrossentropy()(t, p, np.array([0.3, 0.7])), 0.814, atol=1e-3)
    assert np.isclose(fl.CategoricalCrossentropy(reduction="sum")(t, p), 2.354, atol=1e-3)
    assert np.isclose(fl.CategoricalFocalCrossentropy()(t, p), 0.23315276, rtol=1e-5)
    assert np.isclose(fl.CategoricalFocalCrossentropy(reduction="sum")(t, p), 0.46631, atol=1e-5)


def test_entropy_values():
    C = 6
    np.testing.assert_allclose(fl.entropy(np.full((2, C), 1 / C)), [np.log(C)] * 2, rtol=1e-14)
    np.testing.assert_allclose(fl.entropy(np.zeros((1, C)), from_logits=True), [np.log(C)],
                               rtol=1e-14)
    assert fl.entropy([[1.0, 0.0, 0.0]])[0] == 0.0  # 0 log 0 = 0


# --- 2. central differences (float64) ---------------------------------------------

H = 1e-4


def central(f, h=H):
    return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)


@pytest.mark.parametrize("case", SMOOTH, ids=[c.id for c in SMOOTH])
def test_gradient_central_differences_per_element(case):
    """Every element of the gradient of the weighted sum, one at a time."""
    t, p = draw(case, (4, 5), np.float64, -1, "cd")
    sw = np.array([0.5, 1.0, 1.5, 2.0])
    loss = case.make(5, "sum")
    g = backward(case, loss, t, p, sw)
    numeric = np.empty_like(p)
    for idx in np.ndindex(p.shape):
        e = np.zeros_like(p)
        e[idx] = 1.0
        numeric[idx] = central(lambda s, e=e: forward(case, loss, t, p + s * e, sw))
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8 * max(1, np.abs(g).max()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", SMOOTH, ids=[c.id for c in SMOOTH])
def test_reduced_gradient_directional_derivative(case, reduction):
    """<backward, v> is the derivative of the reduced loss along v, for every
    reduction, with sample weights and an upstream grad_output; middle axis."""
    shape, axis = (3, 5, 4), 1
    t, p = draw(case, shape, np.float64, axis, "dd")
    rng = rng_for(case.id, "v")
    v = rng.uniform(-1, 1, size=shape)
    sw = rng.uniform(0.2, 2.0, size=(3, 4))
    loss = case.make(5, reduction, axis=axis)
    upstream = rng.uniform(0.5, 1.5, size=(3, 4)) if reduction in ("none", None) else 1.7
    g = backward(case, loss, t, p, sw, grad_output=upstream)

    def along(s):
        return np.sum(upstream * forward(case, loss, t, p + s * v, sw))

    np.testing.assert_allclose(np.sum(g * v), central(along), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", HESSIAN, ids=[c.id for c in HESSIAN])
def test_hessian_central_differences(case):
    """gradient_hessian: the gradient of each weighted per-sample loss, and the
    diagonal of its Hessian as the central difference of that gradient."""
    t, p = draw(case, (4, 5), np.float64, -1, "h")
    sw = np.array([0.5, 1.0, 1.5, 2.0])
    loss = case.make(5)
    g, h = gradient_hessian(case, loss, t, p, sw)
    np.testing.assert_allclose(
        g, backward(case, case.make(5, "none"), t, p, grad_output=sw), rtol=1e-12, atol=1e-14)
    numeric = np.empty_like(p)
    for idx in np.ndindex(p.shape):
        e = np.zeros_like(p)
        e[idx] = 1.0
        numeric[idx] = central(
            lambda s, e=e, idx=idx: gradient_hessian(case, loss, t, p + s * e, sw)[0][idx])
    np.testing.assert_allclose(h, numeric, rtol=1e-6, atol=1e-8 * max(1, np.abs(h).max()))


def test_softmax_hessian_is_the_multinomial_convention():
    z = rng_for("hm").normal(size=(6, 4))
    y = np.arange(6) % 4
    g, h = fl.SparseCategoricalCrossentropy(from_logits=True).gradient_hessian(y, z)
    s = ref.softmax(z)
    np.testing.assert_allclose(g, s - np.eye(4)[y], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h, s * (1 - s), rtol=1e-12, atol=1e-15)
    g2, h2 = fl.CategoricalCrossentropy(from_logits=True).gradient_hessian(np.eye(4)[y], z)
    np.testing.assert_allclose(g2, g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h2, h, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_hessian_or_clear_refusal(case):
    loss = case.make(3)
    t, p = draw(case, (4, 3), np.float64)
    if loss.has_hessian:
        g, h = gradient_hessian(case, loss, t, p)
        assert g.shape == h.shape == p.shape
    else:
        with pytest.raises(NotImplementedError, match=type(loss).__name__ + " has no"):
            gradient_hessian(case, loss, t, p)


@pytest.mark.parametrize("case", [c for c in CASES if not c.smooth], ids=lambda c: c.id)
def test_zero_one_gradient_is_zero(case):
    t, p = draw(case, (6, 4), np.float64)
    value, g = forward_backward(case, case.make(4), t, p)
    assert 0 <= value <= 1
    np.testing.assert_array_equal(g, np.zeros_like(p))


# --- 3. fused == separate ------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fused_equals_separate(case, dtype, reduction):
    t, p = draw(case, (33, 7), dtype)
    sw = np.linspace(0.5, 1.5, 33).astype(dtype)
    loss = case.make(7, reduction)
    value, grad = forward_backward(case, loss, t, p, sw, grad_output=0.5)
    np.testing.assert_array_equal(value, forward(case, loss, t, p, sw))
    np.testing.assert_array_equal(grad, backward(case, loss, t, p, sw, grad_output=0.5))
    assert grad.dtype == dtype and grad.shape == p.shape
    assert np.asarray(value).dtype == dtype


# --- 4. machinery ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_threads_bitwise(case):
    """Fixed tiles, fixed reduction order: 1 and 2 threads agree bit for bit,
    for a last and a middle class axis."""
    before = fl.get_num_threads()
    try:
        for shape, axis in [((6000, 13), -1), ((40, 13, 130), 1)]:
            t, p = draw(case, shape, np.float32, axis, "threads")
            sw = rng_for("sw").uniform(0.5, 1.5, size=tuple(np.delete(shape, axis))).astype(
                np.float32)
            results = []
            for n in (1, 2):
                fl.set_num_threads(n)
                loss = case.make(13, "sum_over_batch_size", axis=axis)
                results.append(forward_backward(case, loss, t, p, sw))
            np.testing.assert_array_equal(results[0][0], results[1][0])
            np.testing.assert_array_equal(results[0][1], results[1][1])
    finally:
        fl.set_num_threads(before)


def _moved(case, t, axis, nd):
    if t is None:
        return None
    if case.kind == "labels":
        return t  # labels have the sample shape in both layouts
    return np.moveaxis(t, axis, -1)


@pytest.mark.parametrize("shape", [(4, 5, 6), (3, 4, 5, 2)], ids=["3d", "4d"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_axis_position(case, shape):
    """Any class axis, read in place: the same per-sample values and gradients
    bit for bit as the transposed array with the class axis last."""
    for axis in range(-len(shape), len(shape)):
        C = shape[axis]
        t, p = draw(case, shape, np.float64, axis, "axes")
        loss = case.make(C, "none", axis=axis)
        if case.kind == "labels":  # the sample shape is the same, in the same order
            t_last = t
        else:
            t_last = _moved(case, t, axis, len(shape))
        p_last = np.ascontiguousarray(np.moveaxis(p, axis, -1))
        v, g = forward_backward(case, loss, t, p)
        v_last, g_last = forward_backward(case, case.make(C, "none"), t_last, p_last)
        np.testing.assert_array_equal(v, v_last)
        np.testing.assert_array_equal(g, np.moveaxis(g_last, -1, axis))
        np.testing.assert_allclose(v, case.ref(t, p, axis=axis), rtol=1e-9, atol=1e-12)
        reduced = forward(case, case.make(C, axis=axis), t, p)
        valid, lw = case.mask(t, C)
        np.testing.assert_allclose(reduced, ref.reduce(case.ref(t, p, axis=axis), None,
                                                       "sum_over_batch_size", valid, lw),
                                   rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [by_id("cce-logits"), by_id("scce-logits-ignore"),
                                  by_id("cosine"), by_id("kld")], ids=lambda c: c.id)
def test_wide_middle_axis_read_in_place(case):
    """Above the gather size a middle class axis is read with its stride."""
    shape, axis = (2, 3000, 3), 1
    t, p = draw(case, shape, np.float64, axis, "wide")
    loss = case.make(3000, "none", axis=axis)
    v, g = forward_backward(case, loss, t, p)
    t_last = t if case.kind == "labels" else np.moveaxis(t, axis, -1)
    v_last, g_last = forward_backward(case, case.make(3000, "none"), t_last,
                                      np.ascontiguousarray(np.moveaxis(p, axis, -1)))
    np.testing.assert_array_equal(v, v_last)
    np.testing.assert_array_equal(g, np.moveaxis(g_last, -1, axis))
    np.testing.assert_allclose(v, case.ref(t, p, axis=axis), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "dense"], ids=lambda c: c.id)
def test_broadcast_and_strided_inputs_on_a_middle_axis(case):
    shape, axis = (4, 5, 6), 1
    t, p = draw(case, shape, np.float64, axis, "bmid")
    t1 = t[:1, :, :1]  # one target row for every sample: read with stride 0
    loss = case.make(5, "none", axis=axis)
    want_v, want_g = forward_backward(case, loss, np.broadcast_to(t1, shape).copy(), p)
    v, g = forward_backward(case, loss, t1, p)
    np.testing.assert_array_equal(v, want_v)
    np.testing.assert_array_equal(g, want_g)
    big = np.zeros((4, 5, 12))
    big[..., ::2] = p
    v, g = forward_backward(case, loss, t1, big[..., ::2])
    np.testing.assert_array_equal(v, want_v)
    np.testing.assert_array_equal(g, want_g)


def test_a_single_sample_gives_a_scalar():
    p = np.array([0.1, 0.2, 0.7])
    np.testing.assert_allclose(fl.SparseCategoricalCrossentropy()(2, p), -np.log(0.7), rtol=1e-14)
    np.testing.assert_allclose(fl.CategoricalCrossentropy()([0, 0, 1], p), -np.log(0.7),
                               rtol=1e-14)
    v, g = fl.SparseCategoricalCrossentropy(reduction="none").forward_backward(2, p)
    assert np.ndim(v) == 0 and g.shape == (3,)


def _layouts(p):
    big = np.zeros((p.shape[0], 2 * p.shape[1]), p.dtype)
    big[:, ::2] = p
    rev = np.ascontiguousarray(p[::-1, ::-1])
    yield "class-stride-2", big[:, ::2]
    yield "fortran", np.asfortranarray(p)
    yield "reversed", rev[::-1, ::-1]
    yield "transposed", np.ascontiguousarray(p.T).T


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_strided_inputs(case, dtype):
    t, p = draw(case, (9, 6), dtype)
    loss = case.make(6, "none")
    want_v, want_g = forward_backward(case, loss, t, p)
    for name, view in _layouts(p):
        assert np.array_equal(view, p), name
        v, g = forward_backward(case, loss, t, view)
        np.testing.assert_array_equal(v, want_v, err_msg=name)
        np.testing.assert_array_equal(g, want_g, err_msg=name)
        if case.kind == "dense":
            for tname, tview in _layouts(t):
                v, g = forward_backward(case, loss, tview, view)
                np.testing.assert_array_equal(v, want_v, err_msg=name + "/" + tname)
                np.testing.assert_array_equal(g, want_g, err_msg=name + "/" + tname)


@pytest.mark.parametrize("axis", [-1, 1], ids=["last", "middle"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_in_place_over_the_logits(case, dtype, axis):
    shape = (5, 7, 3)
    t, p = draw(case, shape, dtype, axis, "inplace")
    sw = np.linspace(0.5, 1.5, 5 * 3).reshape(5, 3).astype(dtype) if axis == 1 else None
    loss = case.make(shape[axis], axis=axis)
    want_v, want_g = forward_backward(case, loss, t, p, sw)
    z = p.copy()
    v, g = forward_backward(case, loss, t, z, sw, out=z)
    assert g is z
    np.testing.assert_array_equal(v, want_v)
    np.testing.assert_array_equal(z, want_g)
    z = p.copy()
    g = backward(case, loss, t, z, sw, out=z)
    np.testing.assert_array_equal(z, want_g)


@pytest.mark.parametrize("case", [by_id("cce-logits"), by_id("scce-logits")], ids=lambda c: c.id)
def test_out_into_a_strided_array(case):
    t, p = draw(case, (6, 5), np.float64)
    loss = case.make(5)
    want = backward(case, loss, t, p)
    out = np.zeros((5, 6)).T
    assert backward(case, loss, t, p, out=out) is out
    np.testing.assert_array_equal(out, want)


def test_bad_out_arrays():
    loss = fl.CategoricalCrossentropy(from_logits=True)
    t, p = np.eye(3), np.ones((3, 3))
    with pytest.raises(ValueError, match="shape"):
        loss.backward(t, p, out=np.empty((3, 4)))
    with pytest.raises(TypeError, match="dtype"):
        loss.backward(t, p, out=np.empty((3, 3), np.float32))
    ro = np.empty((3, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        loss.backward(t, p, out=ro)
    with pytest.raises(ValueError, match="overlap"):
        loss.backward(t, p, out=t)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_float32_in_float32_out_and_other_dtypes_converted(case):
    t, p = draw(case, (4, 3), np.float32)
    v, g = forward_backward(case, case.make(3), t, p)
    assert np.asarray(v).dtype == np.float32 and g.dtype == np.float32
    v16, g16 = forward_backward(case, case.make(3), t, p.astype(np.float16))
    assert np.asarray(v16).dtype == np.float32 and g16.dtype == np.float32
    v64, g64 = forward_backward(case, case.make(3), t, p.astype(np.float64))
    assert np.asarray(v64).dtype == np.float64 and g64.dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_empty_batches(case):
    for shape in [(0, 4), (2, 0, 3)]:
        t, p = draw(case, shape, np.float64, -1, "empty")
        C = shape[-1]
        v, g = forward_backward(case, case.make(C), t, p)
        assert v == 0.0 and g.shape == p.shape
        assert forward(case, case.make(C, "none"), t, p).shape == shape[:-1]


def test_no_classes_is_an_empty_sum():
    loss = fl.CategoricalCrossentropy(from_logits=True, reduction="none")
    v, g = loss.forward_backward(np.zeros((3, 0)), np.zeros((3, 0)))
    np.testing.assert_array_equal(v, np.zeros(3))
    assert g.shape == (3, 0)


@pytest.mark.parametrize("C", [1, 7, 8, 9, 17, 8191, 8193])
@pytest.mark.parametrize("case", [by_id("cce-logits"), by_id("scce-logits"), by_id("cosine")],
                         ids=lambda c: c.id)
def test_class_counts_around_lanes_and_tiles(case, C):
    import warnings
    for n in (1, 3, 700):
        if n * C > 2_000_000:
            continue
        t, p = draw(case, (n, C), np.float64, -1, "lanes")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            v = forward(case, case.make(C, "none"), t, p)
            g = backward(case, case.make(C, "sum"), t, p)
        np.testing.assert_allclose(v, case.ref(t, p), rtol=1e-9, atol=1e-12)
        assert np.all(np.isfinite(g))


# --- 5. numerical edges --------------------------------------------------------------------


def _masked(dtype):
    rng = rng_for("masked")
    z = 3.0 * rng.normal(size=(6, 5))
    y = np.array([0, 1, 2, 3, 4, 0])
    mask = rng.uniform(size=z.shape) < 0.4
    mask[np.arange(6), y] = False
    z[mask] = -np.inf
    return y, z.astype(dtype), mask


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_classes_give_finite_losses_and_zero_gradients(dtype):
    y, z, mask = _masked(dtype)
    t = np.eye(5)[y]
    zf = np.where(mask, -1e30, z.astype(np.float64))  # the same softmax without infinities
    for loss, target, want in [
        (fl.CategoricalCrossentropy(from_logits=True), t, ref.categorical_crossentropy(
            t, zf, from_logits=True)),
        (fl.SparseCategoricalCrossentropy(from_logits=True), y,
         ref.sparse_categorical_crossentropy(y, zf, from_logits=True)),
        (fl.CategoricalFocalCrossentropy(from_logits=True), t,
         ref.categorical_focal_crossentropy(t, zf, from_logits=True)),
    ]:
        loss.reduction = "none"
        v, g = loss.forward_backward(target, z)
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g)), type(loss).__name__
        np.testing.assert_allclose(v, want, **tolerance(dtype, want))
        np.testing.assert_array_equal(g[mask], 0.0)
        if loss.has_hessian:
            gg, h = loss.gradient_hessian(target, z)
            assert np.all(np.isfinite(h)) and np.all(h[mask] == 0.0)
    v, (g,) = fl.Entropy(from_logits=True, reduction="none").forward_backward(z)
    np.testing.assert_allclose(v, ref.entropy(zf, from_logits=True),
                               **tolerance(dtype, np.ones(1)))
    assert np.all(np.isfinite(g)) and np.all(g[mask] == 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_huge_logits(dtype):
    rng = rng_for("huge")
    z = (rng.choice([-1e4, 1e4], size=(8, 6)) + rng.normal(size=(8, 6))).astype(dtype)
    y = rng.integers(0, 6, size=8)
    t = np.eye(6)[y]
    z64 = z.astype(np.float64)
    for loss, target, want in [
        (fl.CategoricalCrossentropy(from_logits=True, reduction="none"), t,
         ref.categorical_crossentropy(t, z64, from_logits=True)),
        (fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none"), y,
         ref.sparse_categorical_crossentropy(y, z64, from_logits=True)),
    ]:
        v, g = loss.forward_backward(target, z)
        assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
        np.testing.assert_allclose(v, want, rtol=1e-6 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(g, ref.softmax(z64) - t, atol=1e-6)
    v, (g,) = fl.Entropy(from_logits=True, reduction="none").forward_backward(z)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))


@pytest.mark.parametrize("dtype", DTYPES)
def test_many_classes(dtype):
    """C = 262144: two rows, streamed in place (no N x C temporary)."""
    C = 262144
    rng = rng_for("many")
    z = (4.0 * rng.normal(size=(2, C))).astype(dtype)
    y = np.array([3, C - 1])
    t = np.zeros((2, C), dtype)
    t[np.arange(2), y] = 1
    want = ref.sparse_categorical_crossentropy(y, z, from_logits=True)
    tol = {"rtol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12}
    for loss, target in [(fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none"), y),
                         (fl.CategoricalCrossentropy(from_logits=True, reduction="none"), t)]:
        v, g = loss.forward_backward(target, z)
        np.testing.assert_allclose(v, want, **tol)
        zz = z.copy()
        loss.forward_backward(target, zz, out=zz)
        np.testing.assert_array_equal(zz, g)
        np.testing.assert_allclose(g, ref.softmax(z.astype(np.float64)) - t, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_row_maximum_found_at_every_position(dtype):
    """Softmax rows subtract the row maximum before exp, and take it in vector
    registers with a scalar tail: a logit so large that exp(z - m) overflows
    unless m is exactly the maximum, put at every position of rows of sizes
    around the vector widths, read with unit stride and with stride 2."""
    big = 1000.0 if dtype == np.float64 else 100.0
    rng = rng_for("row-max")
    loss = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    for C in (1, 7, 8, 9, 15, 16, 17, 31, 33, 47):
        z = rng.normal(size=(C, C))
        z[np.arange(C), np.arange(C)] = big  # row i has its maximum at i
        z = z.astype(dtype)
        y = rng.integers(0, C, size=C)
        z64 = z.astype(np.float64)
        m = z64.max(axis=1)
        want = m + np.log(np.exp(z64 - m[:, None]).sum(axis=1)) - z64[np.arange(C), y]
        strided = np.repeat(z, 2, axis=1)[:, ::2]
        for logits in (z, strided):
            v, g = loss.forward_backward(y, logits)
            np.testing.assert_allclose(v, want, rtol=1e-6 if dtype == np.float32 else 1e-12,
                                       atol=1e-6 if dtype == np.float32 else 1e-12)
            assert np.all(np.isfinite(g)), C


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_softmax_rows_of_every_tail_length(dtype):
    """The sparse softmax rows take their exponentials sixteen lanes at a time, the last
    C % 16 one by one, and write the gradient as one product per element: every tail
    length (C = 1 .. 40, and long rows 1000, 1007 and 32005) against the float64
    reference, value, gradient and Hessian, with the in-place call (out = the logits)
    writing the same bits."""
    rng = rng_for("tails")
    loss = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    summed = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    vtol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12,
                                                                      "atol": 1e-12}
    gtol = 2e-7 if dtype == np.float32 else 1e-15
    for C in (*range(1, 41), 1000, 1007, 32005):
        n = 3 if C > 2000 else 23
        z = (3.0 * rng.normal(size=(n, C))).astype(dtype)
        y = rng.integers(0, C, size=n)
        z64 = z.astype(np.float64)
        s = ref.softmax(z64)
        onehot = np.zeros((n, C))
        onehot[np.arange(n), y] = 1.0
        v, g = loss.forward_backward(y, z)
        np.testing.assert_allclose(v, ref.sparse_categorical_crossentropy(y, z64, True),
                                   **vtol, err_msg=f"C={C}")
        gs = summed.backward(y, z)
        # one rounding of exp (1-2 ulp) and of the scale: a few ulps of the largest element
        np.testing.assert_allclose(gs, s - onehot, rtol=0, atol=gtol * 8, err_msg=f"C={C}")
        gh, h = loss.gradient_hessian(y, z)
        np.testing.assert_allclose(h, s * (1 - s), rtol=0, atol=gtol * 8, err_msg=f"C={C}")
        np.testing.assert_array_equal(gh, gs)
        zz = z.copy()
        summed.forward_backward(y, zz, out=zz)
        np.testing.assert_array_equal(zz, gs)
        assert g.dtype == dtype


def test_sparse_softmax_rows_bitwise_across_threads_with_a_tail():
    """600 x 1007 float32 (tiles of eight rows, a 15-element tail per row) and
    20000 x 10 (rows shorter than one block of lanes): the same bits at 1, 2 and 3
    threads."""
    rng = rng_for("tail-threads")
    loss = fl.SparseCategoricalCrossentropy(from_logits=True)
    old = fl.get_num_threads()
    try:
        for shape in ((600, 1007), (20000, 10)):
            z = (2.0 * rng.normal(size=shape)).astype(np.float32)
            y = rng.integers(0, shape[1], size=shape[0])
            got = []
            for th in (1, 2, 3):
                fl.set_num_threads(th)
                v, g = loss.forward_backward(y, z)
                got.append((np.float64(v), g))
            for v, g in got[1:]:
                assert v == got[0][0]
                np.testing.assert_array_equal(g, got[0][1])
    finally:
        fl.set_num_threads(old)


def test_single_class_warns_like_keras():
    with pytest.warns(SyntaxWarning, match="num_classes > 1") as record:
        fl.CategoricalCrossentropy()(np.ones((3, 1)), np.ones((3, 1)))
    assert record[0].filename == __file__  # points at the caller
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        fl.CategoricalFocalCrossentropy(from_logits=True).forward_backward(np.ones((3, 1)),
                                                                          np.ones((3, 1)))
    # the sparse loss does not warn in Keras either; a single class gives 0
    np.testing.assert_array_equal(
        fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")([0, 0], [[2.0], [-1]]),
        [0.0, 0.0])


def test_cosine_zero_vectors_give_zero_not_nan():
    loss = fl.CosineSimilarity(reduction="none")
    v, g = loss.forward_backward([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]],
                                 [[1.0, 2.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(v, [0.0, 0.0, 0.0])
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[0], [0.0, 0.0])


def test_nan_propagates():
    z = np.array([[0.0, np.nan, 1.0], [0.0, 1.0, 2.0]])
    v, g = fl.CategoricalCrossentropy(from_logits=True, reduction="none").forward_backward(
        np.eye(3)[:2], z)
    assert np.isnan(v[0]) and np.isfinite(v[1])
    assert np.all(np.isnan(g[0])) and np.all(np.isfinite(g[1]))
    assert np.isnan(fl.CategoricalZeroOneLoss(reduction="none")(np.eye(3)[:2], z)[0])
    assert np.isnan(fl.KLDivergence(reduction="none")(np.eye(3)[:2], z)[0])


# --- 6. labels ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                   np.int64, np.uint64, np.float32, np.float64, bool])
def test_label_dtypes(dtype):
    z = rng_for("lab").normal(size=(6, 4))
    y = np.array([0, 1, 1, 0, 1, 0]) if dtype is bool else np.array([0, 3, 2, 1, 3, 0])
    want = ref.sparse_categorical_crossentropy(y, z, from_logits=True)
    got = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(y.astype(dtype), z)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("labels,pattern", [
    ([0, 4, 1], r"label 4 at index 1 is outside \[0, 4\)"),
    ([-1, 0, 1], r"label -1 at index 0 is outside \[0, 4\)"),
    ([0, 1, 300], r"label 300 at index 2 is outside"),
    ([0.0, 1.5, 2.0], r"label 1\.5 at index 1 is not an integer"),
    ([0.0, 1.0, np.nan], r"label nan at index 2 is not an integer"),
    ([0.0, 1.0, 4.0], r"label 4\.0 at index 2 is outside"),
    ([[0], [9], [1]], r"label 9 at index \(1, 0\) is outside"),
    (np.array([0, 2**63 + 5, 1], np.uint64), r"label 9223372036854775813 at index 1"),
])
def test_label_errors_name_the_first_bad_label(labels, pattern):
    z = np.zeros((3, 4))
    for loss in (fl.SparseCategoricalCrossentropy(), fl.SparseCategoricalZeroOneLoss()):
        with pytest.raises(ValueError, match=pattern):
            loss(labels, z)


def test_label_errors_2d_and_middle_axis():
    z = np.zeros((2, 4, 3))
    y = np.array([[0, 1, 2], [3, 5, 0]])
    with pytest.raises(ValueError, match=r"label 5 at index \(1, 1\)"):
        fl.SparseCategoricalCrossentropy(axis=1)(y, z)
    with pytest.raises(ValueError, match=r"y_true shape \(4,\) and y_pred shape \(2, 4, 3\)"):
        fl.SparseCategoricalCrossentropy(axis=1)([0, 1, 2, 3], z)
    # class ids broadcast to the sample shape like any other input
    np.testing.assert_array_equal(fl.sparse_categorical_crossentropy([0, 1, 2], z, axis=1),
                                  fl.sparse_categorical_crossentropy(y * 0 + [0, 1, 2], z, axis=1))
    with pytest.raises(TypeError, match="integer class ids"):
        fl.SparseCategoricalCrossentropy()(np.array(["a", "b"]), np.zeros((2, 3)))


def test_ignored_label_may_be_outside_the_range():
    z = rng_for("ign").normal(size=(4, 3))
    loss = fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255, reduction="none")
    v, g = loss.forward_backward([0, 255, 2, 255], z)
    assert v[1] == 0 and v[3] == 0 and v[0] > 0
    np.testing.assert_array_equal(g[[1, 3]], 0.0)
    with pytest.raises(ValueError, match="label 256 at index 1"):
        loss([0, 256, 2, 255], z)


def test_label_array_with_a_size_one_class_axis_is_squeezed():
    z = rng_for("sq").normal(size=(4, 3))
    y = np.array([0, 2, 1, 1])
    loss = fl.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    np.testing.assert_array_equal(loss(y[:, None], z), loss(y, z))
    z3 = rng_for("sq3").normal(size=(2, 3, 5))
    y3 = np.array([[0, 1, 2, 0, 1], [2, 2, 1, 0, 0]])
    loss3 = fl.SparseCategoricalCrossentropy(from_logits=True, axis=1, reduction="none")
    np.testing.assert_array_equal(loss3(y3[:, None, :], z3), loss3(y3, z3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignore_class_follows_keras_masking(reduction):
    rng = rng_for("mask", reduction)
    z = rng.normal(size=(8, 4))
    y = np.array([0, -1, 2, 3, -1, 1, 1, -1])
    sw = rng.uniform(0.5, 2, size=8)
    loss = fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=reduction)
    per = ref.sparse_categorical_crossentropy(y, z, from_logits=True, ignore_class=-1)
    valid = y != -1
    for weights in (None, sw):
        v, g = loss.forward_backward(y, z, weights)
        np.testing.assert_allclose(v, ref.reduce(per, weights, reduction, valid), rtol=1e-12)
        np.testing.assert_array_equal(g[~valid], 0.0)
    # every row ignored: 0, not NaN
    v, g = loss.forward_backward(np.full(8, -1), z, sw)
    assert np.all(np.asarray(v) == 0) and np.all(g == 0)


def test_class_weight_mean_is_the_weighted_mean():
    rng = rng_for("cw")
    z = rng.normal(size=(10, 3))
    y = rng.integers(0, 3, size=10)
    cw = np.array([0.2, 1.0, 3.0])
    per = -ref.log_softmax(z)[np.arange(10), y]
    v = fl.SparseCategoricalCrossentropy(from_logits=True, class_weight=cw,
                                         reduction="mean_with_sample_weight")(y, z)
    np.testing.assert_allclose(v, np.sum(cw[y] * per) / np.sum(cw[y]), rtol=1e-12)


def test_parameter_errors():
    with pytest.raises(ValueError, match="label_smoothing"):
        fl.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="label_smoothing"):
        fl.SparseCategoricalCrossentropy(label_smoothing=-0.1)
    with pytest.raises(ValueError, match="gamma"):
        fl.CategoricalFocalCrossentropy(gamma=-1.0)
    with pytest.raises(ValueError, match="class weights"):
        fl.SparseCategoricalCrossentropy(class_weight=[1.0, -2.0])
    with pytest.raises(ValueError, match="class_weight has 2 entries but y_pred has 3"):
        fl.SparseCategoricalCrossentropy(class_weight=[1.0, 2.0])([0], [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="alpha has 2 entries but y_pred has 3"):
        fl.CategoricalFocalCrossentropy(alpha=[0.1, 0.2])([[0, 0, 1]], [[0.2, 0.3, 0.5]])
    with pytest.raises(TypeError, match="ignore_class"):
        fl.SparseCategoricalCrossentropy(ignore_class=1.5)
    with pytest.raises(TypeError, match="axis"):
        fl.CategoricalCrossentropy(axis=True)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        fl.CategoricalCrossentropy(axis=2)(np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        fl.SparseCategoricalCrossentropy(axis=2)([0, 1], np.eye(2))
    with pytest.raises(ValueError, match="at least one dimension"):
        fl.SparseCategoricalCrossentropy()(0, 1.0)
    with pytest.raises(ValueError, match="incompatible"):
        fl.CategoricalCrossentropy()(np.eye(3), np.ones((2, 3)))


# --- 7. names, API shape -------------------------------------------------------------------


@pytest.mark.parametrize("name,cls", [
    ("categorical_crossentropy", fl.CategoricalCrossentropy),
    ("CategoricalCrossentropy", fl.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", fl.SparseCategoricalCrossentropy),
    ("categorical_focal_crossentropy", fl.CategoricalFocalCrossentropy),
    ("kl_divergence", fl.KLDivergence), ("kld", fl.KLDivergence), ("KLD", fl.KLDivergence),
    ("kullback_leibler_divergence", fl.KLDivergence),
    ("categorical_hinge", fl.CategoricalHinge), ("cosine_similarity", fl.CosineSimilarity),
    ("entropy", fl.Entropy), ("categorical_zero_one", fl.CategoricalZeroOneLoss),
    ("sparse_categorical_zero_one", fl.SparseCategoricalZeroOneLoss),
    ("softmax_cross_entropy_with_logits", fl.CategoricalCrossentropy),
])
def test_names(name, cls):
    loss = fl.get(name)
    assert type(loss) is cls
    assert name in fl.names()
    if name == "softmax_cross_entropy_with_logits":
        assert loss.from_logits
    elif hasattr(loss, "from_logits"):
        assert not loss.from_logits


def test_per_sample_functions():
    rng = rng_for("fn")
    z = rng.normal(size=(4, 3))
    t = np.eye(3)[[0, 2, 1, 1]]
    np.testing.assert_array_equal(
        fl.softmax_cross_entropy_with_logits(t, z),
        fl.CategoricalCrossentropy(from_logits=True, reduction="none")(t, z))
    np.testing.assert_array_equal(fl.categorical_crossentropy(t, z, from_logits=True),
                                  fl.softmax_cross_entropy_with_logits(t, z))
    assert fl.get(fl.softmax_cross_entropy_with_logits).from_logits
    np.testing.assert_allclose(fl.sparse_categorical_crossentropy([0, 2, 1, 1], z, True),
                               fl.softmax_cross_entropy_with_logits(t, z), rtol=1e-15)
    p = ref.softmax(z)
    np.testing.assert_array_equal(fl.kld(t, p), fl.kl_divergence(t, p))
    np.testing.assert_array_equal(fl.kullback_leibler_divergence(t, p), fl.kl_divergence(t, p))
    np.testing.assert_allclose(fl.entropy(z, from_logits=True), ref.entropy(p), rtol=1e-12)
    np.testing.assert_allclose(fl.cosine_similarity(t, z, axis=0),
                               ref.cosine_similarity(t, z, axis=0), rtol=1e-12)


def test_entropy_takes_y_pred_alone_and_returns_one_gradient():
    p = rng_for("ent").uniform(0.1, 1, size=(3, 4))
    loss = fl.Entropy()
    grads = loss.backward(p)
    assert isinstance(grads, tuple) and len(grads) == 1
    value, (g,) = loss.forward_backward(p)
    assert value == loss(p)
    np.testing.assert_allclose(g, -(np.log(p) + 1) / 3, rtol=1e-12)
    gg, h = loss.gradient_hessian(p)
    np.testing.assert_allclose(h, -1 / p, rtol=1e-12)


def test_config_round_trip():
    for loss in [fl.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, axis=1),
                 fl.SparseCategoricalCrossentropy(ignore_class=3, class_weight=[1, 2]),
                 fl.CategoricalFocalCrossentropy(alpha=[0.1, 0.9], gamma=1.0),
                 fl.CosineSimilarity(axis=0), fl.Entropy(from_logits=True)]:
        config = loss.get_config()
        twin = type(loss)(**{k: v for k, v in config.items()})
        assert twin.get_config() == config
        assert type(loss).__name__ in repr(loss)


# --- 8. peers: Keras 3 (torch backend), PyTorch, scikit-learn --------------------------------


@pytest.mark.peer
def test_softmax_gradient_hessian_matches_sklearn_half_multinomial():
    loss_module = pytest.importorskip("sklearn._loss.loss")
    rng = rng_for("sk")
    z = rng.normal(size=(20, 4))
    y = rng.integers(0, 4, size=20)
    sw = rng.uniform(0.5, 2.0, size=20)
    theirs = loss_module.HalfMultinomialLoss(n_classes=4)
    g_sk, h_sk = theirs.gradient_hessian(y.astype(np.float64), z, sample_weight=sw)
    g, h = fl.SparseCategoricalCrossentropy(from_logits=True).gradient_hessian(y, z, sw)
    np.testing.assert_allclose(g, g_sk, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(h, h_sk, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fl.sparse_categorical_crossentropy(y, z, from_logits=True),
                               theirs.loss(y.astype(np.float64), z), rtol=1e-12)


def _torch():
    return pytest.importorskip("torch")


def _keras():
    _torch()
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("these peer tests drive Keras through its torch backend")
    return keras


# fastloss case id -> Keras class, constructor arguments (for C classes)
KERAS_TWINS = {
    "cce": ("CategoricalCrossentropy", P()),
    "cce-ls": ("CategoricalCrossentropy", P(label_smoothing=0.1)),
    "cce-logits": ("CategoricalCrossentropy", P(from_logits=True)),
    "cce-logits-ls": ("CategoricalCrossentropy", P(from_logits=True, label_smoothing=0.2)),
    "scce": ("SparseCategoricalCrossentropy", P()),
    "scce-logits": ("SparseCategoricalCrossentropy", P(from_logits=True)),
    "scce-logits-ignore": ("SparseCategoricalCrossentropy", P(from_logits=True, ignore_class=-1)),
    "focal": ("CategoricalFocalCrossentropy", P()),
    "focal-logits": ("CategoricalFocalCrossentropy", P(from_logits=True, gamma=1.5)),
    "focal-alpha-ls": ("CategoricalFocalCrossentropy",
                       lambda C: {"alpha": list(np.linspace(0.2, 0.8, C)), "gamma": 3.0,
                                  "label_smoothing": 0.1}),
    "kld": ("KLDivergence", P()),
    "categorical_hinge": ("CategoricalHinge", P()),
    "cosine": ("CosineSimilarity", P()),
}
KERAS_CASES = [c for c in CASES if c.id in KERAS_TWINS]
PEER_REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


def _keras_forward_backward(keras, name, kwargs, reduction, t, p, weights, upstream, dtype):
    torch = _torch()
    theirs = getattr(keras.losses, name)(**kwargs, reduction=reduction, dtype=dtype)
    p_torch = torch.tensor(p.astype(dtype), requires_grad=True)
    value = theirs(torch.tensor(np.asarray(t).astype(dtype)), p_torch,
                   sample_weight=None if weights is None else torch.tensor(weights.astype(dtype)))
    (value * torch.tensor(upstream.astype(dtype))).sum().backward()
    return value.detach().numpy(), p_torch.grad.numpy()


@pytest.mark.peer
@pytest.mark.parametrize("reduction", PEER_REDUCTIONS)
@pytest.mark.parametrize("case", KERAS_CASES, ids=[c.id for c in KERAS_CASES])
def test_values_and_gradients_match_keras(case, reduction):
    """Values match Keras's float32 to float32 rounding; gradients match the
    autograd gradient of Keras's float64 evaluation."""
    keras = _keras()
    name, params = KERAS_TWINS[case.id]
    C = 6
    t, p = draw(case, (16, C), np.float32, -1, "keras")
    sw = rng_for(case.id, "kw").uniform(0.2, 2.0, size=16).astype(np.float32)
    upstream = (np.linspace(0.5, 1.5, 16) if reduction == "none" else np.array(1.0)).astype(
        np.float32)
    ours = case.make(C, reduction)
    for weights in (None, sw):
        value, grad = ours.forward_backward(t, p, weights, grad_output=upstream)
        e32, _ = _keras_forward_backward(keras, name, params(C), reduction, t, p, weights,
                                         upstream, "float32")
        e64, g64 = _keras_forward_backward(keras, name, params(C), reduction, t, p, weights,
                                           upstream, "float64")
        scale = max(1.0, float(np.abs(e32).max()))
        np.testing.assert_allclose(value, e32, rtol=1e-5, atol=2e-6 * scale)
        gscale = float(np.abs(g64).max())
        np.testing.assert_allclose(grad, g64, rtol=1e-4, atol=1e-6 * gscale)
        v64, grad64 = ours.forward_backward(t.astype(np.float64) if case.kind == "dense" else t,
                                            p.astype(np.float64), weights, grad_output=upstream)
        np.testing.assert_allclose(v64, e64, rtol=3e-5, atol=1e-12)
        np.testing.assert_allclose(grad64, g64, rtol=3e-5, atol=1e-7 * gscale)


@pytest.mark.peer
@pytest.mark.parametrize("name,case_id", [("CategoricalCrossentropy", "cce-logits"),
                                          ("CategoricalCrossentropy", "cce"),
                                          ("SparseCategoricalCrossentropy", "scce-logits"),
                                          ("CosineSimilarity", "cosine"),
                                          ("CategoricalFocalCrossentropy", "focal")])
@pytest.mark.parametrize("axis", [0, 1])
def test_other_axes_match_keras(name, case_id, axis):
    keras = _keras()
    case = by_id(case_id)
    shape = (4, 5, 3)
    t, p = draw(case, shape, np.float32, axis, "kaxis")
    ours = case.make(shape[axis], "sum", axis=axis)
    v, g = forward_backward(case, ours, t, p)
    e64, g64 = _keras_forward_backward(keras, name, {**case.params(shape[axis]), "axis": axis},
                                       "sum", t, p, None, np.array(1.0), "float64")
    np.testing.assert_allclose(v, e64, rtol=2e-5)
    np.testing.assert_allclose(g, g64, rtol=1e-4, atol=1e-6 * np.abs(g64).max())


@pytest.mark.peer
@pytest.mark.parametrize("sw_shape", [(3,), (4, 1), (4, 3), (1,), ()])
@pytest.mark.parametrize("reduction", PEER_REDUCTIONS)
def test_sample_weight_shapes_match_keras(sw_shape, reduction):
    keras = _keras()
    rng = rng_for("kw", sw_shape, reduction)
    t = _soft(rng, (4, 3, 5), -1)
    z = rng.normal(size=(4, 3, 5))
    sw = rng.uniform(0.5, 2.0, size=sw_shape)
    ours = fl.CategoricalCrossentropy(from_logits=True, reduction=reduction)
    upstream = np.ones((4, 3)) if reduction == "none" else np.array(1.0)
    v, g = ours.forward_backward(t, z, sw, grad_output=upstream)
    e, ge = _keras_forward_backward(keras, "CategoricalCrossentropy", {"from_logits": True},
                                    reduction, t, z, sw, upstream, "float64")
    np.testing.assert_allclose(v, e, rtol=3e-6)
    np.testing.assert_allclose(g, ge, rtol=3e-5, atol=1e-9)


@pytest.mark.peer
@pytest.mark.parametrize("reduction", PEER_REDUCTIONS)
def test_ignore_class_matches_keras_with_weights(reduction):
    keras = _keras()
    rng = rng_for("kign", reduction)
    z = rng.normal(size=(3, 4, 5)).astype(np.float32)
    y = rng.integers(0, 5, size=(3, 4))
    y[rng.uniform(size=y.shape) < 0.3] = 255
    sw = rng.uniform(0.5, 2, size=(3, 4)).astype(np.float32)
    upstream = (np.ones((3, 4)) if reduction == "none" else np.array(1.0)).astype(np.float32)
    ours = fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255,
                                            reduction=reduction)
    for weights in (None, sw):
        v, g = ours.forward_backward(y, z, weights, grad_output=upstream)
        e, ge = _keras_forward_backward(keras, "SparseCategoricalCrossentropy",
                                        {"from_logits": True, "ignore_class": 255}, reduction,
                                        y, z, weights, upstream, "float64")
        np.testing.assert_allclose(v, e, rtol=3e-5, atol=1e-7)
        np.testing.assert_allclose(g, ge, rtol=3e-5, atol=1e-7)


KERAS_FUNCTIONS = {"cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy",
                   "focal": "categorical_focal_crossentropy", "kld": "kl_divergence",
                   "categorical_hinge": "categorical_hinge", "cosine": "cosine_similarity"}


@pytest.mark.peer
@pytest.mark.parametrize("case_id,fn_name", sorted(KERAS_FUNCTIONS.items()))
def test_keras_function_names_match(case_id, fn_name):
    keras = _keras()
    case = by_id(case_id)
    t, p = draw(case, (5, 4), np.float32, -1, "fn")
    theirs = getattr(keras.losses, fn_name)(keras.ops.convert_to_tensor(np.asarray(t)),
                                            keras.ops.convert_to_tensor(p))
    ours = getattr(fl, fn_name)(t, p)
    np.testing.assert_allclose(ours, theirs.detach().cpu().numpy(), rtol=2e-6, atol=1e-7)


@pytest.mark.peer
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [
    {}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.1},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.2},
], ids=lambda o: "-".join(o) or "plain")
@pytest.mark.parametrize("layout", ["NC", "NCd"])
def test_matches_torch_cross_entropy(options, reduction, layout):
    torch = _torch()
    rng = rng_for("torch", layout, reduction, repr(options))
    shape = (12, 5) if layout == "NC" else (4, 5, 6)
    z = rng.normal(size=shape)
    y = rng.integers(0, 5, size=(shape[0],) + shape[2:])
    cw = rng.uniform(0.3, 2.0, size=5) if options.get("weight") else None
    ignore = options.get("ignore_index")
    ls = options.get("label_smoothing", 0.0)
    zt = torch.tensor(z, requires_grad=True)
    kw: dict = {"reduction": reduction, "label_smoothing": ls}
    if cw is not None:
        kw["weight"] = torch.tensor(cw)
    if ignore is not None:
        kw["ignore_index"] = ignore
    want = torch.nn.functional.cross_entropy(zt, torch.tensor(y), **kw)
    upstream = rng.uniform(0.5, 1.5, size=y.shape) if reduction == "none" else np.array(1.0)
    (want * torch.tensor(upstream)).sum().backward()
    ours = fl.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=ignore, axis=1, class_weight=cw, label_smoothing=ls,
        reduction={"mean": "mean_with_sample_weight"}.get(reduction, reduction))
    v, g = ours.forward_backward(y, z, grad_output=upstream)
    np.testing.assert_allclose(v, want.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g, zt.grad.numpy(), rtol=1e-10, atol=1e-14)
    # float32 in, float32 out, against torch's float32
    zt32 = torch.tensor(z.astype(np.float32))
    kw32 = {**kw, **({"weight": torch.tensor(cw.astype(np.float32))} if cw is not None else {})}
    want32 = torch.nn.functional.cross_entropy(zt32, torch.tensor(y), **kw32).numpy()
    v32 = ours(y, z.astype(np.float32))
    assert np.asarray(v32).dtype == np.float32
    np.testing.assert_allclose(v32, want32, rtol=2e-6, atol=2e-7)

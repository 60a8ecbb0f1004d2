"""The ranking losses over query groups (PairwiseLogistic, SoftmaxListwise,
LambdaRankNDCG, LambdaRankMAP, XENDCG, QueryRMSE): against float64 NumPy
references written from the formulas,
central differences of the references for the gradients and of the gradients
for the Hessians (LambdaRank's |delta NDCG| weights held at the current
ranking: the surrogate), per-query permutation invariance, Keras's weights and
reductions over the per-query losses, the peers (optax's
ranking_softmax_loss, PyTorch's logistic loss on pair differences, CatBoost's
QueryRMSE metric), real XGBoost and LightGBM trainings against rank:ndcg,
rank:map, lambdarank and rank_xendcg, threads bitwise, float32, and bad
input."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest

import fastloss as fl

from support import keras_reduce

RNG = np.random.default_rng(20261202)
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


# -- references (float64, plain loops over each query's pairs / items) ---------

def offsets(sizes):
    return np.concatenate(([0], np.cumsum(sizes))).astype(int)


def places(s):
    """0-based place of each item when sorted by decreasing score (ties by
    input position)."""
    order = sorted(range(len(s)), key=lambda i: (-s[i], i))
    r = np.empty(len(s), int)
    r[order] = np.arange(len(s))
    return r


def ndcg_weights(rel, rank_by, k):
    """|delta NDCG@k| of every pair (i, j) of one query, from the ranking by
    `rank_by`; 0 for pairs with neither item in the first k places."""
    n = len(rel)
    k = n if k is None else min(k, n)
    gain = 2.0 ** rel - 1.0
    ideal = np.sort(gain)[::-1][:k]
    idcg = np.sum(ideal / np.log2(2.0 + np.arange(k)))
    w = np.zeros((n, n))
    if idcg <= 0:
        return w
    r = places(rank_by)
    disc = 1.0 / np.log2(2.0 + r)
    for i in range(n):
        for j in range(n):
            if min(r[i], r[j]) < k:
                w[i, j] = abs(gain[i] - gain[j]) * abs(disc[i] - disc[j]) / idcg
    return w


def average_precision(ranked):
    """AP of binary relevances listed in ranked order (0 without a relevant one)."""
    ranked = np.asarray(ranked, np.float64)
    hits = np.cumsum(ranked)
    found = hits[-1] if ranked.size else 0.0
    return float(np.sum(ranked * hits / np.arange(1, ranked.size + 1)) / found) if found else 0.0


def map_weights(rel, rank_by, k):
    """|delta AP| of every pair (i, j): swap their places in the ranking by
    `rank_by` and recompute AP; 0 for pairs with neither item in the first k."""
    n = len(rel)
    k = n if k is None else min(k, n)
    r = places(rank_by)
    ranked = np.empty(n)
    ranked[r] = rel
    ap = average_precision(ranked)
    w = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if min(r[i], r[j]) < k:
                swapped = ranked.copy()
                swapped[[r[i], r[j]]] = swapped[[r[j], r[i]]]
                w[i, j] = abs(average_precision(swapped) - ap)
    return w


def query_crossentropy_reference(t, a, alpha):
    """CatBoost's QueryCrossEntropy of one query, its shift by bisection."""
    def logloss(z):
        return float(np.sum(np.logaddexp(0.0, z) - t * z))
    v = (1 - alpha) * logloss(a)
    if t.sum() <= 0 or t.sum() >= t.size:
        return v
    lo, hi = -60.0, 60.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.sum(1.0 / (1.0 + np.exp(-(a + mid)))) > t.sum():
            hi = mid
        else:
            lo = mid
    return v + alpha * logloss(a + 0.5 * (lo + hi))


def per_query_reference(kind, rel, s, sizes, *, k=None, normalize=True, rank_by=None,
                        gamma=0.5, xgboost_normalization=False):
    """Each query's loss by the definition. kind: "pairwise", "softmax",
    "lambda" / "map" (with the weights of the ranking by `rank_by`, default
    s), "xendcg" (targets 2**rel - gamma), "qrmse" (rel is the target)."""
    rel = np.asarray(rel, np.float64).reshape(-1)
    s = np.asarray(s, np.float64).reshape(-1)
    rank_by = s if rank_by is None else np.asarray(rank_by, np.float64).reshape(-1)
    out = []
    off = offsets(sizes)
    for q in range(len(sizes)):
        r, x = rel[off[q]:off[q + 1]], s[off[q]:off[q + 1]]
        if kind == "qrmse":
            c = (x - r) - np.mean(x - r)
            out.append(0.5 * float(np.sum(c * c)))
            continue
        if kind == "qce":
            out.append(query_crossentropy_reference(r, x, 0.95))
            continue
        if kind == "xendcg":
            r = 2.0 ** r - gamma
        if kind in ("softmax", "xendcg"):
            if normalize and r.sum() == 0:
                out.append(0.0)
                continue
            t = r / r.sum() if normalize else r
            log_p = x - np.log(np.sum(np.exp(x)))
            out.append(float(-np.sum(np.where(t != 0, t * log_p, 0.0))))
            continue
        if kind == "lambda":
            w = ndcg_weights(r, rank_by[off[q]:off[q + 1]], k)
        elif kind == "map":
            w = map_weights(r, rank_by[off[q]:off[q + 1]], k)
        else:
            w = np.ones((len(r), len(r)))
        factor = 1.0
        if xgboost_normalization:  # XGBoost's, at the ranking scores (held fixed)
            b = rank_by[off[q]:off[q + 1]]
            if b.max() != b.min():
                w = w / (np.abs(b[:, None] - b[None, :]) + 0.01)
            lambdas = 2.0 * sum(w[i, j] / (1.0 + np.exp(b[i] - b[j]))
                                for i in range(len(r)) for j in range(len(r)) if r[i] > r[j])
            factor = np.log2(1.0 + lambdas) / lambdas if lambdas > 0 else 1.0
        v = 0.0
        for i in range(len(r)):
            for j in range(len(r)):
                if r[i] > r[j]:
                    v += w[i, j] * np.log1p(np.exp(-(x[i] - x[j])))
        out.append(factor * v)
    return np.array(out)


def central_gradient(f, s, step=1e-6):
    s = np.asarray(s, np.float64)
    g = np.empty_like(s)
    for i in range(s.size):
        sp, sm = s.copy(), s.copy()
        sp.flat[i] += step
        sm.flat[i] -= step
        g.flat[i] = (f(sp) - f(sm)) / (2 * step)
    return g


def batch(sizes, seed=0, kind=None, levels=4):
    """Relevance 0..levels-1 (with ties; 0/1 for "map", real targets for
    "qrmse") and distinct scores."""
    rng = np.random.default_rng(seed)
    n = int(np.sum(sizes))
    rel = rng.integers(0, 2 if kind == "map" else levels, size=n).astype(np.float64)
    if kind == "qrmse":
        rel = rng.normal(size=n) * 2.0
    if kind == "qce":  # click-like 0/1 targets, a few fractional
        rel = np.where(rng.random(n) < 0.2, rng.random(n), rng.integers(0, 2, size=n))
    s = rng.normal(size=n) + 1e-6 * np.arange(n)
    return rel, s


SIZES = [3, 1, 6, 4, 9, 2, 5]


def make(kind, **params):
    cls = {"pairwise": fl.PairwiseLogistic, "softmax": fl.SoftmaxListwise,
           "lambda": fl.LambdaRankNDCG, "map": fl.LambdaRankMAP, "xendcg": fl.XENDCG,
           "qrmse": fl.QueryRMSE, "qce": fl.QueryCrossentropy}[kind]
    return cls(**params)


def ref_params(kind, params):
    k = params.get("ndcg_at") if kind == "lambda" else params.get("top_k", 32)
    return {"k": k, "normalize": params.get("normalize_labels", True),
            "gamma": params.get("gamma", 0.5),
            "xgboost_normalization": params.get("xgboost_normalization", False)}


# XENDCG with its gammas fixed (gamma=) is deterministic: the formula's test;
# its random draws are tested on their own below
CASES = [("pairwise", {}), ("softmax", {}), ("softmax", {"normalize_labels": False}),
         ("lambda", {}), ("lambda", {"ndcg_at": 3}), ("map", {}), ("map", {"top_k": 3}),
         ("map", {"top_k": None}), ("map", {"xgboost_normalization": True}),
         ("lambda", {"ndcg_at": 4, "xgboost_normalization": True}), ("xendcg", {"gamma": 0.5}),
         ("xendcg", {"gamma": 0.0}), ("qrmse", {}), ("qce", {})]
CASE_IDS = [f"{k}-{p}" for k, p in CASES]


# -- values, gradients, Hessians --------------------------------------------------

@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_match_the_reference(kind, params, reduction):
    rel, s = batch(SIZES, 1, kind)
    w = RNG.uniform(0.2, 2.0, size=len(SIZES))
    loss = make(kind, reduction=reduction, **params)
    per_query = per_query_reference(kind, rel, s, SIZES, **ref_params(kind, params))
    for weight in (None, w):
        got = loss(rel, s, sample_weight=weight, group=SIZES)
        np.testing.assert_allclose(got, keras_reduce(per_query, weight, reduction),
                                   rtol=1e-12, atol=1e-14)
    assert per_query.min() >= 0 and per_query.max() > 0  # the batch has real pairs


@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_gradient_is_central_differences_of_the_reference(kind, params, reduction):
    rel, s = batch(SIZES, 2, kind)
    w = RNG.uniform(0.2, 2.0, size=len(SIZES))
    go = RNG.uniform(0.5, 1.5, size=len(SIZES)) if reduction == "none" else 1.7
    loss = make(kind, reduction=reduction, **params)

    def f(x):  # the weights of LambdaRank stay those of the ranking by s
        v = keras_reduce(per_query_reference(kind, rel, x, SIZES, rank_by=s,
                                             **ref_params(kind, params)), w, reduction)
        return float(np.sum(v * go))

    expected = central_gradient(f, s)
    got = loss.backward(rel, s, sample_weight=w, grad_output=go, group=SIZES)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
    value, fused = loss.forward_backward(rel, s, sample_weight=w, grad_output=go, group=SIZES)
    np.testing.assert_array_equal(fused, got)
    np.testing.assert_array_equal(value, loss(rel, s, sample_weight=w, group=SIZES))


@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
def test_hessian_is_central_differences_of_the_gradient(kind, params):
    rel, s = batch(SIZES, 3, kind)
    w = RNG.uniform(0.2, 2.0, size=len(SIZES))
    loss = make(kind, **params)
    g, h = loss.gradient_hessian(rel, s, sample_weight=w, group=SIZES)
    # the gradient of the unreduced weighted sum of the per-query losses
    # (QueryRMSE is quadratic: central differences are exact at any step, and a
    # larger one keeps their rounding small)
    expected_g = central_gradient(
        lambda x: float(np.sum(w * per_query_reference(kind, rel, x, SIZES, rank_by=s,
                                                      **ref_params(kind, params)))), s,
        step=1e-3 if kind == "qrmse" else 1e-6)
    np.testing.assert_allclose(g, expected_g, rtol=1e-6, atol=1e-8)
    step = 1e-6
    for i in range(s.size):  # a step this small keeps the ranking (scores are apart)
        sp, sm = s.copy(), s.copy()
        sp[i] += step
        sm[i] -= step
        gp, _ = loss.gradient_hessian(rel, sp, sample_weight=w, group=SIZES)
        gm, _ = loss.gradient_hessian(rel, sm, sample_weight=w, group=SIZES)
        exact = (gp[i] - gm[i]) / (2 * step)
        if params.get("xgboost_normalization"):
            # XGBoost's factors move with the scores: the Hessian is the
            # surrogate's with them held at s, second differences of the reference
            def f(x):
                return float(np.sum(w * per_query_reference(kind, rel, x, SIZES, rank_by=s,
                                                            **ref_params(kind, params))))
            e = np.zeros_like(s)
            e[i] = 1e-4
            exact = (f(s + e) - 2 * f(s) + f(s - e)) / 1e-8
            np.testing.assert_allclose(h[i], exact, rtol=1e-5, atol=1e-6)
            continue
        if kind == "qrmse":  # CatBoost's Hessian 1 (times the weight); exactly 1 - 1/size
            q = int(np.searchsorted(offsets(SIZES), i, side="right")) - 1
            np.testing.assert_allclose(exact, w[q] * (1.0 - 1.0 / SIZES[q]), rtol=1e-5)
            assert h[i] == np.float64(w[q])
            continue
        np.testing.assert_allclose(h[i], exact, rtol=1e-5, atol=1e-8)
    assert np.all(h >= 0) and np.any(h > 0)
    # the weights multiply each query's derivatives
    g1, h1 = loss.gradient_hessian(rel, s, group=SIZES)
    rows = np.repeat(w, SIZES)
    np.testing.assert_allclose(g, g1 * rows, rtol=1e-15)
    np.testing.assert_allclose(h, h1 * rows, rtol=1e-15)


def test_lambdarank_lambdas_by_hand():
    # two items, relevances 1 and 0, the relevant one ranked second: NDCG
    # weight |1 - 0| * (1 - 1/log2(3)) / 1, lambda = -w * sigmoid(-(s0 - s1))
    rel, s = np.array([1.0, 0.0]), np.array([-0.5, 0.5])
    g, h = fl.LambdaRankNDCG().gradient_hessian(rel, s)
    w = 1.0 - 1.0 / np.log2(3.0)
    p = 1.0 / (1.0 + np.exp(-1.0))  # sigmoid(s1 - s0)
    np.testing.assert_allclose(g, [-w * p, w * p], rtol=1e-15)
    np.testing.assert_allclose(h, [w * p * (1 - p)] * 2, rtol=1e-15)
    # truncation at 1 keeps the pair (the irrelevant item is in place 0) but
    # IDCG@1 is still 1; a pair entirely below k is dropped
    rel3, s3 = np.array([0.0, 1.0, 0.0]), np.array([2.0, 1.0, 0.0])
    g1, _ = fl.LambdaRankNDCG(ndcg_at=1).gradient_hessian(rel3, s3)
    assert g1[2] == 0.0 and g1[1] < 0 and g1[0] > 0


@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
def test_permuting_items_within_queries(kind, params):
    rel, s = batch(SIZES, 4, kind)
    loss = make(kind, reduction="none", **params)
    off = offsets(SIZES)
    perm = np.concatenate([off[q] + RNG.permutation(n) for q, n in enumerate(SIZES)])
    v, g = loss.forward_backward(rel, s, group=SIZES)
    vp, gp = loss.forward_backward(rel[perm], s[perm], group=SIZES)
    np.testing.assert_allclose(vp, v, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gp, g[perm], rtol=1e-12, atol=1e-15)
    # permuting whole queries permutes their losses
    order = RNG.permutation(len(SIZES))
    items = np.concatenate([np.arange(off[q], off[q + 1]) for q in order])
    vq = loss(rel[items], s[items], group=np.array(SIZES)[order])
    np.testing.assert_array_equal(vq, v[order])


@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
def test_two_dimensional_batches_are_one_query_per_row(kind, params):
    rel, s = batch([6] * 5, 5, kind)
    loss = make(kind, reduction="none", **params)
    v2, g2 = loss.forward_backward(rel.reshape(5, 6), s.reshape(5, 6))
    v1, g1 = loss.forward_backward(rel, s, group=[6] * 5)
    np.testing.assert_array_equal(v2, v1)
    assert g2.shape == (5, 6)
    np.testing.assert_array_equal(g2.reshape(-1), g1)
    # a 1-D batch without group is one query; (n, 1) with group is (n,)
    one = loss(rel[:6], s[:6])
    np.testing.assert_array_equal(one, v1[:1])
    g_col = loss.backward(rel[:, None], s[:, None], group=[6] * 5)
    assert g_col.shape == (30, 1)
    np.testing.assert_array_equal(g_col[:, 0], g1)


def test_degenerate_queries():
    # one item, all-equal relevance, all-zero relevance: loss 0, gradient 0
    rel = np.array([2.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    s = np.array([0.3, 1.0, -1.0, 2.0, 0.5, -0.5])
    for loss in (fl.PairwiseLogistic(reduction="none"), fl.LambdaRankNDCG(reduction="none"),
                 fl.SoftmaxListwise(reduction="none")):
        v, g = loss.forward_backward(rel, s, group=[1, 3, 2])
        if isinstance(loss, fl.SoftmaxListwise):  # the 1-item and tied queries: loss 0,
            np.testing.assert_allclose(v, [0.0, v[1], 0.0], atol=1e-15)  # grad p - 1/3
            np.testing.assert_allclose(g[[0, 4, 5]], 0.0, atol=1e-15)
        else:
            np.testing.assert_array_equal(v, [0.0, 0.0, 0.0])
            np.testing.assert_array_equal(g, np.zeros(6))
    # an empty batch: 0 for reduced losses, empty gradients
    for loss in (fl.PairwiseLogistic(), fl.SoftmaxListwise(), fl.LambdaRankNDCG()):
        v, g = loss.forward_backward(np.zeros(0), np.zeros(0), group=[])
        assert v == 0.0 and g.shape == (0,)


def test_nan_stays_in_its_query():
    for kind, params in CASES:
        rel, s = batch(SIZES, 6, kind)
        s[offsets(SIZES)[2]] = np.nan
        v, g = make(kind, reduction="none", **params).forward_backward(rel, s, group=SIZES)
        off = offsets(SIZES)
        assert np.isnan(v[2]) and np.all(np.isnan(g[off[2]:off[3]]))
        assert np.all(np.isfinite(np.delete(v, 2)))
        assert np.all(np.isfinite(np.delete(g, np.arange(off[2], off[3]))))


# -- peers ------------------------------------------------------------------------

@pytest.mark.parametrize("normalize", [False, True])
def test_softmax_against_optax(normalize):
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rel, s = batch([7] * 6, 7)
    rel, s = rel.reshape(6, 7), s.reshape(6, 7)
    labels = rel / rel.sum(axis=1, keepdims=True) if normalize else rel

    def peer(x):
        return optax.losses.ranking_softmax_loss(x, labels)  # reduce_fn=jnp.mean

    loss = fl.SoftmaxListwise(normalize_labels=normalize)
    value, grad = loss.forward_backward(rel, s)
    np.testing.assert_allclose(value, float(peer(s)), rtol=1e-12)
    np.testing.assert_allclose(grad, np.asarray(jax.grad(peer)(s)), rtol=1e-10, atol=1e-14)
    per_row = np.asarray(optax.losses.ranking_softmax_loss(s, labels, reduce_fn=None))
    np.testing.assert_allclose(fl.SoftmaxListwise(normalize_labels=normalize,
                                                  reduction="none")(rel, s), per_row, rtol=1e-12)


def test_pairwise_is_pytorch_logistic_loss_on_pair_differences():
    torch = pytest.importorskip("torch")
    rel, s = batch(SIZES, 8)
    st = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    off = offsets(SIZES)
    total = 0
    for q in range(len(SIZES)):
        idx = np.arange(off[q], off[q + 1])
        hi, lo = np.nonzero(rel[idx][:, None] > rel[idx][None, :])
        if hi.size == 0:
            continue
        d = st[idx[hi]] - st[idx[lo]]
        # log(1 + exp(-d)) is binary cross-entropy on the logit d with target 1
        total = total + torch.nn.functional.binary_cross_entropy_with_logits(
            d, torch.ones_like(d), reduction="sum")
    (total / len(SIZES)).backward()
    total = total.detach()
    value, grad = fl.PairwiseLogistic().forward_backward(rel, s, group=SIZES)
    np.testing.assert_allclose(value, total.item() / len(SIZES), rtol=1e-12)
    np.testing.assert_allclose(grad, st.grad.numpy(), rtol=1e-10, atol=1e-15)


# -- threads, dtypes, inputs -------------------------------------------------------

@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
def test_threads_bitwise(kind, params):
    rng = np.random.default_rng(9)
    sizes = rng.integers(1, 60, size=3000)
    rel, s = batch(sizes, 9, kind)
    loss = make(kind, reduction="none", **params)
    with fl.num_threads(1):
        v1, g1 = loss.forward_backward(rel, s, group=sizes)
        gh1 = loss.gradient_hessian(rel, s, group=sizes)
    with fl.num_threads(2):
        v2, g2 = loss.forward_backward(rel, s, group=sizes)
        gh2 = loss.gradient_hessian(rel, s, group=sizes)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(gh1[0], gh2[0])
    np.testing.assert_array_equal(gh1[1], gh2[1])


@pytest.mark.parametrize("kind,params", CASES, ids=CASE_IDS)
def test_float32_is_computed_in_float32_with_float64_sums(kind, params):
    rel, s = batch(SIZES, 10, kind)
    loss = make(kind, **params)
    v64, g64 = loss.forward_backward(rel, s, group=SIZES)
    v32, g32 = loss.forward_backward(rel.astype(np.float32), s.astype(np.float32),
                                     group=SIZES)
    assert np.asarray(v32).dtype == np.float32 and g32.dtype == np.float32
    gh = loss.gradient_hessian(rel.astype(np.float32), s.astype(np.float32), group=SIZES)
    assert gh[0].dtype == np.float32 and gh[1].dtype == np.float32
    # float32 inputs are rounded: compare against the float64 result at those inputs
    s32 = s.astype(np.float32).astype(np.float64)
    v_ref, g_ref = loss.forward_backward(rel.astype(np.float32).astype(np.float64), s32,
                                         group=SIZES)
    np.testing.assert_allclose(v32, v_ref, rtol=1e-6)
    np.testing.assert_allclose(g32, g_ref, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(v64, v_ref, rtol=1e-5)


def test_inputs_are_not_modified_and_out_receives_the_gradient():
    rel, s = batch(SIZES, 11)
    w = np.linspace(0.5, 1.5, len(SIZES))
    copies = (rel.copy(), s.copy(), w.copy())
    loss = fl.LambdaRankNDCG(ndcg_at=4)
    expected = loss.backward(rel, s, w, group=SIZES)
    out = np.empty_like(s)
    got = loss.backward(rel, s, w, out=out, group=SIZES)
    assert got is out
    np.testing.assert_array_equal(out, expected)
    for a, b in zip((rel, s, w), copies):
        np.testing.assert_array_equal(a, b)
    # in place into the scores
    s2 = s.copy()
    loss.backward(rel, s2, w, out=s2, group=SIZES)
    np.testing.assert_array_equal(s2, expected)
    # integer relevance and list inputs are converted
    v = fl.PairwiseLogistic()(rel.astype(int).tolist(), s.tolist(), group=tuple(SIZES))
    np.testing.assert_allclose(v, fl.PairwiseLogistic()(rel, s, group=SIZES), rtol=1e-15)


def test_registry_names_pickle_and_config():
    for name, cls in (("pairwise_logistic", fl.PairwiseLogistic),
                      ("softmax_listwise", fl.SoftmaxListwise),
                      ("lambdarank_ndcg", fl.LambdaRankNDCG)):
        assert type(fl.get(name)) is cls and type(fl.get(cls.__name__)) is cls
        assert name in fl.names()
    loss = fl.LambdaRankNDCG(ndcg_at=5, reduction="sum")
    twin = pickle.loads(pickle.dumps(loss))
    assert twin.get_config() == loss.get_config() and repr(twin) == repr(loss)
    assert repr(loss) == "LambdaRankNDCG(ndcg_at=5, reduction='sum')"
    assert fl.SoftmaxListwise(normalize_labels=False).get_config()["normalize_labels"] is False
    assert loss.has_hessian


# -- bad input --------------------------------------------------------------------

@pytest.mark.parametrize("group,exc,match", [
    ([3, 2], ValueError, "group sizes sum to 5 but there are 6 items"),
    ([3, 0, 3], ValueError, r"group sizes must be >= 1, got 0 at index 1 \(an empty query\)"),
    ([7, -1], ValueError, r"got -1 at index 1 \(a negative size\)"),
    ([3.0, 2.5, 0.5], ValueError, "group sizes must be integers, got 2.5 at index 1"),
    ([True, True], TypeError, "as integers, got dtype bool"),
    ("33", TypeError, "sizes of the queries"),
    ([[3, 3]], ValueError, r"group must be 1-D \(one size per query\)"),
    ([1, [2, 3]], TypeError, "group must be a 1-D array of query sizes"),
])
def test_bad_groups(group, exc, match):
    rel, s = batch([6], 12)
    for loss in (fl.PairwiseLogistic(), fl.SoftmaxListwise(), fl.LambdaRankNDCG()):
        with pytest.raises(exc, match=match):
            loss(rel, s, group=group)
        with pytest.raises(exc, match=match):
            loss.gradient_hessian(rel, s, group=group)
    # whole floats are accepted as sizes
    fl.PairwiseLogistic()(rel, s, group=np.array([2.0, 4.0]))


def test_bad_inputs():
    rel, s = batch(SIZES, 13)
    loss = fl.LambdaRankNDCG()
    bad = rel.copy()
    bad[4] = -1.0
    with pytest.raises(ValueError, match=r"relevance must be >= 0 .*got -1.0 at index 4"):
        loss(bad, s, group=SIZES)
    with pytest.raises(ValueError, match=r"relevance has shape \(29,\) but scores has "
                                         r"shape \(30,\)"):
        loss(rel[:-1], s, group=SIZES)
    with pytest.raises(ValueError, match="without group=, scores must be 1-D"):
        loss(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"with group=, scores must be \(n,\) or \(n, 1\)"):
        loss(rel.reshape(5, 6), s.reshape(5, 6), group=[6] * 5)
    with pytest.raises(ValueError, match=r"one weight per query \(7 queries\)"):
        loss(rel, s, sample_weight=np.ones(30), group=SIZES)
    with pytest.raises(ValueError, match=r"one weight per query"):
        loss.gradient_hessian(rel, s, sample_weight=np.ones(3), group=SIZES)
    with pytest.raises(TypeError):
        loss(["a"] * 30, s, group=SIZES)
    with pytest.raises(ValueError, match="ndcg_at must be >= 1"):
        fl.LambdaRankNDCG(ndcg_at=0)
    with pytest.raises(TypeError, match="ndcg_at must be an integer"):
        fl.LambdaRankNDCG(ndcg_at=2.5)
    with pytest.raises(TypeError, match="normalize_labels must be a bool"):
        fl.SoftmaxListwise(normalize_labels="yes")
    with pytest.raises(ValueError, match="read-only"):
        out = np.empty_like(s)
        out.flags.writeable = False
        loss.backward(rel, s, out=out, group=SIZES)


def test_dask_inputs_are_refused_with_the_reason():
    da = pytest.importorskip("dask.array")
    rel, s = batch(SIZES, 14)
    with pytest.raises(NotImplementedError, match="LambdaRankNDCG does not take dask arrays: "
                                                  "its queries couple their items"):
        fl.LambdaRankNDCG()(da.from_array(rel), da.from_array(s), group=SIZES)
    with pytest.raises(NotImplementedError, match="does not take dask arrays"):
        fl.PairwiseLogistic().gradient_hessian(rel, da.from_array(s), group=SIZES)


# -- boosting ---------------------------------------------------------------------

def _newton_steps(leaf, g, h):
    """Per leaf of one tree: -sum(g) / sum(h) over its rows, the Newton step
    a boosting library's leaf takes (no regularisation)."""
    return {int(v): -g[leaf == v].sum() / h[leaf == v].sum() for v in np.unique(leaf)}


def _tree_data():
    rng = np.random.default_rng(3)
    sizes = np.array([7, 12, 5, 9, 10])
    X = rng.normal(size=(sizes.sum(), 3))
    rel = rng.integers(0, 4, size=sizes.sum()).astype(np.float64)
    return X, rel, sizes, rng.normal(size=sizes.sum())


@pytest.mark.parametrize("k", [None, 5])
def test_lambdarank_leaves_are_lightgbm_lambdarank_leaves(k):
    # one tree from distinct initial scores: LightGBM's leaf values are the
    # Newton steps of its lambdas and Hessians; without lambdarank_norm they
    # are fastloss's (to LightGBM's tabulated sigmoid and float32 gradients)
    lgb = pytest.importorskip("lightgbm")
    X, rel, sizes, init = _tree_data()
    params = {"objective": "lambdarank", "lambdarank_norm": False, "learning_rate": 1.0,
              "num_leaves": 8, "min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 0.0,
              "lambda_l2": 0.0, "verbose": -1, "num_threads": 1,
              "lambdarank_truncation_level": k or 1000}
    tree = lgb.train(params, lgb.Dataset(X, rel, group=sizes, init_score=init), 1)
    leaf = tree.predict(X, pred_leaf=True).reshape(-1)
    value = tree.predict(X, raw_score=True)
    g, h = fl.LambdaRankNDCG(ndcg_at=k).gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 6
    for v, step in steps.items():
        np.testing.assert_allclose(value[leaf == v], step, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss,objective,k", [(fl.LambdaRankNDCG(), "rank:ndcg", 1000),
                                              (fl.LambdaRankNDCG(ndcg_at=5), "rank:ndcg", 5),
                                              (fl.PairwiseLogistic(), "rank:pairwise", 1000)])
def test_leaves_are_xgboost_rank_leaves_with_its_doubled_hessian(loss, objective, k):
    # XGBoost's rank objectives (top-k pairs, no normalisation) take the same
    # lambdas with twice the Hessian: its leaves are half fastloss's Newton steps
    # (float32 gradient sums: a leaf near 0 is compared to 1e-6 absolute)
    xgb = pytest.importorskip("xgboost")
    X, rel, sizes, init = _tree_data()
    d = xgb.DMatrix(X, rel, group=sizes, base_margin=init)
    params = {"objective": objective, "lambdarank_pair_method": "topk",
              "lambdarank_num_pair_per_sample": k, "lambdarank_normalization": False,
              "lambdarank_score_normalization": False, "eta": 1.0, "max_depth": 3,
              "min_child_weight": 0, "reg_lambda": 0, "nthread": 1}
    tree = xgb.train(params, d, num_boost_round=1)
    leaf = tree.predict(d, pred_leaf=True).reshape(-1)
    value = tree.predict(d, output_margin=True) - init
    g, h = loss.gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 6
    for v, step in steps.items():
        np.testing.assert_allclose(value[leaf == v], 0.5 * step, rtol=1e-5, atol=1e-6)


def ranking_data(queries=120, per_query=16, seed=0):
    rng = np.random.default_rng(seed)
    n = queries * per_query
    X = rng.normal(size=(n, 5))
    f = X[:, 0] + 0.6 * X[:, 1] - 0.4 * X[:, 2] * X[:, 3]
    rel = np.digitize(f + 0.6 * rng.normal(size=n), [-0.5, 0.5, 1.2, 2.0]).astype(np.float64)
    return X, rel, np.full(queries, per_query)


def mean_ndcg(rel, scores, sizes, k=10):
    off = offsets(sizes)
    out = []
    for q in range(len(sizes)):
        r, x = rel[off[q]:off[q + 1]], scores[off[q]:off[q + 1]]
        gain = 2.0 ** r - 1.0
        kk = min(k, r.size)
        disc = 1.0 / np.log2(2.0 + np.arange(kk))
        idcg = np.sum(np.sort(gain)[::-1][:kk] * disc)
        if idcg > 0:
            out.append(np.sum(gain[np.argsort(-x, kind="stable")][:kk] * disc) / idcg)
    return float(np.mean(out))


def test_xgboost_lambdarank_objective_trains_like_rank_ndcg():
    xgb = pytest.importorskip("xgboost")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    dtrain = xgb.DMatrix(X, label=rel, group=sizes)
    dtest = xgb.DMatrix(Xt, label=relt, group=sizest)
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}
    obj = fl.xgboost.objective(fl.LambdaRankNDCG())
    ours = xgb.train(params, dtrain, num_boost_round=30, obj=obj)
    theirs = xgb.train({**params, "objective": "rank:ndcg"}, dtrain, num_boost_round=30)
    start = mean_ndcg(relt, np.zeros(relt.size) + 1e-9 * RNG.normal(size=relt.size), sizest)
    ndcg_ours = mean_ndcg(relt, ours.predict(dtest, output_margin=True), sizest)
    ndcg_theirs = mean_ndcg(relt, theirs.predict(dtest, output_margin=True), sizest)
    assert ndcg_ours > start + 0.15
    assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)
    print(f"XGBoost NDCG@10 on held-out queries: start {start:.4f}, fastloss "
          f"{ndcg_ours:.4f}, rank:ndcg {ndcg_theirs:.4f}")
    # the objective returns the loss's gradient and Hessian, per query weights included
    w = np.linspace(0.5, 2.0, sizes.size)
    dtrain.set_weight(w)
    margin = RNG.normal(size=rel.size)
    g, h = obj(margin, dtrain)
    w = dtrain.get_weight()  # XGBoost keeps float32 weights
    eg, eh = fl.LambdaRankNDCG().gradient_hessian(rel, margin, sample_weight=w, group=sizes)
    np.testing.assert_array_equal(g, eg)
    np.testing.assert_array_equal(h, eh)
    # the metric: the mean per-query loss, weighted per query
    name, value = fl.xgboost.metric(fl.PairwiseLogistic())(margin, dtrain)
    per_query = fl.PairwiseLogistic(reduction="none")(rel, margin, group=sizes)
    assert name == "pairwise_logistic"
    np.testing.assert_allclose(value, np.average(per_query, weights=w), rtol=1e-12)
    # pickles (xgboost.dask), and says what is missing without groups
    assert pickle.loads(pickle.dumps(obj)).loss.get_config() == obj.loss.get_config()
    with pytest.raises(ValueError, match="LambdaRankNDCG is a ranking loss: it needs the query"):
        obj(margin, xgb.DMatrix(X, label=rel))


@pytest.mark.parametrize("loss,builtin", [(fl.PairwiseLogistic(), "rank:pairwise"),
                                          (fl.SoftmaxListwise(), None)])
def test_xgboost_pairwise_and_listwise_objectives_train(loss, builtin):
    xgb = pytest.importorskip("xgboost")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    dtrain = xgb.DMatrix(X, label=rel, group=sizes)
    dtest = xgb.DMatrix(Xt, label=relt, group=sizest)
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}
    ours = xgb.train(params, dtrain, num_boost_round=30, obj=fl.xgboost.objective(loss))
    ndcg_ours = mean_ndcg(relt, ours.predict(dtest, output_margin=True), sizest)
    assert ndcg_ours > 0.85  # from about 0.48 for random scores
    if builtin is not None:
        theirs = xgb.train({**params, "objective": builtin}, dtrain, num_boost_round=30)
        ndcg_theirs = mean_ndcg(relt, theirs.predict(dtest, output_margin=True), sizest)
        assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)


def test_lightgbm_lambdarank_objective_trains_like_lambdarank():
    lgb = pytest.importorskip("lightgbm")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    params = {"num_leaves": 8, "learning_rate": 0.2, "num_threads": 1, "verbose": -1,
              "min_data_in_leaf": 10, "seed": 0}
    loss = fl.LambdaRankNDCG(ndcg_at=10)
    ours = lgb.train({**params, "objective": fl.lightgbm.objective(loss)},
                     lgb.Dataset(X, rel, group=sizes), num_boost_round=40)
    theirs = lgb.train({**params, "objective": "lambdarank", "lambdarank_truncation_level": 10},
                       lgb.Dataset(X, rel, group=sizes), num_boost_round=40)
    ndcg_ours = mean_ndcg(relt, ours.predict(Xt, raw_score=True), sizest)
    ndcg_theirs = mean_ndcg(relt, theirs.predict(Xt, raw_score=True), sizest)
    assert ndcg_ours > 0.6
    assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)
    print(f"LightGBM NDCG@10 on held-out queries: fastloss {ndcg_ours:.4f}, lambdarank "
          f"{ndcg_theirs:.4f}")
    # LGBMRanker passes the group to a four-parameter objective
    ranker = lgb.LGBMRanker(objective=fl.lightgbm.sklearn_objective(loss), n_estimators=40,
                            **{k: v for k, v in params.items() if k != "seed"}, random_state=0)
    ranker.fit(X, rel, group=sizes)
    np.testing.assert_allclose(ranker.predict(Xt, raw_score=True),
                               ours.predict(Xt, raw_score=True), rtol=1e-10, atol=1e-12)
    # row weights must be constant within each query; they become query weights
    data = lgb.Dataset(X, rel, group=sizes, weight=np.repeat(np.arange(1.0, 121.0), 16),
                       free_raw_data=False).construct()
    margin = RNG.normal(size=rel.size)
    g, _ = fl.lightgbm.objective(loss)(margin, data)
    eg, _ = loss.gradient_hessian(rel, margin, sample_weight=np.arange(1.0, 121.0), group=sizes)
    np.testing.assert_array_equal(g, eg)
    w = np.ones(rel.size)
    w[5] = 2.0
    with pytest.raises(ValueError, match="row weights of a query must be equal"):
        fl.lightgbm.sklearn_objective(loss)(rel, margin, w, sizes)


def test_catboost_refuses_ranking_losses():
    pytest.importorskip("catboost")
    with pytest.raises(ValueError, match="LambdaRankNDCG is a ranking loss over query groups"):
        fl.catboost.objective(fl.LambdaRankNDCG())


# -- LambdaRankMAP, XENDCG, QueryRMSE ---------------------------------------------

def test_lambdarank_map_weights_by_hand():
    # ranked relevances 1, 0, 1 (AP = (1 + 2/3) / 2): swapping places 0 and 1
    # gives 0, 1, 1 (AP = (1/2 + 2/3) / 2), w = 1/4; places 1 and 2 give
    # 1, 1, 0 (AP = 1), w = 1/6; places 0 and 2 hold the same relevance
    rel, s = np.array([1.0, 0.0, 1.0]), np.array([1.0, 0.0, -1.0])
    g, h = fl.LambdaRankMAP().gradient_hessian(rel, s)
    p01 = 1.0 / (1.0 + np.exp(1.0))  # sigmoid(-(s_hi - s_lo)) of the pair (0, 1)
    p21 = 1.0 / (1.0 + np.exp(-1.0))  # of the pair (2, 1): s_2 - s_1 = -1
    np.testing.assert_allclose(g, [-p01 / 4, p01 / 4 + p21 / 6, -p21 / 6], rtol=1e-14)
    np.testing.assert_allclose(h, [p01 * (1 - p01) / 4,
                                   p01 * (1 - p01) / 4 + p21 * (1 - p21) / 6,
                                   p21 * (1 - p21) / 6], rtol=1e-14)
    # top_k=1: only the pairs of place 0 (the pair (2, 1) is dropped)
    g1, _ = fl.LambdaRankMAP(top_k=1).gradient_hessian(rel, s)
    np.testing.assert_allclose(g1, [-p01 / 4, p01 / 4, 0.0], rtol=1e-14)
    # no relevant item, or every item relevant: loss 0
    for r in ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]):
        v, g0 = fl.LambdaRankMAP().forward_backward(np.array(r), s)
        assert v == 0.0 and np.all(g0 == 0.0)


def _xendcg_gammas(seed, rel, s, sizes):
    h = hashlib.blake2b(digest_size=8)
    for part in (np.asarray(s, np.float64), np.asarray(rel, np.float64),
                 offsets(sizes).astype(np.int64)):
        h.update(part.tobytes())
    key = int.from_bytes(h.digest(), "little")
    return np.random.default_rng([seed, key]).random(len(s))


def test_xendcg_draws_its_gammas_from_its_seed_and_the_inputs():
    rel, s = batch(SIZES, 20)
    loss = fl.XENDCG(seed=7, reduction="none")
    off = offsets(SIZES)
    seen = []
    for step in range(3):  # new scores (a boosting iteration), new gammas
        x = s + 0.1 * step
        gamma = _xendcg_gammas(7, rel, x, SIZES)
        seen.append(gamma)
        v, g = loss.forward_backward(rel, x, group=SIZES)
        expected_v = [per_query_reference("softmax", 2.0 ** rel[off[q]:off[q + 1]]
                                          - gamma[off[q]:off[q + 1]], x[off[q]:off[q + 1]],
                                          [SIZES[q]])[0] for q in range(len(SIZES))]
        np.testing.assert_allclose(v, expected_v, rtol=1e-12, atol=1e-15)  # 1-item query: 0
        t = 2.0 ** rel - gamma
        p = np.concatenate([np.exp(x[a:b]) / np.exp(x[a:b]).sum()
                            for a, b in zip(off[:-1], off[1:])])
        tn = np.concatenate([t[a:b] / t[a:b].sum() for a, b in zip(off[:-1], off[1:])])
        np.testing.assert_allclose(g, p - tn, rtol=1e-10, atol=1e-15)  # one call, one draw
        # the same inputs, the same gammas: the loss is a function of its inputs
        np.testing.assert_array_equal(loss(rel, x, group=SIZES), v)
    assert not np.array_equal(seen[0], seen[1])
    assert 0.4 < np.mean(np.concatenate(seen)) < 0.6
    # another seed, other gammas; float32 inputs of the same values draw the same
    ga, _ = fl.XENDCG(seed=3).gradient_hessian(rel, s, group=SIZES)
    gb, _ = fl.XENDCG(seed=4).gradient_hessian(rel, s, group=SIZES)
    assert not np.array_equal(ga, gb)
    s32 = s.astype(np.float32)
    v32 = fl.XENDCG(seed=3, reduction="none")(rel.astype(np.float32), s32, group=SIZES)
    v64 = fl.XENDCG(seed=3, reduction="none")(rel, s32.astype(np.float64), group=SIZES)
    np.testing.assert_allclose(v32, v64, rtol=1e-6)
    # seed=None draws a seed once, which the config keeps
    fresh = fl.XENDCG(seed=None)
    assert isinstance(fresh.seed, int) and fresh.seed >= 0
    assert repr(fresh) == f"XENDCG(seed={fresh.seed})"
    # the draws do not depend on the thread count
    sizes = np.random.default_rng(2).integers(1, 60, size=3000)
    rel2, s2 = batch(sizes, 21)
    with fl.num_threads(1):
        g1, h1 = fl.XENDCG(seed=11).gradient_hessian(rel2, s2, group=sizes)
    with fl.num_threads(2):
        g2, h2 = fl.XENDCG(seed=11).gradient_hessian(rel2, s2, group=sizes)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(h1, h2)


def test_xendcg_mean_gamma_gradient_is_the_cross_entropy_gradient():
    # gamma=0.5 (the gammas' mean): targets (2**rel - 1/2) / their sum; the
    # gradient p - t and Hessian p (1 - p), a one-item query 0
    rel, s = np.array([2.0, 0.0, 1.0, 3.0]), np.array([0.2, -0.4, 1.1, 0.0])
    g, h = fl.XENDCG(gamma=0.5).gradient_hessian(rel, s, group=[3, 1])
    t = (2.0 ** rel[:3] - 0.5) / np.sum(2.0 ** rel[:3] - 0.5)
    p = np.exp(s[:3]) / np.exp(s[:3]).sum()
    np.testing.assert_allclose(g, np.append(p - t, 0.0), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(h, np.append(p * (1 - p), 0.0), rtol=1e-14)


def test_query_rmse_is_catboost_query_rmse_metric():
    pytest.importorskip("catboost")
    from catboost.utils import eval_metric
    rng = np.random.default_rng(30)
    sizes = np.array([4, 1, 7, 3, 9])
    # CatBoost keeps its labels and weights in float32: values it holds exactly
    t = (rng.normal(size=sizes.sum()) * 3).astype(np.float32).astype(np.float64)
    s = rng.normal(size=sizes.sum())
    gid = np.repeat(np.arange(sizes.size), sizes)
    (peer,) = eval_metric(t, s, "QueryRMSE", group_id=gid)
    total = fl.QueryRMSE(reduction="sum")(t, s, group=sizes)
    np.testing.assert_allclose(np.sqrt(2.0 * total / t.size), peer, rtol=1e-12)
    # CatBoost's per-object weights, constant per query, are fastloss's query weights
    w = rng.uniform(0.5, 2.0, size=sizes.size).astype(np.float32).astype(np.float64)
    (peer_w,) = eval_metric(t, s, "QueryRMSE", group_id=gid, weight=np.repeat(w, sizes))
    weighted = fl.QueryRMSE(reduction="sum")(t, s, sample_weight=w, group=sizes)
    np.testing.assert_allclose(np.sqrt(2.0 * weighted / np.sum(np.repeat(w, sizes))), peer_w,
                               rtol=1e-12)
    # a shift of a whole query's scores changes nothing
    shifted = s + np.repeat(rng.normal(size=sizes.size), sizes)
    np.testing.assert_allclose(fl.QueryRMSE(reduction="none")(t, shifted, group=sizes),
                               fl.QueryRMSE(reduction="none")(t, s, group=sizes), rtol=1e-10)


def test_new_losses_bad_input():
    rel, s = batch([6], 40)
    with pytest.raises(ValueError, match=r"relevance must be 0 or 1 .*got 2.0 at index"):
        fl.LambdaRankMAP()(rel, s)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        fl.LambdaRankMAP(top_k=0)
    with pytest.raises(TypeError, match="top_k must be an integer"):
        fl.LambdaRankMAP(top_k=1.5)
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\)"):
        fl.XENDCG(gamma=1.0)
    with pytest.raises(TypeError, match="gamma must be a float"):
        fl.XENDCG(gamma="half")
    with pytest.raises(TypeError, match="seed must be an integer"):
        fl.XENDCG(seed=1.5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        fl.XENDCG(seed=-1)
    with pytest.raises(ValueError, match=r"relevance must be >= 0"):
        fl.XENDCG()(rel - 1.0, s)
    # QueryRMSE's targets are any reals; its groups are checked as the others'
    fl.QueryRMSE()(rel - 10.0, s)
    for loss in (fl.LambdaRankMAP(), fl.XENDCG(seed=0), fl.QueryRMSE()):
        binary = (rel > 1).astype(np.float64)
        with pytest.raises(ValueError, match="group sizes sum to 5 but there are 6 items"):
            loss(binary, s, group=[3, 2])
        with pytest.raises(ValueError, match=r"got 0 at index 1 \(an empty query\)"):
            loss.gradient_hessian(binary, s, group=[3, 0, 3])
        with pytest.raises(ValueError, match="group sizes must be integers"):
            loss.backward(binary, s, group=[3.5, 2.5])


def test_new_losses_registry_names_and_config():
    for name, cls in (("lambdarank_map", fl.LambdaRankMAP), ("xendcg", fl.XENDCG),
                      ("query_rmse", fl.QueryRMSE),
                      ("query_crossentropy", fl.QueryCrossentropy)):
        assert type(fl.get(name)) is cls and type(fl.get(cls.__name__)) is cls
    loss = fl.LambdaRankMAP(top_k=None, reduction="sum")
    assert repr(loss) == "LambdaRankMAP(top_k=None, reduction='sum')"
    twin = pickle.loads(pickle.dumps(loss))
    assert twin.get_config() == loss.get_config()
    assert fl.XENDCG(gamma=0.5).get_config()["gamma"] == 0.5
    # the docstrings say what their relevance holds
    assert "Relevance is 0 or 1." in fl.LambdaRankMAP.__doc__
    assert "The targets are any reals." in fl.QueryRMSE.__doc__


def binary_data(queries=120, per_query=16, seed=0):
    X, rel, sizes = ranking_data(queries, per_query, seed)
    return X, (rel >= 2).astype(np.float64), sizes


def mean_ap(rel, scores, sizes):
    off = offsets(sizes)
    out = [average_precision(rel[a:b][np.argsort(-scores[a:b], kind="stable")])
           for a, b in zip(off[:-1], off[1:]) if rel[a:b].sum() > 0]
    return float(np.mean(out))


@pytest.mark.parametrize("k", [32, 4])
def test_map_leaves_are_xgboost_rank_map_leaves_with_its_doubled_hessian(k):
    xgb = pytest.importorskip("xgboost")
    X, rel, sizes, init = _tree_data()
    rel = (rel >= 2).astype(np.float64)
    d = xgb.DMatrix(X, rel, group=sizes, base_margin=init)
    params = {"objective": "rank:map", "lambdarank_pair_method": "topk",
              "lambdarank_num_pair_per_sample": k, "lambdarank_normalization": False,
              "lambdarank_score_normalization": False, "eta": 1.0, "max_depth": 3,
              "min_child_weight": 0, "reg_lambda": 0, "nthread": 1}
    tree = xgb.train(params, d, num_boost_round=1)
    leaf = tree.predict(d, pred_leaf=True).reshape(-1)
    value = tree.predict(d, output_margin=True) - init
    g, h = fl.LambdaRankMAP(top_k=k).gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 6
    for v, step in steps.items():
        np.testing.assert_allclose(value[leaf == v], 0.5 * step, rtol=1e-5, atol=1e-6)


def test_xgboost_map_objective_trains_like_rank_map():
    xgb = pytest.importorskip("xgboost")
    X, rel, sizes = binary_data()
    Xt, relt, sizest = binary_data(seed=1)
    dtrain = xgb.DMatrix(X, label=rel, group=sizes)
    dtest = xgb.DMatrix(Xt, label=relt, group=sizest)
    params = {"max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0}
    ours = xgb.train(params, dtrain, num_boost_round=30,
                     obj=fl.xgboost.objective(fl.LambdaRankMAP()))
    theirs = xgb.train({**params, "objective": "rank:map"}, dtrain, num_boost_round=30)
    start = mean_ap(relt, 1e-9 * RNG.normal(size=relt.size), sizest)
    map_ours = mean_ap(relt, ours.predict(dtest, output_margin=True), sizest)
    map_theirs = mean_ap(relt, theirs.predict(dtest, output_margin=True), sizest)
    print(f"XGBoost MAP on held-out queries: start {start:.4f}, fastloss {map_ours:.4f}, "
          f"rank:map {map_theirs:.4f}")
    assert map_ours > start + 0.2
    assert abs(map_ours - map_theirs) < 0.03, (map_ours, map_theirs)


def test_lightgbm_xendcg_objective_trains_like_rank_xendcg():
    lgb = pytest.importorskip("lightgbm")
    X, rel, sizes = ranking_data()
    Xt, relt, sizest = ranking_data(seed=1)
    params = {"num_leaves": 8, "learning_rate": 0.2, "num_threads": 1, "verbose": -1,
              "min_data_in_leaf": 10, "seed": 0}
    ours = lgb.train({**params, "objective": fl.lightgbm.objective(fl.XENDCG(seed=0))},
                     lgb.Dataset(X, rel, group=sizes), num_boost_round=40)
    theirs = lgb.train({**params, "objective": "rank_xendcg"}, lgb.Dataset(X, rel, group=sizes),
                       num_boost_round=40)
    start = mean_ndcg(relt, 1e-9 * RNG.normal(size=relt.size), sizest)
    ndcg_ours = mean_ndcg(relt, ours.predict(Xt, raw_score=True), sizest)
    ndcg_theirs = mean_ndcg(relt, theirs.predict(Xt, raw_score=True), sizest)
    print(f"LightGBM NDCG@10 on held-out queries: start {start:.4f}, fastloss XENDCG "
          f"{ndcg_ours:.4f}, rank_xendcg {ndcg_theirs:.4f}")
    assert ndcg_ours > start + 0.15
    assert abs(ndcg_ours - ndcg_theirs) < 0.03, (ndcg_ours, ndcg_theirs)


def test_query_rmse_objective_trains_to_catboost_query_rmse():
    # CatBoost's custom objectives do not see the groups: fastloss's QueryRMSE
    # trains in LightGBM and reaches CatBoost's own QueryRMSE training on
    # held-out queries, scored by CatBoost's QueryRMSE metric
    lgb = pytest.importorskip("lightgbm")
    cb = pytest.importorskip("catboost")
    from catboost.utils import eval_metric

    def data(seed):
        rng = np.random.default_rng(seed)
        sizes = rng.integers(3, 15, size=150)
        X = rng.normal(size=(sizes.sum(), 4))
        offset = np.repeat(rng.normal(size=sizes.size) * 5, sizes)  # a query's own level
        y = offset + X[:, 0] + np.sin(2 * X[:, 1]) + 0.1 * rng.normal(size=sizes.sum())
        return X, y, sizes, np.repeat(np.arange(sizes.size), sizes)

    X, y, sizes, gid = data(0)
    Xt, yt, sizest, gidt = data(1)
    ours = lgb.train({"objective": fl.lightgbm.objective(fl.QueryRMSE()), "num_leaves": 8,
                      "learning_rate": 0.2, "num_threads": 1, "verbose": -1, "seed": 0},
                     lgb.Dataset(X, y, group=sizes), num_boost_round=60)
    theirs = cb.CatBoost({"loss_function": "QueryRMSE", "iterations": 60, "learning_rate": 0.2,
                          "depth": 3, "thread_count": 1, "random_seed": 0, "verbose": False,
                          "allow_writing_files": False})
    theirs.fit(cb.Pool(X, y, group_id=gid))
    (start,) = eval_metric(yt, np.zeros(yt.size), "QueryRMSE", group_id=gidt)
    (rmse_ours,) = eval_metric(yt, ours.predict(Xt, raw_score=True), "QueryRMSE", group_id=gidt)
    (rmse_theirs,) = eval_metric(yt, theirs.predict(Xt, prediction_type="RawFormulaVal"),
                                 "QueryRMSE", group_id=gidt)
    print(f"QueryRMSE on held-out queries: start {start:.4f}, fastloss in LightGBM "
          f"{rmse_ours:.4f}, CatBoost QueryRMSE {rmse_theirs:.4f}")
    assert rmse_ours < 0.5 * start
    assert abs(rmse_ours - rmse_theirs) < 0.15 * rmse_theirs, (rmse_ours, rmse_theirs)


def test_pairwise_logistic_is_catboost_pair_logit_and_pair_logit_pairwise(tmp_path):
    # CatBoost's PairLogit is the mean over the pairs of different labels of
    # log(1 + exp(-(a_winner - a_loser))); PairLogitPairwise trains the same
    # loss with another tree search: CatBoost's PairLogit of each trained
    # model is fastloss's sum over the pairs divided by their number
    cb = pytest.importorskip("catboost")
    X, rel, sizes = ranking_data(queries=40, per_query=8)
    gid = np.repeat(np.arange(sizes.size), sizes)
    pairs = sum(int(np.sum(rel[a:b][:, None] > rel[a:b][None, :]))
                for a, b in zip(offsets(sizes)[:-1], offsets(sizes)[1:]))
    pool = cb.Pool(X, rel, group_id=gid)
    for objective in ("PairLogit", "PairLogitPairwise"):
        model = cb.CatBoost({"loss_function": objective, "iterations": 5, "depth": 3,
                             "thread_count": 1, "random_seed": 0, "verbose": False,
                             "train_dir": str(tmp_path)})
        model.fit(pool)
        raw = model.predict(pool, prediction_type="RawFormulaVal")
        assert np.ptp(raw) > 0  # trained
        peer = model.eval_metrics(pool, ["PairLogit"], tmp_dir=str(tmp_path))["PairLogit"][-1]
        value = fl.PairwiseLogistic(reduction="sum")(rel, raw, group=sizes) / pairs
        np.testing.assert_allclose(value, peer, rtol=1e-12)


def _catboost_one_tree(cb, loss_function, X, rel, sizes, init):
    """One CatBoost tree from the scores `init`: plain boosting, one Newton
    step per leaf, no regularisation or randomness; its leaf of each row and
    the tree's value there."""
    pool = cb.Pool(X, rel, group_id=np.repeat(np.arange(sizes.size), sizes), baseline=init)
    model = cb.CatBoost({"loss_function": loss_function, "iterations": 1, "learning_rate": 1.0,
                         "depth": 2, "l2_leaf_reg": 0, "leaf_estimation_method": "Newton",
                         "leaf_estimation_iterations": 1, "boosting_type": "Plain",
                         "bootstrap_type": "No", "random_strength": 0,
                         "boost_from_average": False, "thread_count": 1, "verbose": False,
                         "allow_writing_files": False})
    model.fit(pool)
    value = model.predict(pool, prediction_type="RawFormulaVal") - init
    return model.calc_leaf_indexes(pool).reshape(-1), value


@pytest.mark.parametrize("levels,loss_function", [
    (4, "LambdaMart:metric=NDCG;type=Exp;norm=false"),
    (2, "LambdaMart:metric=NDCG;norm=false"),  # binary relevance: its linear gain is 2**rel - 1
])
def test_lambdarank_ndcg_leaves_are_catboost_lambdamart_leaves(levels, loss_function):
    # CatBoost's LambdaMart with NDCG (exponential gain, its normalisation
    # off) takes fastloss's lambdas and Hessians: its Newton leaves are
    # fastloss's Newton steps
    cb = pytest.importorskip("catboost")
    X, rel, sizes, init = _tree_data()
    rel = np.minimum(rel, levels - 1)
    leaf, value = _catboost_one_tree(cb, loss_function, X, rel, sizes, init)
    g, h = fl.LambdaRankNDCG().gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 3
    for v, step in steps.items():
        np.testing.assert_allclose(value[leaf == v], step, rtol=1e-5, atol=1e-6)


def test_pairwise_leaves_are_catboost_pair_logit_leaves_up_to_one_shift():
    # CatBoost's PairLogit leaves are fastloss's Newton steps shifted by one
    # constant for the whole tree (a shift that changes no pair's difference)
    cb = pytest.importorskip("catboost")
    X, rel, sizes, init = _tree_data()
    leaf, value = _catboost_one_tree(cb, "PairLogit", X, rel, sizes, init)
    g, h = fl.PairwiseLogistic().gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 3
    # (CatBoost keeps the baseline in float32: the rows of a leaf agree to 1e-6)
    shifts = np.array([value[leaf == v].mean() - step for v, step in steps.items()])
    spread = np.array([np.ptp(value[leaf == v]) for v in steps])
    np.testing.assert_allclose(spread, 0.0, atol=1e-6)
    np.testing.assert_allclose(shifts, shifts[0], rtol=0, atol=1e-5)
    assert np.ptp([s for s in steps.values()]) > 1.0  # the leaves differ a lot


@pytest.mark.parametrize("objective,make_loss,binary", [
    ("rank:map", lambda: fl.LambdaRankMAP(xgboost_normalization=True), True),
    ("rank:ndcg", lambda: fl.LambdaRankNDCG(ndcg_at=32, xgboost_normalization=True), False),
])
def test_leaves_are_xgboost_default_rank_leaves_with_xgboost_normalization(objective,
                                                                             make_loss, binary):
    # XGBoost's defaults (top 32 pairs, both normalisations on): its leaves are
    # half the Newton steps of the normalised lambdas (its Hessian is doubled)
    xgb = pytest.importorskip("xgboost")
    X, rel, sizes, init = _tree_data()
    if binary:
        rel = (rel >= 2).astype(np.float64)
    d = xgb.DMatrix(X, rel, group=sizes, base_margin=init)
    params = {"objective": objective, "eta": 1.0, "max_depth": 3, "min_child_weight": 0,
              "reg_lambda": 0, "nthread": 1}
    tree = xgb.train(params, d, num_boost_round=1)
    leaf = tree.predict(d, pred_leaf=True).reshape(-1)
    value = tree.predict(d, output_margin=True) - init
    loss = make_loss()
    g, h = loss.gradient_hessian(rel, init, group=sizes)
    steps = _newton_steps(leaf, g, h)
    assert len(steps) >= 6
    for v, step in steps.items():
        np.testing.assert_allclose(value[leaf == v], 0.5 * step, rtol=1e-5, atol=1e-6)
    # the normalisations change the leaves: the plain surrogate's differ
    plain = type(loss)(**{**loss.get_config(), "xgboost_normalization": False})
    g0, h0 = plain.gradient_hessian(rel, init, group=sizes)
    assert not np.allclose(list(_newton_steps(leaf, g0, h0).values()), list(steps.values()),
                           rtol=1e-3)
    # value and gradient: the normalised surrogate with its factors held fixed
    rel_q, s_q = rel[:sizes[0]], init[:sizes[0]]
    v_q, g_q = loss.forward_backward(rel_q, s_q)
    np.testing.assert_allclose(g_q, loss.gradient_hessian(rel_q, s_q)[0], rtol=1e-15)
    assert v_q > 0


def test_query_crossentropy_is_catboost_query_cross_entropy_metric():
    pytest.importorskip("catboost")
    from catboost.utils import eval_metric
    rng = np.random.default_rng(31)
    sizes = np.array([4, 6, 3, 5, 7, 2, 9])
    t = rng.integers(0, 2, size=sizes.sum()).astype(np.float64)
    t[:4], t[4:10] = 0.0, 1.0  # a query of 0s and one of 1s: no finite shift
    t[10:13] = [0.25, 0.75, 1.0]  # fractional targets
    s = rng.normal(size=sizes.sum())
    gid = np.repeat(np.arange(sizes.size), sizes)
    (peer,) = eval_metric(t, s, "QueryCrossEntropy", group_id=gid)
    total = fl.QueryCrossentropy(reduction="sum")(t, s, group=sizes)
    np.testing.assert_allclose(total / t.size, peer, rtol=1e-8)  # CatBoost's own shift search
    for alpha in (0.5, 0.0):
        (peer_a,) = eval_metric(t, s, f"QueryCrossEntropy:alpha={alpha}", group_id=gid)
        total_a = fl.QueryCrossentropy(alpha=alpha, reduction="sum")(t, s, group=sizes)
        np.testing.assert_allclose(total_a / t.size, peer_a, rtol=1e-8)
    # the shifted term is invariant to a shift of the query's scores; alpha=1 is that term
    shifted = s + np.repeat(rng.normal(size=sizes.size), sizes)
    one = fl.QueryCrossentropy(alpha=1.0, reduction="none")
    np.testing.assert_allclose(one(t, shifted, group=sizes), one(t, s, group=sizes),
                               rtol=1e-9, atol=1e-12)
    # bad targets and alpha
    with pytest.raises(ValueError, match=r"targets must be probabilities in \[0, 1\], got 1.5"):
        fl.QueryCrossentropy()(np.full(3, 1.5), np.zeros(3))
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        fl.QueryCrossentropy(alpha=1.5)
    with pytest.raises(TypeError, match="alpha must be a float"):
        fl.QueryCrossentropy(alpha="0.5")
    with pytest.raises(ValueError, match="group sizes sum to 5 but there are 6 items"):
        fl.QueryCrossentropy()(np.zeros(6), np.zeros(6), group=[3, 2])


def test_query_crossentropy_objective_trains():
    # CatBoost trains QueryCrossEntropy on GPU only: fastloss's trains in
    # LightGBM on click-like data whose queries have their own click rates,
    # scored on held-out queries by CatBoost's QueryCrossEntropy metric
    # against LightGBM's plain binary log loss (which cannot use the shift)
    lgb = pytest.importorskip("lightgbm")
    pytest.importorskip("catboost")
    from catboost.utils import eval_metric

    def data(seed):
        rng = np.random.default_rng(seed)
        sizes = rng.integers(4, 16, size=200)
        X = rng.normal(size=(sizes.sum(), 4))
        level = np.repeat(rng.normal(size=sizes.size) * 2.0, sizes)  # a query's own rate
        p = 1.0 / (1.0 + np.exp(-(level + 1.5 * X[:, 0] - X[:, 1])))
        return X, (rng.random(sizes.sum()) < p).astype(np.float64), sizes

    X, y, sizes = data(0)
    Xt, yt, sizest = data(1)
    gid = np.repeat(np.arange(sizest.size), sizest)
    params = {"num_leaves": 8, "learning_rate": 0.1, "num_threads": 1, "verbose": -1, "seed": 0}
    ours = lgb.train({**params, "objective": fl.lightgbm.objective(fl.QueryCrossentropy())},
                     lgb.Dataset(X, y, group=sizes), num_boost_round=60)
    plain = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, y), num_boost_round=60)
    (start,) = eval_metric(yt, np.zeros(yt.size), "QueryCrossEntropy", group_id=gid)
    (qce_ours,) = eval_metric(yt, ours.predict(Xt, raw_score=True), "QueryCrossEntropy",
                              group_id=gid)
    (qce_plain,) = eval_metric(yt, plain.predict(Xt, raw_score=True), "QueryCrossEntropy",
                               group_id=gid)
    print(f"QueryCrossEntropy on held-out queries: start {start:.4f}, fastloss in LightGBM "
          f"{qce_ours:.4f}, LightGBM binary {qce_plain:.4f}")
    assert qce_ours < start - 0.05
    assert qce_ours < qce_plain

"""Ranking objectives: one gradient-and-Hessian call of fastloss's ranking
losses over query groups against a NumPy implementation of the same formulas
(vectorised per query, the way a custom XGBoost/LightGBM objective is usually
written in Python). `python benchmarks/ranking.py` prints the table;
`ranking_table()` returns its markdown lines and raw medians."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from timing import median_call

import fastloss as fl
from fastloss._ranking import Queries, _filter_uniforms, _yeti_uniforms


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def numpy_pairwise(rel: np.ndarray, s: np.ndarray, sizes: np.ndarray,
                   weights: Callable[..., np.ndarray] | None = None,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of the (optionally NDCG-weighted) pairwise
    logistic loss, one query at a time with (n, n) pair matrices."""
    g = np.empty_like(s)
    h = np.empty_like(s)
    start = 0
    for n in sizes:
        r, x = rel[start:start + n], s[start:start + n]
        above = (r[:, None] > r[None, :]).astype(np.float64)
        if weights is not None:
            above *= weights(r, x)
        p = _sigmoid(-(x[:, None] - x[None, :])) * above  # pair (i above j)
        q = p * (1.0 - _sigmoid(-(x[:, None] - x[None, :])))
        g[start:start + n] = -p.sum(axis=1) + p.sum(axis=0)
        h[start:start + n] = q.sum(axis=1) + q.sum(axis=0)
        start += n
    return g, h


def ndcg_weights(r: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = r.size
    order = np.argsort(-x, kind="stable")
    place = np.empty(n, np.int64)
    place[order] = np.arange(n)
    gain = 2.0 ** r - 1.0
    disc = 1.0 / np.log2(2.0 + place)
    idcg = np.sum(np.sort(gain)[::-1] / np.log2(2.0 + np.arange(n)))
    if idcg <= 0:
        return np.zeros((n, n))
    return np.abs(gain[:, None] - gain[None, :]) * np.abs(disc[:, None] - disc[None, :]) / idcg


def map_weights(r: np.ndarray, x: np.ndarray, top_k: int = 32) -> np.ndarray:
    """|delta AP| of every pair from prefix counts of the ranked relevances,
    pairs with an item among the first top_k places."""
    n = r.size
    order = np.argsort(-x, kind="stable")
    place = np.empty(n, np.int64)
    place[order] = np.arange(n)
    ranked = r[order]
    found = np.cumsum(ranked)
    acc = np.cumsum(ranked / np.arange(1.0, n + 1))
    if found[-1] <= 0:
        return np.zeros((n, n))
    a = np.minimum(place[:, None], place[None, :])
    c = np.maximum(place[:, None], place[None, :])
    between = acc[np.maximum(c - 1, 0)] - acc[a]
    up = found[c] / (c + 1) - (found[a] + 1) / (a + 1) - between
    down = found[a] / (a + 1) - found[c] / (c + 1) + between
    w = np.where(ranked[a] > ranked[c], np.abs(down), np.abs(up)) / found[-1]
    return w * (a < top_k)


def numpy_query_rmse(t: np.ndarray, s: np.ndarray, sizes: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """QueryRMSE, queries of equal size as one (Q, L) array: the centred
    residuals and CatBoost's Hessian 1."""
    r = (s - t).reshape(len(sizes), -1)
    return (r - r.mean(axis=1, keepdims=True)).reshape(-1), np.ones_like(s)


def numpy_query_crossentropy(t: np.ndarray, s: np.ndarray, sizes: np.ndarray,
                             alpha: float = 0.95, steps: int = 30,
                             ) -> tuple[np.ndarray, np.ndarray]:
    """QueryCrossEntropy, queries of equal size as one (Q, L) array, every
    query's shift by the same number of Newton steps."""
    x = s.reshape(len(sizes), -1)
    y = t.reshape(x.shape)
    total = y.sum(axis=1, keepdims=True)
    beta = np.zeros_like(total)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x + beta)))
        slope = np.maximum((p * (1 - p)).sum(axis=1, keepdims=True), 1e-300)
        beta = beta - (p.sum(axis=1, keepdims=True) - total) / slope
    p0 = 1.0 / (1.0 + np.exp(-x))
    p = 1.0 / (1.0 + np.exp(-(x + beta)))
    d = p * (1 - p)
    g = (1 - alpha) * (p0 - y) + alpha * (p - y)
    h = (1 - alpha) * p0 * (1 - p0) + alpha * d * (1 - d / d.sum(axis=1, keepdims=True))
    return g.reshape(-1), h.reshape(-1)


def numpy_softmax(rel: np.ndarray, s: np.ndarray, sizes: np.ndarray,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """ListNet with normalised labels, queries of equal size as one (Q, L) array."""
    x = s.reshape(len(sizes), -1)
    r = rel.reshape(x.shape)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    total = r.sum(axis=1, keepdims=True)
    t = np.divide(r, total, out=np.zeros_like(r), where=total > 0)
    mass = (total > 0).astype(np.float64)
    return (mass * p - t).reshape(-1), (mass * p * (1 - p)).reshape(-1)


def numpy_yetirank(rel: np.ndarray, s: np.ndarray, sizes: np.ndarray, u: np.ndarray,
                   decay: float = 0.85) -> tuple[np.ndarray, np.ndarray]:
    """YetiRank from the uniforms u (rankings, n), queries of equal size as one
    (Q, L) array: each ranking's neighbours weighed by 0.15 decay^(k-1) |gap|."""
    x = s.reshape(len(sizes), -1)
    r = rel.reshape(x.shape)
    g, h = np.zeros_like(x), np.zeros_like(x)
    rows = np.arange(x.shape[0])[:, None]
    for up in u:
        keys = x + np.log(up.reshape(x.shape) / (1.000001 - up.reshape(x.shape)))
        order = np.argsort(-keys, axis=1, kind="stable")
        a, b = order[:, :-1], order[:, 1:]
        ra, rb = r[rows, a], r[rows, b]
        hi, lo = np.where(ra > rb, a, b), np.where(ra > rb, b, a)
        w = 0.15 * decay ** np.arange(x.shape[1] - 1) * np.abs(ra - rb) / len(u)
        p = 1.0 / (1.0 + np.exp(x[rows, hi] - x[rows, lo]))
        np.add.at(g, (np.broadcast_to(rows, hi.shape), hi), -w * p)
        np.add.at(g, (np.broadcast_to(rows, lo.shape), lo), w * p)
        for idx in (hi, lo):
            np.add.at(h, (np.broadcast_to(rows, idx.shape), idx), w * p * (1 - p))
    return g.reshape(-1), h.reshape(-1)


def numpy_stochastic_filter(rel: np.ndarray, s: np.ndarray, sizes: np.ndarray, u: np.ndarray,
                            sigma: float = 1.0) -> np.ndarray:
    """StochasticFilter's gradient from the uniforms u (draws, n), queries of
    equal size as one (Q, L) array: -(sigma/K) sum_k (L_k - b)(pass - p)."""
    x = s.reshape(len(sizes), -1)
    r = rel.reshape(x.shape)
    p = 1.0 / (1.0 + np.exp(-sigma * x))

    def dcg(passed: np.ndarray) -> np.ndarray:
        places = np.maximum(np.cumsum(passed, axis=1), 1)
        return np.sum(np.where(passed, r / places, 0.0), axis=1, keepdims=True)

    base = dcg(x >= 0)
    g = np.zeros_like(x)
    for up in u:
        passed = p >= up.reshape(x.shape)
        g -= sigma * (dcg(passed) - base) * (passed - p) / len(u)
    return g.reshape(-1)


def ranking_table(queries: int = 2000, per_query: int = 50, calls: int = 7,
                  ) -> tuple[list[str], list[dict[str, Any]]]:
    """Markdown lines and raw medians (seconds)."""
    rng = np.random.default_rng(0)
    sizes = np.full(queries, per_query)
    n = queries * per_query
    rel = rng.integers(0, 5, size=n).astype(np.float64)
    binary = (rel >= 3).astype(np.float64)
    target = rng.normal(size=n)
    s = rng.normal(size=n)
    clicks = (rng.random(n) < 0.3).astype(np.float64)
    clicks[:per_query] = 0.0  # a query without a click (no finite shift)
    cases = [
        ("PairwiseLogistic", fl.PairwiseLogistic(), rel, lambda: numpy_pairwise(rel, s, sizes)),
        ("SoftmaxListwise", fl.SoftmaxListwise(), rel, lambda: numpy_softmax(rel, s, sizes)),
        ("LambdaRankNDCG", fl.LambdaRankNDCG(), rel,
         lambda: numpy_pairwise(rel, s, sizes, ndcg_weights)),
        ("LambdaRankMAP", fl.LambdaRankMAP(), binary,
         lambda: numpy_pairwise(binary, s, sizes, map_weights)),
        ("XENDCG (gamma=0.5)", fl.XENDCG(gamma=0.5), rel,
         lambda: numpy_softmax(2.0 ** rel - 0.5, s, sizes)),
        ("QueryRMSE", fl.QueryRMSE(), target, lambda: numpy_query_rmse(target, s, sizes)),
        ("QueryCrossentropy", fl.QueryCrossentropy(), clicks,
         lambda: numpy_query_crossentropy(clicks, s, sizes)),
        ("YetiRank (10 rankings)", fl.YetiRank(), rel,
         lambda: numpy_yetirank(rel, s, sizes, _yeti_uniforms(0, Queries(rel, s, sizes), 10))),
        # no Hessian: its gradient (backward, reduction "sum") and zeros
        ("StochasticFilter (10 draws, gradient only)",
         fl.StochasticFilter(estimations=10, reduction="sum"), rel,
         lambda: (numpy_stochastic_filter(rel, s, sizes,
                                          _filter_uniforms(0, Queries(rel, s, sizes), 10)),
                  np.zeros(n))),
    ]
    lines = [f"One gradient_hessian call over {queries:,} queries of {per_query} items "
             f"({n:,} rows, float64), {fl.get_num_threads()} thread(s), median of {calls}, "
             "against NumPy written from the same formulas.", "",
             "| objective | fastloss | NumPy | NumPy / fastloss | max abs diff |",
             "|---|---:|---:|---:|---:|"]
    raw = []
    for name, loss, labels, numpy_fn in cases:
        ours_fn = lambda loss=loss, y=labels: loss.gradient_hessian(  # noqa: E731
            y, s, group=sizes)
        if not loss.has_hessian:
            ours_fn = lambda loss=loss, y=labels: (  # noqa: E731
                loss.backward(y, s, group=sizes), np.zeros(n))
        t_ours, t_np = median_call(ours_fn, calls), median_call(numpy_fn, calls)
        (g, h), (eg, eh) = ours_fn(), numpy_fn()
        diff = max(float(np.max(np.abs(g - eg))), float(np.max(np.abs(h - eh))))
        lines.append(f"| {name} | {t_ours * 1e3:.2f} ms | {t_np * 1e3:.2f} ms | "
                     f"{t_np / t_ours:.1f}× | {diff:.1e} |")
        raw.append({"case": f"ranking {name}", "fastloss": t_ours, "numpy": t_np})
    return lines + [""], raw


if __name__ == "__main__":
    print("\n".join(ranking_table()[0]))

// Kernels of three learning-to-rank losses over query groups: a batch of N
// items is cut into queries by offsets (query q holds items
// [offsets[q], offsets[q+1])), each query has its own loss, and the items of
// one query are coupled (pairs of items, or a softmax over the query):
//
// * pairwise logistic (RankNet): sum over the pairs with rel_i > rel_j of
//   log(1 + exp(-(s_i - s_j)));
// * softmax listwise (ListNet, TF-Ranking's softmax loss, optax's
//   ranking_softmax_loss): -sum_i q_i log softmax(s)_i with q = rel / sum(rel)
//   (normalised) or q = rel (optax);
// * LambdaRank-NDCG (LambdaMART, XGBoost's rank:ndcg, LightGBM's lambdarank):
//   the pairwise logistic loss of each pair weighted by |delta NDCG_ij|, the
//   change of the query's NDCG when items i and j swap their places in the
//   ranking by the current scores. The weights are held fixed (they are not
//   differentiated), so the gradient and Hessian are those of this smooth
//   surrogate: the LambdaMART lambdas.
//
// Every query is computed by one thread, in float64, from its own items only,
// so the results are the same bits for every thread count; queries are
// grouped into tiles by their sizes alone (a fixed cost per tile).
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/threads.hpp"

namespace fastloss {

namespace ranking {

/// Work (pairs, roughly) one tile of queries owns.
inline constexpr index_t kRankTileCost = 16384;

/// Where a ranking kernel writes. Any pointer may be null.
template <class T>
struct RankOutputs {
  double* per_query = nullptr;  ///< (Q,) each query's loss
  T* grad = nullptr;            ///< (N,) d/ds_i of sum_q coef_q * loss_q
  T* hess = nullptr;            ///< (N,) its diagonal second derivative
  /// (Q,) the coefficient of each query's loss in the derivatives (sample
  /// weight times the reduction's factor and grad_output); null = 1.
  const double* coef = nullptr;
};

namespace detail {

/// log(1 + exp(x)) without overflow or loss of small values.
inline double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

/// 1 / (1 + exp(-x)) without overflow.
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

/// Tiles of consecutive queries: a tile closes once its queries' cost
/// (size squared, at least 1 each) reaches kRankTileCost. Depends on the
/// group sizes alone. Returns the first query of each tile, and Q at the end.
inline std::vector<index_t> query_tiles(const index_t* offsets, index_t Q) {
  std::vector<index_t> starts{0};
  index_t cost = 0;
  for (index_t q = 0; q < Q; ++q) {
    const index_t n = offsets[q + 1] - offsets[q];
    cost += std::max<index_t>(1, n * n);
    if (cost >= kRankTileCost && q + 1 < Q) {
      starts.push_back(q + 1);
      cost = 0;
    }
  }
  starts.push_back(Q);
  return starts;
}

/// Runs per_query(q, g, h) for every query, tiles of queries in parallel;
/// g and h are float64 scratch of the query's size, zeroed, which the
/// function fills with the unscaled derivatives; this writes them out
/// scaled by the query's coefficient.
template <class T, class PerQuery>
void over_queries(const index_t* offsets, index_t Q, const RankOutputs<T>& out,
                  const PerQuery& per_query) {
  if (Q <= 0) return;
  const std::vector<index_t> starts = query_tiles(offsets, Q);
  const index_t tiles = static_cast<index_t>(starts.size()) - 1;
  const bool derivatives = out.grad || out.hess;
  fastloss::detail::parallel_tiles(tiles, fastloss::detail::threads_for(tiles), [&](index_t t) {
    std::vector<double> g, h;
    for (index_t q = starts[t]; q < starts[t + 1]; ++q) {
      const index_t begin = offsets[q], n = offsets[q + 1] - begin;
      g.assign(static_cast<std::size_t>(n), 0.0);
      h.assign(static_cast<std::size_t>(n), 0.0);
      const double value = per_query(begin, n, g.data(), h.data());
      if (out.per_query) out.per_query[q] = value;
      if (!derivatives) continue;
      const double c = out.coef ? out.coef[q] : 1.0;
      for (index_t i = 0; i < n; ++i) {
        if (out.grad) out.grad[begin + i] = static_cast<T>(c * g[i]);
        if (out.hess) out.hess[begin + i] = static_cast<T>(c * h[i]);
      }
    }
  });
}

/// Adds the logistic loss of the pair (hi above lo), weighted by w, to the
/// derivatives; returns its value w * log(1 + exp(-(s_hi - s_lo))).
inline double logistic_pair(double s_hi, double s_lo, double w, double* g_hi, double* g_lo,
                            double* h_hi, double* h_lo) {
  const double d = s_hi - s_lo;
  const double p = sigmoid(-d);  // -d/dd log(1 + exp(-d))
  const double ph = w * p * (1.0 - p);
  *g_hi -= w * p;
  *g_lo += w * p;
  *h_hi += ph;
  *h_lo += ph;
  return w * softplus(-d);
}

/// Whether a query holds a NaN relevance or score; if so its loss and
/// derivatives are NaN (filled here), as NumPy would propagate them.
template <class T>
bool nan_query(const T* rel, const T* s, index_t n, double* g, double* h) {
  for (index_t i = 0; i < n; ++i) {
    if (s[i] != s[i] || rel[i] != rel[i]) {
      std::fill(g, g + n, std::nan(""));
      std::fill(h, h + n, std::nan(""));
      return true;
    }
  }
  return false;
}

}  // namespace detail

/// RankNet's pairwise logistic loss of each query:
///   loss_q = sum_{i, j in q: rel_i > rel_j} log(1 + exp(-(s_i - s_j))),
///   d/ds_i = -sum_{j below i} sigma(s_j - s_i) + sum_{j above i} sigma(s_i - s_j),
///   d2/ds_i2 = sum over i's pairs of sigma(d)(1 - sigma(d)).
/// A query with no pair of different relevances has loss 0.
template <class T>
void pairwise_logistic(const T* rel, const T* s, const index_t* offsets, index_t Q,
                       const RankOutputs<T>& out) {
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    double value = 0.0;
    for (index_t i = 0; i < n; ++i) {
      const double ri = static_cast<double>(rel[b + i]), si = static_cast<double>(s[b + i]);
      for (index_t j = i + 1; j < n; ++j) {
        const double rj = static_cast<double>(rel[b + j]), sj = static_cast<double>(s[b + j]);
        if (ri > rj) {
          value += detail::logistic_pair(si, sj, 1.0, g + i, g + j, h + i, h + j);
        } else if (rj > ri) {
          value += detail::logistic_pair(sj, si, 1.0, g + j, g + i, h + j, h + i);
        }
      }
    }
    return value;
  });
}

/// The softmax (ListNet) loss of each query:
///   loss_q = -sum_i q_i log softmax(s)_i,  q = rel / sum(rel) when
///   normalize_labels (a query whose relevances sum to 0 has loss 0), else rel;
///   d/ds_i = Q p_i - q_i,  d2/ds_i2 = Q p_i (1 - p_i),  Q = sum_i q_i.
/// Items with q_i = 0 add nothing to the loss (also where their probability
/// underflows to 0).
template <class T>
void softmax_listwise(const T* rel, const T* s, const index_t* offsets, index_t Q,
                      bool normalize_labels, const RankOutputs<T>& out) {
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    double smax = -HUGE_VAL, total = 0.0;
    for (index_t i = 0; i < n; ++i) {
      smax = std::max(smax, static_cast<double>(s[b + i]));
      total += static_cast<double>(rel[b + i]);
    }
    const double scale = normalize_labels ? (total == 0.0 ? 0.0 : 1.0 / total) : 1.0;
    if (scale == 0.0) return 0.0;
    double z = 0.0;
    for (index_t i = 0; i < n; ++i) z += std::exp(static_cast<double>(s[b + i]) - smax);
    const double log_z = std::log(z);
    const double mass = normalize_labels ? total * scale : total;  // sum of q
    double value = 0.0;
    for (index_t i = 0; i < n; ++i) {
      const double qi = static_cast<double>(rel[b + i]) * scale;
      const double log_p = static_cast<double>(s[b + i]) - smax - log_z;
      const double p = std::exp(log_p);
      if (qi != 0.0) value -= qi * log_p;
      g[i] = mass * p - qi;
      h[i] = mass * p * (1.0 - p);
    }
    return value;
  });
}

/// LambdaRank with NDCG weights (LambdaMART) of each query. With r_i the
/// 0-based place of item i when the query is sorted by decreasing score (ties
/// by position in the input), G_i = 2^rel_i - 1 and D(r) = 1 / log2(2 + r):
///   w_ij = |G_i - G_j| * |D(r_i) - D(r_j)| / IDCG@k,
///   loss_q = sum_{rel_i > rel_j, min(r_i, r_j) < k} w_ij log(1 + exp(-(s_i - s_j))),
/// with the w_ij held fixed in the derivatives (LightGBM's and XGBoost's
/// lambdas and Hessians, without their normalisations). IDCG@k is the DCG of
/// the k best items by relevance; k = ndcg_at, or the query's size when
/// ndcg_at <= 0. A query whose IDCG is 0 (no relevant item) has loss 0, and
/// a NaN score or relevance makes its loss and derivatives NaN.
template <class T>
void lambdarank_ndcg(const T* rel, const T* s, const index_t* offsets, index_t Q,
                     index_t ndcg_at, const RankOutputs<T>& out) {
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    const index_t k = ndcg_at > 0 ? std::min(ndcg_at, n) : n;
    std::vector<index_t> order(static_cast<std::size_t>(n));
    std::vector<double> gain(static_cast<std::size_t>(n)), ideal(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
      gain[i] = std::exp2(static_cast<double>(rel[b + i])) - 1.0;
      ideal[i] = gain[i];
    }
    std::sort(ideal.begin(), ideal.end(), [](double x, double y) { return x > y; });
    double idcg = 0.0;
    for (index_t r = 0; r < k; ++r) idcg += ideal[r] / std::log2(2.0 + static_cast<double>(r));
    if (!(idcg > 0.0)) return 0.0;
    std::iota(order.begin(), order.end(), index_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](index_t x, index_t y) { return s[b + x] > s[b + y]; });
    double value = 0.0;
    for (index_t a = 0; a < k; ++a) {
      const index_t i = order[a];
      const double da = 1.0 / std::log2(2.0 + static_cast<double>(a));
      for (index_t c = a + 1; c < n; ++c) {
        const index_t j = order[c];
        const double ri = static_cast<double>(rel[b + i]), rj = static_cast<double>(rel[b + j]);
        if (ri == rj) continue;
        const double dc = 1.0 / std::log2(2.0 + static_cast<double>(c));
        const double w = std::fabs(gain[i] - gain[j]) * (da - dc) / idcg;
        const double si = static_cast<double>(s[b + i]), sj = static_cast<double>(s[b + j]);
        if (ri > rj) {
          value += detail::logistic_pair(si, sj, w, g + i, g + j, h + i, h + j);
        } else {
          value += detail::logistic_pair(sj, si, w, g + j, g + i, h + j, h + i);
        }
      }
    }
    return value;
  });
}

}  // namespace ranking

}  // namespace fastloss

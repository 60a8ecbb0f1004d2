// Kernels of the learning-to-rank losses over query groups: a batch of N
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
//   surrogate: the LambdaMART lambdas;
// * LambdaRank-MAP (XGBoost's rank:map): the same with |delta AP_ij|, the
//   change of the query's average precision when i and j swap places;
// * QueryRMSE (CatBoost): half the squared error of s - t after each query's
//   mean offset;
// * GroupQuantile (CatBoost): the pinball loss of the residuals after each
//   query's mean residual;
// * QueryCrossEntropy (CatBoost): the log loss mixed with the log loss after
//   each query's shift that matches its mean probability to its mean target;
// * YetiRank (CatBoost): the pairwise logistic loss of the neighbours of
//   noisy rankings of each query, weighed by their relevance gap and place;
// * StochasticFilter (CatBoost): minus the expected FilterDCG of the items
//   each kept with probability sigmoid(sigma s), its score-function gradient;
// * StochasticRank (CatBoost): minus the expected DCG or NDCG of the ranking
//   by Gaussian-noised scores, CatBoost's conditional-density gradient.
//
// (LightGBM's rank_xendcg is the softmax loss on random targets drawn by
// the Python layer.)
//
// Every query is computed by one thread, in float64, from its own items only,
// so the results are the same bits for every thread count; queries are
// grouped into tiles by their sizes alone (a fixed cost per tile). The pairs
// of a query are swept one row at a time (item a against every later item)
// by a branch-free loop over vmath's exp and log1p that the compiler
// vectorises, compiled per instruction set (FASTLOSS_DISPATCH); its sums run
// in a fixed order.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/isa.hpp"
#include "../detail/threads.hpp"
#include "../detail/vmath.hpp"

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

/// Per-thread float64 scratch of one query: its derivatives, and the pair
/// sweep's rows (reused across queries and calls).
struct QueryScratch {
  std::vector<double> g, h, rel, s, gain, acc, row_g, row_h, row_v, ranked_g, ranked_h, low;
  std::vector<index_t> order;
};

/// Runs per_query(begin, n, g, h, scratch) for every query, tiles of queries
/// in parallel; g and h (the query's size, zeroed) receive the unscaled
/// derivatives, which this writes out times the query's coefficient.
template <class T, class PerQuery>
void over_queries(const index_t* offsets, index_t Q, const RankOutputs<T>& out,
                  const PerQuery& per_query) {
  if (Q <= 0) return;
  const std::vector<index_t> starts = query_tiles(offsets, Q);
  const index_t tiles = static_cast<index_t>(starts.size()) - 1;
  const bool derivatives = out.grad || out.hess;
  fastloss::detail::parallel_tiles(tiles, fastloss::detail::threads_for(tiles), [&](index_t t) {
    static thread_local QueryScratch scratch;
    for (index_t q = starts[t]; q < starts[t + 1]; ++q) {
      const index_t begin = offsets[q], n = offsets[q + 1] - begin;
      scratch.g.assign(static_cast<std::size_t>(n), 0.0);
      scratch.h.assign(static_cast<std::size_t>(n), 0.0);
      double* g = scratch.g.data();
      double* h = scratch.h.data();
      const double value = per_query(begin, n, g, h, scratch);
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

/// Sum of x[0..n) in a fixed order (four running sums, then their sum).
inline double ordered_sum(const double* x, index_t n) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  index_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += x[i];
    a1 += x[i + 1];
    a2 += x[i + 2];
    a3 += x[i + 3];
  }
  for (; i < n; ++i) a0 += x[i];
  return (a0 + a1) + (a2 + a3);
}

/// How pair_sweep weighs a pair: 1 (RankNet), |delta NDCG| or |delta AP|.
enum PairWeight { kPlain = 0, kNdcg = 1, kMap = 2 };

/// The per-pair inputs of a weighting, in working (ranked) order: for
/// kNdcg x = gain, y = discount of the place, scale = 1 / IDCG@k; for kMap
/// x = the number of relevant items in places 0..r, y = sum over places
/// 0..r of rel / (place + 1), scale = 1 / (number of relevant items).
struct PairInputs {
  const double* x = nullptr;
  const double* y = nullptr;
  double scale = 0.0;
  /// XGBoost's score normalisation: each weight divided by |s_i - s_j| + 0.01.
  bool by_difference = false;
};

/// The logistic loss of every pair (a, c), a < c, a < k, of one query's
/// items in working order (rel, s), each pair of different relevances
/// weighed by w_ac: 1 (kPlain); |gain_a - gain_c| * (disc_a - disc_c) *
/// inv_idcg (kNdcg); |delta AP_ac|, the change of the query's average
/// precision when the items in places a and c swap (kMap, binary relevance).
/// The higher-relevance item of a pair is "hi": loss w log(1 + exp(-(s_hi -
/// s_lo))), gradient -w p for hi and +w p for lo with p = sigmoid(-(s_hi -
/// s_lo)), Hessian w p (1 - p) for both. Adds into g and h (working order);
/// returns the sum of the pair losses when kValue. Each row of pairs is one
/// branch-free loop (vmath's exp and log1p), so it vectorises; its sums run
/// in a fixed order. With in.by_difference each weight is divided by
/// |s_hi - s_lo| + 0.01 (XGBoost's lambdarank_score_normalization). Adds the
/// sum over the pairs of w p into *lambda_sum when it is not null.
template <int kWeight, bool kValue>
FASTLOSS_DISPATCH double pair_sweep(const double* rel, const double* s, PairInputs in, index_t n,
                                    index_t k, double* g, double* h, double* row_g,
                                    double* row_h, double* row_v, double* lambda_sum) {
  double value = 0.0;
  const bool by_difference = in.by_difference;
  const double* x = in.x;
  const double* y = in.y;
  const double scale = in.scale;
  for (index_t a = 0; a < k && a < n; ++a) {
    const double ra = rel[a], sa = s[a];
    const double xa = kWeight != kPlain ? x[a] : 0.0, ya = kWeight != kPlain ? y[a] : 0.0;
    const double inv_ra = 1.0 / static_cast<double>(a + 1);
    const index_t m = n - a - 1;
    const double* rc = rel + a + 1;
    const double* sc = s + a + 1;
    FASTLOSS_SIMD
    for (index_t j = 0; j < m; ++j) {
      const double sign = ra > rc[j] ? 1.0 : (ra < rc[j] ? -1.0 : 0.0);
      double w = sign * sign;
      if (kWeight == kNdcg) {
        w = std::fabs(xa - x[a + 1 + j]) * (ya - y[a + 1 + j]) * scale;
      } else if (kWeight == kMap) {
        // places a < c = a + 1 + j; n_a, n_c relevant items down to each, and
        // between them sum rel / (place + 1) = y[c - 1] - y[a]
        const double inv_rc = 1.0 / static_cast<double>(a + 2 + j);
        const double between = y[a + j] - ya;
        const double up = x[a + 1 + j] * inv_rc - (xa + 1.0) * inv_ra - between;  // c relevant
        const double down = xa * inv_ra - x[a + 1 + j] * inv_rc + between;        // a relevant
        w = sign * sign * std::fabs(sign > 0.0 ? down : up) * scale;
      }
      const double d = sign * (sa - sc[j]);  // s_hi - s_lo (0 for a tie, whose w is 0)
      if (kWeight != kPlain) w = by_difference ? w / (std::fabs(d) + 0.01) : w;
      const double e = vmath::exp_nonpositive(-std::fabs(d));
      const double inv = 1.0 / (1.0 + e);
      const double p = d >= 0.0 ? e * inv : inv;  // sigmoid(-d)
      const double wp = w * p;
      row_g[j] = sign * wp;  // hi = a: a's gradient -wp, c's +wp; hi = c: the reverse
      row_h[j] = wp * (1.0 - p);
      if (kValue) row_v[j] = w * ((d < 0.0 ? -d : 0.0) + vmath::log1p_unit(e, inv));
    }
    double* gc = g + a + 1;
    double* hc = h + a + 1;
    FASTLOSS_SIMD
    for (index_t j = 0; j < m; ++j) {
      gc[j] += row_g[j];
      hc[j] += row_h[j];
    }
    g[a] -= ordered_sum(row_g, m);
    h[a] += ordered_sum(row_h, m);
    if (kValue) value += ordered_sum(row_v, m);
    if (lambda_sum) {
      for (index_t j = 0; j < m; ++j) row_v[j] = std::fabs(row_g[j]);  // w p of each pair
      *lambda_sum += ordered_sum(row_v, m);
    }
  }
  return value;
}

/// One query's softmax loss (items as float64): returns the loss, writes
/// the unscaled gradient and Hessian diagonal (terms: scratch of n). Two
/// sweeps after the max and sums: e_i = exp(s_i - max) into h (one exp per
/// item), then the outputs; the sums run in a fixed order.
template <bool kNormalize>
FASTLOSS_DISPATCH double softmax_query(const double* rel, const double* s, index_t n, double* g,
                                       double* h, double* terms) {
  double smax = -HUGE_VAL;
  for (index_t i = 0; i < n; ++i) smax = std::max(smax, s[i]);
  const double total = ordered_sum(rel, n);
  const double scale = kNormalize ? (total == 0.0 ? 0.0 : 1.0 / total) : 1.0;
  if (scale == 0.0) return 0.0;
  FASTLOSS_SIMD
  for (index_t i = 0; i < n; ++i) h[i] = vmath::exp_nonpositive(s[i] - smax);
  const double z = ordered_sum(h, n);
  const double log_z = std::log(z), inv_z = 1.0 / z;
  const double mass = kNormalize ? total * scale : total;  // the sum of the targets
  FASTLOSS_SIMD
  for (index_t i = 0; i < n; ++i) {
    const double qi = rel[i] * scale;
    const double p = h[i] * inv_z;
    // the loss term -q_i log p_i, 0 where q_i is 0 (also where p_i underflows)
    terms[i] = qi != 0.0 ? -qi * (s[i] - smax - log_z) : 0.0;
    h[i] = mass * p * (1.0 - p);
    g[i] = mass * p - qi;
  }
  return ordered_sum(terms, n);
}

/// The query's items as float64 in working order (order null: input order).
template <class T>
void gather(const T* rel, const T* s, const index_t* order, index_t n, QueryScratch& w) {
  w.rel.resize(static_cast<std::size_t>(n));
  w.s.resize(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) {
    const index_t src = order ? order[i] : i;
    w.rel[i] = static_cast<double>(rel[src]);
    w.s[i] = static_cast<double>(s[src]);
  }
  const std::size_t rows = static_cast<std::size_t>(std::max<index_t>(n, 1));
  w.row_g.resize(rows);
  w.row_h.resize(rows);
  w.row_v.resize(rows);
}

/// The query's items as float64 sorted by decreasing score (stable: ties
/// keep the input order); w.order[r] is the input index of place r.
template <class T>
void rank_by_scores(const T* rel, const T* s, index_t n, QueryScratch& w) {
  w.order.resize(static_cast<std::size_t>(n));
  std::iota(w.order.begin(), w.order.end(), index_t(0));
  std::stable_sort(w.order.begin(), w.order.end(),
                   [s](index_t x, index_t y) { return s[x] > s[y]; });
  gather(rel, s, w.order.data(), n, w);
}

/// Runs a pair sweep over the ranked items (rank_by_scores first) and
/// writes its derivatives back in input order into g and h; returns the loss.
/// With normalize, XGBoost's default normalisations: each weight divided by
/// |s_i - s_j| + 0.01 (unless the query's scores are all equal), then the
/// loss and derivatives times log2(1 + S) / S, S = 2 sum over pairs of w p.
template <class Sweep>
double ranked_sweep(Sweep sweep, PairInputs in, bool normalize, index_t n, index_t k, double* g,
                    double* h, QueryScratch& w) {
  w.ranked_g.assign(static_cast<std::size_t>(n), 0.0);
  w.ranked_h.assign(static_cast<std::size_t>(n), 0.0);
  double* gr = w.ranked_g.data();
  double* hr = w.ranked_h.data();
  in.by_difference = normalize && n > 0 && w.s[0] != w.s[n - 1];
  double lambdas = 0.0;
  double v = sweep(w.rel.data(), w.s.data(), in, n, k, gr, hr, w.row_g.data(), w.row_h.data(),
                   w.row_v.data(), normalize ? &lambdas : nullptr);
  const double total = 2.0 * lambdas;
  const double norm = normalize && total > 0.0 ? std::log2(1.0 + total) / total : 1.0;
  for (index_t r = 0; r < n; ++r) {
    g[w.order[r]] = gr[r] * norm;
    h[w.order[r]] = hr[r] * norm;
  }
  return v * norm;
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
  const bool value = out.per_query != nullptr;
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    detail::gather(rel + b, s + b, nullptr, n, w);
    auto sweep = value ? detail::pair_sweep<detail::kPlain, true>
                       : detail::pair_sweep<detail::kPlain, false>;
    return sweep(w.rel.data(), w.s.data(), detail::PairInputs{}, n, n, g, h, w.row_g.data(),
                 w.row_h.data(), w.row_v.data(), nullptr);
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
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    detail::gather(rel + b, s + b, nullptr, n, w);
    auto query = normalize_labels ? detail::softmax_query<true> : detail::softmax_query<false>;
    return query(w.rel.data(), w.s.data(), n, g, h, w.row_v.data());
  });
}

/// LambdaRank with NDCG weights (LambdaMART) of each query. With r_i the
/// 0-based place of item i when the query is sorted by decreasing score (ties
/// by position in the input), G_i = 2^rel_i - 1 and D(r) = 1 / log2(2 + r):
///   w_ij = |G_i - G_j| * |D(r_i) - D(r_j)| / IDCG@k,
///   loss_q = sum_{rel_i > rel_j, min(r_i, r_j) < k} w_ij log(1 + exp(-(s_i - s_j))),
/// with the w_ij held fixed in the derivatives (LightGBM's and XGBoost's
/// lambdas and Hessians; normalize: with XGBoost's default normalisations,
/// see ranked_sweep). IDCG@k is the DCG of
/// the k best items by relevance; k = ndcg_at, or the query's size when
/// ndcg_at <= 0. A query whose IDCG is 0 (no relevant item) has loss 0, and
/// a NaN score or relevance makes its loss and derivatives NaN.
template <class T>
void lambdarank_ndcg(const T* rel, const T* s, const index_t* offsets, index_t Q,
                     index_t ndcg_at, bool normalize, const RankOutputs<T>& out) {
  const bool value = out.per_query != nullptr;
  // D(r) for every place of the longest query, once per call
  index_t longest = 0;
  for (index_t q = 0; q < Q; ++q) longest = std::max(longest, offsets[q + 1] - offsets[q]);
  std::vector<double> discount(static_cast<std::size_t>(longest));
  for (index_t r = 0; r < longest; ++r) discount[r] = 1.0 / std::log2(2.0 + static_cast<double>(r));
  const double* disc = discount.data();
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    const index_t k = ndcg_at > 0 ? std::min(ndcg_at, n) : n;
    // IDCG@k from the gains sorted down (w.gain as scratch first)
    w.gain.resize(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) w.gain[i] = std::exp2(static_cast<double>(rel[b + i])) - 1.0;
    std::sort(w.gain.begin(), w.gain.end(), [](double x, double y) { return x > y; });
    double idcg = 0.0;
    for (index_t r = 0; r < k; ++r) idcg += w.gain[r] * disc[r];
    if (!(idcg > 0.0)) return 0.0;
    detail::rank_by_scores(rel + b, s + b, n, w);
    for (index_t r = 0; r < n; ++r) w.gain[r] = std::exp2(w.rel[r]) - 1.0;
    auto sweep = value ? detail::pair_sweep<detail::kNdcg, true>
                       : detail::pair_sweep<detail::kNdcg, false>;
    return detail::ranked_sweep(sweep, detail::PairInputs{w.gain.data(), disc, 1.0 / idcg},
                                normalize, n, k, g, h, w);
  });
}

/// LambdaRank with average-precision weights (XGBoost's rank:map) of each
/// query, binary relevance (0 or 1). With the query sorted by decreasing
/// score (ties by position in the input) and AP = (1/R) sum over relevant
/// places r of (relevant items in places 0..r) / (r + 1), R the number of
/// relevant items:
///   w_ij = |AP after i and j swap places - AP|,
///   loss_q = sum_{rel_i > rel_j, min(r_i, r_j) < k} w_ij log(1 + exp(-(s_i - s_j))),
/// with the w_ij held fixed in the derivatives (XGBoost's lambdas; normalize:
/// with its default normalisations, see ranked_sweep). k = top_k, or the query's size when top_k <= 0. A
/// query with no relevant item has loss 0; a NaN makes its query NaN.
template <class T>
void lambdarank_map(const T* rel, const T* s, const index_t* offsets, index_t Q, index_t top_k,
                    bool normalize, const RankOutputs<T>& out) {
  const bool value = out.per_query != nullptr;
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    const index_t k = top_k > 0 ? std::min(top_k, n) : n;
    detail::rank_by_scores(rel + b, s + b, n, w);
    // relevant items down to each place, and the running sum of rel / (place + 1)
    w.gain.resize(static_cast<std::size_t>(n));
    w.acc.resize(static_cast<std::size_t>(n));
    double found = 0.0, acc = 0.0;
    for (index_t r = 0; r < n; ++r) {
      found += w.rel[r];
      acc += w.rel[r] / static_cast<double>(r + 1);
      w.gain[r] = found;
      w.acc[r] = acc;
    }
    if (!(found > 0.0)) return 0.0;
    auto sweep = value ? detail::pair_sweep<detail::kMap, true>
                       : detail::pair_sweep<detail::kMap, false>;
    return detail::ranked_sweep(sweep,
                                detail::PairInputs{w.gain.data(), w.acc.data(), 1.0 / found},
                                normalize, n, k, g, h, w);
  });
}

/// CatBoost's QueryRMSE of each query: the squared error after the query's
/// mean offset, with r_i = s_i - t_i and m_q = mean_{i in q} r_i:
///   loss_q = 1/2 sum_{i in q} (r_i - m_q)^2,   d/ds_i = r_i - m_q,
///   Hessian 1 (CatBoost's; the exact diagonal is 1 - 1/size).
/// The derivative through m_q vanishes (the centred residuals sum to 0).
template <class T>
void query_rmse(const T* target, const T* s, const index_t* offsets, index_t Q,
                const RankOutputs<T>& out) {
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(target + b, s + b, n, g, h)) return std::nan("");
    detail::gather(target + b, s + b, nullptr, n, w);
    double* r = w.row_g.data();
    double* sq = w.row_v.data();
    for (index_t i = 0; i < n; ++i) r[i] = w.s[i] - w.rel[i];
    const double mean = detail::ordered_sum(r, n) / static_cast<double>(n);
    for (index_t i = 0; i < n; ++i) {
      const double c = r[i] - mean;
      g[i] = c;
      h[i] = 1.0;
      sq[i] = c * c;
    }
    return 0.5 * detail::ordered_sum(sq, n);
  });
}

/// CatBoost's GroupQuantile of each query: the pinball loss of the residuals
/// r = t - s centred by the query's mean residual, u_i = r_i - mean_q(r),
///   loss_q = sum_i pin(u_i),  pin(u) = alpha u if u >= 0 else (alpha - 1) u,
///   d/ds_i = mean_q(psi(u)) - psi(u_i),  psi(u) = alpha if u >= 0 else alpha - 1
/// (the exact subgradient through the centring; at u = 0 the slope of the
/// u >= 0 side, as Pinball). The centred residuals sum to 0, so both are the
/// same for every alpha. No Hessian: h is 0 (the loss is piecewise linear).
template <class T>
void group_quantile(const T* target, const T* s, const index_t* offsets, index_t Q,
                    double alpha, const RankOutputs<T>& out) {
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(target + b, s + b, n, g, h)) return std::nan("");
    detail::gather(target + b, s + b, nullptr, n, w);
    double* r = w.row_g.data();
    double* slope = w.row_h.data();
    double* terms = w.row_v.data();
    for (index_t i = 0; i < n; ++i) r[i] = w.rel[i] - w.s[i];
    const double mean = detail::ordered_sum(r, n) / static_cast<double>(n);
    for (index_t i = 0; i < n; ++i) {
      const double u = r[i] - mean;
      const bool under = u >= 0.0;
      slope[i] = under ? alpha : alpha - 1.0;
      terms[i] = slope[i] * u;
    }
    const double mean_slope = detail::ordered_sum(slope, n) / static_cast<double>(n);
    for (index_t i = 0; i < n; ++i) g[i] = mean_slope - slope[i];
    return detail::ordered_sum(terms, n);
  });
}

/// CatBoost's QueryCrossEntropy of each query: with l(t, z) = log(1 + e^z) - t z
/// (the log loss of a logit z) and beta_q the shift that makes the query's
/// mean probability its mean target (sum_i sigmoid(a_i + beta_q) = sum_i t_i),
///   loss_q = (1 - alpha) sum_i l(t_i, a_i) + alpha sum_i l(t_i, a_i + beta_q),
///   d/da_i = (1 - alpha)(sigmoid(a_i) - t_i) + alpha (p_i - t_i),  p = sigmoid(a + beta),
///   d2/da_i2 = (1 - alpha) s'(a_i) + alpha d_i (1 - d_i / sum_j d_j),  d = p (1 - p)
/// (beta moves with a; its derivative drops out of the gradient). A query whose
/// targets are all 0 or all 1 has beta = -/+infinity: its shifted term and
/// derivatives are 0. beta is found by Newton steps kept inside a bracket.
template <class T>
void query_crossentropy(const T* target, const T* s, const index_t* offsets, index_t Q,
                        double alpha, const RankOutputs<T>& out) {
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(target + b, s + b, n, g, h)) return std::nan("");
    detail::gather(target + b, s + b, nullptr, n, w);
    const double* tq = w.rel.data();
    const double* a = w.s.data();
    double* terms = w.row_v.data();
    auto logloss = [](double tv, double z) {
      return (z > 0.0 ? z : 0.0) + std::log1p(std::exp(-std::fabs(z))) - tv * z;
    };
    for (index_t i = 0; i < n; ++i) {
      const double p = detail::sigmoid(a[i]);
      terms[i] = (1.0 - alpha) * logloss(tq[i], a[i]);
      g[i] = (1.0 - alpha) * (p - tq[i]);
      h[i] = (1.0 - alpha) * p * (1.0 - p);
    }
    double value = detail::ordered_sum(terms, n);
    const double total = detail::ordered_sum(tq, n);
    if (!(total > 0.0) || !(total < static_cast<double>(n))) return value;
    // the shift: sum_i sigmoid(a_i + beta) = total, inside [lo, hi]
    double amin = a[0], amax = a[0];
    for (index_t i = 1; i < n; ++i) {
      amin = std::min(amin, a[i]);
      amax = std::max(amax, a[i]);
    }
    const double mean = total / static_cast<double>(n);
    const double logit = std::log(mean) - std::log1p(-mean);
    double lo = logit - amax, hi = logit - amin, beta = 0.5 * (lo + hi);
    double* d = w.row_h.data();
    for (int it = 0; it < 200; ++it) {
      for (index_t i = 0; i < n; ++i) {
        const double p = detail::sigmoid(a[i] + beta);
        terms[i] = p;
        d[i] = p * (1.0 - p);
      }
      const double f = detail::ordered_sum(terms, n) - total;
      const double slope = detail::ordered_sum(d, n);
      if (f == 0.0) break;
      if (f > 0.0) hi = beta; else lo = beta;
      double next = slope > 0.0 ? beta - f / slope : 0.5 * (lo + hi);
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (next == beta || hi - lo <= 1e-15 * std::max(1.0, std::fabs(beta))) break;
      beta = next;
    }
    double dsum = 0.0;
    for (index_t i = 0; i < n; ++i) {
      const double z = a[i] + beta, p = detail::sigmoid(z);
      d[i] = p * (1.0 - p);
      terms[i] = alpha * logloss(tq[i], z);
      g[i] += alpha * (p - tq[i]);
    }
    dsum = detail::ordered_sum(d, n);
    for (index_t i = 0; i < n; ++i)
      h[i] += dsum > 0.0 ? alpha * d[i] * (1.0 - d[i] / dsum) : 0.0;
    return value + detail::ordered_sum(terms, n);
  });
}

/// How much of a YetiRank pair's relevance gap its weight takes (CatBoost's
/// constant, the same on CPU and GPU).
inline constexpr double kYetiRankPairScale = 0.15;

/// CatBoost's YetiRank (Gulin, Kuralenok and Pavlov, "Winning the
/// transfer learning track of Yahoo!'s learning to rank challenge with
/// YetiRank", 2011) of each query, from given noise: u holds
/// permutations rows of N uniforms in [0, 1) (row p, item i at
/// u[p * N + i]). Permutation p sorts the query's items by decreasing
/// s_i + log(u_pi / (1.000001 - u_pi)) (CatBoost's multiplicative noise on
/// exp(s), a logistic shift of the score; ties keep the input order), and
/// each two neighbours at places k - 1 and k (k >= 1) with different
/// relevances make a pair of weight 0.15 * decay^(k-1) * |rel_a - rel_b| / P.
/// With the weights held fixed,
///   loss_q = sum over the pairs of w log(1 + exp(-(s_hi - s_lo))),
/// its gradient and Hessian diagonal those of the pairwise logistic loss of
/// each pair. u null: no noise (CatBoost's noise=No), every ranking by the
/// scores. Cost: P sorts of the query.
template <class T>
void yetirank(const T* rel, const T* s, const index_t* offsets, index_t Q, const double* u,
              index_t permutations, double decay, const RankOutputs<T>& out) {
  const index_t N = offsets[Q];
  const double inv_p = 1.0 / static_cast<double>(permutations);
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    detail::gather(rel + b, s + b, nullptr, n, w);
    w.gain.resize(static_cast<std::size_t>(n));  // the noisy keys
    w.order.resize(static_cast<std::size_t>(n));
    double* key = w.gain.data();
    double* terms = w.row_v.data();
    double value = 0.0;
    for (index_t p = 0; p < permutations; ++p) {
      if (u) {
        const double* up = u + p * N + b;
        for (index_t i = 0; i < n; ++i)
          key[i] = w.s[i] + std::log(up[i] / (1.000001 - up[i]));
      } else {
        std::copy(w.s.begin(), w.s.end(), key);
      }
      std::iota(w.order.begin(), w.order.end(), index_t(0));
      std::stable_sort(w.order.begin(), w.order.end(),
                       [key](index_t x, index_t y) { return key[x] > key[y]; });
      double coef = kYetiRankPairScale * inv_p;
      for (index_t k = 1; k < n; ++k) {
        index_t hi = w.order[k - 1], lo = w.order[k];
        if (w.rel[hi] < w.rel[lo]) std::swap(hi, lo);
        const double wt = coef * (w.rel[hi] - w.rel[lo]);
        coef *= decay;
        terms[k - 1] = 0.0;
        if (!(wt > 0.0)) continue;
        const double d = w.s[hi] - w.s[lo];
        const double pr = detail::sigmoid(-d);
        g[hi] -= wt * pr;
        g[lo] += wt * pr;
        h[hi] += wt * pr * (1.0 - pr);
        h[lo] += wt * pr * (1.0 - pr);
        terms[k - 1] = wt * detail::softplus(-d);
      }
      value += n > 1 ? detail::ordered_sum(terms, n - 1) : 0.0;
    }
    return value;
  });
}

/// CatBoost's StochasticFilter of each query, from given noise: u holds
/// `estimations` rows of N uniforms in [0, 1) (row k, item i at u[k * N + i]).
/// Item i is kept in draw k when p_i = sigmoid(sigma s_i) >= u_ki (a
/// Bernoulli filter); the draw's FilterDCG is L_k = sum over the kept items,
/// in input order, of rel_i / (its 1-based place among the kept). With
/// K = estimations and b the FilterDCG of the items with s_i >= 0 (the
/// deterministic filter, a baseline that removes no bias):
///   loss_q = -(1 / K) sum_k L_k          (an estimate of -E[FilterDCG])
///   g_i = -(sigma / K) sum_k (L_k - b) (keep_ki - p_i)
/// g is the score-function (REINFORCE) estimate of the gradient of
/// -E[FilterDCG], unbiased; there is no Hessian. Cost: K passes of the query.
template <class T>
void stochastic_filter(const T* rel, const T* s, const index_t* offsets, index_t Q,
                       const double* u, index_t estimations, double sigma,
                       const RankOutputs<T>& out) {
  const index_t N = offsets[Q];
  const double inv_k = 1.0 / static_cast<double>(estimations);
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    detail::gather(rel + b, s + b, nullptr, n, w);
    w.gain.resize(static_cast<std::size_t>(n));  // the keep probabilities
    double* p = w.gain.data();
    double baseline = 0.0;
    index_t kept = 0;
    for (index_t i = 0; i < n; ++i) {
      p[i] = detail::sigmoid(sigma * w.s[i]);
      if (w.s[i] >= 0.0) baseline += w.rel[i] / static_cast<double>(++kept);
    }
    double value = 0.0;
    for (index_t k = 0; k < estimations; ++k) {
      const double* uk = u + k * N + b;
      double dcg = 0.0;
      kept = 0;
      for (index_t i = 0; i < n; ++i)
        if (p[i] >= uk[i]) dcg += w.rel[i] / static_cast<double>(++kept);
      value -= dcg;
      const double c = -sigma * (dcg - baseline) * inv_k;
      for (index_t i = 0; i < n; ++i) g[i] += c * ((p[i] >= uk[i] ? 1.0 : 0.0) - p[i]);
    }
    return value * inv_k;
  });
}

/// The parameters of StochasticRank (CatBoost's names in brackets).
struct StochasticRankParams {
  bool ndcg = true;           ///< NDCG (divided by the ideal DCG) or DCG [metric]
  index_t top = 0;            ///< places counted, <= 0 for all [top]
  bool exp_gain = false;      ///< gain 2^rel - 1 (else rel) [type=Exp|Base]
  bool log_discount = true;   ///< 1 / log2(2 + place) (else 1 / (1 + place)) [denominator]
  double sigma = 1.0;         ///< the noise's scale [sigma]
  double mu = 0.0;            ///< ties: scores shifted by -sigma mu rel [mu]
  double nu = 0.0;            ///< added to the scores' norm in the projection [nu]
  double lambda = 1.0;        ///< the projection's coefficient [lambda]
};

namespace detail {

/// Normal density of x with mean m and scale sd.
inline double normal_density(double x, double m, double sd) {
  const double z = (x - m) / sd;
  return 0.398942280401432677939946 * std::exp(-0.5 * z * z) / sd;
}

}  // namespace detail

/// CatBoost's StochasticRank of each query, with the caller's standard
/// normals z (estimations rows of N). The scores shifted by -sigma mu rel and
/// centred, a = s - sigma mu rel - mean, are ranked by a + sigma z_k (ties by
/// input position) in draw k; M_k is the (N)DCG of that ranking, with weight
/// w_p = 1 / discount(p) for places p < top (0 below), over the ideal DCG for
/// NDCG. loss_q = -(1/K) sum_k M_k. The gradient is minus CatBoost's
/// estimate of d E[M] / d s: per draw and item i at place p, the sum over
/// the places p' <= min(n - 1, top), p' != p, of the change of M_k when i
/// moves to p' times the difference of the normal densities (mean a_i + (Z -
/// sigma z_i) / (n - 1), Z = sum_j z_j; scale sigma sqrt(n / (n - 1))) at the
/// scores bounding p'; then its mean is removed and, for n > 2, its component
/// along the centred scores c = s - mean(s) taken lambda times away, over
/// (|c| + nu)^2. No Hessian (h stays 0). A query of one item has gradient 0.
template <class T>
void stochastic_rank(const T* rel, const T* s, const index_t* offsets, index_t Q,
                     const double* z, index_t estimations, const StochasticRankParams& prm,
                     const RankOutputs<T>& out) {
  const index_t N = offsets[Q];
  const double inv_k = 1.0 / static_cast<double>(estimations);
  detail::over_queries(offsets, Q, out, [&](index_t b, index_t n, double* g, double* h,
                                            detail::QueryScratch& w) {
    if (detail::nan_query(rel + b, s + b, n, g, h)) return std::nan("");
    detail::gather(rel + b, s + b, nullptr, n, w);
    const std::size_t un = static_cast<std::size_t>(n);
    const index_t top = prm.top > 0 && prm.top < n ? prm.top : n;
    // gains and place weights (over the ideal DCG for NDCG)
    w.gain.resize(un);
    w.acc.assign(un, 0.0);
    double* gain = w.gain.data();
    double* pw = w.acc.data();
    for (index_t i = 0; i < n; ++i) gain[i] = prm.exp_gain ? std::exp2(w.rel[i]) - 1.0 : w.rel[i];
    for (index_t p = 0; p < top; ++p)
      pw[p] = 1.0 / (prm.log_discount ? std::log2(2.0 + static_cast<double>(p))
                                      : 1.0 + static_cast<double>(p));
    if (prm.ndcg) {
      w.ranked_g.assign(gain, gain + n);
      std::stable_sort(w.ranked_g.begin(), w.ranked_g.end(),
                       [](double x, double y) { return x > y; });
      double ideal = 0.0;
      for (index_t p = 0; p < top; ++p) ideal += w.ranked_g[p] * pw[p];
      if (ideal > 2.220446049250313e-16)
        for (index_t p = 0; p < top; ++p) pw[p] /= ideal;
    }
    // the shifted, centred scores
    double* a = w.row_g.data();
    for (index_t i = 0; i < n; ++i) a[i] = w.s[i] - prm.sigma * prm.mu * w.rel[i];
    const double mean_a = detail::ordered_sum(a, n) / static_cast<double>(n);
    for (index_t i = 0; i < n; ++i) a[i] -= mean_a;
    double* x = w.row_h.data();
    w.order.resize(un);
    w.ranked_g.assign(un + 1, 0.0);
    w.ranked_h.assign(un + 1, 0.0);
    w.low.assign(un + 1, 0.0);
    double* cum = w.ranked_g.data();  // sum of gain * w over places < p
    double* up = w.ranked_h.data();   // the same with each item one place up
    double* low = w.low.data();       // the same with each item one place down
    index_t* order = w.order.data();
    const double sd = n > 1 ? prm.sigma * std::sqrt(static_cast<double>(n) /
                                                     (static_cast<double>(n) - 1.0))
                            : prm.sigma;
    const index_t last = std::min<index_t>(n - 1, top);  // the places an item can move to
    double value = 0.0;
    for (index_t k = 0; k < estimations; ++k) {
      const double* zk = z + k * N + b;
      for (index_t i = 0; i < n; ++i) x[i] = a[i] + prm.sigma * zk[i];
      std::iota(order, order + n, index_t{0});
      std::stable_sort(order, order + n, [x](index_t i, index_t j) { return x[i] > x[j]; });
      for (index_t p = 0; p < n; ++p) {
        const double gp = gain[order[p]];
        cum[p + 1] = cum[p] + gp * pw[p];
        low[p + 1] = p + 1 < n ? low[p] + gp * pw[p + 1] : low[p];
        up[p + 1] = p > 0 ? up[p] + gp * pw[p - 1] : 0.0;
      }
      value -= cum[n];
      if (n < 2) continue;
      const double noise_sum = detail::ordered_sum(zk, n);
      for (index_t p = 0; p < n; ++p) {
        const index_t i = order[p];
        const double m = a[i] + (noise_sum - (x[i] - a[i])) / (static_cast<double>(n) - 1.0);
        double sum = 0.0;
        for (index_t q = 0; q <= last; ++q) {
          if (q == p || std::min(p, q) >= top) continue;
          // the change of M when the item at place p moves to place q
          double diff = gain[i] * (pw[q] - pw[p]);
          diff += q < p ? (low[p] - low[q]) - (cum[p] - cum[q])
                        : (up[q + 1] - up[p + 1]) - (cum[q + 1] - cum[p + 1]);
          double dens;
          if (q == 0) {
            dens = detail::normal_density(x[order[0]], m, sd);
          } else if (q + 1 == std::min(n, top + 1)) {
            dens = -detail::normal_density(x[order[q < p ? top - 1 : std::min(top, n - 1)]], m,
                                           sd);
          } else if (q < p) {
            dens = detail::normal_density(x[order[q]], m, sd) -
                   detail::normal_density(x[order[q - 1]], m, sd);
          } else {
            dens = detail::normal_density(x[order[q + 1]], m, sd) -
                   detail::normal_density(x[order[q]], m, sd);
          }
          sum += diff * dens;
        }
        g[i] += sum * inv_k;  // d E[M] / d s_i, negated below
      }
    }
    if (n >= 2) {
      const double mean_g = detail::ordered_sum(g, n) / static_cast<double>(n);
      for (index_t i = 0; i < n; ++i) g[i] -= mean_g;
    }
    if (n > 2) {
      double* c = w.row_v.data();
      const double mean_s = detail::ordered_sum(w.s.data(), n) / static_cast<double>(n);
      double norm2 = 0.0, dot = 0.0;
      for (index_t i = 0; i < n; ++i) {
        c[i] = w.s[i] - mean_s;
        norm2 += c[i] * c[i];
        dot += g[i] * c[i];
      }
      const double root = std::sqrt(norm2) + prm.nu;
      const double coef = prm.lambda * dot / (root * root);
      for (index_t i = 0; i < n; ++i) g[i] -= coef * c[i];
    }
    for (index_t i = 0; i < n; ++i) g[i] = -g[i];
    return value * inv_k;
  });
}

}  // namespace ranking

}  // namespace fastloss

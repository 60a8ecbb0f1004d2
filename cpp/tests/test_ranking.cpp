// The ranking kernels (losses/ranking.hpp) against their definitions written
// as plain loops over every pair / item of each query: the per-query losses,
// the gradient against central differences of the reference loss and the
// Hessian diagonal against central differences of the kernel's gradient (for
// LambdaRank with the |delta NDCG| weights of the unperturbed ranking, the
// surrogate's definition); float32 against float64; the same bits for 1 and
// 2 threads over many tiles of queries; NaN propagation and empty calls.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;

/// Queries of sizes 1..7 (and one of 40), scores in [-2, 2], relevance 0..3
/// with ties; scores are distinct (a ranking without ties).
struct Batch {
  std::vector<double> rel, s;
  std::vector<index_t> offsets{0};
};

Batch make_batch(std::uint64_t seed, int queries, double levels = 4.0) {
  Rng rng(seed);
  Batch b;
  for (int q = 0; q < queries; ++q) {
    const index_t n = q == 3 ? 40 : 1 + static_cast<index_t>(rng.uniform(0.0, 7.0));
    for (index_t i = 0; i < n; ++i) {
      b.rel.push_back(std::floor(rng.uniform(0.0, levels)));
      b.s.push_back(rng.uniform(-2.0, 2.0) + 1e-7 * static_cast<double>(b.s.size()));
    }
    b.offsets.push_back(static_cast<index_t>(b.s.size()));
  }
  return b;
}

double ref_softplus(double x) { return std::log(1.0 + std::exp(x)); }

/// 0-based place of each item when the query is sorted by decreasing score.
std::vector<index_t> places(const std::vector<double>& s, index_t b, index_t n) {
  std::vector<index_t> r(static_cast<std::size_t>(n), 0);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j)
      if (s[b + j] > s[b + i] || (s[b + j] == s[b + i] && j < i)) ++r[i];
  return r;
}

/// The |delta NDCG@k| weight of every pair (i, j) of query [b, b + n), from
/// the ranking by `s`; 0 for pairs outside the first k places.
std::vector<double> ndcg_weights(const std::vector<double>& rel, const std::vector<double>& s,
                                 index_t b, index_t n, index_t k) {
  if (k <= 0) k = n;  // no truncation
  const auto r = places(s, b, n);
  std::vector<double> ideal;
  for (index_t i = 0; i < n; ++i) ideal.push_back(std::pow(2.0, rel[b + i]) - 1.0);
  std::sort(ideal.begin(), ideal.end(), [](double x, double y) { return x > y; });
  double idcg = 0.0;
  for (index_t p = 0; p < std::min(k, n); ++p) idcg += ideal[p] / std::log2(2.0 + double(p));
  std::vector<double> w(static_cast<std::size_t>(n * n), 0.0);
  if (idcg <= 0) return w;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      if (std::min(r[i], r[j]) >= k) continue;
      const double gi = std::pow(2.0, rel[b + i]) - 1.0, gj = std::pow(2.0, rel[b + j]) - 1.0;
      const double di = 1.0 / std::log2(2.0 + double(r[i])), dj = 1.0 / std::log2(2.0 + double(r[j]));
      w[i * n + j] = std::fabs(gi - gj) * std::fabs(di - dj) / idcg;
    }
  return w;
}

/// Average precision of binary relevances listed in ranked order.
double average_precision(const std::vector<double>& ranked) {
  double found = 0.0, sum = 0.0;
  for (std::size_t r = 0; r < ranked.size(); ++r) {
    if (ranked[r] > 0) {
      found += 1.0;
      sum += found / double(r + 1);
    }
  }
  return found > 0 ? sum / found : 0.0;
}

/// |delta AP| of every pair (i, j) of query [b, b + n) by swapping their
/// places in the ranking by `s` and recomputing AP; 0 outside the first k.
std::vector<double> map_weights(const std::vector<double>& rel, const std::vector<double>& s,
                                index_t b, index_t n, index_t k) {
  if (k <= 0) k = n;
  const auto r = places(s, b, n);
  std::vector<double> ranked(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) ranked[r[i]] = rel[b + i];
  const double ap = average_precision(ranked);
  std::vector<double> w(static_cast<std::size_t>(n * n), 0.0);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      if (std::min(r[i], r[j]) >= k) continue;
      auto swapped = ranked;
      std::swap(swapped[r[i]], swapped[r[j]]);
      w[i * n + j] = std::fabs(average_precision(swapped) - ap);
    }
  return w;
}

/// Reference loss of each query: kind 0 pairwise, 1 softmax (normalised
/// labels), 2 LambdaRank-NDCG and 3 LambdaRank-MAP with the weights of the
/// ranking by `rank_by`, 4 QueryRMSE (rel is the target).
std::vector<double> reference(int kind, const Batch& b, const std::vector<double>& s,
                              const std::vector<double>& rank_by, index_t k) {
  std::vector<double> loss;
  for (std::size_t q = 0; q + 1 < b.offsets.size(); ++q) {
    const index_t begin = b.offsets[q], n = b.offsets[q + 1] - begin;
    double v = 0.0;
    if (kind == 4) {
      double mean = 0.0;
      for (index_t i = 0; i < n; ++i) mean += (s[begin + i] - b.rel[begin + i]) / double(n);
      for (index_t i = 0; i < n; ++i) {
        const double c = s[begin + i] - b.rel[begin + i] - mean;
        v += 0.5 * c * c;
      }
    } else if (kind == 1) {
      double z = 0.0, total = 0.0;
      for (index_t i = 0; i < n; ++i) {
        z += std::exp(s[begin + i]);
        total += b.rel[begin + i];
      }
      if (total > 0)
        for (index_t i = 0; i < n; ++i) v -= b.rel[begin + i] / total * (s[begin + i] - std::log(z));
    } else {
      const auto w = kind == 2   ? ndcg_weights(b.rel, rank_by, begin, n, k)
                     : kind == 3 ? map_weights(b.rel, rank_by, begin, n, k)
                                 : std::vector<double>(static_cast<std::size_t>(n * n), 1.0);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j)
          if (b.rel[begin + i] > b.rel[begin + j])
            v += w[i * n + j] * ref_softplus(-(s[begin + i] - s[begin + j]));
    }
    loss.push_back(v);
  }
  return loss;
}

template <class T>
void run(int kind, const std::vector<T>& rel, const std::vector<T>& s,
         const std::vector<index_t>& offsets, index_t k, std::vector<double>& loss,
         std::vector<T>& grad, std::vector<T>& hess, const double* coef = nullptr) {
  const index_t Q = static_cast<index_t>(offsets.size()) - 1;
  loss.assign(static_cast<std::size_t>(Q), -1.0);
  grad.assign(s.size(), T(-1));
  hess.assign(s.size(), T(-1));
  ranking::RankOutputs<T> out;
  out.per_query = loss.data();
  out.grad = grad.data();
  out.hess = hess.data();
  out.coef = coef;
  if (kind == 0) ranking::pairwise_logistic(rel.data(), s.data(), offsets.data(), Q, out);
  if (kind == 1) ranking::softmax_listwise(rel.data(), s.data(), offsets.data(), Q, true, out);
  if (kind == 2) ranking::lambdarank_ndcg(rel.data(), s.data(), offsets.data(), Q, k, false, out);
  if (kind == 3) ranking::lambdarank_map(rel.data(), s.data(), offsets.data(), Q, k, false, out);
  if (kind == 4) ranking::query_rmse(rel.data(), s.data(), offsets.data(), Q, out);
}

double total(const std::vector<double>& v) {
  double t = 0.0;
  for (double x : v) t += x;
  return t;
}

void check_kind(Harness& h, int kind, index_t k, const std::string& name) {
  const Batch b = make_batch(7 + static_cast<std::uint64_t>(kind), 12, kind == 3 ? 2.0 : 4.0);
  std::vector<double> loss, grad, hess;
  run(kind, b.rel, b.s, b.offsets, k, loss, grad, hess);
  const auto ref = reference(kind, b, b.s, b.s, k);
  for (std::size_t q = 0; q < ref.size(); ++q)
    h.check(close(loss[q], ref[q], 1e-12, 1e-14), name + " loss of query " + std::to_string(q));
  const double step = 1e-6;
  for (std::size_t i = 0; i < b.s.size(); ++i) {
    auto sp = b.s, sm = b.s;
    sp[i] += step;
    sm[i] -= step;
    // the weights stay those of the unperturbed ranking (the surrogate)
    const double fd = (total(reference(kind, b, sp, b.s, k)) -
                       total(reference(kind, b, sm, b.s, k))) / (2 * step);
    h.check(close(grad[i], fd, 1e-6, 1e-8), name + " grad " + std::to_string(i));
    std::vector<double> l2, gp, gm, h2;
    run(kind, b.rel, sp, b.offsets, k, l2, gp, h2);
    run(kind, b.rel, sm, b.offsets, k, l2, gm, h2);
    // a step this small does not change the ranking (scores are >= 1e-7 apart)
    const double fd2 = (gp[i] - gm[i]) / (2 * step);
    if (kind == 4) {  // CatBoost's Hessian 1; the exact diagonal is 1 - 1/size
      index_t q = 0;
      while (b.offsets[q + 1] <= static_cast<index_t>(i)) ++q;
      const double size = double(b.offsets[q + 1] - b.offsets[q]);
      h.check(hess[i] == 1.0 && close(fd2, 1.0 - 1.0 / size, 1e-6, 1e-8),
              name + " hess " + std::to_string(i));
    } else {
      h.check(close(hess[i], fd2, 1e-6, 1e-8), name + " hess " + std::to_string(i));
    }
  }
  // the coefficient of each query scales its derivatives
  std::vector<double> coef(b.offsets.size() - 1);
  for (std::size_t q = 0; q < coef.size(); ++q) coef[q] = 0.5 + double(q);
  std::vector<double> l3, g3, h3;
  run(kind, b.rel, b.s, b.offsets, k, l3, g3, h3, coef.data());
  for (std::size_t q = 0; q < coef.size(); ++q)
    for (index_t i = b.offsets[q]; i < b.offsets[q + 1]; ++i)
      h.check(g3[i] == coef[q] * grad[i] && h3[i] == coef[q] * hess[i],
              name + " coef scales item " + std::to_string(i));
  // float32 inputs, float64 sums
  std::vector<float> rf(b.rel.begin(), b.rel.end()), sf(b.s.begin(), b.s.end());
  std::vector<double> lf;
  std::vector<float> gf, hf;
  run(kind, rf, sf, b.offsets, k, lf, gf, hf);
  for (std::size_t q = 0; q < loss.size(); ++q)
    h.check(close(lf[q], loss[q], 1e-5, 1e-6), name + " float32 loss " + std::to_string(q));
  for (std::size_t i = 0; i < grad.size(); ++i)
    h.check(close(gf[i], grad[i], 1e-4, 1e-6), name + " float32 grad " + std::to_string(i));
  // a NaN score makes its query NaN and leaves the others alone
  auto sn = b.s;
  sn[static_cast<std::size_t>(b.offsets[2])] = std::nan("");
  run(kind, b.rel, sn, b.offsets, k, l3, g3, h3);
  h.check(std::isnan(l3[2]) && std::isnan(g3[b.offsets[2]]) && std::isnan(h3[b.offsets[3] - 1]),
          name + " NaN propagates in its query");
  h.check(l3[1] == loss[1] && l3[4] == loss[4], name + " NaN stays in its query");
}

void pairwise(Harness& h) { check_kind(h, 0, 0, "pairwise"); }
void softmax(Harness& h) {
  check_kind(h, 1, 0, "softmax");
  // unnormalised labels: the gradient is sum(rel) * p - rel
  const std::vector<double> rel{2, 0, 1}, s{0.5, -1, 0.25};
  const std::vector<index_t> off{0, 3};
  std::vector<double> loss(1), grad(3), hess(3);
  ranking::RankOutputs<double> out;
  out.per_query = loss.data();
  out.grad = grad.data();
  out.hess = hess.data();
  ranking::softmax_listwise(rel.data(), s.data(), off.data(), 1, false, out);
  const double z = std::exp(0.5) + std::exp(-1.0) + std::exp(0.25);
  h.check(close(loss[0], -(2 * (0.5 - std::log(z)) + (0.25 - std::log(z))), 1e-14),
          "softmax unnormalised loss");
  h.check(close(grad[1], 3 * std::exp(-1.0) / z, 1e-14), "softmax unnormalised grad");
  // relevances summing to 0: loss and derivatives 0
  const std::vector<double> zero{0, 0, 0};
  ranking::softmax_listwise(zero.data(), s.data(), off.data(), 1, true, out);
  h.check(loss[0] == 0 && grad[0] == 0 && hess[2] == 0, "softmax all-zero relevance");
}
void lambdarank(Harness& h) {
  check_kind(h, 2, 0, "lambdarank");
  check_kind(h, 2, 3, "lambdarank@3");
}

void lambdarank_map(Harness& h) {
  check_kind(h, 3, 0, "lambdarank_map");
  check_kind(h, 3, 3, "lambdarank_map@3");
  // by hand: ranked relevances 0, 1 (AP 1/2); swapping gives AP 1, w = 1/2
  const std::vector<double> rel{0, 1}, s{1.0, -1.0};
  const std::vector<index_t> off{0, 2};
  std::vector<double> loss(1), grad(2), hess(2);
  ranking::RankOutputs<double> out;
  out.per_query = loss.data();
  out.grad = grad.data();
  out.hess = hess.data();
  ranking::lambdarank_map(rel.data(), s.data(), off.data(), 1, 0, false, out);
  const double p = 1.0 / (1.0 + std::exp(-2.0));  // sigmoid(s_0 - s_1)
  h.check(close(loss[0], 0.5 * std::log(1.0 + std::exp(2.0)), 1e-14), "map by hand: loss");
  h.check(close(grad[1], -0.5 * p, 1e-14) && close(grad[0], 0.5 * p, 1e-14), "map by hand: grad");
  // XGBoost's normalisations: w / (|s_0 - s_1| + 0.01), then times
  // log2(1 + S) / S with S = 2 w p
  ranking::lambdarank_map(rel.data(), s.data(), off.data(), 1, 0, true, out);
  const double wn = 0.5 / (2.0 + 0.01), total = 2.0 * wn * p;
  const double norm = std::log2(1.0 + total) / total;
  h.check(close(grad[1], -wn * p * norm, 1e-14) && close(grad[0], wn * p * norm, 1e-14),
          "map normalised: grad");
  h.check(close(hess[0], wn * p * (1 - p) * norm, 1e-14), "map normalised: hess");
  h.check(close(loss[0], norm * wn * std::log(1.0 + std::exp(2.0)), 1e-14),
          "map normalised: loss");
  // no relevant item: loss and derivatives 0
  const std::vector<double> zero{0, 0};
  ranking::lambdarank_map(zero.data(), s.data(), off.data(), 1, 0, false, out);
  h.check(loss[0] == 0 && grad[0] == 0 && hess[1] == 0, "map without a relevant item");
}
void query_rmse(Harness& h) { check_kind(h, 4, 0, "query_rmse"); }

/// GroupQuantile of each query by its definition: the pinball loss of the
/// residuals t - s after the query's mean residual.
std::vector<double> gq_reference(const Batch& b, const std::vector<double>& s, double alpha) {
  std::vector<double> loss;
  for (std::size_t q = 0; q + 1 < b.offsets.size(); ++q) {
    const index_t begin = b.offsets[q], n = b.offsets[q + 1] - begin;
    double mean = 0.0, v = 0.0;
    for (index_t i = 0; i < n; ++i) mean += (b.rel[begin + i] - s[begin + i]) / double(n);
    for (index_t i = 0; i < n; ++i) {
      const double u = b.rel[begin + i] - s[begin + i] - mean;
      v += u >= 0 ? alpha * u : (alpha - 1.0) * u;
    }
    loss.push_back(v);
  }
  return loss;
}

void group_quantile(Harness& h) {
  const Batch b = make_batch(41, 12);
  const index_t Q = static_cast<index_t>(b.offsets.size()) - 1;
  for (double alpha : {0.5, 0.2, 0.9}) {
    const std::string name = "group_quantile(" + std::to_string(alpha) + ")";
    std::vector<double> loss(static_cast<std::size_t>(Q)), grad(b.s.size()), hess(b.s.size(), -1);
    ranking::RankOutputs<double> out;
    out.per_query = loss.data();
    out.grad = grad.data();
    out.hess = hess.data();
    ranking::group_quantile(b.rel.data(), b.s.data(), b.offsets.data(), Q, alpha, out);
    const auto ref = gq_reference(b, b.s, alpha);
    for (index_t q = 0; q < Q; ++q)
      h.check(close(loss[q], ref[q], 1e-12, 1e-14), name + " loss of query " + std::to_string(q));
    // piecewise linear: central differences away from the kinks are the slope
    const double step = 1e-7;
    for (std::size_t i = 0; i < b.s.size(); ++i) {
      auto sp = b.s, sm = b.s;
      sp[i] += step;
      sm[i] -= step;
      const double fd = (total(gq_reference(b, sp, alpha)) - total(gq_reference(b, sm, alpha))) /
                        (2 * step);
      h.check(close(grad[i], fd, 1e-6, 1e-8), name + " grad " + std::to_string(i));
      h.check(hess[i] == 0.0, name + " no Hessian: 0");
    }
  }
  // by hand: t = (1, 2, 6), s = 0: u = (-2, -1, 3), loss 3 for every alpha,
  // gradient mean(psi) - psi = (1/3, 1/3, -2/3)
  const std::vector<double> t{1, 2, 6}, s0{0, 0, 0};
  const std::vector<index_t> off{0, 3};
  std::vector<double> loss(1), grad(3);
  ranking::RankOutputs<double> out;
  out.per_query = loss.data();
  out.grad = grad.data();
  for (double alpha : {0.1, 0.5, 0.75}) {
    ranking::group_quantile(t.data(), s0.data(), off.data(), 1, alpha, out);
    h.check(close(loss[0], 3.0, 1e-14), "group_quantile by hand: loss");
    h.check(close(grad[0], 1.0 / 3, 1e-14) && close(grad[1], 1.0 / 3, 1e-14) &&
                close(grad[2], -2.0 / 3, 1e-14),
            "group_quantile by hand: grad");
  }
  // a NaN target makes its query NaN only
  auto tn = b.rel;
  tn[static_cast<std::size_t>(b.offsets[2])] = std::nan("");
  std::vector<double> ln(static_cast<std::size_t>(Q)), gn(b.s.size());
  out.per_query = ln.data();
  out.grad = gn.data();
  ranking::group_quantile(tn.data(), b.s.data(), b.offsets.data(), Q, 0.5, out);
  const auto ref = gq_reference(b, b.s, 0.5);
  h.check(std::isnan(ln[2]) && std::isnan(gn[b.offsets[2]]) && close(ln[1], ref[1], 1e-12),
          "group_quantile NaN stays in its query");
  // many queries: the same bits for 1 and 2 threads
  const Batch big = make_batch(98, 30000);
  const index_t QB = static_cast<index_t>(big.offsets.size()) - 1;
  std::vector<double> l1(QB), g1(big.s.size()), l2(QB), g2(big.s.size());
  out.per_query = l1.data();
  out.grad = g1.data();
  set_num_threads(1);
  ranking::group_quantile(big.rel.data(), big.s.data(), big.offsets.data(), QB, 0.3, out);
  out.per_query = l2.data();
  out.grad = g2.data();
  set_num_threads(2);
  ranking::group_quantile(big.rel.data(), big.s.data(), big.offsets.data(), QB, 0.3, out);
  h.check(l1 == l2 && g1 == g2, "group_quantile bitwise for 1 and 2 threads");
}

void stochastic_rank(Harness& h) {
  const Batch b = make_batch(43, 12);
  const index_t Q = static_cast<index_t>(b.offsets.size()) - 1, N = b.offsets[Q];
  Rng rng(29);
  std::vector<double> z(static_cast<std::size_t>(3 * N));
  for (double& v : z) v = rng.uniform(-2.0, 2.0);  // any noise the caller gives
  for (bool ndcg : {true, false}) {
    ranking::StochasticRankParams prm;
    prm.ndcg = ndcg;
    prm.sigma = 0.7;
    prm.nu = 0.01;
    const std::string name = ndcg ? "stochastic_rank NDCG" : "stochastic_rank DCG";
    std::vector<double> loss(static_cast<std::size_t>(Q)), grad(b.s.size()), hess(b.s.size());
    ranking::RankOutputs<double> out;
    out.per_query = loss.data();
    out.grad = grad.data();
    out.hess = hess.data();
    ranking::stochastic_rank(b.rel.data(), b.s.data(), b.offsets.data(), Q, z.data(), 3, prm, out);
    for (index_t q = 0; q < Q; ++q) {
      const index_t begin = b.offsets[q], n = b.offsets[q + 1] - begin;
      // the value: minus the mean (N)DCG of the three noisy rankings
      std::vector<double> sorted(b.rel.begin() + begin, b.rel.begin() + begin + n);
      std::sort(sorted.rbegin(), sorted.rend());
      double ideal = 0.0;
      for (index_t p = 0; p < n; ++p) ideal += sorted[p] / std::log2(2.0 + double(p));
      double want = 0.0;
      for (int k = 0; k < 3; ++k) {
        std::vector<double> x(static_cast<std::size_t>(n));
        for (index_t i = 0; i < n; ++i) x[i] = b.s[begin + i] + 0.7 * z[k * N + begin + i];
        const auto r = places(x, 0, n);
        double dcg = 0.0;
        for (index_t i = 0; i < n; ++i) dcg += b.rel[begin + i] / std::log2(2.0 + double(r[i]));
        want -= (ndcg && ideal > 0 ? dcg / ideal : dcg) / 3.0;
      }
      h.check(close(loss[q], want, 1e-12, 1e-14), name + " loss of query " + std::to_string(q));
      // the gradient of a query sums to 0 (its mean removed); no Hessian
      double sum = 0.0, scale = 0.0;
      for (index_t i = 0; i < n; ++i) {
        sum += grad[begin + i];
        scale += std::fabs(grad[begin + i]);
        h.check(hess[begin + i] == 0.0, name + " no Hessian");
      }
      h.check(std::fabs(sum) <= 1e-12 * (1.0 + scale), name + " gradient sums to 0");
      if (n == 1) h.check(grad[begin] == 0.0, name + " one item: gradient 0");
    }
  }
  // many queries: the same bits for 1 and 2 threads
  const Batch big = make_batch(97, 20000);
  const index_t QB = static_cast<index_t>(big.offsets.size()) - 1, NB = big.offsets[QB];
  std::vector<double> zb(static_cast<std::size_t>(2 * NB));
  for (double& v : zb) v = rng.uniform(-2.0, 2.0);
  ranking::StochasticRankParams prm;
  prm.top = 3;
  std::vector<double> l1(QB), g1(big.s.size()), l2(QB), g2(big.s.size());
  ranking::RankOutputs<double> out;
  out.per_query = l1.data();
  out.grad = g1.data();
  set_num_threads(1);
  ranking::stochastic_rank(big.rel.data(), big.s.data(), big.offsets.data(), QB, zb.data(), 2,
                           prm, out);
  out.per_query = l2.data();
  out.grad = g2.data();
  set_num_threads(2);
  ranking::stochastic_rank(big.rel.data(), big.s.data(), big.offsets.data(), QB, zb.data(), 2,
                           prm, out);
  h.check(l1 == l2 && g1 == g2, "stochastic_rank bitwise for 1 and 2 threads");
}

/// QueryCrossEntropy of one query by its definition, the shift by bisection.
double qce_reference(const std::vector<double>& t, const std::vector<double>& a, double alpha) {
  auto ll = [](double tv, double z) { return std::log(1.0 + std::exp(z)) - tv * z; };
  double total = 0.0, v = 0.0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    total += t[i];
    v += (1.0 - alpha) * ll(t[i], a[i]);
  }
  if (total <= 0.0 || total >= double(t.size())) return v;
  double lo = -60.0, hi = 60.0;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    double f = -total;
    for (double x : a) f += 1.0 / (1.0 + std::exp(-(x + mid)));
    (f > 0 ? hi : lo) = mid;
  }
  for (std::size_t i = 0; i < t.size(); ++i) v += alpha * ll(t[i], a[i] + 0.5 * (lo + hi));
  return v;
}

void query_crossentropy(Harness& h) {
  Rng rng(5);
  std::vector<double> t, a;
  std::vector<index_t> off{0};
  for (int q = 0; q < 8; ++q) {
    const index_t n = 1 + static_cast<index_t>(rng.uniform(0.0, 6.0));
    for (index_t i = 0; i < n; ++i) {
      // query 0 all 0, query 1 all 1, query 2 fractional targets, the rest 0/1
      t.push_back(q == 0 ? 0.0 : q == 1 ? 1.0 : q == 2 ? rng.uniform(0.0, 1.0)
                                                      : std::floor(rng.uniform(0.0, 2.0)));
      a.push_back(rng.uniform(-3.0, 3.0));
    }
    off.push_back(static_cast<index_t>(a.size()));
  }
  const index_t Q = static_cast<index_t>(off.size()) - 1;
  const double alpha = 0.95;
  auto run_qce = [&](const std::vector<double>& x, std::vector<double>& loss,
                     std::vector<double>& grad, std::vector<double>& hess) {
    loss.assign(static_cast<std::size_t>(Q), 0.0);
    grad.assign(x.size(), 0.0);
    hess.assign(x.size(), 0.0);
    ranking::RankOutputs<double> out;
    out.per_query = loss.data();
    out.grad = grad.data();
    out.hess = hess.data();
    ranking::query_crossentropy(t.data(), x.data(), off.data(), Q, alpha, out);
  };
  std::vector<double> loss, grad, hess;
  run_qce(a, loss, grad, hess);
  for (index_t q = 0; q < Q; ++q) {
    const std::vector<double> tq(t.begin() + off[q], t.begin() + off[q + 1]);
    const std::vector<double> aq(a.begin() + off[q], a.begin() + off[q + 1]);
    h.check(close(loss[q], qce_reference(tq, aq, alpha), 1e-12, 1e-14),
            "qce loss of query " + std::to_string(q));
  }
  const double step = 1e-5;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto ap = a, am = a;
    ap[i] += step;
    am[i] -= step;
    std::vector<double> lp, gp, hp, lm, gm, hm;
    run_qce(ap, lp, gp, hp);
    run_qce(am, lm, gm, hm);
    h.check(close(grad[i], (total(lp) - total(lm)) / (2 * step), 1e-6, 1e-9),
            "qce grad " + std::to_string(i));
    h.check(close(hess[i], (gp[i] - gm[i]) / (2 * step), 1e-6, 1e-9),
            "qce hess " + std::to_string(i));
  }
  // the all-0 and all-1 queries: the shifted term is 0
  h.check(close(grad[0], (1 - alpha) * (1.0 / (1.0 + std::exp(-a[0]))), 1e-14),
          "qce all-0 query");
}

void threads(Harness& h) {
  // thousands of queries: many tiles, the same bits for 1 and 2 threads
  const Batch b = make_batch(99, 30000);
  for (int kind = 0; kind < 5; ++kind) {
    std::vector<double> l1, g1, h1, l2, g2, h2;
    set_num_threads(1);
    run(kind, b.rel, b.s, b.offsets, 5, l1, g1, h1);
    set_num_threads(2);
    run(kind, b.rel, b.s, b.offsets, 5, l2, g2, h2);
    h.check(l1 == l2 && g1 == g2 && h1 == h2, "kind " + std::to_string(kind) + " bitwise");
  }
  // no query writes nothing
  const std::vector<index_t> none{0};
  ranking::RankOutputs<double> out;
  ranking::pairwise_logistic<double>(nullptr, nullptr, none.data(), 0, out);
}


/// YetiRank of a batch from its uniforms (P rows of N), float64.
void run_yeti(const Batch& b, const std::vector<double>& u, index_t P, double decay,
              std::vector<double>& loss, std::vector<double>& grad, std::vector<double>& hess) {
  const index_t Q = static_cast<index_t>(b.offsets.size()) - 1;
  loss.assign(static_cast<std::size_t>(Q), 0.0);
  grad.assign(b.s.size(), 0.0);
  hess.assign(b.s.size(), 0.0);
  ranking::RankOutputs<double> out;
  out.per_query = loss.data();
  out.grad = grad.data();
  out.hess = hess.data();
  ranking::yetirank(b.rel.data(), b.s.data(), b.offsets.data(), Q, u.data(), P, decay, out);
}

void yetirank(Harness& h) {
  // two items: always neighbours at places 0 and 1, weight 0.15 |rel gap|
  // whatever the noise
  Batch two;
  two.rel = {0.0, 2.0};
  two.s = {0.5, -0.25};
  two.offsets = {0, 2};
  std::vector<double> loss, grad, hess;
  run_yeti(two, {0.1, 0.9, 0.7, 0.2}, 2, 0.85, loss, grad, hess);
  const double d = -0.75, w = 0.15 * 2.0, p = 1.0 / (1.0 + std::exp(d));
  h.check(close(loss[0], w * ref_softplus(-d), 1e-14), "yeti two-item loss");
  h.check(close(grad[1], -w * p, 1e-14) && close(grad[0], w * p, 1e-14), "yeti two-item grad");
  h.check(close(hess[0], w * p * (1 - p), 1e-14) && hess[1] == hess[0], "yeti two-item hess");
  // three items, one ranking by hand: uniforms 0.5 (no shift) keep the
  // scores' order 2, 0, 1; pairs (2, 0) at place 1 and (0, 1) at place 2
  Batch three;
  three.rel = {1.0, 0.0, 3.0};
  three.s = {0.2, -1.0, 0.9};
  three.offsets = {0, 3};
  run_yeti(three, {0.5, 0.5, 0.5}, 1, 0.5, loss, grad, hess);
  const double w20 = 0.15 * 2.0, w01 = 0.15 * 0.5 * 1.0;
  const double expect = w20 * ref_softplus(-(0.9 - 0.2)) + w01 * ref_softplus(-(0.2 + 1.0));
  h.check(close(loss[0], expect, 1e-13), "yeti three-item loss");
  // a large uniform on item 1 lifts it to the top: order 1, 2, 0
  run_yeti(three, {0.5, 1.0 - 1e-9, 0.5}, 1, 0.5, loss, grad, hess);
  const double lifted = 0.15 * 3.0 * ref_softplus(-(0.9 + 1.0)) +
                        0.15 * 0.5 * 2.0 * ref_softplus(-(0.9 - 0.2));
  h.check(close(loss[0], lifted, 1e-13), "yeti noisy ranking");
  // central differences with the noise held: the rankings do not move for
  // small steps, so the loss is smooth there
  const Batch b = make_batch(5, 12);
  const index_t P = 3, N = static_cast<index_t>(b.s.size());
  Rng rng(17);
  std::vector<double> u(static_cast<std::size_t>(P * N));
  for (double& x : u) x = rng.uniform(0.0, 1.0);
  run_yeti(b, u, P, 0.85, loss, grad, hess);
  const double step = 1e-6;
  for (index_t i = 0; i < N; ++i) {
    Batch bp = b, bm = b;
    bp.s[i] += step;
    bm.s[i] -= step;
    std::vector<double> lp, gp, hp, lm, gm, hm;
    run_yeti(bp, u, P, 0.85, lp, gp, hp);
    run_yeti(bm, u, P, 0.85, lm, gm, hm);
    double fp = 0, fm = 0;
    for (double x : lp) fp += x;
    for (double x : lm) fm += x;
    h.check(close(grad[i], (fp - fm) / (2 * step), 1e-6, 1e-9), "yeti grad " + std::to_string(i));
    h.check(close(hess[i], (gp[i] - gm[i]) / (2 * step), 1e-5, 1e-9),
            "yeti hess " + std::to_string(i));
  }
  // many queries: the same bits for 1 and 2 threads
  const Batch big = make_batch(99, 30000);
  const index_t NB = static_cast<index_t>(big.s.size());
  std::vector<double> ub(static_cast<std::size_t>(2 * NB));
  for (double& x : ub) x = rng.uniform(0.0, 1.0);
  std::vector<double> l1, g1, h1, l2, g2, h2;
  set_num_threads(1);
  run_yeti(big, ub, 2, 0.85, l1, g1, h1);
  set_num_threads(2);
  run_yeti(big, ub, 2, 0.85, l2, g2, h2);
  h.check(l1 == l2 && g1 == g2 && h1 == h2, "yeti bitwise for 1 and 2 threads");
}

/// StochasticFilter of a batch from its uniforms (K rows of N), float64.
void run_filter(const Batch& b, const std::vector<double>& u, index_t K, double sigma,
                std::vector<double>& loss, std::vector<double>& grad) {
  const index_t Q = static_cast<index_t>(b.offsets.size()) - 1;
  loss.assign(static_cast<std::size_t>(Q), 0.0);
  grad.assign(b.s.size(), 0.0);
  ranking::RankOutputs<double> out;
  out.per_query = loss.data();
  out.grad = grad.data();
  ranking::stochastic_filter(b.rel.data(), b.s.data(), b.offsets.data(), Q, u.data(), K, sigma,
                             out);
}

void stochastic_filter(Harness& h) {
  // three items, two draws by hand; sigma 2
  Batch three;
  three.rel = {3.0, 1.0, 2.0};
  three.s = {0.5, -0.25, 0.1};
  three.offsets = {0, 3};
  const double sg = 2.0;
  double p[3];
  for (int i = 0; i < 3; ++i) p[i] = 1.0 / (1.0 + std::exp(-sg * three.s[i]));
  // draw 0 keeps items 0 and 1; draw 1 keeps item 2 only
  const std::vector<double> u{0.0, p[1] * 0.5, 1.0 - 1e-12, 0.999999999, 0.999999999, 0.0};
  std::vector<double> loss, grad;
  run_filter(three, u, 2, sg, loss, grad);
  const double base = 3.0 / 1 + 2.0 / 2;  // items 0 and 2 have s >= 0
  const double l0 = 3.0 / 1 + 1.0 / 2, l1 = 2.0 / 1;
  h.check(close(loss[0], -(l0 + l1) / 2, 1e-14), "filter value by hand");
  const double keep[2][3] = {{1, 1, 0}, {0, 0, 1}}, dcg[2] = {l0, l1};
  for (int i = 0; i < 3; ++i) {
    double g = 0.0;
    for (int k = 0; k < 2; ++k) g += -sg * (dcg[k] - base) * (keep[k][i] - p[i]) / 2;
    h.check(close(grad[i], g, 1e-14, 1e-15), "filter grad by hand " + std::to_string(i));
  }
  // a one-item query kept or not: the baseline is its own DCG when kept
  Batch one;
  one.rel = {2.0};
  one.s = {0.3};
  one.offsets = {0, 1};
  run_filter(one, {0.0}, 1, 1.0, loss, grad);
  h.check(loss[0] == -2.0 && grad[0] == 0.0, "filter one item kept, on its baseline");
  // many queries: the same bits for 1 and 2 threads
  const Batch big = make_batch(99, 30000);
  const index_t NB = static_cast<index_t>(big.s.size());
  Rng rng(23);
  std::vector<double> ub(static_cast<std::size_t>(3 * NB));
  for (double& x : ub) x = rng.uniform(0.0, 1.0);
  std::vector<double> l1v, g1, l2v, g2;
  set_num_threads(1);
  run_filter(big, ub, 3, 1.5, l1v, g1);
  set_num_threads(2);
  run_filter(big, ub, 3, 1.5, l2v, g2);
  h.check(l1v == l2v && g1 == g2, "filter bitwise for 1 and 2 threads");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"pairwise", pairwise},
                     {"softmax", softmax},
                     {"lambdarank", lambdarank},
                     {"lambdarank_map", lambdarank_map},
                     {"query_rmse", query_rmse},
                     {"query_crossentropy", query_crossentropy},
                     {"group_quantile", group_quantile},
                     {"stochastic_rank", stochastic_rank},
                     {"threads", threads},
                     {"yetirank", yetirank},
                     {"stochastic_filter", stochastic_filter}});
}

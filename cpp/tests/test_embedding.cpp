// The pair, triplet and metric-learning kernels (losses/embedding.hpp):
// values against plain float64 loops written from the definitions (for the
// batch losses: the whole B x B matrix at once), gradients against central
// differences of the kernels' own values, batch sizes that are not a
// multiple of the tile, and bitwise equality across thread counts.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using fastloss::index_t;
namespace emb = fastloss::embedding;

std::vector<double> random_values(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::vector<double> v(n);
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = scale * (static_cast<double>(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
  return v;
}

/// Central difference of f at x[k].
template <class F>
double central(std::vector<double>& x, std::size_t k, double step, const F& f) {
  const double keep = x[k];
  x[k] = keep + step;
  const double up = f();
  x[k] = keep - step;
  const double down = f();
  x[k] = keep;
  return (up - down) / (2 * step);
}

double sum(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

void margin_ranking(Harness& h) {
  const index_t n = 40000;  // several tasks
  auto x1 = random_values(n, 1), x2 = random_values(n, 2);
  std::vector<double> y(n), loss(n), g1(n), g2(n);
  for (index_t i = 0; i < n; ++i) y[i] = i % 3 ? 1.0 : -1.0;
  emb::margin_ranking(y.data(), x1.data(), x2.data(), n, 0.1, loss.data(), g1.data(), g2.data(),
                      static_cast<const double*>(nullptr));
  for (index_t i = 0; i < n; ++i) {
    const double z = -y[i] * (x1[i] - x2[i]) + 0.1;
    h.check(loss[i] == std::max(z, 0.0), "margin ranking value " + std::to_string(i));
    h.check(g1[i] == (z >= 0 ? -y[i] : 0.0) && g2[i] == -g1[i], "margin ranking gradient");
  }
}

double cosine_reference(double y, const double* a, const double* b, index_t D, double margin) {
  double dot = 0, aa = 0, bb = 0;
  for (index_t d = 0; d < D; ++d) {
    dot += a[d] * b[d];
    aa += a[d] * a[d];
    bb += b[d] * b[d];
  }
  const double cos = dot / std::sqrt((aa + 1e-12) * (bb + 1e-12));
  return y > 0 ? 1 - cos : std::max(0.0, cos - margin);
}

void cosine_embedding(Harness& h) {
  const index_t rows = 5, D = 7;
  auto x1 = random_values(rows * D, 3), x2 = random_values(rows * D, 4);
  const std::vector<double> y = {1, -1, 1, -1, -1};
  const double margin = -0.5;  // every y = -1 row on the sloped side
  std::vector<double> per(rows), g1(x1.size()), g2(x1.size()), h1(x1.size()), h2(x1.size());
  emb::RowOutputs<double> out;
  out.per_row = per.data();
  out.grad[0] = g1.data();
  out.grad[1] = g2.data();
  out.hess[0] = h1.data();
  out.hess[1] = h2.data();
  emb::cosine_embedding(y.data(), x1.data(), x2.data(), rows, D, margin, out);
  for (index_t r = 0; r < rows; ++r) {
    auto value = [&] { return cosine_reference(y[r], &x1[r * D], &x2[r * D], D, margin); };
    h.check(close(per[r], value(), 1e-14), "cosine value row " + std::to_string(r));
    for (index_t d = 0; d < D; ++d) {
      const std::size_t k = static_cast<std::size_t>(r * D + d);
      h.check(close(g1[k], central(x1, k, 1e-6, value), 1e-7, 1e-9), "cosine grad x1");
      h.check(close(g2[k], central(x2, k, 1e-6, value), 1e-7, 1e-9), "cosine grad x2");
      auto grad1 = [&] {
        std::vector<double> g(x1.size()), none(rows);
        emb::RowOutputs<double> o;
        o.per_row = none.data();
        o.grad[0] = g.data();
        emb::cosine_embedding(y.data(), x1.data(), x2.data(), rows, D, margin, o);
        return g[k];
      };
      h.check(close(h1[k], central(x1, k, 1e-5, grad1), 1e-5, 1e-7), "cosine hessian x1");
    }
  }
}

void triplet_margin(Harness& h) {
  const index_t rows = 6, D = 5;
  auto a = random_values(rows * D, 5), p = random_values(rows * D, 6), n = random_values(rows * D, 7);
  for (double deg : {1.0, 2.0, 3.0})
    for (bool swap : {false, true}) {
      std::vector<double> per(rows), ga(a.size()), gp(a.size()), gn(a.size());
      std::vector<std::vector<double>> hess(3, std::vector<double>(a.size()));
      emb::RowOutputs<double> out;
      out.per_row = per.data();
      out.grad[0] = ga.data();
      out.grad[1] = gp.data();
      out.grad[2] = gn.data();
      for (int k = 0; k < 3; ++k) out.hess[k] = hess[k].data();
      auto total = [&] {
        std::vector<double> v(rows);
        emb::RowOutputs<double> o;
        o.per_row = v.data();
        emb::triplet_margin(a.data(), p.data(), n.data(), rows, D, 1.0, deg, swap, 1e-6, o);
        return sum(v);
      };
      emb::triplet_margin(a.data(), p.data(), n.data(), rows, D, 1.0, deg, swap, 1e-6, out);
      for (index_t r = 0; r < rows; ++r) {
        auto dist = [&](const std::vector<double>& x, const std::vector<double>& z) {
          double s = 0;
          for (index_t d = 0; d < D; ++d) s += std::pow(std::fabs(x[r * D + d] - z[r * D + d] + 1e-6), deg);
          return std::pow(s, 1 / deg);
        };
        double dn = dist(a, n);
        if (swap) dn = std::min(dn, dist(p, n));
        h.check(close(per[r], std::max(0.0, 1.0 + dist(a, p) - dn), 1e-13), "triplet value");
      }
      for (std::size_t k = 0; k < a.size(); ++k) {
        h.check(close(ga[k], central(a, k, 1e-6, total), 1e-6, 1e-8), "triplet grad anchor");
        h.check(close(gp[k], central(p, k, 1e-6, total), 1e-6, 1e-8), "triplet grad positive");
        h.check(close(gn[k], central(n, k, 1e-6, total), 1e-6, 1e-8), "triplet grad negative");
        std::vector<double>* inputs[3] = {&a, &p, &n};
        for (int which = 0; which < 3; ++which) {
          auto grad_k = [&] {
            std::vector<std::vector<double>> g(3, std::vector<double>(a.size()));
            emb::RowOutputs<double> o;
            for (int m = 0; m < 3; ++m) o.grad[m] = g[m].data();
            emb::triplet_margin(a.data(), p.data(), n.data(), rows, D, 1.0, deg, swap, 1e-6, o);
            return g[which][k];
          };
          h.check(close(hess[which][k], central(*inputs[which], k, 1e-5, grad_k), 1e-5, 1e-7),
                  "triplet hessian input " + std::to_string(which) + " p=" + num(deg));
        }
      }
    }
}

/// The squared-norm and cosine distances of the triplet kernel: values
/// against direct loops, the three gradients and Hessian diagonals against
/// central differences of the kernel's own values and gradients.
void triplet_distances(Harness& h) {
  const index_t rows = 6, D = 5;
  auto a = random_values(rows * D, 15), p = random_values(rows * D, 16),
       n = random_values(rows * D, 17);
  const double margin = 6.0;  // every hinge sloped
  for (auto kind : {emb::Distance::SquaredNorm, emb::Distance::Cosine})
    for (bool swap : {false, true}) {
      const emb::DistanceSpec spec{kind, 2.0, kind == emb::Distance::Cosine ? 1e-8 : 1e-6};
      const std::string what = std::string(kind == emb::Distance::Cosine ? "cosine" : "squared") +
                               (swap ? " swap" : "");
      auto call = [&](double* per, std::vector<std::vector<double>>* g,
                      std::vector<std::vector<double>>* hs) {
        emb::RowOutputs<double> o;
        o.per_row = per;
        for (int m = 0; m < 3; ++m) {
          if (g) o.grad[m] = (*g)[m].data();
          if (hs) o.hess[m] = (*hs)[m].data();
        }
        emb::triplet_margin(a.data(), p.data(), n.data(), rows, D, margin, spec, swap, o);
      };
      auto dist = [&](const std::vector<double>& x, const std::vector<double>& z, index_t r) {
        double xz = 0, xx = 0, zz = 0, sq = 0;
        for (index_t d = 0; d < D; ++d) {
          const double u = x[r * D + d], v = z[r * D + d], e = u - v + 1e-6;
          xz += u * v;
          xx += u * u;
          zz += v * v;
          sq += e * e;
        }
        return kind == emb::Distance::Cosine ? 1.0 - xz / (std::sqrt(xx) * std::sqrt(zz)) : sq;
      };
      std::vector<double> per(rows);
      std::vector<std::vector<double>> g(3, std::vector<double>(a.size())), hs = g;
      call(per.data(), &g, &hs);
      for (index_t r = 0; r < rows; ++r) {
        double dn = dist(a, n, r);
        if (swap) dn = std::min(dn, dist(p, n, r));
        h.check(close(per[r], std::max(0.0, margin + dist(a, p, r) - dn), 1e-13),
                what + " value row " + std::to_string(r));
      }
      auto total = [&] {
        std::vector<double> v(rows);
        call(v.data(), nullptr, nullptr);
        return sum(v);
      };
      std::vector<double>* inputs[3] = {&a, &p, &n};
      for (int which = 0; which < 3; ++which)
        for (std::size_t k = 0; k < a.size(); ++k) {
          h.check(close(g[which][k], central(*inputs[which], k, 1e-6, total), 1e-6, 1e-8),
                  what + " grad input " + std::to_string(which));
          auto grad_k = [&] {
            std::vector<std::vector<double>> gg(3, std::vector<double>(a.size()));
            call(nullptr, &gg, nullptr);
            return gg[which][k];
          };
          h.check(close(hs[which][k], central(*inputs[which], k, 1e-5, grad_k), 1e-5, 1e-7),
                  what + " hessian input " + std::to_string(which));
        }
    }
}

/// optax's ntxent per anchor from the whole similarity matrix.
std::vector<double> ntxent_reference(const std::vector<std::int64_t>& lab, const std::vector<double>& x,
                                     index_t B, index_t D, double t) {
  std::vector<double> u(x.size()), out(B, 0.0);
  for (index_t i = 0; i < B; ++i) {
    double s = 0;
    for (index_t d = 0; d < D; ++d) s += x[i * D + d] * x[i * D + d];
    const double n = std::sqrt(std::max(s, 2.220446049250313e-16));
    for (index_t d = 0; d < D; ++d) u[i * D + d] = x[i * D + d] / n;
  }
  auto sim = [&](index_t i, index_t j) {
    double s = 0;
    for (index_t d = 0; d < D; ++d) s += u[i * D + d] * u[j * D + d];
    return s / t;
  };
  for (index_t i = 0; i < B; ++i) {
    double neg = 0;
    for (index_t k = 0; k < B; ++k)
      if (lab[k] != lab[i]) neg += std::exp(sim(i, k));
    for (index_t j = 0; j < B; ++j)
      if (j != i && lab[j] == lab[i]) out[i] += std::log(neg + std::exp(sim(i, j))) - sim(i, j);
  }
  return out;
}

double circle_reference_row(const std::vector<std::int64_t>& lab, const std::vector<double>& x,
                            index_t B, index_t D, index_t i, double g, double m, bool rd) {
  std::vector<double> pos, neg;
  for (index_t j = 0; j < B; ++j) {
    double s = 0;
    for (index_t d = 0; d < D; ++d) s += x[i * D + d] * x[j * D + d];
    const double dist = std::max(1 - s, 0.0);
    if (lab[j] == lab[i] && (j != i || !rd)) pos.push_back(-g * std::max(m + dist, 0.0) * (m - dist));
    if (lab[j] != lab[i]) neg.push_back(g * std::max(1 + m - dist, 0.0) * (1 - m - dist));
  }
  if (pos.empty() || neg.empty()) return 0.0;
  auto lse = [](const std::vector<double>& v) {
    double mx = -INFINITY, s = 0;
    for (double e : v) mx = std::max(mx, e);
    for (double e : v) s += std::exp(e - mx);
    return mx + std::log(s);
  };
  const double z = lse(pos) + lse(neg);
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

template <class Kernel, class Reference>
void check_batch(Harness& h, const std::string& name, index_t B, index_t D, double rel,
                 double grad_rel, const Kernel& kernel, const Reference& reference) {
  std::vector<std::int64_t> lab(B);
  for (index_t i = 0; i < B; ++i) lab[i] = (i * 7) % (B / 3 + 1);
  auto x = random_values(static_cast<std::size_t>(B * D), 9, 0.5);
  std::vector<double> coef = random_values(B, 10);
  std::vector<double> per(B), grad(x.size());
  emb::BatchOutputs<double> out;
  out.per_row = per.data();
  out.grad = grad.data();
  out.coef = coef.data();
  kernel(lab, x, out);
  const std::vector<double> want = reference(lab, x);
  for (index_t i = 0; i < B; ++i)
    h.check(close(per[i], want[i], rel, 1e-12), name + " value row " + std::to_string(i) + ": " +
                                                   num(per[i]) + " vs " + num(want[i]));
  auto weighted = [&] {
    std::vector<double> v(B);
    emb::BatchOutputs<double> o;
    o.per_row = v.data();
    kernel(lab, x, o);
    double s = 0;
    for (index_t i = 0; i < B; ++i) s += coef[i] * v[i];
    return s;
  };
  for (std::size_t k = 0; k < x.size(); k += 7)
    h.check(close(grad[k], central(x, k, 1e-6, weighted), grad_rel, 1e-7),
            name + " gradient " + std::to_string(k));
}

void ntxent(Harness& h) {
  for (index_t B : {1, 5, 67, 130}) {
    const index_t D = 11;
    auto kernel = [&](const std::vector<std::int64_t>& lab, const std::vector<double>& x,
                      const emb::BatchOutputs<double>& out) {
      emb::ntxent(lab.data(), x.data(), B, D, 0.5, out);
    };
    auto reference = [&](const std::vector<std::int64_t>& lab, const std::vector<double>& x) {
      return ntxent_reference(lab, x, B, D, 0.5);
    };
    check_batch(h, "ntxent B=" + std::to_string(B), B, D, 1e-12, 1e-6, kernel, reference);
  }
  // every row of one label: no negatives, every loss 0; many positives per
  // row: the similarities are recomputed instead of kept
  const index_t B = 150, D = 3;
  std::vector<std::int64_t> lab(B, 4);
  auto x = random_values(B * D, 12);
  std::vector<double> per(B, -1.0), grad(x.size(), -1.0);
  emb::BatchOutputs<double> out;
  out.per_row = per.data();
  out.grad = grad.data();
  emb::ntxent(lab.data(), x.data(), B, D, 0.1, out);
  h.check(sum(per) == 0.0, "ntxent without negatives");
  for (double g : grad) h.check(g == 0.0, "ntxent gradient without negatives");
  for (index_t i = 0; i < B; ++i) lab[i] = i % 2;  // 74 positives per row
  emb::ntxent(lab.data(), x.data(), B, D, 0.1, out);
  const auto want = ntxent_reference(lab, x, B, D, 0.1);
  for (index_t i = 0; i < B; ++i) h.check(close(per[i], want[i], 1e-12), "ntxent recomputed");
}

void circle(Harness& h) {
  for (bool rd : {true, false})
    for (index_t B : {2, 9, 65, 129}) {
      const index_t D = 6;
      auto kernel = [&](const std::vector<std::int64_t>& lab, const std::vector<double>& x,
                        const emb::BatchOutputs<double>& out) {
        emb::circle(lab.data(), x.data(), B, D, 8.0, 0.4, rd, out);
      };
      auto reference = [&](const std::vector<std::int64_t>& lab, const std::vector<double>& x) {
        std::vector<double> v(B);
        for (index_t i = 0; i < B; ++i) v[i] = circle_reference_row(lab, x, B, D, i, 8.0, 0.4, rd);
        return v;
      };
      check_batch(h, "circle B=" + std::to_string(B), B, D, 1e-12, 1e-6, kernel, reference);
    }
}

void threads(Harness& h) {
  const index_t B = 300, D = 40;
  std::vector<std::int64_t> lab(B);
  for (index_t i = 0; i < B; ++i) lab[i] = i / 2;
  const auto x64 = random_values(B * D, 13);
  std::vector<float> x(x64.begin(), x64.end());
  const int before = fastloss::get_num_threads();
  auto run = [&](int n) {
    fastloss::set_num_threads(n);
    std::vector<double> per(2 * B);
    std::vector<float> grad(2 * x.size());
    emb::BatchOutputs<float> out;
    out.per_row = per.data();
    out.grad = grad.data();
    emb::ntxent(lab.data(), x.data(), B, D, 0.07, out);
    out.per_row = per.data() + B;
    out.grad = grad.data() + x.size();
    emb::circle(lab.data(), x.data(), B, D, 80.0, 0.4, true, out);
    return std::make_pair(per, grad);
  };
  const auto one = run(1), two = run(2);
  fastloss::set_num_threads(before);
  bool same = true;
  for (std::size_t k = 0; k < one.first.size(); ++k) same &= same_bits(one.first[k], two.first[k]);
  for (std::size_t k = 0; k < one.second.size(); ++k) same &= same_bits(one.second[k], two.second[k]);
  h.check(same, "batch kernels differ between 1 and 2 threads");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"margin_ranking", margin_ranking},
                     {"cosine_embedding", cosine_embedding},
                     {"triplet_margin", triplet_margin},
                     {"triplet_distances", triplet_distances},
                     {"ntxent", ntxent},
                     {"circle", circle},
                     {"threads", threads}});
}

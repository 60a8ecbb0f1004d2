// The model-loss kernels (losses/models.hpp): the Gram matrix and its
// backward against plain triple loops, over sizes that cross the row blocks
// and position tiles; total variation against its definition and its
// gradient against central differences; bitwise equality across thread
// counts, also when called from several threads at once. The likelihood
// kernels (losses/likelihood.hpp): the Gaussian NLL and the Cox partial
// likelihood against their definitions and central differences.
#include <cmath>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

#include <thread>

namespace fastloss_test {
namespace {

using namespace fastloss;

template <class T>
std::vector<T> random_vector(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(rng.uniform(-1.0, 1.0));
  return v;
}

template <class T>
std::vector<double> naive_gram(const std::vector<T>& F, index_t B, index_t M, index_t C) {
  std::vector<double> G(static_cast<std::size_t>(B * C * C), 0.0);
  for (index_t b = 0; b < B; ++b)
    for (index_t i = 0; i < C; ++i)
      for (index_t j = 0; j < C; ++j) {
        double s = 0.0;
        for (index_t m = 0; m < M; ++m)
          s += static_cast<double>(F[(b * M + m) * C + i]) * static_cast<double>(F[(b * M + m) * C + j]);
        G[(b * C + i) * C + j] = s;
      }
  return G;
}

template <class T>
void gram_sizes(Harness& h, double rel) {
  const index_t shapes[][3] = {{1, 1, 1},  {1, 5, 3},    {2, 255, 15}, {1, 256, 16},
                               {3, 257, 17}, {1, 1000, 33}, {2, 0, 4},    {1, 7, 64}};
  for (const auto& s : shapes) {
    const index_t B = s[0], M = s[1], C = s[2];
    const auto F = random_vector<T>(static_cast<std::size_t>(B * M * C), 11 + M + C);
    std::vector<T> G(static_cast<std::size_t>(B * C * C), T(-7));
    models::gram(F.data(), B, M, C, G.data());
    const auto ref = naive_gram(F, B, M, C);
    const std::string shape = std::to_string(B) + "x" + std::to_string(M) + "x" + std::to_string(C);
    for (index_t b = 0; b < B; ++b)
      for (index_t i = 0; i < C; ++i)
        for (index_t j = 0; j < C; ++j) {
          const auto k = static_cast<std::size_t>((b * C + i) * C + j);
          const auto kt = static_cast<std::size_t>((b * C + j) * C + i);
          h.check(close(G[k], ref[k], rel, rel * static_cast<double>(M)),
                  "gram " + shape + " [" + std::to_string(i) + "," + std::to_string(j) +
                      "]: " + num(G[k]) + " vs " + num(ref[k]));
          h.check(same_bits(G[k], G[kt]), "gram " + shape + " not exactly symmetric");
        }
  }
}

void gram(Harness& h) {
  gram_sizes<double>(h, 1e-13);
  gram_sizes<float>(h, 2e-6);
}

template <class T>
void gram_backward_sizes(Harness& h, double rel) {
  const index_t shapes[][3] = {{1, 1, 1}, {1, 63, 3}, {2, 65, 17}, {1, 130, 40}};
  for (const auto& s : shapes) {
    const index_t B = s[0], M = s[1], C = s[2];
    const auto F = random_vector<T>(static_cast<std::size_t>(B * M * C), 3 + C);
    const auto S = random_vector<T>(static_cast<std::size_t>(B * C * C), 5 + M);
    std::vector<T> dF(F.size(), T(-7));
    models::gram_backward(F.data(), S.data(), B, M, C, dF.data());
    for (index_t b = 0; b < B; ++b)
      for (index_t m = 0; m < M; ++m)
        for (index_t j = 0; j < C; ++j) {
          double ref = 0.0;
          for (index_t i = 0; i < C; ++i)
            ref += static_cast<double>(F[(b * M + m) * C + i]) * static_cast<double>(S[(b * C + i) * C + j]);
          const T got = dF[static_cast<std::size_t>((b * M + m) * C + j)];
          h.check(close(got, ref, rel, rel * static_cast<double>(C)),
                  "gram_backward C=" + std::to_string(C) + ": " + num(got) + " vs " + num(ref));
        }
  }
}

void gram_backward(Harness& h) {
  gram_backward_sizes<double>(h, 1e-13);
  gram_backward_sizes<float>(h, 2e-6);
}

double tv_value(const std::vector<double>& x, index_t H, index_t W, index_t C, index_t b) {
  auto at = [&](index_t i, index_t j, index_t c) { return x[static_cast<std::size_t>(((b * H + i) * W + j) * C + c)]; };
  double s = 0.0;
  for (index_t i = 0; i < H; ++i)
    for (index_t j = 0; j < W; ++j)
      for (index_t c = 0; c < C; ++c) {
        if (i + 1 < H) s += std::fabs(at(i + 1, j, c) - at(i, j, c));
        if (j + 1 < W) s += std::fabs(at(i, j + 1, c) - at(i, j, c));
      }
  return s;
}

void total_variation(Harness& h) {
  const index_t B = 2, H = 5, W = 4, C = 3;
  auto x = random_vector<double>(static_cast<std::size_t>(B * H * W * C), 99);
  std::vector<double> per_image(B), grad(x.size());
  const double scale[] = {1.0, -2.0};
  models::total_variation(x.data(), B, H, W, C, per_image.data(), grad.data(), scale);
  for (index_t b = 0; b < B; ++b)
    h.check(close(per_image[b], tv_value(x, H, W, C, b), 1e-14), "tv value image " + std::to_string(b));
  const double eps = 1e-4;  // no two neighbours are within 1e-4 of each other here
  for (std::size_t k = 0; k < x.size(); ++k) {
    const index_t b = static_cast<index_t>(k) / (H * W * C);
    const double x0 = x[k];
    x[k] = x0 + eps;
    const double up = tv_value(x, H, W, C, b);
    x[k] = x0 - eps;
    const double down = tv_value(x, H, W, C, b);
    x[k] = x0;
    h.check(close(grad[k], scale[b] * (up - down) / (2 * eps), 1e-6, 1e-8),
            "tv gradient " + std::to_string(k) + ": " + num(grad[k]));
  }
  // Degenerate images: one row, one column, nothing to compare.
  std::vector<float> one(6, 1.0f), g1(6);
  double v1 = -1;
  models::total_variation(one.data(), index_t(1), index_t(1), index_t(2), index_t(3), &v1, g1.data(), static_cast<const float*>(nullptr));
  h.check(v1 == 0.0 && g1[0] == 0.0f && g1[5] == 0.0f, "tv of a constant 1x2 image");
  // NaN propagates into the value and the gradient next to it.
  std::vector<float> nan_img{0.0f, std::nanf(""), 1.0f, 2.0f};
  std::vector<float> gn(4);
  double vn = 0;
  models::total_variation(nan_img.data(), index_t(1), index_t(2), index_t(2), index_t(1), &vn, gn.data(), static_cast<const float*>(nullptr));
  h.check(std::isnan(vn) && std::isnan(gn[0]) && std::isnan(gn[1]) && std::isnan(gn[3]),
          "tv NaN propagates");
}

/// Bitwise equal results on 1 and 2 threads, and from inside a user's
/// parallel region (where the kernels run on the calling thread).
void threads(Harness& h) {
  const index_t B = 2, M = 4096, C = 48;
  const auto F = random_vector<float>(static_cast<std::size_t>(B * M * C), 7);
  const auto S = random_vector<float>(static_cast<std::size_t>(B * C * C), 8);
  const int before = get_num_threads();
  auto run = [&](int n, std::vector<float>& G, std::vector<float>& dF, std::vector<double>& tv) {
    set_num_threads(n);
    G.assign(static_cast<std::size_t>(B * C * C), 0.0f);
    dF.assign(F.size(), 0.0f);
    tv.assign(B, 0.0);
    models::gram(F.data(), B, M, C, G.data());
    models::gram_backward(F.data(), S.data(), B, M, C, dF.data());
    models::total_variation(F.data(), B, index_t(64), index_t(64), C, tv.data(), static_cast<float*>(nullptr), static_cast<const float*>(nullptr));
  };
  std::vector<float> G1, dF1, G2, dF2;
  std::vector<double> tv1, tv2;
  run(1, G1, dF1, tv1);
  run(2, G2, dF2, tv2);
  bool same = true;
  for (std::size_t k = 0; k < G1.size(); ++k) same &= same_bits(G1[k], G2[k]);
  for (std::size_t k = 0; k < dF1.size(); ++k) same &= same_bits(dF1[k], dF2[k]);
  for (std::size_t k = 0; k < tv1.size(); ++k) same &= same_bits(tv1[k], tv2[k]);
  h.check(same, "model kernels differ between 1 and 2 threads");
  // Callers on several threads at once: one holds the pool, the others run
  // on their own thread; every result has the same bits.
  std::vector<std::vector<float>> Gs(3, std::vector<float>(G1.size()));
  {
    std::vector<std::thread> callers;
    for (auto& G : Gs)
      callers.emplace_back([&, out = G.data()] { models::gram(F.data(), B, M, C, out); });
    for (auto& c : callers) c.join();
  }
  bool concurrent_same = true;
  for (const auto& G : Gs)
    for (std::size_t k = 0; k < G.size(); ++k) concurrent_same &= same_bits(G[k], G1[k]);
  h.check(concurrent_same, "gram called from concurrent threads differs");
  set_num_threads(before);
}

/// The kernel behind user-defined elementwise losses: the driver's mean and
/// reductions over values and derivatives computed elsewhere.
void precomputed(Harness& h) {
  const double v[] = {1, 2, 3, 6}, g[] = {0.5, -1, 2, 4};
  double grad[4];
  const double value = forward_backward(Precomputed{}, v, g, 4, grad);
  h.check(value == 3.0, "precomputed mean of the values: " + num(value));
  h.check(grad[0] == 0.125 && grad[1] == -0.25 && grad[3] == 1.0, "precomputed gradient / n");
}

/// The Gaussian NLL of one element, as PyTorch defines it (no constant).
double gaussian_element(double y, double mean, double var, double eps) {
  const double v = var < eps ? eps : var;
  return 0.5 * (std::log(v) + (mean - y) * (mean - y) / v);
}

void gaussian_nll(Harness& h) {
  const index_t rows = 3, D = 4;
  const auto size = static_cast<std::size_t>(rows * D);
  const auto y = random_vector<double>(size, 11), mean = random_vector<double>(size, 12);
  auto var = random_vector<double>(size, 13);
  std::vector<double> var_row(rows);
  for (auto& v : var) v = 0.5 + std::fabs(v);
  for (index_t r = 0; r < rows; ++r) var_row[r] = 0.3 + 0.4 * static_cast<double>(r);
  var[5] = 1e-9;  // clamped to eps
  const double eps = 1e-6, scale[] = {1.0, -0.5, 2.0};
  for (bool per_row : {false, true}) {
    const double* v = per_row ? var_row.data() : var.data();
    std::vector<double> per(rows), gm(size), gv(per_row ? static_cast<std::size_t>(rows) : size);
    multi_input::Arrays<double> out;
    out.in[0] = y.data();
    out.in[1] = mean.data();
    out.in[2] = v;
    out.per_row[2] = per_row;
    out.values = per.data();
    out.grad[0] = gm.data();
    out.grad[1] = gv.data();
    out.row_scale = scale;
    multi_input::run(GaussianNLL(0, eps), rows, D, out);
    for (index_t r = 0; r < rows; ++r) {
      double want = 0.0;
      for (index_t d = 0; d < D; ++d)
        want += gaussian_element(y[r * D + d], mean[r * D + d], v[per_row ? r : r * D + d], eps);
      h.check(close(per[r], want / D, 1e-14), "gaussian value row " + std::to_string(r));
      const double step = 1e-6;
      for (index_t d = 0; d < D; ++d) {
        const index_t k = r * D + d;
        const double vk = v[per_row ? r : k];
        const double dm = (gaussian_element(y[k], mean[k] + step, vk, eps) -
                           gaussian_element(y[k], mean[k] - step, vk, eps)) / (2 * step);
        h.check(close(gm[k], scale[r] * dm / D, 1e-6, 1e-10), "gaussian grad mean " + std::to_string(k));
        if (!per_row && vk > 1e-3) {
          const double dv = (gaussian_element(y[k], mean[k], vk + step, eps) -
                             gaussian_element(y[k], mean[k], vk - step, eps)) / (2 * step);
          h.check(close(gv[k], scale[r] * dv / D, 1e-6, 1e-10), "gaussian grad var " + std::to_string(k));
        }
      }
    }
    if (!per_row) {
      // at a clamped variance the derivative is taken at eps
      const double at_eps = 0.5 * (1.0 / eps - (mean[5] - y[5]) * (mean[5] - y[5]) / (eps * eps));
      h.check(close(gv[5], scale[1] * at_eps / D, 1e-12), "gaussian grad var at eps");
    }
  }
}

/// The hand values of every declared multi-input loss (default parameters),
/// through the generic kernel, with one thread and with several: the same bits.
template <class S>
void multi_input_hand(Harness& h, const char* name) {
  double p[kMaxParams] = {};
  for (int k = 0; k < S::kInfo.n_params(); ++k) p[k] = S::kInfo.params[k].default_value;
  const S loss = make_multi_input<S>(p);
  constexpr int n_in = S::kInfo.n_inputs();
  for (int c = 0; c < S::kInfo.n_hand(); ++c) {
    const MultiHandValue& hv = S::kInfo.hand[c];
    double value = 0.0;
    multi_input::Arrays<double> a;
    for (int k = 0; k < n_in; ++k) a.in[k] = &hv.in[k];
    a.values = &value;
    multi_input::run(loss, 1, 1, a);
    h.check(close(value, hv.value, 1e-14, 1e-15),
            std::string(name) + " hand value " + std::to_string(c) + ": " + num(value));
  }
  // threads: a large call, one thread and four, bit for bit
  const index_t n = 50000;
  std::vector<std::vector<double>> in(n_in, std::vector<double>(static_cast<std::size_t>(n)));
  for (index_t i = 0; i < n; ++i)
    for (int k = 0; k < n_in; ++k)
      in[k][i] = S::kInfo.hand[i % S::kInfo.n_hand()].in[k] * (1.0 + 1e-3 * (i % 7));
  std::vector<double> v1(n), v4(n), g1(n), g4(n);
  const int before = fastloss::get_num_threads();
  for (int threads : {1, 4}) {
    fastloss::set_num_threads(threads);
    multi_input::Arrays<double> a;
    for (int k = 0; k < n_in; ++k) a.in[k] = in[k].data();
    a.values = threads == 1 ? v1.data() : v4.data();
    a.grad[0] = threads == 1 ? g1.data() : g4.data();
    multi_input::run(loss, n, 1, a);
  }
  fastloss::set_num_threads(before);
  h.check(v1 == v4 && g1 == g4, std::string(name) + " threads bit for bit");
}

void multi_input_hand_values(Harness& h) {
#define FASTLOSS_HAND(S) multi_input_hand<S>(h, #S);
  FASTLOSS_MULTI_INPUT_LOSSES(FASTLOSS_HAND)
#undef FASTLOSS_HAND
}

/// The Cox loss of every sample and its gradient by the definitions.
void cox_reference(const std::vector<double>& t, const std::vector<double>& z,
                   std::vector<double>& loss, std::vector<double>& grad) {
  const std::size_t n = t.size();
  std::vector<double> risk(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (std::fabs(t[j]) >= std::fabs(t[i])) risk[i] += std::exp(z[j]);
  loss.assign(n, 0.0);
  grad.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    if (t[i] > 0) loss[i] = std::log(risk[i]) - z[i];
    for (std::size_t k = 0; k < n; ++k)
      if (t[k] > 0 && std::fabs(t[k]) <= std::fabs(t[i])) grad[i] += std::exp(z[i]) / risk[k];
    if (t[i] > 0) grad[i] -= 1.0;
  }
}

void cox_ph(Harness& h) {
  // tied times (2 and 5 twice), censored samples, one censored tie with an event
  const std::vector<double> t{2, -3, 5, 2, -5, 1, 7, -2, 5, 4};
  const auto z = random_vector<double>(t.size(), 21);
  std::vector<double> loss, grad;
  cox_reference(t, z, loss, grad);
  std::vector<double> got_loss(t.size()), got_grad(t.size()), got_hess(t.size());
  likelihood::CoxOutputs<double> out;
  out.per_sample = got_loss.data();
  out.grad = got_grad.data();
  out.hess = got_hess.data();
  const auto n = static_cast<index_t>(t.size());
  likelihood::cox_ph(t.data(), z.data(), n, out);
  for (std::size_t i = 0; i < t.size(); ++i) {
    h.check(close(got_loss[i], loss[i], 1e-13, 1e-15), "cox loss " + std::to_string(i));
    h.check(close(got_grad[i], grad[i], 1e-12, 1e-15), "cox grad " + std::to_string(i));
  }
  // the Hessian diagonal against central differences of the gradient
  const double step = 1e-6;
  for (std::size_t j = 0; j < t.size(); ++j) {
    auto zp = z, zm = z;
    zp[j] += step;
    zm[j] -= step;
    std::vector<double> lp, gp, lm, gm;
    cox_reference(t, zp, lp, gp);
    cox_reference(t, zm, lm, gm);
    h.check(close(got_hess[j], (gp[j] - gm[j]) / (2 * step), 1e-6, 1e-9), "cox hess " + std::to_string(j));
  }
  // a NaN score makes everything NaN; no samples writes nothing
  auto zn = z;
  zn[3] = std::nan("");
  likelihood::cox_ph(t.data(), zn.data(), n, out);
  h.check(std::isnan(got_loss[0]) && std::isnan(got_grad[9]), "cox NaN propagates");
  likelihood::cox_ph(t.data(), z.data(), index_t(0), out);
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"gram", gram},
                     {"gram_backward", gram_backward},
                     {"total_variation", total_variation},
                     {"threads", threads},
                     {"precomputed", precomputed},
                     {"gaussian_nll", gaussian_nll},
                     {"multi_input_hand_values", multi_input_hand_values},
                     {"cox_ph", cox_ph}});
}

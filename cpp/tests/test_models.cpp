// The model-loss kernels (losses/models.hpp): the Gram matrix and its
// backward against plain triple loops, over sizes that cross the row blocks
// and position tiles; total variation against its definition and its
// gradient against central differences; bitwise equality across thread
// counts, also when called from several threads at once.
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

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"gram", gram},
                     {"gram_backward", gram_backward},
                     {"total_variation", total_variation},
                     {"threads", threads},
                     {"precomputed", precomputed}});
}

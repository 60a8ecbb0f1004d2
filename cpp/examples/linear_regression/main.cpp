// Yogurt sales: a shop sells y = x1 + x2 (+ a little noise) pots a day, where
// x1 and x2 are two features of the day. A linear model without bias,
// y_hat = w1 x1 + w2 x2, is fitted by plain gradient descent on an
// asymmetric cost: unsold pots cost `overestimate_cost` each, a missed sale
// costs `underestimate_cost`. When a missed sale is 99 times dearer, the
// fitted weights end above 1 (the shop over-stocks); the other way round,
// below 1.
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include <fastloss/fastloss.hpp>

namespace {

struct Data {
  std::vector<double> x1, x2, y;
};

/// 32 days, x uniform in [0, 1)^2, y = x1 + x2 + noise uniform in [-0.05, 0.05).
Data make_data(std::size_t days) {
  std::uint64_t state = 20240601;  // a fixed seed: the same data on every run
  auto uniform = [&state] {         // splitmix64, then 53 bits into [0, 1)
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  };
  Data d;
  for (std::size_t i = 0; i < days; ++i) {
    d.x1.push_back(uniform());
    d.x2.push_back(uniform());
    d.y.push_back(d.x1.back() + d.x2.back() + (uniform() - 0.5) * 0.1);
  }
  return d;
}

struct Fit {
  double w1, w2, loss;
  int over_predicted;
};

Fit train(const Data& d, const fastloss::AsymmetricLinear& cost) {
  const auto n = static_cast<fastloss::index_t>(d.y.size());
  std::vector<double> pred(d.y.size()), grad(d.y.size());
  double w1 = 0.5, w2 = 0.5;
  const int steps = 20000;
  for (int step = 0; step < steps; ++step) {
    for (std::size_t i = 0; i < pred.size(); ++i) pred[i] = w1 * d.x1[i] + w2 * d.x2[i];
    // grad[i] = d(mean cost) / d pred[i], one fused pass with the value.
    fastloss::forward_backward(cost, d.y.data(), pred.data(), n, grad.data());
    double g1 = 0, g2 = 0;  // chain rule through pred = w . x
    for (std::size_t i = 0; i < pred.size(); ++i) {
      g1 += grad[i] * d.x1[i];
      g2 += grad[i] * d.x2[i];
    }
    // The cost is piecewise linear: a decaying step settles on its kink.
    const double lr = 0.05 / (1.0 + step / 100.0);
    w1 -= lr * g1;
    w2 -= lr * g2;
  }
  for (std::size_t i = 0; i < pred.size(); ++i) pred[i] = w1 * d.x1[i] + w2 * d.x2[i];
  Fit f{w1, w2, fastloss::forward(cost, d.y.data(), pred.data(), n), 0};
  for (std::size_t i = 0; i < pred.size(); ++i) f.over_predicted += pred[i] > d.y[i];
  return f;
}

}  // namespace

int main() {
  const Data d = make_data(32);
  std::printf("yogurt sales: %zu days, y = x1 + x2 + noise, y_hat = w1 x1 + w2 x2\n", d.y.size());
  bool as_expected = true;
  for (const auto& [over, under] : {std::pair{1.0, 99.0}, std::pair{99.0, 1.0}}) {
    const fastloss::AsymmetricLinear cost(over, under);
    const Fit f = train(d, cost);
    std::printf("AsymmetricLinear(overestimate_cost=%g, underestimate_cost=%g): "
                "w1 = %.4f, w2 = %.4f, mean cost %.4f, over-predicted %d of %zu days\n",
                over, under, f.w1, f.w2, f.loss, f.over_predicted, d.y.size());
    // Cheap over-stocking pushes both weights above 1, expensive below.
    const bool above = f.w1 > 1 && f.w2 > 1, below = f.w1 < 1 && f.w2 < 1;
    as_expected = as_expected && (under > over ? above : below);
  }
  if (!as_expected) {
    std::printf("unexpected: the weights did not end on the side of 1 that the costs favour\n");
    return 1;
  }
  return 0;
}

// The multi-class losses of losses/multiclass.hpp through the class-axis API,
// with parameters other than the defaults: values against a double reference
// written here from the formula, gradients and Hessian diagonals against
// central differences, float against double, the Hessian of MultiMargin for
// p = 2 only, and bad arguments (parameters, class weights, label sets).
// The declared hand rows of every loss are checked by test_classaxis_api.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;

constexpr index_t kRows = 7, kC = 5;

/// Inputs: scores, class ids, 0/1 targets and label sets (-1 ended).
struct Data {
  std::vector<double> x, bits, sets;
  std::vector<std::int64_t> y;
  explicit Data(std::uint64_t seed) {
    Rng rng(seed);
    for (index_t r = 0; r < kRows; ++r) {
      y.push_back(static_cast<std::int64_t>(rng.uniform(0, kC)));
      for (index_t k = 0; k < kC; ++k) {
        x.push_back(rng.uniform(-2, 2));
        bits.push_back(rng.pick(0.0, 1.0));
      }
      // targets: (r % 3) + 1 distinct classes starting at r, then -1
      const index_t n_t = r % 3 + 1;
      for (index_t k = 0; k < kC; ++k)
        sets.push_back(k < n_t ? static_cast<double>((r + k) % kC) : -1.0);
    }
  }
};

/// The loss's own inputs of d (class ids, 0/1 targets or label sets).
template <class Loss>
struct Calls {
  const Loss& loss;
  const Data& d;
  const std::vector<double>& targets;
  template <class T>
  double sum(const std::vector<T>& p) const {
    if constexpr (Loss::kInput == RowInput::Labels) {
      return forward(loss, d.y.data(), p.data(), kRows, kC, Reduction::Sum);
    } else {
      std::vector<T> t(targets.begin(), targets.end());
      return forward(loss, t.data(), p.data(), kRows, kC, Reduction::Sum);
    }
  }
  void grad(const std::vector<double>& p, std::vector<double>& g) const {
    if constexpr (Loss::kInput == RowInput::Labels) {
      backward(loss, d.y.data(), p.data(), kRows, kC, g.data(), Reduction::Sum);
    } else {
      backward(loss, targets.data(), p.data(), kRows, kC, g.data(), Reduction::Sum);
    }
  }
  void grad_hess(const std::vector<double>& p, std::vector<double>& g,
                 std::vector<double>& h) const {
    if constexpr (Loss::kInput == RowInput::Labels) {
      gradient_hessian(loss, d.y.data(), p.data(), kRows, kC, g.data(), h.data());
    } else {
      gradient_hessian(loss, targets.data(), p.data(), kRows, kC, g.data(), h.data());
    }
  }
};

/// value == reference, gradient and (where defined) Hessian diagonal by
/// central differences, float against double.
template <class Loss, class Ref>
void check_loss(Harness& h, const std::string& name, const Loss& loss, const Data& d,
                const std::vector<double>& targets, const Ref& ref, bool has_hessian) {
  const Calls<Loss> c{loss, d, targets};
  double want = 0;
  for (index_t r = 0; r < kRows; ++r)
    want += ref(&targets[r * kC], d.y[r], &d.x[r * kC]);
  h.check(close(c.sum(d.x), want, 1e-13, 1e-14),
          name + ": value " + num(c.sum(d.x)) + " vs reference " + num(want));
  std::vector<float> xf(d.x.begin(), d.x.end());
  h.check(close(c.sum(xf), want, 2e-6, 2e-6), name + ": float value " + num(c.sum(xf)));
  std::vector<double> g(d.x.size()), gp(d.x.size()), gm(d.x.size());
  c.grad(d.x, g);
  const double step = 1e-6;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    std::vector<double> xp = d.x, xm = d.x;
    xp[i] += step;
    xm[i] -= step;
    const double cd = (c.sum(xp) - c.sum(xm)) / (2 * step);
    h.check(close(g[i], cd, 1e-6, 1e-7),
            name + ": gradient " + std::to_string(i) + " " + num(g[i]) + " vs " + num(cd));
    if (has_hessian) {
      c.grad(xp, gp);
      c.grad(xm, gm);
      std::vector<double> g2(d.x.size()), hs(d.x.size());
      c.grad_hess(d.x, g2, hs);
      const double hd = (gp[i] - gm[i]) / (2 * step);
      h.check(close(hs[i], hd, 1e-5, 1e-6),
              name + ": Hessian " + std::to_string(i) + " " + num(hs[i]) + " vs " + num(hd));
      h.check(g2[i] == g[i], name + ": gradient_hessian's gradient is backward's");
    }
  }
  if (!has_hessian) {
    std::vector<double> g2(d.x.size()), hs(d.x.size());
    expect_invalid(h, name + ": no Hessian", [&] { c.grad_hess(d.x, g2, hs); });
  }
}

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

void losses(Harness& h) {
  const Data d(11);
  const std::vector<double> cw = {0.5, 1.0, 2.0, 1.5, 0.25};
  auto nll = [&](const double*, std::int64_t y, const double* x) { return -cw[y] * x[y]; };
  check_loss(h, "NLL", NLL(cw), d, d.bits, nll, true);
  for (double p : {1.0, 2.0}) {
    auto mm = [&, p](const double*, std::int64_t y, const double* x) {
      double s = 0;
      for (index_t i = 0; i < kC; ++i)
        if (i != y) s += std::pow(std::max(0.0, 0.7 - x[y] + x[i]), p);
      return cw[y] * s / kC;
    };
    check_loss(h, "MultiMargin p=" + num(p), MultiMargin(p, 0.7, cw), d, d.bits, mm, p == 2.0);
  }
  auto mlm = [](const double* t, std::int64_t, const double* x) {
    double s = 0;
    for (index_t a = 0; a < kC && t[a] >= 0; ++a) {
      for (index_t i = 0; i < kC; ++i) {
        bool target = false;
        for (index_t b = 0; b < kC && t[b] >= 0; ++b) target = target || t[b] == i;
        if (!target) s += std::max(0.0, 1.0 - x[static_cast<index_t>(t[a])] + x[i]);
      }
    }
    return s / kC;
  };
  check_loss(h, "MultiLabelMargin", MultiLabelMargin{}, d, d.sets, mlm, false);
  auto mlsm = [&](const double* t, std::int64_t, const double* x) {
    double s = 0;
    for (index_t k = 0; k < kC; ++k) s += cw[k] * (softplus(x[k]) - t[k] * x[k]);
    return s / kC;
  };
  check_loss(h, "MultiLabelSoftMargin", MultiLabelSoftMargin(cw), d, d.bits, mlsm, true);
  auto perceptron = [](const double*, std::int64_t y, const double* x) {
    double m = x[0];
    for (index_t k = 1; k < kC; ++k) m = std::max(m, x[k]);
    return m - x[y];
  };
  check_loss(h, "MultiClassPerceptron", MultiClassPerceptron{}, d, d.bits, perceptron, false);
  auto poly = [](const double* t, std::int64_t, const double* z) {
    double m = z[0], s = 0, ce = 0, tp = 0, A = 0;
    for (index_t k = 1; k < kC; ++k) m = std::max(m, z[k]);
    for (index_t k = 0; k < kC; ++k) s += std::exp(z[k] - m);
    for (index_t k = 0; k < kC; ++k) {
      ce += t[k] * (m + std::log(s) - z[k]);
      tp += t[k] * std::exp(z[k] - m) / s;
      A += t[k];
    }
    return ce - 1.0 * (A - tp);  // epsilon = -1
  };
  check_loss(h, "PolyLoss", PolyLoss(-1.0), d, d.bits, poly, true);
  auto sparsemax = [](const double*, std::int64_t y, const double* x) {
    // tau by bisection on sum max(x - tau, 0) = 1, then the Martins form
    double lo = -10, hi = 10;
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (lo + hi);
      double s = 0;
      for (index_t k = 0; k < kC; ++k) s += std::max(x[k] - mid, 0.0);
      (s > 1 ? lo : hi) = mid;
    }
    const double tau = 0.5 * (lo + hi);
    double v = 0.5 - x[y];
    for (index_t k = 0; k < kC; ++k)
      if (x[k] > tau) v += 0.5 * (x[k] * x[k] - tau * tau);
    return v;
  };
  check_loss(h, "MulticlassSparsemax", MulticlassSparsemax{}, d, d.bits, sparsemax, true);
  Data dp(13);
  for (double& v : dp.x) v = 0.05 + 0.2 * (v + 2);  // probabilities in [0.05, 0.85]
  auto gce = [](const double*, std::int64_t y, const double* p) {
    return (1 - std::pow(p[y], 0.3)) / 0.3;
  };
  check_loss(h, "GeneralizedCrossentropy", GeneralizedCrossentropy(0.3), dp, dp.bits, gce, true);
  auto ova = [](const double*, std::int64_t y, const double* z) {
    double s = 0;
    for (index_t k = 0; k < kC; ++k) s += softplus(z[k]) - (k == y ? z[k] : 0.0);
    return s;
  };
  check_loss(h, "OneVsAllCrossentropy", OneVsAllCrossentropy{}, d, d.bits, ova, true);
}

void bad_arguments(Harness& h) {
  const std::vector<double> x(6, 0.25);
  const std::vector<std::int64_t> y = {0, 1};
  expect_invalid(h, "MultiMargin p = 3", [] { MultiMargin(3.0); });
  expect_invalid(h, "MultiMargin p = 0", [] { MultiMargin(0.0); });
  expect_invalid(h, "NLL negative class weight", [] { NLL({1.0, -1.0, 1.0}); });
  expect_invalid(h, "GeneralizedCrossentropy q = 1", [] { GeneralizedCrossentropy(1.0); });
  expect_invalid(h, "NLL class_weight size",
                 [&] { forward(NLL({1.0, 2.0}), y.data(), x.data(), 2, 3); });
  try {
    forward(MultiMargin{}, std::vector<std::int64_t>{0, 3}.data(), x.data(), 2, 3);
    h.check(false, "a label outside the classes: no exception");
  } catch (const std::out_of_range& e) {
    h.check(std::string(e.what()).find("label 3 at row 1") != std::string::npos, e.what());
  }
  // a label set with an id outside [0, C) or not an integer: NaN, nothing indexed
  for (double bad : {3.0, 0.5, std::numeric_limits<double>::quiet_NaN()}) {
    const std::vector<double> t = {bad, -1, 0, 1, -1, 0};
    std::vector<double> ps(2), g(6);
    per_sample_loss(MultiLabelMargin{}, t.data(), x.data(), 2, 3, ps.data());
    // row 1, targets {1}: (1 - 0.25 + 0.25) twice, / 3
    h.check(std::isnan(ps[0]) && close(ps[1], 2.0 / 3.0, 1e-15),
            "a bad label set gives NaN, the next row its loss: " + num(bad));
    backward(MultiLabelMargin{}, t.data(), x.data(), 2, 3, g.data());
    h.check(std::isnan(g[0]) && std::isnan(g[2]) && !std::isnan(g[3]), "its gradient is NaN");
  }
  // every h <= 0 and the label set {1}: 0
  const std::vector<double> t = {1, -1, -1};
  const std::vector<double> far = {0.0, 5.0, 0.0};
  h.check(forward(MultiLabelMargin{}, t.data(), far.data(), 1, 3) == 0.0, "no margin violated");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"losses", losses}, {"bad_arguments", bad_arguments}});
}

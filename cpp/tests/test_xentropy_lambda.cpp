// LightGBM's cross_entropy_lambda kernel (losses/xentropy_lambda.hpp): values
// worked out by hand, derivatives against central differences and LightGBM's
// own Hessian expression, the unit-weight case against the logistic loss, the
// limits at infinite scores, and the same bits on one and two threads.
#include <cmath>
#include <limits>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using fastloss::index_t;
namespace xl = fastloss::xentropy_lambda;

void hand_values(Harness& h) {
  // z = 0: h = log 2; w = 1: p = 1/2, loss log 2 for any t
  h.check(close(xl::element(0.3, 0.0, 1.0).value, std::log(2.0), 1e-15), "t=0.3, z=0, w=1");
  // w = 2, z = 0: p = 1 - 1/4 = 3/4; t = 1: -log(3/4); t = 0: 2 log 2
  h.check(close(xl::element(1.0, 0.0, 2.0).value, -std::log(0.75), 1e-15), "t=1, z=0, w=2");
  h.check(close(xl::element(0.0, 0.0, 2.0).value, 2 * std::log(2.0), 1e-15), "t=0, z=0, w=2");
  // gradient at z = 0, w = 2, t = 1: w s (1 - t / p) = 2 * 0.5 * (1 - 4/3) = -1/3
  h.check(close(xl::element(1.0, 0.0, 2.0).grad, -1.0 / 3.0, 1e-15), "grad t=1, z=0, w=2");
}

void derivatives(Harness& h) {
  Rng r(11);
  for (int k = 0; k < 500; ++k) {
    const double t = k % 5 == 0 ? r.pick(0, 1) : r.uniform(0, 1);
    const double z = r.uniform(-6, 6), w = r.uniform(0.2, 4);
    const double d = 1e-4;
    auto f = [&](double x) { return xl::element(t, x, w).value; };
    auto g = [&](double x) { return xl::element(t, x, w).grad; };
    const double ng = (-f(z + 2 * d) + 8 * f(z + d) - 8 * f(z - d) + f(z - 2 * d)) / (12 * d);
    const double nh = (-g(z + 2 * d) + 8 * g(z + d) - 8 * g(z - d) + g(z - 2 * d)) / (12 * d);
    const xl::Element e = xl::element(t, z, w);
    h.check(close(e.grad, ng, 1e-7, 1e-9), "gradient at z=" + num(z) + " w=" + num(w));
    h.check(close(e.hess, nh, 1e-6, 1e-9), "Hessian at z=" + num(z) + " w=" + num(w));
    // LightGBM's expressions
    const double epf = std::exp(z), zz = 1 - std::exp(-w * std::log1p(epf));
    const double c = 1 / (1 - zz), a = w * epf / ((1 + epf) * (1 + epf));
    const double b = c / ((c - 1) * (c - 1)) * (1 + w * epf - c);
    h.check(close(e.hess, a * (1 + t * b), 1e-9, 1e-15), "LightGBM's Hessian at z=" + num(z));
    // w = 1: the logistic loss, gradient sigmoid(z) - t, Hessian s (1 - s)
    const double s = 1 / (1 + std::exp(-z));
    const xl::Element one = xl::element(t, z, 1.0);
    h.check(close(one.grad, s - t, 1e-12, 1e-15), "w=1 gradient at z=" + num(z));
    h.check(close(one.hess, s * (1 - s), 1e-9, 1e-15), "w=1 Hessian at z=" + num(z));
  }
}

void limits(Harness& h) {
  const double inf = std::numeric_limits<double>::infinity();
  const xl::Element top = xl::element(1.0, inf, 2.0), bottom = xl::element(0.0, -inf, 2.0);
  h.check(top.value == 0 && top.grad == 0 && top.hess == 0, "t=1, z=+inf: 0");
  h.check(bottom.value == 0 && bottom.grad == 0 && bottom.hess == 0, "t=0, z=-inf: 0");
  const xl::Element low = xl::element(1.0, -800.0, 2.0);
  h.check(low.value == inf && low.grad == -1.0 && std::isfinite(low.hess), "t=1, z=-800");
  h.check(std::isnan(xl::element(0.5, std::nan(""), 1.0).value), "NaN score: NaN");
}

void threads(Harness& h) {
  const index_t n = 50'003;
  Rng r(12);
  std::vector<float> t(n), z(n), w(n);
  for (index_t i = 0; i < n; ++i) {
    t[i] = static_cast<float>(r.uniform(0, 1));
    z[i] = static_cast<float>(r.uniform(-5, 5));
    w[i] = static_cast<float>(r.uniform(0.2, 3));
  }
  const int before = fastloss::get_num_threads();
  auto run = [&](int threads, std::vector<double>& v, std::vector<float>& g,
                 std::vector<float>& hs) {
    fastloss::set_num_threads(threads);
    v.assign(n, 0.0);
    g.assign(n, 0.0f);
    hs.assign(n, 0.0f);
    xl::evaluate(t.data(), z.data(), w.data(), n, v.data(), g.data(), hs.data(),
                 static_cast<const double*>(nullptr), 0.5);
  };
  std::vector<double> v1, v2;
  std::vector<float> g1, g2, h1, h2;
  run(1, v1, g1, h1);
  run(2, v2, g2, h2);
  fastloss::set_num_threads(before);
  bool same = true;
  for (index_t i = 0; i < n; ++i)
    same &= v1[i] == v2[i] && g1[i] == g2[i] && h1[i] == h2[i];
  h.check(same, "1 and 2 threads differ");
  const xl::Element e = xl::element(t[7], z[7], w[7]);
  h.check(close(g1[7], 0.5 * e.grad, 1e-6, 1e-7), "scale multiplies the gradient");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"hand_values", hand_values},
                                 {"derivatives", derivatives},
                                 {"limits", limits},
                                 {"threads", threads}});
}

// The multi-quantile pinball kernel (losses/multi_quantile.hpp) against its
// definition written out element by element: per-row values, gradients with a
// per-row scale, one target per row or one per column, float32 and float64,
// and the same bits for one and two threads over rows that cross the tasks.
#include <cmath>
#include <string>
#include <vector>

#include <fastloss/losses/multi_quantile.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;

double pinball_ref(double t, double p, double q) {
  return t >= p ? q * (t - p) : (1.0 - q) * (p - t);
}

template <class T>
void against_definition(Harness& h, bool per_row, const char* what) {
  const index_t rows = 37, K = 4;
  const std::vector<double> q{0.05, 0.3, 0.5, 0.95};
  Rng rng(per_row ? 11 : 12);
  std::vector<T> t(static_cast<std::size_t>(per_row ? rows : rows * K));
  std::vector<T> p(static_cast<std::size_t>(rows * K));
  std::vector<double> scale(static_cast<std::size_t>(rows));
  for (auto& x : t) x = static_cast<T>(rng.uniform(-2.0, 2.0));
  for (auto& x : p) x = static_cast<T>(rng.uniform(-2.0, 2.0));
  for (auto& x : scale) x = rng.uniform(0.1, 3.0);
  p[5] = per_row ? t[1] : t[5];  // a zero error: the under side's gradient, -q
  std::vector<double> values(static_cast<std::size_t>(rows));
  std::vector<T> grad(p.size());
  multi_quantile::Arrays<T> a;
  a.y_true = t.data();
  a.per_row = per_row;
  a.y_pred = p.data();
  a.quantiles = q.data();
  a.values = values.data();
  a.grad = grad.data();
  a.row_scale = scale.data();
  multi_quantile::run(rows, K, a);
  const double tol = sizeof(T) == 4 ? 1e-6 : 1e-14;
  for (index_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (index_t k = 0; k < K; ++k) {
      const double tv = static_cast<double>(per_row ? t[r] : t[r * K + k]);
      const double pv = static_cast<double>(p[r * K + k]);
      sum += pinball_ref(tv, pv, q[k]);
      const double g = (tv >= pv ? -q[k] : 1.0 - q[k]) / K * scale[r];
      h.check(close(static_cast<double>(grad[r * K + k]), g, tol, tol),
              std::string(what) + " grad " + std::to_string(r) + "," + std::to_string(k));
    }
    h.check(close(values[r], sum / K, tol, tol), std::string(what) + " value " + std::to_string(r));
  }
}

void values(Harness& h) {
  against_definition<double>(h, true, "f64 per-row target");
  against_definition<double>(h, false, "f64 per-column target");
  against_definition<float>(h, true, "f32 per-row target");
  against_definition<float>(h, false, "f32 per-column target");
}

void threads(Harness& h) {
  const index_t rows = 30011, K = 3;  // several tasks, the last one short
  const std::vector<double> q{0.1, 0.5, 0.9};
  Rng rng(5);
  std::vector<float> t(static_cast<std::size_t>(rows)), p(static_cast<std::size_t>(rows * K));
  for (auto& x : t) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  for (auto& x : p) x = static_cast<float>(rng.uniform(-1.0, 1.0));
  std::vector<double> v1(t.size()), v2(t.size());
  std::vector<float> g1(p.size()), g2(p.size());
  multi_quantile::Arrays<float> a;
  a.y_true = t.data();
  a.per_row = true;
  a.y_pred = p.data();
  a.quantiles = q.data();
  const int before = get_num_threads();
  set_num_threads(1);
  a.values = v1.data();
  a.grad = g1.data();
  multi_quantile::run(rows, K, a);
  set_num_threads(2);
  a.values = v2.data();
  a.grad = g2.data();
  multi_quantile::run(rows, K, a);
  set_num_threads(before);
  h.check(v1 == v2 && g1 == g2, "one and two threads give the same bits");
  // no rows: nothing is written
  multi_quantile::run(index_t(0), K, a);
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"values", values}, {"threads", threads}});
}

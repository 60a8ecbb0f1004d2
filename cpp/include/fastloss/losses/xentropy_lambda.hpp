// LightGBM's cross_entropy_lambda ("xentlambda") objective as a loss: labels
// t in [0, 1], raw scores z and per-sample weights w > 0 that enter the link,
// not the loss's scale. With h = softplus(z) = log(1 + e^z) the probability is
// p = 1 - exp(-w h) and the loss the cross-entropy of t and p:
//
//   l(t, z; w) = -t log(1 - exp(-w h)) + (1 - t) w h
//   dl/dz      = w s (1 - t / p),                         s = sigmoid(z)
//   d2l/dz2    = w s (1 - s) (1 - t / p) + t exp(-w h) (w s / p)^2
//
// With w = 1, p = sigmoid(z): the logistic loss. The Hessian is LightGBM's
// (its a (1 + t b) rearranged so that no e^(w h) overflows). Every element is
// computed in float64 on its own, so results do not depend on the thread
// count; layouts are C-contiguous, the inputs of one precision T.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "../detail/driver.hpp"
#include "../detail/math.hpp"
#include "../detail/threads.hpp"

namespace fastloss::xentropy_lambda {

/// One element's loss and its first two derivatives in z.
struct Element {
  double value, grad, hess;
};

inline Element element(double t, double z, double w) {
  const double e = std::exp(-std::fabs(z));
  const double h = math::max_nan(z, 0.0) + std::log1p(e);  // softplus(z), never overflows
  const double s = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  const double wh = w * h;
  const double p = -std::expm1(-wh);  // 1 - exp(-w h), exact for small w h
  const double q = std::exp(-wh);     // 1 - p
  // the 0 * inf of a term whose label weight is 0 is its limit 0
  const double neg = t == 0.0 ? 0.0 : -t * std::log(p);
  const double pos = t == 1.0 ? 0.0 : (1.0 - t) * wh;
  // s / p tends to 1 / w as z -> -inf (where p underflows to 0)
  const double ratio = p > 0.0 ? s / p : 1.0 / w;
  const double wr = w * ratio;
  return {neg + pos, w * s - t * wr, w * s * (1.0 - s) - t * (1.0 - s) * wr + t * q * wr * wr};
}

/// Elements per task: a fixed split by the size alone.
inline constexpr index_t kTaskElements = 4096;

/// Over n elements: `value` (float64, may be null) receives each element's
/// loss; `grad` and `hess` (may be null) its derivatives times coef[i] (coef
/// null: times `scale`). `w` null: every weight is 1.
template <class T>
void evaluate(const T* t, const T* z, const T* w, index_t n, double* value, T* grad, T* hess,
              const double* coef, double scale) {
  const index_t tasks = (n + kTaskElements - 1) / kTaskElements;
  fastloss::detail::parallel_for(tasks, fastloss::detail::threads_for(tasks), [&](index_t k) {
    const index_t i0 = k * kTaskElements, i1 = std::min(n, i0 + kTaskElements);
    for (index_t i = i0; i < i1; ++i) {
      const Element el = element(static_cast<double>(t[i]), static_cast<double>(z[i]),
                                 w ? static_cast<double>(w[i]) : 1.0);
      const double c = coef ? coef[i] : scale;
      if (value) value[i] = el.value;
      if (grad) grad[i] = static_cast<T>(c * el.grad);
      if (hess) hess[i] = static_cast<T>(c * el.hess);
    }
  });
}

}  // namespace fastloss::xentropy_lambda

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
#include <type_traits>

#include "../detail/driver.hpp"
#include "../detail/math.hpp"
#include "../detail/threads.hpp"
#include "../detail/vmath.hpp"

namespace fastloss::xentropy_lambda {

/// One element's loss and its first two derivatives in z.
struct Element {
  double value, grad, hess;
};

/// 1 - e^-x for x >= 0 (or NaN), given q = e^-x: a series below 1/16, where
/// 1 - q would lose the digits of a small x, and 1 - q above.
FASTLOSS_INLINE double one_minus_exp_neg(double x, double q) {
  const double tail =
      1.0 - x * (1.0 / 2 - x * (1.0 / 6 - x * (1.0 / 24 - x * (1.0 / 120 - x * (1.0 / 720 -
      x * (1.0 / 5040 - x * (1.0 / 40320 - x * (1.0 / 362880 - x * (1.0 / 3628800)))))))));
  return x < 0.0625 ? x * tail : 1.0 - q;
}

/// Selects, not branches, and vmath's exp and log: a loop over it vectorises.
FASTLOSS_INLINE Element element(double t, double z, double w) {
  const double e = vmath::exp_nonpositive(-std::fabs(z));
  const double r = 1.0 / (1.0 + e);
  const double h = math::max_nan(z, 0.0) + vmath::log1p_unit(e, r);  // softplus(z)
  const double s = z >= 0 ? r : e * r;                                 // sigmoid(z)
  const double wh = w * h;
  const double q = vmath::exp_nonpositive(-wh);  // 1 - p
  const double p = one_minus_exp_neg(wh, q);     // 1 - exp(-w h), exact for small w h
  // the 0 * inf of a term whose label weight is 0 is its limit 0
  const double neg = t == 0.0 ? 0.0 : -t * vmath::log(p);
  const double pos = t == 1.0 ? 0.0 : (1.0 - t) * wh;
  // s / p tends to 1 / w as z -> -inf (where p underflows to 0)
  const double ratio = p > 0.0 ? s / p : 1.0 / w;
  const double wr = w * ratio;
  return {neg + pos, w * s - t * wr, w * s * (1.0 - s) - t * (1.0 - s) * wr + t * q * wr * wr};
}

/// One tile [i0, i1): the outputs and inputs that exist are template
/// arguments, so the loop has no test of a pointer and vectorises.
template <bool kValue, bool kGrad, bool kHess, bool kWeight, bool kCoef, class T>
void tile(const T* t, const T* z, const T* w, index_t i0, index_t i1, double* value, T* grad,
          T* hess, const double* coef, double scale) {
  FASTLOSS_SIMD
  for (index_t i = i0; i < i1; ++i) {
    const Element el = element(static_cast<double>(t[i]), static_cast<double>(z[i]),
                               kWeight ? static_cast<double>(w[i]) : 1.0);
    const double c = kCoef ? coef[i] : scale;
    if constexpr (kValue) value[i] = el.value;
    if constexpr (kGrad) grad[i] = static_cast<T>(c * el.grad);
    if constexpr (kHess) hess[i] = static_cast<T>(c * el.hess);
  }
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
  // one loop per set of outputs and inputs present (value, gradient, Hessian;
  // weights, per-element coefficients)
  auto run = [&](auto body) {
    fastloss::detail::parallel_for(tasks, fastloss::detail::threads_for(tasks), [&](index_t k) {
      body(k * kTaskElements, std::min(n, (k + 1) * kTaskElements));
    });
  };
  using Yes = std::true_type;
  using No = std::false_type;
  auto pick = [&](auto weight, auto per) {
    constexpr bool kW = decltype(weight)::value, kC = decltype(per)::value;
    auto with = [&](auto v, auto g, auto hs) {
      constexpr bool kV = decltype(v)::value, kG = decltype(g)::value, kH = decltype(hs)::value;
      run([&](index_t a, index_t b) {
        tile<kV, kG, kH, kW, kC>(t, z, w, a, b, value, grad, hess, coef, scale);
      });
    };
    auto by_hess = [&](auto v, auto g) {
      if (hess) with(v, g, Yes{});
      else with(v, g, No{});
    };
    auto by_grad = [&](auto v) {
      if (grad) by_hess(v, Yes{});
      else by_hess(v, No{});
    };
    if (value) by_grad(Yes{});
    else by_grad(No{});
  };
  if (w && coef) pick(Yes{}, Yes{});
  else if (w) pick(Yes{}, No{});
  else if (coef) pick(No{}, Yes{});
  else pick(No{}, No{});
}

}  // namespace fastloss::xentropy_lambda

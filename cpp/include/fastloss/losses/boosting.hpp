// The gradient-boosting objectives (XGBoost, LightGBM, CatBoost) as elementwise losses: the
// log-link losses (Poisson, Gamma, Tweedie) on the mean or, with
// log_input=True, on z = log(mean), the raw score a boosting library hands its
// objective; and the robust regression objectives Fair and Expectile. Same
// conventions as regression.hpp: t is y_true, p is y_pred (z for a log-input
// struct); value_grad returns f and sets df/dp, grad_hess sets df/dp and d2f/dp2.
#pragma once

#include <cmath>
#include <limits>

#include "../detail/isa.hpp"
#include "../detail/math.hpp"
#include "info.hpp"
#include "regression.hpp"  // Poisson

namespace fastloss {

/// Poisson with log_input=True: exp(z) - t z (PyTorch's poisson_nll_loss with
/// log_input=True, full=False). Gradient exp(z) - t, Hessian exp(z).
struct PoissonLogInput {
  static constexpr const char* kName = "poisson_log_input";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = logits_kernel_of(
      Poisson::kInfo, {{0, 0, 1},
                       {2, 0, 1},
                       {1, 0.6931471805599453, 1.3068528194400546},  // z = log 2: 2 - log 2
                       {3, 1, -0.28171817154095458}});               // e - 3
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    const T m = math::exp(z);
    g = m - t;
    return m - t * z;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T z, T& g, T& h) const {
    const T m = math::exp(z);
    g = m - t;
    h = m;
  }
};

/// Gamma deviance up to terms free of the mean: t / p + log p on the mean p;
/// with log_input=True (GammaLogInput) t exp(-z) + z.
struct Gamma {
  static constexpr const char* kName = "gamma";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Gamma", "gamma", "gamma", "gamma_loss", "", AxisArg::Last,
      "Gamma negative log-likelihood (the Gamma deviance up to terms free of the mean), the "
      "objective of XGBoost's ``reg:gamma`` and LightGBM's ``gamma``.",
      "t / p + log p; log input z: t exp(-z) + z",
      "(1 - t / p) / p; log input: 1 - t exp(-z)",
      "(2 t / p - 1) / p**2 (negative where p > 2 t: the loss is not convex in the mean); "
      "log input: t exp(-z)",
      "Domain: t >= 0, p > 0; p <= 0 gives NaN or inf, as NumPy's log and division do. Half "
      "the Gamma deviance, t / p - log(t / p) - 1, is the value minus log t + 1. The log-input "
      "path is scikit-learn's ``HalfGammaLoss`` on raw scores, value, gradient and Hessian "
      "alike (its ``constant_to_optimal_zero``, -log t - 1, turns the value into half the "
      "deviance), and the gradient and Hessian of XGBoost's ``reg:gamma`` and LightGBM's "
      "``gamma``.",
      "", Domain::Positive, Kink::None, {},
      {{1, 1, 1},
       {2, 1, 2},
       {1, 2.718281828459045, 1.3678794411714423},  // 1/e + 1
       {4, 2, 2.6931471805599454},                  // 2 + log 2
       {0, 1, 0}},
      {0, "y_pred holds z = log(mean) (PyTorch's ``log_input`` name), the raw score of a "
          "log-link boosting objective.",
       "log_input"}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T r = t / p;
    g = (T(1) - r) / p;
    return r + math::log(p);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T r = t / p;
    g = (T(1) - r) / p;
    h = (T(2) * r - T(1)) / (p * p);
  }
};

/// Gamma with log_input=True: t exp(-z) + z. Gradient 1 - t exp(-z), Hessian t exp(-z).
struct GammaLogInput {
  static constexpr const char* kName = "gamma_log_input";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = logits_kernel_of(
      Gamma::kInfo, {{1, 0, 1},
                     {2, 0, 2},
                     {1, 0.6931471805599453, 1.1931471805599454},  // z = log 2: 1/2 + log 2
                     {0, 3, 3}});
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    const T a = t * math::exp(-z);
    g = T(1) - a;
    return a + z;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T z, T& g, T& h) const {
    const T a = t * math::exp(-z);
    g = T(1) - a;
    h = a;
  }
};

/// Tweedie negative log-likelihood up to terms free of the mean, 1 < power < 2:
/// -t p^(1-ρ) / (1-ρ) + p^(2-ρ) / (2-ρ) on the mean p; with log_input=True
/// (TweedieLogInput) the same with p = exp(z).
struct Tweedie {
  static constexpr const char* kName = "tweedie";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Tweedie", "tweedie", "tweedie", "tweedie_loss", "", AxisArg::Last,
      "Tweedie negative log-likelihood (compound Poisson-Gamma, 1 < power < 2) up to terms "
      "free of the mean, the objective of XGBoost's ``reg:tweedie`` and LightGBM's "
      "``tweedie``.",
      "-t p**(1 - rho) / (1 - rho) + p**(2 - rho) / (2 - rho),  rho = power; log input z: "
      "-t exp((1 - rho) z) / (1 - rho) + exp((2 - rho) z) / (2 - rho)",
      "p**(1 - rho) (1 - t / p); log input: exp((2 - rho) z) - t exp((1 - rho) z)",
      "p**(1 - rho) / p (rho t / p + 1 - rho); log input: "
      "(2 - rho) exp((2 - rho) z) - (1 - rho) t exp((1 - rho) z)",
      "Domain: t >= 0, p > 0 (p < 0 gives NaN). The powers are exp(e log p), whose relative "
      "error is about |e log p| ulp. The log-input path is scikit-learn's "
      "``HalfTweedieLoss(power)`` on raw scores, value, gradient and Hessian alike (it "
      "keeps the terms free of the mean in ``constant_to_optimal_zero``, not in the value), "
      "and the gradient and Hessian of XGBoost's ``reg:tweedie`` "
      "(tweedie_variance_power = power) and LightGBM's ``tweedie``. The power 1 (Poisson) "
      "and 2 (Gamma) are refused: there the formula divides by zero; use Poisson or Gamma.",
      "", Domain::Positive, Kink::None,
      {{"power", 1.5, Range::Open12,
        "The Tweedie variance power rho (XGBoost's tweedie_variance_power).", 1.2}},
      {{1, 1, 4},      // 2 + 2
       {1, 4, 5},      // 2 / 2 + 2 * 2
       {0, 4, 4},
       {2, 0.25, 9}},  // 2 * 2 * 2 + 2 / 2
      {1, "y_pred holds z = log(mean) (PyTorch's ``log_input`` name), the raw score of a "
          "log-link boosting objective.",
       "log_input"}};
  double power = 1.5;
  explicit Tweedie(double power_ = 1.5) : power(detail::checked_param(kInfo, 0, power_)) {}
  // The powers are exp(e log p), vectorised in both precisions: pow's own
  // values for p >= 0 (p = 0 and inf included), NaN for every p < 0 (-inf too).
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T one = static_cast<T>(1.0 - power), two = static_cast<T>(2.0 - power);
    const T lp = math::log(p);
    const T a = math::exp(one * lp);  // p^(1-ρ)
    const T b = math::exp(two * lp);  // p^(2-ρ), its own power: a p is NaN at p = inf
    g = a - t * (a / p);  // as grad_hess computes it, bit for bit
    return -t * a / one + b / two;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T one = static_cast<T>(1.0 - power);
    const T a = math::exp(one * math::log(p));
    const T ap = a / p;
    g = a - t * ap;
    h = ap * (static_cast<T>(power) * t / p + one);
  }
};

/// Tweedie with log_input=True: -t e^((1-ρ)z) / (1-ρ) + e^((2-ρ)z) / (2-ρ).
/// Gradient e^((2-ρ)z) - t e^((1-ρ)z), Hessian (2-ρ) e^((2-ρ)z) - (1-ρ) t e^((1-ρ)z).
struct TweedieLogInput {
  static constexpr const char* kName = "tweedie_log_input";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = logits_kernel_of(
      Tweedie::kInfo, {{1, 0, 4},
                       {0, 0, 2},
                       {1, 1.3862943611198906, 5},  // z = log 4: 2 / 2 + 2 * 2
                       {3, 0, 8}});
  double power = 1.5;
  explicit TweedieLogInput(double power_ = 1.5)
      : power(detail::checked_param(kInfo, 0, power_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    const T one = static_cast<T>(1.0 - power), two = static_cast<T>(2.0 - power);
    const T a = t * math::exp(one * z);
    const T b = math::exp(two * z);
    g = b - a;
    return -a / one + b / two;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T z, T& g, T& h) const {
    const T one = static_cast<T>(1.0 - power), two = static_cast<T>(2.0 - power);
    const T a = t * math::exp(one * z);
    const T b = math::exp(two * z);
    g = b - a;
    h = two * b - one * a;
  }
};

/// LightGBM's fair loss: c² (|x| / c - log(1 + |x| / c)), x = p - t.
/// Gradient c x / (|x| + c), Hessian c² / (|x| + c)².
struct Fair {
  static constexpr const char* kName = "fair";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Fair", "fair", "fair", "fair_loss", "", AxisArg::Last,
      "Fair loss (LightGBM's ``fair`` objective): quadratic near zero, linear far from it, "
      "with derivatives of every order.",
      "c**2 (|x| / c - log(1 + |x| / c)),  x = p - t", "c x / (|x| + c)", "c**2 / (|x| + c)**2",
      "Near zero (|x| < c / 16) the value is summed from a series that keeps full relative "
      "precision where the formula (LightGBM's metric, c |x| - c**2 log1p(|x| / c)) cancels; "
      "at |x| = inf the value and gradient are their limits, inf and c sign(x). The gradient "
      "and Hessian are LightGBM's fair objective's (fair_c = c).",
      "", Domain::Real, Kink::None,
      {{"c", 1.0, Range::PositiveFinite, "The scale of the quadratic zone (LightGBM's fair_c).",
        2.5}},
      {{0, 0, 0},
       {0, 1, 0.30685281944005466},   // 1 - log 2
       {1, 0, 0.30685281944005466},
       {0, 3, 1.6137056388801094}}};  // 3 - log 4
  double c = 1.0;
  explicit Fair(double c_ = 1.0) : c(detail::checked_param(kInfo, 0, c_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T cc = static_cast<T>(c);
    const T x = p - t;
    const T a = std::fabs(x);
    const bool finite = !(a > std::numeric_limits<T>::max());  // NaN stays on the formula
    g = finite ? cc * x / (a + cc) : cc * math::sign(x);
    // u - log1p(u), u = |x| / c: for small u, from w = u / (2 + u), with
    // log1p(u) = 2 atanh(w) and u - 2 w = u w, as u w - 2 w^3 (1/3 + w^2/5 + ...)
    // (no cancellation: the direct difference keeps about u / 2 of its digits);
    // past u = 1/16 the direct difference (relative error below 32 ulp).
    const T u = a / cc;
    const T w = u / (T(2) + u);
    const T w2 = w * w;
    const T tail =
        T(1) / T(3) +
        w2 * (T(1) / T(5) +
              w2 * (T(1) / T(7) + w2 * (T(1) / T(9) + w2 * (T(1) / T(11) + w2 * (T(1) / T(13))))));
    const T small = u * w - T(2) * (w * w2) * tail;
    const T d = u < T(0.0625) ? small : u - math::log1p(u);
    return finite ? (cc * cc) * d : cc * a;  // the limit c |x| at |x| = inf
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T cc = static_cast<T>(c);
    const T x = p - t;
    const T a = std::fabs(x);
    const T s = a + cc;
    g = a > std::numeric_limits<T>::max() ? cc * math::sign(x) : cc * x / s;
    h = (cc * cc) / (s * s);  // 0 at |x| = inf
  }
};

/// CatBoost's Expectile: |τ - 1[t < p]| (t - p)². Gradient 2 w (p - t),
/// Hessian 2 w (piecewise constant), w = 1 - τ where t < p, τ elsewhere.
struct Expectile {
  static constexpr const char* kName = "expectile";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Expectile", "expectile", "expectile", "expectile_loss", "", AxisArg::Last,
      "Expectile loss (CatBoost's ``Expectile``): an asymmetrically weighted squared error "
      "whose minimiser is the expectile of y_true.",
      "|tau - 1[t < p]| (t - p)**2,  tau = expectile",
      "2 w (p - t),  w = 1 - tau if t < p else tau", "2 w (piecewise constant; jumps at p == t)",
      "At p == t the weight is tau's (t < p is false there). With expectile 0.5 it is "
      "HalfSquaredError. CatBoost's objective reports the derivatives of the negated loss "
      "(its sign convention) and, as this Hessian, the constant 2 w on each side.",
      "", Domain::Real, Kink::AtZero,
      {{"expectile", 0.5, Range::Open01, "The expectile tau (CatBoost's alpha).", 0.9}},
      {{1, 3, 2}, {3, 1, 2}, {0, 0, 0}, {-1, 0.5, 1.125}}};
  double expectile = 0.5;
  explicit Expectile(double expectile_ = 0.5)
      : expectile(detail::checked_param(kInfo, 0, expectile_)) {}
  // both weights rounded once from double: 1 - tau in float32 arithmetic is
  // not float32(1 - tau) (0.9 -> 0.100000024), and the Hessian is 2 w exactly
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T over = static_cast<T>(1.0 - expectile), under = static_cast<T>(expectile);
    const T r = t - p;
    const T w = t < p ? over : under;
    g = T(-2) * w * r;
    return w * (r * r);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T over = static_cast<T>(1.0 - expectile), under = static_cast<T>(expectile);
    const T w = t < p ? over : under;
    g = T(-2) * w * (t - p);
    h = T(2) * w;
  }
};

}  // namespace fastloss

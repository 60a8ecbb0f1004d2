// Regression losses: f(t, p) per element, averaged over the last axis by the
// driver. t is y_true, p is y_pred; value_grad returns f and sets df/dp,
// grad_hess sets df/dp and d2f/dp2. The arithmetic follows Keras 3's
// expressions operation by operation, in the input precision T.
#pragma once

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "../detail/isa.hpp"
#include "../detail/math.hpp"
#include "info.hpp"

namespace fastloss {

namespace detail {
inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}
}  // namespace detail

/// (t - p)^2. Gradient 2 (p - t), Hessian 2.
struct MeanSquaredError {
  static constexpr const char* kName = "mean_squared_error";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "MeanSquaredError", "mean_squared_error", "mean_squared_error", "mse MSE", "mse",
      AxisArg::Last,
      "Mean squared error (Keras ``MeanSquaredError``).", "(t - p)**2", "2 (p - t)", "2", "", "",
      Domain::Real, Kink::None, {},
      {{1, 3, 4}, {-1, 0.5, 2.25}, {2.5, 2.5, 0}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T d = t - p;
    g = T(-2) * d;
    return d * d;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    g = T(2) * (p - t);
    h = T(2);
  }
};

/// |t - p|. Gradient sign(p - t) (0 at p == t). Piecewise linear: no Hessian.
struct MeanAbsoluteError {
  static constexpr const char* kName = "mean_absolute_error";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "MeanAbsoluteError", "mean_absolute_error", "mean_absolute_error", "mae MAE", "mae",
      AxisArg::Last, "Mean absolute error (Keras ``MeanAbsoluteError``).", "|t - p|",
      "sign(p - t)  (0 at p == t)", "", "", kPiecewiseLinear, Domain::Real, Kink::AtZero, {},
      {{1, 3, 2}, {0.5, 0.25, 0.25}, {-2, 1, 3}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T d = t - p;
    g = -math::sign(d);
    return std::fabs(d);
  }
};

/// 100 |t - p| / max(|t|, 1e-7). Gradient 100 sign(p - t) / max(|t|, 1e-7).
struct MeanAbsolutePercentageError {
  static constexpr const char* kName = "mean_absolute_percentage_error";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "MeanAbsolutePercentageError", "mean_absolute_percentage_error",
      "mean_absolute_percentage_error", "mape MAPE", "mape", AxisArg::Last,
      "Mean absolute percentage error (Keras ``MeanAbsolutePercentageError``).",
      "100 |t - p| / max(|t|, 1e-7)", "100 sign(p - t) / max(|t|, 1e-7)", "",
      "The 1e-7 floor on |t| is Keras's epsilon.", kPiecewiseLinear, Domain::Real, Kink::AtZero,
      {},
      {{2, 3, 50},       // 100 * 1 / 2
       {-4, -3, 25},     // 100 * 1 / 4
       {0, 2e-7, 200},   // |t| floored at 1e-7
       {0.5, 0.5, 0}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T denom = math::max_nan(std::fabs(t), static_cast<T>(math::kKerasEpsilon));
    const T d = t - p;
    g = T(100) * (-math::sign(d)) / denom;
    return T(100) * std::fabs(d / denom);
  }
};

/// (log(max(p, eps) + 1) - log(max(t, eps) + 1))^2, eps = 1e-7 as Keras. The
/// gradient is zero where p < eps (the clip is active there).
struct MeanSquaredLogarithmicError {
  static constexpr const char* kName = "mean_squared_logarithmic_error";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
      "mean_squared_logarithmic_error", "msle MSLE", "msle", AxisArg::Last,
      "Mean squared logarithmic error (Keras ``MeanSquaredLogarithmicError``).",
      "(log(max(p, 1e-7) + 1) - log(max(t, 1e-7) + 1))**2",
      "2 r / (p + 1), r the log difference; 0 where p < 1e-7 (clipped)",
      "2 (1 - r) / (p + 1)**2; 0 where clipped",
      "Inputs below 1e-7 are clipped as Keras clips them, so the gradient is zero there.", "",
      Domain::Positive, Kink::None, {},
      {{1.718281828459045, 6.3890560989306495, 1},  // t = e - 1, p = e^2 - 1: (2 - 1)^2
       {6.3890560989306495, 1.718281828459045, 1},
       {0, 1.718281828459045, 0.9999998000000199},  // t clipped to 1e-7: (1 - log(1 + 1e-7))^2
       {3, 3, 0},
       {0, -5, 0}}};  // both clipped to 1e-7
  template <class T>
  FASTLOSS_INLINE static T log_term(T x) {
    return math::log(math::max_nan(x, static_cast<T>(math::kKerasEpsilon)) + T(1));
  }
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T r = log_term(p) - log_term(t);
    const bool live = p >= static_cast<T>(math::kKerasEpsilon);
    g = live ? T(2) * r / (p + T(1)) : T(0);
    return r * r;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T r = log_term(p) - log_term(t);
    const bool live = p >= static_cast<T>(math::kKerasEpsilon);
    const T q = T(1) / (p + T(1));
    g = live ? T(2) * r * q : T(0);
    h = live ? T(2) * (T(1) - r) * q * q : T(0);
  }
};

/// ½e² for |e| <= delta, delta(|e| - ½delta) beyond; e = p - t.
struct Huber {
  static constexpr const char* kName = "huber";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Huber", "huber_loss", "huber", "huber_loss", "", AxisArg::None,
      "Huber loss (Keras ``Huber``): quadratic near zero, linear beyond delta.",
      "e**2 / 2 if |e| <= delta else delta (|e| - delta / 2),  e = p - t",
      "e if |e| <= delta else delta sign(e)", "1 if |e| <= delta else 0", "", "",
      Domain::Real, Kink::AtFirstParameter,
      {{"delta", 1.0, Range::Positive, "Where the quadratic turns linear.", 0.3}},
      {{0, 0.5, 0.125}, {0, 3, 2.5}, {2, 1, 0.5}}};
  double delta = 1.0;
  explicit Huber(double delta_ = 1.0) : delta(detail::checked_param(kInfo, 0, delta_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T dl = static_cast<T>(delta);
    const T e = p - t;
    const T a = std::fabs(e);
    const bool inner = a <= dl;  // selects, not branches: random data mispredicts
    g = inner ? e : dl * math::sign(e);
    return inner ? T(0.5) * (e * e) : dl * a - T(0.5) * (dl * dl);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T dl = static_cast<T>(delta);
    const T e = p - t;
    const bool inner = std::fabs(e) <= dl;
    g = inner ? e : dl * math::sign(e);
    h = inner ? T(1) : T(0);
  }
};

/// log cosh(e) computed as Keras does, e + softplus(-2e) - log 2, which is
/// finite for any |e| (cosh itself overflows past ~89 in float32).
/// Gradient tanh(e), Hessian 1 - tanh²(e).
struct LogCosh {
  static constexpr const char* kName = "log_cosh";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "LogCosh", "log_cosh", "log_cosh", "logcosh", "logcosh", AxisArg::Last,
      "Logarithm of the hyperbolic cosine of the error (Keras ``LogCosh``).",
      "log(cosh(e)) = e + softplus(-2 e) - log 2,  e = p - t", "tanh(e)", "1 - tanh(e)**2",
      "Evaluated through softplus, as Keras does, so that it stays finite where cosh overflows.",
      "", Domain::Real, Kink::None, {},
      {{0, 0, 0},
       {0, 1.3169578969248166, 0.6931471805599453},  // e = acosh 2: log 2
       {100, 0, 99.30685281944005}}};                 // |e| - log 2 where cosh overflows
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T e = p - t;
    // log cosh is even: |e| + softplus(-2|e|) - log 2 equals Keras's
    // e + softplus(-2e) - log 2 and stays inf (not inf - inf) at e = -inf.
    // e^-2|e| and 1 / (1 + e^-2|e|) serve the softplus and tanh(e).
    const T a = std::fabs(e);
    const math::Logistic<T> l2(T(2) * a);
    g = math::tanh_from(e, l2);
    return a + l2.softplus(T(-2) * a) - static_cast<T>(0.69314718055994530942);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T e = p - t;
    const T th = math::tanh_from(e, math::Logistic<T>(T(2) * std::fabs(e)));
    g = th;
    h = T(1) - th * th;
  }
};

/// p - t log(p + 1e-7). Gradient 1 - t / (p + 1e-7), Hessian t / (p + 1e-7)².
/// With log_input=True the class evaluates PoissonLogInput (losses/boosting.hpp).
struct Poisson {
  static constexpr const char* kName = "poisson";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Poisson", "poisson", "poisson", "", "", AxisArg::Last,
      "Poisson negative log-likelihood without the constant (Keras ``Poisson``); with "
      "``log_input=True`` y_pred is the log of the mean, a boosting raw score.",
      "p - t log(p + 1e-7); log input z: exp(z) - t z",
      "1 - t / (p + 1e-7); log input: exp(z) - t",
      "t / (p + 1e-7)**2; log input: exp(z)",
      "Domain: p > -1e-7; negative predictions give NaN, as NumPy's log does. The mean path "
      "is Keras's ``Poisson`` (the 1e-7 is Keras's epsilon); it equals PyTorch's "
      "``poisson_nll_loss(log_input=False, full=False, eps=1e-7)``. The log-input path is "
      "PyTorch's ``poisson_nll_loss(log_input=True, full=False)`` (no epsilon) and XGBoost's "
      "``count:poisson`` / LightGBM's ``poisson`` objective on raw scores; scikit-learn's "
      "``HalfPoissonLoss`` has the same value, gradient and Hessian (its "
      "``constant_to_optimal_zero``, t log t - t, is not part of the value). XGBoost's "
      "objective adds max_delta_step to the Hessian; this is the exact one. exp(z) overflows "
      "to inf for z above about 88.7 (float32) or 709.8 (float64).",
      "", Domain::Positive, Kink::None, {},
      {{0, 2, 2},
       {2, 1, 0.9999998000000099}},  // 1 - 2 log(1 + 1e-7)
      {0, "y_pred holds z = log(mean) (PyTorch's ``log_input``), the raw score of a "
          "log-link boosting objective.",
       "log_input"}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T q = p + static_cast<T>(math::kKerasEpsilon);
    g = T(1) - t / q;
    return p - t * math::log(q);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T q = p + static_cast<T>(math::kKerasEpsilon);
    g = T(1) - t / q;
    h = t / (q * q);
  }
};

/// ½ (p - t)², the textbook squared loss (scikit-learn's HalfSquaredError).
struct HalfSquaredError {
  static constexpr const char* kName = "half_squared_error";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "HalfSquaredError", "half_squared_error", "half_squared_error", "squared_error", "",
      AxisArg::Last,
      "Half squared error, the textbook squared loss (scikit-learn's HalfSquaredError).",
      "(p - t)**2 / 2", "p - t", "1", "", "", Domain::Real, Kink::None, {},
      {{1, 4, 4.5}, {-1, -1, 0}, {0, -2, 2}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T d = p - t;
    g = d;
    return T(0.5) * (d * d);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    g = p - t;
    h = T(1);
  }
};

/// CatBoost's MultiRMSEWithMissingValues objective: the half squared error
/// of every element whose target is present, 0 (and no derivatives) where the
/// target is NaN, "missing". A NaN y_pred still propagates where its target
/// is present.
struct MultiRMSEWithMissingValues {
  static constexpr const char* kName = "multi_rmse_with_missing_values";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "MultiRMSEWithMissingValues", "multi_rmse_with_missing_values",
      "multi_rmse_with_missing_values", "", "", AxisArg::Last,
      "Half squared error of a multi-output regression that skips missing (NaN) targets "
      "(CatBoost's MultiRMSEWithMissingValues).",
      "(p - t)**2 / 2 where t is not NaN, 0 where it is", "p - t where t is not NaN, else 0",
      "1 where t is not NaN, else 0",
      "A NaN in y_true marks a missing target: the element adds 0 to its sample's mean over "
      "the last axis (which still divides by the full width) and gets gradient and Hessian 0, "
      "whatever y_pred holds there; a NaN in y_pred propagates where its target is present. "
      "The gradient and Hessian are CatBoost's MultiRMSE derivatives (t - p and -1 in its "
      "sign convention), so ``fl.catboost.objective(MultiRMSEWithMissingValues())`` trains as "
      "``loss_function='MultiRMSEWithMissingValues'``. CatBoost's reported metric is "
      "sqrt(sum_k (sum over the present targets of column k of w (t - p)**2) / (sum of their "
      "weights)): each column is averaged over its own present targets.",
      "", Domain::Real, Kink::None, {},
      {{1, 4, 4.5}, {-1, -1, 0}, {0, -2, 2}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const bool present = t == t;
    const T d = present ? p - t : T(0);
    g = d;
    return T(0.5) * (d * d);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const bool present = t == t;
    g = present ? p - t : T(0);
    h = present ? T(1) : T(0);
  }
};

/// PyTorch's smooth_l1_loss: ½e²/beta for |e| < beta, |e| - ½beta beyond;
/// beta == 0 is the plain absolute error (as in PyTorch).
struct SmoothL1 {
  static constexpr const char* kName = "smooth_l1";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "SmoothL1", "smooth_l1", "smooth_l1", "smooth_l1_loss", "", AxisArg::None,
      "PyTorch's smooth L1 loss.",
      "e**2 / (2 beta) if |e| < beta else |e| - beta / 2,  e = p - t",
      "e / beta if |e| < beta else sign(e)", "1 / beta if |e| < beta else 0",
      "Huber(delta) equals delta * SmoothL1(beta=delta).", "", Domain::Real,
      Kink::AtFirstParameter,
      {{"beta", 1.0, Range::NonNegativeFinite,
        "Width of the quadratic zone (0 is the absolute error, as in PyTorch).", 0.4}},
      {{0, 0.5, 0.125},   // e^2 / (2 beta)
       {0, 3, 2.5},       // |e| - beta / 2
       {1, -1, 1.5}}};
  double beta = 1.0;
  explicit SmoothL1(double beta_ = 1.0) : beta(detail::checked_param(kInfo, 0, beta_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T b = static_cast<T>(beta);
    const T e = p - t;
    const T a = std::fabs(e);
    const bool inner = a < b;
    const T bs = inner ? b : T(1);  // keeps beta == 0 free of 0/0 in the unused side
    g = inner ? e / bs : math::sign(e);
    return inner ? T(0.5) * e * e / bs : a - T(0.5) * b;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T b = static_cast<T>(beta);
    const T e = p - t;
    const bool inner = std::fabs(e) < b;
    g = inner ? e / b : math::sign(e);
    h = inner ? T(1) / b : T(0);
  }
};

/// δ²(√(1 + (e/δ)²) − 1), e = p − t: a smooth Huber, XGBoost's
/// reg:pseudohubererror (δ its huber_slope). Gradient e / √(1 + (e/δ)²),
/// Hessian (1 + (e/δ)²)^(-3/2). The value is evaluated as δ² r² / (√(1 + r²) + 1),
/// r = e/δ, which does not cancel to 0 for small errors; past the range where r²
/// is finite the value and gradient take their limits δ|e| and δ sign(e).
struct PseudoHuber {
  static constexpr const char* kName = "pseudo_huber";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "PseudoHuber", "pseudo_huber", "pseudo_huber", "pseudo_huber_loss pseudohubererror", "",
      AxisArg::Last,
      "Pseudo-Huber loss (XGBoost's ``reg:pseudohubererror``): a smooth Huber loss, "
      "quadratic near zero and linear beyond delta.",
      "delta**2 (sqrt(1 + (e / delta)**2) - 1),  e = p - t", "e / sqrt(1 + (e / delta)**2)",
      "(1 + (e / delta)**2)**-1.5",
      "Evaluated as delta**2 r**2 / (sqrt(1 + r**2) + 1), r = e / delta, which keeps full "
      "precision for small errors. XGBoost's huber_slope is delta; its gradient and Hessian "
      "are these.",
      "", Domain::Real, Kink::None,
      {{"delta", 1.0, Range::PositiveFinite, "Where the quadratic turns linear (huber_slope).", 2.5}},
      {{0, 0, 0},
       {0, 1, 0.41421356237309515},   // sqrt(2) - 1
       {1, -2, 2.1622776601683795},   // sqrt(10) - 1
       {3, 3.5, 0.118033988749895}}};  // sqrt(1.25) - 1
  double delta = 1.0;
  explicit PseudoHuber(double delta_ = 1.0) : delta(detail::checked_param(kInfo, 0, delta_)) {}
  /// e, r² = (e/δ)², s = √(1 + r²), and whether r² is finite (NaN counts as
  /// finite: it stays on the formula's branch and propagates).
  template <class T>
  struct Parts {
    T e, q, s;
    bool finite;
  };
  template <class T>
  FASTLOSS_INLINE Parts<T> parts(T t, T p) const {
    const T e = p - t;
    const T r = e / static_cast<T>(delta);
    const T q = r * r;
    return {e, q, std::sqrt(T(1) + q), !(q > std::numeric_limits<T>::max())};
  }
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T dl = static_cast<T>(delta);
    const Parts<T> x = parts(t, p);  // selects below, no branch per element
    g = x.finite ? x.e / x.s : dl * math::sign(x.e);
    return x.finite ? dl * dl * x.q / (x.s + T(1)) : dl * std::fabs(x.e);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T dl = static_cast<T>(delta);
    const Parts<T> x = parts(t, p);
    g = x.finite ? x.e / x.s : dl * math::sign(x.e);
    h = x.finite ? T(1) / (x.s * x.s * x.s) : T(0);
  }
};

/// Quantile (pinball) loss: q (t - p) when t >= p, (1 - q)(p - t) otherwise.
/// Gradient -q when t >= p (scikit-learn's convention at the kink), 1 - q otherwise.
struct Pinball {
  static constexpr const char* kName = "pinball";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "Pinball", "pinball", "pinball", "quantile pinball_loss", "", AxisArg::None,
      "Pinball (quantile) loss; its minimiser is the `quantile` of y_true.",
      "q (t - p) if t >= p else (1 - q) (p - t); log input z: the same of p = exp(z)",
      "-q if t >= p else 1 - q; log input: the same times exp(z)", "",
      "At t == p the gradient is -q, scikit-learn's PinballLoss convention. It is "
      "scikit-learn's ``mean_pinball_loss(alpha=q)``; the log-input path is CatBoost's "
      "``LogLinQuantile:alpha=q`` (CatBoost takes t > exp(z) as the under side).",
      kPiecewiseLinear,
      Domain::Real, Kink::AtZero,
      {{"quantile", 0.5, Range::Open01, "The quantile q.", 0.9}},
      {{1, 0, 0.5}, {0, 1, 0.5}},
      {1, "y_pred holds z = log(prediction), a log-link raw score: the loss is the pinball "
          "loss of exp(z) (CatBoost's ``LogLinQuantile``).",
       "log_input"}};
  double quantile = 0.5;
  explicit Pinball(double quantile_ = 0.5)
      : quantile(detail::checked_param(kInfo, 0, quantile_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T q = static_cast<T>(quantile);
    const T r = t - p;
    const bool under = r >= T(0);
    g = under ? -q : T(1) - q;
    return (under ? q : q - T(1)) * r;
  }
};

/// Pinball(quantile, log_input=True): the pinball loss of exp(z), z = y_pred a
/// log-link raw score (CatBoost's LogLinQuantile). Gradient -q exp(z) when
/// t >= exp(z), (1 - q) exp(z) otherwise.
struct PinballLogInput {
  static constexpr const char* kName = "pinball_log_input";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = logits_kernel_of(
      Pinball::kInfo, {{1, 0, 0}, {2, 0, 0.5}, {0, 1, 1.3591409142295225}});  // e / 2
  double quantile = 0.5;
  explicit PinballLogInput(double quantile_ = 0.5)
      : quantile(detail::checked_param(kInfo, 0, quantile_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    const T q = static_cast<T>(quantile);
    const T mu = math::exp(z);
    const T r = t - mu;
    const bool under = r >= T(0);
    g = (under ? -q : T(1) - q) * mu;
    return (under ? q : q - T(1)) * r;
  }
};

/// The tutorials' cost/profit loss: over * (p - t) when p > t (over-production
/// cost), under * (t - p) otherwise (lost profit). Gradient over or -under.
struct AsymmetricLinear {
  static constexpr const char* kName = "asymmetric_linear";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "AsymmetricLinear", "asymmetric_linear", "asymmetric_linear", "", "", AxisArg::None,
      "Asymmetric linear cost: the tutorials' yogurt-sales cost/profit loss.",
      "over (p - t) if p > t else under (t - p)", "over if p > t else -under", "",
      "With costs c_over and c_under the minimiser is the c_under / (c_over + c_under) "
      "quantile: Pinball(q) is AsymmetricLinear(1 - q, q).",
      kPiecewiseLinear, Domain::Real, Kink::AtZero,
      {{"overestimate_cost", 1.0, Range::NonNegativeFinite,
        "Cost per unit predicted above the target (the tutorials' COST).", 0.3},
       {"underestimate_cost", 1.0, Range::NonNegativeFinite,
        "Cost per unit below it (the tutorials' PROFIT).", 2.0}},
      {{1, 2, 1}, {2, 1, 1}, {1, 1, 0}, {0, -2.5, 2.5}}};
  double overestimate_cost = 1.0, underestimate_cost = 1.0;
  explicit AsymmetricLinear(double over = 1.0, double under = 1.0)
      : overestimate_cost(detail::checked_param(kInfo, 0, over)),
        underestimate_cost(detail::checked_param(kInfo, 1, under)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T over = static_cast<T>(overestimate_cost);
    const T under = static_cast<T>(underestimate_cost);
    const bool above = p > t;
    g = above ? over : -under;
    return above ? over * (p - t) : under * (t - p);
  }
};

/// scikit-learn's epsilon-insensitive loss (SGDRegressor(loss="epsilon_insensitive"),
/// the linear SVR's): max(|p - t| - epsilon, 0). Gradient sign(p - t) outside the
/// band, 0 inside. Piecewise linear: no Hessian.
struct EpsilonInsensitive {
  static constexpr const char* kName = "epsilon_insensitive";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "EpsilonInsensitive", "epsilon_insensitive", "epsilon_insensitive", "", "",
      AxisArg::Last,
      "Epsilon-insensitive loss (scikit-learn's ``SGDRegressor(loss=\"epsilon_insensitive\")``, "
      "the linear support vector regression loss): errors within epsilon cost nothing.",
      "max(|p - t| - epsilon, 0)", "sign(p - t) where |p - t| > epsilon, else 0", "",
      "The value and gradient are scikit-learn's ``EpsilonInsensitive(epsilon)`` loss's "
      "(its gradient is 0 on the band's edges too).",
      kPiecewiseLinear, Domain::Real, Kink::AtFirstParameter,
      {{"epsilon", 0.1, Range::NonNegativeFinite,
        "Half-width of the band of errors that cost nothing (scikit-learn's default 0.1).", 0.5}},
      {{0, 0.05, 0}, {1, 3, 1.9}, {2, 0.5, 1.4}}};
  double epsilon = 0.1;
  explicit EpsilonInsensitive(double epsilon_ = 0.1)
      : epsilon(detail::checked_param(kInfo, 0, epsilon_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T e = p - t;
    const T excess = std::fabs(e) - static_cast<T>(epsilon);
    g = excess > T(0) ? math::sign(e) : T(0);
    return math::max_nan(excess, T(0));
  }
};

/// scikit-learn's squared epsilon-insensitive loss (SGDRegressor(loss=
/// "squared_epsilon_insensitive")): max(|p - t| - epsilon, 0)². Gradient
/// 2 sign(p - t) max(|p - t| - epsilon, 0), Hessian 2 outside the band, 0 inside.
struct SquaredEpsilonInsensitive {
  static constexpr const char* kName = "squared_epsilon_insensitive";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "SquaredEpsilonInsensitive", "squared_epsilon_insensitive",
      "squared_epsilon_insensitive", "", "", AxisArg::Last,
      "Squared epsilon-insensitive loss (scikit-learn's "
      "``SGDRegressor(loss=\"squared_epsilon_insensitive\")``): the squared error beyond a "
      "band of width epsilon.",
      "max(|p - t| - epsilon, 0)**2", "2 sign(p - t) max(|p - t| - epsilon, 0)",
      "2 where |p - t| > epsilon, else 0",
      "The value and gradient are scikit-learn's ``SquaredEpsilonInsensitive(epsilon)`` "
      "loss's; with epsilon = 0 it is the squared error.",
      "", Domain::Real, Kink::AtFirstParameter,
      {{"epsilon", 0.1, Range::NonNegativeFinite,
        "Half-width of the band of errors that cost nothing (scikit-learn's default 0.1).", 0.5}},
      {{0, 0.05, 0}, {1, 3, 3.61}, {2, 0.5, 1.96}}};
  double epsilon = 0.1;
  explicit SquaredEpsilonInsensitive(double epsilon_ = 0.1)
      : epsilon(detail::checked_param(kInfo, 0, epsilon_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T e = p - t;
    const T excess = math::max_nan(std::fabs(e) - static_cast<T>(epsilon), T(0));
    g = T(2) * math::sign(e) * excess;
    return excess * excess;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T e = p - t;
    const T excess = math::max_nan(std::fabs(e) - static_cast<T>(epsilon), T(0));
    g = T(2) * math::sign(e) * excess;
    h = excess > T(0) ? T(2) : T(0);
  }
};

/// CatBoost's Lq loss: |p - t|^q, q >= 1. Gradient q sign(p - t) |p - t|^(q-1),
/// Hessian q (q - 1) |p - t|^(q-2) (+inf at p == t for q < 2, 0 for q == 1).
struct Lq {
  static constexpr const char* kName = "lq";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Lq", "lq", "lq", "lq_loss", "", AxisArg::Last,
      "Lq loss (CatBoost's ``Lq:q=...``): the absolute error to the power q.",
      "|p - t|**q", "q sign(p - t) |p - t|**(q - 1)", "q (q - 1) |p - t|**(q - 2)",
      "q = 1 is the absolute error and q = 2 the squared error. For 1 < q < 2 the Hessian "
      "is +inf where p == t (its limit) and 0 everywhere for q = 1, so Newton boosting "
      "wants q >= 2; CatBoost itself then uses Newton leaves, and gradient leaves below 2. "
      "The value, gradient and Hessian are CatBoost's (its derivatives are of the negated "
      "loss).",
      "", Domain::Real, Kink::AtZero,
      {{"q", 2.0, Range::AtLeastOneFinite,
        "The power of the absolute error (CatBoost has no default; 2 is the squared error).",
        3.0}},
      {{0, 0, 0}, {1, 5, 16}, {3, -1, 16}, {0.5, 0.75, 0.0625}}};
  double q = 2.0;
  explicit Lq(double q_ = 2.0) : q(detail::checked_param(kInfo, 0, q_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T qq = static_cast<T>(q);
    const T e = p - t;
    const T a = std::fabs(e);
    g = math::sign(e) * math::dpow_nonneg(a, qq);
    return math::pow_nonneg(a, qq);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T qq = static_cast<T>(q);
    const T e = p - t;
    const T a = std::fabs(e);
    g = math::sign(e) * math::dpow_nonneg(a, qq);
    h = math::d2pow_nonneg(a, qq);
  }
};

}  // namespace fastloss

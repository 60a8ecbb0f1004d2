// Likelihood losses whose inputs are not one elementwise (y_true, y_pred)
// pair:
//
// * three declared multi-input losses (losses/multi_input.hpp: the generic
//   kernel, bindings, Python classes and tests come from their declarations):
//   the Gaussian negative log-likelihood of PyTorch's gaussian_nll_loss
//   (target, mean, variance), XGBoost's accelerated-failure-time survival
//   loss survival:aft (a time's lower and upper bounds, the raw score), and
//   CatBoost's RMSEWithUncertainty (target, mean, log of the deviation);
// * the Cox proportional-hazards partial likelihood (Breslow's handling of
//   ties), whose samples are coupled through their risk sets: each sample's
//   loss depends on the scores of every sample still at risk at its time.
//
// The Cox kernel's layouts are C-contiguous, its sums (exponentials of
// scores, risk-set sums, their running reciprocals) in float64; it runs on
// the calling thread (its sort dominates and its sums are sequential).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/vmath.hpp"
#include "multi_input.hpp"

namespace fastloss {

namespace likelihood {
inline constexpr double kHalfLog2Pi = 0.91893853320467274178;  // 0.5 log(2 pi)
inline constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace likelihood

/// PyTorch's gaussian_nll_loss per element, v = max(var, eps):
///   0.5 (log v + (mean - y)^2 / v) [+ 0.5 log(2 pi) if full].
/// Derivatives at the clamped variance (PyTorch clamps outside autograd).
struct GaussianNLL {
  static constexpr bool kHasHessian = true;
  static constexpr MultiInputInfo kInfo = {
      "GaussianNLL", "gaussian_nll", "", AxisArg::None,
      {{"y_true", "The targets."},
       {"mean", "The predicted means (trained)."},
       {"var", "The predicted variances (trained): one per element, or one per sample "
               "(``mean``'s shape with the last dimension 1 or removed, PyTorch's "
               "homoscedastic case; its gradient then sums over the sample's elements).",
        Range::NonNegative, "a variance", InputDraw::Positive, true}},
      2,
      "The Gaussian negative log-likelihood, as PyTorch's ``gaussian_nll_loss``.",
      "0.5 * (log(v) + (mean - y)**2 / v)  [+ 0.5 * log(2 pi) if full],  v = max(var, eps)",
      "dloss/dmean = (mean - y) / v,  dloss/dvar = 0.5 * (1 / v - (mean - y)**2 / v**2)",
      "d2loss/dmean2 = 1 / v,  d2loss/dvar2 = (mean - y)**2 / v**3 - 0.5 / v**2",
      "A negative variance is an error, as in PyTorch; a variance below ``eps`` is clamped "
      "to ``eps`` and the derivatives are taken at the clamped value (PyTorch clamps outside "
      "autograd, so its gradient is the same). Each sample's loss is the mean over the last "
      "axis (Keras's per-sample mean): \"sum_over_batch_size\" equals PyTorch's "
      "``reduction=\"mean\"``; PyTorch's ``\"sum\"`` is fastloss's \"sum\" times the "
      "last axis's length. The boosting peer is CatBoost's ``RMSEWithUncertainty`` "
      "(:class:`RMSEWithUncertainty`), which models the log of the deviation instead.",
      "",
      {{"full", 0, Range::Bool, "Add the constant 0.5 * log(2 pi) (PyTorch's ``full``).", 1},
       {"eps", 1e-6, Range::NonNegativeFinite,
        "The smallest variance (PyTorch's ``eps``).", 1e-3}},
      {},
      {{{0, 1, 1}, 0.5},
       {{0, 2, 4}, 1.1931471805599454},  // 0.5 (log 4 + 1)
       {{3, 3, 1}, 0.0},
       {{1, 1, 0}, -6.907755278982137}}};  // var 0 clamped to 1e-6: 0.5 log(1e-6)
  double full, eps;
  GaussianNLL(double full_, double eps_)
      : full(detail::checked_param(kInfo, 0, full_)), eps(detail::checked_param(kInfo, 1, eps_)) {}

  template <class T>
  FASTLOSS_INLINE T value_grad(const T* in, T* g) const {
    const T v = clamped(in[2]);
    const T diff = in[1] - in[0];
    const T z = diff / v;
    g[0] = z;
    g[1] = T(0.5) * (T(1) / v - z * z);
    return T(0.5) * (vmath::log(v) + diff * z) +
           static_cast<T>(full != 0 ? likelihood::kHalfLog2Pi : 0.0);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(const T* in, T* g, T* h) const {
    const T v = clamped(in[2]);
    const T inv_v = T(1) / v;
    const T z = (in[1] - in[0]) * inv_v;
    g[0] = z;
    g[1] = T(0.5) * (inv_v - z * z);
    h[0] = inv_v;
    h[1] = z * z * inv_v - T(0.5) * inv_v * inv_v;
  }

 private:
  template <class T>
  FASTLOSS_INLINE T clamped(T v) const {
    const T e = static_cast<T>(eps);
    return v < e ? e : v;  // a NaN variance stays NaN
  }
};

/// CatBoost's RMSEWithUncertainty per object: the Gaussian negative
/// log-likelihood of y with mean m and standard deviation exp(s),
///   0.5 log(2 pi) + s + 0.5 (y - m)^2 exp(-2 s).
struct RMSEWithUncertainty {
  static constexpr bool kHasHessian = true;
  static constexpr MultiInputInfo kInfo = {
      "RMSEWithUncertainty", "rmse_with_uncertainty", "", AxisArg::Elementwise,
      {{"y_true", "The targets."},
       {"mean", "The predicted means (trained; CatBoost's first raw prediction)."},
       {"log_std", "The log of the predicted standard deviations (trained; CatBoost's "
                   "second raw prediction: its predicted variance is exp(2 log_std))."}},
      2,
      "The Gaussian negative log-likelihood with a learned deviation, as CatBoost's "
      "``RMSEWithUncertainty``.",
      "0.5 * log(2 pi) + s + 0.5 * (y - m)**2 * exp(-2 s),  m = mean, s = log_std",
      "dloss/dm = (m - y) * exp(-2 s),  dloss/ds = 1 - (y - m)**2 * exp(-2 s)",
      "d2loss/dm2 = exp(-2 s),  d2loss/ds2 = 2 * (y - m)**2 * exp(-2 s)",
      "Every element is a sample (CatBoost's objects). The value is CatBoost's metric "
      "``RMSEWithUncertainty`` per object (its constant included); CatBoost's model predicts "
      "(m, s) as two raw values per object. With s = 0.5 log(var) this is "
      ":class:`GaussianNLL` with ``full=True``.",
      "",
      {},
      {},
      {{{0, 0, 0}, 0.91893853320467274},
       {{1, 0, 0}, 1.41893853320467274},                 // + 0.5
       {{2, 0, 0.69314718055994531}, 2.11208571376461804},  // + log 2 + 0.5 * 4 / 4
       {{-1, 1, 0}, 2.91893853320467274}}};              // + 0.5 * 4
  RMSEWithUncertainty() = default;

  template <class T>
  FASTLOSS_INLINE T value_grad(const T* in, T* g) const {
    const T r = in[1] - in[0];
    const T w = vmath::exp(T(-2) * in[2]);
    const T rw = r * w;
    g[0] = rw;
    g[1] = T(1) - r * rw;
    return static_cast<T>(likelihood::kHalfLog2Pi) + in[2] + T(0.5) * r * rw;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(const T* in, T* g, T* h) const {
    const T r = in[1] - in[0];
    const T w = vmath::exp(T(-2) * in[2]);
    const T rw = r * w;
    g[0] = rw;
    g[1] = T(1) - r * rw;
    h[0] = w;
    h[1] = T(2) * r * rw;
  }
};

namespace likelihood {

/// The noise distributions of the accelerated-failure-time model (XGBoost's
/// aft_loss_distribution): density, distribution function and the density's
/// first two derivatives at z, in float64.
struct AftTerms {
  double pdf, cdf, dpdf, d2pdf;
};

inline AftTerms aft_terms(int distribution, double z) {
  AftTerms r{};
  if (distribution == 0) {  // normal
    r.pdf = std::exp(-0.5 * z * z) / 2.50662827463100050242;  // sqrt(2 pi)
    r.cdf = 0.5 * std::erfc(-z / 1.41421356237309504880);
    r.dpdf = -z * r.pdf;
    r.d2pdf = (z * z - 1.0) * r.pdf;
  } else if (distribution == 1) {  // logistic, written in u = exp(-|z|) (no overflow)
    const double u = std::exp(-std::fabs(z));
    const double s = 1.0 + u;
    r.pdf = u / (s * s);
    r.cdf = z >= 0 ? 1.0 / s : u / s;
    r.dpdf = r.pdf * (z >= 0 ? (u - 1.0) / s : (1.0 - u) / s);
    r.d2pdf = r.pdf * (1.0 - 4.0 * u + u * u) / (s * s);
  } else {  // extreme (minimum) value: F(z) = 1 - exp(-exp(z))
    const double w = std::exp(z);
    r.pdf = std::isinf(w) ? 0.0 : w * std::exp(-w);
    r.cdf = -std::expm1(-w);
    r.dpdf = std::isinf(w) ? 0.0 : (1.0 - w) * r.pdf;
    r.d2pdf = std::isinf(w) ? 0.0 : (w * w - 3.0 * w + 1.0) * r.pdf;
  }
  return r;
}

inline constexpr double kAftMinGradient = -15.0, kAftMaxGradient = 15.0;
inline constexpr double kAftMinHessian = 1e-16, kAftMaxHessian = 15.0;
inline constexpr double kAftEps = 1e-12;

enum class Censoring { Uncensored, Right, Left, Interval };

/// XGBoost's limits of the gradient and Hessian where the prediction has run
/// so far that the density underflows (sign: z > 0 at a bound).
inline double aft_limit_grad(int dist, Censoring c, bool sign, double sigma) {
  const double tail = dist == 1 ? -1.0 / sigma : kAftMinGradient;  // z far above
  const double head = dist == 0 ? kAftMaxGradient : 1.0 / sigma;   // z far below
  switch (c) {
    case Censoring::Uncensored:
    case Censoring::Interval: return sign ? tail : head;
    case Censoring::Right: return sign ? tail : 0.0;
    case Censoring::Left: return sign ? 0.0 : head;
  }
  return std::nan("");
}

inline double aft_limit_hess(int dist, Censoring c, bool sign, double sigma) {
  if (dist == 1) return kAftMinHessian;
  if (dist == 0) {
    const double k = 1.0 / (sigma * sigma);
    switch (c) {
      case Censoring::Uncensored:
      case Censoring::Interval: return k;
      case Censoring::Right: return sign ? k : kAftMinHessian;
      case Censoring::Left: return sign ? kAftMinHessian : k;
    }
  }
  if (c == Censoring::Left) return kAftMinHessian;
  return sign ? kAftMaxHessian : kAftMinHessian;
}

inline double aft_clip(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

}  // namespace likelihood

/// XGBoost's accelerated-failure-time loss (survival:aft) of a time known to
/// lie in [lower, upper] (lower == upper: observed; upper = inf: right-censored;
/// lower = 0: left-censored) given the raw score y_pred (the predicted log
/// time): z = (log(bound) - y_pred) / sigma,
///   uncensored: -log(max(f(z) / (sigma lower), 1e-12)),
///   censored:   -log(max(F(z_upper) - F(z_lower), 1e-12)),
/// with XGBoost's clipped gradient (to [-15, 15]) and Hessian ([1e-16, 15])
/// and its limits where the density underflows.
struct SurvivalAft {
  static constexpr bool kHasHessian = true;
  static constexpr MultiInputInfo kInfo = {
      "SurvivalAft", "survival_aft", "aft survival:aft", AxisArg::Elementwise,
      {{"lower", "The lower bounds of the survival times (XGBoost's ``label_lower_bound``; "
                 "0 for a left-censored time).",
        Range::NonNegative, "a lower bound of a time", InputDraw::LowerBound},
       {"upper", "The upper bounds (XGBoost's ``label_upper_bound``; ``inf`` for a "
                 "right-censored time, equal to ``lower`` for an observed one).",
        Range::Positive, "an upper bound of a time", InputDraw::UpperBound},
       {"y_pred", "The raw scores: predicted log times (trained)."}},
      1,
      "The accelerated-failure-time survival loss of interval-censored times, as XGBoost's "
      "``survival:aft``.",
      "z = (log(bound) - y_pred) / sigma;  lower == upper:  -log(max(f(z) / (sigma * lower), "
      "1e-12));  else  -log(max(F(z_upper) - F(z_lower), 1e-12))  (F(z_upper) = 1 for "
      "upper = inf, F(z_lower) = 0 for lower = 0)",
      "uncensored: f'(z) / (sigma f(z));  censored: (f(z_upper) - f(z_lower)) / (sigma "
      "(F(z_upper) - F(z_lower))); clipped to [-15, 15]",
      "uncensored: (f'(z)**2 - f(z) f''(z)) / (sigma f(z))**2;  censored: ((f_u - f_l)**2 - "
      "(F_u - F_l)(f'_u - f'_l)) / (sigma (F_u - F_l))**2; clipped to [1e-16, 15]",
      "f and F are the density and distribution function of the noise: ``\"normal\"``, "
      "``\"logistic\"`` or ``\"extreme\"`` (the minimum extreme-value law, F(z) = 1 - "
      "exp(-exp(z))), XGBoost's ``aft_loss_distribution``; ``sigma`` is its "
      "``aft_loss_distribution_scale``. The gradient and Hessian follow XGBoost's rules, "
      "also in ``backward``: clipped as above, and where a prediction runs so far that the "
      "density underflows, XGBoost's limits. Every element is a sample; the value is "
      "XGBoost's metric ``aft-nloglik`` per sample. A NaN input gives a NaN loss and "
      "derivatives (XGBoost's floor would turn a NaN likelihood into 1e-12). CatBoost's ``SurvivalAft`` is the same "
      "loss family.",
      "",
      {{"distribution", 0, Range::NonNegativeFinite,
        "The noise distribution: \"normal\", \"logistic\" or \"extreme\".", 1},
       {"sigma", 1.0, Range::PositiveFinite, "The scale of the noise distribution.", 1.2}},
      {"normal logistic extreme", ""},
      {{{1, 1, 0}, 0.91893853320467274},                      // -log(f(0)), f normal
       {{2.718281828459045, 2.718281828459045, 1}, 1.91893853320467274},  // + log(lower)
       {{1, likelihood::kInf, 0}, 0.69314718055994531},       // -log(1 - F(0))
       {{0, 1, 0}, 0.69314718055994531}},                     // -log(F(0))
      {0, 1}};
  double distribution, sigma;
  SurvivalAft(double distribution_, double sigma_)
      : distribution(detail::checked_param(kInfo, 0, distribution_)),
        sigma(detail::checked_param(kInfo, 1, sigma_)),
        dist_(static_cast<int>(distribution_)) {
    if (distribution_ != 0 && distribution_ != 1 && distribution_ != 2)
      throw std::invalid_argument("SurvivalAft: distribution must be 0 (normal), 1 (logistic) "
                                  "or 2 (extreme), got " + std::to_string(distribution_));
  }

  template <class T>
  FASTLOSS_INLINE T value_grad(const T* in, T* g) const {
    double grad = 0.0, hess = 0.0;
    const double v = evaluate(in, &grad, nullptr);
    g[0] = static_cast<T>(grad);
    (void)hess;
    return static_cast<T>(v);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(const T* in, T* g, T* h) const {
    double grad = 0.0, hess = 0.0;
    evaluate(in, &grad, &hess);
    g[0] = static_cast<T>(grad);
    h[0] = static_cast<T>(hess);
  }

 private:
  int dist_;

  /// XGBoost's floor of the likelihood at 1e-12; a NaN stays NaN (XGBoost's
  /// fmax would turn it into the floor).
  static double floored(double x) { return x < likelihood::kAftEps ? likelihood::kAftEps : x; }

  template <class T>
  double evaluate(const T* in, double* grad, double* hess) const {
    using namespace likelihood;
    const double lo = static_cast<double>(in[0]), hi = static_cast<double>(in[1]);
    const double pred = static_cast<double>(in[2]);
    const double s = sigma;
    if (lo == hi) {  // observed
      const double z = (std::log(lo) - pred) / s;
      const AftTerms t = aft_terms(dist_, z);
      const bool sign = z > 0;
      const double g_den = s * t.pdf;
      double g = t.dpdf / g_den;
      if (g_den < kAftEps && !std::isfinite(g))
        g = aft_limit_grad(dist_, Censoring::Uncensored, sign, s);
      *grad = aft_clip(g, kAftMinGradient, kAftMaxGradient);
      if (hess) {
        const double h_den = s * s * t.pdf * t.pdf;
        double h = -(t.pdf * t.d2pdf - t.dpdf * t.dpdf) / h_den;
        if (h_den < kAftEps && !std::isfinite(h))
          h = aft_limit_hess(dist_, Censoring::Uncensored, sign, s);
        *hess = aft_clip(h, kAftMinHessian, kAftMaxHessian);
      }
      return -std::log(floored(t.pdf / (s * lo)));
    }
    Censoring c = Censoring::Interval;
    AftTerms u{0.0, 1.0, 0.0, 0.0}, l{0.0, 0.0, 0.0, 0.0};
    double z_u = 0.0, z_l = 0.0;
    if (std::isinf(hi)) {
      c = Censoring::Right;
    } else {
      z_u = (std::log(hi) - pred) / s;
      u = aft_terms(dist_, z_u);
    }
    if (lo <= 0.0) {
      c = Censoring::Left;
    } else {
      z_l = (std::log(lo) - pred) / s;
      l = aft_terms(dist_, z_l);
    }
    const bool sign = z_u > 0 || z_l > 0;
    const double cdf_diff = u.cdf - l.cdf, pdf_diff = u.pdf - l.pdf;
    const double g_den = s * cdf_diff;
    double g = pdf_diff / g_den;
    if (g_den < kAftEps && !std::isfinite(g)) g = aft_limit_grad(dist_, c, sign, s);
    *grad = aft_clip(g, kAftMinGradient, kAftMaxGradient);
    if (hess) {
      const double h_den = g_den * g_den;
      double h = -(cdf_diff * (u.dpdf - l.dpdf) - pdf_diff * pdf_diff) / h_den;
      if (h_den < kAftEps && !std::isfinite(h)) h = aft_limit_hess(dist_, c, sign, s);
      *hess = aft_clip(h, kAftMinHessian, kAftMaxHessian);
    }
    return -std::log(floored(cdf_diff));
  }
};

namespace likelihood {

/// Where the Cox kernel writes. Any pointer may be null.
template <class T>
struct CoxOutputs {
  double* per_sample = nullptr;  ///< (n,) delta_i * (log R_i - z_i), 0 for a censored sample
  T* grad = nullptr;             ///< (n,) d/dz_j of sum_i c_i * loss_i
  T* hess = nullptr;             ///< (n,) its diagonal second derivative
  /// (n,) the coefficient c_i of each sample's loss (sample weight times the
  /// reduction's factor and grad_output); null = 1.
  const double* coef = nullptr;
};

/// The negative Cox partial log-likelihood with Breslow's ties over one batch
/// of n samples: time[i] > 0 is an event at that time, time[i] <= 0 a sample
/// censored at |time[i]| (XGBoost's survival:cox labels), z the log hazard
/// ratios (raw scores). The risk set of time t holds every sample with
/// |time| >= t, so
///   loss_i = delta_i * (log sum_{j: |t_j| >= t_i} exp(z_j) - z_i),
///   d/dz_j sum_i c_i loss_i = exp(z_j) * sum_{i event, t_i <= |t_j|} c_i / R_i - c_j delta_j,
/// and the Hessian diagonal exp(z_j) A_j - exp(2 z_j) B_j with B the sum of
/// c_i / R_i^2. The samples are sorted by |time| once (O(n log n)); sums run
/// in float64 from the largest score down (no overflow), the risk sets as
/// suffix sums (no cancellation). A NaN time or score makes every output NaN.
template <class T>
void cox_ph(const T* time, const T* z, index_t n, const CoxOutputs<T>& out) {
  if (n <= 0) return;
  const double nan = std::nan("");
  double zmax = -HUGE_VAL;
  bool bad = false;
  for (index_t i = 0; i < n; ++i) {
    if (time[i] != time[i] || z[i] != z[i]) bad = true;
    zmax = std::max(zmax, static_cast<double>(z[i]));
  }
  if (bad || !std::isfinite(zmax)) {
    // NaN input, or a score of +inf (its hazard swamps every risk set) or all -inf
    for (index_t i = 0; i < n; ++i) {
      if (out.per_sample) out.per_sample[i] = nan;
      if (out.grad) out.grad[i] = static_cast<T>(nan);
      if (out.hess) out.hess[i] = static_cast<T>(nan);
    }
    return;
  }
  std::vector<index_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), index_t(0));
  std::stable_sort(order.begin(), order.end(), [time](index_t a, index_t b) {
    return std::fabs(static_cast<double>(time[a])) < std::fabs(static_cast<double>(time[b]));
  });
  // e[k] = exp(z - zmax) of the k-th sample in time order; risk[k] = the
  // suffix sum from the first sample of k's group of tied times.
  std::vector<double> e(static_cast<std::size_t>(n)), risk(static_cast<std::size_t>(n));
  for (index_t k = 0; k < n; ++k) e[k] = std::exp(static_cast<double>(z[order[k]]) - zmax);
  auto abs_time = [&](index_t k) { return std::fabs(static_cast<double>(time[order[k]])); };
  double suffix = 0.0;
  for (index_t k = n - 1; k >= 0; --k) {
    suffix += e[k];
    risk[k] = suffix;
  }
  // every member of a group of tied times shares the group's first suffix sum
  for (index_t k = 0; k < n;) {
    index_t end = k + 1;
    while (end < n && abs_time(end) == abs_time(k)) ++end;
    for (index_t m = k + 1; m < end; ++m) risk[m] = risk[k];
    k = end;
  }
  if (out.per_sample) {
    for (index_t k = 0; k < n; ++k) {
      const index_t i = order[k];
      out.per_sample[i] =
          time[i] > 0 ? std::log(risk[k]) + zmax - static_cast<double>(z[i]) : 0.0;
    }
  }
  if (!out.grad && !out.hess) return;
  // a = sum of c_i / R_i over the events up to and including each group
  // (R in units of exp(zmax): e / risk is exp(z_j) / R_i exactly).
  double a = 0.0, b = 0.0;
  for (index_t k = 0; k < n;) {
    index_t end = k + 1;
    while (end < n && abs_time(end) == abs_time(k)) ++end;
    for (index_t m = k; m < end; ++m) {
      const index_t i = order[m];
      if (time[i] > 0) {
        const double c = out.coef ? out.coef[i] : 1.0;
        a += c / risk[m];
        b += c / (risk[m] * risk[m]);
      }
    }
    for (index_t m = k; m < end; ++m) {
      const index_t i = order[m];
      const double c = out.coef ? out.coef[i] : 1.0;
      if (out.grad) out.grad[i] = static_cast<T>(e[m] * a - (time[i] > 0 ? c : 0.0));
      if (out.hess) out.hess[i] = static_cast<T>(e[m] * a - e[m] * e[m] * b);
    }
    k = end;
  }
}

}  // namespace likelihood

}  // namespace fastloss

// Binary-target losses (probabilistic and margin), per element; the driver
// averages over the last axis. Same conventions as regression.hpp.
#pragma once

#include <cmath>
#include <string>

#include "../detail/isa.hpp"
#include "../detail/math.hpp"
#include "regression.hpp"  // detail::require

namespace fastloss {

namespace detail {
inline void require_label_smoothing(double ls, const char* who) {
  require(ls >= 0 && ls <= 1,
          std::string(who) + ": label_smoothing must be in [0, 1], got " + std::to_string(ls));
}

/// Keras's binary label smoothing: t (1 - ls) + ls / 2 (exactly t when ls == 0;
/// no branch, so loops over it vectorise).
template <class T>
FASTLOSS_INLINE T smooth_binary(T t, double ls) {
  return t * static_cast<T>(1.0 - ls) + static_cast<T>(0.5 * ls);
}

/// Binary cross-entropy of a clipped probability, with its first two
/// derivatives in p. The clip is Keras's [1e-7, 1 - 1e-7]; outside it the
/// derivatives are zero (the clip is flat there).
template <class T>
struct ClippedBce {
  T value, d1, d2;
  FASTLOSS_INLINE ClippedBce(T t, T p) {
    const T lo = math::ProbClip<T>::lo, hi = math::ProbClip<T>::hi;
    const T pc = math::clip_nan(p, lo, hi);
    const T q = T(1) - pc;
    value = -(t * math::log_positive(pc) + (T(1) - t) * math::log_positive(q));
    const bool live = p >= lo && p <= hi;
    d1 = live ? -t / pc + (T(1) - t) / q : T(0);
    d2 = live ? t / (pc * pc) + (T(1) - t) / (q * q) : T(0);
  }
};
}  // namespace detail

/// Binary cross-entropy on probabilities (Keras, from_logits=False):
/// -(t log pc + (1 - t) log(1 - pc)), pc = clip(p, 1e-7, 1 - 1e-7), t smoothed.
struct BinaryCrossentropy {
  static constexpr const char* kName = "binary_crossentropy";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "BinaryCrossentropy", "binary_crossentropy", "binary_crossentropy", "log_loss bce", "",
      AxisArg::BeforeReduction, "Binary cross-entropy (Keras ``BinaryCrossentropy``).",
      "-(t log pc + (1 - t) log(1 - pc)),  pc = clip(p, 1e-7, 1 - 1e-7); "
      "from logits z: (1 - t) z + softplus(-z)",
      "-t / pc + (1 - t) / (1 - pc), 0 where clipped; from logits: sigmoid(z) - t",
      "t / pc**2 + (1 - t) / (1 - pc)**2, 0 where clipped; from logits: s (1 - s),  s = sigmoid(z)",
      "The probability path clips exactly as Keras does and then takes plain logs (Keras's "
      "torch, JAX and NumPy backends; the TensorFlow backend also adds 1e-7 inside the logs). "
      "The logits path is finite for logits of any size.",
      "", Domain::Probability, Kink::None,
      {{"label_smoothing", 0.0, Range::Closed01, "Targets become t (1 - ls) + ls / 2.", 0.1}},
      {{1, 0.5, 0.6931471805599453},   // log 2
       {0, 0.75, 1.3862943611198906},  // -log(1/4)
       {1, 0, 16.11809565095832}},     // p clipped to 1e-7: -log(1e-7)
      {0, "Whether y_pred holds logits."}};
  double label_smoothing = 0.0;
  explicit BinaryCrossentropy(double ls = 0.0)
      : label_smoothing(detail::checked_param(kInfo, 0, ls)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const detail::ClippedBce<T> b(detail::smooth_binary(t, label_smoothing), p);
    g = b.d1;
    return b.value;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const detail::ClippedBce<T> b(detail::smooth_binary(t, label_smoothing), p);
    g = b.d1;
    h = b.d2;
  }
};

/// Binary cross-entropy on logits z (from_logits=True): (1 - t) z + softplus(-z),
/// which is finite for any finite z. Gradient sigmoid(z) - t, Hessian σ(1 - σ).
struct BinaryCrossentropyLogits {
  static constexpr const char* kName = "binary_crossentropy_logits";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = logits_kernel_of(
      BinaryCrossentropy::kInfo, {{1, 0, 0.6931471805599453},     // log 2
                                  {0, 0, 0.6931471805599453},
                                  {1, 1.0986122886681098, 0.28768207245178085},  // z = log 3: log(4/3)
                                  {0, 1000, 1000},    // finite far beyond exp's range
                                  {1, -1000, 1000}});
  double label_smoothing = 0.0;
  explicit BinaryCrossentropyLogits(double ls = 0.0)
      : label_smoothing(detail::checked_param(kInfo, 0, ls)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    const T ts = detail::smooth_binary(t, label_smoothing);
    const math::Logistic<T> l(z);  // one exponential for both
    g = l.sigmoid(z) - ts;
    return (T(1) - ts) * z + l.softplus(-z);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T z, T& g, T& h) const {
    const T ts = detail::smooth_binary(t, label_smoothing);
    const T s = math::sigmoid(z);
    g = s - ts;
    h = s * (T(1) - s);
  }
};

namespace detail {
/// Keras's binary focal cross-entropy on a probability p and its first two
/// derivatives in p: w (1 - p_t)^gamma bce(clip(p)), p_t = t p + (1-t)(1-p)
/// on the unclipped p, w = alpha-balancing weight or 1.
template <class T, int K>
struct Focal {
  T value, d1, d2;
  FASTLOSS_INLINE Focal(T t, T p, T gamma, bool balance, T alpha) {
    const ClippedBce<T> b(t, p);
    const T p_t = t * p + (T(1) - t) * (T(1) - p);
    const T u = T(1) - p_t;
    const T a = T(1) - T(2) * t;  // du/dp
    // w = the class-balancing weight, or 1: a blend, not a select on the
    // loop-invariant flag (GCC 12 does not vectorise those); exact both ways.
    const T on = balance ? T(1) : T(0);
    const T w = on * (t * alpha + (T(1) - t) * (T(1) - alpha)) + (T(1) - on);
    const math::PowDerivs<T> pw = math::pow_derivs<K>(u, gamma);
    const T f0 = pw.f0, f1 = pw.f1;
    // Products with a zero factor are skipped so that 0 * inf (a clipped
    // bce' or an infinite power derivative) never turns into NaN.
    // (written as two independent selects, not one on an or: GCC 12
    // vectorises those; a zero result may carry x's sign)
    auto mul = [](T x, T y) { return (y == T(0) ? T(0) : x) * (x == T(0) ? T(0) : y); };
    value = w * (f0 * b.value);
    d1 = w * (mul(f1 * a, b.value) + mul(f0, b.d1));
    const T f2 = pw.f2;
    d2 = w * (mul(f2 * a * a, b.value) + T(2) * mul(f1 * a, b.d1) + mul(f0, b.d2));
  }
};

}  // namespace detail

/// Keras's BinaryFocalCrossentropy on probabilities. The driver evaluates it
/// through BinaryFocalFixed<K> (specialize): gamma's exponent code K is fixed
/// at compile time, so the loops vectorise.
struct BinaryFocalCrossentropy {
  static constexpr const char* kName = "binary_focal_crossentropy";
  static constexpr bool kHasHessian = true;
  static constexpr bool kSpecializes = true;
  static constexpr LossInfo kInfo = {
      "BinaryFocalCrossentropy", "binary_focal_crossentropy", "binary_focal_crossentropy", "",
      "", AxisArg::BeforeReduction,
      "Binary focal cross-entropy (Keras ``BinaryFocalCrossentropy``, Lin et al. 2017).",
      "w (1 - p_t)**gamma bce(p),  p_t = t p + (1 - t)(1 - p), w = alpha-balance or 1",
      "product rule on both factors (bce' is 0 where p is clipped)",
      "second derivative of the same product", "", "", Domain::Probability, Kink::None,
      {{"apply_class_balancing", 0.0, Range::Bool,
        "Weight class 1 by alpha and class 0 by 1 - alpha.", 1.0},
       {"alpha", 0.25, Range::Closed01, "The weight of class 1 under class balancing.", 0.3},
       {"gamma", 2.0, Range::NonNegativeFinite, "Focusing exponent.", 3.5},
       {"label_smoothing", 0.0, Range::Closed01, "Targets become t (1 - ls) + ls / 2.", 0.1}},
      {{1, 0.5, 0.17328679513998632},    // (1 - 0.5)^2 log 2
       {0, 0.75, 0.7797905781299385},    // 0.75^2 log 4
       {0, 0.25, 0.017980129528236306}},  // 0.25^2 (-log 0.75)
      {3, "y_pred holds logits: Keras applies sigmoid first, and so does this loss (then the "
          "chain rule by s (1 - s))."}};
  double apply_class_balancing = 0.0, alpha = 0.25, gamma = 2.0, label_smoothing = 0.0;
  explicit BinaryFocalCrossentropy(double balance = 0.0, double alpha_ = 0.25,
                                   double gamma_ = 2.0, double ls = 0.0)
      : apply_class_balancing(detail::checked_param(kInfo, 0, balance)),
        alpha(detail::checked_param(kInfo, 1, alpha_)),
        gamma(detail::checked_param(kInfo, 2, gamma_)),
        label_smoothing(detail::checked_param(kInfo, 3, ls)) {}
  template <int K, class T>
  FASTLOSS_INLINE detail::Focal<T, K> focal(T t, T p) const {
    return detail::Focal<T, K>(detail::smooth_binary(t, label_smoothing), p,
                               static_cast<T>(gamma), apply_class_balancing != 0.0,
                               static_cast<T>(alpha));
  }
  /// Calls f with this loss fixed to its gamma's exponent code.
  template <template <int> class Fixed, class Self, class F>
  static decltype(auto) with_fixed_gamma(const Self& self, F&& f) {
    switch (math::small_integer_exponent(self.gamma)) {
      case 0: return f(Fixed<0>(self));
      case 1: return f(Fixed<1>(self));
      case 2: return f(Fixed<2>(self));
      case 3: return f(Fixed<3>(self));
      case 4: return f(Fixed<4>(self));
      default: return f(Fixed<-1>(self));
    }
  }
  template <class F>
  decltype(auto) specialize(F&& f) const;
  // Per element (direct calls; the driver uses the fixed copies).
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    return with_fixed_gamma<Fixed>(*this, [&](const auto& l) { return l.value_grad(t, p, g); });
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    with_fixed_gamma<Fixed>(*this, [&](const auto& l) { l.grad_hess(t, p, g, h); });
  }

 private:
  template <int K>
  struct Fixed;
};

/// BinaryFocalCrossentropy with gamma's exponent code K fixed (K = gamma when
/// it is an integer in 0..4, else -1).
template <int K>
struct BinaryFocalCrossentropy::Fixed : BinaryFocalCrossentropy {
  static constexpr bool kSpecializes = false;
  explicit Fixed(const BinaryFocalCrossentropy& base) : BinaryFocalCrossentropy(base) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const auto f = this->template focal<K>(t, p);
    g = f.d1;
    return f.value;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const auto f = this->template focal<K>(t, p);
    g = f.d1;
    h = f.d2;
  }
};

template <class F>
decltype(auto) BinaryFocalCrossentropy::specialize(F&& f) const {
  return with_fixed_gamma<Fixed>(*this, f);
}

namespace detail {
/// Focal cross-entropy of a logit z, differentiated in z. Keras evaluates
/// sigmoid, then the probability formula (clip included); so does this, but
/// with u = 1 - p_t written as t σ(-z) + (1-t) σ(z), which does not cancel to
/// 0 when σ saturates, and with the derivatives of u^gamma expressed through
/// the ratio r = u'/u, which stays finite where u^(gamma-2) would overflow.
/// u' = (1-2t) σ(1-σ), u'' = u' (1-2σ).
template <class T, int K>
struct FocalLogits {
  T value, d1, d2;
  FASTLOSS_INLINE FocalLogits(T t, T z, T gamma, bool balance, T alpha) {
    const math::Logistic<T> l(z);  // one exponential for σ(z) and σ(-z)
    const T s = l.sigmoid(z), sm = l.sigmoid(-z);
    const ClippedBce<T> b(t, s);
    const T ds = s * sm;
    const T curve = sm - s;  // 1 - 2σ
    // w = the class-balancing weight, or 1: a blend, not a select on the
    // loop-invariant flag (GCC 12 does not vectorise those); exact both ways.
    const T on = balance ? T(1) : T(0);
    const T w = on * (t * alpha + (T(1) - t) * (T(1) - alpha)) + (T(1) - on);
    // (written as two independent selects, not one on an or: GCC 12
    // vectorises those; a zero result may carry x's sign)
    auto mul = [](T x, T y) { return (y == T(0) ? T(0) : x) * (x == T(0) ? T(0) : y); };
    const T bz = mul(b.d1, ds);
    const T bzz = mul(b.d2, ds * ds) + mul(b.d1, ds * curve);
    const T u = t * sm + (T(1) - t) * s;
    if constexpr (K == 0) {  // gamma == 0: plain (clipped) cross-entropy of sigmoid(z)
      value = w * b.value;
      d1 = w * bz;
      d2 = w * bzz;
    } else {
      const T ug = math::pow_derivs<K>(u, gamma).f0;
      const T r = (T(1) - T(2) * t) * ds / u;
      // At u == 0, u^gamma and all its derivatives vanish in the limit (r is
      // inf or NaN there): a select, not a branch, so the loop vectorises.
      const bool vanish = u == T(0);
      value = vanish ? T(0) : w * (ug * b.value);
      d1 = vanish ? T(0) : w * ug * (gamma * r * b.value + bz);
      d2 = vanish ? T(0)
                  : w * ug *
                        (gamma * (gamma - T(1)) * r * r * b.value +
                         gamma * r * curve * b.value + T(2) * gamma * r * bz + bzz);
    }
  }
};
}  // namespace detail

/// Keras's BinaryFocalCrossentropy(from_logits=True): finite value, gradient
/// and Hessian for logits of any size. Specialised on gamma like the
/// probability version.
struct BinaryFocalCrossentropyLogits : BinaryFocalCrossentropy {
  static constexpr const char* kName = "binary_focal_crossentropy_logits";
  static constexpr LossInfo kInfo = logits_kernel_of(
      BinaryFocalCrossentropy::kInfo, {{1, 0, 0.17328679513998632},  // sigmoid 0.5
                                       {0, 1.0986122886681098, 0.7797905781299385},  // sigmoid 0.75
                                       {1, -1000, 16.11809565095832}});  // clipped: -log(1e-7)
  using BinaryFocalCrossentropy::BinaryFocalCrossentropy;
  template <int K, class T>
  FASTLOSS_INLINE detail::FocalLogits<T, K> focal_logits(T t, T z) const {
    return detail::FocalLogits<T, K>(detail::smooth_binary(t, label_smoothing), z,
                                     static_cast<T>(gamma), apply_class_balancing != 0.0,
                                     static_cast<T>(alpha));
  }
  template <class F>
  decltype(auto) specialize(F&& f) const;
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    return with_fixed_gamma<Fixed>(*this, [&](const auto& l) { return l.value_grad(t, z, g); });
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T z, T& g, T& h) const {
    with_fixed_gamma<Fixed>(*this, [&](const auto& l) { l.grad_hess(t, z, g, h); });
  }

 private:
  template <int K>
  struct Fixed;
};

template <int K>
struct BinaryFocalCrossentropyLogits::Fixed : BinaryFocalCrossentropyLogits {
  static constexpr bool kSpecializes = false;
  explicit Fixed(const BinaryFocalCrossentropyLogits& base)
      : BinaryFocalCrossentropyLogits(base) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T z, T& g) const {
    const auto f = this->template focal_logits<K>(t, z);
    g = f.d1;
    return f.value;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T z, T& g, T& h) const {
    const auto f = this->template focal_logits<K>(t, z);
    g = f.d1;
    h = f.d2;
  }
};

template <class F>
decltype(auto) BinaryFocalCrossentropyLogits::specialize(F&& f) const {
  return with_fixed_gamma<Fixed>(*this, f);
}

namespace detail {
/// The label rule in the hinge family's docstrings.
#define FASTLOSS_LABEL_RULE_                                                                 \
  "Labels are -1/+1; when every label of a call is exactly 0 or 1 they are mapped to -1/+1 " \
  "first (Keras's rule)."

/// Keras's hinge label rule: labels are mapped {0, 1} -> {-1, +1} only when
/// every label of the call is exactly 0 or 1 (the driver scans them first).
struct BinaryLabelRule {
  static constexpr bool kConvertsBinaryLabels = true;
  // y = scale t + shift: (2, -1) maps {0,1} to {-1,+1}, (1, 0) keeps t. Kept
  // arithmetic rather than a bool so that the per-element loop vectorises.
  double label_scale = 1.0, label_shift = 0.0;
  void set_binary_labels(bool binary) {
    label_scale = binary ? 2.0 : 1.0;
    label_shift = binary ? -1.0 : 0.0;
  }
  template <class T>
  FASTLOSS_INLINE T signed_label(T t) const {
    return static_cast<T>(label_scale) * t + static_cast<T>(label_shift);
  }
};
}  // namespace detail

/// max(1 - t p, 0), labels ±1 (or 0/1, converted). Gradient -t inside the margin.
struct Hinge : detail::BinaryLabelRule {
  static constexpr const char* kName = "hinge";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "Hinge", "hinge", "hinge", "", "", AxisArg::Last, "Hinge loss (Keras ``Hinge``).",
      "max(1 - t p, 0)", "-t where 1 - t p > 0, else 0", "", FASTLOSS_LABEL_RULE_,
      kPiecewiseLinear, Domain::Signed, Kink::Margin, {},
      {{1, 0.25, 0.75}, {-1, 0.5, 1.5}, {1, 2, 0}, {-1, -3, 0}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T y = signed_label(t);
    const T m = T(1) - y * p;
    g = m > T(0) ? -y : T(0);
    return math::max_nan(m, T(0));
  }
};

/// max(1 - t p, 0)². Gradient -2 t max(1 - t p, 0), Hessian 2 t² inside the margin.
struct SquaredHinge : detail::BinaryLabelRule {
  static constexpr const char* kName = "squared_hinge";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "SquaredHinge", "squared_hinge", "squared_hinge", "", "", AxisArg::Last,
      "Squared hinge loss (Keras ``SquaredHinge``).", "max(1 - t p, 0)**2",
      "-2 t max(1 - t p, 0)", "2 t**2 where 1 - t p > 0, else 0", FASTLOSS_LABEL_RULE_, "",
      Domain::Signed, Kink::Margin, {},
      {{1, 0.25, 0.5625}, {-1, 0.5, 2.25}, {1, 3, 0}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T y = signed_label(t);
    const T m = math::max_nan(T(1) - y * p, T(0));
    g = T(-2) * y * m;
    return m * m;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T y = signed_label(t);
    const T m = math::max_nan(T(1) - y * p, T(0));
    g = T(-2) * y * m;
    h = m > T(0) ? T(2) * y * y : T(0);
  }
};

/// AdaBoost's exponential loss e^(-t p), labels ±1 (or 0/1, converted as hinge).
struct ExponentialLoss : detail::BinaryLabelRule {
  static constexpr const char* kName = "exponential";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "ExponentialLoss", "exponential", "exponential", "exponential_loss", "", AxisArg::Last,
      "Exponential loss of AdaBoost.", "exp(-t p)", "-t exp(-t p)", "t**2 exp(-t p)",
      FASTLOSS_LABEL_RULE_ " Large negative margins overflow to inf, as NumPy's exp does.", "",
      Domain::Signed, Kink::None, {},
      {{1, 0, 1},
       {-1, 0.6931471805599453, 2},  // e^(log 2)
       {1, 0.6931471805599453, 0.5}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T y = signed_label(t);
    const T e = math::exp(-y * p);
    g = -y * e;
    return e;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T y = signed_label(t);
    const T e = math::exp(-y * p);
    g = -y * e;
    h = y * y * e;
  }
};

/// 0-1 loss: 1 where (p > threshold) differs from the label, else 0; its mean
/// is the error rate, 1 - Keras's binary_accuracy. Piecewise constant: the
/// gradient is 0 everywhere it exists (and is reported as 0).
struct ZeroOneLoss {
  static constexpr const char* kName = "zero_one";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "ZeroOneLoss", "zero_one", "zero_one", "zero_one_loss", "", AxisArg::None,
      "0-1 loss: the error rate of thresholded predictions (1 - Keras's binary_accuracy).",
      "0 if (p > threshold) == t else 1", "0 (the loss is piecewise constant)", "",
      "The gradient is identically zero: this is a metric, not something to descend on. "
      "Labels must be 0/1 to ever count as correct; NaN propagates.",
      "the 0-1 loss is piecewise constant: its derivatives are zero wherever they exist and "
      "carry no information.",
      Domain::Binary, Kink::Threshold,
      {{"threshold", 0.5, Range::NotNaN, "Predictions above it count as class 1.", 0.3}},
      {{1, 0.7, 0}, {1, 0.3, 1}, {0, 0.5, 0},  // p > threshold is strict
       {0, 0.51, 1}}};
  double threshold = 0.5;
  explicit ZeroOneLoss(double threshold_ = 0.5)
      : threshold(detail::checked_param(kInfo, 0, threshold_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    g = T(0);
    const T predicted = p > static_cast<T>(threshold) ? T(1) : T(0);
    const T wrong = predicted == t ? T(0) : T(1);
    return (p != p || t != t) ? p + t : wrong;  // NaN propagates
  }
};

// PyTorch's and optax's margin losses of a label and a score. Each element is
// a sample (AxisArg::Elementwise): reduction="none" returns y_pred's shape and
// "sum_over_batch_size" is the mean over every element, PyTorch's "mean".

/// PyTorch's soft margin loss: the logistic loss log(1 + e^(-t p)) of labels ±1.
struct SoftMargin {
  static constexpr const char* kName = "soft_margin";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "SoftMargin", "soft_margin", "soft_margin", "soft_margin_loss", "",
      AxisArg::Elementwise, "Soft margin loss (PyTorch ``SoftMarginLoss``).",
      "log(1 + exp(-t p))", "-t sigmoid(-t p)", "t**2 sigmoid(t p) sigmoid(-t p)",
      "Labels are -1/+1 and used as given, as PyTorch does (0/1 labels are not mapped; "
      "the formula holds for any real t). Computed as softplus(-t p): exact for margins "
      "of any size, where log(1 + exp(.)) overflows.",
      "", Domain::Signed, Kink::None, {},
      {{1, 0, 0.6931471805599453}, {-1, 0.5, 0.9740769841801067}, {1, 2, 0.1269280110429725}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T m = -t * p;
    const math::Logistic<T> l(m);
    g = -t * l.sigmoid(m);
    return l.softplus(m);
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T m = -t * p;
    const T s = math::sigmoid(m);
    g = -t * s;
    h = t * t * s * (T(1) - s);
  }
};

/// PyTorch's hinge embedding loss: p where t == 1, max(0, margin - p) where
/// t == -1 (a label that is neither gets both terms, as in PyTorch).
struct HingeEmbedding {
  static constexpr const char* kName = "hinge_embedding";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "HingeEmbedding", "hinge_embedding", "hinge_embedding", "hinge_embedding_loss", "",
      AxisArg::Elementwise,
      "Hinge embedding loss (PyTorch ``HingeEmbeddingLoss``): y_pred is a distance, "
      "small for similar pairs (t = 1) and at least margin for dissimilar ones (t = -1).",
      "p if t == 1;  max(0, margin - p) if t == -1",
      "1 if t == 1;  -1 where margin - p > 0 if t == -1, else 0",
      "",
      "Labels are -1/+1. As in PyTorch, a label that is neither adds both terms "
      "(p + max(0, margin - p)); a NaN label gives NaN.",
      kPiecewiseLinear, Domain::Signed, Kink::Threshold,
      {{"margin", 1.0, Range::Finite, "The distance dissimilar pairs are pushed beyond.", 0.5}},
      {{1, 0.3, 0.3}, {-1, 0.3, 0.7}, {-1, 1.5, 0}, {1, -2, -2}}};
  double margin = 1.0;
  explicit HingeEmbedding(double margin_ = 1.0)
      : margin(detail::checked_param(kInfo, 0, margin_)) {}
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T gap = static_cast<T>(margin) - p;
    const bool dissimilar = t != T(1), similar = t != T(-1);
    const T v = (dissimilar ? math::max_nan(gap, T(0)) : T(0)) + (similar ? p : T(0));
    g = (dissimilar && gap > T(0) ? T(-1) : T(0)) + (similar ? T(1) : T(0));
    return t != t ? t : v;
  }
};

/// optax's perceptron loss max(0, -t p), labels ±1.
struct Perceptron {
  static constexpr const char* kName = "perceptron";
  static constexpr bool kHasHessian = false;
  static constexpr LossInfo kInfo = {
      "Perceptron", "perceptron", "perceptron", "perceptron_loss", "", AxisArg::Elementwise,
      "Perceptron loss (optax ``perceptron_loss``): the hinge without a margin.",
      "max(0, -t p)", "-t where -t p > 0, else 0", "",
      "Labels are -1/+1 and used as given (optax's rule). At t p = 0 the gradient is 0 "
      "(a subgradient).",
      kPiecewiseLinear, Domain::Signed, Kink::ZeroPrediction, {},
      {{1, 0.5, 0}, {1, -0.5, 0.5}, {-1, 2, 2}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T m = -t * p;
    g = m > T(0) ? -t : T(0);
    return math::max_nan(m, T(0));
  }
};

/// optax's binary sparsemax loss: sparse_plus of the signed score,
/// x = -z for a label 1, z for a label 0;
///   sparse_plus(x) = 0 (x <= -1), (x + 1)² / 4 (|x| < 1), x (x >= 1).
struct Sparsemax {
  static constexpr const char* kName = "sparsemax";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "Sparsemax", "sparsemax", "sparsemax", "sparsemax_loss binary_sparsemax_loss", "",
      AxisArg::Elementwise,
      "Binary sparsemax loss (optax ``sparsemax_loss``): the Fenchel-Young loss of the "
      "sparse sigmoid, zero once the score is on the right side by 1.",
      "sparse_plus(x),  x = -p if t else p;  sparse_plus(x) = 0 (x <= -1), "
      "(x + 1)**2 / 4 (-1 < x < 1), x (x >= 1)",
      "+-sparse_sigmoid(x) = +-clip((x + 1) / 2, 0, 1)  (- for t = 1)",
      "1/2 where -1 < x < 1, else 0",
      "Labels are 0 or 1 (y_pred holds a raw score, not a probability); as in optax any "
      "nonzero label counts as 1. A NaN label gives NaN.",
      "", Domain::BinaryLogits, Kink::UnitPrediction, {},
      {{0, 0, 0.25}, {1, 0, 0.25}, {1, 2, 0}, {0, 2, 2}, {1, -0.5, 0.5625}, {0, -3, 0}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const bool positive = t != T(0);
    const T x = positive ? -p : p;
    const T s = math::clip_nan((x + T(1)) * T(0.5), T(0), T(1));
    g = positive ? -s : s;
    const T v = x <= T(-1) ? T(0) : (x < T(1) ? (x + T(1)) * (x + T(1)) * T(0.25) : x);
    if (t != t) g = t;
    return t != t ? t : v;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const bool positive = t != T(0);
    const T x = positive ? -p : p;
    const T s = math::clip_nan((x + T(1)) * T(0.5), T(0), T(1));
    g = t != t ? t : (positive ? -s : s);
    h = x > T(-1) && x < T(1) ? T(0.5) : (x != x || t != t ? x + t : T(0));
  }
};

/// scikit-learn's modified Huber loss (SGDClassifier(loss="modified_huber"),
/// Zhang 2004's quadratically smoothed hinge), z = t p with labels ±1 (or 0/1,
/// converted as hinge): 0 for z >= 1, (1 - z)² for -1 <= z < 1, -4 z below.
/// Gradient -2 t max(1 - z, 0) in the quadratic zone, -4 t below (continuous
/// at z = -1), Hessian 2 t² in the quadratic zone, 0 elsewhere.
struct ModifiedHuber : detail::BinaryLabelRule {
  static constexpr const char* kName = "modified_huber";
  static constexpr bool kHasHessian = true;
  static constexpr LossInfo kInfo = {
      "ModifiedHuber", "modified_huber", "modified_huber", "", "", AxisArg::Last,
      "Modified Huber loss (scikit-learn's ``SGDClassifier(loss=\"modified_huber\")``): a "
      "squared hinge that turns linear for margins below -1.",
      "0 if z >= 1;  (1 - z)**2 if -1 <= z < 1;  -4 z if z < -1,  z = t p",
      "-2 t max(1 - z, 0) if z >= -1;  -4 t if z < -1",
      "2 t**2 if -1 <= z < 1, else 0",
      FASTLOSS_LABEL_RULE_ " The value and gradient are scikit-learn's ``ModifiedHuber`` "
      "loss's (SGDClassifier maps its two classes to -1/+1); the gradient is continuous "
      "at z = -1, the Hessian is not (at z = +-1 it takes the outer side's 0).",
      "", Domain::Signed, Kink::UnitPrediction, {},
      {{1, 0.5, 0.25}, {-1, 0.5, 2.25}, {1, -3, 12}, {-1, -2, 0}}};
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    const T y = signed_label(t);
    const T z = y * p;
    const T m = math::max_nan(T(1) - z, T(0));  // NaN stays NaN
    const bool linear = z < T(-1);
    g = linear ? T(-4) * y : T(-2) * y * m;
    return linear ? T(-4) * z : m * m;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    const T y = signed_label(t);
    const T z = y * p;
    const T m = math::max_nan(T(1) - z, T(0));
    const bool linear = z < T(-1);
    g = linear ? T(-4) * y : T(-2) * y * m;
    h = !linear && z > T(-1) && z < T(1) ? T(2) * y * y : T(0);
  }
};

#undef FASTLOSS_LABEL_RULE_

}  // namespace fastloss

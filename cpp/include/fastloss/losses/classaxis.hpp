// Class-axis losses: the per-sample loss reduces over a class (feature) axis,
// so one row's elements depend on each other (softmax, renormalisation,
// norms, argmax). Each struct holds the math of one row; the sample loops,
// threads and reduction are detail::run_rows (detail/rows.hpp).
//
// Interface of a struct: kName, kHasHessian, kInput (RowInput) and
//   template <unsigned W, class T, bool U> double row(const detail::RowView<T, U>&) const
// which returns the per-sample loss and, as the work mask W asks, writes
// coef * dL/dy_pred (and coef * d2L/dy_pred2, the Hessian's diagonal) for
// every element of the row. Sums over a row run in double in a fixed lane
// order; per-element arithmetic is in the input precision T, as Keras does it.
//
// Notation: z logits, p probabilities, t targets, C the number of classes,
// a_c the effective target weights of a cross-entropy (smoothed one-hot or
// dense targets), A = Σ a_c.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/isa.hpp"
#include "../detail/math.hpp"
#include "../detail/rows.hpp"
#include "binary.hpp"  // detail::require, detail::require_label_smoothing
#include "info.hpp"

// Docstring parts several class-axis declarations share.
#define FASTLOSS_FROM_LOGITS_DOC "Whether y_pred holds logits."
#define FASTLOSS_SMOOTHING_DOC                                                      \
  "In [0, 1]; targets become t (1 - ls) + ls / C (Keras's categorical smoothing, C " \
  "the size of the class axis)."
#define FASTLOSS_MASKED_NOTE                                                          \
  "Logits of any size are safe (the softmax is shifted by the row maximum), and "    \
  "masked classes (logit -inf) whose target is 0 add nothing to the loss and get a " \
  "zero gradient."
#define FASTLOSS_ZERO_ONE_NO_HESSIAN                                                 \
  "the 0-1 loss is piecewise constant: its derivatives are zero wherever they exist " \
  "and carry no information."

namespace fastloss {

namespace detail {

/// clip(x, lo, hi) that lets NaN through, as torch.clip / np.clip do
/// (std::fmin/fmax would replace a NaN by the bound).
template <class T>
FASTLOSS_INLINE T clip_nan(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/// min(x, cap) that lets NaN through.
FASTLOSS_INLINE double min_nan(double x, double cap) { return x > cap ? cap : x; }

/// Per-class parameters (class weights, focal alpha), kept in both
/// precisions so that rows read them without conversion.
class PerClass {
 public:
  PerClass() = default;
  explicit PerClass(std::vector<double> v) : d_(std::move(v)) {
    f_.reserve(d_.size());
    for (double x : d_) f_.push_back(static_cast<float>(x));
  }
  bool empty() const { return d_.empty(); }
  index_t size() const { return static_cast<index_t>(d_.size()); }
  const std::vector<double>& values() const { return d_; }
  template <class T>
  const T* data() const {
    if constexpr (std::is_same_v<T, float>) {
      return f_.data();
    } else {
      return d_.data();
    }
  }

 private:
  std::vector<double> d_;
  std::vector<float> f_;
};

/// Writes zeros over the derivative outputs of a row that contributes nothing
/// (an ignored label).
template <unsigned W, class T, bool U>
FASTLOSS_INLINE void zero_row(const RowView<T, U>& r) {
  for (index_t k = 0; k < r.size; ++k) {
    if constexpr ((W & kGrad) != 0) r.grad[k] = T(0);
    if constexpr ((W & kHess) != 0) r.hess[k] = T(0);
  }
}

/// Softmax cross-entropy of logits z against target weights a(k) (any
/// non-negative weights: one-hot, smoothed or soft targets):
///   L = Σ a_c (logsumexp(z) - z_c) = A log S + Σ a_c (m - z_c),
///   S = Σ e^(z_c - m), m = max z,
///   dL/dz_k = A p_k - a_k,   d2L/dz_k2 = A p_k (1 - p_k),   p = softmax(z).
/// Three sweeps: max; exp-sum, writing e^(z-m) into grad; scale grad in place.
/// Terms with a_c == 0 are skipped in the value, so masked classes (z = -inf)
/// with a zero target give a finite loss and a zero gradient.
template <unsigned W, class T, bool U, class Weights>
FASTLOSS_INLINE double softmax_xent(const RowView<T, U>& r, const Weights& a) {
  const index_t n = r.size;
  const T m = math::max_skip_nan<U, T>(n, r.pred);
  const double md = static_cast<double>(m);
  LaneSumN<kWideLanes> sum_e, sum_a, shift;
  for_wide_lanes<W>(r, [&](index_t k, int l) FASTLOSS_LAMBDA_INLINE {
    const T z = r.pred[k];
    const T ak = a(k);
    const T e = math::exp_nonpositive(z - m);  // z - max z <= 0, or NaN
    sum_e.add(l, static_cast<double>(e));
    sum_a.add(l, static_cast<double>(ak));
    if constexpr ((W & kValue) != 0) {
      shift.add(l, ak != T(0) ? static_cast<double>(ak) * (md - static_cast<double>(z)) : 0.0);
    }
    if constexpr ((W & kGrad) != 0) r.grad[k] = e;
  });
  const double S = sum_e.total(), A = sum_a.total();
  if constexpr ((W & kGrad) != 0) {
    const T scale = static_cast<T>(A / S), inv = static_cast<T>(1.0 / S);
    const T At = static_cast<T>(A), c = r.coef;
    for (index_t k = 0; k < n; ++k) {
      const T e = r.grad[k];
      if constexpr ((W & kHess) != 0) {
        const T p = e * inv;
        r.hess[k] = c * (At * p * (T(1) - p));
      }
      r.grad[k] = c * (scale * e - a(k));
    }
  }
  if constexpr ((W & kValue) != 0) {
    return A * math::log(S) + shift.total();
  } else {
    return 0.0;
  }
}

/// Cross-entropy of probabilities as Keras computes it: renormalise
/// q = p / Σp, clip q to [1e-7, 1 - 1e-7], L = -Σ a_c log(clip(q_c)).
/// With L_live = Σ of a_c over the classes whose q is inside the clip range:
///   dL/dp_k = (-a_k / q_k [k live] + A_live) / Σp,
///   d2L/dp_k2 = (a_k / q_k^2 [k live] - A_live) / (Σp)^2.
template <unsigned W, class T, bool U, class Weights>
FASTLOSS_INLINE double prob_xent(const RowView<T, U>& r, const Weights& a) {
  const index_t n = r.size;
  const T lo = math::ProbClip<T>::lo, hi = math::ProbClip<T>::hi;
  LaneSum sum_p;
  for_lanes(n, [&](index_t k, int l) { sum_p.add(l, static_cast<double>(r.pred[k])); });
  const T St = static_cast<T>(sum_p.total());
  LaneSum value, live_a;
  for_lanes(n, [&](index_t k, int l) {
    const T q = r.pred[k] / St;
    const T ak = a(k);
    const bool live = q >= lo && q <= hi;
    live_a.add(l, live ? static_cast<double>(ak) : 0.0);
    if constexpr ((W & kValue) != 0) {
      value.add(l, ak != T(0) ? -static_cast<double>(ak * math::log(clip_nan(q, lo, hi))) : 0.0);
    }
  });
  if constexpr ((W & kGrad) != 0) {
    const T A_live = static_cast<T>(live_a.total());
    const T cg = r.coef / St, ch = r.coef / (St * St);
    for (index_t k = 0; k < n; ++k) {
      const T q = r.pred[k] / St;
      const T ak = a(k);
      const bool live = q >= lo && q <= hi;
      if constexpr ((W & kHess) != 0) r.hess[k] = ch * ((live ? ak / (q * q) : T(0)) - A_live);
      r.grad[k] = cg * ((live ? -ak / q : T(0)) + A_live);
    }
  }
  return value.total();
}

/// Keras's categorical label smoothing as target weights: t (1 - ls) + ls / C.
template <class T, bool U>
struct SmoothedTargets {
  RowRun<const T, U> t;
  T keep, add;
  bool smooth;
  SmoothedTargets(const RowView<T, U>& r, double ls)
      : t(r.target),
        keep(static_cast<T>(1.0 - ls)),
        add(static_cast<T>(ls / static_cast<double>(r.size))),
        smooth(ls != 0.0) {}
  FASTLOSS_INLINE T operator()(index_t k) const {
    const T x = t[k];
    return smooth ? x * keep + add : x;
  }
};

}  // namespace detail

/// Categorical cross-entropy (Keras CategoricalCrossentropy) on probabilities
/// (renormalised and clipped as Keras does) or on logits (log-softmax), with
/// Keras's label smoothing t (1 - ls) + ls / C.
struct CategoricalCrossentropy {
  static constexpr const char* kName = "categorical_crossentropy";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "CategoricalCrossentropy", "categorical_crossentropy", "categorical_crossentropy", "",
      "", AxisArg::BeforeReduction,
      "Categorical cross-entropy (Keras ``CategoricalCrossentropy``).",
      "-sum_c t_c log(q_c),  q = clip(p / sum(p), 1e-7, 1 - 1e-7); "
      "from logits z: sum_c t_c (logsumexp(z) - z_c)",
      "(-t_k / q_k [q_k not clipped] + sum of t over unclipped classes) / sum(p); "
      "from logits: sum(t) softmax(z)_k - t_k",
      "(t_k / q_k**2 [not clipped] - sum of t over unclipped classes) / sum(p)**2; "
      "from logits: sum(t) s_k (1 - s_k), s = softmax(z) (scikit-learn's "
      "HalfMultinomialLoss convention)",
      "The probability path renormalises and clips exactly as Keras does, so the "
      "gradient is zero through clipped entries. " FASTLOSS_MASKED_NOTE " A single class "
      "(C = 1) warns, as Keras does. ``fl.get('softmax_cross_entropy_with_logits')`` "
      "is this loss with from_logits=True. Keras smooths with C = the size of the "
      "*last* axis even when ``axis`` is another one; fastloss uses the class axis.",
      "", Domain::Probability, Kink::None,
      {{"from_logits", 0.0, Range::Bool, FASTLOSS_FROM_LOGITS_DOC, 1.0},
       {"label_smoothing", 0.0, Range::Closed01, FASTLOSS_SMOOTHING_DOC, 0.1}},
      {}, {}, nullptr,
      {{{3, {0, 1, 0}, {0.05, 0.95, 0}, 0.05129329438755058},  // -log 0.95
        {3, {0, 0, 1}, {0.1, 0.8, 0.1}, 2.3025850929940455}},  // -log 0.1
       true, "softmax_cross_entropy_with_logits"}};
  bool from_logits = false;
  double label_smoothing = 0.0;
  explicit CategoricalCrossentropy(bool from_logits_ = false, double ls = 0.0)
      : from_logits(from_logits_), label_smoothing(detail::checked_param(kInfo, 1, ls)) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    const detail::SmoothedTargets<T, U> a(r, label_smoothing);
    return from_logits ? detail::softmax_xent<W>(r, a) : detail::prob_xent<W>(r, a);
  }
};

/// Sparse categorical cross-entropy: one class id y per sample. With class
/// weights w and label smoothing e it is PyTorch's cross_entropy per sample,
///   L = (1 - e) w_y (-log p_y) + (e / C) Σ_c w_c (-log p_c),
/// i.e. the dense cross-entropy with target weights
///   a_c = (1 - e) w_y [c == y] + (e / C) w_c   (w = 1 without class weights).
/// Rows with a negative label are ignored: zero loss, zero gradient.
struct SparseCategoricalCrossentropy {
  static constexpr const char* kName = "sparse_categorical_crossentropy";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "SparseCategoricalCrossentropy", "sparse_categorical_crossentropy",
      "sparse_categorical_crossentropy", "", "", AxisArg::BeforeName,
      "Sparse categorical cross-entropy (Keras ``SparseCategoricalCrossentropy``): "
      "integer class ids instead of one-hot targets.",
      "(1 - e) w_y (-log q_y) + (e / C) sum_c w_c (-log q_c),  y the class id, e the label "
      "smoothing, w the class weights (1 without); q as in CategoricalCrossentropy",
      "that of CategoricalCrossentropy with targets a_c = (1 - e) w_y [c == y] + (e / C) w_c "
      "(from logits: sum(a) softmax(z)_k - a_k)",
      "likewise (from logits: sum(a) s_k (1 - s_k))",
      "Labels may be of any integer dtype, or floats holding integers; each is checked "
      "against [0, C) and the error names the first bad label and its index. A label "
      "array of y_pred's rank with a size-1 class axis is squeezed, as in Keras; "
      "class ids broadcast to y_pred's shape without the class axis. " FASTLOSS_MASKED_NOTE,
      "", Domain::Probability, Kink::None,
      {{"from_logits", 0.0, Range::Bool, FASTLOSS_FROM_LOGITS_DOC, 1.0},
       {"ignore_class", 0.0, Range::Any,
        "Rows whose label equals it give zero loss and zero gradient and are left out of the "
        "mean (Keras's rule: \"sum_over_batch_size\" divides by the rows that count, "
        "\"mean_with_sample_weight\" by their weights).",
        -1.0, ParamKind::IgnoredLabel},
       {"class_weight", 0.0, Range::NonNegativeFinite,
        "One non-negative weight per class, as PyTorch's ``cross_entropy(weight=...)``: each "
        "row's loss is weighted as above and \"mean_with_sample_weight\" divides by the sum "
        "of sample_weight * w_y, so that it equals PyTorch's weighted mean.",
        2.0, ParamKind::PerClass, true},
       {"label_smoothing", 0.0, Range::Closed01,
        "In [0, 1]; PyTorch's formula for class-index targets (the same as Keras's smoothing "
        "of one-hot targets).",
        0.1, ParamKind::Number, true}},
      {}, {}, nullptr,
      {{{3, {1}, {0.05, 0.95, 0}, 0.05129329438755058},  // -log 0.95
        {3, {2}, {0.1, 0.8, 0.1}, 2.3025850929940455}},  // -log 0.1
       false, ""}};
  bool from_logits = false;
  double label_smoothing = 0.0;
  detail::PerClass class_weight;  // empty: all 1
  explicit SparseCategoricalCrossentropy(bool from_logits_ = false, double ls = 0.0,
                                         std::vector<double> class_weight_ = {})
      : from_logits(from_logits_),
        label_smoothing(detail::checked_param(kInfo, 3, ls)),
        class_weight(std::move(class_weight_)) {
    for (double w : class_weight.values()) {
      detail::require(std::isfinite(w) && w >= 0,
                      "SparseCategoricalCrossentropy: class weights must be finite and >= 0, "
                      "got " + std::to_string(w));
    }
  }
  /// The declared order (kInfo, the Python class's): class_weight before
  /// label_smoothing.
  SparseCategoricalCrossentropy(bool from_logits_, std::vector<double> class_weight_, double ls)
      : SparseCategoricalCrossentropy(from_logits_, ls, std::move(class_weight_)) {}
  void validate(index_t classes) const {
    detail::require(class_weight.empty() || class_weight.size() == classes,
                    "SparseCategoricalCrossentropy: class_weight has " +
                        std::to_string(class_weight.size()) + " entries but y_pred has " +
                        std::to_string(classes) + " classes");
  }
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    if (r.label < 0) {
      detail::zero_row<W>(r);
      return 0.0;
    }
    const index_t y = static_cast<index_t>(r.label);
    const T* cw = class_weight.empty() ? nullptr : class_weight.template data<T>();
    const T on = static_cast<T>((1.0 - label_smoothing) * (cw ? static_cast<double>(cw[y]) : 1.0));
    const T off = static_cast<T>(label_smoothing / static_cast<double>(r.size));
    if (off == T(0)) {
      return from_logits ? one_hot_logits<W>(r, y, on) : one_hot_probs<W>(r, y, on);
    }
    auto a = [&](index_t k) {
      return (k == y ? on : T(0)) + off * (cw ? cw[k] : T(1));
    };
    return from_logits ? detail::softmax_xent<W>(r, a) : detail::prob_xent<W>(r, a);
  }

 private:
  /// a = on at y, 0 elsewhere: the value needs only z_y, and the target
  /// weight is subtracted from the gradient at y alone.
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE static double one_hot_logits(const detail::RowView<T, U>& r, index_t y, T on) {
    using namespace detail;
    const index_t n = r.size;
    // the hottest rows: sixteen lanes, so AVX-512 fills a register
    const T m = math::max_skip_nan<U, T>(n, r.pred);
    const T zy = r.pred[y];  // read before the in-place sweep overwrites it
    LaneSumN<kWideLanes> sum_e;
    softmax_exp_sum<W>(r, m, sum_e);
    const double S = sum_e.total();
    if constexpr ((W & kGrad) != 0) {
      const T scale = static_cast<T>(static_cast<double>(on) / S);
      const T inv = static_cast<T>(1.0 / S), c = r.coef;
      // coef * on / S rounded once: the write sweep is one product per element
      const T cscale = static_cast<T>(static_cast<double>(c) * static_cast<double>(on) / S);
      const T ey = r.grad[y];
      for (index_t k = 0; k < n; ++k) {
        const T e = r.grad[k];
        if constexpr ((W & kHess) != 0) {
          const T p = e * inv;
          r.hess[k] = c * (on * p * (T(1) - p));
        }
        r.grad[k] = cscale * e;
      }
      r.grad[y] = c * (scale * ey - on);
    }
    return static_cast<double>(on) *
           (math::log(S) + static_cast<double>(m) - static_cast<double>(zy));
  }

  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE static double one_hot_probs(const detail::RowView<T, U>& r, index_t y, T on) {
    using namespace detail;
    const index_t n = r.size;
    const T lo = math::ProbClip<T>::lo, hi = math::ProbClip<T>::hi;
    LaneSum sum_p;
    for_lanes(n, [&](index_t k, int l) { sum_p.add(l, static_cast<double>(r.pred[k])); });
    const T St = static_cast<T>(sum_p.total());
    const T qy = r.pred[y] / St;
    const bool live_y = qy >= lo && qy <= hi;
    if constexpr ((W & kGrad) != 0) {
      const T A_live = live_y ? on : T(0);
      const T cg = r.coef / St, ch = r.coef / (St * St);
      for (index_t k = 0; k < n; ++k) {
        if constexpr ((W & kHess) != 0) r.hess[k] = ch * (-A_live);
        r.grad[k] = cg * A_live;
      }
      if (live_y) {
        if constexpr ((W & kHess) != 0) r.hess[y] = ch * (on / (qy * qy) - A_live);
        r.grad[y] = cg * (-on / qy + A_live);
      }
    }
    return -static_cast<double>(on * math::log(clip_nan(qy, lo, hi)));
  }
};

/// Categorical focal cross-entropy (Keras CategoricalFocalCrossentropy):
///   L = Σ_c alpha_c (1 - q_c)^gamma (-t_c log q_c),
/// q = clip(p / Σp, 1e-7, 1 - 1e-7), p = y_pred or softmax(y_pred) with
/// from_logits. With f_c(q) the summand and r_c = f_c'(q_c) (0 where clipped),
/// R = Σ r_c q_c: dL/dp_k = (r_k - R) / Σp; from logits dL/dz_k = q_k (r_k - R).
struct CategoricalFocalCrossentropy {
  static constexpr const char* kName = "categorical_focal_crossentropy";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "CategoricalFocalCrossentropy", "categorical_focal_crossentropy",
      "categorical_focal_crossentropy", "", "", AxisArg::BeforeReduction,
      "Categorical focal cross-entropy (Keras ``CategoricalFocalCrossentropy``, Lin et al.).",
      "sum_c alpha_c (1 - q_c)**gamma (-t_c log q_c),  q = clip(p / sum(p), 1e-7, 1 - 1e-7), "
      "p = y_pred or softmax(y_pred)",
      "(r_k - R) / sum(p), r_c the derivative of the c-th summand in q_c (0 where clipped), "
      "R = sum_c r_c q_c; from logits: q_k (r_k - R)",
      "",
      "Keras applies softmax and then renormalises and clips; fastloss does the same "
      "(the renormalisation of a softmax is exact, so it is not repeated). A per-class "
      "alpha runs along ``axis``. A single class warns, as Keras does.",
      "the focal factor couples every class of a row through the renormalisation, and its "
      "Hessian diagonal is not implemented; use CategoricalCrossentropy's (gamma = 0) as a "
      "Newton surrogate.",
      Domain::Probability, Kink::None,
      {{"alpha", 0.25, Range::Finite, "Weight of every class, or one weight per class.", 0.5,
        ParamKind::NumberOrPerClass},
       {"gamma", 2.0, Range::NonNegativeFinite,
        "Focusing exponent, >= 0 (0 is the alpha-weighted cross-entropy).", 3.0},
       {"from_logits", 0.0, Range::Bool, FASTLOSS_FROM_LOGITS_DOC, 1.0},
       {"label_smoothing", 0.0, Range::Closed01, FASTLOSS_SMOOTHING_DOC, 0.1}},
      {}, {}, nullptr,
      {{{3, {0, 1, 0}, {0.05, 0.95, 0}, 3.2058308992219164e-05},  // 0.25 0.05^2 (-log 0.95)
        {3, {0, 0, 1}, {0.1, 0.8, 0.1}, 0.46627348133129426}},    // 0.25 0.9^2 (-log 0.1)
       true, ""}};
  detail::PerClass alpha;  // one value (all classes) or one per class
  double gamma = 2.0;
  bool from_logits = false;
  double label_smoothing = 0.0;
  explicit CategoricalFocalCrossentropy(std::vector<double> alpha_ = {0.25}, double gamma_ = 2.0,
                                        bool from_logits_ = false, double ls = 0.0)
      : alpha(std::move(alpha_)), gamma(gamma_), from_logits(from_logits_), label_smoothing(ls) {
    detail::require(!alpha.empty(), "CategoricalFocalCrossentropy: alpha must not be empty");
    for (double x : alpha.values()) {
      detail::require(std::isfinite(x), "CategoricalFocalCrossentropy: alpha must be finite");
    }
    detail::checked_param(kInfo, 1, gamma);
    detail::checked_param(kInfo, 3, ls);
  }
  void validate(index_t classes) const {
    detail::require(alpha.size() == 1 || alpha.size() == classes,
                    "CategoricalFocalCrossentropy: alpha has " + std::to_string(alpha.size()) +
                        " entries but y_pred has " + std::to_string(classes) + " classes");
  }

  /// The summand f(q) = alpha (1 - qc)^gamma (-t log qc) and r = df/dq.
  template <class T>
  struct Term {
    double value;
    T slope;
  };
  template <class T>
  FASTLOSS_INLINE Term<T> term(T q, T t, T al) const {
    const T lo = math::ProbClip<T>::lo, hi = math::ProbClip<T>::hi;
    const T g = static_cast<T>(gamma);
    const T qc = detail::clip_nan(q, lo, hi);
    if (t == T(0)) return {0.0, T(0)};
    const T lq = math::log(qc);
    const T mod = math::pow_nonneg(T(1) - qc, g);
    const bool live = q >= lo && q <= hi;
    const T slope =
        live ? -al * t * (mod / qc - math::dpow_nonneg(T(1) - qc, g) * lq) : T(0);
    return {static_cast<double>(al * mod * (-t * lq)), slope};
  }

  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    const SmoothedTargets<T, U> a(r, label_smoothing);
    const T* al = alpha.template data<T>();
    const bool per_class = alpha.size() > 1;
    auto alpha_of = [&](index_t k) { return per_class ? al[k] : al[0]; };
    LaneSum value, slope_q;
    if (!from_logits) {
      LaneSum sum_p;
      for_lanes(n, [&](index_t k, int l) { sum_p.add(l, static_cast<double>(r.pred[k])); });
      const T St = static_cast<T>(sum_p.total());
      for_lanes(n, [&](index_t k, int l) {
        const T q = r.pred[k] / St;
        const Term<T> f = term(q, a(k), alpha_of(k));
        value.add(l, f.value);
        slope_q.add(l, static_cast<double>(f.slope * q));
      });
      if constexpr ((W & kGrad) != 0) {
        const T R = static_cast<T>(slope_q.total()), c = r.coef / St;
        for (index_t k = 0; k < n; ++k) {
          const T q = r.pred[k] / St;
          r.grad[k] = c * (term(q, a(k), alpha_of(k)).slope - R);
        }
      }
      return value.total();
    }
    const T m = math::max_skip_nan<U, T>(n, r.pred);
    LaneSum sum_e;
    for_lanes(n, [&](index_t k, int l) {
      sum_e.add(l, static_cast<double>(math::exp(r.pred[k] - m)));
    });
    const T inv = static_cast<T>(1.0 / sum_e.total());
    for_lanes(n, [&](index_t k, int l) {
      const T q = math::exp(r.pred[k] - m) * inv;
      const Term<T> f = term(q, a(k), alpha_of(k));
      value.add(l, f.value);
      slope_q.add(l, static_cast<double>(f.slope * q));
    });
    if constexpr ((W & kGrad) != 0) {
      const T R = static_cast<T>(slope_q.total()), c = r.coef;
      for (index_t k = 0; k < n; ++k) {
        const T q = math::exp(r.pred[k] - m) * inv;
        r.grad[k] = c * (q * (term(q, a(k), alpha_of(k)).slope - R));
      }
    }
    return value.total();
  }
};

/// Kullback-Leibler divergence as Keras computes it: both inputs clipped to
/// [1e-7, 1], L = Σ t log(t / p). dL/dp = -t / p, d2L/dp2 = t / p^2 where p
/// is inside the clip range, 0 outside.
struct KLDivergence {
  static constexpr const char* kName = "kl_divergence";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "KLDivergence", "kl_divergence", "kl_divergence", "kld KLD kullback_leibler_divergence",
      "kld kullback_leibler_divergence", AxisArg::Last,
      "Kullback-Leibler divergence (Keras ``KLDivergence``; PyTorch ``kl_div`` with "
      "``log_input=True``).",
      "sum_c tc (log tc - lc);  Keras (the defaults): tc = clip(t, 1e-7, 1), "
      "lc = log clip(p, 1e-7, 1); log_input: lc = p (PyTorch's input, log-probabilities); "
      "log_target: tc = exp(t) (and log tc = t), unclipped",
      "-tc / pc where 1e-7 <= p <= 1, else 0; log_input: -tc",
      "tc / pc**2 where 1e-7 <= p <= 1, else 0; log_input: 0 (the loss is linear in p)",
      "By default both inputs are clipped as Keras clips them, so a zero target "
      "contributes 1e-7 log(1e-7 / pc) rather than 0. With ``log_input=True`` nothing is "
      "clipped and the loss is PyTorch's ``kl_div(input=y_pred, target=y_true, "
      "log_target=...)`` summed over the class axis (a zero target contributes 0, a "
      "negative one NaN): reduction \"sum_over_batch_size\" is then PyTorch's "
      "``reduction=\"batchmean\"`` for 2-D inputs, and PyTorch's ``\"mean\"`` divides by "
      "the classes as well. Keras sums over the last axis; ``axis`` picks another.",
      "", Domain::Probability, Kink::None,
      {{"log_input", 0.0, Range::Bool,
        "Whether y_pred holds log-probabilities (PyTorch's convention) instead of "
        "probabilities.", 1.0},
       {"log_target", 0.0, Range::Bool,
        "Whether y_true holds log-probabilities (PyTorch's ``log_target``).", 1.0}},
      {}, {}, nullptr,
      // 0.5 log(0.5 / 0.25) + 0.5 log(0.5 / 0.75); a row against itself: 0
      {{{2, {0.5, 0.5}, {0.25, 0.75}, 0.14384103622589042},
        {3, {0.25, 0.25, 0.5}, {0.25, 0.25, 0.5}, 0.0}},
       false, ""}};
  bool log_input = false, log_target = false;
  explicit KLDivergence(bool log_input_ = false, bool log_target_ = false)
      : log_input(log_input_), log_target(log_target_) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    if (log_input) return log_target ? of_logs<W, true, true>(r) : of_logs<W, true, false>(r);
    return log_target ? of_logs<W, false, true>(r) : of_logs<W, false, false>(r);
  }

 private:
  template <unsigned W, bool kLogInput, bool kLogTarget, class T, bool U>
  FASTLOSS_INLINE double of_logs(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const T lo = static_cast<T>(math::kKerasEpsilon), hi = T(1);
    LaneSum value;
    auto body = [&](index_t k, int l) {
      const T y = r.target[k], p = r.pred[k];
      T t, log_t;
      if constexpr (kLogTarget) {
        t = math::exp(y);
        log_t = y;
      } else if constexpr (kLogInput) {
        t = y;  // PyTorch: used as given, 0 log 0 = 0
        log_t = math::log(y);
      } else {
        t = clip_nan(y, lo, hi);
        log_t = math::log(t);
      }
      if constexpr (kLogInput) {
        if constexpr ((W & kValue) != 0) {
          const T term = t == T(0) ? T(0) * p : t * (log_t - p);  // xlogy(0, 0) = 0
          value.add(l, static_cast<double>(term));
        }
        if constexpr ((W & kHess) != 0) r.hess[k] = T(0) * p;
        if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * -t;
      } else {
        const T pc = clip_nan(p, lo, hi);
        if constexpr ((W & kValue) != 0) {
          value.add(l, static_cast<double>(kLogTarget ? t * (log_t - math::log(pc))
                                                      : t * math::log(t / pc)));
        }
        const bool live = p >= lo && p <= hi;
        if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * (live ? t / (pc * pc) : T(0));
        if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * (live ? -t / pc : T(0));
      }
    };
    for_lanes(r.size, body);
    return value.total();
  }
};

/// optax's generalized_kl_divergence (the Bregman divergence of x log x - x,
/// for unnormalised distributions): with z = y_pred the log-predictions,
///   L = Σ t (log t - z) + e^z - t,  dL/dz = e^z - t,  d2L/dz2 = e^z;
/// with log_input=False, y_pred = q the predictions themselves,
///   L = Σ t (log t - log q) + q - t,  dL/dq = 1 - t / q,  d2L/dq2 = t / q².
/// A zero target contributes e^z (q): optax's where(t == 0, 0, log t).
struct GeneralizedKLDivergence {
  static constexpr const char* kName = "generalized_kl_divergence";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "GeneralizedKLDivergence", "generalized_kl_divergence", "generalized_kl_divergence",
      "convex_kl_divergence ConvexKLDivergence generalized_kld",
      "convex_kl_divergence", AxisArg::Last,
      "Generalized Kullback-Leibler divergence (optax ``generalized_kl_divergence``, "
      "formerly ``convex_kl_divergence``): the KL divergence of unnormalised "
      "distributions.",
      "sum_c t_c (log t_c - z_c) + exp(z_c) - t_c,  z = y_pred the log-predictions, "
      "t = y_true (0 log 0 = 0); log_input=False: z_c = log p_c, p = y_pred",
      "exp(z_k) - t_k; log_input=False: 1 - t_k / p_k",
      "exp(z_k); log_input=False: t_k / p_k**2",
      "optax's semantics and calling convention turned to fastloss's (y_true first): "
      "y_pred holds log-predictions by default, as optax's log_predictions (it is not "
      "normalised: any real is fine). Nothing is clipped: a zero target contributes "
      "exp(z) (a 0 log 0 that is 0), a negative one NaN. For normalised distributions it "
      "equals KLDivergence(log_input=True), since sum(exp(z)) = sum(t) = 1 then. Summed "
      "over ``axis`` (the last by default), so \"sum_over_batch_size\" is the mean over "
      "the batch. ``ConvexKLDivergence`` and ``convex_kl_divergence`` are optax's former "
      "names.",
      "", Domain::Logits, Kink::None,
      {{"log_input", 1.0, Range::Bool,
        "Whether y_pred holds log-predictions (optax's convention, the default) instead "
        "of the predictions themselves.",
        0.0}},
      {}, {}, nullptr,
      // z = 0: 0.5 log 0.5 + 0.5 log 0.5 + 2 - 1 = 1 - log 2;
      // z = log t with sum t = 1: 0; a zero target: exp(0) + exp(log 0.5) - 0.5 = 1
      {{{2, {0.5, 0.5}, {0, 0}, 0.3068528194400547},
        {2, {0.25, 0.75}, {-1.3862943611198906, -0.2876820724517809}, 0.0},
        {2, {0, 0.5}, {0, -0.6931471805599453}, 1.0}},
       false, ""}};
  bool log_input = true;
  explicit GeneralizedKLDivergence(bool log_input_ = true) : log_input(log_input_) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    return log_input ? of<W, true>(r) : of<W, false>(r);
  }

 private:
  template <unsigned W, bool kLogInput, class T, bool U>
  FASTLOSS_INLINE double of(const detail::RowView<T, U>& r) const {
    using namespace detail;
    LaneSum value;
    for_lanes(r.size, [&](index_t k, int l) {
      const T t = r.target[k], y = r.pred[k];
      const T q = kLogInput ? math::exp(y) : y;     // the prediction
      const T log_q = kLogInput ? y : math::log(y);
      if constexpr ((W & kValue) != 0) {
        // optax's where(t == 0, 0, log t): a zero target's term is q alone
        // (optax's t (0 - z) is -0 z, NaN at an infinite z; a prediction q of 0
        // with a zero target adds its limit 0)
        const T zero = kLogInput ? q - T(0) * log_q : q;
        const T term = t == T(0) ? zero : t * (math::log(t) - log_q) + q - t;
        value.add(l, static_cast<double>(term));
      }
      if constexpr (kLogInput) {
        if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * q;
        if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * (q - t);
      } else {
        const T ratio = t == T(0) ? T(0) * y : t / q;  // t / q, 0 for a zero target
        if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * (t == T(0) ? ratio : ratio / q);
        if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * (T(1) - ratio);
      }
    });
    return value.total();
  }
};

/// Keras's categorical hinge: L = max(neg - pos + 1, 0), pos = Σ t p,
/// neg = max_c (1 - t_c) p_c. Where L > 0, dL/dp_k = -t_k + (1 - t_k)[k == j],
/// j the first index of the maximum; 0 where L <= 0. Piecewise linear.
struct CategoricalHinge {
  static constexpr const char* kName = "categorical_hinge";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "CategoricalHinge", "categorical_hinge", "categorical_hinge", "", "", AxisArg::Last,
      "Categorical hinge loss (Keras ``CategoricalHinge``).",
      "max(neg - pos + 1, 0),  pos = sum_c t_c p_c, neg = max_c (1 - t_c) p_c",
      "-t_k + (1 - t_k) [k == j] where the loss is > 0 (j the first index of the "
      "maximum in neg), else 0",
      "",
      "Where the maximum in neg is tied, the gradient goes to its first index; at "
      "a loss of exactly 0 the gradient is 0 (both are subgradients).",
      "the loss is piecewise linear in y_pred: its second derivative is zero wherever it "
      "exists.",
      Domain::Real, Kink::Margin, {}, {}, {}, nullptr,
      {{{3, {0, 1, 0}, {0.6, 0.3, 0.1}, 1.3},  // neg 0.6, pos 0.3: 0.6 - 0.3 + 1
        {2, {1, 0}, {2.0, 0.5}, 0.0}},         // neg 0.5, pos 2: max(-0.5, 0)
       false, ""}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    LaneSum pos;
    for_lanes(n, [&](index_t k, int l) {
      pos.add(l, static_cast<double>(r.target[k]) * static_cast<double>(r.pred[k]));
    });
    index_t j = 0;
    T neg = (T(1) - r.target[0]) * r.pred[0];
    for (index_t k = 1; k < n; ++k) {
      const T v = (T(1) - r.target[k]) * r.pred[k];
      if (v > neg || (neg != neg && v == v)) {
        neg = v;
        j = k;
      }
    }
    const double margin = static_cast<double>(neg) - pos.total() + 1.0;
    if constexpr ((W & kGrad) != 0) {
      const T c = margin > 0.0 ? r.coef : T(0);
      for (index_t k = 0; k < n; ++k) r.grad[k] = c * (-r.target[k]);
      r.grad[j] = c * (T(1) - r.target[j] - r.target[j]);
    }
    return margin > 0.0 || margin != margin ? margin : 0.0;
  }
};

namespace detail {
/// The negative cosine -Σ t_c p_c / (nt np) of row r, each norm's inverse
/// capped at `cap` (nt = max(|t|, 1/cap), likewise np; NaN stays NaN). With
/// u = t / nt, s = u·p and k = 1/|p| (uncapped):
///   d/dp_c = -u_c k + s p_c k^3,   d2/dp_c2 = 2 u_c p_c k^3 + s k^3 - 3 s p_c^2 k^5,
/// and where the cap is active (|p| <= 1/cap) d/dp_c = -u_c cap, d2 = 0.
template <unsigned W, class T, bool U>
FASTLOSS_INLINE double negative_cosine_row(const RowView<T, U>& r, double cap) {
  const index_t n = r.size;
  LaneSum tt, pp, tp;
  for_lanes(n, [&](index_t k, int l) {
    const double t = static_cast<double>(r.target[k]), p = static_cast<double>(r.pred[k]);
    tt.add(l, t * t);
    pp.add(l, p * p);
    tp.add(l, t * p);
  });
  const double raw_p = 1.0 / std::sqrt(pp.total());
  const double inv_t = min_nan(1.0 / std::sqrt(tt.total()), cap);
  const double inv_p = min_nan(raw_p, cap);
  const bool live = raw_p < cap;
  const double s = tp.total() * inv_t;  // u · p
  if constexpr ((W & kGrad) != 0) {
    const double k3 = inv_p * inv_p * inv_p;
    const T c1 = static_cast<T>(-inv_t * inv_p), c2 = static_cast<T>(live ? s * k3 : 0.0);
    const T h1 = static_cast<T>(live ? 2.0 * inv_t * k3 : 0.0);
    const T h3 = static_cast<T>(live ? -3.0 * s * k3 * inv_p * inv_p : 0.0);
    const T c = r.coef;
    for (index_t k = 0; k < n; ++k) {
      const T t = r.target[k], p = r.pred[k];
      if constexpr ((W & kHess) != 0) r.hess[k] = c * (h1 * t * p + c2 + h3 * p * p);
      r.grad[k] = c * (c1 * t + c2 * p);
    }
  }
  return -s * inv_p;
}

}  // namespace detail

/// Keras's cosine similarity loss L = -Σ t_c p_c / (|t| |p|), each norm
/// floored at 1e-7 (Keras's normalize: x * min(rsqrt(Σx²), 1e7)); a zero
/// vector gives 0. With u = t / |t|, s = u·p and k = 1/|p| (unfloored):
///   dL/dp_c = -u_c k + s p_c k^3,
///   d2L/dp_c2 = 2 u_c p_c k^3 + s k^3 - 3 s p_c^2 k^5.
/// Where |p| <= 1e-7 the floor is active and dL/dp_c = -u_c 1e7, d2L = 0.
struct CosineSimilarity {
  static constexpr const char* kName = "cosine_similarity";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "CosineSimilarity", "cosine_similarity", "cosine_similarity", "", "",
      AxisArg::BeforeReduction,
      "Negative cosine similarity (Keras ``CosineSimilarity``): -1 for vectors pointing "
      "the same way, 0 for orthogonal ones, +1 for opposite ones.",
      "-sum_c (t_c / nt) (p_c / np),  nt = max(|t|, 1e-7), np = max(|p|, 1e-7)",
      "-u_k / |p| + (u.p) p_k / |p|**3,  u = t / nt; -u_k * 1e7 where |p| <= 1e-7",
      "2 u_k p_k / |p|**3 + (u.p) / |p|**3 - 3 (u.p) p_k**2 / |p|**5; 0 where |p| <= 1e-7",
      "The norms are floored at 1e-7 as Keras's normalize does, so a zero vector "
      "gives a loss of 0, not NaN. At a zero y_pred the gradient is the derivative "
      "of that floored form, -u * 1e7 (finite; autograd of Keras gives NaN there).",
      "", Domain::Real, Kink::None, {}, {}, {}, nullptr,
      {{{2, {0, 1}, {1, 1}, -0.7071067811865475},  // -1 / sqrt 2
        {2, {1, 0}, {-3, 0}, 1.0},                 // opposite
        {2, {0, 0}, {1, 2}, 0.0}},                 // a zero target
       false, ""}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    return detail::negative_cosine_row<W>(r, 1.0 / math::kKerasEpsilon);
  }
};

/// optax's cosine_distance: L = 1 - cos = 1 - Σ t_c p_c / (nt np) with
/// nt = sqrt(max(Σt², eps)), np = sqrt(max(Σp², eps)), optax's epsilon (a
/// floor on the squared norms). Its derivatives are those of the negative
/// cosine above with the cap 1/sqrt(eps) (inf for eps = 0: nothing floored).
struct CosineDistance {
  static constexpr const char* kName = "cosine_distance";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "CosineDistance", "cosine_distance", "cosine_distance", "", "", AxisArg::Last,
      "Cosine distance (optax ``cosine_distance``): one minus the cosine similarity, 0 "
      "for vectors pointing the same way, 1 for orthogonal ones, 2 for opposite ones.",
      "1 - sum_c (t_c / nt) (p_c / np),  nt = sqrt(max(|t|**2, epsilon)), "
      "np = sqrt(max(|p|**2, epsilon))",
      "-u_k / |p| + (u.p) p_k / |p|**3,  u = t / nt; -u_k / sqrt(epsilon) where "
      "|p|**2 <= epsilon",
      "2 u_k p_k / |p|**3 + (u.p) / |p|**3 - 3 (u.p) p_k**2 / |p|**5; 0 where "
      "|p|**2 <= epsilon",
      "optax's semantics: epsilon floors the squared norms (optax's clip of |x|**2), and "
      "with its default 0 a zero vector gives NaN, as optax does; pass a small epsilon "
      "(1e-12, say) for a finite loss there. Keras's CosineSimilarity is -cos with the "
      "norms floored at 1e-7 instead. The sum runs over ``axis`` (the last by default, "
      "optax's).",
      "", Domain::Real, Kink::None,
      {{"epsilon", 0.0, Range::NonNegativeFinite,
        "The floor of the squared norms |t|**2 and |p|**2 (optax's epsilon).", 0.5}},
      {}, {}, nullptr,
      {{{2, {0, 1}, {1, 1}, 0.2928932188134524},  // 1 - 1 / sqrt 2
        {2, {1, 0}, {-3, 0}, 2.0},                // opposite
        {2, {0, 2}, {0, 5}, 0.0}},                // same direction
       false, ""}};
  double epsilon = 0.0;
  explicit CosineDistance(double epsilon_ = 0.0)
      : epsilon(detail::checked_param(kInfo, 0, epsilon_)) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    const double cap = 1.0 / std::sqrt(epsilon);  // inf for epsilon = 0
    return 1.0 + detail::negative_cosine_row<W>(r, cap);
  }
};

/// Shannon entropy of each row: H = -Σ p log p (0 log 0 = 0) of
/// probabilities, dH/dp = -(log p + 1), d2H/dp2 = -1/p; or of softmax(z) with
/// from_logits: H = log S - Σ e_c (z_c - m) / S,
/// dH/dz_k = -p_k (log p_k + H),
/// d2H/dz_k2 = -p_k ((1 - 2 p_k)(log p_k + H) + 1 - p_k).
struct Entropy {
  static constexpr const char* kName = "entropy";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::None;
  static constexpr LossInfo kInfo = {
      "Entropy", "entropy", "entropy", "", "", AxisArg::BeforeReduction,
      "Shannon entropy of each row of probabilities (or of softmax(logits)).",
      "-sum_c p_c log p_c  (0 log 0 = 0)",
      "-(log p_k + 1); from logits z: -s_k (log s_k + H), s = softmax(z), H the entropy",
      "-1 / p_k; from logits: -s_k ((1 - 2 s_k)(log s_k + H) + 1 - s_k)",
      "Called with y_pred alone: ``Entropy()(probs)``; ``backward`` returns "
      "``(grad,)``, one gradient per input. Probabilities are used as given "
      "(no renormalisation, no clipping): at p = 0 the gradient is +inf and negative "
      "entries give NaN, as NumPy's log does. Minimise it to sharpen predictions, "
      "or subtract it (entropy bonus) to keep them spread.",
      "", Domain::Probability, Kink::None,
      {{"from_logits", 0.0, Range::Bool, FASTLOSS_FROM_LOGITS_DOC, 1.0}}, {}, {}, nullptr,
      {{{2, {}, {0.5, 0.5}, 0.6931471805599453},           // log 2
        {3, {}, {0.25, 0.25, 0.5}, 1.0397207708399179},    // 1.5 log 2
        {3, {}, {0, 1, 0}, 0.0}},                          // 0 log 0 = 0
       false, ""}};
  bool from_logits = false;
  explicit Entropy(bool from_logits_ = false) : from_logits(from_logits_) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    LaneSum value;
    if (!from_logits) {
      for_lanes(n, [&](index_t k, int l) {
        const T p = r.pred[k];
        const T lp = math::log(p);
        if constexpr ((W & kValue) != 0) value.add(l, p == T(0) ? 0.0 : -static_cast<double>(p * lp));
        if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * (T(-1) / p);
        if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * (-(lp + T(1)));
      });
      return value.total();
    }
    const T m = math::max_skip_nan<U, T>(n, r.pred);
    LaneSum sum_e, moment;
    for_lanes(n, [&](index_t k, int l) {
      const T d = r.pred[k] - m;
      const T e = math::exp(d);
      sum_e.add(l, static_cast<double>(e));
      moment.add(l, e != T(0) ? static_cast<double>(e) * static_cast<double>(d) : 0.0);
    });
    const double S = sum_e.total(), log_s = math::log(S);
    const double H = log_s - moment.total() / S;
    if constexpr ((W & kGrad) != 0) {
      const T inv = static_cast<T>(1.0 / S), shift = static_cast<T>(H - log_s);
      const T c = r.coef;
      for (index_t k = 0; k < n; ++k) {
        const T d = r.pred[k] - m;
        const T p = math::exp(d) * inv;
        const T lh = d + shift;  // log p_k + H
        if constexpr ((W & kHess) != 0) {
          r.hess[k] = p == T(0) ? T(0) : c * (-p * ((T(1) - T(2) * p) * lh + T(1) - p));
        }
        r.grad[k] = p == T(0) ? T(0) : c * (-p * lh);
      }
    }
    return H;
  }
};

namespace detail {
/// First index of the maximum of a row, and whether the row holds a NaN.
template <class E, bool U>
FASTLOSS_INLINE std::pair<index_t, bool> first_argmax(const RowRun<E, U>& x, index_t n) {
  index_t j = 0;
  auto best = x[0];
  bool nan = best != best;
  for (index_t k = 1; k < n; ++k) {
    const auto v = x[k];
    nan = nan || v != v;
    if (v > best) {
      best = v;
      j = k;
    }
  }
  return {j, nan};
}
}  // namespace detail

/// 0-1 loss over the class axis: 1 where argmax(y_pred) differs from
/// argmax(y_true) (1 - Keras's categorical_accuracy), else 0; NaN where the
/// prediction or the target row holds a NaN (as the elementwise ZeroOneLoss).
/// Piecewise constant: the gradient is 0.
struct CategoricalZeroOne {
  static constexpr const char* kName = "categorical_zero_one";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "CategoricalZeroOneLoss", "categorical_zero_one", "categorical_zero_one", "", "",
      AxisArg::BeforeReduction,
      "0-1 loss over the class axis: the error rate, 1 - Keras's categorical_accuracy.",
      "0 if argmax(p) == argmax(t) else 1", "0 (the loss is piecewise constant)", "",
      "Ties go to the first index, as NumPy's argmax; a row of y_pred or of y_true "
      "holding a NaN gives NaN. The gradient is identically zero: a metric, not "
      "something to descend on.",
      FASTLOSS_ZERO_ONE_NO_HESSIAN, Domain::Probability, Kink::None, {}, {}, {}, nullptr,
      {{{3, {0, 1, 0}, {0.2, 0.7, 0.1}, 0.0},
        {3, {1, 0, 0}, {0.2, 0.7, 0.1}, 1.0},
        {3, {0, 0, 1}, {0.4, 0.2, 0.4}, 1.0}},  // a tie goes to the first index
       false, ""}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    const auto [jp, nan] = detail::first_argmax(r.pred, r.size);
    const auto [jt, target_nan] = detail::first_argmax(r.target, r.size);
    detail::zero_row<W>(r);  // after the reads: grad may be y_pred itself
    if (nan || target_nan) return std::numeric_limits<double>::quiet_NaN();
    return jp == jt ? 0.0 : 1.0;
  }
};

/// 0-1 loss against class ids: 1 where argmax(y_pred) != y (1 - Keras's
/// sparse_categorical_accuracy); ignored rows (negative label) give 0.
struct SparseCategoricalZeroOne {
  static constexpr const char* kName = "sparse_categorical_zero_one";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "SparseCategoricalZeroOneLoss", "sparse_categorical_zero_one",
      "sparse_categorical_zero_one", "", "", AxisArg::BeforeReduction,
      "0-1 loss against integer class ids: the error rate, 1 - Keras's "
      "sparse_categorical_accuracy.",
      "0 if argmax(p) == y else 1", "0 (the loss is piecewise constant)", "",
      "Labels are checked as in SparseCategoricalCrossentropy. Ties go to the first "
      "index; a row of y_pred holding a NaN gives NaN. The gradient is identically "
      "zero.",
      FASTLOSS_ZERO_ONE_NO_HESSIAN, Domain::Probability, Kink::None,
      {{"ignore_class", 0.0, Range::Any,
        "Rows with this label count neither as errors nor in the mean (as in "
        "SparseCategoricalCrossentropy).",
        -1.0, ParamKind::IgnoredLabel}},
      {}, {}, nullptr,
      {{{3, {1}, {0.2, 0.7, 0.1}, 0.0}, {3, {0}, {0.2, 0.7, 0.1}, 1.0}}, false, ""}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    const auto [jp, nan] = detail::first_argmax(r.pred, r.size);
    detail::zero_row<W>(r);  // after the reads: grad may be y_pred itself
    if (r.label < 0) return 0.0;
    if (nan) return std::numeric_limits<double>::quiet_NaN();
    return jp == static_cast<index_t>(r.label) ? 0.0 : 1.0;
  }
};

}  // namespace fastloss

// Multi-class losses beyond the softmax cross-entropies: log-probability
// (NLL), margins over the class axis (PyTorch's multi_margin_loss,
// multilabel_margin_loss, multilabel_soft_margin_loss, optax's multiclass
// perceptron and hinge), and probabilistic extras (PolyLoss, the sparsemax loss, the
// generalized cross-entropy, LightGBM's one-vs-all logistic loss).
//
// Each struct is a class-axis loss as in losses/classaxis.hpp: the row math of
// one sample; the loops, threads and reduction are detail::run_rows. Sums over
// a row run in double in a fixed order, so every thread count gives the same
// bits. Notation: x (or z) the row of y_pred, y the class id of a row, C the
// number of classes, w the class weights (1 without).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../detail/math.hpp"
#include "../detail/rows.hpp"
#include "classaxis.hpp"  // detail::PerClass, detail::zero_row, detail::first_argmax
#include "info.hpp"

#define FASTLOSS_CLASS_WEIGHT_DOC                                                        \
  "One non-negative weight per class, as PyTorch's ``weight``: each row's loss is "      \
  "multiplied by the weight of its label."

namespace fastloss {

namespace detail {

/// Checks a class_weight vector of a declared loss: finite and >= 0.
inline PerClass checked_class_weight(const char* cls, std::vector<double> w) {
  for (double x : w) {
    require(std::isfinite(x) && x >= 0,
            std::string(cls) + ": class weights must be finite and >= 0, got " +
                std::to_string(x));
  }
  return PerClass(std::move(w));
}

/// Checks that a per-class vector (empty: none) has one entry per class.
inline void check_classes(const char* cls, const char* what, const PerClass& v,
                          index_t classes) {
  require(v.empty() || v.size() == classes,
          std::string(cls) + ": " + what + " has " + std::to_string(v.size()) +
              " entries but y_pred has " + std::to_string(classes) + " classes");
}

/// A per-thread, grow-only scratch row of doubles (which: 0..3), for losses
/// that need a copy of the row (y_pred may be overwritten by the gradient in
/// place) or a sorted one.
inline double* row_scratch(int which, index_t n) {
  static thread_local std::vector<double> buffers[4];
  std::vector<double>& b = buffers[which];
  if (static_cast<index_t>(b.size()) < n) b.resize(static_cast<std::size_t>(n));
  return b.data();
}

template <unsigned W, class T, bool U>
FASTLOSS_INLINE double nan_row(const RowView<T, U>& r) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (index_t k = 0; k < r.size; ++k) {
    if constexpr ((W & kGrad) != 0) r.grad[k] = nan;
    if constexpr ((W & kHess) != 0) r.hess[k] = nan;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace detail

/// Negative log-likelihood of log-probabilities x (PyTorch nll_loss):
/// L = -w_y x_y. dL/dx_k = -w_y [k == y]; the Hessian is zero (linear).
struct NLL {
  static constexpr const char* kName = "nll_loss";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "NLL", "nll_loss", "nll_loss", "nll negative_log_likelihood", "", AxisArg::Last,
      "Negative log-likelihood of log-probabilities (PyTorch ``nll_loss``): the loss "
      "after a log-softmax.",
      "-w_y x_y,  x = y_pred the log-probabilities, y the class id, w the class weights "
      "(1 without)",
      "-w_y at the label's class, 0 elsewhere", "0 (the loss is linear in y_pred)",
      "y_pred is used as given: NLL does not normalise it (apply a log-softmax first, or "
      "use SparseCategoricalCrossentropy(from_logits=True) on logits). Classes run along "
      "``axis``, the last by default; PyTorch's class axis is dim 1, so pass ``axis=1`` "
      "for (N, C, d1, ...) inputs. With class_weight, \"sum_over_batch_size\" is "
      "PyTorch's weighted mean sum_i w_{y_i} l_i / sum_i w_{y_i} over the rows that "
      "count (it equals PyTorch's reduction=\"mean\"), not the division by the number "
      "of rows that Keras's class_weight in fit() and SparseCategoricalCrossentropy "
      "use; \"sum\" and \"none\" are PyTorch's. sample_weight multiplies the per-sample "
      "losses on top (it does not join that divisor; \"mean_with_sample_weight\" "
      "divides by sum(sample_weight * w_y)).",
      "", Domain::Real, Kink::None,
      {{"ignore_class", 0.0, Range::Any,
        "Rows whose label equals it give zero loss and zero gradient and are left out "
        "of the mean (PyTorch's ignore_index; None, the default, ignores nothing).",
        -1.0, ParamKind::IgnoredLabel},
       {"class_weight", 0.0, Range::NonNegativeFinite,
        FASTLOSS_CLASS_WEIGHT_DOC " \"sum_over_batch_size\" divides by their sum "
        "(PyTorch's weighted mean).",
        2.0, ParamKind::PerClass}},
      {}, {}, nullptr,
      {{{3, {1}, {-0.5, -1.0, -2.0}, 1.0}, {3, {2}, {-0.1, -0.2, -3.0}, 3.0}},
       false, "", "", true}};
  detail::PerClass class_weight;
  explicit NLL(std::vector<double> class_weight_ = {})
      : class_weight(detail::checked_class_weight(kInfo.cls, std::move(class_weight_))) {}
  void validate(index_t classes) const {
    detail::check_classes(kInfo.cls, "class_weight", class_weight, classes);
  }
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const std::int64_t label = r.label;
    const T xy = label >= 0 ? r.pred[static_cast<index_t>(label)] : T(0);
    detail::zero_row<W>(r);  // after the read: grad may be y_pred itself
    if (label < 0) return 0.0;
    const index_t y = static_cast<index_t>(label);
    const T w = class_weight.empty() ? T(1) : class_weight.template data<T>()[y];
    if constexpr ((W & kGrad) != 0) r.grad[y] = r.coef * (-w);
    return -static_cast<double>(w) * static_cast<double>(xy);
  }
};

/// PyTorch's multi_margin_loss: with h_i = margin - x_y + x_i,
///   L = sum_{i != y} w_y max(0, h_i)^p / C,
///   dL/dx_i = w_y p max(0, h_i)^(p-1) / C (i != y),  dL/dx_y = -sum of those;
/// p = 2: d2L/dx_i2 = 2 w_y [h_i > 0] / C, d2L/dx_y2 = 2 w_y #(h > 0) / C.
struct MultiMargin {
  static constexpr const char* kName = "multi_margin_loss";
  static constexpr bool kHasHessian = true;  // p = 2 only: hessian_defined()
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "MultiMargin", "multi_margin_loss", "multi_margin_loss", "multi_margin", "",
      AxisArg::Last,
      "Multi-class margin (hinge) loss of scores against class ids (PyTorch "
      "``multi_margin_loss``, Weston and Watkins / Crammer and Singer style).",
      "sum_{i != y} w_y max(0, margin - x_y + x_i)**p / C,  x = y_pred the scores, y the "
      "class id",
      "w_y p max(0, h_i)**(p - 1) / C for i != y (h_i = margin - x_y + x_i), minus their "
      "sum at y",
      "p = 2: 2 w_y [h_i > 0] / C for i != y, 2 w_y #(h > 0) / C at y",
      "PyTorch's semantics: \"sum_over_batch_size\" is PyTorch's reduction=\"mean\" (the "
      "number of rows, with or without class_weight), \"none\" its per-sample losses; "
      "\"mean_with_sample_weight\" divides by sum(sample_weight * w_y), as for the other "
      "class-weighted losses. "
      "Classes run along ``axis`` (the last by default). At a margin of exactly 0 the "
      "gradient is 0 (a subgradient).",
      "with p=1 the loss is piecewise linear in y_pred: its second derivative is zero "
      "wherever it exists and undefined at the kinks; use p=2 for a Hessian.",
      Domain::Real, Kink::None,
      {{"p", 1.0, Range::Positive, "The exponent of the hinge, 1 or 2 (PyTorch's p).", 2.0},
       {"margin", 1.0, Range::Finite, "The margin the label's score must exceed the others "
        "by.", 0.5},
       {"class_weight", 0.0, Range::NonNegativeFinite, FASTLOSS_CLASS_WEIGHT_DOC, 2.0,
        ParamKind::PerClass}},
      {}, {}, nullptr,
      // h = 1 - 0.5 + 0.2, 1 - 0.5 + 0.1: (0.7 + 0.6) / 3; every h <= 0: 0
      {{{3, {0}, {0.5, 0.2, 0.1}, 0.43333333333333335}, {3, {1}, {0.1, 2.0, 0.3}, 0.0}},
       false, "", "", false}};
  double p = 1.0, margin = 1.0;
  detail::PerClass class_weight;
  explicit MultiMargin(double p_ = 1.0, double margin_ = 1.0,
                       std::vector<double> class_weight_ = {})
      : p(detail::checked_param(kInfo, 0, p_)),
        margin(detail::checked_param(kInfo, 1, margin_)),
        class_weight(detail::checked_class_weight(kInfo.cls, std::move(class_weight_))) {
    detail::require(p == 1.0 || p == 2.0,
                    "MultiMargin: p must be 1 or 2, got " + std::to_string(p));
  }
  bool hessian_defined() const { return p == 2.0; }
  void validate(index_t classes) const {
    detail::check_classes(kInfo.cls, "class_weight", class_weight, classes);
  }
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    if (r.label < 0) {
      zero_row<W>(r);
      return 0.0;
    }
    const index_t n = r.size, y = static_cast<index_t>(r.label);
    const double w = class_weight.empty() ? 1.0 : class_weight.values()[y];
    const double xy = static_cast<double>(r.pred[y]);
    const bool squared = p == 2.0;
    const double scale = w / static_cast<double>(n);
    LaneSum value, slope_sum, active;
    // One branch-free sweep over every class (y's own term is masked out):
    // read x_k, then write its gradient; y's gradient is written last.
    for_lanes(n, [&](index_t k, int l) {
      const double h = margin - xy + static_cast<double>(r.pred[k]);
      const bool live = k != y;
      const bool on = live && h > 0.0;
      const double hp = on ? h : (live && h != h ? h : 0.0);  // NaN propagates
      value.add(l, squared ? hp * hp : hp);
      const double slope = (squared ? 2.0 * hp : (on ? 1.0 : hp - hp)) * scale;
      slope_sum.add(l, slope);
      active.add(l, on ? 1.0 : 0.0);
      if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * static_cast<T>(slope);
      if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * static_cast<T>(on ? 2.0 * scale : 0.0);
    });
    if constexpr ((W & kGrad) != 0) r.grad[y] = r.coef * static_cast<T>(-slope_sum.total());
    if constexpr ((W & kHess) != 0) {
      r.hess[y] = r.coef * static_cast<T>(2.0 * scale * active.total());
    }
    return scale * value.total();
  }
};

/// PyTorch's multilabel_margin_loss. y_true holds each row's target class ids
/// up to the first negative entry; with T that list and S its set,
///   L = sum_{j in T} sum_{i not in S} max(0, 1 - (x_j - x_i)) / C,
///   dL/dx_i = #{j : term (j, i) > 0} / C (i not in S),
///   dL/dx_j = -#{i : term (j, i) > 0} / C per occurrence of j in T.
/// Piecewise linear: no Hessian.
struct MultiLabelMargin {
  static constexpr const char* kName = "multilabel_margin_loss";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "MultiLabelMargin", "multilabel_margin_loss", "multilabel_margin_loss",
      "multilabel_margin", "", AxisArg::Last,
      "Multi-label margin (hinge) loss (PyTorch ``multilabel_margin_loss``): every target "
      "class's score should exceed every non-target's by 1.",
      "sum_{j in T} sum_{i not in T} max(0, 1 - (x_j - x_i)) / C,  T the row's target "
      "class ids (y_true up to its first -1), x = y_pred the scores",
      "#{j : 1 - x_j + x_i > 0} / C for a non-target i; -#{i : 1 - x_j + x_i > 0} / C for "
      "a target j",
      "",
      "y_true has y_pred's shape and holds class ids, PyTorch's layout: the targets of a "
      "row are its entries up to the first -1 (any integer dtype, or floats holding "
      "integers; entries after the first -1 are not read). Each is checked against "
      "[0, C) and the error names the first bad one and its index. A class listed twice "
      "counts twice, as in PyTorch. \"sum_over_batch_size\" is PyTorch's "
      "reduction=\"mean\". At a margin of exactly 0 the gradient is 0.",
      kPiecewiseLinear, Domain::Real, Kink::None, {}, {}, {}, nullptr,
      // targets {1}: (1 - 0.2 + 0.1) + (1 - 0.2 + 0.4) = 2.1, / 3;
      // targets {2, 0}, non-target 1: (1 - 0.2 + 0.5) + (1 - 1 + 0.5) = 1.8, / 3
      {{{3, {1, -1, 0}, {0.1, 0.2, 0.4}, 0.7}, {3, {2, 0, -1}, {1.0, 0.5, 0.2}, 0.6}},
       false, "", "label_sets", false}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    double* x = row_scratch(0, n);      // y_pred (the gradient may overwrite it)
    double* g = row_scratch(1, n);      // the gradient, accumulated
    double* is_t = row_scratch(2, n);   // 1 for a target class
    double* ids = row_scratch(3, n);    // the target list
    index_t n_t = 0;
    bool bad = false;
    for (index_t k = 0; k < n; ++k) {
      x[k] = static_cast<double>(r.pred[k]);
      g[k] = 0.0;
      is_t[k] = 0.0;
    }
    for (index_t k = 0; k < n; ++k) {
      const double t = static_cast<double>(r.target[k]);
      if (t < 0.0) break;
      // A class id outside [0, C) or not an integer (the Python layer refuses
      // them): the row's loss is NaN, nothing is indexed with it.
      if (!(t < static_cast<double>(n)) || t != std::floor(t)) {
        bad = true;
        break;
      }
      ids[n_t++] = t;
      is_t[static_cast<index_t>(t)] = 1.0;
    }
    if (bad) return nan_row<W>(r);
    double value = 0.0;
    const double inv = 1.0 / static_cast<double>(n);
    for (index_t a = 0; a < n_t; ++a) {
      const index_t j = static_cast<index_t>(ids[a]);
      const double xj = x[j];
      double count = 0.0;
      for (index_t i = 0; i < n; ++i) {
        if (is_t[i] != 0.0) continue;
        const double h = 1.0 - xj + x[i];
        if (h > 0.0) {
          value += h;
          g[i] += inv;
          count += 1.0;
        } else if (h != h) {
          value += h;
          g[i] = h;
          count = h;
        }
      }
      g[j] -= count * inv;
    }
    if constexpr ((W & kGrad) != 0) {
      for (index_t k = 0; k < n; ++k) r.grad[k] = r.coef * static_cast<T>(g[k]);
    }
    return value * inv;
  }
};

/// PyTorch's multilabel_soft_margin_loss: the mean over classes of the
/// logistic loss, L = sum_c w_c (softplus(x_c) - t_c x_c) / C,
///   dL/dx_k = w_k (sigmoid(x_k) - t_k) / C,  d2L/dx_k2 = w_k s_k (1 - s_k) / C.
struct MultiLabelSoftMargin {
  static constexpr const char* kName = "multilabel_soft_margin_loss";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "MultiLabelSoftMargin", "multilabel_soft_margin_loss", "multilabel_soft_margin_loss",
      "multilabel_soft_margin", "", AxisArg::Last,
      "Multi-label soft margin loss (PyTorch ``multilabel_soft_margin_loss``): the "
      "logistic loss of each class's logit, averaged over the classes.",
      "sum_c w_c (-t_c log sigmoid(x_c) - (1 - t_c) log sigmoid(-x_c)) / C,  x = y_pred "
      "the logits, t = y_true in [0, 1], w the class weights (1 without)",
      "w_k (sigmoid(x_k) - t_k) / C", "w_k s_k (1 - s_k) / C,  s = sigmoid(x)",
      "Computed as w (t softplus(-x) + (1 - t) softplus(x)) / C: finite for every finite "
      "logit, +inf at an infinite logit whose target differs from its sign. Targets are "
      "usually 0 or 1; soft targets in [0, 1] work as well. \"sum_over_batch_size\" is "
      "PyTorch's reduction=\"mean\". Classes run along ``axis`` (the last by default).",
      "", Domain::Logits, Kink::None,
      {{"class_weight", 0.0, Range::NonNegativeFinite,
        "One non-negative weight per class, as PyTorch's ``weight``: it multiplies each "
        "class's term.",
        2.0, ParamKind::PerClass}},
      {}, {}, nullptr,
      // (softplus(0) + softplus(0)) / 2 = log 2; (softplus(2) - 2 + softplus(0)) / 2
      {{{2, {1, 0}, {0, 0}, 0.6931471805599453},
        {2, {1, 1}, {2, 0}, 0.41003759580145896}},
       false, "", "", false}};
  detail::PerClass class_weight;
  explicit MultiLabelSoftMargin(std::vector<double> class_weight_ = {})
      : class_weight(detail::checked_class_weight(kInfo.cls, std::move(class_weight_))) {}
  void validate(index_t classes) const {
    detail::check_classes(kInfo.cls, "class_weight", class_weight, classes);
  }
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    const T inv = static_cast<T>(1.0 / static_cast<double>(n));
    LaneSum value;
    // the sweep, with the weights read unconditionally (a load behind a
    // null test would keep the loop scalar)
    auto sweep = [&](const auto& weight) {
      for_lanes(n, [&](index_t k, int l) {
        const T x = r.pred[k], t = r.target[k];
        const T w = weight(k);
        const math::Logistic<T> lg(x);
        // t softplus(-x) + (1 - t) softplus(x): the limit at a saturated logit (an
        // infinite x gives inf, or 0 for the matching target), where softplus(x) - t x
        // would meet inf - inf
        value.add(l, static_cast<double>(w) *
                         static_cast<double>(t * lg.softplus(-x) + (T(1) - t) * lg.softplus(x)));
        const T s = lg.sigmoid(x);
        const T c = r.coef * w * inv;
        if constexpr ((W & kHess) != 0) r.hess[k] = c * (s * (T(1) - s));
        if constexpr ((W & kGrad) != 0) r.grad[k] = c * (s - t);
      });
    };
    if (class_weight.empty()) {
      sweep([](index_t) { return T(1); });
    } else {
      const T* cw = class_weight.template data<T>();
      sweep([cw](index_t k) { return cw[k]; });
    }
    return value.total() / static_cast<double>(n);
  }
};

/// optax's multiclass_perceptron_loss: L = max_c x_c - x_y. dL/dx_k =
/// [k == j] - [k == y], j the first index of the maximum. Piecewise linear.
struct MultiClassPerceptron {
  static constexpr const char* kName = "multiclass_perceptron_loss";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "MultiClassPerceptron", "multiclass_perceptron_loss", "multiclass_perceptron_loss",
      "multiclass_perceptron", "", AxisArg::Last,
      "Multi-class perceptron loss (optax ``multiclass_perceptron_loss``, Collins 2002): "
      "how far the label's score is below the best score.",
      "max_c x_c - x_y,  x = y_pred the scores, y the class id",
      "1 at the first index of the maximum, -1 at y (0 everywhere when y is that index)",
      "",
      "Where the maximum is tied, the gradient goes to its first index (a subgradient; "
      "JAX's autodiff of optax's jnp.max splits it among the tied entries). A row holding "
      "a NaN gives NaN.",
      kPiecewiseLinear, Domain::Real, Kink::None, {}, {}, {}, nullptr,
      {{{3, {0}, {0.5, 2.0, -1.0}, 1.5}, {3, {1}, {0.5, 2.0, -1.0}, 0.0}}, false, "", "",
       false}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const std::int64_t label = r.label;
    const auto [j, nan] = first_argmax(r.pred, r.size);
    const double xj = static_cast<double>(r.pred[j]);
    const double xy = label >= 0 ? static_cast<double>(r.pred[static_cast<index_t>(label)]) : 0.0;
    zero_row<W>(r);  // after the reads: grad may be y_pred itself
    if (label < 0) return 0.0;
    if (nan) return nan_row<W>(r);
    if constexpr ((W & kGrad) != 0) {
      r.grad[j] = r.coef;
      r.grad[static_cast<index_t>(label)] -= r.coef;
    }
    return xj - xy;
  }
};

/// optax's multiclass_hinge_loss (Crammer and Singer 2001), with its margin
/// of 1 as a parameter m: L = max_c (x_c + m [c != y]) - x_y.
/// dL/dx_k = [k == j] - [k == y], j the first index of that maximum (so the
/// gradient is 0 where the label's score leads every other by m or more).
/// Piecewise linear.
struct MulticlassHinge {
  static constexpr const char* kName = "multiclass_hinge_loss";
  static constexpr bool kHasHessian = false;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "MulticlassHinge", "multiclass_hinge_loss", "multiclass_hinge_loss",
      "multiclass_hinge crammer_singer", "", AxisArg::Last,
      "Multi-class hinge loss (optax ``multiclass_hinge_loss``, Crammer and Singer 2001): "
      "how far the label's score falls short of leading every other score by the margin.",
      "max_c (x_c + margin [c != y]) - x_y,  x = y_pred the scores, y the class id",
      "1 at the first index j of that maximum, -1 at y (0 everywhere when j == y)",
      "",
      "With the default margin 1 it is optax's multiclass_hinge_loss and, per sample, "
      "scikit-learn's multi-class ``hinge_loss`` max(0, 1 - x_y + max_{c != y} x_c) (which "
      "is the mean). Where the maximum is tied the gradient goes to its first index (a "
      "subgradient; JAX's autodiff of optax's jnp.max splits it among the tied entries). "
      "A row holding a NaN gives NaN.",
      kPiecewiseLinear, Domain::Real, Kink::None,
      {{"margin", 1.0, Range::Finite,
        "How far the label's score must lead every other score for a zero loss (optax "
        "fixes it at 1).",
        0.5}},
      {}, {}, nullptr,
      // y = 0: max(0.5, 3.0, 0.0) - 0.5 = 2.5; y = 1: max(1.5, 2.0, 0.0) - 2 = 0;
      // y = 2: max(1.5, 3.0, -1.0) + 1 = 4
      {{{3, {0}, {0.5, 2.0, -1.0}, 2.5}, {3, {1}, {0.5, 2.0, -1.0}, 0.0},
        {3, {2}, {0.5, 2.0, -1.0}, 4.0}},
       false, "", "", false}};
  double margin = 1.0;
  explicit MulticlassHinge(double margin_ = 1.0)
      : margin(detail::checked_param(kInfo, 0, margin_)) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const std::int64_t label = r.label;
    if (label < 0) {
      zero_row<W>(r);
      return 0.0;
    }
    const index_t y = static_cast<index_t>(label);
    // the shifted scores x_c + m [c != y] in double, their first maximum
    index_t j = 0;
    double best = static_cast<double>(r.pred[0]) + (y == 0 ? 0.0 : margin);
    bool nan = best != best;
    for (index_t k = 1; k < r.size; ++k) {
      const double v = static_cast<double>(r.pred[k]) + (k == y ? 0.0 : margin);
      nan = nan || v != v;
      if (v > best) {
        best = v;
        j = k;
      }
    }
    const double xy = static_cast<double>(r.pred[y]);
    if (nan) return nan_row<W>(r);
    zero_row<W>(r);  // after the reads: grad may be y_pred itself
    if constexpr ((W & kGrad) != 0) {
      r.grad[j] = r.coef;
      r.grad[y] -= r.coef;
    }
    return best - xy;
  }
};

/// optax's poly_loss_cross_entropy (Leng et al., PolyLoss): the softmax
/// cross-entropy plus epsilon times the first polynomial term,
///   L = sum_c t_c (logsumexp(z) - z_c) + eps sum_c t_c (1 - p_c),  p = softmax(z).
/// With A = sum t and P = sum_c t_c p_c:
///   dL/dz_k = A p_k - t_k - eps p_k (t_k - P),
///   d2L/dz_k2 = A p_k (1 - p_k) - eps p_k (t_k - P) (1 - 2 p_k).
struct PolyLoss {
  static constexpr const char* kName = "poly_loss_cross_entropy";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "PolyLoss", "poly_loss_cross_entropy", "poly_loss_cross_entropy", "poly_loss", "",
      AxisArg::Last,
      "Poly-1 cross-entropy of logits (optax ``poly_loss_cross_entropy``, Leng et al. "
      "2022, PolyLoss).",
      "sum_c t_c (logsumexp(z) - z_c) + epsilon sum_c t_c (1 - p_c),  p = softmax(z), z = "
      "y_pred the logits, t = y_true",
      "sum(t) p_k - t_k - epsilon p_k (t_k - sum_c t_c p_c)",
      "sum(t) p_k (1 - p_k) - epsilon p_k (t_k - P) (1 - 2 p_k),  P = sum_c t_c p_c",
      "y_pred holds logits (optax's convention); labels are probability rows (one-hot or "
      "soft). The softmax is shifted by the row maximum, so logits of any size are safe.",
      "", Domain::Logits, Kink::None,
      {{"epsilon", 2.0, Range::Finite,
        "The coefficient of the first polynomial term (optax's default 2.0; the paper "
        "recommends -1.0 for detection).",
        -1.0}},
      {}, {}, nullptr,
      // z = 0: p = 1/2, log 2 + 2 * 0.5; one-hot on the larger of (log 3, 0): p = 3/4
      {{{2, {1, 0}, {0, 0}, 1.6931471805599454},
        {2, {1, 0}, {1.0986122886681098, 0}, 0.7876820724517809}},
       false, "", "", false}};
  double epsilon = 2.0;
  explicit PolyLoss(double epsilon_ = 2.0) : epsilon(detail::checked_param(kInfo, 0, epsilon_)) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    const T m = math::max_skip_nan<U, T>(n, r.pred);
    const double md = static_cast<double>(m);
    LaneSum sum_e, sum_t, shift, sum_te;
    for_lanes(n, [&](index_t k, int l) {
      const T z = r.pred[k], t = r.target[k];
      const T e = math::exp_nonpositive(z - m);
      sum_e.add(l, static_cast<double>(e));
      sum_t.add(l, static_cast<double>(t));
      sum_te.add(l, static_cast<double>(t) * static_cast<double>(e));
      shift.add(l, t != T(0) ? static_cast<double>(t) * (md - static_cast<double>(z)) : 0.0);
    });
    const double S = sum_e.total(), A = sum_t.total(), P = sum_te.total() / S;
    const T inv = static_cast<T>(1.0 / S);
    // optax's sum_c t_c (1 - p_c), summed in class order in the pass that
    // forms p (A - P is the same number but meets inf - inf at an infinite target)
    double miss = 0.0;
    if constexpr ((W & kGrad) != 0) {
      const T At = static_cast<T>(A), Pt = static_cast<T>(P);
      const T eps = static_cast<T>(epsilon), c = r.coef;
      for (index_t k = 0; k < n; ++k) {
        const T t = r.target[k];
        const T p = math::exp_nonpositive(r.pred[k] - m) * inv;
        if constexpr ((W & kValue) != 0) miss += static_cast<double>(t * (T(1) - p));
        const T poly = eps * p * (t - Pt);
        if constexpr ((W & kHess) != 0) {
          r.hess[k] = c * (At * p * (T(1) - p) - poly * (T(1) - T(2) * p));
        }
        r.grad[k] = c * (At * p - t - poly);
      }
    } else if constexpr ((W & kValue) != 0) {
      for (index_t k = 0; k < n; ++k) {
        const T p = math::exp_nonpositive(r.pred[k] - m) * inv;
        miss += static_cast<double>(r.target[k] * (T(1) - p));
      }
    }
    return A * math::log(S) + shift.total() + epsilon * miss;
  }
};

/// optax's multiclass_sparsemax_loss (Martins and Astudillo 2016): with
/// p = sparsemax(x) = max(x - tau, 0), the Euclidean projection of the scores
/// onto the simplex,
///   L = sum_j p_j (x_j - x_y) + (1 - sum_j p_j^2) / 2,
///   dL/dx_k = p_k - [k == y],
///   d2L/dx_k2 = [p_k > 0] (1 - 1 / |S|),  S the support of p.
/// tau comes from the row sorted in decreasing order (a per-thread copy).
struct MulticlassSparsemax {
  static constexpr const char* kName = "multiclass_sparsemax_loss";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "MulticlassSparsemax", "multiclass_sparsemax_loss", "multiclass_sparsemax_loss",
      "multiclass_sparsemax sparsemax_loss_multiclass", "", AxisArg::Last,
      "Multi-class sparsemax loss (optax ``multiclass_sparsemax_loss``, Martins and "
      "Astudillo 2016): the Fenchel-Young loss of sparsemax, sparse probabilities.",
      "sum_j p_j (x_j - x_y) + (1 - sum_j p_j**2) / 2,  p = sparsemax(x) = max(x - tau, 0) "
      "(the projection of the scores x = y_pred onto the simplex), y the class id",
      "sparsemax(x)_k - [k == y]",
      "[p_k > 0] (1 - 1 / |S|), S the support of p (the diagonal of the Jacobian of "
      "sparsemax)",
      "The projection sorts each row (a per-thread copy, O(C log C)). The loss is 0 when "
      "the label's score leads the others by at least 1, and it is piecewise quadratic: "
      "the Hessian diagonal is that of the piece the row is on. A row holding a NaN or "
      "+inf gives NaN.",
      "", Domain::Real, Kink::None, {}, {}, {}, nullptr,
      // x = (2, 0, 0): p = (1, 0, 0), y = 0 -> 0; y = 1 -> 2 + 0 = 2;
      // x = (0.5, 0, 0): tau = -1/6, p = (2/3, 1/6, 1/6), y = 1:
      //   (2/3) 0.5 + (1 - 1/2) / 2 = 7/12
      {{{3, {0}, {2, 0, 0}, 0.0}, {3, {1}, {2, 0, 0}, 2.0},
        {3, {1}, {0.5, 0, 0}, 0.5833333333333334}},
       false, "", "", false}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const index_t n = r.size;
    const std::int64_t label = r.label;
    double* x = row_scratch(0, n);  // the row (the gradient may overwrite y_pred)
    double* s = row_scratch(1, n);  // sorted, decreasing
    bool bad = false;
    for (index_t k = 0; k < n; ++k) {
      x[k] = static_cast<double>(r.pred[k]);
      s[k] = x[k];
      bad = bad || x[k] != x[k] || x[k] == std::numeric_limits<double>::infinity();
    }
    if (label < 0) {
      zero_row<W>(r);
      return 0.0;
    }
    if (bad) return nan_row<W>(r);
    std::sort(s, s + n, std::greater<double>());
    double cum = 0.0, cum_k = 0.0;
    index_t support = 0;
    for (index_t k = 0; k < n; ++k) {
      cum += s[k];
      if (1.0 + static_cast<double>(k + 1) * s[k] > cum) {
        support = k + 1;
        cum_k = cum;
      }
    }
    const double tau = (cum_k - 1.0) / static_cast<double>(support);
    const index_t y = static_cast<index_t>(label);
    const double xy = x[y];
    double value = 0.5, live = 0.0;
    for (index_t k = 0; k < n; ++k) {
      const double p = std::max(x[k] - tau, 0.0);
      if (p > 0.0) {
        value += p * (x[k] - xy) - 0.5 * p * p;
        live += 1.0;
      }
    }
    if constexpr ((W & kGrad) != 0) {
      const double h = live > 0.0 ? 1.0 - 1.0 / live : 0.0;
      for (index_t k = 0; k < n; ++k) {
        const double p = std::max(x[k] - tau, 0.0);
        if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * static_cast<T>(p > 0.0 ? h : 0.0);
        r.grad[k] = r.coef * static_cast<T>(p - (k == y ? 1.0 : 0.0));
      }
    }
    return value;
  }
};

/// Keras's CategoricalGeneralizedCrossEntropy (Zhang and Sabuncu 2018): with
/// p_y the probability of the label's class, L = (1 - p_y^q) / q,
///   dL/dp_y = -p_y^(q-1),  d2L/dp_y2 = (1 - q) p_y^(q-2); 0 elsewhere.
struct GeneralizedCrossentropy {
  static constexpr const char* kName = "categorical_generalized_cross_entropy";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "GeneralizedCrossentropy", "categorical_generalized_cross_entropy",
      "categorical_generalized_cross_entropy",
      "CategoricalGeneralizedCrossEntropy generalized_crossentropy", "", AxisArg::Last,
      "Generalized cross-entropy (Keras ``CategoricalGeneralizedCrossEntropy``, Zhang and "
      "Sabuncu 2018): between the cross-entropy (q -> 0) and the mean absolute error "
      "(q = 1), robust to noisy labels.",
      "(1 - p_y**q) / q,  p = y_pred the probabilities, y the class id",
      "-p_y**(q - 1) at the label's class, 0 elsewhere",
      "(1 - q) p_y**(q - 2) at the label's class, 0 elsewhere",
      "Keras's semantics: integer labels, y_pred probabilities used as given (no "
      "renormalisation, no clipping: p_y = 0 gives 1 / q and an infinite gradient). "
      "Labels outside [0, C) are refused where Keras's one-hot would silently give "
      "p_y = 0. ``fl.get('CategoricalGeneralizedCrossEntropy')`` and "
      "``fl.CategoricalGeneralizedCrossEntropy`` are this class under Keras's name.",
      "", Domain::Probability, Kink::None,
      {{"q", 0.5, Range::Open01,
        "In (0, 1): near 0 the loss behaves like the cross-entropy, near 1 like the mean "
        "absolute error.",
        0.7}},
      {}, {}, nullptr,
      // (1 - sqrt(0.25)) / 0.5 = 1; (1 - 1) / 0.5 = 0
      {{{3, {1}, {0.5, 0.25, 0.25}, 1.0}, {3, {0}, {1.0, 0, 0}, 0.0}}, false, "", "", false}};
  double q = 0.5;
  explicit GeneralizedCrossentropy(double q_ = 0.5) : q(detail::checked_param(kInfo, 0, q_)) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const std::int64_t label = r.label;
    const double py = label >= 0 ? static_cast<double>(r.pred[static_cast<index_t>(label)]) : 0.0;
    zero_row<W>(r);  // after the read: grad may be y_pred itself
    if (label < 0) return 0.0;
    const index_t y = static_cast<index_t>(label);
    // a negative "probability" has no real power: NaN, as NumPy's power gives
    // (std::pow(-inf, q) would be +inf)
    const double pq1 = py < 0.0 ? std::numeric_limits<double>::quiet_NaN() : std::pow(py, q - 1.0);
    if (py < 0.0) {
      if constexpr ((W & kGrad) != 0) r.grad[y] = static_cast<T>(pq1);
      if constexpr ((W & kHess) != 0) r.hess[y] = static_cast<T>(pq1);
      return pq1;
    }
    if constexpr ((W & kGrad) != 0) r.grad[y] = r.coef * static_cast<T>(-pq1);
    if constexpr ((W & kHess) != 0) r.hess[y] = r.coef * static_cast<T>((1.0 - q) * pq1 / py);
    return (1.0 - std::pow(py, q)) / q;
  }
};

/// LightGBM's multiclassova objective: one binary logistic loss per class on
/// raw scores against the one-vs-all targets [c == y],
///   L = sum_c softplus(z_c) - z_y,  dL/dz_k = sigmoid(z_k) - [k == y],
///   d2L/dz_k2 = s_k (1 - s_k).
struct OneVsAllCrossentropy {
  static constexpr const char* kName = "one_vs_all_crossentropy";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Labels;
  static constexpr LossInfo kInfo = {
      "OneVsAllCrossentropy", "one_vs_all_crossentropy", "one_vs_all_crossentropy",
      "multiclassova ova_crossentropy", "", AxisArg::Last,
      "One-vs-all logistic loss of raw scores (LightGBM ``multiclassova``): C binary "
      "cross-entropies, class c against the rest.",
      "sum_c softplus(z_c) - z_y,  z = y_pred the raw scores, y the class id",
      "sigmoid(z_k) - [k == y]", "s_k (1 - s_k),  s = sigmoid(z)",
      "Summed over the classes, as LightGBM's objective is (its sigmoid parameter "
      "fixed at 1); sigmoid(z) are the per-class probabilities LightGBM predicts, which "
      "need not sum to 1. Finite for every finite score.",
      "", Domain::Logits, Kink::None, {}, {}, {}, nullptr,
      // z = 0: C log 2 - 0; z = (log 3, 0): log 4 + log 2 - log 3
      {{{3, {1}, {0, 0, 0}, 2.0794415416798357},
        {2, {0}, {1.0986122886681098, 0}, 0.9808292530117262}},
       false, "", "", false}};
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    using namespace detail;
    const std::int64_t label = r.label;
    if (label < 0) {
      zero_row<W>(r);
      return 0.0;
    }
    const index_t y = static_cast<index_t>(label);
    LaneSum value;
    for_lanes(r.size, [&](index_t k, int l) {
      const T z = r.pred[k];
      const T t = k == y ? T(1) : T(0);
      const math::Logistic<T> lg(z);
      // the label's term is softplus(-z): an infinite score elsewhere in the row gives
      // its limit (inf, or 0), where softplus(z) - t z would meet 0 * inf
      value.add(l, static_cast<double>(k == y ? lg.softplus(-z) : lg.softplus(z)));
      const T s = lg.sigmoid(z);
      if constexpr ((W & kHess) != 0) r.hess[k] = r.coef * (s * (T(1) - s));
      if constexpr ((W & kGrad) != 0) r.grad[k] = r.coef * (s - t);
    });
    return value.total();
  }
};

}  // namespace fastloss

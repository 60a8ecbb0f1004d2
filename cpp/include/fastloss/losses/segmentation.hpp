// Segmentation overlap losses (Keras 3's Dice and Tversky, and the soft
// Jaccard / IoU loss): one minus a ratio of sums over a row. A "row" here is
// whatever the Python layer reduces over (an axis, consecutive axes such as
// (H, W, C) of an NHWC batch, or the whole array with Keras's axis=None).
//
// All three are L = 1 - c I / E with I = Σ t p the soft intersection and E a
// linear function of the row's sums plus Keras's epsilon:
//   Dice     c = 2, E = Σt + Σp + ε
//   Jaccard  c = 1, E = Σt + Σp - I + ε          (the soft union)
//   Tversky  c = 1, E = I + α Σ t (1 - p) + β Σ p (1 - t) + ε
//                     = α Σt + β Σp + (1 - α - β) I + ε
// so with e_k = dE/dp_k = b + d t_k (b the coefficient of Σp, d that of I):
//   dL/dp_k   = -c (t_k E - I e_k) / E²
//   d²L/dp_k² =  c (2 t_k e_k / E² - 2 I e_k² / E³)
// The sums run in double in a fixed lane order; the ratio and its
// coefficients are formed in double and applied per element in T.
#pragma once

#include <limits>

#include "../detail/rows.hpp"
#include "classaxis.hpp"  // detail::LaneSum users share, RowInput
#include "info.hpp"

#define FASTLOSS_OVERLAP_NOTE_                                                               \
  "Keras adds its epsilon 1e-7 to the denominator (so two empty masks give a loss of 1, "    \
  "not NaN) and takes the sums over ``axis``: with the default None over the whole array, " \
  "one value per call, as Keras does; ``axis=(1, 2, 3)`` gives one value per image of an "  \
  "NHWC batch. Targets and predictions are used as given (soft masks are fine); " \
  "``ignore_class`` leaves out the elements whose target equals it (pixels marked, say, " \
  "255 or -1 in y_true): they add nothing to the sums and get a zero gradient."

namespace fastloss {

namespace detail {

/// L = 1 - c I / E, E = a Σt + b Σp + d I + eps, over row r (see the top of
/// the file); writes the gradient and Hessian diagonal as W asks.
/// Elements whose target equals `ignore` (NaN: none) are left out of every
/// sum and get a zero gradient and Hessian.
template <unsigned W, class T, bool U>
FASTLOSS_INLINE double overlap_row(const RowView<T, U>& r, double c, double a, double b,
                                   double d, double ignore) {
  LaneSum st, sp, stp;
  for_lanes(r.size, [&](index_t k, int l) {
    const double t = static_cast<double>(r.target[k]), p = static_cast<double>(r.pred[k]);
    const bool live = !(t == ignore);
    st.add(l, live ? t : 0.0);
    sp.add(l, live ? p : 0.0);
    stp.add(l, live ? t * p : 0.0);
  });
  const double I = stp.total();
  const double E = a * st.total() + b * sp.total() + d * I + math::kKerasEpsilon;
  if constexpr ((W & kGrad) != 0) {
    // grad_k = coef (-c/E t_k + c I/E² (b + d t_k)) = coef (gt t_k + g0)
    const double ratio = I / E, inv = 1.0 / E;
    const T gt = static_cast<T>(-c * inv + c * ratio * inv * d);
    const T g0 = static_cast<T>(c * ratio * inv * b);
    // hess_k = coef (2c/E² t_k e_k - 2c I/E³ e_k²)
    const T h1 = static_cast<T>(2.0 * c * inv * inv), h2 = static_cast<T>(2.0 * c * ratio * inv * inv);
    const T bt = static_cast<T>(b), dt = static_cast<T>(d), coef = r.coef;
    for (index_t k = 0; k < r.size; ++k) {
      const T t = r.target[k];
      const bool live = !(static_cast<double>(t) == ignore);
      if constexpr ((W & kHess) != 0) {
        const T e = bt + dt * t;
        r.hess[k] = live ? coef * (h1 * t * e - h2 * e * e) : T(0);
      }
      r.grad[k] = live ? coef * (gt * t + g0) : T(0);
    }
  }
  return 1.0 - c * I / E;
}

}  // namespace detail

/// Keras's Dice loss 1 - 2 Σ t p / (Σ t + Σ p + ε).
struct Dice {
  static constexpr const char* kName = "dice";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "Dice", "dice", "dice", "dice_loss", "", AxisArg::Axes,
      "Dice loss (Keras ``Dice``): one minus the soft Dice coefficient of a mask.",
      "1 - 2 I / E,  I = sum t p, E = sum t + sum p + 1e-7",
      "(2 I - 2 t_k E) / E**2", "4 t_k / E**2 - 4 I / E**3", FASTLOSS_OVERLAP_NOTE_, "",
      Domain::Probability, Kink::None, {{"ignore_class", 0.0, Range::Finite,
        "A value of y_true that marks elements to leave out (masked pixels); None for none.",
        255.0, ParamKind::IgnoredValue, true}}, {}, {}, nullptr,
      // I = 0.5, E = 2 + 1e-7; I = 0.9, E = 2.1 + 1e-7
      {{{2, {1, 0}, {0.5, 0.5}, 0.5000000249999987},
        {2, {1, 0}, {0.9, 0.2}, 0.14285718367346745}},
       false, ""}};
  double ignore_class = std::numeric_limits<double>::quiet_NaN();
  explicit Dice(double ignore = std::numeric_limits<double>::quiet_NaN())
      : ignore_class(ignore) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    return detail::overlap_row<W>(r, 2.0, 1.0, 1.0, 0.0, ignore_class);
  }
};

/// Keras's Tversky loss 1 - I / (I + α Σ t (1 - p) + β Σ p (1 - t) + ε).
struct Tversky {
  static constexpr const char* kName = "tversky";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "Tversky", "tversky", "tversky", "tversky_loss", "", AxisArg::Axes,
      "Tversky loss (Keras ``Tversky``): a Dice loss whose two kinds of error weigh "
      "alpha and beta.",
      "1 - I / E,  I = sum t p, E = I + alpha sum t (1 - p) + beta sum p (1 - t) + 1e-7",
      "-(t_k E - I e_k) / E**2,  e_k = dE/dp_k = beta + (1 - alpha - beta) t_k",
      "2 t_k e_k / E**2 - 2 I e_k**2 / E**3",
      "alpha weighs the missed target mass sum t (1 - p) and beta the spurious mass "
      "sum p (1 - t), as Keras's code does (its docstring names them the other way "
      "round); alpha = beta = 0.5 is the Dice loss up to where epsilon enters. " FASTLOSS_OVERLAP_NOTE_,
      "", Domain::Probability, Kink::None,
      {{"alpha", 0.5, Range::NonNegativeFinite, "Weight of the missed target mass.", 0.7},
       {"beta", 0.5, Range::NonNegativeFinite, "Weight of the spurious predicted mass.", 0.3},
       {"ignore_class", 0.0, Range::Finite,
        "A value of y_true that marks elements to leave out (masked pixels); None for none.",
        255.0, ParamKind::IgnoredValue, true}},
      {}, {}, nullptr,
      // I = 0.5, E = 0.5 + 0.25 + 0.25 + 1e-7; I = 0.9, E = 0.9 + 0.05 + 0.1 + 1e-7
      {{{2, {1, 0}, {0.5, 0.5}, 0.500000049999995},
        {2, {1, 0}, {0.9, 0.2}, 0.14285722448978821}},
       false, ""}};
  double alpha = 0.5, beta = 0.5, ignore_class = std::numeric_limits<double>::quiet_NaN();
  explicit Tversky(double alpha_ = 0.5, double beta_ = 0.5,
                   double ignore = std::numeric_limits<double>::quiet_NaN())
      : alpha(detail::checked_param(kInfo, 0, alpha_)),
        beta(detail::checked_param(kInfo, 1, beta_)),
        ignore_class(ignore) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    return detail::overlap_row<W>(r, 1.0, alpha, beta, 1.0 - alpha - beta, ignore_class);
  }
};

/// The soft Jaccard (intersection over union) loss 1 - I / (Σ t + Σ p - I + ε).
struct Jaccard {
  static constexpr const char* kName = "jaccard";
  static constexpr bool kHasHessian = true;
  static constexpr RowInput kInput = RowInput::Dense;
  static constexpr LossInfo kInfo = {
      "Jaccard", "jaccard", "jaccard", "jaccard_loss iou_loss soft_iou", "", AxisArg::Axes,
      "Soft Jaccard (IoU) loss: one minus the soft intersection over union of a mask.",
      "1 - I / U,  I = sum t p, U = sum t + sum p - I + 1e-7",
      "-(t_k U - I (1 - t_k)) / U**2",
      "2 t_k (1 - t_k) / U**2 - 2 I (1 - t_k)**2 / U**3",
      "Keras has no Jaccard loss; this one follows its Dice (same epsilon, same axis "
      "rule). " FASTLOSS_OVERLAP_NOTE_,
      "", Domain::Probability, Kink::None, {{"ignore_class", 0.0, Range::Finite,
        "A value of y_true that marks elements to leave out (masked pixels); None for none.",
        255.0, ParamKind::IgnoredValue, true}}, {}, {}, nullptr,
      // I = 0.5, U = 1.5 + 1e-7; I = 0.9, U = 1.2 + 1e-7
      {{{2, {1, 0}, {0.5, 0.5}, 0.6666666888888875},
        {2, {1, 0}, {0.9, 0.2}, 0.25000006249999496}},
       false, ""}};
  double ignore_class = std::numeric_limits<double>::quiet_NaN();
  explicit Jaccard(double ignore = std::numeric_limits<double>::quiet_NaN())
      : ignore_class(ignore) {}
  template <unsigned W, class T, bool U>
  FASTLOSS_INLINE double row(const detail::RowView<T, U>& r) const {
    return detail::overlap_row<W>(r, 1.0, 1.0, 1.0, -1.0, ignore_class);
  }
};

}  // namespace fastloss

#undef FASTLOSS_OVERLAP_NOTE_

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
//
// optax's multiclass generalized Dice loss is not a row loss (its class
// weights come from the whole batch's targets): multiclass_generalized_dice
// at the end of the file is its own kernel over (batch, pixels, classes).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

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

/// optax's multiclass_generalized_dice_loss (Sudre et al. 2017) of a batch of
/// B samples, S pixels each (the spatial axes flattened), C classes last, all
/// C-contiguous. With p = softmax(z) over the classes (sigmoid for C = 1;
/// z itself without apply_softmax) and, per sample b and class c,
///   I = Σ_s p t, P = Σ_s p, T = Σ_s t,  N = I + smooth, E = (P + T) / 2 + smooth,
///   w_c = 1 / (f_c² + 1e-7) normalised to sum C,  f_c = Σ_{b,s} t (the whole batch),
///   loss_b = Σ_{c kept} w_c (1 - N / E) / C'   (C' kept classes: all, or all but 0),
/// so the mean over b is optax's value. The weights depend on the targets
/// only, so dloss_b/dp_sc = w_c (0.5 N / E² - t_sc / E) / C', then through
/// the softmax, dz_k = p_k (g_k - Σ_c p_c g_c). Every sum runs in float64;
/// pixels are cut into tiles by the shape alone and the tiles' sums are added
/// in tile order, so every thread count gives the same bits (the softmax's
/// exponentials are in the input precision).
template <class T>
void multiclass_generalized_dice(const T* target, const T* pred, index_t B, index_t S,
                                 index_t C, double smooth, bool apply_softmax,
                                 bool ignore_background, double* per_sample, T* grad,
                                 const double* coef) {
  if (B <= 0 || C <= 0) return;
  const index_t tile = std::max<index_t>(1, 8192 / C);  // pixels per tile
  const index_t per_b = (S + tile - 1) / tile;
  const index_t tiles = B * per_b;
  const std::size_t C3 = 3 * static_cast<std::size_t>(C);
  std::vector<double> sums(static_cast<std::size_t>(tiles) * C3, 0.0);
  // A tile's probabilities, class-major: q[c * n + s] for its n pixels. The
  // loops run over the pixels innermost (contiguous in q), so the compiler
  // vectorises the maximum, the exponentials (vmath's, in the input
  // precision, shifted by the maximum as the class-axis softmax losses) and
  // the normalisation; the sums of the exponentials are taken in float64.
  struct Scratch {
    std::vector<T> m;
    std::vector<double> q, total, pg;
  };
  auto scratch = [C, tile]() -> Scratch& {
    static thread_local Scratch w;
    const std::size_t n = static_cast<std::size_t>(tile), nc = n * static_cast<std::size_t>(C);
    if (w.q.size() < nc) w.q.resize(nc);
    if (w.m.size() < n) {
      w.m.resize(n);
      w.total.resize(n);
      w.pg.resize(n);
    }
    return w;
  };
  auto probabilities = [&](const T* x, index_t n, Scratch& w) {
    double* q = w.q.data();
    if (!apply_softmax) {
      for (index_t c = 0; c < C; ++c)
        for (index_t s = 0; s < n; ++s) q[c * n + s] = static_cast<double>(x[s * C + c]);
      return;
    }
    if (C == 1) {
      for (index_t s = 0; s < n; ++s)
        q[s] = static_cast<double>(math::Logistic<T>(x[s]).sigmoid(x[s]));
      return;
    }
    T* m = w.m.data();
    double* total = w.total.data();
    for (index_t s = 0; s < n; ++s) m[s] = x[s * C];
    for (index_t c = 1; c < C; ++c)
      for (index_t s = 0; s < n; ++s) {
        const T v = x[s * C + c];
        m[s] = v > m[s] || m[s] != m[s] ? v : m[s];
      }
    for (index_t s = 0; s < n; ++s) total[s] = 0.0;
    for (index_t c = 0; c < C; ++c)
      for (index_t s = 0; s < n; ++s) {
        const double e = static_cast<double>(math::exp_nonpositive(x[s * C + c] - m[s]));
        q[c * n + s] = e;
        total[s] += e;
      }
    for (index_t s = 0; s < n; ++s) total[s] = 1.0 / total[s];
    for (index_t c = 0; c < C; ++c)
      for (index_t s = 0; s < n; ++s) q[c * n + s] *= total[s];
  };
  detail::parallel_tiles(tiles, detail::threads_for(tiles), [&](index_t k) {
    const index_t b = k / per_b, s0 = (k % per_b) * tile, s1 = std::min(S, s0 + tile);
    const index_t n = s1 - s0;
    const std::size_t at = (static_cast<std::size_t>(b) * S + s0) * C;
    Scratch& w = scratch();
    probabilities(pred + at, n, w);
    const double* q = w.q.data();
    const T* t = target + at;
    double* acc = sums.data() + static_cast<std::size_t>(k) * C3;
    for (index_t c = 0; c < C; ++c) {
      // four partial sums per quantity, in a fixed order: no chain of
      // dependent additions, and the same bits for every thread count
      double i4[4] = {0, 0, 0, 0}, p4[4] = {0, 0, 0, 0}, t4[4] = {0, 0, 0, 0};
      for (index_t s = 0; s < n; ++s) {
        const double qs = q[c * n + s], ts = static_cast<double>(t[s * C + c]);
        i4[s & 3] += qs * ts;
        p4[s & 3] += qs;
        t4[s & 3] += ts;
      }
      acc[c] = (i4[0] + i4[1]) + (i4[2] + i4[3]);
      acc[C + c] = (p4[0] + p4[1]) + (p4[2] + p4[3]);
      acc[2 * C + c] = (t4[0] + t4[1]) + (t4[2] + t4[3]);
    }
  });
  // per sample (I, P, T), tiles in order; the class volumes over the batch
  std::vector<double> ipt(static_cast<std::size_t>(B) * C3, 0.0), w(C, 0.0);
  for (index_t k = 0; k < tiles; ++k) {
    const double* acc = sums.data() + static_cast<std::size_t>(k) * C3;
    double* to = ipt.data() + static_cast<std::size_t>(k / per_b) * C3;
    for (std::size_t j = 0; j < C3; ++j) to[j] += acc[j];
  }
  for (index_t b = 0; b < B; ++b)
    for (index_t c = 0; c < C; ++c) w[c] += ipt[static_cast<std::size_t>(b) * C3 + 2 * C + c];
  double w_total = 0.0;
  for (index_t c = 0; c < C; ++c) {
    w[c] = 1.0 / (w[c] * w[c] + 1e-7);
    w_total += w[c];
  }
  for (index_t c = 0; c < C; ++c) w[c] = w[c] / w_total * static_cast<double>(C);
  const index_t c0 = ignore_background && C > 1 ? 1 : 0;
  const double kept = static_cast<double>(C - c0);
  // per sample and class: the loss, and the gradient's t coefficient and constant
  std::vector<double> slope(static_cast<std::size_t>(B) * C, 0.0), offset(slope.size(), 0.0);
  for (index_t b = 0; b < B; ++b) {
    const double* v = ipt.data() + static_cast<std::size_t>(b) * C3;
    const double cb = coef ? coef[b] : 1.0;
    double value = 0.0;
    for (index_t c = c0; c < C; ++c) {
      const double N = v[c] + smooth, E = 0.5 * (v[C + c] + v[2 * C + c]) + smooth;
      value += w[c] * (1.0 - N / E);
      const double a = cb * w[c] / kept;
      slope[static_cast<std::size_t>(b) * C + c] = -a / E;
      offset[static_cast<std::size_t>(b) * C + c] = a * 0.5 * N / (E * E);
    }
    if (per_sample) per_sample[b] = value / kept;
  }
  if (!grad) return;
  detail::parallel_tiles(tiles, detail::threads_for(tiles), [&](index_t k) {
    const index_t b = k / per_b, s0 = (k % per_b) * tile, s1 = std::min(S, s0 + tile);
    const index_t n = s1 - s0;
    const std::size_t at = (static_cast<std::size_t>(b) * S + s0) * C;
    const double* A = slope.data() + static_cast<std::size_t>(b) * C;
    const double* O = offset.data() + static_cast<std::size_t>(b) * C;
    Scratch& w = scratch();
    probabilities(pred + at, n, w);  // the whole tile read before a write: grad may be pred
    const double* q = w.q.data();
    const T* t = target + at;
    T* out = grad + at;
    if (!apply_softmax || C == 1) {
      for (index_t c = 0; c < C; ++c)
        for (index_t s = 0; s < n; ++s) {
          const double g = A[c] * static_cast<double>(t[s * C + c]) + O[c];
          const double qs = q[c * n + s];
          out[s * C + c] = static_cast<T>(!apply_softmax ? g : g * qs * (1.0 - qs));
        }
      return;
    }
    // dz_c = q_c (g_c - sum_k q_k g_k), g_c = A_c t_c + O_c
    double* pg = w.pg.data();
    for (index_t s = 0; s < n; ++s) pg[s] = 0.0;
    for (index_t c = 0; c < C; ++c)
      for (index_t s = 0; s < n; ++s)
        pg[s] += q[c * n + s] * (A[c] * static_cast<double>(t[s * C + c]) + O[c]);
    for (index_t c = 0; c < C; ++c)
      for (index_t s = 0; s < n; ++s) {
        const double g = A[c] * static_cast<double>(t[s * C + c]) + O[c];
        out[s * C + c] = static_cast<T>(q[c * n + s] * (g - pg[s]));
      }
  });
}

}  // namespace fastloss

#undef FASTLOSS_OVERLAP_NOTE_

// Kernels of two likelihood losses whose inputs are not one elementwise
// (y_true, y_pred) pair:
//
// * the Gaussian negative log-likelihood of PyTorch's gaussian_nll_loss, with
//   three inputs (target, mean, variance) and a gradient for the mean and for
//   the variance;
// * the Cox proportional-hazards partial likelihood (Breslow's handling of
//   ties), whose samples are coupled through their risk sets: each sample's
//   loss depends on the scores of every sample still at risk at its time.
//
// Layouts are C-contiguous. Per-row values are float64; the arithmetic of the
// Gaussian runs in the input precision like every elementwise loss, the Cox
// sums (exponentials of scores, risk-set sums, their running reciprocals) in
// float64. Results are the same bits for every thread count: each row is
// computed by one thread in a fixed order, and the Cox kernel runs on the
// calling thread (its sort dominates and its sums are sequential).
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/isa.hpp"
#include "../detail/threads.hpp"
#include "../detail/vmath.hpp"

namespace fastloss {

namespace likelihood {

/// Elements of the Gaussian NLL one task owns.
inline constexpr index_t kGaussianTaskElements = 8192;

/// Where the Gaussian NLL kernel writes, and how it scales.
template <class T>
struct GaussianOutputs {
  double* per_row = nullptr;  ///< (rows,) the loss of each row, or null
  T* grad_mean = nullptr;     ///< (rows, D) or null
  T* grad_var = nullptr;      ///< (rows, D), (rows,) when the variance is per row, or null
  T* hess_mean = nullptr;     ///< like grad_mean (the Hessian pass), or null
  T* hess_var = nullptr;      ///< like grad_var, or null
  const T* row_scale = nullptr;  ///< (rows,) multiplies each row's derivatives; null = 1
  /// true: each row's loss is the mean over its D elements (values and
  /// derivatives divided by D, Keras's per-sample mean); false: the sum of
  /// the elementwise losses (the unreduced Hessian pass).
  bool mean_over_row = true;
};

namespace detail {

template <class T>
FASTLOSS_INLINE T clamp_variance(T v, T eps) {
  return v < eps ? eps : v;  // a NaN variance stays NaN
}

template <class T>
FASTLOSS_DISPATCH void gaussian_nll_dispatched(const T* y, const T* mean, const T* var,
                                               index_t rows, index_t D, bool var_per_row,
                                               bool full, double eps,
                                               const GaussianOutputs<T>& out) {
  const index_t rows_per_task = std::max<index_t>(1, kGaussianTaskElements / std::max<index_t>(D, 1));
  const index_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  const T e = static_cast<T>(eps);
  const T half = T(0.5);
  const double constant = full ? 0.5 * std::log(2.0 * 3.14159265358979323846) : 0.0;
  const T inv_d = out.mean_over_row ? T(1) / static_cast<T>(D) : T(1);
  fastloss::detail::parallel_for(tasks, fastloss::detail::threads_for(tasks), [&](index_t t) {
    const index_t r0 = t * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    for (index_t r = r0; r < r1; ++r) {
      const T* yr = y + r * D;
      const T* mr = mean + r * D;
      const T* vr = var_per_row ? var + r : var + r * D;
      const index_t vstep = var_per_row ? 0 : 1;
      const T scale = (out.row_scale ? out.row_scale[r] : T(1)) * inv_d;
      if (out.per_row) {
        double sum = 0.0;
        for (index_t d = 0; d < D; ++d) {
          const T v = clamp_variance(vr[d * vstep], e);
          const T diff = mr[d] - yr[d];
          sum += static_cast<double>(half * (vmath::log(v) + diff * diff / v));
        }
        const double n = static_cast<double>(D);
        out.per_row[r] = D == 0 ? 0.0 : out.mean_over_row ? sum / n + constant : sum + n * constant;
      }
      if (!out.grad_mean && !out.grad_var && !out.hess_mean && !out.hess_var) continue;
      T var_grad = T(0), var_hess = T(0);  // sums over the row, for a per-row variance
      for (index_t d = 0; d < D; ++d) {
        const T v = clamp_variance(vr[d * vstep], e);
        const T inv_v = T(1) / v;
        const T diff = mr[d] - yr[d];
        const T z = diff * inv_v;  // (mean - y) / var
        const T gv = half * (inv_v - z * z);
        const T hv = z * z * inv_v - half * inv_v * inv_v;
        if (out.grad_mean) out.grad_mean[r * D + d] = z * scale;
        if (out.hess_mean) out.hess_mean[r * D + d] = inv_v * scale;
        if (var_per_row) {
          var_grad += gv;
          var_hess += hv;
        } else {
          if (out.grad_var) out.grad_var[r * D + d] = gv * scale;
          if (out.hess_var) out.hess_var[r * D + d] = hv * scale;
        }
      }
      if (var_per_row) {
        if (out.grad_var) out.grad_var[r] = var_grad * scale;
        if (out.hess_var) out.hess_var[r] = var_hess * scale;
      }
    }
  });
}

}  // namespace detail

/// PyTorch's gaussian_nll_loss per element,
///   0.5 * (log(max(var, eps)) + (mean - y)^2 / max(var, eps)) [+ 0.5 log(2 pi) if full],
/// over rows of D elements: y and mean are (rows, D); var is (rows, D), or
/// (rows,) when var_per_row (one variance shared by the row's elements).
/// Derivatives are taken at the clamped variance, as PyTorch's clamp (made
/// outside autograd) does. See GaussianOutputs for what is written.
template <class T>
void gaussian_nll(const T* y, const T* mean, const T* var, index_t rows, index_t D,
                  bool var_per_row, bool full, double eps, const GaussianOutputs<T>& out) {
  if (rows <= 0) return;
  detail::gaussian_nll_dispatched(y, mean, var, rows, D, var_per_row, full, eps, out);
}

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

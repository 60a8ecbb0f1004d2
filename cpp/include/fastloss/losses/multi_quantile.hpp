// The multi-quantile pinball loss (CatBoost's MultiQuantile, scikit-learn's
// mean_pinball_loss with one alpha per output column): a prediction of K
// columns, column k a prediction of the quantile q_k of the same target. Each
// row's loss is the mean over its K columns of the pinball loss of column k
// at q_k:
//
//   loss_i = 1/K sum_k  q_k (t_ik - p_ik)        if t_ik >= p_ik
//                       (1 - q_k) (p_ik - t_ik)  otherwise
//
// with t_ik = t_i when the target holds one value per row. Its gradient is
// -q_k / K on the under side (t >= p, scikit-learn's convention at t == p),
// (1 - q_k) / K above; piecewise linear, so no Hessian.
//
// The quantiles are a vector parameter (one per column), which the declared
// elementwise losses (one double per parameter) cannot carry: hence this
// small kernel of its own. Rows are split into tasks by the shape alone and
// each row's sum runs in a fixed order in float64: the same bits for every
// thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/threads.hpp"

namespace fastloss {
namespace multi_quantile {

/// Elements one task owns (a shape-only split of the rows).
inline constexpr index_t kTaskElements = 8192;

/// Where the kernel reads and writes; every array C-contiguous.
template <class T>
struct Arrays {
  const T* y_true = nullptr;       ///< (rows,) when per_row, else (rows, K)
  bool per_row = false;
  const T* y_pred = nullptr;       ///< (rows, K)
  const double* quantiles = nullptr;  ///< (K,), each in (0, 1)
  double* values = nullptr;        ///< (rows,) each row's loss, or null
  T* grad = nullptr;               ///< (rows, K), or null
  const double* row_scale = nullptr;  ///< (rows,) multiplies a row's gradient; null = 1
};

/// The pinball loss of one element at quantile q, and its derivative in p,
/// in arithmetic alone, without a comparison (random data would mispredict
/// every other branch, and GCC turns selects of this shape into branches):
/// with r = t - p the value is |r| / 2 + (q - 1/2) r, the gradient
/// (1/2 - q) - sign(r) / 2 with the sign of r + 0, so that a zero error (+0 or
/// -0) is on the under side, -q, scikit-learn's convention. A NaN error gives
/// a NaN value.
template <class T>
FASTLOSS_INLINE T pinball(T t, T p, T q, T& g) {
  const T r = t - p;
  g = (T(0.5) - q) - std::copysign(T(0.5), r + T(0));
  return T(0.5) * std::fabs(r) + (q - T(0.5)) * r;
}

namespace detail {

/// Rows [r0, r1): each row's K elements in order, its sum in float64.
template <class T, bool kPerRow, bool kGrad>
void rows(index_t r0, index_t r1, index_t K, const Arrays<T>& a, const T* q, double inv_k) {
  const T* const yt = a.y_true;
  const T* const yp = a.y_pred;
  double* const values = a.values;
  T* const grad = a.grad;
  const double* const row_scale = a.row_scale;
  for (index_t r = r0; r < r1; ++r) {
    const T* p = yp + r * K;
    const T* t = kPerRow ? yt + r : yt + r * K;
    double sum = 0.0;
    if (kGrad) {
      const T scale = static_cast<T>((row_scale ? row_scale[r] : 1.0) * inv_k);
      T* g = grad + r * K;
      for (index_t k = 0; k < K; ++k) {
        T gk;
        sum += static_cast<double>(pinball(kPerRow ? t[0] : t[k], p[k], q[k], gk));
        g[k] = gk * scale;
      }
    } else {
      for (index_t k = 0; k < K; ++k) {
        T gk;
        sum += static_cast<double>(pinball(kPerRow ? t[0] : t[k], p[k], q[k], gk));
      }
    }
    if (values) values[r] = sum * inv_k;
  }
}

}  // namespace detail

/// The loss over rows x K (see Arrays), K >= 1.
template <class T>
void run(index_t rows, index_t K, const Arrays<T>& a) {
  if (rows <= 0) return;
  const index_t rows_per_task = std::max<index_t>(1, kTaskElements / std::max<index_t>(K, 1));
  const index_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  const double inv_k = 1.0 / static_cast<double>(K);
  std::vector<T> q(static_cast<std::size_t>(K));
  for (index_t k = 0; k < K; ++k) q[static_cast<std::size_t>(k)] = static_cast<T>(a.quantiles[k]);
  const bool grad = a.grad != nullptr;
  fastloss::detail::parallel_tiles(tasks, fastloss::detail::threads_for(tasks), [&](index_t task) {
    const index_t r0 = task * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    if (a.per_row && grad) detail::rows<T, true, true>(r0, r1, K, a, q.data(), inv_k);
    else if (a.per_row) detail::rows<T, true, false>(r0, r1, K, a, q.data(), inv_k);
    else if (grad) detail::rows<T, false, true>(r0, r1, K, a, q.data(), inv_k);
    else detail::rows<T, false, false>(r0, r1, K, a, q.data(), inv_k);
  });
}

}  // namespace multi_quantile
}  // namespace fastloss

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
#include <cstddef>

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

/// The pinball loss of one element at quantile q, and its derivative in p.
template <class T>
inline T pinball(T t, T p, T q, T& g) {
  const T r = t - p;
  const bool under = r >= T(0);
  g = under ? -q : T(1) - q;
  return (under ? q : q - T(1)) * r;
}

/// The loss over rows x K (see Arrays), K >= 1.
template <class T>
void run(index_t rows, index_t K, const Arrays<T>& a) {
  if (rows <= 0) return;
  const index_t rows_per_task = std::max<index_t>(1, kTaskElements / std::max<index_t>(K, 1));
  const index_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  const double inv_k = K > 0 ? 1.0 / static_cast<double>(K) : 0.0;
  fastloss::detail::parallel_tiles(tasks, fastloss::detail::threads_for(tasks), [&](index_t task) {
    const index_t r0 = task * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    for (index_t r = r0; r < r1; ++r) {
      const T* p = a.y_pred + r * K;
      const T scale = static_cast<T>((a.row_scale ? a.row_scale[r] : 1.0) * inv_k);
      double sum = 0.0;
      for (index_t k = 0; k < K; ++k) {
        const T t = a.per_row ? a.y_true[r] : a.y_true[r * K + k];
        T g;
        sum += static_cast<double>(pinball(t, p[k], static_cast<T>(a.quantiles[k]), g));
        if (a.grad) a.grad[r * K + k] = g * scale;
      }
      if (a.values) a.values[r] = sum * inv_k;
    }
  });
}

}  // namespace multi_quantile
}  // namespace fastloss

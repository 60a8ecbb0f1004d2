// Kernels of the model losses that are not elementwise: the Gram matrix of
// channels-last features (style transfer, Gatys et al. 2015) and its
// backward, and the anisotropic total variation of channels-last images.
//
// Layouts are C-contiguous and batched: features (batch, M, C) with M the
// number of positions (H * W), Grams (batch, C, C), images (batch, H, W, C).
// Every output element is computed by one thread in a fixed order, so results
// are bitwise the same for every thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/isa.hpp"
#include "../detail/math.hpp"
#include "../detail/threads.hpp"

namespace fastloss {

namespace models {

/// Rows of G one task owns (its partial sums stay in L1/L2).
inline constexpr index_t kGramRows = 16;
/// Positions summed in the input precision before they are added into the
/// float64 accumulator: short runs keep float32 rounding error small.
inline constexpr index_t kGramPositionTile = 256;
/// Positions of dF one backward task writes.
inline constexpr index_t kBackwardRows = 64;
namespace detail {

/// Runs body(t) for t in [0, tasks); tasks are claimed one at a time (they
/// differ in size).
template <class Body>
void parallel_tasks(index_t tasks, int threads, const Body& body) {
  fastloss::detail::parallel_for(tasks, threads, body);
}

/// part[r][j] += sum over positions m in [m0, m1) of F[m][i0 + r] * F[m][j],
/// for r < rows and j in [i0, C). Four positions per sweep of a part row.
template <class T>
FASTLOSS_INLINE void gram_tile(const T* F, index_t C, index_t m0, index_t m1, index_t i0,
                               index_t rows, T* part) {
  const index_t width = C - i0;
  index_t m = m0;
  for (; m + 4 <= m1; m += 4) {
    const T* f0 = F + m * C;
    const T* f1 = f0 + C;
    const T* f2 = f1 + C;
    const T* f3 = f2 + C;
    for (index_t r = 0; r < rows; ++r) {
      const T a0 = f0[i0 + r], a1 = f1[i0 + r], a2 = f2[i0 + r], a3 = f3[i0 + r];
      T* p = part + r * width;
      const T* g0 = f0 + i0;
      const T* g1 = f1 + i0;
      const T* g2 = f2 + i0;
      const T* g3 = f3 + i0;
      FASTLOSS_SIMD
      for (index_t j = 0; j < width; ++j) p[j] += ((a0 * g0[j] + a1 * g1[j]) + (a2 * g2[j] + a3 * g3[j]));
    }
  }
  for (; m < m1; ++m) {
    const T* f = F + m * C;
    for (index_t r = 0; r < rows; ++r) {
      const T a = f[i0 + r];
      T* p = part + r * width;
      const T* g = f + i0;
      FASTLOSS_SIMD
      for (index_t j = 0; j < width; ++j) p[j] += a * g[j];
    }
  }
}

template <class T>
FASTLOSS_INLINE void gram_task(const T* F, index_t M, index_t C, index_t i0, index_t rows, T* G,
                               std::vector<T>& part, std::vector<double>& acc) {
  const index_t width = C - i0;
  part.assign(static_cast<std::size_t>(rows * width), T(0));
  acc.assign(static_cast<std::size_t>(rows * width), 0.0);
  for (index_t m0 = 0; m0 < M; m0 += kGramPositionTile) {
    std::fill(part.begin(), part.end(), T(0));
    gram_tile(F, C, m0, std::min(M, m0 + kGramPositionTile), i0, rows, part.data());
    const T* p = part.data();
    double* a = acc.data();
    FASTLOSS_SIMD
    for (index_t k = 0; k < rows * width; ++k) a[k] += static_cast<double>(p[k]);
  }
  for (index_t r = 0; r < rows; ++r) {
    T* g = G + (i0 + r) * C + i0;
    const double* a = acc.data() + r * width;
    for (index_t j = 0; j < width; ++j) g[j] = static_cast<T>(a[j]);
  }
}

template <class T>
FASTLOSS_DISPATCH void gram_dispatched(const T* F, index_t batch, index_t M, index_t C, T* G) {
  const index_t blocks = (C + kGramRows - 1) / kGramRows;
  const index_t tasks = batch * blocks;
  parallel_tasks(tasks, fastloss::detail::threads_for(tasks), [&](index_t t) {
    static thread_local std::vector<T> part;
    static thread_local std::vector<double> acc;
    const index_t b = t / blocks, i0 = (t % blocks) * kGramRows;
    gram_task(F + b * M * C, M, C, i0, std::min(kGramRows, C - i0), G + b * C * C, part, acc);
  });
  // The tasks wrote G[i][j] for j >= the first row of i's block; the rest is
  // the mirror image (exactly: the same products summed in the same order).
  for (index_t b = 0; b < batch; ++b) {
    T* g = G + b * C * C;
    for (index_t i = 0; i < C; ++i) {
      for (index_t j = 0; j < (i / kGramRows) * kGramRows; ++j) g[i * C + j] = g[j * C + i];
    }
  }
}

template <class T>
FASTLOSS_DISPATCH void gram_backward_dispatched(const T* F, const T* S, index_t batch, index_t M,
                                                index_t C, T* dF) {
  const index_t tiles = (M + kBackwardRows - 1) / kBackwardRows;
  const index_t tasks = batch * tiles;
  parallel_tasks(tasks, fastloss::detail::threads_for(tasks), [&](index_t t) {
    const index_t b = t / tiles;
    const index_t m0 = (t % tiles) * kBackwardRows, m1 = std::min(M, m0 + kBackwardRows);
    const T* s = S + b * C * C;
    for (index_t m = m0; m < m1; ++m) {
      const T* f = F + (b * M + m) * C;
      T* out = dF + (b * M + m) * C;
      std::fill(out, out + C, T(0));
      index_t i = 0;
      for (; i + 4 <= C; i += 4) {
        const T a0 = f[i], a1 = f[i + 1], a2 = f[i + 2], a3 = f[i + 3];
        const T* s0 = s + i * C;
        const T* s1 = s0 + C;
        const T* s2 = s1 + C;
        const T* s3 = s2 + C;
        FASTLOSS_SIMD
        for (index_t j = 0; j < C; ++j)
          out[j] += ((a0 * s0[j] + a1 * s1[j]) + (a2 * s2[j] + a3 * s3[j]));
      }
      for (; i < C; ++i) {
        const T a = f[i];
        const T* si = s + i * C;
        FASTLOSS_SIMD
        for (index_t j = 0; j < C; ++j) out[j] += a * si[j];
      }
    }
  });
}

/// The derivative of |d| for total variation: sign(d), 0 at 0, NaN for NaN.
template <class T>
FASTLOSS_INLINE T tv_sign(T d) {
  return d != d ? d : math::sign(d);
}

template <class T>
FASTLOSS_DISPATCH void total_variation_dispatched(const T* x, index_t batch, index_t H, index_t W,
                                                  index_t C, double* row_sums, T* grad,
                                                  const T* grad_scale) {
  const index_t row = W * C;
  const index_t tasks = batch * H;
  parallel_tasks(tasks, fastloss::detail::threads_for(tasks), [&](index_t t) {
    const index_t b = t / H, i = t % H;
    const T* r = x + (b * H + i) * row;
    const bool has_up = i > 0, has_down = i + 1 < H;
    if (row_sums) {
      double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      if (has_down) {
        const T* d = r + row;
        for (index_t k0 = 0; k0 < row; k0 += 8) {
          const index_t n = std::min<index_t>(8, row - k0);
          for (index_t l = 0; l < n; ++l) lanes[l] += std::fabs(static_cast<double>(d[k0 + l] - r[k0 + l]));
        }
      }
      for (index_t k0 = 0; k0 < row - C; k0 += 8) {
        const index_t n = std::min<index_t>(8, row - C - k0);
        for (index_t l = 0; l < n; ++l)
          lanes[l] += std::fabs(static_cast<double>(r[k0 + l + C] - r[k0 + l]));
      }
      row_sums[t] = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                    ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }
    if (grad) {
      T* g = grad + (b * H + i) * row;
      const T scale = grad_scale ? grad_scale[b] : T(1);
      const T* up = r - row;
      const T* down = r + row;
      FASTLOSS_SIMD
      for (index_t k = 0; k < row; ++k) {
        T v = T(0);
        if (has_up) v += tv_sign(r[k] - up[k]);
        if (has_down) v -= tv_sign(down[k] - r[k]);
        if (k >= C) v += tv_sign(r[k] - r[k - C]);
        if (k + C < row) v -= tv_sign(r[k + C] - r[k]);
        g[k] = v * scale;
      }
    }
  });
}

}  // namespace detail

/// G[b] = F[b]^T F[b] for features F of shape (batch, M, C), C-contiguous; G
/// is (batch, C, C). Unnormalised (Gatys et al.). float32 sums run in float32
/// over tiles of kGramPositionTile positions and in float64 across tiles.
template <class T>
void gram(const T* F, index_t batch, index_t M, index_t C, T* G) {
  if (batch <= 0 || C <= 0) return;
  detail::gram_dispatched(F, batch, M, C, G);
}

/// dF[b] = F[b] S[b]: the backward of gram() given S = dG + dG^T, with the
/// same layouts as gram() (S is (batch, C, C)).
template <class T>
void gram_backward(const T* F, const T* S, index_t batch, index_t M, index_t C, T* dF) {
  if (batch <= 0 || M <= 0 || C <= 0) return;
  detail::gram_backward_dispatched(F, S, batch, M, C, dF);
}

/// Anisotropic total variation of images x (batch, H, W, C), C-contiguous, as
/// tf.image.total_variation: per image, the sum of |differences| between
/// vertical and horizontal neighbours. Writes per_image[b] (float64 sums, a
/// fixed order) when per_image is non-null, and when grad is non-null the
/// gradient times grad_scale[b] (1 when grad_scale is null).
template <class T>
void total_variation(const T* x, index_t batch, index_t H, index_t W, index_t C,
                     double* per_image, T* grad, const T* grad_scale) {
  if (batch <= 0) return;
  if (H <= 0 || W <= 0 || C <= 0) {
    if (per_image) std::fill(per_image, per_image + batch, 0.0);
    return;
  }
  std::vector<double> rows(per_image ? static_cast<std::size_t>(batch * H) : 0);
  detail::total_variation_dispatched(x, batch, H, W, C, per_image ? rows.data() : nullptr, grad,
                                     grad_scale);
  if (per_image) {
    for (index_t b = 0; b < batch; ++b) {
      double s = 0.0;
      for (index_t i = 0; i < H; ++i) s += rows[static_cast<std::size_t>(b * H + i)];
      per_image[b] = s;
    }
  }
}

}  // namespace models

/// Per-element values and derivatives computed elsewhere (a user's NumPy
/// callables, fastloss.ElementwiseLoss) enter the driver as the two inputs,
/// which then applies the per-sample mean, weights, grad_output and the
/// reduction exactly as for the built-in losses. In the value/gradient pass
/// t is the value and p the derivative; in the gradient/Hessian pass t is the
/// derivative and p the second derivative.
struct Precomputed {
  static constexpr const char* kName = "precomputed";
  static constexpr bool kHasHessian = true;
  template <class T>
  FASTLOSS_INLINE T value_grad(T t, T p, T& g) const {
    g = p;
    return t;
  }
  template <class T>
  FASTLOSS_INLINE void grad_hess(T t, T p, T& g, T& h) const {
    g = t;
    h = p;
  }
};

}  // namespace fastloss

// Cross-entropy on a linear head, without the (N, V) logits: the loss of
//
//   z = hidden (N, H) @ weight (V, H)^T + bias (V),   then softmax cross-entropy
//
// with integer labels, an ignored label value, label smoothing and class
// weights (PyTorch's cross_entropy semantics), and its gradients with respect
// to hidden, weight and bias, in memory O(rows per block x chunk) instead of
// O(N x V).
//
// The rows are taken in blocks of R (the shape alone fixes R), and each
// block's vocabulary in chunks. Sweep 1 makes each chunk's logits by a matrix
// product and folds them into per-row statistics in float64: a running
// maximum and sum of exp (online log-sum-exp, Milakov and Gimelshein 2018),
// the label's logit and, with smoothing, the class-weighted sum of logits.
// Sweep 2 forms each chunk's softmax gradient in place of its logits and
// accumulates d_hidden += G W_c and d_weight_c += G^T hidden. When a chunk
// covers the whole vocabulary the logits of sweep 1 stay in the buffer and
// sweep 2 reuses them (three matrix products per block, as the unchunked
// computation does); otherwise sweep 2 recomputes them (four).
//
// Every matrix product is made on a fixed span of kSpan vocabulary entries
// at a fixed position (span s covers [s kSpan, (s+1) kSpan)), and the row
// statistics fold the spans in order: the chunk size decides only which spans
// share the buffer, so results are bitwise the same for every chunk size. The
// element-wise work is split into tiles of rows by the shape alone, so results
// are bitwise the same for every thread count too. The matrix products are a
// callback (Gemm below): the Python binding passes the Fortran BLAS that SciPy
// ships (fortran_gemm), C++ users pass their BLAS (or any GEMM) the same way.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/threads.hpp"
#include "../detail/vmath.hpp"

namespace fastloss::linear_ce {

/// Vocabulary entries per matrix product (and per folded statistic): wide
/// enough that a BLAS's packing of the row block is a few percent of a
/// product's work, narrow enough that a block's logits span stays in cache.
inline constexpr index_t kSpan = 512;
/// Rows per block when the batch is larger: a GEMM with 256 rows runs near
/// its peak, and d_weight is read and written once per block.
inline constexpr index_t kRowBlock = 256;
/// Lanes of the per-span maximum and sum of exp (loops that vectorise).
inline constexpr int kLanes = 8;
/// The logits buffer the default chunk size may use (bytes): a block's whole
/// vocabulary when it fits (three matrix products instead of four), else as
/// many spans as fit.
inline constexpr double kChunkBudgetBytes = 128.0 * 1024 * 1024;

/// A row-major matrix product: C (m x n, leading dimension ldc) =
/// alpha op(A) op(B) + beta C, op(A) m x k and op(B) k x n, op(X) = X^T when
/// its flag is set. With beta == 0, C is written, never read. `context` is
/// handed back unchanged.
///
/// With `concurrent` set, the callback promises to be safe to call from
/// several threads at once and to run each call on its calling thread alone;
/// the core then cuts every product into column tiles of kGemmTile (fixed by
/// the shape) and runs them on fastloss's threads. That is how results stay
/// bitwise the same for every thread count: a multithreaded BLAS such as
/// OpenBLAS sums in another order for each of its thread counts. Without it,
/// each product is one call, threaded by the callback as it likes.
template <class T>
struct Gemm {
  using Fn = void (*)(void* context, bool trans_a, bool trans_b, index_t m, index_t n, index_t k,
                      T alpha, const T* a, index_t lda, const T* b, index_t ldb, T beta, T* c,
                      index_t ldc);
  Fn fn = nullptr;
  void* context = nullptr;
  bool concurrent = false;

  void operator()(bool ta, bool tb, index_t m, index_t n, index_t k, const T* a, index_t lda,
                  const T* b, index_t ldb, T beta, T* c, index_t ldc) const;
};

/// Columns of C per tile of a concurrent Gemm: each tile repacks op(A), which
/// costs 1 / (2 kGemmTile) of the tile's arithmetic.
inline constexpr index_t kGemmTile = 128;

template <class T>
void Gemm<T>::operator()(bool ta, bool tb, index_t m, index_t n, index_t k, const T* a,
                         index_t lda, const T* b, index_t ldb, T beta, T* c,
                         index_t ldc) const {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // not every BLAS writes C for an empty sum
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  if (!concurrent || n <= kGemmTile) {
    fn(context, ta, tb, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const index_t tiles = (n + kGemmTile - 1) / kGemmTile;
  fastloss::detail::parallel_for(tiles, fastloss::detail::threads_for(tiles), [&](std::ptrdiff_t t) {
    const index_t j0 = static_cast<index_t>(t) * kGemmTile;
    const index_t nt = std::min(kGemmTile, n - j0);
    // columns j0.. of op(B): columns of B, or rows of B when it is transposed
    const T* bt = tb ? b + j0 * ldb : b + j0;
    fn(context, ta, tb, m, nt, k, T(1), a, lda, bt, ldb, beta, c + j0, ldc);
  });
}

/// A Fortran BLAS ?gemm (sgemm_ for float, dgemm_ for double, 32-bit
/// integers: the LP64 interface of OpenBLAS, MKL, Accelerate, the reference
/// BLAS and SciPy's scipy.linalg.cython_blas).
template <class T>
using FortranGemm = void (*)(const char* transa, const char* transb, const int* m, const int* n,
                             const int* k, const T* alpha, const T* a, const int* lda, const T* b,
                             const int* ldb, const T* beta, T* c, const int* ldc);

/// The BLAS's ?gemm, and OpenBLAS's openblas_set_num_threads_local (0.3.27
/// and later) when the BLAS has it: the calls then run on their calling
/// thread alone (the Gemm is concurrent), without touching the BLAS's
/// thread count for any other thread.
template <class T>
struct FortranGemmContext {
  FortranGemm<T> gemm = nullptr;
  int (*set_num_threads_local)(int) = nullptr;
};

/// Gemm::Fn over a Fortran ?gemm: a row-major C = op(A) op(B) is the
/// column-major C^T = op(B)^T op(A)^T, so the operands swap.
template <class T>
void fortran_gemm_call(void* context, bool ta, bool tb, index_t m, index_t n, index_t k, T alpha,
                       const T* a, index_t lda, const T* b, index_t ldb, T beta, T* c,
                       index_t ldc) {
  constexpr index_t kMaxInt = std::numeric_limits<int>::max();
  if (m > kMaxInt || n > kMaxInt || k > kMaxInt || lda > kMaxInt || ldb > kMaxInt ||
      ldc > kMaxInt)
    throw std::invalid_argument("linear_cross_entropy: a dimension exceeds the 32-bit BLAS's range");
  const char tra = ta ? 'T' : 'N', trb = tb ? 'T' : 'N';
  const int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
  const int LDA = static_cast<int>(ldb), LDB = static_cast<int>(lda), LDC = static_cast<int>(ldc);
  const auto* ctx = static_cast<FortranGemmContext<T>*>(context);
  const int previous = ctx->set_num_threads_local ? ctx->set_num_threads_local(1) : 0;
  ctx->gemm(&trb, &tra, &M, &N, &K, &alpha, b, &LDA, a, &LDB, &beta, c, &LDC);
  if (ctx->set_num_threads_local) ctx->set_num_threads_local(previous);
}

/// A Gemm calling the Fortran ?gemm `context->gemm` (context must outlive it);
/// concurrent when the context has set_num_threads_local.
template <class T>
Gemm<T> fortran_gemm(FortranGemmContext<T>* context) {
  return Gemm<T>{&fortran_gemm_call<T>, context, context->set_num_threads_local != nullptr};
}

struct Options {
  std::int64_t ignore_class = -100;  ///< rows with this label have no loss
  double label_smoothing = 0.0;      ///< in [0, 1]
  index_t chunk_size = 0;            ///< vocabulary entries per chunk; 0: default_chunk
};

template <class T>
struct Inputs {
  const T* hidden = nullptr;              ///< (N, H) row-major
  const T* weight = nullptr;              ///< (V, H) row-major (PyTorch's nn.Linear layout)
  const T* bias = nullptr;                ///< (V,) or null
  const std::int64_t* labels = nullptr;   ///< (N,)
  const double* class_weight = nullptr;   ///< (V,) or null (every class 1)
  index_t N = 0, H = 0, V = 0;
};

template <class T>
struct Outputs {
  double* per_row = nullptr;       ///< (N,) each row's loss (0 for an ignored row), or null
  const double* coef = nullptr;    ///< (N,) d(objective)/d(row's loss); needed for gradients
  T* d_hidden = nullptr;           ///< (N, H) or null
  T* d_weight = nullptr;           ///< (V, H) or null
  T* d_bias = nullptr;             ///< (V,) or null
};

/// Rows per block for a batch of n rows.
inline index_t row_block(index_t n) { return std::max<index_t>(1, std::min(n, kRowBlock)); }

/// The chunk size the default picks: the whole vocabulary when a block's
/// logits over it fit kChunkBudgetBytes, else the most spans that fit.
inline index_t default_chunk(index_t n, index_t v, std::size_t item) {
  const double per_column = static_cast<double>(row_block(n)) * static_cast<double>(item);
  if (per_column * static_cast<double>(v) <= kChunkBudgetBytes) return v;
  const auto spans = static_cast<index_t>(kChunkBudgetBytes / (per_column * kSpan));
  return std::max<index_t>(1, spans) * kSpan;
}

/// The chunk actually used: a multiple of kSpan, at most the vocabulary
/// rounded up to a span (a chunk that covers it keeps the logits).
inline index_t effective_chunk(index_t requested, index_t n, index_t v, std::size_t item) {
  index_t c = requested > 0 ? requested : default_chunk(n, v, item);
  if (c >= v) return v;
  return ((c + kSpan - 1) / kSpan) * kSpan;
}

/// Checks labels (each in [0, V) or the ignored value) and the options;
/// std::invalid_argument naming the first bad label and its index.
template <class T>
void check(const Inputs<T>& in, const Options& opt) {
  if (in.N < 0 || in.H < 0 || in.V < 1)
    throw std::invalid_argument("linear_cross_entropy: needs N >= 0, H >= 0 and V >= 1 classes");
  if (!(opt.label_smoothing >= 0.0 && opt.label_smoothing <= 1.0))
    throw std::invalid_argument("linear_cross_entropy: label_smoothing must be in [0, 1]");
  if (opt.chunk_size < 0) throw std::invalid_argument("linear_cross_entropy: chunk_size < 0");
  for (index_t i = 0; i < in.N; ++i) {
    const std::int64_t y = in.labels[i];
    if (y == opt.ignore_class) continue;
    if (y < 0 || y >= in.V)
      throw std::invalid_argument("labels[" + std::to_string(i) + "] = " + std::to_string(y) +
                                  " is outside [0, " + std::to_string(in.V) +
                                  ") and is not ignore_class = " +
                                  std::to_string(opt.ignore_class));
  }
}

namespace detail {

/// Per-row statistics of a row block, all float64.
struct RowStats {
  std::vector<double> max, sum, label_logit, weighted_logits, lse;
  explicit RowStats(index_t r)
      : max(r), sum(r), label_logit(r), weighted_logits(r), lse(r) {}
  void reset(index_t r) {
    std::fill_n(max.begin(), r, -std::numeric_limits<double>::infinity());
    std::fill_n(sum.begin(), r, 0.0);
    std::fill_n(label_logit.begin(), r, 0.0);
    std::fill_n(weighted_logits.begin(), r, 0.0);
  }
};

/// Rows per tile of the element-wise work (fixed: results do not depend on it).
inline constexpr index_t kRowTile = 8;

template <class Body>
void over_rows(index_t rows, index_t columns, const Body& body) {
  const index_t tiles = (rows + kRowTile - 1) / kRowTile;
  const int threads = fastloss::detail::threads_for(columns >= 64 ? tiles : 1);
  fastloss::detail::parallel_for(tiles, threads, [&](std::ptrdiff_t t) {
    const index_t r0 = static_cast<index_t>(t) * kRowTile;
    const index_t r1 = std::min(rows, r0 + kRowTile);
    for (index_t r = r0; r < r1; ++r) body(r);
  });
}

}  // namespace detail

/// The loss and gradients (see the top of this file). Gradients need
/// out.coef; an ignored row has loss 0 and adds nothing to any gradient.
/// Throws std::invalid_argument for bad labels or options (before writing).
template <class T>
void linear_cross_entropy(const Inputs<T>& in, const Options& opt, const Gemm<T>& gemm,
                          const Outputs<T>& out) {
  check(in, opt);
  const bool want_grad = out.d_hidden || out.d_weight || out.d_bias;
  if (want_grad && in.N > 0 && !out.coef)
    throw std::invalid_argument("linear_cross_entropy: gradients need the row coefficients");
  if (!gemm.fn) throw std::invalid_argument("linear_cross_entropy: no matrix product given");
  const index_t N = in.N, H = in.H, V = in.V;
  const double eps = opt.label_smoothing;
  const double smooth = eps / static_cast<double>(V);
  double weight_sum = static_cast<double>(V);
  if (in.class_weight) {
    weight_sum = 0.0;
    for (index_t c = 0; c < V; ++c) weight_sum += in.class_weight[c];
  }
  auto class_w = [&](index_t c) { return in.class_weight ? in.class_weight[c] : 1.0; };

  if (out.d_weight && N == 0) std::fill_n(out.d_weight, V * H, T(0));
  std::vector<double> bias_acc(out.d_bias ? static_cast<std::size_t>(V) : 0, 0.0);
  if (N == 0) {
    if (out.d_bias) std::fill_n(out.d_bias, V, T(0));
    return;
  }

  const index_t R = row_block(N);
  const index_t C = effective_chunk(opt.chunk_size, N, V, sizeof(T));
  const bool keep = C >= V;
  std::vector<T> buffer(static_cast<std::size_t>(R * C));
  T* buf = buffer.data();
  detail::RowStats st(R);

  // logits of the spans of chunk [c0, c0 + cw) for rows [r0, r0 + rows)
  auto logits = [&](index_t r0, index_t rows, index_t c0, index_t cw) {
    for (index_t s0 = c0; s0 < c0 + cw; s0 += kSpan) {
      const index_t sw = std::min(kSpan, c0 + cw - s0);
      gemm(false, true, rows, sw, H, in.hidden + r0 * H, H, in.weight + s0 * H, H, T(0),
           buf + (s0 - c0), C);
    }
    if (in.bias) {
      detail::over_rows(rows, cw, [&](index_t r) {
        T* z = buf + r * C;
        const T* b = in.bias + c0;
        FASTLOSS_SIMD
        for (index_t j = 0; j < cw; ++j) z[j] += b[j];
      });
    }
  };

  for (index_t r0 = 0; r0 < N; r0 += R) {
    const index_t rows = std::min(R, N - r0);
    st.reset(rows);
    // sweep 1: row statistics
    for (index_t c0 = 0; c0 < V; c0 += C) {
      const index_t cw = std::min(C, V - c0);
      logits(r0, rows, c0, cw);
      detail::over_rows(rows, cw, [&](index_t r) {
        const T* z = buf + r * C;
        const std::int64_t y = in.labels[r0 + r];
        double m = st.max[r], s = st.sum[r];
        for (index_t s0 = 0; s0 < cw; s0 += kSpan) {
          const index_t sw = std::min(kSpan, cw - s0);
          const T* zs = z + s0;
          // fixed lanes (element j in lane j % kLanes): loops that vectorise,
          // and sums that depend on the span alone
          T lane_max[kLanes];
          double lane_sum[kLanes];
          int nan = 0;
          for (int l = 0; l < kLanes; ++l) {
            lane_max[l] = -std::numeric_limits<T>::infinity();
            lane_sum[l] = 0.0;
          }
          for (index_t j = 0; j < sw; j += kLanes) {
            const int width = static_cast<int>(std::min<index_t>(kLanes, sw - j));
            for (int l = 0; l < width; ++l) {
              const T v = zs[j + l];
              lane_max[l] = v > lane_max[l] ? v : lane_max[l];
              nan |= v != v;
            }
          }
          T span_max = lane_max[0];
          for (int l = 1; l < kLanes; ++l) span_max = std::max(span_max, lane_max[l]);
          if (nan) {
            m = std::numeric_limits<double>::quiet_NaN();
            s = m;
            continue;
          }
          if (span_max == -std::numeric_limits<T>::infinity()) continue;  // adds exp(-inf) = 0
          for (index_t j = 0; j < sw; j += kLanes) {
            const int width = static_cast<int>(std::min<index_t>(kLanes, sw - j));
            for (int l = 0; l < width; ++l)
              lane_sum[l] += static_cast<double>(vmath::exp_nonpositive<T>(zs[j + l] - span_max));
          }
          double span_sum = 0.0;
          for (int l = 0; l < kLanes; ++l) span_sum += lane_sum[l];
          const double sm = static_cast<double>(span_max);
          if (!(sm <= m)) {  // a new maximum (or m is NaN: stays NaN through the sum)
            s = (m == -std::numeric_limits<double>::infinity() ? 0.0 : s * std::exp(m - sm)) +
                span_sum;
            m = std::isnan(m) ? m : sm;
          } else {
            s += span_sum * std::exp(sm - m);
          }
        }
        st.max[r] = m;
        st.sum[r] = s;
        if (y >= c0 && y < c0 + cw) st.label_logit[r] = static_cast<double>(z[y - c0]);
        if (eps > 0.0) {
          double acc = st.weighted_logits[r];
          if (in.class_weight) {
            for (index_t j = 0; j < cw; ++j)
              acc += in.class_weight[c0 + j] * static_cast<double>(z[j]);
          } else {
            for (index_t j = 0; j < cw; ++j) acc += static_cast<double>(z[j]);
          }
          st.weighted_logits[r] = acc;
        }
      });
    }
    for (index_t r = 0; r < rows; ++r) {
      const double m = st.max[r];
      st.lse[r] = std::isinf(m) ? m : m + std::log(st.sum[r]);
      const std::int64_t y = in.labels[r0 + r];
      if (!out.per_row) continue;
      if (y == opt.ignore_class) {
        out.per_row[r0 + r] = 0.0;
        continue;
      }
      const double lse = st.lse[r];
      double loss = (1.0 - eps) * class_w(y) * (lse - st.label_logit[r]);
      if (eps > 0.0) loss += smooth * (weight_sum * lse - st.weighted_logits[r]);
      out.per_row[r0 + r] = loss;
    }
    if (!want_grad) continue;
    // sweep 2: the softmax gradient, then the products
    for (index_t c0 = 0; c0 < V; c0 += C) {
      const index_t cw = std::min(C, V - c0);
      if (!keep) logits(r0, rows, c0, cw);
      detail::over_rows(rows, cw, [&](index_t r) {
        T* z = buf + r * C;
        const std::int64_t y = in.labels[r0 + r];
        const double coef = y == opt.ignore_class ? 0.0 : out.coef[r0 + r];
        if (coef == 0.0) {
          std::fill_n(z, cw, T(0));
          return;
        }
        // d loss / d z_c = A p_c - (1 - eps) w_y [c == y] - smooth w_c,
        // A = (1 - eps) w_y + smooth * sum_c w_c (the target's total mass)
        const double wy = class_w(y);
        const double mass = (1.0 - eps) * wy + smooth * weight_sum;
        const T lse = static_cast<T>(st.lse[r]);
        const double a = coef * mass;
        if (in.class_weight && eps > 0.0) {
          const double off = coef * smooth;
          const double* cwc = in.class_weight + c0;
          FASTLOSS_SIMD
          for (index_t j = 0; j < cw; ++j)
            z[j] = static_cast<T>(a * static_cast<double>(vmath::exp<T>(z[j] - lse)) -
                                  off * cwc[j]);
        } else {
          const double off = coef * smooth;
          FASTLOSS_SIMD
          for (index_t j = 0; j < cw; ++j)
            z[j] = static_cast<T>(a * static_cast<double>(vmath::exp<T>(z[j] - lse)) - off);
        }
        if (y >= c0 && y < c0 + cw) {
          // the label's term from the exact probability, not the rounded gradient
          const double p = std::exp(static_cast<double>(st.label_logit[r]) - st.lse[r]);
          // its target is (1 - eps) w_y + smooth w_y: with one class, exactly the mass
          z[y - c0] = static_cast<T>(coef * (mass * p - ((1.0 - eps) * wy + smooth * wy)));
        }
      });
      if (out.d_bias) {
        const index_t col_tiles = (cw + 63) / 64;
        fastloss::detail::parallel_for(
            col_tiles, fastloss::detail::threads_for(rows >= 64 ? col_tiles : 1),
            [&](std::ptrdiff_t t) {
              const index_t j0 = static_cast<index_t>(t) * 64, j1 = std::min(cw, j0 + 64);
              for (index_t r = 0; r < rows; ++r) {
                const T* g = buf + r * C;
                for (index_t j = j0; j < j1; ++j) bias_acc[c0 + j] += static_cast<double>(g[j]);
              }
            });
      }
      for (index_t s0 = c0; s0 < c0 + cw; s0 += kSpan) {
        const index_t sw = std::min(kSpan, c0 + cw - s0);
        const T* g = buf + (s0 - c0);
        if (out.d_hidden)
          gemm(false, false, rows, H, sw, g, C, in.weight + s0 * H, H, s0 == 0 ? T(0) : T(1),
               out.d_hidden + r0 * H, H);
        if (out.d_weight)
          gemm(true, false, sw, H, rows, g, C, in.hidden + r0 * H, H, r0 == 0 ? T(0) : T(1),
               out.d_weight + s0 * H, H);
      }
    }
  }
  if (out.d_bias)
    for (index_t c = 0; c < V; ++c) out.d_bias[c] = static_cast<T>(bias_acc[c]);
}

}  // namespace fastloss::linear_ce

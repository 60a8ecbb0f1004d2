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
// block's vocabulary in chunks of whole spans of kSpan entries. Sweep 1 makes
// each span's logits by a matrix product and, while they are in cache, its
// per-row statistics in float64: the span's maximum and sum of exp, the
// label's logit and, with smoothing, the class-weighted sum of logits; the
// spans are then folded in order (online log-sum-exp, Milakov and Gimelshein
// 2018). Sweep 2 forms each span's softmax gradient G in place of its
// logits, adds it to d_bias and makes d_weight_span (+)= G^T hidden_block
// (a rank-R update), then d_hidden_block (+)= G W over the chunk's spans.
// When a chunk covers the whole vocabulary (the default whenever a block's
// logits fit kChunkBudgetBytes) the logits of sweep 1 stay in the buffer and
// sweep 2 reuses them: three matrix products per block, as the unchunked
// computation makes; otherwise sweep 2 recomputes them (four).
//
// Every matrix product is made on a fixed span of kSpan vocabulary entries
// at a fixed position (span s covers [s kSpan, (s+1) kSpan)), and the row
// statistics fold the spans in order: the chunk size decides only which spans
// share the buffer, so results are bitwise the same for every chunk size.
// With a concurrent callback (a BLAS that can run a call on its calling
// thread alone), each span is one task on fastloss's threads -- its products
// single-threaded calls in column tiles fixed by the shape, then its
// element-wise work while the logits are in cache -- and d_hidden is cut
// into column tiles; otherwise the spans run in order, each product one call
// threaded by the callback, and the element-wise work is split into tiles of
// rows. Either way the split depends on the shape alone, so results are
// bitwise the same for every thread count. The matrix products are a
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
/// the core then runs the products on fastloss's threads as single calls cut
/// by the shape alone (spans of kSpan, column tiles of kGemmTile; so does
/// operator() below for one product). That is how results stay
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

/// One call of the callback, C = op(A) op(B) (+ C when accumulate), with
/// the empty cases a BLAS may not handle.
template <class T>
void gemm_call(const Gemm<T>& g, bool ta, bool tb, index_t m, index_t n, index_t k, const T* a,
               index_t lda, const T* b, index_t ldb, bool accumulate, T* c, index_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < n; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] : T(0);
    return;
  }
  g.fn(g.context, ta, tb, m, n, k, T(1), a, lda, b, ldb, accumulate ? T(1) : T(0), c, ldc);
}

/// The maximum and sum of exp(z - maximum) of one span's logits zs[0, sw),
/// in fixed lanes (element j in lane j % kLanes: loops that vectorise, sums
/// that depend on the span alone). The maximum is NaN when a logit is.
template <class T>
void span_stats(const T* zs, index_t sw, double& span_max, double& span_sum) {
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
  T mx = lane_max[0];
  for (int l = 1; l < kLanes; ++l) mx = std::max(mx, lane_max[l]);
  span_sum = 0.0;
  if (nan) {
    span_max = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  span_max = static_cast<double>(mx);
  if (mx == -std::numeric_limits<T>::infinity()) return;  // every exp is 0
  for (index_t j = 0; j < sw; j += kLanes) {
    const int width = static_cast<int>(std::min<index_t>(kLanes, sw - j));
    for (int l = 0; l < width; ++l)
      lane_sum[l] += static_cast<double>(vmath::exp_nonpositive<T>(zs[j + l] - mx));
  }
  for (int l = 0; l < kLanes; ++l) span_sum += lane_sum[l];
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
  const index_t spans = (V + kSpan - 1) / kSpan;
  std::vector<T> buffer(static_cast<std::size_t>(R * C));
  T* buf = buffer.data();
  // per (span, row): the span's maximum, sum of exp and weighted sum of logits
  std::vector<double> span_max(static_cast<std::size_t>(spans * R)),
      span_sum(span_max.size()), span_wl(eps > 0.0 ? span_max.size() : 0);
  std::vector<double> lse(static_cast<std::size_t>(R)), label_logit(lse.size());

  // With a concurrent callback, each span's work (its products and its
  // element-wise part) is one task on fastloss's threads and every product
  // one single-threaded call; otherwise the spans run in order on this
  // thread, each product one call threaded by the callback, and the
  // element-wise work is split into tiles of rows.
  const bool tasks = gemm.concurrent;
  auto spans_of = [&](index_t c0, index_t cw, const auto& body) {
    const index_t first = c0 / kSpan, count = (cw + kSpan - 1) / kSpan;
    auto one = [&](std::ptrdiff_t t) {
      const index_t s0 = (first + static_cast<index_t>(t)) * kSpan;
      body(s0, std::min(kSpan, V - s0));
    };
    if (tasks)
      fastloss::detail::parallel_for(count, fastloss::detail::threads_for(count), one);
    else
      for (index_t t = 0; t < count; ++t) one(t);
  };
  auto rows_of = [&](index_t rows, index_t columns, const auto& body) {
    if (tasks) {
      for (index_t r = 0; r < rows; ++r) body(r);
    } else {
      detail::over_rows(rows, columns, body);
    }
  };
  // the logits of span [s0, s0 + sw) for rows [r0, r0 + rows), at z (leading
  // dimension C): column tiles of kGemmTile for a concurrent callback
  auto logits = [&](index_t r0, index_t rows, index_t s0, index_t sw, T* z) {
    const index_t tile = tasks ? kGemmTile : sw;
    for (index_t j0 = 0; j0 < sw; j0 += tile)
      detail::gemm_call(gemm, false, true, rows, std::min(tile, sw - j0), H, in.hidden + r0 * H,
                        H, in.weight + (s0 + j0) * H, H, false, z + j0, C);
    if (in.bias) {
      const T* b = in.bias + s0;
      rows_of(rows, sw, [&](index_t r) {
        T* zr = z + r * C;
        FASTLOSS_SIMD
        for (index_t j = 0; j < sw; ++j) zr[j] += b[j];
      });
    }
  };

  for (index_t r0 = 0; r0 < N; r0 += R) {
    const index_t rows = std::min(R, N - r0);
    std::fill_n(label_logit.begin(), rows, 0.0);
    // sweep 1: each span's logits and statistics
    for (index_t c0 = 0; c0 < V; c0 += C) {
      const index_t cw = std::min(C, V - c0);
      spans_of(c0, cw, [&](index_t s0, index_t sw) {
        T* z = buf + (s0 - c0);
        logits(r0, rows, s0, sw, z);
        const index_t si = s0 / kSpan;
        rows_of(rows, sw, [&](index_t r) {
          const T* zr = z + r * C;
          detail::span_stats(zr, sw, span_max[si * R + r], span_sum[si * R + r]);
          const std::int64_t y = in.labels[r0 + r];
          if (y >= s0 && y < s0 + sw) label_logit[r] = static_cast<double>(zr[y - s0]);
          if (eps > 0.0) {
            double acc = 0.0;
            if (in.class_weight) {
              const double* w = in.class_weight + s0;
              for (index_t j = 0; j < sw; ++j) acc += w[j] * static_cast<double>(zr[j]);
            } else {
              for (index_t j = 0; j < sw; ++j) acc += static_cast<double>(zr[j]);
            }
            span_wl[si * R + r] = acc;
          }
        });
      });
    }
    // the spans folded in order: the online log-sum-exp (Milakov and
    // Gimelshein 2018), then each row's loss
    for (index_t r = 0; r < rows; ++r) {
      double m = -std::numeric_limits<double>::infinity(), s = 0.0, wl = 0.0;
      for (index_t si = 0; si < spans; ++si) {
        if (eps > 0.0) wl += span_wl[si * R + r];
        const double sm = span_max[si * R + r], ss = span_sum[si * R + r];
        if (std::isnan(sm)) {
          m = s = sm;
          continue;
        }
        if (sm == -std::numeric_limits<double>::infinity()) continue;  // adds exp(-inf) = 0
        if (!(sm <= m)) {  // a new maximum (or m is NaN: stays NaN through the sum)
          s = (m == -std::numeric_limits<double>::infinity() ? 0.0 : s * std::exp(m - sm)) + ss;
          m = std::isnan(m) ? m : sm;
        } else {
          s += ss * std::exp(sm - m);
        }
      }
      lse[r] = std::isinf(m) ? m : m + std::log(s);
      const std::int64_t y = in.labels[r0 + r];
      if (!out.per_row) continue;
      if (y == opt.ignore_class) {
        out.per_row[r0 + r] = 0.0;
        continue;
      }
      double loss = (1.0 - eps) * class_w(y) * (lse[r] - label_logit[r]);
      if (eps > 0.0) loss += smooth * (weight_sum * lse[r] - wl);
      out.per_row[r0 + r] = loss;
    }
    if (!want_grad) continue;
    // sweep 2: per span the softmax gradient in place of its logits, d_bias
    // and d_weight; then d_hidden over the chunk's spans
    for (index_t c0 = 0; c0 < V; c0 += C) {
      const index_t cw = std::min(C, V - c0);
      spans_of(c0, cw, [&](index_t s0, index_t sw) {
        T* g = buf + (s0 - c0);
        if (!keep) logits(r0, rows, s0, sw, g);
        rows_of(rows, sw, [&](index_t r) {
          T* z = g + r * C;
          const std::int64_t y = in.labels[r0 + r];
          const double coef = y == opt.ignore_class ? 0.0 : out.coef[r0 + r];
          if (coef == 0.0) {
            std::fill_n(z, sw, T(0));
            return;
          }
          // d loss / d z_c = A p_c - (1 - eps) w_y [c == y] - smooth w_c,
          // A = (1 - eps) w_y + smooth * sum_c w_c (the target's total mass)
          const double wy = class_w(y);
          const double mass = (1.0 - eps) * wy + smooth * weight_sum;
          const T l = static_cast<T>(lse[r]);
          const double a = coef * mass;
          const double off = coef * smooth;
          if (in.class_weight && eps > 0.0) {
            const double* cwc = in.class_weight + s0;
            FASTLOSS_SIMD
            for (index_t j = 0; j < sw; ++j)
              z[j] = static_cast<T>(a * static_cast<double>(vmath::exp<T>(z[j] - l)) -
                                    off * cwc[j]);
          } else {
            FASTLOSS_SIMD
            for (index_t j = 0; j < sw; ++j)
              z[j] = static_cast<T>(a * static_cast<double>(vmath::exp<T>(z[j] - l)) - off);
          }
          if (y >= s0 && y < s0 + sw) {
            // the label's term from the exact probability, not the rounded gradient
            const double p = std::exp(label_logit[r] - lse[r]);
            // its target is (1 - eps) w_y + smooth w_y: with one class, exactly the mass
            z[y - s0] = static_cast<T>(coef * (mass * p - ((1.0 - eps) * wy + smooth * wy)));
          }
        });
        if (out.d_bias) {
          double* acc = bias_acc.data() + s0;
          for (index_t r = 0; r < rows; ++r) {
            const T* gr = g + r * C;
            FASTLOSS_SIMD
            for (index_t j = 0; j < sw; ++j) acc[j] += static_cast<double>(gr[j]);
          }
        }
        if (out.d_weight)
          detail::gemm_call(gemm, true, false, sw, H, rows, g, C, in.hidden + r0 * H, H, r0 > 0,
                            out.d_weight + s0 * H, H);
      });
      if (!out.d_hidden) continue;
      // d_hidden[block] += G W over the chunk's spans in order, in column
      // tiles of kGemmTile on fastloss's threads for a concurrent callback
      const index_t tile = tasks ? kGemmTile : std::max<index_t>(H, 1);
      const index_t tiles = (H + tile - 1) / tile;
      auto columns = [&](std::ptrdiff_t t) {
        const index_t j0 = static_cast<index_t>(t) * tile, nt = std::min(tile, H - j0);
        for (index_t s0 = c0; s0 < c0 + cw; s0 += kSpan)
          detail::gemm_call(gemm, false, false, rows, nt, std::min(kSpan, V - s0),
                            buf + (s0 - c0), C, in.weight + s0 * H + j0, H, s0 > 0,
                            out.d_hidden + r0 * H + j0, H);
      };
      if (tasks)
        fastloss::detail::parallel_for(tiles, fastloss::detail::threads_for(tiles), columns);
      else
        for (index_t t = 0; t < tiles; ++t) columns(t);
    }
  }
  if (out.d_bias)
    for (index_t c = 0; c < V; ++c) out.d_bias[c] = static_cast<T>(bias_acc[c]);
}

}  // namespace fastloss::linear_ce

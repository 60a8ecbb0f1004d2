// Kernels of the pair, triplet and metric-learning losses:
//
// * MarginRanking (PyTorch's margin_ranking_loss), elementwise;
// * CosineEmbedding (PyTorch's cosine_embedding_loss), one loss per row;
// * TripletMargin (PyTorch's triplet_margin_loss, with the swap) and
//   TripletMarginWithDistance (its triplet_margin_with_distance_loss under a
//   named distance), one loss per row;
// * NT-Xent (optax's ntxent) and Circle (Keras 3's Circle), whose loss of a
//   row depends on its similarity to every other row of the batch.
//
// The two batch losses never hold the B x B similarity matrix: the batch is
// cut into row tiles (the unit of work of a thread) and column tiles of
// kTile rows each, and one kTile x kTile block of similarities exists per
// thread at a time. A first sweep over the column tiles keeps a running
// (online) log-sum-exp per row; a second sweep recomputes each block and
// multiplies the block of derivatives into the gradient. Similarities are
// dot products in the input precision (a register-blocked micro-kernel over
// zero-padded, packed copies of the embeddings: a float32 input runs at
// float32 SIMD speed); every row statistic (maxima, sums of exponentials,
// losses) and the gradient's sum over column tiles are float64. A block of
// derivatives is formed in one vectorised loop per row: in the input
// precision for NT-Xent (its exponents are at most 1 / temperature), in
// float64 for Circle (its exponents reach gamma (1 + m)^2).
//
// Results are the same bits for every thread count: a row tile is computed
// by one thread, its column tiles in a fixed order, and the blocks are cut
// by the shape alone.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/isa.hpp"
#include "../detail/threads.hpp"
#include "../detail/vmath.hpp"

namespace fastloss {

namespace embedding {

/// Rows of a row tile (one task) and of a column tile.
inline constexpr index_t kTile = 64;
/// The micro-kernel's block: kMR rows times kNR columns of accumulators.
inline constexpr index_t kMR = 4;
inline constexpr index_t kNR = 32;
/// Elements of one task of the elementwise and per-row kernels.
inline constexpr index_t kTaskElements = 16384;

namespace detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// log(exp(a) + exp(b)) for a possibly -inf.
inline double log_add_exp(double a, double b) {
  const double hi = std::max(a, b), lo = std::min(a, b);
  if (hi == -kInf) return -kInf;
  return hi + std::log1p(std::exp(lo - hi));
}

/// log(1 + exp(x)), stable for both signs.
inline double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

/// Runs body(t) for every task t of the shape's fixed split.
template <class Body>
void for_tasks(index_t tasks, const Body& body) {
  fastloss::detail::parallel_tiles(tasks, fastloss::detail::threads_for(tasks), body);
}

/// C[r][n] = sum_k A[r][k] B[k][n] for r < kMR, n < kNR: A row-major with
/// leading dimension lda, B with ldb. Every output is one sequential sum over
/// k, so its value does not depend on which block computed it; fused
/// multiply-adds where the instruction-set clone has them.
template <class T>
FASTLOSS_INLINE void micro_kernel(const T* A, index_t lda, const T* B, index_t ldb, index_t K,
                                  T* C, index_t ldc) {
  T acc[kMR][kNR] = {};
  for (index_t k = 0; k < K; ++k) {
    const T* b = B + k * ldb;
    for (index_t r = 0; r < kMR; ++r) {
      const T a = A[r * lda + k];
      FASTLOSS_SIMD for (index_t n = 0; n < kNR; ++n) acc[r][n] = vmath::detail::fmadd(a, b[n], acc[r][n]);
    }
  }
  for (index_t r = 0; r < kMR; ++r)
    for (index_t n = 0; n < kNR; ++n) C[r * ldc + n] = acc[r][n];
}

/// The embeddings zero-padded to Bp x Dp (multiples of kTile and kNR) twice:
/// row-major, and as column panels (panel J: Dp x kTile, row J*kTile + c of
/// the batch in column c), so that both products of a block are
/// broadcast-and-multiply loops over contiguous memory.
template <class T>
struct Packed {
  index_t B = 0, D = 0, Bp = 0, Dp = 0, tiles = 0;
  std::vector<T> rows, panels;

  /// `scale[i]` multiplies row i (null: 1).
  Packed(const T* x, index_t B_, index_t D_, const double* scale) : B(B_), D(D_) {
    tiles = (B + kTile - 1) / kTile;
    Bp = tiles * kTile;
    Dp = std::max<index_t>(kNR, (D + kNR - 1) / kNR * kNR);
    rows.assign(static_cast<std::size_t>(Bp * Dp), T(0));
    panels.assign(static_cast<std::size_t>(Bp * Dp), T(0));
    for (index_t i = 0; i < B; ++i) {
      const double s = scale ? scale[i] : 1.0;
      T* row = rows.data() + i * Dp;
      T* panel = panels.data() + (i / kTile) * Dp * kTile + (i % kTile);
      for (index_t d = 0; d < D; ++d) {
        const T v = scale ? static_cast<T>(static_cast<double>(x[i * D + d]) * s) : x[i * D + d];
        row[d] = v;
        panel[d * kTile] = v;
      }
    }
  }
  const T* row(index_t i) const { return rows.data() + i * Dp; }
  const T* panel(index_t J) const { return panels.data() + J * Dp * kTile; }
};

/// S[r][c] = <row I*kTile + r, row J*kTile + c> for the kTile x kTile block.
template <class T>
FASTLOSS_INLINE void similarity_block(const Packed<T>& p, index_t I, index_t J, T* S) {
  const T* panel = p.panel(J);
  for (index_t r = 0; r < kTile; r += kMR)
    for (index_t n = 0; n < kTile; n += kNR)
      micro_kernel(p.row(I * kTile + r), p.Dp, panel + n, kTile, p.Dp, S + r * kTile + n, kTile);
}

/// G[r][:] += sum_c M[r][c] * row(J*kTile + c) over the block (G: kTile x Dp).
template <class T>
FASTLOSS_INLINE void accumulate_block(const Packed<T>& p, index_t J, const T* M, double* G) {
  T part[kMR * kNR];
  for (index_t r = 0; r < kTile; r += kMR)
    for (index_t n = 0; n < p.Dp; n += kNR) {
      micro_kernel(M + r * kTile, kTile, p.row(J * kTile) + n, p.Dp, kTile, part, kNR);
      for (index_t rr = 0; rr < kMR; ++rr) {
        double* g = G + (r + rr) * p.Dp + n;
        FASTLOSS_SIMD for (index_t k = 0; k < kNR; ++k) g[k] += static_cast<double>(part[rr * kNR + k]);
      }
    }
}

/// Independent float64 partial sums of a row segment (a fixed order: the same
/// bits on every thread, and wide enough to keep a vector register busy).
inline constexpr index_t kLanes = 8;

/// Running log-sum-exp of a row over the column tiles: the maximum seen and
/// the sum of exp(value - max), both float64.
struct RunningLse {
  double max = -kInf, sum = 0.0;
  /// Adds the kTile values v (masked ones are -inf).
  template <class T>
  FASTLOSS_INLINE void add(const T* v) {
    T m = -std::numeric_limits<T>::infinity();
    for (index_t c = 0; c < kTile; ++c) m = v[c] > m ? v[c] : m;
    if (static_cast<double>(m) == -kInf) return;
    if (static_cast<double>(m) > max) {
      sum = max == -kInf ? 0.0 : sum * std::exp(max - static_cast<double>(m));
      max = static_cast<double>(m);
    }
    const T shift = static_cast<T>(max);
    double lanes[kLanes] = {};
    for (index_t c = 0; c < kTile; c += kLanes) {
      FASTLOSS_SIMD for (index_t l = 0; l < kLanes; ++l)
        lanes[l] += static_cast<double>(vmath::exp_nonpositive<T>(v[c + l] - shift));
    }
    double s = 0.0;
    for (index_t l = 0; l < kLanes; ++l) s += lanes[l];
    sum += s;
  }
  double value() const { return max == -kInf ? -kInf : max + std::log(sum); }
};

/// The rows of a row tile and their validity in the batch.
inline index_t rows_in(index_t tile, index_t B) { return std::min(kTile, B - tile * kTile); }

}  // namespace detail

// ---------------------------------------------------------------------------
// Margin ranking (elementwise)

/// PyTorch's margin_ranking_loss per element, l = max(0, -y (x1 - x2) + margin),
/// in float64. Where l's argument is >= 0 (PyTorch's clamp_min passes the
/// gradient at 0) g1 = -y coef, g2 = y coef; else both are 0. Any output may
/// be null; coef (null = 1) is each element's coefficient.
template <class T>
void margin_ranking(const T* y, const T* x1, const T* x2, index_t n, double margin,
                    double* per_element, T* g1, T* g2, const double* coef) {
  if (n <= 0) return;
  const index_t tasks = (n + kTaskElements - 1) / kTaskElements;
  detail::for_tasks(tasks, [&](index_t t) {
    const index_t e1 = std::min(n, (t + 1) * kTaskElements);
    for (index_t e = t * kTaskElements; e < e1; ++e) {
      const double yy = static_cast<double>(y[e]);
      const double z = -yy * (static_cast<double>(x1[e]) - static_cast<double>(x2[e])) + margin;
      if (per_element) per_element[e] = z > 0 ? z : 0.0;
      const double c = (coef ? coef[e] : 1.0) * (z >= 0 ? 1.0 : 0.0);
      if (g1) g1[e] = static_cast<T>(-yy * c);
      if (g2) g2[e] = static_cast<T>(yy * c);
    }
  });
}

// ---------------------------------------------------------------------------
// Cosine embedding (per row)

/// Where the per-row kernels write. Any pointer may be null.
template <class T>
struct RowOutputs {
  double* per_row = nullptr;     ///< (rows,)
  T* grad[3] = {nullptr, nullptr, nullptr};  ///< (rows, D) per trained input
  T* hess[3] = {nullptr, nullptr, nullptr};  ///< (rows, D) Hessian diagonals
  const double* coef = nullptr;  ///< (rows,) each row's coefficient; null = 1
};

/// The epsilon PyTorch's cosine_embedding_loss adds to each squared norm.
inline constexpr double kCosineEps = 1e-12;

/// PyTorch's cosine_embedding_loss of rows x1[r], x2[r] (D elements) with
/// y[r] = +1 or -1: cos = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)),
/// loss = 1 - cos for y = 1, max(0, cos - margin) for y = -1. Writes the
/// gradients of each input (grad[0], grad[1]) and, where asked, the exact
/// diagonal of the Hessian of each row's loss (hess[0], hess[1]). Sums are
/// float64.
template <class T>
void cosine_embedding(const T* y, const T* x1, const T* x2, index_t rows, index_t D,
                      double margin, const RowOutputs<T>& out) {
  if (rows <= 0) return;
  const index_t per_task = std::max<index_t>(1, kTaskElements / std::max<index_t>(D, 1));
  const index_t tasks = (rows + per_task - 1) / per_task;
  detail::for_tasks(tasks, [&](index_t t) {
    const index_t r1 = std::min(rows, (t + 1) * per_task);
    for (index_t r = t * per_task; r < r1; ++r) {
      const T* a = x1 + r * D;
      const T* b = x2 + r * D;
      double dot = 0.0, aa = 0.0, bb = 0.0;
      for (index_t d = 0; d < D; ++d) {
        const double u = static_cast<double>(a[d]), v = static_cast<double>(b[d]);
        dot += u * v;
        aa += u * u;
        bb += v * v;
      }
      aa += kCosineEps;
      bb += kCosineEps;
      const double den = std::sqrt(aa * bb);
      const double cos = dot / den;
      const bool positive = static_cast<double>(y[r]) > 0;
      if (out.per_row) out.per_row[r] = positive ? 1.0 - cos : std::max(0.0, cos - margin);
      // d loss / d cos: -1 for y = 1, 1 where cos - margin >= 0 for y = -1
      const double sign = positive ? -1.0 : (cos - margin >= 0 ? 1.0 : 0.0);
      const double c = (out.coef ? out.coef[r] : 1.0) * sign;
      if (!out.grad[0] && !out.grad[1] && !out.hess[0] && !out.hess[1]) continue;
      for (index_t d = 0; d < D; ++d) {
        const double u = static_cast<double>(a[d]), v = static_cast<double>(b[d]);
        // d cos / d x1 = x2 / den - cos x1 / |x1|^2 (and symmetrically)
        if (out.grad[0]) out.grad[0][r * D + d] = static_cast<T>(c * (v / den - cos * u / aa));
        if (out.grad[1]) out.grad[1][r * D + d] = static_cast<T>(c * (u / den - cos * v / bb));
        // d2 cos / d x1_d^2 = -2 x1 x2 / (|x1|^2 den) + 3 cos x1^2 / |x1|^4 - cos / |x1|^2
        if (out.hess[0])
          out.hess[0][r * D + d] = static_cast<T>(
              c * (-2.0 * u * v / (aa * den) + 3.0 * cos * u * u / (aa * aa) - cos / aa));
        if (out.hess[1])
          out.hess[1][r * D + d] = static_cast<T>(
              c * (-2.0 * u * v / (bb * den) + 3.0 * cos * v * v / (bb * bb) - cos / bb));
      }
    }
  });
}

// ---------------------------------------------------------------------------
// Triplet margin (per row)

namespace detail {

/// |v|_p of v = x - z + eps (PyTorch's pairwise_distance), in float64.
template <class T>
double pair_distance(const T* x, const T* z, index_t D, double p, double eps) {
  double s = 0.0;
  for (index_t d = 0; d < D; ++d) {
    const double v = std::fabs(static_cast<double>(x[d]) - static_cast<double>(z[d]) + eps);
    s += p == 2.0 ? v * v : p == 1.0 ? v : std::pow(v, p);
  }
  return p == 2.0 ? std::sqrt(s) : p == 1.0 ? s : std::pow(s, 1.0 / p);
}

/// d |v|_p / d v_d for v_d = x_d - z_d + eps, given the norm (0 where it is 0).
inline double norm_derivative(double v, double norm, double p) {
  if (norm == 0.0) return 0.0;
  if (p == 2.0) return v / norm;
  const double sign = v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
  if (p == 1.0) return sign;
  return sign * std::pow(std::fabs(v) / norm, p - 1.0);
}

/// d2 |v|_p / d v_d^2 = (p - 1) / |v| ((|v_d| / |v|)^(p-2) - (|v_d| / |v|)^(2p-2)):
/// 0 for p = 1 (the norm is piecewise linear), (1 - v_d^2 / |v|^2) / |v| for
/// p = 2; for 1 < p < 2 it is infinite where v_d = 0.
inline double norm_second_derivative(double v, double norm, double p) {
  if (norm == 0.0 || p == 1.0) return 0.0;
  const double q = std::fabs(v) / norm;
  if (p == 2.0) return (1.0 - q * q) / norm;
  return (p - 1.0) / norm * (std::pow(q, p - 2.0) - std::pow(q, 2.0 * p - 2.0));
}

}  // namespace detail

/// The distance of a triplet loss between two rows x and z:
/// * Norm: |x - z + eps|_p, PyTorch's pairwise_distance (its default p = 2,
///   eps = 1e-6 is TripletMarginWithDistanceLoss's default distance);
/// * SquaredNorm: |x - z + eps|_2^2, the square of the default distance;
/// * Cosine: 1 - x.z / (max(|x|, eps) max(|z|, eps)), one minus PyTorch's
///   cosine_similarity (eps 1e-8 there).
enum class Distance : int { Norm = 0, SquaredNorm = 1, Cosine = 2 };

/// A distance and its parameters (p only for Norm).
struct DistanceSpec {
  Distance kind = Distance::Norm;
  double p = 2.0, eps = 1e-6;
};

namespace detail {

/// One pair distance of a row and what its derivatives need.
struct PairDistance {
  double value = 0.0;
  // Norm, SquaredNorm: the norm |x - z + eps|_p; Cosine: |x|, |z| floored at
  // eps, x.z, the cosine, and whether each norm is above its floor.
  double norm = 0.0, nx = 0.0, nz = 0.0, dot = 0.0, cos = 0.0;
  bool live_x = true, live_z = true;
};

template <class T>
PairDistance distance_of(const T* x, const T* z, index_t D, const DistanceSpec& s) {
  PairDistance out;
  if (s.kind == Distance::Cosine) {
    double xx = 0.0, zz = 0.0, xz = 0.0;
    for (index_t d = 0; d < D; ++d) {
      const double a = static_cast<double>(x[d]), b = static_cast<double>(z[d]);
      xx += a * a;
      zz += b * b;
      xz += a * b;
    }
    const double rx = std::sqrt(xx), rz = std::sqrt(zz);
    out.live_x = !(rx <= s.eps);  // NaN stays live: it propagates
    out.live_z = !(rz <= s.eps);
    out.nx = out.live_x ? rx : s.eps;
    out.nz = out.live_z ? rz : s.eps;
    out.dot = xz;
    out.cos = xz / (out.nx * out.nz);
    out.value = 1.0 - out.cos;
    return out;
  }
  out.norm = pair_distance(x, z, D, s.kind == Distance::Norm ? s.p : 2.0, s.eps);
  out.value = s.kind == Distance::SquaredNorm ? out.norm * out.norm : out.norm;
  return out;
}

/// The derivatives of a pair distance at element d with respect to its first
/// (x) and second (z) row: g1, g2 and the Hessian diagonals h1, h2.
struct PairDerivatives {
  double g1, g2, h1, h2;
};

template <class T>
PairDerivatives distance_derivatives(const T* x, const T* z, index_t d, const PairDistance& pd,
                                     const DistanceSpec& s) {
  const double a = static_cast<double>(x[d]), b = static_cast<double>(z[d]);
  if (s.kind == Distance::Cosine) {
    // d cos/dx_d = z_d / (nx nz) - cos x_d / nx^2,
    // d2 cos/dx_d^2 = -2 x_d z_d / (nx^3 nz) - cos / nx^2 + 3 cos x_d^2 / nx^4
    // (a floored norm is a constant: z_d / (nx nz), 0); likewise for z.
    const double den = pd.nx * pd.nz, xx = pd.nx * pd.nx, zz = pd.nz * pd.nz;
    const double c = pd.cos;
    const double g1 = b / den - (pd.live_x ? c * a / xx : 0.0);
    const double g2 = a / den - (pd.live_z ? c * b / zz : 0.0);
    const double h1 = pd.live_x ? -2.0 * a * b / (xx * den) - c / xx + 3.0 * c * a * a / (xx * xx)
                                : 0.0;
    const double h2 = pd.live_z ? -2.0 * a * b / (zz * den) - c / zz + 3.0 * c * b * b / (zz * zz)
                                : 0.0;
    return {-g1, -g2, -h1, -h2};  // the distance is 1 - cos
  }
  // a function of v = x - z + eps: d/dz = -d/dx, d2/dz2 = d2/dx2
  const double v = a - b + s.eps;
  if (s.kind == Distance::SquaredNorm) return {2.0 * v, -2.0 * v, 2.0, 2.0};
  const double g = norm_derivative(v, pd.norm, s.p);
  const double h = norm_second_derivative(v, pd.norm, s.p);
  return {g, -g, h, h};
}

}  // namespace detail

/// The triplet margin loss of rows anchor[r], positive[r], negative[r] under
/// a distance d (PyTorch's triplet_margin_loss for Distance::Norm, its
/// triplet_margin_with_distance_loss for the others):
///   d_neg = d(a, n), or min(d(a, n), d(p, n)) with swap,
///   loss = max(0, margin + d(a, p) - d_neg),
/// with gradients for the three inputs (grad[0..2]) where the hinge's argument
/// is >= 0 (PyTorch's clamp_min), and the diagonals of each row's Hessian with
/// respect to each input (hess[0..2]; 0 where the hinge is flat). Distances
/// are float64.
template <class T>
void triplet_margin(const T* anchor, const T* positive, const T* negative, index_t rows,
                    index_t D, double margin, const DistanceSpec& dist, bool swap,
                    const RowOutputs<T>& out) {
  if (rows <= 0) return;
  const index_t per_task = std::max<index_t>(1, kTaskElements / std::max<index_t>(D, 1));
  const index_t tasks = (rows + per_task - 1) / per_task;
  detail::for_tasks(tasks, [&](index_t t) {
    const index_t r1 = std::min(rows, (t + 1) * per_task);
    for (index_t r = t * per_task; r < r1; ++r) {
      const T* a = anchor + r * D;
      const T* ps = positive + r * D;
      const T* ng = negative + r * D;
      const detail::PairDistance pos = detail::distance_of(a, ps, D, dist);
      detail::PairDistance neg = detail::distance_of(a, ng, D, dist);
      bool swapped = false;
      if (swap) {
        const detail::PairDistance sw = detail::distance_of(ps, ng, D, dist);
        if (sw.value < neg.value) {
          neg = sw;
          swapped = true;
        }
      }
      const double z = margin + pos.value - neg.value;
      if (out.per_row) out.per_row[r] = z > 0 ? z : 0.0;
      if (!out.grad[0] && !out.grad[1] && !out.grad[2] && !out.hess[0] && !out.hess[1] &&
          !out.hess[2])
        continue;
      const double c = z >= 0 ? (out.coef ? out.coef[r] : 1.0) : 0.0;
      const T* n_from = swapped ? ps : a;  // d_neg = d(n_from, negative)
      for (index_t d = 0; d < D; ++d) {
        // the anchor is the first row of d(a, p) and, unswapped, of d_neg; the
        // positive the second of d(a, p) and, swapped, the first of d_neg; the
        // negative the second of d_neg
        const detail::PairDerivatives dp = detail::distance_derivatives(a, ps, d, pos, dist);
        const detail::PairDerivatives dn = detail::distance_derivatives(n_from, ng, d, neg, dist);
        if (out.grad[0]) out.grad[0][r * D + d] = static_cast<T>(c * (swapped ? dp.g1 : dp.g1 - dn.g1));
        if (out.grad[1]) out.grad[1][r * D + d] = static_cast<T>(c * (swapped ? dp.g2 - dn.g1 : dp.g2));
        if (out.grad[2]) out.grad[2][r * D + d] = static_cast<T>(-c * dn.g2);
        if (out.hess[0]) out.hess[0][r * D + d] = static_cast<T>(c * (swapped ? dp.h1 : dp.h1 - dn.h1));
        if (out.hess[1]) out.hess[1][r * D + d] = static_cast<T>(c * (swapped ? dp.h2 - dn.h1 : dp.h2));
        if (out.hess[2]) out.hess[2][r * D + d] = static_cast<T>(-c * dn.h2);
      }
    }
  });
}

/// PyTorch's triplet_margin_loss: the triplet margin loss under |x - z + eps|_p.
template <class T>
void triplet_margin(const T* anchor, const T* positive, const T* negative, index_t rows,
                    index_t D, double margin, double p, bool swap, double eps,
                    const RowOutputs<T>& out) {
  triplet_margin(anchor, positive, negative, rows, D, margin,
                 DistanceSpec{Distance::Norm, p, eps}, swap, out);
}

// ---------------------------------------------------------------------------
// The batch losses: NT-Xent and Circle

/// Where the batch kernels write. Any pointer may be null.
template <class T>
struct BatchOutputs {
  double* per_row = nullptr;     ///< (B,) each anchor row's loss
  T* grad = nullptr;             ///< (B, D) d/dx of sum_i coef_i loss_i
  const double* coef = nullptr;  ///< (B,) coefficients; null = 1
};

/// Positive similarities kept from the first sweep when they are at most
/// this many per row on average (one column tile's worth); beyond it a sweep
/// recomputes them, so memory stays below a tile row of the B x B matrix.
inline constexpr index_t kStoredPositivesPerRow = kTile;

namespace detail {

/// Rows with the same label as each row, itself excluded, from a sorted copy.
inline std::vector<index_t> same_label_counts(const std::int64_t* labels, index_t B) {
  std::vector<std::int64_t> sorted(labels, labels + B);
  std::sort(sorted.begin(), sorted.end());
  std::vector<index_t> count(static_cast<std::size_t>(B));
  for (index_t i = 0; i < B; ++i) {
    const auto range = std::equal_range(sorted.begin(), sorted.end(), labels[i]);
    count[i] = static_cast<index_t>(range.second - range.first) - 1;
  }
  return count;
}

/// The state of one NT-Xent call shared by its sweeps.
template <class T>
struct NtxentState {
  NtxentState(const Packed<T>& p, const std::int64_t* padded_labels, T inv_t)
      : packed(p), labels(padded_labels), inv_temperature(inv_t) {}
  const Packed<T>& packed;
  const std::int64_t* labels;      // (Bp,) padded, so that a tile reads within
  T inv_temperature;
  std::vector<double> log_neg;      // (B,) log sum over negatives of exp(s)
  std::vector<double> one_minus;    // (B,) sum over positives of 1 - sigma_ij
  std::vector<index_t> positives;   // (B,) rows of the same label, itself excluded
  std::vector<index_t> pos_start;   // (B + 1,) offsets into stored, when kept
  std::vector<T> stored;            // the positive similarities in column order
  bool keep = false;
  // for the gradient sweep, (Bp,) in the input precision, 0 beyond B:
  std::vector<T> log_neg_t;         // log_neg (0 for a row without negatives)
  std::vector<T> neg_coef_t;        // coef_i B_i / temperature
};

/// First sweep over one row tile: the running log-sum-exp of the negatives
/// of each row (and, when kept, the positive similarities).
template <class T>
FASTLOSS_DISPATCH void ntxent_statistics_tile(NtxentState<T>& st, index_t I) {
  const Packed<T>& p = st.packed;
  const index_t B = p.B, nr = rows_in(I, B);
  std::vector<T> S(static_cast<std::size_t>(kTile * kTile));
  T masked[kTile];
  RunningLse lse[kTile];
  index_t cursor[kTile];
  for (index_t r = 0; r < nr; ++r) cursor[r] = st.keep ? st.pos_start[I * kTile + r] : 0;
  const T ninf = -std::numeric_limits<T>::infinity();
  for (index_t J = 0; J < p.tiles; ++J) {
    similarity_block(p, I, J, S.data());
    const index_t nc = rows_in(J, B);
    for (index_t r = 0; r < nr; ++r) {
      const index_t i = I * kTile + r;
      const std::int64_t li = st.labels[i];
      const T* s = S.data() + r * kTile;
      const std::int64_t* lj = st.labels + J * kTile;
      FASTLOSS_SIMD for (index_t c = 0; c < kTile; ++c)
        masked[c] = c < nc && lj[c] != li ? s[c] * st.inv_temperature : ninf;
      lse[r].add(masked);
      if (st.keep)
        for (index_t c = 0; c < nc; ++c)
          if (lj[c] == li && J * kTile + c != i) st.stored[cursor[r]++] = s[c] * st.inv_temperature;
    }
  }
  for (index_t r = 0; r < nr; ++r) st.log_neg[I * kTile + r] = lse[r].value();
}

/// Each row's loss and sum of 1 - sigma over its positives, given the
/// negatives' log-sum-exp: from the kept similarities, or by recomputing
/// the blocks (the same blocks, so the same values).
template <class T>
FASTLOSS_DISPATCH void ntxent_positives_tile(NtxentState<T>& st, index_t I, double* per_row) {
  const Packed<T>& p = st.packed;
  const index_t B = p.B, nr = rows_in(I, B);
  double value[kTile] = {}, om[kTile] = {};
  auto visit = [&](index_t r, T sim) {
    const double s = static_cast<double>(sim);
    const double ln = st.log_neg[I * kTile + r];
    const double lse = log_add_exp(ln, s);
    value[r] += lse - s;
    om[r] += ln == -kInf ? 0.0 : std::exp(ln - lse);
  };
  if (st.keep) {
    for (index_t r = 0; r < nr; ++r) {
      const index_t i = I * kTile + r;
      for (index_t k = st.pos_start[i]; k < st.pos_start[i + 1]; ++k) visit(r, st.stored[k]);
    }
  } else {
    std::vector<T> S(static_cast<std::size_t>(kTile * kTile));
    for (index_t J = 0; J < p.tiles; ++J) {
      similarity_block(p, I, J, S.data());
      const index_t nc = rows_in(J, B);
      for (index_t r = 0; r < nr; ++r) {
        const index_t i = I * kTile + r;
        for (index_t c = 0; c < nc; ++c)
          if (st.labels[J * kTile + c] == st.labels[i] && J * kTile + c != i)
            visit(r, S[r * kTile + c] * st.inv_temperature);
      }
    }
  }
  for (index_t r = 0; r < nr; ++r) {
    if (per_row) per_row[I * kTile + r] = value[r];
    st.one_minus[I * kTile + r] = om[r];
  }
}

/// Second sweep over one row tile: the gradient with respect to the unit
/// vectors of the tile's rows, d/du_i = sum_j (C_ij + C_ji) u_j / temperature,
/// where C_ij = coef_i d loss_i / d s_ij: coef_i B_i exp(s_ij - log_neg_i)
/// for a negative j (one vectorised loop in the input precision), and
/// -coef_i (1 - sigma_ij) for a positive (few; float64).
template <class T>
FASTLOSS_DISPATCH void ntxent_gradient_tile(const NtxentState<T>& st, index_t I,
                                            const double* coef, double* G) {
  const Packed<T>& p = st.packed;
  const index_t B = p.B, nr = rows_in(I, B);
  std::vector<T> S(static_cast<std::size_t>(kTile * kTile)), M(S.size());
  std::fill(G, G + kTile * p.Dp, 0.0);
  const double inv_t = static_cast<double>(st.inv_temperature);
  auto positive = [&](index_t i, double s) {
    const double ln = st.log_neg[i];
    return ln == -kInf ? 0.0 : -(coef ? coef[i] : 1.0) * std::exp(ln - log_add_exp(ln, s));
  };
  for (index_t J = 0; J < p.tiles; ++J) {
    similarity_block(p, I, J, S.data());
    const index_t nc = rows_in(J, B);
    const T* ln_j = st.log_neg_t.data() + J * kTile;
    const T* k_j = st.neg_coef_t.data() + J * kTile;
    const std::int64_t* lab_j = st.labels + J * kTile;
    for (index_t r = 0; r < kTile; ++r) {
      const index_t i = I * kTile + r;
      const T ln_i = st.log_neg_t[i], k_i = st.neg_coef_t[i];
      const std::int64_t lab_i = st.labels[i];
      const T* s = S.data() + r * kTile;
      T* m = M.data() + r * kTile;
      FASTLOSS_SIMD for (index_t c = 0; c < kTile; ++c) {
        const T sc = s[c] * st.inv_temperature;
        const T v = k_i * vmath::exp_nonpositive<T>(sc - ln_i) +
                    k_j[c] * vmath::exp_nonpositive<T>(sc - ln_j[c]);
        m[c] = r < nr && c < nc && lab_j[c] != lab_i ? v : T(0);
      }
      if (r >= nr || st.positives[i] == 0) continue;
      for (index_t c = 0; c < nc; ++c) {
        const index_t j = J * kTile + c;
        if (lab_j[c] != lab_i || j == i) continue;
        const double sc = static_cast<double>(s[c] * st.inv_temperature);
        m[c] = static_cast<T>((positive(i, sc) + positive(j, sc)) * inv_t);
      }
    }
    accumulate_block(p, J, M.data(), G);
  }
}

}  // namespace detail

/// optax's ntxent (SimCLR's NT-Xent) over embeddings x (B, D) with integer
/// group labels: u_i = x_i / max(|x_i|, sqrt(eps)) (eps = the machine epsilon
/// of T, as optax), s_ij = <u_i, u_j> / temperature; rows j != i of i's label
/// are its positives, rows of other labels its negatives, and anchor i's loss
/// sums over its positives j
///   log(exp(s_ij) + sum_{k negative} exp(s_ik)) - s_ij.
/// optax's value is the sum over anchors divided by the number of positive
/// pairs. per_row receives each anchor's sum, grad d/dx of sum_i coef_i loss_i.
template <class T>
void ntxent(const std::int64_t* labels, const T* x, index_t B, index_t D, double temperature,
            const BatchOutputs<T>& out) {
  if (B <= 0) return;
  const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
  std::vector<double> inv_norm(static_cast<std::size_t>(B)), sq(static_cast<std::size_t>(B));
  for (index_t i = 0; i < B; ++i) {
    double s = 0.0;
    for (index_t d = 0; d < D; ++d) s += static_cast<double>(x[i * D + d]) * static_cast<double>(x[i * D + d]);
    sq[i] = s;
    inv_norm[i] = 1.0 / std::sqrt(std::max(s, eps));
  }
  const detail::Packed<T> packed(x, B, D, inv_norm.data());
  std::vector<std::int64_t> labels_padded(static_cast<std::size_t>(packed.Bp), 0);
  std::copy(labels, labels + B, labels_padded.begin());
  detail::NtxentState<T> st(packed, labels_padded.data(), static_cast<T>(1.0 / temperature));
  st.log_neg.assign(static_cast<std::size_t>(B), 0.0);
  st.one_minus.assign(static_cast<std::size_t>(B), 0.0);
  st.positives = detail::same_label_counts(labels, B);
  st.pos_start.assign(static_cast<std::size_t>(B + 1), 0);
  for (index_t i = 0; i < B; ++i) st.pos_start[i + 1] = st.pos_start[i] + st.positives[i];
  st.keep = st.pos_start[B] <= kStoredPositivesPerRow * B;
  if (st.keep) st.stored.assign(static_cast<std::size_t>(st.pos_start[B]), T(0));
  detail::for_tasks(packed.tiles, [&](index_t I) { detail::ntxent_statistics_tile(st, I); });
  detail::for_tasks(packed.tiles, [&](index_t I) { detail::ntxent_positives_tile(st, I, out.per_row); });
  if (!out.grad) return;
  st.log_neg_t.assign(static_cast<std::size_t>(packed.Bp), T(0));
  st.neg_coef_t.assign(static_cast<std::size_t>(packed.Bp), T(0));
  for (index_t i = 0; i < B; ++i) {
    if (st.log_neg[i] == -detail::kInf) continue;  // no negatives: no such terms
    st.log_neg_t[i] = static_cast<T>(st.log_neg[i]);
    st.neg_coef_t[i] = static_cast<T>((out.coef ? out.coef[i] : 1.0) * st.one_minus[i] / temperature);
  }
  detail::for_tasks(packed.tiles, [&](index_t I) {
    std::vector<double> G(static_cast<std::size_t>(kTile * packed.Dp));
    detail::ntxent_gradient_tile(st, I, out.coef, G.data());
    // through the normalisation: du/dx = (1 - u u^T) / |x| (1 / sqrt(eps) when clipped)
    for (index_t r = 0; r < detail::rows_in(I, B); ++r) {
      const index_t i = I * kTile + r;
      const double* g = G.data() + r * packed.Dp;
      const double n = inv_norm[i];
      double along = 0.0;
      if (sq[i] >= eps)
        for (index_t d = 0; d < D; ++d) along += g[d] * static_cast<double>(x[i * D + d]) * n;
      for (index_t d = 0; d < D; ++d)
        out.grad[i * D + d] = static_cast<T>((g[d] - along * static_cast<double>(x[i * D + d]) * n) * n);
    }
  });
}

namespace detail {

/// The parameters of Keras's Circle and its two per-pair exponents.
struct CircleParams {
  double gamma, margin;
  bool remove_diagonal;
  /// d = max(1 - s, 0); a positive pair's exponent -gamma max(m + d, 0) (m - d).
  double positive(double d) const { return -gamma * std::max(margin + d, 0.0) * (margin - d); }
  /// a negative pair's exponent gamma max(1 + m - d, 0) (1 - m - d).
  double negative(double d) const {
    return gamma * std::max(1.0 + margin - d, 0.0) * (1.0 - margin - d);
  }
};

template <class T>
struct CircleState {
  CircleState(const Packed<T>& p, const std::int64_t* padded_labels, CircleParams params)
      : packed(p), labels(padded_labels), prm(params) {}
  const Packed<T>& packed;
  const std::int64_t* labels;  // (Bp,) padded, so that a tile reads within
  CircleParams prm;
  std::vector<double> lse_pos, lse_neg, coef;  // (B,) each
  // for the gradient sweep, (Bp,): 0 beyond B and for -inf (a row without
  // positives or negatives, whose coefficient is 0)
  std::vector<double> lse_pos_p, lse_neg_p, coef_p;
};

template <class T>
FASTLOSS_INLINE bool circle_positive(const CircleState<T>& st, index_t i, index_t j) {
  return st.labels[i] == st.labels[j] && (i != j || !st.prm.remove_diagonal);
}

template <class T>
FASTLOSS_DISPATCH void circle_statistics_tile(CircleState<T>& st, index_t I) {
  const Packed<T>& p = st.packed;
  const index_t B = p.B, nr = rows_in(I, B);
  std::vector<T> S(static_cast<std::size_t>(kTile * kTile));
  double pos[kTile], neg[kTile];
  RunningLse lp[kTile], ln[kTile];
  for (index_t J = 0; J < p.tiles; ++J) {
    similarity_block(p, I, J, S.data());
    const index_t nc = rows_in(J, B);
    for (index_t r = 0; r < nr; ++r) {
      const index_t i = I * kTile + r;
      for (index_t c = 0; c < kTile; ++c) {
        const index_t j = J * kTile + c;
        const double d = std::max(1.0 - static_cast<double>(S[r * kTile + c]), 0.0);
        const bool is_pos = c < nc && circle_positive(st, i, j);
        const bool is_neg = c < nc && st.labels[i] != st.labels[j];
        pos[c] = is_pos ? st.prm.positive(d) : -kInf;
        neg[c] = is_neg ? st.prm.negative(d) : -kInf;
      }
      lp[r].add(pos);
      ln[r].add(neg);
    }
  }
  for (index_t r = 0; r < nr; ++r) {
    st.lse_pos[I * kTile + r] = lp[r].value();
    st.lse_neg[I * kTile + r] = ln[r].value();
  }
}

/// Second sweep over one row tile: d/dx_i = sum_j (C_ij + C_ji) x_j with
/// C_ij = coef_i d loss_i / d s_ij, one vectorised loop per row of a block,
/// in float64: the exponents reach gamma (1 + m)^2 (157 by default), where a
/// float32 rounding would cost the derivatives 1e-5 of their size. A pair is
/// a positive or a negative of both its rows, so both terms share the pair's
/// exponent and slope.
template <class T>
FASTLOSS_DISPATCH void circle_gradient_tile(const CircleState<T>& st, index_t I, double* G) {
  const Packed<T>& p = st.packed;
  const index_t B = p.B, nr = rows_in(I, B);
  std::vector<T> S(static_cast<std::size_t>(kTile * kTile)), M(S.size());
  std::fill(G, G + kTile * p.Dp, 0.0);
  const double gamma = st.prm.gamma, m = st.prm.margin, two_gamma = 2 * st.prm.gamma;
  const bool keep_diagonal = !st.prm.remove_diagonal;
  for (index_t J = 0; J < p.tiles; ++J) {
    similarity_block(p, I, J, S.data());
    const index_t nc = rows_in(J, B);
    const double* lp_j = st.lse_pos_p.data() + J * kTile;
    const double* ln_j = st.lse_neg_p.data() + J * kTile;
    const double* k_j = st.coef_p.data() + J * kTile;
    const std::int64_t* lab_j = st.labels + J * kTile;
    for (index_t r = 0; r < kTile; ++r) {
      const index_t i = I * kTile + r;
      const double lp_i = st.lse_pos_p[i], ln_i = st.lse_neg_p[i], k_i = st.coef_p[i];
      const std::int64_t lab_i = st.labels[i];
      const T* s = S.data() + r * kTile;
      T* out = M.data() + r * kTile;
      if (r >= nr) {
        std::fill(out, out + kTile, T(0));
        continue;
      }
      const index_t self = i - J * kTile;  // the diagonal's column, when in this tile
      FASTLOSS_SIMD for (index_t c = 0; c < kTile; ++c) {
        const bool same = lab_j[c] == lab_i;
        const bool pair = (c < nc) & (!same | keep_diagonal | (c != self));
        // d = max(1 - s, 0); beyond s = 1 the loss is flat in s
        const double sc = static_cast<double>(s[c]);
        const double d = sc < 1.0 ? 1.0 - sc : 0.0;
        const double wp = m + d > 0.0 ? m + d : 0.0, wn = 1.0 + m - d > 0.0 ? 1.0 + m - d : 0.0;
        const double expo = same ? -gamma * wp * (m - d) : gamma * wn * (1.0 - m - d);
        const double slope = same ? (m + d > 0.0 ? two_gamma * d : 0.0)
                                  : (1.0 + m - d > 0.0 ? -two_gamma * (1.0 - d) : 0.0);
        // every exponent of a pair is at most its rows' log-sum-exp (masked lanes aside)
        const double weight =
            k_i * vmath::exp_nonpositive<double>(expo - (same ? lp_i : ln_i)) +
            k_j[c] * vmath::exp_nonpositive<double>(expo - (same ? lp_j[c] : ln_j[c]));
        out[c] = static_cast<T>(pair & (sc < 1.0) ? -weight * slope : 0.0);
      }
    }
    accumulate_block(p, J, M.data(), G);
  }
}

}  // namespace detail

/// Keras 3's Circle loss (Sun et al. 2020) over embeddings x (B, D), which
/// Keras expects L2-normalised and does not normalise: s_ij = <x_i, x_j>,
/// d_ij = max(1 - s_ij, 0), positives j of i's label (j != i when
/// remove_diagonal), negatives of another label, and
///   loss_i = softplus(logsumexp_pos(-gamma max(m + d, 0)(m - d))
///                     + logsumexp_neg(gamma max(1 + m - d, 0)(1 - m - d))),
/// 0 for a row without a positive or a negative. Keras lets the gradient flow
/// through the weights max(., 0) too, and so does this kernel.
template <class T>
void circle(const std::int64_t* labels, const T* x, index_t B, index_t D, double gamma,
            double margin, bool remove_diagonal, const BatchOutputs<T>& out) {
  if (B <= 0) return;
  const detail::Packed<T> packed(x, B, D, nullptr);
  std::vector<std::int64_t> labels_padded(static_cast<std::size_t>(packed.Bp), 0);
  std::copy(labels, labels + B, labels_padded.begin());
  detail::CircleState<T> st(packed, labels_padded.data(), {gamma, margin, remove_diagonal});
  st.lse_pos.assign(static_cast<std::size_t>(B), 0.0);
  st.lse_neg.assign(static_cast<std::size_t>(B), 0.0);
  detail::for_tasks(packed.tiles, [&](index_t I) { detail::circle_statistics_tile(st, I); });
  st.coef.assign(static_cast<std::size_t>(B), 0.0);
  for (index_t i = 0; i < B; ++i) {
    const double z = st.lse_pos[i] + st.lse_neg[i];
    if (out.per_row) out.per_row[i] = z == -detail::kInf ? 0.0 : detail::softplus(z);
    st.coef[i] = z == -detail::kInf ? 0.0 : (out.coef ? out.coef[i] : 1.0) * detail::sigmoid(z);
  }
  if (!out.grad) return;
  auto finite_or_zero = [](double v) { return v == -detail::kInf ? 0.0 : v; };
  st.lse_pos_p.assign(static_cast<std::size_t>(packed.Bp), 0.0);
  st.lse_neg_p.assign(static_cast<std::size_t>(packed.Bp), 0.0);
  st.coef_p.assign(static_cast<std::size_t>(packed.Bp), 0.0);
  for (index_t i = 0; i < B; ++i) {
    st.lse_pos_p[i] = finite_or_zero(st.lse_pos[i]);
    st.lse_neg_p[i] = finite_or_zero(st.lse_neg[i]);
    st.coef_p[i] = st.coef[i];
  }
  detail::for_tasks(packed.tiles, [&](index_t I) {
    std::vector<double> G(static_cast<std::size_t>(kTile * packed.Dp));
    detail::circle_gradient_tile(st, I, G.data());
    for (index_t r = 0; r < detail::rows_in(I, B); ++r)
      for (index_t d = 0; d < D; ++d)
        out.grad[(I * kTile + r) * D + d] = static_cast<T>(G[r * packed.Dp + d]);
  });
}

}  // namespace embedding

}  // namespace fastloss

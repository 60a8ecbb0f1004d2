// The only loops over samples of the class-axis losses (softmax cross-entropy,
// KL divergence, cosine similarity, ...): threads, the per-sample weighting and
// the deterministic reduction live here; the loss structs in
// losses/classaxis.hpp hold the math of one row.
//
// Data model. As in driver.hpp an input is viewed as (outer, axis, inner) with
// element strides; here `axis` is the class (feature) axis that the loss
// reduces over, and a *row* is the `axis`-long strided run of one sample
// (o, i). Samples are numbered s = o * inner + i, which is also their index in
// the per-sample arrays (weights, labels, upstream gradient, per-sample
// losses). A middle class axis (inner > 1) is never transposed as a whole:
// blocks of adjacent samples are gathered into a small per-thread buffer
// (kGatherElements), evaluated there and their gradient scattered back;
// beyond that size rows are read in place with stride `inner`.
//
// Determinism. Samples are cut into tiles of a fixed number of rows that
// depends only on the shape; each row is evaluated by one thread in a fixed
// order, each tile sums its weighted per-sample losses in double in sample
// order, and tile partials are added in tile order. Any thread count gives
// bitwise identical values and gradients.
//
// Memory. A row is processed in place: the loss structs make at most a few
// sweeps over it (max, then exp-sum, then scale for softmax losses) and keep
// only O(1) scalars, so any class count works with O(1) extra memory per
// thread (the gather buffers are bounded by kGatherElements).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "driver.hpp"
#include "vmath.hpp"

namespace fastloss {

/// One call of a class-axis loss: the common Problem (driver.hpp), whose
/// `shape.axis` is the classes. Dense-target losses read `y_true`; label
/// losses read `labels` (one class id per sample, negative: the row is
/// ignored); losses of y_pred alone (Entropy) read neither.
template <class T>
struct RowsProblem : Problem<T> {
  const std::int64_t* labels = nullptr;  // [outer*inner], contiguous
};

/// What a class-axis loss reads besides y_pred.
enum class RowInput { Dense, Labels, None };

namespace detail {

/// A strided run of elements; kUnit fixes the stride to 1 at compile time so
/// that contiguous rows compile to vector loops.
template <class E, bool kUnit>
struct RowRun {
  E* data = nullptr;
  index_t stride = 1;
  E& operator[](index_t k) const {
    if constexpr (kUnit) {
      return data[k];
    } else {
      return data[k * stride];
    }
  }
};

/// One row as a loss struct sees it. `grad`/`hess` are written by the struct
/// (every element, coef times the derivative) when the work mask asks for
/// them; `pred` may alias `grad` (in-place), so a struct reads element k of
/// `pred` before it writes element k of `grad` and never reads `pred` after
/// its first write to `grad`.
template <class T, bool kUnit>
struct RowView {
  index_t size = 0;                     // number of classes, >= 1
  RowRun<const T, kUnit> pred, target;  // target.data == nullptr unless RowInput::Dense
  std::int64_t label = -1;              // RowInput::Labels: the class id, < 0 ignored
  RowRun<T, kUnit> grad, hess;
  T coef = T(0);  // weight * upstream gradient / divisor of this sample
  // Rows read in place with unit stride: where the next sample's y_pred and
  // gradient rows start, for the softmax sweeps to prefetch (see
  // for_wide_lanes). Null otherwise, or when the rows are too long for two of
  // them to stay in L1 together.
  const T* next_pred = nullptr;
  T* next_grad = nullptr;
};

/// Double accumulators (kLanes by default) added in a fixed tree order:
/// deterministic, and wide enough for the compiler to keep a vector register
/// busy.
template <int L = kLanes>
struct LaneSumN {
  static_assert(L == 8 || L == 16, "lane counts are 8 or 16");
  double lane[L] = {};
  void add(int l, double x) { lane[l] += x; }
  double total() const {
    double half[8];
    for (int l = 0; l < 8; ++l) half[l] = L == 16 ? lane[l] + lane[l + 8] : lane[l];
    return ((half[0] + half[1]) + (half[2] + half[3])) +
           ((half[4] + half[5]) + (half[6] + half[7]));
  }
};
using LaneSum = LaneSumN<>;

/// Float lanes of the softmax sweeps of the hottest rows (sparse
/// cross-entropy): sixteen, one AVX-512 register, two AVX2 ones. Fixed, not
/// taken from the instruction set, so that every clone sums in one order.
inline constexpr int kWideLanes = 16;

/// Does nothing: the default block hook of for_lanes.
struct NoBlockHook {
  FASTLOSS_INLINE void operator()(index_t) const {}
};

/// Runs body(k, lane) for k in [0, n), lanes assigned round-robin in blocks of
/// L (the same assignment for every call: sums are reproducible); at_block(k)
/// runs before each whole block [k, k + L).
template <int L = kLanes, class Body, class Hook = NoBlockHook>
FASTLOSS_INLINE void for_lanes(index_t n, const Body& body, const Hook& at_block = {}) {
  index_t k = 0;
  for (; k + L <= n; k += L) {
    at_block(k);
    for (int l = 0; l < L; ++l) body(k + l, l);
  }
  for (int l = 0; k + l < n; ++l) body(k + l, l);
}

/// Rows of at most this many bytes carry RowView::next_pred / next_grad: this
/// row and the next, y_pred and gradient, fit in a 32 KiB L1 together.
inline constexpr index_t kPrefetchRowBytes = 8192;

/// for_lanes<kWideLanes> over row r, the long compute sweep of a softmax
/// (exponentials): once per block it also prefetches the same block of the
/// next row (RowView::next_pred, and next_grad when W writes a gradient), so
/// that the next row's cache misses overlap this row's arithmetic instead of
/// stalling its first sweep. Without a next row it is plain for_lanes.
template <unsigned W, class T, bool U, class Body>
FASTLOSS_INLINE void for_wide_lanes(const RowView<T, U>& r, const Body& body) {
  constexpr int L = kWideLanes;
  if constexpr (U) {
    if (r.next_pred != nullptr) {
      for_lanes<L>(r.size, body, [&](index_t k) FASTLOSS_LAMBDA_INLINE {
        for (std::size_t b = 0; b < L * sizeof(T); b += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(r.next_pred + k) + b, 0, 3);
          if constexpr ((W & kGrad) != 0) {
            __builtin_prefetch(reinterpret_cast<const char*>(r.next_grad + k) + b, 1, 3);
          }
        }
      });
      return;
    }
  }
  for_lanes<L>(r.size, body);
}

/// The exp-sum sweep of a softmax row with unit target weight: sum gets
/// e_k = e^(z_k - m) in lane k mod kWideLanes, and e_k is written to
/// r.grad[k] when W asks for a gradient (the later write sweep rescales it).
/// (Tried and dropped: the last r.size % kWideLanes elements as one more
/// block padded with -inf, in vector registers, the same sums bit for bit:
/// rows of 10 classes ran about 30% slower (process CPU time, one thread;
/// the compiled tail added its lanes through the stack), and 1000-class
/// rows no faster.)
template <unsigned W, class T, bool U>
FASTLOSS_INLINE void softmax_exp_sum(const RowView<T, U>& r, T m, LaneSumN<kWideLanes>& sum) {
  for_wide_lanes<W>(r, [&](index_t k, int l) FASTLOSS_LAMBDA_INLINE {
    const T e = vmath::exp_nonpositive(r.pred[k] - m);  // z - max z <= 0, or NaN
    sum.add(l, static_cast<double>(e));
    if constexpr ((W & kGrad) != 0) r.grad[k] = e;
  });
}

template <class Loss, class = void>
struct has_validate : std::false_type {};
template <class Loss>
struct has_validate<Loss, std::void_t<decltype(std::declval<const Loss&>().validate(index_t{}))>>
    : std::true_type {};

/// A loss whose Hessian depends on its parameters (MultiMargin: p = 2 has one,
/// p = 1 is piecewise linear) says so per instance with hessian_defined();
/// the others have one exactly when kHasHessian.
template <class Loss, class = void>
struct has_hessian_defined : std::false_type {};
template <class Loss>
struct has_hessian_defined<
    Loss, std::void_t<decltype(std::declval<const Loss&>().hessian_defined())>>
    : std::true_type {};

template <class Loss>
bool hessian_defined(const Loss& loss) {
  if constexpr (has_hessian_defined<Loss>::value) {
    return Loss::kHasHessian && loss.hessian_defined();
  } else {
    (void)loss;
    return Loss::kHasHessian;
  }
}

/// Rows per tile: about kTileElements elements, at least one row.
inline index_t rows_per_tile(index_t classes) {
  return std::max<index_t>(1, kTileElements / std::max<index_t>(classes, 1));
}

/// Class axes up to this size that are not the last axis are gathered: a
/// block of up to kGatherElements / C adjacent samples is copied into a
/// per-thread row-major buffer (reading C runs of adjacent elements), the rows
/// are evaluated there, and the gradient is scattered back. Reading the rows
/// in place would touch one cache line per element per sweep, and strides of
/// a multiple of 4 KiB make every element of a row collide in one L1 set.
inline constexpr index_t kGatherElements = 4096;

/// Per-thread, grow-only buffers for gathered blocks (0: y_pred and the
/// gradient in place, 1: y_true, 2: the Hessian).
template <class T>
inline T* gather_buffer(int which, index_t n) {
  static thread_local std::vector<T> buffers[3];
  std::vector<T>& b = buffers[which];
  if (static_cast<index_t>(b.size()) < n) b.resize(static_cast<std::size_t>(n));
  return b.data();
}

/// Adds sample's weighted loss v to tile_sum (in sample order) and stores it
/// as its per-sample loss when asked.
template <unsigned W, class T>
FASTLOSS_INLINE void account_row(const RowsProblem<T>& pr, index_t sample, double v,
                                 double& tile_sum) {
  if constexpr ((W & kValue) != 0) {
    const double weighted =
        pr.sample_weight ? static_cast<double>(pr.sample_weight[sample]) * v : v;
    if (pr.per_sample) pr.per_sample[sample] = static_cast<T>(weighted);
    tile_sum += weighted;
  } else {
    (void)pr, (void)sample, (void)v, (void)tile_sum;
  }
}

/// Per-thread buffers of a tile (see gather_buffer): a gathered block of
/// rows, or one strided row.
template <class T>
struct GatherBuffers {
  T *pred, *target, *hess;
};

/// How a tile reaches its rows: in place with unit stride along the classes;
/// a block of adjacent samples of a middle class axis gathered into
/// row-major buffers; or one strided row at a time copied into a buffer.
enum class RowAccess { Unit = 0, Gathered = 1, Strided = 2 };

/// Rows [s0, s1): the weighted sum of their per-sample losses, in sample
/// order. Every access mode hands the loss struct a unit-stride row (in place,
/// or in a buffer whose gradient is scattered back afterwards), so each pass
/// of a loss compiles its row math once, at one call site.
template <unsigned W, class Loss, class T>
FASTLOSS_INLINE double rows_body(const Loss& loss, const RowsProblem<T>& pr, double grad_base,
                                 index_t s0, index_t s1, RowAccess access,
                                 GatherBuffers<T> buf) {
  const index_t C = pr.shape.axis, inner = pr.shape.inner, n_samples = pr.shape.samples();
  const bool gathered = access == RowAccess::Gathered, strided = access == RowAccess::Strided;
  const bool prefetch =
      access == RowAccess::Unit && C * static_cast<index_t>(sizeof(T)) <= kPrefetchRowBytes;
  const index_t block = gathered ? std::max<index_t>(1, kGatherElements / C) : 1;
  // Copies the (o, c, i0 .. i0+nb) runs of v into / out of a row-major block.
  auto gather = [&](const View3<const T>& v, T* dst, index_t o, index_t i0, index_t nb) {
    for (index_t c = 0; c < C; ++c) {
      const T* src = v.row(o, c, i0);
      const index_t st = v.stride[2];
      for (index_t b = 0; b < nb; ++b) dst[b * C + c] = src[b * st];
    }
  };
  auto scatter = [&](const View3<T>& v, const T* src, index_t o, index_t i0, index_t nb) {
    for (index_t c = 0; c < C; ++c) {
      T* dst = v.row(o, c, i0);
      const index_t st = v.stride[2];
      for (index_t b = 0; b < nb; ++b) dst[b * st] = src[b * C + c];
    }
  };
  // one strided row (o, ., i) into / out of a buffer
  auto copy_in = [&](const View3<const T>& v, T* dst, index_t o, index_t i) {
    const T* src = v.row(o, 0, i);
    const index_t st = v.stride[1];
    for (index_t c = 0; c < C; ++c) dst[c] = src[c * st];
  };
  auto copy_out = [&](const View3<T>& v, const T* src, index_t o, index_t i) {
    T* dst = v.row(o, 0, i);
    const index_t st = v.stride[1];
    for (index_t c = 0; c < C; ++c) dst[c * st] = src[c];
  };
  double tile_sum = 0.0;
  // (o, i) of sample s; inner == 1 (a last class axis) skips the two 64-bit
  // integer divisions per row (four with the prefetch of the next row), a
  // cost of the per-row work that short rows feel
  auto split = [inner](index_t s) FASTLOSS_LAMBDA_INLINE {
    return inner == 1 ? std::pair<index_t, index_t>{s, 0}
                      : std::pair<index_t, index_t>{s / inner, s % inner};
  };
  for (index_t sample = s0; sample < s1;) {
    const auto [o, i0] = split(sample);
    const index_t nb = gathered ? std::min({block, s1 - sample, inner - i0}) : 1;
    if (gathered) {
      gather(pr.y_pred, buf.pred, o, i0, nb);
      if (buf.target) gather(pr.y_true, buf.target, o, i0, nb);
    }
    for (index_t b = 0; b < nb; ++b) {
      const index_t i = i0 + b, sm = sample + b;
      RowView<T, true> r;
      r.size = C;
      if (access == RowAccess::Unit) {
        r.pred = {pr.y_pred.row(o, 0, i), 1};
        if (pr.y_true.data) r.target = {pr.y_true.row(o, 0, i), 1};
        if constexpr ((W & kGrad) != 0) r.grad = {pr.grad.row(o, 0, i), 1};
        if constexpr ((W & kHess) != 0) r.hess = {pr.hess.row(o, 0, i), 1};
        if (prefetch && sm + 1 < n_samples) {
          const auto [on, in] = split(sm + 1);
          r.next_pred = pr.y_pred.row(on, 0, in);
          if constexpr ((W & kGrad) != 0) r.next_grad = pr.grad.row(on, 0, in);
        }
      } else {
        T* pred = buf.pred + (gathered ? b * C : 0);
        if (strided) copy_in(pr.y_pred, pred, o, i);
        r.pred = {pred, 1};
        if (buf.target) {
          T* target = buf.target + (gathered ? b * C : 0);
          if (strided) copy_in(pr.y_true, target, o, i);
          r.target = {target, 1};
        }
        if constexpr ((W & kGrad) != 0) r.grad = {pred, 1};  // in place in the buffer
        if constexpr ((W & kHess) != 0) r.hess = {buf.hess + (gathered ? b * C : 0), 1};
      }
      if (pr.labels) {
        // Read once and checked where it is used: evaluate_rows checked every
        // label before the run, but a caller's thread may rewrite the buffer
        // during it. A label outside [0, C) then counts as ignored; it never
        // indexes outside the row or the class weights.
        const std::int64_t label = pr.labels[sm];
        r.label = label < static_cast<std::int64_t>(C) ? label : std::int64_t(-1);
      }
      if constexpr ((W & (kGrad | kHess)) != 0) r.coef = coef_of(pr, grad_base, sm);
      account_row<W>(pr, sm, loss.template row<W>(r), tile_sum);
      if (strided) {
        if constexpr ((W & kGrad) != 0) copy_out(pr.grad, buf.pred, o, i);
        if constexpr ((W & kHess) != 0) copy_out(pr.hess, buf.hess, o, i);
      }
    }
    if (gathered) {
      if constexpr ((W & kGrad) != 0) scatter(pr.grad, buf.pred, o, i0, nb);
      if constexpr ((W & kHess) != 0) scatter(pr.hess, buf.hess, o, i0, nb);
    }
    sample += nb;
  }
  return tile_sum;
}

/// Row tiles are compiled once per instruction set (FASTLOSS_TILE; I names
/// the kernel table's level, see isa.hpp and driver.hpp).
template <int I, unsigned W, class Loss, class T>
FASTLOSS_TILE double rows_dispatched(const Loss& loss, const RowsProblem<T>& pr,
                                     double grad_base, index_t s0, index_t s1, RowAccess access,
                                     GatherBuffers<T> buf) {
  return with_fma_known([&]() FASTLOSS_LAMBDA_INLINE {
    return rows_body<W>(loss, pr, grad_base, s0, s1, access, buf);
  });
}

/// The tiles of one class-axis loss in one precision for one instruction
/// set, per pass (see driver.hpp's Pass); null where there is no Hessian.
template <class Loss, class T>
struct RowsTiles {
  using Tile = double (*)(const Loss&, const RowsProblem<T>&, double, index_t, index_t,
                          RowAccess, GatherBuffers<T>);
  Tile tile[kPasses];
};

template <int I, int P, class Loss, class T>
constexpr typename RowsTiles<Loss, T>::Tile row_tile() {
  if constexpr (P == kPassGradHess && !Loss::kHasHessian) {
    return nullptr;
  } else {
    return &rows_dispatched<I, kWorkOf<P>, Loss, T>;
  }
}

template <int I, class Loss, class T>
const RowsTiles<Loss, T>& rows_tiles() {
  static constexpr RowsTiles<Loss, T> table = {
      {row_tile<I, 0, Loss, T>(), row_tile<I, 1, Loss, T>(), row_tile<I, 2, Loss, T>(),
       row_tile<I, 3, Loss, T>()}};
  return table;
}

template <class Loss, class T>
const RowsTiles<Loss, T>& pick_rows_tiles() {
  return at_isa_level([](auto level) -> const RowsTiles<Loss, T>& {
    return rows_tiles<decltype(level)::value, Loss, T>();
  });
}

/// The tiled pass `pass` over all rows. Returns Σ_samples weight * per-sample loss.
template <class Loss, class T>
double run_rows(const RowsTiles<Loss, T>& tiles, const Loss& loss, const RowsProblem<T>& pr,
                double grad_base, int pass) {
  const Shape3 s = pr.shape;
  const index_t C = s.axis, n_samples = s.samples();
  if (n_samples == 0) return 0.0;
  if (C == 0) {
    // No classes: every per-sample loss is an empty sum, and there is no
    // gradient element to write.
    if ((pass == kPassValue || pass == kPassValueGrad) && pr.per_sample)
      std::fill_n(pr.per_sample, n_samples, T(0));
    return 0.0;
  }
  const bool grad = pass != kPassValue, hess = pass == kPassGradHess;
  RowAccess access;
  if (s.inner > 1 && 2 * C <= kGatherElements) {
    access = RowAccess::Gathered;
  } else {
    const bool unit = pr.y_pred.stride[1] == 1 && (!pr.y_true.data || pr.y_true.stride[1] == 1) &&
                      (!grad || pr.grad.stride[1] == 1) && (!hess || pr.hess.stride[1] == 1);
    access = unit ? RowAccess::Unit : RowAccess::Strided;
  }
  const auto tile = tiles.tile[pass];
  const index_t per_tile = rows_per_tile(C);
  const index_t n_tiles = (n_samples + per_tile - 1) / per_tile;
  std::vector<double>& partial = scratch();
  if (static_cast<index_t>(partial.size()) < n_tiles) partial.resize(n_tiles);
  double* part = partial.data();
  parallel_tiles(n_tiles, threads_for(n_tiles), [&](index_t t) {
    const index_t s0 = t * per_tile, s1 = std::min(n_samples, s0 + per_tile);
    GatherBuffers<T> buf{nullptr, nullptr, nullptr};
    if (access != RowAccess::Unit) {
      const index_t n =
          access == RowAccess::Gathered ? std::max<index_t>(1, kGatherElements / C) * C : C;
      buf.pred = gather_buffer<T>(0, n);
      buf.target = pr.y_true.data ? gather_buffer<T>(1, n) : nullptr;
      buf.hess = hess ? gather_buffer<T>(2, n) : nullptr;
    }
    part[t] = tile(loss, pr, grad_base, s0, s1, access, buf);
  });
  double total = 0.0;
  for (index_t t = 0; t < n_tiles; ++t) total += part[t];
  return total;
}

}  // namespace detail

/// Evaluates one class-axis loss: per-sample losses reduced over the class
/// axis, weighted, reduced as Keras 3 does; the gradient of that (times the
/// upstream gradient); or, with `per_element`, the gradient and Hessian
/// diagonal of each per-sample loss times its weight.
template <class Loss, class T>
ElementwiseResult evaluate_rows(const Loss& loss, const RowsProblem<T>& pr) {
  using namespace detail;
  const Shape3 s = pr.shape;
  if (s.outer < 0 || s.axis < 0 || s.inner < 0) throw std::invalid_argument("negative extent");
  if (pr.hess.data && !pr.per_element)
    throw std::invalid_argument("the Hessian is only computed per element");
  if constexpr (Loss::kInput == RowInput::Dense) {
    if (!pr.y_true.data && s.samples() > 0 && s.axis > 0)
      throw std::invalid_argument(std::string(Loss::kName) + ": y_true is required");
  } else if constexpr (Loss::kInput == RowInput::Labels) {
    if (!pr.labels && s.samples() > 0)
      throw std::invalid_argument(std::string(Loss::kName) + ": labels are required");
    if (pr.labels) {
      for (index_t k = 0, n = s.samples(); k < n; ++k) {
        if (pr.labels[k] >= s.axis) {
          throw std::out_of_range(std::string(Loss::kName) + ": label " +
                                  std::to_string(pr.labels[k]) + " at sample " +
                                  std::to_string(k) + " is outside [0, " +
                                  std::to_string(s.axis) + ")");
        }
      }
    }
  }
  if constexpr (has_validate<Loss>::value) loss.validate(s.axis);
  if constexpr (has_hessian_defined<Loss>::value) {
    if (pr.hess.data && !hessian_defined(loss))
      throw std::invalid_argument(std::string(Loss::kName) + ": no Hessian with these "
                                  "parameters: " + Loss::kInfo.no_hessian);
  }
  const auto& tiles = pick_rows_tiles<Loss, T>();
  return run_and_reduce<Loss::kHasHessian>(
      pr, s.samples(), Loss::kName, [&](const RowsProblem<T>& q, int pass, double grad_base) {
        return run_rows(tiles, loss, q, grad_base, pass);
      });
}

}  // namespace fastloss

// The only loops of the elementwise losses: threads, SIMD-friendly bodies,
// tails and the deterministic reduction all live here; the loss structs hold
// nothing but per-element math.
//
// Data model. An input of any rank is viewed as three axes (outer, axis,
// inner): `axis` is the one the per-sample mean runs over (Keras's axis=-1
// gives inner == 1), outer and inner are the per-sample ("batch") axes. Each
// axis has an element stride, so strided and broadcast (stride 0) inputs are
// read in place.
//
// Determinism. Work is cut into tiles whose boundaries depend only on the
// shape, never on the thread count. Each tile accumulates in double, in a
// fixed lane order, and tile partials are added in tile order, so any thread
// count gives bitwise identical results.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "isa.hpp"
#include "threads.hpp"

namespace fastloss {

using index_t = std::ptrdiff_t;

/// Keras 3 reductions. `MeanWithSampleWeight` divides by the sum of the
/// weights (by the number of samples when there are none); Keras's "mean" is
/// `SumOverBatchSize`.
enum class Reduction { None, Sum, SumOverBatchSize, MeanWithSampleWeight };

/// Extents of the (outer, axis, inner) view.
struct Shape3 {
  index_t outer = 1, axis = 1, inner = 1;
  index_t samples() const { return outer * inner; }
  index_t elements() const { return outer * axis * inner; }
};

/// A strided 3-D view; strides are in elements and may be 0 (broadcast).
template <class T>
struct View3 {
  T* data = nullptr;
  index_t stride[3] = {0, 0, 0};
  T& at(index_t o, index_t d, index_t i) const {
    return data[o * stride[0] + d * stride[1] + i * stride[2]];
  }
  // pointer arithmetic, not &at(): a view with no elements may hold null data
  T* row(index_t o, index_t d, index_t i) const {
    return data + (o * stride[0] + d * stride[1] + i * stride[2]);
  }
};

/// Contiguous 3-D view of a C-ordered (outer, axis, inner) block.
template <class T>
View3<T> contiguous_view(T* data, const Shape3& s) {
  View3<T> v;
  v.data = data;
  v.stride[0] = s.axis * s.inner;
  v.stride[1] = s.inner;
  v.stride[2] = 1;
  return v;
}

/// One call of a loss kernel, elementwise or class-axis: the shape, the
/// inputs, Keras's weighting and reduction, and the outputs. Null output
/// pointers switch work off: `per_sample` (weighted per-sample losses,
/// reduction "none"), `grad`, `hess`. A class-axis call (RowsProblem,
/// rows.hpp) adds its labels.
template <class T>
struct Problem {
  Shape3 shape;                      // (outer, axis, inner): axis is the mean's or the classes'
  View3<const T> y_true, y_pred;
  const T* sample_weight = nullptr;  // per-sample weights, contiguous [outer*inner]
  const T* grad_output = nullptr;    // per-sample upstream gradient (reduction none)
  double grad_output_scalar = 1.0;   // scalar upstream gradient
  Reduction reduction = Reduction::SumOverBatchSize;
  bool explicit_divisor = false;     // use `divisor` instead of the reduction's own rule
  double divisor = 1.0;
  bool want_value = true;            // compute the reduced value / per-sample losses
  T* per_sample = nullptr;           // out [outer*inner], reduction None only
  View3<T> grad;                     // out, same shape as y_pred, or data == nullptr
  View3<T> hess;                     // out (gradient_hessian only) or data == nullptr
  bool per_element = false;          // gradient_hessian: unreduced per element, times weight
};

/// An elementwise loss reads exactly the common fields.
template <class T>
using ElementwiseProblem = Problem<T>;

namespace detail {

/// Elements per tile: large enough to amortise scheduling, small enough that
/// 10^5-element inputs already split across two threads.
inline constexpr index_t kTileElements = 8192;
/// Below this many elements a call keeps the GIL (the small-call fast path
/// takes about a microsecond; releasing it would cost more than it frees).
inline constexpr index_t kParallelThreshold = 32768;
/// Independent double accumulators per row segment (fixed order: deterministic,
/// and wide enough for the compiler to keep a vector register busy).
inline constexpr int kLanes = 8;
/// Widest block of the inner axis processed at once when inner > 1.
inline constexpr index_t kInnerBlock = 512;

/// Per-thread scratch that only grows: no allocation per call once warm.
inline std::vector<double>& scratch() {
  static thread_local std::vector<double> buffer;
  return buffer;
}

/// Runs body(t) for t in [0, tiles) on up to `threads` threads (threads.hpp).
template <class Body>
void parallel_tiles(index_t tiles, int threads, const Body& body) {
  parallel_for(tiles, threads, body);
}

/// Which per-element results a kernel produces.
enum Work : unsigned { kValue = 1, kGrad = 2, kHess = 4 };

/// Elements mapped per chunk before their values are summed: small enough
/// for a stack buffer in L1, a multiple of kLanes so lanes stay aligned to the
/// element index.
inline constexpr index_t kChunk = 256;
/// A short run (a tail, a small call) is mapped to the next multiple of this,
/// not to a whole chunk: a multiple of every vector width, so the map's loop
/// still has no scalar remainder, and a 64-element call computes 64 losses,
/// not 256.
inline constexpr index_t kMapStep = 16;

FASTLOSS_INLINE constexpr index_t mapped_length(index_t m) {
  return (m + kMapStep - 1) / kMapStep * kMapStep;
}

/// Adds vals[0..m) into acc with element k going to lane k % kLanes.
template <class T>
FASTLOSS_INLINE void add_lanes(double* acc, const T* vals, index_t m) {
  index_t k = 0;
  for (; k + kLanes <= m; k += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) acc[lane] += static_cast<double>(vals[k + lane]);
  for (int lane = 0; k + lane < m; ++lane) acc[lane] += static_cast<double>(vals[k + lane]);
}

template <class Loss, class = void>
struct scans_binary_labels : std::false_type {};
template <class Loss>
struct scans_binary_labels<Loss, std::void_t<decltype(Loss::kConvertsBinaryLabels)>>
    : std::bool_constant<Loss::kConvertsBinaryLabels> {};

/// A loss may hand the driver a copy of itself specialised on a parameter
/// (`template <class F> auto specialize(F f) const` calling f with the copy),
/// so that the loops compile once per value and a per-element select on that
/// parameter does not stop them vectorising (the focal losses' gamma).
template <class Loss, class = void>
struct specializes : std::false_type {};
template <class Loss>
struct specializes<Loss, std::void_t<decltype(Loss::kSpecializes)>>
    : std::bool_constant<Loss::kSpecializes> {};

/// Calls f with the loss, or with the copy of it that the loss specialises
/// on a parameter (see `specializes`), so that per-element selects on that
/// parameter do not stop the loop vectorising.
template <class Loss, class F>
FASTLOSS_INLINE void with_variant(const Loss& loss, const F& f) {
  if constexpr (specializes<Loss>::value) {
    loss.specialize([&](const auto& fixed) FASTLOSS_LAMBDA_INLINE { f(fixed); });
  } else {
    f(loss);
  }
}

/// The loss math of one chunk: m <= kChunk contiguous elements of t and p
/// (mapped_length(m) of them are read: load_chunk pads a short run).
/// Writes the values to vals (kValue), coef times the gradient to g (kGrad,
/// kHess) and coef times the Hessian to h (kHess); g may be p itself (in
/// place: element k is read before it is written). This is the only loop over
/// a loss's math, instantiated once per pass, precision and instruction set,
/// and every layout runs through it (strided inputs copied into contiguous
/// chunk buffers): a trip count that is a multiple of every vector width
/// (kChunk, or a short run's mapped_length: vector loops, no peeling or scalar
/// tail). A short run is padded by load_chunk and written back from buffers.
/// Every element takes the same arithmetic wherever it stands (the losses'
/// math is explicit operations, vmath's functions among them, so a lane of
/// any vector width rounds as the same operations would), and the bits do not
/// depend on the layout.
/// It is called, never inlined: with kernel tables as part of its level's unit
/// (I keeps each instruction set's copy apart), in header use as the
/// dispatched function itself (target_clones, FMA chosen inside each clone),
/// so that the loops around it compile once.
/// The loops reach it through a Mapper (a pointer to this function and one to
/// the loss): they are compiled once per pass, precision and level, whatever
/// the number of losses, and only this loop is compiled per loss. One call
/// per chunk of kChunk elements, so the indirect call costs nothing.
template <int I, unsigned W, class Loss, class T>
FASTLOSS_MAP void map_chunk(const void* loss_ptr, index_t m, const T* t, const T* p, T coef,
                            T* vals, T* g, T* h) {
  const Loss& loss_in = *static_cast<const Loss*>(loss_ptr);
  const index_t n = mapped_length(m);
  with_fma_known([&]() FASTLOSS_LAMBDA_INLINE {
    with_variant(loss_in, [&](const auto& loss_ref) FASTLOSS_LAMBDA_INLINE {
      // A local copy: the stores to g/h cannot alias it, so its parameters are
      // hoisted out of the loop and the loop vectorises.
      const auto loss = loss_ref;
      if constexpr ((W & kHess) != 0) {
        FASTLOSS_SIMD
        for (index_t k = 0; k < n; ++k) {
          T gk, hk;
          loss.grad_hess(t[k], p[k], gk, hk);
          g[k] = coef * gk;
          h[k] = coef * hk;
        }
      } else {
        FASTLOSS_SIMD
        for (index_t k = 0; k < n; ++k) {
          T gk;
          const T v = loss.value_grad(t[k], p[k], gk);
          if constexpr ((W & kValue) != 0) vals[k] = v;
          if constexpr ((W & kGrad) != 0) g[k] = coef * gk;
        }
      }
    });
  });
}

/// A loss's map_chunk for one pass, with the loss it maps: what the loops
/// around the map (segment, the packed runs, the tiles) are given.
template <class T>
struct Mapper {
  using Fn = void (*)(const void* loss, index_t m, const T* t, const T* p, T coef, T* vals, T* g,
                      T* h);
  Fn fn;
  const void* loss;
  FASTLOSS_INLINE void operator()(index_t m, const T* t, const T* p, T coef, T* vals, T* g,
                                  T* h) const {
    fn(loss, m, t, p, coef, vals, g, h);
  }
};

/// Buffers of one chunk for inputs and outputs that are not read or written
/// in place (strided runs, tails).
template <class T>
struct ChunkBuffers {
  alignas(64) T t[kChunk];
  alignas(64) T p[kChunk];
  alignas(64) T g[kChunk];
  alignas(64) T h[kChunk];
  alignas(64) T vals[kChunk];
};

/// Elements [0, m) of a run with stride s: in place when the run is
/// contiguous and a whole chunk, else copied to buf, the rest of the chunk
/// set to a harmless value (its results are never stored).
/// The common strides get loops of their own: a stride known at compile time
/// vectorises (shuffles of whole vectors) where a run-time one is a scalar loop.
template <class T>
FASTLOSS_INLINE void copy_strided_in(const T* src, index_t s, index_t m, T* buf) {
  switch (s) {
    case 1: for (index_t k = 0; k < m; ++k) buf[k] = src[k]; break;
    case 2: for (index_t k = 0; k < m; ++k) buf[k] = src[2 * k]; break;
    case 3: for (index_t k = 0; k < m; ++k) buf[k] = src[3 * k]; break;
    case 4: for (index_t k = 0; k < m; ++k) buf[k] = src[4 * k]; break;
    default: for (index_t k = 0; k < m; ++k) buf[k] = src[k * s]; break;
  }
}

template <class T>
FASTLOSS_INLINE void copy_strided_out(T* dst, index_t s, index_t m, const T* buf) {
  switch (s) {
    case 1: for (index_t k = 0; k < m; ++k) dst[k] = buf[k]; break;
    case 2: for (index_t k = 0; k < m; ++k) dst[2 * k] = buf[k]; break;
    case 3: for (index_t k = 0; k < m; ++k) dst[3 * k] = buf[k]; break;
    case 4: for (index_t k = 0; k < m; ++k) dst[4 * k] = buf[k]; break;
    default: for (index_t k = 0; k < m; ++k) dst[k * s] = buf[k]; break;
  }
}

template <class T>
FASTLOSS_INLINE const T* load_chunk(const T* src, index_t s, index_t m, T* buf) {
  if (s == 1 && m == kChunk) return src;
  copy_strided_in(src, s, m, buf);
  for (index_t k = m; k < mapped_length(m); ++k) buf[k] = T(0);
  return buf;
}

/// Adds w * vals[0..m) into acc, element k to lane k % kLanes (w is a
/// sample's weight; the same expression on every path, so a weight of 1 gives
/// the bits of add_lanes).
template <class T>
FASTLOSS_INLINE void add_lanes_scaled(double* acc, const T* vals, index_t m, double w) {
  index_t k = 0;
  for (; k + kLanes <= m; k += kLanes)
    for (int lane = 0; lane < kLanes; ++lane)
      acc[lane] += w * static_cast<double>(vals[k + lane]);
  for (int lane = 0; k + lane < m; ++lane) acc[lane] += w * static_cast<double>(vals[k + lane]);
}

/// The fixed tree over the lanes.
FASTLOSS_INLINE double sum_lanes(const double* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// One run of n elements (a row segment, or rows stored back to back).
/// Adds its values (in double, times `w`) to the lanes `acc`, element k to lane
/// (lane0 + k) % kLanes, when kValue; writes coef * gradient (and coef *
/// Hessian). Each chunk is a pure map (map_chunk) followed by a fixed-order
/// lane sum, so the bits depend only on an element's place in the run, never
/// on strides, alignment or threads. Called, not inlined: rows_body calls it
/// from three places, and inlining the loop nest into each cost the build a
/// multiple of its time (one table unit: 146 CPU-s noinline, over 240 inlined).
#if defined(__GNUC__)
#define FASTLOSS_NOINLINE __attribute__((noinline))
#else
#define FASTLOSS_NOINLINE
#endif
template <int I, unsigned W, class T>
FASTLOSS_NOINLINE void segment(const Mapper<T>& map, index_t n, const T* yt, index_t st, const T* yp,
                             index_t sp, T* g, index_t sg, T* h, index_t sh, T coef,
                             ChunkBuffers<T>& buf, double* acc_out, int lane0, double w) {
  constexpr bool kOut = (W & (kGrad | kHess)) != 0;
  double acc[kLanes];
  if constexpr ((W & kValue) != 0) {
    for (int l = 0; l < kLanes; ++l) acc[l] = acc_out[(lane0 + l) % kLanes];
  }
  for (index_t c0 = 0; c0 < n; c0 += kChunk) {
    const index_t m = std::min(kChunk, n - c0);
    const T* tc = load_chunk(yt + c0 * st, st, m, buf.t);
    const T* pc = load_chunk(yp + c0 * sp, sp, m, buf.p);
    T* gc = kOut ? g + c0 * sg : nullptr;
    T* hc = (W & kHess) ? h + c0 * sh : nullptr;
    const bool direct = m == kChunk && (!kOut || sg == 1) && ((W & kHess) == 0 || sh == 1);
    map(m, tc, pc, coef, buf.vals, direct ? gc : buf.g, direct ? hc : buf.h);
    if constexpr (kOut) {
      if (!direct) {
        copy_strided_out(gc, sg, m, buf.g);
        if constexpr ((W & kHess) != 0) copy_strided_out(hc, sh, m, buf.h);
      }
    }
    if constexpr ((W & kValue) != 0) {
      if (w == 1.0) {
        add_lanes(acc, buf.vals, m);
      } else {
        add_lanes_scaled(acc, buf.vals, m, w);
      }
    }
  }
  if constexpr ((W & kValue) != 0) {
    for (int l = 0; l < kLanes; ++l) acc_out[(lane0 + l) % kLanes] = acc[l];
  }
}

/// Σ of the per-sample weights in a fixed order (for mean_with_sample_weight).
template <class T>
double sum_weights(const T* w, index_t n) {
  double acc[kLanes] = {};
  index_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) acc[lane] += static_cast<double>(w[k + lane]);
  for (int lane = 0; k + lane < n; ++lane) acc[lane] += static_cast<double>(w[k + lane]);
  return sum_lanes(acc);
}

/// True when every y_true element is exactly 0 or 1 (Keras's hinge rule).
/// Rows are checked whole (a branch-free, vectorisable pass) and the scan
/// stops at the first row with another label.
template <class T>
bool all_binary(const View3<const T>& v, const Shape3& s) {
  for (index_t o = 0; o < s.outer; ++o)
    for (index_t i = 0; i < s.inner; ++i) {
      const T* row = v.row(o, 0, i);
      const index_t st = v.stride[1];
      int bad = 0;
      if (st == 1) {  // an integer |-reduction: vectorised without a hint
        for (index_t d = 0; d < s.axis; ++d) bad |= (row[d] != T(0)) & (row[d] != T(1));
      } else {
        for (index_t d = 0; d < s.axis; ++d) bad |= !(row[d * st] == T(0) || row[d * st] == T(1));
      }
      if (bad) return false;
    }
  return true;
}

/// Gradient coefficient of a sample: base * weight * upstream (base already
/// holds the reduction's scale and 1/D), for either family's problem.
template <class T>
FASTLOSS_INLINE T coef_of(const Problem<T>& pr, double base, index_t sample) {
  double c = base;
  if (pr.sample_weight) c *= static_cast<double>(pr.sample_weight[sample]);
  if (pr.grad_output) c *= static_cast<double>(pr.grad_output[sample]);
  return static_cast<T>(c);
}

template <class T>
inline double weight_of(const Problem<T>& pr, index_t sample) {
  return pr.sample_weight ? static_cast<double>(pr.sample_weight[sample]) : 1.0;
}

// The reduction tree of a tile of whole rows [r0, r1), the same for every
// layout: the element at place f = (row - r0) * D + d of the tile (rows in
// order, each along the mean axis) adds weight(row) * value to lane f % kLanes,
// the lanes are summed by the fixed tree and the tile's sum divided by D.
// Per-sample losses (reduction "none") are each row's own lanes (element d to
// lane d % kLanes), summed by the tree, divided by D, times the weight.

/// Rows [r0, r1) stored back to back seen as one run: where each array's run
/// starts and its element stride (rows of one element: the row stride).
template <class T>
struct PackedRun {
  index_t st, sp, sg, sh;
  const T *t0, *p0;
  T *g0, *h0;  // null when the pass writes no gradient / Hessian
  PackedRun(const ElementwiseProblem<T>& pr, index_t r0) {
    const index_t D = pr.shape.axis;
    auto step = [D](const auto& v) { return D == 1 ? v.stride[0] : v.stride[1]; };
    st = step(pr.y_true);
    sp = step(pr.y_pred);
    sg = step(pr.grad);
    sh = step(pr.hess);
    t0 = pr.y_true.row(r0, 0, 0);
    p0 = pr.y_pred.row(r0, 0, 0);
    g0 = pr.grad.data ? pr.grad.row(r0, 0, 0) : nullptr;
    h0 = pr.hess.data ? pr.hess.row(r0, 0, 0) : nullptr;
  }
};

/// Rows [r0, r1) shorter than a chunk, stored back to back (packed), each with
/// its own per-sample loss (reduction "none"): the rows are mapped as one run,
/// whole chunks at a time, the coefficients applied on the way out and the
/// values summed per row in the lanes a row's own segment would use, so the
/// bits are those of row-by-row segments, at the speed of whole chunks.
template <int I, unsigned W, class T>
FASTLOSS_INLINE double packed_per_sample(const Mapper<T>& map, const ElementwiseProblem<T>& pr,
                                         double base, index_t r0, index_t r1) {
  const index_t D = pr.shape.axis, n = (r1 - r0) * D;
  constexpr bool kOut = (W & (kGrad | kHess)) != 0;
  const PackedRun<T> run(pr, r0);
  const index_t st = run.st, sp = run.sp, sg = run.sg, sh = run.sh;
  const T *t0 = run.t0, *p0 = run.p0;
  T *g0 = run.g0, *h0 = run.h0;
  ChunkBuffers<T> buf;
  double acc[kLanes] = {};
  double tile_sum = 0.0;
  index_t o = r0, d = 0;
  T coef = kOut ? coef_of(pr, base, o) : T(0);
  for (index_t c0 = 0; c0 < n; c0 += kChunk) {
    const index_t m = std::min(kChunk, n - c0);
    map(m, load_chunk(t0 + c0 * st, st, m, buf.t), load_chunk(p0 + c0 * sp, sp, m, buf.p), T(1),
        buf.vals, buf.g, buf.h);
    for (index_t k = 0; k < m; ++k) {
      const index_t e = c0 + k;
      if constexpr (kOut) g0[e * sg] = coef * buf.g[k];
      if constexpr ((W & kHess) != 0) h0[e * sh] = coef * buf.h[k];
      if constexpr ((W & kValue) != 0) acc[d % kLanes] += static_cast<double>(buf.vals[k]);
      if (++d == D) {
        if constexpr ((W & kValue) != 0) {
          const double v = weight_of(pr, o) * (sum_lanes(acc) / static_cast<double>(D));
          pr.per_sample[o] = static_cast<T>(v);
          tile_sum += v;
          for (double& a : acc) a = 0.0;
        }
        d = 0;
        if (++o < r1 && kOut) coef = coef_of(pr, base, o);
      }
    }
  }
  return tile_sum;
}

/// Rows [r0, r1) stored back to back (packed) with per-sample weights or
/// upstream gradients and a reduced value: one run, whole chunks at a time;
/// each row's coefficient is applied on the way out and its weight to its
/// values, which go to the tile's lanes by their place in the run.
template <int I, unsigned W, class T>
FASTLOSS_INLINE double packed_weighted(const Mapper<T>& map, const ElementwiseProblem<T>& pr,
                                       double base, index_t r0, index_t r1) {
  const index_t D = pr.shape.axis, n = (r1 - r0) * D;
  constexpr bool kOut = (W & (kGrad | kHess)) != 0;
  const PackedRun<T> run(pr, r0);
  const index_t st = run.st, sp = run.sp, sg = run.sg, sh = run.sh;
  const T *t0 = run.t0, *p0 = run.p0;
  T *g0 = run.g0, *h0 = run.h0;
  ChunkBuffers<T> buf;
  alignas(64) double wv[kChunk];
  double acc[kLanes] = {};
  index_t o = r0, d = 0;
  for (index_t c0 = 0; c0 < n; c0 += kChunk) {
    const index_t m = std::min(kChunk, n - c0);
    map(m, load_chunk(t0 + c0 * st, st, m, buf.t), load_chunk(p0 + c0 * sp, sp, m, buf.p), T(1),
        buf.vals, buf.g, buf.h);
    // the chunk in pieces of one row each
    for (index_t k = 0; k < m;) {
      const index_t len = std::min(D - d, m - k);
      if constexpr (kOut) {
        const T coef = coef_of(pr, base, o);
        T* gp = g0 + (c0 + k) * sg;
        for (index_t j = 0; j < len; ++j) gp[j * sg] = coef * buf.g[k + j];
        if constexpr ((W & kHess) != 0) {
          T* hp = h0 + (c0 + k) * sh;
          for (index_t j = 0; j < len; ++j) hp[j * sh] = coef * buf.h[k + j];
        }
      }
      if constexpr ((W & kValue) != 0) {
        const double w = weight_of(pr, o);
        for (index_t j = 0; j < len; ++j) wv[k + j] = w;
      }
      k += len;
      d += len;
      if (d == D) {
        d = 0;
        ++o;
      }
    }
    if constexpr ((W & kValue) != 0) {
      // add_lanes_scaled's expression, with the weight per element
      index_t k = 0;
      for (; k + kLanes <= m; k += kLanes)
        for (int lane = 0; lane < kLanes; ++lane)
          acc[lane] += wv[k + lane] * static_cast<double>(buf.vals[k + lane]);
      for (int lane = 0; k + lane < m; ++lane)
        acc[lane] += wv[k + lane] * static_cast<double>(buf.vals[k + lane]);
    }
  }
  return sum_lanes(acc) / static_cast<double>(D);
}

/// Tile of whole rows [r0, r1) (inner == 1), or with `chunk` the elements
/// [d0, d0 + n) of the long row r0, whose unweighted sum it returns (the row's
/// chunks are combined after the parallel pass). Rows stored back to back are
/// one run; others are one segment per row, each adding to the tile's lanes
/// where its elements stand in the tile.
template <int I, unsigned W, class T>
FASTLOSS_INLINE double rows_body(const Mapper<T>& map, const ElementwiseProblem<T>& pr, double base,
                                 index_t r0, index_t r1, index_t d0, index_t n, bool chunk) {
  const index_t D = pr.shape.axis;
  const auto &yt = pr.y_true, &yp = pr.y_pred;  // one deduced type per declaration
  const auto &gv = pr.grad, &hv = pr.hess;
  const double mean_div = static_cast<double>(D);
  constexpr bool kCoef = (W & (kGrad | kHess)) != 0;
  ChunkBuffers<T> buf;
  double acc[kLanes] = {};
  if (chunk) {
    segment<I, W>(map, n, yt.row(r0, d0, 0), yt.stride[1], yp.row(r0, d0, 0), yp.stride[1],
                  gv.data ? gv.row(r0, d0, 0) : nullptr, gv.stride[1],
                  hv.data ? hv.row(r0, d0, 0) : nullptr, hv.stride[1],
                  kCoef ? coef_of(pr, base, r0) : T(0), buf, acc, 0, 1.0);
    return sum_lanes(acc);
  }
  // rows back to back; rows of one element always are, with the row stride
  auto packed = [D](const auto& v) {
    return !v.data || v.stride[0] == D * v.stride[1] || D == 1;
  };
  const bool all_packed = packed(yt) && packed(yp) && packed(gv) && packed(hv);
  const bool per_sample = (W & kValue) != 0 && pr.per_sample;
  if (all_packed && D > 0 && (per_sample ? D < kChunk : true)) {
    if (per_sample) return packed_per_sample<I, W>(map, pr, base, r0, r1);
    if (pr.sample_weight || pr.grad_output) return packed_weighted<I, W>(map, pr, base, r0, r1);
    // one coefficient for every sample: the rows are a single segment
    auto step = [D](const auto& v) { return D == 1 ? v.stride[0] : v.stride[1]; };
    segment<I, W>(map, (r1 - r0) * D, yt.row(r0, 0, 0), step(yt), yp.row(r0, 0, 0), step(yp),
                  gv.data ? gv.row(r0, 0, 0) : nullptr, step(gv),
                  hv.data ? hv.row(r0, 0, 0) : nullptr, step(hv),
                  kCoef ? coef_of(pr, base, r0) : T(0), buf, acc, 0, 1.0);
    return sum_lanes(acc) / mean_div;
  }
  double tile_sum = 0.0;
  for (index_t o = r0; o < r1; ++o) {
    const T* t = yt.row(o, 0, 0);
    const T* p = yp.row(o, 0, 0);
    T* g = gv.data ? gv.row(o, 0, 0) : nullptr;
    T* h = hv.data ? hv.row(o, 0, 0) : nullptr;
    const T coef = kCoef ? coef_of(pr, base, o) : T(0);
    if (per_sample) {
      double row[kLanes] = {};
      segment<I, W>(map, D, t, yt.stride[1], p, yp.stride[1], g, gv.stride[1], h, hv.stride[1],
                    coef, buf, row, 0, 1.0);
      const double v = weight_of(pr, o) * (sum_lanes(row) / mean_div);
      pr.per_sample[o] = static_cast<T>(v);
      tile_sum += v;
    } else {
      const int lane0 = static_cast<int>(((o - r0) * D) % kLanes);
      segment<I, W>(map, D, t, yt.stride[1], p, yp.stride[1], g, gv.stride[1], h, hv.stride[1],
                    coef, buf, acc, lane0, weight_of(pr, o));
    }
  }
  return per_sample ? tile_sum : sum_lanes(acc) / mean_div;
}

/// Samples (o, i0 .. i0 + n) of a middle or leading mean axis (inner > 1): the
/// loop runs down the mean axis with the block of samples innermost, each
/// sample keeping its own double accumulator.
template <int I, unsigned W, class T>
FASTLOSS_INLINE double inner_body(const Mapper<T>& map, const ElementwiseProblem<T>& pr, double base,
                                  index_t o, index_t i0, index_t n) {
  const index_t D = pr.shape.axis, inner = pr.shape.inner;
  const auto &yt = pr.y_true, &yp = pr.y_pred;  // one deduced type per declaration
  const auto &gv = pr.grad, &hv = pr.hess;
  constexpr bool kOut = (W & (kGrad | kHess)) != 0;
  double acc[kInnerBlock];
  T coef[kInnerBlock];
  for (index_t k = 0; k < n; ++k) {
    acc[k] = 0.0;
    coef[k] = kOut ? coef_of(pr, base, o * inner + i0 + k) : T(0);
  }
  ChunkBuffers<T> buf;
  const index_t st = yt.stride[2], sp = yp.stride[2], sg = gv.stride[2], sh = hv.stride[2];
  for (index_t d = 0; d < D; ++d) {
    for (index_t c0 = 0; c0 < n; c0 += kChunk) {
      const index_t m = std::min(kChunk, n - c0);
      const T* tc = load_chunk(yt.row(o, d, i0 + c0), st, m, buf.t);
      const T* pc = load_chunk(yp.row(o, d, i0 + c0), sp, m, buf.p);
      // each sample has its own coefficient: the map writes coef 1 * the
      // derivative (exact), scaled per sample on the way out
      map(m, tc, pc, T(1), buf.vals, buf.g, buf.h);
      if constexpr ((W & kValue) != 0) {
        for (index_t k = 0; k < m; ++k) acc[c0 + k] += static_cast<double>(buf.vals[k]);
      }
      if constexpr (kOut) {
        T* gr = gv.row(o, d, i0 + c0);
        for (index_t k = 0; k < m; ++k) gr[k * sg] = coef[c0 + k] * buf.g[k];
      }
      if constexpr ((W & kHess) != 0) {
        T* hr = hv.row(o, d, i0 + c0);
        for (index_t k = 0; k < m; ++k) hr[k * sh] = coef[c0 + k] * buf.h[k];
      }
    }
  }
  double tile_sum = 0.0;
  if constexpr ((W & kValue) != 0) {
    for (index_t k = 0; k < n; ++k) {
      const index_t sample = o * inner + i0 + k;
      const double v = weight_of(pr, sample) * (acc[k] / static_cast<double>(D));
      if (pr.per_sample) pr.per_sample[sample] = static_cast<T>(v);
      tile_sum += v;
    }
  }
  return tile_sum;
}

// The tiles: the loops around map_chunk, which is the only code that needs
// the wide units. With kernel tables they are compiled once per table level I,
// which names the instantiation so that the copies compiled for different
// sets never merge at link time; in header use once (I = 0).
template <int I, unsigned W, class T>
double tile_rows(const Mapper<T>& map, const ElementwiseProblem<T>& pr, double base, index_t r0,
                 index_t r1, index_t d0, index_t n, bool chunk) {
  return rows_body<I, W>(map, pr, base, r0, r1, d0, n, chunk);
}

template <int I, unsigned W, class T>
double tile_inner(const Mapper<T>& map, const ElementwiseProblem<T>& pr, double base, index_t o,
                  index_t i0, index_t n) {
  return inner_body<I, W>(map, pr, base, o, i0, n);
}

/// The passes a kernel table holds: value; value and gradient; gradient
/// alone (not the fused pass with its value unused: a logistic loss's value
/// costs a logarithm the gradient does not need); gradient and Hessian.
enum Pass : int {
  kPassValue = 0,
  kPassValueGrad = 1,
  kPassGrad = 2,
  kPassGradHess = 3,
  kPasses = 4
};

template <int P>
inline constexpr unsigned kWorkOf = P == kPassValue       ? kValue
                                    : P == kPassValueGrad ? (kValue | kGrad)
                                    : P == kPassGrad      ? kGrad
                                                          : (kGrad | kHess);

/// The tiles of one elementwise loss in one precision for one instruction
/// set, per pass; null where the loss has no Hessian.
template <class Loss, class T>
struct ElementwiseTiles {
  using Map = typename Mapper<T>::Fn;
  using Rows = double (*)(const Mapper<T>&, const ElementwiseProblem<T>&, double, index_t, index_t,
                          index_t, index_t, bool);
  using Inner = double (*)(const Mapper<T>&, const ElementwiseProblem<T>&, double, index_t,
                           index_t, index_t);
  Map map[kPasses];  // the loss's own code
  Rows rows[kPasses];  // the loops around it, shared by every loss
  Inner inner[kPasses];
};

template <int I, int P, class Loss, class T>
constexpr typename ElementwiseTiles<Loss, T>::Map map_tile() {
  if constexpr (P == kPassGradHess && !Loss::kHasHessian) {
    return nullptr;
  } else {
    return &map_chunk<I, kWorkOf<P>, Loss, T>;
  }
}
template <int I, int P, class Loss, class T>
constexpr typename ElementwiseTiles<Loss, T>::Rows rows_tile() {
  if constexpr (P == kPassGradHess && !Loss::kHasHessian) {
    return nullptr;
  } else {
    return &tile_rows<I, kWorkOf<P>, T>;
  }
}
template <int I, int P, class Loss, class T>
constexpr typename ElementwiseTiles<Loss, T>::Inner inner_tile() {
  if constexpr (P == kPassGradHess && !Loss::kHasHessian) {
    return nullptr;
  } else {
    return &tile_inner<I, kWorkOf<P>, T>;
  }
}

/// The table of instruction-set level I. With kernel tables each level is
/// explicitly instantiated in its own translation unit (cpp/bindings/tables_isa.cpp)
/// and declared `extern template` everywhere else (cpp/bindings/tables.hpp).
template <int I, class Loss, class T>
const ElementwiseTiles<Loss, T>& elementwise_tiles() {
  static constexpr ElementwiseTiles<Loss, T> table = {
      {map_tile<I, 0, Loss, T>(), map_tile<I, 1, Loss, T>(), map_tile<I, 2, Loss, T>(),
       map_tile<I, 3, Loss, T>()},
      {rows_tile<I, 0, Loss, T>(), rows_tile<I, 1, Loss, T>(), rows_tile<I, 2, Loss, T>(),
       rows_tile<I, 3, Loss, T>()},
      {inner_tile<I, 0, Loss, T>(), inner_tile<I, 1, Loss, T>(), inner_tile<I, 2, Loss, T>(),
       inner_tile<I, 3, Loss, T>()}};
  return table;
}

/// The table the running CPU takes.
template <class Loss, class T>
const ElementwiseTiles<Loss, T>& pick_elementwise_tiles() {
  return at_isa_level([](auto level) -> const ElementwiseTiles<Loss, T>& {
    return elementwise_tiles<decltype(level)::value, Loss, T>();
  });
}

/// The tiled pass `pass` through one table. Returns Σ_samples weight *
/// per-sample loss (when the pass computes the value). Nothing here depends on
/// the loss but the pass's three functions: compiled once per precision.
template <class T>
double run_tiles(const Mapper<T>& map,
                 double (*rows_fn)(const Mapper<T>&, const ElementwiseProblem<T>&, double,
                                   index_t, index_t, index_t, index_t, bool),
                 double (*inner_fn)(const Mapper<T>&, const ElementwiseProblem<T>&, double,
                                    index_t, index_t, index_t),
                 const ElementwiseProblem<T>& pr, double grad_base, int pass) {
  const Shape3 s = pr.shape;
  const index_t D = s.axis;
  if (s.samples() == 0) return 0.0;
  const bool with_value = pass == kPassValue || pass == kPassValueGrad;
  // base * weight * upstream / D is each sample's gradient coefficient
  const double base = grad_base * (pr.per_element ? 1.0 : 1.0 / static_cast<double>(D));
  std::vector<double>& partial = scratch();
  auto sum_tiles = [&](index_t tiles_n, const auto& tile) {
    if (static_cast<index_t>(partial.size()) < tiles_n) partial.resize(tiles_n);
    double* part = partial.data();
    parallel_tiles(tiles_n, threads_for(tiles_n),
                   [&](index_t t) { part[t] = tile(t); });
  };

  if (s.inner == 1 && D <= kTileElements) {
    const index_t rows = std::max<index_t>(1, kTileElements / std::max<index_t>(D, 1));
    const index_t n_tiles = (s.outer + rows - 1) / rows;
    sum_tiles(n_tiles, [&](index_t t) {
      const index_t r0 = t * rows, r1 = std::min(s.outer, (t + 1) * rows);
      return rows_fn(map, pr, base, r0, r1, 0, D, false);
    });
    double total = 0.0;
    for (index_t t = 0; t < n_tiles; ++t) total += partial[t];
    return total;
  }
  if (s.inner == 1) {
    // Long rows are cut into chunks; chunk sums are combined per row in chunk
    // order after the parallel pass.
    const index_t chunks = (D + kTileElements - 1) / kTileElements;
    sum_tiles(s.outer * chunks, [&](index_t t) {
      const index_t o = t / chunks, d0 = (t % chunks) * kTileElements;
      return rows_fn(map, pr, base, o, o + 1, d0, std::min(kTileElements, D - d0), true);
    });
    double total = 0.0;
    if (with_value) {
      for (index_t o = 0; o < s.outer; ++o) {
        double row_sum = 0.0;
        for (index_t c = 0; c < chunks; ++c) row_sum += partial[o * chunks + c];
        const double v = weight_of(pr, o) * (row_sum / static_cast<double>(D));
        if (pr.per_sample) pr.per_sample[o] = static_cast<T>(v);
        total += v;
      }
    }
    return total;
  }
  // at least a chunk of samples per tile, so that map_chunk runs whole chunks
  const index_t block = std::min(
      std::clamp<index_t>(kTileElements / std::max<index_t>(D, 1), kChunk, kInnerBlock),
      s.inner);
  const index_t blocks = (s.inner + block - 1) / block;
  const index_t n_tiles = s.outer * blocks;
  sum_tiles(n_tiles, [&](index_t t) {
    const index_t i0 = (t % blocks) * block;
    return inner_fn(map, pr, base, t / blocks, i0, std::min(block, s.inner - i0));
  });
  double total = 0.0;
  for (index_t t = 0; t < n_tiles; ++t) total += partial[t];
  return total;
}

}  // namespace detail

/// What an elementwise evaluation returns besides the arrays it wrote.
struct ElementwiseResult {
  double value = 0.0;    // the reduced loss (reductions other than None)
  double divisor = 1.0;  // what the weighted sum was divided by (0: divide-no-nan)
};

namespace detail {

/// The Keras 3 reduction shared by every driver: picks the divisor (the
/// caller's, or the reduction's own rule), runs the pass the problem asks for
/// (value, value+gradient, gradient, or gradient+Hessian) through
/// run(problem, Pass, grad_base), and divides the weighted sum, Keras's divide_no_nan
/// style (a zero divisor gives a zero loss and gradient).
template <bool kHasHessian, class P, class Run>
ElementwiseResult run_and_reduce(const P& pr, index_t n_samples, const char* name,
                                 const Run& run) {
  ElementwiseResult res;
  if (pr.explicit_divisor) {
    res.divisor = pr.reduction == Reduction::None ? 1.0 : pr.divisor;
  } else {
    switch (pr.reduction) {
      case Reduction::None:
      case Reduction::Sum: res.divisor = 1.0; break;
      case Reduction::SumOverBatchSize: res.divisor = static_cast<double>(n_samples); break;
      case Reduction::MeanWithSampleWeight:
        res.divisor = pr.sample_weight ? sum_weights(pr.sample_weight, n_samples)
                                       : static_cast<double>(n_samples);
        break;
    }
  }
  const double scale = res.divisor == 0.0 ? 0.0 : 1.0 / res.divisor;
  const bool reduced = pr.reduction != Reduction::None;
  const double grad_base =
      pr.per_element ? 1.0 : pr.grad_output_scalar * (reduced ? scale : 1.0);
  const bool value = pr.want_value && !pr.per_element;
  double total = 0.0;
  if (pr.hess.data) {
    if constexpr (kHasHessian) {
      run(pr, kPassGradHess, grad_base);
    } else {
      throw std::invalid_argument(std::string(name) + " has no Hessian");
    }
  } else if (pr.grad.data) {
    total = value ? run(pr, kPassValueGrad, grad_base) : run(pr, kPassGrad, grad_base);
  } else if (value) {
    total = run(pr, kPassValue, grad_base);
  }
  res.value = reduced ? (res.divisor == 0.0 ? 0.0 : total * scale) : total;
  return res;
}

}  // namespace detail

/// Evaluates one elementwise loss: per-sample means over the axis, weighted,
/// reduced as Keras 3 does; the gradient of that (times the upstream
/// gradient); or, with `per_element`, the unreduced per-element gradient and
/// Hessian times the sample weight.
template <class Loss, class T>
ElementwiseResult evaluate(Loss loss, const ElementwiseProblem<T>& pr) {
  using namespace detail;
  const Shape3 s = pr.shape;
  if (s.outer < 0 || s.axis < 0 || s.inner < 0) throw std::invalid_argument("negative extent");
  if (pr.hess.data && !pr.per_element)
    throw std::invalid_argument("the Hessian is only computed per element");
  if constexpr (scans_binary_labels<Loss>::value) {
    loss.set_binary_labels(all_binary(pr.y_true, s));
  }
  const auto& tiles = pick_elementwise_tiles<Loss, T>();
  return detail::run_and_reduce<Loss::kHasHessian>(
      pr, s.samples(), Loss::kName,
      [&](const ElementwiseProblem<T>& q, int pass, double grad_base) {
        const Mapper<T> map{tiles.map[pass], &loss};
        return run_tiles(map, tiles.rows[pass], tiles.inner[pass], q, grad_base, pass);
      });
}

}  // namespace fastloss

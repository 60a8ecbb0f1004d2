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
// losses). A middle class axis (inner > 1) is read in place: its rows have
// stride `inner`, and consecutive samples share cache lines.
//
// Determinism. Samples are cut into tiles of a fixed number of rows that
// depends only on the shape; each row is evaluated by one thread in a fixed
// order, each tile sums its weighted per-sample losses in double in sample
// order, and tile partials are added in tile order. Any thread count gives
// bitwise identical values and gradients.
//
// Memory. A row is processed in place: the loss structs make at most a few
// sweeps over it (max, then exp-sum, then scale for softmax losses) and keep
// only O(1) scalars, so any class count works without scratch buffers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "driver.hpp"

namespace fastloss {

/// One call of a class-axis loss. Null output pointers switch work off, as in
/// ElementwiseProblem. Dense-target losses read `y_true`; label losses read
/// `labels` (one class id per sample, negative: the row is ignored); losses of
/// y_pred alone (Entropy) read neither.
template <class T>
struct RowsProblem {
  Shape3 shape;                          // (outer, classes, inner)
  View3<const T> y_true, y_pred;
  const std::int64_t* labels = nullptr;  // [outer*inner], contiguous
  const T* sample_weight = nullptr;      // per-sample weights, contiguous [outer*inner]
  const T* grad_output = nullptr;        // per-sample upstream gradient (reduction none)
  double grad_output_scalar = 1.0;
  Reduction reduction = Reduction::SumOverBatchSize;
  bool explicit_divisor = false;  // use `divisor` instead of the reduction's own rule
  double divisor = 1.0;
  bool want_value = true;
  T* per_sample = nullptr;  // out [outer*inner], reduction None only
  View3<T> grad;            // out, y_pred's shape, or data == nullptr
  View3<T> hess;            // out (gradient_hessian only) or data == nullptr
  bool per_element = false; // gradient_hessian: per-sample loss, unreduced, times weight
};

/// What a class-axis loss reads besides y_pred.
enum class RowInput { Dense, Labels, None };

namespace detail {

/// A strided run of elements; kUnit fixes the stride to 1 at compile time so
/// that contiguous rows compile to vector loops.
template <class E, bool kUnit>
struct Strided {
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
struct Row {
  index_t size = 0;                     // number of classes, >= 1
  Strided<const T, kUnit> pred, target;  // target.data == nullptr unless RowInput::Dense
  std::int64_t label = -1;              // RowInput::Labels: the class id, < 0 ignored
  Strided<T, kUnit> grad, hess;
  T coef = T(0);  // weight * upstream gradient / divisor of this sample
};

/// Eight double accumulators added in a fixed tree order: deterministic, and
/// wide enough for the compiler to keep a vector register busy.
struct LaneSum {
  double lane[kLanes] = {};
  void add(int l, double x) { lane[l] += x; }
  double total() const {
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
};

/// Runs body(k, lane) for k in [0, n), lanes assigned round-robin in blocks of
/// kLanes (the same assignment for every call: sums are reproducible).
template <class Body>
inline void for_lanes(index_t n, const Body& body) {
  index_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    for (int l = 0; l < kLanes; ++l) body(k + l, l);
  }
  for (int l = 0; k + l < n; ++l) body(k + l, l);
}

/// max_k f(k) in T; -inf for n == 0. NaN entries are skipped here; they reach
/// the result through the later sweeps (exp(NaN - m) is NaN).
template <class T, class F>
inline T lane_max(index_t n, const F& f) {
  T m[kLanes];
  for (int l = 0; l < kLanes; ++l) m[l] = -std::numeric_limits<T>::infinity();
  for_lanes(n, [&](index_t k, int l) {
    const T x = f(k);
    m[l] = x > m[l] ? x : m[l];
  });
  T r = m[0];
  for (int l = 1; l < kLanes; ++l) r = m[l] > r ? m[l] : r;
  return r;
}

template <class Loss, class = void>
struct has_validate : std::false_type {};
template <class Loss>
struct has_validate<Loss, std::void_t<decltype(std::declval<const Loss&>().validate(index_t{}))>>
    : std::true_type {};

/// Rows per tile: about kTileElements elements, at least one row.
inline index_t rows_per_tile(index_t classes) {
  return std::max<index_t>(1, kTileElements / std::max<index_t>(classes, 1));
}

template <unsigned W, bool kUnit, class Loss, class T>
double run_rows_impl(const Loss& loss, const RowsProblem<T>& pr, double grad_base) {
  const Shape3 s = pr.shape;
  const index_t C = s.axis, inner = s.inner, n_samples = s.samples();
  const index_t per_tile = rows_per_tile(C);
  const index_t tiles = (n_samples + per_tile - 1) / per_tile;
  std::vector<double>& partial = scratch();
  if (static_cast<index_t>(partial.size()) < tiles) partial.resize(tiles);
  double* part = partial.data();
  const T* w = pr.sample_weight;
  const T* go = pr.grad_output;
  constexpr bool kDerivs = (W & (kGrad | kHess)) != 0;
  parallel_tiles(tiles, threads_for(s.elements(), tiles), [&](index_t t) {
    const index_t s0 = t * per_tile, s1 = std::min(n_samples, s0 + per_tile);
    double tile_sum = 0.0;
    for (index_t sample = s0; sample < s1; ++sample) {
      const index_t o = sample / inner, i = sample % inner;
      Row<T, kUnit> r;
      r.size = C;
      r.pred = {pr.y_pred.row(o, 0, i), pr.y_pred.stride[1]};
      if (pr.y_true.data) r.target = {pr.y_true.row(o, 0, i), pr.y_true.stride[1]};
      if (pr.labels) r.label = pr.labels[sample];
      if constexpr ((W & kGrad) != 0) r.grad = {pr.grad.row(o, 0, i), pr.grad.stride[1]};
      if constexpr ((W & kHess) != 0) r.hess = {pr.hess.row(o, 0, i), pr.hess.stride[1]};
      if constexpr (kDerivs) {
        double c = grad_base;
        if (w) c *= static_cast<double>(w[sample]);
        if (go) c *= static_cast<double>(go[sample]);
        r.coef = static_cast<T>(c);
      }
      const double v = loss.template row<W>(r);
      if constexpr ((W & kValue) != 0) {
        const double weighted = w ? static_cast<double>(w[sample]) * v : v;
        if (pr.per_sample) pr.per_sample[sample] = static_cast<T>(weighted);
        tile_sum += weighted;
      }
    }
    part[t] = tile_sum;
  });
  double total = 0.0;
  for (index_t t = 0; t < tiles; ++t) total += part[t];
  return total;
}

/// The tiled pass over all rows. Returns Σ_samples weight * per-sample loss.
template <unsigned W, class Loss, class T>
double run_rows(const Loss& loss, const RowsProblem<T>& pr, double grad_base) {
  if (pr.shape.samples() == 0) return 0.0;
  if (pr.shape.axis == 0) {
    // No classes: every per-sample loss is an empty sum, and there is no
    // gradient element to write.
    if constexpr ((W & kValue) != 0) {
      if (pr.per_sample) std::fill_n(pr.per_sample, pr.shape.samples(), T(0));
    }
    return 0.0;
  }
  const bool unit = pr.y_pred.stride[1] == 1 && (!pr.y_true.data || pr.y_true.stride[1] == 1) &&
                    ((W & kGrad) == 0 || pr.grad.stride[1] == 1) &&
                    ((W & kHess) == 0 || pr.hess.stride[1] == 1);
  if (unit) return run_rows_impl<W, true>(loss, pr, grad_base);
  return run_rows_impl<W, false>(loss, pr, grad_base);
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
  ElementwiseResult res;
  const index_t n_samples = s.samples();
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
  // Keras's divide_no_nan: a zero divisor gives a zero loss and gradient.
  const double scale = res.divisor == 0.0 ? 0.0 : 1.0 / res.divisor;
  const bool reduced = pr.reduction != Reduction::None;
  const double grad_base = pr.per_element ? 1.0 : pr.grad_output_scalar * (reduced ? scale : 1.0);
  const bool value = pr.want_value && !pr.per_element;
  double total = 0.0;
  if (pr.hess.data) {
    if constexpr (Loss::kHasHessian) {
      run_rows<kGrad | kHess>(loss, pr, grad_base);
    } else {
      throw std::invalid_argument(std::string(Loss::kName) + " has no Hessian");
    }
  } else if (pr.grad.data) {
    total = value ? run_rows<kValue | kGrad>(loss, pr, grad_base)
                  : run_rows<kGrad>(loss, pr, grad_base);
  } else if (value) {
    total = run_rows<kValue>(loss, pr, grad_base);
  }
  res.value = reduced ? (res.divisor == 0.0 ? 0.0 : total * scale) : total;
  return res;
}

}  // namespace fastloss

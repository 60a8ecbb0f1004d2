// The declared multi-input elementwise losses: losses whose element is not one
// (y_true, y_pred) pair but several same-shaped inputs, targets first and
// trained inputs last (a Gaussian's target, mean and variance; a survival
// time's lower and upper bounds and the raw score). Each loss is a struct with
// a declaration (`static constexpr MultiInputInfo kInfo`), its parameters as
// doubles checked by checked_param, and its math per element:
//
//   T value_grad(const T* in, T* g) const;   // in[n_inputs] -> loss, g[n_trained]
//   void grad_hess(const T* in, T* g, T* h) const;  // when kHasHessian
//
// Everything else is generic and here: one kernel over rows of D elements
// (the per-sample mean over the last axis, or D = 1 for a loss of PyTorch's
// elementwise convention), float32 and float64, value and gradients in one
// pass, threads by a split of the rows that depends on the shape alone, so
// the results are the same bits for every thread count. The bindings, the
// Python class, its docstring, names and the tests are made from the
// declaration (docs/adding-a-loss.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "../detail/driver.hpp"
#include "../detail/isa.hpp"
#include "../detail/threads.hpp"
#include "info.hpp"

namespace fastloss {

inline constexpr int kMaxInputs = 4;

/// Where the tests draw an input: Real (normal), Positive (in [0.2, 2]),
/// LowerBound / UpperBound (a censored time's bounds, drawn together:
/// lower >= 0 with some zeros, upper == lower, +inf or above lower).
enum class InputDraw : int { Real, Positive, LowerBound, UpperBound };

/// One input of a multi-input loss, in the order of the call.
struct InputInfo {
  const char* name = nullptr;
  const char* doc = "";
  /// The values it accepts; Range::Any: every value (NaN propagates). The
  /// Python layer refuses an entry outside it, naming `what` one entry is.
  Range range = Range::Any;
  const char* what = "";
  InputDraw draw = InputDraw::Real;
  /// true: the input may also hold one value per sample (the shape without
  /// the last axis, or with it 1), shared by the sample's elements; its
  /// gradient then sums over them. Only with AxisArg::Last.
  bool per_sample = false;
};

/// One element worked out by hand from the formula, default parameters.
struct MultiHandValue {
  double in[kMaxInputs] = {};
  double value = std::numeric_limits<double>::quiet_NaN();  // NaN: no entry
};

/// The declaration of a multi-input loss.
struct MultiInputInfo {
  const char* cls;           // the Python class
  const char* default_name;  // the object's default name (fl.get takes it too)
  const char* aliases;       // other names fl.get takes, separated by spaces
  /// AxisArg::None: each sample's loss is the mean over the last axis (Keras);
  /// AxisArg::Elementwise: every element is a sample (PyTorch's convention).
  AxisArg axis;
  InputInfo inputs[kMaxInputs];
  int n_trained;             // the last n_trained inputs have gradients
  const char* summary;
  const char* formula;
  const char* gradient;
  const char* hessian;       // "" when there is none
  const char* notes;
  const char* no_hessian;    // why gradient_hessian refuses, when there is no Hessian
  ParamInfo params[kMaxParams];
  /// Per parameter: "" (a number, or a flag with Range::Bool), or the words a
  /// string parameter takes, separated by spaces; the struct gets its index.
  const char* choices[kMaxParams];
  MultiHandValue hand[kMaxHandValues];
  /// {a, b}: inputs[a] <= inputs[b] is required (a censored time's bounds);
  /// {-1, -1}: no such rule.
  int ordered[2] = {-1, -1};

  constexpr int n_inputs() const {
    int n = 0;
    while (n < kMaxInputs && inputs[n].name != nullptr) ++n;
    return n;
  }
  constexpr int n_targets() const { return n_inputs() - n_trained; }
  constexpr int n_params() const {
    int n = 0;
    while (n < kMaxParams && params[n].name != nullptr) ++n;
    return n;
  }
  constexpr int n_hand() const {
    int n = 0;
    while (n < kMaxHandValues && hand[n].value == hand[n].value) ++n;
    return n;
  }
};

namespace detail {
/// The constructor's check of parameter k of a declared multi-input loss.
inline double checked_param(const MultiInputInfo& info, int k, double value) {
  const ParamInfo& p = info.params[k];
  if (!in_range(p.range, value)) {
    throw std::invalid_argument(std::string(info.cls) + ": " + p.name + " must " +
                                range_text(p.range) + ", got " + std::to_string(value));
  }
  return value;
}

template <class S, std::size_t... I>
S construct_from(const double* p, std::index_sequence<I...>) {
  return S(p[I]...);
}
}  // namespace detail

/// The struct S from its parameters in the declared order (p holds n_params).
template <class S>
S make_multi_input(const double* p) {
  return detail::construct_from<S>(p, std::make_index_sequence<S::kInfo.n_params()>{});
}

namespace multi_input {

/// Elements one task owns (a shape-only split of the rows).
inline constexpr index_t kTaskElements = 8192;

/// Where the kernel reads and writes. Inputs and outputs are C-contiguous:
/// an input is (rows, D), or (rows,) when per_row[k]; a gradient or Hessian
/// has its input's layout.
template <class T>
struct Arrays {
  const T* in[kMaxInputs] = {};
  bool per_row[kMaxInputs] = {};
  double* values = nullptr;          ///< (rows,) each row's loss, or null
  T* grad[kMaxInputs] = {};          ///< per trained input, or null
  T* hess[kMaxInputs] = {};          ///< per trained input (the Hessian pass), or null
  const T* row_scale = nullptr;      ///< (rows,) multiplies each row's derivatives; null = 1
  /// true: a row's loss (and its derivatives) is the mean over its D elements;
  /// false: their sum (the unreduced Hessian pass).
  bool mean_over_row = true;
};

namespace detail {

/// Rows [r0, r1) when every input holds one value per element: the elements
/// are mapped in chunks (no reduction inside the loop, so it vectorises), and
/// a row's values are summed in float64 over kLanes accumulators in a fixed
/// order. With D == 1 (every element a sample) the chunks run across rows.
template <class S, class T>
FASTLOSS_DISPATCH void rows_dense(const S& loss, index_t r0, index_t r1, index_t D,
                                  const Arrays<T>& a, double inv_d, bool any_grad,
                                  bool any_hess) {
  constexpr int n_in = S::kInfo.n_inputs();
  constexpr int n_tr = S::kInfo.n_trained;
  constexpr index_t kChunk = fastloss::detail::kChunk;
  constexpr int kLanes = fastloss::detail::kLanes;
  T vals[kChunk];
  const T* in[kMaxInputs] = {};
  T* gp[kMaxInputs] = {};
  T* hp[kMaxInputs] = {};
  for (int k = 0; k < n_in; ++k) in[k] = a.in[k];
  for (int t = 0; t < n_tr; ++t) {
    gp[t] = a.grad[t];
    hp[t] = a.hess[t];
  }
  const int pass = any_hess ? 2 : any_grad ? 1 : 0;
  // the elements [e0, e0 + m), all of one row when D > 1, scaled by `scale`
  // (null: per element from row_scale, D == 1)
  auto map = [&](index_t e0, index_t m, const T* scale_one) {
    T one_scale[kChunk];
    for (index_t j = 0; j < m; ++j)
      one_scale[j] = scale_one ? *scale_one : a.row_scale ? a.row_scale[e0 + j] : T(1);
    if (pass == 0) {
      for (index_t j = 0; j < m; ++j) {
        T x[kMaxInputs] = {}, g[kMaxInputs] = {};
        for (int k = 0; k < n_in; ++k) x[k] = in[k][e0 + j];
        vals[j] = loss.value_grad(x, g);
      }
    } else if (pass == 1) {
      for (index_t j = 0; j < m; ++j) {
        T x[kMaxInputs] = {}, g[kMaxInputs] = {};
        for (int k = 0; k < n_in; ++k) x[k] = in[k][e0 + j];
        vals[j] = loss.value_grad(x, g);
        for (int t = 0; t < n_tr; ++t) gp[t][e0 + j] = g[t] * one_scale[j];
      }
    } else {
      for (index_t j = 0; j < m; ++j) {
        T x[kMaxInputs] = {}, g[kMaxInputs] = {}, h[kMaxInputs] = {};
        for (int k = 0; k < n_in; ++k) x[k] = in[k][e0 + j];
        loss.grad_hess(x, g, h);
        for (int t = 0; t < n_tr; ++t) {
          gp[t][e0 + j] = g[t] * one_scale[j];
          hp[t][e0 + j] = h[t] * one_scale[j];
        }
      }
    }
  };
  if (D == 1) {
    for (index_t c0 = r0; c0 < r1; c0 += kChunk) {
      const index_t m = std::min<index_t>(kChunk, r1 - c0);
      map(c0, m, nullptr);
      if (a.values && !any_hess)
        for (index_t j = 0; j < m; ++j) a.values[c0 + j] = static_cast<double>(vals[j]);
    }
    return;
  }
  for (index_t r = r0; r < r1; ++r) {
    const T scale = static_cast<T>(
        (a.row_scale ? static_cast<double>(a.row_scale[r]) : 1.0) * inv_d);
    double acc[kLanes] = {};
    for (index_t d0 = 0; d0 < D; d0 += kChunk) {
      const index_t m = std::min<index_t>(kChunk, D - d0);
      map(r * D + d0, m, &scale);
      if (a.values && !any_hess)
        for (index_t j = 0; j < m; ++j) acc[j % kLanes] += static_cast<double>(vals[j]);
    }
    if (a.values) {
      double sum = 0.0;
      for (int l = 0; l < kLanes; ++l) sum += acc[l];
      a.values[r] = sum * inv_d;
    }
  }
}

/// Rows [r0, r1) when an input holds one value per row: element by element,
/// a per-row input's derivatives summed over the row in float64.
template <class S, class T>
FASTLOSS_DISPATCH void rows_general(const S& loss, index_t r0, index_t r1, index_t D,
                                    const Arrays<T>& a, double inv_d, bool any_grad,
                                    bool any_hess) {
  constexpr int n_in = S::kInfo.n_inputs();
  constexpr int n_tr = S::kInfo.n_trained;
  constexpr int first = n_in - n_tr;
  T x[kMaxInputs] = {}, g[kMaxInputs] = {}, h[kMaxInputs] = {};
  for (index_t r = r0; r < r1; ++r) {
    const T scale = static_cast<T>(
        (a.row_scale ? static_cast<double>(a.row_scale[r]) : 1.0) * inv_d);
    double sum = 0.0;
    double row_g[kMaxInputs] = {}, row_h[kMaxInputs] = {};
    for (index_t d = 0; d < D; ++d) {
      for (int k = 0; k < n_in; ++k) x[k] = a.per_row[k] ? a.in[k][r] : a.in[k][r * D + d];
      if (any_hess) {
        loss.grad_hess(x, g, h);
      } else {
        sum += static_cast<double>(loss.value_grad(x, g));
      }
      if (!any_grad && !any_hess) continue;
      for (int t = 0; t < n_tr; ++t) {
        if (a.per_row[first + t]) {
          row_g[t] += static_cast<double>(g[t]);
          if (any_hess) row_h[t] += static_cast<double>(h[t]);
        } else {
          if (a.grad[t]) a.grad[t][r * D + d] = g[t] * scale;
          if (a.hess[t]) a.hess[t][r * D + d] = h[t] * scale;
        }
      }
    }
    if (a.values) a.values[r] = sum * inv_d;
    for (int t = 0; t < n_tr; ++t) {
      if (!a.per_row[first + t]) continue;
      if (a.grad[t]) a.grad[t][r] = static_cast<T>(row_g[t]) * scale;
      if (a.hess[t]) a.hess[t][r] = static_cast<T>(row_h[t]) * scale;
    }
  }
}

}  // namespace detail

/// The loss S over rows x D elements (see Arrays). With a Hessian output the
/// gradients are written by grad_hess, else by value_grad (with the values).
/// The rows are split into tasks by the shape alone, each row computed by one
/// thread in a fixed order: the same bits for every thread count.
template <class S, class T>
void run(const S& loss, index_t rows, index_t D, const Arrays<T>& a) {
  constexpr int n_in = S::kInfo.n_inputs();
  constexpr int n_tr = S::kInfo.n_trained;
  static_assert(n_tr >= 1 && n_tr <= n_in, "a multi-input loss trains 1..n_inputs inputs");
  if (rows <= 0) return;
  bool any_grad = false, any_hess = false, dense = true;
  for (int t = 0; t < n_tr; ++t) {
    any_grad = any_grad || a.grad[t] != nullptr;
    any_hess = any_hess || a.hess[t] != nullptr;
  }
  for (int k = 0; k < n_in; ++k) dense = dense && !a.per_row[k];
  // the dense path writes every trained input's gradient (and Hessian) or none
  for (int t = 0; t < n_tr; ++t)
    dense = dense && (a.grad[t] != nullptr) == any_grad && (a.hess[t] != nullptr) == any_hess;
  const index_t rows_per_task = std::max<index_t>(1, kTaskElements / std::max<index_t>(D, 1));
  const index_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  const double inv_d = a.mean_over_row && D > 0 ? 1.0 / static_cast<double>(D) : 1.0;
  fastloss::detail::parallel_tiles(tasks, fastloss::detail::threads_for(tasks), [&](index_t t) {
    const index_t r0 = t * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    if (dense)
      detail::rows_dense(loss, r0, r1, D, a, inv_d, any_grad, any_hess);
    else
      detail::rows_general(loss, r0, r1, D, a, inv_d, any_grad, any_hess);
  });
}

}  // namespace multi_input

}  // namespace fastloss

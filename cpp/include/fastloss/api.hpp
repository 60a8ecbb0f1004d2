// The public C++ API of the elementwise losses: plain function templates on
// pointers, sizes and optional strides, for float and double.
//
//   fastloss::Huber loss(1.5);
//   double v = fastloss::forward(loss, y_true, y_pred, n);              // mean
//   fastloss::backward(loss, y_true, y_pred, n, grad);                  // d mean / d y_pred
//   double v2 = fastloss::forward_backward(loss, y_true, y_pred, n, grad,
//                                          fastloss::Reduction::Sum, weights);
//   fastloss::gradient_hessian(loss, y_true, y_pred, n, grad, hess);    // per element
//
// Every function here only checks its arguments and fills one
// ElementwiseProblem for evaluate() (detail/driver.hpp): the loops, threads
// and reductions live in the driver, the math in the loss structs. The full
// reference is cpp/README.md. The class-axis losses (softmax cross-entropy,
// KL divergence, ...) have the same functions in api_classaxis.hpp, which
// this header includes at its end.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/driver.hpp"
#include "losses/linear_ce.hpp"
#include "registry.hpp"

namespace fastloss {

/// n elements at data[0], data[stride], data[2 * stride], ... (stride in
/// elements; 0 broadcasts one value, negative walks backwards). Make one with
/// strided() for inputs and strided_out() for outputs.
template <class T>
struct Strided {
  T* data = nullptr;
  index_t stride = 1;
};

/// A rows x features matrix: element (r, f) at data[r * row_stride + f * feature_stride].
/// Row-major contiguous is {data, features, 1}; column-major is {data, 1, rows}.
template <class T>
struct Strided2D {
  T* data = nullptr;
  index_t row_stride = 0;
  index_t feature_stride = 1;
};

/// A read-only strided input (accepts T* and const T*).
template <class T>
constexpr Strided<const T> strided(const T* data, index_t stride) noexcept {
  return {data, stride};
}
/// A writable strided output.
template <class T>
constexpr Strided<T> strided_out(T* data, index_t stride) noexcept {
  return {data, stride};
}
/// A read-only strided rows x features input.
template <class T>
constexpr Strided2D<const T> strided(const T* data, index_t row_stride,
                                     index_t feature_stride) noexcept {
  return {data, row_stride, feature_stride};
}
/// A writable strided rows x features output.
template <class T>
constexpr Strided2D<T> strided_out(T* data, index_t row_stride, index_t feature_stride) noexcept {
  return {data, row_stride, feature_stride};
}

/// Whether gradient_hessian() works for Loss (false for the piecewise-linear
/// and piecewise-constant losses, whose second derivative is 0 or undefined).
template <class Loss>
inline constexpr bool has_hessian_v = Loss::kHasHessian;

namespace detail::api {

/// Keeps a parameter out of template argument deduction, so that T is taken
/// from y_pred alone and nullptr works for optional pointers.
template <class T>
struct nondeduced {
  using type = T;
};
template <class T>
using nd = typename nondeduced<T>::type;

/// An elementwise loss: a struct with value_grad(t, p, g) (see losses/*.hpp).
template <class Loss, class = void>
struct is_elementwise : std::false_type {};
template <class Loss>
struct is_elementwise<Loss, std::void_t<decltype(std::declval<const Loss&>().value_grad(
                                double(), double(), std::declval<double&>()))>>
    : std::true_type {};
template <class Loss>
using if_elementwise = std::enable_if_t<is_elementwise<Loss>::value, int>;

template <class Loss, class = void>
struct loss_name {
  static constexpr const char* value = "loss";
};
template <class Loss>
struct loss_name<Loss, std::void_t<decltype(Loss::kName)>> {
  static constexpr const char* value = Loss::kName;
};

/// What one call computes.
enum class Pass { Value, PerSample, Grad, ValueGrad, GradHess };

/// Everything one call receives, in the most general (strided matrix) form;
/// the 1-D functions are the rows x 1 case (every element is a sample).
template <class T>
struct Call {
  const char* function = "";
  bool one_d = true;  // names the sizes "n" (1-D) or "rows"/"features" in messages
  index_t rows = 0, features = 1;
  Strided2D<const T> y_true{}, y_pred{};
  const T* sample_weight = nullptr;
  Reduction reduction = Reduction::SumOverBatchSize;
  double grad_output = 1.0;
  T* per_sample = nullptr;
  Strided2D<T> grad{}, hess{};
  // The class-axis functions (api_classaxis.hpp): the second size is named
  // "classes"; y_true is read only by dense-target losses, `labels` only by
  // label losses.
  bool class_axis = false;
  bool reads_y_true = true;
  bool reads_labels = false;
  const std::int64_t* labels = nullptr;
};

/// Throws E (std::invalid_argument unless told) naming the function and the loss.
template <class Loss, class E = std::invalid_argument>
[[noreturn]] void fail(const char* function, const std::string& what) {
  throw E(std::string("fastloss::") + function + "(" + loss_name<Loss>::value + "): " + what);
}

template <class V>
View3<V> view_of(const Strided2D<V>& a, bool empty) {
  // With no elements (rows without features) nothing is read or written, but
  // the driver still forms row addresses: a stand-in address and zero
  // strides keep those well defined for null arrays.
  static std::remove_const_t<V> nothing{};
  View3<V> v;
  v.data = (empty && !a.data) ? &nothing : a.data;
  v.stride[0] = empty ? 0 : a.row_stride;
  v.stride[1] = empty ? 0 : a.feature_stride;
  v.stride[2] = 0;
  return v;
}

/// The checks every function makes before it computes anything: sizes,
/// pointers, the reduction, output strides, the Hessian's existence. Throws
/// std::invalid_argument naming the function, the loss and the argument.
template <class Loss, class T>
void check(const Call<T>& c, Pass pass) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "fastloss: the kernels take float or double arrays");
  const char* fn = c.function;
  const char* second = c.class_axis ? "classes" : "features";
  if (c.one_d) {
    if (c.rows < 0) fail<Loss>(fn, "n must be >= 0, got " + std::to_string(c.rows));
  } else {
    if (c.rows < 0) fail<Loss>(fn, "rows must be >= 0, got " + std::to_string(c.rows));
    if (c.features < 0)
      fail<Loss>(fn, std::string(second) + " must be >= 0, got " + std::to_string(c.features));
  }
  if (c.features > 0 && c.rows > std::numeric_limits<index_t>::max() / c.features)
    fail<Loss>(fn, std::string("rows * ") + second + " overflows");
  const index_t elements = c.rows * c.features;
  const std::string count = c.one_d ? "n = " + std::to_string(c.rows)
                                    : std::to_string(c.rows) + " x " +
                                          std::to_string(c.features) + " elements";
  if (elements > 0) {
    if (c.reads_y_true && !c.y_true.data) fail<Loss>(fn, "y_true is null with " + count);
    if (!c.y_pred.data) fail<Loss>(fn, "y_pred is null with " + count);
  }
  if (c.reads_labels && c.rows > 0 && !c.labels)
    fail<Loss>(fn, "labels is null with rows = " + std::to_string(c.rows));
  switch (c.reduction) {
    case Reduction::None:
    case Reduction::Sum:
    case Reduction::SumOverBatchSize:
    case Reduction::MeanWithSampleWeight: break;
    default: fail<Loss>(fn, "unknown Reduction value " +
                                std::to_string(static_cast<int>(c.reduction)));
  }
  if ((pass == Pass::Value || pass == Pass::ValueGrad) && c.reduction == Reduction::None)
    fail<Loss>(fn, "Reduction::None has one loss per sample, not one value; "
                   "call per_sample_loss() for them");
  // An output with a zero stride along an axis of several elements would
  // have several threads write one place.
  auto check_out = [&](const Strided2D<T>& a, const char* name) {
    if (elements == 0) return;
    if (!a.data) fail<Loss>(fn, std::string(name) + " is null with " + count);
    if ((a.row_stride == 0 && c.rows > 1) || (a.feature_stride == 0 && c.features > 1))
      fail<Loss>(fn, std::string(name) + " has a zero stride: outputs cannot broadcast");
  };
  if (pass == Pass::Grad || pass == Pass::ValueGrad || pass == Pass::GradHess)
    check_out(c.grad, "grad_out");
  if (pass == Pass::GradHess) {
    if constexpr (!Loss::kHasHessian) {
      fail<Loss>(fn, c.class_axis
                         ? "this loss has no Hessian; see has_hessian_v"
                         : "this loss has no Hessian (it is piecewise linear or constant: the "
                           "second derivative is zero wherever it exists); see has_hessian_v");
    }
    check_out(c.hess, "hess_out");
  }
  if (pass == Pass::PerSample && c.rows > 0 && !c.per_sample)
    fail<Loss>(fn, "loss_out is null with " + count);
}

/// The fields the common Problem (of either family) takes from a checked
/// Call, y_true aside: the shape (rows x features), y_pred, the weights, the
/// reduction and what `pass` computes into which output.
template <class T>
void fill_problem(Problem<T>& pr, const Call<T>& c, Pass pass) {
  const bool empty = c.rows * c.features == 0;
  pr.shape = Shape3{c.rows, c.features, 1};
  pr.y_pred = view_of(c.y_pred, empty);
  pr.sample_weight = c.sample_weight;
  pr.grad_output_scalar = c.grad_output;
  pr.reduction = c.reduction;
  switch (pass) {
    case Pass::Value: break;
    case Pass::PerSample:
      pr.reduction = Reduction::None;
      pr.per_sample = c.per_sample;
      break;
    case Pass::Grad:
      pr.want_value = false;
      pr.grad = view_of(c.grad, empty);
      break;
    case Pass::ValueGrad: pr.grad = view_of(c.grad, empty); break;
    case Pass::GradHess:
      pr.want_value = false;
      pr.reduction = Reduction::None;  // unreduced: no divisor to compute
      pr.per_element = true;
      pr.grad = view_of(c.grad, empty);
      pr.hess = view_of(c.hess, empty);
      break;
  }
}

template <class Loss, class T>
double run(const Loss& loss, const Call<T>& c, Pass pass) {
  check<Loss>(c, pass);
  const bool empty = c.rows * c.features == 0;
  ElementwiseProblem<T> pr;
  pr.y_true = view_of(c.y_true, empty);
  fill_problem(pr, c, pass);
  // A 1-D call is n one-element rows. When no per-sample quantity is
  // involved (no weights; a mean, whose gradient coefficient grad_output / n
  // is the same bits either way; or the per-element gradient_hessian) it is
  // also ONE row of n elements, which the driver runs through its vectorised
  // row loop: about 15x faster for the cheap losses. A mean's value is the
  // same sum, added in the row's lane order.
  const bool mean = c.reduction == Reduction::SumOverBatchSize ||
                    c.reduction == Reduction::MeanWithSampleWeight;
  const bool one_row = c.one_d && c.rows > 0 && !c.sample_weight &&
                       (pass == Pass::GradHess || (pass != Pass::PerSample && mean));
  if (one_row) {
    pr.shape = Shape3{1, c.rows, 1};
    auto to_row = [](auto& v) {
      v.stride[1] = v.stride[0];
      v.stride[0] = 0;
    };
    to_row(pr.y_true);
    to_row(pr.y_pred);
    to_row(pr.grad);
    to_row(pr.hess);
  }
  return evaluate(loss, pr).value;
}

template <class T>
Strided2D<T> column(Strided<T> a) {
  return {a.data, a.stride, 1};
}

template <class T>
Call<T> one_d(const char* fn, index_t n, Strided<const T> y_true, Strided<const T> y_pred) {
  Call<T> c;
  c.function = fn;
  c.one_d = true;
  c.rows = n;
  c.features = 1;
  c.y_true = column(y_true);
  c.y_pred = column(y_pred);
  return c;
}

template <class T>
Call<T> batched(const char* fn, index_t rows, index_t features, Strided2D<const T> y_true,
                Strided2D<const T> y_pred) {
  Call<T> c;
  c.function = fn;
  c.one_d = false;
  c.rows = rows;
  c.features = features;
  c.y_true = y_true;
  c.y_pred = y_pred;
  return c;
}

}  // namespace detail::api

// ---------------------------------------------------------------------------
// 1-D: n samples of one element each. Sizes and strides count elements.
// sample_weight, when given, holds n contiguous weights.
// ---------------------------------------------------------------------------

/// The reduced loss: Σ w_i f(t_i, p_i) divided as `reduction` says (Keras 3).
/// Reduction::None is rejected: use per_sample_loss().
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward(const Loss& loss, Strided<const detail::api::nd<T>> y_true,
               Strided<const T> y_pred, index_t n,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::one_d<T>("forward", n, y_true, y_pred);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  return detail::api::run(loss, c, detail::api::Pass::Value);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred, index_t n,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  return forward(loss, strided(y_true, 1), strided(y_pred, 1), n, reduction, sample_weight);
}

/// The per-sample losses w_i f(t_i, p_i) (Keras's reduction "none") into
/// loss_out[0 .. n), contiguous.
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void per_sample_loss(const Loss& loss, Strided<const detail::api::nd<T>> y_true,
                     Strided<const T> y_pred, index_t n, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::one_d<T>("per_sample_loss", n, y_true, y_pred);
  c.per_sample = loss_out;
  c.sample_weight = sample_weight;
  detail::api::run(loss, c, detail::api::Pass::PerSample);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void per_sample_loss(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                     index_t n, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  per_sample_loss(loss, strided(y_true, 1), strided(y_pred, 1), n, loss_out, sample_weight);
}

/// grad_out = grad_output * d forward(...) / d y_pred. With Reduction::None
/// it is grad_output * w_i * f'(t_i, p_i). grad_out may be y_pred itself.
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void backward(const Loss& loss, Strided<const detail::api::nd<T>> y_true,
              Strided<const T> y_pred, index_t n, Strided<detail::api::nd<T>> grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  auto c = detail::api::one_d<T>("backward", n, y_true, y_pred);
  c.grad = detail::api::column(grad_out);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  detail::api::run(loss, c, detail::api::Pass::Grad);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void backward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred, index_t n,
              detail::api::nd<T>* grad_out, Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  backward(loss, strided(y_true, 1), strided(y_pred, 1), n, strided_out(grad_out, 1), reduction,
           sample_weight, grad_output);
}

/// forward() and backward() in one pass over memory; returns the value,
/// writes the gradient. Bitwise equal to the two separate calls.
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward_backward(const Loss& loss, Strided<const detail::api::nd<T>> y_true,
                        Strided<const T> y_pred, index_t n,
                        Strided<detail::api::nd<T>> grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  auto c = detail::api::one_d<T>("forward_backward", n, y_true, y_pred);
  c.grad = detail::api::column(grad_out);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  return detail::api::run(loss, c, detail::api::Pass::ValueGrad);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward_backward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                        index_t n, detail::api::nd<T>* grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  return forward_backward(loss, strided(y_true, 1), strided(y_pred, 1), n,
                          strided_out(grad_out, 1), reduction, sample_weight, grad_output);
}

/// Per element, unreduced: grad_out = w_i f'(t_i, p_i), hess_out = w_i f''(t_i, p_i)
/// (the XGBoost / LightGBM custom-objective convention). Throws
/// std::invalid_argument when !has_hessian_v<Loss>.
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void gradient_hessian(const Loss& loss, Strided<const detail::api::nd<T>> y_true,
                      Strided<const T> y_pred, index_t n, Strided<detail::api::nd<T>> grad_out,
                      Strided<detail::api::nd<T>> hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::one_d<T>("gradient_hessian", n, y_true, y_pred);
  c.grad = detail::api::column(grad_out);
  c.hess = detail::api::column(hess_out);
  c.sample_weight = sample_weight;
  detail::api::run(loss, c, detail::api::Pass::GradHess);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void gradient_hessian(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                      index_t n, detail::api::nd<T>* grad_out, detail::api::nd<T>* hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  gradient_hessian(loss, strided(y_true, 1), strided(y_pred, 1), n, strided_out(grad_out, 1),
                   strided_out(hess_out, 1), sample_weight);
}

// ---------------------------------------------------------------------------
// Batched: rows samples x features elements, Keras's layout with axis=-1.
// Each sample's loss is the mean over its features; sample_weight, when
// given, holds `rows` contiguous weights.
// ---------------------------------------------------------------------------

/// The reduced loss: Σ_r w_r mean_f f(t_rf, p_rf), divided as `reduction` says.
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
               Strided2D<const T> y_pred, index_t rows, index_t features,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::batched<T>("forward", rows, features, y_true, y_pred);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  return detail::api::run(loss, c, detail::api::Pass::Value);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
               index_t rows, index_t features,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  return forward(loss, strided(y_true, features, 1), strided(y_pred, features, 1), rows,
                 features, reduction, sample_weight);
}

/// The per-sample losses w_r mean_f f(t_rf, p_rf) into loss_out[0 .. rows).
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void per_sample_loss(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
                     Strided2D<const T> y_pred, index_t rows, index_t features,
                     detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::batched<T>("per_sample_loss", rows, features, y_true, y_pred);
  c.per_sample = loss_out;
  c.sample_weight = sample_weight;
  detail::api::run(loss, c, detail::api::Pass::PerSample);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void per_sample_loss(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                     index_t rows, index_t features, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  per_sample_loss(loss, strided(y_true, features, 1), strided(y_pred, features, 1), rows,
                  features, loss_out, sample_weight);
}

/// grad_out = grad_output * d forward(...) / d y_pred (rows x features).
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void backward(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
              Strided2D<const T> y_pred, index_t rows, index_t features,
              Strided2D<detail::api::nd<T>> grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  auto c = detail::api::batched<T>("backward", rows, features, y_true, y_pred);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  detail::api::run(loss, c, detail::api::Pass::Grad);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void backward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred, index_t rows,
              index_t features, detail::api::nd<T>* grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  backward(loss, strided(y_true, features, 1), strided(y_pred, features, 1), rows, features,
           strided_out(grad_out, features, 1), reduction, sample_weight, grad_output);
}

/// forward() and backward() of the batched loss in one pass.
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward_backward(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
                        Strided2D<const T> y_pred, index_t rows, index_t features,
                        Strided2D<detail::api::nd<T>> grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  auto c = detail::api::batched<T>("forward_backward", rows, features, y_true, y_pred);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  return detail::api::run(loss, c, detail::api::Pass::ValueGrad);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
double forward_backward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                        index_t rows, index_t features, detail::api::nd<T>* grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  return forward_backward(loss, strided(y_true, features, 1), strided(y_pred, features, 1), rows,
                          features, strided_out(grad_out, features, 1), reduction,
                          sample_weight, grad_output);
}

/// Per element, unreduced and not divided by features: grad_out = w_r f'(t, p),
/// hess_out = w_r f''(t, p).
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void gradient_hessian(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
                      Strided2D<const T> y_pred, index_t rows, index_t features,
                      Strided2D<detail::api::nd<T>> grad_out,
                      Strided2D<detail::api::nd<T>> hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::batched<T>("gradient_hessian", rows, features, y_true, y_pred);
  c.grad = grad_out;
  c.hess = hess_out;
  c.sample_weight = sample_weight;
  detail::api::run(loss, c, detail::api::Pass::GradHess);
}
template <class Loss, class T, detail::api::if_elementwise<Loss> = 0>
void gradient_hessian(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                      index_t rows, index_t features, detail::api::nd<T>* grad_out,
                      detail::api::nd<T>* hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  gradient_hessian(loss, strided(y_true, features, 1), strided(y_pred, features, 1), rows,
                   features, strided_out(grad_out, features, 1),
                   strided_out(hess_out, features, 1), sample_weight);
}

}  // namespace fastloss

namespace fastloss {

/// Cross-entropy on a linear head without the (N, V) logits (losses/linear_ce.hpp):
/// z = hidden (N, H) @ weight (V, H)^T + bias (V), then softmax cross-entropy with
/// PyTorch's cross_entropy semantics (ignore_class, label_smoothing, class_weight
/// (V,) or null). Returns the reduced loss: Reduction::SumOverBatchSize is
/// PyTorch's "mean", sum_i w_{y_i} l_i / sum_i w_{y_i} over the rows that are not
/// ignored (NaN when every row is ignored, as PyTorch; 0 for N == 0);
/// Reduction::Sum the sum. The gradients of that value (any may be null) are
/// written to d_hidden (N, H), d_weight (V, H) and d_bias (V). `gemm` makes the
/// matrix products: your BLAS through linear_ce::fortran_gemm, or any callback
/// (fastloss has no BLAS of its own). Throws std::invalid_argument for a label
/// outside [0, V) that is not ignore_class.
template <class T>
double linear_cross_entropy(const T* hidden, const T* weight, const T* bias,
                            const std::int64_t* labels, index_t N, index_t H, index_t V,
                            const linear_ce::Gemm<T>& gemm, T* d_hidden = nullptr,
                            T* d_weight = nullptr, T* d_bias = nullptr,
                            const linear_ce::Options& options = {},
                            const double* class_weight = nullptr,
                            Reduction reduction = Reduction::SumOverBatchSize) {
  if (reduction != Reduction::SumOverBatchSize && reduction != Reduction::Sum)
    throw std::invalid_argument("linear_cross_entropy: reduction must be SumOverBatchSize or Sum");
  if (N < 0 || H < 0 || V < 1 || !labels || !hidden || !weight)
    throw std::invalid_argument("linear_cross_entropy: needs hidden, weight, labels and V >= 1");
  linear_ce::Inputs<T> in;
  in.hidden = hidden;
  in.weight = weight;
  in.bias = bias;
  in.labels = labels;
  in.class_weight = class_weight;
  in.N = N;
  in.H = H;
  in.V = V;
  linear_ce::check(in, options);
  double divisor = 1.0;
  if (reduction == Reduction::SumOverBatchSize) {
    divisor = 0.0;
    for (index_t i = 0; i < N; ++i)
      if (labels[i] != options.ignore_class) divisor += class_weight ? class_weight[labels[i]] : 1.0;
  }
  std::vector<double> per_row(static_cast<std::size_t>(N));
  const double scale = divisor == 0.0 ? 0.0 : 1.0 / divisor;
  std::vector<double> coef(static_cast<std::size_t>(N), scale);
  linear_ce::Outputs<T> out{per_row.data(), coef.data(), d_hidden, d_weight, d_bias};
  linear_ce::linear_cross_entropy(in, options, gemm, out);
  if (N == 0) return 0.0;
  double total = 0.0;
  for (double l : per_row) total += l;
  if (reduction == Reduction::Sum) return total;
  return divisor == 0.0 ? std::numeric_limits<double>::quiet_NaN() : total / divisor;
}

}  // namespace fastloss

// The class-axis functions build on the helpers above.
#include "api_classaxis.hpp"

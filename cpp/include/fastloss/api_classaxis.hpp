// The public C++ API of the class-axis losses (losses/classaxis.hpp): the
// functions of api.hpp on (rows x classes) matrices, one sample per row.
//
//   fastloss::CategoricalCrossentropy cce(/*from_logits=*/true);
//   double v = fastloss::forward(cce, y_true, logits, rows, classes);      // mean
//   fastloss::forward_backward(cce, y_true, logits, rows, classes, grad);  // fused
//   fastloss::SparseCategoricalCrossentropy sce(true);
//   double s = fastloss::forward(sce, labels, logits, rows, classes);      // int64 ids
//   double h = fastloss::forward(fastloss::Entropy{}, probs, rows, classes);
//
// What a loss reads besides y_pred is its kInput: a dense (rows x classes)
// y_true (RowInput::Dense), one std::int64_t class id per row
// (RowInput::Labels; a negative id ignores the row) or nothing
// (RowInput::None, Entropy). Each function checks its arguments with api.hpp's
// check() and fills one RowsProblem for evaluate_rows() (detail/rows.hpp).
// The full reference is cpp/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "api.hpp"
#include "detail/rows.hpp"

namespace fastloss {

namespace detail::api {

/// A class-axis loss whose kInput is I.
template <class Loss, RowInput I, class = void>
struct reads : std::false_type {};
template <class Loss, RowInput I>
struct reads<Loss, I, std::void_t<decltype(Loss::kInput)>>
    : std::bool_constant<Loss::kInput == I> {};
template <class Loss, RowInput I>
using if_reads = std::enable_if_t<reads<Loss, I>::value, int>;

/// Losses with per-class weights (SparseCategoricalCrossentropy::class_weight).
template <class Loss, class = void>
struct has_class_weight : std::false_type {};
template <class Loss>
struct has_class_weight<
    Loss, std::void_t<decltype(std::declval<const Loss&>().class_weight.values())>>
    : std::true_type {};

template <class T>
Call<T> rows_call(const char* fn, index_t rows, index_t classes, Strided2D<const T> y_true,
                  const std::int64_t* labels, Strided2D<const T> y_pred, RowInput input) {
  Call<T> c;
  c.function = fn;
  c.one_d = false;
  c.class_axis = true;
  c.rows = rows;
  c.features = classes;
  c.reads_y_true = input == RowInput::Dense;
  c.reads_labels = input == RowInput::Labels;
  c.y_true = c.reads_y_true ? y_true : Strided2D<const T>{};
  c.labels = labels;
  c.y_pred = y_pred;
  return c;
}

/// What a reduced label loss divides by, as the Python layer's ignore_class
/// does it (Keras folds ignored rows in as a mask): Reduction::SumOverBatchSize
/// counts the rows with a label >= 0, Reduction::MeanWithSampleWeight sums
/// their weights times their class weights. Also checks every label < classes
/// (std::out_of_range). Returns false where the driver's own rule is the same
/// (no ignored row, no class weights).
template <class Loss, class T>
bool label_divisor(const Loss& loss, const Call<T>& c, Pass pass, double& divisor) {
  index_t kept = 0;
  for (index_t r = 0; r < c.rows; ++r) {
    const std::int64_t y = c.labels[r];
    if (y >= c.features) {
      fail<Loss, std::out_of_range>(c.function, "label " + std::to_string(y) + " at row " +
                                                    std::to_string(r) + " is outside [0, " +
                                                    std::to_string(c.features) + ")");
    }
    kept += y >= 0;
  }
  const double* cw = nullptr;
  if constexpr (has_class_weight<Loss>::value) {
    if (!loss.class_weight.empty() && loss.class_weight.size() == c.features)
      cw = loss.class_weight.template data<double>();
  }
  if (pass == Pass::PerSample || pass == Pass::GradHess) return false;  // unreduced
  if (c.reduction == Reduction::SumOverBatchSize && kept < c.rows) {
    divisor = static_cast<double>(kept);
    return true;
  }
  if (c.reduction == Reduction::MeanWithSampleWeight && (kept < c.rows || cw)) {
    double sum = 0.0;
    for (index_t r = 0; r < c.rows; ++r) {
      const std::int64_t y = c.labels[r];
      if (y < 0) continue;
      const double w = c.sample_weight ? static_cast<double>(c.sample_weight[r]) : 1.0;
      sum += cw ? w * cw[y] : w;
    }
    divisor = sum;
    return true;
  }
  return false;
}

template <class Loss, class T>
double run_rows(const Loss& loss, const Call<T>& c, Pass pass) {
  check<Loss>(c, pass);
  RowsProblem<T> pr;
  if (c.reads_y_true) pr.y_true = view_of(c.y_true, c.rows * c.features == 0);
  pr.labels = c.labels;
  fill_problem(pr, c, pass);
  if (c.reads_labels && c.rows > 0) {
    pr.explicit_divisor = label_divisor(loss, c, pass, pr.divisor);
  }
  return evaluate_rows(loss, pr).value;
}

}  // namespace detail::api

// ---------------------------------------------------------------------------
// Class axis: rows samples x classes, the per-sample loss reduces over the
// classes (Keras's axis=-1). Element (r, c) of a matrix is
// data[r * row_stride + c * feature_stride] (Strided2D; the pointer overloads
// take row-major contiguous matrices). sample_weight, when given, holds `rows`
// contiguous weights; labels holds `rows` contiguous class ids.
//
// Every function comes in three forms, chosen by the loss's kInput:
//   dense targets  f(loss, y_true, y_pred, rows, classes, ...)
//   class ids      f(loss, labels, y_pred, rows, classes, ...)
//   y_pred only    f(loss, y_pred, rows, classes, ...)
// ---------------------------------------------------------------------------

/// The reduced loss Σ_r w_r L_r divided as `reduction` says (Keras 3; with
/// class ids, rows with a negative id count neither in the sum nor in the
/// divisor). Reduction::None is rejected: use per_sample_loss().
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
double forward(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
               Strided2D<const T> y_pred, index_t rows, index_t classes,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("forward", rows, classes, y_true, nullptr, y_pred,
                                     RowInput::Dense);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  return detail::api::run_rows(loss, c, detail::api::Pass::Value);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
double forward(const Loss& loss, const std::int64_t* labels, Strided2D<const T> y_pred,
               index_t rows, index_t classes, Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("forward", rows, classes, {}, labels, y_pred,
                                     RowInput::Labels);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  return detail::api::run_rows(loss, c, detail::api::Pass::Value);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
double forward(const Loss& loss, Strided2D<const T> y_pred, index_t rows, index_t classes,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("forward", rows, classes, {}, nullptr, y_pred,
                                     RowInput::None);
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  return detail::api::run_rows(loss, c, detail::api::Pass::Value);
}

/// The per-sample losses w_r L_r into loss_out[0 .. rows) (0 for ignored rows).
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
void per_sample_loss(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
                     Strided2D<const T> y_pred, index_t rows, index_t classes,
                     detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("per_sample_loss", rows, classes, y_true, nullptr, y_pred,
                                     RowInput::Dense);
  c.per_sample = loss_out;
  c.sample_weight = sample_weight;
  detail::api::run_rows(loss, c, detail::api::Pass::PerSample);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
void per_sample_loss(const Loss& loss, const std::int64_t* labels, Strided2D<const T> y_pred,
                     index_t rows, index_t classes, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("per_sample_loss", rows, classes, {}, labels, y_pred,
                                     RowInput::Labels);
  c.per_sample = loss_out;
  c.sample_weight = sample_weight;
  detail::api::run_rows(loss, c, detail::api::Pass::PerSample);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
void per_sample_loss(const Loss& loss, Strided2D<const T> y_pred, index_t rows,
                     index_t classes, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("per_sample_loss", rows, classes, {}, nullptr, y_pred,
                                     RowInput::None);
  c.per_sample = loss_out;
  c.sample_weight = sample_weight;
  detail::api::run_rows(loss, c, detail::api::Pass::PerSample);
}

/// grad_out = grad_output * d forward(...) / d y_pred (rows x classes). With
/// Reduction::None it is grad_output * w_r * dL_r / dy_pred. grad_out may be
/// y_pred itself (same strides).
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
void backward(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
              Strided2D<const T> y_pred, index_t rows, index_t classes,
              Strided2D<detail::api::nd<T>> grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  auto c = detail::api::rows_call<T>("backward", rows, classes, y_true, nullptr, y_pred,
                                     RowInput::Dense);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  detail::api::run_rows(loss, c, detail::api::Pass::Grad);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
void backward(const Loss& loss, const std::int64_t* labels, Strided2D<const T> y_pred,
              index_t rows, index_t classes, Strided2D<detail::api::nd<T>> grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  auto c = detail::api::rows_call<T>("backward", rows, classes, {}, labels, y_pred,
                                     RowInput::Labels);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  detail::api::run_rows(loss, c, detail::api::Pass::Grad);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
void backward(const Loss& loss, Strided2D<const T> y_pred, index_t rows, index_t classes,
              Strided2D<detail::api::nd<T>> grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  auto c = detail::api::rows_call<T>("backward", rows, classes, {}, nullptr, y_pred,
                                     RowInput::None);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  detail::api::run_rows(loss, c, detail::api::Pass::Grad);
}

/// forward() and backward() in one pass over memory: returns the value,
/// writes the gradient.
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
double forward_backward(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
                        Strided2D<const T> y_pred, index_t rows, index_t classes,
                        Strided2D<detail::api::nd<T>> grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  auto c = detail::api::rows_call<T>("forward_backward", rows, classes, y_true, nullptr, y_pred,
                                     RowInput::Dense);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  return detail::api::run_rows(loss, c, detail::api::Pass::ValueGrad);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
double forward_backward(const Loss& loss, const std::int64_t* labels, Strided2D<const T> y_pred,
                        index_t rows, index_t classes, Strided2D<detail::api::nd<T>> grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  auto c = detail::api::rows_call<T>("forward_backward", rows, classes, {}, labels, y_pred,
                                     RowInput::Labels);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  return detail::api::run_rows(loss, c, detail::api::Pass::ValueGrad);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
double forward_backward(const Loss& loss, Strided2D<const T> y_pred, index_t rows,
                        index_t classes, Strided2D<detail::api::nd<T>> grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  auto c = detail::api::rows_call<T>("forward_backward", rows, classes, {}, nullptr, y_pred,
                                     RowInput::None);
  c.grad = grad_out;
  c.reduction = reduction;
  c.sample_weight = sample_weight;
  c.grad_output = grad_output;
  return detail::api::run_rows(loss, c, detail::api::Pass::ValueGrad);
}

/// Per row, unreduced: grad_out = w_r dL_r/dy_pred, hess_out = w_r times the
/// diagonal of d²L_r/dy_pred². Throws std::invalid_argument when
/// !has_hessian_v<Loss>.
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
void gradient_hessian(const Loss& loss, Strided2D<const detail::api::nd<T>> y_true,
                      Strided2D<const T> y_pred, index_t rows, index_t classes,
                      Strided2D<detail::api::nd<T>> grad_out,
                      Strided2D<detail::api::nd<T>> hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("gradient_hessian", rows, classes, y_true, nullptr, y_pred,
                                     RowInput::Dense);
  c.grad = grad_out;
  c.hess = hess_out;
  c.sample_weight = sample_weight;
  detail::api::run_rows(loss, c, detail::api::Pass::GradHess);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
void gradient_hessian(const Loss& loss, const std::int64_t* labels, Strided2D<const T> y_pred,
                      index_t rows, index_t classes, Strided2D<detail::api::nd<T>> grad_out,
                      Strided2D<detail::api::nd<T>> hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("gradient_hessian", rows, classes, {}, labels, y_pred,
                                     RowInput::Labels);
  c.grad = grad_out;
  c.hess = hess_out;
  c.sample_weight = sample_weight;
  detail::api::run_rows(loss, c, detail::api::Pass::GradHess);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
void gradient_hessian(const Loss& loss, Strided2D<const T> y_pred, index_t rows,
                      index_t classes, Strided2D<detail::api::nd<T>> grad_out,
                      Strided2D<detail::api::nd<T>> hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  auto c = detail::api::rows_call<T>("gradient_hessian", rows, classes, {}, nullptr, y_pred,
                                     RowInput::None);
  c.grad = grad_out;
  c.hess = hess_out;
  c.sample_weight = sample_weight;
  detail::api::run_rows(loss, c, detail::api::Pass::GradHess);
}

// ---------------------------------------------------------------------------
// The same on row-major contiguous pointers (row_stride = classes).
// ---------------------------------------------------------------------------

template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
double forward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
               index_t rows, index_t classes, Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  return forward(loss, strided(y_true, classes, 1), strided(y_pred, classes, 1), rows, classes,
                 reduction, sample_weight);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
double forward(const Loss& loss, const std::int64_t* labels, const T* y_pred, index_t rows,
               index_t classes, Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  return forward(loss, labels, strided(y_pred, classes, 1), rows, classes, reduction,
                 sample_weight);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
double forward(const Loss& loss, const T* y_pred, index_t rows, index_t classes,
               Reduction reduction = Reduction::SumOverBatchSize,
               const detail::api::nd<T>* sample_weight = nullptr) {
  return forward(loss, strided(y_pred, classes, 1), rows, classes, reduction, sample_weight);
}

template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
void per_sample_loss(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                     index_t rows, index_t classes, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  per_sample_loss(loss, strided(y_true, classes, 1), strided(y_pred, classes, 1), rows, classes,
                  loss_out, sample_weight);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
void per_sample_loss(const Loss& loss, const std::int64_t* labels, const T* y_pred,
                     index_t rows, index_t classes, detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  per_sample_loss(loss, labels, strided(y_pred, classes, 1), rows, classes, loss_out,
                  sample_weight);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
void per_sample_loss(const Loss& loss, const T* y_pred, index_t rows, index_t classes,
                     detail::api::nd<T>* loss_out,
                     const detail::api::nd<T>* sample_weight = nullptr) {
  per_sample_loss(loss, strided(y_pred, classes, 1), rows, classes, loss_out, sample_weight);
}

template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
void backward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred, index_t rows,
              index_t classes, detail::api::nd<T>* grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  backward(loss, strided(y_true, classes, 1), strided(y_pred, classes, 1), rows, classes,
           strided_out(grad_out, classes, 1), reduction, sample_weight, grad_output);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
void backward(const Loss& loss, const std::int64_t* labels, const T* y_pred, index_t rows,
              index_t classes, detail::api::nd<T>* grad_out,
              Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  backward(loss, labels, strided(y_pred, classes, 1), rows, classes,
           strided_out(grad_out, classes, 1), reduction, sample_weight, grad_output);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
void backward(const Loss& loss, const T* y_pred, index_t rows, index_t classes,
              detail::api::nd<T>* grad_out, Reduction reduction = Reduction::SumOverBatchSize,
              const detail::api::nd<T>* sample_weight = nullptr, double grad_output = 1.0) {
  backward(loss, strided(y_pred, classes, 1), rows, classes, strided_out(grad_out, classes, 1),
           reduction, sample_weight, grad_output);
}

template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
double forward_backward(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                        index_t rows, index_t classes, detail::api::nd<T>* grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  return forward_backward(loss, strided(y_true, classes, 1), strided(y_pred, classes, 1), rows,
                          classes, strided_out(grad_out, classes, 1), reduction, sample_weight,
                          grad_output);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
double forward_backward(const Loss& loss, const std::int64_t* labels, const T* y_pred,
                        index_t rows, index_t classes, detail::api::nd<T>* grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  return forward_backward(loss, labels, strided(y_pred, classes, 1), rows, classes,
                          strided_out(grad_out, classes, 1), reduction, sample_weight, grad_output);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
double forward_backward(const Loss& loss, const T* y_pred, index_t rows, index_t classes,
                        detail::api::nd<T>* grad_out,
                        Reduction reduction = Reduction::SumOverBatchSize,
                        const detail::api::nd<T>* sample_weight = nullptr,
                        double grad_output = 1.0) {
  return forward_backward(loss, strided(y_pred, classes, 1), rows, classes,
                          strided_out(grad_out, classes, 1), reduction, sample_weight, grad_output);
}

template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Dense> = 0>
void gradient_hessian(const Loss& loss, const detail::api::nd<T>* y_true, const T* y_pred,
                      index_t rows, index_t classes, detail::api::nd<T>* grad_out,
                      detail::api::nd<T>* hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  gradient_hessian(loss, strided(y_true, classes, 1), strided(y_pred, classes, 1), rows, classes,
                   strided_out(grad_out, classes, 1), strided_out(hess_out, classes, 1),
                               sample_weight);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::Labels> = 0>
void gradient_hessian(const Loss& loss, const std::int64_t* labels, const T* y_pred,
                      index_t rows, index_t classes, detail::api::nd<T>* grad_out,
                      detail::api::nd<T>* hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  gradient_hessian(loss, labels, strided(y_pred, classes, 1), rows, classes,
                   strided_out(grad_out, classes, 1), strided_out(hess_out, classes, 1),
                               sample_weight);
}
template <class Loss, class T, detail::api::if_reads<Loss, RowInput::None> = 0>
void gradient_hessian(const Loss& loss, const T* y_pred, index_t rows, index_t classes,
                      detail::api::nd<T>* grad_out, detail::api::nd<T>* hess_out,
                      const detail::api::nd<T>* sample_weight = nullptr) {
  gradient_hessian(loss, strided(y_pred, classes, 1), rows, classes,
                   strided_out(grad_out, classes, 1), strided_out(hess_out, classes, 1),
                   sample_weight);
}

}  // namespace fastloss

// Turning NumPy arrays into the core's views. Nothing here computes a loss.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include <fastloss/fastloss.hpp>

#include "dtypes.hpp"
#include "tables.hpp"

namespace fastloss::bindings {

namespace py = pybind11;

/// Whether two dtypes are the same by value (NumPy's equivalence): an array
/// that went through pickle, or whose dtype carries metadata, has a dtype
/// object other than NumPy's builtin one for the same type.
template <class T, class E>
View3<E> view3(py::array a, const Shape3& s, const char* what) {
  if (!has_dtype<T>(a)) {
    throw py::type_error(std::string(what) + ": expected dtype " +
                         std::string(py::str(py::dtype::of<T>())) + ", got " +
                         std::string(py::str(a.dtype())));
  }
  if (a.ndim() != 3 || a.shape(0) != s.outer || a.shape(1) != s.axis || a.shape(2) != s.inner) {
    throw py::value_error(std::string(what) + ": internal shape mismatch");
  }
  View3<E> v;
  for (int k = 0; k < 3; ++k) {
    const auto st = a.strides(k);
    if (st % static_cast<py::ssize_t>(sizeof(T)) != 0) {
      throw py::value_error(std::string(what) + ": strides must be multiples of the item size");
    }
    v.stride[k] = st / static_cast<py::ssize_t>(sizeof(T));
  }
  if constexpr (std::is_const_v<E>) {
    v.data = static_cast<E*>(a.data());
  } else {
    if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
    v.data = static_cast<E*>(a.mutable_data());
  }
  return v;
}

/// A contiguous 1-D array of n elements of T (per-sample quantities).
template <class T>
void fill_problem(Problem<T>& pr, const py::object& y_true, const py::array& y_pred,
                  const py::object& sample_weight, const py::object& grad_output,
                  double grad_output_scalar, int reduction, double divisor, bool want_value,
                  const py::object& per_sample, const py::object& grad, const py::object& hess,
                  bool per_element) {
  if (y_pred.ndim() != 3) throw py::value_error("y_pred: internal shape mismatch");
  pr.shape = Shape3{static_cast<index_t>(y_pred.shape(0)), static_cast<index_t>(y_pred.shape(1)),
                    static_cast<index_t>(y_pred.shape(2))};
  pr.y_pred = view3<T, const T>(y_pred, pr.shape, "y_pred");
  if (!y_true.is_none()) {
    pr.y_true = view3<T, const T>(py::reinterpret_borrow<py::array>(y_true), pr.shape, "y_true");
  }
  const index_t n = pr.shape.samples();
  pr.sample_weight = per_sample_in<T>(sample_weight, n, "sample_weight");
  pr.grad_output = per_sample_in<T>(grad_output, n, "grad_output");
  pr.grad_output_scalar = grad_output_scalar;
  if (reduction < 0 || reduction > 3) throw py::value_error("unknown reduction code");
  pr.reduction = static_cast<Reduction>(reduction);
  pr.explicit_divisor = true;
  pr.divisor = divisor;
  pr.want_value = want_value;
  pr.per_sample = per_sample_out<T>(per_sample, n, "per_sample");
  if (!grad.is_none()) pr.grad = view3<T, T>(py::reinterpret_borrow<py::array>(grad), pr.shape, "out");
  if (!hess.is_none()) pr.hess = view3<T, T>(py::reinterpret_borrow<py::array>(hess), pr.shape, "hess");
  pr.per_element = per_element;
}

}  // namespace fastloss::bindings

#pragma once
// The dtype and per-sample array checks every binding unit shares, without the
// kernel tables and the elementwise driver (arrays.hpp adds those): the
// bindings of one loss family include this header and their family's own, so
// that each does not parse every loss of the library (the build-time budget).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include <fastloss/detail/driver.hpp>

namespace fastloss::bindings {

namespace py = pybind11;

inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
  return a.is(b) || py::detail::npy_api::get().PyArray_EquivTypes_(a.ptr(), b.ptr());
}

template <class T>
bool has_dtype(const py::array& a) {
  return same_dtype(a.dtype(), py::dtype::of<T>());
}

/// Element strides of a 3-D array of T, checked against the expected shape.
/// E is T (an output, must be writable) or const T (an input).
template <class T>
const T* per_sample_in(const py::object& o, index_t n, const char* what) {
  if (o.is_none()) return nullptr;
  const auto a = py::reinterpret_borrow<py::array>(o);
  if (!has_dtype<T>(a) || a.ndim() != 1 || a.shape(0) != n ||
      !(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  }
  return static_cast<const T*>(a.data());
}

template <class T>
T* per_sample_out(const py::object& o, index_t n, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  if (!has_dtype<T>(a) || a.ndim() != 1 || a.shape(0) != n ||
      !(a.flags() & py::array::c_style) || !a.writeable()) {
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  }
  return static_cast<T*>(a.mutable_data());
}

/// Calls f(T{}) with T the float type of y_pred: each kernel's `run` is
/// compiled for float and double and picked here.
template <class F>
decltype(auto) by_float_type(const py::array& y_pred, F&& f) {
  if (has_dtype<float>(y_pred)) return f(float{});
  if (has_dtype<double>(y_pred)) return f(double{});
  throw py::type_error("y_pred: expected float32 or float64");
}

/// The arguments every kernel's `run` takes from the Python layer, as the
/// common Problem (driver.hpp) of either family: y_pred and y_true (None for
/// losses that read labels or nothing) as (outer, axis, inner) arrays, the
/// per-sample weights and upstream gradient, the reduction with the divisor
/// the Python layer chose (Keras's rules have one owner there,
/// fastloss/_passes.py), and the outputs.
}  // namespace fastloss::bindings

// Turning NumPy arrays into the core's views. Nothing here computes a loss.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include <fastloss/fastloss.hpp>

#include "tables.hpp"

namespace fastloss::bindings {

namespace py = pybind11;

template <class T>
bool has_dtype(const py::array& a) {
  return a.dtype().is(py::dtype::of<T>());
}

/// Element strides of a 3-D array of T, checked against the expected shape.
/// E is T (an output, must be writable) or const T (an input).
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

}  // namespace fastloss::bindings

#pragma once

// Binding of one elementwise loss as a kernel class `_core.<Struct>(params)`
// with one `run` method. Argument meaning and checking of user input live in
// the Python layer; this only converts. The kernels themselves are compiled
// in the kernel-table units (tables_isa.cpp), not here.
#include <cstddef>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "arrays.hpp"
#include "info_binding.hpp"

namespace fastloss::bindings {

namespace elementwise {

template <class Loss, std::size_t... I>
Loss make_loss(const std::vector<double>& p, std::index_sequence<I...>) {
  return Loss(p[I]...);
}

/// Number of doubles the struct's constructor takes (0..4).
template <class Loss>
constexpr std::size_t arity() {
  if constexpr (std::is_constructible_v<Loss, double, double, double, double>) return 4;
  else if constexpr (std::is_constructible_v<Loss, double, double, double>) return 3;
  else if constexpr (std::is_constructible_v<Loss, double, double>) return 2;
  else if constexpr (std::is_constructible_v<Loss, double>) return 1;
  else return 0;
}

template <class Loss>
Loss construct(const std::vector<double>& p) {
  constexpr std::size_t n = arity<Loss>();
  if (p.size() != n) {
    throw py::value_error(std::string(Loss::kName) + ": expected " + std::to_string(n) +
                          " parameters, got " + std::to_string(p.size()));
  }
  return make_loss<Loss>(p, std::make_index_sequence<n>{});
}

/// `run`: one call of the kernel (see fill_problem), the GIL released.
template <class Loss>
double run(const Loss& loss, const py::object& y_true, const py::array& y_pred,
           const py::object& sample_weight, const py::object& grad_output,
           double grad_output_scalar, int reduction, double divisor, bool want_value,
           const py::object& per_sample, const py::object& grad, const py::object& hess,
           bool per_element) {
  return by_float_type(y_pred, [&](auto type) {
    using T = decltype(type);
    ElementwiseProblem<T> pr;
    fill_problem(pr, y_true, y_pred, sample_weight, grad_output, grad_output_scalar, reduction,
                 divisor, want_value, per_sample, grad, hess, per_element);
    py::gil_scoped_release release;
    return evaluate(loss, pr).value;
  });
}

/// The small-call fast path: y_true and y_pred C-contiguous arrays of the
/// same float dtype and shape (at least one element), the mean over the last
/// axis, no sample weights, a scalar grad_output, a reduced value. Python
/// checks the rest (reduction, out=, sample_weight) and passes the reduction
/// code and divisor Keras's rules give for this shape; here only the arrays
/// are checked, and None is returned when they do not qualify, so the caller
/// takes the general path. Returns the value (float) and/or a new gradient.
template <class Loss, class T>
py::object fast_typed(const Loss& loss, const py::array& yt, const py::array& yp, int reduction,
                      double divisor, bool want_value, bool want_grad, double go,
                      py::object out) {
  const py::ssize_t nd = yp.ndim();
  const index_t D = nd == 0 ? 1 : static_cast<index_t>(yp.shape(nd - 1));
  const index_t n = static_cast<index_t>(yp.size());
  ElementwiseProblem<T> pr;
  pr.shape = Shape3{D == 0 ? 0 : n / D, D, 1};
  pr.y_true.data = static_cast<const T*>(yt.data());
  pr.y_pred.data = static_cast<const T*>(yp.data());
  pr.y_true.stride[0] = pr.y_pred.stride[0] = D;
  pr.y_true.stride[1] = pr.y_pred.stride[1] = 1;
  pr.grad_output_scalar = go;
  pr.reduction = static_cast<Reduction>(reduction);
  pr.explicit_divisor = true;
  pr.divisor = divisor;
  pr.want_value = want_value;
  py::array grad;
  if (want_grad) {
    grad = out.is_none() ? py::array_t<T>(std::vector<py::ssize_t>(yp.shape(), yp.shape() + nd))
                         : py::reinterpret_borrow<py::array>(out);
    pr.grad.data = static_cast<T*>(grad.mutable_data());
    pr.grad.stride[0] = D;
    pr.grad.stride[1] = 1;
  }
  ElementwiseResult r;
  if (n < detail::kParallelThreshold) {
    r = evaluate(loss, pr);  // microseconds: releasing the GIL would cost more than it frees
  } else {
    py::gil_scoped_release release;
    r = evaluate(loss, pr);
  }
  if (want_value && want_grad) return py::make_tuple(r.value, grad);
  if (want_value) return py::float_(r.value);
  return std::move(grad);
}

/// Whether a and b, both C-contiguous, share any byte.
inline bool overlap(const py::array& a, const py::array& b) {
  const auto* a0 = static_cast<const char*>(a.data());
  const auto* b0 = static_cast<const char*>(b.data());
  return a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
}

template <class Loss>
py::object fast(const Loss& loss, const py::handle& y_true, const py::handle& y_pred,
                int reduction, double divisor, bool want_value, bool want_grad, double go,
                const py::handle& out) {
  if (!py::isinstance<py::array>(y_true) || !py::isinstance<py::array>(y_pred)) return py::none();
  const auto yt = py::reinterpret_borrow<py::array>(y_true);
  const auto yp = py::reinterpret_borrow<py::array>(y_pred);
  constexpr int flags = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ |
                        py::detail::npy_api::NPY_ARRAY_ALIGNED_;
  if ((yt.flags() & flags) != flags || (yp.flags() & flags) != flags) return py::none();
  if (yp.ndim() < 1 || yt.ndim() != yp.ndim() || yp.size() == 0 || reduction < 1 ||
      reduction > 3 || !same_dtype(yt.dtype(), yp.dtype()))
    return py::none();
  for (py::ssize_t k = 0; k < yp.ndim(); ++k)
    if (yt.shape(k) != yp.shape(k)) return py::none();
  if (!out.is_none()) {
    // the user's out=: taken only when nothing about it needs a message (the
    // general path checks and explains everything else)
    if (!want_grad || !py::isinstance<py::array>(out)) return py::none();
    const auto o = py::reinterpret_borrow<py::array>(out);
    if ((o.flags() & flags) != flags || !o.writeable() || !same_dtype(o.dtype(), yp.dtype()) ||
        o.ndim() != yp.ndim() || overlap(o, yt) ||
        (overlap(o, yp) && o.data() != yp.data()))
      return py::none();
    for (py::ssize_t k = 0; k < yp.ndim(); ++k)
      if (o.shape(k) != yp.shape(k)) return py::none();
  }
  const py::object o = py::reinterpret_borrow<py::object>(out);
  if (has_dtype<float>(yp))
    return fast_typed<Loss, float>(loss, yt, yp, reduction, divisor, want_value, want_grad, go, o);
  if (has_dtype<double>(yp))
    return fast_typed<Loss, double>(loss, yt, yp, reduction, divisor, want_value, want_grad, go,
                                    o);
  return py::none();
}

template <class Loss, class = void>
struct declared : std::false_type {};
template <class Loss>
struct declared<Loss, std::void_t<decltype(Loss::kInfo)>> : std::true_type {};

template <class Loss>
void bind_one(py::module_& m, const char* struct_name) {
  py::class_<Loss> cls(m, struct_name);
  if constexpr (declared<Loss>::value) {
    cls.def_property_readonly_static(
        "info", [](py::object) { return info_dict(Loss::kInfo, Loss::kHasHessian); });
  }
  cls
      .def(py::init(&construct<Loss>), py::arg("params"))
      .def_property_readonly_static("name", [](py::object) { return std::string(Loss::kName); })
      .def_property_readonly_static("has_hessian", [](py::object) { return Loss::kHasHessian; })
      .def("run", &run<Loss>, py::arg("y_true"), py::arg("y_pred"), py::arg("sample_weight"),
           py::arg("grad_output"), py::arg("grad_output_scalar"), py::arg("reduction"),
           py::arg("divisor"), py::arg("want_value"), py::arg("per_sample"), py::arg("grad"),
           py::arg("hess"), py::arg("per_element"))
      .def("fast", &fast<Loss>, py::arg("y_true"), py::arg("y_pred"), py::arg("reduction"),
           py::arg("divisor"), py::arg("want_value"), py::arg("want_grad"),
           py::arg("grad_output"), py::arg("out") = py::none());
}


/// Binds every registry entry.
inline void bind_all(py::module_& m) {
#define FASTLOSS_BIND_ONE(S) bind_one<S>(m, #S);
  FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_BIND_ONE)
#undef FASTLOSS_BIND_ONE
}

}  // namespace elementwise
}  // namespace fastloss::bindings

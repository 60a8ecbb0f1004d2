// Binds the class-axis losses of losses/classaxis.hpp (the registry's
// FASTLOSS_CLASSAXIS_LOSSES) as kernel classes `_core.<Struct>(...)`, each with
// its declaration (`info`), a constructor taking the declared parameters by
// name, and one `run` method. Argument meaning and checking
// of user input live in the Python layer (fastloss/_classaxis.py); this file
// only converts arrays into views and releases the GIL around the kernel.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include <fastloss/registry.hpp>

#include "arrays.hpp"
#include "info_binding.hpp"

namespace fastloss::bindings {

namespace {

const std::int64_t* labels_in(const py::object& o, index_t n) {
  if (o.is_none()) return nullptr;
  const auto a = py::reinterpret_borrow<py::array>(o);
  if (!has_dtype<std::int64_t>(a) || a.ndim() != 1 || a.shape(0) != n ||
      !(a.flags() & py::array::c_style)) {
    throw py::value_error("labels: internal layout mismatch");
  }
  return static_cast<const std::int64_t*>(a.data());
}

/// `run`: one call of the kernel (see fill_problem) with its labels, the GIL
/// released.
template <class Loss>
double run(const Loss& loss, const py::object& y_true, const py::object& labels,
           const py::array& y_pred, const py::object& sample_weight,
           const py::object& grad_output, double grad_output_scalar, int reduction,
           double divisor, bool want_value, const py::object& per_sample,
           const py::object& grad, const py::object& hess, bool per_element) {
  return by_float_type(y_pred, [&](auto type) {
    using T = decltype(type);
    RowsProblem<T> pr;
    fill_problem<T>(pr, y_true, y_pred, sample_weight, grad_output, grad_output_scalar,
                    reduction, divisor, want_value, per_sample, grad, hess, per_element);
    pr.labels = labels_in(labels, pr.shape.samples());
    py::gil_scoped_release release;
    try {
      return evaluate_rows(loss, pr).value;
    } catch (const std::out_of_range& e) {
      // The Python layer checked every label; the core found one outside the
      // classes, so the caller's buffer changed since (it is read in place).
      throw py::value_error(std::string(e.what()) +
                            " (the labels changed during the call: another thread is "
                            "writing them)");
    }
  });
}

/// The parts every class-axis kernel shares: its declaration (info), name,
/// has_hessian, input kind, run.
template <class Loss>
py::class_<Loss> bind_rows(py::module_& m, const char* struct_name) {
  py::class_<Loss> cls(m, struct_name);
  cls.def_property_readonly_static(
         "info",
         [](py::object) {
           // has_hessian of the declaration: that of the default parameters
           if constexpr (std::is_default_constructible_v<Loss>) {
             return info_dict(Loss::kInfo, detail::hessian_defined(Loss{}));
           } else {
             return info_dict(Loss::kInfo, Loss::kHasHessian);
           }
         })
      .def_property_readonly_static("name", [](py::object) { return std::string(Loss::kName); })
      .def_property_readonly_static("has_hessian", [](py::object) { return Loss::kHasHessian; })
      .def_property_readonly_static("input", [](py::object) {
        switch (Loss::kInput) {
          case RowInput::Dense: return std::string("dense");
          case RowInput::Labels: return std::string("labels");
          case RowInput::None: break;
        }
        return std::string("none");
      })
      .def_property_readonly(
          "hessian_defined",
          [](const Loss& loss) { return detail::hessian_defined(loss); },
          "Whether this instance has a Hessian (kHasHessian, or per parameters)")
      .def("run", &run<Loss>, py::arg("y_true"), py::arg("labels"), py::arg("y_pred"),
           py::arg("sample_weight"), py::arg("grad_output"), py::arg("grad_output_scalar"),
           py::arg("reduction"), py::arg("divisor"), py::arg("want_value"),
           py::arg("per_sample"), py::arg("grad"), py::arg("hess"), py::arg("per_element"));
  return cls;
}

/// The struct's parameters: the declared ones but IgnoredLabel (the Python
/// layer's), in the declared order.
template <class Loss>
constexpr int n_struct_params() {
  int n = 0;
  for (int k = 0; k < Loss::kInfo.n_params(); ++k)
    n += Loss::kInfo.params[k].kind != ParamKind::IgnoredLabel;
  return n;
}

/// The declared index of the struct's parameter j.
template <class Loss>
constexpr int struct_param(int j) {
  for (int k = 0; k < Loss::kInfo.n_params(); ++k) {
    if (Loss::kInfo.params[k].kind == ParamKind::IgnoredLabel) continue;
    if (j-- == 0) return k;
  }
  return -1;
}

/// The C++ type of declared parameter k: a flag, a list of per-class values, or
/// a double.
template <class Loss, int K>
using param_t = std::conditional_t<
    Loss::kInfo.params[K].kind == ParamKind::PerClass ||
        Loss::kInfo.params[K].kind == ParamKind::NumberOrPerClass,
    std::vector<double>,
    std::conditional_t<Loss::kInfo.params[K].range == Range::Bool, bool, double>>;

/// The kernel's constructor `_core.<Struct>(name=value, ...)`: its keyword
/// arguments are the declared parameters of the struct, in the declared order,
/// which is the order of one of the struct's constructors.
template <class Loss, std::size_t... J>
void bind_init(py::class_<Loss>& cls, std::index_sequence<J...>) {
  static_assert(std::is_constructible_v<Loss, param_t<Loss, struct_param<Loss>(J)>...>,
                "the struct needs a constructor taking its declared parameters in order");
  cls.def(py::init<param_t<Loss, struct_param<Loss>(J)>...>(),
          py::arg(Loss::kInfo.params[struct_param<Loss>(J)].name)...);
}

template <class Loss>
void bind_declared(py::module_& m, const char* struct_name) {
  auto cls = bind_rows<Loss>(m, struct_name);
  bind_init(cls, std::make_index_sequence<static_cast<std::size_t>(n_struct_params<Loss>())>{});
}

/// A C-contiguous array of T with `n` elements (any shape), for the
/// multiclass generalized Dice kernel.
template <class T>
const T* flat_in(const py::array& a, index_t n, const char* what) {
  if (!has_dtype<T>(a) || !(a.flags() & py::array::c_style) || static_cast<index_t>(a.size()) != n)
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  return static_cast<const T*>(a.data());
}

template <class T>
T* flat_out(const py::object& o, index_t n, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  flat_in<T>(a, n, what);
  if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

/// optax's multiclass generalized Dice loss over (B, S, C) C-contiguous
/// targets and predictions of one float type (segmentation.hpp).
void multiclass_generalized_dice(const py::array& y_true, const py::array& y_pred, index_t B,
                                 index_t S, index_t C, double smooth, bool apply_softmax,
                                 bool ignore_background, const py::object& per_sample,
                                 const py::object& grad, const py::object& coef) {
  by_float_type(y_pred, [&](auto type) {
    using T = decltype(type);
    const index_t n = B * S * C;
    const T* t = flat_in<T>(y_true, n, "y_true");
    const T* p = flat_in<T>(y_pred, n, "y_pred");
    double* v = flat_out<double>(per_sample, B, "per_sample");
    T* g = flat_out<T>(grad, n, "grad");
    const double* c = coef.is_none()
                          ? nullptr
                          : flat_in<double>(py::reinterpret_borrow<py::array>(coef), B, "coef");
    py::gil_scoped_release release;
    fastloss::multiclass_generalized_dice(t, p, B, S, C, smooth, apply_softmax,
                                          ignore_background, v, g, c);
  });
}

}  // namespace

void register_classaxis(py::module_& m) {
  m.def("multiclass_generalized_dice", &multiclass_generalized_dice, py::arg("y_true"),
        py::arg("y_pred"), py::arg("batch"), py::arg("pixels"), py::arg("classes"),
        py::arg("smooth"), py::arg("apply_softmax"), py::arg("ignore_background"),
        py::arg("per_sample"), py::arg("grad"), py::arg("coef"));
#define FASTLOSS_BIND_ROWS(S) bind_declared<S>(m, #S);
  FASTLOSS_CLASSAXIS_LOSSES(FASTLOSS_BIND_ROWS)
#undef FASTLOSS_BIND_ROWS
  py::list names;  // the registry's list, which the kernel tables are built from too
#define FASTLOSS_NAME(S) names.append(py::str(#S));
  FASTLOSS_CLASSAXIS_LOSSES(FASTLOSS_NAME)
#undef FASTLOSS_NAME
  m.attr("CLASSAXIS_KERNELS") = py::tuple(names);
}

}  // namespace fastloss::bindings

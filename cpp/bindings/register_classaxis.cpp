// Binds the class-axis losses of losses/classaxis.hpp as kernel classes
// `_core.<Struct>(...)` with one `run` method. Argument meaning and checking
// of user input live in the Python layer (fastloss/_classaxis.py); this file
// only converts arrays into views and releases the GIL around the kernel.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include <fastloss/losses/classaxis.hpp>

#include "arrays.hpp"

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

/// The parts every class-axis kernel shares: name, has_hessian, input kind, run.
template <class Loss>
py::class_<Loss> bind_rows(py::module_& m, const char* struct_name) {
  py::class_<Loss> cls(m, struct_name);
  cls.def_property_readonly_static("name", [](py::object) { return std::string(Loss::kName); })
      .def_property_readonly_static("has_hessian", [](py::object) { return Loss::kHasHessian; })
      .def_property_readonly_static("input", [](py::object) {
        switch (Loss::kInput) {
          case RowInput::Dense: return std::string("dense");
          case RowInput::Labels: return std::string("labels");
          case RowInput::None: break;
        }
        return std::string("none");
      })
      .def("run", &run<Loss>, py::arg("y_true"), py::arg("labels"), py::arg("y_pred"),
           py::arg("sample_weight"), py::arg("grad_output"), py::arg("grad_output_scalar"),
           py::arg("reduction"), py::arg("divisor"), py::arg("want_value"),
           py::arg("per_sample"), py::arg("grad"), py::arg("hess"), py::arg("per_element"));
  return cls;
}

}  // namespace

void register_classaxis(py::module_& m) {
  bind_rows<CategoricalCrossentropy>(m, "CategoricalCrossentropy")
      .def(py::init<bool, double>(), py::arg("from_logits"), py::arg("label_smoothing"));
  bind_rows<SparseCategoricalCrossentropy>(m, "SparseCategoricalCrossentropy")
      .def(py::init<bool, double, std::vector<double>>(), py::arg("from_logits"),
           py::arg("label_smoothing"), py::arg("class_weight"));
  bind_rows<CategoricalFocalCrossentropy>(m, "CategoricalFocalCrossentropy")
      .def(py::init<std::vector<double>, double, bool, double>(), py::arg("alpha"),
           py::arg("gamma"), py::arg("from_logits"), py::arg("label_smoothing"));
  bind_rows<KLDivergence>(m, "KLDivergence").def(py::init<>());
  bind_rows<CategoricalHinge>(m, "CategoricalHinge").def(py::init<>());
  bind_rows<CosineSimilarity>(m, "CosineSimilarity").def(py::init<>());
  bind_rows<Entropy>(m, "Entropy").def(py::init<bool>(), py::arg("from_logits"));
  bind_rows<CategoricalZeroOne>(m, "CategoricalZeroOne").def(py::init<>());
  bind_rows<SparseCategoricalZeroOne>(m, "SparseCategoricalZeroOne").def(py::init<>());
  py::list names;  // the registry's list, which the kernel tables are built from too
#define FASTLOSS_NAME(S) names.append(py::str(#S));
  FASTLOSS_CLASSAXIS_LOSSES(FASTLOSS_NAME)
#undef FASTLOSS_NAME
  m.attr("CLASSAXIS_KERNELS") = py::tuple(names);
}

}  // namespace fastloss::bindings

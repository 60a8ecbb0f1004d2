// Binds the class-axis losses of losses/classaxis.hpp as kernel classes
// `_core.<Struct>(...)` with one `run` method. Argument meaning and checking
// of user input live in the Python layer (fastloss/_classaxis.py); this file
// only converts arrays into views and releases the GIL around the kernel.
#include <cstdint>
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

template <class Loss, class T>
double run_typed(const Loss& loss, const py::object& y_true, const py::object& labels,
                 const py::array& y_pred, const py::object& sample_weight,
                 const py::object& grad_output, double grad_output_scalar, int reduction,
                 double divisor, bool want_value, const py::object& per_sample,
                 const py::object& grad, const py::object& hess, bool per_element) {
  RowsProblem<T> pr;
  if (y_pred.ndim() != 3) throw py::value_error("y_pred: internal shape mismatch");
  pr.shape = Shape3{static_cast<index_t>(y_pred.shape(0)), static_cast<index_t>(y_pred.shape(1)),
                    static_cast<index_t>(y_pred.shape(2))};
  pr.y_pred = view3<T, const T>(y_pred, pr.shape, "y_pred");
  if (!y_true.is_none()) {
    pr.y_true = view3<T, const T>(py::reinterpret_borrow<py::array>(y_true), pr.shape, "y_true");
  }
  const index_t n = pr.shape.samples();
  pr.labels = labels_in(labels, n);
  pr.sample_weight = per_sample_in<T>(sample_weight, n, "sample_weight");
  pr.grad_output = per_sample_in<T>(grad_output, n, "grad_output");
  pr.grad_output_scalar = grad_output_scalar;
  if (reduction < 0 || reduction > 3) throw py::value_error("unknown reduction code");
  pr.reduction = static_cast<Reduction>(reduction);
  pr.explicit_divisor = true;  // the Python layer applies Keras's weighting and masking rules
  pr.divisor = divisor;
  pr.want_value = want_value;
  pr.per_sample = per_sample_out<T>(per_sample, n, "per_sample");
  if (!grad.is_none()) pr.grad = view3<T, T>(py::reinterpret_borrow<py::array>(grad), pr.shape, "out");
  if (!hess.is_none()) pr.hess = view3<T, T>(py::reinterpret_borrow<py::array>(hess), pr.shape, "hess");
  pr.per_element = per_element;
  ElementwiseResult r;
  {
    py::gil_scoped_release release;
    r = evaluate_rows(loss, pr);
  }
  return r.value;
}

template <class Loss>
double run(const Loss& loss, const py::object& y_true, const py::object& labels,
           const py::array& y_pred, const py::object& sample_weight,
           const py::object& grad_output, double grad_output_scalar, int reduction,
           double divisor, bool want_value, const py::object& per_sample,
           const py::object& grad, const py::object& hess, bool per_element) {
  if (has_dtype<float>(y_pred))
    return run_typed<Loss, float>(loss, y_true, labels, y_pred, sample_weight, grad_output,
                                  grad_output_scalar, reduction, divisor, want_value,
                                  per_sample, grad, hess, per_element);
  if (has_dtype<double>(y_pred))
    return run_typed<Loss, double>(loss, y_true, labels, y_pred, sample_weight, grad_output,
                                   grad_output_scalar, reduction, divisor, want_value,
                                   per_sample, grad, hess, per_element);
  throw py::type_error("y_pred: expected float32 or float64");
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
  m.attr("CLASSAXIS_KERNELS") = py::make_tuple(
      "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "CategoricalFocalCrossentropy",
      "KLDivergence", "CategoricalHinge", "CosineSimilarity", "Entropy", "CategoricalZeroOne",
      "SparseCategoricalZeroOne");
}

}  // namespace fastloss::bindings

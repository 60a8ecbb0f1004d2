// Binds every declared multi-input loss (FASTLOSS_MULTI_INPUT_LOSSES,
// losses/multi_input.hpp) the same way: `_core.<Struct>(params)` with its
// declaration as `info` and one `run` that evaluates the generic kernel; and
// the multi-quantile pinball kernel (losses/multi_quantile.hpp) as the
// function `_core.multi_quantile`. The
// Python layer (fastloss/_multi_input.py) checks user input, flattens the
// inputs to C-contiguous (rows, D) or (rows,) arrays and allocates the
// outputs; this file checks that internal contract, converts and releases
// the GIL.
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

// the multi-input list and its structs alone, not every loss of the registry
#define FASTLOSS_REGISTRY_LISTS_ONLY
#include <fastloss/losses/likelihood.hpp>
#include <fastloss/losses/multi_quantile.hpp>
#include <fastloss/registry.hpp>

#include "dtypes.hpp"
#include "info_binding.hpp"

namespace py = pybind11;

namespace fastloss::bindings {

namespace {

const char* draw_name(InputDraw d) {
  switch (d) {
    case InputDraw::Real: return "real";
    case InputDraw::Positive: return "positive";
    case InputDraw::LowerBound: return "lower_bound";
    case InputDraw::UpperBound: return "upper_bound";
  }
  return "";
}

py::dict multi_info_dict(const MultiInputInfo& info, bool has_hessian) {
  py::dict d;
  d["cls"] = info.cls;
  d["default_name"] = info.default_name;
  py::list aliases;
  for (const std::string& w : {std::string(info.aliases)}) {
    for (std::size_t k = 0; k < w.size();) {
      const std::size_t e = std::min(w.find(' ', k), w.size());
      if (e > k) aliases.append(w.substr(k, e - k));
      k = e + 1;
    }
  }
  d["aliases"] = aliases;
  d["axis"] = axis_name(info.axis);
  d["has_hessian"] = has_hessian;
  py::list inputs;
  for (int k = 0; k < info.n_inputs(); ++k) {
    const InputInfo& in = info.inputs[k];
    py::dict id;
    id["name"] = in.name;
    id["doc"] = in.doc;
    id["range"] = in.range == Range::Any ? "" : range_text(in.range);
    id["what"] = in.what;
    id["draw"] = draw_name(in.draw);
    id["per_sample"] = in.per_sample;
    id["trained"] = k >= info.n_targets();
    inputs.append(id);
  }
  d["inputs"] = inputs;
  d["n_trained"] = info.n_trained;
  d["summary"] = info.summary;
  d["formula"] = info.formula;
  d["gradient"] = info.gradient;
  d["hessian"] = info.hessian;
  d["notes"] = info.notes;
  d["no_hessian"] = info.no_hessian;
  py::list params;
  for (int k = 0; k < info.n_params(); ++k) {
    const ParamInfo& p = info.params[k];
    py::dict pd;
    pd["name"] = p.name;
    pd["default"] = p.default_value;
    pd["range"] = range_text(p.range);
    py::list choices;
    const std::string words = info.choices[k] ? info.choices[k] : "";
    for (std::size_t i = 0; i < words.size();) {
      const std::size_t e = std::min(words.find(' ', i), words.size());
      if (e > i) choices.append(words.substr(i, e - i));
      i = e + 1;
    }
    pd["choices"] = choices;
    pd["type"] = choices.empty() ? param_type(p) : "str";
    pd["doc"] = p.doc;
    pd["example"] = p.example;
    params.append(pd);
  }
  d["params"] = params;
  py::list hand;
  for (int k = 0; k < info.n_hand(); ++k) {
    py::list in;
    for (int i = 0; i < info.n_inputs(); ++i) in.append(info.hand[k].in[i]);
    hand.append(py::make_tuple(in, info.hand[k].value));
  }
  d["hand"] = hand;
  d["ordered"] = info.ordered[0] >= 0 ? py::object(py::make_tuple(info.ordered[0], info.ordered[1]))
                                      : py::none();
  return d;
}

template <class T>
const T* rows_in(const py::array& a, index_t rows, index_t D, bool per_row, const char* what) {
  if (!has_dtype<T>(a) || a.ndim() != (per_row ? 1 : 2) || !(a.flags() & py::array::c_style) ||
      a.shape(0) != rows || (!per_row && a.shape(1) != D))
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  return static_cast<const T*>(a.data());
}

template <class T>
T* rows_out(const py::object& o, index_t rows, index_t D, bool per_row, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  rows_in<T>(a, rows, D, per_row, what);
  if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

template <class S, class T>
void run_typed(const S& loss, const std::vector<py::array>& in, const py::object& values,
               const std::vector<py::object>& grads, const std::vector<py::object>& hess,
               const py::object& row_scale, bool mean_over_row) {
  constexpr int n_in = S::kInfo.n_inputs(), n_tr = S::kInfo.n_trained;
  if (static_cast<int>(in.size()) != n_in || static_cast<int>(grads.size()) != n_tr ||
      static_cast<int>(hess.size()) != n_tr)
    throw py::value_error(std::string(S::kInfo.cls) + ": internal input count mismatch");
  // the first trained input that holds one value per element fixes the shape
  const py::array& shape_of = in[n_in - n_tr];
  if (shape_of.ndim() != 2) throw py::value_error("internal layout mismatch");
  const index_t rows = static_cast<index_t>(shape_of.shape(0));
  const index_t D = static_cast<index_t>(shape_of.shape(1));
  multi_input::Arrays<T> a;
  for (int k = 0; k < n_in; ++k) {
    a.per_row[k] = in[k].ndim() == 1;
    if (a.per_row[k] && !S::kInfo.inputs[k].per_sample)
      throw py::value_error(std::string(S::kInfo.inputs[k].name) + ": internal layout mismatch");
    a.in[k] = rows_in<T>(in[k], rows, D, a.per_row[k], S::kInfo.inputs[k].name);
  }
  if (!values.is_none()) {
    auto v = py::reinterpret_borrow<py::array>(values);
    if (!has_dtype<double>(v) || v.ndim() != 1 || v.shape(0) != rows || !v.writeable() ||
        !(v.flags() & py::array::c_style))
      throw py::value_error("values: internal layout mismatch");
    a.values = static_cast<double*>(v.mutable_data());
  }
  for (int j = 0; j < n_tr; ++j) {
    const int k = n_in - n_tr + j;
    a.grad[j] = rows_out<T>(grads[j], rows, D, a.per_row[k], "grad");
    a.hess[j] = rows_out<T>(hess[j], rows, D, a.per_row[k], "hess");
  }
  a.row_scale = per_sample_in<T>(row_scale, rows, "row_scale");
  a.mean_over_row = mean_over_row;
  py::gil_scoped_release release;
  multi_input::run(loss, rows, D, a);
}

template <class S>
void bind_multi_input(py::module_& m, const char* name) {
  py::class_<S> cls(m, name);
  cls.def(py::init([](const std::vector<double>& p) {
            if (static_cast<int>(p.size()) != S::kInfo.n_params())
              throw py::value_error(std::string(S::kInfo.cls) + ": internal parameter count");
            return make_multi_input<S>(p.data());
          }),
          py::arg("params"));
  cls.def_property_readonly_static(
      "info", [](py::object) { return multi_info_dict(S::kInfo, S::kHasHessian); });
  cls.def(
      "run",
      [](const S& loss, const std::vector<py::array>& in, const py::object& values,
         const std::vector<py::object>& grads, const std::vector<py::object>& hess,
         const py::object& row_scale, bool mean_over_row) {
        const py::array& first = in.at(S::kInfo.n_inputs() - S::kInfo.n_trained);
        if (has_dtype<float>(first))
          return run_typed<S, float>(loss, in, values, grads, hess, row_scale, mean_over_row);
        if (has_dtype<double>(first))
          return run_typed<S, double>(loss, in, values, grads, hess, row_scale, mean_over_row);
        throw py::type_error("expected float32 or float64 inputs");
      },
      py::arg("inputs"), py::arg("values"), py::arg("grads"), py::arg("hess"),
      py::arg("row_scale"), py::arg("mean_over_row"));
}

template <class T>
void multi_quantile_typed(const py::array& y_true, const py::array& y_pred,
                          const py::array& quantiles, const py::object& values,
                          const py::object& grad, const py::object& row_scale) {
  if (y_pred.ndim() != 2) throw py::value_error("y_pred: internal layout mismatch");
  const index_t rows = static_cast<index_t>(y_pred.shape(0));
  const index_t K = static_cast<index_t>(y_pred.shape(1));
  if (K < 1) throw py::value_error("multi_quantile: internal shape mismatch");
  multi_quantile::Arrays<T> a;
  a.per_row = y_true.ndim() == 1;
  a.y_true = rows_in<T>(y_true, rows, K, a.per_row, "y_true");
  a.y_pred = rows_in<T>(y_pred, rows, K, false, "y_pred");
  a.quantiles = rows_in<double>(quantiles, K, 1, true, "quantiles");
  a.values = rows_out<double>(values, rows, 1, true, "values");
  a.grad = rows_out<T>(grad, rows, K, false, "grad");
  if (!row_scale.is_none())
    a.row_scale = rows_in<double>(py::reinterpret_borrow<py::array>(row_scale), rows, 1, true,
                                  "row_scale");
  py::gil_scoped_release release;
  multi_quantile::run(rows, K, a);
}

}  // namespace

void register_multi_input(py::module_& m) {
  py::list names;
#define FASTLOSS_BIND_MULTI(S)  \
  bind_multi_input<S>(m, #S);   \
  names.append(py::str(#S));
  FASTLOSS_MULTI_INPUT_LOSSES(FASTLOSS_BIND_MULTI)
#undef FASTLOSS_BIND_MULTI
  m.attr("MULTI_INPUT_KERNELS") = py::tuple(names);
  m.def(
      "multi_quantile",
      [](const py::array& y_true, const py::array& y_pred, const py::array& quantiles,
         const py::object& values, const py::object& grad, const py::object& row_scale) {
        if (has_dtype<float>(y_pred))
          return multi_quantile_typed<float>(y_true, y_pred, quantiles, values, grad, row_scale);
        if (has_dtype<double>(y_pred))
          return multi_quantile_typed<double>(y_true, y_pred, quantiles, values, grad, row_scale);
        throw py::type_error("y_pred: expected float32 or float64");
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("quantiles"), py::arg("values"),
      py::arg("grad"), py::arg("row_scale"));
}

}  // namespace fastloss::bindings

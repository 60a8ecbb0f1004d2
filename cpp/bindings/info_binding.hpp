#pragma once

// A loss's declaration (losses/info.hpp) as the Python dict `_core.<Struct>.info`,
// for both kernel families: the Python layer builds the classes, their names,
// checks, docstrings, functions and test cases from it.
#include <algorithm>
#include <string>

#include <pybind11/pybind11.h>

#include <fastloss/losses/info.hpp>

namespace fastloss::bindings {

namespace py = pybind11;

/// What a parameter is to the Python layer: "bool", "float", "per_class"
/// (None or one value per class), "float_or_per_class", "ignored_label"
/// (None or an int).
inline const char* param_type(const ParamInfo& p) {
  switch (p.kind) {
    case ParamKind::PerClass: return "per_class";
    case ParamKind::NumberOrPerClass: return "float_or_per_class";
    case ParamKind::IgnoredLabel: return "ignored_label";
    case ParamKind::IgnoredValue: return "ignored_value";
    case ParamKind::Number: break;
  }
  return p.range == Range::Bool ? "bool" : "float";
}

inline const char* domain_name(Domain d) {
  switch (d) {
    case Domain::Real: return "real";
    case Domain::Positive: return "positive";
    case Domain::Probability: return "probability";
    case Domain::Logits: return "logits";
    case Domain::Signed: return "signed";
    case Domain::Binary: return "binary";
    case Domain::BinaryLogits: return "binary_logits";
  }
  return "";
}

inline const char* axis_name(AxisArg a) {
  switch (a) {
    case AxisArg::None: return "none";
    case AxisArg::Last: return "last";
    case AxisArg::BeforeReduction: return "before_reduction";
    case AxisArg::BeforeName: return "before_name";
    case AxisArg::Elementwise: return "elementwise";
    case AxisArg::Axes: return "axes";
  }
  return "";
}

inline const char* kink_name(Kink k) {
  switch (k) {
    case Kink::None: return "none";
    case Kink::AtZero: return "at_zero";
    case Kink::AtFirstParameter: return "at_first_parameter";
    case Kink::Margin: return "margin";
    case Kink::Threshold: return "threshold";
    case Kink::ZeroPrediction: return "zero_prediction";
    case Kink::UnitPrediction: return "unit_prediction";
  }
  return "";
}

/// A loss's declaration (losses/info.hpp) as a dict, for the Python layer to
/// build the class, its names, checks, docstring and test cases from.
inline py::dict info_dict(const LossInfo& info, bool has_hessian) {
  py::dict d;
  d["cls"] = info.cls;
  d["default_name"] = info.default_name;
  d["function"] = info.function;
  auto words = [](const std::string& all) {
    py::list out;
    for (std::size_t k = 0; k < all.size();) {
      const std::size_t e = std::min(all.find(' ', k), all.size());
      if (e > k) out.append(all.substr(k, e - k));
      k = e + 1;
    }
    return out;
  };
  d["aliases"] = words(info.aliases);
  d["function_aliases"] = words(info.function_aliases);
  d["axis"] = axis_name(info.axis);  // where the class takes axis
  d["has_axis"] = info.axis != AxisArg::None && info.axis != AxisArg::Elementwise;
  d["has_hessian"] = has_hessian;
  d["summary"] = info.summary;
  d["formula"] = info.formula;
  d["gradient"] = info.gradient;
  d["hessian"] = info.hessian;
  d["notes"] = info.notes;
  d["no_hessian"] = info.no_hessian;
  d["domain"] = domain_name(info.domain);
  d["kink"] = kink_name(info.kink);
  py::list params;
  for (int k = 0; k < info.n_params(); ++k) {
    const ParamInfo& p = info.params[k];
    py::dict pd;
    pd["name"] = p.name;
    pd["default"] = p.default_value;
    pd["range"] = range_text(p.range);
    pd["type"] = param_type(p);
    pd["keyword_only"] = p.keyword_only;
    pd["doc"] = p.doc;
    pd["example"] = p.example;
    params.append(pd);
  }
  d["params"] = params;
  py::list hand;
  for (int k = 0; k < info.n_hand(); ++k)
    hand.append(py::make_tuple(info.hand[k].t, info.hand[k].p, info.hand[k].value));
  d["hand"] = hand;
  py::object from_logits = py::none();
  if (info.from_logits.position >= 0) {
    py::dict fd;
    fd["position"] = info.from_logits.position;
    fd["doc"] = info.from_logits.doc;
    fd["name"] = info.from_logits.name;  // the flag's name: from_logits, log_input
    from_logits = fd;
  }
  d["from_logits"] = from_logits;  // None: the class has no from_logits
  d["logits_of"] = info.logits_of != nullptr ? py::object(py::str(info.logits_of)) : py::none();
  // a class-axis loss's own parts (empty for an elementwise one)
  py::list rows;
  for (int k = 0; k < info.rows.n_rows(); ++k) {
    const HandRow& r = info.rows.rows[k];
    py::list t, p;
    for (int c = 0; c < r.classes; ++c) {
      t.append(r.t[c]);
      p.append(r.p[c]);
    }
    rows.append(py::make_tuple(t, p, r.value));
  }
  d["hand_rows"] = rows;
  d["warn_single_class"] = info.rows.warn_single_class;
  d["logits_function"] = info.rows.logits_function;
  d["targets"] = info.rows.targets;
  d["class_weighted_mean"] = info.rows.class_weighted_mean;
  return d;
}


}  // namespace fastloss::bindings

// Binds the CTC kernel of losses/sequence.hpp as a function. The Python layer
// (fastloss/_sequence.py) checks shapes and dtypes and makes the arrays
// C-contiguous; the kernel checks the lengths and labels (its messages become
// ValueErrors); this file checks the internal layout and releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include <fastloss/losses/sequence.hpp>

#include "dtypes.hpp"

namespace fastloss::bindings {

namespace {

/// A C-contiguous array of E with the given shape.
template <class E>
E* contiguous(const py::array& a, std::initializer_list<index_t> shape, const char* what,
              bool writeable) {
  bool ok = has_dtype<std::remove_const_t<E>>(a) && (a.flags() & py::array::c_style) &&
            a.ndim() == static_cast<py::ssize_t>(shape.size());
  int k = 0;
  for (const index_t d : shape) ok = ok && static_cast<index_t>(a.shape(k++)) == d;
  if (!ok) throw py::value_error(std::string(what) + ": internal layout mismatch");
  if (writeable && !a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<E*>(const_cast<void*>(a.data()));
}

template <class T>
void ctc_typed(const py::array& inputs, const py::array& labels, const py::array& input_lengths,
               const py::array& label_lengths, std::int64_t blank, bool from_logits,
               bool zero_infinity, const py::object& per_sample, const py::object& grad,
               const py::object& coef) {
  if (inputs.ndim() != 3 || labels.ndim() != 2)
    throw py::value_error("ctc: internal layout mismatch");
  const index_t frames = static_cast<index_t>(inputs.shape(0));
  const index_t N = static_cast<index_t>(inputs.shape(1));
  const index_t C = static_cast<index_t>(inputs.shape(2));
  const index_t S = static_cast<index_t>(labels.shape(1));
  const T* x = contiguous<const T>(inputs, {frames, N, C}, "log_probs", false);
  const auto* lab = contiguous<const std::int64_t>(labels, {N, S}, "labels", false);
  const auto* il = contiguous<const std::int64_t>(input_lengths, {N}, "input_lengths", false);
  const auto* ll = contiguous<const std::int64_t>(label_lengths, {N}, "label_lengths", false);
  sequence::CtcOutputs<T> out;
  if (!per_sample.is_none())
    out.per_sample = contiguous<double>(py::reinterpret_borrow<py::array>(per_sample), {N},
                                        "per_sample", true);
  if (!grad.is_none())
    out.grad = contiguous<T>(py::reinterpret_borrow<py::array>(grad), {frames, N, C}, "grad",
                             true);
  if (!coef.is_none())
    out.coef = contiguous<const double>(py::reinterpret_borrow<py::array>(coef), {N}, "coef",
                                        false);
  sequence::CtcOptions options;
  options.blank = blank;
  options.from_logits = from_logits;
  options.zero_infinity = zero_infinity;
  py::gil_scoped_release release;  // the kernel's std::invalid_argument becomes a ValueError
  sequence::ctc(x, frames, N, C, lab, S, il, ll, options, out);
}

}  // namespace

void register_sequence(py::module_& m) {
  m.def(
      "ctc",
      [](const py::array& inputs, const py::array& labels, const py::array& input_lengths,
         const py::array& label_lengths, std::int64_t blank, bool from_logits, bool zero_infinity,
         const py::object& per_sample, const py::object& grad, const py::object& coef) {
        if (has_dtype<float>(inputs))
          return ctc_typed<float>(inputs, labels, input_lengths, label_lengths, blank,
                                  from_logits, zero_infinity, per_sample, grad, coef);
        if (has_dtype<double>(inputs))
          return ctc_typed<double>(inputs, labels, input_lengths, label_lengths, blank,
                                   from_logits, zero_infinity, per_sample, grad, coef);
        throw py::type_error("log_probs: expected float32 or float64");
      },
      py::arg("log_probs"), py::arg("labels"), py::arg("input_lengths"),
      py::arg("label_lengths"), py::arg("blank"), py::arg("from_logits"),
      py::arg("zero_infinity"), py::arg("per_sample"), py::arg("grad"), py::arg("coef"));
}

}  // namespace fastloss::bindings

// Binds the kernel of losses/xentropy_lambda.hpp (LightGBM's
// cross_entropy_lambda) as a function over flat C-contiguous arrays. The
// Python layer (fastloss/_xentropy_lambda.py) checks user input, broadcasts
// and makes the arrays contiguous; this file checks the internal contract,
// converts and releases the GIL.
#include <string>

#include <fastloss/losses/xentropy_lambda.hpp>

#include "dtypes.hpp"

namespace fastloss::bindings {

namespace {

/// A flat C-contiguous array of T with n elements, or null for None.
template <class T>
T* flat(const py::object& o, index_t n, const char* what, bool writeable) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  if (!has_dtype<T>(a) || a.ndim() != 1 || !(a.flags() & py::array::c_style) ||
      static_cast<index_t>(a.shape(0)) != n)
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  if (!writeable) return static_cast<T*>(const_cast<void*>(a.data()));  // read, never written
  if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

template <class T>
void evaluate_typed(const py::array& t, const py::array& z, const py::object& w,
                    const py::object& value, const py::object& grad, const py::object& hess,
                    const py::object& coef, double scale) {
  const index_t n = static_cast<index_t>(z.size());
  const T* zp = flat<T>(z, n, "y_pred", false);
  const T* tp = flat<T>(t, n, "y_true", false);
  const T* wp = flat<T>(w, n, "sample_weight", false);
  double* vp = flat<double>(value, n, "per_sample", true);
  T* gp = flat<T>(grad, n, "grad", true);
  T* hp = flat<T>(hess, n, "hess", true);
  const double* cp = flat<double>(coef, n, "coef", false);
  py::gil_scoped_release release;
  xentropy_lambda::evaluate(tp, zp, wp, n, vp, gp, hp, cp, scale);
}

}  // namespace

void register_xentropy_lambda(py::module_& m) {
  m.def(
      "crossentropy_lambda",
      [](const py::array& t, const py::array& z, const py::object& w, const py::object& value,
         const py::object& grad, const py::object& hess, const py::object& coef, double scale) {
        if (has_dtype<float>(z))
          return evaluate_typed<float>(t, z, w, value, grad, hess, coef, scale);
        if (has_dtype<double>(z))
          return evaluate_typed<double>(t, z, w, value, grad, hess, coef, scale);
        throw py::type_error("y_pred: expected float32 or float64");
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("weight"), py::arg("per_sample"),
      py::arg("grad"), py::arg("hess"), py::arg("coef"), py::arg("scale"));
}

}  // namespace fastloss::bindings

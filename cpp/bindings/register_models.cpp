// Binds the model-loss kernels of losses/models.hpp (Gram matrix and its
// backward, total variation) and the Cox partial likelihood of
// losses/likelihood.hpp as functions, and the Precomputed elementwise
// kernel behind user-defined losses. The Python layer (fastloss/_models.py,
// fastloss/_custom.py) checks user input and makes arrays C-contiguous; this
// file checks the internal contract, converts and releases the GIL.
#include <string>

#include <fastloss/losses/likelihood.hpp>
#include <fastloss/losses/models.hpp>

#include "elementwise_binding.hpp"

namespace fastloss::bindings {

namespace {

/// A C-contiguous array of T with the given number of dimensions.
template <class T>
const T* contiguous_in(const py::array& a, int ndim, const char* what) {
  if (!has_dtype<T>(a) || a.ndim() != ndim || !(a.flags() & py::array::c_style)) {
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  }
  return static_cast<const T*>(a.data());
}

template <class T>
T* contiguous_out(py::array& a, int ndim, const char* what) {
  contiguous_in<T>(a, ndim, what);
  if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

index_t dim(const py::array& a, int k) { return static_cast<index_t>(a.shape(k)); }

template <class T>
void gram_typed(const py::array& F, py::array& G) {
  const T* f = contiguous_in<T>(F, 3, "features");
  T* g = contiguous_out<T>(G, 3, "gram");
  const index_t batch = dim(F, 0), M = dim(F, 1), C = dim(F, 2);
  if (dim(G, 0) != batch || dim(G, 1) != C || dim(G, 2) != C)
    throw py::value_error("gram: internal shape mismatch");
  py::gil_scoped_release release;
  models::gram(f, batch, M, C, g);
}

template <class T>
void gram_backward_typed(const py::array& F, const py::array& S, py::array& dF) {
  const T* f = contiguous_in<T>(F, 3, "features");
  const T* s = contiguous_in<T>(S, 3, "gram gradient");
  T* d = contiguous_out<T>(dF, 3, "out");
  const index_t batch = dim(F, 0), M = dim(F, 1), C = dim(F, 2);
  if (dim(S, 0) != batch || dim(S, 1) != C || dim(S, 2) != C || dim(dF, 0) != batch ||
      dim(dF, 1) != M || dim(dF, 2) != C)
    throw py::value_error("gram_backward: internal shape mismatch");
  py::gil_scoped_release release;
  models::gram_backward(f, s, batch, M, C, d);
}

template <class T>
void total_variation_typed(const py::array& x, const py::object& per_image,
                           const py::object& grad, const py::object& grad_scale) {
  const T* xp = contiguous_in<T>(x, 4, "images");
  const index_t batch = dim(x, 0), H = dim(x, 1), W = dim(x, 2), C = dim(x, 3);
  double* values = nullptr;
  if (!per_image.is_none()) {
    auto v = py::reinterpret_borrow<py::array>(per_image);
    values = contiguous_out<double>(v, 1, "per_image");
    if (dim(v, 0) != batch) throw py::value_error("per_image: internal shape mismatch");
  }
  T* g = nullptr;
  if (!grad.is_none()) {
    auto a = py::reinterpret_borrow<py::array>(grad);
    g = contiguous_out<T>(a, 4, "out");
    for (int k = 0; k < 4; ++k)
      if (dim(a, k) != dim(x, k)) throw py::value_error("out: internal shape mismatch");
  }
  const T* scale = grad_scale.is_none() ? nullptr : per_sample_in<T>(grad_scale, batch, "grad_scale");
  py::gil_scoped_release release;
  models::total_variation(xp, batch, H, W, C, values, g, scale);
}

/// A C-contiguous output of the given shape, or null for None.
template <class T>
T* optional_out(const py::object& o, index_t d0, index_t d1, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  T* p = contiguous_out<T>(a, d1 < 0 ? 1 : 2, what);
  if (dim(a, 0) != d0 || (d1 >= 0 && dim(a, 1) != d1))
    throw py::value_error(std::string(what) + ": internal shape mismatch");
  return p;
}

template <class T>
void cox_ph_typed(const py::array& time, const py::array& z, const py::object& per_sample,
                  const py::object& grad, const py::object& hess, const py::object& coef) {
  const T* tp = contiguous_in<T>(time, 1, "y_true");
  const T* zp = contiguous_in<T>(z, 1, "y_pred");
  const index_t n = dim(z, 0);
  if (dim(time, 0) != n) throw py::value_error("cox_ph: internal shape mismatch");
  likelihood::CoxOutputs<T> out;
  out.per_sample = optional_out<double>(per_sample, n, -1, "per_sample");
  out.grad = optional_out<T>(grad, n, -1, "grad");
  out.hess = optional_out<T>(hess, n, -1, "hess");
  out.coef = per_sample_in<double>(coef, n, "coef");
  py::gil_scoped_release release;
  likelihood::cox_ph(tp, zp, n, out);
}

}  // namespace

void register_models(py::module_& m) {
  m.def(
      "gram",
      [](const py::array& F, py::array& G) {
        if (has_dtype<float>(F)) return gram_typed<float>(F, G);
        if (has_dtype<double>(F)) return gram_typed<double>(F, G);
        throw py::type_error("features: expected float32 or float64");
      },
      py::arg("features"), py::arg("out"));
  m.def(
      "gram_backward",
      [](const py::array& F, const py::array& S, py::array& dF) {
        if (has_dtype<float>(F)) return gram_backward_typed<float>(F, S, dF);
        if (has_dtype<double>(F)) return gram_backward_typed<double>(F, S, dF);
        throw py::type_error("features: expected float32 or float64");
      },
      py::arg("features"), py::arg("sym_grad"), py::arg("out"));
  m.def(
      "total_variation",
      [](const py::array& x, const py::object& per_image, const py::object& grad,
         const py::object& grad_scale) {
        if (has_dtype<float>(x)) return total_variation_typed<float>(x, per_image, grad, grad_scale);
        if (has_dtype<double>(x)) return total_variation_typed<double>(x, per_image, grad, grad_scale);
        throw py::type_error("images: expected float32 or float64");
      },
      py::arg("images"), py::arg("per_image"), py::arg("grad"), py::arg("grad_scale"));
  m.def(
      "cox_ph",
      [](const py::array& time, const py::array& z, const py::object& per_sample,
         const py::object& grad, const py::object& hess, const py::object& coef) {
        if (has_dtype<float>(z)) return cox_ph_typed<float>(time, z, per_sample, grad, hess, coef);
        if (has_dtype<double>(z)) return cox_ph_typed<double>(time, z, per_sample, grad, hess, coef);
        throw py::type_error("y_pred: expected float32 or float64");
      },
      py::arg("y_true"), py::arg("y_pred"), py::arg("per_sample"), py::arg("grad"),
      py::arg("hess"), py::arg("coef"));
  elementwise::bind_one<Precomputed>(m, "Precomputed");
}

}  // namespace fastloss::bindings

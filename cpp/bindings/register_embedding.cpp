// Binds the pair, triplet and metric-learning kernels of losses/embedding.hpp
// as functions. The Python layer (fastloss/_embedding.py) checks user input
// and makes arrays C-contiguous; this file checks the internal contract,
// converts and releases the GIL.
#include <cstdint>
#include <string>

#include <fastloss/losses/embedding.hpp>

#include "dtypes.hpp"

namespace fastloss::bindings {

namespace {

/// A C-contiguous array of T with the given shape (d1 < 0: one dimension).
template <class T>
const T* input(const py::array& a, index_t d0, index_t d1, const char* what) {
  const int ndim = d1 < 0 ? 1 : 2;
  if (!has_dtype<T>(a) || a.ndim() != ndim || !(a.flags() & py::array::c_style) ||
      a.shape(0) != d0 || (d1 >= 0 && a.shape(1) != d1))
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  return static_cast<const T*>(a.data());
}

/// A writable C-contiguous output of the given shape, or null for None.
template <class T>
T* output(const py::object& o, index_t d0, index_t d1, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  input<T>(a, d0, d1, what);
  if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

template <class T>
const double* coefficients(const py::object& o, index_t n) {
  return o.is_none() ? nullptr : input<double>(py::reinterpret_borrow<py::array>(o), n, -1, "coef");
}

/// Calls f(T{}) for the float type of x.
template <class F>
void by_dtype(const py::array& x, const char* what, const F& f) {
  if (has_dtype<float>(x)) return f(float{});
  if (has_dtype<double>(x)) return f(double{});
  throw py::type_error(std::string(what) + ": expected float32 or float64");
}

void margin_ranking(const py::array& y, const py::array& x1, const py::array& x2, double margin,
                    const py::object& per_element, const py::object& g1, const py::object& g2,
                    const py::object& coef) {
  by_dtype(x1, "x1", [&](auto tag) {
    using T = decltype(tag);
    const index_t n = static_cast<index_t>(x1.size());
    const T* yp = input<T>(y, n, -1, "y");
    const T* a = input<T>(x1, n, -1, "x1");
    const T* b = input<T>(x2, n, -1, "x2");
    double* v = output<double>(per_element, n, -1, "per_element");
    T* ga = output<T>(g1, n, -1, "g1");
    T* gb = output<T>(g2, n, -1, "g2");
    const double* c = coefficients<T>(coef, n);
    py::gil_scoped_release release;
    embedding::margin_ranking(yp, a, b, n, margin, v, ga, gb, c);
  });
}

template <class T>
embedding::RowOutputs<T> row_outputs(index_t rows, index_t D, const py::object& per_row,
                                     const py::tuple& grads, const py::tuple& hess,
                                     const py::object& coef) {
  embedding::RowOutputs<T> out;
  out.per_row = output<double>(per_row, rows, -1, "per_row");
  if (grads.size() > 3 || hess.size() > 3) throw py::value_error("too many outputs");
  for (std::size_t k = 0; k < grads.size(); ++k) out.grad[k] = output<T>(grads[k], rows, D, "grad");
  for (std::size_t k = 0; k < hess.size(); ++k) out.hess[k] = output<T>(hess[k], rows, D, "hess");
  out.coef = coefficients<T>(coef, rows);
  return out;
}

void cosine_embedding(const py::array& y, const py::array& x1, const py::array& x2,
                      double margin, const py::object& per_row, const py::tuple& grads,
                      const py::tuple& hess, const py::object& coef) {
  by_dtype(x1, "x1", [&](auto tag) {
    using T = decltype(tag);
    if (x1.ndim() != 2) throw py::value_error("x1: internal layout mismatch");
    const index_t rows = static_cast<index_t>(x1.shape(0)), D = static_cast<index_t>(x1.shape(1));
    const T* yp = input<T>(y, rows, -1, "y");
    const T* a = input<T>(x1, rows, D, "x1");
    const T* b = input<T>(x2, rows, D, "x2");
    const auto out = row_outputs<T>(rows, D, per_row, grads, hess, coef);
    py::gil_scoped_release release;
    embedding::cosine_embedding(yp, a, b, rows, D, margin, out);
  });
}

void triplet_margin(const py::array& anchor, const py::array& positive,
                    const py::array& negative, double margin, double p, bool swap, double eps,
                    const py::object& per_row, const py::tuple& grads, const py::tuple& hess,
                    const py::object& coef, int distance) {
  if (distance < 0 || distance > static_cast<int>(embedding::Distance::Cosine))
    throw py::value_error("triplet_margin: unknown distance " + std::to_string(distance));
  const embedding::DistanceSpec dist{static_cast<embedding::Distance>(distance), p, eps};
  by_dtype(anchor, "anchor", [&](auto tag) {
    using T = decltype(tag);
    if (anchor.ndim() != 2) throw py::value_error("anchor: internal layout mismatch");
    const index_t rows = static_cast<index_t>(anchor.shape(0));
    const index_t D = static_cast<index_t>(anchor.shape(1));
    const T* a = input<T>(anchor, rows, D, "anchor");
    const T* ps = input<T>(positive, rows, D, "positive");
    const T* ng = input<T>(negative, rows, D, "negative");
    const auto out = row_outputs<T>(rows, D, per_row, grads, hess, coef);
    py::gil_scoped_release release;
    embedding::triplet_margin(a, ps, ng, rows, D, margin, dist, swap, out);
  });
}

template <class T>
embedding::BatchOutputs<T> batch_outputs(index_t B, index_t D, const py::object& per_row,
                                         const py::object& grad, const py::object& coef) {
  embedding::BatchOutputs<T> out;
  out.per_row = output<double>(per_row, B, -1, "per_row");
  out.grad = output<T>(grad, B, D, "grad");
  out.coef = coefficients<T>(coef, B);
  return out;
}

void ntxent(const py::array& labels, const py::array& x, double temperature,
            const py::object& per_row, const py::object& grad, const py::object& coef) {
  by_dtype(x, "embeddings", [&](auto tag) {
    using T = decltype(tag);
    if (x.ndim() != 2) throw py::value_error("embeddings: internal layout mismatch");
    const index_t B = static_cast<index_t>(x.shape(0)), D = static_cast<index_t>(x.shape(1));
    const auto* l = input<std::int64_t>(labels, B, -1, "labels");
    const T* xp = input<T>(x, B, D, "embeddings");
    const auto out = batch_outputs<T>(B, D, per_row, grad, coef);
    py::gil_scoped_release release;
    embedding::ntxent(l, xp, B, D, temperature, out);
  });
}

void circle(const py::array& labels, const py::array& x, double gamma, double margin,
            bool remove_diagonal, const py::object& per_row, const py::object& grad,
            const py::object& coef) {
  by_dtype(x, "embeddings", [&](auto tag) {
    using T = decltype(tag);
    if (x.ndim() != 2) throw py::value_error("embeddings: internal layout mismatch");
    const index_t B = static_cast<index_t>(x.shape(0)), D = static_cast<index_t>(x.shape(1));
    const auto* l = input<std::int64_t>(labels, B, -1, "labels");
    const T* xp = input<T>(x, B, D, "embeddings");
    const auto out = batch_outputs<T>(B, D, per_row, grad, coef);
    py::gil_scoped_release release;
    embedding::circle(l, xp, B, D, gamma, margin, remove_diagonal, out);
  });
}

}  // namespace

void register_embedding(py::module_& m) {
  m.def("margin_ranking", &margin_ranking, py::arg("y"), py::arg("x1"), py::arg("x2"),
        py::arg("margin"), py::arg("per_element"), py::arg("g1"), py::arg("g2"), py::arg("coef"));
  m.def("cosine_embedding", &cosine_embedding, py::arg("y"), py::arg("x1"), py::arg("x2"),
        py::arg("margin"), py::arg("per_row"), py::arg("grads"), py::arg("hess"),
        py::arg("coef"));
  m.def("triplet_margin", &triplet_margin, py::arg("anchor"), py::arg("positive"),
        py::arg("negative"), py::arg("margin"), py::arg("p"), py::arg("swap"), py::arg("eps"),
        py::arg("per_row"), py::arg("grads"), py::arg("hess"), py::arg("coef"),
        py::arg("distance") = 0);
  m.def("ntxent", &ntxent, py::arg("labels"), py::arg("embeddings"), py::arg("temperature"),
        py::arg("per_row"), py::arg("grad"), py::arg("coef"));
  m.def("circle", &circle, py::arg("labels"), py::arg("embeddings"), py::arg("gamma"),
        py::arg("margin"), py::arg("remove_diagonal"), py::arg("per_row"), py::arg("grad"),
        py::arg("coef"));
}

}  // namespace fastloss::bindings

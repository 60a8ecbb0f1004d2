// Binding of the linear-head cross-entropy (losses/linear_ce.hpp). The matrix
// products go to the Fortran BLAS whose ?gemm the caller hands over as a
// PyCapsule (python/fastloss/_linear_ce.py passes SciPy's
// scipy.linalg.cython_blas.__pyx_capi__["sgemm"] / ["dgemm"]); that BLAS is
// called without the GIL, as SciPy's own nogil code calls it. When the library
// holding that ?gemm has OpenBLAS's openblas_set_num_threads_local (found with
// dladdr / dlsym), the core runs the products single-threaded on fastloss's
// own threads, in fixed tiles: bitwise the same for every thread count.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define FASTLOSS_HAS_DLADDR 1
#endif

#include <fastloss/losses/linear_ce.hpp>

#include "dtypes.hpp"

namespace fastloss::bindings {

namespace {

template <class T>
const T* c_array(const py::array& a, int ndim, index_t d0, index_t d1, const char* what) {
  if (!has_dtype<T>(a) || a.ndim() != ndim || a.shape(0) != d0 ||
      (ndim == 2 && a.shape(1) != d1) || !(a.flags() & py::array::c_style))
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  return static_cast<const T*>(a.data());
}

template <class T>
T* c_out(const py::object& o, int ndim, index_t d0, index_t d1, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  if (!a.writeable()) throw py::value_error(std::string(what) + ": internal layout mismatch");
  return const_cast<T*>(c_array<T>(a, ndim, d0, d1, what));
}

void* capsule_pointer(const py::object& gemm) {
  PyObject* cap = gemm.ptr();
  if (!PyCapsule_CheckExact(cap)) throw py::type_error("gemm: expected a PyCapsule of ?gemm");
  void* p = PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));
  if (!p) throw py::error_already_set();
  return p;
}

/// OpenBLAS's openblas_set_num_threads_local from the library that holds
/// `symbol`, or null (another BLAS, an older OpenBLAS, no dladdr).
using SetThreadsLocal = int (*)(int);
SetThreadsLocal threads_local_of(void* symbol) {
#ifdef FASTLOSS_HAS_DLADDR
  Dl_info info;
  if (dladdr(symbol, &info) == 0 || !info.dli_fname) return nullptr;
  void* lib = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return nullptr;
  void* f = dlsym(lib, "openblas_set_num_threads_local");
  dlclose(lib);  // RTLD_NOLOAD took one more reference; the library stays loaded
  return reinterpret_cast<SetThreadsLocal>(f);
#else
  (void)symbol;
  return nullptr;
#endif
}

template <class T>
void linear_ce_typed(const py::array& labels, const py::array& hidden, const py::array& weight,
                     const py::object& bias, const py::object& class_weight,
                     std::int64_t ignore_class, double label_smoothing, index_t chunk_size,
                     const py::object& gemm, const py::object& per_row, const py::object& coef,
                     const py::object& d_hidden, const py::object& d_weight,
                     const py::object& d_bias) {
  if (hidden.ndim() != 2 || weight.ndim() != 2)
    throw py::value_error("linear_ce: internal layout mismatch");
  linear_ce::Inputs<T> in;
  in.N = hidden.shape(0);
  in.H = hidden.shape(1);
  in.V = weight.shape(0);
  in.hidden = c_array<T>(hidden, 2, in.N, in.H, "hidden");
  in.weight = c_array<T>(weight, 2, in.V, in.H, "weight");
  in.labels = c_array<std::int64_t>(labels, 1, in.N, 0, "labels");
  if (!bias.is_none())
    in.bias = c_array<T>(py::reinterpret_borrow<py::array>(bias), 1, in.V, 0, "bias");
  if (!class_weight.is_none())
    in.class_weight =
        c_array<double>(py::reinterpret_borrow<py::array>(class_weight), 1, in.V, 0, "class_weight");
  linear_ce::Outputs<T> out;
  out.per_row = c_out<double>(per_row, 1, in.N, 0, "per_row");
  if (!coef.is_none())
    out.coef = c_array<double>(py::reinterpret_borrow<py::array>(coef), 1, in.N, 0, "coef");
  out.d_hidden = c_out<T>(d_hidden, 2, in.N, in.H, "d_hidden");
  out.d_weight = c_out<T>(d_weight, 2, in.V, in.H, "d_weight");
  out.d_bias = c_out<T>(d_bias, 1, in.V, 0, "d_bias");
  linear_ce::Options opt;
  opt.ignore_class = ignore_class;
  opt.label_smoothing = label_smoothing;
  opt.chunk_size = chunk_size;
  void* gemm_fn = capsule_pointer(gemm);
  linear_ce::FortranGemmContext<T> context{reinterpret_cast<linear_ce::FortranGemm<T>>(gemm_fn),
                                           threads_local_of(gemm_fn)};
  py::gil_scoped_release release;
  linear_ce::linear_cross_entropy(in, opt, linear_ce::fortran_gemm(&context), out);
}

}  // namespace

void register_linear_ce(py::module_& m) {
  m.def(
      "linear_ce",
      [](const py::array& labels, const py::array& hidden, const py::array& weight,
         const py::object& bias, const py::object& class_weight, std::int64_t ignore_class,
         double label_smoothing, index_t chunk_size, const py::object& gemm,
         const py::object& per_row, const py::object& coef, const py::object& d_hidden,
         const py::object& d_weight, const py::object& d_bias) {
        if (has_dtype<float>(hidden))
          return linear_ce_typed<float>(labels, hidden, weight, bias, class_weight, ignore_class,
                                        label_smoothing, chunk_size, gemm, per_row, coef,
                                        d_hidden, d_weight, d_bias);
        if (has_dtype<double>(hidden))
          return linear_ce_typed<double>(labels, hidden, weight, bias, class_weight, ignore_class,
                                         label_smoothing, chunk_size, gemm, per_row, coef,
                                         d_hidden, d_weight, d_bias);
        throw py::type_error("hidden: expected float32 or float64");
      },
      py::arg("labels"), py::arg("hidden"), py::arg("weight"), py::arg("bias"),
      py::arg("class_weight"), py::arg("ignore_class"), py::arg("label_smoothing"),
      py::arg("chunk_size"), py::arg("gemm"), py::arg("per_row"), py::arg("coef"),
      py::arg("d_hidden"), py::arg("d_weight"), py::arg("d_bias"));
  m.def(
      "linear_ce_plan",
      [](index_t n, index_t v, index_t itemsize, index_t chunk_size) {
        return py::make_tuple(linear_ce::row_block(n),
                              linear_ce::effective_chunk(chunk_size, n, v,
                                                         static_cast<std::size_t>(itemsize)));
      },
      py::arg("n"), py::arg("v"), py::arg("itemsize"), py::arg("chunk_size"));
  m.def(
      "linear_ce_blas_threads_local",
      [](const py::object& gemm) { return threads_local_of(capsule_pointer(gemm)) != nullptr; },
      py::arg("gemm"));
}

}  // namespace fastloss::bindings

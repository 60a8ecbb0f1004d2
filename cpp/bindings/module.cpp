// The extension module: only wiring. Each area registers itself.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include <fastloss/fastloss.hpp>

namespace py = pybind11;

namespace fastloss::bindings {
void register_elementwise(py::module_& m);
void register_classaxis(py::module_& m);
void register_models(py::module_& m);
}

namespace {

const char* baseline_simd() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__SSE2__)
  return "SSE2";
#elif defined(__ARM_NEON)
  return "NEON";
#else
  return "scalar";
#endif
}

/// out[k] = f(in[k]) for the vmath function numbered `which` (the order of
/// _vmath's names), in float32 or float64. The two-argument helpers are fed
/// what their callers pass.
template <class T>
inline __attribute__((always_inline)) void vmath_map(int which, const T* in, T* out,
                                                     fastloss::index_t n) {
  namespace vm = fastloss::vmath;
  auto map = [&](auto fn) {
    for (fastloss::index_t k = 0; k < n; ++k) out[k] = fn(in[k]);
  };
  switch (which) {
    case 0: map([](T x) { return vm::exp(x); }); break;
    case 1: map([](T x) { return vm::log(x); }); break;
    case 2: map([](T x) { return vm::log1p(x); }); break;
    case 3: map([](T x) { return vm::tanh(x); }); break;
    case 4: map([](T x) { return vm::log_positive(x); }); break;
    case 5: map([](T x) { return vm::exp_nonpositive(x); }); break;
    case 6: map([](T e) { return vm::log1p_unit(e, T(1) / (T(1) + e)); }); break;
    default:
      map([](T x) {
        const T e = vm::exp(T(-2) * (x < T(0) ? -x : x));
        return vm::tanh_parts(x, e, T(1) / (T(1) + e));
      });
  }
}

/// vmath_map compiled per instruction set like the loss tiles, so that the
/// accuracy tests measure the clone (with or without FMA) the losses run in.
template <class T>
FASTLOSS_DISPATCH void vmath_eval(int which, const T* in, T* out, fastloss::index_t n) {
  fastloss::with_fma_known([&]() FASTLOSS_LAMBDA_INLINE {
    vmath_map(which, in, out, n);
  });
}

template <class T>
py::array_t<T> vmath_call(int which, const py::object& x_in) {
  const auto x = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(x_in);
  if (!x) throw py::type_error("_vmath: x must be convertible to a float array");
  py::array_t<T> out(x.size());
  vmath_eval<T>(which, x.data(), out.mutable_data(), static_cast<fastloss::index_t>(x.size()));
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastloss compiled kernels (private: use the fastloss package)";
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw py::value_error("set_num_threads: n must be >= 1, got " + std::to_string(n));
    fastloss::set_num_threads(n);
  });
  m.def("get_num_threads", &fastloss::get_num_threads);
  m.def("build_info", []() {
    py::dict d;
    d["version"] = std::to_string(FASTLOSS_VERSION_MAJOR) + "." +
                   std::to_string(FASTLOSS_VERSION_MINOR) + "." +
                   std::to_string(FASTLOSS_VERSION_PATCH);
    d["openmp"] = fastloss::has_openmp();
    d["simd"] = fastloss::active_isa();      // chosen at load time from CPUID
    d["baseline_simd"] = baseline_simd();    // what the build targets without dispatch
    d["dispatch"] = FASTLOSS_HAS_DISPATCH != 0;
    d["threads"] = fastloss::get_num_threads();
#if defined(__clang__)
    d["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    d["compiler"] = std::string("gcc ") + __VERSION__;
#else
    d["compiler"] = "unknown";
#endif
    return d;
  });
  // The vectorisable math of vmath.hpp, exposed for its accuracy tests only,
  // evaluated in the instruction-set clone the losses run in: float64 for a
  // float64 ndarray, float32 for anything else (lists included).
  m.def(
      "_vmath",
      [](const std::string& name, const py::object& x) -> py::array {
        const char* names[] = {"exp",          "log",          "log1p",           "tanh",
                               "log_positive", "exp_nonpositive", "log1p_unit", "tanh_parts"};
        int which = -1;
        for (int k = 0; k < 8; ++k) {
          if (name == names[k]) which = k;
        }
        if (which < 0) throw py::value_error("unknown function " + name);
        if (py::isinstance<py::array_t<double>>(x)) return vmath_call<double>(which, x);
        return vmath_call<float>(which, x);
      },
      py::arg("name"), py::arg("x"));
  m.def(
      "_bandwidth_floor",
      [](py::array a, py::array b, py::array out) {
        auto check = [&](const py::array& x, const char* what) {
          if (!(x.flags() & py::array::c_style) || x.size() != out.size() ||
              !x.dtype().is(out.dtype()))
            throw py::value_error(std::string(what) + ": expected a C-contiguous array like out");
        };
        check(a, "a");
        check(b, "b");
        if (!out.writeable()) throw py::value_error("out is read-only");
        const auto n = static_cast<fastloss::index_t>(out.size());
        py::gil_scoped_release release;
        if (out.dtype().is(py::dtype::of<float>())) {
          fastloss::bandwidth_floor(static_cast<const float*>(a.data()),
                                    static_cast<const float*>(b.data()),
                                    static_cast<float*>(out.mutable_data()), n);
        } else if (out.dtype().is(py::dtype::of<double>())) {
          fastloss::bandwidth_floor(static_cast<const double*>(a.data()),
                                    static_cast<const double*>(b.data()),
                                    static_cast<double*>(out.mutable_data()), n);
        } else {
          throw py::type_error("_bandwidth_floor: float32 or float64");
        }
      },
      py::arg("a"), py::arg("b"), py::arg("out"),
      "Benchmark reference: out = a - b over contiguous arrays, threaded and dispatched "
      "like the loss kernels (reads two inputs, writes one output).");
  fastloss::bindings::register_elementwise(m);
  fastloss::bindings::register_classaxis(m);
  fastloss::bindings::register_models(m);
}

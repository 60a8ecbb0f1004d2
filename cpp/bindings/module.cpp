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
  // The vectorisable float32 math, exposed for its accuracy tests only.
  m.def(
      "_vmath",
      [](const std::string& name, py::array_t<float, py::array::c_style | py::array::forcecast> x) {
        float (*fn)(float) = nullptr;
        if (name == "exp") fn = fastloss::vmath::exp;
        else if (name == "log") fn = fastloss::vmath::log;
        else if (name == "log1p") fn = fastloss::vmath::log1p;
        else if (name == "tanh") fn = fastloss::vmath::tanh;
        else if (name == "log_positive") fn = fastloss::vmath::log_positive;
        else if (name == "exp_nonpositive") fn = fastloss::vmath::exp_nonpositive;
        // the two-argument helpers, fed the values their callers pass
        else if (name == "log1p_unit")
          fn = [](float e) { return fastloss::vmath::log1p_unit(e, 1.0f / (1.0f + e)); };
        else if (name == "tanh_parts")
          fn = [](float x) {
            const float e = fastloss::vmath::exp(-2.0f * (x < 0.0f ? -x : x));
            return fastloss::vmath::tanh_parts(x, e, 1.0f / (1.0f + e));
          };
        else throw py::value_error("unknown function " + name);
        py::array_t<float> out(x.size());
        const float* in = x.data();
        float* o = out.mutable_data();
        for (py::ssize_t k = 0; k < x.size(); ++k) o[k] = fn(in[k]);
        return out;
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

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
void register_ranking(py::module_& m);
void register_sequence(py::module_& m);
void register_embedding(py::module_& m);
void register_xentropy_lambda(py::module_& m);
void register_multi_input(py::module_& m);
void register_linear_ce(py::module_& m);
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

// For threadpoolctl (python/fastloss/_threads.py registers a controller that
// finds this module by these symbols and calls them through ctypes).
extern "C" {
__attribute__((visibility("default"))) int fastloss_threadpool_get_num_threads() {
  return fastloss::get_num_threads();
}
__attribute__((visibility("default"))) void fastloss_threadpool_set_num_threads(int n) {
  fastloss::set_num_threads(n);
}
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "fastloss compiled kernels (private: use the fastloss package)";
  // FASTLOSS_ISA (detail/isa.hpp): a value naming no instruction set, or one
  // this CPU cannot run, fails the import rather than running another clone
  const std::string isa_error = fastloss::isa_override_error();
  if (!isa_error.empty()) throw py::import_error(isa_error);
  m.def("set_num_threads", [](int n) {
    if (n < 1 || n > fastloss::kMaxThreads)
      throw py::value_error("set_num_threads: n must be in [1, " +
                            std::to_string(fastloss::kMaxThreads) + "], got " + std::to_string(n));
    fastloss::set_num_threads(n);
  });
  m.def("get_num_threads", &fastloss::get_num_threads);
  m.attr("max_threads") = fastloss::kMaxThreads;
  // helpers the pool has started (fewer than asked when the system refused)
  m.def("pool_size", []() { return fastloss::detail::pool_helpers(); });
  m.def("build_info", []() {
    py::dict d;
    d["version"] = std::to_string(FASTLOSS_VERSION_MAJOR) + "." +
                   std::to_string(FASTLOSS_VERSION_MINOR) + "." +
                   std::to_string(FASTLOSS_VERSION_PATCH);
    d["thread_pool"] = fastloss::has_threads();  // fastloss's own pool (no OpenMP runtime)
    d["simd"] = fastloss::active_isa();      // chosen at load time from CPUID (or FASTLOSS_ISA)
    // the FASTLOSS_ISA name of the running table level, and of every level this CPU runs
    // (None and [] in a build without kernel tables, where the variable cannot choose)
    py::list isa_supported;
    if (FASTLOSS_TABLE_DISPATCH) {
      d["isa"] = fastloss::kIsaNames[fastloss::isa_level()];
      for (int level = fastloss::cpu_isa_level(); level >= 0; --level)
        isa_supported.append(fastloss::kIsaNames[level]);
    } else {
      d["isa"] = py::none();
    }
    d["isa_supported"] = isa_supported;
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
  fastloss::bindings::register_elementwise(m);
  fastloss::bindings::register_classaxis(m);
  fastloss::bindings::register_models(m);
  fastloss::bindings::register_ranking(m);
  fastloss::bindings::register_sequence(m);
  fastloss::bindings::register_embedding(m);
  fastloss::bindings::register_xentropy_lambda(m);
  fastloss::bindings::register_multi_input(m);
  fastloss::bindings::register_linear_ce(m);
}

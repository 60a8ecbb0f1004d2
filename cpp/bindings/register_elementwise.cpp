// Registers the elementwise kernels and the list of their names.
#include <pybind11/pybind11.h>

#include "elementwise_binding.hpp"

namespace py = pybind11;

namespace fastloss::bindings {

void register_elementwise(py::module_& m) {
  elementwise::bind_all(m);
  py::list names;
#define FASTLOSS_NAME(S) names.append(py::str(#S));
  FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_NAME)
#undef FASTLOSS_NAME
  m.attr("ELEMENTWISE_KERNELS") = py::tuple(names);
}

}  // namespace fastloss::bindings

// Registers the elementwise kernels (bound in four parts, see
// elementwise_binding.hpp) and the list of their names.
#include <pybind11/pybind11.h>

#include <fastloss/registry.hpp>

namespace py = pybind11;

namespace fastloss::bindings {

void register_elementwise_part0(py::module_& m);
void register_elementwise_part1(py::module_& m);
void register_elementwise_part2(py::module_& m);
void register_elementwise_part3(py::module_& m);

void register_elementwise(py::module_& m) {
  register_elementwise_part0(m);
  register_elementwise_part1(m);
  register_elementwise_part2(m);
  register_elementwise_part3(m);
  py::list names;
#define FASTLOSS_NAME(S) names.append(py::str(#S));
  FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_NAME)
#undef FASTLOSS_NAME
  m.attr("ELEMENTWISE_KERNELS") = py::tuple(names);
}

}  // namespace fastloss::bindings

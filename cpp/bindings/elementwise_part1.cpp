// Registry entries 1, 1+4, ... of FASTLOSS_ELEMENTWISE_LOSSES.
#include "elementwise_binding.hpp"

namespace fastloss::bindings {
void register_elementwise_part1(py::module_& m) {
  elementwise::bind_part<1>(m, elementwise::AllLosses{});
}
}  // namespace fastloss::bindings

// Registry entries 2, 2+4, ... of FASTLOSS_ELEMENTWISE_LOSSES.
#include "elementwise_binding.hpp"

namespace fastloss::bindings {
void register_elementwise_part2(py::module_& m) {
  elementwise::bind_part<2>(m, elementwise::AllLosses{});
}
}  // namespace fastloss::bindings

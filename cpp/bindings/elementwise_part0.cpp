// Registry entries 0, 0+4, ... of FASTLOSS_ELEMENTWISE_LOSSES.
#include "elementwise_binding.hpp"

namespace fastloss::bindings {
void register_elementwise_part0(py::module_& m) {
  elementwise::bind_part<0>(m, elementwise::AllLosses{});
}
}  // namespace fastloss::bindings

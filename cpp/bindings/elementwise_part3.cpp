// Registry entries 3, 3+4, ... of FASTLOSS_ELEMENTWISE_LOSSES.
#include "elementwise_binding.hpp"

namespace fastloss::bindings {
void register_elementwise_part3(py::module_& m) {
  elementwise::bind_part<3>(m, elementwise::AllLosses{});
}
}  // namespace fastloss::bindings

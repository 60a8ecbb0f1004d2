// One instruction-set level's kernel tables for one family and precision:
// CMakeLists.txt compiles this file once per (FASTLOSS_ISA_LEVEL,
// FASTLOSS_TABLE_FAMILY, FASTLOSS_TABLE_T) with the level's -march flags.
// Only the tiles are compiled here; the driver around them (threads, the
// reduction) is compiled once, for the baseline, in the binding units.
#include "tables.hpp"

#if FASTLOSS_TABLE_DISPATCH
namespace fastloss::detail {
#define FASTLOSS_INSTANTIATE_E_(S) \
  FASTLOSS_TABLE_ELEMENTWISE(template, FASTLOSS_ISA_LEVEL, FASTLOSS_TABLE_T, S)
#define FASTLOSS_INSTANTIATE_R_(S) \
  FASTLOSS_TABLE_ROWS(template, FASTLOSS_ISA_LEVEL, FASTLOSS_TABLE_T, S)
#if FASTLOSS_TABLE_FAMILY == 0
FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_INSTANTIATE_E_)
#else
FASTLOSS_CLASSAXIS_LOSSES(FASTLOSS_INSTANTIATE_R_)
#endif
}  // namespace fastloss::detail
#endif

#pragma once
// The kernel tables of every registered loss (detail/isa.hpp: kernel
// tables). Each instruction-set level is instantiated in its own translation
// unit, compiled with that level's -march flags (tables_isa.cpp, built once
// per level, family and precision by CMakeLists.txt); every other translation
// unit of the extension includes this header, which declares them
// `extern template` so that none of them is compiled again for the baseline.
#include <fastloss/registry.hpp>

#if FASTLOSS_TABLE_DISPATCH

#define FASTLOSS_TABLE_ELEMENTWISE(KW, I, T, S) \
  KW const ElementwiseTiles<S, T>& elementwise_tiles<I, S, T>();
#define FASTLOSS_TABLE_ROWS(KW, I, T, S) KW const RowsTiles<S, T>& rows_tiles<I, S, T>();

#define FASTLOSS_EXTERN_E_(S)                                   \
  FASTLOSS_TABLE_ELEMENTWISE(extern template, 0, float, S)     \
  FASTLOSS_TABLE_ELEMENTWISE(extern template, 1, float, S)     \
  FASTLOSS_TABLE_ELEMENTWISE(extern template, 2, float, S)     \
  FASTLOSS_TABLE_ELEMENTWISE(extern template, 0, double, S)    \
  FASTLOSS_TABLE_ELEMENTWISE(extern template, 1, double, S)    \
  FASTLOSS_TABLE_ELEMENTWISE(extern template, 2, double, S)
#define FASTLOSS_EXTERN_R_(S)                             \
  FASTLOSS_TABLE_ROWS(extern template, 0, float, S)      \
  FASTLOSS_TABLE_ROWS(extern template, 1, float, S)      \
  FASTLOSS_TABLE_ROWS(extern template, 2, float, S)      \
  FASTLOSS_TABLE_ROWS(extern template, 0, double, S)     \
  FASTLOSS_TABLE_ROWS(extern template, 1, double, S)     \
  FASTLOSS_TABLE_ROWS(extern template, 2, double, S)

#ifndef FASTLOSS_ISA_LEVEL
namespace fastloss::detail {
FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_EXTERN_E_)
FASTLOSS_CLASSAXIS_LOSSES(FASTLOSS_EXTERN_R_)
}  // namespace fastloss::detail
#endif

#endif

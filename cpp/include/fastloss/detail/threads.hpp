// Thread-count control shared by every kernel.
#pragma once

#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

// Loop-vectorisation hint: OpenMP's simd pragma when OpenMP (or -fopenmp-simd)
// is on, GCC's ivdep otherwise, nothing elsewhere. Never changes results: the
// loops it marks have no cross-iteration dependences.
#if defined(_OPENMP)
#define FASTLOSS_SIMD _Pragma("omp simd")
#elif defined(__GNUC__) && !defined(__clang__)
#define FASTLOSS_SIMD _Pragma("GCC ivdep")
#else
#define FASTLOSS_SIMD
#endif

namespace fastloss {

namespace detail {
inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set, follow OpenMP's default
  return n;
}
}  // namespace detail

/// True when the library was compiled with OpenMP.
inline constexpr bool has_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

/// Number of threads the kernels use. Defaults to OpenMP's max threads
/// (OMP_NUM_THREADS is honoured); 1 without OpenMP.
inline int get_num_threads() {
#ifdef _OPENMP
  const int n = detail::thread_setting().load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
#else
  return 1;
#endif
}

/// Sets the thread count for subsequent kernels (n >= 1). Results do not
/// depend on it: work is split in fixed blocks reduced in a fixed order.
inline void set_num_threads(int n) {
  detail::thread_setting().store(n < 1 ? 1 : n, std::memory_order_relaxed);
}

}  // namespace fastloss

// Runtime instruction-set dispatch. The hot tile functions of the drivers are
// compiled three times (x86-64-v4: AVX-512; x86-64-v3: AVX2+FMA; baseline
// x86-64: SSE2) through GCC's target_clones, and the loader picks one from
// CPUID once (an ifunc), so one build runs on any x86-64 and uses the widest
// unit. Elsewhere (other compilers or CPUs, or FASTLOSS_NO_DISPATCH, which the
// FASTLOSS_NATIVE CMake option sets) the functions are compiled once, for the
// flags of the build.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(FASTLOSS_NO_DISPATCH)
#define FASTLOSS_HAS_DISPATCH 1
// flatten: everything a tile calls is inlined into each clone, so no loss or
// math function is left compiled for the baseline only.
#define FASTLOSS_DISPATCH \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#define FASTLOSS_HAS_DISPATCH 0
#if defined(__GNUC__)
#define FASTLOSS_DISPATCH __attribute__((flatten))
#else
#define FASTLOSS_DISPATCH
#endif
#endif

// The loops and the math they call must be inlined into the dispatched tile
// functions to be compiled for the clone's instruction set.
#if defined(__GNUC__)
#define FASTLOSS_INLINE inline __attribute__((always_inline))
#else
#define FASTLOSS_INLINE inline
#endif

namespace fastloss {

/// Whether the kernels run in a clone with an FMA unit: x86-64-v3 and v4 have
/// one and the baseline clone has none, so on x86 with dispatch this is the
/// loader's own choice, read from the CPU model that the ifunc resolvers use.
/// Dispatched tiles branch on it once, outside their loops, and the math
/// inside reads the same value.
#if FASTLOSS_HAS_DISPATCH
inline __attribute__((always_inline)) bool fma_clone() {
  return __builtin_cpu_supports("x86-64-v3");
}
#elif defined(__FMA__) || defined(__aarch64__)
constexpr bool fma_clone() { return true; }
#else
constexpr bool fma_clone() { return false; }
#endif

/// Forces a lambda's body inline (GCC 12 may otherwise outline a lambda that
/// is called from two branches, and the outlined copy is compiled for the
/// baseline even inside a dispatched clone).
#if defined(__GNUC__)
#define FASTLOSS_LAMBDA_INLINE __attribute__((always_inline))
#else
#define FASTLOSS_LAMBDA_INLINE
#endif

/// f() called in a branch on fma_clone(): inside each branch the compiler
/// knows the answer, so the math f inlines is compiled once with FMA and once
/// without, and nothing is tested per element. Every dispatched tile that
/// evaluates the math runs its body through this (f marked
/// FASTLOSS_LAMBDA_INLINE).
template <class F>
FASTLOSS_INLINE decltype(auto) with_fma_known(const F& f) {
  if (fma_clone()) return f();
  return f();
}

/// The instruction set the kernels run with on this machine.
inline const char* active_isa() {
#if FASTLOSS_HAS_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)";
  if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2+FMA)";
  return "x86-64 (SSE2)";
#elif defined(__AVX512F__)
  return "AVX-512 (compile-time)";
#elif defined(__AVX2__)
  return "AVX2 (compile-time)";
#elif defined(__SSE2__)
  return "SSE2 (compile-time)";
#elif defined(__ARM_NEON)
  return "NEON (compile-time)";
#else
  return "scalar (compile-time)";
#endif
}

}  // namespace fastloss

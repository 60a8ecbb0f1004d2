// Runtime instruction-set dispatch. The hot tile functions of the drivers are
// compiled three times (x86-64-v4: AVX-512; x86-64-v3: AVX2+FMA; baseline
// x86-64: SSE2) through GCC's target_clones, and the loader picks one from
// CPUID once (an ifunc), so one build runs on any x86-64 and uses the widest
// unit. Elsewhere (other compilers or CPUs, or FASTLOSS_NO_DISPATCH, which the
// FASTLOSS_NATIVE CMake option sets) the functions are compiled once, for the
// flags of the build.
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

// Two ways to get per-instruction-set code:
//
// * Header use (a C++ program including fastloss.hpp): the hot tile functions
//   are compiled three times through GCC's target_clones (x86-64-v4: AVX-512;
//   x86-64-v3: AVX2+FMA; baseline x86-64: SSE2) and the loader picks one from
//   CPUID once (an ifunc). Inside a clone the compiler does not know which one
//   it is compiling, so FMA is a run-time choice (fma_clone) taken once per
//   tile (with_fma_known).
// * Kernel tables (FASTLOSS_ISA_TABLES, what the Python extension's build
//   defines): each tile is compiled once per instruction set in its own
//   translation unit built with that set's -march flags (FASTLOSS_ISA_LEVEL
//   0, 1, 2), the tiles of a loss are collected in a table of function
//   pointers, and the driver picks the table of the running CPU once (or the
//   one the FASTLOSS_ISA environment variable names, see isa_level). FMA is
//   then known at compile time and every tile is compiled once per set, not
//   twice per clone: a third of the code and of the build time.
//
// Elsewhere (other compilers or CPUs, or FASTLOSS_NO_DISPATCH, which the
// FASTLOSS_NATIVE CMake option sets) the functions are compiled once, for the
// flags of the build.
#if defined(FASTLOSS_ISA_TABLES) && !defined(FASTLOSS_NO_DISPATCH) && \
    (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define FASTLOSS_HAS_DISPATCH 1
#define FASTLOSS_TABLE_DISPATCH 1
#else
#define FASTLOSS_TABLE_DISPATCH 0
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(FASTLOSS_NO_DISPATCH)
#ifndef FASTLOSS_HAS_DISPATCH
#define FASTLOSS_HAS_DISPATCH 1
#endif
// flatten: everything a tile calls is inlined into each clone, so no loss or
// math function is left compiled for the baseline only. (The model losses'
// loops keep this form in both ways of building: they use no FMA.)
#define FASTLOSS_DISPATCH \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten))
#else
#ifndef FASTLOSS_HAS_DISPATCH
#define FASTLOSS_HAS_DISPATCH 0
#endif
#if defined(__GNUC__)
#define FASTLOSS_DISPATCH __attribute__((flatten))
#else
#define FASTLOSS_DISPATCH
#endif
#endif

/// What a tile function is declared with: target_clones in header use, a
/// plain (flattened) function in a kernel table's translation unit.
#if FASTLOSS_TABLE_DISPATCH
#define FASTLOSS_TILE __attribute__((flatten))
#else
#define FASTLOSS_TILE FASTLOSS_DISPATCH
#endif

/// What map_chunk (driver.hpp), the one loop over an elementwise loss's
/// math, is declared with: called, never inlined, so that it is compiled once
/// per pass rather than once per layout and call site. With kernel tables it
/// is part of its level's unit; in header use it is itself the dispatched
/// function (target_clones), resolved once per call of a chunk of elements,
/// and the loops around it are compiled once.
#if FASTLOSS_TABLE_DISPATCH
#define FASTLOSS_MAP __attribute__((noinline))
#elif defined(__GNUC__)
#define FASTLOSS_MAP FASTLOSS_DISPATCH __attribute__((noinline))
#else
#define FASTLOSS_MAP
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
#if FASTLOSS_TABLE_DISPATCH
// each table's translation unit is compiled for one instruction set: known here
#if defined(__FMA__)
constexpr bool fma_clone() { return true; }
#else
constexpr bool fma_clone() { return false; }
#endif
#elif FASTLOSS_HAS_DISPATCH
inline __attribute__((always_inline)) bool fma_clone() {
  return __builtin_cpu_supports("x86-64-v3");
}
#elif defined(__FMA__) || defined(__aarch64__)
constexpr bool fma_clone() { return true; }
#else
constexpr bool fma_clone() { return false; }
#endif

/// Instruction-set levels of the kernel tables: 0 baseline x86-64 (SSE2),
/// 1 x86-64-v3 (AVX2+FMA), 2 x86-64-v4 (AVX-512). Without tables every tile
/// is instantiated at level 0 only.
inline constexpr int kIsaLevels = FASTLOSS_TABLE_DISPATCH ? 3 : 1;

/// The widest kernel-table level the running CPU can run (0 without tables).
inline int cpu_isa_level() {
#if FASTLOSS_TABLE_DISPATCH
  static const int level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 2;
    if (__builtin_cpu_supports("x86-64-v3")) return 1;
    return 0;
  }();
  return level;
#else
  return 0;
#endif
}

/// The names FASTLOSS_ISA takes, indexed by table level.
inline constexpr const char* kIsaNames[3] = {"baseline", "avx2", "avx512"};

/// The level a FASTLOSS_ISA value names: -1 for unset or empty (the widest
/// the CPU runs), -2 for a value that names no level.
inline int parse_isa_name(const char* value) {
  if (value == nullptr || *value == '\0') return -1;
  for (int level = 0; level < 3; ++level)
    if (std::strcmp(value, kIsaNames[level]) == 0) return level;
  return -2;
}

/// Why the FASTLOSS_ISA environment variable cannot be honoured, or an empty
/// string when it can (unset, empty, or a level the CPU runs). Only the
/// kernel-table build (the Python extension) reads the variable; its module
/// init calls this and raises ImportError with the message, so that a typo
/// or a set the CPU lacks fails loudly rather than running another clone.
inline std::string isa_override_error() {
  const char* value = std::getenv("FASTLOSS_ISA");
  const int asked = parse_isa_name(value);
  if (asked == -1) return {};
  std::string supported;
  for (int level = cpu_isa_level(); level >= 0; --level) {
    supported += kIsaNames[level];
    if (level > 0) supported += ", ";
  }
  const std::string head = std::string("FASTLOSS_ISA=") + value + ": ";
  if (!FASTLOSS_TABLE_DISPATCH)
    return head + "this build has no kernel tables (FASTLOSS_ISA_TABLES: the Python "
                  "extension's build on x86-64 without FASTLOSS_NATIVE), so the variable "
                  "cannot choose an instruction set; unset it";
  if (asked == -2)
    return head + "unknown value (expected avx512, avx2, baseline or empty); this CPU "
                  "supports " + supported;
  if (asked > cpu_isa_level())
    return head + "this CPU cannot run that instruction set; it supports " + supported;
  return {};
}

/// The table level the kernels run: the one FASTLOSS_ISA names (avx512,
/// avx2, baseline) when the CPU can run it, else the widest the CPU runs
/// (0 without tables). Read once; an invalid value is reported by
/// isa_override_error(), not here.
inline int isa_level() {
#if FASTLOSS_TABLE_DISPATCH
  static const int level = [] {
    const int asked = parse_isa_name(std::getenv("FASTLOSS_ISA"));
    return asked >= 0 && asked <= cpu_isa_level() ? asked : cpu_isa_level();
  }();
  return level;
#else
  return 0;
#endif
}

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
#if FASTLOSS_TABLE_DISPATCH
  return f();  // a kernel table's unit knows its instruction set at compile time
#else
  if (fma_clone()) return f();
  return f();
#endif
}

/// f(std::integral_constant<int, L>{}) for the kernel-table level L the
/// running CPU takes (L = 0 without tables): how a driver picks its table.
template <class F>
FASTLOSS_INLINE decltype(auto) at_isa_level(const F& f) {
#if FASTLOSS_TABLE_DISPATCH
  switch (isa_level()) {
    case 2: return f(std::integral_constant<int, 2>{});
    case 1: return f(std::integral_constant<int, 1>{});
    default: break;
  }
#endif
  return f(std::integral_constant<int, 0>{});
}

/// The instruction set the kernels run with on this machine.
inline const char* active_isa() {
#if FASTLOSS_TABLE_DISPATCH
  switch (isa_level()) {
    case 2: return "x86-64-v4 (AVX-512)";
    case 1: return "x86-64-v3 (AVX2+FMA)";
    default: return "x86-64 (SSE2)";
  }
#elif FASTLOSS_HAS_DISPATCH
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

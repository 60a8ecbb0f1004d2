// The float32 math of detail/vmath.hpp against double-precision libm over
// sweeps of every 997th float of each function's domain, with the ULP bounds
// documented in that header. Called here, outside any dispatched tile, the
// functions take the variant fastloss::fma_clone() selects: with FMA in a
// dispatching build on a CPU that has it, without in the sanitizer builds
// (clones off, baseline flags). CI runs both, so both variants are held to the
// bounds. The float64 functions, in the same two variants, are held to their
// bounds against long double libm.
//
// The same functions are also evaluated as the losses evaluate them: over
// arrays, in a function compiled per instruction set like the loss tiles
// (FASTLOSS_DISPATCH, through with_fma_known), so in a dispatching build the
// clone the loader picks, vectorised, with FMA where it has one. Those sweeps
// are denser (every 97th float), their specials are the full IEEE set, and
// their results must not depend on the array length (vector body == scalar
// tail). The same array sweeps also run through map_in compiled for each
// x86-64 level by name (baseline, x86-64-v3, x86-64-v4: every table the
// extension can run, FASTLOSS_ISA) on the levels the CPU has, which must give
// the clone's bits. This was tests/test_vmath.py through a test hook in the extension;
// the hook is gone from the wheel and its checks live here.
#include <fastloss/fastloss.hpp>

#include <cfloat>
#include <cinttypes>
#include <cstring>

#include "check.hpp"

namespace fastloss_test {
namespace {

namespace vm = fastloss::vmath;

float from_bits(std::int32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
std::int32_t to_bits(float f) {
  std::int32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

/// |got - want| in units of the float spacing at want (double arithmetic).
double ulp_error(float got, double want) {
  const float w = std::fabs(static_cast<float>(want));
  double spacing = static_cast<double>(std::nextafter(w, FLT_MAX)) - static_cast<double>(w);
  spacing = std::fmax(spacing, static_cast<double>(std::numeric_limits<float>::denorm_min()));
  return std::fabs(static_cast<double>(got) - want) / spacing;
}

/// Calls f(x) for every step-th float of [lo, hi] by bit pattern, both signs.
template <class F>
void every_float(float lo, float hi, std::int32_t step, const F& f) {
  if (hi >= 0.0f) {  // [max(lo, 0), hi]
    const std::int32_t a = to_bits(lo > 0.0f ? lo : 0.0f), b = to_bits(hi);
    for (std::int64_t k = a; k <= b; k += step) f(from_bits(static_cast<std::int32_t>(k)));
  }
  if (lo < 0.0f) {  // [lo, min(hi, -0)], by magnitude
    const std::int32_t a = to_bits(hi < 0.0f ? -hi : 0.0f), b = to_bits(-lo);
    for (std::int64_t k = a; k <= b; k += step) f(-from_bits(static_cast<std::int32_t>(k)));
  }
}

/// The vmath functions, as the sweeps below name them.
enum class Op { exp, log, log1p, tanh, exp_nonpositive, log_positive, log1p_unit, tanh_parts };

/// out[k] = f(in[k]), each function fed what its callers pass. Every lambda is
/// forced inline: an outlined one would be compiled for the baseline only and
/// called from every clone (isa.hpp, FASTLOSS_LAMBDA_INLINE).
template <class T>
FASTLOSS_INLINE void map_in(Op f, const T* in, T* out, fastloss::index_t n) {
  auto map = [&](auto fn) FASTLOSS_LAMBDA_INLINE {
    for (fastloss::index_t k = 0; k < n; ++k) out[k] = fn(in[k]);
  };
  switch (f) {
    case Op::exp:
      map([](T x) FASTLOSS_LAMBDA_INLINE { return vm::exp(x); });
      break;
    case Op::log:
      map([](T x) FASTLOSS_LAMBDA_INLINE { return vm::log(x); });
      break;
    case Op::log1p:
      map([](T x) FASTLOSS_LAMBDA_INLINE { return vm::log1p(x); });
      break;
    case Op::tanh:
      map([](T x) FASTLOSS_LAMBDA_INLINE { return vm::tanh(x); });
      break;
    case Op::exp_nonpositive:
      map([](T x) FASTLOSS_LAMBDA_INLINE { return vm::exp_nonpositive(x); });
      break;
    case Op::log_positive:
      map([](T x) FASTLOSS_LAMBDA_INLINE { return vm::log_positive(x); });
      break;
    case Op::log1p_unit:
      map([](T e) FASTLOSS_LAMBDA_INLINE { return vm::log1p_unit(e, T(1) / (T(1) + e)); });
      break;
    case Op::tanh_parts:
      map([](T x) FASTLOSS_LAMBDA_INLINE {
        const T e = vm::exp(T(-2) * (x < T(0) ? -x : x));
        return vm::tanh_parts(x, e, T(1) / (T(1) + e));
      });
      break;
  }
}

/// map_in compiled per instruction set and run through with_fma_known, as the
/// loss tiles are: the clone (and FMA variant) the losses run in.
template <class T>
FASTLOSS_DISPATCH void in_clone(Op f, const T* in, T* out, fastloss::index_t n) {
  fastloss::with_fma_known([&]() FASTLOSS_LAMBDA_INLINE { map_in(f, in, out, n); });
}

/// map_in compiled for each x86-64 instruction-set level by name (GCC's
/// dispatching build): the loader runs only the CPU's widest clone, while the
/// kernel tables of the Python extension run any level FASTLOSS_ISA names.
/// Each level the CPU runs must give the clone's bits on every sweep point
/// (all use the same FMA choice, fma_clone(), so the bits are the same; the
/// clone's are held to the bounds), which holds every level to the bounds.
/// Levels: 0 baseline x86-64, 1 x86-64-v3 (AVX2+FMA), 2 x86-64-v4 (AVX-512).
#if FASTLOSS_HAS_DISPATCH && !FASTLOSS_TABLE_DISPATCH && defined(__x86_64__) && \
    defined(__GNUC__) && !defined(__clang__)
#define FASTLOSS_TEST_LEVELS 1
template <class T>
__attribute__((flatten, noinline)) void at_level0(Op f, const T* in, T* out, fastloss::index_t n) {
  fastloss::with_fma_known([&]() FASTLOSS_LAMBDA_INLINE { map_in(f, in, out, n); });
}
template <class T>
__attribute__((target("arch=x86-64-v3"), flatten, noinline)) void at_level1(
    Op f, const T* in, T* out, fastloss::index_t n) {
  fastloss::with_fma_known([&]() FASTLOSS_LAMBDA_INLINE { map_in(f, in, out, n); });
}
template <class T>
__attribute__((target("arch=x86-64-v4"), flatten, noinline)) void at_level2(
    Op f, const T* in, T* out, fastloss::index_t n) {
  fastloss::with_fma_known([&]() FASTLOSS_LAMBDA_INLINE { map_in(f, in, out, n); });
}
bool cpu_runs_level(int level) {
  __builtin_cpu_init();
  return level == 0 || (level == 1 && __builtin_cpu_supports("x86-64-v3")) ||
         (level == 2 && __builtin_cpu_supports("x86-64-v4"));
}
#else
#define FASTLOSS_TEST_LEVELS 0
#endif

/// How many of ys[0..n) (the clone's results on xs) each level the CPU runs
/// gives different bits for, added to differ[level]; none without the
/// per-level functions.
template <class T>
void count_level_differences(Op f, const T* xs, const T* ys, std::size_t n, long* differ) {
#if FASTLOSS_TEST_LEVELS
  std::vector<T> got(n);
  for (int level = 0; level < 3; ++level) {
    if (!cpu_runs_level(level)) continue;
    const auto len = static_cast<fastloss::index_t>(n);
    if (level == 0) at_level0(f, xs, got.data(), len);
    if (level == 1) at_level1(f, xs, got.data(), len);
    if (level == 2) at_level2(f, xs, got.data(), len);
    for (std::size_t k = 0; k < n; ++k)
      differ[level] += std::memcmp(&got[k], &ys[k], sizeof(T)) != 0;
  }
#else
  (void)f, (void)xs, (void)ys, (void)n, (void)differ;
#endif
}

/// Checks and prints what count_level_differences found for one function.
void check_levels(Harness& h, const std::string& name, const long* differ) {
#if FASTLOSS_TEST_LEVELS
  static const char* const kNames[3] = {"x86-64", "x86-64-v3", "x86-64-v4"};
  std::string ran;
  for (int level = 0; level < 3; ++level) {
    if (!cpu_runs_level(level)) continue;
    ran += std::string(ran.empty() ? "" : ", ") + kNames[level];
    h.check(differ[level] == 0, name + ": " + std::to_string(differ[level]) + " results of the " +
                                    kNames[level] + " code differ from the clone's");
  }
  std::printf("  %-16s same bits at levels %s\n", name.c_str(), ran.c_str());
#else
  (void)h, (void)name, (void)differ;
#endif
}

/// One value through the clone (the scalar tail of its loop).
template <class T>
T clone1(Op f, T x) {
  T y = std::numeric_limits<T>::quiet_NaN();  // GCC cannot see that the switch writes it
  in_clone(f, &x, &y, 1);
  return y;
}

template <class Fn, class Ref>
void sweep(Harness& h, const char* name, Fn fn, Ref ref, float lo, float hi, double bound) {
  double worst = 0.0;
  float at = 0.0f;
  long points = 0;
  every_float(lo, hi, 997, [&](float x) {
    ++points;
    const double want = ref(static_cast<double>(x));
    if (!std::isfinite(want) || std::fabs(want) >= FLT_MAX) return;
    const double e = ulp_error(fn(x), want);
    if (!(e <= worst)) {
      worst = e;
      at = x;
    }
  });
  h.check(points > 1000000, std::string(name) + ": too few points");
  h.check(worst <= bound, std::string(name) + ": " + num(worst) + " ulp at x = " + num(at) +
                              " (bound " + num(bound) + ")");
  std::printf("  %-16s max %.3f ulp over %ld points\n", name, worst, points);
}

void ulp(Harness& h) {
  std::printf("  variant: %s\n", fastloss::fma_clone() ? "FMA" : "no FMA");
  sweep(h, "exp", [](float x) { return vm::exp(x); }, [](double x) { return std::exp(x); },
        -103.9f, 88.7f, 1.0);
  sweep(h, "log", [](float x) { return vm::log(x); }, [](double x) { return std::log(x); },
        1e-45f, 3.4e38f, 1.0);
  sweep(h, "log1p", [](float x) { return vm::log1p(x); },
        [](double x) { return std::log1p(x); }, -0.99999994f, 3.4e38f, 3.0);
  sweep(h, "tanh", [](float x) { return vm::tanh(x); }, [](double x) { return std::tanh(x); },
        -3.4e38f, 3.4e38f, 2.0);
  sweep(h, "exp_nonpositive", [](float x) { return vm::exp_nonpositive(x); },
        [](double x) { return std::exp(x); }, -103.9f, 0.0f, 1.0);
  sweep(h, "log_positive", [](float x) { return vm::log_positive(x); },
        [](double x) { return std::log(x); }, 1.1754944e-38f, 3.4e38f, 1.0);
  sweep(h, "log1p_unit", [](float e) { return vm::log1p_unit(e, 1.0f / (1.0f + e)); },
        [](double x) { return std::log1p(x); }, 0.0f, 1.0f, 2.0);
  sweep(
      h, "tanh_parts",
      [](float x) {
        const float e = vm::exp(-2.0f * std::fabs(x));
        return vm::tanh_parts(x, e, 1.0f / (1.0f + e));
      },
      [](double x) { return std::tanh(x); }, -3.4e38f, 3.4e38f, 2.0);
}

/// f in the clone against ref over every 97th float of [lo, hi] (more than five
/// million points), in chunks.
template <class Ref>
void sweep_in_clone(Harness& h, const char* name, Op f, Ref ref, float lo, float hi,
                    double bound) {
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  std::vector<float> xs, ys(kChunk);
  xs.reserve(kChunk);
  double worst = 0.0;
  float at = 0.0f;
  long points = 0;
  long differ[3] = {};
  auto flush = [&]() {
    in_clone(f, xs.data(), ys.data(), static_cast<fastloss::index_t>(xs.size()));
    count_level_differences(f, xs.data(), ys.data(), xs.size(), differ);
    for (std::size_t k = 0; k < xs.size(); ++k) {
      ++points;
      const double want = ref(static_cast<double>(xs[k]));
      if (!std::isfinite(want) || std::fabs(want) >= FLT_MAX) continue;
      const double e = ulp_error(ys[k], want);
      if (!(e <= worst)) {
        worst = e;
        at = xs[k];
      }
    }
    xs.clear();
  };
  every_float(lo, hi, 97, [&](float x) {
    xs.push_back(x);
    if (xs.size() == kChunk) flush();
  });
  flush();
  h.check(points > 5000000, std::string(name) + " (clone): too few points");
  h.check(worst <= bound, std::string(name) + " (clone): " + num(worst) + " ulp at x = " +
                              num(at) + " (bound " + num(bound) + ")");
  std::printf("  %-16s clone max %.3f ulp over %ld points\n", name, worst, points);
  check_levels(h, name, differ);
}

void ulp_in_clone(Harness& h) {
  std::printf("  in the losses' clone: %s, %s\n", fastloss::active_isa(),
              fastloss::fma_clone() ? "FMA" : "no FMA");
  auto exp = [](double x) { return std::exp(x); };
  auto log = [](double x) { return std::log(x); };
  auto log1p = [](double x) { return std::log1p(x); };
  auto tanh = [](double x) { return std::tanh(x); };
  sweep_in_clone(h, "exp", Op::exp, exp, -103.9f, 88.7f, 1.0);
  sweep_in_clone(h, "log", Op::log, log, 1e-45f, 3.4e38f, 1.0);
  sweep_in_clone(h, "log1p", Op::log1p, log1p, -0.99999994f, 3.4e38f, 3.0);
  sweep_in_clone(h, "tanh", Op::tanh, tanh, -3.4e38f, 3.4e38f, 2.0);
  sweep_in_clone(h, "exp_nonpositive", Op::exp_nonpositive, exp, -103.9f, 0.0f, 1.0);
  sweep_in_clone(h, "log_positive", Op::log_positive, log, 1.1754944e-38f, 3.4e38f, 1.0);
  sweep_in_clone(h, "log1p_unit", Op::log1p_unit, log1p, 0.0f, 1.0f, 2.0);
  sweep_in_clone(h, "tanh_parts", Op::tanh_parts, tanh, -3.4e38f, 3.4e38f, 2.0);
}

/// |got - want| in units of the double spacing at want (long double arithmetic).
long double ulp_error64(double got, long double want) {
  const double w = std::fabs(static_cast<double>(want));
  double spacing = std::nextafter(w, DBL_MAX) - w;
  spacing = std::fmax(spacing, std::numeric_limits<double>::denorm_min());
  return std::fabs(static_cast<long double>(got) - want) / spacing;
}

/// The float64 functions against long double libm: about a million doubles of
/// [lo, hi] evenly spaced by bit pattern per sign, and a million uniform ones
/// in [lo, hi] clipped to [-40, 40].
template <class Fn, class Ref>
void sweep64(Harness& h, const char* name, Fn fn, Ref ref, double lo, double hi,
             double bound) {
  long double worst = 0.0L;
  double at = 0.0;
  long points = 0;
  auto one = [&](double x) {
    ++points;
    const long double want = ref(static_cast<long double>(x));
    if (!std::isfinite(want) || std::fabs(want) > DBL_MAX) return;
    const long double e = ulp_error64(fn(x), want);
    if (!(e <= worst)) {
      worst = e;
      at = x;
    }
  };
  auto bits = [](double d) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
  };
  auto from = [](std::uint64_t b) {
    double d;
    std::memcpy(&d, &b, sizeof d);
    return d;
  };
  for (int sign : {1, -1}) {
    // magnitudes a .. b (0.0 - x: never -0.0, whose bits are not below +0.0's)
    const double a = sign > 0 ? std::fmax(lo, 0.0) : (hi < 0.0 ? 0.0 - hi : 0.0);
    const double b = sign > 0 ? hi : 0.0 - lo;
    if (a > b) continue;
    const std::uint64_t ia = bits(a), ib = bits(b), step = (ib - ia) / 1000000 + 1;
    for (std::uint64_t k = ia; k <= ib; k += step) one(sign * from(k));
  }
  Rng rng(7);
  for (int k = 0; k < 1000000; ++k) one(rng.uniform(std::fmax(lo, -40.0), std::fmin(hi, 40.0)));
  h.check(points > 1500000, std::string(name) + " (float64): too few points");
  h.check(worst <= bound, std::string(name) + " (float64): " + num(static_cast<double>(worst)) +
                              " ulp at x = " + num(at) + " (bound " + num(bound) + ")");
  std::printf("  %-16s float64 max %.3f ulp over %ld points\n", name,
              static_cast<double>(worst), points);
}

void ulp64(Harness& h) {
  using LD = long double;
  sweep64(h, "exp", [](double x) { return vm::exp(x); }, [](LD x) { return expl(x); }, -745.13,
          709.78, 1.0);
  sweep64(h, "log", [](double x) { return vm::log(x); }, [](LD x) { return logl(x); }, 5e-324,
          1.7e308, 1.0);
  sweep64(h, "log1p", [](double x) { return vm::log1p(x); }, [](LD x) { return log1pl(x); },
          -0.9999999999999999, 1.7e308, 1.0);
  sweep64(h, "tanh", [](double x) { return vm::tanh(x); }, [](LD x) { return tanhl(x); },
          -1.7e308, 1.7e308, 2.0);
  sweep64(h, "exp_nonpositive", [](double x) { return vm::exp_nonpositive(x); },
          [](LD x) { return expl(x); }, -745.13, 0.0, 1.0);
  sweep64(h, "log_positive", [](double x) { return vm::log_positive(x); },
          [](LD x) { return logl(x); }, 2.2250738585072014e-308, 1.7e308, 1.0);
  sweep64(h, "log1p_unit", [](double e) { return vm::log1p_unit(e, 1.0 / (1.0 + e)); },
          [](LD x) { return log1pl(x); }, 0.0, 1.0, 1.0);
  sweep64(
      h, "tanh_parts",
      [](double x) {
        const double e = vm::exp(-2.0 * std::fabs(x));
        return vm::tanh_parts(x, e, 1.0 / (1.0 + e));
      },
      [](LD x) { return tanhl(x); }, -1.7e308, 1.7e308, 2.0);
}

/// f in the clone against long double ref: about a million doubles of [lo, hi]
/// evenly spaced by bit pattern per sign and two million uniform ones in [lo, hi]
/// clipped to [-40, 40]; results beyond double's range (inf, NaN) must be the
/// reference's.
template <class Ref>
void sweep64_in_clone(Harness& h, const char* name, Op f, Ref ref, double lo, double hi,
                      double bound) {
  std::vector<double> xs;
  auto bits = [](double d) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
  };
  auto from = [](std::uint64_t b) {
    double d;
    std::memcpy(&d, &b, sizeof d);
    return d;
  };
  for (int sign : {1, -1}) {
    const double a = sign > 0 ? std::fmax(lo, 0.0) : (hi < 0.0 ? 0.0 - hi : 0.0);
    const double b = sign > 0 ? hi : 0.0 - lo;
    if (a > b) continue;
    const std::uint64_t ia = bits(a), ib = bits(b), step = (ib - ia) / 1000000 + 1;
    for (std::uint64_t k = ia; k <= ib; k += step) xs.push_back(sign * from(k));
  }
  Rng rng(5);
  for (int k = 0; k < 2000000; ++k)
    xs.push_back(rng.uniform(std::fmax(lo, -40.0), std::fmin(hi, 40.0)));
  std::vector<double> ys(xs.size());
  in_clone(f, xs.data(), ys.data(), static_cast<fastloss::index_t>(xs.size()));
  long differ[3] = {};
  count_level_differences(f, xs.data(), ys.data(), xs.size(), differ);
  long double worst = 0.0L;
  double at = 0.0;
  long mismatched = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const long double want = ref(static_cast<long double>(xs[k]));
    if (!std::isfinite(want) || std::fabs(want) > DBL_MAX) {
      const double w = static_cast<double>(want);
      mismatched += !(ys[k] == w || (std::isnan(ys[k]) && std::isnan(w)));
      continue;
    }
    const long double e = ulp_error64(ys[k], want);
    if (!(e <= worst)) {
      worst = e;
      at = xs[k];
    }
  }
  h.check(xs.size() >= 3000000, std::string(name) + " (float64, clone): too few points");
  h.check(worst <= bound, std::string(name) + " (float64, clone): " +
                              num(static_cast<double>(worst)) + " ulp at x = " + num(at) +
                              " (bound " + num(bound) + ")");
  h.check(mismatched == 0, std::string(name) + " (float64, clone): " +
                               std::to_string(mismatched) + " results beyond double's range "
                               "differ from the reference's");
  std::printf("  %-16s float64 clone max %.3f ulp over %zu points\n", name,
              static_cast<double>(worst), xs.size());
  check_levels(h, std::string(name) + " (float64)", differ);
}

void ulp64_in_clone(Harness& h) {
  using LD = long double;
  auto exp = [](LD x) { return expl(x); };
  auto log = [](LD x) { return logl(x); };
  auto log1p = [](LD x) { return log1pl(x); };
  auto tanh = [](LD x) { return tanhl(x); };
  sweep64_in_clone(h, "exp", Op::exp, exp, -745.13, 709.78, 1.0);
  sweep64_in_clone(h, "log", Op::log, log, 5e-324, 1.7e308, 1.0);
  sweep64_in_clone(h, "log1p", Op::log1p, log1p, -0.9999999999999999, 1.7e308, 1.0);
  sweep64_in_clone(h, "tanh", Op::tanh, tanh, -1.7e308, 1.7e308, 2.0);
  sweep64_in_clone(h, "exp_nonpositive", Op::exp_nonpositive, exp, -745.13, 0.0, 1.0);
  sweep64_in_clone(h, "log_positive", Op::log_positive, log, 2.2250738585072014e-308, 1.7e308,
                   1.0);
  sweep64_in_clone(h, "log1p_unit", Op::log1p_unit, log1p, 0.0, 1.0, 1.0);
  sweep64_in_clone(h, "tanh_parts", Op::tanh_parts, tanh, -1.7e308, 1.7e308, 2.0);
}

/// Special values that the polynomial variant must not change.
void specials(Harness& h) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  h.check(vm::exp(inf) == inf && vm::exp(-inf) == 0.0f && std::isnan(vm::exp(nan)), "exp inf/nan");
  h.check(vm::exp(-103.0f) > 0.0f, "exp: subnormal results are produced, not flushed");
  h.check(vm::exp(0.0f) == 1.0f && vm::exp_nonpositive(-0.0f) == 1.0f, "exp(0) == 1");
  h.check(vm::log(1.0f) == 0.0f && vm::log(0.0f) == -inf && std::isnan(vm::log(-1.0f)),
          "log(1), log(0), log(-1)");
  h.check(vm::log1p(1e-30f) == 1e-30f && vm::log1p_unit(1e-30f, 1.0f) == 1e-30f,
          "log1p(e) == e below an ulp of 1");
  h.check(vm::log1p_unit(1.0f, 0.5f) == static_cast<float>(std::log(2.0)), "log1p_unit(1)");
  h.check(vm::tanh(-0.0f) == 0.0f && std::signbit(vm::tanh(-0.0f)), "tanh(-0) keeps its sign");
  h.check(vm::tanh(inf) == 1.0f && vm::tanh(-inf) == -1.0f, "tanh(+-inf)");
  // float64
  const double dinf = std::numeric_limits<double>::infinity();
  const double dnan = std::numeric_limits<double>::quiet_NaN();
  h.check(vm::exp(dinf) == dinf && vm::exp(-dinf) == 0.0 && std::isnan(vm::exp(dnan)),
          "exp inf/nan (float64)");
  h.check(vm::exp(710.0) == dinf && vm::exp(-746.0) == 0.0 && vm::exp(-745.0) > 0.0,
          "exp overflow, underflow and subnormal results (float64)");
  h.check(vm::exp(0.0) == 1.0 && vm::exp_nonpositive(-0.0) == 1.0, "exp(0) == 1 (float64)");
  h.check(vm::log(1.0) == 0.0 && vm::log(0.0) == -dinf && std::isnan(vm::log(-1.0)) &&
              vm::log(dinf) == dinf,
          "log(1), log(0), log(-1), log(inf) (float64)");
  h.check(vm::log1p(-1.0) == -dinf && std::isnan(vm::log1p(-2.0)) && vm::log1p(dinf) == dinf,
          "log1p(-1), log1p(-2), log1p(inf) (float64)");
  h.check(vm::log1p(1e-300) == 1e-300 && vm::log1p_unit(1e-300, 1.0) == 1e-300 &&
              std::signbit(vm::log1p(-0.0)),
          "log1p(e) == e below an ulp of 1 (float64)");
  h.check(vm::tanh(-0.0) == 0.0 && std::signbit(vm::tanh(-0.0)) && vm::tanh(dinf) == 1.0 &&
              vm::tanh(-dinf) == -1.0 && std::isnan(vm::tanh(dnan)),
          "tanh(-0), tanh(+-inf), tanh(nan) (float64)");
}

/// The IEEE special values, in the clone, both precisions.
void specials_in_clone(Harness& h) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto f = [](Op fn, float x) { return clone1(fn, x); };
  h.check(f(Op::exp, inf) == inf && f(Op::exp, -inf) == 0.0f && std::isnan(f(Op::exp, nan)),
          "clone: exp inf/nan");
  h.check(f(Op::exp, 89.0f) == inf && f(Op::exp, -104.0f) == 0.0f, "clone: exp over/underflow");
  h.check(f(Op::exp, -103.0f) > 0.0f, "clone: exp subnormal results are produced, not flushed");
  h.check(f(Op::log, 0.0f) == -inf && std::isnan(f(Op::log, -1.0f)), "clone: log(0), log(-1)");
  h.check(f(Op::log, inf) == inf && std::isnan(f(Op::log, nan)), "clone: log(inf), log(nan)");
  h.check(f(Op::log1p, -1.0f) == -inf && f(Op::log1p, inf) == inf, "clone: log1p(-1), (inf)");
  h.check(f(Op::log1p, 1e-30f) == 1e-30f, "clone: log1p(e) == e below an ulp of 1");
  h.check(f(Op::tanh, inf) == 1.0f && f(Op::tanh, -inf) == -1.0f && std::isnan(f(Op::tanh, nan)),
          "clone: tanh(+-inf), tanh(nan)");
  h.check(f(Op::tanh, -0.0f) == 0.0f && std::signbit(f(Op::tanh, -0.0f)), "clone: tanh(-0)");
  h.check(f(Op::exp_nonpositive, -inf) == 0.0f && f(Op::exp_nonpositive, -104.0f) == 0.0f,
          "clone: exp_nonpositive(-inf), (-104)");
  h.check(std::isnan(f(Op::exp_nonpositive, nan)) && f(Op::exp_nonpositive, -0.0f) == 1.0f,
          "clone: exp_nonpositive(nan), (-0)");
  h.check(f(Op::exp_nonpositive, -103.0f) > 0.0f, "clone: exp_nonpositive subnormal results");
  h.check(std::isnan(f(Op::log_positive, nan)) && f(Op::log_positive, 1.0f) == 0.0f,
          "clone: log_positive(nan), (1)");
  h.check(std::isnan(f(Op::log1p_unit, nan)) && f(Op::log1p_unit, 0.0f) == 0.0f,
          "clone: log1p_unit(nan), (0)");
  h.check(f(Op::log1p_unit, 1e-30f) == 1e-30f, "clone: log1p_unit(e) == e below an ulp of 1");
  h.check(f(Op::log1p_unit, 1.0f) == static_cast<float>(std::log(2.0)), "clone: log1p_unit(1)");
  h.check(f(Op::tanh_parts, inf) == 1.0f && f(Op::tanh_parts, -inf) == -1.0f &&
              std::isnan(f(Op::tanh_parts, nan)),
          "clone: tanh_parts(+-inf), (nan)");
  h.check(f(Op::tanh_parts, -0.0f) == 0.0f && std::signbit(f(Op::tanh_parts, -0.0f)),
          "clone: tanh_parts(-0)");

  const double dinf = std::numeric_limits<double>::infinity();
  const double dnan = std::numeric_limits<double>::quiet_NaN();
  const double ulp = DBL_EPSILON;
  auto d = [](Op fn, double x) { return clone1(fn, x); };
  h.check(d(Op::exp, dinf) == dinf && d(Op::exp, -dinf) == 0.0 && std::isnan(d(Op::exp, dnan)),
          "clone: exp inf/nan (float64)");
  h.check(d(Op::exp, 710.0) == dinf && d(Op::exp, -746.0) == 0.0 && d(Op::exp, 0.0) == 1.0,
          "clone: exp overflow, underflow, exp(0) (float64)");
  h.check(d(Op::exp, -745.0) > 0.0, "clone: exp subnormal results (float64)");
  // the two-factor 2^n near overflow, and subnormal inputs of log
  h.check(std::fabs(d(Op::exp, 709.78) / std::exp(709.78) - 1.0) <= ulp,
          "clone: exp near overflow (float64)");
  h.check(d(Op::log, 0.0) == -dinf && std::isnan(d(Op::log, -1.0)) && d(Op::log, 1.0) == 0.0,
          "clone: log(0), log(-1), log(1) (float64)");
  h.check(d(Op::log, dinf) == dinf && std::isnan(d(Op::log, dnan)), "clone: log inf/nan (float64)");
  h.check(std::fabs(d(Op::log, 5e-324) / std::log(5e-324) - 1.0) <= ulp,
          "clone: log of a subnormal (float64)");
  h.check(d(Op::log1p, -1.0) == -dinf && std::isnan(d(Op::log1p, -2.0)) &&
              d(Op::log1p, dinf) == dinf,
          "clone: log1p(-1), (-2), (inf) (float64)");
  h.check(d(Op::log1p, 1e-300) == 1e-300 && std::signbit(d(Op::log1p, -0.0)),
          "clone: log1p(e) == e, log1p(-0) (float64)");
  h.check(d(Op::tanh, dinf) == 1.0 && d(Op::tanh, -dinf) == -1.0 && std::isnan(d(Op::tanh, dnan)),
          "clone: tanh(+-inf), tanh(nan) (float64)");
  h.check(d(Op::tanh, -0.0) == 0.0 && std::signbit(d(Op::tanh, -0.0)) &&
              d(Op::tanh, 1e-310) == 1e-310,
          "clone: tanh(-0), tanh of a subnormal (float64)");
  h.check(d(Op::exp_nonpositive, -dinf) == 0.0 && d(Op::exp_nonpositive, -0.0) == 1.0,
          "clone: exp_nonpositive(-inf), (-0) (float64)");
  h.check(std::isnan(d(Op::exp_nonpositive, dnan)) && d(Op::exp_nonpositive, -745.0) > 0.0,
          "clone: exp_nonpositive(nan), subnormal results (float64)");
  h.check(std::isnan(d(Op::log_positive, dnan)) && d(Op::log_positive, 1.0) == 0.0,
          "clone: log_positive(nan), (1) (float64)");
  h.check(std::isnan(d(Op::log1p_unit, dnan)) && d(Op::log1p_unit, 0.0) == 0.0 &&
              d(Op::log1p_unit, 1e-300) == 1e-300,
          "clone: log1p_unit(nan), (0), (e) (float64)");
  h.check(std::fabs(d(Op::log1p_unit, 1.0) / std::log(2.0) - 1.0) <= ulp,
          "clone: log1p_unit(1) (float64)");
  h.check(d(Op::tanh_parts, dinf) == 1.0 && d(Op::tanh_parts, -dinf) == -1.0,
          "clone: tanh_parts(+-inf) (float64)");
  h.check(d(Op::tanh_parts, -0.0) == 0.0 && std::signbit(d(Op::tanh_parts, -0.0)),
          "clone: tanh_parts(-0) (float64)");
}

/// The vectorised body and the scalar tail of the clone's loop give the same
/// bits: 1003 arguments at once against one at a time, every function, both
/// precisions (arguments mapped into each function's domain).
template <class T>
void same_bits_at_any_length(Harness& h, const char* precision) {
  const Op all[] = {Op::exp, Op::log, Op::log1p, Op::tanh, Op::exp_nonpositive,
                    Op::log_positive, Op::log1p_unit, Op::tanh_parts};
  const char* names[] = {"exp", "log", "log1p", "tanh", "exp_nonpositive", "log_positive",
                         "log1p_unit", "tanh_parts"};
  Rng rng(11);
  std::vector<T> x(1003), whole(1003);
  for (int j = 0; j < 8; ++j) {
    const Op f = all[j];
    for (auto& v : x) {
      const T u = static_cast<T>(rng.uniform(-30.0, 30.0));
      v = (f == Op::log || f == Op::log1p || f == Op::log_positive) ? std::fabs(u)
          : f == Op::exp_nonpositive                                 ? -std::fabs(u)
          : f == Op::log1p_unit                                      ? std::fabs(u) / T(30)
                                                                     : u;
    }
    in_clone(f, x.data(), whole.data(), static_cast<fastloss::index_t>(x.size()));
    int differ = 0;
    for (std::size_t k = 0; k < x.size(); ++k) {
      const T one = clone1(f, x[k]);
      differ += std::memcmp(&one, &whole[k], sizeof one) != 0;
    }
    h.check(differ == 0, std::string(names[j]) + " (" + precision + ", clone): " +
                             std::to_string(differ) + " of 1003 results change with the length");
  }
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"ulp", [](Harness& h) {
                                    ulp(h);
                                    ulp64(h);
                                    ulp_in_clone(h);
                                    ulp64_in_clone(h);
                                  }},
                                  {"specials", [](Harness& h) {
                                    specials(h);
                                    specials_in_clone(h);
                                    same_bits_at_any_length<float>(h, "float32");
                                    same_bits_at_any_length<double>(h, "float64");
                                  }}});
}

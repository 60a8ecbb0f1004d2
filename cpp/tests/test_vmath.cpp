// The float32 math of detail/vmath.hpp against double-precision libm over
// sweeps of every 997th float of each function's domain, with the ULP bounds
// documented in that header. Called here, outside any dispatched tile, the
// functions take the variant fastloss::fma_clone() selects: with FMA in a
// dispatching build on a CPU that has it, without in the sanitizer builds
// (clones off, baseline flags). CI runs both, so both variants are held to the
// bounds; tests/test_vmath.py checks the clone the extension runs in.
// The float64 functions, in the same two variants, are held to their bounds
// against long double libm.
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

/// |got - want| in units of the float spacing at want (as tests/test_vmath.py).
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

/// |got - want| in units of the double spacing at want (long double arithmetic).
long double ulp_error64(double got, long double want) {
  const double w = std::fabs(static_cast<double>(want));
  double spacing = std::nextafter(w, DBL_MAX) - w;
  spacing = std::fmax(spacing, std::numeric_limits<double>::denorm_min());
  return std::fabs(static_cast<long double>(got) - want) / spacing;
}

/// The float64 functions against long double libm: about a million doubles of
/// [lo, hi] evenly spaced by bit pattern per sign, and a million uniform ones
/// in [lo, hi] clipped to [-40, 40] (as tests/test_vmath.py, other points).
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

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"ulp", [](Harness& h) {
                                    ulp(h);
                                    ulp64(h);
                                  }},
                                  {"specials", specials}});
}

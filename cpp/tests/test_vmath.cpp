// The float32 math of detail/vmath.hpp against double-precision libm over
// sweeps of every 997th float of each function's domain, with the ULP bounds
// documented in that header. Called here, outside any dispatched tile, the
// functions take the variant fastloss::fma_clone() selects: with FMA in a
// dispatching build on a CPU that has it, without in the sanitizer builds
// (clones off, baseline flags). CI runs both, so both variants are held to the
// bounds; tests/test_vmath.py checks the clone the extension runs in.
#include <fastloss/fastloss.hpp>

#include <cfloat>
#include <cinttypes>

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
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"ulp", ulp}, {"specials", specials}});
}

// Branch-free float32 exp / log / log1p / tanh. Every step is plain arithmetic,
// integer bit manipulation and selects, so a compiler vectorises loops that
// call them (glibc's scalar expf/logf stop vectorisation and cost 3-5 ns each).
//
// Method (classic Cody-Waite range reduction + minimax polynomials, the
// coefficients of Moshier's Cephes single-precision library, re-derived forms):
//   exp:  x = n ln2 + r, |r| <= ln2/2; e^r by a degree-6 polynomial; 2^n built
//         in the exponent field (split in two factors so results down to the
//         smallest subnormal are right).
//   log:  x = m 2^e, m in [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + f^3 P(f), f = m-1.
//   log1p: Goldberg's trick log1p(x) = log(u) * x / (u - 1), u = 1 + x (exact for u == 1).
//   tanh: odd polynomial for |x| < 0.625, 1 - 2 / (e^(2|x|) + 1) beyond.
//   exp_nonpositive: exp without the overflow case, for arguments <= 0.
//   log_positive: log without the subnormal / zero / negative / inf cases, for
//         arguments a caller has clipped to positive normal floats.
//   log1p_unit: log1p(e) for e in [0, 1] when 1 / (1 + e) is already known
//         (the logistic and log-cosh losses divide by 1 + e anyway): u = 1 + e
//         splits into [sqrt(1/2), sqrt(2)) without a division, and the rounding
//         error c of u enters as the first-order term c / (1 + e).
//   tanh_parts: tanh from E = e^(-2|x|) and 1 / (1 + E) (log-cosh has both):
//         1 - 2 E / (1 + E) beyond |x| = 0.625, tanh's polynomial below.
//
// FMA. The polynomial steps p * x + c go through detail::fmadd: one rounding
// (an FMA) where the code runs in an instruction-set clone with an FMA unit,
// two (a product, then a sum) where it does not; fastloss::fma_clone() (isa.hpp)
// decides, and the dispatched tiles branch on it outside their loops. On one
// machine every float32 path takes the same clone, so results agree bit for
// bit between layouts, passes and thread counts; CPUs with and without FMA
// may differ in the last bit. Nothing else is contracted (-ffp-contract=off).
//
// Accuracy, measured against double-precision libm over dense sweeps by
// tests/test_vmath.py (the clone in use) and cpp/tests/test_vmath.cpp (run by
// CI with FMA, GCC's dispatching build, and without, clang's build), the bound
// asserted there, for both variants:
//   exp   max 1 ulp   on [-103.9, 88.7] (0 below, +inf above, NaN -> NaN)
//   log   max 1 ulp   on (0, +inf] incl. subnormals (0 -> -inf, <0 -> NaN)
//   log1p max 3 ulp   on (-1, +inf)
//   tanh  max 2 ulp   on all floats
//   exp_nonpositive  as exp on [-inf, 0] (NaN -> NaN)
//   log_positive  as log  on [2^-126, 3.4e38] (NaN -> NaN)
//   log1p_unit    max 2 ulp on [0, 1] (NaN -> NaN)
//   tanh_parts    max 2 ulp on all floats (E, s from exp and a division)
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "isa.hpp"

// Always inlined, so that they are compiled for the caller's instruction set
// (see isa.hpp) and never called across an SSE/AVX boundary.
#if defined(__GNUC__)
#define FASTLOSS_VMATH_INLINE inline __attribute__((always_inline))
#else
#define FASTLOSS_VMATH_INLINE inline
#endif

namespace fastloss::vmath {

namespace detail {
FASTLOSS_VMATH_INLINE float from_bits(std::int32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}
FASTLOSS_VMATH_INLINE std::int32_t to_bits(float f) {
  std::int32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
/// y * 2^n for integer n in [-252, 254], applied as two normal powers of two
/// so that neither factor over- or underflows on its own.
FASTLOSS_VMATH_INLINE float ldexp_split(float y, std::int32_t n) {
  const std::int32_t half = n >> 1;
  return (y * from_bits((half + 127) << 23)) * from_bits((n - half + 127) << 23);
}
}  // namespace detail

namespace detail {
/// a * b + c rounded once where the code runs in a clone with FMA, twice in
/// the baseline clone (see isa.hpp: fma_clone).
FASTLOSS_VMATH_INLINE float fmadd(float a, float b, float c) {
  return fastloss::fma_clone() ? std::fma(a, b, c) : a * b + c;
}
}  // namespace detail

namespace detail {
constexpr float kExpHi = 88.72283935546875f;  // above: overflow to +inf
constexpr float kExpLo = -103.972084045410f;  // below: underflow to 0
/// e^x for x in [kExpLo, kExpHi].
FASTLOSS_VMATH_INLINE float exp_in_range(float xc) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kShift = 12582912.0f;       // 1.5 * 2^23: rounds to nearest integer
  const float nf = (xc * kLog2e + kShift) - kShift;
  // ln 2 split so that nf * kLn2Hi is exact
  const float r = (xc - nf * 0.693359375f) - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = fmadd(p, r, 1.3981999507e-3f);
  p = fmadd(p, r, 8.3334519073e-3f);
  p = fmadd(p, r, 4.1665795894e-2f);
  p = fmadd(p, r, 1.6666665459e-1f);
  p = fmadd(p, r, 5.0000001201e-1f);
  const float y = (p * (r * r) + r) + 1.0f;
  return ldexp_split(y, static_cast<std::int32_t>(nf));
}
}  // namespace detail

FASTLOSS_VMATH_INLINE float exp(float x) {
  using detail::kExpHi;
  using detail::kExpLo;
  const float xc = x > kExpHi ? kExpHi : (x < kExpLo ? kExpLo : x);
  float out = detail::exp_in_range(xc);
  out = x > kExpHi ? std::numeric_limits<float>::infinity() : out;
  out = x < kExpLo ? 0.0f : out;
  return x != x ? x : out;
}

/// e^x for x <= 0 (or NaN, which the arithmetic carries through): exp
/// without the overflow case, for arguments such as -|z| or z - max z.
FASTLOSS_VMATH_INLINE float exp_nonpositive(float x) {
  using detail::kExpLo;
  const float out = detail::exp_in_range(x < kExpLo ? kExpLo : x);
  return x < kExpLo ? 0.0f : out;
}

namespace detail {
/// log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1) plus ef log 2, the
/// polynomial step shared by log and log1p_unit; `extra` (kExtra) is a small
/// term added before the final rounding steps.
template <bool kExtra>
FASTLOSS_VMATH_INLINE float log_reduced(float f, float ef, float extra) {
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = fmadd(p, f, -1.1514610310e-1f);
  p = fmadd(p, f, 1.1676998740e-1f);
  p = fmadd(p, f, -1.2420140846e-1f);
  p = fmadd(p, f, 1.4249322787e-1f);
  p = fmadd(p, f, -1.6668057665e-1f);
  p = fmadd(p, f, 2.0000714765e-1f);
  p = fmadd(p, f, -2.4999993993e-1f);
  p = fmadd(p, f, 3.3333331174e-1f);
  float y = f * z * p;
  if constexpr (kExtra) {
    y += ef * -2.12194440e-4f + extra;
  } else {
    y += ef * -2.12194440e-4f;
  }
  y -= 0.5f * z;
  return (f + y) + ef * 0.693359375f;
}
/// log(x 2^-shift) of a positive normal float x (no subnormal, zero,
/// negative or inf case).
FASTLOSS_VMATH_INLINE float log_normal(float x, float shift) {
  const std::int32_t bits = to_bits(x);
  std::int32_t e = ((bits >> 23) & 0xff) - 126;
  float m = from_bits((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  e -= low ? 1 : 0;
  m = low ? m + m - 1.0f : m - 1.0f;
  return log_reduced<false>(m, static_cast<float>(e) - shift, 0.0f);
}
}  // namespace detail

FASTLOSS_VMATH_INLINE float log(float x) {
  constexpr float kMinNormal = 1.17549435e-38f;
  const bool sub = x < kMinNormal;
  const float xs = sub ? x * 8388608.0f : x;  // subnormals: scale by 2^23 first
  float out = detail::log_normal(xs, sub ? 23.0f : 0.0f);
  out = x == std::numeric_limits<float>::infinity() ? x : out;
  out = x == 0.0f ? -std::numeric_limits<float>::infinity() : out;
  out = x < 0.0f ? std::numeric_limits<float>::quiet_NaN() : out;
  return x != x ? x : out;
}

/// log(x) for x a positive normal float or NaN (callers clip to a positive
/// range first): the special cases of log are left out.
FASTLOSS_VMATH_INLINE float log_positive(float x) {
  const float out = detail::log_normal(x, 0.0f);
  return x != x ? x : out;
}

/// log1p(e) for e in [0, 1] (or NaN), given s = 1 / (1 + e) rounded.
FASTLOSS_VMATH_INLINE float log1p_unit(float e, float s) {
  const float u = 1.0f + e;
  const float c = e - (u - 1.0f);  // u + c == 1 + e exactly (|e| <= 1)
  const bool high = u >= 1.41421356237309505f;
  const float f = (high ? 0.5f * u : u) - 1.0f;  // exact
  // log(u + c) = log(u) + c / u to first order; c / u <= 2^-24 relative
  return detail::log_reduced<true>(f, high ? 1.0f : 0.0f, c * s);
}

FASTLOSS_VMATH_INLINE float log1p(float x) {
  const float u = 1.0f + x;
  const float d = u - 1.0f;
  // u == 1: x is below half an ulp of 1 and log1p(x) == x to float precision
  const float ratio = d == 0.0f ? 1.0f : x / d;
  const float out = d == 0.0f ? x : log(u) * ratio;
  return u == std::numeric_limits<float>::infinity() ? u : out;
}

namespace detail {
/// tanh(x) for |x| < 0.625: odd polynomial.
FASTLOSS_VMATH_INLINE float tanh_small(float x) {
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = fmadd(p, z, 2.06390887954e-2f);
  p = fmadd(p, z, -5.37397155531e-2f);
  p = fmadd(p, z, 1.33314422036e-1f);
  p = fmadd(p, z, -3.33332819422e-1f);
  return x + (p * z) * x;
}
}  // namespace detail

FASTLOSS_VMATH_INLINE float tanh(float x) {
  const float a = x < 0.0f ? -x : x;
  const float small = detail::tanh_small(x);
  const float e = exp(2.0f * (a > 9.1f ? 9.1f : a));  // tanh(9.1) == 1 in float
  float big = 1.0f - 2.0f / (e + 1.0f);
  big = x < 0.0f ? -big : big;
  const float out = a < 0.625f ? small : big;
  return (x != x || x == 0.0f) ? x : out;  // NaN, and the sign of -0
}

/// tanh(x) given E = e^(-2|x|) and s = 1 / (1 + E), which a caller computing
/// log cosh has at hand: 1 - 2 E s beyond |x| = 0.625, the polynomial below.
FASTLOSS_VMATH_INLINE float tanh_parts(float x, float E, float s) {
  const float a = x < 0.0f ? -x : x;
  const float small = detail::tanh_small(x);
  float big = 1.0f - 2.0f * (E * s);
  big = x < 0.0f ? -big : big;
  const float out = a < 0.625f ? small : big;
  return (x != x || x == 0.0f) ? x : out;  // NaN, and the sign of -0
}

}  // namespace fastloss::vmath

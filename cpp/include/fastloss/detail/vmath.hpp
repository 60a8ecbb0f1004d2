// Branch-free float32 and float64 exp / log / log1p / tanh: the reduced-range
// steps of each precision, then the special cases as one template for both
// (with each precision's limits, detail::Limits), then log1p. Every step is
// plain arithmetic, integer bit manipulation and selects, so a compiler
// vectorises loops that call them (glibc's scalar expf/logf stop
// vectorisation and cost 3-5 ns each).
//
// Method (classic Cody-Waite range reduction + minimax polynomials, the
// coefficients of Moshier's Cephes single-precision library, re-derived forms):
//   exp:  x = n ln2 + r, |r| <= ln2/2; e^r by a degree-6 polynomial; 2^n built
//         in the exponent field (split in two factors so results down to the
//         smallest subnormal are right).
//   log:  x = m 2^e, m in [sqrt(1/2), sqrt(2)); log(m) = f - f^2/2 + f^3 P(f), f = m-1.
//   log1p: Goldberg's trick log1p(x) = log(u) * x / (u - 1), u = 1 + x (exact for u == 1).
//   tanh: odd polynomial for |x| < 0.625, 1 - 2 E / (1 + E), E = e^(-2|x|),
//         beyond (as tanh_parts).
//   log_positive: log without the subnormal / zero / negative / inf cases, for
//         arguments a caller has clipped to positive normal floats.
//   exp_nonpositive: exp without the overflow case, for arguments <= 0; 2^n
//         built from the rounding sum's bits as 2^(n+64) 2^-64 (float) or
//         2^(n+600) 2^-600 (double): the same bits as exp's two factors, with
//         fewer instructions (cpp/tests/test_exp_nonpositive.cpp checks it).
//   log1p_unit: log1p(e) for e in [0, 1], the logistic losses' log1p(e^-|z|):
//         float32 e + e^2 R(e) with R of degree 9 on the whole interval (no
//         range reduction; 11 instructions where the reduced log took about
//         twice as many, and its select made GCC compute both sides); float64
//         from u = 1 + e reduced to [sqrt(1/2), sqrt(2)) without a division,
//         the rounding error c of u entering as c / (1 + e), which the
//         callers have.
//   tanh_parts: tanh from E = e^(-2|x|) and 1 / (1 + E) (log-cosh has both):
//         1 - 2 E / (1 + E) beyond |x| = 0.625, tanh's polynomial below.
//
// FMA. The polynomial steps p * x + c go through detail::fmadd: one rounding
// (an FMA) where the code runs in an instruction-set clone with an FMA unit,
// two (a product, then a sum) where it does not; fastloss::fma_clone() (isa.hpp)
// decides, and the dispatched tiles branch on it outside their loops. On one
// machine every path takes the same clone, so results agree bit for
// bit between layouts, passes and thread counts; CPUs with and without FMA
// may differ in the last bit. Nothing else is contracted (-ffp-contract=off).
//
// Accuracy, measured against double-precision libm over dense sweeps by
// cpp/tests/test_vmath.cpp (scalar calls and arrays in the instruction set the
// losses run in; run by CI with FMA, GCC's dispatching build, and without,
// clang's build), the bound
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
#include <type_traits>

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
/// v's bits read as a To of the same size (C++20's std::bit_cast).
template <class To, class From>
FASTLOSS_VMATH_INLINE To bit_cast(From v) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast between types of one size");
  To out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}
FASTLOSS_VMATH_INLINE float from_bits(std::int32_t b) { return bit_cast<float>(b); }
FASTLOSS_VMATH_INLINE std::int32_t to_bits(float f) { return bit_cast<std::int32_t>(f); }
/// y * 2^n for integer n in [-252, 254], applied as two normal powers of two
/// so that neither factor over- or underflows on its own.
FASTLOSS_VMATH_INLINE float ldexp_split(float y, std::int32_t n) {
  const std::int32_t half = n >> 1;
  // the exponent field is shifted as unsigned: a NaN argument may bring any n
  // here, whose result is then NaN anyway, and a left shift of a negative int
  // would be undefined
  const auto pow2 = [](std::int32_t e) FASTLOSS_LAMBDA_INLINE {
    return from_bits(static_cast<std::int32_t>(static_cast<std::uint32_t>(e + 127) << 23));
  };
  return (y * pow2(half)) * pow2(n - half);
}
}  // namespace detail

namespace detail {
/// a * b + c rounded once where the code runs in a clone with FMA, twice in
/// the baseline clone (see isa.hpp: fma_clone).
FASTLOSS_VMATH_INLINE float fmadd(float a, float b, float c) {
  return fastloss::fma_clone() ? std::fma(a, b, c) : a * b + c;
}
FASTLOSS_VMATH_INLINE double fmadd(double a, double b, double c) {
  return fastloss::fma_clone() ? std::fma(a, b, c) : a * b + c;
}
}  // namespace detail

namespace detail {
/// The steps of e^x shared by exp_in_range and exp_in_range_nonpositive for
/// x = xc in [Limits<float>::kExpLo, kExpHi]: t = x log2(e) + 1.5 * 2^23,
/// whose rounding leaves n = round(x / ln 2) in t's low bits, and y = e^r on
/// the reduced r = x - n ln 2; e^x = y 2^n.
struct ExpParts32 {
  float t, nf, y;
};
FASTLOSS_VMATH_INLINE ExpParts32 exp_parts(float xc) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kShift = 12582912.0f;       // 1.5 * 2^23: rounds to nearest integer
  const float t = xc * kLog2e + kShift;
  const float nf = t - kShift;
  // ln 2 split so that nf * kLn2Hi is exact
  const float r = (xc - nf * 0.693359375f) - nf * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = fmadd(p, r, 1.3981999507e-3f);
  p = fmadd(p, r, 8.3334519073e-3f);
  p = fmadd(p, r, 4.1665795894e-2f);
  p = fmadd(p, r, 1.6666665459e-1f);
  p = fmadd(p, r, 5.0000001201e-1f);
  return {t, nf, (p * (r * r) + r) + 1.0f};
}

/// e^x for x in [Limits<float>::kExpLo, kExpHi] (below).
FASTLOSS_VMATH_INLINE float exp_in_range(float xc) {
  const ExpParts32 e = exp_parts(xc);
  return ldexp_split(e.y, static_cast<std::int32_t>(e.nf));
}

/// e^x for x in [Limits<float>::kExpLo, 0]: exp_in_range's steps, with 2^n
/// taken from the low bits of the rounding sum t (they hold n) as 2^(n + 64)
/// times 2^-64. For n in [-150, 0] the first product is exact and the second
/// rounds once, as ldexp_split's two factors do: the same bits, with no
/// float -> int conversion and two integer steps instead of seven.
FASTLOSS_VMATH_INLINE float exp_in_range_nonpositive(float xc) {
  const ExpParts32 e = exp_parts(xc);
  // t's bits are those of 1.5 * 2^23 plus n: shifted left by 23 the constant
  // part leaves the word and n + 64 + 127 lands in the exponent field
  const std::uint32_t pow2 = (static_cast<std::uint32_t>(to_bits(e.t)) + 191u) << 23;
  return (e.y * from_bits(static_cast<std::int32_t>(pow2))) * 0x1p-64f;
}
}  // namespace detail

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


// ---------------------------------------------------------------------------
// float64: the same eight functions, overloaded on double, by the same methods
// with longer polynomials (near-minimax fits, Chebyshev interpolation at 50
// digits, of the functions named below) and these differences:
//   exp:  2^n built from the bits of the shifted n (no double -> int64
//         conversion, which AVX2 lacks); degree-10 polynomial.
//   log:  log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f), R of
//         degree 7 in s^2 (one division); the exponent converted through the
//         bits of 2^52 + e (no int64 -> double conversion).
//   log1p: log(u) + c / u, u = 1 + x rounded and c = 1 + x - u exactly.
//   tanh: odd polynomial of degree 23 for |x| < 0.5625 (tanh < 1/2), and
//         1 - 2 E / (1 + E), E = e^(-2|x|), beyond.
// The polynomials are evaluated by Estrin's scheme (pairs c_k + c_(k+1) x,
// then a polynomial in x^2 with x^4 and x^8): Horner's ten dependent steps
// left the logistic losses waiting on latency (BCE-with-logits 3.4 -> 2.5 ns
// per element on one AVX-512 core, L1-resident; float32's shorter polynomials
// gained nothing from it). Their steps go through fmadd as float32's do.
// Accuracy against long double libm (cpp/tests/test_vmath.cpp), for both
// variants, the bound
// asserted there:
//   exp   max 1 ulp   on [-745.1, 709.78] (0 below, +inf above, NaN -> NaN)
//   log   max 1 ulp   on (0, +inf] incl. subnormals (0 -> -inf, <0 -> NaN)
//   log1p max 1 ulp   on (-1, +inf)
//   tanh  max 2 ulp   on all doubles
//   exp_nonpositive, log_positive, log1p_unit, tanh_parts: as exp, log,
//         log1p, tanh on the domains of their float32 counterparts.

namespace detail {
FASTLOSS_VMATH_INLINE double from_bits64(std::uint64_t b) { return bit_cast<double>(b); }
FASTLOSS_VMATH_INLINE std::uint64_t to_bits64(double d) { return bit_cast<std::uint64_t>(d); }
// ln 2 = kLn2Hi64 + kLn2Lo64, kLn2Hi64 with 42 significant bits, so that
// n * kLn2Hi64 is exact for |n| < 2^11.
constexpr double kLn2Hi64 = 0.6931471805598903;
constexpr double kLn2Lo64 = 5.497923018708371e-14;
constexpr double kShift64 = 6755399441055744.0;   // 1.5 * 2^52

/// The steps of e^x shared by the two double versions below, for x = xc in
/// [Limits<double>::kExpLo, kExpHi]: n = round(x / ln 2) (from the low bits
/// of the rounding sum, in two's complement) and y = e^r on the reduced
/// r = x - n ln 2; e^x = y 2^n.
struct ExpParts64 {
  std::uint64_t n;
  double y;
};
FASTLOSS_VMATH_INLINE ExpParts64 exp_parts(double xc) {
  const double t = xc * 1.4426950408889634 + kShift64;
  const double nf = t - kShift64;
  const std::uint64_t n = to_bits64(t) - to_bits64(kShift64);
  const double r = (xc - nf * kLn2Hi64) - nf * kLn2Lo64;
  // (e^r - 1 - r) / r^2 on |r| <= ln2 / 2, by Estrin's scheme
  const double r2 = r * r, r4 = r2 * r2;
  const double p01 = fmadd(0.1666666666666667, r, 0.5);
  const double p23 = fmadd(0.008333333333326141, r, 0.04166666666666667);
  const double p45 = fmadd(0.00019841269874801073, r, 0.0013888888888883752);
  const double p67 = fmadd(2.7557255425009614e-06, r, 2.480158732553378e-05);
  const double p89 = fmadd(2.510520668068106e-08, r, 2.7557273660822466e-07);
  const double p8a = fmadd(2.0914679595617734e-09, r2, p89);
  const double p = fmadd(fmadd(p8a, r4, fmadd(p67, r2, p45)), r4, fmadd(p23, r2, p01));
  return {n, (p * r2 + r) + 1.0};
}

/// e^x for x in [Limits<double>::kExpLo, kExpHi] (below).
FASTLOSS_VMATH_INLINE double exp_in_range(double xc) {
  const ExpParts64 e = exp_parts(xc);
  // y 2^n as two normal powers of two, 2^(h - 1023) 2^(n - h + 1023) with
  // h = (n + 2046) / 2, in unsigned arithmetic (n + 2046 > 0)
  const std::uint64_t u = e.n + 2046, h = u >> 1;
  return (e.y * from_bits64(h << 52)) * from_bits64((u - h) << 52);
}

/// e^x for x in [Limits<double>::kExpLo, 0]: exp_in_range's steps, with y 2^n
/// as (y 2^(n + 600)) 2^-600. For n in [-1075, 0] the power 2^(n + 600) is
/// a normal number, the first product is exact and the second rounds once,
/// as the two factors of exp_in_range do: the same bits, with one integer
/// step and one product fewer.
FASTLOSS_VMATH_INLINE double exp_in_range_nonpositive(double xc) {
  const ExpParts64 e = exp_parts(xc);
  return (e.y * from_bits64((e.n + 1623u) << 52)) * 0x1p-600;  // 1623 = 1023 + 600
}

/// log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1) plus ef log 2 plus a
/// small term `extra` added before the last roundings.
template <bool kExtra>
FASTLOSS_VMATH_INLINE double log_reduced(double f, double ef, double extra) {
  const double s = f / (2.0 + f);
  const double z = s * s;
  // R(z) / z, R(z) = 2 atanh(s) / s - 2, by Estrin's scheme
  const double z2 = z * z, z4 = z2 * z2;
  const double p01 = fmadd(0.39999999999899505, z, 0.666666666666667);
  const double p23 = fmadd(0.22222211134749734, z, 0.28571428625975764);
  const double p45 = fmadd(0.15331721490738642, z, 0.18182889128565508);
  const double p = fmadd(fmadd(0.14616451042434167, z2, p45), z4, fmadd(p23, z2, p01));
  const double hfsq = 0.5 * (f * f);
  double tail = ef * kLn2Lo64;
  if constexpr (kExtra) tail += extra;
  tail = s * (hfsq + z * p) + tail;
  return ef * kLn2Hi64 + (f - (hfsq - tail));
}

/// log(x 2^-shift) + extra of a positive normal double x (extra small).
template <bool kExtra = false>
FASTLOSS_VMATH_INLINE double log_normal(double x, double shift, double extra = 0.0) {
  const std::uint64_t bits = to_bits64(x);
  // the biased exponent as a double, through the bits of 2^52 + e
  const double eb = from_bits64((bits >> 52) | 0x4330000000000000ULL) - 4503599627370496.0;
  double m = from_bits64((bits & 0x000fffffffffffffULL) | 0x3fe0000000000000ULL);  // [0.5, 1)
  const bool low = m < 0.7071067811865476;
  m = low ? m + m - 1.0 : m - 1.0;
  return log_reduced<kExtra>(m, eb - (low ? 1023.0 : 1022.0) - shift, extra);
}

/// tanh(x) for |x| < 0.5625: x + x^3 P(x^2).
FASTLOSS_VMATH_INLINE double tanh_small(double x) {
  const double z = x * x, z2 = z * z, z4 = z2 * z2, z8 = z4 * z4;
  // by Estrin's scheme
  const double p01 = fmadd(0.13333333333332392, z, -0.3333333333333333);
  const double p23 = fmadd(0.021869488476962563, z, -0.0539682539670594);
  const double p45 = fmadd(0.003592105532132769, z, -0.008863234021529514);
  const double p67 = fmadd(0.0005887537111834804, z, -0.0014556239774192678);
  const double p89 = fmadd(8.426522203958066e-05, z, -0.00023410556936672797);
  const double p8a = fmadd(-2.0026740085317684e-05, z2, p89);
  const double p = fmadd(p8a, z8, fmadd(fmadd(p67, z2, p45), z4, fmadd(p23, z2, p01)));
  return x + (p * z) * x;
}
}  // namespace detail

// ---------------------------------------------------------------------------
// The functions of both precisions: special cases around the reduced-range
// steps above, with each precision's limits.

namespace detail {
template <class T>
struct Limits;
template <>
struct Limits<float> {
  static constexpr float kExpHi = 88.72283935546875f;  // above: overflow to +inf
  static constexpr float kExpLo = -103.972084045410f;  // below: underflow to 0
  static constexpr float kMinNormal = 1.17549435e-38f;
  static constexpr float kSubScale = 8388608.0f, kSubShift = 23.0f;  // 2^23
  static constexpr float kTanhSmall = 0.625f;  // tanh's polynomial below
  static constexpr float kTanhOne = 9.1f;      // tanh == 1 beyond
};
template <>
struct Limits<double> {
  static constexpr double kExpHi = 709.782712893384;    // above: overflow to +inf
  static constexpr double kExpLo = -745.1332191019412;  // below: underflow to 0
  static constexpr double kMinNormal = 2.2250738585072014e-308;
  static constexpr double kSubScale = 4503599627370496.0, kSubShift = 52.0;  // 2^52
  static constexpr double kTanhSmall = 0.5625;
  static constexpr double kTanhOne = 19.1;
};
}  // namespace detail

template <class T>
FASTLOSS_VMATH_INLINE T exp(T x) {
  using L = detail::Limits<T>;
  const T xc = x > L::kExpHi ? L::kExpHi : (x < L::kExpLo ? L::kExpLo : x);
  T out = detail::exp_in_range(xc);
  out = x > L::kExpHi ? std::numeric_limits<T>::infinity() : out;
  out = x < L::kExpLo ? T(0) : out;
  return x != x ? x : out;
}

/// e^x for x <= 0 (or NaN, which the arithmetic carries through): exp
/// without the overflow case, for arguments such as -|z| or z - max z.
template <class T>
FASTLOSS_VMATH_INLINE T exp_nonpositive(T x) {
  using L = detail::Limits<T>;
  const T xc = x < L::kExpLo ? L::kExpLo : x;
  const T out = detail::exp_in_range_nonpositive(xc);
  return x < L::kExpLo ? T(0) : out;
}

template <class T>
FASTLOSS_VMATH_INLINE T log(T x) {
  using L = detail::Limits<T>;
  const bool sub = x < L::kMinNormal;
  const T xs = sub ? x * L::kSubScale : x;  // subnormals: scaled to normals first
  T out = detail::log_normal(xs, sub ? L::kSubShift : T(0));
  out = x == std::numeric_limits<T>::infinity() ? x : out;
  out = x == T(0) ? -std::numeric_limits<T>::infinity() : out;
  out = x < T(0) ? std::numeric_limits<T>::quiet_NaN() : out;
  return x != x ? x : out;
}

/// log(x) for x a positive normal number or NaN (callers clip to a positive
/// range first): the special cases of log are left out.
template <class T>
FASTLOSS_VMATH_INLINE T log_positive(T x) {
  const T out = detail::log_normal(x, T(0));
  return x != x ? x : out;
}

/// tanh(x) given E = e^(-2|x|) and s = 1 / (1 + E), which a caller computing
/// log cosh has at hand: 1 - 2 E s beyond |x| = kTanhSmall, the polynomial
/// below.
template <class T>
FASTLOSS_VMATH_INLINE T tanh_parts(T x, T E, T s) {
  const T a = x < T(0) ? -x : x;
  const T small = detail::tanh_small(x);
  T big = T(1) - T(2) * (E * s);
  big = x < T(0) ? -big : big;
  const T out = a < detail::Limits<T>::kTanhSmall ? small : big;
  return (x != x || x == T(0)) ? x : out;  // NaN, and the sign of -0
}

template <class T>
FASTLOSS_VMATH_INLINE T tanh(T x) {
  const T a = x < T(0) ? -x : x;
  const T one = detail::Limits<T>::kTanhOne;  // tanh(one) rounds to 1
  const T E = exp_nonpositive(T(-2) * (a > one ? one : a));
  return tanh_parts(x, E, T(1) / (T(1) + E));
}

/// log1p(e) for e in [0, 1] (or NaN), given s = 1 / (1 + e) rounded.
/// float32: e + e^2 R(e), R a degree-9 polynomial fitted to
/// (log1p(e) - e) / e^2 on [0, 1] (no range reduction, no use of s: e^2 R is
/// at most 0.45 of the result, so R's rounding errors count less than half).
/// float64: log of u = 1 + e reduced to [sqrt(1/2), sqrt(2)), with the
/// rounding error c of u entering as c s.
FASTLOSS_VMATH_INLINE float log1p_unit(float e, float /* s */) {
  float p = 2.0729072858e-03f;
  p = detail::fmadd(p, e, -1.3631281443e-02f);
  p = detail::fmadd(p, e, 4.1980944574e-02f);
  p = detail::fmadd(p, e, -8.3073586226e-02f);
  p = detail::fmadd(p, e, 1.2467088550e-01f);
  p = detail::fmadd(p, e, -1.6129320860e-01f);
  p = detail::fmadd(p, e, 1.9897928834e-01f);
  p = detail::fmadd(p, e, -2.4988578260e-01f);
  p = detail::fmadd(p, e, 3.3332690597e-01f);
  p = detail::fmadd(p, e, -4.9999988079e-01f);
  return detail::fmadd(e * e, p, e);
}
FASTLOSS_VMATH_INLINE double log1p_unit(double e, double s) {
  using T = double;
  const T u = T(1) + e;
  const T c = e - (u - T(1));  // u + c == 1 + e exactly (|e| <= 1)
  const bool high = u >= static_cast<T>(1.41421356237309505);
  const T f = (high ? T(0.5) * u : u) - T(1);  // exact
  // log(u + c) = log(u) + c / u to first order; c / u <= half an ulp
  return detail::log_reduced<true>(f, high ? T(1) : T(0), c * s);
}

// log1p of any argument: different methods in the two precisions.

FASTLOSS_VMATH_INLINE float log1p(float x) {
  const float u = 1.0f + x;
  const float d = u - 1.0f;
  // u == 1: x is below half an ulp of 1 and log1p(x) == x to float precision
  const float ratio = d == 0.0f ? 1.0f : x / d;
  const float out = d == 0.0f ? x : log(u) * ratio;
  return u == std::numeric_limits<float>::infinity() ? u : out;
}

FASTLOSS_VMATH_INLINE double log1p(double x) {
  const double u = 1.0 + x;
  // c = 1 + x - u exactly: u - x is exact for x >= 1, u - 1 below
  const double c = x >= 1.0 ? 1.0 - (u - x) : x - (u - 1.0);
  // u is never subnormal (u >= 2^-53 for x > -1); log_normal handles
  // (0, inf), the selects the rest
  const double uc = u > 0.0 ? u : 1.0;
  double out = detail::log_normal<true>(uc, 0.0, c / uc);
  out = u == std::numeric_limits<double>::infinity() ? u : out;
  out = u == 0.0 ? -std::numeric_limits<double>::infinity() : out;
  out = u < 0.0 ? std::numeric_limits<double>::quiet_NaN() : out;
  return (x != x || x == 0.0) ? x : out;  // NaN, and the sign of -0
}

}  // namespace fastloss::vmath

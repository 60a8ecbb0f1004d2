// Stable scalar primitives shared by every loss. All of them are written for
// both float and double; they are computed in the caller's precision T so that
// float32 inputs match Keras's float32 arithmetic.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <type_traits>

#include "isa.hpp"
#include "vmath.hpp"

namespace fastloss::math {

// Transcendentals used by the losses: the branch-free, vectorisable versions
// of vmath.hpp, in both precisions (<= 3 ulp in float32, <= 2 in float64, see
// there); exp_nonpositive takes arguments <= 0 (or NaN), log_positive
// arguments already clipped to positive normal numbers (or NaN).
using vmath::exp;
using vmath::exp_nonpositive;
using vmath::log;
using vmath::log1p;
using vmath::log_positive;
using vmath::tanh;

/// Bytes of the widest vector register of the instruction set this code is
/// compiled for: exact in a kernel table's unit (isa.hpp), the baseline's 16
/// in header use (every target_clones clone sees the baseline's macros).
#if defined(__AVX512F__)
inline constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
inline constexpr int kVectorBytes = 32;
#else
inline constexpr int kVectorBytes = 16;
#endif

/// max_k row[k] over k in [0, n) in T, NaN entries skipped (they reach a
/// softmax through its later sweeps: exp(NaN - m) is NaN), -inf for n == 0;
/// row[k] contiguous when kUnit. The maximum does not depend on the order it
/// is taken in (a zero's sign may, which no caller can see), so it is taken
/// in GCC vectors of the unit's native width, 64 bytes of elements per step
/// in 64 / kVectorBytes independent accumulators. (64-byte GCC vectors, the
/// form before, are lowered to scalar compares by GCC 12 when the target has
/// no 64-byte registers: the AVX2 clone's sparse cross-entropy spent about
/// 40% of its time in that scalar maximum; a plain loop over T, written per
/// lane, compiles to scalar compares and moves too.)
template <bool kUnit, class T, class Row>
FASTLOSS_INLINE T max_skip_nan(std::ptrdiff_t n, const Row& row) {
  constexpr T kLow = -std::numeric_limits<T>::infinity();
  T r = kLow;
  std::ptrdiff_t k = 0;
#if defined(__GNUC__) && !defined(__clang__)
  typedef T V __attribute__((vector_size(kVectorBytes)));
  constexpr int kL = kVectorBytes / static_cast<int>(sizeof(T));
  constexpr int kAcc = 64 / kVectorBytes;
  const V low = V{} + kLow;  // every lane -inf
  V m[kAcc];
  for (int a = 0; a < kAcc; ++a) m[a] = low;
  for (; k + kAcc * kL <= n; k += kAcc * kL) {
    for (int a = 0; a < kAcc; ++a) {
      V x;
      if constexpr (kUnit) {
        std::memcpy(&x, &row[k + a * kL], sizeof x);
      } else {
        for (int l = 0; l < kL; ++l) x[l] = row[k + a * kL + l];
      }
      m[a] = x > m[a] ? x : m[a];
    }
  }
  for (int a = 0; a < kAcc; ++a)
    for (int l = 0; l < kL; ++l) r = m[a][l] > r ? m[a][l] : r;
#endif
  for (; k < n; ++k) r = row[k] > r ? row[k] : r;
  return r;
}

/// Keras's backend.epsilon(): the clip floor of probability losses.
inline constexpr double kKerasEpsilon = 1e-7;

/// The clip bounds Keras uses for probabilities, rounded once to T.
/// 1 - 1e-7 is rounded from double, exactly as torch.clip / np.clip round a
/// Python float bound to the tensor's dtype.
template <class T>
struct ProbClip {
  static constexpr T lo = static_cast<T>(kKerasEpsilon);
  static constexpr T hi = static_cast<T>(1.0 - kKerasEpsilon);
};

/// max(x, lo) that propagates NaN, as torch.maximum / np.maximum do (std::fmax
/// drops NaN, and does not vectorise).
template <class T>
FASTLOSS_INLINE T max_nan(T x, T lo) {
  return x < lo ? lo : x;
}

/// clip(x, lo, hi) that propagates NaN (torch.clip / np.clip semantics).
template <class T>
FASTLOSS_INLINE T clip_nan(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/// The pieces of the logistic function at x shared by sigmoid, softplus and
/// log-cosh: e = e^-|x| (<= 1: never overflows), s = 1 / (1 + e) and
/// l = log1p(e). One exponential and one division serve them all (log1p
/// through vmath::log1p_unit: a polynomial in e in float32, a reduced log
/// that reuses s in float64).
template <class T>
struct Logistic {
  T e, s, l;
  FASTLOSS_INLINE explicit Logistic(T x)
      : e(math::exp_nonpositive(-std::fabs(x))), s(T(1) / (T(1) + e)), l(vmath::log1p_unit(e, s)) {}
  /// 1 / (1 + e^-x), taken on the side where the exponential cannot overflow
  /// (x >= 0: 1 / (1 + e^-x); x < 0: e^x / (1 + e^x)); saturates to exactly
  /// 0 / 1 beyond |x| ~ 88 (float) or ~745 (double).
  FASTLOSS_INLINE T sigmoid(T x) const { return x >= T(0) ? s : e * s; }
  /// log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows and keeps
  /// full relative precision for very negative x.
  FASTLOSS_INLINE T softplus(T x) const { return max_nan(x, T(0)) + l; }
};

/// log(1 + e^x), stable for every x (see Logistic). +inf -> +inf, -inf -> 0.
template <class T>
FASTLOSS_INLINE T softplus(T x) {
  return Logistic<T>(x).softplus(x);
}

/// 1 / (1 + e^-x) for every x (see Logistic).
template <class T>
FASTLOSS_INLINE T sigmoid(T x) {
  return Logistic<T>(x).sigmoid(x);
}

/// tanh(x) from the pieces of Logistic(2x) (e = e^-2|x|, s = 1 / (1 + e)):
/// no second exponential or division.
template <class T>
FASTLOSS_INLINE T tanh_from(T x, const Logistic<T>& l2) {
  return vmath::tanh_parts(x, l2.e, l2.s);
}

/// d/dx of |x| as autograd frameworks define it: sign(x), and 0 at x == 0.
template <class T>
FASTLOSS_INLINE T sign(T x) {
  return static_cast<T>((x > T(0)) - (x < T(0)));
}

/// x^gamma for x >= 0 with 0^0 = 1 (std::pow agrees). float32: integer
/// exponents 0..4 are exact products (torch computes x**2 as x*x too; the loop
/// is unswitched on the invariant gamma), others exp(gamma log x), whose
/// relative error is about |gamma log x| ulp; float64: libm.
FASTLOSS_INLINE float pow_nonneg(float x, float gamma) {
  if (gamma == 0.0f) return 1.0f;
  if (gamma == 1.0f) return x;
  if (gamma == 2.0f) return x * x;
  if (gamma == 3.0f) return (x * x) * x;
  if (gamma == 4.0f) return (x * x) * (x * x);
  const float y = vmath::exp(gamma * vmath::log(x));
  return x == 0.0f ? (gamma > 0.0f ? 0.0f : std::numeric_limits<float>::infinity()) : y;
}
FASTLOSS_INLINE double pow_nonneg(double x, double gamma) { return std::pow(x, gamma); }

/// gamma * x^(gamma-1), the derivative of x^gamma, with the limits at x = 0
/// taken from the right: 0 for gamma > 1 or gamma == 0, 1 for gamma == 1.
template <class T>
FASTLOSS_INLINE T dpow_nonneg(T x, T gamma) {
  if (gamma == T(0)) return T(0);
  if (x == T(0)) {
    if (gamma > T(1)) return T(0);
    if (gamma == T(1)) return T(1);
    return std::numeric_limits<T>::infinity();
  }
  return gamma * pow_nonneg(x, gamma - T(1));
}

/// gamma (gamma-1) x^(gamma-2), the second derivative of x^gamma, same limits.
template <class T>
FASTLOSS_INLINE T d2pow_nonneg(T x, T gamma) {
  if (gamma == T(0) || gamma == T(1)) return T(0);
  if (x == T(0)) {
    if (gamma > T(2)) return T(0);
    if (gamma == T(2)) return T(2);
    return gamma < T(1) ? -std::numeric_limits<T>::infinity()
                        : std::numeric_limits<T>::infinity();
  }
  return gamma * (gamma - T(1)) * pow_nonneg(x, gamma - T(2));
}

/// u^g with its first two derivatives, g u^(g-1) and g (g-1) u^(g-2), for
/// u >= 0 and a g known to equal K when K is 0..4 (K = -1: any other g), with
/// the right-hand limits at u = 0: the values of pow_nonneg, dpow_nonneg and
/// d2pow_nonneg (bit for bit, but for integer g > 4, whose derivatives there
/// use products of u rather than exp and log). float32 has no data-dependent branch here (integer
/// exponents are products; others exp((g - j) log u) with selects at u = 0),
/// so loops over it vectorise; float64 uses libm as pow_nonneg does.
template <class T>
struct PowDerivs {
  T f0, f1, f2;
};

template <int K, class T>
FASTLOSS_INLINE PowDerivs<T> pow_derivs(T u, T g) {
  if constexpr (K == 0) {
    return {T(1), T(0), T(0)};
  } else if constexpr (K == 1) {
    return {u, T(1), T(0)};
  } else if constexpr (K == 2) {
    return {u * u, T(2) * u, T(2)};
  } else if constexpr (K == 3) {
    return {(u * u) * u, T(3) * (u * u), T(6) * u};
  } else if constexpr (K == 4) {
    return {(u * u) * (u * u), T(4) * ((u * u) * u), T(12) * (u * u)};
  } else if constexpr (std::is_same_v<T, float>) {
    const float lu = vmath::log(u);
    const float inf = std::numeric_limits<float>::infinity();
    // limits at u = 0 for a non-integer (or > 4) g; loop-invariant scalars
    const float z0 = g > 0.0f ? 0.0f : inf;
    const float z1 = g > 1.0f ? 0.0f : inf;
    const float z2 = g > 2.0f ? 0.0f : (g < 1.0f ? -inf : inf);
    const bool zero = u == 0.0f;
    const float e0 = vmath::exp(g * lu);
    const float e1 = g * vmath::exp((g - 1.0f) * lu);
    const float e2 = g * (g - 1.0f) * vmath::exp((g - 2.0f) * lu);
    return {zero ? z0 : e0, zero ? z1 : e1, zero ? z2 : e2};
  } else {
    return {pow_nonneg(u, g), dpow_nonneg(u, g), d2pow_nonneg(u, g)};
  }
}

inline int small_integer_exponent(double g) {
  return (g >= 0 && g <= 4 && g == std::floor(g)) ? static_cast<int>(g) : -1;
}

}  // namespace fastloss::math

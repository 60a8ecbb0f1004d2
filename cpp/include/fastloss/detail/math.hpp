// Stable scalar primitives shared by every loss. All of them are written for
// both float and double; they are computed in the caller's precision T so that
// float32 inputs match Keras's float32 arithmetic.
#pragma once

#include <cmath>
#include <limits>

namespace fastloss::math {

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

/// log(1 + e^x), stable for every x. max(x, 0) + log1p(e^-|x|) never
/// overflows (the exponent is <= 0) and keeps full relative precision for
/// very negative x, where the naive form returns 0 or log(1) noise.
/// Range: all finite x; +inf -> +inf, -inf -> 0. Max error: ~1 ulp (log1p).
template <class T>
inline T softplus(T x) {
  return std::fmax(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

/// 1 / (1 + e^-x) evaluated on the side where the exponential cannot
/// overflow: for x >= 0 use e^-x <= 1; for x < 0 use e^x / (1 + e^x).
/// Range: all x; saturates to exactly 0 / 1 beyond |x| ~ 88 (float) or ~745 (double).
template <class T>
inline T sigmoid(T x) {
  if (x >= T(0)) {
    return T(1) / (T(1) + std::exp(-x));
  }
  const T e = std::exp(x);
  return e / (T(1) + e);
}

/// d/dx of |x| as autograd frameworks define it: sign(x), and 0 at x == 0.
template <class T>
inline T sign(T x) {
  return static_cast<T>((x > T(0)) - (x < T(0)));
}

/// x^gamma for x >= 0 with the conventions 0^0 = 1 (std::pow agrees).
template <class T>
inline T pow_nonneg(T x, T gamma) {
  return std::pow(x, gamma);
}

/// gamma * x^(gamma-1), the derivative of x^gamma, with the limits at x = 0
/// taken from the right: 0 for gamma > 1 or gamma == 0, 1 for gamma == 1.
template <class T>
inline T dpow_nonneg(T x, T gamma) {
  if (gamma == T(0)) return T(0);
  if (x == T(0)) {
    if (gamma > T(1)) return T(0);
    if (gamma == T(1)) return T(1);
    return std::numeric_limits<T>::infinity();
  }
  return gamma * std::pow(x, gamma - T(1));
}

/// gamma (gamma-1) x^(gamma-2), the second derivative of x^gamma, same limits.
template <class T>
inline T d2pow_nonneg(T x, T gamma) {
  if (gamma == T(0) || gamma == T(1)) return T(0);
  if (x == T(0)) {
    if (gamma > T(2)) return T(0);
    if (gamma == T(2)) return T(2);
    return gamma < T(1) ? -std::numeric_limits<T>::infinity()
                        : std::numeric_limits<T>::infinity();
  }
  return gamma * (gamma - T(1)) * std::pow(x, gamma - T(2));
}

}  // namespace fastloss::math

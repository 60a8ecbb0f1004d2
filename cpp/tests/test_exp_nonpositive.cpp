// vmath::exp_nonpositive (the exponential of the softmax sweeps, the logistic
// losses and every e^(z - max z)), whose cheaper 2^n step promises exp's
// value bit for bit, against vmath::exp: over
// evenly spaced bit patterns of [kExpLo, 0] in both precisions (which step
// through every binade, the subnormal results below e^-87.3 / e^-708.4
// included), every float of the binades where the result turns subnormal and
// where it underflows to zero, and the special values (-0, -inf, NaN, the
// bounds and their neighbours).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using fastloss::vmath::exp_nonpositive;

template <class T, class Bits>
Bits bits_of(T x) {
  Bits b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

template <class T, class Bits>
T from_bits(Bits b) {
  T x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

/// Compares the two functions at x; the first few mismatches are named.
template <class T>
void same_at(Harness& h, T x, long& checked) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const T got = exp_nonpositive(x), want = fastloss::vmath::exp(x);
  const bool same = bits_of<T, Bits>(got) == bits_of<T, Bits>(want) ||
                    (std::isnan(got) && std::isnan(want));
  ++checked;
  if (!same) {
    h.check(false, std::string(sizeof(T) == 4 ? "float32" : "float64") + " exp_nonpositive(" +
                       std::to_string(static_cast<double>(x)) + ") = " +
                       std::to_string(static_cast<double>(got)) + ", exp " +
                       std::to_string(static_cast<double>(want)));
  }
}

/// Bit patterns of negative T from -0 (sign bit alone) down to `lowest`,
/// every `step`-th one; the magnitude's bits grow as the value falls.
template <class T>
void sweep(Harness& h, T lowest, std::uint64_t step, long& checked) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const Bits sign = Bits(1) << (8 * sizeof(T) - 1);
  const Bits end = bits_of<T, Bits>(lowest);
  for (Bits b = sign; b <= end; b += static_cast<Bits>(step)) {
    same_at<T>(h, from_bits<T, Bits>(b), checked);
  }
}

/// Every T in [lo, hi] (both negative, lo < hi).
template <class T>
void every(Harness& h, T lo, T hi, long& checked) {
  for (T x = hi; x >= lo; x = std::nextafter(x, lo)) {
    same_at<T>(h, x, checked);
    if (x == lo) break;
  }
}

template <class T>
void specials(Harness& h, long& checked) {
  using L = fastloss::vmath::detail::Limits<T>;
  const T inf = std::numeric_limits<T>::infinity();
  for (T x : {T(0), -T(0), -inf, std::numeric_limits<T>::quiet_NaN(), L::kExpLo,
              std::nextafter(L::kExpLo, T(0)), std::nextafter(L::kExpLo, -inf), T(-1e30),
              -std::numeric_limits<T>::max(), -std::numeric_limits<T>::denorm_min(),
              -std::numeric_limits<T>::min(), T(-0.5), T(-1)}) {
    same_at<T>(h, x, checked);
  }
  h.check(exp_nonpositive(-inf) == T(0), "exp_nonpositive(-inf) == 0");
  h.check(exp_nonpositive(T(0)) == T(1), "exp_nonpositive(0) == 1");
  h.check(std::isnan(exp_nonpositive(std::numeric_limits<T>::quiet_NaN())), "NaN -> NaN");
}

void float32(Harness& h) {
  long checked = 0;
  specials<float>(h, checked);
  // [-104, 0] holds ~1.12e9 floats: every 97th
  sweep<float>(h, -104.0f, 97, checked);
  every<float>(h, -104.0f, -86.0f, checked);  // subnormal results and the underflow
  every<float>(h, -2e-3f, -1e-3f, checked);
  h.check(checked > 11000000, "float32 sweep size");
}

void float64(Harness& h) {
  long checked = 0;
  specials<double>(h, checked);
  // [-746, 0]: about 2^62.5 doubles; 2^40 apart covers each binade ~4000 times
  sweep<double>(h, -746.0, std::uint64_t(1) << 40, checked);
  // the subnormal and underflow region, densely (2^26 apart: ~5e6 doubles)
  for (double x = -708.0; x >= -746.0;) {
    same_at<double>(h, x, checked);
    x = from_bits<double, std::uint64_t>(bits_of<double, std::uint64_t>(x) +
                                         (std::uint64_t(1) << 26));
  }
  h.check(checked > 5000000, "float64 sweep size");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv, {{"exp_bits", [](Harness& h) {
                                    float32(h);
                                    float64(h);
                                  }}});
}

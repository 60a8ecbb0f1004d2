// A minimal test harness: no framework, one executable per area, one CTest
// test per group (the group name is the first argument). Each failed check
// prints one line naming what was compared; the exit status is the number of
// failed groups, so CTest sees any failure.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fastloss_test {

class Harness {
 public:
  /// Records one failure; prints the first kMaxPrinted lines of a group.
  void fail(const std::string& what) {
    ++failures_;
    if (failures_ <= kMaxPrinted) std::printf("FAIL [%s] %s\n", group_.c_str(), what.c_str());
  }
  void check(bool ok, const std::string& what) {
    ++checks_;
    if (!ok) fail(what);
  }
  int failures() const { return failures_; }
  int checks() const { return checks_; }
  void start(const std::string& group) {
    group_ = group;
    failures_ = 0;
    checks_ = 0;
  }
  const std::string& group() const { return group_; }

 private:
  static constexpr int kMaxPrinted = 40;
  std::string group_;
  int failures_ = 0;
  int checks_ = 0;
};

/// Formats numbers with enough digits to tell neighbouring doubles apart.
inline std::string num(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

/// |a - b| <= rel * max(|a|, |b|) + abs, with NaN == NaN and inf == inf.
inline bool close(double a, double b, double rel, double abs = 0.0) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= rel * std::fmax(std::fabs(a), std::fabs(b)) + abs;
}

/// Bitwise equality (NaNs with the same payload compare equal).
template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

/// Runs the std::invalid_argument-expecting call f; checks it throws exactly that.
template <class F>
void expect_invalid(Harness& h, const std::string& what, F&& f) {
  try {
    f();
    h.check(false, what + ": no exception (expected std::invalid_argument)");
  } catch (const std::invalid_argument& e) {
    h.check(std::strlen(e.what()) > 0, what + ": empty message");
  } catch (const std::exception& e) {
    h.check(false, what + ": wrong exception type: " + e.what());
  }
}

/// A small deterministic generator (splitmix64): the same numbers on every
/// platform and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  /// One of the two values, with equal probability.
  double pick(double a, double b) { return (next() >> 63) ? a : b; }

 private:
  std::uint64_t state_;
};

using Group = std::pair<const char*, std::function<void(Harness&)>>;

/// main() of a test executable: runs the group named by argv[1], or all.
inline int run_groups(int argc, char** argv, const std::vector<Group>& groups) {
  const std::string only = argc > 1 ? argv[1] : "";
  int failed_groups = 0;
  bool found = false;
  for (const auto& [name, body] : groups) {
    if (!only.empty() && only != name) continue;
    found = true;
    Harness h;
    h.start(name);
    try {
      body(h);
    } catch (const std::exception& e) {
      h.fail(std::string("unexpected exception: ") + e.what());
    }
    if (h.failures() > 0) {
      std::printf("group %s: %d of %d checks FAILED\n", name, h.failures(), h.checks());
      ++failed_groups;
    } else {
      std::printf("group %s: %d checks passed\n", name, h.checks());
    }
  }
  if (!found) {
    std::printf("unknown test group '%s'; groups:", only.c_str());
    for (const auto& g : groups) std::printf(" %s", g.first);
    std::printf("\n");
    return 2;
  }
  return failed_groups;
}

}  // namespace fastloss_test

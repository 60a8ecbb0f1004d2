// The API's own contract, independent of any one loss's math: argument
// checking (std::invalid_argument, never a crash), parameter validation of
// the loss structs, lengths around the driver's tile sizes with sentinels
// after the end, in-place gradients, the batched layout worked by hand, and
// a user-defined loss struct.
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;

static_assert(has_hessian_v<MeanSquaredError> && !has_hessian_v<MeanAbsoluteError>);

// ---------------------------------------------------------------------------

void bad_arguments(Harness& h) {
  const MeanSquaredError mse;
  const std::vector<double> t{1, 2, 3}, p{1, 2, 4};
  std::vector<double> g(3), hs(3), ps(3);
  const double* null = nullptr;
  double* null_out = nullptr;

  expect_invalid(h, "forward null y_true", [&] { forward(mse, null, p.data(), 3); });
  expect_invalid(h, "forward null y_pred", [&] { forward(mse, t.data(), null, 3); });
  expect_invalid(h, "forward negative n", [&] { forward(mse, t.data(), p.data(), -1); });
  expect_invalid(h, "forward negative rows", [&] { forward(mse, t.data(), p.data(), -1, 3); });
  expect_invalid(h, "forward negative features", [&] { forward(mse, t.data(), p.data(), 1, -3); });
  expect_invalid(h, "forward rows * features overflow", [&] {
    forward(mse, t.data(), p.data(), std::numeric_limits<index_t>::max() / 2, 3);
  });
  expect_invalid(h, "forward unknown reduction",
                 [&] { forward(mse, t.data(), p.data(), 3, static_cast<Reduction>(42)); });
  expect_invalid(h, "forward Reduction::None", [&] {
    forward(mse, t.data(), p.data(), 3, Reduction::None);
  });
  expect_invalid(h, "per_sample_loss null loss_out",
                 [&] { per_sample_loss(mse, t.data(), p.data(), 3, null_out); });
  expect_invalid(h, "per_sample_loss batched null y_pred",
                 [&] { per_sample_loss(mse, t.data(), null, 1, 3, ps.data()); });
  expect_invalid(h, "backward null grad_out",
                 [&] { backward(mse, t.data(), p.data(), 3, null_out); });
  expect_invalid(h, "backward null y_true", [&] { backward(mse, null, p.data(), 3, g.data()); });
  expect_invalid(h, "backward zero output stride", [&] {
    backward(mse, strided(t.data(), 1), strided(p.data(), 1), 3, strided_out(g.data(), 0));
  });
  expect_invalid(h, "backward batched null grad_out", [&] {
    backward(mse, t.data(), p.data(), 1, 3, null_out);
  });
  expect_invalid(h, "forward_backward null grad_out",
                 [&] { forward_backward(mse, t.data(), p.data(), 3, null_out); });
  expect_invalid(h, "forward_backward Reduction::None", [&] {
    forward_backward(mse, t.data(), p.data(), 3, g.data(), Reduction::None);
  });
  expect_invalid(h, "gradient_hessian null hess_out",
                 [&] { gradient_hessian(mse, t.data(), p.data(), 3, g.data(), null_out); });
  expect_invalid(h, "gradient_hessian null grad_out",
                 [&] { gradient_hessian(mse, t.data(), p.data(), 3, null_out, hs.data()); });
  expect_invalid(h, "gradient_hessian batched negative rows", [&] {
    gradient_hessian(mse, t.data(), p.data(), -2, 1, g.data(), hs.data());
  });

  // The message names the function and the loss.
  try {
    forward(mse, null, p.data(), 3);
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    h.check(m.find("forward") != std::string::npos && m.find("mean_squared_error") != std::string::npos &&
                m.find("y_true") != std::string::npos,
            "message does not name function, loss and argument: " + m);
  }

  // Hessian requested from every loss without one.
#define FASTLOSS_TEST_NO_HESSIAN(S)                                                           \
  if constexpr (!has_hessian_v<S>) {                                                          \
    expect_invalid(h, std::string(#S) + " gradient_hessian",                                  \
                   [&] { gradient_hessian(S{}, t.data(), p.data(), 3, g.data(), hs.data()); }); \
    expect_invalid(h, std::string(#S) + " gradient_hessian n=0", [&] {                        \
      gradient_hessian(S{}, t.data(), p.data(), 0, g.data(), hs.data());                      \
    });                                                                                       \
  }
  FASTLOSS_ELEMENTWISE_LOSSES(FASTLOSS_TEST_NO_HESSIAN)
#undef FASTLOSS_TEST_NO_HESSIAN

  // Nothing to read: null pointers are accepted.
  h.check(forward(mse, null, null, 0) == 0.0, "forward of n = 0 with null pointers");
  h.check(forward(mse, null, null, 0, 5) == 0.0, "forward of 0 rows with null pointers");
  backward(mse, null, null, 0, null_out);
  gradient_hessian(mse, null, null, 0, null_out, null_out);
  per_sample_loss(mse, null, null, 0, null_out);
  // Rows without features: Keras's mean over an empty axis is NaN.
  std::vector<double> empty_rows(2, 0.0);
  per_sample_loss(mse, null, null, 2, 0, empty_rows.data());
  h.check(std::isnan(empty_rows[0]) && std::isnan(empty_rows[1]),
          "per-sample loss of rows without features should be NaN");
}

void bad_parameters(Harness& h) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_invalid(h, "Huber(0)", [] { Huber(0.0); });
  expect_invalid(h, "Huber(-1)", [] { Huber(-1.0); });
  expect_invalid(h, "Huber(nan)", [&] { Huber{nan}; });
  expect_invalid(h, "Pinball(0)", [] { Pinball(0.0); });
  expect_invalid(h, "Pinball(1)", [] { Pinball(1.0); });
  expect_invalid(h, "Pinball(-0.5)", [] { Pinball(-0.5); });
  expect_invalid(h, "Pinball(1.5)", [] { Pinball(1.5); });
  expect_invalid(h, "Pinball(nan)", [&] { Pinball{nan}; });
  expect_invalid(h, "SmoothL1(-1)", [] { SmoothL1(-1.0); });
  expect_invalid(h, "AsymmetricLinear(-1, 1)", [] { AsymmetricLinear(-1.0, 1.0); });
  expect_invalid(h, "AsymmetricLinear(1, -1)", [] { AsymmetricLinear(1.0, -1.0); });
  for (double ls : {-0.1, 1.1, nan}) {
    const std::string s = "(label_smoothing=" + num(ls) + ")";
    expect_invalid(h, "BinaryCrossentropy" + s, [&] { BinaryCrossentropy{ls}; });
    expect_invalid(h, "BinaryCrossentropyLogits" + s, [&] { BinaryCrossentropyLogits{ls}; });
    expect_invalid(h, "BinaryFocalCrossentropy" + s,
                   [&] { BinaryFocalCrossentropy(0, 0.25, 2, ls); });
    expect_invalid(h, "BinaryFocalCrossentropyLogits" + s,
                   [&] { BinaryFocalCrossentropyLogits(0, 0.25, 2, ls); });
  }
  for (double gamma : {-1.0, -1e-9, nan}) {
    const std::string s = "(gamma=" + num(gamma) + ")";
    expect_invalid(h, "BinaryFocalCrossentropy" + s,
                   [&] { BinaryFocalCrossentropy(0, 0.25, gamma, 0); });
    expect_invalid(h, "BinaryFocalCrossentropyLogits" + s,
                   [&] { BinaryFocalCrossentropyLogits(1, 0.25, gamma, 0); });
  }
  expect_invalid(h, "BinaryFocalCrossentropy(alpha=1.5)",
                 [] { BinaryFocalCrossentropy(1, 1.5, 2, 0); });
  // The edges that are allowed.
  try {
    BinaryCrossentropy{0.0};
    BinaryCrossentropy{1.0};
    BinaryFocalCrossentropy(0, 0.25, 0.0, 1.0);
    SmoothL1(0.0);
    AsymmetricLinear(0.0, 0.0);
    Pinball(1e-9);
    h.check(true, "");
  } catch (const std::exception& e) {
    h.check(false, std::string("a valid edge parameter was rejected: ") + e.what());
  }
}

// ---------------------------------------------------------------------------

/// Lengths around the SIMD lane count, the tile size and the parallel threshold.
const index_t kLengths[] = {0, 1, 7, 8, 9, 63, 8191, 8192, 8193, 32767, 32768, 32769, 100001};

template <class T>
void lengths_typed(Harness& h) {
  const T sentinel = T(-12345.5);
  const index_t guard = 16;
  const bool dbl = std::is_same_v<T, double>;
  const HalfSquaredError loss;  // ½(p - t)²: gradient p - t, Hessian 1
  for (index_t n : kLengths) {
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      const std::string where = std::string(dbl ? "double" : "float") + " n=" +
                                std::to_string(n) + " threads=" + std::to_string(threads);
      std::vector<T> t(n), p(n);
      double want_sum = 0;
      for (index_t i = 0; i < n; ++i) {
        t[i] = static_cast<T>((i % 17) * 0.25);
        p[i] = static_cast<T>((i % 13) * 0.5 - 1);
        const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
        want_sum += 0.5 * d * d;
      }
      std::vector<T> g(n + guard, sentinel), hs(n + guard, sentinel), ps(n + guard, sentinel);
      const double v = forward_backward(loss, t.data(), p.data(), n, g.data(), Reduction::Sum);
      h.check(close(v, want_sum, 1e-12), where + ": sum " + num(v) + ", expected " + num(want_sum));
      const double mean = forward(loss, t.data(), p.data(), n);
      const double want_mean = n ? want_sum / static_cast<double>(n) : 0.0;
      h.check(close(mean, want_mean, 1e-12),
              where + ": mean " + num(mean) + ", expected " + num(want_mean));
      bool grad_ok = true;
      for (index_t i = 0; i < n; ++i) grad_ok = grad_ok && g[i] == p[i] - t[i];
      h.check(grad_ok, where + ": gradient is not p - t");
      gradient_hessian(loss, t.data(), p.data(), n, g.data(), hs.data());
      per_sample_loss(loss, t.data(), p.data(), n, ps.data());
      bool hess_ok = true;
      for (index_t i = 0; i < n; ++i) hess_ok = hess_ok && hs[i] == T(1);
      h.check(hess_ok, where + ": Hessian is not 1");
      bool guards_ok = true;
      for (index_t i = n; i < n + guard; ++i)
        guards_ok = guards_ok && g[i] == sentinel && hs[i] == sentinel && ps[i] == sentinel;
      h.check(guards_ok, where + ": wrote past the end of an output");
    }
  }
  set_num_threads(1);
}

void lengths(Harness& h) {
  const int before = get_num_threads();
  lengths_typed<float>(h);
  lengths_typed<double>(h);
  set_num_threads(before);
}

/// float sums accumulate in double: 10^6 float elements agree with a double
/// reference to ~1e-7 relative, far below float's own sum error.
void float_accumulation(Harness& h) {
  const index_t n = 1000000;
  std::vector<float> t(n), p(n);
  double want = 0;
  for (index_t i = 0; i < n; ++i) {
    t[i] = 0.0f;
    p[i] = static_cast<float>(0.001 * static_cast<double>(i % 1000) + 0.1);
    want += static_cast<double>(p[i]) * static_cast<double>(p[i]);
  }
  const double v = forward(MeanSquaredError{}, t.data(), p.data(), n, Reduction::Sum);
  h.check(close(v, want, 1e-7), "float sum " + num(v) + " vs double " + num(want));
}

// ---------------------------------------------------------------------------

/// The batched layout on a case small enough to do by hand.
void batched_by_hand(Harness& h) {
  const MeanSquaredError mse;
  // rows x features = 2 x 3; per-sample losses (1+4+9)/3 = 14/3 and 9/3 = 3.
  const double t[] = {0, 0, 0, 1, 1, 1};
  const double p[] = {1, 2, 3, 1, 1, 4};
  const double w[] = {2, 0.5};
  double ps[2];
  per_sample_loss(mse, t, p, 2, 3, ps);
  h.check(close(ps[0], 14.0 / 3, 1e-15) && close(ps[1], 3.0, 1e-15), "per-sample losses");
  h.check(close(forward(mse, t, p, 2, 3), (14.0 / 3 + 3) / 2, 1e-15), "SumOverBatchSize");
  h.check(close(forward(mse, t, p, 2, 3, Reduction::Sum, w), 28.0 / 3 + 1.5, 1e-15),
          "weighted Sum");
  h.check(close(forward(mse, t, p, 2, 3, Reduction::MeanWithSampleWeight, w),
                (28.0 / 3 + 1.5) / 2.5, 1e-15),
          "weighted MeanWithSampleWeight");
  double g[6];
  backward(mse, t, p, 2, 3, g);  // 2 (p - t) / (3 features * 2 rows)
  bool ok = true;
  for (int i = 0; i < 6; ++i) ok = ok && close(g[i], 2 * (p[i] - t[i]) / 6, 1e-15);
  h.check(ok, "batched gradient of SumOverBatchSize");
  double gh[6], hh[6];
  gradient_hessian(mse, t, p, 2, 3, gh, hh, w);  // per element, times the row weight
  ok = true;
  for (int i = 0; i < 6; ++i)
    ok = ok && gh[i] == w[i / 3] * 2 * (p[i] - t[i]) && hh[i] == w[i / 3] * 2;
  h.check(ok, "batched gradient_hessian");
  // The 1-D call is the batched call with one feature.
  h.check(forward(mse, t, p, 6, Reduction::Sum) == forward(mse, t, p, 6, 1, Reduction::Sum),
          "1-D differs from 6 x 1");
}

void in_place(Harness& h) {
  const BinaryCrossentropyLogits loss(0.1);
  std::vector<float> t{0, 1, 1, 0, 0.5f}, z{-3, 2, 0.5f, 7, -0.25f};
  std::vector<float> g(z.size());
  const double v = forward_backward(loss, t.data(), z.data(), 5, g.data());
  // y_pred overwritten by its own gradient.
  const double v2 = forward_backward(loss, t.data(), z.data(), 5, z.data());
  h.check(same_bits(v, v2), "in-place value differs");
  bool ok = true;
  for (std::size_t i = 0; i < g.size(); ++i) ok = ok && same_bits(g[i], z[i]);
  h.check(ok, "in-place gradient differs from the out-of-place one");
}

/// Keras's hinge rule: labels become ±1 only when all of them are 0 or 1.
void hinge_labels(Harness& h) {
  const Hinge hinge;
  const double p[] = {0.5, 0.5, 0.5};
  const double binary[] = {1, 0, 1};   // read as 1, -1, 1: 0.5, 1.5, 0.5
  const double mixed[] = {1, 0, -1};   // kept: 0.5, 1, 1.5
  double ps[3];
  per_sample_loss(hinge, binary, p, 3, ps);
  h.check(ps[0] == 0.5 && ps[1] == 1.5 && ps[2] == 0.5, "0/1 labels were not converted");
  per_sample_loss(hinge, mixed, p, 3, ps);
  h.check(ps[0] == 0.5 && ps[1] == 1.0 && ps[2] == 1.5, "mixed labels were converted");
}

void nan_propagates(Harness& h) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double t[] = {1, 0}, p[] = {nan, 0.5};
  h.check(std::isnan(forward(MeanSquaredError{}, t, p, 2)), "MSE of NaN is not NaN");
  h.check(std::isnan(forward(ZeroOneLoss{}, t, p, 2)), "0-1 loss of NaN is not NaN");
}

// ---------------------------------------------------------------------------

/// A loss written by a user: the struct is all the API needs.
struct Quartic {
  static constexpr const char* kName = "quartic";
  static constexpr bool kHasHessian = true;
  template <class T>
  T value_grad(T t, T p, T& g) const {
    const T d = p - t;
    g = T(4) * d * d * d;
    return d * d * d * d;
  }
  template <class T>
  void grad_hess(T t, T p, T& g, T& h) const {
    const T d = p - t;
    g = T(4) * d * d * d;
    h = T(12) * d * d;
  }
};

void user_loss(Harness& h) {
  const float t[] = {0, 1}, p[] = {2, -1};
  float g[2], hs[2];
  h.check(forward(Quartic{}, t, p, 2) == (16.0 + 16.0) / 2, "user loss value");
  gradient_hessian(Quartic{}, t, p, 2, g, hs);
  h.check(g[0] == 32 && g[1] == -32 && hs[0] == 48 && hs[1] == 48, "user loss derivatives");
}

void version_and_threads(Harness& h) {
  h.check(FASTLOSS_VERSION_MAJOR == 0 && FASTLOSS_VERSION_MINOR >= 1, "version macros");
  const int before = get_num_threads();
  set_num_threads(3);
  h.check(!has_threads() || get_num_threads() == 3, "set_num_threads(3)");
  set_num_threads(0);  // clamped to 1
  h.check(get_num_threads() == 1, "set_num_threads(0) should give 1");
  set_num_threads(before);
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"bad_arguments", bad_arguments},
                     {"bad_parameters", bad_parameters},
                     {"lengths", lengths},
                     {"float_accumulation", float_accumulation},
                     {"batched_by_hand", batched_by_hand},
                     {"in_place", in_place},
                     {"hinge_labels", hinge_labels},
                     {"nan_propagates", nan_propagates},
                     {"user_loss", user_loss},
                     {"version_and_threads", version_and_threads}});
}

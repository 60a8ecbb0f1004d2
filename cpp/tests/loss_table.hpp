// One row per loss of FASTLOSS_ELEMENTWISE_LOSSES: the parameter sets to test,
// where to sample (y_true, y_pred) so that the loss is defined and smooth,
// where its kinks are, and a few values computed by hand from the formula.
// The generic tests in test_losses.cpp iterate the registry and read this
// table; a loss added to the registry without a row here fails to compile
// with a message pointing at this file.
#pragma once

#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {

/// One parameter set. `labels` picks how y_true is sampled where the loss
/// treats labels specially (hinge family: 0 = labels ±1, 1 = labels 0/1).
template <class Loss>
struct Instance {
  std::string name;
  Loss loss;
  int labels = 0;
};

/// value = f(t, p) for a single element, worked out by hand.
template <class Loss>
struct HandCase {
  Loss loss;
  double t, p, value;
};

template <class Loss, class = void>
struct declared : std::false_type {};
template <class Loss>
struct declared<Loss, std::void_t<decltype(Loss::kInfo)>> : std::true_type {};

template <class Loss, class = void>
struct Table {
  static_assert(sizeof(Loss) == 0,
                "this loss is in FASTLOSS_ELEMENTWISE_LOSSES but has neither a declaration "
                "(kInfo, losses/info.hpp) nor a row in cpp/tests/loss_table.hpp");
};

/// A declared loss (kInfo) without a row of its own is tested from its
/// declaration: its default and example parameters, its domain, its kink and
/// its hand values. (The struct a class evaluates with from_logits=True is
/// declared by logits_kernel_of(): the class's parameters, the logits domain,
/// its own hand values.)

namespace domain {
inline void any(Rng& r, double& t, double& p) {
  t = r.uniform(-3, 3);
  p = r.uniform(-3, 3);
}
inline void probability(Rng& r, double& t, double& p) {
  t = r.uniform(0, 1);  // soft labels
  p = r.uniform(0.02, 0.98);
}
inline void logit(Rng& r, double& t, double& z) {
  t = r.uniform(0, 1);
  z = r.uniform(-4, 4);
}
/// Labels ±1 (labels == 0) or 0/1 (labels == 1, converted to ±1 by the loss).
inline void margin(int labels, Rng& r, double& t, double& p) {
  t = labels == 0 ? r.pick(-1, 1) : r.pick(0, 1);
  p = r.uniform(-3, 3);
}
inline double signed_label(int labels, double t) { return labels == 0 ? t : 2 * t - 1; }
}  // namespace domain

using namespace fastloss;

template <class L, std::size_t... I>
L make_declared(const double* values, std::index_sequence<I...>) {
  return L(values[I]...);
}

/// A declared loss with its declared default (example == false) or example
/// parameters.
template <class L>
L declared_loss(bool example) {
  constexpr int n = L::kInfo.n_params();
  double values[kMaxParams] = {};
  for (int k = 0; k < n; ++k)
    values[k] = example ? L::kInfo.params[k].example : L::kInfo.params[k].default_value;
  return make_declared<L>(values, std::make_index_sequence<n>{});
}

/// The hand values of a loss's declaration (default parameters; none for a loss
/// without one). A declared loss with a row of its own below is checked on
/// both its row's values and these (loss_tests.hpp).
template <class L>
std::vector<HandCase<L>> declared_hand() {
  std::vector<HandCase<L>> out;
  if constexpr (declared<L>::value) {
    for (int k = 0; k < L::kInfo.n_hand(); ++k)
      out.push_back({declared_loss<L>(false), L::kInfo.hand[k].t, L::kInfo.hand[k].p,
                     L::kInfo.hand[k].value});
  }
  return out;
}

template <class Loss>
struct Table<Loss, std::enable_if_t<declared<Loss>::value>> {
  using L = Loss;
  static constexpr bool kFromDeclaration = true;
  static constexpr const LossInfo& info = Loss::kInfo;
  static std::vector<Instance<L>> instances() {
    constexpr int n = Loss::kInfo.n_params();
    std::vector<Instance<L>> out{{"defaults", declared_loss<L>(false)}};
    if (n > 0) out.push_back({"example parameters", declared_loss<L>(true)});
    return out;
  }
  static double first_param(const Instance<L>& c) {
    constexpr int n = Loss::kInfo.n_params();
    if constexpr (n == 0) {
      return 0.0;
    } else {
      return c.name == "defaults" ? info.params[0].default_value : info.params[0].example;
    }
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    switch (info.domain) {
      case Domain::Real: domain::any(r, t, p); break;
      case Domain::Positive:
        t = r.uniform(0, 5);
        p = r.uniform(0.2, 5);
        break;
      case Domain::Probability: domain::probability(r, t, p); break;
      case Domain::Logits: domain::logit(r, t, p); break;
      case Domain::Signed: domain::margin(0, r, t, p); break;
      case Domain::Binary:
        t = r.pick(0, 1);
        p = r.uniform(0.02, 0.98);
        break;
      case Domain::BinaryLogits:
        t = r.pick(0, 1);
        p = r.uniform(-4, 4);
        break;
    }
  }
  static bool near_kink(const Instance<L>& c, double t, double p, double m) {
    switch (info.kink) {
      case Kink::None: return false;
      case Kink::AtZero: return std::fabs(p - t) < m;
      case Kink::AtFirstParameter: return std::fabs(std::fabs(p - t) - first_param(c)) < m;
      case Kink::Margin: return std::fabs(1 - t * p) < m;
      case Kink::Threshold: return std::fabs(p - first_param(c)) < m;
      case Kink::ZeroPrediction: return std::fabs(p) < m;
      case Kink::UnitPrediction: return std::fabs(std::fabs(p) - 1) < m;
    }
    return false;
  }
  static std::vector<HandCase<L>> hand() { return declared_hand<L>(); }
};

/// Whether Table<Loss> is the one made from the declaration (no row of its own).
template <class Loss, class = void>
struct from_declaration : std::false_type {};
template <class Loss>
struct from_declaration<Loss, std::void_t<decltype(Table<Loss>::kFromDeclaration)>>
    : std::true_type {};

template <>
struct Table<MeanSquaredError> {
  using L = MeanSquaredError;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1, 3, 4}, {L{}, -1, 0.5, 2.25}, {L{}, 2.5, 2.5, 0}};
  }
};

template <>
struct Table<MeanAbsoluteError> {
  using L = MeanAbsoluteError;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>&, double t, double p, double m) {
    return std::fabs(p - t) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1, 3, 2}, {L{}, 0.5, 0.25, 0.25}, {L{}, -2, 1, 3}};
  }
};

template <>
struct Table<MeanAbsolutePercentageError> {
  using L = MeanAbsolutePercentageError;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    t = r.pick(-1, 1) * r.uniform(0.5, 3);  // |t| well above the 1e-7 floor
    p = r.uniform(-3, 3);
  }
  static bool near_kink(const Instance<L>&, double t, double p, double m) {
    return std::fabs(p - t) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 2, 3, 50},          // 100 * 1 / 2
            {L{}, -4, -3, 25},        // 100 * 1 / 4
            {L{}, 0, 2e-7, 200},      // |t| floored at 1e-7
            {L{}, 0.5, 0.5, 0}};
  }
};

template <>
struct Table<MeanSquaredLogarithmicError> {
  using L = MeanSquaredLogarithmicError;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    t = r.uniform(0, 5);
    p = r.uniform(0.05, 5);
  }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1.718281828459045, 6.3890560989306495, 1},  // (log(e^2) - log(e))^2
            {L{}, 6.3890560989306495, 1.718281828459045, 1},
            // t = 0 is clipped to 1e-7 too: (1 - log(1 + 1e-7))^2
            {L{}, 0, 1.718281828459045, 0.9999998000000199},
            {L{}, 3, 3, 0},
            {L{}, 0, -5, 0}};                 // both clipped to 1e-7
  }
};

template <>
struct Table<Huber> {
  using L = Huber;
  static std::vector<Instance<L>> instances() {
    return {{"delta=1", L(1.0)}, {"delta=0.5", L(0.5)}, {"delta=2.5", L(2.5)}};
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    t = r.uniform(-4, 4);
    p = r.uniform(-4, 4);
  }
  static bool near_kink(const Instance<L>& c, double t, double p, double m) {
    return std::fabs(std::fabs(p - t) - c.loss.delta) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L(1), 0, 0.5, 0.125},  // ½ e²
            {L(1), 0, 3, 2.5},      // 1 * 3 - ½
            {L(1), 2, 1, 0.5},
            {L(2), 1, -3, 6}};      // 2 * 4 - ½ * 4
  }
};

template <>
struct Table<LogCosh> {
  using L = LogCosh;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 0, 0, 0},
            {L{}, 0, 1.3169578969248166, 0.6931471805599453},  // cosh(acosh 2) = 2
            {L{}, 100, 0, 99.30685281944005}};  // |e| - log 2 once cosh overflows
  }
};

template <>
struct Table<Poisson> {
  using L = Poisson;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    t = r.uniform(0, 5);
    p = r.uniform(0.1, 5);
  }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 0, 2, 2},
            {L{}, 2, 1, 0.99999980000001}};  // 1 - 2 log(1 + 1e-7)
  }
};

template <>
struct Table<HalfSquaredError> {
  using L = HalfSquaredError;
  static std::vector<Instance<L>> instances() { return {{"", L{}}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1, 4, 4.5}, {L{}, -1, -1, 0}, {L{}, 0, -2, 2}};
  }
};

template <>
struct Table<SmoothL1> {
  using L = SmoothL1;
  static std::vector<Instance<L>> instances() {
    return {{"beta=1", L(1.0)}, {"beta=0.5", L(0.5)}, {"beta=0", L(0.0)}};
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>& c, double t, double p, double m) {
    return std::fabs(std::fabs(p - t) - c.loss.beta) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L(1), 0, 0.5, 0.125},      // ½ e² / beta
            {L(1), 0, 3, 2.5},          // |e| - ½ beta
            {L(0), 1, -1, 2},           // beta 0: |e|
            {L(0.5), 0, 0.25, 0.0625}};
  }
};

template <>
struct Table<Pinball> {
  using L = Pinball;
  static std::vector<Instance<L>> instances() {
    return {{"q=0.5", L(0.5)}, {"q=0.1", L(0.1)}, {"q=0.9", L(0.9)}};
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>&, double t, double p, double m) {
    return std::fabs(p - t) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L(0.5), 1, 0, 0.5},
            {L(0.5), 0, 1, 0.5},
            {L(0.9), 0, 1, 0.1},   // over-prediction costs 1 - q
            {L(0.9), 2, 0, 1.8},   // under-prediction costs q
            {L(0.1), 2, 0, 0.2}};
  }
};

/// Pinball(log_input=True): the kink is at exp(z) == t, z == log t.
template <>
struct Table<PinballLogInput> {
  using L = PinballLogInput;
  static std::vector<Instance<L>> instances() { return {{"q=0.5", L(0.5)}, {"q=0.9", L(0.9)}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& z) {
    t = r.uniform(0, 5);
    z = r.uniform(-2, 2);
  }
  static bool near_kink(const Instance<L>&, double t, double z, double m) {
    return t > 0 && std::fabs(z - std::log(t)) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L(0.5), 2, 0, 0.5},    // q (t - 1)
            {L(0.9), 0, 0, 0.1},    // (1 - q) (1 - t)
            {L(0.9), 3, 0, 1.8}};
  }
};

template <>
struct Table<AsymmetricLinear> {
  using L = AsymmetricLinear;
  static std::vector<Instance<L>> instances() {
    return {{"1/1", L(1, 1)}, {"1/99", L(1, 99)}, {"99/1", L(99, 1)}, {"0.3/2", L(0.3, 2)}};
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::any(r, t, p); }
  static bool near_kink(const Instance<L>&, double t, double p, double m) {
    return std::fabs(p - t) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L(1, 99), 1, 2, 1},     // over by 1 at cost 1
            {L(1, 99), 2, 1, 99},    // under by 1 at cost 99
            {L(1, 99), 1, 1, 0},
            {L(99, 1), 1, 2, 99},
            {L(99, 1), 2, 1.5, 0.5}};
  }
};

template <>
struct Table<BinaryCrossentropy> {
  using L = BinaryCrossentropy;
  static std::vector<Instance<L>> instances() {
    return {{"ls=0", L(0.0)}, {"ls=0.1", L(0.1)}, {"ls=1", L(1.0)}};
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    domain::probability(r, t, p);
  }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L(0), 1, 0.5, 0.6931471805599453},  // log 2
            {L(0), 0, 0.75, 1.3862943611198906},  // -log(1/4)
            {L(0), 1, 0, 16.11809565095832},      // p clipped to 1e-7
            // t smoothed to 0.9: -(0.9 log 0.25 + 0.1 log 0.75)
            {L(0.2), 1, 0.25, 1.2764331322530795}};
  }
};

template <>
struct Table<BinaryCrossentropyLogits> {
  using L = BinaryCrossentropyLogits;
  static std::vector<Instance<L>> instances() { return {{"ls=0", L(0.0)}, {"ls=0.2", L(0.2)}}; }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) { domain::logit(r, t, p); }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L(0), 1, 0, 0.6931471805599453},
            {L(0), 0, 0, 0.6931471805599453},
            {L(0), 1, 1.0986122886681098, 0.28768207245178085},  // z = log 3: log(4/3)
            {L(0), 0, 1000, 1000},   // finite far beyond exp's range
            {L(0), 1, -1000, 1000},
            // t smoothed to 0.1 at z = log 3: 0.9 log 3 + log(4/3)
            {L(0.2), 0, 1.0986122886681098, 1.2764331322530797}};
  }
};

namespace detail_focal {
/// (balance, alpha, gamma, label_smoothing) sets shared by both focal losses.
template <class L>
std::vector<Instance<L>> instances() {
  return {{"gamma=2", L(0, 0.25, 2, 0)},
          {"balanced gamma=2", L(1, 0.25, 2, 0)},
          {"balanced alpha=0.4 gamma=0 ls=0.1", L(1, 0.4, 0, 0.1)},
          {"gamma=1.5", L(0, 0.25, 1.5, 0)},
          {"balanced alpha=0.7 gamma=3.5 ls=0.05", L(1, 0.7, 3.5, 0.05)}};
}
}  // namespace detail_focal

template <>
struct Table<BinaryFocalCrossentropy> {
  using L = BinaryFocalCrossentropy;
  static std::vector<Instance<L>> instances() { return detail_focal::instances<L>(); }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    domain::probability(r, t, p);
  }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    const L plain(0, 0.25, 2, 0), balanced(1, 0.25, 2, 0);
    return {{plain, 1, 0.5, 0.17328679513998632},     // (1 - 0.5)^2 log 2
            {plain, 0, 0.75, 0.7797905781299385},     // 0.75^2 log 4
            {balanced, 1, 0.5, 0.04332169878499658},  // alpha = 0.25 on positives
            {balanced, 0, 0.75, 0.5848429335974539},  // 1 - alpha on negatives
            {L(0, 0.25, 0, 0), 0, 0.75, 1.3862943611198906},  // gamma 0: plain BCE
            // t smoothed to 0.9: p_t = 0.5, so 0.25 * bce(0.9, 0.5) = 0.25 log 2
            {L(0, 0.25, 2, 0.2), 1, 0.5, 0.17328679513998632}};
  }
};

template <>
struct Table<BinaryFocalCrossentropyLogits> {
  using L = BinaryFocalCrossentropyLogits;
  static std::vector<Instance<L>> instances() { return detail_focal::instances<L>(); }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    t = r.uniform(0, 1);
    p = r.uniform(-3.5, 3.5);  // sigmoid stays inside the 1e-7 clip
  }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    const L plain(0, 0.25, 2, 0);
    return {{plain, 1, 0, 0.17328679513998632},                   // sigmoid 0.5
            {plain, 0, 1.0986122886681098, 0.7797905781299385},   // sigmoid(log 3) = 0.75
            {plain, 1, -1000, 16.11809565095832}};  // sigmoid 0, clipped: -log(1e-7)
  }
};

template <>
struct Table<Hinge> {
  using L = Hinge;
  static std::vector<Instance<L>> instances() { return {{"labels=±1", L{}, 0}, {"labels=0/1", L{}, 1}}; }
  static void sample(const Instance<L>& c, Rng& r, double& t, double& p) {
    domain::margin(c.labels, r, t, p);
  }
  static bool near_kink(const Instance<L>& c, double t, double p, double m) {
    return std::fabs(1 - domain::signed_label(c.labels, t) * p) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1, 0.25, 0.75},
            {L{}, -1, 0.5, 1.5},
            {L{}, 1, 2, 0},
            {L{}, 0, 0.5, 1.5}};  // a lone 0 label is binary: read as -1
  }
};

template <>
struct Table<SquaredHinge> {
  using L = SquaredHinge;
  static std::vector<Instance<L>> instances() { return {{"labels=±1", L{}, 0}, {"labels=0/1", L{}, 1}}; }
  static void sample(const Instance<L>& c, Rng& r, double& t, double& p) {
    domain::margin(c.labels, r, t, p);
  }
  static bool near_kink(const Instance<L>& c, double t, double p, double m) {
    return std::fabs(1 - domain::signed_label(c.labels, t) * p) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1, 0.25, 0.5625}, {L{}, -1, 0.5, 2.25}, {L{}, 0, 0.5, 2.25}, {L{}, 1, 3, 0}};
  }
};

template <>
struct Table<ExponentialLoss> {
  using L = ExponentialLoss;
  static std::vector<Instance<L>> instances() { return {{"labels=±1", L{}, 0}, {"labels=0/1", L{}, 1}}; }
  static void sample(const Instance<L>& c, Rng& r, double& t, double& p) {
    domain::margin(c.labels, r, t, p);
  }
  static bool near_kink(const Instance<L>&, double, double, double) { return false; }
  static std::vector<HandCase<L>> hand() {
    return {{L{}, 1, 0, 1},
            {L{}, -1, 0.6931471805599453, 2},   // e^(log 2)
            {L{}, 0, 0.6931471805599453, 2},    // 0 read as -1
            {L{}, 1, 0.6931471805599453, 0.5}};
  }
};

template <>
struct Table<ZeroOneLoss> {
  using L = ZeroOneLoss;
  static std::vector<Instance<L>> instances() {
    return {{"threshold=0.5", L(0.5)}, {"threshold=0.2", L(0.2)}};
  }
  static void sample(const Instance<L>&, Rng& r, double& t, double& p) {
    t = r.pick(0, 1);
    p = r.uniform(0, 1);
  }
  static bool near_kink(const Instance<L>& c, double, double p, double m) {
    return std::fabs(p - c.loss.threshold) < m;
  }
  static std::vector<HandCase<L>> hand() {
    return {{L(0.5), 1, 0.7, 0},
            {L(0.5), 1, 0.3, 1},
            {L(0.5), 0, 0.5, 0},   // p > threshold is strict
            {L(0.5), 0, 0.51, 1},
            {L(0.2), 0, 0.3, 1}};
  }
};

}  // namespace fastloss_test

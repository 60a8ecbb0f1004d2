// The CTC kernel (losses/sequence.hpp): hand-computed tiny cases (repeated
// labels, empty labels, impossible alignments, zero_infinity), the loss and
// gradient against a brute-force sum over every alignment for small T and C
// (both for log-probabilities and for logits), bitwise equality across thread
// counts, and the argument checks.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;
using sequence::CtcOptions;
using sequence::CtcOutputs;

/// Random log-softmax rows (T, N, C) in float64.
std::vector<double> random_log_probs(index_t T, index_t N, index_t C, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> lp(static_cast<std::size_t>(T * N * C));
  for (index_t r = 0; r < T * N; ++r) {
    double sum = 0.0;
    for (index_t c = 0; c < C; ++c) {
      lp[r * C + c] = rng.uniform(-2.0, 2.0);
      sum += std::exp(lp[r * C + c]);
    }
    for (index_t c = 0; c < C; ++c) lp[r * C + c] -= std::log(sum);
  }
  return lp;
}

/// The definition: every path of Tn frames whose collapse (merge repeats,
/// drop blanks) is the label; P = sum of their probabilities, and the
/// occupancy of (t, c) = sum over those paths through c at t, divided by P.
struct Brute {
  double log_p;
  std::vector<double> occupancy;  // (Tn, C)
};

Brute brute_force(const std::vector<double>& lp, index_t N, index_t C, index_t n, index_t Tn,
                  const std::vector<std::int64_t>& label, std::int64_t blank) {
  Brute b{0.0, std::vector<double>(static_cast<std::size_t>(Tn * C), 0.0)};
  index_t paths = 1;
  for (index_t t = 0; t < Tn; ++t) paths *= C;
  double p_total = 0.0;
  std::vector<index_t> path(static_cast<std::size_t>(Tn));
  for (index_t k = 0; k < paths; ++k) {
    index_t rest = k;
    for (index_t t = 0; t < Tn; ++t) {
      path[t] = rest % C;
      rest /= C;
    }
    std::vector<std::int64_t> collapsed;
    for (index_t t = 0; t < Tn; ++t) {
      if (path[t] == blank) continue;
      if (t > 0 && path[t] == path[t - 1]) continue;
      collapsed.push_back(path[t]);
    }
    if (collapsed != label) continue;
    double logp = 0.0;
    for (index_t t = 0; t < Tn; ++t) logp += lp[(t * N + n) * C + path[t]];
    const double p = std::exp(logp);
    p_total += p;
    for (index_t t = 0; t < Tn; ++t) b.occupancy[t * C + path[t]] += p;
  }
  b.log_p = std::log(p_total);
  for (auto& o : b.occupancy) o /= p_total;
  return b;
}

void hand_values(Harness& h) {
  // T = 2, C = 3, one sample; y = log-probabilities
  const double y[2][3] = {{std::log(0.5), std::log(0.3), std::log(0.2)},
                          {std::log(0.1), std::log(0.6), std::log(0.3)}};
  std::vector<double> lp = {y[0][0], y[0][1], y[0][2], y[1][0], y[1][1], y[1][2]};
  auto loss_of = [&](std::vector<std::int64_t> label, std::int64_t Tn, bool zero_inf) {
    const std::int64_t L = static_cast<std::int64_t>(label.size());
    if (label.empty()) label.push_back(0);
    double loss = -1.0;
    std::vector<double> grad(6, -7.0);
    CtcOptions opt;
    opt.zero_infinity = zero_inf;
    CtcOutputs<double> out;
    out.per_sample = &loss;
    out.grad = grad.data();
    sequence::ctc(lp.data(), 2, 1, 3, label.data(), static_cast<index_t>(label.size()), &Tn, &L,
                  opt, out);
    return std::make_pair(loss, grad);
  };
  // label (1): paths 11, 01, 10
  const double p1 = 0.3 * 0.6 + 0.5 * 0.6 + 0.3 * 0.1;
  auto [l1, g1] = loss_of({1}, 2, false);
  h.check(close(l1, -std::log(p1), 1e-14), "label (1): " + num(l1));
  // d loss / d y_1(1) = -(paths through class 1 at t=1) / P = -(0.18 + 0.30) / P
  h.check(close(g1[4], -(0.18 + 0.30) / p1, 1e-14), "label (1) grad[1][1]: " + num(g1[4]));
  h.check(close(g1[3], -0.03 / p1, 1e-14), "label (1) grad[1][0]: " + num(g1[3]));
  h.check(g1[5] == 0.0 && g1[2] == 0.0, "label (1): class 2 has no occupancy");
  // label (1, 2): only path 12
  auto [l12, g12] = loss_of({1, 2}, 2, false);
  h.check(close(l12, -std::log(0.3 * 0.3), 1e-14), "label (1,2): " + num(l12));
  h.check(close(g12[1], -1.0, 1e-14) && close(g12[5], -1.0, 1e-14), "label (1,2) grad");
  // label (1, 1) in 2 frames needs a blank between the repeats: impossible
  auto [l11, g11] = loss_of({1, 1}, 2, false);
  h.check(std::isinf(l11) && l11 > 0, "label (1,1) in two frames: +inf, got " + num(l11));
  h.check(std::isnan(g11[0]) && std::isnan(g11[5]), "impossible: NaN gradient (PyTorch's)");
  auto [l11z, g11z] = loss_of({1, 1}, 2, true);
  h.check(l11z == 0.0 && g11z[0] == 0.0 && g11z[4] == 0.0, "zero_infinity: loss and grad 0");
  // empty label: the all-blank path
  auto [l0, g0] = loss_of({}, 2, false);
  h.check(close(l0, -std::log(0.5 * 0.1), 1e-14), "empty label: " + num(l0));
  h.check(close(g0[0], -1.0, 1e-14) && g0[1] == 0.0, "empty label grad");
  // one frame only: the second frame has no loss and a zero gradient
  auto [lt1, gt1] = loss_of({2}, 1, false);
  h.check(close(lt1, -std::log(0.2), 1e-14), "input length 1: " + num(lt1));
  h.check(gt1[3] == 0.0 && gt1[4] == 0.0 && gt1[5] == 0.0, "frames past the input length: 0");
  // no frames: an empty label has P = 1, any other is impossible
  auto [lz, gz] = loss_of({}, 0, false);
  h.check(lz == 0.0 && gz[0] == 0.0, "no frames, empty label: 0");
  auto [lz1, gz1] = loss_of({1}, 0, false);
  h.check(std::isinf(lz1) && gz1[0] == 0.0, "no frames, one label: +inf, grad 0");
}

void brute(Harness& h) {
  const index_t T = 5, N = 6, C = 3, S = 3;
  const auto lp = random_log_probs(T, N, C, 7);
  const std::vector<std::vector<std::int64_t>> labels = {{1, 2, 1}, {1, 1}, {}, {2}, {2, 2, 2}, {1, 2}};
  const std::vector<std::int64_t> input_lengths = {5, 5, 3, 4, 5, 2};
  std::vector<std::int64_t> padded(static_cast<std::size_t>(N * S), 1), label_lengths(N);
  for (index_t n = 0; n < N; ++n) {
    label_lengths[n] = static_cast<std::int64_t>(labels[n].size());
    for (std::size_t j = 0; j < labels[n].size(); ++j) padded[n * S + j] = labels[n][j];
  }
  // logits: the log-probabilities plus a per-frame offset (log_softmax removes it)
  std::vector<double> logits(lp);
  for (index_t r = 0; r < T * N; ++r)
    for (index_t c = 0; c < C; ++c) logits[r * C + c] += 0.25 * static_cast<double>(r % 5) - 0.4;
  for (int from_logits = 0; from_logits < 2; ++from_logits) {
    std::vector<double> loss(N), grad(static_cast<std::size_t>(T * N * C));
    std::vector<double> coef = {1.0, 0.5, 2.0, 1.0, 1.0, 3.0};
    CtcOptions opt;
    opt.from_logits = from_logits != 0;
    CtcOutputs<double> out{loss.data(), grad.data(), coef.data()};
    sequence::ctc(from_logits ? logits.data() : lp.data(), T, N, C, padded.data(), S,
                  input_lengths.data(), label_lengths.data(), opt, out);
    for (index_t n = 0; n < N; ++n) {
      const Brute b = brute_force(lp, N, C, n, input_lengths[n], labels[n], 0);
      const std::string tag = std::string(from_logits ? "logits" : "log_probs") + " sample " +
                              std::to_string(n);
      h.check(close(loss[n], -b.log_p, 1e-12), tag + " loss " + num(loss[n]) + " vs " + num(-b.log_p));
      for (index_t t = 0; t < T; ++t)
        for (index_t c = 0; c < C; ++c) {
          double want = 0.0;
          if (t < input_lengths[n]) {
            const double occ = b.occupancy[t * C + c];
            double total = 0.0;
            for (index_t k = 0; k < C; ++k) total += b.occupancy[t * C + k];
            want = from_logits ? std::exp(lp[(t * N + n) * C + c]) * total - occ : -occ;
          }
          want *= coef[n];
          const double got = grad[(t * N + n) * C + c];
          h.check(close(got, want, 1e-11, 1e-14),
                  tag + " grad t=" + std::to_string(t) + " c=" + std::to_string(c) + ": " +
                      num(got) + " vs " + num(want));
        }
    }
  }
}

void float32_and_threads(Harness& h) {
  const index_t T = 60, N = 9, C = 7, S = 12;
  const auto lp = random_log_probs(T, N, C, 3);
  std::vector<float> lpf(lp.begin(), lp.end());
  Rng rng(5);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(N * S)), il(N), ll(N);
  for (auto& l : labels) l = 1 + static_cast<std::int64_t>(rng.next() % (C - 1));
  for (index_t n = 0; n < N; ++n) {
    il[n] = T - static_cast<std::int64_t>(n * 3);
    ll[n] = S - static_cast<std::int64_t>(n % 4);
  }
  std::vector<double> ref_loss(N), loss1(N), loss2(N);
  std::vector<double> ref_grad(static_cast<std::size_t>(T * N * C));
  std::vector<float> grad1(ref_grad.size()), grad2(ref_grad.size());
  sequence::ctc(lp.data(), T, N, C, labels.data(), S, il.data(), ll.data(), CtcOptions{},
                CtcOutputs<double>{ref_loss.data(), ref_grad.data(), nullptr});
  const int saved = get_num_threads();
  set_num_threads(1);
  sequence::ctc(lpf.data(), T, N, C, labels.data(), S, il.data(), ll.data(), CtcOptions{},
                CtcOutputs<float>{loss1.data(), grad1.data(), nullptr});
  set_num_threads(2);
  sequence::ctc(lpf.data(), T, N, C, labels.data(), S, il.data(), ll.data(), CtcOptions{},
                CtcOutputs<float>{loss2.data(), grad2.data(), nullptr});
  set_num_threads(saved);
  for (index_t n = 0; n < N; ++n) {
    h.check(same_bits(loss1[n], loss2[n]), "loss bits, sample " + std::to_string(n));
    // the float32 inputs are the float64 ones rounded: the loss moves by about T * 1e-7
    h.check(close(loss1[n], ref_loss[n], 1e-5), "float32 loss, sample " + std::to_string(n));
  }
  for (std::size_t k = 0; k < grad1.size(); ++k) {
    h.check(same_bits(grad1[k], grad2[k]), "grad bits at " + std::to_string(k));
    h.check(close(grad1[k], ref_grad[k], 1e-4, 1e-5), "float32 grad at " + std::to_string(k));
  }
}

void bad_arguments(Harness& h) {
  const index_t T = 4, N = 1, C = 3, S = 2;
  const auto lp = random_log_probs(T, N, C, 1);
  auto call = [&](std::vector<std::int64_t> labels, std::int64_t il, std::int64_t ll,
                  std::int64_t blank) {
    CtcOptions opt;
    opt.blank = blank;
    double loss;
    sequence::ctc(lp.data(), T, N, C, labels.data(), S, &il, &ll, opt,
                  CtcOutputs<double>{&loss, nullptr, nullptr});
  };
  expect_invalid(h, "input length > T", [&] { call({1, 2}, 5, 2, 0); });
  expect_invalid(h, "negative input length", [&] { call({1, 2}, -1, 2, 0); });
  expect_invalid(h, "label length > S", [&] { call({1, 2}, 4, 3, 0); });
  expect_invalid(h, "negative label length", [&] { call({1, 2}, 4, -1, 0); });
  expect_invalid(h, "label >= C", [&] { call({1, 3}, 4, 2, 0); });
  expect_invalid(h, "negative label", [&] { call({-1, 2}, 4, 2, 0); });
  expect_invalid(h, "label == blank", [&] { call({1, 0}, 4, 2, 0); });
  expect_invalid(h, "blank >= C", [&] { call({1, 2}, 4, 2, 3); });
  // a padding entry past the label length is not read
  call({1, 0}, 4, 1, 0);
  call({2, 7}, 4, 1, 1);
  h.check(true, "padding is ignored");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"hand_values", hand_values},
                     {"brute_force", brute},
                     {"float32_and_threads", float32_and_threads},
                     {"bad_arguments", bad_arguments}});
}

// Connectionist temporal classification (Graves et al., 2006): the negative
// log-likelihood of a label sequence under per-frame class scores, summed
// over every alignment of the label to the frames (with blanks between
// labels and repeats of a label merged), and its gradient.
//
// The recursion runs over the extended label l' = (blank, l_1, blank, l_2,
// ..., l_L, blank) of length 2L + 1, in log space and in float64 whatever the
// input precision:
//
//   alpha_0(0) = y_0(blank), alpha_0(1) = y_0(l_1)
//   alpha_t(s) = y_t(l'_s) + logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1),
//                                      alpha_{t-1}(s-2) if l'_s != blank and l'_s != l'_{s-2})
//   log P = logsumexp(alpha_{T-1}(2L), alpha_{T-1}(2L-1)),  loss = -log P
//
// with y_t(c) the log-probability of class c at frame t. beta_t(s) is the
// log-probability of the frames after t given state s at t (it excludes
// frame t's own emission), so gamma_t(s) = exp(alpha_t(s) + beta_t(s) - log P)
// is the probability that an alignment is in state s at frame t, and
//
//   d loss / d y_t(c) = -sum_{s: l'_s = c} gamma_t(s)
//
// is the true derivative with respect to the log-probabilities. With
// from_logits the input holds unnormalised scores x, y = log_softmax(x) over
// the classes is fused in, and the derivative with respect to x is
// softmax(x_t)_c * sum_c' G_t(c') - G_t(c), G_t(c) the occupancy of class c
// (sum_c' G_t(c') is 1 up to rounding).
//
// Per-sample input lengths (frames t >= input_length have no loss and a zero
// gradient) and label lengths; an empty label is the all-blank alignment. A
// label that cannot fit in its frames (it needs one frame per label plus one
// per pair of equal consecutive labels) has P = 0: the loss is +inf and, as
// in PyTorch's ctc_loss, its gradient NaN over its frames, or loss and
// gradient 0 with zero_infinity. NaN inputs give NaN.
//
// Layouts are C-contiguous: inputs (T, N, C), labels (N, S) padded, lengths
// (N,). Each sample is one tile computed by one thread in a fixed order, so
// results are the same bits for every thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "../detail/driver.hpp"
#include "../detail/threads.hpp"

namespace fastloss {

namespace sequence {

/// What the CTC kernel computes and writes.
template <class T>
struct CtcOutputs {
  double* per_sample = nullptr;  ///< (N,) each sample's -log P, or null
  T* grad = nullptr;             ///< (T, N, C) the gradient, or null
  const double* coef = nullptr;  ///< (N,) multiplies sample n's gradient; null = 1
};

/// The loss's parameters.
struct CtcOptions {
  std::int64_t blank = 0;      ///< the blank class, in [0, C)
  bool from_logits = false;    ///< inputs are logits: a log-softmax over C is fused in
  bool zero_infinity = false;  ///< an impossible alignment gives loss 0 and gradient 0
};

/// An empty string when the arguments are valid, else a sentence naming the
/// first problem (a length outside its range, a label outside [0, C) or equal
/// to the blank within its label length).
inline std::string ctc_argument_error(index_t T, index_t N, index_t C, const std::int64_t* labels,
                                      index_t S, const std::int64_t* input_lengths,
                                      const std::int64_t* label_lengths,
                                      const CtcOptions& options) {
  if (T < 0 || N < 0 || C < 0 || S < 0) return "ctc: negative dimension";
  if (options.blank < 0 || options.blank >= C)
    return "ctc: blank = " + std::to_string(options.blank) + " is not a class: it must be in [0, " +
           std::to_string(C) + ")";
  for (index_t n = 0; n < N; ++n) {
    const std::int64_t tn = input_lengths[n], ln = label_lengths[n];
    if (tn < 0 || tn > T)
      return "ctc: input_lengths[" + std::to_string(n) + "] = " + std::to_string(tn) +
             " is outside [0, T = " + std::to_string(T) + "]";
    if (ln < 0 || ln > S)
      return "ctc: label_lengths[" + std::to_string(n) + "] = " + std::to_string(ln) +
             " is outside [0, S = " + std::to_string(S) + "] (S: the labels' padded length)";
    for (index_t j = 0; j < ln; ++j) {
      const std::int64_t c = labels[n * S + j];
      if (c < 0 || c >= C)
        return "ctc: labels[" + std::to_string(n) + ", " + std::to_string(j) + "] = " +
               std::to_string(c) + " is outside [0, C = " + std::to_string(C) + ")";
      if (c == options.blank)
        return "ctc: labels[" + std::to_string(n) + ", " + std::to_string(j) + "] = " +
               std::to_string(c) + " is the blank class, which cannot be a label";
    }
  }
  return std::string();
}

namespace detail {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// log(e^a + e^b), stable; -inf when both are -inf, NaN when either is NaN.
inline double log_add(double a, double b) {
  const double m = a > b ? a : b;
  if (m == kNegInf) return a + b;  // -inf, or NaN (a NaN compares false above)
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

/// log(e^a + e^b + e^c), stable, with log_add's conventions.
inline double log_add(double a, double b, double c) {
  double m = a > b ? a : b;
  m = m > c ? m : c;
  if (m == kNegInf) return a + b + c;
  return m + std::log(std::exp(a - m) + std::exp(b - m) + std::exp(c - m));
}

/// Per-thread buffers of one sample: alpha (frames x states), two beta rows,
/// the emissions-plus-beta row, the class occupancy row, the frames' log-sum-exp.
struct CtcScratch {
  std::vector<double> alpha, beta, beta_next, emit, occupancy, lse;
};

inline CtcScratch& ctc_scratch() {
  static thread_local CtcScratch s;
  return s;
}

template <class T>
void ctc_sample(const T* x, index_t T_max, index_t N, index_t C, const std::int64_t* label,
                index_t n, index_t Tn, index_t Ln, const CtcOptions& options,
                const CtcOutputs<T>& out) {
  const index_t states = 2 * Ln + 1;
  const std::int64_t blank = options.blank;
  const T* row0 = x + n * C;  // frame t of this sample: row0 + t * N * C
  const index_t frame_stride = N * C;
  auto ext = [&](index_t s) -> std::int64_t { return (s & 1) ? label[s >> 1] : blank; };
  // a skip from s - 2 to s: s is a label that differs from the label before it
  auto skips = [&](index_t s) { return s >= 2 && (s & 1) && label[s >> 1] != label[(s >> 1) - 1]; };

  CtcScratch& sc = ctc_scratch();
  sc.lse.assign(static_cast<std::size_t>(Tn), 0.0);
  if (options.from_logits) {
    for (index_t t = 0; t < Tn; ++t) {
      const T* r = row0 + t * frame_stride;
      double m = kNegInf;
      bool nan = false;
      for (index_t c = 0; c < C; ++c) {
        const double v = static_cast<double>(r[c]);
        if (v != v) nan = true;
        m = v > m ? v : m;
      }
      double sum = 0.0;
      if (std::isfinite(m)) {
        for (index_t c = 0; c < C; ++c) sum += std::exp(static_cast<double>(r[c]) - m);
        sc.lse[t] = nan ? std::nan("") : m + std::log(sum);
      } else {
        sc.lse[t] = nan ? std::nan("") : m;  // all -inf: every log-probability is NaN
      }
    }
  }
  auto logp = [&](index_t t, std::int64_t c) {
    return static_cast<double>(row0[t * frame_stride + c]) - sc.lse[t];
  };

  // forward: log P
  double log_p;
  if (Tn == 0) {
    log_p = Ln == 0 ? 0.0 : kNegInf;
  } else {
    sc.alpha.assign(static_cast<std::size_t>(Tn * states), kNegInf);
    double* a0 = sc.alpha.data();
    a0[0] = logp(0, blank);
    if (states > 1) a0[1] = logp(0, ext(1));
    for (index_t t = 1; t < Tn; ++t) {
      const double* prev = sc.alpha.data() + (t - 1) * states;
      double* cur = sc.alpha.data() + t * states;
      cur[0] = prev[0] + logp(t, blank);
      for (index_t s = 1; s < states; ++s) {
        const double sum = skips(s) ? log_add(prev[s], prev[s - 1], prev[s - 2])
                                    : log_add(prev[s], prev[s - 1]);
        cur[s] = sum + logp(t, ext(s));
      }
    }
    const double* last = sc.alpha.data() + (Tn - 1) * states;
    log_p = states > 1 ? log_add(last[states - 1], last[states - 2]) : last[0];
  }
  const bool impossible = log_p == kNegInf;
  const bool zeroed = impossible && options.zero_infinity;
  if (out.per_sample) out.per_sample[n] = zeroed ? 0.0 : -log_p;
  if (!out.grad) return;

  T* g0 = out.grad + n * C;
  for (index_t t = Tn; t < T_max; ++t) std::fill_n(g0 + t * frame_stride, C, T(0));
  if (Tn == 0) return;
  const double coef = out.coef ? out.coef[n] : 1.0;
  if (zeroed || !(log_p > kNegInf)) {
    // P = 0 (or a NaN input): PyTorch's NaN gradient, or zero_infinity's 0
    const T fill = zeroed ? T(0) : std::numeric_limits<T>::quiet_NaN();
    for (index_t t = 0; t < Tn; ++t) std::fill_n(g0 + t * frame_stride, C, fill);
    return;
  }

  // backward: beta rows from the last frame down, each frame's gradient row
  // written as soon as its occupancy is known
  sc.beta.assign(static_cast<std::size_t>(states), kNegInf);
  sc.beta_next.assign(static_cast<std::size_t>(states), kNegInf);
  sc.emit.assign(static_cast<std::size_t>(states), kNegInf);
  sc.occupancy.assign(static_cast<std::size_t>(C), 0.0);
  double* beta = sc.beta.data();
  double* beta_prev = sc.beta_next.data();
  double* emit = sc.emit.data();
  double* occ = sc.occupancy.data();
  beta[states - 1] = 0.0;
  if (states > 1) beta[states - 2] = 0.0;
  for (index_t t = Tn - 1;; --t) {
    const double* a = sc.alpha.data() + t * states;
    std::fill_n(occ, C, 0.0);
    for (index_t s = 0; s < states; ++s) occ[ext(s)] += std::exp(a[s] + beta[s] - log_p);
    T* g = g0 + t * frame_stride;
    if (options.from_logits) {
      double total = 0.0;
      for (index_t c = 0; c < C; ++c) total += occ[c];
      const T* r = row0 + t * frame_stride;
      for (index_t c = 0; c < C; ++c)
        g[c] = static_cast<T>(coef * (std::exp(static_cast<double>(r[c]) - sc.lse[t]) * total -
                                      occ[c]));
    } else {
      for (index_t c = 0; c < C; ++c) g[c] = static_cast<T>(0.0 - coef * occ[c]);
    }
    if (t == 0) break;
    for (index_t s = 0; s < states; ++s) emit[s] = beta[s] + logp(t, ext(s));
    for (index_t s = 0; s < states; ++s) {
      double b = emit[s];
      if (s + 1 < states) {
        b = (s + 2 < states && skips(s + 2)) ? log_add(b, emit[s + 1], emit[s + 2])
                                             : log_add(b, emit[s + 1]);
      }
      beta_prev[s] = b;
    }
    std::swap(beta, beta_prev);
  }
}

}  // namespace detail

/// The CTC loss of each sample and/or its gradient (see the top of this
/// file). `inputs` (T, N, C) holds log-probabilities, or logits with
/// options.from_logits; `labels` (N, S), the first label_lengths[n] entries
/// of row n being sample n's label; `input_lengths` and `label_lengths` (N,).
/// Throws std::invalid_argument when ctc_argument_error finds a problem.
template <class T>
void ctc(const T* inputs, index_t T_max, index_t N, index_t C, const std::int64_t* labels,
         index_t S, const std::int64_t* input_lengths, const std::int64_t* label_lengths,
         const CtcOptions& options, const CtcOutputs<T>& out) {
  const std::string error =
      ctc_argument_error(T_max, N, C, labels, S, input_lengths, label_lengths, options);
  if (!error.empty()) throw std::invalid_argument(error);
  fastloss::detail::parallel_tiles(N, fastloss::detail::threads_for(N), [&](index_t n) {
    detail::ctc_sample(inputs, T_max, N, C, labels + n * S, n,
                       static_cast<index_t>(input_lengths[n]),
                       static_cast<index_t>(label_lengths[n]), options, out);
  });
}

}  // namespace sequence

}  // namespace fastloss

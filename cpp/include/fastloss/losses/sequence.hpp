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
#include "../detail/isa.hpp"
#include "../detail/threads.hpp"
#include "../detail/vmath.hpp"

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

// An empty asm statement: keeps GCC from turning the loop it sits in into
// vector gathers.
#if defined(__GNUC__)
#define FASTLOSS_NO_VECTORIZE() __asm__ volatile("")
#else
#define FASTLOSS_NO_VECTORIZE() ((void)0)
#endif

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

/// log(e^a + e^b + e^c), stable and branch-free (the loops over the states
/// vectorise): the largest term is factored out, so two exponentials of
/// non-positive arguments and one logarithm of a number in [1, 3]. -inf when
/// all three are -inf, NaN when one is NaN (a NaN loses every comparison, and
/// a + b + c carries it).
FASTLOSS_INLINE double log_add3(double a, double b, double c) {
  const double lo = a < b ? a : b, hi = a < b ? b : a;
  const double m = hi > c ? hi : c;
  const double mid = hi > c ? c : hi;
  const double sum = 1.0 + vmath::exp_nonpositive(lo - m) + vmath::exp_nonpositive(mid - m);
  const double out = m + vmath::log_positive(sum);
  return m == kNegInf || m != m ? a + b + c : out;
}

/// Per-thread buffers of one sample, all float64: alpha (frames x padded
/// states), the emissions (frames x states), beta and the next beta row, the
/// padded row of emissions plus beta, the skip mask, the occupancy of each
/// state and of each class, the frames' log-sum-exp and softmax (logits).
struct CtcScratch {
  std::vector<double> alpha, emission, beta, beta_prev, emit, skip, occ_state, occ_class, lse,
      softmax;
  std::vector<std::int64_t> cls;  // the class of each state
};

inline CtcScratch& ctc_scratch() {
  static thread_local CtcScratch s;
  return s;
}

/// Two -inf cells before each alpha row and after each beta row: the
/// transitions from s - 1 and s - 2 (alpha) and to s + 1 and s + 2 (beta) are
/// then plain loads for every state, with no branch in the loops.
inline constexpr index_t kPad = 2;

/// One sample (see the top of this file). Instruction-set clones
/// (FASTLOSS_DISPATCH): the loops over the states and classes are vector
/// loops of vmath's exp and log.
template <class T>
FASTLOSS_DISPATCH void ctc_sample(const T* x, index_t T_max, index_t N, index_t C,
                                  const std::int64_t* label, index_t n, index_t Tn, index_t Ln,
                                  const CtcOptions& options, const CtcOutputs<T>& out) {
  fastloss::with_fma_known([&]() FASTLOSS_LAMBDA_INLINE {
  const index_t states = 2 * Ln + 1;
  const index_t width = states + 2 * kPad;  // a padded row
  const std::int64_t blank = options.blank;
  const T* row0 = x + n * C;  // frame t of this sample: row0 + t * N * C
  const index_t frame_stride = N * C;
  CtcScratch& sc = ctc_scratch();
  sc.cls.resize(static_cast<std::size_t>(states));
  std::int64_t* cls = sc.cls.data();
  for (index_t s = 0; s < states; ++s) cls[s] = (s & 1) ? label[s >> 1] : blank;
  // skip[kPad + s] = 0 where s - 2 -> s is allowed (s a label unlike the one
  // before it), -inf elsewhere and in the padding
  sc.skip.assign(static_cast<std::size_t>(width), kNegInf);
  for (index_t s = 3; s < states; s += 2)
    if (label[s >> 1] != label[(s >> 1) - 1]) sc.skip[kPad + s] = 0.0;
  const double* skip = sc.skip.data() + kPad;

  // the frames of one sample lie N * C elements apart (a page or more for
  // large batches), beyond the hardware prefetchers' reach: each frame's row
  // is requested a few frames ahead of its use
  auto prefetch = [&](index_t t) {
#if defined(__GNUC__)
    if (t >= Tn) return;
    const char* p = reinterpret_cast<const char*>(row0 + t * frame_stride);
    for (index_t b = 0; b < C * static_cast<index_t>(sizeof(T)); b += 64) __builtin_prefetch(p + b);
#else
    (void)t;
#endif
  };
  constexpr index_t kAhead = 4;
  for (index_t t = 0; t < std::min(kAhead, Tn); ++t) prefetch(t);
  sc.lse.assign(static_cast<std::size_t>(Tn), 0.0);
  if (options.from_logits) {
    // log-sum-exp of each frame, and its softmax row kept for the gradient
    sc.softmax.resize(static_cast<std::size_t>(Tn * C));
    for (index_t t = 0; t < Tn; ++t) {
      prefetch(t + kAhead);
      const T* r = row0 + t * frame_stride;
      double* sm = sc.softmax.data() + t * C;
      double m = kNegInf;
      for (index_t c = 0; c < C; ++c) m = static_cast<double>(r[c]) > m ? static_cast<double>(r[c]) : m;
      FASTLOSS_SIMD
      for (index_t c = 0; c < C; ++c) sm[c] = vmath::exp_nonpositive(static_cast<double>(r[c]) - m);
      double sum = 0.0;
      for (index_t c = 0; c < C; ++c) sum += sm[c];  // NaN when a logit is NaN or +inf
      const double inv = 1.0 / sum;
      FASTLOSS_SIMD
      for (index_t c = 0; c < C; ++c) sm[c] *= inv;
      // all -inf logits: NaN log-probabilities, as log_softmax gives
      sc.lse[t] = m == kNegInf ? std::nan("") : m + vmath::log_positive(sum);
    }
  }
  // y_t(l'_s) for every frame and state, gathered once before the recursions
  // (scalar loads: vector gathers of 2L indices were no faster, and a vector
  // loop reading a row just written by scalar stores stalls on forwarding)
  sc.emission.resize(static_cast<std::size_t>(Tn * states));
  for (index_t t = 0; t < Tn; ++t) {
    if (!options.from_logits) prefetch(t + kAhead);  // (with logits: read just above)
    const T* r = row0 + t * frame_stride;
    const double shift = sc.lse[t];
    double* e = sc.emission.data() + t * states;
    const double e_blank = static_cast<double>(r[blank]) - shift;
    for (index_t s = 0; s < states; s += 2) e[s] = e_blank;
    for (index_t j = 0; j < Ln; ++j) {
      e[2 * j + 1] = static_cast<double>(r[label[j]]) - shift;
      FASTLOSS_NO_VECTORIZE();
    }
  }
  // the padded row of y_t + beta_t (its padding stays -inf)
  sc.emit.assign(static_cast<std::size_t>(width), kNegInf);
  double* emit = sc.emit.data() + kPad;

  // forward: log P
  double log_p;
  if (Tn == 0) {
    log_p = Ln == 0 ? 0.0 : kNegInf;
  } else {
    sc.alpha.assign(static_cast<std::size_t>(Tn * width), kNegInf);
    double* a0 = sc.alpha.data() + kPad;
    a0[0] = sc.emission[0];
    if (states > 1) a0[1] = sc.emission[1];
    for (index_t t = 1; t < Tn; ++t) {
      const double* prev = sc.alpha.data() + (t - 1) * width + kPad;
      double* cur = sc.alpha.data() + t * width + kPad;
      const double* e = sc.emission.data() + t * states;
      FASTLOSS_SIMD
      for (index_t s = 0; s < states; ++s)
        cur[s] = log_add3(prev[s], prev[s - 1], prev[s - 2] + skip[s]) + e[s];
    }
    const double* last = sc.alpha.data() + (Tn - 1) * width + kPad;
    log_p = states > 1 ? log_add3(last[states - 1], last[states - 2], kNegInf) : last[0];
  }
  const bool zeroed = log_p == kNegInf && options.zero_infinity;
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
  sc.beta.assign(static_cast<std::size_t>(width), kNegInf);
  sc.beta_prev.assign(static_cast<std::size_t>(width), kNegInf);
  sc.occ_state.assign(static_cast<std::size_t>(states), 0.0);
  sc.occ_class.assign(static_cast<std::size_t>(C), 0.0);
  double* beta = sc.beta.data() + kPad;
  double* beta_prev = sc.beta_prev.data() + kPad;
  double* occ_state = sc.occ_state.data();
  double* occ = sc.occ_class.data();
  beta[states - 1] = 0.0;
  if (states > 1) beta[states - 2] = 0.0;
  for (index_t t = Tn - 1;; --t) {
    const double* a = sc.alpha.data() + t * width + kPad;
    FASTLOSS_SIMD
    for (index_t s = 0; s < states; ++s) occ_state[s] = vmath::exp(a[s] + beta[s] - log_p);
    // the blank states (even s) summed apart: a scatter of 2L + 1 adds into
    // one class would wait on itself
    double blank_total = 0.0;
    for (index_t s = 0; s < states; s += 2) blank_total += occ_state[s];
    std::fill_n(occ, C, 0.0);
    for (index_t s = 1; s < states; s += 2) occ[cls[s]] += occ_state[s];
    occ[blank] += blank_total;
    T* g = g0 + t * frame_stride;
    if (options.from_logits) {
      double total = blank_total;
      for (index_t s = 1; s < states; s += 2) total += occ_state[s];
      const double* sm = sc.softmax.data() + t * C;
      FASTLOSS_SIMD
      for (index_t c = 0; c < C; ++c) g[c] = static_cast<T>(coef * (sm[c] * total - occ[c]));
    } else {
      FASTLOSS_SIMD
      for (index_t c = 0; c < C; ++c) g[c] = static_cast<T>(0.0 - coef * occ[c]);
    }
    if (t == 0) break;
    // beta_{t-1}(s) = logsumexp over s' in {s, s+1, s+2 if s -> s+2 skips}
    // of y_t(l'_s') + beta_t(s')
    const double* e = sc.emission.data() + t * states;
    FASTLOSS_SIMD
    for (index_t s = 0; s < states; ++s) emit[s] = e[s] + beta[s];
    FASTLOSS_SIMD
    for (index_t s = 0; s < states; ++s)
      beta_prev[s] = log_add3(emit[s], emit[s + 1], emit[s + 2] + skip[s + 2]);
    std::swap(beta, beta_prev);
  }
  });
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

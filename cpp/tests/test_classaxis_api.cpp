// The class-axis API (api_classaxis.hpp): every class-axis loss through the
// pointer + rows + classes functions against a double-precision reference
// written here from the formula; forward against forward_backward; gradients
// and Hessian diagonals against central differences of the reference; class
// ids against one-hot targets (and ignored rows); column-major and broadcast
// inputs against contiguous ones; weights and every reduction; bad arguments.
// Only double is instantiated, save one float loss: the test compiles in CI
// three times.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;

// ---------------------------------------------------------------------------
// References: one row's loss in double, from the formula.

using Ref = std::function<double(const double* t, std::int64_t y, const double* p, index_t C)>;

constexpr double kEps = 1e-7;  // Keras's epsilon

double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

double logsumexp(const double* z, index_t C) {
  double m = z[0];
  for (index_t k = 1; k < C; ++k) m = std::max(m, z[k]);
  double s = 0;
  for (index_t k = 0; k < C; ++k) s += std::exp(z[k] - m);
  return m + std::log(s);
}

/// Keras's probabilities: p / Σp (from_logits false) or softmax(z).
std::vector<double> probs(const double* p, index_t C, bool logits) {
  std::vector<double> q(p, p + C);
  if (logits) {
    const double l = logsumexp(p, C);
    for (auto& x : q) x = std::exp(x - l);
  } else {
    double s = 0;
    for (double x : q) s += x;
    for (auto& x : q) x /= s;
  }
  return q;
}

Ref ref_cce(bool logits, double ls = 0.0) {
  return [=](const double* t, std::int64_t, const double* p, index_t C) {
    const std::vector<double> q = probs(p, C, logits);
    double v = 0;
    for (index_t k = 0; k < C; ++k) {
      const double a = t[k] * (1 - ls) + ls / static_cast<double>(C);
      v -= a * (logits ? std::log(q[k]) : std::log(clip(q[k], kEps, 1 - kEps)));
    }
    return v;
  };
}

/// Sparse cross-entropy as PyTorch's: (1 - ls) w_y (-log q_y) + ls / C Σ w_c (-log q_c).
Ref ref_sparse_ce(bool logits, double ls = 0.0, std::vector<double> cw = {}) {
  return [=](const double*, std::int64_t y, const double* p, index_t C) {
    if (y < 0) return 0.0;
    const std::vector<double> q = probs(p, C, logits);
    auto nll = [&](index_t k) {
      return -(logits ? std::log(q[k]) : std::log(clip(q[k], kEps, 1 - kEps)));
    };
    auto w = [&](index_t k) { return cw.empty() ? 1.0 : cw[k]; };
    double v = (1 - ls) * w(y) * nll(y);
    for (index_t k = 0; k < C; ++k) v += ls / static_cast<double>(C) * w(k) * nll(k);
    return v;
  };
}

Ref ref_focal(bool logits, double alpha, double gamma) {
  return [=](const double* t, std::int64_t, const double* p, index_t C) {
    const std::vector<double> q = probs(p, C, logits);
    double v = 0;
    for (index_t k = 0; k < C; ++k) {
      const double qc = clip(q[k], kEps, 1 - kEps);
      v += alpha * std::pow(1 - qc, gamma) * (-t[k] * std::log(qc));
    }
    return v;
  };
}

double ref_kl(const double* t, std::int64_t, const double* p, index_t C) {
  double v = 0;
  for (index_t k = 0; k < C; ++k) {
    const double tc = clip(t[k], kEps, 1), pc = clip(p[k], kEps, 1);
    v += tc * std::log(tc / pc);
  }
  return v;
}

double ref_hinge(const double* t, std::int64_t, const double* p, index_t C) {
  double pos = 0, neg = -std::numeric_limits<double>::infinity();
  for (index_t k = 0; k < C; ++k) {
    pos += t[k] * p[k];
    neg = std::max(neg, (1 - t[k]) * p[k]);
  }
  return std::max(neg - pos + 1, 0.0);
}

double ref_cosine(const double* t, std::int64_t, const double* p, index_t C) {
  double tt = 0, pp = 0, tp = 0;
  for (index_t k = 0; k < C; ++k) {
    tt += t[k] * t[k];
    pp += p[k] * p[k];
    tp += t[k] * p[k];
  }
  return -tp * std::min(1 / std::sqrt(tt), 1 / kEps) * std::min(1 / std::sqrt(pp), 1 / kEps);
}

Ref ref_entropy(bool logits) {
  return [=](const double*, std::int64_t, const double* p, index_t C) {
    const std::vector<double> q = logits ? probs(p, C, true) : std::vector<double>(p, p + C);
    double v = 0;
    for (double x : q) v -= x == 0 ? 0.0 : x * std::log(x);
    return v;
  };
}

index_t argmax(const double* x, index_t C) { return std::max_element(x, x + C) - x; }

double ref_zero_one(const double* t, std::int64_t, const double* p, index_t C) {
  return argmax(p, C) == argmax(t, C) ? 0.0 : 1.0;
}
double ref_sparse_zero_one(const double*, std::int64_t y, const double* p, index_t C) {
  return y < 0 || argmax(p, C) == y ? 0.0 : 1.0;
}

// ---------------------------------------------------------------------------
// Data and one adapter over the three input kinds.

struct Data {
  index_t rows = 0, classes = 0;
  std::vector<double> t, p, w;   // t one-hot of `labels` where the loss reads labels
  std::vector<std::int64_t> labels;
};

/// rows x classes: y_pred logits in [-3, 3) or probabilities in [0.05, 1);
/// soft (normalised) targets, or one-hot where `one_hot`; weights in [0.5, 2).
Data make_data(index_t rows, index_t classes, bool logits, bool one_hot, std::uint64_t seed) {
  Rng rng(seed);
  Data d;
  d.rows = rows;
  d.classes = classes;
  d.t.assign(rows * classes, 0.0);
  d.p.resize(rows * classes);
  for (auto& x : d.p) x = logits ? rng.uniform(-3, 3) : rng.uniform(0.05, 1);
  for (index_t r = 0; r < rows; ++r) {
    const auto y = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(classes));
    d.labels.push_back(y);
    double s = 0;
    for (index_t k = 0; k < classes; ++k) {
      double& x = d.t[r * classes + k];
      x = one_hot ? (k == y ? 1.0 : 0.0) : rng.uniform(0.05, 1);
      s += x;
    }
    if (!one_hot)
      for (index_t k = 0; k < classes; ++k) d.t[r * classes + k] /= s;
    d.w.push_back(rng.uniform(0.5, 2));
  }
  return d;
}

/// The inputs of d as the loss reads them, row-major contiguous.
template <class Loss>
struct Api {
  const Loss& loss;
  const Data& d;
  static constexpr RowInput kIn = Loss::kInput;

  double forward(const double* p, Reduction red, const double* w) const {
    if constexpr (kIn == RowInput::Dense) {
      return fastloss::forward(loss, d.t.data(), p, d.rows, d.classes, red, w);
    } else if constexpr (kIn == RowInput::Labels) {
      return fastloss::forward(loss, d.labels.data(), p, d.rows, d.classes, red, w);
    } else {
      return fastloss::forward(loss, p, d.rows, d.classes, red, w);
    }
  }
  void per_sample(double* out, const double* w) const {
    if constexpr (kIn == RowInput::Dense) {
      fastloss::per_sample_loss(loss, d.t.data(), d.p.data(), d.rows, d.classes, out, w);
    } else if constexpr (kIn == RowInput::Labels) {
      fastloss::per_sample_loss(loss, d.labels.data(), d.p.data(), d.rows, d.classes, out, w);
    } else {
      fastloss::per_sample_loss(loss, d.p.data(), d.rows, d.classes, out, w);
    }
  }
  void backward(double* g, Reduction red, const double* w, double go) const {
    if constexpr (kIn == RowInput::Dense) {
      fastloss::backward(loss, d.t.data(), d.p.data(), d.rows, d.classes, g, red, w, go);
    } else if constexpr (kIn == RowInput::Labels) {
      fastloss::backward(loss, d.labels.data(), d.p.data(), d.rows, d.classes, g, red, w, go);
    } else {
      fastloss::backward(loss, d.p.data(), d.rows, d.classes, g, red, w, go);
    }
  }
  double forward_backward(double* g, Reduction red, const double* w, double go) const {
    if constexpr (kIn == RowInput::Dense) {
      return fastloss::forward_backward(loss, d.t.data(), d.p.data(), d.rows, d.classes, g, red,
                                        w, go);
    } else if constexpr (kIn == RowInput::Labels) {
      return fastloss::forward_backward(loss, d.labels.data(), d.p.data(), d.rows, d.classes, g,
                                        red, w, go);
    } else {
      return fastloss::forward_backward(loss, d.p.data(), d.rows, d.classes, g, red, w, go);
    }
  }
  void gradient_hessian(double* g, double* hs, const double* w) const {
    if constexpr (kIn == RowInput::Dense) {
      fastloss::gradient_hessian(loss, d.t.data(), d.p.data(), d.rows, d.classes, g, hs, w);
    } else if constexpr (kIn == RowInput::Labels) {
      fastloss::gradient_hessian(loss, d.labels.data(), d.p.data(), d.rows, d.classes, g, hs, w);
    } else {
      fastloss::gradient_hessian(loss, d.p.data(), d.rows, d.classes, g, hs, w);
    }
  }
  /// The same calls on column-major copies (row stride 1, class stride rows).
  double forward_backward_col(double* g_col, Reduction red, const double* w) const {
    const index_t R = d.rows, C = d.classes;
    std::vector<double> tc(R * C), pc(R * C);
    for (index_t r = 0; r < R; ++r)
      for (index_t k = 0; k < C; ++k) {
        tc[k * R + r] = d.t[r * C + k];
        pc[k * R + r] = d.p[r * C + k];
      }
    const auto pv = strided(pc.data(), 1, R);
    const auto gv = strided_out(g_col, 1, R);
    if constexpr (kIn == RowInput::Dense) {
      return fastloss::forward_backward(loss, strided(tc.data(), 1, R), pv, R, C, gv, red, w);
    } else if constexpr (kIn == RowInput::Labels) {
      return fastloss::forward_backward(loss, d.labels.data(), pv, R, C, gv, red, w);
    } else {
      return fastloss::forward_backward(loss, pv, R, C, gv, red, w);
    }
  }
};

/// Σ_r w_r L_r of the reference at y_pred = p.
double ref_sum(const Ref& ref, const Data& d, const std::vector<double>& p, bool weighted) {
  double s = 0;
  for (index_t r = 0; r < d.rows; ++r) {
    const double L = ref(d.t.data() + r * d.classes, d.labels[r], p.data() + r * d.classes,
                         d.classes);
    s += (weighted ? d.w[r] : 1.0) * L;
  }
  return s;
}

/// One loss configuration of the table below.
struct Case {
  std::string name;
  bool logits;    // y_pred drawn as logits (else probabilities)
  bool one_hot;   // y_true one-hot (else soft targets)
  bool smooth;    // differentiable at the drawn points (central differences apply)
};

template <class Loss>
void check_loss(Harness& h, const Case& cs, const Loss& loss, const Ref& ref) {
  for (const index_t C : {index_t(5), index_t(37)}) {
    const Data d = make_data(7, C, cs.logits, cs.one_hot, 11 + static_cast<std::uint64_t>(C));
    const Api<Loss> api{loss, d};
    const std::string at = cs.name + " C=" + std::to_string(C) + ": ";
    const index_t n = d.rows * C;

    // values: per sample, and the default mean
    std::vector<double> ps(d.rows);
    api.per_sample(ps.data(), d.w.data());
    for (index_t r = 0; r < d.rows; ++r) {
      const double want =
          d.w[r] * ref(d.t.data() + r * C, d.labels[r], d.p.data() + r * C, C);
      h.check(close(ps[r], want, 1e-12, 1e-13),
              at + "per_sample_loss row " + std::to_string(r) + " " + num(ps[r]) + " vs " +
                  num(want));
    }
    const double mean = api.forward(d.p.data(), Reduction::SumOverBatchSize, nullptr);
    const double want_mean = ref_sum(ref, d, d.p, false) / static_cast<double>(d.rows);
    h.check(close(mean, want_mean, 1e-12, 1e-13),
            at + "forward mean " + num(mean) + " vs " + num(want_mean));

    // every reduction, weighted
    const double sum_w = [&] {
      double s = 0;
      for (double x : d.w) s += x;
      return s;
    }();
    const double ws = ref_sum(ref, d, d.p, true);
    const double want_red[] = {ws, ws / static_cast<double>(d.rows), ws / sum_w};
    const Reduction reds[] = {Reduction::Sum, Reduction::SumOverBatchSize,
                              Reduction::MeanWithSampleWeight};
    for (int k = 0; k < 3; ++k) {
      const double v = api.forward(d.p.data(), reds[k], d.w.data());
      h.check(close(v, want_red[k], 1e-12, 1e-13),
              at + "weighted reduction " + std::to_string(k) + " " + num(v) + " vs " +
                  num(want_red[k]));
    }

    // fused == separate, bitwise; column-major == contiguous, bitwise
    for (const Reduction red : reds) {
      std::vector<double> g(n), gf(n), gc(n);
      const double go = 0.75;
      api.backward(g.data(), red, d.w.data(), go);
      const double v = api.forward(d.p.data(), red, d.w.data());
      const double vf = api.forward_backward(gf.data(), red, d.w.data(), go);
      h.check(same_bits(v, vf), at + "forward_backward value " + num(vf) + " vs forward " +
                                    num(v));
      bool same = true;
      for (index_t k = 0; k < n; ++k) same = same && same_bits(g[k] * 1.0, gf[k] * 1.0);
      h.check(same, at + "forward_backward gradient differs from backward");
      std::vector<double> g1(n);
      const double v1 = api.forward_backward(g1.data(), red, d.w.data(), 1.0);
      const double vc = api.forward_backward_col(gc.data(), red, d.w.data());
      h.check(same_bits(v1, vc), at + "column-major value " + num(vc) + " vs " + num(v1));
      same = true;
      for (index_t r = 0; r < d.rows; ++r)
        for (index_t k = 0; k < C; ++k) same = same && same_bits(g1[r * C + k], gc[k * d.rows + r]);
      h.check(same, at + "column-major gradient differs from contiguous");
    }

    // gradient of Σ w_r L_r (times grad_output) against central differences
    std::vector<double> g(n);
    const double go = 0.75;
    api.backward(g.data(), Reduction::Sum, d.w.data(), go);
    if (!cs.smooth) {
      bool zero = true;
      for (double x : g) zero = zero && x == 0.0;
      h.check(zero, at + "piecewise constant loss: gradient should be 0");
    } else {
      int bad = 0;
      for (index_t k = 0; k < n; ++k) {
        const double step = 1e-6 * std::max(1.0, std::fabs(d.p[k]));
        std::vector<double> up = d.p, dn = d.p;
        up[k] += step;
        dn[k] -= step;
        const double fd = go * (ref_sum(ref, d, up, true) - ref_sum(ref, d, dn, true)) / (2 * step);
        if (!close(g[k], fd, 1e-5, 1e-7) && bad++ < 3)
          h.check(false, at + "gradient element " + std::to_string(k) + " " + num(g[k]) +
                             " vs central difference " + num(fd));
      }
      h.check(bad == 0, at + std::to_string(bad) + " gradient elements off");
    }

    // Hessian diagonal against second differences; its gradient is w_r dL_r
    if constexpr (has_hessian_v<Loss>) {
      std::vector<double> gh(n), hs(n), gn(n);
      api.gradient_hessian(gh.data(), hs.data(), d.w.data());
      api.backward(gn.data(), Reduction::None, d.w.data(), 1.0);
      int bad = 0;
      for (index_t k = 0; k < n; ++k) {
        if (!close(gh[k], gn[k], 1e-12, 1e-14) && bad++ < 3)
          h.check(false, at + "gradient_hessian gradient " + num(gh[k]) + " vs backward(None) " +
                             num(gn[k]));
        const double step = 1e-4 * std::max(1.0, std::fabs(d.p[k]));
        std::vector<double> up = d.p, dn = d.p;
        up[k] += step;
        dn[k] -= step;
        const double fd = (ref_sum(ref, d, up, true) - 2 * ref_sum(ref, d, d.p, true) +
                           ref_sum(ref, d, dn, true)) / (step * step);
        if (!close(hs[k], fd, 1e-4, 1e-5) && bad++ < 3)
          h.check(false, at + "Hessian element " + std::to_string(k) + " " + num(hs[k]) +
                             " vs second difference " + num(fd));
      }
      h.check(bad == 0, at + std::to_string(bad) + " gradient_hessian elements off");
    } else {
      std::vector<double> gh(n), hs(n);
      expect_invalid(h, at + "gradient_hessian without a Hessian",
                     [&] { api.gradient_hessian(gh.data(), hs.data(), nullptr); });
    }
  }
}

// ---------------------------------------------------------------------------

void losses(Harness& h) {
  check_loss(h, {"cce probs", false, false, true}, CategoricalCrossentropy(false),
             ref_cce(false));
  check_loss(h, {"cce logits ls", true, false, true}, CategoricalCrossentropy(true, 0.1),
             ref_cce(true, 0.1));
  check_loss(h, {"sparse ce logits", true, true, true}, SparseCategoricalCrossentropy(true),
             ref_sparse_ce(true));
  check_loss(h, {"sparse ce probs ls", false, true, true},
             SparseCategoricalCrossentropy(false, 0.2), ref_sparse_ce(false, 0.2));
  check_loss(h, {"focal probs", false, false, true}, CategoricalFocalCrossentropy({0.25}, 2.0),
             ref_focal(false, 0.25, 2.0));
  check_loss(h, {"focal logits", true, true, true},
             CategoricalFocalCrossentropy({0.5}, 1.5, true), ref_focal(true, 0.5, 1.5));
  check_loss(h, {"kl", false, false, true}, KLDivergence{}, Ref(ref_kl));
  check_loss(h, {"hinge", true, true, true}, CategoricalHinge{}, Ref(ref_hinge));
  check_loss(h, {"cosine", true, false, true}, CosineSimilarity{}, Ref(ref_cosine));
  check_loss(h, {"entropy probs", false, false, true}, Entropy(false), ref_entropy(false));
  check_loss(h, {"entropy logits", true, false, true}, Entropy(true), ref_entropy(true));
  check_loss(h, {"zero_one", true, false, false}, CategoricalZeroOne{}, Ref(ref_zero_one));
  check_loss(h, {"sparse zero_one", true, true, false}, SparseCategoricalZeroOne{},
             Ref(ref_sparse_zero_one));
}

/// Class ids against their one-hot targets; negative ids ignore rows, in the
/// sum and in the divisor; class weights join the weighted mean's divisor.
void labels_vs_dense(Harness& h) {
  const index_t R = 9, C = 6;
  Data d = make_data(R, C, true, true, 5);
  const SparseCategoricalCrossentropy sce(true, 0.1);
  const CategoricalCrossentropy cce(true, 0.1);
  for (const Reduction red :
       {Reduction::Sum, Reduction::SumOverBatchSize, Reduction::MeanWithSampleWeight}) {
    std::vector<double> gs(R * C), gd(R * C);
    const double vs = forward_backward(sce, d.labels.data(), d.p.data(), R, C, gs.data(), red,
                                       d.w.data());
    const double vd = forward_backward(cce, d.t.data(), d.p.data(), R, C, gd.data(), red,
                                       d.w.data());
    h.check(close(vs, vd, 1e-13), "sparse vs one-hot value " + num(vs) + " vs " + num(vd));
    bool ok = true;
    for (index_t k = 0; k < R * C; ++k) ok = ok && close(gs[k], gd[k], 1e-12, 1e-15);
    h.check(ok, "sparse vs one-hot gradient");
  }
  const SparseCategoricalZeroOne szo;
  const CategoricalZeroOne czo;
  h.check(forward(szo, d.labels.data(), d.p.data(), R, C) ==
              forward(czo, d.t.data(), d.p.data(), R, C),
          "sparse vs one-hot zero-one");

  // rows 1, 4 and 8 ignored: as if they were not there
  std::vector<std::int64_t> lab = d.labels;
  lab[1] = -1;
  lab[4] = -100;
  lab[8] = -1;
  std::vector<double> tk, pk, wk;
  std::vector<std::int64_t> kept_rows;
  for (index_t r = 0; r < R; ++r) {
    if (lab[r] < 0) continue;
    kept_rows.push_back(r);
    tk.insert(tk.end(), d.t.begin() + r * C, d.t.begin() + (r + 1) * C);
    pk.insert(pk.end(), d.p.begin() + r * C, d.p.begin() + (r + 1) * C);
    wk.push_back(d.w[r]);
  }
  const index_t K = static_cast<index_t>(kept_rows.size());
  for (const Reduction red :
       {Reduction::Sum, Reduction::SumOverBatchSize, Reduction::MeanWithSampleWeight}) {
    for (const bool weighted : {false, true}) {
      std::vector<double> gs(R * C, 7.0), gd(K * C);
      const double* w = weighted ? d.w.data() : nullptr;
      const double vs = forward_backward(sce, lab.data(), d.p.data(), R, C, gs.data(), red, w);
      const double vd = forward_backward(cce, tk.data(), pk.data(), K, C, gd.data(), red,
                                         weighted ? wk.data() : nullptr);
      const std::string at = "ignored rows, reduction " + std::to_string(static_cast<int>(red)) +
                             (weighted ? " weighted: " : ": ");
      h.check(close(vs, vd, 1e-13), at + "value " + num(vs) + " vs " + num(vd));
      bool ok = true;
      index_t j = 0;
      for (index_t r = 0; r < R; ++r) {
        const bool kept = lab[r] >= 0;
        for (index_t k = 0; k < C; ++k)
          ok = ok && (kept ? close(gs[r * C + k], gd[j * C + k], 1e-12, 1e-15)
                           : gs[r * C + k] == 0.0);
        j += kept;
      }
      h.check(ok, at + "gradient (ignored rows must be 0)");
    }
  }
  std::vector<std::int64_t> none(R, -1);
  h.check(forward(sce, none.data(), d.p.data(), R, C) == 0.0, "every row ignored: mean 0");

  // class weights: the weighted mean divides by Σ w_r cw[y_r]
  const std::vector<double> cw{0.5, 1.0, 2.0, 1.5, 0.25, 3.0};
  const SparseCategoricalCrossentropy sce_cw(true, 0.0, cw);
  const SparseCategoricalCrossentropy sce_plain(true);
  double num_sum = 0, den = 0;
  std::vector<double> ps(R);
  per_sample_loss(sce_plain, lab.data(), d.p.data(), R, C, ps.data());
  for (index_t r = 0; r < R; ++r) {
    if (lab[r] < 0) continue;
    num_sum += d.w[r] * cw[lab[r]] * ps[r];
    den += d.w[r] * cw[lab[r]];
  }
  const double v =
      forward(sce_cw, lab.data(), d.p.data(), R, C, Reduction::MeanWithSampleWeight, d.w.data());
  h.check(close(v, num_sum / den, 1e-13), "class weights, weighted mean " + num(v) + " vs " +
                                              num(num_sum / den));
  const double vsobs = forward(sce_cw, lab.data(), d.p.data(), R, C);
  h.check(close(vsobs, [&] {
            double s = 0;
            for (index_t r = 0; r < R; ++r)
              if (lab[r] >= 0) s += cw[lab[r]] * ps[r];
            return s / static_cast<double>(K);
          }(), 1e-13),
          "class weights, sum over batch size counts kept rows");
}

/// A broadcast target row (row stride 0), a strided subset of rows, an
/// in-place gradient, float against double, empty inputs, 1 vs 2 threads.
void layouts(Harness& h) {
  const index_t R = 6, C = 4;
  Data d = make_data(R, C, true, false, 3);
  const CategoricalCrossentropy cce(true);
  // every row's target is row 0's
  std::vector<double> t0(R * C);
  for (index_t r = 0; r < R; ++r) std::copy(d.t.begin(), d.t.begin() + C, t0.begin() + r * C);
  std::vector<double> g0(R * C), gb(R * C);
  const double v0 = forward_backward(cce, t0.data(), d.p.data(), R, C, g0.data());
  const double vb = forward_backward(cce, strided(d.t.data(), 0, 1), strided(d.p.data(), C, 1),
                                     R, C, strided_out(gb.data(), C, 1));
  h.check(same_bits(v0, vb) && g0 == gb, "broadcast y_true row equals its copies");
  // every other row, read with row stride 2C, equals the packed rows
  std::vector<double> tp, pp;
  for (index_t r = 0; r < R; r += 2) {
    tp.insert(tp.end(), d.t.begin() + r * C, d.t.begin() + (r + 1) * C);
    pp.insert(pp.end(), d.p.begin() + r * C, d.p.begin() + (r + 1) * C);
  }
  const double vp = forward(cce, tp.data(), pp.data(), R / 2, C);
  const double vs = forward(cce, strided(d.t.data(), 2 * C, 1), strided(d.p.data(), 2 * C, 1),
                            R / 2, C);
  h.check(same_bits(vp, vs), "row stride 2C equals packed rows");
  // in place: the gradient overwrites y_pred
  std::vector<double> g(R * C), inplace = d.p;
  const double v = forward_backward(cce, d.t.data(), d.p.data(), R, C, g.data());
  const double vi = forward_backward(cce, d.t.data(), inplace.data(), R, C, inplace.data());
  h.check(same_bits(v, vi) && g == inplace, "in-place gradient");
  // float against double
  std::vector<float> tf(d.t.begin(), d.t.end()), pf(d.p.begin(), d.p.end()), gf(R * C);
  const double vf = forward_backward(cce, tf.data(), pf.data(), R, C, gf.data());
  bool ok = close(vf, v, 1e-5);
  for (index_t k = 0; k < R * C; ++k) ok = ok && close(gf[k], g[k], 1e-4, 1e-6);
  h.check(ok, "float close to double " + num(vf) + " vs " + num(v));
  // empty inputs: zero rows, or rows without classes
  h.check(forward(cce, static_cast<const double*>(nullptr), static_cast<const double*>(nullptr),
                  0, C) == 0.0,
          "zero rows");
  std::vector<double> ps(3, 9.0);
  per_sample_loss(Entropy{}, static_cast<const double*>(nullptr), 3, 0, ps.data());
  h.check(ps == std::vector<double>(3, 0.0), "rows without classes: per-sample losses 0");

  // big enough for several threads: 1 and 2 threads give the same bits
  const index_t BR = 2500, BC = 40;
  Data big = make_data(BR, BC, true, true, 9);
  for (index_t r = 0; r < BR; r += 7) big.labels[r] = -1;
  const SparseCategoricalCrossentropy sce(true);
  const int before = get_num_threads();
  double vt[2];
  std::vector<double> gt[2] = {std::vector<double>(BR * BC), std::vector<double>(BR * BC)};
  for (int k = 0; k < 2; ++k) {
    set_num_threads(k + 1);
    vt[k] = forward_backward(sce, big.labels.data(), big.p.data(), BR, BC, gt[k].data(),
                             Reduction::MeanWithSampleWeight, big.w.data());
  }
  set_num_threads(before);
  h.check(same_bits(vt[0], vt[1]) && gt[0] == gt[1], "1 vs 2 threads, bitwise");
}

template <class F>
void expect_range(Harness& h, const std::string& what, F&& f) {
  try {
    f();
    h.check(false, what + ": no exception (expected std::out_of_range)");
  } catch (const std::out_of_range& e) {
    h.check(std::string(e.what()).find("outside [0, 3)") != std::string::npos,
            what + ": message should name the range: " + e.what());
  } catch (const std::exception& e) {
    h.check(false, what + ": wrong exception type: " + e.what());
  }
}

void bad_arguments(Harness& h) {
  const CategoricalCrossentropy cce;
  const SparseCategoricalCrossentropy sce;
  const Entropy ent;
  const std::vector<double> t{1, 0, 0, 0, 1, 0}, p{0.5, 0.3, 0.2, 0.1, 0.8, 0.1};
  const std::vector<std::int64_t> y{0, 1}, y_bad{0, 3};
  std::vector<double> g(6), hs(6), ps(2);
  const double* null = nullptr;
  const std::int64_t* null_labels = nullptr;
  double* null_out = nullptr;

  expect_invalid(h, "null y_true", [&] { forward(cce, null, p.data(), 2, 3); });
  expect_invalid(h, "null y_pred", [&] { forward(cce, t.data(), null, 2, 3); });
  expect_invalid(h, "null labels", [&] { forward(sce, null_labels, p.data(), 2, 3); });
  expect_invalid(h, "null labels, no classes", [&] { forward(sce, null_labels, p.data(), 2, 0); });
  expect_invalid(h, "entropy null y_pred", [&] { forward(ent, null, 2, 3); });
  expect_invalid(h, "negative rows", [&] { forward(cce, t.data(), p.data(), -1, 3); });
  expect_invalid(h, "negative classes", [&] { forward(sce, y.data(), p.data(), 2, -3); });
  expect_invalid(h, "rows * classes overflow", [&] {
    forward(cce, t.data(), p.data(), std::numeric_limits<index_t>::max() / 2, 3);
  });
  expect_invalid(h, "Reduction::None",
                 [&] { forward(cce, t.data(), p.data(), 2, 3, Reduction::None); });
  expect_invalid(h, "unknown reduction",
                 [&] { forward(ent, p.data(), 2, 3, static_cast<Reduction>(9)); });
  expect_invalid(h, "null loss_out",
                 [&] { per_sample_loss(sce, y.data(), p.data(), 2, 3, null_out); });
  expect_invalid(h, "null grad_out", [&] { backward(cce, t.data(), p.data(), 2, 3, null_out); });
  expect_invalid(h, "null grad_out fused",
                 [&] { forward_backward(ent, p.data(), 2, 3, null_out); });
  expect_invalid(h, "zero grad_out stride", [&] {
    backward(cce, strided(t.data(), 3, 1), strided(p.data(), 3, 1), 2, 3,
             strided_out(g.data(), 0, 1));
  });
  expect_invalid(h, "null hess_out",
                 [&] { gradient_hessian(sce, y.data(), p.data(), 2, 3, g.data(), null_out); });
  expect_invalid(h, "no Hessian", [&] {
    gradient_hessian(CategoricalHinge{}, t.data(), p.data(), 2, 3, g.data(), hs.data());
  });
  expect_invalid(h, "class_weight size", [&] {
    forward(SparseCategoricalCrossentropy(false, 0.0, {1.0, 2.0}), y.data(), p.data(), 2, 3);
  });
  expect_range(h, "label == classes", [&] { forward(sce, y_bad.data(), p.data(), 2, 3); });
  expect_range(h, "label == classes, backward",
               [&] { backward(sce, y_bad.data(), p.data(), 2, 3, g.data()); });
  expect_range(h, "label == classes, zero-one", [&] {
    per_sample_loss(SparseCategoricalZeroOne{}, y_bad.data(), p.data(), 2, 3, ps.data());
  });
  try {
    forward(cce, null, p.data(), 2, 3);
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    h.check(m.find("forward(categorical_crossentropy)") != std::string::npos &&
                m.find("y_true") != std::string::npos,
            "message names the function, the loss and the argument: " + m);
  }
}

/// The rows each class-axis declaration (kInfo.rows) worked out by hand, through
/// the API with the default parameters: every loss of the registry.
template <class Loss>
void declared_rows_of(Harness& h, const char* name) {
  const RowsInfo& info = Loss::kInfo.rows;
  h.check(info.n_rows() > 0, std::string(name) + ": the declaration has hand rows");
  for (int k = 0; k < info.n_rows(); ++k) {
    const HandRow& r = info.rows[k];
    const index_t C = r.classes;
    double got = 0.0;
    if constexpr (Loss::kInput == RowInput::Labels) {
      const std::int64_t y = static_cast<std::int64_t>(r.t[0]);
      got = forward(Loss{}, &y, r.p, 1, C);
    } else if constexpr (Loss::kInput == RowInput::None) {
      got = forward(Loss{}, r.p, 1, C);
    } else {
      got = forward(Loss{}, r.t, r.p, 1, C);
    }
    h.check(close(got, r.value, 1e-14, 1e-14),
            std::string(name) + " hand row " + std::to_string(k) + ": got " +
                std::to_string(got) + ", declared " + std::to_string(r.value));
  }
}

void declared_rows(Harness& h) {
#define FASTLOSS_ROWS_OF(S) declared_rows_of<S>(h, #S);
  FASTLOSS_CLASSAXIS_LOSSES(FASTLOSS_ROWS_OF)
#undef FASTLOSS_ROWS_OF
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"losses", losses},
                     {"labels_vs_dense", labels_vs_dense},
                     {"layouts", layouts},
                     {"bad_arguments", bad_arguments},
                     {"declared_rows", declared_rows}});
}

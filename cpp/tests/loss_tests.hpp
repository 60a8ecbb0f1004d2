// Every loss of FASTLOSS_ELEMENTWISE_LOSSES, through the public API
// (api.hpp): hand-computed values, gradients and Hessians against 4th-order
// central differences, fused == separate, float against double, strided ==
// contiguous, 1 thread == 2 threads bit for bit, and the Reduction rules.
// A new loss in the registry is picked up by every group here; its row in
// loss_table.hpp says where to sample it.
//
// Instantiating the driver for every loss is most of the compile time, so
// the losses are dealt round-robin to kParts translation units
// (test_losses_part<k>.cpp), which build in parallel; test_losses_main.cpp
// runs each group over all parts.
#pragma once

#ifndef FASTLOSS_TEST_PART
#error "define FASTLOSS_TEST_PART (0 .. kParts-1) before including loss_tests.hpp"
#endif

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"
#include "loss_table.hpp"
#include "loss_parts.hpp"

namespace fastloss_test {
namespace {

template <class Loss>
struct Tag {
  using type = Loss;
};

template <class Visit, class... L, std::size_t... I>
void visit_part(Visit& visit, LossList<L...>, std::index_sequence<I...>) {
  (
      [&] {
        if constexpr (I % kParts == FASTLOSS_TEST_PART) visit(Tag<L>{});
      }(),
      ...);
}

/// Calls visit(Tag<Loss>{}) for each loss of the registry dealt to this part.
template <class Visit>
void for_each_loss(Visit&& visit) {
  visit_part(visit, AllLosses{}, std::make_index_sequence<AllLosses::size>{});
}

template <class Loss>
std::string label(const Instance<Loss>& c) {
  return std::string(Loss::kName) + (c.name.empty() ? "" : "(" + c.name + ")");
}

template <class T>
const char* type_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "None";
    case Reduction::Sum: return "Sum";
    case Reduction::SumOverBatchSize: return "SumOverBatchSize";
    case Reduction::MeanWithSampleWeight: return "MeanWithSampleWeight";
  }
  return "?";
}

/// n points of the loss's domain, each at least `margin` away from a kink.
template <class Loss>
void sample_points(const Instance<Loss>& c, Rng& r, std::size_t n, double margin,
                   std::vector<double>& t, std::vector<double>& p) {
  t.resize(n);
  p.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    int tries = 0;
    do {
      Table<Loss>::sample(c, r, t[i], p[i]);
    } while (Table<Loss>::near_kink(c, t[i], p[i], margin) && ++tries < 1000);
  }
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

/// Positive weights with one zero among them.
template <class T>
std::vector<T> weights(Rng& r, std::size_t n) {
  std::vector<T> w(n);
  for (auto& x : w) x = static_cast<T>(r.uniform(0.1, 2.0));
  if (n > 2) w[n / 2] = T(0);
  return w;
}

// ---------------------------------------------------------------------------

template <class Loss, class T>
void hand_values_typed(Harness& h) {
  const bool dbl = std::is_same_v<T, double>;
  std::vector<HandCase<Loss>> cases = Table<Loss>::hand();
  if constexpr (!from_declaration<Loss>::value) {  // a row of its own: its declaration's too
    const std::vector<HandCase<Loss>> declared = declared_hand<Loss>();
    cases.insert(cases.end(), declared.begin(), declared.end());
  }
  for (const auto& c : cases) {
    const T t = static_cast<T>(c.t), p = static_cast<T>(c.p);
    T v = T(-1);
    per_sample_loss(c.loss, &t, &p, 1, &v);
    const std::string where = std::string(Loss::kName) + " " + type_name<T>() + " f(" +
                              num(c.t) + ", " + num(c.p) + ")";
    h.check(close(v, c.value, dbl ? 1e-12 : 2e-6, dbl ? 1e-15 : 1e-6),
            where + " = " + num(v) + ", expected " + num(c.value));
    const double s = forward(c.loss, &t, &p, 1, Reduction::Sum);
    h.check(same_bits(static_cast<T>(s), v), where + ": forward(Sum) " + num(s) +
                                                  " differs from per_sample_loss " + num(v));
  }
}

void hand_values(Harness& h) {
  for_each_loss([&](auto tag) {
    using Loss = typename decltype(tag)::type;
    h.check(!Table<Loss>::hand().empty(), std::string(Loss::kName) + ": no hand values");
    hand_values_typed<Loss, float>(h);
    hand_values_typed<Loss, double>(h);
  });
}

// ---------------------------------------------------------------------------
// 4th-order central differences: f'(p) ~ (f(p-2h) - 8 f(p-h) + 8 f(p+h) - f(p+2h)) / 12h,
// truncation error h^4 f^(5) / 30.

constexpr double kStep = 1e-4;
constexpr double kKinkMargin = 1e-3;  // > 2 * kStep: no stencil straddles a kink
constexpr std::size_t kPoints = 64;

/// fd[i] ~ d/dp of values_at(p)[i], elementwise.
template <class Eval>
std::vector<double> central_difference(const std::vector<double>& p, Eval&& values_at) {
  const std::size_t n = p.size();
  std::vector<double> out(n, 0.0);
  const int offsets[4] = {-2, -1, 1, 2};
  const double coef[4] = {1, -8, 8, -1};
  for (int k = 0; k < 4; ++k) {
    std::vector<double> pk(n);
    for (std::size_t i = 0; i < n; ++i) pk[i] = p[i] + offsets[k] * kStep;
    const std::vector<double> f = values_at(pk);
    for (std::size_t i = 0; i < n; ++i) out[i] += coef[k] * f[i];
  }
  for (auto& x : out) x /= 12 * kStep;
  return out;
}

template <class Loss>
void gradients_of(Harness& h) {
  Rng r(11);
  for (const auto& c : Table<Loss>::instances()) {
    std::vector<double> t, p;
    sample_points(c, r, kPoints, kKinkMargin, t, p);
    const index_t n = static_cast<index_t>(kPoints);
    std::vector<double> value(n), grad(n);
    per_sample_loss(c.loss, t.data(), p.data(), n, value.data());
    backward(c.loss, t.data(), p.data(), n, grad.data(), Reduction::Sum);
    const auto fd = central_difference(p, [&](const std::vector<double>& pk) {
      std::vector<double> f(pk.size());
      per_sample_loss(c.loss, t.data(), pk.data(), n, f.data());
      return f;
    });
    for (index_t i = 0; i < n; ++i) {
      h.check(close(grad[i], fd[i], 1e-6, 1e-8 * (1 + std::fabs(value[i]))),
              label(c) + " gradient at t=" + num(t[i]) + " p=" + num(p[i]) + ": " +
                  num(grad[i]) + " vs central difference " + num(fd[i]));
    }
  }
}

void gradients(Harness& h) {
  for_each_loss([&](auto tag) { gradients_of<typename decltype(tag)::type>(h); });
}

template <class Loss>
void hessians_of(Harness& h) {
  Rng r(12);
  for (const auto& c : Table<Loss>::instances()) {
    std::vector<double> t, p;
    sample_points(c, r, kPoints, kKinkMargin, t, p);
    const index_t n = static_cast<index_t>(kPoints);
    std::vector<double> g(n), hs(n), g_backward(n);
    if constexpr (!has_hessian_v<Loss>) {
      expect_invalid(h, label(c) + " gradient_hessian without a Hessian",
                     [&] { gradient_hessian(c.loss, t.data(), p.data(), n, g.data(), hs.data()); });
    } else {
      gradient_hessian(c.loss, t.data(), p.data(), n, g.data(), hs.data());
      backward(c.loss, t.data(), p.data(), n, g_backward.data(), Reduction::None);
      const auto fd = central_difference(p, [&](const std::vector<double>& pk) {
        std::vector<double> gk(pk.size());
        backward(c.loss, t.data(), pk.data(), n, gk.data(), Reduction::None);
        return gk;
      });
      for (index_t i = 0; i < n; ++i) {
        const std::string at = " at t=" + num(t[i]) + " p=" + num(p[i]) + ": ";
        h.check(close(hs[i], fd[i], 1e-6, 1e-8 * (1 + std::fabs(g[i]))),
                label(c) + " Hessian" + at + num(hs[i]) + " vs central difference " + num(fd[i]));
        h.check(close(g[i], g_backward[i], 1e-13, 1e-300),
                label(c) + " gradient_hessian's gradient" + at + num(g[i]) +
                    " vs backward's " + num(g_backward[i]));
      }
    }
  }
}

void hessians(Harness& h) {
  for_each_loss([&](auto tag) { hessians_of<typename decltype(tag)::type>(h); });
}

// ---------------------------------------------------------------------------

template <class Loss, class T>
void fused_typed(Harness& h) {
  Rng r(13);
  const bool dbl = std::is_same_v<T, double>;
  for (const auto& c : Table<Loss>::instances()) {
    const index_t rows = 9, features = 5, n = rows * features;
    std::vector<double> td, pd;
    sample_points(c, r, static_cast<std::size_t>(n), 0.0, td, pd);
    const auto t = cast<T>(td), p = cast<T>(pd);
    const auto w = weights<T>(r, static_cast<std::size_t>(n));
    for (Reduction red : {Reduction::Sum, Reduction::SumOverBatchSize,
                          Reduction::MeanWithSampleWeight}) {
      for (const T* wp : {static_cast<const T*>(nullptr), w.data()}) {
        const std::string where = label(c) + " " + type_name<T>() + " " + reduction_name(red) +
                                  (wp ? " weighted" : "");
        std::vector<T> g1(n), g2(n);
        // 1-D
        const double v1 = forward(c.loss, t.data(), p.data(), n, red, wp);
        backward(c.loss, t.data(), p.data(), n, g1.data(), red, wp, 0.75);
        const double v2 = forward_backward(c.loss, t.data(), p.data(), n, g2.data(), red, wp, 0.75);
        h.check(same_bits(v1, v2), where + ": forward_backward value " + num(v2) +
                                       " != forward " + num(v1));
        for (index_t i = 0; i < n; ++i)
          h.check(same_bits(g1[i], g2[i]), where + ": forward_backward gradient[" +
                                               std::to_string(i) + "] != backward");
        // The 1-D call is the batched call with one feature (the API may run
        // it as one row: the same math, possibly another summation order).
        {
          std::vector<T> g3(n);
          const double v3 =
              forward_backward(c.loss, t.data(), p.data(), n, 1, g3.data(), red, wp, 0.75);
          h.check(close(v3, v1, 1e-12, 1e-13), where + ": 1-D value " + num(v1) +
                                                   " vs n x 1 batched " + num(v3));
          for (index_t i = 0; i < n; ++i)
            h.check(close(g1[i], g3[i], dbl ? 1e-15 : 1e-7, 1e-300),
                    where + ": 1-D gradient[" + std::to_string(i) + "] " + num(g1[i]) +
                        " vs n x 1 batched " + num(g3[i]));
        }
        // batched (weights per row)
        const double b1 = forward(c.loss, t.data(), p.data(), rows, features, red, wp);
        backward(c.loss, t.data(), p.data(), rows, features, g1.data(), red, wp, 0.75);
        const double b2 =
            forward_backward(c.loss, t.data(), p.data(), rows, features, g2.data(), red, wp, 0.75);
        h.check(same_bits(b1, b2), where + " batched: forward_backward value " + num(b2) +
                                       " != forward " + num(b1));
        for (index_t i = 0; i < n; ++i)
          h.check(same_bits(g1[i], g2[i]), where + " batched: forward_backward gradient[" +
                                               std::to_string(i) + "] != backward");
      }
    }
    if constexpr (has_hessian_v<Loss>) {
      // The same derivative from grad_hess and from value_grad.
      std::vector<T> g(n), hs(n), gb(n);
      gradient_hessian(c.loss, t.data(), p.data(), n, g.data(), hs.data(), w.data());
      backward(c.loss, t.data(), p.data(), n, gb.data(), Reduction::None, w.data());
      for (index_t i = 0; i < n; ++i)
        h.check(close(g[i], gb[i], dbl ? 1e-13 : 1e-6, dbl ? 1e-300 : 1e-30),
                label(c) + " " + type_name<T>() + ": gradient_hessian gradient " + num(g[i]) +
                    " vs backward " + num(gb[i]));
    }
  }
}

void fused(Harness& h) {
  for_each_loss([&](auto tag) {
    using Loss = typename decltype(tag)::type;
    fused_typed<Loss, float>(h);
    fused_typed<Loss, double>(h);
  });
}

// ---------------------------------------------------------------------------

template <class Loss>
void float_vs_double_of(Harness& h) {
  Rng r(14);
  for (const auto& c : Table<Loss>::instances()) {
    std::vector<double> td, pd;
    sample_points(c, r, kPoints, 1e-2, td, pd);
    // Both precisions see the same (float-representable) inputs.
    const auto tf = cast<float>(td), pf = cast<float>(pd);
    td.assign(tf.begin(), tf.end());
    pd.assign(pf.begin(), pf.end());
    const index_t n = static_cast<index_t>(kPoints);
    std::vector<float> vf(n), gf(n), hf(n);
    std::vector<double> vd(n), gd(n), hd(n);
    per_sample_loss(c.loss, tf.data(), pf.data(), n, vf.data());
    per_sample_loss(c.loss, td.data(), pd.data(), n, vd.data());
    backward(c.loss, tf.data(), pf.data(), n, gf.data(), Reduction::None);
    backward(c.loss, td.data(), pd.data(), n, gd.data(), Reduction::None);
    if constexpr (has_hessian_v<Loss>) {
      gradient_hessian(c.loss, tf.data(), pf.data(), n, gf.data(), hf.data());
      gradient_hessian(c.loss, td.data(), pd.data(), n, gd.data(), hd.data());
    }
    for (index_t i = 0; i < n; ++i) {
      const std::string at = " at t=" + num(td[i]) + " p=" + num(pd[i]) + ": float ";
      h.check(close(vf[i], vd[i], 2e-5, 2e-6),
              label(c) + " value" + at + num(vf[i]) + " vs double " + num(vd[i]));
      h.check(close(gf[i], gd[i], 2e-5, 2e-6),
              label(c) + " gradient" + at + num(gf[i]) + " vs double " + num(gd[i]));
      if constexpr (has_hessian_v<Loss>) {
        h.check(close(hf[i], hd[i], 2e-5, 2e-6),
                label(c) + " Hessian" + at + num(hf[i]) + " vs double " + num(hd[i]));
      }
    }
  }
}

void float_vs_double(Harness& h) {
  for_each_loss([&](auto tag) { float_vs_double_of<typename decltype(tag)::type>(h); });
}

// ---------------------------------------------------------------------------

/// Copies v into every `stride`-th slot of a buffer filled with `fill`.
template <class T>
std::vector<T> spread(const std::vector<T>& v, index_t stride, T fill) {
  std::vector<T> out(v.size() * static_cast<std::size_t>(stride), fill);
  for (std::size_t i = 0; i < v.size(); ++i) out[i * static_cast<std::size_t>(stride)] = v[i];
  return out;
}

template <class T>
void expect_same(Harness& h, const std::string& what, const std::vector<T>& a,
                 const std::vector<T>& b) {
  bool ok = a.size() == b.size();
  for (std::size_t i = 0; ok && i < a.size(); ++i) ok = same_bits(a[i], b[i]);
  h.check(ok, what + ": not bitwise equal to the contiguous result");
}

template <class Loss, class T>
void strided_typed(Harness& h) {
  Rng r(15);
  for (const auto& c : Table<Loss>::instances()) {
    const std::string where = label(c) + " " + type_name<T>();
    const index_t n = 50;
    std::vector<double> td, pd;
    sample_points(c, r, static_cast<std::size_t>(n), 0.0, td, pd);
    const auto t = cast<T>(td), p = cast<T>(pd);
    const auto w = weights<T>(r, static_cast<std::size_t>(n));
    const T nan = std::numeric_limits<T>::quiet_NaN();

    // Reference: contiguous.
    std::vector<T> ps(n), g(n), hs(n);
    const double v = forward_backward(c.loss, t.data(), p.data(), n, g.data(),
                                      Reduction::SumOverBatchSize, w.data());
    per_sample_loss(c.loss, t.data(), p.data(), n, ps.data(), w.data());
    if constexpr (has_hessian_v<Loss>) {
      gradient_hessian(c.loss, t.data(), p.data(), n, g.data(), hs.data(), w.data());
    }
    std::vector<T> g_ref(n);
    backward(c.loss, t.data(), p.data(), n, g_ref.data(), Reduction::SumOverBatchSize, w.data());

    // Strided inputs and outputs (NaN in the gaps: reading one would show).
    const auto ts = spread(t, 3, nan), pss = spread(p, 2, nan);
    std::vector<T> gs(n * 4, nan), hss(n * 2, nan), ps2(n);
    const double vs = forward_backward(c.loss, strided(ts.data(), 3), strided(pss.data(), 2), n,
                                       strided_out(gs.data(), 4), Reduction::SumOverBatchSize,
                                       w.data());
    h.check(same_bits(v, vs), where + " strided forward_backward value " + num(vs) + " vs " +
                                  num(v));
    std::vector<T> g_strided(n);
    for (index_t i = 0; i < n; ++i) g_strided[i] = gs[i * 4];
    expect_same(h, where + " strided gradient", g_strided, g_ref);
    bool gaps_untouched = true;
    for (index_t i = 0; i < n * 4; ++i)
      if (i % 4 != 0 && !std::isnan(gs[i])) gaps_untouched = false;
    h.check(gaps_untouched, where + " strided gradient wrote between its elements");
    per_sample_loss(c.loss, strided(ts.data(), 3), strided(pss.data(), 2), n, ps2.data(), w.data());
    expect_same(h, where + " strided per_sample_loss", ps2, ps);
    if constexpr (has_hessian_v<Loss>) {
      gradient_hessian(c.loss, strided(ts.data(), 3), strided(pss.data(), 2), n,
                       strided_out(gs.data(), 4), strided_out(hss.data(), 2), w.data());
      std::vector<T> g2(n), h2(n);
      for (index_t i = 0; i < n; ++i) {
        g2[i] = gs[i * 4];
        h2[i] = hss[i * 2];
      }
      expect_same(h, where + " strided gradient_hessian gradient", g2, g);
      expect_same(h, where + " strided gradient_hessian Hessian", h2, hs);
    }

    // Unweighted means and gradient_hessian (the API runs these as one row).
    {
      std::vector<T> g_c(n), g_s(n * 3, nan);
      const double vc = forward_backward(c.loss, t.data(), p.data(), n, g_c.data());
      const double vs2 = forward_backward(c.loss, strided(ts.data(), 3), strided(pss.data(), 2),
                                          n, strided_out(g_s.data(), 3));
      h.check(same_bits(vc, vs2), where + " strided unweighted mean " + num(vs2) + " vs " +
                                      num(vc));
      std::vector<T> g_back(n);
      for (index_t i = 0; i < n; ++i) g_back[i] = g_s[i * 3];
      expect_same(h, where + " strided unweighted gradient", g_back, g_c);
      if constexpr (has_hessian_v<Loss>) {
        std::vector<T> gh_c(n), hh_c(n), gh_s(n * 2, nan), hh_s(n * 3, nan);
        gradient_hessian(c.loss, t.data(), p.data(), n, gh_c.data(), hh_c.data());
        gradient_hessian(c.loss, strided(ts.data(), 3), strided(pss.data(), 2), n,
                         strided_out(gh_s.data(), 2), strided_out(hh_s.data(), 3));
        std::vector<T> g2(n), h2(n);
        for (index_t i = 0; i < n; ++i) {
          g2[i] = gh_s[i * 2];
          h2[i] = hh_s[i * 3];
        }
        expect_same(h, where + " strided unweighted gradient_hessian gradient", g2, gh_c);
        expect_same(h, where + " strided unweighted gradient_hessian Hessian", h2, hh_c);
      }
    }

    // Negative strides: the arrays walked backwards.
    {
      std::vector<T> tr(t.rbegin(), t.rend()), pr(p.rbegin(), p.rend()), gr(n), psr(n);
      std::vector<T> unweighted(n);
      per_sample_loss(c.loss, t.data(), p.data(), n, unweighted.data());
      per_sample_loss(c.loss, strided(tr.data() + n - 1, -1), strided(pr.data() + n - 1, -1), n,
                      psr.data());
      expect_same(h, where + " reversed per_sample_loss", psr, unweighted);
      std::vector<T> g_none(n);
      backward(c.loss, t.data(), p.data(), n, g_none.data(), Reduction::None);
      backward(c.loss, strided(tr.data() + n - 1, -1), strided(pr.data() + n - 1, -1), n,
               strided_out(gr.data() + n - 1, -1), Reduction::None);
      std::reverse(gr.begin(), gr.end());
      expect_same(h, where + " reversed backward", gr, g_none);
    }

    // Stride 0 broadcasts one label to every element.
    {
      const std::vector<T> t_same(n, t[0]);
      std::vector<T> ps_b(n), ps_full(n);
      per_sample_loss(c.loss, t_same.data(), p.data(), n, ps_full.data());
      per_sample_loss(c.loss, strided(t.data(), 0), strided(p.data(), 1), n, ps_b.data());
      expect_same(h, where + " broadcast y_true", ps_b, ps_full);
    }

    // Batched: column-major (transposed) storage against row-major.
    {
      const index_t rows = 10, features = 5;
      std::vector<T> tc(n), pc(n), gc(n), ps_rm(rows), ps_cm(rows), g_rm(n);
      for (index_t rr = 0; rr < rows; ++rr)
        for (index_t f = 0; f < features; ++f) {
          tc[f * rows + rr] = t[rr * features + f];
          pc[f * rows + rr] = p[rr * features + f];
        }
      const double vr = forward_backward(c.loss, t.data(), p.data(), rows, features, g_rm.data(),
                                         Reduction::MeanWithSampleWeight, w.data());
      const double vc = forward_backward(c.loss, strided(tc.data(), 1, rows),
                                         strided(pc.data(), 1, rows), rows, features,
                                         strided_out(gc.data(), 1, rows),
                                         Reduction::MeanWithSampleWeight, w.data());
      h.check(same_bits(vr, vc), where + " column-major value " + num(vc) + " vs " + num(vr));
      std::vector<T> g_back(n);
      for (index_t rr = 0; rr < rows; ++rr)
        for (index_t f = 0; f < features; ++f) g_back[rr * features + f] = gc[f * rows + rr];
      expect_same(h, where + " column-major gradient", g_back, g_rm);
      per_sample_loss(c.loss, t.data(), p.data(), rows, features, ps_rm.data());
      per_sample_loss(c.loss, strided(tc.data(), 1, rows), strided(pc.data(), 1, rows), rows,
                      features, ps_cm.data());
      expect_same(h, where + " column-major per_sample_loss", ps_cm, ps_rm);
    }
  }
}

void strides(Harness& h) {
  for_each_loss([&](auto tag) {
    using Loss = typename decltype(tag)::type;
    strided_typed<Loss, float>(h);
    strided_typed<Loss, double>(h);
  });
}

// ---------------------------------------------------------------------------

template <class T>
struct Outputs {
  double value = 0, value_1d = 0;
  std::vector<T> grad, grad_1d, per_sample, g2, hess, g2_1d, hess_1d;
};

/// Everything a loss computes on one large input, at the current thread count.
template <class Loss, class T>
Outputs<T> everything(const Loss& loss, const std::vector<T>& t, const std::vector<T>& p,
                      const std::vector<T>& w, index_t rows, index_t features) {
  Outputs<T> o;
  const std::size_t n = t.size();
  o.grad.resize(n);
  o.per_sample.resize(static_cast<std::size_t>(rows));
  o.value = forward_backward(loss, t.data(), p.data(), rows, features, o.grad.data(),
                             Reduction::MeanWithSampleWeight, w.data());
  per_sample_loss(loss, t.data(), p.data(), rows, features, o.per_sample.data(), w.data());
  // The same elements as one unweighted 1-D mean (the API's single-row path).
  o.grad_1d.resize(n);
  o.value_1d = forward_backward(loss, t.data(), p.data(), static_cast<index_t>(n),
                                o.grad_1d.data());
  if constexpr (has_hessian_v<Loss>) {
    o.g2_1d.resize(n);
    o.hess_1d.resize(n);
    gradient_hessian(loss, t.data(), p.data(), static_cast<index_t>(n), o.g2_1d.data(),
                     o.hess_1d.data());
    o.g2.resize(n);
    o.hess.resize(n);
    gradient_hessian(loss, t.data(), p.data(), rows, features, o.g2.data(), o.hess.data(),
                     w.data());
  }
  return o;
}

template <class Loss, class T>
void threads_typed(Harness& h) {
  Rng r(16);
  // 1-D (one element per sample), many short rows, and a few rows longer
  // than a tile (split into chunks): every tiling of the driver.
  const index_t shapes[3][2] = {{100003, 1}, {1500, 67}, {3, 40000}};
  for (const auto& c : Table<Loss>::instances()) {
    for (const auto& shape : shapes) {
      const index_t rows = shape[0], features = shape[1];
      std::vector<double> td, pd;
      sample_points(c, r, static_cast<std::size_t>(rows * features), 0.0, td, pd);
      const auto t = cast<T>(td), p = cast<T>(pd);
      const auto w = weights<T>(r, static_cast<std::size_t>(rows));
      set_num_threads(1);
      const auto one = everything(c.loss, t, p, w, rows, features);
      set_num_threads(2);
      const auto two = everything(c.loss, t, p, w, rows, features);
      const std::string where = label(c) + " " + type_name<T>() + " " + std::to_string(rows) +
                                "x" + std::to_string(features) + ", 2 threads vs 1";
      h.check(same_bits(one.value, two.value),
              where + ": value " + num(two.value) + " vs " + num(one.value));
      expect_same(h, where + ": gradient", two.grad, one.grad);
      h.check(same_bits(one.value_1d, two.value_1d),
              where + ": 1-D value " + num(two.value_1d) + " vs " + num(one.value_1d));
      expect_same(h, where + ": 1-D gradient", two.grad_1d, one.grad_1d);
      expect_same(h, where + ": 1-D gradient_hessian gradient", two.g2_1d, one.g2_1d);
      expect_same(h, where + ": 1-D gradient_hessian Hessian", two.hess_1d, one.hess_1d);
      expect_same(h, where + ": per_sample_loss", two.per_sample, one.per_sample);
      expect_same(h, where + ": gradient_hessian gradient", two.g2, one.g2);
      expect_same(h, where + ": gradient_hessian Hessian", two.hess, one.hess);
    }
  }
}

void threads(Harness& h) {
  if (FASTLOSS_TEST_PART == 0 && !has_threads())
    std::printf("note: built without threads, one thread only\n");
  const int before = get_num_threads();
  set_num_threads(2);
  h.check(!has_threads() || get_num_threads() == 2, "set_num_threads(2) not reflected");
  for_each_loss([&](auto tag) {
    using Loss = typename decltype(tag)::type;
    threads_typed<Loss, float>(h);
    threads_typed<Loss, double>(h);
  });
  set_num_threads(before);
}

// ---------------------------------------------------------------------------

template <class Loss, class T>
void reductions_typed(Harness& h) {
  Rng r(17);
  const bool dbl = std::is_same_v<T, double>;
  const double tol = dbl ? 1e-13 : 1e-6;
  for (const auto& c : Table<Loss>::instances()) {
    const std::string where = label(c) + " " + type_name<T>();
    const index_t n = 37;
    std::vector<double> td, pd;
    sample_points(c, r, static_cast<std::size_t>(n), 0.0, td, pd);
    const auto t = cast<T>(td), p = cast<T>(pd);
    const auto w = weights<T>(r, static_cast<std::size_t>(n));

    // Unweighted per-sample losses and per-element gradients are the reference.
    std::vector<T> l(n), g(n), lw(n);
    per_sample_loss(c.loss, t.data(), p.data(), n, l.data());
    backward(c.loss, t.data(), p.data(), n, g.data(), Reduction::None);
    per_sample_loss(c.loss, t.data(), p.data(), n, lw.data(), w.data());
    double sum_wl = 0, sum_abs = 0, sum_l = 0, sum_w = 0;
    for (index_t i = 0; i < n; ++i) {
      const double wl = static_cast<double>(w[i]) * static_cast<double>(l[i]);
      h.check(close(lw[i], wl, tol, 1e-300),
              where + ": weighted per-sample loss " + num(lw[i]) + " != w * l = " + num(wl));
      sum_wl += wl;
      sum_abs += std::fabs(wl) + std::fabs(static_cast<double>(l[i]));
      sum_l += static_cast<double>(l[i]);
      sum_w += static_cast<double>(w[i]);
    }
    const double abs_tol = 1e-13 * sum_abs;
    struct Expect {
      Reduction red;
      const T* w;
      double value, divisor;
    };
    const double nd = static_cast<double>(n);
    const Expect expect[] = {
        {Reduction::Sum, w.data(), sum_wl, 1.0},
        {Reduction::Sum, nullptr, sum_l, 1.0},
        {Reduction::SumOverBatchSize, w.data(), sum_wl / nd, nd},
        {Reduction::SumOverBatchSize, nullptr, sum_l / nd, nd},
        {Reduction::MeanWithSampleWeight, w.data(), sum_wl / sum_w, sum_w},
        {Reduction::MeanWithSampleWeight, nullptr, sum_l / nd, nd},
    };
    for (const auto& e : expect) {
      const std::string rw = where + " " + reduction_name(e.red) + (e.w ? " weighted" : "");
      const double v = forward(c.loss, t.data(), p.data(), n, e.red, e.w);
      h.check(close(v, e.value, 1e-13, abs_tol), rw + ": " + num(v) + ", expected " + num(e.value));
      std::vector<T> gr(n);
      backward(c.loss, t.data(), p.data(), n, gr.data(), e.red, e.w, -2.5);
      for (index_t i = 0; i < n; ++i) {
        const double wi = e.w ? static_cast<double>(e.w[i]) : 1.0;
        const double want = -2.5 * wi * static_cast<double>(g[i]) / e.divisor;
        h.check(close(gr[i], want, tol, 1e-300),
                rw + ": gradient[" + std::to_string(i) + "] " + num(gr[i]) + ", expected " +
                    num(want));
      }
    }
    // Reduction::None: one loss per sample, so no single value...
    expect_invalid(h, where + " forward(None)",
                   [&] { forward(c.loss, t.data(), p.data(), n, Reduction::None); });
    std::vector<T> gn(n);
    expect_invalid(h, where + " forward_backward(None)", [&] {
      forward_backward(c.loss, t.data(), p.data(), n, gn.data(), Reduction::None);
    });
    // ...but a gradient: grad_output * w_i * f'.
    backward(c.loss, t.data(), p.data(), n, gn.data(), Reduction::None, w.data(), 3.0);
    for (index_t i = 0; i < n; ++i) {
      const double want = 3.0 * static_cast<double>(w[i]) * static_cast<double>(g[i]);
      h.check(close(gn[i], want, tol, 1e-300),
              where + " None: gradient " + num(gn[i]) + ", expected " + num(want));
    }
    // Weights that sum to zero: Keras's divide-no-nan gives 0 and a 0 gradient.
    {
      const std::vector<T> zero(n, T(0));
      std::vector<T> gz(n, T(1));
      const double v = forward_backward(c.loss, t.data(), p.data(), n, gz.data(),
                                        Reduction::MeanWithSampleWeight, zero.data());
      h.check(v == 0.0, where + " zero weights: value " + num(v) + ", expected 0");
      h.check(std::all_of(gz.begin(), gz.end(), [](T x) { return x == T(0); }),
              where + " zero weights: gradient not 0");
    }
    // Empty input: 0 for every reduction, and null pointers are fine.
    for (Reduction red : {Reduction::Sum, Reduction::SumOverBatchSize,
                          Reduction::MeanWithSampleWeight}) {
      const double v0 = forward(c.loss, static_cast<const T*>(nullptr),
                                static_cast<const T*>(nullptr), 0, red);
      h.check(v0 == 0.0, where + " empty " + reduction_name(red) + ": " + num(v0));
      const double b0 = forward_backward(c.loss, static_cast<const T*>(nullptr),
                                         static_cast<const T*>(nullptr), 0, 0,
                                         static_cast<T*>(nullptr), red);
      h.check(b0 == 0.0, where + " empty batched " + reduction_name(red) + ": " + num(b0));
    }

    // Batched: per-sample loss = mean over features of the elementwise losses.
    {
      const index_t rows = 6, features = 4, m = rows * features;
      std::vector<double> tb, pb;
      sample_points(c, r, static_cast<std::size_t>(m), 0.0, tb, pb);
      const auto tt = cast<T>(tb), pp = cast<T>(pb);
      const auto wr = weights<T>(r, static_cast<std::size_t>(rows));
      std::vector<T> elem(m), elem_g(m), ps(rows);
      per_sample_loss(c.loss, tt.data(), pp.data(), m, elem.data());
      backward(c.loss, tt.data(), pp.data(), m, elem_g.data(), Reduction::None);
      per_sample_loss(c.loss, tt.data(), pp.data(), rows, features, ps.data(), wr.data());
      double total = 0, total_abs = 0, wsum = 0;
      for (index_t rr = 0; rr < rows; ++rr) {
        double mean = 0;
        for (index_t f = 0; f < features; ++f) mean += static_cast<double>(elem[rr * features + f]);
        mean /= static_cast<double>(features);
        const double want = static_cast<double>(wr[rr]) * mean;
        h.check(close(ps[rr], want, tol, 1e-13 * features),
                where + " batched per-sample loss " + num(ps[rr]) + ", expected " + num(want));
        total += want;
        total_abs += std::fabs(want);
        wsum += static_cast<double>(wr[rr]);
      }
      const double v = forward(c.loss, tt.data(), pp.data(), rows, features,
                               Reduction::MeanWithSampleWeight, wr.data());
      h.check(close(v, total / wsum, 1e-12, 1e-13 * total_abs),
              where + " batched MeanWithSampleWeight " + num(v) + ", expected " +
                  num(total / wsum));
      std::vector<T> gb(m);
      backward(c.loss, tt.data(), pp.data(), rows, features, gb.data(),
               Reduction::SumOverBatchSize, wr.data());
      for (index_t i = 0; i < m; ++i) {
        const double want = static_cast<double>(wr[i / features]) *
                            static_cast<double>(elem_g[i]) / static_cast<double>(features * rows);
        h.check(close(gb[i], want, tol, 1e-300),
                where + " batched gradient " + num(gb[i]) + ", expected " + num(want));
      }
      if constexpr (has_hessian_v<Loss>) {
        // Per element and unreduced: the row weight, no division by features.
        std::vector<T> g1(m), h1(m), g2(m), h2(m);
        gradient_hessian(c.loss, tt.data(), pp.data(), m, g1.data(), h1.data());
        gradient_hessian(c.loss, tt.data(), pp.data(), rows, features, g2.data(), h2.data(),
                         wr.data());
        for (index_t i = 0; i < m; ++i) {
          const double wi = static_cast<double>(wr[i / features]);
          h.check(close(g2[i], wi * static_cast<double>(g1[i]), tol, 1e-300) &&
                      close(h2[i], wi * static_cast<double>(h1[i]), tol, 1e-300),
                  where + " batched gradient_hessian is not w_r times the per-element one");
        }
      }
    }
  }
}

void reductions(Harness& h) {
  for_each_loss([&](auto tag) {
    using Loss = typename decltype(tag)::type;
    reductions_typed<Loss, float>(h);
    reductions_typed<Loss, double>(h);
  });
}

}  // namespace

/// This part's groups (see test_losses_main.cpp).
std::vector<Group> loss_groups(PartTag<FASTLOSS_TEST_PART>) {
  return {{"hand_values", hand_values},
          {"gradients", gradients},
          {"hessians", hessians},
          {"fused", fused},
          {"float_vs_double", float_vs_double},
          {"strides", strides},
          {"threads", threads},
          {"reductions", reductions}};
}

}  // namespace fastloss_test

// The linear-head cross-entropy (losses/linear_ce.hpp) with a naive GEMM
// callback: values and the three gradients against the definition on the
// full logits in float64, bitwise equality across chunk sizes and thread
// counts, the Fortran-BLAS adapter's operand swap, and the argument checks.
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fastloss/fastloss.hpp>

#include "check.hpp"

namespace fastloss_test {
namespace {

using namespace fastloss;
namespace lce = fastloss::linear_ce;

/// Row-major C = op(A) op(B) + beta C by the definition (test only).
template <class T>
void naive_gemm(void*, bool ta, bool tb, index_t m, index_t n, index_t k, T alpha, const T* a,
                index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc) {
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      T acc = 0;
      for (index_t p = 0; p < k; ++p)
        acc += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = alpha * acc + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
    }
}

/// A column-major Fortran-style sgemm/dgemm by the definition, to test the adapter.
template <class T>
void fortran_naive(const char* ta, const char* tb, const int* m, const int* n, const int* k,
                   const T* alpha, const T* a, const int* lda, const T* b, const int* ldb,
                   const T* beta, T* c, const int* ldc) {
  for (int j = 0; j < *n; ++j)
    for (int i = 0; i < *m; ++i) {
      T acc = 0;
      for (int p = 0; p < *k; ++p) {
        const T x = *ta == 'T' ? a[i * *lda + p] : a[p * *lda + i];
        const T y = *tb == 'T' ? b[p * *ldb + j] : b[j * *ldb + p];
        acc += x * y;
      }
      c[j * *ldc + i] = *alpha * acc + (*beta == T(0) ? T(0) : *beta * c[j * *ldc + i]);
    }
}

thread_local int local_thread_count = 1;
std::atomic<int> local_calls{0};
int local_threads(int n) {  // openblas_set_num_threads_local's contract
  ++local_calls;
  const int previous = local_thread_count;
  local_thread_count = n;
  return previous;
}

struct Problem {
  index_t N, H, V;
  std::vector<double> hidden, weight, bias, class_weight;
  std::vector<std::int64_t> labels;
};

Problem make(index_t N, index_t H, index_t V, std::uint64_t seed, bool ignore) {
  Rng rng(seed);
  Problem p{N, H, V, {}, {}, {}, {}, {}};
  for (index_t i = 0; i < N * H; ++i) p.hidden.push_back(rng.uniform(-1, 1));
  for (index_t i = 0; i < V * H; ++i) p.weight.push_back(rng.uniform(-1, 1));
  for (index_t i = 0; i < V; ++i) p.bias.push_back(rng.uniform(-1, 1));
  for (index_t i = 0; i < V; ++i) p.class_weight.push_back(rng.uniform(0.2, 2));
  for (index_t i = 0; i < N; ++i)
    p.labels.push_back(ignore && i % 3 == 1 ? -100 : static_cast<std::int64_t>(rng.next() % V));
  return p;
}

struct Result {
  std::vector<double> per_row, dh, dw, db;
};

/// The definition on the full logits, float64: PyTorch's per-row loss with
/// class weights and smoothing, and its gradients for coefficients coef.
Result reference(const Problem& p, double eps, bool weighted, const std::vector<double>& coef) {
  const index_t N = p.N, H = p.H, V = p.V;
  Result r{std::vector<double>(N), std::vector<double>(N * H, 0.0),
           std::vector<double>(V * H, 0.0), std::vector<double>(V, 0.0)};
  auto w = [&](index_t c) { return weighted ? p.class_weight[c] : 1.0; };
  for (index_t i = 0; i < N; ++i) {
    std::vector<double> z(V);
    double m = -INFINITY;
    for (index_t c = 0; c < V; ++c) {
      double s = p.bias[c];
      for (index_t k = 0; k < H; ++k) s += p.hidden[i * H + k] * p.weight[c * H + k];
      z[c] = s;
      m = std::max(m, s);
    }
    double se = 0;
    for (index_t c = 0; c < V; ++c) se += std::exp(z[c] - m);
    const double lse = m + std::log(se);
    const std::int64_t y = p.labels[i];
    if (y < 0) {
      r.per_row[i] = 0;
      continue;
    }
    double loss = (1 - eps) * w(y) * (lse - z[y]);
    for (index_t c = 0; c < V; ++c) loss += eps / V * w(c) * (lse - z[c]);
    r.per_row[i] = loss;
    double wsum = 0;
    for (index_t c = 0; c < V; ++c) wsum += w(c);
    const double mass = (1 - eps) * w(y) + eps / V * wsum;
    for (index_t c = 0; c < V; ++c) {
      const double g = coef[i] * (mass * std::exp(z[c] - lse) - (c == y ? (1 - eps) * w(y) : 0.0) -
                                  eps / V * w(c));
      r.db[c] += g;
      for (index_t k = 0; k < H; ++k) {
        r.dh[i * H + k] += g * p.weight[c * H + k];
        r.dw[c * H + k] += g * p.hidden[i * H + k];
      }
    }
  }
  return r;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
Result run(const Problem& p, double eps, bool weighted, const std::vector<double>& coef,
           index_t chunk, lce::Gemm<T> gemm = {&naive_gemm<T>, nullptr}) {
  const auto h = cast<T>(p.hidden), w = cast<T>(p.weight), b = cast<T>(p.bias);
  lce::Inputs<T> in;
  in.hidden = h.data();
  in.weight = w.data();
  in.bias = b.data();
  in.labels = p.labels.data();
  in.class_weight = weighted ? p.class_weight.data() : nullptr;
  in.N = p.N;
  in.H = p.H;
  in.V = p.V;
  lce::Options opt;
  opt.label_smoothing = eps;
  opt.chunk_size = chunk;
  std::vector<T> dh(p.N * p.H, T(7)), dw(p.V * p.H, T(7)), db(p.V, T(7));
  Result r{std::vector<double>(p.N), {}, {}, {}};
  lce::Outputs<T> out{r.per_row.data(), coef.data(), dh.data(), dw.data(), db.data()};
  lce::linear_cross_entropy(in, opt, gemm, out);
  r.dh.assign(dh.begin(), dh.end());
  r.dw.assign(dw.begin(), dw.end());
  r.db.assign(db.begin(), db.end());
  return r;
}

void compare(Harness& h, const std::vector<double>& got, const std::vector<double>& want,
             double tol, const std::string& what) {
  h.check(got.size() == want.size(), what + ": size");
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i)
    if (!close(got[i], want[i], tol, tol)) {
      h.fail(what + "[" + std::to_string(i) + "] = " + num(got[i]) + ", want " + num(want[i]));
      return;
    }
  h.check(true, what);
}

bool same(const Result& a, const Result& b) {
  auto eq = [](const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same_bits(x[i], y[i])) return false;
    return true;
  };
  return eq(a.per_row, b.per_row) && eq(a.dh, b.dh) && eq(a.dw, b.dw) && eq(a.db, b.db);
}

void against_definition(Harness& h) {
  // V spans several kSpan-wide products and a partial one; N several row blocks
  for (const auto& [N, H, V] : {std::array<index_t, 3>{5, 3, 7}, {300, 4, 1100},
                                std::array<index_t, 3>{3, 2, 1}}) {
    const Problem p = make(N, H, V, 11 + V, true);
    std::vector<double> coef(N);
    for (index_t i = 0; i < N; ++i) coef[i] = 0.5 + 0.01 * static_cast<double>(i);
    for (double eps : {0.0, 0.2})
      for (bool weighted : {false, true}) {
        const std::string tag = "N=" + std::to_string(N) + " V=" + std::to_string(V) +
                                " eps=" + num(eps) + (weighted ? " weighted" : "");
        const Result want = reference(p, eps, weighted, coef);
        for (index_t chunk : {index_t{0}, index_t{512}, index_t{700}}) {
          const Result got = run<double>(p, eps, weighted, coef, chunk);
          const std::string t = tag + " chunk=" + std::to_string(chunk);
          compare(h, got.per_row, want.per_row, 1e-12, t + " loss");
          compare(h, got.dh, want.dh, 1e-11, t + " d_hidden");
          compare(h, got.dw, want.dw, 1e-11, t + " d_weight");
          compare(h, got.db, want.db, 1e-11, t + " d_bias");
        }
        const Result f = run<float>(p, eps, weighted, coef, 0);
        compare(h, f.per_row, want.per_row, 2e-5, tag + " float32 loss");
        compare(h, f.dw, want.dw, 1e-4, tag + " float32 d_weight");
      }
  }
}

void chunks_and_threads(Harness& h) {
  const Problem p = make(70, 5, 2100, 5, true);
  std::vector<double> coef(70, 0.25);
  const Result base = run<float>(p, 0.1, true, coef, 0);
  for (index_t chunk : {index_t{1}, index_t{512}, index_t{1000}, index_t{1536}, index_t{5000}})
    h.check(same(run<float>(p, 0.1, true, coef, chunk), base),
            "chunk " + std::to_string(chunk) + " gives the default's bits");
  const int saved = get_num_threads();
  // a concurrent GEMM: products cut into column tiles run on fastloss's threads
  const lce::Gemm<float> tiled{&naive_gemm<float>, nullptr, true};
  const Problem wide = make(300, 300, 1100, 6, true);
  std::vector<double> coef_wide(300, 0.5);
  const Result serial = run<float>(wide, 0.0, false, coef_wide, 0);
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    h.check(same(run<float>(p, 0.1, true, coef, 600), base),
            std::to_string(t) + " threads give the same bits");
    h.check(same(run<float>(wide, 0.0, false, coef_wide, 0, tiled), serial),
            std::to_string(t) + " threads, tiled products: the same bits");
  }
  set_num_threads(saved);
}

void fortran_adapter(Harness& h) {
  const Problem p = make(9, 6, 40, 3, false);
  std::vector<double> coef(9, 1.0);
  lce::FortranGemmContext<double> ctx{&fortran_naive<double>, &local_threads};
  local_thread_count = 4;
  const Result a = run<double>(p, 0.0, false, coef, 0, lce::fortran_gemm(&ctx));
  h.check(lce::fortran_gemm(&ctx).concurrent, "a BLAS with per-thread counts is concurrent");
  h.check(local_thread_count == 4 && local_calls > 0,
          "the BLAS's per-thread count is set to 1 for each call and restored");
  const Result want = reference(p, 0.0, false, coef);
  compare(h, a.per_row, want.per_row, 1e-12, "fortran adapter loss");
  compare(h, a.dh, want.dh, 1e-12, "fortran adapter d_hidden");
  compare(h, a.dw, want.dw, 1e-12, "fortran adapter d_weight");
}

void edges_and_errors(Harness& h) {
  Problem p = make(4, 3, 6, 9, false);
  std::vector<double> coef(4, 1.0);
  p.labels = {-100, -100, -100, -100};
  const Result r = run<double>(p, 0.0, false, coef, 0);
  bool zero = true;
  for (double g : r.dh) zero &= g == 0.0;
  for (double g : r.dw) zero &= g == 0.0;
  for (double g : r.db) zero &= g == 0.0;
  for (double l : r.per_row) zero &= l == 0.0;
  h.check(zero, "all rows ignored: zero losses and gradients (no stale output)");
  Problem empty = make(0, 3, 6, 9, false);
  const Result e = run<double>(empty, 0.0, false, {}, 0);
  bool ez = e.dw.size() == 18;
  for (double g : e.dw) ez &= g == 0.0;
  h.check(ez, "empty batch: d_weight zero");
  Problem bad = make(4, 3, 6, 9, false);
  bad.labels[2] = 6;
  expect_invalid(h, "label == V", [&] { run<double>(bad, 0.0, false, coef, 0); });
  bad.labels[2] = -1;
  expect_invalid(h, "negative label", [&] { run<double>(bad, 0.0, false, coef, 0); });
  expect_invalid(h, "smoothing > 1", [&] { run<double>(p, 1.5, false, coef, 0); });
  lce::Inputs<double> in;
  in.V = 0;
  expect_invalid(h, "no classes", [&] {
    lce::linear_cross_entropy<double>(in, {}, {&naive_gemm<double>, nullptr}, {});
  });
}

void api_function(Harness& h) {
  const Problem p = make(12, 4, 30, 21, true);
  double wsum = 0;
  for (auto y : p.labels)
    if (y >= 0) wsum += p.class_weight[y];
  const std::vector<double> coef(12, 1.0 / wsum);
  const Result want = reference(p, 0.1, true, coef);
  double mean = 0;
  for (double l : want.per_row) mean += l / wsum;
  std::vector<double> dh(12 * 4), dw(30 * 4), db(30);
  linear_ce::Options opt;
  opt.label_smoothing = 0.1;
  const double v = linear_cross_entropy<double>(
      p.hidden.data(), p.weight.data(), p.bias.data(), p.labels.data(), 12, 4, 30,
      {&naive_gemm<double>, nullptr}, dh.data(), dw.data(), db.data(), opt,
      p.class_weight.data());
  h.check(close(v, mean, 1e-12), "api mean = sum w_y l / sum w_y: " + num(v) + " vs " + num(mean));
  compare(h, dh, want.dh, 1e-12, "api d_hidden");
  compare(h, dw, want.dw, 1e-12, "api d_weight");
  compare(h, db, want.db, 1e-12, "api d_bias");
  std::vector<std::int64_t> ignored(12, -100);
  const double nan = linear_cross_entropy<double>(p.hidden.data(), p.weight.data(), nullptr,
                                                  ignored.data(), 12, 4, 30,
                                                  {&naive_gemm<double>, nullptr});
  h.check(std::isnan(nan), "api: every row ignored gives NaN (PyTorch's 0 / 0)");
}

}  // namespace
}  // namespace fastloss_test

int main(int argc, char** argv) {
  using namespace fastloss_test;
  return run_groups(argc, argv,
                    {{"definition", against_definition},
                     {"chunks_and_threads", chunks_and_threads},
                     {"fortran_adapter", fortran_adapter},
                     {"edges_and_errors", edges_and_errors},
                     {"api", api_function}});
}

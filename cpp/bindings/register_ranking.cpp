// Binds the ranking kernels of losses/ranking.hpp (pairwise logistic,
// softmax listwise, LambdaRank-NDCG and -MAP, QueryRMSE, QueryCrossEntropy,
// GroupQuantile over query groups) as one function, and YetiRank,
// StochasticFilter and StochasticRank (which take their noise) as three
// others, all four parsing their arrays through RankArgs. The Python layer
// (fastloss/_ranking.py) checks user input, turns group sizes into offsets
// and makes arrays C-contiguous; this file checks the internal contract,
// converts and releases the GIL.
#include <cstdint>
#include <string>

#include <fastloss/losses/ranking.hpp>

#include "dtypes.hpp"

namespace fastloss::bindings {

namespace {

template <class T>
const T* flat_in(const py::array& a, index_t n, const char* what) {
  if (!has_dtype<T>(a) || a.ndim() != 1 || a.shape(0) != n || !(a.flags() & py::array::c_style))
    throw py::value_error(std::string(what) + ": internal layout mismatch");
  return static_cast<const T*>(a.data());
}

template <class T>
T* flat_out(const py::object& o, index_t n, const char* what) {
  if (o.is_none()) return nullptr;
  auto a = py::reinterpret_borrow<py::array>(o);
  flat_in<T>(a, n, what);
  if (!a.writeable()) throw py::value_error(std::string(what) + " is read-only");
  return static_cast<T*>(a.mutable_data());
}

/// The arrays every ranking binding takes, checked against the internal
/// contract: relevance and scores of n items, the Q + 1 query offsets
/// (0 = off[0] <= ... <= off[Q] = n), and the outputs (hess may be None).
template <class T>
struct RankArgs {
  index_t n = 0, Q = 0;
  const T* r = nullptr;
  const T* s = nullptr;
  const index_t* off = nullptr;
  ranking::RankOutputs<T> out;
  RankArgs(const py::array& rel, const py::array& scores, const py::array& offsets,
           const py::object& per_query, const py::object& grad, const py::object& hess,
           const py::object& coef)
      : n(static_cast<index_t>(scores.size())),
        r(flat_in<T>(rel, n, "relevance")),
        s(flat_in<T>(scores, n, "scores")) {
    if (offsets.ndim() != 1 || offsets.shape(0) < 1)
      throw py::value_error("offsets: internal layout mismatch");
    Q = static_cast<index_t>(offsets.shape(0)) - 1;
    off = flat_in<index_t>(offsets, Q + 1, "offsets");
    if (off[0] != 0 || off[Q] != n) throw py::value_error("offsets: internal contract violated");
    for (index_t q = 0; q < Q; ++q)
      if (off[q + 1] < off[q]) throw py::value_error("offsets: internal contract violated");
    out.per_query = flat_out<double>(per_query, Q, "per_query");
    out.grad = flat_out<T>(grad, n, "grad");
    out.hess = flat_out<T>(hess, n, "hess");
    out.coef = per_sample_in<double>(coef, Q, "coef");
  }
};

/// Which loss: 0 pairwise logistic, 1 softmax listwise (option: normalise the
/// labels), 2 LambdaRank-NDCG (option: the truncation k, <= 0 for none),
/// 3 LambdaRank-MAP (option: the pairs' top k, <= 0 for none), 4 QueryRMSE;
/// 5 QueryCrossEntropy (param: alpha), 6 GroupQuantile (param: alpha); normalize: XGBoost's default
/// normalisations of the LambdaRank lambdas.
template <class T>
void rank_typed(int kind, const py::array& rel, const py::array& scores,
                const py::array& offsets, std::int64_t option, const py::object& per_query,
                const py::object& grad, const py::object& hess, const py::object& coef,
                bool normalize, double param) {
  if (kind < 0 || kind > 6) throw py::value_error("rank_loss: unknown kind " + std::to_string(kind));
  const RankArgs<T> a(rel, scores, offsets, per_query, grad, hess, coef);
  const index_t Q = a.Q;
  const T *r = a.r, *s = a.s;
  const index_t* off = a.off;
  const ranking::RankOutputs<T>& out = a.out;
  py::gil_scoped_release release;
  switch (kind) {
    case 0: return ranking::pairwise_logistic(r, s, off, Q, out);
    case 1: return ranking::softmax_listwise(r, s, off, Q, option != 0, out);
    case 2:
      return ranking::lambdarank_ndcg(r, s, off, Q, static_cast<index_t>(option), normalize, out);
    case 3:
      return ranking::lambdarank_map(r, s, off, Q, static_cast<index_t>(option), normalize, out);
    case 4: return ranking::query_rmse(r, s, off, Q, out);
    case 5: return ranking::query_crossentropy(r, s, off, Q, param, out);
    default: return ranking::group_quantile(r, s, off, Q, param, out);
  }
}

/// YetiRank from the caller's uniforms (permutations rows of N; None: no noise).
template <class T>
void yetirank_typed(const py::array& rel, const py::array& scores, const py::array& offsets,
                    const py::object& uniforms, std::int64_t permutations, double decay,
                    const py::object& per_query, const py::object& grad, const py::object& hess,
                    const py::object& coef) {
  const RankArgs<T> a(rel, scores, offsets, per_query, grad, hess, coef);
  const index_t n = a.n, Q = a.Q;
  const T *r = a.r, *s = a.s;
  const index_t* off = a.off;
  const ranking::RankOutputs<T>& out = a.out;
  if (permutations < 1) throw py::value_error("permutations must be >= 1");
  const double* u = uniforms.is_none()
                       ? nullptr
                       : flat_in<double>(py::reinterpret_borrow<py::array>(uniforms),
                                         static_cast<index_t>(permutations) * n, "uniforms");
  py::gil_scoped_release release;
  ranking::yetirank(r, s, off, Q, u, static_cast<index_t>(permutations), decay, out);
}

/// StochasticFilter from the caller's uniforms (estimations rows of N).
template <class T>
void stochastic_filter_typed(const py::array& rel, const py::array& scores,
                             const py::array& offsets, const py::array& uniforms,
                             std::int64_t estimations, double sigma, const py::object& per_query,
                             const py::object& grad, const py::object& coef) {
  const RankArgs<T> a(rel, scores, offsets, per_query, grad, py::none(), coef);
  const index_t n = a.n, Q = a.Q;
  const T *r = a.r, *s = a.s;
  const index_t* off = a.off;
  const ranking::RankOutputs<T>& out = a.out;
  if (estimations < 1) throw py::value_error("estimations must be >= 1");
  if (!(sigma > 0.0)) throw py::value_error("sigma must be > 0");
  const double* u = flat_in<double>(uniforms, static_cast<index_t>(estimations) * n, "uniforms");
  py::gil_scoped_release release;
  ranking::stochastic_filter(r, s, off, Q, u, static_cast<index_t>(estimations), sigma, out);
}

/// StochasticRank from the caller's standard normals (estimations rows of N).
template <class T>
void stochastic_rank_typed(const py::array& rel, const py::array& scores,
                           const py::array& offsets, const py::array& normals,
                           std::int64_t estimations, const ranking::StochasticRankParams& prm,
                           const py::object& per_query, const py::object& grad,
                           const py::object& coef) {
  const RankArgs<T> a(rel, scores, offsets, per_query, grad, py::none(), coef);
  const index_t n = a.n, Q = a.Q;
  const T *r = a.r, *s = a.s;
  const index_t* off = a.off;
  const ranking::RankOutputs<T>& out = a.out;
  if (estimations < 1) throw py::value_error("estimations must be >= 1");
  if (!(prm.sigma > 0.0)) throw py::value_error("sigma must be > 0");
  const double* z = flat_in<double>(normals, static_cast<index_t>(estimations) * n, "normals");
  py::gil_scoped_release release;
  ranking::stochastic_rank(r, s, off, Q, z, static_cast<index_t>(estimations), prm, out);
}

}  // namespace

void register_ranking(py::module_& m) {
  m.def(
      "rank_loss",
      [](int kind, const py::array& rel, const py::array& scores, const py::array& offsets,
         std::int64_t option, const py::object& per_query, const py::object& grad,
         const py::object& hess, const py::object& coef, bool normalize, double param) {
        if (has_dtype<float>(scores))
          return rank_typed<float>(kind, rel, scores, offsets, option, per_query, grad, hess, coef,
                                   normalize, param);
        if (has_dtype<double>(scores))
          return rank_typed<double>(kind, rel, scores, offsets, option, per_query, grad, hess,
                                    coef, normalize, param);
        throw py::type_error("scores: expected float32 or float64");
      },
      py::arg("kind"), py::arg("relevance"), py::arg("scores"), py::arg("offsets"),
      py::arg("option"), py::arg("per_query"), py::arg("grad"), py::arg("hess"),
      py::arg("coef"), py::arg("normalize") = false, py::arg("param") = 0.0);
  m.def(
      "yetirank_loss",
      [](const py::array& rel, const py::array& scores, const py::array& offsets,
         const py::object& uniforms, std::int64_t permutations, double decay,
         const py::object& per_query, const py::object& grad, const py::object& hess,
         const py::object& coef) {
        if (has_dtype<float>(scores))
          return yetirank_typed<float>(rel, scores, offsets, uniforms, permutations, decay,
                                       per_query, grad, hess, coef);
        if (has_dtype<double>(scores))
          return yetirank_typed<double>(rel, scores, offsets, uniforms, permutations, decay,
                                        per_query, grad, hess, coef);
        throw py::type_error("scores: expected float32 or float64");
      },
      py::arg("relevance"), py::arg("scores"), py::arg("offsets"), py::arg("uniforms"),
      py::arg("permutations"), py::arg("decay"), py::arg("per_query"), py::arg("grad"),
      py::arg("hess"), py::arg("coef"));
  m.def(
      "stochastic_filter_loss",
      [](const py::array& rel, const py::array& scores, const py::array& offsets,
         const py::array& uniforms, std::int64_t estimations, double sigma,
         const py::object& per_query, const py::object& grad, const py::object& coef) {
        if (has_dtype<float>(scores))
          return stochastic_filter_typed<float>(rel, scores, offsets, uniforms, estimations,
                                                sigma, per_query, grad, coef);
        if (has_dtype<double>(scores))
          return stochastic_filter_typed<double>(rel, scores, offsets, uniforms, estimations,
                                                 sigma, per_query, grad, coef);
        throw py::type_error("scores: expected float32 or float64");
      },
      py::arg("relevance"), py::arg("scores"), py::arg("offsets"), py::arg("uniforms"),
      py::arg("estimations"), py::arg("sigma"), py::arg("per_query"), py::arg("grad"),
      py::arg("coef"));
  m.def(
      "stochastic_rank_loss",
      [](const py::array& rel, const py::array& scores, const py::array& offsets,
         const py::array& normals, std::int64_t estimations, bool ndcg, std::int64_t top,
         bool exp_gain, bool log_discount, double sigma, double mu, double nu, double lambda,
         const py::object& per_query, const py::object& grad, const py::object& coef) {
        ranking::StochasticRankParams prm;
        prm.ndcg = ndcg;
        prm.top = static_cast<index_t>(top);
        prm.exp_gain = exp_gain;
        prm.log_discount = log_discount;
        prm.sigma = sigma;
        prm.mu = mu;
        prm.nu = nu;
        prm.lambda = lambda;
        if (has_dtype<float>(scores))
          return stochastic_rank_typed<float>(rel, scores, offsets, normals, estimations, prm,
                                              per_query, grad, coef);
        if (has_dtype<double>(scores))
          return stochastic_rank_typed<double>(rel, scores, offsets, normals, estimations, prm,
                                               per_query, grad, coef);
        throw py::type_error("scores: expected float32 or float64");
      },
      py::arg("relevance"), py::arg("scores"), py::arg("offsets"), py::arg("normals"),
      py::arg("estimations"), py::arg("ndcg"), py::arg("top"), py::arg("exp_gain"),
      py::arg("log_discount"), py::arg("sigma"), py::arg("mu"), py::arg("nu"),
      py::arg("lambda"), py::arg("per_query"), py::arg("grad"), py::arg("coef"));
}

}  // namespace fastloss::bindings

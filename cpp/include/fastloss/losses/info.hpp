// The declaration of a loss: everything about it that is not its math. Each
// elementwise loss struct carries one `static constexpr LossInfo kInfo`, next
// to its value_grad / grad_hess (each class-axis struct too, next to its row(),
// with its own parts in `rows`), and everything else is derived from it: the
// Python class (name, constructor parameters with defaults and checks, Keras
// names and aliases, docstring), `fl.get` / `fl.names()`, the type stubs, the
// parameter checks of the C++ constructor, the inputs the Python and C++ test
// suites draw, where they keep central differences away from kinks, and the
// values worked out by hand that both suites check. docs/adding-a-loss.md
// says how to add one.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

namespace fastloss {

/// The values a parameter accepts (NaN never, but for Range::Any).
enum class Range : int {
  Any,                // every double, NaN included
  NotNaN,             // every double but NaN
  Finite,             // finite
  Positive,           // > 0 (inf allowed: only where the loss has a meaningful limit there)
  PositiveFinite,     // finite and > 0
  NonNegative,        // >= 0 (inf allowed)
  NonNegativeFinite,  // finite and >= 0
  Open01,             // in (0, 1)
  Closed01,           // in [0, 1]
  Open12,             // in (1, 2) (Tweedie's power)
  AtLeastOneFinite,   // finite and >= 1 (a power such as Lq's q)
  Bool,               // a flag: 0 or 1 here, a bool in Python (its default 0 is False)
};

/// What a user reads after "<param> must " in the error for a value outside
/// the range (and, capitalised, in the docstring).
constexpr const char* range_text(Range r) {
  switch (r) {
    case Range::Any: return "be a number";
    case Range::NotNaN: return "not be NaN";
    case Range::Finite: return "be finite";
    case Range::Positive: return "be > 0";
    case Range::PositiveFinite: return "be finite and > 0";
    case Range::NonNegative: return "be >= 0";
    case Range::NonNegativeFinite: return "be finite and >= 0";
    case Range::Open01: return "be in (0, 1)";
    case Range::Closed01: return "be in [0, 1]";
    case Range::Open12: return "be in (1, 2)";
    case Range::AtLeastOneFinite: return "be finite and >= 1";
    case Range::Bool: return "be 0 or 1";
  }
  return "";
}

inline bool in_range(Range r, double x) {
  switch (r) {
    case Range::Any: return true;
    case Range::NotNaN: return !std::isnan(x);
    case Range::Finite: return std::isfinite(x);
    case Range::Positive: return x > 0;
    case Range::PositiveFinite: return x > 0 && std::isfinite(x);
    case Range::NonNegative: return x >= 0;
    case Range::NonNegativeFinite: return x >= 0 && std::isfinite(x);
    case Range::Open01: return x > 0 && x < 1;
    case Range::Closed01: return x >= 0 && x <= 1;
    case Range::Open12: return x > 1 && x < 2;
    case Range::AtLeastOneFinite: return x >= 1 && std::isfinite(x);
    case Range::Bool: return x == 0 || x == 1;
  }
  return false;
}

/// Where the tests draw (y_true, y_pred): the loss is defined and its
/// derivatives exist there. Real: both normal; Positive: t >= 0, p in
/// [0.2, 5]; Probability: soft labels in [0, 1], p in [0.02, 0.98];
/// Logits: soft labels, logits of scale 3; Signed: labels -1/+1; Binary:
/// labels exactly 0 or 1, p in [0.02, 0.98] (a loss that compares labels);
/// BinaryLogits: labels exactly 0 or 1, logits of scale 2.
enum class Domain : int { Real, Positive, Probability, Logits, Signed, Binary, BinaryLogits };

/// Where the class's `axis` argument stands: no axis (the per-sample mean
/// is over the last axis); after `reduction` and `name` (fastloss's
/// regression losses); after the parameters, before `reduction` (Keras's
/// order for the cross-entropies); or between `reduction` and `name`
/// (Keras's SparseCategoricalCrossentropy). Two more for the losses of other
/// conventions: Elementwise, no axis and no per-sample mean (each element is
/// a sample: PyTorch's elementwise reduction="none"); Axes, after `reduction`
/// and `name` with default None, an int, consecutive axes or None for every
/// axis (Keras's segmentation losses, class-axis only).
enum class AxisArg : int { None, Last, BeforeReduction, BeforeName, Elementwise, Axes };

/// Where the loss or a derivative is not smooth, so that central differences
/// are taken away from it: nowhere; at p == t; at |p - t| == the first
/// parameter; at the margin t p == 1; at p == the first parameter; at p == 0;
/// at |p| == 1.
enum class Kink : int { None, AtZero, AtFirstParameter, Margin, Threshold, ZeroPrediction,
                        UnitPrediction };

/// What a parameter holds. Number: a double (a bool with Range::Bool);
/// the others are the class-axis losses' own: PerClass, None or one value per
/// class (class_weight; each value in the range); NumberOrPerClass, one value
/// for every class or one per class (focal alpha); IgnoredLabel, None or an
/// int label whose rows count for nothing (ignore_class: the Python layer
/// masks the labels with it, so it is not a parameter of the struct);
/// IgnoredValue, None or a number that marks elements of y_true to leave out
/// (a dense loss's masked pixels: the struct takes it as a double, NaN for
/// None, and skips the elements whose target equals it).
enum class ParamKind : int { Number, PerClass, NumberOrPerClass, IgnoredLabel, IgnoredValue };

/// One constructor parameter, in the order of the class's constructor.
struct ParamInfo {
  const char* name = nullptr;
  double default_value = 0.0;  // PerClass and IgnoredLabel: their default is None
  Range range = Range::Any;
  const char* doc = "";
  double example = 0.0;  // a value other than the default that the tests also use
  ParamKind kind = ParamKind::Number;
  bool keyword_only = false;  // after `name`, keyword-only (Keras's sparse cross-entropy)
};

/// The class's `from_logits` flag, for a loss whose y_pred may hold logits
/// instead: another struct, declared by logits_kernel_of() below, evaluates
/// from_logits=True. `position`: where the flag stands among the parameters
/// (before params[position]; -1: the class has no from_logits). `name`: the
/// flag's name in the class, "from_logits" unless the declaration names it
/// otherwise (the log-link losses' `log_input`, PyTorch's name: y_pred holds
/// z = log(mean), a raw score, as a logit is one).
struct FromLogits {
  int position = -1;
  const char* doc = "";
  const char* name = "from_logits";
};

/// One element worked out by hand from the formula, default parameters
/// (t NaN: no entry).
struct HandValue {
  double t = std::numeric_limits<double>::quiet_NaN(), p = 0.0, value = 0.0;
};

inline constexpr int kMaxParams = 4;
inline constexpr int kMaxHandValues = 6;
inline constexpr int kMaxHandClasses = 3;
inline constexpr int kMaxHandRows = 4;

/// One row of a class-axis loss worked out by hand from the formula, default
/// parameters: `classes` classes (0: no entry), the targets t (class ids:
/// t[0] the row's label; no y_true: unused), the predictions p, the row's loss.
struct HandRow {
  int classes = 0;
  double t[kMaxHandClasses] = {};
  double p[kMaxHandClasses] = {};
  double value = 0.0;
};

/// What a class-axis loss's class needs beside the parts it shares with an
/// elementwise one: its hand rows, Keras's single-class warning, the name of
/// its function with from_logits=True ("" for none), what its dense y_true
/// holds ("" soft or real targets; "label_sets": rows of class ids, the
/// targets up to the first negative one, as PyTorch's multilabel_margin_loss
/// takes them, checked by the Python layer), and whether
/// "sum_over_batch_size" divides by the class weights of the rows that count
/// (PyTorch's weighted mean of nll_loss) instead of their number.
struct RowsInfo {
  HandRow rows[kMaxHandRows] = {};
  bool warn_single_class = false;
  const char* logits_function = "";
  const char* targets = "";
  bool class_weighted_mean = false;

  constexpr int n_rows() const {
    int n = 0;
    while (n < kMaxHandRows && rows[n].classes > 0) ++n;
    return n;
  }
};

struct LossInfo {
  const char* cls;           // the Python class
  const char* default_name;  // the loss object's default `name` (Keras's)
  const char* function;      // Keras's function name: fl.<function>(y_true, y_pred)
  const char* aliases;       // other names fl.get takes, separated by spaces
  const char* function_aliases;  // other names of the function (fl.mse), separated by spaces
  AxisArg axis;              // where the class takes `axis`, the per-sample mean's axis, if it does
  const char* summary;       // one line
  const char* formula;       // per element, t = y_true, p = y_pred
  const char* gradient;
  const char* hessian;       // "" when there is none
  const char* notes;         // numerical notes, peers' differences ("" for none)
  const char* no_hessian;    // why gradient_hessian refuses, when there is no Hessian
  Domain domain;
  Kink kink;
  ParamInfo params[kMaxParams];
  HandValue hand[kMaxHandValues];
  FromLogits from_logits = {};  // the class's from_logits flag, if it has one
  // Set by logits_kernel_of() only: the class (cls) this struct evaluates
  // with from_logits=True; such a struct has no class of its own.
  const char* logits_of = nullptr;
  // A class-axis loss's own parts (the elementwise ones leave it empty).
  RowsInfo rows = {};

  constexpr int n_params() const {
    int n = 0;
    while (n < kMaxParams && params[n].name != nullptr) ++n;
    return n;
  }
  constexpr int n_hand() const {
    int n = 0;
    while (n < kMaxHandValues && hand[n].t == hand[n].t) ++n;
    return n;
  }
};

/// Why a piecewise-linear loss has no Hessian (shared wording).
inline constexpr const char* kPiecewiseLinear =
    "the loss is piecewise linear in y_pred, so its second derivative is zero wherever it "
    "exists and undefined at the kinks; a Newton step has no curvature to use. Gradient "
    "boosting libraries substitute a constant Hessian (scikit-learn and LightGBM use 1).";

/// The declaration of the struct a class evaluates with from_logits=True (or
/// with its flag of another name, log_input=True):
/// the class's own declaration (names, docstring, parameters and their checks
/// stay its one owner), with y_pred drawn as logits and the hand values of
/// this struct (default parameters, z = y_pred a logit).
template <std::size_t N>
constexpr LossInfo logits_kernel_of(const LossInfo& probability, const HandValue (&hand)[N]) {
  static_assert(N <= kMaxHandValues, "at most kMaxHandValues hand values");
  LossInfo v = probability;
  v.logits_of = probability.cls;
  v.domain = Domain::Logits;
  for (int k = 0; k < kMaxHandValues; ++k)
    v.hand[k] = k < static_cast<int>(N) ? hand[k] : HandValue{};
  return v;
}

namespace detail {
/// The constructor's check of parameter k of a declared loss: one owner of
/// the rule, the declaration's range.
inline double checked_param(const LossInfo& info, int k, double value) {
  const ParamInfo& p = info.params[k];
  if (!in_range(p.range, value)) {
    throw std::invalid_argument(std::string(info.cls) + ": " + p.name + " must " +
                                range_text(p.range) + ", got " + std::to_string(value));
  }
  return value;
}
}  // namespace detail

}  // namespace fastloss

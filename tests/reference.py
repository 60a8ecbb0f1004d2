"""Float64 NumPy reference of every elementwise loss, written from the formulas
(Keras 3's source for the Keras losses, the papers / PyTorch / scikit-learn docs
for the others), independently of the C++ kernels and of fastloss's Python layer.

Each function returns the per-element loss f(t, p) as float64. `keras_reduce`
turns per-element values into what Keras's Loss.__call__ returns.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7  # keras.backend.epsilon()


def _f(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def mean_squared_error(t, p):
    t, p = _f(t, p)
    return (t - p) ** 2


def mean_absolute_error(t, p):
    t, p = _f(t, p)
    return np.abs(t - p)


def mean_absolute_percentage_error(t, p):
    t, p = _f(t, p)
    return 100.0 * np.abs(t - p) / np.maximum(np.abs(t), EPS)


def mean_squared_logarithmic_error(t, p):
    t, p = _f(t, p)
    return (np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(t, EPS))) ** 2


def huber(t, p, delta=1.0):
    t, p = _f(t, p)
    a = np.abs(p - t)
    return np.where(a <= delta, 0.5 * a * a, delta * a - 0.5 * delta * delta)


def pseudo_huber(t, p, delta=1.0):
    # delta^2 (sqrt(1 + (e/delta)^2) - 1) with the square root's excess over 1 taken as
    # expm1(log1p(r^2) / 2), exact for small r
    t, p = _f(t, p)
    r = (p - t) / delta
    return delta**2 * np.expm1(0.5 * np.log1p(r * r))


def log_cosh(t, p):
    t, p = _f(t, p)
    e = p - t
    return np.logaddexp(e, -e) - np.log(2.0)  # log((e^x + e^-x) / 2)


def poisson(t, p, log_input=False):
    t, p = _f(t, p)
    if log_input:  # p = z = log(mean): PyTorch's poisson_nll_loss(log_input=True, full=False)
        return np.exp(p) - t * p
    return p - t * np.log(p + EPS)


def half_squared_error(t, p):
    t, p = _f(t, p)
    return 0.5 * (p - t) ** 2


def smooth_l1(t, p, beta=1.0):
    t, p = _f(t, p)
    a = np.abs(p - t)
    if beta == 0:
        return a
    return np.where(a < beta, 0.5 * a * a / beta, a - 0.5 * beta)


def pinball(t, p, quantile=0.5, log_input=False):
    t, p = _f(t, p)
    if log_input:
        p = np.exp(p)
    r = t - p
    return np.where(r >= 0, quantile * r, (quantile - 1.0) * r)


def asymmetric_linear(t, p, overestimate_cost=1.0, underestimate_cost=1.0):
    t, p = _f(t, p)
    return np.where(p > t, overestimate_cost * (p - t), underestimate_cost * (t - p))


def gamma(t, p, log_input=False):
    # the Gamma negative log-likelihood up to terms free of the mean mu: t / mu + log mu
    t, p = _f(t, p)
    if log_input:  # p = z = log(mu)
        return t * np.exp(-p) + p
    return t / p + np.log(p)


def _power(x, e):
    # x**e for x >= 0 (0 and inf included); NaN for every x < 0, -inf too (where
    # np.power gives 0 or inf): a mean is never negative
    return np.exp(e * np.log(x))


def tweedie(t, p, power=1.5, log_input=False):
    # -t mu^(1-rho) / (1-rho) + mu^(2-rho) / (2-rho), the Tweedie negative
    # log-likelihood up to terms free of mu
    t, p = _f(t, p)
    one, two = 1.0 - power, 2.0 - power
    if log_input:  # p = z = log(mu)
        return -t * np.exp(one * p) / one + np.exp(two * p) / two
    return -t * _power(p, one) / one + _power(p, two) / two


def fair(t, p, c=1.0):
    # c^2 (u - log(1 + u)), u = |p - t| / c; below u = 1/16 from the Taylor series
    # sum_{k>=2} (-u)^k / k (the difference cancels there); inf at |p - t| = inf
    t, p = _f(t, p)
    u = np.abs(p - t) / c
    with np.errstate(invalid="ignore"):
        direct = u - np.log1p(u)
    us = np.minimum(u, 1.0 / 16)
    series = sum((-us) ** k / k for k in range(2, 22))
    value = np.where(u < 1.0 / 16, series, np.where(np.isinf(u), np.inf, direct))
    return c * c * value


def expectile(t, p, expectile=0.5):
    # |tau - 1[t < p]| (t - p)^2 (CatBoost's Expectile)
    t, p = _f(t, p)
    return np.where(t < p, 1.0 - expectile, expectile) * (t - p) ** 2


def _smooth_binary(t, ls):
    return t * (1.0 - ls) + 0.5 * ls


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow for any z


def binary_crossentropy(t, p, from_logits=False, label_smoothing=0.0):
    t, p = _f(t, p)
    t = _smooth_binary(t, label_smoothing)
    if from_logits:
        return np.logaddexp(0.0, p) - t * p  # log(1 + e^z) - t z
    pc = np.clip(p, EPS, 1.0 - EPS)
    return -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))


def binary_focal_crossentropy(t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0):
    t, p = _f(t, p)
    t = _smooth_binary(t, label_smoothing)
    if from_logits:
        p = _sigmoid(p)
    pc = np.clip(p, EPS, 1.0 - EPS)
    bce = -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
    p_t = t * p + (1.0 - t) * (1.0 - p)
    out = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        out = (t * alpha + (1.0 - t) * (1.0 - alpha)) * out
    return out


def _hinge_labels(t):
    t = np.asarray(t, dtype=np.float64)
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def hinge(t, p):
    y, p = _hinge_labels(t), _f(p)[0]
    return np.maximum(1.0 - y * p, 0.0)


def squared_hinge(t, p):
    y, p = _hinge_labels(t), _f(p)[0]
    return np.maximum(1.0 - y * p, 0.0) ** 2


def exponential(t, p):
    y, p = _hinge_labels(t), _f(p)[0]
    return np.exp(-y * p)


def zero_one(t, p, threshold=0.5):
    t, p = _f(t, p)
    return ((p > threshold).astype(np.float64) != t).astype(np.float64)


# --- Keras 3's reduction (keras/src/losses/loss.py), in float64 -------------


def _same_rank(x1, x2):
    """squeeze_or_expand_to_same_rank."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = x2[:, None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = x1[:, None]
        else:
            x2 = x2[..., 0]
    return x1, x2


# PyTorch's and optax's margin losses: each element is its own sample.

def soft_margin(t, p):
    t, p = _f(t, p)
    return np.logaddexp(0.0, -t * p)


def hinge_embedding(t, p, margin=1.0):
    t, p = _f(t, p)
    value = np.where(t != 1, np.maximum(margin - p, 0.0), 0.0) + np.where(t != -1, p, 0.0)
    return np.where(np.isnan(t), np.nan, value)


def perceptron(t, p):
    t, p = _f(t, p)
    return np.maximum(-t * p, 0.0)


def sparsemax(t, p):
    t, p = _f(t, p)
    x = np.where(t != 0, -p, p)
    with np.errstate(invalid="ignore"):
        value = np.where(x <= -1, 0.0, np.where(x < 1, (x + 1) ** 2 / 4, x))
    return np.where(np.isnan(t) | np.isnan(x), np.nan, value)


def keras_reduce(per_element, axis=-1, sample_weight=None, reduction="sum_over_batch_size"):
    """Per-element values -> Keras's loss value: mean over `axis`, times the
    weights (after rank alignment and broadcasting), then reduced."""
    per_element = np.asarray(per_element, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # the mean of an empty axis is NaN, silently
        values = np.sum(per_element, axis=axis) / per_element.shape[axis]
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        values, sw = _same_rank(values, sw)
        values = values * sw
    if values.size == 0 and reduction not in (None, "none"):
        return 0.0  # an empty batch (no samples) reduces to 0 (Keras's divide_no_nan);
        # samples without elements are NaN, and so is their reduction, as in Keras
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    total = np.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sw is not None:
        divisor = np.sum(sw)
    else:
        divisor = float(np.prod(values.shape))
    return 0.0 if divisor == 0 else total / divisor


def per_element_reduce(per_element, sample_weight=None, reduction="sum_over_batch_size"):
    """keras_reduce for a loss whose samples are its elements (PyTorch's
    elementwise losses): no mean over an axis; weights of lower rank weigh the
    leading axes (a (N,) weight weighs the rows of (N, D) inputs)."""
    from support import keras_reduce as reduce_samples

    values = np.asarray(per_element, dtype=np.float64)
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        if 0 < sw.ndim < values.ndim:
            sw = sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    return reduce_samples(values, sw, reduction)


# --- scikit-learn's SGD losses and CatBoost's Lq ---------------------------------------


def modified_huber(t, p):
    y, p = _hinge_labels(t), _f(p)[0]
    z = y * p
    return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, (1.0 - z) ** 2, -4.0 * z))


def epsilon_insensitive(t, p, epsilon=0.1):
    t, p = _f(t, p)
    return np.maximum(np.abs(p - t) - epsilon, 0.0)


def squared_epsilon_insensitive(t, p, epsilon=0.1):
    t, p = _f(t, p)
    return np.maximum(np.abs(p - t) - epsilon, 0.0) ** 2


def lq(t, p, q=2.0):
    t, p = _f(t, p)
    return np.abs(p - t) ** q


def crossentropy_lambda(t, z, w=None):
    """LightGBM's cross_entropy_lambda: the cross-entropy of t and
    p = 1 - exp(-w log(1 + e^z)), the weight w in the link."""
    t, z = _f(t, z)
    w = 1.0 if w is None else np.asarray(w, dtype=np.float64)
    h = np.logaddexp(0.0, z)
    p = -np.expm1(-w * h)
    return -t * np.log(p) + (1.0 - t) * w * h
# -- the declared multi-input losses (their per-element loss, float64) ----------------

def gaussian_nll(y, mean, var, full=False, eps=1e-6):
    """PyTorch's gaussian_nll_loss per element: 0.5 (log v + (mean - y)^2 / v)
    with v = max(var, eps), plus 0.5 log(2 pi) when full."""
    y, mean, var = _f(y, mean, var)
    v = np.maximum(var, eps)
    return 0.5 * (np.log(v) + (mean - y) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)


def rmse_with_uncertainty(y, mean, log_std):
    """CatBoost's RMSEWithUncertainty per object: -log N(y; mean, exp(2 log_std))."""
    y, m, s = _f(y, mean, log_std)
    return 0.5 * np.log(2 * np.pi) + s + 0.5 * (y - m) ** 2 * np.exp(-2 * s)


def _aft_law(distribution):
    """(pdf, cdf) of XGBoost's AFT noise distributions, from their definitions."""
    import math

    if distribution == "normal":
        erfc = np.vectorize(math.erfc, otypes=[np.float64])
        return (lambda z: np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi),
                lambda z: 0.5 * erfc(-z / math.sqrt(2)))
    if distribution == "logistic":
        return (lambda z: np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))) ** 2,
                lambda z: np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))),
                                   np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z)))))
    # the minimum extreme-value (Gumbel-min) law: F(z) = 1 - exp(-exp(z))
    return (lambda z: np.exp(z - np.exp(z)), lambda z: -np.expm1(-np.exp(z)))


def survival_aft(lower, upper, y_pred, distribution="normal", sigma=1.0):
    """XGBoost's accelerated-failure-time negative log-likelihood of a time in
    [lower, upper] (lower == upper: observed, the density of log time; upper
    inf: right-censored; lower 0: left-censored), y_pred the predicted log
    time, noise scale sigma; the likelihood floored at 1e-12 as XGBoost does."""
    lo, hi, p = _f(lower, upper, y_pred)
    pdf, cdf = _aft_law(distribution)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_lo = (np.log(lo) - p) / sigma
        z_hi = (np.log(hi) - p) / sigma
        density = pdf(z_lo) / (sigma * lo)
        mass = np.where(np.isinf(hi), 1.0, cdf(z_hi)) - np.where(lo <= 0, 0.0, cdf(z_lo))
    likelihood = np.where(lo == hi, density, mass)
    return -np.log(np.maximum(likelihood, 1e-12))


def draw_multi_input(info, shape, rng, dtype=np.float64):
    """The inputs of a declared multi-input loss (its declaration `info`), drawn
    where the declaration says they live."""
    out = []
    times = np.exp(rng.normal(0.0, 0.3, size=shape))
    kind = rng.integers(0, 4, size=shape)  # observed, right-, left-, interval-censored
    for spec in info["inputs"]:
        d = spec["draw"]
        if d == "real":
            a = rng.normal(0.0, 0.5, size=shape)
        elif d == "positive":
            a = rng.uniform(0.2, 2.0, size=shape)
        elif d == "lower_bound":
            a = np.where(kind == 2, 0.0, times)
        elif d == "upper_bound":
            a = np.select([kind == 0, kind == 1, kind == 2],
                          [times, np.inf, times], times * rng.uniform(1.5, 3.0, size=shape))
        else:  # pragma: no cover - a new draw must be added here
            raise AssertionError(f"unknown draw {d}")
        out.append(a.astype(dtype))
    return out
def linear_cross_entropy(labels, hidden, weight, bias=None, ignore_class=-100,
                         label_smoothing=0.0, class_weight=None):
    """Cross-entropy on a linear head from the full float64 logits z = h W^T + b:
    per-row losses (PyTorch's, class weights and smoothing included; 0 for an
    ignored row), each row's class weight w_y (0 when ignored), and dz, the
    derivative of each row's loss with respect to its logits (N, V)."""
    h = np.asarray(hidden, np.float64)
    w = np.asarray(weight, np.float64)
    z = h @ w.T
    if bias is not None:
        z = z + np.asarray(bias, np.float64)
    n, v = z.shape
    y = np.asarray(labels, np.int64)
    cw = np.ones(v) if class_weight is None else np.asarray(class_weight, np.float64)
    m = z.max(axis=1, keepdims=True) if v else np.zeros((n, 1))
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    logp = z - lse[:, None]
    valid = y != ignore_class
    safe = np.where(valid, y, 0)
    eps = label_smoothing
    per_row = -(1 - eps) * cw[safe] * logp[np.arange(n), safe] - eps / v * (logp * cw).sum(1)
    per_row = np.where(valid, per_row, 0.0)
    target = eps / v * np.broadcast_to(cw, (n, v)).copy()
    target[np.arange(n), safe] += (1 - eps) * cw[safe]
    dz = target.sum(1, keepdims=True) * np.exp(logp) - target
    dz[~valid] = 0.0
    return per_row, np.where(valid, cw[safe], 0.0), dz


def adaptive_log_softmax(labels, hidden, head_weight, head_bias, tail, cutoffs, n_classes,
                         coef=None):
    """Grave et al.'s adaptive softmax in float64 from its formula: the full
    (N, V) log-probabilities, the per-row negative log-likelihood of the labels
    and, for the row coefficients `coef` (d reduced / d row loss; ones when
    None), the gradients (d_hidden, d_head_weight, d_head_bias or None,
    [(d_proj_k, d_out_k), ...]) from softmax - one-hot on each level."""
    x = np.asarray(hidden, np.float64)
    w = np.asarray(head_weight, np.float64)
    y = np.asarray(labels, np.int64)
    n = x.shape[0]
    c = np.ones(n) if coef is None else np.asarray(coef, np.float64)
    bounds = [*cutoffs, n_classes]
    s = cutoffs[0]

    def log_softmax(z):
        m = z.max(axis=1, keepdims=True)
        return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))

    z = x @ w.T + (0.0 if head_bias is None else np.asarray(head_bias, np.float64))
    head = log_softmax(z)
    full = np.empty((n, n_classes))
    full[:, :s] = head[:, :s]
    cluster_lp = []
    for k, (proj, out) in enumerate(tail):
        p = x @ np.asarray(proj, np.float64).T
        lp = log_softmax(p @ np.asarray(out, np.float64).T)
        cluster_lp.append((p, lp))
        full[:, bounds[k]:bounds[k + 1]] = lp + head[:, s + k:s + k + 1]
    nll = -full[np.arange(n), y]
    # gradients: the head's target is the label or its cluster's entry
    k_of = np.searchsorted(np.asarray(cutoffs), y, side="right") - 1
    head_target = np.where(k_of < 0, y, s + k_of)
    g = np.exp(head)
    g[np.arange(n), head_target] -= 1.0
    g *= c[:, None]
    d_hidden = g @ w
    d_tail = []
    for k, (proj, out) in enumerate(tail):
        rows = k_of == k
        p, lp = cluster_lp[k]
        gc = np.exp(lp[rows])
        gc[np.arange(gc.shape[0]), y[rows] - bounds[k]] -= 1.0
        gc *= c[rows, None]
        dp = gc @ np.asarray(out, np.float64)
        d_tail.append((dp.T @ x[rows], gc.T @ p[rows]))
        d_hidden[rows] += dp @ np.asarray(proj, np.float64)
    grads = (d_hidden, g.T @ x, g.sum(0) if head_bias is not None else None, d_tail)
    return full, nll, grads
def multi_rmse_with_missing_values(t, p):
    """CatBoost's MultiRMSEWithMissingValues per element: (p - t)^2 / 2 where the
    target is present, 0 where it is NaN (missing)."""
    t, p = _f(t, p)
    t, p = np.broadcast_arrays(t, p)
    present = ~np.isnan(t)
    return np.where(present, 0.5 * (p - np.where(present, t, 0.0)) ** 2, 0.0)

"""Float64 NumPy reference of every class-axis loss, written from the formulas
(Keras 3's source for the Keras losses, PyTorch's documented cross_entropy for
class weights and label smoothing of class ids), independently of the C++
kernels and of fastloss's Python layer.

Each loss function returns the per-sample losses (the class axis reduced) as
float64; `reduce` turns them into what Keras's Loss.__call__ returns for
per-sample-shaped (or scalar) sample weights.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7  # keras.backend.epsilon()


def _f(*xs):
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _last(x, axis):
    return np.moveaxis(x, axis, -1)


def log_softmax(z):
    """Along the last axis, shifted by the maximum (finite for any finite row
    maximum; -inf entries stay -inf)."""
    m = np.max(z, axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def softmax(z):
    return np.exp(log_softmax(z))


def _xlogy_sum(a, logq):
    """Σ a log q over the last axis with 0 log 0 = 0 (masked classes)."""
    with np.errstate(invalid="ignore"):
        return np.sum(np.where(a != 0, a * logq, 0.0), axis=-1)


def _log_probs(p, from_logits):
    if from_logits:
        return log_softmax(p)
    q = p / np.sum(p, axis=-1, keepdims=True)
    return np.log(np.clip(q, EPS, 1 - EPS))


def categorical_crossentropy(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    C = p.shape[-1]
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / C
    return -_xlogy_sum(t, _log_probs(p, from_logits))


def sparse_targets(labels, C, class_weight=None, label_smoothing=0.0, ignore_class=None):
    """PyTorch's effective target weights for class ids:
    a_c = (1 - e) w_y [c == y] + (e / C) w_c; rows to ignore get a = 0."""
    labels = np.asarray(labels)
    valid = np.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    y = np.where(valid, labels, 0).astype(np.int64)
    w = np.ones(C) if class_weight is None else np.asarray(class_weight, np.float64)
    onehot = (np.arange(C) == y[..., None]).astype(np.float64)
    a = (1 - label_smoothing) * w[y][..., None] * onehot + label_smoothing / C * w
    return np.where(valid[..., None], a, 0.0), valid


def sparse_categorical_crossentropy(labels, p, from_logits=False, ignore_class=None, axis=-1,
                                    class_weight=None, label_smoothing=0.0):
    (p,) = _f(p)
    p = _last(p, axis)
    a, valid = sparse_targets(labels, p.shape[-1], class_weight, label_smoothing, ignore_class)
    return np.where(valid, -_xlogy_sum(a, _log_probs(p, from_logits)), 0.0)


def categorical_focal_crossentropy(t, p, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    C = p.shape[-1]
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / C
    if from_logits:
        p = softmax(p)
    q = np.clip(p / np.sum(p, axis=-1, keepdims=True), EPS, 1 - EPS)
    alpha = np.asarray(alpha, np.float64)
    return np.sum(alpha * (1 - q) ** gamma * (-t * np.log(q)), axis=-1)


def kl_divergence(t, p, log_input=False, log_target=False, axis=-1):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    if log_input:
        # PyTorch's kl_div(input=p, target=t): nothing clipped, 0 log 0 = 0
        if log_target:  # a log-target of -inf is a zero probability: it contributes 0
            return np.sum(np.where(t == -np.inf, 0.0, np.exp(t) * (t - p)), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(t == 0, 0.0 * p, t * (np.log(t) - p))
        return np.sum(term, axis=-1)
    p = np.clip(p, EPS, 1)
    if log_target:
        return np.sum(np.exp(t) * (t - np.log(p)), axis=-1)
    t = np.clip(t, EPS, 1)
    return np.sum(t * np.log(t / p), axis=-1)


def categorical_hinge(t, p, axis=-1):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1 - t) * p, axis=-1)
    return np.maximum(neg - pos + 1, 0.0)


def cosine_similarity(t, p, axis=-1):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)

    def normalize(x):
        return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS)

    return -np.sum(normalize(t) * normalize(p), axis=-1)


def entropy(p, from_logits=False, axis=-1):
    (p,) = _f(p)
    p = _last(p, axis)
    if from_logits:
        return -_xlogy_sum(softmax(p), log_softmax(p))
    with np.errstate(divide="ignore"):
        return -_xlogy_sum(p, np.log(p))


def categorical_zero_one(t, p, axis=-1):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    return (np.argmax(p, axis=-1) != np.argmax(t, axis=-1)).astype(np.float64)


def sparse_categorical_zero_one(labels, p, ignore_class=None, axis=-1):
    (p,) = _f(p)
    p = _last(p, axis)
    labels = np.asarray(labels)
    valid = np.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    return np.where(valid, (np.argmax(p, axis=-1) != labels).astype(np.float64), 0.0)


def reduce(values, sample_weight=None, reduction="sum_over_batch_size", valid=None,
           label_weight=None):
    """Keras's reduction of per-sample losses with per-sample (or scalar)
    weights. `valid` marks the rows that count (Keras's mask from ignore_class):
    "sum_over_batch_size" divides by their number, "mean_with_sample_weight" by
    the sum of their weights. `label_weight` (class weight of each row's label)
    joins the latter: PyTorch's weighted mean."""
    values = np.asarray(values, np.float64)
    sw = np.ones(values.shape) if sample_weight is None else np.broadcast_to(
        np.asarray(sample_weight, np.float64), values.shape)
    weighted = values * sw
    if reduction in (None, "none"):
        return weighted
    if values.size == 0:
        return 0.0
    total = np.sum(weighted)
    if reduction == "sum":
        return total
    if reduction in ("sum_over_batch_size", "mean"):
        divisor = values.size if valid is None else np.count_nonzero(valid)
    elif valid is None and label_weight is None:  # mean_with_sample_weight, Keras's own rule:
        # the sum of the weights as given (a scalar weight is not broadcast first)
        divisor = values.size if sample_weight is None else np.sum(sample_weight)
    else:  # mean_with_sample_weight with a mask or class weights: weights broadcast first
        d = sw * (1.0 if label_weight is None else label_weight)
        if valid is not None:
            d = np.where(valid, d, 0.0)
        divisor = np.sum(d)
    return 0.0 if divisor == 0 else total / divisor


# Segmentation overlaps (Keras's Dice and Tversky, the soft Jaccard), over the
# class axis; their epsilon is Keras's 1e-7.

def _overlap_sums(t, p, axis):
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    return np.sum(t * p, axis=-1), np.sum(t, axis=-1), np.sum(p, axis=-1)


def dice(t, p, axis=-1):
    i, st, sp = _overlap_sums(t, p, axis)
    return 1 - 2 * i / (st + sp + EPS)


def tversky(t, p, alpha=0.5, beta=0.5, axis=-1):
    i, st, sp = _overlap_sums(t, p, axis)
    # Keras's code: alpha weighs sum t (1 - p), beta sum p (1 - t)
    return 1 - i / (i + alpha * (st - i) + beta * (sp - i) + EPS)


def jaccard(t, p, axis=-1):
    i, st, sp = _overlap_sums(t, p, axis)
    return 1 - i / (st + sp - i + EPS)


# --- multi-class margins, log-probabilities and probabilistic extras ----------------
# Written from PyTorch's documented formulas (nll_loss, multi_margin_loss,
# multilabel_margin_loss, multilabel_soft_margin_loss), optax's
# (multiclass_perceptron_loss, poly_loss_cross_entropy, multiclass_sparsemax_loss),
# Keras's categorical_generalized_cross_entropy and LightGBM's multiclassova.


def _label_rows(labels, p, axis):
    (p,) = _f(p)
    p = _last(p, axis)
    labels = np.asarray(labels)
    onehot = (np.arange(p.shape[-1]) == labels[..., None]).astype(np.float64)
    return labels, p, onehot


def _at_label(x, labels):
    """Each row's entry at its label (the others are not read: a NaN or an
    infinity elsewhere in the row does not reach a loss that only reads x_y)."""
    idx = np.clip(np.asarray(labels), 0, x.shape[-1] - 1)[..., None]
    return np.take_along_axis(x, idx, axis=-1)[..., 0]


def _weights_of(labels, C, class_weight):
    w = np.ones(C) if class_weight is None else np.asarray(class_weight, np.float64)
    return w[np.clip(labels, 0, C - 1)]


def nll_loss(labels, p, ignore_class=None, class_weight=None, axis=-1):
    labels, p, onehot = _label_rows(labels, p, axis)
    valid = np.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    wy = _weights_of(labels, p.shape[-1], class_weight)
    return np.where(valid, -wy * _at_label(p, labels), 0.0)


def multi_margin_loss(labels, scores, /, p=1.0, margin=1.0, class_weight=None, axis=-1):
    # positional-only inputs: the exponent is called p, as in PyTorch
    labels, x, onehot = _label_rows(labels, scores, axis)
    C = x.shape[-1]
    xy = _at_label(x, labels)[..., None]
    h = np.maximum(margin - xy + x, 0.0) ** p
    wy = _weights_of(labels, C, class_weight)
    return wy * np.sum(np.where(onehot == 1, 0.0, h), axis=-1) / C


def multilabel_margin_loss(t, p, axis=-1):
    t, x = _f(t, p)
    t, x = _last(t, axis), _last(x, axis)
    C = x.shape[-1]
    out = np.zeros(x.shape[:-1])
    for idx in np.ndindex(*x.shape[:-1]):
        row, ids = x[idx], []
        for v in t[idx]:
            if v < 0:
                break
            ids.append(int(v))
        others = [i for i in range(C) if i not in set(ids)]
        out[idx] = sum(max(0.0, 1.0 - (row[j] - row[i])) for j in ids for i in others) / C
    return out


def multilabel_soft_margin_loss(t, p, class_weight=None, axis=-1):
    t, x = _f(t, p)
    t, x = _last(np.broadcast_to(t, x.shape), axis), _last(x, axis)
    w = np.ones(x.shape[-1]) if class_weight is None else np.asarray(class_weight, np.float64)
    log_sig = -np.logaddexp(0.0, -x)  # log sigmoid(x)
    log_sig_neg = -np.logaddexp(0.0, x)  # log sigmoid(-x)
    return -np.mean(w * (t * log_sig + (1 - t) * log_sig_neg), axis=-1)


def multiclass_perceptron_loss(labels, p, axis=-1):
    labels, x, onehot = _label_rows(labels, p, axis)
    return np.max(x, axis=-1) - _at_label(x, labels)


def poly_loss_cross_entropy(t, p, epsilon=2.0, axis=-1):
    t, z = _f(t, p)
    t, z = _last(np.broadcast_to(t, z.shape), axis), _last(z, axis)
    ce = -_xlogy_sum(t, log_softmax(z))
    return ce + epsilon * np.sum(t * (1 - softmax(z)), axis=-1)


def sparsemax(x):
    """The Euclidean projection of each row (last axis) onto the simplex."""
    s = -np.sort(-x, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    cum = np.cumsum(s, axis=-1)
    support = np.sum(1 + k * s > cum, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cum, support - 1, axis=-1) - 1) / support
    return np.maximum(x - tau, 0.0)


def multiclass_sparsemax_loss(labels, p, axis=-1):
    # Martins and Astudillo's form: -x_y + (sum over the support of x_j^2 - tau^2) / 2 + 1/2
    labels, x, onehot = _label_rows(labels, p, axis)
    q = sparsemax(x)
    tau = np.max(x - q, axis=-1, where=q > 0, initial=-np.inf)
    sq = np.sum(np.where(q > 0, x**2 - tau[..., None] ** 2, 0.0), axis=-1)
    value = -_at_label(x, labels) + 0.5 * sq + 0.5
    # documented: a NaN or a +inf in a row makes its projection undefined: NaN
    return np.where(np.any(np.isnan(x) | (x == np.inf), axis=-1), np.nan, value)


def categorical_generalized_cross_entropy(labels, p, q=0.5, axis=-1):
    labels, x, onehot = _label_rows(labels, p, axis)
    py = _at_label(x, labels)
    return (1 - py**q) / q


def one_vs_all_crossentropy(labels, p, axis=-1):
    labels, z, onehot = _label_rows(labels, p, axis)
    return np.sum(np.logaddexp(0.0, z) - np.where(onehot == 1, z, 0.0), axis=-1)


# --- optax's multiclass hinge, generalized KL divergence and cosine distance


def multiclass_hinge_loss(labels, p, margin=1.0, axis=-1):
    """Crammer and Singer: max_c (x_c + margin [c != y]) - x_y."""
    labels, x, onehot = _label_rows(labels, p, axis)
    return np.max(x + margin * (1.0 - onehot), axis=-1) - _at_label(x, labels)


def generalized_kl_divergence(t, p, log_input=True, axis=-1):
    """sum t (log t - z) + exp(z) - t, z = y_pred (log_input) or log y_pred;
    a zero target's term is exp(z)."""
    t, y = _f(t, p)
    t, y = _last(np.broadcast_to(t, y.shape), axis), _last(y, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = y if log_input else np.log(y)
        q = np.exp(z) if log_input else y
        term = np.where(t == 0, q, t * (np.log(np.where(t == 0, 1.0, t)) - z) + q - t)
    return np.sum(term, axis=-1)


def cosine_distance(t, p, epsilon=0.0, axis=-1):
    """1 - cosine similarity, each squared norm floored at epsilon (optax)."""
    t, p = _f(t, p)
    t, p = _last(np.broadcast_to(t, p.shape), axis), _last(p, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        nt = np.sqrt(np.maximum(np.sum(t * t, axis=-1), epsilon))
        n_p = np.sqrt(np.maximum(np.sum(p * p, axis=-1), epsilon))
        return 1.0 - np.sum(t * p, axis=-1) / (nt * n_p)

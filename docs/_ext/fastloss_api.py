"""Sphinx extension: the API reference of fastloss, generated from its registry.

At ``builder-inited`` it writes ``api/`` (git-ignored) before Sphinx reads the
sources: one page per public loss class (its declaration's formula, gradient and
Hessian as LaTeX, parameters, domain, peers from the feature table of README.md,
a figure, the class's own docstring), one page per family listing them, and the
figures themselves (value, gradient and Hessian diagonal along one input,
drawn with fastloss). A loss added to the package gets its page on the next
build; the test ``tests/test_docs.py`` holds the pages equal to the registry.
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

# -- which classes are losses, and their families ------------------------------------


def _fl() -> Any:
    import fastloss

    return fastloss


#: Public classes that are bases or tools to build losses, not losses.
BASES = ("Loss", "MultiInputLoss", "ClassAxisLoss", "ElementwiseLoss", "CompositeLoss",
         "CompiledElementwiseLoss", "OneInputLoss", "Combinable")

#: Family slug -> (title, introduction). Unknown modules get a family of their own.
FAMILIES: dict[str, tuple[str, str]] = {
    "regression": ("Regression", "Elementwise losses of a real target ``t`` and a prediction "
                   "``p`` (``e = p - t``), averaged over the last axis into per-sample losses "
                   "as in Keras, and the boosting objectives of XGBoost, LightGBM and CatBoost."),
    "binary": ("Binary classification", "Elementwise losses of a 0/1 (or soft) target and a "
               "probability, or with ``from_logits=True`` a logit."),
    "margin": ("Margin losses", "Elementwise losses of a -1/+1 label ``t`` and a score ``p``; "
               "the margin is ``t p``."),
    "classaxis": ("Multi-class (class axis)", "Losses reduced over a class axis (the last by "
                  "default, any ``axis``): dense targets, or class ids for the sparse ones."),
    "segmentation": ("Segmentation overlaps", "Keras's overlap losses: ``axis`` is None (the "
                     "whole array is one sample), an axis or consecutive axes."),
    "models": ("GAN and style transfer", "The losses of the tutorials' models: Keras's "
               "cross-entropy terms of a GAN, Gatys et al.'s content and style losses, "
               "``tf.image.total_variation``. Inputs come targets first, trained inputs "
               "last; ``backward`` returns one gradient per trained input."),
    "likelihood": ("Likelihoods", "Negative log-likelihoods: PyTorch's Gaussian NLL, CatBoost's "
                   "RMSE with uncertainty, XGBoost's accelerated failure time model "
                   "(``survival:aft``) and Cox's partial likelihood (``survival:cox``)."),
    "linear_ce": ("Cross-entropy on a linear head", "The softmax cross-entropy of "
                  "``hidden @ weight.T + bias`` with its three gradients, computed in vocabulary "
                  "chunks so that the ``(N, V)`` logits never exist."),
    "adaptive": ("Adaptive softmax", "Grave et al.'s adaptive softmax (PyTorch's "
                 "``AdaptiveLogSoftmaxWithLoss``) as a function of its weight arrays: a head "
                 "over the shortlist and the clusters, a projected softmax per cluster."),
    "xentropy_lambda": ("Boosting objectives with a weighted link", "LightGBM's "
                        "``cross_entropy_lambda``, whose sample weight enters the link instead "
                        "of multiplying the loss."),
    "ranking": ("Ranking", "Losses over query groups: ``loss(relevance, scores, group=sizes)``."),
    "sequence": ("Sequences", "Connectionist temporal classification, called as PyTorch's "
                 "``ctc_loss``."),
    "embedding": ("Pairs, triplets and metric learning", "Losses of pairs and triplets of "
                  "embeddings and of a batch of labelled embeddings (targets first, one "
                  "gradient per trained input)."),
}
_MODULE_FAMILIES = {"_models": "models", "_likelihood": "likelihood", "_ranking": "ranking",
                    "_sequence": "sequence", "_embedding": "embedding",
                    "_linear_ce": "linear_ce", "_xentropy_lambda": "xentropy_lambda",
                    "_adaptive": "adaptive",
                    # the declared multi-input losses (GaussianNLL, SurvivalAft, ...)
                    "_multi_input": "likelihood"}
_DOMAIN_FAMILIES = {"real": "regression", "positive": "regression", "probability": "binary",
                    "binary": "binary", "binary_logits": "binary", "signed": "margin"}


@dataclass
class LossEntry:
    name: str
    cls: type
    family: str
    info: Optional[dict[str, Any]] = None  #: the C++ declaration, for declared losses
    kind: str = "model"  #: "elementwise", "classaxis" or "model"
    aliases: list[str] = field(default_factory=list)


def _module_family(cls: type) -> str:
    mod = inspect.getmodule(cls)
    short = (mod.__name__ if mod else "").rsplit(".", 1)[-1]
    for klass in cls.__mro__:  # a subclass defined elsewhere keeps its base's family
        home = getattr(inspect.getmodule(klass), "__name__", "").rsplit(".", 1)[-1]
        if home in _MODULE_FAMILIES:
            return _MODULE_FAMILIES[home]
    slug = short.strip("_") or "other"
    FAMILIES.setdefault(slug, (slug.replace("_", " ").capitalize(), ""))
    return slug


def losses() -> list[LossEntry]:
    """Every public loss class of ``fastloss.__all__``, with its family."""
    fl = _fl()
    from fastloss import _declared, _registry
    from fastloss._base import Combinable

    declared = {i["cls"]: i for i in _declared.DECLARED.values()}
    rows = {i["cls"]: i for i in _declared.DECLARED_ROWS.values()}
    names = _registry.names()
    out = []
    for name in sorted(set(fl.__all__)):
        cls = getattr(fl, name)
        if not (isinstance(cls, type) and issubclass(cls, Combinable)) or name in BASES:
            continue
        if cls.__name__ != name:  # a second name of a class: listed with it
            continue
        aliases = sorted(n for n in names if n != name and _registry._ALL_NAMES.get(n) is cls)
        if name in declared:
            info = declared[name]
            out.append(LossEntry(name, cls, _DOMAIN_FAMILIES.get(info["domain"], "regression"),
                                 info, "elementwise", aliases))
        elif name in rows or any(c.__name__ in rows for c in cls.__mro__[1:]):
            info = rows.get(name) or next(rows[c.__name__] for c in cls.__mro__[1:]
                                          if c.__name__ in rows)
            family = "segmentation" if info["axis"] == "axes" else "classaxis"
            out.append(LossEntry(name, cls, family, info, "classaxis", aliases))
        else:
            out.append(LossEntry(name, cls, _module_family(cls), None, "model", aliases))
    return out


# -- the declarations' plain-text math as LaTeX --------------------------------------

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "tau", "rho", "sigma", "lambda", "mu",
          "eta", "theta", "kappa", "nu", "xi", "pi", "phi", "psi", "omega", "zeta"}
_FUNCTIONS = {"log", "exp", "sqrt", "max", "min", "tanh", "cosh", "sinh", "sign", "clip",
              "softplus", "sigmoid", "softmax", "logsumexp", "argmax", "sparsemax", "bce",
              "sparse_plus", "sparse_sigmoid", "log1p", "abs", "expm1"}
_LATEX_FUNCTIONS = {"log": r"\log", "exp": r"\exp", "max": r"\max", "min": r"\min",
                    "tanh": r"\tanh", "cosh": r"\cosh", "sinh": r"\sinh"}
_TOKEN = re.compile(r"\*\*|!=|<=|>=|==|->|\+-|\d+(?:\.\d+)?(?:e-?\d+)?|[A-Za-z][A-Za-z0-9_']*"
                    r"|\s+|.", re.DOTALL)


def _text(word: str) -> str:
    return r"\text{" + word.replace("_", r"\_").replace("%", r"\%").replace("#", r"\#") + "}"


def _identifier(word: str) -> str:
    base, _, sub = word.partition("_")
    prime = ""
    while base.endswith("'"):
        base, prime = base[:-1], prime + "'"
    if word in _FUNCTIONS or base in _FUNCTIONS and not sub:
        return _LATEX_FUNCTIONS.get(word, r"\operatorname{" + word.replace("_", r"\_") + "}") \
            + prime
    if base == "sum" or base == "max" and sub:
        head = r"\sum" if base == "sum" else r"\max"
        return head + (f"_{{{_identifier(sub)}}}" if sub else "")
    if base in _GREEK:
        head = "\\" + base
    elif len(base) == 1:
        head = base
    elif len(base) == 2 and base not in {"if", "of", "or", "in", "at", "is", "to", "by", "be",
                                          "on", "as", "no", "it", "an"}:
        head = r"\mathit{" + base + "}"
    else:
        return _text(word)
    if sub:
        head += "_{" + (_identifier(sub) if len(sub) > 1 else sub) + "}"
    return head + prime


def _group(tokens: list[str], i: int, open_: str, close: str) -> tuple[list[str], int]:
    """The tokens of the balanced group starting at tokens[i] (an opening bracket)."""
    depth, j = 0, i
    while j < len(tokens):
        depth += tokens[j] == open_
        depth -= tokens[j] == close
        if depth == 0:
            return tokens[i:j + 1], j + 1
        j += 1
    return tokens[i:], len(tokens)


def _convert(tokens: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "**":
            i += 1
            if i < len(tokens) and tokens[i] == "(":
                inner, i = _group(tokens, i, "(", ")")
                exponent = _convert(inner[1:-1])
            elif i < len(tokens) and tokens[i] == "-":
                exponent = "-" + _convert([tokens[i + 1]])
                i += 2
            else:
                exponent = _convert([tokens[i]])
                i += 1
            out.append("^{" + exponent + "}")
            continue
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9_']*", tok):
            if tok.endswith("_") and i + 1 < len(tokens) and tokens[i + 1] == "{":
                inner, i = _group(tokens, i + 1, "{", "}")
                out.append(_identifier(tok[:-1]) + "_{" + _convert(inner[1:-1]) + "}")
                continue
            out.append(_identifier(tok))
        elif re.fullmatch(r"\d+(?:\.\d+)?e-?\d+", tok):
            mantissa, exponent = tok.split("e")
            out.append(("" if mantissa == "1" else mantissa + r" \cdot ") + "10^{"
                       + str(int(exponent)) + "}")
        elif tok.isspace():
            out.append(" ")
        else:
            out.append({"!=": r"\ne ", "<=": r"\le ", ">=": r"\ge ", "==": "=", "->": r"\to ",
                        "+-": r"\pm ", "*": r"\,", "{": r"\{", "}": r"\}", "#": r"\#",
                        "%": r"\%", "&": r"\&", "`": "", '"': "", "~": r"\sim ",
                        "$": r"\$", "\\": r"\backslash "}.get(tok, tok))
        i += 1
    text = "".join(out)
    # words of prose next to each other: one text run, spaces kept
    text = re.sub(r"\\text\{([^{}]*)\}(?:\s*(?:\\text\{([^{}]*)\}))+",
                  lambda m: _join_text(m.group(0)), text)
    text = re.sub(r"\\text\{([^{}]*)\}", r"\\text{ \1 }", text)
    # a comma or colon before prose is punctuation, not a separator of arguments
    text = re.sub(r"\s*([,:])\s*\\text\{", r"\1\\quad\\text{", text)
    text = re.sub(r"\\text\{ ([^{}]*) \}\s*:", r"\\text{ \1}\\colon ", text)
    text = re.sub(r"(\\text\{[^{}]*\})\s*([A-Za-z])\s*:", r"\1 \2\\colon ", text)
    return re.sub(r" {2,}", " ", text).strip()


def _join_text(run: str) -> str:
    words = re.findall(r"\\text\{([^{}]*)\}", run)
    return r"\text{" + " ".join(words) + "}"


def to_latex(plain: str) -> list[str]:
    """The declaration's plain-text formula as LaTeX, one equation per clause
    (the declarations separate clauses by ';')."""
    clauses = [c.strip() for c in re.split(r";\s+", plain.strip()) if c.strip()]
    eqs = []
    for clause in clauses:
        parts = [p.strip() for p in re.split(r",\s{2,}", clause)]  # "formula,  e = p - t"
        eqs.append(r",\quad ".join(_convert(_TOKEN.findall(p)) for p in parts))
    return eqs


# -- peers: the feature table of README.md ---------------------------------------------

def feature_table() -> tuple[list[str], list[list[str]]]:
    """The header and rows of README.md's table "Every loss beside its peers"."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Every loss beside its peers", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    def cells(line: str) -> list[str]:
        return [c.strip() for c in line.strip().strip("|").split("|")]
    return cells(lines[0]), [cells(ln) for ln in lines[2:]]


def peers_of(name: str) -> list[dict[str, str]]:
    header, rows = feature_table()
    found = []
    for row in rows:
        if re.search(r"`" + re.escape(name) + r"[`(]", row[0]):
            found.append({h: c for h, c in zip(header, row)})
    return found


# -- figures ----------------------------------------------------------------------------

@dataclass
class Probe:
    """How to draw a loss along one input: ``inputs(x)`` gives the call's arguments
    (and keyword arguments) at x; the curve is the loss with reduction "sum", the
    derivative along the element ``element`` of trained input ``slot``, and its
    Hessian diagonal there."""
    loss: Any
    inputs: Callable[[float], tuple[tuple[Any, ...], dict[str, Any]]]
    grid: np.ndarray
    xlabel: str
    slot: int = 0
    element: tuple[int, ...] = (0,)
    caption: str = ""


def _grid(lo: float, hi: float, n: int = 121) -> np.ndarray:
    return np.linspace(lo, hi, n)


def _elementwise_probe(entry: LossEntry) -> Probe:
    info = entry.info or {}
    domain = info.get("domain", "real")
    loss = entry.cls(reduction="sum")
    t, grid, what = {
        "real": (1.0, _grid(-2, 4), "p, with t = 1"),
        "positive": (1.0, _grid(0.05, 4), "p, with t = 1"),
        "probability": (1.0, _grid(0.01, 0.99), "p, with t = 1"),
        "binary": (1.0, _grid(0.0, 1.0), "p, with t = 1"),
        "binary_logits": (1.0, _grid(-3, 3), "p, with t = 1"),
        "signed": (1.0, _grid(-3, 3), "p, with t = +1"),
    }.get(domain, (1.0, _grid(-2, 4), "p, with t = 1"))
    return Probe(loss, lambda x: ((np.array([[t]]), np.array([[x]])), {}), grid, what,
                 element=(0, 0), caption=f"default parameters, y_true = {t:g}")


def _classaxis_probe(entry: LossEntry) -> Probe:
    info = entry.info or {}
    kwargs: dict[str, Any] = {"reduction": "sum"}
    if info.get("axis") == "axes":
        kwargs["axis"] = -1
    loss = entry.cls(**kwargs)
    c = 3
    if info["input"] == "labels":
        y_true: Any = np.array([0])
    elif info.get("targets") == "label_sets":
        y_true = np.array([[0, -1, -1]])
    else:
        y_true = np.eye(c)[:1]
    if info["domain"] == "probability":
        grid, what = _grid(0.01, 0.99), "p_0, with p = (p_0, (1 - p_0)/2, (1 - p_0)/2)"

        def row(x: float) -> np.ndarray:
            return np.array([[x, (1 - x) / 2, (1 - x) / 2]])
    else:
        grid, what = _grid(-4, 4), "x_0, with x = (x_0, 0, 0)"

        def row(x: float) -> np.ndarray:
            return np.array([[x, 0.0, 0.0]])
    target = "class 0" if info["input"] != "none" else "no target"
    if info["input"] == "none":
        return Probe(loss, lambda x: ((row(x),), {}), grid, what, element=(0, 0),
                     caption=f"3 classes, {target}")
    return Probe(loss, lambda x: ((y_true, row(x)), {}), grid, what, element=(0, 0),
                 caption=f"3 classes, target {target}")


def _model_probes(fl: Any) -> dict[str, Callable[[], Probe]]:
    """The multi-input and batch losses: how each is drawn."""
    rng = np.random.default_rng(0)
    style = rng.random((3, 3, 2))
    emb = np.array([[0.0, 1.0], [0.6, 0.8], [1.0, 0.0], [0.8, -0.6]])
    cox_t = np.array([1.0, 2.0, -3.0, 4.0])
    log_probs = np.log(np.full((4, 1, 3), 1 / 3))

    def with_first(a: np.ndarray, x: float, index: tuple[int, ...]) -> np.ndarray:
        b = a.copy()
        b[index] = x
        return b

    return {
        "GANDiscriminatorLoss": lambda: Probe(
            fl.GANDiscriminatorLoss(reduction="sum"),
            lambda x: ((np.array([[2.0]]), np.array([[x]])), {}), _grid(-4, 4),
            "D's logit of a generated sample (real logit 2)", slot=1, element=(0, 0)),
        "GANGeneratorLoss": lambda: Probe(
            fl.GANGeneratorLoss(reduction="sum"), lambda x: ((np.array([[x]]),), {}),
            _grid(-4, 4), "D's logit of a generated sample", element=(0, 0)),
        "ContentLoss": lambda: Probe(
            fl.ContentLoss(reduction="sum"),
            lambda x: ((style, with_first(style, x, (0, 0, 0))), {}), _grid(-2, 3),
            f"one generated feature (the content's is {style[0, 0, 0]:.2f})", element=(0, 0, 0)),
        "StyleLoss": lambda: Probe(
            fl.StyleLoss(reduction="sum"),
            lambda x: ((style, with_first(style, x, (0, 0, 0))), {}), _grid(-2, 3),
            f"one generated feature (the style image's is {style[0, 0, 0]:.2f})",
            element=(0, 0, 0)),
        "TotalVariation": lambda: Probe(
            fl.TotalVariation(reduction="sum"),
            lambda x: ((with_first(np.zeros((3, 3, 1)), x, (1, 1, 0)),), {}), _grid(-2, 2),
            "the centre pixel of a 3 x 3 image of zeros", element=(1, 1, 0)),
        "GaussianNLL": lambda: Probe(
            fl.GaussianNLL(reduction="sum"),
            lambda x: ((np.array([[1.0]]), np.array([[0.0]]), np.array([[x]])), {}),
            _grid(0.05, 4), "the variance, with y_true = 1 and mean 0", slot=1, element=(0, 0)),
        "CoxPH": lambda: Probe(
            fl.CoxPH(reduction="sum"),
            lambda x: ((cox_t, with_first(np.zeros(4), x, (0,))), {}), _grid(-3, 3),
            "the first sample's score (times 1, 2, 3 censored, 4)", element=(0,)),
        "MultiQuantile": lambda: Probe(
            fl.MultiQuantile([0.1, 0.5, 0.9], reduction="sum"),
            lambda x: ((np.array([1.0]), np.array([[x, 1.0, 1.0]])), {}), _grid(-2, 4),
            "the 0.1-quantile column, with y_true = 1 (the other columns at 1)",
            element=(0, 0)),
        "PairwiseLogistic": lambda: Probe(
            fl.PairwiseLogistic(reduction="sum"),
            lambda x: ((np.array([2.0, 1.0, 0.0]), np.array([x, 0.0, 0.5])),
                       {"group": [3]}), _grid(-3, 3),
            "the score of the most relevant of 3 documents", element=(0,)),
        "SoftmaxListwise": lambda: Probe(
            fl.SoftmaxListwise(reduction="sum"),
            lambda x: ((np.array([2.0, 1.0, 0.0]), np.array([x, 0.0, 0.5])),
                       {"group": [3]}), _grid(-3, 3),
            "the score of the most relevant of 3 documents", element=(0,)),
        "LambdaRankNDCG": lambda: Probe(
            fl.LambdaRankNDCG(reduction="sum"),
            lambda x: ((np.array([2.0, 1.0, 0.0]), np.array([x, 0.0, 0.5])),
                       {"group": [3]}), _grid(-3, 3),
            "the score of the most relevant of 3 documents", element=(0,)),
        "CTC": lambda: Probe(
            fl.CTC(from_logits=True, reduction="sum"),
            lambda x: ((np.array([[1]]), with_first(log_probs, x, (0, 0, 1)),
                        np.array([4]), np.array([1])), {}), _grid(-4, 4),
            "the first frame's logit of the label (label [1], 4 frames, 3 classes)",
            element=(0, 0, 1)),
        "MarginRanking": lambda: Probe(
            fl.MarginRanking(reduction="sum"),
            lambda x: ((np.array([1.0]), np.array([x]), np.array([0.0])), {}), _grid(-3, 3),
            "x1, with x2 = 0 and y = 1", element=(0,)),
        "CosineEmbedding": lambda: Probe(
            fl.CosineEmbedding(margin=0.2, reduction="sum"),
            lambda x: ((np.array([-1.0]), np.array([[x, 1.0]]), np.array([[1.0, 0.0]])), {}),
            _grid(-3, 3), "x1 = (x, 1), with x2 = (1, 0), y = -1, margin 0.2", element=(0, 0)),
        "TripletMargin": lambda: Probe(
            fl.TripletMargin(reduction="sum"),
            lambda x: ((np.array([[x, 0.0]]), np.array([[1.0, 0.0]]),
                        np.array([[0.0, 1.0]])), {}), _grid(-2, 3),
            "the anchor (x, 0), positive (1, 0), negative (0, 1)", element=(0, 0)),
        "TripletMarginWithDistance": lambda: Probe(
            fl.TripletMarginWithDistance(distance="cosine", reduction="sum"),
            lambda x: ((np.array([[x, 1.0]]), np.array([[1.0, 0.0]]),
                        np.array([[0.0, 1.0]])), {}), _grid(-3, 3),
            "the anchor (x, 1), positive (1, 0), negative (0, 1), cosine distance",
            element=(0, 0)),
        "RMSEWithUncertainty": lambda: Probe(
            fl.RMSEWithUncertainty(reduction="sum"),
            lambda x: ((np.array([1.0]), np.array([0.0]), np.array([x])), {}), _grid(-2, 2),
            "the log standard deviation, with y_true = 1 and mean 0", slot=1, element=(0,)),
        "SurvivalAft": lambda: Probe(
            fl.SurvivalAft(reduction="sum"),
            lambda x: ((np.array([2.0]), np.array([2.0]), np.array([x])), {}), _grid(-2, 4),
            "the predicted log time of an observed time 2 (normal, sigma 1)", element=(0,)),
        "LinearCrossentropy": lambda: Probe(
            fl.LinearCrossentropy(reduction="sum"),
            lambda x: ((np.array([0]), np.array([[1.0, 0.5]]),
                        np.array([[x, 0.0], [0.0, 1.0], [1.0, -1.0]]), np.zeros(3)), {}),
            _grid(-3, 3), "weight[0, 0] of a 3-class head, hidden (1, 0.5), label 0",
            slot=1, element=(0, 0)),
        "AdaptiveLogSoftmax": lambda: Probe(
            fl.AdaptiveLogSoftmax(4, [2], div_value=2.0, reduction="sum"),
            lambda x: ((np.array([3]), np.array([[1.0, 0.5]]),
                        np.array([[x, 0.0], [0.0, 1.0], [1.0, -1.0]]),
                        [(np.array([[1.0, 0.0]]), np.array([[0.5], [-0.5]]))]), {}),
            _grid(-3, 3), "head_weight[0, 0] (shortlist class 0), hidden (1, 0.5), label 3 "
            "in the one cluster", slot=1, element=(0, 0)),
        "NTXent": lambda: Probe(
            fl.NTXent(temperature=0.5, reduction="sum"),
            lambda x: ((np.array([0, 0, 1, 1]), with_first(emb, x, (0, 0))), {}),
            _grid(-2, 2), "the first embedding's first coordinate (4 embeddings, 2 labels)",
            element=(0, 0)),
        "Circle": lambda: Probe(
            fl.Circle(reduction="sum"),
            lambda x: ((np.array([0, 0, 1, 1]), with_first(emb, x, (0, 0))), {}),
            _grid(-2, 2), "the first embedding's first coordinate (4 embeddings, 2 labels)",
            element=(0, 0)),
    }


def probe_for(entry: LossEntry) -> Optional[Probe]:
    if entry.kind == "elementwise":
        return _elementwise_probe(entry)
    if entry.kind == "classaxis":
        return _classaxis_probe(entry)
    make = _model_probes(_fl()).get(entry.name)
    if make is not None:
        return make()
    return _generic_probe(entry)


def _generic_probe(entry: LossEntry) -> Optional[Probe]:
    """A loss without a drawing of its own: the (y_true, y_pred) call of a
    class built with its defaults, if it takes one."""
    try:
        loss = entry.cls(reduction="sum")
        t = np.array([[1.0, 0.0, 0.0]])
        probe = Probe(loss, lambda x: ((t, np.array([[x, 0.0, 0.0]])), {}), _grid(-3, 3),
                      "y_pred[0], with y_true = (1, 0, 0)", element=(0, 0))
        curves(probe)
        return probe
    except Exception:  # noqa: BLE001 - no drawing; the page says so and the test fails
        return None


def curves(probe: Probe) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Value, derivative and Hessian diagonal along the probe's grid."""
    values, grads, hessians = [], [], []
    has_hessian = bool(getattr(probe.loss, "has_hessian", False))
    for x in probe.grid:
        args, kwargs = probe.inputs(float(x))
        value, grad = probe.loss.forward_backward(*args, **kwargs)
        grad = grad if isinstance(grad, tuple) else (grad,)
        values.append(float(value))
        grads.append(float(np.asarray(grad[probe.slot])[probe.element]))
        if has_hessian:
            _, hess = probe.loss.gradient_hessian(*args, **kwargs)
            hess = hess if isinstance(hess, tuple) else (hess,)
            hessians.append(float(np.asarray(hess[probe.slot])[probe.element]))
    return (np.array(values), np.array(grads),
            np.array(hessians) if has_hessian else None)


def broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y with a NaN inserted at each jump, so that a step is drawn as a
    step, not as a vertical line: a jump is a change between neighbours that is
    far larger than the typical (median) change beside it; a jump through a value
    at the kink itself (sign(0) = 0) is two such changes."""
    dy = np.abs(np.diff(y))
    finite = dy[np.isfinite(dy)]
    if finite.size == 0:
        return x, y
    scale = np.nanmax(np.abs(y[np.isfinite(y)])) if np.isfinite(y).any() else 1.0
    jumps = []
    for i, d in enumerate(dy):
        around = np.concatenate([dy[max(0, i - 3):i], dy[i + 1:i + 4]])
        around = around[np.isfinite(around)]
        base = float(np.median(around)) if around.size else 0.0  # a typical step
        if np.isfinite(d) and d > 1e-9 * max(scale, 1.0) and d > 20 * base + 1e-12 * scale:
            jumps.append(i + 1)
    return np.insert(x, jumps, np.nan), np.insert(y, jumps, np.nan)


def draw(probe: Probe, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    value, grad, hess = curves(probe)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 2.6), constrained_layout=True)
    for ax, y, label, colour in zip(axes, (value, grad, hess),
                                    ("value", "gradient", "Hessian (diagonal)"),
                                    ("C0", "C1", "C2")):
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if y is None:
            ax.text(0.5, 0.5, "not defined\n(gradient_hessian raises)", ha="center",
                    va="center", transform=ax.transAxes, fontsize=9, color="0.4")
            continue
        finite = y[np.isfinite(y)]
        if finite.size:
            lo, hi = np.percentile(finite, [1, 99])
            pad = 0.08 * (hi - lo) if hi > lo else 0.5
            ax.set_ylim(lo - pad, hi + pad)
        ax.plot(*broken(probe.grid, y), color=colour, lw=1.6)
    fig.suptitle(title, fontsize=10)
    fig.supxlabel(probe.xlabel, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


# -- docstrings as reST ---------------------------------------------------------------

_LITERAL = re.compile(r"(``.*?``|`[^`]*`_?|:[a-z:]+:`[^`]*`)")


def rst_safe_line(line: str) -> str:
    """A line of prose with its bars escaped: the docstrings write |x| for an
    absolute value, which reST reads as a substitution. Inline literals and
    roles are left as they are."""
    parts = _LITERAL.split(line)
    return "".join(part if i % 2 else part.replace("|", r"\|") for i, part in enumerate(parts))


def rst_safe(lines: list[str]) -> list[str]:
    """rst_safe_line over the lines outside literal blocks (the indented lines
    after a line ending in ``::``) and outside tables."""
    out, literal_indent = [], None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                out.append(line)
                continue
        if stripped.startswith(("+-", "+=", "|")) and stripped.endswith(("+", "|")):
            out.append(line)  # a grid table's line (or a line block)
        else:
            out.append(rst_safe_line(line))
        if stripped.endswith("::"):
            literal_indent = indent
    return out


def _process_docstring(app: Any, what: str, name: str, obj: Any, options: Any,
                       lines: list[str]) -> None:
    lines[:] = rst_safe(lines)


def _prose(text: str) -> str:
    """Declaration text (one paragraph) as safe reST."""
    return rst_safe_line(" ".join(text.split()))


def _summary(cls: type, info: Optional[dict[str, Any]]) -> str:
    """The first paragraph of the loss's summary, as one line ending in a full stop."""
    own = cls.__dict__.get("__doc__") or inspect.getdoc(cls) or ""
    text = info["summary"] if info else inspect.cleandoc(own).split("\n\n")[0]
    text = " ".join(text.split())
    if text.endswith("::"):
        text = text[:-2].rstrip() + ":"
    return rst_safe_line(text)


# -- the pages ----------------------------------------------------------------------------

def _rst_escape_cell(text: str) -> str:
    return text.replace("|", r"\|")


def _md_cell_to_rst(cell: str) -> str:
    """A feature-table cell (markdown: `code`, plain text) as reST."""
    return re.sub(r"`([^`]+)`", r"``\1``", cell).replace("*", r"\*")


def loss_page(entry: LossEntry, figure: Optional[str]) -> str:
    cls, info = entry.cls, entry.info
    title = entry.name
    lines = [f".. _loss-{entry.name}:", "", title, "=" * len(title), "",
             ".. currentmodule:: fastloss", ""]
    lines += [_summary(cls, info), ""]
    call = ("loss(y_pred)" if info and info.get("input") == "none" else "loss(y_true, y_pred)"
            if entry.kind != "model" else None)
    names = [f"``fl.{entry.name}``"]
    if info and info.get("function"):
        names.append(f"``fl.{info['function']}(...)`` (per-sample losses)")
    if entry.aliases:
        names.append("``fl.get`` names: " + ", ".join(f"``{a!r}``" for a in entry.aliases))
    lines += [":Names: " + "; ".join(names)]
    if call:
        lines += [f":Call: ``{call}``"]
    elif isinstance(getattr(cls, "_inputs", None), tuple) and cls._inputs:
        public = getattr(cls, "_public", cls._inputs)
        lines += [f":Call: ``loss({', '.join(public)})``"]
    has_h = bool(getattr(cls, "has_hessian", False))
    lines += [f":Hessian: {'yes' if has_h else 'no'} (``{entry.name}.has_hessian`` is "
              f"``{has_h}``)"]
    if info:
        lines += [f":Domain of y_pred: {info['domain'].replace('_', ' ')}"]
        if info.get("kink") and info["kink"] != "none":
            lines += [f":Kinks: {info['kink'].replace('_', ' ')}"]
    lines.append("")
    if info:
        for head, key in (("Value", "formula"), ("Gradient with respect to y_pred", "gradient"),
                          ("Hessian diagonal", "hessian")):
            lines += [head, "-" * len(head), ""]
            text = info[key]
            if not text:
                reason = info.get("no_hessian") or "not defined"
                lines += [f"None: {_prose(reason)}", ""]
                continue
            for eq in to_latex(text):
                lines += [".. math::", "", "   " + eq, ""]
            lines += ["As written in the declaration: ``" + text.replace("``", "\"") + "``", ""]
        from fastloss import _declared

        params = (_declared.parameters(info) if entry.kind == "elementwise"
                  else _declared.row_parameters(info))
        if params:
            lines += ["Parameters", "----------", "", ".. list-table::", "   :header-rows: 1",
                      "   :widths: 18 12 70", "", "   * - name", "     - default", "     - meaning"]
            for p in params:
                default = repr(p["default"])
                doc = _prose(p["doc"])
                if p.get("range") and p["type"] == "float":
                    doc += f" Must {p['range']}."
                lines += [f"   * - ``{p['name']}``", f"     - ``{default}``", f"     - {doc}"]
            lines.append("")
        if info.get("notes"):
            lines += ["Notes", "-----", "", _prose(info["notes"]), ""]
    peers = peers_of(entry.name)
    if peers:
        lines += ["Peers", "-----", "", "The same loss in the anchor libraries (the feature "
                  "table, :doc:`/feature-table`); the differences are in the notes above and "
                  "in :doc:`/semantics`.", "", ".. list-table::", "   :header-rows: 1", ""]
        keys = [k for k in peers[0] if k and not k.lower().startswith("fastloss")]
        lines += ["   * - " + _md_cell_to_rst(keys[0])] + [
            "     - " + _md_cell_to_rst(k) for k in keys[1:]]
        for row in peers:
            lines += ["   * - " + _md_cell_to_rst(row[keys[0]])] + [
                "     - " + _md_cell_to_rst(row[k]) for k in keys[1:]]
        lines.append("")
    lines += ["Figure", "------", ""]
    if figure:
        lines += [f".. image:: /{figure}", f"   :alt: {entry.name}: value, gradient and "
                  "Hessian", "", f"*{entry.name}*, by fastloss itself, along one input "
                  "(reduction \"sum\"): the value, the derivative from ``backward`` and the "
                  "Hessian diagonal from ``gradient_hessian``.", ""]
    else:
        lines += ["No figure: the documentation does not know how to call this loss yet "
                  "(add a ``Probe`` to ``docs/_ext/fastloss_api.py``).", ""]
    lines += ["Reference", "---------", "", f".. autoclass:: fastloss.{entry.name}",
              "   :members: forward, backward, forward_backward, gradient_hessian",
              "   :no-inherited-members:", ""]
    return "\n".join(lines)


def family_page(slug: str, entries: list[LossEntry]) -> str:
    title, intro = FAMILIES[slug]
    lines = [f".. _family-{slug}:", "", title, "=" * len(title), "", intro, "",
             ".. list-table::", "   :header-rows: 1", "   :widths: 30 55 15", "",
             "   * - loss", "     - summary", "     - Hessian"]
    for e in entries:
        lines += [f"   * - :doc:`{e.name} <losses/{e.name}>`",
                  f"     - {_summary(e.cls, e.info)}",
                  f"     - {'yes' if getattr(e.cls, 'has_hessian', False) else 'no'}"]
    lines += ["", ".. toctree::", "   :hidden:", ""]
    lines += [f"   losses/{e.name}" for e in entries]
    return "\n".join(lines) + "\n"


def index_page(families: dict[str, list[LossEntry]]) -> str:
    n = sum(len(v) for v in families.values())
    lines = ["API reference", "=============", "",
             f"{n} loss classes, generated from the package's registry at build time, one "
             "page each: the formula, the gradient and the Hessian, the parameters, the "
             "peers in Keras, PyTorch, optax, scikit-learn and the boosting libraries, and a "
             "figure.", "", ".. toctree::", "   :maxdepth: 1", ""]
    lines += [f"   {slug}" for slug in families]
    lines += ["   functions", ""]
    return "\n".join(lines)


FUNCTIONS_PAGE = """\
Functions and building blocks
=============================

.. currentmodule:: fastloss

Names and serialisation
-----------------------

.. autofunction:: fastloss.get
.. autofunction:: fastloss.names
.. autofunction:: fastloss.serialize
.. autofunction:: fastloss.deserialize

Threads and build
-----------------

.. autofunction:: fastloss.set_num_threads
.. autofunction:: fastloss.get_num_threads
.. autofunction:: fastloss.num_threads
.. autofunction:: fastloss.build_info

Gram matrices
-------------

.. autofunction:: fastloss.gram_matrix
.. autofunction:: fastloss.gram_matrix_backward

Your own losses and sums of losses
----------------------------------

.. autoclass:: fastloss.ElementwiseLoss
   :no-members:

.. autoclass:: fastloss.CompositeLoss
   :no-members:

Base classes
------------

.. autoclass:: fastloss.Loss
   :members: forward, backward, forward_backward, gradient_hessian

.. autoclass:: fastloss.MultiInputLoss
   :members: forward, backward, forward_backward, gradient_hessian

.. autoclass:: fastloss.ClassAxisLoss
   :no-members:
"""


def generate(out: Path, figures: bool = True) -> list[LossEntry]:
    """Writes the API pages (and figures) under ``out``; returns the losses."""
    entries = losses()
    families: dict[str, list[LossEntry]] = {}
    for slug in FAMILIES:  # the families' order as declared
        members = [e for e in entries if e.family == slug]
        if members:
            families[slug] = members
    (out / "losses").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for e in entries:
        figure = None
        probe = probe_for(e)
        if probe is not None:
            rel = f"api/figures/{e.name}.png"
            if figures:
                draw(probe, out / "figures" / f"{e.name}.png", f"{e.name}: {probe.caption}"
                     if probe.caption else e.name)
            figure = rel
        _write(out / "losses" / f"{e.name}.rst", loss_page(e, figure))
    for slug, members in families.items():
        _write(out / f"{slug}.rst", family_page(slug, members))
    _write(out / "index.rst", index_page(families))
    _write(out / "functions.rst", FUNCTIONS_PAGE)
    return entries


def _write(path: Path, text: str) -> None:
    """Writes only when the text changed (Sphinx then rebuilds only those)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _on_builder_inited(app: Any) -> None:
    generate(Path(app.srcdir) / "api")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"version": "1", "parallel_read_safe": True}


if __name__ == "__main__":  # python docs/_ext/fastloss_api.py OUTDIR: the pages alone
    generate(Path(sys.argv[1]), figures="--no-figures" not in sys.argv)

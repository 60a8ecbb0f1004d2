"""The declarations of the C++ core (losses/info.hpp) and what is made from them.

Every loss the registry knows must have its float64 reference and its test
case; every declared loss gets its class, names, function, stub entry, hand
values and parameter checks from its declaration alone, and these tests hold
each of those to the declaration."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

import fastloss as fl
from fastloss import _declared, _elementwise, _registry

import reference as ref
from cases import CASES, DOMAINS, declared_cases

DECLARED = list(_declared.DECLARED.values())
IDS = [info["cls"] for info in DECLARED]


def test_every_elementwise_loss_has_a_reference_and_a_case():
    elementwise = [c for c in _registry.CLASSES.values()
                   if issubclass(c, _elementwise.CompiledElementwiseLoss)]
    covered = {c.cls for c in CASES}
    missing = [c.__name__ for c in elementwise if c not in covered]
    assert not missing, f"no row in tests/cases.py for {missing}"
    for info in DECLARED:
        assert callable(getattr(ref, info["function"], None)), (
            f"{info['cls']} is declared but tests/reference.py has no float64 reference "
            f"named {info['function']}(t, p, ...)")


def test_the_elementwise_registry_is_declared_or_written_out():
    kernels = set(fl._core.ELEMENTWISE_KERNELS)
    declared = set(_declared.DECLARED)
    assert declared <= kernels
    assert declared, "no declared loss: the C++ structs' kInfo did not reach Python"


def _own_parameters(info):
    """The declared parameters with from_logits (or the flag of another declared
    name, log_input) where the declaration puts it."""
    own = [(p["name"], p["type"], p["default"]) for p in info["params"]]
    if info["from_logits"] is not None:
        own.insert(info["from_logits"]["position"], (info["from_logits"]["name"], "bool", 0.0))
    return own


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_class_follows_its_declaration(info):
    cls = getattr(fl, info["cls"])
    assert cls is _registry.CLASSES[info["cls"]]
    params = {p.name: p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]}
    own = _own_parameters(info)
    axis = {"none": [], "elementwise": [], "last": [], "before_reduction": ["axis"]}[info["axis"]]
    expected = [n for n, _, _ in own] + axis + ["reduction", "name"]
    expected += ["axis"] if info["axis"] == "last" else []
    assert list(params) == expected
    assert info["has_axis"] == (info["axis"] not in ("none", "elementwise"))
    # a per-element loss (PyTorch's elementwise reduction="none") has no axis
    assert cls._per_element == (info["axis"] == "elementwise")
    for name, kind, default in own:
        if kind == "bool":  # a flag: a bool default, kept as a bool
            assert params[name].default is bool(default)
            assert getattr(cls(), name) is bool(default)
            flipped = cls(**{name: not default})
            assert getattr(flipped, name) is (not default)
            assert flipped.get_config()[name] is (not default)
        else:
            assert type(params[name].default) is float and params[name].default == default
    loss = cls()
    assert loss.name == info["default_name"]
    assert loss.has_hessian == info["has_hessian"]
    assert info["summary"] in cls.__doc__ and info["formula"] in cls.__doc__
    for declared in info["params"]:
        assert declared["name"] in cls.__doc__
    if not info["has_hessian"]:
        with pytest.raises(NotImplementedError, match="no gradient_hessian"):
            loss.gradient_hessian(np.zeros(2), np.ones(2))


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_names_aliases_and_function(info):
    cls = getattr(fl, info["cls"])
    for name in [info["cls"], info["function"], *info["aliases"]]:
        assert name in fl.names()
        assert type(fl.get(name)) is cls
    fn = getattr(fl, info["function"])
    assert fn.__name__ == info["function"] and info["function"] in fl.__all__
    for alias in info["function_aliases"]:
        assert getattr(fl, alias) is fn and alias in fl.__all__
    t, p = np.array([[0.3, -1.0], [2.0, 0.5]]), np.array([[1.0, 0.0], [1.5, 0.25]])
    np.testing.assert_array_equal(fn(t, p), cls(reduction="none")(t, p))


#: every declaration with its hand values: each class's, and that of the struct it
#: evaluates with from_logits=True (log_input=True: the declared flag)
HANDS = [(info, {}) for info in DECLARED] + [
    (logits, {logits["from_logits"]["name"]: True}) for logits in _declared.LOGITS.values()]


@pytest.mark.parametrize("info,options", HANDS,
                         ids=[i["cls"] + ("-logits" if o else "") for i, o in HANDS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hand_values_of_the_declaration(info, options, dtype):
    assert info["hand"], f"{info['cls']}: declare values worked out by hand (losses/info.hpp)"
    t = np.array([[h[0]] for h in info["hand"]], dtype)
    p = np.array([[h[1]] for h in info["hand"]], dtype)
    want = np.array([h[2] for h in info["hand"]])
    got = getattr(fl, info["cls"])(**options, reduction="none")(t, p)
    if info["axis"] == "elementwise":  # each element its own sample: y_pred's shape
        got = got[:, 0]
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


#: values outside each range (the declaration's range text -> bad values)
OUTSIDE = {
    "not be NaN": [math.nan], "be finite": [math.inf, math.nan],
    "be > 0": [0.0, -1.0, math.nan], "be >= 0": [-1.0, math.nan],
    "be finite and > 0": [0.0, -1.0, math.inf, math.nan],
    "be finite and >= 0": [-1.0, math.inf, math.nan],
    "be in (0, 1)": [0.0, 1.0, -0.5, math.nan], "be in [0, 1]": [-0.1, 1.5, math.nan],
    "be in (1, 2)": [1.0, 2.0, 0.5, math.nan],
    "be finite and >= 1": [0.5, -1.0, math.inf, math.nan],
    "be a number": [],
    "be 0 or 1": [],  # a flag: Python keeps bool(value), so every value is one
}
BAD = [(info, p["name"], p["range"], bad) for info in DECLARED for p in info["params"]
       for bad in OUTSIDE[p["range"]]]


@pytest.mark.parametrize("info,param,rule,bad", BAD,
                         ids=[f"{i['cls']}-{n}={b}" for i, n, _, b in BAD])
def test_parameters_outside_the_declared_range_are_refused(info, param, rule, bad):
    with pytest.raises(ValueError, match=f"{info['cls']}: {param} must {rule}".replace(
            "(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        getattr(fl, info["cls"])(**{param: bad})


@pytest.mark.parametrize("info", DECLARED, ids=IDS)
def test_example_parameters_are_accepted_and_change_the_loss(info):
    if not info["params"]:
        pytest.skip("no parameters")
    cls = getattr(fl, info["cls"])
    example = cls(**{p["name"]: p["example"] for p in info["params"]})
    t, p = DOMAIN_SAMPLE(info)
    assert example.forward(t, p) != cls().forward(t, p)


def DOMAIN_SAMPLE(info):  # noqa: N802 - a table lookup
    return DOMAINS[info["domain"]](np.random.default_rng(5), (64, 3))


def test_each_logits_kernel_belongs_to_a_class_with_from_logits():
    with_flag = {info["cls"] for info in DECLARED if info["from_logits"] is not None}
    assert set(_declared.LOGITS) == with_flag
    for cls_name, logits in _declared.LOGITS.items():
        assert logits["kernel"] in fl._core.ELEMENTWISE_KERNELS
        assert logits["kernel"] not in _declared.DECLARED  # no class of its own
        assert logits["domain"] == "logits"
        probability = next(i for k, i in _declared.DECLARED.items() if i["cls"] == cls_name)
        assert logits["params"] == probability["params"]
        cls = getattr(fl, cls_name)
        assert cls(**{logits["from_logits"]["name"]: True})._kernel_name == logits["kernel"]
        assert cls()._kernel_name != logits["kernel"]


GENERATED = declared_cases(skip_covered=False)


@pytest.mark.parametrize("case", GENERATED, ids=[c.id for c in GENERATED])
def test_rows_generated_from_every_declaration_match_the_reference(case):
    """The rows tests/cases.py would make from each declaration (most declared losses
    have rows of their own there), against the float64 reference on their domain."""
    t, p = case.domain(np.random.default_rng(11), (32, 3))
    got = case.make(reduction="none")(t, p)
    np.testing.assert_allclose(got, case.per_sample(case.ref(t, p)), rtol=1e-12, atol=1e-12)


def test_the_stub_is_what_the_declarations_give():
    stub = Path(_declared.__file__).with_suffix(".pyi")
    assert stub.read_text() == _declared.stub_text(), (
        "python/fastloss/_declared.pyi is out of date: regenerate it with "
        "_declared.write_stub('python/fastloss/_declared.pyi') (docs/adding-a-loss.md)")


# -- the class-axis losses ------------------------------------------------------------

ROWS = list(_declared.DECLARED_ROWS.values())
ROW_IDS = [info["cls"] for info in ROWS]


def test_every_classaxis_loss_is_declared_and_has_a_reference_and_a_case():
    import reference_classaxis as ref_ca
    import test_classaxis

    assert list(_declared.DECLARED_ROWS) == list(fl._core.CLASSAXIS_KERNELS)
    covered = {c.cls for c in test_classaxis.CASES}
    for info in ROWS:
        assert callable(getattr(ref_ca, info["function"], None)), (
            f"{info['cls']} is registered but tests/reference_classaxis.py has no float64 "
            f"reference named {info['function']}")
        assert getattr(fl, info["cls"]) in covered, (
            f"{info['cls']} is registered but tests/test_classaxis.py has no case for it")


def _expected_signature(info):
    """(name, kind) of the class's parameters as the declaration places them."""
    own = [(p["name"], "KEYWORD_ONLY" if p["keyword_only"] else "POSITIONAL_OR_KEYWORD")
           for p in info["params"]]
    positional = [n for n, k in own if k != "KEYWORD_ONLY"]
    keyword = [n for n, k in own if k == "KEYWORD_ONLY"]
    rest = {"before_reduction": ["axis", "reduction", "name"],
            "before_name": ["reduction", "axis", "name"],
            "last": ["reduction", "name", "axis"], "axes": ["reduction", "name", "axis"]}[
                info["axis"]]
    return ([(n, "POSITIONAL_OR_KEYWORD") for n in positional + rest]
            + [(n, "KEYWORD_ONLY") for n in keyword])


@pytest.mark.parametrize("info", ROWS, ids=ROW_IDS)
def test_classaxis_class_follows_its_declaration(info):
    cls = getattr(fl, info["cls"])
    assert cls is _registry.CLASSES[info["cls"]] and issubclass(cls, fl.ClassAxisLoss)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert [(p.name, p.kind.name) for p in params] == _expected_signature(info)
    defaults = {p.name: p.default for p in params}
    # Keras's segmentation losses reduce over every axis by default
    assert defaults["axis"] == (None if info["axis"] == "axes" else -1)
    assert defaults["reduction"] == "sum_over_batch_size"
    loss = cls()
    kept = {"bool": bool, "float": float, "float_or_per_class": float,
            "per_class": type(None), "ignored_label": type(None), "ignored_value": type(None)}
    for p in info["params"]:
        assert type(getattr(loss, p["name"])) is kept[p["type"]], p["name"]
        if p["type"] in ("bool", "float", "float_or_per_class"):
            assert defaults[p["name"]] == p["default"]
        else:
            assert defaults[p["name"]] is None
        assert f"{p['name']} : " in cls.__doc__ and p["doc"] in cls.__doc__
    assert loss.name == info["default_name"]
    assert loss.has_hessian == info["has_hessian"]
    assert loss._input == info["input"]
    assert info["summary"] in cls.__doc__ and info["formula"] in cls.__doc__
    assert info["notes"] in cls.__doc__
    if not info["has_hessian"]:
        assert info["no_hessian"], f"{info['cls']}: declare why there is no Hessian"
        with pytest.raises(NotImplementedError, match=re.escape(info["no_hessian"])):
            args = (np.ones((1, 2)),) if info["input"] == "none" else (np.eye(2), np.eye(2))
            loss.gradient_hessian(*args)


@pytest.mark.parametrize("info", ROWS, ids=ROW_IDS)
def test_classaxis_names_aliases_and_functions(info):
    cls = getattr(fl, info["cls"])
    for name in [info["cls"], info["function"], *info["aliases"]]:
        assert name in fl.names() and type(fl.get(name)) is cls
    fn = getattr(fl, info["function"])
    assert fn.__name__ == info["function"] and info["function"] in fl.__all__
    assert info["cls"] in fl.__all__
    for alias in info["function_aliases"]:
        assert getattr(fl, alias) is fn and alias in fl.__all__
    # the function takes the class's parameters but reduction and name, in its order
    want = [(n, k) for n, k in _expected_signature(info) if n not in ("reduction", "name")]
    params = list(inspect.signature(fn).parameters.values())
    inputs = ["y_pred"] if info["input"] == "none" else ["y_true", "y_pred"]
    assert [p.name for p in params[:len(inputs)]] == inputs
    assert [(p.name, p.kind.name) for p in params[len(inputs):]] == want
    if info["logits_function"]:
        logits = fl.get(info["logits_function"])
        assert type(logits) is cls and logits.from_logits is True
        assert getattr(fl, info["logits_function"]).__name__ == info["logits_function"]


ROW_BAD = [(info, p["name"], p["range"], bad) for info in ROWS for p in info["params"]
           if p["type"] == "float" for bad in OUTSIDE[p["range"]]]


@pytest.mark.parametrize("info,param,rule,bad", ROW_BAD,
                         ids=[f"{i['cls']}-{n}={b}" for i, n, _, b in ROW_BAD])
def test_classaxis_parameters_outside_the_declared_range_are_refused(info, param, rule, bad):
    with pytest.raises(ValueError, match=re.escape(f"{info['cls']}: {param} must {rule}")):
        getattr(fl, info["cls"])(**{param: bad})


@pytest.mark.parametrize("info", ROWS, ids=ROW_IDS)
def test_classaxis_example_parameters_are_accepted_and_change_the_loss(info):
    # per-class examples differ across the classes: equal class weights cancel in
    # PyTorch's weighted mean (NLL)
    examples = {p["name"]: (p["example"] if p["type"] != "per_class"
                            else [p["example"], 1.0, 1.0])
                for p in info["params"] if p["type"] != "ignored_label"}
    if not examples:
        pytest.skip("no parameters of the loss's value")
    cls = getattr(fl, info["cls"])
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 1.0, size=(16, 3))
    inputs = {"none": (p,), "labels": (rng.integers(0, 3, size=16), p),
              "dense": (rng.dirichlet(np.ones(3), size=16), p)}[info["input"]]
    for param in info["params"]:
        if param["type"] == "ignored_value":  # a target marked with the value to leave out
            inputs[0][0, 0] = param["example"]
    assert cls(**examples).forward(*inputs) != cls().forward(*inputs)


def _row_inputs(info, row, dtype):
    t, p, _ = row
    yp = np.array([p], dtype)
    if info["input"] == "none":
        return (yp,)
    if info["input"] == "labels":
        return np.array([int(t[0])]), yp
    return np.array([t], dtype), yp


@pytest.mark.parametrize("info", ROWS, ids=ROW_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classaxis_hand_rows_of_the_declaration(info, dtype):
    assert info["hand_rows"], f"{info['cls']}: declare rows worked out by hand (losses/info.hpp)"
    loss = getattr(fl, info["cls"])(reduction="none")
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    for row in info["hand_rows"]:
        got = loss(*_row_inputs(info, row, dtype))
        np.testing.assert_allclose(got, [row[2]], rtol=rtol, atol=rtol, err_msg=str(row))


@pytest.mark.parametrize("info", ROWS, ids=ROW_IDS)
def test_classaxis_hand_rows_match_the_reference(info):
    """The declared rows against the float64 reference too: the hand arithmetic,
    the reference and the kernel agree."""
    import reference_classaxis as ref_ca

    ref = getattr(ref_ca, info["function"])
    for row in info["hand_rows"]:
        got = ref(*_row_inputs(info, row, np.float64))
        np.testing.assert_allclose(got, [row[2]], rtol=1e-14, atol=1e-14, err_msg=str(row))


def _row_generated():
    from test_classaxis import declared_cases

    return declared_cases(skip_covered=False)


ROW_GENERATED = _row_generated()


@pytest.mark.parametrize("case", ROW_GENERATED, ids=[c.id for c in ROW_GENERATED])
def test_rows_generated_from_every_classaxis_declaration_match_the_reference(case):
    """The cases tests/test_classaxis.py would make from each class-axis declaration
    (every registered loss has cases of its own there today), against the reference."""
    t, p = case.domain(np.random.default_rng(11), (16, 4), -1)
    loss = case.make(4, reduction="none")
    got = loss(p) if case.kind == "none" else loss(t, p)
    np.testing.assert_allclose(got, case.ref(t, p), rtol=1e-12, atol=1e-12)

"""Atheris fuzz target for fastloss's Python API: bad input must raise a
clear exception, never crash.

Each input picks a loss class (every class of the registry) with fuzzed
constructor parameters, one of the four methods, arrays of fuzzed shape, dtype,
layout (steps, negative steps, transposes, broadcasts; carried through pickle,
with dtype metadata or in a memoryview) and values (NaN, inf, denormals, huge),
an optional sample_weight, grad_output and out=; one call in eight runs while
another thread rewrites its inputs in place. A call must
either return results of the right shape and dtype, or raise ValueError /
TypeError / NotImplementedError; it must never crash, hang, raise anything
else, or modify its inputs (out= aside). One input in five goes to the model
losses (GAN, content, style, total variation), weighted sums of losses and
user-defined ElementwiseLoss objects instead.

    pip install atheris
    python fuzz/fuzz_api.py -max_total_time=3600 fuzz/corpus   # an hour, keeps a corpus
    .ci/fuzz.sh                                                # the bounded CI run (~60 s)

A crash leaves crash-<hash> in the working directory; reproduce it with
``python fuzz/fuzz_api.py crash-<hash>`` and turn it into a test in
tests/test_robustness.py.
"""

from __future__ import annotations

import pickle
import sys
import threading
import warnings

import atheris

with atheris.instrument_imports():
    import numpy as np

    from fastloss import _registry

warnings.simplefilter("ignore")  # Keras's single-class SyntaxWarning, NumPy's overflow

CLASSES = [_registry.CLASSES[name] for name in sorted(_registry.CLASSES)]
METHODS = ["forward", "backward", "forward_backward", "gradient_hessian"]
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None,
              "avg", 3]
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int8, np.uint64, np.bool_,
          np.complex64, object, "U3", ">f4", ">f8"]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, np.nan, np.inf, -np.inf, 5e-324, 1e-310, 1e-45, 1e308,
           -1e308, 3.4e38, 1e4, -1e4, 1e-7, 1 - 1e-7, 2.0**63, -(2.0**63)]
PARAMS = [0.0, -1.0, 0.5, 1.0, 1.5, 2.0, np.nan, np.inf, 1e-300, "a", None, [0.2, 0.3, 0.5],
          [[1.0]], []]
ALLOWED = (ValueError, TypeError, NotImplementedError)


def pick(fdp, seq):
    return seq[fdp.ConsumeIntInRange(0, len(seq) - 1)]


def make_loss(fdp):
    cls = pick(fdp, CLASSES)
    kw = {"reduction": pick(fdp, REDUCTIONS)}
    for name in cls.__init__.__code__.co_varnames[1:cls.__init__.__code__.co_argcount]:
        if name in ("reduction", "name") or not fdp.ConsumeBool():
            continue
        if name == "axis":
            kw[name] = fdp.ConsumeIntInRange(-4, 3)
        elif name in ("from_logits", "apply_class_balancing", "saturating", "log_input"):
            kw[name] = fdp.ConsumeBool()
        elif name == "ignore_class":
            kw[name] = pick(fdp, [None, -1, 0, 2, 1.5])
        else:
            kw[name] = pick(fdp, PARAMS)
    if "class_weight" in cls.__init__.__code__.co_varnames and fdp.ConsumeBool():
        kw["class_weight"] = pick(fdp, PARAMS)
    return cls(**kw)


def make_array(fdp, shape, labels=False):
    n = int(np.prod(shape))
    if labels:
        vals = [fdp.ConsumeIntInRange(-3, 6) if fdp.ConsumeBool() else
                pick(fdp, [2**63 - 1, -(2**63), 1.5, np.nan]) for _ in range(n)]
        dtype = pick(fdp, [np.int64, np.int32, np.uint8, np.float64, object])
    else:
        vals = [pick(fdp, SPECIAL) if fdp.ConsumeIntInRange(0, 7) == 0 else
                fdp.ConsumeFloatInRange(-3.0, 3.0) for _ in range(n)]
        dtype = pick(fdp, DTYPES) if fdp.ConsumeIntInRange(0, 3) == 0 else \
            pick(fdp, [np.float32, np.float64])
    with np.errstate(all="ignore"):
        try:
            a = np.array(vals, dtype=object).astype(dtype).reshape(shape)
        except (ValueError, TypeError, OverflowError):
            a = np.zeros(shape, np.float64)
    return layout(fdp, a)


def layout(fdp, a):
    """The same values in another memory layout, or carried by another object:
    through pickle (a dtype equal to the builtin one, another object), with
    dtype metadata, inside a memoryview."""
    choice = fdp.ConsumeIntInRange(0, 8)
    if choice == 6:
        return pickle.loads(pickle.dumps(a))
    if choice == 7 and a.dtype.kind in "fiub" and a.dtype.isnative:
        return a.view(np.dtype(a.dtype.type, metadata={"unit": "m"}))
    if choice == 8 and a.ndim and a.dtype.kind in "fiub":
        return memoryview(a)
    if a.ndim == 0 or choice == 0:
        return a
    if choice == 1:  # stepped
        big = np.repeat(a, 2, axis=-1)
        return big[..., ::2]
    if choice == 2:  # negative steps
        return np.ascontiguousarray(a[..., ::-1])[..., ::-1]
    if choice == 3 and a.ndim >= 2:  # transposed memory
        return np.ascontiguousarray(a.T).T
    if choice == 4:  # read-only
        a = a.copy()
        a.flags.writeable = False
        return a
    return np.asfortranarray(a)


def shape_of(fdp, max_ndim=3):
    return tuple(fdp.ConsumeIntInRange(0, 4) for _ in range(fdp.ConsumeIntInRange(0, max_ndim)))


def same_contents(a, b) -> bool:
    """Bit for bit (NaN included); object arrays element by element, by identity."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "O":
        return all(x is y for x, y in zip(a.ravel(), b.ravel()))
    return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def make_model_loss(fdp):
    """A model loss, a weighted sum, or a user-defined elementwise loss."""
    import fastloss as fl

    red = pick(fdp, REDUCTIONS)
    c = fdp.ConsumeIntInRange(0, 9)
    if c == 0:
        return fl.GANDiscriminatorLoss(from_logits=fdp.ConsumeBool(), reduction=red)
    if c == 1:
        return fl.GANGeneratorLoss(from_logits=fdp.ConsumeBool(),
                                   saturating=fdp.ConsumeBool(), reduction=red)
    if c == 2:
        return fl.ContentLoss(reduction=red)
    if c == 3:
        return fl.StyleLoss(layer_weights=pick(fdp, [None, [1.0], [0.5, 0.5], "a", [np.nan]]),
                            reduction=red)
    if c == 4:
        return fl.TotalVariation(reduction=red)
    if c == 5:
        return pick(fdp, PARAMS) * fl.ContentLoss() + pick(fdp, PARAMS) * fl.StyleLoss()
    if c == 6:
        return 0.5 * make_loss(fdp) + pick(fdp, PARAMS) * make_loss(fdp)
    if c == 7:
        return fl.GaussianNLL(full=fdp.ConsumeBool(), eps=pick(fdp, [1e-6, *PARAMS]),
                              reduction=red)
    if c == 8:
        return fl.CoxPH(reduction=red)
    shape_ok = fdp.ConsumeBool()
    return fl.ElementwiseLoss(
        lambda t, p: (t - p) ** 2 if shape_ok else np.ones(3),
        lambda t, p: 2 * (p - t) if shape_ok else "x",
        hessian=(lambda t, p: 2.0) if fdp.ConsumeBool() else None, reduction=red)


def fuzz_model_loss(fdp) -> None:
    """Model losses and composites: any number of inputs of rank 2..4 (features,
    images, discriminator outputs); ValueError / TypeError / NotImplementedError
    or results; inputs never modified."""
    try:
        loss = make_model_loss(fdp)
    except ALLOWED:
        return
    n_in = fdp.ConsumeIntInRange(1, 4)
    shape = tuple(fdp.ConsumeIntInRange(0, 4) for _ in range(fdp.ConsumeIntInRange(1, 4)))
    inputs = [make_array(fdp, shape if fdp.ConsumeIntInRange(0, 3) else shape_of(fdp, 4))
              for _ in range(n_in)]
    if fdp.ConsumeIntInRange(0, 5) == 0:
        inputs[0] = [inputs[0], make_array(fdp, shape)]  # a list of layers
    before = [np.array(a, copy=True) for a in inputs if isinstance(a, np.ndarray)]
    sw = make_array(fdp, shape_of(fdp, 1)) if fdp.ConsumeIntInRange(0, 3) == 0 else None
    method = pick(fdp, METHODS)
    try:
        if method == "forward":
            loss(*inputs, sample_weight=sw)
        elif method == "gradient_hessian":
            loss.gradient_hessian(*inputs, sample_weight=sw)
        else:
            getattr(loss, method)(*inputs, sample_weight=sw,
                                  grad_output=pick(fdp, [1.0, 0.5, np.nan, "a"]))
    except ALLOWED:
        pass
    after = [a for a in inputs if isinstance(a, np.ndarray)]
    for b, a in zip(before, after):
        if not same_contents(a, b):
            raise AssertionError(f"an input was modified by {type(loss).__name__}.{method}")


class Rewriter:
    """A thread writing extreme values (huge and negative class ids, NaN, inf)
    into writable arrays, in place, until stopped."""

    VALUES = [2**62, -(2**62), -1, 10**6, np.nan, np.inf, -np.inf, 0]

    def __init__(self, arrays) -> None:
        self.arrays = [a for a in arrays if a.flags.writeable and a.size]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        k = 0
        while not self.done.is_set() and self.arrays:
            a = self.arrays[k % len(self.arrays)]
            v = self.VALUES[k % len(self.VALUES)]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    a.flat[k % a.size] = v if a.dtype.kind == "f" or isinstance(v, int) else 0
                except (ValueError, TypeError, OverflowError):
                    pass
            k += 1
            if k % 64 == 0:
                self.done.wait(1e-5)  # lets the GIL go

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    if fdp.ConsumeIntInRange(0, 4) == 0:
        fuzz_model_loss(fdp)
        return
    try:
        loss = make_loss(fdp)
    except ALLOWED:
        return
    kind = getattr(loss, "_input", "dense")
    p_shape = shape_of(fdp)
    p = make_array(fdp, p_shape)
    if kind == "labels":
        t = make_array(fdp, p_shape[:-1] if fdp.ConsumeBool() else shape_of(fdp), labels=True)
    elif kind == "dense":
        t_shape = p_shape if fdp.ConsumeIntInRange(0, 3) else shape_of(fdp)
        t = make_array(fdp, t_shape)
        if fdp.ConsumeIntInRange(0, 7) == 0 and isinstance(t, np.ndarray) and t.ndim:
            t = np.broadcast_to(t[..., :1], t.shape)
    else:
        t = None
    sw = make_array(fdp, shape_of(fdp, 2)) if fdp.ConsumeIntInRange(0, 2) == 0 else None
    go = make_array(fdp, shape_of(fdp, 2)) if fdp.ConsumeIntInRange(0, 3) == 0 else 1.0
    method = pick(fdp, METHODS)
    out = None
    if method in ("backward", "forward_backward"):
        c = fdp.ConsumeIntInRange(0, 5)
        if c == 1:
            out = p
        elif c == 2:
            out = np.empty(np.shape(p), np.float64 if fdp.ConsumeBool() else np.float32)
        elif c == 3:
            out = np.empty(shape_of(fdp))
        elif c == 4 and isinstance(t, np.ndarray):
            out = t
    before = [None if a is None else np.array(a, copy=True)
              for a in (t, p, sw, go if isinstance(go, np.ndarray) else None)]
    args = (p,) if kind == "none" else (t, p)
    # One input in eight: another thread rewrites the inputs (labels
    # included) while the call runs, as a data loader refilling a batch would.
    # Values may then be anything; the process must survive, and the call
    # return or raise an allowed error.
    rewriter = Rewriter([a for a in (t, p, sw) if isinstance(a, np.ndarray)]) \
        if fdp.ConsumeIntInRange(0, 7) == 0 else None
    try:
        if method == "forward":
            res = loss(*args, sw)
        elif method == "gradient_hessian":
            res = loss.gradient_hessian(*args, sw)
        else:
            res = getattr(loss, method)(*args, sw, grad_output=go, out=out)
    except ALLOWED:
        res = None
    finally:
        if rewriter is not None:
            rewriter.stop()
    if rewriter is not None:
        return
    # inputs untouched (y_pred may be the in-place out=)
    for name, b, a in zip(("y_true", "y_pred", "sample_weight", "grad_output"), before,
                          (t, p, sw, go)):
        if b is None or (name == "y_pred" and out is p and res is not None):
            continue
        if not same_contents(np.asarray(a), b):
            raise AssertionError(f"{name} was modified by {type(loss).__name__}.{method}")
    if res is None:
        return
    grads = []
    if method == "backward":
        grads = list(res) if isinstance(res, tuple) else [res]
    elif method == "forward_backward":
        grads = list(res[1]) if isinstance(res[1], tuple) else [res[1]]
    elif method == "gradient_hessian":
        grads = list(res)
    for g in grads:
        if g.shape != np.shape(p) or g.dtype not in (np.float32, np.float64):
            raise AssertionError(f"gradient of shape {g.shape} / dtype {g.dtype} for y_pred of "
                                 f"shape {np.shape(p)}")


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

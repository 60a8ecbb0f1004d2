"""Every loss on dask arrays, on a real local cluster of two
worker processes that these tests start: lazy results, the in-memory call's
values and gradients for uneven chunkings, both dtypes, every reduction and
NumPy or Dask weights; the class axis rechunked with a warning (or refused);
errors; one kernel pass per block for forward_backward; the workers' thread
counts; an array several times a worker's memory limit; a worker killed in the
middle of a computation."""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastloss as fl

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]
#: float64 agrees with the in-memory call to ~1e-12; float32 to its rounding.
RTOL = {np.float64: 1e-12, np.float32: 2e-6}
MEMORY_LIMIT = 400 * 2**20


@pytest.fixture(scope="module")
def client():
    # dashboard on a free port: another cluster on this machine may hold 8787
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", memory_limit=MEMORY_LIMIT,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _close(got, want, dtype, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    assert got.dtype == want.dtype, what
    scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-30)
    # elementwise relative for values; gradients relative to their largest element
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                               err_msg=what)


def _check_all(client, cases):
    """cases: (what, lazy, expected, dtype); computes every lazy result in one
    graph, on the cluster (the losses travel pickled) or, for the large grids
    of cases, whose semantics no scheduler changes, on the local threaded
    scheduler (client None), and compares."""
    for what, lazy, _, _ in cases:
        assert isinstance(lazy, da.Array), what
    lazies = [c[1] for c in cases]
    results = (client.compute(lazies, sync=True) if client is not None
               else dask.compute(*lazies, scheduler="threads"))
    for (what, _, want, dtype), got in zip(cases, results):
        _close(got, want, dtype, what)


def _calls(loss, yt, yp, sw, dyt, dyp, dsw, go, tag, dgo=None):
    """The four methods on NumPy and on Dask inputs, as comparison cases
    (`dgo`: grad_output as the Dask calls take it, when not `go`)."""
    dtype = yp.dtype.type
    hessians = loss.has_hessian and dgo is None  # (they take no grad_output)
    dgo = go if dgo is None else dgo
    cases = []
    v = loss(yt, yp, sw)
    cases.append((f"{tag} forward", loss(dyt, dyp, dsw), v, dtype))
    g = loss.backward(yt, yp, sw, grad_output=go)
    lazy_g = loss.backward(dyt, dyp, dsw, grad_output=dgo)
    assert lazy_g.chunks == dyp.chunks and lazy_g.dtype == yp.dtype, tag
    cases.append((f"{tag} backward", lazy_g, g, dtype))
    fv, fg = loss.forward_backward(dyt, dyp, dsw, grad_output=dgo)
    cases += [(f"{tag} fb value", fv, v, dtype), (f"{tag} fb grad", fg, g, dtype)]
    if hessians:
        gh, hh = loss.gradient_hessian(yt, yp, sw)
        lg, lh = loss.gradient_hessian(dyt, dyp, dsw)
        assert lg.chunks == dyp.chunks and lh.chunks == dyp.chunks, tag
        cases += [(f"{tag} gh grad", lg, gh, dtype), (f"{tag} gh hess", lh, hh, dtype)]
    return cases


def _go(reduction, shape, rng, dtype):
    if reduction == "none":
        return rng.normal(size=shape).astype(dtype)
    return 0.75


# ---------------------------------------------------------------------------
# The losses against the in-memory call

ELEMENTWISE = [
    lambda r: fl.MeanSquaredError(reduction=r),
    lambda r: fl.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, reduction=r),
    lambda r: fl.Huber(delta=0.5, reduction=r),
    lambda r: fl.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True,
                                         reduction=r),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_losses_match_numpy(dtype, reduction):
    rng = np.random.default_rng(1)
    cases = []
    # (shape, y_pred chunks): uneven 2-D, the mean axis split, 1-D (one sample
    # whose mean runs over every chunk)
    layouts = [((11, 6), (4, 6)), ((11, 6), ((3, 5, 3), (2, 4))), ((50,), (13,))]
    for make in ELEMENTWISE:
        loss = make(reduction)
        for shape, chunks in layouts:
            yp = rng.normal(size=shape).astype(dtype)
            yt = rng.random(shape).astype(dtype)
            dyp, dyt = da.from_array(yp, chunks=chunks), da.from_array(yt, chunks=7)
            weights = [(None, None)]
            if len(shape) == 2:
                sw = rng.random(shape[0]).astype(dtype)
                weights += [(sw, sw), (sw, da.from_array(sw, chunks=5))]
            else:  # per element: they broadcast the scalar per-sample value up
                sw = rng.random(shape).astype(dtype)
                weights += [(sw, da.from_array(sw, chunks=20))]
            for sw, dsw in weights:
                go = _go(reduction, np.shape(loss(yt, yp, sw)), rng, dtype)
                # grad_output lazy too: a 0-d dask array, or per sample with its own chunks
                dgo = da.from_array(np.asarray(go, dtype), chunks=4)
                tag = f"{loss!r} {shape} {chunks} w={sw is not None} {type(dsw).__name__}"
                cases += _calls(loss, yt, yp, sw, dyt, dyp, dsw, go, tag)
                cases += _calls(loss, yt, yp, sw, dyt, dyp, dsw, go, tag + " lazy go", dgo)
    _check_all(None, cases)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_axis_losses_match_numpy(dtype, reduction):
    rng = np.random.default_rng(2)
    n, c = 23, 5
    logits = rng.normal(size=(n, c)).astype(dtype)
    labels = rng.integers(0, c, size=n)
    labels[[1, 7, 8]] = 3  # some rows ignore_class leaves out
    probs = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    sw = rng.random(n).astype(dtype)
    dlogits = da.from_array(logits, chunks=(6, c))
    dprobs = da.from_array(probs, chunks=(9, c))
    dlabels = da.from_array(labels, chunks=4)
    losses = [
        (fl.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction),
         labels, logits, dlabels, dlogits),
        (fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3,
                                          reduction=reduction), labels, logits, labels, dlogits),
        (fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3,
                                          class_weight=[1, 2, 0.5, 3, 1], reduction=reduction),
         labels, logits, dlabels, dlogits),
        (fl.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction=reduction),
         probs, logits, dprobs, dlogits),
        (fl.CategoricalFocalCrossentropy(alpha=[0.1, 0.2, 0.3, 0.2, 0.2], reduction=reduction),
         probs, probs, dprobs, dprobs),
        (fl.KLDivergence(reduction=reduction), probs, probs[::-1].copy(), dprobs,
         da.from_array(probs[::-1].copy(), chunks=(5, c))),
    ]
    cases = []
    for loss, yt, yp, dyt, dyp in losses:
        for w, dw in [(None, None), (sw, sw), (sw, da.from_array(sw, chunks=10))]:
            go = _go(reduction, np.shape(loss(yt, yp, w)), rng, dtype)
            cases += _calls(loss, yt, yp, w, dyt, dyp, dw, go, f"{loss!r} w={w is not None}")
    # a middle class axis, and Entropy (y_pred alone)
    x = rng.normal(size=(4, c, 6)).astype(dtype)
    t = rng.normal(size=(4, c, 6)).astype(dtype)
    cos = fl.CosineSimilarity(axis=1, reduction=reduction)
    cases += _calls(cos, t, x, None, da.from_array(t, chunks=2), da.from_array(x, chunks=(3, c, 4)),
                    None, _go(reduction, (4, 6), rng, dtype), "cosine axis=1")
    ent = fl.Entropy(reduction=reduction)
    go = _go(reduction, (n,), rng, dtype)
    dp = da.from_array(probs, chunks=(7, c))
    cases.append(("entropy", ent(dp, sw), ent(probs, sw), dtype))
    (g,) = ent.backward(probs, sw, grad_output=go)
    cases.append(("entropy backward", ent.backward(dp, sw, grad_output=go)[0], g, dtype))
    _check_all(None, cases)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_family_matches_numpy_on_the_cluster(client, dtype):
    rng = np.random.default_rng(10)
    n, c = 17, 4
    logits = rng.normal(size=(n, c)).astype(dtype)
    labels = rng.integers(0, c, size=n)
    probs = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    sw = rng.random(n).astype(dtype)
    dsw = da.from_array(sw, chunks=6)
    dlogits = da.from_array(logits, chunks=(5, c))
    cases = []
    for loss, yt, yp, dyt, dyp in [
        (fl.LogCosh(reduction="mean_with_sample_weight"), probs, logits,
         da.from_array(probs, chunks=3), da.from_array(logits, chunks=(5, 3))),
        (fl.BinaryFocalCrossentropy(from_logits=True), probs, logits, probs, dlogits),
        (fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2,
                                          reduction="mean_with_sample_weight"),
         labels, logits, da.from_array(labels, chunks=4), dlogits),
        (fl.CategoricalFocalCrossentropy(from_logits=True), probs, logits, probs, dlogits),
    ]:
        cases += _calls(loss, yt, yp, sw, dyt, dyp, dsw, 0.5, repr(loss))
    _check_all(client, cases)


def test_model_losses_and_sums_match_numpy(client):
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    dreal, dfake = da.from_array(real, chunks=5), da.from_array(fake, chunks=(7, 2))
    sw = rng.random(12)
    cases = []
    disc = fl.GANDiscriminatorLoss()
    cases.append(("disc", disc(dreal, dfake, sample_weight=sw), disc(real, fake, sample_weight=sw),
                  np.float64))
    v, (gr, gf) = disc.forward_backward(real, fake, grad_output=0.5)
    lv, (lgr, lgf) = disc.forward_backward(dreal, dfake, grad_output=0.5)
    assert lgr.chunks == dreal.chunks and lgf.chunks == dfake.chunks
    cases += [("disc fb", lv, v, np.float64), ("disc gr", lgr, gr, np.float64),
              ("disc gf", lgf, gf, np.float64)]
    for saturating in (False, True):
        gen = fl.GANGeneratorLoss(saturating=saturating, reduction="sum")
        (g,) = gen.backward(fake)
        cases += [(f"gen {saturating}", gen(dfake), gen(fake), np.float64),
                  (f"gen grad {saturating}", gen.backward(dfake)[0], g, np.float64)]
        (gh,), (hh,) = gen.gradient_hessian(fake)
        (lgh,), (lhh,) = gen.gradient_hessian(dfake)
        cases += [("gen gh", lgh, gh, np.float64), ("gen hh", lhh, hh, np.float64)]
    content = fl.ContentLoss()
    p, f = rng.normal(size=(3, 4, 5, 2)), rng.normal(size=(3, 4, 5, 2))
    df = da.from_array(f, chunks=(2, 4, 5, 2))
    (g,) = content.backward(p, f, sample_weight=np.array([1.0, 2.0, 0.5]))
    lg = content.backward(p, df, sample_weight=np.array([1.0, 2.0, 0.5]))[0]
    assert lg.chunks == df.chunks
    cases += [("content", content(p, df), content(p, f), np.float64),
              ("content grad", lg, g, np.float64)]
    total = 0.7 * fl.MeanSquaredError() + 0.3 * fl.MeanAbsoluteError(reduction="sum")
    v, g = total.forward_backward(real, fake, sw)
    lv, lg = total.forward_backward(dreal, dfake, sw)
    cases += [("sum", lv, v, np.float64), ("sum grad", lg, g, np.float64)]
    _check_all(client, cases)
    with pytest.raises(NotImplementedError, match="does not take dask arrays"):
        fl.StyleLoss()(f, df)
    with pytest.raises(NotImplementedError, match="does not take dask arrays"):
        fl.TotalVariation()(df)
    # Cox's risk sets couple the whole batch: refused at the call, with why
    t = da.from_array(np.array([1.0, -2.0, 3.0, 4.0]), chunks=2)
    z = da.from_array(np.zeros(4), chunks=2)
    for method in ("forward", "backward", "gradient_hessian"):
        with pytest.raises(NotImplementedError, match="CoxPH does not take dask arrays: its risk"):
            getattr(fl.CoxPH(), method)(t, z)
    with pytest.raises(NotImplementedError, match="GaussianNLL does not take dask arrays"):
        fl.GaussianNLL()(t, z, z + 1)


# ---------------------------------------------------------------------------
# Laziness, one pass, the class axis, errors


def _refuse(*args, **kwargs):
    raise AssertionError("a dask graph was computed while the loss was only called")


def test_results_are_lazy_and_nothing_is_computed_on_call():
    rng = np.random.default_rng(4)
    yp = da.from_array(rng.normal(size=(20, 4)), chunks=6)
    w = da.from_array(rng.random(20), chunks=7)
    labels = da.from_array(rng.integers(0, 4, size=20), chunks=5)
    with dask.config.set(scheduler=_refuse):
        mse = fl.MeanSquaredError(reduction="mean_with_sample_weight")  # divisor from data
        v = mse(yp * 0.5, yp, w)
        g = mse.backward(0.0, yp, w)
        v2, g2 = mse.forward_backward(0.0, yp, w)
        sce = fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)
        v3, g3 = sce.forward_backward(labels, yp, w)
        gh = fl.Huber().gradient_hessian(0.0, yp)
        none = fl.Huber(reduction="none")(0.0, yp)
    for r in (v, g, v2, g2, v3, g3, *gh, none):
        assert isinstance(r, da.Array)
    assert v.shape == () and v.dtype == np.float64
    assert none.shape == (20,) and none.chunks == ((6, 6, 6, 2),)


def test_numpy_operands_are_embedded_once():
    rng = np.random.default_rng(11)
    dyp = da.from_array(rng.normal(size=(40, 4)), chunks=(6, 4))  # 7 blocks
    yt, row, sw = rng.normal(size=(40, 4)), rng.normal(size=4), rng.random(40)
    for y_true in (yt, row):  # the whole array, or a row broadcast to every sample
        v, g = fl.LogCosh(reduction="sum").forward_backward(y_true, dyp, sw)
        graph = {**dict(v.__dask_graph__()), **dict(g.__dask_graph__())}
        arrays = [x for x in graph.values() if isinstance(x, np.ndarray)]
        for operand in (y_true, sw):
            assert sum(np.may_share_memory(a, operand) or
                       (a.shape == operand.shape and np.array_equal(a, operand))
                       for a in arrays) == 1


def test_forward_backward_runs_one_kernel_pass_per_block():
    calls = {"value": 0, "gradient": 0}

    def value(t, p):
        calls["value"] += 1
        return (p - t) ** 2

    def gradient(t, p):
        calls["gradient"] += 1
        return 2 * (p - t)

    loss = fl.ElementwiseLoss(value, gradient)
    rng = np.random.default_rng(5)
    yp, yt = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    dyp = da.from_array(yp, chunks=(7, 3))  # 5 blocks
    v, g = loss.forward_backward(yt, dyp)
    assert calls == {"value": 0, "gradient": 0}
    got_v, got_g = dask.compute(v, g, scheduler="sync")
    assert calls == {"value": 5, "gradient": 5}
    want_v, want_g = loss.forward_backward(yt, yp)
    _close(got_v, want_v, np.float64, "value")
    _close(got_g, want_g, np.float64, "gradient")


def test_split_class_axis_is_rechunked_with_a_warning_or_refused():
    rng = np.random.default_rng(6)
    logits = rng.normal(size=(10, 6))
    labels = rng.integers(0, 6, size=10)
    dlogits = da.from_array(logits, chunks=(4, 4))
    loss = fl.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.warns(da.core.PerformanceWarning, match=r"axis 1 .*rechunked into one"):
        v, g = loss.forward_backward(labels, dlogits)
    assert g.chunks == dlogits.chunks  # y_pred's chunks, as given
    got_v, got_g = dask.compute(v, g, scheduler="sync")
    want_v, want_g = loss.forward_backward(labels, logits)
    _close(got_v, want_v, np.float64, "value")
    _close(got_g, want_g, np.float64, "gradient")
    with dask.config.set({"fastloss.allow_rechunk": False}):
        with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
            loss(labels, dlogits)
        loss(labels, dlogits.rechunk({1: -1}))  # one chunk: no warning, no error


def test_bad_input_gives_clear_errors():
    rng = np.random.default_rng(7)
    dyp = da.from_array(rng.normal(size=(10, 3)), chunks=4)
    mse = fl.MeanSquaredError()
    with pytest.raises(ValueError, match=r"y_true shape \(9, 3\) and y_pred shape \(10, 3\)"):
        mse(da.zeros((9, 3), chunks=4), dyp)
    with pytest.raises(ValueError, match="sample_weight of shape"):
        mse(0.0, dyp, da.ones(7, chunks=3))
    with pytest.raises(TypeError, match="out= is not supported with dask inputs"):
        mse.backward(0.0, dyp, out=np.empty((10, 3)))
    with pytest.raises(ValueError, match="grad_output must be a scalar"):
        mse.backward(0.0, dyp, grad_output=da.ones(10, chunks=5))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        mse(0.0, dyp[dyp[:, 0] > 0])
    labels = np.arange(10) % 3
    labels[6] = 5  # in the second block (rows 4..7), at row 6
    sce = fl.SparseCategoricalCrossentropy(from_logits=True)
    lazy = sce(da.from_array(labels, chunks=4), dyp)  # checked at compute time
    with pytest.raises(ValueError, match=r"label 5 at index 2 is outside \[0, 3\)"):
        lazy.compute(scheduler="sync")
    with pytest.raises(ValueError, match=r"label 5 at index 6 is outside \[0, 3\)"):
        sce(labels, np.asarray(dyp))  # the in-memory message, for comparison


def test_inputs_are_not_modified():
    rng = np.random.default_rng(8)
    yp, yt, sw = rng.normal(size=(9, 4)), rng.normal(size=(9, 4)), rng.random(9)
    copies = [a.copy() for a in (yp, yt, sw)]
    loss = fl.LogCosh(reduction="none")
    v, g = loss.forward_backward(yt, da.from_array(yp, chunks=4), sw,
                                 grad_output=np.ones(9))
    dask.compute(v, g, scheduler="sync")
    for a, b in zip((yp, yt, sw), copies):
        np.testing.assert_array_equal(a, b)


def test_import_does_not_import_dask():
    code = ("import sys, numpy, fastloss as fl; fl.MeanSquaredError()(numpy.ones(3), "
            "numpy.zeros(3)); print('dask' in sys.modules or 'dask.array' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "False", out.stderr


# ---------------------------------------------------------------------------
# The cluster: pickling, threads, memory, faults


def test_losses_pickle_to_equal_losses():
    for loss in (fl.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2),
                 fl.Huber(delta=0.3, reduction="sum"), fl.GANDiscriminatorLoss(),
                 0.5 * fl.MeanSquaredError() + fl.LogCosh()):
        again = pickle.loads(pickle.dumps(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_each_worker_uses_its_own_thread_count(client):
    client.run(fl.set_num_threads, 3)
    for k, address in enumerate(client.scheduler_info()["workers"]):
        x = np.arange(40.0).reshape(10, 4) + k  # a graph of its own for each worker
        fut = client.compute(fl.MeanSquaredError()(0.0, da.from_array(x, chunks=3)),
                             workers=[address])
        assert float(fut.result()) == pytest.approx(np.mean(x ** 2))
    assert set(client.run(fl.get_num_threads).values()) == {1}  # threads_per_worker=1


def _constant_blocks(block, block_info=None):
    k = block_info[None]["chunk-location"][0]
    return np.full(block.shape, float(k % 7), np.float32)


def test_an_array_several_times_a_workers_memory_is_streamed(client):
    n, chunk = 3 * MEMORY_LIMIT // 4, 2**22  # float32: 3 x the memory limit, 16 MiB blocks
    pids = client.run(os.getpid)
    y_pred = da.zeros(n, dtype=np.float32, chunks=chunk).map_blocks(_constant_blocks,
                                                                    dtype=np.float32)
    value = fl.MeanSquaredError()(np.float32(0), y_pred)
    sizes = np.diff(np.append(np.arange(0, n, chunk), n))
    want = np.sum(sizes * (np.arange(len(sizes)) % 7.0) ** 2) / n
    assert float(client.compute(value, sync=True)) == pytest.approx(want, rel=1e-6)
    assert client.run(os.getpid) == pids  # no worker was restarted


def _slow_blocks(block):
    time.sleep(0.05)
    return block + 1.0


def test_a_worker_killed_mid_computation_is_recovered(client):
    rng = np.random.default_rng(9)
    yp = rng.normal(size=(400, 8))
    y_pred = da.from_array(yp, chunks=(10, 8)).map_blocks(_slow_blocks)  # 40 slow blocks
    loss = fl.Huber(reduction="sum")
    want_v, want_g = loss.forward_backward(0.0, yp + 1.0)
    v, g = loss.forward_backward(0.0, y_pred)
    futures = client.compute([v, g])
    time.sleep(0.5)
    assert not all(f.done() for f in futures)  # killed mid-computation
    victim = next(iter(client.run(os.getpid).values()))
    os.kill(victim, signal.SIGKILL)
    got_v, got_g = client.gather(futures)
    _close(got_v, want_v, np.float64, "value")
    _close(got_g, want_g, np.float64, "gradient")
    client.wait_for_workers(2, timeout=60)

"""Two builds of fastloss side by side: same calls, same inputs, interleaved runs.

For a change to the kernels or the build that must not cost speed or change
results: unpack each build's wheel into its own folder (``unzip -d DIR
fastloss-*.whl``) and run

    python benchmarks/compare_builds.py OLD_DIR NEW_DIR [--rounds 7] [--threads 1 2]

Each case is timed in one child process per build and round (a fresh interpreter
imports fastloss from that folder); the builds alternate round by round, so load
from other processes falls on both alike. It prints the median time of each
build and new/old, and whether the two builds' outputs are bitwise equal.
Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

# name -> Python source of a case: defines `loss`, `args` (positional inputs), `method`
CASES: dict[str, str] = {
    "MSE 1e7 f32": "loss=fl.MeanSquaredError(); args=real(10**7, 'f4')",
    "Huber 1e7 f32": "loss=fl.Huber(); args=real(10**7, 'f4')",
    "BCE-logits 1e7 f32": "loss=fl.BinaryCrossentropy(from_logits=True); args=logit(10**7, 'f4')",
    "BCE-logits 1e7 f64": "loss=fl.BinaryCrossentropy(from_logits=True); args=logit(10**7, 'f8')",
    "LogCosh 1e7 f32": "loss=fl.LogCosh(); args=real(10**7, 'f4')",
    "Poisson 1e7 f32": "loss=fl.Poisson(); args=pos(10**7, 'f4')",
    "BinaryFocal 1e7 f32": "loss=fl.BinaryFocalCrossentropy(); args=prob(10**7, 'f4')",
    "BinaryFocal g=3 logits 1e6": "loss=fl.BinaryFocalCrossentropy(gamma=3.0, from_logits=True);"
                                  " args=logit(10**6, 'f4')",
    "BCE-logits forward 1e7": "loss=fl.BinaryCrossentropy(from_logits=True);"
                              " args=logit(10**7, 'f4'); method='forward'",
    "BCE-logits backward 1e7": "loss=fl.BinaryCrossentropy(from_logits=True);"
                               " args=logit(10**7, 'f4'); method='backward'",
    "BCE-logits grad_hess 1e7": "loss=fl.BinaryCrossentropy(from_logits=True);"
                                " args=logit(10**7, 'f4'); method='gradient_hessian'",
    "MSE strided 1e6": "loss=fl.MeanSquaredError(); t,p=real(2*10**6, 'f4');"
                       " args=(t[::2], p[::2])",
    "MSE (n,1) weighted 1e6": "loss=fl.MeanSquaredError(); t,p=real(10**6, 'f4');"
                              " args=(t.reshape(-1,1), p.reshape(-1,1),"
                              " np.linspace(0.5, 2, 10**6, dtype='f4'))",
    "MSE axis=0 1000x1000": "loss=fl.MeanSquaredError(axis=0); t,p=real(10**6, 'f4');"
                            " args=(t.reshape(1000,1000), p.reshape(1000,1000))",
    "MSE 64 f32": "loss=fl.MeanSquaredError(); args=real(64, 'f4')",
    "SparseCE 4096x1000": "loss=fl.SparseCategoricalCrossentropy(from_logits=True);"
                          " args=labels(4096, 1000)",
    "SparseCE 512x32000": "loss=fl.SparseCategoricalCrossentropy(from_logits=True);"
                          " args=labels(512, 32000)",
    "SparseCE 10^6x10": "loss=fl.SparseCategoricalCrossentropy(from_logits=True);"
                        " args=labels(10**6, 10)",
    "CCE 4096x1000 logits": "loss=fl.CategoricalCrossentropy(from_logits=True);"
                            " y,z=labels(4096, 1000); args=(np.eye(1000, dtype='f4')[y], z)",
    "SparseCE axis=1 (64,100,1000)": "loss=fl.SparseCategoricalCrossentropy(from_logits=True,"
                                     " axis=1); z=rng.normal(size=(64,100,1000)).astype('f4');"
                                     " args=(rng.integers(0,100,(64,1000)), z)",
    "SparseCE F-order 4096x1000": "loss=fl.SparseCategoricalCrossentropy(from_logits=True);"
                                  " y,z=labels(4096, 1000); args=(y, np.asfortranarray(z))",
}

CHILD = r"""
import sys, time, json, hashlib
sys.path.insert(0, sys.argv[1])
import numpy as np, fastloss as fl
fl.set_num_threads(int(sys.argv[2]))
rng = np.random.default_rng(7)
def real(n, d): return rng.normal(size=n).astype(d), rng.normal(size=n).astype(d)
def logit(n, d): return rng.uniform(size=n).astype(d), (3 * rng.normal(size=n)).astype(d)
def pos(n, d): return rng.uniform(0, 5, n).astype(d), rng.uniform(0.2, 5, n).astype(d)
def prob(n, d): return (rng.uniform(size=n) < .5).astype(d), rng.uniform(.02, .98, n).astype(d)
def labels(n, c): return rng.integers(0, c, n), rng.normal(size=(n, c)).astype('f4')
method = 'forward_backward'
exec(sys.argv[3])
f = getattr(loss, method)
out = f(*args)
digest = hashlib.sha256()
for x in (out if isinstance(out, tuple) else (out,)):
    digest.update(np.ascontiguousarray(np.asarray(x)).tobytes())
reps, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 0.05:
    f(*args); reps += 1
best = []
for _ in range(5):
    t0 = time.perf_counter()
    for _ in range(reps): f(*args)
    best.append((time.perf_counter() - t0) / reps)
print(json.dumps({"t": min(best), "digest": digest.hexdigest()}))
"""


def run(build: str, threads: int, case: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", CHILD, build, str(threads), case],
                         capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cases", nargs="*", default=None, help="names (default: all)")
    args = parser.parse_args()
    names = args.cases or list(CASES)
    print("| case | threads | old | new | new/old | same bits |\n|---|---|---|---|---|---|")
    for name in names:
        for threads in args.threads:
            times: dict[str, list[float]] = {"old": [], "new": []}
            digests: dict[str, set[str]] = {"old": set(), "new": set()}
            for r in range(args.rounds):
                order = ("old", "new") if r % 2 == 0 else ("new", "old")
                for which in order:
                    res = run(getattr(args, which), threads, CASES[name])
                    times[which].append(res["t"])
                    digests[which].add(res["digest"])
            old, new = statistics.median(times["old"]), statistics.median(times["new"])
            same = "yes" if digests["old"] == digests["new"] and len(digests["old"]) == 1 else "NO"
            print(f"| {name} | {threads} | {old * 1e6:.1f} µs | {new * 1e6:.1f} µs | "
                  f"{new / old:.2f} | {same} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark harness of issue #5: `python benchmarks/bench.py [--quick]`.

A thin launcher: the harness lives in `python/fastloss/_bench.py` (also run by
`python -m fastloss bench`). The source-tree copy next to this file is used when present,
so the launcher works before the package is reinstalled; results go to this directory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load_harness():  # noqa: ANN202
    src = HERE.parent / "python" / "fastloss" / "_bench.py"
    if src.is_file():
        spec = importlib.util.spec_from_file_location("fastloss_bench_src", src)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
        return module
    from fastloss import _bench

    return _bench


if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--out-dir" not in argv:
        argv += ["--out-dir", str(HERE)]
    sys.exit(_load_harness().main(argv))

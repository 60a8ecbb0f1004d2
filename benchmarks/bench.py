"""The benchmark harness, from a checkout: `python benchmarks/bench.py [--quick]`.

The entry point. The harness itself is harness.py and its NumPy baselines
numpy_baseline.py, both next to this file and neither part of the installed package: they
measure whichever fastloss `import fastloss` finds (the installed one, or the source tree's
with PYTHONPATH=python after an in-place build). RESULTS.md, results.json and
throughput.png are written next to this file unless --out-dir says otherwise;
`--help` lists the options.
"""

from __future__ import annotations

import sys
from pathlib import Path

# the harness's modules are siblings of this file (also when it is run from elsewhere)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import main  # noqa: E402

if __name__ == "__main__":
    rc = main()
    if rc == 0:  # then each instruction-set clone (FASTLOSS_ISA): a section and records
        from clones import append_to_report
        append_to_report(sys.argv[1:])
    sys.exit(rc)

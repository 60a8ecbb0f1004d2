"""Finds baseline code called from inside the AVX-512 kernel clones.

The dispatched tile functions are compiled per instruction set with every call
inlined (`flatten`); a function GCC nevertheless leaves outlined is compiled
once, for baseline x86-64, so the clone calls SSE2 code (and, on an FMA
machine, a libm `fmaf` per polynomial step). This lists such calls. It needs
binutils' objdump and the unstripped module of the build tree:

    python benchmarks/check_clones.py build/cp311-cp311-linux_x86_64/_core*.so

Exit status 1 when a clone calls an outlined fastloss function.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys

CLONE = "[clone .arch_x86_64_v4]"


def outlined_calls(module: str) -> tuple[int, collections.Counter[str]]:
    """(number of AVX-512 clones, calls from them to non-clone fastloss functions)."""
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", module],
                         capture_output=True, text=True, check=True).stdout
    func, in_clone, clones = "", False, 0
    found: collections.Counter[str] = collections.Counter()
    for line in dis.splitlines():
        if line.endswith(">:") and line[:1] in "0123456789abcdef":
            func = line[line.index("<") + 1:-2]
            in_clone = func.endswith(CLONE)
            clones += in_clone
        elif in_clone and "\tcall " in line:
            target = re.search(r"<(.*)>", line)
            if target and "fastloss" in target[1] and CLONE not in target[1] \
                    and "@plt" not in target[1]:
                found[target[1]] += 1
    return clones, found


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    clones, found = outlined_calls(sys.argv[1])
    print(f"{clones} AVX-512 clones; {sum(found.values())} calls to outlined fastloss code")
    for name, count in found.most_common():
        print(f"  {count} x {name}")
    return 1 if found or clones == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

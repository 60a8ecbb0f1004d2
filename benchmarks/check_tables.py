"""Checks the kernel tables of a build: each instruction-set level's code stays its own.

The extension compiles every loss's tiles once per instruction-set level, each
level in its own translation units with that level's -march flags
(cpp/include/fastloss/detail/isa.hpp, "kernel tables"). Two things would break
that silently, and this finds both in the object files of a build tree:

* a function defined by a level's object that is not named for that level (an
  inline function or template compiled there and shared by name with other
  objects): the linker keeps one copy of such a function for the whole module,
  possibly the AVX-512 one for a CPU without AVX-512, or the baseline one for
  the fast path;
* a call from a level's tiles to fastloss code outside the level (compiled for
  the baseline, or for another level).

It also reports how many AVX-512 / AVX2 instructions each level holds, which
must be none below its level and some at it. Needs binutils' nm and objdump:

    python benchmarks/check_tables.py build/cp311-cp311-linux_x86_64

Exit status 1 when a check fails, 2 when the tree holds no table objects.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

#: table objects: tables_<level>_<family>_<precision>.cpp.o
OBJECT = re.compile(r"tables_(\d)_(\d)_(float|double)\.cpp\.o$")


def level_marker(level: int) -> str:
    """How a template instantiated at `level` shows in a demangled name."""
    return f"<{level}, "


def defined_functions(obj: pathlib.Path) -> list[str]:
    out = subprocess.run(["nm", "-C", "--defined-only", str(obj)], capture_output=True,
                         text=True, check=True).stdout
    names = []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in ("T", "W"):
            names.append(parts[2])
    return names


def wide_instructions(obj: pathlib.Path) -> tuple[int, int, list[str]]:
    """(zmm instructions, ymm instructions, fastloss call targets) of an object."""
    dis = subprocess.run(["objdump", "-d", "-r", "--no-show-raw-insn", "-C", str(obj)],
                         capture_output=True, text=True, check=True).stdout
    zmm = ymm = 0
    calls: list[str] = []
    for line in dis.splitlines():
        zmm += "%zmm" in line
        ymm += "%ymm" in line
        if "R_X86_64_PLT32" in line or "R_X86_64_PC32" in line:
            target = line.split("\t")[-1].strip()
            if "fastloss::" in target:
                calls.append(target)
    return zmm, ymm, calls


def check(tree: pathlib.Path) -> int:
    objects = sorted(p for p in tree.rglob("*.o") if OBJECT.search(p.name))
    if not objects:
        print(f"no kernel-table objects under {tree}")
        return 2
    failures = 0
    for obj in objects:
        level = int(OBJECT.search(obj.name)[1])  # type: ignore[index]
        marker = level_marker(level)
        foreign = [n for n in defined_functions(obj) if marker not in n]
        zmm, ymm, calls = wide_instructions(obj)
        stray = sorted({c for c in calls if marker not in c})
        bad_isa = (level < 2 and zmm > 0) or (level < 1 and ymm > 0) or (level == 2 and zmm == 0)
        status = "ok" if not (foreign or stray or bad_isa) else "FAIL"
        print(f"{status}  {obj.name}: level {level}, {zmm} zmm / {ymm} ymm instructions")
        for name in foreign:
            print(f"      defines a function not named for level {level}: {name[:160]}")
        for name in stray:
            print(f"      calls fastloss code outside level {level}: {name[:160]}")
        if bad_isa:
            print(f"      instruction set does not match level {level}")
        failures += status != "ok"
    print(f"{len(objects)} table objects, {failures} failing")
    return 1 if failures else 0


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    return check(pathlib.Path(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())

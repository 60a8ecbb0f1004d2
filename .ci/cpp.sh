#!/usr/bin/env bash
# C++ checks, no Python involved: the header-only core builds and passes its
# tests with plain CMake (-Werror), installs as a CMake package, and is
# consumed both through find_package (cpp/examples/linear_regression) and
# through add_subdirectory (cpp/tests/consumer_subdir). Needs a C++17
# compiler and CMake >= 3.18, nothing else. Runs from anywhere; all build
# trees live in a temporary directory that is removed afterwards.
#
#   FASTLOSS_CI_JOBS=N   parallel build jobs (default 2)
#   FASTLOSS_CI_KEEP=1   keep the temporary directory (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${FASTLOSS_CI_JOBS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/fastloss-cpp.XXXXXX")
if [ "${FASTLOSS_CI_KEEP:-0}" = 1 ]; then
  trap 'echo "build trees kept in $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi

# CMake's default generator needs make; fall back to Ninja where only it exists.
if [ -z "${CMAKE_GENERATOR:-}" ] && ! command -v make >/dev/null 2>&1 &&
   command -v ninja >/dev/null 2>&1; then
  export CMAKE_GENERATOR=Ninja
fi

step() { printf '\n=== fastloss C++: %s\n' "$*"; }
# Consumers compile with warnings as errors too (fastloss's own headers come
# in as system headers there; this keeps the example and consumer clean).
consumer_flags="-Wall -Wextra -Wpedantic -Werror"

step "configure, build (-Werror) and test the core"
cmake -S "$root" -B "$work/core" -DCMAKE_BUILD_TYPE=Release -DFASTLOSS_WERROR=ON
cmake --build "$work/core" -j "$jobs"
(cd "$work/core" && ctest --output-on-failure -j "$jobs")

echo "=== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S "$root" -B "$work/asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTLOSS_SANITIZE=ON
cmake --build "$work/asan" -j "$jobs"
(cd "$work/asan" && ctest --output-on-failure -j "$jobs")

# ThreadSanitizer: the kernels' threads are fastloss's own pool on the
# platform's threads, which TSan understands with any compiler.
step "C++ tests under ThreadSanitizer"
cmake -S "$root" -B "$work/tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTLOSS_TSAN=ON
cmake --build "$work/tsan" -j "$jobs"
(cd "$work/tsan" && TSAN_OPTIONS="halt_on_error=1" ctest --output-on-failure -j "$jobs")

step "install to a temporary prefix"
cmake --install "$work/core" --prefix "$work/prefix"

step "build and run the example against the installed package (find_package)"
cmake -S "$root/cpp/examples/linear_regression" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$consumer_flags"
cmake --build "$work/example" -j "$jobs"
"$work/example/linear_regression"

step "build and run a consumer that uses add_subdirectory"
cmake -S "$root/cpp/tests/consumer_subdir" -B "$work/subdir" \
  -DFASTLOSS_SOURCE_DIR="$root" -DCMAKE_CXX_FLAGS="$consumer_flags"
cmake --build "$work/subdir" -j "$jobs"
"$work/subdir/consumer"

step "all C++ checks passed"

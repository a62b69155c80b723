#!/usr/bin/env bash
# Builds tcpwave three ways and runs every test in each, then fuzzes:
#   gcc, clang (both -Wall -Wextra -Werror), clang with ASan+UBSan,
#   and the libFuzzer targets for TCPW_FUZZ_SECONDS (default 60).
# Stops at the first failure. Build trees live under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh check
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${TCPW_FUZZ_SECONDS:-60}

run_suite() { # name, cmake args...
  local name=$1; shift
  echo "=== tcpwave check: $name ==="
  cmake -S . -B "build/$name" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  (cd "build/$name" && ctest --output-on-failure -j "$jobs" --timeout 900)
}

# Fuzz first, so the closing ctest summary is the full suite under sanitizers.
run_suite fuzz  -DCMAKE_C_COMPILER=clang -DTCPW_FUZZ=ON -DTCPW_TESTS=OFF \
  -DTCPW_FUZZ_SECONDS="$fuzz_seconds"
run_suite gcc   -DCMAKE_C_COMPILER=gcc
run_suite clang -DCMAKE_C_COMPILER=clang
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite asan  -DCMAKE_C_COMPILER=clang -DTCPW_SANITIZE=ON
echo "=== tcpwave check: all suites passed ==="

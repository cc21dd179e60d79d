#!/usr/bin/env bash
# Builds dsmoe (scripts/setup.sh) and runs the whole test suite. Exits non-zero on any failure.
# DSMOE_SANITIZE=1 additionally builds into build-asan/ with ASan+UBSan and runs the suite there;
# DSMOE_TSAN=1 runs the C API's threading tests under ThreadSanitizer; DSMOE_TEST_NEON=1 runs the
# Arm kernels' tests under qemu-aarch64.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/check_layers.py
bash scripts/setup.sh
jobs=${DSMOE_JOBS:-$(nproc)}
ctest --test-dir build --output-on-failure -j "$jobs"
if [ "${DSMOE_SANITIZE:-0}" = 1 ]; then
  DSMOE_BUILD_DIR=build-asan DSMOE_BUILD_TYPE=RelWithDebInfo \
    DSMOE_CMAKE_ARGS="-DDSMOE_SANITIZE=ON" bash scripts/setup.sh
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi
# The installed package: examples built against `cmake --install` output, not the build tree.
bash scripts/test_install.sh
# DSMOE_TSAN=1: the C API's concurrent-session tests under ThreadSanitizer, in build-tsan/.
if [ "${DSMOE_TSAN:-0}" = 1 ]; then
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDSMOE_TSAN=ON >/dev/null
  cmake --build build-tsan --target test_capi -j "$jobs"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/bin/test_capi
fi
# DSMOE_TEST_NEON=1: the Arm kernels cross-built for aarch64 and tested under qemu-aarch64.
if [ "${DSMOE_TEST_NEON:-0}" = 1 ]; then
  bash scripts/test_neon.sh
fi

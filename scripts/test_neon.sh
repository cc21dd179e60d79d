#!/usr/bin/env bash
# Cross-builds the Arm kernels (plain NEON and NEON dot product), the quantizer and their tests
# for aarch64 with g++-aarch64-linux-gnu, and runs the tests under qemu-aarch64 -cpu max.
# Quick: only src/kernels, src/quant, util headers, tests/kernels, tests/quant and GoogleTest.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${DSMOE_NEON_BUILD_DIR:-build-neon}
jobs=${DSMOE_JOBS:-$(nproc)}
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "test_neon.sh: $tool not found (scripts/setup.sh installs it)" >&2; exit 1; }
done
cmake -S tests/kernels/cross -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-toolchain.cmake" >/dev/null
if ! cmake --build "$build" --target test_kernels_cross -j "$jobs" >"$build/build.log" 2>&1; then
  tail -n 60 "$build/build.log" >&2
  exit 1
fi
# Both levels must really run: fail if qemu's CPU lacks either (no silent skips in CI).
qemu-aarch64 -cpu max "$build/test_kernels_cross" --gtest_brief=1 | tee "$build/test_output.txt"
if grep -q "SKIPPED" "$build/test_output.txt"; then
  echo "test_neon.sh: some Arm kernel tests were skipped" >&2
  exit 1
fi

#!/usr/bin/env bash
# Installs the dependencies, builds Writ with its tests and runs them all.
#
#   scripts/test.sh
#
# Environment:
#   WRIT_BUILD_DIR     build directory (default build)
#   WRIT_BUILD_TYPE    CMake build type (default Release)
#   WRIT_CMAKE_FLAGS   extra CMake arguments, e.g. "-DWRIT_WERROR=ON" (CI) or
#                      "-DWRIT_SANITIZE=ON"
#   WRIT_JOBS          parallel build and test jobs (default: cores)
#   WRIT_SKIP_DEPS=1   skip the package check
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${WRIT_BUILD_DIR:-build}
jobs=${WRIT_JOBS:-$(nproc)}

[[ ${WRIT_SKIP_DEPS:-0} == 1 ]] || scripts/install-deps.sh
# CometBFT, for the four-validator network test (built once into .deps/bin).
[[ ${WRIT_SKIP_DEPS:-0} == 1 ]] || scripts/install-cometbft.sh
# shellcheck disable=SC2086  # WRIT_CMAKE_FLAGS is a list of arguments
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${WRIT_BUILD_TYPE:-Release}" -DWRIT_TESTING=ON \
  ${WRIT_CMAKE_FLAGS:-}
cmake --build "$build" -j "$jobs"

# The opcode table in docs/bytecode.md must match vm/opcodes.def.
tools/gen_bytecode_doc.sh --check "$build/tools/writ/writ"

ctest --test-dir "$build" --output-on-failure -j "$jobs"

#!/usr/bin/env bash
# Sets up, builds from scratch (release, tests included) and runs the whole
# test suite with CTest. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/setup-debian.sh
packaging/setup-test-references.sh
rm -rf build/test
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLAB_BUILD_TESTS=ON -DPREFLAB_BUILD_BENCH=ON
cmake --build build/test
cd build/test
# Every test has its own timeout (ctest's default below); GUI tests draw
# offscreen by themselves.
ctest --output-on-failure --timeout 600 -j2 "$@"

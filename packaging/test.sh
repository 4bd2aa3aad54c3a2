#!/usr/bin/env bash
# Sets up, builds from scratch (release, tests included), runs the whole test
# suite with CTest (extra arguments go to ctest, e.g. -L unit), then builds,
# unpacks and runs the Debian package.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys paths relative to the checkout, so a clone in another folder
# (CI's) reuses what an earlier build of the same sources compiled.
export CCACHE_BASEDIR="$PWD"
packaging/setup-debian.sh
packaging/setup-test-references.sh
rm -rf build/test
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLAB_BUILD_TESTS=ON -DPREFLAB_BUILD_BENCH=ON
cmake --build build/test
# Every test has its own timeout (ctest's default below); GUI tests draw
# offscreen by themselves.
(cd build/test && ctest --output-on-failure --timeout 600 -j2 "$@")
# The Debian package, built from the same tree, unpacked and run (its 5-step
# run reuses the starter model the demo test pretrained).
packaging/check-deb.sh build/test build/test/tests/data-tst_demo_targets

#!/usr/bin/env bash
# Sets up, builds (release) and runs PrefLab. Without a display, or with
# --headless, it runs the built-in demonstration on the command line.
# Extra arguments go to `preflab` (e.g. --steps 500 --beta 0.2).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/setup-debian.sh
cmake --preset release -DPREFLAB_BUILD_TESTS=OFF -DPREFLAB_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target preflab
exec build/release/app/preflab "$@"

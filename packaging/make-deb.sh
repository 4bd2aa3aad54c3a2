#!/usr/bin/env bash
# Builds PrefLab's Debian package with CPack's DEB generator and writes
# build/deb/preflab_<version>_amd64.deb. Usage: packaging/make-deb.sh [BUILD_DIR]
# BUILD_DIR (default build/release) is configured as a release build when it
# does not exist yet, and reused (built incrementally) when it does.
# Install it with: sudo apt install ./build/deb/preflab_*_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
packaging/setup-debian.sh >/dev/null
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPREFLAB_BUILD_TESTS=OFF -DPREFLAB_BUILD_BENCH=OFF
fi
cmake --build "$build" --target preflab preflab_package_files
out=$(pwd)/build/deb
mkdir -p "$out"
rm -f "$out"/preflab_*.deb
(cd "$build" && cpack -G DEB -B "$out" >/dev/null)
rm -rf "$out/_CPack_Packages"
deb=$(ls "$out"/preflab_*_amd64.deb)
# The metainfo must satisfy AppStream's validator (where it is installed).
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net resources/io.github.preflab.PrefLab.metainfo.xml >/dev/null
fi
echo "$deb"

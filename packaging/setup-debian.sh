#!/usr/bin/env bash
# Installs, idempotently, exactly the Debian 12 packages PrefLab needs to build,
# run and test. Runs apt only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build git ccache pkg-config
  qt6-base-dev qt6-tools-dev qt6-svg-dev libqt6sql6-sqlite
  libtorch-dev libopenblas0-pthread
  libopenblas0-openmp  # OpenBLAS on the OpenMP threads ATen uses (PrefLab puts it first: core/runtime/blas_library.h)
  libgloo-dev  # c10d's ProcessGroupGloo.hpp includes Gloo's headers (data-parallel training)
  libqcustomplot-dev libqcustomplot2.1-qt6
  libsqlite3-dev
  nlohmann-json3-dev  # the JSON of the vendored Jinja engine (core/hf/vendor/minja.hpp), header-only
  libpq-dev postgresql openssl  # team databases (libpq), and the throwaway cluster and TLS certificate of their tests
  xvfb xauth
)

# The tokenizer tests compare with reference encoders from the npm registry:
# they need node and npm. These machines ship them (Node.js 20); elsewhere
# Debian's packages do.
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

# --bench: also the Python peer of `preflab-bench --peer` (bench/peer/peer.py),
# Debian's PyTorch over the same LibTorch. Tests do not need it.
[ "${1:-}" = "--bench" ] && PACKAGES+=(python3-torch)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

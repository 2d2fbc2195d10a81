#!/usr/bin/env bash
# Installs every Debian package compe's build, tests and benchmarks need.
# Idempotent: when everything is present it returns in well under a second.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git python3
  libfmt-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libfast-float-dev
  libeigen3-dev libsqlite3-dev libpq-dev libcpp-httplib-dev libxgboost-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  postgresql
  chromium
  ccache
  # Sanitizer build, fuzz targets (clang's libFuzzer, ASan/UBSan runtimes, symbolizer) and load tests.
  clang libclang-rt-14-dev libomp-dev llvm wrk
  # The Python module (pybind11) and its tests; the image example's PyTorch trainer.
  pybind11-dev python3-dev python3-numpy python3-pytest
  python3-torch python3-torchvision dataset-fashion-mnist
  # Detection example: OpenCV's face cascades on photos shipped by Debian.
  opencv-data python3-opencv python3-skimage
)
# Node (for the dashboard's browser tests): Debian's nodejs and npm unless node and npm are already
# on PATH (another node install would conflict with Debian's npm package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi
# Reference implementations used only by golden generators and peer benchmarks (make bench).
if [[ "${COMPE_WITH_PEERS:-0}" == "1" ]]; then
  PACKAGES+=(python3-sklearn python3-pandas python3-scipy python3-numpy python3-xgboost)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the browser tests (package-lock.json): installed again only when the lock changed.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ ! -f "$root/node_modules/.package-lock.json" || "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]]; then
  echo "install-deps: npm ci (browser tests)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi

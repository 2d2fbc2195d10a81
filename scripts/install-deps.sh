#!/usr/bin/env bash
# Installs the Debian packages (and, for the browser tests, the npm packages) that a part of compe
# needs, by group:
#
#   scripts/install-deps.sh [GROUP...]      default: build test (what `make test` and CI need)
#
#   build     compile compe: the CLI, the core and the test and benchmark executables
#   demo      scripts/demo.sh, the bundled Titanic competition end to end (`make demo`)
#   python    the Python module (`make python`)
#   test      every suite `make test` runs: pytest, PostgreSQL, the browser tests (chromium,
#             node, playwright-core), the quick Fashion-MNIST example
#   examples  the image examples, each also a group of its own, which its script installs:
#             fashion_mnist (PyTorch, Debian's Fashion-MNIST, the Python module's build) and
#             faces (numpy; OpenCV's cascades and scikit-image's photos for detect.py)
#   peers     the reference implementations of `make bench` and the golden generators
#   sanitize  clang's ASan/UBSan/libFuzzer and wrk: `make test-asan`, `make fuzz`, `make test-slow`
#
# Idempotent: when everything asked for is present it returns in well under a second, without
# apt-get update.
set -euo pipefail

BUILD=(
  build-essential cmake pkg-config git ccache python3
  libfmt-dev nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libfast-float-dev
  libeigen3-dev libsqlite3-dev libpq-dev zlib1g-dev libssl-dev libcpp-httplib-dev libxgboost-dev
  # Configuring the project finds these (a few MB); `make demo` compiles only the CLI.
  libgtest-dev libgmock-dev googletest libbenchmark-dev
)
# scripts/demo.sh reads the runs' JSON with python3; the rest of the demo is the CLI alone.
DEMO=(python3)
PYTHON=(pybind11-dev python3-dev python3-numpy)
TEST=(
  "${PYTHON[@]}" python3-pytest
  # The store's conformance suite against a throwaway server (scripts/start-postgres.sh).
  postgresql
  # The dashboard's browser tests: Debian's chromium driven by playwright-core (package-lock.json).
  chromium
  # The quick form of examples/fashion_mnist (CTest example_fashion_mnist_quick).
  python3-torch dataset-fashion-mnist
)
FASHION_MNIST=("${PYTHON[@]}" python3-torch dataset-fashion-mnist)
FACES=(python3-numpy opencv-data python3-opencv python3-skimage)
# The sanitizer build and fuzz targets (clang's libFuzzer, ASan/UBSan runtimes, symbolizer) and the
# load tests (`make test-asan`, `make fuzz`, `make test-slow`).
SANITIZE=(clang libclang-rt-14-dev libomp-dev llvm wrk)
PEERS=(python3-sklearn python3-pandas python3-scipy python3-numpy python3-xgboost)

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit "$1"; }

groups=("$@")
if ((${#groups[@]} == 0)); then groups=(build test); fi
wanted=()
want_npm=0
for g in "${groups[@]}"; do
  case "$g" in
    build) wanted+=("${BUILD[@]}") ;;
    demo) wanted+=("${DEMO[@]}") ;;
    python) wanted+=("${PYTHON[@]}") ;;
    test)
      wanted+=("${TEST[@]}")
      want_npm=1
      # Debian's nodejs and npm unless node and npm are already on PATH (another node install
      # would conflict with Debian's npm package).
      if ! command -v node >/dev/null || ! command -v npm >/dev/null; then wanted+=(nodejs npm); fi
      ;;
    examples) wanted+=("${FASHION_MNIST[@]}" "${FACES[@]}") ;;
    fashion_mnist) wanted+=("${FASHION_MNIST[@]}") ;;
    faces) wanted+=("${FACES[@]}") ;;
    peers) wanted+=("${PEERS[@]}") ;;
    sanitize) wanted+=("${SANITIZE[@]}") ;;
    -h | --help) usage 0 ;;
    *) echo "install-deps: unknown group '$g' (build, demo, python, test, examples, fashion_mnist, faces, peers, sanitize)" >&2; exit 2 ;;
  esac
done

# One dpkg-query for all of them; a package dpkg has never heard of is simply not listed.
mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | sort -u)
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for p in "${wanted[@]}"; do
  if ! grep -qx "$p installed" <<<"$installed"; then missing+=("$p"); fi
done
if ((${#missing[@]} > 0)); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps (${groups[*]}): installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the browser tests: `npm ci` only when an installed version differs from
# package-lock.json (file times say nothing in a fresh checkout).
if ((want_npm)); then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  stale=$(cd "$root" && node -e '
    const fs = require("fs");
    const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
    for (const [where, p] of Object.entries(lock.packages || {})) {
      if (!where || p.optional || p.link) continue;
      let v = null;
      try { v = JSON.parse(fs.readFileSync(where + "/package.json", "utf8")).version; } catch (e) {}
      if (v !== p.version) console.log(where.replace(/^node_modules\//, "") + " " + (v || "missing") + " (lock: " + p.version + ")");
    }')
  if [[ -n "$stale" ]]; then
    if [[ -L "$root/node_modules" ]]; then
      # npm ci would empty the folder the link points to, which other checkouts share.
      echo "install-deps: node_modules links to a shared install that differs from package-lock.json:" >&2
      echo "$stale" >&2
      echo "install-deps: run 'npm ci' where node_modules points ($(readlink -f "$root/node_modules"))" >&2
    else
      echo "install-deps: npm ci (browser tests: ${stale//$'\n'/, })"
      (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  fi
fi

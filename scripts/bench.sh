#!/usr/bin/env bash
# Runs every side-by-side benchmark in bench/peers/ (each prints its ratios) against BUILD_DIR.
# Peers come from Debian packages (scikit-learn, pandas, XGBoost's Python package); a peer that is
# not a Debian package is run only when its path is given through the variable the script names.
set -euo pipefail
build=${1:-build}
for s in bench/peers/*.sh; do
  echo "== $s"
  bash "$s" "$build"
done

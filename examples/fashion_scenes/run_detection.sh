#!/usr/bin/env bash
# The detection Fashion-MNIST scenes competition end to end: see run_image_kind.sh.
#
# Usage: run_detection.sh [--quick] COMPE_BINARY WORKDIR
#   --quick: 150 train / 60 test scenes, one epoch of narrow models (the CI form).
# Exits 77 (skipped) without python3-torch or dataset-fashion-mnist.
exec bash "$(dirname "$0")/run_image_kind.sh" detection "$@"

#!/usr/bin/env bash
# The main job on the bundled Titanic competition, end to end, in a fresh workspace.
set -euo pipefail
compe=$(realpath "${1:-build/compe}")
root=$(cd "$(dirname "$0")/.." && pwd)
ws=${COMPE_DEMO_DIR:-$root/build/demo/titanic}
rm -rf "$ws"
mkdir -p "$(dirname "$ws")"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$compe" init "$ws" --from "$root/examples/titanic/data"
cd "$ws"
step "$compe" folds
step "$compe" audit
step "$compe" run --model xgboost --name xgb-baseline
step "$compe" run --model linear --name linear-baseline
step "$compe" runs
best=$("$compe" runs --sort best --limit 1 --json | python3 -c "import json,sys; print(json.load(sys.stdin)['runs'][0]['run_id'])")
step "$compe" score --solution "$root/examples/titanic/data/solution.csv" --submission "runs/$best/submission.csv"

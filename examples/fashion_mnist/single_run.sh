#!/usr/bin/env bash
# One CNN run through `compe run` with any Python that has PyTorch (a CUDA machine's, say), with or
# without the compe module: the trainer falls back to the plain protocol and the metrics file.
#
# Usage: single_run.sh COMPE_BINARY PYTHON EPOCHS DATA_DIR WORKDIR
#   DATA_DIR: made by make_data.py (images.npy, train.csv, test.csv, solution.csv, ...)
set -euo pipefail
if [ $# -ne 5 ]; then sed -n '5,6p' "$0" >&2; exit 2; fi
compe=$(realpath "$1"); py=$2; epochs=$3; data=$(realpath "$4"); ws=$(realpath -m "$5")
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$ws"
"$compe" init "$ws" --from "$data" > /dev/null
cd "$ws"
cp "$here/train_cnn.py" .
mkdir -p experiments
cat > experiments/cnn.toml <<TOML
name = "cnn-${epochs}ep"
[model]
backend = "command"
[model.params]
command = "env -u LD_LIBRARY_PATH $py train_cnn.py"
[model.params.params]
epochs = $epochs
lr = 0.003
batch_size = 128
width = 32
tta = true
augment = true
images = "$data/images.npy"
[run]
seed = 42
threads = 2
TOML
"$compe" folds > /dev/null
start=$(date +%s)
"$compe" run experiments/cnn.toml --json > run.json
echo "compe run wall: $(( $(date +%s) - start )) s"
rid=$("$py" -c "import json; print(json.load(open('run.json'))['run_id'])")
"$compe" show "$rid"
"$compe" score --solution "$data/solution.csv" --submission "runs/$rid/submission.csv" --metric log_loss
grep -h "epoch $epochs/$epochs" runs/"$rid"/command/fold*/train.log

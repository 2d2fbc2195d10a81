#!/bin/sh
# Scores each face cascade alone and the fusions of all of them, then tunes the fusion.
# Usage: examples/faces/run.sh [BUILD_DIR]   (default: build)
# Needs `compe wbf fuse`; the `compe wbf eval` and `compe wbf tune` steps need those
# commands (skipped with a note when this compe lacks them). evaluate.py and
# grid_tune.py give the same figures with /usr/bin/python3 and numpy alone.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# numpy for evaluate.py (and OpenCV with the photos, for detect.py and draw.py).
"$here/../../scripts/install-deps.sh" faces
build=$(cd "${1:-build}" && pwd)
compe="$build/compe"
det="$here/detections"
gt="$det/ground_truth_norm.csv"
out=$(mktemp -d)
models="haar_default haar_alt haar_alt2 haar_alt_tree haar_profile lbp_frontal lbp_frontal_improved lbp_profile"
files=""
for m in $models; do files="$files $det/$m.csv"; done

for m in wbf nms soft_nms nmw; do
  # shellcheck disable=SC2086
  "$compe" wbf fuse $files --method "$m" -o "$out/fused_$m.csv"
done

echo "== independent evaluation (evaluate.py)"
/usr/bin/python3 "$here/evaluate.py" "$gt" $files "$out"/fused_*.csv

if "$compe" wbf --help 2>/dev/null | grep -q "^ *eval"; then
  echo "== compe wbf eval: mAP@[.5:.95] and mAP@0.5"
  for f in $files "$out"/fused_*.csv; do
    printf '%-24s' "$(basename "$f" .csv)"
    for metric in map map50; do
      "$compe" wbf eval "$f" --gt "$gt" --metric $metric --json |
        /usr/bin/python3 -c "import json,sys; print('%.4f' % json.load(sys.stdin)['value'], end='  ')"
    done
    echo
  done
  echo "== compe wbf tune (nested: tuned on half the images, scored on the other half)"
  # shellcheck disable=SC2086
  "$compe" wbf tune $files --gt "$gt" --metric map --trials 100 --normalised
else
  echo "== this compe has no 'wbf eval'/'wbf tune' yet: grid search with compe wbf fuse instead"
fi
echo "== nested grid search (grid_tune.py)"
/usr/bin/python3 "$here/grid_tune.py" "$compe"
rm -rf "$out"

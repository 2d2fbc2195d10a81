#!/usr/bin/env bash
# Box fusion side by side: compe (build/bench/bench_wbf) and ensemble_boxes on the same file of
# detections (5 models x 1,000 images x 100 boxes, 10 labels), WBF iou_thr 0.55, skip 0.0; then
# compe's boxes per second for nms, soft_nms and nmw (and the peer's, with PEER_ALL=1).
#
#   bash bench/peers/wbf.sh BUILD_DIR      (THREADS=1, IMAGES=1000 by default)
#
# ensemble_boxes is not a Debian package: the peer runs only when ENSEMBLE_BOXES_DIR names a
# checkout of github.com/ZFTurbo/Weighted-Boxes-Fusion (the folder holding ensemble_boxes/).
# It imports numba in __init__; when numba is missing a pass-through `jit` is put on PYTHONPATH
# (WBF never uses numba; nms then runs as plain NumPy).
set -euo pipefail
build=${1:-build}
tool="$build/bench/bench_wbf"
threads=${THREADS:-1}
images=${IMAGES:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/detections.f64"

"$tool" gen "$data" --images "$images" --models 5 --boxes 100 --labels 10 --seed 42

compe_line=$("$tool" run "$data" --method wbf --iou-thr 0.55 --skip-thr 0.0 --threads "$threads" \
  --repeat 3 --dump "$work/wbf.out")
echo "$compe_line" | tee "$work/compe.txt"
for m in nms soft_nms nmw; do
  "$tool" run "$data" --method "$m" --threads "$threads" --repeat 3 --dump "$work/$m.out" |
    tee -a "$work/compe.txt"
done

if [[ -z "${ENSEMBLE_BOXES_DIR:-}" ]]; then
  echo "peer: skipped (set ENSEMBLE_BOXES_DIR to a Weighted-Boxes-Fusion checkout)"
  exit 0
fi

pypath="$ENSEMBLE_BOXES_DIR"
if ! /usr/bin/python3 -c 'import numba' 2>/dev/null; then
  mkdir -p "$work/stub"
  cat >"$work/stub/numba.py" <<'PY'
def jit(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda f: f
PY
  pypath="$pypath:$work/stub"
fi

peer_line=$(PYTHONPATH="$pypath" /usr/bin/python3 - "$data" "${PEER_ALL:-0}" "$work" <<'PY'
import sys, time, warnings
import numpy as np
import ensemble_boxes as eb
warnings.simplefilter("ignore")
rows = np.fromfile(sys.argv[1]).reshape(-1, 8)
images = []
for img in np.unique(rows[:, 0]):
    r = rows[rows[:, 0] == img]
    per = [r[r[:, 1] == m] for m in np.unique(r[:, 1])]
    images.append(([p[:, 2:6].tolist() for p in per], [p[:, 6].tolist() for p in per],
                   [p[:, 7].tolist() for p in per]))
calls = [("wbf", lambda b, s, l: eb.weighted_boxes_fusion(b, s, l, iou_thr=0.55, skip_box_thr=0.0))]
if sys.argv[2] == "1":
    calls += [("nms", lambda b, s, l: eb.nms(b, s, l)),
              ("soft_nms", lambda b, s, l: eb.soft_nms(b, s, l)),
              ("nmw", lambda b, s, l: eb.non_maximum_weighted(b, s, l))]
for name, fn in calls:
    t0 = time.perf_counter()
    out = [fn(*im) for im in images]
    secs = time.perf_counter() - t0
    n_out = sum(len(o[1]) for o in out)
    checksum = sum(float((o[1].astype(np.float64) + o[0][:, 0] + o[0][:, 3]).sum()) for o in out)
    # Compare with compe's output, box by box and in order (not timed).
    got = np.fromfile(f"{sys.argv[3]}/{name}.out").reshape(-1, 7)
    starts = np.searchsorted(got[:, 0], np.arange(len(images) + 1))
    worst, bad = 0.0, 0
    for i, (b, s, l) in enumerate(out):
        g = got[starts[i]:starts[i + 1]]
        if len(g) != len(s) or (len(s) and (g[:, 6] != l).any()):
            bad += 1
            continue
        if len(s):
            worst = max(worst, float(np.abs(g[:, 1:5] - b).max()), float(np.abs(g[:, 5] - s).max()))
    print(f"peer method={name} images={len(images)} boxes_in={len(rows)} boxes_out={n_out} "
          f"seconds={secs:.3f} boxes_per_s={len(rows) / secs:.0f} checksum={checksum:.6f} "
          f"images_differing={bad} max_abs_diff={worst:.2e}")
PY
)
echo "$peer_line" | tee "$work/peer.txt"
/usr/bin/python3 - "$work" <<'PY'
import re, sys
def parse(path):
    out = {}
    for line in open(path):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        out[kv["method"]] = float(kv["seconds"])
    return out
c, p = parse(f"{sys.argv[1]}/compe.txt"), parse(f"{sys.argv[1]}/peer.txt")
for m in p:
    print(f"{m}: compe {c[m]:.3f}s  ensemble_boxes {p[m]:.3f}s  ratio {p[m] / c[m]:.1f}x")
PY

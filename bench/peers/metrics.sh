#!/usr/bin/env bash
# Side by side: compe's roc_auc and log_loss against scikit-learn's roc_auc_score and log_loss on
# the same 1e7-row binary data (written once to .npy files that both sides read), plus one
# std::sort of the 1e7 scores for scale.
#   bash bench/peers/metrics.sh BUILD_DIR [ROWS]
set -euo pipefail
build=${1:-build}
rows=${2:-10000000}
tool="$build/bench/bench_metrics"
[ -x "$tool" ] || { echo "missing $tool: cmake --build $build --target bench_metrics" >&2; exit 1; }
py=/usr/bin/python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$py" - "$dir" "$rows" <<'PY'
import sys
import numpy as np
d, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(42)
y = (rng.uniform(size=n) < 0.3).astype(np.float64)
p = np.clip(0.25 * y + 0.75 * rng.uniform(size=n), 0.0, 1.0)
np.save(f"{d}/y.npy", y)
np.save(f"{d}/p.npy", p)
PY

echo "rows: $rows, threads: $(nproc), $("$py" -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"
"$tool" "$dir/y.npy" "$dir/p.npy" 5 | tee "$dir/compe.txt"
"$py" - "$dir" <<'PY' | tee "$dir/sklearn.txt"
import sys, time
import numpy as np
from sklearn.metrics import roc_auc_score, log_loss
d = sys.argv[1]
y, p = np.load(f"{d}/y.npy"), np.load(f"{d}/p.npy")
for name, fn in (("roc_auc", lambda: roc_auc_score(y, p)),
                 ("log_loss", lambda: log_loss(y, p, eps=1e-15))):
    best, cpu, value = 1e300, 0.0, None
    for _ in range(3):
        c0, t0 = time.process_time(), time.perf_counter()
        value = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    print(f"sklearn_{name} {best:.6f} {value:.17g} {cpu:.6f}")
PY

"$py" - "$dir" <<'PY'
import sys
d = sys.argv[1]
def read(f):
    return {l.split()[0]: [float(x) for x in l.split()[1:]] for l in open(f)}
c, s = read(f"{d}/compe.txt"), read(f"{d}/sklearn.txt")
for m in ("roc_auc", "log_loss"):
    tc, vc, cc = c[m]
    ts, vs, cs = s[f"sklearn_{m}"]
    rel = abs(vc - vs) / abs(vs)
    print(f"{m}: wall compe {tc*1e3:.1f} ms, scikit-learn {ts*1e3:.1f} ms: {ts/tc:.1f}x faster; "
          f"CPU compe {cc*1e3:.0f} ms, scikit-learn {cs*1e3:.0f} ms; "
          f"values differ by {rel:.1e} relative")
ts, _, cs = c["std_sort"]
print(f"std::sort of the 1e7 scores: wall {ts*1e3:.1f} ms, CPU {cs*1e3:.0f} ms; roc_auc takes "
      f"{c['roc_auc'][0]/ts:.2f}x the wall time of one std::sort")
PY

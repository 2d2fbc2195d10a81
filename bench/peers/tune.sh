#!/usr/bin/env bash
# Side-by-side tuner benchmarks: compe's TPE against Optuna 3.1's TPESampler (Debian
# python3-optuna, run with /usr/bin/python3) on the same objectives.
#   bench/peers/tune.sh BUILD_DIR [TRIALS] [HISTORY] [QUALITY_TRIALS] [SEEDS] [SECTIONS]
# 1. overhead: TRIALS trials (default 1000) of a cheap 10-D objective (sum (x_i - 0.3)^2,
#    x_i in [-5, 5]), default TPE settings, in memory and on a SQLite file. Prints the mean time
#    per trial over the whole study and over its last 100 trials (the cost at that history
#    size), and the ratio Optuna / compe.
# 2. history: the cost per trial at a history of HISTORY trials (default 10000; a list such as
#    "1000 5000 10000" measures each in turn): HISTORY random
#    trials are added first (untimed; Optuna: study.add_trials), then 20 TPE trials run: the
#    mean time per trial over trials 2 to 20 (the first also opens the study and reads the
#    history; printed apart).
# 3. quality: best value after each of QUALITY_TRIALS (default "100 300") trials on Branin
#    (minimum 0.397887) and Hartmann6 (minimum -3.32237) over SEEDS seeds (default 10): mean and
#    sample standard deviation for each; compe with its defaults (Optuna 3.1.0's scoring) and
#    with optuna31_kernels = false (true kernel densities).
# SECTIONS (default "overhead history quality") picks the sections to run.
set -euo pipefail
build=${1:?usage: tune.sh BUILD_DIR [TRIALS] [HISTORY] [QUALITY_TRIALS] [SEEDS] [SECTIONS]}
trials=${2:-1000}
hist=${3:-10000}
qtrials=${4:-100 300}
seeds=${5:-10}
sections=${6:-overhead history quality}
tool="$build/bench/bench_tune"
[[ -x "$tool" ]] || { echo "missing $tool: build the bench_tune target" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

peer() {
  /usr/bin/python3 - "$@" <<'PY'
import math, os, sys, time
import numpy as np
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
mode = sys.argv[1]
def cheap(trial):
    return sum((trial.suggest_float(f"x{i}", -5, 5) - 0.3) ** 2 for i in range(10))
if mode == "overhead":
    trials, url = int(sys.argv[2]), sys.argv[3]
    storage = None if url == ":memory:" else "sqlite:///" + url
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0), storage=storage)
    stamps = []
    t0 = time.perf_counter()
    study.optimize(cheap, n_trials=trials,
                   callbacks=[lambda s, t: stamps.append(time.perf_counter() - t0)])
    total = stamps[-1]
    last = (stamps[-1] - stamps[-101]) / 100 if len(stamps) > 100 else total / len(stamps)
    print(f"{total:.3f} {1e3 * total / len(stamps):.4f} {1e3 * last:.4f}")
elif mode == "history":
    history, url, trials = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    storage = None if url == ":memory:" else "sqlite:///" + url
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0), storage=storage)
    rng = np.random.default_rng(0)
    dists = {f"x{i}": optuna.distributions.FloatDistribution(-5, 5) for i in range(10)}
    fill = []
    for _ in range(history):
        params = {k: float(v) for k, v in zip(dists, rng.uniform(-5, 5, 10))}
        fill.append(optuna.trial.create_trial(
            params=params, distributions=dists,
            value=sum((v - 0.3) ** 2 for v in params.values())))
    study.add_trials(fill)
    stamps, cpu = [], []
    t0 = time.perf_counter()
    def stamp(s, t):
        stamps.append(time.perf_counter() - t0)
        cpu.append(time.process_time())
    study.optimize(cheap, n_trials=trials, callbacks=[stamp])
    per = (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else stamps[-1]
    per_cpu = (cpu[-1] - cpu[0]) / (len(cpu) - 1) if len(cpu) > 1 else 0.0
    print(f"{stamps[-1]:.3f} {1e3 * per:.4f} {1e3 * stamps[0]:.4f} {1e3 * per_cpu:.4f}")
else:
    fn, trials, seeds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    def branin(x):
        a, b, c, r, s, t = 1, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
        return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s
    alpha = [1.0, 1.2, 3.0, 3.2]
    A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
         [17, 8, 0.05, 10, 0.1, 14]]
    P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
    def hartmann6(x):
        return -sum(alpha[i] * math.exp(-sum(A[i][j] * (x[j] - 1e-4 * P[i][j]) ** 2
                                             for j in range(6))) for i in range(4))
    bests = []
    for s in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=s))
        if fn == "branin":
            f = lambda t: branin([t.suggest_float("x0", -5, 10), t.suggest_float("x1", 0, 15)])
        else:
            f = lambda t: hartmann6([t.suggest_float(f"x{i}", 0, 1) for i in range(6)])
        study.optimize(f, n_trials=trials)
        bests.append(study.best_value)
    print(" ".join(f"{b:.6f}" for b in bests))
    print(f"{np.mean(bests):.6f} {np.std(bests, ddof=1) if len(bests) > 1 else 0:.6f}")
PY
}

if [[ " $sections " == *" overhead "* ]]; then
  echo "sampler overhead, $trials trials of a 10-D objective (ms per trial)"
  printf '%-8s %12s %12s %12s %12s %8s %8s\n' store compe_mean optuna_mean compe_last100 \
    optuna_last100 ratio ratio_last
  for store in memory sqlite; do
    url=":memory:"
    [[ $store == sqlite ]] && url="$dir/compe.db"
    read -r _ c_mean c_last < <("$tool" overhead "$trials" "$url")
    purl=":memory:"
    [[ $store == sqlite ]] && purl="$dir/optuna.db"
    read -r _ o_mean o_last < <(peer overhead "$trials" "$purl")
    printf '%-8s %12s %12s %12s %12s %8.1f %8.1f\n' "$store" "$c_mean" "$o_mean" "$c_last" \
      "$o_last" "$(echo "$o_mean / $c_mean" | bc -l)" "$(echo "$o_last / $c_last" | bc -l)"
  done
  echo
fi

if [[ " $sections " == *" history "* ]]; then
  for h in $hist; do
    echo "cost per TPE trial at a history of $h trials (ms per trial, mean of trials 2-20; first trial apart; cpu: the process's CPU time per trial)"
    printf '%-8s %10s %10s %7s %12s %12s %9s %9s %7s\n' store compe optuna ratio compe_first \
      optuna_first compe_cpu optuna_cpu cpu_x
    for store in memory sqlite; do
      url=":memory:"
      [[ $store == sqlite ]] && url="$dir/compe_h.db"
      read -r _ c_ms c_first c_cpu < <("$tool" history "$h" "$url" 20)
      purl=":memory:"
      [[ $store == sqlite ]] && purl="$dir/optuna_h.db"
      read -r _ o_ms o_first o_cpu < <(peer history "$h" "$purl" 20)
      printf '%-8s %10s %10s %7.1f %12s %12s %9s %9s %7.1f\n' "$store" "$c_ms" "$o_ms" \
        "$(echo "$o_ms / $c_ms" | bc -l)" "$c_first" "$o_first" "$c_cpu" "$o_cpu" \
        "$(echo "$o_cpu / $c_cpu" | bc -l)"
    done
    echo
  done
fi

if [[ " $sections " == *" quality "* ]]; then
  for q in $qtrials; do
    echo "best value after $q trials over $seeds seeds (mean std)"
    printf '%-10s %22s %22s %22s\n' function compe compe_true_densities optuna
    for fn in branin hartmann6; do
      c=$("$tool" quality "$fn" "$q" "$seeds" | tail -1)
      k=$("$tool" quality "$fn" "$q" "$seeds" '{"optuna31_kernels": false}' | tail -1)
      o=$(peer quality "$fn" "$q" "$seeds" | tail -1)
      printf '%-10s %22s %22s %22s\n' "$fn" "$c" "$k" "$o"
    done
    echo
  done
fi

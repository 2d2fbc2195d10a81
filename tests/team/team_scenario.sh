#!/usr/bin/env bash
# Team scenario on one PostgreSQL store: A runs; B (another workspace, no runs/<A's run>/) blends
# A's run with its own; C tunes with 4 workers; every artifact of every finished run is in the
# store and pulls back with its sha256 verified. Skipped (exit 77) without COMPE_TEST_POSTGRES.
# Usage: team_scenario.sh COMPE_BINARY REPO_ROOT
set -euo pipefail
compe=$1
root=$2
if [[ -z "${COMPE_TEST_POSTGRES:-}" ]]; then echo "COMPE_TEST_POSTGRES is not set: skipped"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
schema="compe_team_$$_$(date +%s)"
sep='?'; [[ "$COMPE_TEST_POSTGRES" == *\?* ]] && sep='&'
store="${COMPE_TEST_POSTGRES}${sep}schema=${schema}"
cd "$tmp"
"$compe" init a --from "$root/examples/titanic/data" > /dev/null
cp -r a b
rm -rf b/runs b/.compe
cp -r a c
rm -rf c/runs c/.compe
a_run=$("$compe" run --model linear --workspace a --store "$store" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['run_id'])")
b_run=$("$compe" run --model linear --workspace b --store "$store" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['run_id'])")
[[ ! -e "b/runs/$a_run" ]] || { echo "FAIL: b has A's run folder before the blend"; exit 1; }
"$compe" blend "$a_run" "$b_run" --method mean --workspace b --store "$store" --json > blend.json
[[ -f "b/runs/$a_run/oof.csv" ]] || { echo "FAIL: the blend did not fetch A's oof.csv"; exit 1; }
printf 'name = "lin"\n[model]\nbackend = "linear"\n[features]\ndrop = ["name"]\n[tune.space]\nC = {type = "float", low = 0.001, high = 100.0, log = true}\n' > exp.toml
"$compe" tune exp.toml --workspace c --store "$store" --workers 4 --trials 8 > tune.txt
# Every finished run of the store: every artifact has content, and pulls into a fresh workspace
# with its sha256 verified by the store and again here.
"$compe" init d --from "$root/examples/titanic/data" > /dev/null
"$compe" pull --workspace d --store "$store" --json > pull.json
"$compe" runs --workspace d --store "$store" --json --limit 0 > runs.json
python3 - "$tmp" <<'PY'
import hashlib, json, os, sys
tmp = sys.argv[1]
runs = json.load(open(os.path.join(tmp, "runs.json")))["runs"]
finished = [r for r in runs if r["status"] == "finished"]
assert len(finished) >= 11, f"expected 2 runs, a blend and 8 trials finished, got {len(finished)}"
pulled = {r["id"]: r for r in json.load(open(os.path.join(tmp, "pull.json")))["runs"]}
checked = 0
for r in finished:
    rid = r["run_id"]
    arts = r.get("artifacts", [])
    names = {a["name"] for a in arts}
    for need in ("oof", "meta", "config"):
        assert need in names, f"run {rid}: no {need} artifact ({sorted(names)})"
    for a in arts:
        assert a.get("stored"), f"run {rid}: artifact {a['name']} has no content in the store"
        path = os.path.join(tmp, "d", "runs", rid, os.path.basename(a["path"]))
        data = open(path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == a["sha"], f"{path}: sha256 differs"
        checked += 1
    assert r["user"], f"run {rid}: no user recorded"
print(f"team scenario: {len(finished)} finished runs, {checked} artifacts verified")
PY

"""Checks for tests/cli/cases/baseline_more.case; each prints one JSON document.

    python3 baseline_more.py seeds WS A.json B.json AB.json   (runs with seed 1, seed 2, seeds [1, 2])
    python3 baseline_more.py importance SHOW.json             (compe show --json of a run)
"""
import csv
import json
import sys


def oof(ws, path):
    run = json.load(open(path))
    with open(f"{ws}/{run['oof']}", newline="") as f:
        rows = list(csv.DictReader(f))
    col = [c for c in rows[0] if c not in ("id", "fold")][0]
    return run, {r["id"]: float(r[col]) for r in rows}


def seeds(ws, a_path, b_path, ab_path):
    (a, oa), (b, ob), (ab, oab) = oof(ws, a_path), oof(ws, b_path), oof(ws, ab_path)
    meta = json.load(open(f"{ws}/runs/{ab['run_id']}/meta.json"))
    cfg = json.load(open(f"{ws}/runs/{ab['run_id']}/config.json"))
    per_seed = meta["cv"]["seeds"]
    return {"differ": oa != ob,
            "mean": all(abs(oab[k] - (oa[k] + ob[k]) / 2) < 1e-6 for k in oa),
            "seeds": cfg["run"]["seeds"],
            "seed_keys": sorted(per_seed),
            "seed1": all(abs(per_seed["1"]["folds"][f] - a["folds"][f]) < 1e-9 for f in a["folds"]),
            "seed2": all(abs(per_seed["2"]["folds"][f] - b["folds"][f]) < 1e-9 for f in b["folds"])}


def importance(show_path):
    d = json.load(open(show_path))
    imp = d["details"]["importance"]
    return {"features": sorted(r["feature"] for r in imp),
            "first": imp[0]["feature"],
            "gain_sum": round(sum(r["gain"] for r in imp), 6),
            "perm": [r["permutation_mean"] for r in imp],
            "first_drop_large": (imp[0]["permutation_mean"] or 0) > 0.05,
            "std_all": all(r["permutation_std"] is not None for r in imp),
            "artifact": "importance" in [a["name"] for a in d["artifacts"]],
            "seeds": d["details"]["seeds"]}


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    print(json.dumps({"seeds": seeds, "importance": importance}[cmd](*args)))
